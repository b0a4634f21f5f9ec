//! Everything read at start-up: `metadata.json` and the `--setting` values.

mod metadata;
mod secrets;
mod settings;

pub use metadata::{CannedQuery, DatabaseMeta, Metadata, MetadataError, SourceInfo, TableMeta};
pub use secrets::resolve_secrets;
pub use settings::{SettingError, Settings};
