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

/// A plugin's answer file (`Response::file`), taken out of its response as soon as the plugin
/// answers, so that it is deleted whatever happens next: sent, abandoned by the client, or
/// never sent because the response failed. Only a file in the system's temporary directory is
/// taken (and deleted); another is refused.
pub struct AnswerFile {
    path: std::path::PathBuf,
    in_temp: bool,
}

impl AnswerFile {
    pub fn take(mut r: Response) -> (Response, Option<AnswerFile>) {
        let file = r.body_file.take().map(|path| {
            let path = std::path::PathBuf::from(path);
            let in_temp = std::fs::canonicalize(&path)
                .ok()
                .zip(std::fs::canonicalize(std::env::temp_dir()).ok())
                .is_some_and(|(file, temp)| file.starts_with(temp));
            AnswerFile { path, in_temp }
        });
        (r, file)
    }

    /// The file as the body of `out`, read a chunk at a time off the async workers.
    pub fn stream(
        self,
        mut out: actix_web::HttpResponseBuilder,
    ) -> Result<actix_web::HttpResponse, String> {
        if !self.in_temp {
            return Err(format!(
                "the answer's file {} is not in the temporary directory",
                self.path.display()
            ));
        }
        let file =
            std::fs::File::open(&self.path).map_err(|e| format!("{}: {e}", self.path.display()))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        let chunks = futures_util::stream::unfold(Some((file, self)), |state| async move {
            let (mut file, guard) = state?;
            let read = actix_web::web::block(move || {
                use std::io::Read;
                let mut chunk = vec![0; 64 << 10];
                let n = file.read(&mut chunk)?;
                chunk.truncate(n);
                Ok::<_, std::io::Error>((file, chunk))
            })
            .await;
            match read {
                Ok(Ok((_, chunk))) if chunk.is_empty() => None,
                Ok(Ok((file, chunk))) => Some((
                    Ok::<_, std::io::Error>(actix_web::web::Bytes::from(chunk)),
                    Some((file, guard)),
                )),
                Ok(Err(e)) => Some((Err(e), None)),
                Err(e) => Some((Err(std::io::Error::other(e.to_string())), None)),
            }
        });
        Ok(out.body(actix_web::body::SizedStream::new(size, Box::pin(chunks))))
    }
}

impl Drop for AnswerFile {
    fn drop(&mut self) {
        if self.in_temp {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A plugin's response as the whole HTTP answer (output formats, 403 pages): its status,
/// headers and body or file.
pub fn into_http(r: Response) -> Result<actix_web::HttpResponse, String> {
    let (r, file) = AnswerFile::take(r);
    let out = http_response(&r)?;
    with_body(out, file, r.body)
}

/// `out` with the answer's body: its file when it has one (taken by [`AnswerFile::take`]),
/// else its bytes.
pub fn with_body(
    mut out: actix_web::HttpResponseBuilder,
    file: Option<AnswerFile>,
    body: Vec<u8>,
) -> Result<actix_web::HttpResponse, String> {
    match file {
        Some(file) => file.stream(out),
        None => Ok(out.body(body)),
    }
}
