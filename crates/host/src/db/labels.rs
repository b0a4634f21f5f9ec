//! Labels of the rows that foreign keys point to: what the HTML table shows beside a key.

use std::collections::{HashMap, HashSet};

use super::table_query::ident;
use super::{Cell, Conn, ForeignKey};

/// One key column of the page whose values to label.
#[derive(Clone)]
pub struct Lookup {
    pub key: ForeignKey,
    /// The column of the other table that names its rows; without one, a value is its own
    /// label (as Datasette labels it).
    pub label: Option<String>,
    /// Where the key's values are in each row.
    pub index: usize,
}

/// Looks up the label of each foreign key value on the page. A lookup that fails leaves the
/// plain value: labels are a convenience.
pub fn fetch(
    c: &Conn,
    lookups: &[Lookup],
    rows: &[Vec<Cell>],
) -> HashMap<(String, String), String> {
    let mut out = HashMap::new();
    for Lookup {
        key: fk,
        label,
        index: i,
    } in lookups
    {
        let values: HashSet<String> = rows
            .iter()
            .filter_map(|r| r.get(*i))
            .filter(|v| !v.is_null())
            .map(Cell::to_plain_string)
            .collect();
        if values.is_empty() {
            continue;
        }
        let Some(label) = label else {
            out.extend(
                values
                    .into_iter()
                    .map(|v| ((fk.column.clone(), v.clone()), v)),
            );
            continue;
        };
        let params: Vec<(String, Cell)> = values
            .iter()
            .enumerate()
            .map(|(n, v)| (format!("l{n}"), Cell::Text(v.clone())))
            .collect();
        let sql = format!(
            "select {}, {} from {} where {} in ({})",
            ident(&fk.other_column),
            ident(label),
            ident(&fk.other_table),
            ident(&fk.other_column),
            params
                .iter()
                .map(|(k, _)| format!(":{k}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if let Ok(r) = super::select(c, &sql, &params, values.len() * 2, false) {
            for row in r.rows {
                if let [k, l] = row.as_slice() {
                    if !l.is_null() {
                        out.insert(
                            (fk.column.clone(), k.to_plain_string()),
                            l.to_plain_string(),
                        );
                    }
                }
            }
        }
    }
    out
}
