//! The in-memory database `_memory` (`--memory`), and cross-database SQL there (`--crossdb`):
//! a file is read there only by an actor from whom nothing in it is hidden.

use serde_json::{json, Value};
use testkit::{fixture, serve_binary, Server, TestApp};

fn sql(server: &Server, cookie: &str, sql: &str) -> (u16, Value) {
    let path = format!(
        "/_memory.json?_shape=array&sql={}",
        datasette_rs::urls::quote_plus(sql)
    );
    let r = server.request("GET", &path, &[("Cookie", cookie)]);
    let body = serde_json::from_str(&r.body).unwrap_or(Value::Null);
    (r.status, body)
}

#[test]
fn crossdb_reads_only_the_files_an_actor_sees_whole() {
    let server = TestApp::new().crossdb().start();
    let root = server.cookie_for(&json!({"id": "root"}));
    // The sample has nothing hidden: anyone reads it from _memory, joined with nothing else.
    let (status, rows) = sql(&server, "", "select count(*) as n from sample.cities");
    assert_eq!(status, 200, "{rows}");
    assert!(rows[0]["n"].as_i64().unwrap() > 0);
    // The fixture hides `secrets` from all but root: for anyone else it is not attached at
    // all, so not even its public tables are read through _memory (nor its schema).
    for query in [
        "select count(*) from fixture.secrets",
        "select count(*) from fixture.stations",
        "select name from fixture.sqlite_master",
    ] {
        let (status, body) = sql(&server, "", query);
        assert_eq!(status, 400, "{query}: {body}");
        assert!(
            body["error"].as_str().unwrap().contains("no such table"),
            "{query}: {body}"
        );
    }
    let (status, rows) = sql(&server, &root, "select count(*) as n from fixture.secrets");
    assert_eq!(status, 200, "{rows}");
    // What root's request attached is gone for the next visitor on the same connections.
    for _ in 0..4 {
        let (status, _) = sql(&server, "", "select count(*) from fixture.secrets");
        assert_eq!(status, 400);
    }
    // The file a visitor may read whole is there; the one with a protected table is not.
    let (status, _) = sql(&server, "", "select count(*) from sample.cities");
    assert_eq!(status, 200);
    // SQL cannot attach anything itself.
    let (status, body) = sql(&server, &root, "attach database 'x.db' as x");
    assert_eq!(status, 400, "{body}");
}

#[test]
fn memory_and_crossdb_options_serve_memory_and_redirect_its_old_name() {
    let f = fixture();
    let server = serve_binary(&["--memory", f.sample_db.to_str().unwrap()]).expect("starts");
    let v = server.json("/_memory.json?sql=select+1+as+one&_shape=array");
    assert_eq!(v, json!([{"one": 1}]));
    // Without --crossdb the files are not there.
    let r = server.get("/_memory.json?sql=select+*+from+sample.cities");
    assert_eq!(r.status, 400, "{}", r.body);
    let databases = server.json("/-/databases.json");
    let memory = &databases.as_array().unwrap()[0];
    assert_eq!(memory["name"], "_memory", "{databases}");
    assert_eq!(memory["is_memory"], true);
    assert_eq!(memory["path"], Value::Null);
    assert_eq!(server.get("/_memory.db").status, 403);
    let r = server.request("GET", "/:memory:.json?sql=select+1", &[]);
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), Some("/_memory.json?sql=select+1"));

    let server = serve_binary(&["--crossdb", f.sample_db.to_str().unwrap()]).expect("starts");
    let v = server.json("/_memory.json?sql=select+count(*)+as+n+from+sample.cities&_shape=array");
    assert!(v[0]["n"].as_i64().unwrap() > 0, "{v}");
    // With no file and --memory, only _memory: no sample database.
    let server = serve_binary(&["--memory"]).expect("starts");
    let names: Vec<Value> = server
        .json("/-/databases.json")
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].clone())
        .collect();
    assert_eq!(names, [json!("_memory")]);
}

/// SQLite's schema names ignore case: of two files named `sample` and `Sample`, the first is
/// attached and SQL on _memory still runs.
#[test]
fn files_whose_names_differ_in_case_only_are_attached_once() {
    let dir = tempfile::tempdir().unwrap();
    let twin = dir.path().join("Sample.db");
    std::fs::copy(&fixture().sample_db, &twin).unwrap();
    let file = |path: &std::path::Path| datasette_rs::app::DatabaseFile {
        path: path.to_path_buf(),
        immutable: false,
    };
    let server = TestApp::new()
        .files(vec![file(&fixture().sample_db), file(&twin)])
        .crossdb()
        .start();
    let (status, counted) = sql(&server, "", "select count(*) as n from sample.cities");
    assert_eq!(status, 200, "{counted}");
    assert!(counted[0]["n"].as_i64().unwrap() > 0, "{counted}");
}
