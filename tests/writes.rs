//! Writable canned queries through the real binary: the form and its CSRF token, the POST,
//! flash messages, JSON answers for API clients, and every refusal writing nothing.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{json, Value};
use testkit::{serve_binary, serve_sql, Resp, Server};

fn metadata() -> Value {
    json!({"databases": {"data": {"queries": {
        "canned_read": {"sql": "select * from names"},
        "add_name": {
            "sql": "insert into names (name) values (:name)",
            "write": true,
            "on_success_redirect": "/data/add_name?success"
        },
        "add_name_specify_id": {
            "sql": "insert into names (rowid, name) values (:rowid, :name)",
            "write": true,
            "on_error_redirect": "/data/add_name_specify_id?error"
        },
        "delete_name": {
            "sql": "delete from names where rowid = :rowid",
            "write": true,
            "on_success_message": "Name deleted",
            "allow": {"id": "root"}
        },
        "log_actor": {
            "sql": "insert into names (name) values (:_actor_id || ' via ' || :_header_host)",
            "write": true
        },
        "add_table": {"sql": "create table extra (x)", "write": true}
    }}}})
}

fn serve(extra: &[&str]) -> (tempfile::TempDir, Server) {
    serve_sql("data", "create table names (name text)", metadata(), extra)
}

fn names(dir: &tempfile::TempDir) -> Vec<String> {
    let path: PathBuf = dir.path().join("data.db");
    let c = rusqlite::Connection::open(path).unwrap();
    let mut stmt = c.prepare("select name from names order by rowid").unwrap();
    let rows = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
    rows.map(Result::unwrap).collect()
}

/// A browser: keeps its cookies, sends `Origin` with its POSTs as browsers do.
struct Browser<'a> {
    server: &'a Server,
    cookies: BTreeMap<String, String>,
}

