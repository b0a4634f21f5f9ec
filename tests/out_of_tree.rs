//! A plugin written outside this repository, as its author would write it: a crate of its own,
//! in a folder no workspace claims, depending on `datasette-plugin-api = "0.2"`. The SDK it
//! gets is the package `cargo package` makes of crates/plugin-api (standing in for crates.io):
//! a path dependency on crates/plugin-api would still read this workspace's manifest, so only
//! the package shows that the published crate builds alone. The plugin is built with `cargo
//! build --offline` in a target directory of its own, then the real binary loads it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::{json, Value};
use testkit::{root, serve_binary, serve_fixture_with_metadata};

const SDK: &str = "datasette-plugin-api";

/// Runs cargo, failing the test with its output unless it succeeds.
fn cargo(args: &[&str], dir: &Path, target_dir: &Path) -> String {
    let out = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir)
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "cargo {args:?} in {}:\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The SDK and the workspace crates it depends on by path (datasette-plugin-macros), as
/// `cargo package` makes them, unpacked in `dir`: each crate's name and folder.
fn packaged_sdk(dir: &Path) -> Vec<(String, PathBuf)> {
    let build = dir.join("package-build");
    let metadata = cargo(
        &[
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ],
        &root(),
        &build,
    );
    let metadata: Value = serde_json::from_str(&metadata).expect("cargo metadata");
    let packages = metadata["packages"].as_array().expect("packages");
    let mut names = vec![SDK.to_string()];
    let mut i = 0;
    while let Some(name) = names.get(i).cloned() {
        let package = packages
            .iter()
            .find(|p| p["name"] == name.as_str())
            .unwrap_or_else(|| panic!("{name} is not in the workspace"));
        for dep in package["dependencies"].as_array().into_iter().flatten() {
            let by_path = dep.get("path").is_some_and(|p| !p.is_null());
            let dev = dep["kind"] == "dev";
            let dep_name = dep["name"].as_str().unwrap_or_default().to_string();
            if by_path && !dev && !names.contains(&dep_name) {
                names.push(dep_name);
            }
        }
        i += 1;
    }
    let mut args = vec!["package", "--offline", "--no-verify", "--allow-dirty"];
    for name in &names {
        args.extend(["-p", name]);
    }
    cargo(&args, &root(), &build);
    let unpacked = dir.join("packages");
    std::fs::create_dir_all(&unpacked).unwrap();
    let mut crates = Vec::new();
    for entry in std::fs::read_dir(build.join("package")).unwrap().flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "crate") {
            let status = Command::new("tar")
                .arg("xzf")
                .arg(&path)
                .current_dir(&unpacked)
                .status()
                .expect("run tar");
            assert!(status.success(), "tar xzf {}", path.display());
        }
    }
    for name in names {
        let folder = std::fs::read_dir(&unpacked)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                let file = p.file_name().unwrap().to_string_lossy();
                file.strip_prefix(&format!("{name}-"))
                    .is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit()))
            })
            .unwrap_or_else(|| panic!("cargo package made no {name}"));
        crates.push((name, folder));
    }
    crates
}

/// A new plugin crate in `dir`, as `cargo new --lib` and its author would make it, with
/// `[patch.crates-io]` giving it the packaged SDK.
fn write_plugin(dir: &Path, sdk: &[(String, PathBuf)]) {
    // "0.2" for 0.2.x: what the guide tells an author to write.
    let version: Vec<&str> = datasette_plugin_api::abi::SDK_VERSION.split('.').collect();
    let requirement = format!("{}.{}", version[0], version[1]);
    let patches: String = sdk
        .iter()
        .map(|(name, folder)| format!("{name} = {{ path = {:?} }}\n", folder.display()))
        .collect();
    let manifest = format!(
        r#"[package]
name = "datasette-outside"
version = "0.3.1"
edition = "2021"
publish = false

[lib]
crate-type = ["cdylib"]

[dependencies]
{SDK} = "{requirement}"
serde_json = "1"

# The SDK as `cargo package` made it, in place of crates.io's.
[patch.crates-io]
{patches}
# A workspace of its own: no folder above claims it.
[workspace]
"#
    );
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(
        dir.join("src/lib.rs"),
        r#"use datasette_plugin_api::{export_plugin, Host, Plugin, Request, Response, Route};
use serde_json::Value;

/// Answers `/-/outside` with its greeting.
pub struct Outside {
    greeting: String,
}

impl Plugin for Outside {
    fn startup(config: Value, _host: &Host) -> Result<Self, String> {
        let greeting = config["greeting"].as_str().unwrap_or("built outside the workspace");
        Ok(Outside { greeting: greeting.to_string() })
    }

    fn routes(&self) -> Vec<Route> {
        vec!["/-/outside".into()]
    }

    fn handle(&self, request: Request, _host: &Host) -> Response {
        Response::text(200, format!("{} ({} {})", self.greeting, request.method, request.path))
    }
}

export_plugin!(Outside: routes, handle);
"#,
    )
    .unwrap();
}

