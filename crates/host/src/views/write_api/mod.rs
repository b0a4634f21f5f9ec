//! Datasette 1.0's JSON write API: `POST /DB/TABLE/-/insert`, `-/upsert`, `-/drop`,
//! `/DB/TABLE/PK/-/update`, `-/delete`, `/DB/-/create` and `/DB/-/execute-write`.
//!
//! Each answer is JSON in Datasette's shapes, errors as `{"ok": false, "error", "errors",
//! "status"}`. Who may write what is `Permissions::can_write`; what they may see is their
//! `Access`, and a table they may not see is answered exactly as it is on its read pages.
//! Writes run on the database's one writer, in a transaction each (see `db::writes`).

mod body;
pub mod forms;
mod rows;
mod sql;
mod tables;
mod values;

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::{json, Map, Value};

use super::{Page, PageRequest};
use crate::app::AppState;
use crate::db::{Access, Database, DbError, Schema, TableInfo};
use crate::error::AppError;
use crate::permissions::Action;
use crate::tokens::Restrictions;

pub use body::{declared_too_large, read_body, too_large};

/// What a write URL asks for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WriteOp {
    Insert,
    Upsert,
    Drop,
    Update,
    Delete,
    Create,
    ExecuteWrite,
}

impl WriteOp {
    /// The operation of a table's URL (`/DB/TABLE/-/NAME`).
    pub fn of_table(name: &str) -> Option<WriteOp> {
        Some(match name {
            "insert" => WriteOp::Insert,
            "upsert" => WriteOp::Upsert,
            "drop" => WriteOp::Drop,
            _ => return None,
        })
    }

    /// The operation of a row's URL (`/DB/TABLE/PK/-/NAME`).
    pub fn of_row(name: &str) -> Option<WriteOp> {
        Some(match name {
            "update" => WriteOp::Update,
            "delete" => WriteOp::Delete,
            _ => return None,
        })
    }

    /// The operation of a database's URL (`/DB/-/NAME`).
    pub fn of_database(name: &str) -> Option<WriteOp> {
        Some(match name {
            "create" => WriteOp::Create,
            "execute-write" => WriteOp::ExecuteWrite,
            _ => return None,
        })
    }
}

/// Whether `path` has a write URL's form (`…/-/insert` and the like), resolvable or not.
pub fn is_write_path(path: &str) -> bool {
    let mut segments = path.rsplit('/');
    let (Some(op), Some("-")) = (segments.next(), segments.next()) else {
        return false;
    };
    WriteOp::of_table(op)
        .or(WriteOp::of_row(op))
        .or(WriteOp::of_database(op))
        .is_some()
}

