//! `/`: every database this actor may see, with its largest tables.

use indexmap::IndexMap;
use md5::{Digest, Md5};
use serde::Serialize;

use super::database::{listing, TableSummary, ViewSummary};
use super::templates::{description_html, footer, format_count, page_chrome, Footer, Listed};
use super::{respond, PageRequest, Reply};
use crate::app::AppState;
use crate::app::View;
use crate::error::AppError;
use crate::render::html::Chrome;
use askama::Template;

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
    respond(ctx, &data, || index_page(state, ctx, &data))
}

// ---- HTML: this page's template and its adapter ----

pub struct IndexEntry {
    pub name: String,
    pub url: String,
    pub private: bool,
    pub summary: String,
    pub tables: Vec<Listed>,
    pub more: bool,
}

#[derive(Template)]
#[template(path = "index.html", blocks = ["title", "content", "footer"])]
struct IndexTemplate<'a> {
    chrome: &'a Chrome,
    /// Hidden from anonymous visitors.
    private: bool,
    title: String,
    description: Option<String>,
    databases: Vec<IndexEntry>,
    footer: Footer,
}

crate::views::site_templates::page_blocks!(IndexTemplate);

pub fn index_page(
    state: &AppState,
    ctx: &PageRequest,
    data: &indexmap::IndexMap<String, IndexDatabase>,
) -> Result<String, AppError> {
    let view = View {
        kind: "index",
        ..View::default()
    };
    let chrome = page_chrome(state, ctx, view);
    let databases = data
        .values()
        .map(|d| IndexEntry {
            name: d.name.clone(),
            url: ctx.db_url(&d.name),
            private: d.private,
            summary: database_summary(d),
            tables: d
                .tables_and_views_truncated
                .iter()
                .map(|t| {
                    let (name, private) = match t {
                        TableOrView::Table(t) => (&t.name, t.private),
                        TableOrView::View(v) => (&v.name, v.private),
                    };
                    Listed {
                        href: ctx.table_url(&d.name, name),
                        label: name.clone(),
                        title: None,
                        private,
                    }
                })
                .collect(),
            more: d.tables_and_views_more,
        })
        .collect();
    let mut page = IndexTemplate {
        private: !state.permissions.can_view_instance(&None),
        title: chrome.site_title.clone(),
        description: description_html(&state.metadata.info),
        chrome: &chrome,
        databases,
        footer: footer(
            &state
                .metadata
                .inherited_links(None, None)
                .into_iter()
                .collect(),
            ctx.elapsed_ms(),
        ),
    };
    let names = crate::views::site_templates::Names {
        page: vec!["index.html".into()],
        grid: vec![],
    };
    crate::views::site_templates::draw(state, ctx, view, &names, &mut page, |page, vars| {
        vars.var("view_name", || "index".into())
            .var("databases", || {
                let databases = data.values().map(minijinja::Value::from_serialize);
                minijinja::Value::from(databases.collect::<Vec<_>>())
            })
            .var("private", || page.private.into())
            .done()
    })
}

/// "2 rows in 1 table, 5 rows in 4 hidden tables, 1 view", as Datasette counts a database.
fn database_summary(d: &IndexDatabase) -> String {
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    let mut parts = vec![format!(
        "{} rows in {}",
        format_count(d.table_rows_sum),
        plural(d.tables_count, "table")
    )];
    if d.hidden_tables_count > 0 {
        parts.push(format!(
            "{} rows in {}",
            format_count(d.hidden_table_rows_sum),
            plural(d.hidden_tables_count, "hidden table")
        ));
    }
    if d.views_count > 0 {
        parts.push(plural(d.views_count, "view"));
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn color_is_datasettes() {
        assert_eq!(super::color("fixture"), "4cf9d4");
    }
}
