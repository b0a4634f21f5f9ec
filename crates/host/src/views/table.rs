//! `/DB/TABLE`: rows of a table or view, filtered, sorted, searched, faceted and paged.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use indexmap::IndexMap;
use serde::Serialize;

use super::facets::{self, Suggestion};
use super::{Answer, Ctx};
use crate::app::AppState;
use crate::config::TableMeta;
use crate::db::filters::{self, Filter};
use crate::db::next_token;
use crate::db::table_query::{ident, Sort, TableQuery};
use crate::db::{self as sqlite, Cell, Database, DbError, ForeignKey, TableInfo};
use crate::error::AppError;
use crate::render::json::{bare_shape, JsonRows, Shape};
use crate::render::{csv, Format};

#[derive(Serialize, Clone)]
pub struct FacetValue {
    pub value: Cell,
    pub label: Cell,
    pub count: i64,
    pub toggle_url: String,
    pub selected: bool,
}

#[derive(Serialize, Clone)]
pub struct FacetResult {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub hideable: bool,
    pub toggle_url: String,
    pub results: Vec<FacetValue>,
    pub truncated: bool,
}

/// A foreign key that `_labels` could expand, in Datasette's key order.
#[derive(Serialize, Clone)]
pub struct ExpandableKey {
    pub column: String,
    pub other_table: String,
    pub other_column: String,
}

#[derive(Serialize)]
pub struct QueryInfo {
    pub sql: String,
    pub params: IndexMap<String, Cell>,
}

/// What the HTML page needs beyond the JSON.
pub struct HtmlExtras {
    pub all_columns: Vec<String>,
    pub sortable: Vec<String>,
    pub sort: Option<Sort>,
    pub filters: Vec<Filter>,
    pub search: Option<String>,
    pub searchable: bool,
    pub key_indexes: Vec<usize>,
    pub outgoing: Vec<ForeignKey>,
    /// (column, value) → label of the row it points to.
    pub labels: HashMap<(String, String), String>,
    pub meta: Option<TableMeta>,
}

#[derive(Serialize)]
pub struct TablePage {
    pub database: String,
    pub table: String,
    pub is_view: bool,
    pub human_description_en: String,
    pub rows: JsonRows,
    pub truncated: bool,
    pub filtered_table_rows_count: Option<i64>,
    pub expanded_columns: Vec<String>,
    pub expandable_columns: Vec<(ExpandableKey, String)>,
    pub columns: Vec<String>,
    pub primary_keys: Vec<String>,
    pub units: IndexMap<String, String>,
    pub query: QueryInfo,
    pub facet_results: IndexMap<String, FacetResult>,
    pub suggested_facets: Vec<SuggestedFacet>,
    pub next: Option<String>,
    pub next_url: Option<String>,
    pub private: bool,
    pub allow_execute_sql: bool,
    pub query_ms: f64,
    #[serde(flatten)]
    pub links: IndexMap<&'static str, String>,
    #[serde(skip)]
    pub html: HtmlExtras,
}

#[derive(Serialize)]
pub struct SuggestedFacet {
    #[serde(flatten)]
    pub facet: Suggestion,
    pub toggle_url: String,
}

/// A facet asked for by metadata or by the URL.
struct FacetRequest {
    kind: &'static str,
    column: String,
    /// Asked for in the URL, so it can be switched off there.
    hideable: bool,
}

fn bad(msg: impl Into<String>) -> AppError {
    AppError::BadRequest(msg.into())
}

fn page_size(ctx: &Ctx, state: &AppState, meta: Option<&TableMeta>) -> Result<usize, AppError> {
    let max = state.settings.max_returned_rows as usize;
    match ctx.arg("_size") {
        None | Some("") => Ok(meta
            .and_then(|m| m.size)
            .unwrap_or(state.settings.default_page_size)
            .min(state.settings.max_returned_rows) as usize),
        Some("max") => Ok(max),
        Some(s) => {
            let n: usize = s
                .parse()
                .map_err(|_| bad("_size must be a positive integer"))?;
            if n > max {
                return Err(bad(format!("_size must be <= {max}")));
            }
            Ok(n)
        }
    }
}

