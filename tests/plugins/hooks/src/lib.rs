//! A plugin that exercises every hook for the end-to-end tests, and misbehaves on request:
//! it panics, fails, and tries to block where it must not.

use datasette_plugin_api::{
    export_plugin, FetchRequest, Forbidden, FunctionCall, Host, InsertOptions, Level, MenuLink,
    PageContext, PermissionCheck, Plugin, Request, Resource, Response, Route, SqlFunction,
};
use serde_json::{json, Value};

struct Hooks {
    config: Value,
}

impl Plugin for Hooks {
    fn startup(config: Value, host: &Host) -> Result<Self, String> {
        if let Some(message) = config["fail"].as_str() {
            return Err(message.to_string());
        }
        if config["panic"] == "startup" {
            panic!("startup panicked on request");
        }
        if config["query_in_startup"] == true {
            let error = host.query(None, "select 1", &Value::Null).err();
            host.log(Level::Warn, &format!("query in startup: {error:?}"));
        }
        host.log(Level::Info, "started");
        Ok(Hooks { config })
    }

    /// With `forbidden_page` in the config, a 403 becomes a page of the site saying so.
    fn forbidden(&self, forbidden: &Forbidden, _host: &Host) -> Option<Response> {
        let text = self.config.get("forbidden_page")?.as_str()?;
        let html = format!(
            "<p class=\"hooks-forbidden\">{}: {}</p>",
            datasette_plugin_api::html::escape(text),
            datasette_plugin_api::html::escape(&forbidden.message)
        );
        Some(Response::page("Not for you", html).with_status(403))
    }

    fn routes(&self) -> Vec<Route> {
        // Paths, or `{"path", "methods"}` objects.
        match self.config.get("routes") {
            Some(routes) => serde_json::from_value(routes.clone()).unwrap_or_default(),
            None => [
                "/-/hooks",
                "/-/hooks/fetch",
                "/-/hooks/session",
                "/-/hooks/config",
                "/-/hooks/query",
                "/-/hooks/can",
                "/-/hooks/page",
                "/-/hooks/write",
                "/-/hooks/databases",
                "/-/hooks/sign",
            ]
            .map(Route::from)
            .into_iter()
            .chain([
                Route::new("/-/hooks/item/{name}/{rest*}", &["GET"]),
                Route::new("/-/hooks/form", &["GET", "POST"]),
                Route::new("/-/hooks/upload", &["POST"]).max_body(64 << 20),
                Route::new("/-/hooks/small", &["POST"]).max_body(1000),
                Route::new("/-/hooks/api", &["POST"]).without_csrf("callers send a bearer token"),
                Route::new("/-/hooks/bytes", &["GET"]),
                Route::new("/-/hooks/export", &["GET"]),
            ])
            .collect(),
        }
    }

    /// With `ready_write` in the config (`{"db", "sql"}`), writes from a thread of its own once
    /// the server serves, and logs how it went from there.
    fn ready(&self, host: &Host) {
        let Some(job) = self.config.get("ready_write").cloned() else {
            return;
        };
        let host = *host;
        std::thread::spawn(move || {
            let db = job["db"].as_str().unwrap_or_default();
            let sql = job["sql"].as_str().unwrap_or_default();
            match host.execute_write(db, sql, &Value::Null) {
                Ok(r) => host.log(
                    Level::Info,
                    &format!("ready_write wrote {} rows", r.rows_affected),
                ),
                Err(e) => host.log(Level::Error, &format!("ready_write failed: {e}")),
            }
        });
    }

