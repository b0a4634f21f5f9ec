//! The real binary: serving the sample, and refusing bad start-up input with a clear message.

use testkit::{fixture, serve_binary, serve_binary_with_env, serve_fixture_with_metadata};

#[test]
fn serves_the_sample_database_when_given_no_file() {
    let server = serve_binary(&[]).expect("starts");
    let v = server.json("/.json");
    assert!(v.get("sample").is_some(), "{v}");
    let cities = server.json("/sample/cities.json?_size=1");
    assert_eq!(cities["filtered_table_rows_count"], 320);
}

#[test]
fn serves_files_with_metadata_and_settings() {
    let f = fixture();
    let server = serve_binary(&[
        f.fixture_db.to_str().unwrap(),
        "-m",
        f.metadata.to_str().unwrap(),
        "--setting",
        "default_page_size",
        "7",
        "--setting",
        "max_returned_rows",
        "50",
    ])
    .expect("starts");
    assert_eq!(
        server.json("/fixture/stations.json")["rows"]
            .as_array()
            .unwrap()
            .len(),
        7
    );
    let settings = server.json("/-/settings.json");
    assert_eq!(settings["max_returned_rows"], 50);
    assert_eq!(server.get("/fixture/stations.json?_size=51").status, 400);
}

#[test]
fn immutable_files_are_served() {
    let f = fixture();
    let server = serve_binary(&["-i", f.fixture_db.to_str().unwrap()]).expect("starts");
    let dbs = server.json("/-/databases.json");
    assert_eq!(dbs[0]["is_mutable"], false);
    assert_eq!(
        server.json("/fixture/stations.json")["filtered_table_rows_count"],
        12
    );
}

#[test]
fn a_malformed_metadata_file_stops_start_up_naming_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("metadata.json");
    std::fs::write(&path, "{\n  \"title\": \"x\",\n  \"databases\": {\n    \"d\": {\"tables\": {\"t\": {\"size\": \"big\"}}}\n  }\n}\n").unwrap();
    let exit = serve_binary(&["-m", path.to_str().unwrap()])
        .err()
        .expect("refuses");
    assert_ne!(exit.code, Some(0));
    assert!(
        exit.stderr
            .contains(&format!("{}: line 4, column", path.display())),
        "{}",
        exit.stderr
    );
    assert!(exit.stderr.contains("invalid type"), "{}", exit.stderr);

    std::fs::write(&path, "{ \"title\": ").unwrap();
    let exit = serve_binary(&["-m", path.to_str().unwrap()])
        .err()
        .expect("refuses");
    assert!(exit.stderr.contains("line 1"), "{}", exit.stderr);
}

#[test]
fn bad_settings_and_files_are_refused() {
    let exit = serve_binary(&["--setting", "nope", "1"])
        .err()
        .expect("refuses");
    assert!(
        exit.stderr.contains("unknown setting 'nope'"),
        "{}",
        exit.stderr
    );
    let exit = serve_binary(&["--setting", "max_returned_rows", "lots"])
        .err()
        .expect("refuses");
    assert!(exit.stderr.contains("max_returned_rows"), "{}", exit.stderr);
    let exit = serve_binary(&["--secret", "0123456789abcdef0123456789abcde"])
        .err()
        .expect("refuses a 31-byte secret");
    assert!(
        exit.stderr
            .contains("the secret (--secret or DATASETTE_SECRET) is 31 bytes")
            && exit.stderr.contains("openssl rand -hex 32"),
        "{}",
        exit.stderr
    );
    let exit = serve_binary(&["/no/such/file.db"]).err().expect("refuses");
    assert!(
        exit.stderr.contains("/no/such/file.db: no such file"),
        "{}",
        exit.stderr
    );
    let dir = tempfile::tempdir().unwrap();
    let not_sqlite = dir.path().join("junk.db");
    std::fs::write(
        &not_sqlite,
        "this is not a database, just text that is long enough to be read",
    )
    .unwrap();
    let exit = serve_binary(&[not_sqlite.to_str().unwrap()])
        .err()
        .expect("refuses");
    assert!(exit.stderr.contains("junk.db"), "{}", exit.stderr);
    let exit = serve_binary(&["-m", "/no/such/metadata.json"])
        .err()
        .expect("refuses");
    assert!(
        exit.stderr.contains("/no/such/metadata.json"),
        "{}",
        exit.stderr
    );
}

