//! `/DB.db`: the database file itself, as Datasette's `allow_download` offers it: only an
//! immutable file (a mutable one could change while it is read), only with the
//! `view-database-download` permission, and only to an actor who may see everything in it
//! (the file holds every table, protected ones too).

use std::io::Read;
use std::sync::Arc;

use actix_web::web::Bytes;
use actix_web::HttpResponse;
use tokio::sync::mpsc;

use super::{PageRequest, Reply};
use crate::app::AppState;
use crate::db::Database;
use crate::error::AppError;
use crate::permissions::VIEW_DATABASE_DOWNLOAD;

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
        || perms.vote(actor, VIEW_DATABASE_DOWNLOAD, &resource) == Some(false)
    {
        return Ok(Some("You do not have permission to download this database"));
    }
    if !state.sees_whole_file(actor, db).await? {
        return Ok(Some("The file holds tables you may not see"));
    }
    Ok(None)
}

pub async fn file(
    state: &AppState,
    ctx: &PageRequest,
    db: Arc<Database>,
) -> Result<Reply, AppError> {
    if let Some(why) = refusal(state, &ctx.actor, &db).await? {
        return Err(AppError::Forbidden(why.into()));
    }
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

/// `response` with the file at `path`, `size` bytes long, as its body, read off the async
/// workers a chunk at a time.
pub(super) fn stream_file(
    path: std::path::PathBuf,
    size: u64,
    mut response: actix_web::HttpResponseBuilder,
) -> HttpResponse {
    let (tx, rx) = mpsc::channel::<Bytes>(4);
    // A client that stops reading frees the reading thread (see `export::Sender`).
    let out = super::export::Sender::new(tx);
    actix_web::rt::task::spawn_blocking(move || {
        let mut buf = vec![0u8; CHUNK];
        let read = std::fs::File::open(&path).and_then(|mut f| loop {
            match f.read(&mut buf)? {
                0 => return Ok(()),
                n if !out.send(Bytes::copy_from_slice(&buf[..n])) => return Ok(()),
                _ => {}
            }
        });
        // The answer falls short of its Content-Length: the client sees it failed.
        if let Err(e) = read {
            tracing::error!("reading {}: {e}", path.display());
        }
    });
    response
        .no_chunking(size)
        .streaming(crate::render::stream::Chunks(rx))
}
