//! One plugin library: loaded from disk, checked, and called through its table. All the
//! `unsafe` of talking to a plugin lives here.

use std::path::{Path, PathBuf};

use datasette_plugin_api::abi::*;

use super::host_services;
use super::PluginError;

/// A loaded plugin library. Never unloaded: its code may be on any thread's stack.
#[derive(Clone)]
pub struct Library {
    pub name: &'static str,
    pub version: &'static str,
    pub path: PathBuf,
    /// The version of `datasette-plugin-api` it was built against.
    pub sdk_version: &'static str,
    table: &'static PluginTable,
    /// What names it to the host's services.
    pub(super) handle: &'static host_services::PluginHandle,
}

/// How a call into a plugin went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// The plugin answered with an error message.
    Failed(String),
    /// The plugin panicked (caught at its boundary).
    Panicked(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Failed(m) => write!(f, "{m}"),
            CallError::Panicked(m) => write!(f, "panicked: {m}"),
        }
    }
}

macro_rules! hooks {
    ($($(#[$doc:meta])* $field:ident: $variant:ident,)*) => {
        /// The hooks of the table, by name, for calls and for `/-/plugins.json`: `startup`,
        /// then the ABI's list (`datasette_plugin_api::with_hooks`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Hook {
            Startup,
            $($variant,)*
        }

        impl Hook {
            pub const ALL: &[Hook] = &[Hook::Startup, $(Hook::$variant),*];

            pub fn name(self) -> &'static str {
                match self {
                    Hook::Startup => "startup",
                    $(Hook::$variant => stringify!($field),)*
                }
            }
        }

        impl Library {
            fn hook_fn(&self, hook: Hook) -> Option<HookFn> {
                match hook {
                    Hook::Startup => Some(self.table.startup),
                    $(Hook::$variant => self.table.$field,)*
                }
            }
        }
    };
}

datasette_plugin_api::with_hooks!(hooks);

impl Library {
    /// Loads and checks the library at `path`; nothing of it runs before the checks pass.
    pub fn load(path: &Path) -> Result<Library, PluginError> {
        let refuse = |problem: String| PluginError::Refused {
            path: path.to_path_buf(),
            problem,
        };
        // SAFETY: loading runs the library's initialisers, so only files the operator named
        // (metadata.json's plugins, --plugin) are loaded; nothing else of it runs before the
        // checks below pass.
        let lib = unsafe { libloading::Library::new(path) }.map_err(|e| {
            // libloading's message is "dlopen failed"; the reason is its source.
            let why = std::error::Error::source(&e).map_or(String::new(), |s| format!(": {s}"));
            refuse(format!("cannot be loaded: {e}{why}"))
        })?;
        let lib: &'static libloading::Library = Box::leak(Box::new(lib));
        // SAFETY: the symbol's type is the one every plugin ABI version's entry has: a
        // function of no arguments returning a pointer (checked before it is read).
        let entry = unsafe {
            lib.get::<unsafe extern "C" fn() -> *const PluginTable>(ENTRY_SYMBOL.as_bytes())
        }
        .map_err(|_| {
            refuse(format!(
                "is not a datasette-rs plugin: it has no `{ENTRY_SYMBOL}` symbol{}",
                other_abi_hint(lib)
            ))
        })?;
        // SAFETY: the entry only returns a pointer to its static table.
        let table = unsafe { entry() };
        if table.is_null() {
            return Err(refuse(
                "is not a datasette-rs plugin: its entry returned null".into(),
            ));
        }
        // SAFETY: the entry's pointer is to the library's static table (checked not null).
        let table = unsafe { copy_table(table) }.map_err(refuse)?;
        if !table.unwinds {
            return Err(refuse(
                "was built with panic = \"abort\": a panic in it would stop the whole server. Build it with panic = \"unwind\" (the default)".into(),
            ));
        }
        let text = |b: Bytes, what: &str| {
            // SAFETY: the table's strings point at the library's static data.
            std::str::from_utf8(unsafe { b.as_slice() })
                .map_err(|_| refuse(format!("has a {what} that is not UTF-8")))
        };
        let name = text(table.name, "name")?;
        let version = text(table.version, "version")?;
        let sdk_version = text(table.sdk_version, "sdk_version")?;
        let handle = host_services::new_handle(name);
        // SAFETY: the host's table is a static that lives as long as the process, and so does
        // the handle.
        unsafe {
            (table.set_host)(
                host_services::table(),
                (handle as *const host_services::PluginHandle).cast(),
            )
        };
        Ok(Library {
            name,
            version,
            sdk_version,
            path: path.to_path_buf(),
            table,
            handle,
        })
    }

