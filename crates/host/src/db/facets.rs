//! Facets: the kinds, the counts of a facet's values, and suggestions of columns worth
//! faceting on, found as Datasette finds them, each within its time limit.

use std::time::Duration;

use serde::Serialize;

use crate::db::table_query::ident;
use crate::db::{self as sqlite, Cell, Conn, DbError};

/// How a column is faceted: by value, by each item of a JSON array, or by date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FacetKind {
    Column,
    Array,
    Date,
}

impl FacetKind {
    pub const ALL: [FacetKind; 3] = [FacetKind::Column, FacetKind::Array, FacetKind::Date];

    /// The name in metadata.json's `facets` and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            FacetKind::Column => "column",
            FacetKind::Array => "array",
            FacetKind::Date => "date",
        }
    }

    /// A kind by its name in metadata.json; anything else is a column facet.
    pub fn from_name(name: &str) -> FacetKind {
        FacetKind::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .unwrap_or(FacetKind::Column)
    }

    /// The URL parameter that asks for it.
    pub fn param(self) -> &'static str {
        match self {
            FacetKind::Column => "_facet",
            FacetKind::Array => "_facet_array",
            FacetKind::Date => "_facet_date",
        }
    }

    /// The filter argument a value of this facet on `column` toggles.
    pub fn filter_arg(self, column: &str) -> String {
        match self {
            // `_col=v` would read as an option: spelled as a filter, as Datasette does.
            FacetKind::Column if column.starts_with('_') => format!("{column}__exact"),
            FacetKind::Column => column.to_string(),
            FacetKind::Array => format!("{column}__arraycontains"),
            FacetKind::Date => format!("{column}__date"),
        }
    }

    fn is_column(&self) -> bool {
        *self == FacetKind::Column
    }

    /// The most frequent values of `column` among `select * {from_where}`, at most `limit`.
    fn sql(self, column: &str, from_where: &str, limit: usize) -> String {
        let c = ident(column);
        match self {
            FacetKind::Array => format!(
                "select j.value as value, count(*) as count from (select * {from_where}) t, json_each(t.{c}) j group by j.value order by count desc, value limit {limit}"
            ),
            FacetKind::Date => format!(
                "select date({c}) as value, count(*) as count from (select * {from_where}) where date({c}) is not null group by date({c}) order by count desc, value limit {limit}"
            ),
            FacetKind::Column => format!(
                "select {c} as value, count(*) as count from (select * {from_where}) where {c} is not null group by {c} order by count desc, value limit {limit}"
            ),
        }
    }
}

/// The values of one facet with their counts, most frequent first.
#[derive(Clone)]
pub struct FacetCounts {
    pub values: Vec<(Cell, i64)>,
    /// More values exist than were asked for.
    pub truncated: bool,
}

/// The rows facets are counted over: `select * {from_where}`, with its parameters.
pub struct Over<'a> {
    pub from_where: &'a str,
    pub params: &'a [(String, Cell)],
    /// Whether the statement may be cached: not when `from_where` holds SQL from a request.
    pub cached: bool,
}

/// Where a facet's counts are cached for the file as it is (with the row counts): by what it
/// counts. Only for SQL that holds nothing from the request (`over.cached`), whose answer is
/// the same for every actor who may read the table.
pub fn cache_key(kind: FacetKind, column: &str, over: &Over<'_>, size: usize) -> Option<String> {
    over.cached.then(|| {
        format!(
            "facet\0{}\0{column}\0{size}\0{}\0{:?}",
            kind.name(),
            over.from_where,
            over.params
        )
    })
}

