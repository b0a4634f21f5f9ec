//! Plugins through the real binary and real libraries: every hook, session effects, `fetch`
//! against a local server, contained failures, and each refusal at start-up.

use std::path::PathBuf;

use serde_json::{json, Value};
use testkit::stub::{Reply, Stub};
use testkit::{
    fixture, plugin_library, serve_binary, serve_binary_with_env, serve_fixture_with_metadata,
    serve_sql, Exit, Server,
};

const HOOKS: &str = "datasette-test-hooks";
const IMPOSTOR: &str = "datasette-test-impostor";

/// The fixture, its secrets table for root only, and these plugin blocks.
fn metadata_with(plugins: Value) -> Value {
    json!({
        "databases": {"fixture": {"tables": {"secrets": {"allow": {"id": "root"}}}}},
        "plugins": plugins
    })
}

/// Serves the fixture with `plugins` enabled in metadata.json (found beside the binary).
fn serve_with(plugins: Value, extra: &[&str], env: &[(&str, &str)]) -> Result<Server, Exit> {
    serve_fixture_with_metadata(&metadata_with(plugins), extra, env)
}

fn hooks_server() -> Server {
    serve_with(json!({HOOKS: {"greeting": "hi"}}), &[], &[]).expect("starts")
}

fn refused(plugins: Value, extra: &[&str], env: &[(&str, &str)]) -> String {
    match serve_with(plugins, extra, env) {
        Ok(_) => panic!("the server started"),
        Err(e) => {
            assert_ne!(e.code, Some(0));
            e.stderr
        }
    }
}

fn as_actor(server: &Server, path: &str, actor: Value) -> testkit::Resp {
    server.request("GET", path, &[("x-hooks-actor", &actor.to_string())])
}

#[test]
fn plugins_json_lists_name_version_hooks_and_routes() {
    let server = hooks_server();
    let plugins = server.json("/-/plugins.json");
    assert_eq!(
        plugins,
        json!([{
            "name": HOOKS,
            "version": "0.1.0",
            "hooks": ["startup", "routes", "handle", "actor_from_request", "permission_allowed", "menu_links", "extra_css_urls", "extra_js_urls", "extra_body_script", "table_actions", "database_actions", "row_actions", "forbidden", "prepare_connection", "call_function", "ready", "extra_template_vars", "votes_follow_queries", "actor_headers"],
            "routes": ["/-/hooks", "/-/hooks/fetch", "/-/hooks/session", "/-/hooks/config", "/-/hooks/query", "/-/hooks/can", "/-/hooks/page", "/-/hooks/write", "/-/hooks/databases", "/-/hooks/sign", "/-/hooks/item/{name}/{rest*}", "/-/hooks/form", "/-/hooks/upload", "/-/hooks/small", "/-/hooks/api", "/-/hooks/bytes", "/-/hooks/export"]
        }])
    );
    let html = server.get("/-/plugins");
    assert_eq!(html.status, 200);
    assert!(html.body.contains(HOOKS), "{}", html.body);
    assert!(server.logged("started"), "the plugin logs through the host");
}