#[test]
fn version_and_help() {
    let out = std::process::Command::new(testkit::binary())
        .arg("--version")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
    let out = std::process::Command::new(testkit::binary())
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("--setting") && help.contains("--metadata"),
        "{help}"
    );
}

/// `serve --get PATH`, as Datasette's: the answer on stdout, exit status 1 for a 4xx or 5xx.
#[test]
fn get_prints_one_answer_and_fails_on_errors() {
    let f = fixture();
    let get = |path: &str| {
        std::process::Command::new(testkit::binary())
            .args(["serve", f.fixture_db.to_str().unwrap(), "--get", path])
            .output()
            .expect("run the binary")
    };
    let ok = get("/fixture/cities.json?_size=1&_shape=array&_col=name");
    assert!(ok.status.success());
    let rows: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 1);
    let missing = get("/fixture/nowhere.json");
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stdout).contains("Table not found"));
}

/// `--cors` lets other sites read the answers (Datasette's headers), errors included; without
/// it no page says so.
#[test]
fn cors_opens_answers_to_other_sites_only_when_asked() {
    let f = fixture();
    let db = f.fixture_db.to_str().unwrap();
    let open = serve_binary(&[db, "--cors"]).expect("starts");
    for (path, status) in [
        ("/fixture.json", 200),
        ("/fixture/stations.csv", 200),
        ("/fixture.json?sql=select+blah", 400),
    ] {
        let r = open.get(path);
        assert_eq!(r.status, status, "{path}");
        assert_eq!(r.header("access-control-allow-origin"), Some("*"), "{path}");
        assert_eq!(
            r.header("access-control-allow-headers"),
            Some("Authorization")
        );
        assert_eq!(r.header("access-control-expose-headers"), Some("Link"));
        assert_eq!(r.header("access-control-allow-credentials"), None);
    }
    let closed = serve_binary(&[db]).expect("starts");
    assert_eq!(
        closed
            .get("/fixture.json")
            .header("access-control-allow-origin"),
        None
    );
}

/// `inspect` writes each file's hash, size and counts; `serve --inspect-file` takes them for
/// immutable files as they are (the file is neither hashed nor counted), as Datasette does.
#[test]
fn inspect_data_is_written_and_served_from() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("create table t (x); insert into t values (1), (2), (3);")
        .unwrap();
    let json = dir.path().join("inspect.json");
    let run = std::process::Command::new(testkit::binary())
        .args([
            "inspect",
            db.to_str().unwrap(),
            "--inspect-file",
            json.to_str().unwrap(),
        ])
        .output()
        .expect("run the binary");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let mut data: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(data["data"]["tables"]["t"]["count"], 3);
    assert_eq!(data["data"]["hash"].as_str().map(str::len), Some(64));
    // What the file says is what is served, for an immutable file.
    data["data"]["hash"] = "feedface".into();
    data["data"]["tables"]["t"]["count"] = 1000.into();
    std::fs::write(&json, data.to_string()).unwrap();
    let serve = || {
        serve_binary(&[
            "-i",
            db.to_str().unwrap(),
            "--inspect-file",
            json.to_str().unwrap(),
        ])
    };
    let server = serve().expect("starts");
    assert_eq!(server.json("/-/databases.json")[0]["hash"], "feedface");
    assert_eq!(
        server.json("/data/t.json")["filtered_table_rows_count"],
        1000
    );
    // A file that is not inspect data stops start-up, naming it.
    std::fs::write(&json, "[1, 2]").unwrap();
    let err = serve().err().expect("refused");
    assert!(
        err.stderr.contains("inspect.json") && err.stderr.contains("not inspect data"),
        "{}",
        err.stderr
    );
}

