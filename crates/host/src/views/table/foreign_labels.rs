//! Foreign keys' labels on a table page: which columns can be expanded, and the lookups that
//! find each value's label.

use std::collections::HashMap;

use super::request::TableRequest;
use crate::app::AppState;
use crate::db::facets::FacetKind;
use crate::db::labels::Lookup;
use crate::db::{Access, ForeignKey, Schema, TableInfo};
use crate::render::Format;
use crate::views::PageRequest;

/// Foreign keys to tables this actor may see, with the column that labels the other table's
/// rows, if it has one.
pub(super) fn expandable_keys(
    state: &AppState,
    db: &str,
    schema: &Schema,
    t: &TableInfo,
    access: &Access,
) -> Vec<(ForeignKey, Option<String>)> {
    t.outgoing
        .iter()
        .filter(|fk| access.can_read(&fk.other_table))
        .map(|fk| {
            let label = state
                .metadata
                .table(db, &fk.other_table)
                .and_then(|m| m.label_column.clone())
                .or_else(|| schema.get(&fk.other_table).and_then(|o| o.label_column()));
            (fk.clone(), label)
        })
        .collect()
}

/// The key columns shown on the page whose values get the labels of the rows they point to,
/// as Datasette chooses them: `_label=COLUMN` names some, `_labels` all or none; without
/// either, all on HTML pages and none elsewhere.
pub(super) fn label_lookups(
    ctx: &PageRequest,
    req: &TableRequest,
    expandable: &[(ForeignKey, Option<String>)],
) -> Vec<Lookup> {
    let named = ctx.args_named("_label");
    let all = match ctx.arg("_labels") {
        Some(v) => ctx.flag("_labels") || v.is_empty() && ctx.format == Format::Html,
        None => ctx.format == Format::Html,
    };
    let wanted = |fk: &ForeignKey| match named.is_empty() {
        false => named.contains(&fk.column.as_str()),
        true => all,
    };
    expandable
        .iter()
        .filter(|(fk, _)| wanted(fk))
        .filter_map(|(fk, label)| {
            Some(Lookup {
                index: req.columns.iter().position(|c| *c == fk.column)?,
                key: fk.clone(),
                label: label.clone(),
            })
        })
        .collect()
}

/// Datasette labels a column facet's values on a foreign key with the rows they point to.
pub(super) fn facet_label_lookups(
    req: &TableRequest,
    expandable: &[(ForeignKey, Option<String>)],
) -> Vec<Lookup> {
    expandable
        .iter()
        .filter(|(fk, _)| {
            req.facets
                .iter()
                .any(|f| f.kind == FacetKind::Column && f.column == fk.column)
        })
        .filter_map(|(fk, label)| {
            Some(Lookup {
                key: fk.clone(),
                label: Some(label.clone()?),
                index: 0,
            })
        })
        .collect()
}

/// The labels found for the columns shown with theirs, by column position.
pub(super) fn expanded_labels(
    expanded: &[(usize, String)],
    found: &HashMap<(String, String), String>,
) -> HashMap<usize, HashMap<String, String>> {
    expanded
        .iter()
        .map(|(index, column)| {
            let of_column = found
                .iter()
                .filter(|((c, _), _)| c == column)
                .map(|((_, value), label)| (value.clone(), label.clone()))
                .collect();
            (*index, of_column)
        })
        .collect()
}