#[test]
fn handle_sees_the_request_and_answers_with_headers() {
    let server = hooks_server();
    let r = server.request(
        "GET",
        "/-/hooks?a=1&b=x+y",
        &[
            ("Cookie", "theme=dark; ds_session=opaque"),
            ("X-Custom", "v"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("x-hooks"), Some("yes"));
    let echo = r.json();
    assert_eq!(echo["method"], "GET");
    assert_eq!(echo["path"], "/-/hooks");
    assert_eq!(echo["query"], "a=1&b=x+y");
    assert_eq!(echo["actor"], Value::Null);
    // The host's own cookie is not the plugin's business.
    assert_eq!(echo["cookies"], json!({"theme": "dark"}));
    let headers = echo["headers"].as_array().unwrap();
    assert!(headers.contains(&json!("x-custom")));
    assert!(!headers.contains(&json!("cookie")));
    assert_eq!(echo["origin"], server.base);
}

#[test]
fn handle_gets_post_bodies_and_any_method() {
    let server = hooks_server();
    let url = format!("{}/-/hooks", server.base);
    let r = ureq::post(&url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send("a=b&c=d")
        .expect("post");
    let echo: Value = serde_json::from_str(&r.into_body().read_to_string().unwrap()).unwrap();
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["body"], "a=b&c=d");
}

#[test]
fn config_is_resolved_for_startup_and_hidden_from_metadata_json() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key.txt");
    std::fs::write(&key_file, "file-secret\n").unwrap();
    let server = serve_with(
        json!({HOOKS: {
            "from_env": {"$env": "HOOKS_TEST_SECRET"},
            "from_file": {"$file": key_file.to_str().unwrap()}
        }}),
        &[],
        &[("HOOKS_TEST_SECRET", "env-secret")],
    )
    .expect("starts");
    let config = server.json("/-/hooks/config");
    assert_eq!(config["from_env"], "env-secret");
    assert_eq!(config["from_file"], "file-secret");
    // Plugins' configuration is root's to see (`view-plugin-config`), unresolved.
    let visitor = server.get("/-/metadata.json").body;
    assert!(!visitor.contains("HOOKS_TEST_SECRET"), "{visitor}");
    let shown = as_actor(&server, "/-/metadata.json", json!({"id": "root"})).body;
    assert!(shown.contains("HOOKS_TEST_SECRET"), "{shown}");
    assert!(
        !shown.contains("env-secret") && !shown.contains("file-secret"),
        "{shown}"
    );
}

#[test]
fn actor_from_request_and_permission_votes() {
    let server = hooks_server();
    let actor = as_actor(&server, "/-/actor.json", json!({"id": "from-header"}));
    assert_eq!(actor.json()["actor"], json!({"id": "from-header"}));
    // The allow block says root only; the plugin's vote overrides it.
    assert_eq!(server.get("/fixture/secrets.json").status, 403);
    let admin = as_actor(
        &server,
        "/fixture/secrets.json",
        json!({"id": "hooks-admin"}),
    );
    assert_eq!(admin.status, 200, "{}", admin.body);
    assert_eq!(admin.json()["filtered_table_rows_count"], 3);
    // ...and the SQL authorizer follows the same votes.
    let sql = as_actor(
        &server,
        "/fixture.json?sql=select+count(*)+as+n+from+secrets",
        json!({"id": "hooks-admin"}),
    );
    assert_eq!(sql.json()["rows"], json!([[3]]));
    // A plugin can deny what the allow blocks would allow.
    let denied = as_actor(
        &server,
        "/fixture/cities.json",
        json!({"id": "hooks-denied"}),
    );
    assert_eq!(denied.status, 403);
    let listing = as_actor(&server, "/fixture.json", json!({"id": "hooks-denied"})).json();
    assert!(!listing.to_string().contains("\"cities\""), "{listing}");
}

#[test]
fn menu_links_appear_in_every_html_page_and_on_403_pages() {
    let server = hooks_server();
    for path in ["/", "/fixture", "/fixture/cities", "/-/settings"] {
        let page = server.get(path);
        assert!(page.body.contains("Hooks sign-in"), "{path}: {}", page.body);
    }
    let forbidden = server.get("/fixture/secrets");
    assert_eq!(forbidden.status, 403);
    let sign_in = forbidden
        .body
        .find("class=\"sign-in\"")
        .expect("sign-in links");
    let link = &forbidden.body[sign_in..];
    assert!(
        link.contains("next=%2Ffixture%2Fsecrets"),
        "the link brings the visitor back: {link}"
    );
    let signed_in = as_actor(&server, "/", json!({"id": "someone"}));
    assert!(signed_in.body.contains("Hooks sign-out"));
    // JSON has no chrome.
    assert!(!server.get("/fixture/secrets.json").body.contains("Hooks"));
}

#[test]
fn menu_links_that_could_run_script_or_leave_the_site_are_left_out() {
    let server = hooks_server();
    let page = server.get("/unsafe-menu");
    assert_eq!(page.status, 404);
    assert!(page.body.contains("href=\"/-/safe-link\""), "{}", page.body);
    for bad in ["javascript:", "//evil.example", "data:text/html"] {
        assert!(!page.body.contains(bad), "{bad} in {}", page.body);
    }
    assert!(server.logged("unsafe link"), "{}", server.log());
}

#[test]
fn a_plugin_cannot_set_the_hosts_session_cookie() {
    let server = hooks_server();
    let forged = server.get("/-/hooks?set_cookie=ds_session%3Dforged%3B+Path%3D%2F");
    assert_eq!(forged.status, 500, "{}", forged.body);
    assert!(
        !forged
            .headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("set-cookie") && v.contains("forged")),
        "{:?}",
        forged.headers
    );
    assert!(server.logged("session cookie"), "{}", server.log());
    let own = server.get("/-/hooks?set_cookie=hooks_pref%3Ddark");
    assert_eq!(own.status, 200, "{}", own.body);
    assert_eq!(own.header("set-cookie"), Some("hooks_pref=dark"));
}

#[test]
fn handle_signs_in_and_out_and_keeps_its_own_session_values() {
    let server = hooks_server();
    let r = server.get("/-/hooks?sign_in_as=%7B%22id%22%3A%22via-plugin%22%7D");
    assert_eq!(r.status, 302);
    let cookie = r.cookie().expect("a session cookie");
    let actor = |c: &str| {
        server
            .request("GET", "/-/actor.json", &[("Cookie", c)])
            .json()["actor"]
            .clone()
    };
    assert_eq!(actor(&cookie), json!({"id": "via-plugin"}));

    let visit = |c: &str| server.request("GET", "/-/hooks/session", &[("Cookie", c)]);
    let first = visit(&cookie);
    assert_eq!(first.json()["visits"], 1);
    let cookie = first.cookie().expect("session values are saved");
    let second = visit(&cookie);
    assert_eq!(second.json()["visits"], 2);
    let cookie = second.cookie().unwrap();
    assert_eq!(
        actor(&cookie),
        json!({"id": "via-plugin"}),
        "the actor is kept"
    );

    let out = server.request("GET", "/-/hooks?sign_out=1", &[("Cookie", &cookie)]);
    assert_eq!(out.status, 302);
    let cookie = out.cookie().expect("the session is rewritten");
    assert_eq!(actor(&cookie), Value::Null);
    assert_eq!(
        visit(&cookie).json()["visits"],
        3,
        "the plugin's values stay"
    );
}

