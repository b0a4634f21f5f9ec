//! Test support for the end-to-end tests in `tests/`: the shared fixture databases, a server
//! per test (in-process, or the real binary), and an HTTP client that reads every answer.

pub mod nginx;
pub mod stub;
pub mod webdriver;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::Duration;

use datasette_rs::app::{AppState, DatabaseFile};
use datasette_rs::config::{Metadata, Settings};
use datasette_rs::session::SessionConfig;
use serde_json::Value;

/// The session secret of the test servers (the binary refuses one shorter than 32 bytes).
pub const TEST_SECRET: &str = "end-to-end tests share this secret";

/// The repository root (this crate is `crates/testkit`).
pub fn root() -> PathBuf {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    root.canonicalize().unwrap_or(root)
}

/// A directory for the files this test process shares between its tests, under
/// `target/test-scratch/PID`. Statics are never dropped, so a `TempDir` held in one would be
/// left behind by every run; instead, the directories of processes that have ended are removed
/// when the next one starts.
pub fn scratch_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let parent = target_debug()
            .parent()
            .expect("a target directory")
            .join("test-scratch");
        for entry in std::fs::read_dir(&parent).into_iter().flatten().flatten() {
            let pid = entry
                .file_name()
                .to_str()
                .and_then(|p| p.parse::<u32>().ok());
            let alive = pid.is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
            if !alive || pid == Some(std::process::id()) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        let dir = parent.join(std::process::id().to_string());
        std::fs::create_dir_all(&dir).expect("target/test-scratch");
        dir
    })
}

/// The fixture files every test shares, built once per test process.
pub struct Fixture {
    /// Built by Datasette's own fixture script: the golden responses were recorded on it.
    pub fixture_db: PathBuf,
    /// The sample database: BLOBs, floats, awkward names.
    pub sample_db: PathBuf,
    pub metadata: PathBuf,
}

pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let fixture_db = scratch_dir().join("fixture.db");
        let status = Command::new("python3")
            .arg(root().join("tests/golden/build_fixture.py"))
            .arg(&fixture_db)
            .stdout(Stdio::null())
            .status()
            .expect("python3 builds the fixture (tests/golden/build_fixture.py)");
        assert!(status.success(), "build_fixture.py failed");
        let sample_db = scratch_dir().join("sample.db");
        datasette_rs::sample::build(&sample_db).expect("sample database");
        Fixture {
            fixture_db,
            sample_db,
            metadata: root().join("tests/golden/metadata.json"),
        }
    })
}

/// One HTTP answer.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub content_type: String,
    pub headers: Vec<(String, String)>,
    /// The body as text (invalid UTF-8 replaced).
    pub body: String,
    /// The body as it came.
    pub bytes: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// A GET with extra headers to any URL (a proxy's), whatever the status.
pub fn get_url_with(url: &str, headers: &[(&str, &str)]) -> Resp {
    request_url("GET", url, headers)
}

/// A request with extra headers, whatever the status.
pub fn request_url(method: &str, url: &str, headers: &[(&str, &str)]) -> Resp {
    send(method, url, headers, "")
}

