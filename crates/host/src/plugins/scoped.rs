//! Each plugin's configuration as a page sees it: the instance's block, overridden by its
//! database's and its table's.

use std::collections::HashMap;

use serde_json::Value;

use super::{Hook, PluginError};
use crate::config::Metadata;

/// A plugin's configuration at each level of metadata.json (`$env`/`$file` resolved): hooks
/// about a table get the most specific block, as Datasette's `plugin_config()` gives.
#[derive(Default)]
pub(super) struct ScopedConfig {
    pub(super) instance: Value,
    databases: HashMap<String, Value>,
    tables: HashMap<(String, String), Value>,
}

/// The hooks told a page's configuration (`PageContext::config`): a plugin with none of them
/// reads only its top-level block.
pub(super) const PAGE_HOOKS: &[Hook] = &[
    Hook::ExtraCssUrls,
    Hook::ExtraJsUrls,
    Hook::ExtraBodyScript,
    Hook::TableActions,
    Hook::DatabaseActions,
    Hook::RowActions,
    Hook::Forbidden,
    Hook::RenderCell,
    Hook::RenderOutput,
];

impl ScopedConfig {
    /// Where in metadata.json a block below the top level sits, if there is one.
    pub(super) fn nested_path(&self) -> Option<String> {
        let db = self
            .databases
            .keys()
            .next()
            .map(|db| format!("databases.{db}.plugins"));
        db.or_else(|| {
            let (db, table) = self.tables.keys().next()?;
            Some(format!("databases.{db}.tables.{table}.plugins"))
        })
    }

    pub(super) fn read(name: &str, metadata: &Metadata) -> Result<ScopedConfig, PluginError> {
        let resolve = |raw: &Value| {
            crate::config::resolve_secrets(raw).map_err(|message| PluginError::Config {
                name: name.into(),
                message,
            })
        };
        let mut scoped = ScopedConfig {
            instance: match metadata.plugins.get(name) {
                Some(raw) => resolve(raw)?,
                None => Value::Object(Default::default()),
            },
            ..ScopedConfig::default()
        };
        for (db, meta) in &metadata.databases {
            if let Some(raw) = meta.plugins.get(name) {
                scoped.databases.insert(db.clone(), resolve(raw)?);
            }
            for (table, meta) in &meta.tables {
                if let Some(raw) = meta.plugins.get(name) {
                    scoped
                        .tables
                        .insert((db.clone(), table.clone()), resolve(raw)?);
                }
            }
        }
        Ok(scoped)
    }

    /// The block for a page about `database` and `table`: the table's, else the database's,
    /// else the instance's.
    pub(super) fn for_page(&self, database: Option<&str>, table: Option<&str>) -> &Value {
        let db = database.unwrap_or_default();
        table
            .and_then(|t| self.tables.get(&(db.to_string(), t.to_string())))
            .or_else(|| self.databases.get(db))
            .unwrap_or(&self.instance)
    }
}
