//! `/DB/TABLE/PK`: one row, found by its primary key (or rowid).

use std::sync::Arc;

use indexmap::IndexMap;
use serde::Serialize;

use super::cells::CellView;
use super::templates::{
    footer, format_count, format_links, page_chrome, Footer, Header, IncomingView, RenderedCells,
};
use super::{site_templates, PageRequest, Reply};
use crate::app::AppState;
use crate::app::View;
use crate::db::table_query::ident;
use crate::db::{self as sqlite, next_token, Cell, Database, ForeignKey};
use crate::error::AppError;
use crate::render::html::Chrome;
use crate::render::json::{bare_shape, JsonRows, Shape};
use crate::render::{csv, Format};
use crate::urls::tilde_decode;
use crate::urls::tilde_encode;
use crate::views::write_api::forms::{delete_action, edit_form, RowForm};
use askama::Template;

#[derive(Serialize)]
pub struct RowPage {
    pub database: String,
    pub table: String,
    pub rows: JsonRows,
    pub columns: Vec<String>,
    pub primary_keys: Vec<String>,
    pub primary_key_values: Vec<String>,
    pub units: IndexMap<String, String>,
    pub query_ms: f64,
    #[serde(flatten)]
    pub links: IndexMap<&'static str, String>,
    /// Rows in other tables that point here: for the HTML page, and the JSON with
    /// Datasette's `_extras=foreign_key_tables`.
    #[serde(rename = "foreign_key_tables", skip_serializing_if = "Option::is_none")]
    pub incoming: Option<Vec<Incoming>>,
    /// Hidden from anonymous visitors: the HTML page shows a padlock.
    #[serde(skip)]
    pub private: bool,
    /// Each column's declared type, for the HTML page's headings.
    #[serde(skip)]
    pub declared: std::collections::HashMap<String, crate::db::Declared>,
}

/// Rows of another table that point to this row: which key, how many, and the page of them.
#[derive(Serialize)]
pub struct Incoming {
    pub other_table: String,
    pub column: String,
    pub other_column: String,
    pub count: i64,
    pub link: String,
}

impl Incoming {
    fn new(ctx: &PageRequest, db: &str, fk: &ForeignKey, count: i64, value: &str) -> Incoming {
        // A column starting with `_` reads as an option unless spelled as a filter.
        let key = match fk.other_column.starts_with('_') {
            true => format!("{}__exact", fk.other_column),
            false => fk.other_column.clone(),
        };
        Incoming {
            link: format!(
                "{}?{}={}",
                ctx.table_url(db, &fk.other_table),
                crate::urls::quote_plus(&key),
                crate::urls::quote_plus(value)
            ),
            other_table: fk.other_table.clone(),
            column: fk.column.clone(),
            other_column: fk.other_column.clone(),
            count,
        }
    }
}

