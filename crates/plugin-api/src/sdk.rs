//! The safe side of the ABI: the [`Plugin`] trait a plugin implements, the [`Host`] handle it
//! is given, and the `extern "C"` glue that [`export_plugin!`](crate::export_plugin) (and
//! [`#[datasette_plugin]`](crate::datasette_plugin), through it) wires up.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::OnceLock;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::abi::*;
use crate::messages::*;

/// A plugin. Only `startup` is required. Put
/// [`#[datasette_plugin]`](crate::datasette_plugin) on the impl to export it with the hooks it
/// implements, or list them in [`export_plugin!`](crate::export_plugin): the host calls only
/// the hooks exported.
///
/// `handle` and `ready` may take their time, and so may the plugin's own threads: they may
/// `fetch` and write. Every other hook runs inline on a request and must not block; the
/// services that block are refused there.
pub trait Plugin: Sized + Send + Sync + 'static {
    /// Builds the plugin from its block of metadata.json (`$env`/`$file` already resolved).
    /// An error stops the host's start-up with this message.
    fn startup(config: Value, host: &Host) -> Result<Self, String>;

    /// The paths this plugin serves, e.g. `"/-/my-plugin".into()`, or with captures and
    /// methods, `Route::new("/-/my-plugin/{name}", &["GET"])`. Asked once, after `startup`.
    fn routes(&self) -> Vec<Route> {
        vec![]
    }

    /// Called once, when the server serves. The host's services may be called from here on,
    /// from any thread: keep `host` (it is `Copy` and lives as long as the process) to start
    /// background work.
    fn ready(&self, host: &Host) {
        let _ = host;
    }

    /// Answers a request to one of [`Plugin::routes`].
    fn handle(&self, request: Request, host: &Host) -> Response {
        let _ = (request, host);
        Response::text(404, "Not found")
    }

    /// Who is making this request, if this plugin can tell (e.g. from a header).
    fn actor_from_request(&self, request: &Request, host: &Host) -> Option<Value> {
        let _ = (request, host);
        None
    }

    /// `Some(true)` allows, `Some(false)` denies, `None` leaves the decision to others.
    fn permission_allowed(&self, check: &PermissionCheck, host: &Host) -> Option<bool> {
        let _ = (check, host);
        None
    }

    /// The votes on `action` over many `resources`, one for each in order: the host asks this
    /// when it needs many answers at once (what an actor may see of a database's tables).
    /// Implement it when the answers can be found together, with one query rather than one a
    /// resource; the default asks [`Plugin::permission_allowed`] for each.
    fn permission_allowed_many(
        &self,
        actor: Option<&Value>,
        action: &str,
        resources: &[Resource],
        host: &Host,
    ) -> Vec<Option<bool>> {
        resources
            .iter()
            .map(|resource| {
                let check = PermissionCheck {
                    actor: actor.cloned(),
                    action: action.to_string(),
                    resource: resource.clone(),
                };
                self.permission_allowed(&check, host)
            })
            .collect()
    }

    /// Links for the menu in the header of every HTML page.
    fn menu_links(&self, actor: Option<&Value>, request: &Request, host: &Host) -> Vec<MenuLink> {
        let _ = (actor, request, host);
        vec![]
    }

    /// Stylesheets for a page (site paths or `http(s)://` URLs).
    fn extra_css_urls(&self, page: &PageContext, host: &Host) -> Vec<String> {
        let _ = (page, host);
        vec![]
    }

    /// Scripts for a page (site paths or `http(s)://` URLs).
    fn extra_js_urls(&self, page: &PageContext, host: &Host) -> Vec<String> {
        let _ = (page, host);
        vec![]
    }

    /// JavaScript to run at the end of a page.
    fn extra_body_script(&self, page: &PageContext, host: &Host) -> Option<String> {
        let _ = (page, host);
        None
    }

    /// Whether this plugin's votes (`permission_allowed`, `permission_allowed_many`) depend on
    /// nothing but the actor, the check, the plugin's configuration and what its own
    /// [`Host::query`] calls read while it votes: no clock, no network, no state of its own
    /// that changes. Answer `true` and the host reuses the votes until a database they read
    /// changes, instead of asking on every request (`datasette-permissions-sql` does). Asked
    /// once at load.
    fn votes_follow_queries(&self) -> bool {
        false
    }

    /// The request headers [`Plugin::actor_from_request`] reads, when it answers `None` for
    /// every request that carries none of them: lower-case names, such as `["authorization"]`
    /// for a plugin of Bearer tokens. The host then asks it only about requests that carry
    /// one, and other requests cost it nothing. `None`, the default, asks about every request
    /// (a plugin that reads the query string or the client's address must answer `None`).
    /// Asked once at load.
    fn actor_headers(&self) -> Option<Vec<String>> {
        None
    }

    /// Variables for the site's own templates (`--template-dir`) on this page: each key of the
    /// object becomes one. A page's own variables win over a plugin's of the same name.
    fn extra_template_vars(&self, page: &PageContext, host: &Host) -> Map<String, Value> {
        let _ = (page, host);
        Map::new()
    }

    /// Items for a table's (or view's, or canned query's) actions menu.
    fn table_actions(&self, page: &PageContext, host: &Host) -> Vec<MenuLink> {
        let _ = (page, host);
        vec![]
    }

    /// Items for a database's actions menu.
    fn database_actions(&self, page: &PageContext, host: &Host) -> Vec<MenuLink> {
        let _ = (page, host);
        vec![]
    }

    /// Items for a row's actions menu.
    fn row_actions(&self, page: &PageContext, host: &Host) -> Vec<MenuLink> {
        let _ = (page, host);
        vec![]
    }

    /// A page the actor may not see: `Some` answers instead of the 403 page (for instance, a
    /// redirect to sign in). Asked for HTML pages only; the first plugin to answer wins.
    fn forbidden(&self, forbidden: &Forbidden, host: &Host) -> Option<Response> {
        let _ = (forbidden, host);
        None
    }

    /// SQL functions to add to every connection, usable in `?sql=`, `_where` and canned
    /// queries. Asked once, after `startup`.
    fn prepare_connection(&self) -> Vec<SqlFunction> {
        vec![]
    }

    /// One call of a function from [`Plugin::prepare_connection`]. An `Err` (or a panic) fails
    /// the query with its message, never the server. Runs inside SQLite: keep it fast.
    fn call_function(&self, call: &FunctionCall, host: &Host) -> Result<Value, String> {
        let _ = host;
        Err(format!("no function {}", call.name))
    }

    /// HTML for some of a page's cells (table, row and query pages), all of the page's cells
    /// given at once. Cells not answered keep the server's rendering.
    fn render_cell(&self, cells: &RenderCells, host: &Host) -> Vec<RenderedCell> {
        let _ = (cells, host);
        vec![]
    }

    /// Formats this plugin renders table and query pages in (`/db/t.atom`). Asked once, after
    /// `startup`.
    fn register_output_renderer(&self) -> Vec<OutputRenderer> {
        vec![]
    }

    /// A page in one of [`Plugin::register_output_renderer`]'s formats. The server has
    /// already checked the actor may see it, as for `.json`.
    fn render_output(&self, data: &OutputData, host: &Host) -> Response {
        let _ = (data, host);
        Response::text(404, "Not found")
    }
}

