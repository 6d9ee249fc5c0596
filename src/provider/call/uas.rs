//! The inbound leg (api.md "SIP to TAPI", inbound part): an INVITE offered to TAPI with 180
//! Ringing; lineAccept, lineAnswer (2xx retransmitted until the ACK, RFC 3261 §13.3.1.4),
//! rejection (603) and redirection (302); the caller's CANCEL (§9.2).

use std::time::{Duration, Instant};

use crate::sdp::{self, SdpOrigin};
use crate::sip::message::{NameAddr, Request, Response, Uri};
use crate::sip::transaction::ServerTxKey;
use crate::sip::transport::{response_destination, Peer};
use crate::tapi::{
    CallId, CallOrigin, CallReason, CallState, ConnectedMode, DeviceId, DisconnectMode,
    LineDevStates, LineErr, MediaModes, OfferingMode, ProviderEvent, RequestId,
    LINEERR_INVALCALLSTATE, LINEERR_RESOURCEUNAVAIL,
};

use super::dialog::{Dialog, DialogKey};
use super::media::CallMedia;
use super::prack::ReliableOut;
use super::session_timer::SessionTimer;
use super::CallParties;
use super::{Action, Call, CallEnv, Leg, Op, Phase};
use crate::provider::build::{ALLOW, SUPPORTED};

/// What only an inbound call needs.
pub(super) struct Uas {
    /// The INVITE, until the dialog is confirmed (responses to it are built from it).
    pub invite: Option<Box<Request>>,
    pub server_tx: Option<ServerTxKey>,
    /// lineForward NOANSW: when, and where, an unanswered offer is forwarded.
    pub no_answer: Option<(Instant, Uri)>,
    /// While offered: when the next ring is, and its count (LINE_LINEDEVSTATE(RINGING)).
    pub ring: Option<(Instant, u32)>,
    /// Our reliable 18x (RFC 3262), once sent.
    pub reliable: Option<Box<ReliableOut>>,
    /// lineAnswer's 2xx body, held until the PRACK of a reliable 18x with our offer (§3).
    pub answer_after_prack: Option<String>,
}

/// How often an offered call rings (api.md: RINGING every 6 s).
pub const RING_PERIOD: std::time::Duration = std::time::Duration::from_secs(6);

/// RFC 5806 Diversion for a call we forward: our AOR, the reason, counter 1.
pub fn diversion(env: &CallEnv<'_>, reason: &str) -> String {
    format!(
        "{};reason={reason};counter=1",
        NameAddr::new(env.ua.line.aor())
    )
}

/// Retransmission of a 2xx to an INVITE until its ACK (RFC 3261 §13.3.1.4): T1 doubling up to
/// T2 over UDP, none over TCP; given up after 64*T1.
#[derive(Debug, Clone)]
pub struct Retransmit2xx {
    pub response: Response,
    pub destination: Peer,
    pub interval: Duration,
    pub next: Instant,
    pub give_up: Instant,
    /// True for the answer to the initial INVITE (a timeout ends the call).
    pub initial: bool,
}

impl Call {
    /// A call for an INVITE to one of our lines (nothing is sent or reported yet: the provider
    /// then offers it or, for an INVITE with Replaces, answers it).
    #[allow(clippy::too_many_arguments)]
    pub fn incoming(
        id: CallId,
        line: usize,
        env: &mut CallEnv<'_>,
        tx: ServerTxKey,
        invite: Request,
        source: Peer,
        media_ip: std::net::IpAddr,
        reason: CallReason,
    ) -> Call {
        let local_tag = env.ids.tag();
        let mut info = inbound_info(line, &invite);
        info.reason = reason;
        let dialog = uas_dialog(&invite, local_tag);
        let leg = Leg::Uas(Box::new(Uas {
            invite: Some(Box::new(invite)),
            server_tx: Some(tx),
            no_answer: None,
            ring: None,
            reliable: None,
            answer_after_prack: None,
        }));
        let media = CallMedia::new(SdpOrigin::new(id.0, media_ip));
        let mut call = Call::blank(id, line, leg, Phase::Offering, dialog, source, media, info);
        call.session = SessionTimer::new(env.ua.line.cfg.min_se);
        call
    }

