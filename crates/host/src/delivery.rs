//! How answers leave the server, decided here for every route alike: who may keep a copy of
//! an answer (an answer that depends on who asks is `private`), and the memory an answer holds
//! while a client reads it (see [`crate::limits`]).

use std::time::{Duration, Instant};

use actix_web::body::{BodySize, BoxBody, MessageBody, SizedStream};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use actix_web::HttpMessage;
use tokio::sync::mpsc;

use crate::app::AppState;
use crate::error::AppError;

/// How long a client that has stopped reading keeps its answer (and its memory) before the
/// answer is given up, and the longest any answer may take to send.
pub const STALL: Duration = Duration::from_secs(10);
pub const LONGEST: Duration = Duration::from_secs(10 * 60);

/// Answers up to this size are handed to the connection as they are: the socket's own buffer
/// takes them.
const SMALL: usize = 64 << 10;

/// The pieces a larger answer is sent in.
const PIECE: usize = 64 << 10;

/// The slowest a client may read an answer held in memory: past [`time_to_send`] it loses
/// the answer, so that a few clients reading just fast enough not to stall cannot hold the
/// answers' memory for long.
const SLOWEST_READ: usize = 256 << 10;

/// How long an answer of `size` bytes may take to send: the stall time, and the time to read
/// it at [`SLOWEST_READ`] bytes a second, never more than [`LONGEST`].
fn time_to_send(size: usize) -> Duration {
    (STALL + Duration::from_secs((size / SLOWEST_READ) as u64)).min(LONGEST)
}

/// Hands a chunk of a response body over, waiting at most [`STALL`] for the client to make
/// room: `false` once it is gone or stalled.
pub async fn send_in_time(tx: &mpsc::Sender<Bytes>, bytes: Bytes) -> bool {
    matches!(
        tokio::time::timeout(STALL, tx.send(bytes)).await,
        Ok(Ok(()))
    )
}

/// Middleware for every answer, whichever route or plugin made it:
/// - an answer for a recognised actor is `private` (`no-store` for exports), and every answer
///   but the server's public assets varies by `Cookie` and `Authorization`, so no shared cache
///   hands one visitor's copy to another;
/// - a redirect within the site stays within it (see [`on_site`]);
/// - an answer held whole in memory draws on the process's answer budget until it has been
///   sent, and is sent a piece at a time (see [`paced`]); past the budget, a 503 with
///   `Retry-After`.
pub async fn deliver(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let export = is_export(&req);
    // A HEAD's body is never sent: nothing to hold for it.
    let budget = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.answers.clone())
        .filter(|_| req.method() != actix_web::http::Method::HEAD);
    let res = next.call(req).await?;
    let personal = res
        .request()
        .extensions()
        .contains::<crate::app::Personal>();
    // Only an answer held whole and larger than a socket takes at once is taken apart: the
    // others pass as they are (moving a response costs, on the fastest pages).
    let large = matches!(res.response().body().size(), BodySize::Sized(n) if n > SMALL as u64);
    let mut res = match budget.filter(|_| large) {
        Some(budget) => {
            let (req, res) = res.into_parts();
            let res = paced(&req, res, &budget);
            ServiceResponse::new(req, res)
        }
        None => res.map_into_boxed_body(),
    };
    let h = res.headers_mut();
    mark(h, personal, export);
    // Read as a browser would, whatever bytes it holds.
    let location = h
        .get(header::LOCATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    if let Some(fixed) = location.as_deref().and_then(on_site) {
        tracing::warn!("a redirect to another site by a scheme-relative path was kept on this one");
        let fixed = HeaderValue::from_str(&fixed).unwrap_or(HeaderValue::from_static("/"));
        h.insert(header::LOCATION, fixed);
    }
    Ok(res)
}

/// `res` with its body, if held whole in memory and larger than [`SMALL`], sent a piece at a
/// time from a task that holds its part of `budget` until each piece is sent, so a client
/// that stops reading loses it after [`STALL`] and holds no more than a piece, and one that
/// reads slower than [`SLOWEST_READ`] loses it too. Past the budget, a 503.
fn paced(
    req: &actix_web::HttpRequest,
    res: actix_web::HttpResponse<impl MessageBody + 'static>,
    budget: &std::sync::Arc<crate::limits::Budget>,
) -> actix_web::HttpResponse {
    let (res, body) = res.into_parts();
    let bytes = match body.try_into_bytes() {
        Ok(bytes) if bytes.len() > SMALL => bytes,
        Ok(bytes) => return res.set_body(bytes.boxed()),
        // Streamed already (exports, files): they pace themselves.
        Err(body) => return res.set_body(body.boxed()),
    };
    let Some(held) = budget.reserve(bytes.len()) else {
        tracing::warn!(
            bytes = bytes.len(),
            "answers_memory_mb is spent: an answer was refused"
        );
        let busy = AppError::Busy(
            "The server is sending as many large answers as it may hold: try again shortly".into(),
        );
        return crate::error::answer_for(req, &busy);
    };
    let size = bytes.len();
    // Pieces of their own: each one sent is memory given back, and a piece left unread in the
    // channel does not keep the whole answer alive.
    let pieces: Vec<Bytes> = bytes.chunks(PIECE).map(Bytes::copy_from_slice).collect();
    drop(bytes);
    let (tx, rx) = mpsc::channel::<Bytes>(1);
    actix_web::rt::spawn(async move {
        let mut held = held;
        let started = Instant::now();
        let deadline = time_to_send(size);
        for piece in pieces {
            let n = piece.len();
            if started.elapsed() > deadline || !send_in_time(&tx, piece).await {
                break;
            }
            held.release(n);
        }
    });
    let body = SizedStream::new(size as u64, crate::render::stream::Chunks(rx));
    res.set_body(body.boxed())
}

