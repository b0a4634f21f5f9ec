//! Who may do what: actions on resources, voted on by sources (plugins, then the allow blocks
//! of metadata.json), the most specific explicit answer winning.

mod cache;
pub mod reads;

pub use cache::{AccessCache, Key as AccessKey, Worked};

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::config::Metadata;
use crate::db::{Access, Lineage};

pub type Actor = Option<Value>;

/// What a permission check asks about. Plugins vote on actions by name ([`Action::name`]);
/// names the host does not know stay strings at that edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    ViewInstance,
    ViewDatabase,
    ViewTable,
    ViewQuery,
    ExecuteSql,
    Metrics,
    ViewPluginConfig,
    ViewDatabaseDownload,
    PermissionsDebug,
    DebugMenu,
    InsertRow,
    UpdateRow,
    DeleteRow,
    CreateTable,
    AlterTable,
    DropTable,
    ExecuteWriteSql,
}

impl Action {
    pub const ALL: [Action; 17] = [
        Action::ViewInstance,
        Action::ViewDatabase,
        Action::ViewTable,
        Action::ViewQuery,
        Action::ExecuteSql,
        Action::Metrics,
        Action::ViewPluginConfig,
        Action::ViewDatabaseDownload,
        Action::PermissionsDebug,
        Action::DebugMenu,
        Action::InsertRow,
        Action::UpdateRow,
        Action::DeleteRow,
        Action::CreateTable,
        Action::AlterTable,
        Action::DropTable,
        Action::ExecuteWriteSql,
    ];

    /// The name Datasette, plugins and metadata.json's `permissions` blocks use.
    pub const fn name(self) -> &'static str {
        match self {
            Action::ViewInstance => "view-instance",
            Action::ViewDatabase => "view-database",
            Action::ViewTable => "view-table",
            Action::ViewQuery => "view-query",
            Action::ExecuteSql => "execute-sql",
            Action::Metrics => "metrics",
            Action::ViewPluginConfig => "view-plugin-config",
            Action::ViewDatabaseDownload => "view-database-download",
            Action::PermissionsDebug => "permissions-debug",
            Action::DebugMenu => "debug-menu",
            Action::InsertRow => "insert-row",
            Action::UpdateRow => "update-row",
            Action::DeleteRow => "delete-row",
            Action::CreateTable => "create-table",
            Action::AlterTable => "alter-table",
            Action::DropTable => "drop-table",
            Action::ExecuteWriteSql => "execute-write-sql",
        }
    }

    /// Datasette's short name, as tokens' restrictions may write it.
    pub const fn abbreviation(self) -> &'static str {
        match self {
            Action::ViewInstance => "vi",
            Action::ViewDatabase => "vd",
            Action::ViewTable => "vt",
            Action::ViewQuery => "vq",
            Action::ExecuteSql => "es",
            Action::Metrics => "metrics",
            Action::ViewPluginConfig => "vpc",
            Action::ViewDatabaseDownload => "vdd",
            Action::PermissionsDebug => "pd",
            Action::DebugMenu => "dm",
            Action::InsertRow => "ir",
            Action::UpdateRow => "ur",
            Action::DeleteRow => "dr",
            Action::CreateTable => "ct",
            Action::AlterTable => "at",
            Action::DropTable => "dt",
            Action::ExecuteWriteSql => "ews",
        }
    }

    /// Whether the action changes a database: nobody may, unless a `permissions` block or a
    /// plugin says so (or the actor is root and no block names who may).
    pub const fn writes(self) -> bool {
        matches!(
            self,
            Action::InsertRow
                | Action::UpdateRow
                | Action::DeleteRow
                | Action::CreateTable
                | Action::AlterTable
                | Action::DropTable
                | Action::ExecuteWriteSql
        )
    }

    pub fn named(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }
}

/// How many recent checks `/-/permissions` shows.
const RECENT_CHECKS: usize = 200;

/// One permission check as `/-/permissions` lists it.
#[derive(Debug, Clone)]
pub struct Check {
    pub when: SystemTime,
    /// Shared by the checks of one access: a page's access may record one a table.
    pub actor: Arc<Actor>,
    pub action: Action,
    pub resource: Resource,
    pub allowed: bool,
    /// No source had an opinion: the default decided.
    pub used_default: bool,
}

