//! A site's own templates (`--template-dir`): Jinja, through minijinja, as Datasette's users
//! write them. They override the built-in pages by Datasette's names and lookup order, extend
//! the built-in chrome (`{% extends "default:base.html" %}`), replace the grid of rows
//! (`_table.html`), and add custom pages (`pages/NAME.html`, `pages/a/{param}.html`).
//!
//! Every file is read and compiled at start-up: a syntax error stops start-up naming the file
//! and line, and rendering reads nothing from disk, so no template can reach a file outside
//! the directory. The built-in pages stay askama's; through Jinja they are stubs whose blocks
//! hold what askama drew (see `views::site_templates::draw`).

mod objects;
mod pages;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use minijinja::{AutoEscape, Environment, Value};

pub use objects::{DisplayCell, DisplayRow, Reply, ReplySlot, Urls};
pub use pages::CustomPage;

/// The built-in chrome as Jinja: what `default:base.html` names.
const BASE: &str = include_str!("../../../../../templates/jinja/base.html");
/// The built-in grid of rows as Jinja, for a site's page that includes `_table.html`.
const TABLE: &str = include_str!("../../../../../templates/jinja/_table.html");
/// A built-in page through Jinja: its blocks are what askama drew of it.
const PAGE_STUB: &str = r#"{% extends "base.html" %}
{%- block title %}{{ _blocks.title }}{% endblock %}
{%- block content %}{{ _blocks.content }}{% endblock %}
{%- block footer %}{{ _blocks.footer }}{% endblock %}"#;

/// The built-in pages a site may override or extend, by Datasette's names.
pub const PAGES: [&str; 5] = [
    "index.html",
    "database.html",
    "table.html",
    "row.html",
    "query.html",
];

/// A template directory, compiled.
pub struct UserTemplates {
    env: Environment<'static>,
    dir: PathBuf,
    /// The names of the site's own files (`base.html`, `pages/about.html`).
    own: BTreeSet<String>,
    pages: Vec<CustomPage>,
    /// Every variable the site's templates name (and the built-in ones they extend or
    /// include): a page works out only these.
    pub used: HashSet<String>,
    /// A digest of every file, so that a conditional request made before the templates
    /// changed is not answered "not modified".
    pub digest: [u8; 32],
}

impl std::fmt::Debug for UserTemplates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserTemplates")
            .field("dir", &self.dir)
            .field("files", &self.own)
            .finish()
    }
}

/// Files larger than this are refused at start-up: templates are small.
const MAX_TEMPLATE_BYTES: u64 = 4 << 20;

impl UserTemplates {
    /// Reads and compiles every file of `dir`: an error names the file and, for a syntax
    /// error, the line.
    pub fn load(dir: &Path) -> Result<UserTemplates, String> {
        let shown = dir.display();
        if !dir.is_dir() {
            return Err(format!("--template-dir {shown}: not a directory"));
        }
        let mut own = BTreeMap::new();
        read_dir(dir, dir, &mut own)?;
        let mut env = Environment::new();
        env.set_auto_escape_callback(|name| match name.ends_with(".html") {
            true => AutoEscape::Html,
            false => AutoEscape::None,
        });
        // Escaped as Jinja2's markupsafe escapes (minijinja's own escaping also writes `/`
        // as `&#x2f;`), so a site's pages read as they did under Datasette.
        env.set_formatter(|out, state, value| match value.as_str() {
            Some(s) if state.auto_escape() == AutoEscape::Html && !value.is_safe() => out
                .write_str(&crate::render::html::escape(s))
                .map_err(minijinja::Error::from),
            _ => minijinja::escape_formatter(out, state, value),
        });
        objects::add_functions(&mut env);
        env.add_template_owned("default:base.html", BASE)
            .map_err(|e| format!("the built-in base.html: {e}"))?;
        env.add_template_owned("default:_table.html", TABLE)
            .map_err(|e| format!("the built-in _table.html: {e}"))?;
        for page in PAGES {
            env.add_template_owned(format!("default:{page}"), PAGE_STUB)
                .map_err(|e| format!("the built-in {page}: {e}"))?;
        }
        for (name, source) in &own {
            env.add_template_owned(name.clone(), spaces_in_tags(source))
                .map_err(|e| describe(dir, &e))?;
        }
        // A name the site does not override is the built-in one, as Datasette's loader
        // falls back on its own directory.
        let fallbacks = ["base.html", "_table.html"].into_iter().chain(PAGES);
        for name in fallbacks.filter(|n| !own.contains_key(*n)) {
            env.add_template_owned(name, format!(r#"{{% extends "default:{name}" %}}"#))
                .map_err(|e| format!("the built-in {name}: {e}"))?;
        }
        let pages = pages::routes(own.keys());
        let used = used_variables(&env, &own);
        let digest = {
            use sha2::{Digest, Sha256};
            let mut h = Sha256::new();
            for (name, source) in &own {
                h.update((name.len() as u64).to_le_bytes());
                h.update(name.as_bytes());
                h.update((source.len() as u64).to_le_bytes());
                h.update(source.as_bytes());
            }
            h.finalize().into()
        };
        Ok(UserTemplates {
            env,
            dir: dir.to_path_buf(),
            own: own.into_keys().collect(),
            pages,
            used,
            digest,
        })
    }

    /// The first of `names` the site has a file for.
    pub fn pick<'a>(&self, names: &'a [String]) -> Option<&'a str> {
        names
            .iter()
            .map(String::as_str)
            .find(|n| self.own.contains(*n))
    }

