//! The work a table page asks of one connection: its rows, their labels, facets and count,
//! read together.

use std::collections::HashMap;
use std::time::Duration;

use super::request::FacetRequest;
use crate::db::facets::{self, FacetCounts};
use crate::db::labels::{self, Lookup};
use crate::db::table_query::Built;
use crate::db::{self as sqlite, Cell, DbError};

/// Everything the page's queries need, owned, for the blocking task that runs them.
#[derive(Clone)]
pub(super) struct Work {
    pub(super) built: Built,
    pub(super) size: usize,
    /// The SQL holds nothing from the request: its statements may be cached.
    pub(super) cached: bool,
    /// The filtered count, when the cache has it.
    pub(super) count: Option<i64>,
    /// Count when the cache has no count (not with `_nocount`).
    pub(super) want_count: bool,
    pub(super) facets: Vec<FacetRequest>,
    /// Each facet's counts when the cache has them, in the order of `facets`.
    pub(super) known_facets: Vec<Option<FacetCounts>>,
    pub(super) facet_size: usize,
    pub(super) labels: Vec<Lookup>,
    /// Column facets on foreign keys: their values get the labels of the rows they point to.
    pub(super) facet_labels: Vec<Lookup>,
    /// The columns to suggest facets on, when suggestions are to be computed.
    pub(super) suggest: Option<Vec<String>>,
    pub(super) limits: Limits,
}

#[derive(Clone, Copy)]
pub(super) struct Limits {
    pub(super) sql: Duration,
    /// How long the page waits for its count; a longer one is finished in the background.
    pub(super) count: Duration,
    pub(super) facet: Duration,
    pub(super) suggest: Duration,
}

impl Work {
    /// Whether a facet is to be counted (not every one asked is in the cache).
    pub(super) fn counts_facets(&self) -> bool {
        self.known_facets.iter().any(Option::is_none)
    }

    /// The rows the facets count over.
    pub(super) fn over(&self) -> facets::Over<'_> {
        facets::Over {
            from_where: &self.built.from_where,
            params: &self.built.filter_params,
            cached: self.cached,
        }
    }
}

/// What the queries found.
pub(super) struct Fetched {
    pub(super) rows: sqlite::Rows,
    pub(super) count: Option<i64>,
    /// Each facet's counts, `None` where it ran out of time.
    pub(super) facets: Vec<Option<FacetCounts>>,
    pub(super) labels: HashMap<(String, String), String>,
    pub(super) facet_labels: HashMap<(String, String), String>,
    /// Computed this time (none when cached or not wanted).
    pub(super) suggested: Option<facets::Suggested>,
}

/// Runs the page's queries on one connection, each within its own limit: rows and count
/// `sql`, each facet `facet`, each suggestion probe `suggest`.
pub(super) fn fetch(c: &sqlite::Conn, w: Work) -> Result<Fetched, DbError> {
    let b = &w.built;
    if !w.cached {
        // `_where` SQL from the request: checked against the schema the actor sees first.
        c.check_request_sql(&b.sql)?;
    }
    let rows = sqlite::select(c, &b.sql, &b.params, w.size + 1, w.cached)?;
    let count = match w.count {
        Some(n) => Some(n),
        None if !w.want_count => None,
        None => {
            c.set_time_limit(w.limits.count);
            let sql = format!("select count(*) {}", b.from_where);
            match sqlite::count(c, &sql, &b.filter_params, w.cached) {
                Ok(n) => Some(n),
                Err(DbError::Interrupted(_)) => None,
                Err(e) => return Err(e),
            }
        }
    };
    let over = w.over();
    let facet_counts = w
        .facets
        .iter()
        .zip(&w.known_facets)
        .map(|(f, known)| match known {
            Some(counts) => Ok(Some(counts.clone())),
            None => facets::count(c, f.kind, &f.column, &over, w.facet_size, w.limits.facet),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let labels = labels::fetch(c, &w.labels, &rows.rows);
    let facet_values: Vec<Vec<Cell>> = facet_counts
        .iter()
        .flatten()
        .flat_map(|counts| counts.values.iter().map(|(v, _)| vec![v.clone()]))
        .collect();
    let facet_labels = labels::fetch(c, &w.facet_labels, &facet_values);
    let suggested = w.suggest.as_ref().map(|columns| {
        let enabled: Vec<String> = w.facets.iter().map(|f| f.column.clone()).collect();
        facets::suggest(
            c,
            w.limits.suggest,
            &facets::Candidates {
                columns,
                from_where: &b.from_where,
                params: &b.filter_params,
                row_count: count,
                facet_size: w.facet_size,
                enabled: &enabled,
            },
        )
    });
    Ok(Fetched {
        rows,
        count,
        facets: facet_counts,
        labels,
        facet_labels,
        suggested,
    })
}