/// What a permission check is about, as Datasette's hooks see it: the instance, a database,
/// or a child of one (a table, a view or a canned query; the action says which).
pub use datasette_plugin_api::Resource;

/// Something with an opinion on permission checks: `Some(true)` allow, `Some(false)` deny,
/// `None` no opinion. Called inline on every check: it must not block.
pub trait PermissionSource: Send + Sync {
    fn vote(&self, actor: &Actor, action: &str, resource: &Resource) -> Option<bool>;

    /// The votes on one action over many resources, in their order: a source that can answer
    /// them together (one query for all of a page's tables) says so here.
    fn vote_many(&self, actor: &Actor, action: &str, resources: &[Resource]) -> Vec<Option<bool>> {
        resources
            .iter()
            .map(|r| self.vote(actor, action, r))
            .collect()
    }
}

/// Datasette's `_r`: actions allowed everywhere (`a`), in a database (`d`), or on one table
/// or query (`r`). Actions are written by name or by Datasette's abbreviation.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Restrictions {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub a: Vec<String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub d: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub r: Map<String, Value>,
}

fn lists(list: Option<&Value>, action: Action) -> bool {
    list.and_then(Value::as_array).is_some_and(|l| {
        l.iter()
            .filter_map(Value::as_str)
            .any(|a| a == action.name() || a == action.abbreviation())
    })
}

impl Restrictions {
    /// The restrictions an actor carries (a restricted token's), if any.
    pub fn of(actor: &Option<Value>) -> Option<Restrictions> {
        let r = actor.as_ref()?.get("_r")?;
        // A `_r` that cannot be read restricts to nothing rather than to everything.
        Some(serde_json::from_value(r.clone()).unwrap_or_default())
    }

    /// Whether these restrictions leave `action` on `resource` possible. Seeing the instance
    /// and a database is possible wherever anything inside them is listed: a token for one
    /// table's rows must reach that table.
    pub fn allow(&self, action: Action, resource: &Resource) -> bool {
        if lists(Some(&Value::from(self.a.clone())), action) {
            return true;
        }
        match resource {
            Resource::Instance => {
                action == Action::ViewInstance
                    && (!self.a.is_empty() || !self.d.is_empty() || !self.r.is_empty())
            }
            Resource::Database(db) => {
                lists(self.d.get(db), action)
                    || (action == Action::ViewDatabase
                        && (!self.a.is_empty()
                            || self.d.contains_key(db)
                            || self.r.contains_key(db)))
            }
            Resource::Child(db, child) => {
                lists(self.d.get(db), action)
                    || lists(self.r.get(db).and_then(|t| t.get(child)), action)
            }
        }
    }
}

/// Datasette 0.65's matching of an actor against an allow block.
pub fn actor_matches_allow(actor: &Actor, allow: &Value) -> bool {
    match allow {
        Value::Bool(b) => return *b,
        Value::Null => return true,
        _ => {}
    }
    let Value::Object(block) = allow else {
        return false;
    };
    if actor.is_none() && block.get("unauthenticated") == Some(&Value::Bool(true)) {
        return true;
    }
    let empty = serde_json::Map::new();
    let actor_map = match actor {
        Some(Value::Object(m)) => m,
        _ => &empty,
    };
    for (key, wanted) in block {
        if wanted == "*" && actor_map.contains_key(key) {
            return true;
        }
        let Some(have) = actor_map.get(key) else {
            continue;
        };
        if have.is_null() {
            continue;
        }
        let wanted: &[Value] = match wanted {
            Value::Array(a) => a,
            other => std::slice::from_ref(other),
        };
        let have: &[Value] = match have {
            Value::Array(a) => a,
            other => std::slice::from_ref(other),
        };
        if have.iter().any(|h| wanted.contains(h)) {
            return true;
        }
    }
    false
}

/// The allow blocks of metadata.json as a source of votes.
pub struct AllowBlocks {
    metadata: Arc<Metadata>,
}

