//! datasette-copyable through the real binary and its real library, enabled as its README
//! says: `.copyable` pages in the site's chrome, the raw text, links from table and query
//! pages, and permissions checked before the plugin is asked.

use serde_json::json;
use testkit::{serve_sql, Resp, Server};

const COPYABLE: &str = "datasette-copyable";

/// The original's test database: dogs, with a foreign key to species.
const DOGS: &str = "
    create table species (id integer primary key, name text);
    insert into species values (1, 'Dog');
    create table dogs (id integer primary key, name text, age integer, weight float,
                       species integer references species(id));
    insert into dogs values (1, 'Cleo', 5, 51.2, 1), (2, 'Pancakes', 4, 35.5, 1);
    create table secrets (id integer primary key, secret text);
    insert into secrets values (1, 'hidden <b>');
";

const DOGS_TSV: &str =
    "id\tname\tage\tweight\tspecies\r\n1\tCleo\t5\t51.2\t1\r\n2\tPancakes\t4\t35.5\t1\r\n";

const DOGS_GITHUB: &str = "|   id | name     |   age |   weight |   species |\n\
                           |------|----------|-------|----------|-----------|\n\
                           |    1 | Cleo     |     5 |     51.2 |         1 |\n\
                           |    2 | Pancakes |     4 |     35.5 |         1 |";

fn serve(extra: &[&str]) -> (tempfile::TempDir, Server) {
    serve_sql(
        "test",
        DOGS,
        json!({
            "databases": {"test": {
                "tables": {"secrets": {"allow": false}},
                "queries": {"heavy": "select name, weight from dogs where weight > 40"}
            }},
            "plugins": {COPYABLE: {}}
        }),
        extra,
    )
}

/// A 200 HTML page of the site: its header and stylesheet around the plugin's HTML.
fn site_page(r: Resp) -> String {
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.content_type, "text/html; charset=utf-8");
    let page = r.body;
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert!(page.contains("<header class=\"top\">"), "{page}");
    assert!(page.contains("-/static/app.css"), "{page}");
    assert!(page.trim_end().ends_with("</html>"), "{page}");
    page
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn copyable_pages_hold_the_table_as_tsv_in_the_site_page() {
    let (_dir, server) = serve(&[]);
    let r = server.get("/test/dogs.copyable");
    assert_eq!(r.header("x-robots-tag"), Some("noindex"));
    let page = site_page(r);
    assert!(page.contains("<title>Copy as tsv</title>"), "{page}");
    assert!(page.contains("<h1>Copy as tsv</h1>"), "{page}");
    assert!(
        page.contains(&format!(
            "<textarea class=\"copyable\">{DOGS_TSV}</textarea>"
        )),
        "{page}"
    );
    assert!(page.contains(">Copy to clipboard</button>"), "{page}");
    assert!(
        page.contains("<a href=\"/test/dogs.copyable?_raw=1\">Raw data</a>"),
        "{page}"
    );
    for format in [
        "github", "psql", "html", "latex", "simple", "grid", "pipe", "rst", "tsv",
    ] {
        let link = format!("<a href=\"/test/dogs.copyable?_table_format={format}\">{format}</a>");
        assert!(page.contains(&link), "{link}: {page}");
    }
    assert!(
        page.contains("<a href=\"/test\">test</a> / <a href=\"/test/dogs\">dogs</a>"),
        "{page}"
    );
}

#[test]
fn raw_gives_the_text_alone() {
    let (_dir, server) = serve(&[]);
    let raw = server.get("/test/dogs.copyable?_raw=1");
    assert_eq!(raw.status, 200, "{}", raw.body);
    assert_eq!(raw.content_type, "text/plain; charset=utf-8");
    assert_eq!(raw.body, DOGS_TSV);
    let github = server.get("/test/dogs.copyable?_table_format=github&_raw=1");
    assert_eq!(github.content_type, "text/plain; charset=utf-8");
    assert_eq!(github.body, DOGS_GITHUB);
    // A name that is no format is TSV, as in the original.
    assert_eq!(
        server
            .get("/test/dogs.copyable?_table_format=nope&_raw=1")
            .body,
        DOGS_TSV
    );
}

