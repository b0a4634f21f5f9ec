//! What one actor may read in one database ([`Access`]), and the checks the authorizer
//! makes of each statement against it. The authorizer itself, which applies them, is `guard`.

use std::collections::HashSet;
use std::sync::Arc;

use rusqlite::hooks::{AuthAction, AuthContext};

use super::lineage::{fold, Lineage};
use super::recording::REFUSED_FUNCTIONS;

/// What SQL that would write, or that does not begin as a read, is told: Datasette's words,
/// which its clients look for.
pub const NOT_A_SELECT: &str = "Statement must be a SELECT";

/// The words a read may begin with. SQL from a request that begins otherwise (`.schema`, a
/// typo) is answered [`NOT_A_SELECT`] rather than with SQLite's parse error; what it does
/// once it runs is still the authorizer's to check.
const READ_WORDS: [&str; 5] = ["select", "with", "explain", "values", "pragma"];

/// Whether `sql`, past spaces and comments, begins with one of [`READ_WORDS`]. SQL that is
/// nothing but comments is left to SQLite to answer.
pub fn begins_as_read(sql: &str) -> bool {
    let mut rest = sql;
    loop {
        rest = rest.trim_start();
        if let Some(comment) = rest.strip_prefix("--") {
            rest = comment.split_once('\n').map_or("", |(_, after)| after);
        } else if let Some(comment) = rest.strip_prefix("/*") {
            rest = comment.split_once("*/").map_or("", |(_, after)| after);
        } else {
            break;
        }
    }
    let word: String = rest.chars().take_while(char::is_ascii_alphabetic).collect();
    rest.is_empty() || READ_WORDS.iter().any(|w| w.eq_ignore_ascii_case(&word))
}

/// What one actor may read in one database.
#[derive(Debug, Default, Clone)]
pub struct Access {
    /// Folded names of the tables and views this actor may not read, derived ones included.
    pub hidden: HashSet<String>,
    /// For a page that reads only some objects (see `AppState::access_to`): their folded
    /// names; nothing else may be read, as if hidden. `None`: every object not hidden.
    pub only: Option<Arc<HashSet<String>>>,
    /// Folded names of views with an allow block of their own that lets this actor in. Their
    /// own pages read them with [`Access::through`]; SQL from a request cannot read what they
    /// read (SQLite cannot tell a view from a CTE named like it).
    pub published: HashSet<String>,
    pub lineage: Arc<Lineage>,
    /// The file (device, inode) whose schema this access was worked out from: another file
    /// renamed into place may hold tables this access does not know of, so it is not read
    /// under it. `None`: any (immutable files, the plugin's own access).
    pub file: Option<(u64, u64)>,
    /// The schema version this access was worked out from (a file that changes only): an
    /// answer that lists the whole schema is not given once the schema has moved on, since it
    /// could name a table made since, which an allow block may protect.
    pub schema_version: Option<i64>,
    /// For the in-memory database with `--crossdb`: the files attached to it for this actor
    /// (only those nothing of which is hidden from them), each read under its own access.
    pub attached: Vec<Attached>,
}

/// A file attached to the in-memory database under its own name, for cross-database SQL.
#[derive(Debug, Clone)]
pub struct Attached {
    /// The schema name SQL reads it by: the database's name.
    pub alias: String,
    pub path: std::path::PathBuf,
    pub immutable: bool,
    /// The actor's access to that database: statements reading it are checked against this.
    pub access: Arc<Access>,
}

impl Access {
    pub fn can_read(&self, name: &str) -> bool {
        let name = fold(name);
        // `only` narrows the schema's objects; other names (table-valued functions, tables
        // made since) are judged as without it.
        let outside =
            |o: &HashSet<String>| !o.contains(&name) && self.lineage.objects.contains_key(&name);
        !self.hidden.contains(&name) && !self.only.as_deref().is_some_and(outside)
    }

    /// Whether anything at all is kept from this actor (hidden, or outside what they may
    /// read): then nothing that describes every table reaches them.
    pub fn hides_anything(&self) -> bool {
        !self.hidden.is_empty() || self.only.is_some()
    }

