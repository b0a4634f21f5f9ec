//! Read transactions kept open between requests on files in rollback-journal mode.
//!
//! A statement outside a transaction takes SQLite's shared lock, looks for a hot journal,
//! re-reads the file's header and lets the lock go again: four `fcntl`s, a `stat` and a read,
//! an eighth of what a row page costs. A connection for requests or plugins' queries instead
//! keeps its read transaction between uses for the pool's hold (`read_hold_ms`, 5 by default). While a connection holds
//! the shared lock of a file in rollback mode, nobody can commit to it, so what it reads is the
//! file as it is now: a held transaction is never stale. Writers wait for it as they wait for a
//! query that long (their busy handler retries; once one holds SQLite's pending lock, no new
//! reader begins), and a sweeper ends every hold within [`SWEEP`] of its end, so a writer
//! waits at most the hold and that.
//!
//! Never held: a file in WAL mode (a held transaction there is a snapshot that writers move
//! past; its `-wal` file is there while anyone has it open, and the journal mode is asked when
//! a hold begins), immutable files, the in-memory database, background counts' connections,
//! and any file while this server writes to it ([`super::Pool::hold_off`]).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use super::pool::Conn;

/// How often the sweeper ends the holds that are due, while any is held.
const SWEEP: Duration = Duration::from_millis(5);

/// A pool's idle connections, as the sweeper reaches them.
pub type Idle = Mutex<Vec<Conn>>;

/// Makes `conn` ready for a request: its held transaction kept if it may be, ended if not,
/// and one begun, to be held for `hold`, when it may hold (`hold` is `Some`) and has none.
pub fn ready(conn: &Conn, hold: Option<Duration>) {
    if let Some(until) = conn.held.get() {
        if hold.is_some() && Instant::now() < until && !conn.conn.is_autocommit() {
            return;
        }
        end(conn);
    }
    if let Some(hold) = hold.filter(|_| conn.conn.is_autocommit()) {
        begin(conn, hold);
    }
}

/// Ends `conn`'s held transaction, if it has one.
pub fn end(conn: &Conn) {
    if conn.held.take().is_none() {
        return;
    }
    HELD.fetch_sub(1, Ordering::AcqRel);
    if !conn.conn.is_autocommit() {
        let _trusted = conn.guard().suspended();
        // A read transaction's end only lets the lock go; should it fail, a rollback ends it.
        if conn.conn.execute_batch("COMMIT").is_err() {
            let _ = conn.conn.execute_batch("ROLLBACK");
        }
    }
}

/// Begins a transaction held for `hold`: its shared lock taken now (never waited for: a
/// writer about to commit goes first) and kept only if the file is in rollback mode.
fn begin(conn: &Conn, hold: Duration) {
    let c = &conn.conn;
    let _trusted = conn.guard().suspended();
    let _ = c.busy_timeout(Duration::ZERO);
    let rollback_mode = c.execute_batch("BEGIN").is_ok()
        && c.query_row("PRAGMA schema_version", [], |_| Ok(())).is_ok()
        && c.query_row("PRAGMA journal_mode", [], |r| r.get::<_, String>(0))
            .is_ok_and(|mode| !mode.eq_ignore_ascii_case("wal"));
    let _ = c.busy_timeout(super::pool::BUSY_TIMEOUT);
    if rollback_mode {
        conn.held.set(Some(Instant::now() + hold));
        if HELD.fetch_add(1, Ordering::AcqRel) == 0 {
            // Under the sweeper's lock: it looks at the count and starts waiting under it too,
            // so the wake-up cannot fall between the two and be lost.
            let s = sweeper();
            let _pools = s.pools.lock().unwrap_or_else(|e| e.into_inner());
            s.wake.notify_one();
        }
    } else if !c.is_autocommit() {
        let _ = c.execute_batch("ROLLBACK");
    }
}

/// Connections holding a transaction now, in every pool.
static HELD: AtomicUsize = AtomicUsize::new(0);

struct Sweeper {
    pools: Mutex<Vec<Weak<Idle>>>,
    wake: Condvar,
}

fn sweeper() -> &'static Sweeper {
    static SWEEPER: OnceLock<Sweeper> = OnceLock::new();
    SWEEPER.get_or_init(|| {
        std::thread::Builder::new()
            .name("held-reads".into())
            .spawn(sweep)
            .expect("a thread for ending held reads");
        Sweeper {
            pools: Mutex::new(Vec::new()),
            wake: Condvar::new(),
        }
    })
}

/// Puts a pool's idle connections in the sweeper's care.
pub fn watch(idle: Weak<Idle>) {
    let mut pools = sweeper().pools.lock().unwrap_or_else(|e| e.into_inner());
    pools.retain(|p| p.strong_count() > 0);
    pools.push(idle);
}

