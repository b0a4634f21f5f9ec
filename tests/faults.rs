//! The database file changing under the server: replaced, locked by a writer, deleted. Each
//! gives the new contents or a clear error at once, and the rest keeps working.

use std::path::Path;
use std::time::{Duration, Instant};

use datasette_rs::app::DatabaseFile;
use serde_json::{json, Value};
use testkit::{fixture, Server, TestApp};

fn make(path: &Path, value: &str, rows: usize) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch("create table t (id integer primary key, v text)")
        .unwrap();
    for _ in 0..rows {
        conn.execute("insert into t (v) values (?1)", [value])
            .unwrap();
    }
}

fn serve(path: &Path) -> Server {
    TestApp::new()
        .files(vec![
            DatabaseFile {
                path: path.to_path_buf(),
                immutable: false,
            },
            DatabaseFile {
                path: fixture().fixture_db.clone(),
                immutable: false,
            },
        ])
        .metadata(json!({}))
        .start()
}

fn first_and_count(server: &Server) -> (Value, Value) {
    let page = server.json("/live/t.json");
    (
        page["rows"][0][1].clone(),
        page["filtered_table_rows_count"].clone(),
    )
}

#[test]
fn a_replaced_file_is_served_from_the_next_request() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live.db");
    make(&live, "old", 5);
    let server = serve(&live);
    assert_eq!(first_and_count(&server), (json!("old"), json!(5)));
    let new = dir.path().join("new.db");
    make(&new, "new", 7);
    std::fs::rename(&new, &live).unwrap();
    assert_eq!(first_and_count(&server), (json!("new"), json!(7)));
    assert_eq!(
        server.json("/live.json?sql=select+count(*)+from+t")["rows"],
        json!([[7]])
    );
}

#[test]
fn a_writers_lock_is_a_503_within_a_second_then_clears() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live.db");
    make(&live, "a", 3);
    let server = serve(&live);
    assert_eq!(server.get("/live/t.json").status, 200);
    let writer = rusqlite::Connection::open(&live).unwrap();
    writer
        .execute_batch("begin exclusive; insert into t (v) values ('b');")
        .unwrap();
    for path in ["/live/t.json", "/live.json?sql=select+*+from+t", "/live/t"] {
        let started = Instant::now();
        let r = server.get(path);
        assert_eq!(r.status, 503, "{path}: {}", r.body);
        assert!(r.body.contains("locked by another process"), "{}", r.body);
        assert!(started.elapsed() < Duration::from_secs(2));
    }
    assert_eq!(
        server.get("/fixture/stations.json").status,
        200,
        "other databases work"
    );
    writer.execute_batch("commit").unwrap();
    assert_eq!(first_and_count(&server).1, json!(4));
}

#[test]
fn a_deleted_file_is_a_503_and_the_others_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live.db");
    make(&live, "a", 3);
    let server = serve(&live);
    assert_eq!(server.get("/live/t.json").status, 200);
    std::fs::remove_file(&live).unwrap();
    let r = server.get("/live/t.json");
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.body.contains("cannot open database"), "{}", r.body);
    assert_eq!(server.get("/fixture/stations.json").status, 200);
    // Put back, it is served again.
    make(&live, "back", 2);
    assert_eq!(first_and_count(&server), (json!("back"), json!(2)));
}

/// The server keeps its read locks between requests on a file in rollback mode (`db::held`):
/// another process's writer, waiting as SQLite writers do (a busy timeout), gets through while
/// the file is read without pause, and each commit shows in the very next read.
#[test]
fn another_process_writes_between_reads_without_pause_and_each_write_shows_at_once() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live.db");
    make(&live, "a", 1);
    let server = std::sync::Arc::new(serve(&live));
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (server, stop) = (server.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut statuses = vec![];
                while !stop.load(Ordering::SeqCst) {
                    statuses.push(server.get("/live/t/1.json").status);
                }
                statuses
            })
        })
        .collect();
    let writer = rusqlite::Connection::open(&live).unwrap();
    writer.busy_timeout(Duration::from_secs(5)).unwrap();
    let count = || server.json("/live.json?sql=select+count(*)+from+t")["rows"][0][0].clone();
    for n in 2..=21 {
        writer
            .execute("insert into t (v) values ('b')", [])
            .expect("the writer waits its turn");
        assert_eq!(count(), json!(n));
        assert_eq!(first_and_count(&server).1, json!(n));
    }
    stop.store(true, Ordering::SeqCst);
    for r in readers {
        let statuses = r.join().unwrap();
        assert!(!statuses.is_empty());
        assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    }
}

/// `read_hold_ms 0`: no read lock outlives its request, so a writer that never waits (the
/// `sqlite3` shell without `.timeout`) gets through right after a read.
#[test]
fn with_read_hold_ms_0_a_writer_that_never_waits_gets_through_after_a_read() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live.db");
    make(&live, "a", 1);
    let server = TestApp::new()
        .files(vec![DatabaseFile {
            path: live.clone(),
            immutable: false,
        }])
        .metadata(json!({}))
        .setting("read_hold_ms", "0")
        .start();
    let writer = rusqlite::Connection::open(&live).unwrap();
    writer.busy_timeout(Duration::ZERO).unwrap();
    for n in 2..=6 {
        assert_eq!(server.get("/live/t/1.json").status, 200);
        writer
            .execute("insert into t (v) values ('b')", [])
            .expect("no lock held");
        assert_eq!(first_and_count(&server).1, json!(n));
    }
}
