//! A client written for Datasette's JSON API works unchanged: every response Datasette 0.65.5
//! gave on its fixture (tests/golden/responses.json) is compared with ours, value by value.
//! The few places where we differ on purpose are named below, each with its reason.

use datasette_rs_tests::TestApp;
use serde_json::Value;

/// Drops what legitimately differs between runs: timings and the server's own address.
fn normalise(v: &mut Value, base: &str) {
    match v {
        Value::Object(m) => {
            m.remove("query_ms");
            for x in m.values_mut() {
                normalise(x, base);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| normalise(x, base)),
        Value::String(s) if s.starts_with(base) => {
            *s = s.replacen(base, "http://127.0.0.1:8001", 1)
        }
        _ => {}
    }
}

/// Deliberate differences: (path, JSON pointer, why).
const DIFFERENCES: &[(&str, &str, &str)] = &[
    // Datasette counts facets over the rows after the `_next` token, so counts change from
    // page to page; ours count the whole filtered table on every page.
    (
        "/fixture/cities.json?_size=3&_next=3",
        "/facet_results",
        "facet counts do not depend on the page",
    ),
    (
        "/fixture/cities.json?_size=2&_sort_desc=population&_col=population&_next=4981425%2C305",
        "/facet_results",
        "facet counts do not depend on the page",
    ),
    // Datasette's first sorted page lacks the primary key tie-breaker its later pages use, so
    // rows tied on the sort value can be skipped or repeated; ours always orders by it.
    (
        "/fixture/cities.json?_size=2&_sort_desc=population&_col=population",
        "/query/sql",
        "sorted pages always break ties by key",
    ),
    // Datasette lists a facet twice when metadata and `_facet` both ask for it.
    (
        "/fixture/cities.json?_facet=country&_size=0&_facet_size=3",
        "/facet_results/country_2",
        "each facet is listed once",
    ),
    // Whitespace in generated SQL.
    (
        "/fixture/big_cities.json?_size=2",
        "/query/sql",
        "no double space in generated SQL",
    ),
    // Settings of our own, for session cookies.
    (
        "/-/settings.json",
        "/secure_cookies",
        "a setting Datasette does not have",
    ),
    (
        "/-/settings.json",
        "/session_ttl_hours",
        "a setting Datasette does not have",
    ),
    (
        "/-/settings.json",
        "/plugin_fetch_timeout_ms",
        "a setting Datasette does not have",
    ),
    (
        "/-/settings.json",
        "/trust_forwarded_headers",
        "a setting Datasette does not have",
    ),
    // Datasette shows protected tables and queries in /-/metadata.json to everyone.
    (
        "/-/metadata.json",
        "/databases/fixture/tables/secrets",
        "hidden from actors who may not see it",
    ),
    (
        "/-/metadata.json",
        "/databases/fixture/queries/root_only",
        "hidden from actors who may not see it",
    ),
];

fn remove_pointer(v: &mut Value, pointer: &str) {
    let (parent, key) = pointer.rsplit_once('/').expect("pointer");
    if let Some(Value::Object(m)) = v.pointer_mut(parent) {
        m.remove(key);
    }
}

#[test]
fn every_golden_response_matches() {
    let server = TestApp::new().fixture_only().start();
    let golden: Vec<Value> = serde_json::from_str(include_str!("golden/responses.json")).unwrap();
    assert_eq!(golden.len(), 32);
    let mut failures = Vec::new();
    for entry in &golden {
        let path = entry["path"].as_str().unwrap();
        let r = server.get(path);
        let want_status = entry["status"].as_u64().unwrap() as u16;
        if r.status != want_status {
            failures.push(format!(
                "{path}: status {} != {want_status}: {}",
                r.status, r.body
            ));
            continue;
        }
        let want_type = entry["content_type"].as_str().unwrap();
        if r.content_type != want_type {
            failures.push(format!(
                "{path}: content type {} != {want_type}",
                r.content_type
            ));
        }
        let (mut ours, mut theirs) = match &entry["body"] {
            Value::String(text) if path.contains("_nl=on") => {
                let lines = |s: &str| {
                    Value::Array(
                        s.lines()
                            .map(|l| serde_json::from_str(l).unwrap())
                            .collect(),
                    )
                };
                (lines(&r.body), lines(text))
            }
            Value::String(text) => {
                if r.body != *text {
                    failures.push(format!("{path}: body {:?} != {:?}", r.body, text));
                }
                continue;
            }
            body => (r.json(), body.clone()),
        };
        normalise(&mut ours, &server.base);
        normalise(&mut theirs, "http://127.0.0.1:8001");
        for (p, pointer, _why) in DIFFERENCES.iter().filter(|(p, _, _)| *p == path) {
            let _ = p;
            remove_pointer(&mut ours, pointer);
            remove_pointer(&mut theirs, pointer);
        }
        if ours != theirs {
            failures.push(format!("{path}:\n  ours:   {ours}\n  theirs: {theirs}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of 32 differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn error_json_has_datasettes_shape() {
    let server = TestApp::new().start();
    for path in [
        "/nope.json",
        "/fixture/nope.json",
        "/fixture/stations.json?_sort=nope",
        "/fixture/stations/999.json",
    ] {
        let r = server.get(path);
        let v = r.json();
        assert_eq!(v["ok"], false, "{path}");
        assert_eq!(v["status"], r.status, "{path}");
        assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "{path}");
        assert!(v.get("title").is_some(), "{path}");
    }
}