fn sort_order(
    ctx: &Ctx,
    t: &TableInfo,
    meta: Option<&TableMeta>,
) -> Result<Option<Sort>, AppError> {
    let (asc, desc) = (
        ctx.arg("_sort").filter(|s| !s.is_empty()),
        ctx.arg("_sort_desc").filter(|s| !s.is_empty()),
    );
    let chosen = match (asc, desc) {
        (Some(_), Some(_)) => return Err(bad("Cannot use _sort and _sort_desc at the same time")),
        (Some(c), None) => Some(Sort {
            column: c.to_string(),
            desc: false,
        }),
        (None, Some(c)) => Some(Sort {
            column: c.to_string(),
            desc: true,
        }),
        (None, None) => {
            let m = meta.and_then(|m| {
                m.sort
                    .clone()
                    .map(|c| Sort {
                        column: c,
                        desc: false,
                    })
                    .or_else(|| {
                        m.sort_desc.clone().map(|c| Sort {
                            column: c,
                            desc: true,
                        })
                    })
            });
            return Ok(m.filter(|s| t.has_column(&s.column)));
        }
    };
    if let Some(s) = &chosen {
        if !t.has_column(&s.column) {
            return Err(bad(format!(
                "Cannot sort table by {}: no such column",
                s.column
            )));
        }
        if let Some(allowed) = meta.and_then(|m| m.sortable_columns.as_ref()) {
            if !allowed.contains(&s.column) {
                return Err(bad(format!("Cannot sort table by {}", s.column)));
            }
        }
    }
    Ok(chosen)
}

fn selected_columns(ctx: &Ctx, t: &TableInfo) -> Result<Vec<String>, AppError> {
    let keys = if t.is_view { vec![] } else { t.key_columns() };
    let all: Vec<String> = if t.uses_rowid() {
        std::iter::once("rowid".to_string())
            .chain(t.columns.iter().cloned())
            .collect()
    } else {
        t.columns.clone()
    };
    let cols = ctx.args_named("_col");
    let nocols = ctx.args_named("_nocol");
    for c in cols.iter().chain(nocols.iter()) {
        if !all.iter().any(|a| a == c) {
            return Err(bad(format!("_col={c} - invalid column")));
        }
    }
    if !cols.is_empty() {
        let mut out = keys.clone();
        out.extend(
            cols.iter()
                .filter(|c| !keys.iter().any(|k| k == *c))
                .map(|c| c.to_string()),
        );
        return Ok(out);
    }
    Ok(all
        .into_iter()
        .filter(|c| keys.contains(c) || !nocols.contains(&c.as_str()))
        .collect())
}

fn facet_requests(
    ctx: &Ctx,
    state: &AppState,
    t: &TableInfo,
    meta: Option<&TableMeta>,
) -> Result<Vec<FacetRequest>, AppError> {
    let mut out: Vec<FacetRequest> = Vec::new();
    let mut push = |kind: &'static str, column: &str, hideable: bool| {
        if !out.iter().any(|f| f.kind == kind && f.column == column) {
            out.push(FacetRequest {
                kind,
                column: column.to_string(),
                hideable,
            });
        }
    };
    for spec in meta.map(|m| m.facets.as_slice()).unwrap_or_default() {
        if let Ok((kind, column)) = spec.kind_and_column() {
            let kind = match kind {
                "array" => "array",
                "date" => "date",
                _ => "column",
            };
            if t.has_column(column) {
                push(kind, column, false);
            }
        }
    }
    for (param, kind) in [
        ("_facet", "column"),
        ("_facet_array", "array"),
        ("_facet_date", "date"),
    ] {
        for column in ctx.args_named(param) {
            if !state.settings.allow_facet {
                return Err(bad("Facets are switched off on this server (allow_facet)"));
            }
            if !t.has_column(column) {
                return Err(bad(format!("Cannot facet on {column}: no such column")));
            }
            push(kind, column, true);
        }
    }
    Ok(out)
}

