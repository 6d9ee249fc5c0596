//! Call functions: lineMakeCall, lineAccept/lineAnswer/lineDrop/lineRedirect (owner only),
//! lineDeallocateCall, lineGetCallInfo, lineGetCallStatus, lineSetCallPrivilege.

use std::time::Instant;

use serde_json::json;

use crate::api::{CallParams, CallPrivilegeParams, ConnId, MakeCallParams};
use crate::tapi::consts::*;
use crate::tapi::{
    CallId, HCall, HLine, HLineApp, LineErr, LineMessage, LineProvider, LINEERR_INVALCALLHANDLE,
    LINEERR_INVALCALLPRIVILEGE, LINEERR_NOTOWNER,
};

use super::delivery::empty;
use super::state::{CallRecord, Pending, PendingKind};
use super::{CallOp, FnResult, Tapisrv};

impl Tapisrv {
    pub(super) fn line_make_call(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        p: MakeCallParams,
    ) -> FnResult {
        let line = self.line_of(conn, p.h_line)?;
        let (app, device) = {
            let l = &self.lines[&line];
            (l.app, l.device)
        };
        let request = self.new_request();
        let call = provider.make_call(now, request, device, &p.dest_address)?;
        self.calls.insert(call, CallRecord::new(device, false));
        let handle = self.add_handle(call, app, line, LINECALLPRIVILEGE_OWNER);
        self.pending.insert(
            request,
            Pending {
                app,
                line,
                kind: PendingKind::MakeCall(handle),
            },
        );
        Ok(json!({ "requestId": request.0, "hCall": handle.0 }))
    }

    /// The call handle, if it belongs to an app of this connection and its call is visible.
    pub(super) fn call_of(&self, conn: ConnId, handle: u32) -> Result<HCall, LineErr> {
        let h = self
            .handles
            .get(&HCall(handle))
            .ok_or(LINEERR_INVALCALLHANDLE)?;
        let mine = self.apps.get(&h.app).is_some_and(|a| a.conn == conn);
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
        handle: u32,
        op: CallOp,
    ) -> FnResult {
        let handle = self.call_of(conn, handle)?;
        let h = &self.handles[&handle];
        if h.privilege != LINECALLPRIVILEGE_OWNER {
            return Err(LINEERR_NOTOWNER);
        }
        let (app, line, call) = (h.app, h.line, h.call);
        let request = self.new_request();
        match op {
            CallOp::Accept => provider.accept(now, request, call),
            CallOp::Answer => provider.answer(now, request, call),
            CallOp::Drop => provider.drop_call(now, request, call),
            CallOp::Redirect(dest) => provider.redirect(now, request, call, &dest),
        }?;
        self.pending.insert(
            request,
            Pending {
                app,
                line,
                kind: PendingKind::Call,
            },
        );
        Ok(json!({ "requestId": request.0 }))
    }

    pub(super) fn line_deallocate_call(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        p: CallParams,
    ) -> FnResult {
        let handle = self.call_of(conn, p.h_call)?;
        // TAPI 2.x: a live call its sole owner deallocates is dropped first.
        self.release_handle(now, provider, handle, true);
        Ok(empty())
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
        let live = rec.visible && rec.state != LINECALLSTATE_IDLE;
        let remaining = rec.handles.clone();
        if remaining.is_empty() {
            self.calls.remove(&h.call);
            provider.close_call(now, h.call);
            return;
        }
        let other_owner = remaining.iter().any(|x| {
            self.handles
                .get(x)
                .is_some_and(|o| o.privilege == LINECALLPRIVILEGE_OWNER)
        });
        if drop_sole && live && h.privilege == LINECALLPRIVILEGE_OWNER && !other_owner {
            self.internal_drop(now, provider, h.call);
        }
        if live {
            let bits = if h.privilege == LINECALLPRIVILEGE_OWNER {
                LINECALLINFOSTATE_NUMOWNERDECR
            } else {
                LINECALLINFOSTATE_NUMMONITORS
            };
            self.notify_call_info(h.call, None, bits);
        }
    }

    /// A drop no app asked for (its sole owner left while monitors stay): no LINE_REPLY.
    fn internal_drop(&mut self, now: Instant, provider: &mut dyn LineProvider, call: CallId) {
        let request = self.new_request();
        if provider.drop_call(now, request, call).is_ok() {
            self.pending.insert(
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
    pub(super) fn notify_call_info(&mut self, call: CallId, except: Option<HCall>, bits: u32) {
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
                    dw_param1: bits,
                    dw_param2: 0,
                    dw_param3: 0,
                },
            );
        }
    }

