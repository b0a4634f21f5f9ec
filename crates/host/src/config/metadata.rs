//! `metadata.json` in Datasette 0.65's format.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: line {line}, column {column}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// Title, description and the source/license/about links, at any level.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SourceInfo {
    pub title: Option<String>,
    pub description: Option<String>,
    pub description_html: Option<String>,
    pub license: Option<String>,
    pub license_url: Option<String>,
    pub source: Option<String>,
    pub source_url: Option<String>,
    pub about: Option<String>,
    pub about_url: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Metadata {
    #[serde(flatten)]
    pub info: SourceInfo,
    #[serde(default)]
    pub databases: IndexMap<String, DatabaseMeta>,
    pub allow: Option<Value>,
    pub allow_sql: Option<Value>,
    #[serde(default)]
    pub plugins: serde_json::Map<String, Value>,
    /// Allow blocks for instance-wide actions other than viewing, by action (as Datasette
    /// 1.0's `permissions`), e.g. `{"metrics": {"id": "ops"}}`.
    #[serde(default)]
    pub permissions: serde_json::Map<String, Value>,
    /// Stylesheets and scripts every page loads (Datasette's `extra_css_urls`,
    /// `extra_js_urls`).
    #[serde(default)]
    pub extra_css_urls: Vec<AssetUrl>,
    #[serde(default)]
    pub extra_js_urls: Vec<AssetUrl>,
    /// The file as it was written, for `/-/metadata.json`: secrets stay unresolved.
    #[serde(skip)]
    pub raw: Value,
}

/// A stylesheet or script a page loads: a URL, or `{"url", "sri", "module"}` for its
/// Subresource Integrity hash and, for a script, whether it is an ES module.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AssetUrl {
    pub url: String,
    pub sri: Option<String>,
    pub module: bool,
}