    /// The access for the statements the server writes for a published view's own page: what
    /// the view reads (through other views too) becomes readable. Never for SQL from a request.
    pub fn through(&self, view: &str) -> Access {
        let mut hidden = self.hidden.clone();
        let mut seen: HashSet<String> = HashSet::new();
        let mut todo = vec![fold(view)];
        while let Some(name) = todo.pop() {
            if !seen.insert(name.clone()) {
                continue;
            }
            hidden.remove(&name);
            if let Some(o) = self.lineage.objects.get(&name) {
                todo.extend(o.reads.iter().cloned());
            }
        }
        Access {
            hidden,
            only: self.only.clone(),
            published: self.published.clone(),
            lineage: self.lineage.clone(),
            file: self.file,
            schema_version: self.schema_version,
            attached: self.attached.clone(),
        }
    }

    /// The access of the attached database SQL names `schema`, if it is one.
    fn attached(&self, schema: &str) -> Option<&Access> {
        self.attached
            .iter()
            .find(|a| a.alias.eq_ignore_ascii_case(schema))
            .map(|a| &*a.access)
    }

    /// Whether every statement that passed `earlier` also passes this access: only then may a
    /// statement prepared (and checked) under `earlier` be reused without a new check.
    pub(super) fn covered_by(&self, earlier: &Access) -> bool {
        let same_files = self.attached.len() == earlier.attached.len()
            && (self.attached.iter().zip(&earlier.attached)).all(|(a, b)| a.alias == b.alias);
        let readable_earlier_readable_here = match (&self.only, &earlier.only) {
            (None, None) => self.hidden.is_subset(&earlier.hidden),
            (None, Some(before)) => before
                .iter()
                .filter(|n| !earlier.hidden.contains(*n))
                .all(|n| !self.hidden.contains(n)),
            (Some(now), Some(before)) => before
                .iter()
                .filter(|n| !earlier.hidden.contains(*n))
                .all(|n| now.contains(n) && !self.hidden.contains(n)),
            (Some(_), None) => false,
        };
        readable_earlier_readable_here && same_files
    }
}

pub(super) enum Verdict {
    Allow,
    /// A read of a table the actor may not see.
    Hidden,
    /// For a pragma: answer nothing, exactly as for a name that does not exist.
    Ignore,
    Deny(String),
}

/// What a pragma that may be read is.
#[derive(Clone, Copy, PartialEq)]
enum Pragma {
    /// Describes the table or index its argument names, or lists what the file holds.
    Describes,
    /// A setting of the connection or the file: read, never set (a pooled connection must not
    /// change for the next request, nor the file).
    Setting,
    /// A figure of the whole file, never set, that moves with what is written to tables the
    /// actor may not see: only for an actor from whom nothing is hidden.
    FileFigure,
}

/// The pragmas that may be read; any other is refused.
const READ_PRAGMAS: &[(&str, Pragma)] = &[
    ("table_info", Pragma::Describes),
    ("table_xinfo", Pragma::Describes),
    ("index_list", Pragma::Describes),
    ("index_info", Pragma::Describes),
    ("index_xinfo", Pragma::Describes),
    ("foreign_key_list", Pragma::Describes),
    ("function_list", Pragma::Describes),
    ("collation_list", Pragma::Describes),
    ("module_list", Pragma::Describes),
    ("pragma_list", Pragma::Describes),
    ("compile_options", Pragma::Describes),
    ("table_list", Pragma::Describes),
    // Full-text indexes ask the first two of the database on their own behalf, through this
    // authorizer, so they cannot be refused. `data_version` moves with every write by another
    // connection, to hidden tables too: an actor can tell that something was written, not
    // what or where.
    ("data_version", Pragma::Setting),
    ("page_size", Pragma::Setting),
    ("cache_size", Pragma::Setting),
    ("max_page_count", Pragma::Setting),
    ("user_version", Pragma::Setting),
    ("application_id", Pragma::Setting),
    ("encoding", Pragma::Setting),
    ("page_count", Pragma::FileFigure),
    ("freelist_count", Pragma::FileFigure),
    ("schema_version", Pragma::FileFigure),
];