/// A `Location` that a browser would read as another site's (`//evil.example`, and its other
/// spellings: `/\evil.example`, `\\evil.example`, with tabs or line breaks between, which
/// browsers drop), as the path on this site it was meant to be; `None` for any other.
fn on_site(location: &str) -> Option<String> {
    let cleaned: String = location
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let rest = cleaned.trim_start_matches(['/', '\\']);
    let leading = cleaned.len() - rest.len();
    (leading >= 2 || cleaned.starts_with('\\')).then(|| format!("/{rest}"))
}

/// Whether the request asks for an export: a file to keep, not a page to look at.
fn is_export(req: &ServiceRequest) -> bool {
    let last = req.path().rsplit('/').next().unwrap_or("");
    let query = req.query_string();
    let streamed = query.contains("_stream")
        && crate::urls::parse_query(query)
            .iter()
            .any(|(k, v)| k == "_stream" && crate::urls::flag_on(v));
    streamed
        || [".csv", ".blob", ".db"]
            .iter()
            .any(|ext| last.ends_with(ext))
}

/// `Cache-Control` and `Vary` for an answer: see [`deliver`].
fn mark(h: &mut HeaderMap, personal: bool, export: bool) {
    let control = h.get(header::CACHE_CONTROL).and_then(|v| v.to_str().ok());
    if control.is_some_and(|c| c.contains("public")) {
        return;
    }
    let control = control.map(str::to_string);
    vary_by_who_asks(h);
    if !personal {
        return;
    }
    let control = match control {
        _ if export => "private, no-store".to_string(),
        None => "private".to_string(),
        Some(c) if c.contains("private") => c,
        Some(c) => format!("private, {c}"),
    };
    if let Ok(v) = HeaderValue::from_str(&control) {
        h.insert(header::CACHE_CONTROL, v);
    }
}

/// `Vary` names `Cookie` and `Authorization`, besides what it named already.
fn vary_by_who_asks(h: &mut HeaderMap) {
    let named = |h: &HeaderMap, wanted: &str| {
        h.get_all(header::VARY)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|v| v.trim().eq_ignore_ascii_case(wanted))
    };
    let missing: Vec<&str> = ["Cookie", "Authorization"]
        .into_iter()
        .filter(|wanted| !named(h, wanted))
        .collect();
    if missing.is_empty() {
        return;
    }
    let mut vary: Vec<&str> = h
        .get_all(header::VARY)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect();
    vary.extend(missing);
    if let Ok(v) = HeaderValue::from_str(&vary.join(", ")) {
        h.insert(header::VARY, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_stay_on_this_site() {
        for (given, kept) in [
            ("//evil.example/x", "/evil.example/x"),
            ("/\\evil.example", "/evil.example"),
            ("\\/evil.example", "/evil.example"),
            ("\\evil.example", "/evil.example"),
            ("/\t/evil.example", "/evil.example"),
            ("/\n\\evil.example", "/evil.example"),
        ] {
            assert_eq!(on_site(given).as_deref(), Some(kept), "{given:?}");
        }
        for fine in [
            "/",
            "/fixtures/t?x=1",
            "/data/fixtures",
            "https://tenant.auth0.com/authorize?x=1",
            "",
        ] {
            assert_eq!(on_site(fine), None, "{fine:?}");
        }
    }

    fn marked(
        control: Option<&str>,
        vary: Option<&str>,
        personal: bool,
        export: bool,
    ) -> (String, String) {
        let mut h = HeaderMap::new();
        if let Some(c) = control {
            h.insert(header::CACHE_CONTROL, HeaderValue::from_str(c).unwrap());
        }
        if let Some(v) = vary {
            h.insert(header::VARY, HeaderValue::from_str(v).unwrap());
        }
        mark(&mut h, personal, export);
        let get = |name| {
            h.get(name)
                .map(|v: &HeaderValue| v.to_str().unwrap().to_string())
                .unwrap_or_default()
        };
        (get(header::CACHE_CONTROL), get(header::VARY))
    }

    #[test]
    fn personal_answers_are_private_and_exports_not_stored() {
        assert_eq!(
            marked(None, None, true, false),
            ("private".into(), "Cookie, Authorization".into())
        );
        assert_eq!(
            marked(Some("max-age=5"), Some("Cookie"), true, false),
            ("private, max-age=5".into(), "Cookie, Authorization".into())
        );
        assert_eq!(
            marked(Some("max-age=5"), None, true, true).0,
            "private, no-store"
        );
        assert_eq!(
            marked(Some("private, max-age=5"), None, true, false).0,
            "private, max-age=5"
        );
    }

    #[test]
    fn anonymous_answers_vary_and_public_assets_are_left_alone() {
        assert_eq!(
            marked(Some("max-age=5"), Some("Accept-Encoding"), false, false),
            (
                "max-age=5".into(),
                "Accept-Encoding, Cookie, Authorization".into()
            )
        );
        assert_eq!(
            marked(Some("max-age=3600, immutable, public"), None, true, false),
            ("max-age=3600, immutable, public".into(), String::new())
        );
    }
}
