//! The provider's own deadlines (UAS 2xx retransmission, CANCEL give-up, registration refresh
//! and retry, keep-alives), kept in a min-heap with lazy deletion: a fired entry is checked
//! against the owner's current state by the caller, so cancelling a timer is never needed.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

use crate::tapi::CallId;

/// What a deadline is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TimerKind {
    /// RFC 3261 §13.3.1.4: retransmit our 2xx to an INVITE, or give up waiting for the ACK.
    Uas2xx(CallId),
    /// RFC 3261 §9.1: no final response 64*T1 after our CANCEL.
    CancelGiveUp(CallId),
    /// A line's registration needs attention (refresh or retry).
    Register(usize),
    /// A line's CRLF keep-alive towards its proxy.
    KeepAlive(usize),
}

#[derive(Default)]
pub struct TimerQueue {
    heap: BinaryHeap<Reverse<(Instant, TimerKind)>>,
}

impl TimerQueue {
    pub fn schedule(&mut self, at: Instant, kind: TimerKind) {
        self.heap.push(Reverse((at, kind)));
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _))| *at)
    }

    /// Pops one timer that is due at `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<TimerKind> {
        match self.heap.peek() {
            Some(Reverse((at, _))) if *at <= now => self.heap.pop().map(|Reverse((_, k))| k),
            _ => None,
        }
    }
}