/// A request with extra headers and a body, whatever the status.
pub fn send(method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> Resp {
    send_bytes(method, url, headers, body.as_bytes().to_vec())
}

/// As [`send`], with a body of any bytes.
pub fn send_bytes(method: &str, url: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Resp {
    send_waiting(method, url, headers, body, Duration::from_secs(30))
}

/// As [`send_bytes`], waiting up to `timeout` for the whole exchange (a large upload).
pub fn send_waiting(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
    timeout: Duration,
) -> Resp {
    let mut req = ureq::http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(body).expect("request");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(timeout))
        .build()
        .into();
    let mut r = agent
        .run(req)
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    Resp::from_response(&mut r)
}

/// A `multipart/form-data` body of these parts (name, file name, content), and its content
/// type: what a browser sends for a form with a file input.
pub fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (Vec<u8>, String) {
    let boundary = "----datasette-rs-test-boundary";
    let mut body = Vec::new();
    for (name, filename, content) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let file = filename
            .map(|f| format!("; filename=\"{f}\"\r\nContent-Type: application/octet-stream"))
            .unwrap_or_default();
        body.extend_from_slice(
            format!("Content-Disposition: form-data; name=\"{name}\"{file}\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (body, format!("multipart/form-data; boundary={boundary}"))
}

/// GETs `url`, whatever the status.
pub fn get_url(url: &str) -> Resp {
    let mut r = agent()
        .get(url)
        .call()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    Resp::from_response(&mut r)
}

impl Resp {
    fn from_response(r: &mut ureq::http::Response<ureq::Body>) -> Resp {
        let headers = r
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect::<Vec<_>>();
        let content_type = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let bytes = r
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .unwrap_or_default();
        Resp {
            status: r.status().as_u16(),
            content_type,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            bytes,
        }
    }

    /// The value every `Set-Cookie` header gives, by cookie name.
    pub fn set_cookies(&self) -> Vec<(String, String)> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .filter_map(|(_, v)| {
                let (name, value) = v.split(';').next()?.split_once('=')?;
                Some((name.to_string(), value.to_string()))
            })
            .collect()
    }

    /// `name=value` of the first Set-Cookie header, for sending back.
    pub fn cookie(&self) -> Option<String> {
        let set = self.header("set-cookie")?;
        Some(set.split(';').next()?.to_string())
    }
}

/// A scenario's server: which files, which metadata, which settings.
pub struct TestApp {
    files: Vec<DatabaseFile>,
    metadata: Value,
    settings: Vec<(String, String)>,
    secret: Option<String>,
    crossdb: bool,
    templates: Option<PathBuf>,
}

impl Default for TestApp {
    fn default() -> Self {
        Self::new()
    }
}

impl TestApp {
    /// The fixture and sample databases with the shared metadata file.
    pub fn new() -> TestApp {
        let f = fixture();
        let metadata =
            serde_json::from_str(&std::fs::read_to_string(&f.metadata).expect("metadata"))
                .expect("metadata JSON");
        TestApp {
            files: vec![
                DatabaseFile {
                    path: f.fixture_db.clone(),
                    immutable: false,
                },
                DatabaseFile {
                    path: f.sample_db.clone(),
                    immutable: false,
                },
            ],
            metadata,
            settings: vec![],
            secret: Some(TEST_SECRET.into()),
            crossdb: false,
            templates: None,
        }
    }

    /// The session secret (`None`: a random key, as without `--secret`).
    pub fn secret(mut self, secret: Option<&str>) -> TestApp {
        self.secret = secret.map(str::to_string);
        self
    }

    /// Only the database Datasette's golden responses were recorded on.
    pub fn fixture_only(mut self) -> TestApp {
        self.files.truncate(1);
        self
    }

    pub fn metadata(mut self, metadata: Value) -> TestApp {
        self.metadata = metadata;
        self
    }

    pub fn setting(mut self, name: &str, value: &str) -> TestApp {
        self.settings.push((name.into(), value.into()));
        self
    }

    /// Serves `_memory`, where SQL reads the other files by name (`--crossdb`).
    pub fn crossdb(mut self) -> TestApp {
        self.crossdb = true;
        self
    }

    /// The site's own templates (`--template-dir`).
    pub fn templates(mut self, dir: &Path) -> TestApp {
        self.templates = Some(dir.to_path_buf());
        self
    }

    pub fn files(mut self, files: Vec<DatabaseFile>) -> TestApp {
        self.files = files;
        self
    }

    /// Starts the server on a free loopback port, in a thread of this process.
    pub fn start(self) -> Server {
        let secret = self.secret.clone();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let metadata =
                    Metadata::parse(&self.metadata.to_string(), Path::new("metadata.json"))
                        .expect("metadata");
                let mut settings = Settings::default();
                for (k, v) in &self.settings {
                    settings.set(k, v).expect("setting");
                }
                settings.crossdb = self.crossdb;
                if let Some(dir) = &self.templates {
                    let templates = datasette_rs::render::jinja::UserTemplates::load(dir)
                        .expect("the templates load");
                    settings.templates = Some(Arc::new(templates));
                }
                let session =
                    SessionConfig::new(self.secret.as_deref(), &settings).expect("a valid secret");
                let state = actix_web::web::Data::new(
                    AppState::build(
                        &self.files,
                        &Default::default(),
                        metadata,
                        settings,
                        session,
                        datasette_rs::plugins::Plugins::none(),
                    )
                    .await
                    .expect("state"),
                );
                let server =
                    actix_web::HttpServer::new(move || datasette_rs::server::app(state.clone()))
                        .workers(2)
                        .bind(("127.0.0.1", 0))
                        .expect("bind");
                tx.send(server.addrs()[0].port()).expect("send port");
                server.run().await
            })
        });
        let port = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("server started");
        Server {
            base: format!("http://127.0.0.1:{port}"),
            root_url: None,
            secret,
            log: Default::default(),
            child: None,
        }
    }
}

