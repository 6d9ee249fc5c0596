//! Call control functions that take more than one call or the line: lineSwapHold,
//! lineSetupTransfer (its consultation call is a new handle, held back until LINE_REPLY(0) as
//! lineMakeCall's is), lineCompleteTransfer (TRANSFER and CONFERENCE), the conference
//! functions (lineSetupConference, linePrepareAddToConference, lineAddToConference) and
//! lineForward, with the bookkeeping of requests and new call handles they share.

use std::time::Instant;

use crate::tapi::{
    Answer, CallId, CallPrivilege, ConnId, ForwardEntry, HCall, HLine, HLineApp, LineProvider,
    RequestId,
};

use super::state::{CallRecord, Pending, PendingKind};
use super::{FnResult, Tapisrv};

impl Tapisrv {
    pub(super) fn line_swap_hold(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        active: HCall,
        held: HCall,
    ) -> FnResult {
        let (app, line, active) = self.owned(conn, active)?;
        let (_, _, held) = self.owned(conn, held)?;
        let request = self.new_request();
        provider.swap_hold(now, request, active, held)?;
        self.pend(now, request, app, line, PendingKind::Call);
        Ok(Answer::Request(request))
    }

    pub(super) fn line_setup_transfer(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        call: HCall,
    ) -> FnResult {
        let (app, line, call) = self.owned(conn, call)?;
        let request = self.new_request();
        let consult = provider.setup_transfer(now, request, call)?;
        let handle = self.new_owned_call(now, request, app, line, consult);
        Ok(Answer::SetupTransfer {
            request,
            consult: handle,
        })
    }

    pub(super) fn line_complete_transfer(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        call: HCall,
        consult: HCall,
        mode: u32,
    ) -> FnResult {
        let (app, line, call) = self.owned(conn, call)?;
        let (_, _, consult) = self.owned(conn, consult)?;
        let request = self.new_request();
        if mode == crate::tapi::consts::LINETRANSFERMODE_CONFERENCE {
            let conf = provider.conference_transfer(now, request, call, consult)?;
            let handle = self.new_owned_call(now, request, app, line, conf);
            return Ok(Answer::Conference {
                request,
                conf: handle,
            });
        }
        provider.complete_transfer(now, request, call, consult, mode)?;
        self.pend(now, request, app, line, PendingKind::Call);
        Ok(Answer::Request(request))
    }

    pub(super) fn line_setup_conference(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        call: HCall,
    ) -> FnResult {
        let (app, line, call) = self.owned(conn, call)?;
        let request = self.new_request();
        let (conf, consult) = provider.setup_conference(now, request, call)?;
        let handles = [conf, consult].map(|id| self.owned_handle(app, line, id));
        let kind = PendingKind::MakeTwo(handles[0], handles[1]);
        self.pend(now, request, app, line, kind);
        Ok(Answer::SetupConference {
            request,
            conf: handles[0],
            consult: handles[1],
        })
    }

    pub(super) fn line_prepare_add_to_conference(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        conf: HCall,
    ) -> FnResult {
        let (app, line, conf) = self.owned(conn, conf)?;
        let request = self.new_request();
        let add = provider.prepare_add_to_conference(now, request, conf)?;
        let handle = self.new_owned_call(now, request, app, line, add);
        Ok(Answer::PrepareAdd {
            request,
            add: handle,
        })
    }

    pub(super) fn line_add_to_conference(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        conf: HCall,
        add: HCall,
    ) -> FnResult {
        let (app, line, conf) = self.owned(conn, conf)?;
        let (_, _, add) = self.owned(conn, add)?;
        let request = self.new_request();
        provider.add_to_conference(now, request, conf, add)?;
        self.pend(now, request, app, line, PendingKind::Call);
        Ok(Answer::Request(request))
    }

    pub(super) fn line_forward(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        line: HLine,
        forwards: &[ForwardEntry],
        num_rings_no_answer: u32,
    ) -> FnResult {
        let line = self.line_of(conn, line)?;
        let (app, device) = {
            let l = &self.lines[&line];
            (l.app, l.device)
        };
        let request = self.new_request();
        provider.forward(now, request, device, forwards, num_rings_no_answer)?;
        self.pend(now, request, app, line, PendingKind::Call);
        Ok(Answer::Request(request))
    }

    /// A request waiting for its LINE_REPLY to `app`.
    pub(super) fn pend(
        &mut self,
        now: Instant,
        request: RequestId,
        app: HLineApp,
        line: HLine,
        kind: PendingKind,
    ) {
        self.pending
            .insert(now, request, Pending { app, line, kind });
    }

    /// The owner's handle for a call the provider just created on `line`.
    fn owned_handle(&mut self, app: HLineApp, line: HLine, id: CallId) -> HCall {
        let device = self.lines[&line].device;
        self.calls.insert(id, CallRecord::new(device, false));
        self.add_handle(id, app, line, CallPrivilege::Owner)
    }

    /// [`Self::owned_handle`], held back until its request's LINE_REPLY(0) as lineMakeCall's is.
    pub(super) fn new_owned_call(
        &mut self,
        now: Instant,
        request: RequestId,
        app: HLineApp,
        line: HLine,
        id: CallId,
    ) -> HCall {
        let handle = self.owned_handle(app, line, id);
        self.pend(now, request, app, line, PendingKind::MakeCall(handle));
        handle
    }
}
