//! datasette-upload-csvs for datasette-rs: `/-/upload-csvs` takes a CSV file and imports it
//! into a new table, on a thread of its own, recording its progress in `_csv_progress_`.
//!
//! The upload is streamed to a temporary file of the plugin's own (never held in memory), its
//! encoding told along the way (UTF-8, else Latin-1); the import reads it back as a stream:
//! column types from the first 1,000 rows, then every row in batches of 2,000.

pub mod import;

use std::io::{BufWriter, Read, Write};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use datasette_plugin_api::html::escape;
use datasette_plugin_api::urlencoded::tilde_encode;
use datasette_plugin_api::{
    datasette_plugin, Host, InsertOptions, Level, MenuLink, PageContext, PermissionCheck, Plugin,
    Request, Resource, Response, Route,
};
use serde_json::{json, Map, Value};

use import::{ColumnType, Encoding, Target, Utf8Check};

/// The permission that lets an actor upload.
pub const ACTION: &str = "upload-csvs";
const PATH: &str = "/-/upload-csvs";
/// The largest upload the route takes; the host's `max_post_body_bytes` caps it.
const MAX_BODY: u64 = 1 << 30;
/// The most a form field other than the file may hold.
const MAX_FIELD: u64 = 64 << 10;
const PROGRESS: &str = "_csv_progress_";

pub struct UploadCsvs;

#[datasette_plugin]
impl Plugin for UploadCsvs {
    fn startup(_config: Value, _host: &Host) -> Result<Self, String> {
        Ok(UploadCsvs)
    }

    fn routes(&self) -> Vec<Route> {
        vec![
            Route::new(PATH, &["GET", "POST"]).max_body(MAX_BODY),
            Route::new("/-/upload-csv", &["GET"]),
        ]
    }

    fn handle(&self, request: Request, host: &Host) -> Response {
        if request.path == "/-/upload-csv" {
            return Response::redirect(request.url(PATH));
        }
        if !host.permission_allowed(request.actor.as_ref(), ACTION, Resource::Instance) {
            return page_error(&request, 403, "Permission denied for upload-csvs");
        }
        let databases = writable_databases(host);
        if databases.is_empty() {
            return page_error(&request, 403, "No mutable databases available");
        }
        if request.method == "POST" {
            upload(&request, host, &databases)
        } else {
            form(&request, &databases)
        }
    }

    /// The root actor may upload, as in the original; other actors as permission plugins
    /// or `permissions` blocks say.
    fn permission_allowed(&self, check: &PermissionCheck, _host: &Host) -> Option<bool> {
        let root = check.actor.as_ref()?.get("id")?.as_str()? == "root";
        (check.action == ACTION && root).then_some(true)
    }

    fn menu_links(&self, actor: Option<&Value>, request: &Request, host: &Host) -> Vec<MenuLink> {
        if writable_databases(host).is_empty()
            || !host.permission_allowed(actor, ACTION, Resource::Instance)
        {
            return vec![];
        }
        vec![MenuLink::get(request.url(PATH), "Upload CSVs")]
    }

    fn database_actions(&self, page: &PageContext, host: &Host) -> Vec<MenuLink> {
        let Some(db) = page.database.as_deref() else {
            return vec![];
        };
        if !writable_databases(host).iter().any(|d| d == db)
            || !host.permission_allowed(page.actor.as_ref(), ACTION, Resource::Instance)
        {
            return vec![];
        }
        let href = format!(
            "{}?database={}",
            page.request.url(PATH),
            datasette_plugin_api::urlencoded::encode(db)
        );
        vec![MenuLink::get(href, "Upload CSV")]
    }
}

/// The databases an upload may go to: those that take writes, but not `_memory` or
/// `_internal`.
fn writable_databases(host: &Host) -> Vec<String> {
    host.databases()
        .unwrap_or_default()
        .into_iter()
        .filter(|d| {
            d.is_mutable && !d.is_memory && !matches!(d.name.as_str(), "_memory" | "_internal")
        })
        .map(|d| d.name)
        .collect()
}