pub async fn page(
    state: &AppState,
    ctx: &PageRequest,
    db: &Arc<Database>,
    table: &str,
    pk_segment: &str,
) -> Result<Reply, AppError> {
    let schema = db.schema().await?;
    let t = schema
        .tables
        .get(table)
        .ok_or_else(|| super::table_missing(state, ctx, &db.name))?;
    let access = state.access(&ctx.actor, &db.name, &schema);
    if !access.can_read(table) {
        return Err(super::table_forbidden());
    }
    let keys = t.key_columns();
    let values = key_values(pk_segment, keys.len())?;
    let shape = Shape::parse(ctx.arg("_shape"))?;
    let params: Vec<(String, Cell)> = values
        .iter()
        .enumerate()
        .map(|(i, v)| (format!("p{i}"), next_token::typed(v.clone())))
        .collect();
    let columns = t.row_columns();
    let sql = (t.row_lookup)
        .get_or_init(|| key_lookup_sql(&columns, table, &keys))
        .clone();
    let wanted = wants_incoming(ctx);
    let incoming: Vec<ForeignKey> = match wanted {
        // Links from other tables, counted only where this actor may see the other table.
        true => (t.incoming.iter())
            .filter(|fk| access.can_read(&fk.other_table))
            .cloned()
            .collect(),
        false => vec![],
    };
    let column_positions: Vec<Option<usize>> = incoming
        .iter()
        .map(|fk| columns.iter().position(|c| *c == fk.column))
        .collect();
    let limit = ctx.sql_limit(&state.settings)?;
    let row_sql = sql.clone();
    let by_key_alone = incoming.is_empty();
    let read = move |c: &sqlite::Conn| read_row(c, &row_sql, &params, &incoming, &column_positions);
    // A lookup by key alone is quicker on this thread; counting links from other tables may
    // take longer, so that goes to the blocking pool.
    let (rows, counts) = if by_key_alone {
        db.run_quick(limit, access.clone(), read).await?
    } else {
        db.run(limit, access.clone(), read).await?
    };
    if rows.rows.is_empty() {
        return Err(AppError::NotFound("Record not found".into()));
    }
    let incoming = wanted.then(|| {
        let value = values.join(",");
        counts
            .iter()
            .map(|(fk, n)| Incoming::new(ctx, &db.name, fk, *n, &value))
            .collect()
    });
    let data = RowPage {
        // For the HTML page's headings alone.
        declared: match ctx.format {
            Format::Html => t.declared.clone(),
            _ => Default::default(),
        },
        private: !state
            .public_access(&ctx.actor, &access, &db.name, &schema)
            .can_read(table),
        database: db.name.clone(),
        table: table.to_string(),
        rows: JsonRows {
            columns: columns.clone(),
            rows: rows.rows,
            as_objects: shape == Shape::Objects,
            forms: super::cell_forms(ctx, &columns),
        },
        columns,
        primary_keys: keys,
        primary_key_values: values,
        units: state
            .metadata
            .table(&db.name, table)
            .map(|m| m.units.clone())
            .unwrap_or_default(),
        query_ms: ctx.elapsed_ms(),
        links: state
            .metadata
            .inherited_links(
                Some(&db.name),
                state.metadata.table(&db.name, table).map(|t| &t.info),
            )
            .into_iter()
            .collect(),
        incoming,
    };
    reply(state, ctx, &data, shape, pk_segment, &sql).await
}

/// Whether the page shows the links from other tables: its HTML does, its JSON when
/// `_extras=foreign_key_tables` asks.
fn wants_incoming(ctx: &PageRequest) -> bool {
    (ctx.format == Format::Html && ctx.renderer.is_none())
        || ctx
            .arg("_extras")
            .is_some_and(|e| e.split(',').any(|x| x == "foreign_key_tables"))
}

/// The primary key values of a row's URL segment (`3,2024~2D01`), as many as the table has
/// key columns.
pub fn key_values(pk_segment: &str, keys: usize) -> Result<Vec<String>, AppError> {
    let values: Vec<String> = pk_segment
        .split(',')
        .map(tilde_decode)
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| {
            AppError::BadRequest(format!("'{pk_segment}' is not valid tilde-encoding"))
        })?;
    if values.len() != keys {
        return Err(AppError::NotFound("Record not found".into()));
    }
    Ok(values)
}

/// The row `sql` finds, and for each of `incoming` (whose column is at `positions` in the
/// row) how many rows of the other table point to it.
fn read_row(
    c: &sqlite::Conn,
    sql: &str,
    params: &[(String, Cell)],
    incoming: &[ForeignKey],
    positions: &[Option<usize>],
) -> Result<(sqlite::Rows, Vec<(ForeignKey, i64)>), sqlite::DbError> {
    let rows = sqlite::select(c, sql, params, 1, true)?;
    let mut counts = Vec::new();
    if let Some(row) = rows.rows.first() {
        for (fk, pos) in incoming.iter().zip(positions) {
            let Some(value) = pos.and_then(|p| row.get(p)).cloned() else {
                continue;
            };
            let count_sql = format!(
                "select count(*) from {} where {} = :v",
                ident(&fk.other_table),
                ident(&fk.other_column)
            );
            let n = sqlite::count(c, &count_sql, &[("v".into(), value)], true).unwrap_or(0);
            counts.push((fk.clone(), n));
        }
    }
    Ok((rows, counts))
}

/// `select COLUMNS from TABLE where KEY1 = :p0 and …`.
fn key_lookup_sql(columns: &[String], table: &str, keys: &[String]) -> String {
    format!(
        "select {} from {} where {}",
        columns
            .iter()
            .map(|c| ident(c))
            .collect::<Vec<_>>()
            .join(", "),
        ident(table),
        keys.iter()
            .enumerate()
            .map(|(i, k)| format!("{} = :p{i}", ident(k)))
            .collect::<Vec<_>>()
            .join(" and ")
    )
}