/// "where a = 1, b > 2 and search matches "x" sorted by c descending".
fn human_description(
    filters: &[Filter],
    search: Option<&str>,
    sort: Option<&Sort>,
    explicit_sort: bool,
) -> String {
    let mut bits: Vec<String> = filters.iter().map(Filter::human).collect();
    if let Some(q) = search {
        bits.push(format!("search matches \"{q}\""));
    }
    let mut s = match bits.split_last() {
        None => String::new(),
        Some((last, [])) => format!("where {last}"),
        Some((last, rest)) => format!("where {} and {last}", rest.join(", ")),
    };
    if let (Some(sort), true) = (sort, explicit_sort) {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(&format!(
            "sorted by {}{}",
            sort.column,
            if sort.desc { " descending" } else { "" }
        ));
    }
    s
}

fn facet_sql(f: &FacetRequest, from_where: &str, limit: usize) -> String {
    let c = ident(&f.column);
    match f.kind {
        "array" => format!(
            "select j.value as value, count(*) as count from (select * {from_where}) t, json_each(t.{c}) j group by j.value order by count desc, value limit {limit}"
        ),
        "date" => format!(
            "select date({c}) as value, count(*) as count from (select * {from_where}) where date({c}) is not null group by date({c}) order by count desc, value limit {limit}"
        ),
        _ => format!(
            "select {c} as value, count(*) as count from (select * {from_where}) where {c} is not null group by {c} order by count desc, value limit {limit}"
        ),
    }
}

/// The URL argument a facet value toggles.
fn facet_arg(f: &FacetRequest) -> String {
    match f.kind {
        "array" => format!("{}__arraycontains", f.column),
        "date" => format!("{}__date", f.column),
        _ => f.column.clone(),
    }
}

/// The values of one facet (by its index among the requests) with their counts.
struct FacetCounts {
    index: usize,
    values: Vec<(Cell, i64)>,
    truncated: bool,
}

/// What the blocking query task returns.
/// Facet suggestions kept until the file changes. Checks that ran out of time (a large table,
/// or a busy moment) are tried again after a while rather than every time.
#[derive(Clone)]
struct CachedSuggestions {
    suggestions: Vec<Suggestion>,
    partial_since: Option<std::time::Instant>,
}

const PARTIAL_SUGGESTIONS_TTL: Duration = Duration::from_secs(60);

struct Fetched {
    rows: sqlite::Rows,
    count: Option<i64>,
    facets: Vec<FacetCounts>,
    labels: HashMap<(String, String), String>,
    /// Computed this time (none when cached or not wanted).
    suggested: Option<facets::Suggested>,
}

