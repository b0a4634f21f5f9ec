//! `/DB?sql=…` and canned queries: read-only SQL with `:named` parameters.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::http::StatusCode;
use indexmap::IndexMap;
use serde::Serialize;

use super::export::{self, Export, QueryRows};
use super::templates::{
    description_html, footer, format_links, page_chrome, Footer, RenderedCells,
};
use super::{PageRequest, Reply};
use crate::app::AppState;
use crate::app::View;
use crate::config::CannedQuery;
use crate::db::{self as sqlite, Cell, Database, DbError};
use crate::error::AppError;
use crate::render::html::Chrome;
use crate::render::json::{bare_shape, JsonRows, Shape};
use crate::render::{csv, html, json, Format};
use crate::urls::path_with_query;
use askama::Template;

#[derive(Serialize)]
pub struct QueryInfo {
    pub sql: String,
    pub params: IndexMap<String, String>,
}

#[derive(Serialize)]
pub struct QueryPage {
    pub ok: bool,
    pub database: String,
    pub query_name: Option<String>,
    pub rows: JsonRows,
    pub truncated: bool,
    pub columns: Vec<String>,
    pub query: QueryInfo,
    pub error: Option<String>,
    pub private: bool,
    pub allow_execute_sql: bool,
    pub query_ms: f64,
    #[serde(flatten)]
    pub links: IndexMap<&'static str, String>,
    #[serde(skip)]
    pub canned: Option<CannedQuery>,
    /// For a writable canned query: its form's CSRF token, `None` when it cannot run here.
    #[serde(skip)]
    pub write_token: Option<String>,
}

pub async fn sql_page(
    state: &AppState,
    ctx: &PageRequest,
    db: &Arc<Database>,
) -> Result<Reply, AppError> {
    let sql = ctx.arg("sql").unwrap_or("").to_string();
    run(state, ctx, db, sql, None).await
}

pub async fn canned_page(
    state: &AppState,
    ctx: &PageRequest,
    db: &Arc<Database>,
    q: &CannedQuery,
) -> Result<Reply, AppError> {
    if q.write {
        return write_form(state, ctx, db, q).await;
    }
    run(state, ctx, db, q.sql.clone(), Some(q.clone())).await
}

/// A writable canned query's page: its form, never its SQL run (that takes a POST).
async fn write_form(
    state: &AppState,
    ctx: &PageRequest,
    db: &Arc<Database>,
    q: &CannedQuery,
) -> Result<Reply, AppError> {
    if matches!(ctx.format, Format::Csv | Format::Blob)
        || ctx.renderer.is_some()
        || ctx.flag("_stream")
    {
        return Err(AppError::BadRequest(
            "This query writes: it runs from its form, as a POST".into(),
        ));
    }
    let magic = super::magic::parameters(&q.sql, ctx);
    let (names, error) = match &q.params {
        Some(declared) => (declared.clone(), None),
        None => match db.parameters(q.sql.clone()).await {
            Ok(names) => (names, None),
            Err(e @ (DbError::Sql(_) | DbError::Refused(_))) => (vec![], Some(e.to_string())),
            Err(e) => return Err(e.into()),
        },
    };
    let params = form_params(ctx, names, &magic);
    let request = ctx.request.as_ref();
    // The token's cookie is set even where the form is disabled (an immutable file), as
    // Datasette does: a POST then meets the immutable file's refusal, not a missing token's.
    let (token, cookie) = match request {
        Some(req) => {
            let (token, cookie) = super::csrf::token(state, req);
            (Some(token), cookie)
        }
        None => (None, None),
    };
    let write_token = token.filter(|_| db.writable());
    let data = QueryPage {
        ok: error.is_none(),
        database: db.name.clone(),
        query_name: Some(q.name.clone()),
        rows: JsonRows::default(),
        truncated: false,
        columns: vec![],
        query: QueryInfo {
            sql: q.sql.clone(),
            params,
        },
        error,
        private: !state.permissions.can_view_query(&None, &db.name, &q.name),
        allow_execute_sql: state.permissions.can_execute_sql(&ctx.actor, &db.name),
        query_ms: ctx.elapsed_ms(),
        links: state
            .metadata
            .inherited_links(Some(&db.name), Some(&q.info))
            .into_iter()
            .collect(),
        canned: Some(q.clone()),
        write_token,
    };
    if ctx.format == Format::Json {
        return Ok(json::response(StatusCode::OK, &data)?.into());
    }
    let no_rows = Default::default();
    let mut r = html::ok(query_page(state, ctx, &data, &no_rows, "")?);
    if let Some(cookie) = cookie {
        r.add_cookie(&cookie)
            .map_err(|e| AppError::Internal(e.to_string()))?;
    }
    super::private_to_visitor(&mut r);
    Ok(r.into())
}

