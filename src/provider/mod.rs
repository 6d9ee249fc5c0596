//! The SIP line provider: turns TAPI requests into SIP and what the network does into
//! provider events, behind the [`LineProvider`] seam (our TSPI). Sans-I/O: it owns the
//! transaction layer, the calls and dialogs, the registrations and the media leases, takes
//! messages and `now`, and is polled for datagrams, events and its next deadline.
//!
//! Files: `outbound` (lineMakeCall, INVITE client side), `inbound` (INVITE server side,
//! accept/answer/reject/redirect), `dialog` (in-dialog requests both ways), `ua` (requests
//! outside any dialog: OPTIONS, 405, 481), `registration` (REGISTER client), `auth` (digest
//! retries), `build` (request construction), `events` (TAPI state reporting).

mod auth;
mod build;
mod call;
mod dialog;
mod events;
mod ids;
mod inbound;
mod line;
mod outbound;
mod registration;
mod timers;
mod ua;

#[cfg(test)]
mod tests;

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use bytes::Bytes;

use crate::config::{GatewayConfig, SipConfig};
use crate::media::MediaAllocator;
use crate::sip::message::{Method, SipMessage};
use crate::sip::transaction::{ClientTxKey, ServerTxKey, TransactionEvent, TransactionLayer};
use crate::sip::transport::{stamp_received, Incoming, Peer, Transmit, TransportFailure};
use crate::tapi::consts::*;
use crate::tapi::{
    CallId, DevCaps, DeviceId, LineDevStatus, LineErr, LineProvider, ProviderCallInfo,
    ProviderEvent, RequestId,
};

pub use call::disconnect_mode;
use call::Call;
use ids::IdGen;
use line::Line;
use timers::{TimerKind, TimerQueue};

/// Which part of the provider a client transaction belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TxOwner {
    Invite(CallId),
    Cancel(CallId),
    Bye(CallId),
    Register(usize),
}

/// The SIP provider state.
pub struct SipProvider {
    sip: SipConfig,
    lines: Vec<Line>,
    txl: TransactionLayer,
    media: Box<dyn MediaAllocator>,
    ids: IdGen,
    /// Boxed: the table stays small however large a call's state is.
    calls: HashMap<CallId, Box<Call>>,
    /// (Call-ID, our tag) -> call, for requests inside a dialog.
    dialogs: HashMap<(String, String), CallId>,
    client_txs: HashMap<ClientTxKey, TxOwner>,
    server_invites: HashMap<ServerTxKey, CallId>,
    timers: TimerQueue,
    events: VecDeque<ProviderEvent>,
    raw: VecDeque<Transmit>,
    next_call: u64,
    stopping: bool,
    /// The address our SDP names before a media port is leased.
    media_ip: std::net::IpAddr,
}

impl SipProvider {
    pub fn new(
        config: &GatewayConfig,
        media: Box<dyn MediaAllocator>,
        seed: u64,
        now: Instant,
    ) -> Self {
        let mut provider = SipProvider {
            sip: config.sip.clone(),
            lines: config.lines.iter().cloned().map(Line::new).collect(),
            txl: TransactionLayer::new(config.sip.timers),
            media,
            ids: IdGen::new(seed),
            calls: HashMap::new(),
            dialogs: HashMap::new(),
            client_txs: HashMap::new(),
            server_invites: HashMap::new(),
            timers: TimerQueue::default(),
            events: VecDeque::new(),
            raw: VecDeque::new(),
            next_call: 1,
            stopping: false,
            media_ip: config.media.address,
        };
        provider.start_registrations(now);
        provider
    }

    /// A message from the network.
    pub fn handle_incoming(&mut self, now: Instant, mut incoming: Incoming) {
        if let SipMessage::Request(request) = &mut incoming.message {
            // RFC 3261 §18.2.1 / RFC 3581 §4.
            if let Some(via) = request.headers.via.first_mut() {
                stamp_received(via, incoming.source.addr);
            }
        }
        self.txl.handle_incoming(now, incoming);
        self.drain_transactions(now);
    }

