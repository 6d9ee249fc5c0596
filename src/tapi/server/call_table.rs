//! TAPISRV's calls by provider call ID, with the bookkeeping a plain map cannot do: how many
//! calls each line carries now (the `api.max_calls_per_line` bound behind lineGetDevCaps'
//! maxNumActiveCalls), and the calls started and completed by direction and outcome
//! (metrics). Reads go through `Deref` to the map; inserts, removals and state changes through
//! the methods here, so no count can drift.

// Tables keyed by the gateway's own IDs (counters no peer chooses) hash with Fx, a few
// instructions a lookup instead of SipHash's (docs/performance.md).
use rustc_hash::FxHashMap;
use std::ops::Deref;

use crate::tapi::{CallId, CallState, DeviceId};

use super::state::CallRecord;
use super::stats::{direction_label, outcome_label, CallCounters};

/// What a call went through, for its outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub outbound: bool,
    pub connected: bool,
    /// The LINEDISCONNECTMODE_ of its DISCONNECTED state.
    pub disconnect: Option<u32>,
    /// Counted as completed (IDLE, or gone before).
    pub ended: bool,
}

#[derive(Default)]
pub struct CallTable {
    // Boxed: a table with many entries keeps about half its slots empty, and a slot holds
    // a pointer instead of a 96-byte record (docs/performance.md).
    calls: FxHashMap<CallId, Box<CallRecord>>,
    /// Calls per line not yet completed.
    active: FxHashMap<DeviceId, u32>,
    counters: CallCounters,
}

impl Deref for CallTable {
    type Target = FxHashMap<CallId, Box<CallRecord>>;

    fn deref(&self) -> &Self::Target {
        &self.calls
    }
}

impl CallTable {
    pub fn get_mut(&mut self, call: &CallId) -> Option<&mut CallRecord> {
        self.calls.get_mut(call).map(|r| &mut **r)
    }

    /// A new call: counted as started on its line.
    pub fn insert(&mut self, call: CallId, record: CallRecord) {
        *self.active.entry(record.device).or_default() += 1;
        let direction = direction_label(record.tally.outbound);
        *self.counters.started.entry(direction).or_default() += 1;
        if let Some(old) = self.calls.insert(call, Box::new(record)) {
            self.complete(*old);
        }
    }

    /// The call is gone; counted as completed if it had not gone IDLE.
    pub fn remove(&mut self, call: &CallId) -> Option<CallRecord> {
        let record = self.calls.remove(call)?;
        let copy = record.tally;
        self.complete_tally(record.device, copy);
        Some(*record)
    }

    /// A state the apps were told: CONNECTED and DISCONNECTED shape the outcome, IDLE ends it.
    pub fn note_state(&mut self, call: CallId, state: CallState) {
        let Some(record) = self.calls.get_mut(&call) else {
            return;
        };
        match state {
            CallState::Connected(_) => record.tally.connected = true,
            CallState::Disconnected(mode) => record.tally.disconnect = Some(mode.0),
            CallState::Idle => {
                let (device, tally) = (record.device, record.tally);
                record.tally.ended = true;
                self.complete_tally(device, tally);
            }
            _ => {}
        }
    }

    /// Calls on `device` not completed yet.
    pub fn active(&self, device: DeviceId) -> u32 {
        self.active.get(&device).copied().unwrap_or(0)
    }

    /// An inbound call refused before TAPISRV kept it (no owner, line full): started and
    /// completed at once.
    pub fn refused(&mut self, outbound: bool) {
        let direction = direction_label(outbound);
        *self.counters.started.entry(direction).or_default() += 1;
        *self
            .counters
            .completed
            .entry((direction, "refused"))
            .or_default() += 1;
    }

    pub fn counters(&self) -> &CallCounters {
        &self.counters
    }

    fn complete(&mut self, record: CallRecord) {
        self.complete_tally(record.device, record.tally);
    }

    fn complete_tally(&mut self, device: DeviceId, tally: Tally) {
        if tally.ended {
            return;
        }
        if let Some(n) = self.active.get_mut(&device) {
            *n = n.saturating_sub(1);
        }
        let key = (
            direction_label(tally.outbound),
            outcome_label(tally.connected, tally.disconnect),
        );
        *self.counters.completed.entry(key).or_default() += 1;
    }
}
