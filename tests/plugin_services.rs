//! The host's services for plugins that write and work in the background (`Host::execute_write`,
//! `Host::insert_rows`, `Host::write_as`, `Host::databases`, `Host::sign`, the `ready` hook),
//! and routes with captures, through the real binary and the test plugin.

use serde_json::{json, Value};
use testkit::{eventually, serve_binary, Resp, Server};

const HOOKS: &str = "datasette-test-hooks";

const DATA: &str = "
    create table items (id integer primary key, name text);
    insert into items (name) values ('first');
    create table secrets (id integer primary key, s text);
    insert into secrets values (1, 'the-hidden-value');
";

struct Site {
    _dir: tempfile::TempDir,
    server: Server,
}

/// `data` (mutable, its `secrets` table for boss only), `ro` (immutable) and `private` (for
/// boss only); writer may insert rows and run SQL that writes; the hooks plugin configured
/// with `hooks`.
fn serve(hooks: Value) -> Site {
    let dir = tempfile::tempdir().unwrap();
    let make = |name: &str, sql: &str| testkit::sqlite_file(dir.path(), name, sql);
    let data = make("data", DATA);
    let ro = make("ro", "create table t (n integer);");
    let private = make("private", "create table t (n integer);");
    let metadata = json!({
        "permissions": {
            "insert-row": {"id": ["writer", "boss"]},
            "execute-write-sql": {"id": ["writer", "boss"]},
            "create-table": {"id": ["writer", "boss"]}
        },
        "databases": {
            "data": {"tables": {"secrets": {"allow": {"id": "boss"}}}},
            "private": {"allow": {"id": "boss"}}
        },
        "plugins": {HOOKS: hooks}
    });
    let metadata_path = dir.path().join("metadata.json");
    std::fs::write(&metadata_path, metadata.to_string()).unwrap();
    let server = serve_binary(&[
        &data,
        &private,
        "-i",
        &ro,
        "-m",
        metadata_path.to_str().unwrap(),
        "--secret",
        testkit::TEST_SECRET,
    ])
    .expect("starts");
    Site { _dir: dir, server }
}

fn encode(s: &str) -> String {
    datasette_plugin_api::urlencoded::encode(s)
}

impl Site {
    /// The plugin's write: SQL, as itself or (with `actor`) as that actor.
    fn write_sql(&self, db: &str, sql: &str, actor: Option<Value>) -> Resp {
        let mut path = format!("/-/hooks/write?db={db}&sql={}", encode(sql));
        if let Some(actor) = actor {
            path.push_str(&format!("&as={}", encode(&actor.to_string())));
        }
        self.server.get(&path)
    }

    fn insert(&self, table: &str, rows: Value, extra: &str, actor: Option<Value>) -> Resp {
        let mut path = format!(
            "/-/hooks/write?db=data&table={table}&rows={}{extra}",
            encode(&rows.to_string())
        );
        if let Some(actor) = actor {
            path.push_str(&format!("&as={}", encode(&actor.to_string())));
        }
        self.server.get(&path)
    }

    /// The rows of a query on `data`, as root would read them.
    fn rows(&self, sql: &str) -> Vec<Value> {
        let r = self
            .server
            .get(&format!("/data.json?_shape=array&sql={}", encode(sql)));
        assert_eq!(r.status, 200, "{}", r.body);
        r.json().as_array().unwrap().clone()
    }
}

fn error(r: &Resp) -> String {
    assert_eq!(r.status, 400, "{}", r.body);
    r.json()["error"].as_str().unwrap_or_default().to_string()
}

#[test]
fn a_plugin_writes_as_itself_and_the_pages_see_it_at_once() {
    let site = serve(json!({}));
    let before = site.server.json("/data/items.json")["rows"].clone();
    assert_eq!(before.as_array().unwrap().len(), 1);
    let r = site.write_sql("data", "insert into items (name) values ('second')", None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["rows_affected"], 1);
    assert_eq!(
        site.rows("select name from items order by id"),
        [json!({"name": "first"}), json!({"name": "second"})]
    );
    // As itself, the plugin may write to a table no visitor may see.
    let r = site.write_sql("data", "update secrets set s = 'changed'", None);
    assert_eq!(r.json()["rows_affected"], 1, "{}", r.body);
    // RETURNING rows come back as objects.
    let r = site.write_sql(
        "data",
        "insert into items (name) values ('third') returning id, name",
        None,
    );
    assert_eq!(r.json()["rows"], json!([{"id": 3, "name": "third"}]));
}

