//! The RFC 3261 §17 transaction layer, sans-I/O: the INVITE and non-INVITE client and server
//! machines (figures 5-8) with RFC 6026's Accepted state, timers A-M from T1/T2/T4, matching
//! by branch (§17.1.3, §17.2.3), retransmission over UDP only.
//!
//! Inputs carry `now`; outputs are polled: [`TransactionLayer::poll_transmit`] (bytes to send),
//! [`TransactionLayer::poll_event`] (for the transaction user), and
//! [`TransactionLayer::poll_timeout`] (the next deadline). Timers live in one min-heap; an
//! entry is acted on only if its transaction still holds that exact deadline (lazy deletion).

mod client;
mod keys;
mod server;

#[cfg(test)]
mod tests;

// Tables keyed by the gateway's own IDs (counters no peer chooses) hash with Fx, a few
// instructions a lookup instead of SipHash's (docs/performance.md).
use rustc_hash::FxHashMap;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use crate::hash::PeerMap;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::sip::codec;
use crate::sip::message::SipMessage;
use crate::sip::timers::TimerConfig;
use crate::sip::transport::{Incoming, Peer, Transmit, TransportFailure};

pub use keys::{Branch, ClientTxKey, ServerTxKey, TransactionError, TransactionEvent};

use client::ClientTx;
use server::ServerTx;

/// Which of a transaction's timers a heap entry is for. Declaration order is firing order for
/// equal deadlines: a transaction that gives up does not retransmit at the same instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum TimerSlot {
    /// B, F (client) or H (server): give up.
    Timeout,
    /// A, E (client) or G (server): retransmission.
    Retransmit,
    /// D, K, M (client) or I, J, L (server): linger, then terminate.
    Linger,
}

/// A transaction's number in the heap: client and server numbers never collide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum TxId {
    Client(u64),
    Server(u64),
}

/// The deadlines one transaction holds.
#[derive(Debug, Clone, Copy, Default)]
struct Deadlines {
    retransmit: Option<Instant>,
    timeout: Option<Instant>,
    linger: Option<Instant>,
}

impl Deadlines {
    fn get(&self, slot: TimerSlot) -> Option<Instant> {
        match slot {
            TimerSlot::Retransmit => self.retransmit,
            TimerSlot::Timeout => self.timeout,
            TimerSlot::Linger => self.linger,
        }
    }
}

/// All transactions of the gateway.
pub struct TransactionLayer {
    timers: TimerConfig,
    // Boxed: tables with many entries stay small (docs/performance.md).
    clients: FxHashMap<u64, Box<ClientTx>>,
    // Keyed by branches (ours, or a peer's): keyed foldhash (`crate::hash`).
    client_ids: PeerMap<ClientTxKey, u64>,
    servers: FxHashMap<u64, Box<ServerTx>>,
    server_ids: PeerMap<ServerTxKey, u64>,
    heap: BinaryHeap<Reverse<(Instant, TxId, TimerSlot)>>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<TransactionEvent>,
    next_id: u64,
    retransmissions: Retransmissions,
}

/// Retransmissions counted by the transaction layer (metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retransmissions {
    /// Ours, by Timer A, E or G (§17.1.1.2, §17.1.2.2, §17.2.1).
    pub sent: u64,
    /// The peer's: a request again on a server transaction, a final again on a client one.
    pub received: u64,
}

impl TransactionLayer {
    pub fn new(timers: TimerConfig) -> Self {
        TransactionLayer {
            timers,
            clients: FxHashMap::default(),
            client_ids: PeerMap::default(),
            servers: FxHashMap::default(),
            server_ids: PeerMap::default(),
            heap: BinaryHeap::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            next_id: 1,
            retransmissions: Retransmissions::default(),
        }
    }

    /// Sends a message outside any transaction (ACK for a 2xx, 2xx retransmissions, ...).
    pub fn send_stateless(&mut self, destination: Peer, message: SipMessage) {
        self.transmit(destination, Bytes::from(codec::encode(&message)));
    }

    /// Sends bytes encoded earlier outside any transaction (a re-sent ACK).
    pub fn send_encoded(&mut self, destination: Peer, payload: Bytes) {
        self.transmit(destination, payload);
    }

    /// A message from the network.
    pub fn handle_incoming(&mut self, now: Instant, incoming: Incoming) {
        match incoming.message {
            SipMessage::Request(request) => self.on_request(now, request, incoming.source),
            SipMessage::Response(response) => self.on_response(now, response, incoming.source),
        }
        self.prune();
    }

