//! The hot paths of a request, in-process: a 1,000-row table page rendered to JSON and to HTML
//! (query included), what an actor may read in a database of ~23 tables and views, tilde
//! decoding, and filter parsing.
//!
//! ```sh
//! cargo bench -p datasette-rs --bench hot_paths
//! ```

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use datasette_rs::app::{AppState, DatabaseFile};
use datasette_rs::config::{Metadata, Settings};
use datasette_rs::db::filters;
use datasette_rs::plugins::Plugins;
use datasette_rs::render::Format;
use datasette_rs::session::SessionConfig;
use datasette_rs::urls;
use datasette_rs::views::{self, PageRequest};

fn fixture(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("bench.db");
    let conn = rusqlite::Connection::open(&path).expect("create");
    conn.execute_batch(
        "create table items (id integer primary key, name text, category text, price real,
             created text, note text, label text);
         with recursive n(i) as (select 1 union all select i + 1 from n where i < 1000)
         insert into items select i, 'item ' || i, 'cat-' || (i % 20), i * 1.25,
             '2024-01-01T00:00:' || (i % 60), case when i % 3 = 0 then null else 'note ' || i end,
             'délta <b>' || i || '</b> ✓' from n;",
    )
    .expect("fill");
    path
}

fn ctx(path: &str, query: &str, format: Format) -> PageRequest {
    PageRequest {
        actor: None,
        format,
        args: urls::parse_query(query),
        path: path.into(),
        base: String::new(),
        origin: "http://127.0.0.1:8001".into(),
        renderer: None,
        alternate_json: None,
        request: None,
        started: std::time::Instant::now(),
        show_context: false,
    }
}

fn table_pages(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = DatabaseFile {
        path: fixture(dir.path()),
        immutable: true,
    };
    let system = actix_rt::System::new();
    let settings = Settings::default();
    let session = SessionConfig::new(Some("a benchmark secret of at least 32 bytes"), &settings)
        .expect("a long enough secret");
    let state = system
        .block_on(AppState::build(
            &[file],
            &Default::default(),
            Metadata::default(),
            settings,
            session,
            Plugins::none(),
        ))
        .expect("state");
    let db = state.databases["bench"].clone();
    let mut group = c.benchmark_group("table page, 1,000 rows");
    for (name, path, format) in [
        ("JSON", "/bench/items.json", Format::Json),
        ("HTML", "/bench/items", Format::Html),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let ctx = ctx(path, "_size=1000", format);
                match system.block_on(views::table::page(&state, &ctx, &db, "items")) {
                    Ok(answer) => answer,
                    Err(e) => panic!("no page: {e}"),
                }
            })
        });
    }
    group.finish();
}

/// `AppState::access` (run once or twice per page) on a database of 8 tables, each with a view,
/// a full-text index with its shadow tables and statistics, one table protected.
fn access(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("lineage.db");
    let conn = rusqlite::Connection::open(&path).expect("create");
    for i in 0..8 {
        conn.execute_batch(&format!(
            "create table t{i} (id integer primary key, body text);
             create view v{i} as select body from t{i};"
        ))
        .expect("fill");
    }
    conn.execute_batch(
        "create virtual table t0_fts using fts5(body, content='t0', content_rowid='id'); analyze;",
    )
    .expect("fts");
    let metadata = Metadata::parse(
        r#"{"databases": {"lineage": {"tables": {"t0": {"allow": {"id": "root"}}}}}}"#,
        Path::new("metadata.json"),
    )
    .expect("metadata");
    let system = actix_rt::System::new();
    let settings = Settings::default();
    let session = SessionConfig::new(None, &settings).expect("session");
    let file = DatabaseFile {
        path,
        immutable: true,
    };
    let state = system
        .block_on(AppState::build(
            &[file],
            &Default::default(),
            metadata,
            settings,
            session,
            Plugins::none(),
        ))
        .expect("state");
    let schema = state.databases["lineage"].current_schema();
    let name = format!(
        "access ({} objects, one protected)",
        schema.lineage.objects.len()
    );
    c.bench_function(&name, |b| {
        b.iter(|| state.access(std::hint::black_box(&None), "lineage", &schema))
    });
}

fn parsers(c: &mut Criterion) {
    c.bench_function("tilde_decode", |b| {
        b.iter(|| {
            urls::tilde_decode(std::hint::black_box(
                "table~2Fwith~2Eodd+name~3A~F0~9F~A6~80",
            ))
        })
    });
    let table = datasette_rs::db::TableInfo {
        name: "items".into(),
        columns: [
            "id", "name", "category", "price", "created", "note", "label",
        ]
        .map(String::from)
        .to_vec(),
        ..Default::default()
    };
    let args = urls::parse_query(
        "category=cat-07&price__gte=10&price__lt=500&note__isnull=0&name__contains=item&_sort=price&_size=50",
    );
    c.bench_function("filters::parse (5 filters)", |b| {
        b.iter(|| filters::parse(std::hint::black_box(&args), &table).expect("filters"))
    });
}

criterion_group!(benches, table_pages, access, parsers);
criterion_main!(benches);
