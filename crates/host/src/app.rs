//! Application state, built once at start-up and shared by every worker.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indexmap::IndexMap;

use crate::config::{Metadata, Settings};
use crate::db::{Access, Database, DbError, Schema};
use crate::permissions::{reads, AccessCache, AccessKey, Actor, AllowBlocks, Permissions, Worked};
use crate::plugins::{PluginVotes, Plugins};
use crate::render::html::{script_text, Chrome};
use crate::session::SessionConfig;
use datasette_plugin_api::PageContext;

pub struct AppState {
    pub settings: Settings,
    pub metadata: Arc<Metadata>,
    pub databases: IndexMap<String, Arc<Database>>,
    pub permissions: Permissions,
    /// Accesses worked out for earlier requests (none when plugins vote, unless
    /// `plugin_votes_cache_ms` says how long).
    pub access_cache: Option<AccessCache>,
    pub plugins: Arc<Plugins>,
    pub started: Instant,
    pub session: SessionConfig,
    /// The one-time token of `--root`, until it is used.
    pub root_token: Mutex<Option<String>>,
    /// A digest of what pages depend on besides the files and the request: the version, the
    /// metadata, the settings and the plugins (see `views::conditional`).
    pub fingerprint: [u8; 32],
    /// The memory of answers being sent (`answers_memory_mb`).
    pub answers: Arc<crate::limits::Budget>,
    /// Plugins' rendering (cells, output formats) running at once: half the cores, so that
    /// they never take the whole machine from the requests.
    plugin_work: Arc<tokio::sync::Semaphore>,
}

/// Each connection's page cache when `cache_size_kb` is 0: small, because pages come from the
/// OS's cache cheaply and a server may hold many connections.
const DEFAULT_CACHE_KIB: u32 = 512;

