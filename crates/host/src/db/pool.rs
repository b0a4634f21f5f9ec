//! Read-only SQLite connections, used off the async workers with a time limit.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use tokio::sync::Semaphore;

use super::access::{Access, Attached};
use super::functions::ExtraFunction;
use super::guard::Guard;
use super::DbError;

/// How long a query waits for another process's write lock before giving up.
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_millis(500);

/// How often (in SQLite VM steps) the progress handler looks at the clock.
const PROGRESS_STEPS: i32 = 1000;

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_micros() -> u64 {
    epoch().elapsed().as_micros() as u64
}

/// What a pool's connections read.
#[derive(Debug, Clone)]
pub enum Source {
    File {
        path: PathBuf,
        immutable: bool,
    },
    /// Datasette's `_memory`: an empty in-memory database of each connection's own, to which
    /// files are attached for cross-database SQL (`--crossdb`).
    Memory,
}

impl Source {
    /// How start-up errors name it: the file's path, or `_memory`.
    fn shown(&self) -> String {
        match self {
            Source::File { path, .. } => path.display().to_string(),
            Source::Memory => "_memory".into(),
        }
    }

    /// The file it is now (device, inode), for a file that may be replaced under its name.
    fn file_now(&self) -> Result<Option<FileId>, DbError> {
        match self {
            Source::File {
                path,
                immutable: false,
            } => file_id(path).map(Some),
            _ => Ok(None),
        }
    }
}

/// At most this many files are attached to the in-memory database, as in Datasette.
pub const MAX_ATTACHED: usize = 10;

/// One open connection with its deadline and guard.
pub struct Conn {
    pub(crate) conn: Connection,
    deadline: Arc<AtomicU64>,
    guard: Guard,
    /// The file this connection reads (device, inode): a file replaced under the same name
    /// is a different file.
    file: Option<FileId>,
    /// Schema copies that SQL from a request is checked against first (see `shadow`).
    shadows: std::cell::RefCell<super::shadow::Shadows>,
    /// The plugins' SQL functions, registered here and on the schema copies.
    functions: Arc<Vec<ExtraFunction>>,
    /// An in-memory database, which each request attaches its files to.
    memory: bool,
    /// The files attached to it now.
    attached: std::cell::RefCell<Vec<AttachedFile>>,
    /// Each file's page cache, attached ones too.
    cache_kib: u32,
    /// Until when this connection keeps its read transaction open between uses (`held`).
    pub(super) held: std::cell::Cell<Option<Instant>>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        super::held::end(self);
    }
}

/// A file attached to an in-memory connection: its name there, its path, and which file it
/// was when attached (`None` for an immutable one).
type AttachedFile = (String, PathBuf, Option<FileId>);

pub type FileId = (u64, u64);

/// Which file is at `path` now.
pub fn file_id(path: &Path) -> Result<FileId, DbError> {
    if let Some(state) = super::FileState::of(path) {
        return Ok((state.dev, state.ino));
    }
    let e = std::fs::metadata(path).err();
    let why = e.map_or("it was there a moment ago".to_string(), |e| e.to_string());
    Err(DbError::Open(format!("{}: {why}", path.display())))
}

