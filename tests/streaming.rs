//! Streamed exports (`_stream=on`): every row of a table, view or query, as CSV or
//! newline-delimited JSON, through the real binary.

use serde_json::{json, Value};
use testkit::{serve_sql, Server};

/// 25,000 rows: many chunks of a streamed export, far more than `max_returned_rows`.
const ROWS: usize = 25_000;

fn data_sql(rows: usize) -> String {
    format!(
        "create table t (id integer primary key, name text, grp integer);
         with recursive n(i) as (select 1 union all select i + 1 from n where i < {rows})
         insert into t select i, 'name ' || (i * 7919 % {rows}), i % 7 from n;
         create view v as select id, name from t where grp = 3;
         create table secrets (x); insert into secrets values ('hidden');"
    )
}

fn serve(metadata: Value, extra: &[&str]) -> (tempfile::TempDir, Server) {
    serve_sql("data", &data_sql(ROWS), metadata, extra)
}

fn body_lines(server: &Server, path: &str) -> Vec<String> {
    let r = server.get(path);
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    r.body.lines().map(str::to_string).collect()
}

/// The same rows as the database gives them, as CSV lines.
fn expected(sql: &str, dir: &tempfile::TempDir) -> Vec<String> {
    let conn = rusqlite::Connection::open(dir.path().join("data.db")).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    let rows = stmt
        .query_map([], |r| {
            Ok(format!(
                "{},{},{}",
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?
            ))
        })
        .unwrap();
    rows.map(Result::unwrap).collect()
}

#[test]
fn a_streamed_table_is_every_row_in_the_pages_order() {
    let (dir, server) = serve(json!({}), &[]);
    let lines = body_lines(&server, "/data/t.csv?_stream=on");
    assert_eq!(lines.len(), ROWS + 1);
    assert_eq!(lines[0], "id,name,grp");
    assert_eq!(
        lines[1..],
        expected("select * from t order by id", &dir)[..]
    );
    // Sorted and filtered, across chunks, with ties in the sort column.
    let lines = body_lines(&server, "/data/t.csv?_stream=on&_sort_desc=name&grp__not=2");
    let want = expected(
        "select * from t where grp != 2 order by name desc, id",
        &dir,
    );
    assert_eq!(lines.len(), want.len() + 1);
    assert_eq!(lines[1..], want[..]);
}

#[test]
fn a_streamed_view_and_query_are_every_row() {
    let (dir, server) = serve(json!({}), &[]);
    let view = body_lines(&server, "/data/v.csv?_stream=on");
    let want = expected("select count(*), 'x', 0 from t where grp = 3", &dir);
    let n: usize = want[0].split(',').next().unwrap().parse().unwrap();
    assert_eq!(view.len(), n + 1);
    let query = body_lines(
        &server,
        "/data.csv?_stream=on&sql=select+id+from+t+where+id+%3E+:min&min=5",
    );
    assert_eq!(query.len(), ROWS - 5 + 1);
    assert_eq!((query[0].as_str(), query[1].as_str()), ("id", "6"));
    assert_eq!(query.last().unwrap(), &ROWS.to_string());
}

#[test]
fn newline_delimited_json_streams_one_object_a_line() {
    let (_dir, server) = serve(json!({}), &[]);
    let lines = body_lines(&server, "/data/t.json?_stream=on&_shape=array&_nl=on");
    assert_eq!(lines.len(), ROWS);
    let last: Value = serde_json::from_str(lines.last().unwrap()).unwrap();
    assert_eq!(last["id"], ROWS as i64);
    let bad = server.get("/data/t.json?_stream=on");
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("_shape=array&_nl=on"), "{}", bad.body);
}

#[test]
fn downloads_headers_and_refusals() {
    let (_dir, server) = serve(json!({}), &[]);
    let r = server.get("/data/t.csv?_stream=on&_dl=1&_header=off&_size=1");
    assert_eq!(r.content_type, "text/csv; charset=utf-8");
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"t.csv\"")
    );
    assert_eq!(r.body.lines().next(), Some("1,name 7919,1"));
    assert_eq!(r.body.lines().count(), ROWS);
    let plain = server.get("/data/t.csv?_stream=on");
    assert_eq!(plain.content_type, "text/plain; charset=utf-8");
    let next = server.get("/data/t.csv?_stream=on&_next=5");
    assert_eq!(next.status, 400);
    assert!(next.body.contains("_next not allowed for CSV streaming"));
    let bad_sql = server.get("/data.csv?_stream=on&sql=select+*+from+nowhere");
    assert_eq!(bad_sql.status, 400, "{}", bad_sql.body);
    assert!(bad_sql.body.contains("no such table: nowhere"));
}

#[test]
fn streaming_follows_the_settings() {
    let (_dir, off) = serve(json!({}), &["--setting", "allow_csv_stream", "off"]);
    let r = off.get("/data/t.csv?_stream=on");
    assert_eq!(r.status, 400);
    assert!(r.body.contains("CSV streaming is disabled"));
    let (_dir, small) = serve(json!({}), &["--setting", "max_csv_mb", "1"]);
    let body = small
        .get("/data.csv?_stream=on&sql=select+*,+zeroblob(100)+from+t")
        .body;
    assert!(
        body.ends_with("CSV contains more than 1048576 bytes"),
        "{}",
        &body[body.len() - 80..]
    );
    let kept = body.len() - "CSV contains more than 1048576 bytes".len();
    assert!(kept <= 1 << 20, "{kept}");
    assert!(kept > (1 << 20) - 1000, "{kept}");
}

#[test]
fn a_protected_table_streams_nothing() {
    let (_dir, server) = serve(
        json!({"databases": {"data": {"tables": {"secrets": {"allow": false}}}}}),
        &[],
    );
    assert_eq!(server.get("/data/secrets.csv?_stream=on").status, 403);
    let r = server.get("/data.csv?_stream=on&sql=select+*+from+secrets");
    assert_eq!(r.status, 400);
    assert!(!r.body.contains("hidden"));
}

/// 300,000 rows streamed: the server's peak memory grows by less than 10 MiB (the export is
/// about 6 MiB, so holding it would show).
#[test]
fn streaming_keeps_memory_flat() {
    let rows = 300_000;
    let (_dir, server) = serve_sql(
        "data",
        &format!(
            "create table big (id integer primary key, a text, b text);
             with recursive n(i) as (select 1 union all select i + 1 from n where i < {rows})
             insert into big select i, hex(randomblob(8)), 'row ' || i from n;"
        ),
        json!({}),
        &[],
    );
    // Warm up: connections, schema, the first chunk's buffers.
    assert_eq!(
        server
            .get("/data/big.csv?_stream=on&_size=10&id__lt=5000")
            .status,
        200
    );
    let before = server
        .memory_kib("VmHWM")
        .expect("the server's /proc status");
    for path in [
        "/data/big.csv?_stream=on",
        "/data.csv?_stream=on&sql=select+*+from+big",
    ] {
        let r = server.get(path);
        assert_eq!(r.body.lines().count(), rows + 1, "{path}");
        assert!(r.body.len() > 6 << 20);
    }
    let after = server.memory_kib("VmHWM").unwrap();
    assert!(
        after - before < 10 * 1024,
        "peak memory grew by {} KiB while streaming",
        after - before
    );
}
