//! The one place errors become responses: JSON for `.json` URLs, an HTML page otherwise.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde::Serialize;

use crate::db::DbError;
use crate::render::{self, Format};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    UriTooLong(String),
    #[error("{0}")]
    Internal(String),
    /// The database cannot answer now (locked by a writer, its file gone).
    #[error("{0}")]
    Unavailable(String),
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::UriTooLong(_) => StatusCode::URI_TOO_LONG,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn title(&self) -> Option<&'static str> {
        match self {
            AppError::Forbidden(_) => Some("Forbidden"),
            AppError::Internal(_) => Some("Internal error"),
            AppError::Unavailable(_) => Some("Service unavailable"),
            _ => None,
        }
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Sql(_) | DbError::Refused(_) | DbError::Interrupted(_) => {
                AppError::BadRequest(e.to_string())
            }
            DbError::Open(_) | DbError::Busy(_) => {
                tracing::warn!("database unavailable: {e}");
                AppError::Unavailable(e.to_string())
            }
            DbError::Closed | DbError::Internal(_) => {
                tracing::error!("database error: {e}");
                AppError::Internal(e.to_string())
            }
        }
    }
}

/// Datasette's error JSON.
#[derive(Serialize)]
pub struct ErrorBody<'a> {
    pub ok: bool,
    pub error: &'a str,
    pub status: u16,
    pub title: Option<&'a str>,
}

pub fn error_response(e: &AppError, format: Format, chrome: &render::html::Chrome) -> HttpResponse {
    let status = e.status();
    let message = e.to_string();
    let body = ErrorBody {
        ok: false,
        error: &message,
        status: status.as_u16(),
        title: e.title(),
    };
    match format {
        Format::Json => render::json::response(status, &body),
        Format::Html | Format::Csv => render::html::error_page(status, &body, chrome),
    }
}
