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
use crate::views::cells::{CellHtml, CellView};

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
        chrome.show_logout =
            crate::session::actor(req).is_some() && !chrome.menu_links.iter().any(|l| l.post);
    }
    chrome
}

/// metadata.json's description as HTML: its `description_html` as written (the operator's
/// own markup, as Datasette shows it), else its `description` escaped.
fn description_html(info: &crate::config::SourceInfo) -> Option<String> {
    info.description_html
        .clone()
        .or_else(|| info.description.as_deref().map(escape))
}

/// A page's template rendered, or an internal error.
fn page(t: &impl Template) -> Result<String, AppError> {
    Ok(render(t)?)
}
use crate::urls::{path_with_query, tilde_encode};
use crate::views::database::DatabasePage;
use crate::views::index::{IndexDatabase, TableOrView};
use crate::views::query::QueryPage;
use crate::views::row::RowPage;
use crate::views::table::TablePage;
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
        download: data
            .download
            .as_ref()
            .map(|href| (href.clone(), super::blob::format_bytes(data.size))),
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
    fn plain(
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

pub struct FacetView {
    pub name: String,
    /// Its column as a CSS class.
    pub css: String,
    /// " (array)" or " (date)" after the name; nothing for a column facet.
    pub kind: String,
    pub hide_href: Option<String>,
    pub values: Vec<FacetValueView>,
    pub truncated: bool,
    /// Where a truncated facet shows all its values (none when it already does).
    pub more_href: Option<String>,
}

/// One value of a facet: its label (`-` for an empty one), the link that toggles it, its
/// count, and whether it is selected now.
pub struct FacetValueView {
    pub label: String,
    pub href: String,
    pub count: String,
    pub selected: bool,
}

/// Datasette's filter form: the search box, a row for each filter in force (each editable;
/// emptying its column drops it), a row to add one, the sort controls, and the page's other
/// `_` arguments carried along. It submits to a redirect to the filter URL it stands for.
pub struct FilterForm {
    pub searchable: bool,
    pub search: String,
    /// The table's columns: those shown, then the others.
    pub columns: Vec<String>,
    pub rows: Vec<FilterRow>,
    /// The operators of the row that adds a filter.
    pub new_ops: Vec<OpOption>,
    /// Sortable columns: (name, the current sort).
    pub sorts: Vec<(String, bool)>,
    pub sort_desc: bool,
    pub hidden: Vec<(String, String)>,
}

pub struct FilterRow {
    pub column: String,
    pub ops: Vec<OpOption>,
    pub value: String,
}

pub struct OpOption {
    /// The operator's key; `KEY__1` for those that take no value.
    pub value: String,
    pub label: &'static str,
    pub selected: bool,
}

impl FilterForm {
    fn of(ctx: &PageRequest, data: &TablePage, grid: &TableGrid) -> FilterForm {
        let extras = &data.html;
        let ops = |selected: Option<&str>| {
            crate::db::filters::OPS
                .iter()
                .map(|o| OpOption {
                    value: match o.no_arg {
                        true => format!("{}__1", o.key),
                        false => o.key.to_string(),
                    },
                    label: o.label,
                    selected: Some(o.key) == selected,
                })
                .collect()
        };
        let rows = extras
            .filters
            .iter()
            .map(|f| FilterRow {
                column: f.column.clone(),
                ops: ops(Some(f.op.key)),
                value: f.value.clone(),
            })
            .collect();
        let mut columns = data.columns.clone();
        columns.extend(
            extras
                .all_columns
                .iter()
                .filter(|c| !data.columns.contains(c))
                .cloned(),
        );
        let current = extras.sort.as_ref();
        let sorts = grid
            .order
            .iter()
            .map(|&i| &data.columns[i])
            .filter(|c| extras.sortable.contains(c) || *c == "rowid")
            .map(|c| (c.clone(), current.is_some_and(|s| s.column == *c)))
            .collect();
        // Datasette carries the page's `_` arguments along, but not those the form sets.
        let hidden = ctx
            .args
            .iter()
            .filter(|(k, _)| {
                k.starts_with('_')
                    && !k.contains("__")
                    && !matches!(k.as_str(), "_sort" | "_sort_desc" | "_search" | "_next")
            })
            .cloned()
            .collect();
        FilterForm {
            searchable: extras.searchable,
            search: extras.search.clone().unwrap_or_default(),
            columns,
            rows,
            new_ops: ops(None),
            sorts,
            sort_desc: current.is_some_and(|s| s.desc),
            hidden,
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
    rows: Vec<Vec<CellView<'a>>>,
    facets: Vec<FacetView>,
    form: FilterForm,
    /// `_where` clauses in force: (SQL, the link that removes it).
    extra_wheres: Vec<(String, String)>,
    next_href: Option<String>,
    /// Plugins' formats for the page: (extension, href).
    formats: Vec<(String, String)>,
    json_href: String,
    csv_href: String,
    sql_href: Option<String>,
    /// The facet boxes' classes: `facet-DB-TABLE-COLUMN`.
    db_css: String,
    table_css: String,
    /// metadata.json's descriptions of the columns.
    column_descriptions: Vec<(String, String)>,
    export: ExportBox,
    /// The `CREATE` statements, where they name nothing hidden from this actor.
    definition: Option<String>,
    footer: Footer,
}

/// Datasette's "Advanced export" box: JSON shapes, and a CSV form.
pub struct ExportBox {
    /// (shape name, href) of each JSON shape the table has.
    json_shapes: Vec<(&'static str, String)>,
    /// The CSV form's action and the page's arguments it carries.
    csv_path: String,
    csv_hidden: Vec<(String, String)>,
    /// Offer `_labels`: the table has foreign keys to expand.
    labels: bool,
    /// Offer `_stream`: there is more than one page and streaming is allowed.
    stream: bool,
}

/// How a table page lays out its columns, as Datasette does: a table's first column links
/// to each row, showing its single primary key in place of that column, or a "Link" column
/// for rowid and compound keys; views have no link column.
struct TableGrid<'a> {
    /// Positions of the key columns among the page's columns.
    key_indexes: Vec<usize>,
    /// Each column's CSS class, and the foreign key it holds (one to a table this actor may
    /// see), worked out once for the page rather than for every cell.
    css: Vec<String>,
    keys: Vec<Option<&'a crate::db::ForeignKey>>,
    /// Each column's unit in metadata.
    units: Vec<Option<&'a str>>,
    /// Whether a "Link" column comes first (rowid and compound keys).
    link_column: bool,
    /// The single declared key that heads the table in place of its own column.
    lead_key: Option<usize>,
    /// The page's columns in display order: the lead key first, if any.
    order: Vec<usize>,
    /// The table's URL, which each row's link extends.
    table_url: String,
}

impl<'a> TableGrid<'a> {
    fn of(ctx: &PageRequest, data: &'a TablePage) -> TableGrid<'a> {
        let keyed = !data.html.key_columns.is_empty();
        let single = data.primary_keys.len() == 1;
        let key_indexes = data.html.key_indexes.clone();
        let lead_key = key_indexes.first().copied().filter(|_| keyed && single);
        let rest = (0..data.columns.len()).filter(|i| Some(*i) != lead_key);
        TableGrid {
            css: data
                .columns
                .iter()
                .map(|c| super::cells::css_class(c))
                .collect(),
            keys: data
                .columns
                .iter()
                .map(|c| data.html.outgoing.iter().find(|fk| fk.column == *c))
                .collect(),
            units: data
                .columns
                .iter()
                .map(|c| data.units.get(c).map(String::as_str))
                .collect(),
            link_column: keyed && !single,
            order: lead_key.into_iter().chain(rest).collect(),
            lead_key,
            key_indexes,
            table_url: ctx.table_url(&data.database, &data.table),
        }
    }

    fn headers(&self, ctx: &PageRequest, data: &TablePage) -> Vec<Header> {
        let extras = &data.html;
        // Without a sort of its own, a table with one key is in that key's order.
        let sort = extras
            .sort
            .clone()
            .or_else(|| match extras.key_columns.as_slice() {
                [key] => Some(crate::db::table_query::Sort {
                    column: key.clone(),
                    desc: false,
                }),
                _ => None,
            });
        let link = self
            .link_column
            .then(|| Header::plain("Link", &HashMap::new(), &[]));
        let columns = self.order.iter().map(|&i| {
            let c = &data.columns[i];
            let sortable = extras.sortable.contains(c) || c == "rowid";
            // Datasette's links: the ascending column's sorts descending, others ascending.
            let (param, other, arrow) = match sort.as_ref().filter(|s| s.column == *c) {
                Some(s) if !s.desc => ("_sort_desc", "_sort", "\u{a0}\u{25bc}"),
                Some(_) => ("_sort", "_sort_desc", "\u{a0}\u{25b2}"),
                None => ("_sort", "_sort_desc", ""),
            };
            Header {
                sort_href: sortable.then(|| {
                    ctx.path_with_replaced(&[
                        (param, Some(c.clone())),
                        (other, None),
                        ("_next", None),
                    ])
                }),
                arrow: if sortable { arrow } else { "" },
                description: extras.meta.as_ref().and_then(|m| m.columns.get(c).cloned()),
                ..Header::plain(c, &extras.declared, &extras.key_columns)
            }
        });
        link.into_iter().chain(columns).collect()
    }

    fn row<'r>(
        &'r self,
        ctx: &PageRequest,
        data: &TablePage,
        row: &'r [Cell],
        plugin_html: impl Fn(usize) -> Option<String>,
        truncate: usize,
    ) -> Vec<CellView<'r>> {
        let extras = &data.html;
        let row_href = (!self.key_indexes.is_empty()).then(|| {
            let pk: Vec<String> = self
                .key_indexes
                .iter()
                .map(|&i| tilde_encode(&row[i].to_plain_string()))
                .collect();
            format!("{}/{}", self.table_url, pk.join(","))
        });
        let row_link = |text: &str| match &row_href {
            Some(href) => format!("<a href=\"{}\">{}</a>", escape(href), escape(text)),
            None => escape(text),
        };
        let mut cells = Vec::with_capacity(row.len() + 1);
        if self.link_column {
            let label: Vec<String> = self
                .key_indexes
                .iter()
                .map(|&i| row[i].to_plain_string())
                .collect();
            cells.push(CellView {
                css: "Link".into(),
                kind: "pk",
                html: row_link(&label.join(",")).into(),
            });
        }
        for &i in &self.order {
            let (column, cell) = (&data.columns[i], &row[i]);
            let css = std::borrow::Cow::Borrowed(self.css[i].as_str());
            if Some(i) == self.lead_key {
                let html = row_link(&cell.to_plain_string()).into();
                cells.push(CellView {
                    css,
                    kind: "pk",
                    html,
                });
                continue;
            }
            let html = plugin_html(i).map(CellHtml::from).unwrap_or_else(|| {
                if let (Cell::Blob(b), Some(href)) = (cell, &row_href) {
                    return super::blob::link_html(&super::blob::row_href(href, column), b.len())
                        .into();
                }
                let Some(fk) = self.keys[i].filter(|_| !cell.is_null()) else {
                    return super::cells::value_html(cell, self.units[i], truncate);
                };
                let value = cell.to_plain_string();
                match extras.labels.get(&(column.clone(), value.clone())) {
                    Some(label) => {
                        let href = format!(
                            "{}/{}",
                            ctx.table_url(&data.database, &fk.other_table),
                            tilde_encode(&value)
                        );
                        super::cells::foreign_key_html(&href, &value, label).into()
                    }
                    None => CellHtml::Plain { cell, truncate },
                }
            });
            cells.push(CellView {
                css,
                kind: super::cells::type_name(cell),
                html,
            });
        }
        cells
    }
}

pub fn table_page(
    state: &AppState,
    ctx: &PageRequest,
    data: &TablePage,
) -> Result<String, AppError> {
    let mut chrome = page_chrome(
        state,
        ctx,
        View {
            kind: "table",
            database: Some(&data.database),
            table: Some(&data.table),
            ..View::default()
        },
    );
    // Datasette's table.js (and plugins' scripts) read this to offer "Facet by this".
    chrome.body_scripts.insert(
        0,
        format!("DATASETTE_ALLOW_FACET = {};", state.settings.allow_facet),
    );
    let extras = &data.html;
    let view = View {
        kind: "table",
        database: Some(&data.database),
        table: Some(&data.table),
        row: None,
    };
    let rendered = rendered_cells(state, ctx, view, &data.columns, &data.rows.rows);
    let grid = TableGrid::of(ctx, data);
    let truncate = state.settings.truncate_cells_html as usize;
    let rows = data
        .rows
        .rows
        .iter()
        .enumerate()
        .map(|(r, row)| grid.row(ctx, data, row, |i| rendered.get(&(r, i)).cloned(), truncate))
        .collect();
    let headers = grid.headers(ctx, data);
    // Datasette's order on the page: most values first, then by name, both descending.
    let mut by_size: Vec<_> = data.facet_results.values().collect();
    by_size.sort_by(|a, b| (b.results.len(), &b.name).cmp(&(a.results.len(), &a.name)));
    let facets = by_size
        .into_iter()
        .map(|f| FacetView {
            name: f.name.clone(),
            css: super::cells::css_class(&f.name),
            kind: match f.kind {
                crate::db::facets::FacetKind::Column => String::new(),
                other => format!(" ({})", other.name()),
            },
            hide_href: f.hideable.then(|| f.toggle_url.clone()),
            values: f
                .results
                .iter()
                .map(|v| FacetValueView {
                    label: match v.label.to_plain_string() {
                        l if l.is_empty() => "-".into(),
                        l => l,
                    },
                    href: v.toggle_url.clone(),
                    count: format_count(v.count),
                    selected: v.selected,
                })
                .collect(),
            truncated: f.truncated,
            more_href: (ctx.arg("_facet_size") != Some("max"))
                .then(|| ctx.path_with_replaced(&[("_facet_size", Some("max".into()))])),
        })
        .collect();
    let extra_wheres = extras
        .wheres
        .iter()
        .map(|w| (w.clone(), ctx.path_with_removed(&[("_where", w)])))
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
    let json_href = with_ext(".json");
    let shape = |s: &str| match json_href.contains('?') {
        true => format!("{json_href}&{s}"),
        false => format!("{json_href}?{s}"),
    };
    let mut json_shapes = vec![
        ("default", json_href.clone()),
        ("array", shape("_shape=array")),
        ("newline-delimited", shape("_shape=array&_nl=on")),
    ];
    if !data.primary_keys.is_empty() {
        json_shapes.push(("object", shape("_shape=object")));
    }
    // Datasette's CSV link: every row (`_size=max`), with labels where there are keys.
    let labels = !data.expandable_columns.is_empty();
    let mut csv_extra: Vec<(String, String)> = vec![("_size".into(), "max".into())];
    if labels {
        csv_extra.push(("_labels".into(), "on".into()));
    }
    let csv_args: Vec<(String, String)> = ctx
        .args
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "_size" | "_labels"))
        .cloned()
        .chain(csv_extra)
        .collect();
    let csv_hidden = ctx
        .args
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "_labels" | "_facet" | "_size"))
        .cloned()
        .chain([("_size".to_string(), "max".to_string())])
        .collect();
    let export = ExportBox {
        json_shapes,
        csv_path: format!("{table_href}.csv"),
        csv_hidden,
        labels,
        stream: extras.next_path.is_some() && state.settings.allow_csv_stream,
    };
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
        description: extras.meta.as_ref().and_then(|m| description_html(&m.info)),
        table: data.table.clone(),
        is_view: data.is_view,
        private: data.private,
        count_text,
        headers,
        rows,
        facets,
        form: FilterForm::of(ctx, data, &grid),
        extra_wheres,
        next_href: extras.next_path.clone(),
        formats: format_links(state, &data.rows.columns, |ext| {
            with_ext(&format!(".{ext}"))
        }),
        json_href,
        csv_href: path_with_query(&format!("{table_href}.csv"), &csv_args),
        sql_href,
        db_css: super::cells::css_class(&data.database),
        table_css: super::cells::css_class(&data.table),
        column_descriptions: extras
            .meta
            .as_ref()
            .map(|m| m.columns.clone().into_iter().collect())
            .unwrap_or_default(),
        export,
        definition: extras.definition.clone(),
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
    headers: Vec<Header>,
    cells: Vec<CellView<'a>>,
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
    let row = data.rows.rows.first().cloned().unwrap_or_default();
    let rendered = rendered_cells(state, ctx, view, &data.columns, &data.rows.rows);
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
                q.title
                    .clone()
                    .unwrap_or_else(|| format!("{}: {}", data.database, q.name))
            })
            .unwrap_or_else(|| data.database.clone()),
        description: canned.and_then(|q| q.description.as_deref().map(escape)),
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
) -> Result<String, AppError> {
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let view = View {
        kind: "special",
        ..View::default()
    };
    page(&PermissionsTemplate {
        chrome: &page_chrome(state, ctx, view),
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
