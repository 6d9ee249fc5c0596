//! The outbound leg: lineMakeCall becomes an INVITE with an SDP offer to the line's proxy; its
//! responses become the completion and call states (api.md "SIP to TAPI"); lineDrop becomes
//! CANCEL (§9.1) before the answer. 401/407 are answered with credentials (§22); every 2xx is
//! ACKed, retransmissions included (§13.2.2.4).

use bytes::Bytes;

use crate::config::ReliableProvisionals;
use crate::sdp::SdpOrigin;
use crate::sip::message::{Method, NameAddr, Request, Response, Uri};
use crate::sip::transaction::ClientTxKey;
use crate::sip::transport::Peer;
use crate::tapi::{
    CallId, CallInfoStates, CallOrigin, CallReason, CallState, ConnectedMode, DeviceId,
    DisconnectMode, LineErr, MediaModes, RequestId, LINEERR_INVALCALLSTATE,
    LINEERR_OPERATIONFAILED, LINEERR_RESOURCEUNAVAIL,
};

use super::dialog::{Dialog, DialogKey};
use super::media::CallMedia;
use super::prack::Provisional;
use super::session_timer::SessionTimer;
use super::transfer::unescape;
use super::CallParties;
use super::{Action, Call, CallEnv, Leg, News, Op, Phase, Purpose, Relation, TxFailure};
use crate::provider::auth::authenticated_retry;
use crate::provider::build::cancel_for;
use crate::provider::disconnect::disconnect_mode;

/// What only an outbound call needs.
pub(super) struct Uac {
    /// The INVITE as last sent, until it is answered (CANCEL and auth retries come from it).
    pub invite: Option<Box<Request>>,
    /// Its transaction; answers to an attempt we replaced are ignored.
    pub invite_tx: Option<ClientTxKey>,
    pub auth_attempts: u32,
    /// What the ACK for the 2xx was built from, to build it again, byte for byte, for each
    /// retransmitted 2xx (§13.2.2.4). Not the encoded ACK: that was about 300 bytes per live
    /// call, for a retransmission that rarely comes.
    pub ack: Option<KeptAck>,
    /// RFC 3262 §4: per early dialog (the peer's tag), the RSeq of the last reliable 18x.
    pub rseqs: Vec<(String, u32)>,
}

/// The parts of our ACK for a 2xx that the dialog does not hold: the INVITE's CSeq number
/// (§13.2.2.4), the branch it was sent with, and the INVITE's credentials (§22.1), which only
/// calls that were challenged have.
pub(super) struct KeptAck {
    cseq: u32,
    branch: Box<str>,
    credentials: Vec<(&'static str, Box<str>)>,
}

impl Call {
    /// A call on `line` with nothing on the network yet: a consultation call in DIALTONE
    /// (lineSetupTransfer), or the start of lineMakeCall and of a REFER's call.
    pub fn dialtone(
        id: CallId,
        line: usize,
        env: &mut CallEnv<'_>,
        related: Option<Relation>,
    ) -> Result<Call, LineErr> {
        let lease = env.media.allocate().map_err(|err| {
            tracing::warn!(%err, "no media port for a new call");
            LINEERR_RESOURCEUNAVAIL
        })?;
        let mut media = CallMedia::new(SdpOrigin::new(id.0, lease.rtp.ip()));
        media.adopt(lease);
        let ua = env.ua;
        let cfg = &ua.line.cfg;
        let local_tag = env.ids.tag();
        let call_id = env.ids.call_id(&ua.sent_by().0.to_string());
        let from = ua.line.our_identity().with_tag(&local_tag);
        let info = CallParties {
            device: DeviceId(line as u32),
            media_mode: MediaModes::INTERACTIVEVOICE,
            origin: CallOrigin::OUTBOUND,
            reason: match related {
                Some(Relation::ReferredBy(_)) => CallReason::TRANSFER,
                _ => CallReason::DIRECT,
            },
            caller_id: cfg.user.clone(),
            caller_id_name: cfg.display_name.clone().unwrap_or_default(),
            ..CallParties::default()
        };
        let aor = ua.line.aor();
        let dialog = Dialog {
            key: DialogKey { call_id, local_tag },
            remote_tag: None,
            local: from,
            remote: NameAddr::new(aor.clone()),
            remote_target: aor,
            route_set: Vec::new(),
            local_cseq: 0,
            remote_cseq: None,
        };
        let leg = Leg::Uac(Box::new(Uac {
            invite: None,
            invite_tx: None,
            auth_attempts: 0,
            ack: None,
            rseqs: Vec::new(),
        }));
        let peer = ua.line.proxy_peer();
        let mut call = Call::blank(id, line, leg, Phase::DialTone, dialog, peer, media, info);
        call.related = related;
        call.session = SessionTimer::new(cfg.min_se);
        Ok(call)
    }

