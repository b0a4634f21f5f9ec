//! For operators: `/-/health` for load balancers and probes, `/-/metrics` for Prometheus.
//!
//! Health needs no permission and runs no SQL: each file is opened and its header read. It
//! does not name or count the databases (some may be hidden from whoever asks); the log names one that
//! is unavailable.

use std::io::Read;

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::app::AppState;
use crate::render::json;

/// `/-/metrics`: Prometheus' text format, for actors the `metrics` permission lets in (its
/// allow block in metadata.json's `permissions`, or a plugin's vote; else root only).
pub async fn metrics(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, crate::error::AppError> {
    use actix_web::HttpMessage;
    req.extensions_mut()
        .insert(crate::telemetry::PageKind("metrics"));
    let actor = state.actor(&req);
    if !state.permissions.can_view_metrics(&actor) {
        return Err(crate::error::AppError::Forbidden(
            "You do not have permission to view the metrics".into(),
        ));
    }
    let text = crate::telemetry::render().ok_or_else(|| {
        crate::error::AppError::NotFound("Metrics are not recorded by this server".into())
    })?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(text))
}

pub async fn page(req: actix_web::HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    actix_web::HttpMessage::extensions_mut(&req).insert(crate::telemetry::PageKind("health"));
    let mut unavailable = 0;
    for db in state.databases.values().filter(|db| !db.is_memory()) {
        if let Err(problem) = readable(&db.path) {
            tracing::warn!(
                database = db.name,
                "health: {}: {problem}",
                db.path.display()
            );
            unavailable += 1;
        }
    }
    // Not even how many databases there are: some may be hidden from whoever asks.
    let (status, body) = if unavailable == 0 {
        (actix_web::http::StatusCode::OK, json!({"status": "ok"}))
    } else {
        (
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            json!({"status": "unavailable"}),
        )
    };
    HttpResponse::build(status)
        .content_type(json::CONTENT_TYPE)
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(body.to_string())
}

/// Whether the file at `path` can be opened and starts as an SQLite file does.
fn readable(path: &std::path::Path) -> Result<(), String> {
    let mut header = [0u8; 16];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut header))
        .map_err(|e| e.to_string())?;
    if &header != b"SQLite format 3\0" {
        return Err("not an SQLite file".into());
    }
    Ok(())
}
