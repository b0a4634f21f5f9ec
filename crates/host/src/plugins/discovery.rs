//! Finding plugins: the blocks of metadata.json that name one, and the library each names, in
//! the plugin folders. They are searched in this order, the first library of the name winning:
//!
//! 1. each `--plugins-dir`, in the order given;
//! 2. each folder of `$DATASETTE_RS_PLUGINS`, a path list (`:`-separated, `;` on Windows);
//! 3. the user's plugins folder, `$XDG_DATA_HOME/datasette-rs/plugins`, by default
//!    `~/.local/share/datasette-rs/plugins` (`%LOCALAPPDATA%\datasette-rs\plugins` on Windows);
//! 4. the directory of the running executable, where `cargo build` puts the plugins of this
//!    workspace.
//!
//! `--plugin FILE` loads a library whatever its folder, before any of these.

use std::ffi::OsString;
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
    let places = options.search_dirs();
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

/// The environment variable naming plugin folders, searched after `--plugins-dir`.
const PATH_VARIABLE: &str = "DATASETTE_RS_PLUGINS";

impl LoadOptions {
    /// The options of the binary: `--plugins-dir` and `--plugin` as given, then the folders of
    /// `$DATASETTE_RS_PLUGINS`, the user's plugins folder, and the executable's directory.
    pub fn standard(dirs: Vec<PathBuf>, files: Vec<PathBuf>) -> LoadOptions {
        LoadOptions {
            dirs,
            files,
            user_dirs: user_dirs(|name| std::env::var_os(name)),
            beside_executable: std::env::current_exe()
                .ok()
                .and_then(|p| p.parent().map(Path::to_path_buf)),
        }
    }

    /// Every folder a plugin is looked for in, in order, each once.
    pub fn search_dirs(&self) -> Vec<&Path> {
        let mut seen: Vec<PathBuf> = Vec::new();
        self.dirs
            .iter()
            .chain(&self.user_dirs)
            .map(PathBuf::as_path)
            .chain(self.beside_executable.as_deref())
            .filter(|dir| {
                let key = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
                let new = !seen.contains(&key);
                seen.push(key);
                new
            })
            .collect()
    }

    /// Every file of the search folders named as a library is on this platform (`lib*.so`,
    /// `lib*.dylib`, `*.dll`): folder by folder in search order, by name within a folder.
    pub fn libraries_found(&self) -> Vec<PathBuf> {
        let (prefix, suffix) = (std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX);
        let mut found = Vec::new();
        for dir in self.search_dirs() {
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            let mut here: Vec<PathBuf> = entries
                .flatten()
                .filter(|e| {
                    let name = e.file_name();
                    let name = name.to_string_lossy();
                    name.starts_with(prefix) && name.ends_with(suffix) && name.len() > suffix.len()
                })
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect();
            here.sort();
            found.extend(here);
        }
        found
    }
}

/// The folders of `$DATASETTE_RS_PLUGINS`, then the user's plugins folder, from the
/// environment `var` reads.
fn user_dirs(var: impl Fn(&str) -> Option<OsString>) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = var(PATH_VARIABLE)
        .map(|list| {
            std::env::split_paths(&list)
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default();
    // As the XDG base directory specification says: a relative XDG_DATA_HOME is ignored.
    let data_home = var("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| match cfg!(windows) {
            true => var("LOCALAPPDATA").map(PathBuf::from),
            false => var("HOME").map(|home| PathBuf::from(home).join(".local").join("share")),
        })
        .filter(|p| p.is_absolute());
    dirs.extend(data_home.map(|d| d.join("datasette-rs").join("plugins")));
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dirs(vars: &[(&str, &str)]) -> Vec<PathBuf> {
        user_dirs(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| OsString::from(v))
        })
    }

    #[cfg(unix)]
    #[test]
    fn the_path_list_then_the_user_folder() {
        assert_eq!(
            dirs(&[("HOME", "/home/ana")]),
            [PathBuf::from("/home/ana/.local/share/datasette-rs/plugins")]
        );
        assert_eq!(
            dirs(&[
                ("HOME", "/home/ana"),
                ("XDG_DATA_HOME", "/data"),
                ("DATASETTE_RS_PLUGINS", "/a::b")
            ]),
            [
                PathBuf::from("/a"),
                PathBuf::from("b"),
                PathBuf::from("/data/datasette-rs/plugins")
            ]
        );
        // A relative XDG_DATA_HOME is ignored; without HOME there is no user folder.
        assert_eq!(
            dirs(&[("HOME", "/h"), ("XDG_DATA_HOME", "rel")]),
            [PathBuf::from("/h/.local/share/datasette-rs/plugins")]
        );
        assert!(dirs(&[]).is_empty());
    }

    #[test]
    fn a_folder_is_searched_once() {
        let options = LoadOptions {
            dirs: vec![PathBuf::from("/x"), PathBuf::from("/y")],
            user_dirs: vec![PathBuf::from("/x")],
            beside_executable: Some(PathBuf::from("/y")),
            ..Default::default()
        };
        assert_eq!(options.search_dirs(), [Path::new("/x"), Path::new("/y")]);
    }
}
