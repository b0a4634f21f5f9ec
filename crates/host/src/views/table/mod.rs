//! `/DB/TABLE`: rows of a table or view, filtered, sorted, searched, faceted and paged. The
//! request is parsed in `request`, the queries run in `fetch` (SQL from `db`), and `page`
//! builds the page's data from the two.

mod counts;
mod fetch;
mod foreign_labels;
mod html;
pub mod request;
mod search;
mod suggestions;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use indexmap::IndexMap;
use serde::Serialize;

use super::export::{self, Export, TableRows};
use super::{PageRequest, Reply};
use crate::app::AppState;
use crate::config::TableMeta;
use crate::db::facets::{FacetCounts, FacetKind, Suggestion};
use crate::db::filters::Filter;
use crate::db::table_query::{ident, Built, Selection, Sort, TableQuery};
use crate::db::{next_token, Access, Cell, Database, ForeignKey, Schema, TableInfo};
use crate::error::AppError;
use crate::permissions::Action;
use crate::render::json::{bare_shape, JsonRows, Shape};
use crate::render::{csv, Format};
use counts::{cache_facets, count_key, count_later, facet_keys, PAGE_COUNT_LIMIT};
use fetch::{fetch, Fetched, Limits, Work};
use foreign_labels::{expandable_keys, expanded_labels, facet_label_lookups, label_lookups};
use request::{FacetRequest, TableRequest};
use search::{human_description, search, throughs};
use suggestions::{facet_results, wants_suggestions, CachedSuggestions};

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
    pub kind: FacetKind,
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

impl From<ForeignKey> for ExpandableKey {
    fn from(fk: ForeignKey) -> Self {
        ExpandableKey {
            column: fk.column,
            other_table: fk.other_table,
            other_column: fk.other_column,
        }
    }
}

#[derive(Serialize)]
pub struct QueryInfo {
    pub sql: String,
    pub params: IndexMap<String, Cell>,
}

impl QueryInfo {
    /// The page's SQL and parameters. `_next` token values are bound typed but shown as the
    /// strings they came as, as Datasette does.
    fn of(built: &Built) -> QueryInfo {
        let shown = |i: usize, v: &Cell| {
            if i >= built.filter_params.len() {
                Cell::Text(v.to_plain_string())
            } else {
                v.clone()
            }
        };
        QueryInfo {
            sql: built.sql.clone(),
            params: built
                .params
                .iter()
                .enumerate()
                .map(|(i, (k, v))| (k.clone(), shown(i, v)))
                .collect(),
        }
    }
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
    /// Each column's declared type and NOT NULL, for the column headings.
    pub declared: HashMap<String, crate::db::Declared>,
    /// The columns that key a row (`rowid` where none is declared); none for views.
    pub key_columns: Vec<String>,
    /// The `_where` clauses in force.
    pub wheres: Vec<String>,
    /// The table's or view's `CREATE` statements, where they name nothing hidden.
    pub definition: Option<String>,
    /// The next page's path and query, when there is one.
    pub next_path: Option<String>,
    pub meta: Option<TableMeta>,
    /// The facets that ran out of time, now being counted in the background, as Datasette's
    /// `facets_timed_out`; with the index that would help, for an actor who could create it.
    pub facets_later: Vec<FacetLater>,
}

