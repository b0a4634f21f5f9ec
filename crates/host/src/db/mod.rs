//! SQLite: connections, schema, and the queries the pages run.

pub mod access;
mod execute;
pub mod facets;
pub mod filters;
pub mod functions;
pub mod guard;
mod held;
pub mod labels;
pub mod lineage;
pub mod next_token;
mod pool;
pub mod recording;
pub mod schema;
mod shadow;
pub mod table_query;
pub mod trace;
pub mod units;
pub mod value;
mod version;
pub mod writes;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

pub use access::Access;
pub use execute::{
    count, for_each_chunk, max_result_bytes, quote_ident, select, select_named, Rows, CHUNK_BYTES,
};
use execute::{load_schema, parameter_names, schema_version};
pub use functions::escape_fts;
pub use lineage::Lineage;
pub use pool::{Conn, ReadOptions, MAX_ATTACHED};
pub use schema::{Declared, ForeignKey, Schema, TableInfo};
pub use value::Cell;

use pool::Pool;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{0}")]
    Sql(String),
    #[error("{0}")]
    Refused(String),
    #[error("SQL query took too long and was interrupted after {} ms", .0.as_millis())]
    Interrupted(Duration),
    #[error("cannot open database {0}")]
    Open(String),
    #[error("the database is locked by another process ({0}): try again shortly")]
    Busy(String),
    /// The server has no room for this now (its own limits, not another process's lock).
    #[error("{0}: try again shortly")]
    Full(String),
    /// The file a request's statement was checked against was replaced by another under the
    /// same name while it ran: the request may simply be worked out again.
    #[error("the database file was replaced while the request was under way: try again shortly")]
    FileReplaced,
    /// A request that listed the whole schema is not answered when the schema changed since
    /// its access was worked out: worked out again, it is answered from the new schema.
    #[error("the database's tables changed while the request was under way: try again shortly")]
    SchemaChanged,
    #[error("the database is shutting down")]
    Closed,
    #[error("{0}")]
    Internal(String),
}

impl DbError {
    pub fn from_sqlite(e: rusqlite::Error) -> DbError {
        match &e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.code == rusqlite::ErrorCode::OperationInterrupted =>
            {
                DbError::Interrupted(Duration::ZERO)
            }
            rusqlite::Error::SqliteFailure(f, msg)
                if matches!(
                    f.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) =>
            {
                DbError::Busy(msg.clone().unwrap_or_else(|| e.to_string()))
            }
            // A value past SQLite's length limit, which is the answer limit.
            rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::TooBig => {
                DbError::Sql(format!(
                    "a value would be larger than {} MiB, the most one answer may hold \
                     (max_answer_mb)",
                    max_result_bytes() >> 20
                ))
            }
            rusqlite::Error::SqliteFailure(_, Some(msg)) => DbError::Sql(msg.clone()),
            _ => DbError::Sql(e.to_string()),
        }
    }
}

/// The URL name of a database file: its file name without the extension.
pub fn database_name(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "db".into())
}

/// One SQLite file being served.
pub struct Database {
    /// The name in URLs: the file name without its extension.
    pub name: String,
    pub path: PathBuf,
    pub immutable: bool,
    /// An immutable file's SHA-256, hex (Datasette's `hash`): it cannot change while served.
    /// Set at start-up, from inspect data when given.
    pub hash: Option<String>,
    pool: Arc<Pool>,
    schema: RwLock<Arc<Schema>>,
    /// When a change of schema was last looked for; `None`: look at the next request.
    last_schema_check: Mutex<Option<Instant>>,
    derived: Mutex<Derived>,
    /// The read-write connection of a mutable file, opened at its first write.
    writer: Option<writes::Writer>,
    /// Asks SQLite how many commits the file has seen, for [`Database::version`].
    watch: version::Watch,
}

/// Schema changes in a mutable file are noticed within this long.
const SCHEMA_RECHECK: Duration = Duration::from_secs(1);

impl Database {
    pub fn open(
        name: &str,
        path: &Path,
        immutable: bool,
        functions: Arc<Vec<functions::ExtraFunction>>,
        reads: ReadOptions,
        writes: Option<writes::WriterOptions>,
    ) -> Result<Database, DbError> {
        let writer = writes
            .filter(|_| !immutable)
            .map(|o| writes::Writer::new(path, functions.clone(), o));
        let source = pool::Source::File {
            path: path.to_path_buf(),
            immutable,
        };
        let pool = Pool::new(source, functions, reads)?;
        Ok(Database::with_pool(
            name,
            path.to_path_buf(),
            immutable,
            pool,
            writer,
        ))
    }

