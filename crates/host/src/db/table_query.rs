//! The SQL behind a table page: columns, filters, search, sort and keyset pagination.

use super::filters::Filter;
use super::next_token::Keyset;
use super::{Cell, TableInfo};

/// SQLite's keywords: names among them are quoted even when they look plain.
const KEYWORDS: &[&str] = &[
    "abort",
    "action",
    "add",
    "after",
    "all",
    "alter",
    "always",
    "analyze",
    "and",
    "as",
    "asc",
    "attach",
    "autoincrement",
    "before",
    "begin",
    "between",
    "by",
    "cascade",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "commit",
    "conflict",
    "constraint",
    "create",
    "cross",
    "current",
    "current_date",
    "current_time",
    "current_timestamp",
    "database",
    "default",
    "deferrable",
    "deferred",
    "delete",
    "desc",
    "detach",
    "distinct",
    "do",
    "drop",
    "each",
    "else",
    "end",
    "escape",
    "except",
    "exclude",
    "exclusive",
    "exists",
    "explain",
    "fail",
    "filter",
    "first",
    "following",
    "for",
    "foreign",
    "from",
    "full",
    "generated",
    "glob",
    "group",
    "groups",
    "having",
    "if",
    "ignore",
    "immediate",
    "in",
    "index",
    "indexed",
    "initially",
    "inner",
    "insert",
    "instead",
    "intersect",
    "into",
    "is",
    "isnull",
    "join",
    "key",
    "last",
    "left",
    "like",
    "limit",
    "match",
    "materialized",
    "natural",
    "no",
    "not",
    "nothing",
    "notnull",
    "null",
    "nulls",
    "of",
    "offset",
    "on",
    "or",
    "order",
    "others",
    "outer",
    "over",
    "partition",
    "plan",
    "pragma",
    "preceding",
    "primary",
    "query",
    "raise",
    "range",
    "recursive",
    "references",
    "regexp",
    "reindex",
    "release",
    "rename",
    "replace",
    "restrict",
    "returning",
    "right",
    "rollback",
    "row",
    "rows",
    "savepoint",
    "select",
    "set",
    "table",
    "temp",
    "temporary",
    "then",
    "ties",
    "to",
    "transaction",
    "trigger",
    "unbounded",
    "union",
    "unique",
    "update",
    "using",
    "vacuum",
    "values",
    "view",
    "virtual",
    "when",
    "where",
    "window",
    "with",
    "without",
];

/// A name as it appears in generated SQL: bare when plainly safe (so our SQL reads like
/// Datasette's), otherwise quoted.
pub fn ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&name.to_ascii_lowercase().as_str());
    if plain {
        name.to_string()
    } else {
        super::quote_ident(name)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sort {
    pub column: String,
    pub desc: bool,
}

/// Which rows of a table, in which order, with which columns: what the table page, its
/// streamed export and the query they run share.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// The columns shown, key columns (or `rowid`) first.
    pub columns: Vec<String>,
    pub filters: Vec<Filter>,
    pub search: Option<Search>,
    pub throughs: Vec<Through>,
    /// `_where` clauses, as written by the client.
    pub wheres: Vec<String>,
    pub sort: Option<Sort>,
}

/// One page of a selection: everything a table page asks of the table.
pub struct TableQuery<'a> {
    pub table: &'a TableInfo,
    pub selection: &'a Selection,
    pub keyset: Option<Keyset>,
    pub offset: u64,
    pub size: usize,
}

/// Datasette's `_through`: the rows that a link table (one with a foreign key to this table)
/// pairs with the value `value` of its column `column`: many-to-many in one filter.
#[derive(Clone, Debug)]
pub struct Through {
    pub table: String,
    /// The link table's column that points at this table, and the column it points at.
    pub link_column: String,
    pub our_column: String,
    pub column: String,
    pub value: String,
}

impl Through {
    fn condition(&self, params: &mut Vec<(String, Cell)>) -> String {
        let name = format!("p{}", params.len());
        params.push((name.clone(), Cell::Text(self.value.clone())));
        format!(
            "{} in (select {} from {} where {} = :{name})",
            ident(&self.our_column),
            ident(&self.link_column),
            ident(&self.table),
            ident(&self.column)
        )
    }

    /// As Datasette describes it: `table.column = "value"`.
    pub fn human(&self) -> String {
        format!("{}.{} = \"{}\"", self.table, self.column, self.value)
    }
}

