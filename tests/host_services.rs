//! The host's services to plugins (`Host::query`, `Host::query_as`, `Host::permission_allowed`,
//! `Response::page`, configuration per database and table) and `datasette-permissions-sql`,
//! through the real binary and real plugin libraries.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};
use testkit::{serve_sql, Resp, Server};

/// Staff, who may read the notes; grants of single tables; and tables of each kind.
const STAFF_DB: &str = "
    create table users (id integer primary key, username text, is_staff integer);
    insert into users values (1, 'cleopaws', 0), (2, 'simon', 1), (3, 'mallory', 0);
    create table grants (user_id integer, tbl text);
    insert into grants values (1, 'cats');
    create table notes (id integer primary key, note text);
    insert into notes values (1, 'staff only');
    create table cats (id integer primary key, name text);
    insert into cats values (1, 'Cleo');
    create table dogs (id integer primary key, name text);
    insert into dogs values (1, 'Pancakes');
    create table broken (id integer primary key);
";

fn rules() -> Value {
    json!([
        {"action": "view-table", "resource": ["staff", "notes"],
         "sql": "select 1 from users where is_staff = 1 and id = :actor_id"},
        {"action": "view-table", "resource": ["staff", "broken"],
         "sql": "select * from no_such_table"},
        {"action": "view-table", "fallback": true,
         "sql": "select 1 from grants where user_id = :actor_id and tbl = :resource_2"},
        {"action": "execute-sql", "resource": "staff",
         "sql": "select case when :actor_id = 3 then -1 else 1 end"}
    ])
}

fn serve_staff(extra: &[&str]) -> (tempfile::TempDir, Server) {
    serve_staff_with(rules(), extra)
}

fn serve_staff_with(rules: Value, extra: &[&str]) -> (tempfile::TempDir, Server) {
    serve_sql(
        "staff",
        STAFF_DB,
        json!({
            "databases": {"staff": {
                "plugins": {"datasette-test-hooks": {"css": "/database.css"}},
                "tables": {
                    "users": {"allow": false},
                    "grants": {"allow": false},
                    "cats": {"allow": false},
                    "dogs": {"plugins": {"datasette-test-hooks": {"css": "/dogs.css"}}}
                }
            }},
            "plugins": {
                "datasette-test-hooks": {"css": "/instance.css"},
                "datasette-permissions-sql": rules
            }
        }),
        extra,
    )
}

/// The staff database with permissions-sql the only plugin: its votes are then reused.
fn serve_staff_rules_alone(rules: Value) -> (tempfile::TempDir, Server) {
    let private = json!({"allow": false});
    serve_sql(
        "staff",
        STAFF_DB,
        json!({
            "databases": {"staff": {"tables": {
                "users": private, "grants": private, "cats": private
            }}},
            "plugins": {"datasette-permissions-sql": rules}
        }),
        &[],
    )
}

fn as_user(server: &Server, id: i64, path: &str) -> Resp {
    let cookie = server.cookie_for(&json!({"id": id}));
    server.request("GET", path, &[("Cookie", &cookie)])
}

fn status_for(server: &Server, id: Option<i64>, path: &str) -> u16 {
    match id {
        Some(id) => as_user(server, id, path).status,
        None => server.get(path).status,
    }
}

#[test]
fn permissions_sql_decides_checks_from_tables_visitors_cannot_read() {
    let (_dir, server) = serve_staff(&[]);
    let table = |t: &str| format!("/staff/{t}.json");
    // The staff rule: any row allows, none denies, an anonymous visitor has none.
    assert_eq!(status_for(&server, Some(2), &table("notes")), 200);
    assert_eq!(status_for(&server, Some(1), &table("notes")), 403);
    assert_eq!(status_for(&server, None, &table("notes")), 403);
    // The grants rule falls back: no grant leaves the table to its allow block.
    assert_eq!(status_for(&server, Some(1), &table("cats")), 200);
    assert_eq!(status_for(&server, Some(2), &table("cats")), 403);
    assert_eq!(status_for(&server, None, &table("cats")), 403);
    assert_eq!(status_for(&server, Some(2), &table("dogs")), 200);
    assert_eq!(status_for(&server, None, &table("dogs")), 200);
    // The plugin read `users` and `grants`; visitors cannot, not even through SQL.
    for t in ["users", "grants"] {
        assert_eq!(status_for(&server, Some(2), &table(t)), 403);
    }
    let sql = "/staff.json?sql=select+count(*)+from+users";
    let r = as_user(&server, 2, sql);
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("no such table: users"), "{}", r.body);
}