    /// Datasette's `_memory`: an empty in-memory database, nothing written to it, to which
    /// each request attaches the files its actor may read whole (`--crossdb`).
    pub fn open_memory(
        name: &str,
        functions: Arc<Vec<functions::ExtraFunction>>,
        reads: ReadOptions,
    ) -> Result<Database, DbError> {
        let pool = Pool::new(pool::Source::Memory, functions, reads)?;
        // Nothing is written to it: as unchanging as an immutable file.
        Ok(Database::with_pool(name, PathBuf::new(), true, pool, None))
    }

    fn with_pool(
        name: &str,
        path: PathBuf,
        immutable: bool,
        pool: Pool,
        writer: Option<writes::Writer>,
    ) -> Database {
        Database {
            name: name.to_string(),
            immutable,
            hash: None,
            pool: Arc::new(pool),
            schema: RwLock::new(Arc::new(Schema::default())),
            last_schema_check: Mutex::new(Some(Instant::now())),
            derived: Mutex::new(Derived::default()),
            watch: version::Watch::new(&path),
            path,
            writer,
        }
    }

    /// What identifies the file's contents now, exactly: its stamp, and SQLite's count of
    /// the commits to it. For what must never outlive a change, however quick (reused
    /// permission votes); costs a statement more than [`Database::stamp`]. `None` when it
    /// cannot be told (the file locked by another process for long): count it as changed.
    pub fn version(&self) -> Option<Version> {
        let stamp = self.stamp();
        let commits = match &stamp {
            Some((file, ..)) => Some(self.watch.data_version(file)?),
            None => None,
        };
        Some((stamp, commits))
    }

    /// Whether this is the in-memory database, which has no file.
    pub fn is_memory(&self) -> bool {
        self.pool.is_memory()
    }

    /// Loads the schema; done once at start-up, then again when it changes.
    pub async fn load_schema(&self) -> Result<(), DbError> {
        let schema = self
            .pool
            .run_unchecked(Duration::from_secs(30), load_schema)
            .await?;
        *self.schema.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(schema);
        Ok(())
    }

    /// The current schema, reloaded first if a mutable file's schema has changed.
    pub async fn schema(&self) -> Result<Arc<Schema>, DbError> {
        let current = self.current_schema();
        if !self.due_for_check(&current) {
            return Ok(current);
        }
        let now = self
            .pool
            .run_unchecked(Duration::from_secs(5), |c| {
                Ok((schema_version(c)?, c.file()))
            })
            .await?;
        if now != (current.version, current.file) {
            self.load_schema().await?;
        }
        Ok(self.current_schema())
    }

    /// As [`Database::schema`], on this thread, for a plugin's query (see `Pool::run_here`).
    pub fn schema_here(&self) -> Result<Arc<Schema>, DbError> {
        let current = self.current_schema();
        if !self.due_for_check(&current) {
            return Ok(current);
        }
        let fresh = self.pool.run_here_unchecked(Duration::from_secs(5), |c| {
            if (schema_version(c)?, c.file()) == (current.version, current.file) {
                return Ok(None);
            }
            load_schema(c).map(Some)
        })?;
        if let Some(schema) = fresh {
            *self.schema.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(schema);
        }
        Ok(self.current_schema())
    }

