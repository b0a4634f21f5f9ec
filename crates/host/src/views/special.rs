//! The `/-/…` pages: actor, metadata, databases, settings, versions, threads, plugins.

use serde_json::{json, Value};

use super::templates::{capitalize, page_chrome, render_template};
use super::{respond, PageRequest, Reply};
use crate::app::AppState;
use crate::app::View;
use crate::error::AppError;
use crate::permissions::Resource;
use crate::render::html::Chrome;
use askama::Template;

pub async fn page(state: &AppState, ctx: &PageRequest, name: &str) -> Result<Reply, AppError> {
    if name == "config" {
        return Ok(settings_moved(ctx));
    }
    let data = match name {
        "actor" => json!({ "actor": ctx.actor }),
        "metadata" => visible_metadata(state, ctx),
        "databases" => databases(state, ctx).await?,
        "settings" => serde_json::to_value(&state.settings).unwrap_or_default(),
        "versions" => versions(),
        "threads" => threads(),
        "plugins" => json!(state.plugins.describe()),
        "allow-debug" => return allow_debug(state, ctx),
        "permissions" => return permissions_debug(state, ctx),
        _ => return Err(AppError::NotFound("Page not found".into())),
    };
    respond(ctx, &data, || special_page(state, ctx, name, &data))
}

/// `/-/databases`: the files the actor may see. An immutable file's hash, and any file's size,
/// only for an actor who may see everything in it (they change with the protected tables too).
async fn databases(state: &AppState, ctx: &PageRequest) -> Result<Value, AppError> {
    let mut out = Vec::new();
    for db in state.databases.values() {
        if !state.permissions.can_view_database(&ctx.actor, &db.name) {
            continue;
        }
        let hash_or_size_shown = state.sees_whole_file(&ctx.actor, db).await?;
        let hash = db.hash.clone().filter(|_| hash_or_size_shown);
        out.push(json!({
            "name": db.name,
            "route": crate::urls::tilde_encode(&db.name),
            "path": db.path.file_name().map(|f| f.to_string_lossy().into_owned()),
            // A file's size grows with its hidden tables too.
            "size": hash_or_size_shown.then(|| db.size()),
            "is_mutable": !db.immutable,
            "is_memory": db.is_memory(),
            "hash": hash,
        }));
    }
    Ok(Value::Array(out))
}

/// `/-/allow-debug`: does this allow block let this actor in? Both are typed into the page
/// (Datasette's tool for writing allow blocks); it reads nothing of the site.
fn allow_debug(state: &AppState, ctx: &PageRequest) -> Result<Reply, AppError> {
    let actor_text = ctx.arg("actor").unwrap_or("{\"id\": \"root\"}").to_string();
    let allow_text = ctx.arg("allow").unwrap_or("{\"id\": \"*\"}").to_string();
    let parse = |what: &str, text: &str| {
        serde_json::from_str::<Value>(text).map_err(|e| format!("{what} JSON error: {e}"))
    };
    let (actor, allow) = (parse("Actor", &actor_text), parse("Allow", &allow_text));
    let errors: Vec<String> = [&actor, &allow]
        .into_iter()
        .filter_map(|r| r.as_ref().err().cloned())
        .collect();
    let result = match (&actor, &allow) {
        (Ok(actor), Ok(allow)) => {
            let actor = Some(actor.clone()).filter(|a| !a.is_null());
            Some(crate::permissions::actor_matches_allow(&actor, allow))
        }
        _ => None,
    };
    let data = json!({
        "actor": actor_text,
        "allow": allow_text,
        "errors": errors,
        "result": result.map(|allowed| if allowed { "allow" } else { "deny" }),
    });
    respond(ctx, &data, || {
        allow_debug_page(state, ctx, &actor_text, &allow_text, &errors, result)
    })
}

/// `/-/permissions`: the recent permission checks, for who may debug them (root by default).
/// It shows other actors as they were checked: never to anyone else.
fn permissions_debug(state: &AppState, ctx: &PageRequest) -> Result<Reply, AppError> {
    let checks: Vec<Value> = state
        .permissions
        .recent()
        .into_iter()
        .map(|c| {
            json!({
                "when": super::magic::datetime_utc(c.when),
                "actor": *c.actor,
                "action": c.action.name(),
                "resource": resource_json(&c.resource),
                "result": c.allowed,
                "used_default": c.used_default,
            })
        })
        .collect();
    let question = permission_question(state, ctx)?;
    let data = json!({ "permission_checks": checks, "question": question });
    respond(ctx, &data, || {
        permissions_page(state, ctx, &checks, &question)
    })
}