    fn handle(&self, request: Request, host: &Host) -> Response {
        match request.path.as_str() {
            "/-/hooks/fetch" => fetch(&request, host),
            "/-/hooks/config" => Response::json(200, &self.config),
            "/-/hooks/query" => query(&request, host),
            "/-/hooks/can" => can(&request, host),
            "/-/hooks/write" => write(&request, host),
            "/-/hooks/databases" => databases(&request, host),
            "/-/hooks/sign" => sign(&request, host),
            path if path.starts_with("/-/hooks/item/") => {
                Response::json(200, &json!(request.params))
            }
            "/-/hooks/form" => form(&request),
            "/-/hooks/upload" => upload(&request),
            "/-/hooks/small" | "/-/hooks/api" => echo(request),
            "/-/hooks/bytes" => Response::bytes(200, "image/x-test", (0..=255u8).rev().collect()),
            "/-/hooks/export" => export(&request),
            "/-/hooks/page" => Response::page(
                "Hooks page",
                format!(
                    "<h1>Hooks page</h1><p>{}</p>",
                    datasette_plugin_api::html::escape(
                        &request.query_param("say").unwrap_or_default()
                    )
                ),
            ),
            "/-/hooks/session" => {
                let visits = request
                    .session
                    .get("visits")
                    .and_then(Value::as_i64)
                    .unwrap_or(0)
                    + 1;
                let mut values = request.session.clone();
                values.insert("visits".into(), json!(visits));
                Response::json(200, &json!({"visits": visits})).with_session(values)
            }
            _ => echo(request),
        }
    }

    fn actor_from_request(&self, request: &Request, host: &Host) -> Option<Value> {
        if request.header("x-hooks-panic") == Some("actor_from_request") {
            panic!("actor_from_request panicked on request");
        }
        if request.header("x-hooks-write-inline").is_some() {
            let error = host
                .execute_write("data", "delete from items", &Value::Null)
                .err()
                .unwrap_or_default();
            return Some(json!({"id": "inline-write", "error": error}));
        }
        if request.header("x-hooks-fetch-inline").is_some() {
            let error = host
                .fetch(&FetchRequest::get("http://127.0.0.1:9/"))
                .err()
                .unwrap_or_default();
            return Some(json!({"id": "inline-fetch", "error": error}));
        }
        serde_json::from_str(request.header("x-hooks-actor")?).ok()
    }

    /// With `actor_headers` in the config, the headers it says `actor_from_request` reads.
    fn actor_headers(&self) -> Option<Vec<String>> {
        serde_json::from_value(self.config.get("actor_headers")?.clone()).ok()
    }

    /// With `votes_follow_queries` in the config, says so.
    fn votes_follow_queries(&self) -> bool {
        self.config["votes_follow_queries"] == true
    }

    fn permission_allowed(&self, check: &PermissionCheck, host: &Host) -> Option<bool> {
        // With `vote_by_reading` {"resource": [db, table], "database", "sql"}: that table may be
        // read by whoever may run the SQL on that database.
        let rule = &self.config["vote_by_reading"];
        let resource = |v: &Value| {
            Some(Resource::Child(
                v[0].as_str()?.into(),
                v[1].as_str()?.into(),
            ))
        };
        if check.action == "view-table"
            && resource(&rule["resource"]).as_ref() == Some(&check.resource)
        {
            let (db, sql) = (rule["database"].as_str(), rule["sql"].as_str()?);
            return Some(
                host.query_as(check.actor.as_ref(), db, sql, &Value::Null)
                    .is_ok(),
            );
        }
        let id = check.actor.as_ref()?.get("id")?.as_str()?;
        match id {
            "hooks-admin" => Some(true),
            "hooks-panic" => panic!("permission_allowed panicked on request"),
            // A vote that takes its time, as one that runs a slow query would.
            "hooks-slow"
                if check.resource == Resource::Child("fixture".into(), "cities".into()) =>
            {
                std::thread::sleep(std::time::Duration::from_secs(2));
                None
            }
            "hooks-denied"
                if check.resource == Resource::Child("fixture".into(), "cities".into()) =>
            {
                Some(false)
            }
            _ => None,
        }
    }

    fn menu_links(&self, actor: Option<&Value>, request: &Request, _host: &Host) -> Vec<MenuLink> {
        if request.path.contains("panic-menu") {
            panic!("menu_links panicked on request");
        }
        if request.path.contains("unsafe-menu") {
            return [
                "javascript:alert(1)",
                "//evil.example/x",
                "data:text/html,x",
                "/-/safe-link",
            ]
            .map(|href| MenuLink::get(href, "Unsafe?"))
            .into();
        }
        let (href, label) = match actor {
            None => (
                format!(
                    "{}?sign_in_as=menu&next={}",
                    request.url("/-/hooks"),
                    datasette_plugin_api::urlencoded::encode(&request.path_and_query())
                ),
                "Hooks sign-in",
            ),
            Some(_) => (request.url("/-/hooks?sign_out=1"), "Hooks sign-out"),
        };
        vec![MenuLink::get(href, label)]
    }

