//! Counts, facets and facet suggestions are cached per file: a change to the file must show at
//! once.

use datasette_rs::app::DatabaseFile;
use serde_json::{json, Value};
use testkit::TestApp;

fn suggested(page: &Value) -> Vec<String> {
    page["suggested_facets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_changed_file_is_counted_and_suggested_afresh() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "create table t (id integer primary key, kind text, size integer);
         insert into t (kind, size) values ('a', 1), ('a', 2), ('b', 3), ('b', 4);",
    )
    .unwrap();
    let server = TestApp::new()
        .files(vec![DatabaseFile {
            path: path.clone(),
            immutable: false,
        }])
        .metadata(json!({}))
        .start();
    for _ in 0..2 {
        let page = server.json("/live/t.json");
        assert_eq!(page["filtered_table_rows_count"], 4);
        assert_eq!(suggested(&page), ["kind"]);
        let filtered = server.json("/live/t.json?kind=a");
        assert_eq!(filtered["filtered_table_rows_count"], 2);
    }
    // Sizes start to repeat: `size` becomes worth faceting on; counts change.
    conn.execute_batch("insert into t (kind, size) values ('a', 1), ('a', 2), ('c', 1);")
        .unwrap();
    drop(conn);
    let page = server.json("/live/t.json");
    assert_eq!(page["filtered_table_rows_count"], 7);
    assert_eq!(suggested(&page), ["kind", "size"]);
    assert_eq!(
        server.json("/live/t.json?kind=a")["filtered_table_rows_count"],
        4
    );
    assert_eq!(server.json("/live.json")["tables"][0]["count"], 7);
}

