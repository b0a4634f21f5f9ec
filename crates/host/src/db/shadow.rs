//! What SQL from a request would meet if the objects hidden from its actor did not exist: a
//! copy of the database's schema (no rows) in memory, holding only what the actor may see.
//! SQL from a request is prepared there first, so every error it gets (no such table, no such
//! column, an ambiguous name, an index that already exists) is the error of a database without
//! the hidden objects, and says nothing of them.
//!
//! Building a copy runs every `CREATE` the actor may see, which takes seconds for thousands of
//! tables: each copy is built once in the process and kept as an image (SQLite's serialized
//! form, a few recent ones), and a connection that needs it loads the image.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, LazyLock, Mutex};

use rusqlite::Connection;

use super::access::Access;
use super::guard::Guard;
use super::lineage::fold;
use super::recording::Recorded;
use super::{quote_ident, DbError};

/// A schema copy for one access, and the guard (read-only, nothing hidden) on it.
pub struct Shadow {
    key: u64,
    conn: Connection,
    guard: Guard,
}

/// Shadows kept per connection: one per access in recent use.
const KEEP: usize = 4;

/// The shadows of one connection.
#[derive(Default)]
pub struct Shadows(Vec<Shadow>);

impl Shadows {
    /// Prepares `sql` on the schema `access` sees; its error, if it has one.
    pub fn check(
        &mut self,
        real: &Connection,
        access: &Access,
        sql: &str,
        functions: impl Fn(&Connection) -> rusqlite::Result<()>,
    ) -> Result<(), DbError> {
        let shadow = self.shadow_for(real, access, functions)?;
        shadow.guard.enter(Arc::new(Access::default()));
        let prepared = shadow.conn.prepare(sql).map(drop);
        let refusal = shadow.guard.take_refusal(sql);
        shadow.guard.leave();
        match (prepared, refusal) {
            (Ok(()), _) => Ok(()),
            (Err(_), Some(reason)) => Err(DbError::Refused(reason)),
            (Err(e), None) => Err(DbError::from_sqlite(e)),
        }
    }

    /// Prepares `sql` (a write) on the schema `access` sees, recording what it reads and
    /// writes there: the statement's own doing (the file's triggers are not copied), and
    /// SQLite's errors of a database without the hidden objects.
    pub fn record(
        &mut self,
        real: &Connection,
        access: &Access,
        sql: &str,
        functions: impl Fn(&Connection) -> rusqlite::Result<()>,
    ) -> Result<Vec<Recorded>, DbError> {
        let shadow = self.shadow_for(real, access, functions)?;
        let mut failed = None;
        let touched = shadow.guard.recording(|| {
            if let Err(e) = shadow.conn.prepare(sql) {
                failed = Some(e);
            }
        });
        match failed {
            Some(e) => Err(DbError::from_sqlite(e)),
            None => Ok(touched),
        }
    }

    /// The shadow for `access`, built if it is not kept.
    fn shadow_for(
        &mut self,
        real: &Connection,
        access: &Access,
        functions: impl Fn(&Connection) -> rusqlite::Result<()>,
    ) -> Result<&Shadow, DbError> {
        let key = key(real, access);
        let at = match self.0.iter().position(|s| s.key == key) {
            Some(at) => at,
            None => {
                if self.0.len() == KEEP {
                    self.0.remove(0);
                }
                self.0.push(load(real, access, key, functions)?);
                self.0.len() - 1
            }
        };
        Ok(&self.0[at])
    }
}

/// What decides a shadow's contents: the file (its path, and the device and inode the access
/// was worked out for: a file replaced under the same name is another), its schema's version,
/// and what the access hides.
fn key(real: &Connection, access: &Access) -> u64 {
    let version: i64 = real
        .query_row("PRAGMA schema_version", [], |r| r.get(0))
        .unwrap_or(0);
    let path = real.path().unwrap_or_default();
    let file = access.file;
    let mut hidden: Vec<&String> = access.hidden.iter().collect();
    hidden.sort();
    let mut only: Option<Vec<&String>> = access.only.as_ref().map(|o| o.iter().collect());
    if let Some(o) = &mut only {
        o.sort();
    }
    let mut h = DefaultHasher::new();
    (path, file, version, hidden, only).hash(&mut h);
    h.finish()
}

/// A schema copy's image: SQLite's serialized form of it.
type Image = Arc<Vec<u8>>;

/// Images of the schema copies built in this process, by key: the most recent few.
static IMAGES: LazyLock<Mutex<Vec<(u64, Image)>>> = LazyLock::new(Default::default);
const KEEP_IMAGES: usize = 8;