/// A facet being counted in the background: its column, and `create index …` for it.
pub struct FacetLater {
    pub column: String,
    pub index_sql: Option<String>,
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
    pub expandable_columns: Vec<(ExpandableKey, Option<String>)>,
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

/// The page as CSV: a binary value as the URL that downloads it, each labelled column
/// followed by its labels, as Datasette writes them.
fn csv_page(
    ctx: &PageRequest,
    db: &str,
    name: &str,
    data: &TablePage,
) -> Result<actix_web::HttpResponse, crate::render::RenderError> {
    let options = super::csv_options(ctx, name);
    let table_url = ctx.table_url(db, name);
    let keys = &data.html.key_indexes;
    let rows = super::blob::csv_rows(ctx, &data.rows, |row, column, _| {
        let key: Vec<String> = keys
            .iter()
            .map(|&i| crate::urls::tilde_encode(&row[i].to_plain_string()))
            .collect();
        let row_url = format!("{table_url}/{}", key.join(","));
        (!keys.is_empty()).then(|| super::blob::row_href(&row_url, column))
    });
    let labels = &data.rows.forms;
    if labels.by_column.is_empty() {
        return csv::response(&data.rows.columns, &rows, options);
    }
    let (columns, rows) = csv::with_label_columns(&data.rows.columns, &rows, labels);
    csv::response(&columns, &rows, options)
}

/// What the page may read: the table, the tables its foreign keys point to (their labels),
/// its full-text index, and what those read. SQL from the request (`_where`) and joins through
/// other tables (`_through`) may read anything the actor may: the whole access for those.
fn page_access(
    state: &AppState,
    ctx: &PageRequest,
    db: &str,
    schema: &Schema,
    t: &TableInfo,
) -> Arc<Access> {
    let anything = ctx
        .args
        .iter()
        .any(|(k, _)| k.starts_with("_where") || k.starts_with("_through"));
    if anything {
        return state.access(&ctx.actor, db, schema);
    }
    let meta = state.metadata.table(db, &t.name);
    let mut names: Vec<&str> = vec![&t.name];
    names.extend(t.outgoing.iter().map(|fk| fk.other_table.as_str()));
    names.extend(t.fts_table.as_deref());
    names.extend(meta.and_then(|m| m.fts_table.as_deref()));
    names.extend(ctx.arg("_fts_table"));
    state.access_to(&ctx.actor, db, schema, &names)
}

/// Whether everything `name` reads or names (a view's tables, an index's content table, a
/// trigger's sources, the tables its foreign keys point to, and so on down) is readable by
/// this actor: only then may its `CREATE` statement, which names them, be shown. A view
/// published with an allow block of its own over a protected table keeps its definition to
/// itself.
fn reads_only_visible(schema: &Schema, access: &Access, name: &str) -> bool {
    let lineage = &schema.lineage;
    let mut seen = std::collections::BTreeSet::new();
    let mut todo = vec![crate::db::lineage::fold(name)];
    while let Some(next) = todo.pop() {
        let Some(object) = lineage.object(&next) else {
            continue;
        };
        if object.reads_everything {
            return false;
        }
        if !lineage.references(&next).iter().all(|r| access.can_read(r)) {
            return false;
        }
        for read in &object.reads {
            let readable = lineage
                .object(read)
                .is_some_and(|o| access.can_read(&o.name));
            if !readable {
                return false;
            }
            if seen.insert(read.clone()) {
                todo.push(read.clone());
            }
        }
    }
    true
}

/// Datasette's `_nocount` and `_nofacet`, which it sets by itself for CSV and for JSON shaped
/// as a bare array or object: those answers have nowhere to put a count or facets.
fn rows_only(ctx: &PageRequest) -> bool {
    match ctx.format {
        Format::Csv => true,
        Format::Json => matches!(ctx.arg("_shape"), Some("array" | "object")),
        _ => false,
    }
}

/// The access the page's statements run under. A view published with its own allow block is
/// read on its own page through what it reads; SQL from the request (`_where`) may not join
/// in, since it could read those tables too.
fn published_page_access(
    access: &Arc<Access>,
    name: &str,
    req: &TableRequest,
) -> Result<Arc<Access>, AppError> {
    if !access.published.contains(&crate::db::lineage::fold(name)) {
        return Ok(access.clone());
    }
    let through = access.through(name);
    if through.hidden.len() == access.hidden.len() {
        return Ok(access.clone());
    }
    if !req.wheres.is_empty() {
        return Err(AppError::BadRequest(
            "_where is not available on this view: it is published with its own allow block".into(),
        ));
    }
    Ok(Arc::new(through))
}

/// The token of the page after this one, if there are more rows than `size`.
fn next_token_of(
    t: &TableInfo,
    req: &TableRequest,
    built: &Built,
    rows: &[Vec<Cell>],
) -> Option<String> {
    if rows.len() <= req.size || req.size == 0 {
        return None;
    }
    let last = &rows[req.size - 1];
    Some(if t.is_view {
        req.offset.saturating_add(req.size as u64).to_string()
    } else {
        let keys: Vec<Cell> = built.key_indexes.iter().map(|&i| last[i].clone()).collect();
        next_token::encode(built.sort_index.map(|i| &last[i]), &keys)
    })
}

/// One table page being worked out: the request, resolved against the schema and the actor.
struct Page<'a> {
    state: &'a AppState,
    ctx: &'a PageRequest,
    db: &'a Arc<Database>,
    schema: &'a Schema,
    t: &'a TableInfo,
    meta: Option<&'a TableMeta>,
    req: TableRequest,
    access: Arc<Access>,
    /// The full-text index searched, if the table has one this actor may read.
    fts_table: Option<String>,
    selection: Selection,
}

/// What the page's queries found, with the foreign keys the actor may follow.
struct Found {
    fetched: Fetched,
    suggestions: Vec<Suggestion>,
    /// Label columns shown in the data itself (JSON values, CSV columns): (index, column).
    expanded: Vec<(usize, String)>,
    expandable: Vec<(ForeignKey, Option<String>)>,
}