/// A database file to serve.
#[derive(Debug, Clone)]
pub struct DatabaseFile {
    pub path: PathBuf,
    pub immutable: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Database(#[from] DbError),
    #[error("two databases would be served as '{0}': rename one of the files")]
    DuplicateName(String),
    #[error("{path}: no such file")]
    Missing { path: PathBuf },
    #[error("{0}")]
    Inspect(String),
    #[error("--static {0}:… would hide the database {0}: choose another mount")]
    MountHidesDatabase(String),
    #[error("plugin {0} has a route under /{1}/, which would hide the database {1}'s pages")]
    RouteHidesDatabase(String, String),
}

/// An immutable file's hash and table counts: from its inspect data when there is some (a
/// large file is then neither hashed nor counted at start-up), else its hash worked out now.
fn take_inspected(
    db: &mut Database,
    inspected: Option<&crate::inspect::Inspected>,
) -> Result<(), StartError> {
    let hash = match inspected.and_then(|i| i.hash.clone()) {
        Some(hash) => hash,
        None => crate::inspect::file_hash(&db.path)
            .map_err(|e| StartError::Inspect(format!("{}: {e}", db.path.display())))?,
    };
    db.hash = Some(hash);
    let schema = db.current_schema();
    for (table, counted) in inspected.map(|i| &i.tables).into_iter().flatten() {
        if let (Some(n), true) = (counted.count, schema.get(table).is_some()) {
            db.store_count(table, n);
        }
    }
    Ok(())
}

/// The name of the in-memory database, as Datasette's.
pub const MEMORY: &str = "_memory";

fn read_options(settings: &Settings) -> crate::db::ReadOptions {
    crate::db::ReadOptions {
        connections: settings.num_sql_threads as usize,
        // Datasette's 0 is SQLite's default; ours keeps memory flat.
        cache_kib: match settings.cache_size_kb {
            0 => DEFAULT_CACHE_KIB,
            n => n,
        },
        hold: Duration::from_millis(settings.read_hold_ms),
    }
}

async fn add_memory(
    databases: &mut IndexMap<String, Arc<Database>>,
    settings: &Settings,
    functions: Arc<Vec<crate::db::functions::ExtraFunction>>,
) -> Result<(), StartError> {
    let db = Database::open_memory(MEMORY, functions, read_options(settings))?;
    db.load_schema().await?;
    databases.insert(MEMORY.into(), Arc::new(db));
    Ok(())
}

impl AppState {
    /// Opens every file and reads its schema. Plugins vote before the allow blocks.
    pub async fn build(
        files: &[DatabaseFile],
        inspected: &crate::inspect::InspectData,
        metadata: Metadata,
        settings: Settings,
        session: SessionConfig,
        plugins: Plugins,
    ) -> Result<AppState, StartError> {
        // Before any connection opens: each takes its longest value from it.
        crate::limits::set_answer_limit((settings.max_answer_mb as usize) << 20);
        let mut databases = IndexMap::new();
        let functions = Arc::new(plugins.sql_functions());
        // First, as Datasette lists it.
        if settings.memory || settings.crossdb {
            add_memory(&mut databases, &settings, functions.clone()).await?;
        }
        for f in files {
            if !f.path.exists() {
                return Err(StartError::Missing {
                    path: f.path.clone(),
                });
            }
            let name = crate::db::database_name(&f.path);
            if databases.contains_key(&name) {
                return Err(StartError::DuplicateName(name));
            }
            let mut db = Database::open(
                &name,
                &f.path,
                f.immutable,
                functions.clone(),
                read_options(&settings),
                Some(crate::db::writes::WriterOptions {
                    foreign_keys: settings.writer_foreign_keys,
                    queue: settings.max_queued_writes as usize,
                }),
            )?;
            db.load_schema().await?;
            if f.immutable {
                take_inspected(&mut db, inspected.get(&name))?;
            } else if inspected.contains_key(&name) {
                tracing::warn!("inspect data for {name} is not used: the file is not immutable");
            }
            databases.insert(name, Arc::new(db));
        }
        if let Some(m) = settings
            .static_mounts
            .iter()
            .find(|m| databases.contains_key(&m.mount))
        {
            return Err(StartError::MountHidesDatabase(m.mount.clone()));
        }
        if let Some((plugin, db)) = databases
            .keys()
            .find_map(|db| Some((plugins.route_under(&crate::urls::tilde_encode(db))?, db)))
        {
            return Err(StartError::RouteHidesDatabase(plugin.into(), db.clone()));
        }
        let metadata = Arc::new(metadata);
        let plugins = Arc::new(plugins);
        let mut sources: Vec<Box<dyn crate::permissions::PermissionSource>> = vec![];
        let plugins_vote = plugins.vote_on_permissions();
        if plugins_vote {
            sources.push(Box::new(PluginVotes(plugins.clone())));
        }
        // Allow blocks answer from the actor and the schema alone, so an access is reused
        // until either changes; so are plugins' votes that follow from what their queries
        // read, until that changes too. Other votes, only as long as the settings say.
        let access_cache = match settings.plugin_votes_cache_ms {
            _ if !plugins_vote || plugins.votes_follow_queries() => Some(AccessCache::new(None)),
            0 => None,
            ms => Some(AccessCache::new(Some(Duration::from_millis(ms)))),
        };
        sources.push(Box::new(AllowBlocks::new(metadata.clone())));
        let permissions = Permissions::new(sources, settings.default_allow_sql);
        let fingerprint = fingerprint(&metadata, &settings, &plugins);
        let answers = crate::limits::Budget::new((settings.answers_memory_mb as usize) << 20);
        Ok(AppState {
            settings,
            metadata,
            databases,
            permissions,
            access_cache,
            plugins,
            started: Instant::now(),
            session,
            root_token: Mutex::new(None),
            fingerprint,
            answers,
            plugin_work: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1)),
            )),
        })
    }
}

/// What pages depend on besides the files and the request.
fn fingerprint(metadata: &Metadata, settings: &Settings, plugins: &Plugins) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut d = Sha256::new();
    d.update(env!("CARGO_PKG_VERSION"));
    d.update(metadata.raw.to_string());
    d.update(serde_json::to_string(settings).unwrap_or_default());
    d.update(serde_json::to_string(&plugins.describe()).unwrap_or_default());
    if let Some(t) = &settings.templates {
        d.update(t.digest);
    }
    d.finalize().into()
}

