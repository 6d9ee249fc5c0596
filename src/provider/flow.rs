//! The upkeep of one TCP/TLS line's registration flow (RFC 5626): CRLF keep-alives on it, the
//! pong each must get, and how long to wait before a lost flow is registered again.
//!
//! - §4.4.1: a CRLFCRLF ping at the registrar's `Flow-Timer` (at a random 80-100% of it), else
//!   at the line's `keepalive_secs`, else at a random 95-120 s; a pong (CRLF) must come within
//!   10 s, or the flow counts as failed.
//! - §4.5: a failed flow is formed again and registered. The first time at once; when flows
//!   keep failing soon after they were registered (within [`STABLE`]), the wait grows as
//!   `min(max-time, base-time * 2^(n-1))` at a random 50-100%, base-time 30 s, max-time 1800 s.
//!
//! Sans-I/O: the registration asks what is due at `now` and carries it out.

use std::time::{Duration, Instant};

use super::ids::IdGen;

/// §4.4.1: how long a ping may go unanswered.
pub const PONG_TIMEOUT: Duration = Duration::from_secs(10);
/// A flow that lived this long was a good one: the next failure is recovered at once.
pub const STABLE: Duration = Duration::from_secs(120);
/// §4.5 base-time (every flow of the line failed) and max-time.
const BASE_TIME: Duration = Duration::from_secs(30);
const MAX_TIME: Duration = Duration::from_secs(1800);
/// §4.4.1: the keep-alive interval of connection-oriented flows without a Flow-Timer.
const DEFAULT_MIN: Duration = Duration::from_secs(95);
const DEFAULT_MAX: Duration = Duration::from_secs(120);

/// What the flow needs at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowDue {
    Nothing,
    /// Send a CRLFCRLF ping.
    Ping,
    /// The last ping went unanswered: the flow is dead.
    Dead,
}

/// One registration's flow.
#[derive(Debug)]
pub struct Flow {
    /// The line's `keepalive_secs`, used when the registrar sends no Flow-Timer.
    configured: Option<Duration>,
    /// The registrar's last Flow-Timer (seconds).
    flow_timer: Option<u32>,
    ping_at: Option<Instant>,
    pong_by: Option<Instant>,
    registered_at: Option<Instant>,
    /// Flows in a row that failed before they were [`STABLE`].
    failures: u32,
}

impl Flow {
    pub fn new(configured: Option<Duration>) -> Self {
        Flow {
            configured,
            flow_timer: None,
            ping_at: None,
            pong_by: None,
            registered_at: None,
            failures: 0,
        }
    }

    /// The registrar accepted our binding over the flow; `flow_timer` is its Flow-Timer.
    pub fn on_registered(&mut self, now: Instant, flow_timer: Option<u32>, ids: &mut IdGen) {
        if self.registered_at.is_none() {
            self.registered_at = Some(now);
        }
        if self.pong_by.is_none() {
            self.ping_at = Some(now + self.interval(flow_timer, ids));
        }
        self.flow_timer = flow_timer;
    }

