//! The version of a file's contents as SQLite itself counts it: `PRAGMA data_version` on a
//! connection kept for asking, which moves with every commit by any other connection or
//! process. Exact where a file's size and modification time are not: two writes within one
//! tick of the file system's clock, or a rollback-journal write that keeps the size, leave
//! those unchanged.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags};

use super::FileState;

/// The connection that is asked, opened at the first question and again when another file
/// has been renamed into place (it would go on reading the file it opened). Its count starts
/// again with each opening, so each opening has a number of its own, part of the version.
pub struct Watch {
    path: PathBuf,
    open: Mutex<Opened>,
}

#[derive(Default)]
struct Opened {
    conn: Option<(Connection, (u64, u64))>,
    openings: u64,
}

impl Watch {
    pub fn new(path: &Path) -> Watch {
        Watch {
            path: path.to_path_buf(),
            open: Mutex::new(Opened::default()),
        }
    }

    /// SQLite's count of the commits to the file `file` describes (its state now), with the
    /// number of the connection's opening; `None` when it cannot be read now.
    pub fn data_version(&self, file: &FileState) -> Option<(u64, i64)> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let here = (file.dev, file.ino);
        if open.conn.as_ref().is_none_or(|(_, at)| *at != here) {
            open.conn = None;
            let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_URI
                | OpenFlags::SQLITE_OPEN_NO_MUTEX;
            let uri = super::pool::read_only_uri(&self.path, false);
            let conn = Connection::open_with_flags(uri, flags).ok()?;
            // Never waits for another connection's lock (it is asked on the async workers):
            // while one is held the version is unknown, and the caller counts it as changed.
            conn.busy_timeout(std::time::Duration::ZERO).ok()?;
            open.openings += 1;
            open.conn = Some((conn, here));
        }
        let (conn, _) = open.conn.as_ref()?;
        let version = conn
            .prepare_cached("PRAGMA data_version")
            .and_then(|mut s| s.query_row([], |r| r.get(0)));
        match version {
            Ok(v) => Some((open.openings, v)),
            // Another connection's lock: the count goes on once it is released.
            Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) => None,
            Err(_) => {
                open.conn = None;
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_commit_by_another_connection_moves_the_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.db");
        let writer = Connection::open(&path).unwrap();
        writer
            .execute_batch("create table t (x); insert into t values (1);")
            .unwrap();
        let watch = Watch::new(&path);
        let state = || FileState::of(&path).unwrap();
        let first = watch.data_version(&state()).unwrap();
        assert_eq!(first.0, 1, "the first opening");
        assert_eq!(watch.data_version(&state()), Some(first), "nothing changed");
        let mut seen = vec![first];
        // Writes that keep the file's size, faster than its clock ticks.
        for i in 0..5 {
            writer.execute("update t set x = ?", [i]).unwrap();
            let now = watch.data_version(&state()).unwrap();
            assert!(!seen.contains(&now), "commit {i} was missed: {seen:?}");
            seen.push(now);
        }
        // A file another connection keeps locked has no version to tell.
        writer.execute_batch("begin exclusive").unwrap();
        assert_eq!(watch.data_version(&state()), None);
        writer.execute_batch("rollback").unwrap();
        assert_eq!(watch.data_version(&state()), Some(*seen.last().unwrap()));
        // Another file renamed into place is watched by a new opening, whose count starts
        // again: its number tells the two apart.
        let other = dir.path().join("other.db");
        Connection::open(&other)
            .unwrap()
            .execute_batch("create table u (y)")
            .unwrap();
        std::fs::rename(&other, &path).unwrap();
        let renamed = watch.data_version(&state()).unwrap();
        assert_eq!(renamed.0, 2);
        assert!(!seen.contains(&renamed));
    }
}