    pub fn has(&self, hook: Hook) -> bool {
        self.hook_fn(hook).is_some()
    }

    /// Calls a hook with JSON; its JSON answer, or why there is none. `None` when the plugin
    /// does not implement the hook.
    pub fn call(&self, hook: Hook, input: &[u8]) -> Option<Result<Vec<u8>, CallError>> {
        let f = self.hook_fn(hook)?;
        let _current = host_services::calling(hook);
        let mut out = OwnedBuf::EMPTY;
        // SAFETY: `input` outlives the call and `out` is a valid place for the answer; the
        // plugin catches its own panics (it was checked to unwind) and fills `out` with a
        // buffer of its making.
        let status = unsafe { f(Bytes::from_slice(input), &mut out) };
        // SAFETY: `out` is empty or the plugin's buffer of `out.len` bytes, alive until freed.
        let bytes = unsafe {
            Bytes {
                ptr: out.ptr,
                len: out.len,
            }
            .as_slice()
        }
        .to_vec();
        // SAFETY: the plugin's buffer goes back to the plugin's `free_buf`, once.
        unsafe { (self.table.free_buf)(out) };
        crate::telemetry::hook(self.name, hook.name(), status != STATUS_OK);
        Some(match status {
            STATUS_OK => Ok(bytes),
            STATUS_PANIC => Err(CallError::Panicked(lossy(bytes))),
            _ => Err(CallError::Failed(lossy(bytes))),
        })
    }
}

/// The plugin's table, read as its header and layout say it may be, copied into one of the
/// host's (`PluginTable`, the hooks it lacks `None`) and checked field by field; what is wrong
/// with it otherwise. The copy lives as long as the process, as the library does.
///
/// # Safety
/// `table` is not null and points at the library's static table.
unsafe fn copy_table(table: *const PluginTable) -> Result<&'static PluginTable, String> {
    // SAFETY: every table of every ABI version starts with the `#[repr(C)]` header; only
    // the header is read until it says the rest is there (unaligned: a table from another
    // language need not be aligned as Rust would align it).
    let header = unsafe { std::ptr::read_unaligned(table.cast::<Header>()) };
    if header.magic != MAGIC {
        return Err(
            "is not a datasette-rs plugin: its entry table has the wrong magic number".into(),
        );
    }
    if header.abi_version != ABI_VERSION {
        return Err(format!(
            "was built for plugin ABI version {}, but this datasette-rs speaks version {ABI_VERSION}: rebuild it against this version of datasette-plugin-api",
            header.abi_version
        ));
    }
    let size = header.struct_size as usize;
    // SAFETY: the header says the table holds `size` bytes.
    let described = unsafe { check_layout(table, size) }?;
    if size < described {
        return Err(format!(
            "has a plugin table of {size} bytes, smaller than the {described} its layout describes"
        ));
    }
    // What lies past the table its layout describes is not read, whatever `struct_size`.
    let size = described;
    if size < FIRST_TABLE_SIZE {
        return Err(format!(
            "has a plugin table of {size} bytes, smaller than the {FIRST_TABLE_SIZE} of ABI version {ABI_VERSION}"
        ));
    }
    // Only whole hooks past the first table: a size cutting one in half would leave a
    // pointer made of the plugin's bytes and zeros.
    let hook = std::mem::size_of::<Option<HookFn>>();
    let size = FIRST_TABLE_SIZE + (size - FIRST_TABLE_SIZE) / hook * hook;
    // A plugin built against an older datasette-plugin-api has a shorter table: the hooks
    // added since are absent (an all-zero `Option<fn>` is `None`). A newer one's extra
    // hooks are not read.
    let mut copy = std::mem::MaybeUninit::<PluginTable>::zeroed();
    // SAFETY: the plugin's table has `size` readable bytes (its header says so) and the
    // copy takes at most as many as a `PluginTable` holds; every field not copied stays
    // zero, which is `None` for the optional hooks, the only fields past the first table.
    unsafe {
        std::ptr::copy_nonoverlapping(
            table.cast::<u8>(),
            copy.as_mut_ptr().cast::<u8>(),
            size.min(std::mem::size_of::<PluginTable>()),
        );
    }
    check_raw_table(&copy)?;
    // SAFETY: the copy holds a whole table whose required functions are not null, whose
    // `unwinds` is 0 or 1 and whose strings point somewhere (checked just above). The
    // library is never unloaded (leaked above), so what the table points to lives on.
    Ok(Box::leak(Box::new(unsafe { copy.assume_init() })))
}

