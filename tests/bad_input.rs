//! Bad input gets a 4xx that says what was wrong, never a 5xx, and the server keeps serving.

use testkit::{Server, TestApp};

fn server() -> &'static Server {
    static S: std::sync::OnceLock<Server> = std::sync::OnceLock::new();
    S.get_or_init(|| TestApp::new().setting("sql_time_limit_ms", "300").start())
}

/// (path, status, a fragment of the error message)
const CASES: &[(&str, u16, &str)] = &[
    ("/nope.json", 404, "Database not found"),
    ("/fixture/nope.json", 404, "Table not found"),
    ("/fixture/stations/999.json", 404, "Record not found"),
    ("/fixture/measurements/1.json", 404, "Record not found"),
    (
        "/fixture/stations.json?_size=-1",
        400,
        "_size must be a positive integer",
    ),
    (
        "/fixture/stations.json?_size=abc",
        400,
        "_size must be a positive integer",
    ),
    (
        "/fixture/stations.json?_size=1e9",
        400,
        "_size must be a positive integer",
    ),
    (
        "/fixture/stations.json?_size=1001",
        400,
        "_size must be <= 1000",
    ),
    (
        "/fixture/stations.json?_sort=nope",
        400,
        "Cannot sort table by nope",
    ),
    (
        "/fixture/cities.json?_sort=tags",
        400,
        "Cannot sort table by tags",
    ),
    (
        "/fixture/stations.json?_sort=id&_sort_desc=id",
        400,
        "Cannot use _sort and _sort_desc",
    ),
    (
        "/fixture/stations.json?_next=garbage,1",
        400,
        "Invalid _next token",
    ),
    (
        "/fixture/measurements.json?_next=1",
        400,
        "Invalid _next token",
    ),
    (
        "/fixture/big_cities.json?_next=18446744073709551615",
        400,
        "Invalid _next token",
    ),
    (
        "/fixture/big_cities.json?_next=x",
        400,
        "Invalid _next token",
    ),
    (
        "/fixture/stations.json?_next=~FF",
        400,
        "Invalid _next token",
    ),
    ("/fixture/stations.json?nope=1", 400, "no such column"),
    (
        "/fixture/stations.json?name__bogus=1",
        400,
        "Unknown filter operator 'bogus'",
    ),
    (
        "/fixture/stations.json?_shape=nope",
        400,
        "Invalid _shape: nope",
    ),
    (
        "/fixture.json?sql=select+*+from+nope",
        400,
        "no such table: nope",
    ),
    ("/fixture.json?sql=select+(", 400, "incomplete input"),
    ("/fixture.json?sql=select+from", 400, "syntax error"),
    (
        "/fixture/stations.json?_search=x",
        400,
        "Full-text search is not available",
    ),
    (
        "/fixture/stations.json?_facet=nope",
        400,
        "Cannot facet on nope",
    ),
    ("/fixture/stations.json?_col=nope", 400, "invalid column"),
    (
        "/fixture/stations.json?_facet_size=lots",
        400,
        "_facet_size",
    ),
    (
        "/fixture.json?sql=select+1&_shape=object",
        400,
        "only available on tables",
    ),
    (
        "/fixture/stations.json?_where=nope+%3D+1",
        400,
        "no such column: nope",
    ),
    ("/-/nope.json", 404, "Page not found"),
    ("/a/b/c/d.json", 404, "Page not found"),
    ("/fixture/stations/~FF.json", 400, "tilde-encoding"),
    ("/%FF.json", 400, "not valid UTF-8"),
    // Answers too large to build in memory.
    // Names starting with `_` are never bound in SQL from the request: not from the page's
    // own options, and magic parameters are canned queries' alone.
    (
        "/fixture.json?sql=select+:_size&_size=1",
        400,
        "You did not supply a value for binding parameter :_size",
    ),
    (
        "/fixture.json?sql=select+zeroblob(1000000000)",
        400,
        "larger than 16 MiB, the most one answer may hold",
    ),
    (
        "/fixture.json?sql=with+recursive+c(x)+as+(select+1+union+all+select+x%2B1+from+c+limit+1000)+select+zeroblob(100000)+from+c",
        400,
        "more than 16 MiB",
    ),
    (
        "/fixture.json?sql=select+printf(%27%25.*c%27,1000000000,%27x%27)",
        400,
        "larger than 16 MiB",
    ),
];

#[test]
fn each_bad_request_is_a_clear_4xx() {
    let s = server();
    for (path, status, fragment) in CASES {
        let r = s.get(path);
        assert_eq!(r.status, *status, "{path}: {}", r.body);
        let v = r.json();
        let msg = v["error"].as_str().unwrap_or_default();
        assert!(msg.contains(fragment), "{path}: {msg:?} lacks {fragment:?}");
        // The same error as an HTML page without the extension.
        if let Some(html_path) = path.strip_suffix(".json").map(str::to_string).or_else(|| {
            path.contains(".json?")
                .then(|| path.replacen(".json?", "?", 1))
        }) {
            let h = s.get(&html_path);
            assert_eq!(h.status, *status, "{html_path}");
            assert!(
                h.content_type.starts_with("text/html"),
                "{html_path}: {}",
                h.content_type
            );
        }
    }
    assert_eq!(s.get("/fixture/stations.json").status, 200);
}

