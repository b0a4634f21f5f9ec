//! The files every page uses, compiled in: the stylesheet (`/-/static/app.css`) and the icon
//! (`/favicon.ico`, a PNG as Datasette serves it). They change only with the binary, so they
//! are cached for an hour and the stylesheet's link carries a digest of its contents.

use std::sync::LazyLock;

use actix_web::{web, HttpResponse};
use sha2::{Digest, Sha256};

const APP_CSS: &str = include_str!("../../../../templates/static/app.css");
const FAVICON: &[u8] = include_bytes!("../../../../templates/static/favicon.png");

/// Datasette's caching of its static files.
const CACHE_CONTROL: &str = "max-age=3600, immutable, public";

/// The first 16 hex digits of the stylesheet's SHA-256: a new binary's pages ask for its own
/// stylesheet, not the one a browser cached.
pub fn css_version() -> &'static str {
    static VERSION: LazyLock<String> = LazyLock::new(|| {
        let digest = Sha256::digest(APP_CSS.as_bytes());
        crate::urls::hex(&digest[..8])
    });
    &VERSION
}

pub async fn favicon() -> HttpResponse {
    file("image/png", FAVICON)
}

/// `/-/static/NAME`: 404 for a name not compiled in.
pub async fn static_file(name: web::Path<String>) -> HttpResponse {
    match name.as_str() {
        "app.css" => file("text/css", APP_CSS.as_bytes()),
        _ => HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("Static file not found"),
    }
}

fn file(content_type: &str, bytes: &'static [u8]) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Cache-Control", CACHE_CONTROL))
        .body(bytes)
}
