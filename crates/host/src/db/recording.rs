//! What the authorizer notes while statements are prepared (never run): the tables each reads
//! and writes, which view or trigger does so, and what else it would do to the file.
//! `lineage` learns from it what derives from what; the writer, what a write touches; the
//! write API, what write SQL from a request needs. `guard` is what records.

use rusqlite::hooks::AuthAction;

/// A table read or written while preparing a statement, and the view or trigger doing so.
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded {
    Read {
        table: String,
        accessor: Option<String>,
    },
    Write {
        table: String,
        accessor: Option<String>,
        op: RowOp,
    },
    /// A change of the schema, or anything else a write statement may do to the file.
    Other {
        op: FileOp,
        /// The table, view, index or trigger it names, if any.
        name: Option<String>,
        accessor: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RowOp {
    Insert,
    Update,
    Delete,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FileOp {
    CreateTable,
    DropTable,
    AlterTable,
    CreateIndex,
    DropIndex,
    /// Views, triggers, virtual tables, pragmas, attach, vacuum, transactions and the like.
    Unsupported(&'static str),
}

/// What records the tables statements read and write while they are prepared.
pub trait Recorder {
    /// Runs `prepare` (which prepares statements, never runs them) and returns what was read
    /// and written meanwhile.
    fn recording(&self, prepare: &mut dyn FnMut()) -> Vec<Recorded>;
}

/// Functions refused to every request: `load_extension` would load code; the others run SQL
/// of their own while the statement runs, past the check of what it reads, so a table's
/// refusal there would tell a hidden name from a missing one (`rtreecheck('secrets')`).
pub const REFUSED_FUNCTIONS: &[&str] = &["load_extension", "rtreecheck", "fts3_tokenizer"];

/// Functions whose answer is the connection's, not the statement's.
const CONNECTION_FUNCTIONS: &[&str] = &["changes", "total_changes", "last_insert_rowid"];

/// Built-in functions whose answer the file does not decide, besides the connection's: the
/// clock and chance (`date('now')`, `CURRENT_TIMESTAMP`, `random()`).
const VARYING_FUNCTIONS: &[&str] = &[
    "random",
    "randomblob",
    "date",
    "time",
    "datetime",
    "julianday",
    "unixepoch",
    "strftime",
    "timediff",
    "current_date",
    "current_time",
    "current_timestamp",
];

/// Whether the authorizer's action calls a function of [`VARYING_FUNCTIONS`] or
/// [`CONNECTION_FUNCTIONS`].
pub fn varies(action: &AuthAction<'_>) -> bool {
    matches!(action, AuthAction::Function { function_name }
        if VARYING_FUNCTIONS.iter().chain(CONNECTION_FUNCTIONS)
            .any(|f| f.eq_ignore_ascii_case(function_name)))
}

/// What the authorizer's action does, as recorded: a read, a row write, a schema change or
/// something write SQL from a request may not do; `None` for what needs no note.
pub fn recorded(action: &AuthAction<'_>, accessor: Option<&str>) -> Option<Recorded> {
    let accessor = accessor.map(str::to_string);
    let write = |table: &str, op| Recorded::Write {
        table: table.to_string(),
        accessor: accessor.clone(),
        op,
    };
    let other = |op, name: Option<&str>| Recorded::Other {
        op,
        name: name.map(str::to_string),
        accessor: accessor.clone(),
    };
    Some(match action {
        AuthAction::Read { table_name, .. } => Recorded::Read {
            table: table_name.to_string(),
            accessor: accessor.clone(),
        },
        AuthAction::Insert { table_name } => write(table_name, RowOp::Insert),
        AuthAction::Update { table_name, .. } => write(table_name, RowOp::Update),
        AuthAction::Delete { table_name } => write(table_name, RowOp::Delete),
        AuthAction::CreateTable { table_name } => other(FileOp::CreateTable, Some(table_name)),
        AuthAction::DropTable { table_name } => other(FileOp::DropTable, Some(table_name)),
        AuthAction::AlterTable { table_name, .. } => other(FileOp::AlterTable, Some(table_name)),
        AuthAction::CreateIndex { table_name, .. } => other(FileOp::CreateIndex, Some(table_name)),
        AuthAction::DropIndex { table_name, .. } => other(FileOp::DropIndex, Some(table_name)),
        // What only the connection knows: another request's writes on the same writer.
        AuthAction::Function { function_name }
            if CONNECTION_FUNCTIONS
                .iter()
                .any(|f| f.eq_ignore_ascii_case(function_name)) =>
        {
            other(
                FileOp::Unsupported("changes(), total_changes() and last_insert_rowid()"),
                None,
            )
        }
        AuthAction::Function { function_name }
            if REFUSED_FUNCTIONS
                .iter()
                .any(|f| f.eq_ignore_ascii_case(function_name)) =>
        {
            other(
                FileOp::Unsupported("load_extension(), rtreecheck() and fts3_tokenizer()"),
                None,
            )
        }
        AuthAction::Select | AuthAction::Function { .. } | AuthAction::Recursive => return None,
        // Part of creating an index.
        AuthAction::Reindex { .. } => return None,
        AuthAction::CreateView { .. } | AuthAction::DropView { .. } => {
            other(FileOp::Unsupported("views"), None)
        }
        AuthAction::CreateTrigger { .. } | AuthAction::DropTrigger { .. } => {
            other(FileOp::Unsupported("triggers"), None)
        }
        AuthAction::CreateVtable { .. } | AuthAction::DropVtable { .. } => {
            other(FileOp::Unsupported("virtual tables"), None)
        }
        AuthAction::CreateTempTable { .. }
        | AuthAction::CreateTempIndex { .. }
        | AuthAction::CreateTempTrigger { .. }
        | AuthAction::CreateTempView { .. }
        | AuthAction::DropTempTable { .. }
        | AuthAction::DropTempIndex { .. }
        | AuthAction::DropTempTrigger { .. }
        | AuthAction::DropTempView { .. } => other(FileOp::Unsupported("temporary objects"), None),
        AuthAction::Pragma { .. } => other(FileOp::Unsupported("PRAGMA"), None),
        AuthAction::Attach { .. } | AuthAction::Detach { .. } => {
            other(FileOp::Unsupported("ATTACH and DETACH"), None)
        }
        AuthAction::Transaction { .. } | AuthAction::Savepoint { .. } => {
            other(FileOp::Unsupported("transactions"), None)
        }
        AuthAction::Analyze { .. } => other(FileOp::Unsupported("ANALYZE"), None),
        _ => other(FileOp::Unsupported("this statement"), None),
    })
}
