//! Outbound calls: lineMakeCall becomes an INVITE with an SDP offer to the line's proxy; its
//! responses become the completion and call states (api.md "SIP to TAPI"); lineDrop becomes
//! CANCEL (§9.1) or BYE (§15).

use std::time::Instant;

use crate::sdp::{self, SdpOrigin};
use crate::sip::message::{Method, NameAddr, Request, Response};
use crate::sip::transaction::ClientTxKey;
use crate::tapi::consts::*;
use crate::tapi::{
    CallId, DeviceId, LineErr, ProviderCallInfo, RequestId, LINEERR_BADDEVICEID,
    LINEERR_INVALCALLHANDLE, LINEERR_INVALCALLSTATE, LINEERR_OPERATIONFAILED,
    LINEERR_RESOURCEUNAVAIL,
};

use super::build::cancel_for;
use super::call::{disconnect_mode, Call, Dialog, Op, Phase};
use super::timers::TimerKind;
use super::{SipProvider, TxOwner};

impl SipProvider {
    /// TSPI_lineMakeCall: build and send the INVITE; the completion comes with the first
    /// response (or fails on Timer B / a transport error).
    pub(super) fn start_outbound_call(
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
        if self.lines[line].cfg.require_registration && !self.line_in_service(line) {
            return Err(LINEERR_RESOURCEUNAVAIL);
        }
        let target = self.lines[line].dest_uri(dest)?;
        let lease = self.media.allocate().map_err(|err| {
            tracing::warn!(%err, "no media port for a new call");
            LINEERR_RESOURCEUNAVAIL
        })?;
        let id = self.new_call_id();
        let origin = SdpOrigin::new(id.0, lease.rtp.ip());
        let offer = sdp::build_offer(&origin, lease.rtp);
        let local_tag = self.ids.tag();
        let (host, _) = self.sent_by(Some(line));
        let call_id = self.ids.call_id(&host.to_string());
        let from = self.lines[line].our_identity().with_tag(&local_tag);
        let to = NameAddr::new(target.clone());
        let mut invite = self.out_of_dialog_request(
            line,
            Method::Invite,
            target.clone(),
            from.clone(),
            to.clone(),
            call_id.clone(),
            1,
        );
        invite.headers.content_type = Some("application/sdp".into());
        invite.body = offer.clone().into_bytes();
        let peer = self.lines[line].proxy_peer();
        let info = ProviderCallInfo {
            device,
            media_mode: LINEMEDIAMODE_INTERACTIVEVOICE,
            origin: LINECALLORIGIN_OUTBOUND,
            reason: LINECALLREASON_DIRECT,
            caller_id: self.lines[line].cfg.user.clone(),
            caller_id_name: self.lines[line]
                .cfg
                .display_name
                .clone()
                .unwrap_or_default(),
            called_id: target.user.clone().unwrap_or_else(|| target.to_string()),
            ..ProviderCallInfo::default()
        };
        let dialog = Dialog {
            call_id: call_id.clone(),
            local_tag: local_tag.clone(),
            remote_tag: None,
            local: from,
            remote: to,
            remote_target: target,
            route_set: Vec::new(),
            local_cseq: 1,
            remote_cseq: None,
        };
        let call = Call {
            id,
            line,
            phase: Phase::Calling,
            tapi_state: 0,
            dialog,
            peer,
            invite: Some(Box::new(invite.clone())),
            invite_tx: None,
            remote_invite: None,
            server_tx: None,
            pending: vec![(request, Op::MakeCall)],
            cancel_on_provisional: false,
            hangup_on_ack: false,
            ack: None,
            uas_2xx: None,
            auth_attempts: 0,
            local_rtp: Some(lease.rtp),
            media: Some(lease),
            sdp_origin: origin,
            local_sdp: Some(offer),
            remote_media: None,
            info,
            cancel_deadline: None,
            released: false,
        };
        self.calls.insert(id, Box::new(call));
        self.dialogs.insert((call_id, local_tag), id);
        let Some(key) = self.send_request(now, invite, peer, TxOwner::Invite(id)) else {
            if let Some(call) = self.calls.remove(&id) {
                self.forget_call(call);
            }
            return Err(LINEERR_OPERATIONFAILED);
        };
        if let Some(c) = self.calls.get_mut(&id) {
            c.invite_tx = Some(key);
        }
        Ok(id)
    }

