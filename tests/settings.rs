//! Datasette's settings that datasette-rs takes: each works as in Datasette or is refused,
//! none accepted and ignored.

use datasette_rs::app::DatabaseFile;
use datasette_rs_tests::{serve_binary, TestApp, TEST_SECRET};
use serde_json::json;

fn file(dir: &tempfile::TempDir) -> std::path::PathBuf {
    let path = dir.path().join("data.db");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            "create table t (id integer primary key); insert into t values (1);
             create table secrets (x); insert into secrets values ('hidden');",
        )
        .unwrap();
    path
}

fn serve(
    path: &std::path::Path,
    immutable: bool,
    metadata: serde_json::Value,
    settings: &[(&str, &str)],
) -> datasette_rs_tests::Server {
    let mut app = TestApp::new()
        .files(vec![DatabaseFile {
            path: path.to_path_buf(),
            immutable,
        }])
        .metadata(metadata)
        .secret(Some(TEST_SECRET));
    for (k, v) in settings {
        app = app.setting(k, v);
    }
    app.start()
}

#[test]
fn an_immutable_file_downloads_whole_for_who_may_see_all_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir);
    let bytes = std::fs::read(&path).unwrap();
    let open = serve(&path, true, json!({}), &[]);
    let r = open.get("/data.db");
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type, "application/octet-stream");
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"data.db\"")
    );
    assert_eq!(r.bytes, bytes);
    // Not a mutable file, not with allow_download off.
    assert_eq!(
        serve(&path, false, json!({}), &[]).get("/data.db").status,
        403
    );
    let off = serve(&path, true, json!({}), &[("allow_download", "off")]);
    assert_eq!(off.get("/data.db").status, 403);
    // The file holds every table: only an actor who may see them all gets it.
    let guarded = serve(
        &path,
        true,
        json!({"databases": {"data": {"tables": {"secrets": {"allow": {"id": "root"}}}}}}),
        &[],
    );
    let anonymous = guarded.get("/data.db");
    assert_eq!(anonymous.status, 403);
    assert!(!anonymous.body.contains("hidden"));
    let root = guarded.cookie_for(&json!({"id": "root"}));
    assert_eq!(
        guarded
            .request("GET", "/data.db", &[("Cookie", &root)])
            .status,
        200
    );
}

#[test]
fn debugging_settings_without_an_equivalent_are_refused() {
    for name in ["template_debug", "trace_debug"] {
        let err = serve_binary(&["--setting", name, "on"])
            .err()
            .expect("refused");
        assert!(err.stderr.contains(name), "{}", err.stderr);
        assert_ne!(err.code, Some(0));
    }
}
