//! JSON, with Datasette's `_shape` and `_nl` options.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use std::collections::HashMap;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use super::budget::Capped;
use super::RenderError;
use crate::db::Cell;

pub const CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// `body` as JSON, written under the answer limit (see [`super::budget`]).
pub fn response<T: Serialize + ?Sized>(
    status: StatusCode,
    body: &T,
) -> Result<HttpResponse, RenderError> {
    Ok(HttpResponse::build(status)
        .content_type(CONTENT_TYPE)
        .body(to_vec(body)?))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shape {
    #[default]
    Arrays,
    Objects,
    Array,
    ArrayFirst,
    Object,
}

impl Shape {
    pub fn parse(s: Option<&str>) -> Result<Shape, RenderError> {
        Ok(match s {
            None | Some("arrays") => Shape::Arrays,
            Some("objects") => Shape::Objects,
            Some("array") => Shape::Array,
            Some("arrayfirst") => Shape::ArrayFirst,
            Some("object") => Shape::Object,
            Some(other) => {
                return Err(RenderError::Unsupported(format!("Invalid _shape: {other}")))
            }
        })
    }
}

/// Compact JSON, as `serde_json::to_vec`, but for cells written as `_json_infinity` asks, and
/// refused once it grows past the answer limit (escapes counted as written).
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, RenderError> {
    let mut out = Capped::with_capacity(256);
    let written = value.serialize(&mut serde_json::Serializer::with_formatter(
        &mut out,
        NonFiniteFormatter,
    ));
    out.finish_after(written.map_err(|e| format!("cannot encode JSON: {e}")))
}

/// serde_json writes every non-finite float as `null` before a formatter sees it, so a cell
/// that `_json_infinity` wants as written is handed over as one of these 128-bit integers
/// (no cell is otherwise one), which [`NonFiniteFormatter`] writes as JavaScript does.
const NON_FINITE: [(i128, &[u8]); 3] = [
    (i128::MAX, b"Infinity"),
    (i128::MIN, b"-Infinity"),
    (i128::MAX - 1, b"NaN"),
];

struct NonFiniteFormatter;

impl serde_json::ser::Formatter for NonFiniteFormatter {
    fn write_i128<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        value: i128,
    ) -> std::io::Result<()> {
        match NON_FINITE.iter().find(|(marker, _)| *marker == value) {
            Some((_, text)) => writer.write_all(text),
            None => serde_json::ser::CompactFormatter.write_i128(writer, value),
        }
    }
}

/// A non-finite float as `_json_infinity` writes it (see [`NON_FINITE`]).
struct NonFinite(f64);

impl Serialize for NonFinite {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let f = self.0;
        let marker = match f {
            _ if f.is_nan() => NON_FINITE[2].0,
            _ if f > 0.0 => NON_FINITE[0].0,
            _ => NON_FINITE[1].0,
        };
        s.serialize_i128(marker)
    }
}

/// Result rows as JSON: arrays, or objects keyed by column.
#[derive(Debug, Clone, Default)]
pub struct JsonRows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    pub as_objects: bool,
    /// Cells written otherwise than as their plain values (`_labels`, `_json`).
    pub forms: CellForms,
}

/// How some cells are written: Datasette's `_labels` (a foreign key value with the label of
/// the row it points to, `{"value": …, "label": …}`) and `_json=COLUMN` (text that is JSON,
/// written as the JSON it holds).
#[derive(Debug, Clone, Default)]
pub struct CellForms {
    /// Position of each labelled column → (value as text → label).
    pub by_column: HashMap<usize, HashMap<String, String>>,
    /// Positions of the columns whose text is decoded as JSON.
    pub json_columns: Vec<usize>,
    /// Datasette's `_json_infinity`: infinities and NaN written as `Infinity`, `-Infinity`
    /// and `NaN`, which JavaScript reads but JSON does not have; otherwise they are null.
    pub non_finite: bool,
}

impl CellForms {
    /// A value with its label, where the column is labelled and a label was found; decoded,
    /// where the column is JSON and its text parses.
    fn cell<'a>(&'a self, i: usize, value: &'a Cell) -> JsonCell<'a> {
        if let (true, Cell::Real(f)) = (self.non_finite, value) {
            if !f.is_finite() {
                return JsonCell::NonFinite(NonFinite(*f));
            }
        }
        if let (true, Cell::Text(text)) = (self.json_columns.contains(&i), value) {
            if let Ok(decoded) = serde_json::from_str(text) {
                return JsonCell::Decoded(decoded);
            }
        }
        match self.label(i, value) {
            Some(label) => JsonCell::Labelled { value, label },
            None => JsonCell::Plain(value),
        }
    }

