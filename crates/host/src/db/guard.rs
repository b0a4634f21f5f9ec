//! The SQLite authorizer: the one place where what a request may read is enforced. Every
//! statement the host prepares for a request, its own included, is checked against the actor's
//! [`Access`]: reads only, and nothing of a table, view or index the actor may not see.
//!
//! One authorizer is installed per connection for its whole life, because installing or
//! removing one expires every prepared statement. What it allows is switched per query through
//! the shared [`Guard`].

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use rusqlite::hooks::{AuthAction, AuthContext, Authorization};

use super::lineage::{fold, recorded, Lineage};

/// What one actor may read in one database.
#[derive(Debug, Default)]
pub struct Access {
    /// Folded names of the tables and views this actor may not read, derived ones included.
    pub hidden: HashSet<String>,
    /// Folded names of views with an allow block of their own that lets this actor in: what
    /// they read may be read through them, and through them alone.
    pub published: HashSet<String>,
    pub lineage: Arc<Lineage>,
}

impl Access {
    pub fn can_read(&self, name: &str) -> bool {
        !self.hidden.contains(&fold(name))
    }

    /// Whether every statement that passed `earlier` also passes this access: only then may a
    /// statement prepared (and checked) under `earlier` be reused without a new check.
    fn covered_by(&self, earlier: &Access) -> bool {
        self.hidden.is_subset(&earlier.hidden) && earlier.published.is_subset(&self.published)
    }
}

/// What the SQL about to be prepared may do.
#[derive(Debug, Default)]
enum Policy {
    /// SQL that this program wrote to read the schema, outside any request: no checks.
    #[default]
    Trusted,
    /// Schema loading: allow everything and note what is read and written.
    Recording(Vec<Recorded>),
    /// A request's SQL: reads only, and only of what the actor may see.
    Request(Arc<Access>),
}

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

#[derive(Default)]
struct State {
    policy: Policy,
    /// Why the last statement was refused, for the error message.
    refusal: Option<Refusal>,
    /// The access under which the statements now in the connection's cache were checked.
    cached_under: Option<Arc<Access>>,
}

/// Shared between a connection's authorizer and the code that runs queries on it.
#[derive(Clone, Default)]
pub struct Guard(Arc<Mutex<State>>);

impl Guard {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Checks what is prepared from now on against `access`. Returns whether the connection's
    /// cached statements must be dropped: they were checked under an access that allowed
    /// something this one does not, and a cached statement is not checked again.
    pub fn enter(&self, access: Arc<Access>) -> bool {
        let mut s = self.state();
        let stale = s
            .cached_under
            .as_ref()
            .is_none_or(|earlier| !access.covered_by(earlier));
        s.cached_under = Some(access.clone());
        s.policy = Policy::Request(access);
        s.refusal = None;
        stale
    }

    /// Back to schema work.
    pub fn leave(&self) {
        let mut s = self.state();
        s.policy = Policy::Trusted;
        s.refusal = None;
    }

    /// Why `sql`, just refused, was refused. A hidden table is named as the statement names
    /// it: reached through a view, SQLite's callback names the table the view reads, and that
    /// name must not be told.
    pub fn take_refusal(&self, sql: &str) -> Option<String> {
        let mut s = self.state();
        match s.refusal.take()? {
            Refusal::Other(reason) => Some(reason),
            Refusal::Hidden(table) => {
                let named = match &s.policy {
                    Policy::Request(access) => hidden_name_in(sql, access),
                    _ => None,
                };
                Some(format!("no such table: {}", named.unwrap_or(table)))
            }
        }
    }

    /// Runs `f` (which prepares statements, never runs them) and returns what was read and
    /// written while preparing.
    pub fn recording<T>(&self, f: impl FnOnce() -> T) -> Vec<Recorded> {
        self.state().policy = Policy::Recording(Vec::new());
        let _ = f();
        match std::mem::take(&mut self.state().policy) {
            Policy::Recording(seen) => seen,
            _ => Vec::new(),
        }
    }

    /// The authorizer callback to install on the connection.
    pub fn authorizer(
        &self,
    ) -> impl for<'r> FnMut(AuthContext<'r>) -> Authorization + Send + 'static {
        let state = self.0.clone();
        move |ctx: AuthContext<'_>| {
            let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
            let verdict = match &mut s.policy {
                Policy::Trusted => Verdict::Allow,
                Policy::Recording(seen) => {
                    seen.extend(recorded(&ctx.action, ctx.accessor));
                    Verdict::Allow
                }
                Policy::Request(access) => check(&ctx, access),
            };
            match verdict {
                Verdict::Allow => Authorization::Allow,
                Verdict::Ignore => Authorization::Ignore,
                Verdict::Hidden(table) => {
                    s.refusal.get_or_insert(Refusal::Hidden(table));
                    Authorization::Deny
                }
                Verdict::Deny(reason) => {
                    // Keep the first reason: it names what the statement tried first.
                    s.refusal.get_or_insert(Refusal::Other(reason));
                    Authorization::Deny
                }
            }
        }
    }
}

