//! A plugin written in C (`tests/plugins/c-hello/hello.c`), compiled here with the system's C
//! compiler against `crates/plugin-api/include/datasette_plugin.h` and loaded by the real
//! binary: the C ABI is all a plugin needs, to serve a route, call back into the host,
//! recognise actors and vote on permissions.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::{json, Value};
use testkit::{root, scratch_dir, serve_fixture_with_metadata, Resp, Server};

const NAME: &str = "datasette-c-hello";

/// The plugin library, compiled once per test process into the scratch directory under the
/// file name the host looks for (`libdatasette_c_hello.so`).
fn c_plugin() -> &'static Path {
    static LIBRARY: OnceLock<PathBuf> = OnceLock::new();
    LIBRARY.get_or_init(|| {
        let library = scratch_dir().join(datasette_rs::plugins::library_file_name(NAME));
        let compiler = std::env::var("CC").unwrap_or_else(|_| "cc".into());
        let output = Command::new(&compiler)
            .args([
                "-std=c11", "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror",
            ])
            .arg("-I")
            .arg(root().join("crates/plugin-api/include"))
            .arg("-o")
            .arg(&library)
            .arg(root().join("tests/plugins/c-hello/hello.c"))
            .output()
            .unwrap_or_else(|e| panic!("run the C compiler `{compiler}`: {e}"));
        assert!(
            output.status.success(),
            "hello.c does not compile:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        library
    })
}

/// The fixture database, its `secrets` table allowed only to an actor nobody is, and the C
/// plugin loaded with `--plugin`.
fn server() -> Server {
    let metadata = json!({
        "databases": {"fixture": {"tables": {"secrets": {"allow": {"id": "nobody"}}}}}
    });
    let library = c_plugin().to_str().expect("a UTF-8 path");
    serve_fixture_with_metadata(&metadata, &["--plugin", library], &[])
        .unwrap_or_else(|exit| panic!("the server did not start:\n{}", exit.stderr))
}

/// A request the C plugin takes as made by `actor`.
fn get_as(server: &Server, path: &str, actor: &str) -> Resp {
    server.request("GET", path, &[("x-c-actor", actor)])
}

#[test]
fn a_plugin_written_in_c_serves_a_route_that_queries_the_host() {
    let server = server();
    let r = server.get("/-/hello-c");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.content_type, "text/plain; charset=utf-8");
    let answer = r
        .body
        .strip_prefix("Hello from C! The host says: ")
        .unwrap_or_else(|| panic!("no greeting: {}", r.body));
    let answer: Value = serde_json::from_str(answer)
        .unwrap_or_else(|e| panic!("the host's answer is not JSON ({e}): {answer}"));
    assert_eq!(
        answer,
        json!({"columns": ["answer"], "rows": [[42]], "truncated": false})
    );
}

#[test]
fn plugins_json_lists_the_c_plugin_with_its_hooks_and_route() {
    let server = server();
    assert_eq!(
        server.json("/-/plugins.json"),
        json!([{
            "name": NAME,
            "version": "0.1.0",
            "hooks": ["startup", "routes", "handle", "actor_from_request", "permission_allowed"],
            "routes": ["/-/hello-c"]
        }])
    );
}

#[test]
fn a_c_plugin_logs_through_the_host_under_its_name() {
    let server = server();
    assert!(
        server.logged("started, written in C"),
        "not logged:\n{}",
        server.log()
    );
    assert!(
        server.logged(&format!("plugin=\"{NAME}\"")),
        "{}",
        server.log()
    );
}

#[test]
fn a_c_plugin_recognises_the_actor_named_in_its_header() {
    let server = server();
    let r = get_as(&server, "/-/actor.json", "c-friend");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json(), json!({"actor": {"id": "c-friend"}}));
    assert_eq!(server.json("/-/actor.json"), json!({"actor": null}));
    // A value that would need escaping is no actor.
    let odd = get_as(&server, "/-/actor.json", "c-friend \"admin\"");
    assert_eq!(odd.json(), json!({"actor": null}));
}

#[test]
fn a_c_plugins_vote_opens_a_table_nobody_else_may_see() {
    let server = server();
    let friend = get_as(&server, "/fixture/secrets.json", "c-friend");
    assert_eq!(friend.status, 200, "{}", friend.body);
    assert_eq!(friend.json()["filtered_table_rows_count"], 3);
    assert_eq!(server.get("/fixture/secrets.json").status, 403);
    let stranger = get_as(&server, "/fixture/secrets.json", "someone-else");
    assert_eq!(stranger.status, 403, "{}", stranger.body);
}

#[test]
fn a_c_plugins_false_vote_closes_a_public_table() {
    let server = server();
    assert_eq!(server.get("/fixture/cities.json").status, 200);
    let enemy = get_as(&server, "/fixture/cities.json", "c-enemy");
    assert_eq!(enemy.status, 403, "{}", enemy.body);
}