fn wants_json(request: &Request) -> bool {
    request
        .header("accept")
        .is_some_and(|a| a.contains("application/json"))
}

/// An error as a page of the site, or as JSON for a caller that asked for it.
fn page_error(request: &Request, status: u16, message: &str) -> Response {
    if wants_json(request) {
        return Response::json(status, &json!({"ok": false, "error": message}));
    }
    let title = if status == 403 {
        "Forbidden"
    } else {
        "Upload CSV"
    };
    Response {
        status,
        ..Response::page(title, format!("<h1>{title}</h1><p>{}</p>", escape(message)))
    }
}

/// `GET /-/upload-csvs`: the form, its CSRF token first (the host reads it as the first part
/// of the multipart body).
fn form(request: &Request, databases: &[String]) -> Response {
    let selected = request.query_param("database");
    let mut html = String::from("<h1>Upload CSV</h1>\n");
    html.push_str(&format!(
        "<form action=\"{}\" id=\"uploadForm\" method=\"post\" enctype=\"multipart/form-data\">\n\
         <input type=\"hidden\" name=\"csrftoken\" value=\"{}\">\n",
        escape(&request.url(PATH)),
        escape(&request.csrf_token)
    ));
    if databases.len() > 1 {
        html.push_str("<p><label for=\"id_database\">Database</label>&nbsp; &nbsp;<select id=\"id_database\" name=\"database\">\n");
        for db in databases {
            let on = if selected.as_deref() == Some(db) {
                " selected"
            } else {
                ""
            };
            html.push_str(&format!("  <option{on}>{}</option>\n", escape(db)));
        }
        html.push_str("</select></p>\n");
    }
    html.push_str(
        "<p><label for=\"id_csv\">CSV file</label>&nbsp; &nbsp;\
         <input type=\"file\" name=\"csv\" id=\"id_csv\" accept=\".csv,text/csv\" required></p>\n\
         <p><label for=\"id_table_name\">Table name</label>&nbsp; &nbsp;\
         <input id=\"id_table_name\" type=\"text\" name=\"table\" placeholder=\"the file's name\"></p>\n\
         <p><input type=\"submit\" value=\"Upload file\" class=\"button\"></p>\n</form>\n",
    );
    let title = match selected.filter(|s| databases.contains(s)) {
        Some(db) => format!("Upload CSV to \"{db}\""),
        None => "Upload CSV".to_string(),
    };
    Response::page(title, html)
}

/// What the form posted.
#[derive(Default)]
struct Upload {
    database: Option<String>,
    table: Option<String>,
    xhr: bool,
    /// The file's name as the browser gave it.
    filename: Option<String>,
    /// The file, saved to a temporary file without a name: nothing is left behind, even by
    /// a server that is killed.
    file: Option<std::fs::File>,
    size: u64,
    encoding: Option<Encoding>,
}

/// Reads the multipart body, the file streamed to a temporary file.
fn read_form(request: &Request) -> Result<Upload, String> {
    let mut parts = request.multipart()?;
    let mut upload = Upload::default();
    while let Some((part, mut reader)) = parts.next_part()? {
        if part.name == "csv" {
            let file = tempfile::tempfile()
                .map_err(|e| format!("no temporary file for the upload: {e}"))?;
            let mut out = BufWriter::with_capacity(256 << 10, &file);
            let (mut check, mut buf, mut size) = (Utf8Check::default(), vec![0u8; 64 << 10], 0);
            loop {
                let n = reader
                    .read(&mut buf)
                    .map_err(|e| format!("the upload was cut short: {e}"))?;
                if n == 0 {
                    break;
                }
                check.feed(&buf[..n]);
                out.write_all(&buf[..n])
                    .map_err(|e| format!("the upload could not be saved: {e}"))?;
                size += n as u64;
            }
            out.flush()
                .map_err(|e| format!("the upload could not be saved: {e}"))?;
            drop(out);
            upload.filename = part.filename;
            upload.file = Some(file);
            upload.size = size;
            upload.encoding = Some(check.encoding());
            continue;
        }
        let mut bytes = Vec::new();
        reader
            .take(MAX_FIELD)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("the form could not be read: {e}"))?;
        let value = String::from_utf8_lossy(&bytes).into_owned();
        match part.name.as_str() {
            "database" => upload.database = Some(value),
            // The form's field, and the original's `table_name`: the first that says a name.
            "table" | "table_name" if upload.table.is_none() && !value.trim().is_empty() => {
                upload.table = Some(value)
            }
            "xhr" => upload.xhr = !value.is_empty(),
            _ => {}
        }
    }
    Ok(upload)
}

