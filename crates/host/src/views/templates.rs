//! What every page's HTML shares: the chrome around it, its footer, headings and listings,
//! plugins' renderings of its cells, and rendering a template. Each page's own template and
//! its adapter from the page's data live with the page (`views::index`, `views::table::html`,
//! …); JSON and CSV take the same data as it is. Nothing here imports a page's module.

use askama::Template;

use std::collections::HashMap;

use datasette_plugin_api::RenderCells;

use crate::app::{AppState, View};
use crate::db::Cell;
use crate::error::AppError;
use crate::render::html::{escape, render, Chrome};
use crate::views::PageRequest;

/// Plugins' HTML for cells, by (row, column).
pub type RenderedCells = HashMap<(usize, usize), String>;

/// The longest cell offered to plugins' `render_cell`, and the most text and BLOB bytes of a
/// page offered in all: a plugin's work per page stays small whatever the data. A cell past
/// either is offered as null and shown as plain text, whatever a plugin answers for it.
pub const RENDER_CELL_BYTES: usize = 64 << 10;
pub const RENDER_PAGE_BYTES: usize = 1 << 20;

/// Plugins' HTML for a page's cells (`render_cell`), for an HTML page only, worked out as
/// [`AppState::plugin_work`] says, so that a slow plugin holds no async worker; without it
/// when plugins are too busy.
pub(super) async fn rendered_cells(
    state: &AppState,
    ctx: &PageRequest,
    view: View<'_>,
    columns: &[String],
    rows: &[Vec<Cell>],
) -> Result<RenderedCells, AppError> {
    let html = ctx.format == crate::render::Format::Html && !ctx.show_context;
    if !html || !state.plugins.render_cell_plugins() {
        return Ok(HashMap::new());
    }
    let (offered, withheld) = offered_cells(rows);
    let cells = RenderCells {
        page: state.page_context(&ctx.actor, &ctx.here(), view),
        columns: columns.to_vec(),
        rows: offered,
    };
    let plugins = state.plugins.clone();
    // Boxed: the pages that await this keep a small future of their own when no plugin renders.
    let work = Box::pin(state.plugin_work("render_cell", move || plugins.render_cells(cells)));
    // Plugins too busy or too slow: the page shows its cells as plain text.
    let Ok(mut rendered) = work.await else {
        return Ok(HashMap::new());
    };
    rendered.retain(|at, _| !withheld.contains(at));
    Ok(rendered)
}

/// The rows as plugins are offered them, and the cells withheld (offered as null).
fn offered_cells(
    rows: &[Vec<Cell>],
) -> (
    Vec<Vec<serde_json::Value>>,
    std::collections::HashSet<(usize, usize)>,
) {
    let mut withheld = std::collections::HashSet::new();
    let mut total = 0usize;
    let offered = rows
        .iter()
        .enumerate()
        .map(|(r, row)| {
            row.iter()
                .enumerate()
                .map(|(c, cell)| {
                    let size = match cell {
                        Cell::Text(t) => t.len(),
                        Cell::Blob(b) => b.len(),
                        _ => 0,
                    };
                    total += size;
                    if size > RENDER_CELL_BYTES || total > RENDER_PAGE_BYTES {
                        withheld.insert((r, c));
                        return serde_json::Value::Null;
                    }
                    serde_json::to_value(cell).unwrap_or_default()
                })
                .collect()
        })
        .collect();
    (offered, withheld)
}

/// Links to the plugins' formats that apply to a page with these columns: (extension, href).
pub(super) fn format_links(
    state: &AppState,
    columns: &[String],
    href: impl Fn(&str) -> String,
) -> Vec<(String, String)> {
    let formats = state.plugins.format_links(columns);
    formats
        .into_iter()
        .map(|ext| (ext.to_string(), href(ext)))
        .collect()
}

/// The header and footer of the page `ctx` asks for, with its JSON alternate.
pub(super) fn page_chrome(state: &AppState, ctx: &PageRequest, view: View<'_>) -> Chrome {
    let mut chrome = state.chrome(&ctx.actor, &ctx.here(), view);
    chrome.alternate_json = ctx.alternate_json.clone();
    if let Some(req) = &ctx.request {
        chrome.messages = crate::views::messages::take(req);
        chrome.show_logout =
            crate::session::actor(req).is_some() && !chrome.menu_links.iter().any(|l| l.post);
    }
    chrome
}

