//! CSV in the dialect of Python's csv module, as Datasette writes it.

use actix_web::HttpResponse;

use crate::db::Cell;

fn push_field(out: &mut String, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

pub fn to_csv(columns: &[String], rows: &[Vec<Cell>]) -> String {
    let mut out = String::new();
    let mut line = |fields: &mut dyn Iterator<Item = String>| {
        for (i, f) in fields.enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_field(&mut out, &f);
        }
        out.push_str("\r\n");
    };
    line(&mut columns.iter().cloned());
    for row in rows {
        line(&mut row.iter().map(Cell::to_plain_string));
    }
    out
}

pub fn response(columns: &[String], rows: &[Vec<Cell>]) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(to_csv(columns, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_python() {
        let csv = to_csv(
            &["a".into(), "b".into()],
            &[
                vec![Cell::Int(1), Cell::Text("x,y".into())],
                vec![Cell::Null, Cell::Text("q\"".into())],
            ],
        );
        assert_eq!(csv, "a,b\r\n1,\"x,y\"\r\n,\"q\"\"\"\r\n");
    }
}
