//! Each page's data made ready for its askama template in `templates/`: the HTML adapters of
//! the views (the table page's, the largest, is `views::table::html`). JSON and CSV take the
//! same data as it is.

use askama::Template;

use std::collections::HashMap;

use datasette_plugin_api::RenderCells;

use crate::app::{AppState, View};
use crate::db::Cell;
use crate::error::AppError;
use crate::permissions::Actor;
use crate::render::html::{escape, render, Chrome};
use crate::views::cells::CellView;

/// Plugins' HTML for cells, by (row, column).
pub type RenderedCells = HashMap<(usize, usize), String>;

/// The longest cell offered to plugins' `render_cell`, and the most text and BLOB bytes of a
/// page offered in all: a plugin's work per page stays small whatever the data. A cell past
/// either is offered as null and shown as plain text, whatever a plugin answers for it.
pub const RENDER_CELL_BYTES: usize = 64 << 10;
pub const RENDER_PAGE_BYTES: usize = 1 << 20;

/// Plugins' HTML for a page's cells (`render_cell`), worked out as [`AppState::plugin_work`]
/// says, so that a slow plugin holds no async worker; without it when plugins are too busy.
pub(super) async fn rendered_cells(
    state: &AppState,
    ctx: &PageRequest,
    view: View<'_>,
    columns: &[String],
    rows: &[Vec<Cell>],
) -> Result<RenderedCells, AppError> {
    if !state.plugins.render_cell_plugins() {
        return Ok(HashMap::new());
    }
    let (offered, withheld) = offered_cells(rows);
    let cells = RenderCells {
        page: state.page_context(&ctx.actor, &ctx.here(), view),
        columns: columns.to_vec(),
        rows: offered,
    };
    let plugins = state.plugins.clone();
    // Plugins too busy or too slow: the page shows its cells as plain text.
    // Boxed: the pages that await this keep a small future of their own when no plugin renders.
    let work = Box::pin(state.plugin_work("render_cell", move || plugins.render_cells(cells)));
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
pub(super) fn page(t: &impl Template) -> Result<String, AppError> {
    Ok(render(t)?)
}
use crate::urls::{path_with_query, tilde_encode};
use crate::views::database::DatabasePage;
use crate::views::index::{IndexDatabase, TableOrView};
use crate::views::query::QueryPage;
use crate::views::row::RowPage;
use crate::views::PageRequest;

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
}

pub(super) fn footer(links: &indexmap::IndexMap<&'static str, String>) -> Footer {
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
    Footer { links: out }
}

/// Links from metadata are shown only when they are web links: no `javascript:`.
fn is_web_url(u: &str) -> bool {
    let l = u.trim().to_ascii_lowercase();
    l.starts_with("http://") || l.starts_with("https://") || l.starts_with('/')
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

// ---- index ----

/// A table, view or query in a list: its link, a tooltip, and whether it is private (hidden
/// from anonymous visitors: a padlock follows it).
pub struct Listed {
    pub href: String,
    pub label: String,
    pub title: Option<String>,
    pub private: bool,
}

pub struct IndexEntry {
    pub name: String,
    pub url: String,
    pub private: bool,
    pub summary: String,
    pub tables: Vec<Listed>,
    pub more: bool,
}

#[derive(Template)]
#[template(path = "index.html")]
struct IndexTemplate<'a> {
    chrome: &'a Chrome,
    /// Hidden from anonymous visitors.
    private: bool,
    title: String,
    description: Option<String>,
    databases: Vec<IndexEntry>,
    footer: Footer,
}

pub fn index_page(
    state: &AppState,
    ctx: &PageRequest,
    data: &indexmap::IndexMap<String, IndexDatabase>,
) -> Result<String, AppError> {
    let chrome = page_chrome(
        state,
        ctx,
        View {
            kind: "index",
            ..View::default()
        },
    );
    let databases = data
        .values()
        .map(|d| IndexEntry {
            name: d.name.clone(),
            url: ctx.db_url(&d.name),
            private: d.private,
            summary: database_summary(d),
            tables: d
                .tables_and_views_truncated
                .iter()
                .map(|t| {
                    let (name, private) = match t {
                        TableOrView::Table(t) => (&t.name, t.private),
                        TableOrView::View(v) => (&v.name, v.private),
                    };
                    Listed {
                        href: ctx.table_url(&d.name, name),
                        label: name.clone(),
                        title: None,
                        private,
                    }
                })
                .collect(),
            more: d.tables_and_views_more,
        })
        .collect();
    page(&IndexTemplate {
        private: !state.permissions.can_view_instance(&None),
        title: chrome.site_title.clone(),
        description: description_html(&state.metadata.info),
        chrome: &chrome,
        databases,
        footer: footer(
            &state
                .metadata
                .inherited_links(None, None)
                .into_iter()
                .collect(),
        ),
    })
}