impl Conn {
    fn open(
        source: &Source,
        extra: &Arc<Vec<ExtraFunction>>,
        cache_kib: u32,
    ) -> Result<Conn, DbError> {
        let file = source.file_now()?;
        let shown = source.shown();
        let (uri, memory) = match source {
            Source::File { path, immutable } => (read_only_uri(path, *immutable), false),
            Source::Memory => (":memory:".to_string(), true),
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(&uri, flags)
            .map_err(|e| DbError::Open(format!("{shown}: {e}")))?;
        // A writer holding a lock briefly is waited for; one holding it longer is reported.
        // Set first: the next statement reads the schema, which waits for a lock too.
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(DbError::from_sqlite)?;
        // Pages are read from the OS's cache cheaply; a small cache per connection keeps the
        // server's memory flat however many connections and databases there are.
        conn.pragma_update(None, "cache_size", -i64::from(cache_kib))
            .map_err(|e| DbError::Open(format!("{shown}: {e}")))?;
        let deadline = Arc::new(AtomicU64::new(0));
        let d = deadline.clone();
        conn.progress_handler(
            PROGRESS_STEPS,
            Some(move || {
                let limit = d.load(Ordering::Relaxed);
                limit != 0 && now_micros() > limit
            }),
        )
        .map_err(DbError::from_sqlite)?;
        let guard = Guard::default();
        conn.authorizer(Some(guard.authorizer()))
            .map_err(DbError::from_sqlite)?;
        // A second wall behind the authorizer: no other database file can be opened, but
        // those the server attaches to the in-memory database.
        let attached = if memory { MAX_ATTACHED as i32 } else { 0 };
        conn.set_limit(rusqlite::limits::Limit::SQLITE_LIMIT_ATTACHED, attached)
            .map_err(DbError::from_sqlite)?;
        // No single value may be larger than a whole answer may be (`zeroblob(1e9)`).
        conn.set_limit(
            rusqlite::limits::Limit::SQLITE_LIMIT_LENGTH,
            i32::try_from(super::max_result_bytes()).unwrap_or(i32::MAX),
        )
        .map_err(DbError::from_sqlite)?;
        conn.set_prepared_statement_cache_capacity(64);
        super::functions::register(&conn, extra).map_err(DbError::from_sqlite)?;
        Ok(Conn {
            conn,
            deadline,
            guard,
            file,
            shadows: Default::default(),
            functions: extra.clone(),
            memory,
            attached: Default::default(),
            cache_kib,
            held: Default::default(),
        })
    }

    /// Attaches exactly the files of `wanted` to an in-memory connection: what one actor may
    /// read in another file never stays for the next request. A file attached for an earlier
    /// request stays (with its page cache) only if it is the very file wanted now: same name,
    /// path and (device, inode). A file is attached only while it is the one its access was
    /// worked out from: another renamed into place may hold tables that access does not know.
    fn attach(&self, wanted: &[Attached]) -> Result<(), DbError> {
        let _host = self.guard.suspended();
        let wanted = &wanted[..wanted.len().min(MAX_ATTACHED)];
        let mut present = self.attached.borrow_mut();
        let result = self.sync_attached(&mut present, wanted);
        if result.is_err() {
            // Whatever happened half-way, nothing stays attached.
            for (alias, ..) in present.drain(..) {
                let _ = self.conn.execute("detach database ?1", [alias]);
            }
        }
        result
    }

    fn sync_attached(
        &self,
        present: &mut Vec<AttachedFile>,
        wanted: &[Attached],
    ) -> Result<(), DbError> {
        let same = |p: &AttachedFile, w: &Attached| {
            (p.0.as_str(), p.1.as_path(), p.2)
                == (w.alias.as_str(), w.path.as_path(), w.access.file)
        };
        for p in present
            .iter()
            .filter(|p| !wanted.iter().any(|w| same(p, w)))
        {
            self.conn
                .execute("detach database ?1", [&p.0])
                .map_err(DbError::from_sqlite)?;
        }
        present.retain(|p| wanted.iter().any(|w| same(p, w)));
        for a in wanted {
            if present.iter().any(|p| same(p, a)) {
                continue;
            }
            let unchanged = || match a.access.file {
                Some(f) => file_id(&a.path).ok() == Some(f),
                None => true,
            };
            if !unchanged() {
                return Err(DbError::FileReplaced);
            }
            self.conn
                .execute(
                    "attach database ?1 as ?2",
                    [read_only_uri(&a.path, a.immutable), a.alias.clone()],
                )
                .map_err(|e| DbError::Open(format!("{}: {e}", a.alias)))?;
            present.push((a.alias.clone(), a.path.clone(), a.access.file));
            self.conn
                .pragma_update(Some(&a.alias), "cache_size", -i64::from(self.cache_kib))
                .map_err(DbError::from_sqlite)?;
            // Replaced while it was being attached: what is attached may be the new file.
            if !unchanged() {
                return Err(DbError::FileReplaced);
            }
        }
        Ok(())
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The file this connection reads (device, inode); `None` for an immutable one.
    pub fn file(&self) -> Option<FileId> {
        self.file
    }

    pub(super) fn guard(&self) -> &Guard {
        &self.guard
    }

    /// Whether a statement prepared for this query calls the clock or chance.
    pub fn varied(&self) -> bool {
        self.guard.varied()
    }

    /// Runs `f` with every statement checked against `access`, a refusal's reason as the error.
    fn checked<T>(
        &self,
        access: Arc<Access>,
        f: impl FnOnce(&Conn) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        if access.file.is_some_and(|f| self.file != Some(f)) {
            return Err(DbError::FileReplaced);
        }
        if self.memory {
            self.attach(&access.attached)?;
        }
        if self.guard.enter(access.clone()) {
            self.conn.flush_prepared_statement_cache();
        }
        let result = f(self);
        let listed = self.guard.listed_schema();
        self.guard.leave();
        if listed && result.is_ok() && self.schema_moved(&access) {
            return Err(DbError::SchemaChanged);
        }
        result
    }

    /// Whether a schema `access` reads (the file's own, or an attached one) is no longer the
    /// version that access was worked out from.
    fn schema_moved(&self, access: &Access) -> bool {
        let moved = |schema: &str, a: &Access| {
            let sql = format!("PRAGMA {}.schema_version", super::quote_ident(schema));
            let now = self.conn.query_row(&sql, [], |r| r.get::<_, i64>(0)).ok();
            a.schema_version.is_some_and(|v| now != Some(v))
        };
        moved("main", access) || access.attached.iter().any(|a| moved(&a.alias, &a.access))
    }

    /// Checks SQL from a request: it begins as a read, and it is checked against the schema
    /// its actor sees before it meets the real one, so its errors are those of a database
    /// without what is hidden from the actor.
    pub fn check_request_sql(&self, sql: &str) -> Result<(), DbError> {
        if !super::access::begins_as_read(sql) {
            return Err(DbError::Refused(super::access::NOT_A_SELECT.into()));
        }
        let Some(access) = self.guard.current() else {
            return Ok(());
        };
        if !access.hides_anything() {
            return Ok(());
        }
        // The schema is read as the server, not as the actor.
        let _schema_work = self.guard.suspended();
        self.shadows
            .borrow_mut()
            .check(&self.conn, &access, sql, |c| {
                super::functions::register(c, &self.functions)
            })
    }

    /// Why the authorizer refused the statement `sql` just failed to prepare, if it did.
    pub fn refusal(&self, sql: &str) -> Option<DbError> {
        self.guard.take_refusal(sql).map(DbError::Refused)
    }

    /// Sets a new time limit for what runs next on this connection.
    pub fn set_time_limit(&self, limit: Duration) {
        self.deadline
            .store(now_micros() + limit.as_micros() as u64, Ordering::Relaxed);
    }

    /// Runs `f` within `limit` (then without one again), its time counted as SQL time.
    fn within<T>(&self, limit: Duration, f: impl FnOnce(&Conn) -> T) -> T {
        self.set_time_limit(limit);
        let running = Instant::now();
        let result = f(self);
        crate::telemetry::sql(running.elapsed().as_secs_f64());
        self.clear_time_limit();
        result
    }

    fn clear_time_limit(&self) {
        self.deadline.store(0, Ordering::Relaxed);
    }
}

/// The URI that opens `path` read-only (and, when immutable, without locking or re-reading).
pub(super) fn read_only_uri(path: &Path, immutable: bool) -> String {
    let mode = if immutable { "immutable=1" } else { "mode=ro" };
    format!("file:{}?{mode}", uri_path(path))
}

/// Percent-encodes what SQLite's URI parser would otherwise read as syntax.
fn uri_path(path: &Path) -> String {
    let s = path.to_string_lossy();
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' | '?' | '#' => out.push_str(&format!("%{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// How a file's read connections are set up.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    /// How many (`num_sql_threads`): at most that many queries at once.
    pub connections: usize,
    /// Each connection's page cache (`cache_size_kb`).
    pub cache_kib: u32,
    /// How long a connection keeps its read transaction between uses (`read_hold_ms`, `held`).
    pub hold: Duration,
}

/// A few connections to one file; at most `size` queries at once.
pub struct Pool {
    functions: Arc<Vec<ExtraFunction>>,
    source: Source,
    idle: Arc<super::held::Idle>,
    /// The `-wal` file of a mutable file, whose connections may hold their read transactions
    /// (`held`) while it is not there; `None` for sources that never do (and when `hold` is 0).
    wal: Option<PathBuf>,
    /// Writes of this server to the file under way: nothing is held meanwhile.
    writing: std::sync::atomic::AtomicUsize,
    /// How long a connection holds its read transaction.
    hold: Duration,
    permits: Semaphore,
    /// Connections for plugins' queries, apart from the requests' (see [`Pool::run_here`]).
    plugin_idle: Arc<super::held::Idle>,
    /// How many of those are in use now.
    plugin_busy: std::sync::atomic::AtomicUsize,
    /// Each connection's page cache.
    cache_kib: u32,
    /// Streamed queries, which hold a connection while they stream: fewer than the pool's
    /// connections, so pages always have one.
    streams: Arc<Semaphore>,
    /// A background job (a long count) is running: one at a time per file.
    background: std::sync::atomic::AtomicBool,
}

/// How long [`Pool::run_quick`] may hold an async thread before the query goes to the
/// blocking pool.
const INLINE_LIMIT: Duration = Duration::from_millis(20);

/// The most connections plugins' queries hold at once per file: past it a query is refused
/// at once (it never waits, so it cannot deadlock), and nothing opens files without end.
const PLUGIN_CONNECTIONS: usize = 8;

impl Pool {
    pub fn new(
        source: Source,
        functions: Arc<Vec<ExtraFunction>>,
        options: ReadOptions,
    ) -> Result<Pool, DbError> {
        let ReadOptions {
            connections: size,
            cache_kib,
            hold,
        } = options;
        // Open one now so a bad file fails start-up, not the first request.
        let first = Conn::open(&source, &functions, cache_kib)?;
        first
            .conn
            .query_row("select count(*) from sqlite_master", [], |_| Ok(()))
            .map_err(|e| DbError::Open(format!("{}: {e}", source.shown())))?;
        let wal = match &source {
            Source::File {
                path,
                immutable: false,
            } if !hold.is_zero() => Some(super::wal_path(path)),
            _ => None,
        };
        let idle = Arc::new(Mutex::new(vec![first]));
        let plugin_idle = Arc::new(Mutex::new(vec![]));
        if wal.is_some() {
            super::held::watch(Arc::downgrade(&idle));
            super::held::watch(Arc::downgrade(&plugin_idle));
        }
        Ok(Pool {
            functions,
            source,
            idle,
            wal,
            writing: Default::default(),
            hold,
            permits: Semaphore::new(size.max(1)),
            plugin_idle,
            plugin_busy: Default::default(),
            cache_kib,
            streams: Arc::new(Semaphore::new(size.saturating_sub(1).max(1))),
            background: Default::default(),
        })
    }

    pub fn is_memory(&self) -> bool {
        matches!(self.source, Source::Memory)
    }

    /// Runs `f` for a request on a pooled connection on the blocking thread pool, within
    /// `limit`, every statement checked against the actor's `access`.
    pub async fn run<T, F>(
        self: &Arc<Self>,
        limit: Duration,
        access: Arc<Access>,
        f: F,
    ) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&Conn) -> Result<T, DbError> + Send + 'static,
    {
        self.run_unchecked(limit, move |c| c.checked(access, f))
            .await
    }

    /// Runs `f` on this (async) thread when a connection is free at once and `f` ends within
    /// [`INLINE_LIMIT`]: for a lookup by primary key, the handoff to the blocking pool and
    /// back costs more than the query. Otherwise (no connection free, or interrupted) it runs
    /// as [`Pool::run`] does, within `limit`. `f` must only read: it may run twice.
    pub async fn run_quick<T, F>(
        self: &Arc<Self>,
        limit: Duration,
        access: Arc<Access>,
        f: F,
    ) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: Fn(&Conn) -> Result<T, DbError> + Send + 'static,
    {
        if let Ok(_permit) = self.permits.try_acquire() {
            let conn = self.checkout()?;
            // Never wait here for another process's lock: that goes to the blocking pool.
            let _ = conn.conn.busy_timeout(Duration::ZERO);
            let result = conn.within(INLINE_LIMIT.min(limit), |c| c.checked(access.clone(), &f));
            let _ = conn.conn.busy_timeout(BUSY_TIMEOUT);
            self.checkin(conn);
            match result {
                Err(DbError::Interrupted(_) | DbError::Busy(_)) => {}
                done => return done,
            }
        }
        self.run(limit, access, move |c| f(c)).await
    }

    /// Runs `f` in the background on a connection of its own, within `limit`, checked
    /// against `access`, unless another background job of this file is running (`None`).
    /// Call it off the async workers.
    pub fn run_background<T>(
        &self,
        limit: Duration,
        access: Arc<Access>,
        f: impl FnOnce(&Conn) -> Result<T, DbError>,
    ) -> Option<Result<T, DbError>> {
        if self.background.swap(true, Ordering::AcqRel) {
            return None;
        }
        // Free again when this ends, even by a panic.
        struct Done<'a>(&'a std::sync::atomic::AtomicBool);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                self.0.store(false, Ordering::Release);
            }
        }
        let _done = Done(&self.background);
        Some(
            self.checkout_from(&self.plugin_idle)
                .and_then(|conn| conn.within(limit, |c| c.checked(access, f))),
        )
    }

    /// A place for a streamed query, if one is free now (it is not waited for).
    pub fn stream_slot(&self) -> Result<tokio::sync::OwnedSemaphorePermit, DbError> {
        self.streams.clone().try_acquire_owned().map_err(|_| {
            DbError::Full("as many streamed queries as this database allows are running".into())
        })
    }

    /// Runs the host's own schema work, which no request's SQL reaches.
    pub async fn run_unchecked<T, F>(self: &Arc<Self>, limit: Duration, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&Conn) -> Result<T, DbError> + Send + 'static,
    {
        let waiting = Instant::now();
        let _permit = self.permits.acquire().await.map_err(|_| DbError::Closed)?;
        crate::telemetry::pool_wait(waiting.elapsed().as_secs_f64());
        let pool = self.clone();
        let started = Instant::now();
        actix_web::rt::task::spawn_blocking(move || {
            let conn = pool.checkout()?;
            let result = conn.within(limit, f);
            pool.checkin(conn);
            result
        })
        .await
        .map_err(|e| DbError::Internal(format!("query task failed: {e}")))?
        .map_err(|e| match e {
            DbError::Interrupted(_) => DbError::Interrupted(started.elapsed()),
            other => other,
        })
    }

    /// Runs `f` for a plugin now, on this thread, within `limit`, checked against `access`.
    /// Its connection is not one of the requests': a plugin's permission check may query
    /// while every pooled connection is held by a request waiting on that check, so it must
    /// never wait for one. It waits for nothing: an idle one of its own, a new one, or (past
    /// [`PLUGIN_CONNECTIONS`] at once) a refusal.
    pub fn run_here<T>(
        &self,
        limit: Duration,
        access: Arc<Access>,
        f: impl FnOnce(&Conn) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        self.run_here_unchecked(limit, |c| c.checked(access, f))
    }

    /// As [`Pool::run_here`], for the host's own schema work.
    pub fn run_here_unchecked<T>(
        &self,
        limit: Duration,
        f: impl FnOnce(&Conn) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        let _slot = PluginSlot::take(&self.plugin_busy)?;
        let started = Instant::now();
        let conn = self.checkout_held(&self.plugin_idle)?;
        let result = conn.within(limit, f);
        self.checkin_to(&self.plugin_idle, conn);
        result.map_err(|e| match e {
            DbError::Interrupted(_) => DbError::Interrupted(started.elapsed()),
            other => other,
        })
    }

    /// A connection for a request, its read transaction held between uses where it may be.
    fn checkout(&self) -> Result<Conn, DbError> {
        self.checkout_held(&self.idle)
    }

    /// A connection of `idle`, its read transaction held between uses where it may be.
    fn checkout_held(&self, idle: &super::held::Idle) -> Result<Conn, DbError> {
        let conn = self.checkout_from(idle)?;
        super::held::ready(&conn, self.may_hold().then_some(self.hold));
        Ok(conn)
    }

    /// Whether connections may hold their read transactions now: a mutable file, not
    /// in WAL mode as far as its files tell (the journal mode is asked when a hold begins),
    /// and not being written by this server.
    fn may_hold(&self) -> bool {
        self.wal
            .as_deref()
            .is_some_and(|wal| super::FileState::of(wal).is_none())
            && self.writing.load(Ordering::Acquire) == 0
    }

    /// Ends every held read of this file until the returned value is dropped: this server's
    /// write is about to need the file to itself. A connection in use lets go when it is
    /// given back; the writer's busy timeout covers the moment until then.
    pub fn hold_off(&self) -> HoldOff<'_> {
        self.writing.fetch_add(1, Ordering::AcqRel);
        for idle in [&self.idle, &self.plugin_idle] {
            let idle = idle.lock().unwrap_or_else(|e| e.into_inner());
            idle.iter().for_each(super::held::end);
        }
        HoldOff(&self.writing)
    }

    /// An idle connection to the file now at the path, or a new one. Connections to a file
    /// that was replaced or deleted are closed: they would go on reading the old one.
    fn checkout_from(&self, idle: &Mutex<Vec<Conn>>) -> Result<Conn, DbError> {
        let current = self.source.file_now()?;
        let mut idle = idle.lock().unwrap_or_else(|e| e.into_inner());
        idle.retain(|c| c.file == current);
        match idle.pop() {
            Some(c) => Ok(c),
            None => {
                drop(idle);
                Conn::open(&self.source, &self.functions, self.cache_kib)
            }
        }
    }

    fn checkin(&self, conn: Conn) {
        self.checkin_to(&self.idle, conn);
    }

    fn checkin_to(&self, idle: &super::held::Idle, conn: Conn) {
        // Under the lock `hold_off` ends idle holds under, after it counts the write: either
        // the write is seen here, or the connection is idle by the time it looks.
        let mut idle = idle.lock().unwrap_or_else(|e| e.into_inner());
        if self.writing.load(Ordering::Acquire) > 0 {
            super::held::end(&conn);
        }
        idle.push(conn);
    }
}

