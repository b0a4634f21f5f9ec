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

/// A request's body as a plugin gets it: in memory when small, else in a temporary file that
/// is deleted when this is dropped (after `handle` returns).
#[derive(Default)]
pub struct Body {
    pub bytes: Vec<u8>,
    pub file: Option<tempfile::NamedTempFile>,
}

/// Bodies larger than this go to a temporary file as they arrive: many slow uploads at once
/// hold little memory.
pub const SPOOL_AFTER: usize = 256 << 10;

/// Bodies read at once past their first [`SPOOL_AFTER`] bytes: a slow client holds one of
/// these, so a few of them cannot fill the disk with spooled files.
const LARGE_BODIES_AT_ONCE: usize = 16;

/// How long a body may take: a minute, and a second more for each MiB it may hold.
fn body_time(limit: u64) -> std::time::Duration {
    std::time::Duration::from_secs(60 + (limit >> 20))
}

/// Reads a body of at most `limit` bytes: in memory up to [`SPOOL_AFTER`], then written to a
/// temporary file a batch at a time, off the async workers. Past `limit`, the error says so;
/// a body that arrives too slowly, or when as many large bodies are being read as may be,
/// is refused.
pub async fn read_body(
    payload: actix_web::web::Payload,
    limit: u64,
) -> Result<Body, crate::error::AppError> {
    let timed = tokio::time::timeout(body_time(limit), read_within(payload, limit)).await;
    timed.unwrap_or_else(|_| {
        Err(crate::error::AppError::BadRequest(
            "The request body arrived too slowly".into(),
        ))
    })
}

async fn read_within(
    mut payload: actix_web::web::Payload,
    limit: u64,
) -> Result<Body, crate::error::AppError> {
    use futures_util::StreamExt;
    static LARGE: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(LARGE_BODIES_AT_ONCE);
    let too_large = || crate::views::write_api::too_large(limit);
    let mut body = Body::default();
    let mut total = 0u64;
    let mut large = None;
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|e| crate::error::AppError::BadRequest(format!("Reading the body: {e}")))?;
        total += chunk.len() as u64;
        if total > limit {
            return Err(too_large());
        }
        body.bytes.extend_from_slice(&chunk);
        if body.bytes.len() >= SPOOL_AFTER {
            if large.is_none() {
                large = Some(LARGE.try_acquire().map_err(|_| {
                    crate::error::AppError::Busy(
                        "Too many large request bodies are being received: try again shortly"
                            .into(),
                    )
                })?);
            }
            body = spool(body).await?;
        }
    }
    if body.file.is_some() && !body.bytes.is_empty() {
        body = spool(body).await?;
    }
    Ok(body)
}

/// Appends what is in memory to the body's file (made on first use).
async fn spool(mut body: Body) -> Result<Body, crate::error::AppError> {
    use std::io::Write;
    let failed = |e: std::io::Error| {
        tracing::error!("spooling a plugin's request body: {e}");
        crate::error::AppError::Internal("The request body could not be stored".into())
    };
    actix_web::web::block(move || {
        let file = match body.file.as_mut() {
            Some(file) => file,
            None => body.file.insert(tempfile::NamedTempFile::new()?),
        };
        file.write_all(&body.bytes)?;
        file.flush()?;
        body.bytes.clear();
        Ok(body)
    })
    .await
    .map_err(|e| crate::error::AppError::Internal(e.to_string()))?
    .map_err(failed)
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
    let mut out = http_response(&r)?;
    match file {
        Some(file) => file.stream(out),
        None => Ok(out.body(r.body)),
    }
}