async fn run(
    state: &AppState,
    ctx: &PageRequest,
    db: &Arc<Database>,
    sql: String,
    canned: Option<CannedQuery>,
) -> Result<Reply, AppError> {
    let shape = query_shape(ctx)?;
    // A JSON client gets Datasette's error answer, titled "Invalid SQL", for SQL that is not a
    // read; a browser gets the query's page with its form, to mend it.
    let not_a_read =
        canned.is_none() && !sql.trim().is_empty() && !sqlite::access::begins_as_read(&sql);
    if not_a_read && ctx.format == Format::Json {
        return Err(AppError::InvalidSql(sqlite::access::NOT_A_SELECT.into()));
    }
    let schema = db.schema().await?;
    let access = state.access(&ctx.actor, &db.name, &schema);
    let access = state.with_attached(&ctx.actor, db, access).await?;
    let max = state.settings.max_returned_rows as usize;
    let limit = ctx.sql_limit(&state.settings)?;
    // A canned query may list its parameters; otherwise SQLite says which the SQL takes.
    let declared = canned.as_ref().and_then(|c| c.params.clone());
    let (given, magic) = given_values(ctx, &sql, canned.is_some());
    let file_name = canned
        .as_ref()
        .map_or(db.name.as_str(), |q| q.name.as_str());
    if let Some(export) = Export::requested(ctx, &state.settings, file_name)? {
        let rows = QueryRows {
            sql,
            declared,
            values: given,
            from_request: canned.is_none(),
        };
        let response = export::query(db.clone(), access, limit, rows, export).await?;
        return Ok(response.into());
    }
    let result = if sql.trim().is_empty() {
        Ok((
            declared.clone().unwrap_or_default(),
            sqlite::Rows::default(),
        ))
    } else {
        let (sql, declared) = (sql.clone(), declared.clone());
        let from_request = canned.is_none();
        db.run(limit, access, move |c| {
            if from_request {
                c.check_request_sql(&sql)?;
            }
            let value = |name: &str| super::magic::parameter_value(&given, name, from_request);
            sqlite::select_named(c, &sql, declared, value, max)
        })
        .await
    };
    let (names, rows, error) = match result {
        Ok((names, rows)) => (names, rows, None),
        Err(e @ (DbError::Sql(_) | DbError::Refused(_) | DbError::Interrupted(_))) => (
            declared.unwrap_or_default(),
            sqlite::Rows::default(),
            Some(e.to_string()),
        ),
        Err(e) => return Err(e.into()),
    };
    let params = form_params(ctx, names, &magic);
    let forms = super::cell_forms(ctx, &rows.columns);
    let data = QueryPage {
        ok: error.is_none(),
        database: db.name.clone(),
        query_name: canned.as_ref().map(|c| c.name.clone()),
        truncated: rows.truncated,
        columns: rows.columns.clone(),
        rows: JsonRows {
            columns: rows.columns,
            rows: rows.rows,
            as_objects: shape == Shape::Objects,
            forms,
        },
        query: QueryInfo { sql, params },
        error,
        private: match &canned {
            Some(q) => !state.permissions.can_view_query(&None, &db.name, &q.name),
            None => !state.permissions.can_execute_sql(&None, &db.name),
        },
        allow_execute_sql: state.permissions.can_execute_sql(&ctx.actor, &db.name),
        query_ms: ctx.elapsed_ms(),
        links: state
            .metadata
            .inherited_links(Some(&db.name), canned.as_ref().map(|q| &q.info))
            .into_iter()
            .collect(),
        canned,
        write_token: None,
    };
    reply(state, ctx, &data, shape).await
}

