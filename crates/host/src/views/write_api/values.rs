//! JSON values as SQLite stores them, and the column types they imply.

use base64::Engine;
use serde_json::Value;

use super::ApiError;
use crate::db::Cell;

/// A JSON value as SQLite stores it: Datasette's `{"$base64": true, "encoded": …}` is a BLOB,
/// other objects and arrays are stored as their JSON text.
pub fn cell(v: &Value) -> Result<Cell, ApiError> {
    if let Value::Object(m) = v {
        if m.get("$base64") == Some(&Value::Bool(true)) {
            let encoded = m.get("encoded").and_then(Value::as_str).unwrap_or_default();
            return base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map(Cell::Blob)
                .map_err(|_| ApiError::bad("Invalid base64 in a $base64 value"));
        }
    }
    Ok(Cell::from_json(v))
}

/// The column type Datasette infers from an example value.
pub fn column_type(v: &Value) -> &'static str {
    match v {
        Value::Number(n) if n.is_i64() || n.is_u64() => "INTEGER",
        Value::Number(_) => "REAL",
        Value::Bool(_) => "INTEGER",
        Value::Object(m) if m.get("$base64") == Some(&Value::Bool(true)) => "BLOB",
        _ => "TEXT",
    }
}
