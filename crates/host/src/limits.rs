//! The memory answers may take. Each answer is encoded under a size limit (`max_answer_mb`)
//! that counts the bytes it is written as (JSON's escapes, HTML's entities), and no value or
//! result read from SQLite may be larger than that either, so an answer past it fails with a
//! clear message before more memory is spent on it. Every answer held for sending draws on one
//! process-wide budget (`answers_memory_mb`) until the client has read it or stalled: past the
//! budget a new answer is refused with a 503 and `Retry-After`, so slow readers cannot pile
//! answers up.
//!
//! The size limit is one number for the whole process, set at start-up, because the readers
//! and every encoder (JSON, CSV and HTML alike) count against it and none of them sees the
//! application's state.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The default of `max_answer_mb`.
pub const DEFAULT_ANSWER_MB: u32 = 16;

/// The default of `answers_memory_mb`.
pub const DEFAULT_ANSWERS_MEMORY_MB: u32 = 128;

static ANSWER_LIMIT: AtomicUsize = AtomicUsize::new((DEFAULT_ANSWER_MB as usize) << 20);

/// Sets the most bytes one answer may be written as (`max_answer_mb`).
pub fn set_answer_limit(bytes: usize) {
    ANSWER_LIMIT.store(bytes.max(1), Ordering::Relaxed);
}

/// The most bytes one answer may be written as, and one result read.
pub fn answer_limit() -> usize {
    ANSWER_LIMIT.load(Ordering::Relaxed)
}

/// Why an answer was not given.
pub fn too_large_message() -> String {
    format!(
        "The answer is larger than {} MiB: use _stream=on, a smaller _size, or select fewer \
         rows or columns",
        answer_limit() >> 20
    )
}

/// The process-wide budget of answers held for sending.
#[derive(Debug)]
pub struct Budget {
    held: AtomicUsize,
    most: usize,
}

impl Budget {
    pub fn new(most: usize) -> Arc<Budget> {
        Arc::new(Budget {
            held: AtomicUsize::new(0),
            most,
        })
    }

    /// `bytes` of the budget, held until the [`Reservation`] is dropped; `None` when they
    /// would take it past its size.
    pub fn reserve(self: &Arc<Self>, bytes: usize) -> Option<Reservation> {
        self.held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                held.checked_add(bytes).filter(|&after| after <= self.most)
            })
            .ok()?;
        Some(Reservation {
            budget: self.clone(),
            bytes,
        })
    }

    /// Bytes of answers held now.
    pub fn held(&self) -> usize {
        self.held.load(Ordering::Acquire)
    }
}

/// Part of the budget, given back when dropped.
#[derive(Debug)]
pub struct Reservation {
    budget: Arc<Budget>,
    bytes: usize,
}

impl Reservation {
    /// Gives `bytes` of it back early (an answer's pieces, once sent).
    pub fn release(&mut self, bytes: usize) {
        let bytes = bytes.min(self.bytes);
        self.budget.held.fetch_sub(bytes, Ordering::AcqRel);
        self.bytes -= bytes;
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.budget.held.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_given_back() {
        let b = Budget::new(100);
        let first = b.reserve(60).unwrap();
        assert!(b.reserve(50).is_none());
        let second = b.reserve(40).unwrap();
        assert_eq!(b.held(), 100);
        drop(first);
        assert_eq!(b.held(), 40);
        let mut second = second;
        second.release(30);
        assert_eq!(b.held(), 10);
        second.release(30);
        assert_eq!(b.held(), 0);
        drop(second);
        assert_eq!(b.held(), 0);
        let second = b.reserve(40).unwrap();
        assert!(b.reserve(60).is_some());
        drop(second);
        assert_eq!(b.held(), 0);
    }
}