/// Log levels for [`Host::log`].
#[derive(Debug, Clone, Copy)]
pub enum Level {
    Error = 0,
    Warn = 1,
    Info = 2,
    Debug = 3,
}

/// The host's services. The same handle is given to every hook; it may be kept and used from
/// any thread once the server serves (see [`Plugin::ready`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Host {
    _private: (),
}

static HOST: AtomicPtr<HostTable> = AtomicPtr::new(std::ptr::null_mut());
/// The handle that names this plugin to the host, passed back in every service call.
static PLUGIN: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());

/// The function at `offset` of the host's table, if the host gave its table and the table
/// reaches that far: an older host's table is shorter, and what lies past it is not the
/// host's. A null function counts as absent. `F` is always an `extern "C"` function type.
fn host_fn<F: Copy>(offset: usize) -> Option<F> {
    let table = HOST.load(Ordering::Acquire);
    if table.is_null() {
        return None;
    }
    // SAFETY: the pointer was set once by `set_host`, before any hook runs, to the host's
    // table, which lives as long as the process and starts with a header.
    let size = unsafe { std::ptr::addr_of!((*table).header.struct_size).read_unaligned() };
    if (size as usize) < offset + size_of::<Option<F>>() {
        return None;
    }
    // SAFETY: the field lies inside the host's table (checked just above) and holds a function
    // pointer or null, which `Option<fn>` reads as `None`.
    unsafe {
        table
            .cast::<u8>()
            .add(offset)
            .cast::<Option<F>>()
            .read_unaligned()
    }
}

