//! datasette-upload-csvs through the real binary: root uploads a CSV with the form's CSRF
//! token, the import runs on the plugin's own thread and records its progress in
//! `_csv_progress_`; others are refused; a malformed file records its error; and a 40 MB file
//! is imported exactly, without the server's memory growing with it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use testkit::{multipart, serve_binary, Resp, Server, TEST_SECRET};

const PLUGIN: &str = "datasette-upload-csvs";

/// A server on new databases `names` (each with a table `existing`), the plugin enabled (and
/// the hooks plugin, whose form page gives any visitor a CSRF token), and `extra` arguments.
fn serve(names: &[&str], extra: &[&str]) -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut args: Vec<String> = Vec::new();
    for name in names {
        let path = dir.path().join(format!("{name}.db"));
        rusqlite::Connection::open(&path)
            .expect("open")
            .execute_batch("create table existing (id integer); insert into existing values (1);")
            .expect("fixture SQL");
        args.push(path.to_str().expect("UTF-8 path").to_string());
    }
    let metadata = dir.path().join("metadata.json");
    let plugins = json!({"plugins": {PLUGIN: {}, "datasette-test-hooks": {}}});
    std::fs::write(&metadata, plugins.to_string()).expect("write metadata.json");
    args.extend(["-m".into(), metadata.to_str().unwrap().into()]);
    args.extend(["--secret".into(), TEST_SECRET.into()]);
    args.extend(extra.iter().map(|a| a.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = serve_binary(&args).expect("starts");
    (dir, server)
}

fn db_path(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(format!("{name}.db"))
}

/// A request with a body, waiting as long as a large upload takes.
fn send(
    server: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Resp {
    let url = format!("{}{path}", server.base);
    testkit::send_waiting(method, &url, headers, body, Duration::from_secs(600))
}

/// The token in a form page's `csrftoken` field.
fn token_in(page: &str) -> String {
    page.split("name=\"csrftoken\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a token in the form")
        .to_string()
}

/// `cookie` (a `Cookie` header) with the cookies an answer sets in place of those it had.
fn with_cookies_set(cookie: &str, answer: &Resp) -> String {
    let set = answer.set_cookies();
    let kept = cookie.split("; ").filter(|c| !c.is_empty()).filter(|c| {
        !set.iter()
            .any(|(name, _)| c.starts_with(&format!("{name}=")))
    });
    kept.map(str::to_string)
        .chain(set.iter().map(|(name, value)| format!("{name}={value}")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The upload form as `cookie`'s actor sees it, its CSRF token, and the cookies (now with
/// the one holding the token) to post it with.
fn upload_form(server: &Server, cookie: &str) -> (Resp, String, String) {
    let page = server.request("GET", "/-/upload-csvs", &[("cookie", cookie)]);
    assert_eq!(page.status, 200, "{}", page.body);
    let token = token_in(&page.body);
    let cookie = with_cookies_set(cookie, &page);
    (page, token, cookie)
}

/// Posts the form: the token first, then the other fields and the file.
fn post_upload(
    server: &Server,
    cookie: &str,
    token: &str,
    fields: &[(&str, &str)],
    file: (&str, &[u8]),
    accept_json: bool,
) -> Resp {
    let mut parts: Vec<(&str, Option<&str>, &[u8])> = vec![("csrftoken", None, token.as_bytes())];
    parts.extend(fields.iter().map(|(k, v)| (*k, None, v.as_bytes())));
    parts.push(("csv", Some(file.0), file.1));
    let (body, content_type) = multipart(&parts);
    let mut headers = vec![("cookie", cookie), ("content-type", content_type.as_str())];
    if accept_json {
        headers.push(("accept", "application/json"));
    }
    send(server, "POST", "/-/upload-csvs", &headers, body)
}

/// The import's row of `_csv_progress_` once it has completed or failed.
fn finished(server: &Server, db: &str, id: &str, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let rows = server.json(&format!("/{db}/_csv_progress_.json?_shape=array&id={id}"));
        let row = rows[0].clone();
        if !row["completed"].is_null() || !row["error"].is_null() {
            return row;
        }
        assert!(
            Instant::now() < deadline,
            "the import did not finish: {row}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Each column's declared type, and the rows, of a table in a database file.
fn read_table(path: &Path, table: &str) -> (Vec<(String, String)>, Vec<Vec<Value>>) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut info = conn
        .prepare(&format!(
            "select name, type from pragma_table_info('{table}')"
        ))
        .unwrap();
    let columns: Vec<(String, String)> = info
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut select = conn
        .prepare(&format!("select * from \"{table}\" order by rowid"))
        .unwrap();
    let n = columns.len();
    let rows = select
        .query_map([], |r| {
            (0..n)
                .map(|i| {
                    Ok(match r.get_ref(i)? {
                        rusqlite::types::ValueRef::Null => Value::Null,
                        rusqlite::types::ValueRef::Integer(v) => json!(v),
                        rusqlite::types::ValueRef::Real(v) => json!(v),
                        rusqlite::types::ValueRef::Text(t) => json!(String::from_utf8_lossy(t)),
                        rusqlite::types::ValueRef::Blob(_) => json!("<blob>"),
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    (columns, rows)
}

fn types(columns: &[(String, String)]) -> Vec<(&str, &str)> {
    columns
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect()
}

#[test]
fn root_uploads_a_csv_and_it_becomes_a_table_with_its_types() {
    let (dir, server) = serve(&["data"], &[]);
    let root = server.cookie_for(&json!({"id": "root"}));
    let (page, token, cookie) = upload_form(&server, &root);
    assert!(page.body.contains("<h1>Upload CSV</h1>"), "{}", page.body);
    // The token comes first in the form; one database, so no choice of database.
    let token_at = page.body.find("name=\"csrftoken\"").unwrap();
    let file_at = page.body.find("type=\"file\" name=\"csv\"").unwrap();
    assert!(token_at < file_at, "{}", page.body);
    assert!(!page.body.contains("<select"), "{}", page.body);
    // Inside the site's chrome, with the menu link for root.
    assert!(page.body.contains("Upload CSVs"), "{}", page.body);

    let csv = "\u{feff}name,age,weight,joined\r\nCleo,5,3.5,2020-01-01\r\nPancakes,4,,2021-02-03\r\n\"Mr, Fluffy\",12,4,\r\nShort,1\r\n";
    let r = post_upload(
        &server,
        &cookie,
        &token,
        &[],
        ("dogs.csv", csv.as_bytes()),
        false,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("<h1>Upload in progress</h1>"), "{}", r.body);
    assert!(r.body.contains("href=\"/data/dogs\""), "{}", r.body);
    let id = r
        .body
        .split("_csv_progress_.json?id=")
        .nth(1)
        .and_then(|s| s.split('&').next())
        .expect("the progress link")
        .to_string();

    let row = finished(&server, "data", &id, Duration::from_secs(30));
    assert_eq!(row["error"], Value::Null, "{row}");
    assert_eq!(row["table_name"], "dogs");
    assert_eq!(row["rows_done"], 4);
    assert_eq!(row["bytes_todo"], csv.len());
    assert_eq!(row["bytes_done"], csv.len());
    assert!(row["started"].as_str().unwrap().len() == 26, "{row}");

    let (columns, rows) = read_table(&db_path(&dir, "data"), "dogs");
    assert_eq!(
        types(&columns),
        [
            ("name", "TEXT"),
            ("age", "INTEGER"),
            ("weight", "REAL"),
            ("joined", "TEXT")
        ]
    );
    assert_eq!(
        rows,
        [
            vec![json!("Cleo"), json!(5), json!(3.5), json!("2020-01-01")],
            vec![
                json!("Pancakes"),
                json!(4),
                Value::Null,
                json!("2021-02-03")
            ],
            vec![json!("Mr, Fluffy"), json!(12), json!(4.0), Value::Null],
            vec![json!("Short"), json!(1), Value::Null, Value::Null],
        ]
    );
    // The table's page is there for root (the import wrote through the server's writer).
    let page = server.request("GET", "/data/dogs.json?_shape=array", &[("cookie", &root)]);
    assert_eq!(
        page.json().as_array().map(Vec::len),
        Some(4),
        "{}",
        page.body
    );

    // The same file again: the table exists, so the import goes to dogs_2 (as the original);
    // a JSON answer when asked for JSON, the table named in the form.
    let r = post_upload(
        &server,
        &cookie,
        &token,
        &[("table", "dogs")],
        ("x.csv", csv.as_bytes()),
        true,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let answer = r.json();
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(answer["url"], "/data/dogs_2");
    let progress_url = answer["progress_url"].as_str().unwrap();
    assert!(
        progress_url.starts_with("/data/_csv_progress_.json?id="),
        "{answer}"
    );
    let row = finished(
        &server,
        "data",
        answer["task_id"].as_str().unwrap(),
        Duration::from_secs(30),
    );
    assert_eq!(
        (row["table_name"].clone(), row["rows_done"].clone()),
        (json!("dogs_2"), json!(4))
    );
    let progress = server.json(progress_url);
    assert_eq!(progress[0]["table_name"], "dogs_2", "{progress}");
    assert_eq!(read_table(&db_path(&dir, "data"), "dogs_2").1, rows);

    // A file name with odd characters; Latin-1 text (not UTF-8) is read as Latin-1.
    let latin1 = b"item,cost(\xa3)\nTea,2.55\nCaf\xe9,3\n";
    let r = post_upload(
        &server,
        &cookie,
        &token,
        &[],
        ("weird ~ name.csv.csv", latin1),
        true,
    );
    let answer = r.json();
    assert_eq!(answer["url"], "/data/weird+~7E+name~2Ecsv", "{answer}");
    let row = finished(
        &server,
        "data",
        answer["task_id"].as_str().unwrap(),
        Duration::from_secs(30),
    );
    assert_eq!(row["error"], Value::Null, "{row}");
    let (columns, rows) = read_table(&db_path(&dir, "data"), "weird ~ name.csv");
    assert_eq!(types(&columns), [("item", "TEXT"), ("cost(£)", "REAL")]);
    assert_eq!(
        rows,
        [
            vec![json!("Tea"), json!(2.55)],
            vec![json!("Café"), json!(3.0)]
        ]
    );
    assert!(server.logged("imported 2 rows"), "{}", server.log());
}

#[test]
fn only_those_allowed_may_upload_and_a_post_needs_the_token() {
    let (dir, server) = serve(&["data"], &[]);
    let csv: &[u8] = b"a,b\n1,2\n";
    // Anonymous: no page, no menu item, and a POST (no cookies, so no token needed) refused
    // by the plugin itself.
    let r = server.get("/-/upload-csvs");
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(
        r.body.contains("Permission denied for upload-csvs"),
        "{}",
        r.body
    );
    assert!(!server.get("/").body.contains("Upload CSVs"));
    let (body, content_type) = multipart(&[("csv", Some("a.csv"), csv)]);
    let r = send(
        &server,
        "POST",
        "/-/upload-csvs",
        &[("content-type", &content_type)],
        body,
    );
    assert_eq!(r.status, 403, "{}", r.body);

    // Another actor: the same, even with a valid CSRF token (from another plugin's form).
    let ana = server.cookie_for(&json!({"id": "ana"}));
    let r = server.request("GET", "/-/upload-csvs", &[("cookie", &ana)]);
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(!server
        .request("GET", "/", &[("cookie", &ana)])
        .body
        .contains("Upload CSVs"));
    let form = server.request("GET", "/-/hooks/form", &[("cookie", &ana)]);
    let ana_token = token_in(&form.body);
    let ana = with_cookies_set(&ana, &form);
    let r = post_upload(&server, &ana, &ana_token, &[], ("a.csv", csv), false);
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("Permission denied"), "{}", r.body);

    // Root without the token, or with another session's: refused by the host.
    let root = server.cookie_for(&json!({"id": "root"}));
    let (_, token, cookie) = upload_form(&server, &root);
    let (body, content_type) = multipart(&[("csv", Some("a.csv"), csv)]);
    let r = send(
        &server,
        "POST",
        "/-/upload-csvs",
        &[("cookie", &cookie), ("content-type", &content_type)],
        body,
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("CSRF"), "{}", r.body);
    let r = post_upload(&server, &cookie, &ana_token, &[], ("a.csv", csv), false);
    assert_eq!(r.status, 403, "{}", r.body);
    // Nothing was imported by any of those.
    let conn = rusqlite::Connection::open(db_path(&dir, "data")).unwrap();
    let tables: i64 = conn
        .query_row(
            "select count(*) from sqlite_master where name = 'a'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 0);
    // With it, root may.
    let r = post_upload(&server, &cookie, &token, &[], ("a.csv", csv), true);
    assert_eq!(r.status, 200, "{}", r.body);
    let row = finished(
        &server,
        "data",
        r.json()["task_id"].as_str().unwrap(),
        Duration::from_secs(30),
    );
    assert_eq!(row["rows_done"], 1, "{row}");
}

#[test]
fn a_malformed_csv_records_its_error() {
    let (_dir, server) = serve(&["data"], &[]);
    let root = server.cookie_for(&json!({"id": "root"}));
    let (_, token, cookie) = upload_form(&server, &root);
    let bad = b"a,b\n1,2\n3,4,5\n";
    let r = post_upload(&server, &cookie, &token, &[], ("bad.csv", bad), true);
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.json()["task_id"].as_str().unwrap().to_string();
    let row = finished(&server, "data", &id, Duration::from_secs(30));
    let error = row["error"].as_str().expect("an error");
    assert!(error.contains("line 3 has 3 values"), "{row}");
    assert_eq!(row["completed"], Value::Null);
    assert!(
        server.logged("import into data.bad failed"),
        "{}",
        server.log()
    );
    // An empty file or none at all is refused at once.
    let r = post_upload(&server, &cookie, &token, &[], ("empty.csv", b""), true);
    assert_eq!(r.status, 400, "{}", r.body);
    let (body, content_type) = multipart(&[("csrftoken", None, token.as_bytes())]);
    let r = send(
        &server,
        "POST",
        "/-/upload-csvs",
        &[("cookie", &cookie), ("content-type", &content_type)],
        body,
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("Choose a CSV file"), "{}", r.body);
}

#[test]
fn with_several_databases_the_form_asks_which_and_immutable_ones_are_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let frozen = dir.path().join("frozen.db");
    rusqlite::Connection::open(&frozen)
        .unwrap()
        .execute_batch("create table t (x)")
        .unwrap();
    let (dbs, server) = serve(&["data", "data2"], &["-i", frozen.to_str().unwrap()]);
    let root = server.cookie_for(&json!({"id": "root"}));
    let (page, token, cookie) = upload_form(&server, &root);
    assert!(
        page.body
            .contains("<select id=\"id_database\" name=\"database\">"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("<option>data2</option>"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("frozen"), "{}", page.body);
    let r = server.request(
        "GET",
        "/-/upload-csvs?database=data2",
        &[("cookie", &cookie)],
    );
    assert!(
        r.body.contains("<option selected>data2</option>"),
        "{}",
        r.body
    );
    // The database page offers the upload; the immutable one does not.
    let r = server.request("GET", "/data2", &[("cookie", &cookie)]);
    assert!(
        r.body.contains("/-/upload-csvs?database=data2"),
        "{}",
        r.body
    );
    let r = server.request("GET", "/frozen", &[("cookie", &cookie)]);
    assert!(!r.body.contains("/-/upload-csvs?database="), "{}", r.body);

    let csv: &[u8] = b"id,name\n1,one\n2,two\n";
    let r = post_upload(
        &server,
        &cookie,
        &token,
        &[("database", "data2")],
        ("nums.csv", csv),
        true,
    );
    let answer = r.json();
    assert_eq!(answer["url"], "/data2/nums", "{answer}");
    let row = finished(
        &server,
        "data2",
        answer["task_id"].as_str().unwrap(),
        Duration::from_secs(30),
    );
    assert_eq!(row["rows_done"], 2, "{row}");
    let (columns, rows) = read_table(&db_path(&dbs, "data2"), "nums");
    assert_eq!(types(&columns), [("id", "INTEGER"), ("name", "TEXT")]);
    assert_eq!(rows.len(), 2);
    let r = post_upload(
        &server,
        &cookie,
        &token,
        &[("database", "frozen")],
        ("nums.csv", csv),
        true,
    );
    assert_eq!(r.status, 400, "{}", r.body);
    // The old address redirects.
    let r = server.get("/-/upload-csv");
    assert_eq!(
        (r.status, r.header("location")),
        (302, Some("/-/upload-csvs"))
    );
}

/// ~40 MB: 500,000 rows of five columns.
fn big_csv(rows: usize) -> Vec<u8> {
    let mut out = b"id,name,score,category,count\n".to_vec();
    for i in 0..rows {
        out.extend_from_slice(
            format!(
                "{i},\"Row number {i}, with a few more words here\",{:.3},category-{},{}\n",
                i as f64 * 0.37,
                i % 17,
                (i * 7919) % 100_000
            )
            .as_bytes(),
        );
    }
    out
}

#[test]
fn a_40_mb_csv_is_imported_exactly_without_the_servers_memory_growing_with_it() {
    const ROWS: usize = 500_000;
    let (dir, server) = serve(
        &["data"],
        &["--setting", "max_post_body_bytes", "104857600"],
    );
    let csv = big_csv(ROWS);
    assert!(csv.len() > 40_000_000, "{} bytes", csv.len());
    if let Ok(path) = std::env::var("UPLOAD_CSVS_SAVE_BIG") {
        std::fs::write(path, &csv).unwrap();
    }
    let root = server.cookie_for(&json!({"id": "root"}));
    let (_, token, cookie) = upload_form(&server, &root);
    let before = server.memory_kib("VmHWM").expect("the server's memory");

    let began = Instant::now();
    let r = post_upload(&server, &cookie, &token, &[], ("big.csv", &csv), true);
    assert_eq!(r.status, 200, "{}", r.body);
    let answered = began.elapsed();
    let id = r.json()["task_id"].as_str().unwrap().to_string();
    let row = finished(&server, "data", &id, Duration::from_secs(600));
    let took = began.elapsed();
    let after = server.memory_kib("VmHWM").expect("the server's memory");
    assert_eq!(row["error"], Value::Null, "{row}");
    assert_eq!(row["rows_done"], ROWS, "{row}");
    assert_eq!(row["bytes_done"], csv.len(), "{row}");
    eprintln!(
        "upload-csvs: {ROWS} rows ({:.1} MB) answered in {:.2}s, imported in {:.2}s: {:.0} rows/s; \
         VmHWM {before} KiB -> {after} KiB (+{} KiB)",
        csv.len() as f64 / 1e6,
        answered.as_secs_f64(),
        took.as_secs_f64(),
        ROWS as f64 / took.as_secs_f64(),
        after.saturating_sub(before)
    );
    assert!(
        after.saturating_sub(before) < 32 << 10,
        "peak memory grew from {before} KiB to {after} KiB"
    );

    let conn = rusqlite::Connection::open(db_path(&dir, "data")).unwrap();
    let (count, sum): (i64, i64) = conn
        .query_row("select count(*), sum(id) from big", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(
        (count, sum),
        (ROWS as i64, (ROWS as i64 - 1) * ROWS as i64 / 2)
    );
    assert_eq!(
        read_columns(&conn),
        [
            ("id".to_string(), "INTEGER".to_string()),
            ("name".into(), "TEXT".into()),
            ("score".into(), "REAL".into()),
            ("category".into(), "TEXT".into()),
            ("count".into(), "INTEGER".into()),
        ]
    );
    let last: (String, f64) = conn
        .query_row("select name, score from big where id = 499999", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(
        last,
        (
            "Row number 499999, with a few more words here".to_string(),
            184999.63
        )
    );
    // The plugin's temporary file (which has no name) is closed once the import ends.
    let pid = server_pid(&db_path(&dir, "data"));
    testkit::eventually("the upload's temporary file is closed", || {
        !std::fs::read_dir(format!("/proc/{pid}/fd"))
            .unwrap()
            .flatten()
            .any(|fd| std::fs::metadata(fd.path()).is_ok_and(|m| m.len() == csv.len() as u64))
    });
}

/// The id of the server process serving the database file `db`.
fn server_pid(db: &Path) -> u32 {
    let db = db.to_str().unwrap();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                let args: Vec<&[u8]> = c.split(|&b| b == 0).collect();
                args.iter().any(|a| a.ends_with(b"datasette-rs")) && args.contains(&db.as_bytes())
            })
        })
        .expect("the server's process")
}

fn read_columns(conn: &rusqlite::Connection) -> Vec<(String, String)> {
    let mut info = conn
        .prepare("select name, type from pragma_table_info('big')")
        .unwrap();
    info.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}
