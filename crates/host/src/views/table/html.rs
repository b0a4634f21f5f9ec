//! The table page's HTML: Datasette's markup for its grid of rows, its filter form, its facets
//! and its export box, made from the page's data (`TablePage`).

use std::collections::HashMap;

use askama::Template;

use super::TablePage;
use crate::app::{AppState, View};
use crate::db::Cell;
use crate::error::AppError;
use crate::render::html::{escape, Chrome};
use crate::urls::{path_with_query, tilde_encode};
use crate::views::blob;
use crate::views::cells::{self, CellHtml, CellView};
use crate::views::site_templates;
use crate::views::templates::{
    description_html, footer, format_count, format_links, page_chrome, Footer, Header,
};
use crate::views::write_api::forms::{insert_form, RowForm};
use crate::views::PageRequest;

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

#[derive(Template)]
#[template(path = "table.html", blocks = ["title", "content", "footer"])]
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
    /// Facets that ran out of time and are being counted in the background.
    facets_later: &'a [super::FacetLater],
    /// Facets worth adding: (name, " (type)" unless a column's, the link that adds it).
    suggested: Vec<(String, String, String)>,
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
    insert_form: Option<RowForm>,
    footer: Footer,
    /// The site's own `_table.html` for the grid of rows, rendered.
    grid: Option<String>,
}