    fn prepare_connection(&self) -> Vec<SqlFunction> {
        vec![SqlFunction {
            name: "hooks_query".into(),
            args: 2,
            deterministic: false,
        }]
    }

    /// `hooks_query(sql, as_visitor)`: runs SQL through the host from inside an SQL function.
    fn call_function(&self, call: &FunctionCall, host: &Host) -> Result<Value, String> {
        let sql = call.args[0].as_str().unwrap_or_default();
        let result = match call.args[1].as_i64() {
            Some(1) => host.query_as(None, None, sql, &Value::Null),
            _ => host.query(None, sql, &Value::Null),
        };
        result.map(|r| json!(r.rows))
    }

    fn extra_css_urls(&self, page: &PageContext, _host: &Host) -> Vec<String> {
        let mut urls = vec![
            page.request.url(&format!("/-/hooks/{}.css", page.view)),
            "javascript:alert('css')".into(),
        ];
        // The most specific configuration block metadata.json has for the page.
        if let Some(css) = page.config["css"].as_str() {
            urls.push(css.to_string());
        }
        urls
    }

    fn extra_js_urls(&self, page: &PageContext, _host: &Host) -> Vec<String> {
        if page.request.path.contains("panic-extras") {
            panic!("extra_js_urls panicked on request");
        }
        vec![format!("https://cdn.example/hooks-{}.js", page.view)]
    }

    fn extra_body_script(&self, page: &PageContext, _host: &Host) -> Option<String> {
        Some(format!(
            "window.hooksView = \"{}\"; // </script><b>escaped</b>",
            page.view
        ))
    }

    /// `greeting` from its config, the page it is asked for, and an attempt to replace the
    /// page's own `urls` (which must not win).
    fn extra_template_vars(
        &self,
        page: &PageContext,
        _host: &Host,
    ) -> serde_json::Map<String, Value> {
        let mut vars = serde_json::Map::new();
        vars.insert("greeting".into(), self.config["greeting"].clone());
        vars.insert(
            "hooks_page".into(),
            json!({"view": page.view, "table": page.table}),
        );
        vars.insert("urls".into(), json!("replaced"));
        vars
    }

    fn table_actions(&self, page: &PageContext, _host: &Host) -> Vec<MenuLink> {
        let table = page.table.clone().unwrap_or_default();
        let mut links = vec![MenuLink::get(
            page.request.url(&format!("/-/hooks?table={table}")),
            format!("Hooks table action on {table}"),
        )];
        if page.actor.as_ref().and_then(|a| a.get("id")) == Some(&json!("hooks-admin")) {
            links.push(MenuLink::post(
                page.request.url("/-/hooks?drop=1"),
                "Hooks admin action",
            ));
        }
        links
    }

    fn database_actions(&self, page: &PageContext, _host: &Host) -> Vec<MenuLink> {
        let db = page.database.clone().unwrap_or_default();
        vec![MenuLink::get(
            page.request.url(&format!("/-/hooks?database={db}")),
            format!("Hooks database action on {db}"),
        )]
    }

    fn row_actions(&self, page: &PageContext, _host: &Host) -> Vec<MenuLink> {
        let (table, row) = (
            page.table.clone().unwrap_or_default(),
            page.row.clone().unwrap_or_default(),
        );
        vec![
            MenuLink::get("//evil.example/row", "Unsafe row action"),
            MenuLink::get(
                page.request.url(&format!("/-/hooks?row={row}")),
                format!("Hooks row action on {table} {row}"),
            ),
        ]
    }
}

/// `/-/hooks`: signs in or out, panics, or echoes the request back.
fn echo(request: Request) -> Response {
    if request.query_param("panic").is_some() {
        panic!("handle panicked on request");
    }
    if let Some(actor) = request.query_param("sign_in_as") {
        let actor: Value = serde_json::from_str(&actor).unwrap_or(json!({"id": actor}));
        return Response::redirect(request.url("/")).with_actor(actor);
    }
    if request.query_param("sign_out").is_some() {
        return Response::redirect(request.url("/")).clearing_actor();
    }
    if let Some(cookie) = request.query_param("set_cookie") {
        return Response::json(200, &json!({"set": cookie})).with_header("Set-Cookie", &cookie);
    }
    let header_names: Vec<&str> = request.headers.iter().map(|(k, _)| k.as_str()).collect();
    Response::json(
        200,
        &json!({
            "method": request.method,
            "path": request.path,
            "query": request.query,
            "body": request.text().unwrap_or_else(|e| e),
            "actor": request.actor,
            "cookies": request.cookies,
            "headers": header_names,
            "origin": request.origin,
            "base_url": request.base_url,
        }),
    )
    .with_header("X-Hooks", "yes")
}

