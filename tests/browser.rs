//! A real browser end to end: Debian's headless Chromium through ChromeDriver, against the
//! real binary with the real Auth0 plugin and a fake Auth0 that shows a login page. Browses
//! index → database → table → next page → row, uses the filter form and a sort header, signs in
//! to a protected table and out again; and, signed in as a writer, inserts, edits and deletes
//! a row with the pages' forms. Screenshots land in `target/browser-artifacts/`; any console
//! error fails the test.

use datasette_plugin_api::urlencoded::{encode, parse};
use serde_json::json;
use testkit::stub::{Reply, Stub};
use testkit::webdriver::Browser;
use testkit::{serve_fixture_with_metadata, target_debug, Server};

/// Auth0 as a browser sees it: a login page with a button, then the token and profile
/// endpoints the server calls.
fn fake_auth0() -> Stub {
    Stub::start(|req| {
        let (path, query) = req.target.split_once('?').unwrap_or((&req.target, ""));
        let q: std::collections::HashMap<String, String> = parse(query).into_iter().collect();
        match path {
            "/authorize" => {
                let back = format!(
                    "{}?code=browser-code&state={}",
                    q.get("redirect_uri").cloned().unwrap_or_default(),
                    encode(q.get("state").map(String::as_str).unwrap_or(""))
                );
                Reply::new(
                    200,
                    "text/html; charset=utf-8",
                    format!(
                        "<!DOCTYPE html><html><head><title>Fake Auth0</title><link rel=\"icon\" href=\"data:,\"></head>\
                         <body><h1>Fake Auth0</h1><a id=\"login\" href=\"{}\">Continue as Ana</a></body></html>",
                        datasette_plugin_api::html::escape(&back)
                    ),
                )
            }
            "/oauth/token" => Reply::json(
                200,
                &json!({"access_token": "browser-token", "token_type": "Bearer"}),
            ),
            "/userinfo" => Reply::json(
                200,
                &json!({"sub": "auth0|ana", "email": "ana@example.com", "email_verified": true, "name": "Ana"}),
            ),
            "/v2/logout" => {
                let to = q.get("returnTo").cloned().unwrap_or_default();
                let mut r = Reply::new(302, "text/plain", "");
                r.headers.push(("Location".into(), to));
                r
            }
            _ => Reply::new(404, "text/plain", "not found"),
        }
    })
}

fn serve(auth0: &Stub) -> Server {
    let metadata = json!({
        "databases": {"fixture": {"tables": {
            "secrets": {"allow": {"email": ["ana@example.com"]}},
            "cities": {"size": 20, "sortable_columns": ["name", "population"]}
        }}},
        "plugins": {"datasette-auth0": {
            "domain": auth0.base,
            "client_id": "browser",
            "client_secret": "browser-secret"
        }}
    });
    serve_fixture_with_metadata(&metadata, &[], &[]).expect("starts")
}

/// Asserts the page is at `path` (and query) and logged no console error.
fn at(browser: &Browser, server: &Server, path: &str, shot: &str) {
    // A click returns before the navigation it starts has finished.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut url = browser.url();
    while url.strip_prefix(&server.base) != Some(path) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
        url = browser.url();
    }
    assert_eq!(url.strip_prefix(&server.base), Some(path), "now at {url}");
    browser.screenshot(shot);
    let errors = browser.console_errors();
    assert!(errors.is_empty(), "console errors on {path}: {errors:?}");
}

