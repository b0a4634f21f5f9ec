//! `/-/create-token`: a signed-in actor makes an API token for themselves, as Datasette 1.0's
//! page does: an expiry, and optionally the only actions it may be used for.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::templates::render_template;
use crate::app::{AppState, View};
use crate::error::AppError;
use crate::permissions::{Action, Actor, Restrictions};
use crate::render::html::{self, Chrome};
use crate::tokens::{self, Claims};

/// The longest expiry the page takes (none at all is "never").
const LONGEST_EXPIRY: u64 = 100 * 365 * 86400;

/// `GET /-/create-token`: the form.
pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let actor = state.actor(&req);
    let id = who(&state, &actor)?;
    Ok(no_store(html::ok(form_html(
        &state, &actor, &id, None, None,
    )?)))
}

/// `POST /-/create-token`: the token, on the same page.
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let actor = state.actor(&req);
    let id = who(&state, &actor)?;
    if !super::auth::same_origin(&req, &state) {
        return Err(AppError::Forbidden(
            "A page of another site may not make tokens here".into(),
        ));
    }
    let fields = crate::urls::parse_query(&String::from_utf8_lossy(&body));
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let unit = match field("expire_type").unwrap_or("") {
        "" => None,
        "minutes" => Some(60),
        "hours" => Some(3600),
        "days" => Some(86400),
        other => {
            return Err(AppError::BadRequest(format!(
                "Unknown expire_type: {other}"
            )))
        }
    };
    let duration = match (unit, field("expire_duration").unwrap_or("").trim()) {
        (None, _) => None,
        (Some(unit), n) => Some(
            n.parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .and_then(|n| n.checked_mul(unit))
                .filter(|s| *s <= LONGEST_EXPIRY)
                .ok_or_else(|| {
                    AppError::BadRequest(
                        "The expiry must be a whole number, at most 100 years".into(),
                    )
                })?,
        ),
    };
    let ttl = state.settings.max_signed_tokens_ttl;
    let d = match duration {
        Some(d) if ttl > 0 => Some(d.min(ttl)),
        None if ttl > 0 => Some(ttl),
        d => d,
    };
    let mut restrictions = Restrictions::default();
    for (k, v) in &fields {
        if k == "all" {
            let action = Action::named(v)
                .ok_or_else(|| AppError::BadRequest(format!("Unknown action: {v}")))?;
            restrictions.a.push(action.name().to_string());
        }
    }
    let claims = Claims {
        a: id.clone(),
        t: tokens::now(),
        d,
        r: (!restrictions.a.is_empty()).then_some(restrictions),
    };
    let token = state.session.tokens.sign(&claims);
    let expires = claims.expires().map(|at| {
        super::magic::datetime_utc(std::time::UNIX_EPOCH + std::time::Duration::from_secs(at))
    });
    Ok(no_store(html::ok(form_html(
        &state,
        &actor,
        &id,
        Some(token),
        expires,
    )?)))
}

/// The id tokens are made for: a signed-in actor's, not a token's own.
fn who(state: &AppState, actor: &Actor) -> Result<String, AppError> {
    if !state.settings.allow_signed_tokens {
        return Err(AppError::Forbidden(
            "Signed tokens are not enabled for this instance".into(),
        ));
    }
    let Some(actor) = actor else {
        return Err(AppError::Forbidden(
            "You must be signed in to create a token".into(),
        ));
    };
    if actor.get("token").is_some() {
        return Err(AppError::Forbidden(
            "Token authentication cannot be used to create additional tokens".into(),
        ));
    }
    actor
        .get("id")
        .map(|id| id.as_str().map_or_else(|| id.to_string(), str::to_string))
        .ok_or_else(|| AppError::Forbidden("An actor without an id cannot have tokens".into()))
}

/// A token is shown once: no cache keeps the page.
fn no_store(mut r: HttpResponse) -> HttpResponse {
    super::private_to_visitor(&mut r);
    r
}

// ---- HTML: this page's template and its adapter ----

#[derive(Template)]
#[template(path = "create_token.html")]
struct CreateTokenTemplate<'a> {
    chrome: &'a Chrome,
    actor_id: String,
    actions: Vec<&'static str>,
    token: Option<String>,
    expires: Option<String>,
}

fn form_html(
    state: &AppState,
    actor: &Actor,
    id: &str,
    token: Option<String>,
    expires: Option<String>,
) -> Result<String, AppError> {
    render_template(&CreateTokenTemplate {
        chrome: &state.chrome(
            actor,
            "/-/create-token",
            View {
                kind: "special",
                ..View::default()
            },
        ),
        actor_id: id.to_string(),
        actions: Action::ALL.iter().map(|a| a.name()).collect(),
        token,
        expires,
    })
}
