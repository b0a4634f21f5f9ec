//! Several instances sharing a secret behind nginx (Debian's, started by the test), as people
//! run datasette-rs behind a load balancer: a signed-in visitor is recognised by every
//! instance, an instance stopped with SIGTERM during a load run fails no request, and a file
//! renamed into place is served by every instance at once.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use datasette_rs_tests::{get_url, serve_binary, Server, TEST_SECRET};
use serde_json::{json, Value};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// nginx in the foreground, round-robin over `ports`, retrying a request that an instance
/// refused on the next one (its default for GET).
struct Nginx {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Nginx {
    fn start(ports: &[u16]) -> Nginx {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let upstreams: String = ports
            .iter()
            .map(|p| format!("server 127.0.0.1:{p} max_fails=0;\n"))
            .collect();
        let d = dir.path().display();
        let conf = format!(
            "user root;
             worker_processes 1;
             pid {d}/nginx.pid;
             error_log {d}/error.log;
             events {{ worker_connections 256; }}
             http {{
               access_log off;
               client_body_temp_path {d}/body;
               proxy_temp_path {d}/proxy;
               fastcgi_temp_path {d}/fastcgi;
               uwsgi_temp_path {d}/uwsgi;
               scgi_temp_path {d}/scgi;
               upstream datasette {{ {upstreams} }}
               server {{
                 listen 127.0.0.1:{port};
                 location / {{
                   proxy_pass http://datasette;
                   proxy_set_header Host $host:$server_port;
                   proxy_next_upstream error timeout http_502 http_503;
                   proxy_buffering off;
                 }}
               }}
             }}"
        );
        let path = dir.path().join("nginx.conf");
        std::fs::write(&path, conf).unwrap();
        let child = Command::new("nginx")
            .args(["-e", "stderr", "-c"])
            .arg(&path)
            .args(["-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx (Debian's nginx-light; .ci/run installs it)");
        let base = format!("http://127.0.0.1:{port}");
        let nginx = Nginx {
            child,
            base,
            _dir: dir,
        };
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return nginx;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("nginx did not start");
    }

    fn get(&self, path: &str) -> datasette_rs_tests::Resp {
        get_url(&format!("{}{path}", self.base))
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn instance(db: &std::path::Path, port: u16) -> Server {
    let port = port.to_string();
    serve_binary(&[db.to_str().unwrap(), "--secret", TEST_SECRET, "-p", &port]).expect("starts")
}

/// Requests through nginx until told to stop: every status seen.
fn load(nginx: &Arc<Nginx>, stop: &Arc<AtomicBool>) -> std::thread::JoinHandle<Vec<u16>> {
    let (nginx, stop) = (nginx.clone(), stop.clone());
    std::thread::spawn(move || {
        let mut statuses = vec![];
        while !stop.load(Ordering::SeqCst) {
            statuses.push(nginx.get("/data/t.json?_shape=array").status);
        }
        statuses
    })
}

#[test]
fn instances_behind_nginx_share_sign_ins_survive_sigterm_and_pick_up_new_files() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch(
            "create table t (id integer primary key, v); insert into t (v) values ('one');",
        )
        .unwrap();
    let ports: Vec<u16> = (0..4).map(|_| free_port()).collect();
    let mut servers: Vec<Option<Server>> =
        ports[..3].iter().map(|p| Some(instance(&db, *p))).collect();
    // The fourth upstream is down until it is started below: nginx passes over it.
    let nginx = Arc::new(Nginx::start(&ports));

    // A cookie made with the shared secret signs its bearer in on every instance.
    let cookie = servers[0]
        .as_ref()
        .unwrap()
        .cookie_for(&json!({"id": "ana"}));
    for _ in 0..6 {
        let r = datasette_rs_tests::get_url_with(
            &format!("{}/-/actor.json", nginx.base),
            &[("Cookie", &cookie)],
        );
        assert_eq!(r.json(), json!({"actor": {"id": "ana"}}));
    }
    for s in servers.iter().flatten() {
        assert!(
            s.logged("/-/actor.json"),
            "round robin reached every instance"
        );
    }

    // SIGTERM to one instance, and a new one started, during a load run: nothing fails.
    let stop = Arc::new(AtomicBool::new(false));
    let running = load(&nginx, &stop);
    std::thread::sleep(Duration::from_millis(300));
    let code = servers[0].take().unwrap().terminate();
    assert_eq!(code, Some(0));
    servers.push(Some(instance(&db, ports[3])));
    std::thread::sleep(Duration::from_millis(300));

    // A new file renamed into place: every instance serves it within a second.
    let next = dir.path().join("next.db");
    rusqlite::Connection::open(&next)
        .unwrap()
        .execute_batch(
            "create table t (id integer primary key, v); insert into t (v) values ('two');",
        )
        .unwrap();
    std::fs::rename(&next, &db).unwrap();
    let renamed = std::time::Instant::now();
    for s in servers.iter().flatten() {
        let mut rows = Value::Null;
        while renamed.elapsed() < Duration::from_secs(1) {
            rows = s.json("/data/t.json?_shape=array");
            if rows[0]["v"] == "two" {
                break;
            }
        }
        assert_eq!(rows, json!([{"id": 1, "v": "two"}]), "{}", s.base);
    }
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::SeqCst);
    let statuses = running.join().unwrap();
    assert!(statuses.len() > 20, "{}", statuses.len());
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    // The health check answers through the proxy too.
    assert_eq!(nginx.get("/-/health").json(), json!({"status": "ok"}));
}