/// "2 rows in 1 table, 5 rows in 4 hidden tables, 1 view", as Datasette counts a database.
fn database_summary(d: &IndexDatabase) -> String {
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    let mut parts = vec![format!(
        "{} rows in {}",
        format_count(d.table_rows_sum),
        plural(d.tables_count, "table")
    )];
    if d.hidden_tables_count > 0 {
        parts.push(format!(
            "{} rows in {}",
            format_count(d.hidden_table_rows_sum),
            plural(d.hidden_tables_count, "hidden table")
        ));
    }
    if d.views_count > 0 {
        parts.push(plural(d.views_count, "view"));
    }
    parts.join(", ")
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

// ---- database ----

pub struct TableEntry {
    pub href: String,
    pub name: String,
    pub private: bool,
    pub hidden: bool,
    pub columns: String,
    pub count: String,
}

#[derive(Template)]
#[template(path = "database.html")]
struct DatabaseTemplate<'a> {
    chrome: &'a Chrome,
    name: String,
    description: Option<String>,
    db_href: String,
    private: bool,
    tables: Vec<TableEntry>,
    views: Vec<Listed>,
    queries: Vec<Listed>,
    allow_sql: bool,
    hidden_count: usize,
    /// The file's download link and size, for an actor who may download it.
    download: Option<(String, String)>,
    footer: Footer,
}

pub fn database_page(
    state: &AppState,
    ctx: &PageRequest,
    data: &DatabasePage,
) -> Result<String, AppError> {
    let chrome = page_chrome(
        state,
        ctx,
        View {
            kind: "database",
            database: Some(&data.database),
            ..View::default()
        },
    );
    let tables = data
        .tables
        .iter()
        .map(|t| TableEntry {
            href: ctx.table_url(&data.database, &t.name),
            name: t.name.clone(),
            private: t.private,
            hidden: t.hidden,
            columns: t.columns.join(", "),
            count: match t.count {
                Some(n) => format!("{} row{}", format_count(n), if n == 1 { "" } else { "s" }),
                None => "many rows".into(),
            },
        })
        .collect();
    page(&DatabaseTemplate {
        chrome: &chrome,
        name: data.database.clone(),
        description: state
            .metadata
            .database(&data.database)
            .and_then(|m| description_html(&m.info)),
        db_href: ctx.db_url(&data.database),
        private: data.private,
        // Offered only to who may see the whole file, as its size is.
        download: data.download.as_ref().map(|href| {
            let size = data.size.unwrap_or_default();
            (href.clone(), super::blob::format_bytes(size))
        }),
        tables,
        views: data
            .views
            .iter()
            .map(|v| Listed {
                href: ctx.table_url(&data.database, &v.name),
                label: v.name.clone(),
                title: None,
                private: v.private,
            })
            .collect(),
        queries: data
            .queries
            .iter()
            .map(|q| Listed {
                href: match &q.fragment {
                    Some(f) => format!("{}#{}", ctx.table_url(&data.database, &q.name), f),
                    None => ctx.table_url(&data.database, &q.name),
                },
                label: q.title.clone().unwrap_or_else(|| q.name.clone()),
                // As Datasette's: what the query is for, or else its SQL.
                title: Some(q.description.clone().unwrap_or_else(|| q.sql.clone())),
                private: q.private,
            })
            .collect(),
        allow_sql: data.allow_execute_sql,
        hidden_count: data.hidden_count,
        footer: footer(&data.links),
    })
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

// ---- row ----

#[derive(Template)]
#[template(path = "row.html")]
struct RowTemplate<'a> {
    chrome: &'a Chrome,
    private: bool,
    db: String,
    db_href: String,
    table: String,
    table_href: String,
    key: String,
    headers: Vec<Header>,
    cells: Vec<CellView<'a>>,
    incoming: Vec<IncomingView>,
    formats: Vec<(String, String)>,
    json_href: String,
    footer: Footer,
}