pub async fn page(
    state: &AppState,
    ctx: &PageRequest,
    db: &Arc<Database>,
    name: &str,
) -> Result<Reply, AppError> {
    let schema = db.schema().await?;
    let t = schema
        .get(name)
        .ok_or_else(|| super::table_missing(state, ctx, &db.name))?;
    let access = page_access(state, ctx, &db.name, &schema, t);
    if !access.can_read(name) {
        return Err(super::table_forbidden());
    }
    // The HTML filter form sends its fields by name; they stand for a filter URL.
    if let Some(to) = request::filter_form_redirect(ctx) {
        return Ok(Reply::Redirect(to));
    }
    let meta = state.metadata.table(&db.name, name);
    let req = TableRequest::parse(ctx, &state.settings, t, meta)?;
    if !req.wheres.is_empty() && !state.permissions.can_execute_sql(&ctx.actor, &db.name) {
        return Err(AppError::Forbidden("_where= is not allowed".into()));
    }
    let run_access = published_page_access(&access, name, &req)?;
    let fts_table = ctx
        .arg("_fts_table")
        .map(str::to_string)
        .or_else(|| meta.and_then(|m| m.fts_table.clone()))
        .or_else(|| t.fts_table.clone())
        // One that is not there and one this actor may not read answer alike.
        .filter(|f| schema.get(f).is_some() && access.can_read(f));
    let search = search(ctx, &req, meta, &schema, fts_table.as_deref())?;
    let throughs = throughs(&req, &schema, &access, name)?;
    if let Some(export) = Export::requested(ctx, &state.settings, name)? {
        let rows = TableRows {
            schema: schema.clone(),
            table: name.to_string(),
            selection: req.selection(search, throughs),
        };
        let limit = ctx.sql_limit(&state.settings)?;
        let response = export::table(db.clone(), run_access, limit, rows, export).await?;
        return Ok(response.into());
    }
    let selection = req.selection(search, throughs);
    let page = Page {
        state,
        ctx,
        db,
        schema: &schema,
        t,
        meta,
        req,
        access,
        fts_table,
        selection,
    };
    let built = page.query().build();
    let found = page.fetch(&built, run_access).await?;
    let data = page.data(built, found);
    page.reply(data).await
}

