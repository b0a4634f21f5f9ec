//! What the authorizer notes while the schema is loaded: the tables each statement reads
//! and writes, and which view or trigger does so. `lineage` learns from it what derives from
//! what; `guard` is what records.

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
    },
}

/// What records the tables statements read and write while they are prepared.
pub trait Recorder {
    /// Runs `prepare` (which prepares statements, never runs them) and returns what was read
    /// and written meanwhile.
    fn recording(&self, prepare: &mut dyn FnMut()) -> Vec<Recorded>;
}

/// Whether the authorizer's action reads or writes a table, for recording.
pub fn recorded(action: &AuthAction<'_>, accessor: Option<&str>) -> Option<Recorded> {
    let accessor = accessor.map(str::to_string);
    match action {
        AuthAction::Read { table_name, .. } => Some(Recorded::Read {
            table: table_name.to_string(),
            accessor,
        }),
        AuthAction::Insert { table_name }
        | AuthAction::Delete { table_name }
        | AuthAction::Update { table_name, .. } => Some(Recorded::Write {
            table: table_name.to_string(),
            accessor,
        }),
        _ => None,
    }
}
