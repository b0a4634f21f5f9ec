//! Finding plugins: the blocks of metadata.json that name one, and the library each names,
//! in `--plugins-dir` and beside the executable.

use std::path::{Path, PathBuf};

use super::{LoadOptions, PluginError};
use crate::config::Metadata;

/// Every plugin a block of metadata.json names, at any level, in the order they appear.
pub(super) fn named_plugins(metadata: &Metadata) -> Vec<&str> {
    let databases = metadata.databases.values();
    let mut names: Vec<&str> = metadata.plugins.keys().map(String::as_str).collect();
    for db in databases {
        let tables = db.tables.values().flat_map(|t| t.plugins.keys());
        for name in db.plugins.keys().chain(tables) {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
    }
    names
}

/// The file name a package's library has on this platform: `datasette-auth0` →
/// `libdatasette_auth0.so`.
pub fn library_file_name(package: &str) -> String {
    format!(
        "{}{}{}",
        std::env::consts::DLL_PREFIX,
        package.replace('-', "_"),
        std::env::consts::DLL_SUFFIX
    )
}

/// Where a plugin metadata.json enables is looked for.
pub(super) fn find(package: &str, options: &LoadOptions) -> Result<PathBuf, PluginError> {
    let file = library_file_name(package);
    let places: Vec<&Path> = options
        .dirs
        .iter()
        .map(PathBuf::as_path)
        .chain(options.beside_executable.as_deref())
        .collect();
    places
        .iter()
        .map(|dir| dir.join(&file))
        .find(|p| p.is_file())
        .ok_or_else(|| PluginError::NotFound {
            name: package.into(),
            file: file.clone(),
            searched: places
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })
}
