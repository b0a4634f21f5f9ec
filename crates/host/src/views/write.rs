//! `POST /DB/QUERY` for a writable canned query (`"write": true`): its one statement, run on
//! the database's read-write connection with the form's (or JSON body's) values, then a
//! message and a redirect, or a JSON answer for API clients.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::{csrf, messages, PageRequest, Reply};
use crate::app::AppState;
use crate::config::CannedQuery;
use crate::db::{Cell, Database, DbError};
use crate::error::AppError;

/// A POST's body: the values for the query's parameters and what else it says.
struct Posted {
    values: HashMap<String, Cell>,
    token: Option<String>,
    wants_json: bool,
}

/// A form (`name=Ana`) or a JSON object (`{"name": "Ana"}`, values keeping their types).
fn parse(body: &[u8]) -> Result<Posted, AppError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| AppError::BadRequest("The request body is not UTF-8 text".into()))?
        .trim();
    let pairs: Vec<(String, Cell)> = if text.starts_with('{') && text.ends_with('}') {
        let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text)
            .map_err(|e| AppError::BadRequest(format!("The JSON body is not valid: {e}")))?;
        object
            .into_iter()
            .map(|(k, v)| (k, Cell::from_json(&v)))
            .collect()
    } else {
        crate::urls::parse_query(text)
            .into_iter()
            .map(|(k, v)| (k, Cell::Text(v)))
            .collect()
    };
    let mut values: HashMap<String, Cell> = pairs.into_iter().collect();
    let token = values.remove(csrf::FIELD).map(|c| c.to_plain_string());
    let wants_json = values.remove("_json").is_some();
    Ok(Posted {
        values,
        token,
        wants_json,
    })
}

pub async fn post(
    state: &AppState,
    ctx: &PageRequest,
    db: &Arc<Database>,
    q: &CannedQuery,
    body: &[u8],
) -> Result<Reply, AppError> {
    let req = ctx
        .request
        .as_ref()
        .ok_or_else(|| AppError::Internal("a POST without its request".into()))?;
    let posted = parse(body)?;
    csrf::check(state, req, posted.token.as_deref())?;
    if !db.writable() {
        return Err(AppError::Forbidden("Database is immutable".into()));
    }
    // The visitor's values, then the request's magic parameters, which nobody can post.
    let mut values = posted.values;
    values.extend(super::magic::parameters(&q.sql, ctx));
    let limit = Duration::from_millis(state.settings.sql_time_limit_ms);
    let outcome = &q.outcome;
    let schema = db.schema().await?;
    let access = state.access(&ctx.actor, &db.name, &schema);
    let (ok, message, redirect) = match db.write(q.sql.clone(), values, limit, access).await {
        Ok(n) => (
            true,
            outcome.on_success_message.clone().unwrap_or_else(|| {
                format!(
                    "Query executed, {n} row{} affected",
                    if n == 1 { "" } else { "s" }
                )
            }),
            outcome.on_success_redirect.clone(),
        ),
        Err(
            e
            @ (DbError::Sql(_) | DbError::Refused(_) | DbError::Interrupted(_) | DbError::Busy(_)),
        ) => (
            false,
            outcome.on_error_message.clone().unwrap_or(e.to_string()),
            outcome.on_error_redirect.clone(),
        ),
        Err(e) => return Err(e.into()),
    };
    let accept = req.headers().get("accept").and_then(|v| v.to_str().ok());
    if posted.wants_json || ctx.arg("_json").is_some() || accept == Some("application/json") {
        let answer = serde_json::json!({"ok": ok, "message": message, "redirect": redirect});
        return Ok(crate::render::json::response(actix_web::http::StatusCode::OK, &answer)?.into());
    }
    messages::add(req, &message, if ok { "info" } else { "error" });
    // Back to the form (with its query string) unless metadata.json says where.
    Ok(Reply::Redirect(redirect.unwrap_or_else(
        || match req.query_string() {
            "" => ctx.link(&ctx.path),
            query => ctx.link(&format!("{}?{query}", ctx.path)),
        },
    )))
}
