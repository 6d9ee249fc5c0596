//! Our TAPISRV, sans-I/O: applications, line opens, call handles and privileges, request IDs
//! and LINE_REPLY, fan-out of provider events to owners and monitors, the three notification
//! modes. It talks to a [`LineProvider`] (our TSPI) and never to SIP, and it speaks typed
//! values only ([`Request`] in, [`Output`] out): the wire format is the API layer's business.
//!
//! Ordering promises (docs/api.md): a function's response is queued before any message it
//! causes; a new call's LINE_REPLY(0) precedes its first LINE_CALLSTATE (events of a call that
//! is not yet visible are held back); every app's messages leave in production order (one
//! output queue).
//!
//! Every `handle_*` first fires what is due (lineGetMessage deadlines, the grace periods of kept
//! sessions), so a busy connection cannot starve a waiting app's timeout.
//!
//! Sessions (`sessions`): every message carries its app's `seq`; resumable apps outlive their
//! connection for a grace period and are re-attached by lineResume.

mod address;
mod apps;
mod call_table;
mod calls;
mod control;
mod delivery;
mod digits;
mod events;
mod limits;
mod lines;
mod pending;
mod phones;
mod scope;
mod sessions;
mod state;
pub mod stats;

#[cfg(test)]
mod tests;

// Tables keyed by the gateway's own IDs (counters no peer chooses) hash with Fx, a few
// instructions a lookup instead of SipHash's (docs/performance.md).
use rustc_hash::{FxHashMap, FxHashSet};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::tapi::{
    Answer, CallOp, ConnId, DeviceId, Fault, HCall, HLine, HLineApp, HPhone, LineErr, LineMessage,
    LineProvider, Output, ProviderEvent, ReplyTag, Request, RequestId, Scope, SessionId,
    SessionStats, TapiErr,
};

pub use limits::Limits;
use state::{App, CallHandle, OpenLine, OpenPhone};

/// Settings of TAPISRV.
#[derive(Debug, Clone, Copy)]
pub struct TapisrvConfig {
    /// Messages an event-mode app may leave unfetched before it is shut down; also the bound
    /// of a resumable app's replay buffer and of what a kept app may queue.
    pub max_event_queue: usize,
    /// How long a resumable app is kept after its connection dropped (`api.resume_grace_s`).
    pub resume_grace: Duration,
}

/// What a client connection does, as TAPISRV sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientInput {
    Connected {
        conn: ConnId,
    },
    /// A function call; its response carries `tag`.
    Request {
        conn: ConnId,
        tag: ReplyTag,
        request: Request,
    },
    /// The connection authenticated (the API layer checked the token): from now on it sees
    /// and does what `scope` allows; `tag` is answered `{}`.
    Authenticated {
        conn: ConnId,
        tag: ReplyTag,
        scope: Scope,
    },
    /// A request the front end could not parse: answered in order with the others.
    Rejected {
        conn: ConnId,
        fault: Fault,
    },
    Disconnected {
        conn: ConnId,
    },
}

/// What a function returns synchronously: a result or a LINEERR_.
type FnResult = Result<Answer, LineErr>;