impl AllowBlocks {
    pub fn new(metadata: Arc<Metadata>) -> Self {
        AllowBlocks { metadata }
    }
}

impl PermissionSource for AllowBlocks {
    fn vote(&self, actor: &Actor, action: &str, resource: &Resource) -> Option<bool> {
        let m = &self.metadata;
        let block = match (Action::named(action), resource) {
            (Some(Action::ViewInstance), _) => m.allow.as_ref(),
            (Some(Action::ViewDatabase), Resource::Database(d)) => m.database(d)?.allow.as_ref(),
            (Some(Action::ViewTable), Resource::Child(d, t)) => m.table(d, t)?.allow.as_ref(),
            (Some(Action::ViewQuery), Resource::Child(d, q)) => {
                m.database(d)?.queries.get(q)?.allow.as_ref()
            }
            (Some(Action::ExecuteSql), Resource::Database(d)) => m
                .database(d)
                .and_then(|db| db.allow_sql.as_ref())
                .or(m.allow_sql.as_ref()),
            (Some(a), Resource::Database(d)) if a.writes() => {
                m.database(d)?.permissions.get(action)
            }
            (Some(a), Resource::Child(d, t)) if a.writes() => {
                m.table(d, t)?.permissions.get(action)
            }
            (_, Resource::Instance) => m.permissions.get(action),
            _ => None,
        }?;
        Some(actor_matches_allow(actor, block))
    }
}

/// What `view-database` asks, most specific first.
fn database_checks(db: &str) -> [(Action, Resource); 2] {
    [
        (Action::ViewDatabase, Resource::Database(db.into())),
        (Action::ViewInstance, Resource::Instance),
    ]
}

fn is_root(actor: &Actor) -> bool {
    actor.as_ref().and_then(|a| a.get("id")) == Some(&"root".into())
}

/// The first explicit answer for each of `resources`: `voters` are asked in order, each once,
/// about the resources no earlier one answered, and answer in their order.
pub fn first_answers<V>(
    resources: &[Resource],
    voters: impl IntoIterator<Item = V>,
    mut ask: impl FnMut(V, &[Resource]) -> Vec<Option<bool>>,
) -> Vec<Option<bool>> {
    let mut votes = vec![None; resources.len()];
    for voter in voters {
        let open: Vec<usize> = (0..resources.len())
            .filter(|&i| votes[i].is_none())
            .collect();
        if open.is_empty() {
            break;
        }
        let asked: Vec<Resource> = open.iter().map(|&i| resources[i].clone()).collect();
        for (i, answer) in open.into_iter().zip(ask(voter, &asked)) {
            votes[i] = answer;
        }
    }
    votes
}

/// A check worked out for an access, kept with it so that reusing the access lists the
/// check in `/-/permissions` again.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub action: Action,
    pub resource: Resource,
    pub vote: Option<bool>,
    pub default: bool,
}

/// The one service every route asks.
pub struct Permissions {
    sources: Vec<Box<dyn PermissionSource>>,
    default_allow_sql: bool,
    /// The most recent checks, by the batch they were recorded in (an access's, one check's),
    /// newest first: an access reused for a request records its checks again without copying
    /// them.
    recent: Mutex<RecentChecks>,
}

#[derive(Default)]
struct RecentChecks {
    batches: VecDeque<Batch>,
    /// How many checks the batches hold between them.
    checks: usize,
}

struct Batch {
    when: SystemTime,
    actor: Arc<Actor>,
    recorded: Arc<[Recorded]>,
}

impl Permissions {
    /// `sources` are asked in order; put plugins before the allow blocks.
    pub fn new(sources: Vec<Box<dyn PermissionSource>>, default_allow_sql: bool) -> Self {
        Permissions {
            sources,
            default_allow_sql,
            recent: Mutex::new(RecentChecks::default()),
        }
    }

    /// The most recent checks, newest first (`/-/permissions`).
    pub fn recent(&self) -> Vec<Check> {
        let recent = self.recent_checks();
        let checks = recent.batches.iter().flat_map(|b| {
            b.recorded.iter().rev().map(|r| Check {
                when: b.when,
                actor: b.actor.clone(),
                action: r.action,
                resource: r.resource.clone(),
                allowed: r.vote.unwrap_or(r.default),
                used_default: r.vote.is_none(),
            })
        });
        checks.take(RECENT_CHECKS).collect()
    }