impl<'de> Deserialize<'de> for AssetUrl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Full {
            url: String,
            sri: Option<String>,
            #[serde(default)]
            module: bool,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Url(String),
            Full(Full),
        }
        Ok(match Form::deserialize(d)? {
            Form::Url(url) => AssetUrl {
                url,
                ..AssetUrl::default()
            },
            Form::Full(f) => AssetUrl {
                url: f.url,
                sri: f.sri,
                module: f.module,
            },
        })
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct DatabaseMeta {
    #[serde(flatten)]
    pub info: SourceInfo,
    #[serde(default)]
    pub tables: IndexMap<String, TableMeta>,
    #[serde(default)]
    pub queries: IndexMap<String, CannedQuery>,
    pub allow: Option<Value>,
    pub allow_sql: Option<Value>,
    /// Allow blocks for writes to this database and its tables, by action.
    #[serde(default)]
    pub permissions: serde_json::Map<String, Value>,
    /// Plugins' configuration for this database, over the instance's.
    #[serde(default)]
    pub plugins: serde_json::Map<String, Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct TableMeta {
    #[serde(flatten)]
    pub info: SourceInfo,
    #[serde(default)]
    pub hidden: bool,
    pub sort: Option<String>,
    pub sort_desc: Option<String>,
    pub size: Option<u32>,
    pub sortable_columns: Option<Vec<String>>,
    #[serde(default)]
    pub facets: Vec<FacetSpec>,
    pub label_column: Option<String>,
    /// Column descriptions.
    #[serde(default)]
    pub columns: IndexMap<String, String>,
    #[serde(default)]
    pub units: IndexMap<String, String>,
    pub fts_table: Option<String>,
    pub fts_pk: Option<String>,
    /// `"raw"`: searches take FTS query syntax as it is.
    pub searchmode: Option<String>,
    /// Facet values shown for this table: a number or `"max"`.
    pub facet_size: Option<Value>,
    pub allow: Option<Value>,
    /// Allow blocks for writes to this table, by action.
    #[serde(default)]
    pub permissions: serde_json::Map<String, Value>,
    /// Plugins' configuration for this table, over its database's and the instance's.
    #[serde(default)]
    pub plugins: serde_json::Map<String, Value>,
}

/// The keys every level may have: title, description and the source/license/about links.
const INFO_KEYS: &[&str] = &[
    "title",
    "description",
    "description_html",
    "license",
    "license_url",
    "source",
    "source_url",
    "about",
    "about_url",
];

/// Keys of metadata.json that nothing reads, by their path (`databases.db.tables.t.colour`):
/// a misspelt `allow` must not pass unnoticed.
pub fn unknown_keys(raw: &Value) -> Vec<String> {
    const TOP: &[&str] = &[
        "databases",
        "allow",
        "allow_sql",
        "plugins",
        "permissions",
        "extra_css_urls",
        "extra_js_urls",
        // Datasette 1.0's configuration file: read as settings (see `config::file`).
        "settings",
    ];
    const DATABASE: &[&str] = &[
        "tables",
        "queries",
        "allow",
        "allow_sql",
        "plugins",
        "permissions",
    ];
    const TABLE: &[&str] = &[
        "hidden",
        "sort",
        "sort_desc",
        "size",
        "sortable_columns",
        "facets",
        "label_column",
        "columns",
        "units",
        "fts_table",
        "fts_pk",
        "searchmode",
        "facet_size",
        "allow",
        "plugins",
        "permissions",
    ];
    const QUERY: &[&str] = &[
        "sql",
        "fragment",
        "hide_sql",
        "params",
        "allow",
        "write",
        "on_success_message",
        "on_success_redirect",
        "on_error_message",
        "on_error_redirect",
    ];
    let mut out = Vec::new();
    let mut check = |value: &Value, path: &str, known: &[&str]| {
        for key in value.as_object().into_iter().flat_map(|o| o.keys()) {
            if !known.contains(&key.as_str()) && !INFO_KEYS.contains(&key.as_str()) {
                out.push(format!("{path}{key}"));
            }
        }
    };
    check(raw, "", TOP);
    for (db, d) in raw["databases"].as_object().into_iter().flatten() {
        check(d, &format!("databases.{db}."), DATABASE);
        for (t, table) in d["tables"].as_object().into_iter().flatten() {
            check(table, &format!("databases.{db}.tables.{t}."), TABLE);
        }
        for (q, query) in d["queries"].as_object().into_iter().flatten() {
            check(query, &format!("databases.{db}.queries.{q}."), QUERY);
        }
    }
    out
}

/// `"column"`, `{"array": "column"}` or `{"date": "column"}`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub enum FacetSpec {
    Column(String),
    Typed(IndexMap<String, String>),
}

/// A canned query: a bare SQL string or an object.
#[derive(Debug, Clone)]
pub struct CannedQuery {
    pub name: String,
    pub sql: String,
    /// Its title, description and source/license/about links, as any level has them.
    pub info: SourceInfo,
    /// Where on the query's page its links point (`#fragment`).
    pub fragment: Option<String>,
    pub hide_sql: bool,
    pub params: Option<Vec<String>>,
    pub allow: Option<Value>,
    /// Run by a POST on the database's read-write connection (`"write": true`).
    pub write: bool,
    /// What a write says and where it sends the browser after it.
    pub outcome: WriteOutcome,
}

/// A writable canned query's messages and redirects, for success and failure.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct WriteOutcome {
    pub on_success_message: Option<String>,
    pub on_success_redirect: Option<String>,
    pub on_error_message: Option<String>,
    pub on_error_redirect: Option<String>,
}

impl<'de> Deserialize<'de> for CannedQuery {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Full {
            sql: String,
            #[serde(flatten)]
            info: SourceInfo,
            fragment: Option<String>,
            #[serde(default)]
            hide_sql: bool,
            params: Option<Vec<String>>,
            allow: Option<Value>,
            #[serde(default)]
            write: bool,
            #[serde(flatten)]
            outcome: WriteOutcome,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Sql(String),
            Full(Box<Full>),
        }
        let full = match Form::deserialize(d)? {
            Form::Sql(sql) => Full {
                sql,
                info: SourceInfo::default(),
                fragment: None,
                hide_sql: false,
                params: None,
                allow: None,
                write: false,
                outcome: WriteOutcome::default(),
            },
            Form::Full(f) => *f,
        };
        Ok(CannedQuery {
            name: String::new(),
            sql: full.sql,
            info: full.info,
            fragment: full.fragment,
            hide_sql: full.hide_sql,
            params: full.params,
            allow: full.allow,
            write: full.write,
            outcome: full.outcome,
        })
    }
}

