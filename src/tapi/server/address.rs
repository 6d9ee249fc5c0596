//! Addresses (each line has one: address 0, its AOR) and device identification:
//! lineGetAddressCaps, lineGetAddressStatus, lineGetAddressID, lineGetNewCalls (monitor
//! handles for calls the app does not hold yet, with no LINE_CALLSTATE, as TAPI says),
//! lineGetID ("tapi/line", "tapi/phone"). Also the line's call count behind LINE_LINEDEVSTATE
//! (NUMCALLS) and LINE_ADDRESSSTATE (INUSEZERO / INUSEONE / INUSEMANY, NUMCALLS).

use crate::tapi::consts::*;
use crate::tapi::{
    AddressStates, AddressStatusAnswer, Answer, CallId, CallPrivilege, CallState, ConnId, DeviceId,
    HCall, HLine, HLineApp, LineDevStates, LineMessage, LineProvider, LINEERR_BADDEVICEID,
    LINEERR_INVALADDRESS, LINEERR_INVALADDRESSID, LINEERR_INVALADDRESSMODE,
    LINEERR_INVALCALLSELECT, LINEERR_INVALDEVICECLASS, LINEERR_INVALLINEHANDLE,
};

use super::apps::check_version;
use super::{FnResult, Tapisrv};

impl Tapisrv {
    pub(super) fn line_get_address_caps(
        &mut self,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        app: HLineApp,
        device: DeviceId,
        address: u32,
        api_version: u32,
    ) -> FnResult {
        self.app_of(conn, app)?;
        check_version(api_version)?;
        let caps = provider.address_caps(device).ok_or(LINEERR_BADDEVICEID)?;
        if address != 0 {
            return Err(LINEERR_INVALADDRESSID);
        }
        Ok(Answer::AddressCaps(Box::new(caps)))
    }

    pub(super) fn line_get_address_status(
        &mut self,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        line: HLine,
        address: u32,
    ) -> FnResult {
        let line = self.line_of(conn, line)?;
        if address != 0 {
            return Err(LINEERR_INVALADDRESSID);
        }
        let device = self.lines[&line].device;
        let states: Vec<CallState> = self
            .calls
            .values()
            .filter(|c| c.device == device && c.is_live())
            .filter_map(|c| c.state)
            .collect();
        let count = |f: fn(&CallState) -> bool| states.iter().filter(|s| f(s)).count() as u32;
        let (forward_list, num_rings_no_answer) = provider.forwarding(device);
        Ok(Answer::AddressStatus(Box::new(AddressStatusAnswer {
            num_in_use: u32::from(!states.is_empty()),
            num_active_calls: count(|s| {
                !matches!(
                    s,
                    CallState::OnHold | CallState::OnHoldPendTransfer | CallState::OnHoldPendConf
                )
            }),
            num_on_hold_calls: count(|s| matches!(s, CallState::OnHold)),
            num_on_hold_pend_calls: count(|s| {
                matches!(s, CallState::OnHoldPendTransfer | CallState::OnHoldPendConf)
            }),
            address_features: LINEADDRFEATURE_MAKECALL | LINEADDRFEATURE_FORWARD,
            num_rings_no_answer,
            forward_list,
        })))
    }

    pub(super) fn line_get_address_id(
        &mut self,
        provider: &mut dyn LineProvider,
        conn: ConnId,
        line: HLine,
        mode: u32,
        address: &str,
    ) -> FnResult {
        let line = self.line_of(conn, line)?;
        if mode != LINEADDRESSMODE_DIALABLEADDR {
            return Err(LINEERR_INVALADDRESSMODE);
        }
        let device = self.lines[&line].device;
        let caps = provider.address_caps(device).ok_or(LINEERR_BADDEVICEID)?;
        let wanted = address.trim().to_ascii_lowercase();
        let ours = caps.address.to_ascii_lowercase();
        let user = ours
            .strip_prefix("sip:")
            .and_then(|rest| rest.split('@').next())
            .unwrap_or("");
        if wanted == ours || wanted == user || format!("sip:{wanted}") == ours {
            Ok(Answer::AddressId(0))
        } else {
            Err(LINEERR_INVALADDRESS)
        }
    }

    /// lineGetNewCalls: a monitor handle for each live call of the line the app holds no handle
    /// to; they get no LINE_CALLSTATE (the app asked) and no LINE_APPNEWCALL.
    pub(super) fn line_get_new_calls(
        &mut self,
        conn: ConnId,
        line: HLine,
        address: u32,
        select: u32,
    ) -> FnResult {
        let line = self.line_of(conn, line)?;
        match select {
            LINECALLSELECT_LINE => {}
            LINECALLSELECT_ADDRESS if address == 0 => {}
            LINECALLSELECT_ADDRESS => return Err(LINEERR_INVALADDRESSID),
            _ => return Err(LINEERR_INVALCALLSELECT),
        }
        let (app, device) = {
            let l = &self.lines[&line];
            (l.app, l.device)
        };
        let mut calls: Vec<CallId> = self
            .calls
            .iter()
            .filter(|(_, c)| c.device == device && c.is_live())
            .filter(|(_, c)| {
                !c.handles
                    .iter()
                    .any(|h| self.handles.get(h).is_some_and(|x| x.app == app))
            })
            .map(|(id, _)| *id)
            .collect();
        calls.sort();
        let handles = calls
            .into_iter()
            .map(|call| {
                let handle = self.add_handle(call, app, line, CallPrivilege::Monitor);
                if let Some(h) = self.handles.get_mut(&handle) {
                    // Its first LINE_CALLSTATE will not carry the privilege: it was asked for.
                    h.announced = true;
                }
                handle
            })
            .collect();
        Ok(Answer::NewCalls(handles))
    }