pub fn row_page(
    state: &AppState,
    ctx: &PageRequest,
    data: &RowPage,
    rendered: &RenderedCells,
) -> Result<String, AppError> {
    // As the row's URL spells it, as plugins' hooks are told on every row page.
    let row_key = data
        .primary_key_values
        .iter()
        .map(|v| tilde_encode(v))
        .collect::<Vec<_>>()
        .join(",");
    let view = View {
        kind: "row",
        database: Some(&data.database),
        table: Some(&data.table),
        row: Some(&row_key),
    };
    let chrome = page_chrome(state, ctx, view);
    let row = data.rows.rows.first().cloned().unwrap_or_default();
    let key_segment = &row_key;
    let row_url = format!(
        "{}/{key_segment}",
        ctx.table_url(&data.database, &data.table)
    );
    page(&RowTemplate {
        chrome: &chrome,
        private: data.private,
        db: data.database.clone(),
        db_href: ctx.db_url(&data.database),
        table: data.table.clone(),
        table_href: ctx.table_url(&data.database, &data.table),
        key: data.primary_key_values.join(", "),
        headers: data
            .columns
            .iter()
            .map(|c| Header::plain(c, &data.declared, &data.primary_keys))
            .collect(),
        cells: row
            .iter()
            .enumerate()
            .map(|(i, c)| CellView {
                css: super::cells::css_class(&data.columns[i]).into(),
                kind: super::cells::type_name(c),
                html: match (rendered.get(&(0, i)), c) {
                    (Some(html), _) => html.clone().into(),
                    (None, Cell::Blob(b)) => super::blob::link_html(
                        &super::blob::row_href(&row_url, &data.columns[i]),
                        b.len(),
                    )
                    .into(),
                    (None, _) => super::cells::value_html(
                        c,
                        data.units.get(&data.columns[i]).map(String::as_str),
                        0,
                    ),
                },
            })
            .collect(),
        incoming: data
            .incoming
            .iter()
            .flatten()
            .map(|i| IncomingView {
                table: i.other_table.clone(),
                column: i.other_column.clone(),
                href: i.link.clone(),
                count: format_count(i.count),
                plural: i.count != 1,
            })
            .collect(),
        formats: format_links(state, &data.columns, |ext| {
            format!(
                "{}/{key_segment}.{ext}",
                ctx.table_url(&data.database, &data.table)
            )
        }),
        json_href: format!(
            "{}/{}.json",
            ctx.table_url(&data.database, &data.table),
            key_segment
        ),
        footer: footer(&data.links),
    })
}

// ---- query ----

#[derive(Template)]
#[template(path = "query.html")]
struct QueryTemplate<'a> {
    chrome: &'a Chrome,
    private: bool,
    db: String,
    db_href: String,
    /// Where the SQL form goes: the canned query, else the database.
    action: String,
    /// A writable canned query's form: a POST with this CSRF token, or disabled (`None`)
    /// where the database cannot be written.
    write: Option<Option<String>>,
    title: String,
    description: Option<String>,
    show_sql: bool,
    /// Datasette's show/hide link for the SQL: its href and text, and the hidden field that
    /// keeps the choice when the form is sent.
    show_hide: (String, &'static str),
    show_hide_field: Option<&'static str>,
    /// For a canned query the actor could run as SQL of their own: the page that edits it.
    edit_sql_href: Option<String>,
    editable: bool,
    sql: String,
    params: Vec<(String, String)>,
    error: Option<String>,
    /// (CSS class, name) of each column.
    columns: Vec<(String, String)>,
    rows: Vec<Vec<(String, String)>>,
    truncated: bool,
    max_rows: u32,
    formats: Vec<(String, String)>,
    json_href: String,
    csv_href: String,
    footer: Footer,
}

impl QueryTemplate<'_> {
    /// The SQL box's height in lines, as Datasette sizes it: two more than the SQL has.
    fn sql_height(&self) -> usize {
        self.sql.split('\n').count() + 2
    }
}

