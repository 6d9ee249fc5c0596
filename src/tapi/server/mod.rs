//! Our TAPISRV, sans-I/O: applications, line opens, call handles and privileges, request IDs
//! and LINE_REPLY, fan-out of provider events to owners and monitors, the three notification
//! modes. It talks to a [`LineProvider`] (our TSPI) and never to SIP.
//!
//! Ordering promises (docs/api.md): a function's response is queued before any message it
//! causes; a new call's LINE_REPLY(0) precedes its first LINE_CALLSTATE (events of a call that
//! is not yet visible are held back); every app's messages leave in production order (one
//! output queue).

mod apps;
mod calls;
mod delivery;
mod events;
mod lines;
mod state;

#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Instant;

use serde_json::Value;

use crate::api::{ApiCall, ApiEvent, ApiOutput, ConnId};
use crate::tapi::{
    CallId, HCall, HLine, HLineApp, LineErr, LineProvider, ProviderEvent, RequestId,
};

use state::{App, CallHandle, CallRecord, OpenLine, Pending};

/// Settings of TAPISRV.
#[derive(Debug, Clone, Copy)]
pub struct TapisrvConfig {
    /// Messages an event-mode app may leave unfetched before it is shut down.
    pub max_event_queue: usize,
}

/// What a function returns synchronously: a result object or a LINEERR_.
type FnResult = Result<Value, LineErr>;

pub struct Tapisrv {
    config: TapisrvConfig,
    conns: HashSet<ConnId>,
    apps: HashMap<HLineApp, App>,
    lines: HashMap<HLine, OpenLine>,
    handles: HashMap<HCall, CallHandle>,
    calls: HashMap<CallId, CallRecord>,
    pending: HashMap<RequestId, Pending>,
    outputs: VecDeque<ApiOutput>,
    next_handle: u32,
    next_request: u32,
    open_order: u64,
    /// Apps whose event queue overflowed, shut down once the current input is handled.
    pending_shutdowns: Vec<HLineApp>,
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
        }
    }

    pub fn handle_api(&mut self, now: Instant, provider: &mut dyn LineProvider, event: ApiEvent) {
        match event {
            ApiEvent::Opened { conn } => {
                self.conns.insert(conn);
            }
            ApiEvent::Closed { conn } => self.connection_closed(now, provider, conn),
            ApiEvent::Invalid { conn, line } => {
                if self.conns.contains(&conn) {
                    self.send(conn, line);
                }
            }
            ApiEvent::Request { conn, id, call } => {
                if self.conns.contains(&conn) {
                    self.dispatch(now, provider, conn, id, call);
                }
            }
        }
        self.finish_overflowed(now, provider);
    }

    pub fn handle_provider_event(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        event: ProviderEvent,
    ) {
        self.on_provider_event(now, provider, event);
        self.finish_overflowed(now, provider);
    }

    /// lineGetMessage deadlines.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.expire_waiters(now);
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.apps
            .values()
            .flat_map(|a| a.waiters.iter().filter_map(|w| w.deadline))
            .min()
    }

    pub fn poll_output(&mut self) -> Option<ApiOutput> {
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
        id: Value,
        call: ApiCall,
    ) {
        let result = match call {
            ApiCall::LineGetMessage(p) => {
                // May answer later: it writes its own response.
                self.line_get_message(now, conn, id, p);
                return;
            }
            ApiCall::LineInitializeEx(p) => self.line_initialize_ex(provider, conn, p),
            ApiCall::LineShutdown(p) => self.line_shutdown(now, provider, conn, p),
            ApiCall::LineNegotiateApiVersion(p) => self.line_negotiate(provider, conn, p),
            ApiCall::LineGetDevCaps(p) => self.line_get_dev_caps(provider, conn, p),
            ApiCall::LineOpen(p) => self.line_open(now, provider, conn, p),
            ApiCall::LineClose(p) => self.line_close(now, provider, conn, p),
            ApiCall::LineSetStatusMessages(p) => self.line_set_status_messages(conn, p),
            ApiCall::LineGetLineDevStatus(p) => self.line_get_line_dev_status(provider, conn, p),
            ApiCall::LineMakeCall(p) => self.line_make_call(now, provider, conn, p),
            ApiCall::LineAccept(p) => {
                self.call_request(now, provider, conn, p.h_call, CallOp::Accept)
            }
            ApiCall::LineAnswer(p) => {
                self.call_request(now, provider, conn, p.h_call, CallOp::Answer)
            }
            ApiCall::LineDrop(p) => self.call_request(now, provider, conn, p.h_call, CallOp::Drop),
            ApiCall::LineRedirect(p) => self.call_request(
                now,
                provider,
                conn,
                p.h_call,
                CallOp::Redirect(p.dest_address),
            ),
            ApiCall::LineDeallocateCall(p) => self.line_deallocate_call(now, provider, conn, p),
            ApiCall::LineGetCallInfo(p) => self.line_get_call_info(provider, conn, p),
            ApiCall::LineGetCallStatus(p) => self.line_get_call_status(conn, p),
            ApiCall::LineSetCallPrivilege(p) => {
                self.line_set_call_privilege(now, provider, conn, p)
            }
        };
        self.respond(conn, &id, result);
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

/// The asynchronous call functions that share validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CallOp {
    Accept,
    Answer,
    Drop,
    Redirect(String),
}
