//! The permission matrix: four actors × every kind of route × four protected scenarios
//! (instance, database, table, canned query). Each cell asserts the exact status, and that an
//! actor who may not see the protected thing finds no trace of it: not its name, its rows or
//! its count. Then one test per allow-block rule, the `allow_sql` rules, and the cookies that
//! must not be trusted.

use std::path::PathBuf;
use std::sync::OnceLock;

use datasette_rs::app::DatabaseFile;
use serde_json::{json, Value};
use testkit::{fixture, unix_now, without_timing, Resp, Server, TestApp};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    Anonymous,
    Root,
    /// An actor with an email, as an identity provider signs them in.
    Alice,
    /// An actor with a list of teams.
    Bob,
}

const EVERYONE: [Who; 4] = [Who::Anonymous, Who::Root, Who::Alice, Who::Bob];

impl Who {
    fn actor(self) -> Option<Value> {
        match self {
            Who::Anonymous => None,
            Who::Root => Some(json!({"id": "root"})),
            Who::Alice => Some(json!({"id": "alice", "email": "alice@example.com"})),
            Who::Bob => Some(json!({"id": "bob", "teams": ["ops", "staff"]})),
        }
    }

    fn cookie(self, server: &Server) -> String {
        self.actor()
            .map(|a| server.cookie_for(&a))
            .unwrap_or_default()
    }
}

/// What decides a route's answer.
#[derive(Debug, Clone, Copy)]
enum Guard {
    /// Anyone: `/-/actor.json`.
    Open,
    Instance,
    Database,
    /// A page of the protected table.
    Table,
    /// The protected canned query.
    Query,
    /// SQL from the request that reads the protected table: where the database is visible and
    /// the table is not, the answer is exactly that for a table that does not exist.
    ReadsTable,
    /// SQL from the request that reads the schema, which would list the protected table.
    ReadsSchema,
}

/// A route: its path, what guards it, and its status for an actor who may see everything.
struct Route(&'static str, Guard, u16);

const ROUTES: &[Route] = &[
    Route("/-/actor.json", Guard::Open, 200),
    Route("/", Guard::Instance, 200),
    Route("/.json", Guard::Instance, 200),
    Route("/-/metadata.json", Guard::Instance, 200),
    Route("/-/databases.json", Guard::Instance, 200),
    Route("/-/settings.json", Guard::Instance, 200),
    Route("/-/versions.json", Guard::Instance, 200),
    Route("/-/plugins.json", Guard::Instance, 200),
    Route("/fixture", Guard::Database, 200),
    Route("/fixture.json", Guard::Database, 200),
    Route("/fixture/cities.json", Guard::Database, 200),
    Route("/fixture/cities.json?_search=Zurich", Guard::Database, 200),
    Route(
        "/fixture.json?sql=select+count(*)+from+cities",
        Guard::Database,
        200,
    ),
    Route("/fixture/secrets", Guard::Table, 200),
    Route("/fixture/secrets.json", Guard::Table, 200),
    Route("/fixture/secrets.csv", Guard::Table, 200),
    Route("/fixture/secrets.json?_facet=value", Guard::Table, 200),
    Route("/fixture/secrets.json?_sort=value", Guard::Table, 200),
    Route("/fixture/secrets.json?_search=s3cr3t", Guard::Table, 400),
    Route(
        "/fixture/secrets.json?_where=value+like+%27%25%27",
        Guard::Table,
        200,
    ),
    Route("/fixture/secrets/api_key", Guard::Table, 200),
    Route("/fixture/secrets/api_key.json", Guard::Table, 200),
    Route(
        "/fixture/secrets/api_key.blob?_blob_column=value",
        Guard::Table,
        200,
    ),
    Route(
        "/fixture.blob?sql=select+value+from+secrets&_blob_column=value",
        Guard::ReadsTable,
        200,
    ),
    Route(
        "/fixture.json?sql=select+*+from+secrets",
        Guard::ReadsTable,
        200,
    ),
    Route(
        "/fixture.csv?sql=select+*+from+secrets",
        Guard::ReadsTable,
        200,
    ),
    Route(
        "/fixture.json?sql=select+*+from+cities+where+exists(select+1+from+secrets)",
        Guard::ReadsTable,
        200,
    ),
    Route(
        "/fixture/cities.json?_where=exists(select+1+from+secrets)",
        Guard::ReadsTable,
        200,
    ),
    Route(
        "/fixture.json?sql=select+name+from+sqlite_master",
        Guard::ReadsSchema,
        200,
    ),
    Route("/fixture/staff_report", Guard::Query, 200),
    Route("/fixture/staff_report.json", Guard::Query, 200),
];

/// One protected scenario: metadata, who may see what, and what must never show to others.
struct Scenario {
    name: &'static str,
    allow: Value,
    instance: fn(Who) -> bool,
    database: fn(Who) -> bool,
    table: fn(Who) -> bool,
    query: fn(Who) -> bool,
    /// Strings that must not appear in an answer to an actor denied the protected thing.
    traces: &'static [&'static str],
}

