//! Rows: insert and upsert into a table, update and delete one row.

use actix_web::http::StatusCode;
use serde_json::{json, Map, Value};

use super::values::{cell, column_type};
use super::{answer, Answer, ApiError, Write, WriteOp};
use crate::db::writes::Tx;
use crate::db::{quote_ident, Cell, DbError, TableInfo};
use crate::permissions::Action;

/// Rows of the answer, as the JSON API writes rows: objects by column.
pub fn rows_json(columns: &[String], rows: &[Vec<Cell>]) -> Vec<Value> {
    crate::render::json::rows_as_values(rows)
        .into_iter()
        .map(|values| Value::Object(columns.iter().cloned().zip(values).collect()))
        .collect()
}

/// The rows of the body: `row` (one object) or `rows` (a list of them).
pub fn body_rows(w: &Write<'_>) -> Result<Vec<Map<String, Value>>, ApiError> {
    let rows = match (w.body.get("row"), w.body.get("rows")) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad(
                "Cannot use \"row\" and \"rows\" at the same time",
            ))
        }
        (Some(Value::Object(row)), None) => vec![row.clone()],
        (None, Some(Value::Array(rows))) => rows
            .iter()
            .map(|r| match r {
                Value::Object(r) => Ok(r.clone()),
                _ => Err(ApiError::bad("\"rows\" must be a list of dictionaries")),
            })
            .collect::<Result<_, _>>()?,
        (Some(_), None) => return Err(ApiError::bad("\"row\" must be a dictionary")),
        (None, Some(_)) => return Err(ApiError::bad("\"rows\" must be a list of dictionaries")),
        (None, None) => return Err(ApiError::bad("\"row\" or \"rows\" is required")),
    };
    let max = w.max_rows();
    if rows.len() > max {
        return Err(ApiError::bad(format!(
            "Too many rows, maximum allowed is {max}"
        )));
    }
    if rows.is_empty() {
        return Err(ApiError::bad("\"rows\" must hold at least one row"));
    }
    Ok(rows)
}

/// Columns the rows name that the table lacks: added when `alter` allows, refused otherwise.
fn new_columns(t: &TableInfo, rows: &[Map<String, Value>]) -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &'static str)> = Vec::new();
    for row in rows {
        for (k, v) in row {
            if !t.has_column(k) && !out.iter().any(|(c, _)| c == k) {
                out.push((k.clone(), column_type(v)));
            }
        }
    }
    out
}