/// metadata.json's description as HTML: its `description_html` as written (the operator's
/// own markup, as Datasette shows it), else its `description` escaped.
pub(super) fn description_html(info: &crate::config::SourceInfo) -> Option<String> {
    info.description_html
        .clone()
        .or_else(|| info.description.as_deref().map(escape))
}

/// A page's template rendered, or an internal error.
pub(super) fn render_template(t: &impl Template) -> Result<String, AppError> {
    Ok(render(t)?)
}

/// One link in the header or footer.
pub struct Link {
    pub href: String,
    pub label: String,
}

/// A footer entry: its text, linked where metadata gives a web address.
pub struct FooterLink {
    pub text: String,
    pub href: Option<String>,
}

pub struct Footer {
    pub links: Vec<FooterLink>,
    /// How long the page's queries took, as Datasette's footer says: "12.3ms".
    pub query_time: String,
}

/// The footer: the time the page's queries took, and metadata's licence, source and about
/// links.
pub(super) fn footer(links: &indexmap::IndexMap<&'static str, String>, query_ms: f64) -> Footer {
    let mut out = Vec::new();
    for (name, url) in [
        ("license", "license_url"),
        ("source", "source_url"),
        ("about", "about_url"),
    ] {
        let label = links.get(name).cloned();
        let href = links.get(url).cloned();
        if label.is_some() || href.is_some() {
            let text = format!(
                "{}: {}",
                capitalize(name),
                label.clone().or(href.clone()).unwrap_or_default()
            );
            out.push(FooterLink {
                text,
                href: href.filter(|h| is_web_url(h)),
            });
        }
    }
    Footer {
        links: out,
        query_time: format!("{query_ms:.1}ms"),
    }
}

/// Links from metadata are shown only when they are web links: no `javascript:`.
fn is_web_url(u: &str) -> bool {
    let l = u.trim().to_ascii_lowercase();
    l.starts_with("http://") || l.starts_with("https://") || l.starts_with('/')
}

pub(super) fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

// ---- table and row headings ----

/// A column heading, with Datasette's attributes.
pub struct Header {
    pub name: String,
    pub css: String,
    /// The declared type, lower-cased (`data-column-type`).
    pub kind: String,
    pub not_null: bool,
    pub is_pk: bool,
    /// Link that sorts by this column, when it is sortable.
    pub sort_href: Option<String>,
    /// " ▼" on the column sorted ascending (its link sorts descending), " ▲" on the one
    /// sorted descending (with a no-break space).
    pub arrow: &'static str,
    /// The column's description from metadata.json.
    pub description: Option<String>,
}

impl Header {
    /// A column's heading without a sort link: its declared type and NOT NULL, whether it keys
    /// the row (`rowid`, undeclared, is an integer).
    pub(super) fn plain(
        name: &str,
        declared: &HashMap<String, crate::db::Declared>,
        keys: &[String],
    ) -> Header {
        let d = declared.get(name);
        Header {
            name: name.to_string(),
            css: super::cells::css_class(name),
            kind: match d {
                Some(d) => d.kind.to_lowercase(),
                None if name == "rowid" => "integer".into(),
                None => String::new(),
            },
            not_null: d.is_some_and(|d| d.not_null),
            is_pk: keys.iter().any(|k| k == name),
            sort_href: None,
            arrow: "",
            description: None,
        }
    }
}

/// Rows of another table that point to this row: their table and column, the link to them,
/// how many.
pub struct IncomingView {
    pub table: String,
    pub column: String,
    pub href: String,
    pub count: String,
    pub plural: bool,
}

/// A table, view or query in a list: its link, a tooltip, and whether it is private (hidden
/// from anonymous visitors: a padlock follows it).
pub struct Listed {
    pub href: String,
    pub label: String,
    pub title: Option<String>,
    pub private: bool,
}

pub(super) fn format_count(n: i64) -> String {
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}
