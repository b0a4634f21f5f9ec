//! Tables: create one (from columns or from example rows) and drop one.

use actix_web::http::StatusCode;
use serde_json::{json, Map, Value};

use super::values::column_type;
use super::{answer, Answer, ApiError, Write};
use crate::db::{quote_ident, Cell, DbError};
use crate::permissions::Action;

/// One column of a `create` request.
struct Column {
    name: String,
    kind: &'static str,
    not_null: bool,
    default: Option<String>,
}

fn declared_type(kind: Option<&str>) -> Result<&'static str, ApiError> {
    Ok(match kind.map(str::to_ascii_lowercase).as_deref() {
        None | Some("text") | Some("str") => "TEXT",
        Some("integer") | Some("int") => "INTEGER",
        Some("float") | Some("real") => "REAL",
        Some("blob") | Some("bytes") => "BLOB",
        Some(other) => {
            return Err(ApiError::bad(format!(
                "Unsupported column type: {other} (text, integer, float or blob)"
            )))
        }
    })
}

/// A literal default as SQL: strings quoted, numbers as they are.
fn literal(v: &Value) -> Result<String, ApiError> {
    Ok(match v {
        Value::Null => "NULL".into(),
        Value::Bool(b) => (*b as i64).to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("'{}'", s.replace('\'', "''")),
        _ => {
            return Err(ApiError::bad(
                "A column's \"default\" must be a string or a number",
            ))
        }
    })
}

const DEFAULT_EXPRESSIONS: &[(&str, &str)] = &[
    ("current_timestamp", "CURRENT_TIMESTAMP"),
    ("current_date", "CURRENT_DATE"),
    ("current_time", "CURRENT_TIME"),
    ("current_unixtime", "(unixepoch())"),
    (
        "current_unixtime_ms",
        "(CAST(unixepoch('subsec') * 1000 AS INTEGER))",
    ),
];

fn columns_of(list: &[Value]) -> Result<Vec<Column>, ApiError> {
    list.iter()
        .map(|c| {
            let c = c
                .as_object()
                .ok_or_else(|| ApiError::bad("Each column must be a dictionary"))?;
            let name = c
                .get("name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .ok_or_else(|| ApiError::bad("Each column needs a \"name\""))?;
            let default = match (c.get("default"), c.get("default_expr")) {
                (Some(_), Some(_)) => {
                    return Err(ApiError::bad(
                        "Use \"default\" or \"default_expr\", not both",
                    ))
                }
                (Some(v), None) => Some(literal(v)?),
                (None, Some(e)) => {
                    let e = e.as_str().unwrap_or_default();
                    let sql = DEFAULT_EXPRESSIONS
                        .iter()
                        .find(|(k, _)| *k == e)
                        .ok_or_else(|| ApiError::bad(format!("Invalid default_expr: {e}")))?;
                    Some(sql.1.to_string())
                }
                (None, None) => None,
            };
            Ok(Column {
                name: name.to_string(),
                kind: declared_type(c.get("type").and_then(Value::as_str))?,
                not_null: c.get("not_null") == Some(&Value::Bool(true)),
                default,
            })
        })
        .collect()
}

/// The columns example rows imply, in the order they first appear.
fn columns_from_rows(rows: &[Map<String, Value>]) -> Vec<Column> {
    let mut out: Vec<Column> = Vec::new();
    for row in rows {
        for (k, v) in row {
            if !out.iter().any(|c| &c.name == k) && !v.is_null() {
                out.push(Column {
                    name: k.clone(),
                    kind: column_type(v),
                    not_null: false,
                    default: None,
                });
            }
        }
    }
    // Columns that were null in every row are text.
    for row in rows {
        for k in row.keys() {
            if !out.iter().any(|c| &c.name == k) {
                out.push(Column {
                    name: k.clone(),
                    kind: "TEXT",
                    not_null: false,
                    default: None,
                });
            }
        }
    }
    out
}

