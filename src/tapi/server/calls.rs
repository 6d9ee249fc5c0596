//! Call functions: lineMakeCall, the asynchronous call functions (owner only),
//! lineDeallocateCall, lineGetCallInfo, lineGetCallStatus, lineSetCallPrivilege.

use std::time::Instant;

use crate::tapi::consts::*;
use crate::tapi::{
    Answer, CallFeatures, CallId, CallInfoAnswer, CallInfoStates, CallOp, CallPrivilege, CallState,
    CallStatusAnswer, ConnId, HCall, HLine, HLineApp, LineErr, LineMessage, LineProvider,
    LINEERR_INVALCALLHANDLE, LINEERR_INVALCALLPRIVILEGE, LINEERR_NOTOWNER,
};

use super::state::{Pending, PendingKind};
use super::{FnResult, Tapisrv};

impl Tapisrv {
    pub(super) fn line_make_call(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        line: HLine,
        dest: &str,
    ) -> FnResult {
        let line = self.line_of(conn, line)?;
        let (app, device) = {
            let l = &self.lines[&line];
            (l.app, l.device)
        };
        let request = self.new_request();
        let call = provider.make_call(now, request, device, dest)?;
        let handle = self.new_owned_call(now, request, app, line, call);
        Ok(Answer::MadeCall {
            request,
            call: handle,
        })
    }

    /// An owner handle of this connection's app, as a call function needs it:
    /// (app, line, call).
    pub(super) fn owned(
        &self,
        conn: ConnId,
        handle: HCall,
    ) -> Result<(HLineApp, HLine, CallId), LineErr> {
        let handle = self.call_of(conn, handle)?;
        let h = &self.handles[&handle];
        // A monitor-only token acts on no call, whatever handle it holds.
        if h.privilege != CallPrivilege::Owner || !self.may_own(conn) {
            return Err(LINEERR_NOTOWNER);
        }
        Ok((h.app, h.line, h.call))
    }

    /// The call handle, if it belongs to an app of this connection and its call is visible.
    pub(super) fn call_of(&self, conn: ConnId, handle: HCall) -> Result<HCall, LineErr> {
        let h = self.handles.get(&handle).ok_or(LINEERR_INVALCALLHANDLE)?;
        let mine = self.apps.get(&h.app).is_some_and(|a| a.on(conn));
        let visible = self.calls.get(&h.call).is_some_and(|c| c.visible);
        if mine && visible {
            Ok(h.handle)
        } else {
            Err(LINEERR_INVALCALLHANDLE)
        }
    }

    pub(super) fn call_request(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        handle: HCall,
        op: CallOp,
    ) -> FnResult {
        let (app, line, call) = self.owned(conn, handle)?;
        let request = self.new_request();
        provider.call_op(now, request, call, op)?;
        self.pend(now, request, app, line, PendingKind::Call);
        Ok(Answer::Request(request))
    }

    pub(super) fn line_deallocate_call(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        handle: HCall,
    ) -> FnResult {
        let handle = self.call_of(conn, handle)?;
        // TAPI 2.x: a live call its sole owner deallocates is dropped first.
        self.release_handle(now, provider, handle, true);
        Ok(Answer::Empty)
    }

    /// Frees one app's handle. With `drop_sole`, a live call this handle alone owned is
    /// dropped; the provider forgets the call when its last handle goes.
    pub(super) fn release_handle(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        handle: HCall,
        drop_sole: bool,
    ) {
        let Some(h) = self.handles.remove(&handle) else {
            return;
        };
        let Some(rec) = self.calls.get_mut(&h.call) else {
            return;
        };
        rec.handles.retain(|x| *x != handle);
        let live = rec.is_live();
        if rec.handles.is_empty() {
            self.count_call(h.call, false);
            self.calls.remove(&h.call);
            provider.close_call(now, h.call);
            return;
        }
        let other_owner = self.owners(h.call) > 0;
        if drop_sole && live && h.privilege == CallPrivilege::Owner && !other_owner {
            self.internal_drop(now, provider, h.call);
        }
        if live {
            let bits = match h.privilege {
                CallPrivilege::Owner => CallInfoStates::NUMOWNERDECR,
                CallPrivilege::Monitor => CallInfoStates::NUMMONITORS,
            };
            self.notify_call_info(h.call, None, bits);
        }
    }

    /// A drop no app asked for (its sole owner left while monitors stay): no LINE_REPLY.
    fn internal_drop(&mut self, now: Instant, provider: &mut dyn LineProvider, call: CallId) {
        let request = self.new_request();
        if provider.call_op(now, request, call, CallOp::Drop).is_ok() {
            self.pending.insert(
                now,
                request,
                Pending {
                    app: HLineApp(0),
                    line: HLine(0),
                    kind: PendingKind::Internal,
                },
            );
        }
    }