    /// lineGetID: the device ID of the line (or of its handset) an open line, address or call
    /// belongs to.
    pub(super) fn line_get_id(
        &mut self,
        conn: ConnId,
        select: u32,
        line: Option<HLine>,
        address: u32,
        call: Option<HCall>,
        device_class: &str,
    ) -> FnResult {
        let device = match select {
            LINECALLSELECT_LINE | LINECALLSELECT_ADDRESS => {
                let line = self.line_of(conn, line.ok_or(LINEERR_INVALLINEHANDLE)?)?;
                if select == LINECALLSELECT_ADDRESS && address != 0 {
                    return Err(LINEERR_INVALADDRESSID);
                }
                self.lines[&line].device
            }
            LINECALLSELECT_CALL => {
                let handle =
                    self.call_of(conn, call.ok_or(crate::tapi::LINEERR_INVALCALLHANDLE)?)?;
                let call = self.handles[&handle].call;
                self.calls[&call].device
            }
            _ => return Err(LINEERR_INVALCALLSELECT),
        };
        match device_class.to_ascii_lowercase().as_str() {
            "tapi/line" | "tapi/phone" => Ok(Answer::DeviceId(device.0)),
            _ => Err(LINEERR_INVALDEVICECLASS),
        }
    }

    /// Live calls of a line whose state matches.
    pub(super) fn line_calls_in(
        &self,
        device: DeviceId,
        wanted: impl Fn(&CallState) -> bool,
    ) -> Vec<CallId> {
        let mut calls: Vec<CallId> = self
            .calls
            .iter()
            .filter(|(_, c)| c.device == device && c.is_live())
            .filter(|(_, c)| c.state.as_ref().is_some_and(&wanted))
            .map(|(id, _)| *id)
            .collect();
        calls.sort();
        calls
    }

    /// Counts a call in (`up`) or out of its line's calls, and tells the opens that enabled
    /// it: LINE_LINEDEVSTATE(NUMCALLS), LINE_ADDRESSSTATE(NUMCALLS, and INUSEZERO / INUSEONE /
    /// INUSEMANY when that changes).
    pub(super) fn count_call(&mut self, call: CallId, up: bool) {
        let Some(rec) = self.calls.get_mut(&call) else {
            return;
        };
        if rec.counted == up {
            return;
        }
        rec.counted = up;
        let device = rec.device;
        let count = self.line_counts.entry(device).or_default();
        let before = *count;
        *count = if up {
            before + 1
        } else {
            before.saturating_sub(1)
        };
        let after = *count;
        self.line_dev_state(device, LineDevStates::NUMCALLS, 0, 0);
        let mut states = AddressStates::NUMCALLS;
        if in_use(before) != in_use(after) {
            states |= in_use(after);
        }
        self.address_state(device, 0, states);
    }

    /// LINE_LINEDEVSTATE(`state`) to the opens of `device` that enabled it.
    pub(super) fn line_dev_state(
        &mut self,
        device: DeviceId,
        state: LineDevStates,
        param2: u32,
        param3: u32,
    ) {
        self.line_dev_state_except(device, None, state, param2, param3);
    }

    pub(super) fn line_dev_state_except(
        &mut self,
        device: DeviceId,
        except: Option<HLine>,
        state: LineDevStates,
        param2: u32,
        param3: u32,
    ) {
        let targets: Vec<(HLineApp, HLine, u32)> = self
            .lines
            .values()
            .filter(|l| l.device == device && Some(l.handle) != except)
            .filter(|l| l.line_states.intersects(state))
            .map(|l| (l.app, l.handle, l.callback_instance))
            .collect();
        for (app, line, instance) in targets {
            self.deliver(
                app,
                LineMessage {
                    h_device: line.0,
                    dw_message_id: LINE_LINEDEVSTATE,
                    dw_callback_instance: instance,
                    dw_param1: state.bits(),
                    dw_param2: param2,
                    dw_param3: param3,
                    digits: Default::default(),
                },
            );
        }
    }

    /// LINE_ADDRESSSTATE(address, the enabled part of `states`) to the opens of `device`.
    pub(super) fn address_state(&mut self, device: DeviceId, address: u32, states: AddressStates) {
        let targets: Vec<(HLineApp, HLine, u32, AddressStates)> = self
            .lines
            .values()
            .filter(|l| l.device == device && l.address_states.intersects(states))
            .map(|l| {
                (
                    l.app,
                    l.handle,
                    l.callback_instance,
                    l.address_states & states,
                )
            })
            .collect();
        for (app, line, instance, bits) in targets {
            self.deliver(
                app,
                LineMessage {
                    h_device: line.0,
                    dw_message_id: LINE_ADDRESSSTATE,
                    dw_callback_instance: instance,
                    dw_param1: address,
                    dw_param2: bits.bits(),
                    dw_param3: 0,
                    digits: Default::default(),
                },
            );
        }
    }
}

/// The INUSE state for a number of calls: none, one, many (each call of ours counts as one
/// station using the address).
fn in_use(calls: u32) -> AddressStates {
    match calls {
        0 => AddressStates::INUSEZERO,
        1 => AddressStates::INUSEONE,
        _ => AddressStates::INUSEMANY,
    }
}