impl FacetSpec {
    /// (facet type, column) or an error message.
    pub fn kind_and_column(&self) -> Result<(&str, &str), String> {
        match self {
            FacetSpec::Column(c) => Ok(("column", c)),
            FacetSpec::Typed(m) if m.len() == 1 => {
                let (k, v) = m.iter().next().expect("one entry");
                match k.as_str() {
                    "column" | "array" | "date" => Ok((k, v)),
                    other => Err(format!("unknown facet type '{other}'")),
                }
            }
            FacetSpec::Typed(_) => Err("a facet object needs exactly one key".into()),
        }
    }
}

impl Metadata {
    /// metadata.json, or metadata.yaml / .yml.
    pub fn load(path: &Path) -> Result<Metadata, MetadataError> {
        if super::file::is_yaml(path) {
            return Metadata::from_value(super::file::read(path)?, path);
        }
        let text = std::fs::read_to_string(path).map_err(|source| MetadataError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Metadata::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Metadata, MetadataError> {
        let parse_err = |e: serde_json::Error| MetadataError::Parse {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: strip_position(&e.to_string()),
        };
        let raw: Value = serde_json::from_str(text).map_err(parse_err)?;
        if !raw.is_object() {
            return Err(MetadataError::Invalid {
                path: path.to_path_buf(),
                message: "the top level must be a JSON object".into(),
            });
        }
        // Deserialize from the text, not the Value, so type errors carry line and column.
        let meta: Metadata = serde_json::from_str(text).map_err(parse_err)?;
        meta.checked(raw, path)
    }

    /// Metadata from a value already read (a YAML file, or metadata and configuration
    /// merged): as [`Metadata::parse`], without line numbers in type errors.
    pub fn from_value(raw: Value, path: &Path) -> Result<Metadata, MetadataError> {
        let invalid = |message: String| MetadataError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        if !raw.is_object() {
            return Err(invalid("the top level must be an object".into()));
        }
        let meta: Metadata =
            serde_json::from_value(raw.clone()).map_err(|e| invalid(e.to_string()))?;
        meta.checked(raw, path)
    }

    /// Names its queries, checks its facets and warns of keys nothing reads.
    fn checked(mut self, raw: Value, path: &Path) -> Result<Metadata, MetadataError> {
        let meta = &mut self;
        for db in meta.databases.values_mut() {
            for (name, q) in db.queries.iter_mut() {
                q.name = name.clone();
            }
            for (table, t) in &db.tables {
                for f in &t.facets {
                    f.kind_and_column()
                        .map_err(|message| MetadataError::Invalid {
                            path: path.to_path_buf(),
                            message: format!("table '{table}': {message}"),
                        })?;
                }
            }
        }
        for key in unknown_keys(&raw) {
            tracing::warn!(
                "{}: {key} is not a key datasette-rs knows: it is not used",
                path.display()
            );
        }
        self.raw = raw;
        Ok(self)
    }

    pub fn database(&self, db: &str) -> Option<&DatabaseMeta> {
        self.databases.get(db)
    }

    pub fn table(&self, db: &str, table: &str) -> Option<&TableMeta> {
        self.databases.get(db)?.tables.get(table)
    }

    /// source/license/about pairs, each taken from the most specific level that sets it.
    /// `own` is the page's own level under the database: a table's or a canned query's.
    pub fn inherited_links(
        &self,
        db: Option<&str>,
        own: Option<&SourceInfo>,
    ) -> Vec<(&'static str, String)> {
        let mut levels: Vec<&SourceInfo> = Vec::with_capacity(3);
        levels.extend(own);
        if let Some(d) = db.and_then(|db| self.database(db)) {
            levels.push(&d.info);
        }
        levels.push(&self.info);
        let mut out = Vec::new();
        type Pick = fn(&SourceInfo) -> (&Option<String>, &Option<String>);
        let pairs: [(&str, &str, Pick); 3] = [
            ("source", "source_url", |i| (&i.source, &i.source_url)),
            ("license", "license_url", |i| (&i.license, &i.license_url)),
            ("about", "about_url", |i| (&i.about, &i.about_url)),
        ];
        for (name, url_name, pick) in pairs {
            if let Some(level) = levels.iter().find(|l| {
                let (a, b) = pick(l);
                a.is_some() || b.is_some()
            }) {
                let (a, b) = pick(level);
                if let Some(a) = a {
                    out.push((name, a.clone()));
                }
                if let Some(b) = b {
                    out.push((url_name, b.clone()));
                }
            }
        }
        out
    }
}

/// serde_json appends " at line L column C"; we print those ourselves.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Metadata, MetadataError> {
        Metadata::parse(s, Path::new("metadata.json"))
    }

