//! What a path names ([`resolve`]) and what a page needs before any of its work is done
//! ([`Gate`], checked in [`admit`], the one place that refuses a whole page).
//!
//! Plugin routes, static mounts and the operational routes (`/-/health`, `/-/metrics`,
//! `/-/static/…`) are actix's own routes: only what they do not take is resolved here.

use super::write_api::WriteOp;
use crate::app::AppState;
use crate::error::AppError;
use crate::permissions::Actor;
use crate::render::Format;
use crate::urls;

/// A page of the browser, its names decoded (tilde encoding) and its extension taken off.
#[derive(Debug, Clone, PartialEq)]
pub enum Page {
    Index,
    /// `/-/NAME`: the instance's own pages (`/-/metadata`, `/-/permissions`, …).
    Special(String),
    Database(String),
    /// `/DB?sql=…`: SQL from the request.
    Sql(String),
    /// `/DB.db`: the file itself.
    Download(String),
    Canned {
        db: String,
        name: String,
    },
    /// A table or a view.
    Table {
        db: String,
        table: String,
    },
    Row {
        db: String,
        table: String,
        /// The primary key values, still tilde-encoded and comma-separated.
        key: String,
    },
    /// `/DB/TABLE/-/insert`, `-/upsert`, `-/drop`: the write API, POST only.
    TableWrite {
        db: String,
        table: String,
        op: WriteOp,
    },
    /// `/DB/TABLE/PK/-/update`, `-/delete`.
    RowWrite {
        db: String,
        table: String,
        key: String,
        op: WriteOp,
    },
    /// `/DB/-/create`, `/DB/-/execute-write`.
    DatabaseWrite {
        db: String,
        op: WriteOp,
    },
}

/// What a path is resolved against: the databases served and their canned queries.
pub trait Catalog {
    fn has_database(&self, name: &str) -> bool;
    fn has_canned_query(&self, db: &str, name: &str) -> bool;
}

impl Catalog for AppState {
    fn has_database(&self, name: &str) -> bool {
        self.databases.contains_key(name)
    }

    fn has_canned_query(&self, db: &str, name: &str) -> bool {
        self.metadata
            .database(db)
            .is_some_and(|d| d.queries.contains_key(name))
    }
}

/// The page `path` names. `sql`: the request has a `sql=` argument (the database page then
/// runs it). A database that is not served is a 404 whatever follows it.
pub fn resolve(path: &str, sql: bool, catalog: &dyn Catalog) -> Result<Page, AppError> {
    let segs = segments(path).ok_or_else(|| {
        AppError::BadRequest("The path is not valid UTF-8 after percent-decoding".into())
    })?;
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let name = |segment: &str| decode_name(Format::split(segment).0);
    let served = |db: String| {
        if catalog.has_database(&db) {
            Ok(db)
        } else {
            Err(AppError::NotFound("Database not found".into()))
        }
    };
    Ok(match segs.as_slice() {
        [""] | [".json"] => Page::Index,
        ["-", page] => Page::Special(Format::split(page).0.to_string()),
        [db] => {
            let db = name(db)?;
            match db.strip_suffix(".db") {
                Some(file) if !catalog.has_database(&db) => {
                    Page::Download(served(file.to_string())?)
                }
                _ if sql => Page::Sql(served(db)?),
                _ => Page::Database(served(db)?),
            }
        }
        [db, child] => {
            let (db, child) = (served(name(db)?)?, name(child)?);
            if catalog.has_canned_query(&db, &child) {
                Page::Canned { db, name: child }
            } else {
                Page::Table { db, table: child }
            }
        }
        [db, "-", op] if WriteOp::of_database(op).is_some() => Page::DatabaseWrite {
            db: served(name(db)?)?,
            op: WriteOp::of_database(op).expect("matched"),
        },
        [db, table, "-", op] if WriteOp::of_table(op).is_some() => Page::TableWrite {
            db: served(name(db)?)?,
            table: decode_name(table)?,
            op: WriteOp::of_table(op).expect("matched"),
        },
        [db, table, key, "-", op] if WriteOp::of_row(op).is_some() => Page::RowWrite {
            db: served(name(db)?)?,
            table: decode_name(table)?,
            key: key.to_string(),
            op: WriteOp::of_row(op).expect("matched"),
        },
        [db, table, key] => Page::Row {
            db: served(name(db)?)?,
            table: decode_name(table)?,
            key: Format::split(key).0.to_string(),
        },
        _ => return Err(AppError::NotFound("Page not found".into())),
    })
}

/// Splits the raw path into decoded segments; `None` for a path that cannot be decoded.
fn segments(path: &str) -> Option<Vec<String>> {
    path.trim_start_matches('/')
        .split('/')
        .map(urls::percent_decode)
        .collect()
}