impl Host {
    /// Runs an HTTP request through the host (timeouts, a size cap, and `http://` to loopback
    /// addresses only). In `handle`, `ready` and the plugin's own threads: inline hooks must
    /// not block.
    pub fn fetch(&self, request: &FetchRequest) -> Result<FetchResponse, String> {
        call_host("fetch", std::mem::offset_of!(HostTable, fetch), request)
    }

    /// Runs read-only SQL on `database` (`None`: the first one) as the plugin: every table can
    /// be read, even those hidden from visitors (a permission plugin reads its grants). Within
    /// the time limit and `max_returned_rows`; `params` (a JSON object) gives the SQL's
    /// `:name` parameters. Do not show what it returns to a visitor: use [`Host::query_as`].
    ///
    /// Any hook may call it (not `startup`): the host runs it on connections of its own, so a
    /// permission check that queries cannot wait behind the requests it is checking.
    pub fn query(
        &self,
        database: Option<&str>,
        sql: &str,
        params: &Value,
    ) -> Result<QueryResult, String> {
        self.run_query(database, sql, params, None)
    }

    /// As [`Host::query`], but reading as `actor` (`None`: an anonymous visitor) reads through
    /// the site's pages: a table, view or index hidden from them cannot be read, and SQL
    /// naming one fails as if it did not exist. It is not leave to run SQL: before running SQL
    /// a visitor wrote, ask [`Host::permission_allowed`] for `execute-sql` on the database, as
    /// `?sql=` does. The only way an SQL function (`call_function`) may query.
    pub fn query_as(
        &self,
        actor: Option<&Value>,
        database: Option<&str>,
        sql: &str,
        params: &Value,
    ) -> Result<QueryResult, String> {
        self.run_query(database, sql, params, Some(actor.cloned()))
    }

    fn run_query(
        &self,
        database: Option<&str>,
        sql: &str,
        params: &Value,
        as_actor: Option<Option<Value>>,
    ) -> Result<QueryResult, String> {
        let request = QueryRequest {
            database: database.map(str::to_string),
            sql: sql.to_string(),
            params: params_object(params)?,
            as_actor: as_actor.is_some(),
            actor: as_actor.flatten(),
        };
        call_host("query", std::mem::offset_of!(HostTable, query), &request)
    }

    /// Whether the host lets `actor` do `action` on `resource`: its whole answer, allow blocks
    /// and every plugin's vote. `false` when the host cannot say, which includes a question
    /// asked from inside another host service (a vote that asks about votes would ask every
    /// plugin again, without end): do not ask it for an action whose `true` closes something.
    pub fn permission_allowed(
        &self,
        actor: Option<&Value>,
        action: &str,
        resource: Resource,
    ) -> bool {
        let check = PermissionCheck {
            actor: actor.cloned(),
            action: action.to_string(),
            resource,
        };
        let offset = std::mem::offset_of!(HostTable, permission_allowed);
        let answer = call_host("permission_allowed", offset, &check);
        answer.unwrap_or_else(|message: String| {
            self.log(Level::Warn, &format!("permission_allowed: {message}"));
            false
        })
    }

