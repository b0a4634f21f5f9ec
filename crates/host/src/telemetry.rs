//! Metrics in Prometheus' text format, for `/-/metrics`: requests by kind of page and status,
//! their latency, time spent running SQL and waiting for a connection, plugin hook calls and
//! failures. Recorded with the `metrics` crate wherever the work happens; rendered by
//! `metrics-exporter-prometheus`.

use std::sync::OnceLock;

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