/// Counts the `size` most frequent values of a facet on `column`, within `limit`; `None` when
/// that took too long.
pub fn count(
    c: &Conn,
    kind: FacetKind,
    column: &str,
    over: &Over<'_>,
    size: usize,
    limit: Duration,
) -> Result<Option<FacetCounts>, DbError> {
    c.set_time_limit(limit);
    let sql = kind.sql(column, over.from_where, size + 1);
    match sqlite::select(c, &sql, over.params, size + 1, over.cached) {
        Ok(r) => Ok(Some(FacetCounts {
            truncated: r.rows.len() > size,
            values: r
                .rows
                .into_iter()
                .take(size)
                .map(|mut row| {
                    let n = match row.pop() {
                        Some(Cell::Int(n)) => n,
                        _ => 0,
                    };
                    (row.pop().unwrap_or(Cell::Null), n)
                })
                .collect(),
        })),
        Err(DbError::Interrupted(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// How many rows the array and date checks look at.
const SUGGEST_CONSIDER: usize = 1000;

#[derive(Debug, Clone, Serialize)]
pub struct Suggestion {
    pub name: String,
    #[serde(rename = "type", skip_serializing_if = "FacetKind::is_column")]
    pub kind: FacetKind,
}

/// Runs the suggestion checks' queries, each within the time limit.
struct Prober<'a> {
    c: &'a Conn,
    limit: Duration,
    params: &'a [(String, Cell)],
    /// A check ran out of time: the answer is not the whole answer.
    timed_out: std::cell::Cell<bool>,
}

impl Prober<'_> {
    /// One query; a timeout or an error means "do not suggest".
    fn probe(&self, sql: &str, max: usize) -> Option<sqlite::Rows> {
        self.c.set_time_limit(self.limit);
        match sqlite::select(self.c, sql, self.params, max, false) {
            Ok(rows) => Some(rows),
            Err(sqlite::DbError::Interrupted(_)) => {
                self.timed_out.set(true);
                None
            }
            Err(_) => None,
        }
    }
}

fn is_array_of_strings(c: &Cell) -> bool {
    let Cell::Text(s) = c else { return false };
    matches!(serde_json::from_str::<serde_json::Value>(s), Ok(serde_json::Value::Array(items)) if items.iter().all(|i| i.is_string()))
}

/// The rows a table page shows, for the suggestion checks.
pub struct Candidates<'a> {
    pub columns: &'a [String],
    /// `from t where …` and its parameters.
    pub from_where: &'a str,
    pub params: &'a [(String, Cell)],
    pub row_count: Option<i64>,
    pub facet_size: usize,
    /// Columns already faceted.
    pub enabled: &'a [String],
}

/// Suggestions, and whether every check finished in time (only then may they be cached).
pub struct Suggested {
    pub suggestions: Vec<Suggestion>,
    pub complete: bool,
}

/// Suggests column, date and array facets over `select {columns} {from_where}`.
pub fn suggest(c: &Conn, limit: Duration, input: &Candidates<'_>) -> Suggested {
    let Candidates {
        columns,
        from_where,
        params,
        row_count,
        facet_size,
        enabled,
    } = *input;
    let base = format!(
        "select {} {from_where}",
        columns
            .iter()
            .map(|c| ident(c))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let prober = Prober {
        c,
        limit,
        params,
        timed_out: std::cell::Cell::new(false),
    };
    let candidates = || columns.iter().filter(|c| !enabled.contains(c));
    let mut out = Vec::new();
    for column in candidates() {
        let col = ident(column);
        let sql = format!("select {col} as value, count(*) as n from ({base}) where value is not null group by value limit {}", facet_size + 1);
        let Some(r) = prober.probe(&sql, facet_size + 1) else {
            continue;
        };
        let distinct = r.rows.len() as i64;
        let some_repeat = r
            .rows
            .iter()
            .any(|row| matches!(row.get(1), Some(Cell::Int(n)) if *n > 1));
        if distinct > 1
            && row_count.is_none_or(|n| distinct < n)
            && distinct <= facet_size as i64
            && some_repeat
        {
            out.push(Suggestion {
                name: column.clone(),
                kind: FacetKind::Column,
            });
        }
    }
    for column in candidates() {
        let col = ident(column);
        let sql = format!("select date({col}) from (select * from ({base}) limit 100) where {col} glob '????-??-*'");
        let Some(r) = prober.probe(&sql, 100) else {
            continue;
        };
        if r.rows.iter().any(|row| !row[0].is_null()) {
            out.push(Suggestion {
                name: column.clone(),
                kind: FacetKind::Date,
            });
        }
    }
    for column in candidates() {
        let col = ident(column);
        let sql = format!(
            "with limited as (select * from ({base}) limit {SUGGEST_CONSIDER}) select distinct json_type({col}) from limited where {col} is not null and {col} != ''"
        );
        let Some(r) = prober.probe(&sql, 10) else {
            continue;
        };
        let types: Vec<&Cell> = r.rows.iter().map(|row| &row[0]).collect();
        let arrays_only = !types.is_empty()
            && types
                .iter()
                .all(|t| matches!(t, Cell::Text(s) if s == "array") || t.is_null());
        if !arrays_only {
            continue;
        }
        let sql = format!("select {col} from ({base}) where {col} is not null and {col} != '' and json_array_length({col}) > 0 limit 100");
        let Some(r) = prober.probe(&sql, 100) else {
            continue;
        };
        if !r.rows.is_empty() && r.rows.iter().all(|row| is_array_of_strings(&row[0])) {
            out.push(Suggestion {
                name: column.clone(),
                kind: FacetKind::Array,
            });
        }
    }
    Suggested {
        suggestions: out,
        complete: !prober.timed_out.get(),
    }
}
