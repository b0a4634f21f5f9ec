//! Each page's data made ready for its askama template in `templates/`: the HTML adapters of
//! the views. JSON and CSV take the same data as it is.

use askama::Template;

use std::collections::HashMap;

use datasette_plugin_api::RenderCells;

use crate::app::{AppState, View};
use crate::db::Cell;
use crate::error::AppError;
use crate::permissions::Actor;
use crate::render::html::{escape, render, Chrome};

/// Plugins' HTML for a page's cells (`render_cell`), by (row, column).
fn rendered_cells(
    state: &AppState,
    ctx: &PageRequest,
    view: View<'_>,
    columns: &[String],
    rows: &[Vec<Cell>],
) -> HashMap<(usize, usize), String> {
    if !state.plugins.render_cell_plugins() {
        return HashMap::new();
    }
    state.plugins.render_cells(RenderCells {
        page: state.page_context(&ctx.actor, &ctx.here(), view),
        columns: columns.to_vec(),
        rows: crate::render::json::rows_as_values(rows),
    })
}

/// Links to the plugins' formats that apply to a page with these columns: (extension, href).
fn format_links(
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
fn page_chrome(state: &AppState, ctx: &PageRequest, view: View<'_>) -> Chrome {
    let mut chrome = state.chrome(&ctx.actor, &ctx.here(), view);
    chrome.alternate_json = ctx.alternate_json.clone();
    if let Some(req) = &ctx.request {
        chrome.messages = crate::views::messages::take(req);
    }
    chrome
}

/// A page's template rendered, or an internal error.
fn page(t: &impl Template) -> Result<String, AppError> {
    Ok(render(t)?)
}
use crate::urls::{path_with_query, quote_plus, tilde_encode};
use crate::views::database::DatabasePage;
use crate::views::index::{IndexDatabase, TableOrView};
use crate::views::query::QueryPage;
use crate::views::row::RowPage;
use crate::views::table::TablePage;
use crate::views::PageRequest;

/// A cell as HTML, already escaped.
fn cell_html(c: &Cell, truncate: usize) -> String {
    match c {
        Cell::Null => "<span class=\"null\">&nbsp;</span>".into(),
        Cell::Blob(b) => format!(
            "<span class=\"blob\">&lt;Binary:&nbsp;{}&nbsp;bytes&gt;</span>",
            b.len()
        ),
        Cell::Text(s) if truncate > 0 && s.chars().count() > truncate => {
            format!(
                "{}\u{2026}",
                escape(&s.chars().take(truncate).collect::<String>())
            )
        }
        other => escape(&other.to_plain_string()),
    }
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
}

fn footer(links: &indexmap::IndexMap<&'static str, String>) -> Footer {
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
            summary: format!(
                "{} rows in {} table{}{}",
                format_count(d.table_rows_sum),
                d.tables_count,
                if d.tables_count == 1 { "" } else { "s" },
                if d.views_count > 0 {
                    format!(
                        ", {} view{}",
                        d.views_count,
                        if d.views_count == 1 { "" } else { "s" }
                    )
                } else {
                    String::new()
                }
            ),
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
        description: state.metadata.info.description.clone(),
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

fn format_count(n: i64) -> String {
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
    db_href: String,
    private: bool,
    tables: Vec<TableEntry>,
    views: Vec<Listed>,
    queries: Vec<Listed>,
    allow_sql: bool,
    hidden_count: usize,
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
        db_href: ctx.db_url(&data.database),
        private: data.private,
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
                href: ctx.table_url(&data.database, &q.name),
                label: q.title.clone().unwrap_or_else(|| q.name.clone()),
                title: Some(q.sql.clone()),
                private: q.private,
            })
            .collect(),
        allow_sql: data.allow_execute_sql,
        hidden_count: data.hidden_count,
        footer: footer(&data.links),
    })
}

// ---- table ----

pub struct Header {
    pub name: String,
    /// Link that sorts by this column, when it is sortable.
    pub sort_href: Option<String>,
    /// "▼" or "▲" for the current sort.
    pub arrow: &'static str,
    /// The column's description from metadata.json.
    pub description: Option<String>,
}

