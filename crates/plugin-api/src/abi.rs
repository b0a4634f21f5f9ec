//! The C ABI between the host and a plugin library. Only these `#[repr(C)]` types and
//! `extern "C"` functions cross; everything else crosses as UTF-8 JSON bytes.
//!
//! Rules that keep old plugins and new hosts (and the other way round) working:
//! - whoever allocates a buffer frees it: the host hands a plugin's buffers back through the
//!   plugin's `free_buf`, and a plugin hands the host's back through the host's;
//! - the tables only grow at their end, and `struct_size` says how much of a table there is;
//! - a breaking change is a new entry symbol (`datasette_plugin_entry_v2`).

use std::ffi::c_void;

/// "DSRSPLUG": the first field of every table, so a stray symbol is not taken for a plugin.
pub const MAGIC: u64 = u64::from_be_bytes(*b"DSRSPLUG");
pub const ABI_VERSION: u32 = 1;
/// The one symbol a plugin library exports: `extern "C" fn() -> *const PluginTable`, a
/// pointer to a table that lives as long as the library.
pub const ENTRY_SYMBOL: &str = "datasette_plugin_entry_v1";

/// A call went well: the output buffer holds the answer as JSON.
pub const STATUS_OK: i32 = 0;
/// The call failed: the output buffer holds the message (UTF-8 text).
pub const STATUS_ERROR: i32 = 1;
/// The callee panicked: the output buffer holds the panic message.
pub const STATUS_PANIC: i32 = 2;

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub magic: u64,
    pub abi_version: u32,
    /// `size_of` the whole table this header starts.
    pub struct_size: u32,
}

/// Borrowed bytes, valid for the duration of one call.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Bytes {
    pub ptr: *const u8,
    pub len: usize,
}

impl Bytes {
    pub const fn from_static(s: &'static str) -> Bytes {
        Bytes {
            ptr: s.as_ptr(),
            len: s.len(),
        }
    }

    pub fn from_slice(s: &[u8]) -> Bytes {
        Bytes {
            ptr: s.as_ptr(),
            len: s.len(),
        }
    }

    /// # Safety
    /// `ptr` must point at `len` readable bytes that outlive `'a`.
    pub unsafe fn as_slice<'a>(self) -> &'a [u8] {
        // A null pointer is no bytes, whatever the length says (a foreign caller's mistake
        // must not become a slice at address 0).
        if self.len == 0 || self.ptr.is_null() {
            &[]
        } else {
            // SAFETY: the caller's promise above.
            unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
        }
    }
}

/// An owned buffer (a `Vec<u8>` taken apart), freed by the `free_buf` of the side that made it.
#[repr(C)]
#[derive(Debug)]
pub struct OwnedBuf {
    pub ptr: *mut u8,
    pub len: usize,
    pub cap: usize,
}

impl OwnedBuf {
    pub const EMPTY: OwnedBuf = OwnedBuf {
        ptr: std::ptr::null_mut(),
        len: 0,
        cap: 0,
    };

    pub fn from_vec(v: Vec<u8>) -> OwnedBuf {
        let mut v = std::mem::ManuallyDrop::new(v);
        OwnedBuf {
            ptr: v.as_mut_ptr(),
            len: v.len(),
            cap: v.capacity(),
        }
    }

    /// # Safety
    /// Only for a buffer made by [`OwnedBuf::from_vec`] in this same library.
    pub unsafe fn into_vec(self) -> Vec<u8> {
        if self.ptr.is_null() {
            Vec::new()
        } else {
            // SAFETY: the parts came from a `Vec<u8>` of this library's allocator, untouched.
            unsafe { Vec::from_raw_parts(self.ptr, self.len, self.cap) }
        }
    }
}

/// One hook: JSON in, JSON (or a message) out, a `STATUS_*` returned. `out` is null or points
/// at an empty buffer for the callee to replace with one of its own making.
pub type HookFn = unsafe extern "C" fn(input: Bytes, out: *mut OwnedBuf) -> i32;