    /// The databases the plugin may use (every one served), with whether they take writes.
    pub fn databases(&self) -> Result<Vec<DatabaseInfo>, String> {
        let request = DatabasesRequest::default();
        call_host(
            "databases",
            std::mem::offset_of!(HostTable, databases),
            &request,
        )
    }

    /// The databases `actor` (`None`: an anonymous visitor) may see.
    pub fn databases_as(&self, actor: Option<&Value>) -> Result<Vec<DatabaseInfo>, String> {
        let request = DatabasesRequest {
            as_actor: true,
            actor: actor.cloned(),
        };
        call_host(
            "databases",
            std::mem::offset_of!(HostTable, databases),
            &request,
        )
    }

    /// Runs SQL that writes, as the plugin (every table, no permission asked), in one
    /// transaction on `database`'s writer, so pages see it at once. `params` (a JSON object)
    /// gives the SQL's `:name` parameters. A database opened immutable (`-i`) refuses. Not in
    /// inline hooks: it waits for the writer.
    pub fn execute_write(
        &self,
        database: &str,
        sql: &str,
        params: &Value,
    ) -> Result<WriteResult, String> {
        self.writes(None).execute_write(database, sql, params)
    }

    /// Inserts rows into `database`'s `table` as the plugin, in one transaction: the fast way
    /// to import many rows (a few thousand a call).
    pub fn insert_rows(
        &self,
        database: &str,
        table: &str,
        rows: Vec<Map<String, Value>>,
        options: &InsertOptions,
    ) -> Result<WriteResult, String> {
        self.writes(None)
            .insert_rows(database, table, rows, options)
    }

    /// Writes as `actor` (`None`: an anonymous visitor): under their write permissions, as
    /// the write API checks them, and what is hidden from them stays hidden (a table they may
    /// not see does not exist for them).
    pub fn write_as(&self, actor: Option<&Value>) -> Writes {
        self.writes(Some(actor.cloned()))
    }

    fn writes(&self, as_actor: Option<Option<Value>>) -> Writes {
        Writes { as_actor }
    }

    /// `value` signed with the instance's secret, for `namespace` only: for the plugin's own
    /// cookies and tokens.
    pub fn sign(&self, namespace: &str, value: &Value) -> Result<String, String> {
        let request = SignRequest {
            namespace: namespace.to_string(),
            value: value.clone(),
        };
        call_host("sign", std::mem::offset_of!(HostTable, sign), &request)
    }

    /// The value [`Host::sign`] signed for `namespace`, if `signed` is intact and, with
    /// `max_age`, not older than that.
    pub fn unsign(
        &self,
        namespace: &str,
        signed: &str,
        max_age: Option<std::time::Duration>,
    ) -> Result<Value, String> {
        let request = UnsignRequest {
            namespace: namespace.to_string(),
            signed: signed.to_string(),
            max_age_seconds: max_age.map(|d| d.as_secs()),
        };
        call_host("unsign", std::mem::offset_of!(HostTable, unsign), &request)
    }

    /// A line in the host's log, under this plugin's name.
    pub fn log(&self, level: Level, message: &str) {
        let offset = std::mem::offset_of!(HostTable, log);
        type LogFn = unsafe extern "C" fn(*const c_void, u32, Bytes);
        if let Some(log) = host_fn::<LogFn>(offset) {
            // SAFETY: `message` outlives the call; the host copies what it keeps.
            unsafe {
                log(
                    plugin_handle(),
                    level as u32,
                    Bytes::from_slice(message.as_bytes()),
                )
            }
        }
    }
}

/// Writes as the plugin or as an actor: [`Host::write_as`].
#[derive(Debug, Clone)]
pub struct Writes {
    as_actor: Option<Option<Value>>,
}

