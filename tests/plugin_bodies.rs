//! Bodies of plugins' requests and responses through the real binary: multipart uploads
//! spooled to a file, bytes both ways, answers streamed from a file, per-route limits, the
//! CSRF token a form carries, and messages for the next page.

use serde_json::{json, Value};
use testkit::{fixture, multipart, send_bytes, serve_fixture_with_metadata, Resp, Server};

const HOOKS: &str = "datasette-test-hooks";

/// The fixture with the hooks plugin, its bodies allowed up to 32 MiB.
fn server() -> Server {
    let _ = fixture();
    serve_fixture_with_metadata(
        &json!({"plugins": {HOOKS: {}}}),
        &["--setting", "max_post_body_bytes", "33554432"],
        &[],
    )
    .expect("starts")
}

fn post(server: &Server, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Resp {
    send_bytes("POST", &format!("{}{path}", server.base), headers, body)
}

/// The same checksum as the hooks plugin's.
fn sum(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0u64, |s, &b| s.wrapping_mul(31).wrapping_add(b as u64))
}

#[test]
fn a_large_upload_is_spooled_and_streamed_to_the_plugin_intact() {
    let server = server();
    let big: Vec<u8> = (0..5_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let (body, content_type) =
        multipart(&[("title", None, b"numbers"), ("file", Some("big.bin"), &big)]);
    let r = post(
        &server,
        "/-/hooks/upload",
        &[("content-type", &content_type)],
        body,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let answer = r.json();
    assert_eq!(answer["spooled"], true, "5 MB goes to a file, not memory");
    assert_eq!(
        answer["parts"],
        json!([
            {"name": "title", "filename": null, "size": 7, "sum": sum(b"numbers")},
            {"name": "file", "filename": "big.bin", "size": 5_000_000, "sum": sum(&big)}
        ])
    );
    // A small body stays in memory.
    let (body, content_type) = multipart(&[("a", None, b"1")]);
    let r = post(
        &server,
        "/-/hooks/upload",
        &[("content-type", &content_type)],
        body,
    );
    assert_eq!(r.json()["spooled"], false);
}

#[test]
fn each_route_takes_bodies_up_to_its_own_limit_within_the_hosts() {
    let server = server();
    let r = post(&server, "/-/hooks/small", &[], vec![b'x'; 1000]);
    assert_eq!(r.status, 200, "{}", r.body);
    let r = post(&server, "/-/hooks/small", &[], vec![b'x'; 1001]);
    assert_eq!(r.status, 413, "{}", r.body);
    // The upload route asks for 64 MiB; the host's max_post_body_bytes (32 MiB) wins.
    let (body, content_type) = multipart(&[("f", Some("f"), &vec![0u8; 33 << 20])]);
    let r = post(
        &server,
        "/-/hooks/upload",
        &[("content-type", &content_type)],
        body,
    );
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.body.contains("max_post_body_bytes"), "{}", r.body);
    // Bodies are bytes, not text: invalid UTF-8 reaches the plugin.
    let r = post(&server, "/-/hooks/small", &[], vec![0xff, 0xfe, b'a']);
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn answers_are_bytes_and_a_file_answer_is_streamed_then_deleted() {
    let server = server();
    let r = server.get("/-/hooks/bytes");
    assert_eq!(r.header("content-type"), Some("image/x-test"));
    assert_eq!(r.bytes, (0..=255u8).rev().collect::<Vec<u8>>());

    let r = server.get("/-/hooks/export?mb=8");
    assert_eq!(r.status, 200);
    assert_eq!(r.bytes.len(), 8 * (1 << 20) / 64 * 64);
    assert!(r.bytes.starts_with(b"0123456789abcdef"));
    let file = r
        .header("x-export-file")
        .expect("the file's name")
        .to_string();
    testkit::eventually("the answer's file is deleted", || {
        !std::path::Path::new(&file).exists()
    });
}

/// The CSRF token of a form page, and the session cookie that holds it.
fn form_token(server: &Server, cookie: Option<&str>) -> (String, String) {
    let headers: Vec<(&str, &str)> = cookie.map(|c| ("cookie", c)).into_iter().collect();
    let page = server.request("GET", "/-/hooks/form", &headers);
    assert_eq!(page.status, 200, "{}", page.body);
    let token = page
        .body
        .split("name=\"csrftoken\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a token in the form")
        .to_string();
    let cookie = page
        .cookie()
        .or(cookie.map(str::to_string))
        .expect("a session");
    (token, cookie)
}

#[test]
fn a_form_post_with_cookies_needs_the_visitors_csrf_token() {
    let server = server();
    let (token, cookie) = form_token(&server, None);
    assert!(cookie.starts_with("ds_csrftoken="), "{cookie}");
    let form = |body: &str, extra: &[(&str, &str)]| {
        let mut headers = vec![
            ("cookie", cookie.as_str()),
            ("content-type", "application/x-www-form-urlencoded"),
        ];
        headers.extend_from_slice(extra);
        post(&server, "/-/hooks/form", &headers, body.as_bytes().to_vec())
    };
    let r = form("say=hi", &[]);
    assert_eq!(r.status, 403, "no token: {}", r.body);
    assert!(r.body.contains("CSRF token"), "{}", r.body);
    let r = form("say=hi&csrftoken=0000", &[]);
    assert_eq!(r.status, 403, "a wrong token: {}", r.body);
    let r = form(&format!("say=hi&csrftoken={}", encode(&token)), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json(), json!([["say", "hi"], ["csrftoken", token]]));
    let r = form("say=header", &[("x-csrftoken", &token)]);
    assert_eq!(r.status, 200, "the header carries it too: {}", r.body);
    // The token stays the session's from page to page.
    let (again, _) = form_token(&server, Some(&cookie));
    assert_eq!(again, token);
    // Another visitor's token is not this one's.
    let (other, _) = form_token(&server, None);
    assert_ne!(other, token);
    let r = form(&format!("say=hi&csrftoken={}", encode(&other)), &[]);
    assert_eq!(r.status, 403);

    // In a multipart form, the token is the first field.
    let (body, content_type) = multipart(&[
        ("csrftoken", None, token.as_bytes()),
        ("f", Some("a.csv"), b"a,b"),
    ]);
    let headers = [
        ("cookie", cookie.as_str()),
        ("content-type", content_type.as_str()),
    ];
    let r = post(&server, "/-/hooks/upload", &headers, body);
    assert_eq!(r.status, 200, "{}", r.body);
    let (body, content_type) = multipart(&[("f", Some("a.csv"), b"a,b")]);
    let headers = [
        ("cookie", cookie.as_str()),
        ("content-type", content_type.as_str()),
    ];
    assert_eq!(post(&server, "/-/hooks/upload", &headers, body).status, 403);

    // Without cookies there is nothing to forge; a route may opt out for its API callers.
    assert_eq!(
        post(&server, "/-/hooks/small", &[], b"x".to_vec()).status,
        200
    );
    let r = post(
        &server,
        "/-/hooks/api",
        &[("cookie", &cookie)],
        b"x".to_vec(),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // A browser's word that the POST comes from another site's page refuses it, token or
    // not (a route that opted out checks its callers itself).
    let r = post(
        &server,
        "/-/hooks/form",
        &[
            ("cookie", &cookie),
            ("content-type", "application/x-www-form-urlencoded"),
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://evil.example"),
        ],
        format!("csrftoken={}", encode(&token)).into_bytes(),
    );
    assert_eq!(r.status, 403, "{}", r.body);
}

#[test]
fn answers_that_hold_no_form_set_no_cookie_and_head_is_get() {
    let server = server();
    let r = server.get("/-/hooks/bytes");
    assert!(r.set_cookies().is_empty(), "{:?}", r.headers);
    let r = server.request("HEAD", "/-/hooks/bytes", &[]);
    assert_eq!(r.status, 200);
    // Captures that decode to more than one segment or a step up match nothing.
    assert_eq!(server.get("/-/hooks/item/a%2Fb/c").status, 404);
    assert_eq!(server.get("/-/hooks/item/a/b%2F..%2Fc").status, 404);
}

fn encode(s: &str) -> String {
    datasette_plugin_api::urlencoded::encode(s)
}

#[test]
fn a_plugins_message_is_shown_on_the_next_page() {
    let server = server();
    let (token, cookie) = form_token(&server, None);
    let r = post(
        &server,
        "/-/hooks/form",
        &[
            ("cookie", &cookie),
            ("content-type", "application/x-www-form-urlencoded"),
        ],
        format!("csrftoken={}", encode(&token)).into_bytes(),
    );
    assert_eq!(r.status, 200);
    let cookie = r.cookie().unwrap_or(cookie);
    let page = server.request("GET", "/", &[("cookie", &cookie)]);
    assert!(page.body.contains("Form received"), "{}", page.body);
    let value: Value = r.json();
    assert!(value.is_array());
}
