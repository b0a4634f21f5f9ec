//! The pages. Each view builds its page's data; `render` turns it into HTML, JSON or CSV.

mod auth;
mod blob;
pub mod cells;
mod conditional;
mod create_token;
mod csrf;
pub mod database;
mod download;
pub mod error_pages;
mod export;
mod health;
pub mod index;
mod magic;
pub mod messages;
pub mod mounts;
mod page;
mod page_request;
pub mod plugin;
mod plugin_body;
pub mod query;
pub mod row;
mod site_templates;
mod special;
pub mod table;
pub mod templates;
mod write;
pub mod write_api;

use std::sync::Arc;

use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use serde::Serialize;

use crate::app::AppState;
use crate::db::Database;
use crate::error::AppError;
use crate::render::html;
use crate::render::Format;
use crate::urls;
use conditional::Caching;
pub use page::Page;
pub use page_request::PageRequest;

/// A view's answer.
pub enum Reply {
    Response(HttpResponse),
    Redirect(String),
}

impl From<HttpResponse> for Reply {
    fn from(r: HttpResponse) -> Self {
        Reply::Response(r)
    }
}

/// The host's routes, each plugin route, then everything else through [`dispatch`].
pub fn configure(cfg: &mut web::ServiceConfig, state: &AppState) {
    for path in state.plugins.routes() {
        cfg.route(&path, web::route().to(plugin::handle));
    }
    mounts::configure(cfg, &state.settings.static_mounts);
    cfg.route("/-/health", web::get().to(health::page))
        .route("/-/metrics", web::get().to(health::metrics))
        .route(
            "/favicon.ico",
            web::get().to(crate::render::assets::favicon),
        )
        .route(
            "/-/static/{name}",
            web::get().to(crate::render::assets::static_file),
        )
        .route("/-/auth-token", web::get().to(auth::root_token))
        .route("/-/logout", web::get().to(auth::logout_page))
        .route("/-/logout", web::post().to(auth::logout))
        .route("/-/create-token", web::get().to(create_token::page))
        .route("/-/create-token", web::post().to(create_token::create))
        .default_service(web::to(dispatch));
}

/// Longer URLs are refused before any work is done with them.
const MAX_URL_BYTES: usize = 32 << 10;

/// Routes every request that no plugin route took.
pub async fn dispatch(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    // One leading slash: every URL built from the path stays on this site (`//host/…` in a
    // Location header would send the browser to another one).
    let path = format!("/{}", req.uri().path().trim_start_matches('/'));
    if path.len() + req.query_string().len() > MAX_URL_BYTES {
        return Err(AppError::UriTooLong(format!(
            "The URL is longer than {} KiB: send shorter SQL or fewer filters",
            MAX_URL_BYTES >> 10
        )));
    }
    use actix_web::http::Method;
    let posted = *req.method() == Method::POST;
    let options = *req.method() == Method::OPTIONS;
    if !posted && !options && !matches!(*req.method(), Method::GET | Method::HEAD) {
        return Ok(not_allowed());
    }
    let mut ctx = page_request(&req, &state, path);
    let page = match ctx.page(&**state) {
        // The write API answers in its own JSON, whatever was wrong with the URL.
        Err(e) if write_api::is_write_path(&ctx.path) => {
            return Ok(write_api::ApiError::from(e).response())
        }
        Err(AppError::NotFound(m)) => {
            if !posted && !options {
                if let Some(answer) = site_templates::custom_page(&state, &ctx).await {
                    let mut r = answer?;
                    if req.extensions().contains::<messages::Shown>() {
                        private_to_visitor(&mut r);
                    }
                    return Ok(r);
                }
            }
            return not_found_redirect(&req, &ctx).ok_or(AppError::NotFound(m));
        }
        page => page?,
    };
    if options {
        return Ok(self::options(&page));
    }
    if !page.has_json() {
        ctx.alternate_json = None;
    }
    req.extensions_mut().insert(page.kind());
    page::admit(&state, &ctx.actor, page.gate()).await?;
    match &page {
        Page::Database(db) | Page::Row { db, .. } => {
            state.prepare_accesses(&ctx.actor, db, true).await
        }
        Page::Sql(db) | Page::Canned { db, .. } => {
            state.prepare_accesses(&ctx.actor, db, false).await
        }
        // A table page asks about its own table alone, unless whole accesses are kept.
        Page::Table { db, .. } if state.access_cache.is_some() => {
            state.prepare_accesses(&ctx.actor, db, false).await
        }
        _ => {}
    }
    if posted {
        return post(&req, &state, &ctx, &page, payload).await;
    }
    if page.writes() {
        return Ok(write_api::ApiError::new(
            actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
            "The write API takes a POST",
        )
        .response());
    }
    respond_to_get(&req, &state, &ctx, &page).await
}