    /// Offers the call to TAPI: OFFERING, then 180 Ringing. With `no_answer`, it is forwarded
    /// there (302 with Diversion, RFC 5806) if nobody answers by then (lineForward NOANSW).
    pub fn offer(&mut self, env: &mut CallEnv<'_>, no_answer: Option<(Instant, Uri)>) {
        if let Leg::Uas(uas) = &mut self.leg {
            uas.no_answer = no_answer;
            uas.ring = Some((env.now, 0));
        }
        self.report_state(CallState::Offering(OfferingMode::ACTIVE));
        self.ring(env);
        if let Some(ringing) = self.response_to_invite(env, 180) {
            self.send_provisional(env, ringing);
        }
    }

    /// When an offered call rings next.
    pub(super) fn ring_deadline(&self) -> Option<Instant> {
        match (&self.leg, self.phase) {
            (Leg::Uas(uas), Phase::Offering | Phase::Accepted) => uas.ring.map(|(at, _)| at),
            _ => None,
        }
    }

    /// LINE_LINEDEVSTATE(RINGING, ring mode 1, ring count) now, and again in 6 s.
    pub(super) fn ring(&mut self, env: &CallEnv<'_>) {
        let Leg::Uas(uas) = &mut self.leg else {
            return;
        };
        let Some((_, count)) = uas.ring else {
            return;
        };
        uas.ring = Some((env.now + RING_PERIOD, count + 1));
        if self.released {
            return;
        }
        let device = self.info.device;
        self.push(Action::Event(ProviderEvent::LineDevState {
            device,
            state: LineDevStates::RINGING,
            param2: 1,
            param3: count,
        }));
    }

    /// An INVITE with Replaces (RFC 3891) taking over one of our confirmed calls: answered at
    /// once, CONNECTED. `false` when it cannot be answered (it was rejected).
    pub fn answer_replacing(&mut self, env: &mut CallEnv<'_>) -> bool {
        let Ok(lease) = env.media.allocate() else {
            self.reject(env, 503, None);
            return false;
        };
        self.media.adopt(lease);
        let offer = self
            .uas()
            .and_then(|u| u.invite.as_ref())
            .map(|r| r.body.clone())
            .unwrap_or_default();
        let body = if offer.is_empty() {
            self.media.offer().unwrap_or_default()
        } else {
            match self.answer_offer(&offer) {
                Some(answer) => answer,
                None => {
                    self.reject(env, 488, None);
                    self.end(env, None);
                    return false;
                }
            }
        };
        self.send_answer(env, body);
        self.report_state(CallState::Connected(ConnectedMode::ACTIVE));
        true
    }

    /// When an unanswered offered call is forwarded (lineForward NOANSW).
    pub(super) fn no_answer_deadline(&self) -> Option<Instant> {
        match (&self.leg, self.phase) {
            (Leg::Uas(uas), Phase::Offering | Phase::Accepted) => {
                uas.no_answer.as_ref().map(|(at, _)| *at)
            }
            _ => None,
        }
    }

    /// Nobody answered in time: 302 to the forwarding target with Diversion (reason
    /// no-answer); the call goes DISCONNECTED(FORWARDED), IDLE.
    pub(super) fn on_no_answer(&mut self, env: &mut CallEnv<'_>) {
        let target = match &mut self.leg {
            Leg::Uas(uas) => uas.no_answer.take().map(|(_, t)| t),
            Leg::Uac(_) => None,
        };
        let Some(target) = target else {
            return;
        };
        if let Some(mut response) = self.response_to_invite(env, 302) {
            response.headers.contact.push(NameAddr::new(target));
            response
                .headers
                .push("Diversion", diversion(env, "no-answer"));
            self.respond_invite(response);
        }
        self.end(env, Some(DisconnectMode::FORWARDED));
    }

