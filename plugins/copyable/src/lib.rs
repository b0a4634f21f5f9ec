//! `datasette-copyable`: a `.copyable` output format, as Datasette's plugin of the same name.
//! Every table, view, row and query is at the same URL with `.copyable` as a page of the site
//! holding its rows as text to copy and paste: TSV by default (for spreadsheets), or any of
//! Python tabulate's table formats with `?_table_format=NAME`; `?_raw=1` answers the text
//! alone.

pub mod python;
pub mod tabulate;

use base64::Engine;
use datasette_plugin_api::html::escape;
use datasette_plugin_api::urlencoded::tilde_encode;
use datasette_plugin_api::{datasette_plugin, Host, OutputData, OutputRenderer, Plugin, Response};
use python::Cell;
use serde_json::Value;

pub struct Copyable;

/// The format when the request names none, or one that is not a format.
pub const DEFAULT_FORMAT: &str = "tsv";

/// A cell of the host's rows as Python would have held it: a foreign key with its label
/// (`{"value": …, "label": …}`) becomes its label, a BLOB (`{"$base64": true, "encoded": …}`)
/// its bytes.
pub fn cell(value: &Value) -> Cell {
    match value {
        Value::Null => Cell::None,
        Value::Bool(b) => Cell::Str(if *b { "True" } else { "False" }.into()),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Cell::Int(i),
            None => Cell::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => Cell::Str(s.clone()),
        Value::Object(o) if o.get("$base64") == Some(&Value::Bool(true)) => {
            let encoded = o.get("encoded").and_then(Value::as_str).unwrap_or("");
            match base64::engine::general_purpose::STANDARD.decode(encoded) {
                Ok(bytes) => Cell::Bytes(bytes),
                Err(_) => Cell::Str(value.to_string()),
            }
        }
        Value::Object(o) if o.contains_key("label") || o.contains_key("value") => {
            cell(o.get("label").unwrap_or(&o["value"]))
        }
        other => Cell::Str(other.to_string()),
    }
}

/// What Python's `csv.writer(f, delimiter="\t")` writes for these rows: `\r\n` after each,
/// fields holding a tab, a quote or a line break quoted, a lone empty field as `""`.
pub fn tsv(columns: &[String], rows: &[Vec<Cell>]) -> String {
    fn field(out: &mut String, text: &str) {
        if text.contains(['\t', '"', '\r', '\n']) {
            out.push('"');
            out.push_str(&text.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(text);
        }
    }
    fn record(out: &mut String, fields: &[String]) {
        if fields.len() == 1 && fields[0].is_empty() {
            out.push_str("\"\"");
        } else {
            for (i, f) in fields.iter().enumerate() {
                if i > 0 {
                    out.push('\t');
                }
                field(out, f);
            }
        }
        out.push_str("\r\n");
    }
    let mut out = String::new();
    record(&mut out, columns);
    for row in rows {
        let fields: Vec<String> = row
            .iter()
            .map(|c| match c {
                Cell::None => String::new(),
                other => other.to_str(),
            })
            .collect();
        record(&mut out, &fields);
    }
    out
}

/// The text of the rows in a format (the default for a name that is none).
pub fn copyable(columns: &[String], rows: &[Vec<Value>], format: &str) -> String {
    let rows: Vec<Vec<Cell>> = rows.iter().map(|r| r.iter().map(cell).collect()).collect();
    match format {
        "tsv" => tsv(columns, &rows),
        _ => tabulate::tabulate(columns, &rows, format),
    }
}

/// The format a request asks for: `_table_format` if it names one, else TSV.
pub fn chosen_format(query: &str) -> &'static str {
    let asked = datasette_plugin_api::urlencoded::parse(query)
        .into_iter()
        .find(|(k, _)| k == "_table_format")
        .map(|(_, v)| v);
    tabulate::FORMATS
        .iter()
        .copied()
        .find(|f| asked.as_deref() == Some(*f))
        .unwrap_or(DEFAULT_FORMAT)
}