impl Writes {
    /// [`Host::execute_write`], as this writer.
    pub fn execute_write(
        &self,
        database: &str,
        sql: &str,
        params: &Value,
    ) -> Result<WriteResult, String> {
        let request = WriteRequest {
            database: database.to_string(),
            sql: sql.to_string(),
            params: params_object(params)?,
            as_actor: self.as_actor.is_some(),
            actor: self.as_actor.clone().flatten(),
        };
        call_host(
            "execute_write",
            std::mem::offset_of!(HostTable, execute_write),
            &request,
        )
    }

    /// [`Host::insert_rows`], as this writer.
    pub fn insert_rows(
        &self,
        database: &str,
        table: &str,
        rows: Vec<Map<String, Value>>,
        options: &InsertOptions,
    ) -> Result<WriteResult, String> {
        let request = InsertRequest {
            database: database.to_string(),
            table: table.to_string(),
            rows,
            options: options.clone(),
            as_actor: self.as_actor.is_some(),
            actor: self.as_actor.clone().flatten(),
        };
        call_host(
            "insert_rows",
            std::mem::offset_of!(HostTable, insert_rows),
            &request,
        )
    }
}

/// SQL parameters: a JSON object, or nothing.
fn params_object(params: &Value) -> Result<Map<String, Value>, String> {
    match params {
        Value::Null => Ok(Map::new()),
        Value::Object(map) => Ok(map.clone()),
        other => Err(format!("SQL parameters must be a JSON object, not {other}")),
    }
}

fn plugin_handle() -> *const c_void {
    PLUGIN.load(Ordering::Acquire)
}

/// Calls one of the host's services with JSON in and out.
fn call_host<I: Serialize, O: DeserializeOwned>(
    name: &str,
    offset: usize,
    input: &I,
) -> Result<O, String> {
    let f = host_fn::<ServiceFn>(offset)
        .ok_or_else(|| format!("this host does not offer {name}: it is older than the plugin"))?;
    let free_buf =
        host_fn::<unsafe extern "C" fn(OwnedBuf)>(std::mem::offset_of!(HostTable, free_buf))
            .ok_or("the host did not provide its services")?;
    let input = serde_json::to_vec(input).map_err(|e| e.to_string())?;
    let mut out = OwnedBuf::EMPTY;
    // SAFETY: `input` outlives the call and `out` is a valid place for the answer; the handle
    // is the one the host gave.
    let status = unsafe { f(plugin_handle(), Bytes::from_slice(&input), &mut out) };
    // SAFETY: `out` is empty or the host's buffer of `out.len` bytes, alive until freed.
    let bytes = unsafe { out_bytes(&out) }.to_vec();
    // SAFETY: the host's buffer goes back to the host's `free_buf`, once.
    unsafe { free_buf(out) };
    match status {
        STATUS_OK => serde_json::from_slice(&bytes)
            .map_err(|e| format!("the host's {name} answer could not be read: {e}")),
        _ => Err(String::from_utf8_lossy(&bytes).into_owned()),
    }
}

/// # Safety
/// `out` is empty (null) or points at `out.len` readable bytes that outlive the borrow.
unsafe fn out_bytes(out: &OwnedBuf) -> &[u8] {
    if out.ptr.is_null() || out.len == 0 {
        &[]
    } else {
        // SAFETY: the caller's promise above.
        unsafe { std::slice::from_raw_parts(out.ptr, out.len) }
    }
}

/// Where [`export_plugin!`](crate::export_plugin) keeps the one instance of a plugin.
#[doc(hidden)]
pub trait Slot: 'static {
    type P: Plugin;
    fn cell() -> &'static OnceLock<Self::P>;
}

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Whether `hooks` lists `name`. Every name listed is checked, whichever `name` is asked: a
/// name that is not a hook fails the build.
const fn listed(hooks: &[&str], name: &str) -> bool {
    let mut found = false;
    let mut i = 0;
    while i < hooks.len() {
        let mut known = false;
        let mut j = 0;
        while j < HOOK_NAMES.len() {
            known |= same(hooks[i], HOOK_NAMES[j]);
            j += 1;
        }
        if !known {
            panic!("export_plugin!: unknown hook (the hooks are listed in abi::HOOK_NAMES)");
        }
        found |= same(hooks[i], name);
        i += 1;
    }
    found
}

