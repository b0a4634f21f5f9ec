//! `#[datasette_plugin]` on `impl datasette_plugin_api::Plugin for path::Type`, with no `use`
//! of the crate's macros: the hooks defined are exported, the others not. (One plugin per test
//! binary: `macro.rs` has the other.)

use datasette_plugin_api::abi::PluginTable;
use datasette_plugin_api::SqlFunction;

mod inner {
    pub struct Functions;
}

#[datasette_plugin_api::datasette_plugin]
impl datasette_plugin_api::Plugin for inner::Functions {
    fn startup(
        _config: serde_json::Value,
        _host: &datasette_plugin_api::Host,
    ) -> Result<Self, String> {
        Ok(inner::Functions)
    }

    fn prepare_connection(&self) -> Vec<SqlFunction> {
        vec![]
    }

    fn ready(&self, _host: &datasette_plugin_api::Host) {}

    fn call_function(
        &self,
        _call: &datasette_plugin_api::FunctionCall,
        _host: &datasette_plugin_api::Host,
    ) -> Result<serde_json::Value, String> {
        Ok(serde_json::Value::Null)
    }
}

extern "C" {
    // Defined, `#[no_mangle]`, by the `export_plugin!` that `#[datasette_plugin]` writes.
    fn datasette_plugin_entry_v2() -> &'static PluginTable;
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

#[test]
fn a_qualified_trait_path_exports_the_hooks_defined() {
    // SAFETY: the function is the plugin's entry, defined in this binary with this signature.
    let table = unsafe { datasette_plugin_entry_v2() };
    // In table order, whatever the impl's.
    assert_eq!(
        exported_hooks(table),
        ["prepare_connection", "call_function", "ready"]
    );
    assert!(table.routes.is_none() && table.handle.is_none());
}
