//! Datasette's settings, with its names and defaults, set by `--setting NAME VALUE`.

use serde::Serialize;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SettingError {
    #[error("unknown setting '{0}' (known settings: {known})", known = Settings::NAMES.join(", "))]
    Unknown(String),
    #[error("setting '{name}' needs {expected}, got '{value}'")]
    Invalid {
        name: String,
        expected: &'static str,
        value: String,
    },
}

/// Field order is the order of Datasette's `/-/settings.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub default_page_size: u32,
    pub max_returned_rows: u32,
    pub num_sql_threads: u32,
    pub sql_time_limit_ms: u64,
    pub default_facet_size: u32,
    pub facet_time_limit_ms: u64,
    pub facet_suggest_time_limit_ms: u64,
    pub allow_facet: bool,
    pub default_allow_sql: bool,
    pub allow_download: bool,
    pub suggest_facets: bool,
    pub default_cache_ttl: u32,
    pub cache_size_kb: u32,
    pub allow_csv_stream: bool,
    pub max_csv_mb: u32,
    pub truncate_cells_html: u32,
    pub force_https_urls: bool,
    pub template_debug: bool,
    pub trace_debug: bool,
    pub base_url: String,
    /// Beyond Datasette: mark session cookies Secure (the site is https, maybe behind a proxy).
    pub secure_cookies: bool,
    /// Beyond Datasette: how long a sign-in lasts.
    pub session_ttl_hours: u32,
    /// Beyond Datasette: take the scheme and host of absolute URLs from `Forwarded` and
    /// `X-Forwarded-*` headers. Only behind a proxy that sets them: otherwise any client could
    /// rewrite the URLs the server hands out.
    pub trust_forwarded_headers: bool,
    /// Datasette's `--cors` (a command-line option, not a setting): pages on other sites may
    /// read the answers. Browsers send no cookies with such reads, so only what anyone may
    /// see is readable that way.
    #[serde(skip)]
    pub cors: bool,
    /// Datasette's `--memory` (an option too): serve the in-memory database `_memory`, for
    /// SQL that reads no file.
    #[serde(skip)]
    pub memory: bool,
    /// Datasette's `--crossdb` (an option too): `_memory` is served, and SQL there reads the
    /// other files by their names (`select * from fixtures.facetable`).
    #[serde(skip)]
    pub crossdb: bool,
    /// Datasette's `--static MOUNT:DIR` (an option too): directories served as they are.
    #[serde(skip)]
    pub static_mounts: Vec<super::StaticMount>,
    /// Datasette's `--template-dir` (an option too): the site's own templates, compiled.
    #[serde(skip)]
    pub templates: Option<std::sync::Arc<crate::render::jinja::UserTemplates>>,
    /// Beyond Datasette: the longest a plugin's outbound request (`fetch`) may take.
    pub plugin_fetch_timeout_ms: u64,
    /// Beyond Datasette: the most one answer may be (JSON, CSV, HTML, a value), in MiB, as
    /// written; larger exports stream (`_stream=on`). See `crate::limits`.
    pub max_answer_mb: u32,
    /// Beyond Datasette: the most memory all answers being sent at once may hold, in MiB;
    /// past it new answers are refused with a 503 until clients have read theirs.
    pub answers_memory_mb: u32,
    /// Beyond Datasette: the writer enforces foreign keys (SQLite's and Datasette's default is
    /// not to). A table whose keys point into something hidden from the writer is then not
    /// writable by them: the constraint's outcome would tell what the hidden table holds.
    pub writer_foreign_keys: bool,
    /// Datasette 1.0: `dstok_` tokens sign requests in.
    pub allow_signed_tokens: bool,
    /// Datasette 1.0: the longest a token may last, in seconds (0: as long as its maker says).
    pub max_signed_tokens_ttl: u64,
    /// Datasette 1.0: the most rows one insert or upsert may hold.
    pub max_insert_rows: u32,
    /// The most bytes a POST's body may hold: past it, a 413 before more is read.
    pub max_post_body_bytes: u64,
    /// Beyond Datasette: how long, in milliseconds, an actor's access worked out with plugins'
    /// votes is reused for the same file and schema (0: worked out for every request, as a
    /// plugin that reads its rules from the data needs to see them change at once). Not needed
    /// when every voting plugin says its votes follow its queries: those are reused until the
    /// files they read change.
    pub plugin_votes_cache_ms: u64,
    /// Beyond Datasette: how long a connection keeps its read transaction between requests on
    /// a file in rollback-journal mode (`db::held`); 0 never does.
    pub read_hold_ms: u64,
    /// Beyond Datasette: how many writes to one database may wait for its writer at once;
    /// past it a write is a 503 with `Retry-After` until the queue drains.
    pub max_queued_writes: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            default_page_size: 100,
            max_returned_rows: 1000,
            num_sql_threads: 3,
            sql_time_limit_ms: 1000,
            default_facet_size: 30,
            facet_time_limit_ms: 200,
            facet_suggest_time_limit_ms: 50,
            allow_facet: true,
            default_allow_sql: true,
            allow_download: true,
            suggest_facets: true,
            default_cache_ttl: 5,
            cache_size_kb: 0,
            allow_csv_stream: true,
            max_csv_mb: 100,
            truncate_cells_html: 2048,
            force_https_urls: false,
            template_debug: false,
            trace_debug: false,
            base_url: "/".into(),
            secure_cookies: false,
            session_ttl_hours: 24,
            trust_forwarded_headers: false,
            cors: false,
            memory: false,
            crossdb: false,
            static_mounts: vec![],
            templates: None,
            plugin_fetch_timeout_ms: 10_000,
            max_answer_mb: crate::limits::DEFAULT_ANSWER_MB,
            answers_memory_mb: crate::limits::DEFAULT_ANSWERS_MEMORY_MB,
            writer_foreign_keys: false,
            allow_signed_tokens: true,
            max_signed_tokens_ttl: 0,
            max_insert_rows: 100,
            max_post_body_bytes: 2 << 20,
            plugin_votes_cache_ms: 0,
            read_hold_ms: 5,
            max_queued_writes: 64,
        }
    }
}