/// The row in the format asked for.
async fn reply(
    state: &AppState,
    ctx: &PageRequest,
    data: &RowPage,
    shape: Shape,
    pk_segment: &str,
    sql: &str,
) -> Result<Reply, AppError> {
    let table = data.table.as_str();
    if ctx.renderer.is_some() {
        let view = crate::app::View {
            kind: "row",
            database: Some(&data.database),
            table: Some(table),
            row: Some(pk_segment),
        };
        return super::plugin_output(state, ctx, view, &data.rows, sql).await;
    }
    match (ctx.format, shape) {
        (Format::Blob, _) => {
            Ok(super::blob::download(ctx, &data.rows, Some(table), Some(pk_segment))?.into())
        }
        (Format::Csv, _) => {
            let options = super::csv_options(ctx, table);
            Ok(csv::response(&data.rows.columns, &data.rows.rows, options)?.into())
        }
        (Format::Json, Shape::Array | Shape::ArrayFirst | Shape::Object) => {
            let keys: Vec<usize> = data
                .primary_keys
                .iter()
                .filter_map(|k| data.columns.iter().position(|c| c == k))
                .collect();
            Ok(bare_shape(shape, ctx.flag("_nl"), &data.rows, Some(&keys))?.into())
        }
        _ => {
            let view = crate::app::View {
                kind: "row",
                database: Some(&data.database),
                table: Some(table),
                row: Some(pk_segment),
            };
            let rows = &data.rows.rows;
            let rendered =
                super::templates::rendered_cells(state, ctx, view, &data.columns, rows).await?;
            super::respond(ctx, data, || row_page(state, ctx, data, &rendered))
        }
    }
}

// ---- HTML: this page's template and its adapter ----

#[derive(Template)]
#[template(path = "row.html", blocks = ["title", "content", "footer"])]
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
    edit_form: Option<RowForm>,
    delete_action: Option<String>,
    footer: Footer,
    /// The site's own `_table.html` for the row, rendered.
    grid: Option<String>,
}

crate::views::site_templates::page_blocks!(RowTemplate, grid);

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
    let headers: Vec<Header> = data
        .columns
        .iter()
        .map(|c| Header::plain(c, &data.declared, &data.primary_keys))
        .collect();
    let cells: Vec<CellView> = row
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
        .collect();
    let (db, table) = (data.database.as_str(), data.table.as_str());
    let raw = |_: usize, column: &str| -> serde_json::Value {
        let i = data.columns.iter().position(|c| c == column);
        i.and_then(|i| serde_json::to_value(&row[i]).ok())
            .unwrap_or_default()
    };
    let mut page = RowTemplate {
        chrome: &chrome,
        private: data.private,
        db: data.database.clone(),
        db_href: ctx.db_url(&data.database),
        table: data.table.clone(),
        table_href: ctx.table_url(&data.database, &data.table),
        key: data.primary_key_values.join(", "),
        headers,
        cells,
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
        edit_form: edit_form(
            state,
            ctx,
            (&data.database, &data.table, key_segment),
            editable_values(&data.columns, &row),
            &data.primary_keys,
        ),
        delete_action: delete_action(state, ctx, &data.database, &data.table, key_segment),
        footer: footer(&data.links, data.query_ms),
        grid: None,
    };
    let names = site_templates::Names::of_rows("row", db, table);
    site_templates::draw(state, ctx, view, &names, &mut page, |page, vars| {
        let cells = std::slice::from_ref(&page.cells);
        vars.var("view_name", || "row".into())
            .var("rows", || {
                site_templates::row_dicts(&data.columns, &data.rows.rows)
            })
            .var("display_columns", || {
                site_templates::display_columns(&page.headers)
            })
            .var("display_rows", || {
                site_templates::display_rows(&page.headers, cells, raw)
            })
            .data(data)
    })
}

/// The row's values as an edit form shows them: text, numbers; not BLOBs (no field holds one).
fn editable_values(columns: &[String], row: &[Cell]) -> Vec<(String, String)> {
    columns
        .iter()
        .zip(row)
        .filter_map(|(c, v)| {
            let text = match v {
                Cell::Null => String::new(),
                Cell::Int(n) => n.to_string(),
                Cell::Real(f) => crate::db::value::format_real(*f),
                Cell::Text(t) => t.clone(),
                Cell::Blob(_) => return None,
            };
            Some((c.clone(), text))
        })
        .collect()
}
