//! Inspect data, as Datasette's: each file's hash, size and table counts worked out once,
//! ahead of serving (`datasette-rs inspect`), then handed to `serve --inspect-file` so a large
//! immutable file is neither hashed nor counted again at each start.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// Inspect data of each database, by its name.
pub type InspectData = IndexMap<String, Inspected>;

/// What was found in one file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Inspected {
    pub hash: Option<String>,
    #[serde(default)]
    pub size: u64,
    #[serde(default)]
    pub file: String,
    #[serde(default)]
    pub tables: IndexMap<String, TableCount>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TableCount {
    /// `None` where counting took too long.
    pub count: Option<i64>,
}

/// How long one table may take to count: as Datasette's inspect, an hour.
const COUNT_LIMIT: std::time::Duration = std::time::Duration::from_secs(3600);

/// The SHA-256 of a file's bytes, in hex.
pub fn file_hash(path: &Path) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    let mut digest = Sha256::new();
    std::io::copy(&mut std::fs::File::open(path)?, &mut digest)?;
    Ok(crate::urls::hex(&digest.finalize()))
}

/// Inspects each file, read-only: its hash, size and the row count of every table.
pub fn inspect(files: &[PathBuf]) -> Result<InspectData, String> {
    let mut out = InspectData::new();
    for path in files {
        let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
        let name = crate::db::database_name(path);
        let mut conn = rusqlite::Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| fail(&e))?;
        let tables = table_counts(&mut conn).map_err(|e| fail(&e))?;
        out.insert(
            name,
            Inspected {
                hash: Some(file_hash(path).map_err(|e| fail(&e))?),
                size: std::fs::metadata(path).map_err(|e| fail(&e))?.len(),
                file: path.display().to_string(),
                tables,
            },
        );
    }
    Ok(out)
}

fn table_counts(conn: &mut rusqlite::Connection) -> rusqlite::Result<IndexMap<String, TableCount>> {
    let names: Vec<String> = conn
        .prepare("select name from sqlite_master where type = 'table' order by name")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = IndexMap::new();
    for name in names {
        let started = std::time::Instant::now();
        conn.progress_handler(1000, Some(move || started.elapsed() > COUNT_LIMIT))?;
        let sql = format!("select count(*) from {}", crate::db::quote_ident(&name));
        // A virtual table whose module is not here, or one past the limit: no count.
        let count = conn.query_row(&sql, [], |r| r.get::<_, i64>(0)).ok();
        out.insert(name, TableCount { count });
    }
    Ok(out)
}

/// Reads inspect data written by `datasette-rs inspect` (or Datasette's).
pub fn load(path: &Path) -> Result<InspectData, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}: not inspect data ({e}); write it with `datasette-rs inspect FILE --inspect-file {}`",
            path.display(),
            path.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_hashed_sized_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.db");
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch(
                "create table b (x); insert into b values (1), (2);
                 create table a (y); create view v as select * from b;",
            )
            .unwrap();
        let data = inspect(std::slice::from_ref(&path)).unwrap();
        let d = &data["data"];
        assert_eq!(d.hash.as_deref(), Some(file_hash(&path).unwrap().as_str()));
        assert_eq!(d.size, std::fs::metadata(&path).unwrap().len());
        let counts: Vec<(&str, Option<i64>)> = d
            .tables
            .iter()
            .map(|(t, c)| (t.as_str(), c.count))
            .collect();
        assert_eq!(counts, [("a", Some(0)), ("b", Some(2))]);
        let written = dir.path().join("inspect.json");
        std::fs::write(&written, serde_json::to_string(&data).unwrap()).unwrap();
        assert_eq!(load(&written).unwrap()["data"].tables["b"].count, Some(2));
        std::fs::write(&written, "[]").unwrap();
        assert!(load(&written).unwrap_err().contains("not inspect data"));
    }
}
