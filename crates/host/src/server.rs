//! The HTTP server: routes and the headers every response carries.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{DefaultHeaders, ErrorHandlers};
use actix_web::{web, App, HttpMessage, HttpServer};

use crate::app::AppState;
use crate::{telemetry, views};

/// The application, for the server and for in-process tests.
pub fn app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let sessions = crate::session::middleware(&state.session);
    let routes = state.clone();
    let cors = DefaultHeaders::new()
        .add(("Access-Control-Allow-Origin", "*"))
        .add(("Access-Control-Allow-Headers", "Authorization"))
        .add(("Access-Control-Expose-Headers", "Link"));
    App::new()
        .wrap(actix_web::middleware::Condition::new(
            state.settings.cors,
            cors,
        ))
        .app_data(state)
        .wrap(ErrorHandlers::new().default_handler(crate::views::error_pages::error_pages))
        .wrap(actix_web::middleware::from_fn(bearer_tokens))
        .wrap(actix_web::middleware::from_fn(crate::delivery::deliver))
        .wrap(sessions)
        .wrap(
            DefaultHeaders::new()
                .add(("X-Content-Type-Options", "nosniff"))
                .add(("X-Frame-Options", "DENY"))
                .add(("Referrer-Policy", "strict-origin-when-cross-origin"))
                .add(("Content-Security-Policy", "frame-ancestors 'none'")),
        )
        .wrap(actix_web::middleware::Condition::new(
            routes.settings.trace_debug,
            actix_web::middleware::from_fn(crate::render::trace::middleware),
        ))
        .configure(|cfg| views::configure(cfg, &routes))
        .wrap(actix_web::middleware::from_fn(strip_base_url))
        .wrap(actix_web::middleware::from_fn(log_request))
}

/// Checks a `dstok_` bearer token before anything else runs: a valid one signs the request in
/// (see [`TokenActor`]); an invalid or expired one is a 401, never an anonymous request.
async fn bearer_tokens(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    use actix_web::HttpMessage;
    let state = req.app_data::<actix_web::web::Data<AppState>>().cloned();
    let checked = state.as_ref().and_then(|state| {
        let token = crate::tokens::bearer(req.request())?;
        if !state.settings.allow_signed_tokens {
            return Some(Err("Signed API tokens are not enabled"));
        }
        Some(verify_for(state, token))
    });
    match checked {
        Some(Ok(actor)) => {
            req.extensions_mut()
                .insert(crate::tokens::TokenActor(actor));
        }
        Some(Err(why)) => {
            let body =
                serde_json::json!({"ok": false, "error": why, "errors": [why], "status": 401});
            let response = actix_web::HttpResponse::Unauthorized()
                .insert_header(("WWW-Authenticate", "Bearer error=\"invalid_token\""))
                .content_type(crate::render::json::CONTENT_TYPE)
                .body(body.to_string());
            return Ok(req.into_response(response));
        }
        None => {}
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// A token's actor, under the instance's key and its longest lifetime
/// (`max_signed_tokens_ttl`).
fn verify_for(state: &AppState, token: &str) -> Result<serde_json::Value, &'static str> {
    let claims = state.session.tokens.verify(token, crate::tokens::now())?;
    let ttl = state.settings.max_signed_tokens_ttl;
    if ttl > 0 && crate::tokens::now() >= claims.t.saturating_add(ttl) {
        return Err("Token has expired");
    }
    Ok(claims.actor())
}

/// Under a `base_url` such as `/data/`, `/data/fixtures` is routed as `/fixtures`. A path
/// outside the prefix is routed as it is, as Datasette does: a proxy may strip the prefix
/// itself, and probes reach an instance directly.
async fn strip_base_url(
    mut req: ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let prefix = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.settings.prefix().to_string())
        .unwrap_or_default();
    let inside = (!prefix.is_empty())
        .then(|| req.path().strip_prefix(prefix.as_str()))
        .flatten()
        .filter(|rest| rest.is_empty() || rest.starts_with('/'));
    if let Some(rest) = inside {
        let path = if rest.is_empty() { "/" } else { rest };
        let path_and_query = match req.query_string() {
            "" => path.to_string(),
            q => format!("{path}?{q}"),
        };
        let mut parts = req.head().uri.clone().into_parts();
        parts.path_and_query = Some(
            path_and_query
                .parse()
                .map_err(actix_web::error::ErrorBadRequest)?,
        );
        let uri =
            actix_web::http::Uri::from_parts(parts).map_err(actix_web::error::ErrorBadRequest)?;
        req.match_info_mut().get_mut().update(&uri);
        req.head_mut().uri = uri;
    }
    next.call(req).await
}

