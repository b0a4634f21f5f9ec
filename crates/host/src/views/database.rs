//! `/DB`: the tables, views and canned queries of one database.

use std::collections::HashMap;
use std::time::Duration;

use serde::Serialize;

use super::templates::{description_html, footer, format_count, page_chrome, Footer, Listed};
use super::{respond, PageRequest, Reply};
use crate::app::AppState;
use crate::app::View;
use crate::db::{Database, ForeignKey, Schema, TableInfo};
use crate::error::AppError;
use crate::render::html::Chrome;
use askama::Template;

/// How long counting one table may take on the index and database pages.
pub const LISTING_COUNT_LIMIT: Duration = Duration::from_millis(10);

#[derive(Serialize, Clone)]
pub struct ForeignKeys {
    pub incoming: Vec<ForeignKey>,
    pub outgoing: Vec<ForeignKey>,
}

#[derive(Serialize, Clone)]
pub struct TableSummary {
    pub name: String,
    pub columns: Vec<String>,
    pub primary_keys: Vec<String>,
    pub count: Option<i64>,
    pub hidden: bool,
    pub fts_table: Option<String>,
    pub foreign_keys: ForeignKeys,
    pub private: bool,
}

#[derive(Serialize, Clone)]
pub struct ViewSummary {
    pub name: String,
    pub private: bool,
}

#[derive(Serialize, Clone)]
pub struct QuerySummary {
    pub sql: String,
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description_html: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fragment: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub hide_sql: bool,
    pub name: String,
    pub private: bool,
}

/// The tables and views of `db` this actor may see, with their counts.
pub struct Listing {
    pub tables: Vec<TableSummary>,
    pub views: Vec<ViewSummary>,
}

pub async fn listing(
    state: &AppState,
    ctx: &PageRequest,
    db: &Database,
    schema: &Schema,
) -> Result<Listing, AppError> {
    let meta = state.metadata.database(&db.name);
    let hidden_by_meta = |t: &str| meta.and_then(|m| m.tables.get(t)).is_some_and(|t| t.hidden);
    let access = state.access(&ctx.actor, &db.name, schema);
    let public = state.public_access(&ctx.actor, &access, &db.name, schema);
    // `Some(private)` for what this actor may see; private: hidden from anonymous visitors.
    let visible = |name: &str| access.can_read(name).then(|| !public.can_read(name));
    let mut tables: Vec<(&TableInfo, bool)> = schema
        .tables
        .values()
        .filter_map(|t| visible(&t.name).map(|private| (t, private)))
        .collect();
    let names: Vec<String> = tables.iter().map(|(t, _)| t.name.clone()).collect();
    let counts: HashMap<String, Option<i64>> = db
        .table_counts(names, LISTING_COUNT_LIMIT, access.clone())
        .await?;
    // Only keys between tables this actor may see: a key names the table it points to.
    let seen = |keys: &[ForeignKey]| -> Vec<ForeignKey> {
        keys.iter()
            .filter(|k| access.can_read(&k.other_table))
            .cloned()
            .collect()
    };
    // Visible tables first, each group by name, as Datasette orders them.
    tables.sort_by_key(|(t, _)| (t.hidden || hidden_by_meta(&t.name), t.name.clone()));
    let tables = tables
        .into_iter()
        .map(|(t, private)| TableSummary {
            name: t.name.clone(),
            columns: t.columns.clone(),
            primary_keys: t.primary_keys.clone(),
            count: counts.get(&t.name).copied().flatten(),
            hidden: t.hidden || hidden_by_meta(&t.name),
            fts_table: meta
                .and_then(|m| m.tables.get(&t.name))
                .and_then(|m| m.fts_table.clone())
                .or_else(|| t.fts_table.clone())
                .filter(|f| access.can_read(f)),
            foreign_keys: ForeignKeys {
                incoming: seen(&t.incoming),
                outgoing: seen(&t.outgoing),
            },
            private,
        })
        .collect();
    let views = schema
        .views
        .values()
        .filter_map(|v| {
            visible(&v.name).map(|private| ViewSummary {
                name: v.name.clone(),
                private,
            })
        })
        .collect();
    Ok(Listing { tables, views })
}

pub fn queries(state: &AppState, ctx: &PageRequest, db: &str) -> Vec<QuerySummary> {
    let Some(meta) = state.metadata.database(db) else {
        return vec![];
    };
    let perms = &state.permissions;
    meta.queries
        .values()
        .filter(|q| perms.can_view_query(&ctx.actor, db, &q.name))
        .map(|q| QuerySummary {
            sql: q.sql.clone(),
            title: q.info.title.clone(),
            description: q.info.description.clone(),
            description_html: q.info.description_html.clone(),
            fragment: q.fragment.clone(),
            hide_sql: q.hide_sql,
            name: q.name.clone(),
            private: !perms.can_view_query(&None, db, &q.name),
        })
        .collect()
}

#[derive(Serialize)]
pub struct DatabasePage {
    pub database: String,
    pub private: bool,
    pub path: String,
    /// The file's size, for an actor who may see all of it (it grows with hidden tables too).
    pub size: Option<u64>,
    pub tables: Vec<TableSummary>,
    pub hidden_count: usize,
    pub views: Vec<ViewSummary>,
    pub queries: Vec<QuerySummary>,
    pub allow_execute_sql: bool,
    pub query_ms: f64,
    /// The file's download link, for an actor who may download it (HTML only).
    #[serde(skip)]
    pub download: Option<String>,
    #[serde(flatten)]
    pub links: indexmap::IndexMap<&'static str, String>,
}

