//! Running a statement for a request: binding its parameters, reading its rows under the
//! result limit, counting, and handing rows over a chunk at a time for exports.

use std::time::Instant;

use rusqlite::ToSql;

use super::{access, trace, Cell, Conn, DbError, Schema};

/// `"name"`, with embedded quotes doubled: the only way a name reaches SQL.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Column names and rows of one query.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    /// More rows existed than were asked for.
    pub truncated: bool,
}

/// Runs `sql`, keeping at most `max_rows` rows. `cached` reuses the prepared statement: only
/// for SQL built here, never for SQL from a request.
pub fn select(
    c: &Conn,
    sql: &str,
    params: &[(String, Cell)],
    max_rows: usize,
    cached: bool,
) -> Result<Rows, DbError> {
    let began = Instant::now();
    let refused = |e| c.refusal(sql).unwrap_or_else(|| DbError::from_sqlite(e));
    let result = if cached {
        c.connection()
            .prepare_cached(sql)
            .map_err(refused)
            .and_then(|mut stmt| read_rows(&mut stmt, params, max_rows))
    } else {
        c.connection()
            .prepare(sql)
            .map_err(refused)
            .and_then(|mut stmt| read_rows(&mut stmt, params, max_rows))
    };
    traced(sql, params, began, &result);
    result
}

/// Adds a statement that ran to the request's trace, when it is traced (`?_trace=1`).
pub(super) fn traced<T>(
    sql: &str,
    params: &[(String, Cell)],
    began: Instant,
    result: &Result<T, DbError>,
) {
    if trace::active() {
        trace::record(sql, params, began, result.as_ref().err());
    }
}

/// Each parameter's value; a parameter `value` has none for is SQLite's error, in its words.
pub(super) fn bound_values(
    names: &[String],
    value: impl Fn(&str) -> Option<Cell>,
) -> Result<Vec<(String, Cell)>, DbError> {
    names
        .iter()
        .map(|n| match value(n) {
            Some(v) => Ok((n.clone(), v)),
            None => Err(DbError::Sql(format!(
                "You did not supply a value for binding parameter :{n}."
            ))),
        })
        .collect()
}

/// Runs SQL from a request with its parameters (`:name`, `@name`, `$name`): `declared` names
/// them, or else SQLite says which the SQL takes (in order, each once). Each gets `value(name)`.
/// One prepare gives both.
pub fn select_named(
    c: &Conn,
    sql: &str,
    declared: Option<Vec<String>>,
    value: impl Fn(&str) -> Option<Cell>,
    max_rows: usize,
) -> Result<(Vec<String>, Rows), DbError> {
    run_named(c, sql, declared, value, |stmt, params, names| {
        Ok((names, read_rows(stmt, params, max_rows)?))
    })
}

/// Prepares SQL from a request, gives its parameters their values and hands all three to
/// `read`; the statement is traced when the request is.
pub(super) fn run_named<T>(
    c: &Conn,
    sql: &str,
    declared: Option<Vec<String>>,
    value: impl Fn(&str) -> Option<Cell>,
    read: impl FnOnce(
        &mut rusqlite::Statement<'_>,
        &[(String, Cell)],
        Vec<String>,
    ) -> Result<T, DbError>,
) -> Result<T, DbError> {
    let began = Instant::now();
    let mut params = Vec::new();
    let result = (|| {
        let refused = |e| c.refusal(sql).unwrap_or_else(|| DbError::from_sqlite(e));
        let mut stmt = c.connection().prepare(sql).map_err(refused)?;
        let names = declared.unwrap_or_else(|| parameter_names(&stmt));
        params = bound_values(&names, value)?;
        read(&mut stmt, &params, names)
    })();
    traced(sql, &params, began, &result);
    result
}

/// The schema of the file `c` reads, marked with that file.
pub(super) fn load_schema(c: &Conn) -> Result<Schema, DbError> {
    let mut schema = Schema::load(c.connection(), c.guard())?;
    schema.file = c.file();
    Ok(schema)
}

pub(super) fn schema_version(c: &Conn) -> Result<i64, DbError> {
    c.connection()
        .query_row("PRAGMA schema_version", [], |r| r.get::<_, i64>(0))
        .map_err(DbError::from_sqlite)
}

/// Runs SQL from a request as [`select_named`] does, handing its rows to `each` a chunk at a
/// time (at most `chunk` rows or about [`CHUNK_BYTES`]) as SQLite produces them, until the
/// rows end or `each` answers `false`. `each` is called at least once, with no rows when there
/// are none.
pub fn for_each_chunk(
    c: &Conn,
    sql: &str,
    declared: Option<Vec<String>>,
    value: impl Fn(&str) -> Option<Cell>,
    chunk: usize,
    each: impl FnMut(&[String], Vec<Vec<Cell>>) -> bool,
) -> Result<(), DbError> {
    run_named(c, sql, declared, value, |stmt, params, _| {
        bind_read_only(stmt, params)?;
        send_chunks(stmt, chunk, each)
    })
}

