//! One SQLite value, as it leaves the database.

use base64::Engine;
use rusqlite::types::ValueRef;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<ValueRef<'_>> for Cell {
    fn from(v: ValueRef<'_>) -> Cell {
        match v {
            ValueRef::Null => Cell::Null,
            ValueRef::Integer(i) => Cell::Int(i),
            ValueRef::Real(f) => Cell::Real(f),
            // SQLite text that is not UTF-8 is shown with replacement characters.
            ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => Cell::Blob(b.to_vec()),
        }
    }
}

impl Cell {
    /// The value as Datasette prints it in CSV, `_next` tokens and `_shape=object` keys.
    pub fn to_plain_string(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::Int(i) => i.to_string(),
            Cell::Real(f) => format_real(*f),
            Cell::Text(s) => s.clone(),
            Cell::Blob(b) => base64::engine::general_purpose::STANDARD.encode(b),
        }
    }

    /// A JSON value (a plugin's function answer, a plugin's query parameter) as an SQL
    /// value: `null` NULL, a boolean 0 or 1, numbers and strings as they are, anything else as
    /// its JSON text.
    pub fn from_json(v: &serde_json::Value) -> Cell {
        use serde_json::Value;
        match v {
            Value::Null => Cell::Null,
            Value::Bool(b) => Cell::Int((*b).into()),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Cell::Int(i),
                None => Cell::Real(n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::String(s) => Cell::Text(s.clone()),
            other => Cell::Text(other.to_string()),
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Cell::Null)
    }
}

/// Python's `repr(float)`: shortest round-trip digits, always with a decimal point.
pub fn format_real(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    format!("{f:?}")
}

impl Serialize for Cell {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Cell::Null => s.serialize_unit(),
            Cell::Int(i) => s.serialize_i64(*i),
            // JSON has no NaN or infinity; null is what strict JSON parsers accept.
            Cell::Real(f) if !f.is_finite() => s.serialize_unit(),
            Cell::Real(f) => s.serialize_f64(*f),
            Cell::Text(t) => s.serialize_str(t),
            Cell::Blob(b) => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("$base64", &true)?;
                m.serialize_entry(
                    "encoded",
                    &base64::engine::general_purpose::STANDARD.encode(b),
                )?;
                m.end()
            }
        }
    }
}

impl rusqlite::ToSql for Cell {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef as V};
        Ok(ToSqlOutput::Borrowed(match self {
            Cell::Null => V::Null,
            Cell::Int(i) => V::Integer(*i),
            Cell::Real(f) => V::Real(*f),
            Cell::Text(t) => V::Text(t.as_bytes()),
            Cell::Blob(b) => V::Blob(b),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reals_print_like_python() {
        assert_eq!(format_real(959.1), "959.1");
        assert_eq!(format_real(1.0), "1.0");
        assert_eq!(format_real(-0.5), "-0.5");
    }

    #[test]
    fn json_encoding() {
        let row = vec![
            Cell::Null,
            Cell::Int(3),
            Cell::Real(2.5),
            Cell::Text("ü".into()),
            Cell::Blob(vec![0, 1, 2]),
            Cell::Real(f64::INFINITY),
        ];
        assert_eq!(
            serde_json::to_string(&row).unwrap(),
            r#"[null,3,2.5,"ü",{"$base64":true,"encoded":"AAEC"},null]"#
        );
    }
}