/// A running server; a child process is stopped when this is dropped.
pub struct Server {
    pub base: String,
    /// The one-time sign-in URL printed by `--root`.
    pub root_url: Option<String>,
    /// The session secret, for making cookies as another instance sharing it would.
    secret: Option<String>,
    /// What the binary wrote to stderr so far.
    log: Arc<Mutex<String>>,
    child: Option<Child>,
}

impl Server {
    /// The server's log so far (the binary's stderr; empty for in-process servers).
    pub fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Whether the log shows `text` within a few seconds: lines reach it from the binary's
    /// stderr a moment after the answer that caused them.
    pub fn logged(&self, text: &str) -> bool {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !self.log().contains(text) {
            if std::time::Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        true
    }

    /// Waits until a request other than this one has been under way for `at_least` (from
    /// `/-/threads`): a test orders its events by what the server is doing, not by sleeping.
    /// Panics after 10 s.
    pub fn await_request_under_way(&self, at_least: Duration) {
        let wanted = at_least.as_secs_f64() * 1000.0;
        eventually("a request under way", || {
            let threads = self.json("/-/threads.json");
            let tasks = threads["tasks"].as_array().cloned().unwrap_or_default();
            tasks.iter().filter_map(Value::as_str).any(|t| {
                // "GET request, 12.3 ms so far"
                t.split(", ")
                    .nth(1)
                    .and_then(|ms| ms.split(' ').next())
                    .and_then(|ms| ms.parse::<f64>().ok())
                    .is_some_and(|ms| ms >= wanted)
            })
        });
    }

    /// A `Cookie` header value signing `actor` in for the next hour, encrypted with the
    /// server's secret exactly as any instance sharing that secret would encrypt it.
    pub fn cookie_for(&self, actor: &Value) -> String {
        self.cookie_expiring(actor, unix_now() + 3600)
    }

    /// As [`Server::cookie_for`], trusted until `expires` (Unix seconds).
    pub fn cookie_expiring(&self, actor: &Value, expires: i64) -> String {
        let secret = self.secret.as_deref().expect("a --secret");
        format!(
            "{}={}",
            datasette_rs::session::COOKIE_NAME,
            session_cookie_value(secret, actor, expires)
        )
    }

    pub fn get(&self, path: &str) -> Resp {
        get_url(&format!("{}{path}", self.base))
    }

    /// Sends the binary SIGTERM and waits for it to exit: its exit code (`None` for a server
    /// running in this process, or one that a signal killed).
    pub fn terminate(&mut self) -> Option<i32> {
        let child = self.child.as_mut()?;
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
        let exit = child.wait().expect("wait for the server");
        self.child = None;
        exit.code()
    }

    /// A line of the binary's `/proc/PID/status`, in KiB (`VmRSS`, `VmHWM`): `None` for a
    /// server running in this process.
    pub fn memory_kib(&self, field: &str) -> Option<u64> {
        let pid = self.child.as_ref()?.id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    }

    /// A request with extra headers (a `Cookie`, an `Origin`), whatever the status.
    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Resp {
        request_url(method, &format!("{}{path}", self.base), headers)
    }

    /// A POST of `body` (a form unless the headers say otherwise), whatever the status.
    pub fn post(&self, path: &str, headers: &[(&str, &str)], body: &str) -> Resp {
        let mut all = vec![("Content-Type", "application/x-www-form-urlencoded")];
        all.extend_from_slice(headers);
        send("POST", &format!("{}{path}", self.base), &all, body)
    }

    /// GETs a JSON URL that must answer 200.
    pub fn json(&self, path: &str) -> Value {
        let r = self.get(path);
        assert_eq!(r.status, 200, "GET {path}: {}", r.body);
        r.json()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Waits until `done` is true, polling; panics naming `what` after 10 s.
pub fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "waited 10 s for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

/// Where cargo puts debug builds.
pub fn target_debug() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
        .join("debug")
}

/// The packages the end-to-end tests run: the binary and the plugin libraries they load.
const LOADED_PACKAGES: &[&str] = &[
    "datasette-rs",
    "datasette-atom",
    "datasette-auth0",
    "datasette-auth-tokens",
    "datasette-block-robots",
    "datasette-copyable",
    "datasette-haversine",
    "datasette-permissions-sql",
    "datasette-pretty-json",
    "datasette-render-markdown",
    "datasette-test-hooks",
    "datasette-test-impostor",
    "datasette-upload-csvs",
];

/// The `datasette-rs` binary and the plugin libraries, built once per test process so none
/// is ever stale (`cargo test` does not build cdylibs by itself).
pub fn binary() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let packages = LOADED_PACKAGES.iter().flat_map(|p| ["-p", p]);
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet"])
            .args(packages)
            .current_dir(root())
            .status()
            .expect("cargo build");
        assert!(
            status.success(),
            "cargo build of {LOADED_PACKAGES:?} failed"
        );
        target_debug().join("datasette-rs")
    })
    .clone()
}