/// How long plugin rendering waits for a turn, and then for its answer: past either, the
/// page goes on without it (or, for an output format, is refused).
const PLUGIN_WAIT: std::time::Duration = std::time::Duration::from_secs(1);
const PLUGIN_DEADLINE: std::time::Duration = std::time::Duration::from_secs(3);

impl AppState {
    /// Runs a plugin's rendering on a blocking thread, one of at most half the cores' worth at
    /// once, within [`PLUGIN_WAIT`] and [`PLUGIN_DEADLINE`]: a plugin given slow input holds
    /// neither the threads that answer requests nor a request for long. (A call past its
    /// deadline still finishes on its thread, holding its turn, so the others wait.)
    pub async fn plugin_work<T: Send + 'static>(
        &self,
        what: &str,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PluginWorkError> {
        let turn = tokio::time::timeout(PLUGIN_WAIT, self.plugin_work.clone().acquire_owned());
        let Ok(Ok(turn)) = turn.await else {
            tracing::warn!("{what}: plugins were busy rendering for {PLUGIN_WAIT:?}");
            return Err(PluginWorkError::Busy(what.to_string()));
        };
        let job = actix_web::web::block(move || {
            let _turn = turn;
            work()
        });
        match tokio::time::timeout(PLUGIN_DEADLINE, job).await {
            Ok(Ok(done)) => Ok(done),
            Ok(Err(e)) => Err(PluginWorkError::Failed(what.to_string(), e.to_string())),
            Err(_) => {
                tracing::warn!("{what}: a plugin took longer than {PLUGIN_DEADLINE:?}");
                Err(PluginWorkError::TooSlow(
                    what.to_string(),
                    PLUGIN_DEADLINE.as_secs(),
                ))
            }
        }
    }
}

/// Why plugin rendering gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum PluginWorkError {
    #[error("{0}: plugins are busy rendering other pages: try again shortly")]
    Busy(String),
    #[error("{0}: the plugin took longer than {1} s")]
    TooSlow(String, u64),
    #[error("{0}: {1}")]
    Failed(String, String),
}

impl AppState {
    /// What `actor` may read in database `db`, whose schema is `schema`: the access every
    /// statement run for the request is checked against. Worked out once a request (its page,
    /// its ETag and its padlocks ask alike), and reused between requests where the votes allow.
    pub fn access(&self, actor: &Actor, db: &str, schema: &Schema) -> Arc<Access> {
        let key = access_key(actor, db, schema);
        // Asked while votes are recorded (a plugin's query as the actor, or its permission
        // question): worked out afresh, so that what this access's votes read is recorded too.
        if reads::recording_now() {
            return self.work_out_and_keep(key, actor, db, schema);
        }
        if let Some(access) = request_memo::get(&key) {
            return access;
        }
        let access = match self.kept_access(&key, actor) {
            Some(access) => access,
            None => self.work_out_and_keep(key.clone(), actor, db, schema),
        };
        request_memo::put(key, access.clone());
        access
    }

    /// The access kept for `key`, if nothing its votes read has changed since; its checks are
    /// recorded again.
    fn kept_access(&self, key: &AccessKey, actor: &Actor) -> Option<Arc<Access>> {
        let worked = self.access_cache.as_ref()?.get(key)?;
        let unchanged = worked.reads.iter().all(|read| {
            self.databases
                .get(&read.db)
                .is_some_and(|d| d.version().as_ref() == Some(&read.version))
        });
        if !unchanged {
            return None;
        }
        self.permissions.replay(actor, &worked.recorded);
        Some(worked.access)
    }

    /// Works out an access, noting what the plugins' votes read, and keeps it where accesses
    /// are reused: votes that used the network or the clock only for a time the settings give.
    fn work_out_and_keep(
        &self,
        key: AccessKey,
        actor: &Actor,
        db: &str,
        schema: &Schema,
    ) -> Arc<Access> {
        let ((access, recorded), reads) =
            reads::recording(|| self.work_out_access(actor, db, schema, None));
        if let Some(cache) = &self.access_cache {
            if !reads.unpredictable || cache.expires() {
                let worked = Worked {
                    access: access.clone(),
                    recorded,
                    reads: reads.files.into(),
                };
                cache.insert(key, worked);
            }
        }
        access
    }

