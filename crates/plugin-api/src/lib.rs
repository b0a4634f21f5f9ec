//! `datasette-plugin-api`: everything a datasette-rs plugin needs, and all the host and a
//! plugin agree on.
//!
//! A plugin is a `cdylib` written in ordinary, safe Rust:
//!
//! ```
//! use datasette_plugin_api::{datasette_plugin, Host, PermissionCheck, Plugin};
//! use serde_json::Value;
//!
//! /// Lets the actor named in the config see everything.
//! struct Superuser {
//!     id: String,
//! }
//!
//! #[datasette_plugin]
//! impl Plugin for Superuser {
//!     fn startup(config: Value, _host: &Host) -> Result<Self, String> {
//!         let id = config["id"].as_str().ok_or("`id` is required")?;
//!         Ok(Superuser { id: id.to_string() })
//!     }
//!
//!     fn permission_allowed(&self, check: &PermissionCheck, _host: &Host) -> Option<bool> {
//!         let id = check.actor.as_ref()?.get("id")?.as_str()?;
//!         (id == self.id).then_some(true)
//!     }
//! }
//! ```
//!
//! [`#[datasette_plugin]`](datasette_plugin) on the impl exports the plugin with exactly the
//! hooks the impl defines (here `permission_allowed`; `startup` always), so a hook written is
//! a hook called. [`export_plugin!`] stays for exact, C-like control of what is exported:
//! `export_plugin!(Superuser: permission_allowed);` after a plain impl does the same, and a
//! hook the impl defines but the list leaves out is never called.
//!
//! What crosses between the host and the plugin is a C ABI ([`abi`]) carrying JSON
//! ([`messages`]); the [`sdk`] glue turns it into the [`Plugin`] trait. Every call into a plugin
//! catches panics, so a bug in a plugin fails one request, not the server.

// Every unsafe operation sits in its own block with a `// SAFETY:` comment saying why it
// holds, unsafe functions included.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

// GUIDE.md is a link to docs/writing-plugins.md, so the published package carries the guide.
#[doc = include_str!("../GUIDE.md")]
pub mod guide {}

pub mod abi;
pub mod body;
pub mod html;
pub mod messages;
pub mod sdk;
pub mod security;
pub mod urlencoded;

pub use body::{Multipart, Part, PartReader};
pub use messages::{
    DatabaseInfo, DatabasesRequest, FetchRequest, FetchResponse, Forbidden, FunctionCall,
    InsertOptions, InsertRequest, MenuLink, MenuLinksRequest, OutputData, OutputRenderer,
    PageContext, PermissionCheck, PermissionChecks, QueryRequest, QueryResult, RenderCells,
    RenderedCell, Request, Resource, Response, Route, SignRequest, SqlFunction, UnsignRequest,
    WriteRequest, WriteResult,
};
pub use sdk::{Host, Level, Plugin, Writes};

/// Put on `impl Plugin for MyPlugin { … }`: exports the plugin, with exactly the hooks the impl
/// defines. It expands to the impl and [`export_plugin!`] naming them.
///
/// Anything else is an error at compile time:
///
/// ```compile_fail
/// use datasette_plugin_api::datasette_plugin;
///
/// #[datasette_plugin] // error: goes on a plugin's `impl Plugin for YourType { ... }`
/// struct NotAnImpl;
/// ```
///
/// ```compile_fail
/// use datasette_plugin_api::{datasette_plugin, Host, Plugin};
///
/// struct Mine;
///
/// #[datasette_plugin] // error: this impl names no trait
/// impl Mine {
///     fn startup(_config: serde_json::Value, _host: &Host) -> Result<Self, String> {
///         Ok(Mine)
///     }
/// }
/// ```
///
/// ```compile_fail
/// use datasette_plugin_api::datasette_plugin;
///
/// struct Mine;
///
/// #[datasette_plugin] // error: not of `Clone`
/// impl Clone for Mine {
///     fn clone(&self) -> Self {
///         Mine
///     }
/// }
/// ```
///
/// ```compile_fail
/// use datasette_plugin_api::{datasette_plugin, Host, Plugin};
///
/// struct Mine;
///
/// #[datasette_plugin(routes)] // error: takes no arguments
/// impl Plugin for Mine {
///     fn startup(_config: serde_json::Value, _host: &Host) -> Result<Self, String> {
///         Ok(Mine)
///     }
/// }
/// ```
pub use datasette_plugin_macros::datasette_plugin;
pub use serde_json;

/// Exports a [`Plugin`] from a `cdylib`: `export_plugin!(MyPlugin: routes, handle);`, naming
/// the hooks it implements besides `startup` (any of [`abi::HOOK_NAMES`]: `routes`, `handle`,
/// `actor_from_request`, `permission_allowed`, `menu_links`, `extra_css_urls`,
/// `extra_js_urls`, `extra_body_script`, `table_actions`, `database_actions`, `row_actions`,
/// `forbidden`, `prepare_connection`, `call_function`, `render_cell`, `register_output_renderer`,
/// `render_output`, `ready`, `permission_allowed_many`, `extra_template_vars`,
/// `votes_follow_queries`, `actor_headers`).
/// The plugin's name and version are its package's. A hook the plugin implements but does not
/// list here is never called: [`#[datasette_plugin]`](datasette_plugin) lists them for you.
///
/// A name that is not a hook fails the build:
///
/// ```compile_fail,E0080
/// use datasette_plugin_api::{export_plugin, Host, Plugin};
///
/// struct Mine;
///
/// impl Plugin for Mine {
///     fn startup(_config: serde_json::Value, _host: &Host) -> Result<Self, String> {
///         Ok(Mine)
///     }
/// }
///
/// export_plugin!(Mine: routes, no_such_hook);
/// ```
///
/// ```compile_fail,E0080
/// # use datasette_plugin_api::{export_plugin, Host, Plugin};
/// # struct Mine;
/// # impl Plugin for Mine {
/// #     fn startup(_config: serde_json::Value, _host: &Host) -> Result<Self, String> {
/// #         Ok(Mine)
/// #     }
/// # }
/// // Every hook, and one that is not.
/// export_plugin!(Mine:
///     routes, handle, actor_from_request, permission_allowed, menu_links, extra_css_urls,
///     extra_js_urls, extra_body_script, table_actions, database_actions, row_actions,
///     forbidden, prepare_connection, call_function, render_cell, register_output_renderer,
///     render_output, ready, permission_allowed_many, extra_template_vars, votes_follow_queries,
///     actor_headers, no_such_hook
/// );
/// ```
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty $(: $($hook:ident),* $(,)?)?) => {
        const _: () = {
            struct Slot;
            impl $crate::sdk::Slot for Slot {
                type P = $plugin;
                fn cell() -> &'static ::std::sync::OnceLock<$plugin> {
                    static CELL: ::std::sync::OnceLock<$plugin> = ::std::sync::OnceLock::new();
                    &CELL
                }
            }
            static TABLE: $crate::abi::PluginTable = $crate::sdk::table::<Slot>(
                env!("CARGO_PKG_NAME"),
                env!("CARGO_PKG_VERSION"),
                &[$($(stringify!($hook)),*)?],
            );
            #[no_mangle]
            pub extern "C" fn datasette_plugin_entry_v2() -> &'static $crate::abi::PluginTable {
                &TABLE
            }
        };
    };
}