fn anyone(_: Who) -> bool {
    true
}

fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "instance",
            allow: json!({"allow": {"id": "root"}}),
            instance: |w| w == Who::Root,
            database: |w| w == Who::Root,
            table: |w| w == Who::Root,
            query: |w| w == Who::Root,
            traces: &[
                "fixture",
                "public",
                "secrets",
                "cities",
                "notes",
                "staff_report",
                "s3cr3t",
            ],
        },
        Scenario {
            name: "database",
            allow: json!({"databases": {"fixture": {"allow": {"email": ["alice@example.com"]}}}}),
            instance: anyone,
            database: |w| w == Who::Alice,
            table: |w| w == Who::Alice,
            query: |w| w == Who::Alice,
            traces: &[
                "fixture",
                "secrets",
                "cities",
                "stations",
                "staff_report",
                "s3cr3t",
            ],
        },
        Scenario {
            name: "table",
            allow: json!({"databases": {"fixture": {"tables": {"secrets": {"allow": {"teams": ["staff", "admins"]}}}}}}),
            instance: anyone,
            database: anyone,
            table: |w| w == Who::Bob,
            query: anyone,
            traces: &["secrets", "s3cr3t", "hunter2", "api_key", "launch_code"],
        },
        Scenario {
            name: "query",
            allow: json!({"databases": {"fixture": {"queries": {"staff_report": {"allow": {"email": "*"}}}}}}),
            instance: anyone,
            database: anyone,
            table: anyone,
            query: |w| w == Who::Alice,
            traces: &["staff_report", "Staff report", "staff_marker"],
        },
    ]
}

/// Merges the scenario's allow block into the metadata every scenario shares.
fn metadata(allow: &Value) -> Value {
    let mut m = json!({
        "databases": {
            "fixture": {
                "queries": {
                    "staff_report": {
                        "title": "Staff report",
                        "sql": "select name as staff_marker from cities limit 2"
                    }
                }
            }
        }
    });
    merge(&mut m, allow);
    m
}

fn merge(into: &mut Value, from: &Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}

/// A second, unprotected database, so listings have something to show.
fn public_db() -> PathBuf {
    static DB: OnceLock<PathBuf> = OnceLock::new();
    DB.get_or_init(|| {
        let path = testkit::scratch_dir().join("public.db");
        let conn = rusqlite::Connection::open(&path).expect("create");
        conn.execute_batch(
            "create table notes (id integer primary key, body text);
             insert into notes (body) values ('hello');",
        )
        .expect("fill");
        path
    })
    .clone()
}

