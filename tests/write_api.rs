//! Datasette 1.0's JSON write API through the real binary: each endpoint's success, each
//! refusal and each bad input; signed API tokens from the CLI; the configuration file; many
//! writers at once; and "protected" still meaning protected for writers.

use std::process::Command;

use serde_json::{json, Value};
use testkit::{binary, send, serve_binary, Resp, Server, TEST_SECRET};

/// `dogs` (writable by ana), `secrets` (only boss may see it), `audit` (filled by a trigger
/// on `dogs` from `secrets`: hidden as `secrets` is), `strict_t` (a STRICT table).
const SCHEMA: &str = "
    create table dogs (id integer primary key, name text unique, age integer);
    create table secrets (id integer primary key, s text);
    insert into secrets values (1, 'the-hidden-value');
    create table audit (dog text, note text);
    create trigger dogs_audit after insert on dogs begin
        insert into audit select new.name, s from secrets;
    end;
    create table strict_t (n integer) strict;
    create table tags (tag text unique);
";

const CONFIG: &str = "
settings:
  max_insert_rows: 20
permissions:
  insert-row:
    id: [ana, boss]
databases:
  data:
    tables:
      secrets:
        allow:
          id: boss
    permissions:
      update-row: {id: [ana, boss]}
      delete-row: {id: [ana, boss]}
      create-table: {id: [ana, boss]}
      drop-table: {id: [ana, boss]}
      execute-write-sql: {id: [ana, boss]}
";

struct Writes {
    _dir: tempfile::TempDir,
    server: Server,
    path: std::path::PathBuf,
}

fn serve_with(config: &str, extra: &[&str]) -> Writes {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.db");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(SCHEMA)
        .unwrap();
    let config_path = dir.path().join("datasette.yaml");
    std::fs::write(&config_path, config).unwrap();
    let mut args = vec![
        path.to_str().unwrap(),
        "-c",
        config_path.to_str().unwrap(),
        "--secret",
        TEST_SECRET,
    ];
    args.extend_from_slice(extra);
    let server = serve_binary(&args).expect("starts");
    Writes {
        _dir: dir,
        server,
        path,
    }
}

fn serve() -> Writes {
    serve_with(CONFIG, &[])
}