/// A refused or failed write, as the API answers it.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    errors: Vec<String>,
    /// The file's schema moved on since the request's access was worked out.
    stale: bool,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            errors: vec![message.into()],
            stale: false,
        }
    }

    pub fn bad(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    fn denied() -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "Permission denied")
    }

    pub fn response(&self) -> HttpResponse {
        let mut r = HttpResponse::build(self.status)
            .content_type(crate::render::json::CONTENT_TYPE)
            .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
            .body(
                json!({
                    "ok": false,
                    "error": self.errors.join("; "),
                    "errors": self.errors,
                    "status": self.status.as_u16(),
                })
                .to_string(),
            );
        crate::error::retry_later(&mut r);
        r
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> ApiError {
        ApiError {
            stale: matches!(e, AppError::Stale(_)),
            ..ApiError::new(e.status(), e.to_string())
        }
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> ApiError {
        AppError::from(e).into()
    }
}

/// A write done: the API's status and JSON answer.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

impl Answer {
    fn response(self) -> HttpResponse {
        HttpResponse::build(self.status)
            .content_type(crate::render::json::CONTENT_TYPE)
            .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
            .body(self.body.to_string())
    }
}

fn answer(status: StatusCode, body: Value) -> Answer {
    Answer { status, body }
}

/// Answers a POST to a write URL.
pub async fn post(state: &AppState, ctx: &PageRequest, page: &Page, body: &[u8]) -> HttpResponse {
    let body = match body::json_object(body) {
        Ok(body) => body,
        Err(e) => return e.response(),
    };
    match run_fresh(state, ctx, page, &body, Writer::Request).await {
        Ok(r) => r.response(),
        Err(e) => e.response(),
    }
}

/// Who asks for a write.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Writer {
    /// An HTTP request, as its actor.
    Request,
    /// A plugin, as the request's actor (`Host::write_as`).
    PluginAs(&'static str),
    /// A plugin, as itself (`Host::execute_write`, `Host::insert_rows`): any table of a
    /// mutable database, no permission asked.
    Plugin(&'static str),
}

/// The most rows a plugin inserts in one call: a transaction that size still commits well
/// within the writer's time.
const MAX_PLUGIN_ROWS: usize = 100_000;

/// A write a plugin asks for, answered as the API would answer it: the same checks, the same
/// errors, the same writer.
pub async fn for_plugin(
    state: &AppState,
    writer: Writer,
    actor: crate::permissions::Actor,
    page: Page,
    body: Map<String, Value>,
) -> Result<Value, String> {
    let ctx = PageRequest::internal(actor);
    run_fresh(state, &ctx, &page, &body, writer)
        .await
        .map(|a| a.body)
        .map_err(|e| e.errors.join("; "))
}

/// [`run`], once more from the new schema if the file's changed under it (another process
/// made or dropped a table): what is hidden is always decided for the schema written to.
async fn run_fresh(
    state: &AppState,
    ctx: &PageRequest,
    page: &Page,
    body: &Map<String, Value>,
    writer: Writer,
) -> Result<Answer, ApiError> {
    match run(state, ctx, page, body.clone(), writer).await {
        Err(e) if e.stale => {
            state.databases.values().for_each(|db| db.recheck_schema());
            run(state, ctx, page, body.clone(), writer).await
        }
        answer => answer,
    }
}

async fn run(
    state: &AppState,
    ctx: &PageRequest,
    page: &Page,
    body: Map<String, Value>,
    writer: Writer,
) -> Result<Answer, ApiError> {
    if let Some(req) = &ctx.request {
        body::same_site(state, req)?;
    }
    let trusted = matches!(writer, Writer::Plugin(_));
    let db_name = page.database().unwrap_or_default();
    let db = state
        .databases
        .get(db_name)
        .cloned()
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "Database not found"))?;
    if !trusted && !state.permissions.can_view_database(&ctx.actor, &db.name) && !table_page(page) {
        return Err(ApiError::denied());
    }
    if db.immutable || db.is_memory() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "Database is immutable",
        ));
    }
    let schema = db.schema().await?;
    let access = match trusted {
        true => Arc::new(Access::default()),
        false => state.access(&ctx.actor, &db.name, &schema),
    };
    // A restricted token's list says what it may do; whether a table exists for its actor
    // is the allow blocks' and plugins' to say.
    let visible = match Restrictions::of(&ctx.actor) {
        Some(_) if !trusted => state.access(&unrestricted(&ctx.actor), &db.name, &schema),
        _ => access.clone(),
    };
    let w = Write {
        state,
        ctx,
        db,
        schema,
        access,
        visible,
        body,
        writer,
    };
    match page {
        Page::TableWrite { table, op, .. } => match op {
            WriteOp::Drop => tables::drop(&w, table).await,
            op => rows::insert(&w, table, *op).await,
        },
        Page::RowWrite { table, key, op, .. } => rows::change_row(&w, table, key, *op).await,
        Page::DatabaseWrite { op, .. } => match op {
            WriteOp::ExecuteWrite => sql::execute(&w).await,
            _ => tables::create(&w).await,
        },
        _ => Err(ApiError::new(StatusCode::NOT_FOUND, "Page not found")),
    }
}

/// A table's own allow block can let an actor see it in a database they may not browse.
fn table_page(page: &Page) -> bool {
    matches!(page, Page::TableWrite { .. } | Page::RowWrite { .. })
}