/// Numbers too large for what they count are bounded, not overflowed.
#[test]
fn huge_numbers_are_bounded() {
    let r = server().get("/fixture/stations.json?_facet=name&_facet_size=18446744073709551615");
    assert_eq!(r.status, 200, "{}", r.body);
    let r = server().get("/fixture/stations.json?_facet=name&_facet_size=18446744073709551616");
    assert_eq!(r.status, 400, "{}", r.body);
}

/// SQL that is not a read: (sql, message fragment).
const REFUSED: &[(&str, &str)] = &[
    (
        "insert into stations (name) values ('x')",
        "Statement must be a SELECT",
    ),
    (
        "update stations set name = 'x'",
        "Statement must be a SELECT",
    ),
    ("delete from stations", "Statement must be a SELECT"),
    ("drop table stations", "Statement must be a SELECT"),
    ("create table t (x)", "Statement must be a SELECT"),
    (
        "attach database '/tmp/x.db' as x",
        "Statement must be a SELECT",
    ),
    (
        "pragma user_version = 5",
        "PRAGMA user_version cannot be set",
    ),
    (
        "pragma cache_size = 100000",
        "PRAGMA cache_size cannot be set",
    ),
    ("pragma journal_mode = delete", "not allowed"),
    ("pragma writable_schema = 1", "not allowed"),
    ("select load_extension('/tmp/evil')", "load_extension"),
    ("vacuum into '/tmp/copy.db'", "Statement must be a SELECT"),
    ("begin", "Statement must be a SELECT"),
    (".schema", "Statement must be a SELECT"),
];

#[test]
fn sql_that_writes_is_refused() {
    let s = server();
    for (sql, fragment) in REFUSED {
        let r = s.get(&format!(
            "/fixture.json?sql={}",
            datasette_rs::urls::quote_plus(sql)
        ));
        assert_eq!(r.status, 400, "{sql}: {}", r.body);
        let v = r.json();
        assert_eq!(v["ok"], false);
        let msg = v["error"].as_str().unwrap();
        assert!(msg.contains(fragment), "{sql}: {msg:?} lacks {fragment:?}");
    }
    assert!(!std::path::Path::new("/tmp/copy.db").exists());
    // Read-only pragmas still work.
    let v = s.json("/fixture.json?sql=select+*+from+pragma_table_info(%27stations%27)");
    assert_eq!(v["rows"].as_array().unwrap().len(), 3);
    let v = s.json("/fixture.json?sql=PRAGMA+cache_size&_shape=arrays");
    assert_eq!(v["rows"], serde_json::json!([[-512]]), "{v}");
    // The stations table is untouched.
    assert_eq!(
        s.json("/fixture/stations.json")["filtered_table_rows_count"],
        12
    );
}

#[test]
fn a_runaway_query_is_interrupted_and_the_server_stays_up() {
    let s = server();
    let sql =
        "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c";
    let started = std::time::Instant::now();
    let r = s.get(&format!(
        "/fixture.json?sql={}",
        datasette_rs::urls::quote_plus(sql)
    ));
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.json()["error"].as_str().unwrap().contains("interrupted"),
        "{}",
        r.body
    );
    // Generous bound: the limit is 300 ms; this only catches a query that was never stopped.
    assert!(started.elapsed().as_secs() < 20);
    assert_eq!(s.get("/fixture/stations.json").status, 200);
}

/// Datasette's `_timelimit=MS` lowers the SQL time limit for one request, never raises it.
#[test]
fn timelimit_lowers_the_limit_for_one_request() {
    let s = server();
    let sql = datasette_rs::urls::quote_plus(
        "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c",
    );
    let interrupted_after = |timelimit: &str| -> u64 {
        let r = s.get(&format!("/fixture.json?sql={sql}&_timelimit={timelimit}"));
        assert_eq!(r.status, 400, "{}", r.body);
        let error = r.json()["error"].as_str().unwrap().to_string();
        let ms = error.trim_end_matches(" ms").rsplit(' ').next().unwrap();
        ms.parse().unwrap_or_else(|_| panic!("{error}"))
    };
    // The server's limit is 300 ms: asked for 20, the query stops long before it.
    assert!(interrupted_after("20") < 250);
    // Asked for more than the server allows, it still stops (at about 300 ms, not 100 s).
    assert!(interrupted_after("100000") >= 300);
    for bad in ["abc", "0", "-5"] {
        let r = s.get(&format!("/fixture/stations.json?_timelimit={bad}"));
        assert_eq!(r.status, 400, "{bad}");
        assert!(
            r.json()["error"].as_str().unwrap().contains("_timelimit"),
            "{bad}"
        );
    }
    assert_eq!(s.get("/fixture/stations.json?_timelimit=50").status, 200);
}