fn serve(metadata: Value) -> Server {
    TestApp::new()
        .files(vec![
            DatabaseFile {
                path: fixture().fixture_db.clone(),
                immutable: false,
            },
            DatabaseFile {
                path: public_db(),
                immutable: false,
            },
        ])
        .metadata(metadata)
        .start()
}

/// The status this actor must get, and whether the protected thing is denied to them.
fn expected(s: &Scenario, route: &Route, who: Who) -> (u16, bool) {
    let Route(_, guard, ok) = *route;
    let denied = |visible: bool| if visible { (ok, false) } else { (403, true) };
    match guard {
        Guard::Open => (ok, true),
        Guard::Instance => {
            let (status, _) = denied((s.instance)(who));
            // Listings stay visible but must leave out what this actor may not see.
            (
                status,
                !(s.database)(who) || !(s.table)(who) || !(s.query)(who),
            )
        }
        Guard::Database => {
            let (status, _) = denied((s.database)(who));
            (
                status,
                !(s.database)(who) || !(s.table)(who) || !(s.query)(who),
            )
        }
        Guard::Table => denied((s.table)(who)),
        Guard::Query => denied((s.query)(who)),
        Guard::ReadsTable | Guard::ReadsSchema if !(s.database)(who) => (403, true),
        Guard::ReadsTable | Guard::ReadsSchema if !(s.table)(who) => (400, true),
        Guard::ReadsTable | Guard::ReadsSchema => (ok, false),
    }
}

fn get(server: &Server, path: &str, cookie: &str) -> Resp {
    server.request("GET", path, &[("Cookie", cookie)])
}

fn check_cell(server: &Server, s: &Scenario, route: &Route, who: Who) {
    let Route(path, guard, _) = *route;
    let cookie = who.cookie(server);
    let r = get(server, path, &cookie);
    let (status, denied) = expected(s, route, who);
    let cell = format!("[{} scenario, {who:?}, GET {path}]", s.name);
    assert_eq!(r.status, status, "{cell}: {}", r.body);
    if status == 403 {
        let is_json = path.split('?').next().unwrap().ends_with(".json");
        if is_json {
            assert_eq!(r.json()["ok"], false, "{cell}");
            assert_eq!(r.json()["status"], 403, "{cell}");
        } else {
            assert!(r.content_type.starts_with("text/html"), "{cell}");
        }
    }
    if !denied {
        return;
    }
    let body = if matches!(guard, Guard::ReadsTable) && status == 400 {
        // Said no differently than for a table that does not exist.
        let missing = get(server, &path.replace("secrets", "no_such_t"), &cookie);
        assert_eq!(missing.status, 400, "{cell}: {}", missing.body);
        assert_eq!(
            without_timing(&r.body.replace("secrets", "no_such_t")),
            without_timing(&missing.body),
            "{cell}"
        );
        r.body.replace("secrets", "")
    } else {
        r.body
    };
    for trace in s.traces {
        assert!(!body.contains(trace), "{cell}: {trace:?} leaked in\n{body}");
    }
}

#[test]
fn permission_matrix() {
    let mut cells = 0;
    for s in scenarios() {
        let server = serve(metadata(&s.allow));
        for route in ROUTES {
            for who in EVERYONE {
                check_cell(&server, &s, route, who);
                cells += 1;
            }
        }
    }
    assert_eq!(cells, 4 * ROUTES.len() * 4);
}

#[test]
fn hidden_tables_are_not_counted() {
    let s = &scenarios()[2];
    let server = serve(metadata(&s.allow));
    let db = |who: Who| get(&server, "/.json", &who.cookie(&server)).json()["fixture"].clone();
    let (bob, alice) = (db(Who::Bob), db(Who::Alice));
    assert_eq!(
        bob["tables_count"].as_i64().unwrap() - alice["tables_count"].as_i64().unwrap(),
        1
    );
    assert_eq!(
        bob["table_rows_sum"].as_i64().unwrap() - alice["table_rows_sum"].as_i64().unwrap(),
        3,
        "the three secret rows count for Bob alone"
    );
}