/// A POST: to the write API, or to a writable canned query.
async fn post(
    req: &HttpRequest,
    state: &AppState,
    ctx: &PageRequest,
    page: &Page,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let limit = state.settings.max_post_body_bytes;
    let body = if write_api::declared_too_large(req, limit) {
        Err(write_api::too_large(limit))
    } else {
        write_api::read_body(payload, limit).await
    };
    if page.writes() {
        return Ok(match body {
            Ok(body) if write_api::forms::is_form(req, &body) => {
                write_api::forms::post(state, ctx, page, &body).await
            }
            Ok(body) => write_api::post(state, ctx, page, &body).await,
            Err(e) => write_api::ApiError::from(e).response(),
        });
    }
    Ok(match writable_query(state, page) {
        Some((db, q)) => reply(write::post(state, ctx, &db, q, &body?).await?),
        None => not_allowed(),
    })
}

/// What the request asks for, read once for every page.
fn page_request(req: &HttpRequest, state: &AppState, path: String) -> PageRequest {
    let format = Format::split(path.rsplit('/').next().unwrap_or("")).1;
    let renderer = path
        .rsplit('/')
        .next()
        .and_then(|last| last.rsplit_once('.'))
        .map(|(_, ext)| ext)
        .filter(|ext| format == Format::Html && state.plugins.renders(ext))
        .map(str::to_string);
    let origin = state.origin(req);
    let base = state.settings.prefix().to_string();
    let alternate_json =
        (format == Format::Html && renderer.is_none()).then(|| match req.query_string() {
            "" => format!("{origin}{base}{path}.json"),
            query => format!("{origin}{base}{path}.json?{query}"),
        });
    let mut ctx = PageRequest {
        actor: state.actor(req),
        format,
        renderer,
        args: urls::parse_query(req.query_string()),
        path,
        base,
        origin,
        alternate_json,
        started: std::time::Instant::now(),
        request: Some(req.clone()),
        show_context: false,
    };
    ctx.show_context = state.settings.template_debug && ctx.flag("_context");
    ctx
}

/// A GET or HEAD of a page whose gate was passed: its answer, or "not modified".
async fn respond_to_get(
    req: &HttpRequest,
    state: &AppState,
    ctx: &PageRequest,
    page: &Page,
) -> Result<HttpResponse, AppError> {
    // Not for SQL (it may not give the same answer twice: `random()`, `datetime('now')`), nor
    // for a streamed export (a failure part-way still ends as a 200).
    let caching = (!page.runs_sql() && !ctx.flag("_stream"))
        .then(|| Caching::of(state, req, ctx, page.database()));
    if let Some(c) = caching.as_ref().filter(|c| c.not_modified(req)) {
        return Ok(c.unchanged());
    }
    let mut answer = self::answer(state, ctx, page).await;
    // A file renamed into place, or its tables changed, while the request ran: the page is
    // worked out once more from the new schema rather than failed.
    if matches!(&answer, Err(AppError::Stale(_))) {
        state.databases.values().for_each(|db| db.recheck_schema());
        answer = self::answer(state, ctx, page).await;
    }
    let mut r = match answer {
        Err(AppError::NotFound(m)) => {
            return not_found_redirect(req, ctx).ok_or(AppError::NotFound(m))
        }
        answer => reply(answer?),
    };
    if r.status() == actix_web::http::StatusCode::OK {
        if let Some(c) = &caching {
            c.apply(&mut r);
        }
        alternate_link(&mut r, ctx);
    }
    if req.extensions().contains::<messages::Shown>() {
        private_to_visitor(&mut r);
    }
    Ok(r)
}