/// `/-/hooks/query?sql=…[&db=…][&as=visitor]`: runs SQL through the host, as the plugin or as
/// the visitor.
fn query(request: &Request, host: &Host) -> Response {
    let sql = request.query_param("sql").unwrap_or_default();
    let db = request.query_param("db");
    let params = json!({"id": request.query_param("id")});
    let result = match request.query_param("as").as_deref() {
        Some("visitor") => host.query_as(request.actor.as_ref(), db.as_deref(), &sql, &params),
        _ => host.query(db.as_deref(), &sql, &params),
    };
    match result {
        Ok(r) => Response::json(200, &json!({"rows": r.objects(), "truncated": r.truncated})),
        Err(e) => Response::json(400, &json!({"error": e})),
    }
}

/// `/-/hooks/can?action=…[&db=…[&table=…]]`: asks the host a permission question about the
/// visitor.
fn can(request: &Request, host: &Host) -> Response {
    let action = request.query_param("action").unwrap_or_default();
    let resource = match (request.query_param("db"), request.query_param("table")) {
        (Some(db), Some(table)) => Resource::Child(db, table),
        (Some(db), None) => Resource::Database(db),
        _ => Resource::Instance,
    };
    let allowed = host.permission_allowed(request.actor.as_ref(), &action, resource);
    Response::json(200, &json!({"allowed": allowed}))
}

/// `GET /-/hooks/form`: a form carrying the CSRF token; `POST`: its fields, and a message
/// for the next page.
fn form(request: &Request) -> Response {
    if request.method == "GET" {
        return Response::page(
            "Form",
            format!(
                "<form method=\"post\"><input type=\"hidden\" name=\"csrftoken\" value=\"{}\">\
                 <input name=\"say\"><button>Send</button></form>",
                datasette_plugin_api::html::escape(&request.csrf_token)
            ),
        );
    }
    let fields = request.form().unwrap_or_default();
    Response::json(200, &json!(fields)).with_message("Form received", "info")
}

/// `POST /-/hooks/upload` (multipart): each part's name, file name, size and a checksum, read
/// as it streams, and whether the host spooled the body to a file.
fn upload(request: &Request) -> Response {
    let mut parts = match request.multipart() {
        Ok(parts) => parts,
        Err(e) => return Response::json(400, &json!({"error": e})),
    };
    let mut seen = Vec::new();
    loop {
        match parts.next_part() {
            Ok(Some((part, mut reader))) => {
                let (mut size, mut sum, mut chunk) = (0u64, 0u64, [0u8; 8192]);
                loop {
                    match std::io::Read::read(&mut reader, &mut chunk) {
                        Ok(0) => break,
                        Ok(n) => {
                            size += n as u64;
                            sum = chunk[..n]
                                .iter()
                                .fold(sum, |s, &b| s.wrapping_mul(31).wrapping_add(b as u64));
                        }
                        Err(e) => return Response::json(400, &json!({"error": e.to_string()})),
                    }
                }
                seen.push(
                    json!({"name": part.name, "filename": part.filename, "size": size, "sum": sum}),
                );
            }
            Ok(None) => break,
            Err(e) => return Response::json(400, &json!({"error": e})),
        }
    }
    Response::json(
        200,
        &json!({"parts": seen, "spooled": request.body_file.is_some()}),
    )
}

/// `GET /-/hooks/export?mb=N`: N MiB of a repeated line, written to a temporary file and sent
/// from it; the answer names the file so a test can see it deleted.
fn export(request: &Request) -> Response {
    let mb: usize = request
        .query_param("mb")
        .and_then(|m| m.parse().ok())
        .unwrap_or(1);
    let path = std::env::temp_dir().join(format!("hooks-export-{}.txt", std::process::id()));
    let line = b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n";
    let written = std::fs::File::create(&path).and_then(|mut f| {
        for _ in 0..mb * (1 << 20) / line.len() {
            std::io::Write::write_all(&mut f, line)?;
        }
        Ok(())
    });
    match written {
        Ok(()) => Response::file(200, "text/plain", path.to_string_lossy())
            .with_header("x-export-file", path.to_string_lossy()),
        Err(e) => Response::json(500, &json!({"error": e.to_string()})),
    }
}

