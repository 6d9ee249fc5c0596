//! Server transactions: INVITE (§17.2.1, figure 7, with RFC 6026 Accepted) and non-INVITE
//! (§17.2.2, figure 8), plus the routing of ACK and CANCEL (§17.2.3, §9.2).

use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::sip::codec;
use crate::sip::message::{Method, Request, Response};
use crate::sip::transport::{response_destination, Peer};

use super::{
    Deadlines, ServerTxKey, TimerSlot, TransactionError, TransactionEvent, TransactionLayer, TxId,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ServerState {
    /// Non-INVITE: Trying (no response yet).
    Trying,
    Proceeding,
    Completed,
    /// INVITE: the ACK for our non-2xx came (Timer I).
    Confirmed,
    /// INVITE: a 2xx went out (RFC 6026, Timer L).
    Accepted,
}

pub(super) struct ServerTx {
    pub key: ServerTxKey,
    pub destination: Peer,
    pub state: ServerState,
    pub last_response: Option<Bytes>,
    pub interval: Duration,
    pub deadlines: Deadlines,
}

impl ServerTx {
    /// Nothing more will be sent (Confirmed only absorbs ACKs): a transport error means
    /// nothing.
    pub fn is_done(&self) -> bool {
        self.state == ServerState::Confirmed
    }
}

impl TransactionLayer {
    pub(super) fn on_request(&mut self, now: Instant, request: Request, source: Peer) {
        let Some(key) = ServerTxKey::for_request(&request) else {
            return; // no Via: nowhere to answer (the codec already refuses these)
        };
        if let Some(&id) = self.server_ids.get(&key) {
            self.on_known_request(now, id, request, source);
            return;
        }
        match request.method {
            Method::Ack => self
                .events
                .push_back(TransactionEvent::Ack { request, source }),
            _ => self.new_server_tx(now, key, request, source),
        }
    }

    fn new_server_tx(&mut self, now: Instant, key: ServerTxKey, request: Request, source: Peer) {
        let destination = response_destination(&request.headers.via[0], source);
        let id = self.fresh_id();
        let invite = key.method == Method::Invite;
        self.servers.insert(
            id,
            Box::new(ServerTx {
                key: key.clone(),
                destination,
                state: if invite {
                    ServerState::Proceeding
                } else {
                    ServerState::Trying
                },
                last_response: None,
                interval: self.timers.t1,
                deadlines: Deadlines::default(),
            }),
        );
        self.server_ids.insert(key.clone(), id);
        if invite {
            // §17.2.1: 100 Trying at once, so the client stops retransmitting.
            let trying = Response::for_request(&request, 100, None);
            let _ = self.send_response(now, &key, trying);
        }
        let event = if request.method == Method::Cancel {
            let invite = ServerTxKey {
                method: Method::Invite,
                ..key.clone()
            };
            // §9.2: the CANCEL matches the INVITE transaction whatever its state; whether it
            // still has an effect (487) is for the user to decide.
            let pending = self.server_ids.contains_key(&invite);
            TransactionEvent::Cancel {
                key,
                invite: pending.then_some(invite),
                request,
                source,
            }
        } else {
            TransactionEvent::Request {
                key,
                request,
                source,
            }
        };
        self.events.push_back(event);
    }

    /// A retransmission (or the ACK of an INVITE transaction).
    fn on_known_request(&mut self, now: Instant, id: u64, request: Request, source: Peer) {
        let Some(tx) = self.servers.get_mut(&id) else {
            return;
        };
        if request.method == Method::Ack {
            match tx.state {
                ServerState::Completed => {
                    // §17.2.1: Confirmed; Timer I absorbs further ACKs.
                    tx.state = ServerState::Confirmed;
                    tx.last_response = None;
                    let destination = tx.destination;
                    let timer_i = self.timer_t4(destination);
                    self.finish(now, TxId::Server(id), timer_i);
                }
                // RFC 6026 §7.1: the ACK for our 2xx belongs to the TU.
                ServerState::Accepted => self
                    .events
                    .push_back(TransactionEvent::Ack { request, source }),
                _ => {}
            }
            return;
        }
        // A retransmitted request: re-send the last response, if any (§17.2.1, §17.2.2).
        self.retransmissions.received += 1;
        if matches!(tx.state, ServerState::Proceeding | ServerState::Completed) {
            if let Some(bytes) = tx.last_response.clone() {
                let destination = tx.destination;
                self.transmit(destination, bytes);
            }
        }
    }

    /// Sends a response (provisional or final) on a server transaction. Fails if the key is
    /// unknown, or the transaction already sent its final response.
    pub fn send_response(
        &mut self,
        now: Instant,
        key: &ServerTxKey,
        response: Response,
    ) -> Result<(), TransactionError> {
        let id = *self
            .server_ids
            .get(key)
            .ok_or(TransactionError::NoSuchTransaction)?;
        let tx = self
            .servers
            .get_mut(&id)
            .ok_or(TransactionError::NoSuchTransaction)?;
        if !matches!(tx.state, ServerState::Trying | ServerState::Proceeding) {
            return Err(TransactionError::NoSuchTransaction);
        }
        let bytes = Bytes::from(codec::encode_response(&response));
        tx.last_response = Some(bytes.clone());
        if response.is_provisional() {
            tx.state = ServerState::Proceeding;
        }
        let destination = tx.destination;
        self.transmit(destination, bytes);
        let invite = key.method == Method::Invite;
        match (response.is_provisional(), invite, response.is_success()) {
            (true, _, _) => {}
            (false, true, true) => self.accept(now, id),
            (false, true, false) => self.reject(now, id),
            (false, false, _) => self.complete_non_invite(now, id),
        }
        self.prune();
        Ok(())
    }

    /// §17.2.2: a final to a non-INVITE: Completed for Timer J, absorbing retransmissions.
    fn complete_non_invite(&mut self, now: Instant, id: u64) {
        let Some(tx) = self.servers.get_mut(&id) else {
            return;
        };
        tx.state = ServerState::Completed;
        let destination = tx.destination;
        let timer_j = self.timer_j(destination);
        self.finish(now, TxId::Server(id), timer_j);
    }

    /// RFC 6026 §7.1: a 2xx to an INVITE: Accepted for Timer L = 64*T1. Retransmitted INVITEs
    /// are absorbed, not answered: the 2xx is the TU's to retransmit (§13.3.1.4).
    fn accept(&mut self, now: Instant, id: u64) {
        let Some(tx) = self.servers.get_mut(&id) else {
            return;
        };
        tx.state = ServerState::Accepted;
        tx.last_response = None;
        let timer_l = self.timers.timeout_64t1();
        self.finish(now, TxId::Server(id), timer_l);
    }

    /// §17.2.1: a 300-699 to an INVITE: Completed, Timer G (unreliable transports only) and
    /// Timer H.
    fn reject(&mut self, now: Instant, id: u64) {
        let (t1, timer_h) = (self.timers.t1, self.timers.timeout_64t1());
        let Some(tx) = self.servers.get_mut(&id) else {
            return;
        };
        tx.state = ServerState::Completed;
        tx.interval = t1;
        tx.deadlines = Deadlines {
            timeout: Some(now + timer_h),
            ..Deadlines::default()
        };
        let reliable = tx.destination.transport.is_reliable();
        if !reliable {
            tx.deadlines.retransmit = Some(now + t1);
            self.schedule(now + t1, TxId::Server(id), TimerSlot::Retransmit);
        }
        self.schedule(now + timer_h, TxId::Server(id), TimerSlot::Timeout);
    }

    pub(super) fn on_server_timer(&mut self, now: Instant, id: u64, slot: TimerSlot) {
        match slot {
            TimerSlot::Retransmit => self.server_retransmit(now, id),
            TimerSlot::Timeout => {
                // Timer H: the ACK never came.
                if let Some(tx) = self.remove_server(id) {
                    self.events
                        .push_back(TransactionEvent::ServerTimeout { key: tx.key });
                }
            }
            TimerSlot::Linger => {
                self.remove_server(id);
            }
        }
    }

    /// Timer G: the non-2xx final again, T1 doubling up to T2 (§17.2.1).
    fn server_retransmit(&mut self, now: Instant, id: u64) {
        let t2 = self.timers.t2;
        let Some(tx) = self.servers.get_mut(&id) else {
            return;
        };
        if tx.state != ServerState::Completed {
            return;
        }
        tx.interval = (tx.interval * 2).min(t2);
        let at = now + tx.interval;
        tx.deadlines.retransmit = Some(at);
        let (destination, bytes) = (tx.destination, tx.last_response.clone());
        self.schedule(at, TxId::Server(id), TimerSlot::Retransmit);
        if let Some(bytes) = bytes {
            self.retransmissions.sent += 1;
            self.transmit(destination, bytes);
        }
    }

    pub(super) fn remove_server(&mut self, id: u64) -> Option<Box<ServerTx>> {
        let tx = self.servers.remove(&id)?;
        self.server_ids.remove(&tx.key);
        Some(tx)
    }
}