    pub fn handle_transport_failure(&mut self, now: Instant, failure: &TransportFailure) {
        self.txl.handle_transport_failure(now, failure);
        self.drain_transactions(now);
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        self.txl.handle_timeout(now);
        self.drain_transactions(now);
        while let Some(kind) = self.timers.pop_due(now) {
            match kind {
                TimerKind::Uas2xx(call) => self.on_uas_2xx_timer(now, call),
                TimerKind::CancelGiveUp(call) => self.on_cancel_give_up(now, call),
                TimerKind::Register(line) => self.on_register_timer(now, line),
                TimerKind::KeepAlive(line) => self.on_keepalive_timer(now, line),
            }
            self.drain_transactions(now);
        }
    }

    /// Bytes prepared elsewhere (a codec 400) for `destination`.
    pub fn send_raw(&mut self, destination: Peer, payload: Bytes) {
        self.raw.push_back(Transmit {
            destination,
            payload,
        });
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.raw.pop_front().or_else(|| self.txl.poll_transmit())
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.txl.poll_timeout(), self.timers.next_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Graceful stop: drop every live call, unregister every line.
    pub fn begin_shutdown(&mut self, now: Instant) {
        self.stopping = true;
        let live: Vec<CallId> = self
            .calls
            .values()
            .filter(|c| c.is_live())
            .map(|c| c.id)
            .collect();
        for call in live {
            self.hang_up(now, call);
        }
        self.unregister_all(now);
        self.drain_transactions(now);
    }

    /// Nothing left that a graceful stop waits for.
    pub fn is_quiescent(&self) -> bool {
        self.calls.values().all(|c| !c.is_live())
            && self.lines.iter().all(|l| l.registration.is_idle())
    }

    /// Calls the provider holds (live or waiting for TAPI to release them).
    pub fn num_calls(&self) -> usize {
        self.calls.len()
    }

    /// Open transactions (tests use it to check nothing leaks).
    pub fn num_transactions(&self) -> usize {
        self.txl.len()
    }

    /// Handles everything the transaction layer has to say.
    fn drain_transactions(&mut self, now: Instant) {
        while let Some(event) = self.txl.poll_event() {
            self.on_transaction_event(now, event);
        }
    }

    fn on_transaction_event(&mut self, now: Instant, event: TransactionEvent) {
        match event {
            TransactionEvent::Request {
                key,
                request,
                source,
            } => self.on_request(now, key, request, source),
            TransactionEvent::Cancel {
                key,
                invite,
                request,
                source: _,
            } => self.on_cancel(now, key, invite, &request),
            TransactionEvent::Ack { request, source } => self.on_ack(now, request, source),
            TransactionEvent::Response { key, response } => self.on_response(now, key, response),
            TransactionEvent::Timeout { key } => self.on_client_failure(now, key, true),
            TransactionEvent::TransportError { key } => self.on_client_failure(now, key, false),
            TransactionEvent::ServerTimeout { key } => self.on_server_timeout(now, key),
            other => self.on_other_transaction_event(now, other),
        }
    }

    /// A new server transaction: route by dialog, then by method.
    fn on_request(
        &mut self,
        now: Instant,
        key: ServerTxKey,
        request: crate::sip::message::Request,
        source: Peer,
    ) {
        if request.headers.to.tag().is_some() {
            self.on_in_dialog_request(now, key, request, source);
            return;
        }
        match request.method {
            Method::Invite => self.on_invite(now, key, request, source),
            _ => self.on_out_of_dialog_request(now, key, request),
        }
    }

    fn on_response(
        &mut self,
        now: Instant,
        key: ClientTxKey,
        response: crate::sip::message::Response,
    ) {
        let Some(owner) = self.client_txs.get(&key).copied() else {
            tracing::debug!(
                status = response.status,
                "response for a forgotten transaction"
            );
            return;
        };
        if response.is_final() && !(owner_is_invite(owner) && response.is_success()) {
            self.client_txs.remove(&key);
        }
        match owner {
            TxOwner::Invite(call) => self.on_invite_response(now, call, key, response),
            TxOwner::Cancel(call) => {
                tracing::debug!(?call, status = response.status, "CANCEL answered")
            }
            TxOwner::Bye(call) => self.on_bye_done(now, call),
            TxOwner::Register(line) => self.on_register_response(now, line, key, response),
        }
    }

    /// Timer B/F or a transport error on one of our client transactions.
    fn on_client_failure(&mut self, now: Instant, key: ClientTxKey, timeout: bool) {
        let Some(owner) = self.client_txs.remove(&key) else {
            return;
        };
        match owner {
            TxOwner::Invite(call) => self.on_invite_failure(now, call, timeout),
            TxOwner::Cancel(_) => {}
            TxOwner::Bye(call) => self.on_bye_done(now, call),
            TxOwner::Register(line) => self.on_register_failure(now, line),
        }
    }

    /// Sends a request on a new client transaction owned by `owner`.
    fn send_request(
        &mut self,
        now: Instant,
        request: crate::sip::message::Request,
        destination: Peer,
        owner: TxOwner,
    ) -> Option<ClientTxKey> {
        match self.txl.send_request(now, request, destination) {
            Ok(key) => {
                self.client_txs.insert(key.clone(), owner);
                Some(key)
            }
            Err(err) => {
                tracing::warn!(%err, "could not start a client transaction");
                None
            }
        }
    }

    fn new_call_id(&mut self) -> CallId {
        let id = CallId(self.next_call);
        self.next_call += 1;
        id
    }

    fn line_index(&self, device: DeviceId) -> Option<usize> {
        let index = device.0 as usize;
        (index < self.lines.len()).then_some(index)
    }
}

fn owner_is_invite(owner: TxOwner) -> bool {
    matches!(owner, TxOwner::Invite(_))
}

impl LineProvider for SipProvider {
    fn num_lines(&self) -> u32 {
        self.lines.len() as u32
    }