#[test]
fn fetch_reaches_local_servers_through_the_host() {
    let stub = Stub::start(|req| Reply::new(200, "text/plain", format!("hello {}", req.target)));
    let server = hooks_server();
    let url = format!("{}/greet?x=1", stub.base);
    let r = server.get(&format!("/-/hooks/fetch?url={}", urlencode(&url)));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json(), json!({"status": 200, "body": "hello /greet?x=1"}));
    let seen = &stub.requests()[0];
    assert_eq!(seen.header("x-from"), Some("hooks"));

    // Plain http elsewhere is refused by the host.
    let far = server.get("/-/hooks/fetch?url=http%3A%2F%2Fexample.com%2F");
    assert_eq!(far.status, 502);
    assert!(far.json()["error"]
        .as_str()
        .unwrap()
        .contains("loopback addresses only"));
    // Nothing listens on port 9: a clear error, not a hang.
    let down = server.get("/-/hooks/fetch?url=http%3A%2F%2F127.0.0.1%3A9%2F");
    assert_eq!(down.status, 502, "{}", down.body);
    // Inline hooks may not fetch.
    let inline = server.request("GET", "/-/actor.json", &[("x-hooks-fetch-inline", "1")]);
    assert!(inline.json()["actor"]["error"]
        .as_str()
        .unwrap()
        .contains("only allowed in handle"));
}

#[test]
fn fetch_enforces_its_timeout_and_size_cap() {
    let stub = Stub::start(|req| match req.target.as_str() {
        "/big" => Reply::new(200, "text/plain", "x".repeat(2 << 20)),
        _ => Reply::new(200, "text/plain", "late").delayed(std::time::Duration::from_secs(3)),
    });
    let server = serve_with(
        json!({HOOKS: {}}),
        &["--setting", "plugin_fetch_timeout_ms", "500"],
        &[],
    )
    .expect("starts");
    let started = std::time::Instant::now();
    let r = server.get(&format!("/-/hooks/fetch?url={}", urlencode(&stub.base)));
    assert_eq!(r.status, 502, "{}", r.body);
    assert!(
        r.json()["error"].as_str().unwrap().contains("500 ms"),
        "{}",
        r.body
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
    let big = server.get(&format!(
        "/-/hooks/fetch?url={}",
        urlencode(&format!("{}/big", stub.base))
    ));
    assert_eq!(big.status, 502, "{}", &big.body[..big.body.len().min(300)]);
    assert!(
        big.json()["error"]
            .as_str()
            .unwrap()
            .contains("reading the answer"),
        "{}",
        big.body
    );
}

#[test]
fn panics_in_every_hook_are_contained() {
    let server = hooks_server();
    for _ in 0..3 {
        // handle: a 500 naming the plugin, not the panic.
        let r = server.get("/-/hooks?panic=1");
        assert_eq!(r.status, 500);
        assert!(r.body.contains(HOOKS), "{}", r.body);
        assert!(!r.body.contains("panicked on request"), "{}", r.body);
        // actor_from_request: anonymous.
        let r = server.request(
            "GET",
            "/-/actor.json",
            &[("x-hooks-panic", "actor_from_request")],
        );
        assert_eq!((r.status, r.json()["actor"].clone()), (200, Value::Null));
        // permission_allowed: denied, although the allow blocks would allow.
        let r = as_actor(
            &server,
            "/fixture/cities.json",
            json!({"id": "hooks-panic"}),
        );
        assert_eq!(r.status, 403);
        // menu_links: the page renders without the plugin's links.
        let r = server.get("/panic-menu");
        assert_eq!(r.status, 404);
        assert!(!r.body.contains("Hooks sign-in"));
    }
    assert_eq!(
        server.get("/fixture/cities.json").status,
        200,
        "still serving"
    );
    for hook in [
        "handle",
        "actor_from_request",
        "permission_allowed",
        "menu_links",
    ] {
        let line = format!("{hook} panicked on request");
        assert!(server.logged(&line), "{line} not logged:\n{}", server.log());
    }
    assert!(
        server.logged(&format!("plugin=\"{HOOKS}\"")),
        "{}",
        server.log()
    );
}

#[test]
fn malformed_answers_are_contained_and_fail_closed() {
    let lib = plugin_library(IMPOSTOR);
    let server = serve_with(
        json!({IMPOSTOR: {"routes": ["/-/impostor"]}}),
        &["--plugin", lib.to_str().unwrap()],
        &[("DATASETTE_IMPOSTOR", "malformed")],
    )
    .expect("starts");
    // handle: a 500.
    assert_eq!(server.get("/-/impostor").status, 500);
    // actor_from_request: anonymous.
    assert_eq!(server.json("/-/actor.json")["actor"], Value::Null);
    // permission_allowed: a vote that cannot be read denies.
    let r = server.get("/fixture/cities.json");
    assert_eq!(r.status, 403, "{}", r.body);
    let r = server.get("/");
    assert_eq!(r.status, 403);
    assert!(
        r.body.contains("Forbidden"),
        "menu_links failing leaves the page intact"
    );
    assert!(server.logged("malformed answer"), "{}", server.log());
}

#[test]
fn a_working_impostor_serves_its_route() {
    let lib = plugin_library(IMPOSTOR);
    let server = serve_binary(&[
        fixture().fixture_db.to_str().unwrap(),
        "--plugin",
        lib.to_str().unwrap(),
    ])
    .expect("starts");
    assert_eq!(server.json("/-/plugins.json")[0]["name"], IMPOSTOR);
    // No config: no routes.
    assert_eq!(server.get("/-/impostor").status, 404);
}

/// A plugin built against an older crate of this ABI, without the hooks added since, loads
/// and works, and nothing past the table its layout describes is read, whatever its
/// `struct_size` says.
#[test]
fn a_plugin_built_against_an_older_crate_of_this_abi_still_works() {
    let lib = plugin_library(IMPOSTOR);
    for mode in ["older", "older-lies"] {
        let server = serve_binary_with_env(
            &[
                fixture().fixture_db.to_str().unwrap(),
                "--plugin",
                lib.to_str().unwrap(),
            ],
            &[("DATASETTE_IMPOSTOR", mode)],
        )
        .expect("starts");
        let hooks = server.json("/-/plugins.json")[0]["hooks"].clone();
        assert!(
            !hooks.as_array().unwrap().contains(&json!("ready")),
            "{mode}: {hooks}"
        );
        if mode == "older" {
            let page = server.get("/fixture/cities");
            assert_eq!(page.status, 200);
            assert!(page.body.contains("An older crate"), "{}", page.body);
        }
        assert!(
            !server.log().contains("malformed"),
            "{mode}: {}",
            server.log()
        );
    }
}

/// A plugin built against a plugin table or messages changed at the same ABI version is
/// refused at load with its path and what differs: never called through the wrong pointer.
#[test]
fn start_up_refuses_a_plugin_built_against_another_table() {
    let impostor = plugin_library(IMPOSTOR);
    let path = impostor.to_str().unwrap();
    let rebuild = format!(
        "rebuild it against datasette-plugin-api {}",
        datasette_plugin_api::abi::SDK_VERSION
    );
    for (mode, difference) in [
        (
            "swapped",
            "its plugin table has handle(fn?) as field 10 where this host's has routes(fn?)",
        ),
        (
            "messages",
            "its layout has \"messages 3\" where this host's has \"messages 2\"",
        ),
        ("no-layout", "has no layout description in its table"),
        ("huge-layout", "has no layout description in its table"),
    ] {
        let err = refused(
            json!({}),
            &["--plugin", path],
            &[("DATASETTE_IMPOSTOR", mode)],
        );
        assert!(err.contains(difference), "{mode}: {err}");
        assert!(
            err.contains(&rebuild) && err.contains(path),
            "{mode}: {err}"
        );
    }
}

/// A library built against the first ABI exports its entry under the old name: the refusal
/// says which ABI it speaks.
#[test]
fn start_up_names_the_abi_of_a_plugin_built_for_the_first_one() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("old.c");
    std::fs::write(
        &source,
        "const void *datasette_plugin_entry_v1(void) { return 0; }\n",
    )
    .unwrap();
    let lib = dir.path().join("libold.so");
    let built = std::process::Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&lib)
        .arg(&source)
        .status()
        .expect("cc");
    assert!(built.success());
    let err = refused(json!({}), &["--plugin", lib.to_str().unwrap()], &[]);
    assert!(
        err.contains("no `datasette_plugin_entry_v2` symbol")
            && err.contains("it exports the entry of plugin ABI version 1"),
        "{err}"
    );
}