    /// Whether to look for a schema change now: a mutable file's, at once when another file
    /// has been put in its place, else at most once a [`SCHEMA_RECHECK`].
    fn due_for_check(&self, current: &Schema) -> bool {
        if self.immutable {
            return false;
        }
        if pool::file_id(&self.path).ok() != current.file {
            return true;
        }
        let mut last = self
            .last_schema_check
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|t| t.elapsed() < SCHEMA_RECHECK) {
            return false;
        }
        *last = Some(Instant::now());
        true
    }

    /// Has the next request look for a change of schema, whenever the last look was.
    pub fn recheck_schema(&self) {
        *self
            .last_schema_check
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// The schema as last loaded, without looking for changes.
    pub fn current_schema(&self) -> Arc<Schema> {
        self.schema
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Runs `f` for a request on a connection off the async workers, interrupted after
    /// `limit`, every statement it prepares checked against the actor's `access`.
    pub async fn run<T, F>(&self, limit: Duration, access: Arc<Access>, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&Conn) -> Result<T, DbError> + Send + 'static,
    {
        self.pool
            .run(limit, access, trace::Tracer::within(&self.name, f))
            .await
    }

    /// As [`Database::run`], on this thread when that is quicker (see `Pool::run_quick`): for
    /// lookups by key. `f` must only read: it may run twice.
    pub async fn run_quick<T, F>(
        &self,
        limit: Duration,
        access: Arc<Access>,
        f: F,
    ) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: Fn(&Conn) -> Result<T, DbError> + Send + 'static,
    {
        self.pool
            .run_quick(limit, access, trace::Tracer::within_each(&self.name, f))
            .await
    }

    /// Runs `f` in the background, one job at a time per file (see `Pool::run_background`).
    pub fn run_background<T>(
        &self,
        limit: Duration,
        access: Arc<Access>,
        f: impl FnOnce(&Conn) -> Result<T, DbError>,
    ) -> Option<Result<T, DbError>> {
        self.pool.run_background(limit, access, f)
    }

    /// A place for a streamed query, if one is free now (see `Pool::stream_slot`).
    pub fn stream_slot(&self) -> Result<tokio::sync::OwnedSemaphorePermit, DbError> {
        self.pool.stream_slot()
    }

    /// Runs `f` for a plugin on this thread, on a connection apart from the requests' (see
    /// `Pool::run_here`).
    pub fn run_here<T>(
        &self,
        limit: Duration,
        access: Arc<Access>,
        f: impl FnOnce(&Conn) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        // A plugin's queries are its own (it may read as itself, beyond the actor): they are
        // never part of a request's trace.
        trace::untraced(|| self.pool.run_here(limit, access, f))
    }

    /// Whether the file takes writes (writable canned queries, the write API): it is mutable.
    pub fn writable(&self) -> bool {
        self.writer.is_some()
    }

    /// Runs a writable canned query's one statement with `values` bound to its named
    /// parameters, within `limit`: the number of rows it changed. A schema it changed is
    /// loaded at once.
    pub async fn write(
        self: &Arc<Self>,
        sql: String,
        values: std::collections::HashMap<String, Cell>,
        limit: Duration,
        access: Arc<Access>,
    ) -> Result<usize, DbError> {
        self.on_writer(move |writer| writer.execute(&sql, &values, limit, &access))
            .await
    }

    /// Runs `f` in one write transaction on this file's writer (see `Writer::transaction`),
    /// off the async workers. A schema it changed is loaded at once, so the next read sees it.
    pub async fn transact<T, F>(
        self: &Arc<Self>,
        limit: Duration,
        access: Arc<Access>,
        f: F,
    ) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut writes::Tx<'_>) -> Result<T, DbError> + Send + 'static,
    {
        self.on_writer(move |writer| {
            writer.transaction(limit, &access, |tx| {
                let out = f(tx)?;
                Ok((out, tx.schema_version()?))
            })
        })
        .await
    }

    /// Runs `f` on the writer off the async workers; `f` answers with the schema version after
    /// it, and a schema that moved is loaded before the answer is given.
    async fn on_writer<T, F>(self: &Arc<Self>, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&writes::Writer) -> Result<(T, i64), DbError> + Send + 'static,
    {
        let writer = self
            .writer
            .as_ref()
            .ok_or_else(|| DbError::Refused("this database is not open for writes".into()))?;
        let place = writer.queue_place()?;
        let db = self.clone();
        let (out, version) = actix_web::rt::task::spawn_blocking(move || {
            let _place = place;
            // Readers holding the file's shared lock let it go first (`held`).
            let _readers_let_go = db.pool.hold_off();
            f(db.writer.as_ref().expect("checked above"))
        })
        .await
        .map_err(|e| DbError::Internal(format!("write task failed: {e}")))??;
        if version != self.current_schema().version {
            self.load_schema().await?;
        }
        Ok(out)
    }

    /// The named parameters of `sql` (the host's own: a canned query's), as SQLite reads them,
    /// without running it.
    pub async fn parameters(&self, sql: String) -> Result<Vec<String>, DbError> {
        self.pool
            .run_unchecked(Duration::from_secs(5), move |c| {
                let stmt = c.connection().prepare(&sql).map_err(DbError::from_sqlite)?;
                Ok(parameter_names(&stmt))
            })
            .await
    }

    /// What identifies the file's contents now, for ETags: its state, its WAL's and this
    /// server's writes to it, as bytes.
    pub fn content_stamp(&self) -> [u8; 90] {
        let (file, wal) = file_stamp(&self.path);
        let mut out = [0; 90];
        out[..41].copy_from_slice(&FileState::bytes(file));
        out[41..82].copy_from_slice(&FileState::bytes(wal));
        out[82..].copy_from_slice(&self.writes().to_le_bytes());
        out
    }

    fn writes(&self) -> u64 {
        self.writer.as_ref().map_or(0, writes::Writer::generation)
    }

    /// The file's size in bytes, as `/-/databases.json` reports it.
    pub fn size(&self) -> u64 {
        std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0)
    }
}