    /// A driver could not deliver to `failure.destination`: every transaction still sending
    /// there fails, and is reported once (§17.1.4, §17.2.4).
    pub fn handle_transport_failure(&mut self, _now: Instant, failure: &TransportFailure) {
        let clients: Vec<u64> = self
            .clients
            .iter()
            .filter(|(_, tx)| tx.destination == failure.destination && !tx.is_done())
            .map(|(id, _)| *id)
            .collect();
        for id in clients {
            if let Some(tx) = self.remove_client(id) {
                self.events
                    .push_back(TransactionEvent::TransportError { key: tx.key });
            }
        }
        let servers: Vec<u64> = self
            .servers
            .iter()
            .filter(|(_, tx)| tx.destination == failure.destination && !tx.is_done())
            .map(|(id, _)| *id)
            .collect();
        for id in servers {
            if let Some(tx) = self.remove_server(id) {
                self.events
                    .push_back(TransactionEvent::ServerTimeout { key: tx.key });
            }
        }
        self.prune();
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(Reverse((at, id, slot))) = self.heap.peek().copied() {
            if at > now {
                break;
            }
            self.heap.pop();
            if !self.is_live(at, id, slot) {
                continue;
            }
            match id {
                TxId::Client(n) => self.on_client_timer(now, n, slot),
                TxId::Server(n) => self.on_server_timer(now, n, slot),
            }
        }
        self.prune();
    }

    /// The earliest deadline a live transaction holds: cancelled timers are dropped from the
    /// top of the heap after every input, so this never asks for a useless wake-up.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _, _))| *at)
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<TransactionEvent> {
        self.events.pop_front()
    }

    /// Live transactions.
    pub fn len(&self) -> usize {
        self.clients.len() + self.servers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Retransmissions so far.
    pub fn retransmissions(&self) -> Retransmissions {
        self.retransmissions
    }

    /// Live server transactions (admission's `max_server_transactions` counts these).
    pub fn num_servers(&self) -> usize {
        self.servers.len()
    }

    /// Whether a server transaction with `key` is live (a request with it is a retransmission).
    pub fn has_server(&self, key: &ServerTxKey) -> bool {
        self.server_ids.contains_key(key)
    }

    /// Client transactions still waiting for a final response (a graceful stop waits for them).
    pub fn num_pending_clients(&self) -> usize {
        self.clients.values().filter(|tx| !tx.is_done()).count()
    }

    fn transmit(&mut self, destination: Peer, payload: Bytes) {
        self.transmits.push_back(Transmit {
            destination,
            payload,
        });
    }

    fn schedule(&mut self, at: Instant, id: TxId, slot: TimerSlot) {
        self.heap.push(Reverse((at, id, slot)));
    }

    fn deadlines_mut(&mut self, id: TxId) -> Option<&mut Deadlines> {
        match id {
            TxId::Client(n) => self.clients.get_mut(&n).map(|tx| &mut tx.deadlines),
            TxId::Server(n) => self.servers.get_mut(&n).map(|tx| &mut tx.deadlines),
        }
    }

    /// Whether a heap entry is still the deadline its transaction holds (lazy deletion).
    fn is_live(&self, at: Instant, id: TxId, slot: TimerSlot) -> bool {
        let deadlines = match id {
            TxId::Client(n) => self.clients.get(&n).map(|tx| tx.deadlines),
            TxId::Server(n) => self.servers.get(&n).map(|tx| tx.deadlines),
        };
        deadlines.and_then(|d| d.get(slot)) == Some(at)
    }

    /// Drops cancelled entries from the top of the heap, so that [`Self::poll_timeout`] is live.
    fn prune(&mut self) {
        while let Some(Reverse((at, id, slot))) = self.heap.peek().copied() {
            if self.is_live(at, id, slot) {
                break;
            }
            self.heap.pop();
        }
    }

    /// A transaction that will send nothing more lingers for `wait` (Timers D, I, J, K, L, M)
    /// to absorb retransmissions, or ends at once when `wait` is zero (reliable transports).
    fn finish(&mut self, now: Instant, id: TxId, wait: Duration) {
        if wait.is_zero() {
            match id {
                TxId::Client(n) => drop(self.remove_client(n)),
                TxId::Server(n) => drop(self.remove_server(n)),
            }
            return;
        }
        let at = now + wait;
        if let Some(deadlines) = self.deadlines_mut(id) {
            *deadlines = Deadlines {
                linger: Some(at),
                ..Deadlines::default()
            };
            self.schedule(at, id, TimerSlot::Linger);
        }
    }

    fn fresh_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Timer D: at least 32 s on unreliable transports (§17.1.1.2), zero on reliable ones.
    fn timer_d(&self, peer: Peer) -> Duration {
        if peer.transport.is_reliable() {
            Duration::ZERO
        } else {
            Duration::from_secs(32).max(self.timers.timeout_64t1() / 2)
        }
    }

    /// Timers I and K: T4 on unreliable transports, zero on reliable ones.
    fn timer_t4(&self, peer: Peer) -> Duration {
        if peer.transport.is_reliable() {
            Duration::ZERO
        } else {
            self.timers.t4
        }
    }

    /// Timer J: 64*T1 on unreliable transports, zero on reliable ones.
    fn timer_j(&self, peer: Peer) -> Duration {
        if peer.transport.is_reliable() {
            Duration::ZERO
        } else {
            self.timers.timeout_64t1()
        }
    }
}
