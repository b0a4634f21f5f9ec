//! What SQL from a request would meet if the objects hidden from its actor did not exist: a
//! copy of the database's schema (no rows) in memory, holding only what the actor may see.
//! SQL from a request is prepared there first, so every error it gets (no such table, no such
//! column, an ambiguous name, an index that already exists) is the error of a database without
//! the hidden objects, and says nothing of them.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

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
                self.0.push(build(real, access, key, functions)?);
                self.0.len() - 1
            }
        };
        Ok(&self.0[at])
    }
}

/// What decides a shadow's contents: the schema's version and what the access hides.
fn key(real: &Connection, access: &Access) -> u64 {
    let version: i64 = real
        .query_row("PRAGMA schema_version", [], |r| r.get(0))
        .unwrap_or(0);
    let mut hidden: Vec<&String> = access.hidden.iter().collect();
    hidden.sort();
    let mut only: Option<Vec<&String>> = access.only.as_ref().map(|o| o.iter().collect());
    if let Some(o) = &mut only {
        o.sort();
    }
    let mut h = DefaultHasher::new();
    (version, hidden, only).hash(&mut h);
    h.finish()
}

/// A schema row: type, name, table, SQL.
type Entry = (String, String, String, String);

/// Creates, in memory, every table, view and index `access` may see, as the file declares it.
/// What cannot be declared there as it is (a virtual table whose module is missing, a view
/// published over hidden tables) becomes a plain table with the same columns.
fn build(
    real: &Connection,
    access: &Access,
    key: u64,
    functions: impl Fn(&Connection) -> rusqlite::Result<()>,
) -> Result<Shadow, DbError> {
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
    let mut conn = Connection::open_in_memory().map_err(DbError::from_sqlite)?;
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
    let guard = Guard::default();
    conn.authorizer(Some(guard.authorizer()))
        .map_err(DbError::from_sqlite)?;
    Ok(Shadow { key, conn, guard })
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