    #[test]
    fn unknown_keys_are_named_by_their_path() {
        let raw = serde_json::json!({
            "title": "x", "alow": true, "plugins": {"p": {"anything": 1}},
            "databases": {"db": {
                "allow_sql": {}, "colour": "red",
                "tables": {"t": {"allow": false, "sort_dsc": "a", "units": {}}},
                "queries": {"q": {"sql": "select 1", "title": "Q", "fragmnt": "x"}, "bare": "select 2"}
            }}
        });
        assert_eq!(
            unknown_keys(&raw),
            [
                "alow",
                "databases.db.colour",
                "databases.db.tables.t.sort_dsc",
                "databases.db.queries.q.fragmnt"
            ]
        );
    }

    #[test]
    fn syntax_errors_name_file_line_and_column() {
        let e = parse("{\n  \"title\": \"x\",\n  oops\n}")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("metadata.json: line 3, column 3:"), "{e}");
    }

    #[test]
    fn type_errors_name_the_position() {
        let e = parse("{\"databases\": {\"d\": {\"tables\": {\"t\": {\"size\": \"big\"}}}}}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 1"), "{e}");
        assert!(e.contains("invalid type"), "{e}");
    }

    #[test]
    fn canned_queries_both_forms() {
        let m = parse(r#"{"databases": {"d": {"queries": {"a": "select 1", "b": {"sql": "select 2", "title": "B"}}}}}"#).unwrap();
        let q = &m.databases["d"].queries;
        assert_eq!(q["a"].sql, "select 1");
        assert_eq!(q["a"].name, "a");
        assert_eq!(q["b"].info.title.as_deref(), Some("B"));
        assert!(!q["a"].write);
        let m = parse(
            r#"{"databases": {"d": {"queries": {"w": {"sql": "insert", "write": true,
                "on_success_redirect": "/d/w?ok"}}}}}"#,
        )
        .unwrap();
        let w = &m.databases["d"].queries["w"];
        assert!(w.write);
        assert_eq!(w.outcome.on_success_redirect.as_deref(), Some("/d/w?ok"));
    }

    #[test]
    fn links_inherit_in_pairs() {
        let m = parse(
            r#"{"license": "CC0", "license_url": "u", "source": "s",
            "databases": {"d": {"license": "MIT", "tables": {"t": {"source_url": "tu"}}}}}"#,
        )
        .unwrap();
        assert_eq!(
            m.inherited_links(Some("d"), m.table("d", "t").map(|t| &t.info)),
            vec![
                ("source_url", "tu".to_string()),
                ("license", "MIT".to_string())
            ]
        );
        assert_eq!(
            m.inherited_links(None, None),
            vec![
                ("source", "s".to_string()),
                ("license", "CC0".into()),
                ("license_url", "u".into())
            ]
        );
    }

    #[test]
    fn not_an_object() {
        assert!(parse("[1]")
            .unwrap_err()
            .to_string()
            .contains("JSON object"));
    }
}