    /// The next instant something is due.
    pub fn next_deadline(&self) -> Option<Instant> {
        match (self.ping_at, self.pong_by) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// What is due at `now`; a ping sent now is expected to be answered by [`PONG_TIMEOUT`].
    pub fn due(&mut self, now: Instant, ids: &mut IdGen) -> FlowDue {
        if self.pong_by.is_some_and(|at| at <= now) {
            self.pong_by = None;
            self.ping_at = None;
            return FlowDue::Dead;
        }
        if self.ping_at.is_some_and(|at| at <= now) {
            self.ping_at = Some(now + self.interval(self.flow_timer, ids));
            self.pong_by = Some(now + PONG_TIMEOUT);
            return FlowDue::Ping;
        }
        FlowDue::Nothing
    }

    /// A pong came: the flow is alive.
    pub fn on_pong(&mut self) {
        self.pong_by = None;
    }

    /// The flow failed at `now`: how long to wait before registering a new one (§4.5).
    pub fn on_failed(&mut self, now: Instant, ids: &mut IdGen) -> Duration {
        let lived = self
            .registered_at
            .map(|at| now.saturating_duration_since(at));
        if lived.is_some_and(|l| l >= STABLE) {
            self.failures = 0;
        }
        self.stop();
        let delay = match self.failures {
            0 => Duration::ZERO,
            n => {
                let wait = (BASE_TIME * (1u32 << (n - 1).min(16))).min(MAX_TIME);
                let ms = wait.as_millis() as u64;
                Duration::from_millis(ms / 2 + ids.below(ms / 2 + 1))
            }
        };
        self.failures += 1;
        delay
    }

    /// No keep-alives until the next registration.
    pub fn stop(&mut self) {
        self.ping_at = None;
        self.pong_by = None;
        self.registered_at = None;
    }

    /// §4.4.1: 80-100% of the Flow-Timer, else the configured interval, else 95-120 s.
    fn interval(&self, flow_timer: Option<u32>, ids: &mut IdGen) -> Duration {
        let (low, high) = match (flow_timer, self.configured) {
            (Some(secs), _) if secs > 0 => {
                let ms = u64::from(secs) * 1000;
                (ms * 4 / 5, ms)
            }
            (_, Some(configured)) => {
                let ms = configured.as_millis() as u64;
                (ms, ms)
            }
            _ => (
                DEFAULT_MIN.as_millis() as u64,
                DEFAULT_MAX.as_millis() as u64,
            ),
        };
        Duration::from_millis(low.max(1) + ids.below(high - low.min(high) + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pings_follow_the_flow_timer_and_a_missing_pong_kills_the_flow() {
        let mut ids = IdGen::new(1);
        let t0 = Instant::now();
        let mut flow = Flow::new(None);
        flow.on_registered(t0, Some(20), &mut ids);
        let first = flow.next_deadline().unwrap() - t0;
        assert!(
            (Duration::from_secs(16)..=Duration::from_secs(20)).contains(&first),
            "{first:?}"
        );
        let ping = t0 + first;
        assert_eq!(
            flow.due(ping - Duration::from_millis(1), &mut ids),
            FlowDue::Nothing
        );
        assert_eq!(flow.due(ping, &mut ids), FlowDue::Ping);
        assert_eq!(flow.next_deadline(), Some(ping + PONG_TIMEOUT));
        flow.on_pong();
        assert_eq!(flow.due(ping + PONG_TIMEOUT, &mut ids), FlowDue::Nothing);
        let second = flow.next_deadline().unwrap();
        assert_eq!(flow.due(second, &mut ids), FlowDue::Ping);
        assert_eq!(flow.due(second + PONG_TIMEOUT, &mut ids), FlowDue::Dead);
        assert_eq!(flow.next_deadline(), None);
    }

    #[test]
    fn without_a_flow_timer_the_interval_is_95_to_120_s_or_the_configured_one() {
        let mut ids = IdGen::new(2);
        let t0 = Instant::now();
        for _ in 0..20 {
            let mut flow = Flow::new(None);
            flow.on_registered(t0, None, &mut ids);
            let at = flow.next_deadline().unwrap() - t0;
            assert!((DEFAULT_MIN..=DEFAULT_MAX).contains(&at), "{at:?}");
        }
        let mut flow = Flow::new(Some(Duration::from_secs(30)));
        flow.on_registered(t0, None, &mut ids);
        assert_eq!(flow.next_deadline(), Some(t0 + Duration::from_secs(30)));
    }

    #[test]
    fn recovery_is_at_once_then_backs_off_while_flows_die_young() {
        let mut ids = IdGen::new(3);
        let mut now = Instant::now();
        let mut flow = Flow::new(None);
        flow.on_registered(now, None, &mut ids);
        now += Duration::from_secs(5);
        assert_eq!(flow.on_failed(now, &mut ids), Duration::ZERO);
        for n in 1..=8u32 {
            flow.on_registered(now, None, &mut ids);
            now += Duration::from_secs(5);
            let wait = flow.on_failed(now, &mut ids);
            let full = (BASE_TIME * (1 << (n - 1))).min(MAX_TIME);
            assert!(
                wait >= full / 2 && wait <= full,
                "failure {n}: {wait:?} of {full:?}"
            );
        }
        // A flow that lived past STABLE resets the count.
        flow.on_registered(now, None, &mut ids);
        now += STABLE;
        assert_eq!(flow.on_failed(now, &mut ids), Duration::ZERO);
    }
}