#[test]
fn insert_rows_makes_a_table_with_inferred_types_then_adds_to_it() {
    let site = serve(json!({}));
    let rows = json!([
        {"id": 1, "score": 2.5, "label": "a"},
        {"id": 2, "score": 3, "label": "b"}
    ]);
    let r = site.insert("imported", rows, "&create=1&pk=id", None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["rows_affected"], 2);
    let columns = site.rows("select name, type, pk from pragma_table_info('imported')");
    assert_eq!(
        columns,
        [
            json!({"name": "id", "type": "INTEGER", "pk": 1}),
            json!({"name": "score", "type": "REAL", "pk": 0}),
            json!({"name": "label", "type": "TEXT", "pk": 0})
        ]
    );
    let r = site.insert(
        "imported",
        json!([{"id": 3, "score": 1, "label": "c"}]),
        "",
        None,
    );
    assert_eq!(r.json()["rows_affected"], 1, "{}", r.body);
    assert_eq!(
        site.rows("select count(*) as n from imported"),
        [json!({"n": 3})]
    );
    // Without `create`, a table that does not exist is an error, and nothing is made.
    let e = error(&site.insert("missing", json!([{"a": 1}]), "", None));
    assert!(e.contains("Table not found"), "{e}");
    // A row the table cannot take fails the whole call: nothing of it is written.
    let bad = json!([{"id": 4, "score": 1, "label": "d"}, {"id": 4, "score": 2, "label": "e"}]);
    let e = error(&site.insert("imported", bad, "", None));
    assert!(e.to_lowercase().contains("unique"), "{e}");
    assert_eq!(
        site.rows("select count(*) as n from imported"),
        [json!({"n": 3})]
    );
}

