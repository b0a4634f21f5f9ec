//! Running it in production: health checks, request logs, graceful shutdown, new files put
//! in place while serving.

use std::sync::Arc;

use serde_json::{json, Value};
use testkit::serve_sql;

const DATA: &str =
    "create table t (id integer primary key, v text); insert into t (v) values ('one');";

#[test]
fn health_answers_without_permission_and_503_when_a_file_is_unavailable() {
    let (dir, server) = serve_sql("data", DATA, json!({"allow": {"id": "nobody"}}), &[]);
    // The instance is closed to everyone; the probe still answers, and names nothing.
    assert_eq!(server.get("/data/t.json").status, 403);
    let ok = server.get("/-/health");
    assert_eq!(ok.status, 200);
    assert_eq!(ok.json(), json!({"status": "ok"}));
    assert_eq!(ok.header("cache-control"), Some("no-store"));
    std::fs::write(dir.path().join("garbage"), "not a database at all").unwrap();
    std::fs::rename(dir.path().join("garbage"), dir.path().join("data.db")).unwrap();
    let down = server.get("/-/health");
    assert_eq!(down.status, 503);
    assert_eq!(down.json(), json!({"status": "unavailable"}));
    assert!(server.logged("health: "), "{}", server.log());
}

#[test]
fn json_logs_have_one_line_per_request_without_query_strings() {
    let (_dir, server) = serve_sql("data", DATA, json!({}), &["--log-format", "json"]);
    let cookie = server.cookie_for(&json!({"id": "ana"}));
    let r = server.request(
        "GET",
        "/data/t.json?_token=tok-12345",
        &[("Cookie", &cookie)],
    );
    assert_eq!(r.status, 200);
    assert_eq!(server.get("/nowhere").status, 404);
    let mut found = vec![];
    for _ in 0..100 {
        found = server
            .log()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|l| l["target"] == "request")
            .collect();
        if found.len() >= 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let table = found
        .iter()
        .find(|l| l["path"] == "/data/t.json")
        .expect("a line for the page");
    assert_eq!(table["method"], "GET");
    assert_eq!(table["status"], 200);
    assert_eq!(table["actor"], "ana");
    let took = table["duration_ms"]
        .as_f64()
        .expect("a number of milliseconds");
    assert!(took > 0.0 && took < 30_000.0, "{took}");
    let missing = found.iter().find(|l| l["path"] == "/nowhere").unwrap();
    assert_eq!(
        (missing["status"].clone(), missing["actor"].clone()),
        (json!(404), json!(""))
    );
    assert!(!server.log().contains("tok-12345"), "{}", server.log());
    assert!(!server.log().contains("ds_session"), "{}", server.log());
}

/// SIGTERM during a request: the request is answered in full, then the process exits 0.
#[test]
fn sigterm_lets_requests_in_flight_finish_and_exits_0() {
    let (_dir, server) = serve_sql(
        "data",
        DATA,
        json!({}),
        &["--setting", "sql_time_limit_ms", "20000"],
    );
    let base = server.base.clone();
    let slow = std::thread::spawn(move || {
        let sql = "with recursive c(x) as (select 1 union all select x + 1 from c where x < 1000000) select count(*) as n from c";
        let url = format!(
            "{base}/data.json?_shape=array&sql={}",
            sql.replace('+', "%2B")
                .replace('<', "%3C")
                .replace(' ', "+")
        );
        testkit::get_url(&url)
    });
    server.await_request_under_way(std::time::Duration::from_millis(50));
    let mut server = server;
    let code = server.terminate();
    let answer = slow.join().unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json(), json!([{"n": 1000000}]));
    assert_eq!(code, Some(0));
}