    pub(super) fn callback_instance(&self, line: HLine) -> u32 {
        self.lines.get(&line).map_or(0, |l| l.callback_instance)
    }

    fn counts(&self, call: CallId) -> (usize, usize) {
        let Some(rec) = self.calls.get(&call) else {
            return (0, 0);
        };
        let owners = rec
            .handles
            .iter()
            .filter(|h| {
                self.handles
                    .get(h)
                    .is_some_and(|x| x.privilege == LINECALLPRIVILEGE_OWNER)
            })
            .count();
        (owners, rec.handles.len() - owners)
    }

    pub(super) fn line_get_call_info(
        &mut self,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        p: CallParams,
    ) -> FnResult {
        let handle = self.call_of(conn, p.h_call)?;
        let h = &self.handles[&handle];
        let info = provider.call_info(h.call).ok_or(LINEERR_INVALCALLHANDLE)?;
        let (owners, monitors) = self.counts(h.call);
        Ok(json!({
            "hLine": h.line.0,
            "lineDeviceId": info.device.0,
            "addressId": 0,
            "mediaMode": info.media_mode,
            "callId": h.call.0,
            "origin": info.origin,
            "reason": info.reason,
            "callerId": info.caller_id,
            "callerIdName": info.caller_id_name,
            "calledId": info.called_id,
            "calledIdName": info.called_id_name,
            "connectedId": info.connected_id,
            "connectedIdName": info.connected_id_name,
            "numOwners": owners,
            "numMonitors": monitors,
            "sipCallId": info.sip_call_id,
            "codec": info.codec,
            "remoteMedia": info.remote_media,
            "localMedia": info.local_media,
        }))
    }

    pub(super) fn line_get_call_status(&mut self, conn: ConnId, p: CallParams) -> FnResult {
        let handle = self.call_of(conn, p.h_call)?;
        let h = &self.handles[&handle];
        let rec = &self.calls[&h.call];
        let features = if h.privilege == LINECALLPRIVILEGE_OWNER {
            call_features(rec.state)
        } else {
            0
        };
        Ok(json!({
            "callState": rec.state,
            "callStateMode": rec.mode,
            "callPrivilege": h.privilege,
            "callFeatures": features,
        }))
    }

    pub(super) fn line_set_call_privilege(
        &mut self,
        _now: Instant,
        _provider: &mut dyn LineProvider,
        conn: ConnId,
        p: CallPrivilegeParams,
    ) -> FnResult {
        let handle = self.call_of(conn, p.h_call)?;
        if !matches!(
            p.call_privilege,
            LINECALLPRIVILEGE_MONITOR | LINECALLPRIVILEGE_OWNER
        ) {
            return Err(LINEERR_INVALCALLPRIVILEGE);
        }
        let Some(h) = self.handles.get_mut(&handle) else {
            return Err(LINEERR_INVALCALLHANDLE);
        };
        if h.privilege == p.call_privilege {
            return Ok(empty());
        }
        h.privilege = p.call_privilege;
        let call = h.call;
        let bits = if p.call_privilege == LINECALLPRIVILEGE_OWNER {
            LINECALLINFOSTATE_NUMOWNERINCR | LINECALLINFOSTATE_NUMMONITORS
        } else {
            LINECALLINFOSTATE_NUMOWNERDECR | LINECALLINFOSTATE_NUMMONITORS
        };
        if self
            .calls
            .get(&call)
            .is_some_and(|c| c.state != LINECALLSTATE_IDLE)
        {
            self.notify_call_info(call, Some(handle), bits);
        }
        Ok(empty())
    }
}

/// LINECALLFEATURE_ bits an owner may use in `state`.
pub(super) fn call_features(state: u32) -> u32 {
    match state {
        LINECALLSTATE_OFFERING => {
            LINECALLFEATURE_ACCEPT
                | LINECALLFEATURE_ANSWER
                | LINECALLFEATURE_DROP
                | LINECALLFEATURE_REDIRECT
        }
        LINECALLSTATE_ACCEPTED => {
            LINECALLFEATURE_ANSWER | LINECALLFEATURE_DROP | LINECALLFEATURE_REDIRECT
        }
        LINECALLSTATE_IDLE | 0 => 0,
        _ => LINECALLFEATURE_DROP,
    }
}
