//! Column filters: `col=v` and `col__OP=v`, with Datasette's operators.

use super::{quote_ident, Cell, TableInfo};

/// One operator: how it reads in a URL, in SQL and in English.
pub struct Op {
    pub key: &'static str,
    /// English, shown in the filter form.
    pub label: &'static str,
    /// `{c}` is the quoted column, `{p}` the parameter.
    sql: &'static str,
    /// `{c}` the column name, `{v}` the value.
    human: &'static str,
    /// Takes no value (`isnull` and the like).
    pub no_arg: bool,
    /// Compares as a number when the value looks like one.
    numeric: bool,
    /// Wraps the value for LIKE.
    like: Like,
    /// `in`/`notin`: the value is a list.
    list: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Like {
    No,
    Contains,
    Starts,
    Ends,
}

const fn op(key: &'static str, label: &'static str, sql: &'static str, human: &'static str) -> Op {
    Op {
        key,
        label,
        sql,
        human,
        no_arg: false,
        numeric: false,
        like: Like::No,
        list: false,
    }
}

pub static OPS: &[Op] = &[
    op("exact", "=", "{c} = :{p}", "{c} = {v}"),
    op("not", "!=", "{c} != :{p}", "{c} != {v}"),
    Op {
        like: Like::Contains,
        ..op(
            "contains",
            "contains",
            "{c} like :{p}",
            "{c} contains \"{v}\"",
        )
    },
    Op {
        like: Like::Ends,
        ..op(
            "endswith",
            "ends with",
            "{c} like :{p}",
            "{c} ends with \"{v}\"",
        )
    },
    Op {
        like: Like::Starts,
        ..op(
            "startswith",
            "starts with",
            "{c} like :{p}",
            "{c} starts with \"{v}\"",
        )
    },
    Op {
        numeric: true,
        ..op("gt", ">", "{c} > :{p}", "{c} > {v}")
    },
    Op {
        numeric: true,
        ..op("gte", "\u{2265}", "{c} >= :{p}", "{c} \u{2265} {v}")
    },
    Op {
        numeric: true,
        ..op("lt", "<", "{c} < :{p}", "{c} < {v}")
    },
    Op {
        numeric: true,
        ..op("lte", "\u{2264}", "{c} <= :{p}", "{c} \u{2264} {v}")
    },
    op("like", "like", "{c} like :{p}", "{c} like \"{v}\""),
    op(
        "notlike",
        "not like",
        "{c} not like :{p}",
        "{c} not like \"{v}\"",
    ),
    op("glob", "glob", "{c} glob :{p}", "{c} glob \"{v}\""),
    Op {
        list: true,
        ..op("in", "in", "{c} in ({p})", "{c} in {v}")
    },
    Op {
        list: true,
        ..op("notin", "not in", "{c} not in ({p})", "{c} not in {v}")
    },
    op(
        "arraycontains",
        "array contains",
        ":{p} in (select value from json_each({c}))",
        "{c} contains \"{v}\"",
    ),
    op(
        "arraynotcontains",
        "array does not contain",
        ":{p} not in (select value from json_each({c}))",
        "{c} does not contain \"{v}\"",
    ),
    op("date", "date", "date({c}) = :{p}", "\"{c}\" is on date {v}"),
    Op {
        no_arg: true,
        ..op("isnull", "is null", "{c} is null", "{c} is null")
    },
    Op {
        no_arg: true,
        ..op(
            "notnull",
            "is not null",
            "{c} is not null",
            "{c} is not null",
        )
    },
    Op {
        no_arg: true,
        ..op(
            "isblank",
            "is blank",
            "({c} is null or {c} = '')",
            "{c} is blank",
        )
    },
    Op {
        no_arg: true,
        ..op(
            "notblank",
            "is not blank",
            "({c} is not null and {c} != '')",
            "{c} is not blank",
        )
    },
];

pub fn find_op(key: &str) -> Option<&'static Op> {
    OPS.iter().find(|o| o.key == key)
}

#[derive(Clone)]
pub struct Filter {
    pub column: String,
    pub op: &'static Op,
    pub value: String,
    /// The value in the column's unit (`75km` for a column in metres: 75000), bound instead of
    /// `value` (see [`with_units`]).
    pub in_unit: Option<f64>,
}

impl std::fmt::Debug for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}__{}={:?}", self.column, self.op.key, self.value)
    }
}

/// Reads the filters among a table page's arguments. Arguments starting with `_` are the
/// page's own and are skipped, unless they name an operator (`_city_id__exact=1`: a column
/// starting with `_`), as Datasette reads them. A column that does not exist, or an unknown
/// operator, is an error that says which.
pub fn parse(args: &[(String, String)], table: &TableInfo) -> Result<Vec<Filter>, String> {
    let mut out = Vec::new();
    for (key, value) in args {
        if key.starts_with('_') && !key.contains("__") {
            continue;
        }
        let (column, op) = match key.rsplit_once("__") {
            // A column whose own name contains `__` wins over an operator.
            _ if table.has_column(key) => (key.as_str(), &OPS[0]),
            Some((col, op_key)) => match find_op(op_key) {
                Some(op) => (col, op),
                None => {
                    return Err(if table.has_column(col) {
                        format!(
                            "Unknown filter operator '{op_key}' in '{key}'; known operators: {}",
                            OPS.iter().map(|o| o.key).collect::<Vec<_>>().join(", ")
                        )
                    } else {
                        format!("Cannot filter on '{key}': no such column")
                    });
                }
            },
            None => (key.as_str(), &OPS[0]),
        };
        if !table.has_column(column) {
            return Err(format!("Cannot filter on '{column}': no such column"));
        }
        out.push(Filter {
            column: column.to_string(),
            op,
            value: value.clone(),
            in_unit: None,
        });
    }
    Ok(out)
}

