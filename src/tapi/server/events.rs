//! Provider events (our TSPI's ASYNC_COMPLETION and LINEEVENT) turned into TAPI messages for
//! the right apps: LINE_REPLY to the requester only; LINE_APPNEWCALL and LINE_CALLSTATE to
//! every holder of a call; LINE_LINEDEVSTATE to apps that enabled it; LINE_CLOSE.

use std::time::Instant;

use crate::tapi::consts::*;
use crate::tapi::{
    CallId, CallPrivilege, CallState, DeviceId, HCall, HLine, HLineApp, LineErr, LineMessage,
    LineProvider, MediaModes, ProviderEvent, RequestId,
};

use super::state::{CallHandle, CallRecord, PendingKind};
use super::Tapisrv;

/// Media modes an owner must have asked for to be offered our (voice) calls.
const VOICE: MediaModes = MediaModes(LINEMEDIAMODE_INTERACTIVEVOICE | LINEMEDIAMODE_UNKNOWN);

/// An open line as fan-out needs it.
#[derive(Clone, Copy)]
struct Opener {
    app: HLineApp,
    line: HLine,
    owns: bool,
    monitors: bool,
    media: MediaModes,
}

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
            ProviderEvent::NewCall {
                device,
                call,
                inherit,
            } => self.on_new_call(now, provider, device, call, inherit),
            ProviderEvent::AddressState {
                device,
                address,
                states,
            } => self.address_state(device, address, states),
            ProviderEvent::RecoveredCall { device, call } => {
                self.calls.insert(call, CallRecord::new(device, true));
                self.count_call(call, true);
            }
            ProviderEvent::Digit { call, digit, mode } => self.on_digit(call, digit, mode),
            ProviderEvent::GenerateDone { call, cancelled } => {
                self.on_generate_done(call, cancelled)
            }
            ProviderEvent::CallState { call, state } => {
                if matches!(state, CallState::Disconnected(_)) || state.is_idle() {
                    self.media_call_ended(call);
                }
                self.on_call_state(call, state);
                self.forget_unclaimed(now, provider, call);
            }
            ProviderEvent::CallInfo { call, changed } => {
                if self.calls.get(&call).is_some_and(|r| r.is_live()) {
                    self.notify_call_info(call, None, changed);
                }
            }
            ProviderEvent::LineDevState {
                device,
                state,
                param2,
                param3,
            } => self.line_dev_state(device, state, param2, param3),
            ProviderEvent::LineCreated { device } => self.on_line_created(provider, device),
            ProviderEvent::LineRemoved { device } => self.on_line_removed(provider, device),
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
                digits: Default::default(),
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
        let Some(pending) = self.pending.remove(now, &request) else {
            return;
        };
        match pending.kind {
            PendingKind::Internal => {}
            PendingKind::Call => self.reply(pending.app, pending.line, request, result),
            PendingKind::MakeCall(handle) => {
                self.reply(pending.app, pending.line, request, result);
                self.made(now, provider, handle, result);
            }
            PendingKind::MakeTwo(first, second) => {
                self.reply(pending.app, pending.line, request, result);
                self.made(now, provider, first, result);
                self.made(now, provider, second, result);
            }
        }
    }

    /// A call a request created: visible after LINE_REPLY(0), else forgotten.
    fn made(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        handle: HCall,
        result: Result<(), LineErr>,
    ) {
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

    /// After LINE_REPLY(0): monitors of the line learn of the call (LINE_APPNEWCALL +
    /// LINE_CALLSTATE(UNKNOWN)), then every held-back state goes out (ordering promise 2).
    fn make_visible(&mut self, call: CallId, owner: HCall) {
        let Some(device) = self.calls.get(&call).map(|c| c.device) else {
            return;
        };
        let owner_line = self.handles.get(&owner).map(|h| h.line);
        let monitors: Vec<Opener> = self
            .openers(device)
            .into_iter()
            .filter(|o| Some(o.line) != owner_line && o.monitors)
            .collect();
        if let Some(rec) = self.calls.get_mut(&call) {
            rec.visible = true;
        }
        self.count_call(call, true);
        for o in monitors {
            let handle = self.add_handle(call, o.app, o.line, CallPrivilege::Monitor);
            self.announce_new_call(handle);
            self.send_call_state(handle, CallState::Unknown);
        }
        let held = self
            .calls
            .get_mut(&call)
            .map(|c| std::mem::take(&mut c.held))
            .unwrap_or_default();
        for state in held {
            self.on_call_state(call, state);
        }
    }

    /// Open lines of a device, in open order.
    fn openers(&self, device: DeviceId) -> Vec<Opener> {
        let mut lines: Vec<_> = self
            .lines
            .values()
            .filter(|l| l.device == device)
            .map(|l| {
                (
                    l.order,
                    Opener {
                        app: l.app,
                        line: l.handle,
                        owns: l.may_own(),
                        monitors: l.monitors(),
                        media: l.media_modes,
                    },
                )
            })
            .collect();
        lines.sort_by_key(|(order, _)| *order);
        lines.into_iter().map(|(_, o)| o).collect()
    }

    /// A new handle of `app` (through its open `line`) to `call`.
    pub(super) fn add_handle(
        &mut self,
        call: CallId,
        app: HLineApp,
        line: HLine,
        privilege: CallPrivilege,
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
                digit_modes: 0,
                gather: None,
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
                dw_param3: privilege.bits(),
                digits: Default::default(),
            },
        );
    }

    /// A call TAPI did not originate: the first owner (open order) with a voice media mode gets
    /// it (with `inherit`, the owners of that call get it instead: a transfer's new call), every
    /// MONITOR open of the line gets a monitor handle. Nobody to own it: the provider rejects.
    fn on_new_call(
        &mut self,
        now: Instant,
        provider: &mut dyn LineProvider,
        device: DeviceId,
        call: CallId,
        inherit: Option<CallId>,
    ) {
        if self.line_full(device) {
            self.refuse_over_limit(now, device);
            self.calls.refused(inherit.is_some());
            provider.close_call(now, call);
            return;
        }
        let openers = self.openers(device);
        let mut owners = inherit.map(|c| self.owner_lines(c)).unwrap_or_default();
        if owners.is_empty() {
            owners.extend(
                openers
                    .iter()
                    .find(|o| o.owns && o.media.intersects(VOICE))
                    .map(|o| (o.app, o.line)),
            );
        }
        if owners.is_empty() {
            self.calls.refused(inherit.is_some());
            provider.close_call(now, call);
            return;
        }
        let mut record = CallRecord::new(device, true);
        record.tally.outbound = inherit.is_some();
        self.calls.insert(call, record);
        self.count_call(call, true);
        for &(app, line) in &owners {
            let handle = self.add_handle(call, app, line, CallPrivilege::Owner);
            self.announce_new_call(handle);
        }
        for o in openers {
            if o.monitors && !owners.iter().any(|(_, line)| *line == o.line) {
                let handle = self.add_handle(call, o.app, o.line, CallPrivilege::Monitor);
                self.announce_new_call(handle);
            }
        }
    }

    /// The (app, line) of every owner handle of `call`.
    fn owner_lines(&self, call: CallId) -> Vec<(HLineApp, HLine)> {
        self.calls.get(&call).map_or_else(Vec::new, |rec| {
            rec.handles
                .iter()
                .filter_map(|h| self.handles.get(h))
                .filter(|h| h.privilege == CallPrivilege::Owner)
                .map(|h| (h.app, h.line))
                .collect()
        })
    }

    fn on_call_state(&mut self, call: CallId, state: CallState) {
        let Some(rec) = self.calls.get_mut(&call) else {
            return;
        };
        if !rec.visible {
            rec.held.push(state);
            return;
        }
        rec.state = Some(state);
        let handles = rec.handles.clone();
        self.calls.note_state(call, state);
        for handle in handles {
            self.send_call_state(handle, state);
        }
        if state.is_idle() {
            self.count_call(call, false);
        }
    }

    /// A call no app holds (recovered after a restart, never claimed) is forgotten once IDLE.
    fn forget_unclaimed(&mut self, now: Instant, provider: &mut dyn LineProvider, call: CallId) {
        let unclaimed = self
            .calls
            .get(&call)
            .is_some_and(|rec| rec.handles.is_empty() && !rec.is_live());
        if unclaimed {
            self.calls.remove(&call);
            provider.close_call(now, call);
        }
    }

    /// A reload added a line: LINE_CREATE to every line app, PHONE_CREATE to every phone app.
    fn on_line_created(&mut self, provider: &dyn LineProvider, device: DeviceId) {
        self.announce_device(provider, LINE_CREATE, PHONE_CREATE, device);
    }

    /// A reload removed a line: its calls (being hung up) go IDLE for their holders, its opens
    /// are closed (LINE_CLOSE, PHONE_CLOSE), then LINE_REMOVE and PHONE_REMOVE go to every app.
    fn on_line_removed(&mut self, provider: &dyn LineProvider, device: DeviceId) {
        let mut calls: Vec<CallId> = self
            .calls
            .iter()
            .filter(|(_, c)| c.device == device && c.is_live())
            .map(|(id, _)| *id)
            .collect();
        calls.sort();
        for call in calls {
            // Call loggers see every call end; the handles go with the line just after.
            self.on_call_state(call, CallState::Idle);
        }
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
        let mut phones: Vec<crate::tapi::HPhone> = self
            .phones
            .values()
            .filter(|p| p.device == device)
            .map(|p| p.handle)
            .collect();
        phones.sort();
        for phone in phones {
            self.force_close_phone(phone);
        }
        self.hookswitch.remove(&device);
        self.line_counts.remove(&device);
        self.announce_device(provider, LINE_REMOVE, PHONE_REMOVE, device);
    }

    /// LINE_CREATE/LINE_REMOVE (PHONE_ to phone apps) to every app whose connection sees the
    /// device, with the device ID as it numbers it.
    fn announce_device(
        &mut self,
        provider: &dyn LineProvider,
        line_message: u32,
        phone_message: u32,
        device: DeviceId,
    ) {
        let mut apps: Vec<(HLineApp, bool)> =
            self.apps.values().map(|a| (a.handle, a.phone)).collect();
        apps.sort();
        for (app, phone) in apps {
            let Some(local) = self.device_for_app(provider, app, device) else {
                continue;
            };
            let id = if phone { phone_message } else { line_message };
            self.deliver(
                app,
                LineMessage {
                    h_device: 0,
                    dw_message_id: id,
                    dw_callback_instance: 0,
                    dw_param1: local,
                    dw_param2: 0,
                    dw_param3: 0,
                    digits: Default::default(),
                },
            );
        }
    }

    /// LINE_CALLSTATE on one handle; its first carries the privilege in dwParam3.
    fn send_call_state(&mut self, handle: HCall, state: CallState) {
        let Some(h) = self.handles.get_mut(&handle) else {
            return;
        };
        let privilege = if h.announced { 0 } else { h.privilege.bits() };
        h.announced = true;
        let (app, line) = (h.app, h.line);
        let instance = self.callback_instance(line);
        let mode = self.mode_for(app, state);
        self.deliver(
            app,
            LineMessage {
                h_device: handle.0,
                dw_message_id: LINE_CALLSTATE,
                dw_callback_instance: instance,
                dw_param1: state.bits(),
                dw_param2: mode,
                dw_param3: privilege,
                digits: Default::default(),
            },
        );
    }
}
