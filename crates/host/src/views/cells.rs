//! Cells and column headings as Datasette marks them up, the markup its CSS, its JavaScript
//! plugins and people's scrapers rely on: `col-NAME` and `type-TYPE` classes, `&nbsp;` for
//! empty values, links for URLs and foreign keys.

use crate::db::Cell;
pub use crate::render::html::css_class;
use crate::render::html::escape;

/// One cell of a rendered table: its classes' parts and its HTML, already escaped.
pub struct CellView<'a> {
    /// The column as a CSS class (`col-…`): one per column, borrowed by each of its cells.
    pub css: std::borrow::Cow<'a, str>,
    /// Datasette's type name (`type-…`): pk, none, int, float, str, bytes.
    pub kind: &'static str,
    pub html: String,
}

/// The Python type name Datasette gives a value's cell.
pub fn type_name(cell: &Cell) -> &'static str {
    match cell {
        Cell::Null => "none",
        Cell::Int(_) => "int",
        Cell::Real(_) => "float",
        Cell::Text(_) => "str",
        Cell::Blob(_) => "bytes",
    }
}

/// A value with nothing to link: empty values as `&nbsp;`, URLs as links, long text cut at
/// `truncate` characters (0: never) with an ellipsis.
pub fn plain_html(cell: &Cell, truncate: usize) -> String {
    match cell {
        Cell::Null => "&nbsp;".into(),
        Cell::Text(s) if s.is_empty() => "&nbsp;".into(),
        Cell::Blob(b) => format!(
            "<span class=\"blob\">&lt;Binary:&nbsp;{}&nbsp;byte{}&gt;</span>",
            b.len(),
            if b.len() == 1 { "" } else { "s" }
        ),
        Cell::Text(s) if is_url(s.trim()) => {
            let url = s.trim();
            format!(
                "<a href=\"{}\">{}</a>",
                escape(url),
                escape(&truncate_url(url, truncate))
            )
        }
        // Numbers need no escaping.
        Cell::Int(i) => i.to_string(),
        Cell::Real(_) => cell.to_plain_string(),
        Cell::Text(s) if truncate > 0 && s.chars().nth(truncate).is_some() => {
            escape(&truncated(s, truncate))
        }
        Cell::Text(s) => escape(s),
    }
}

/// A value with nothing to link in a column with a unit in metadata: numbers with the SI
/// prefix that suits them (`5000` metres as `5 km`), as Datasette shows them.
pub fn value_html(cell: &Cell, unit: Option<&str>, truncate: usize) -> String {
    let number = match cell {
        Cell::Int(i) => Some(*i as f64),
        Cell::Real(f) => Some(*f),
        _ => None,
    };
    number
        .zip(unit)
        .and_then(|(v, unit)| crate::db::units::display(v, unit))
        .map(|shown| escape(&shown))
        .unwrap_or_else(|| plain_html(cell, truncate))
}

/// A foreign key value linked to the row it points to: with its label beside it when the
/// label differs from the value (an empty label shows as `-`).
pub fn foreign_key_html(href: &str, value: &str, label: &str) -> String {
    if label == value {
        return format!("<a href=\"{}\">{}</a>", escape(href), escape(value));
    }
    let label = if label.is_empty() { "-" } else { label };
    format!(
        "<a href=\"{}\">{}</a>&nbsp;<em>{}</em>",
        escape(href),
        escape(label),
        escape(value)
    )
}

fn truncated(s: &str, limit: usize) -> String {
    match limit > 0 && s.chars().count() > limit {
        true => s.chars().take(limit).chain(['\u{2026}']).collect(),
        false => s.to_string(),
    }
}

/// Datasette's rule: `http://` or `https://` and no whitespace anywhere.
fn is_url(s: &str) -> bool {
    (s.starts_with("http://") || s.starts_with("https://")) && !s.chars().any(char::is_whitespace)
}

/// A long URL cut to `limit` characters, keeping a short file extension visible.
fn truncate_url(url: &str, limit: usize) -> String {
    if limit == 0 || url.chars().count() <= limit {
        return url.to_string();
    }
    if let Some((rest, ext)) = url.rsplit_once('.') {
        let ext_len = ext.chars().count();
        if (1..=4).contains(&ext_len) && !ext.contains('/') {
            let keep = limit.saturating_sub(1 + ext_len);
            return format!(
                "{}\u{2026}.{ext}",
                rest.chars().take(keep).collect::<String>()
            );
        }
    }
    url.chars().take(limit - 1).chain(['\u{2026}']).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_as_datasette_shows_them() {
        assert_eq!(plain_html(&Cell::Null, 0), "&nbsp;");
        assert_eq!(plain_html(&Cell::Text(String::new()), 0), "&nbsp;");
        assert_eq!(plain_html(&Cell::Text("<b>".into()), 0), "&lt;b&gt;");
        assert_eq!(plain_html(&Cell::Text("abcdef".into()), 3), "abc\u{2026}");
        assert_eq!(
            plain_html(&Cell::Text("https://example.com/a\"b".into()), 0),
            "<a href=\"https://example.com/a&#34;b\">https://example.com/a&#34;b</a>"
        );
        assert_eq!(
            plain_html(&Cell::Text("javascript:alert(1)".into()), 0),
            "javascript:alert(1)"
        );
        assert_eq!(
            plain_html(&Cell::Text("https://e.com/a b".into()), 0),
            "https://e.com/a b"
        );
        assert_eq!(
            truncate_url("https://example.com/long/path/file.png", 20),
            "https://example.\u{2026}.png"
        );
        assert_eq!(value_html(&Cell::Int(5000), Some("m"), 0), "5\u{a0}km");
        assert_eq!(value_html(&Cell::Int(5000), None, 0), "5000");
        assert_eq!(value_html(&Cell::Text("far".into()), Some("m"), 0), "far");
        assert_eq!(
            foreign_key_html("/d/t/1", "1", "1"),
            "<a href=\"/d/t/1\">1</a>"
        );
        assert_eq!(
            foreign_key_html("/d/t/3", "3", ""),
            "<a href=\"/d/t/3\">-</a>&nbsp;<em>3</em>"
        );
    }
}
