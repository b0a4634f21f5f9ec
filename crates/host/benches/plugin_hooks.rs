//! One permission check through the plugin ABI, next to the same check answered by the allow
//! blocks in-process; and a plugin's SQL function over 100,000 rows next to the same function
//! written natively. Builds the plugins in release first:
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
            "-p",
            "datasette-haversine",
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

/// The metadata and the release-built plugins it enables.
fn load(metadata: serde_json::Value) -> (Metadata, Plugins) {
    let metadata =
        Metadata::parse(&metadata.to_string(), Path::new("metadata.json")).expect("metadata");
    let options = LoadOptions {
        dirs: vec![release_dir()],
        ..Default::default()
    };
    let plugins = Plugins::load(&metadata, &options).expect("the plugins load");
    (metadata, plugins)
}

fn permission_allowed(c: &mut Criterion) {
    let (metadata, plugins) = load(json!({
        "databases": {"fixture": {"tables": {"cities": {"allow": {"id": "alice"}}}}},
        "plugins": {"datasette-test-hooks": {}}
    }));
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

/// `haversine` from datasette-haversine (through the ABI, JSON per call) and the same formula
/// as a native SQLite function, each summed over 100,000 rows.
fn sql_function(c: &mut Criterion) {
    let (_, plugins) = load(json!({"plugins": {"datasette-haversine": {}}}));
    let conn = rusqlite::Connection::open_in_memory().expect("memory");
    datasette_rs::db::functions::register(&conn, &plugins.sql_functions()).expect("register");
    conn.create_scalar_function(
        "haversine_native",
        4,
        rusqlite::functions::FunctionFlags::SQLITE_UTF8
            | rusqlite::functions::FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let (lat1, lon1, lat2, lon2): (f64, f64, f64, f64) =
                (ctx.get(0)?, ctx.get(1)?, ctx.get(2)?, ctx.get(3)?);
            let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
            let (dp, dl) = ((lat2 - lat1).to_radians(), (lon2 - lon1).to_radians());
            let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
            Ok(2.0 * 6371.0088 * a.sqrt().asin())
        },
    )
    .expect("native");
    conn.execute_batch(
        "create table points (lat real, lon real);
         with recursive n(i) as (select 1 union all select i + 1 from n where i < 100000)
         insert into points select (i % 180) - 90.0, (i % 360) - 180.0 from n;",
    )
    .expect("points");
    let mut group = c.benchmark_group("SQL function over 100,000 rows");
    group.sample_size(10);
    for (name, f) in [("native", "haversine_native"), ("plugin", "haversine")] {
        let sql = format!("select sum({f}(lat, lon, 51.5, -0.1)) from points");
        group.bench_function(name, |b| {
            b.iter(|| {
                conn.query_row(&sql, [], |r| r.get::<_, f64>(0))
                    .expect("sum")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, permission_allowed, sql_function);
criterion_main!(benches);