pub async fn page(
    state: &AppState,
    ctx: &Ctx,
    db: &Arc<Database>,
    name: &str,
) -> Result<Answer, AppError> {
    let schema = db.schema().await?;
    let t = schema
        .get(name)
        .ok_or_else(|| super::table_missing(state, ctx, &db.name))?;
    let perms = &state.permissions;
    let access = state.access(&ctx.actor, &db.name, &schema);
    if !access.can_read(name) {
        return Err(super::table_forbidden());
    }
    let meta = state.metadata.table(&db.name, name);

    // The HTML filter form posts its fields by name; turn them into a filter URL.
    if let (Some(col), Some(op)) = (ctx.arg("_filter_column"), ctx.arg("_filter_op")) {
        let value = ctx.arg("_filter_value").unwrap_or("").to_string();
        let mut replace: Vec<(&str, Option<String>)> = vec![
            ("_filter_column", None),
            ("_filter_op", None),
            ("_filter_value", None),
            ("_next", None),
        ];
        let key = format!("{col}__{op}");
        if !col.is_empty() {
            replace.push((
                &key,
                Some(if value.is_empty() { "1".into() } else { value }),
            ));
        }
        return Ok(Answer::Redirect(ctx.path_with_replaced(&replace)));
    }

    let shape = Shape::parse(ctx.arg("_shape"))?;
    let size = page_size(ctx, state, meta)?;
    let explicit_sort = ctx.arg("_sort").is_some_and(|s| !s.is_empty())
        || ctx.arg("_sort_desc").is_some_and(|s| !s.is_empty());
    let sort = sort_order(ctx, t, meta)?;
    let columns = selected_columns(ctx, t)?;
    let filters = filters::parse(&ctx.args, t).map_err(AppError::BadRequest)?;
    let search_text = ctx
        .arg("_search")
        .filter(|s| !s.trim().is_empty())
        .map(str::to_string);
    let fts_table = meta
        .and_then(|m| m.fts_table.clone())
        .or_else(|| t.fts_table.clone())
        .filter(|f| access.can_read(f));
    let search = match (&search_text, &fts_table) {
        (Some(q), Some(fts)) => Some((fts.clone(), q.clone())),
        (Some(_), None) => return Err(bad("Full-text search is not available for this table")),
        _ => None,
    };
    let wheres: Vec<String> = ctx
        .args_named("_where")
        .into_iter()
        .filter(|w| !w.trim().is_empty())
        .map(str::to_string)
        .collect();
    if !wheres.is_empty() && !perms.can_execute_sql(&ctx.actor, &db.name) {
        return Err(AppError::Forbidden(
            "_where= needs permission to execute SQL".into(),
        ));
    }
    let (keyset, offset) = match ctx.arg("_next").filter(|s| !s.is_empty()) {
        None => (None, 0),
        Some(tok) if t.is_view => (
            None,
            next_token::decode_offset(tok).map_err(AppError::BadRequest)?,
        ),
        Some(tok) => (
            Some(
                next_token::decode(tok, t.key_columns().len(), sort.is_some())
                    .map_err(AppError::BadRequest)?,
            ),
            0,
        ),
    };
    let facets = facet_requests(ctx, state, t, meta)?;
    let facet_size = match ctx.arg("_facet_size") {
        None | Some("") => state.settings.default_facet_size as usize,
        Some("max") => state.settings.max_returned_rows as usize,
        Some(s) => s
            .parse::<usize>()
            .map_err(|_| bad("_facet_size must be a positive integer or max"))?
            .min(state.settings.max_returned_rows as usize),
    };

    let query = TableQuery {
        table: t,
        columns: columns.clone(),
        filters: filters.clone(),
        search,
        wheres: wheres.clone(),
        sort: sort.clone(),
        keyset,
        offset,
        size,
    };
    let built = query.build();
    let unfiltered = filters.is_empty() && search_text.is_none() && wheres.is_empty();
    // Counts and suggestions depend on the file alone unless `_where` SQL is involved (the
    // authorizer's verdict on it depends on the actor): only those are cached.
    let cacheable = wheres.is_empty();
    let count_key = match (unfiltered && !t.is_view, cacheable) {
        (true, _) => Some(sqlite::Database::count_key(name)),
        (false, true) => Some(format!(
            "count\0{}\0{:?}",
            built.from_where, built.filter_params
        )),
        (false, false) => None,
    };
    let cached_count = count_key.as_deref().and_then(|k| db.derived::<i64>(k));

    // Labels of the rows that foreign keys point to, for tables this actor may see.
    let expandable: Vec<(ForeignKey, String)> = t
        .outgoing
        .iter()
        .filter(|fk| access.can_read(&fk.other_table))
        .filter_map(|fk| {
            let other_meta = state.metadata.table(&db.name, &fk.other_table);
            let label = other_meta
                .and_then(|m| m.label_column.clone())
                .or_else(|| schema.get(&fk.other_table).and_then(|o| o.label_column()))?;
            Some((fk.clone(), label))
        })
        .collect();
    let label_lookups: Vec<(ForeignKey, String, usize)> = if ctx.format == Format::Html {
        expandable
            .iter()
            .filter_map(|(fk, label)| {
                columns
                    .iter()
                    .position(|c| *c == fk.column)
                    .map(|i| (fk.clone(), label.clone(), i))
            })
            .collect()
    } else {
        vec![]
    };

    let facet_sqls: Vec<String> = facets
        .iter()
        .map(|f| facet_sql(f, &built.from_where, facet_size + 1))
        .collect();
    let settings = &state.settings;
    let time_limit = Duration::from_millis(settings.sql_time_limit_ms);
    let facet_limit = Duration::from_millis(settings.facet_time_limit_ms);
    let (sql, params, from_where, filter_params) = (
        built.sql.clone(),
        built.params.clone(),
        built.from_where.clone(),
        built.filter_params.clone(),
    );
    let cached = wheres.is_empty();
    // Datasette suggests facets on the first page only, and never for SQL from `_where`.
    let suggest = settings.suggest_facets
        && settings.allow_facet
        && ctx.format != Format::Csv
        && ctx.arg("_next").is_none_or(str::is_empty)
        && wheres.is_empty()
        && !ctx.flag("_nosuggest");
    let suggest_limit = Duration::from_millis(settings.facet_suggest_time_limit_ms);
    // Datasette looks at every column of the table, whatever `_col` shows.
    let suggest_columns = t.columns.clone();
    let enabled: Vec<String> = facets.iter().map(|f| f.column.clone()).collect();
    let suggest_key = format!(
        "suggest\0{}\0{:?}\0{enabled:?}\0{facet_size}",
        built.from_where, built.filter_params
    );
    let cached_suggestions = if suggest {
        db.derived::<CachedSuggestions>(&suggest_key)
            .filter(|c| {
                c.partial_since
                    .is_none_or(|t| t.elapsed() < PARTIAL_SUGGESTIONS_TTL)
            })
            .map(|c| c.suggestions)
    } else {
        None
    };
    let compute_suggestions = suggest && cached_suggestions.is_none();
    // The rows query runs within `time_limit`; each later query sets its own limit (the
    // count `time_limit`, each facet `facet_limit`, each suggestion probe `suggest_limit`).
    let fetched = db
        .run(time_limit, access.clone(), move |c| {
            let rows = sqlite::select(c, &sql, &params, size + 1, cached)?;
            let count = match cached_count {
                Some(n) => Some(n),
                None => {
                    c.set_time_limit(time_limit);
                    let count_sql = format!("select count(*) {from_where}");
                    match sqlite::count(c, &count_sql, &filter_params, cached) {
                        Ok(n) => Some(n),
                        Err(DbError::Interrupted(_)) => None,
                        Err(e) => return Err(e),
                    }
                }
            };
            let mut facets = Vec::new();
            for (i, fsql) in facet_sqls.iter().enumerate() {
                c.set_time_limit(facet_limit);
                match sqlite::select(c, fsql, &filter_params, facet_size + 1, cached) {
                    Ok(r) => {
                        let truncated = r.rows.len() > facet_size;
                        let values = r
                            .rows
                            .into_iter()
                            .take(facet_size)
                            .map(|mut row| {
                                let n = match row.pop() {
                                    Some(Cell::Int(n)) => n,
                                    _ => 0,
                                };
                                (row.pop().unwrap_or(Cell::Null), n)
                            })
                            .collect();
                        facets.push(FacetCounts {
                            index: i,
                            values,
                            truncated,
                        });
                    }
                    Err(DbError::Interrupted(_)) => tracing::info!("facet {i} timed out"),
                    Err(e) => return Err(e),
                }
            }
            let labels = fetch_labels(c, &label_lookups, &rows.rows);
            let suggested = if compute_suggestions {
                Some(facets::suggest(
                    c,
                    suggest_limit,
                    &facets::Candidates {
                        columns: &suggest_columns,
                        from_where: &from_where,
                        params: &filter_params,
                        row_count: count,
                        facet_size,
                        enabled: &enabled,
                    },
                ))
            } else {
                None
            };
            Ok(Fetched {
                rows,
                count,
                facets,
                labels,
                suggested,
            })
        })
        .await?;
    if let (Some(key), None, Some(n)) = (count_key, cached_count, fetched.count) {
        db.store_derived(key, n);
    }
    let suggestions = match (cached_suggestions, fetched.suggested) {
        (Some(cached), _) => cached,
        (None, Some(s)) => {
            let partial_since = (!s.complete).then(std::time::Instant::now);
            db.store_derived(
                suggest_key,
                CachedSuggestions {
                    suggestions: s.suggestions.clone(),
                    partial_since,
                },
            );
            s.suggestions
        }
        (None, None) => vec![],
    };

    let mut rows = fetched.rows.rows;
    let more = rows.len() > size;
    rows.truncate(size);
    let next = if more && size > 0 {
        let last = rows.last();
        Some(match (t.is_view, last) {
            (true, _) | (false, None) => offset.saturating_add(size as u64).to_string(),
            (false, Some(last)) => {
                let keys: Vec<Cell> = built.key_indexes.iter().map(|&i| last[i].clone()).collect();
                next_token::encode(built.sort_index.map(|i| &last[i]), &keys)
            }
        })
    } else {
        None
    };
    let display_len = columns.len();
    for r in &mut rows {
        r.truncate(display_len);
    }
    let next_url = next.as_ref().map(|n| {
        let mut replace: Vec<(&str, Option<String>)> = vec![("_next", Some(n.clone()))];
        if !t.is_view {
            match &sort {
                Some(s) if !s.desc => replace.push(("_sort", Some(s.column.clone()))),
                Some(s) => replace.push(("_sort_desc", Some(s.column.clone()))),
                None => replace.push(("_sort_desc", None)),
            }
        }
        ctx.absolute(&ctx.path_with_replaced(&replace))
    });

    let mut facet_results: IndexMap<String, FacetResult> = IndexMap::new();
    for FacetCounts {
        index,
        values,
        truncated,
    } in fetched.facets
    {
        let f = &facets[index];
        let arg = facet_arg(f);
        let facet_param = match f.kind {
            "array" => "_facet_array",
            "date" => "_facet_date",
            _ => "_facet",
        };
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
                FacetValue {
                    label: value.clone(),
                    value,
                    count,
                    toggle_url: ctx.absolute(&toggle),
                    selected,
                }
            })
            .collect();
        let key = if facet_results.contains_key(&f.column) {
            format!("{}_{}", f.column, f.kind)
        } else {
            f.column.clone()
        };
        facet_results.insert(
            key,
            FacetResult {
                name: f.column.clone(),
                kind: f.kind,
                hideable: f.hideable,
                toggle_url: ctx.path_with_removed(&[(facet_param, &f.column)]),
                results,
                truncated,
            },
        );
    }

    let data = TablePage {
        database: db.name.clone(),
        table: name.to_string(),
        is_view: t.is_view,
        human_description_en: human_description(
            &filters,
            search_text.as_deref(),
            sort.as_ref(),
            explicit_sort,
        ),
        rows: JsonRows {
            columns: columns.clone(),
            rows,
            as_objects: shape == Shape::Objects,
        },
        truncated: false,
        filtered_table_rows_count: fetched.count,
        expanded_columns: vec![],
        expandable_columns: expandable
            .into_iter()
            .map(|(fk, label)| {
                (
                    ExpandableKey {
                        column: fk.column,
                        other_table: fk.other_table,
                        other_column: fk.other_column,
                    },
                    label,
                )
            })
            .collect(),
        columns: columns.clone(),
        primary_keys: t.primary_keys.clone(),
        units: meta.map(|m| m.units.clone()).unwrap_or_default(),
        // Token values are bound typed but shown as the strings they came as, as Datasette does.
        query: QueryInfo {
            sql: built.sql.clone(),
            params: built
                .params
                .iter()
                .enumerate()
                .map(|(i, (k, v))| {
                    let shown = if i >= built.filter_params.len() {
                        Cell::Text(v.to_plain_string())
                    } else {
                        v.clone()
                    };
                    (k.clone(), shown)
                })
                .collect(),
        },
        facet_results,
        suggested_facets: suggestions
            .into_iter()
            .map(|s| SuggestedFacet {
                toggle_url: ctx.absolute(&ctx.path_with_added(&[(s.param, &s.name)])),
                facet: s,
            })
            .collect(),
        next,
        next_url,
        private: !state
            .public_access(&ctx.actor, &access, &db.name, &schema)
            .can_read(name),
        allow_execute_sql: perms.can_execute_sql(&ctx.actor, &db.name),
        query_ms: ctx.elapsed_ms(),
        links: state
            .metadata
            .inherited_links(Some(&db.name), Some(name))
            .into_iter()
            .collect(),
        html: HtmlExtras {
            all_columns: t.columns.clone(),
            sortable: match meta.and_then(|m| m.sortable_columns.clone()) {
                Some(s) => s,
                None => columns.clone(),
            },
            sort,
            filters,
            search: search_text,
            searchable: fts_table.is_some(),
            key_indexes: if t.is_view {
                vec![]
            } else {
                t.key_columns()
                    .iter()
                    .filter_map(|k| columns.iter().position(|c| c == k))
                    .collect()
            },
            outgoing: t
                .outgoing
                .iter()
                .filter(|fk| access.can_read(&fk.other_table))
                .cloned()
                .collect(),
            labels: fetched.labels,
            meta: meta.cloned(),
        },
    };
    match (ctx.format, shape) {
        (Format::Csv, _) => Ok(csv::response(&data.rows.columns, &data.rows.rows).into()),
        (Format::Json, Shape::Array | Shape::ArrayFirst | Shape::Object) => {
            let keys = if t.is_view {
                None
            } else {
                Some(data.html.key_indexes.as_slice())
            };
            Ok(bare_shape(shape, ctx.flag("_nl"), &data.rows, keys)?.into())
        }
        _ => super::respond(ctx, &data, || {
            super::templates::table_page(state, ctx, &data)
        }),
    }
}

