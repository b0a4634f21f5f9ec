//! A plugin route's request body: read within its limits and its time, held in memory while
//! small and spooled to a temporary file as it arrives past that.

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
    let too_large = || super::write_api::too_large(limit);
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
