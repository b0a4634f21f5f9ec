//! Sessions: the actor lives in a private (encrypted and signed) cookie. The server keeps no
//! state, so instances sharing a secret accept each other's cookies.

use actix_session::config::{CookieContentSecurity, PersistentSession};
use actix_session::storage::CookieSessionStore;
use actix_session::{Session, SessionExt, SessionMiddleware};
use actix_web::cookie::{time, Key, SameSite};
use actix_web::HttpRequest;
use sha2::Sha256;

use crate::permissions::Actor;

pub const COOKIE_NAME: &str = "ds_session";
pub const ACTOR_KEY: &str = "actor";
/// Unix time after which the actor is no longer trusted. The cookie's Max-Age only asks the
/// browser to forget it; a copied cookie replayed later is refused here.
pub const EXPIRES_KEY: &str = "expires";

/// The shortest secret accepted: 32 bytes, as many as the key's strength.
pub const MIN_SECRET_BYTES: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "the secret (--secret or DATASETTE_SECRET) is {0} bytes; it must be at least {MIN_SECRET_BYTES}: make one with `openssl rand -hex 32`"
    )]
    TooShort(usize),
}

/// The cookie key: derived from the secret with HKDF-SHA256, or random for this process.
pub fn key_from_secret(secret: Option<&str>) -> Result<Key, SecretError> {
    let Some(secret) = secret else {
        return Ok(Key::generate());
    };
    if secret.len() < MIN_SECRET_BYTES {
        return Err(SecretError::TooShort(secret.len()));
    }
    // The info string keeps this key apart from any other use of the same secret.
    let mut key = [0u8; 64];
    hkdf::Hkdf::<Sha256>::new(None, secret.as_bytes())
        .expand(b"datasette-rs session cookie key v2", &mut key)
        .expect("64 bytes is a valid HKDF-SHA256 output length");
    Ok(Key::from(&key))
}

/// How session cookies are made.
#[derive(Clone)]
pub struct SessionConfig {
    pub key: Key,
    /// Set the Secure flag: the site is served over https (directly or behind a proxy).
    pub secure: bool,
    pub ttl_hours: u32,
    /// The cookie's path: the site's `base_url`, so that other applications under the same
    /// host name are not sent it (it does not shield the site from their pages: same origin).
    pub path: String,
    /// What signs API tokens (`dstok_`), derived from the same secret for that purpose alone.
    pub tokens: crate::tokens::TokenKey,
    /// What signs plugins' values (`Host::sign`), derived for that purpose alone.
    pub plugin_values: crate::tokens::TokenKey,
}

impl SessionConfig {
    /// From the secret (if any) and the session settings.
    pub fn new(
        secret: Option<&str>,
        settings: &crate::config::Settings,
    ) -> Result<SessionConfig, SecretError> {
        Ok(SessionConfig {
            key: key_from_secret(secret)?,
            secure: settings.secure_cookies,
            ttl_hours: settings.session_ttl_hours,
            path: settings.cookie_path(),
            tokens: crate::tokens::TokenKey::from_secret(secret),
            plugin_values: crate::tokens::TokenKey::derive(
                secret,
                b"datasette-rs plugin values v1",
            ),
        })
    }
}

pub fn middleware(c: &SessionConfig) -> SessionMiddleware<CookieSessionStore> {
    SessionMiddleware::builder(CookieSessionStore::default(), c.key.clone())
        .cookie_name(COOKIE_NAME.into())
        .cookie_content_security(CookieContentSecurity::Private)
        .cookie_http_only(true)
        .cookie_same_site(SameSite::Lax)
        .cookie_secure(c.secure)
        .cookie_path(c.path.clone())
        .session_lifecycle(
            PersistentSession::default().session_ttl(time::Duration::hours(c.ttl_hours.into())),
        )
        .build()
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The signed-in actor; a missing, tampered, expired or foreign cookie is nobody.
pub fn actor(req: &HttpRequest) -> Actor {
    let session = req.get_session();
    let expires = session.get::<i64>(EXPIRES_KEY).ok().flatten()?;
    if expires <= now() {
        return None;
    }
    session
        .get::<serde_json::Value>(ACTOR_KEY)
        .ok()
        .flatten()
        .filter(|a| a.is_object())
}

/// Signs `actor` in for `ttl_hours`, in a fresh session.
pub fn set_actor(
    session: &Session,
    actor: &serde_json::Value,
    ttl_hours: u32,
) -> Result<(), actix_session::SessionInsertError> {
    session.renew();
    session.insert(EXPIRES_KEY, now() + i64::from(ttl_hours) * 3600)?;
    session.insert(ACTOR_KEY, actor)
}

/// Signs the actor out, keeping the rest of the session (plugins' values).
pub fn sign_out(session: &Session) {
    session.remove(ACTOR_KEY);
    session.remove(EXPIRES_KEY);
    session.renew();
}

pub fn clear(session: &Session) {
    session.purge();
}

/// A random token of 256 bits from the OS, hex-encoded.
pub fn new_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    crate::urls::hex(&bytes)
}
