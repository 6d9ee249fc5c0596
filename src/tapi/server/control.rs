//! Call control functions that take more than one call or the line: lineSwapHold,
//! lineSetupTransfer (its consultation call is a new handle, held back until LINE_REPLY(0) as
//! lineMakeCall's is), lineCompleteTransfer, lineForward.

use std::time::Instant;

use crate::tapi::{Answer, CallPrivilege, ConnId, ForwardEntry, HCall, HLine, LineProvider};

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
        self.pending.insert(
            now,
            request,
            Pending {
                app,
                line,
                kind: PendingKind::Call,
            },
        );
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
        let device = self.lines[&line].device;
        self.calls.insert(consult, CallRecord::new(device, false));
        let handle = self.add_handle(consult, app, line, CallPrivilege::Owner);
        self.pending.insert(
            now,
            request,
            Pending {
                app,
                line,
                kind: PendingKind::MakeCall(handle),
            },
        );
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
            let device = self.lines[&line].device;
            self.calls.insert(conf, CallRecord::new(device, false));
            let handle = self.add_handle(conf, app, line, CallPrivilege::Owner);
            self.pending.insert(
                now,
                request,
                Pending {
                    app,
                    line,
                    kind: PendingKind::MakeCall(handle),
                },
            );
            return Ok(Answer::Conference {
                request,
                conf: handle,
            });
        }
        provider.complete_transfer(now, request, call, consult, mode)?;
        self.pending.insert(
            now,
            request,
            Pending {
                app,
                line,
                kind: PendingKind::Call,
            },
        );
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
        let device = self.lines[&line].device;
        let mut handles = [HCall(0); 2];
        for (slot, id) in handles.iter_mut().zip([conf, consult]) {
            self.calls.insert(id, CallRecord::new(device, false));
            *slot = self.add_handle(id, app, line, CallPrivilege::Owner);
        }
        self.pending.insert(
            now,
            request,
            Pending {
                app,
                line,
                kind: PendingKind::MakeTwo(handles[0], handles[1]),
            },
        );
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
        let device = self.lines[&line].device;
        self.calls.insert(add, CallRecord::new(device, false));
        let handle = self.add_handle(add, app, line, CallPrivilege::Owner);
        self.pending.insert(
            now,
            request,
            Pending {
                app,
                line,
                kind: PendingKind::MakeCall(handle),
            },
        );
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
        self.pending.insert(
            now,
            request,
            Pending {
                app,
                line,
                kind: PendingKind::Call,
            },
        );
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
        self.pending.insert(
            now,
            request,
            Pending {
                app,
                line,
                kind: PendingKind::Call,
            },
        );
        Ok(Answer::Request(request))
    }
}
