//! The JSON messages hooks exchange. New fields are optional (`#[serde(default)]`) and unknown
//! fields are ignored, so either side may be newer than the other.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// An HTTP request as a plugin sees it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// The raw query string, without `?`.
    pub query: String,
    /// What the route's `{name}` segments matched, percent-decoded.
    pub params: BTreeMap<String, String>,
    pub headers: Vec<(String, String)>,
    pub cookies: BTreeMap<String, String>,
    /// The body (`handle` only), when it is small enough to be held in memory; read it with
    /// [`Request::text`], [`Request::form`], [`Request::json`], [`Request::body_reader`] or
    /// [`Request::multipart`], which also read a spooled body. On the wire its bytes follow
    /// the JSON.
    #[serde(skip)]
    pub body: Vec<u8>,
    /// A body too large for memory, spooled by the host to this file, which it deletes once
    /// `handle` returns.
    pub body_file: Option<String>,
    /// The token a form that posts to this plugin's routes carries, as the field `csrftoken`
    /// (first, in a multipart form), or the header `x-csrftoken`.
    pub csrf_token: String,
    /// The signed-in actor, if any.
    pub actor: Option<Value>,
    /// This plugin's own values in the session (no other plugin's, never the host's).
    pub session: Map<String, Value>,
    /// The site's origin as the host sees it (`http://host:port`), for absolute URLs.
    pub origin: String,
    /// The path the site is served under (`/`, or `/data/` behind a proxy): `path` is the
    /// route inside it. Links and redirects go through [`Request::url`].
    pub base_url: String,
}

impl Request {
    /// The first header of that name, ignoring case.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The first query parameter of that name, decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        crate::urlencoded::parse(&self.query)
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// The link to `path` (a route such as `/-/login`, starting with `/`) on this site, under
    /// its `base_url`: what hrefs, form actions and redirects must use.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url.trim_end_matches('/'))
    }

    /// The link back to this page (path and query, under `base_url`), as a `next=` value.
    pub fn path_and_query(&self) -> String {
        let path = self.url(&self.path);
        if self.query.is_empty() {
            path
        } else {
            format!("{path}?{}", self.query)
        }
    }
}

/// A plugin's answer to a request, with what it changes in the session.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The body's bytes. On the wire they follow the JSON; a plugin writing JSON by hand may
    /// give a text body as its `"body"` field instead.
    #[serde(skip)]
    pub body: Vec<u8>,
    /// Send this file as the body, read as it is sent, then delete it: for answers too large
    /// for memory (an export of a large table). [`Response::file`].
    pub body_file: Option<String>,
    /// A message shown on the next page the visitor sees (`info`, `warning` or `error`).
    pub message: Option<(String, String)>,
    /// A text body given in the JSON (by a plugin writing JSON by hand), read into `body`.
    #[doc(hidden)]
    #[serde(rename = "body", skip_serializing)]
    pub body_text: Option<String>,
    /// Sign this actor in.
    pub set_actor: Option<Value>,
    /// Sign the current actor out.
    pub clear_actor: bool,
    /// Replace this plugin's session values (`None`: leave them as they are).
    pub session: Option<Map<String, Value>>,
    /// Serve `body` (HTML) inside the site's page under this title: its header, menu, the
    /// plugins' CSS and scripts, its footer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_title: Option<String>,
}

impl Default for Response {
    fn default() -> Self {
        Response {
            status: 200,
            headers: vec![],
            body: Vec::new(),
            body_file: None,
            message: None,
            body_text: None,
            set_actor: None,
            clear_actor: false,
            session: None,
            page_title: None,
        }
    }
}

impl Response {
    pub fn html(status: u16, body: impl Into<String>) -> Response {
        Response::bytes(status, "text/html; charset=utf-8", body.into().into_bytes())
    }

    /// Any bytes, of that content type (an image, a spreadsheet).
    pub fn bytes(status: u16, content_type: &str, body: Vec<u8>) -> Response {
        Response {
            status,
            body,
            ..Default::default()
        }
        .with_header("Content-Type", content_type)
    }

