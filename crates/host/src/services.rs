//! What the running server does for plugins (`Host::query`, `Host::query_as`,
//! `Host::permission_allowed`): the host side of the services in `plugins::host_services`.

use std::sync::Arc;
use std::time::Duration;

use datasette_plugin_api::{PermissionCheck, QueryRequest, QueryResult, Resource};

use crate::app::AppState;
use crate::db::{self, Access, Cell, Database};
use crate::permissions::Action;
use crate::plugins::host_services::Services;

impl Services for AppState {
    fn query(&self, request: QueryRequest) -> Result<QueryResult, String> {
        let db = self.database_named(request.database.as_deref())?;
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
                db::select_named(c, &request.sql, None, value, max_rows)
            })
            .map_err(|e| e.to_string())?;
        Ok(QueryResult {
            rows: crate::render::json::rows_as_values(&rows.rows),
            columns: rows.columns,
            truncated: rows.truncated,
        })
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

impl AppState {
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