#[test]
fn private_things_are_marked_for_those_who_see_them() {
    let s = &scenarios()[2];
    let server = serve(metadata(&s.allow));
    let bob = Who::Bob.cookie(&server);
    let tables = get(&server, "/fixture.json", &bob).json()["tables"].clone();
    let private: Vec<&str> = tables
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["private"] == true)
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(private, ["secrets"]);
    assert_eq!(
        get(&server, "/fixture/secrets.json", &bob).json()["private"],
        true
    );
    assert_eq!(
        get(&server, "/fixture/cities.json", &bob).json()["private"],
        false
    );
    // A padlock follows every private thing where Datasette puts one, never a public one.
    let has = |path: &str, cookie: &str, fragment: &str| {
        let page = get(&server, path, cookie);
        assert_eq!(page.status, 200, "{path}");
        page.body.contains(fragment)
    };
    for (path, fragment) in [
        ("/fixture", ">secrets</a> 🔒</h3>"),
        ("/", ">secrets</a> 🔒"),
        ("/fixture/secrets", ">secrets 🔒</h1>"),
        ("/fixture/secrets/api_key", ">secrets: api_key 🔒</h1>"),
    ] {
        assert!(has(path, &bob, fragment), "{path}: no {fragment}");
    }
    assert!(!has("/fixture", &bob, ">cities</a> 🔒"));
    assert!(!has("/fixture/cities", &bob, "🔒"));
    assert!(
        !has("/fixture", "", "🔒"),
        "nothing private shows to anonymous"
    );

    // A private query, database and instance.
    let query = serve(metadata(&scenarios()[3].allow));
    let alice = Who::Alice.cookie(&query);
    let page = get(&query, "/fixture", &alice).body;
    assert!(
        page.contains(
            "title=\"select name as staff_marker from cities limit 2\">Staff report</a> 🔒</li>"
        ),
        "{page}"
    );
    assert!(get(&query, "/fixture/staff_report", &alice)
        .body
        .contains(">Staff report 🔒</h1>"));
    let db = serve(metadata(&scenarios()[1].allow));
    let alice = Who::Alice.cookie(&db);
    assert!(get(&db, "/", &alice).body.contains(">fixture</a> 🔒</h2>"));
    assert!(get(&db, "/fixture", &alice)
        .body
        .contains(">fixture 🔒</h1>"));
    let instance = serve(metadata(&scenarios()[0].allow));
    let root = Who::Root.cookie(&instance);
    assert!(get(&instance, "/", &root).body.contains(" 🔒</h1>"));
}

/// Each rule of Datasette 0.65's allow blocks, one canned query per rule.
#[test]
fn allow_block_rules() {
    let rules: Vec<(Value, Vec<Who>)> = vec![
        (json!(true), EVERYONE.to_vec()),
        (json!(false), vec![]),
        (json!(null), EVERYONE.to_vec()),
        (json!({}), vec![]),
        (json!({"id": "*"}), vec![Who::Root, Who::Alice, Who::Bob]),
        (json!({"email": "*"}), vec![Who::Alice]),
        (json!({"id": "root"}), vec![Who::Root]),
        (json!({"id": ["bob", "root"]}), vec![Who::Root, Who::Bob]),
        (json!({"teams": ["staff"]}), vec![Who::Bob]),
        (json!({"teams": "ops"}), vec![Who::Bob]),
        (json!({"teams": ["nobody"]}), vec![]),
        (json!({"unauthenticated": true}), vec![Who::Anonymous]),
        (
            json!({"unauthenticated": true, "id": "root"}),
            vec![Who::Anonymous, Who::Root],
        ),
        (
            json!({"email": "alice@example.com", "id": "bob"}),
            vec![Who::Alice, Who::Bob],
        ),
    ];
    let mut queries = serde_json::Map::new();
    for (i, (allow, _)) in rules.iter().enumerate() {
        let mut q = json!({"sql": "select 1"});
        if !allow.is_null() {
            q["allow"] = allow.clone();
        }
        queries.insert(format!("rule_{i}"), q);
    }
    let server = serve(json!({"databases": {"fixture": {"queries": queries}}}));
    for (i, (allow, allowed)) in rules.iter().enumerate() {
        for who in EVERYONE {
            let r = get(
                &server,
                &format!("/fixture/rule_{i}.json"),
                &who.cookie(&server),
            );
            let want = if allowed.contains(&who) { 200 } else { 403 };
            assert_eq!(r.status, want, "allow {allow} for {who:?}: {}", r.body);
        }
    }
}