/// The shadow for `access` on a connection of its own, from the process's image of it, built
/// first if there is none.
fn load(
    real: &Connection,
    access: &Access,
    key: u64,
    functions: impl Fn(&Connection) -> rusqlite::Result<()>,
) -> Result<Shadow, DbError> {
    let kept = {
        let images = IMAGES.lock().unwrap_or_else(|e| e.into_inner());
        images
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, i)| i.clone())
    };
    let image = match kept {
        Some(image) => image,
        None => {
            let mut built = build(real, access, &functions)?;
            let image = Arc::new(
                built
                    .serialize(rusqlite::MAIN_DB)
                    .map_err(DbError::from_sqlite)?
                    .to_vec(),
            );
            let mut images = IMAGES.lock().unwrap_or_else(|e| e.into_inner());
            if images.len() == KEEP_IMAGES {
                images.remove(0);
            }
            images.push((key, image.clone()));
            image
        }
    };
    let mut conn = Connection::open_in_memory().map_err(DbError::from_sqlite)?;
    conn.deserialize_read_exact(rusqlite::MAIN_DB, &image[..], image.len(), false)
        .map_err(DbError::from_sqlite)?;
    functions(&conn).map_err(DbError::from_sqlite)?;
    let guard = Guard::default();
    conn.authorizer(Some(guard.authorizer()))
        .map_err(DbError::from_sqlite)?;
    Ok(Shadow { key, conn, guard })
}

/// A schema row: type, name, table, SQL.
type Entry = (String, String, String, String);

/// Creates, in memory, every table, view and index `access` may see, as the file declares it.
/// What cannot be declared there as it is (a virtual table whose module is missing, a view
/// published over hidden tables) becomes a plain table with the same columns.
fn build(
    real: &Connection,
    access: &Access,
    functions: impl Fn(&Connection) -> rusqlite::Result<()>,
) -> Result<Connection, DbError> {
    let entries: Vec<Entry> = real
        .prepare(
            "select type, name, tbl_name, sql from sqlite_master
             where sql is not null and type in ('table', 'view', 'index') order by rowid",
        )
        .and_then(|mut s| {
            s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect()
        })
        .map_err(DbError::from_sqlite)?;
    let conn = Connection::open_in_memory().map_err(DbError::from_sqlite)?;
    // Small pages: every table of the copy is an empty root page.
    conn.execute_batch("PRAGMA page_size = 512")
        .map_err(DbError::from_sqlite)?;
    functions(&conn).map_err(DbError::from_sqlite)?;
    // One transaction for the whole schema: each statement on its own would rewrite it.
    conn.execute_batch("begin").map_err(DbError::from_sqlite)?;
    for (kind, name, table, sql) in &entries {
        if !access.can_read(if kind == "index" { table } else { name }) {
            continue;
        }
        let published_over_hidden = kind == "view"
            && access.published.contains(&fold(name))
            && access.through(name).hidden.len() != access.hidden.len();
        let declared = !published_over_hidden && conn.execute_batch(sql).is_ok();
        if !declared && kind != "index" && !exists(&conn, name) {
            let columns = columns_of(real, name);
            let _ = conn.execute_batch(&format!(
                "create table {} ({})",
                quote_ident(name),
                columns.join(", ")
            ));
        }
    }
    conn.execute_batch("commit").map_err(DbError::from_sqlite)?;
    Ok(conn)
}

fn exists(conn: &Connection, name: &str) -> bool {
    conn.query_row(
        "select 1 from sqlite_master where name = ?1 collate nocase",
        [name],
        |_| Ok(()),
    )
    .is_ok()
}

/// The quoted column names of a table or view in the real file.
fn columns_of(real: &Connection, name: &str) -> Vec<String> {
    real.prepare("select name from pragma_table_xinfo(?1)")
        .and_then(|mut s| {
            s.query_map([name], |r| r.get::<_, String>(0))?
                .map(|c| c.map(|c| quote_ident(&c)))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two connections to one file, one access: the copy is built once, and both answer as a
    /// database without the hidden table.
    #[test]
    fn connections_share_one_built_copy() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shared.db");
        let setup = Connection::open(&path).unwrap();
        setup
            .execute_batch("create table seen (a); create table secret (b);")
            .unwrap();
        let access = Access {
            hidden: ["secret".to_string()].into_iter().collect(),
            ..Access::default()
        };
        let no_functions = |_: &Connection| Ok(());
        let errors: Vec<String> = (0..2)
            .map(|_| {
                let conn = Connection::open(&path).unwrap();
                let mut shadows = Shadows::default();
                assert!(shadows
                    .check(&conn, &access, "select a from seen", no_functions)
                    .is_ok());
                let e = shadows
                    .check(&conn, &access, "select b from secret", no_functions)
                    .unwrap_err();
                e.to_string()
            })
            .collect();
        assert!(errors[0].contains("no such table: secret"), "{errors:?}");
        assert_eq!(errors[0], errors[1]);
        let conn = Connection::open(&path).unwrap();
        let key = key(&conn, &access);
        let images = IMAGES.lock().unwrap();
        assert_eq!(images.iter().filter(|(k, _)| *k == key).count(), 1);
    }
}
