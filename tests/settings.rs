//! Datasette's settings that datasette-rs takes: each works as in Datasette or is refused,
//! none accepted and ignored.

use datasette_rs::app::DatabaseFile;
use serde_json::json;
use testkit::{TestApp, TEST_SECRET};

fn file(dir: &tempfile::TempDir) -> std::path::PathBuf {
    let path = dir.path().join("data.db");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            "create table t (id integer primary key); insert into t values (1);
             create table secrets (x); insert into secrets values ('hidden');",
        )
        .unwrap();
    path
}

fn serve(
    path: &std::path::Path,
    immutable: bool,
    metadata: serde_json::Value,
    settings: &[(&str, &str)],
) -> testkit::Server {
    let mut app = TestApp::new()
        .files(vec![DatabaseFile {
            path: path.to_path_buf(),
            immutable,
        }])
        .metadata(metadata)
        .secret(Some(TEST_SECRET));
    for (k, v) in settings {
        app = app.setting(k, v);
    }
    app.start()
}

#[test]
fn an_immutable_file_downloads_whole_for_who_may_see_all_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir);
    let bytes = std::fs::read(&path).unwrap();
    let open = serve(&path, true, json!({}), &[]);
    let r = open.get("/data.db");
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type, "application/octet-stream");
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"data.db\"")
    );
    assert_eq!(r.bytes, bytes);
    // A client holding this version gets a 304.
    let etag = r.header("etag").expect("an ETag").to_string();
    let again = open.request("GET", "/data.db", &[("If-None-Match", &etag)]);
    assert_eq!((again.status, again.bytes.len()), (304, 0));
    // The database page links to it.
    assert!(open.get("/data").body.contains(
        "<p class=\"download-sqlite\">Download SQLite DB: <a href=\"/data.db\">data.db</a>"
    ));
    // Not a mutable file, not with allow_download off.
    assert_eq!(
        serve(&path, false, json!({}), &[]).get("/data.db").status,
        403
    );
    let off = serve(&path, true, json!({}), &[("allow_download", "off")]);
    assert_eq!(off.get("/data.db").status, 403);
    // The file holds every table: only an actor who may see them all gets it.
    let guarded = serve(
        &path,
        true,
        json!({"databases": {"data": {"tables": {"secrets": {"allow": {"id": "root"}}}}}}),
        &[],
    );
    let anonymous = guarded.get("/data.db");
    assert_eq!(anonymous.status, 403);
    assert!(!anonymous.body.contains("hidden"));
    assert!(!guarded.get("/data").body.contains("download-sqlite"));
    let root = guarded.cookie_for(&json!({"id": "root"}));
    assert_eq!(
        guarded
            .request("GET", "/data.db", &[("Cookie", &root)])
            .status,
        200
    );
}

/// `template_debug` on: `?_context=1` answers an HTML page with the data it is rendered from;
/// off, the page is the page.
#[test]
fn template_debug_shows_the_data_a_page_is_rendered_from() {
    let on = TestApp::new().setting("template_debug", "on").start();
    for page in [
        "/",
        "/fixture",
        "/fixture/stations",
        "/fixture/stations/1",
        "/fixture?sql=select+1",
    ] {
        let r = on.get(&format!(
            "{page}{}_context=1",
            if page.contains('?') { "&" } else { "?" }
        ));
        assert_eq!(r.status, 200, "{page}");
        assert!(r.body.starts_with("<pre>{"), "{page}: {}", r.body);
        let json = r
            .body
            .trim_start_matches("<pre>")
            .trim_end_matches("</pre>");
        let unescaped = json
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&");
        assert!(
            serde_json::from_str::<serde_json::Value>(&unescaped).is_ok(),
            "{page}: {json}"
        );
    }
    // Nothing hidden from the visitor appears in it: it is the page's own data.
    assert!(!on.get("/fixture?_context=1").body.contains("secrets"));
    let off = TestApp::new().start();
    assert!(!off
        .get("/fixture/stations?_context=1")
        .body
        .starts_with("<pre>"));
}