    /// Works out on a blocking thread, when plugins vote, the accesses a page of `db` is about
    /// to ask for that are not kept: the actor's, and with `public` an anonymous visitor's (for
    /// its padlocks). Plugins' votes may run queries, which then hold no async worker; the page
    /// finds the accesses in its request's memo.
    pub async fn prepare_accesses(self: &Arc<Self>, actor: &Actor, db: &str, public: bool) {
        let Some(database) = self
            .databases
            .get(db)
            .filter(|_| self.plugins.vote_on_permissions())
        else {
            return;
        };
        let schema = database.current_schema();
        let mut actors = vec![actor.clone()];
        if public && actor.is_some() {
            actors.push(None);
        }
        actors.retain(|a| {
            let key = access_key(a, db, &schema);
            let kept = self.kept_access(&key, a);
            kept.map(|access| request_memo::put(key, access)).is_none()
        });
        if actors.is_empty() {
            return;
        }
        let (state, db) = (self.clone(), db.to_string());
        let worked = actix_web::web::block(move || {
            actors
                .iter()
                .map(|a| {
                    let key = access_key(a, &db, &schema);
                    (key.clone(), state.work_out_and_keep(key, a, &db, &schema))
                })
                .collect::<Vec<_>>()
        })
        .await;
        // A failed thread leaves the page to work them out itself.
        for (key, access) in worked.unwrap_or_default() {
            request_memo::put(key, access);
        }
    }

    fn work_out_access(
        &self,
        actor: &Actor,
        db: &str,
        schema: &Schema,
        focus: Option<&std::collections::HashSet<String>>,
    ) -> (Arc<Access>, Arc<[crate::permissions::Recorded]>) {
        let (mut access, recorded) = self.permissions.access(actor, db, &schema.lineage, focus);
        access.file = schema.file;
        access.schema_version = schema.file.map(|_| schema.version);
        (Arc::new(access), recorded)
    }

    /// What `actor` may read of the objects `names` (and of what they read, through views and
    /// triggers) in `db`: the access of a page that reads nothing else, everything else
    /// counting as hidden. Where whole accesses are not reused (plugins vote, do not say their
    /// votes follow their queries, and `plugin_votes_cache_ms` is 0), only those objects are
    /// voted on, so a table page does not ask a querying plugin about every table of the
    /// database; otherwise the whole access.
    pub fn access_to(
        &self,
        actor: &Actor,
        db: &str,
        schema: &Schema,
        names: &[&str],
    ) -> Arc<Access> {
        use crate::db::lineage::fold;
        if self.access_cache.is_some() {
            return self.access(actor, db, schema);
        }
        let objects = &schema.lineage.objects;
        let mut focus = std::collections::HashSet::new();
        let mut todo: Vec<String> = names.iter().map(|n| fold(n)).collect();
        while let Some(name) = todo.pop() {
            let Some(o) = objects.get(&name) else {
                continue;
            };
            // What describes every table follows them all: no focus for it.
            if o.reads_everything {
                return self.access(actor, db, schema);
            }
            if focus.insert(name.clone()) {
                todo.extend(o.reads.iter().cloned());
                // A virtual table is read through its shadow tables.
                todo.extend(schema.lineage.shadows_of(&name).iter().cloned());
            }
        }
        self.work_out_access(actor, db, schema, Some(&focus)).0
    }

    /// As the table page answers: derived objects follow what they read; a name the schema
    /// does not hold follows the allow blocks and votes about it (a missing table is not
    /// thereby visible, and in a hidden database not even its absence shows).
    pub fn can_view_table(&self, actor: &Actor, db: &str, table: &str) -> bool {
        let Some(d) = self.databases.get(db) else {
            return false;
        };
        let Ok(schema) = d.schema_here() else {
            return false;
        };
        if schema
            .lineage
            .objects
            .contains_key(&crate::db::lineage::fold(table))
        {
            self.access(actor, db, &schema).can_read(table)
        } else {
            self.permissions.can_view_unlisted_table(actor, db, table)
        }
    }