#[test]
fn browse_filter_sort_sign_in_and_out_in_chromium() {
    let auth0 = fake_auth0();
    let server = serve(&auth0);
    let browser = Browser::start(target_debug().join("../browser-artifacts"));

    browser.goto(&format!("{}/", server.base));
    at(&browser, &server, "/", "01-index");
    browser.click("main h2 a[href='/fixture']");
    at(&browser, &server, "/fixture", "02-database");
    browser.click("main .db-table h3 a[href='/fixture/cities']");
    at(&browser, &server, "/fixture/cities", "03-table");
    assert!(browser.source().contains("Ciudad Stadt 0"));
    assert!(!browser.source().contains("href=\"/fixture/cities/21\""));
    browser.click("a[rel='next']");
    at(
        &browser,
        &server,
        "/fixture/cities?_next=20",
        "04-next-page",
    );
    assert!(
        browser.source().contains("href=\"/fixture/cities/21\""),
        "the second page starts at row 21"
    );
    browser.click("table.rows-and-columns tbody tr td a");
    at(&browser, &server, "/fixture/cities/21", "05-row");

    // The filter form: column, operator and value, submitted.
    browser.goto(&format!("{}/fixture/cities", server.base));
    browser.click("select[name='_filter_column'] option[value='country']");
    browser.click("select[name='_filter_op'] option[value='exact']");
    browser.type_into("input[name='_filter_value']", "Polska");
    browser.click("form.filters input[type='submit'][value='Apply']");
    at(
        &browser,
        &server,
        "/fixture/cities?country__exact=Polska",
        "06-filtered",
    );
    let filtered = browser.source();
    assert!(
        filtered.contains("where country = Polska") || filtered.contains("country = Polska"),
        "{filtered}"
    );
    assert!(!filtered.contains("Россия"));

    // A sort header.
    browser.click("th a[href*='_sort=population']");
    at(
        &browser,
        &server,
        "/fixture/cities?country__exact=Polska&_sort=population",
        "07-sorted",
    );

    // The protected table: 403, then sign in through the fake Auth0's page, and back.
    browser.goto(&format!("{}/fixture/secrets", server.base));
    assert!(browser.source().contains("Forbidden"));
    browser.screenshot("08-forbidden");
    // The 403 itself is the one console error expected: a failed load of this page.
    let errors = browser.console_errors();
    assert!(errors.iter().all(|e| e.contains("403")), "{errors:?}");
    browser.click("ul.sign-in a");
    assert!(browser
        .url()
        .starts_with(&format!("{}/authorize?", auth0.base)));
    browser.screenshot("09-fake-auth0");
    browser.click("#login");
    at(&browser, &server, "/fixture/secrets", "10-signed-in");
    assert!(browser.source().contains("s3cr3t"));
    assert!(
        browser.text("header.top").contains("Ana"),
        "the actor's name"
    );

    // Sign out from the header's menu: through Auth0's logout, back home, and the table is
    // closed again.
    browser.click("header.top details.nav-menu summary");
    browser.screenshot("11-menu");
    browser.click("header.top form[action='/-/auth0-logout'] button");
    at(&browser, &server, "/", "12-signed-out");
    browser.goto(&format!("{}/fixture/secrets", server.base));
    assert!(browser.source().contains("Forbidden"));
    assert!(browser.source().contains("Sign in with Auth0"));
}