/// A page's full-text search, as Datasette's: `_search` over the whole index, matched to the
/// table by `fts_pk`, or `_search_COLUMN` terms, each over one column of the index.
#[derive(Clone, Debug)]
pub struct Search {
    pub fts_table: String,
    /// The table's column holding the index's rowid (`rowid` unless metadata says).
    pub fts_pk: String,
    /// (column of the index, or none for all of it; the text searched for).
    pub terms: Vec<(Option<String>, String)>,
    /// The text is FTS query syntax, used as it is (`_searchmode=raw`); otherwise each word
    /// is searched for literally.
    pub raw: bool,
}

impl Search {
    fn conditions(&self, params: &mut Vec<(String, Cell)>) -> Vec<String> {
        let fts = ident(&self.fts_table);
        let mut out = Vec::new();
        for (i, (column, text)) in self.terms.iter().enumerate() {
            let name = match column {
                None => "search".to_string(),
                Some(_) => format!("search_{i}"),
            };
            let matched = match self.raw {
                true => format!(":{name}"),
                false => format!("escape_fts(:{name})"),
            };
            out.push(match column {
                None => format!(
                    "{} in (select rowid from {fts} where {fts} match {matched})",
                    ident(&self.fts_pk)
                ),
                Some(c) => format!(
                    "rowid in (select rowid from {fts} where {} match {matched})",
                    ident(c)
                ),
            });
            params.push((name, Cell::Text(text.clone())));
        }
        out
    }
}

/// The SQL of a page and of its count.
#[derive(Clone)]
pub struct Built {
    pub sql: String,
    pub params: Vec<(String, Cell)>,
    /// `from t where …`: shared by the count and the facets.
    pub from_where: String,
    /// The parameters `from_where` needs (the page's own keyset ones excluded).
    pub filter_params: Vec<(String, Cell)>,
    /// Where the sort column and key columns sit in each selected row.
    pub sort_index: Option<usize>,
    pub key_indexes: Vec<usize>,
    /// Columns selected only to build the next token; cut before display.
    pub extra_columns: usize,
}

impl TableQuery<'_> {
    pub fn build(&self) -> Built {
        let t = self.table;
        let mut params = Vec::new();
        let mut conditions: Vec<String> = self
            .selection
            .filters
            .iter()
            .map(|f| f.to_sql(&mut params))
            .collect();
        if let Some(search) = &self.selection.search {
            conditions.extend(search.conditions(&mut params));
        }
        for through in &self.selection.throughs {
            conditions.push(through.condition(&mut params));
        }
        conditions.extend(self.selection.wheres.iter().map(|w| format!("({w})")));
        let from_where = format!("from {}{}", ident(&t.name), where_sql(&conditions));
        let filter_params = params.clone();

        // Keys and the sort column are selected even when hidden by `_col`: the next token
        // needs them.
        let mut select: Vec<String> = self.selection.columns.clone();
        let keys = if t.is_view { vec![] } else { t.key_columns() };
        let mut extra = 0;
        let mut position = |select: &mut Vec<String>, c: &str| -> usize {
            match select.iter().position(|x| x == c) {
                Some(i) => i,
                None => {
                    select.push(c.to_string());
                    extra += 1;
                    select.len() - 1
                }
            }
        };
        let key_indexes: Vec<usize> = keys.iter().map(|k| position(&mut select, k)).collect();
        let sort_index = self
            .selection
            .sort
            .as_ref()
            .map(|s| position(&mut select, &s.column));

        let mut page_conditions = conditions;
        if let Some(ks) = &self.keyset {
            page_conditions.push(self.keyset_sql(&keys, ks, &mut params));
        }
        let mut order: Vec<String> = Vec::new();
        if let Some(s) = &self.selection.sort {
            order.push(format!(
                "{}{}",
                ident(&s.column),
                if s.desc { " desc" } else { "" }
            ));
        }
        order.extend(keys.iter().map(|k| ident(k)));
        let mut sql = format!(
            "select {} from {}{}",
            select
                .iter()
                .map(|c| ident(c))
                .collect::<Vec<_>>()
                .join(", "),
            ident(&t.name),
            where_sql(&page_conditions)
        );
        if !order.is_empty() {
            sql.push_str(" order by ");
            sql.push_str(&order.join(", "));
        }
        sql.push_str(&format!(" limit {}", self.size + 1));
        if self.offset > 0 {
            sql.push_str(&format!(" offset {}", self.offset));
        }
        Built {
            sql,
            params,
            from_where,
            filter_params,
            sort_index,
            key_indexes,
            extra_columns: extra,
        }
    }

    /// Rows after the token's row, in the page's order.
    fn keyset_sql(&self, keys: &[String], ks: &Keyset, params: &mut Vec<(String, Cell)>) -> String {
        let first = params.len();
        for (i, v) in ks.keys.iter().enumerate() {
            params.push((format!("p{}", first + i), v.clone()));
        }
        let p = |i: usize| format!(":p{}", first + i);
        // ((a > :p0) or (a = :p0 and b > :p1)) for keys (a, b).
        let key_after = if keys.len() == 1 {
            format!("{} > {}", ident(&keys[0]), p(0))
        } else {
            let alternatives: Vec<String> = (0..keys.len())
                .map(|i| {
                    let mut parts: Vec<String> = (0..i)
                        .map(|j| format!("{} = {}", ident(&keys[j]), p(j)))
                        .collect();
                    parts.push(format!("{} > {}", ident(&keys[i]), p(i)));
                    format!("({})", parts.join(" and "))
                })
                .collect();
            // Datasette's layout of the same condition.
            format!("({})", alternatives.join("\n  or\n"))
        };
        let (Some(sort), Some(sort_value)) = (&self.selection.sort, &ks.sort_value) else {
            return key_after;
        };
        let c = ident(&sort.column);
        match sort_value {
            Some(v) => {
                let name = format!("p{}", params.len());
                params.push((name.clone(), v.clone()));
                if sort.desc {
                    format!("({c} < :{name} or {c} is null or ({c} = :{name} and {key_after}))")
                } else {
                    format!("({c} > :{name} or ({c} = :{name} and {key_after}))")
                }
            }
            None if sort.desc => format!("({c} is null and {key_after})"),
            None => format!("({c} is not null or ({c} is null and {key_after}))"),
        }
    }
}