    /// `access` to the in-memory database, with `--crossdb`: with the files attached that
    /// `actor` may run SQL on and read whole (what they could not read whole would otherwise
    /// be read through SQL that names it in another schema), the first ten of them.
    pub async fn with_attached(
        &self,
        actor: &Actor,
        db: &Database,
        access: Arc<Access>,
    ) -> Result<Arc<Access>, DbError> {
        if !(self.settings.crossdb && db.is_memory()) {
            return Ok(access);
        }
        let mut attached: Vec<crate::db::access::Attached> = Vec::new();
        for other in self.databases.values().filter(|d| !d.is_memory()) {
            // SQLite's schema names ignore case: `main`, `temp`, and `Sales` beside `sales`,
            // cannot be attached under their names.
            let taken = |name: &str| name.eq_ignore_ascii_case(&other.name);
            let reserved =
                ["main", "temp"].into_iter().any(taken) || attached.iter().any(|a| taken(&a.alias));
            if attached.len() == crate::db::MAX_ATTACHED
                || reserved
                || !self.permissions.can_execute_sql(actor, &other.name)
            {
                continue;
            }
            if let Some(theirs) = self.whole_file_access(actor, other).await? {
                attached.push(crate::db::access::Attached {
                    alias: other.name.clone(),
                    path: other.path.clone(),
                    immutable: other.immutable,
                    access: theirs,
                });
            }
        }
        Ok(Arc::new(Access {
            attached,
            ..Access::clone(&access)
        }))
    }

    /// Whether nothing in `db` is hidden from `actor`: only then may what stands for the whole
    /// file (its bytes, its hash) reach them, since it holds the protected tables too.
    pub async fn sees_whole_file(&self, actor: &Actor, db: &Database) -> Result<bool, DbError> {
        Ok(self.whole_file_access(actor, db).await?.is_some())
    }

    /// `actor`'s access to `db`, when nothing in it is hidden from them (see
    /// [`AppState::sees_whole_file`]).
    async fn whole_file_access(
        &self,
        actor: &Actor,
        db: &Database,
    ) -> Result<Option<Arc<Access>>, DbError> {
        let schema = db.schema().await?;
        let access = self.access(actor, &db.name, &schema);
        Ok((!access.hides_anything()).then_some(access))
    }

    /// What an anonymous visitor may read, given `access`, what `actor` may read: pages mark
    /// as private what anonymous visitors cannot see.
    pub fn public_access(
        &self,
        actor: &Actor,
        access: &Arc<Access>,
        db: &str,
        schema: &Schema,
    ) -> Arc<Access> {
        match actor {
            None => access.clone(),
            Some(_) => self.access(&None, db, schema),
        }
    }

    /// Who is asking: the actor of the session cookie, else one a plugin recognises. Its id
    /// is kept with the request for the request's log line.
    pub fn actor(&self, req: &actix_web::HttpRequest) -> Actor {
        use actix_web::HttpMessage;
        let actor = self.find_actor(req);
        if actor.is_some() {
            req.extensions_mut().insert(Personal);
        }
        if let Some(id) = actor.as_ref().and_then(|a| a.get("id")) {
            let id = id.as_str().map_or_else(|| id.to_string(), str::to_string);
            req.extensions_mut().insert(ActorId(id));
        }
        actor
    }

    fn find_actor(&self, req: &actix_web::HttpRequest) -> Actor {
        use actix_web::HttpMessage;
        if let Some(token) = req.extensions().get::<crate::tokens::TokenActor>() {
            return Some(token.0.clone());
        }
        crate::session::actor(req).or_else(|| {
            self.plugins.actor_from_request(
                |name| req.headers().contains_key(name),
                || self.describe(req),
            )
        })
    }