/// Every [`SWEEP`] while anything is held, ends the holds of idle connections that are due;
/// sleeps while nothing is held.
fn sweep() {
    let s = sweeper();
    loop {
        {
            let pools = s.pools.lock().unwrap_or_else(|e| e.into_inner());
            let _asleep = s
                .wake
                .wait_while(pools, |_| HELD.load(Ordering::Acquire) == 0)
                .unwrap_or_else(|e| e.into_inner());
        }
        std::thread::sleep(SWEEP);
        let pools: Vec<_> = {
            let pools = s.pools.lock().unwrap_or_else(|e| e.into_inner());
            pools.iter().filter_map(Weak::upgrade).collect()
        };
        for idle in pools {
            let idle = idle.lock().unwrap_or_else(|e| e.into_inner());
            for conn in idle.iter() {
                if conn.held.get().is_some_and(|until| until <= Instant::now()) {
                    end(conn);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use rusqlite::Connection;

    use super::*;
    use crate::db::pool::{Pool, Source};

    /// A pool on a new file of one row in `journal` mode, holding for `hold`.
    fn served(dir: &Path, journal: &str, hold: Duration) -> Arc<Pool> {
        let path = dir.join("t.db");
        let c = Connection::open(&path).unwrap();
        c.pragma_update_and_check(None, "journal_mode", journal, |_| Ok(()))
            .unwrap();
        c.execute_batch("create table t (x); insert into t values (1);")
            .unwrap();
        let source = Source::File {
            path,
            immutable: false,
        };
        Arc::new(Pool::new(source, Arc::default(), options(hold)).unwrap())
    }

    fn options(hold: Duration) -> crate::db::ReadOptions {
        crate::db::ReadOptions {
            connections: 2,
            cache_kib: 512,
            hold,
        }
    }

    fn count(c: &Conn) -> Result<i64, crate::db::DbError> {
        c.conn
            .query_row("select count(*) from t", [], |r| r.get(0))
            .map_err(crate::db::DbError::from_sqlite)
    }

    /// The rows of `t`, read as a request reads.
    fn rows(pool: &Arc<Pool>) -> i64 {
        let read = pool.run_unchecked(Duration::from_secs(1), count);
        actix_web::rt::System::new().block_on(read).unwrap()
    }

    /// Another process's connection that never waits for a lock.
    fn impatient(dir: &Path) -> Connection {
        let c = Connection::open(dir.join("t.db")).unwrap();
        c.busy_timeout(Duration::ZERO).unwrap();
        c
    }

    const INSERT: &str = "insert into t values (2)";

    #[test]
    fn a_rollback_file_stays_locked_between_reads_until_this_server_writes() {
        let dir = tempfile::tempdir().unwrap();
        let pool = served(dir.path(), "delete", Duration::from_secs(3600));
        assert_eq!(rows(&pool), 1);
        let other = impatient(dir.path());
        assert!(
            other.execute(INSERT, []).is_err(),
            "the read's lock is held"
        );
        let off = pool.hold_off();
        other.execute(INSERT, []).unwrap();
        assert_eq!(rows(&pool), 2, "read afresh, and not held while writing");
        drop(off);
        assert_eq!(rows(&pool), 2);
        assert!(other.execute(INSERT, []).is_err(), "held again");
    }

    /// Plugins' queries (on connections of their own) hold their reads as requests' do, and
    /// let go of them for this server's writes.
    #[test]
    fn plugins_connections_hold_until_this_server_writes() {
        let dir = tempfile::tempdir().unwrap();
        let pool = served(dir.path(), "delete", Duration::from_secs(3600));
        let plugin_rows = || pool.run_here_unchecked(Duration::from_secs(1), count);
        assert_eq!(plugin_rows().unwrap(), 1);
        let other = impatient(dir.path());
        assert!(
            other.execute(INSERT, []).is_err(),
            "the plugin's read is held"
        );
        let _off = pool.hold_off();
        other.execute(INSERT, []).unwrap();
        assert_eq!(plugin_rows().unwrap(), 2);
    }

    #[test]
    fn a_held_read_is_let_go_once_due_even_with_no_request() {
        let dir = tempfile::tempdir().unwrap();
        let pool = served(dir.path(), "delete", SWEEP);
        assert_eq!(rows(&pool), 1);
        let other = Connection::open(dir.path().join("t.db")).unwrap();
        // Waits as a writer must for a reader, at most a few holds here.
        other.busy_timeout(Duration::from_secs(10)).unwrap();
        other.execute(INSERT, []).unwrap();
        assert_eq!(rows(&pool), 2);
    }

    #[test]
    fn a_hold_of_0_holds_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let pool = served(dir.path(), "delete", Duration::ZERO);
        assert_eq!(rows(&pool), 1);
        impatient(dir.path()).execute(INSERT, []).unwrap();
        assert_eq!(rows(&pool), 2);
    }

    /// In WAL mode a held transaction would be a snapshot: a commit by another process must
    /// show in the next read.
    #[test]
    fn wal_files_are_never_held() {
        let dir = tempfile::tempdir().unwrap();
        let pool = served(dir.path(), "wal", Duration::from_secs(3600));
        let other = impatient(dir.path());
        assert_eq!(rows(&pool), 1);
        other.execute(INSERT, []).unwrap();
        assert_eq!(rows(&pool), 2);
    }
}
