//! Pending asynchronous requests by request ID, with what a plain map cannot tell: how many each
//! app has waiting (`api.max_pending_requests`) and how long each took to its LINE_REPLY (the
//! latency histogram, by function).

// Tables keyed by the gateway's own IDs (counters no peer chooses) hash with Fx, a few
// instructions a lookup instead of SipHash's (docs/performance.md).
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::time::Instant;

use crate::tapi::{HLineApp, RequestId};

use super::state::{Pending, PendingKind};
use super::stats::Histogram;

struct Entry {
    pending: Pending,
    since: Instant,
    function: &'static str,
}

#[derive(Default)]
pub struct PendingTable {
    map: FxHashMap<RequestId, Entry>,
    per_app: FxHashMap<HLineApp, usize>,
    latency: BTreeMap<&'static str, Histogram>,
    /// The function TAPISRV is serving now (its requests are labelled with it).
    pub serving: &'static str,
}

impl PendingTable {
    pub fn insert(&mut self, now: Instant, request: RequestId, pending: Pending) {
        *self.per_app.entry(pending.app).or_default() += 1;
        let entry = Entry {
            pending,
            since: now,
            function: self.serving,
        };
        if let Some(old) = self.map.insert(request, entry) {
            self.forget(&old.pending);
        }
    }

    /// The request completed at `now`: its latency counts unless TAPISRV started it itself.
    pub fn remove(&mut self, now: Instant, request: &RequestId) -> Option<Pending> {
        let entry = self.map.remove(request)?;
        self.forget(&entry.pending);
        if entry.pending.kind != PendingKind::Internal {
            let elapsed = now.saturating_duration_since(entry.since);
            self.latency
                .entry(entry.function)
                .or_default()
                .observe(elapsed);
        }
        Some(entry.pending)
    }

    /// Drops the requests `keep` refuses (no reply will be sent for them).
    pub fn retain(&mut self, mut keep: impl FnMut(&RequestId, &Pending) -> bool) {
        let mut dropped = Vec::new();
        self.map.retain(|id, e| {
            let stays = keep(id, &e.pending);
            if !stays {
                dropped.push(e.pending.app);
            }
            stays
        });
        for app in dropped {
            self.forget_app(app);
        }
    }

    pub fn contains_key(&self, request: &RequestId) -> bool {
        self.map.contains_key(request)
    }

    /// Requests `app` has waiting.
    pub fn count(&self, app: HLineApp) -> usize {
        self.per_app.get(&app).copied().unwrap_or(0)
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn latency(&self) -> &BTreeMap<&'static str, Histogram> {
        &self.latency
    }

    fn forget(&mut self, pending: &Pending) {
        self.forget_app(pending.app);
    }

    fn forget_app(&mut self, app: HLineApp) {
        if let Some(n) = self.per_app.get_mut(&app) {
            *n -= 1;
            if *n == 0 {
                self.per_app.remove(&app);
            }
        }
    }
}
