//! Client transactions: INVITE (§17.1.1, figure 5, with RFC 6026 Accepted) and non-INVITE
//! (§17.1.2, figure 6).

use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::sip::codec;
use crate::sip::message::{Method, Request, Response};
use crate::sip::transport::Peer;

use super::{
    ClientTxKey, Deadlines, TimerSlot, TransactionError, TransactionEvent, TransactionLayer, TxId,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ClientState {
    /// INVITE: Calling; non-INVITE: Trying.
    Calling,
    Proceeding,
    Completed,
    /// RFC 6026: a 2xx came to our INVITE; further 2xx are passed up until Timer M.
    Accepted,
}

pub(super) struct ClientTx {
    pub key: ClientTxKey,
    /// INVITE only, until its final response: what the ACK for a non-2xx is built from.
    pub request: Option<Box<Request>>,
    /// What is retransmitted; emptied once no retransmission can follow.
    pub encoded: Bytes,
    pub destination: Peer,
    pub state: ClientState,
    pub interval: Duration,
    pub deadlines: Deadlines,
    /// INVITE: the ACK we sent for a non-2xx final, re-sent for its retransmissions.
    pub ack: Option<Bytes>,
}

impl ClientTx {
    fn is_invite(&self) -> bool {
        self.key.method == Method::Invite
    }

    /// No final response is expected any more (a transport error then means nothing).
    pub fn is_done(&self) -> bool {
        matches!(self.state, ClientState::Completed | ClientState::Accepted)
    }
}

impl TransactionLayer {
    /// Starts a client transaction for `request` (its top Via must carry the branch).
    pub fn send_request(
        &mut self,
        now: Instant,
        request: Request,
        destination: Peer,
    ) -> Result<ClientTxKey, TransactionError> {
        let branch = request
            .headers
            .via
            .first()
            .and_then(|v| v.branch())
            .filter(|b| !b.is_empty())
            .ok_or(TransactionError::NoBranch)?
            .to_string();
        let key = ClientTxKey {
            branch,
            method: request.method.clone(),
        };
        if self.client_ids.contains_key(&key) {
            return Err(TransactionError::Duplicate);
        }
        let encoded = Bytes::from(codec::encode_request(&request));
        let id = self.fresh_id();
        let t1 = self.timers.t1;
        let invite = request.method == Method::Invite;
        let mut tx = ClientTx {
            key: key.clone(),
            request: invite.then(|| Box::new(request)),
            encoded: encoded.clone(),
            destination,
            state: ClientState::Calling,
            interval: t1,
            deadlines: Deadlines::default(),
            ack: None,
        };
        // Timer A / E on unreliable transports; Timer B / F always (64*T1).
        if !destination.transport.is_reliable() {
            tx.deadlines.retransmit = Some(now + t1);
            self.schedule(now + t1, TxId::Client(id), TimerSlot::Retransmit);
        }
        let timeout = now + self.timers.timeout_64t1();
        tx.deadlines.timeout = Some(timeout);
        self.schedule(timeout, TxId::Client(id), TimerSlot::Timeout);
        self.clients.insert(id, Box::new(tx));
        self.client_ids.insert(key.clone(), id);
        self.transmit(destination, encoded);
        Ok(key)
    }

    pub(super) fn on_response(&mut self, now: Instant, response: Response, source: Peer) {
        let key = ClientTxKey {
            branch: response
                .headers
                .via
                .first()
                .and_then(|v| v.branch())
                .unwrap_or("")
                .to_string(),
            method: response.headers.cseq.method.clone(),
        };
        let Some(&id) = self.client_ids.get(&key) else {
            self.events
                .push_back(TransactionEvent::StrayResponse { response, source });
            return;
        };
        if self.clients[&id].is_invite() {
            self.invite_response(now, id, response);
        } else {
            self.non_invite_response(now, id, response);
        }
    }

    fn invite_response(&mut self, now: Instant, id: u64, response: Response) {
        let Some(tx) = self.clients.get_mut(&id) else {
            return;
        };
        let key = tx.key.clone();
        match (tx.state, response.status) {
            (ClientState::Calling | ClientState::Proceeding, 100..=199) => {
                // §17.1.1.2: a provisional stops retransmissions and Timer B.
                tx.state = ClientState::Proceeding;
                tx.deadlines.retransmit = None;
                tx.deadlines.timeout = None;
                tx.encoded = Bytes::new();
                self.events
                    .push_back(TransactionEvent::Response { key, response });
            }
            (ClientState::Calling | ClientState::Proceeding, 200..=299) => {
                // RFC 6026 §7.2: Accepted, Timer M = 64*T1; the TU ACKs.
                tx.state = ClientState::Accepted;
                tx.deadlines = Deadlines::default();
                tx.request = None;
                tx.encoded = Bytes::new();
                let at = now + self.timers.timeout_64t1();
                tx.deadlines.linger = Some(at);
                self.schedule(at, TxId::Client(id), TimerSlot::Linger);
                self.events
                    .push_back(TransactionEvent::Response { key, response });
            }
            (ClientState::Accepted, 200..=299) => {
                self.events
                    .push_back(TransactionEvent::Response { key, response });
            }
            (ClientState::Calling | ClientState::Proceeding, _) => {
                // §17.1.1.3: ACK the non-2xx final ourselves, then linger for Timer D.
                let Some(invite) = tx.request.take() else {
                    return;
                };
                let ack = Bytes::from(codec::encode_request(&ack_for(&invite, &response)));
                tx.ack = Some(ack.clone());
                tx.encoded = Bytes::new();
                tx.state = ClientState::Completed;
                tx.deadlines = Deadlines::default();
                let destination = tx.destination;
                let at = now + self.timer_d(destination);
                if let Some(tx) = self.clients.get_mut(&id) {
                    tx.deadlines.linger = Some(at);
                }
                self.schedule(at, TxId::Client(id), TimerSlot::Linger);
                self.transmit(destination, ack);
                self.events
                    .push_back(TransactionEvent::Response { key, response });
            }
            (ClientState::Completed, 300..=699) => {
                // A retransmitted final: re-send the ACK, tell nobody.
                if let Some(ack) = tx.ack.clone() {
                    let destination = tx.destination;
                    self.transmit(destination, ack);
                }
            }
            _ => {}
        }
    }

    fn non_invite_response(&mut self, now: Instant, id: u64, response: Response) {
        let Some(tx) = self.clients.get_mut(&id) else {
            return;
        };
        if tx.state == ClientState::Completed {
            return; // §17.1.2.2: retransmitted finals are absorbed.
        }
        let key = tx.key.clone();
        let linger = if tx.destination.transport.is_reliable() {
            std::time::Duration::ZERO
        } else {
            self.timers.t4
        };
        if response.is_provisional() {
            tx.state = ClientState::Proceeding;
        } else {
            tx.state = ClientState::Completed;
            tx.deadlines = Deadlines::default();
            tx.encoded = Bytes::new();
            let at = now + linger;
            if let Some(tx) = self.clients.get_mut(&id) {
                tx.deadlines.linger = Some(at);
            }
            self.schedule(at, TxId::Client(id), TimerSlot::Linger);
        }
        self.events
            .push_back(TransactionEvent::Response { key, response });
    }

    pub(super) fn on_client_timer(&mut self, now: Instant, id: u64, slot: TimerSlot) {
        match slot {
            TimerSlot::Retransmit => self.client_retransmit(now, id),
            TimerSlot::Timeout => {
                // Timer B / F.
                if let Some(tx) = self.remove_client(id) {
                    self.events
                        .push_back(TransactionEvent::Timeout { key: tx.key });
                }
            }
            TimerSlot::Linger => {
                self.remove_client(id);
            }
        }
    }

    /// Timer A (INVITE: doubles without bound) or E (non-INVITE: doubles up to T2, stays at T2
    /// once a provisional came, §17.1.2.2).
    fn client_retransmit(&mut self, now: Instant, id: u64) {
        let t2 = self.timers.t2;
        let Some(tx) = self.clients.get_mut(&id) else {
            return;
        };
        let next = match (tx.is_invite(), tx.state) {
            (true, ClientState::Calling) => tx.interval * 2,
            (false, ClientState::Calling) => (tx.interval * 2).min(t2),
            (false, ClientState::Proceeding) => t2,
            _ => return,
        };
        tx.interval = next;
        tx.deadlines.retransmit = Some(now + next);
        let (destination, bytes) = (tx.destination, tx.encoded.clone());
        self.schedule(now + next, TxId::Client(id), TimerSlot::Retransmit);
        self.transmit(destination, bytes);
    }

    pub(super) fn remove_client(&mut self, id: u64) -> Option<Box<ClientTx>> {
        let tx = self.clients.remove(&id)?;
        self.client_ids.remove(&tx.key);
        Some(tx)
    }
}

/// §17.1.1.3: the ACK for a non-2xx final response to `invite` (To with the response's tag).
fn ack_for(invite: &Request, response: &Response) -> Request {
    invite.derive(Method::Ack, response.headers.to.clone())
}