crate::views::site_templates::page_blocks!(TableTemplate, grid);

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
            css: data.columns.iter().map(|c| cells::css_class(c)).collect(),
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
                    return blob::link_html(&blob::row_href(href, column), b.len()).into();
                }
                let Some(fk) = self.keys[i].filter(|_| !cell.is_null()) else {
                    return cells::value_html(cell, self.units[i], truncate);
                };
                let value = cell.to_plain_string();
                match extras.labels.get(&(column.clone(), value.clone())) {
                    Some(label) => {
                        let href = format!(
                            "{}/{}",
                            ctx.table_url(&data.database, &fk.other_table),
                            tilde_encode(&value)
                        );
                        cells::foreign_key_html(&href, cell, label).into()
                    }
                    None => CellHtml::Plain { cell, truncate },
                }
            });
            cells.push(CellView {
                css,
                kind: cells::type_name(cell),
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
    rendered: &super::super::templates::RenderedCells,
) -> Result<String, AppError> {
    let view = View {
        kind: "table",
        database: Some(&data.database),
        table: Some(&data.table),
        ..View::default()
    };
    let mut chrome = page_chrome(state, ctx, view);

    // Datasette's table.js (and plugins' scripts) read this to offer "Facet by this".
    chrome.body_scripts.insert(
        0,
        format!("DATASETTE_ALLOW_FACET = {};", state.settings.allow_facet),
    );
    let extras = &data.html;
    let grid = TableGrid::of(ctx, data);
    let truncate = state.settings.truncate_cells_html as usize;
    let rows: Vec<Vec<CellView>> = data
        .rows
        .rows
        .iter()
        .enumerate()
        .map(|(r, row)| grid.row(ctx, data, row, |i| rendered.get(&(r, i)).cloned(), truncate))
        .collect();
    let headers = grid.headers(ctx, data);
    let facets = facet_views(ctx, data);
    let extra_wheres = extras
        .wheres
        .iter()
        .map(|w| (w.clone(), ctx.path_with_removed(&[("_where", w)])))
        .collect();
    let count_text = count_text(data);
    let sql_href = data.allow_execute_sql.then(|| {
        path_with_query(
            &ctx.db_url(&data.database),
            &[("sql".into(), data.query.sql.clone())],
        )
    });
    let table_href = ctx.table_url(&data.database, &data.table);
    let with_ext = |ext: &str| path_with_query(&format!("{table_href}{ext}"), &ctx.args);
    let json_href = with_ext(".json");
    let (export, csv_href) = export_box(state, ctx, data, &table_href, &json_href);
    let (db, table) = (data.database.as_str(), data.table.as_str());
    let raw = |r: usize, column: &str| -> serde_json::Value {
        let i = data.columns.iter().position(|c| c == column);
        i.and_then(|i| serde_json::to_value(&data.rows.rows[r][i]).ok())
            .unwrap_or_default()
    };
    let mut page = TableTemplate {
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
        facets_later: &extras.facets_later,
        suggested: data
            .suggested_facets
            .iter()
            .map(|s| {
                let href = format!("{}#facet-{}", s.toggle_url, cells::css_class(&s.facet.name));
                (s.facet.name.clone(), kind_suffix(s.facet.kind), href)
            })
            .collect(),
        form: FilterForm::of(ctx, data, &grid),
        extra_wheres,
        next_href: extras.next_path.clone(),
        formats: format_links(state, &data.rows.columns, |ext| {
            with_ext(&format!(".{ext}"))
        }),
        json_href,
        csv_href,
        sql_href,
        db_css: cells::css_class(&data.database),
        table_css: cells::css_class(&data.table),
        column_descriptions: extras
            .meta
            .as_ref()
            .map(|m| m.columns.clone().into_iter().collect())
            .unwrap_or_default(),
        export,
        definition: extras.definition.clone(),
        insert_form: (!data.is_view)
            .then(|| insert_form(state, ctx, &data.database, &data.table, &data.columns))
            .flatten(),
        footer: footer(&data.links, data.query_ms),
        grid: None,
    };
    let names = site_templates::Names::of_rows("table", db, table);
    let sort = |desc: bool| {
        let sort = extras.sort.as_ref().filter(|s| s.desc == desc);
        minijinja::Value::from_serialize(sort.map(|s| &s.column))
    };
    site_templates::draw(state, ctx, view, &names, &mut page, |page, vars| {
        vars.var("view_name", || "table".into())
            .var("rows", || {
                site_templates::row_dicts(&data.columns, &data.rows.rows)
            })
            .var("display_columns", || {
                site_templates::display_columns(&page.headers)
            })
            .var("display_rows", || {
                site_templates::display_rows(&page.headers, &page.rows, raw)
            })
            .var("sort", || sort(false))
            .var("sort_desc", || sort(true))
            .data(data)
    })
}

/// The page's facets, as Datasette orders them: most values first, then by name, both
/// descending.
fn facet_views(ctx: &PageRequest, data: &TablePage) -> Vec<FacetView> {
    let mut by_size: Vec<_> = data.facet_results.values().collect();
    by_size.sort_by(|a, b| (b.results.len(), &b.name).cmp(&(a.results.len(), &a.name)));
    by_size
        .into_iter()
        .map(|f| FacetView {
            name: f.name.clone(),
            css: cells::css_class(&f.name),
            kind: kind_suffix(f.kind),
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
        .collect()
}

/// "N rows" (or "Many rows", for a count given up on) and what the filters say.
fn count_text(data: &TablePage) -> String {
    let count = match data.filtered_table_rows_count {
        Some(n) => format!("{} row{}", format_count(n), if n == 1 { "" } else { "s" }),
        None => "Many rows".into(),
    } + &if data.human_description_en.is_empty() {
        String::new()
    } else {
        format!(" {}", data.human_description_en)
    };
    count
}

/// The export box (JSON shapes, CSV options) and the CSV link: Datasette's CSV link asks for
/// every row (`_size=max`), with labels where there are keys.
fn export_box(
    state: &AppState,
    ctx: &PageRequest,
    data: &TablePage,
    table_href: &str,
    json_href: &str,
) -> (ExportBox, String) {
    let shape = |s: &str| match json_href.contains('?') {
        true => format!("{json_href}&{s}"),
        false => format!("{json_href}?{s}"),
    };
    let mut json_shapes = vec![
        ("default", json_href.to_string()),
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
        stream: data.html.next_path.is_some() && state.settings.allow_csv_stream,
    };
    (
        export,
        path_with_query(&format!("{table_href}.csv"), &csv_args),
    )
}

/// How a facet's kind follows its name: nothing for a column's, " (array)", " (date)".
fn kind_suffix(kind: crate::db::facets::FacetKind) -> String {
    match kind {
        crate::db::facets::FacetKind::Column => String::new(),
        other => format!(" ({})", other.name()),
    }
}