pub async fn page(state: &AppState, ctx: &PageRequest, db: &Database) -> Result<Reply, AppError> {
    let schema = db.schema().await?;
    let listing = listing(state, ctx, db, &schema).await?;
    let data = DatabasePage {
        database: db.name.clone(),
        private: !state.permissions.can_view_database(&None, &db.name),
        path: ctx.db_url(&db.name),
        size: state
            .sees_whole_file(&ctx.actor, db)
            .await?
            .then(|| db.size()),
        hidden_count: listing.tables.iter().filter(|t| t.hidden).count(),
        tables: listing.tables,
        views: listing.views,
        queries: queries(state, ctx, &db.name),
        allow_execute_sql: state.permissions.can_execute_sql(&ctx.actor, &db.name),
        query_ms: ctx.elapsed_ms(),
        download: super::download::refusal(state, &ctx.actor, db)
            .await?
            .is_none()
            .then(|| format!("{}.db", ctx.db_url(&db.name))),
        links: state
            .metadata
            .inherited_links(Some(&db.name), None)
            .into_iter()
            .collect(),
    };
    respond(ctx, &data, || database_page(state, ctx, &data))
}

// ---- HTML: this page's template and its adapter ----

pub struct TableEntry {
    pub href: String,
    pub name: String,
    pub private: bool,
    pub hidden: bool,
    pub columns: String,
    pub count: String,
}

#[derive(Template)]
#[template(path = "database.html", blocks = ["title", "content", "footer"])]
struct DatabaseTemplate<'a> {
    chrome: &'a Chrome,
    name: String,
    description: Option<String>,
    db_href: String,
    private: bool,
    tables: Vec<TableEntry>,
    views: Vec<Listed>,
    queries: Vec<Listed>,
    allow_sql: bool,
    hidden_count: usize,
    /// The file's download link and size, for an actor who may download it.
    download: Option<(String, String)>,
    create_action: Option<String>,
    footer: Footer,
    /// The tables' columns as the SQL editor completes them: `{"table": ["column", …]}`.
    schema: String,
}

crate::views::site_templates::page_blocks!(DatabaseTemplate);

/// The tables and views of `db` the actor may read, with their columns, as JSON for the SQL
/// editor to complete: `{"table": ["column", …]}`.
pub fn editor_schema(state: &AppState, ctx: &PageRequest, db: &str) -> String {
    let Some(db) = state.databases.get(db) else {
        return "{}".into();
    };
    let schema = db.current_schema();
    let access = state.access(&ctx.actor, &db.name, &schema);
    let map: serde_json::Map<String, serde_json::Value> = (schema.tables.values())
        .chain(schema.views.values())
        .filter(|t| access.can_read(&t.name))
        .map(|t| (t.name.clone(), serde_json::json!(t.columns)))
        .collect();
    serde_json::Value::Object(map).to_string()
}

pub fn database_page(
    state: &AppState,
    ctx: &PageRequest,
    data: &DatabasePage,
) -> Result<String, AppError> {
    let view = View {
        kind: "database",
        database: Some(&data.database),
        ..View::default()
    };
    let chrome = page_chrome(state, ctx, view);
    let tables = data
        .tables
        .iter()
        .map(|t| TableEntry {
            href: ctx.table_url(&data.database, &t.name),
            name: t.name.clone(),
            private: t.private,
            hidden: t.hidden,
            columns: t.columns.join(", "),
            count: match t.count {
                Some(n) => format!("{} row{}", format_count(n), if n == 1 { "" } else { "s" }),
                None => "many rows".into(),
            },
        })
        .collect();
    let mut page = DatabaseTemplate {
        chrome: &chrome,
        schema: match data.allow_execute_sql {
            true => editor_schema(state, ctx, &data.database),
            false => String::new(),
        },
        create_action: crate::views::write_api::forms::create_action(state, ctx, &data.database),
        name: data.database.clone(),
        description: state
            .metadata
            .database(&data.database)
            .and_then(|m| description_html(&m.info)),
        db_href: ctx.db_url(&data.database),
        private: data.private,
        // Offered only to who may see the whole file, as its size is.
        download: data.download.as_ref().map(|href| {
            let size = data.size.unwrap_or_default();
            (href.clone(), super::blob::format_bytes(size))
        }),
        tables,
        views: data
            .views
            .iter()
            .map(|v| Listed {
                href: ctx.table_url(&data.database, &v.name),
                label: v.name.clone(),
                title: None,
                private: v.private,
            })
            .collect(),
        queries: data
            .queries
            .iter()
            .map(|q| Listed {
                href: match &q.fragment {
                    Some(f) => format!("{}#{}", ctx.table_url(&data.database, &q.name), f),
                    None => ctx.table_url(&data.database, &q.name),
                },
                label: q.title.clone().unwrap_or_else(|| q.name.clone()),
                // As Datasette's: what the query is for, or else its SQL.
                title: Some(q.description.clone().unwrap_or_else(|| q.sql.clone())),
                private: q.private,
            })
            .collect(),
        allow_sql: data.allow_execute_sql,
        hidden_count: data.hidden_count,
        footer: footer(&data.links, data.query_ms),
    };
    let names = crate::views::site_templates::Names {
        page: vec![
            crate::render::jinja::named("database", &[&data.database]),
            "database.html".into(),
        ],
        grid: vec![],
    };
    crate::views::site_templates::draw(state, ctx, view, &names, &mut page, |_, vars| {
        vars.var("view_name", || "database".into()).data(data)
    })
}
