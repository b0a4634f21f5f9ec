//! Serving under a path prefix (`base_url`), as behind a proxy at `https://example.org/data/`:
//! every link, form, redirect, JSON URL, cookie and plugin link lives under the prefix, and
//! pages answer with the prefix or without it (a proxy may strip it).

use serde_json::{json, Value};
use testkit::{get_url, serve_binary, serve_fixture_with_metadata, Resp, Server};

const HOOKS: &str = "datasette-test-hooks";

fn prefixed() -> Server {
    let metadata = json!({
        "databases": {"fixture": {"tables": {"secrets": {"allow": {"id": "root"}}}}},
        "plugins": {HOOKS: {}}
    });
    serve_fixture_with_metadata(
        &metadata,
        &["--setting", "base_url", "/data/", "--root"],
        &[],
    )
    .expect("starts")
}

/// The site's address without the prefix (`Server::base` includes it).
fn host(server: &Server) -> String {
    server
        .base
        .strip_suffix("/data")
        .expect("under /data")
        .to_string()
}

/// Every `href`, `src` and `action` of a page.
fn links(html: &str) -> Vec<String> {
    let mut out = vec![];
    for attr in ["href=\"", "src=\"", "action=\""] {
        for (i, _) in html.match_indices(attr) {
            let rest = &html[i + attr.len()..];
            out.push(rest[..rest.find('"').unwrap()].replace("&amp;", "&"));
        }
    }
    out
}

/// Whether a link leaves the site's paths alone: another site, a fragment, inline data.
fn elsewhere(link: &str) -> bool {
    link.starts_with('#')
        || link.starts_with("data:")
        || link.starts_with("https://cdn.example/")
        || link.starts_with("javascript:")
}

#[test]
fn every_link_of_every_page_is_under_the_prefix() {
    let server = prefixed();
    let host = host(&server);
    let pages = [
        "/",
        "/fixture",
        "/fixture/stations",
        "/fixture/measurements?_facet=station_id",
        "/fixture/measurements?_sort_desc=ts&_size=2",
        "/fixture/measurements/1,2024-01-01T12~3A00~3A00",
        "/fixture?sql=select+1",
        "/-/metadata",
        "/fixture/nope",
        "/fixture/secrets",
        "/-/settings",
        "/-/hooks/page",
    ];
    for page in pages {
        for url in [format!("{}{page}", server.base), format!("{host}{page}")] {
            let r = get_url(&url);
            assert!([200, 403, 404].contains(&r.status), "{url}: {}", r.status);
            let found = links(&r.body);
            assert!(found.len() > 2, "{url}: {found:?}");
            for link in found.iter().filter(|l| !elsewhere(l)) {
                let local = link.strip_prefix(&host).unwrap_or(link);
                assert!(
                    local.starts_with("/data/"),
                    "{url}: {link} is not under /data/"
                );
            }
        }
    }
    // Plugins build their links with the SDK's Request::url.
    let index = server.get("/").body;
    assert!(index.contains("href=\"/data/-/hooks?sign_in_as=menu&amp;next=%2Fdata%2F\""));
    assert!(index.contains("href=\"/data/-/hooks/index.css\""));
    assert!(
        index.contains(&format!(
            "<link rel=\"alternate\" type=\"application/json+datasette\" href=\"{}/.json\">",
            server.base
        )),
        "{index}"
    );
}

#[test]
fn json_urls_and_redirects_are_under_the_prefix() {
    let server = prefixed();
    let index = server.json("/.json");
    assert_eq!(index["fixture"]["path"], "/data/fixture");
    assert_eq!(server.json("/fixture.json")["path"], "/data/fixture");
    let page = server.json("/fixture/stations.json?_size=1");
    assert_eq!(
        page["next_url"],
        format!("{}/fixture/stations.json?_size=1&_next=1", server.base)
    );
    let facets = server.json("/fixture/measurements.json?_facet=station_id&_size=0");
    let toggle = facets["facet_results"]["station_id"]["results"][0]["toggle_url"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        toggle.starts_with(&format!("{}/fixture/measurements.json?", server.base)),
        "{toggle}"
    );

    let form = server.get("/fixture/stations?_filter_column=id&_filter_op=exact&_filter_value=1");
    assert_eq!(form.status, 302);
    assert_eq!(
        form.header("location"),
        Some("/data/fixture/stations?id__exact=1")
    );
    let r = server.get("/.json");
    assert_eq!(r.header("link"), None, "JSON pages have no alternate");
    let html = server.get("/fixture");
    assert_eq!(
        html.header("link"),
        Some(
            format!(
                "{}/fixture.json; rel=\"alternate\"; type=\"application/json+datasette\"",
                server.base
            )
            .as_str()
        )
    );
}

#[test]
fn the_session_cookie_and_sign_in_redirects_are_under_the_prefix() {
    let server = prefixed();
    let root = server
        .root_url
        .clone()
        .expect("--root prints a sign-in URL");
    assert!(
        root.starts_with(&format!("{}/-/auth-token?token=", server.base)),
        "{root}"
    );
    let signed_in = get_url(&root);
    assert_eq!(signed_in.status, 302);
    assert_eq!(signed_in.header("location"), Some("/data/"));
    let cookie = signed_in.header("set-cookie").unwrap();
    assert!(cookie.contains("Path=/data;"), "{cookie}");

    // A plugin's route under the prefix: it is told the route and the prefix apart.
    let echo: Value = server.json("/-/hooks?x=1");
    assert_eq!(echo["path"], "/-/hooks");
    assert_eq!(echo["base_url"], "/data/");
    let plugin_sign_in = server.get("/-/hooks?sign_in_as=ana");
    assert_eq!(plugin_sign_in.header("location"), Some("/data/"));
}

#[test]
fn a_bad_base_url_stops_start_up_with_the_reason() {
    for bad in ["data/", "/a//b/", "/../", "/a b/"] {
        let db = testkit::fixture().fixture_db.to_str().unwrap();
        let Err(exit) = serve_binary(&[db, "--setting", "base_url", bad]) else {
            panic!("{bad} accepted");
        };
        assert!(exit.stderr.contains("base_url"), "{bad}: {}", exit.stderr);
        assert!(exit.stderr.contains("/data/"), "{bad}: {}", exit.stderr);
    }
}

/// At the root, nothing changes: links start with `/` and no prefix.
#[test]
fn at_the_root_links_have_no_prefix() {
    let server = serve_binary(&[testkit::fixture().fixture_db.to_str().unwrap()]).expect("starts");
    let r: Resp = server.get("/fixture");
    assert!(r.body.contains("<a href=\"/\">"), "{}", r.body);
    assert!(r.body.contains("href=\"/fixture/stations\""));
    assert_eq!(server.json("/.json")["fixture"]["path"], "/fixture");
}
