//! Ports of Datasette's plugins through the real binary and their real libraries, configured
//! as the originals' READMEs say: datasette-pretty-json and datasette-block-robots.

use serde_json::{json, Value};
use testkit::{get_url, serve_binary, serve_sql, Exit, Server};

const PRETTY_JSON: &str = "datasette-pretty-json";
const BLOCK_ROBOTS: &str = "datasette-block-robots";

/// Serves a database `name` made by `sql`, with `metadata`, and `extra` arguments.
fn serve(name: &str, sql: &str, metadata: Value, extra: &[&str]) -> (tempfile::TempDir, Server) {
    serve_sql(name, sql, metadata, extra)
}

/// Serves a small database with datasette-block-robots configured by `config`.
fn robots_server(config: Value, extra: &[&str]) -> (tempfile::TempDir, Server) {
    serve(
        "blog",
        "create table posts (id integer primary key, title text);",
        json!({"plugins": {BLOCK_ROBOTS: config}}),
        extra,
    )
}

/// How a run with datasette-block-robots configured by `config` stopped at start-up.
fn robots_refused(config: Value) -> Exit {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("blog.db");
    rusqlite::Connection::open(&db).unwrap();
    let metadata = dir.path().join("metadata.json");
    std::fs::write(
        &metadata,
        json!({"plugins": {BLOCK_ROBOTS: config}}).to_string(),
    )
    .unwrap();
    match serve_binary(&[db.to_str().unwrap(), "-m", metadata.to_str().unwrap()]) {
        Ok(_) => panic!("the server started"),
        Err(e) => e,
    }
}

/// The body of an answer for robots.txt, checked to be a 200 in plain text.
fn robots_txt(resp: testkit::Resp) -> String {
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.content_type, "text/plain; charset=utf-8");
    resp.body
}

const ITEMS: &str = r#"
    create table items (id integer primary key, data text, note text, n integer);
    insert into items (data, note, n) values
      ('{"name": "<script>alert(1)</script>", "tags": ["a", "b"]}', 'plain <b>text</b>', 7),
      ('[1, 2.50, "caf' || char(233) || '"]', '{"broken": json', 8),
      ('true', '1', 9);
"#;

const PRE: &str = "<pre style=\"white-space: pre-wrap\">";

/// The first item's data as the original renders it: indented by 4, escaped as markupsafe
/// escapes (`&#34;`), in `<pre style="white-space: pre-wrap">`.
const FIRST_DATA: &str = "<pre style=\"white-space: pre-wrap\">{\n    &#34;name&#34;: &#34;&lt;script&gt;alert(1)&lt;/script&gt;&#34;,\n    &#34;tags&#34;: [\n        &#34;a&#34;,\n        &#34;b&#34;\n    ]\n}</pre>";
const SECOND_DATA: &str =
    "<pre style=\"white-space: pre-wrap\">[\n    1,\n    2.5,\n    &#34;caf\\u00e9&#34;\n]</pre>";

#[test]
fn pretty_json_shows_json_objects_and_arrays_indented_and_escaped() {
    let (_dir, server) = serve("docs", ITEMS, json!({"plugins": {PRETTY_JSON: {}}}), &[]);
    let page = server.get("/docs/items");
    assert_eq!(page.status, 200);
    let page = page.body;
    assert!(page.contains(FIRST_DATA), "{page}");
    assert!(page.contains(SECOND_DATA), "{page}");
    assert!(!page.contains("<script>alert"), "escaped: {page}");
    assert_eq!(page.matches(PRE).count(), 2, "only the JSON cells: {page}");
    // Text that is not a JSON object or array is shown as the server shows it without the
    // plugin: plain text, broken JSON, JSON scalars, integers.
    let (_plain_dir, plain) = serve("docs", ITEMS, json!({}), &[]);
    let plain_page = plain.get("/docs/items").body;
    for cell in [
        "plain &lt;b&gt;text&lt;/b&gt;",
        "{&#34;broken&#34;: json",
        ">true<",
        ">1<",
        ">7<",
    ] {
        assert!(plain_page.contains(cell), "{cell} in {plain_page}");
        assert_eq!(
            page.matches(cell).count(),
            plain_page.matches(cell).count(),
            "{cell} untouched"
        );
    }

    let row = server.get("/docs/items/1").body;
    assert!(row.contains(FIRST_DATA), "{row}");
    let query = server.get("/docs?sql=select+data,+note+from+items").body;
    assert!(
        query.contains(FIRST_DATA) && query.contains(SECOND_DATA),
        "{query}"
    );
    assert_eq!(query.matches(PRE).count(), 2, "{query}");
    let json = server.json("/docs/items.json?_shape=array");
    assert_eq!(
        json[0]["data"], "{\"name\": \"<script>alert(1)</script>\", \"tags\": [\"a\", \"b\"]}",
        "JSON keeps the data"
    );
}

