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

/// One CSV line of `fields`, ended by `\r\n`.
pub fn push_line<S: AsRef<str>>(out: &mut String, fields: impl IntoIterator<Item = S>) {
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_field(out, f.as_ref());
    }
    out.push_str("\r\n");
}

/// The rows as CSV, refused once it grows past the answer limit.
pub fn to_csv(
    columns: &[String],
    rows: &[Vec<Cell>],
    header: bool,
) -> Result<String, super::RenderError> {
    let mut out = String::new();
    if header {
        push_line(&mut out, columns);
    }
    for row in rows {
        push_line(&mut out, row.iter().map(Cell::to_plain_string));
        if out.len() > crate::limits::answer_limit() {
            return Err(super::budget::too_large());
        }
    }
    Ok(out)
}

/// Datasette's CSV options: `_dl` (a file of this name to save) and `_header=off`.
pub struct Options<'a> {
    pub download: Option<&'a str>,
    pub header: bool,
}

/// A page's rows as CSV.
pub fn response(
    columns: &[String],
    rows: &[Vec<Cell>],
    options: Options<'_>,
) -> Result<HttpResponse, super::RenderError> {
    let mut r = HttpResponse::Ok();
    headers(&mut r, options.download);
    Ok(r.body(to_csv(columns, rows, options.header)?))
}

/// Datasette's: plain text to read in the browser, or a `.csv` attachment to save.
pub fn headers(r: &mut actix_web::HttpResponseBuilder, download: Option<&str>) {
    match download {
        None => r.content_type("text/plain; charset=utf-8"),
        Some(name) => r
            .content_type("text/csv; charset=utf-8")
            .insert_header(("Content-Disposition", disposition(name))),
    };
}

/// `attachment` with the file `NAME.csv`, as Datasette names it; a name with anything but
/// plain characters gets a plain fallback and itself percent-encoded (RFC 6266), so no quote
/// or line break in a table's name reaches the header.
fn disposition(name: &str) -> String {
    let plain_name = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ' ');
    if name.chars().all(plain_name) {
        return format!("attachment; filename=\"{name}.csv\"");
    }
    let plain: String = name
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' | '.' | ' ' => c,
            _ => '_',
        })
        .collect();
    let encoded = percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC);
    format!("attachment; filename=\"{plain}.csv\"; filename*=UTF-8''{encoded}.csv")
}

/// Datasette's CSV with `_labels`: each labelled column followed by `COLUMN_label`.
pub fn with_label_columns(
    columns: &[String],
    rows: &[Vec<Cell>],
    forms: &super::json::CellForms,
) -> (Vec<String>, Vec<Vec<Cell>>) {
    let labels = &forms.by_column;
    let mut out_columns = Vec::with_capacity(columns.len() + labels.len());
    for (i, c) in columns.iter().enumerate() {
        out_columns.push(c.clone());
        if labels.contains_key(&i) {
            out_columns.push(format!("{c}_label"));
        }
    }
    let out = rows
        .iter()
        .map(|row| {
            let mut cells = Vec::with_capacity(out_columns.len());
            for (i, value) in row.iter().enumerate() {
                cells.push(value.clone());
                if labels.contains_key(&i) {
                    let label = forms.label(i, value);
                    cells.push(label.map_or(Cell::Null, |l| Cell::Text(l.to_string())));
                }
            }
            cells
        })
        .collect();
    (out_columns, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_past_the_answer_limit_is_refused() {
        let row = vec![Cell::Text("x".repeat(1 << 20))];
        let rows = vec![row; (crate::limits::answer_limit() >> 20) + 1];
        let e = to_csv(&["t".into()], &rows, true).unwrap_err();
        assert!(e.to_string().contains("_stream=on"), "{e}");
    }

    #[test]
    fn quotes_like_python() {
        let csv = to_csv(
            &["a".into(), "b".into()],
            &[
                vec![Cell::Int(1), Cell::Text("x,y".into())],
                vec![Cell::Null, Cell::Text("q\"".into())],
            ],
            true,
        )
        .unwrap();
        assert_eq!(csv, "a,b\r\n1,\"x,y\"\r\n,\"q\"\"\"\r\n");
    }

    #[test]
    fn download_names_cannot_break_the_header() {
        assert_eq!(
            disposition("my_table 2"),
            "attachment; filename=\"my_table 2.csv\"",
            "plain names as Datasette writes them"
        );
        let d = disposition("a\"b\r\nc/ü");
        assert!(
            d.starts_with("attachment; filename=\"a_b__c__.csv\""),
            "{d}"
        );
        assert!(!d.contains('\r') && !d.contains('\n'), "{d}");
    }
}
