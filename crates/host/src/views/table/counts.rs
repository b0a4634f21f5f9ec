//! A table page's row count: how long a page waits for it, and finishing it in the background.

use std::sync::Arc;
use std::time::Duration;

use super::request::TableRequest;
use crate::db::table_query::Built;
use crate::db::{self as sqlite, Access, Database, TableInfo};

/// How long a page waits for its count: a count that takes longer is shown as "many rows"
/// (as Datasette shows one it gave up on) and finished by [`count_later`].
pub(super) const PAGE_COUNT_LIMIT: Duration = Duration::from_millis(100);

/// How long a count in the background may take.
pub(super) const BACKGROUND_COUNT_LIMIT: Duration = Duration::from_secs(60);

/// Finishes a count the page gave up on, in the background on a connection apart from the
/// requests', and caches it for the pages after (until the file changes). One background count
/// at a time per file; a count that ran out of time is not started again for the same file.
pub(super) fn count_later(
    db: &Arc<Database>,
    key: String,
    built: &Built,
    access: Arc<Access>,
    cached: bool,
) {
    let pending = format!("pending\0{key}");
    if db.derived::<()>(&pending).is_some() {
        return;
    }
    let (db, sql) = (db.clone(), format!("select count(*) {}", built.from_where));
    let params = built.filter_params.clone();
    actix_web::rt::task::spawn_blocking(move || {
        let counted = db.run_background(BACKGROUND_COUNT_LIMIT, access, |c| {
            sqlite::count(c, &sql, &params, cached)
        });
        match counted {
            // Another count is running: a later page asks again.
            None => {}
            Some(Ok(n)) => db.store_derived(key, n),
            Some(Err(e)) => {
                tracing::info!("a background count stopped: {e}");
                db.store_derived(pending, ());
            }
        }
    });
}

/// Where a count is cached: the whole table's for everyone; a filtered one by its SQL; none
/// with `_where` SQL, whose verdict depends on the actor.
pub(super) fn count_key(t: &TableInfo, req: &TableRequest, built: &Built) -> Option<String> {
    if !req.wheres.is_empty() {
        None
    } else if req.unfiltered() && !t.is_view {
        Some(sqlite::Database::count_key(&t.name))
    } else {
        Some(format!(
            "count\0{}\0{:?}",
            built.from_where, built.filter_params
        ))
    }
}