/// The shape a query's JSON is asked in: any but `object`, which needs a table's keys.
fn query_shape(ctx: &PageRequest) -> Result<Shape, AppError> {
    match Shape::parse(ctx.arg("_shape"))? {
        Shape::Object => Err(AppError::BadRequest(
            "_shape=object is only available on tables".into(),
        )),
        shape => Ok(shape),
    }
}

/// The query's form: each parameter the SQL takes with its value from the query string, less
/// the magic parameters, which are not the visitor's to fill in.
fn form_params(
    ctx: &PageRequest,
    names: Vec<String>,
    magic: &HashMap<String, Cell>,
) -> IndexMap<String, String> {
    names
        .into_iter()
        .filter(|n| !magic.contains_key(n))
        .map(|n| {
            let v = ctx.arg(&n).unwrap_or("").to_string();
            (n, v)
        })
        .collect()
}

/// The values the query string gives, and a canned query's magic parameters (which come from
/// the request, never the query string), the latter winning.
fn given_values(
    ctx: &PageRequest,
    sql: &str,
    canned: bool,
) -> (HashMap<String, Cell>, HashMap<String, Cell>) {
    let mut given: HashMap<String, Cell> = HashMap::new();
    for (k, v) in &ctx.args {
        given
            .entry(k.clone())
            .or_insert_with(|| Cell::Text(v.clone()));
    }
    let magic = match canned {
        true => super::magic::parameters(sql, ctx),
        false => HashMap::new(),
    };
    given.extend(magic.clone());
    (given, magic)
}

/// The query's page in the format asked for; a failed query is a 400 in every format.
async fn reply(
    state: &AppState,
    ctx: &PageRequest,
    data: &QueryPage,
    shape: Shape,
) -> Result<Reply, AppError> {
    let status = if data.ok {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    if ctx.renderer.is_some() && data.ok {
        let view = crate::app::View {
            kind: "query",
            database: Some(&data.database),
            table: data.query_name.as_deref(),
            row: None,
        };
        return super::plugin_output(state, ctx, view, &data.rows, &data.query.sql).await;
    }
    match (ctx.format, shape) {
        (_, _) if !data.ok && ctx.format != Format::Html => {
            Ok(json::response(status, data)?.into())
        }
        (Format::Blob, _) => Ok(super::blob::download(ctx, &data.rows, None, None)?.into()),
        (Format::Csv, _) => {
            let name = data.query_name.as_deref().unwrap_or(&data.database);
            let options = super::csv_options(ctx, name);
            let page_url = match &data.query_name {
                Some(q) => ctx.table_url(&data.database, q),
                None => ctx.db_url(&data.database),
            };
            let rows = super::blob::csv_rows(ctx, &data.rows, |_, column, value| {
                Some(super::blob::query_href(ctx, &page_url, column, value))
            });
            Ok(csv::response(&data.rows.columns, &rows, options)?.into())
        }
        (Format::Json, Shape::Array | Shape::ArrayFirst) => {
            Ok(bare_shape(shape, ctx.flag("_nl"), &data.rows, None)?.into())
        }
        (Format::Json, _) => Ok(json::response(status, data)?.into()),
        (Format::Html, _) if ctx.show_context => {
            Ok(html::with_status(status, super::context_page(data)?).into())
        }
        (Format::Html, _) => {
            let view = crate::app::View {
                kind: "query",
                database: Some(&data.database),
                table: data.query_name.as_deref(),
                row: None,
            };
            let rendered =
                super::templates::rendered_cells(state, ctx, view, &data.columns, &data.rows.rows)
                    .await?;
            let schema = match data.canned.is_none() && data.allow_execute_sql {
                true => super::database::editor_schema(state, ctx, &data.database),
                false => String::new(),
            };
            let html = query_page(state, ctx, data, &rendered, &schema)?;
            Ok(html::with_status(status, html).into())
        }
    }
}

// ---- HTML: this page's template and its adapter ----

#[derive(Template)]
#[template(path = "query.html", blocks = ["title", "content", "footer"])]
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
    /// The tables' columns as the SQL editor completes them (see `database::editor_schema`).
    schema: String,
}