pub struct FacetView {
    pub name: String,
    pub hide_href: Option<String>,
    pub values: Vec<FacetValueView>,
    pub truncated: bool,
}

/// One value of a facet: its label, the link that toggles it, its count, and whether it is
/// selected now.
pub struct FacetValueView {
    pub label: String,
    pub href: String,
    pub count: i64,
    pub selected: bool,
}

/// A filter in force: how it reads, and the link that removes it.
pub struct FilterView {
    pub text: String,
    pub remove_href: String,
}

/// Rows of another table that point to this row: which key, the link to them, how many.
pub struct IncomingView {
    pub key: String,
    pub href: String,
    pub count: i64,
}

#[derive(Template)]
#[template(path = "table.html")]
struct TableTemplate<'a> {
    chrome: &'a Chrome,
    db: String,
    db_href: String,
    table_href: String,
    table: String,
    title: String,
    description: Option<String>,
    is_view: bool,
    private: bool,
    count_text: String,
    headers: Vec<Header>,
    rows: Vec<Vec<String>>,
    link_column: bool,
    facets: Vec<FacetView>,
    filters: Vec<FilterView>,
    columns: Vec<String>,
    ops: Vec<(&'static str, &'static str)>,
    searchable: bool,
    search: String,
    hidden_args: Vec<(String, String)>,
    next_href: Option<String>,
    /// Plugins' formats for the page: (extension, href).
    formats: Vec<(String, String)>,
    json_href: String,
    csv_href: String,
    sql_href: Option<String>,
    footer: Footer,
}

