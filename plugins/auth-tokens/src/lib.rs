//! `datasette-auth-tokens`: API tokens configured in metadata.json.
//!
//! ```json
//! "plugins": {
//!   "datasette-auth-tokens": {
//!     "tokens": [
//!       {"token": {"$env": "BOT_TOKEN"}, "actor": {"id": "bot", "teams": ["staff"]}}
//!     ]
//!   }
//! }
//! ```
//!
//! A request with `Authorization: Bearer TOKEN` is made by that token's actor. Tokens are
//! compared in constant time, and every configured token is compared, so the time taken says
//! nothing about which token came close.

use datasette_plugin_api::security::constant_time_eq;
use datasette_plugin_api::{export_plugin, Host, Plugin, Request};
use serde::Deserialize;
use serde_json::Value;

/// Shorter tokens are refused at start-up: they could be guessed.
const MIN_TOKEN_LENGTH: usize = 16;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    tokens: Vec<TokenConfig>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenConfig {
    token: String,
    actor: Value,
}

pub struct AuthTokens {
    tokens: Vec<(Vec<u8>, Value)>,
}

impl Plugin for AuthTokens {
    fn startup(config: Value, _host: &Host) -> Result<Self, String> {
        let config: Config = serde_json::from_value(config).map_err(|e| {
            format!("expected {{\"tokens\": [{{\"token\": \"…\", \"actor\": {{\"id\": \"…\"}}}}]}}: {e}")
        })?;
        let mut tokens = Vec::new();
        for (i, t) in config.tokens.into_iter().enumerate() {
            if t.token.len() < MIN_TOKEN_LENGTH {
                return Err(format!(
                    "tokens[{i}]: a token needs at least {MIN_TOKEN_LENGTH} characters"
                ));
            }
            if t.actor.get("id").is_none_or(Value::is_null) {
                return Err(format!("tokens[{i}]: the actor needs an \"id\""));
            }
            tokens.push((t.token.into_bytes(), t.actor));
        }
        Ok(AuthTokens { tokens })
    }

    /// Tokens come in the `Authorization` header alone: other requests are not asked about.
    fn actor_headers(&self) -> Option<Vec<String>> {
        Some(vec!["authorization".into()])
    }

    fn actor_from_request(&self, request: &Request, _host: &Host) -> Option<Value> {
        let given = bearer(request.header("authorization")?)?.as_bytes();
        let mut found = None;
        for (token, actor) in &self.tokens {
            if constant_time_eq(token, given) && found.is_none() {
                found = Some(actor.clone());
            }
        }
        found
    }
}

/// The token of an `Authorization: Bearer TOKEN` header.
fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

export_plugin!(AuthTokens: actor_from_request, actor_headers);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plugin() -> AuthTokens {
        AuthTokens::startup(
            json!({"tokens": [
                {"token": "0123456789abcdef", "actor": {"id": "a"}},
                {"token": "fedcba9876543210", "actor": {"id": "b"}}
            ]}),
            &host(),
        )
        .unwrap()
    }

    fn host() -> Host {
        // Hooks other than handle get a Host that may not fetch; tests need nothing else.
        datasette_plugin_api::sdk::inline_host()
    }

    fn request(auth: &str) -> Request {
        Request {
            headers: vec![("Authorization".into(), auth.into())],
            ..Default::default()
        }
    }

    #[test]
    fn bearer_tokens_become_their_actors() {
        let p = plugin();
        let actor = |h: &str| p.actor_from_request(&request(h), &host());
        assert_eq!(actor("Bearer 0123456789abcdef"), Some(json!({"id": "a"})));
        assert_eq!(actor("bearer  fedcba9876543210 "), Some(json!({"id": "b"})));
        assert_eq!(actor("Bearer 0123456789abcdeF"), None);
        assert_eq!(actor("Bearer 0123456789abcde"), None);
        assert_eq!(actor("Basic 0123456789abcdef"), None);
        assert_eq!(actor("Bearer"), None);
        assert_eq!(actor(""), None);
    }

    #[test]
    fn bad_config_is_refused_with_a_reason() {
        let err = |c: Value| AuthTokens::startup(c, &host()).err().unwrap();
        assert!(err(json!({})).contains("tokens"));
        assert!(
            err(json!({"tokens": [{"token": "short", "actor": {"id": "x"}}]}))
                .contains("at least 16")
        );
        assert!(
            err(json!({"tokens": [{"token": "0123456789abcdef", "actor": {}}]})).contains("\"id\"")
        );
    }
}