/// Table-valued functions anyone may read: they read what their arguments give them.
fn is_table_function(name: &str) -> bool {
    let name = fold(name);
    name.starts_with("pragma_") || matches!(name.as_str(), "json_each" | "json_tree")
}

/// A table the schema, as last loaded, does not know (made since, and not yet classified): it
/// may be one an allow block protects by name, so no actor reads it through an access worked
/// out from that schema until it is classified (within a second). An access not worked out
/// from a file that changes (an immutable file's, the plugin's own) knows of no such table.
fn unknown_to(access: &Access, table: &str) -> bool {
    (access.file.is_some() || access.hides_anything())
        && access.lineage.object(table).is_none()
        && !is_table_function(table)
        && !describes_all_tables(table)
}

/// Whether `action` reads what names every table of a schema.
pub(super) fn lists_schema(action: &AuthAction<'_>) -> bool {
    match action {
        AuthAction::Read { table_name, .. } => describes_all_tables(table_name),
        AuthAction::Pragma { pragma_name, .. } => pragma_name.eq_ignore_ascii_case("table_list"),
        _ => false,
    }
}

/// Tables that describe every other table: readable only by an actor from whom nothing is
/// hidden.
fn describes_all_tables(name: &str) -> bool {
    // Compared as SQLite compares names, without a copy: this runs for every column read.
    [
        "sqlite_master",
        "sqlite_schema",
        "sqlite_temp_master",
        "sqlite_temp_schema",
        "dbstat",
        "sqlite_dbpage",
    ]
    .iter()
    .any(|t| t.eq_ignore_ascii_case(name))
}

pub(super) fn check(ctx: &AuthContext<'_>, access: &Access) -> Verdict {
    // What is read in an attached database is checked against the actor's access to it.
    if let Some(other) = ctx.database_name.and_then(|s| access.attached(s)) {
        return check(
            &AuthContext {
                database_name: Some("main"),
                ..*ctx
            },
            other,
        );
    }
    match ctx.action {
        AuthAction::Select | AuthAction::Recursive => Verdict::Allow,
        AuthAction::Read { table_name, .. } => {
            // A recursive CTE's reads of itself name no schema.
            let in_schema = ctx.database_name.is_some();
            if !access.can_read(table_name) || (in_schema && unknown_to(access, table_name)) {
                Verdict::Hidden
            } else if access.hides_anything() && describes_all_tables(table_name) {
                Verdict::Deny(format!("{table_name} cannot be read by this actor"))
            } else {
                Verdict::Allow
            }
        }
        AuthAction::Function { function_name } => {
            if REFUSED_FUNCTIONS
                .iter()
                .any(|f| f.eq_ignore_ascii_case(function_name))
            {
                Verdict::Deny(format!("{function_name}() is not allowed"))
            } else {
                Verdict::Allow
            }
        }
        AuthAction::Pragma {
            pragma_name,
            pragma_value,
        } => check_pragma(pragma_name, pragma_value, access),
        AuthAction::Attach { .. } | AuthAction::Detach { .. } => {
            Verdict::Deny("ATTACH and DETACH are not allowed".into())
        }
        AuthAction::Transaction { .. } | AuthAction::Savepoint { .. } => {
            Verdict::Deny("transactions are not allowed: only one read-only statement runs".into())
        }
        _ => Verdict::Deny(NOT_A_SELECT.into()),
    }
}

/// The table of an automatic index name, `sqlite_autoindex_TABLE_N`.
fn autoindex_table(index: &str) -> Option<&str> {
    let rest = index
        .get(..17)
        .filter(|p| p.eq_ignore_ascii_case("sqlite_autoindex_"))
        .map(|_| &index[17..])?;
    let (table, n) = rest.rsplit_once('_')?;
    n.chars().all(|c| c.is_ascii_digit()).then_some(table)
}

