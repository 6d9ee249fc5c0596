//! Client transactions: INVITE (§17.1.1, figure 5, with RFC 6026 Accepted) and non-INVITE
//! (§17.1.2, figure 6).

use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::sip::codec;
use crate::sip::message::{Method, Request, Response};
use crate::sip::transport::Peer;

use super::{
    Branch, ClientTxKey, Deadlines, TimerSlot, TransactionError, TransactionEvent,
    TransactionLayer, TxId,
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
    /// INVITE: 64*T1 after our CANCEL, when the transaction is given up without a final
    /// response (§9.1).
    pub cancel_deadline: Option<Instant>,
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
    /// Starts a client transaction for `request` (its top Via must carry the branch) and sends
    /// the request to `destination`.
    pub fn send_request(
        &mut self,
        now: Instant,
        request: Request,
        destination: Peer,
    ) -> Result<ClientTxKey, TransactionError> {
        let key = client_key(&request)?;
        if self.client_ids.contains_key(&key) {
            return Err(TransactionError::Duplicate);
        }
        if request.method == Method::Cancel {
            self.limit_cancelled_invite(now, &key.branch);
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
            cancel_deadline: None,
        };
        // Timer A / E on unreliable transports only; Timer B / F always (64*T1).
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
        self.prune();
        Ok(key)
    }

    /// §9.1: if the INVITE a CANCEL (same branch) is for gets no final response within 64*T1
    /// of the CANCEL, its client transaction is given up (reported as a timeout).
    fn limit_cancelled_invite(&mut self, now: Instant, branch: &Branch) {
        let invite = ClientTxKey {
            branch: branch.clone(),
            method: Method::Invite,
        };
        let Some(&id) = self.client_ids.get(&invite) else {
            return;
        };
        let at = now + self.timers.timeout_64t1();
        let Some(tx) = self.clients.get_mut(&id) else {
            return;
        };
        if tx.is_done() {
            return;
        }
        tx.cancel_deadline = Some(at);
        let timeout = tx.deadlines.timeout.map_or(at, |b| b.min(at));
        tx.deadlines.timeout = Some(timeout);
        self.schedule(timeout, TxId::Client(id), TimerSlot::Timeout);
    }

    pub(super) fn on_response(&mut self, now: Instant, response: Response, source: Peer) {
        let key = ClientTxKey {
            branch: Branch::new(
                response
                    .headers
                    .via
                    .first()
                    .and_then(|v| v.branch())
                    .unwrap_or(""),
            ),
            method: response.headers.cseq.method.clone(),
        };
        let Some(&id) = self.client_ids.get(&key) else {
            self.events
                .push_back(TransactionEvent::StrayResponse { response, source });
            return;
        };
        if key.method == Method::Invite {
            self.invite_response(now, id, key, response);
        } else {
            self.non_invite_response(now, id, key, response);
        }
    }

    /// Figure 5 with RFC 6026 §7.2.
    fn invite_response(&mut self, now: Instant, id: u64, key: ClientTxKey, response: Response) {
        let Some(tx) = self.clients.get_mut(&id) else {
            return;
        };
        match (tx.state, response.status) {
            (ClientState::Calling | ClientState::Proceeding, 100..=199) => {
                // §17.1.1.2: a provisional stops retransmissions and Timer B (what remains is
                // the §9.1 limit of a CANCEL, if one was sent).
                tx.state = ClientState::Proceeding;
                tx.deadlines.retransmit = None;
                tx.deadlines.timeout = tx.cancel_deadline;
                tx.encoded = Bytes::new();
                if let Some(at) = tx.cancel_deadline {
                    self.schedule(at, TxId::Client(id), TimerSlot::Timeout);
                }
            }
            (ClientState::Calling | ClientState::Proceeding, 200..=299) => {
                // RFC 6026 §7.2: Accepted, Timer M = 64*T1; the TU ACKs every 2xx.
                tx.state = ClientState::Accepted;
                tx.request = None;
                tx.encoded = Bytes::new();
                let timer_m = self.timers.timeout_64t1();
                self.finish(now, TxId::Client(id), timer_m);
            }
            (ClientState::Accepted, 200..=299) => {}
            (ClientState::Calling | ClientState::Proceeding, _) => {
                self.ack_final(now, id, &response);
            }
            (ClientState::Completed, 300..=699) => {
                // §17.1.1.2: a retransmitted final is ACKed again and not passed up.
                self.retransmissions.received += 1;
                if let Some(ack) = tx.ack.clone() {
                    let destination = tx.destination;
                    self.transmit(destination, ack);
                }
                return;
            }
            _ => return,
        }
        self.events
            .push_back(TransactionEvent::Response { key, response });
    }

    /// §17.1.1.3: the ACK for a non-2xx final, sent by the transaction itself; then Completed
    /// for Timer D.
    fn ack_final(&mut self, now: Instant, id: u64, response: &Response) {
        let Some(tx) = self.clients.get_mut(&id) else {
            return;
        };
        let Some(invite) = tx.request.take() else {
            return;
        };
        let ack = Bytes::from(codec::encode_request(&ack_for(&invite, response)));
        tx.ack = Some(ack.clone());
        tx.encoded = Bytes::new();
        tx.state = ClientState::Completed;
        let destination = tx.destination;
        self.transmit(destination, ack);
        let timer_d = self.timer_d(destination);
        self.finish(now, TxId::Client(id), timer_d);
    }

    /// Figure 6.
    fn non_invite_response(&mut self, now: Instant, id: u64, key: ClientTxKey, response: Response) {
        let Some(tx) = self.clients.get_mut(&id) else {
            return;
        };
        if tx.state == ClientState::Completed {
            self.retransmissions.received += 1;
            return; // §17.1.2.2: retransmitted finals are absorbed.
        }
        if response.is_provisional() {
            // Timer E keeps running; from its next firing it stays at T2 (§17.1.2.2).
            tx.state = ClientState::Proceeding;
        } else {
            tx.state = ClientState::Completed;
            tx.encoded = Bytes::new();
            let destination = tx.destination;
            let timer_k = self.timer_t4(destination);
            self.finish(now, TxId::Client(id), timer_k);
        }
        self.events
            .push_back(TransactionEvent::Response { key, response });
    }

    pub(super) fn on_client_timer(&mut self, now: Instant, id: u64, slot: TimerSlot) {
        match slot {
            TimerSlot::Retransmit => self.client_retransmit(now, id),
            TimerSlot::Timeout => {
                // Timer B / F, or the §9.1 limit after a CANCEL.
                if let Some(tx) = self.remove_client(id) {
                    self.events
                        .push_back(TransactionEvent::Timeout { key: tx.key });
                }
            }
            TimerSlot::Linger => {
                if let Some(tx) = self.remove_client(id) {
                    if tx.state == ClientState::Accepted {
                        self.events
                            .push_back(TransactionEvent::Terminated { key: tx.key });
                    }
                }
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
        self.retransmissions.sent += 1;
        self.transmit(destination, bytes);
    }

    pub(super) fn remove_client(&mut self, id: u64) -> Option<Box<ClientTx>> {
        let tx = self.clients.remove(&id)?;
        self.client_ids.remove(&tx.key);
        Some(tx)
    }
}

/// §17.1.3: the key of a request we send; §17: ACK is never a transaction.
fn client_key(request: &Request) -> Result<ClientTxKey, TransactionError> {
    if request.method == Method::Ack {
        return Err(TransactionError::Ack);
    }
    ClientTxKey::for_request(request).ok_or(TransactionError::NoBranch)
}

/// §17.1.1.3: the ACK for a non-2xx final response to `invite` (To with the response's tag).
fn ack_for(invite: &Request, response: &Response) -> Request {
    invite.derive(Method::Ack, response.headers.to.clone())
}
