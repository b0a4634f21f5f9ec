//! Plugins: native libraries found and loaded at start-up, then asked for routes, actors,
//! permission votes and menu links. A plugin that fails (an error, a panic, malformed JSON)
//! fails only the call: it is logged with the plugin's name and the host goes on.

mod discovery;
pub mod fetch;
pub mod host_services;
pub mod http;
mod library;
pub mod listing;
pub mod routes;
mod scoped;

use actix_web::http::header::HeaderName;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use datasette_plugin_api::{
    Forbidden, FunctionCall, MenuLink, MenuLinksRequest, OutputData, OutputRenderer, PageContext,
    PermissionCheck, PermissionChecks, RenderCells, RenderedCell, Request, Response, Route,
    SqlFunction,
};
use serde::Serialize;
use serde_json::Value;

use crate::config::Metadata;
use crate::db::functions::ExtraFunction;
use crate::permissions::{Actor, PermissionSource, Resource};
pub use discovery::library_file_name;
use discovery::{find, named_plugins};
pub use http::{describe, http_response};
pub use library::{CallError, Hook, Library};
use routes::{Matched, RoutePattern};
use scoped::{ScopedConfig, PAGE_HOOKS};

#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("plugin {}: {problem}", path.display())]
    Refused { path: PathBuf, problem: String },
    #[error("plugin {name} is enabled in metadata.json, but {file} was not found; looked in: {searched}. Build it (cargo build --workspace), or pass --plugins-dir DIR or --plugin FILE")]
    NotFound {
        name: String,
        file: String,
        searched: String,
    },
    #[error("plugin {name} ({}): startup failed: {message}", path.display())]
    Startup {
        name: String,
        path: PathBuf,
        message: String,
    },
    #[error("metadata.json plugins.{name}: {message}")]
    Config { name: String, message: String },
    #[error("plugins {first} and {second} both claim the route {route}")]
    RouteClash {
        route: String,
        first: String,
        second: String,
    },
    #[error("plugin {name}: the route '{route}' {problem}")]
    BadRoute {
        name: String,
        route: String,
        problem: String,
    },
    #[error("two plugins are named {name}: {} and {}", first.display(), second.display())]
    DuplicateName {
        name: String,
        first: PathBuf,
        second: PathBuf,
    },
}

/// Where plugins come from. A plugin metadata.json enables is looked for in `dirs`, then
/// `user_dirs`, then `beside_executable` ([`LoadOptions::search_dirs`]);
/// [`LoadOptions::standard`] fills in the last two as the binary does.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `--plugins-dir`: searched in order for plugins enabled in metadata.json.
    pub dirs: Vec<PathBuf>,
    /// `--plugin FILE`: loaded whether or not metadata.json names them.
    pub files: Vec<PathBuf>,
    /// Searched after `dirs`: each folder of `$DATASETTE_RS_PLUGINS`, then the user's plugins
    /// folder, `$XDG_DATA_HOME/datasette-rs/plugins` (`~/.local/share/datasette-rs/plugins`).
    pub user_dirs: Vec<PathBuf>,
    /// Searched last: the directory of the running executable.
    pub beside_executable: Option<PathBuf>,
}

pub struct Plugin {
    pub library: Library,
    pub routes: Vec<Route>,
    /// The SQL functions it adds to every connection.
    pub functions: Vec<SqlFunction>,
    /// The URL extensions it renders pages in.
    pub renderers: Vec<OutputRenderer>,
    /// Its votes depend only on the check and what its queries read (`votes_follow_queries`).
    pub votes_follow_queries: bool,
    /// The request headers without which it recognises no actor (`actor_headers`); `None`:
    /// it is asked about every request.
    pub actor_headers: Option<Vec<HeaderName>>,
}

/// Every loaded plugin, in load order (which is the order their votes are asked in).
#[derive(Default)]
pub struct Plugins {
    list: Vec<Plugin>,
    /// Every plugin's routes, with the plugin's index in `list`.
    routes: Vec<(RoutePattern, usize)>,
    /// The running server's services, shared by every library.
    services: host_services::ServicesCell,
    /// Each plugin's configuration blocks below the instance's, by plugin name.
    scoped: HashMap<&'static str, ScopedConfig>,
}

