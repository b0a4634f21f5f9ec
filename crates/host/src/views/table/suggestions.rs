//! Facets of a table page: their counts, and the suggestions of further facets, cached.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use indexmap::IndexMap;

use super::request::{FacetRequest, TableRequest};
use super::{rows_only, FacetResult, FacetValue};
use crate::app::AppState;
use crate::db::facets::{self, FacetCounts, FacetKind, Suggestion};
use crate::db::table_query::Built;
use crate::db::{Cell, Database};
use crate::views::PageRequest;

/// Facet suggestions kept until the file changes. Checks that ran out of time (a large table,
/// or a busy moment) are tried again after a while rather than every time.
#[derive(Clone)]
pub(super) struct CachedSuggestions {
    suggestions: Vec<Suggestion>,
    partial_since: Option<Instant>,
}

pub(super) const PARTIAL_SUGGESTIONS_TTL: Duration = Duration::from_secs(60);

impl CachedSuggestions {
    /// Suggestions depend on the rows (filters, search) and on the facets already chosen.
    pub(super) fn key(req: &TableRequest, built: &Built) -> String {
        let enabled: Vec<&String> = req.facets.iter().map(|f| &f.column).collect();
        format!(
            "suggest\0{}\0{:?}\0{enabled:?}\0{}",
            built.from_where, built.filter_params, req.facet_size
        )
    }

    pub(super) fn get(db: &Database, key: &str) -> Option<Vec<Suggestion>> {
        db.derived::<CachedSuggestions>(key)
            .filter(|c| {
                c.partial_since
                    .is_none_or(|t| t.elapsed() < PARTIAL_SUGGESTIONS_TTL)
            })
            .map(|c| c.suggestions)
    }

    pub(super) fn store(db: &Database, key: String, s: facets::Suggested) -> Vec<Suggestion> {
        let cached = CachedSuggestions {
            suggestions: s.suggestions.clone(),
            partial_since: (!s.complete).then(Instant::now),
        };
        db.store_derived(key, cached);
        s.suggestions
    }
}

/// Datasette suggests facets on the first page only, and never for SQL from `_where`.
pub(super) fn wants_suggestions(state: &AppState, ctx: &PageRequest, req: &TableRequest) -> bool {
    let settings = &state.settings;
    settings.suggest_facets
        && settings.allow_facet
        && !rows_only(ctx)
        && req.first_page
        && req.wheres.is_empty()
        && !ctx.flag("_nosuggest")
        && !ctx.flag("_nofacet")
}

/// Each facet's values with the URLs that toggle them, keyed as Datasette keys them.
/// The facets counted, and those that ran out of time (being counted in the background).
pub(super) fn facet_results<'r>(
    ctx: &PageRequest,
    requests: &'r [FacetRequest],
    counts: Vec<Option<FacetCounts>>,
    labels: &HashMap<(String, String), String>,
) -> (IndexMap<String, FacetResult>, Vec<&'r FacetRequest>) {
    let mut out: IndexMap<String, FacetResult> = IndexMap::new();
    let mut later = Vec::new();
    for (f, counts) in requests.iter().zip(counts) {
        let Some(FacetCounts { values, truncated }) = counts else {
            tracing::info!("facet {} timed out", f.column);
            later.push(f);
            continue;
        };
        let arg = f.kind.filter_arg(&f.column);
        let results = values
            .into_iter()
            .map(|(value, count)| {
                let v = value.to_plain_string();
                let selected = ctx.args.iter().any(|(k, x)| *k == arg && *x == v);
                let toggle = if selected {
                    ctx.path_with_removed(&[(&arg, &v)])
                } else {
                    ctx.path_with_added(&[(&arg, &v)])
                };
                let label = match labels.get(&(f.column.clone(), v.clone())) {
                    Some(l) if f.kind == FacetKind::Column => Cell::Text(l.clone()),
                    _ => value.clone(),
                };
                FacetValue {
                    label,
                    value,
                    count,
                    toggle_url: ctx.absolute(&toggle),
                    selected,
                }
            })
            .collect();
        // A second facet on a column is `COLUMN_2`, then `_3`, as Datasette names them.
        let mut key = f.column.clone();
        let mut n = 2;
        while out.contains_key(&key) {
            key = format!("{}_{n}", f.column);
            n += 1;
        }
        out.insert(
            key,
            FacetResult {
                name: f.column.clone(),
                kind: f.kind,
                hideable: f.hideable,
                toggle_url: ctx.path_with_removed(&[(f.kind.param(), &f.column)]),
                results,
                truncated,
            },
        );
    }
    (out, later)
}