/// The name a file gives its table: its name without the directory and the last extension.
pub fn table_from_filename(filename: &str) -> String {
    let name = filename.rsplit(['/', '\\']).next().unwrap_or(filename);
    match name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem.to_string(),
        _ => name.to_string(),
    }
}

/// An SQL identifier, quoted.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// UTC now as Python's `str(datetime.datetime.utcnow())` writes it, as the original records
/// `started` and `completed`: `2024-05-01 09:30:00.123456`.
pub fn utc_timestamp(at: SystemTime) -> String {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let (days, secs) = ((since.as_secs() / 86_400) as i64, since.as_secs() % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:06}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        since.subsec_micros()
    )
}

fn now() -> String {
    utc_timestamp(SystemTime::now())
}

/// `POST /-/upload-csvs`: saves the file, names the table, records the import in
/// `_csv_progress_` and starts it on a thread of its own; answers at once.
fn upload(request: &Request, host: &Host, databases: &[String]) -> Response {
    let upload = match read_form(request) {
        Ok(upload) => upload,
        Err(e) => return page_error(request, 400, &e),
    };
    let json_answer = upload.xhr || wants_json(request);
    let error = |status, message: &str| {
        if json_answer {
            Response::json(status, &json!({"ok": false, "error": message}))
        } else {
            page_error(request, status, message)
        }
    };
    let (Some(file), Some(encoding)) = (upload.file, upload.encoding) else {
        return error(
            400,
            "Choose a CSV file to upload (the form's \"csv\" field)",
        );
    };
    let filename = upload.filename.unwrap_or_default();
    if upload.size == 0 {
        return error(400, "The file is empty");
    }
    let database = match upload.database.filter(|d| !d.is_empty()) {
        Some(d) if databases.contains(&d) => d,
        Some(d) => return error(400, &format!("Database {d:?} does not take uploads")),
        None => databases[0].clone(),
    };
    let wanted = match upload
        .table
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        Some(t) => t.to_string(),
        None => table_from_filename(&filename),
    };
    if wanted.is_empty() {
        return error(400, "Give the table a name");
    }
    if wanted.to_ascii_lowercase().starts_with("sqlite_") || wanted.contains('\0') {
        return error(400, &format!("{wanted:?} cannot name a table"));
    }
    let started = match start(host, &database, &wanted, upload.size) {
        Ok(started) => started,
        Err(e) => {
            host.log(Level::Error, &format!("upload to {database}: {e}"));
            return error(500, &format!("The import could not start: {e}"));
        }
    };
    let Started { id, table } = started;
    let job = Job {
        host: *host,
        database: database.clone(),
        table: table.clone(),
        id: id.clone(),
        size: upload.size,
        encoding,
    };
    if let Err(e) = std::thread::Builder::new()
        .name("upload-csvs".into())
        .spawn(move || job.run(file))
    {
        let message = format!("no thread for the import: {e}");
        record_error(host, &database, &id, &message);
        return error(500, &message);
    }

    let db_path = tilde_encode(&database);
    let table_url = request.url(&format!("/{db_path}/{}", tilde_encode(&table)));
    let progress_url = request.url(&format!("/{db_path}/{PROGRESS}.json?id={id}&_shape=array"));
    if json_answer {
        return Response::json(
            200,
            &json!({
                "ok": true,
                "url": table_url,
                "progress_url": progress_url,
                "database": database,
                "database_path": db_path,
                "table": table,
                "task_id": id,
                "bytes_todo": upload.size,
            }),
        );
    }
    let progress_page = request.url(&format!("/{db_path}/{PROGRESS}?id={id}"));
    Response::page(
        "Upload in progress",
        format!(
            "<h1>Upload in progress</h1>\n<p>Importing rows into <a href=\"{}\">{}</a> \
             in {}.</p>\n<p>Its progress: <a href=\"{}\">{PROGRESS}</a> \
             (<a href=\"{}\">JSON</a>).</p>\n",
            escape(&table_url),
            escape(&table),
            escape(&database),
            escape(&progress_page),
            escape(&progress_url),
        ),
    )
}

