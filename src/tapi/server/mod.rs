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
//! Every `handle_*` first fires what is due (lineGetMessage deadlines), so a busy connection
//! cannot starve a waiting app's timeout.

mod apps;
mod calls;
mod control;
mod delivery;
mod events;
mod lines;
mod state;

#[cfg(test)]
mod tests;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::time::Instant;

use crate::tapi::{
    Answer, CallId, CallOp, ConnId, Fault, HCall, HLine, HLineApp, LineErr, LineProvider, Output,
    ProviderEvent, ReplyTag, Request, RequestId,
};

use state::{App, CallHandle, CallRecord, OpenLine, Pending};

/// Settings of TAPISRV.
#[derive(Debug, Clone, Copy)]
pub struct TapisrvConfig {
    /// Messages an event-mode app may leave unfetched before it is shut down.
    pub max_event_queue: usize,
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
    conns: HashSet<ConnId>,
    apps: HashMap<HLineApp, App>,
    lines: HashMap<HLine, OpenLine>,
    handles: HashMap<HCall, CallHandle>,
    calls: HashMap<CallId, CallRecord>,
    pending: HashMap<RequestId, Pending>,
    outputs: VecDeque<Output>,
    next_handle: u32,
    next_request: u32,
    open_order: u64,
    /// Apps whose event queue overflowed, shut down once the current input is handled.
    pending_shutdowns: Vec<HLineApp>,
    /// lineGetMessage deadlines (entries of waiters served meanwhile are skipped when due).
    waiter_deadlines: BinaryHeap<Reverse<(Instant, HLineApp)>>,
}

impl Tapisrv {
    pub fn new(config: TapisrvConfig) -> Self {
        Tapisrv {
            config,
            conns: HashSet::new(),
            apps: HashMap::new(),
            lines: HashMap::new(),
            handles: HashMap::new(),
            calls: HashMap::new(),
            pending: HashMap::new(),
            outputs: VecDeque::new(),
            next_handle: 0x10000,
            next_request: 1,
            open_order: 0,
            pending_shutdowns: Vec::new(),
            waiter_deadlines: BinaryHeap::new(),
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
        match input {
            ClientInput::Connected { conn } => {
                self.conns.insert(conn);
            }
            ClientInput::Disconnected { conn } => self.connection_closed(now, provider, conn),
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
        self.on_provider_event(now, provider, event);
        self.finish_overflowed(now, provider);
    }

    /// lineGetMessage deadlines.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.expire_waiters(now);
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.waiter_deadlines.peek().map(|Reverse((at, _))| *at)
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

    fn dispatch(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        tag: ReplyTag,
        request: Request,
    ) {
        let result = match request {
            Request::LineGetMessage { app, timeout } => {
                // May answer later: it writes its own response.
                self.line_get_message(now, conn, tag, app, timeout);
                return;
            }
            Request::LineInitializeEx {
                app_name,
                api_version,
                options,
                completion_key,
            } => self.line_initialize_ex(
                provider,
                conn,
                app_name,
                api_version,
                options,
                completion_key,
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
        };
        self.respond(conn, tag, result);
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