fn decode_name(segment: &str) -> Result<String, AppError> {
    urls::tilde_decode(segment)
        .ok_or_else(|| AppError::BadRequest(format!("'{segment}' is not valid tilde-encoding")))
}

/// What a page needs before it does anything.
#[derive(Debug, PartialEq)]
pub enum Gate<'a> {
    /// Nothing at this level: the actor page (finding out who you are needs no permission),
    /// and tables and rows, whose pages ask the actor's `Access` (a table's own allow block
    /// can let an actor see it in a database they may not browse, and a derived object
    /// follows what it reads).
    Open,
    Instance,
    Database(&'a str),
    Sql(&'a str),
    Query(&'a str, &'a str),
    Download(&'a str),
    /// `/-/permissions`: the instance, then `permissions-debug` (root's by default).
    PermissionsDebug,
}

impl Page {
    pub fn gate(&self) -> Gate<'_> {
        match self {
            Page::Index => Gate::Instance,
            Page::Special(name) => match name.as_str() {
                "actor" | "config" => Gate::Open,
                "permissions" => Gate::PermissionsDebug,
                _ => Gate::Instance,
            },
            Page::Database(db) => Gate::Database(db),
            Page::Sql(db) => Gate::Sql(db),
            Page::Download(db) => Gate::Download(db),
            Page::Canned { db, name } => Gate::Query(db, name),
            // Who may write what depends on the body too: the write API asks, with the
            // actor's access, once it has read it.
            Page::Table { .. } | Page::Row { .. } => Gate::Open,
            Page::TableWrite { .. } | Page::RowWrite { .. } | Page::DatabaseWrite { .. } => {
                Gate::Open
            }
        }
    }

    /// The database a page is about, if it is about one.
    pub fn database(&self) -> Option<&str> {
        match self {
            Page::Database(db) | Page::Sql(db) | Page::Download(db) => Some(db),
            Page::Canned { db, .. } | Page::Table { db, .. } | Page::Row { db, .. } => Some(db),
            Page::TableWrite { db, .. }
            | Page::RowWrite { db, .. }
            | Page::DatabaseWrite { db, .. } => Some(db),
            Page::Index | Page::Special(_) => None,
        }
    }

    /// Whether the page runs SQL from the request or a canned query.
    pub fn runs_sql(&self) -> bool {
        matches!(self, Page::Sql(_) | Page::Canned { .. })
    }

    /// What the request's metrics call this kind of page.
    pub fn kind(&self) -> crate::telemetry::PageKind {
        crate::telemetry::PageKind(match self {
            Page::Index => "index",
            Page::Special(_) => "special",
            Page::Sql(_) => "query",
            Page::Database(_) | Page::Download(_) => "database",
            Page::Canned { .. } | Page::Table { .. } => "table",
            Page::Row { .. } => "row",
            Page::TableWrite { .. } | Page::RowWrite { .. } | Page::DatabaseWrite { .. } => "write",
        })
    }

    /// Whether the page is the write API's (POST only, JSON answers).
    pub fn writes(&self) -> bool {
        matches!(
            self,
            Page::TableWrite { .. } | Page::RowWrite { .. } | Page::DatabaseWrite { .. }
        )
    }

    /// Whether the page has a JSON form to point at: the debugging tools do not.
    pub fn has_json(&self) -> bool {
        !matches!(self, Page::Special(p) if p == "allow-debug")
    }
}

/// Refuses the page unless `actor` passes its gate: one refusal per kind of gate.
pub async fn admit(state: &AppState, actor: &Actor, gate: Gate<'_>) -> Result<(), AppError> {
    let p = &state.permissions;
    let refusal = match gate {
        Gate::Open => None,
        Gate::Instance => (!p.can_view_instance(actor))
            .then_some("You do not have permission to view this instance"),
        Gate::PermissionsDebug => {
            if !p.can_view_instance(actor) {
                Some("You do not have permission to view this instance")
            } else {
                (!p.can_debug_permissions(actor)).then_some("Permission denied")
            }
        }
        Gate::Database(db) => (!p.can_view_database(actor, db))
            .then_some("You do not have permission to view this database"),
        Gate::Sql(db) => {
            if !p.can_view_database(actor, db) {
                Some("You do not have permission to view this database")
            } else {
                (!p.can_execute_sql(actor, db))
                    .then_some("You do not have permission to execute SQL")
            }
        }
        Gate::Query(db, query) => (!p.can_view_query(actor, db, query))
            .then_some("You do not have permission to view this query"),
        Gate::Download(db) => match state.databases.get(db) {
            Some(file) => super::download::refusal(state, actor, file).await?,
            None => return Err(AppError::NotFound("Database not found".into())),
        },
    };
    match refusal {
        Some(why) => Err(AppError::Forbidden(why.into())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Serves `fixtures` (with a canned query `q`) and `my.db`.
    struct Served;

    impl Catalog for Served {
        fn has_database(&self, name: &str) -> bool {
            matches!(name, "fixtures" | "my.db")
        }
        fn has_canned_query(&self, db: &str, name: &str) -> bool {
            db == "fixtures" && name == "q"
        }
    }

    fn page(path: &str) -> Result<Page, String> {
        resolve(path, false, &Served).map_err(|e| e.to_string())
    }

    fn table(db: &str, table: &str) -> Page {
        Page::Table {
            db: db.into(),
            table: table.into(),
        }
    }

    #[test]
    fn every_url_form_resolves_to_its_page() {
        assert_eq!(page("/"), Ok(Page::Index));
        assert_eq!(page("/.json"), Ok(Page::Index));
        assert_eq!(
            page("/-/metadata.json"),
            Ok(Page::Special("metadata".into()))
        );
        assert_eq!(page("/fixtures"), Ok(Page::Database("fixtures".into())));
        assert_eq!(
            page("/fixtures.json"),
            Ok(Page::Database("fixtures".into()))
        );
        assert_eq!(
            resolve("/fixtures.json", true, &Served).unwrap(),
            Page::Sql("fixtures".into())
        );
        assert_eq!(page("/fixtures.db"), Ok(Page::Download("fixtures".into())));
        // A database whose own name ends in .db is its page, not a download.
        assert_eq!(page("/my.db"), Ok(Page::Database("my.db".into())));
        assert_eq!(
            page("/fixtures/facetable.csv"),
            Ok(table("fixtures", "facetable"))
        );
        assert_eq!(
            page("/fixtures/q.json"),
            Ok(Page::Canned {
                db: "fixtures".into(),
                name: "q".into()
            })
        );
        assert_eq!(
            page("/fixtures/compound~2Fthree/a,b.json"),
            Ok(Page::Row {
                db: "fixtures".into(),
                table: "compound/three".into(),
                key: "a,b".into()
            })
        );
    }

    #[test]
    fn write_urls_resolve_to_the_write_api() {
        assert_eq!(
            page("/fixtures/-/create"),
            Ok(Page::DatabaseWrite {
                db: "fixtures".into(),
                op: WriteOp::Create
            })
        );
        assert_eq!(
            page("/fixtures/t~2Fx/-/insert"),
            Ok(Page::TableWrite {
                db: "fixtures".into(),
                table: "t/x".into(),
                op: WriteOp::Insert
            })
        );
        assert_eq!(
            page("/fixtures/t/1,a~2Cb/-/delete"),
            Ok(Page::RowWrite {
                db: "fixtures".into(),
                table: "t".into(),
                key: "1,a~2Cb".into(),
                op: WriteOp::Delete
            })
        );
        // Another name after /-/ is a row page's key, as before.
        assert_eq!(
            page("/fixtures/-/other"),
            Ok(Page::Row {
                db: "fixtures".into(),
                table: "-".into(),
                key: "other".into()
            })
        );
        assert!(page("/nope/-/create").is_err());
    }

    #[test]
    fn names_are_tilde_and_percent_decoded() {
        assert_eq!(
            page("/fixtures/table~2Fwith~2Fslashes~2Ecsv"),
            Ok(table("fixtures", "table/with/slashes.csv"))
        );
        assert_eq!(
            page("/fixtures/two%20words"),
            Ok(table("fixtures", "two words"))
        );
        assert_eq!(
            page("/fixtures/odd~2Ename+x"),
            Ok(table("fixtures", "odd.name x"))
        );
        assert_eq!(
            page("/fixtures/t/1,2024~2D01").unwrap(),
            Page::Row {
                db: "fixtures".into(),
                table: "t".into(),
                key: "1,2024~2D01".into(),
            }
        );
        assert!(page("/fixtures/t~FF")
            .unwrap_err()
            .contains("not valid tilde-encoding"));
        assert!(page("/fixtures/%ff").unwrap_err().contains("UTF-8"));
    }

    #[test]
    fn what_is_not_served_is_not_found() {
        for path in ["/nope", "/nope/t", "/nope/t/1", "/nope.db", "/a/b/c/d"] {
            assert!(page(path).unwrap_err().contains("not found"), "{path}");
        }
    }

    #[test]
    fn each_page_names_its_gate() {
        assert_eq!(Page::Index.gate(), Gate::Instance);
        assert_eq!(Page::Special("actor".into()).gate(), Gate::Open);
        assert_eq!(
            Page::Special("permissions".into()).gate(),
            Gate::PermissionsDebug
        );
        assert_eq!(Page::Sql("d".into()).gate(), Gate::Sql("d"));
        assert_eq!(table("d", "t").gate(), Gate::Open);
    }
}
