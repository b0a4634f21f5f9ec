//! The SQLite authorizer: the one place where what a request may read is enforced. Every
//! statement the host prepares for a request, its own included, is checked against the actor's
//! [`Access`]: reads only, and nothing of a table, view or index the actor may not see.
//!
//! One authorizer is installed per connection for its whole life, because installing or
//! removing one expires every prepared statement. What it allows is switched per query through
//! the shared [`Guard`].

use std::sync::{Arc, Mutex};

use rusqlite::hooks::{AuthContext, Authorization};

use super::access::{check, lists_schema, names_in, Access, Verdict};
use super::lineage::fold;
use super::recording::{recorded, varies, Recorded, Recorder};

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

#[derive(Default)]
struct State {
    policy: Policy,
    /// Why the last statement was refused, for the error message.
    refusal: Option<Refusal>,
    /// The access under which the statements now in the connection's cache were checked.
    cached_under: Option<Arc<Access>>,
    /// A request's statement read what lists every table (`sqlite_master`, `table_list`).
    listed_schema: bool,
    /// A request's statement calls a function the file does not decide (`varies`).
    varied: bool,
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
        s.listed_schema = false;
        s.varied = false;
        stale
    }

    /// Whether a statement since [`Guard::enter`] read what lists every table.
    pub fn listed_schema(&self) -> bool {
        self.state().listed_schema
    }

    /// Whether a statement prepared since [`Guard::enter`] calls the clock or chance, so its
    /// answer is not the file's alone.
    pub fn varied(&self) -> bool {
        self.state().varied
    }

    /// The access statements are checked against now, inside a request.
    pub fn current(&self) -> Option<Arc<Access>> {
        match &self.state().policy {
            Policy::Request(access) => Some(access.clone()),
            _ => None,
        }
    }

    /// Lets the server's own schema reads through until the returned value is dropped, then
    /// checks the request's statements again.
    pub fn suspended(&self) -> Suspended<'_> {
        let previous = std::mem::take(&mut self.state().policy);
        Suspended {
            guard: self,
            previous: Some(previous),
        }
    }

    /// Back to schema work.
    pub fn leave(&self) {
        let mut s = self.state();
        s.policy = Policy::Trusted;
        s.refusal = None;
    }

    /// Why `sql`, just refused, was refused. A read of something hidden names nothing hidden:
    /// SQL from a request was checked against the schema its actor sees first (`shadow`), so
    /// what is left is a read through a published view, or the server's own SQL.
    pub fn take_refusal(&self, sql: &str) -> Option<String> {
        let mut s = self.state();
        match s.refusal.take()? {
            Refusal::Other(reason) => Some(reason),
            Refusal::Hidden => {
                let published = match &s.policy {
                    Policy::Request(access) => names_in(sql)
                        .into_iter()
                        .find(|n| access.published.contains(&fold(n))),
                    _ => None,
                };
                Some(match published {
                    Some(view) => format!(
                        "{view} is published with its own allow block: read it on its own page, not through SQL"
                    ),
                    None => "the query reads data this actor may not see".into(),
                })
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
                Verdict::Allow => {
                    s.listed_schema |= lists_schema(&ctx.action);
                    s.varied |= varies(&ctx.action);
                    Authorization::Allow
                }
                Verdict::Ignore => Authorization::Ignore,
                Verdict::Hidden => {
                    s.refusal.get_or_insert(Refusal::Hidden);
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

/// While it lives, the guard lets the server's own schema reads through.
pub struct Suspended<'a> {
    guard: &'a Guard,
    previous: Option<Policy>,
}

impl Drop for Suspended<'_> {
    fn drop(&mut self) {
        if let Some(previous) = self.previous.take() {
            self.guard.state().policy = previous;
        }
    }
}

enum Refusal {
    /// A read of something hidden.
    Hidden,
    Other(String),
}

impl Recorder for Guard {
    fn recording(&self, prepare: &mut dyn FnMut()) -> Vec<Recorded> {
        Guard::recording(self, prepare)
    }
}
