//! What each object of a database reads: the tables behind a view (through other views), the
//! content table of a full-text index, the index behind each shadow table, the tables that
//! triggers copy rows from, the table of each index, and the statistics tables that describe
//! every table. A derived object gives away what it reads, so it may be read only by those who
//! may read all of that.
//!
//! SQLite is asked, not parsed: a view is prepared and the tables its authorizer callbacks name
//! are what it reads; a write to a table is prepared and the tables its triggers write are
//! what is filled from it.

use std::collections::{BTreeSet, HashMap};

use indexmap::IndexMap;
use rusqlite::Connection;

use super::quote_ident;
use super::recording::{Recorded, Recorder};

/// SQLite compares names of tables, views and indexes without regard to ASCII case.
pub fn fold(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// One table or view and what it derives from.
#[derive(Debug, Clone, Default)]
pub struct Object {
    /// The name as the schema spells it (metadata.json's keys and permission votes use it).
    pub name: String,
    /// Folded names of the objects whose data this one holds or reads.
    pub reads: BTreeSet<String>,
    /// Statistics and `sqlite_sequence`: they describe every table at once.
    pub reads_everything: bool,
    pub is_view: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Lineage {
    /// Every table and view, by folded name.
    pub objects: IndexMap<String, Object>,
    /// Folded index name → folded name of its table.
    indexes: HashMap<String, String>,
    /// Folded table name → folded names of the tables its foreign keys point to.
    references: HashMap<String, Vec<String>>,
    /// Folded virtual table name → folded names of its shadow tables, which SQLite reads
    /// whenever the virtual table is read.
    shadows: HashMap<String, Vec<String>>,
}

/// Tables that hold statistics about, or counters of, every other table.
fn describes_everything(folded: &str) -> bool {
    folded.starts_with("sqlite_stat") || folded == "sqlite_sequence"
}

/// A schema row: type, name, table name, SQL.
type Entry = (String, String, String, String);

impl Lineage {
    /// Reads the lineage of every object; `recorder` must be the authorizer installed on `conn`.
    pub fn load(conn: &Connection, recorder: &dyn Recorder) -> Result<Lineage, rusqlite::Error> {
        let entries: Vec<Entry> = conn
            .prepare("select type, name, tbl_name, coalesce(sql, '') from sqlite_master")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<Result<_, _>>()?;
        let mut lineage = Lineage::default();
        let virtual_tables: Vec<String> = entries
            .iter()
            .filter(|(kind, _, _, sql)| kind == "table" && is_virtual(sql))
            .map(|(_, name, _, _)| fold(name))
            .collect();
        for (kind, name, table, sql) in &entries {
            let folded = fold(name);
            match kind.as_str() {
                "index" => {
                    lineage.indexes.insert(folded, fold(table));
                }
                "table" | "view" => {
                    let mut object = Object {
                        name: name.clone(),
                        reads_everything: describes_everything(&folded),
                        is_view: kind == "view",
                        ..Object::default()
                    };
                    if kind == "view" {
                        object.reads = view_reads(conn, recorder, name);
                    } else if is_virtual(sql) {
                        object.reads = content_table(sql).map(|c| fold(&c)).into_iter().collect();
                        // fts4aux(diary), fts5vocab(docs_fts, row) and their like read the
                        // table their arguments name.
                        object.reads.extend(argument_names(sql));
                    } else if let Some(owner) = shadow_owner(&folded, &virtual_tables) {
                        lineage
                            .shadows
                            .entry(owner.clone())
                            .or_default()
                            .push(folded.clone());
                        object.reads.insert(owner);
                    }
                    lineage
                        .references
                        .insert(folded.clone(), references(conn, name));
                    lineage.objects.insert(folded, object);
                }
                _ => {}
            }
        }
        let triggered: BTreeSet<String> = entries
            .iter()
            .filter(|(kind, ..)| kind == "trigger")
            .map(|(_, _, table, _)| fold(table))
            .collect();
        for table in triggered {
            for (written, source) in trigger_flows(conn, recorder, &lineage, &table) {
                if let Some(o) = lineage.objects.get_mut(&written) {
                    o.reads.insert(source);
                }
            }
        }
        // A read of a name that is no table (a table-valued function) derives nothing.
        let known: BTreeSet<String> = lineage.objects.keys().cloned().collect();
        for (name, o) in lineage.objects.iter_mut() {
            o.reads.retain(|r| known.contains(r) && r != name);
        }
        Ok(lineage)
    }

    /// The shadow tables of the virtual table `folded`, by folded name.
    pub fn shadows_of(&self, folded: &str) -> &[String] {
        self.shadows.get(folded).map_or(&[], Vec::as_slice)
    }

    pub fn object(&self, name: &str) -> Option<&Object> {
        self.objects.get(&fold(name))
    }

    /// The table an index belongs to.
    pub fn index_table(&self, index: &str) -> Option<&str> {
        self.indexes.get(&fold(index)).map(String::as_str)
    }

    /// Whether `table` is linked by a foreign key, either way, to a table `hidden` says of.
    pub fn keyed_to(&self, table: &str, hidden: impl Fn(&str) -> bool) -> bool {
        let table = fold(table);
        let parents = self.references.get(&table).into_iter().flatten();
        let children = self
            .references
            .iter()
            .filter(|(_, to)| to.contains(&table))
            .map(|(child, _)| child);
        parents.chain(children).any(|t| hidden(t))
    }

    /// The tables `table`'s foreign keys point to.
    pub fn references(&self, table: &str) -> &[String] {
        self.references
            .get(&fold(table))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }
}

fn is_virtual(sql: &str) -> bool {
    let words: Vec<&str> = sql.split_whitespace().take(3).collect();
    words.len() == 3
        && words
            .iter()
            .zip(["create", "virtual", "table"])
            .all(|(w, k)| w.eq_ignore_ascii_case(k))
}

/// The virtual table a shadow table belongs to: SQLite names shadow tables `VTAB_suffix`
/// (`docs_fts_data`, `docs_fts_segdir`); the longest such virtual table name wins.
fn shadow_owner(folded: &str, virtual_tables: &[String]) -> Option<String> {
    virtual_tables
        .iter()
        .filter(|v| {
            folded.len() > v.len() + 1
                && folded.starts_with(v.as_str())
                && folded.as_bytes()[v.len()] == b'_'
        })
        .max_by_key(|v| v.len())
        .cloned()
}

/// The tables a view reads: what SQLite's authorizer is asked about while preparing it.
fn view_reads(conn: &Connection, recorder: &dyn Recorder, view: &str) -> BTreeSet<String> {
    let sql = format!("select * from {}", quote_ident(view));
    recorder
        .recording(&mut || drop(conn.prepare(&sql)))
        .into_iter()
        .filter_map(|r| match r {
            Recorded::Read { table, .. } => Some(fold(&table)),
            _ => None,
        })
        .collect()
}

/// (table written by a trigger, table it was filled from) for every trigger that a write to
/// `table` fires, found by preparing (never running) an insert, an update and a delete.
fn trigger_flows(
    conn: &Connection,
    recorder: &dyn Recorder,
    lineage: &Lineage,
    table: &str,
) -> Vec<(String, String)> {
    let Some(object) = lineage.objects.get(table) else {
        return vec![];
    };
    let name = quote_ident(&object.name);
    let columns: Vec<String> = conn
        .prepare(&format!(
            "select name from pragma_table_info({})",
            quote_literal(&object.name)
        ))
        .and_then(|mut s| s.query_map([], |r| r.get::<_, String>(0))?.collect())
        .unwrap_or_default();
    let mut statements = vec![
        format!("insert into {name} default values"),
        format!("delete from {name}"),
    ];
    if !columns.is_empty() {
        let sets: Vec<String> = columns
            .iter()
            .map(|c| format!("{0} = {0}", quote_ident(c)))
            .collect();
        statements.push(format!("update {name} set {}", sets.join(", ")));
    }
    let mut flows = Vec::new();
    for sql in statements {
        let recorded = recorder.recording(&mut || drop(conn.prepare(&sql)));
        // What a trigger reads flows into everything it writes (by trigger, not statement:
        // stricter than needed, never looser).
        let mut reads: HashMap<String, Vec<String>> = HashMap::new();
        let mut writes: Vec<(String, String)> = Vec::new();
        for r in recorded {
            match r {
                Recorded::Read {
                    table: t,
                    accessor: Some(trigger),
                    ..
                } => reads.entry(trigger).or_default().push(fold(&t)),
                Recorded::Write {
                    table: t,
                    accessor: Some(trigger),
                    ..
                } => writes.push((trigger, fold(&t))),
                _ => {}
            }
        }
        for (trigger, written) in writes {
            flows.push((written.clone(), table.to_string()));
            for read in reads.get(&trigger).into_iter().flatten() {
                flows.push((written.clone(), read.clone()));
            }
        }
    }
    flows
}

/// `'text'`, with embedded quotes doubled.
fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The folded names of the tables `table`'s foreign keys point to.
fn references(conn: &Connection, table: &str) -> Vec<String> {
    let sql = format!(
        "select distinct \"table\" from pragma_foreign_key_list({})",
        quote_literal(table)
    );
    conn.prepare(&sql)
        .and_then(|mut s| s.query_map([], |r| r.get::<_, String>(0))?.collect())
        .map(|v: Vec<String>| v.iter().map(|t| fold(t)).collect())
        .unwrap_or_default()
}

/// Every word among a virtual table's arguments (`USING module(a, b, …)`), folded; those that
/// name no table are dropped once every table is known.
fn argument_names(sql: &str) -> Vec<String> {
    let Some(args) = sql.split_once('(').map(|(_, a)| a) else {
        return vec![];
    };
    args.split([',', ')', '=', ' ', '\t', '\n'])
        .map(|w| w.trim().trim_matches(['"', '\'', '`', '[', ']']))
        .filter(|w| !w.is_empty())
        .map(fold)
        .collect()
}

/// The table named by `content="…"` (or `'…'`, `[…]`, bare) in a full-text index's SQL; an
/// empty `content=''` (contentless) names none.
pub fn content_table(sql: &str) -> Option<String> {
    let lower = sql.to_ascii_lowercase();
    let mut start = 0;
    while let Some(i) = lower[start..].find("content") {
        let at = start + i;
        start = at + 7;
        // Skip content_rowid and the like.
        let rest = sql[start..].trim_start();
        let Some(rest) = rest.strip_prefix('=') else {
            continue;
        };
        let rest = rest.trim_start();
        let close = match rest.chars().next()? {
            '"' => '"',
            '\'' => '\'',
            '[' => ']',
            '`' => '`',
            _ => {
                let end = rest.find(|c: char| c == ',' || c == ')' || c.is_whitespace())?;
                return Some(rest[..end].to_string()).filter(|s| !s.is_empty());
            }
        };
        let inner = &rest[1..];
        let end = inner.find(close)?;
        return Some(inner[..end].to_string()).filter(|s| !s.is_empty());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::guard::Guard;

    fn lineage(sql: &str) -> Lineage {
        let mut c = Connection::open_in_memory().unwrap();
        c.execute_batch(sql).unwrap();
        let guard = Guard::default();
        c.authorizer(Some(guard.authorizer())).unwrap();
        Lineage::load(&c, &guard).unwrap()
    }

    fn reads(l: &Lineage, name: &str) -> Vec<String> {
        l.object(name).unwrap().reads.iter().cloned().collect()
    }

    #[test]
    fn finds_what_each_object_reads() {
        let l = lineage(
            "create table Secret (id integer primary key autoincrement, body text);
             create index secret_body on Secret(body);
             create table open (id integer primary key, s integer references Secret(id));
             create view v1 as select body from secret;
             create view v2 as select count(*) from v1 join open;
             create virtual table secret_fts using fts5(body, content='Secret', content_rowid='id');
             create virtual table notes_fts using fts4(body);
             create virtual table notes_terms using fts4aux(notes_fts);
             create virtual table secret_vocab using fts5vocab('secret_fts', row);
             create table audit (body text);
             create trigger copy after insert on secret begin
               insert into notes_fts (body) values (new.body);
               insert into audit select body from open join secret;
             end;
             analyze;",
        );
        assert_eq!(reads(&l, "v1"), ["secret"]);
        assert_eq!(reads(&l, "V2"), ["open", "secret"]);
        assert_eq!(reads(&l, "secret_fts"), ["secret"]);
        assert_eq!(reads(&l, "notes_terms"), ["notes_fts"]);
        assert_eq!(reads(&l, "secret_vocab"), ["secret_fts"]);
        assert_eq!(reads(&l, "secret_fts_data"), ["secret_fts"]);
        assert_eq!(reads(&l, "secret_fts_idx"), ["secret_fts"]);
        assert_eq!(reads(&l, "notes_fts_segdir"), ["notes_fts"]);
        // Whatever a trigger reads flows into everything it writes.
        assert_eq!(reads(&l, "notes_fts"), ["open", "secret"]);
        assert_eq!(reads(&l, "audit"), ["open", "secret"]);
        assert!(reads(&l, "secret").is_empty());
        assert!(l.object("sqlite_sequence").unwrap().reads_everything);
        assert!(l.object("sqlite_stat1").unwrap().reads_everything);
        assert_eq!(l.index_table("SECRET_BODY"), Some("secret"));
        assert_eq!(l.references("open"), ["secret"]);
    }

    #[test]
    fn finds_content_tables() {
        assert_eq!(
            content_table(
                r#"CREATE VIRTUAL TABLE x USING fts5(a, content="cities", content_rowid="rowid")"#
            ),
            Some("cities".into())
        );
        assert_eq!(
            content_table("create virtual table x using fts4(a, content=[t])"),
            Some("t".into())
        );
        assert_eq!(
            content_table("create virtual table x using fts4(a, content=t)"),
            Some("t".into())
        );
        assert_eq!(
            content_table("create virtual table x using fts5(a, content='')"),
            None
        );
        assert_eq!(content_table("create virtual table x using fts4(a)"), None);
    }
}