#[test]
fn a_format_is_chosen_with_table_format_and_escaped_in_the_page() {
    let (_dir, server) = serve(&[]);
    let page = site_page(server.get("/test/dogs.copyable?_table_format=github"));
    assert!(page.contains("<h1>Copy as github</h1>"), "{page}");
    assert!(
        page.contains(&format!(
            "<textarea class=\"copyable\">{DOGS_GITHUB}</textarea>"
        )),
        "{page}"
    );
    assert!(
        page.contains(
            "<a href=\"/test/dogs.copyable?_table_format=github&amp;_raw=1\">Raw data</a>"
        ),
        "{page}"
    );
    // HTML is text in the textarea: escaped once by the html format, again by the page.
    let html = site_page(server.get("/test/dogs.copyable?_table_format=html"));
    assert!(
        html.contains("<textarea class=\"copyable\">&lt;table&gt;\n&lt;thead&gt;\n&lt;tr&gt;&lt;th style=&#34;text-align: right;&#34;&gt;  id&lt;/th&gt;"),
        "{html}"
    );
    let raw_html = server.get("/test/dogs.copyable?_table_format=html&_raw=1");
    assert!(
        raw_html.body.starts_with(
            "<table>\n<thead>\n<tr><th style=\"text-align: right;\">  id</th><th>name    </th>"
        ),
        "{}",
        raw_html.body
    );
    let psql = server.get("/test/dogs.copyable?_table_format=psql&_raw=1");
    assert_eq!(
        psql.body,
        "+------+----------+-------+----------+-----------+\n\
         |   id | name     |   age |   weight |   species |\n\
         |------+----------+-------+----------+-----------|\n\
         |    1 | Cleo     |     5 |     51.2 |         1 |\n\
         |    2 | Pancakes |     4 |     35.5 |         1 |\n\
         +------+----------+-------+----------+-----------+"
    );
}

#[test]
fn table_row_and_query_pages_link_to_copyable() {
    let (_dir, server) = serve(&[]);
    let table = server.get("/test/dogs");
    assert_eq!(table.status, 200);
    assert!(
        table
            .body
            .contains("<a href=\"/test/dogs.copyable\">copyable</a>"),
        "{}",
        table.body
    );
    assert!(server
        .get("/test/dogs/1")
        .body
        .contains("<a href=\"/test/dogs/1.copyable\">copyable</a>"));
    assert!(server
        .get("/test/heavy")
        .body
        .contains("<a href=\"/test/heavy.copyable\">copyable</a>"));
    let sql = server.get(&format!("/test?sql={}", urlencode("select name from dogs")));
    assert!(sql.body.contains(".copyable?sql="), "{}", sql.body);
}

#[test]
fn queries_rows_and_canned_queries_are_copyable() {
    let (_dir, server) = serve(&[]);
    let sql = "select name, weight * 2 as double from dogs order by id";
    let path = format!("/test.copyable?sql={}", urlencode(sql));
    let page = site_page(server.get(&path));
    assert!(
        page.contains("<textarea class=\"copyable\">name\tdouble\r\nCleo\t102.4\r\nPancakes\t71.0\r\n</textarea>"),
        "{page}"
    );
    // The links keep the SQL, written as Datasette writes it.
    assert!(
        page.contains("<a href=\"/test.copyable?sql=select+name%2C+weight+%2A+2+as+double+from+dogs+order+by+id&amp;_table_format=rst\">rst</a>"),
        "{page}"
    );
    let raw = server.get(&format!("{path}&_table_format=simple&_raw=1"));
    assert_eq!(
        raw.body,
        "name        double\n--------  --------\nCleo         102.4\nPancakes      71"
    );
    let canned = server.get("/test/heavy.copyable?_raw=1");
    assert_eq!(canned.status, 200, "{}", canned.body);
    assert_eq!(canned.body, "name\tweight\r\nCleo\t51.2\r\n");
    let row = server.get("/test/dogs/2.copyable?_raw=1&_table_format=plain");
    assert_eq!(row.status, 200, "{}", row.body);
    assert_eq!(
        row.body,
        "  id  name        age    weight    species\n   2  Pancakes      4      35.5          1"
    );
}

#[test]
fn a_table_the_visitor_may_not_see_is_not_copyable() {
    let (_dir, server) = serve(&[]);
    for path in [
        "/test/secrets.copyable",
        "/test/secrets.copyable?_raw=1",
        "/test/secrets/1.copyable?_raw=1",
    ] {
        let r = server.get(path);
        assert_eq!(r.status, 403, "{path}: {}", r.body);
        assert!(!r.body.contains("hidden"), "{path}: {}", r.body);
    }
}

#[test]
fn links_live_under_base_url() {
    let (_dir, server) = serve(&["--setting", "base_url", "/data/"]);
    let page = site_page(server.get("/test/dogs.copyable?_table_format=grid"));
    assert!(
        page.contains(
            "<a href=\"/data/test/dogs.copyable?_table_format=grid&amp;_raw=1\">Raw data</a>"
        ),
        "{page}"
    );
    assert!(
        page.contains("<a href=\"/data/test/dogs.copyable?_table_format=jira\">jira</a>"),
        "{page}"
    );
    assert!(
        page.contains("<a href=\"/data/test\">test</a> / <a href=\"/data/test/dogs\">dogs</a>"),
        "{page}"
    );
}