/// The database page asks the plugin about every table at once (`permission_allowed_many`: one
/// query a rule); the table page and SQL ask the same; all answer as the rules do check by
/// check, for each actor.
#[test]
fn batched_votes_answer_as_the_rules_do_one_check_at_a_time() {
    let (_dir, server) = serve_staff(&[]);
    // Who sees what, from the rules and allow blocks one check at a time.
    let matrix: [(Option<i64>, &[&str]); 4] = [
        (None, &["dogs"]),
        (Some(1), &["cats", "dogs"]),
        (Some(2), &["notes", "dogs"]),
        (Some(3), &["dogs"]),
    ];
    // The execute-sql rule lets 1 and 2 run SQL.
    assert_matrix(&server, &matrix, &[1, 2]);
    // Rules over every table: one of one column that denies with -1, one of two columns.
    let (_dir, server) = serve_staff_with(
        json!([
            {"action": "view-table", "fallback": true,
             "sql": "select case when :actor_id = 3 then -1 else 1 end from grants where tbl = :resource_2"},
            {"action": "view-table",
             "sql": "select user_id, tbl from grants where tbl = :resource_2 or :resource_2 = 'dogs'"},
        ]),
        &[],
    );
    let matrix: [(Option<i64>, &[&str]); 4] = [
        (None, &[]),
        (Some(1), &["cats", "dogs"]),
        (Some(2), &["cats", "dogs"]),
        (Some(3), &["dogs"]),
    ];
    assert_matrix(&server, &matrix, &[]);
}

/// A table page with a plugin voting is worked out from the votes on what it reads alone (the
/// table, its foreign keys' tables, its full-text index, what a view reads): its answers are
/// those of the whole access, here compared with a server without the plugin, whose rule
/// never has an opinion.
#[test]
fn a_table_page_read_through_a_focused_access_answers_as_the_whole_access() {
    let fixture = testkit::fixture();
    let mut metadata: Value =
        serde_json::from_str(&std::fs::read_to_string(&fixture.metadata).unwrap()).unwrap();
    metadata["plugins"]["datasette-permissions-sql"] =
        json!([{"action": "view-table", "fallback": true, "sql": "select 1 where 0"}]);
    let dir = tempfile::tempdir().unwrap();
    let voting = dir.path().join("metadata.json");
    std::fs::write(&voting, metadata.to_string()).unwrap();
    let start = |metadata: &std::path::Path| {
        testkit::serve_binary(&[
            fixture.fixture_db.to_str().unwrap(),
            "-m",
            metadata.to_str().unwrap(),
        ])
        .expect("starts")
    };
    let (with_plugin, without) = (start(&voting), start(&fixture.metadata));
    let plugins = with_plugin.json("/-/plugins.json").to_string();
    assert!(plugins.contains("datasette-permissions-sql"), "{plugins}");
    for path in [
        "/fixture/measurements.json?_labels=on&_facet=station_id&_size=3",
        "/fixture/measurements.json?_expand=station_id&_sort_desc=ts",
        "/fixture/cities.json?_search=a&_facet=country",
        "/fixture/cities.json?_facet_array=tags",
        "/fixture/big_cities.json",
        "/fixture/stations.json",
        "/fixture/secrets.json",
    ] {
        let page = |server: &Server| {
            let r = server.get(path);
            let text = r.body.replace(&server.base, "");
            let mut body: Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {}", r.body));
            body.as_object_mut().unwrap().remove("query_ms");
            (r.status, body)
        };
        let (status, body) = page(&with_plugin);
        let secret = path.contains("secrets");
        assert_eq!(status, if secret { 403 } else { 200 }, "{path}: {body}");
        assert_eq!((status, body), page(&without), "{path}");
    }
}

