//! Walking every `_next` link returns every row exactly once, in the page's order.

use rusqlite::types::Value as Sql;
use serde_json::Value;
use testkit::{fixture, Server, TestApp};

/// Follows `next_url` from `start`; returns every row (as arrays) and the number of pages.
fn walk(server: &Server, start: &str) -> (Vec<Value>, usize) {
    let mut rows = Vec::new();
    let mut url = format!("{}{start}", server.base);
    let mut pages = 0;
    loop {
        pages += 1;
        assert!(pages < 10_000, "pagination does not end");
        let page = testkit::get_url(&url);
        assert_eq!(page.status, 200, "{url}: {}", page.body);
        let v = page.json();
        rows.extend(v["rows"].as_array().unwrap().iter().cloned());
        match v["next_url"].as_str() {
            Some(next) => url = next.to_string(),
            None => {
                assert!(v["next"].is_null());
                break;
            }
        }
    }
    (rows, pages)
}

/// The same rows straight from SQLite, as JSON values.
fn expected(db: &std::path::Path, sql: &str) -> Vec<Value> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    let n = stmt.column_count();
    stmt.query_map([], |r| {
        Ok(Value::Array(
            (0..n)
                .map(|i| match r.get::<_, Sql>(i).unwrap() {
                    Sql::Null => Value::Null,
                    Sql::Integer(x) => x.into(),
                    Sql::Real(x) => x.into(),
                    Sql::Text(s) => s.into(),
                    Sql::Blob(_) => panic!("blob"),
                })
                .collect(),
        ))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

fn check(start: &str, sql: &str, min_pages: usize) {
    let server = TestApp::new().start();
    let (rows, pages) = walk(&server, start);
    let want = expected(&fixture().fixture_db, sql);
    assert!(pages >= min_pages, "{start}: only {pages} pages");
    assert_eq!(rows.len(), want.len(), "{start}: row count");
    assert_eq!(rows, want, "{start}: rows differ");
}

#[test]
fn rowid_table() {
    check(
        "/fixture/cities.json?_size=7",
        "select rowid, * from cities order by rowid",
        40,
    );
}

#[test]
fn integer_primary_key() {
    check(
        "/fixture/stations.json?_size=5",
        "select * from stations order by id",
        3,
    );
}

#[test]
fn compound_primary_key() {
    check(
        "/fixture/measurements.json?_size=7",
        "select * from measurements order by station_id, ts",
        40,
    );
}

#[test]
fn sort_over_nulls_and_duplicates() {
    // note: NULLs, empty strings and many duplicates; population: NULLs.
    check(
        "/fixture/measurements.json?_size=9&_sort=note",
        "select * from measurements order by note, station_id, ts",
        30,
    );
    check(
        "/fixture/measurements.json?_size=9&_sort_desc=note",
        "select * from measurements order by note desc, station_id, ts",
        30,
    );
    check(
        "/fixture/cities.json?_size=11&_sort=population",
        "select rowid, * from cities order by population, rowid",
        25,
    );
    check(
        "/fixture/cities.json?_size=11&_sort_desc=population",
        "select rowid, * from cities order by population desc, rowid",
        25,
    );
    check(
        "/fixture/stations.json?_size=2&_sort_desc=elevation_m",
        "select * from stations order by elevation_m desc, id",
        6,
    );
}

#[test]
fn filtered_and_sorted() {
    check(
        "/fixture/cities.json?_size=4&country=Polska&_sort=founded",
        "select rowid, * from cities where country = 'Polska' order by founded, rowid",
        10,
    );
}

#[test]
fn view_by_offset() {
    check(
        "/fixture/big_cities.json?_size=10",
        "select * from big_cities",
        20,
    );
}

#[test]
fn html_next_link_walks_too() {
    let server = TestApp::new().start();
    let first = server.get("/fixture/stations?_size=5");
    assert_eq!(first.status, 200);
    assert!(first.body.contains("rel=\"next\""), "no next link");
    assert!(first.body.contains("_next=5"), "{}", first.body);
}

/// Datasette's `Link: <URL>; rel="next"` header pages through every JSON shape alike, the bare
/// shapes included (they have no `next_url` in their body), and ends on the last page.
#[test]
fn link_header_walks_every_shape() {
    let server = TestApp::new().start();
    let want = expected(
        &fixture().fixture_db,
        "select * from measurements order by station_id, ts",
    )
    .len();
    for shape in [
        "",
        "&_shape=objects",
        "&_shape=array",
        "&_shape=arrayfirst",
        "&_shape=object",
    ] {
        let mut url = format!("{}/fixture/measurements.json?_size=50{shape}", server.base);
        let (mut pages, mut rows) = (0, 0);
        loop {
            pages += 1;
            assert!(pages < 1_000, "{shape}: the Link header never ends");
            let page = testkit::get_url(&url);
            assert_eq!(page.status, 200, "{url}: {}", page.body);
            let v = page.json();
            rows += match &v {
                Value::Array(a) => a.len(),
                Value::Object(o) if o.contains_key("rows") => v["rows"].as_array().unwrap().len(),
                Value::Object(o) => o.len(),
                _ => panic!("{shape}: {v}"),
            };
            let Some(link) = page.header("link") else {
                break;
            };
            let next = link
                .strip_prefix('<')
                .and_then(|l| l.strip_suffix(">; rel=\"next\""))
                .unwrap_or_else(|| panic!("{shape}: Link header {link:?}"));
            assert!(next.starts_with("http://"), "{next}");
            url = next.to_string();
        }
        assert_eq!(rows, want, "{shape}: rows over {pages} pages");
        assert!(pages > 1, "{shape}: one page only");
    }
    // HTML pages keep their `rel="alternate"` Link and get no `rel="next"` one.
    let html = server.get("/fixture/measurements?_size=50");
    assert!(!html.header("link").unwrap_or("").contains("rel=\"next\""));
}

#[test]
fn sorted_by_its_own_key_a_bare_key_token_pages_on() {
    let server = TestApp::new().start();
    // `_next=3` as a person writes it: the key alone, though the page is sorted by it.
    for (sort, sql) in [
        (
            "_sort=id",
            "select * from stations where id > 3 order by id",
        ),
        (
            "_sort_desc=id",
            "select * from stations where id < 3 order by id desc",
        ),
    ] {
        let (rows, _) = walk(
            &server,
            &format!("/fixture/stations.json?_size=2&_next=3&{sort}"),
        );
        assert!(!rows.is_empty(), "{sort}");
        assert_eq!(rows, expected(&fixture().fixture_db, sql), "{sort}");
    }
}
