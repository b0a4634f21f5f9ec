//! A client written for Datasette's JSON API works unchanged: every response Datasette 0.65.5
//! gave on its fixture (tests/golden/responses.json) is compared with ours, value by value.
//! The few places where we differ on purpose are named below, each with its reason.

use serde_json::Value;
use testkit::TestApp;

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
        "/max_answer_mb",
        "a setting Datasette does not have",
    ),
    (
        "/-/settings.json",
        "/answers_memory_mb",
        "a setting Datasette does not have",
    ),
    (
        "/-/settings.json",
        "/writer_foreign_keys",
        "a setting Datasette does not have",
    ),
    (
        "/-/settings.json",
        "/max_queued_writes",
        "a setting Datasette does not have",
    ),
    (
        "/-/settings.json",
        "/plugin_votes_cache_ms",
        "a setting Datasette does not have",
    ),
    (
        "/-/settings.json",
        "/read_hold_ms",
        "a setting Datasette does not have",
    ),
    (
        "/-/settings.json",
        "/max_post_body_bytes",
        "a Datasette 1.0 setting (the write API), not in 0.65",
    ),
    (
        "/-/settings.json",
        "/max_insert_rows",
        "a Datasette 1.0 setting (the write API), not in 0.65",
    ),
    (
        "/-/settings.json",
        "/allow_signed_tokens",
        "a Datasette 1.0 setting (the write API), not in 0.65",
    ),
    (
        "/-/settings.json",
        "/max_signed_tokens_ttl",
        "a Datasette 1.0 setting (the write API), not in 0.65",
    ),
    // A file's size grows with its protected tables too: shown only to actors who may see
    // everything in it, and the fixture protects a table from visitors.
    (
        "/-/databases.json",
        "/0/size",
        "a file's size is shown only to who may see all of it",
    ),
    (
        "/fixture.json",
        "/size",
        "a file's size is shown only to who may see all of it",
    ),
    (
        "/-/settings.json",
        "/trust_forwarded_headers",
        "a setting Datasette does not have",
    ),
    (
        "/fixture/big_cities.json?_search=hafen&_fts_table=cities_fts&_fts_pk=id&_size=3",
        "/query/sql",
        "no double space in generated SQL",
    ),
    // Parentheses in generated SQL.
    (
        "/fixture/stations.json?_where=id+%3E+10&_col=name",
        "/query/sql",
        "a _where clause is parenthesised",
    ),
    (
        "/fixture/stations.json?_size=5&_shape=arrays&_next=10",
        "/query/sql",
        "no doubled parentheses in generated SQL",
    ),
    // The SQL around a `_where` differs (ours is parenthesised), so SQLite's message does.
    (
        "/fixture/stations.json?_where=id+%3E",
        "/error",
        "SQLite's message names another token",
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

/// Datasette answers these with a 500; a request's own mistake is a 400 here (DESIGN.md §5).
const STATUS_DIFFERENCES: &[(&str, u16, u16)] = &[
    ("/fixture/stations.json?_sort=nope", 500, 400),
    ("/fixture/cities.json?_sort=country", 500, 400),
];

/// Compares each recorded answer with ours: status, content type, the `Link` and `Location`
/// headers, and the body value by value (less the [`DIFFERENCES`]). One line per mismatch.
fn compare(golden: &[Value]) -> Vec<String> {
    let server = TestApp::new().fixture_only().start();
    let mut failures = Vec::new();
    for entry in golden {
        let path = entry["path"].as_str().unwrap();
        let r = server.get(path);
        let recorded = entry["status"].as_u64().unwrap() as u16;
        let want_status = STATUS_DIFFERENCES
            .iter()
            .find(|(p, theirs, _)| *p == path && *theirs == recorded)
            .map_or(recorded, |(_, _, ours)| *ours);
        if r.status != want_status {
            failures.push(format!(
                "{path}: status {} != {want_status}: {}",
                r.status, r.body
            ));
            continue;
        }
        // Headers where they were recorded (not in responses.json).
        for (header, recorded) in entry["headers"].as_object().into_iter().flatten() {
            let want = recorded
                .as_str()
                .map(|v| v.replace("http://127.0.0.1:8001", &server.base));
            if r.header(header) != want.as_deref() {
                failures.push(format!(
                    "{path}: {header} {:?} != {want:?}",
                    r.header(header)
                ));
            }
        }
        if (300..400).contains(&r.status) {
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
        for (_, pointer, _why) in DIFFERENCES.iter().filter(|(p, _, _)| *p == path) {
            remove_pointer(&mut ours, pointer);
            remove_pointer(&mut theirs, pointer);
        }
        if want_status != recorded {
            remove_pointer(&mut ours, "/status");
            remove_pointer(&mut theirs, "/status");
        }
        if ours != theirs {
            failures.push(format!("{path}:\n  ours:   {ours}\n  theirs: {theirs}"));
        }
    }
    failures
}

#[test]
fn every_golden_response_matches() {
    let golden: Vec<Value> = serde_json::from_str(include_str!("golden/responses.json")).unwrap();
    assert_eq!(golden.len(), 32);
    let failures = compare(&golden);
    assert!(
        failures.is_empty(),
        "{} of 32 differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The answers `tools/record_golden.py` recorded from Datasette 0.65.5 for the parameters and
/// pages added for parity with it.
#[test]
fn every_parity_response_matches() {
    let golden: Vec<Value> = serde_json::from_str(include_str!("golden/parity.json")).unwrap();
    assert!(golden.len() >= 14);
    let failures = compare(&golden);
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        golden.len(),
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

/// Infinities are null in JSON, unless `_json_infinity` asks for JavaScript's `Infinity`
/// (not JSON), as in Datasette: in every shape, tables' `object` included.
#[test]
fn infinity_is_null_unless_json_infinity_asks() {
    let server = TestApp::new().start();
    let sql = "/fixture.json?sql=select+1e999+as+up,+-1e999+as+down,+1.5+as+x&_shape=array";
    assert_eq!(server.get(sql).body, r#"[{"up":null,"down":null,"x":1.5}]"#);
    assert_eq!(
        server.get(&format!("{sql}&_json_infinity=1")).body,
        r#"[{"up":Infinity,"down":-Infinity,"x":1.5}]"#
    );
    let arrays = server.get("/fixture.json?sql=select+1e999+as+up&_json_infinity=on");
    assert!(
        arrays.body.contains(r#""rows":[[Infinity]]"#),
        "{}",
        arrays.body
    );
    let first = "/fixture.json?sql=select+1e999&_shape=arrayfirst&_json_infinity=1";
    assert_eq!(server.get(first).body, "[Infinity]");
    let streamed =
        "/fixture.json?sql=select+-1e999+as+x&_shape=array&_nl=on&_stream=on&_json_infinity=1";
    assert_eq!(server.get(streamed).body.trim(), r#"{"x":-Infinity}"#);
    let object =
        server.get("/fixture/stations.json?_shape=object&_col=name&_size=2&_json_infinity=1");
    assert_eq!(object.status, 200, "{}", object.body);
    assert!(object.json()["1"]["name"].is_string(), "{}", object.body);
}
