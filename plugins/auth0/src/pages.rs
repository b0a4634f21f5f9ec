//! What the visitor sees when a sign-in cannot go on, and where they may be sent back to.

use datasette_plugin_api::html::escape;
use datasette_plugin_api::{Request, Response};

/// Why a sign-in cannot go on.
#[derive(Debug)]
pub struct Failure {
    pub status: u16,
    pub title: &'static str,
    pub message: String,
}

pub fn failure(status: u16, title: &'static str, message: &str) -> Failure {
    Failure {
        status,
        title,
        message: message.to_string(),
    }
}

impl Failure {
    /// A page saying why signing in failed, with a way to try again.
    pub fn page(&self, request: &Request) -> Response {
        let content = format!(
            "<p class=\"error\">{}</p>\
<p><a href=\"{}\">Try signing in again</a> · <a href=\"{}\">Back to the start</a></p>",
            escape(&self.message),
            escape(&request.url(crate::LOGIN)),
            escape(&request.url("/")),
        );
        document(self.status, self.title, &content)
    }
}

/// `GET /-/auth0-logout`: the button that signs out (a link could be followed from anywhere).
pub fn logout_page(request: &Request) -> Response {
    let content = if request.actor.is_some() {
        format!(
            "<form method=\"post\" action=\"{}\"><button>Sign out</button></form>",
            escape(&request.url(crate::LOGOUT))
        )
    } else {
        format!(
            "<p>You are not signed in. <a href=\"{}\">Back to the start</a></p>",
            escape(&request.url("/"))
        )
    };
    document(200, "Sign out", &content)
}

/// A small page of its own: `content` is HTML, `title` text.
fn document(status: u16, title: &str, content: &str) -> Response {
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
<style>body{{font-family:system-ui,sans-serif;margin:2rem;line-height:1.4}}\
.error{{background:#fde8e8;border:1px solid #e0a0a0;padding:.6rem;border-radius:4px}}</style></head>\
<body><h1>{title}</h1>{content}</body></html>",
        title = escape(title),
    );
    Response::html(status, body).with_header("Cache-Control", "no-store")
}

/// The longest `next` kept: it waits in the session cookie, which browsers cap at 4 KiB.
pub const MAX_NEXT_BYTES: usize = 1024;

/// `next` if it is a path of this site: under `home` (its `base_url`, such as `/` or
/// `/data/`), since other applications may share the host name. Refuses scheme-relative
/// (`//host`, `/\host`) and absolute URLs, anything a browser might read as one, dot segments
/// (`/data/../admin`, which a browser resolves out of the site, encoded or not), and anything
/// longer than [`MAX_NEXT_BYTES`] (cut, it would be another URL).
pub fn same_site_path(next: Option<&str>, home: &str) -> Option<String> {
    let n = next?;
    let path = n.split(['?', '#']).next().unwrap_or("");
    let dot_segment = path.split('/').any(|segment| {
        matches!(
            segment.to_ascii_lowercase().replace("%2e", ".").as_str(),
            "." | ".."
        )
    });
    let fine = n.len() <= MAX_NEXT_BYTES
        && (n.starts_with(home) || path == home.trim_end_matches('/'))
        && n.starts_with('/')
        && !n.starts_with("//")
        && !n.contains('\\')
        && !n.chars().any(|c| c.is_control() || c.is_whitespace())
        && !dot_segment;
    fine.then(|| n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_same_site_paths() {
        for ok in ["/", "/fixture/secrets?_size=5", "/a/b#c", "/a/..b"] {
            assert_eq!(same_site_path(Some(ok), "/").as_deref(), Some(ok));
        }
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "https://evil.example",
            "evil.example",
            "/\tevil",
            "/ /evil",
            "javascript:alert(1)",
            "/a/../b",
            "/a/%2E%2e/b",
            "/.",
            "",
        ] {
            assert_eq!(same_site_path(Some(bad), "/"), None, "{bad:?}");
        }
        assert_eq!(same_site_path(None, "/"), None);
        // Under a base_url, only paths under it: the host may serve other applications.
        for ok in ["/data/", "/data", "/data/fixture?x=1"] {
            assert_eq!(same_site_path(Some(ok), "/data/").as_deref(), Some(ok));
        }
        for bad in ["/", "/other-app/x", "/database", "/data/%2e%2e/admin"] {
            assert_eq!(same_site_path(Some(bad), "/data/"), None, "{bad:?}");
        }
    }

    #[test]
    fn pages_escape_what_they_show() {
        let r = failure(400, "T<", "<script>alert(1)</script>").page(&Request::default());
        assert!(r.text_body().contains("&lt;script&gt;"));
        assert!(!r.text_body().contains("<script>"));
    }
}