fn parse_u64(name: &str, value: &str, min: u64) -> Result<u64, SettingError> {
    match value.trim().parse::<u64>() {
        Ok(n) if n >= min => Ok(n),
        _ => Err(SettingError::Invalid {
            name: name.into(),
            expected: if min > 0 {
                "a whole number of at least 1"
            } else {
                "a whole number"
            },
            value: value.into(),
        }),
    }
}

fn parse_u32(name: &str, value: &str, min: u64) -> Result<u32, SettingError> {
    let n = parse_u64(name, value, min)?;
    u32::try_from(n).map_err(|_| SettingError::Invalid {
        name: name.into(),
        expected: "a whole number below 4294967296",
        value: value.into(),
    })
}

fn parse_bool(name: &str, value: &str) -> Result<bool, SettingError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "on" | "true" | "yes" => Ok(true),
        "0" | "off" | "false" | "no" => Ok(false),
        _ => Err(SettingError::Invalid {
            name: name.into(),
            expected: "on or off",
            value: value.into(),
        }),
    }
}

impl Settings {
    /// `base_url` without its last slash (empty at the root): what site paths go after.
    pub fn prefix(&self) -> &str {
        self.base_url.trim_end_matches('/')
    }

    /// The path of the server's cookies: `base_url` without its last slash, or `/`.
    pub fn cookie_path(&self) -> String {
        match self.prefix() {
            "" => "/".into(),
            prefix => prefix.into(),
        }
    }