    fn dev_caps(&self, device: DeviceId) -> Option<DevCaps> {
        Some(self.lines.get(self.line_index(device)?)?.dev_caps())
    }

    fn line_dev_status(&self, device: DeviceId) -> Option<LineDevStatus> {
        let index = self.line_index(device)?;
        let line = &self.lines[index];
        let in_service = self.line_in_service(index);
        let mut flags = LINEDEVSTATUSFLAGS_CONNECTED;
        if in_service {
            flags |= LINEDEVSTATUSFLAGS_INSERVICE;
        }
        let active = self
            .calls
            .values()
            .filter(|c| c.line == index && c.is_live())
            .count() as u32;
        Some(LineDevStatus {
            dev_status_flags: flags,
            num_active_calls: active,
            registered: line.registration.is_registered(),
        })
    }

    fn set_default_media_detection(&mut self, _now: Instant, device: DeviceId, media_modes: u32) {
        if let Some(index) = self.line_index(device) {
            self.lines[index].media_detection = media_modes;
        }
    }

    fn make_call(
        &mut self,
        now: Instant,
        request: RequestId,
        device: DeviceId,
        dest: &str,
    ) -> Result<CallId, LineErr> {
        self.start_outbound_call(now, request, device, dest)
    }

    fn accept(&mut self, now: Instant, request: RequestId, call: CallId) -> Result<(), LineErr> {
        self.accept_call(now, request, call)
    }

    fn answer(&mut self, now: Instant, request: RequestId, call: CallId) -> Result<(), LineErr> {
        self.answer_call(now, request, call)
    }

    fn drop_call(&mut self, now: Instant, request: RequestId, call: CallId) -> Result<(), LineErr> {
        self.drop_requested(now, request, call)
    }

    fn redirect(
        &mut self,
        now: Instant,
        request: RequestId,
        call: CallId,
        dest: &str,
    ) -> Result<(), LineErr> {
        self.redirect_call(now, request, call, dest)
    }

    fn close_call(&mut self, now: Instant, call: CallId) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        c.released = true;
        c.pending.clear();
        if c.is_live() {
            // Dropped silently; the call is forgotten once the network side has ended.
            self.hang_up(now, call);
        } else if let Some(c) = self.calls.remove(&call) {
            self.forget_call(c);
        }
    }

    fn call_info(&self, call: CallId) -> Option<ProviderCallInfo> {
        let c = self.calls.get(&call)?;
        let remote = c.remote_media.as_ref();
        Some(ProviderCallInfo {
            sip_call_id: c.dialog.call_id.clone(),
            codec: remote.map(|r| r.codec.name().to_string()),
            remote_media: remote.map(|r| r.address.to_string()),
            local_media: c.local_rtp.map(|a| a.to_string()),
            ..c.info.clone()
        })
    }

    fn poll_event(&mut self) -> Option<ProviderEvent> {
        self.events.pop_front()
    }
}