/// The database page (every table's vote at once), each table's page and SQL reading each
/// table agree with `matrix`: for each actor, the tables they see. SQL is tried as `sql_ids`.
fn assert_matrix(server: &Server, matrix: &[(Option<i64>, &[&str])], sql_ids: &[i64]) {
    let tables = ["users", "grants", "notes", "cats", "dogs", "broken"];
    for &(id, visible) in matrix {
        let get = |path: &str| match id {
            Some(id) => as_user(server, id, path),
            None => server.get(path),
        };
        let page = get("/staff.json").json();
        let mut listed: Vec<&str> = page["tables"]
            .as_array()
            .unwrap_or_else(|| panic!("{id:?}: {page}"))
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        listed.sort();
        let mut expected = visible.to_vec();
        expected.sort();
        assert_eq!(listed, expected, "the database page of {id:?}");
        for t in tables {
            let sees = visible.contains(&t);
            assert_eq!(
                get(&format!("/staff/{t}.json")).status == 200,
                sees,
                "{id:?} {t}"
            );
            if id.is_some_and(|id| sql_ids.contains(&id)) {
                let sql = get(&format!("/staff.json?sql=select+count(*)+from+{t}"));
                assert_eq!(sql.status == 200, sees, "{id:?} {t}: {}", sql.body);
            }
        }
    }
}

/// permissions-sql says its votes follow from what its queries read, so the host reuses them
/// between requests, but only until the file they read changes: a grant taken away by another
/// process is seen on the next request, on every page.
#[test]
fn reused_votes_follow_a_change_to_the_file_their_rules_read() {
    let (dir, server) = serve_staff_rules_alone(rules());
    let sees_cats = || {
        let listed = as_user(&server, 1, "/staff.json").json()["tables"].to_string();
        let page = as_user(&server, 1, "/staff/cats.json").status;
        let sql = as_user(&server, 1, "/staff.json?sql=select+*+from+cats").status;
        match (listed.contains("\"cats\""), page, sql) {
            (true, 200, 200) => true,
            (false, 403, 400 | 403) => false,
            other => panic!("the pages disagree: {other:?}"),
        }
    };
    // Writes in place (a rollback journal), keeping the file's size, quicker than its clock
    // ticks: SQLite's count of commits tells them apart.
    let other_process = rusqlite::Connection::open(dir.path().join("staff.db")).unwrap();
    for round in 0..3 {
        assert!(sees_cats(), "round {round}: granted");
        assert!(sees_cats(), "round {round}: granted, the votes reused");
        other_process
            .execute("delete from grants where user_id = 1", [])
            .unwrap();
        assert!(!sees_cats(), "round {round}: the grant was taken away");
        assert!(!sees_cats(), "round {round}: still taken away");
        other_process
            .execute("insert into grants values (1, 'cats')", [])
            .unwrap();
    }
}

/// A vote made while its rule could not run (another process held the file locked) denies,
/// and is not reused once the lock is gone, though nothing was written in between.
#[test]
fn a_vote_made_of_a_failure_is_not_reused() {
    let (dir, server) = serve_staff_rules_alone(rules());
    let locker = rusqlite::Connection::open(dir.path().join("staff.db")).unwrap();
    locker.execute_batch("begin exclusive").unwrap();
    let locked = as_user(&server, 1, "/staff/cats.json");
    assert_ne!(locked.status, 200, "{}", locked.body);
    assert!(server.logged("rule failed, denying"), "{}", server.log());
    locker.execute_batch("rollback").unwrap();
    assert_eq!(as_user(&server, 1, "/staff/cats.json").status, 200);
}