impl Plugins {
    pub fn none() -> Plugins {
        Plugins::default()
    }

    /// Gives the plugins the running server's services (`query`, `permission_allowed`);
    /// until then (during `startup`) a call to one is refused.
    pub fn attach(&self, services: std::sync::Weak<dyn host_services::Services>) {
        let _ = self.services.set(services);
    }

    /// Loads `--plugin` files, then every plugin metadata.json enables, and starts each.
    pub fn load(metadata: &Metadata, options: &LoadOptions) -> Result<Plugins, PluginError> {
        let mut libraries: Vec<Library> = Vec::new();
        for file in &options.files {
            libraries.push(Library::load(file)?);
        }
        for name in named_plugins(metadata) {
            if libraries.iter().any(|l| l.name == name) {
                continue;
            }
            libraries.push(Library::load(&find(name, options)?)?);
        }
        let mut plugins = Plugins::default();
        for library in libraries {
            if let Some(other) = plugins.list.iter().find(|p| p.library.name == library.name) {
                return Err(PluginError::DuplicateName {
                    name: library.name.into(),
                    first: other.library.path.clone(),
                    second: library.path,
                });
            }
            let scoped = ScopedConfig::read(library.name, metadata)?;
            let _ = library.handle.services.set(plugins.services.clone());
            let name = library.name;
            if let Some(path) = scoped.nested_path() {
                if !PAGE_HOOKS.iter().any(|h| library.has(*h)) {
                    return Err(PluginError::Config {
                        name: name.into(),
                        message: format!(
                            "its block at {path} would not be used: this plugin reads its configuration only from the top-level \"plugins\" block, so put it there"
                        ),
                    });
                }
            }
            plugins.start(library, &scoped.instance)?;
            plugins.scoped.insert(name, scoped);
        }
        Ok(plugins)
    }

    fn start(&mut self, library: Library, config: &Value) -> Result<(), PluginError> {
        let input = serde_json::to_vec(config).unwrap_or_default();
        if let Some(Err(e)) = library.call(Hook::Startup, &input) {
            return Err(startup_error(&library, e.to_string()));
        }
        let routes: Vec<Route> = ask_at_load(&library, Hook::Routes)?;
        let index = self.list.len();
        for route in &routes {
            let pattern =
                RoutePattern::parse(route.clone()).map_err(|problem| PluginError::BadRoute {
                    name: library.name.into(),
                    route: route.path.clone(),
                    problem,
                })?;
            let taken = self.routes.iter().find(|(p, _)| p.overlaps(&pattern));
            if let Some((other, owner)) = taken {
                let owner = self
                    .list
                    .get(*owner)
                    .map_or(library.name, |p| p.library.name);
                return Err(PluginError::RouteClash {
                    route: match other.route.path == route.path {
                        true => route.path.clone(),
                        false => format!("{} (overlapping {})", route.path, other.route.path),
                    },
                    first: owner.into(),
                    second: library.name.into(),
                });
            }
            self.routes.push((pattern, index));
        }
        let functions = self.declared_functions(&library)?;
        let renderers = self.declared_renderers(&library)?;
        let votes_follow_queries = ask_at_load(&library, Hook::VotesFollowQueries)?;
        let actor_headers = declared_actor_headers(&library)?;
        tracing::info!(
            plugin = library.name,
            version = library.version,
            "loaded {}",
            library.path.display()
        );
        self.list.push(Plugin {
            library,
            routes,
            functions,
            renderers,
            votes_follow_queries,
            actor_headers,
        });
        Ok(())
    }

