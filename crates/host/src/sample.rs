//! The sample database served when no file is given, also used by the tests: every kind of
//! table the browser handles, with NULLs, unicode, floats and BLOBs.

use std::path::Path;

use rusqlite::{params, Connection};

/// A small deterministic generator, so every build of the sample is the same.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const STATIONS: &[&str] = &[
    "Zürich Fluntern",
    "Reykjavík",
    "São Paulo",
    "Kraków",
    "東京",
    "Αθήνα",
    "Москва",
    "Québec",
    "Malmö",
    "Dún Laoghaire",
    "İstanbul",
    "Ōsaka",
];
const COUNTRIES: &[&str] = &[
    "Deutschland",
    "España",
    "France",
    "日本",
    "Ελλάδα",
    "Россия",
    "Brasil",
    "Polska",
];
const PREFIXES: &[&str] = &[
    "Nova", "Alt", "Bad", "San", "Saint", "Nieder", "Ober", "Ciudad", "Villa", "Neu",
];
const ROOTS: &[&str] = &[
    "Berg", "Hafen", "Ville", "Stadt", "Polis", "Grad", "Dorf", "Münde", "Ñuelo", "Kyō",
];
const TAGS: &[&str] = &[
    "port",
    "capital",
    "historic",
    "university",
    "industrial",
    "coastal",
];

/// Writes the sample database to `path`, replacing any file there.
pub fn build(path: &Path) -> rusqlite::Result<()> {
    if path.exists() {
        let _ = std::fs::remove_file(path);
    }
    let mut conn = Connection::open(path)?;
    let tx = conn.transaction()?;
    tx.execute_batch(
        r#"
        CREATE TABLE stations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, elevation_m REAL);
        CREATE TABLE measurements (
            station_id INTEGER NOT NULL REFERENCES stations(id),
            ts TEXT NOT NULL,
            temp_c REAL,
            note TEXT,
            PRIMARY KEY (station_id, ts)
        );
        CREATE TABLE cities (name TEXT, country TEXT, population INTEGER, founded TEXT, tags TEXT);
        CREATE TABLE files (id TEXT PRIMARY KEY, content BLOB, ratio REAL, size INTEGER);
        CREATE TABLE "odd names" ("a.b" TEXT PRIMARY KEY, "with space" TEXT, "<b>html</b>" TEXT);
        "#,
    )?;
    let mut rng = Rng(0x5eed_da7a_5e77_e000);
    for (i, name) in STATIONS.iter().enumerate() {
        let id = i as i64 + 1;
        let elevation = (id % 5 != 0).then(|| (rng.below(15000) as f64) / 10.0);
        tx.execute(
            "INSERT INTO stations VALUES (?, ?, ?)",
            params![id, name, elevation],
        )?;
    }
    for day in 1..=25 {
        for station in 1..=STATIONS.len() as i64 {
            let ts = format!("2024-01-{day:02}T12:00:00");
            let temp = (rng.below(10) != 0).then(|| (rng.below(5000) as f64) / 100.0 - 15.0);
            let note: Option<&str> = match rng.below(6) {
                0 | 1 => None,
                _ => Some(rng.pick(&["ok", "sensor drift", "café closed ☕", ""])),
            };
            tx.execute(
                "INSERT INTO measurements VALUES (?, ?, ?, ?)",
                params![station, ts, temp, note],
            )?;
        }
    }
    for i in 0..320 {
        let name = format!("{} {} {i}", rng.pick(PREFIXES), rng.pick(ROOTS));
        let country = rng.pick(COUNTRIES);
        let population = (rng.below(100) >= 15).then(|| 500 + rng.below(5_000_000) as i64);
        let founded = (rng.below(100) >= 20).then(|| format!("{}-01-01", 800 + rng.below(1190)));
        let tags: Vec<&str> = (0..rng.below(4)).map(|_| rng.pick(TAGS)).collect();
        let tags = serde_json::to_string(&tags).unwrap_or_else(|_| "[]".into());
        tx.execute(
            "INSERT INTO cities VALUES (?, ?, ?, ?, ?)",
            params![name, country, population, founded, tags],
        )?;
    }
    for i in 0..40u64 {
        let content: Option<Vec<u8>> =
            (i % 7 != 0).then(|| (0..(i * 3) as u8).map(|b| b.wrapping_mul(37)).collect());
        let ratio = (i % 5 != 0).then(|| i as f64 / 7.0);
        tx.execute(
            "INSERT INTO files VALUES (?, ?, ?, ?)",
            params![format!("file-{i:02}.bin"), content, ratio, (i * 3) as i64],
        )?;
    }
    tx.execute_batch(
        r#"
        INSERT INTO "odd names" VALUES ('x.y', 'a b', '<script>alert(1)</script>');
        INSERT INTO "odd names" VALUES ('a/b,c', 'comma, slash', '"quoted" & ''single''');
        INSERT INTO "odd names" VALUES ('~tilde %', NULL, 'control' || char(7) || 'char');
        CREATE VIRTUAL TABLE cities_fts USING fts5(name, country, content="cities", content_rowid="rowid");
        INSERT INTO cities_fts (rowid, name, country) SELECT rowid, name, country FROM cities;
        CREATE INDEX cities_country ON cities(country);
        CREATE VIEW big_cities AS SELECT rowid AS id, name, country, population FROM cities WHERE population > 1000000;
        "#,
    )?;
    tx.commit()?;
    Ok(())
}
