//! One permission check through the plugin ABI, next to the same check answered by the allow
//! blocks in-process. Builds the test plugin in release first:
//!
//! ```sh
//! cargo bench -p datasette-rs --bench plugin_hooks
//! ```

use std::path::{Path, PathBuf};
use std::process::Command;

use criterion::{criterion_group, criterion_main, Criterion};
use datasette_rs::config::Metadata;
use datasette_rs::permissions::{AllowBlocks, PermissionSource, Resource};
use datasette_rs::plugins::{LoadOptions, Plugins};
use serde_json::json;

fn release_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "datasette-test-hooks",
        ])
        .current_dir(&root)
        .status()
        .expect("cargo build");
    assert!(status.success(), "building the test plugin failed");
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("release")
}

fn permission_allowed(c: &mut Criterion) {
    let metadata = Metadata::parse(
        &json!({
            "databases": {"fixture": {"tables": {"cities": {"allow": {"id": "alice"}}}}},
            "plugins": {"datasette-test-hooks": {}}
        })
        .to_string(),
        Path::new("metadata.json"),
    )
    .expect("metadata");
    let plugins = Plugins::load(
        &metadata,
        &LoadOptions {
            dirs: vec![release_dir()],
            ..Default::default()
        },
    )
    .expect("the test plugin loads");
    let allow_blocks = AllowBlocks::new(std::sync::Arc::new(metadata));
    let actor = Some(json!({"id": "alice"}));
    let resource = Resource::Child("fixture".into(), "cities".into());

    let mut group = c.benchmark_group("permission_allowed");
    group.bench_function("through the plugin ABI", |b| {
        b.iter(|| plugins.vote(&actor, "view-table", &resource))
    });
    group.bench_function("allow blocks, in-process", |b| {
        b.iter(|| allow_blocks.vote(&actor, "view-table", &resource))
    });
    group.finish();
}

criterion_group!(benches, permission_allowed);
criterion_main!(benches);