    /// The SQL functions a plugin declares, checked: a name SQL can call without quotes, a
    /// sensible number of arguments, and no (name, count) declared twice.
    fn declared_functions(&self, library: &Library) -> Result<Vec<SqlFunction>, PluginError> {
        let functions: Vec<SqlFunction> = ask_at_load(library, Hook::PrepareConnection)?;
        let declared = self.list.iter().flat_map(|p| &p.functions);
        for (i, f) in functions.iter().enumerate() {
            let plain = f
                .name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic())
                && f.name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !plain || !(-1..=32).contains(&f.args) {
                return Err(startup_error(library, format!(
                    "declares the SQL function {:?} with {} arguments: a name of letters, digits and _ and -1 to 32 arguments are expected",
                    f.name, f.args
                )));
            }
            let same = |g: &SqlFunction| g.name.eq_ignore_ascii_case(&f.name) && g.args == f.args;
            if functions[..i].iter().any(same) || declared.clone().any(same) {
                return Err(startup_error(
                    library,
                    format!(
                        "declares the SQL function {}({} arguments) twice, or another plugin does",
                        f.name, f.args
                    ),
                ));
            }
        }
        Ok(functions)
    }

    /// The extensions a plugin renders pages in, checked: lowercase letters and digits, not
    /// one the server has (`json`, `csv`) or another plugin took.
    fn declared_renderers(&self, library: &Library) -> Result<Vec<OutputRenderer>, PluginError> {
        let declared: Vec<OutputRenderer> = ask_at_load(library, Hook::RegisterOutputRenderer)?;
        let mut out: Vec<OutputRenderer> = Vec::new();
        for r in declared {
            let ext = &r.extension;
            let plain = !ext.is_empty()
                && ext.len() <= 16
                && ext
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
            let taken = ["json", "csv", "html"].contains(&ext.as_str())
                || out.iter().any(|o| o.extension == *ext)
                || self.renders(ext);
            if !plain || taken {
                return Err(startup_error(library, format!(
                    "registers the output extension {ext:?}: expected up to 16 lowercase letters and digits, not json, csv, html or one another plugin has"
                )));
            }
            out.push(r);
        }
        Ok(out)
    }

    /// Whether a plugin renders pages with this URL extension.
    pub fn renders(&self, extension: &str) -> bool {
        self.list
            .iter()
            .any(|p| p.renderers.iter().any(|r| r.extension == extension))
    }

    /// The plugins' formats a page with these columns links to, by extension.
    pub fn format_links(&self, columns: &[String]) -> Vec<&str> {
        self.list
            .iter()
            .flat_map(|p| &p.renderers)
            .filter(|r| {
                r.link_columns
                    .as_ref()
                    .is_some_and(|needed| needed.iter().all(|c| columns.contains(c)))
            })
            .map(|r| r.extension.as_str())
            .collect()
    }

    /// A page in a plugin's format.
    pub fn render_output(&self, mut data: OutputData) -> Result<Response, String> {
        let plugin = self
            .list
            .iter()
            .find(|p| p.renderers.iter().any(|r| r.extension == data.extension))
            .ok_or_else(|| format!("no plugin renders .{}", data.extension))?;
        let input = self.encode_for(&plugin.library, &mut data, |d| &mut d.page);
        response(&plugin.library, Hook::RenderOutput, &input)
            .flatten()
            .ok_or_else(|| format!("the plugin {} failed", plugin.library.name))
    }

    /// Every plugin's SQL functions, ready for the connections.
    pub fn sql_functions(&self) -> Vec<ExtraFunction> {
        self.list
            .iter()
            .flat_map(|p| p.functions.iter().map(move |f| (p.library.clone(), f)))
            .map(|(library, f)| {
                let (name, deterministic) = (f.name.clone(), f.deterministic);
                ExtraFunction {
                    name: f.name.clone(),
                    args: f.args,
                    deterministic,
                    call: Arc::new(move |args: &[Value]| {
                        // A vote whose query calls it cannot be reused.
                        if !deterministic {
                            crate::permissions::reads::unpredictable();
                        }
                        call_function(&library, &name, args)
                    }),
                }
            })
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Whether a plugin may make a page depend on files besides its own database's: its votes,
    /// SQL functions and additions to pages may read any database. Recognising actors does
    /// not: who the actor is is part of what every page depends on already.
    pub fn may_read_other_files(&self) -> bool {
        // What a plugin only declares, or does apart from pages. A hook not listed counts as
        // one that may read other files: a new hook costs caching until it is listed here,
        // never correctness.
        const APART: [Hook; 7] = [
            Hook::Startup,
            Hook::Routes,
            Hook::Handle,
            Hook::ActorFromRequest,
            Hook::Ready,
            Hook::VotesFollowQueries,
            Hook::ActorHeaders,
        ];
        self.list.iter().any(|p| {
            Hook::ALL
                .iter()
                .any(|h| !APART.contains(h) && p.library.has(*h))
        })
    }

    /// Every route a plugin serves, as actix routes it.
    pub fn routes(&self) -> Vec<String> {
        let mut paths: Vec<String> = self.routes.iter().map(|(p, _)| p.actix_path()).collect();
        paths.dedup();
        paths
    }

    /// The plugin with a route whose first segment is `segment` (a database's would hide its
    /// pages).
    pub fn route_under(&self, segment: &str) -> Option<&'static str> {
        self.routes
            .iter()
            .find(|(pattern, _)| pattern.first_segment() == Some(segment))
            .map(|&(_, i)| self.list[i].library.name)
    }

    /// The plugin answering `method` on `path` (as requested, percent-encoded), as its index
    /// for [`Plugins::plugin`], with the route and what its captures matched.
    pub fn route(&self, method: &str, path: &str) -> Matched<(usize, &Route)> {
        match routes::find(&self.routes, method, path) {
            Matched::Found((route, &i), captures) => Matched::Found((i, route), captures),
            Matched::WrongMethod(m) => Matched::WrongMethod(m),
            Matched::None => Matched::None,
        }
    }

    /// The plugin at `index` of [`Plugins::route`].
    pub fn plugin(&self, index: usize) -> &Plugin {
        &self.list[index]
    }

    /// Tells every plugin with a `ready` hook that the server serves; each runs on a thread
    /// of its own, so a slow one delays no other.
    pub fn ready(self: &Arc<Self>) {
        for (i, plugin) in self.list.iter().enumerate() {
            if !plugin.library.has(Hook::Ready) {
                continue;
            }
            let plugins = self.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("{}-ready", plugin.library.name))
                .spawn(move || {
                    let _ = answer::<Value>(&plugins.list[i].library, Hook::Ready, b"null");
                });
            if let Err(e) = spawned {
                failed(
                    &plugin.library,
                    Hook::Ready,
                    &format!("no thread for it: {e}"),
                );
            }
        }
    }

    /// Whether any plugin votes on permission checks.
    pub fn vote_on_permissions(&self) -> bool {
        self.voters().next().is_some()
    }

    /// Whether every plugin that votes says its votes follow from what its queries read, so
    /// that an access may be reused until a database they read changes.
    pub fn votes_follow_queries(&self) -> bool {
        self.voting().all(|p| p.votes_follow_queries)
    }

    fn implementing(&self, hook: Hook) -> impl Iterator<Item = &Library> {
        self.list
            .iter()
            .map(|p| &p.library)
            .filter(move |l| l.has(hook))
    }

    /// The first actor a plugin recognises in the request, which has the headers `has` says
    /// and is `describe`d only if a plugin is asked: not one that declared the headers it
    /// reads (`actor_headers`) when the request carries none of them.
    pub fn actor_from_request(
        &self,
        has: impl Fn(&HeaderName) -> bool,
        describe: impl FnOnce() -> Request,
    ) -> Actor {
        let mut asked = self
            .list
            .iter()
            .filter(|p| {
                p.library.has(Hook::ActorFromRequest)
                    && p.actor_headers
                        .as_ref()
                        .is_none_or(|names| names.iter().any(&has))
            })
            .peekable();
        asked.peek()?;
        let input = serde_json::to_vec(&describe()).unwrap_or_default();
        for lib in asked.map(|p| &p.library) {
            match answer::<Value>(lib, Hook::ActorFromRequest, &input) {
                Some(Value::Null) | None => continue,
                Some(actor @ Value::Object(_)) => return Some(actor),
                Some(other) => failed(
                    lib,
                    Hook::ActorFromRequest,
                    &format!("answered {other}, not an actor object"),
                ),
            }
        }
        None
    }

    /// The first explicit vote of a plugin. A plugin that fails denies: a broken
    /// permission plugin must not open anything up.
    pub fn vote(&self, actor: &Actor, action: &str, resource: &Resource) -> Option<bool> {
        self.vote_many(actor, action, std::slice::from_ref(resource))[0]
    }

    /// [`Plugins::vote`] on one action over many resources, in their order: each plugin is
    /// asked once for those no earlier plugin answered, with `permission_allowed_many` if it
    /// has it.
    pub fn vote_many(
        &self,
        actor: &Actor,
        action: &str,
        resources: &[Resource],
    ) -> Vec<Option<bool>> {
        crate::permissions::first_answers(resources, self.voters(), |lib, asked| {
            lib_votes(lib, actor, action, asked)
        })
    }

    fn voting(&self) -> impl Iterator<Item = &Plugin> {
        self.list.iter().filter(|p| {
            let l = &p.library;
            l.has(Hook::PermissionAllowed) || l.has(Hook::PermissionAllowedMany)
        })
    }

    fn voters(&self) -> impl Iterator<Item = &Library> {
        self.voting().map(|p| &p.library)
    }

    /// Every plugin's links for the page header.
    pub fn menu_links(&self, actor: &Actor, request: &Request) -> Vec<MenuLink> {
        if self.implementing(Hook::MenuLinks).next().is_none() {
            return vec![];
        }
        let input = serde_json::to_vec(&MenuLinksRequest {
            actor: actor.clone(),
            request: request.clone(),
        })
        .unwrap_or_default();
        self.implementing(Hook::MenuLinks)
            .filter_map(|lib| {
                let links = answer::<Vec<MenuLink>>(lib, Hook::MenuLinks, &input)?;
                Some(
                    links
                        .into_iter()
                        .filter(move |link| safe_link(lib, Hook::MenuLinks, &link.href)),
                )
            })
            .flatten()
            .collect()
    }

    /// What the plugins add to a page: stylesheets, scripts and its actions menu. Links that
    /// are not site paths or `http(s)://` URLs are left out and logged.
    pub fn page_extras(&self, page: &PageContext) -> PageExtras {
        let actions = match page.view.as_str() {
            "table" | "query" => Some(Hook::TableActions),
            "database" => Some(Hook::DatabaseActions),
            "row" => Some(Hook::RowActions),
            _ => None,
        };
        let hooks = [Hook::ExtraCssUrls, Hook::ExtraJsUrls, Hook::ExtraBodyScript];
        if !hooks
            .iter()
            .chain(&actions)
            .any(|h| self.implementing(*h).next().is_some())
        {
            return PageExtras::default();
        }
        // Each plugin is told its own configuration for the page.
        let mut page = page.clone();
        let inputs: HashMap<&str, Vec<u8>> = self
            .list
            .iter()
            .map(|p| &p.library)
            .filter(|lib| hooks.iter().chain(&actions).any(|h| lib.has(*h)))
            .map(|lib| (lib.name, self.encode_for(lib, &mut page, |p| p)))
            .collect();
        let input = |lib: &Library| inputs.get(lib.name).map_or(&[][..], Vec::as_slice);
        let links = |hook: Hook| -> Vec<MenuLink> {
            self.implementing(hook)
                .flat_map(|lib| {
                    let links = answer::<Vec<MenuLink>>(lib, hook, input(lib)).unwrap_or_default();
                    links
                        .into_iter()
                        .filter(move |l| safe_link(lib, hook, &l.href))
                })
                .collect()
        };
        let urls = |hook: Hook| -> Vec<String> {
            self.implementing(hook)
                .flat_map(|lib| {
                    let urls = answer::<Vec<String>>(lib, hook, input(lib)).unwrap_or_default();
                    urls.into_iter().filter(move |u| safe_link(lib, hook, u))
                })
                .collect()
        };
        PageExtras {
            css_urls: urls(Hook::ExtraCssUrls),
            js_urls: urls(Hook::ExtraJsUrls),
            body_scripts: self
                .implementing(Hook::ExtraBodyScript)
                .filter_map(|lib| answer::<Option<String>>(lib, Hook::ExtraBodyScript, input(lib))?)
                .collect(),
            actions: actions.map(links).unwrap_or_default(),
        }
    }

    /// The plugins' variables for a site's own templates on this page (`extra_template_vars`),
    /// an earlier plugin's winning over a later one's of the same name.
    pub fn extra_template_vars(&self, page: &PageContext) -> serde_json::Map<String, Value> {
        let mut vars = serde_json::Map::new();
        let mut page = page.clone();
        for lib in self.implementing(Hook::ExtraTemplateVars) {
            let input = self.encode_for(lib, &mut page, |p| p);
            let answer = answer::<Option<serde_json::Map<String, Value>>>(
                lib,
                Hook::ExtraTemplateVars,
                &input,
            );
            for (k, v) in answer.flatten().unwrap_or_default() {
                vars.entry(k).or_insert(v);
            }
        }
        vars
    }

    /// Whether a plugin answers 403s (`forbidden`).
    pub fn answers_forbidden(&self) -> bool {
        self.implementing(Hook::Forbidden).next().is_some()
    }

    /// The first plugin's answer to a page the actor may not see, instead of the 403 page.
    pub fn forbidden(&self, mut forbidden: Forbidden) -> Option<Response> {
        self.implementing(Hook::Forbidden).find_map(|lib| {
            let input = self.encode_for(lib, &mut forbidden, |f| &mut f.page);
            response(lib, Hook::Forbidden, &input)?
        })
    }

    /// Every plugin's HTML for cells of a page, by (row, column); later plugins do not
    /// replace what an earlier one rendered.
    pub fn render_cells(&self, mut cells: RenderCells) -> HashMap<(usize, usize), String> {
        let mut out = HashMap::new();
        for lib in self.implementing(Hook::RenderCell) {
            let input = self.encode_for(lib, &mut cells, |c| &mut c.page);
            for c in answer::<Vec<RenderedCell>>(lib, Hook::RenderCell, &input).unwrap_or_default()
            {
                out.entry((c.row, c.column)).or_insert(c.html);
            }
        }
        out
    }

    /// `message` as JSON for `lib`, its page carrying `lib`'s configuration for that page.
    fn encode_for<M: serde::Serialize>(
        &self,
        lib: &Library,
        message: &mut M,
        page: impl FnOnce(&mut M) -> &mut PageContext,
    ) -> Vec<u8> {
        let page = page(message);
        page.config = self.scoped.get(lib.name).map_or(Value::Null, |c| {
            c.for_page(page.database.as_deref(), page.table.as_deref())
                .clone()
        });
        serde_json::to_vec(message).unwrap_or_default()
    }

    /// Whether any plugin renders cells: only then are a page's cells encoded for them.
    pub fn render_cell_plugins(&self) -> bool {
        self.implementing(Hook::RenderCell).next().is_some()
    }

    /// What `/-/plugins.json` shows.
    pub fn describe(&self) -> Vec<PluginInfo> {
        self.list
            .iter()
            .map(|p| PluginInfo {
                name: p.library.name,
                version: p.library.version,
                hooks: Hook::ALL
                    .iter()
                    .filter(|h| p.library.has(**h))
                    .map(|h| h.name())
                    .collect(),
                routes: p.routes.iter().map(|r| r.path.clone()).collect(),
            })
            .collect()
    }
}

