//! Debian's nginx in the foreground, started by a test, as people run datasette-rs behind a
//! reverse proxy: round robin over several instances, under a path prefix.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::{get_url, Resp};

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// How the proxy passes requests on.
pub struct Proxying<'a> {
    /// The location proxied, passed on as it is (`/`, or `/data/` for a site under a path).
    pub prefix: &'a str,
    /// Send the client's host and scheme as `X-Forwarded-Host`/`X-Forwarded-Proto`, and the
    /// upstream's own name as `Host` (instances must trust the forwarded headers to build
    /// absolute URLs); else pass the client's `Host` on.
    pub forwarded: bool,
}

pub struct Nginx {
    child: Child,
    /// `http://127.0.0.1:PORT`, without the prefix.
    pub base: String,
    _dir: tempfile::TempDir,
}

impl Nginx {
    /// nginx round-robin over `ports`, retrying a request that an instance refused on the
    /// next one (its default for GET).
    pub fn start(ports: &[u16], proxying: &Proxying) -> Nginx {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let upstreams: String = ports
            .iter()
            .map(|p| format!("server 127.0.0.1:{p} max_fails=0;\n"))
            .collect();
        let headers = if proxying.forwarded {
            "proxy_set_header X-Forwarded-Host $host:$server_port;
             proxy_set_header X-Forwarded-Proto $scheme;"
        } else {
            "proxy_set_header Host $host:$server_port;"
        };
        let (d, prefix) = (dir.path().display(), proxying.prefix);
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
                 location {prefix} {{
                   proxy_pass http://datasette;
                   {headers}
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
        let nginx = Nginx {
            child,
            base: format!("http://127.0.0.1:{port}"),
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

    pub fn get(&self, path: &str) -> Resp {
        get_url(&format!("{}{path}", self.base))
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
