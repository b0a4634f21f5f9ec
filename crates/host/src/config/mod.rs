//! Everything read at start-up: `metadata.json`, the `--setting` values and the options
//! kept with them.

pub mod file;
mod metadata;
mod secrets;
mod settings;
mod static_mount;

pub use metadata::{
    AssetUrl, CannedQuery, DatabaseMeta, Metadata, MetadataError, SourceInfo, TableMeta,
};
pub use secrets::resolve_secrets;
pub use settings::{SettingError, Settings};
pub use static_mount::StaticMount;