fn facet(page: &Value, column: &str) -> Vec<(String, i64)> {
    page["facet_results"][column]["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no facet on {column}: {page}"))
        .iter()
        .map(|r| {
            (
                r["value"].as_str().unwrap().to_string(),
                r["count"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// A repeated facet is answered from the cache; a write to the file by another process is
/// counted at once.
#[test]
fn a_cached_facet_is_recounted_after_a_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = live_db(
        &dir,
        "create table t (id integer primary key, kind text);
         insert into t (kind) values ('a'), ('a'), ('b');",
    );
    let server = serve_live(&path, false);
    let two = vec![("a".to_string(), 2), ("b".to_string(), 1)];
    for _ in 0..3 {
        assert_eq!(facet(&server.json("/live/t.json?_facet=kind"), "kind"), two);
        assert_eq!(
            facet(&server.json("/live/t.json?_facet=kind&kind=b"), "kind"),
            [("b".to_string(), 1)]
        );
    }
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("insert into t (kind) values ('b'), ('b'), ('c');")
        .unwrap();
    assert_eq!(
        facet(&server.json("/live/t.json?_facet=kind"), "kind"),
        [
            ("b".to_string(), 3),
            ("a".to_string(), 2),
            ("c".to_string(), 1)
        ]
    );
    assert_eq!(
        facet(&server.json("/live/t.json?_facet=kind&kind=b"), "kind"),
        [("b".to_string(), 3)]
    );
}

/// A facet past `facet_time_limit_ms` is left out of the page, and counted in the background
/// for the pages after.
#[test]
fn a_slow_facet_is_finished_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let path = live_db(
        &dir,
        "create view slow as with recursive c(x) as
           (select 1 union all select x + 1 from c where x < 3000000) select x % 3 as k from c;",
    );
    let server = live_app(&path, false)
        .setting("facet_time_limit_ms", "1")
        .start();
    let first = server.json("/live/slow.json?_size=1&_facet=k");
    assert!(first["facet_results"].get("k").is_none(), "{first}");
    let mut page = first;
    for _ in 0..600 {
        page = server.json("/live/slow.json?_size=1&_facet=k");
        if page["facet_results"].get("k").is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let counts: Vec<i64> = page["facet_results"]["k"]["results"]
        .as_array()
        .unwrap_or_else(|| panic!("never counted: {page}"))
        .iter()
        .map(|r| r["count"].as_i64().unwrap())
        .collect();
    assert_eq!(counts, [1_000_000, 1_000_000, 1_000_000]);
}

/// A facet that runs out of time says on the page that it is being counted, and offers the
/// index that would help to an actor who could create it (root here), not to others.
#[test]
fn a_facet_counted_in_the_background_says_so_and_suggests_its_index() {
    let dir = tempfile::tempdir().unwrap();
    let path = live_db(
        &dir,
        "create table items (id integer primary key, category text);
         insert into items (category)
           with recursive c(x) as (select 1 union all select x + 1 from c where x < 300000)
           select 'c' || (x % 20) from c;",
    );
    let server = live_app(&path, false)
        .setting("facet_time_limit_ms", "1")
        .start();
    let page = server.get("/live/items?_facet=category&_facet_size=3").body;
    assert!(
        page.contains("Still counting in the background: <strong>category</strong>"),
        "{page}"
    );
    assert!(!page.contains("create index"));
    let root = server.cookie_for(&json!({"id": "root"}));
    let page = server
        .request(
            "GET",
            "/live/items?_facet=category&_facet_size=4",
            &[("Cookie", root.as_str())],
        )
        .body;
    assert!(
        page.contains("<code>create index idx_items_category on items(category)</code>"),
        "{page}"
    );
}

/// `live.db` in `dir`, made by `sql`.
fn live_db(dir: &tempfile::TempDir, sql: &str) -> std::path::PathBuf {
    let path = dir.path().join("live.db");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(sql)
        .unwrap();
    path
}

fn live_file(dir: &tempfile::TempDir) -> std::path::PathBuf {
    live_db(
        dir,
        "create table t (id integer primary key, v); insert into t (v) values (1);",
    )
}

fn serve_live(path: &std::path::Path, immutable: bool) -> testkit::Server {
    live_app(path, immutable).start()
}

fn live_app(path: &std::path::Path, immutable: bool) -> TestApp {
    TestApp::new()
        .files(vec![DatabaseFile {
            path: path.to_path_buf(),
            immutable,
        }])
        .metadata(json!({}))
        .secret(Some(testkit::TEST_SECRET))
}

/// A client holding a page is answered `304` without the database being read: here the
/// file is locked against every reader, and the page itself cannot be served.
#[test]
fn an_unchanged_page_is_answered_304_before_any_sql_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = live_file(&dir);
    let server = serve_live(&path, false);
    let first = server.get("/live/t.json");
    let etag = first.header("etag").expect("an ETag").to_string();
    assert!(etag.starts_with("W/\"") && etag.len() == 36, "{etag}");
    assert_eq!(
        server.get("/live/t.json").header("etag"),
        Some(etag.as_str())
    );
    let locker = rusqlite::Connection::open(&path).unwrap();
    locker.execute_batch("begin exclusive").unwrap();
    let cached = server.request("GET", "/live/t.json", &[("If-None-Match", &etag)]);
    assert_eq!(cached.status, 304);
    assert!(cached.body.is_empty());
    assert_eq!(cached.header("etag"), Some(etag.as_str()));
    let strong = etag.trim_start_matches("W/");
    let listed = format!("\"other\", {strong}");
    assert_eq!(
        server
            .request("GET", "/live/t.json", &[("If-None-Match", &listed)])
            .status,
        304
    );
    assert_ne!(server.get("/live/t.json").status, 200, "the file is locked");
    locker.execute_batch("rollback").unwrap();
}

#[test]
fn the_etag_changes_with_the_file_the_url_and_the_actor() {
    let dir = tempfile::tempdir().unwrap();
    let path = live_file(&dir);
    let server = serve_live(&path, false);
    let etag = |path: &str, headers: &[(&str, &str)]| {
        let r = server.request("GET", path, headers);
        assert_eq!(r.status, 200, "{path}");
        r.header("etag").unwrap().to_string()
    };
    let first = etag("/live/t.json", &[]);
    assert_ne!(etag("/live/t.json?_size=1", &[]), first);
    assert_ne!(etag("/live/t", &[]), first);
    let cookie = server.cookie_for(&json!({"id": "ana"}));
    let ana = etag("/live/t.json", &[("Cookie", &cookie)]);
    assert_ne!(ana, first);
    let stale = server.request("GET", "/live/t.json", &[("If-None-Match", &first)]);
    assert_eq!(stale.status, 304);
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("insert into t (v) values (2);")
        .unwrap();
    let fresh = server.request("GET", "/live/t.json", &[("If-None-Match", &first)]);
    assert_eq!(fresh.status, 200, "a changed file is served afresh");
    assert_eq!(fresh.json()["rows"].as_array().unwrap().len(), 2);
    assert_ne!(fresh.header("etag"), Some(first.as_str()));
}

/// A page about one database is tagged by that file alone, with a plugin that recognises
/// actors loaded too: a write to another file leaves its tag (and a client's copy) as it was.
#[test]
fn a_write_to_another_file_leaves_a_pages_tag_with_an_actor_plugin_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let path = live_file(&dir);
    let other = testkit::sqlite_file(dir.path(), "other", "create table o (x);");
    let metadata = dir.path().join("metadata.json");
    let tokens = json!({"plugins": {"datasette-auth-tokens": {"tokens": [
        {"token": "tok-0123456789abcdef", "actor": {"id": "bot"}}
    ]}}});
    std::fs::write(&metadata, tokens.to_string()).unwrap();
    let args = [
        path.to_str().unwrap(),
        &other,
        "-m",
        metadata.to_str().unwrap(),
    ];
    let server = testkit::serve_binary(&args).expect("starts");
    assert!(server
        .json("/-/plugins.json")
        .to_string()
        .contains("auth-tokens"));
    let etag = || {
        server
            .get("/live/t.json")
            .header("etag")
            .unwrap()
            .to_string()
    };
    let first = etag();
    // A row larger than a page: the file grows, whatever the clock's grain.
    let grow = |file: &str, table: &str| {
        rusqlite::Connection::open(file)
            .unwrap()
            .execute(&format!("insert into {table} values (zeroblob(65536))"), [])
            .unwrap();
    };
    grow(&other, "o (x)");
    assert_eq!(etag(), first);
    grow(path.to_str().unwrap(), "t (v)");
    assert_ne!(etag(), first);
}

#[test]
fn cache_control_follows_the_ttl_the_actor_and_immutability() {
    let dir = tempfile::tempdir().unwrap();
    let path = live_file(&dir);
    let server = serve_live(&path, false);
    let cc = |path: &str, headers: &[(&str, &str)]| {
        let r = server.request("GET", path, headers);
        r.header("cache-control").map(str::to_string)
    };
    assert_eq!(cc("/live/t.json", &[]).as_deref(), Some("max-age=5"));
    assert_eq!(
        cc("/live/t.json?_ttl=60", &[]).as_deref(),
        Some("max-age=60")
    );
    assert_eq!(cc("/live/t.json?_ttl=0", &[]).as_deref(), Some("no-cache"));
    assert_eq!(cc("/live/t.json?_ttl=x", &[]).as_deref(), Some("max-age=5"));
    let cookie = server.cookie_for(&json!({"id": "ana"}));
    assert_eq!(
        cc("/live/t.json", &[("Cookie", &cookie)]).as_deref(),
        Some("private, max-age=5")
    );
    assert_eq!(cc("/live/nowhere.json", &[]), None, "no caching of errors");
    let vary = server.get("/live/t.json");
    assert_eq!(vary.header("vary"), Some("Cookie, Authorization"));
    let frozen = serve_live(&path, true);
    let r = frozen.get("/live/t.json");
    assert_eq!(r.header("cache-control"), Some("max-age=86400"));
}

/// A count longer than the page waits for is shown as Datasette shows one it gave up on, and
/// filled in from the cache once the background count is done.
#[test]
fn a_slow_count_is_finished_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let path = live_db(
        &dir,
        "create view slow as with recursive c(x) as
           (select 1 union all select x + 1 from c where x < 2000000) select x from c;",
    );
    let server = serve_live(&path, false);
    let first = server.json("/live/slow.json?_size=1");
    assert_eq!(first["filtered_table_rows_count"], Value::Null);
    assert_eq!(first["rows"], json!([[1]]));
    assert!(server.get("/live/slow").body.contains("Many rows"));
    let mut count = Value::Null;
    for _ in 0..600 {
        count = server.json("/live/slow.json?_size=1")["filtered_table_rows_count"].clone();
        if !count.is_null() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(count, 2_000_000);
    assert!(server.get("/live/slow").body.contains("2,000,000 rows"));
}
