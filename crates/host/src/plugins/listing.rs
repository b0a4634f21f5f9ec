//! `datasette-rs plugins`: each `--plugin` library, then every library in the plugin folders,
//! loaded as start-up loads one (its table checked and `set_host` called; no hook, not even
//! `startup`), with what it is or the message start-up would refuse it with.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{Hook, Library, LoadOptions};

/// One library found.
#[derive(Debug, Serialize)]
pub struct Listed {
    pub file: String,
    pub name: Option<&'static str>,
    pub version: Option<&'static str>,
    pub sdk_version: Option<&'static str>,
    pub abi_version: Option<u32>,
    pub hooks: Vec<&'static str>,
    /// The message start-up would stop with.
    pub refused: Option<String>,
    /// The library start-up would take instead, were metadata.json to enable this one.
    pub shadowed_by: Option<String>,
}

/// Everything found, and where it was looked for.
#[derive(Debug, Serialize)]
pub struct Listing {
    pub searched: Vec<String>,
    #[serde(rename = "plugins")]
    pub libraries: Vec<Listed>,
    /// A `--plugin` library is refused: start-up would stop.
    #[serde(skip)]
    pub refused_given: bool,
}

pub fn list(options: &LoadOptions) -> Listing {
    let found = options.libraries_found();
    let given = options.files.iter().map(|f| (f.as_path(), true));
    let mut shadows = Shadows::default();
    let mut refused_given = false;
    let libraries = given
        .chain(found.iter().map(|f| (f.as_path(), false)))
        .map(|(file, is_given)| {
            // Loading runs the library's initialisers, as start-up does for what it is given:
            // these are the files of `--plugin` and of the folders set aside for plugins.
            let mut listed = describe(file, Library::load(file).map_err(|e| e.to_string()));
            refused_given |= is_given && listed.refused.is_some();
            listed.shadowed_by = shadows.note(file, listed.name, is_given);
            listed
        })
        .collect();
    Listing {
        searched: options
            .search_dirs()
            .iter()
            .map(|d| d.display().to_string())
            .collect(),
        libraries,
        refused_given,
    }
}

fn describe(file: &Path, loaded: Result<Library, String>) -> Listed {
    let file = file.display().to_string();
    match loaded {
        Ok(library) => Listed {
            file,
            name: Some(library.name),
            version: Some(library.version),
            sdk_version: Some(library.sdk_version),
            abi_version: Some(datasette_plugin_api::abi::ABI_VERSION),
            hooks: Hook::ALL
                .iter()
                .filter(|h| library.has(**h))
                .map(|h| h.name())
                .collect(),
            refused: None,
            shadowed_by: None,
        },
        Err(why) => Listed {
            file,
            name: None,
            version: None,
            sdk_version: None,
            abi_version: None,
            hooks: Vec::new(),
            refused: Some(why),
            shadowed_by: None,
        },
    }
}

/// Whom start-up would take instead of a library: a `--plugin` of the same name, or a file of
/// the same name in an earlier folder.
#[derive(Default)]
struct Shadows {
    given_names: Vec<(&'static str, PathBuf)>,
    file_names: Vec<(std::ffi::OsString, PathBuf)>,
}

impl Shadows {
    fn note(&mut self, file: &Path, name: Option<&'static str>, given: bool) -> Option<String> {
        if given {
            self.given_names
                .extend(name.map(|n| (n, file.to_path_buf())));
            return None;
        }
        let by_name = self.given_names.iter().find(|(n, _)| Some(*n) == name);
        let file_name = file.file_name().unwrap_or_default().to_os_string();
        let by_file = self.file_names.iter().find(|(n, _)| *n == file_name);
        let earlier = by_name
            .map(|(_, p)| p)
            .or(by_file.map(|(_, p)| p))
            .map(|p| p.display().to_string());
        self.file_names.push((file_name, file.to_path_buf()));
        earlier
    }
}

impl Listing {
    /// A line a library, as `datasette-rs plugins` prints them.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for l in &self.libraries {
            match &l.refused {
                Some(why) => out.push_str(&format!("{}: refused: {why}", l.file)),
                None => out.push_str(&format!(
                    "{}: {} {}, built against datasette-plugin-api {} (plugin ABI {}); hooks: {}",
                    l.file,
                    l.name.unwrap_or_default(),
                    l.version.unwrap_or_default(),
                    l.sdk_version.unwrap_or_default(),
                    l.abi_version.unwrap_or_default(),
                    l.hooks.join(", ")
                )),
            }
            if let Some(by) = &l.shadowed_by {
                out.push_str(&format!("; shadowed by {by}"));
            }
            out.push('\n');
        }
        out
    }

    /// How many were found and refused, and where they were looked for.
    pub fn summary(&self) -> String {
        let n = self.libraries.len();
        let refused = self
            .libraries
            .iter()
            .filter(|l| l.refused.is_some())
            .count();
        format!(
            "{n} librar{} found, {refused} refused; looked in: {}",
            if n == 1 { "y" } else { "ies" },
            self.searched.join(", ")
        )
    }
}
