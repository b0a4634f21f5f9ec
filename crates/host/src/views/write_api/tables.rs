//! Tables: create one (from columns or from example rows) and drop one.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::{json, Map, Value};

use super::rows::cell;
use super::{answer, ApiError, Write};
use crate::db::{quote_ident, Cell};
use crate::permissions::Action;

/// The column type Datasette infers from an example value.
pub fn column_type(v: &Value) -> &'static str {
    match v {
        Value::Number(n) if n.is_i64() || n.is_u64() => "INTEGER",
        Value::Number(_) => "FLOAT",
        Value::Bool(_) => "INTEGER",
        Value::Object(m) if m.get("$base64") == Some(&Value::Bool(true)) => "BLOB",
        _ => "TEXT",
    }
}

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
        Some("float") | Some("real") => "FLOAT",
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
pub async fn create(w: &Write<'_>) -> Result<HttpResponse, ApiError> {
    w.only_keys(&[
        "table", "columns", "row", "rows", "pk", "pks", "ignore", "replace", "alter",
    ])?;
    let table = w
        .body
        .get("table")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::bad("\"table\" is required"))?
        .to_string();
    let has_rows = w.body.contains_key("row") || w.body.contains_key("rows");
    let columns = match (w.body.get("columns"), has_rows) {
        (Some(_), true) => {
            return Err(ApiError::bad(
                "Cannot pass both \"columns\" and \"row\" or \"rows\"",
            ))
        }
        (Some(Value::Array(list)), false) => Some(columns_of(list)?),
        (Some(_), false) => return Err(ApiError::bad("\"columns\" must be a list")),
        (None, true) => None,
        (None, false) => {
            return Err(ApiError::bad(
                "\"columns\" or \"row\" or \"rows\" is required",
            ))
        }
    };
    w.may(Action::CreateTable, None)?;
    // A name the actor cannot see is taken all the same: the answer says that much, and
    // nothing of what the table holds.
    if w.schema.get(&table).is_some() {
        if has_rows && w.visible.can_read(&table) {
            return super::rows::insert_rows(w, &table, super::WriteOp::Insert).await;
        }
        return Err(ApiError::bad(format!("Table already exists: {table}")));
    }
    let mut keys = keys_of(&w.body)?;
    let rows: Vec<Map<String, Value>> = match (w.body.get("row"), w.body.get("rows")) {
        (Some(Value::Object(r)), None) => vec![r.clone()],
        (None, Some(Value::Array(rs))) => rs
            .iter()
            .map(|r| {
                r.as_object()
                    .cloned()
                    .ok_or_else(|| ApiError::bad("\"rows\" must be a list of dictionaries"))
            })
            .collect::<Result<_, _>>()?,
        (None, None) => vec![],
        _ => {
            return Err(ApiError::bad(
                "\"row\" must be a dictionary, \"rows\" a list of them",
            ))
        }
    };
    if !rows.is_empty() {
        w.may(Action::InsertRow, None)?;
    }
    if rows.len() > w.state.settings.max_insert_rows as usize {
        return Err(ApiError::bad(format!(
            "Too many rows, maximum allowed is {}",
            w.state.settings.max_insert_rows
        )));
    }
    let mut columns = columns.unwrap_or_else(|| columns_from_rows(&rows));
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
    keys.dedup();
    let sql = create_sql(&table, &columns, &keys);
    let values: Vec<Vec<(String, Cell)>> = rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|(k, v)| Ok((k.clone(), cell(v)?)))
                .collect::<Result<_, ApiError>>()
        })
        .collect::<Result<_, _>>()?;
    let (create, name, count) = (sql.clone(), table.clone(), values.len());
    w.db.transact(w.limit(), w.visible.clone(), move |tx| {
        tx.execute(&create, &[])?;
        for row in &values {
            let cols: Vec<String> = row.iter().map(|(c, _)| quote_ident(c)).collect();
            let marks = vec!["?"; row.len()].join(", ");
            let params: Vec<Cell> = row.iter().map(|(_, v)| v.clone()).collect();
            tx.execute(
                &format!(
                    "INSERT INTO {} ({}) VALUES ({marks})",
                    quote_ident(&name),
                    cols.join(", ")
                ),
                &params,
            )?;
        }
        Ok(())
    })
    .await?;
    w.record("create", &table, count);
    let path = format!(
        "/{}/{}",
        crate::urls::tilde_encode(&w.db.name),
        crate::urls::tilde_encode(&table)
    );
    let mut body = json!({
        "ok": true,
        "database": w.db.name,
        "table": table,
        "table_url": w.url(&path),
        "table_api_url": w.url(&format!("{path}.json")),
        "schema": sql,
    });
    if count > 0 {
        body["row_count"] = json!(count);
    }
    Ok(answer(StatusCode::CREATED, body))
}

/// `POST /DB/TABLE/-/drop`: a preview with the row count, then the drop with `"confirm": true`.
pub async fn drop(w: &Write<'_>, table: &str) -> Result<HttpResponse, ApiError> {
    w.only_keys(&["confirm"])?;
    let t = w.table(table)?.clone();
    w.may(Action::DropTable, Some(table))?;
    let name = t.name.clone();
    if !w.flag("confirm")? {
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
