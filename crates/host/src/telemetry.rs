//! Metrics in Prometheus' text format, for `/-/metrics`: requests by kind of page and status,
//! their latency, time spent running SQL and waiting for a connection, plugin hook calls and
//! failures. Recorded with the `metrics` crate wherever the work happens; rendered by
//! `metrics-exporter-prometheus`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Latency buckets, in seconds: from a cached page to the SQL time limit and beyond.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// Starts recording, once per process (a server in tests may call it again: that is fine).
pub fn install() {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(BUCKETS)
            .expect("the buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder installed first (only in tests): its numbers stay its own.
        let _ = metrics::set_global_recorder(recorder);
        handle
    });
}

/// Everything recorded so far, in Prometheus' text format; `None` when recording is off.
pub fn render() -> Option<String> {
    HANDLE.get().map(PrometheusHandle::render)
}

/// The kind of page a request was for, as the request's metrics label it.
#[derive(Clone, Copy)]
pub struct PageKind(pub &'static str);

pub fn request(kind: &'static str, status: u16, seconds: f64) {
    let status = status.to_string();
    metrics::counter!("datasette_requests_total", "kind" => kind, "status" => status).increment(1);
    metrics::histogram!("datasette_request_duration_seconds", "kind" => kind).record(seconds);
}

pub fn sql(seconds: f64) {
    metrics::histogram!("datasette_sql_duration_seconds").record(seconds);
}

/// A write through the write API: counted by operation, with the rows it changed.
pub fn write(op: &str, rows: usize) {
    let op = op.to_string();
    metrics::counter!("datasette_writes_total", "action" => op.clone()).increment(1);
    metrics::counter!("datasette_rows_written_total", "action" => op).increment(rows as u64);
}

pub fn pool_wait(seconds: f64) {
    metrics::histogram!("datasette_pool_wait_seconds").record(seconds);
}

pub fn hook(plugin: &'static str, hook: &'static str, failed: bool) {
    metrics::counter!("datasette_plugin_hook_calls_total", "plugin" => plugin, "hook" => hook)
        .increment(1);
    if failed {
        metrics::counter!(
            "datasette_plugin_hook_failures_total", "plugin" => plugin, "hook" => hook
        )
        .increment(1);
    }
}

/// A plugin's call of one of the host's services (from a hook or a thread of its own).
pub fn service(plugin: &'static str, service: &'static str, failed: bool) {
    metrics::counter!(
        "datasette_plugin_service_calls_total", "plugin" => plugin, "service" => service
    )
    .increment(1);
    if failed {
        metrics::counter!(
            "datasette_plugin_service_failures_total", "plugin" => plugin, "service" => service
        )
        .increment(1);
    }
}

/// Requests under way, for `/-/threads`: when each began and its method. Never its path: it
/// may name what the actor reading the page may not see.
static UNDER_WAY: Mutex<BTreeMap<u64, (Instant, String)>> = Mutex::new(BTreeMap::new());
static NEXT_REQUEST: AtomicU64 = AtomicU64::new(0);

/// A request under way until this is dropped.
pub struct UnderWay(u64);

pub fn begin(method: &str) -> UnderWay {
    let id = NEXT_REQUEST.fetch_add(1, Ordering::Relaxed);
    under_way_map().insert(id, (Instant::now(), method.to_string()));
    UnderWay(id)
}

impl Drop for UnderWay {
    fn drop(&mut self) {
        under_way_map().remove(&self.0);
    }
}

fn under_way_map() -> std::sync::MutexGuard<'static, BTreeMap<u64, (Instant, String)>> {
    UNDER_WAY.lock().unwrap_or_else(|e| e.into_inner())
}

/// The requests under way: method and milliseconds so far, oldest first.
pub fn under_way() -> Vec<(String, f64)> {
    under_way_map()
        .values()
        .map(|(began, method)| (method.clone(), began.elapsed().as_secs_f64() * 1000.0))
        .collect()
}

/// This process's threads (Linux's `/proc/self/task`): id and name; empty elsewhere.
pub fn threads() -> Vec<(u64, String)> {
    let Ok(entries) = std::fs::read_dir("/proc/self/task") else {
        return vec![];
    };
    let mut out: Vec<(u64, String)> = entries
        .flatten()
        .filter_map(|e| {
            let id = e.file_name().to_str()?.parse().ok()?;
            let name = std::fs::read_to_string(e.path().join("comm")).unwrap_or_default();
            Some((id, name.trim_end().to_string()))
        })
        .collect();
    out.sort();
    out
}