/// `hook` if `hooks` lists `name`.
const fn pick(hooks: &[&str], name: &str, hook: HookFn) -> Option<HookFn> {
    if listed(hooks, name) {
        Some(hook)
    } else {
        None
    }
}

macro_rules! table_fn {
    ($($(#[$doc:meta])* $field:ident: $variant:ident,)*) => {
        /// The table [`export_plugin!`](crate::export_plugin) exports.
        #[doc(hidden)]
        pub const fn table<S: Slot>(
            name: &'static str,
            version: &'static str,
            hooks: &[&str],
        ) -> PluginTable {
            PluginTable {
                header: Header {
                    magic: MAGIC,
                    abi_version: ABI_VERSION,
                    struct_size: std::mem::size_of::<PluginTable>() as u32,
                },
                layout: Bytes::from_static(LAYOUT),
                sdk_version: Bytes::from_static(SDK_VERSION),
                name: Bytes::from_static(name),
                version: Bytes::from_static(version),
                unwinds: cfg!(panic = "unwind"),
                free_buf,
                set_host,
                startup: startup::<S>,
                // Each hook's export below is named as its field.
                $($field: pick(hooks, stringify!($field), $field::<S>),)*
            }
        }
    };
}

crate::with_hooks!(table_fn);

/// # Safety
/// `buf` was made by this library's `OwnedBuf::from_vec` and is freed once.
unsafe extern "C" fn free_buf(buf: OwnedBuf) {
    // SAFETY: the caller's promise above.
    drop(unsafe { buf.into_vec() });
}

/// # Safety
/// `host` points at the host's table, which lives as long as the process; `plugin` is the
/// host's handle for this plugin.
unsafe extern "C" fn set_host(host: *const HostTable, plugin: *const c_void) {
    PLUGIN.store(plugin.cast_mut(), Ordering::Release);
    HOST.store(host.cast_mut(), Ordering::Release);
}

/// Runs one hook: decodes the input, catches any panic, encodes the answer into `out`.
///
/// # Safety
/// `input` is readable for the call; `out` is null or valid for a write.
unsafe fn run<I: DeserializeOwned, O: Serialize>(
    input: Bytes,
    out: *mut OwnedBuf,
    hook: impl FnOnce(I) -> Result<O, String>,
) -> i32 {
    // SAFETY: the caller's promise above.
    unsafe {
        run_raw(input, out, |input| {
            let input: I = serde_json::from_slice(input)
                .map_err(|e| format!("the host's message could not be read: {e}"))?;
            serde_json::to_vec(&hook(input)?).map_err(|e| e.to_string())
        })
    }
}

/// A response with its body after the JSON (`null` for none).
fn framed(response: Option<Response>) -> Result<Vec<u8>, String> {
    match response {
        Some(r) => crate::body::encode(&r, &r.body),
        None => Ok(b"null".to_vec()),
    }
}

/// As [`run`], on the input's bytes and answering bytes: for the hooks whose messages carry
/// bodies.
///
/// # Safety
/// `input` is readable for the call; `out` is null or valid for a write.
unsafe fn run_raw(
    input: Bytes,
    out: *mut OwnedBuf,
    hook: impl FnOnce(&[u8]) -> Result<Vec<u8>, String>,
) -> i32 {
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the caller's promise above.
        hook(unsafe { input.as_slice() })
    }));
    let (status, bytes) = match result {
        Ok(Ok(json)) => (STATUS_OK, json),
        Ok(Err(message)) => (STATUS_ERROR, message.into_bytes()),
        Err(panic) => (STATUS_PANIC, panic_message(&*panic).into_bytes()),
    };
    if !out.is_null() {
        // SAFETY: the caller's promise above; `out` is not null.
        unsafe { *out = OwnedBuf::from_vec(bytes) };
    }
    status
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