/// A vote that asks the host what the actor may read elsewhere depends on what those votes
/// read too: `a.cats` is readable by whoever may read `b.dogs` (the hooks plugin runs SQL as
/// the actor on `b`), and `b.dogs` by whoever holds a grant in `c`. A grant taken away in `c`
/// closes `a.cats` at once, though neither `a` nor `b` changed.
#[test]
fn a_reused_vote_follows_what_the_votes_it_asked_for_read() {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, sql: &str| testkit::sqlite_file(dir.path(), name, sql);
    let a = file(
        "a",
        "create table cats (id integer primary key); insert into cats values (1);",
    );
    let b = file(
        "b",
        "create table dogs (id integer primary key); insert into dogs values (1);",
    );
    let c = file(
        "c",
        "create table grants (user_id integer); insert into grants values (1);",
    );
    let metadata = dir.path().join("metadata.json");
    let config = json!({"plugins": {
        "datasette-permissions-sql": [{
            "action": "view-table", "resource": ["b", "dogs"], "database": "c",
            "sql": "select 1 from grants where user_id = :actor_id"
        }],
        "datasette-test-hooks": {
            "votes_follow_queries": true,
            "vote_by_reading": {"resource": ["a", "cats"], "database": "b",
                                "sql": "select 1 from dogs limit 1"}
        }
    }});
    std::fs::write(&metadata, config.to_string()).unwrap();
    let server = testkit::serve_binary(&[
        &a,
        &b,
        &c,
        "-m",
        metadata.to_str().unwrap(),
        "--secret",
        testkit::TEST_SECRET,
    ])
    .expect("starts");
    for _ in 0..2 {
        assert_eq!(status_for(&server, Some(1), "/b/dogs.json"), 200);
        assert_eq!(status_for(&server, Some(1), "/a/cats.json"), 200);
    }
    assert_eq!(status_for(&server, Some(2), "/a/cats.json"), 403);
    rusqlite::Connection::open(&c)
        .unwrap()
        .execute("delete from grants", [])
        .unwrap();
    assert_eq!(status_for(&server, Some(1), "/a/cats.json"), 403);
    assert_eq!(status_for(&server, Some(1), "/b/dogs.json"), 403);
}

/// A rule whose SQL asks the clock or chance is asked again on every request: its votes do
/// not follow from the file.
#[test]
fn votes_that_read_chance_are_not_reused() {
    let (_dir, server) = serve_staff_rules_alone(json!([
        {"action": "view-table", "resource": ["staff", "dogs"],
         "sql": "select 1 where abs(random()) % 2 = 0 and :actor_id = 1"}
    ]));
    let statuses: std::collections::HashSet<u16> = (0..60)
        .map(|_| as_user(&server, 1, "/staff/dogs.json").status)
        .collect();
    // Both answers come up (each request has an even chance of either; 60 alike would be a
    // reused vote, or one chance in 2^59).
    assert_eq!(statuses, [200, 403].into(), "{statuses:?}");
}

/// A plugin's own queries (here the permission rules reading `grants` and `users`) are never
/// part of a visitor's SQL trace: they name tables the visitor may not read.
#[test]
fn a_trace_leaves_out_the_plugins_own_queries() {
    let (_dir, server) = serve_staff(&["--setting", "trace_debug", "on"]);
    for path in [
        "/staff.json?_trace=1",
        "/staff/dogs.json?_trace=1",
        "/staff?_trace=1",
    ] {
        let r = as_user(&server, 1, path);
        assert_eq!(r.status, 200, "{path}");
        assert!(r.body.contains("traces"), "{path}: {}", r.body);
        for hidden in ["grants", "users", "is_staff", "resource_2"] {
            assert!(
                !r.body.contains(hidden),
                "{path} names {hidden}: {}",
                r.body
            );
        }
    }
}

#[test]
fn permissions_sql_denies_on_minus_one_and_on_a_failing_rule() {
    let (_dir, server) = serve_staff(&[]);
    let sql = "/staff.json?sql=select+1+as+one&_shape=array";
    assert_eq!(as_user(&server, 1, sql).json(), json!([{"one": 1}]));
    // `select -1` denies actor 3; an anonymous visitor has no row, which denies too.
    assert_eq!(as_user(&server, 3, sql).status, 403);
    assert_eq!(server.get(sql).status, 403);
    // A rule whose SQL fails denies (a broken rule must not open anything) and is logged.
    assert_eq!(status_for(&server, Some(2), "/staff/broken.json"), 403);
    assert!(
        server.logged("rule failed, denying: no such table: no_such_table"),
        "{}",
        server.log()
    );
}