/// The SDK's manifest says everything itself: nothing inherited from this workspace, which a
/// copy of the crate (vendored, or read by other tools) would not have.
#[test]
fn the_sdk_manifest_inherits_nothing_from_the_workspace() {
    let path = root().join("crates/plugin-api/Cargo.toml");
    let manifest = std::fs::read_to_string(&path).unwrap();
    for line in manifest.lines().map(str::trim) {
        let code = line.split('#').next().unwrap_or_default();
        assert!(
            !code.contains(".workspace") && !code.contains("workspace = true"),
            "{}: {line}",
            path.display()
        );
    }
}

#[test]
fn a_plugin_built_outside_the_workspace_against_the_packaged_sdk_is_served() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert!(!dir.path().starts_with(root()), "{}", dir.path().display());
    let started = Instant::now();
    let sdk = packaged_sdk(dir.path());
    let packaged = started.elapsed();
    let plugin = dir.path().join("datasette-outside");
    write_plugin(&plugin, &sdk);
    let target = dir.path().join("target");
    // Offline: only crates already downloaded for the workspace.
    cargo(&["build", "--offline", "--quiet"], &plugin, &target);
    eprintln!(
        "packaged the SDK in {:.1} s, built the plugin in {:.1} s",
        packaged.as_secs_f64(),
        (started.elapsed() - packaged).as_secs_f64()
    );
    let folder = target.join("debug");
    let file_name = datasette_rs::plugins::library_file_name("datasette-outside");
    let library = folder.join(&file_name);
    assert!(library.is_file(), "{} was not built", library.display());
    let library = library.to_str().unwrap();

    // Loaded with --plugin.
    let server = serve_binary(&["--memory", "--plugin", library]).expect("starts");
    let r = server.get("/-/outside");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, "built outside the workspace (GET /-/outside)");
    assert_eq!(
        server.json("/-/plugins.json"),
        json!([{
            "name": "datasette-outside",
            "version": "0.3.1",
            "hooks": ["startup", "routes", "handle"],
            "routes": ["/-/outside"],
        }])
    );

    // Enabled by metadata.json and found in a folder of $DATASETTE_RS_PLUGINS, or in the
    // user's plugins folder.
    let metadata = json!({"plugins": {"datasette-outside": {"greeting": "found"}}});
    let user = dir.path().join("data/datasette-rs/plugins");
    std::fs::create_dir_all(&user).unwrap();
    std::fs::copy(library, user.join(&file_name)).unwrap();
    let data_home = dir.path().join("data");
    let folder = folder.to_str().unwrap();
    for env in [
        [
            ("DATASETTE_RS_PLUGINS", folder),
            ("XDG_DATA_HOME", "/nowhere"),
        ],
        [
            ("DATASETTE_RS_PLUGINS", "/nowhere"),
            ("XDG_DATA_HOME", data_home.to_str().unwrap()),
        ],
    ] {
        let server = serve_fixture_with_metadata(&metadata, &[], &env).expect("starts");
        assert_eq!(server.get("/-/outside").body, "found (GET /-/outside)");
    }
    // Nowhere to be found: start-up says where it looked.
    let env = [
        ("DATASETTE_RS_PLUGINS", "/nowhere"),
        ("XDG_DATA_HOME", "/nowhere"),
    ];
    let exit = serve_fixture_with_metadata(&metadata, &[], &env)
        .err()
        .expect("refuses");
    assert!(
        exit.stderr.contains(&file_name)
            && exit
                .stderr
                .contains("/nowhere, /nowhere/datasette-rs/plugins"),
        "{}",
        exit.stderr
    );

    // `datasette-rs plugins` lists it.
    let out = Command::new(testkit::binary())
        .args(["plugins", "--json", "--plugin", library])
        .output()
        .expect("run the binary");
    assert!(out.status.success());
    let listing: Value = serde_json::from_slice(&out.stdout).unwrap();
    let listed = &listing["plugins"][0];
    assert_eq!(listed["name"], "datasette-outside");
    assert_eq!(
        listed["sdk_version"],
        datasette_plugin_api::abi::SDK_VERSION
    );
}