    /// `scheme://host` of this site as the client reached it. Forwarded headers count only
    /// when the `trust_forwarded_headers` setting says a proxy sets them.
    pub fn origin(&self, req: &actix_web::HttpRequest) -> String {
        let settings = &self.settings;
        let (scheme, host) = if settings.trust_forwarded_headers {
            let info = req.connection_info();
            (info.scheme().to_string(), info.host().to_string())
        } else {
            let host = req
                .headers()
                .get(actix_web::http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .filter(|h| is_host(h))
                .unwrap_or_else(|| req.app_config().host());
            ("http".to_string(), host.to_string())
        };
        let scheme = if settings.force_https_urls {
            "https"
        } else {
            &scheme
        };
        format!("{scheme}://{host}")
    }

    /// The instance's own pages about itself, for the header's menu of who may debug it.
    fn debug_menu(&self) -> impl Iterator<Item = datasette_plugin_api::MenuLink> + '_ {
        [
            ("/-/databases", "Databases"),
            ("/-/plugins", "Installed plugins"),
            ("/-/versions", "Version info"),
            ("/-/metadata", "Metadata"),
            ("/-/settings", "Settings"),
            ("/-/permissions", "Debug permissions"),
            ("/-/allow-debug", "Debug allow rules"),
            ("/-/threads", "Debug threads"),
            ("/-/actor", "Debug actor"),
            ("/-/metrics", "Metrics"),
        ]
        .into_iter()
        .map(|(path, label)| datasette_plugin_api::MenuLink::get(self.settings.url(path), label))
    }

    /// metadata.json's stylesheets or scripts, then the plugins': a URL of this site's
    /// (`/static/site.css`) is under `base_url`, as Datasette places it.
    fn asset_urls(
        &self,
        from_metadata: &[crate::config::AssetUrl],
        from_plugins: Vec<String>,
    ) -> Vec<crate::config::AssetUrl> {
        let on_this_site = |url: &str| url.starts_with('/') && !url.starts_with("//");
        from_metadata
            .iter()
            .map(|a| crate::config::AssetUrl {
                url: match on_this_site(&a.url) {
                    true => self.settings.url(&a.url),
                    false => a.url.clone(),
                },
                ..a.clone()
            })
            .chain(from_plugins.into_iter().map(|url| crate::config::AssetUrl {
                url,
                ..Default::default()
            }))
            .collect()
    }

    /// The header and footer of a page at `page` (its path and query), for `actor`, with
    /// what plugins add to this kind of page.
    pub fn chrome(&self, actor: &Actor, page: &str, view: View<'_>) -> Chrome {
        let context = self.page_context(actor, page, view);
        let extras = self.plugins.page_extras(&context);
        let mut menu_links = self.plugins.menu_links(actor, &context.request);
        if self.permissions.can_see_debug_menu(actor) {
            menu_links.extend(self.debug_menu());
        }
        Chrome {
            menu_links,
            css_urls: self.asset_urls(&self.metadata.extra_css_urls, extras.css_urls),
            js_urls: self.asset_urls(&self.metadata.extra_js_urls, extras.js_urls),
            body_scripts: extras.body_scripts.iter().map(|s| script_text(s)).collect(),
            actions: extras.actions,
            alternate_json: None,
            body_class: body_class(view),
            show_logout: false,
            home: self.settings.base_url.clone(),
            messages: vec![],
            site_title: self
                .metadata
                .info
                .title
                .clone()
                .unwrap_or_else(|| "datasette-rs".into()),
            // Datasette's choice of what to show for an actor.
            actor_id: actor.as_ref().map(|a| {
                ["display", "name", "username", "login", "id"]
                    .iter()
                    .find_map(|k| match a.get(*k) {
                        Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s.clone()),
                        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
                        _ => None,
                    })
                    .unwrap_or_else(|| a.to_string())
            }),
        }
    }
}