impl Plugin {
    /// Runs `handle`; call it off the async workers. The request's body follows its JSON.
    pub fn handle(&self, request: &Request) -> Result<Response, String> {
        let input = datasette_plugin_api::body::encode(request, &request.body)?;
        let result = match self.library.call(Hook::Handle, &input) {
            None => Err("the plugin declares routes but no handle hook".to_string()),
            Some(Err(e)) => Err(e.to_string()),
            Some(Ok(bytes)) => datasette_plugin_api::body::decode_response(&bytes)
                .map_err(|e| format!("malformed response: {e}")),
        };
        result.inspect_err(|e| failed(&self.library, Hook::Handle, e))
    }
}

/// What a plugin declares once, at load (`routes`, `prepare_connection`,
/// `register_output_renderer`): nothing if it lacks the hook; a failure stops start-up.
fn ask_at_load<T: serde::de::DeserializeOwned + Default>(
    library: &Library,
    hook: Hook,
) -> Result<T, PluginError> {
    let Some(answer) = library.call(hook, b"null") else {
        return Ok(T::default());
    };
    answer
        .map_err(|e| e.to_string())
        .and_then(|b| {
            serde_json::from_slice(&b)
                .map_err(|e| format!("{}() answered with malformed JSON: {e}", hook.name()))
        })
        .map_err(|message| startup_error(library, message))
}