/// The primary key columns the body asks for: `pk` or `pks`.
fn keys_of(body: &Map<String, Value>) -> Result<Vec<String>, ApiError> {
    match (body.get("pk"), body.get("pks")) {
        (Some(_), Some(_)) => Err(ApiError::bad("Cannot use \"pk\" and \"pks\" together")),
        (Some(Value::String(pk)), None) => Ok(vec![pk.clone()]),
        (None, Some(Value::Array(pks))) if !pks.is_empty() => pks
            .iter()
            .map(|p| {
                p.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| ApiError::bad("\"pks\" must be a list of column names"))
            })
            .collect(),
        (None, None) => Ok(vec![]),
        _ => Err(ApiError::bad(
            "\"pk\" must be a column name and \"pks\" a list of them",
        )),
    }
}

fn create_sql(table: &str, columns: &[Column], keys: &[String]) -> String {
    let single_integer_key = keys.len() == 1
        && columns
            .iter()
            .any(|c| c.name == keys[0] && c.kind == "INTEGER");
    let mut parts: Vec<String> = columns
        .iter()
        .map(|c| {
            let mut part = format!("   {} {}", quote_ident(&c.name), c.kind);
            if single_integer_key && c.name == keys[0] {
                part.push_str(" PRIMARY KEY");
            }
            if c.not_null {
                part.push_str(" NOT NULL");
            }
            if let Some(d) = &c.default {
                part.push_str(&format!(" DEFAULT {d}"));
            }
            part
        })
        .collect();
    if !keys.is_empty() && !single_integer_key {
        let keys: Vec<String> = keys.iter().map(|k| quote_ident(k)).collect();
        parts.push(format!("   PRIMARY KEY ({})", keys.join(", ")));
    }
    format!(
        "CREATE TABLE {} (\n{}\n)",
        quote_ident(table),
        parts.join(",\n")
    )
}

/// `POST /DB/-/create`.
pub async fn create(w: &Write<'_>) -> Result<Answer, ApiError> {
    w.only_keys(&[
        "table", "columns", "row", "rows", "pk", "pks", "ignore", "replace", "alter",
    ])?;
    let table = w
        .body
        .get("table")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::bad("Table is required"))?
        .to_string();
    let has_rows = w.body.contains_key("row") || w.body.contains_key("rows");
    let columns = requested_columns(w, has_rows)?;
    w.may(Action::CreateTable, None)?;
    // A name the actor cannot see is taken all the same: the answer says that much, and
    // nothing of what the table holds.
    if w.schema.get(&table).is_some() {
        if has_rows && w.visible.can_read(&table) {
            return into_existing(w, &table).await;
        }
        return Err(ApiError::bad(format!("Table already exists: {table}")));
    }
    let rows = if has_rows {
        w.may(Action::InsertRow, None)?;
        super::rows::body_rows(w)?
    } else {
        vec![]
    };
    let mut keys = keys_of(&w.body)?;
    keys.dedup();
    let columns = with_key_columns(columns.unwrap_or_else(|| columns_from_rows(&rows)), &keys)?;
    let sql = create_sql(&table, &columns, &keys);
    let values = super::rows::row_values(&rows)?;
    let (create, name, count) = (sql.clone(), table.clone(), values.len());
    w.db.transact(w.limit(), w.visible.clone(), move |tx| {
        tx.execute(&create, &[])?;
        let mut inserter = super::rows::Inserter::new("INSERT", &name);
        for row in &values {
            inserter.insert(tx, row)?;
        }
        Ok(())
    })
    .await
    .map_err(|e| match e {
        // An index or a table of that name, maybe hidden: said as the documented rule says.
        DbError::Sql(m) if m.contains("already") => {
            ApiError::bad(format!("Table already exists: {table}"))
        }
        other => other.into(),
    })?;
    w.record("create", &table, count);
    Ok(created(w, &table, sql, count))
}

/// The `columns` of the body, or `None` when the table is made from example rows.
fn requested_columns(w: &Write<'_>, has_rows: bool) -> Result<Option<Vec<Column>>, ApiError> {
    match (w.body.get("columns"), has_rows) {
        (Some(_), true) => Err(ApiError::bad(
            "Cannot pass both \"columns\" and \"row\" or \"rows\"",
        )),
        (Some(Value::Array(list)), false) => Ok(Some(columns_of(list)?)),
        (Some(_), false) => Err(ApiError::bad("\"columns\" must be a list")),
        (None, true) => Ok(None),
        (None, false) => Err(ApiError::bad(
            "\"columns\" or \"row\" or \"rows\" is required",
        )),
    }
}

