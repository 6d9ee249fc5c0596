//! Rate-limited log lines for limits that a flood hits thousands of times a second (a thousand
//! slowloris connections must not write a thousand lines): the first hit is logged at once,
//! later ones at most once per interval with how many were not logged in between. Shared by
//! the connection tasks without a lock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::metrics::DropReason;

/// At most one line per limit in this interval (the default).
pub const INTERVAL: Duration = Duration::from_secs(10);

/// One limit's log state (shared by every task that can hit it).
#[derive(Debug)]
pub struct RateLimitedLog {
    base: Instant,
    every: Duration,
    /// Milliseconds after `base` of the last line, plus one (0: never logged).
    last: AtomicU64,
    suppressed: AtomicU64,
}

impl Default for RateLimitedLog {
    fn default() -> Self {
        RateLimitedLog::every(INTERVAL)
    }
}

impl RateLimitedLog {
    /// At most one line per `every`.
    pub fn every(every: Duration) -> RateLimitedLog {
        RateLimitedLog {
            base: Instant::now(),
            every,
            last: AtomicU64::new(0),
            suppressed: AtomicU64::new(0),
        }
    }

    /// A hit: `Some(n)` when a line is due now (`n` hits went unlogged since the last one),
    /// `None` when it is to be counted only.
    pub fn hit(&self) -> Option<u64> {
        let now = self.base.elapsed().as_millis() as u64 + 1;
        let last = self.last.load(Ordering::Relaxed);
        let due = last == 0 || now.saturating_sub(last) >= self.every.as_millis() as u64;
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

/// The API's dropped-connection reasons, one log each.
pub struct LogLimit {
    logs: [RateLimitedLog; DropReason::ALL.len()],
}

impl LogLimit {
    pub fn new(every: Duration) -> LogLimit {
        LogLimit {
            logs: std::array::from_fn(|_| RateLimitedLog::every(every)),
        }
    }

    /// Some(lines left out since the last one) when a line may be written now.
    pub fn allow(&self, reason: DropReason) -> Option<u64> {
        let i = DropReason::ALL.iter().position(|r| *r == reason)?;
        self.logs[i].hit()
    }
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

    #[test]
    fn reasons_are_limited_apart() {
        let log = LogLimit::new(Duration::from_secs(3600));
        assert_eq!(log.allow(DropReason::AuthTimeout), Some(0));
        assert_eq!(log.allow(DropReason::AuthTimeout), None);
        assert_eq!(log.allow(DropReason::AuthTimeout), None);
        assert_eq!(log.allow(DropReason::AuthFailed), Some(0));
        let fast = LogLimit::new(Duration::ZERO);
        assert_eq!(fast.allow(DropReason::AuthTimeout), Some(0));
        assert_eq!(fast.allow(DropReason::AuthTimeout), Some(0));
    }
}
