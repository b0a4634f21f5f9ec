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
/// has been renamed into place (it would go on reading the file it opened).
pub struct Watch {
    path: PathBuf,
    open: Mutex<Option<(Connection, (u64, u64))>>,
}

impl Watch {
    pub fn new(path: &Path) -> Watch {
        Watch {
            path: path.to_path_buf(),
            open: Mutex::new(None),
        }
    }

    /// SQLite's count of the commits to the file `file` describes (its state now), from this
    /// connection's point of view; `None` when it cannot be read.
    pub fn data_version(&self, file: &FileState) -> Option<i64> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let here = (file.dev, file.ino);
        if open.as_ref().is_none_or(|(_, at)| *at != here) {
            let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_URI
                | OpenFlags::SQLITE_OPEN_NO_MUTEX;
            let uri = super::pool::read_only_uri(&self.path, false);
            *open = Some((Connection::open_with_flags(uri, flags).ok()?, here));
        }
        let (conn, _) = open.as_ref()?;
        let version = conn
            .prepare_cached("PRAGMA data_version")
            .and_then(|mut s| s.query_row([], |r| r.get(0)));
        if version.is_err() {
            *open = None;
        }
        version.ok()
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
        assert_eq!(watch.data_version(&state()), Some(first), "nothing changed");
        let mut seen = vec![first];
        // Writes that keep the file's size, faster than its clock ticks.
        for i in 0..5 {
            writer.execute("update t set x = ?", [i]).unwrap();
            let now = watch.data_version(&state()).unwrap();
            assert!(!seen.contains(&now), "commit {i} was missed: {seen:?}");
            seen.push(now);
        }
    }
}
