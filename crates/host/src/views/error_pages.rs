//! Error pages: an [`AppError`] answered to a URL that is not `.json` becomes an HTML page in
//! the site's chrome, or a plugin's answer to a 403 (its `forbidden` hook).

use actix_web::dev::ServiceResponse;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{web, HttpResponse};

use crate::app::AppState;
use crate::error::{html_error_page, AppError};
use crate::render::Format;

/// The `forbidden` hook's message for a 403 of `req`: `None` when no plugin implements it.
fn forbidden_message(
    state: &AppState,
    req: &actix_web::HttpRequest,
    error: &AppError,
) -> Option<datasette_plugin_api::Forbidden> {
    let AppError::Forbidden(message) = error else {
        return None;
    };
    if !state.plugins.answers_forbidden() {
        return None;
    }
    Some(datasette_plugin_api::Forbidden {
        page: datasette_plugin_api::PageContext {
            view: "forbidden".into(),
            actor: state.actor(req),
            request: state.describe(req),
            ..Default::default()
        },
        message: message.clone(),
    })
}

/// Middleware: an [`AppError`] answered to a URL that is not `.json` becomes an HTML page in
/// the site's chrome (the visitor's name, the plugins' menu links, sign-in links on a 403), or
/// a plugin's answer to a 403 (its `forbidden` hook, run on a blocking thread).
pub fn error_pages<B: 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let error = res
        .response()
        .error()
        .and_then(|e| e.as_error::<AppError>());
    let wants_json =
        Format::split(res.request().path().rsplit('/').next().unwrap_or("")).1 == Format::Json;
    let (Some(error), false) = (error, wants_json) else {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    };
    let state = res.request().app_data::<web::Data<AppState>>().cloned();
    let asked = state
        .as_ref()
        .and_then(|state| forbidden_message(state, res.request(), error));
    let (Some(state), Some(asked)) = (state, asked) else {
        let page = html_error_page(res.request(), error);
        let (req, _) = res.into_parts();
        return Ok(ErrorHandlerResponse::Response(
            ServiceResponse::new(req, page).map_into_right_body(),
        ));
    };
    Ok(ErrorHandlerResponse::Future(Box::pin(async move {
        let plugins = state.plugins.clone();
        let answer = web::block(move || plugins.forbidden(asked))
            .await
            .ok()
            .flatten();
        let req = res.request();
        let here = (
            state.actor(req),
            req.uri()
                .path_and_query()
                .map_or_else(String::new, |p| p.to_string()),
        );
        let from_plugin = answer.and_then(|answer| {
            let dressed = crate::views::plugin::in_site_page(answer, &state, &here);
            match dressed.and_then(crate::plugins::http::into_http) {
                Ok(page) => Some(page),
                Err(problem) => {
                    tracing::error!("forbidden: {problem}");
                    None
                }
            }
        });
        let page = match from_plugin {
            Some(page) => page,
            None => {
                let error = res
                    .response()
                    .error()
                    .and_then(|e| e.as_error::<AppError>());
                match error {
                    Some(error) => html_error_page(res.request(), error),
                    None => HttpResponse::Forbidden().finish(),
                }
            }
        };
        let (req, _) = res.into_parts();
        Ok(ServiceResponse::new(req, page).map_into_right_body())
    })))
}
