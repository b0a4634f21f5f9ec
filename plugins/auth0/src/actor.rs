//! The actor a profile becomes: `{"id": sub}` plus every claim of the profile, as Python's
//! datasette-auth0 gives, so existing allow blocks (`{"sub": …}`, namespaced role claims) keep
//! matching. An email Auth0 has not verified is left out: anyone can sign up to a database
//! connection with someone else's address.

use serde_json::{Map, Value};

/// The largest actor kept: it lives in the session cookie, which browsers cap at 4 KiB.
pub const MAX_ACTOR_BYTES: usize = 2048;

/// The actor for `profile` (which has a string `sub`), keeping only the `keep` claims when
/// given.
pub fn from_profile(profile: &Map<String, Value>, keep: Option<&[String]>) -> Map<String, Value> {
    let mut actor = Map::new();
    actor.insert("id".into(), profile["sub"].clone());
    for (claim, value) in profile {
        let kept = keep.is_none_or(|k| k.iter().any(|c| c == claim));
        if claim != "id" && kept {
            actor.insert(claim.clone(), value.clone());
        }
    }
    if profile.get("email_verified") != Some(&Value::Bool(true)) {
        actor.remove("email");
    }
    actor
}

/// Why `actor` cannot be kept, naming the largest claims, when it is too large.
pub fn too_large(actor: &Map<String, Value>) -> Option<String> {
    let size = Value::Object(actor.clone()).to_string().len();
    if size <= MAX_ACTOR_BYTES {
        return None;
    }
    let mut claims: Vec<(&String, usize)> = actor
        .iter()
        .filter(|(k, _)| *k != "id")
        .map(|(k, v)| (k, k.len() + v.to_string().len()))
        .collect();
    claims.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let largest: Vec<String> = claims
        .iter()
        .take(5)
        .map(|(k, n)| format!("{k} ({n} bytes)"))
        .collect();
    Some(format!(
        "The Auth0 profile is {size} bytes, more than the {MAX_ACTOR_BYTES} a session cookie can carry. \
         The site's owner can list the claims to keep with \"claims\" in datasette-auth0's configuration; \
         the largest are: {}.",
        largest.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn profile(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn every_claim_and_the_id() {
        let p = profile(json!({"sub": "auth0|a", "name": "A", "email": "a@x.org",
            "email_verified": true, "https://x.org/roles": ["editor"], "id": "forged"}));
        let a = from_profile(&p, None);
        assert_eq!(
            Value::Object(a),
            json!({"id": "auth0|a", "sub": "auth0|a", "name": "A", "email": "a@x.org",
                "email_verified": true, "https://x.org/roles": ["editor"]})
        );
    }

    #[test]
    fn unverified_email_is_left_out() {
        for verified in [json!(false), json!("true"), Value::Null] {
            let p = profile(json!({"sub": "s", "email": "a@x.org", "email_verified": verified}));
            assert!(from_profile(&p, None).get("email").is_none());
        }
    }

    #[test]
    fn claims_narrow_it() {
        let p = profile(
            json!({"sub": "s", "name": "A", "picture": "p", "email": "e",
            "email_verified": false}),
        );
        let a = from_profile(&p, Some(&["name".into(), "email".into()]));
        assert_eq!(Value::Object(a), json!({"id": "s", "name": "A"}));
    }

    #[test]
    fn too_large_names_the_largest_claims() {
        let p = profile(json!({"sub": "s", "blob": "x".repeat(3000), "name": "A"}));
        let why = too_large(&from_profile(&p, None)).unwrap();
        assert!(why.contains("blob (3006 bytes)"), "{why}");
        assert!(too_large(&from_profile(&profile(json!({"sub": "s"})), None)).is_none());
    }
}