    /// The file at `path`, sent as it is read and then deleted: write a large answer to a
    /// temporary file of the plugin's own and hand it over.
    pub fn file(status: u16, content_type: &str, path: impl Into<String>) -> Response {
        Response {
            body_file: Some(path.into()),
            ..Response::bytes(status, content_type, Vec::new())
        }
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text_body(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }

    /// Shows `text` on the next page the visitor sees; `kind` is `info`, `warning` or `error`.
    pub fn with_message(mut self, text: impl Into<String>, kind: &str) -> Response {
        self.message = Some((text.into(), kind.to_string()));
        self
    }

    /// A page of the site: `html` inside its header, menu, CSS and footer, under `title`.
    /// `html` goes into the page as it is: escape what comes from the request or the data
    /// ([`crate::html::escape`]).
    pub fn page(title: impl Into<String>, html: impl Into<String>) -> Response {
        Response {
            page_title: Some(title.into()),
            ..Response::html(200, html)
        }
    }

    pub fn text(status: u16, body: impl Into<String>) -> Response {
        Response::bytes(
            status,
            "text/plain; charset=utf-8",
            body.into().into_bytes(),
        )
    }

    pub fn json(status: u16, value: &Value) -> Response {
        Response::bytes(status, "application/json", value.to_string().into_bytes())
    }

    /// A 302 to `location`.
    pub fn redirect(location: impl Into<String>) -> Response {
        Response {
            status: 302,
            ..Default::default()
        }
        .with_header("Location", location)
    }

    /// The first header of that name, ignoring case.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    pub fn with_status(mut self, status: u16) -> Response {
        self.status = status;
        self
    }

    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Response {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn with_actor(mut self, actor: Value) -> Response {
        self.set_actor = Some(actor);
        self
    }

    pub fn clearing_actor(mut self) -> Response {
        self.clear_actor = true;
        self
    }

    pub fn with_session(mut self, values: Map<String, Value>) -> Response {
        self.session = Some(values);
        self
    }
}

/// What a permission check is about: nothing (the instance), a database, or a database and a
/// table or query (the action says which).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Resource {
    Child(String, String),
    Database(String),
    Instance,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PermissionCheck {
    pub actor: Option<Value>,
    pub action: String,
    pub resource: Resource,
}

/// Many permission checks of one actor and one action, answered together.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PermissionChecks {
    pub actor: Option<Value>,
    pub action: String,
    pub resources: Vec<Resource>,
}

/// An item of the page header's menu.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MenuLink {
    pub href: String,
    pub label: String,
    /// The item changes something (signing out): the page shows it as a button that POSTs to
    /// `href` from this site, rather than a link anyone's page could make a browser follow.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub post: bool,
}

impl MenuLink {
    /// A link to follow.
    pub fn get(href: impl Into<String>, label: impl Into<String>) -> MenuLink {
        MenuLink {
            href: href.into(),
            label: label.into(),
            post: false,
        }
    }

    /// A button that POSTs to `href`.
    pub fn post(href: impl Into<String>, label: impl Into<String>) -> MenuLink {
        MenuLink {
            post: true,
            ..MenuLink::get(href, label)
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MenuLinksRequest {
    pub actor: Option<Value>,
    pub request: Request,
}

/// The page a page hook is asked about (`extra_css_urls`, `table_actions`, …).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PageContext {
    /// The kind of page: `index`, `database`, `table`, `row`, `query`, `special`, `error`,
    /// `plugin` (a plugin's `Response::page`).
    pub view: String,
    pub database: Option<String>,
    /// The table, view or canned query.
    pub table: Option<String>,
    /// On row pages, the row's key as its URL spells it.
    pub row: Option<String>,
    pub actor: Option<Value>,
    pub request: Request,
    /// This plugin's configuration for the page: the table's `plugins` block in metadata.json
    /// if it has one, else its database's, else the instance's (`null` when there is none).
    pub config: Value,
}

/// The cells of a page, for `render_cell`: its columns and rows, each cell as JSON (NULL
/// `null`, a BLOB `{"$base64": true, "encoded": …}`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RenderCells {
    pub page: PageContext,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

/// A cell's HTML in place of the server's: by its row and column index on the page. The HTML
/// goes into the page as it is: sanitise what comes from the data.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RenderedCell {
    pub row: usize,
    pub column: usize,
    pub html: String,
}

/// A format a plugin renders pages in: `/db/table.EXTENSION`, `/db.EXTENSION?sql=…`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OutputRenderer {
    /// The URL extension, e.g. `atom`: lowercase letters and digits.
    pub extension: String,
    /// Link to the format from table, row and query pages whose columns include all of these
    /// (`Some(vec![])`: from every such page; `None`: from none).
    pub link_columns: Option<Vec<String>>,
}