#[test]
fn the_most_specific_explicit_answer_wins() {
    let server = serve(json!({
        "allow": {"id": ["root", "alice", "bob"]},
        "databases": {"fixture": {
            "allow": {"id": "alice"},
            "tables": {"secrets": {"allow": {"id": "bob"}}}
        }}
    }));
    let status = |who: Who, path: &str| get(&server, path, &who.cookie(&server)).status;
    // The table's block lets Bob in although the database's keeps him out...
    assert_eq!(status(Who::Bob, "/fixture/secrets.json"), 200);
    assert_eq!(status(Who::Bob, "/fixture/cities.json"), 403);
    // ...and keeps Alice out although the database's lets her in.
    assert_eq!(status(Who::Alice, "/fixture/secrets.json"), 403);
    assert_eq!(status(Who::Alice, "/fixture/cities.json"), 200);
    assert_eq!(status(Who::Root, "/fixture/cities.json"), 403);
    // Whether a table exists in a database one may not browse is not told either.
    let missing = get(
        &server,
        "/fixture/no_such_t.json",
        &Who::Root.cookie(&server),
    );
    let present = get(&server, "/fixture/cities.json", &Who::Root.cookie(&server));
    assert_eq!(missing.status, 403);
    assert_eq!(missing.body, present.body);
    assert_eq!(status(Who::Root, "/fixture/no_such_t/1.json"), 403);
    assert_eq!(status(Who::Alice, "/fixture/no_such_t.json"), 404);
    assert_eq!(status(Who::Root, "/public/notes.json"), 200);
    assert_eq!(status(Who::Anonymous, "/public/notes.json"), 403);
}

#[test]
fn allow_sql_and_default_allow_sql() {
    let sql = "/public.json?sql=select+1";
    let where_ = "/public/notes.json?_where=id%3E0";
    let server = serve(json!({"allow_sql": {"id": "root"}}));
    let status = |s: &Server, who: Who, path: &str| get(s, path, &who.cookie(s)).status;
    assert_eq!(status(&server, Who::Root, sql), 200);
    assert_eq!(status(&server, Who::Alice, sql), 403);
    assert_eq!(status(&server, Who::Alice, where_), 403);
    assert_eq!(status(&server, Who::Alice, "/public/notes.json"), 200);

    // A database's allow_sql is more specific than the instance's.
    let server = serve(json!({
        "allow_sql": false,
        "databases": {"public": {"allow_sql": {"id": "alice"}}}
    }));
    assert_eq!(status(&server, Who::Alice, sql), 200);
    assert_eq!(status(&server, Who::Root, sql), 403);
    assert_eq!(
        status(&server, Who::Alice, "/fixture.json?sql=select+1"),
        403
    );

    // default_allow_sql off: nobody runs SQL unless an allow_sql block says so.
    let off = |m: Value| {
        TestApp::new()
            .files(vec![DatabaseFile {
                path: public_db(),
                immutable: false,
            }])
            .metadata(m)
            .setting("default_allow_sql", "off")
            .start()
    };
    let server = off(json!({}));
    for who in EVERYONE {
        assert_eq!(status(&server, who, sql), 403, "{who:?}");
        assert_eq!(status(&server, who, where_), 403, "{who:?}");
    }
    let server = off(json!({"allow_sql": {"id": "root"}}));
    assert_eq!(status(&server, Who::Root, sql), 200);
    assert_eq!(status(&server, Who::Anonymous, sql), 403);
}

