//! The SIP line provider: turns TAPI requests into SIP and what the network does into provider
//! events, behind the [`LineProvider`] seam (our TSPI). Sans-I/O.
//!
//! It is the *endpoint* of quinn-proto's Endpoint/Connection split: it owns the shared services
//! (the transaction layer, fresh identifiers, the media port allocator, the lines) and routes
//! every input to the state machine it belongs to: a [`Call`] (by client transaction, dialog,
//! or server INVITE) or a line's [`Registration`]. Those machines answer with actions, which
//! the provider carries out (starting transactions and recording who owns them, sending
//! responses and raw bytes, queueing TAPI events), and report their next deadline, which the
//! provider keeps in one heap. Every `handle_*` first fires what is due, so no stream of input
//! can starve a retransmission, Timer B/F or a registration refresh.
//!
//! Files: `call/` (one call), `registration` (one line's REGISTER client), `admission` (what
//! is refused before a transaction exists: floods, limits, untrusted sources, overload) with
//! `rate_limit` and `trust`, `inbound` (new INVITEs: line lookup, 404/480/403), `journal`
//! (the call journal's records, crash recovery), `ua` (other requests outside any dialog),
//! `seam` (the LineProvider functions), `routes` (who owns which transaction and dialog),
//! `deadlines`, `build` (request construction, our option tags), `extensions` (Require, 420),
//! `flow` (RFC 5626 keep-alives and recovery of TCP/TLS registrations), `auth` (digest
//! retries), `line`, `ids`, `disconnect` (SIP status to LINEDISCONNECTMODE_).

mod admission;
mod auth;
mod build;
pub mod call;
mod conference;
mod control;
mod deadlines;
mod disconnect;
mod extensions;
mod flow;
mod ids;
mod inbound;
mod journal;
mod line;
mod media_link;
mod rate_limit;
mod registration;
mod reload;
mod routes;
mod seam;
mod stats;
mod trust;
mod ua;

#[cfg(test)]
mod tests;

// Tables keyed by the gateway's own IDs (counters no peer chooses) hash with Fx, a few
// instructions a lookup instead of SipHash's (docs/performance.md).
use rustc_hash::FxHashMap;
use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use bytes::Bytes;

use crate::config::{GatewayConfig, SipConfig};
use crate::media::MediaAllocator;
use crate::sip::message::SipMessage;
use crate::sip::transaction::{ClientTxKey, TransactionEvent, TransactionLayer};
use crate::sip::transport::{
    stamp_received, FlowEvent, Incoming, Peer, Transmit, TransportCommand, TransportFailure,
};
use crate::tapi::{CallId, DeviceId, ProviderEvent};

pub use admission::{is_new_invite, overload_refusal, AdmissionStats};
pub use build::SUPPORTED_TAGS;
pub use disconnect::disconnect_mode;
pub use journal::RecoverySummary;
pub use stats::ProviderSnapshot;

use admission::Admission;
use build::Ua;
use call::{Action, Call, CallEnv, TxFailure};
use deadlines::Deadlines;
use ids::IdGen;
use line::Line;
use registration::{RegAction, RegEnv, Registration};
use routes::{Routes, TxOwner};

/// What a call's actions ask of other calls, done once its own actions are carried out.
enum Later {
    Internal(crate::tapi::RequestId, Result<(), crate::tapi::LineErr>),
    News(CallId, call::News),
    Refer(crate::sip::message::Uri),
}

/// Whose deadline a heap entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Owner {
    Call(CallId),
    Line(usize),
}

/// The SIP provider state.
pub struct SipProvider {
    sip: SipConfig,
    /// The address our SDP names before a media port is leased.
    media_ip: std::net::IpAddr,
    lines: Vec<Line>,
    registrations: Vec<Registration>,
    txl: TransactionLayer,
    ids: IdGen,
    media: Box<dyn MediaAllocator>,
    /// Boxed: the table stays small however large a call's state is.
    calls: FxHashMap<CallId, Box<Call>>,
    routes: Routes,
    deadlines: Deadlines<Owner>,
    events: VecDeque<ProviderEvent>,
    /// What the stream drivers must do beyond sending (close a dead flow).
    commands: VecDeque<TransportCommand>,
    joins: control::Joins,
    next_call: u64,
    stopping: bool,
    /// What is refused before a transaction exists (limits, untrusted sources).
    admission: Admission,
    /// Dialogs journaled, and records not yet taken by the runtime.
    journal: journal::JournalState,
    /// Commands for the media engine, in order, until the runtime takes them.
    media_out: VecDeque<crate::media::MediaCommand>,
    /// `media.files_dir` (mediaPlay / mediaRecord).
    files_dir: Option<std::path::PathBuf>,
    /// Conference calls (lineCompleteTransfer CONFERENCE).
    conferences: HashMap<CallId, conference::Conference>,
}