    /// TSPI_lineMakeCall (with `request`) or a REFER's call (without): the INVITE for
    /// `target`; the completion comes with the first response (or fails on Timer B or a
    /// transport error).
    pub fn outbound(
        id: CallId,
        line: usize,
        env: &mut CallEnv<'_>,
        request: Option<RequestId>,
        target: Uri,
        related: Option<Relation>,
    ) -> Result<Call, LineErr> {
        let mut call = Call::dialtone(id, line, env, related)?;
        call.start_invite(env, request.map(|r| (r, Op::MakeCall)), target);
        Ok(call)
    }

    /// lineDial on a DIALTONE call: dialled exactly as lineMakeCall would.
    pub(super) fn dial(
        &mut self,
        env: &mut CallEnv<'_>,
        request: RequestId,
        target: Uri,
    ) -> Result<(), LineErr> {
        if self.phase != Phase::DialTone {
            return Err(LINEERR_INVALCALLSTATE);
        }
        self.start_invite(env, Some((request, Op::Dial)), target);
        Ok(())
    }

    /// The INVITE with our offer; `pending` completes with its first response.
    fn start_invite(
        &mut self,
        env: &mut CallEnv<'_>,
        pending: Option<(RequestId, Op)>,
        target: Uri,
    ) {
        let offer = self.media.offer().unwrap_or_default();
        self.info.called_id = target.user.clone().unwrap_or_else(|| target.to_string());
        // URI headers of a REFER's target (Replaces, ...) become headers of the INVITE
        // (RFC 3515 §2.1); the Request-URI goes without them.
        let mut target = target;
        let uri_headers = target.take_headers();
        self.dialog.remote = NameAddr::new(target.clone());
        self.dialog.remote_target = target.clone();
        self.dialog.local_cseq = 1;
        let mut invite = env.ua.out_of_dialog_request(
            env.ids,
            Method::Invite,
            target,
            self.dialog.local.clone(),
            self.dialog.remote.clone(),
            self.dialog.key.call_id.clone(),
            1,
        );
        for (name, value) in uri_headers {
            invite.headers.push(&name, unescape(&value));
        }
        if env.ua.line.cfg.reliable_provisionals == ReliableProvisionals::Required {
            invite.headers.push("Require", "100rel");
        }
        self.add_session_headers(env, &mut invite);
        invite.headers.content_type = Some("application/sdp".into());
        invite.body = offer.into_bytes();
        if let Some(uac) = self.uac() {
            uac.invite_tx = ClientTxKey::for_request(&invite);
            uac.invite = Some(Box::new(invite.clone()));
        }
        self.phase = Phase::Calling {
            cancel_when_early: false,
        };
        self.pending.extend(pending);
        if matches!(self.related, Some(Relation::ReferredBy(_))) {
            // A call nobody asked for through TAPI: its first state follows LINE_APPNEWCALL.
            self.report_state(CallState::Dialing);
        }
        let peer = self.peer;
        self.send(invite, peer, Purpose::Invite);
    }

    fn uac(&mut self) -> Option<&mut Uac> {
        match &mut self.leg {
            Leg::Uac(uac) => Some(uac),
            Leg::Uas(_) => None,
        }
    }