/// The actor a test names in `?as=` (JSON), for the services that act for one.
fn named_actor(request: &Request) -> Option<Option<Value>> {
    let actor = request.query_param("as")?;
    Some(serde_json::from_str(&actor).ok())
}

/// `/-/hooks/write?db=…&sql=…[&as=ACTOR]` runs SQL that writes; `…&table=…&rows=JSON
/// [&create=1][&pk=…][&as=ACTOR]` inserts rows. As the plugin, or as the actor named.
fn write(request: &Request, host: &Host) -> Response {
    let db = request.query_param("db").unwrap_or_default();
    let actor = named_actor(request);
    let result = match request.query_param("table") {
        Some(table) => {
            let rows = request.query_param("rows").unwrap_or_default();
            let rows = serde_json::from_str(&rows).unwrap_or_default();
            let options = InsertOptions {
                create: request.query_param("create").is_some(),
                pk: request.query_param("pk").into_iter().collect(),
                ..InsertOptions::default()
            };
            match actor {
                Some(a) => host
                    .write_as(a.as_ref())
                    .insert_rows(&db, &table, rows, &options),
                None => host.insert_rows(&db, &table, rows, &options),
            }
        }
        None => {
            let sql = request.query_param("sql").unwrap_or_default();
            match actor {
                Some(a) => host
                    .write_as(a.as_ref())
                    .execute_write(&db, &sql, &Value::Null),
                None => host.execute_write(&db, &sql, &Value::Null),
            }
        }
    };
    match result {
        Ok(r) => Response::json(
            200,
            &json!({"rows_affected": r.rows_affected, "rows": r.rows}),
        ),
        Err(e) => Response::json(400, &json!({"error": e})),
    }
}

/// `/-/hooks/databases[?as=ACTOR]`: the databases the plugin, or the actor, may use.
fn databases(request: &Request, host: &Host) -> Response {
    let listed = match named_actor(request) {
        Some(actor) => host.databases_as(actor.as_ref()),
        None => host.databases(),
    };
    match listed {
        Ok(dbs) => Response::json(200, &json!(dbs)),
        Err(e) => Response::json(400, &json!({"error": e})),
    }
}

/// `/-/hooks/sign?value=…`: signs, then checks the signature as it is, tampered with, in
/// another namespace and when too old.
fn sign(request: &Request, host: &Host) -> Response {
    let value = json!({"v": request.query_param("value")});
    let signed = match host.sign("hooks", &value) {
        Ok(s) => s,
        Err(e) => return Response::json(400, &json!({"error": e})),
    };
    let tampered = format!("x{signed}");
    let back = |ns: &str, text: &str| match host.unsign(ns, text, None) {
        Ok(v) => json!({"ok": v}),
        Err(e) => json!({"error": e}),
    };
    Response::json(
        200,
        &json!({
            "signed": signed,
            "back": back("hooks", &signed),
            "tampered": back("hooks", &tampered),
            "other_namespace": back("other", &signed),
        }),
    )
}

/// `/-/hooks/fetch?url=…`: fetches through the host and reports what came back.
fn fetch(request: &Request, host: &Host) -> Response {
    let url = request.query_param("url").unwrap_or_default();
    match host.fetch(&FetchRequest::get(url).with_header("X-From", "hooks")) {
        Ok(r) => Response::json(200, &json!({"status": r.status, "body": r.body})),
        Err(e) => Response::json(502, &json!({"error": e})),
    }
}

export_plugin!(
    Hooks: routes,
    ready,
    forbidden,
    handle,
    actor_from_request,
    permission_allowed,
    menu_links,
    extra_css_urls,
    extra_js_urls,
    extra_body_script,
    extra_template_vars,
    table_actions,
    database_actions,
    row_actions,
    prepare_connection,
    call_function,
    votes_follow_queries,
    actor_headers
);
