//! A library for the start-up and fault tests. By default a small valid plugin serving the
//! routes its config names; `DATASETTE_IMPOSTOR` makes its table wrong the way a foreign
//! build would be: `magic` (not a plugin), `abi` (another ABI version), `abort` (built with
//! panic = "abort"), `malformed` (every per-request hook answers bytes that are not JSON),
//! `malformed-routes`, `first-table` (the first ABI's shorter table), or what a plugin in
//! another language could get wrong: `null-startup` and `unwinds-2`.

use std::sync::OnceLock;

use datasette_plugin_api::abi::{Bytes, OwnedBuf, PluginTable, STATUS_OK};
use datasette_plugin_api::{sdk, Host, Plugin, Request, Response};
use serde_json::Value;

struct Impostor {
    routes: Vec<String>,
}

impl Plugin for Impostor {
    fn startup(config: Value, _host: &Host) -> Result<Self, String> {
        let routes = config["routes"]
            .as_array()
            .map(|r| {
                r.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Impostor { routes })
    }

    fn routes(&self) -> Vec<String> {
        self.routes.clone()
    }

    fn handle(&self, _request: Request, _host: &Host) -> Response {
        Response::text(200, "impostor")
    }
}

struct Slot;

impl sdk::Slot for Slot {
    type P = Impostor;
    fn cell() -> &'static OnceLock<Impostor> {
        static CELL: OnceLock<Impostor> = OnceLock::new();
        &CELL
    }
}

/// A menu link, answered by hand as a plugin of the first ABI table would.
unsafe extern "C" fn menu_link(_input: Bytes, out: *mut OwnedBuf) -> i32 {
    *out = OwnedBuf::from_vec(br#"[{"href": "/-/first-table", "label": "First table"}]"#.to_vec());
    STATUS_OK
}

unsafe extern "C" fn not_json(_input: Bytes, out: *mut OwnedBuf) -> i32 {
    *out = OwnedBuf::from_vec(b"{this is not json".to_vec());
    STATUS_OK
}

#[no_mangle]
pub extern "C" fn datasette_plugin_entry_v1() -> *const PluginTable {
    let table = table();
    match std::env::var("DATASETTE_IMPOSTOR").as_deref() {
        Ok(mode @ ("null-startup" | "unwinds-2")) => broken_copy(table, mode),
        _ => table,
    }
}

/// The table with what a plugin written in C could get wrong, which no Rust `PluginTable` can
/// hold: a null `startup`, or `unwinds` neither 0 nor 1.
fn broken_copy(table: &PluginTable, mode: &str) -> *const PluginTable {
    use std::mem::{offset_of, size_of};
    let size = size_of::<PluginTable>();
    // u64s keep the copy aligned as the table is.
    let mut words = vec![0u64; size.div_ceil(8)];
    let raw = words.as_mut_ptr().cast::<u8>();
    // SAFETY: both hold `size` bytes; the copy is only ever read as bytes by the host, which
    // checks them before it takes them as a table.
    unsafe {
        std::ptr::copy_nonoverlapping((table as *const PluginTable).cast::<u8>(), raw, size);
        match mode {
            "null-startup" => raw
                .add(offset_of!(PluginTable, startup))
                .write_bytes(0, size_of::<usize>()),
            _ => *raw.add(offset_of!(PluginTable, unwinds)) = 2,
        }
    }
    Box::leak(words.into_boxed_slice()).as_ptr().cast()
}

fn table() -> &'static PluginTable {
    static TABLE: OnceLock<PluginTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = sdk::table::<Slot>(
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            &["routes", "handle"],
        );
        match std::env::var("DATASETTE_IMPOSTOR").as_deref() {
            Ok("magic") => t.header.magic = 0x1234,
            Ok("abi") => t.header.abi_version = 2,
            Ok("abort") => t.unwinds = false,
            Ok("malformed-routes") => t.routes = Some(not_json),
            Ok("malformed") => {
                t.handle = Some(not_json);
                t.actor_from_request = Some(not_json);
                t.permission_allowed = Some(not_json);
                t.menu_links = Some(not_json);
            }
            // A table as a plugin built before the page hooks has it: the header says it ends
            // where the first table ended, so what lies past it (set here to hooks that would
            // answer malformed JSON) must never be read.
            Ok("first-table") => {
                t.header.struct_size = datasette_plugin_api::abi::FIRST_TABLE_SIZE as u32;
                t.menu_links = Some(menu_link);
                t.extra_css_urls = Some(not_json);
                t.table_actions = Some(not_json);
            }
            _ => {}
        }
        t
    })
}