/// The library a plugin package builds to, e.g. `datasette-auth-tokens` →
/// `target/debug/libdatasette_auth_tokens.so`.
pub fn plugin_library(package: &str) -> PathBuf {
    binary();
    target_debug().join(datasette_rs::plugins::library_file_name(package))
}

/// Runs the binary on the shared fixture database with `metadata` as its metadata.json (a
/// temporary file, read at start-up), a session secret, and `extra` arguments.
pub fn serve_fixture_with_metadata(
    metadata: &Value,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Result<Server, Exit> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("metadata.json");
    std::fs::write(&path, metadata.to_string()).expect("write metadata.json");
    let mut args = vec![
        fixture().fixture_db.to_str().expect("UTF-8 path"),
        "-m",
        path.to_str().expect("UTF-8 path"),
        "--secret",
        TEST_SECRET,
    ];
    args.extend_from_slice(extra);
    serve_binary_with_env(&args, env)
}

/// Runs the binary on a new database `name` made by `sql`, with `metadata` as its metadata.json
/// (plugins it names are found beside the binary), a session secret and `extra` arguments.
/// The directory holds the files: keep it as long as the server.
/// `NAME.db` in `dir`, made by `sql`: its path as text, for the command line.
pub fn sqlite_file(dir: &Path, name: &str, sql: &str) -> String {
    let path = dir.join(format!("{name}.db"));
    rusqlite::Connection::open(&path)
        .expect("open")
        .execute_batch(sql)
        .expect("fixture SQL");
    path.to_str().expect("UTF-8 path").to_string()
}

pub fn serve_sql(
    name: &str,
    sql: &str,
    metadata: Value,
    extra: &[&str],
) -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = sqlite_file(dir.path(), name, sql);
    let path = dir.path().join("metadata.json");
    std::fs::write(&path, metadata.to_string()).expect("write metadata.json");
    let mut args = vec![
        db.as_str(),
        "-m",
        path.to_str().expect("UTF-8 path"),
        "--secret",
        TEST_SECRET,
    ];
    args.extend_from_slice(extra);
    let server = serve_binary(&args).expect("starts");
    (dir, server)
}