    fn recent_checks(&self) -> std::sync::MutexGuard<'_, RecentChecks> {
        self.recent.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn record(
        &self,
        actor: &Actor,
        action: Action,
        resource: &Resource,
        vote: Option<bool>,
        default: bool,
    ) {
        let recorded = Recorded {
            action,
            resource: resource.clone(),
            vote,
            default,
        };
        self.replay(actor, &Arc::from([recorded]));
    }

    /// Lists again the checks an access reused from [`AccessCache`] was worked out with; the
    /// oldest batches go once the others hold [`RECENT_CHECKS`].
    pub fn replay(&self, actor: &Actor, recorded: &Arc<[Recorded]>) {
        if recorded.is_empty() {
            return;
        }
        let batch = Batch {
            when: SystemTime::now(),
            actor: Arc::new(actor.clone()),
            recorded: recorded.clone(),
        };
        let mut recent = self.recent_checks();
        recent.checks += batch.recorded.len();
        recent.batches.push_front(batch);
        while let Some(oldest) = recent.batches.back().map(|b| b.recorded.len()) {
            if recent.checks - oldest < RECENT_CHECKS {
                break;
            }
            recent.checks -= oldest;
            recent.batches.pop_back();
        }
    }

    /// The first explicit vote, if any source has one.
    pub fn vote(&self, actor: &Actor, action: &str, resource: &Resource) -> Option<bool> {
        self.sources
            .iter()
            .find_map(|s| s.vote(actor, action, resource))
    }

    /// [`Permissions::vote`] on one action over many resources: each source is asked once,
    /// for the resources no earlier source has answered.
    pub fn vote_many(
        &self,
        actor: &Actor,
        action: &str,
        resources: &[Resource],
    ) -> Vec<Option<bool>> {
        first_answers(resources, &self.sources, |source, asked| {
            source.vote_many(actor, action, asked)
        })
    }

    /// Walks from the most specific check to the least; the first explicit answer wins. The
    /// check is recorded as the most specific one.
    fn cascade(&self, actor: &Actor, checks: &[(Action, Resource)], default: bool) -> bool {
        let vote = self.decide(actor, checks);
        if let Some((action, resource)) = checks.first() {
            self.record(actor, *action, resource, vote, default);
        }
        vote.unwrap_or(default)
    }

    /// The explicit answer of `checks`, most specific first, if any.
    fn decide(&self, actor: &Actor, checks: &[(Action, Resource)]) -> Option<bool> {
        // A restricted token may do what it lists and nothing else, whatever else says yes.
        match (Restrictions::of(actor), checks.first()) {
            (Some(r), Some((action, resource))) if !r.allow(*action, resource) => Some(false),
            _ => self.first_vote(actor, checks),
        }
    }

    pub fn can_view_instance(&self, actor: &Actor) -> bool {
        self.cascade(actor, &[(Action::ViewInstance, Resource::Instance)], true)
    }

    /// The first explicit answer of `checks`, most specific first.
    fn first_vote(&self, actor: &Actor, checks: &[(Action, Resource)]) -> Option<bool> {
        checks
            .iter()
            .find_map(|(action, resource)| self.vote(actor, action.name(), resource))
    }

    pub fn can_view_database(&self, actor: &Actor, db: &str) -> bool {
        self.cascade(actor, &database_checks(db), true)
    }

    /// As [`Permissions::can_view_database`], without a line in `/-/permissions`: for the
    /// server's own questions (which files a page's ETag covers), not a page's gate.
    pub fn sees_database(&self, actor: &Actor, db: &str) -> bool {
        self.first_vote(actor, &database_checks(db)).unwrap_or(true)
    }

    /// A table the schema does not hold (yet): its own allow block and votes, then the
    /// database's. A table the schema holds is answered by [`Permissions::access`], which
    /// knows what it derives from: `AppState::can_view_table` chooses.
    pub fn can_view_unlisted_table(&self, actor: &Actor, db: &str, table: &str) -> bool {
        self.cascade(
            actor,
            &[
                (Action::ViewTable, Resource::Child(db.into(), table.into())),
                (Action::ViewDatabase, Resource::Database(db.into())),
                (Action::ViewInstance, Resource::Instance),
            ],
            true,
        )
    }

