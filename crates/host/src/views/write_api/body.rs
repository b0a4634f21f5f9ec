//! A POST's body: read up to the limit and no further, from this site only (for cookies),
//! and JSON.

use actix_web::http::StatusCode;
use actix_web::web::{Bytes, BytesMut, Payload};
use actix_web::HttpRequest;
use futures_util::StreamExt;
use serde_json::{Map, Value};

use super::ApiError;
use crate::app::AppState;
use crate::error::AppError;

/// The body, refused with a 413 as soon as it passes `limit` bytes (or says it will): it is
/// never held whole.
pub async fn read_body(mut payload: Payload, limit: u64) -> Result<Bytes, AppError> {
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| AppError::BadRequest(format!("Reading the body: {e}")))?;
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

pub fn too_large(limit: u64) -> AppError {
    AppError::TooLarge(format!(
        "The request body is larger than {limit} bytes (max_post_body_bytes)"
    ))
}

/// A declared length past the limit is refused before anything is read.
pub fn declared_too_large(req: &HttpRequest, limit: u64) -> bool {
    req.headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > limit)
}

/// A write sent with the browser's cookie must come from a page of this site: a bearer token
/// is not sent by browsers on their own, a cookie is. Browsers say where a request comes from
/// (`Sec-Fetch-Site`, `Origin`); a client that says nothing is not a browser.
pub fn same_site(state: &AppState, req: &HttpRequest) -> Result<(), ApiError> {
    use actix_web::HttpMessage;
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    // Only a cookie is sent by browsers on their own; a signed token is not.
    let signed_by_token = req.extensions().contains::<crate::tokens::TokenActor>();
    if signed_by_token || header("cookie").is_none() {
        return Ok(());
    }
    let cross = |why: &str| {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!("Cross-site write refused: {why}"),
        ))
    };
    if let Some(site) = header("sec-fetch-site") {
        if !matches!(site, "same-origin" | "none") {
            return cross("Sec-Fetch-Site is not same-origin");
        }
    }
    if let Some(origin) = header("origin") {
        if origin != state.origin(req) {
            return cross("the Origin is another site");
        }
    }
    Ok(())
}

/// The body as a JSON object, whatever its Content-Type says (as Datasette reads it).
pub fn json_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    // A delete, or a drop's preview, needs no body at all.
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::bad("JSON must be a dictionary")),
        Err(e) => Err(ApiError::bad(format!("Invalid JSON: {e}"))),
    }
}