/// Converts the values of comparisons (`=`, `!=`, `>`, …) on columns with a unit in metadata
/// to that unit: `distance__lt=75km` compares with 75000 when distances are in metres.
pub fn with_units(
    mut filters: Vec<Filter>,
    units: &indexmap::IndexMap<String, String>,
) -> Result<Vec<Filter>, String> {
    for f in &mut filters {
        let Some(unit) = units.get(&f.column) else {
            continue;
        };
        if f.op.no_arg || f.op.list || f.op.like != Like::No || f.value.trim().is_empty() {
            continue;
        }
        f.in_unit = super::units::convert(&f.value, unit)
            .map_err(|e| format!("Cannot filter {} by {}: {e}", f.column, f.value))?;
    }
    Ok(filters)
}

/// A value as it is bound: numbers as numbers for numeric operators.
fn bind_value(op: &Op, v: &str) -> Cell {
    if op.numeric {
        if let Ok(i) = v.trim().parse::<i64>() {
            return Cell::Int(i);
        }
        if let Ok(f) = v.trim().parse::<f64>() {
            if f.is_finite() {
                return Cell::Real(f);
            }
        }
    }
    Cell::Text(match op.like {
        Like::No => v.to_string(),
        Like::Contains => format!("%{v}%"),
        Like::Starts => format!("{v}%"),
        Like::Ends => format!("%{v}"),
    })
}

/// The values of an `in` filter: a JSON array, or comma-separated.
fn list_values(v: &str) -> Vec<String> {
    if v.trim_start().starts_with('[') {
        if let Ok(serde_json::Value::Array(items)) = serde_json::from_str(v) {
            return items
                .into_iter()
                .map(|i| match i {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                })
                .collect();
        }
    }
    v.split(',').map(str::to_string).collect()
}

impl Filter {
    /// The SQL condition, adding its values to `params` as `p0`, `p1`, ….
    pub fn to_sql(&self, params: &mut Vec<(String, Cell)>) -> String {
        let c = quote_ident(&self.column);
        if self.op.no_arg {
            return self.op.sql.replace("{c}", &c);
        }
        let p = if self.op.list {
            list_values(&self.value)
                .into_iter()
                .map(|v| {
                    let name = format!("p{}", params.len());
                    params.push((name.clone(), Cell::Text(v)));
                    format!(":{name}")
                })
                .collect::<Vec<_>>()
                .join(", ")
        } else {
            let name = format!("p{}", params.len());
            let value = match self.in_unit {
                Some(v) => Cell::Real(v),
                None => bind_value(self.op, &self.value),
            };
            params.push((name.clone(), value));
            name
        };
        self.op.sql.replace("{c}", &c).replace("{p}", &p)
    }

    pub fn human(&self) -> String {
        let v = if self.op.list {
            format!("{:?}", list_values(&self.value))
        } else {
            self.value.clone()
        };
        self.op
            .human
            .replace("{c}", &self.column)
            .replace("{v}", &v)
    }

    /// The URL argument that expresses this filter.
    pub fn arg(&self) -> (String, String) {
        (
            format!("{}__{}", self.column, self.op.key),
            self.value.clone(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> TableInfo {
        TableInfo {
            name: "t".into(),
            columns: vec!["a".into(), "b".into(), "odd__name".into(), "_c".into()],
            ..Default::default()
        }
    }

    fn args(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_operators() {
        let f = parse(
            &args(&[
                ("a", "1"),
                ("b__gt", "2"),
                ("_size", "3"),
                ("odd__name", "x"),
            ]),
            &table(),
        )
        .unwrap();
        assert_eq!(
            format!("{f:?}"),
            r#"[a__exact="1", b__gt="2", odd__name__exact="x"]"#
        );
        let mut params = vec![];
        assert_eq!(f[1].to_sql(&mut params), "\"b\" > :p0");
        assert_eq!(params[0].1, Cell::Int(2));
    }

    #[test]
    fn columns_starting_with_an_underscore_filter_with_an_operator() {
        let f = parse(
            &args(&[("_c__exact", "1"), ("_c", "2"), ("_size", "3")]),
            &table(),
        )
        .unwrap();
        assert_eq!(
            format!("{f:?}"),
            r#"[_c__exact="1"]"#,
            "bare `_c` is an option"
        );
    }

    #[test]
    fn errors_say_what_was_wrong() {
        let e = parse(&args(&[("a__nope", "1")]), &table()).unwrap_err();
        assert!(e.contains("Unknown filter operator 'nope'"), "{e}");
        let e = parse(&args(&[("zz__gt", "1")]), &table()).unwrap_err();
        assert!(e.contains("no such column"), "{e}");
        let e = parse(&args(&[("zz", "1")]), &table()).unwrap_err();
        assert!(e.contains("'zz'"), "{e}");
    }

    #[test]
    fn in_takes_lists() {
        let f = parse(&args(&[("a__in", "1,2,3")]), &table()).unwrap();
        let mut params = vec![];
        assert_eq!(f[0].to_sql(&mut params), "\"a\" in (:p0, :p1, :p2)");
        let f = parse(&args(&[("a__in", "[\"x,y\", 2]")]), &table()).unwrap();
        let mut params = vec![];
        f[0].to_sql(&mut params);
        assert_eq!(params[0].1, Cell::Text("x,y".into()));
        assert_eq!(params[1].1, Cell::Text("2".into()));
    }
}
