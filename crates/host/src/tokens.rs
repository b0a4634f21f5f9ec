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

pub use crate::permissions::Restrictions;

pub const PREFIX: &str = "dstok_";

/// Tokens longer than this are refused unread.
const MAX_TOKEN_BYTES: usize = 8 << 10;
/// Values plugins had signed, longer than this, are refused unread.
const MAX_SIGNED_BYTES: usize = 1 << 20;

/// The key tokens are signed with.
#[derive(Clone)]
pub struct TokenKey([u8; 32]);

impl TokenKey {
    /// Derived from the instance's secret; without one, random (tokens then last until the
    /// process stops, as sign-ins do).
    pub fn from_secret(secret: Option<&str>) -> TokenKey {
        TokenKey::derive(secret, b"datasette-rs API token key v1")
    }

    /// A key for `purpose` alone, derived from the instance's secret (random without one).
    pub fn derive(secret: Option<&str>, purpose: &[u8]) -> TokenKey {
        let mut key = [0u8; 32];
        match secret {
            Some(secret) => hkdf::Hkdf::<Sha256>::new(None, secret.as_bytes())
                .expand(purpose, &mut key)
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

    /// `value` signed for `namespace` (plugins' `Host::sign`): base64url JSON of the value and
    /// the time, a dot, and the MAC of the namespace and that payload.
    pub fn sign_value(&self, namespace: &str, value: &Value) -> String {
        let payload = json!({"v": value, "t": now()});
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap_or_default());
        let signature = URL_SAFE_NO_PAD.encode(self.mac(&format!("{namespace}\0{payload}")));
        format!("{payload}.{signature}")
    }

    /// The value [`TokenKey::sign_value`] signed for `namespace`, not older than `max_age`
    /// seconds at `now`.
    pub fn unsign_value(
        &self,
        namespace: &str,
        signed: &str,
        max_age: Option<u64>,
        now: u64,
    ) -> Result<Value, &'static str> {
        let bad = "Invalid signature";
        if signed.len() > MAX_SIGNED_BYTES {
            return Err(bad);
        }
        let (payload, signature) = signed.split_once('.').ok_or(bad)?;
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| bad)?;
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("any key length");
        mac.update(format!("{namespace}\0{payload}").as_bytes());
        mac.verify_slice(&signature).map_err(|_| bad)?;
        let mut payload: Map<String, Value> = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or(bad)?;
        let signed_at = payload.get("t").and_then(Value::as_u64).ok_or(bad)?;
        if max_age.is_some_and(|age| now.saturating_sub(signed_at) > age) {
            return Err("Signature has expired");
        }
        Ok(payload.remove("v").unwrap_or(Value::Null))
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
        let rest = token.strip_prefix(PREFIX).ok_or("Invalid token")?;
        if rest.len() > MAX_TOKEN_BYTES {
            return Err("Invalid token");
        }
        let (payload, signature) = rest.split_once('.').ok_or("Invalid token signature")?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| "Invalid token signature")?;
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("any key length");
        mac.update(payload.as_bytes());
        mac.verify_slice(&signature)
            .map_err(|_| "Invalid token signature")?;
        let claims: Claims = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or("Invalid token signature")?;
        if claims.expires().is_some_and(|at| at <= now) {
            return Err("Token has expired");
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
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| t.starts_with(PREFIX))
}

/// The actor a valid `dstok_` token signed this request in as.
#[derive(Clone)]
pub struct TokenActor(pub Value);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::permissions::{Action, Resource};

    fn key() -> TokenKey {
        TokenKey::from_secret(Some("a secret of at least thirty-two bytes"))
    }

    #[test]
    fn signed_values_come_back_only_intact_in_their_namespace_and_time() {
        let key = key();
        let value = serde_json::json!({"user": "ada", "n": [1, 2]});
        let signed = key.sign_value("cookies", &value);
        assert_eq!(
            key.unsign_value("cookies", &signed, None, now()),
            Ok(value.clone())
        );
        assert!(key.unsign_value("tokens", &signed, None, now()).is_err());
        let other = TokenKey::derive(Some("a secret of at least thirty-two bytes"), b"other");
        assert!(other.unsign_value("cookies", &signed, None, now()).is_err());
        let (payload, signature) = signed.split_once('.').unwrap();
        let forged = URL_SAFE_NO_PAD.encode(br#"{"v": "root", "t": 0}"#);
        assert!(key
            .unsign_value("cookies", &format!("{forged}.{signature}"), None, now())
            .is_err());
        assert_eq!(
            key.unsign_value("cookies", &signed, Some(60), now() + 61),
            Err("Signature has expired")
        );
        assert_eq!(
            key.unsign_value("cookies", &signed, Some(60), now() + 59),
            Ok(value)
        );
        assert!(key.unsign_value("cookies", payload, None, now()).is_err());
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
        assert_eq!(key().verify(&token, 1_060), Err("Token has expired"));
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