/// `--static MOUNT:DIR` serves the directory's files, nothing outside it, no hidden file and
/// no listing; a bad mount stops start-up naming it.
#[test]
fn static_mounts_serve_a_directory_and_nothing_beside_it() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("site");
    std::fs::create_dir_all(dir.join("css")).unwrap();
    std::fs::write(dir.join("css/site.css"), "body { color: teal }").unwrap();
    std::fs::write(dir.join(".env"), "SECRET=1").unwrap();
    std::fs::write(root.path().join("private.txt"), "not served").unwrap();
    std::os::unix::fs::symlink(root.path().join("private.txt"), dir.join("escape.txt")).unwrap();
    let mount = format!("assets:{}", dir.display());
    let sample = testkit::fixture().sample_db.to_str().unwrap();
    let server = serve_binary(&["--static", &mount, sample]).expect("starts");
    let r = server.get("/assets/css/site.css");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, "body { color: teal }");
    assert_eq!(r.header("content-type"), Some("text/css; charset=utf-8"));
    assert_eq!(
        server.request("HEAD", "/assets/css/site.css", &[]).status,
        200
    );
    for path in [
        "/assets/.env",
        "/assets/escape.txt",
        "/assets/../private.txt",
        "/assets/%2E%2E/private.txt",
        "/assets/css",
        "/assets/css/",
        "/assets/missing.css",
    ] {
        let r = server.get(path);
        assert_eq!(r.status, 404, "{path}: {}", r.body);
        assert!(!r.body.contains("not served") && !r.body.contains("SECRET"));
    }
    // The databases are served beside it.
    assert_eq!(server.get("/sample.json").status, 200);

    let exit = serve_binary(&["--static", "assets:/no/such/dir", sample])
        .err()
        .expect("refuses");
    assert!(
        exit.stderr.contains("--static assets:/no/such/dir"),
        "{}",
        exit.stderr
    );
    let exit = serve_binary(&["--static", &format!("sample:{}", dir.display()), sample])
        .err()
        .expect("refuses a mount named like a database");
    assert!(
        exit.stderr.contains("would hide the database sample"),
        "{}",
        exit.stderr
    );
}