    /// A response to our INVITE (any attempt of it).
    pub(super) fn on_invite_response(
        &mut self,
        now: Instant,
        call: CallId,
        key: ClientTxKey,
        response: Response,
    ) {
        if !self.calls.contains_key(&call) {
            return;
        }
        if matches!(response.status, 401 | 407) && self.retry_invite_with_auth(now, call, &response)
        {
            return;
        }
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if c.invite_tx.as_ref() != Some(&key) && !response.is_success() {
            return; // a late answer to an attempt we replaced
        }
        if let Some(request) = c.take_pending(Op::MakeCall) {
            // api.md: the first response from the network completes lineMakeCall.
            self.complete(request, Ok(()));
        }
        if response.is_provisional() {
            self.on_invite_provisional(now, call, &response);
        } else if response.is_success() {
            self.on_invite_success(now, call, response);
        } else {
            self.on_invite_rejected(call, &response);
        }
    }

    fn on_invite_provisional(&mut self, now: Instant, call: CallId, response: &Response) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if c.phase == Phase::Calling {
            c.phase = Phase::Early;
        }
        if c.cancel_on_provisional {
            c.cancel_on_provisional = false;
            self.send_cancel(now, call);
            return;
        }
        if c.phase != Phase::Early {
            return;
        }
        let state = match response.status {
            180 | 183 => LINECALLSTATE_RINGBACK,
            _ if c.tapi_state == LINECALLSTATE_RINGBACK => return,
            _ => LINECALLSTATE_PROCEEDING,
        };
        self.report_state(call, state, 0);
    }

    /// A 2xx: confirm the dialog, ACK it (again for each retransmission, §13.2.2.4), then
    /// CONNECTED, or BYE when the call is being dropped or the answer has no usable SDP.
    fn on_invite_success(&mut self, now: Instant, call: CallId, response: Response) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if let Some((ack, peer)) = c.ack.clone() {
            self.txl.send_encoded(peer, ack);
            return;
        }
        establish_dialog(&mut c.dialog, &response);
        c.info.connected_id = c.info.called_id.clone();
        let (line, dialog, peer, invite) = (c.line, c.dialog.clone(), c.peer, c.invite.clone());
        let (mut ack, ack_peer) =
            self.in_dialog_request(line, &dialog, Method::Ack, dialog.local_cseq, peer);
        if let Some(invite) = invite {
            // §22.1: the ACK for a 2xx carries the INVITE's credentials.
            for name in ["Authorization", "Proxy-Authorization"] {
                if let Some(value) = invite.headers.get(name) {
                    ack.headers.push(name, value.to_string());
                }
            }
        }
        ack.headers.remove("User-Agent");
        let ack = bytes::Bytes::from(crate::sip::codec::encode_request(&ack));
        self.txl.send_encoded(ack_peer, ack.clone());
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        c.ack = Some((ack, ack_peer));
        // The INVITE was only kept for CANCEL and authentication retries.
        c.invite = None;
        c.cancel_deadline = None;
        let dropping = c.phase == Phase::Cancelling || c.has_pending(Op::Drop) || c.released;
        if dropping || self.stopping {
            self.send_bye(now, call);
            return;
        }
        match sdp::parse_answer(&response.body) {
            Ok(remote) => {
                c.remote_media = Some(remote);
                c.phase = Phase::Connected;
                // Our offer is rebuilt from the origin and the lease if a re-INVITE needs it.
                c.local_sdp = None;
                self.report_state(call, LINECALLSTATE_CONNECTED, LINECONNECTEDMODE_ACTIVE);
                self.report_info(call, LINECALLINFOSTATE_CONNECTEDID);
            }
            Err(err) => {
                tracing::info!(?call, %err, "2xx without a usable SDP answer: hanging up");
                self.send_bye(now, call);
                self.end_call(call, Some(LINEDISCONNECTMODE_INCOMPATIBLE));
            }
        }
    }

    fn on_invite_rejected(&mut self, call: CallId, response: &Response) {
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        let local = c.phase == Phase::Cancelling || c.has_pending(Op::Drop);
        let mode = (!local).then(|| disconnect_mode(response.status));
        self.end_call(call, mode);
    }

    /// Timer B or a transport error on the INVITE.
    pub(super) fn on_invite_failure(&mut self, _now: Instant, call: CallId, timeout: bool) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if let Some(request) = c.take_pending(Op::MakeCall) {
            // docs/api.md: no answer at all -> LINEERR_OPERATIONFAILED, the provider cannot be
            // reached (connect refused, unreachable) -> LINEERR_RESOURCEUNAVAIL. No call states.
            c.tapi_state = LINECALLSTATE_IDLE;
            c.released = true;
            let err = if timeout {
                LINEERR_OPERATIONFAILED
            } else {
                LINEERR_RESOURCEUNAVAIL
            };
            self.complete(request, Err(err));
            self.end_call(call, None);
            return;
        }
        let local = c.phase == Phase::Cancelling || c.has_pending(Op::Drop);
        let mode = (!local).then_some(LINEDISCONNECTMODE_UNREACHABLE);
        self.end_call(call, mode);
    }

    /// TSPI_lineDrop, for both directions.
    pub(super) fn drop_requested(
        &mut self,
        now: Instant,
        request: RequestId,
        call: CallId,
    ) -> Result<(), LineErr> {
        let c = self.calls.get_mut(&call).ok_or(LINEERR_INVALCALLHANDLE)?;
        if c.phase == Phase::Ended {
            // A disconnected call goes idle on lineDrop; an idle one cannot be dropped.
            if c.tapi_state != LINECALLSTATE_DISCONNECTED {
                return Err(LINEERR_INVALCALLSTATE);
            }
            self.complete(request, Ok(()));
            self.report_state(call, LINECALLSTATE_IDLE, 0);
            return Ok(());
        }
        if c.has_pending(Op::Drop) || c.has_pending(Op::MakeCall) {
            return Err(LINEERR_INVALCALLSTATE);
        }
        if c.phase == Phase::Terminating {
            return Err(LINEERR_INVALCALLSTATE);
        }
        c.pending.push((request, Op::Drop));
        self.hang_up(now, call);
        Ok(())
    }

    /// Ends a live call from our side, by the means its phase allows.
    pub(super) fn hang_up(&mut self, now: Instant, call: CallId) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        match c.phase {
            Phase::Calling => c.cancel_on_provisional = true,
            Phase::Early => self.send_cancel(now, call),
            Phase::Connected => self.send_bye(now, call),
            Phase::Answering => c.hangup_on_ack = true, // §15: no BYE before the ACK
            Phase::Offering | Phase::Accepted => self.reject(now, call, 603, None),
            Phase::Cancelling | Phase::Terminating | Phase::Ended => {}
        }
    }

    fn send_cancel(&mut self, now: Instant, call: CallId) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(invite) = &c.invite else {
            return;
        };
        let cancel = cancel_for(invite);
        let peer = c.peer;
        c.phase = Phase::Cancelling;
        let deadline = now + self.sip.timers.timeout_64t1();
        c.cancel_deadline = Some(deadline);
        self.timers
            .schedule(deadline, TimerKind::CancelGiveUp(call));
        self.send_request(now, cancel, peer, TxOwner::Cancel(call));
    }

    /// §9.1: no final response 64*T1 after the CANCEL: the INVITE is given up.
    pub(super) fn on_cancel_give_up(&mut self, now: Instant, call: CallId) {
        let due = self
            .calls
            .get(&call)
            .and_then(|c| c.cancel_deadline)
            .is_some_and(|d| d <= now);
        if due {
            self.end_call(call, None);
        }
    }

    pub(super) fn send_bye(&mut self, now: Instant, call: CallId) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let cseq = c.next_cseq();
        c.phase = Phase::Terminating;
        c.uas_2xx = None;
        let (line, dialog, peer) = (c.line, c.dialog.clone(), c.peer);
        let (bye, destination) = self.in_dialog_request(line, &dialog, Method::Bye, cseq, peer);
        if self
            .send_request(now, bye, destination, TxOwner::Bye(call))
            .is_none()
        {
            self.end_call(call, None);
        }
    }

    /// Our BYE was answered (any final, 481 included) or timed out: the dialog is gone.
    pub(super) fn on_bye_done(&mut self, _now: Instant, call: CallId) {
        if self
            .calls
            .get(&call)
            .is_some_and(|c| c.phase == Phase::Terminating)
        {
            self.end_call(call, None);
        }
    }

    /// Replaces the INVITE after a challenge (see `auth`).
    pub(super) fn resend_invite(&mut self, now: Instant, call: CallId, invite: Request) {
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        let peer = c.peer;
        let key = self.send_request(now, invite.clone(), peer, TxOwner::Invite(call));
        if let Some(c) = self.calls.get_mut(&call) {
            c.dialog.local_cseq = invite.headers.cseq.seq;
            c.invite = Some(Box::new(invite));
            c.invite_tx = key;
        }
    }
}

/// §12.1.2: the dialog of the UAC from a 2xx: remote tag, remote target (Contact), route set
/// (Record-Route reversed).
fn establish_dialog(dialog: &mut Dialog, response: &Response) {
    dialog.remote_tag = response.headers.to.tag().map(str::to_string);
    if let Some(contact) = response.headers.contact.first() {
        dialog.remote_target = contact.uri.clone();
    }
    dialog.route_set = response
        .headers
        .record_route
        .iter()
        .rev()
        .cloned()
        .collect();
}
