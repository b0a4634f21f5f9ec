//! The SQLite authorizer that keeps SQL we did not write to reads, and away from tables the
//! actor may not see.
//!
//! One authorizer is installed per connection for its whole life, because installing or
//! removing one expires every prepared statement. What it allows is switched per query through
//! the shared [`Guard`].

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use rusqlite::hooks::{AuthAction, AuthContext, Authorization};

/// What the SQL about to be prepared may do.
#[derive(Debug, Clone, Default)]
pub enum Policy {
    /// SQL that this program wrote from checked names: no checks.
    #[default]
    Trusted,
    /// SQL from a request: reads only, and not of these tables.
    ReadOnly { hidden_tables: Arc<HashSet<String>> },
}

#[derive(Default)]
struct State {
    policy: Policy,
    /// Why the last statement was refused, for the error message.
    refusal: Option<String>,
}

/// Shared between a connection's authorizer and the code that runs queries on it.
#[derive(Clone, Default)]
pub struct Guard(Arc<Mutex<State>>);

impl Guard {
    pub fn set_policy(&self, policy: Policy) {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        s.policy = policy;
        s.refusal = None;
    }

    pub fn take_refusal(&self) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .refusal
            .take()
    }

    /// The authorizer callback to install on the connection.
    pub fn authorizer(
        &self,
    ) -> impl for<'r> FnMut(AuthContext<'r>) -> Authorization + Send + 'static {
        let state = self.0.clone();
        move |ctx: AuthContext<'_>| {
            let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
            let verdict = match &s.policy {
                Policy::Trusted => Ok(()),
                Policy::ReadOnly { hidden_tables } => check(&ctx.action, hidden_tables),
            };
            match verdict {
                Ok(()) => Authorization::Allow,
                Err(reason) => {
                    // Keep the first reason: it names what the statement tried first.
                    s.refusal.get_or_insert(reason);
                    Authorization::Deny
                }
            }
        }
    }
}

/// Pragmas that only read, given no value. Each may name a table as its argument.
const READ_PRAGMAS: &[&str] = &[
    "table_info",
    "table_xinfo",
    "index_list",
    "index_info",
    "index_xinfo",
    "foreign_key_list",
    "function_list",
    "collation_list",
    "module_list",
    "pragma_list",
    "compile_options",
    "database_list",
    "table_list",
];

fn is_schema_table(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "sqlite_master" | "sqlite_schema" | "sqlite_temp_master" | "sqlite_temp_schema"
    )
}

fn check(action: &AuthAction<'_>, hidden: &HashSet<String>) -> Result<(), String> {
    match action {
        AuthAction::Select | AuthAction::Recursive => Ok(()),
        AuthAction::Read { table_name, .. } => {
            if hidden.contains(*table_name) {
                // Word for word what SQLite says of a table that does not exist.
                Err(format!("no such table: {table_name}"))
            } else if !hidden.is_empty() && is_schema_table(table_name) {
                Err(format!("{table_name} cannot be read by this actor"))
            } else {
                Ok(())
            }
        }
        AuthAction::Function { function_name } => {
            if function_name.eq_ignore_ascii_case("load_extension") {
                Err("load_extension() is not allowed".into())
            } else {
                Ok(())
            }
        }
        AuthAction::Pragma {
            pragma_name,
            pragma_value,
        } => {
            let name = pragma_name.to_ascii_lowercase();
            let lists_all_tables = name == "table_list";
            let names_hidden = pragma_value
                .is_some_and(|v| hidden.contains(v.trim_matches(['"', '\'', '[', ']', '`'])));
            if !READ_PRAGMAS.contains(&name.as_str()) {
                Err(format!(
                    "PRAGMA {pragma_name} is not allowed: only read-only pragmas are"
                ))
            } else if names_hidden {
                Err(format!(
                    "no such table: {}",
                    pragma_value.unwrap_or_default()
                ))
            } else if lists_all_tables && !hidden.is_empty() {
                Err(format!("PRAGMA {pragma_name} cannot be read by this actor"))
            } else {
                Ok(())
            }
        }
        AuthAction::Attach { .. } | AuthAction::Detach { .. } => {
            Err("ATTACH and DETACH are not allowed".into())
        }
        AuthAction::Transaction { .. } | AuthAction::Savepoint { .. } => {
            Err("transactions are not allowed: only one read-only statement runs".into())
        }
        _ => Err("only read-only SQL (SELECT, WITH, EXPLAIN) is allowed".into()),
    }
}