/// The request headers a plugin's `actor_from_request` reads, if it says: each must be a
/// header's name (any case), or start-up stops naming it.
fn declared_actor_headers(library: &Library) -> Result<Option<Vec<HeaderName>>, PluginError> {
    let Some(names) = ask_at_load::<Option<Vec<String>>>(library, Hook::ActorHeaders)? else {
        return Ok(None);
    };
    if names.is_empty() {
        let message = "actor_headers() named no header: actor_from_request would never be asked \
                       (answer null to be asked about every request)";
        return Err(startup_error(library, message.into()));
    }
    let parse = |name: &String| {
        HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes()).map_err(|_| {
            let message = format!("actor_headers() named {name:?}, which is not a header's name");
            startup_error(library, message)
        })
    };
    names.iter().map(parse).collect::<Result<_, _>>().map(Some)
}

/// Start-up stops: the plugin at `library` failed as `message` says.
fn startup_error(library: &Library, message: String) -> PluginError {
    PluginError::Startup {
        name: library.name.into(),
        path: library.path.clone(),
        message,
    }
}

/// One call of a plugin's SQL function; a failure is the query's error, and logged.
fn call_function(library: &Library, name: &str, args: &[Value]) -> Result<Value, String> {
    let input = serde_json::to_vec(&FunctionCall {
        name: name.to_string(),
        args: args.to_vec(),
    })
    .map_err(|e| e.to_string())?;
    match library.call(Hook::CallFunction, &input) {
        None => Err("the plugin declares functions but no call_function hook".into()),
        Some(Ok(bytes)) => serde_json::from_slice(&bytes)
            .map_err(|e| format!("the plugin {} answered malformed JSON: {e}", library.name)),
        Some(Err(CallError::Failed(message))) => Err(message),
        Some(Err(e)) => {
            failed(library, Hook::CallFunction, &e.to_string());
            Err(format!("the plugin {} failed", library.name))
        }
    }
}

