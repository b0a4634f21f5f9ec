//! `/DB?sql=…` and canned queries: read-only SQL with `:named` parameters.

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::StatusCode;
use indexmap::IndexMap;
use serde::Serialize;

use super::{Answer, Ctx};
use crate::app::AppState;
use crate::config::CannedQuery;
use crate::db::{self as sqlite, Cell, Database, DbError};
use crate::error::AppError;
use crate::render::json::{bare_shape, JsonRows, Shape};
use crate::render::{csv, html, json, Format};

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
}

/// The `:name` parameters of a statement, in order of first use, skipping string literals,
/// quoted names and comments.
pub fn named_parameters(sql: &str) -> Vec<String> {
    let b = sql.as_bytes();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"' | b'`') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
                i += 1;
            }
            b'[' => {
                while i < b.len() && b[i] != b']' {
                    i += 1;
                }
                i += 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            b':' if i + 1 < b.len()
                && (b[i + 1].is_ascii_alphabetic() || b[i + 1] == b'_')
                && (i == 0 || b[i - 1] != b':') =>
            {
                let start = i + 1;
                let mut end = start;
                while end < b.len() && (b[end].is_ascii_alphanumeric() || b[end] == b'_') {
                    end += 1;
                }
                let name = &sql[start..end];
                if !out.iter().any(|n| n == name) {
                    out.push(name.to_string());
                }
                i = end;
            }
            _ => i += 1,
        }
    }
    out
}

pub async fn sql_page(state: &AppState, ctx: &Ctx, db: &Arc<Database>) -> Result<Answer, AppError> {
    if !state.permissions.can_execute_sql(&ctx.actor, &db.name) {
        return Err(AppError::Forbidden(
            "You do not have permission to execute SQL".into(),
        ));
    }
    let sql = ctx.arg("sql").unwrap_or("").to_string();
    run(state, ctx, db, sql, None).await
}

pub async fn canned_page(
    state: &AppState,
    ctx: &Ctx,
    db: &Arc<Database>,
    q: &CannedQuery,
) -> Result<Answer, AppError> {
    if !state
        .permissions
        .can_view_query(&ctx.actor, &db.name, &q.name)
    {
        return Err(AppError::Forbidden(
            "You do not have permission to view this query".into(),
        ));
    }
    run(state, ctx, db, q.sql.clone(), Some(q.clone())).await
}

async fn run(
    state: &AppState,
    ctx: &Ctx,
    db: &Arc<Database>,
    sql: String,
    canned: Option<CannedQuery>,
) -> Result<Answer, AppError> {
    let shape = Shape::parse(ctx.arg("_shape"))?;
    if shape == Shape::Object {
        return Err(AppError::BadRequest(
            "_shape=object is only available on tables".into(),
        ));
    }
    let names = match canned.as_ref().and_then(|c| c.params.clone()) {
        Some(p) => p,
        None => named_parameters(&sql),
    };
    let params: IndexMap<String, String> = names
        .iter()
        .map(|n| (n.clone(), ctx.arg(n).unwrap_or("").to_string()))
        .collect();
    let bound: Vec<(String, Cell)> = params
        .iter()
        .map(|(k, v)| (k.clone(), Cell::Text(v.clone())))
        .collect();
    let schema = db.schema().await?;
    let access = state.access(&ctx.actor, &db.name, &schema);
    let max = state.settings.max_returned_rows as usize;
    let limit = Duration::from_millis(state.settings.sql_time_limit_ms);
    let result = if sql.trim().is_empty() {
        Ok(sqlite::Rows::default())
    } else {
        let sql = sql.clone();
        db.run(limit, access, move |c| {
            sqlite::select(c, &sql, &bound, max, false)
        })
        .await
    };
    let (rows, error) = match result {
        Ok(r) => (r, None),
        Err(e @ (DbError::Sql(_) | DbError::Refused(_) | DbError::Interrupted(_))) => {
            (sqlite::Rows::default(), Some(e.to_string()))
        }
        Err(e) => return Err(e.into()),
    };
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
            .inherited_links(Some(&db.name), None)
            .into_iter()
            .collect(),
        canned,
    };
    let status = if data.ok {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    match (ctx.format, shape) {
        (_, _) if !data.ok && ctx.format != Format::Html => {
            Ok(json::response(status, &data).into())
        }
        (Format::Csv, _) => Ok(csv::response(&data.rows.columns, &data.rows.rows).into()),
        (Format::Json, Shape::Array | Shape::ArrayFirst) => {
            Ok(bare_shape(shape, ctx.flag("_nl"), &data.rows, None)?.into())
        }
        (Format::Json, _) => Ok(json::response(status, &data).into()),
        (Format::Html, _) => {
            Ok(html::with_status(status, super::templates::query_page(state, ctx, &data)?).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::named_parameters;

    #[test]
    fn finds_named_parameters() {
        assert_eq!(
            named_parameters("select * from t where a = :a and b > :b_2 or c = :a"),
            vec!["a", "b_2"]
        );
        assert_eq!(
            named_parameters(
                "select ':no', \":no\" -- :no\n, /* :no */ x::text from t where y = :yes"
            ),
            vec!["yes"]
        );
        assert!(named_parameters("select time('12:30')").is_empty());
    }
}