/// The write forms in a real browser: signed in through the fake Auth0, Ana inserts a row,
/// edits it and deletes it with plain forms, and the messages say so. Chromium sends the
/// `Origin` the forms need on its own.
#[test]
fn write_forms_insert_edit_and_delete_in_chromium() {
    let auth0 = fake_auth0();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("pets.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("create table dogs (id integer primary key, name text, notes text)")
        .unwrap();
    let ana = json!({"email": "ana@example.com"});
    let metadata = json!({
        "permissions": {"insert-row": ana, "update-row": ana, "delete-row": ana},
        "plugins": {"datasette-auth0": {
            "domain": auth0.base,
            "client_id": "browser",
            "client_secret": "browser-secret"
        }}
    });
    let meta = dir.path().join("metadata.json");
    std::fs::write(&meta, metadata.to_string()).unwrap();
    let server = testkit::serve_binary(&[
        db.to_str().unwrap(),
        "-m",
        meta.to_str().unwrap(),
        "--secret",
        testkit::TEST_SECRET,
    ])
    .expect("starts");
    let browser = Browser::start(target_debug().join("../browser-artifacts"));

    browser.goto(&format!("{}/pets/dogs", server.base));
    assert!(
        !browser.source().contains("Insert a row"),
        "not signed in yet"
    );
    browser.goto(&format!("{}/-/auth0-login?next=/pets/dogs", server.base));
    browser.click("#login");
    at(&browser, &server, "/pets/dogs", "20-writer-signed-in");

    browser.click("details.write-form summary");
    browser.type_into("input[name='column.name']", "Cleo");
    browser.click("input[type='submit'][value='Insert row']");
    at(&browser, &server, "/pets/dogs", "21-inserted");
    assert!(browser.source().contains("Row inserted"));
    assert!(browser.text("table.rows-and-columns").contains("Cleo"));

    browser.goto(&format!("{}/pets/dogs/1", server.base));
    browser.click("details.write-form summary");
    browser.type_into("input[name='column.notes']", "good dog");
    browser.click("input[type='submit'][value='Save']");
    at(&browser, &server, "/pets/dogs/1", "22-updated");
    assert!(browser.source().contains("Row updated"));
    assert!(browser.text("table.rows-and-columns").contains("good dog"));

    browser.click("input[type='submit'][value='Delete this row']");
    at(&browser, &server, "/pets/dogs", "23-deleted");
    assert!(browser.source().contains("Row deleted"));
    let left: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("select count(*) from dogs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 0);
}

/// The pages' own scripts in a real browser: a column's menu sorts and facets, a filter row is
/// added, applied and removed, the SQL editor completes only the tables the visitor may see
/// and runs with Ctrl-Enter, and a site's own `_table` partial draws a table's rows as cards.
#[test]
fn column_menus_filter_rows_editor_and_a_sites_partial_in_chromium() {
    let site = tempfile::tempdir().unwrap();
    std::fs::write(
        site.path().join("_table-fixture-stations.html"),
        r#"{% for row in display_rows %}<div class="station-card"><h2>{{ row["name"] }}</h2><p>{{ row["elevation_m"] }} m</p></div>{% endfor %}"#,
    )
    .unwrap();
    let metadata = json!({
        "databases": {"fixture": {"tables": {
            "secrets": {"allow": {"id": "root"}},
            "cities": {"size": 20, "sortable_columns": ["name", "population"]}
        }}}
    });
    let server = serve_fixture_with_metadata(
        &metadata,
        &["--template-dir", site.path().to_str().unwrap()],
        &[],
    )
    .expect("starts");
    let browser = Browser::start(target_debug().join("../browser-artifacts"));
    let page = |path: &str| browser.goto(&format!("{}{path}", server.base));

    // The column menu of a sortable column: it opens, shows the column's type, and sorts.
    page("/fixture/cities");
    browser.click("th[data-column='population'] button.col-menu-button");
    assert!(browser.wait_for("div.col-menu:not([hidden]) a[data-action='sort-desc']"));
    let kind = browser.text("div.col-menu:not([hidden]) .col-menu-type");
    assert!(kind.to_lowercase().contains("integer"), "{kind}");
    browser.screenshot("13-column-menu");
    browser.click("div.col-menu:not([hidden]) a[data-action='sort-desc']");
    at(
        &browser,
        &server,
        "/fixture/cities?_sort_desc=population",
        "14-menu-sorted",
    );
    // "Facet by this" on another column keeps the sort.
    browser.click("th[data-column='country'] button.col-menu-button");
    assert!(browser.wait_for("div.col-menu:not([hidden]) a[data-action='facet']"));
    browser.click("div.col-menu:not([hidden]) a[data-action='facet']");
    at(
        &browser,
        &server,
        "/fixture/cities?_sort_desc=population&_facet=country",
        "15-menu-faceted",
    );
    assert!(browser.wait_for(".facet-info[data-column='country']"));

    // A second filter row, added, filled and applied beside the first.
    page("/fixture/cities?country__exact=Polska");
    browser.click("button.add-filter");
    assert!(browser.wait_for(".filter-row[data-added-filter]"));
    browser.click(".filter-row[data-added-filter] select option[value='population']");
    browser.click(".filter-row[data-added-filter] .filter-op select option[value='gt']");
    browser.type_into(
        ".filter-row[data-added-filter] input.filter-value",
        "4000000",
    );
    browser.screenshot("16-filter-added");
    browser.click("form.filters input[type='submit'][value='Apply']");
    at(
        &browser,
        &server,
        "/fixture/cities?country__exact=Polska&population__gt=4000000",
        "17-two-filters",
    );
    // Removing the first filter row drops its filter.
    browser.click(".filter-row button.remove-filter");
    browser.click("form.filters input[type='submit'][value='Apply']");
    at(
        &browser,
        &server,
        "/fixture/cities?population__gt=4000000",
        "18-filter-removed",
    );

    // The SQL editor on the database page completes the tables this visitor may see, and
    // Ctrl-Enter runs the query.
    page("/fixture");
    assert!(browser.wait_for(".cm-editor .cm-content"));
    browser.click(".cm-editor .cm-content");
    // Ctrl-End: after "select * from ".
    browser.keys("\u{E009}\u{E010}");
    browser.keys("ci");
    assert!(browser.wait_for(".cm-tooltip-autocomplete li"));
    let offered = browser.text(".cm-tooltip-autocomplete");
    assert!(offered.contains("cities"), "{offered}");
    browser.screenshot("19-editor-completion");
    // Two backspaces, then the start of the hidden table's name.
    browser.keys("\u{E003}\u{E003}se");
    std::thread::sleep(std::time::Duration::from_millis(500));
    let offered = browser.execute(
        "const t = document.querySelector('.cm-tooltip-autocomplete'); return t ? t.textContent : ''",
        json!([]),
    );
    assert!(
        !offered.as_str().unwrap_or_default().contains("secrets"),
        "a table hidden from this visitor is not offered: {offered}"
    );
    // Escape, select all, a query of its own, and Ctrl-Enter runs it.
    browser.keys("\u{E00C}");
    browser.keys("\u{E009}a");
    browser.keys("select name from cities limit 2\u{E00C}");
    browser.keys("\u{E009}\u{E007}");
    at(
        &browser,
        &server,
        "/fixture?sql=select+name+from+cities+limit+2",
        "20-editor-ran",
    );
    assert!(browser.source().contains("Ciudad Stadt 0"));

    // The site's partial draws the stations as cards, inside the built-in page.
    page("/fixture/stations");
    assert!(browser.wait_for("div.station-card h2"));
    assert!(browser
        .text("div.station-card h2")
        .contains("Zürich Fluntern"));
    assert!(browser.source().contains(r#"<form class="filters""#));
    at(&browser, &server, "/fixture/stations", "21-site-partial");

    // A visitor who prefers dark pages gets them.
    browser.prefer_dark(true);
    page("/fixture/cities");
    let background = browser.execute(
        "return getComputedStyle(document.body).backgroundColor",
        json!([]),
    );
    assert_ne!(background, json!("rgb(255, 255, 255)"));
    at(&browser, &server, "/fixture/cities", "22-dark");
    browser.prefer_dark(false);

    // A phone: the page is no wider than its screen (the grid scrolls inside its wrapper).
    browser.resize(375, 812);
    for path in ["/fixture/cities", "/fixture", "/fixture/cities/1", "/"] {
        page(path);
        let width = browser.execute("return document.documentElement.scrollWidth", json!([]));
        assert!(
            width.as_u64().is_some_and(|w| w <= 375),
            "{path} is {width} pixels wide"
        );
    }
    page("/fixture/cities");
    at(&browser, &server, "/fixture/cities", "23-phone");
}