enum Refusal {
    /// A read of this hidden table.
    Hidden(String),
    Other(String),
}

enum Verdict {
    Allow,
    /// A read of a table the actor may not see: answered as for a table that does not exist.
    Hidden(String),
    /// For a pragma: answer nothing, exactly as for a name that does not exist.
    Ignore,
    Deny(String),
}

/// Pragmas that only read, given no value. Each may name a table or index as its argument.
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
    // Full-text indexes ask these of the database on their own behalf.
    "data_version",
    "page_size",
];

/// Tables that describe every other table: readable only by an actor from whom nothing is
/// hidden.
fn describes_all_tables(name: &str) -> bool {
    matches!(
        fold(name).as_str(),
        "sqlite_master"
            | "sqlite_schema"
            | "sqlite_temp_master"
            | "sqlite_temp_schema"
            | "dbstat"
            | "sqlite_dbpage"
    )
}

fn check(ctx: &AuthContext<'_>, access: &Access) -> Verdict {
    match ctx.action {
        AuthAction::Select | AuthAction::Recursive => Verdict::Allow,
        AuthAction::Read { table_name, .. } => {
            let through_published = ctx
                .accessor
                .is_some_and(|view| access.published.contains(&fold(view)));
            if !access.can_read(table_name) && !through_published {
                Verdict::Hidden(table_name.to_string())
            } else if !access.hidden.is_empty() && describes_all_tables(table_name) {
                Verdict::Deny(format!("{table_name} cannot be read by this actor"))
            } else {
                Verdict::Allow
            }
        }
        AuthAction::Function { function_name } => {
            if function_name.eq_ignore_ascii_case("load_extension") {
                Verdict::Deny("load_extension() is not allowed".into())
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
        _ => Verdict::Deny("only read-only SQL (SELECT, WITH, EXPLAIN) is allowed".into()),
    }
}

/// A pragma about a table or index the actor may not see answers nothing, as it does for a
/// name that does not exist. Names compare as SQLite compares them: without regard to case.
fn check_pragma(name: &str, value: Option<&str>, access: &Access) -> Verdict {
    let pragma = fold(name);
    if !READ_PRAGMAS.contains(&pragma.as_str()) {
        return Verdict::Deny(format!(
            "PRAGMA {name} is not allowed: only read-only pragmas are"
        ));
    }
    let arg = value.map(|v| v.trim().trim_matches(['"', '\'', '[', ']', '`']));
    let hides = |table: &str| !access.can_read(table);
    let describes_hidden = match (pragma.as_str(), arg) {
        ("table_info" | "table_xinfo" | "index_list", Some(t)) => hides(t),
        ("index_info" | "index_xinfo", Some(i)) => {
            hides(i) || access.lineage.index_table(i).is_some_and(hides)
        }
        ("foreign_key_list", Some(t)) => {
            hides(t) || access.lineage.references(t).iter().any(|r| hides(r))
        }
        ("data_version" | "page_size", Some(_)) => {
            return Verdict::Deny(format!("PRAGMA {name} cannot be set"))
        }
        ("table_list", _) => !access.hidden.is_empty(),
        _ => false,
    };
    if describes_hidden {
        Verdict::Ignore
    } else {
        Verdict::Allow
    }
}

/// The first name in `sql` (outside string literals) of something hidden, as `sql` spells it.
fn hidden_name_in(sql: &str, access: &Access) -> Option<String> {
    let mut chars = sql.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        let name = match c {
            '\'' => {
                // A string literal; '' inside is an escaped quote.
                while let Some((_, c)) = chars.next() {
                    if c == '\'' && chars.next_if(|(_, c)| *c == '\'').is_none() {
                        break;
                    }
                }
                continue;
            }
            '"' | '`' | '[' => {
                let close = if c == '[' { ']' } else { c };
                let mut name = String::new();
                for (_, c) in chars.by_ref() {
                    if c == close {
                        break;
                    }
                    name.push(c);
                }
                name
            }
            c if c.is_alphanumeric() || c == '_' => {
                let mut end = start + c.len_utf8();
                while let Some((i, c)) =
                    chars.next_if(|(_, c)| c.is_alphanumeric() || *c == '_' || *c == '$')
                {
                    end = i + c.len_utf8();
                }
                sql[start..end].to_string()
            }
            _ => continue,
        };
        if !access.can_read(&name) {
            return Some(name);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_hidden_things_as_the_sql_spells_them() {
        let access = Access {
            hidden: ["secrets", "secret view"].map(String::from).into(),
            ..Access::default()
        };
        let find = |sql| hidden_name_in(sql, &access);
        assert_eq!(find("select * from SECRETS").as_deref(), Some("SECRETS"));
        assert_eq!(
            find("select 'secrets' from [Secret View]").as_deref(),
            Some("Secret View")
        );
        assert_eq!(
            find("select 'it''s secrets' from \"secrets\"").as_deref(),
            Some("secrets")
        );
        assert_eq!(find("select * from open_secrets"), None);
    }
}