    pub(super) fn uas(&self) -> Option<&Uas> {
        match &self.leg {
            Leg::Uas(uas) => Some(uas),
            Leg::Uac(_) => None,
        }
    }

    /// TSPI_lineAccept: ACCEPTED at once (nothing goes on the wire).
    pub(super) fn accept(&mut self, request: RequestId) -> Result<(), LineErr> {
        if self.phase != Phase::Offering {
            return Err(LINEERR_INVALCALLSTATE);
        }
        self.phase = Phase::Accepted;
        self.complete(request, Ok(()));
        self.report_state(CallState::Accepted);
        Ok(())
    }

    /// TSPI_lineAnswer: 200 OK with our SDP; completes on the ACK.
    pub(super) fn answer(
        &mut self,
        env: &mut CallEnv<'_>,
        request: RequestId,
    ) -> Result<(), LineErr> {
        let answering = self.has_pending(Op::Answer);
        if !matches!(self.phase, Phase::Offering | Phase::Accepted) || answering {
            return Err(LINEERR_INVALCALLSTATE);
        }
        if self.media.lease.is_none() {
            let lease = env.media.allocate().map_err(|err| {
                tracing::warn!(%err, "no media port to answer a call");
                LINEERR_RESOURCEUNAVAIL
            })?;
            self.media.adopt(lease);
        }
        self.pending.push((request, Op::Answer));
        let offer = self
            .uas()
            .and_then(|u| u.invite.as_ref())
            .map(|r| r.body.clone())
            .unwrap_or_default();
        let body = if offer.is_empty() {
            // No offer in the INVITE: ours goes in the 200 (or went in a reliable 18x, RFC 3262
            // §5: the same description), the answer comes in the ACK (or came in the PRACK).
            match self.media.last_sent() {
                Some(sent) => sent,
                None => self.media.offer().unwrap_or_default(),
            }
        } else {
            match self.answer_offer(&offer) {
                Some(answer) => answer,
                None => {
                    self.reject(env, 488, None);
                    self.end(env, Some(DisconnectMode::INCOMPATIBLE));
                    return Ok(());
                }
            }
        };
        if self.answer_waits_for_prack() {
            if let Leg::Uas(uas) = &mut self.leg {
                uas.answer_after_prack = Some(body);
            }
            return Ok(());
        }
        self.send_answer(env, body);
        Ok(())
    }

    /// Our answer to the INVITE's offer; `None` (logged) when nothing in it is usable.
    fn answer_offer(&mut self, offer: &[u8]) -> Option<String> {
        let rtp = self.media.local_rtp?;
        match sdp::answer_offer(offer, &self.media.origin, rtp) {
            Ok((answer, remote)) => {
                self.media.set_remote(remote);
                Some(answer)
            }
            Err(err) => {
                tracing::info!(call = %self.id, %err, "no common codec: 488");
                None
            }
        }
    }

    pub(super) fn send_answer(&mut self, env: &mut CallEnv<'_>, body: String) {
        let Some(mut response) = self.response_to_invite(env, 200) else {
            return;
        };
        response.headers.content_type = Some("application/sdp".into());
        response.body = body.clone().into_bytes();
        if let Some(invite) = self.uas().and_then(|u| u.invite.as_deref()).cloned() {
            // The caller's interval was checked before it was offered (422 there).
            let session = self.negotiate_session(env, &invite).ok().flatten();
            self.apply_session(env, &invite, &mut response, session);
        }
        self.media.sent_answer(&body);
        self.phase = Phase::Answering { hang_up: false };
        self.start_2xx(env, &response, true);
        self.respond_invite(response);
    }