/// One line per request (target `request`): method, path, status, duration and the actor's
/// id. Never the query string, a cookie or a header: they may carry tokens.
async fn log_request(
    req: ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = std::time::Instant::now();
    let (method, path) = (req.method().to_string(), req.path().to_string());
    let under_way = telemetry::begin(&method);
    let res = crate::app::request_memo::scope(crate::db::seen::scope(next.call(req))).await?;
    drop(under_way);
    let actor = res
        .request()
        .extensions()
        .get::<crate::app::ActorId>()
        .map(|a| a.0.clone())
        .unwrap_or_default();
    let kind = res
        .request()
        .extensions()
        .get::<telemetry::PageKind>()
        .map_or("other", |k| k.0);
    telemetry::request(kind, res.status().as_u16(), started.elapsed().as_secs_f64());
    tracing::info!(
        target: "request",
        method,
        path,
        kind,
        status = res.status().as_u16(),
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        actor,
    );
    Ok(res)
}

/// Answers one GET of `path` (`serve --get`): its status and body, through the whole app on a
/// loopback port of its own, as a client would get them.
pub async fn get_once(state: AppState, path: &str) -> std::io::Result<(u16, Vec<u8>)> {
    if !path.starts_with('/') {
        return Err(std::io::Error::other(format!(
            "{path}: a path starts with /"
        )));
    }
    let state = serving(state);
    let app_state = state.clone();
    let server = HttpServer::new(move || app(app_state.clone()))
        .workers(1)
        .disable_signals()
        .bind(("127.0.0.1", 0))?;
    let port = server.addrs()[0].port();
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    let answer = async {
        let mut r = awc::Client::default()
            .get(format!("http://127.0.0.1:{port}{path}"))
            .send()
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let body = r
            .body()
            .limit(1 << 30)
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok((r.status().as_u16(), body.to_vec()))
    }
    .await;
    handle.stop(true).await;
    answer
}

/// The state as the app holds it, its plugins given the services it offers them.
fn serving(state: AppState) -> web::Data<AppState> {
    let state = web::Data::new(state);
    let services: std::sync::Arc<dyn crate::plugins::host_services::Services> =
        state.clone().into_inner();
    state.plugins.attach(std::sync::Arc::downgrade(&services));
    state
}

/// How long requests in flight may take to finish once the server is told to stop.
const SHUTDOWN_SECONDS: u64 = 10;

/// Serves until the process is stopped.
pub async fn run(state: AppState, host: &str, port: u16) -> std::io::Result<()> {
    telemetry::install();
    let state = serving(state);
    let root_token = state
        .root_token
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let app_state = state.clone();
    // SIGTERM or SIGINT: stop accepting, let requests in flight finish (at most
    // SHUTDOWN_SECONDS), then return, and the process exits 0.
    let server = HttpServer::new(move || app(app_state.clone()))
        .shutdown_timeout(SHUTDOWN_SECONDS)
        .bind((host, port))?;
    for addr in server.addrs() {
        // Tests read these lines to learn the port when started with -p 0.
        eprintln!("Serving at http://{addr}{}", state.settings.base_url);
        if let Some(token) = &root_token {
            let link = state.settings.url("/-/auth-token");
            eprintln!("Sign in as root (once): http://{addr}{link}?token={token}");
        }
    }
    // Bound: connections wait in the backlog until `run` takes them.
    state.plugins.ready();
    server.run().await
}