/// The optional hooks, in table order: the one list from which the table below, the SDK's
/// exports and the host's loader all follow. Each entry is the table's field (also the
/// hook's name in `export_plugin!` and `/-/plugins.json`), the host's `Hook` variant, and what
/// goes in and out. A new hook is appended at the end (the table only grows there) and given
/// a method in [`Plugin`](crate::Plugin) and an export in the SDK.
#[doc(hidden)]
#[macro_export]
macro_rules! with_hooks {
    ($then:path) => {
        $then! {
            /// Input: `null`. Output: the paths the plugin serves.
            routes: Routes,
            /// Input: a `Request`. Output: a `Response`.
            handle: Handle,
            /// Input: a `Request` without its body. Output: an actor or `null`.
            actor_from_request: ActorFromRequest,
            /// Input: a `PermissionCheck`. Output: `true`, `false` or `null` (no opinion).
            permission_allowed: PermissionAllowed,
            /// Input: a `MenuLinksRequest`. Output: a list of `MenuLink`.
            menu_links: MenuLinks,
            /// Input: a `PageContext`. Output: stylesheet URLs for the page.
            extra_css_urls: ExtraCssUrls,
            /// Input: a `PageContext`. Output: script URLs for the page.
            extra_js_urls: ExtraJsUrls,
            /// Input: a `PageContext`. Output: JavaScript to run at the end of the page, or
            /// `null`.
            extra_body_script: ExtraBodyScript,
            /// Input: a `PageContext`. Output: a list of `MenuLink` for a table's actions.
            table_actions: TableActions,
            /// Input: a `PageContext`. Output: a list of `MenuLink` for a database's actions.
            database_actions: DatabaseActions,
            /// Input: a `PageContext`. Output: a list of `MenuLink` for a row's actions.
            row_actions: RowActions,
            /// Input: a `Forbidden`. Output: a `Response` to give instead of the 403 page, or
            /// `null`.
            forbidden: Forbidden,
            /// Input: `null`. Output: a list of `SqlFunction`, asked once at load.
            prepare_connection: PrepareConnection,
            /// Input: a `FunctionCall`. Output: the result, or a message with `STATUS_ERROR`.
            call_function: CallFunction,
            /// Input: a `RenderCells`. Output: a list of `RenderedCell`.
            render_cell: RenderCell,
            /// Input: `null`. Output: a list of `OutputRenderer`, asked once at load.
            register_output_renderer: RegisterOutputRenderer,
            /// Input: an `OutputData`. Output: a `Response`.
            render_output: RenderOutput,
        }
    };
}

macro_rules! plugin_table {
    ($($(#[$doc:meta])* $field:ident: $variant:ident,)*) => {
        /// What a plugin library offers the host. A hook that is `None` is not implemented.
        #[repr(C)]
        pub struct PluginTable {
            pub header: Header,
            pub name: Bytes,
            pub version: Bytes,
            /// Built with `panic = "unwind"`: panics can be caught at the boundary. A plugin
            /// built with `panic = "abort"` would take the host down with it, so the host
            /// refuses it. A plugin in another language sets it when nothing it does unwinds
            /// or aborts across the boundary.
            pub unwinds: bool,
            pub free_buf: unsafe extern "C" fn(OwnedBuf),
            /// Called once, before anything else, with the host's services.
            pub set_host: unsafe extern "C" fn(*const HostTable),
            /// Input: the plugin's config. Output: `null`. An error stops the host's start-up.
            pub startup: HookFn,
            $($(#[$doc])* pub $field: Option<HookFn>,)*
        }

        /// The names of the optional hooks, in table order.
        pub const HOOK_NAMES: &[&str] = &[$(stringify!($field)),*];

        /// The size of the first table (ABI version 1 as first released, up to `menu_links`):
        /// the host reads a plugin's table up to its `struct_size`, so a plugin built against an
        /// older crate, with fewer hooks, keeps loading and the hooks it lacks count as absent.
        pub const FIRST_TABLE_SIZE: usize = std::mem::offset_of!(PluginTable, extra_css_urls);
    };
}

with_hooks!(plugin_table);

// SAFETY: the table is immutable and holds pointers to static data and to functions only.
unsafe impl Sync for PluginTable {}
// SAFETY: as for `Sync`: nothing in it belongs to one thread.
unsafe impl Send for PluginTable {}

/// What the host offers a plugin.
#[repr(C)]
pub struct HostTable {
    pub header: Header,
    /// Input: a `FetchRequest`. Output: a `FetchResponse`, or a message with `STATUS_ERROR`.
    pub fetch: unsafe extern "C" fn(input: Bytes, out: *mut OwnedBuf) -> i32,
    /// A line for the host's log: level 0 error, 1 warn, 2 info, 3 debug.
    pub log: unsafe extern "C" fn(level: u32, message: Bytes),
    pub free_buf: unsafe extern "C" fn(OwnedBuf),
    /// Reserved for the host; plugins pass it back untouched.
    pub context: *const c_void,
    /// Input: a `QueryRequest`. Output: a `QueryResult`, or a message with `STATUS_ERROR`.
    /// Only during a hook call (not in `startup`).
    pub query: unsafe extern "C" fn(input: Bytes, out: *mut OwnedBuf) -> i32,
    /// Input: a `PermissionCheck`. Output: `true` or `false`, the host's whole answer (allow
    /// blocks and every plugin's vote). Only during a hook call (not in `startup`).
    pub permission_allowed: unsafe extern "C" fn(input: Bytes, out: *mut OwnedBuf) -> i32,
}

/// The size of the host's first table (up to `context`): a plugin checks the host's
/// `struct_size` before it calls a service added later, so it can run on an older host.
pub const FIRST_HOST_TABLE_SIZE: usize = std::mem::offset_of!(HostTable, query);

// SAFETY: the table is immutable; its functions may be called from any thread and `context`
// is only handed back to the host.
unsafe impl Sync for HostTable {}
// SAFETY: as for `Sync`.
unsafe impl Send for HostTable {}