#[test]
fn block_robots_by_default_disallows_the_whole_site() {
    let (_dir, server) = robots_server(json!({}), &[]);
    assert_eq!(
        robots_txt(server.get("/robots.txt")),
        "User-agent: *\nDisallow: /"
    );
    // Enabled without a block of its own, as the original is by being installed.
    let (_dir, bare) = robots_server(Value::Null, &[]);
    assert_eq!(
        robots_txt(bare.get("/robots.txt")),
        "User-agent: *\nDisallow: /"
    );
}

#[test]
fn block_robots_disallows_the_paths_it_is_given() {
    for (config, expected) in [
        (json!({"disallow": "/foo"}), "User-agent: *\nDisallow: /foo"),
        (
            json!({"disallow": ["/foo", "/bar"]}),
            "User-agent: *\nDisallow: /foo\nDisallow: /bar",
        ),
        (
            json!({"disallow": ["/blog/posts"]}),
            "User-agent: *\nDisallow: /blog/posts",
        ),
    ] {
        let (_dir, server) = robots_server(config, &[]);
        assert_eq!(robots_txt(server.get("/robots.txt")), expected);
    }
}

#[test]
fn block_robots_serves_a_literal_file_as_written() {
    let literal =
        "User-agent: *\nDisallow: /\nUser-agent: Bingbot\nUser-agent: Googlebot\nDisallow:";
    let (_dir, server) = robots_server(json!({"literal": literal}), &[]);
    assert_eq!(robots_txt(server.get("/robots.txt")), literal);
}

#[test]
fn block_robots_refuses_disallow_with_literal_and_unknown_keys() {
    let both = robots_refused(json!({"literal": "User-agent: *", "disallow": "/"}));
    assert_ne!(both.code, Some(0));
    assert!(
        both.stderr.contains(
            "datasette-block-robots cannot be configured with both disallow: and literal:"
        ),
        "{}",
        both.stderr
    );
    let typo = robots_refused(json!({"dissallow": ["/blog"]}));
    assert!(typo.stderr.contains("dissallow"), "{}", typo.stderr);
}

#[test]
fn block_robots_answers_under_base_url() {
    let (_dir, server) = robots_server(
        json!({"disallow": ["/data/blog"]}),
        &["--setting", "base_url", "/data/"],
    );
    let origin = server.base.strip_suffix("/data").expect("under /data");
    // Under the prefix, and without it when a proxy strips it.
    for url in [
        format!("{origin}/data/robots.txt"),
        format!("{origin}/robots.txt"),
    ] {
        assert_eq!(
            robots_txt(get_url(&url)),
            "User-agent: *\nDisallow: /data/blog",
            "{url}"
        );
    }
}

/// `allow_only_index`: a line for each database an anonymous visitor may see, under
/// base_url, tilde-encoded as Datasette's URLs are.
#[test]
fn block_robots_allow_only_index_disallows_each_visible_database() {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = vec![];
    for name in ["blog", "my notes", "private"] {
        let db = dir.path().join(format!("{name}.db"));
        rusqlite::Connection::open(&db)
            .unwrap()
            .execute_batch("create table t (id integer primary key);")
            .unwrap();
        paths.push(db.to_str().unwrap().to_string());
    }
    let metadata = dir.path().join("metadata.json");
    std::fs::write(
        &metadata,
        json!({
            "databases": {"private": {"allow": {"id": "root"}}},
            "plugins": {BLOCK_ROBOTS: {"allow_only_index": true, "disallow": ["/-/"]}}
        })
        .to_string(),
    )
    .unwrap();
    for (base_url, prefix) in [("/", ""), ("/data/", "/data")] {
        let mut args: Vec<&str> = paths.iter().map(String::as_str).collect();
        args.extend([
            "-m",
            metadata.to_str().unwrap(),
            "--setting",
            "base_url",
            base_url,
        ]);
        let server = serve_binary(&args).expect("starts");
        assert_eq!(
            robots_txt(server.get("/robots.txt")),
            format!("User-agent: *\nDisallow: /-/\nDisallow: {prefix}/blog\nDisallow: {prefix}/my+notes"),
            "base_url {base_url}"
        );
    }
}
