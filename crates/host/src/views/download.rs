//! `/DB.db`: the database file itself, as Datasette's `allow_download` offers it: only an
//! immutable file (a mutable one could change while it is read), only with the
//! `view-database-download` permission, and only to an actor who may see everything in it
//! (the file holds every table, protected ones too).

use std::sync::Arc;

use actix_web::web::Bytes;
use actix_web::HttpResponse;
use tokio::sync::mpsc;

use super::Reply;
use crate::app::AppState;
use crate::db::Database;
use crate::error::AppError;
use crate::permissions::Action;

/// Bytes read from the file at a time.
const CHUNK: usize = 64 << 10;

/// Why `actor` may not download `db`'s file, or `None` when they may.
pub async fn refusal(
    state: &AppState,
    actor: &crate::permissions::Actor,
    db: &Database,
) -> Result<Option<&'static str>, AppError> {
    if !state.settings.allow_download || !db.immutable || db.is_memory() {
        return Ok(Some("Database download is forbidden"));
    }
    let perms = &state.permissions;
    let resource = datasette_plugin_api::Resource::Database(db.name.clone());
    if !perms.can_view_database(actor, &db.name)
        || perms.vote(actor, Action::ViewDatabaseDownload.name(), &resource) == Some(false)
    {
        return Ok(Some("You do not have permission to download this database"));
    }
    if !state.sees_whole_file(actor, db).await? {
        return Ok(Some("The file holds tables you may not see"));
    }
    Ok(None)
}

/// The file itself, for an actor who passed `page::Gate::Download` ([`refusal`]).
pub fn file(db: &Database) -> Result<Reply, AppError> {
    let size = std::fs::metadata(&db.path)
        .map_err(|e| AppError::Internal(format!("cannot read {}: {e}", db.path.display())))?
        .len();
    let disposition = format!("attachment; filename=\"{}.db\"", db.name.replace('"', "_"));
    let mut response = HttpResponse::Ok();
    response
        .content_type("application/octet-stream")
        .insert_header(("Content-Disposition", disposition));
    Ok(stream_file(db.path.clone(), size, response).into())
}

/// `response` with the file at `path`, `size` bytes long, as its body. Each chunk is read
/// on a blocking thread and sent from an async task, so a slow client holds no thread; one
/// that stops reading for [`STALL`](crate::delivery::STALL), or a body still going after
/// [`LONGEST`](crate::delivery::LONGEST), ends the answer short of its length (the client sees
/// it failed).
pub(super) fn stream_file(
    path: std::path::PathBuf,
    size: u64,
    mut response: actix_web::HttpResponseBuilder,
) -> HttpResponse {
    let (tx, rx) = mpsc::channel::<Bytes>(4);
    actix_web::rt::spawn(async move {
        if let Err(e) = send_file(&path, size, tx).await {
            tracing::warn!("reading {}: {e}", path.display());
        }
    });
    response
        .no_chunking(size)
        .streaming(crate::render::stream::Chunks(rx))
}

async fn send_file(
    path: &std::path::Path,
    size: u64,
    tx: mpsc::Sender<Bytes>,
) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    let started = std::time::Instant::now();
    let file = Arc::new(std::fs::File::open(path)?);
    let mut offset = 0u64;
    while offset < size && started.elapsed() < crate::delivery::LONGEST {
        let f = file.clone();
        let chunk = actix_web::rt::task::spawn_blocking(move || {
            let mut buf = vec![0u8; CHUNK];
            let n = f.read_at(&mut buf, offset)?;
            buf.truncate(n);
            Ok::<_, std::io::Error>(buf)
        })
        .await
        .map_err(std::io::Error::other)??;
        if chunk.is_empty() {
            break;
        }
        offset += chunk.len() as u64;
        if !crate::delivery::send_in_time(&tx, Bytes::from(chunk)).await {
            break;
        }
    }
    Ok(())
}
