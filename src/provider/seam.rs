//! The [`LineProvider`] functions (our TSPI) on the SIP provider: device information, and the
//! requests TAPISRV hands to calls.

use std::time::Instant;

use crate::tapi::consts::*;
use crate::tapi::{
    AddressCapsAnswer, CallFeatures, CallId, CallOp, DevCaps, DeviceId, ForwardEntry,
    LineDevStatus, LineErr, LineProvider, MediaModes, ProviderCallInfo, ProviderEvent, RequestId,
    LINEERR_BADDEVICEID, LINEERR_INVALCALLHANDLE, LINEERR_RESOURCEUNAVAIL,
};

use super::build::Ua;
use super::call::{Call, CallEnv};
use super::SipProvider;

impl LineProvider for SipProvider {
    fn num_lines(&self) -> u32 {
        self.lines.len() as u32
    }

    fn line_user(&self, device: DeviceId) -> Option<&str> {
        let line = self.lines.get(device.0 as usize)?;
        Some(&line.cfg.user)
    }

    fn dev_caps(&self, device: DeviceId) -> Option<DevCaps> {
        Some(self.lines.get(self.line_index(device)?)?.dev_caps())
    }

    fn line_dev_status(&self, device: DeviceId) -> Option<LineDevStatus> {
        let index = self.line_index(device)?;
        let registration = &self.registrations[index];
        let mut flags = LINEDEVSTATUSFLAGS_CONNECTED;
        if registration.in_service() {
            flags |= LINEDEVSTATUSFLAGS_INSERVICE;
        }
        let active = self
            .calls
            .values()
            .filter(|c| c.line == index && c.is_live())
            .count() as u32;
        Some(LineDevStatus {
            dev_status_flags: flags,
            num_active_calls: active,
            registered: registration.is_registered(),
        })
    }

    fn set_default_media_detection(
        &mut self,
        _now: Instant,
        device: DeviceId,
        media_modes: MediaModes,
    ) {
        if let Some(index) = self.line_index(device) {
            self.lines[index].media_detection = media_modes;
        }
    }

    fn make_call(
        &mut self,
        now: Instant,
        request: RequestId,
        device: DeviceId,
        dest: &str,
    ) -> Result<CallId, LineErr> {
        let line = self.line_index(device).ok_or(LINEERR_BADDEVICEID)?;
        if self.stopping {
            return Err(LINEERR_RESOURCEUNAVAIL);
        }
        if self.lines[line].cfg.require_registration && !self.registrations[line].in_service() {
            return Err(LINEERR_RESOURCEUNAVAIL);
        }
        let target = self.lines[line].dest_uri(dest)?;
        let id = self.new_call_id();
        let mut env = CallEnv {
            now,
            ua: Ua::new(&self.sip, &self.lines[line]),
            ids: &mut self.ids,
            media: &mut *self.media,
            stopping: self.stopping,
        };
        let call = Call::outbound(id, line, &mut env, Some(request), target, None)?;
        self.routes.add_call(&call);
        self.calls.insert(id, Box::new(call));
        self.drive_call(now, id);
        Ok(id)
    }

    fn call_op(
        &mut self,
        now: Instant,
        request: RequestId,
        call: CallId,
        op: CallOp,
    ) -> Result<(), LineErr> {
        if self.is_conference(call) {
            return match op {
                CallOp::Drop => self.drop_conference(now, request, call),
                _ => Err(crate::tapi::LINEERR_OPERATIONUNAVAIL),
            };
        }
        if op == CallOp::RemoveFromConference {
            return self.remove_from_conference(now, request, call);
        }
        let file_op = match op {
            CallOp::Play { file, looped } => super::media_link::FileOp::Play { file, looped },
            CallOp::Record {
                file,
                max_ms,
                silence_ms,
            } => super::media_link::FileOp::Record {
                file,
                max_ms,
                silence_ms,
            },
            op => {
                return self
                    .with_call(now, call, |c, env| c.handle_op(env, request, op))
                    .unwrap_or(Err(LINEERR_INVALCALLHANDLE))
            }
        };
        self.file_op(now, request, call, file_op)
    }

    fn media_control(
        &mut self,
        now: Instant,
        call: CallId,
        control: crate::tapi::MediaControl,
    ) -> Result<(), LineErr> {
        self.call_media_control(now, call, control)
    }

    fn setup_transfer(
        &mut self,
        now: Instant,
        request: RequestId,
        call: CallId,
    ) -> Result<CallId, LineErr> {
        self.setup_transfer_call(now, request, call)
    }

    fn complete_transfer(
        &mut self,
        now: Instant,
        request: RequestId,
        call: CallId,
        consult: CallId,
        mode: u32,
    ) -> Result<(), LineErr> {
        self.complete_transfer_calls(now, request, call, consult, mode)
    }

    fn swap_hold(
        &mut self,
        now: Instant,
        request: RequestId,
        active: CallId,
        held: CallId,
    ) -> Result<(), LineErr> {
        self.swap_hold_calls(now, request, active, held)
    }

    fn forward(
        &mut self,
        _now: Instant,
        request: RequestId,
        device: DeviceId,
        forwards: &[ForwardEntry],
        num_rings_no_answer: u32,
    ) -> Result<(), LineErr> {
        self.forward_line(request, device, forwards, num_rings_no_answer)
    }

    fn call_features(&self, call: CallId) -> CallFeatures {
        if self.is_conference(call) {
            return self.conference_features(call);
        }
        self.features_of(call)
    }

    fn setup_conference(
        &mut self,
        now: Instant,
        request: RequestId,
        call: CallId,
    ) -> Result<(CallId, CallId), LineErr> {
        self.setup_conference_calls(now, request, call)
    }

    fn prepare_add_to_conference(
        &mut self,
        now: Instant,
        request: RequestId,
        conf: CallId,
    ) -> Result<CallId, LineErr> {
        self.prepare_add(now, request, conf)
    }

    fn add_to_conference(
        &mut self,
        now: Instant,
        request: RequestId,
        conf: CallId,
        call: CallId,
    ) -> Result<(), LineErr> {
        self.add_party(now, request, conf, call)
    }

    fn conference_transfer(
        &mut self,
        now: Instant,
        request: RequestId,
        call: CallId,
        consult: CallId,
    ) -> Result<CallId, LineErr> {
        self.conference_calls(now, request, call, consult)
    }

    fn address_caps(&self, device: DeviceId) -> Option<AddressCapsAnswer> {
        Some(self.lines.get(self.line_index(device)?)?.address_caps())
    }

    fn forwarding(&self, device: DeviceId) -> (Vec<ForwardEntry>, u32) {
        let Some(line) = self.line_index(device).and_then(|i| self.lines.get(i)) else {
            return (Vec::new(), 0);
        };
        let f = &line.forwarding;
        let entries = f
            .entries
            .iter()
            .map(|(mode, dest)| ForwardEntry {
                mode: *mode,
                dest: dest.clone(),
            })
            .collect();
        (entries, f.num_rings_no_answer)
    }

    fn close_call(&mut self, now: Instant, call: CallId) {
        if self.is_conference(call) {
            return self.close_conference(now, call);
        }
        self.with_call(now, call, |c, env| c.release(env));
    }

    fn call_info(&self, call: CallId) -> Option<ProviderCallInfo> {
        if self.is_conference(call) {
            return self.conference_info(call);
        }
        self.calls.get(&call).map(|c| c.info())
    }

    fn poll_event(&mut self) -> Option<ProviderEvent> {
        self.events.pop_front()
    }
}
