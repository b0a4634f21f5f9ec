//! A site's own templates (`--template-dir`), written as Datasette's documentation shows them:
//! a `base.html` that extends the built-in one, an `index.html`, a `_table-DB-TABLE.html`
//! partial, a `row.html` that adds to the built-in page, and custom pages, one with a path
//! parameter.

use std::path::Path;

use serde_json::json;
use testkit::{serve_binary, Server, TestApp};

/// A Datasette user's template directory.
const SITE: &[(&str, &str)] = &[
    (
        "base.html",
        r#"{% extends "default:base.html" %}
{% block extra_head %}<style>.site-banner { font-weight: bold }</style>{% endblock %}
{% block nav %}{{ super() }}<p class="site-banner">The example data site</p>{% endblock %}
"#,
    ),
    (
        "index.html",
        r#"{% extends "base.html" %}
{% block title %}Our databases{% endblock %}
{% block content %}
<h1>Welcome</h1>
<ul class="our-databases">{% for database in databases %}<li><a href="{{ urls.database(database.name) }}">{{ database.name }}</a> ({{ database.tables_count }} tables)</li>{% endfor %}</ul>
{% endblock %}
"#,
    ),
    (
        "_table-fixture-measurements.html",
        r#"{% for row in display_rows %}
    <div class="custom-table-row">{{ row["ts"] }} - {{ row["temp_c"] }} - {{ row.display("station_id") }}</div>
{% endfor %}
"#,
    ),
    (
        "row.html",
        r#"{% extends "default:row.html" %}
{% block content %}
<h1 class="extra">EXTRA HTML AT THE TOP OF THE CONTENT BLOCK</h1>
{{ super() }}
{% endblock %}
"#,
    ),
    (
        "pages/about.html",
        r#"{% extends "base.html" %}
{% block title %}About{% endblock %}
{% block content %}<h1>About this site</h1><p class="path">{{ request.path }}</p><p class="view">{{ view_name }}</p>{% endblock %}
"#,
    ),
    (
        "pages/hello/{name}.html",
        r#"{% if name == "nobody" %}{{ raise_404("Nobody is here") }}{% endif %}<p>Hello {{ name }}!</p>"#,
    ),
    (
        "pages/teapot.html",
        r#"{{ custom_status(418) }}{{ custom_header("x-teapot", "short and stout") }}I'm a teapot"#,
    ),
    ("pages/old.html", r#"{{ custom_redirect("/about", 301) }}"#),
];

fn write_site(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

fn serve_site(metadata: Option<serde_json::Value>) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    write_site(dir.path(), SITE);
    let mut app = TestApp::new().templates(dir.path());
    if let Some(m) = metadata {
        app = app.metadata(m);
    }
    (app.start(), dir)
}

#[test]
fn a_sites_index_replaces_the_built_in_one_inside_its_own_chrome() {
    let (server, _dir) = serve_site(None);
    let r = server.get("/");
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains("<title>Our databases</title>"),
        "{}",
        r.body
    );
    assert!(r.body.contains("<h1>Welcome</h1>"));
    assert!(r.body.contains(r#"<li><a href="/fixture">fixture</a> ("#));
    // base.html's own nav block, after the built-in one it calls with super().
    assert!(r
        .body
        .contains(r#"<p class="site-banner">The example data site</p>"#));
    assert!(r.body.contains("/-/static/app.css?"), "the built-in chrome");
    assert!(r
        .body
        .contains("<!-- Templates considered: *index.html -->"));
}

#[test]
fn a_table_partial_shows_rows_as_cards_and_links_their_keys() {
    let (server, _dir) = serve_site(None);
    let r = server.get("/fixture/measurements");
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains(
            r#"<div class="custom-table-row">2024-01-01T12:00:00 - 10.27 - <a href="/fixture/stations/1">Zürich Fluntern</a>"#
        ),
        "{}",
        r.body
    );
    assert!(!r.body.contains(r#"<table class="rows-and-columns">"#));
    // The rest of the built-in page is there, in the site's chrome.
    assert!(r.body.contains(r#"<form class="filters""#));
    assert!(r.body.contains("site-banner"));
}

#[test]
fn built_in_pages_the_site_does_not_override_wear_its_base() {
    let (server, _dir) = serve_site(None);
    for path in ["/fixture", "/fixture/cities", "/fixture?sql=select+1"] {
        let r = server.get(path);
        assert_eq!(r.status, 200, "{path}");
        assert!(r.body.contains("site-banner"), "{path}: {}", r.body);
        assert!(r.body.contains("<main>"), "{path}");
    }
    let table = server.get("/fixture/cities").body;
    assert!(table.contains(r#"<table class="rows-and-columns">"#));
    assert!(
        table.contains("<title>fixture: cities: 320 rows</title>"),
        "{table}"
    );
}

#[test]
fn a_page_extending_the_default_keeps_its_content_through_super() {
    let (server, _dir) = serve_site(None);
    let r = server.get("/fixture/stations/1");
    assert_eq!(r.status, 200);
    let extra = r
        .body
        .find("EXTRA HTML AT THE TOP")
        .expect("the site's heading");
    let table = r
        .body
        .find("rows-and-columns")
        .expect("the built-in content");
    assert!(extra < table);
    assert!(r
        .body
        .contains("Templates considered: row-fixture-stations.html, *row.html"));
}

#[test]
fn custom_pages_answer_their_paths_with_their_parameters() {
    let (server, _dir) = serve_site(None);
    let about = server.get("/about");
    assert_eq!(about.status, 200);
    assert!(about.body.contains("<h1>About this site</h1>"));
    assert!(about.body.contains(r#"<p class="path">/about</p>"#));
    assert!(about.body.contains(r#"<p class="view">page</p>"#));
    assert!(about.body.contains("site-banner"));

    let hello = server.get("/hello/Ana");
    assert_eq!(
        (hello.status, hello.body.as_str()),
        (200, "<p>Hello Ana!</p>")
    );
    // Autoescaped: a path parameter is text.
    let script = server.get("/hello/%3Cscript%3E");
    assert_eq!(script.body, "<p>Hello &lt;script&gt;!</p>");

    let nobody = server.get("/hello/nobody");
    assert_eq!(nobody.status, 404);
    assert!(nobody.body.contains("Nobody is here"));
    assert_eq!(server.get("/hello/a/b").status, 404);
    assert_eq!(server.get("/nothing-here").status, 404);
}

#[test]
fn custom_pages_set_their_status_headers_and_redirects() {
    let (server, _dir) = serve_site(None);
    let teapot = server.get("/teapot");
    assert_eq!(teapot.status, 418);
    assert_eq!(teapot.header("x-teapot"), Some("short and stout"));
    assert_eq!(teapot.body, "I'm a teapot");
    let old = server.get("/old");
    assert_eq!(old.status, 301);
    assert_eq!(old.header("location"), Some("/about"));
}

#[test]
fn templates_change_no_protection() {
    // The shared metadata lets only root see `secrets`; the site has a partial for it.
    let dir = tempfile::tempdir().unwrap();
    write_site(dir.path(), SITE);
    write_site(
        dir.path(),
        &[(
            "_table-fixture-secrets.html",
            r#"{% for row in display_rows %}<p class="secret">{{ row["value"] }}</p>{% endfor %}"#,
        )],
    );
    let server = TestApp::new().templates(dir.path()).start();
    let r = server.get("/fixture/secrets");
    assert_eq!(r.status, 403);
    assert!(!r.body.contains(r#"class="secret""#));
    let root = server.cookie_for(&json!({"id": "root"}));
    let r = server.request("GET", "/fixture/secrets", &[("Cookie", root.as_str())]);
    assert_eq!(r.status, 200);
    assert!(r.body.contains(r#"<p class="secret">"#), "{}", r.body);

    // A private instance keeps its custom pages private too.
    let (server, _dir) = serve_site(Some(json!({"allow": {"id": "root"}})));
    assert_eq!(server.get("/about").status, 403);
    assert_eq!(server.get("/hello/Ana").status, 403);
    let r = server.request(
        "GET",
        "/about",
        &[("Cookie", root_cookie(&server).as_str())],
    );
    assert_eq!(r.status, 200);
}

fn root_cookie(server: &Server) -> String {
    server.cookie_for(&json!({"id": "root"}))
}

#[test]
fn a_template_error_stops_start_up_naming_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write_site(
        dir.path(),
        &[(
            "pages/broken.html",
            "<h1>fine</h1>\n<p>still fine</p>\n{% if %}broken{% endif %}\n",
        )],
    );
    let fixture = &testkit::fixture().fixture_db;
    let exit = match serve_binary(&[
        fixture.to_str().unwrap(),
        "--template-dir",
        dir.path().to_str().unwrap(),
    ]) {
        Ok(_) => panic!("a broken template must stop start-up"),
        Err(exit) => exit,
    };
    assert_ne!(exit.code, Some(0));
    assert!(
        exit.stderr.contains("pages/broken.html:3"),
        "{}",
        exit.stderr
    );
}

#[test]
fn templates_read_nothing_outside_their_directory() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.html"), "TOP SECRET").unwrap();
    let dir = outside.path().join("site");
    write_site(
        &dir,
        &[
            ("pages/leak.html", r#"{% include "../secret.html" %}"#),
            ("pages/leak2.html", r#"{% include "/etc/hostname" %}"#),
        ],
    );
    let server = TestApp::new().templates(&dir).start();
    for path in ["/leak", "/leak2"] {
        let r = server.get(path);
        assert_eq!(r.status, 500, "{path}");
        assert!(!r.body.contains("TOP SECRET"));
        assert!(r.body.contains("not found"), "{path}: {}", r.body);
    }
}

#[test]
fn without_a_template_directory_pages_are_the_built_in_ones() {
    let server = TestApp::new().start();
    let r = server.get("/fixture/cities");
    assert!(r
        .body
        .contains("<!-- Templates considered: table-fixture-cities.html, *table.html -->"));
    assert!(r.body.contains("<footer>"), "{}", r.body);
    assert!(r.body.contains("Queries took "));
    assert_eq!(server.get("/about").status, 404);
}