    pub fn can_view_query(&self, actor: &Actor, db: &str, query: &str) -> bool {
        self.cascade(
            actor,
            &[
                (Action::ViewQuery, Resource::Child(db.into(), query.into())),
                (Action::ViewDatabase, Resource::Database(db.into())),
                (Action::ViewInstance, Resource::Instance),
            ],
            true,
        )
    }

    /// `/-/metrics`: its allow block (`permissions.metrics`) or a plugin's vote; else root only.
    pub fn can_view_metrics(&self, actor: &Actor) -> bool {
        self.cascade(
            actor,
            &[(Action::Metrics, Resource::Instance)],
            is_root(actor),
        )
    }

    /// Plugins' configuration blocks in `/-/metadata`: they may name hidden tables (a rule's
    /// SQL) or the actors behind tokens. Root's unless an allow block or plugin says.
    pub fn can_view_plugin_config(&self, actor: &Actor) -> bool {
        self.cascade(
            actor,
            &[(Action::ViewPluginConfig, Resource::Instance)],
            is_root(actor),
        )
    }

    /// `/-/permissions`, this log of checks: root's unless an allow block or plugin says.
    pub fn can_debug_permissions(&self, actor: &Actor) -> bool {
        self.cascade(
            actor,
            &[(Action::PermissionsDebug, Resource::Instance)],
            is_root(actor),
        )
    }

    /// The menu of debugging pages in the header: root's unless an allow block or plugin says.
    pub fn can_see_debug_menu(&self, actor: &Actor) -> bool {
        self.cascade(
            actor,
            &[(Action::DebugMenu, Resource::Instance)],
            is_root(actor),
        )
    }

    /// Arbitrary SQL needs the database to be visible as well as `execute-sql`.
    pub fn can_execute_sql(&self, actor: &Actor, db: &str) -> bool {
        self.can_view_database(actor, db)
            && self.cascade(
                actor,
                &[(Action::ExecuteSql, Resource::Database(db.into()))],
                self.default_allow_sql,
            )
    }

    /// A write `action` on `db`, or on its table `table`: the table's block or votes, then the
    /// database's, then the instance's. With none, root only. Whether the actor may see the
    /// table at all is `Access`'s to answer, before this.
    pub fn can_write(&self, actor: &Actor, action: Action, db: &str, table: Option<&str>) -> bool {
        let mut checks = Vec::with_capacity(3);
        if let Some(t) = table {
            checks.push((action, Resource::Child(db.into(), t.into())));
        }
        checks.push((action, Resource::Database(db.into())));
        checks.push((action, Resource::Instance));
        self.cascade(actor, &checks, is_root(actor))
    }