    /// Whether some template of the site names this variable.
    pub fn uses(&self, variable: &str) -> bool {
        self.used.contains(variable)
    }

    /// Whether the site has its own file of this name.
    pub fn has(&self, name: &str) -> bool {
        self.own.contains(name)
    }

    /// The custom page a path names, with its parameters.
    pub fn page_for(&self, path: &str) -> Option<(&CustomPage, BTreeMap<String, String>)> {
        pages::find(&self.pages, path)
    }

    /// `name` rendered with `context`. An error names the template and line.
    pub fn render(&self, name: &str, context: Value) -> Result<String, minijinja::Error> {
        self.env.get_template(name)?.render(context)
    }

    /// A template error as the operator reads it in the log: file and line.
    pub fn describe(&self, e: &minijinja::Error) -> String {
        describe(&self.dir, e)
    }
}

/// A template error with the file of `dir` and the line it is at, when it has them.
fn describe(dir: &Path, e: &minijinja::Error) -> String {
    let mut text = format!("{}", e.kind());
    if let Some(detail) = e.detail() {
        text = format!("{text}: {detail}");
    }
    match (e.name(), e.line()) {
        (Some(name), Some(line)) => format!("{}:{line}: {text}", dir.join(name).display()),
        (Some(name), None) => format!("{}: {text}", dir.join(name).display()),
        _ => text,
    }
}

/// The variables named by the site's templates, the built-in chrome and pages they extend,
/// and the built-in grid when one of them includes it.
fn used_variables(env: &Environment<'static>, own: &BTreeMap<String, String>) -> HashSet<String> {
    let mut names: Vec<&str> = own.keys().map(String::as_str).collect();
    names.extend(["default:base.html", "default:table.html"]);
    if own.values().any(|source| source.contains("_table.html")) {
        names.push("default:_table.html");
    }
    names
        .into_iter()
        .filter_map(|n| env.get_template(n).ok())
        .flat_map(|t| t.undeclared_variables(false))
        .collect()
}

/// Every file under `dir` (no hidden ones), named by its path from `root` with `/`.
fn read_dir(root: &Path, dir: &Path, own: &mut BTreeMap<String, String>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut entries: Vec<_> = entries
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let kind = entry
            .file_type()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if kind.is_dir() {
            read_dir(root, &path, own)?;
            continue;
        }
        let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
        if size > MAX_TEMPLATE_BYTES {
            return Err(format!(
                "{}: larger than {} MiB, too large for a template",
                path.display(),
                MAX_TEMPLATE_BYTES >> 20
            ));
        }
        let source = std::fs::read_to_string(&path)
            .map_err(|e| format!("{}: cannot read it as UTF-8 text: {e}", path.display()))?;
        let name = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        own.insert(name, source);
    }
    Ok(())
}

/// The template with any Unicode space inside its tags (`{{\u{a0}slug }}`) made a plain one:
/// Jinja2 reads every Unicode space there as a space, minijinja only ASCII's, and such
/// templates exist (a no-break space typed on a Mac keyboard).
fn spaces_in_tags(source: &str) -> String {
    let odd = |c: char| c.is_whitespace() && !c.is_ascii();
    if !source.chars().any(odd) {
        return source.to_string();
    }
    let mut out = String::with_capacity(source.len());
    let mut closer: Option<&str> = None;
    let mut rest = source;
    while let Some(c) = rest.chars().next() {
        match closer {
            None => {
                closer = ["{{", "{%", "{#"]
                    .into_iter()
                    .position(|o| rest.starts_with(o))
                    .map(|i| ["}}", "%}", "#}"][i]);
            }
            Some(end) if rest.starts_with(end) => {
                out.push_str(end);
                rest = &rest[end.len()..];
                closer = None;
                continue;
            }
            Some(_) => {}
        }
        out.push(if closer.is_some() && odd(c) { ' ' } else { c });
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// A page's template for these objects, by Datasette's naming: `table-DB-TABLE.html` for
/// `("table", [db, table])`, each part in its CSS-class form (`Food Trucks` → `Food-Trucks-399138`).
pub fn named(stem: &str, parts: &[&str]) -> String {
    let parts: Vec<String> = parts
        .iter()
        .map(|p| crate::render::html::css_class(p))
        .collect();
    format!("{stem}-{}.html", parts.join("-"))
}

#[cfg(test)]
mod tests {
    use super::spaces_in_tags;

    #[test]
    fn unicode_spaces_in_tags_are_spaces_and_elsewhere_text() {
        assert_eq!(
            spaces_in_tags("a\u{a0}b {{\u{a0}slug }} {%\u{2003}if x %}\u{a0}{% endif %}"),
            "a\u{a0}b {{ slug }} {% if x %}\u{a0}{% endif %}"
        );
        assert_eq!(spaces_in_tags("plain {{ x }}"), "plain {{ x }}");
    }
}
