//! The services the host offers plugins through the ABI: `fetch`, `log`, and freeing the
//! buffers the host hands out. Each is an `extern "C"` function that must never unwind.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};

use datasette_plugin_api::abi::*;
use datasette_plugin_api::FetchRequest;

thread_local! {
    /// The plugin whose hook is running on this thread, for log lines.
    static CURRENT: Cell<&'static str> = const { Cell::new("") };
    /// Whether that hook is `handle`, the only one allowed to `fetch`.
    static IN_HANDLE: Cell<bool> = const { Cell::new(false) };
}

/// Marks this thread as running a hook of `plugin` until dropped.
pub struct Calling {
    previous: &'static str,
}

pub fn calling(plugin: &'static str) -> Calling {
    Calling {
        previous: CURRENT.with(|c| c.replace(plugin)),
    }
}

impl Drop for Calling {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.previous));
    }
}

/// Allows `fetch` on this thread until dropped: only around `handle`.
pub struct Handling(bool);

pub fn handling() -> Handling {
    Handling(IN_HANDLE.with(|c| c.replace(true)))
}

impl Drop for Handling {
    fn drop(&mut self) {
        IN_HANDLE.with(|c| c.set(self.0));
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
    let input = unsafe { input.as_slice() };
    let result = catch_unwind(AssertUnwindSafe(|| -> Result<Vec<u8>, String> {
        if !IN_HANDLE.with(Cell::get) {
            return Err("fetch is only allowed in handle(): other hooks must not block".into());
        }
        let request: FetchRequest = serde_json::from_slice(input)
            .map_err(|e| format!("the fetch request could not be read: {e}"))?;
        let response = super::fetch::run(request)?;
        serde_json::to_vec(&response).map_err(|e| e.to_string())
    }));
    let (status, bytes) = match result {
        Ok(Ok(json)) => (STATUS_OK, json),
        Ok(Err(message)) => (STATUS_ERROR, message.into_bytes()),
        Err(_) => (STATUS_ERROR, b"fetch failed inside the host".to_vec()),
    };
    if !out.is_null() {
        // SAFETY: the caller's promise above; `out` is not null.
        unsafe { *out = OwnedBuf::from_vec(bytes) };
    }
    status
}