/// What identifies a file's contents without reading them: device, inode, length and
/// modification time (in nanoseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileState {
    pub dev: u64,
    pub ino: u64,
    pub len: u64,
    pub mtime_ns: i128,
}

impl FileState {
    /// The state of the file at `path`: as the request under way first saw it, if it has.
    pub fn of(path: &Path) -> Option<FileState> {
        seen::state_of(path, || FileState::now(path))
    }

    /// A state (or its absence) as bytes: each field's, after a byte that says it is there.
    fn bytes(state: Option<FileState>) -> [u8; 41] {
        let mut out = [0; 41];
        if let Some(s) = state {
            out[0] = 1;
            out[1..9].copy_from_slice(&s.dev.to_le_bytes());
            out[9..17].copy_from_slice(&s.ino.to_le_bytes());
            out[17..25].copy_from_slice(&s.len.to_le_bytes());
            out[25..].copy_from_slice(&s.mtime_ns.to_le_bytes());
        }
        out
    }

    fn now(path: &Path) -> Option<FileState> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path).ok()?;
        Some(FileState {
            dev: m.dev(),
            ino: m.ino(),
            len: m.len(),
            mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
        })
    }
}

/// The states of the files a request has looked at. Its ETag, its connection's check of which
/// file is at the path and its schema's each ask; they see one state, read once, and a
/// request's tag always describes the file its rows were read from. Outside a request (the
/// blocking pool, the writer, an answer's body being sent), states are read afresh.
pub mod seen {
    use std::cell::RefCell;
    use std::path::{Path, PathBuf};

    use super::FileState;

    tokio::task_local! {
        static STATES: RefCell<Vec<(PathBuf, Option<FileState>)>>;
    }

    /// Runs a request's handling with states of its own.
    pub async fn scope<F: std::future::Future>(f: F) -> F::Output {
        STATES.scope(RefCell::new(Vec::new()), f).await
    }

    pub(super) fn state_of(
        path: &Path,
        now: impl FnOnce() -> Option<FileState>,
    ) -> Option<FileState> {
        let seen = STATES.try_with(|s| {
            let s = s.borrow();
            s.iter().find(|(p, _)| p == path).map(|(_, state)| *state)
        });
        match seen {
            Ok(Some(state)) => state,
            Ok(None) => {
                let state = now();
                let _ = STATES.try_with(|s| s.borrow_mut().push((path.to_path_buf(), state)));
                state
            }
            Err(_) => now(),
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn a_request_sees_one_state_of_a_file_and_the_next_sees_it_anew() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("f");
            std::fs::write(&path, "a").unwrap();
            let grow = || std::fs::write(&path, "longer").unwrap();
            let len = || FileState::of(&path).unwrap().len;
            actix_web::rt::System::new().block_on(scope(async {
                assert_eq!(len(), 1);
                grow();
                assert_eq!(len(), 1, "the state the request saw first");
            }));
            assert_eq!(len(), 6, "outside a request, the file as it is");
            std::fs::write(&path, "ab").unwrap();
            actix_web::rt::System::new().block_on(scope(async {
                assert_eq!(len(), 2, "a new request sees it anew");
            }));
        }
    }
}

/// The state of a database file and of its WAL, where a change sits until it is
/// checkpointed: changes whenever either is written, or another file is renamed into place.
pub fn file_stamp(path: &Path) -> (Option<FileState>, Option<FileState>) {
    (FileState::of(path), FileState::of(&wal_path(path)))
}

/// Where SQLite keeps the WAL of the database at `path`.
fn wal_path(path: &Path) -> PathBuf {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    wal.into()
}

/// A file's state, its WAL's and this server's writes to it; `None` when it cannot be read.
pub type Stamp = Option<(FileState, Option<FileState>, u64)>;

