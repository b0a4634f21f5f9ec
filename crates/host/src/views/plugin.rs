//! Requests to routes that plugins serve, and the request as plugins see it.

use actix_session::{Session, SessionExt};
use actix_web::{web, HttpRequest, HttpResponse};
use datasette_plugin_api::Response;
use serde_json::{Map, Value};

use super::templates::render_template;
use crate::app::AppState;
use crate::app::View;
use crate::error::AppError;
use crate::permissions::Actor;
use crate::plugins::http;
use crate::plugins::routes::Matched;
use crate::render::html::Chrome;
use crate::session;
use crate::views::{csrf, write_api};
use askama::Template;

/// Where a plugin's own values live in the session.
fn session_key(plugin: &str) -> String {
    format!("plugin:{plugin}")
}

/// Serves a plugin route: the body is read (spooled to a file when large), a POST is checked
/// for where it comes from and for its CSRF token, and the plugin's `handle` runs on the
/// blocking pool.
pub async fn handle(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let session = req.get_session();
    actix_web::HttpMessage::extensions_mut(&req).insert(crate::telemetry::PageKind("plugin"));
    let actor = state.actor(&req);
    let method = req.method().as_str().to_string();
    let (index, route, params) = match state.plugins.route(&method, req.path()) {
        Matched::Found((index, route), params) => (index, route, params),
        Matched::WrongMethod(methods) => {
            return Ok(HttpResponse::MethodNotAllowed()
                .insert_header(("Allow", methods.join(", ")))
                .content_type("text/plain; charset=utf-8")
                .body(format!(
                    "{method} is not allowed here: {}",
                    methods.join(", ")
                )))
        }
        Matched::None => return Err(AppError::NotFound("Page not found".into())),
    };
    let name = state.plugins.plugin(index).library.name;
    // A route that changes things and takes no token from its callers checks them itself.
    let protected =
        !matches!(method.as_str(), "GET" | "HEAD" | "OPTIONS") && route.csrf_exempt.is_none();
    // Another site's page is refused before its body is read.
    if protected {
        csrf::same_origin(&state, &req)?;
    }
    let cap = state.settings.max_post_body_bytes;
    let limit = route.max_body_bytes.map_or(cap, |b| b.min(cap));
    if write_api::declared_too_large(&req, limit) {
        return Err(write_api::too_large(limit));
    }
    let body = super::plugin_body::read_body(payload, limit).await?;
    let mut request = state.describe(&req);
    request.body = body.bytes;
    request.body_file = body
        .file
        .as_ref()
        .map(|f| f.path().to_string_lossy().into_owned());
    let (mut request, new_cookie) = with_csrf_token(&state, &req, request, protected).await?;
    let token_sent = request.csrf_token.clone();
    request.params = params;
    request.actor = actor.clone();
    request.session = session
        .get::<Map<String, Value>>(&session_key(name))
        .ok()
        .flatten()
        .unwrap_or_default();
    let path = req.path().to_string();
    let page = match req.query_string() {
        "" => (actor.clone(), path.clone()),
        query => (actor.clone(), format!("{path}?{query}")),
    };
    let plugins = state.plugins.clone();
    let spooled = body.file;
    web::block(move || {
        let answer = plugins.plugin(index).handle(&request);
        // The spooled body is deleted once the plugin is done with it.
        drop(spooled);
        answer
    })
    .await
    .map_err(|e| e.to_string())
    .and_then(|r| r)
    .map(http::AnswerFile::take)
    .and_then(|(r, file)| Ok((in_site_page(r, &state, &page)?, file)))
    .and_then(|(r, file)| {
        // The token's cookie goes with the answers that hold the token (a form), not with
        // every answer.
        let holds_token = new_cookie.is_some() && contains(&r.body, token_sent.as_bytes());
        let mut out = respond(r, file, &req, &session, &state, name)
            .inspect_err(|problem| tracing::error!(plugin = name, "handle: {problem}"))?;
        if let (Some(cookie), true) = (new_cookie, holds_token) {
            out.add_cookie(&cookie).map_err(|e| e.to_string())?;
        }
        Ok(out)
    })
    // The details are in the log; the visitor learns only which plugin failed.
    .map_err(|_: String| {
        AppError::Internal(format!(
            "The plugin {name} failed while handling this request"
        ))
    })
}

