//! Conditional requests and caching headers for pages.
//!
//! A page's (weak) `ETag` is a digest of everything its bytes depend on: the server's
//! configuration (metadata, settings, plugins, version), the state of its database's file (of
//! every file the actor may see for pages about all of them), the site's origin, the full URL
//! and the actor. It is computed before any SQL runs, so an `If-None-Match` that matches is
//! answered `304` with no database work.
//! Instances serving the same files with the same configuration give the same tags.
//!
//! `Cache-Control` follows Datasette's `default_cache_ttl` and `_ttl=`; `private` whenever an
//! actor is signed in (the page may hold what only they may see), and a day for pages of
//! immutable (`-i`) files unless `_ttl` says otherwise.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

use super::PageRequest;
use crate::app::AppState;

/// How long pages of immutable files may be reused without asking.
const IMMUTABLE_TTL: u32 = 24 * 60 * 60;

/// A page's validator and how it may be cached.
pub struct Caching {
    etag: String,
    cache_control: String,
    vary: &'static str,
}

impl Caching {
    /// For the page `ctx` asks for, about database `db` if it is about one.
    pub fn of(state: &AppState, req: &HttpRequest, ctx: &PageRequest, db: Option<&str>) -> Caching {
        let mut digest = Sha256::new();
        digest.update(state.fingerprint);
        // A page about one database depends on that file alone, the others on every file the
        // actor may see, and so does any page when plugins may read other files (their votes
        // and queries may read any database: a grant revoked in one must change the tags of
        // pages of another). Never a file the actor may not see: its tag would tell them when
        // it is written to.
        let db = db.filter(|name| {
            !state.plugins.may_read_other_files() && state.databases.contains_key(*name)
        });
        let files = state.databases.values().filter(|d| match db {
            Some(name) => name == d.name,
            None => state.permissions.sees_database(&ctx.actor, &d.name),
        });
        for d in files {
            digest.update(d.name.as_bytes());
            digest.update(d.content_stamp());
        }
        for part in [ctx.origin.as_str(), req.uri().path(), req.query_string()] {
            digest.update((part.len() as u64).to_le_bytes());
            digest.update(part.as_bytes());
        }
        match &ctx.actor {
            Some(actor) => digest.update(actor.to_string()),
            None => digest.update([0]),
        }
        let hash = digest.finalize();
        // Weak: the same page's bytes differ in their timings (`query_ms`).
        let etag = format!("W/\"{}\"", crate::urls::hex(&hash[..16]));
        Caching {
            etag,
            cache_control: cache_control(state, ctx, db),
            vary: if state.settings.trust_forwarded_headers {
                "Cookie, Authorization, Forwarded, X-Forwarded-Host, X-Forwarded-Proto"
            } else {
                "Cookie, Authorization"
            },
        }
    }

    /// Whether the client already holds this page (`If-None-Match`). `*` is not taken: it
    /// would answer 304 for a page that may not exist.
    pub fn not_modified(&self, req: &HttpRequest) -> bool {
        let ours = self.etag.trim_start_matches("W/");
        req.headers()
            .get_all(header::IF_NONE_MATCH)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            // If-None-Match compares weakly: `W/"x"` matches `"x"`.
            .any(|t| t.trim().trim_start_matches("W/") == ours)
    }

    /// The `304` for a client that holds the page.
    pub fn unchanged(&self) -> HttpResponse {
        let mut r = HttpResponse::NotModified().finish();
        self.apply(&mut r);
        r
    }

    /// Adds the headers to a page that was served in full.
    pub fn apply(&self, r: &mut HttpResponse) {
        let h = r.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&self.etag) {
            h.insert(header::ETAG, v);
        }
        if !h.contains_key(header::CACHE_CONTROL) {
            if let Ok(v) = HeaderValue::from_str(&self.cache_control) {
                h.insert(header::CACHE_CONTROL, v);
            }
        }
        // Who asks changes the page: caches must not hand one visitor's copy to another; nor,
        // when a proxy's headers set the site's address, one address's copy to another.
        h.insert(header::VARY, HeaderValue::from_static(self.vary));
    }
}

fn cache_control(state: &AppState, ctx: &PageRequest, db: Option<&str>) -> String {
    let immutable = db
        .and_then(|name| state.databases.get(name))
        .is_some_and(|d| d.immutable);
    // Datasette ignores a `_ttl` that is not a number.
    let ttl = ctx
        .arg("_ttl")
        .and_then(|t| t.parse::<u32>().ok())
        .unwrap_or(if immutable {
            IMMUTABLE_TTL
        } else {
            state.settings.default_cache_ttl
        });
    // Datasette's `max-age=N` for everyone's pages; a signed-in actor's are theirs alone.
    match (ttl, &ctx.actor) {
        (0, _) => "no-cache".to_string(),
        (n, Some(_)) => format!("private, max-age={n}"),
        (n, None) => format!("max-age={n}"),
    }
}