pub struct Tapisrv {
    config: TapisrvConfig,
    conns: FxHashSet<ConnId>,
    apps: FxHashMap<HLineApp, App>,
    lines: FxHashMap<HLine, OpenLine>,
    handles: FxHashMap<HCall, CallHandle>,
    calls: call_table::CallTable,
    pending: pending::PendingTable,
    outputs: VecDeque<Output>,
    next_handle: u32,
    next_request: u32,
    open_order: u64,
    /// Apps whose event queue overflowed, shut down once the current input is handled.
    pending_shutdowns: Vec<HLineApp>,
    /// lineGetMessage deadlines (entries of waiters served meanwhile are skipped when due).
    waiter_deadlines: BinaryHeap<Reverse<(Instant, HLineApp)>>,
    phones: FxHashMap<HPhone, OpenPhone>,
    /// Handset hookswitch mode by device (PHONEHOOKSWITCHMODE_; ONHOOK when absent).
    hookswitch: FxHashMap<DeviceId, u32>,
    /// Live, visible calls per line (NUMCALLS, INUSE*).
    line_counts: FxHashMap<DeviceId, u32>,
    /// While a function is served, the messages it causes wait here for its response.
    deferring: bool,
    deferred: Vec<(HLineApp, LineMessage)>,
    /// phoneSetHookSwitch effects, carried out after its response.
    hook_changes: Vec<phones::HookChange>,
    /// Resumable apps by session ID.
    sessions: HashMap<SessionId, HLineApp>,
    /// Ends of grace periods of kept apps (entries of apps resumed since are skipped).
    session_deadlines: BinaryHeap<Reverse<(Instant, HLineApp)>>,
    stats: SessionStats,
    /// Session IDs: a CSPRNG seeded once from the OS (they are bearer secrets).
    rng: StdRng,
    /// Connections with a scoped token (absent: everything).
    scopes: FxHashMap<ConnId, Scope>,
    limits: Limits,
    counters: stats::TapiCounters,
    limit_log: limits::LimitLog,
    /// lineGatherDigits timeouts: (when, handle, gather id); stale entries are skipped.
    gather_deadlines: BinaryHeap<Reverse<(Instant, HCall, u64)>>,
    next_gather: u64,
    /// The `now` of the input being handled (set by every `handle_*`).
    digit_time: Option<Instant>,
}

impl Tapisrv {
    pub fn new(config: TapisrvConfig) -> Self {
        Tapisrv {
            config,
            conns: FxHashSet::default(),
            apps: FxHashMap::default(),
            lines: FxHashMap::default(),
            handles: FxHashMap::default(),
            calls: Default::default(),
            pending: Default::default(),
            outputs: VecDeque::new(),
            next_handle: 0x10000,
            next_request: 1,
            open_order: 0,
            pending_shutdowns: Vec::new(),
            waiter_deadlines: BinaryHeap::new(),
            phones: FxHashMap::default(),
            hookswitch: FxHashMap::default(),
            line_counts: FxHashMap::default(),
            deferring: false,
            deferred: Vec::new(),
            hook_changes: Vec::new(),
            sessions: HashMap::new(),
            session_deadlines: BinaryHeap::new(),
            stats: SessionStats::default(),
            rng: StdRng::from_os_rng(),
            scopes: FxHashMap::default(),
            limits: Limits::default(),
            counters: Default::default(),
            limit_log: Default::default(),
            gather_deadlines: BinaryHeap::new(),
            next_gather: 0,
            digit_time: None,
        }
    }

    /// Input from a client connection.
    pub fn handle_client(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        input: ClientInput,
    ) {
        self.expire_waiters(now);
        self.expire_sessions(now, provider);
        match input {
            ClientInput::Connected { conn } => {
                self.conns.insert(conn);
            }
            ClientInput::Disconnected { conn } => {
                self.scopes.remove(&conn);
                self.connection_closed(now, provider, conn)
            }
            ClientInput::Authenticated { conn, tag, scope } => {
                if self.conns.contains(&conn) {
                    self.set_scope(conn, scope);
                    self.respond::<TapiErr>(conn, tag, Ok(Answer::Empty));
                }
            }
            ClientInput::Rejected { conn, fault } => {
                if self.conns.contains(&conn) {
                    self.outputs.push_back(Output::Fault { conn, fault });
                }
            }
            ClientInput::Request { conn, tag, request } => {
                if self.conns.contains(&conn) {
                    self.dispatch(now, provider, conn, tag, request);
                }
            }
        }
        self.finish_overflowed(now, provider);
    }

    /// An event the provider reported (our TSPI's completion and LINEEVENT).
    pub fn handle_provider_event(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        event: ProviderEvent,
    ) {
        self.expire_waiters(now);
        self.expire_sessions(now, provider);
        // Requests TAPISRV starts itself here are not any app function's.
        self.pending.serving = "internal";
        self.on_provider_event(now, provider, event);
        self.finish_overflowed(now, provider);
    }