    /// The label found for `value` in column `i`, where that column is labelled.
    pub fn label(&self, i: usize, value: &Cell) -> Option<&str> {
        match self.by_column.get(&i) {
            Some(found) if !value.is_null() => {
                found.get(&value.to_plain_string()).map(String::as_str)
            }
            _ => None,
        }
    }
}

#[derive(Serialize)]
#[serde(untagged)]
enum JsonCell<'a> {
    Plain(&'a Cell),
    NonFinite(NonFinite),
    Decoded(serde_json::Value),
    Labelled { value: &'a Cell, label: &'a str },
}

/// A row as a JSON object keyed by its columns.
pub struct RowObject<'a> {
    pub columns: &'a [String],
    pub row: &'a [Cell],
    pub forms: &'a CellForms,
}

impl Serialize for RowObject<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.columns.len()))?;
        for (i, (c, v)) in self.columns.iter().zip(self.row).enumerate() {
            m.serialize_entry(c, &self.forms.cell(i, v))?;
        }
        m.end()
    }
}

/// A row as a JSON array.
struct RowArray<'a> {
    row: &'a [Cell],
    forms: &'a CellForms,
}

impl Serialize for RowArray<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.row.len()))?;
        for (i, v) in self.row.iter().enumerate() {
            seq.serialize_element(&self.forms.cell(i, v))?;
        }
        seq.end()
    }
}

impl JsonRows {
    fn objects(&self) -> impl Iterator<Item = RowObject<'_>> {
        self.rows.iter().map(|row| RowObject {
            columns: &self.columns,
            row,
            forms: &self.forms,
        })
    }
}

impl Serialize for JsonRows {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let forms = &self.forms;
        if !self.as_objects
            && forms.by_column.is_empty()
            && forms.json_columns.is_empty()
            && !forms.non_finite
        {
            return self.rows.serialize(s);
        }
        let mut seq = s.serialize_seq(Some(self.rows.len()))?;
        if self.as_objects {
            for o in self.objects() {
                seq.serialize_element(&o)?;
            }
        } else {
            for row in &self.rows {
                seq.serialize_element(&RowArray {
                    row,
                    forms: &self.forms,
                })?;
            }
        }
        seq.end()
    }
}

/// The rows of a page under one of the bare shapes (`array`, `arrayfirst`, `object`).
/// `keys` are the positions of the key columns, for `object`.
pub fn bare_shape(
    shape: Shape,
    nl: bool,
    rows: &JsonRows,
    keys: Option<&[usize]>,
) -> Result<HttpResponse, RenderError> {
    let objects = || rows.objects();
    let bytes = match shape {
        Shape::Array if nl => {
            // Newline-delimited JSON, one object a line, as Datasette serves it.
            let mut out = Capped::default();
            for (i, o) in objects().enumerate() {
                if i > 0 {
                    std::io::Write::write_all(&mut out, b"\n").ok();
                }
                std::io::Write::write_all(&mut out, &to_vec(&o)?).ok();
            }
            return Ok(HttpResponse::Ok()
                .content_type("text/plain")
                .body(out.finish()?));
        }
        Shape::Array => to_vec(&objects().collect::<Vec<_>>()),
        Shape::ArrayFirst => to_vec(
            &rows
                .rows
                .iter()
                .filter_map(|r| r.first().map(|c| rows.forms.cell(0, c)))
                .collect::<Vec<_>>(),
        ),
        Shape::Object => {
            let keys = keys.ok_or_else(|| {
                RenderError::Unsupported("_shape=object is only available on tables".into())
            })?;
            // Each row by its path segment, as Datasette keys it: each key tilde-encoded.
            let keyed: Vec<_> = rows
                .rows
                .iter()
                .zip(objects())
                .map(|(row, object)| {
                    let key = keys
                        .iter()
                        .map(|&i| row.get(i).map(Cell::to_plain_string).unwrap_or_default())
                        .map(|k| crate::urls::tilde_encode(&k))
                        .collect::<Vec<_>>()
                        .join(",");
                    (key, object)
                })
                .collect();
            to_vec(&Keyed(keyed))
        }
        Shape::Arrays | Shape::Objects => {
            return Err(RenderError::Encoding("not a bare shape".into()));
        }
    }?;
    Ok(HttpResponse::Ok().content_type(CONTENT_TYPE).body(bytes))
}

/// Rows written as one JSON object, each under its key, in their order.
struct Keyed<'a>(Vec<(String, RowObject<'a>)>);

impl Serialize for Keyed<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

/// Rows as JSON values, cell by cell, as plugins receive them.
pub fn rows_as_values(rows: &[Vec<Cell>]) -> Vec<Vec<serde_json::Value>> {
    let value = |c: &Cell| serde_json::to_value(c).unwrap_or_default();
    rows.iter().map(|r| r.iter().map(value).collect()).collect()
}
