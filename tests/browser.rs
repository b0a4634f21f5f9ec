//! A real browser end to end: Debian's headless Chromium through ChromeDriver, against the
//! real binary with the real Auth0 plugin and a fake Auth0 that shows a login page. Browses
//! index → database → table → next page → row, uses the filter form and a sort header, signs in
//! to a protected table and out again. Screenshots land in `target/browser-artifacts/`; any
//! console error fails the test.

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