/// Looks up the label of each foreign key value on the page. A lookup that fails leaves the
/// plain value: labels are a convenience.
fn fetch_labels(
    c: &sqlite::Conn,
    lookups: &[(ForeignKey, String, usize)],
    rows: &[Vec<Cell>],
) -> HashMap<(String, String), String> {
    let mut out = HashMap::new();
    for (fk, label, i) in lookups {
        let values: HashSet<String> = rows
            .iter()
            .filter_map(|r| r.get(*i))
            .filter(|v| !v.is_null())
            .map(Cell::to_plain_string)
            .collect();
        if values.is_empty() {
            continue;
        }
        let params: Vec<(String, Cell)> = values
            .iter()
            .enumerate()
            .map(|(n, v)| (format!("l{n}"), Cell::Text(v.clone())))
            .collect();
        let sql = format!(
            "select {}, {} from {} where {} in ({})",
            ident(&fk.other_column),
            ident(label),
            ident(&fk.other_table),
            ident(&fk.other_column),
            params
                .iter()
                .map(|(k, _)| format!(":{k}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if let Ok(r) = sqlite::select(c, &sql, &params, values.len() * 2, false) {
            for row in r.rows {
                if let [k, l] = row.as_slice() {
                    if !l.is_null() {
                        out.insert(
                            (fk.column.clone(), k.to_plain_string()),
                            l.to_plain_string(),
                        );
                    }
                }
            }
        }
    }
    out
}
