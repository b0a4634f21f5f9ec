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
use crate::plugins::routes::Matched;
use crate::render::html::Chrome;
use crate::session;
use askama::Template;

/// Where a plugin's own values live in the session.
fn session_key(plugin: &str) -> String {
    format!("plugin:{plugin}")
}

/// Serves a plugin route: the plugin's `handle` runs on the blocking pool.
pub async fn handle(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let session = req.get_session();
    actix_web::HttpMessage::extensions_mut(&req).insert(crate::telemetry::PageKind("plugin"));
    let actor = state.actor(&req);
    let method = req.method().as_str();
    let (plugin, params) = match state.plugins.route(method, req.path()) {
        Matched::Found(plugin, params) => (plugin, params),
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
    let name = plugin.library.name;
    let body = String::from_utf8(body.to_vec())
        .map_err(|_| AppError::BadRequest("The request body is not UTF-8 text".into()))?;
    let mut request = state.describe(&req);
    request.body = body;
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
    let method = method.to_string();
    web::block(move || match plugins.route(&method, &path) {
        Matched::Found(p, _) => p.handle(&request),
        _ => Err("the route went away".into()),
    })
    .await
    .map_err(|e| e.to_string())
    .and_then(|r| r)
    .and_then(|r| in_site_page(r, &state, &page))
    .and_then(|r| {
        respond(r, &session, &state, name)
            .inspect_err(|problem| tracing::error!(plugin = name, "handle: {problem}"))
    })
    // The details are in the log; the visitor learns only which plugin failed.
    .map_err(|_| {
        AppError::Internal(format!(
            "The plugin {name} failed while handling this request"
        ))
    })
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
    r.body =
        plugin_page(state, &actor, path_and_query, &title, &r.body).map_err(|e| e.to_string())?;
    if r.header("content-type").is_none() {
        r.headers
            .push(("content-type".into(), "text/html; charset=utf-8".into()));
    }
    Ok(r)
}

/// Turns a plugin's response into an HTTP response and applies its session effects.
fn respond(
    r: Response,
    session: &Session,
    state: &AppState,
    plugin: &str,
) -> Result<HttpResponse, String> {
    let mut out = crate::plugins::http_response(&r)?;
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
    Ok(out.body(r.body))
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