/// A page's data for an output renderer: what `.json` would give, and the page it is.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct OutputData {
    pub extension: String,
    pub page: PageContext,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
    /// The SQL that produced the rows.
    pub sql: String,
}

/// An SQL function a plugin adds to every connection (`prepare_connection`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SqlFunction {
    pub name: String,
    /// How many arguments it takes; -1 for any number. A name may be declared once per count.
    pub args: i32,
    /// Same arguments, same answer: SQLite may then use it in indexes and optimise calls.
    pub deterministic: bool,
}

/// One call of a plugin's SQL function: its arguments as JSON (NULL is `null`, a BLOB an array
/// of bytes). The answer is JSON too: `null`, a boolean, a number, a string, or anything else
/// as its JSON text.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FunctionCall {
    pub name: String,
    pub args: Vec<Value>,
}

/// A page the actor may not see, for the `forbidden` hook.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Forbidden {
    pub page: PageContext,
    /// What the 403 page would say.
    pub message: String,
}

/// SQL for the host to run ([`Host::query`](crate::Host::query)): read-only, with the time
/// limit, its `:name` parameters from `params`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct QueryRequest {
    /// The database's name; `None`: the first database served.
    pub database: Option<String>,
    pub sql: String,
    /// Values for the SQL's `:name` parameters; a name missing here is NULL.
    pub params: Map<String, Value>,
    /// Run as a visitor: under `actor`'s permissions (nothing hidden from them can be read),
    /// rather than as the plugin, which may read every table.
    pub as_actor: bool,
    pub actor: Option<Value>,
}

/// What a query gave: its columns and rows (NULL `null`, a BLOB
/// `{"$base64": true, "encoded": …}`), at most `max_returned_rows` of them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct QueryResult {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
    /// More rows were left out.
    pub truncated: bool,
}

impl QueryResult {
    /// Each row as an object by column name.
    pub fn objects(&self) -> Vec<Map<String, Value>> {
        self.rows
            .iter()
            .map(|row| {
                self.columns
                    .iter()
                    .cloned()
                    .zip(row.iter().cloned())
                    .collect()
            })
            .collect()
    }
}

/// Which databases to list ([`Host::databases`](crate::Host::databases)).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DatabasesRequest {
    /// Only those `actor` may see, rather than every one the plugin may.
    pub as_actor: bool,
    pub actor: Option<Value>,
}

/// A database the host serves.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DatabaseInfo {
    pub name: String,
    /// Writes are allowed (not opened with `-i`, not in memory).
    pub is_mutable: bool,
    pub is_memory: bool,
}

/// SQL that writes ([`Host::execute_write`](crate::Host::execute_write)), run in one
/// transaction on the database's writer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct WriteRequest {
    pub database: String,
    pub sql: String,
    /// Values for the SQL's `:name` parameters.
    pub params: Map<String, Value>,
    /// Write as `actor`, under their write permissions, rather than as the plugin.
    pub as_actor: bool,
    pub actor: Option<Value>,
}

/// Rows to insert ([`Host::insert_rows`](crate::Host::insert_rows)), in one transaction.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct InsertRequest {
    pub database: String,
    pub table: String,
    /// Each row an object by column name.
    pub rows: Vec<Map<String, Value>>,
    pub options: InsertOptions,
    pub as_actor: bool,
    pub actor: Option<Value>,
}

/// How [`Host::insert_rows`](crate::Host::insert_rows) inserts, as the write API's
/// `/-/insert` and `/-/create` bodies say it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct InsertOptions {
    /// Make the table if it does not exist, its columns' types inferred from the rows.
    pub create: bool,
    /// The new table's primary key columns (with `create`); none: a rowid table.
    pub pk: Vec<String>,
    /// A row whose key exists replaces it.
    pub replace: bool,
    /// A row whose key exists is left out.
    pub ignore: bool,
    /// Columns the table lacks are added.
    pub alter: bool,
}

/// What a write did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WriteResult {
    /// Rows inserted, changed or deleted.
    pub rows_affected: usize,
    /// Rows a statement's `RETURNING` gave, as objects.
    pub rows: Vec<Map<String, Value>>,
}

/// A value to sign with the instance's secret ([`Host::sign`](crate::Host::sign)).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SignRequest {
    /// Keeps values signed for one purpose from being accepted for another.
    pub namespace: String,
    pub value: Value,
}