    /// A response to our INVITE (any attempt of it).
    pub(super) fn on_invite_response(
        &mut self,
        env: &mut CallEnv<'_>,
        key: &ClientTxKey,
        response: Response,
    ) {
        if matches!(response.status, 401 | 407) && self.retry_invite_with_auth(env, &response) {
            return;
        }
        let current = self.uac().and_then(|u| u.invite_tx.as_ref()) == Some(key);
        if !current && !response.is_success() {
            return; // a late answer to an attempt we replaced
        }
        if response.status == 422 && self.retry_invite_for_interval(env, &response) {
            return; // RFC 4028 §7.3: asked again with a longer interval
        }
        let provisional = if response.is_provisional() {
            self.accept_provisional(env, &response)
        } else {
            Provisional::Unreliable
        };
        if provisional == Provisional::Discard {
            return;
        }
        if let Some(request) = self
            .take_pending(Op::MakeCall)
            .or_else(|| self.take_pending(Op::Dial))
        {
            // api.md: the first response from the network completes lineMakeCall / lineDial.
            self.complete(request, Ok(()));
        }
        if let Some(Relation::ReferredBy(referrer)) = self.related {
            let news = News::ReferProgress {
                status: response.status,
                reason: response.reason.clone(),
            };
            self.tell(referrer, news);
        }
        if response.is_provisional() {
            self.on_early_sdp(&response, provisional == Provisional::Reliable);
            self.on_invite_provisional(&response);
        } else if response.is_success() {
            self.on_invite_success(env, response);
        } else {
            let mode = (!self.ending_by_us()).then(|| disconnect_mode(response.status));
            self.end(env, mode);
        }
    }

    fn on_invite_provisional(&mut self, response: &Response) {
        if let Phase::Calling { cancel_when_early } = self.phase {
            self.phase = Phase::Early;
            if cancel_when_early {
                self.send_cancel();
                return;
            }
        }
        if self.phase != Phase::Early {
            return;
        }
        let state = match response.status {
            180 | 183 => CallState::Ringback,
            _ if self.state == Some(CallState::Ringback) => return,
            _ => CallState::Proceeding,
        };
        self.report_state(state);
    }

    /// A 2xx: confirm the dialog, ACK it (again for each retransmission, §13.2.2.4), then
    /// CONNECTED, or BYE when the call is being dropped or the answer has no usable SDP.
    fn on_invite_success(&mut self, env: &mut CallEnv<'_>, response: Response) {
        if self.uac().is_some_and(|u| u.ack.is_some()) {
            self.resend_ack(env);
            return;
        }
        self.dialog.establish_from(&response);
        self.info.connected_id = self.info.called_id.clone();
        self.send_ack(env);
        if let Some(uac) = self.uac() {
            // The INVITE was only kept for CANCEL and authentication retries.
            uac.invite = None;
        }
        let dropping =
            self.phase == Phase::Cancelling || self.has_pending(Op::Drop) || self.released;
        if dropping || env.stopping {
            self.send_bye(env);
            return;
        }
        match self.take_final_answer(&response) {
            Ok(()) => {
                self.phase = Phase::Connected;
                self.on_session_answer(env, &response);
                self.report_state(CallState::Connected(ConnectedMode::ACTIVE));
                self.report_info(CallInfoStates::CONNECTEDID);
            }
            Err(err) => {
                tracing::info!(call = %self.id, %err, "2xx without a usable SDP answer: hanging up");
                self.send_bye(env);
                self.end(env, Some(DisconnectMode::INCOMPATIBLE));
            }
        }
    }

