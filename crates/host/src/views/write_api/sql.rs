//! `POST /DB/-/execute-write`: one statement of SQL from the request.
//!
//! Before it runs, it is prepared on a copy of the schema that holds only what the actor may
//! see (`db::shadow`), under the recording authorizer. So a hidden table, view or index is,
//! for the statement, one that does not exist, whatever the SQL's spelling (quotes, comments,
//! CTEs): SQLite answers "no such table" and every error is that of a database without it; and
//! the file's triggers take no part, so what is recorded is the statement's own doing. Then:
//!
//! - rows written need `insert-row`, `update-row` or `delete-row` on their table; `CREATE
//!   TABLE` needs `create-table`, `DROP TABLE` `drop-table`, `ALTER TABLE` and indexes
//!   `alter-table` on that table;
//! - what describes the file rather than a table (pragma table-valued functions, `dbstat`,
//!   SQLite's schema tables while anything is hidden) is refused, since it runs on the real
//!   file; so are views, triggers, virtual tables, pragmas, `ATTACH`, `VACUUM`, transactions
//!   and the functions that answer for the shared connection (`changes()` and the like);
//! - what a restricted token may not read is refused by name.
//!
//! It then runs on the real file: the database's own triggers run as their author wrote them,
//! nothing of what they touch comes back, and a failure of a statement that touched hidden
//! data is one generic message.

use actix_web::http::StatusCode;
use serde_json::{json, Value};

use super::values::cell;
use super::{answer, Answer, ApiError, Write};
use crate::db::access::Access;
use crate::db::lineage::fold;
use crate::db::recording::{FileOp, Recorded, RowOp};
use crate::db::{Cell, DbError};
use crate::permissions::Action;

/// At most this many `RETURNING` rows come back, as in Datasette.
const RETURNED_ROWS: usize = 10;

/// What the statement may touch, as seen by the actor.
struct Seen<'a> {
    /// What exists for the actor (allow blocks and plugins): the statement was prepared on a
    /// copy of the schema holding only that.
    sees: &'a Access,
    /// What the actor may read (less what a restricted token does not list).
    reads: &'a Access,
}

/// Table-valued functions that describe the file (hidden tables too), whatever schema the
/// statement was checked on: it runs on the real one.
fn describes_file(name: &str) -> bool {
    let name = fold(name);
    name.starts_with("pragma_") || name == "dbstat"
}

impl Seen<'_> {
    /// Why the statement's read of `table` (through `accessor`, a view or a CTE) is refused.
    fn read(&self, table: &str, accessor: Option<&str>) -> Result<(), String> {
        if describes_file(table) {
            return Err(format!("no such table: {table}"));
        }
        // SQLite's schema lists every table, hidden ones too.
        if is_internal(table) {
            return match !self.reads.hides_anything() {
                true => Ok(()),
                false => Err(format!("{table} cannot be read by this actor")),
            };
        }
        if self.sees.lineage.object(table).is_none() {
            // A CTE, or json_each and the like: they read what the statement gives them.
            return Ok(());
        }
        if self.reads.published.contains(&fold(table)) {
            return Err(format!(
                "{table} is published with its own allow block: read it on its own page, not through SQL"
            ));
        }
        if self.reads.can_read(table) {
            return Ok(());
        }
        let view = accessor.filter(|a| self.sees.lineage.object(a).is_some());
        Err(format!("no such table: {}", view.unwrap_or(table)))
    }

    /// What a statement needs, as worked out from what it touches.
    fn needs(&self, touched: &[Recorded]) -> Result<Vec<(Action, Option<String>)>, String> {
        let changes_schema = touched.iter().any(|r| {
            matches!(r, Recorded::Other { op, accessor: None, .. } if !matches!(op, FileOp::Unsupported(_)))
        });
        // SQLite's own reads and writes of its schema tables for a CREATE, DROP or ALTER
        // cannot be told from the statement's: such statements are for actors from whom
        // nothing is hidden.
        if changes_schema && self.reads.hides_anything() {
            return Err(
                "schema changes through execute-write are for actors from whom nothing \
                        in the database is hidden: use /-/create, /-/drop or \"alter\": true"
                    .into(),
            );
        }
        let unsupported = touched.iter().find_map(|r| match r {
            Recorded::Other {
                op: FileOp::Unsupported(what),
                ..
            } => Some(what),
            _ => None,
        });
        if let Some(what) = unsupported {
            return Err(format!("{what} cannot be used in execute-write"));
        }
        let mut out = Vec::new();
        for r in touched {
            match r {
                Recorded::Read {
                    table, accessor, ..
                } if !(changes_schema && is_internal(table)) => {
                    self.read(table, accessor.as_deref())?
                }
                Recorded::Read { .. } => {}
                // A trigger's writes are its own.
                Recorded::Write {
                    accessor: Some(_), ..
                }
                | Recorded::Other {
                    accessor: Some(_), ..
                } => {}
                Recorded::Write { table, .. } if is_internal(table) => {
                    if !changes_schema {
                        return Err(format!("{table} cannot be written"));
                    }
                }
                Recorded::Write { table, op, .. } => {
                    if !self.sees.can_read(table) {
                        return Err(format!("no such table: {table}"));
                    }
                    let action = match op {
                        RowOp::Insert => Action::InsertRow,
                        RowOp::Update => Action::UpdateRow,
                        RowOp::Delete => Action::DeleteRow,
                    };
                    out.push((action, Some(table.clone())));
                }
                Recorded::Other { op, name, .. } => out.push(self.schema_change(*op, name)?),
            }
        }
        if out.is_empty() {
            return Err("execute-write takes SQL that writes: read with /DB?sql=".into());
        }
        Ok(out)
    }

    fn schema_change(
        &self,
        op: FileOp,
        name: &Option<String>,
    ) -> Result<(Action, Option<String>), String> {
        let name = name.clone().unwrap_or_default();
        let action = match op {
            FileOp::CreateTable => return Ok((Action::CreateTable, None)),
            FileOp::DropTable => Action::DropTable,
            FileOp::AlterTable | FileOp::CreateIndex | FileOp::DropIndex => Action::AlterTable,
            FileOp::Unsupported(what) => {
                return Err(format!("{what} cannot be used in execute-write"))
            }
        };
        if is_internal(&name) {
            return Err(format!("{name} cannot be changed"));
        }
        if !self.sees.can_read(&name) {
            return Err(format!("no such table: {name}"));
        }
        Ok((action, Some(name)))
    }
}