pub fn table_page(
    state: &AppState,
    ctx: &PageRequest,
    data: &TablePage,
) -> Result<String, AppError> {
    let chrome = page_chrome(
        state,
        ctx,
        View {
            kind: "table",
            database: Some(&data.database),
            table: Some(&data.table),
            ..View::default()
        },
    );
    let extras = &data.html;
    let headers = data
        .columns
        .iter()
        .map(|c| {
            let current = extras.sort.as_ref().filter(|s| s.column == *c);
            let sortable = extras.sortable.contains(c) || c == "rowid";
            // Clicking the sorted column flips its direction.
            let sort_href = sortable.then(|| {
                let (key, other) = match current {
                    Some(s) if !s.desc => ("_sort_desc", "_sort"),
                    _ => ("_sort", "_sort_desc"),
                };
                ctx.path_with_replaced(&[(key, Some(c.clone())), (other, None), ("_next", None)])
            });
            Header {
                description: extras.meta.as_ref().and_then(|m| m.columns.get(c).cloned()),
                name: c.clone(),
                sort_href,
                arrow: match current {
                    Some(s) if s.desc => " \u{25bc}",
                    Some(_) => " \u{25b2}",
                    None => "",
                },
            }
        })
        .collect();
    let truncate = state.settings.truncate_cells_html as usize;
    // One declared key that is not also a foreign key links from its own cell; otherwise
    // (rowid, compound keys) a first "Link" column does, as in Datasette.
    let own_cell_link = extras.key_indexes.len() == 1
        && data.primary_keys.len() == 1
        && !extras
            .outgoing
            .iter()
            .any(|fk| fk.column == data.columns[extras.key_indexes[0]]);
    let link_column = !extras.key_indexes.is_empty() && !own_cell_link;
    let view = View {
        kind: "table",
        database: Some(&data.database),
        table: Some(&data.table),
        row: None,
    };
    let rendered = rendered_cells(state, ctx, view, &data.columns, &data.rows.rows);
    let rows = data
        .rows
        .rows
        .iter()
        .enumerate()
        .map(|(r, row)| {
            let row_href = (!extras.key_indexes.is_empty()).then(|| {
                let pk: Vec<String> = extras
                    .key_indexes
                    .iter()
                    .map(|&i| tilde_encode(&row[i].to_plain_string()))
                    .collect();
                format!(
                    "{}/{}",
                    ctx.table_url(&data.database, &data.table),
                    pk.join(",")
                )
            });
            let mut cells: Vec<String> = Vec::with_capacity(row.len() + 1);
            if let (true, Some(href)) = (link_column, &row_href) {
                let label: Vec<String> = extras
                    .key_indexes
                    .iter()
                    .map(|&i| row[i].to_plain_string())
                    .collect();
                cells.push(format!(
                    "<a href=\"{}\">{}</a>",
                    escape(href),
                    escape(&label.join(","))
                ));
            }
            cells.extend(row.iter().enumerate().map(|(i, cell)| {
                if let Some(html) = rendered.get(&(r, i)) {
                    return html.clone();
                }
                let column = &data.columns[i];
                let text = cell_html(cell, truncate);
                if let (Some(href), true) = (&row_href, own_cell_link && extras.key_indexes[0] == i)
                {
                    return format!("<a href=\"{}\">{text}</a>", escape(href));
                }
                if let Some(fk) = extras
                    .outgoing
                    .iter()
                    .find(|fk| fk.column == *column)
                    .filter(|_| !cell.is_null())
                {
                    let v = cell.to_plain_string();
                    let href = format!(
                        "{}/{}",
                        ctx.table_url(&data.database, &fk.other_table),
                        tilde_encode(&v)
                    );
                    return match extras.labels.get(&(column.clone(), v)) {
                        Some(label) => format!(
                            "<a href=\"{}\">{}</a>&nbsp;<em>{text}</em>",
                            escape(&href),
                            escape(label)
                        ),
                        None => format!("<a href=\"{}\">{text}</a>", escape(&href)),
                    };
                }
                text
            }));
            cells
        })
        .collect();
    let facets = data
        .facet_results
        .values()
        .map(|f| FacetView {
            name: f.name.clone(),
            hide_href: f.hideable.then(|| f.toggle_url.clone()),
            values: f
                .results
                .iter()
                .map(|v| FacetValueView {
                    label: v.label.to_plain_string(),
                    href: v.toggle_url.clone(),
                    count: v.count,
                    selected: v.selected,
                })
                .collect(),
            truncated: f.truncated,
        })
        .collect();
    let filters = extras
        .filters
        .iter()
        .map(|f| {
            let (k, _) = f.arg();
            FilterView {
                text: f.human(),
                remove_href: ctx.path_with_replaced(&[
                    (&k, None),
                    (&f.column, None),
                    ("_next", None),
                ]),
            }
        })
        .collect();
    let hidden_args = ctx
        .args
        .iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "_search" | "_next" | "_filter_column" | "_filter_op" | "_filter_value"
            )
        })
        .cloned()
        .collect();
    let count_text = match data.filtered_table_rows_count {
        Some(n) => format!("{} row{}", format_count(n), if n == 1 { "" } else { "s" }),
        None => "Many rows".into(),
    } + &if data.human_description_en.is_empty() {
        String::new()
    } else {
        format!(" {}", data.human_description_en)
    };
    let sql_href = data.allow_execute_sql.then(|| {
        path_with_query(
            &ctx.db_url(&data.database),
            &[("sql".into(), data.query.sql.clone())],
        )
    });
    let table_href = ctx.table_url(&data.database, &data.table);
    let with_ext = |ext: &str| path_with_query(&format!("{table_href}{ext}"), &ctx.args);
    page(&TableTemplate {
        chrome: &chrome,
        db: data.database.clone(),
        db_href: ctx.db_url(&data.database),
        table_href: table_href.clone(),
        title: extras
            .meta
            .as_ref()
            .and_then(|m| m.info.title.clone())
            .unwrap_or_else(|| data.table.clone()),
        description: extras
            .meta
            .as_ref()
            .and_then(|m| m.info.description.clone()),
        table: data.table.clone(),
        is_view: data.is_view,
        private: data.private,
        count_text,
        headers,
        rows,
        link_column,
        facets,
        filters,
        columns: extras.all_columns.clone(),
        ops: crate::db::filters::OPS
            .iter()
            .map(|o| (o.key, o.label))
            .collect(),
        searchable: extras.searchable,
        search: extras.search.clone().unwrap_or_default(),
        hidden_args,
        next_href: extras.next_path.clone(),
        formats: format_links(state, &data.rows.columns, |ext| {
            with_ext(&format!(".{ext}"))
        }),
        json_href: with_ext(".json"),
        csv_href: with_ext(".csv"),
        sql_href,
        footer: footer(&data.links),
    })
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
    fields: Vec<(String, String)>,
    incoming: Vec<IncomingView>,
    formats: Vec<(String, String)>,
    json_href: String,
    footer: Footer,
}