#[test]
fn writing_as_an_actor_keeps_their_permissions_and_what_is_hidden_from_them() {
    let site = serve(json!({}));
    let writer = Some(json!({"id": "writer"}));
    let r = site.write_sql(
        "data",
        "insert into items (name) values ('by writer')",
        writer.clone(),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = site.insert(
        "items",
        json!([{"name": "rows by writer"}]),
        "",
        writer.clone(),
    );
    assert_eq!(r.status, 200, "{}", r.body);

    let nobody = Some(json!({"id": "nobody"}));
    let e = error(&site.write_sql(
        "data",
        "insert into items (name) values ('x')",
        nobody.clone(),
    ));
    assert!(e.contains("Permission denied"), "{e}");
    let e = error(&site.insert("items", json!([{"name": "x"}]), "", nobody));
    assert!(e.contains("Permission denied"), "{e}");
    let e = error(&site.insert("items", json!([{"name": "x"}]), "", Some(Value::Null)));
    assert!(e.contains("Permission denied"), "anonymous: {e}");

    // A table hidden from the writer does not exist for them, to write or to read from.
    let e = error(&site.insert("secrets", json!([{"s": "x"}]), "", writer.clone()));
    assert!(e.contains("Table not found"), "{e}");
    let e = error(&site.write_sql(
        "data",
        "insert into items (name) select s from secrets",
        writer.clone(),
    ));
    assert!(!e.contains("the-hidden-value"), "{e}");
    let e = error(&site.write_sql("private", "insert into t values (1)", writer));
    assert!(
        e.contains("Permission denied") || e.contains("not found"),
        "{e}"
    );
    assert_eq!(
        site.rows("select count(*) as n from items where name = 'x' or name like 'the-%'"),
        [json!({"n": 0})]
    );
}

#[test]
fn immutable_files_refuse_plugin_writes_and_blocking_services_are_refused_inline() {
    let site = serve(json!({}));
    let e = error(&site.write_sql("ro", "insert into t values (1)", None));
    assert!(e.contains("immutable"), "{e}");
    let e = error(&site.write_sql("nope", "insert into t values (1)", None));
    assert!(e.contains("Database not found"), "{e}");

    // actor_from_request runs inline on a request: a write there would hold a worker.
    let r = site
        .server
        .request("GET", "/-/actor.json", &[("x-hooks-write-inline", "1")]);
    let error = r.json()["actor"]["error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        error.contains("only allowed in handle(), ready() and the plugin's own threads, not in actor_from_request()"),
        "{}",
        r.body
    );
    assert_eq!(
        site.rows("select count(*) as n from items"),
        [json!({"n": 1})]
    );
}

#[test]
fn ready_runs_once_the_server_serves_and_its_threads_write_and_log_under_its_name() {
    let site = serve(json!({"ready_write": {
        "db": "data",
        "sql": "insert into items (name) values ('from ready')"
    }}));
    eventually("the ready hook's thread wrote its row", || {
        site.rows("select count(*) as n from items where name = 'from ready'") == [json!({"n": 1})]
    });
    eventually("its thread logged under the plugin's name", || {
        site.server
            .log()
            .lines()
            .any(|l| l.contains("ready_write wrote 1 rows") && l.contains(HOOKS))
    });
    // And counted under its name.
    let root = site.server.cookie_for(&json!({"id": "root"}));
    let metrics = site
        .server
        .request("GET", "/-/metrics", &[("cookie", &root)]);
    let line = format!(
        "datasette_plugin_service_calls_total{{plugin=\"{HOOKS}\",service=\"execute_write\"}} 1"
    );
    assert!(metrics.body.contains(&line), "{}", metrics.body);
}

#[test]
fn databases_are_all_for_the_plugin_and_those_visible_for_an_actor() {
    let site = serve(json!({}));
    let all = site.server.json("/-/hooks/databases");
    assert_eq!(
        all,
        json!([
            {"name": "data", "is_mutable": true, "is_memory": false},
            {"name": "private", "is_mutable": true, "is_memory": false},
            {"name": "ro", "is_mutable": false, "is_memory": false}
        ])
    );
    let names = |actor: Value| -> Vec<String> {
        let path = format!("/-/hooks/databases?as={}", encode(&actor.to_string()));
        site.server
            .json(&path)
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(Value::Null), ["data", "ro"]);
    assert_eq!(names(json!({"id": "boss"})), ["data", "private", "ro"]);
}

#[test]
fn signed_values_come_back_intact_only_in_their_namespace() {
    let site = serve(json!({}));
    let r = site.server.json("/-/hooks/sign?value=hello");
    assert_eq!(r["back"]["ok"], json!({"v": "hello"}));
    assert!(r["tampered"]["error"].is_string(), "{r}");
    assert!(r["other_namespace"]["error"].is_string(), "{r}");
    assert!(
        !r["signed"].as_str().unwrap().contains("hello"),
        "base64, not plain: {r}"
    );
}

#[test]
fn routes_capture_segments_and_answer_only_their_methods() {
    let site = serve(json!({}));
    let r = site.server.get("/-/hooks/item/a%20b/x/y%3Fz");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json(), json!({"name": "a b", "rest": "x/y?z"}));
    let r = site.server.request("POST", "/-/hooks/item/a/b", &[]);
    assert_eq!(r.status, 405, "{}", r.body);
    assert_eq!(r.header("allow"), Some("GET"));
    assert_eq!(site.server.get("/-/hooks/item/a").status, 404);
    let listed = site.server.json("/-/plugins.json")[0]["routes"].clone();
    assert!(
        listed
            .as_array()
            .unwrap()
            .contains(&json!("/-/hooks/item/{name}/{rest*}")),
        "{listed}"
    );
}

#[test]
fn a_forbidden_page_a_plugin_answers_is_dressed_in_the_site() {
    let site = serve(json!({"forbidden_page": "Ask the owner"}));
    let r = site.server.get("/data/secrets");
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(
        r.body
            .contains("<p class=\"hooks-forbidden\">Ask the owner: "),
        "{}",
        r.body
    );
    assert!(r.body.contains("<title>Not for you</title>"), "{}", r.body);
    // The site's chrome: its stylesheet and the plugins' additions to every page.
    assert!(r.body.contains("/-/static/app.css"), "{}", r.body);
    assert!(
        r.body.contains("window.hooksView = \"plugin\""),
        "{}",
        r.body
    );
}

#[test]
fn services_called_in_startup_say_where_they_may_be_called() {
    let site = serve(json!({"query_in_startup": true}));
    assert!(
        site.server
            .logged("available once the server is built: in hooks, in ready() and after it, not in startup()"),
        "{}",
        site.server.log()
    );
}