/// Runs `datasette-rs plugins ARGS` with `env` and no plugin folder of the machine's user:
/// its exit code, stdout and stderr.
fn plugins_command(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let out = std::process::Command::new(testkit::binary())
        .arg("plugins")
        .args(args)
        .env_remove("DATASETTE_RS_PLUGINS")
        .env(
            "XDG_DATA_HOME",
            testkit::scratch_dir().join("no-user-plugins"),
        )
        .envs(env.iter().copied())
        .output()
        .expect("run the binary");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Folders as `--plugins-dir`, `$DATASETTE_RS_PLUGINS` (two) and `$XDG_DATA_HOME`, each
/// holding a copy of the test-hooks library (`--plugins-dir` none).
struct PluginFolders {
    _root: tempfile::TempDir,
    given: std::path::PathBuf,
    env: [std::path::PathBuf; 2],
    xdg_data_home: std::path::PathBuf,
    user: std::path::PathBuf,
}

fn plugin_folders() -> PluginFolders {
    let root = tempfile::tempdir().unwrap();
    let given = root.path().join("given");
    let env = [root.path().join("env1"), root.path().join("env2")];
    let xdg_data_home = root.path().join("data");
    let user = xdg_data_home.join("datasette-rs").join("plugins");
    for dir in [&given, &env[0], &env[1], &user] {
        std::fs::create_dir_all(dir).unwrap();
    }
    PluginFolders {
        _root: root,
        given,
        env,
        xdg_data_home,
        user,
    }
}

impl PluginFolders {
    fn env_list(&self) -> String {
        std::env::join_paths(&self.env)
            .unwrap()
            .into_string()
            .unwrap()
    }
}

/// `plugins` loads every library of the plugin folders as start-up would and lists them in
/// search order: `--plugins-dir`, `$DATASETTE_RS_PLUGINS`, the user's plugins folder, beside
/// the executable; with each one's name, versions and hooks, the later copies of a file
/// shadowed by the first, and why a library that is not a plugin is refused.
#[test]
fn plugins_lists_each_library_of_the_folders_in_search_order() {
    let hooks = testkit::plugin_library("datasette-test-hooks");
    let file = hooks.file_name().unwrap();
    let f = plugin_folders();
    for dir in [&f.given, &f.env[1], &f.user] {
        std::fs::copy(&hooks, dir.join(file)).unwrap();
    }
    let bogus = f.env[0].join(datasette_rs::plugins::library_file_name("not-a-plugin"));
    std::fs::write(&bogus, "not a library").unwrap();
    let env_list = f.env_list();
    let env = [
        ("DATASETTE_RS_PLUGINS", env_list.as_str()),
        ("XDG_DATA_HOME", f.xdg_data_home.to_str().unwrap()),
    ];
    let given = f.given.to_str().unwrap();
    let (code, out, err) = plugins_command(&["--plugins-dir", given, "--json"], &env);
    assert_eq!(code, Some(0), "{err}");
    let listing: serde_json::Value = serde_json::from_str(&out).expect(&out);
    let beside = testkit::target_debug().canonicalize().unwrap();
    let searched: Vec<&str> = listing["searched"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert_eq!(
        searched,
        [
            given,
            f.env[0].to_str().unwrap(),
            f.env[1].to_str().unwrap(),
            f.user.to_str().unwrap(),
            beside.to_str().unwrap(),
        ]
    );
    let plugins = listing["plugins"].as_array().unwrap();
    let entry = |path: &std::path::Path| {
        plugins
            .iter()
            .find(|p| p["file"] == path.to_str().unwrap())
            .unwrap_or_else(|| panic!("{} is not listed: {out}", path.display()))
    };
    let first = f.given.join(file);
    let listed = entry(&first);
    assert_eq!(listed["name"], "datasette-test-hooks");
    assert_eq!(listed["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        listed["sdk_version"],
        datasette_plugin_api::abi::SDK_VERSION
    );
    assert_eq!(
        listed["abi_version"],
        datasette_plugin_api::abi::ABI_VERSION
    );
    let hooks_listed = listed["hooks"].as_array().unwrap();
    for hook in ["startup", "routes", "handle", "permission_allowed"] {
        assert!(hooks_listed.contains(&hook.into()), "{listed}");
    }
    assert_eq!(listed["refused"], serde_json::Value::Null);
    assert_eq!(listed["shadowed_by"], serde_json::Value::Null);
    // The later copies, the one beside the executable included, are found but never loaded
    // for metadata.json: the first wins.
    for later in [f.env[1].join(file), f.user.join(file), beside.join(file)] {
        let e = entry(&later);
        assert_eq!(e["name"], "datasette-test-hooks");
        assert_eq!(e["shadowed_by"], first.to_str().unwrap(), "{e}");
    }
    let refused = entry(&bogus);
    assert_eq!(refused["name"], serde_json::Value::Null);
    let why = refused["refused"].as_str().unwrap();
    assert!(
        why.starts_with(&format!("plugin {}: cannot be loaded", bogus.display())),
        "{why}"
    );
    // Folder by folder, in search order.
    let positions: Vec<usize> = [&first, &bogus, &f.env[1].join(file), &f.user.join(file)]
        .iter()
        .map(|p| {
            plugins
                .iter()
                .position(|e| e["file"] == p.to_str().unwrap())
                .unwrap()
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{out}");

    // The same, one line each for people; the folders searched on stderr.
    let (code, out, err) = plugins_command(&["--plugins-dir", given], &env);
    assert_eq!(code, Some(0), "{err}");
    let line = out
        .lines()
        .find(|l| l.starts_with(first.to_str().unwrap()))
        .expect(&out);
    assert!(
        line.contains(&format!(
            "datasette-test-hooks {}, built against datasette-plugin-api {} (plugin ABI {}); hooks: startup, routes, handle",
            env!("CARGO_PKG_VERSION"),
            datasette_plugin_api::abi::SDK_VERSION,
            datasette_plugin_api::abi::ABI_VERSION
        )),
        "{line}"
    );
    assert!(
        out.contains(&format!("{}: refused: {why}\n", bogus.display())),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "{}: datasette-test-hooks {}",
            f.user.join(file).display(),
            env!("CARGO_PKG_VERSION")
        )) && out.contains(&format!("; shadowed by {}\n", first.display())),
        "{out}"
    );
    assert!(
        err.contains(&format!("looked in: {}\n", searched.join(", "))),
        "{err}"
    );
}

/// A library `plugins --plugin FILE` refuses is refused with the message `serve --plugin FILE`
/// stops with, and the command exits 1 as start-up would.
#[test]
fn plugins_refuses_a_library_with_the_message_start_up_gives() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("libnotes.so");
    std::fs::write(&bogus, "just text").unwrap();
    let impostor = testkit::plugin_library("datasette-test-impostor");
    for (file, env, reason) in [
        (bogus.as_path(), "", "cannot be loaded"),
        (
            impostor.as_path(),
            "abi",
            "was built for plugin ABI version",
        ),
        (impostor.as_path(), "abort", "panic = \"abort\""),
    ] {
        let file = file.to_str().unwrap();
        let env = [("DATASETTE_IMPOSTOR", env)];
        let (code, out, err) = plugins_command(&["--plugin", file, "--json"], &env);
        assert_eq!(code, Some(1), "{file} {env:?}: {out} {err}");
        let listing: serde_json::Value = serde_json::from_str(&out).expect(&out);
        let listed = &listing["plugins"][0];
        assert_eq!(listed["file"], file);
        let why = listed["refused"].as_str().expect("refused");
        assert!(why.contains(reason), "{why}");
        let start_up = serve_binary_with_env(&["--memory", "--plugin", file], &env)
            .err()
            .expect("start-up refuses it");
        assert!(
            start_up.stderr.contains(why),
            "start-up said {}, plugins said {why}",
            start_up.stderr
        );
    }
    // A working library given is listed, and the command succeeds.
    let (code, out, _) = plugins_command(&["--plugin", impostor.to_str().unwrap()], &[]);
    assert_eq!(code, Some(0));
    assert!(
        out.starts_with(&format!("{}: datasette-test-impostor ", impostor.display())),
        "{out}"
    );
}

/// A plugin metadata.json enables is looked for in `--plugins-dir`, then each folder of
/// `$DATASETTE_RS_PLUGINS`, then `$XDG_DATA_HOME/datasette-rs/plugins`, then beside the
/// executable: the first copy found is the one loaded.
#[test]
fn serve_looks_for_plugins_in_the_environment_folders_in_order() {
    let hooks = testkit::plugin_library("datasette-test-hooks");
    let file = hooks.file_name().unwrap();
    let f = plugin_folders();
    let metadata = serde_json::json!({"plugins": {"datasette-test-hooks": {}}});
    let env_list = f.env_list();
    let env = [
        ("DATASETTE_RS_PLUGINS", env_list.as_str()),
        ("XDG_DATA_HOME", f.xdg_data_home.to_str().unwrap()),
    ];
    let given = f.given.to_str().unwrap();
    let loaded_from = |dir: &std::path::Path| {
        let server = serve_fixture_with_metadata(&metadata, &["--plugins-dir", given], &env)
            .expect("starts");
        assert_eq!(server.get("/-/plugins.json").status, 200);
        let wanted = format!("loaded {}", dir.join(file).display());
        assert!(server.logged(&wanted), "{wanted}: {}", server.log());
    };
    // Beside the executable, when no folder has it.
    loaded_from(&testkit::target_debug().canonicalize().unwrap());
    std::fs::copy(&hooks, f.user.join(file)).unwrap();
    loaded_from(&f.user);
    std::fs::copy(&hooks, f.env[1].join(file)).unwrap();
    loaded_from(&f.env[1]);
    std::fs::copy(&hooks, f.env[0].join(file)).unwrap();
    loaded_from(&f.env[0]);
    std::fs::copy(&hooks, f.given.join(file)).unwrap();
    loaded_from(&f.given);
}