/// Datasette's second chances for a path that names nothing: one with percent-encoding is
/// tried again tilde-encoded (`table%2Fname` → `table~2Fname`), one with a trailing slash
/// without it, and the in-memory database's old name `/:memory:` is now `/_memory` (for
/// good: a 301). The new path comes from this one alone, so it stays on this site.
fn not_found_redirect(req: &HttpRequest, ctx: &PageRequest) -> Option<HttpResponse> {
    let raw = format!("/{}", req.uri().path().trim_start_matches('/'));
    let mut status = HttpResponse::Found();
    let path = if let Some(rest) = raw.strip_prefix("/:memory:") {
        status = HttpResponse::MovedPermanently();
        format!("/{}{rest}", crate::app::MEMORY)
    } else if raw.contains('%') {
        raw.replace('~', "~7E")
            .replace('%', "~")
            .replace('.', "~2E")
    } else if raw.len() > 1 && raw.ends_with('/') {
        // Backslashes too: browsers read `/\host` as `//host`, another site.
        format!("/{}", raw.trim_matches(['/', '\\']))
    } else {
        return None;
    };
    let to = match req.query_string() {
        "" => ctx.link(&path),
        q => ctx.link(&format!("{path}?{q}")),
    };
    Some(status.insert_header(("Location", to)).finish())
}

fn reply(r: Reply) -> HttpResponse {
    match r {
        Reply::Response(r) => r,
        Reply::Redirect(to) => HttpResponse::Found()
            .insert_header(("Location", to))
            .finish(),
    }
}

fn not_allowed() -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header(("Allow", "GET, HEAD"))
        .body("Method not allowed: only writable canned queries take a POST")
}

/// The writable canned query a path names, with its database.
fn writable_query<'a>(
    state: &'a AppState,
    page: &Page,
) -> Option<(Arc<Database>, &'a crate::config::CannedQuery)> {
    let Page::Canned { db, name } = page else {
        return None;
    };
    let q = state.metadata.database(db)?.queries.get(name)?;
    Some((state.databases.get(db)?.clone(), q)).filter(|_| q.write)
}

/// An answer meant for one visitor alone (it shows their messages, or holds their form's
/// token): no shared cache may keep it, nor answer another request with it (its `Vary`, as
/// every answer's, is `delivery::deliver`'s).
pub fn private_to_visitor(r: &mut HttpResponse) {
    use actix_web::http::header::{HeaderValue, CACHE_CONTROL, ETAG};
    let headers = r.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    headers.remove(ETAG);
}

/// Datasette's `Link` header to the JSON of an HTML page.
fn alternate_link(r: &mut HttpResponse, ctx: &PageRequest) {
    let html = r
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
    let value = ctx
        .alternate_json
        .as_ref()
        .filter(|_| html)
        .map(|url| format!("{url}; rel=\"alternate\"; type=\"application/json+datasette\""))
        .and_then(|v| actix_web::http::header::HeaderValue::from_str(&v).ok());
    if let Some(v) = value {
        r.headers_mut().insert(actix_web::http::header::LINK, v);
    }
}

impl PageRequest {
    /// The page the path names, a plugin format's extension taken off.
    fn page(&self, catalog: &dyn page::Catalog) -> Result<Page, AppError> {
        let path = match &self.renderer {
            Some(ext) => self
                .path
                .strip_suffix(&format!(".{ext}"))
                .unwrap_or(&self.path),
            None => &self.path,
        };
        page::resolve(path, self.arg("sql").is_some(), catalog)
    }
}

