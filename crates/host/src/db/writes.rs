//! The one read-write connection of each mutable file, opened at its first write: writable
//! canned queries (their SQL the administrator's, from metadata.json; a visitor gives only
//! parameter values, bound, never spliced into the SQL) and the write API's transactions.
//!
//! A write tells the writer nothing of what they may not see. Foreign keys are not enforced
//! (SQLite's and Datasette's default), so no constraint's outcome tells whether a key is in a
//! hidden table; where `writer_foreign_keys` enforces them, a statement that writes a table
//! linked by a foreign key to something hidden from the writer (either way: its keys point
//! there, or a hidden table's point to it) does not run for them. A statement
//! that reads or writes something hidden from the writer (through its triggers, say) runs, as
//! its author designed, but any failure of it is one generic answer: SQLite's message could
//! name a hidden table, column or value.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

use super::functions::ExtraFunction;
use super::guard::Guard;
use super::recording::Recorded;
use super::{Access, Cell, DbError};

/// The answer to a write that failed on something hidden from the writer, whatever the cause.
pub const GENERIC_FAILURE: &str =
    "The query could not be completed: it involves data this actor may not see";

/// The answer to a write whose foreign keys lead to something hidden from the writer.
pub const KEYS_HIDDEN: &str =
    "This query writes to a table whose foreign keys lead to data this actor may not see";

/// How long a write waits for another writer (this server's or another process's).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How a database's writer is set up.
#[derive(Debug, Clone, Copy, Default)]
pub struct WriterOptions {
    /// `writer_foreign_keys`.
    pub foreign_keys: bool,
    /// `max_queued_writes`: how many writes may wait for the writer at once.
    pub queue: usize,
}

/// The writer's connection, its authorizer, and the schema copies write SQL is checked on.
type Slot = (Connection, Guard, super::shadow::Shadows);

pub struct Writer {
    path: PathBuf,
    /// Opened at the first write: a database nobody writes to is never opened read-write.
    /// Its guard records what each statement reads and writes, triggers included.
    conn: Mutex<Option<Slot>>,
    /// The file (device, inode) the connection was opened on: another file renamed into
    /// place is written through a new connection, never the replaced one.
    opened_on: Mutex<Option<(u64, u64)>>,
    functions: Arc<Vec<ExtraFunction>>,
    /// `writer_foreign_keys`: foreign keys are enforced.
    foreign_keys: bool,
    /// Counts this server's writes. The file's size and modification time may not change
    /// between two quick writes, so caches and ETags include this as well.
    generation: AtomicU64,
    /// The places of writes waiting or under way (`max_queued_writes`).
    queue: Arc<tokio::sync::Semaphore>,
}

impl Writer {
    pub fn new(path: &Path, functions: Arc<Vec<ExtraFunction>>, options: WriterOptions) -> Writer {
        Writer {
            queue: Arc::new(tokio::sync::Semaphore::new(options.queue.max(1))),
            path: path.to_path_buf(),
            conn: Mutex::new(None),
            opened_on: Mutex::new(None),
            functions,
            foreign_keys: options.foreign_keys,
            generation: AtomicU64::new(0),
        }
    }