/// The question the page's form asks (`?actor=JSON&permission=ACTION&resource_1=DB&
/// resource_2=TABLE`), answered as the routes answer it: whether the actor may, and whether an
/// allow block or plugin answered for that very resource (else its database, the instance or
/// the default decided). `null` when nothing is asked.
fn permission_question(state: &AppState, ctx: &PageRequest) -> Result<Value, AppError> {
    let Some(action) = ctx.arg("permission").filter(|p| !p.is_empty()) else {
        return Ok(Value::Null);
    };
    let actor_text = ctx.arg("actor").unwrap_or("null");
    let actor: Value = serde_json::from_str(actor_text)
        .map_err(|e| AppError::BadRequest(format!("actor must be JSON: {e}")))?;
    let actor = Some(actor).filter(|a| !a.is_null());
    let arg = |k: &str| ctx.arg(k).filter(|v| !v.is_empty()).map(str::to_string);
    let resource = match (arg("resource_1"), arg("resource_2")) {
        (None, None) => Resource::Instance,
        (Some(db), None) => Resource::Database(db),
        (Some(db), Some(child)) => Resource::Child(db, child),
        (None, Some(_)) => {
            return Err(AppError::BadRequest(
                "resource_2 (a table or query) needs resource_1 (its database)".into(),
            ))
        }
    };
    let explicit = state.permissions.vote(&actor, action, &resource);
    let check = datasette_plugin_api::PermissionCheck {
        actor: actor.clone(),
        action: action.to_string(),
        resource: resource.clone(),
    };
    let allowed = crate::plugins::host_services::Services::permission_allowed(state, &check);
    Ok(json!({
        "actor": actor,
        "permission": action,
        "resource": resource_json(&resource),
        "allowed": allowed,
        "explicit": explicit.is_some(),
    }))
}

fn resource_json(resource: &Resource) -> Value {
    match resource {
        Resource::Instance => Value::Null,
        Resource::Database(db) => json!(db),
        Resource::Child(db, child) => json!([db, child]),
    }
}

/// `/-/config` is Datasette's old name of `/-/settings`: a permanent redirect, as it answers.
fn settings_moved(ctx: &PageRequest) -> Reply {
    let extension = if ctx.format == crate::render::Format::Json {
        ".json"
    } else {
        ""
    };
    actix_web::HttpResponse::MovedPermanently()
        .insert_header(("Location", ctx.link(&format!("/-/settings{extension}"))))
        .finish()
        .into()
}

/// metadata.json as written (secrets unresolved), less every database, table and query this
/// actor may not see (their names alone would say too much), and less the plugins' blocks
/// unless the actor may see those (`view-plugin-config`).
pub(super) fn visible_metadata(state: &AppState, ctx: &PageRequest) -> Value {
    let perms = &state.permissions;
    let mut raw = state.metadata.raw.clone();
    if !perms.can_view_plugin_config(&ctx.actor) {
        without_plugins(&mut raw);
    }
    if let Some(Value::Object(dbs)) = raw.get_mut("databases") {
        dbs.retain(|db, _| perms.can_view_database(&ctx.actor, db));
        for (db, meta) in dbs.iter_mut() {
            if let Some(Value::Object(tables)) = meta.get_mut("tables") {
                match state.databases.get(db.as_str()) {
                    Some(served) => {
                        let schema = served.current_schema();
                        let access = state.access(&ctx.actor, db, &schema);
                        tables.retain(|t, _| access.can_read(t));
                    }
                    // Nothing of a database not served is there to see.
                    None => tables.clear(),
                }
            }
            if let Some(Value::Object(queries)) = meta.get_mut("queries") {
                queries.retain(|q, _| perms.can_view_query(&ctx.actor, db, q));
                for (name, q) in queries.iter_mut() {
                    if let Value::Object(q) = q {
                        q.entry("name")
                            .or_insert_with(|| Value::String(name.clone()));
                    }
                }
            }
            // Datasette shows each database with the links it inherits.
            if let Value::Object(m) = meta {
                let inherited = state.metadata.inherited_links(Some(db), None);
                for key in [
                    "source",
                    "source_url",
                    "license",
                    "license_url",
                    "about",
                    "about_url",
                ] {
                    let value = inherited
                        .iter()
                        .find(|(k, _)| *k == key)
                        .map(|(_, v)| Value::String(v.clone()));
                    m.entry(key).or_insert(value.unwrap_or(Value::Null));
                }
            }
        }
    }
    raw
}

/// Removes every `plugins` block: the instance's, each database's, table's and query's.
fn without_plugins(meta: &mut Value) {
    let Value::Object(m) = meta else { return };
    m.remove("plugins");
    for key in ["databases", "tables", "queries"] {
        if let Some(Value::Object(children)) = m.get_mut(key) {
            children.values_mut().for_each(without_plugins);
        }
    }
}

