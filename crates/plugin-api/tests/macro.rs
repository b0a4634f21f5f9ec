//! `#[datasette_plugin]`: the table it exports offers exactly the hooks the impl defines, and
//! the macro knows the same hooks as the ABI. (A library has one entry symbol, so a test binary
//! holds one plugin: `macro_qualified.rs` has another.)

use datasette_plugin_api::abi::{Bytes, OwnedBuf, PluginTable, HOOK_NAMES, STATUS_OK};
use datasette_plugin_api::{
    datasette_plugin, Host, PermissionCheck, Plugin, Request, Resource, Response, Route,
};
use serde_json::{json, Value};

struct Greeter {
    admin: String,
}

#[datasette_plugin]
impl Plugin for Greeter {
    fn startup(config: Value, _host: &Host) -> Result<Self, String> {
        let admin = config["admin"].as_str().ok_or("`admin` is required")?;
        Ok(Greeter {
            admin: admin.to_string(),
        })
    }

    fn routes(&self) -> Vec<Route> {
        vec!["/-/greet".into()]
    }

    fn handle(&self, _request: Request, _host: &Host) -> Response {
        Response::text(200, "Hello")
    }

    fn permission_allowed(&self, check: &PermissionCheck, _host: &Host) -> Option<bool> {
        let id = check.actor.as_ref()?.get("id")?.as_str()?;
        (id == self.admin).then_some(true)
    }
}

// An inherent impl beside it is no business of the attribute's.
impl Greeter {
    #[allow(dead_code)]
    fn menu_links(&self) {}
}

extern "C" {
    // Defined, `#[no_mangle]`, by the `export_plugin!` that `#[datasette_plugin]` writes.
    fn datasette_plugin_entry_v2() -> &'static PluginTable;
}

fn table() -> &'static PluginTable {
    // SAFETY: the function is the plugin's entry, defined in this binary with this signature.
    unsafe { datasette_plugin_entry_v2() }
}

/// The optional hooks `table` exports, in table order.
macro_rules! exported_hooks_fn {
    ($($(#[$doc:meta])* $field:ident: $variant:ident,)*) => {
        fn exported_hooks(table: &PluginTable) -> Vec<&'static str> {
            let mut hooks = Vec::new();
            $(if table.$field.is_some() {
                hooks.push(stringify!($field));
            })*
            hooks
        }
    };
}
datasette_plugin_api::with_hooks!(exported_hooks_fn);

/// Calls `hook` with `input` as JSON: its status and its answer.
fn call(hook: unsafe extern "C" fn(Bytes, *mut OwnedBuf) -> i32, input: &Value) -> (i32, String) {
    let input = serde_json::to_vec(input).unwrap();
    let mut out = OwnedBuf::EMPTY;
    // SAFETY: `input` outlives the call and `out` is an empty buffer for the hook to fill.
    let status = unsafe { hook(Bytes::from_slice(&input), &mut out) };
    let bytes = Bytes {
        ptr: out.ptr,
        len: out.len,
    };
    // SAFETY: `out` is empty or holds the plugin's answer, read before it is given back.
    let answer = String::from_utf8_lossy(unsafe { bytes.as_slice() }).into_owned();
    // SAFETY: the buffer is the plugin's, given back once.
    unsafe { (table().free_buf)(out) };
    (status, answer)
}

#[test]
fn the_table_exports_exactly_the_hooks_the_impl_defines() {
    let table = table();
    assert_eq!(
        exported_hooks(table),
        ["routes", "handle", "permission_allowed"]
    );
    assert!(table.menu_links.is_none());
    assert!(table.actor_from_request.is_none());
    assert!(table.ready.is_none());
    // SAFETY: `name` points at the package's name, static.
    let name = unsafe { table.name.as_slice() };
    assert_eq!(name, b"datasette-plugin-api");
}

#[test]
fn the_hooks_exported_call_the_impl() {
    let table = table();
    let (status, answer) = call(table.startup, &json!({"admin": "root"}));
    assert_eq!((status, answer.as_str()), (STATUS_OK, "null"));

    let (status, answer) = call(table.routes.unwrap(), &Value::Null);
    assert_eq!(status, STATUS_OK, "{answer}");
    let routes: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(routes[0]["path"], "/-/greet");

    let check = |id: &str| PermissionCheck {
        actor: Some(json!({ "id": id })),
        action: "view-instance".into(),
        resource: Resource::Instance,
    };
    let allowed = |id: &str| {
        let (status, answer) = call(
            table.permission_allowed.unwrap(),
            &serde_json::to_value(check(id)).unwrap(),
        );
        assert_eq!(status, STATUS_OK, "{answer}");
        answer
    };
    assert_eq!(allowed("root"), "true");
    assert_eq!(allowed("someone"), "null");
}

#[test]
fn the_macro_knows_the_hooks_of_the_abi() {
    // The list `#[datasette_plugin]` picks hooks from, against the one the table is made from:
    // a hook added to `with_hooks!` must be added to `datasette-plugin-macros` too.
    let known: &[&str] = datasette_plugin_macros::known_hooks!();
    assert_eq!(known, HOOK_NAMES);
}
