//! The documentation's screenshots, taken in headless Chromium against the sample database:
//! `cargo run -p testkit --example screenshots` writes `docs/screenshots/*.png`.

use testkit::webdriver::Browser;

fn main() {
    let server = testkit::serve_binary(&[]).expect("the server starts on the sample database");
    let out = testkit::root().join("docs/screenshots");
    let browser = Browser::start(out.clone());
    let page = |path: &str| browser.goto(&format!("{}{path}", server.base));

    page("/");
    browser.screenshot("index");

    // Tall enough for the facet, the grid and an open column menu.
    browser.resize(1280, 1180);
    page("/sample/cities?_facet=country&_sort_desc=population");
    browser.click("th[data-column='population'] button.col-menu-button");
    assert!(browser.wait_for("div.col-menu:not([hidden])"));
    browser.execute("window.scrollTo(0, 0)", serde_json::json!([]));
    browser.screenshot("table");
    browser.resize(1280, 900);

    page("/sample");
    assert!(browser.wait_for(".cm-editor .cm-content"));
    browser.click(".cm-editor .cm-content");
    browser.keys("\u{E009}\u{E010}");
    browser.keys("ci");
    assert!(browser.wait_for(".cm-tooltip-autocomplete li"));
    browser.screenshot("editor");

    page("/sample?sql=select+country%2C+count(*)+as+cities%2C+sum(population)+as+people+from+cities+group+by+country+order+by+people+desc");
    browser.screenshot("query");

    browser.prefer_dark(true);
    page("/sample/cities?_facet=country");
    browser.screenshot("table-dark");
    browser.prefer_dark(false);

    browser.resize(375, 812);
    page("/sample/cities");
    browser.screenshot("table-phone");

    let errors = browser.console_errors();
    assert!(errors.is_empty(), "console errors: {errors:?}");
    println!("screenshots in {}", out.display());
}