impl<'a> Browser<'a> {
    fn new(server: &'a Server) -> Self {
        Browser {
            server,
            cookies: BTreeMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        let pairs: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        pairs.join("; ")
    }

    fn keep(&mut self, r: &Resp) {
        for (name, value) in r.set_cookies() {
            self.cookies.insert(name, value);
        }
    }

    fn get(&mut self, path: &str) -> Resp {
        let cookie = self.cookie_header();
        let r = self.server.request("GET", path, &[("Cookie", &cookie)]);
        self.keep(&r);
        r
    }

    fn post(&mut self, path: &str, body: &str) -> Resp {
        let (cookie, origin) = (self.cookie_header(), self.server.base.clone());
        let r = self
            .server
            .post(path, &[("Cookie", &cookie), ("Origin", &origin)], body);
        self.keep(&r);
        r
    }

    /// The CSRF token of the form at `path`.
    fn token(&mut self, path: &str) -> String {
        let page = self.get(path);
        assert_eq!(page.status, 200, "{}", page.body);
        let marker = "<input type=\"hidden\" name=\"csrftoken\" value=\"";
        let start = page.body.find(marker).expect("a token in the form") + marker.len();
        let token = &page.body[start..];
        token[..token.find('"').unwrap()].to_string()
    }
}

fn encode(s: &str) -> String {
    datasette_plugin_api::urlencoded::encode(s)
}

#[test]
fn a_form_post_with_its_token_writes_and_the_next_page_says_so_once() {
    let (dir, server) = serve(&[]);
    let mut browser = Browser::new(&server);
    let form = browser.get("/data/add_name");
    assert_eq!(form.status, 200);
    assert!(form
        .body
        .contains("<form class=\"sql\" method=\"post\" action=\"/data/add_name\">"));
    assert!(form
        .body
        .contains("<input type=\"text\" id=\"qp1\" name=\"name\" value=\"\">"));
    assert_eq!(form.header("cache-control"), Some("private, no-store"));
    assert_eq!(form.header("vary"), Some("Cookie, Authorization"));
    assert_eq!(form.header("etag"), None);
    let set = form.header("set-cookie").unwrap();
    assert!(
        set.starts_with("ds_csrftoken=") && set.contains("HttpOnly"),
        "{set}"
    );
    let token = browser.token("/data/add_name");
    assert_eq!(
        browser.cookies["ds_csrftoken"], token,
        "the cookie is kept, not renewed"
    );
    assert!(names(&dir).is_empty(), "showing the form ran nothing");

    let done = browser.post(
        "/data/add_name",
        &format!("name=Ana+%26+Bo&csrftoken={}", encode(&token)),
    );
    assert_eq!(done.status, 302, "{}", done.body);
    assert_eq!(done.header("location"), Some("/data/add_name?success"));
    assert_eq!(names(&dir), ["Ana & Bo"]);

    let next = browser.get("/data");
    assert!(
        next.body
            .contains("<p class=\"message-info\">Query executed, 1 row affected</p>"),
        "{}",
        next.body
    );
    assert_eq!(next.header("cache-control"), Some("private, no-store"));
    let again = browser.get("/data");
    assert!(
        !again.body.contains("<p class=\"message-info\">"),
        "shown once"
    );
    assert_eq!(
        server.json("/data/names.json?_shape=array"),
        json!([{"rowid": 1, "name": "Ana & Bo"}]),
        "the pages see the write at once"
    );
}

#[test]
fn posts_without_the_token_or_from_another_site_write_nothing() {
    let (dir, server) = serve(&[]);
    let mut browser = Browser::new(&server);
    let token = browser.token("/data/add_name");
    let cookie = browser.cookie_header();
    let forged = "forged-token";
    let attempts: Vec<(Vec<(&str, &str)>, String)> = vec![
        (vec![("Cookie", &cookie)], "name=x".into()),
        (vec![("Cookie", &cookie)], "name=x&csrftoken=wrong".into()),
        // A token of the attacker's own making, in a cookie they managed to set.
        (
            vec![("Cookie", "ds_csrftoken=forged-token")],
            format!("name=x&csrftoken={forged}"),
        ),
        // The right token, but the browser says the form was on another site.
        (
            vec![("Cookie", &cookie), ("Origin", "https://evil.example")],
            format!("name=x&csrftoken={}", encode(&token)),
        ),
        (
            vec![("Cookie", &cookie), ("Sec-Fetch-Site", "cross-site")],
            format!("name=x&csrftoken={}", encode(&token)),
        ),
    ];
    for (headers, body) in attempts {
        let r = server.post("/data/add_name", &headers, &body);
        assert_eq!(r.status, 403, "{headers:?} {body}: {}", r.body);
    }
    assert!(names(&dir).is_empty());
    // A POST to anything but a writable canned query is not allowed.
    for path in ["/data/canned_read", "/data/names", "/data", "/"] {
        assert_eq!(server.post(path, &[], "").status, 405, "{path}");
    }
    // A GET never runs a write, whatever it asks for.
    assert_eq!(server.get("/data/add_name.csv?name=x").status, 400);
    assert_eq!(server.get("/data/add_name.json?name=x").status, 200);
    assert!(names(&dir).is_empty());
}

#[test]
fn api_clients_without_cookies_need_no_token_and_get_json() {
    let (dir, server) = serve(&[]);
    let answer = |r: Resp| {
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.content_type, "application/json; charset=utf-8");
        r.json()
    };
    let ok = json!({"ok": true, "message": "Query executed, 1 row affected",
                    "redirect": "/data/add_name?success"});
    assert_eq!(
        answer(server.post("/data/add_name?_json=1", &[], "name=one")),
        ok
    );
    let accept = [("Accept", "application/json")];
    assert_eq!(
        answer(server.post("/data/add_name", &accept, "name=two")),
        ok
    );
    let json_body = [("Content-Type", "application/json")];
    let body = r#"{"name": "three", "_json": 1}"#;
    assert_eq!(answer(server.post("/data/add_name", &json_body, body)), ok);
    // Without _json, a redirect and no message cookie worth keeping.
    let plain = server.post("/data/add_name", &[], "name=four");
    assert_eq!(plain.status, 302);
    assert_eq!(names(&dir), ["one", "two", "three", "four"]);
    // A failure is ok: false with SQLite's reason.
    let failed = answer(server.post(
        "/data/add_name_specify_id?_json=1",
        &[],
        "rowid=1&name=again",
    ));
    assert_eq!(
        failed,
        json!({"ok": false, "message": "UNIQUE constraint failed: names.rowid",
               "redirect": "/data/add_name_specify_id?error"})
    );
    let missing = answer(server.post("/data/add_name?_json=1", &[], "other=x"));
    assert_eq!(
        missing["message"],
        "You did not supply a value for binding parameter :name."
    );
}