    /// A place in the queue of writes waiting for the writer, if one is free: a write that
    /// finds the queue full is refused at once (a 503 with `Retry-After`) rather than holding
    /// a thread and its request's memory for as long as the writes before it take.
    pub fn queue_place(&self) -> Result<tokio::sync::OwnedSemaphorePermit, DbError> {
        self.queue
            .clone()
            .try_acquire_owned()
            .map_err(|_| DbError::Full("as many writes as this database queues are waiting".into()))
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Runs one statement for a writer with `access`, with `values` bound to its parameters,
    /// within `limit`: the number of rows it changed, and the schema version after it. Blocks:
    /// call it off the async workers.
    pub fn execute(
        &self,
        sql: &str,
        values: &HashMap<String, Cell>,
        limit: Duration,
        access: &Access,
    ) -> Result<(usize, i64), DbError> {
        let mut slot = self.connection()?;
        let (conn, guard, _) = slot.as_mut().expect("opened by connection()");
        let touched = guard.recording(|| conn.prepare(sql).map(drop));
        let touches_hidden = touches_hidden(&touched, access, self.foreign_keys)?;
        stop_after(conn, limit)?;
        let result = run(conn, sql, values).map_err(|e| match e {
            _ if touches_hidden => DbError::Sql(GENERIC_FAILURE.into()),
            DbError::Interrupted(_) => DbError::Interrupted(limit),
            other => other,
        });
        conn.progress_handler(0, None::<fn() -> bool>)
            .map_err(DbError::from_sqlite)?;
        // Counted even for a failed statement: it may have changed something before failing.
        self.generation.fetch_add(1, Ordering::SeqCst);
        let changed = result?;
        let version = conn
            .query_row("PRAGMA schema_version", [], |r| r.get(0))
            .map_err(DbError::from_sqlite)?;
        Ok((changed, version))
    }

    /// Runs `f` in one transaction (`BEGIN IMMEDIATE`, so writers queue here rather than fail
    /// mid-way) within `limit`, for a writer with `access`: committed if `f` succeeds, rolled
    /// back otherwise. Blocks: call it off the async workers.
    pub fn transaction<T>(
        &self,
        limit: Duration,
        access: &Access,
        f: impl FnOnce(&mut Tx<'_>) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        let mut slot = self.connection()?;
        let (conn, guard, shadows) = slot.as_mut().expect("opened by connection()");
        stop_after(conn, limit)?;
        let mut tx = Tx {
            conn,
            guard,
            shadows,
            functions: &self.functions,
            access,
            foreign_keys: self.foreign_keys,
            touched_hidden: false,
            recorded: HashSet::new(),
        };
        let result = tx
            .conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(DbError::from_sqlite)
            .and_then(|()| tx.same_schema())
            .and_then(|()| f(&mut tx))
            .and_then(|out| {
                tx.conn
                    .execute_batch("COMMIT")
                    .map_err(DbError::from_sqlite)?;
                Ok(out)
            });
        let touched_hidden = tx.touched_hidden;
        if result.is_err() && !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        conn.progress_handler(0, None::<fn() -> bool>)
            .map_err(DbError::from_sqlite)?;
        self.generation.fetch_add(1, Ordering::SeqCst);
        result.map_err(|e| match e {
            DbError::Interrupted(_) => DbError::Interrupted(limit),
            DbError::Refused(m) => DbError::Refused(m),
            _ if touched_hidden => DbError::Sql(GENERIC_FAILURE.into()),
            other => other,
        })
    }

    /// The writer's connection, held for this write: opened at the first write, and again
    /// when the file at the path is another one.
    fn connection(&self) -> Result<std::sync::MutexGuard<'_, Option<Slot>>, DbError> {
        let mut slot = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let now_on = super::pool::file_id(&self.path).ok();
        let mut opened_on = self.opened_on.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() || *opened_on != now_on {
            *slot = Some(self.open()?);
            *opened_on = now_on;
        }
        Ok(slot)
    }

    fn open(&self) -> Result<Slot, DbError> {
        let open = |e: rusqlite::Error| DbError::Open(format!("{}: {e}", self.path.display()));
        // Never creates a file: the database must already be there.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(&self.path, flags).map_err(open)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open)?;
        // A value is held to the answer limit here too: `randomblob(1e9)` fails at once
        // rather than hold the writer (and its lock) while it is made.
        conn.set_limit(
            rusqlite::limits::Limit::SQLITE_LIMIT_LENGTH,
            super::execute::max_result_bytes().min(i32::MAX as usize) as i32,
        )
        .map_err(open)?;
        // No other database file can be reached from here either.
        conn.set_limit(rusqlite::limits::Limit::SQLITE_LIMIT_ATTACHED, 0)
            .map_err(open)?;
        super::functions::register(&conn, &self.functions).map_err(open)?;
        // The bundled SQLite enforces foreign keys unless told not to.
        conn.pragma_update(None, "foreign_keys", self.foreign_keys)
            .map_err(open)?;
        // Readers go on reading while a write commits: WAL, where the file system allows it
        // (a file another process keeps in rollback mode stays so; SQLite says no, harmlessly).
        let _ =
            conn.pragma_update_and_check(None, "journal_mode", "wal", |r| r.get::<_, String>(0));
        let guard = Guard::default();
        conn.authorizer(Some(guard.authorizer())).map_err(open)?;
        Ok((conn, guard, Default::default()))
    }
}

/// A write transaction under way: the host's own statements, each checked for what it
/// touches that the writer may not see.
pub struct Tx<'a> {
    conn: &'a Connection,
    guard: &'a Guard,
    shadows: &'a mut super::shadow::Shadows,
    functions: &'a [ExtraFunction],
    access: &'a Access,
    foreign_keys: bool,
    /// A statement so far reads or writes something hidden from the writer (through its
    /// triggers): any failure is then answered [`GENERIC_FAILURE`].
    touched_hidden: bool,
    /// The statements whose touch is noted already: a batch of rows prepares one once.
    recorded: HashSet<String>,
}