/// Signed text to check ([`Host::unsign`](crate::Host::unsign)).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct UnsignRequest {
    pub namespace: String,
    pub signed: String,
    /// Refused when signed longer ago than this.
    pub max_age_seconds: Option<u64>,
}

/// A route a plugin serves: a path whose segments may be `{name}` (one segment) and whose last
/// may be `{name*}` (the rest of the path), and the methods it answers (none: any). A plain
/// string is a route for every method.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "RouteSpec")]
pub struct Route {
    pub path: String,
    pub methods: Vec<String>,
    /// The largest body it takes (bytes); the host's `max_post_body_bytes` caps it, and is the
    /// limit when this is not set.
    pub max_body_bytes: Option<u64>,
    /// Why its POSTs need no CSRF token (an API whose callers send a bearer token, not a
    /// browser's cookies). Without it, a POST (PUT, PATCH, DELETE) must carry the request's
    /// [`Request::csrf_token`].
    pub csrf_exempt: Option<String>,
}

impl Route {
    /// A route for `methods` only (`["GET", "POST"]`).
    pub fn new(path: impl Into<String>, methods: &[&str]) -> Route {
        Route {
            path: path.into(),
            methods: methods.iter().map(|m| m.to_ascii_uppercase()).collect(),
            ..Route::default()
        }
    }

    /// Takes bodies up to `bytes` (within the host's `max_post_body_bytes`).
    pub fn max_body(mut self, bytes: u64) -> Route {
        self.max_body_bytes = Some(bytes);
        self
    }

    /// Takes POSTs without a CSRF token, for `reason`.
    pub fn without_csrf(mut self, reason: impl Into<String>) -> Route {
        self.csrf_exempt = Some(reason.into());
        self
    }
}

impl From<&str> for Route {
    fn from(path: &str) -> Route {
        Route::new(path, &[])
    }
}

impl From<String> for Route {
    fn from(path: String) -> Route {
        Route::new(path, &[])
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RouteSpec {
    Path(String),
    Full {
        path: String,
        #[serde(default)]
        methods: Vec<String>,
        #[serde(default)]
        max_body_bytes: Option<u64>,
        #[serde(default)]
        csrf_exempt: Option<String>,
    },
}

impl From<RouteSpec> for Route {
    fn from(spec: RouteSpec) -> Route {
        match spec {
            RouteSpec::Path(path) => Route::from(path),
            RouteSpec::Full {
                path,
                methods,
                max_body_bytes,
                csrf_exempt,
            } => Route {
                path,
                methods: methods.iter().map(|m| m.to_ascii_uppercase()).collect(),
                max_body_bytes,
                csrf_exempt,
            },
        }
    }
}

/// An outbound HTTP request, run by the host.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct FetchRequest {
    pub method: String,
    /// `https://…`, or `http://` to a loopback address.
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Default for FetchRequest {
    fn default() -> Self {
        FetchRequest {
            method: "GET".into(),
            url: String::new(),
            headers: vec![],
            body: String::new(),
        }
    }
}

impl FetchRequest {
    pub fn get(url: impl Into<String>) -> FetchRequest {
        FetchRequest {
            url: url.into(),
            ..Default::default()
        }
    }

    /// A POST of a form, `application/x-www-form-urlencoded`.
    pub fn post_form(url: impl Into<String>, fields: &[(&str, &str)]) -> FetchRequest {
        FetchRequest {
            method: "POST".into(),
            url: url.into(),
            headers: vec![(
                "Content-Type".into(),
                "application/x-www-form-urlencoded".into(),
            )],
            body: crate::urlencoded::encode_pairs(fields),
        }
    }

    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FetchResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl FetchResponse {
    /// The first header of that name, ignoring case.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resources_look_like_datasettes() {
        for (r, j) in [
            (Resource::Instance, json!(null)),
            (Resource::Database("d".into()), json!("d")),
            (Resource::Child("d".into(), "t".into()), json!(["d", "t"])),
        ] {
            assert_eq!(serde_json::to_value(&r).unwrap(), j);
            assert_eq!(serde_json::from_value::<Resource>(j).unwrap(), r);
        }
    }

    #[test]
    fn unknown_fields_are_ignored_and_missing_ones_default() {
        let r = crate::body::decode_response(br#"{"body": "x", "future": 1}"#).unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"x"[..]));
        let q: Request = serde_json::from_str(r#"{"path": "/p", "query": "a=1&b=x+y"}"#).unwrap();
        assert_eq!(q.query_param("b").as_deref(), Some("x y"));
    }
}