fn where_sql(conditions: &[String]) -> String {
    if conditions.is_empty() {
        String::new()
    } else {
        format!(" where {}", conditions.join(" and "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::next_token;

    fn cities() -> TableInfo {
        TableInfo {
            name: "cities".into(),
            columns: vec!["name".into(), "population".into()],
            ..Default::default()
        }
    }

    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(ident("name"), "name");
        assert_eq!(ident("order"), "\"order\"");
        assert_eq!(ident("a b"), "\"a b\"");
        assert_eq!(ident("x\"y"), "\"x\"\"y\"");
        assert_eq!(ident("1a"), "\"1a\"");
    }

    #[test]
    fn sorted_keyset_reads_like_datasette() {
        let t = cities();
        let selection = Selection {
            columns: vec!["rowid".into(), "population".into()],
            sort: Some(Sort {
                column: "population".into(),
                desc: true,
            }),
            ..Default::default()
        };
        let q = TableQuery {
            table: &t,
            selection: &selection,
            keyset: Some(next_token::decode("4981425,305", 1, true).unwrap()),
            offset: 0,
            size: 2,
        };
        let b = q.build();
        assert_eq!(
            b.sql,
            "select rowid, population from cities where (population < :p1 or population is null or (population = :p1 and rowid > :p0)) order by population desc, rowid limit 3"
        );
        assert_eq!(b.key_indexes, vec![0]);
        assert_eq!(b.sort_index, Some(1));
        assert_eq!(b.extra_columns, 0);
    }

    #[test]
    fn hidden_keys_are_still_selected() {
        let t = TableInfo {
            primary_keys: vec!["a".into(), "b".into()],
            columns: vec!["a".into(), "b".into(), "c".into()],
            name: "m".into(),
            ..Default::default()
        };
        let selection = Selection {
            columns: vec!["c".into()],
            ..Default::default()
        };
        let q = TableQuery {
            table: &t,
            selection: &selection,
            keyset: Some(next_token::decode("1,x", 2, false).unwrap()),
            offset: 0,
            size: 5,
        };
        let b = q.build();
        assert_eq!(b.sql, "select c, a, b from m where ((a > :p0)\n  or\n(a = :p0 and b > :p1)) order by a, b limit 6");
        assert_eq!(b.extra_columns, 2);
    }
}
