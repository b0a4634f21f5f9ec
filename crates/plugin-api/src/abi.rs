//! The C ABI between the host and a plugin library. Only these `#[repr(C)]` types and
//! `extern "C"` functions cross; everything else crosses as UTF-8 JSON bytes.
//!
//! Rules that keep old plugins and new hosts (and the other way round) working:
//! - whoever allocates a buffer frees it: the host hands a plugin's buffers back through the
//!   plugin's `free_buf`, and a plugin hands the host's back through the host's;
//! - the tables only grow at their end, and `struct_size` says how much of a table there is;
//! - each table carries [`LAYOUT`], the description of both tables and of the messages'
//!   version it was built with: the host refuses a plugin whose description differs from its
//!   own other than by hooks or services added at the end, so a table changed in the middle is
//!   an error naming the plugin, never a call through the wrong pointer;
//! - a breaking change is a new entry symbol (`datasette_plugin_entry_v3`).

use std::ffi::c_void;

/// "DSRSPLUG": the first field of every table, so a stray symbol is not taken for a plugin.
pub const MAGIC: u64 = u64::from_be_bytes(*b"DSRSPLUG");
pub const ABI_VERSION: u32 = 2;
/// The one symbol a plugin library exports: `extern "C" fn() -> *const PluginTable`, a
/// pointer to a table that lives as long as the library.
pub const ENTRY_SYMBOL: &str = "datasette_plugin_entry_v2";
/// The version of this crate, which a plugin's table carries (`sdk_version`) and the host
/// names when it refuses one.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

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
            /// Input: a `Request`, its body's bytes after the JSON. Output: a `Response`, its
            /// body's bytes after the JSON.
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
            /// Input: `null`. Output: `null`. Called once, when the server serves: from here
            /// on the host's services may be called from any thread, for as long as the
            /// process lives.
            ready: Ready,
            /// Input: a `PermissionChecks` (one actor, one action, many resources). Output: a
            /// list of `true`, `false` or `null`, one for each resource, in order. Asked instead
            /// of `permission_allowed` when the host needs many answers at once (every table
            /// of a database).
            permission_allowed_many: PermissionAllowedMany,
            /// Input: a `PageContext`. Output: an object whose keys become variables of the
            /// site's own templates (`--template-dir`), or `null`.
            extra_template_vars: ExtraTemplateVars,
            /// Input: `null`. Output: `true` when the plugin's permission votes depend on
            /// nothing but the actor, the check, its configuration and what its own queries
            /// (`query`) read while it votes; asked once at load. The host then reuses its votes
            /// until a database they read changes, instead of asking on every request.
            votes_follow_queries: VotesFollowQueries,
            /// Input: `null`. Output: the lower-case names of the request headers without
            /// which `actor_from_request` answers `null` (`["authorization"]`), or `null`: it
            /// may recognise an actor in any request. Asked once at load; the host then asks
            /// `actor_from_request` only about requests that carry one of them.
            actor_headers: ActorHeaders,
        }
    };
}