struct Started {
    id: String,
    table: String,
}

/// Makes `_csv_progress_` if need be, picks a table name no table has (`name`, else `name_2`,
/// `name_3`…, as the original does) nor any import under way, and records the import.
fn start(host: &Host, database: &str, wanted: &str, size: u64) -> Result<Started, String> {
    host.execute_write(
        database,
        &format!(
            "CREATE TABLE IF NOT EXISTS {PROGRESS} (\n   [id] TEXT PRIMARY KEY,\n   \
             [table_name] TEXT,\n   [bytes_todo] INTEGER,\n   [bytes_done] INTEGER,\n   \
             [rows_done] INTEGER,\n   [started] TEXT,\n   [completed] TEXT,\n   [error] TEXT\n)"
        ),
        &Value::Null,
    )?;
    let taken = format!(
        "select exists(select 1 from sqlite_master where lower(name) = lower(:name)) \
         or exists(select 1 from {PROGRESS} where lower(table_name) = lower(:name) \
         and completed is null and error is null)"
    );
    let mut table = wanted.to_string();
    let mut suffix = 2;
    loop {
        let answer = host.query(Some(database), &taken, &json!({"name": table}))?;
        if answer.rows.first().and_then(|r| r.first()) == Some(&json!(0)) {
            break;
        }
        table = format!("{wanted}_{suffix}");
        suffix += 1;
    }
    let id = uuid::Uuid::new_v4().to_string();
    host.execute_write(
        database,
        &format!(
            "INSERT INTO {PROGRESS} (id, table_name, bytes_todo, bytes_done, rows_done, started) \
             VALUES (:id, :table, :size, 0, 0, :started)"
        ),
        &json!({"id": id, "table": table, "size": size, "started": now()}),
    )?;
    Ok(Started { id, table })
}

fn record_error(host: &Host, database: &str, id: &str, message: &str) {
    let result = host.execute_write(
        database,
        &format!("UPDATE {PROGRESS} SET error = :error WHERE id = :id"),
        &json!({"error": message, "id": id}),
    );
    if let Err(e) = result {
        host.log(Level::Error, &format!("recording import {id}'s error: {e}"));
    }
}

/// One import, run on its own thread.
struct Job {
    host: Host,
    database: String,
    table: String,
    id: String,
    size: u64,
    encoding: Encoding,
}