/// The index of the first row that names one of `added`.
fn first_row_naming(rows: &[Map<String, Value>], added: &[(String, &'static str)]) -> usize {
    rows.iter()
        .position(|r| added.iter().any(|(c, _)| r.contains_key(c)))
        .unwrap_or(0)
}

/// `POST /DB/TABLE/-/insert` and `-/upsert`.
pub async fn insert(w: &Write<'_>, table: &str, op: WriteOp) -> Result<Answer, ApiError> {
    w.only_keys(&["row", "rows", "return", "ignore", "replace", "alter"])?;
    insert_rows(w, table, op).await
}

/// The rows of the body into `table` (for `-/create` too, into a table that exists).
pub async fn insert_rows(w: &Write<'_>, table: &str, op: WriteOp) -> Result<Answer, ApiError> {
    let t = w.table(table)?.clone();
    let rows = body_rows(w)?;
    let (ignore, replace, alter) = (w.flag("ignore")?, w.flag("replace")?, w.flag("alter")?);
    // As Datasette: one `row` is answered with the row as stored.
    let asked = w.flag("return")?;
    let returning = w.may_return(table, asked)? && (asked || w.body.contains_key("row"));
    if ignore && replace {
        return Err(ApiError::bad(
            "Cannot use \"ignore\" and \"replace\" together",
        ));
    }
    let upsert = op == WriteOp::Upsert;
    if upsert && (ignore || replace) {
        return Err(ApiError::bad(
            "Upsert does not take \"ignore\" or \"replace\"",
        ));
    }
    w.may(Action::InsertRow, Some(table))?;
    if replace || upsert {
        w.may(Action::UpdateRow, Some(table))?;
    }
    let added = columns_to_add(w, &t, &rows, alter)?;
    let keys = t.key_columns();
    if upsert {
        keys_present(&keys, &rows)?;
    }
    let values = row_values(&rows)?;
    let count = values.len();
    let name = t.name.clone();
    let verb = if replace {
        "INSERT OR REPLACE"
    } else if ignore {
        "INSERT OR IGNORE"
    } else {
        "INSERT"
    };
    let returned =
        w.db.transact(w.limit(), w.visible.clone(), move |tx| {
            add_columns(tx, &name, &added)?;
            let mut keys_written = Vec::with_capacity(values.len());
            let mut inserter = Inserter::new(verb, &name);
            for row in &values {
                let key = if upsert {
                    upsert_row(tx, &name, &keys, row)?
                } else {
                    // A row ignored or replaced is found by the key it names (an ignored
                    // one without its key is not answered: the rowid would be another's).
                    let changed = inserter.insert(tx, row)?;
                    match (key_of(&keys, row), changed) {
                        (Some(values), _) => KeyOf::Values(values),
                        (None, 0) => continue,
                        (None, _) => KeyOf::Rowid(tx.last_insert_rowid()),
                    }
                };
                keys_written.push(key);
            }
            if returning {
                read_back(tx, &name, &keys, &keys_written)
            } else {
                Ok(None)
            }
        })
        .await?;
    w.record(if upsert { "upsert" } else { "insert" }, table, count);
    let mut body = json!({"ok": true});
    if let Some((columns, rows)) = returned {
        body["rows"] = rows_json(&columns, &rows).into();
    }
    let status = if upsert {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(answer(status, body))
}

/// Columns the rows name that the table lacks: refused, or (with `alter`, for who may alter
/// the table) to be added.
fn columns_to_add(
    w: &Write<'_>,
    t: &TableInfo,
    rows: &[Map<String, Value>],
    alter: bool,
) -> Result<Vec<(String, &'static str)>, ApiError> {
    let added = new_columns(t, rows);
    if added.is_empty() {
        return Ok(added);
    }
    if !alter {
        let names: Vec<&str> = added.iter().map(|(c, _)| c.as_str()).collect();
        return Err(ApiError::bad(format!(
            "Row {} has invalid columns: {}",
            first_row_naming(rows, &added),
            names.join(", ")
        )));
    }
    w.may(Action::AlterTable, Some(&t.name))?;
    Ok(added)
}

/// Refuses rows that do not name every key column (an upsert's).
fn keys_present(keys: &[String], rows: &[Map<String, Value>]) -> Result<(), ApiError> {
    for (i, row) in rows.iter().enumerate() {
        let missing: Vec<String> = keys
            .iter()
            .filter(|k| !row.contains_key(*k))
            .map(|k| format!("\"{k}\""))
            .collect();
        if !missing.is_empty() {
            return Err(ApiError::bad(format!(
                "Row {i} is missing primary key column(s): {}",
                missing.join(", ")
            )));
        }
    }
    Ok(())
}

/// The rows' values as SQLite stores them.
pub fn row_values(rows: &[Map<String, Value>]) -> Result<Vec<Vec<(String, Cell)>>, ApiError> {
    rows.iter()
        .map(|r| {
            r.iter()
                .map(|(k, v)| Ok((k.clone(), cell(v)?)))
                .collect::<Result<_, ApiError>>()
        })
        .collect()
}

/// `ALTER TABLE … ADD COLUMN` for each of `added`.
fn add_columns(tx: &mut Tx<'_>, table: &str, added: &[(String, &str)]) -> Result<(), DbError> {
    for (column, kind) in added {
        tx.execute(
            &format!(
                "ALTER TABLE {} ADD COLUMN {} {kind}",
                quote_ident(table),
                quote_ident(column)
            ),
            &[],
        )?;
    }
    Ok(())
}

/// How a written row is found again.
enum KeyOf {
    Rowid(i64),
    Values(Vec<Cell>),
}

/// The key values a row names, if it names them all.
fn key_of(keys: &[String], row: &[(String, Cell)]) -> Option<Vec<Cell>> {
    keys.iter()
        .map(|k| row.iter().find(|(c, _)| c == k).map(|(_, v)| v.clone()))
        .collect()
}

/// Inserts one row: the rows it changed (0 for one ignored).
pub fn insert_row(
    tx: &mut Tx<'_>,
    verb: &str,
    table: &str,
    row: &[(String, Cell)],
) -> Result<usize, DbError> {
    Inserter::new(verb, table).insert(tx, row)
}

/// Inserts rows into one table. A batch's rows mostly name the same columns, so the SQL is
/// written again only when a row's columns differ from the row's before.
pub struct Inserter<'a> {
    verb: &'a str,
    table: &'a str,
    columns: Option<Vec<String>>,
    sql: String,
}

impl<'a> Inserter<'a> {
    pub fn new(verb: &'a str, table: &'a str) -> Self {
        Inserter {
            verb,
            table,
            columns: None,
            sql: String::new(),
        }
    }

    /// Inserts one row: the rows it changed (0 for one ignored).
    pub fn insert(&mut self, tx: &mut Tx<'_>, row: &[(String, Cell)]) -> Result<usize, DbError> {
        let same = self.columns.as_ref().is_some_and(|columns| {
            columns.len() == row.len() && columns.iter().zip(row).all(|(c, (r, _))| c == r)
        });
        if !same {
            let columns: Vec<String> = row.iter().map(|(c, _)| c.clone()).collect();
            self.sql = insert_sql(self.verb, self.table, &columns);
            self.columns = Some(columns);
        }
        let params: Vec<Cell> = row.iter().map(|(_, v)| v.clone()).collect();
        tx.execute(&self.sql, &params)
    }
}

fn insert_sql(verb: &str, table: &str, columns: &[String]) -> String {
    if columns.is_empty() {
        return format!("{verb} INTO {} DEFAULT VALUES", quote_ident(table));
    }
    let names: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
    let marks = vec!["?"; columns.len()].join(", ");
    format!(
        "{verb} INTO {} ({}) VALUES ({marks})",
        quote_ident(table),
        names.join(", ")
    )
}

/// Updates the row with this row's key, or inserts it when there is none.
fn upsert_row(
    tx: &mut Tx<'_>,
    table: &str,
    keys: &[String],
    row: &[(String, Cell)],
) -> Result<KeyOf, DbError> {
    let key =
        key_of(keys, row).ok_or_else(|| DbError::Sql("a primary key column is missing".into()))?;
    let sets: Vec<&(String, Cell)> = row.iter().filter(|(c, _)| !keys.contains(c)).collect();
    if !sets.is_empty() {
        if update_row(tx, table, &sets, keys, &key)? > 0 {
            return Ok(KeyOf::Values(key));
        }
    } else {
        let sql = format!(
            "SELECT 1 FROM {} WHERE {}",
            quote_ident(table),
            key_condition(keys)
        );
        if !tx.query(&sql, &key)?.is_empty() {
            return Ok(KeyOf::Values(key));
        }
    }
    insert_row(tx, "INSERT", table, row)?;
    Ok(KeyOf::Values(key))
}

/// Sets `sets` in the row of `table` whose `keys` are `key`: the rows it changed.
fn update_row(
    tx: &mut Tx<'_>,
    table: &str,
    sets: &[&(String, Cell)],
    keys: &[String],
    key: &[Cell],
) -> Result<usize, DbError> {
    let assignments: Vec<String> = sets
        .iter()
        .map(|(c, _)| format!("{} = ?", quote_ident(c)))
        .collect();
    let mut params: Vec<Cell> = sets.iter().map(|(_, v)| v.clone()).collect();
    params.extend(key.iter().cloned());
    let sql = format!(
        "UPDATE {} SET {} WHERE {}",
        quote_ident(table),
        assignments.join(", "),
        key_condition(keys)
    );
    tx.execute(&sql, &params)
}

/// `k1 = ? AND k2 = ?` for the key columns.
fn key_condition(keys: &[String]) -> String {
    keys.iter()
        .map(|k| format!("{} = ?", quote_ident(k)))
        .collect::<Vec<_>>()
        .join(" AND ")
}

type Rows = Option<(Vec<String>, Vec<Vec<Cell>>)>;

/// The rows just written, read back whole.
fn read_back(
    tx: &mut Tx<'_>,
    table: &str,
    keys: &[String],
    written: &[KeyOf],
) -> Result<Rows, DbError> {
    let columns: Vec<String> = tx
        .query(
            // Generated columns too (table_xinfo), not a virtual table's hidden ones.
            "SELECT name FROM pragma_table_xinfo(?) WHERE hidden != 1 ORDER BY cid",
            &[Cell::Text(table.into())],
        )?
        .into_iter()
        .filter_map(|r| match r.into_iter().next() {
            Some(Cell::Text(name)) => Some(name),
            _ => None,
        })
        .collect();
    let list: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
    let mut rows = Vec::new();
    for key in written {
        let (condition, params) = match key {
            KeyOf::Rowid(id) => ("rowid = ?".to_string(), vec![Cell::Int(*id)]),
            KeyOf::Values(values) => (key_condition(keys), values.clone()),
        };
        let sql = format!(
            "SELECT {} FROM {} WHERE {condition}",
            list.join(", "),
            quote_ident(table)
        );
        rows.extend(tx.query(&sql, &params)?);
    }
    Ok(Some((columns, rows)))
}

/// `POST /DB/TABLE/PK/-/update` and `-/delete`.
pub async fn change_row(
    w: &Write<'_>,
    table: &str,
    key: &str,
    op: WriteOp,
) -> Result<Answer, ApiError> {
    let t = w.table(table)?.clone();
    let keys = t.key_columns();
    let key_text = crate::views::row::key_values(key, keys.len())?;
    let not_found = format!(
        "Record not found: [{}]",
        key_text
            .iter()
            .map(|k| format!("'{}'", k.replace('\'', "\\'")))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let key: Vec<Cell> = key_text
        .into_iter()
        .map(crate::db::next_token::typed)
        .collect();
    let name = t.name.clone();
    if op == WriteOp::Delete {
        w.only_keys(&[])?;
        w.may(Action::DeleteRow, Some(table))?;
        let sql = format!(
            "DELETE FROM {} WHERE {}",
            quote_ident(&name),
            key_condition(&keys)
        );
        let changed =
            w.db.transact(w.limit(), w.visible.clone(), move |tx| {
                tx.execute(&sql, &key)
            })
            .await?;
        return finish_row(w, table, "delete", changed, None, &not_found);
    }
    w.only_keys(&["update", "return", "alter"])?;
    let Some(Value::Object(update)) = w.body.get("update") else {
        return Err(ApiError::bad("\"update\" must be a dictionary"));
    };
    if update.is_empty() {
        return Err(ApiError::bad("\"update\" must name at least one column"));
    }
    w.may(Action::UpdateRow, Some(table))?;
    let added = columns_to_add(w, &t, std::slice::from_ref(update), w.flag("alter")?)?;
    let returning = w.may_return(table, w.flag("return")?)? && w.flag("return")?;
    let sets: Vec<(String, Cell)> = update
        .iter()
        .map(|(k, v)| Ok((k.clone(), cell(v)?)))
        .collect::<Result<_, ApiError>>()?;
    let (changed, returned) =
        w.db.transact(w.limit(), w.visible.clone(), move |tx| {
            add_columns(tx, &name, &added)?;
            let sets: Vec<&(String, Cell)> = sets.iter().collect();
            let changed = update_row(tx, &name, &sets, &keys, &key)?;
            let returned = if returning && changed > 0 {
                read_back(tx, &name, &keys, &[KeyOf::Values(key)])?
            } else {
                None
            };
            Ok((changed, returned))
        })
        .await?;
    finish_row(w, table, "update", changed, returned, &not_found)
}

fn finish_row(
    w: &Write<'_>,
    table: &str,
    op: &str,
    changed: usize,
    returned: Rows,
    not_found: &str,
) -> Result<Answer, ApiError> {
    if changed == 0 {
        return Err(ApiError::new(StatusCode::NOT_FOUND, not_found));
    }
    w.record(op, table, changed);
    let mut body = json!({"ok": true});
    if let Some((columns, rows)) = returned {
        body["rows"] = rows_json(&columns, &rows).into();
    }
    Ok(answer(StatusCode::OK, body))
}