pub fn query_page(
    state: &AppState,
    ctx: &PageRequest,
    data: &QueryPage,
    rendered: &RenderedCells,
) -> Result<String, AppError> {
    let view = View {
        kind: "query",
        database: Some(&data.database),
        table: data.query_name.as_deref(),
        ..View::default()
    };
    let chrome = page_chrome(state, ctx, view);
    let truncate = state.settings.truncate_cells_html as usize;
    let css_columns: Vec<(String, String)> = data
        .columns
        .iter()
        .map(|c| (super::cells::css_class(c), c.clone()))
        .collect();
    let canned = data.canned.as_ref();
    let action = match canned {
        Some(q) => ctx.table_url(&data.database, &q.name),
        None => ctx.db_url(&data.database),
    };
    let with_ext = |ext: &str| path_with_query(&format!("{action}{ext}"), &ctx.args);
    // Datasette's rules: metadata's hide_sql is undone by `_show_sql`, SQL shown otherwise
    // is hidden by `_hide_sql`; the link flips it, a hidden field keeps it.
    let flip = |key: &'static str, on: bool| match on {
        true => ctx.path_with_replaced(&[(key, None)]),
        false => ctx.path_with_replaced(&[(key, Some("1".into()))]),
    };
    let (show_sql, show_hide, show_hide_field) = match canned.is_some_and(|q| q.hide_sql) {
        true => {
            let on = ctx.flag("_show_sql");
            let text = if on { "hide" } else { "show" };
            (on, (flip("_show_sql", on), text), on.then_some("_show_sql"))
        }
        false => {
            let on = ctx.flag("_hide_sql");
            let text = if on { "show" } else { "hide" };
            (
                !on,
                (flip("_hide_sql", on), text),
                on.then_some("_hide_sql"),
            )
        }
    };
    let edit_sql_href = canned
        .filter(|q| !q.write && data.allow_execute_sql && !q.sql.contains(":_"))
        .map(|q| {
            let mut pairs = vec![("sql".to_string(), q.sql.clone())];
            pairs.extend(
                data.query
                    .params
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone())),
            );
            path_with_query(&ctx.db_url(&data.database), &pairs)
        });
    page(&QueryTemplate {
        chrome: &chrome,
        db: data.database.clone(),
        db_href: ctx.db_url(&data.database),
        action: action.clone(),
        write: canned.filter(|q| q.write).map(|_| data.write_token.clone()),
        private: data.private,
        // As Datasette heads it: the query's title, or the database and the query's name.
        title: canned
            .map(|q| {
                q.info
                    .title
                    .clone()
                    .unwrap_or_else(|| format!("{}: {}", data.database, q.name))
            })
            .unwrap_or_else(|| data.database.clone()),
        description: canned.and_then(|q| description_html(&q.info)),
        show_sql,
        show_hide,
        show_hide_field,
        edit_sql_href,
        editable: canned.is_none() && data.allow_execute_sql,
        sql: data.query.sql.clone(),
        params: data
            .query
            .params
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        error: data.error.clone(),
        columns: css_columns.clone(),
        rows: data
            .rows
            .rows
            .iter()
            .enumerate()
            .map(|(r, row)| {
                let cell = |(i, c): (usize, &Cell)| {
                    let html = match (rendered.get(&(r, i)), c) {
                        (Some(html), _) => html.clone(),
                        (None, Cell::Blob(b)) => super::blob::link_html(
                            &super::blob::query_href(ctx, &action, &data.columns[i], c),
                            b.len(),
                        ),
                        (None, _) => super::cells::plain_html(c, truncate),
                    };
                    (css_columns[i].0.clone(), html)
                };
                row.iter().enumerate().map(cell).collect()
            })
            .collect(),
        truncated: data.truncated,
        max_rows: state.settings.max_returned_rows,
        formats: format_links(state, &data.columns, |ext| with_ext(&format!(".{ext}"))),
        json_href: with_ext(".json"),
        // Datasette's CSV link asks for every row.
        csv_href: {
            let mut args: Vec<(String, String)> = ctx
                .args
                .iter()
                .filter(|(k, _)| k != "_size")
                .cloned()
                .collect();
            args.push(("_size".into(), "max".into()));
            path_with_query(&format!("{action}.csv"), &args)
        },
        footer: footer(&data.links),
    })
}

