//! Sign-ins in progress: a random state and PKCE verifier per attempt, kept in the plugin's
//! own session values keyed by state, so several tabs can sign in at once.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use datasette_plugin_api::security::constant_time_eq;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// At most this many sign-ins wait at once (the session lives in a cookie); the oldest goes.
const MAX_PENDING: usize = 5;
/// And their `next` paths hold at most this many bytes together, for the same reason.
const MAX_PENDING_NEXT_BYTES: usize = 1536;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flow {
    pub verifier: String,
    pub next: String,
    pub expires: u64,
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// 256 bits from the operating system, base64url: a state or a PKCE verifier (43 characters).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The PKCE S256 challenge of a verifier.
pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The pending sign-ins of a session.
pub struct Pending(Vec<(String, Flow)>);

impl Pending {
    pub fn from_session(session: &Map<String, Value>) -> Pending {
        let flows = session
            .get("flows")
            .and_then(|f| serde_json::from_value::<Vec<(String, Flow)>>(f.clone()).ok())
            .unwrap_or_default();
        Pending(flows)
    }

    pub fn to_session(&self) -> Map<String, Value> {
        let mut m = Map::new();
        if !self.0.is_empty() {
            m.insert(
                "flows".into(),
                serde_json::to_value(&self.0).unwrap_or_default(),
            );
        }
        m
    }

    /// Starts a sign-in; its state.
    pub fn start(&mut self, verifier: String, next: String, ttl: u64) -> String {
        let now = now();
        self.0.retain(|(_, f)| f.expires > now);
        let waiting_bytes =
            |p: &[(String, Flow)]| p.iter().map(|(_, f)| f.next.len()).sum::<usize>();
        while !self.0.is_empty()
            && (self.0.len() >= MAX_PENDING
                || waiting_bytes(&self.0) + next.len() > MAX_PENDING_NEXT_BYTES)
        {
            self.0.remove(0);
        }
        let state = random_token();
        self.0.push((
            state.clone(),
            Flow {
                verifier,
                next,
                expires: now + ttl,
            },
        ));
        state
    }

    /// Drops the oldest sign-ins until the rest take at most `bytes` in the session.
    pub fn keep_within(&mut self, bytes: usize) {
        while !self.0.is_empty() && Value::Object(self.to_session()).to_string().len() > bytes {
            self.0.remove(0);
        }
    }

    /// Takes the sign-in of `state` out (each is used once), comparing every stored state in
    /// constant time.
    pub fn take(&mut self, state: &str) -> Option<Flow> {
        let mut found = None;
        for (i, (s, _)) in self.0.iter().enumerate() {
            if constant_time_eq(s.as_bytes(), state.as_bytes()) && found.is_none() {
                found = Some(i);
            }
        }
        found.map(|i| self.0.remove(i).1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_challenge_is_base64url_sha256() {
        // Computed independently: base64.urlsafe_b64encode(hashlib.sha256(v).digest()).
        assert_eq!(
            challenge("dBjftJeZ4CVP-mA0oYL7bACbp9wOYdnx1NIuhH8s7VU"),
            "-p_ESyJ6kJ2vdeIkUNVsm610zBxMgy62aSddlBZOf_A"
        );
    }

    #[test]
    fn states_are_random_and_used_once() {
        let mut p = Pending(vec![]);
        let a = p.start("va".into(), "/a".into(), 60);
        let b = p.start("vb".into(), "/b".into(), 60);
        assert_ne!(a, b);
        assert!(a.len() >= 43);
        let round_trip = Pending::from_session(&p.to_session());
        let mut p = round_trip;
        assert_eq!(p.take(&b).unwrap().next, "/b");
        assert!(p.take(&b).is_none());
        assert_eq!(p.take(&a).unwrap().verifier, "va");
        assert!(p.take("").is_none());
    }

    #[test]
    fn old_attempts_make_room() {
        let mut p = Pending(vec![]);
        let first = p.start("v".into(), "/".into(), 60);
        for _ in 0..MAX_PENDING {
            p.start("v".into(), "/".into(), 60);
        }
        assert!(p.take(&first).is_none());
        assert_eq!(p.0.len(), MAX_PENDING);
    }
}