/// `trace_debug` on: `?_trace=1` adds the SQL a page ran, where Datasette puts it, and never a
/// statement about what the actor may not read.
#[test]
fn traced_pages_list_the_sql_they_ran() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir);
    let guarded =
        json!({"databases": {"data": {"tables": {"secrets": {"allow": {"id": "root"}}}}}});
    let server = serve(&path, false, guarded.clone(), &[("trace_debug", "on")]);
    let json = server.json("/data/t.json?_trace=1");
    let traces = json["_trace"]["traces"].as_array().expect("traces");
    assert_eq!(json["_trace"]["num_traces"], traces.len());
    assert!(traces
        .iter()
        .any(|t| t["sql"] == "select id from t order by id limit 101" && t["database"] == "data"));
    // Counts and facets are skipped for bare rows, as Datasette does.
    let object = server.get("/data/t.json?_trace=1&_shape=object");
    assert!(object.body.contains("select id from t") && !object.body.contains("count(*)"));
    // CSV becomes a page with the CSV and the trace, both escaped.
    let csv = server.get("/data/t.csv?_trace=1");
    assert_eq!(csv.content_type, "text/html; charset=utf-8");
    assert!(
        csv.body
            .contains("<textarea style=\"width: 90%; height: 70vh\">id\r\n1\r\n</textarea>"),
        "{}",
        csv.body
    );
    assert!(csv.body.contains("<pre>") && csv.body.contains("select id from t"));
    // HTML pages get a <pre> before </body>; the database page names nothing hidden.
    for page in [
        "/data/t?_trace=1",
        "/data?_trace=1",
        "/?_trace=1",
        "/data?sql=select+1&_trace=1",
    ] {
        let r = server.get(page);
        assert_eq!(r.status, 200, "{page}");
        assert!(r.body.contains("&#34;traces&#34;:"), "{page}: {}", r.body);
        assert!(r.body.contains("</pre></body>"), "{page}");
        assert!(!r.body.contains("secrets"), "{page}");
    }
    // An answer past 256 KiB is sent whole, without its trace.
    let big = server.get("/data.json?sql=select+hex(randomblob(200000))+as+h&_trace=1");
    assert_eq!(big.status, 200);
    let big = big.json();
    assert_eq!(big["rows"][0][0].as_str().map(str::len), Some(400_000));
    assert!(big.get("_trace").is_none());
    // Without the setting, or without `_trace=1`, nothing is added.
    assert!(server.json("/data/t.json?_trace=0").get("_trace").is_none());
    let off = serve(&path, false, guarded, &[]);
    assert!(off.json("/data/t.json?_trace=1").get("_trace").is_none());
}

/// Datasette's magic parameters in canned queries, from the request and the clock, never from
/// the query string.
#[test]
fn canned_queries_take_magic_parameters_from_the_request() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir);
    let sql = "select :_actor_id as id, :_actor_name as name, :_header_x_team as team, \
               :_cookie_flavour as flavour, :_now_epoch > 1700000000 as recent, \
               length(:_now_date_utc) as date_len, length(:_now_datetime_utc) as dt_len, \
               length(:_random_chars_7) as random_len, :q as q";
    let server = serve(
        &path,
        false,
        json!({"databases": {"data": {"queries": {"me": sql}}}}),
        &[],
    );
    let session = server.cookie_for(&json!({"id": "ana", "name": "Ana"}));
    let cookies = format!("{session}; flavour=lemon");
    let r = server.request(
        "GET",
        "/data/me.json?_shape=array&q=given&_actor_id=root",
        &[("Cookie", &cookies), ("X-Team", "blue")],
    );
    assert_eq!(
        r.json(),
        json!([{"id": "ana", "name": "Ana", "team": "blue", "flavour": "lemon", "recent": 1,
                "date_len": 10, "dt_len": 20, "random_len": 7, "q": "given"}]),
        "{}",
        r.body
    );
    // Anonymous: no actor, and the query string cannot stand in for one.
    let anonymous = server.get("/data/me.json?_shape=array&_actor_id=root");
    assert_eq!(anonymous.json()[0]["id"], serde_json::Value::Null);
    // The page offers only the visitor's own parameter in its form.
    let page = server.json("/data/me.json");
    assert_eq!(page["query"]["params"], json!({"q": ""}));
}

#[test]
fn the_old_config_page_moves_to_settings() {
    let server = TestApp::new().start();
    for (old, new) in [
        ("/-/config", "/-/settings"),
        ("/-/config.json", "/-/settings.json"),
    ] {
        let r = server.get(old);
        assert_eq!(r.status, 301, "{old}");
        assert_eq!(r.header("location"), Some(new), "{old}");
    }
    let prefixed = TestApp::new().setting("base_url", "/data/").start();
    let r = prefixed.get("/data/-/config.json");
    assert_eq!(r.header("location"), Some("/data/-/settings.json"));
}

/// `/-/databases.json` gives an immutable file's SHA-256 as Datasette's `hash`, to an actor who
/// may see everything in it: it fingerprints the protected tables too.
#[test]
fn an_immutable_files_hash_is_shown_to_who_may_see_all_of_it() {
    use sha2::{Digest, Sha256};
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir);
    let expected: String = Sha256::digest(std::fs::read(&path).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let hash = |server: &testkit::Server, cookie: &str| {
        let r = server.request("GET", "/-/databases.json", &[("Cookie", cookie)]);
        r.json()[0]["hash"].clone()
    };
    assert_eq!(
        hash(&serve(&path, true, json!({}), &[]), ""),
        json!(expected)
    );
    assert_eq!(hash(&serve(&path, false, json!({}), &[]), ""), json!(null));
    let guarded = serve(
        &path,
        true,
        json!({"databases": {"data": {"tables": {"secrets": {"allow": {"id": "root"}}}}}}),
        &[],
    );
    assert_eq!(hash(&guarded, ""), json!(null));
    let root = guarded.cookie_for(&json!({"id": "root"}));
    assert_eq!(hash(&guarded, &root), json!(expected));
}
