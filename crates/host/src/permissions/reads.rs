//! What plugins' votes read while an access is worked out: the databases their queries ran
//! on, each with its file's state as the query began. When every voting plugin says its votes
//! follow from those reads alone (`votes_follow_queries`), the access is reused until one of
//! those files changes.

use std::cell::RefCell;

use crate::db::Version;

/// A database the votes read, and the version of its file before they did.
#[derive(Debug, Clone, PartialEq)]
pub struct Read {
    pub db: String,
    pub version: Version,
}

/// What the votes on one thread read.
#[derive(Debug, Default)]
pub struct Reads {
    pub files: Vec<Read>,
    /// A service whose answer no file decides (the network, the clock) was used.
    pub unpredictable: bool,
}

thread_local! {
    static READS: RefCell<Option<Reads>> = const { RefCell::new(None) };
}

/// Runs `f`, noting what the plugins' queries it leads to on this thread read. A recording
/// inside another counts for both.
pub fn recording<T>(f: impl FnOnce() -> T) -> (T, Reads) {
    /// Puts back the recording around, even if `f` panics.
    struct Around(Option<Option<Reads>>);
    impl Drop for Around {
        fn drop(&mut self) {
            if let Some(around) = self.0.take() {
                READS.with(|r| *r.borrow_mut() = around);
            }
        }
    }
    let mut around = Around(Some(READS.with(|r| r.replace(Some(Reads::default())))));
    let out = f();
    let mine = READS
        .with(|r| r.replace(around.0.take().flatten()))
        .unwrap_or_default();
    note(|around| {
        for read in &mine.files {
            add(around, read.clone());
        }
        around.unpredictable |= mine.unpredictable;
    });
    (out, mine)
}

/// A plugin's query is about to read database `db`; `version` gives its file's version
/// (`None`: it cannot be told), and is asked only while recording.
pub fn queried(db: &str, version: impl FnOnce() -> Option<Version>) {
    // Asked outside the borrow: working out a version must not find the recording held.
    let wanted = READS.with(|r| {
        r.borrow()
            .as_ref()
            .is_some_and(|reads| !reads.files.iter().any(|f| f.db == db))
    });
    if !wanted {
        return;
    }
    let version = version();
    note(|reads| match version {
        Some(version) => add(
            reads,
            Read {
                db: db.into(),
                version,
            },
        ),
        None => reads.unpredictable = true,
    });
}

/// Whether what plugins' queries read is being recorded on this thread.
pub fn recording_now() -> bool {
    READS.with(|r| r.borrow().is_some())
}

/// A plugin used a service whose answer no file decides.
pub fn unpredictable() {
    note(|reads| reads.unpredictable = true);
}

fn note(f: impl FnOnce(&mut Reads)) {
    READS.with(|r| {
        if let Some(reads) = r.borrow_mut().as_mut() {
            f(reads);
        }
    });
}

/// The first state seen of a file is kept: a later one would hide a change in between.
fn add(reads: &mut Reads, read: Read) {
    if !reads.files.iter().any(|r| r.db == read.db) {
        reads.files.push(read);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_noted_only_while_recording_and_count_for_the_recording_around() {
        queried("ignored", || {
            panic!("the version is not asked for outside a recording")
        });
        let ((), outer) = recording(|| {
            queried("a", || Some((None, None)));
            let ((), inner) = recording(|| {
                queried("b", || Some((None, None)));
                unpredictable();
            });
            assert_eq!(inner.files.len(), 1);
            assert!(inner.unpredictable);
            queried("a", || panic!("a file already noted is not asked again"));
        });
        let names: Vec<&str> = outer.files.iter().map(|r| r.db.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert!(outer.unpredictable);
        let ((), after) = recording(|| {});
        assert!(after.files.is_empty() && !after.unpredictable);
    }
}