#[test]
fn errors_custom_messages_and_permissions() {
    let (dir, server) = serve(&["--root"]);
    let mut browser = Browser::new(&server);
    let token = browser.token("/data/add_name_specify_id");
    let body = format!("rowid=1&name=first&csrftoken={}", encode(&token));
    assert_eq!(browser.post("/data/add_name_specify_id", &body).status, 302);
    let failed = browser.post("/data/add_name_specify_id", &body);
    assert_eq!(
        failed.header("location"),
        Some("/data/add_name_specify_id?error")
    );
    let page = browser.get("/data/add_name_specify_id?error");
    assert!(page
        .body
        .contains("<p class=\"message-error\">UNIQUE constraint failed: names.rowid</p>"));

    // delete_name is root's: nobody else sees its form or runs it.
    assert_eq!(browser.get("/data/delete_name").status, 403);
    let r = browser.post(
        "/data/delete_name",
        &format!("rowid=1&csrftoken={}", encode(&token)),
    );
    assert_eq!(r.status, 403);
    assert_eq!(server.post("/data/delete_name", &[], "rowid=1").status, 403);
    assert_eq!(names(&dir), ["first"]);
    let root = browser.get(
        server
            .root_url
            .as_deref()
            .unwrap()
            .strip_prefix(&server.base)
            .unwrap(),
    );
    assert_eq!(root.status, 302);
    let token = browser.token("/data/delete_name");
    let deleted = browser.post(
        "/data/delete_name",
        &format!("rowid=1&csrftoken={}", encode(&token)),
    );
    assert_eq!(deleted.status, 302);
    assert_eq!(deleted.header("location"), Some("/data/delete_name"));
    assert!(browser
        .get("/data")
        .body
        .contains("<p class=\"message-info\">Name deleted</p>"));
    assert!(names(&dir).is_empty());
}

#[test]
fn magic_parameters_come_from_the_request_not_the_form() {
    let (dir, server) = serve(&[]);
    let cookie = server.cookie_for(&json!({"id": "ana"}));
    let form = server.request("GET", "/data/log_actor", &[("Cookie", &cookie)]);
    assert!(!form.body.contains("name=\"_actor_id\""), "{}", form.body);
    let r = server.post(
        "/data/log_actor?_json=1",
        &[("Authorization", "Bearer x"), ("Cookie", &cookie)],
        "_actor_id=root&_header_host=evil",
    );
    assert_eq!(r.json()["ok"], true, "{}", r.body);
    let host = server.base.strip_prefix("http://").unwrap();
    assert_eq!(names(&dir), [format!("ana via {host}")]);
}

#[test]
fn a_write_that_changes_the_schema_is_seen_at_once() {
    let (_dir, server) = serve(&[]);
    assert_eq!(server.get("/data/extra.json").status, 404);
    let r = server.post("/data/add_table?_json=1", &[], "");
    assert_eq!(r.json()["ok"], true, "{}", r.body);
    assert_eq!(server.get("/data/extra.json").status, 200);
}

#[test]
fn an_immutable_database_shows_the_form_disabled_and_refuses_the_post() {
    let dir = tempfile::tempdir().unwrap();
    let (db, meta) = (dir.path().join("data.db"), dir.path().join("metadata.json"));
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("create table names (name text)")
        .unwrap();
    std::fs::write(&meta, metadata().to_string()).unwrap();
    let server =
        serve_binary(&["-i", db.to_str().unwrap(), "-m", meta.to_str().unwrap()]).expect("starts");
    let form = server.get("/data/add_name");
    assert_eq!(form.status, 200);
    assert!(form
        .body
        .contains("This query cannot be executed because the database is immutable."));
    assert!(form
        .body
        .contains("<input type=\"submit\" value=\"Run SQL\" disabled>"));
    assert!(!form.body.contains("name=\"csrftoken\""));
    let r = server.post("/data/add_name", &[], "name=x");
    assert_eq!(r.status, 403);
    assert!(r.body.contains("Database is immutable"), "{}", r.body);
    // A browser holding the token's cookie (set as Datasette sets it) meets the same refusal.
    let cookie = form.cookie().expect("the token's cookie");
    assert!(cookie.starts_with("ds_csrftoken="), "{cookie}");
    let token = cookie.trim_start_matches("ds_csrftoken=");
    let r = server.post(
        "/data/add_name",
        &[("Cookie", &cookie)],
        &format!("name=x&csrftoken={}", datasette_rs::urls::quote_plus(token)),
    );
    assert_eq!(r.status, 403);
    assert!(r.body.contains("Database is immutable"), "{}", r.body);
    assert!(names(&dir).is_empty());
}

#[test]
fn a_write_changes_the_pages_etags_at_once() {
    let (_dir, server) = serve(&[]);
    let before = server.get("/data/names.json");
    let etag = before.header("etag").expect("an ETag").to_string();
    for n in 0..3 {
        let r = server.post("/data/add_name?_json=1", &[], &format!("name={n}"));
        assert_eq!(r.json()["ok"], true);
        // Quicker than a file's modification time may tick: the server counts its writes.
        let after = server.request("GET", "/data/names.json", &[("If-None-Match", &etag)]);
        assert_eq!(after.status, 200);
        assert_ne!(after.header("etag"), Some(etag.as_str()));
        assert_eq!(after.json()["rows"].as_array().unwrap().len(), n + 1);
    }
}