/// As Datasette answers OPTIONS: "ok" from its data pages (no CORS headers are granted
/// here), 405 from the others.
fn options(page: &Page) -> HttpResponse {
    match page {
        Page::Index | Page::Special(_) => HttpResponse::MethodNotAllowed()
            .insert_header(("Allow", "GET, HEAD"))
            .content_type("text/plain; charset=utf-8")
            .body("Method not allowed"),
        _ => HttpResponse::Ok()
            .insert_header(("Allow", "GET, HEAD, POST, OPTIONS"))
            .content_type("text/plain; charset=utf-8")
            .body("ok"),
    }
}

/// The page's answer; its gate has been passed.
async fn answer(state: &AppState, ctx: &PageRequest, page: &Page) -> Result<Reply, AppError> {
    match page {
        Page::Index => index::page(state, ctx).await,
        Page::Special(name) => special::page(state, ctx, name).await,
        Page::Download(db) => download::file(&*served(state, db)?),
        Page::Database(db) => {
            let db = served(state, db)?;
            database::page(state, ctx, &db).await
        }
        Page::Sql(db) => query::sql_page(state, ctx, &served(state, db)?).await,
        Page::Canned { db, name } => {
            let q = canned(state, db, name)?;
            query::canned_page(state, ctx, &served(state, db)?, q).await
        }
        Page::Table { db, table } => table::page(state, ctx, &served(state, db)?, table).await,
        Page::Row { db, table, key } => {
            row::page(state, ctx, &served(state, db)?, table, key).await
        }
        // Answered before: a POST by `post`, anything else refused.
        Page::TableWrite { .. } | Page::RowWrite { .. } | Page::DatabaseWrite { .. } => {
            Err(AppError::NotFound("Page not found".into()))
        }
    }
}

/// The database a page names (resolving the page found it served).
fn served(state: &AppState, name: &str) -> Result<Arc<Database>, AppError> {
    state
        .databases
        .get(name)
        .cloned()
        .ok_or_else(|| AppError::NotFound("Database not found".into()))
}

fn canned<'a>(
    state: &'a AppState,
    db: &str,
    name: &str,
) -> Result<&'a crate::config::CannedQuery, AppError> {
    state
        .metadata
        .database(db)
        .and_then(|d| d.queries.get(name))
        .ok_or_else(|| AppError::NotFound("Query not found".into()))
}

/// The answer for a table the actor may not view.
pub fn table_forbidden() -> AppError {
    AppError::Forbidden("You do not have permission to view this table".into())
}

/// The answer for a table that does not exist: a 404 only for those who may see the database,
/// so nobody learns which tables a database they cannot browse holds.
pub fn table_missing(state: &AppState, ctx: &PageRequest, db: &str) -> AppError {
    if state.permissions.can_view_database(&ctx.actor, db) {
        AppError::NotFound("Table not found".into())
    } else {
        table_forbidden()
    }
}