impl Job {
    /// Imports `file`, which is closed (so gone: it has no name) when the import ends.
    fn run(self, file: std::fs::File) {
        let began = Instant::now();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            import::import(file, self.encoding, &mut HostTarget { job: &self })
        }))
        .unwrap_or_else(|_| Err("the import stopped unexpectedly (a panic)".into()));
        let (host, db, table) = (&self.host, &self.database, &self.table);
        let finished = outcome.and_then(|rows| {
            host.execute_write(
                db,
                &format!(
                    "UPDATE {PROGRESS} SET rows_done = :rows, bytes_done = bytes_todo, \
                     completed = :completed WHERE id = :id"
                ),
                &json!({"rows": rows, "completed": now(), "id": self.id}),
            )
            .map(|_| rows)
        });
        match finished {
            Ok(rows) => host.log(
                Level::Info,
                &format!(
                    "imported {rows} rows ({} bytes) into {db}.{table} in {:.1}s",
                    self.size,
                    began.elapsed().as_secs_f64()
                ),
            ),
            Err(e) => {
                host.log(
                    Level::Error,
                    &format!("import into {db}.{table} failed: {e}"),
                );
                record_error(host, db, &self.id, &e);
            }
        }
    }
}

/// The rows go to the database through the host, progress to `_csv_progress_`.
struct HostTarget<'a> {
    job: &'a Job,
}

impl Target for HostTarget<'_> {
    fn create(&mut self, columns: &[(String, ColumnType)]) -> Result<(), String> {
        let columns: Vec<String> = columns
            .iter()
            .map(|(name, kind)| format!("   {} {}", quote_ident(name), kind.sql()))
            .collect();
        let sql = format!(
            "CREATE TABLE {} (\n{}\n)",
            quote_ident(&self.job.table),
            columns.join(",\n")
        );
        self.job
            .host
            .execute_write(&self.job.database, &sql, &Value::Null)
            .map(drop)
    }

    fn insert(&mut self, rows: Vec<Map<String, Value>>) -> Result<(), String> {
        // The table exists (create), so this is a plain insert.
        self.job
            .host
            .insert_rows(
                &self.job.database,
                &self.job.table,
                rows,
                &InsertOptions::default(),
            )
            .map(drop)
    }

    fn progress(&mut self, rows: u64, bytes: u64) -> Result<(), String> {
        self.job
            .host
            .execute_write(
                &self.job.database,
                &format!(
                    "UPDATE {PROGRESS} SET rows_done = :rows, bytes_done = :bytes WHERE id = :id"
                ),
                &json!({"rows": rows, "bytes": bytes, "id": self.job.id}),
            )
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datasette_plugin_api::sdk::inline_host;

    #[test]
    fn root_may_upload_and_no_one_else_is_decided_here() {
        let host = inline_host();
        let plugin = UploadCsvs::startup(Value::Null, &host).unwrap();
        let check = |actor: Option<Value>, action: &str| {
            plugin.permission_allowed(
                &PermissionCheck {
                    actor,
                    action: action.into(),
                    resource: Resource::Instance,
                },
                &host,
            )
        };
        assert_eq!(check(Some(json!({"id": "root"})), ACTION), Some(true));
        assert_eq!(check(Some(json!({"id": "ana"})), ACTION), None);
        assert_eq!(check(None, ACTION), None);
        assert_eq!(check(Some(json!({"id": "root"})), "view-instance"), None);
    }

    #[test]
    fn names_urls_and_times() {
        assert_eq!(table_from_filename("dogs.csv"), "dogs");
        assert_eq!(
            table_from_filename("weird ~ filename here.csv.csv"),
            "weird ~ filename here.csv"
        );
        assert_eq!(table_from_filename("C:\\Users\\ana\\cats.CSV"), "cats");
        assert_eq!(table_from_filename("no-extension"), "no-extension");
        assert_eq!(table_from_filename(".hidden"), ".hidden");
        assert_eq!(quote_ident("a \"b\""), "\"a \"\"b\"\"\"");
        assert_eq!(
            tilde_encode("weird ~ filename here.csv"),
            "weird+~7E+filename+here~2Ecsv"
        );
        let at = UNIX_EPOCH + std::time::Duration::from_micros(1_709_251_199_000_001);
        assert_eq!(utc_timestamp(at), "2024-02-29 23:59:59.000001");
        assert_eq!(utc_timestamp(UNIX_EPOCH), "1970-01-01 00:00:00.000000");
    }
}
