//! Signed API tokens, as Datasette 1.0 makes them: `dstok_` and a signed payload naming the
//! actor, when it was made, how long it lasts and, optionally, the only actions it may be used
//! for. `Authorization: Bearer dstok_…` signs a request in as `{"id": …, "token": "dstok"}`.
//!
//! The payload is base64url JSON, signed with HMAC-SHA256 under a key derived from `--secret`
//! for this purpose alone (never the session cookie's key).

use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::Sha256;

use crate::permissions::{Action, Resource};

pub const PREFIX: &str = "dstok_";

/// Tokens longer than this are refused unread.
const MAX_TOKEN_BYTES: usize = 8 << 10;

/// The key tokens are signed with.
#[derive(Clone)]
pub struct TokenKey([u8; 32]);

impl TokenKey {
    /// Derived from the instance's secret; without one, random (tokens then last until the
    /// process stops, as sign-ins do).
    pub fn from_secret(secret: Option<&str>) -> TokenKey {
        let mut key = [0u8; 32];
        match secret {
            Some(secret) => hkdf::Hkdf::<Sha256>::new(None, secret.as_bytes())
                .expand(b"datasette-rs API token key v1", &mut key)
                .expect("32 bytes is a valid HKDF-SHA256 output length"),
            None => rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key),
        }
        TokenKey(key)
    }

    fn mac(&self, payload: &str) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("any key length");
        mac.update(payload.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// A token for `claims`.
    pub fn sign(&self, claims: &Claims) -> String {
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
        let signature = URL_SAFE_NO_PAD.encode(self.mac(&payload));
        format!("{PREFIX}{payload}.{signature}")
    }

    /// The claims of a token this key signed, not expired at `now`; why not otherwise (the
    /// reason names nothing of the key).
    pub fn verify(&self, token: &str, now: u64) -> Result<Claims, &'static str> {
        let rest = token.strip_prefix(PREFIX).ok_or("not a dstok_ token")?;
        if rest.len() > MAX_TOKEN_BYTES {
            return Err("the token is too long");
        }
        let (payload, signature) = rest.split_once('.').ok_or("the token is malformed")?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| "the token is malformed")?;
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("any key length");
        mac.update(payload.as_bytes());
        mac.verify_slice(&signature)
            .map_err(|_| "the token's signature is not valid")?;
        let claims: Claims = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or("the token is malformed")?;
        if claims.expires().is_some_and(|at| at <= now) {
            return Err("the token has expired");
        }
        Ok(claims)
    }
}

/// What a token says, in Datasette's field names.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    /// The actor's id.
    pub a: String,
    /// When it was made, Unix seconds.
    pub t: u64,
    /// How long it lasts, in seconds; none: until the secret changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub d: Option<u64>,
    /// The only actions it may be used for.
    #[serde(default, rename = "_r", skip_serializing_if = "Option::is_none")]
    pub r: Option<Restrictions>,
}

impl Claims {
    pub fn expires(&self) -> Option<u64> {
        self.d.map(|d| self.t.saturating_add(d))
    }

    /// The actor the token signs a request in as.
    pub fn actor(&self) -> Value {
        let mut actor = Map::new();
        actor.insert("id".into(), Value::String(self.a.clone()));
        actor.insert("token".into(), json!("dstok"));
        if let Some(expires) = self.expires() {
            actor.insert("token_expires".into(), json!(expires));
        }
        if let Some(r) = &self.r {
            actor.insert("_r".into(), serde_json::to_value(r).unwrap_or_default());
        }
        Value::Object(actor)
    }
}

/// Datasette's `_r`: actions allowed everywhere (`a`), in a database (`d`), or on one table
/// or query (`r`). Actions are written by name or by Datasette's abbreviation.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Restrictions {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub a: Vec<String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub d: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub r: Map<String, Value>,
}

fn lists(list: Option<&Value>, action: Action) -> bool {
    list.and_then(Value::as_array).is_some_and(|l| {
        l.iter()
            .filter_map(Value::as_str)
            .any(|a| a == action.name() || a == action.abbreviation())
    })
}

impl Restrictions {
    /// The restrictions an actor carries (a restricted token's), if any.
    pub fn of(actor: &Option<Value>) -> Option<Restrictions> {
        let r = actor.as_ref()?.get("_r")?;
        // A `_r` that cannot be read restricts to nothing rather than to everything.
        Some(serde_json::from_value(r.clone()).unwrap_or_default())
    }

