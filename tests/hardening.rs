//! What an attacker tried against the server, each kept from working: memory spent on answers
//! read slowly, plugins made to work without bound, answers kept by shared caches, the
//! configuration read by visitors, redirects to other sites, side channels through file state,
//! and oracles on protected tables through writes and functions that run SQL of their own.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use testkit::{serve_sql, Server};

/// A request sent on a socket that is never read from.
fn never_read(server: &Server, path: &str) -> TcpStream {
    let addr = server.base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).expect("connect");
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").expect("send");
    s
}

/// A raw request's status line and headers, as sent (no client in between to tidy the path).
fn raw_head(server: &Server, path: &str) -> String {
    let addr = server.base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).ok();
    out.split("\r\n\r\n").next().unwrap_or_default().to_string()
}

/// Asks `/-/health` `checks` times, 100 ms apart: each answers 200 within 2 s.
fn health_stays_quick(server: &Server, checks: usize) {
    let mut slowest = Duration::ZERO;
    for _ in 0..checks {
        let started = Instant::now();
        let r = server.get("/-/health");
        assert_eq!(r.status, 200, "{}", r.body);
        slowest = slowest.max(started.elapsed());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        slowest < Duration::from_secs(2),
        "/-/health took {slowest:?}"
    );
}

/// The server's peak memory (`VmHWM`, KiB) now, for [`peak_grew_less_than`].
fn peak_kib(server: &Server) -> u64 {
    server
        .memory_kib("VmHWM")
        .expect("the server's /proc status")
}

/// The server's peak memory has grown by less than `mib` since `before` ([`peak_kib`]).
fn peak_grew_less_than(server: &Server, before: u64, mib: u64) {
    let grown = peak_kib(server) - before;
    assert!(
        grown < mib * 1024,
        "peak memory grew by {} MiB",
        grown / 1024
    );
}