// ---- special pages and errors ----

#[derive(Template)]
#[template(path = "special.html")]
struct SpecialTemplate<'a> {
    chrome: &'a Chrome,
    title: String,
    json: String,
    json_href: String,
}

pub fn special_page(
    state: &AppState,
    ctx: &PageRequest,
    name: &str,
    data: &serde_json::Value,
) -> Result<String, AppError> {
    let chrome = page_chrome(
        state,
        ctx,
        View {
            kind: "special",
            ..View::default()
        },
    );
    page(&SpecialTemplate {
        chrome: &chrome,
        title: capitalize(name),
        json: serde_json::to_string_pretty(data).unwrap_or_default(),
        json_href: ctx.link(&format!("/-/{name}.json")),
    })
}

#[derive(Template)]
#[template(path = "allow_debug.html")]
struct AllowDebugTemplate<'a> {
    chrome: &'a Chrome,
    actor: &'a str,
    allow: &'a str,
    errors: &'a [String],
    result: Option<bool>,
}

/// `/-/allow-debug`'s form and answer.
pub fn allow_debug_page(
    state: &AppState,
    ctx: &PageRequest,
    actor: &str,
    allow: &str,
    errors: &[String],
    result: Option<bool>,
) -> Result<String, AppError> {
    let view = View {
        kind: "special",
        ..View::default()
    };
    page(&AllowDebugTemplate {
        chrome: &page_chrome(state, ctx, view),
        actor,
        allow,
        errors,
        result,
    })
}

#[derive(Template)]
#[template(path = "permissions.html")]
struct PermissionsTemplate<'a> {
    chrome: &'a Chrome,
    checks: Vec<CheckView>,
    /// The form's fields as asked: actor JSON, permission, resource 1 and 2.
    asked: [String; 4],
    /// The answer: (allowed, decided for that very resource).
    answer: Option<(bool, bool)>,
}

struct CheckView {
    action: String,
    when: String,
    allowed: bool,
    used_default: bool,
    actor: String,
    resource: Option<String>,
}

/// `/-/permissions`: the recent checks (`checks` as its JSON lists them).
pub fn permissions_page(
    state: &AppState,
    ctx: &PageRequest,
    checks: &[serde_json::Value],
    question: &serde_json::Value,
) -> Result<String, AppError> {
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let view = View {
        kind: "special",
        ..View::default()
    };
    let asked = ["actor", "permission", "resource_1", "resource_2"]
        .map(|k| ctx.arg(k).unwrap_or_default().to_string());
    let answer =
        (!question.is_null()).then(|| (question["allowed"] == true, question["explicit"] == true));
    page(&PermissionsTemplate {
        chrome: &page_chrome(state, ctx, view),
        asked,
        answer,
        checks: checks
            .iter()
            .map(|c| CheckView {
                action: text(&c["action"]),
                when: text(&c["when"]),
                allowed: c["result"] == true,
                used_default: c["used_default"] == true,
                actor: c["actor"].to_string(),
                resource: (!c["resource"].is_null()).then(|| match &c["resource"] {
                    serde_json::Value::String(db) => db.clone(),
                    other => other.to_string(),
                }),
            })
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "plugin.html")]
struct PluginTemplate<'a> {
    chrome: &'a Chrome,
    title: &'a str,
    body: &'a str,
}

/// A plugin's page (`Response::page`): its HTML inside the site's header, menu and footer.
pub fn plugin_page(
    state: &AppState,
    actor: &Actor,
    path_and_query: &str,
    title: &str,
    body: &str,
) -> Result<String, AppError> {
    let view = View {
        kind: "plugin",
        ..View::default()
    };
    page(&PluginTemplate {
        chrome: &state.chrome(actor, path_and_query, view),
        title,
        body,
    })
}

#[derive(Template)]
#[template(path = "logout.html")]
struct LogoutTemplate<'a> {
    chrome: &'a Chrome,
}

/// The log-out page of a signed-in actor (named in the chrome as every page names them).
pub fn logout_page(state: &AppState, actor: &serde_json::Value) -> Result<String, AppError> {
    page(&LogoutTemplate {
        chrome: &state.chrome(
            &Some(actor.clone()),
            "/-/logout",
            View {
                kind: "special",
                ..View::default()
            },
        ),
    })
}
