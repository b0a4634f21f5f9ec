//! What every view knows of its request: the actor, the format, the query string's pairs, the
//! site's base and origin, and the links built from them.

use actix_web::HttpRequest;

use crate::error::AppError;
use crate::permissions::Actor;
use crate::render::Format;
use crate::urls;

/// What every view knows of its request.
pub struct PageRequest {
    pub actor: Actor,
    pub format: Format,
    /// The query string's pairs, in order.
    pub args: Vec<(String, String)>,
    /// The path as routed (without `base_url`), still percent-encoded.
    pub path: String,
    /// `base_url` without its last slash (empty at the root): every link to a site path
    /// starts with it.
    pub base: String,
    /// `scheme://host`, for the absolute URLs in JSON.
    pub origin: String,
    /// The absolute URL of this HTML page's JSON (Datasette's `Link: …; rel="alternate"`).
    pub alternate_json: Option<String>,
    /// A plugin's output format the URL asks for (`/db/t.atom`), by its extension.
    pub renderer: Option<String>,
    pub started: std::time::Instant,
    /// The request itself, for what a page reads of it beyond the URL (canned queries' magic
    /// parameters); `None` where a page is built without one.
    pub request: Option<HttpRequest>,
    /// Datasette's `template_debug` is on and the URL asks `?_context=1`: an HTML page is
    /// answered with the data it is rendered from instead.
    pub show_context: bool,
}

impl PageRequest {
    /// A request made inside the process (a plugin's write), as `actor`: no URL, no HTTP
    /// request, links relative to the site's root.
    pub fn internal(actor: Actor) -> PageRequest {
        PageRequest {
            actor,
            format: Format::Json,
            args: Vec::new(),
            path: String::new(),
            base: String::new(),
            origin: String::new(),
            alternate_json: None,
            renderer: None,
            started: std::time::Instant::now(),
            request: None,
            show_context: false,
        }
    }

    pub fn arg(&self, key: &str) -> Option<&str> {
        self.args
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn args_named(&self, key: &str) -> Vec<&str> {
        self.args
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// How long this request's SQL may run: `sql_time_limit_ms`, or less when Datasette's
    /// `_timelimit=MS` asks (never more).
    pub fn sql_limit(
        &self,
        settings: &crate::config::Settings,
    ) -> Result<std::time::Duration, AppError> {
        let most = settings.sql_time_limit_ms;
        let ms = match self.arg("_timelimit").filter(|t| !t.is_empty()) {
            None => most,
            Some(t) => match t.parse::<u64>() {
                Ok(ms) if ms > 0 => ms.min(most),
                _ => {
                    return Err(AppError::BadRequest(format!(
                        "_timelimit must be a number of milliseconds above 0, not '{t}'"
                    )))
                }
            },
        };
        Ok(std::time::Duration::from_millis(ms))
    }

    /// Whether `key` is set to something other than an off value.
    pub fn flag(&self, key: &str) -> bool {
        self.arg(key).is_some_and(urls::flag_on)
    }

    /// The absolute URL of a link made by [`PageRequest::link`] or the `path_with_` methods.
    pub fn absolute(&self, link: &str) -> String {
        format!("{}{}", self.origin, link)
    }

    /// The link to a site path (`/db/table?x=1`), under `base_url`.
    pub fn link(&self, path_and_query: &str) -> String {
        format!("{}{}", self.base, path_and_query)
    }

    /// The link to a table, view or canned query.
    pub fn table_url(&self, db: &str, table: &str) -> String {
        let (db, table) = (urls::tilde_encode(db), urls::tilde_encode(table));
        format!("{}/{db}/{table}", self.base)
    }

    /// The link to a database.
    pub fn db_url(&self, db: &str) -> String {
        format!("{}/{}", self.base, urls::tilde_encode(db))
    }

    /// This page's route path and query, as plugins' hooks are told of it.
    pub fn here(&self) -> String {
        let pairs: Vec<(String, String)> = self.current_pairs().cloned().collect();
        urls::path_with_query(&self.path, &pairs)
    }

    /// The query's pairs as Datasette's URL helpers see them: blank values dropped.
    fn current_pairs(&self) -> impl Iterator<Item = &(String, String)> {
        self.args.iter().filter(|(_, v)| !v.is_empty())
    }

    /// This page's path with `replace`'s keys removed, then its non-empty pairs appended.
    pub fn path_with_replaced(&self, replace: &[(&str, Option<String>)]) -> String {
        let mut pairs: Vec<(String, String)> = self
            .current_pairs()
            .filter(|(k, _)| !replace.iter().any(|(r, _)| r == k))
            .cloned()
            .collect();
        pairs.extend(
            replace
                .iter()
                .filter_map(|(k, v)| v.clone().map(|v| (k.to_string(), v))),
        );
        self.link(&urls::path_with_query(&self.path, &pairs))
    }

    /// This page's path with exactly these pairs removed.
    pub fn path_with_removed(&self, remove: &[(&str, &str)]) -> String {
        let pairs: Vec<(String, String)> = self
            .current_pairs()
            .filter(|(k, v)| !remove.iter().any(|(rk, rv)| rk == k && rv == v))
            .cloned()
            .collect();
        self.link(&urls::path_with_query(&self.path, &pairs))
    }

    /// This page's path with these pairs appended.
    pub fn path_with_added(&self, add: &[(&str, &str)]) -> String {
        let mut pairs: Vec<(String, String)> = self.current_pairs().cloned().collect();
        pairs.extend(add.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        self.link(&urls::path_with_query(&self.path, &pairs))
    }

    pub fn elapsed_ms(&self) -> f64 {
        self.started.elapsed().as_secs_f64() * 1000.0
    }
}