/// A page's rows in a plugin's format (`ctx.renderer`), once the page has checked that the
/// actor may see them, as for `.json`. The plugin works as [`AppState::plugin_work`] says, and
/// its answer is held to the answer limit.
pub async fn plugin_output(
    state: &AppState,
    ctx: &PageRequest,
    view: crate::app::View<'_>,
    rows: &crate::render::json::JsonRows,
    sql: &str,
) -> Result<Reply, AppError> {
    let extension = ctx.renderer.clone().unwrap_or_default();
    let mut page = state.page_context(&ctx.actor, &ctx.here(), view);
    page.request.origin = ctx.origin.clone();
    let (columns, cells, sql) = (rows.columns.clone(), rows.rows.clone(), sql.to_string());
    let failed = |problem: String| {
        tracing::error!("render_output .{extension}: {problem}");
        AppError::Internal(format!("The plugin rendering .{extension} failed"))
    };
    let plugins = state.plugins.clone();
    let format = extension.clone();
    // The rows become the plugin's JSON values only once it has its turn: a request waiting
    // for one holds no more than its rows.
    let render = move || {
        plugins.render_output(datasette_plugin_api::OutputData {
            extension: format,
            page,
            columns,
            rows: crate::render::json::rows_as_values(&cells),
            sql,
        })
    };
    // Boxed: every page that may answer in a plugin's format awaits this.
    let what = format!("render_output .{extension}");
    let work = Box::pin(state.plugin_work(&what, render));
    let answer = work.await?.map_err(failed)?;
    let here = (ctx.actor.clone(), ctx.here());
    let answer = plugin::in_site_page(answer, state, &here).map_err(failed)?;
    if answer.body.len() > crate::limits::answer_limit() {
        return Err(crate::render::budget::too_large().into());
    }
    Ok(crate::plugins::http::into_http(answer)
        .map_err(failed)?
        .into())
}

/// How this request asks for the cells of `columns` to be written in JSON: Datasette's
/// `_json=COLUMN` (the positions of those whose text is written as the JSON it holds) and
/// `_json_infinity`.
pub fn cell_forms(ctx: &PageRequest, columns: &[String]) -> crate::render::json::CellForms {
    let named = ctx.args_named("_json");
    crate::render::json::CellForms {
        json_columns: (0..columns.len())
            .filter(|&i| named.contains(&columns[i].as_str()))
            .collect(),
        // The debugging view of a page is JSON: no `Infinity` in it.
        non_finite: ctx.flag("_json_infinity") && !ctx.show_context,
        ..Default::default()
    }
}

/// Datasette's CSV options as this request asks for them, for a file named `name`.
pub fn csv_options<'a>(ctx: &PageRequest, name: &'a str) -> crate::render::csv::Options<'a> {
    crate::render::csv::Options {
        download: ctx.flag("_dl").then_some(name),
        header: ctx.arg("_header") != Some("off"),
    }
}

/// `template_debug`'s answer to `?_context=1`: the data an HTML page is rendered from, as
/// indented JSON in a `<pre>` (Datasette shows its template's context so), under the answer
/// limit as every answer is.
pub fn context_page<T: Serialize>(data: &T) -> Result<String, AppError> {
    use crate::render::budget::Capped;
    use std::fmt::Write;
    let mut json = Capped::default();
    let written = serde_json::to_writer_pretty(&mut json, data);
    let json =
        json.finish_after(written.map_err(|e| format!("cannot encode the page's data: {e}")))?;
    let mut page = Capped::default();
    // Text, not an attribute: quotes stay readable.
    let escaped = String::from_utf8_lossy(&json)
        .chars()
        .try_for_each(|c| match c {
            '&' => page.write_str("&amp;"),
            '<' => page.write_str("&lt;"),
            '>' => page.write_str("&gt;"),
            c => page.write_char(c),
        });
    let page = page.finish_after(escaped)?;
    Ok(format!("<pre>{}</pre>", String::from_utf8_lossy(&page)))
}

/// Renders page data as JSON, or as HTML through `html_page`.
pub fn respond<T: Serialize>(
    ctx: &PageRequest,
    data: &T,
    html_page: impl FnOnce() -> Result<String, AppError>,
) -> Result<Reply, AppError> {
    match ctx.format {
        Format::Json => {
            Ok(crate::render::json::response(actix_web::http::StatusCode::OK, data)?.into())
        }
        Format::Html if ctx.show_context => Ok(html::ok(context_page(data)?).into()),
        Format::Html => Ok(html::ok(html_page()?).into()),
        Format::Csv => Err(AppError::NotFound(
            "CSV is available for tables and queries only".into(),
        )),
        Format::Blob => Err(AppError::NotFound(
            "Binary values download from rows and queries only".into(),
        )),
    }
}
