//! Worked-out accesses kept between requests: what an actor may read in a database depends on
//! the actor, the schema and the votes, so while none of them changes it is worked out once.
//!
//! The cache is bounded twice, by entries and by the names they hold (hidden, published, and
//! the checks they record), and evicts the least recently used entry: many distinct actors, or
//! a schema of thousands of tables voted on one by one, cannot grow it past a few megabytes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::db::Access;

use super::reads::Read;
use super::Recorded;

/// The most accesses kept.
pub const MAX_ENTRIES: usize = 1024;
/// The most table names all kept accesses may hold between them (hidden, published, and
/// recorded checks).
pub const MAX_NAMES: usize = 250_000;

/// What an access was worked out from, besides the votes' sources.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub db: String,
    /// The lineage the access was worked out over (its address: the entry holds it, so the
    /// address is not reused while the entry lives).
    pub lineage: usize,
    pub file: Option<(u64, u64)>,
    pub version: i64,
    /// The actor as JSON text.
    pub actor: String,
}

impl Key {
    fn same_schema(&self, other: &Key) -> bool {
        (self.lineage, self.file, self.version) == (other.lineage, other.file, other.version)
    }
}

/// An access and the checks that working it out recorded, to record again when it is reused,
/// and the databases the plugins' votes read: it is reused only while they are unchanged.
#[derive(Clone)]
pub struct Worked {
    pub access: Arc<Access>,
    pub recorded: Arc<[Recorded]>,
    pub reads: Arc<[Read]>,
}

struct Entry {
    worked: Worked,
    made: Instant,
    used: u64,
}

impl Entry {
    /// What the entry holds, in names: its hidden and published objects, and its checks.
    fn names(&self) -> usize {
        let a = &self.worked.access;
        a.hidden.len() + a.published.len() + self.worked.recorded.len() + 1
    }
}

#[derive(Default)]
struct Inner {
    entries: HashMap<Key, Entry>,
    names: usize,
    clock: u64,
}

/// The cache; `ttl` `None` keeps entries until they are evicted (votes that depend on nothing
/// but the actor and the schema), `Some` for as long as it says.
pub struct AccessCache {
    inner: Mutex<Inner>,
    ttl: Option<Duration>,
    max_entries: usize,
    max_names: usize,
}

impl AccessCache {
    pub fn new(ttl: Option<Duration>) -> Self {
        Self::bounded(ttl, MAX_ENTRIES, MAX_NAMES)
    }

    pub fn bounded(ttl: Option<Duration>, max_entries: usize, max_names: usize) -> Self {
        AccessCache {
            inner: Mutex::new(Inner::default()),
            ttl,
            max_entries,
            max_names,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn get(&self, key: &Key) -> Option<Worked> {
        let mut inner = self.lock();
        inner.clock += 1;
        let now = inner.clock;
        let entry = inner.entries.get_mut(key)?;
        if self.ttl.is_some_and(|ttl| entry.made.elapsed() > ttl) {
            let names = entry.names();
            inner.entries.remove(key);
            inner.names -= names;
            return None;
        }
        entry.used = now;
        Some(entry.worked.clone())
    }

    pub fn insert(&self, key: Key, worked: Worked) {
        let mut inner = self.lock();
        inner.clock += 1;
        let entry = Entry {
            worked,
            made: Instant::now(),
            used: inner.clock,
        };
        let names = entry.names();
        if names > self.max_names {
            return;
        }
        // An access of a schema the database has left is never asked for again, and holds
        // that schema's lineage: dropped as soon as an access of the new one is kept.
        let stale: Vec<Key> = inner
            .entries
            .keys()
            .filter(|k| k.db == key.db && !k.same_schema(&key))
            .cloned()
            .collect();
        for k in stale {
            if let Some(e) = inner.entries.remove(&k) {
                inner.names -= e.names();
            }
        }
        if let Some(old) = inner.entries.insert(key, entry) {
            inner.names -= old.names();
        }
        inner.names += names;
        while inner.entries.len() > self.max_entries || inner.names > self.max_names {
            Self::evict_least_recent(&mut inner);
        }
    }

    /// Drops the entry used longest ago: a scan, paid only by a miss when the cache is full.
    fn evict_least_recent(inner: &mut Inner) {
        let Some(key) = inner
            .entries
            .iter()
            .min_by_key(|(_, e)| e.used)
            .map(|(k, _)| k.clone())
        else {
            return;
        };
        if let Some(e) = inner.entries.remove(&key) {
            inner.names -= e.names();
        }
    }

    /// Whether entries are kept for a time only (votes reused by the settings' leave).
    pub fn expires(&self) -> bool {
        self.ttl.is_some()
    }

    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(actor: &str) -> Key {
        Key {
            db: "d".into(),
            lineage: 1,
            file: None,
            version: 1,
            actor: actor.into(),
        }
    }

    fn worked(hidden: &[&str]) -> Worked {
        Worked {
            access: Arc::new(Access {
                hidden: hidden.iter().map(|h| h.to_string()).collect(),
                ..Access::default()
            }),
            recorded: Arc::new([]),
            reads: Arc::new([]),
        }
    }

    #[test]
    fn the_least_recently_used_entry_is_evicted_at_the_entry_limit() {
        let cache = AccessCache::bounded(None, 2, 100);
        cache.insert(key("a"), worked(&[]));
        cache.insert(key("b"), worked(&[]));
        assert!(cache.get(&key("a")).is_some());
        cache.insert(key("c"), worked(&[]));
        assert_eq!(cache.len(), 2);
        assert!(cache.get(&key("b")).is_none(), "b was used longest ago");
        assert!(cache.get(&key("a")).is_some());
        assert!(cache.get(&key("c")).is_some());
    }

    #[test]
    fn hidden_names_count_against_the_limit() {
        let cache = AccessCache::bounded(None, 100, 10);
        cache.insert(key("a"), worked(&["t1", "t2", "t3", "t4"]));
        cache.insert(key("b"), worked(&["t1", "t2", "t3", "t4"]));
        assert_eq!(cache.len(), 2);
        cache.insert(key("c"), worked(&["t1", "t2", "t3", "t4"]));
        assert_eq!(cache.len(), 2, "15 names are over the 10 allowed");
        assert!(cache.get(&key("a")).is_none());
        // An access larger than the whole limit is not kept at all.
        cache.insert(
            key("d"),
            worked(&["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]),
        );
        assert!(cache.get(&key("d")).is_none());
        assert!(cache.get(&key("c")).is_some());
    }

    #[test]
    fn an_access_of_a_new_schema_drops_those_of_the_old_one() {
        let cache = AccessCache::bounded(None, 10, 100);
        cache.insert(key("a"), worked(&["t"]));
        cache.insert(
            Key {
                db: "other".into(),
                ..key("a")
            },
            worked(&[]),
        );
        cache.insert(
            Key {
                version: 2,
                ..key("b")
            },
            worked(&[]),
        );
        assert!(
            cache.get(&key("a")).is_none(),
            "the old schema's access is gone"
        );
        assert!(cache
            .get(&Key {
                db: "other".into(),
                ..key("a")
            })
            .is_some());
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn entries_expire_after_their_time() {
        let cache = AccessCache::bounded(Some(Duration::ZERO), 10, 100);
        cache.insert(key("a"), worked(&[]));
        std::thread::sleep(Duration::from_millis(2));
        assert!(cache.get(&key("a")).is_none());
        assert!(cache.is_empty());
    }
}