/// SQL as a query string value.
fn q(sql: &str) -> String {
    percent_encode(sql)
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Twelve clients that never read a huge answer: the issue's (60 MB of `\x01`, escaped six
/// times over in JSON) and one just under the answer limit. The server's peak memory grows by
/// less than 256 MiB and `/-/health` stays quick.
#[test]
fn slow_readers_of_huge_answers_hold_little_memory() {
    let (_dir, server) = serve_sql("data", "create table t (x)", json!({}), &[]);
    assert_eq!(server.get("/data.json?sql=select+1").status, 200);
    let before = peak_kib(&server);
    let issue = q("select replace(printf('%.*c', 60000000, 'x'), 'x', char(1)) as t");
    let near = q("select replace(printf('%.*c', 2500000, 'x'), 'x', char(1)) as t");
    let mut sockets = Vec::new();
    for i in 0..12 {
        let sql = if i % 2 == 0 { &issue } else { &near };
        sockets.push(never_read(&server, &format!("/data.json?sql={sql}")));
    }
    health_stays_quick(&server, 30);
    peak_grew_less_than(&server, before, 256);
    // The issue's answer is refused with a clear message, at once.
    let r = server.get(&format!("/data.json?sql={issue}"));
    assert_eq!(r.status, 400);
    assert!(r.body.contains("larger than 16 MiB"), "{}", r.body);
    drop(sockets);
}

/// Answers held for clients that do not read draw on `answers_memory_mb`: past it a new large
/// answer is a 503 with `Retry-After`, and once the stalled client is given up (10 s), the
/// budget is there again.
#[test]
fn answers_past_the_memory_budget_wait_their_turn() {
    let (_dir, server) = serve_sql(
        "data",
        "create table t (x)",
        json!({}),
        &["--setting", "answers_memory_mb", "12"],
    );
    // 12 MB of JSON: more than the sockets' buffers take (what they take is given back),
    // less than the answer limit.
    let big = format!(
        "/data.json?sql={}",
        q("select replace(printf('%.*c', 2000000, 'x'), 'x', char(1)) as t")
    );
    let held = never_read(&server, &big);
    std::thread::sleep(Duration::from_millis(500));
    let r = server.get(&big);
    assert_eq!(r.status, 503, "{}", &r.body[..r.body.len().min(200)]);
    assert_eq!(r.header("retry-after"), Some("1"));
    assert!(r.body.contains("try again shortly"), "{}", r.body);
    // Small answers are not held back.
    assert_eq!(server.get("/data.json?sql=select+1").status, 200);
    std::thread::sleep(Duration::from_secs(11));
    let r = server.get(&big);
    assert_eq!(r.status, 200);
    assert!(r.bytes.len() > 12_000_000);
    drop(held);
}

fn markdown_server() -> (tempfile::TempDir, Server) {
    serve_sql(
        "data",
        "create table posts (id integer primary key, body text)",
        json!({"plugins": {"datasette-render-markdown": {"columns": ["body"]}}}),
        &[],
    )
}

/// Two huge Markdown cells at once: the issue's (18 MB, past the answer limit) and one of 15 MB
/// (not offered to the plugin: longer than 64 KiB). Peak memory grows by less than 512 MiB,
/// `/-/health` stays quick, and short cells are still rendered.
#[test]
fn huge_markdown_cells_do_not_stall_the_server() {
    let (_dir, server) = markdown_server();
    let r = server.get(&format!("/data?sql={}", q("select '*hi*' as body")));
    assert!(r.body.contains("<em>hi</em>"), "{}", r.body);
    let before = peak_kib(&server);
    let huge = |n: u32| {
        format!(
            "/data?sql={}",
            q(&format!(
                "select replace(printf('%.*c', {n}, 'x'), 'x', '*a*') as body"
            ))
        )
    };
    let base = server.base.clone();
    let runs: Vec<_> = [6_000_000, 5_000_000, 6_000_000, 5_000_000]
        .into_iter()
        .map(|n| {
            let url = format!("{base}{}", huge(n));
            std::thread::spawn(move || testkit::get_url(&url))
        })
        .collect();
    health_stays_quick(&server, 20);
    let answers: Vec<_> = runs.into_iter().map(|t| t.join().unwrap()).collect();
    peak_grew_less_than(&server, before, 512);
    assert_eq!(answers[0].status, 400);
    assert!(answers[0].body.contains("larger than 16 MiB"));
    assert_eq!(answers[1].status, 200);
    // Shown as plain text, cut at truncate_cells_html, never rendered.
    assert!(!answers[1].body.contains("<em>a</em>"));
    assert!(answers[1].body.len() < 1 << 20, "{}", answers[1].body.len());
}

/// Markdown whose rendering would cost quadratic time (deep nesting, runs of `&`) is shown as
/// plain text, and rendering never holds the server: four such pages at once leave
/// `/-/health` quick.
#[test]
fn deeply_nested_markdown_is_not_rendered() {
    let (_dir, server) = markdown_server();
    let base = server.base.clone();
    let runs: Vec<_> = [
        "select replace(hex(zeroblob(8000)), '00', '> ') || 'x' as body",
        "select replace(hex(zeroblob(8000)), '00', '1. ') || 'x' as body",
        "select replace(hex(zeroblob(8000)), '00', '<blockquote>') as body",
        "select replace(hex(zeroblob(16384)), '0', '&') as body",
    ]
    .into_iter()
    .map(|sql| {
        let url = format!("{base}/data?sql={}", q(sql));
        std::thread::spawn(move || testkit::get_url(&url))
    })
    .collect();
    health_stays_quick(&server, 10);
    for r in runs.into_iter().map(|t| t.join().unwrap()) {
        assert_eq!(r.status, 200);
        assert!(!r.body.contains("<blockquote>\n<blockquote>"));
        assert!(!r.body.contains("<ol>\n<li>\n<ol>"));
        assert!(!r.body.contains("<div class=\"markdown\"><p>&amp;&amp;"));
    }
}

/// A page's cells are offered to plugins up to 1 MiB in all: later ones show as plain text.
#[test]
fn cells_past_the_page_budget_are_not_rendered() {
    let (_dir, server) = markdown_server();
    // 40 cells of 60 KiB: the first 17 fit in 1 MiB.
    let sql = "with recursive n(i) as (select 1 union all select i + 1 from n where i < 40) \
               select i, '*x*' || printf('%.*c', 61440, ' ') as body from n";
    let r = server.get(&format!("/data?sql={}", q(sql)));
    assert_eq!(r.status, 200);
    let rendered = r.body.matches("<em>x</em>").count();
    assert!((10..=17).contains(&rendered), "{rendered} cells rendered");
}

fn private_site() -> (tempfile::TempDir, Server) {
    serve_sql(
        "data",
        "create table t (id integer primary key, x text, b blob);
         insert into t values (1, 'a', x'00ff');
         create table secrets (id integer primary key, code text);",
        json!({
            "plugins": {"datasette-atom": {}},
            "databases": {"data": {
                "tables": {"secrets": {"allow": {"id": "admin"}}},
                "queries": {"q": {"sql": "select id, x from t"}}
            }}
        }),
        &[],
    )
}

/// Every format, for a signed-in actor, is `private` (exports `no-store`) and varies by
/// `Cookie` and `Authorization`; anonymous answers vary too.
#[test]
fn answers_for_a_signed_in_actor_are_private_in_every_format() {
    let (_dir, server) = private_site();
    let cookie = server.cookie_for(&json!({"id": "admin"}));
    let pages = [
        ("/data/t", false),
        ("/data/t.json", false),
        ("/data/t/1", false),
        ("/data/t/1.json", false),
        ("/data/secrets.json", false),
        ("/data?sql=select+*+from+secrets", false),
        ("/data.json?sql=select+*+from+secrets", false),
        ("/data/q", false),
        ("/data/q.json", false),
        (
            "/data.json?sql=select+1+as+atom_id,+2+as+atom_title,+3+as+atom_updated",
            false,
        ),
        ("/-/metadata.json", false),
        ("/data/t.csv", true),
        ("/data/t/1.csv", true),
        ("/data.csv?sql=select+*+from+secrets", true),
        ("/data/q.csv", true),
        ("/data/t.csv?_stream=on", true),
        ("/data.csv?sql=select+*+from+t&_stream=on", true),
        ("/data/t/1.blob?_blob_column=b", true),
        (
            "/data.atom?sql=select+1+as+atom_id,+2+as+atom_title,+3+as+atom_updated",
            false,
        ),
    ];
    for (path, export) in pages {
        let r = server.request("GET", path, &[("Cookie", &cookie)]);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        let control = r.header("cache-control").unwrap_or_default();
        assert!(control.contains("private"), "{path}: {control}");
        assert_eq!(control.contains("no-store"), export, "{path}: {control}");
        let vary = r.header("vary").unwrap_or_default();
        assert!(
            vary.contains("Cookie") && vary.contains("Authorization"),
            "{path}: {vary}"
        );
        let anonymous = server.get(path);
        if anonymous.status == 200 {
            let control = anonymous.header("cache-control").unwrap_or_default();
            assert!(!control.contains("private"), "{path}: {control}");
            assert!(anonymous
                .header("vary")
                .unwrap_or_default()
                .contains("Cookie"));
        }
    }
    // The server's own assets stay public.
    let css = server.get(&format!("/-/static/{}", "app.css"));
    if css.status == 200 {
        assert!(css.header("vary").is_none(), "{:?}", css.header("vary"));
    }
}

/// Plugins' configuration is shown to those with `view-plugin-config` (root by default) only.
#[test]
fn plugin_configuration_is_not_shown_to_visitors() {
    let metadata = json!({
        "plugins": {"datasette-render-markdown": {"columns": ["secret_column"]}},
        "databases": {"data": {
            "plugins": {"datasette-render-markdown": {"columns": ["db_level"]}},
            "tables": {"posts": {
                "plugins": {"datasette-render-markdown": {"columns": ["table_level"]}}
            }}
        }}
    });
    let (_dir, server) = serve_sql(
        "data",
        "create table posts (id integer primary key, body text)",
        metadata,
        &[],
    );
    for path in ["/-/metadata.json", "/-/metadata"] {
        let r = server.get(path);
        assert_eq!(r.status, 200);
        for hidden in [
            "secret_column",
            "db_level",
            "table_level",
            "render-markdown",
        ] {
            assert!(!r.body.contains(hidden), "{path} shows {hidden}");
        }
    }
    let root = server.cookie_for(&json!({"id": "root"}));
    let r = server.request("GET", "/-/metadata.json", &[("Cookie", &root)]);
    let v = r.json();
    assert_eq!(
        v["databases"]["data"]["tables"]["posts"]["plugins"]["datasette-render-markdown"]
            ["columns"],
        json!(["table_level"])
    );
    assert_eq!(
        v["plugins"]["datasette-render-markdown"]["columns"],
        json!(["secret_column"])
    );
}

/// No redirect leads to another site, however the path spells it.
#[test]
fn no_redirect_leaves_the_site() {
    let (_dir, server) = serve_sql("data", "create table t (x)", json!({}), &[]);
    for path in [
        "/\\evil.example/",
        "/\\/evil.example/",
        "//evil.example/",
        "/%5Cevil.example/",
        "/%5C%5Cevil.example/",
        "/%2F%2Fevil.example/",
        "/\\evil.example/?x=1",
    ] {
        let head = raw_head(&server, path);
        let location = head
            .lines()
            .find_map(|l| {
                l.split_once(':')
                    .filter(|(k, _)| k.eq_ignore_ascii_case("location"))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_default();
        let cleaned: String = location.chars().filter(|c| !c.is_whitespace()).collect();
        assert!(
            !cleaned.starts_with("//")
                && !cleaned.starts_with("/\\")
                && !cleaned.starts_with("\\")
                && !cleaned.contains("://"),
            "{path} → {location}"
        );
    }
}

fn two_files() -> (tempfile::TempDir, Server, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let public = dir.path().join("public.db");
    let private = dir.path().join("private.db");
    rusqlite::Connection::open(&public)
        .unwrap()
        .execute_batch("create table t (x); insert into t values (1);")
        .unwrap();
    rusqlite::Connection::open(&private)
        .unwrap()
        .execute_batch("create table p (x); insert into p values (1);")
        .unwrap();
    let metadata = dir.path().join("metadata.json");
    let m = json!({
        "plugins": {"datasette-render-markdown": {"columns": ["body"]}},
        "databases": {"private": {"allow": {"id": "admin"}}}
    });
    std::fs::write(&metadata, m.to_string()).unwrap();
    let server = testkit::serve_binary(&[
        public.to_str().unwrap(),
        private.to_str().unwrap(),
        "-m",
        metadata.to_str().unwrap(),
        "--secret",
        testkit::TEST_SECRET,
    ])
    .expect("starts");
    (dir, server, private)
}

mod etags {
    use super::*;
    use proptest::prelude::*;

    const PAGES: &[&str] = &[
        "/",
        "/.json",
        "/-/versions.json",
        "/-/databases.json",
        "/-/metadata.json",
        "/public",
        "/public.json",
        "/public/t",
        "/public/t.json",
        "/public/t/1.json",
    ];

    const WRITES: &[&str] = &[
        "insert into p values (2)",
        "delete from p where rowid = (select max(rowid) from p)",
        "create table if not exists q (y)",
        "update p set x = x + 1",
    ];

    proptest! {
        #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

        /// Writes to a file the actor may not see change no ETag of any page they may.
        #[test]
        fn writes_to_a_file_the_actor_cannot_see_change_no_etag(
            page in 0..PAGES.len(),
            write in 0..WRITES.len(),
        ) {
            let (_dir, server, private) = two_files();
            let path = PAGES[page];
            let tag = |s: &Server| s.get(path).header("etag").map(str::to_string);
            let before = tag(&server);
            prop_assert!(before.is_some(), "{} has no ETag", path);
            let c = rusqlite::Connection::open(&private).unwrap();
            c.execute_batch(WRITES[write]).unwrap();
            // The file's modification time moves in whole seconds on some file systems.
            std::thread::sleep(Duration::from_millis(1100));
            c.execute_batch(WRITES[write]).unwrap();
            prop_assert_eq!(before, tag(&server), "{} after {}", path, WRITES[write]);
        }
    }

    /// The same write does change an admin's tags of the pages about all files.
    #[test]
    fn writes_do_change_the_tags_of_those_who_see_the_file() {
        let (_dir, server, private) = two_files();
        let cookie = server.cookie_for(&json!({"id": "admin"}));
        let tag = || {
            server
                .request("GET", "/.json", &[("Cookie", &cookie)])
                .header("etag")
                .map(str::to_string)
        };
        let before = tag();
        std::thread::sleep(Duration::from_millis(1100));
        rusqlite::Connection::open(&private)
            .unwrap()
            .execute_batch("insert into p values (3)")
            .unwrap();
        assert_ne!(before, tag());
    }
}

/// `/-/databases.json` shows a file's size only to those who may see all of it: it grows with
/// the hidden tables too.
#[test]
fn file_sizes_are_shown_to_who_sees_the_whole_file() {
    let (_dir, server) = private_site();
    let visitor = server.json("/-/databases.json");
    assert_eq!(visitor[0]["size"], Value::Null, "{visitor}");
    assert_eq!(server.json("/data.json")["size"], Value::Null);
    let admin = server.cookie_for(&json!({"id": "admin"}));
    let r = server.request("GET", "/-/databases.json", &[("Cookie", &admin)]);
    assert!(r.json()[0]["size"].as_u64().unwrap() > 0, "{}", r.body);
    let r = server.request("GET", "/data.json", &[("Cookie", &admin)]);
    assert!(r.json()["size"].as_u64().unwrap() > 0, "{}", r.body);
}

/// SQL shows no path on the server: `PRAGMA database_list` is refused in every form, even a
/// join that compares its `file` column without naming it (`USING (file)`).
#[test]
fn no_server_path_through_sql() {
    let (dir, server) = private_site();
    let path = dir.path().to_string_lossy().to_string();
    let file = format!("{path}/data.db");
    let guess = format!(
        "select c.file from pragma_database_list p cross join \
         (select value as file from json_each('[\"/a.db\", \"{file}\"]')) c using (file) \
         where (select 1 from pragma_database_list where 0) is null"
    );
    let natural =
        format!("select * from pragma_database_list natural join (select '{file}' as file)");
    for sql in [
        "pragma database_list",
        "explain pragma database_list",
        "select * from pragma_database_list",
        "select name from pragma_database_list",
        "select file from pragma_database_list",
        "select name from pragma_database_list where file like '%'",
        "select (select file from pragma_database_list)",
        &guess,
        &natural,
    ] {
        for _ in 0..3 {
            let r = server.get(&format!("/data.json?sql={}", q(sql)));
            assert_eq!(r.status, 400, "{sql}: {}", r.body);
            let v = r.json();
            assert_eq!(v["rows"], json!([]), "{sql}: {}", r.body);
            // The answer repeats the SQL, and with it a guess: nothing else names the path.
            let error = v["error"].as_str().unwrap_or_default();
            assert!(
                !error.is_empty() && !error.contains(&path),
                "{sql}: {error}"
            );
        }
    }
    let where_ = format!(
        "/data/t.json?_where={}",
        q(&format!(
            "exists(select 1 from pragma_database_list p cross join (select '{file}' as file) c \
             using (file))"
        ))
    );
    let r = server.get(&where_);
    assert_eq!(r.status, 400, "{}", r.body);
}

/// `rtreecheck` on a hidden name answers as on a missing one, in `?sql=` and `_where` alike.
#[test]
fn rtreecheck_tells_no_hidden_name_from_a_missing_one() {
    let (_dir, server) = private_site();
    let answer = |path: String| {
        let r = server.get(&path);
        (
            r.status,
            r.json()["error"].as_str().unwrap_or_default().to_string(),
        )
    };
    for (hidden, missing) in [
        (
            format!("/data.json?sql={}", q("select rtreecheck('secrets')")),
            format!("/data.json?sql={}", q("select rtreecheck('nosuch')")),
        ),
        (
            format!("/data/t.json?_where={}", q("rtreecheck('secrets')")),
            format!("/data/t.json?_where={}", q("rtreecheck('nosuch')")),
        ),
        (
            format!("/data.json?sql={}", q("select fts3_tokenizer('secrets')")),
            format!("/data.json?sql={}", q("select fts3_tokenizer('nosuch')")),
        ),
    ] {
        let (h, m) = (answer(hidden), answer(missing));
        assert_eq!(h, m);
        assert_eq!(h.0, 400);
        assert!(!h.1.contains("secrets"), "{}", h.1);
    }
}

fn vault_site(extra: &[&str]) -> (tempfile::TempDir, Server) {
    serve_sql(
        "data",
        "create table vault (id integer primary key, code text unique);
         insert into vault values (7, 'gold');
         create table orders (id integer primary key, vault_id integer references vault(id),
                              note text not null);
         create table notes (id integer primary key, code text);
         create trigger notes_to_vault after insert on notes
           begin insert into vault (code) values (new.code); end;",
        json!({"databases": {"data": {
            "tables": {"vault": {"allow": {"id": "admin"}}},
            "queries": {
                "add_order": {
                    "sql": "insert into orders (vault_id, note) values (:vault_id, :note)",
                    "write": true
                },
                "add_note": {
                    "sql": "insert into notes (code) values (:code)",
                    "write": true
                }
            }
        }}}),
        extra,
    )
}

/// Posts a writable canned query as an API client: the JSON answer. With a session cookie,
/// the form's CSRF token is fetched first, as a browser would have it.
fn post_query(server: &Server, query: &str, mut body: Value, cookie: &str) -> Value {
    let path = format!("/data/{query}");
    let mut cookies = cookie.to_string();
    if !cookie.is_empty() {
        let form = server.request("GET", &path, &[("Cookie", cookie)]);
        let marker = "name=\"csrftoken\" value=\"";
        let start = form.body.find(marker).expect("a CSRF token") + marker.len();
        let token = &form.body[start..start + form.body[start..].find('"').unwrap()];
        body["csrftoken"] = json!(token);
        let (name, value) = form.set_cookies().into_iter().next().expect("its cookie");
        cookies = format!("{cookie}; {name}={value}");
    }
    let mut headers = vec![
        ("Content-Type", "application/json"),
        ("Accept", "application/json"),
    ];
    if !cookies.is_empty() {
        headers.push(("Cookie", &cookies));
    }
    let r = server.post(&path, &headers, &body.to_string());
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

/// An order keyed to vault `id`, posted as the actor of `cookie` (none: "").
fn order(server: &Server, id: i64, note: &str, cookie: &str) -> Value {
    post_query(
        server,
        "add_order",
        json!({"vault_id": id, "note": note}),
        cookie,
    )
}

/// A key that is in the protected table and one that is not answer alike: foreign keys are not
/// enforced on the writer.
#[test]
fn foreign_keys_into_a_protected_table_are_no_oracle() {
    let (_dir, server) = vault_site(&[]);
    let present = order(&server, 7, "a", "");
    let absent = order(&server, 8, "b", "");
    assert_eq!(present["ok"], true, "{present}");
    assert_eq!(absent["ok"], true, "{absent}");
    assert_eq!(present["message"], absent["message"]);
}

/// With `writer_foreign_keys` on, a table keyed into a protected one is not writable by those
/// it is protected from: a refusal that names nothing hidden, whatever the key.
#[test]
fn enforced_foreign_keys_refuse_tables_keyed_to_hidden_ones() {
    let (_dir, server) = vault_site(&["--setting", "writer_foreign_keys", "on"]);
    let present = order(&server, 7, "a", "");
    let absent = order(&server, 8, "b", "");
    assert_eq!(present, absent);
    assert_eq!(present["ok"], false);
    let message = present["message"].as_str().unwrap();
    assert!(message.contains("foreign keys"), "{message}");
    assert!(!message.contains("vault"), "{message}");
    // An admin, who may see the vault, meets the constraint itself.
    let admin = server.cookie_for(&json!({"id": "admin"}));
    let r = order(&server, 8, "c", &admin);
    assert_eq!(r["ok"], false);
    assert!(
        r["message"].as_str().unwrap().contains("FOREIGN KEY"),
        "{r}"
    );
    let r = order(&server, 7, "d", &admin);
    assert_eq!(r["ok"], true, "{r}");
}

/// A trigger that writes into the protected table runs, but its failure is one generic
/// answer: the same whether the value is there already or the statement failed otherwise, and
/// never SQLite's text naming the table or column.
#[test]
fn a_trigger_failing_on_a_protected_table_is_one_generic_answer() {
    let (_dir, server) = vault_site(&[]);
    let taken = post_query(&server, "add_note", json!({"code": "gold"}), "");
    assert_eq!(taken["ok"], false, "{taken}");
    let message = taken["message"].as_str().unwrap();
    assert!(
        !message.contains("vault") && !message.contains("code"),
        "{message}"
    );
    assert!(!message.contains("UNIQUE"), "{message}");
    let fresh = post_query(&server, "add_note", json!({"code": "silver"}), "");
    assert_eq!(fresh["ok"], true, "{fresh}");
    let again = post_query(&server, "add_note", json!({"code": "silver"}), "");
    assert_eq!(again, taken);
    // What the actor may see keeps its useful message.
    let r = post_query(
        &server,
        "add_order",
        json!({"vault_id": 1, "note": null}),
        "",
    );
    assert!(r["message"].as_str().unwrap().contains("NOT NULL"), "{r}");
}

/// Millions of small cells count against the answer limit as they are read: a page of them is
/// refused before its HTML is built.
#[test]
fn many_small_cells_are_refused_before_the_page_is_built() {
    let (_dir, server) = serve_sql("data", "create table t (x)", json!({}), &[]);
    assert_eq!(server.get("/data.json?sql=select+1").status, 200);
    let before = peak_kib(&server);
    let columns = vec!["x"; 2000].join(",");
    let sql = format!(
        "with recursive c(x) as (select 1 union all select x + 1 from c limit 1000) \
         select {columns} from c"
    );
    for path in [
        format!("/data?sql={}", q(&sql)),
        format!("/data.json?sql={}", q(&sql)),
    ] {
        let r = server.get(&path);
        assert_eq!(r.status, 400);
        assert!(
            r.body.contains("more than 16 MiB"),
            "{}",
            &r.body[..r.body.len().min(300)]
        );
    }
    peak_grew_less_than(&server, before, 128);
}

/// `template_debug`'s `_context=1` and plugins' output formats are held to the answer limit.
#[test]
fn debug_pages_and_plugin_formats_keep_the_answer_limit() {
    let (_dir, server) = serve_sql(
        "data",
        "create table t (x)",
        json!({"plugins": {"datasette-atom": {}}}),
        &["--setting", "template_debug", "on"],
    );
    let context = format!(
        "/data?_context=1&sql={}",
        q("select replace(hex(zeroblob(3000000)), '0', char(1)) as v")
    );
    let r = server.get(&context);
    assert_eq!(r.status, 400, "{} bytes", r.body.len());
    assert!(r.body.contains("larger than 16 MiB"));
    let atom = format!(
        "/data.atom?sql={}",
        q(
            "select 1 as atom_id, 't' as atom_title, '2020-01-01' as atom_updated, \
           replace(hex(zeroblob(1750000)), '0', '\"') as atom_content"
        )
    );
    let r = server.get(&atom);
    assert_eq!(r.status, 400, "{} bytes", r.body.len());
    assert!(r.body.contains("larger than 16 MiB"));
}