#[test]
fn quotes_and_brackets_in_names_and_values() {
    let s = server();
    for path in [
        "/fixture/stations.json?name=%27%3B+drop+table+stations%3B+--",
        "/fixture/stations.json?name__in=%5B%22a%22%2C%22b%5D",
        "/fixture/stations.json?_search=%22",
        "/sample/odd+names.json",
        "/sample/odd+names/x~2Ey.json",
        "/sample/odd+names/a~2Fb~2Cc.json",
        "/sample/odd+names.json?_sort=with+space",
        "/sample/odd+names.json?%3Cb%3Ehtml%3C~2Fb%3E=1",
    ] {
        let r = s.get(path);
        assert!(r.status < 500, "{path}: {} {}", r.status, r.body);
    }
    assert_eq!(s.json("/sample/odd+names/x~2Ey.json")["rows"][0][1], "a b");
    assert_eq!(
        s.json("/sample/odd+names/a~2Fb~2Cc.json")["primary_key_values"][0],
        "a/b,c"
    );
    assert_eq!(
        s.json("/fixture/stations.json")["filtered_table_rows_count"],
        12
    );
}

#[test]
fn other_methods_are_405() {
    let s = server();
    let r = ureq::post(&format!("{}/fixture/stations.json", s.base))
        .config()
        .http_status_as_error(false)
        .build()
        .send("x")
        .unwrap();
    assert_eq!(r.status().as_u16(), 405);
    for method in ["PUT", "DELETE", "PATCH"] {
        let r = s.request(method, "/fixture/stations.json", &[]);
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(r.header("allow"), Some("GET, HEAD"), "{method}");
    }
    // OPTIONS answers as Datasette does, and grants no cross-origin access.
    let r = s.request(
        "OPTIONS",
        "/fixture",
        &[("Origin", "https://elsewhere.example")],
    );
    assert_eq!((r.status, r.body.as_str()), (200, "ok"));
    assert_eq!(r.header("access-control-allow-origin"), None);
    // Only its data pages take OPTIONS.
    for path in ["/", "/-/metadata"] {
        let r = s.request("OPTIONS", path, &[]);
        assert_eq!(
            (r.status, r.body.as_str()),
            (405, "Method not allowed"),
            "{path}"
        );
    }
}

#[test]
fn overlong_paths_and_query_strings_are_refused() {
    let s = server();
    let long_name = "a".repeat(20_000);
    let r = s.get(&format!("/{long_name}.json"));
    assert_eq!(r.status, 404, "{}", &r.body[..r.body.len().min(200)]);
    for query in ["b".repeat(60_000), "x=1&".repeat(14_000)] {
        let r = s.get(&format!("/fixture/stations.json?name={query}"));
        assert_eq!(r.status, 414);
        assert!(r.body.contains("longer than 32 KiB"), "{}", &r.body[..200]);
    }
    let r = s.get(&format!("/{}", "a".repeat(40_000)));
    assert_eq!(r.status, 414);
    // Long, but within the limit: an ordinary answer.
    let r = s.get(&format!(
        "/fixture/stations.json?name={}",
        "b".repeat(20_000)
    ));
    assert_eq!(r.status, 200);
    assert_eq!(s.get("/fixture/stations.json").status, 200, "still serving");
}

#[test]
fn a_path_starting_with_two_slashes_never_redirects_off_site() {
    for prefix in ["//", "///"] {
        let path = format!(
            "{prefix}fixture/stations?_filter_column=name&_filter_op=contains&_filter_value=o"
        );
        let r = server().get(&path);
        assert_eq!(r.status, 302, "{path}");
        assert_eq!(
            r.header("location"),
            Some("/fixture/stations?name__contains=o"),
            "{path}"
        );
    }
}

#[test]
fn forwarded_headers_count_only_when_the_setting_trusts_them() {
    let headers = [
        ("X-Forwarded-Host", "evil.example"),
        ("X-Forwarded-Proto", "https"),
    ];
    let path = "/fixture/stations.json?_size=1";
    let next_url = |s: &Server| {
        let page = s.request("GET", path, &headers).json();
        page["next_url"].as_str().expect("a next page").to_string()
    };
    let untrusted = next_url(server());
    assert!(
        untrusted.starts_with(&format!("{}/", server().base)),
        "{untrusted}"
    );
    let proxied = TestApp::new()
        .setting("trust_forwarded_headers", "on")
        .start();
    let trusted = next_url(&proxied);
    assert!(
        trusted.starts_with("https://evil.example/fixture/"),
        "{trusted}"
    );
}