/// SQLite's own bookkeeping tables (`sqlite_master`, `sqlite_sequence`, statistics).
fn is_internal(table: &str) -> bool {
    table
        .get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("sqlite_"))
}

/// The outcome of the statement.
struct Outcome {
    rowcount: usize,
    columns: Vec<String>,
    rows: Vec<Vec<Cell>>,
    truncated: bool,
}

pub async fn execute(w: &Write<'_>) -> Result<Answer, ApiError> {
    w.only_keys(&["sql", "params"])?;
    let sql = w
        .body
        .get("sql")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| ApiError::bad("\"sql\" is required"))?
        .to_string();
    let params: Vec<(String, Cell)> = match w.body.get("params") {
        None | Some(Value::Null) => vec![],
        Some(Value::Object(p)) => p
            .iter()
            .map(|(k, v)| Ok((k.clone(), cell(v)?)))
            .collect::<Result<_, ApiError>>()?,
        Some(_) => return Err(ApiError::bad("\"params\" must be a dictionary")),
    };
    w.may(Action::ExecuteWriteSql, None)?;
    let (state, actor, db) = (w.state, w.ctx.actor.clone(), w.db.name.clone());
    let seen = Seen {
        sees: &w.visible,
        reads: &w.access,
    };
    // Checked first, on a copy of the schema without what is hidden, outside the transaction
    // that runs it: nothing runs for a statement refused.
    let visible = w.visible.clone();
    let touched =
        w.db.transact(w.limit(), w.visible.clone(), {
            let sql = sql.clone();
            move |tx| tx.analyse(&sql, &visible)
        })
        .await
        .map_err(|e| match e {
            DbError::Sql(m) => ApiError::bad(format!("Could not analyze query: {m}")),
            other => other.into(),
        })?;
    // SQLite's count is this statement's only if it changed rows itself.
    let writes_rows = touched
        .iter()
        .any(|r| matches!(r, Recorded::Write { accessor: None, table, .. } if !is_internal(table)));
    let needed = seen
        .needs(&touched)
        .map_err(|e| ApiError::bad(format!("Could not analyze query: {e}")))?;
    for (action, table) in &needed {
        if !w.trusted()
            && !state
                .permissions
                .can_write(&actor, *action, &db, table.as_deref())
        {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("Permission denied: need {}", action.name()),
            ));
        }
    }
    let outcome =
        w.db.transact(w.limit(), w.visible.clone(), move |tx| {
            run(tx, &sql, &params, writes_rows)
        })
        .await?;
    w.record("execute-write", "", outcome.rowcount);
    let message = format!(
        "Query executed, {} row{} affected",
        outcome.rowcount,
        if outcome.rowcount == 1 { "" } else { "s" }
    );
    let rows = super::rows::rows_json(&outcome.columns, &outcome.rows);
    Ok(answer(
        StatusCode::OK,
        json!({
            "ok": true,
            "message": message,
            "rowcount": outcome.rowcount,
            "rows": rows,
            "truncated": outcome.truncated,
        }),
    ))
}

/// Runs the statement, its parameters bound by name, keeping the first `RETURNING` rows.
fn run(
    tx: &mut crate::db::writes::Tx<'_>,
    sql: &str,
    params: &[(String, Cell)],
    writes_rows: bool,
) -> Result<Outcome, DbError> {
    let (columns, all) = tx.query_named(sql, params)?;
    // SQLite's count is the connection's last row change: this statement's only if it
    // changed rows (else another request's, on the same writer).
    let rowcount = if writes_rows {
        tx.connection().changes() as usize
    } else {
        0
    };
    let truncated = all.len() > RETURNED_ROWS;
    let rows = all.into_iter().take(RETURNED_ROWS).collect();
    Ok(Outcome {
        rowcount,
        columns,
        rows,
        truncated,
    })
}