    /// What this actor may read in `db`: every table and view, derived ones included.
    ///
    /// An object with an explicit answer of its own (its allow block, or a plugin's vote)
    /// follows that answer alone: that is how an owner publishes a view of private data.
    /// Any other object follows the database and instance, and is hidden as soon as anything
    /// it reads is hidden (a view, a full-text index and its shadow tables, a table filled by
    /// triggers); statistics tables are hidden as soon as any table is.
    ///
    /// With `focus` (folded names, closed over what each reads), only those objects are voted
    /// on and every other one counts as hidden: the access of a page that reads nothing else.
    pub fn access(
        &self,
        actor: &Actor,
        db: &str,
        lineage: &Arc<Lineage>,
        focus: Option<&HashSet<String>>,
    ) -> (Access, Arc<[Recorded]>) {
        let checks = database_checks(db);
        let database_vote = self.decide(actor, &checks);
        let database = database_vote.unwrap_or(true);
        let mut recorded = vec![Recorded {
            action: Action::ViewDatabase,
            resource: checks[0].1.clone(),
            vote: database_vote,
            default: true,
        }];
        let mut hidden: HashSet<String> = HashSet::new();
        let mut published: HashSet<String> = HashSet::new();
        let restrictions = Restrictions::of(actor);
        // The objects to work out, by their place in the lineage: all, or the focus alone.
        let objects = &lineage.objects;
        let considered: Vec<usize> = match focus {
            Some(f) => f.iter().filter_map(|n| objects.get_index_of(n)).collect(),
            None => (0..objects.len()).collect(),
        };
        // Each object's own answer. What a restricted token does not list needs no vote; the
        // rest are voted on together.
        let mut votes: Vec<Option<bool>> = vec![None; objects.len()];
        let (mut at, mut resources, mut refused) = (Vec::new(), Vec::new(), Vec::new());
        for &i in &considered {
            let (_, o) = objects.get_index(i).expect("an index of the lineage");
            let resource = Resource::Child(db.into(), o.name.clone());
            if restrictions
                .as_ref()
                .is_some_and(|r| !r.allow(Action::ViewTable, &resource))
            {
                refused.push((i, resource));
            } else {
                at.push(i);
                resources.push(resource);
            }
        }
        let answers = self.vote_many(actor, Action::ViewTable.name(), &resources);
        let refusals = refused.into_iter().map(|(i, r)| (i, r, Some(false)));
        let voted = at
            .into_iter()
            .zip(resources)
            .zip(answers)
            .map(|((i, r), v)| (i, r, v));
        for (i, resource, vote) in refusals.chain(voted) {
            votes[i] = vote;
            // An object's own answer is worth listing; the others follow the database's.
            if vote.is_some() {
                recorded.push(Recorded {
                    action: Action::ViewTable,
                    resource,
                    vote,
                    default: database,
                });
            }
        }
        for &i in &considered {
            let (folded, o) = objects.get_index(i).expect("an index of the lineage");
            if votes[i] == Some(true) && o.is_view {
                published.insert(folded.clone());
            }
            if !votes[i].unwrap_or(database) {
                hidden.insert(folded.clone());
            }
        }
        // What reads something hidden is hidden, until nothing changes (triggers can make
        // cycles, so no single pass in any order is enough). A focus holds what its objects
        // read, so nothing outside it decides.
        while !hidden.is_empty() {
            let any_table_hidden = hidden
                .iter()
                .any(|h| objects.get(h).is_some_and(|o| !o.reads_everything));
            let newly: Vec<String> = considered
                .iter()
                .filter_map(|&i| {
                    let (folded, o) = objects.get_index(i)?;
                    let reads_hidden = (o.reads_everything && any_table_hidden)
                        || o.reads.iter().any(|r| hidden.contains(r));
                    (votes[i].is_none() && !hidden.contains(folded) && reads_hidden)
                        .then(|| folded.clone())
                })
                .collect();
            if newly.is_empty() {
                break;
            }
            hidden.extend(newly);
        }
        let recorded: Arc<[Recorded]> = recorded.into();
        self.replay(actor, &recorded);
        let access = Access {
            hidden,
            only: focus.map(|f| Arc::new(f.clone())),
            published,
            lineage: lineage.clone(),
            file: None,
            schema_version: None,
            attached: vec![],
        };
        (access, recorded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn matches(actor: Value, allow: Value) -> bool {
        let actor = if actor.is_null() { None } else { Some(actor) };
        actor_matches_allow(&actor, &allow)
    }

    #[test]
    fn allow_blocks_match_as_datasette() {
        assert!(matches(json!(null), json!(true)));
        assert!(!matches(json!({"id": "root"}), json!(false)));
        assert!(!matches(json!({"id": "root"}), json!({})));
        assert!(!matches(json!(null), json!({})));
        assert!(matches(json!({"id": "root"}), json!({"id": "root"})));
        assert!(!matches(json!({"id": "bob"}), json!({"id": "root"})));
        assert!(matches(
            json!({"id": "bob"}),
            json!({"id": ["root", "bob"]})
        ));
        assert!(matches(json!({"id": "x"}), json!({"id": "*"})));
        assert!(!matches(json!({"name": "x"}), json!({"id": "*"})));
        assert!(!matches(json!(null), json!({"id": "*"})));
        assert!(matches(
            json!({"roles": ["a", "b"]}),
            json!({"roles": ["b", "c"]})
        ));
        assert!(!matches(
            json!({"roles": ["a"]}),
            json!({"roles": ["b", "c"]})
        ));
        assert!(matches(json!(null), json!({"unauthenticated": true})));
        assert!(!matches(
            json!({"id": "x"}),
            json!({"unauthenticated": true})
        ));
        assert!(matches(json!({"id": 5}), json!({"id": 5})));
    }

    fn perms(meta: Value) -> Permissions {
        let m = Metadata::parse(&meta.to_string(), std::path::Path::new("m.json")).unwrap();
        Permissions::new(vec![Box::new(AllowBlocks::new(Arc::new(m)))], true)
    }

    #[test]
    fn most_specific_answer_wins() {
        let p = perms(
            json!({"databases": {"d": {"allow": {"id": "a"}, "tables": {"t": {"allow": {"id": "b"}}}}}}),
        );
        let a = Some(json!({"id": "a"}));
        let b = Some(json!({"id": "b"}));
        assert!(p.can_view_database(&a, "d"));
        assert!(!p.can_view_database(&b, "d"));
        assert!(p.can_view_unlisted_table(&b, "d", "t"));
        assert!(!p.can_view_unlisted_table(&a, "d", "t"));
        assert!(p.can_view_unlisted_table(&a, "d", "other"));
        assert!(!p.can_view_unlisted_table(&None, "d", "other"));
        assert!(p.can_view_unlisted_table(&None, "e", "x"));
    }

    #[test]
    fn sql_needs_the_database_too() {
        let p =
            perms(json!({"allow_sql": {"id": "a"}, "databases": {"d": {"allow": {"id": "b"}}}}));
        assert!(!p.can_execute_sql(&Some(json!({"id": "a"})), "d"));
        assert!(!p.can_execute_sql(&Some(json!({"id": "b"})), "d"));
        assert!(p.can_execute_sql(&Some(json!({"id": "a"})), "other"));
        assert!(!p.can_execute_sql(&None, "other"));
    }

    #[test]
    fn recent_checks_are_listed_newest_first_and_the_oldest_go() {
        let p = perms(json!({}));
        let checks = |n: usize, prefix: &str| -> Arc<[Recorded]> {
            (0..n)
                .map(|i| Recorded {
                    action: Action::ViewTable,
                    resource: Resource::Child("d".into(), format!("{prefix}{i}")),
                    vote: Some(i % 2 == 0),
                    default: true,
                })
                .collect()
        };
        let name = |c: &Check| match &c.resource {
            Resource::Child(_, t) => t.clone(),
            _ => unreachable!(),
        };
        p.replay(&None, &checks(150, "a"));
        p.replay(&Some(json!({"id": "b"})), &checks(100, "b"));
        let recent = p.recent();
        assert_eq!(recent.len(), RECENT_CHECKS);
        assert_eq!(name(&recent[0]), "b99");
        assert_eq!(recent[0].actor.as_ref(), &Some(json!({"id": "b"})));
        assert!(!recent[0].allowed && !recent[0].used_default);
        assert_eq!(name(&recent[100]), "a149");
        assert_eq!(name(&recent[199]), "a50");
        // A third batch leaves the first out altogether.
        p.replay(&None, &checks(100, "c"));
        assert_eq!(p.recent_checks().batches.len(), 2);
        assert_eq!(name(&p.recent()[199]), "b0");
    }

    struct Always(bool);
    impl PermissionSource for Always {
        fn vote(&self, _: &Actor, action: &str, _: &Resource) -> Option<bool> {
            (action == Action::ViewTable.name()).then_some(self.0)
        }
    }

    #[test]
    fn a_plugin_vote_overrides_allow_blocks() {
        let m = Metadata::parse(
            r#"{"databases": {"d": {"tables": {"t": {"allow": false}}}}}"#,
            std::path::Path::new("m"),
        )
        .unwrap();
        let p = Permissions::new(
            vec![
                Box::new(Always(true)),
                Box::new(AllowBlocks::new(Arc::new(m))),
            ],
            true,
        );
        assert!(p.can_view_unlisted_table(&None, "d", "t"));
    }
}