/// The request with the visitor's CSRF token (and the cookie to set when it is new); for a
/// protected route, checked against what the POST carries, which is looked for off the async
/// workers (the token may be anywhere in a form).
async fn with_csrf_token(
    state: &AppState,
    req: &HttpRequest,
    mut request: datasette_plugin_api::Request,
    protected: bool,
) -> Result<
    (
        datasette_plugin_api::Request,
        Option<actix_web::cookie::Cookie<'static>>,
    ),
    AppError,
> {
    let (token, new_cookie) = csrf::token(state, req);
    request.csrf_token = token;
    if protected {
        let (back, sent) = web::block(move || {
            let sent = posted_token(&request);
            (request, sent)
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
        request = back;
        csrf::check(state, req, sent.as_deref())?;
    }
    Ok((request, new_cookie))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// The `csrftoken` field of a form: anywhere in a URL-encoded one, the first part of a
/// multipart one (read without reading the rest).
fn posted_token(request: &datasette_plugin_api::Request) -> Option<String> {
    use std::io::Read;
    let content_type = request
        .header("content-type")
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let fields = request.form().ok()?;
        return fields
            .into_iter()
            .find(|(k, _)| k == csrf::FIELD)
            .map(|(_, v)| v);
    }
    let mut parts = request.multipart().ok()?;
    let (part, reader) = parts.next_part().ok()??;
    (part.name == csrf::FIELD).then_some(())?;
    let mut token = String::new();
    reader.take(256).read_to_string(&mut token).ok()?;
    Some(token)
}

/// A response made with `Response::page` (by any hook that answers with a response): its body
/// put inside the site's page.
pub fn in_site_page(
    mut r: Response,
    state: &AppState,
    (actor, path_and_query): &(crate::permissions::Actor, String),
) -> Result<Response, String> {
    let Some(title) = r.page_title.take() else {
        return Ok(r);
    };
    // The header shows who is signed in once the response is applied.
    let actor = match (&r.set_actor, r.clear_actor) {
        (Some(signed_in), _) => Some(signed_in.clone()),
        (None, true) => None,
        (None, false) => actor.clone(),
    };
    let html = String::from_utf8_lossy(&r.body);
    r.body = plugin_page(state, &actor, path_and_query, &title, &html)
        .map_err(|e| e.to_string())?
        .into_bytes();
    if r.header("content-type").is_none() {
        r.headers
            .push(("content-type".into(), "text/html; charset=utf-8".into()));
    }
    Ok(r)
}

/// Turns a plugin's response into an HTTP response and applies its session effects and
/// message.
fn respond(
    r: Response,
    file: Option<http::AnswerFile>,
    req: &HttpRequest,
    session: &Session,
    state: &AppState,
    plugin: &str,
) -> Result<HttpResponse, String> {
    let out = crate::plugins::http_response(&r)?;
    if let Some((text, kind)) = &r.message {
        let kind = match kind.as_str() {
            "info" | "warning" | "error" => kind.as_str(),
            _ => "info",
        };
        super::messages::add(req, text, kind);
    }
    if r.clear_actor {
        session::sign_out(session);
    }
    if let Some(actor) = &r.set_actor {
        if !actor.is_object() {
            return Err(format!("set_actor must be an object, not {actor}"));
        }
        session::set_actor(session, actor, state.session.ttl_hours).map_err(|e| e.to_string())?;
    }
    if let Some(values) = r.session {
        let key = session_key(plugin);
        if values.is_empty() {
            session.remove(&key);
        } else {
            session.insert(key, values).map_err(|e| e.to_string())?;
        }
    }
    http::with_body(out, file, r.body)
}

// ---- HTML: this page's template and its adapter ----

#[derive(Template)]
#[template(path = "plugin.html")]
struct PluginTemplate<'a> {
    chrome: &'a Chrome,
    title: &'a str,
    body: &'a str,
}

/// A plugin's page (`Response::page`): its HTML inside the site's header, menu and footer.
pub fn plugin_page(
    state: &AppState,
    actor: &Actor,
    path_and_query: &str,
    title: &str,
    body: &str,
) -> Result<String, AppError> {
    let view = View {
        kind: "plugin",
        ..View::default()
    };
    render_template(&PluginTemplate {
        chrome: &state.chrome(actor, path_and_query, view),
        title,
        body,
    })
}
