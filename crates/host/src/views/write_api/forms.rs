//! The write API from pages, without JavaScript: plain forms on the table, row and database
//! pages for who may write, posted to the same URLs as the JSON, and answered with a redirect
//! and a message. A form's post is taken only when the browser says it comes from a page of
//! this site (`Sec-Fetch-Site`, `Origin`): a page of another site cannot post one.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::{json, Map, Value};

use super::{ApiError, WriteOp};
use crate::app::AppState;
use crate::permissions::Action;
use crate::views::{messages, Page, PageRequest};

/// Form fields that stand for columns are named `column.NAME`, apart from the form's own.
const COLUMN: &str = "column.";

/// A form for one row: where it posts, and its fields.
pub struct RowForm {
    pub action: String,
    pub fields: Vec<Field>,
}

/// One column's field: its value now, in a text area when it has several lines (a one-line
/// input would drop its line breaks on the next save).
pub struct Field {
    pub name: String,
    pub value: String,
    pub lines: bool,
}

impl Field {
    fn new(name: String, value: String) -> Field {
        let lines = value.contains('\n');
        Field { name, value, lines }
    }
}

/// Whether `actor` may do `action` in `db` (on `table`), and the file takes writes.
fn may(state: &AppState, ctx: &PageRequest, action: Action, db: &str, table: Option<&str>) -> bool {
    let writable = state
        .databases
        .get(db)
        .is_some_and(|d| !d.immutable && !d.is_memory());
    writable && state.permissions.can_write(&ctx.actor, action, db, table)
}

/// The insert form of a table page, for who may insert.
pub fn insert_form(
    state: &AppState,
    ctx: &PageRequest,
    db: &str,
    table: &str,
    columns: &[String],
) -> Option<RowForm> {
    may(state, ctx, Action::InsertRow, db, Some(table)).then(|| RowForm {
        action: format!("{}/-/insert", ctx.table_url(db, table)),
        fields: columns
            .iter()
            .filter(|c| *c != "rowid")
            .map(|c| Field::new(c.clone(), String::new()))
            .collect(),
    })
}

/// The edit form of a row page (key columns are not edited), for who may update.
pub fn edit_form(
    state: &AppState,
    ctx: &PageRequest,
    (db, table, key): (&str, &str, &str),
    values: Vec<(String, String)>,
    keys: &[String],
) -> Option<RowForm> {
    may(state, ctx, Action::UpdateRow, db, Some(table)).then(|| RowForm {
        action: format!("{}/{key}/-/update", ctx.table_url(db, table)),
        fields: values
            .into_iter()
            .filter(|(c, _)| c != "rowid" && !keys.contains(c))
            .map(|(c, v)| Field::new(c, v))
            .collect(),
    })
}

/// Where a row page's delete button posts, for who may delete.
pub fn delete_action(
    state: &AppState,
    ctx: &PageRequest,
    db: &str,
    table: &str,
    key: &str,
) -> Option<String> {
    may(state, ctx, Action::DeleteRow, db, Some(table))
        .then(|| format!("{}/{key}/-/delete", ctx.table_url(db, table)))
}

/// Where a database page's "create table" form posts, for who may create tables.
pub fn create_action(state: &AppState, ctx: &PageRequest, db: &str) -> Option<String> {
    may(state, ctx, Action::CreateTable, db, None).then(|| format!("{}/-/create", ctx.db_url(db)))
}

/// Whether a POST is one of these forms' rather than JSON. `curl -d '{…}'` says it sends a
/// form too: a body that begins as a JSON object is JSON, whatever its type says (as Datasette
/// reads it), and so is anything sent with a token.
pub fn is_form(req: &actix_web::HttpRequest, body: &[u8]) -> bool {
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    let json = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let token = req
        .headers()
        .contains_key(actix_web::http::header::AUTHORIZATION);
    declared && !json && !token
}