/// Python's `urllib.parse.quote_plus`.
fn quote_plus(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Datasette's `path_with_replaced_args`: this path with its query's non-empty arguments, but
/// `key`'s replaced by `value`, at the end.
pub fn with_replaced_arg(path: &str, query: &str, key: &str, value: &str) -> String {
    let mut pairs: Vec<(String, String)> = datasette_plugin_api::urlencoded::parse(query)
        .into_iter()
        .filter(|(k, v)| k != key && !v.is_empty())
        .collect();
    pairs.push((key.into(), value.into()));
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", quote_plus(k), quote_plus(v)))
        .collect();
    format!("{path}?{}", query.join("&"))
}

const STYLE: &str = r#"<style type="text/css">
textarea.copyable {
    width: 100%;
    height: 30em;
}
button.copyable-copy-button {
    color: #fff;
    background-color: #007bff;
    border-color: #007bff;
    display: inline-block;
    margin-bottom: 3em;
    font-weight: 400;
    cursor: pointer;
    text-align: center;
    border-width: 1px;
    border-style: solid;
    padding: .5em 0.8em;
    font-size: 0.9rem;
    line-height: 1;
    border-radius: .25rem;
    width: 10em;
}
.raw-link a {
    display: inline-block;
    margin-left: 1em;
}
</style>"#;

const SCRIPT: &str = r#"<script>
(function () {
    var ta = document.querySelector("textarea.copyable");
    var button = document.querySelector("button.copyable-copy-button");
    button.onclick = function () {
        ta.select();
        var done = function () {
            button.innerHTML = "Copied!";
            setTimeout(function () {
                button.innerHTML = "Copy to clipboard";
            }, 1500);
        };
        if (navigator.clipboard && window.isSecureContext) {
            navigator.clipboard.writeText(ta.value).then(done, function () {
                document.execCommand("copy");
                done();
            });
        } else {
            document.execCommand("copy");
            done();
        }
    };
})();
</script>"#;

/// The page: the text in a textarea with a button that copies it, and links to every format
/// and to the raw text.
pub fn page_html(data: &OutputData, format: &str, text: &str) -> String {
    let request = &data.page.request;
    let here = request.url(&request.path);
    let mut crumbs = vec![];
    if let Some(db) = &data.page.database {
        let db_path = format!("/{}", tilde_encode(db));
        crumbs.push(format!(
            "<a href=\"{}\">{}</a>",
            escape(&request.url(&db_path)),
            escape(db)
        ));
        if let Some(table) = &data.page.table {
            let table_path = format!("{db_path}/{}", tilde_encode(table));
            crumbs.push(format!(
                "<a href=\"{}\">{}</a>",
                escape(&request.url(&table_path)),
                escape(table)
            ));
        }
    }
    let crumbs = if crumbs.is_empty() {
        String::new()
    } else {
        format!("<p class=\"crumbs\">{}</p>\n", crumbs.join(" / "))
    };
    let links: Vec<String> = tabulate::FORMATS
        .iter()
        .map(|f| {
            let href = with_replaced_arg(&here, &request.query, "_table_format", f);
            format!("<a href=\"{}\">{f}</a>", escape(&href))
        })
        .collect();
    let raw = with_replaced_arg(&here, &request.query, "_raw", "1");
    format!(
        "{STYLE}\n{crumbs}<h1>Copy as {format}</h1>\n\n<p>Formats: {}</p>\n\n<div>\n<textarea class=\"copyable\">{}</textarea>\n<p class=\"raw-link\"><button type=\"button\" class=\"copyable-copy-button\">Copy to clipboard</button><a href=\"{}\">Raw data</a></p>\n</div>\n\n{SCRIPT}\n",
        links.join(" &middot;\n    "),
        escape(text),
        escape(&raw),
    )
}

/// The answer for a `.copyable` request.
pub fn render(data: &OutputData) -> Response {
    let request = &data.page.request;
    let format = chosen_format(&request.query);
    let text = copyable(&data.columns, &data.rows, format);
    let raw = request.query_param("_raw").is_some_and(|v| !v.is_empty());
    if raw {
        return Response::text(200, text);
    }
    Response::page(format!("Copy as {format}"), page_html(data, format, &text))
        // The original's page says `<meta name="robots" content="noindex">` in its head.
        .with_header("X-Robots-Tag", "noindex")
}

#[datasette_plugin]
impl Plugin for Copyable {
    fn startup(_config: Value, _host: &Host) -> Result<Self, String> {
        Ok(Copyable)
    }

    fn register_output_renderer(&self) -> Vec<OutputRenderer> {
        vec![OutputRenderer {
            extension: "copyable".into(),
            // Linked from every table, row and query page.
            link_columns: Some(vec![]),
        }]
    }

    fn render_output(&self, data: &OutputData, _host: &Host) -> Response {
        render(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datasette_plugin_api::{PageContext, Request};
    use serde_json::json;

    fn dogs(query: &str) -> OutputData {
        OutputData {
            extension: "copyable".into(),
            page: PageContext {
                view: "table".into(),
                database: Some("test".into()),
                table: Some("dogs".into()),
                request: Request {
                    path: "/test/dogs.copyable".into(),
                    query: query.into(),
                    base_url: "/".into(),
                    ..Default::default()
                },
                ..Default::default()
            },
            columns: ["id", "name", "age", "weight", "species"]
                .map(String::from)
                .to_vec(),
            rows: vec![
                vec![json!(1), json!("Cleo"), json!(5), json!(51.2), json!(1)],
                vec![json!(2), json!("Pancakes"), json!(4), json!(35.5), json!(1)],
            ],
            sql: "select * from dogs".into(),
        }
    }

    /// The body as text (a `String` or bytes, as the API has it).
    fn body(r: &Response) -> String {
        String::from_utf8_lossy(AsRef::<[u8]>::as_ref(&r.body)).into_owned()
    }

    fn header<'a>(r: &'a Response, name: &str) -> Option<&'a str> {
        r.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The original's tests, on its `dogs` table.
    #[test]
    fn tsv_page_and_raw_as_the_original_tests_them() {
        let page = render(&dogs(""));
        assert_eq!(page.page_title.as_deref(), Some("Copy as tsv"));
        assert!(
            body(&page).contains("<h1>Copy as tsv</h1>"),
            "{}",
            body(&page)
        );
        assert!(body(&page).contains(
            "<textarea class=\"copyable\">id\tname\tage\tweight\tspecies\r\n1\tCleo\t5\t51.2\t1\r\n2\tPancakes\t4\t35.5\t1\r\n</textarea>"
        ));
        let raw = render(&dogs("_raw=1"));
        assert_eq!(raw.page_title, None);
        assert_eq!(
            header(&raw, "content-type"),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(
            body(&raw),
            "id\tname\tage\tweight\tspecies\r\n1\tCleo\t5\t51.2\t1\r\n2\tPancakes\t4\t35.5\t1\r\n"
        );
    }

    #[test]
    fn github_page_and_raw_as_the_original_tests_them() {
        let github = "|   id | name     |   age |   weight |   species |\n\
                      |------|----------|-------|----------|-----------|\n\
                      |    1 | Cleo     |     5 |     51.2 |         1 |\n\
                      |    2 | Pancakes |     4 |     35.5 |         1 |";
        let page = render(&dogs("_table_format=github"));
        assert!(body(&page).contains("<h1>Copy as github</h1>"));
        assert!(body(&page).contains(&format!("<textarea class=\"copyable\">{github}</textarea>")));
        let raw = render(&dogs("_table_format=github&_raw=1"));
        assert_eq!(body(&raw), github);
    }

    #[test]
    fn labels_are_copied_as_their_labels() {
        let mut data = dogs("_raw=1");
        data.rows[0][4] = json!({"value": 1, "label": "Dog"});
        data.rows[1][4] = json!({"value": 1, "label": "Dog"});
        assert_eq!(
            body(&render(&data)),
            "id\tname\tage\tweight\tspecies\r\n1\tCleo\t5\t51.2\tDog\r\n2\tPancakes\t4\t35.5\tDog\r\n"
        );
    }

    #[test]
    fn unknown_formats_are_tsv_and_the_page_links_every_format() {
        assert_eq!(chosen_format("_table_format=nope"), "tsv");
        assert_eq!(
            chosen_format("_table_format=psql&_table_format=html"),
            "psql"
        );
        let page = render(&dogs("_size=2&_table_format=psql&_raw="));
        assert!(body(&page).contains("<h1>Copy as psql</h1>"));
        for f in tabulate::FORMATS {
            let link =
                format!("<a href=\"/test/dogs.copyable?_size=2&amp;_table_format={f}\">{f}</a>");
            assert!(body(&page).contains(&link), "{link}: {}", body(&page));
        }
        assert!(body(&page).contains(
            "<a href=\"/test/dogs.copyable?_size=2&amp;_table_format=psql&amp;_raw=1\">Raw data</a>"
        ));
        assert!(body(&page).contains("Copy to clipboard"));
        assert!(body(&page).contains(
            "<p class=\"crumbs\"><a href=\"/test\">test</a> / <a href=\"/test/dogs\">dogs</a></p>"
        ));
        assert_eq!(header(&page, "x-robots-tag"), Some("noindex"));
    }

    #[test]
    fn the_page_escapes_the_text_and_links() {
        let mut data = dogs("sql=select+'<b>'+as+x&_table_format=html");
        data.page.table = None;
        data.page.request.path = "/test.copyable".into();
        data.page.request.base_url = "/data/".into();
        data.columns = vec!["x".into()];
        data.rows = vec![vec![json!("<b>&\"'")]];
        let page = body(&render(&data));
        assert!(page.contains(
            "<textarea class=\"copyable\">&lt;table&gt;\n&lt;thead&gt;\n&lt;tr&gt;&lt;th&gt;x     &lt;/th&gt;&lt;/tr&gt;\n&lt;/thead&gt;\n&lt;tbody&gt;\n&lt;tr&gt;&lt;td&gt;&amp;lt;b&amp;gt;&amp;amp;&amp;quot;&amp;#x27;&lt;/td&gt;&lt;/tr&gt;\n&lt;/tbody&gt;\n&lt;/table&gt;</textarea>"
        ), "{page}");
        assert!(!page.contains("<b>&"), "{page}");
        assert!(page.contains(
            "<a href=\"/data/test.copyable?sql=select+%27%3Cb%3E%27+as+x&amp;_table_format=github\">github</a>"
        ), "{page}");
        assert!(page.contains("<p class=\"crumbs\"><a href=\"/data/test\">test</a></p>"));
    }

    #[test]
    fn tsv_quotes_as_python_csv_does() {
        let columns = vec!["a".to_string()];
        let rows = [
            json!(""),
            json!(null),
            json!("x\"y"),
            json!("t\tu"),
            json!("l\nm"),
            json!(1e16),
            json!(5.0),
        ]
        .map(|v| vec![cell(&v)])
        .to_vec();
        assert_eq!(
            tsv(&columns, &rows),
            "a\r\n\"\"\r\n\"\"\r\n\"x\"\"y\"\r\n\"t\tu\"\r\n\"l\nm\"\r\n1e+16\r\n5.0\r\n"
        );
        let two = vec!["a".to_string(), "b".to_string()];
        assert_eq!(
            tsv(&two, &[vec![Cell::None, Cell::Str(String::new())]]),
            "a\tb\r\n\t\r\n"
        );
    }
}