impl Tx<'_> {
    /// Prepares `sql` (cached on the connection), noting what it touches first.
    fn prepare(&mut self, sql: &str) -> Result<rusqlite::CachedStatement<'_>, DbError> {
        let conn = self.conn;
        if self.recorded.contains(sql) {
            return conn.prepare_cached(sql).map_err(DbError::from_sqlite);
        }
        self.recorded.insert(sql.to_string());
        let touched = self.guard.recording(|| conn.prepare(sql).map(drop));
        self.touched_hidden |= touches_hidden(&touched, self.access, self.foreign_keys)?;
        conn.prepare_cached(sql).map_err(DbError::from_sqlite)
    }

    /// Runs `sql` with `params` bound in order: the rows it changed.
    pub fn execute(&mut self, sql: &str, params: &[Cell]) -> Result<usize, DbError> {
        let mut stmt = self.prepare(sql)?;
        stmt.execute(rusqlite::params_from_iter(params))
            .map_err(DbError::from_sqlite)
    }

    /// Runs `sql` with `params` bound in order: its rows.
    pub fn query(&mut self, sql: &str, params: &[Cell]) -> Result<Vec<Vec<Cell>>, DbError> {
        let mut stmt = self.prepare(sql)?;
        let width = stmt.column_count();
        let rows = stmt
            .query(rusqlite::params_from_iter(params))
            .map_err(DbError::from_sqlite)?;
        collect_rows(rows, width)
    }

    /// Runs `sql` with its named parameters bound from `params`: its column names and rows.
    pub fn query_named(
        &mut self,
        sql: &str,
        params: &[(String, Cell)],
    ) -> Result<(Vec<String>, Vec<Vec<Cell>>), DbError> {
        let mut stmt = self.prepare(sql)?;
        for i in 1..=stmt.parameter_count() {
            let name = stmt.parameter_name(i).unwrap_or("?").to_string();
            let value = params
                .iter()
                .find(|(k, _)| Some(k.as_str()) == name.get(1..))
                .map(|(_, v)| v)
                .ok_or_else(|| {
                    DbError::Sql(format!(
                        "You did not supply a value for binding parameter {name}."
                    ))
                })?;
            stmt.raw_bind_parameter(i, value)
                .map_err(DbError::from_sqlite)?;
        }
        let columns: Vec<String> = stmt.column_names().map(str::to_string).collect();
        let width = columns.len();
        Ok((columns, collect_rows(stmt.raw_query(), width)?))
    }

    /// Refuses to go on under an access worked out from another schema than the file's now
    /// (changed by another process since): what it hides was decided for that one. Asked once
    /// the transaction holds the write lock, so no change comes between.
    fn same_schema(&self) -> Result<(), DbError> {
        match self.access.schema_version {
            Some(v) if v != self.schema_version()? => Err(DbError::SchemaChanged),
            _ => Ok(()),
        }
    }

    /// The schema's version now (it moves with create, alter and drop).
    pub fn schema_version(&self) -> Result<i64, DbError> {
        self.conn
            .query_row("PRAGMA schema_version", [], |r| r.get(0))
            .map_err(DbError::from_sqlite)
    }

    /// The rowid of the last row inserted.
    pub fn last_insert_rowid(&self) -> i64 {
        self.conn.last_insert_rowid()
    }

    /// What `sql` (from a request) would read and write itself, without running it: prepared
    /// on a copy of the schema without what `sees` hides, so SQLite's errors are those of a
    /// database without the hidden objects, and no trigger of the file takes part.
    pub fn analyse(&mut self, sql: &str, sees: &Access) -> Result<Vec<Recorded>, DbError> {
        let functions = self.functions;
        self.shadows.record(self.conn, sees, sql, |c| {
            super::functions::register(c, functions)
        })
    }

    pub fn connection(&self) -> &Connection {
        self.conn
    }
}

