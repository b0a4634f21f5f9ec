//! The HTTP edge of plugins: a request described as plugins' hooks read it, and a plugin's
//! response turned into the server's.

use datasette_plugin_api::{Request, Response};

/// The request as plugins see it, without its body. The session cookie is left out: it is the
/// host's, and a plugin gets its own values in `session` instead.
pub fn describe(req: &actix_web::HttpRequest, origin: String) -> Request {
    let cookies = req
        .cookies()
        .map(|jar| {
            jar.iter()
                .filter(|c| c.name() != crate::session::COOKIE_NAME)
                .map(|c| (c.name().to_string(), c.value().to_string()))
                .collect()
        })
        .unwrap_or_default();
    Request {
        method: req.method().to_string(),
        path: req.path().to_string(),
        query: req.query_string().to_string(),
        headers: req
            .headers()
            .iter()
            .filter(|(k, _)| *k != actix_web::http::header::COOKIE)
            .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_string())))
            .collect(),
        cookies,
        origin,
        ..Default::default()
    }
}

/// A plugin's response as HTTP: its status, headers and body (its session effects are the
/// caller's to apply). It may not set the server's own session cookie.
pub fn http_response(r: &Response) -> Result<actix_web::HttpResponseBuilder, String> {
    let status = actix_web::http::StatusCode::from_u16(r.status)
        .map_err(|_| format!("invalid status {}", r.status))?;
    let mut out = actix_web::HttpResponse::build(status);
    for (k, v) in &r.headers {
        let sets_session = k.eq_ignore_ascii_case("set-cookie")
            && v.split('=').next().map(str::trim) == Some(crate::session::COOKIE_NAME);
        if sets_session {
            return Err(format!(
                "the response sets the host's session cookie {}: plugins change the session through set_actor, clear_actor and session",
                crate::session::COOKIE_NAME
            ));
        }
        out.append_header((k.as_str(), v.as_str()));
    }
    Ok(out)
}