    /// §13.2.2.4: the ACK for a 2xx is sent outside any transaction, with the INVITE's
    /// credentials (§22.1); what it was built from is kept for the 2xx's retransmissions.
    fn send_ack(&mut self, env: &mut CallEnv<'_>) {
        let fallback = self.dialog.local_cseq;
        let invite = self.uac().and_then(|u| u.invite.as_deref());
        // The INVITE's CSeq number, whatever PRACKs came after it (§13.2.2.4).
        let cseq = invite.map_or(fallback, |i| i.headers.cseq.seq);
        let credentials: Vec<(&'static str, Box<str>)> = ["Authorization", "Proxy-Authorization"]
            .into_iter()
            .filter_map(|name| Some((name, invite?.headers.get(name)?.into())))
            .collect();
        let (ack, to) = self.build_ack(env, cseq, None, &credentials);
        let branch = ack.headers.via.first().and_then(|v| v.branch());
        let kept = KeptAck {
            cseq,
            branch: branch.unwrap_or_default().into(),
            credentials,
        };
        self.push_ack(&ack, to);
        if let Some(uac) = self.uac() {
            uac.ack = Some(kept);
        }
    }

    /// The same ACK again, for a retransmitted 2xx (§13.2.2.4).
    fn resend_ack(&mut self, env: &mut CallEnv<'_>) {
        let Some(kept) = self.uac().and_then(|u| u.ack.take()) else {
            return;
        };
        let (ack, to) = self.build_ack(env, kept.cseq, Some(&kept.branch), &kept.credentials);
        self.push_ack(&ack, to);
        if let Some(uac) = self.uac() {
            uac.ack = Some(kept);
        }
    }

    /// Our ACK in the dialog: a fresh branch unless `branch` is given.
    fn build_ack(
        &self,
        env: &mut CallEnv<'_>,
        cseq: u32,
        branch: Option<&str>,
        credentials: &[(&'static str, Box<str>)],
    ) -> (Request, Peer) {
        let (mut ack, to) =
            env.ua
                .in_dialog_request(env.ids, &self.dialog, Method::Ack, cseq, self.peer);
        if let (Some(branch), Some(via)) = (branch, ack.headers.via.first_mut()) {
            via.params.set("branch", Some(branch));
        }
        for (name, value) in credentials {
            ack.headers.push(name, value.to_string());
        }
        ack.headers.remove("User-Agent");
        (ack, to)
    }

    fn push_ack(&mut self, ack: &Request, to: Peer) {
        let bytes = Bytes::from(crate::sip::codec::encode_request(ack));
        self.push(Action::Raw { to, bytes });
    }

    /// Timer B or a transport error on the INVITE.
    pub(super) fn on_invite_failure(
        &mut self,
        env: &mut CallEnv<'_>,
        key: &ClientTxKey,
        failure: TxFailure,
    ) {
        if self.uac().and_then(|u| u.invite_tx.as_ref()) != Some(key) {
            return;
        }
        let err = match failure {
            TxFailure::Timeout => LINEERR_OPERATIONFAILED,
            TxFailure::Transport => LINEERR_RESOURCEUNAVAIL,
        };
        if let Some(Relation::ReferredBy(referrer)) = self.related {
            let (status, reason) = match failure {
                TxFailure::Timeout => (408, "Request Timeout"),
                TxFailure::Transport => (503, "Service Unavailable"),
            };
            let reason = reason.to_string();
            self.tell(referrer, News::ReferProgress { status, reason });
        }
        if let Some(request) = self.take_pending(Op::MakeCall) {
            // docs/api.md: no answer at all -> LINEERR_OPERATIONFAILED, the provider cannot be
            // reached (connect refused, unreachable) -> LINEERR_RESOURCEUNAVAIL. No call states.
            self.state = Some(CallState::Idle);
            self.released = true;
            self.complete(request, Err(err));
            self.end(env, None);
            return;
        }
        if let Some(request) = self.take_pending(Op::Dial) {
            // A consultation call nobody answered: the request fails, the call goes IDLE.
            self.complete(request, Err(err));
            self.end(env, None);
            return;
        }
        let mode = (!self.ending_by_us()).then_some(DisconnectMode::UNREACHABLE);
        self.end(env, mode);
    }

    /// §9.1: CANCEL our INVITE (its final response, or 64*T1 without one, ends the call: the
    /// transaction layer keeps that limit).
    pub(super) fn send_cancel(&mut self) {
        let Some(invite) = self.uac().and_then(|u| u.invite.as_deref()) else {
            return;
        };
        let cancel = cancel_for(invite);
        self.phase = Phase::Cancelling;
        let peer = self.peer;
        self.send(cancel, peer, Purpose::Cancel);
    }

    /// 401/407 to our INVITE: re-send with credentials; `false` means treat it as final.
    fn retry_invite_with_auth(&mut self, env: &mut CallEnv<'_>, response: &Response) -> bool {
        let cancelling = matches!(
            self.phase,
            Phase::Calling {
                cancel_when_early: true
            } | Phase::Cancelling
        );
        if cancelling || self.released {
            return false;
        }
        let Some(uac) = self.uac() else {
            return false;
        };
        let attempts = uac.auth_attempts;
        let Some(invite) = uac.invite.as_deref() else {
            return false;
        };
        let Some((retry, _)) = authenticated_retry(env.ua, env.ids, invite, response, attempts)
        else {
            return false;
        };
        self.dialog.local_cseq = retry.headers.cseq.seq;
        if let Some(uac) = self.uac() {
            uac.auth_attempts += 1;
        }
        self.resend_invite(retry);
        true
    }

    /// Sends `retry` as the new attempt of our INVITE (answers to the old one are ignored).
    pub(super) fn resend_invite(&mut self, retry: Request) {
        if let Some(uac) = self.uac() {
            uac.invite_tx = ClientTxKey::for_request(&retry);
            uac.invite = Some(Box::new(retry.clone()));
        }
        let peer = self.peer;
        self.send(retry, peer, Purpose::Invite);
    }
}