#[test]
fn page_hooks_add_styles_scripts_and_actions() {
    let server = hooks_server();
    let table = server.get("/fixture/cities");
    for wanted in [
        "<link rel=\"stylesheet\" href=\"/-/hooks/table.css\">",
        "<script src=\"https://cdn.example/hooks-table.js\"></script>",
        "<script>window.hooksView = \"table\"; // <\\/script><b>escaped<\\/b></script>",
        "<a href=\"/-/hooks?table=cities\">Hooks table action on cities</a>",
    ] {
        assert!(table.body.contains(wanted), "{wanted} in {}", table.body);
    }
    assert!(
        !table.body.contains("javascript:"),
        "unsafe URLs are left out"
    );
    assert!(server.logged("unsafe link"), "{}", server.log());
    let admin = as_actor(&server, "/fixture/cities", json!({"id": "hooks-admin"}));
    assert!(admin.body.contains("<form class=\"menu-form\" method=\"post\" action=\"/-/hooks?drop=1\"><button>Hooks admin action</button></form>"), "{}", admin.body);
    assert!(!table.body.contains("Hooks admin action"));
    let db = server.get("/fixture").body;
    assert!(
        db.contains("Hooks database action on fixture") && db.contains("/-/hooks/database.css"),
        "{db}"
    );
    assert!(!db.contains("Hooks table action"));
    let row = server.get("/fixture/cities/1").body;
    assert!(row.contains("Hooks row action on cities 1"), "{row}");
    assert!(!row.contains("evil.example"), "{row}");
    let query = server.get("/fixture?sql=select+1").body;
    assert!(query.contains("/-/hooks/query.css"), "{query}");
    let index = server.get("/").body;
    assert!(
        index.contains("/-/hooks/index.css") && !index.contains("Actions:"),
        "{index}"
    );
    let missing = server.get("/fixture/no_such_table");
    assert_eq!(missing.status, 404);
    assert!(
        missing.body.contains("/-/hooks/error.css"),
        "{}",
        missing.body
    );
    // JSON has no chrome.
    assert!(!server.get("/fixture/cities.json").body.contains("hooks"));
    // A hook that panics leaves the page without its part, and the server serving.
    let r = server.get("/panic-extras");
    assert_eq!(r.status, 404);
    assert!(
        !r.body.contains("cdn.example") && r.body.contains("/-/hooks/error.css"),
        "{}",
        r.body
    );
    assert!(
        server.logged("extra_js_urls panicked on request"),
        "{}",
        server.log()
    );
}

