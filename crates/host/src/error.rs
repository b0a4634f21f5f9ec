//! The one place errors become responses: JSON for `.json` URLs, an HTML page otherwise.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse, ResponseError};
use serde::Serialize;

use crate::app::AppState;
use crate::db::DbError;
use crate::render::{self, Format};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    /// SQL that SQLite or the guard refused (a 400, titled as Datasette titles it).
    #[error("{0}")]
    InvalidSql(String),
    /// SQL stopped at its time limit (a 400).
    #[error("{0}")]
    Interrupted(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    UriTooLong(String),
    /// A request body past `max_post_body_bytes` (a 413).
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    Internal(String),
    /// The database cannot answer now (locked by a writer, its file gone).
    #[error("{0}")]
    Unavailable(String),
    /// The server holds as many answers as it may (a 503 to try again shortly).
    #[error("{0}")]
    Busy(String),
    /// The file or its schema moved on while the request ran: worked out again, it is answered
    /// (a 503 if it is not).
    #[error("{0}")]
    Stale(String),
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) | AppError::InvalidSql(_) | AppError::Interrupted(_) => {
                StatusCode::BAD_REQUEST
            }
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::UriTooLong(_) => StatusCode::URI_TOO_LONG,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Unavailable(_) | AppError::Busy(_) | AppError::Stale(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }

    pub fn title(&self) -> Option<&'static str> {
        match self {
            AppError::Forbidden(_) => Some("Forbidden"),
            AppError::InvalidSql(_) => Some("Invalid SQL"),
            AppError::Interrupted(_) => Some("SQL Interrupted"),
            AppError::Internal(_) => Some("Internal error"),
            AppError::Unavailable(_) | AppError::Busy(_) | AppError::Stale(_) => {
                Some("Service unavailable")
            }
            _ => None,
        }
    }
}

impl From<render::RenderError> for AppError {
    fn from(e: render::RenderError) -> Self {
        match e {
            render::RenderError::Unsupported(m) => AppError::BadRequest(m),
            render::RenderError::Encoding(m) => AppError::Internal(m),
        }
    }
}

impl From<crate::app::PluginWorkError> for AppError {
    fn from(e: crate::app::PluginWorkError) -> Self {
        use crate::app::PluginWorkError::*;
        match e {
            Busy(_) | TooSlow(..) => AppError::Busy(e.to_string()),
            Failed(..) => AppError::Internal(e.to_string()),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(format!("template error: {e}"))
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Sql(_) | DbError::Refused(_) => AppError::InvalidSql(e.to_string()),
            DbError::Interrupted(_) => AppError::Interrupted(e.to_string()),
            DbError::FileReplaced | DbError::SchemaChanged => AppError::Stale(e.to_string()),
            DbError::Open(_) | DbError::Busy(_) | DbError::Full(_) => {
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

impl AppError {
    /// Datasette's error JSON for this error.
    pub fn body(&self) -> ErrorBody<'_> {
        ErrorBody {
            ok: false,
            error: match self {
                AppError::NotFound(m)
                | AppError::BadRequest(m)
                | AppError::InvalidSql(m)
                | AppError::Interrupted(m)
                | AppError::Forbidden(m)
                | AppError::UriTooLong(m)
                | AppError::TooLarge(m)
                | AppError::Internal(m)
                | AppError::Unavailable(m)
                | AppError::Busy(m)
                | AppError::Stale(m) => m,
            },
            status: self.status().as_u16(),
            title: self.title(),
        }
    }
}

/// Handlers return `Result<_, AppError>` and use `?`: the error becomes Datasette's error JSON
/// here, and [`error_pages`] turns it into an HTML page where the URL asked for one.
impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        // An error's body is small: it fits any answer limit.
        let mut r = render::json::response(self.status(), &self.body())
            .unwrap_or_else(|_| HttpResponse::build(self.status()).finish());
        retry_later(&mut r);
        r
    }
}

/// The answer for `error` to `req`, as the error-page middleware gives it (less a plugin's
/// answer to a 403): JSON for a `.json` URL, else the site's HTML page. For errors found
/// outside that middleware.
pub fn answer_for(req: &actix_web::HttpRequest, error: &AppError) -> HttpResponse {
    let wants_json = Format::split(req.path().rsplit('/').next().unwrap_or("")).1 == Format::Json;
    match wants_json {
        true => error.error_response(),
        false => html_error_page(req, error),
    }
}

/// The site's HTML page for `error`.
pub fn html_error_page(req: &actix_web::HttpRequest, error: &AppError) -> HttpResponse {
    let mut page = match req.app_data::<web::Data<AppState>>() {
        Some(state) => {
            let path = format!("/{}", req.path().trim_start_matches('/'));
            let here = match req.query_string() {
                "" => path,
                q => format!("{path}?{q}"),
            };
            let view = crate::app::View {
                kind: "error",
                ..Default::default()
            };
            let chrome = state.chrome(&state.actor(req), &here, view);
            let body = error.body();
            render::html::error_page(error.status(), body.title, body.error, &chrome)
        }
        None => error.error_response(),
    };
    retry_later(&mut page);
    page
}

/// A 503 says when to ask again.
pub fn retry_later(r: &mut HttpResponse) {
    if r.status() == StatusCode::SERVICE_UNAVAILABLE {
        r.headers_mut().insert(
            actix_web::http::header::RETRY_AFTER,
            actix_web::http::header::HeaderValue::from_static("1"),
        );
    }
}
