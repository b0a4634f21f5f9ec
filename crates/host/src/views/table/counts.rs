//! A table page's row count and facet counts: how long a page waits for them, caching them
//! until the file changes, and finishing in the background those the page gave up on.

use std::sync::Arc;
use std::time::Duration;

use super::fetch::Work;
use super::request::TableRequest;
use crate::db::facets::{self, FacetCounts};
use crate::db::table_query::Built;
use crate::db::{self as sqlite, Access, Database, TableInfo};

/// How long a page waits for its count: a count that takes longer is shown as "many rows"
/// (as Datasette shows one it gave up on) and finished by [`count_later`].
pub(super) const PAGE_COUNT_LIMIT: Duration = Duration::from_millis(100);

/// How long a count in the background may take.
pub(super) const BACKGROUND_COUNT_LIMIT: Duration = Duration::from_secs(60);

/// Finishes a count the page gave up on, in the background (see [`finish_later`]).
pub(super) fn count_later(
    db: &Arc<Database>,
    key: String,
    built: &Built,
    access: Arc<Access>,
    cached: bool,
) {
    let sql = format!("select count(*) {}", built.from_where);
    let params = built.filter_params.clone();
    finish_later(db, key, access, "count".into(), move |c| {
        sqlite::count(c, &sql, &params, cached).map(Some)
    });
}

/// Works out what the page gave up on (`None` from `work`: it ran out of time), in the
/// background on a connection apart from the requests', and caches it under `key` for the
/// pages after (until the file changes). One background count at a time per file; one that
/// ran out of time or failed is not started again for the same file.
fn finish_later<T: Send + Sync + 'static>(
    db: &Arc<Database>,
    key: String,
    access: Arc<Access>,
    what: String,
    work: impl FnOnce(&sqlite::Conn) -> Result<Option<T>, sqlite::DbError> + Send + 'static,
) {
    let pending = format!("pending\0{key}");
    if db.derived::<()>(&pending).is_some() {
        return;
    }
    let db = db.clone();
    actix_web::rt::task::spawn_blocking(move || {
        match db.run_background(BACKGROUND_COUNT_LIMIT, access, work) {
            // Another count is running: a later page asks again.
            None => {}
            Some(Ok(Some(value))) => db.store_derived(key, value),
            Some(Ok(None)) => {
                tracing::info!("a background {what} ran out of time");
                db.store_derived(pending, ());
            }
            Some(Err(e)) => {
                tracing::info!("a background {what} stopped: {e}");
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

/// Where each facet of `work` is cached (`None`: not cacheable, its SQL holds `_where`).
pub(super) fn facet_keys(work: &Work) -> Vec<Option<String>> {
    let over = work.over();
    work.facets
        .iter()
        .map(|f| facets::cache_key(f.kind, &f.column, &over, work.facet_size))
        .collect()
}

/// Caches the facets `work` counted, and finishes in the background, on a connection apart
/// from the requests', those that ran out of time: a later page finds them cached.
pub(super) fn cache_facets(
    db: &Arc<Database>,
    work: &Work,
    keys: &[Option<String>],
    counted: &[Option<FacetCounts>],
    access: &Arc<Access>,
) {
    let asked = work
        .facets
        .iter()
        .zip(&work.known_facets)
        .zip(keys)
        .zip(counted);
    for (((facet, known), key), counts) in asked {
        let (None, Some(key)) = (known, key) else {
            continue;
        };
        match counts {
            Some(counts) => db.store_derived(key.clone(), counts.clone()),
            None => facet_later(db, key.clone(), work, facet, access.clone()),
        }
    }
}

fn facet_later(
    db: &Arc<Database>,
    key: String,
    work: &Work,
    facet: &super::request::FacetRequest,
    access: Arc<Access>,
) {
    let (kind, column, size) = (facet.kind, facet.column.clone(), work.facet_size);
    let (from_where, params) = (
        work.built.from_where.clone(),
        work.built.filter_params.clone(),
    );
    let cached = work.cached;
    let what = format!("facet count on {column}");
    finish_later(db, key, access, what, move |c| {
        let over = facets::Over {
            from_where: &from_where,
            params: &params,
            cached,
        };
        facets::count(c, kind, &column, &over, size, BACKGROUND_COUNT_LIMIT)
    });
}
