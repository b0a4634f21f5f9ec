//! The services the host offers plugins through the ABI: `fetch`, `log`, `query`,
//! `permission_allowed`, `databases`, `execute_write`, `insert_rows`, `sign`, `unsign`, and
//! freeing the buffers the host hands out. Each is an `extern "C"` function that must never
//! unwind. A plugin names itself in every call with the handle it was given at load, so the
//! services work from any of its threads.

use std::cell::Cell;
use std::collections::HashSet;
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, OnceLock, RwLock, Weak};

use datasette_plugin_api::abi::*;
use datasette_plugin_api::{
    DatabaseInfo, DatabasesRequest, FetchRequest, InsertRequest, PermissionCheck, QueryRequest,
    QueryResult, SignRequest, UnsignRequest, WriteRequest, WriteResult,
};
use serde_json::Value;

use super::Hook;
use crate::permissions::reads;

/// What the running server does for plugins; the server implements it once its state is built
/// (see `Plugins::attach`).
pub trait Services: Send + Sync {
    fn query(&self, request: QueryRequest) -> Result<QueryResult, String>;
    fn permission_allowed(&self, check: &PermissionCheck) -> bool;
    fn databases(&self, request: DatabasesRequest) -> Vec<DatabaseInfo>;
    fn execute_write(
        &self,
        plugin: &'static str,
        request: WriteRequest,
    ) -> Result<WriteResult, String>;
    fn insert_rows(
        &self,
        plugin: &'static str,
        request: InsertRequest,
    ) -> Result<WriteResult, String>;
    fn sign(&self, request: SignRequest) -> Result<String, String>;
    fn unsign(&self, request: UnsignRequest) -> Result<Value, String>;
}

/// Where a set of plugins finds the server's services: empty during start-up.
pub type ServicesCell = Arc<OnceLock<Weak<dyn Services>>>;

/// What the host knows of the plugin behind a handle it gave out (`set_host`).
pub struct PluginHandle {
    pub name: &'static str,
    /// The services of the server the plugin was loaded for, once it joins one.
    pub services: OnceLock<ServicesCell>,
}

/// Every handle given out: a pointer a plugin passes back is used only if it is one of them.
static HANDLES: RwLock<Option<HashSet<usize>>> = RwLock::new(None);

/// A handle for the plugin `name`, valid for the life of the process.
pub fn new_handle(name: &'static str) -> &'static PluginHandle {
    let handle: &'static PluginHandle = Box::leak(Box::new(PluginHandle {
        name,
        services: OnceLock::new(),
    }));
    let mut handles = HANDLES.write().unwrap_or_else(|e| e.into_inner());
    handles
        .get_or_insert_with(HashSet::new)
        .insert(handle as *const PluginHandle as usize);
    handle
}

/// The handle behind a pointer a plugin passed, if the host gave it out.
fn handle(plugin: *const c_void) -> Option<&'static PluginHandle> {
    let handles = HANDLES.read().unwrap_or_else(|e| e.into_inner());
    let known = handles.as_ref()?.contains(&(plugin as usize));
    // SAFETY: the pointer is one `new_handle` leaked, which lives as long as the process.
    known.then(|| unsafe { &*plugin.cast::<PluginHandle>() })
}

/// How deeply services may call hooks that call services (a permission plugin asking the host
/// a permission question): deeper is a loop.
const MAX_DEPTH: u32 = 4;

thread_local! {
    /// Which hook is running on this thread, if any: the services that block are refused in
    /// inline hooks, and an SQL function may not query as the plugin. None on a plugin's own
    /// threads.
    static HOOK: Cell<Option<Hook>> = const { Cell::new(None) };
    /// How many services are running on this thread, one inside another.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// Marks this thread as running `hook` until dropped. What a hook may ask depends on the hook,
/// not on what led to it: another plugin's vote or SQL function reached from a `handle` may
/// not block.
pub struct Calling {
    hook: Option<Hook>,
}

pub fn calling(hook: Hook) -> Calling {
    Calling {
        hook: HOOK.with(|c| c.replace(Some(hook))),
    }
}

impl Drop for Calling {
    fn drop(&mut self) {
        HOOK.with(|c| c.set(self.hook));
    }
}

/// Refuses a service that waits (for the network, for the writer) inside an inline hook,
/// which runs on the server's async workers.
fn may_block(service: &str) -> Result<(), String> {
    match HOOK.with(Cell::get) {
        None | Some(Hook::Handle) | Some(Hook::Ready) => Ok(()),
        Some(hook) => Err(format!(
            "{service} waits, so it is only allowed in handle(), ready() and the plugin's own threads, not in {}()",
            hook.name()
        )),
    }
}

/// Runs `f` with the services of the server `plugin` was loaded for, counting the depth.
fn with_services<T>(
    plugin: &PluginHandle,
    f: impl FnOnce(&dyn Services) -> Result<T, String>,
) -> Result<T, String> {
    let services = plugin
        .services
        .get()
        .and_then(|cell| cell.get()?.upgrade())
        .ok_or("the host's services are available once the server is built: in hooks, in ready() and after it, not in startup()")?;
    let depth = DEPTH.with(|d| d.get());
    if depth >= MAX_DEPTH {
        return Err(format!(
            "host services called each other {MAX_DEPTH} deep: a hook that calls a service \
             that calls the hook again"
        ));
    }
    DEPTH.with(|d| d.set(depth + 1));
    let _restore = Depth(depth);
    f(&*services)
}

/// Puts the depth back when a service ends, even by a panic.
struct Depth(u32);

impl Drop for Depth {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(self.0));
    }
}