/// Holds are off while it lives ([`Pool::hold_off`]).
pub struct HoldOff<'a>(&'a std::sync::atomic::AtomicUsize);

impl Drop for HoldOff<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One of the [`PLUGIN_CONNECTIONS`] in use, given back when dropped.
struct PluginSlot<'a>(&'a std::sync::atomic::AtomicUsize);

impl<'a> PluginSlot<'a> {
    fn take(busy: &'a std::sync::atomic::AtomicUsize) -> Result<PluginSlot<'a>, DbError> {
        let taken = busy.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < PLUGIN_CONNECTIONS).then_some(n + 1)
        });
        match taken {
            Ok(_) => Ok(PluginSlot(busy)),
            Err(_) => Err(DbError::Full(format!(
                "{PLUGIN_CONNECTIONS} plugin queries are running on this database"
            ))),
        }
    }
}

impl Drop for PluginSlot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::select;

    fn file(path: &Path) -> Source {
        Source::File {
            path: path.to_path_buf(),
            immutable: false,
        }
    }

    /// A connection to a new file made by `sql` (the directory goes with it).
    fn conn_on(sql: &str) -> (tempfile::TempDir, Conn) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        Connection::open(&path).unwrap().execute_batch(sql).unwrap();
        let conn = Conn::open(&file(&path), &Arc::default(), 512).unwrap();
        (dir, conn)
    }

    /// A statement cached while an actor who may read `secrets` was asking is not reused,
    /// unchecked, for one who may not.
    #[test]
    fn cached_statements_are_checked_again_when_access_narrows() {
        let (_dir, conn) = conn_on("create table secrets (x); insert into secrets values (42);");
        let everyone = Arc::new(Access::default());
        let denied = Arc::new(Access {
            hidden: ["secrets".to_string()].into(),
            ..Access::default()
        });
        let read = |access: &Arc<Access>| {
            conn.checked(access.clone(), |c| {
                select(c, "select x from secrets", &[], 1, true)
            })
        };
        assert!(read(&everyone).is_ok());
        match read(&denied) {
            Err(DbError::Refused(m)) => {
                assert_eq!(m, "the query reads data this actor may not see")
            }
            other => panic!("{:?}", other.map(|r| r.rows)),
        }
        assert!(read(&everyone).is_ok());
    }

    /// `cache_size_kb` sets each connection's page cache.
    #[test]
    fn connections_take_the_cache_size_they_are_given() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch("create table t (x)")
            .unwrap();
        let conn = Conn::open(&file(&path), &Arc::default(), 2048).unwrap();
        let _schema_work = conn.guard.suspended();
        let size: i64 = conn
            .conn
            .query_row("pragma cache_size", [], |r| r.get(0))
            .unwrap();
        assert_eq!(size, -2048);
    }

    #[test]
    fn sqlite_names_the_parameters() {
        let (_dir, conn) = conn_on("create table t (x);");
        let (names, _) = conn
            .checked(Arc::new(Access::default()), |c| {
                crate::db::select_named(
                    c,
                    "select :a, @b, $c, :a, ':no', time('12:30') from t -- :no\n where x = :d_2",
                    None,
                    |_| Some(crate::db::Cell::Null),
                    1,
                )
            })
            .unwrap();
        assert_eq!(names, ["a", "b", "c", "d_2"]);
    }
}