    /// Whether these restrictions leave `action` on `resource` possible. Seeing the instance
    /// and a database is possible wherever anything inside them is listed: a token for one
    /// table's rows must reach that table.
    pub fn allow(&self, action: Action, resource: &Resource) -> bool {
        if lists(Some(&Value::from(self.a.clone())), action) {
            return true;
        }
        match resource {
            Resource::Instance => {
                action == Action::ViewInstance
                    && (!self.a.is_empty() || !self.d.is_empty() || !self.r.is_empty())
            }
            Resource::Database(db) => {
                lists(self.d.get(db), action)
                    || (action == Action::ViewDatabase
                        && (!self.a.is_empty()
                            || self.d.contains_key(db)
                            || self.r.contains_key(db)))
            }
            Resource::Child(db, child) => {
                lists(self.d.get(db), action)
                    || lists(self.r.get(db).and_then(|t| t.get(child)), action)
            }
        }
    }
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The `dstok_` token of an `Authorization: Bearer` header, if it has one. Bearer tokens of
/// other shapes are left to plugins.
pub fn bearer(req: &actix_web::HttpRequest) -> Option<&str> {
    req.headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| t.starts_with(PREFIX))
}

/// The actor a valid `dstok_` token signed this request in as.
#[derive(Clone)]
pub struct TokenActor(pub Value);

/// Checks a `dstok_` bearer token before anything else runs: a valid one signs the request in
/// (see [`TokenActor`]); an invalid or expired one is a 401, never an anonymous request.
pub async fn middleware(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    use actix_web::HttpMessage;
    let state = req
        .app_data::<actix_web::web::Data<crate::app::AppState>>()
        .cloned();
    let checked = state.as_ref().and_then(|state| {
        let token = bearer(req.request())?;
        if !state.settings.allow_signed_tokens {
            return Some(Err("signed API tokens are not accepted here"));
        }
        Some(verify_for(state, token))
    });
    match checked {
        Some(Ok(actor)) => {
            req.extensions_mut().insert(TokenActor(actor));
        }
        Some(Err(why)) => {
            let body = json!({"ok": false, "error": format!("Invalid token: {why}"),
                "errors": [format!("Invalid token: {why}")], "status": 401});
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
fn verify_for(state: &crate::app::AppState, token: &str) -> Result<Value, &'static str> {
    let claims = state.session.tokens.verify(token, now())?;
    let ttl = state.settings.max_signed_tokens_ttl;
    if ttl > 0 && now() >= claims.t.saturating_add(ttl) {
        return Err("the token has expired");
    }
    Ok(claims.actor())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> TokenKey {
        TokenKey::from_secret(Some("a secret of at least thirty-two bytes"))
    }

    fn claims(d: Option<u64>) -> Claims {
        Claims {
            a: "ana".into(),
            t: 1_000,
            d,
            r: None,
        }
    }

    #[test]
    fn a_signed_token_verifies_until_it_expires() {
        let token = key().sign(&claims(Some(60)));
        assert!(token.starts_with("dstok_"));
        assert_eq!(key().verify(&token, 1_059), Ok(claims(Some(60))));
        assert_eq!(key().verify(&token, 1_060), Err("the token has expired"));
        let forever = key().sign(&claims(None));
        assert!(key().verify(&forever, u64::MAX).is_ok());
    }

    #[test]
    fn a_changed_or_foreign_token_is_refused() {
        let token = key().sign(&claims(None));
        let other = TokenKey::from_secret(Some("another secret of thirty-two bytes!"));
        assert!(other.verify(&token, 0).is_err());
        let (payload, signature) = token.split_once('.').unwrap();
        let forged = URL_SAFE_NO_PAD.encode(br#"{"a":"root","t":1000}"#);
        assert!(key()
            .verify(&format!("dstok_{forged}.{signature}"), 0)
            .is_err());
        assert!(key().verify(&format!("{payload}.x"), 0).is_err());
        assert!(key().verify("dstok_nothing", 0).is_err());
    }

    #[test]
    fn restrictions_list_actions_by_name_or_abbreviation() {
        let r: Restrictions = serde_json::from_value(json!({
            "a": ["vi"],
            "d": {"data": ["insert-row"]},
            "r": {"data": {"t": ["vt", "ur"]}}
        }))
        .unwrap();
        let table = |t: &str| Resource::Child("data".into(), t.into());
        assert!(r.allow(Action::ViewInstance, &Resource::Instance));
        assert!(r.allow(Action::ViewDatabase, &Resource::Database("data".into())));
        assert!(r.allow(Action::ViewDatabase, &Resource::Database("other".into())));
        let one_table: Restrictions =
            serde_json::from_value(json!({"r": {"data": {"t": ["vt"]}}})).unwrap();
        assert!(!one_table.allow(Action::ViewDatabase, &Resource::Database("other".into())));
        assert!(one_table.allow(Action::ViewDatabase, &Resource::Database("data".into())));
        assert!(r.allow(Action::InsertRow, &table("anything")));
        assert!(r.allow(Action::UpdateRow, &table("t")));
        assert!(r.allow(Action::ViewTable, &table("t")));
        assert!(!r.allow(Action::ViewTable, &table("u")));
        assert!(!r.allow(Action::DeleteRow, &table("t")));
        assert!(!r.allow(Action::ExecuteSql, &Resource::Database("data".into())));
    }
}
