//! What a database holds: tables, views, columns, keys, full-text indexes.

use indexmap::IndexMap;
use rusqlite::Connection;
use serde::Serialize;

use std::collections::HashMap;
use std::sync::Arc;

use super::guard::Guard;
use super::lineage::{content_table, Lineage};
use super::{quote_ident, DbError};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ForeignKey {
    pub other_table: String,
    pub column: String,
    pub other_column: String,
}

#[derive(Debug, Clone, Default)]
pub struct TableInfo {
    pub name: String,
    pub columns: Vec<String>,
    /// Declared primary key columns, in key order; empty for rowid tables and views.
    pub primary_keys: Vec<String>,
    pub is_view: bool,
    /// An FTS index or its shadow tables, SQLite's own tables, or `_`-prefixed.
    pub hidden: bool,
    pub fts_table: Option<String>,
    pub outgoing: Vec<ForeignKey>,
    pub incoming: Vec<ForeignKey>,
    pub without_rowid: bool,
    /// Each column's declared type and NOT NULL, as `PRAGMA table_xinfo` gives them.
    pub declared: HashMap<String, Declared>,
    /// Its `CREATE` statement and its indexes', as Datasette shows them under a table.
    pub definition: String,
    /// The SQL that reads one row by its key, written at its first use.
    pub row_lookup: std::sync::OnceLock<String>,
}

/// What a column's definition declares.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Declared {
    /// The type as written (`varchar(30)`), empty when none is.
    pub kind: String,
    pub not_null: bool,
}

impl TableInfo {
    /// Tables without a declared key are keyed by their rowid.
    pub fn uses_rowid(&self) -> bool {
        !self.is_view && self.primary_keys.is_empty() && !self.without_rowid
    }

    /// The key columns used in URLs: the declared ones, or `rowid`.
    pub fn key_columns(&self) -> Vec<String> {
        if self.uses_rowid() {
            vec!["rowid".into()]
        } else {
            self.primary_keys.clone()
        }
    }

    /// The columns of its row page: `rowid` first where that is its key.
    pub fn row_columns(&self) -> Vec<String> {
        let rowid = self.uses_rowid().then(|| "rowid".to_string());
        rowid
            .into_iter()
            .chain(self.columns.iter().cloned())
            .collect()
    }

    pub fn has_column(&self, c: &str) -> bool {
        self.columns.iter().any(|x| x == c) || (c == "rowid" && self.uses_rowid())
    }

    /// Datasette's guess at a column that names each row.
    pub fn label_column(&self) -> Option<String> {
        if let Some(c) = self
            .columns
            .iter()
            .find(|c| matches!(c.to_lowercase().as_str(), "name" | "title"))
        {
            return Some(c.clone());
        }
        if self.columns.len() == 2 && self.columns.iter().any(|c| c == "id" || c == "pk") {
            return self
                .columns
                .iter()
                .find(|c| *c != "id" && *c != "pk")
                .cloned();
        }
        None
    }
}

#[derive(Debug, Clone, Default)]
pub struct Schema {
    /// Tables sorted by name.
    pub tables: IndexMap<String, TableInfo>,
    /// Views sorted by name.
    pub views: IndexMap<String, TableInfo>,
    pub version: i64,
    /// The file it was read from (device, inode): a file renamed into place is another file,
    /// whatever its schema version.
    pub file: Option<(u64, u64)>,
    /// What each table and view derives from.
    pub lineage: Arc<Lineage>,
}

impl Schema {
    pub fn get(&self, name: &str) -> Option<&TableInfo> {
        self.tables.get(name).or_else(|| self.views.get(name))
    }

