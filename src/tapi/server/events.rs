//! Provider events (our TSPI's ASYNC_COMPLETION and LINEEVENT) turned into TAPI messages for
//! the right apps: LINE_REPLY to the requester only; LINE_APPNEWCALL and LINE_CALLSTATE to
//! every holder of a call; LINE_LINEDEVSTATE to apps that enabled it; LINE_CLOSE.

use std::time::Instant;

use crate::tapi::consts::*;
use crate::tapi::{
    CallId, DeviceId, HCall, HLine, HLineApp, LineErr, LineMessage, LineProvider, ProviderEvent,
    RequestId,
};

use super::state::{CallHandle, CallRecord, PendingKind};
use super::Tapisrv;

/// Media modes an owner must have asked for to be offered our (voice) calls.
const VOICE: u32 = LINEMEDIAMODE_INTERACTIVEVOICE | LINEMEDIAMODE_UNKNOWN;

impl Tapisrv {
    pub(super) fn on_provider_event(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        event: ProviderEvent,
    ) {
        match event {
            ProviderEvent::Completion { request, result } => {
                self.on_completion(now, provider, request, result)
            }
            ProviderEvent::NewCall { device, call } => {
                self.on_new_call(now, provider, device, call)
            }
            ProviderEvent::CallState { call, state, mode } => self.on_call_state(call, state, mode),
            ProviderEvent::CallInfo { call, changed } => {
                if self
                    .calls
                    .get(&call)
                    .is_some_and(|c| c.visible && c.state != LINECALLSTATE_IDLE)
                {
                    self.notify_call_info(call, None, changed);
                }
            }
            ProviderEvent::LineDevState {
                device,
                state,
                param2,
                param3,
            } => self.on_line_dev_state(device, state, param2, param3),
            ProviderEvent::LineClose { device } => {
                let mut lines: Vec<HLine> = self
                    .lines
                    .values()
                    .filter(|l| l.device == device)
                    .map(|l| l.handle)
                    .collect();
                lines.sort();
                for line in lines {
                    self.force_close_line(line);
                }
            }
        }
    }

    fn reply(
        &mut self,
        app: HLineApp,
        line: HLine,
        request: RequestId,
        result: Result<(), LineErr>,
    ) {
        let code = match result {
            Ok(()) => 0,
            Err(err) => err.code(),
        };
        let instance = self.callback_instance(line);
        self.deliver(
            app,
            LineMessage {
                h_device: 0,
                dw_message_id: LINE_REPLY,
                dw_callback_instance: instance,
                dw_param1: request.0,
                dw_param2: code as u32,
                dw_param3: 0,
            },
        );
    }

    fn on_completion(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        request: RequestId,
        result: Result<(), LineErr>,
    ) {
        // Not pending: the line was closed or the app shut down first (no reply then).
        let Some(pending) = self.pending.remove(&request) else {
            return;
        };
        match pending.kind {
            PendingKind::Internal => {}
            PendingKind::Call => self.reply(pending.app, pending.line, request, result),
            PendingKind::MakeCall(handle) => {
                self.reply(pending.app, pending.line, request, result);
                let Some(call) = self.handles.get(&handle).map(|h| h.call) else {
                    return;
                };
                if result.is_ok() {
                    self.make_visible(call, handle);
                } else {
                    // The handle is void; the provider ends the call without events.
                    self.handles.remove(&handle);
                    self.calls.remove(&call);
                    provider.close_call(now, call);
                }
            }
        }
    }

    /// After LINE_REPLY(0): monitors of the line learn of the call (LINE_APPNEWCALL +
    /// LINE_CALLSTATE(UNKNOWN)), then every held-back state goes out (ordering promise 2).
    fn make_visible(&mut self, call: CallId, owner: HCall) {
        let Some(device) = self.calls.get(&call).map(|c| c.device) else {
            return;
        };
        let owner_line = self.handles.get(&owner).map(|h| h.line);
        let monitors: Vec<(HLineApp, HLine)> = self
            .lines_by_order(device)
            .into_iter()
            .filter(|(_, line, privileges, _)| {
                Some(*line) != owner_line && privileges & LINECALLPRIVILEGE_MONITOR != 0
            })
            .map(|(app, line, _, _)| (app, line))
            .collect();
        if let Some(rec) = self.calls.get_mut(&call) {
            rec.visible = true;
        }
        for (app, line) in monitors {
            let handle = self.add_handle(call, app, line, LINECALLPRIVILEGE_MONITOR);
            self.announce_new_call(handle);
            self.send_call_state(handle, LINECALLSTATE_UNKNOWN, 0);
        }
        let held = self
            .calls
            .get_mut(&call)
            .map(|c| std::mem::take(&mut c.held))
            .unwrap_or_default();
        for (state, mode) in held {
            self.on_call_state(call, state, mode);
        }
    }

