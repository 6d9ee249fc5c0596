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

impl TransactionLayer {
    pub(super) fn on_request(&mut self, now: Instant, request: Request, source: Peer) {
        let Some(via) = request.headers.via.first() else {
            return;
        };
        let method = match request.method {
            Method::Ack => Method::Invite,
            ref m => m.clone(),
        };
        let key = ServerTxKey::for_request(via, method);
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
        let t4 = self.timer_t4_for(id);
        let Some(tx) = self.servers.get_mut(&id) else {
            return;
        };
        if request.method == Method::Ack {
            match tx.state {
                ServerState::Completed => {
                    // §17.2.1: Confirmed; Timer I absorbs further ACKs.
                    tx.state = ServerState::Confirmed;
                    tx.deadlines = Deadlines::default();
                    tx.deadlines.linger = Some(now + t4);
                    self.schedule(now + t4, TxId::Server(id), TimerSlot::Linger);
                }
                ServerState::Accepted => self
                    .events
                    .push_back(TransactionEvent::Ack { request, source }),
                _ => {}
            }
            return;
        }
        // A retransmitted request: re-send the last response, if any (§17.2.1, §17.2.2).
        if matches!(tx.state, ServerState::Proceeding | ServerState::Completed) {
            if let Some(bytes) = tx.last_response.clone() {
                let destination = tx.destination;
                self.transmit(destination, bytes);
            }
        }
    }

    fn timer_t4_for(&self, id: u64) -> Duration {
        self.servers
            .get(&id)
            .map_or(self.timers.t4, |tx| self.timer_t4(tx.destination))
    }

    /// Sends a response on a server transaction.
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
            .get(&id)
            .ok_or(TransactionError::NoSuchTransaction)?;
        if !matches!(tx.state, ServerState::Trying | ServerState::Proceeding) {
            return Err(TransactionError::NoSuchTransaction);
        }
        let bytes = Bytes::from(codec::encode_response(&response));
        let destination = tx.destination;
        let invite = key.method == Method::Invite;
        self.transmit(destination, bytes.clone());
        let t1 = self.timers.t1;
        let (linger_j, sixty_four) = (self.timer_j(destination), self.timers.timeout_64t1());
        let Some(tx) = self.servers.get_mut(&id) else {
            return Ok(());
        };
        tx.last_response = Some(bytes);
        if response.is_provisional() {
            tx.state = ServerState::Proceeding;
            return Ok(());
        }
        tx.deadlines = Deadlines::default();
        let mut timers = Vec::new();
        if invite && response.is_success() {
            // RFC 6026 §7.1: Accepted, Timer L = 64*T1; the TU retransmits the 2xx.
            tx.state = ServerState::Accepted;
            // Retransmitted INVITEs are absorbed, not answered (RFC 6026 §7.1): the 2xx is
            // the user's to retransmit.
            tx.last_response = None;
            tx.deadlines.linger = Some(now + sixty_four);
            timers.push((now + sixty_four, TimerSlot::Linger));
        } else if invite {
            // §17.2.1: Completed, Timer G (UDP) and Timer H.
            tx.state = ServerState::Completed;
            tx.interval = t1;
            if !destination.transport.is_reliable() {
                tx.deadlines.retransmit = Some(now + t1);
                timers.push((now + t1, TimerSlot::Retransmit));
            }
            tx.deadlines.timeout = Some(now + sixty_four);
            timers.push((now + sixty_four, TimerSlot::Timeout));
        } else {
            // §17.2.2: Completed, Timer J.
            tx.state = ServerState::Completed;
            tx.deadlines.linger = Some(now + linger_j);
            timers.push((now + linger_j, TimerSlot::Linger));
        }
        for (at, slot) in timers {
            self.schedule(at, TxId::Server(id), slot);
        }
        if linger_j.is_zero() && !invite {
            self.remove_server(id);
        }
        Ok(())
    }

    pub(super) fn on_server_timer(&mut self, now: Instant, id: u64, slot: TimerSlot) {
        match slot {
            TimerSlot::Retransmit => {
                // Timer G: T1 doubling, capped at T2.
                let t2 = self.timers.t2;
                let Some(tx) = self.servers.get_mut(&id) else {
                    return;
                };
                if tx.state != ServerState::Completed {
                    return;
                }
                tx.interval = (tx.interval * 2).min(t2);
                tx.deadlines.retransmit = Some(now + tx.interval);
                let (at, destination, bytes) =
                    (now + tx.interval, tx.destination, tx.last_response.clone());
                self.schedule(at, TxId::Server(id), TimerSlot::Retransmit);
                if let Some(bytes) = bytes {
                    self.transmit(destination, bytes);
                }
            }
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

    pub(super) fn remove_server(&mut self, id: u64) -> Option<Box<ServerTx>> {
        let tx = self.servers.remove(&id)?;
        self.server_ids.remove(&tx.key);
        Some(tx)
    }
}
