//! Datasette's protection of forms that change something (writable canned queries): a
//! `ds_csrftoken` cookie, signed with the server's key, whose value the form repeats in its
//! `csrftoken` field. A page of another site can neither read the cookie nor set a signed
//! one, so it cannot fill in the field. Beyond Datasette, a POST a browser marks as coming
//! from another site is refused whatever it carries.

use actix_web::cookie::{Cookie, CookieJar, SameSite};
use actix_web::HttpRequest;

use crate::app::AppState;
use crate::error::AppError;

pub const COOKIE: &str = "ds_csrftoken";
/// The form field (or JSON key) that repeats the cookie.
pub const FIELD: &str = "csrftoken";
/// The header an API client may send the token in instead.
const HEADER: &str = "x-csrftoken";

/// The token for this visitor's forms: the one their cookie holds when it is ours, else a new
/// one with the cookie that carries it, to set on the response.
pub fn token(state: &AppState, req: &HttpRequest) -> (String, Option<Cookie<'static>>) {
    if let Some(raw) = req.cookie(COOKIE).filter(|c| genuine(state, c.value())) {
        return (raw.value().to_string(), None);
    }
    let mut jar = CookieJar::new();
    jar.signed_mut(&state.session.key)
        .add(Cookie::new(COOKIE, crate::session::new_token()));
    let mut cookie = jar.get(COOKIE).expect("just added").clone();
    cookie.set_path(state.settings.cookie_path());
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Lax);
    cookie.set_secure(state.session.secure);
    (cookie.value().to_string(), Some(cookie))
}

/// Whether a cookie value was signed with this server's key.
fn genuine(state: &AppState, value: &str) -> bool {
    let mut jar = CookieJar::new();
    jar.add_original(Cookie::new(COOKIE, value.to_string()));
    jar.signed(&state.session.key).get(COOKIE).is_some()
}

/// Whether a POST may change something. `sent` is the token the form or JSON body carried.
/// Needed only when the request carries cookies (a browser's ambient credentials); a client
/// without cookies, or signing in with an `Authorization` header, cannot be a browser led
/// by another site, as in Datasette.
pub fn check(state: &AppState, req: &HttpRequest, sent: Option<&str>) -> Result<(), AppError> {
    let header = |n: &str| req.headers().get(n).and_then(|v| v.to_str().ok());
    same_origin(state, req)?;
    let bearer = header("authorization").is_some_and(|a| a.starts_with("Bearer "));
    if bearer || header("cookie").is_none() {
        return Ok(());
    }
    let cookie = req.cookie(COOKIE);
    let sent = sent.or_else(|| header(HEADER));
    match (cookie, sent) {
        (Some(c), Some(sent))
            if datasette_plugin_api::security::constant_time_eq(
                c.value().as_bytes(),
                sent.as_bytes(),
            ) && genuine(state, c.value()) =>
        {
            Ok(())
        }
        _ => Err(AppError::Forbidden(
            "The form's CSRF token is missing or does not match: reload the page and send it again"
                .into(),
        )),
    }
}

/// Refuses a request a browser marks as coming from a page of another site (the first half
/// of [`check`], all that a route taking no token asks).
pub fn same_origin(state: &AppState, req: &HttpRequest) -> Result<(), AppError> {
    let header = |n: &str| req.headers().get(n).and_then(|v| v.to_str().ok());
    if datasette_plugin_api::security::is_same_site(
        header("sec-fetch-site"),
        header("origin"),
        &state.origin(req),
    ) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "A page of another site may not change anything here".into(),
        ))
    }
}