/// `datasette-rs create-token ARGS --secret TEST_SECRET`.
fn token(args: &[&str]) -> String {
    let out = Command::new(binary())
        .arg("create-token")
        .args(args)
        .args(["--secret", TEST_SECRET])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

impl Writes {
    fn post_as(&self, token: &str, path: &str, body: Value) -> Resp {
        self.post_raw(token, path, &body.to_string())
    }

    fn post_raw(&self, token: &str, path: &str, body: &str) -> Resp {
        let auth = format!("Bearer {token}");
        send(
            "POST",
            &format!("{}{path}", self.server.base),
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
            ],
            body,
        )
    }

    fn rows(&self, sql: &str) -> Vec<Vec<Value>> {
        let c = rusqlite::Connection::open(&self.path).unwrap();
        let mut stmt = c.prepare(sql).unwrap();
        let width = stmt.column_count();
        stmt.query_map([], |r| {
            Ok((0..width)
                .map(|i| match r.get_ref(i).unwrap() {
                    rusqlite::types::ValueRef::Integer(n) => json!(n),
                    rusqlite::types::ValueRef::Text(t) => json!(String::from_utf8_lossy(t)),
                    rusqlite::types::ValueRef::Null => Value::Null,
                    other => json!(format!("{other:?}")),
                })
                .collect())
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    }
}

/// A refusal in Datasette's error shape, with `status`, mentioning `text`.
fn refused(r: &Resp, status: u16, text: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    let body = r.json();
    assert_eq!(body["ok"], false, "{}", r.body);
    assert_eq!(body["status"], status, "{}", r.body);
    assert!(
        body["error"].as_str().unwrap().contains(text),
        "{text:?} in {}",
        r.body
    );
    assert!(body["errors"].as_array().is_some_and(|e| !e.is_empty()));
}

#[test]
fn insert_update_upsert_and_delete_rows() {
    let w = serve();
    let ana = token(&["ana"]);
    let r = w.post_as(
        &ana,
        "/data/dogs/-/insert",
        json!({"row": {"name": "Cleo", "age": 5}}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    // One row is answered with the row as stored, as Datasette does.
    assert_eq!(
        r.json(),
        json!({"ok": true, "rows": [{"id": 1, "name": "Cleo", "age": 5}]})
    );
    let r = w.post_as(
        &ana,
        "/data/dogs/-/insert",
        json!({"rows": [{"name": "Pancakes"}, {"name": "Rex", "age": 2}], "return": true}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.json()["rows"],
        json!([{"id": 2, "name": "Pancakes", "age": null}, {"id": 3, "name": "Rex", "age": 2}])
    );
    // The next read sees the rows, and the count.
    let page = w.server.json("/data/dogs.json?_shape=objects");
    assert_eq!(page["rows"].as_array().unwrap().len(), 3);
    let r = w.post_as(
        &ana,
        "/data/dogs/1/-/update",
        json!({"update": {"age": 6}, "return": true}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json()["rows"],
        json!([{"id": 1, "name": "Cleo", "age": 6}])
    );
    let r = w.post_as(
        &ana,
        "/data/dogs/-/upsert",
        json!({"rows": [{"id": 2, "age": 9}, {"id": 10, "name": "Nova"}], "return": true}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json()["rows"],
        json!([{"id": 2, "name": "Pancakes", "age": 9}, {"id": 10, "name": "Nova", "age": null}])
    );
    let r = w.post_raw(&ana, "/data/dogs/3/-/delete", "");
    assert_eq!(
        (r.status, r.json()),
        (200, json!({"ok": true})),
        "{}",
        r.body
    );
    assert_eq!(
        w.rows("select id, name, age from dogs order by id"),
        vec![
            vec![json!(1), json!("Cleo"), json!(6)],
            vec![json!(2), json!("Pancakes"), json!(9)],
            vec![json!(10), json!("Nova"), Value::Null],
        ]
    );
    // `curl -d '{…}'` says it sends a form: JSON all the same.
    let r = send(
        "POST",
        &format!("{}/data/dogs/-/insert", w.server.base),
        &[
            ("Authorization", &format!("Bearer {ana}")),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        r#"{"row": {"name": "via curl"}}"#,
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let r = w.post_raw(&ana, "/data/dogs/11/-/delete", "");
    assert_eq!(r.status, 200, "{}", r.body);
    // BLOBs in Datasette's base64 form.
    let r = w.post_as(
        &ana,
        "/data/-/create",
        json!({"table": "files", "rows": [{"id": 1, "data": {"$base64": true, "encoded": "AAEC"}}], "pk": "id"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        w.rows("select hex(data) from files"),
        vec![vec![json!("000102")]]
    );
}

#[test]
fn bad_input_is_a_clear_400_and_writes_nothing() {
    let w = serve();
    let ana = token(&["ana"]);
    let cases: Vec<(&str, &str, &str)> = vec![
        ("/data/dogs/-/insert", "not json", "Invalid JSON"),
        ("/data/dogs/-/insert", "[1, 2]", "must be a dictionary"),
        (
            "/data/dogs/-/insert",
            r#"{"row": {"colour": "red"}}"#,
            "invalid columns: colour",
        ),
        (
            "/data/dogs/-/insert",
            r#"{"rows": [{"name": "a"}], "nope": 1}"#,
            "Invalid parameter: \"nope\"",
        ),
        (
            "/data/dogs/-/insert",
            r#"{"rows": "x"}"#,
            "list of dictionaries",
        ),
        (
            "/data/dogs/-/insert",
            r#"{"row": {}, "ignore": true, "replace": true}"#,
            "together",
        ),
        (
            "/data/strict_t/-/insert",
            r#"{"row": {"n": "not a number"}}"#,
            "cannot store TEXT",
        ),
        (
            "/data/dogs/-/upsert",
            r#"{"rows": [{"name": "x"}]}"#,
            "missing primary key column(s): \"id\"",
        ),
        (
            "/data/dogs/1/-/update",
            r#"{"update": "x"}"#,
            "must be a dictionary",
        ),
        (
            "/data/-/create",
            r#"{"columns": [{"name": "a"}]}"#,
            "Table is required",
        ),
        (
            "/data/-/create",
            r#"{"table": "t", "columns": [{"name": "a", "type": "money"}]}"#,
            "Unsupported column type",
        ),
        (
            "/data/-/execute-write",
            r#"{"sql": "insert into nowhere values (1)"}"#,
            "no such table: nowhere",
        ),
        (
            "/data/-/execute-write",
            r#"{"sql": "create view v as select 1"}"#,
            "views cannot be used",
        ),
        (
            "/data/-/execute-write",
            r#"{"sql": "insert into strict_t values (:n)"}"#,
            "binding parameter :n",
        ),
    ];
    for (path, body, text) in cases {
        let r = w.post_raw(&ana, path, body);
        refused(&r, 400, text);
    }
    let rows: Vec<Value> = (0..21).map(|i| json!({"name": format!("d{i}")})).collect();
    refused(
        &w.post_as(&ana, "/data/dogs/-/insert", json!({"rows": rows})),
        400,
        "maximum allowed is 20",
    );
    // A constraint failure rolls the whole request back.
    w.post_as(&ana, "/data/tags/-/insert", json!({"row": {"tag": "a"}}));
    let r = w.post_as(
        &ana,
        "/data/tags/-/insert",
        json!({"rows": [{"tag": "b"}, {"tag": "a"}]}),
    );
    refused(&r, 400, "UNIQUE constraint failed: tags.tag");
    assert_eq!(w.rows("select count(*) from tags"), vec![vec![json!(1)]]);
    // Unknown tables and rows.
    refused(
        &w.post_as(&ana, "/data/cats/-/insert", json!({"row": {}})),
        404,
        "Table not found",
    );
    refused(
        &w.post_raw(&ana, "/data/dogs/999/-/delete", ""),
        404,
        "Record not found",
    );
    refused(
        &w.post_as(&ana, "/nope/dogs/-/insert", json!({})),
        404,
        "Database not found",
    );
    // A body past max_post_body_bytes, and a GET.
    let big = format!("{{\"row\": {{\"name\": \"{}\"}}}}", "x".repeat(3 << 20));
    refused(
        &w.post_raw(&ana, "/data/dogs/-/insert", &big),
        413,
        "max_post_body_bytes",
    );
    let r = w.server.get("/data/dogs/-/insert");
    refused(&r, 405, "POST");
    assert_eq!(w.rows("select count(*) from dogs"), vec![vec![json!(0)]]);
}

#[test]
fn nobody_writes_without_a_permission_block_and_root_only_where_none_names_who() {
    let w = serve_with(
        "databases: {data: {tables: {secrets: {allow: false}}}}",
        &[],
    );
    for who in ["ana", "someone"] {
        let r = w.post_as(
            &token(&[who]),
            "/data/dogs/-/insert",
            json!({"row": {"name": "x"}}),
        );
        refused(&r, 403, "Permission denied");
    }
    let anonymous = send(
        "POST",
        &format!("{}/data/dogs/-/insert", w.server.base),
        &[],
        r#"{"row": {"name": "x"}}"#,
    );
    refused(&anonymous, 403, "Permission denied");
    let root = token(&["root"]);
    let r = w.post_as(
        &root,
        "/data/dogs/-/insert",
        json!({"row": {"name": "by root"}}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    // A block that names who may write leaves root out.
    let w = serve();
    let r = w.post_as(
        &token(&["root"]),
        "/data/dogs/-/insert",
        json!({"row": {"name": "x"}}),
    );
    refused(&r, 403, "Permission denied");
}

#[test]
fn immutable_files_refuse_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("frozen.db");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("create table t (x)")
        .unwrap();
    let server = serve_binary(&["-i", path.to_str().unwrap(), "--secret", TEST_SECRET]).unwrap();
    let r = send(
        "POST",
        &format!("{}/frozen/t/-/insert", server.base),
        &[("Authorization", &format!("Bearer {}", token(&["root"])))],
        r#"{"row": {"x": 1}}"#,
    );
    refused(&r, 403, "immutable");
}

#[test]
fn tokens_sign_requests_in_until_they_expire_and_restrictions_hold_for_reads_too() {
    let w = serve();
    let ana = token(&["ana"]);
    let actor = send(
        "GET",
        &format!("{}/-/actor.json", w.server.base),
        &[("Authorization", &format!("Bearer {ana}"))],
        "",
    );
    assert_eq!(actor.json()["actor"]["id"], "ana");
    assert_eq!(actor.json()["actor"]["token"], "dstok");
    // Expired (it lasted no time at all), tampered with, or signed with another secret.
    let expired = token(&["ana", "--expires-after", "0"]);
    let (payload, _) = ana.split_once('.').unwrap();
    for bad in [expired, format!("{payload}.AAAA"), "dstok_x".into()] {
        let r = w.post_as(&bad, "/data/dogs/-/insert", json!({"row": {"name": "x"}}));
        assert_eq!(r.status, 401, "{}", r.body);
        assert_eq!(
            r.header("WWW-Authenticate"),
            Some("Bearer error=\"invalid_token\"")
        );
    }
    // Another shape of bearer token is left to plugins: here, nobody.
    let r = send(
        "GET",
        &format!("{}/-/actor.json", w.server.base),
        &[("Authorization", "Bearer something-else")],
        "",
    );
    assert_eq!(r.json()["actor"], Value::Null);
    // Restricted to inserting into dogs: it may do that and nothing else, reading included.
    let limited = token(&["ana", "--resource", "data", "dogs", "insert-row"]);
    let r = w.post_as(
        &limited,
        "/data/dogs/-/insert",
        json!({"row": {"name": "ok"}}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.json(),
        json!({"ok": true}),
        "no rows back without view-table"
    );
    let r = w.post_as(
        &limited,
        "/data/dogs/-/insert",
        json!({"row": {"name": "again"}, "return": true}),
    );
    refused(&r, 403, "needs view-table");
    let r = w.post_raw(&limited, "/data/dogs/1/-/delete", "");
    refused(&r, 403, "Permission denied");
    // The scheme is matched as HTTP says: without regard to case.
    let lower = send(
        "GET",
        &format!("{}/-/actor.json", w.server.base),
        &[("Authorization", &format!("bearer {ana}"))],
        "",
    );
    assert_eq!(lower.json()["actor"]["id"], "ana");
    let read = send(
        "GET",
        &format!("{}/data/dogs.json", w.server.base),
        &[("Authorization", &format!("Bearer {limited}"))],
        "",
    );
    assert_eq!(read.status, 403, "{}", read.body);
    let reader = token(&["ana", "--all", "view-table"]);
    let read = send(
        "GET",
        &format!("{}/data/dogs.json?_shape=array", w.server.base),
        &[("Authorization", &format!("Bearer {reader}"))],
        "",
    );
    assert_eq!(read.status, 200, "{}", read.body);
    // Tokens off: refused as invalid.
    let off = serve_with(CONFIG, &["--setting", "allow_signed_tokens", "off"]);
    let r = off.post_as(&ana, "/data/dogs/-/insert", json!({"row": {"name": "x"}}));
    assert_eq!(r.status, 401, "{}", r.body);
}

#[test]
fn cookie_writes_must_come_from_this_site() {
    let w = serve();
    let cookie = w.server.cookie_for(&json!({"id": "ana"}));
    let url = format!("{}/data/dogs/-/insert", w.server.base);
    let body = r#"{"row": {"name": "via cookie"}}"#;
    let r = send(
        "POST",
        &url,
        &[("Cookie", &cookie), ("Origin", "https://evil.example")],
        body,
    );
    refused(&r, 403, "Cross-site");
    let r = send(
        "POST",
        &url,
        &[("Cookie", &cookie), ("Sec-Fetch-Site", "cross-site")],
        body,
    );
    refused(&r, 403, "Cross-site");
    // Browsers add cached credentials of their own to cross-site posts: still refused.
    let r = send(
        "POST",
        &url,
        &[
            ("Cookie", &cookie),
            ("Origin", "https://evil.example"),
            ("Authorization", "Basic dXNlcjpwYXNz"),
        ],
        body,
    );
    refused(&r, 403, "Cross-site");
    let own = w.server.base.clone();
    let r = send(
        "POST",
        &url,
        &[
            ("Cookie", &cookie),
            ("Origin", &own),
            ("Sec-Fetch-Site", "same-origin"),
        ],
        body,
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        w.rows("select name from dogs"),
        vec![vec![json!("via cookie")]]
    );
}

#[test]
fn create_and_drop_tables() {
    let w = serve();
    let ana = token(&["ana"]);
    let r = w.post_as(
        &ana,
        "/data/-/create",
        json!({"table": "cats", "columns": [
            {"name": "id", "type": "integer"},
            {"name": "name", "type": "text", "not_null": true, "default": "Untitled"},
            {"name": "born", "type": "text", "default_expr": "current_date"}
        ], "pk": "id"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let body = r.json();
    assert_eq!(body["table"], "cats");
    assert_eq!(body["table_url"], format!("{}/data/cats", w.server.base));
    assert!(body["schema"]
        .as_str()
        .unwrap()
        .contains("\"id\" INTEGER PRIMARY KEY"));
    // The schema moved at once: the new table has its page.
    assert_eq!(w.server.get("/data/cats.json").status, 200);
    // Rows into a table that exists go in; a list of columns for it is refused.
    let r = w.post_as(
        &ana,
        "/data/-/create",
        json!({"table": "cats", "rows": [{"name": "Tom"}]}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let r = w.post_as(
        &ana,
        "/data/-/create",
        json!({"table": "cats", "columns": [{"name": "x"}]}),
    );
    refused(&r, 400, "Table already exists: cats");
    // A hidden table's name is taken: that much is said, nothing of what it holds.
    let r = w.post_as(
        &ana,
        "/data/-/create",
        json!({"table": "secrets", "rows": [{"s": "mine"}]}),
    );
    refused(&r, 400, "Table already exists: secrets");
    assert!(!r.body.contains("hidden-value"));
    assert_eq!(w.rows("select count(*) from secrets"), vec![vec![json!(1)]]);
    // Drop: a preview first.
    let r = w.post_as(&ana, "/data/cats/-/drop", json!({}));
    assert_eq!(r.json()["row_count"], 1, "{}", r.body);
    assert_eq!(w.server.get("/data/cats.json").status, 200);
    let r = w.post_as(&ana, "/data/cats/-/drop", json!({"confirm": true}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(w.server.get("/data/cats.json").status, 404);
    // A hidden table is answered as one that does not exist.
    let r = w.post_as(&ana, "/data/secrets/-/drop", json!({"confirm": true}));
    refused(&r, 404, "Table not found");
    let r = w.post_as(&ana, "/data/secrets/-/insert", json!({"row": {"s": "x"}}));
    refused(&r, 404, "Table not found");
    let r = w.post_raw(&ana, "/data/secrets/1/-/delete", "");
    refused(&r, 404, "Table not found");
    assert_eq!(w.rows("select count(*) from secrets"), vec![vec![json!(1)]]);
}

#[test]
fn execute_write_needs_each_permission_and_reads_nothing_hidden() {
    let w = serve();
    let ana = token(&["ana"]);
    let r = w.post_as(
        &ana,
        "/data/-/execute-write",
        json!({"sql": "insert into dogs (name) values (:n) returning id, name", "params": {"n": "Cleo"}}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let body = r.json();
    assert_eq!(body["rowcount"], 1);
    assert_eq!(body["rows"], json!([{"id": 1, "name": "Cleo"}]));
    assert_eq!(body["message"], "Query executed, 1 row affected");
    // Reading a hidden table, in any part of the statement, answers as for a missing one.
    for sql in [
        "insert into dogs (name) select s from secrets",
        "insert into dogs (name) values ((select s from secrets)) returning name",
        "update dogs set name = (select s from secrets where id = 1)",
        "with x as (select s from secrets) insert into dogs (name) select s from x",
        "insert into dogs (name) values ('a') returning (select s from secrets)",
        "delete from secrets",
        "drop table secrets",
        "insert into audit values ('x', 'y')",
        // SQLite's own errors would describe the hidden table: its columns, its kind.
        "insert into secrets values (1)",
        "insert into secrets (zzz) values (1)",
        "insert into dogs (name) select zzz from secrets",
        // A CTE named after a trigger does not pass for the trigger.
        "with dogs_audit as (select s from secrets) insert into dogs (name) select s from dogs_audit",
        // Comments and odd parameters do not hide a name from the check: SQLite reads it.
        "insert into dogs (name) /* ' */ with dogs_audit as (select s from secrets) select s from dogs_audit /* ' */ returning name",
        "insert into /* ' */ secrets values (1) -- '",
        "insert into dogs (name) /* ' */ select zzz from secrets /* ' */",
        "insert into dogs (name) select count(*) from secrets",
        "insert into dogs (name) select 1 from \"main\".[secrets]",
    ] {
        let r = w.post_as(&ana, "/data/-/execute-write", json!({"sql": sql}));
        assert_eq!(r.status, 400, "{sql}: {}", r.body);
        assert!(r.body.contains("no such table"), "{sql}: {}", r.body);
        assert!(!r.body.contains("hidden-value"), "{sql}: {}", r.body);
    }
    assert_eq!(w.rows("select count(*) from secrets"), vec![vec![json!(1)]]);
    // What describes the file (hidden tables too), what only the shared connection knows,
    // SQLite's own tables, and reads that write nothing are refused.
    for (sql, why) in [
        (
            "insert into dogs (name) select name from pragma_table_info('secrets')",
            "no such table",
        ),
        (
            "insert into dogs (name) select name from dbstat",
            "no such table",
        ),
        (
            "insert into dogs (name) select file from pragma_database_list",
            "no such table",
        ),
        ("insert into dogs (name) values (changes())", "changes()"),
        (
            "insert into dogs (name) values (total_changes())",
            "changes()",
        ),
        (
            "insert into sqlite_sequence values ('secrets', 1000000)",
            "sqlite_sequence",
        ),
        (
            "insert into dogs (name) select name from sqlite_master",
            "cannot be read",
        ),
        ("select 1", "takes SQL that writes"),
        ("create table more (x)", "schema changes"),
        (
            "insert into dogs (name) select count(*) from pragma_table_info('secrets')",
            "no such table",
        ),
        (
            "insert into dogs (name) select 1 from sqlite_master",
            "cannot be read",
        ),
    ] {
        let r = w.post_as(&ana, "/data/-/execute-write", json!({"sql": sql}));
        assert_eq!(r.status, 400, "{sql}: {}", r.body);
        assert!(r.body.contains(why), "{sql}: {}", r.body);
    }
    // A token for execute-write-sql alone may not insert: each part needs its permission.
    let only_sql = token(&["ana", "--all", "execute-write-sql"]);
    let r = w.post_as(
        &only_sql,
        "/data/-/execute-write",
        json!({"sql": "insert into dogs (name) values ('x')"}),
    );
    refused(&r, 403, "need insert-row");
    // The database's trigger ran (it copies from secrets into audit), and nothing of it came
    // back; audit, filled from secrets, stays hidden after the writes.
    assert_eq!(
        w.rows("select note from audit"),
        vec![vec![json!("the-hidden-value")]]
    );
    let cookie = w.server.cookie_for(&json!({"id": "ana"}));
    let audit = w
        .server
        .request("GET", "/data/audit.json", &[("Cookie", &cookie)]);
    assert_eq!(audit.status, 403, "{}", audit.body);
    let listing = w
        .server
        .request("GET", "/data.json", &[("Cookie", &cookie)]);
    assert!(!listing.body.contains("\"audit\""), "{}", listing.body);
}

#[test]
fn a_failure_inside_a_trigger_reading_hidden_data_is_one_generic_answer() {
    let config = format!("{CONFIG}\n");
    let w = serve_with(&config, &[]);
    let c = rusqlite::Connection::open(&w.path).unwrap();
    c.execute_batch(
        "create table guarded (name text);
         create trigger guard before insert on guarded begin
             select raise(abort, 'matches ' || (select s from secrets)) where new.name = 'probe';
         end;",
    )
    .unwrap();
    drop(c);
    let ana = token(&["ana"]);
    testkit::eventually("the new table to be seen", || {
        w.server.get("/data/guarded.json").status != 404
    });
    let r = w.post_as(
        &ana,
        "/data/guarded/-/insert",
        json!({"row": {"name": "probe"}}),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(!r.body.contains("hidden-value"), "{}", r.body);
    assert!(r.body.contains("data this actor may not see"), "{}", r.body);
}

#[test]
fn eight_writers_at_once_all_succeed_and_the_count_is_exact() {
    let w = std::sync::Arc::new(serve());
    let ana = token(&["ana"]);
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let (w, ana) = (w.clone(), ana.clone());
            std::thread::spawn(move || {
                for i in 0..25 {
                    let rows: Vec<Value> = (0..4)
                        .map(|j| json!({"name": format!("{t}-{i}-{j}")}))
                        .collect();
                    let r = w.post_as(&ana, "/data/dogs/-/insert", json!({"rows": rows}));
                    assert_eq!(r.status, 201, "{}", r.body);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(w.rows("select count(*) from dogs"), vec![vec![json!(800)]]);
    let page = w.server.json("/data/dogs.json?_size=1");
    assert_eq!(
        page["filtered_table_rows_count"], 800,
        "the page's count moved with the writes"
    );
}

/// Writes waiting for the writer are bounded (`max_queued_writes`): past that a write is a 503
/// with `Retry-After` at once, nothing of it written, and writes are taken again as the queue
/// drains.
#[test]
fn a_full_write_queue_refuses_at_once_with_retry_after() {
    let w = std::sync::Arc::new(serve_with(
        CONFIG,
        &[
            "--setting",
            "max_queued_writes",
            "1",
            "--setting",
            "sql_time_limit_ms",
            "20000",
        ],
    ));
    let ana = token(&["ana"]);
    let slow = {
        let (w, ana) = (w.clone(), ana.clone());
        std::thread::spawn(move || {
            let sql = "insert into tags values ((with recursive c(x) as (select 1 union all \
                       select x + 1 from c where x < 6000000) select count(*) from c))";
            w.post_as(&ana, "/data/-/execute-write", json!({"sql": sql}))
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(300));
    let r = w.post_as(
        &ana,
        "/data/dogs/-/insert",
        json!({"row": {"name": "queued"}}),
    );
    refused(
        &r,
        503,
        "as many writes as this database queues are waiting",
    );
    assert_eq!(r.header("Retry-After"), Some("1"), "{:?}", r.headers);
    let first = slow.join().unwrap();
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(w.rows("select tag from tags"), vec![vec![json!("6000000")]]);
    assert_eq!(
        w.rows("select count(*) from dogs where name = 'queued'"),
        vec![vec![json!(0)]]
    );
    let r = w.post_as(
        &ana,
        "/data/dogs/-/insert",
        json!({"row": {"name": "later"}}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
}

#[test]
fn a_bad_configuration_file_stops_start_up_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("create table t (x)")
        .unwrap();
    let bad = dir.path().join("datasette.yaml");
    std::fs::write(&bad, "settings: [unclosed").unwrap();
    let e = serve_binary(&[db.to_str().unwrap(), "-c", bad.to_str().unwrap()])
        .err()
        .expect("refused");
    assert!(e.stderr.contains("datasette.yaml"), "{}", e.stderr);
    std::fs::write(&bad, "settings:\n  max_insert_rows: lots\n").unwrap();
    let e = serve_binary(&[db.to_str().unwrap(), "-c", bad.to_str().unwrap()])
        .err()
        .expect("refused");
    assert!(e.stderr.contains("max_insert_rows"), "{}", e.stderr);
    // JSON works as well, and metadata.yaml for -m.
    let json_config = dir.path().join("datasette.json");
    std::fs::write(
        &json_config,
        r#"{"settings": {"max_insert_rows": 3}, "title": "From JSON"}"#,
    )
    .unwrap();
    let meta = dir.path().join("metadata.yaml");
    std::fs::write(&meta, "description: From YAML\n").unwrap();
    let server = serve_binary(&[
        db.to_str().unwrap(),
        "-c",
        json_config.to_str().unwrap(),
        "-m",
        meta.to_str().unwrap(),
    ])
    .unwrap();
    assert_eq!(server.json("/-/settings.json")["max_insert_rows"], 3);
    let metadata = server.json("/-/metadata.json");
    assert_eq!(metadata["title"], "From JSON");
    assert_eq!(metadata["description"], "From YAML");
}

#[test]
fn execute_write_counts_its_own_rows_only() {
    // Nothing is hidden here: schema changes are allowed, and their count is not another's.
    let w = serve_with(
        "permissions: {insert-row: {id: ana}, create-table: {id: ana}, alter-table: {id: ana}, execute-write-sql: {id: ana}}",
        &[],
    );
    let ana = token(&["ana"]);
    let r = w.post_as(
        &ana,
        "/data/-/execute-write",
        json!({"sql": "insert into tags (tag) select value from json_each('[\"a\",\"b\",\"c\"]')"}),
    );
    assert_eq!(r.json()["rowcount"], 3, "{}", r.body);
    for sql in [
        "alter table tags add column z",
        "create table q as select 1 as one where 0",
    ] {
        let r = w.post_as(&ana, "/data/-/execute-write", json!({"sql": sql}));
        assert_eq!(r.status, 200, "{sql}: {}", r.body);
        assert_eq!(r.json()["rowcount"], 0, "{sql}: {}", r.body);
    }
}

#[test]
fn pages_offer_forms_to_who_may_write_and_the_forms_write_without_javascript() {
    let w = serve();
    let cookie = w.server.cookie_for(&json!({"id": "ana"}));
    let own = w.server.base.clone();
    let as_ana = |path: &str| w.server.request("GET", path, &[("Cookie", &cookie)]);
    let form = |path: &str, body: &str, origin: &str| {
        send(
            "POST",
            &format!("{}{path}", w.server.base),
            &[
                ("Cookie", &cookie),
                ("Origin", origin),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            body,
        )
    };
    assert!(as_ana("/data/dogs").body.contains("Insert a row"));
    assert!(as_ana("/data").body.contains("Create a table"));
    assert!(!w.server.get("/data/dogs").body.contains("Insert a row"));
    assert!(!w.server.get("/data").body.contains("Create a table"));
    // Insert, edit, delete: each a redirect with a message on the next page.
    let r = form("/data/dogs/-/insert", "column.name=Cleo&column.age=5", &own);
    assert_eq!(r.status, 302, "{}", r.body);
    assert_eq!(
        w.rows("select id, name, age from dogs"),
        vec![vec![json!(1), json!("Cleo"), json!(5)]]
    );
    let row = as_ana("/data/dogs/1");
    assert!(row.body.contains("Edit this row"), "{}", row.body);
    assert!(row.body.contains("value=\"Cleo\""), "{}", row.body);
    let r = form(
        "/data/dogs/1/-/update",
        "column.name=Cleopatra&column.age=",
        &own,
    );
    assert_eq!(r.status, 302, "{}", r.body);
    assert_eq!(
        w.rows("select name, age from dogs"),
        vec![vec![json!("Cleopatra"), Value::Null]]
    );
    // The message waits in the session the answer set.
    let next = |r: &Resp| {
        let session = r.cookie().expect("the session, with its message");
        let path = r
            .header("Location")
            .unwrap()
            .trim_start_matches(&own)
            .to_string();
        w.server.request("GET", &path, &[("Cookie", &session)])
    };
    assert!(next(&r).body.contains("Row updated"));
    // A failure comes back as a message too, and writes nothing.
    let r = form("/data/dogs/-/insert", "column.colour=red", &own);
    assert_eq!(r.status, 302);
    let back = next(&r);
    assert!(
        back.body.contains("invalid columns: colour"),
        "{}",
        back.body
    );
    // Another site's page cannot post a form.
    let r = form("/data/dogs/1/-/delete", "", "https://evil.example");
    assert_eq!(r.status, 403, "{}", r.body);
    let r = form("/data/dogs/1/-/delete", "", &own);
    assert_eq!(r.status, 302);
    assert_eq!(w.rows("select count(*) from dogs"), vec![vec![json!(0)]]);
    let r = form(
        "/data/-/create",
        "table=notes&columns=id+integer%0D%0Abody+text&pk=id",
        &own,
    );
    assert_eq!(r.status, 302, "{}", r.body);
    assert!(r.header("Location").unwrap().ends_with("/data/notes"));
    assert_eq!(w.server.get("/data/notes.json").status, 200);
}

#[test]
fn signed_in_actors_make_their_own_tokens_on_a_page() {
    let w = serve();
    let cookie = w.server.cookie_for(&json!({"id": "ana"}));
    let page = w
        .server
        .request("GET", "/-/create-token", &[("Cookie", &cookie)]);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<strong>ana</strong>"), "{}", page.body);
    assert_eq!(w.server.get("/-/create-token").status, 403);
    let make = |body: &str, origin: &str| {
        send(
            "POST",
            &format!("{}/-/create-token", w.server.base),
            &[
                ("Cookie", &cookie),
                ("Origin", origin),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            body,
        )
    };
    assert_eq!(make("", "https://evil.example").status, 403);
    let r = make(
        "expire_type=hours&expire_duration=2&all=insert-row",
        &w.server.base,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("Cache-Control"), Some("private, no-store"));
    let token = r
        .body
        .split("value=\"dstok_")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(|t| format!("dstok_{t}"))
        .expect("a token on the page");
    let inserted = w.post_as(
        &token,
        "/data/dogs/-/insert",
        json!({"row": {"name": "by page token"}}),
    );
    assert_eq!(inserted.status, 201, "{}", inserted.body);
    // Restricted to insert-row: it reads nothing, and makes no tokens of its own.
    let read = send(
        "GET",
        &format!("{}/data/dogs.json", w.server.base),
        &[("Authorization", &format!("Bearer {token}"))],
        "",
    );
    assert_eq!(read.status, 403);
    let again = send(
        "GET",
        &format!("{}/-/create-token", w.server.base),
        &[("Authorization", &format!("Bearer {token}"))],
        "",
    );
    assert_eq!(again.status, 403, "{}", again.body);
}

#[test]
fn a_write_lock_held_by_another_process_is_a_503_after_a_bounded_wait() {
    let w = serve();
    let ana = token(&["ana"]);
    let other = rusqlite::Connection::open(&w.path).unwrap();
    other.execute_batch("begin immediate").unwrap();
    let started = std::time::Instant::now();
    let r = w.post_as(&ana, "/data/tags/-/insert", json!({"row": {"tag": "x"}}));
    refused(&r, 503, "locked");
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    // Readers were not blocked meanwhile, and the write goes through once the lock is gone.
    assert_eq!(w.server.get("/data/tags.json").status, 200);
    other.execute_batch("rollback").unwrap();
    let r = w.post_as(&ana, "/data/tags/-/insert", json!({"row": {"tag": "x"}}));
    assert_eq!(r.status, 201, "{}", r.body);
}

#[test]
fn a_table_another_process_makes_is_hidden_from_writers_at_once() {
    // payroll does not exist yet: its allow block waits for it.
    let config = CONFIG.replace(
        "      secrets:\n",
        "      payroll:\n        allow:\n          id: boss\n      secrets:\n",
    );
    assert!(config.contains("payroll"));
    let w = serve_with(&config, &[]);
    let ana = token(&["ana"]);
    // The server has just looked at the schema: the new table comes within its second.
    assert_eq!(w.server.get("/data.json").status, 200);
    rusqlite::Connection::open(&w.path)
        .unwrap()
        .execute_batch(
            "create table payroll (name, salary); insert into payroll values ('ceo', 999999);",
        )
        .unwrap();
    let r = w.post_as(
        &ana,
        "/data/-/execute-write",
        json!({"sql": "insert into tags (tag) select name from payroll returning tag"}),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(!r.body.contains("ceo"), "{}", r.body);
    assert!(r.body.contains("no such table: payroll"), "{}", r.body);
    // Functions that run SQL of their own on a name are refused as the read side refuses them.
    let r = w.post_as(
        &ana,
        "/data/-/execute-write",
        json!({"sql": "insert into tags (tag) values (rtreecheck('secrets'))"}),
    );
    refused(&r, 400, "rtreecheck()");
    // A page's expiry past any sense is a 400, not a failed worker.
    let cookie = w.server.cookie_for(&json!({"id": "ana"}));
    let r = send(
        "POST",
        &format!("{}/-/create-token", w.server.base),
        &[
            ("Cookie", &cookie),
            ("Origin", &w.server.base),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        "expire_duration=99999999999999999&expire_type=days",
    );
    assert_eq!(r.status, 400, "{}", r.body);
}
