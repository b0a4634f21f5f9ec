//! The files pages use, compiled in: the stylesheet (`/-/static/app.css`), the table page's
//! script (`table.js`: column menus, filter rows), the SQL editor (`editor.js`, bundled from
//! `tools/editor/`) and the icon (`/favicon.ico`, a PNG as Datasette serves it). They change
//! only with the binary, so they are cached for an hour and their links carry a digest of
//! their contents.

use std::sync::LazyLock;

use actix_web::{web, HttpResponse};
use sha2::{Digest, Sha256};

const APP_CSS: &str = include_str!("../../../../templates/static/app.css");
const TABLE_JS: &str = include_str!("../../../../templates/static/table.js");
const EDITOR_JS: &str = include_str!("../../../../templates/static/editor.js");
const FAVICON: &[u8] = include_bytes!("../../../../templates/static/favicon.png");

/// Datasette's caching of its static files.
const CACHE_CONTROL: &str = "max-age=3600, immutable, public";

/// The first 16 hex digits of the SHA-256 of the stylesheet and scripts: a new binary's pages
/// ask for its own files, not those a browser cached.
pub fn css_version() -> &'static str {
    static VERSION: LazyLock<String> = LazyLock::new(|| {
        let mut h = Sha256::new();
        for file in [APP_CSS, TABLE_JS, EDITOR_JS] {
            h.update(file.as_bytes());
        }
        crate::urls::hex(&h.finalize()[..8])
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
        "table.js" => file("application/javascript", TABLE_JS.as_bytes()),
        "editor.js" => file("application/javascript", EDITOR_JS.as_bytes()),
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