impl SipProvider {
    pub fn new(
        config: &GatewayConfig,
        media: Box<dyn MediaAllocator>,
        seed: u64,
        now: Instant,
    ) -> Self {
        let lines: Vec<Line> = config.lines.iter().cloned().map(Line::new).collect();
        let registrations = lines
            .iter()
            .enumerate()
            .map(|(i, l)| Registration::new(DeviceId(i as u32), l))
            .collect();
        // Its own generator: the other identifiers stay what a given seed always gave.
        let stateless_tag = IdGen::new(seed ^ 0x5afe_7a95).tag();
        let admission = Admission::new(&config.sip.admission, stateless_tag);
        let mut provider = SipProvider {
            sip: config.sip.clone(),
            media_ip: config.media.address,
            lines,
            registrations,
            txl: TransactionLayer::new(config.sip.timers),
            ids: IdGen::new(seed),
            media,
            calls: FxHashMap::default(),
            routes: Routes::default(),
            deadlines: Deadlines::default(),
            events: VecDeque::new(),
            commands: VecDeque::new(),
            joins: control::Joins::default(),
            next_call: 1,
            stopping: false,
            admission,
            journal: journal::JournalState::new(config.sip.lifecycle.journal.is_some()),
            media_out: VecDeque::new(),
            files_dir: config.media.files_dir.clone(),
            conferences: HashMap::new(),
        };
        for line in 0..provider.lines.len() {
            provider.with_registration(now, line, |reg, env| reg.start(env));
        }
        provider
    }

    /// A message from the network.
    pub fn handle_incoming(&mut self, now: Instant, mut incoming: Incoming) {
        self.fire_due(now);
        if let SipMessage::Request(request) = &mut incoming.message {
            // RFC 3261 §18.2.1 / RFC 3581 §4.
            if let Some(via) = request.headers.via.first_mut() {
                stamp_received(via, incoming.source.addr);
            }
            if !self.admit_request(now, request, incoming.source) {
                return;
            }
        }
        self.txl.handle_incoming(now, incoming);
        self.drain_transactions(now);
    }

    pub fn handle_transport_failure(&mut self, now: Instant, failure: &TransportFailure) {
        self.fire_due(now);
        self.txl.handle_transport_failure(now, failure);
        self.drain_transactions(now);
    }

    /// A connection closed or answered a keep-alive: the registrations whose flow it is
    /// react (RFC 5626 §4.4.1, §4.5).
    pub fn handle_flow_event(&mut self, now: Instant, event: FlowEvent) {
        self.fire_due(now);
        for line in 0..self.lines.len() {
            self.with_registration(now, line, |reg, env| reg.handle_flow_event(env, event));
        }
    }

    pub fn poll_transport_command(&mut self) -> Option<TransportCommand> {
        self.commands.pop_front()
    }

