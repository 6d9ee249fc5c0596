//! The next deadline of every call and registration, in one min-heap. Each owner has at most
//! one live deadline (the one it last reported with `poll_timeout`); older heap entries are
//! recognised as stale when they come up and skipped (lazy deletion), so rescheduling never
//! searches the heap.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hash::Hash;
use std::time::Instant;

use rustc_hash::FxHashMap;

/// Deadlines by owner.
pub struct Deadlines<K: Copy + Eq + Hash + Ord> {
    heap: BinaryHeap<Reverse<(Instant, K)>>,
    current: FxHashMap<K, Instant>,
}

impl<K: Copy + Eq + Hash + Ord> Default for Deadlines<K> {
    fn default() -> Self {
        Deadlines {
            heap: BinaryHeap::new(),
            current: FxHashMap::default(),
        }
    }
}

impl<K: Copy + Eq + Hash + Ord> Deadlines<K> {
    /// Records `owner`'s deadline (None: it has none now).
    pub fn set(&mut self, owner: K, at: Option<Instant>) {
        match at {
            Some(at) => {
                if self.current.insert(owner, at) != Some(at) {
                    self.heap.push(Reverse((at, owner)));
                }
            }
            None => {
                self.current.remove(&owner);
            }
        }
        self.prune();
    }

    /// The earliest live deadline.
    pub fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _))| *at)
    }

    /// An owner whose deadline is due at `now` (its entry is consumed: the owner reports its
    /// next deadline after handling it).
    pub fn pop_due(&mut self, now: Instant) -> Option<K> {
        self.prune();
        let Reverse((at, owner)) = *self.heap.peek()?;
        if at > now {
            return None;
        }
        self.heap.pop();
        self.current.remove(&owner);
        self.prune();
        Some(owner)
    }

    /// Drops stale entries from the top, so `next` is live.
    fn prune(&mut self) {
        while let Some(&Reverse((at, owner))) = self.heap.peek() {
            if self.current.get(&owner) == Some(&at) {
                break;
            }
            self.heap.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn only_the_latest_deadline_of_an_owner_fires() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut d: Deadlines<u32> = Deadlines::default();
        d.set(1, Some(t0 + s(5)));
        d.set(2, Some(t0 + s(3)));
        d.set(1, Some(t0 + s(1)));
        assert_eq!(d.next(), Some(t0 + s(1)));
        assert_eq!(d.pop_due(t0), None);
        assert_eq!(d.pop_due(t0 + s(10)), Some(1));
        assert_eq!(d.pop_due(t0 + s(10)), Some(2));
        assert_eq!(
            d.pop_due(t0 + s(10)),
            None,
            "the stale 5 s entry of 1 is skipped"
        );
        d.set(3, Some(t0 + s(2)));
        d.set(3, None);
        assert_eq!(d.next(), None);
    }
}
