//! Reporting to TAPISRV: completions, call states (once per change), and the end of a call
//! (pending requests resolved, DISCONNECTED then IDLE, media and mappings released).

use crate::tapi::consts::*;
use crate::tapi::{CallId, LineErr, ProviderEvent, RequestId, LINEERR_OPERATIONFAILED};

use super::call::{Call, Op, Phase};
use super::SipProvider;

impl SipProvider {
    pub(super) fn complete(&mut self, request: RequestId, result: Result<(), LineErr>) {
        self.events
            .push_back(ProviderEvent::Completion { request, result });
    }

    /// Reports `state` unless it is the call's current one (a retransmitted 180 changes nothing).
    pub(super) fn report_state(&mut self, call: CallId, state: u32, mode: u32) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if c.tapi_state == state || c.released {
            return;
        }
        c.tapi_state = state;
        self.events
            .push_back(ProviderEvent::CallState { call, state, mode });
    }

    pub(super) fn report_info(&mut self, call: CallId, changed: u32) {
        if self.calls.get(&call).is_some_and(|c| !c.released) {
            self.events
                .push_back(ProviderEvent::CallInfo { call, changed });
        }
    }

    /// The call has nothing left on the network. Pending requests are resolved (a drop or
    /// redirect succeeded, an answer failed), then DISCONNECTED(`mode`) when the far end or the
    /// network ended it, then IDLE. A lineMakeCall still pending fails with no call states.
    pub(super) fn end_call(&mut self, call: CallId, mode: Option<u32>) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if c.phase == Phase::Ended {
            return;
        }
        c.phase = Phase::Ended;
        c.uas_2xx = None;
        c.cancel_deadline = None;
        let pending = std::mem::take(&mut c.pending);
        let silent = pending.iter().any(|(_, op)| *op == Op::MakeCall);
        for (request, op) in pending {
            let result = match op {
                Op::Drop | Op::Redirect => Ok(()),
                Op::Answer | Op::MakeCall => Err(LINEERR_OPERATIONFAILED),
            };
            self.complete(request, result);
        }
        if let Some(c) = self.calls.get_mut(&call) {
            if silent {
                // No call states ever went out for it; nothing to report.
                c.tapi_state = LINECALLSTATE_IDLE;
            }
        }
        if let Some(mode) = mode {
            self.report_state(call, LINECALLSTATE_DISCONNECTED, mode);
        }
        self.report_state(call, LINECALLSTATE_IDLE, 0);
        self.release_resources(call);
        if self.calls.get(&call).is_some_and(|c| c.released) {
            if let Some(c) = self.calls.remove(&call) {
                self.forget_call(c);
            }
        }
    }

    /// Frees the media lease and the dialog / transaction mappings of an ended call.
    fn release_resources(&mut self, call: CallId) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if let Some(lease) = c.media.take() {
            self.media.release(lease);
        }
        let key = (c.dialog.call_id.clone(), c.dialog.local_tag.clone());
        let server_tx = c.server_tx.take();
        self.dialogs.remove(&key);
        if let Some(tx) = server_tx {
            self.server_invites.remove(&tx);
        }
    }

    /// Drops every trace of a call TAPI no longer holds.
    pub(super) fn forget_call(&mut self, mut call: Box<Call>) {
        if let Some(lease) = call.media.take() {
            self.media.release(lease);
        }
        let key = (call.dialog.call_id.clone(), call.dialog.local_tag.clone());
        if self.dialogs.get(&key) == Some(&call.id) {
            self.dialogs.remove(&key);
        }
        if let Some(tx) = call.server_tx.take() {
            self.server_invites.remove(&tx);
        }
        if let Some(tx) = call.invite_tx.take() {
            self.client_txs.remove(&tx);
        }
    }
}