/// What plugins add to one page.
#[derive(Debug, Default)]
pub struct PageExtras {
    pub css_urls: Vec<String>,
    pub js_urls: Vec<String>,
    pub body_scripts: Vec<String>,
    /// The page's actions menu (table, database or row actions).
    pub actions: Vec<MenuLink>,
}

#[derive(Debug, Serialize)]
pub struct PluginInfo {
    pub name: &'static str,
    pub version: &'static str,
    pub hooks: Vec<&'static str>,
    pub routes: Vec<String>,
}

/// One plugin's votes on `action` over `resources`: one call of `permission_allowed_many`
/// when it has it (and more than one answer is wanted, or it lacks the other), else one of
/// `permission_allowed` each. A failure, or a list of the wrong length, denies them all.
fn lib_votes(
    lib: &Library,
    actor: &Actor,
    action: &str,
    resources: &[Resource],
) -> Vec<Option<bool>> {
    let many = lib.has(Hook::PermissionAllowedMany)
        && (resources.len() > 1 || !lib.has(Hook::PermissionAllowed));
    if !many {
        return resources
            .iter()
            .map(|r| single_vote(lib, &check_json(actor, action, r)))
            .collect();
    }
    let input = serde_json::to_vec(&PermissionChecks {
        actor: actor.clone(),
        action: action.to_string(),
        resources: resources.to_vec(),
    })
    .unwrap_or_default();
    let hook = Hook::PermissionAllowedMany;
    let problem = match lib.call(hook, &input) {
        None => return vec![None; resources.len()],
        Some(Err(e)) => e.to_string(),
        Some(Ok(bytes)) => match serde_json::from_slice::<Vec<Option<bool>>>(&bytes) {
            Ok(votes) if votes.len() == resources.len() => return votes,
            Ok(votes) => format!("{} answers for {} resources", votes.len(), resources.len()),
            Err(e) => format!("malformed answer: {e}"),
        },
    };
    failed(lib, hook, &problem);
    vec![Some(false); resources.len()]
}

