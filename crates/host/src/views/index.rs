//! `/`: every database this actor may see, with its largest tables.

use indexmap::IndexMap;
use md5::{Digest, Md5};
use serde::Serialize;

use super::database::{listing, TableSummary, ViewSummary};
use super::{respond, PageRequest, Reply};
use crate::app::AppState;
use crate::error::AppError;

/// How many tables and views each database shows on the index page.
const TRUNCATE_AT: usize = 5;

#[derive(Serialize)]
pub struct IndexTable {
    pub name: String,
    pub columns: Vec<String>,
    pub primary_keys: Vec<String>,
    pub count: Option<i64>,
    pub hidden: bool,
    pub fts_table: Option<String>,
    pub num_relationships_for_sorting: usize,
    pub private: bool,
}

#[derive(Serialize)]
#[serde(untagged)]
pub enum TableOrView {
    Table(IndexTable),
    View(ViewSummary),
}

#[derive(Serialize)]
pub struct IndexDatabase {
    pub name: String,
    pub hash: Option<String>,
    pub color: String,
    pub path: String,
    pub tables_and_views_truncated: Vec<TableOrView>,
    pub tables_and_views_more: bool,
    pub tables_count: usize,
    pub table_rows_sum: i64,
    pub show_table_row_counts: bool,
    pub hidden_table_rows_sum: i64,
    pub hidden_tables_count: usize,
    pub views_count: usize,
    pub private: bool,
}

fn color(name: &str) -> String {
    let digest = Md5::digest(name.as_bytes());
    crate::urls::hex(&digest[..3])
}

fn summary(t: TableSummary, num_relationships_for_sorting: usize) -> IndexTable {
    IndexTable {
        name: t.name,
        columns: t.columns,
        primary_keys: t.primary_keys,
        count: t.count,
        hidden: t.hidden,
        fts_table: t.fts_table,
        num_relationships_for_sorting,
        private: t.private,
    }
}

pub async fn page(state: &AppState, ctx: &PageRequest) -> Result<Reply, AppError> {
    if !state.permissions.can_view_instance(&ctx.actor) {
        return Err(AppError::Forbidden(
            "You do not have permission to view this instance".into(),
        ));
    }
    let mut data: IndexMap<String, IndexDatabase> = IndexMap::new();
    for (name, db) in &state.databases {
        if !state.permissions.can_view_database(&ctx.actor, name) {
            continue;
        }
        let schema = db.schema().await?;
        let l = listing(state, ctx, db, &schema).await?;
        let (hidden, mut visible): (Vec<TableSummary>, Vec<TableSummary>) =
            l.tables.into_iter().partition(|t| t.hidden);
        let sum = |ts: &[TableSummary]| ts.iter().filter_map(|t| t.count).sum::<i64>();
        let (table_rows_sum, hidden_table_rows_sum) = (sum(&visible), sum(&hidden));
        let tables_count = visible.len();
        // Datasette's `_sort=relationships`: the tables with the most foreign keys (to and
        // from tables this actor may see) first; otherwise the largest.
        let by_relationships = ctx.arg("_sort") == Some("relationships");
        let access = state.access(&ctx.actor, name, &schema);
        let relationships = |t: &TableSummary| match (by_relationships, schema.tables.get(&t.name))
        {
            (true, Some(info)) => info
                .outgoing
                .iter()
                .chain(&info.incoming)
                .filter(|fk| access.can_read(&fk.other_table))
                .count(),
            _ => 0,
        };
        let mut visible: Vec<(usize, TableSummary)> =
            visible.drain(..).map(|t| (relationships(&t), t)).collect();
        visible.sort_by(|(ra, a), (rb, b)| {
            (rb, b.count.unwrap_or(0), &b.name).cmp(&(ra, a.count.unwrap_or(0), &a.name))
        });
        let more = visible.len() + l.views.len() > TRUNCATE_AT;
        let views_count = l.views.len();
        let mut shown: Vec<TableOrView> = visible
            .into_iter()
            .take(TRUNCATE_AT)
            .map(|(relationships, t)| TableOrView::Table(summary(t, relationships)))
            .collect();
        let room = TRUNCATE_AT.saturating_sub(shown.len());
        shown.extend(l.views.into_iter().take(room).map(TableOrView::View));
        data.insert(
            name.clone(),
            IndexDatabase {
                name: name.clone(),
                hash: None,
                color: color(name),
                path: ctx.db_url(name),
                tables_and_views_truncated: shown,
                tables_and_views_more: more,
                tables_count,
                table_rows_sum,
                show_table_row_counts: true,
                hidden_table_rows_sum,
                hidden_tables_count: hidden.len(),
                views_count,
                private: !state.permissions.can_view_database(&None, name),
            },
        );
    }
    respond(ctx, &data, || {
        super::templates::index_page(state, ctx, &data)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn color_is_datasettes() {
        assert_eq!(super::color("fixture"), "4cf9d4");
    }
}