#[test]
fn start_up_refuses_a_plugin_it_cannot_find_and_lists_the_places() {
    let dir = tempfile::tempdir().unwrap();
    let err = refused(
        json!({"datasette-nope": {}}),
        &["--plugins-dir", dir.path().to_str().unwrap()],
        &[],
    );
    assert!(err.contains("plugin datasette-nope"), "{err}");
    assert!(err.contains("libdatasette_nope.so"), "{err}");
    assert!(err.contains(dir.path().to_str().unwrap()), "{err}");
    let beside = testkit::target_debug();
    assert!(err.contains(beside.to_str().unwrap()), "{err}");
}

#[test]
fn start_up_refuses_files_that_are_not_plugins() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("libtext.so");
    std::fs::write(&text, "not a library").unwrap();
    let err = refused(json!({}), &["--plugin", text.to_str().unwrap()], &[]);
    assert!(err.contains(text.to_str().unwrap()), "{err}");
    assert!(err.contains("cannot be loaded"), "{err}");

    // A real shared library without the entry symbol: the Rust standard library.
    let sysroot = std::process::Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .expect("rustc");
    let sysroot = PathBuf::from(String::from_utf8(sysroot.stdout).unwrap().trim());
    let target_libs = std::fs::read_dir(sysroot.join("lib/rustlib"))
        .unwrap()
        .map(|e| e.unwrap().path().join("lib"));
    let libstd = std::iter::once(sysroot.join("lib"))
        .chain(target_libs)
        .filter_map(|dir| std::fs::read_dir(dir).ok())
        .flatten()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.starts_with("libstd-") && n.ends_with(".so")
        })
        .expect("libstd-*.so in the sysroot");
    let err = refused(json!({}), &["--plugin", libstd.to_str().unwrap()], &[]);
    assert!(
        err.contains("no `datasette_plugin_entry_v2` symbol"),
        "{err}"
    );

    let impostor = plugin_library(IMPOSTOR);
    let err = refused(
        json!({}),
        &["--plugin", impostor.to_str().unwrap()],
        &[("DATASETTE_IMPOSTOR", "magic")],
    );
    assert!(err.contains("wrong magic number"), "{err}");
    assert!(err.contains(impostor.to_str().unwrap()), "{err}");
}

#[test]
fn start_up_refuses_another_abi_version_and_panic_abort() {
    let impostor = plugin_library(IMPOSTOR);
    let path = impostor.to_str().unwrap();
    let err = refused(
        json!({}),
        &["--plugin", path],
        &[("DATASETTE_IMPOSTOR", "abi")],
    );
    assert!(
        err.contains("built for plugin ABI version 3")
            && err.contains("speaks version 2")
            && err.contains(path),
        "{err}"
    );
    let err = refused(
        json!({}),
        &["--plugin", path],
        &[("DATASETTE_IMPOSTOR", "abort")],
    );
    assert!(
        err.contains("panic = \"abort\"") && err.contains(path),
        "{err}"
    );
    let err = refused(
        json!({}),
        &["--plugin", path],
        &[("DATASETTE_IMPOSTOR", "malformed-routes")],
    );
    assert!(
        err.contains("routes() answered with malformed JSON"),
        "{err}"
    );
}

/// What a plugin in another language could get wrong in its table is refused at load, not
/// taken as a table (which would be undefined behaviour in the host).
#[test]
fn start_up_refuses_a_table_with_a_null_function_or_a_bad_flag() {
    let impostor = plugin_library(IMPOSTOR);
    let path = impostor.to_str().unwrap();
    let err = refused(
        json!({}),
        &["--plugin", path],
        &[("DATASETTE_IMPOSTOR", "null-startup")],
    );
    assert!(
        err.contains("has no `startup` function in its table") && err.contains(path),
        "{err}"
    );
    let err = refused(
        json!({}),
        &["--plugin", path],
        &[("DATASETTE_IMPOSTOR", "unwinds-2")],
    );
    assert!(err.contains("`unwinds` = 2"), "{err}");
}