    /// The link to a site path (`/fixtures`, starting with `/`) under `base_url`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.prefix())
    }

    pub const NAMES: &'static [&'static str] = &[
        "default_page_size",
        "max_returned_rows",
        "num_sql_threads",
        "sql_time_limit_ms",
        "default_facet_size",
        "facet_time_limit_ms",
        "facet_suggest_time_limit_ms",
        "allow_facet",
        "default_allow_sql",
        "allow_download",
        "suggest_facets",
        "default_cache_ttl",
        "cache_size_kb",
        "allow_csv_stream",
        "max_csv_mb",
        "truncate_cells_html",
        "force_https_urls",
        "template_debug",
        "trace_debug",
        "base_url",
        "secure_cookies",
        "session_ttl_hours",
        "trust_forwarded_headers",
        "plugin_fetch_timeout_ms",
        "max_answer_mb",
        "answers_memory_mb",
        "writer_foreign_keys",
        "allow_signed_tokens",
        "max_signed_tokens_ttl",
        "max_insert_rows",
        "max_post_body_bytes",
        "plugin_votes_cache_ms",
        "read_hold_ms",
        "max_queued_writes",
    ];

    /// Applies one `--setting NAME VALUE`.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), SettingError> {
        match name {
            "default_page_size" => self.default_page_size = parse_u32(name, value, 1)?,
            "max_returned_rows" => self.max_returned_rows = parse_u32(name, value, 1)?,
            "num_sql_threads" => self.num_sql_threads = parse_u32(name, value, 1)?,
            "sql_time_limit_ms" => self.sql_time_limit_ms = parse_u64(name, value, 1)?,
            "default_facet_size" => self.default_facet_size = parse_u32(name, value, 1)?,
            "facet_time_limit_ms" => self.facet_time_limit_ms = parse_u64(name, value, 1)?,
            "facet_suggest_time_limit_ms" => {
                self.facet_suggest_time_limit_ms = parse_u64(name, value, 1)?
            }
            "allow_facet" => self.allow_facet = parse_bool(name, value)?,
            "default_allow_sql" => self.default_allow_sql = parse_bool(name, value)?,
            "allow_download" => self.allow_download = parse_bool(name, value)?,
            "suggest_facets" => self.suggest_facets = parse_bool(name, value)?,
            "default_cache_ttl" => self.default_cache_ttl = parse_u32(name, value, 0)?,
            "cache_size_kb" => self.cache_size_kb = parse_u32(name, value, 0)?,
            "allow_csv_stream" => self.allow_csv_stream = parse_bool(name, value)?,
            "max_csv_mb" => self.max_csv_mb = parse_u32(name, value, 0)?,
            "truncate_cells_html" => self.truncate_cells_html = parse_u32(name, value, 0)?,
            "force_https_urls" => self.force_https_urls = parse_bool(name, value)?,
            "template_debug" => self.template_debug = parse_bool(name, value)?,
            "trace_debug" => self.trace_debug = parse_bool(name, value)?,
            "base_url" => self.base_url = parse_base_url(name, value)?,
            "secure_cookies" => self.secure_cookies = parse_bool(name, value)?,
            "trust_forwarded_headers" => self.trust_forwarded_headers = parse_bool(name, value)?,
            "session_ttl_hours" => self.session_ttl_hours = parse_u32(name, value, 1)?,
            "plugin_fetch_timeout_ms" => self.plugin_fetch_timeout_ms = parse_u64(name, value, 1)?,
            // SQLite's own limit on a value's length is below 2 GiB.
            "max_answer_mb" => self.max_answer_mb = parse_u32(name, value, 1)?.min(2047),
            "answers_memory_mb" => self.answers_memory_mb = parse_u32(name, value, 1)?,
            "writer_foreign_keys" => self.writer_foreign_keys = parse_bool(name, value)?,
            "allow_signed_tokens" => self.allow_signed_tokens = parse_bool(name, value)?,
            "max_signed_tokens_ttl" => self.max_signed_tokens_ttl = parse_u64(name, value, 0)?,
            "max_insert_rows" => self.max_insert_rows = parse_u32(name, value, 1)?,
            "max_post_body_bytes" => self.max_post_body_bytes = parse_u64(name, value, 1)?,
            "plugin_votes_cache_ms" => self.plugin_votes_cache_ms = parse_u64(name, value, 0)?,
            // Writers of other processes wait up to twice this: never longer than a second.
            "read_hold_ms" => self.read_hold_ms = parse_u64(name, value, 0)?.min(1000),
            "max_queued_writes" => self.max_queued_writes = parse_u32(name, value, 1)?,
            _ => return Err(SettingError::Unknown(name.into())),
        }
        Ok(())
    }
}

/// A path prefix such as `/data/`: segments of URL-safe characters between slashes, so that it
/// goes into links, redirects and the cookie path as it is. The last slash may be left out.
fn parse_base_url(name: &str, value: &str) -> Result<String, SettingError> {
    let inner = value
        .strip_prefix('/')
        .map(|v| v.strip_suffix('/').unwrap_or(v));
    let fine = inner.is_some_and(|inner| {
        inner.split('/').all(|segment| {
            !matches!(segment, "" | "." | "..")
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
        })
    });
    match inner {
        Some("") if value == "/" => Ok("/".into()),
        Some(inner) if fine => Ok(format!("/{inner}/")),
        _ => Err(SettingError::Invalid {
            name: name.into(),
            expected: "a path such as /data/ (letters, digits and -_.~ between slashes)",
            value: value.into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_errors() {
        let mut s = Settings::default();
        s.set("max_returned_rows", "50").unwrap();
        assert_eq!(s.max_returned_rows, 50);
        s.set("suggest_facets", "off").unwrap();
        assert!(!s.suggest_facets);
        assert!(matches!(s.set("nope", "1"), Err(SettingError::Unknown(_))));
        let e = s.set("default_page_size", "0").unwrap_err().to_string();
        assert!(e.contains("default_page_size"), "{e}");
        assert!(s.set("sql_time_limit_ms", "abc").is_err());
        assert!(s.set("template_debug", "off").is_ok());
        s.set("trace_debug", "on").unwrap();
        assert!(s.trace_debug);
        s.set("template_debug", "on").unwrap();
        assert!(s.template_debug);
        for (given, kept) in [("/", "/"), ("/data/", "/data/"), ("/a/b-1", "/a/b-1/")] {
            s.set("base_url", given).unwrap();
            assert_eq!(s.base_url, kept);
        }
        for bad in [
            "",
            "data/",
            "//",
            "/a//b/",
            "/../",
            "/a b/",
            "/a?b/",
            "/%2e/",
            "https://x/",
        ] {
            let e = s.set("base_url", bad).unwrap_err().to_string();
            assert!(e.contains("base_url"), "{bad}: {e}");
        }
        assert_eq!(
            serde_json::to_value(Settings::default())
                .unwrap()
                .as_object()
                .unwrap()
                .len(),
            Settings::NAMES.len()
        );
    }
}
