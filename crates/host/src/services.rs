//! What the running server does for plugins (`Host::query`, `Host::permission_allowed`,
//! `Host::databases`, the writes, signing): the host side of the services in
//! `plugins::host_services`.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use datasette_plugin_api::{
    DatabaseInfo, DatabasesRequest, InsertRequest, PermissionCheck, QueryRequest, QueryResult,
    Resource, SignRequest, UnsignRequest, WriteRequest, WriteResult,
};
use serde_json::{json, Map, Value};

use crate::app::AppState;
use crate::db::{self, Access, Cell, Database};
use crate::permissions::{reads, Action};
use crate::plugins::host_services::Services;
use crate::views::write_api::{self, WriteOp, Writer};
use crate::views::Page;

impl Services for AppState {
    fn query(&self, request: QueryRequest) -> Result<QueryResult, String> {
        let db = self.database_named(request.database.as_deref())?;
        // Votes that query are reused only until the file they read changes.
        reads::queried(&db.name, || db.version());
        let access = if request.as_actor {
            let schema = db.schema_here().map_err(|e| e.to_string())?;
            self.access(&request.actor, &db.name, &schema)
        } else {
            // The plugin itself reads everything; the authorizer still allows reads only.
            Arc::new(Access::default())
        };
        let limit = Duration::from_millis(self.settings.sql_time_limit_ms);
        let max_rows = self.settings.max_returned_rows as usize;
        let params = request.params;
        let (_, rows) = db
            .run_here(limit, access, |c| {
                c.check_request_sql(&request.sql)?;
                let value = |name: &str| Some(params.get(name).map_or(Cell::Null, Cell::from_json));
                let rows = db::select_named(c, &request.sql, None, value, max_rows);
                if c.varied() {
                    reads::unpredictable();
                }
                rows
            })
            .map_err(|e| e.to_string())?;
        Ok(QueryResult {
            rows: crate::render::json::rows_as_values(&rows.rows),
            columns: rows.columns,
            truncated: rows.truncated,
        })
    }

    fn databases(&self, request: DatabasesRequest) -> Vec<DatabaseInfo> {
        self.databases
            .values()
            .filter(|db| {
                !request.as_actor || self.permissions.can_view_database(&request.actor, &db.name)
            })
            .map(|db| DatabaseInfo {
                name: db.name.clone(),
                is_mutable: !db.immutable && !db.is_memory(),
                is_memory: db.is_memory(),
            })
            .collect()
    }

    fn execute_write(
        &self,
        plugin: &'static str,
        request: WriteRequest,
    ) -> Result<WriteResult, String> {
        let page = Page::DatabaseWrite {
            db: request.database,
            op: WriteOp::ExecuteWrite,
        };
        let body = json!({"sql": request.sql, "params": request.params});
        let answer = self.plugin_write(plugin, (request.as_actor, request.actor), page, body)?;
        Ok(WriteResult {
            rows_affected: answer["rowcount"].as_u64().unwrap_or(0) as usize,
            rows: objects(&answer["rows"]),
        })
    }

    fn insert_rows(
        &self,
        plugin: &'static str,
        request: InsertRequest,
    ) -> Result<WriteResult, String> {
        let (options, count) = (request.options, request.rows.len());
        let mut body = Map::new();
        body.insert(
            "rows".into(),
            request.rows.into_iter().map(Value::Object).collect(),
        );
        for (flag, on) in [
            ("replace", options.replace),
            ("ignore", options.ignore),
            ("alter", options.alter),
        ] {
            if on {
                body.insert(flag.into(), Value::Bool(true));
            }
        }
        // `create` is the API's `/-/create` with rows, which also inserts into a table that
        // exists; otherwise `/-/insert`, which refuses a table that does not.
        let page = if options.create {
            body.insert("table".into(), Value::String(request.table));
            match options.pk.as_slice() {
                [] => {}
                [pk] => drop(body.insert("pk".into(), json!(pk))),
                pks => drop(body.insert("pks".into(), json!(pks))),
            }
            Page::DatabaseWrite {
                db: request.database,
                op: WriteOp::Create,
            }
        } else {
            Page::TableWrite {
                db: request.database,
                table: request.table,
                op: WriteOp::Insert,
            }
        };
        let who = (request.as_actor, request.actor);
        self.plugin_write(plugin, who, page, Value::Object(body))?;
        Ok(WriteResult {
            rows_affected: count,
            rows: Vec::new(),
        })
    }

    fn sign(&self, request: SignRequest) -> Result<String, String> {
        Ok(self
            .session
            .plugin_values
            .sign_value(&request.namespace, &request.value))
    }

    fn unsign(&self, request: UnsignRequest) -> Result<Value, String> {
        self.session
            .plugin_values
            .unsign_value(
                &request.namespace,
                &request.signed,
                request.max_age_seconds,
                crate::tokens::now(),
            )
            .map_err(str::to_string)
    }

    fn permission_allowed(&self, check: &PermissionCheck) -> bool {
        let (p, actor) = (&self.permissions, &check.actor);
        match (Action::named(&check.action), &check.resource) {
            (Some(Action::ViewInstance), _) => p.can_view_instance(actor),
            (Some(Action::ViewDatabase), Resource::Database(db)) => p.can_view_database(actor, db),
            (Some(Action::ViewTable), Resource::Child(db, table)) => {
                self.can_view_table(actor, db, table)
            }
            (Some(Action::ViewQuery), Resource::Child(db, query)) => {
                p.can_view_query(actor, db, query)
            }
            (Some(Action::ExecuteSql), Resource::Database(db)) => p.can_execute_sql(actor, db),
            (_, resource) => p.vote(actor, &check.action, resource).unwrap_or(false),
        }
    }
}

/// Rows of a write's answer, as objects.
fn objects(rows: &Value) -> Vec<Map<String, Value>> {
    rows.as_array()
        .map(|rows| rows.iter().filter_map(|r| r.as_object().cloned()).collect())
        .unwrap_or_default()
}

/// Where plugins' writes run: the write API is async, and a plugin calls from a thread of its
/// own or the blocking pool, outside the server's runtimes.
fn writes_runtime() -> Result<&'static tokio::runtime::Runtime, String> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("plugin-writes")
                .enable_time()
                .build()
                .map_err(|e| format!("the plugins' writer could not start: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

impl AppState {
    /// A plugin's write through the write API: as the plugin, or as the actor it names.
    fn plugin_write(
        &self,
        plugin: &'static str,
        (as_actor, actor): (bool, Option<Value>),
        page: Page,
        body: Value,
    ) -> Result<Value, String> {
        let writer = match as_actor {
            true => Writer::PluginAs(plugin),
            false => Writer::Plugin(plugin),
        };
        let Value::Object(body) = body else {
            return Err("a write is an object".into());
        };
        let actor = if as_actor { actor } else { None };
        writes_runtime()?.block_on(write_api::for_plugin(self, writer, actor, page, body))
    }

    /// The database of that name; `None`: the first one served.
    fn database_named(&self, name: Option<&str>) -> Result<&Arc<Database>, String> {
        match name {
            Some(name) => self
                .databases
                .get(name)
                .ok_or_else(|| format!("no database is named {name:?}")),
            None => self
                .databases
                .values()
                .next()
                .ok_or_else(|| "no database is served".to_string()),
        }
    }
}