/// A file's stamp and SQLite's count of the commits to it, with the number of the opening
/// of the connection that counted (`Database::version`).
pub type Version = (Stamp, Option<(u64, i64)>);

/// Results derived from the file's contents (row counts, facet suggestions), kept until the
/// file changes. Only results that do not depend on who asks belong here.
#[derive(Default)]
pub struct Derived {
    stamp: Stamp,
    values: std::collections::HashMap<String, Arc<dyn std::any::Any + Send + Sync>>,
}

/// Entries per database before the cache starts again: keys come from request parameters.
const MAX_DERIVED: usize = 4096;

impl Database {
    /// What identifies the file's contents now (`None` for a file that never changes).
    pub fn stamp(&self) -> Stamp {
        if self.immutable {
            return None;
        }
        match file_stamp(&self.path) {
            (Some(file), wal) => Some((file, wal, self.writes())),
            (None, _) => None,
        }
    }

    /// A result stored under `key` for the file as it is now.
    pub fn derived<T: Clone + Send + Sync + 'static>(&self, key: &str) -> Option<T> {
        self.derived_many(std::slice::from_ref(&key))
            .pop()
            .flatten()
    }

    /// The results stored under `keys`, in their order, for the file as it is now: its state
    /// is read once for them all (a database page looks up every table's count).
    pub fn derived_many<T: Clone + Send + Sync + 'static>(&self, keys: &[&str]) -> Vec<Option<T>> {
        let stamp = self.stamp();
        let mut cache = self.derived.lock().unwrap_or_else(|e| e.into_inner());
        if cache.stamp != stamp {
            cache.stamp = stamp;
            cache.values.clear();
        }
        keys.iter()
            .map(|k| cache.values.get(*k)?.downcast_ref::<T>().cloned())
            .collect()
    }

    /// Remembers a result for the file as it is now.
    pub fn store_derived<T: Send + Sync + 'static>(&self, key: String, value: T) {
        let stamp = self.stamp();
        let mut cache = self.derived.lock().unwrap_or_else(|e| e.into_inner());
        if cache.stamp != stamp {
            return;
        }
        if cache.values.len() >= MAX_DERIVED {
            cache.values.clear();
        }
        cache.values.insert(key, Arc::new(value));
    }

    /// Where a whole table's row count is cached.
    pub fn count_key(table: &str) -> String {
        format!("count\0{table}")
    }

    /// The cached row count of a whole table, if the file has not changed since.
    pub fn cached_count(&self, table: &str) -> Option<i64> {
        self.derived(&Self::count_key(table))
    }

    /// Remembers a whole table's count, for the file as it is now.
    pub fn store_count(&self, table: &str, n: i64) {
        self.store_derived(Self::count_key(table), n);
    }

    /// Counts rows of `tables`, each within `limit`; a count that takes longer is `None`.
    /// Counts are cached until the file changes (forever for immutable files).
    pub async fn table_counts(
        &self,
        tables: Vec<String>,
        limit: Duration,
        access: Arc<Access>,
    ) -> Result<std::collections::HashMap<String, Option<i64>>, DbError> {
        let mut out = std::collections::HashMap::new();
        let mut missing = Vec::new();
        let keys: Vec<String> = tables.iter().map(|t| Self::count_key(t)).collect();
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        for (t, cached) in tables.into_iter().zip(self.derived_many::<i64>(&keys)) {
            match cached {
                Some(n) => {
                    out.insert(t, Some(n));
                }
                None => missing.push(t),
            }
        }
        if missing.is_empty() {
            return Ok(out);
        }
        let counted = self
            .run(limit * missing.len() as u32, access, move |c| {
                let mut found = Vec::new();
                for t in missing {
                    c.set_time_limit(limit);
                    let sql = format!("select count(*) from {}", quote_ident(&t));
                    match count(c, &sql, &[], true) {
                        Ok(n) => found.push((t, Some(n))),
                        Err(DbError::Interrupted(_)) => found.push((t, None)),
                        // A virtual table whose module is missing cannot be counted.
                        Err(DbError::Sql(_)) => found.push((t, None)),
                        Err(e) => return Err(e),
                    }
                }
                Ok(found)
            })
            .await?;
        for (t, n) in counted {
            if let Some(n) = n {
                self.store_count(&t, n);
            }
            out.insert(t, n);
        }
        Ok(out)
    }
}
