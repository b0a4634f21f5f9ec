//! Sessions: the actor in a private cookie, `--root`, signing out, and cookies that must not
//! be trusted (tampered, or made with another secret).

use testkit::{fixture, serve_binary, Server};

fn start(secret: &str, root: bool) -> Server {
    let f = fixture();
    let mut args = vec![
        f.fixture_db.to_str().unwrap(),
        "-m",
        f.metadata.to_str().unwrap(),
        "--secret",
        secret,
    ];
    if root {
        args.push("--root");
    }
    serve_binary(&args).expect("starts")
}

/// Signs in through the `--root` URL; returns the session cookie.
fn sign_in_as_root(server: &Server) -> String {
    let url = server.root_url.clone().expect("--root prints a URL");
    let path = url.strip_prefix(&server.base).expect("URL on this server");
    let r = server.get(path);
    assert_eq!(r.status, 302, "{}", r.body);
    assert_eq!(r.header("location"), Some("/"));
    let set = r
        .header("set-cookie")
        .expect("a session cookie")
        .to_string();
    assert!(set.contains("HttpOnly"), "{set}");
    assert!(set.contains("SameSite=Lax"), "{set}");
    assert!(!set.contains("root"), "the cookie is encrypted: {set}");
    r.cookie().unwrap()
}

fn actor(server: &Server, cookie: &str) -> serde_json::Value {
    server
        .request("GET", "/-/actor.json", &[("Cookie", cookie)])
        .json()["actor"]
        .clone()
}

#[test]
fn root_signs_in_once_and_sees_protected_tables() {
    let server = start(testkit::TEST_SECRET, true);
    assert_eq!(server.get("/fixture/secrets.json").status, 403);
    let cookie = sign_in_as_root(&server);
    assert_eq!(actor(&server, &cookie), serde_json::json!({"id": "root"}));
    let r = server.request("GET", "/fixture/secrets.json", &[("Cookie", &cookie)]);
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["private"], true);
    assert_eq!(v["filtered_table_rows_count"], 3);
    let listing = server
        .request("GET", "/fixture.json", &[("Cookie", &cookie)])
        .json();
    assert!(listing["tables"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "secrets" && t["private"] == true));
    // The URL works once.
    let again = server.get(
        server
            .root_url
            .as_ref()
            .unwrap()
            .strip_prefix(&server.base)
            .unwrap(),
    );
    assert_eq!(again.status, 403);
    assert!(again.header("set-cookie").is_none());
}

#[test]
fn tampered_and_foreign_cookies_are_anonymous() {
    let a = start("secret A, long enough to be accepted", true);
    let cookie = sign_in_as_root(&a);
    // Flip one character of the value.
    let (name, value) = cookie.split_once('=').unwrap();
    let mut bytes = value.as_bytes().to_vec();
    let i = bytes.len() / 2;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    let tampered = format!("{name}={}", String::from_utf8(bytes).unwrap());
    assert_eq!(actor(&a, &tampered), serde_json::Value::Null);
    assert_eq!(actor(&a, "ds_session=garbage"), serde_json::Value::Null);
    // Another instance with another secret does not accept it...
    let b = start("secret B, long enough to be accepted", false);
    assert_eq!(actor(&b, &cookie), serde_json::Value::Null);
    assert_eq!(
        b.request("GET", "/fixture/secrets.json", &[("Cookie", &cookie)])
            .status,
        403
    );
    // ...and one with the same secret does.
    let c = start("secret A, long enough to be accepted", false);
    assert_eq!(actor(&c, &cookie), serde_json::json!({"id": "root"}));
}

#[test]
fn sign_out_needs_a_same_site_post() {
    let server = start(testkit::TEST_SECRET, true);
    let cookie = sign_in_as_root(&server);
    let page = server.request("GET", "/-/logout", &[("Cookie", &cookie)]);
    assert!(page.body.contains("method=\"post\""), "{}", page.body);
    assert!(page
        .body
        .contains("<p>You are logged in as <strong>root</strong></p>"));
    // Nobody to log out: home, as Datasette does.
    let anonymous = server.get("/-/logout");
    assert_eq!(anonymous.status, 302);
    assert_eq!(anonymous.header("location"), Some("/"));
    // Every page offers the signed-in actor a way out, as Datasette's header does.
    let logout_button = "<form action=\"/-/logout\" method=\"post\">";
    let home = server.request("GET", "/fixture", &[("Cookie", &cookie)]);
    assert!(home.body.contains(logout_button), "{}", home.body);
    assert!(home.body.contains("<strong>root</strong>"));
    assert!(
        !server.get("/fixture").body.contains(logout_button),
        "not for visitors"
    );
    let forged = server.request(
        "POST",
        "/-/logout",
        &[("Cookie", &cookie), ("Origin", "https://evil.example")],
    );
    assert_eq!(forged.status, 403);
    let forged = server.request(
        "POST",
        "/-/logout",
        &[("Cookie", &cookie), ("Sec-Fetch-Site", "cross-site")],
    );
    assert_eq!(forged.status, 403);
    assert_eq!(actor(&server, &cookie), serde_json::json!({"id": "root"}));
    let origin = server.base.clone();
    let r = server.request(
        "POST",
        "/-/logout",
        &[
            ("Cookie", &cookie),
            ("Origin", &origin),
            ("Sec-Fetch-Site", "same-origin"),
        ],
    );
    assert_eq!(r.status, 302);
    let cleared = r.header("set-cookie").expect("the cookie is cleared");
    assert!(
        cleared.contains("Max-Age=0") || cleared.contains("expires"),
        "{cleared}"
    );
    // The browser drops the cookie; a fresh request is anonymous.
    assert!(actor(&server, "").is_null());
}