#[test]
fn cookies_past_their_expiry_are_anonymous() {
    let server = serve(metadata(&scenarios()[0].allow));
    let root = json!({"id": "root"});
    let fresh = server.cookie_for(&root);
    assert_eq!(get(&server, "/-/actor.json", &fresh).json()["actor"], root);
    assert_eq!(get(&server, "/fixture.json", &fresh).status, 200);
    let expired = server.cookie_expiring(&root, unix_now() - 1);
    assert_eq!(
        get(&server, "/-/actor.json", &expired).json()["actor"],
        Value::Null
    );
    assert_eq!(get(&server, "/fixture.json", &expired).status, 403);
}

/// `/-/allow-debug` tries an allow block on an actor, both typed into the page.
#[test]
fn allow_debug_tries_allow_blocks() {
    let server = serve(json!({}));
    let ask = |actor: &str, allow: &str| {
        let query = format!(
            "/-/allow-debug?actor={}&allow={}",
            datasette_rs::urls::quote_plus(actor),
            datasette_rs::urls::quote_plus(allow)
        );
        let r = get(&server, &query, "");
        assert_eq!(r.status, 200, "{query}");
        r.body
    };
    assert!(ask(r#"{"id":"root"}"#, "{}").contains("Result: deny"));
    assert!(ask(r#"{"id":"root"}"#, r#"{"id": "*"}"#).contains("Result: allow"));
    assert!(
        ask(r#"{"id":"bob","teams":["ops"]}"#, r#"{"teams": ["ops"]}"#).contains("Result: allow")
    );
    assert!(ask("null", r#"{"unauthenticated": true}"#).contains("Result: allow"));
    let bad = ask(r#"{""#, r#"{"id": "*"}"#);
    assert!(bad.contains("Actor JSON error") && !bad.contains("Result:"));
    assert!(ask(r#"{"id":"root"}"#, r#""*"}"#).contains("Allow JSON error"));
    // Typed-in text comes back escaped.
    assert!(ask("<script>", "{}").contains("&lt;script&gt;"));
    let v = get(&server, "/-/allow-debug.json?actor=%7B%7D&allow=%7B%7D", "").json();
    assert_eq!(v["result"], "deny");
}

/// `_fts_table` naming a protected table answers as naming one that does not exist.
#[test]
fn fts_table_cannot_reach_a_protected_table() {
    let s = &scenarios()[2];
    let server = serve(metadata(&s.allow));
    let hidden = get(
        &server,
        "/fixture/cities.json?_search=x&_fts_table=secrets",
        "",
    );
    let missing = get(
        &server,
        "/fixture/cities.json?_search=x&_fts_table=nope",
        "",
    );
    assert_eq!(hidden.status, 400);
    assert_eq!(
        (hidden.status, &hidden.body),
        (missing.status, &missing.body)
    );
    let bob = Who::Bob.cookie(&server);
    let allowed = get(
        &server,
        "/fixture/cities.json?_search=x&_fts_table=secrets",
        &bob,
    );
    assert_ne!(
        allowed.body, missing.body,
        "Bob may read it, so it is searched"
    );
}

/// `/-/permissions` lists recent checks, newest first, to root alone (or whoever an allow block
/// lets in); the header's menu offers the debugging pages to the same actors, and a way out to
/// anyone signed in.
#[test]
fn recent_checks_and_the_debug_menu_are_roots() {
    let server = TestApp::new()
        .metadata(
            json!({"databases": {"fixture": {"tables": {"secrets": {"allow": {"id": "root"}}}}}}),
        )
        .start();
    let get =
        |path: &str, who: Who| server.request("GET", path, &[("Cookie", &who.cookie(&server))]);
    assert_eq!(get("/fixture/secrets", Who::Alice).status, 403);
    assert_eq!(get("/-/permissions", Who::Anonymous).status, 403);
    assert_eq!(get("/-/permissions", Who::Alice).status, 403);
    let page = get("/-/permissions", Who::Root);
    assert_eq!(page.status, 200);
    let first = page.body.find("<div class=\"check\">").expect("checks");
    assert!(
        page.body[first..].starts_with(
            "<div class=\"check\">\n  <h2><span class=\"check-action\">permissions-debug</span>"
        ),
        "{}",
        page.body
    );
    let json = get("/-/permissions.json", Who::Root).json();
    let checks = json["permission_checks"].as_array().unwrap();
    // Alice's refusal of the protected table is there, decided by its allow block.
    assert!(
        checks.iter().any(|c| c["action"] == "view-table"
            && c["resource"] == json!(["fixture", "secrets"])
            && c["actor"]["id"] == "alice"
            && c["result"] == false
            && c["used_default"] == false),
        "{json}"
    );
    assert!(checks.iter().any(|c| c["action"] == "permissions-debug"
        && c["actor"]["id"] == "alice"
        && c["result"] == false
        && c["used_default"] == true));
    // The page answers a question as the routes would.
    let ask = |actor: &str, permission: &str, r1: &str, r2: &str| {
        let q = datasette_rs::urls::quote_plus;
        get(
            &format!(
                "/-/permissions.json?actor={}&permission={permission}&resource_1={r1}&resource_2={r2}",
                q(actor)
            ),
            Who::Root,
        )
    };
    let answer = ask(r#"{"id": "alice"}"#, "view-table", "fixture", "secrets").json();
    assert_eq!(answer["question"]["allowed"], false, "{answer}");
    assert_eq!(answer["question"]["explicit"], true);
    let answer = ask(r#"{"id": "alice"}"#, "view-table", "fixture", "cities").json();
    assert_eq!(
        (
            answer["question"]["allowed"].clone(),
            answer["question"]["explicit"].clone()
        ),
        (json!(true), json!(false))
    );
    assert_eq!(
        ask(r#"{"id": "root"}"#, "view-table", "fixture", "secrets").json()["question"]["allowed"],
        true
    );
    let html = get(
        "/-/permissions?actor=null&permission=view-table&resource_1=fixture&resource_2=secrets",
        Who::Root,
    )
    .body;
    assert!(
        html.contains("Denied: an allow block or plugin answered for this resource"),
        "{html}"
    );
    assert_eq!(ask("{not json", "view-table", "fixture", "").status, 400);
    assert_eq!(ask("null", "view-table", "", "secrets").status, 400);
    // Only who may debug permissions may ask.
    assert_eq!(
        get(
            "/-/permissions.json?actor=null&permission=view-instance",
            Who::Alice
        )
        .status,
        403
    );
    // The menu: root's has the debugging pages and a way out; Alice's a way out alone.
    let menu = |who: Who| {
        let body = get("/", who).body;
        body.find("<details class=\"nav-menu")
            .map(|at| body[at..body.find("</details>").unwrap()].to_string())
    };
    let root = menu(Who::Root).expect("a menu for root");
    for link in [
        "/-/permissions",
        "/-/allow-debug",
        "/-/metadata",
        "/-/threads",
    ] {
        assert!(root.contains(&format!("href=\"{link}\"")), "{link}: {root}");
    }
    assert!(root.contains("<form action=\"/-/logout\" method=\"post\">"));
    let alice = menu(Who::Alice).expect("a menu for Alice");
    assert!(alice.contains("<form action=\"/-/logout\" method=\"post\">"));
    assert!(!alice.contains("/-/permissions"), "{alice}");
    assert_eq!(menu(Who::Anonymous), None);
}
