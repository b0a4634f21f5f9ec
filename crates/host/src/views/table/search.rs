//! Full-text search and many-to-many filters (`_through`) of a table page, and the words that
//! describe them.

use super::request::TableRequest;
use crate::config::TableMeta;
use crate::db::filters::Filter;
use crate::db::table_query::{Search, Sort, Through};
use crate::db::{Access, Schema};
use crate::error::AppError;
use crate::views::PageRequest;

/// The page's full-text search, if it asks for one: on `fts_table` (the index this actor may
/// read that metadata, `_fts_table` or the schema names), keyed by `_fts_pk` or metadata's
/// `fts_pk`; a column searched must be one of the index's.
pub(super) fn search(
    ctx: &PageRequest,
    req: &TableRequest,
    meta: Option<&TableMeta>,
    schema: &Schema,
    fts_table: Option<&str>,
) -> Result<Option<Search>, AppError> {
    let terms: Vec<(Option<String>, String)> = match &req.search {
        Some(q) => vec![(None, q.clone())],
        None => req
            .column_searches
            .iter()
            .map(|(c, q)| (Some(c.clone()), q.clone()))
            .collect(),
    };
    if terms.is_empty() {
        return Ok(None);
    }
    let Some(fts) = fts_table else {
        return Err(AppError::BadRequest(
            "Full-text search is not available for this table".into(),
        ));
    };
    let index_columns = schema
        .get(fts)
        .map(|i| i.columns.as_slice())
        .unwrap_or_default();
    if terms
        .iter()
        .any(|(c, _)| c.as_ref().is_some_and(|c| !index_columns.contains(c)))
    {
        return Err(AppError::BadRequest("Cannot search by that column".into()));
    }
    Ok(Some(Search {
        fts_table: fts.to_string(),
        fts_pk: ctx
            .arg("_fts_pk")
            .map(str::to_string)
            .or_else(|| meta.and_then(|m| m.fts_pk.clone()))
            .unwrap_or_else(|| "rowid".into()),
        terms,
        raw: req.search_raw,
    }))
}

/// Each `_through` as the condition it stands for. A link table this actor may not read, or
/// one without a foreign key to this table, answers alike: as one that is not there.
pub(super) fn throughs(
    req: &TableRequest,
    schema: &Schema,
    access: &Access,
    table: &str,
) -> Result<Vec<Through>, AppError> {
    req.throughs
        .iter()
        .map(|arg| {
            let link = schema.get(&arg.table).filter(|l| access.can_read(&l.name));
            let fk = link
                .and_then(|l| l.outgoing.iter().find(|fk| fk.other_table == table))
                .ok_or_else(|| {
                    AppError::BadRequest(
                        "Invalid _through - could not find corresponding foreign key".into(),
                    )
                })?;
            if !link.is_some_and(|l| l.has_column(&arg.column)) {
                return Err(AppError::BadRequest(format!(
                    "Invalid _through - {} has no column {}",
                    arg.table, arg.column
                )));
            }
            Ok(Through {
                table: arg.table.clone(),
                link_column: fk.column.clone(),
                our_column: fk.other_column.clone(),
                column: arg.column.clone(),
                value: arg.value.clone(),
            })
        })
        .collect()
}

/// "where a = 1, b > 2 and search matches "x" sorted by c descending".
pub(super) fn human_description(
    filters: &[Filter],
    throughs: &[Through],
    search: Option<&Search>,
    sort: Option<&Sort>,
    explicit_sort: bool,
) -> String {
    let mut bits: Vec<String> = filters.iter().map(Filter::human).collect();
    bits.extend(throughs.iter().map(Through::human));
    for (column, q) in search.map(|s| s.terms.as_slice()).unwrap_or_default() {
        bits.push(match column {
            None => format!("search matches \"{q}\""),
            Some(c) => format!("search column \"{c}\" matches \"{q}\""),
        });
    }
    let mut s = match bits.split_last() {
        None => String::new(),
        Some((last, [])) => format!("where {last}"),
        Some((last, rest)) => format!("where {} and {last}", rest.join(", ")),
    };
    if let (Some(sort), true) = (sort, explicit_sort) {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(&format!(
            "sorted by {}{}",
            sort.column,
            if sort.desc { " descending" } else { "" }
        ));
    }
    s
}