/// A new file renamed into place is served at once, with no failed request meanwhile.
#[test]
fn a_file_replaced_by_rename_is_served_without_a_failed_request() {
    let (dir, server) = serve_sql("data", DATA, json!({}), &[]);
    let server = Arc::new(server);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let answered = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let load = {
        let (server, stop, answered) = (server.clone(), stop.clone(), answered.clone());
        std::thread::spawn(move || {
            let mut statuses = vec![];
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                statuses.push(server.get("/data/t.json?_shape=array").status);
                answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            statuses
        })
    };
    testkit::eventually("the load to be under way", || {
        answered.load(std::sync::atomic::Ordering::SeqCst) >= 5
    });
    let next = dir.path().join("next.db");
    rusqlite::Connection::open(&next)
        .unwrap()
        .execute_batch("create table t (id integer primary key, v text, w text); insert into t (v, w) values ('two', 'new');")
        .unwrap();
    std::fs::rename(&next, dir.path().join("data.db")).unwrap();
    let mut served = Value::Null;
    for _ in 0..100 {
        served = server.json("/data/t.json?_shape=array");
        if served[0]["w"] == "new" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Requests go on being answered after the swap too.
    let swapped = answered.load(std::sync::atomic::Ordering::SeqCst);
    testkit::eventually("the load to go on", || {
        answered.load(std::sync::atomic::Ordering::SeqCst) >= swapped + 5
    });
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let statuses = load.join().unwrap();
    assert_eq!(served, json!([{"id": 1, "v": "two", "w": "new"}]));
    assert!(statuses.len() > 10);
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
}

#[test]
fn metrics_are_for_the_permitted_in_prometheus_text() {
    let (_dir, server) = serve_sql(
        "data",
        DATA,
        json!({
            "permissions": {"metrics": {"id": "ops"}},
            "plugins": {"datasette-test-hooks": {}}
        }),
        &[],
    );
    assert_eq!(server.get("/data/t.json").status, 200);
    let panicking = [("x-hooks-panic", "actor_from_request")];
    assert_eq!(
        server.request("GET", "/data/t.json", &panicking).status,
        200
    );
    assert_eq!(server.get("/-/metrics").status, 403);
    let root = server.cookie_for(&json!({"id": "root"}));
    assert_eq!(
        server
            .request("GET", "/-/metrics", &[("Cookie", &root)])
            .status,
        403
    );
    let ops = server.cookie_for(&json!({"id": "ops"}));
    let r = server.request("GET", "/-/metrics", &[("Cookie", &ops)]);
    assert_eq!(r.status, 200);
    assert!(
        r.content_type.starts_with("text/plain; version=0.0.4"),
        "{}",
        r.content_type
    );
    let text = r.body;
    for line in [
        r#"datasette_requests_total{kind="table",status="200"} 2"#,
        r#"datasette_requests_total{kind="metrics",status="403"} 2"#,
        r#"datasette_request_duration_seconds_bucket{kind="table",le="+Inf"} 2"#,
        r#"datasette_plugin_hook_failures_total{plugin="datasette-test-hooks",hook="actor_from_request"} 1"#,
    ] {
        assert!(text.contains(line), "no {line} in\n{text}");
    }
    for name in [
        "datasette_sql_duration_seconds_count",
        "datasette_pool_wait_seconds_count",
        r#"datasette_plugin_hook_calls_total{plugin="datasette-test-hooks",hook="menu_links"}"#,
    ] {
        assert!(text.contains(name), "no {name} in\n{text}");
    }
}

/// `/-/threads.json` has Datasette's keys: the process's threads, and as tasks the requests
/// under way, without their paths (another actor's request may name a protected table).
#[test]
fn threads_lists_threads_and_requests_under_way_without_paths() {
    let (_dir, server) = serve_sql("data", DATA, json!({}), &[]);
    let v = server.json("/-/threads.json");
    let threads = v["threads"].as_array().unwrap();
    assert_eq!(v["num_threads"], threads.len());
    assert!(threads.len() > 1, "{v}");
    assert!(threads
        .iter()
        .all(|t| t["ident"].is_u64() && t["name"].is_string()));
    // This request is under way while the page is made.
    let tasks = v["tasks"].as_array().unwrap();
    assert_eq!(v["num_tasks"], tasks.len());
    assert!(
        tasks
            .iter()
            .any(|t| t.as_str().unwrap().starts_with("GET request")),
        "{v}"
    );
    assert!(!v.to_string().contains("threads.json"));
    let closed = serve_sql("data", DATA, json!({"allow": {"id": "root"}}), &[]).1;
    assert_eq!(closed.get("/-/threads.json").status, 403);
}