/// The columns with the key's: a single key not among them becomes an integer rowid key.
fn with_key_columns(mut columns: Vec<Column>, keys: &[String]) -> Result<Vec<Column>, ApiError> {
    if keys.len() == 1 && !columns.iter().any(|c| c.name == keys[0]) {
        columns.insert(
            0,
            Column {
                name: keys[0].clone(),
                kind: "INTEGER",
                not_null: false,
                default: None,
            },
        );
    }
    if let Some(k) = keys.iter().find(|k| !columns.iter().any(|c| &c.name == *k)) {
        return Err(ApiError::bad(format!(
            "Primary key column {k} is not a column"
        )));
    }
    if columns.is_empty() {
        return Err(ApiError::bad("A table needs at least one column"));
    }
    Ok(columns)
}

/// `create` with rows for a table that exists: they are inserted, and the table described.
async fn into_existing(w: &Write<'_>, table: &str) -> Result<Answer, ApiError> {
    let inserted = super::rows::insert_rows(w, table, super::WriteOp::Insert).await?;
    if !inserted.status.is_success() {
        return Ok(inserted);
    }
    let rows = match w.body.get("rows") {
        Some(Value::Array(rows)) => rows.len(),
        _ => 1,
    };
    let name = table.to_string();
    let sql =
        w.db.transact(w.limit(), w.visible.clone(), move |tx| {
            let found = tx.query(
                "select sql from sqlite_master where type = 'table' and name = ?",
                &[Cell::Text(name)],
            )?;
            Ok(
                match found.into_iter().next().and_then(|r| r.into_iter().next()) {
                    Some(Cell::Text(sql)) => sql,
                    _ => String::new(),
                },
            )
        })
        .await?;
    let sql = if w.access.can_read(table) {
        sql
    } else {
        String::new()
    };
    Ok(created(w, table, sql, rows))
}

/// Datasette's answer to a `create`: where the table is, its schema, and the rows written.
fn created(w: &Write<'_>, table: &str, schema: String, rows: usize) -> Answer {
    let path = format!(
        "/{}/{}",
        crate::urls::tilde_encode(&w.db.name),
        crate::urls::tilde_encode(table)
    );
    let mut body = json!({
        "ok": true,
        "database": w.db.name,
        "table": table,
        "table_url": w.url(&path),
        "table_api_url": w.url(&format!("{path}.json")),
        "schema": schema,
    });
    if rows > 0 {
        body["row_count"] = json!(rows);
    }
    answer(StatusCode::CREATED, body)
}

/// `POST /DB/TABLE/-/drop`: a preview with the row count, then the drop with `"confirm": true`.
pub async fn drop(w: &Write<'_>, table: &str) -> Result<Answer, ApiError> {
    w.only_keys(&["confirm"])?;
    let t = w.table(table)?.clone();
    w.may(Action::DropTable, Some(table))?;
    let name = t.name.clone();
    if !w.flag("confirm")? {
        // What the table holds is for who may read it (a restricted token may not).
        if !w.access.can_read(&name) {
            return Ok(answer(
                StatusCode::OK,
                json!({"ok": true, "database": w.db.name, "table": name,
                       "message": "Pass \"confirm\": true to confirm"}),
            ));
        }
        let count_sql = format!("SELECT count(*) FROM {}", quote_ident(&name));
        let count =
            w.db.transact(w.limit(), w.visible.clone(), move |tx| {
                Ok(
                    match tx.query(&count_sql, &[])?.first().and_then(|r| r.first()) {
                        Some(Cell::Int(n)) => *n,
                        _ => 0,
                    },
                )
            })
            .await?;
        return Ok(answer(
            StatusCode::OK,
            json!({
                "ok": true,
                "database": w.db.name,
                "table": name,
                "row_count": count,
                "message": "Pass \"confirm\": true to confirm",
            }),
        ));
    }
    let sql = format!("DROP TABLE {}", quote_ident(&name));
    w.db.transact(w.limit(), w.visible.clone(), move |tx| {
        tx.execute(&sql, &[]).map(|_| ())
    })
    .await?;
    w.record("drop", table, 0);
    Ok(answer(StatusCode::OK, json!({"ok": true})))
}