/// One write request: who, on what, with which body.
struct Write<'a> {
    state: &'a AppState,
    ctx: &'a PageRequest,
    db: Arc<Database>,
    schema: Arc<Schema>,
    /// What the actor may read, as a restricted token limits it.
    access: Arc<Access>,
    /// What exists for the actor: the tables they may write to if allowed.
    visible: Arc<Access>,
    body: Map<String, Value>,
    writer: Writer,
}

/// The actor without a token's restrictions.
fn unrestricted(actor: &crate::permissions::Actor) -> crate::permissions::Actor {
    let mut actor = actor.clone();
    if let Some(Value::Object(a)) = actor.as_mut() {
        a.remove("_r");
    }
    actor
}

impl Write<'_> {
    /// The table the URL names, if the actor may see it. One the actor may not see is
    /// answered as one that does not exist.
    fn table(&self, name: &str) -> Result<&TableInfo, ApiError> {
        self.schema
            .get(name)
            .filter(|t| !t.is_view && self.visible.can_read(name))
            .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "Table not found"))
    }

    /// Whether `return` may answer with `table`'s rows: a restricted token needs
    /// `view-table` for that. Asked for and not allowed: refused.
    fn may_return(&self, table: &str, asked: bool) -> Result<bool, ApiError> {
        match (self.access.can_read(table), asked) {
            (true, _) => Ok(true),
            (false, false) => Ok(false),
            (false, true) => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "Permission denied: \"return\" needs view-table",
            )),
        }
    }

    /// Refuses unless the actor may do `action` (on `table`, else on the database). A plugin
    /// writing as itself may.
    fn may(&self, action: Action, table: Option<&str>) -> Result<(), ApiError> {
        let allowed = self.trusted()
            || self
                .state
                .permissions
                .can_write(&self.ctx.actor, action, &self.db.name, table);
        if allowed {
            Ok(())
        } else {
            Err(ApiError::denied())
        }
    }

    /// A boolean option of the body (absent: false).
    fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.body.get(name) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(ApiError::bad(format!("\"{name}\" must be true or false"))),
        }
    }

    /// Refuses keys of the body other than `known`.
    fn only_keys(&self, known: &[&str]) -> Result<(), ApiError> {
        let unknown: Vec<String> = self
            .body
            .keys()
            .filter(|k| !known.contains(&k.as_str()))
            .map(|k| format!("Invalid parameter: \"{k}\""))
            .collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(ApiError {
                status: StatusCode::BAD_REQUEST,
                errors: unknown,
                stale: false,
            })
        }
    }

    /// A plugin writing as itself: no permission is asked.
    fn trusted(&self) -> bool {
        matches!(self.writer, Writer::Plugin(_))
    }

    /// The most rows one request may insert.
    fn max_rows(&self) -> usize {
        match self.writer {
            Writer::Request => self.state.settings.max_insert_rows as usize,
            Writer::Plugin(_) | Writer::PluginAs(_) => MAX_PLUGIN_ROWS,
        }
    }

    fn limit(&self) -> std::time::Duration {
        // Writes get the read limit's time, at least a second: a transaction of many rows
        // waits for the writer's lock too.
        std::time::Duration::from_millis(self.state.settings.sql_time_limit_ms.max(1000))
    }

    /// The absolute URL of `path` on this site.
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.ctx.origin, self.ctx.link(path))
    }

    /// Logs the write (never its values) and counts it.
    fn record(&self, op: &str, table: &str, rows: usize) {
        let actor = self
            .ctx
            .actor
            .as_ref()
            .and_then(|a| a.get("id"))
            .map(|id| id.as_str().map_or_else(|| id.to_string(), str::to_string))
            .unwrap_or_default();
        let plugin = match self.writer {
            Writer::Request => "",
            Writer::Plugin(name) | Writer::PluginAs(name) => name,
        };
        tracing::info!(
            target: "write",
            actor,
            plugin,
            action = op,
            database = self.db.name,
            table,
            rows,
            "write"
        );
        crate::telemetry::write(op, rows);
    }
}
