//! Everything read at start-up: `metadata.json` and the `--setting` values.

mod metadata;
mod settings;

pub use metadata::{CannedQuery, DatabaseMeta, Metadata, MetadataError, SourceInfo, TableMeta};
pub use settings::{SettingError, Settings};
