//! `datasette-render-markdown`: the columns named in its config are shown on table, row and
//! query pages as HTML rendered from Markdown, sanitised (ammonia's allow-list: no scripts,
//! no event handlers, no `javascript:` links).
//!
//! ```json
//! {"plugins": {"datasette-render-markdown": {"columns": ["body", "notes"]}}}
//! ```
//!
//! The block may also sit in a database's or a table's `plugins` (the most specific one
//! counts): `"tables": {"posts": {"plugins": {"datasette-render-markdown": {"columns": ["body"]}}}}`.
//!
//! A cell longer than [`MAX_MARKDOWN_BYTES`] (64 KiB), nested deeper than [`MAX_NESTING`]
//! (quotes, lists, indentation), holding more than [`MAX_TAGS`] HTML tags and entities (`<`,
//! `&`), or whose tables could hold more than [`MAX_TABLE_CELLS`] cells is not rendered: it
//! shows as plain text. The parser's and the sanitiser's time, and the HTML's size, would grow
//! faster than the cell's length, and any visitor who may run SQL can name a column `body`.

use datasette_plugin_api::{datasette_plugin, Host, Plugin, RenderCells, RenderedCell};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// The columns whose text is Markdown.
    #[serde(default)]
    columns: Vec<String>,
}

pub struct RenderMarkdown {
    columns: Vec<String>,
}

/// The longest Markdown rendered.
pub const MAX_MARKDOWN_BYTES: usize = 64 << 10;

/// The deepest a line may nest block containers (`>`, list markers, two spaces of indentation
/// each), the most HTML tags and entities a cell may hold, and the most cells its tables could
/// have (a table's rows are padded to its widest: the widest line's `|`s times the lines), to
/// be rendered.
pub const MAX_NESTING: usize = 16;
pub const MAX_TAGS: usize = 1024;
pub const MAX_TABLE_CELLS: usize = 4096;

/// Whether `text` renders in time, and to a size, that stay near linear in its length.
pub fn renderable(text: &str) -> bool {
    let widest = text
        .lines()
        .map(|l| l.matches('|').count())
        .max()
        .unwrap_or(0);
    text.len() <= MAX_MARKDOWN_BYTES
        && text.matches(['<', '&']).count() <= MAX_TAGS
        && widest.saturating_mul(text.lines().count()) <= MAX_TABLE_CELLS
        && text.lines().all(|line| nesting(line) <= MAX_NESTING)
}

/// How deep a line's block containers nest: quote markers, list markers and indentation.
fn nesting(line: &str) -> usize {
    let mut depth = 0;
    let mut rest = line;
    loop {
        let trimmed = rest.trim_start_matches([' ', '\t']);
        depth += (rest.len() - trimmed.len()) / 2;
        rest = trimmed;
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let marker = match rest.as_bytes().first() {
            Some(b'>') => 1,
            Some(b'-' | b'*' | b'+') => 1,
            Some(b'0'..=b'9') if matches!(rest.as_bytes().get(digits), Some(b'.' | b')')) => {
                digits + 1
            }
            _ => return depth,
        };
        depth += 1;
        rest = &rest[marker..];
        if depth > MAX_NESTING {
            return depth;
        }
    }
}

/// Markdown to sanitised HTML.
pub fn render(markdown: &str) -> String {
    let mut html = String::new();
    let options =
        pulldown_cmark::Options::ENABLE_TABLES | pulldown_cmark::Options::ENABLE_STRIKETHROUGH;
    pulldown_cmark::html::push_html(
        &mut html,
        pulldown_cmark::Parser::new_ext(markdown, options),
    );
    format!("<div class=\"markdown\">{}</div>", ammonia::clean(&html))
}

#[datasette_plugin]
impl Plugin for RenderMarkdown {
    fn startup(config: Value, _host: &Host) -> Result<Self, String> {
        let config: Config = serde_json::from_value(config)
            .map_err(|e| format!("{e}; expected e.g. {{\"columns\": [\"body\"]}}"))?;
        Ok(RenderMarkdown {
            columns: config.columns,
        })
    }

    fn render_cell(&self, cells: &RenderCells, _host: &Host) -> Vec<RenderedCell> {
        // The page's block (its table's, its database's, else the instance's); a host that
        // sends none has only the instance's, given at startup.
        let columns = match &cells.page.config {
            Value::Null => self.columns.clone(),
            block => Config::deserialize(block)
                .map(|c| c.columns)
                .unwrap_or_default(),
        };
        let wanted: Vec<usize> = cells
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| columns.contains(c))
            .map(|(i, _)| i)
            .collect();
        let mut out = Vec::new();
        for (row, values) in cells.rows.iter().enumerate() {
            for &column in &wanted {
                let text = match values.get(column) {
                    Some(Value::String(text)) if renderable(text) => text,
                    _ => continue,
                };
                out.push(RenderedCell {
                    row,
                    column,
                    html: render(text),
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_or_long_markdown_is_not_rendered() {
        assert!(renderable(
            "# Title\n\n> a quote\n\n- a\n  - b\n    - c\n\n1. one\n2. two"
        ));
        assert!(renderable(&"*a* ".repeat(10_000)));
        assert!(!renderable(&"> ".repeat(40)));
        assert!(!renderable(&"1. ".repeat(40)));
        assert!(!renderable(&format!("{}x", " ".repeat(80))));
        assert!(!renderable(&"<blockquote>".repeat(2000)));
        assert!(!renderable(&"x".repeat(MAX_MARKDOWN_BYTES + 1)));
        assert!(!renderable(&"&".repeat(2000)));
        assert!(renderable("| a | b |\n|---|---|\n| 1 | 2 |\n"));
        let wide = format!(
            "{}\n{}\n{}",
            ["a"; 362].join("|"),
            ["-"; 362].join("|"),
            "a\n".repeat(724)
        );
        assert!(!renderable(&wide));
    }

    #[test]
    fn renders_and_sanitises() {
        assert_eq!(
            render("**bold** and [a link](https://example.com)"),
            "<div class=\"markdown\"><p><strong>bold</strong> and <a href=\"https://example.com\" rel=\"noopener noreferrer\">a link</a></p>\n</div>"
        );
        let link = render("[x](javascript:alert(1))");
        assert!(!link.contains("href=\"javascript"), "{link}");
        let html = render("<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>");
        assert!(
            !html.contains("<script") && !html.contains("onerror"),
            "{html}"
        );
    }
}
