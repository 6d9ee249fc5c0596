//! TAPISRV's counters, kept in place as things happen (plain integers, no clock, no I/O), and
//! the snapshot the metrics endpoint reads through the core task (docs/operations.md lists
//! every metric). Calls are counted by the call table, LINE_REPLY latency by the pending
//! table, limit hits and event-queue overflows where they happen.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::tapi::consts::*;
use crate::tapi::CallState;

use super::Tapisrv;

/// Upper bounds (seconds) of the LINE_REPLY latency buckets: from a local refusal (sub-ms) to
/// Timer B (32 s with the default T1).
pub const REPLY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 32.0,
];

/// A latency histogram with fixed bucket bounds ([`REPLY_BUCKETS`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    /// Observations per bucket (not cumulative); the last counts those above every bound.
    pub counts: Vec<u64>,
    pub sum_seconds: f64,
    pub count: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; REPLY_BUCKETS.len() + 1],
            sum_seconds: 0.0,
            count: 0,
        }
    }
}

impl Histogram {
    pub fn observe(&mut self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let bucket = REPLY_BUCKETS
            .iter()
            .position(|bound| secs <= *bound)
            .unwrap_or(REPLY_BUCKETS.len());
        self.counts[bucket] += 1;
        self.sum_seconds += secs;
        self.count += 1;
    }

    /// (upper bound, observations in that bucket) pairs, the last bound `f64::MAX` for the
    /// bucket above every bound (prometheus-client's convention; it writes `+Inf`).
    pub fn buckets(&self) -> Vec<(f64, u64)> {
        let bounds = REPLY_BUCKETS.iter().copied().chain([f64::MAX]);
        bounds.zip(self.counts.iter().copied()).collect()
    }
}

/// `outbound` or `inbound`.
pub fn direction_label(outbound: bool) -> &'static str {
    if outbound {
        "outbound"
    } else {
        "inbound"
    }
}

/// The metric label of a call state.
pub fn state_label(state: Option<CallState>) -> &'static str {
    let Some(state) = state else {
        return "new";
    };
    match state.bits() {
        LINECALLSTATE_IDLE => "idle",
        LINECALLSTATE_OFFERING => "offering",
        LINECALLSTATE_ACCEPTED => "accepted",
        LINECALLSTATE_DIALTONE => "dialtone",
        LINECALLSTATE_DIALING => "dialing",
        LINECALLSTATE_RINGBACK => "ringback",
        LINECALLSTATE_BUSY => "busy",
        LINECALLSTATE_CONNECTED => "connected",
        LINECALLSTATE_PROCEEDING => "proceeding",
        LINECALLSTATE_ONHOLD => "onhold",
        LINECALLSTATE_CONFERENCED => "conferenced",
        LINECALLSTATE_ONHOLDPENDCONF => "onholdpendconf",
        LINECALLSTATE_ONHOLDPENDTRANSFER => "onholdpendtransfer",
        LINECALLSTATE_DISCONNECTED => "disconnected",
        _ => "unknown",
    }
}

/// How a call ended, from what it went through: `answered` once it was CONNECTED, else its
/// LINEDISCONNECTMODE_, `failed` when it never got a state (its LINE_REPLY was an error).
pub fn outcome_label(connected: bool, disconnect: Option<u32>) -> &'static str {
    if connected {
        return "answered";
    }
    match disconnect {
        None => "failed",
        Some(LINEDISCONNECTMODE_NORMAL | LINEDISCONNECTMODE_CANCELLED) => "cancelled",
        Some(LINEDISCONNECTMODE_BUSY) => "busy",
        Some(LINEDISCONNECTMODE_NOANSWER) => "noanswer",
        Some(LINEDISCONNECTMODE_REJECT | LINEDISCONNECTMODE_BLOCKED) => "rejected",
        Some(LINEDISCONNECTMODE_BADADDRESS | LINEDISCONNECTMODE_NUMBERCHANGED) => "badaddress",
        Some(LINEDISCONNECTMODE_FORWARDED) => "forwarded",
        Some(_) => "failed",
    }
}

/// Counters of calls, by (direction) and (direction, outcome).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallCounters {
    pub started: BTreeMap<&'static str, u64>,
    pub completed: BTreeMap<(&'static str, &'static str), u64>,
}

/// What TAPISRV reports to the metrics endpoint.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TapiSnapshot {
    /// Client connections TAPISRV knows.
    pub connections: u64,
    /// Registered apps by kind (`line`, `phone`).
    pub apps: BTreeMap<&'static str, u64>,
    pub line_opens: u64,
    pub pending_requests: u64,
    /// Live calls by (state, direction).
    pub calls: BTreeMap<(&'static str, &'static str), u64>,
    pub call_counters: CallCounters,
    /// LINE_REPLY latency by function.
    pub reply_latency: BTreeMap<&'static str, Histogram>,
    /// API limits hit, by limit name (docs/operations.md).
    pub limit_hits: BTreeMap<&'static str, u64>,
    /// Event-mode apps shut down because their queue overflowed.
    pub event_queue_overflows: u64,
    /// Resumable sessions: kept, resumed, expired, taken over, refused, detached now.
    pub sessions: crate::tapi::SessionStats,
}

/// Counters TAPISRV keeps outside its tables.
#[derive(Debug, Clone, Default)]
pub struct TapiCounters {
    pub limit_hits: BTreeMap<&'static str, u64>,
    pub event_queue_overflows: u64,
}

impl TapiCounters {
    pub fn limit_hit(&mut self, limit: &'static str) {
        *self.limit_hits.entry(limit).or_default() += 1;
    }
}

impl Tapisrv {
    /// The counters and gauges of TAPISRV now (for `GET /metrics`).
    pub fn snapshot(&self) -> TapiSnapshot {
        let mut apps = BTreeMap::new();
        for app in self.apps.values() {
            *apps
                .entry(if app.phone { "phone" } else { "line" })
                .or_default() += 1;
        }
        let mut calls = BTreeMap::new();
        for call in self.calls.values() {
            let key = (
                state_label(call.state),
                direction_label(call.tally.outbound),
            );
            *calls.entry(key).or_default() += 1;
        }
        TapiSnapshot {
            connections: self.conns.len() as u64,
            apps,
            line_opens: self.lines.len() as u64,
            pending_requests: self.pending.len() as u64,
            calls,
            call_counters: self.calls.counters().clone(),
            reply_latency: self.pending.latency().clone(),
            limit_hits: self.counters.limit_hits.clone(),
            event_queue_overflows: self.counters.event_queue_overflows,
            sessions: self.session_stats(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_count_each_observation_once() {
        let mut h = Histogram::default();
        h.observe(Duration::from_micros(300));
        h.observe(Duration::from_millis(3));
        h.observe(Duration::from_secs(40));
        let b = h.buckets();
        assert_eq!(b[0], (0.0005, 1));
        assert_eq!(b[3], (0.005, 1));
        assert_eq!(b.last().copied(), Some((f64::MAX, 1)));
        assert_eq!(b.iter().map(|(_, n)| n).sum::<u64>(), 3);
        assert_eq!(h.count, 3);
    }

    #[test]
    fn outcomes() {
        assert_eq!(
            outcome_label(true, Some(LINEDISCONNECTMODE_BUSY)),
            "answered"
        );
        assert_eq!(outcome_label(false, Some(LINEDISCONNECTMODE_BUSY)), "busy");
        assert_eq!(outcome_label(false, None), "failed");
        assert_eq!(
            outcome_label(false, Some(LINEDISCONNECTMODE_NORMAL)),
            "cancelled"
        );
    }
}