impl Page<'_> {
    fn query(&self) -> TableQuery<'_> {
        let req = &self.req;
        TableQuery {
            table: self.t,
            selection: &self.selection,
            keyset: req.keyset.clone(),
            offset: req.offset,
            size: req.size,
        }
    }

    /// Runs the page's queries (rows, count, facets, labels, suggestions), reusing what is
    /// cached and caching what was worked out.
    async fn fetch(&self, built: &Built, run_access: Arc<Access>) -> Result<Found, AppError> {
        let (state, ctx, db, req, t) = (self.state, self.ctx, self.db, &self.req, self.t);
        let settings = &state.settings;
        let count_key = count_key(t, req, built);
        let cached_count = count_key.as_deref().and_then(|k| db.derived::<i64>(k));
        let expandable = expandable_keys(state, &db.name, self.schema, t, &self.access);
        let label_lookups = label_lookups(ctx, req, &expandable);
        let expanded: Vec<(usize, String)> = match ctx.format {
            Format::Html => vec![],
            _ => label_lookups
                .iter()
                .map(|l| (l.index, l.key.column.clone()))
                .collect(),
        };
        let suggest = wants_suggestions(state, ctx, req);
        let suggest_key = CachedSuggestions::key(req, built);
        let cached_suggestions = suggest
            .then(|| CachedSuggestions::get(db, &suggest_key))
            .flatten();
        let sql_limit = ctx.sql_limit(settings)?;
        let limits = Limits {
            sql: sql_limit,
            count: sql_limit.min(PAGE_COUNT_LIMIT),
            facet: Duration::from_millis(settings.facet_time_limit_ms),
            suggest: Duration::from_millis(settings.facet_suggest_time_limit_ms),
        };
        let want_count = !(rows_only(ctx) || ctx.flag("_nocount"));
        let want_facets = !(rows_only(ctx) || ctx.flag("_nofacet"));
        let mut work = Work {
            built: built.clone(),
            size: req.size,
            cached: req.wheres.is_empty(),
            count: cached_count.filter(|_| want_count),
            want_count,
            facets: if want_facets {
                req.facets.clone()
            } else {
                vec![]
            },
            known_facets: vec![],
            facet_size: req.facet_size,
            labels: label_lookups,
            facet_labels: facet_label_lookups(req, &expandable),
            // Datasette looks at every column of the table, whatever `_col` shows.
            suggest: (suggest && cached_suggestions.is_none()).then(|| t.columns.clone()),
            limits,
        };
        let facet_keys = facet_keys(&work);
        let keys: Vec<&str> = facet_keys
            .iter()
            .map(|k| k.as_deref().unwrap_or(""))
            .collect();
        work.known_facets = db
            .derived_many::<FacetCounts>(&keys)
            .into_iter()
            .zip(&facet_keys)
            .map(|(known, key)| known.filter(|_| key.is_some()))
            .collect();
        // The rows query runs within `limits.sql`; each later query sets its own limit. A
        // page with nothing to count, facet or suggest (all cached or not asked) and no filter
        // reads its rows by key order alone: quicker on this thread than through the pool.
        let quick = (work.count.is_some() || !work.want_count)
            && !work.counts_facets()
            && work.labels.is_empty()
            && work.suggest.is_none()
            && req.unfiltered()
            && req.sort.is_none();
        // What was asked, for caching the facets counted now.
        let asked = work.counts_facets().then(|| work.clone());
        let mut fetched = if quick {
            db.run_quick(limits.sql, run_access.clone(), move |c| {
                fetch(c, work.clone())
            })
            .await?
        } else {
            db.run(limits.sql, run_access.clone(), move |c| fetch(c, work))
                .await?
        };
        if let Some(asked) = asked {
            cache_facets(db, &asked, &facet_keys, &fetched.facets, &run_access);
        }
        match (count_key, cached_count, fetched.count) {
            (Some(key), None, Some(n)) => db.store_derived(key, n),
            (Some(key), None, None) if want_count => {
                count_later(db, key, built, run_access, req.wheres.is_empty())
            }
            _ => {}
        }
        let suggestions = match (cached_suggestions, fetched.suggested.take()) {
            (Some(cached), _) => cached,
            (None, Some(s)) => CachedSuggestions::store(db, suggest_key, s),
            (None, None) => vec![],
        };
        Ok(Found {
            fetched,
            suggestions,
            expanded,
            expandable,
        })
    }

    /// The page's data, as every format takes it.
    fn data(&self, built: Built, found: Found) -> TablePage {
        let (state, ctx, db, req, t) = (self.state, self.ctx, self.db, &self.req, self.t);
        let Found {
            fetched,
            suggestions,
            expanded,
            expandable,
        } = found;
        let (facet_results, later) =
            facet_results(ctx, &req.facets, fetched.facets, &fetched.facet_labels);
        let next = next_token_of(t, req, &built, &fetched.rows.rows);
        let next_path = next
            .as_deref()
            .map(|n| request::next_path(ctx, t, req.sort.as_ref(), n));
        let mut rows = fetched.rows.rows;
        rows.truncate(req.size);
        for r in &mut rows {
            r.truncate(req.columns.len());
        }
        let forms = crate::render::json::CellForms {
            by_column: expanded_labels(&expanded, &fetched.labels),
            ..super::cell_forms(ctx, &req.columns)
        };
        TablePage {
            database: db.name.clone(),
            table: t.name.clone(),
            is_view: t.is_view,
            human_description_en: human_description(
                &req.filters,
                &self.selection.throughs,
                self.selection.search.as_ref(),
                req.sort.as_ref(),
                req.explicit_sort,
            ),
            rows: JsonRows {
                columns: req.columns.clone(),
                rows,
                // Datasette writes rows with labels in them as objects, whatever the shape.
                as_objects: req.shape == Shape::Objects
                    || forms.by_column.values().any(|l| !l.is_empty()),
                forms,
            },
            truncated: false,
            filtered_table_rows_count: fetched.count,
            expanded_columns: expanded.into_iter().map(|(_, c)| c).collect(),
            expandable_columns: expandable
                .into_iter()
                .map(|(fk, label)| (ExpandableKey::from(fk), label))
                .collect(),
            columns: req.columns.clone(),
            primary_keys: t.primary_keys.clone(),
            units: self.meta.map(|m| m.units.clone()).unwrap_or_default(),
            query: QueryInfo::of(&built),
            facet_results,
            suggested_facets: suggestions
                .into_iter()
                .map(|s| SuggestedFacet {
                    toggle_url: ctx.absolute(&ctx.path_with_added(&[(s.kind.param(), &s.name)])),
                    facet: s,
                })
                .collect(),
            next,
            next_url: next_path.as_deref().map(|p| ctx.absolute(p)),
            private: ctx.actor.is_some()
                && !state
                    .access_to(&None, &db.name, self.schema, &[&t.name])
                    .can_read(&t.name),
            allow_execute_sql: state.permissions.can_execute_sql(&ctx.actor, &db.name),
            query_ms: ctx.elapsed_ms(),
            links: state
                .metadata
                .inherited_links(
                    Some(&db.name),
                    state.metadata.table(&db.name, &t.name).map(|m| &m.info),
                )
                .into_iter()
                .collect(),
            html: self.html_extras(
                fetched.labels,
                next_path,
                self.facets_later(&db.name, later),
            ),
        }
    }

    /// The facets counted in the background, and the index that would help each column's:
    /// offered to an actor who may run `create index` here (`execute-write-sql`).
    fn facets_later(&self, db: &str, later: Vec<&FacetRequest>) -> Vec<FacetLater> {
        let (state, ctx, t) = (self.state, self.ctx, self.t);
        let may_index = !t.is_view
            && !later.is_empty()
            && state
                .permissions
                .can_write(&ctx.actor, Action::ExecuteWriteSql, db, None);
        later
            .into_iter()
            .map(|f| FacetLater {
                column: f.column.clone(),
                index_sql: (may_index && f.kind == FacetKind::Column).then(|| {
                    let name = format!("idx_{}_{}", t.name, f.column);
                    format!(
                        "create index {} on {}({})",
                        ident(&name),
                        ident(&t.name),
                        ident(&f.column)
                    )
                }),
            })
            .collect()
    }

    /// What only the HTML page shows.
    fn html_extras(
        &self,
        labels: HashMap<(String, String), String>,
        next_path: Option<String>,
        facets_later: Vec<FacetLater>,
    ) -> HtmlExtras {
        let (req, t, access) = (&self.req, self.t, &self.access);
        HtmlExtras {
            all_columns: t.columns.clone(),
            sortable: match self.meta.and_then(|m| m.sortable_columns.clone()) {
                Some(s) => s,
                None => req.columns.clone(),
            },
            sort: req.sort.clone(),
            filters: req.filters.clone(),
            search: req.search.clone(),
            searchable: self.fts_table.is_some(),
            key_indexes: if t.is_view {
                vec![]
            } else {
                t.key_columns()
                    .iter()
                    .filter_map(|k| req.columns.iter().position(|c| c == k))
                    .collect()
            },
            outgoing: t
                .outgoing
                .iter()
                .filter(|fk| access.can_read(&fk.other_table))
                .cloned()
                .collect(),
            labels,
            declared: t.declared.clone(),
            key_columns: if t.is_view { vec![] } else { t.key_columns() },
            wheres: req.wheres.clone(),
            // Only the HTML page shows it: JSON pages skip the walk through the lineage.
            definition: (self.ctx.format == Format::Html
                && reads_only_visible(self.schema, access, &t.name))
            .then(|| t.definition.clone()),
            next_path,
            meta: self.meta.cloned(),
            facets_later,
        }
    }

    /// The page in the format asked for.
    async fn reply(&self, data: TablePage) -> Result<Reply, AppError> {
        let (state, ctx, req) = (self.state, self.ctx, &self.req);
        if ctx.renderer.is_some() {
            let view = crate::app::View {
                kind: "table",
                database: Some(&data.database),
                table: Some(&data.table),
                row: None,
            };
            return super::plugin_output(state, ctx, view, &data.rows, &data.query.sql).await;
        }
        let view = crate::app::View {
            kind: "table",
            database: Some(&data.database),
            table: Some(&data.table),
            row: None,
        };
        let rows = &data.rows.rows;
        let rendered =
            super::templates::rendered_cells(state, ctx, view, &data.columns, rows).await?;
        let mut reply: Reply = match (ctx.format, req.shape) {
            (Format::Csv, _) => csv_page(ctx, &data.database, &data.table, &data)?.into(),
            (Format::Json, Shape::Array | Shape::ArrayFirst | Shape::Object) => {
                let keys = (!self.t.is_view).then_some(data.html.key_indexes.as_slice());
                bare_shape(req.shape, ctx.flag("_nl"), &data.rows, keys)?.into()
            }
            _ => super::respond(ctx, &data, || {
                html::table_page(state, ctx, &data, &rendered)
            })?,
        };
        // Datasette's `Link: <URL>; rel="next"`: clients page through any `_shape` by headers.
        if let (Format::Json, Reply::Response(r), Some(url)) =
            (ctx.format, &mut reply, &data.next_url)
        {
            if let Ok(v) =
                actix_web::http::header::HeaderValue::from_str(&format!("<{url}>; rel=\"next\""))
            {
                r.headers_mut().insert(actix_web::http::header::LINK, v);
            }
        }
        Ok(reply)
    }
}