    /// Open lines of a device as (app, line, privileges, media modes), in open order.
    fn lines_by_order(&self, device: DeviceId) -> Vec<(HLineApp, HLine, u32, u32)> {
        let mut lines: Vec<_> = self
            .lines
            .values()
            .filter(|l| l.device == device)
            .map(|l| (l.order, l.app, l.handle, l.privileges, l.media_modes))
            .collect();
        lines.sort();
        lines
            .into_iter()
            .map(|(_, app, line, privileges, modes)| (app, line, privileges, modes))
            .collect()
    }

    /// A new handle of `app` (through its open `line`) to `call`.
    pub(super) fn add_handle(
        &mut self,
        call: CallId,
        app: HLineApp,
        line: HLine,
        privilege: u32,
    ) -> HCall {
        let handle = HCall(self.new_handle());
        self.handles.insert(
            handle,
            CallHandle {
                handle,
                app,
                line,
                call,
                privilege,
                announced: false,
            },
        );
        if let Some(rec) = self.calls.get_mut(&call) {
            rec.handles.push(handle);
        }
        handle
    }

    /// LINE_APPNEWCALL (hLine, address 0, the new hCall, privilege).
    fn announce_new_call(&mut self, handle: HCall) {
        let Some(h) = self.handles.get(&handle) else {
            return;
        };
        let (app, line, privilege) = (h.app, h.line, h.privilege);
        let instance = self.callback_instance(line);
        self.deliver(
            app,
            LineMessage {
                h_device: line.0,
                dw_message_id: LINE_APPNEWCALL,
                dw_callback_instance: instance,
                dw_param1: 0,
                dw_param2: handle.0,
                dw_param3: privilege,
            },
        );
    }

    /// An inbound call: the first owner (open order) with a voice media mode gets it, every
    /// MONITOR open of the line gets a monitor handle. Nobody to own it: the provider rejects.
    fn on_new_call(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        device: DeviceId,
        call: CallId,
    ) {
        let lines = self.lines_by_order(device);
        let Some(&(owner_app, owner_line, _, _)) = lines
            .iter()
            .find(|(_, _, p, modes)| p & LINECALLPRIVILEGE_OWNER != 0 && modes & VOICE != 0)
        else {
            provider.close_call(now, call);
            return;
        };
        self.calls.insert(call, CallRecord::new(device, true));
        let owner = self.add_handle(call, owner_app, owner_line, LINECALLPRIVILEGE_OWNER);
        self.announce_new_call(owner);
        for (app, line, privileges, _) in lines {
            if line != owner_line && privileges & LINECALLPRIVILEGE_MONITOR != 0 {
                let handle = self.add_handle(call, app, line, LINECALLPRIVILEGE_MONITOR);
                self.announce_new_call(handle);
            }
        }
    }

    fn on_call_state(&mut self, call: CallId, state: u32, mode: u32) {
        let Some(rec) = self.calls.get_mut(&call) else {
            return;
        };
        if !rec.visible {
            rec.held.push((state, mode));
            return;
        }
        rec.state = state;
        rec.mode = mode;
        let handles = rec.handles.clone();
        for handle in handles {
            self.send_call_state(handle, state, mode);
        }
    }

    /// LINE_CALLSTATE on one handle; its first carries the privilege in dwParam3.
    fn send_call_state(&mut self, handle: HCall, state: u32, mode: u32) {
        let Some(h) = self.handles.get_mut(&handle) else {
            return;
        };
        let privilege = if h.announced { 0 } else { h.privilege };
        h.announced = true;
        let (app, line) = (h.app, h.line);
        let instance = self.callback_instance(line);
        self.deliver(
            app,
            LineMessage {
                h_device: handle.0,
                dw_message_id: LINE_CALLSTATE,
                dw_callback_instance: instance,
                dw_param1: state,
                dw_param2: mode,
                dw_param3: privilege,
            },
        );
    }

    fn on_line_dev_state(&mut self, device: DeviceId, state: u32, param2: u32, param3: u32) {
        let targets: Vec<(HLineApp, HLine, u32)> = self
            .lines
            .values()
            .filter(|l| l.device == device && l.line_states & state != 0)
            .map(|l| (l.app, l.handle, l.callback_instance))
            .collect();
        for (app, line, instance) in targets {
            self.deliver(
                app,
                LineMessage {
                    h_device: line.0,
                    dw_message_id: LINE_LINEDEVSTATE,
                    dw_callback_instance: instance,
                    dw_param1: state,
                    dw_param2: param2,
                    dw_param3: param3,
                },
            );
        }
    }
}