/// A pragma about a table or index the actor may not see answers nothing, as it does for a
/// name that does not exist. Names compare as SQLite compares them: without regard to case.
fn check_pragma(name: &str, value: Option<&str>, access: &Access) -> Verdict {
    let pragma = fold(name);
    // Its `file` column is a path on the server, and SQLite compares a join's columns without
    // asking (`USING (file)`): no form of it is read.
    if pragma == "database_list" {
        return Verdict::Deny(
            "PRAGMA database_list is not available: it shows paths on the server".into(),
        );
    }
    let Some(&(_, kind)) = READ_PRAGMAS.iter().find(|(p, _)| *p == pragma) else {
        return Verdict::Deny(format!(
            "PRAGMA {name} is not allowed: only read-only pragmas are"
        ));
    };
    if kind != Pragma::Describes && value.is_some() {
        return Verdict::Deny(format!("PRAGMA {name} cannot be set"));
    }
    // SQLite hands the argument over already unquoted: compared as it is, since a table may
    // be named `weird'` or `[x]`.
    let arg = value;
    let hides = |table: &str| !access.can_read(table) || unknown_to(access, table);
    let describes_hidden = match (pragma.as_str(), arg) {
        ("table_info" | "table_xinfo" | "index_list", Some(t)) => hides(t),
        ("index_info" | "index_xinfo", Some(i)) => match access.lineage.index_table(i) {
            Some(table) => hides(table),
            // A WITHOUT ROWID table's key has no schema row: `sqlite_autoindex_TABLE_N`.
            None => match autoindex_table(i) {
                Some(table) => hides(table),
                None => hides(i) || access.hides_anything(),
            },
        },
        ("foreign_key_list", Some(t)) => {
            hides(t) || access.lineage.references(t).iter().any(|r| hides(r))
        }
        ("table_list", _) => access.hides_anything(),
        _ => kind == Pragma::FileFigure && access.hides_anything(),
    };
    if describes_hidden {
        Verdict::Ignore
    } else {
        Verdict::Allow
    }
}

/// The names in `sql` (words and quoted identifiers, outside string literals), as it spells
/// them.
pub fn names_in(sql: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut chars = sql.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        match c {
            '\'' => {
                // A string literal; '' inside is an escaped quote.
                while let Some((_, c)) = chars.next() {
                    if c == '\'' && chars.next_if(|(_, c)| *c == '\'').is_none() {
                        break;
                    }
                }
            }
            '"' | '`' | '[' => {
                let close = if c == '[' { ']' } else { c };
                names.push(
                    chars
                        .by_ref()
                        .map(|(_, c)| c)
                        .take_while(|c| *c != close)
                        .collect(),
                );
            }
            c if c.is_alphanumeric() || c == '_' => {
                let mut end = start + c.len_utf8();
                while let Some((i, c)) =
                    chars.next_if(|(_, c)| c.is_alphanumeric() || *c == '_' || *c == '$')
                {
                    end = i + c.len_utf8();
                }
                names.push(sql[start..end].to_string());
            }
            _ => {}
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_begin_with_a_read_word_past_comments() {
        for sql in [
            "select 1",
            "  WITH x as (select 1) select * from x",
            "-- a note\nexplain query plan select 1",
            "/* a note */ values (1)",
            "pragma table_info(t)",
            "-- only a comment",
        ] {
            assert!(begins_as_read(sql), "{sql}");
        }
        for sql in [
            ".schema",
            "update t set x = 1",
            "selec 1",
            "/* x */ insert into t values (1)",
        ] {
            assert!(!begins_as_read(sql), "{sql}");
        }
    }

    #[test]
    fn names_as_the_sql_spells_them() {
        assert_eq!(
            names_in("select 'it''s secrets', \"Odd Name\" from [T 1] join x_2$ -- 'x'"),
            ["select", "Odd Name", "from", "T 1", "join", "x_2$"]
        );
    }
}
