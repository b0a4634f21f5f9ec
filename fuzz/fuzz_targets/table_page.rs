//! Any query string on a table page (`_sort`, `_size`, `_next`, filters, facets, `_search`,
//! `_where`, `_col`, `_shape`, …): an answer or a 4xx, never a panic or a 5xx.
#![no_main]
use datasette_rs::app::{AppState, DatabaseFile};
use datasette_rs::config::{Metadata, Settings};
use datasette_rs::plugins::Plugins;
use datasette_rs::render::Format;
use datasette_rs::session::SessionConfig;
use datasette_rs::views::{self, Ctx};
use libfuzzer_sys::fuzz_target;

struct Fixture {
    system: actix_rt::SystemRunner,
    state: AppState,
}

thread_local! {
    // The runtime is tied to its thread, and libFuzzer runs inputs on one thread.
    static FIXTURE: Fixture = fixture();
}

fn fixture() -> Fixture {
    {
        let path = std::env::temp_dir().join(format!("fuzz-table-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "create table t (id integer primary key, name text, n real, tags text, d text);
             insert into t values (1, 'a', 1.5, '[\"x\",\"y\"]', '2024-01-01'),
                                  (2, 'b', null, '[]', '2024-02-01'),
                                  (3, 'b', -2, null, 'x');
             create table c (a text, b integer, v text, primary key (a, b));
             insert into c values ('k', 1, 'v1'), ('k', 2, 'v2');
             create virtual table t_fts using fts5(name, content='t', content_rowid='id');
             insert into t_fts(rowid, name) select id, name from t;",
        )
        .unwrap();
        let system = actix_rt::System::new();
        let settings = Settings::default();
        let session = SessionConfig::new(Some("fuzz"), &settings);
        let state = system
            .block_on(AppState::build(
                &[DatabaseFile { path, immutable: true }],
                &Default::default(),
                Metadata::default(),
                settings,
                session,
                Plugins::none(),
            ))
            .unwrap();
        Fixture { system, state }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    FIXTURE.with(|f| run(f, query));
});

fn run(f: &Fixture, query: &str) {
    let db = f.state.databases.values().next().unwrap().clone();
    for (table, format) in [("t", Format::Json), ("c", Format::Html), ("t", Format::Csv)] {
        let ctx = Ctx {
            actor: None,
            format,
            args: datasette_rs::urls::parse_query(query),
            path: format!("/fuzz/{table}"),
            origin: "http://127.0.0.1".into(),
            started: std::time::Instant::now(),
        };
        if let Err(e) = f.system.block_on(views::table::page(&f.state, &ctx, &db, table)) {
            assert!(e.status().is_client_error(), "{query:?} on {table}: {e:?}");
        }
    }
}
