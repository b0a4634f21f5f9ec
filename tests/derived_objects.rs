//! Protected stays protected through everything SQLite derives from a table: views (and views
//! of views), an external-content FTS5 index, an FTS4 table filled by a trigger, their shadow
//! tables, statistics (`ANALYZE`), `sqlite_sequence`, index and foreign-key pragmas. For an
//! actor denied the table, each such object answers exactly as the protected table does (table
//! pages) or as a table that does not exist (SQL that names it), and no route shows a trace of
//! it. For root, the same routes answer with the data: the matrix can tell the two apart.

use std::path::PathBuf;
use std::sync::OnceLock;

use datasette_rs::app::DatabaseFile;
use serde_json::json;
use testkit::{without_timing, Resp, Server, TestApp};

/// Strings that only the protected table and what derives from it hold.
const TRACES: &[&str] = &[
    "secrets",
    "codename",
    "passphrase",
    "hunter2word",
    "zebraword",
    "launchword",
    "idx_secrets_passphrase",
    "secret_names",
    "diary",
    "x_odd_column",
    "y_odd_column",
];

/// The vault: a protected table, what derives from it, and visible tables beside it.
fn vault() -> PathBuf {
    static DB: OnceLock<PathBuf> = OnceLock::new();
    DB.get_or_init(|| {
        let path = testkit::scratch_dir().join("vault.db");
        let conn = rusqlite::Connection::open(&path).expect("create");
        conn.execute_batch(
            "create table secrets (id integer primary key autoincrement, codename text, passphrase text);
             create index idx_secrets_passphrase on secrets(passphrase);
             create virtual table diary using fts4(entry);
             create virtual table diary_terms using fts4aux(diary);
             create table wr (k text primary key, sv text) without rowid;
             create table [weird'] (x_odd_column text);
             create table `[brk]` (y_odd_column text);
             insert into wr values ('wrkey', 'hunter2word');
             create trigger secrets_copy after insert on secrets begin
               insert into diary (entry) values (new.passphrase);
             end;
             insert into secrets (codename, passphrase) values
               ('alpha', 'hunter2word'), ('bravo', 'zebraword'), ('charlie', 'launchword');
             create virtual table secrets_fts using fts5(codename, passphrase, content='secrets', content_rowid='id');
             insert into secrets_fts (secrets_fts) values ('rebuild');
             create view secret_names as select codename from secrets;
             create view secret_names_loud as select upper(codename) as loud from secret_names;
             create view published_count as select count(*) as how_many from secrets;
             create table visible (id integer primary key, secret_id integer references secrets(id), label text);
             insert into visible (secret_id, label) values (1, 'first'), (2, 'second');
             create table docs (id integer primary key, body text);
             insert into docs (body) values ('the whale sings'), ('a quiet harbour');
             create virtual table docs_fts using fts5(body, content='docs', content_rowid='id');
             insert into docs_fts (docs_fts) values ('rebuild');
             create virtual table letters using fts4(body);
             insert into letters (body) values ('dear whale');
             analyze;",
        )
        .expect("fill");
        path
    })
    .clone()
}

fn serve() -> Server {
    TestApp::new()
        .files(vec![DatabaseFile {
            path: vault(),
            immutable: false,
        }])
        .metadata(json!({"databases": {"vault": {"tables": {
            "secrets": {"allow": {"id": "root"}},
            "wr": {"allow": {"id": "root"}},
            "weird'": {"allow": {"id": "root"}},
            "[brk]": {"allow": {"id": "root"}},
            "published_count": {"allow": true}
        }}}}))
        .start()
}

fn root(server: &Server) -> String {
    server.cookie_for(&json!({"id": "root"}))
}

fn get(server: &Server, path: &str, cookie: &str) -> Resp {
    server.request("GET", path, &[("Cookie", cookie)])
}

/// Every table and view of the vault that reads the protected table.
fn derived_objects() -> Vec<String> {
    let conn = rusqlite::Connection::open(vault()).expect("open");
    let mut names: Vec<String> = conn
        .prepare(
            "select name from sqlite_master where type in ('table', 'view')
             and (name like 'secret%' or name like 'diary%' or name like 'sqlite_%')
             and name not in ('secrets', 'published_count')",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    names.sort();
    names
}

fn assert_no_trace(body: &str, cell: &str) {
    for trace in TRACES {
        assert!(
            !body.to_ascii_lowercase().contains(trace),
            "{cell}: {trace:?} leaked in\n{body}"
        );
    }
}

/// `body` without `sql` and without the names `sql` itself types: echoing those tells nothing.
fn without_names_in(body: &str, sql: &str) -> String {
    let mut body = body.replace(sql, "");
    for name in sql.split(|c: char| !c.is_alphanumeric() && c != '_') {
        if TRACES.contains(&name) {
            body = body.replace(name, "");
        }
    }
    body
}

/// The routes that show one object, each with the answer that the protected table gives.
fn object_routes(name: &str) -> Vec<(String, String)> {
    let mut routes = vec![
        (format!("/vault/{name}"), "/vault/secrets".to_string()),
        (format!("/vault/{name}.json"), "/vault/secrets.json".into()),
        (format!("/vault/{name}.csv"), "/vault/secrets.csv".into()),
        (
            format!("/vault/{name}.json?_shape=array&_size=1"),
            "/vault/secrets.json?_shape=array&_size=1".into(),
        ),
    ];
    if !name.starts_with("secret_names") {
        routes.push((
            format!("/vault/{name}/1.json"),
            "/vault/secrets/1.json".into(),
        ));
    }
    routes
}

#[test]
fn derived_objects_answer_as_the_protected_table() {
    let server = serve();
    let objects = derived_objects();
    for expected in [
        "diary",
        "diary_segdir",
        "secret_names",
        "secret_names_loud",
        "secrets_fts",
        "secrets_fts_data",
        "secrets_fts_idx",
        "sqlite_sequence",
        "sqlite_stat1",
    ] {
        assert!(
            objects.iter().any(|o| o == expected),
            "{expected} in {objects:?}"
        );
    }
    let mut cells = 0;
    for name in &objects {
        for (path, protected) in object_routes(name) {
            let cell = format!("anonymous, GET {path}");
            let denied = get(&server, &path, "");
            let reference = get(&server, &protected, "");
            assert_eq!(denied.status, 403, "{cell}: {}", denied.body);
            assert_eq!(
                denied.body.replace(name.as_str(), "X"),
                reference.body.replace("secrets", "X"),
                "{cell}: answers as /vault/secrets does"
            );
            assert_no_trace(&denied.body.replace(name.as_str(), ""), &cell);
            let seen = get(&server, &path, &root(&server));
            assert!(
                seen.status == 200 || (seen.status == 404 && path.ends_with("/1.json")),
                "root, GET {path}: {} {}",
                seen.status,
                seen.body
            );
            cells += 2;
        }
    }
    assert!(cells >= 2 * 4 * 15, "{cells} cells");
}

/// SQL naming a derived object: for those denied, word for word what a missing table gives.
#[test]
fn sql_naming_a_derived_object_answers_as_a_missing_table() {
    let server = serve();
    let mut names = derived_objects();
    names.push("SECRETS".into());
    names.push("Secret_Names".into());
    for name in names {
        for template in [
            "/vault.json?sql=select+*+from+{}",
            "/vault.csv?sql=select+*+from+{}",
            "/vault.json?sql=select+count(*)+from+{}",
            "/vault/visible.json?_where=exists(select+1+from+{})",
            "/vault.json?sql=select+*+from+visible+where+secret_id+in+(select+rowid+from+{})",
        ] {
            let path = template.replace("{}", &name);
            let cell = format!("anonymous, GET {path}");
            let denied = get(&server, &path, "");
            let missing = get(&server, &template.replace("{}", "no_such_t"), "");
            assert_eq!(denied.status, 400, "{cell}: {}", denied.body);
            assert_eq!(
                without_timing(&denied.body.replace(name.as_str(), "no_such_t")),
                without_timing(&missing.body),
                "{cell}"
            );
            assert_no_trace(&denied.body.replace(name.as_str(), ""), &cell);
            let seen = get(&server, &path, &root(&server));
            assert_eq!(seen.status, 200, "root, GET {path}: {}", seen.body);
        }
    }
}

/// Pragmas about a protected table or its indexes answer nothing, as for names that do not
/// exist, whatever the case of the name; root gets the rows.
#[test]
fn pragmas_about_protected_things_answer_nothing() {
    let server = serve();
    for (sql, missing) in [
        (
            "select * from pragma_table_info('SECRETS')",
            "select * from pragma_table_info('no_such_t')",
        ),
        (
            "select * from pragma_table_xinfo('Secrets')",
            "select * from pragma_table_xinfo('no_such_t')",
        ),
        (
            "select * from pragma_table_info('secret_names')",
            "select * from pragma_table_info('no_such_t')",
        ),
        (
            "select * from pragma_table_info('diary_content')",
            "select * from pragma_table_info('no_such_t')",
        ),
        (
            "select * from pragma_index_list('secrets')",
            "select * from pragma_index_list('no_such_t')",
        ),
        (
            "select * from pragma_index_info('IDX_SECRETS_PASSPHRASE')",
            "select * from pragma_index_info('no_such_t')",
        ),
        (
            "select * from pragma_index_xinfo('idx_secrets_passphrase')",
            "select * from pragma_index_xinfo('no_such_t')",
        ),
        (
            "select * from pragma_foreign_key_list('visible')",
            "select * from pragma_foreign_key_list('no_such_t')",
        ),
        (
            "select * from pragma_table_list",
            "select * from pragma_table_list where 0",
        ),
        // The file's figures move with what is written to protected tables.
        (
            "select * from pragma_page_count",
            "select * from pragma_page_count where 0",
        ),
        (
            "select * from pragma_freelist_count",
            "select * from pragma_freelist_count where 0",
        ),
        (
            "select * from pragma_schema_version",
            "select * from pragma_schema_version where 0",
        ),
        (
            "select * from pragma_table_info('weird''')",
            "select * from pragma_table_info('no_such_t')",
        ),
        (
            "select * from pragma_table_info('[brk]')",
            "select * from pragma_table_info('no_such_t')",
        ),
    ] {
        let path = |sql: &str| format!("/vault.json?sql={}&_shape=arrays", sql.replace(' ', "+"));
        let denied = get(&server, &path(sql), "");
        assert_eq!(denied.status, 200, "{sql}: {}", denied.body);
        assert_eq!(denied.json()["rows"], json!([]), "{sql}");
        let expected = get(&server, &path(missing), "").json();
        assert_eq!(denied.json()["columns"], expected["columns"], "{sql}");
        assert_no_trace(&denied.body.replace(sql, ""), sql);
        let seen = get(&server, &path(sql), &root(&server));
        assert_ne!(seen.json()["rows"], json!([]), "root: {sql}");
    }
    // Statements that take a pragma's value are refused outright.
    let r = get(
        &server,
        "/vault.json?sql=PRAGMA+main.table_info(SECRETS)",
        "",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_no_trace(&r.body.replace("SECRETS", ""), "PRAGMA main.table_info");
}

/// Statistics and the schema describe every table: whoever may not see one sees none of them.
#[test]
fn statistics_schema_and_page_tables_need_every_table() {
    let server = serve();
    for sql in [
        "select * from sqlite_stat1",
        "select * from sqlite_sequence",
        "select * from sqlite_master",
        "select * from dbstat",
    ] {
        let path = sql_path("vault", sql);
        let denied = get(&server, &path, "");
        assert_eq!(denied.status, 400, "{sql}: {}", denied.body);
        assert_no_trace(&denied.body, sql);
        let seen = get(&server, &path, &root(&server));
        assert_eq!(seen.status, 200, "root: {sql}: {}", seen.body);
    }
}

/// Listings, the visible table with a key pointing at the protected one, and metadata: no
/// trace for those denied, everything for root.
#[test]
fn listings_and_neighbours_leave_derived_objects_out() {
    let server = serve();
    for path in [
        "/",
        "/.json",
        "/vault",
        "/vault.json",
        "/vault/visible",
        "/vault/visible.json",
        "/vault/visible.json?_facet=secret_id",
        "/vault/visible/1",
        "/vault/visible/1.json",
        "/-/metadata.json",
        "/-/databases.json",
    ] {
        let r = get(&server, path, "");
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert_no_trace(&r.body, &format!("anonymous, GET {path}"));
    }
    let tables = |cookie: &str| -> Vec<String> {
        let page = get(&server, "/vault.json", cookie).json();
        page["tables"]
            .as_array()
            .unwrap()
            .iter()
            .chain(page["views"].as_array().unwrap())
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect()
    };
    let seen = tables(&root(&server));
    for name in derived_objects() {
        assert!(seen.contains(&name), "root sees {name} in {seen:?}");
    }
    let anonymous = tables("");
    assert!(anonymous.contains(&"docs_fts".to_string()));
    assert!(anonymous.contains(&"published_count".to_string()));
    let counts = get(&server, "/.json", "").json()["vault"].clone();
    let root_counts = get(&server, "/.json", &root(&server)).json()["vault"].clone();
    assert!(
        counts["hidden_tables_count"].as_i64() < root_counts["hidden_tables_count"].as_i64(),
        "{counts} vs {root_counts}"
    );
    assert!(
        get(&server, "/vault/visible", &root(&server))
            .body
            .contains("/vault/secrets/1"),
        "root's page links the key to its row"
    );
}

/// A view with its own allow block publishes a summary of private data on purpose: on its own
/// page, never through SQL from the request (a CTE may take the view's name).
#[test]
fn a_view_with_its_own_allow_block_is_governed_by_it() {
    let server = serve();
    for path in [
        "/vault/published_count.json?_shape=array",
        "/vault/published_count.json?_shape=array&_facet=how_many",
    ] {
        let page = get(&server, path, "");
        assert_eq!(page.status, 200, "{}", page.body);
        assert_eq!(page.json(), json!([{"how_many": 3}]));
    }
    let page = get(&server, "/vault/published_count", "");
    assert_eq!(page.status, 200);
    // Its definition names the protected table: shown only to who may read that too.
    assert!(!page.body.contains("wrapped-sql") && !page.body.contains("secrets"));
    let root_page = get(&server, "/vault/published_count", &root(&server)).body;
    assert!(root_page.contains("<pre class=\"wrapped-sql\">CREATE VIEW published_count"));
    assert_eq!(get(&server, "/vault/published_count.csv", "").status, 200);
    for sql in [
        "select how_many from published_count",
        "select * from published_count join secrets",
        "with published_count as (select * from secrets) select * from published_count",
        "with recursive published_count(x) as (select passphrase from secrets) select * from published_count",
        "explain query plan select * from published_count",
    ] {
        let path = sql_path("vault", sql);
        let r = get(&server, &path, "");
        assert_eq!(r.status, 400, "{sql}: {}", r.body);
        assert_no_trace(&without_names_in(&r.body, sql), sql);
    }
    let r = get(
        &server,
        "/vault/published_count.json?_where=how_many%3E0",
        "",
    );
    assert_eq!(r.status, 400, "{}", r.body);
    let r = get(&server, "/vault/visible.json?_where=id+%3D+(with+published_count+as+(select+length(passphrase)+from+secrets+where+id%3D1)+select+*+from+published_count)-10", "");
    assert_eq!(r.status, 400, "{}", r.body);
    assert_no_trace(
        &r.body.replace("passphrase", "").replace("secrets", ""),
        "_where CTE",
    );
}

/// Errors SQLite raises before it asks the authorizer (no such column, ambiguous names, index
/// names, writes) are those of a database without the protected objects.
#[test]
fn errors_are_those_of_a_database_without_the_protected_objects() {
    let server = serve();
    for (sql, name) in [
        ("select zzz from secrets", "secrets"),
        ("select codename from secrets", "secrets"),
        ("select id from visible, secrets", "secrets"),
        ("select 1 as secret_names from secrets", "secret_names"),
        ("insert into secrets values (1)", "secrets"),
        ("update secrets set zzz = 1", "secrets"),
        ("drop table secrets", "secrets"),
        (
            "drop index idx_secrets_passphrase",
            "idx_secrets_passphrase",
        ),
        (
            "create index idx_secrets_passphrase on visible(label)",
            "idx_secrets_passphrase",
        ),
        ("reindex idx_secrets_passphrase", "idx_secrets_passphrase"),
        ("drop trigger secrets_copy", "secrets_copy"),
        ("select * from wr", "wr"),
    ] {
        let as_sql = |s: &str| format!("/vault.json?sql={}", s.replace(' ', "+"));
        let denied = get(&server, &as_sql(sql), "");
        let missing = get(&server, &as_sql(&sql.replace(name, "nosuch_x")), "");
        assert_eq!(denied.status, missing.status, "{sql}: {}", denied.body);
        assert_eq!(
            without_timing(&denied.body.replace(name, "nosuch_x")),
            without_timing(&missing.body),
            "{sql}"
        );
    }
    // A WITHOUT ROWID table's key index has no schema row of its own.
    let r = get(
        &server,
        "/vault.json?sql=select+*+from+pragma_index_xinfo('sqlite_autoindex_wr_1')",
        "",
    );
    assert_eq!(r.json()["rows"], json!([]), "{}", r.body);
    let r = get(
        &server,
        "/vault.json?sql=select+*+from+pragma_index_xinfo('sqlite_autoindex_wr_1')",
        &root(&server),
    );
    assert_ne!(r.json()["rows"], json!([]), "{}", r.body);
}

/// The JSON of `sql` run on database `db`.
fn sql_path(db: &str, sql: &str) -> String {
    format!("/{db}.json?sql={}", sql.replace(' ', "+"))
}

/// The mutable file at `path` alone, with `table` (which may not exist yet) root's only.
fn serve_protecting(path: &std::path::Path, table: &str) -> Server {
    let db = datasette_rs::db::database_name(path);
    TestApp::new()
        .files(vec![DatabaseFile {
            path: path.to_path_buf(),
            immutable: false,
        }])
        .metadata(json!({"databases": {db: {"tables": {table: {"allow": {"id": "root"}}}}}}))
        .start()
}

/// An object made after the schema was loaded is not readable by those from whom anything is
/// hidden until it has been classified.
#[test]
fn objects_made_while_serving_are_protected_from_the_start() {
    let path = testkit::scratch_dir().join("late.db");
    std::fs::copy(vault(), &path).expect("copy");
    let server = serve_protecting(&path, "secrets");
    assert_eq!(get(&server, "/late.json", "").status, 200);
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            "create virtual table late_fts using fts5(passphrase, content='secrets', content_rowid='id');
             insert into late_fts (late_fts) values ('rebuild');
             create virtual table late_vocab using fts5vocab(late_fts, row);",
        )
        .unwrap();
    for sql in [
        "select * from late_vocab",
        "select * from late_fts_idx",
        "select rowid, * from late_fts where late_fts match 'hunter2word'",
    ] {
        let r = get(&server, &sql_path("late", sql), "");
        assert_eq!(r.status, 400, "{sql}: {}", r.body);
        assert_no_trace(&without_names_in(&r.body, sql), sql);
    }
}

/// A table made after the schema was loaded, which an allow block protects by its name, is
/// not readable even by an actor from whom nothing was hidden before it existed.
#[test]
fn a_protected_table_made_while_serving_is_protected_from_the_start() {
    let path = testkit::scratch_dir().join("later.db");
    let _ = std::fs::remove_file(&path);
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("create table notes (x); insert into notes values ('public');")
        .unwrap();
    let server = serve_protecting(&path, "payroll");
    // The schema was just looked at: the next look is a second away.
    assert_eq!(
        get(&server, "/later.json?sql=select+*+from+notes", "").status,
        200
    );
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            "create table payroll (salary); insert into payroll values ('ninety-thousand');",
        )
        .unwrap();
    // Neither its rows nor its columns; nor its name where the SQL did not give it.
    for sql in [
        "select * from payroll",
        "select * from pragma_table_info('payroll')",
        "select * from sqlite_master",
        "select * from pragma_table_list",
    ] {
        let r = get(&server, &sql_path("later", sql), "");
        let shown = r.body.replace(sql, "");
        assert!(
            !shown.contains("ninety-thousand") && !shown.contains("salary"),
            "{sql}: {}",
            r.body
        );
        if !sql.contains("payroll") {
            assert!(!shown.contains("payroll"), "{sql}: {}", r.body);
        }
    }
    let r = get(&server, "/later.json?sql=select+*+from+payroll", "");
    assert_eq!(r.status, 400, "{}", r.body);
}

/// Full-text search through SQL works from the first request on a fresh server, for FTS5 and
/// FTS4, and the table page's search too.
#[test]
fn full_text_search_works_on_a_fresh_server() {
    for (path, want) in [
        (
            "/vault.json?sql=select+rowid+from+docs_fts+where+docs_fts+match+'whale'&_shape=arrays",
            json!([[1]]),
        ),
        (
            "/vault.json?sql=select+body+from+letters+where+letters+match+'whale'&_shape=arrays",
            json!([["dear whale"]]),
        ),
        (
            "/vault/docs.json?_search=harbour&_shape=arrays",
            json!([[2, "a quiet harbour"]]),
        ),
    ] {
        let server = serve();
        let r = get(&server, path, "");
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert_eq!(r.json()["rows"], want, "{path}");
    }
}

/// Cached statements are not reused for an actor they were not checked for.
#[test]
fn a_statement_checked_for_root_is_checked_again_for_others() {
    let server = serve();
    let path = "/vault/secret_names.json";
    for _ in 0..3 {
        assert_eq!(get(&server, path, &root(&server)).status, 200);
        assert_eq!(
            get(&server, "/vault/secrets.json?_size=1", &root(&server)).status,
            200
        );
        let sql = get(&server, "/vault.json?sql=select+*+from+secret_names", "");
        assert_eq!(sql.status, 400, "{}", sql.body);
        assert_eq!(get(&server, path, "").status, 403);
    }
}
