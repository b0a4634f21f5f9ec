//! Cells and column headings as Datasette marks them up, the markup its CSS, its JavaScript
//! plugins and people's scrapers rely on: `col-NAME` and `type-TYPE` classes, `&nbsp;` for
//! empty values, links for URLs and foreign keys.

use crate::db::Cell;
pub use crate::render::html::css_class;
use crate::render::html::{escape, Markupsafe};

/// One cell of a rendered table: its classes' parts and its HTML.
pub struct CellView<'a> {
    /// The column as a CSS class (`col-…`): one per column, borrowed by each of its cells.
    pub css: std::borrow::Cow<'a, str>,
    /// Datasette's type name (`type-…`): pk, none, int, float, str, bytes.
    pub kind: &'static str,
    pub html: CellHtml<'a>,
}

/// A cell's HTML. Most cells are plain values: those are written straight into the page,
/// escaped on the way, rather than built as a string of their own first.
pub enum CellHtml<'a> {
    /// HTML already made (links, a plugin's rendering), escaped.
    Built(String),
    /// A value with nothing to link, cut at `truncate` characters (0: never).
    Plain { cell: &'a Cell, truncate: usize },
}

impl From<String> for CellHtml<'_> {
    fn from(html: String) -> Self {
        CellHtml::Built(html)
    }
}

impl std::fmt::Display for CellHtml<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CellHtml::Built(html) => f.write_str(html),
            CellHtml::Plain { cell, truncate } => write_plain(f, cell, *truncate),
        }
    }
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
    CellHtml::Plain { cell, truncate }.to_string()
}

fn write_plain(f: &mut impl std::fmt::Write, cell: &Cell, truncate: usize) -> std::fmt::Result {
    use askama::filters::Escaper;
    let escaped = |f: &mut dyn std::fmt::Write, s: &str| Markupsafe.write_escaped_str(f, s);
    match cell {
        Cell::Null => f.write_str("&nbsp;"),
        Cell::Text(s) if s.is_empty() => f.write_str("&nbsp;"),
        Cell::Blob(b) => write!(
            f,
            "<span class=\"blob\">&lt;Binary:&nbsp;{}&nbsp;byte{}&gt;</span>",
            b.len(),
            if b.len() == 1 { "" } else { "s" }
        ),
        Cell::Text(s) if is_url(s.trim()) => {
            let url = s.trim();
            f.write_str("<a href=\"")?;
            escaped(f, url)?;
            f.write_str("\">")?;
            escaped(f, &truncate_url(url, truncate))?;
            f.write_str("</a>")
        }
        // Numbers need no escaping.
        Cell::Int(i) => write!(f, "{i}"),
        Cell::Real(_) => f.write_str(&cell.to_plain_string()),
        Cell::Text(s) if truncate > 0 && s.chars().nth(truncate).is_some() => {
            escaped(f, &truncated(s, truncate))
        }
        Cell::Text(s) => escaped(f, s),
    }
}

/// A value with nothing to link in a column with a unit in metadata: numbers with the SI
/// prefix that suits them (`5000` metres as `5 km`), as Datasette shows them.
pub fn value_html<'a>(cell: &'a Cell, unit: Option<&str>, truncate: usize) -> CellHtml<'a> {
    let number = match cell {
        Cell::Int(i) => Some(*i as f64),
        Cell::Real(f) => Some(*f),
        _ => None,
    };
    match number
        .zip(unit)
        .and_then(|(v, unit)| crate::db::units::display(v, unit))
    {
        Some(shown) => CellHtml::Built(escape(&shown)),
        None => CellHtml::Plain { cell, truncate },
    }
}

/// A foreign key value linked to the row it points to: with its label beside it when the
/// label differs from the value (an empty label shows as `-`). A label is text, so a number
/// differs from its label even when they read alike (Datasette shows `1 <em>1</em>` for a
/// key to a table without a label column).
pub fn foreign_key_html(href: &str, value: &Cell, label: &str) -> String {
    let text = value.to_plain_string();
    if matches!(value, Cell::Text(_)) && label == text {
        return format!("<a href=\"{}\">{}</a>", escape(href), escape(&text));
    }
    let label = if label.is_empty() { "-" } else { label };
    format!(
        "<a href=\"{}\">{}</a>&nbsp;<em>{}</em>",
        escape(href),
        escape(label),
        escape(&text)
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
        let shown = |cell: &Cell, unit| value_html(cell, unit, 0).to_string();
        assert_eq!(shown(&Cell::Int(5000), Some("m")), "5\u{a0}km");
        assert_eq!(shown(&Cell::Int(5000), None), "5000");
        assert_eq!(shown(&Cell::Text("far".into()), Some("m")), "far");
        let text = |s: &str| Cell::Text(s.into());
        assert_eq!(
            foreign_key_html("/d/t/a", &text("a"), "a"),
            "<a href=\"/d/t/a\">a</a>"
        );
        assert_eq!(
            foreign_key_html("/d/t/1", &Cell::Int(1), "1"),
            "<a href=\"/d/t/1\">1</a>&nbsp;<em>1</em>"
        );
        assert_eq!(
            foreign_key_html("/d/t/3", &text("3"), ""),
            "<a href=\"/d/t/3\">-</a>&nbsp;<em>3</em>"
        );
    }
}
