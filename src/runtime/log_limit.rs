//! Rate-limited log lines for limits that a flood hits thousands of times a second: the first
//! hit is logged at once, later ones at most once per [`INTERVAL`] with how many were not
//! logged in between.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// At most one line per limit in this interval.
pub const INTERVAL: Duration = Duration::from_secs(10);

/// One limit's log state (shared by every task that can hit it).
#[derive(Debug)]
pub struct RateLimitedLog {
    base: Instant,
    /// Milliseconds after `base` of the last line, plus one (0: never logged).
    last: AtomicU64,
    suppressed: AtomicU64,
}

impl Default for RateLimitedLog {
    fn default() -> Self {
        RateLimitedLog {
            base: Instant::now(),
            last: AtomicU64::new(0),
            suppressed: AtomicU64::new(0),
        }
    }
}

impl RateLimitedLog {
    /// A hit: `Some(n)` when a line is due now (`n` hits went unlogged since the last one),
    /// `None` when it is to be counted only.
    pub fn hit(&self) -> Option<u64> {
        let now = self.base.elapsed().as_millis() as u64 + 1;
        let last = self.last.load(Ordering::Relaxed);
        let due = last == 0 || now.saturating_sub(last) >= INTERVAL.as_millis() as u64;
        if due
            && self
                .last
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            return Some(self.suppressed.swap(0, Ordering::Relaxed));
        }
        self.suppressed.fetch_add(1, Ordering::Relaxed);
        None
    }
}

/// The limits of SIP connections, one log each.
#[derive(Debug, Default)]
pub struct StreamLogs {
    pub connections: RateLimitedLog,
    pub idle: RateLimitedLog,
    pub size: RateLimitedLog,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_hit_logs_and_the_next_ones_are_counted() {
        let log = RateLimitedLog::default();
        assert_eq!(log.hit(), Some(0));
        assert_eq!(log.hit(), None);
        assert_eq!(log.hit(), None);
        assert_eq!(log.suppressed.load(Ordering::Relaxed), 2);
        // As if the interval had passed since the last line.
        log.last.store(0, Ordering::Relaxed);
        assert_eq!(log.hit(), Some(2));
    }
}