pub fn row_page(state: &AppState, ctx: &PageRequest, data: &RowPage) -> Result<String, AppError> {
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
    let truncate = state.settings.truncate_cells_html as usize;
    let row = data.rows.rows.first().cloned().unwrap_or_default();
    let rendered = rendered_cells(state, ctx, view, &data.columns, &data.rows.rows);
    let key_segment = &row_key;
    page(&RowTemplate {
        chrome: &chrome,
        private: data.private,
        db: data.database.clone(),
        db_href: ctx.db_url(&data.database),
        table: data.table.clone(),
        table_href: ctx.table_url(&data.database, &data.table),
        key: data.primary_key_values.join(", "),
        fields: data
            .columns
            .iter()
            .cloned()
            .zip(
                row.iter()
                    .enumerate()
                    .map(|(i, c)| match rendered.get(&(0, i)) {
                        Some(html) => html.clone(),
                        None => cell_html(c, truncate),
                    }),
            )
            .collect(),
        incoming: data
            .incoming
            .iter()
            .map(|(fk, n)| {
                let value = data.primary_key_values.first().cloned().unwrap_or_default();
                let href = format!(
                    "{}?{}={}",
                    ctx.table_url(&data.database, &fk.other_table),
                    quote_plus(&fk.other_column),
                    quote_plus(&value)
                );
                IncomingView {
                    key: format!("{}.{}", fk.other_table, fk.other_column),
                    href,
                    count: *n,
                }
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
    editable: bool,
    sql: String,
    params: Vec<(String, String)>,
    error: Option<String>,
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
    truncated: bool,
    max_rows: u32,
    formats: Vec<(String, String)>,
    json_href: String,
    csv_href: String,
    footer: Footer,
}

pub fn query_page(
    state: &AppState,
    ctx: &PageRequest,
    data: &QueryPage,
) -> Result<String, AppError> {
    let view = View {
        kind: "query",
        database: Some(&data.database),
        table: data.query_name.as_deref(),
        ..View::default()
    };
    let chrome = page_chrome(state, ctx, view);
    let truncate = state.settings.truncate_cells_html as usize;
    let rendered = rendered_cells(state, ctx, view, &data.columns, &data.rows.rows);
    let canned = data.canned.as_ref();
    let action = match canned {
        Some(q) => ctx.table_url(&data.database, &q.name),
        None => ctx.db_url(&data.database),
    };
    let with_ext = |ext: &str| path_with_query(&format!("{action}{ext}"), &ctx.args);
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
                q.title
                    .clone()
                    .unwrap_or_else(|| format!("{}: {}", data.database, q.name))
            })
            .unwrap_or_else(|| data.database.clone()),
        description: canned.and_then(|q| q.description.clone()),
        show_sql: canned.is_none_or(|q| !q.hide_sql),
        editable: canned.is_none() && data.allow_execute_sql,
        sql: data.query.sql.clone(),
        params: data
            .query
            .params
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        error: data.error.clone(),
        columns: data.columns.clone(),
        rows: data
            .rows
            .rows
            .iter()
            .enumerate()
            .map(|(r, row)| {
                let cell = |(i, c): (usize, &Cell)| match rendered.get(&(r, i)) {
                    Some(html) => html.clone(),
                    None => cell_html(c, truncate),
                };
                row.iter().enumerate().map(cell).collect()
            })
            .collect(),
        truncated: data.truncated,
        max_rows: state.settings.max_returned_rows,
        formats: format_links(state, &data.columns, |ext| with_ext(&format!(".{ext}"))),
        json_href: with_ext(".json"),
        csv_href: with_ext(".csv"),
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

pub fn logout_page(state: &AppState, actor: &Actor) -> Result<String, AppError> {
    page(&LogoutTemplate {
        chrome: &state.chrome(
            actor,
            "/-/logout",
            View {
                kind: "special",
                ..View::default()
            },
        ),
    })
}