static TABLE: HostTable = HostTable {
    header: Header {
        magic: MAGIC,
        abi_version: ABI_VERSION,
        struct_size: std::mem::size_of::<HostTable>() as u32,
    },
    layout: Bytes::from_static(LAYOUT),
    free_buf,
    log,
    fetch: Some(fetch),
    query: Some(query),
    permission_allowed: Some(permission_allowed),
    databases: Some(databases),
    execute_write: Some(execute_write),
    insert_rows: Some(insert_rows),
    sign: Some(sign),
    unsign: Some(unsign),
};

pub fn table() -> *const HostTable {
    &TABLE
}

/// # Safety
/// `buf` was made by the host (`OwnedBuf::from_vec`) and is freed once.
unsafe extern "C" fn free_buf(buf: OwnedBuf) {
    // SAFETY: the caller's promise above.
    drop(unsafe { buf.into_vec() });
}

/// # Safety
/// `message` is readable for the call.
unsafe extern "C" fn log(plugin: *const c_void, level: u32, message: Bytes) {
    // SAFETY: the caller's promise above.
    let message = unsafe { message.as_slice() };
    let _ = catch_unwind(|| {
        let message = String::from_utf8_lossy(message);
        let plugin = handle(plugin).map_or("(unknown plugin)", |h| h.name);
        match level {
            0 => tracing::error!(plugin, "{message}"),
            1 => tracing::warn!(plugin, "{message}"),
            2 => tracing::info!(plugin, "{message}"),
            _ => tracing::debug!(plugin, "{message}"),
        }
    });
}

/// The services, each a line: its name, its message types, and what it does with them.
macro_rules! services {
    ($($name:ident($plugin:ident, $request:ident: $input:ty) $body:block)*) => {$(
        /// # Safety
        /// `input` is readable for the call; `out` is null or valid for a write.
        unsafe extern "C" fn $name(plugin: *const c_void, input: Bytes, out: *mut OwnedBuf) -> i32 {
            // SAFETY: the caller's promise above.
            unsafe {
                serve(plugin, input, out, stringify!($name), |$plugin, $request: $input| $body)
            }
        }
    )*};
}

services! {
    fetch(_plugin, request: FetchRequest) {
        // Votes that ask the network, write, or depend on the clock are never reused.
        reads::unpredictable();
        may_block("fetch")?;
        super::fetch::run(request)
    }
    query(plugin, request: QueryRequest) {
        // A function any visitor's SQL can call must not read what they may not.
        if !request.as_actor && HOOK.with(Cell::get) == Some(Hook::CallFunction) {
            return Err("an SQL function may only query as the visitor (query_as)".into());
        }
        with_services(plugin, |s| s.query(request))
    }
    permission_allowed(plugin, check: PermissionCheck) {
        with_services(plugin, |s| Ok(s.permission_allowed(&check)))
    }
    databases(plugin, request: DatabasesRequest) {
        with_services(plugin, |s| Ok(s.databases(request)))
    }
    execute_write(plugin, request: WriteRequest) {
        reads::unpredictable();
        may_block("execute_write")?;
        with_services(plugin, |s| s.execute_write(plugin.name, request))
    }
    insert_rows(plugin, request: InsertRequest) {
        reads::unpredictable();
        may_block("insert_rows")?;
        with_services(plugin, |s| s.insert_rows(plugin.name, request))
    }
    sign(plugin, request: SignRequest) {
        with_services(plugin, |s| s.sign(request))
    }
    unsign(plugin, request: UnsignRequest) {
        reads::unpredictable();
        with_services(plugin, |s| s.unsign(request))
    }
}

/// Runs one service for `plugin`: reads its JSON input, catches any panic, writes its answer
/// to `out`.
///
/// # Safety
/// `input` is readable for the call; `out` is null or valid for a write.
unsafe fn serve<I: serde::de::DeserializeOwned, O: serde::Serialize>(
    plugin: *const c_void,
    input: Bytes,
    out: *mut OwnedBuf,
    name: &'static str,
    service: impl FnOnce(&'static PluginHandle, I) -> Result<O, String>,
) -> i32 {
    // SAFETY: the caller's promise above.
    let input = unsafe { input.as_slice() };
    let result = catch_unwind(AssertUnwindSafe(|| -> Result<Vec<u8>, String> {
        let plugin = handle(plugin)
            .ok_or_else(|| format!("{name} was called with a handle the host never gave"))?;
        let request: I = serde_json::from_slice(input)
            .map_err(|e| format!("the {name} request could not be read: {e}"))?;
        let answer = service(plugin, request);
        crate::telemetry::service(plugin.name, name, answer.is_err());
        if let Err(problem) = &answer {
            tracing::debug!(plugin = plugin.name, service = name, "{problem}");
        }
        serde_json::to_vec(&answer?).map_err(|e| e.to_string())
    }));
    if !matches!(result, Ok(Ok(_))) {
        // A vote made of a failure must not outlive it.
        reads::unpredictable();
    }
    let (status, bytes) = match result {
        Ok(Ok(json)) => (STATUS_OK, json),
        Ok(Err(message)) => (STATUS_ERROR, message.into_bytes()),
        Err(_) => (
            STATUS_ERROR,
            format!("{name} failed inside the host").into_bytes(),
        ),
    };
    if !out.is_null() {
        // SAFETY: the caller's promise above; `out` is not null.
        unsafe { *out = OwnedBuf::from_vec(bytes) };
    }
    status
}
