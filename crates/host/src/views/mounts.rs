//! `--static MOUNT:DIR`: a directory's files served as they are at `/MOUNT/…`, as Datasette's
//! `--static`, for a site's own stylesheets, scripts and images. They are public, as the
//! server's own stylesheet is: nothing is listed, no path leads out of the directory (through
//! `..` or a symbolic link), and names starting with a dot (`.git`, `.env`) are not served.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use actix_web::{guard, web, HttpRequest, HttpResponse};

use crate::config::StaticMount;
use crate::error::AppError;

/// Routes each mount's files.
pub fn configure(cfg: &mut web::ServiceConfig, mounts: &[StaticMount]) {
    for m in mounts {
        let dir = Arc::new(m.dir.clone());
        cfg.route(
            &format!("/{}/{{tail:.*}}", m.mount),
            web::route()
                .guard(guard::Any(guard::Get()).or(guard::Head()))
                .to(move |req: HttpRequest| {
                    let dir = dir.clone();
                    async move { serve(&dir, req.match_info().query("tail")).await }
                }),
        );
    }
}

async fn serve(dir: &Path, tail: &str) -> Result<HttpResponse, AppError> {
    let not_found = || AppError::NotFound("File not found".into());
    let file = inside(dir, tail).ok_or_else(not_found)?;
    let size = std::fs::metadata(&file)
        .ok()
        .filter(|m| m.is_file())
        .ok_or_else(not_found)?
        .len();
    let mut response = HttpResponse::Ok();
    response.content_type(content_type(&file));
    Ok(super::download::stream_file(file, size, response))
}

/// The real path of the file `tail` names in `dir`, if it is inside it: no empty, `.`, `..` or
/// hidden segment, and where symbolic links lead, still inside and still not hidden.
fn inside(dir: &Path, tail: &str) -> Option<PathBuf> {
    let hidden = |segment: &str| segment.starts_with('.');
    let mut path = dir.to_path_buf();
    for segment in tail.split('/') {
        if segment.is_empty() || hidden(segment) || segment.contains(['\\', '\0']) {
            return None;
        }
        path.push(segment);
    }
    let real = std::fs::canonicalize(&path).ok()?;
    let within = real.strip_prefix(dir).ok()?;
    let shown = within
        .components()
        .all(|c| !c.as_os_str().to_string_lossy().starts_with('.'));
    shown.then_some(real)
}

fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "html" | "htm" => "text/html; charset=utf-8",
        "json" | "map" => "application/json",
        "txt" | "md" | "py" | "rs" | "sql" => "text/plain; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "pdf" => "application/pdf",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_directory() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("static");
        std::fs::create_dir_all(dir.join("css")).unwrap();
        std::fs::write(dir.join("css/site.css"), "body{}").unwrap();
        std::fs::write(dir.join(".env"), "SECRET=1").unwrap();
        std::fs::write(root.path().join("outside.txt"), "no").unwrap();
        std::os::unix::fs::symlink(root.path().join("outside.txt"), dir.join("link.txt")).unwrap();
        std::os::unix::fs::symlink(dir.join(".env"), dir.join("config.txt")).unwrap();
        let dir = std::fs::canonicalize(&dir).unwrap();
        assert_eq!(inside(&dir, "css/site.css"), Some(dir.join("css/site.css")));
        for bad in [
            "../outside.txt",
            "css/../../outside.txt",
            ".env",
            "link.txt",
            "config.txt",
            "",
            "css//site.css",
            "/etc/passwd",
            "missing.css",
        ] {
            assert_eq!(inside(&dir, bad), None, "{bad}");
        }
    }
}