/// Whether a statement that touched `touched` touched anything hidden by `access` (its
/// failures are then one generic answer); refused when `foreign_keys` are enforced and a table
/// it writes is keyed to something hidden.
fn touches_hidden(
    touched: &[Recorded],
    access: &Access,
    foreign_keys: bool,
) -> Result<bool, DbError> {
    let hidden = |table: &str| !access.can_read(table);
    let keys_hidden = foreign_keys
        && touched.iter().any(|r| match r {
            Recorded::Write { table, .. } => access.lineage.keyed_to(table, hidden),
            Recorded::Read { .. } | Recorded::Other { .. } => false,
        });
    if keys_hidden {
        return Err(DbError::Refused(KEYS_HIDDEN.into()));
    }
    Ok(touched.iter().any(|r| match r {
        Recorded::Read { table, .. } | Recorded::Write { table, .. } => hidden(table),
        Recorded::Other { .. } => false,
    }))
}

/// Interrupts what runs on `conn` from now on once `limit` has passed (until cleared).
fn stop_after(conn: &mut Connection, limit: Duration) -> Result<(), DbError> {
    let deadline = Instant::now() + limit;
    conn.progress_handler(1000, Some(move || Instant::now() > deadline))
        .map_err(DbError::from_sqlite)
}

/// Every row of `rows`, `width` values each.
fn collect_rows(mut rows: rusqlite::Rows<'_>, width: usize) -> Result<Vec<Vec<Cell>>, DbError> {
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(DbError::from_sqlite)? {
        out.push(
            (0..width)
                .map(|i| row.get_ref(i).map(Cell::from))
                .collect::<Result<_, _>>()
                .map_err(DbError::from_sqlite)?,
        );
    }
    Ok(out)
}

/// One statement, each parameter SQLite reports bound from `values`.
fn run(conn: &Connection, sql: &str, values: &HashMap<String, Cell>) -> Result<usize, DbError> {
    let mut stmt = conn.prepare(sql).map_err(DbError::from_sqlite)?;
    for i in 1..=stmt.parameter_count() {
        let Some(name) = stmt.parameter_name(i).map(str::to_string) else {
            return Err(DbError::Sql(
                "writable canned queries take named parameters only (:name)".into(),
            ));
        };
        let value = values.get(&name[1..]).ok_or_else(|| {
            DbError::Sql(format!(
                "You did not supply a value for binding parameter {name}."
            ))
        })?;
        stmt.raw_bind_parameter(i, value)
            .map_err(DbError::from_sqlite)?;
    }
    stmt.raw_execute().map_err(DbError::from_sqlite)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer() -> (tempfile::TempDir, Writer) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch("create table names (name text unique)")
            .unwrap();
        let w = Writer::new(&path, Arc::new(vec![]), WriterOptions::default());
        (dir, w)
    }

    #[test]
    fn binds_named_values_and_counts_changes() {
        let (_dir, w) = writer();
        let all = Access::default();
        let values = HashMap::from([("name".to_string(), Cell::Text("ana".into()))]);
        let limit = Duration::from_secs(1);
        let (n, _) = w
            .execute("insert into names values (:name)", &values, limit, &all)
            .unwrap();
        assert_eq!(n, 1);
        assert_eq!(w.generation(), 1);
        let e = w
            .execute("insert into names values (:name)", &values, limit, &all)
            .unwrap_err();
        assert_eq!(e.to_string(), "UNIQUE constraint failed: names.name");
        let e = w
            .execute("insert into names values (:other)", &values, limit, &all)
            .unwrap_err();
        assert!(e.to_string().contains(":other"), "{e}");
        let e = w
            .execute("insert into names values (?)", &values, limit, &all)
            .unwrap_err();
        assert!(e.to_string().contains("named parameters"), "{e}");
    }

    #[test]
    fn a_long_write_is_interrupted() {
        let (_dir, w) = writer();
        let all = Access::default();
        let sql = "insert into names with recursive c(x) as (select 1 union all select x + 1 \
                   from c) select x from c";
        let e = w
            .execute(sql, &HashMap::new(), Duration::from_millis(50), &all)
            .unwrap_err();
        assert!(matches!(e, DbError::Interrupted(_)), "{e}");
        let e = w
            .execute(
                "attach 'x.db' as x",
                &HashMap::new(),
                Duration::from_secs(1),
                &all,
            )
            .unwrap_err();
        assert!(e.to_string().contains("too many attached"), "{e}");
    }
}