macro_rules! plugin_table {
    ($($(#[$doc:meta])* $field:ident: $variant:ident,)*) => {
        /// What a plugin library offers the host. A hook that is `None` is not implemented.
        #[repr(C)]
        pub struct PluginTable {
            pub header: Header,
            /// [`LAYOUT`] as the plugin was built: checked before anything past it is read.
            pub layout: Bytes,
            /// The version of `datasette-plugin-api` the plugin was built against.
            pub sdk_version: Bytes,
            pub name: Bytes,
            pub version: Bytes,
            /// Built with `panic = "unwind"`: panics can be caught at the boundary. A plugin
            /// built with `panic = "abort"` would take the host down with it, so the host
            /// refuses it. A plugin in another language sets it when nothing it does unwinds
            /// or aborts across the boundary.
            pub unwinds: bool,
            pub free_buf: unsafe extern "C" fn(OwnedBuf),
            /// Called once, before anything else, with the host's services and the handle
            /// that names this plugin in every call to them.
            pub set_host: unsafe extern "C" fn(host: *const HostTable, plugin: *const c_void),
            /// Input: the plugin's config. Output: `null`. An error stops the host's start-up.
            pub startup: HookFn,
            $($(#[$doc])* pub $field: Option<HookFn>,)*
        }

        /// The names of the optional hooks, in table order.
        pub const HOOK_NAMES: &[&str] = &[$(stringify!($field)),*];

        /// Both tables and the messages, described: what the host compares before it reads a
        /// plugin's table past `layout`. Each field is named with its kind (`fn?` a nullable
        /// function; `bytes` a pointer and a length); `messages N` is the version of the JSON
        /// messages, raised whenever one changes in a way an older side would misread. A
        /// field's kind never changes without its name changing too.
        pub const LAYOUT: &str = concat!(
            "messages 2; ",
            "plugin table: header(u64,u32,u32) layout(bytes) sdk_version(bytes) name(bytes) ",
            "version(bytes) unwinds(bool) free_buf(fn) set_host(fn) startup(fn)",
            $(" ", stringify!($field), "(fn?)",)*
            "; host table: header(u64,u32,u32) layout(bytes) free_buf(fn) log(fn)",
            " fetch(fn?) query(fn?) permission_allowed(fn?) databases(fn?) execute_write(fn?)",
            " insert_rows(fn?) sign(fn?) unsign(fn?)"
        );

        /// The size of the table's fixed part: a table holds it and any number of the optional
        /// hooks, as its layout says. The host reads a plugin's table up to that, so a plugin
        /// built against an older crate of this ABI, with fewer hooks, keeps loading and the
        /// hooks it lacks count as absent.
        pub const FIRST_TABLE_SIZE: usize = std::mem::offset_of!(PluginTable, routes);
    };
}

with_hooks!(plugin_table);

// SAFETY: the table is immutable and holds pointers to static data and to functions only.
unsafe impl Sync for PluginTable {}
// SAFETY: as for `Sync`: nothing in it belongs to one thread.
unsafe impl Send for PluginTable {}

/// One of the host's services: JSON in, JSON (or a message) out, a `STATUS_*` returned.
/// `plugin` is the handle the host gave in `set_host`, which says who is calling from any
/// thread.
pub type ServiceFn =
    unsafe extern "C" fn(plugin: *const c_void, input: Bytes, out: *mut OwnedBuf) -> i32;

/// What the host offers a plugin. Every service fills `out` with a buffer of the host's,
/// given back to `free_buf` whatever the status.
#[repr(C)]
pub struct HostTable {
    pub header: Header,
    /// [`LAYOUT`] as the host was built.
    pub layout: Bytes,
    pub free_buf: unsafe extern "C" fn(OwnedBuf),
    /// A line for the host's log, under the plugin's name: level 0 error, 1 warn, 2 info,
    /// 3 debug.
    pub log: unsafe extern "C" fn(plugin: *const c_void, level: u32, message: Bytes),
    /// Input: a `FetchRequest`. Output: a `FetchResponse`. Blocks: not from inline hooks.
    pub fetch: Option<ServiceFn>,
    /// Input: a `QueryRequest`. Output: a `QueryResult`.
    pub query: Option<ServiceFn>,
    /// Input: a `PermissionCheck`. Output: `true` or `false`, the host's whole answer (allow
    /// blocks and every plugin's vote).
    pub permission_allowed: Option<ServiceFn>,
    /// Input: a `DatabasesRequest`. Output: a list of `DatabaseInfo`.
    pub databases: Option<ServiceFn>,
    /// Input: a `WriteRequest`. Output: a `WriteResult`. Blocks: not from inline hooks.
    pub execute_write: Option<ServiceFn>,
    /// Input: an `InsertRequest`. Output: a `WriteResult`. Blocks: not from inline hooks.
    pub insert_rows: Option<ServiceFn>,
    /// Input: a `SignRequest`. Output: the signed text.
    pub sign: Option<ServiceFn>,
    /// Input: an `UnsignRequest`. Output: the value signed, or a message with `STATUS_ERROR`.
    pub unsign: Option<ServiceFn>,
}

// SAFETY: the table is immutable; its functions may be called from any thread.
unsafe impl Sync for HostTable {}
// SAFETY: as for `Sync`.
unsafe impl Send for HostTable {}

/// Whether a table described by `theirs` can be used by a side built with `ours` ([`LAYOUT`]):
/// the same messages version, and each table the same field for field, except that either may
/// have more nullable fields (`fn?`) at its end. `Err` says the first difference.
pub fn compatible_layout(theirs: &str, ours: &str) -> Result<(), String> {
    let (theirs, ours) = (sections(theirs), sections(ours));
    if theirs.len() != ours.len() {
        return Err(format!(
            "its layout has {} sections where this host's has {}",
            theirs.len(),
            ours.len()
        ));
    }
    for ((their_name, their_fields), (our_name, our_fields)) in theirs.iter().zip(&ours) {
        if their_name != our_name {
            return Err(format!(
                "its layout has \"{their_name}\" where this host's has \"{our_name}\""
            ));
        }
        let common = their_fields.len().min(our_fields.len());
        if let Some(i) = (0..common).find(|&i| their_fields[i] != our_fields[i]) {
            return Err(format!(
                "its {their_name} has {} as field {} where this host's has {}",
                their_fields[i],
                i + 1,
                our_fields[i]
            ));
        }
        let longer = if their_fields.len() > common {
            their_fields
        } else {
            our_fields
        };
        if let Some(field) = longer[common..].iter().find(|f| !f.ends_with("(fn?)")) {
            return Err(format!(
                "its {their_name} differs from this host's in length at {field}, which is not an optional function"
            ));
        }
    }
    Ok(())
}

/// A layout's sections, each its name and its fields (`messages 2` is a section without fields).
fn sections(layout: &str) -> Vec<(&str, Vec<&str>)> {
    layout
        .split(';')
        .map(|section| {
            let section = section.trim();
            let (name, fields) = section.split_once(':').unwrap_or((section, ""));
            (name.trim(), fields.split_whitespace().collect())
        })
        .collect()
}

/// The fields of one of a layout's tables (`"plugin table"`, `"host table"`).
pub fn layout_fields<'a>(layout: &'a str, table: &str) -> Vec<&'a str> {
    sections(layout)
        .into_iter()
        .find(|(name, _)| *name == table)
        .map(|(_, fields)| fields)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    #[test]
    fn the_layout_describes_the_tables_as_rust_lays_them_out() {
        // Laid out as C would from the kinds named: each field at the next multiple of its
        // alignment.
        fn offsets(fields: &[&str]) -> Vec<(String, usize)> {
            let word = size_of::<usize>();
            let mut at: usize = 0;
            fields
                .iter()
                .map(|f| {
                    let (name, kind) = f.split_once('(').unwrap();
                    let (size, align) = match kind.trim_end_matches(')') {
                        "u64,u32,u32" => (16, 8),
                        "bytes" => (2 * word, word),
                        "bool" => (1, 1),
                        "fn" | "fn?" => (word, word),
                        other => panic!("unknown kind {other}"),
                    };
                    at = at.next_multiple_of(align);
                    let here = at;
                    at += size;
                    (name.to_string(), here)
                })
                .collect()
        }
        let section = |name: &str| layout_fields(LAYOUT, name);
        let plugin = offsets(&section("plugin table"));
        assert_eq!(plugin.len(), 9 + HOOK_NAMES.len());
        assert_eq!(
            plugin[1],
            ("layout".into(), offset_of!(PluginTable, layout))
        );
        assert_eq!(
            plugin[5],
            ("unwinds".into(), offset_of!(PluginTable, unwinds))
        );
        assert_eq!(
            plugin[6],
            ("free_buf".into(), offset_of!(PluginTable, free_buf))
        );
        assert_eq!(
            plugin[8],
            ("startup".into(), offset_of!(PluginTable, startup))
        );
        let last = plugin.last().unwrap();
        assert_eq!(last.1 + size_of::<usize>(), size_of::<PluginTable>());
        let host = offsets(&section("host table"));
        assert_eq!(host[3], ("log".into(), offset_of!(HostTable, log)));
        assert_eq!(host[4], ("fetch".into(), offset_of!(HostTable, fetch)));
        assert_eq!(host.last().unwrap().1, offset_of!(HostTable, unsign));
        assert_eq!(
            host.last().unwrap().1 + size_of::<usize>(),
            size_of::<HostTable>()
        );
    }

    #[test]
    fn hooks_added_at_the_end_are_compatible_anything_else_is_named() {
        assert_eq!(compatible_layout(LAYOUT, LAYOUT), Ok(()));
        let older = LAYOUT.replace(
            " ready(fn?) permission_allowed_many(fn?) extra_template_vars(fn?) votes_follow_queries(fn?) actor_headers(fn?)",
            "",
        );
        assert_eq!(compatible_layout(&older, LAYOUT), Ok(()));
        assert_eq!(compatible_layout(LAYOUT, &older), Ok(()));
        let older_host = LAYOUT.replace(" sign(fn?) unsign(fn?)", "");
        assert_eq!(compatible_layout(&older_host, LAYOUT), Ok(()));
        let swapped = LAYOUT.replace("routes(fn?) handle(fn?)", "handle(fn?) routes(fn?)");
        let e = compatible_layout(&swapped, LAYOUT).unwrap_err();
        assert!(
            e.contains("handle(fn?) as field 10 where this host's has routes(fn?)"),
            "{e}"
        );
        let messages = LAYOUT.replace("messages 2", "messages 3");
        let e = compatible_layout(&messages, LAYOUT).unwrap_err();
        assert!(
            e.contains("\"messages 3\" where this host's has \"messages 2\""),
            "{e}"
        );
        let inserted = LAYOUT.replace("unwinds(bool)", "unwinds(bool) flags(u32)");
        assert!(compatible_layout(&inserted, LAYOUT).is_err());
        let grown = format!("{LAYOUT} extra(bytes)");
        let e = compatible_layout(&grown, LAYOUT).unwrap_err();
        assert!(
            e.contains("extra(bytes), which is not an optional function"),
            "{e}"
        );
    }
}
