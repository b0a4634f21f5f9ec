//! Auth0 API access tokens (when `audience` is configured): RS256 JWTs, verified against the
//! tenant's published keys (`/.well-known/jwks.json`, fetched through the host and cached),
//! with issuer, audience and expiry checked.

use std::sync::Mutex;

use datasette_plugin_api::{FetchRequest, Host};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use crate::flows::now;

/// Keys are fetched again after this long, or sooner when a token names a key not yet seen.
const KEYS_TTL_SECONDS: u64 = 3600;
/// …but not more often than this, whatever tokens arrive.
const KEYS_REFRESH_MIN_SECONDS: u64 = 60;

/// Why a token was not accepted: Auth0 could not be asked (`Unreachable`), or the token itself
/// fails (`Rejected`).
#[derive(Debug)]
pub enum TokenError {
    Unreachable(String),
    Rejected(String),
}

/// The tenant's keys, as last fetched.
#[derive(Default)]
pub struct Keys(Mutex<Option<(u64, JwkSet)>>);

impl Keys {
    /// The claims of `token`, once its signature, issuer (`base/`), audience and expiry hold.
    pub fn verify(
        &self,
        host: &Host,
        base: &str,
        audience: &str,
        token: &str,
    ) -> Result<Map<String, Value>, TokenError> {
        let rejected = |why: &str| TokenError::Rejected(why.to_string());
        let header = decode_header(token).map_err(|_| rejected("it is not a JWT"))?;
        if header.alg != Algorithm::RS256 {
            return Err(rejected(&format!(
                "it is signed with {:?}, not RS256",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| rejected("it names no key (kid)"))?;
        let key = self.key(host, base, &kid)?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[audience]);
        validation.set_issuer(&[format!("{base}/")]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        decode::<Map<String, Value>>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|e| {
                rejected(match e.kind() {
                    ErrorKind::ExpiredSignature => "it has expired",
                    ErrorKind::InvalidAudience => "it is for another audience",
                    ErrorKind::InvalidIssuer => "it was issued by another tenant",
                    ErrorKind::InvalidSignature => "its signature does not verify",
                    ErrorKind::MissingRequiredClaim(_) => "it lacks exp, iss or aud",
                    _ => "it could not be verified",
                })
            })
    }

    /// The key `kid`, from the cache or freshly fetched.
    fn key(&self, host: &Host, base: &str, kid: &str) -> Result<DecodingKey, TokenError> {
        let mut cached = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let age = cached.as_ref().map(|(at, _)| now().saturating_sub(*at));
        let known = cached.as_ref().and_then(|(_, set)| set.find(kid)).is_some();
        let stale = age.is_none_or(|a| a > KEYS_TTL_SECONDS);
        let may_refresh = age.is_none_or(|a| a > KEYS_REFRESH_MIN_SECONDS);
        if stale || (!known && may_refresh) {
            *cached = Some((now(), fetch_keys(host, base)?));
        }
        let jwk = cached
            .as_ref()
            .and_then(|(_, set)| set.find(kid))
            .ok_or_else(|| {
                TokenError::Rejected(format!(
                    "it is signed with a key ({kid}) Auth0 does not publish"
                ))
            })?;
        DecodingKey::from_jwk(jwk)
            .map_err(|e| TokenError::Rejected(format!("Auth0's key {kid} is unusable: {e}")))
    }
}

fn fetch_keys(host: &Host, base: &str) -> Result<JwkSet, TokenError> {
    let url = format!("{base}/.well-known/jwks.json");
    let answer = host
        .fetch(&FetchRequest::get(url).with_header("Accept", "application/json"))
        .map_err(TokenError::Unreachable)?;
    if answer.status != 200 {
        return Err(TokenError::Unreachable(format!(
            "its keys (/.well-known/jwks.json) answered status {}",
            answer.status
        )));
    }
    serde_json::from_str(&answer.body).map_err(|e| {
        TokenError::Unreachable(format!(
            "its keys (/.well-known/jwks.json) are not a key set: {e}"
        ))
    })
}