/// One plugin's vote through `permission_allowed`, `input` a `PermissionCheck`.
fn single_vote(lib: &Library, input: &[u8]) -> Option<bool> {
    let hook = Hook::PermissionAllowed;
    match lib.call(hook, input)? {
        Ok(bytes) => match bytes.as_slice() {
            b"true" => Some(true),
            b"false" => Some(false),
            b"null" => None,
            other => serde_json::from_slice::<Option<bool>>(other).unwrap_or_else(|e| {
                failed(lib, hook, &format!("malformed answer: {e}"));
                Some(false)
            }),
        },
        Err(e) => {
            failed(lib, hook, &e.to_string());
            Some(false)
        }
    }
}

fn check_json(actor: &Actor, action: &str, resource: &Resource) -> Vec<u8> {
    serde_json::to_vec(&PermissionCheck {
        actor: actor.clone(),
        action: action.to_string(),
        resource: resource.clone(),
    })
    .unwrap_or_default()
}

/// Calls a hook and reads its answer; a failure is logged and is no answer.
fn answer<T: serde::de::DeserializeOwned>(lib: &Library, hook: Hook, input: &[u8]) -> Option<T> {
    match lib.call(hook, input)? {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .inspect_err(|e| failed(lib, hook, &format!("malformed answer: {e}")))
            .ok(),
        Err(e) => {
            failed(lib, hook, &e.to_string());
            None
        }
    }
}