/// Hands a bound statement's rows to `each` as [`for_each_chunk`] says.
pub(super) fn send_chunks(
    stmt: &mut rusqlite::Statement<'_>,
    chunk: usize,
    mut each: impl FnMut(&[String], Vec<Vec<Cell>>) -> bool,
) -> Result<(), DbError> {
    let columns: Vec<String> = stmt.column_names().map(|s| s.to_string()).collect();
    let (mut rows, mut bytes, mut called) = (Vec::new(), 0usize, false);
    let mut cursor = stmt.raw_query();
    while let Some(row) = cursor.next().map_err(DbError::from_sqlite)? {
        // The budget is a chunk's: a chunk is sent once it reaches `CHUNK_BYTES`, so only a
        // single row larger than [`max_result_bytes`] is refused.
        rows.push(row_cells(row, columns.len(), &mut bytes)?);
        if rows.len() == chunk || bytes >= CHUNK_BYTES {
            called = true;
            bytes = 0;
            if !each(&columns, std::mem::take(&mut rows)) {
                return Ok(());
            }
        }
    }
    if !rows.is_empty() || !called {
        each(&columns, rows);
    }
    Ok(())
}

/// About how many bytes of text and BLOBs a streamed chunk holds at most.
pub const CHUNK_BYTES: usize = 1 << 20;

/// The parameters SQL takes, in order, each once (`:name`, `@name`, `$name` alike).
pub(super) fn parameter_names(stmt: &rusqlite::Statement<'_>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for i in 1..=stmt.parameter_count() {
        if let Some(name) = stmt.parameter_name(i).and_then(|n| n.get(1..)) {
            if !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
        }
    }
    names
}

/// The most text and BLOB bytes one result may hold: the answer limit (`max_answer_mb`), since
/// a result larger than its answer may be cannot be answered, and a query such as
/// `select randomblob(1e9)` from 1,000 rows must not exhaust memory.
pub fn max_result_bytes() -> usize {
    crate::limits::answer_limit()
}

pub(super) fn read_rows(
    stmt: &mut rusqlite::Statement<'_>,
    params: &[(String, Cell)],
    max_rows: usize,
) -> Result<Rows, DbError> {
    bind_read_only(stmt, params)?;
    let columns: Vec<String> = stmt.column_names().map(|s| s.to_string()).collect();
    let n = columns.len();
    let mut rows = Vec::new();
    let mut truncated = false;
    let mut bytes = 0usize;
    let mut cursor = stmt.raw_query();
    while let Some(row) = cursor.next().map_err(DbError::from_sqlite)? {
        if rows.len() == max_rows {
            truncated = true;
            break;
        }
        rows.push(row_cells(row, n, &mut bytes)?);
    }
    Ok(Rows {
        columns,
        rows,
        truncated,
    })
}

/// Refuses a statement that writes, then binds its parameters.
pub(super) fn bind_read_only(
    stmt: &mut rusqlite::Statement<'_>,
    params: &[(String, Cell)],
) -> Result<(), DbError> {
    if !stmt.readonly() {
        return Err(DbError::Refused(access::NOT_A_SELECT.into()));
    }
    bind_named(stmt, params)
}

/// What a value costs on its way to a page besides its text or BLOB bytes: the cell, and its
/// view and markup in the page being built (about twice the cell itself).
pub(super) const CELL_COST: usize = 2 * std::mem::size_of::<Cell>();

/// A row's first `n` values, adding what they take in memory (each cell, and its text or
/// BLOB bytes) to `bytes`; refused as soon as that passes [`max_result_bytes`], before the next
/// value is copied (one row of many large values, or millions of small ones, must not exhaust
/// memory: every page's HTML and plugin input grows with the cells too).
pub(super) fn row_cells(
    row: &rusqlite::Row<'_>,
    n: usize,
    bytes: &mut usize,
) -> Result<Vec<Cell>, DbError> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let value = row.get_ref(i).map_err(DbError::from_sqlite)?;
        *bytes += CELL_COST;
        if let rusqlite::types::ValueRef::Text(b) | rusqlite::types::ValueRef::Blob(b) = value {
            *bytes += b.len();
        }
        if *bytes > max_result_bytes() {
            return Err(too_large());
        }
        out.push(Cell::from(value));
    }
    Ok(out)
}

pub(super) fn too_large() -> DbError {
    DbError::Refused(format!(
        "the result holds more than {} MiB: select fewer rows or columns",
        max_result_bytes() >> 20
    ))
}

/// Binds `:name` parameters; a parameter the SQL names but `params` lacks is NULL.
pub(super) fn bind_named(
    stmt: &mut rusqlite::Statement<'_>,
    params: &[(String, Cell)],
) -> Result<(), DbError> {
    for i in 1..=stmt.parameter_count() {
        let Some(name) = stmt.parameter_name(i).map(|s| s.to_string()) else {
            return Err(DbError::Sql(
                "use :named parameters; ? placeholders cannot be given values".into(),
            ));
        };
        let key = name.trim_start_matches([':', '@', '$']);
        let value: &dyn ToSql = match params.iter().find(|(k, _)| k == key) {
            Some((_, v)) => v,
            None => &rusqlite::types::Null,
        };
        stmt.raw_bind_parameter(i, value)
            .map_err(DbError::from_sqlite)?;
    }
    Ok(())
}

/// Runs a `select count(*)`-like query that yields one integer. `cached` as for [`select`].
pub fn count(
    conn: &Conn,
    sql: &str,
    params: &[(String, Cell)],
    cached: bool,
) -> Result<i64, DbError> {
    let rows = select(conn, sql, params, 1, cached)?;
    match rows.rows.first().and_then(|r| r.first()) {
        Some(Cell::Int(n)) => Ok(*n),
        _ => Ok(0),
    }
}