#[test]
fn start_up_refuses_two_plugins_claiming_one_route() {
    let impostor = plugin_library(IMPOSTOR);
    let err = refused(
        json!({
            HOOKS: {"routes": ["/-/shared"]},
            IMPOSTOR: {"routes": ["/-/shared"]}
        }),
        &["--plugin", impostor.to_str().unwrap()],
        &[],
    );
    assert!(err.contains("both claim the route /-/shared"), "{err}");
    assert!(err.contains(HOOKS) && err.contains(IMPOSTOR), "{err}");
    let err = refused(json!({HOOKS: {"routes": ["/-/actor.json"]}}), &[], &[]);
    assert!(err.contains("is served by datasette-rs itself"), "{err}");
    // Patterns clash when one request could reach both, whatever their spelling.
    let err = refused(
        json!({
            HOOKS: {"routes": [{"path": "/-/shared/{name}", "methods": ["GET"]}]},
            IMPOSTOR: {"routes": ["/-/shared/fixed"]}
        }),
        &["--plugin", impostor.to_str().unwrap()],
        &[],
    );
    assert!(
        err.contains("both claim the route /-/shared/{name} (overlapping /-/shared/fixed)"),
        "{err}"
    );
    let err = refused(
        json!({HOOKS: {"routes": ["/{database}/{table}"]}}),
        &[],
        &[],
    );
    assert!(err.contains("must start with a fixed segment"), "{err}");
}

