//! Counts and facet suggestions are cached per file: a change to the file must show at once.

use datasette_rs::app::DatabaseFile;
use datasette_rs_tests::TestApp;
use serde_json::{json, Value};

fn suggested(page: &Value) -> Vec<String> {
    page["suggested_facets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_changed_file_is_counted_and_suggested_afresh() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "create table t (id integer primary key, kind text, size integer);
         insert into t (kind, size) values ('a', 1), ('a', 2), ('b', 3), ('b', 4);",
    )
    .unwrap();
    let server = TestApp::new()
        .files(vec![DatabaseFile {
            path: path.clone(),
            immutable: false,
        }])
        .metadata(json!({}))
        .start();
    for _ in 0..2 {
        let page = server.json("/live/t.json");
        assert_eq!(page["filtered_table_rows_count"], 4);
        assert_eq!(suggested(&page), ["kind"]);
        let filtered = server.json("/live/t.json?kind=a");
        assert_eq!(filtered["filtered_table_rows_count"], 2);
    }
    // Sizes start to repeat: `size` becomes worth faceting on; counts change.
    conn.execute_batch("insert into t (kind, size) values ('a', 1), ('a', 2), ('c', 1);")
        .unwrap();
    drop(conn);
    let page = server.json("/live/t.json");
    assert_eq!(page["filtered_table_rows_count"], 7);
    assert_eq!(suggested(&page), ["kind", "size"]);
    assert_eq!(
        server.json("/live/t.json?kind=a")["filtered_table_rows_count"],
        4
    );
    assert_eq!(server.json("/live.json")["tables"][0]["count"], 7);
}