#[test]
fn a_plugin_queries_as_itself_or_as_the_visitor() {
    let (_dir, server) = serve_staff(&[]);
    let query = |id: Option<i64>, q: &str| -> Resp {
        let path = format!("/-/hooks/query?{q}");
        match id {
            Some(id) => as_user(&server, id, &path),
            None => server.get(&path),
        }
    };
    // As the plugin: every table, with parameters.
    let r = query(None, "sql=select+username+from+users+where+id+%3D+:id&id=2");
    assert_eq!(
        r.json(),
        json!({"rows": [{"username": "simon"}], "truncated": false})
    );
    // As the visitor: what is hidden from them does not exist.
    let r = query(None, "sql=select+count(*)+from+users&as=visitor");
    assert_eq!(r.status, 400);
    assert!(r.json()["error"]
        .as_str()
        .unwrap()
        .contains("no such table: users"));
    let notes = "sql=select+note+from+notes&as=visitor";
    assert_eq!(query(None, notes).status, 400);
    assert_eq!(
        query(Some(2), notes).json()["rows"],
        json!([{"note": "staff only"}])
    );
    // Reads only, on a database that exists.
    let write = query(None, "sql=delete+from+dogs");
    assert_eq!(write.status, 400);
    assert!(
        write.body.contains("Statement must be a SELECT"),
        "{}",
        write.body
    );
    let elsewhere = query(None, "sql=select+1&db=nowhere");
    assert!(
        elsewhere.body.contains("no database is named"),
        "{}",
        elsewhere.body
    );
    assert_eq!(
        server
            .json("/staff/dogs.json?_shape=array")
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

/// A plugin's SQL function runs inside any visitor's SQL: it may query as that visitor only,
/// or it would read for them what they may not.
#[test]
fn an_sql_function_cannot_query_as_the_plugin() {
    let (_dir, server) = serve_staff(&[]);
    let sql = |q: &str| {
        let path = format!("/staff.json?_shape=array&sql={}", q.replace(' ', "+"));
        as_user(&server, 1, &path)
    };
    let r = sql("select hooks_query('select count(*) as n from users', 0) as r");
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body
            .contains("an SQL function may only query as the visitor"),
        "{}",
        r.body
    );
    let r = sql("select hooks_query('select name from dogs', 1) as r");
    assert_eq!(r.json(), json!([{"r": "[[\"Pancakes\"]]"}]), "{}", r.body);
}

#[test]
fn a_plugin_block_below_the_top_level_is_refused_where_it_would_not_be_read() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("staff.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch(STAFF_DB)
        .unwrap();
    let metadata = dir.path().join("metadata.json");
    let config =
        json!({"databases": {"staff": {"plugins": {"datasette-permissions-sql": rules()}}}});
    std::fs::write(&metadata, config.to_string()).unwrap();
    let exit = testkit::serve_binary(&[db.to_str().unwrap(), "-m", metadata.to_str().unwrap()])
        .err()
        .expect("start-up refused");
    assert!(
        exit.stderr.contains("datasette-permissions-sql")
            && exit
                .stderr
                .contains("databases.staff.plugins would not be used"),
        "{}",
        exit.stderr
    );
}

#[test]
fn a_plugin_asks_the_host_permission_questions() {
    let (_dir, server) = serve_staff(&[]);
    let can = |id: Option<i64>, q: &str| -> Value {
        let path = format!("/-/hooks/can?{q}");
        match id {
            Some(id) => as_user(&server, id, &path).json()["allowed"].clone(),
            None => server.json(&path)["allowed"].clone(),
        }
    };
    // The whole answer: permissions-sql's vote (which itself queries) and the allow blocks.
    let notes = "action=view-table&db=staff&table=notes";
    assert_eq!(can(Some(2), notes), json!(true));
    assert_eq!(can(Some(1), notes), json!(false));
    assert_eq!(
        can(None, "action=view-table&db=staff&table=dogs"),
        json!(true)
    );
    assert_eq!(
        can(None, "action=view-table&db=staff&table=users"),
        json!(false)
    );
    assert_eq!(can(Some(3), "action=execute-sql&db=staff"), json!(false));
    assert_eq!(can(Some(1), "action=execute-sql&db=staff"), json!(true));
    assert_eq!(can(None, "action=view-instance"), json!(true));
}

/// With one connection per database held by a slow query, a permission check that queries
/// (through `Host::permission_allowed` and permissions-sql's `Host::query`) still answers:
/// plugins' queries never wait for the requests' connections.
#[test]
fn permission_checks_that_query_answer_while_every_connection_is_busy() {
    let (_dir, server) = serve_staff(&[
        "--setting",
        "num_sql_threads",
        "1",
        "--setting",
        "sql_time_limit_ms",
        "4000",
    ]);
    let server = Arc::new(server);
    let slow_done = Arc::new(AtomicBool::new(false));
    let slow = {
        let (server, done) = (server.clone(), slow_done.clone());
        std::thread::spawn(move || {
            let endless = "/staff.json?sql=with+recursive+c(x)+as+(select+1+union+all+select+x%2B1+from+c)+select+count(*)+from+c";
            let r = as_user(&server, 1, endless);
            done.store(true, Ordering::SeqCst);
            r
        })
    };
    // The slow query holds the only connection (it runs for seconds).
    server.await_request_under_way(std::time::Duration::from_millis(200));
    let r = as_user(
        &server,
        2,
        "/-/hooks/can?action=view-table&db=staff&table=notes",
    );
    assert_eq!(r.json()["allowed"], json!(true));
    let answered_first = !slow_done.load(Ordering::SeqCst);
    let slow = slow.join().unwrap();
    assert_eq!(slow.status, 400, "{}", slow.body);
    assert!(slow.body.contains("interrupted"), "{}", slow.body);
    assert!(
        answered_first,
        "the permission check waited for the busy connection"
    );
}

/// Many requests at once on one connection, each with permission checks that query: none
/// waits forever, none fails.
#[test]
fn concurrent_requests_with_querying_checks_all_answer() {
    let (_dir, server) = serve_staff(&["--setting", "num_sql_threads", "1"]);
    let server = Arc::new(server);
    let threads: Vec<_> = (0..12)
        .map(|i| {
            let server = server.clone();
            std::thread::spawn(move || {
                (0..5)
                    .map(|_| {
                        let (id, table, want) = match i % 3 {
                            0 => (1, "cats", 200),
                            1 => (2, "notes", 200),
                            _ => (3, "notes", 403),
                        };
                        (
                            as_user(&server, id, &format!("/staff/{table}.json")).status,
                            want,
                        )
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for t in threads {
        for (got, want) in t.join().unwrap() {
            assert_eq!(got, want);
        }
    }
}

#[test]
fn a_plugin_page_is_served_inside_the_site() {
    let (_dir, server) = serve_staff(&[]);
    let r = server.get("/-/hooks/page?say=%3Cb%3Ehi%3C/b%3E");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(r.body.contains("<title>Hooks page</title>"), "{}", r.body);
    assert!(r
        .body
        .contains("<h1>Hooks page</h1><p>&lt;b&gt;hi&lt;/b&gt;</p>"));
    // The site's chrome, with what plugins add to a plugin page.
    assert!(r.body.contains("/-/hooks/plugin.css"), "{}", r.body);
    assert!(r.body.contains("window.hooksView = \"plugin\""));
}

#[test]
fn hooks_about_a_page_get_the_most_specific_configuration() {
    let (_dir, server) = serve_staff(&[]);
    let page = |path: &str| server.get(path).body;
    assert!(page("/staff/dogs").contains("/dogs.css"));
    assert!(!page("/staff/dogs").contains("/database.css"));
    // A table without a block of its own gets its database's.
    assert!(as_user(&server, 1, "/staff/cats")
        .body
        .contains("/database.css"));
    assert!(page("/staff").contains("/database.css"));
    assert!(page("/").contains("/instance.css"));
    assert!(!page("/").contains("/database.css"));
}
