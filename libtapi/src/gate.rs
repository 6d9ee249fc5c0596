//! The ordering gate: a message may reach the application only once every function call whose
//! response arrived before the message has returned to its caller. The gateway writes a
//! response before any message it causes (contract, ordering promise 1), so this closes the
//! race of TAPI's async model: lineMakeCall has returned its request ID (and written *lphCall)
//! before the callback or lineGetMessage can see the LINE_REPLY that answers it.

use std::collections::BTreeSet;

/// Counts responses as they arrive and calls as they return.
#[derive(Debug, Default)]
pub struct Gate {
    /// Responses handed to a waiting caller so far (numbered 1, 2, ...).
    received: u64,
    /// Every response numbered up to this one has returned to its caller.
    returned_upto: u64,
    /// Returned responses above `returned_upto` (calls return in any order).
    returned_later: BTreeSet<u64>,
}

impl Gate {
    /// A response is handed to its caller: its number, to give back with [`Gate::returned`].
    pub fn response(&mut self) -> u64 {
        self.received += 1;
        self.received
    }

    /// What a message arriving now must wait for.
    pub fn stamp(&self) -> u64 {
        self.received
    }

    /// The call that got response `n` has returned to the application.
    pub fn returned(&mut self, n: u64) {
        if n <= self.returned_upto {
            return;
        }
        self.returned_later.insert(n);
        while self.returned_later.remove(&(self.returned_upto + 1)) {
            self.returned_upto += 1;
        }
    }

    /// May a message stamped `need` be delivered?
    pub fn open(&self, need: u64) -> bool {
        self.returned_upto >= need
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_waits_for_the_calls_answered_before_it() {
        let mut g = Gate::default();
        assert!(g.open(g.stamp()), "nothing pending: open");
        let a = g.response();
        let b = g.response();
        let need = g.stamp();
        assert!(!g.open(need));
        g.returned(b);
        assert!(!g.open(need), "a has not returned yet");
        g.returned(a);
        assert!(g.open(need));
        let c = g.response();
        let later = g.stamp();
        assert!(
            g.open(need),
            "an older message does not wait for a newer call"
        );
        assert!(!g.open(later));
        g.returned(c);
        g.returned(c);
        assert!(g.open(later));
    }
}
