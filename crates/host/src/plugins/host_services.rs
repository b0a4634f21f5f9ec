//! The services the host offers plugins through the ABI: `fetch`, `log`, `query`,
//! `permission_allowed`, and freeing the buffers the host hands out. Each is an `extern "C"`
//! function that must never unwind.

use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, OnceLock, Weak};

use datasette_plugin_api::abi::*;
use datasette_plugin_api::{FetchRequest, PermissionCheck, QueryRequest, QueryResult};

use super::Hook;

/// What the running server does for plugins; the server implements it once its state is built
/// (see `Plugins::attach`).
pub trait Services: Send + Sync {
    fn query(&self, request: QueryRequest) -> Result<QueryResult, String>;
    fn permission_allowed(&self, check: &PermissionCheck) -> bool;
}

/// Where a set of plugins finds the server's services: empty during start-up.
pub type ServicesCell = Arc<OnceLock<Weak<dyn Services>>>;

/// How deeply services may call hooks that call services (a permission plugin asking the host
/// a permission question): deeper is a loop.
const MAX_DEPTH: u32 = 4;

thread_local! {
    /// The plugin whose hook is running on this thread, for log lines.
    static CURRENT: Cell<&'static str> = const { Cell::new("") };
    /// Which of its hooks: `handle` alone may `fetch`, and an SQL function may not query as
    /// the plugin.
    static HOOK: Cell<Option<Hook>> = const { Cell::new(None) };
    /// The services of the server whose plugin is running on this thread.
    static SERVICES: RefCell<Option<ServicesCell>> = const { RefCell::new(None) };
    /// How many services are running on this thread, one inside another.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// Marks this thread as running `hook` of `plugin` until dropped. What a hook may ask depends
/// on the hook, not on what led to it: another plugin's vote or SQL function reached from a
/// `handle` may not `fetch`.
pub struct Calling {
    previous: &'static str,
    services: Option<ServicesCell>,
    hook: Option<Hook>,
}

pub fn calling(plugin: &'static str, services: &ServicesCell, hook: Hook) -> Calling {
    Calling {
        previous: CURRENT.with(|c| c.replace(plugin)),
        services: SERVICES.with(|s| s.replace(Some(services.clone()))),
        hook: HOOK.with(|c| c.replace(Some(hook))),
    }
}

impl Drop for Calling {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.previous));
        SERVICES.with(|s| *s.borrow_mut() = self.services.take());
        HOOK.with(|c| c.set(self.hook));
    }
}

/// Runs `f` with the services of the plugin running on this thread, counting the depth.
fn with_services<T>(f: impl FnOnce(&dyn Services) -> Result<T, String>) -> Result<T, String> {
    let services = SERVICES
        .with(|s| s.borrow().as_ref().and_then(|cell| cell.get()?.upgrade()))
        .ok_or("the host's services are available during hook calls, not in startup")?;
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
    fetch,
    log,
    free_buf,
    context: std::ptr::null(),
    query,
    permission_allowed,
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
unsafe extern "C" fn log(level: u32, message: Bytes) {
    // SAFETY: the caller's promise above.
    let message = unsafe { message.as_slice() };
    let _ = catch_unwind(|| {
        let message = String::from_utf8_lossy(message);
        let plugin = CURRENT.with(Cell::get);
        match level {
            0 => tracing::error!(plugin, "{message}"),
            1 => tracing::warn!(plugin, "{message}"),
            2 => tracing::info!(plugin, "{message}"),
            _ => tracing::debug!(plugin, "{message}"),
        }
    });
}

/// # Safety
/// `input` is readable for the call; `out` is null or valid for a write.
unsafe extern "C" fn fetch(input: Bytes, out: *mut OwnedBuf) -> i32 {
    // SAFETY: the caller's promise above.
    unsafe {
        serve(input, out, "fetch", |request: FetchRequest| {
            if HOOK.with(Cell::get) != Some(Hook::Handle) {
                return Err("fetch is only allowed in handle(): other hooks must not block".into());
            }
            super::fetch::run(request)
        })
    }
}

/// # Safety
/// `input` is readable for the call; `out` is null or valid for a write.
unsafe extern "C" fn query(input: Bytes, out: *mut OwnedBuf) -> i32 {
    // SAFETY: the caller's promise above.
    unsafe {
        serve(input, out, "query", |request: QueryRequest| {
            // A function any visitor's SQL can call must not read what they may not.
            if !request.as_actor && HOOK.with(Cell::get) == Some(Hook::CallFunction) {
                return Err("an SQL function may only query as the visitor (query_as)".into());
            }
            with_services(|s| s.query(request))
        })
    }
}

/// # Safety
/// `input` is readable for the call; `out` is null or valid for a write.
unsafe extern "C" fn permission_allowed(input: Bytes, out: *mut OwnedBuf) -> i32 {
    // SAFETY: the caller's promise above.
    unsafe {
        serve(
            input,
            out,
            "permission_allowed",
            |check: PermissionCheck| with_services(|s| Ok(s.permission_allowed(&check))),
        )
    }
}

/// Runs one service: reads its JSON input, catches any panic, writes its answer to `out`.
///
/// # Safety
/// `input` is readable for the call; `out` is null or valid for a write.
unsafe fn serve<I: serde::de::DeserializeOwned, O: serde::Serialize>(
    input: Bytes,
    out: *mut OwnedBuf,
    name: &str,
    service: impl FnOnce(I) -> Result<O, String>,
) -> i32 {
    // SAFETY: the caller's promise above.
    let input = unsafe { input.as_slice() };
    let result = catch_unwind(AssertUnwindSafe(|| -> Result<Vec<u8>, String> {
        let request: I = serde_json::from_slice(input)
            .map_err(|e| format!("the {name} request could not be read: {e}"))?;
        serde_json::to_vec(&service(request)?).map_err(|e| e.to_string())
    }));
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