/// The most a layout description may be: far more than [`LAYOUT`] will ever need, and little
/// enough that a wild length is not read.
const MAX_LAYOUT: usize = 64 << 10;

/// Refuses a table whose layout is not this host's (a plugin built against a changed table or
/// changed messages at the same ABI version), before anything past `layout` is read.
///
/// # Safety
/// `table` points at `size` readable bytes.
/// Its answer is the size of the table the layout describes.
unsafe fn check_layout(table: *const PluginTable, size: usize) -> Result<usize, String> {
    use std::mem::{offset_of, size_of};
    let rebuild = || format!("rebuild it against datasette-plugin-api {SDK_VERSION}");
    let at = offset_of!(PluginTable, layout);
    if size < at + size_of::<Bytes>() {
        return Err(format!(
            "has a plugin table of {size} bytes, too small to hold its layout: {}",
            rebuild()
        ));
    }
    // SAFETY: the field lies inside the table's `size` bytes (checked above).
    let layout = unsafe { table.cast::<u8>().add(at).cast::<Bytes>().read_unaligned() };
    if layout.ptr.is_null() || layout.len == 0 || layout.len > MAX_LAYOUT {
        return Err(format!(
            "has no layout description in its table: {}",
            rebuild()
        ));
    }
    // SAFETY: the table's strings point at the library's static data, `len` bytes of it.
    let text = std::str::from_utf8(unsafe { layout.as_slice() })
        .map_err(|_| format!("has a layout description that is not UTF-8: {}", rebuild()))?;
    compatible_layout(text, LAYOUT).map_err(|difference| {
        format!(
            "was built against another plugin table: {difference}; {}",
            rebuild()
        )
    })?;
    // Compatible, so the plugin table's fields are this host's up to the shorter of the two,
    // and any more are optional hooks, a pointer each.
    let hooks = layout_fields(text, "plugin table")
        .iter()
        .filter(|f| f.ends_with("(fn?)"))
        .count();
    Ok(offset_of!(PluginTable, routes) + hooks * size_of::<Option<HookFn>>())
}

/// What a plugin not written in Rust could get wrong, checked in the table's bytes before
/// they are taken as a `PluginTable`: a null required function or a `bool` other than 0 or 1
/// would be undefined behaviour in the host, not an error.
fn check_raw_table(copy: &std::mem::MaybeUninit<PluginTable>) -> Result<(), String> {
    use std::mem::{offset_of, size_of};
    let raw = copy.as_ptr().cast::<u8>();
    // SAFETY: every offset read is inside the table (`offset_of!` its fields), whose bytes are
    // all initialised (zeroed, then copied over).
    let word = |offset: usize| unsafe { raw.add(offset).cast::<usize>().read_unaligned() };
    let required = [
        ("free_buf", offset_of!(PluginTable, free_buf)),
        ("set_host", offset_of!(PluginTable, set_host)),
        ("startup", offset_of!(PluginTable, startup)),
    ];
    for (field, offset) in required {
        if word(offset) == 0 {
            return Err(format!(
                "has no `{field}` function in its table (a null pointer)"
            ));
        }
    }
    // SAFETY: as above; one byte inside the table.
    let unwinds = unsafe { *raw.add(offset_of!(PluginTable, unwinds)) };
    if unwinds > 1 {
        return Err(format!(
            "has `unwinds` = {unwinds} in its table: it must be 0 or 1"
        ));
    }
    for (field, offset) in [
        ("name", offset_of!(PluginTable, name)),
        ("version", offset_of!(PluginTable, version)),
        ("sdk_version", offset_of!(PluginTable, sdk_version)),
    ] {
        if word(offset) == 0 && word(offset + size_of::<usize>()) != 0 {
            return Err(format!("has a null `{field}` with a length in its table"));
        }
    }
    Ok(())
}

fn lossy(b: Vec<u8>) -> String {
    String::from_utf8(b).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// A hint when a library exports the entry of another ABI version.
fn other_abi_hint(lib: &libloading::Library) -> String {
    (1..=9)
        .filter(|v| *v != ABI_VERSION)
        .find(|v| {
            let sym = format!("datasette_plugin_entry_v{v}");
            // SAFETY: the symbol is only looked up, never called.
            unsafe { lib.get::<unsafe extern "C" fn()>(sym.as_bytes()) }.is_ok()
        })
        .map(|v| format!(" (it exports the entry of plugin ABI version {v}; this datasette-rs speaks version {ABI_VERSION})"))
        .unwrap_or_default()
}