/// A form's post: the write, then back to a page with a message saying what was done.
pub async fn post(state: &AppState, ctx: &PageRequest, page: &Page, body: &[u8]) -> HttpResponse {
    let Some(req) = ctx.request.as_ref() else {
        return ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "a form without its request",
        )
        .response();
    };
    if !from_this_site(state, req) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "A page of another site may not change anything here",
        )
        .response();
    }
    let fields = crate::urls::parse_query(&String::from_utf8_lossy(body));
    let (json, done, back) = match as_json(ctx, page, &fields) {
        Ok(parts) => parts,
        Err(e) => return e.response(),
    };
    let Value::Object(body) = &json else {
        return ApiError::bad("a form's write is an object").response();
    };
    let outcome = super::run_fresh(state, ctx, page, body, super::Writer::Request).await;
    let (text, kind, to) = match outcome {
        Ok(r) if r.status.is_success() => (done, "info", forward(ctx, page, &json)),
        Ok(_) => ("The write failed".to_string(), "error", back),
        Err(e) => (e.errors.join("; "), "error", back),
    };
    messages::add(req, &text, kind);
    HttpResponse::Found()
        .insert_header(("Location", to))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// Only a browser's word that the form is this site's counts: a form post without it is
/// refused (every browser sends `Origin` with a POST).
fn from_this_site(state: &AppState, req: &actix_web::HttpRequest) -> bool {
    let header = |n: &str| req.headers().get(n).and_then(|v| v.to_str().ok());
    match (header("sec-fetch-site"), header("origin")) {
        (Some(site), _) => site == "same-origin",
        (None, Some(origin)) => origin == state.origin(req),
        (None, None) => false,
    }
}

/// The JSON the form stands for, the message for success, and the page to go back to.
fn as_json(
    ctx: &PageRequest,
    page: &Page,
    fields: &[(String, String)],
) -> Result<(Value, String, String), ApiError> {
    let columns = |empty_as_null: bool| -> Map<String, Value> {
        fields
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(COLUMN)?, v)))
            .filter(|(_, v)| empty_as_null || !v.is_empty())
            .map(|(k, v)| {
                let value = if v.is_empty() { Value::Null } else { json!(v) };
                (k.to_string(), value)
            })
            .collect()
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    Ok(match page {
        Page::TableWrite {
            db,
            table,
            op: WriteOp::Insert,
        } => (
            json!({"row": columns(false)}),
            "Row inserted".into(),
            ctx.table_url(db, table),
        ),
        Page::RowWrite { db, table, key, op } => {
            let row = format!("{}/{key}", ctx.table_url(db, table));
            match op {
                WriteOp::Update => (json!({"update": columns(true)}), "Row updated".into(), row),
                _ => (json!({}), "Row deleted".into(), row),
            }
        }
        Page::DatabaseWrite {
            db,
            op: WriteOp::Create,
        } => {
            let columns: Vec<Value> = field("columns")
                .lines()
                .filter_map(|line| {
                    let mut words = line.split_whitespace();
                    let name = words.next()?;
                    Some(json!({"name": name, "type": words.next().unwrap_or("text")}))
                })
                .collect();
            let mut body = json!({"table": field("table"), "columns": columns});
            if !field("pk").is_empty() {
                body["pk"] = json!(field("pk"));
            }
            (
                body,
                format!("Table {} created", field("table")),
                ctx.db_url(db),
            )
        }
        _ => {
            return Err(ApiError::bad(
                "This write has no form: send JSON (Content-Type: application/json)",
            ))
        }
    })
}

/// Where a successful form goes: the new row's table, the updated row, the new table.
fn forward(ctx: &PageRequest, page: &Page, json: &Value) -> String {
    match page {
        Page::TableWrite { db, table, .. } => ctx.table_url(db, table),
        Page::RowWrite {
            db,
            table,
            key,
            op: WriteOp::Update,
        } => {
            format!("{}/{key}", ctx.table_url(db, table))
        }
        Page::RowWrite { db, table, .. } => ctx.table_url(db, table),
        Page::DatabaseWrite { db, .. } => match json["table"].as_str() {
            Some(t) => ctx.table_url(db, t),
            None => ctx.db_url(db),
        },
        _ => ctx.link("/"),
    }
}