    /// Starts retransmitting `response` (a 2xx to an INVITE) until its ACK (§13.3.1.4).
    pub(super) fn start_2xx(&mut self, env: &CallEnv<'_>, response: &Response, initial: bool) {
        let timers = env.ua.sip.timers;
        let destination = response_destination(&response.headers.via[0], self.peer);
        let give_up = env.now + timers.timeout_64t1();
        let next = if destination.transport.is_reliable() {
            give_up
        } else {
            env.now + timers.t1
        };
        self.uas_2xx = Some(Box::new(Retransmit2xx {
            response: response.clone(),
            destination,
            interval: timers.t1,
            next,
            give_up,
            initial,
        }));
    }

    /// §13.3.1.4: retransmit the 2xx (T1 doubling up to T2) until the ACK; after 64*T1 give up.
    pub(super) fn on_2xx_timer(&mut self, env: &mut CallEnv<'_>) {
        let now = env.now;
        let t2 = env.ua.sip.timers.t2;
        let Some(r) = self.uas_2xx.as_mut() else {
            return;
        };
        if now >= r.give_up {
            let initial = r.initial;
            self.uas_2xx = None;
            if initial {
                tracing::info!(call = %self.id, "no ACK for our 200 OK: hanging up");
                self.send_bye(env);
                self.end(env, Some(DisconnectMode::UNREACHABLE));
            }
            return;
        }
        r.interval = (r.interval * 2).min(t2);
        r.next = (now + r.interval).min(r.give_up);
        let to = r.destination;
        let bytes = crate::sip::codec::encode_response(&r.response).into();
        self.push(Action::Raw { to, bytes });
    }

    /// An ACK for a 2xx of ours (the transaction layer passes these up).
    pub fn handle_ack(&mut self, env: &mut CallEnv<'_>, ack: &Request) {
        let Some(r) = &self.uas_2xx else {
            return; // a stray ACK is absorbed (§17.2.3 leaves it to the core: no response)
        };
        if r.response.headers.cseq.seq != ack.headers.cseq.seq {
            return;
        }
        let initial = r.initial;
        self.uas_2xx = None;
        if !initial {
            return self.on_reinvite_ack(env, ack);
        }
        let Phase::Answering { hang_up } = self.phase else {
            return;
        };
        if self.media.remote.is_none() {
            match sdp::parse_answer(&ack.body) {
                Ok(remote) => self.media.set_remote(remote),
                Err(err) => {
                    tracing::info!(call = %self.id, %err, "ACK without a usable SDP answer: hanging up");
                    self.send_bye(env);
                    self.end(env, Some(DisconnectMode::INCOMPATIBLE));
                    return;
                }
            }
        }
        self.phase = Phase::Connected;
        if let Leg::Uas(uas) = &mut self.leg {
            // The INVITE was kept to build responses to it; the dialog has all it needs now.
            uas.invite = None;
        }
        if let Some(request) = self.take_pending(Op::Answer) {
            self.complete(request, Ok(()));
        }
        self.report_state(CallState::Connected(ConnectedMode::ACTIVE));
        if hang_up {
            self.send_bye(env);
        }
    }

    /// The ACK of our 2xx to the peer's re-INVITE: it carries the answer when the re-INVITE
    /// had no offer (ours was in the 2xx); a re-INVITE of ours waiting for it may go now.
    fn on_reinvite_ack(&mut self, env: &mut CallEnv<'_>, ack: &Request) {
        if !ack.body.is_empty() {
            if let Ok(remote) = sdp::parse_answer(&ack.body) {
                self.hold.remote = super::hold::holds_us(remote.direction);
                self.media.set_remote(remote);
            }
            self.report_settled();
        }
        if self.reinvite.as_ref().is_some_and(|r| r.tx.is_none()) {
            self.send_reinvite(env);
        }
    }

    /// TSPI_lineRedirect: 302 with the destination as Contact.
    pub(super) fn redirect(
        &mut self,
        env: &mut CallEnv<'_>,
        request: RequestId,
        dest: &str,
    ) -> Result<(), LineErr> {
        if !matches!(self.phase, Phase::Offering | Phase::Accepted) {
            return Err(LINEERR_INVALCALLSTATE);
        }
        let target = env.ua.line.dest_uri(dest)?;
        self.pending.push((request, Op::Redirect));
        self.reject(env, 302, Some(NameAddr::new(target)));
        Ok(())
    }

