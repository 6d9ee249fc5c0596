//! Rate-limited warnings for events a flood repeats (a thousand slowloris connections must not
//! write a thousand log lines): per reason, at most one line per interval, carrying how many
//! were left out since the last. Shared by the connection tasks without a lock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::metrics::DropReason;

pub struct LogLimit {
    start: Instant,
    every: Duration,
    /// Milliseconds after `start` of the last line per reason (0: never; stored +1).
    last: [AtomicU64; DropReason::ALL.len()],
    skipped: [AtomicU64; DropReason::ALL.len()],
}

impl LogLimit {
    pub fn new(every: Duration) -> LogLimit {
        LogLimit {
            start: Instant::now(),
            every,
            last: Default::default(),
            skipped: Default::default(),
        }
    }

    /// Some(lines left out since the last one) when a line may be written now.
    pub fn allow(&self, reason: DropReason) -> Option<u64> {
        let i = DropReason::ALL.iter().position(|r| *r == reason)?;
        let now = self.start.elapsed().as_millis() as u64 + 1;
        let last = self.last[i].load(Ordering::Relaxed);
        let due = last == 0 || now.saturating_sub(last) >= self.every.as_millis() as u64;
        if due
            && self.last[i]
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            return Some(self.skipped[i].swap(0, Ordering::Relaxed));
        }
        self.skipped[i].fetch_add(1, Ordering::Relaxed);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_interval_with_the_count_left_out() {
        let log = LogLimit::new(Duration::from_secs(3600));
        assert_eq!(log.allow(DropReason::AuthTimeout), Some(0));
        assert_eq!(log.allow(DropReason::AuthTimeout), None);
        assert_eq!(log.allow(DropReason::AuthTimeout), None);
        assert_eq!(log.allow(DropReason::AuthFailed), Some(0));
        let fast = LogLimit::new(Duration::ZERO);
        assert_eq!(fast.allow(DropReason::AuthTimeout), Some(0));
    }
}