/// `/-/threads`: Datasette's keys for what the process is doing. Its threads by id and name;
/// as tasks, the requests under way (method and time so far: their paths may name what this
/// actor may not see).
fn threads() -> Value {
    let threads: Vec<Value> = crate::telemetry::threads()
        .into_iter()
        .map(|(id, name)| json!({"name": name, "ident": id}))
        .collect();
    let tasks: Vec<String> = crate::telemetry::under_way()
        .into_iter()
        .map(|(method, ms)| format!("{method} request, {ms:.1} ms so far"))
        .collect();
    json!({
        "num_threads": threads.len(),
        "threads": threads,
        "num_tasks": tasks.len(),
        "tasks": tasks,
    })
}

fn versions() -> Value {
    let conn = rusqlite::Connection::open_in_memory().ok();
    let compile_options: Vec<String> = conn
        .as_ref()
        .and_then(|c| {
            let mut s = c.prepare("PRAGMA compile_options").ok()?;
            let rows = s.query_map([], |r| r.get::<_, String>(0)).ok()?;
            Some(rows.filter_map(Result::ok).collect())
        })
        .unwrap_or_default();
    let fts_versions: Vec<&str> = ["FTS5", "FTS4", "FTS3"]
        .into_iter()
        .filter(|v| compile_options.iter().any(|o| o == &format!("ENABLE_{v}")))
        .collect();
    json!({
        "datasette-rs": { "version": env!("CARGO_PKG_VERSION") },
        "sqlite": {
            "version": rusqlite::version(),
            "fts_versions": fts_versions,
            "extensions": { "json1": rusqlite::version() },
            "compile_options": compile_options,
        },
    })
}

// ---- HTML: this page's template and its adapter ----

#[derive(Template)]
#[template(path = "special.html")]
struct SpecialTemplate<'a> {
    chrome: &'a Chrome,
    title: String,
    json: String,
    json_href: String,
}

pub fn special_page(
    state: &AppState,
    ctx: &PageRequest,
    name: &str,
    data: &serde_json::Value,
) -> Result<String, AppError> {
    let chrome = page_chrome(
        state,
        ctx,
        View {
            kind: "special",
            ..View::default()
        },
    );
    render_template(&SpecialTemplate {
        chrome: &chrome,
        title: capitalize(name),
        json: serde_json::to_string_pretty(data).unwrap_or_default(),
        json_href: ctx.link(&format!("/-/{name}.json")),
    })
}

#[derive(Template)]
#[template(path = "allow_debug.html")]
struct AllowDebugTemplate<'a> {
    chrome: &'a Chrome,
    actor: &'a str,
    allow: &'a str,
    errors: &'a [String],
    result: Option<bool>,
}

/// `/-/allow-debug`'s form and answer.
pub fn allow_debug_page(
    state: &AppState,
    ctx: &PageRequest,
    actor: &str,
    allow: &str,
    errors: &[String],
    result: Option<bool>,
) -> Result<String, AppError> {
    let view = View {
        kind: "special",
        ..View::default()
    };
    render_template(&AllowDebugTemplate {
        chrome: &page_chrome(state, ctx, view),
        actor,
        allow,
        errors,
        result,
    })
}

#[derive(Template)]
#[template(path = "permissions.html")]
struct PermissionsTemplate<'a> {
    chrome: &'a Chrome,
    checks: Vec<CheckView>,
    /// The form's fields as asked: actor JSON, permission, resource 1 and 2.
    asked: [String; 4],
    /// The answer: (allowed, decided for that very resource).
    answer: Option<(bool, bool)>,
}

struct CheckView {
    action: String,
    when: String,
    allowed: bool,
    used_default: bool,
    actor: String,
    resource: Option<String>,
}

/// `/-/permissions`: the recent checks (`checks` as its JSON lists them).
pub fn permissions_page(
    state: &AppState,
    ctx: &PageRequest,
    checks: &[serde_json::Value],
    question: &serde_json::Value,
) -> Result<String, AppError> {
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let view = View {
        kind: "special",
        ..View::default()
    };
    let asked = ["actor", "permission", "resource_1", "resource_2"]
        .map(|k| ctx.arg(k).unwrap_or_default().to_string());
    let answer =
        (!question.is_null()).then(|| (question["allowed"] == true, question["explicit"] == true));
    render_template(&PermissionsTemplate {
        chrome: &page_chrome(state, ctx, view),
        asked,
        answer,
        checks: checks
            .iter()
            .map(|c| CheckView {
                action: text(&c["action"]),
                when: text(&c["when"]),
                allowed: c["result"] == true,
                used_default: c["used_default"] == true,
                actor: c["actor"].to_string(),
                resource: (!c["resource"].is_null()).then(|| match &c["resource"] {
                    serde_json::Value::String(db) => db.clone(),
                    other => other.to_string(),
                }),
            })
            .collect(),
    })
}