/// Calls a hook that answers with a response (its body after the JSON) or `null`; a failure
/// is logged and is no answer.
fn response(lib: &Library, hook: Hook, input: &[u8]) -> Option<Option<Response>> {
    match lib.call(hook, input)? {
        Ok(bytes) if bytes.as_slice() == b"null" => Some(None),
        Ok(bytes) => datasette_plugin_api::body::decode_response(&bytes)
            .inspect_err(|e| failed(lib, hook, &format!("malformed answer: {e}")))
            .ok()
            .map(Some),
        Err(e) => {
            failed(lib, hook, &e.to_string());
            None
        }
    }
}

/// Whether a plugin's link may go into a page; one that may not is logged.
fn safe_link(lib: &Library, hook: Hook, href: &str) -> bool {
    let safe = crate::urls::is_safe_link(href);
    if !safe {
        failed(lib, hook, &format!("unsafe link {href:?} left out"));
    }
    safe
}

fn failed(lib: &Library, hook: Hook, problem: &str) {
    tracing::error!(plugin = lib.name, hook = hook.name(), "{problem}");
}

/// The plugins as a source of permission votes, asked before the allow blocks.
pub struct PluginVotes(pub std::sync::Arc<Plugins>);

impl PermissionSource for PluginVotes {
    fn vote(&self, actor: &Actor, action: &str, resource: &Resource) -> Option<bool> {
        self.0.vote(actor, action, resource)
    }

    fn vote_many(&self, actor: &Actor, action: &str, resources: &[Resource]) -> Vec<Option<bool>> {
        self.0.vote_many(actor, action, resources)
    }
}