    /// Reads the schema; `guard` is the authorizer installed on `conn`, used to learn what
    /// each view and trigger reads.
    pub fn load(conn: &Connection, guard: &Guard) -> Result<Schema, DbError> {
        let version: i64 = conn
            .query_row("PRAGMA schema_version", [], |r| r.get(0))
            .map_err(DbError::from_sqlite)?;
        let mut stmt = conn
            .prepare("select type, name, coalesce(sql, '') from sqlite_master where type in ('table', 'view') order by rowid")
            .map_err(DbError::from_sqlite)?;
        let entries: Vec<(String, String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .and_then(|rows| rows.collect())
            .map_err(DbError::from_sqlite)?;

        let fts_indexes: Vec<&(String, String, String)> = entries
            .iter()
            .filter(|(t, _, sql)| t == "table" && is_fts_sql(sql))
            .collect();

        let index_sql = index_definitions(conn)?;
        let mut schema = Schema {
            version,
            lineage: Arc::new(Lineage::load(conn, guard).map_err(DbError::from_sqlite)?),
            ..Schema::default()
        };
        for (kind, name, sql) in &entries {
            let (columns, primary_keys, declared) = table_columns(conn, name);
            let hidden = name.starts_with("sqlite_")
                || name.starts_with('_')
                || fts_indexes
                    .iter()
                    .any(|(_, fts, _)| name.starts_with(fts.as_str()));
            let fts_table = fts_indexes
                .iter()
                .find(|(_, fts, fts_sql)| {
                    fts == name || content_table(fts_sql).as_deref() == Some(name)
                })
                .map(|(_, fts, _)| fts.clone())
                .or_else(|| {
                    let guess = format!("{name}_fts");
                    fts_indexes
                        .iter()
                        .any(|(_, f, _)| *f == guess)
                        .then_some(guess)
                });
            let info = TableInfo {
                name: name.clone(),
                columns,
                primary_keys,
                is_view: kind == "view",
                hidden,
                fts_table: if kind == "view" { None } else { fts_table },
                outgoing: if kind == "view" {
                    vec![]
                } else {
                    foreign_keys(conn, name)
                },
                incoming: vec![],
                without_rowid: sql.to_ascii_lowercase().contains("without rowid"),
                declared,
                definition: std::iter::once(sql)
                    .chain(index_sql.get(name).into_iter().flatten())
                    .filter(|s| !s.is_empty())
                    .map(|s| format!("{s};"))
                    .collect::<Vec<_>>()
                    .join("\n"),
                row_lookup: Default::default(),
            };
            if info.is_view {
                schema.views.insert(name.clone(), info);
            } else {
                schema.tables.insert(name.clone(), info);
            }
        }
        link_foreign_keys(&mut schema);
        // Listed by name.
        schema.tables.sort_keys();
        schema.views.sort_keys();
        Ok(schema)
    }
}

/// Each table's indexes' SQL, by table, as written.
fn index_definitions(conn: &Connection) -> Result<HashMap<String, Vec<String>>, DbError> {
    let mut index_sql: HashMap<String, Vec<String>> = HashMap::new();
    let mut stmt = conn
        .prepare("select tbl_name, sql from sqlite_master where type = 'index' and sql is not null order by rowid")
        .map_err(DbError::from_sqlite)?;
    let indexes = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
        .map_err(DbError::from_sqlite)?;
    for (table, sql) in indexes {
        index_sql.entry(table).or_default().push(sql);
    }
    Ok(index_sql)
}

/// Resolves keys that name no column (they point at the other table's primary key), then
/// records each key on the table it points to.
fn link_foreign_keys(schema: &mut Schema) {
    let snapshot = schema.tables.clone();
    for t in schema.tables.values_mut() {
        for fk in &mut t.outgoing {
            if fk.other_column.is_empty() {
                fk.other_column = snapshot
                    .get(&fk.other_table)
                    .and_then(|o| o.primary_keys.first().cloned())
                    .unwrap_or_else(|| "rowid".into());
            }
        }
    }
    // Incoming keys in the order Datasette lists them: tables as they were created.
    let all_fks: Vec<(String, ForeignKey)> = schema
        .tables
        .values()
        .flat_map(|t| t.outgoing.iter().map(|fk| (t.name.clone(), fk.clone())))
        .collect();
    for (from_table, fk) in all_fks {
        if let Some(other) = schema.tables.get_mut(&fk.other_table) {
            other.incoming.push(ForeignKey {
                other_table: from_table,
                column: fk.other_column,
                other_column: fk.column,
            });
        }
    }
}

fn is_fts_sql(sql: &str) -> bool {
    let s = sql.to_ascii_lowercase();
    s.contains("virtual table") && s.contains("using fts")
}

/// Column names (hidden columns of virtual tables included, as Datasette lists them), the
/// declared primary key and what each column declares. A table whose module is missing has
/// none of them.
fn table_columns(
    conn: &Connection,
    table: &str,
) -> (Vec<String>, Vec<String>, HashMap<String, Declared>) {
    let sql = format!("PRAGMA table_xinfo({})", quote_ident(table));
    type XInfo = (String, Option<String>, bool, i64);
    let rows: rusqlite::Result<Vec<XInfo>> = conn.prepare(&sql).and_then(|mut s| {
        s.query_map([], |r| Ok((r.get(1)?, r.get(2)?, r.get(3)?, r.get(5)?)))?
            .collect()
    });
    let Ok(rows) = rows else {
        return Default::default();
    };
    let mut pks: Vec<(i64, String)> = rows
        .iter()
        .filter(|(_, _, _, pk)| *pk > 0)
        .map(|(n, _, _, pk)| (*pk, n.clone()))
        .collect();
    pks.sort();
    let declared = rows
        .iter()
        .map(|(n, kind, not_null, _)| {
            let kind = kind.clone().unwrap_or_default();
            (
                n.clone(),
                Declared {
                    kind,
                    not_null: *not_null,
                },
            )
        })
        .collect();
    (
        rows.into_iter().map(|(n, ..)| n).collect(),
        pks.into_iter().map(|(_, n)| n).collect(),
        declared,
    )
}

/// A row of `PRAGMA foreign_key_list`: id, seq, table, from, to.
type FkRow = (i64, i64, String, String, Option<String>);

/// Single-column foreign keys; compound ones cannot be followed from one cell.
fn foreign_keys(conn: &Connection, table: &str) -> Vec<ForeignKey> {
    let sql = format!("PRAGMA foreign_key_list({})", quote_ident(table));
    let rows: rusqlite::Result<Vec<FkRow>> = conn.prepare(&sql).and_then(|mut s| {
        s.query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect()
    });
    let rows = rows.unwrap_or_default();
    let mut out = Vec::new();
    for (id, _, other, from, to) in &rows {
        if rows.iter().filter(|r| r.0 == *id).count() == 1 {
            out.push(ForeignKey {
                other_table: other.clone(),
                column: from.clone(),
                other_column: to.clone().unwrap_or_default(),
            });
        }
    }
    // As SQLite lists them, which is the order Datasette shows them in.
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_keys_and_fts() {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(
            "create table a (id integer primary key, name text);
             create table b (x, y, a_id integer references a(id), primary key (x, y));
             create table r (v);
             create virtual table r_fts using fts5(v, content='r');
             create view vv as select * from a;",
        )
        .unwrap();
        let s = Schema::load(&c, &Guard::default()).unwrap();
        assert_eq!(s.tables["a"].primary_keys, vec!["id"]);
        assert_eq!(s.tables["b"].primary_keys, vec!["x", "y"]);
        assert!(s.tables["r"].uses_rowid());
        assert_eq!(s.tables["r"].fts_table.as_deref(), Some("r_fts"));
        assert!(s.tables["r_fts"].hidden);
        assert!(s.tables["r_fts_data"].hidden);
        assert!(!s.tables["r"].hidden);
        assert_eq!(s.tables["a"].incoming[0].other_table, "b");
        assert_eq!(s.tables["b"].outgoing[0].other_column, "id");
        assert!(s.views["vv"].is_view);
        assert_eq!(s.tables["a"].label_column().as_deref(), Some("name"));
    }
}