    /// Fires every deadline due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.fire_due(now);
    }

    /// Bytes prepared elsewhere (a codec 400) for `destination`.
    pub fn send_raw(&mut self, destination: Peer, payload: Bytes) {
        self.txl.send_encoded(destination, payload);
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.txl.poll_transmit()
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.txl.poll_timeout(), self.deadlines.next()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Graceful stop: drop every live call, unregister every line.
    pub fn begin_shutdown(&mut self, now: Instant) {
        self.stopping = true;
        let mut live: Vec<CallId> = self
            .calls
            .values()
            .filter(|c| c.is_live())
            .map(|c| c.id)
            .collect();
        live.sort();
        for call in live {
            self.with_call(now, call, |c, env| c.hang_up(env));
        }
        for line in 0..self.lines.len() {
            self.with_registration(now, line, |reg, env| reg.stop(env));
        }
    }

    /// Nothing left that a graceful stop waits for: no live call (every BYE and CANCEL was
    /// answered or given up per RFC 3261: Timer F, or 64*T1 after a CANCEL), every line
    /// unregistered, no client transaction waiting for its final response.
    pub fn is_quiescent(&self) -> bool {
        self.calls.values().all(|c| !c.is_live())
            && self.registrations.iter().all(|r| r.is_idle())
            && self.txl.num_pending_clients() == 0
    }

    /// Calls the provider holds (live or waiting for TAPI to release them).
    pub fn num_calls(&self) -> usize {
        self.calls.len()
    }

    /// Open transactions (tests use it to check nothing leaks).
    pub fn num_transactions(&self) -> usize {
        self.txl.len()
    }

    /// Transaction timers first, then calls and registrations, in deadline order.
    fn fire_due(&mut self, now: Instant) {
        self.txl.handle_timeout(now);
        self.drain_transactions(now);
        while let Some(owner) = self.deadlines.pop_due(now) {
            match owner {
                Owner::Call(id) => {
                    self.with_call(now, id, |c, env| c.handle_timeout(env));
                }
                Owner::Line(line) => {
                    self.with_registration(now, line, |reg, env| reg.handle_timeout(env))
                }
            }
            self.drain_transactions(now);
        }
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
            } => {
                // RFC 3261 §8.2.2.3 before anything else looks at the request.
                if !self.refuse_unsupported(now, &key, &request) {
                    self.on_request(now, key, request, source)
                }
            }
            TransactionEvent::Cancel {
                key,
                invite,
                request,
                source: _,
            } => self.on_cancel(now, key, invite, &request),
            TransactionEvent::Ack { request, source: _ } => self.on_ack(now, &request),
            TransactionEvent::Response { key, response } => self.on_response(now, key, response),
            TransactionEvent::Timeout { key } => {
                self.on_client_failure(now, key, TxFailure::Timeout)
            }
            TransactionEvent::TransportError { key } => {
                self.on_client_failure(now, key, TxFailure::Transport)
            }
            TransactionEvent::ServerTimeout { key } => {
                if let Some(call) = self.routes.server_invites.remove(&key) {
                    tracing::debug!(%call, "no ACK for our final response");
                }
            }
            TransactionEvent::Terminated { key } => {
                self.routes.client.remove(&key);
            }
            TransactionEvent::StrayResponse { response, source } => {
                tracing::trace!(status = response.status, %source, "stray response");
            }
        }
    }

    fn on_response(
        &mut self,
        now: Instant,
        key: ClientTxKey,
        response: crate::sip::message::Response,
    ) {
        let Some(owner) = self.routes.client.get(&key).copied() else {
            tracing::debug!(
                status = response.status,
                "response for a forgotten transaction"
            );
            return;
        };
        if response.is_final() && !(owner.is_invite() && response.is_success()) {
            self.routes.client.remove(&key);
        }
        match owner {
            TxOwner::Call(call, purpose) => {
                self.with_call(now, call, |c, env| {
                    c.handle_response(env, purpose, &key, response)
                });
            }
            TxOwner::Line(line) => self.with_registration(now, line, |reg, env| {
                reg.handle_response(env, &key, response)
            }),
        }
    }

    /// Timer B/F or a transport error on one of our client transactions.
    fn on_client_failure(&mut self, now: Instant, key: ClientTxKey, failure: TxFailure) {
        let Some(owner) = self.routes.client.remove(&key) else {
            return;
        };
        match owner {
            TxOwner::Call(call, purpose) => {
                self.with_call(now, call, |c, env| {
                    c.handle_tx_failure(env, purpose, &key, failure)
                });
            }
            TxOwner::Line(line) => {
                self.with_registration(now, line, |reg, env| reg.handle_failure(env, &key))
            }
        }
    }

    /// The services a new call on `line` uses while it is built.
    fn call_env(&mut self, now: Instant, line: usize) -> CallEnv<'_> {
        CallEnv {
            now,
            ua: Ua::new(&self.sip, &self.lines[line]),
            ids: &mut self.ids,
            media: &mut *self.media,
            stopping: self.stopping,
        }
    }

    /// Runs `f` on call `id` with its services, then carries out what it asked.
    fn with_call<R>(
        &mut self,
        now: Instant,
        id: CallId,
        f: impl FnOnce(&mut Call, &mut CallEnv<'_>) -> R,
    ) -> Option<R> {
        let call = self.calls.get_mut(&id)?;
        let mut env = CallEnv {
            now,
            ua: Ua::new(&self.sip, &self.lines[call.line]),
            ids: &mut self.ids,
            media: &mut *self.media,
            stopping: self.stopping,
        };
        let result = f(call, &mut env);
        self.drive_call(now, id);
        Some(result)
    }

    /// Carries out a call's actions, feeds back sends that could not start, delivers its news
    /// to related calls, updates its routes and its deadline, and forgets it once it is
    /// finished.
    fn drive_call(&mut self, now: Instant, id: CallId) {
        let mut failed = Vec::new();
        let mut later = Vec::new();
        while let Some(action) = self.calls.get_mut(&id).and_then(|c| c.poll_action()) {
            match action {
                Action::Send {
                    request,
                    to,
                    purpose,
                } => {
                    let key = ClientTxKey::for_request(&request);
                    match self.txl.send_request(now, *request, to) {
                        Ok(key) => {
                            self.routes.client.insert(key, TxOwner::Call(id, purpose));
                        }
                        Err(err) => {
                            tracing::warn!(%err, "could not start a client transaction");
                            failed.extend(key.map(|k| (purpose, k)));
                        }
                    }
                }
                Action::Respond { tx, response } => {
                    if let Err(err) = self.txl.send_response(now, &tx, *response) {
                        tracing::debug!(call = %id, %err, "could not respond");
                    }
                }
                Action::Raw { to, bytes } => self.txl.send_encoded(to, bytes),
                Action::Event(ProviderEvent::Completion { request, result })
                    if control::Joins::is_internal(request) =>
                {
                    later.push(Later::Internal(request, result))
                }
                Action::Event(event) => self.events.push_back(event),
                Action::Tell { call, news } => later.push(Later::News(call, news)),
                Action::Refer { target } => later.push(Later::Refer(target)),
                Action::Media(command) => self.media_out.push_back(command),
            }
        }
        for (purpose, key) in failed {
            self.with_call(now, id, |c, env| {
                c.handle_tx_failure(env, purpose, &key, TxFailure::Transport)
            });
        }
        self.conference_upkeep(id);
        self.update_call_routes(id);
        self.journal_call(id);
        for item in later {
            match item {
                Later::Internal(request, result) => {
                    self.on_internal_completion(now, request, result)
                }
                Later::News(call, news) => {
                    self.with_call(now, call, |c, env| c.handle_news(env, id, news));
                }
                Later::Refer(target) => self.start_referred_call(now, id, target),
            }
        }
    }

    fn update_call_routes(&mut self, id: CallId) {
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        if call.is_live() {
            self.deadlines.set(Owner::Call(id), call.poll_timeout());
            return;
        }
        self.routes.forget_dialog(call);
        if call.is_finished() {
            self.deadlines.set(Owner::Call(id), None);
            if let Some(call) = self.calls.remove(&id) {
                self.routes.forget_call(&call);
                self.journal_removed(id, &call);
            }
        } else {
            self.deadlines.set(Owner::Call(id), call.poll_timeout());
        }
    }

    /// Runs `f` on line `line`'s registration with its services, then carries out its actions.
    fn with_registration(
        &mut self,
        now: Instant,
        line: usize,
        f: impl FnOnce(&mut Registration, &mut RegEnv<'_>),
    ) {
        let Some(reg) = self.registrations.get_mut(line) else {
            return;
        };
        let mut env = RegEnv {
            now,
            sip: &self.sip,
            line: &mut self.lines[line],
            ids: &mut self.ids,
            stopping: self.stopping,
        };
        f(reg, &mut env);
        self.drive_registration(now, line);
    }

    fn drive_registration(&mut self, now: Instant, line: usize) {
        let mut failed = Vec::new();
        while let Some(action) = self.registrations[line].poll_action() {
            match action {
                RegAction::Send { request, to } => {
                    let key = ClientTxKey::for_request(&request);
                    match self.txl.send_request(now, *request, to) {
                        Ok(key) => {
                            self.routes.client.insert(key, TxOwner::Line(line));
                        }
                        Err(err) => {
                            tracing::warn!(%err, "could not start a REGISTER transaction");
                            failed.extend(key);
                        }
                    }
                }
                RegAction::Raw { to, bytes } => self.txl.send_encoded(to, bytes),
                RegAction::Close(peer) => self.commands.push_back(TransportCommand::Close(peer)),
                RegAction::Event(event) => self.events.push_back(event),
            }
        }
        for key in failed {
            self.with_registration(now, line, |reg, env| reg.handle_failure(env, &key));
        }
        let next = self.registrations[line].poll_timeout();
        self.deadlines.set(Owner::Line(line), next);
    }

    fn new_call_id(&mut self) -> CallId {
        let id = CallId(self.next_call);
        self.next_call += 1;
        id
    }

    /// The line of a device ID that exists now (not one a reload removed).
    fn line_index(&self, device: DeviceId) -> Option<usize> {
        let index = device.0 as usize;
        self.lines
            .get(index)
            .is_some_and(|l| !l.removed)
            .then_some(index)
    }
}
