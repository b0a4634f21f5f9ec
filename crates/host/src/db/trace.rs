//! SQL traces for `?_trace=1` (setting `trace_debug`): each statement a request runs, with
//! its parameters, its time and its error, as Datasette lists them.
//!
//! A request being traced carries a [`Tracer`] in a task-local; [`Tracer::within`] hands it to
//! the thread that runs the request's SQL, and the statement runners in this module's parent
//! [`record`] into it. Only statements run under the actor's access are recorded (not the
//! host's own schema work, nor plugins' queries, which may read as the plugin), so a trace
//! names nothing the actor may not read.

use std::cell::RefCell;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::Serialize;

use super::{Cell, Conn, DbError};

/// The statements of one request.
#[derive(Clone)]
pub struct Tracer(Arc<Recording>);

struct Recording {
    started: Instant,
    traces: Mutex<Vec<Trace>>,
}

/// One statement, in Datasette's trace keys (`start`/`end` in seconds since the request began).
#[derive(Debug, Clone, Serialize)]
pub struct Trace {
    #[serde(rename = "type")]
    kind: &'static str,
    start: f64,
    end: f64,
    duration_ms: f64,
    database: String,
    sql: String,
    params: serde_json::Map<String, serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

tokio::task_local! {
    static REQUEST: Tracer;
}

thread_local! {
    /// The tracer and database name of the statements this thread runs now.
    static ACTIVE: RefCell<Option<(Tracer, String)>> = const { RefCell::new(None) };
}

impl Tracer {
    pub fn new() -> Tracer {
        Tracer(Arc::new(Recording {
            started: Instant::now(),
            traces: Mutex::new(Vec::new()),
        }))
    }

    /// Runs `fut` (a request) with this tracer recording its statements.
    pub async fn scope<F: Future>(self, fut: F) -> F::Output {
        REQUEST.scope(self, fut).await
    }

    /// The tracer of the request this task serves, if it is traced.
    pub fn current() -> Option<Tracer> {
        REQUEST.try_with(Tracer::clone).ok()
    }

    /// `fut` run within the current request's tracer, wherever it is spawned: for the rest of
    /// a streamed answer.
    pub fn carry<F: Future>(fut: F) -> impl Future<Output = F::Output> {
        let tracer = Tracer::current();
        async move {
            match tracer {
                Some(t) => t.scope(fut).await,
                None => fut.await,
            }
        }
    }

    /// `f` (a request's SQL on the database named `database`) wrapped so that, on whichever
    /// thread it runs, its statements are recorded into the current request's tracer.
    pub fn within<T>(database: &str, f: impl FnOnce(&Conn) -> T) -> impl FnOnce(&Conn) -> T {
        let active = Tracer::current().map(|t| (t, database.to_string()));
        move |c| match active {
            None => f(c),
            Some(active) => recording(Some(active), || f(c)),
        }
    }

    /// As [`Tracer::within`], for a function that may run more than once.
    pub fn within_each<T>(database: &str, f: impl Fn(&Conn) -> T) -> impl Fn(&Conn) -> T {
        let active = Tracer::current().map(|t| (t, database.to_string()));
        move |c| match &active {
            None => f(c),
            Some(active) => recording(Some(active.clone()), || f(c)),
        }
    }

    /// Milliseconds since the request began.
    pub fn elapsed_ms(&self) -> f64 {
        self.0.started.elapsed().as_secs_f64() * 1000.0
    }

    pub fn traces(&self) -> Vec<Trace> {
        self.0
            .traces
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Runs `f` with this thread recording into `active`, or into nothing when `None`.
fn recording<T>(active: Option<(Tracer, String)>, f: impl FnOnce() -> T) -> T {
    // Put back what was there even if `f` panics: the thread is reused for other requests.
    struct Restore(Option<(Tracer, String)>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let before = self.0.take();
            ACTIVE.with(|a| *a.borrow_mut() = before);
        }
    }
    let _restore = Restore(ACTIVE.with(|a| a.replace(active)));
    f()
}

/// Runs `f` (a plugin's own queries) with nothing recorded, whatever this thread is tracing.
pub fn untraced<T>(f: impl FnOnce() -> T) -> T {
    recording(None, f)
}

impl Default for Tracer {
    fn default() -> Self {
        Tracer::new()
    }
}

impl Trace {
    pub fn duration_ms(&self) -> f64 {
        self.duration_ms
    }
}

/// Whether this thread records the statements it runs now: the runners skip the work of
/// [`record`] otherwise.
pub fn active() -> bool {
    ACTIVE.with(|a| a.borrow().is_some())
}

/// Records a statement that began at `began` and ended now. Values of magic parameters
/// (`_cookie_…`, `_header_…`, `_actor_…`) are not shown: they may be credentials.
pub fn record(sql: &str, params: &[(String, Cell)], began: Instant, error: Option<&DbError>) {
    let ended = Instant::now();
    ACTIVE.with(|a| {
        let Some((tracer, database)) = &*a.borrow() else {
            return;
        };
        let since = |t: Instant| t.saturating_duration_since(tracer.0.started).as_secs_f64();
        let params = params
            .iter()
            .map(|(name, value)| {
                let shown = if name.starts_with('_') {
                    serde_json::Value::String("(not shown)".into())
                } else {
                    serde_json::to_value(value).unwrap_or_default()
                };
                (name.clone(), shown)
            })
            .collect();
        let trace = Trace {
            kind: "sql",
            start: since(began),
            end: since(ended),
            duration_ms: (ended - began).as_secs_f64() * 1000.0,
            database: database.clone(),
            sql: sql.trim().to_string(),
            params,
            error: error.map(|e| e.to_string()),
        };
        tracer
            .0
            .traces
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(trace);
    });
}