crate::views::site_templates::page_blocks!(QueryTemplate);

impl QueryTemplate<'_> {
    /// The SQL box's height in lines, as Datasette sizes it: two more than the SQL has.
    fn sql_height(&self) -> usize {
        self.sql.split('\n').count() + 2
    }
}

/// Whether the query's SQL is shown, the link that flips it (its href and "show" or "hide"),
/// and the hidden field that keeps it. Datasette's rules: metadata's `hide_sql` is undone by
/// `_show_sql`; SQL shown otherwise is hidden by `_hide_sql`.
fn sql_shown(
    ctx: &PageRequest,
    canned: Option<&CannedQuery>,
) -> (bool, (String, &'static str), Option<&'static str>) {
    let flip = |key: &'static str, on: bool| match on {
        true => ctx.path_with_replaced(&[(key, None)]),
        false => ctx.path_with_replaced(&[(key, Some("1".into()))]),
    };
    let (key, on) = match canned.is_some_and(|q| q.hide_sql) {
        true => ("_show_sql", ctx.flag("_show_sql")),
        false => ("_hide_sql", ctx.flag("_hide_sql")),
    };
    let shown = on == (key == "_show_sql");
    let text = if shown { "hide" } else { "show" };
    (shown, (flip(key, on), text), on.then_some(key))
}

/// The result's cells as HTML, with their columns' classes: a plugin's rendering, a link to
/// download a binary value, or the plain value.
fn rows_html(
    ctx: &PageRequest,
    data: &QueryPage,
    rendered: &RenderedCells,
    action: &str,
    css_columns: &[(String, String)],
    truncate: usize,
) -> Vec<Vec<(String, String)>> {
    let rows = data.rows.rows.iter().enumerate();
    rows.map(|(r, row)| {
        let cell = |(i, c): (usize, &Cell)| {
            let html = match (rendered.get(&(r, i)), c) {
                (Some(html), _) => html.clone(),
                (None, Cell::Blob(b)) => super::blob::link_html(
                    &super::blob::query_href(ctx, action, &data.columns[i], c),
                    b.len(),
                ),
                (None, _) => super::cells::plain_html(c, truncate),
            };
            (css_columns[i].0.clone(), html)
        };
        row.iter().enumerate().map(cell).collect()
    })
    .collect()
}

pub fn query_page(
    state: &AppState,
    ctx: &PageRequest,
    data: &QueryPage,
    rendered: &RenderedCells,
    schema: &str,
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
    let (show_sql, show_hide, show_hide_field) = sql_shown(ctx, canned);
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
    let mut page = QueryTemplate {
        chrome: &chrome,
        schema: schema.to_string(),
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
        rows: rows_html(ctx, data, rendered, &action, &css_columns, truncate),
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
        footer: footer(&data.links, data.query_ms),
    };
    let db = data.database.as_str();
    let mut names = vec![
        crate::render::jinja::named("query", &[db]),
        "query.html".into(),
    ];
    if let Some(q) = canned {
        names.insert(0, crate::render::jinja::named("query", &[db, &q.name]));
    }
    let names = super::site_templates::Names {
        page: names,
        grid: vec![],
    };
    super::site_templates::draw(state, ctx, view, &names, &mut page, |page, vars| {
        let columns = &data.columns;
        vars.var("view_name", || "query".into())
            .var("rows", || {
                super::site_templates::row_dicts(columns, &data.rows.rows)
            })
            .var("canned_query", || {
                minijinja::Value::from_serialize(canned.map(|q| &q.name))
            })
            .var("hide_sql", || (!page.show_sql).into())
            .var("editable", || page.editable.into())
            .data(data)
    })
}