fn plugin<S: Slot>() -> Result<&'static S::P, String> {
    S::cell()
        .get()
        .ok_or_else(|| "the plugin has not started".into())
}

const INLINE: Host = Host { _private: () };

/// A `Host`, for calling hooks in unit tests (its services answer that there is no host).
pub fn inline_host() -> Host {
    INLINE
}

unsafe extern "C" fn startup<S: Slot>(input: Bytes, out: *mut OwnedBuf) -> i32 {
    // SAFETY: `HookFn`'s contract: the host passes `input` readable for this call and `out`
    // null or writable.
    unsafe {
        run(input, out, |config: Value| {
            let p = S::P::startup(config, &INLINE)?;
            S::cell()
                .set(p)
                .map_err(|_| "the plugin was started twice".to_string())
        })
    }
}

unsafe extern "C" fn routes<S: Slot>(input: Bytes, out: *mut OwnedBuf) -> i32 {
    // SAFETY: `HookFn`'s contract: the host passes `input` readable for this call and `out`
    // null or writable.
    unsafe { run(input, out, |_: Value| Ok(plugin::<S>()?.routes())) }
}

unsafe extern "C" fn handle<S: Slot>(input: Bytes, out: *mut OwnedBuf) -> i32 {
    // SAFETY: `HookFn`'s contract: the host passes `input` readable for this call and `out`
    // null or writable.
    unsafe {
        run_raw(input, out, |input| {
            let request = crate::body::decode_request(input)
                .map_err(|e| format!("the host's message could not be read: {e}"))?;
            framed(Some(plugin::<S>()?.handle(request, &INLINE)))
        })
    }
}

unsafe extern "C" fn actor_from_request<S: Slot>(input: Bytes, out: *mut OwnedBuf) -> i32 {
    // SAFETY: `HookFn`'s contract: the host passes `input` readable for this call and `out`
    // null or writable.
    unsafe {
        run(input, out, |request: Request| {
            Ok(plugin::<S>()?.actor_from_request(&request, &INLINE))
        })
    }
}

unsafe extern "C" fn permission_allowed<S: Slot>(input: Bytes, out: *mut OwnedBuf) -> i32 {
    // SAFETY: `HookFn`'s contract: the host passes `input` readable for this call and `out`
    // null or writable.
    unsafe {
        run(input, out, |check: PermissionCheck| {
            Ok(plugin::<S>()?.permission_allowed(&check, &INLINE))
        })
    }
}

unsafe extern "C" fn permission_allowed_many<S: Slot>(input: Bytes, out: *mut OwnedBuf) -> i32 {
    // SAFETY: `HookFn`'s contract: the host passes `input` readable for this call and `out`
    // null or writable.
    unsafe {
        run(input, out, |c: PermissionChecks| {
            let plugin = plugin::<S>()?;
            Ok(plugin.permission_allowed_many(c.actor.as_ref(), &c.action, &c.resources, &INLINE))
        })
    }
}

unsafe extern "C" fn menu_links<S: Slot>(input: Bytes, out: *mut OwnedBuf) -> i32 {
    // SAFETY: `HookFn`'s contract: the host passes `input` readable for this call and `out`
    // null or writable.
    unsafe {
        run(input, out, |m: MenuLinksRequest| {
            Ok(plugin::<S>()?.menu_links(m.actor.as_ref(), &m.request, &INLINE))
        })
    }
}

/// The exports of the hooks that take a `PageContext` and answer with the plugin's method.
macro_rules! page_hooks {
    ($($hook:ident),*) => {$(
        unsafe extern "C" fn $hook<S: Slot>(input: Bytes, out: *mut OwnedBuf) -> i32 {
            // SAFETY: `HookFn`'s contract: the host passes `input` readable for this call and
            // `out` null or writable.
            unsafe {
                run(input, out, |page: PageContext| {
                    Ok(plugin::<S>()?.$hook(&page, &INLINE))
                })
            }
        }
    )*};
}

