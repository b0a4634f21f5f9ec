//! Signing in as root with `--root`, and signing out.

use actix_session::Session;
use actix_web::{web, HttpRequest, HttpResponse};

use super::templates::render_template;
use crate::app::AppState;
use crate::app::View;
use crate::error::AppError;
use crate::render::html;
use crate::render::html::Chrome;
use crate::session;
use askama::Template;

/// `/-/auth-token?token=…`: the one-time URL printed by `--root`.
pub async fn root_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, AppError> {
    let given = crate::urls::parse_query(req.query_string())
        .into_iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v)
        .unwrap_or_default();
    let accepted = {
        let mut slot = state.root_token.lock().unwrap_or_else(|e| e.into_inner());
        let ok = slot.as_ref().is_some_and(|t| {
            datasette_plugin_api::security::constant_time_eq(t.as_bytes(), given.as_bytes())
        });
        if ok {
            // Used once: the URL is worthless after this.
            *slot = None;
        }
        ok
    };
    if !accepted {
        return Err(AppError::Forbidden("Invalid or already used token".into()));
    }
    session::set_actor(
        &session,
        &serde_json::json!({"id": "root"}),
        state.session.ttl_hours,
    )
    .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(HttpResponse::Found()
        .insert_header(("Location", state.settings.url("/")))
        .finish())
}

/// `GET /-/logout`: a page with the log-out button; nobody to log out goes home.
pub async fn logout_page(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    match state.actor(&req) {
        Some(actor) => Ok(html::ok(logout_html(&state, &actor)?)),
        None => Ok(HttpResponse::Found()
            .insert_header(("Location", state.settings.url("/")))
            .finish()),
    }
}

/// Whether a POST came from one of our own pages. Browsers send `Sec-Fetch-Site` and `Origin`
/// on cross-site POSTs; a client that sends neither is not a browser being tricked.
pub(super) fn same_origin(req: &HttpRequest, state: &AppState) -> bool {
    let header = |n: &str| req.headers().get(n).and_then(|v| v.to_str().ok());
    datasette_plugin_api::security::is_same_site(
        header("sec-fetch-site"),
        header("origin"),
        &state.origin(req),
    )
}

/// `POST /-/logout`: clears the actor.
pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, AppError> {
    if !same_origin(&req, &state) {
        return Err(AppError::Forbidden("Cross-site sign-out refused".into()));
    }
    session::clear(&session);
    Ok(HttpResponse::Found()
        .insert_header(("Location", state.settings.url("/")))
        .finish())
}

// ---- HTML: this page's template and its adapter ----

#[derive(Template)]
#[template(path = "logout.html")]
struct LogoutTemplate<'a> {
    chrome: &'a Chrome,
}

/// The log-out page of a signed-in actor (named in the chrome as every page names them).
fn logout_html(state: &AppState, actor: &serde_json::Value) -> Result<String, AppError> {
    render_template(&LogoutTemplate {
        chrome: &state.chrome(
            &Some(actor.clone()),
            "/-/logout",
            View {
                kind: "special",
                ..View::default()
            },
        ),
    })
}
