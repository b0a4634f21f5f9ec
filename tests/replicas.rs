//! Several instances sharing a secret behind nginx (Debian's, started by the test), as people
//! run datasette-rs behind a load balancer: a signed-in visitor is recognised by every
//! instance, an instance stopped with SIGTERM during a load run fails no request, and a file
//! renamed into place is served by every instance at once.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use testkit::nginx::{free_port, Nginx, Proxying};
use testkit::{serve_binary, Server, TEST_SECRET};

/// An instance of the shared file, under `/data/` behind the proxy, trusting its forwarded
/// headers.
fn instance(db: &std::path::Path, port: u16) -> Server {
    let port = port.to_string();
    serve_binary(&[
        db.to_str().unwrap(),
        "--secret",
        TEST_SECRET,
        "-p",
        &port,
        "--setting",
        "base_url",
        "/data/",
        "--setting",
        "trust_forwarded_headers",
        "on",
    ])
    .expect("starts")
}

/// Requests through nginx until told to stop: each one's status and time.
/// Requests through nginx until `stop`, counting them in `answered`: each answer's status and
/// time.
fn load(
    nginx: &Arc<Nginx>,
    stop: &Arc<AtomicBool>,
    answered: &Arc<AtomicUsize>,
) -> std::thread::JoinHandle<Vec<(u16, Duration)>> {
    let (nginx, stop, answered) = (nginx.clone(), stop.clone(), answered.clone());
    std::thread::spawn(move || {
        let mut answers = vec![];
        while !stop.load(Ordering::SeqCst) {
            let started = Instant::now();
            let status = nginx.get("/data/items/t.json?_shape=array").status;
            answers.push((status, started.elapsed()));
            answered.fetch_add(1, Ordering::SeqCst);
        }
        answers
    })
}

/// Waits until the load has had `more` answers since now.
fn await_answers(answered: &AtomicUsize, more: usize) {
    let from = answered.load(Ordering::SeqCst);
    testkit::eventually("answers to the load", || {
        answered.load(Ordering::SeqCst) >= from + more
    });
}

#[test]
fn instances_behind_nginx_share_sign_ins_survive_sigterm_and_pick_up_new_files() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("items.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch(
            "create table t (id integer primary key, v); insert into t (v) values ('one'), ('uno');",
        )
        .unwrap();
    let ports: Vec<u16> = (0..4).map(|_| free_port()).collect();
    let mut servers: Vec<Option<Server>> =
        ports[..3].iter().map(|p| Some(instance(&db, *p))).collect();
    // The fourth upstream is down until it is started below: nginx passes over it.
    let proxying = Proxying {
        prefix: "/data/",
        forwarded: true,
    };
    let nginx = Arc::new(Nginx::start(&ports, &proxying));

    // A cookie made with the shared secret signs its bearer in on every instance.
    let cookie = servers[0]
        .as_ref()
        .unwrap()
        .cookie_for(&json!({"id": "ana"}));
    for _ in 0..6 {
        let r = testkit::get_url_with(
            &format!("{}/data/-/actor.json", nginx.base),
            &[("Cookie", &cookie)],
        );
        assert_eq!(r.json(), json!({"actor": {"id": "ana"}}));
    }
    for s in servers.iter().flatten() {
        assert!(
            s.logged("/data/-/actor.json"),
            "round robin reached every instance"
        );
    }
    // Absolute URLs name the proxy, under the prefix.
    let index = nginx.get("/data/.json").json();
    assert_eq!(index["items"]["path"], "/data/items");
    let page = nginx.get("/data/items/t.json?_size=1");
    assert_eq!(
        page.json()["next_url"],
        format!("{}/data/items/t.json?_size=1&_next=1", nginx.base)
    );

    // SIGTERM to one instance, and a new one started, during a load run: nothing fails.
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let running = load(&nginx, &stop, &answered);
    await_answers(&answered, 20);
    let code = servers[0].take().unwrap().terminate();
    assert_eq!(code, Some(0));
    servers.push(Some(instance(&db, ports[3])));
    await_answers(&answered, 20);

    // A new file renamed into place: every instance serves it within a second.
    let next = dir.path().join("next.db");
    rusqlite::Connection::open(&next)
        .unwrap()
        .execute_batch(
            "create table t (id integer primary key, v); insert into t (v) values ('two');",
        )
        .unwrap();
    std::fs::rename(&next, &db).unwrap();
    let renamed = Instant::now();
    for s in servers.iter().flatten() {
        let mut rows = Value::Null;
        while renamed.elapsed() < Duration::from_secs(1) {
            rows = s.json("/items/t.json?_shape=array");
            if rows[0]["v"] == "two" {
                break;
            }
        }
        assert_eq!(rows, json!([{"id": 1, "v": "two"}]), "{}", s.base);
    }
    await_answers(&answered, 20);
    stop.store(true, Ordering::SeqCst);
    let answers = running.join().unwrap();
    let failed = answers.iter().filter(|(s, _)| *s != 200).count();
    let mut times: Vec<Duration> = answers.iter().map(|(_, t)| *t).collect();
    times.sort();
    let p99 = times[times.len() * 99 / 100];
    eprintln!(
        "load through nginx: {} requests, {failed} failed, p99 {:.1} ms",
        answers.len(),
        p99.as_secs_f64() * 1000.0
    );
    assert!(answers.len() > 20, "{}", answers.len());
    assert_eq!(failed, 0, "{answers:?}");
    // The health check answers through the proxy too.
    assert_eq!(nginx.get("/data/-/health").json(), json!({"status": "ok"}));
}