page_hooks!(
    extra_css_urls,
    extra_js_urls,
    extra_body_script,
    extra_template_vars,
    table_actions,
    database_actions,
    row_actions
);

unsafe extern "C" fn forbidden<S: Slot>(input: Bytes, out: *mut OwnedBuf) -> i32 {
    // SAFETY: `HookFn`'s contract: the host passes `input` readable for this call and `out`
    // null or writable.
    unsafe {
        run_raw(input, out, |input| {
            let f: Forbidden = serde_json::from_slice(input)
                .map_err(|e| format!("the host's message could not be read: {e}"))?;
            framed(plugin::<S>()?.forbidden(&f, &INLINE))
        })
    }
}

unsafe extern "C" fn prepare_connection<S: Slot>(input: Bytes, out: *mut OwnedBuf) -> i32 {
    // SAFETY: `HookFn`'s contract: the host passes `input` readable for this call and `out`
    // null or writable.
    unsafe {
        run(input, out, |_: Value| {
            Ok(plugin::<S>()?.prepare_connection())
        })
    }
}

unsafe extern "C" fn call_function<S: Slot>(input: Bytes, out: *mut OwnedBuf) -> i32 {
    // SAFETY: `HookFn`'s contract: the host passes `input` readable for this call and `out`
    // null or writable.
    unsafe {
        run(input, out, |call: FunctionCall| {
            plugin::<S>()?.call_function(&call, &INLINE)
        })
    }
}

unsafe extern "C" fn render_cell<S: Slot>(input: Bytes, out: *mut OwnedBuf) -> i32 {
    // SAFETY: `HookFn`'s contract: the host passes `input` readable for this call and `out`
    // null or writable.
    unsafe {
        run(input, out, |cells: RenderCells| {
            Ok(plugin::<S>()?.render_cell(&cells, &INLINE))
        })
    }
}

unsafe extern "C" fn register_output_renderer<S: Slot>(input: Bytes, out: *mut OwnedBuf) -> i32 {
    // SAFETY: `HookFn`'s contract: the host passes `input` readable for this call and `out`
    // null or writable.
    unsafe {
        run(input, out, |_: Value| {
            Ok(plugin::<S>()?.register_output_renderer())
        })
    }
}

unsafe extern "C" fn render_output<S: Slot>(input: Bytes, out: *mut OwnedBuf) -> i32 {
    // SAFETY: `HookFn`'s contract: the host passes `input` readable for this call and `out`
    // null or writable.
    unsafe {
        run_raw(input, out, |input| {
            let data: OutputData = serde_json::from_slice(input)
                .map_err(|e| format!("the host's message could not be read: {e}"))?;
            framed(Some(plugin::<S>()?.render_output(&data, &INLINE)))
        })
    }
}

unsafe extern "C" fn votes_follow_queries<S: Slot>(input: Bytes, out: *mut OwnedBuf) -> i32 {
    // SAFETY: `HookFn`'s contract: the host passes `input` readable for this call and `out`
    // null or writable.
    unsafe {
        run(input, out, |_: Value| {
            Ok(plugin::<S>()?.votes_follow_queries())
        })
    }
}

unsafe extern "C" fn actor_headers<S: Slot>(input: Bytes, out: *mut OwnedBuf) -> i32 {
    // SAFETY: `HookFn`'s contract: the host passes `input` readable for this call and `out`
    // null or writable.
    unsafe { run(input, out, |_: Value| Ok(plugin::<S>()?.actor_headers())) }
}

unsafe extern "C" fn ready<S: Slot>(input: Bytes, out: *mut OwnedBuf) -> i32 {
    // SAFETY: `HookFn`'s contract: the host passes `input` readable for this call and `out`
    // null or writable.
    unsafe {
        run(input, out, |_: Value| {
            plugin::<S>()?.ready(&INLINE);
            Ok(Value::Null)
        })
    }
}
