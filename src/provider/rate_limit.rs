//! Rate limits in virtual time (sans-I/O: every call takes `now`): a token bucket, the table
//! of buckets per source IP address with its block periods, and a limiter for log lines.
//!
//! A source that sends more new INVITEs than its bucket holds gets one refusal (the caller
//! answers it 503 with Retry-After), then nothing at all until its block period ends: a
//! flooder learns nothing more and costs us no more than a table look-up per datagram. The
//! table is bounded; when it is full of active sources, new ones are admitted untracked (fail
//! open: the server transaction limit and the overload refusal still hold).

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Sources tracked at most.
pub const MAX_SOURCES: usize = 4096;

/// A bucket of `capacity` tokens refilled at `rate` per second.
#[derive(Debug, Clone, Copy)]
pub struct TokenBucket {
    tokens: f64,
    at: Instant,
}

impl TokenBucket {
    pub fn full(capacity: u32, now: Instant) -> Self {
        TokenBucket {
            tokens: f64::from(capacity),
            at: now,
        }
    }

    /// Takes one token if there is one, after refilling for the time since the last take.
    pub fn take(&mut self, rate: u32, now: Instant) -> bool {
        self.refill(rate, now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Whether the bucket is full again at `now` (it then says nothing a fresh one would not).
    pub fn is_full(&self, rate: u32, now: Instant) -> bool {
        let mut copy = *self;
        copy.refill(rate, now);
        copy.tokens >= f64::from(rate)
    }

    fn refill(&mut self, rate: u32, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * f64::from(rate)).min(f64::from(rate));
        self.at = now;
    }
}

/// What to do with a new INVITE from a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Admit,
    /// Over its rate: answer 503 with Retry-After; the source is blocked from now on.
    Refuse,
    /// Blocked: no answer at all.
    Drop,
}

#[derive(Debug, Clone, Copy)]
struct Source {
    bucket: TokenBucket,
    blocked_until: Option<Instant>,
}

/// Token buckets per source IP address.
#[derive(Debug)]
pub struct SourceLimiter {
    /// Tokens per second and bucket size; 0 = no limit.
    rate: u32,
    block: Duration,
    sources: HashMap<IpAddr, Source>,
    last_sweep: Option<Instant>,
}

impl SourceLimiter {
    pub fn new(rate: u32, block: Duration) -> Self {
        SourceLimiter {
            rate,
            block,
            sources: HashMap::new(),
            last_sweep: None,
        }
    }

    /// A new INVITE from `ip` at `now`.
    pub fn check(&mut self, ip: IpAddr, now: Instant) -> Verdict {
        if self.rate == 0 {
            return Verdict::Admit;
        }
        if !self.sources.contains_key(&ip) && !self.make_room(now) {
            return Verdict::Admit;
        }
        let (rate, block) = (self.rate, self.block);
        let source = self.sources.entry(ip).or_insert(Source {
            bucket: TokenBucket::full(rate, now),
            blocked_until: None,
        });
        match source.blocked_until {
            Some(until) if now < until => return Verdict::Drop,
            Some(_) => {
                source.blocked_until = None;
                source.bucket = TokenBucket::full(rate, now);
            }
            None => {}
        }
        if source.bucket.take(rate, now) {
            Verdict::Admit
        } else {
            source.blocked_until = Some(now + block);
            Verdict::Refuse
        }
    }

    /// Sources tracked now.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.sources.len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    /// Room for one more source: forgets sources whose bucket is full and who are not blocked
    /// (at most one sweep a second, so a full table of active sources costs nothing more).
    fn make_room(&mut self, now: Instant) -> bool {
        if self.sources.len() < MAX_SOURCES {
            return true;
        }
        if self
            .last_sweep
            .is_some_and(|at| now.saturating_duration_since(at) < Duration::from_secs(1))
        {
            return false;
        }
        self.last_sweep = Some(now);
        let rate = self.rate;
        self.sources.retain(|_, s| {
            let blocked = s.blocked_until.is_some_and(|until| now < until);
            blocked || !s.bucket.is_full(rate, now)
        });
        self.sources.len() < MAX_SOURCES
    }
}

/// Lets one log line through per period and counts the ones held back, so a flood writes a
/// line every few seconds instead of one per datagram.
#[derive(Debug, Clone, Default)]
pub struct LogLimiter {
    last: Option<Instant>,
    held_back: u64,
}

/// How often each kind of limit may log.
pub const LOG_PERIOD: Duration = Duration::from_secs(10);

impl LogLimiter {
    /// `Some(n)` when a line may be written now, with the `n` lines held back since the last.
    pub fn allow(&mut self, now: Instant) -> Option<u64> {
        if self
            .last
            .is_some_and(|at| now.saturating_duration_since(at) < LOG_PERIOD)
        {
            self.held_back += 1;
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.held_back))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u32) -> IpAddr {
        IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + n))
    }

    #[test]
    fn a_source_over_its_rate_is_refused_once_then_dropped_until_its_block_ends() {
        let now = Instant::now();
        let mut limiter = SourceLimiter::new(5, Duration::from_secs(10));
        let verdicts: Vec<Verdict> = (0..8).map(|_| limiter.check(ip(1), now)).collect();
        assert_eq!(&verdicts[..5], &[Verdict::Admit; 5]);
        assert_eq!(verdicts[5], Verdict::Refuse);
        assert_eq!(&verdicts[6..], &[Verdict::Drop; 2]);
        assert_eq!(
            limiter.check(ip(2), now),
            Verdict::Admit,
            "others unaffected"
        );
        let later = now + Duration::from_secs(9);
        assert_eq!(limiter.check(ip(1), later), Verdict::Drop);
        let after = now + Duration::from_secs(10);
        assert_eq!(limiter.check(ip(1), after), Verdict::Admit);
    }

    #[test]
    fn the_bucket_refills_at_its_rate() {
        let now = Instant::now();
        let mut limiter = SourceLimiter::new(10, Duration::from_secs(10));
        // 10 per second sustained, spread evenly, is always admitted.
        for i in 0..100u64 {
            let at = now + Duration::from_millis(100 * i);
            assert_eq!(limiter.check(ip(1), at), Verdict::Admit, "call {i}");
        }
    }

    #[test]
    fn zero_means_no_limit() {
        let now = Instant::now();
        let mut limiter = SourceLimiter::new(0, Duration::from_secs(10));
        assert!((0..10_000).all(|_| limiter.check(ip(1), now) == Verdict::Admit));
        assert!(limiter.is_empty());
    }

    #[test]
    fn the_table_stays_bounded_and_idle_sources_are_forgotten() {
        let now = Instant::now();
        let mut limiter = SourceLimiter::new(2, Duration::from_secs(10));
        for n in 0..(MAX_SOURCES as u32 * 3) {
            limiter.check(ip(n), now);
        }
        assert_eq!(limiter.len(), MAX_SOURCES, "full, new sources untracked");
        let later = now + Duration::from_secs(2);
        assert_eq!(limiter.check(ip(999_999), later), Verdict::Admit);
        assert!(limiter.len() <= 2, "idle sources swept: {}", limiter.len());
    }

    #[test]
    fn log_lines_are_let_through_once_per_period() {
        let now = Instant::now();
        let mut log = LogLimiter::default();
        assert_eq!(log.allow(now), Some(0));
        assert_eq!(log.allow(now + Duration::from_secs(1)), None);
        assert_eq!(log.allow(now + Duration::from_secs(2)), None);
        assert_eq!(log.allow(now + LOG_PERIOD), Some(2));
    }
}
