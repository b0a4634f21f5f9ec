//! A library for the start-up and fault tests. By default a small valid plugin serving the
//! routes its config names; `DATASETTE_IMPOSTOR` makes its table wrong the way a foreign
//! build would be: `magic` (not a plugin), `abi` (another ABI version), `abort` (built with
//! panic = "abort"), `malformed` (every per-request hook answers bytes that are not JSON),
//! `malformed-routes`; built against another table at the same ABI version: `swapped` (two
//! hooks in each other's place), `messages` (other messages), `no-layout`, `huge-layout`; built
//! against an older crate of this ABI: `older` (its table ends before `ready`), `older-lies`
//! (its layout says so but its `struct_size` does not); or what a plugin in another language
//! could get wrong: `null-startup` and `unwinds-2`.

use std::sync::OnceLock;

use datasette_plugin_api::abi::{Bytes, OwnedBuf, PluginTable, LAYOUT, STATUS_OK};
use datasette_plugin_api::{sdk, Host, Plugin, Request, Response, Route};
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

    fn routes(&self) -> Vec<Route> {
        self.routes
            .iter()
            .map(|r| Route::from(r.as_str()))
            .collect()
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

/// A menu link, answered by hand.
unsafe extern "C" fn menu_link(_input: Bytes, out: *mut OwnedBuf) -> i32 {
    *out = OwnedBuf::from_vec(br#"[{"href": "/-/older", "label": "An older crate"}]"#.to_vec());
    STATUS_OK
}

unsafe extern "C" fn not_json(_input: Bytes, out: *mut OwnedBuf) -> i32 {
    *out = OwnedBuf::from_vec(b"{this is not json".to_vec());
    STATUS_OK
}

#[no_mangle]
pub extern "C" fn datasette_plugin_entry_v2() -> *const PluginTable {
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
            Ok("abi") => t.header.abi_version = 3,
            Ok("abort") => t.unwinds = false,
            Ok("malformed-routes") => t.routes = Some(not_json),
            Ok("malformed") => {
                t.handle = Some(not_json);
                t.actor_from_request = Some(not_json);
                t.permission_allowed = Some(not_json);
                t.menu_links = Some(not_json);
            }
            Ok("swapped") => {
                (t.routes, t.handle) = (t.handle, t.routes);
                t.layout =
                    leak(LAYOUT.replace("routes(fn?) handle(fn?)", "handle(fn?) routes(fn?)"));
            }
            Ok("messages") => t.layout = leak(LAYOUT.replace("messages 2", "messages 3")),
            Ok("no-layout") => t.layout = Bytes::from_static(""),
            Ok("huge-layout") => t.layout.len = 1 << 40,
            // As built against a crate of this ABI from before `ready`: the header and the
            // layout say the table ends there, so what lies past it (set here to a hook that
            // would answer malformed JSON) must never be read.
            Ok("older") => {
                t.header.struct_size -= 5 * std::mem::size_of::<usize>() as u32;
                t.layout = leak(LAYOUT.replace(
                    " ready(fn?) permission_allowed_many(fn?) extra_template_vars(fn?) votes_follow_queries(fn?) actor_headers(fn?)",
                    "",
                ));
                t.menu_links = Some(menu_link);
                t.ready = Some(not_json);
                t.actor_headers = Some(not_json);
            }
            // The layout says the table ends before `ready`; `struct_size` says it does not.
            Ok("older-lies") => {
                t.layout = leak(LAYOUT.replace(
                    " ready(fn?) permission_allowed_many(fn?) extra_template_vars(fn?) votes_follow_queries(fn?) actor_headers(fn?)",
                    "",
                ));
                t.ready = Some(not_json);
            }
            _ => {}
        }
        t
    })
}

fn leak(s: String) -> Bytes {
    Bytes::from_slice(Box::leak(s.into_boxed_str()).as_bytes())
}