    /// Sends a final non-2xx on the INVITE transaction and ends the call locally (a pending
    /// lineDrop/lineRedirect completes; the ACK is absorbed by the transaction). After 488 the
    /// caller of `reject` ends the call with its own mode.
    pub(super) fn reject(&mut self, env: &mut CallEnv<'_>, status: u16, contact: Option<NameAddr>) {
        let Some(mut response) = self.response_to_invite(env, status) else {
            return;
        };
        response.headers.contact.extend(contact);
        self.respond_invite(response);
        if status != 488 {
            self.end(env, None);
        }
    }

    /// The caller's CANCEL (§9.2; the provider answered the CANCEL itself): 487 to the INVITE
    /// if it is still unanswered.
    pub fn handle_cancel(&mut self, env: &mut CallEnv<'_>) {
        if !matches!(self.phase, Phase::Offering | Phase::Accepted) {
            return;
        }
        if let Some(response) = self.response_to_invite(env, 487) {
            self.respond_invite(response);
        }
        self.end(env, Some(DisconnectMode::NORMAL));
    }

    /// A response to the call's INVITE with our To tag, Contact, Allow and Server header.
    pub(super) fn response_to_invite(&self, env: &CallEnv<'_>, status: u16) -> Option<Response> {
        let invite = self.uas()?.invite.as_ref()?;
        let mut response = Response::for_request(invite, status, Some(&self.dialog.key.local_tag));
        if (101..300).contains(&status) {
            // §12.1.1: a UAS copies Record-Route into dialog-creating responses.
            response.headers.record_route = invite.headers.record_route.clone();
            response.headers.contact.push(env.ua.contact());
        }
        if status == 200 || status == 405 {
            response.headers.push("Allow", ALLOW);
        }
        if (180..300).contains(&status) {
            response.headers.push("Supported", SUPPORTED);
        }
        response.headers.push("Server", env.ua.user_agent());
        Some(response)
    }

    pub(super) fn respond_invite(&mut self, response: Response) {
        if let Some(tx) = self.uas().and_then(|u| u.server_tx.clone()) {
            self.respond_on(tx, response);
        }
    }
}

/// What TAPI learns of an inbound call: caller from P-Asserted-Identity when present, else
/// From; called = the Request-URI user.
fn inbound_info(line: usize, invite: &Request) -> CallParties {
    let h = &invite.headers;
    let caller = h
        .get("P-Asserted-Identity")
        .and_then(|v| crate::sip::codec::parse_name_addr(v).ok())
        .unwrap_or_else(|| h.from.clone());
    CallParties {
        device: DeviceId(line as u32),
        media_mode: MediaModes::INTERACTIVEVOICE,
        origin: CallOrigin::INBOUND,
        reason: CallReason::DIRECT,
        caller_id: caller
            .uri
            .user
            .clone()
            .unwrap_or_else(|| caller.uri.to_string()),
        caller_id_name: caller.display_name.clone().unwrap_or_default(),
        called_id: invite.uri.user.clone().unwrap_or_default(),
        ..CallParties::default()
    }
}

/// §12.1.1: the UAS's (early) dialog from the INVITE.
fn uas_dialog(invite: &Request, local_tag: String) -> Dialog {
    let h = &invite.headers;
    let mut local = h.to.clone();
    local.params.set("tag", Some(&local_tag));
    let mut remote = h.from.clone();
    remote.params.remove("tag");
    Dialog {
        key: DialogKey {
            call_id: h.call_id.clone(),
            local_tag,
        },
        remote_tag: h.from.tag().map(str::to_string),
        local,
        remote,
        remote_target: h
            .contact
            .first()
            .map_or(h.from.uri.clone(), |c| c.uri.clone()),
        route_set: h.record_route.clone(),
        local_cseq: 0,
        remote_cseq: Some(h.cseq.seq),
    }
}
