//! `_next` tokens in Datasette's format: tilde-encoded key values joined by commas, the sort
//! value first when sorted, `$null` for NULL. Views page by offset: the token is a number.

use crate::urls::{tilde_decode, tilde_encode};

use super::Cell;

const NULL: &str = "$null";

/// A decoded keyset token.
#[derive(Debug, Clone, PartialEq)]
pub struct Keyset {
    /// `Some(None)` is a NULL sort value; `None` when the page is not sorted.
    pub sort_value: Option<Option<Cell>>,
    pub keys: Vec<Cell>,
}

impl Keyset {
    /// Where the page after the one whose last row is `last` starts, its sort value and keys
    /// at those positions of the row: the values themselves, not read back from a token.
    pub fn after(last: &[Cell], sort_index: Option<usize>, key_indexes: &[usize]) -> Keyset {
        Keyset {
            sort_value: sort_index.map(|i| Some(last[i].clone()).filter(|c| !c.is_null())),
            keys: key_indexes.iter().map(|&i| last[i].clone()).collect(),
        }
    }
}

fn encode_part(c: &Cell) -> String {
    match c {
        Cell::Null => NULL.into(),
        other => tilde_encode(&other.to_plain_string()),
    }
}

pub fn encode(sort_value: Option<&Cell>, keys: &[Cell]) -> String {
    sort_value
        .into_iter()
        .chain(keys.iter())
        .map(encode_part)
        .collect::<Vec<_>>()
        .join(",")
}

/// A token part as it is bound: a canonical integer or real compares as a number, so that
/// columns without a declared type page correctly; anything else as text.
pub fn typed(s: String) -> Cell {
    if let Ok(i) = s.parse::<i64>() {
        if i.to_string() == s {
            return Cell::Int(i);
        }
    }
    if let Ok(f) = s.parse::<f64>() {
        if f.is_finite() && super::value::format_real(f) == s {
            return Cell::Real(f);
        }
    }
    Cell::Text(s)
}

/// Reads a token for a table keyed by `key_count` columns.
pub fn decode(token: &str, key_count: usize, sorted: bool) -> Result<Keyset, String> {
    let bad = || {
        format!(
            "Invalid _next token '{token}': expected {} comma-separated value(s)",
            key_count + sorted as usize
        )
    };
    let parts: Vec<&str> = token.split(',').collect();
    if parts.len() != key_count + sorted as usize {
        return Err(bad());
    }
    let mut cells = Vec::with_capacity(parts.len());
    for p in parts {
        if p == NULL {
            cells.push(Cell::Null);
        } else {
            let s = tilde_decode(p)
                .ok_or_else(|| format!("Invalid _next token '{token}': not UTF-8"))?;
            cells.push(typed(s));
        }
    }
    let sort_value = if sorted {
        let v = cells.remove(0);
        Some(if v.is_null() { None } else { Some(v) })
    } else {
        None
    };
    if cells.iter().any(Cell::is_null) {
        return Err(format!(
            "Invalid _next token '{token}': a key value cannot be $null"
        ));
    }
    Ok(Keyset {
        sort_value,
        keys: cells,
    })
}

/// The largest offset a token may hold: SQLite takes offsets as signed 64-bit integers, and
/// the next page's offset must still fit.
const MAX_OFFSET: u64 = (i64::MAX as u64) / 2;

/// An offset token, for views and SQL without keys.
pub fn decode_offset(token: &str) -> Result<u64, String> {
    token
        .parse::<u64>()
        .ok()
        .filter(|n| *n <= MAX_OFFSET)
        .ok_or_else(|| format!("Invalid _next token '{token}': expected a row offset"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn matches_datasette() {
        assert_eq!(
            encode(
                None,
                &[Cell::Int(1), Cell::Text("2024-01-02T12:00:00".into())]
            ),
            "1,2024-01-02T12~3A00~3A00"
        );
        assert_eq!(
            encode(Some(&Cell::Int(4981425)), &[Cell::Int(305)]),
            "4981425,305"
        );
        assert_eq!(encode(Some(&Cell::Null), &[Cell::Int(3)]), "$null,3");
        let k = decode("4981425,305", 1, true).unwrap();
        assert_eq!(k.sort_value, Some(Some(Cell::Int(4981425))));
        assert_eq!(k.keys, vec![Cell::Int(305)]);
        assert_eq!(decode("$null,3", 1, true).unwrap().sort_value, Some(None));
        assert_eq!(
            decode("007", 1, false).unwrap().keys,
            vec![Cell::Text("007".into())]
        );
    }

    #[test]
    fn rejects_garbage() {
        assert!(decode("1,2", 1, false).is_err());
        assert!(decode("", 2, false).is_err());
        assert!(decode("$null", 1, false).is_err());
        assert!(decode("~FF", 1, false).is_err());
        assert!(decode_offset("-1").is_err());
        assert!(decode_offset("18446744073709551615").is_err());
        assert!(decode_offset("4611686018427387903").is_ok());
    }

    proptest! {
        #[test]
        fn round_trips(keys in proptest::collection::vec(any::<String>(), 1..4), sort in proptest::option::of(any::<i64>())) {
            let cells: Vec<Cell> = keys.iter().map(|k| typed(k.clone())).collect();
            let sort_cell = sort.map(Cell::Int);
            let token = encode(sort_cell.as_ref(), &cells);
            let back = decode(&token, cells.len(), sort.is_some());
            let back = back.unwrap();
            prop_assert_eq!(back.keys, cells);
            prop_assert_eq!(back.sort_value, sort_cell.map(Some));
        }

        #[test]
        fn never_panics(s in any::<String>(), n in 0usize..4, sorted in any::<bool>()) {
            let _ = decode(&s, n, sorted);
            let _ = decode_offset(&s);
        }
    }
}