/// Datasette's `<body>` classes for a kind of page: `table db-NAME table-NAME` and the like,
/// which stylesheets use to style one database's or table's pages.
fn body_class(view: View<'_>) -> String {
    use crate::render::html::css_class;
    let db = view.database.map(|d| format!("db-{}", css_class(d)));
    let (kind, child) = match view.kind {
        "index" => ("index", None),
        "database" => ("db", None),
        "query" => (
            "query",
            view.table.map(|q| format!("query-{}", css_class(q))),
        ),
        "table" | "row" => (
            view.kind,
            view.table.map(|t| format!("table-{}", css_class(t))),
        ),
        _ => return String::new(),
    };
    [Some(kind.to_string()), db, child]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The id of the actor a request was made by, for its log line.
#[derive(Clone)]
pub struct ActorId(pub String);

/// Set on a request whose answer depends on who asks (an actor was recognised): its answer is
/// private (`delivery::deliver`).
#[derive(Debug, Clone, Copy)]
pub struct Personal;

impl AppState {
    /// A page as plugins' page hooks are told of it: `page` is its route path and query.
    pub fn page_context(&self, actor: &Actor, page: &str, view: View<'_>) -> PageContext {
        let (path, query) = page.split_once('?').unwrap_or((page, ""));
        PageContext {
            view: view.kind.into(),
            database: view.database.map(str::to_string),
            table: view.table.map(str::to_string),
            row: view.row.map(str::to_string),
            actor: actor.clone(),
            request: datasette_plugin_api::Request {
                method: "GET".into(),
                path: path.into(),
                query: query.into(),
                actor: actor.clone(),
                base_url: self.settings.base_url.clone(),
                ..Default::default()
            },
            config: serde_json::Value::Null,
        }
    }

    /// The request as plugins see it (see [`crate::plugins::describe`]).
    pub fn describe(&self, req: &actix_web::HttpRequest) -> datasette_plugin_api::Request {
        let mut request = crate::plugins::describe(req, self.origin(req));
        request.base_url = self.settings.base_url.clone();
        request
    }
}

/// What an access is kept under: the database, its schema's identity and version, and the
/// actor.
fn access_key(actor: &Actor, db: &str, schema: &Schema) -> AccessKey {
    AccessKey {
        db: db.to_string(),
        lineage: Arc::as_ptr(&schema.lineage) as usize,
        file: schema.file,
        version: schema.version,
        actor: serde_json::to_string(actor).unwrap_or_default(),
    }
}

/// Which page the chrome is for, as plugins' page hooks are told.
#[derive(Clone, Copy, Default)]
pub struct View<'a> {
    /// `index`, `database`, `table`, `row`, `query`, `special`, `error`, `plugin`.
    pub kind: &'static str,
    pub database: Option<&'a str>,
    pub table: Option<&'a str>,
    pub row: Option<&'a str>,
}

/// A `Host` header value that can go into a URL as it is: a name or address and a port.
fn is_host(h: &str) -> bool {
    !h.is_empty()
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

/// The accesses worked out for the request under way, where they are not reused between
/// requests: a request asks for the same access more than once (its page, its ETag, whether
/// the whole file may be shown), and plugins' votes are asked once.
pub mod request_memo {
    use std::cell::RefCell;
    use std::sync::Arc;

    use crate::db::Access;
    use crate::permissions::AccessKey;

    /// A request works with a few databases and actors at most.
    const KEEP: usize = 8;

    tokio::task_local! {
        static ACCESSES: RefCell<Vec<(AccessKey, Arc<Access>)>>;
    }

    /// Runs a request's handling with a memo of its own.
    pub async fn scope<F: std::future::Future>(f: F) -> F::Output {
        ACCESSES.scope(RefCell::new(Vec::new()), f).await
    }

    pub(super) fn get(key: &AccessKey) -> Option<Arc<Access>> {
        ACCESSES
            .try_with(|m| {
                m.borrow()
                    .iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, a)| a.clone())
            })
            .ok()
            .flatten()
    }

    pub(super) fn put(key: AccessKey, access: Arc<Access>) {
        let _ = ACCESSES.try_with(|m| {
            let mut m = m.borrow_mut();
            if m.len() == KEEP {
                m.remove(0);
            }
            m.push((key, access));
        });
    }
}