    /// LINE_CALLINFO(bits) to every holder of the call except `except`.
    pub(super) fn notify_call_info(
        &mut self,
        call: CallId,
        except: Option<HCall>,
        bits: CallInfoStates,
    ) {
        let Some(rec) = self.calls.get(&call) else {
            return;
        };
        let targets: Vec<(HLineApp, HCall, u32)> = rec
            .handles
            .iter()
            .filter(|h| Some(**h) != except)
            .filter_map(|h| self.handles.get(h))
            .map(|h| (h.app, h.handle, self.callback_instance(h.line)))
            .collect();
        for (app, handle, instance) in targets {
            self.deliver(
                app,
                LineMessage {
                    h_device: handle.0,
                    dw_message_id: LINE_CALLINFO,
                    dw_callback_instance: instance,
                    dw_param1: bits.bits(),
                    dw_param2: 0,
                    dw_param3: 0,
                    digits: Default::default(),
                },
            );
        }
    }

    pub(super) fn callback_instance(&self, line: HLine) -> u32 {
        self.lines.get(&line).map_or(0, |l| l.callback_instance)
    }

    /// Owner handles of a call.
    fn owners(&self, call: CallId) -> usize {
        self.calls.get(&call).map_or(0, |rec| {
            rec.handles
                .iter()
                .filter(|h| {
                    self.handles
                        .get(h)
                        .is_some_and(|x| x.privilege == CallPrivilege::Owner)
                })
                .count()
        })
    }

    pub(super) fn line_get_call_info(
        &mut self,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        handle: HCall,
    ) -> FnResult {
        let handle = self.call_of(conn, handle)?;
        let h = &self.handles[&handle];
        let info = provider.call_info(h.call).ok_or(LINEERR_INVALCALLHANDLE)?;
        let owners = self.owners(h.call);
        let holders = self.calls.get(&h.call).map_or(0, |c| c.handles.len());
        Ok(Answer::CallInfo(Box::new(CallInfoAnswer {
            line: h.line,
            device: info.device,
            address_id: 0,
            media_mode: info.media_mode,
            call_id: h.call,
            origin: info.origin.bits(),
            reason: info.reason.bits(),
            caller_id: info.caller_id,
            caller_id_name: info.caller_id_name,
            called_id: info.called_id,
            called_id_name: info.called_id_name,
            connected_id: info.connected_id,
            connected_id_name: info.connected_id_name,
            num_owners: owners as u32,
            num_monitors: (holders - owners) as u32,
            sip_call_id: info.sip_call_id,
            codec: info.codec,
            remote_media: info.remote_media,
            local_media: info.local_media,
            related_call_id: info.related_call.map_or(0, |c| c.0),
        })))
    }

    pub(super) fn line_get_call_status(
        &mut self,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        handle: HCall,
    ) -> FnResult {
        let handle = self.call_of(conn, handle)?;
        let h = &self.handles[&handle];
        let rec = &self.calls[&h.call];
        let features = match h.privilege {
            CallPrivilege::Owner => provider.call_features(h.call),
            CallPrivilege::Monitor => CallFeatures::NONE,
        };
        let state_mode = rec.state.map_or(0, |s| self.mode_for(h.app, s));
        Ok(Answer::CallStatus(CallStatusAnswer {
            state: rec.state,
            state_mode,
            privilege: h.privilege,
            features,
        }))
    }

    pub(super) fn line_set_call_privilege(
        &mut self,
        conn: ConnId,
        handle: HCall,
        privilege: u32,
    ) -> FnResult {
        let handle = self.call_of(conn, handle)?;
        let privilege = CallPrivilege::from_bits(privilege).ok_or(LINEERR_INVALCALLPRIVILEGE)?;
        let Some(h) = self.handles.get_mut(&handle) else {
            return Err(LINEERR_INVALCALLHANDLE);
        };
        if h.privilege == privilege {
            return Ok(Answer::Empty);
        }
        h.privilege = privilege;
        let call = h.call;
        let bits = match privilege {
            CallPrivilege::Owner => CallInfoStates::NUMOWNERINCR | CallInfoStates::NUMMONITORS,
            CallPrivilege::Monitor => CallInfoStates::NUMOWNERDECR | CallInfoStates::NUMMONITORS,
        };
        if self.calls.get(&call).is_some_and(|r| r.is_live()) {
            self.notify_call_info(call, Some(handle), bits);
        }
        Ok(Answer::Empty)
    }

    /// dwParam2 of LINE_CALLSTATE for `app`: the state's mode, or for CONFERENCED the app's own
    /// handle to the conference call (0 when it holds none).
    pub(super) fn mode_for(&self, app: HLineApp, state: CallState) -> u32 {
        match state {
            CallState::Conferenced(Some(conf)) => self
                .calls
                .get(&conf)
                .and_then(|c| {
                    c.handles
                        .iter()
                        .find(|h| self.handles.get(h).is_some_and(|x| x.app == app))
                })
                .map_or(0, |h| h.0),
            other => other.mode_bits(),
        }
    }
}
