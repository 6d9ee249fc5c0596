//! Reporting to TAPISRV: completions, call states (once per change), call info changes, and
//! the end of a call (pending requests resolved, DISCONNECTED then IDLE, media released).

use crate::tapi::{
    CallInfoStates, CallState, DisconnectMode, LineErr, ProviderEvent, RequestId,
    LINEERR_OPERATIONFAILED,
};

use super::{Action, Call, CallEnv, Op, Phase};

impl Call {
    /// ASYNC_COMPLETION for `request`.
    pub(super) fn complete(&mut self, request: RequestId, result: Result<(), LineErr>) {
        self.push(Action::Event(ProviderEvent::Completion { request, result }));
    }

    /// Reports `state` unless it is the call's current one (a retransmitted 180 changes
    /// nothing) or TAPI no longer holds the call.
    pub(super) fn report_state(&mut self, state: CallState) {
        let state = match (state, self.conference) {
            (CallState::Connected(_), Some(conf)) => CallState::Conferenced(Some(conf)),
            (state, _) => state,
        };
        if self.state == Some(state) || self.released {
            return;
        }
        self.state = Some(state);
        let call = self.id;
        self.push(Action::Event(ProviderEvent::CallState { call, state }));
    }

    pub(super) fn report_info(&mut self, changed: CallInfoStates) {
        if !self.released {
            let call = self.id;
            self.push(Action::Event(ProviderEvent::CallInfo { call, changed }));
        }
    }

    /// The call has nothing left on the network. Pending requests are resolved (a drop or
    /// redirect succeeded, an answer failed), then DISCONNECTED(`mode`) when the far end or the
    /// network ended it, then IDLE. A lineMakeCall still pending fails with no call states.
    pub(super) fn end(&mut self, env: &mut CallEnv<'_>, mode: Option<DisconnectMode>) {
        if self.phase == Phase::Ended {
            return;
        }
        self.phase = Phase::Ended;
        self.uas_2xx = None;
        self.reinvite = None;
        self.refer_out = None;
        self.refer_in = None;
        let pending = std::mem::take(&mut self.pending);
        let silent = pending.iter().any(|(_, op)| *op == Op::MakeCall);
        for (request, op) in pending {
            let result = match op {
                Op::Drop | Op::Redirect => Ok(()),
                Op::Answer | Op::MakeCall | Op::Dial | Op::Hold | Op::Unhold | Op::Transfer => {
                    Err(LINEERR_OPERATIONFAILED)
                }
            };
            self.complete(request, result);
        }
        if silent {
            // No call states ever went out for it; nothing to report.
            self.state = Some(CallState::Idle);
        }
        if let Some(mode) = mode.filter(|_| !self.transferred) {
            self.report_state(CallState::Disconnected(mode));
        }
        self.report_state(CallState::Idle);
        self.media.release(env.media);
        self.tell_original_of_end();
    }
}
