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

/// Bodies larger than this go to a temporary file as they arrive.
pub const SPOOL_AFTER: usize = 1 << 20;

/// Reads a body of at most `limit` bytes: in memory up to [`SPOOL_AFTER`], then written to a
/// temporary file a batch at a time, off the async workers. Past `limit`, the error says so.
pub async fn read_body(
    mut payload: actix_web::web::Payload,
    limit: u64,
) -> Result<Body, crate::error::AppError> {
    use futures_util::StreamExt;
    let too_large = || crate::views::write_api::too_large(limit);
    let mut body = Body::default();
    let mut total = 0u64;
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|e| crate::error::AppError::BadRequest(format!("Reading the body: {e}")))?;
        total += chunk.len() as u64;
        if total > limit {
            return Err(too_large());
        }
        body.bytes.extend_from_slice(&chunk);
        if body.bytes.len() >= SPOOL_AFTER {
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

/// A plugin's answer from a file (`Response::file`): read and sent a chunk at a time off the
/// async workers, then deleted, also when the client goes away first. Only a file in the
/// system's temporary directory is taken: the host deletes it.
pub fn stream_file(
    mut out: actix_web::HttpResponseBuilder,
    path: &str,
) -> Result<actix_web::HttpResponse, String> {
    let path = std::path::PathBuf::from(path);
    let in_temp = std::fs::canonicalize(&path)
        .ok()
        .zip(std::fs::canonicalize(std::env::temp_dir()).ok())
        .is_some_and(|(file, temp)| file.starts_with(temp));
    if !in_temp {
        return Err(format!(
            "the answer's file {} is not in the temporary directory",
            path.display()
        ));
    }
    let file = std::fs::File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let state = Some((file, DeleteOnDrop(path)));
    let chunks = futures_util::stream::unfold(state, |state| async move {
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

/// Deletes a plugin's answer file once it is sent or abandoned.
struct DeleteOnDrop(std::path::PathBuf);

impl Drop for DeleteOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