/// A plugin that names the headers it recognises actors by is not asked about requests
/// without them (its panic on a request shows whether it was asked); one that names none is
/// asked about every request.
#[test]
fn actor_from_request_is_asked_only_about_requests_with_the_headers_it_names() {
    let panics = [("x-hooks-panic", "actor_from_request")];
    let server = serve_with(
        json!({HOOKS: {"actor_headers": ["X-Hooks-Actor"]}}),
        &[],
        &[],
    )
    .expect("starts");
    let r = server.request("GET", "/-/actor.json", &panics);
    assert_eq!((r.status, r.json()["actor"].clone()), (200, Value::Null));
    assert!(
        !server.logged("actor_from_request panicked"),
        "{}",
        server.log()
    );
    let r = as_actor(&server, "/-/actor.json", json!({"id": "named"}));
    assert_eq!(r.json()["actor"], json!({"id": "named"}));
    let both = [panics[0], ("x-hooks-actor", r#"{"id": "named"}"#)];
    server.request("GET", "/-/actor.json", &both);
    assert!(
        server.logged("actor_from_request panicked"),
        "{}",
        server.log()
    );

    let asked_always = hooks_server();
    asked_always.request("GET", "/-/actor.json", &panics);
    assert!(asked_always.logged("actor_from_request panicked"));

    let err = refused(json!({HOOKS: {"actor_headers": ["x hooks"]}}), &[], &[]);
    assert!(
        err.contains(&format!("plugin {HOOKS}"))
            && err.contains(r#"actor_headers() named "x hooks", which is not a header's name"#),
        "{err}"
    );
    let err = refused(json!({HOOKS: {"actor_headers": []}}), &[], &[]);
    assert!(err.contains("actor_headers() named no header"), "{err}");
}

#[test]
fn start_up_stops_on_a_plugins_startup_error_or_panic() {
    let err = refused(json!({HOOKS: {"fail": "api_key is required"}}), &[], &[]);
    assert!(
        err.contains(&format!("plugin {HOOKS}"))
            && err.contains("startup failed: api_key is required"),
        "{err}"
    );
    let err = refused(json!({HOOKS: {"panic": "startup"}}), &[], &[]);
    assert!(err.contains("startup panicked on request"), "{err}");
    let err = refused(
        json!({HOOKS: {"key": {"$env": "SURELY_NOT_SET_ANYWHERE"}}}),
        &[],
        &[],
    );
    assert!(
        err.contains(&format!("metadata.json plugins.{HOOKS}"))
            && err.contains("SURELY_NOT_SET_ANYWHERE is not set"),
        "{err}"
    );
}

#[test]
fn auth_tokens_let_curl_read_a_protected_table() {
    let token = "bot-token-0123456789abcdef";
    let server = serve_with(
        json!({"datasette-auth-tokens": {"tokens": [
            {"token": {"$env": "BOT_TOKEN"}, "actor": {"id": "root", "via": "token"}}
        ]}}),
        &[],
        &[("BOT_TOKEN", token)],
    )
    .expect("starts");
    let bearer = format!("Bearer {token}");
    let r = server.request(
        "GET",
        "/fixture/secrets.json",
        &[("Authorization", &bearer)],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["filtered_table_rows_count"], 3);
    let me = server.request("GET", "/-/actor.json", &[("Authorization", &bearer)]);
    assert_eq!(me.json()["actor"], json!({"id": "root", "via": "token"}));
    for wrong in [
        "Bearer bot-token-0123456789abcdeX",
        "Bearer ",
        "Basic abc",
        token,
    ] {
        let r = server.request("GET", "/fixture/secrets.json", &[("Authorization", wrong)]);
        assert_eq!(r.status, 403, "{wrong}");
    }
    assert!(!server.get("/-/metadata.json").body.contains(token));
    let err = refused(
        json!({"datasette-auth-tokens": {"tokens": [{"token": "short", "actor": {"id": "x"}}]}}),
        &[],
        &[],
    );
    assert!(err.contains("at least 16 characters"), "{err}");
}

fn urlencode(s: &str) -> String {
    datasette_plugin_api::urlencoded::encode(s)
}

#[test]
fn haversine_adds_an_sql_function_to_every_connection() {
    let server = serve_fixture_with_metadata(
        &json!({
            "databases": {"fixture": {"tables": {"secrets": {"allow": false}}}},
            "plugins": {"datasette-haversine": {}}
        }),
        &[],
        &[],
    )
    .expect("starts");
    let hooks = server.json("/-/plugins.json")[0]["hooks"].clone();
    assert_eq!(
        hooks,
        json!(["startup", "prepare_connection", "call_function"])
    );
    let sql = |q: &str| server.get(&format!("/fixture.json?_shape=array&sql={}", urlencode(q)));
    let km = sql("select round(haversine(52.52, 13.405, 48.8566, 2.3522), 1) as d");
    assert_eq!(km.json(), json!([{"d": 877.5}]), "{}", km.body);
    let mi = sql("select round(haversine(52.52, 13.405, 48.8566, 2.3522, 'mi'), 1) as d");
    assert_eq!(mi.json(), json!([{"d": 545.2}]));
    assert_eq!(
        sql("select haversine(null, 1, 2, 3) as d").json(),
        json!([{"d": null}])
    );
    let bad = sql("select haversine(1, 2, 3, 4, 'parsec')");
    assert_eq!(bad.status, 400);
    assert!(
        bad.body.contains("unknown unit \\\"parsec\\\""),
        "{}",
        bad.body
    );
    // Arguments cross the plugin boundary as JSON: their size is bounded.
    let huge = sql("select haversine(1, 2, 3, 4, zeroblob(100000))");
    assert_eq!(huge.status, 400, "{}", huge.body);
    assert!(huge.body.contains("more than the 64 KiB"), "{}", huge.body);
    let wrong_count = sql("select haversine(1, 2, 3)");
    assert_eq!(wrong_count.status, 400, "{}", wrong_count.body);
    // In _where too, and over rows.
    let near = server.json("/fixture/stations.json?_where=haversine(0,0,0,1)%3E100&_size=1");
    assert_eq!(near["rows"].as_array().unwrap().len(), 1);
    let rows =
        sql("select count(*) as n from stations where haversine(0, 0, 0, 1) between 111 and 112");
    assert_eq!(rows.json(), json!([{"n": 12}]), "{}", rows.body);
}

#[test]
fn render_markdown_renders_configured_columns_as_sanitised_html() {
    let (_dir, server) = serve_sql(
        "blog",
        "create table posts (id integer primary key, title text, body text);
         insert into posts (title, body) values
           ('**not markdown**', 'Hello **world** <script>alert(1)</script>'),
           ('second', '[home](https://example.com)');",
        json!({"plugins": {"datasette-render-markdown": {"columns": ["body"]}}}),
        &[],
    );
    let page = server.get("/blog/posts").body;
    assert!(
        page.contains("<div class=\"markdown\"><p>Hello <strong>world</strong>"),
        "{page}"
    );
    assert!(
        page.contains("<a href=\"https://example.com\" rel=\"noopener noreferrer\">home</a>"),
        "{page}"
    );
    assert!(!page.contains("<script>alert"), "sanitised: {page}");
    assert!(
        page.contains("**not markdown**"),
        "other columns as they were: {page}"
    );
    let row = server.get("/blog/posts/1").body;
    assert!(row.contains("<strong>world</strong>"), "{row}");
    let sql = server.get("/blog?sql=select+body+from+posts").body;
    assert!(sql.contains("<strong>world</strong>"), "{sql}");
    let query = server
        .get("/blog.json?sql=select+body+from+posts&_shape=array")
        .json();
    assert_eq!(
        query[0]["body"], "Hello **world** <script>alert(1)</script>",
        "JSON keeps the data"
    );
}

#[test]
fn render_markdown_follows_a_tables_own_configuration() {
    let (_dir, server) = serve_sql(
        "blog",
        "create table posts (id integer primary key, body text);
         insert into posts (body) values ('**bold**');
         create table drafts (id integer primary key, body text);
         insert into drafts (body) values ('**bold**');",
        json!({
            "databases": {"blog": {"tables": {"posts": {
                "plugins": {"datasette-render-markdown": {"columns": ["body"]}}
            }}}},
            "plugins": {"datasette-render-markdown": {}}
        }),
        &[],
    );
    assert!(server
        .get("/blog/posts")
        .body
        .contains("<strong>bold</strong>"));
    let drafts = server.get("/blog/drafts").body;
    assert!(!drafts.contains("<strong>"), "{drafts}");
    assert!(drafts.contains("**bold**"));
}

#[test]
fn atom_renders_feeds_for_queries_with_atom_columns() {
    let feed_sql = "select 'urn:post:' || id as atom_id, title as atom_title, updated as atom_updated, body as atom_content, 'https://example.com/' || id as atom_link from posts order by id";
    let (_dir, server) = serve_sql(
        "blog",
        "create table posts (id integer primary key, title text, updated text, body text);
         insert into posts (title, updated, body) values
           ('First & <best>', '2026-11-01T10:00:00Z', 'Hello'),
           ('Second', '2026-11-02T10:00:00Z', 'World');
         create table private_posts (atom_id, atom_title, atom_updated);
         create table entries (atom_id text primary key, atom_title, atom_updated);
         insert into entries values ('urn:e:1', 'Entry one', '2026-11-03T10:00:00Z');",
        json!({
            "databases": {"blog": {
                "queries": {"feed": {"sql": feed_sql}},
                "tables": {"private_posts": {"allow": false}}
            }},
            "plugins": {"datasette-atom": {}}
        }),
        &[],
    );
    for path in [
        "/blog/feed.atom",
        &format!("/blog.atom?sql={}", urlencode(feed_sql)),
    ] {
        let r = server.get(path);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert_eq!(r.content_type, "application/atom+xml; charset=utf-8");
        let feed = feed_rs::parser::parse(r.body.as_bytes()).expect("a valid Atom feed");
        let titles: Vec<String> = feed
            .entries
            .iter()
            .map(|e| e.title.as_ref().unwrap().content.clone())
            .collect();
        assert_eq!(titles, ["First & <best>", "Second"], "{path}");
        assert_eq!(feed.entries[0].id, "urn:post:1");
        assert_eq!(feed.entries[1].links[0].href, "https://example.com/2");
    }
    let plain = server.get("/blog/posts.atom");
    assert_eq!(plain.status, 400, "{}", plain.body);
    assert!(
        plain
            .body
            .contains("missing: atom_id, atom_title, atom_updated"),
        "{}",
        plain.body
    );
    // Permissions as for .json: nothing of a protected table as a feed.
    assert_eq!(server.get("/blog/private_posts.atom").status, 403);
    assert_eq!(server.get("/blog/private_posts.json").status, 403);
    // An extension no plugin registered is no format.
    assert_eq!(server.get("/blog/posts.rss").status, 404);
    // A row is a feed of one entry.
    let row = server.get("/blog/entries/urn~3Ae~3A1.atom");
    assert_eq!(row.status, 200, "{}", row.body);
    let feed = feed_rs::parser::parse(row.body.as_bytes()).expect("a valid Atom feed");
    assert_eq!(feed.entries.len(), 1);
    assert_eq!(feed.entries[0].id, "urn:e:1");
}

#[test]
fn pages_link_to_a_plugin_format_where_it_applies() {
    let (_dir, server) = serve_sql(
        "blog",
        "create table entries (atom_id text primary key, atom_title, atom_updated);
         insert into entries values ('e1', 'Entry one', '2026-11-03T10:00:00Z');
         create table plain (id integer primary key, title);
         insert into plain values (1, 'x');",
        json!({
            "databases": {"blog": {"queries": {
                "feed": "select atom_id, atom_title, atom_updated from entries"
            }}},
            "plugins": {"datasette-atom": {}}
        }),
        &[],
    );
    let link = |href: &str| format!("<a href=\"{href}\">atom</a>");
    assert!(server
        .get("/blog/entries")
        .body
        .contains(&link("/blog/entries.atom")));
    assert!(server
        .get("/blog/entries/e1")
        .body
        .contains(&link("/blog/entries/e1.atom")));
    assert!(server
        .get("/blog/feed")
        .body
        .contains(&link("/blog/feed.atom")));
    // Not where the page lacks the columns the format needs.
    assert!(!server.get("/blog/plain").body.contains(">atom</a>"));
    assert!(!server.get("/blog/plain/1").body.contains(">atom</a>"));
}

/// `extra_template_vars`: a plugin's variables reach the site's own templates, told which page
/// they are for; they add variables and replace none of the page's.
#[test]
fn extra_template_vars_reach_a_sites_templates() {
    let site = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(site.path().join("pages")).unwrap();
    std::fs::write(
        site.path().join("pages/greet.html"),
        "{{ greeting }} from {{ hooks_page.view }}; {{ urls.instance() }}",
    )
    .unwrap();
    std::fs::write(
        site.path().join("_table.html"),
        "<p class=\"vars\">{{ greeting }}</p>",
    )
    .unwrap();
    std::fs::write(
        site.path().join("table.html"),
        r#"{% extends "default:table.html" %}{% block content %}<p class="page">{{ hooks_page.view }} {{ hooks_page.table }}</p>{{ super() }}{% endblock %}"#,
    )
    .unwrap();
    let server = serve_with(
        json!({HOOKS: {"greeting": "hi"}}),
        &["--template-dir", site.path().to_str().unwrap()],
        &[],
    )
    .expect("starts");
    let r = server.get("/greet");
    assert_eq!((r.status, r.body.as_str()), (200, "hi from page; /"));
    let table = server.get("/fixture/cities").body;
    assert!(
        table.contains(r#"<p class="page">table cities</p>"#),
        "{table}"
    );
}

/// A plugin's slow vote on a database page's tables holds a blocking thread, not one of the
/// server's async workers: while two such pages (as many as the workers) wait for their
/// votes, another request is answered first.
#[test]
fn slow_permission_votes_hold_no_async_worker() {
    let server = hooks_server();
    let (tx, rx) = std::sync::mpsc::channel();
    for _ in 0..2 {
        let (url, tx) = (format!("{}/fixture.json", server.base), tx.clone());
        std::thread::spawn(move || {
            let actor = json!({"id": "hooks-slow"}).to_string();
            let r = testkit::request_url("GET", &url, &[("x-hooks-actor", actor.as_str())]);
            tx.send(("slow page", r.status)).unwrap();
        });
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    let r = server.get("/-/versions.json");
    tx.send(("other request", r.status)).unwrap();
    let order: Vec<_> = (0..3).map(|_| rx.recv().unwrap()).collect();
    assert_eq!(
        order,
        [
            ("other request", 200),
            ("slow page", 200),
            ("slow page", 200)
        ]
    );
}