    /// lineGetMessage deadlines and the grace periods of kept sessions.
    pub fn handle_timeout(&mut self, now: Instant, provider: &mut dyn LineProvider) {
        self.expire_waiters(now);
        self.expire_sessions(now, provider);
        self.finish_overflowed(now, provider);
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        let waiter = self.waiter_deadlines.peek().map(|Reverse((at, _))| *at);
        [
            waiter,
            self.next_session_deadline(),
            self.next_gather_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// The gateway is stopping: every open line gets LINE_CLOSE (the provider drops the calls).
    pub fn shutdown(&mut self, _now: Instant, _provider: &mut dyn LineProvider) {
        let mut lines: Vec<HLine> = self.lines.keys().copied().collect();
        lines.sort();
        for line in lines {
            self.force_close_line(line);
        }
    }

    pub fn num_apps(&self) -> usize {
        self.apps.len()
    }

    /// Serves one function: its response is queued first, then whatever it caused.
    fn dispatch(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        tag: ReplyTag,
        request: Request,
    ) {
        self.pending.serving = request.name();
        let admitted = self
            .check_limits(now, conn, &request)
            .and_then(|()| self.scoped_request(provider, conn, request));
        let request = match admitted {
            Ok(request) => request,
            Err(err) => return self.respond(conn, tag, Err::<Answer, _>(err)),
        };
        let result = match request {
            Request::LineGetMessage { app, timeout } => {
                // May answer later: it writes its own response.
                return self.get_message(now, conn, tag, app, timeout, false);
            }
            Request::PhoneGetMessage { app, timeout } => {
                let app = HLineApp(app.0);
                return self.get_message(now, conn, tag, app, timeout, true);
            }
            // They answer, then replay: they write their own response.
            Request::LineResume { session, last_seq } => {
                let function = sessions::ResumeFn::Line;
                let r = sessions::Resume {
                    conn,
                    tag,
                    session,
                    last_seq,
                    function,
                };
                return self.resume(now, provider, r);
            }
            Request::PhoneResume { session, last_seq } => {
                let function = sessions::ResumeFn::Phone;
                let r = sessions::Resume {
                    conn,
                    tag,
                    session,
                    last_seq,
                    function,
                };
                return self.resume(now, provider, r);
            }
            request => {
                self.deferring = true;
                let result = self.serve(now, provider, conn, request);
                self.deferring = false;
                result.map(|answer| self.scoped_answer(provider, conn, answer))
            }
        };
        self.respond(conn, tag, result);
        for (app, message) in std::mem::take(&mut self.deferred) {
            self.deliver(app, message);
        }
        for change in std::mem::take(&mut self.hook_changes) {
            self.apply_hook_change(now, provider, change);
        }
    }

    fn serve(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        request: Request,
    ) -> Result<Answer, TapiErr> {
        match request {
            Request::PhoneInitializeEx { .. }
            | Request::PhoneShutdown { .. }
            | Request::PhoneNegotiateApiVersion { .. }
            | Request::PhoneGetDevCaps { .. }
            | Request::PhoneOpen { .. }
            | Request::PhoneClose { .. }
            | Request::PhoneSetStatusMessages { .. }
            | Request::PhoneGetHookSwitch { .. }
            | Request::PhoneGetStatus { .. }
            | Request::PhoneSetHookSwitch { .. }
            | Request::PhoneGetMessage { .. } => self
                .serve_phone(now, provider, conn, request)
                .map_err(Into::into),
            request => self
                .serve_line(now, provider, conn, request)
                .map_err(Into::into),
        }
    }

    fn serve_phone(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        request: Request,
    ) -> phones::PhoneResult {
        match request {
            Request::PhoneInitializeEx {
                app_name,
                api_version,
                options,
                completion_key,
                resumable,
            } => self.phone_initialize_ex(
                provider,
                conn,
                apps::Init {
                    app_name,
                    api_version,
                    options,
                    completion_key,
                    resumable,
                },
            ),
            Request::PhoneShutdown { app } => self.phone_shutdown(now, provider, conn, app),
            Request::PhoneNegotiateApiVersion {
                app,
                device,
                low,
                high,
            } => self.phone_negotiate(provider, conn, app, device, low, high),
            Request::PhoneGetDevCaps {
                app,
                device,
                api_version,
            } => self.phone_get_dev_caps(provider, conn, app, device, api_version),
            Request::PhoneOpen {
                app,
                device,
                api_version,
                callback_instance,
                privilege,
            } => self.phone_open(
                provider,
                conn,
                phones::PhoneOpenRequest {
                    app,
                    device,
                    api_version,
                    callback_instance,
                    privilege,
                },
            ),
            Request::PhoneClose { phone } => self.phone_close_fn(conn, phone),
            Request::PhoneSetStatusMessages {
                phone,
                phone_states,
                ..
            } => self.phone_set_status_messages(conn, phone, phone_states),
            Request::PhoneGetHookSwitch { phone } => self.phone_get_hook_switch(conn, phone),
            Request::PhoneGetStatus { phone } => self.phone_get_status(conn, phone),
            Request::PhoneSetHookSwitch {
                phone,
                devices,
                mode,
            } => self.phone_set_hook_switch(conn, phone, devices, mode),
            _ => Err(crate::tapi::PHONEERR_OPERATIONUNAVAIL),
        }
    }

    fn serve_line(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        request: Request,
    ) -> FnResult {
        match request {
            Request::LineInitializeEx {
                app_name,
                api_version,
                options,
                completion_key,
                resumable,
            } => self.line_initialize_ex(
                provider,
                conn,
                apps::Init {
                    app_name,
                    api_version,
                    options,
                    completion_key,
                    resumable,
                },
            ),
            Request::LineShutdown { app } => self.line_shutdown(now, provider, conn, app),
            Request::LineNegotiateApiVersion {
                app,
                device,
                low,
                high,
            } => self.line_negotiate(provider, conn, app, device, low, high),
            Request::LineGetDevCaps {
                app,
                device,
                api_version,
            } => self.line_get_dev_caps(provider, conn, app, device, api_version),
            Request::LineOpen {
                app,
                device,
                api_version,
                callback_instance,
                privileges,
                media_modes,
            } => self.line_open(
                now,
                provider,
                conn,
                lines::OpenRequest {
                    app,
                    device,
                    api_version,
                    callback_instance,
                    privileges,
                    media_modes,
                },
            ),
            Request::LineClose { line } => self.line_close(now, provider, conn, line),
            Request::LineSetStatusMessages {
                line,
                line_states,
                address_states,
            } => self.line_set_status_messages(conn, line, line_states, address_states),
            Request::LineGetLineDevStatus { line } => {
                self.line_get_line_dev_status(provider, conn, line)
            }
            Request::LineGetAddressCaps {
                app,
                device,
                address,
                api_version,
            } => self.line_get_address_caps(provider, conn, app, device, address, api_version),
            Request::LineGetAddressStatus { line, address } => {
                self.line_get_address_status(provider, conn, line, address)
            }
            Request::LineGetAddressId {
                line,
                mode,
                address,
            } => self.line_get_address_id(provider, conn, line, mode, &address),
            Request::LineGetNewCalls {
                line,
                address,
                select,
            } => self.line_get_new_calls(conn, line, address, select),
            Request::LineGetId {
                select,
                line,
                address,
                call,
                device_class,
            } => self.line_get_id(conn, select, line, address, call, &device_class),
            Request::Authenticate { .. } => Ok(Answer::Empty),
            request => self.serve_call(now, provider, conn, request),
        }
    }

    fn serve_call(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        request: Request,
    ) -> FnResult {
        match request {
            Request::LineMakeCall { line, dest } => {
                self.line_make_call(now, provider, conn, line, &dest)
            }
            Request::LineAccept { call } => {
                self.call_request(now, provider, conn, call, CallOp::Accept)
            }
            Request::LineAnswer { call } => {
                self.call_request(now, provider, conn, call, CallOp::Answer)
            }
            Request::LineDrop { call } => {
                self.call_request(now, provider, conn, call, CallOp::Drop)
            }
            Request::LineRedirect { call, dest } => {
                self.call_request(now, provider, conn, call, CallOp::Redirect(dest))
            }
            Request::LineDeallocateCall { call } => {
                self.line_deallocate_call(now, provider, conn, call)
            }
            Request::LineGetCallInfo { call } => self.line_get_call_info(provider, conn, call),
            Request::LineGetCallStatus { call } => self.line_get_call_status(provider, conn, call),
            Request::LineSetCallPrivilege { call, privilege } => {
                self.line_set_call_privilege(conn, call, privilege)
            }
            Request::LineHold { call } => {
                self.call_request(now, provider, conn, call, CallOp::Hold)
            }
            Request::LineUnhold { call } => {
                self.call_request(now, provider, conn, call, CallOp::Unhold)
            }
            Request::LineBlindTransfer { call, dest } => {
                self.call_request(now, provider, conn, call, CallOp::BlindTransfer(dest))
            }
            Request::LineDial { call, dest } => {
                self.call_request(now, provider, conn, call, CallOp::Dial(dest))
            }
            Request::LineSwapHold { active, held } => {
                self.line_swap_hold(now, provider, conn, active, held)
            }
            Request::LineSetupTransfer { call } => {
                self.line_setup_transfer(now, provider, conn, call)
            }
            Request::LineCompleteTransfer {
                call,
                consult,
                mode,
            } => self.line_complete_transfer(now, provider, conn, call, consult, mode),
            Request::LineForward {
                line,
                all_addresses: _,
                forwards,
                num_rings_no_answer,
            } => self.line_forward(now, provider, conn, line, &forwards, num_rings_no_answer),
            request => self.serve_media(now, provider, conn, request),
        }
    }

    fn serve_media(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        request: Request,
    ) -> FnResult {
        match request {
            Request::LineMonitorDigits { call, digit_modes } => {
                self.line_monitor_digits(conn, call, digit_modes)
            }
            Request::LineGatherDigits {
                call,
                digit_modes,
                num_digits,
                term_digits,
                first_timeout,
                inter_timeout,
            } => self.line_gather_digits(
                now,
                conn,
                call,
                digits::GatherRequest {
                    digit_modes,
                    num_digits,
                    term_digits,
                    first_timeout,
                    inter_timeout,
                },
            ),
            Request::LineGenerateDigits {
                call,
                digit_mode,
                digits,
                duration,
            } => {
                self.line_generate_digits(now, provider, conn, call, (digit_mode, digits, duration))
            }
            Request::LineGenerateTone {
                call,
                tone_mode,
                duration,
            } => self.line_generate_tone(now, provider, conn, call, tone_mode, duration),
            Request::MediaPlay { call, file, looped } => {
                // mediaPlay / mediaRecord: asynchronous, LINE_REPLY when they end.
                self.call_request(now, provider, conn, call, CallOp::Play { file, looped })
            }
            Request::MediaRecord {
                call,
                file,
                max_ms,
                silence_ms,
            } => {
                let op = CallOp::Record {
                    file,
                    max_ms,
                    silence_ms,
                };
                self.call_request(now, provider, conn, call, op)
            }
            Request::MediaStop { call } => self.media_stop(now, provider, conn, call),
            Request::LineAddToConference {
                conf_call,
                add_call,
            } => self.line_add_to_conference(now, provider, conn, conf_call, add_call),
            Request::LineSetupConference { call } => {
                self.line_setup_conference(now, provider, conn, call)
            }
            Request::LinePrepareAddToConference { conf_call } => {
                self.line_prepare_add_to_conference(now, provider, conn, conf_call)
            }
            Request::LineRemoveFromConference { call } => {
                self.call_request(now, provider, conn, call, CallOp::RemoveFromConference)
            }
            _ => Err(crate::tapi::LINEERR_OPERATIONUNAVAIL),
        }
    }

    fn new_handle(&mut self) -> u32 {
        self.next_handle = self.next_handle.wrapping_add(1).max(0x10000);
        self.next_handle
    }

    /// A positive request ID not pending now (0x7FFFFFFF wraps to 1).
    fn new_request(&mut self) -> RequestId {
        loop {
            let id = RequestId(self.next_request);
            self.next_request = if self.next_request >= 0x7FFF_FFFF {
                1
            } else {
                self.next_request + 1
            };
            if !self.pending.contains_key(&id) {
                return id;
            }
        }
    }
}