/// How a run of the binary ended when it did not start serving.
#[derive(Debug)]
pub struct Exit {
    pub code: Option<i32>,
    pub stderr: String,
}

/// Runs `datasette-rs serve ARGS -p 0` (or on the `-p` the arguments give): the server once
/// it prints its address, or how it exited if it stopped first.
pub fn serve_binary(args: &[&str]) -> Result<Server, Exit> {
    serve_binary_with_env(args, &[])
}

/// As [`serve_binary`], with extra environment variables.
pub fn serve_binary_with_env(args: &[&str], env: &[(&str, &str)]) -> Result<Server, Exit> {
    let mut child = Command::new(binary())
        .arg("serve")
        .args(args)
        // A free port unless the test names one.
        .args(if args.contains(&"-p") {
            &[][..]
        } else {
            &["-p", "0"][..]
        })
        // No plugin folder of the machine's user: only `--plugins-dir`, beside the binary, and
        // what a test sets itself.
        .env_remove("DATASETTE_RS_PLUGINS")
        .env("XDG_DATA_HOME", scratch_dir().join("no-user-plugins"))
        .envs(env.iter().copied())
        .env("RUST_BACKTRACE", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn datasette-rs");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let mut seen = String::new();
    while let Some(Ok(line)) = lines.next() {
        if let Some(rest) = line.strip_prefix("Serving at ") {
            let base = rest.trim_end_matches('/').to_string();
            let root_url = if args.contains(&"--root") {
                lines
                    .next()
                    .and_then(Result::ok)
                    .and_then(|l| l.split_once(": ").map(|(_, u)| u.to_string()))
            } else {
                None
            };
            // Keep reading stderr, so the server never blocks on a full pipe and tests can
            // read its log.
            let log = Arc::new(Mutex::new(seen));
            let sink = log.clone();
            std::thread::spawn(move || {
                for line in lines.map_while(Result::ok) {
                    let mut log = sink.lock().unwrap_or_else(|e| e.into_inner());
                    log.push_str(&line);
                    log.push('\n');
                }
            });
            let secret = args
                .iter()
                .position(|a| *a == "--secret")
                .and_then(|i| args.get(i + 1))
                .map(|s| s.to_string());
            return Ok(Server {
                base,
                root_url,
                secret,
                log,
                child: Some(child),
            });
        }
        seen.push_str(&line);
        seen.push('\n');
    }
    let status = child.wait().expect("wait");
    Err(Exit {
        code: status.code(),
        stderr: seen,
    })
}

/// The body with the digits of `"query_ms":…` removed: timings differ run to run.
pub fn without_timing(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some(i) = rest.find("\"query_ms\":") {
        let (head, tail) = rest.split_at(i + "\"query_ms\":".len());
        out.push_str(head);
        rest = tail.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
    }
    out.push_str(rest);
    out
}

/// The value of a session cookie signing `actor` in until `expires` (Unix seconds), encrypted
/// with `secret` exactly as any instance sharing that secret would encrypt it.
pub fn session_cookie_value(secret: &str, actor: &Value, expires: i64) -> String {
    use actix_web::cookie::{Cookie, CookieJar};
    use datasette_rs::session;
    let key = session::key_from_secret(Some(secret)).expect("a valid secret");
    // actix-session's cookie store: a JSON map of keys to JSON-encoded values.
    let state = serde_json::json!({
        session::ACTOR_KEY: actor.to_string(),
        session::EXPIRES_KEY: expires.to_string(),
    });
    let mut jar = CookieJar::new();
    jar.private_mut(&key)
        .add(Cookie::new(session::COOKIE_NAME, state.to_string()));
    let cookie = jar.get(session::COOKIE_NAME).expect("cookie");
    cookie.value().to_string()
}
