//! A request's SQL trace added to its answer (`?_trace=1` with the setting `trace_debug`),
//! where Datasette puts it: a `<pre>` before an HTML page's `</body>`, a `_trace` key in a JSON
//! object, and for CSV an HTML page with the CSV in a `<textarea>` above the trace.

use actix_web::body::{BodyStream, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::web::{Bytes, BytesMut};

use super::html::escape;
use crate::db::trace::Tracer;

/// Answers larger than this are sent without their trace, as Datasette does.
pub const MAX_BODY: usize = 256 * 1024;

/// What the answer is, for where its trace goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Html,
    Json,
    Csv,
    /// Anything else (a BLOB download, a stylesheet) is sent as it is.
    Other,
}

impl Kind {
    pub fn of(content_type: &str, path: &str) -> Kind {
        if path.ends_with(".csv") {
            Kind::Csv
        } else if content_type.starts_with("text/html") {
            Kind::Html
        } else if content_type.contains("json") {
            Kind::Json
        } else {
            Kind::Other
        }
    }
}

/// Datasette's trace object: totals, then each statement.
pub fn summary(tracer: &Tracer) -> serde_json::Value {
    let traces = tracer.traces();
    serde_json::json!({
        "request_duration_ms": tracer.elapsed_ms(),
        "sum_trace_duration_ms": traces.iter().fold(0.0, |sum, t| sum + t.duration_ms()),
        "num_traces": traces.len(),
        "traces": traces,
    })
}

/// `body` with `trace` added, and the content type it now has; `None` when it stays as it
/// is (another kind of answer, or an HTML page without `</body>`, a JSON array).
pub fn attach(kind: Kind, body: &[u8], trace: &serde_json::Value) -> Option<(Bytes, &'static str)> {
    let pretty = || serde_json::to_string_pretty(trace).unwrap_or_default();
    match kind {
        Kind::Html => {
            let text = std::str::from_utf8(body).ok()?;
            let at = text.rfind("</body>")?;
            let out = format!(
                "{}<pre>{}</pre>{}",
                &text[..at],
                escape(&pretty()),
                &text[at..]
            );
            Some((Bytes::from(out), "text/html; charset=utf-8"))
        }
        Kind::Json => {
            let serde_json::Value::Object(mut object) = serde_json::from_slice(body).ok()? else {
                return None;
            };
            object.entry("_trace").or_insert_with(|| trace.clone());
            let out = serde_json::to_vec(&object).ok()?;
            Some((Bytes::from(out), "application/json; charset=utf-8"))
        }
        Kind::Csv => {
            let csv = String::from_utf8_lossy(body);
            let out = format!(
                "<html><head><title>CSV debug</title></head><body>\
                 <textarea style=\"width: 90%; height: 70vh\">{}</textarea>\
                 <pre>{}</pre></body></html>",
                escape(&csv),
                escape(&pretty())
            );
            Some((Bytes::from(out), "text/html; charset=utf-8"))
        }
        Kind::Other => None,
    }
}

/// With `trace_debug` on, a request with `_trace=1` in its query string gets the SQL it ran
/// added to its answer where Datasette puts it. Answers past [`MAX_BODY`] are sent as they are.
pub async fn middleware(
    req: ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if !req.query_string().split('&').any(|p| p == "_trace=1") {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let tracer = Tracer::new();
    let path = req.path().to_string();
    let res = tracer.clone().scope(next.call(req)).await?;
    let content_type = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let kind = Kind::of(content_type, &path);
    if kind == Kind::Other {
        return Ok(res.map_into_boxed_body());
    }
    let (req, res) = res.into_parts();
    let (mut head, body) = res.into_parts();
    let body = match collect(body.boxed(), MAX_BODY).await? {
        Collected::Whole(bytes) => match attach(kind, &bytes, &summary(&tracer)) {
            Some((traced, content_type)) => {
                let headers = head.headers_mut();
                headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
                headers.remove(header::CONTENT_DISPOSITION);
                BoxBody::new(traced)
            }
            None => BoxBody::new(bytes),
        },
        Collected::Partial(body) => body,
    };
    Ok(ServiceResponse::new(req, head.set_body(body)))
}

/// A body read whole, or (past the limit) put back together as it was.
enum Collected {
    Whole(Bytes),
    Partial(BoxBody),
}

/// Reads `body` up to `limit` bytes.
async fn collect(mut body: BoxBody, limit: usize) -> Result<Collected, actix_web::Error> {
    use futures_util::StreamExt;
    let mut read = BytesMut::new();
    while let Some(chunk) =
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_next(cx)).await
    {
        let chunk = chunk.map_err(|e| actix_web::error::ErrorInternalServerError(e.to_string()))?;
        read.extend_from_slice(&chunk);
        if read.len() > limit {
            let rest = futures_util::stream::poll_fn(move |cx| {
                std::pin::Pin::new(&mut body).poll_next(cx)
            });
            let whole =
                futures_util::stream::once(std::future::ready(Ok(read.freeze()))).chain(rest);
            return Ok(Collected::Partial(BoxBody::new(BodyStream::new(whole))));
        }
    }
    Ok(Collected::Whole(read.freeze()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_gets_the_trace_before_body_end_escaped() {
        let trace = serde_json::json!({"sql": "select '<b>'"});
        let (out, _) = attach(Kind::Html, b"<html><body><p>x</p></body></html>", &trace).unwrap();
        let out = String::from_utf8(out.to_vec()).unwrap();
        assert!(out.contains("<p>x</p><pre>{\n  &#34;sql&#34;: &#34;select &#39;&lt;b&gt;&#39;&#34;\n}</pre></body>"), "{out}");
    }

    #[test]
    fn json_objects_get_a_trace_key_and_arrays_stay() {
        let trace = serde_json::json!({"num_traces": 1});
        let (out, _) = attach(Kind::Json, br#"{"ok": true}"#, &trace).unwrap();
        assert_eq!(&out[..], br#"{"ok":true,"_trace":{"num_traces":1}}"#);
        assert!(attach(Kind::Json, b"[1]", &trace).is_none());
    }

    #[test]
    fn csv_becomes_an_html_page_with_the_csv_escaped() {
        let trace = serde_json::json!({});
        let (out, kind) = attach(Kind::Csv, b"a,b\r\n<x>,2\r\n", &trace).unwrap();
        assert_eq!(kind, "text/html; charset=utf-8");
        let out = String::from_utf8(out.to_vec()).unwrap();
        assert!(
            out.contains(">a,b\r\n&lt;x&gt;,2\r\n</textarea><pre>{}</pre>"),
            "{out}"
        );
    }
}
