//! Inbound calls: an INVITE for a line's user is offered to TAPI (api.md "SIP to TAPI",
//! inbound part); lineAccept, lineAnswer (2xx retransmitted until the ACK, RFC 3261
//! §13.3.1.4), rejection (603) and redirection (302); the caller's CANCEL (§9.2).

use std::time::Instant;

use crate::sdp::{self, SdpOrigin};
use crate::sip::message::{NameAddr, Request, Response};
use crate::sip::transaction::ServerTxKey;
use crate::sip::transport::{response_destination, Peer};
use crate::tapi::consts::*;
use crate::tapi::{
    CallId, DeviceId, LineErr, ProviderCallInfo, ProviderEvent, RequestId, LINEERR_INVALCALLHANDLE,
    LINEERR_INVALCALLSTATE, LINEERR_RESOURCEUNAVAIL,
};

use super::build::ALLOW;
use super::call::{Call, Dialog, Op, Phase, Uas2xx};
use super::timers::TimerKind;
use super::SipProvider;

impl SipProvider {
    /// A new INVITE outside any dialog.
    pub(super) fn on_invite(
        &mut self,
        now: Instant,
        key: ServerTxKey,
        request: Request,
        source: Peer,
    ) {
        if self.stopping {
            self.respond(now, &key, &request, 503, None);
            return;
        }
        let user = request.uri.user.as_deref().unwrap_or("");
        let Some(line) = self.lines.iter().position(|l| l.cfg.user == user) else {
            self.respond(now, &key, &request, 404, None);
            return;
        };
        if !self.is_trusted(line, source.addr) {
            tracing::warn!(from = %source.addr, user, "INVITE from an untrusted source: 403");
            self.respond(now, &key, &request, 403, None);
            return;
        }
        let detection = self.lines[line].media_detection;
        if detection & (LINEMEDIAMODE_INTERACTIVEVOICE | LINEMEDIAMODE_UNKNOWN) == 0 {
            self.respond(now, &key, &request, 480, None);
            return;
        }
        let id = self.offer_call(line, key.clone(), request, source);
        self.events.push_back(ProviderEvent::NewCall {
            device: DeviceId(line as u32),
            call: id,
        });
        self.report_state(id, LINECALLSTATE_OFFERING, LINEOFFERINGMODE_ACTIVE);
        self.send_ringing(now, id);
    }

    /// Creates the call and its (early) dialog from the INVITE (§12.1.1).
    fn offer_call(
        &mut self,
        line: usize,
        key: ServerTxKey,
        request: Request,
        source: Peer,
    ) -> CallId {
        let id = self.new_call_id();
        let local_tag = self.ids.tag();
        let h = &request.headers;
        let caller = h
            .get("P-Asserted-Identity")
            .and_then(|v| crate::sip::codec::parse_name_addr(v).ok())
            .unwrap_or_else(|| h.from.clone());
        let info = ProviderCallInfo {
            device: DeviceId(line as u32),
            media_mode: LINEMEDIAMODE_INTERACTIVEVOICE,
            origin: LINECALLORIGIN_INBOUND,
            reason: LINECALLREASON_DIRECT,
            caller_id: caller
                .uri
                .user
                .clone()
                .unwrap_or_else(|| caller.uri.to_string()),
            caller_id_name: caller.display_name.clone().unwrap_or_default(),
            called_id: request.uri.user.clone().unwrap_or_default(),
            ..ProviderCallInfo::default()
        };
        let mut local = h.to.clone();
        local.params.set("tag", Some(&local_tag));
        let mut remote = h.from.clone();
        remote.params.remove("tag");
        let dialog = Dialog {
            call_id: h.call_id.clone(),
            local_tag: local_tag.clone(),
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
        };
        let origin = SdpOrigin::new(id.0, self.sip_media_ip());
        let call = Call {
            id,
            line,
            phase: Phase::Offering,
            tapi_state: 0,
            dialog,
            peer: source,
            invite: None,
            invite_tx: None,
            remote_invite: Some(Box::new(request)),
            server_tx: Some(key.clone()),
            pending: Vec::new(),
            cancel_on_provisional: false,
            hangup_on_ack: false,
            ack: None,
            uas_2xx: None,
            auth_attempts: 0,
            media: None,
            local_rtp: None,
            sdp_origin: origin,
            local_sdp: None,
            remote_media: None,
            info,
            cancel_deadline: None,
            released: false,
        };
        self.dialogs
            .insert((call.dialog.call_id.clone(), local_tag), id);
        self.server_invites.insert(key, id);
        self.calls.insert(id, Box::new(call));
        id
    }

    fn send_ringing(&mut self, now: Instant, call: CallId) {
        let Some(response) = self.response_for_call(call, 180) else {
            return;
        };
        self.send_on_invite_tx(now, call, response);
    }

    /// TSPI_lineAccept: ACCEPTED at once (nothing goes on the wire).
    pub(super) fn accept_call(
        &mut self,
        _now: Instant,
        request: RequestId,
        call: CallId,
    ) -> Result<(), LineErr> {
        let c = self.calls.get_mut(&call).ok_or(LINEERR_INVALCALLHANDLE)?;
        if c.phase != Phase::Offering {
            return Err(LINEERR_INVALCALLSTATE);
        }
        c.phase = Phase::Accepted;
        self.complete(request, Ok(()));
        self.report_state(call, LINECALLSTATE_ACCEPTED, 0);
        Ok(())
    }

    /// TSPI_lineAnswer: 200 OK with our SDP; completes on the ACK.
    pub(super) fn answer_call(
        &mut self,
        now: Instant,
        request: RequestId,
        call: CallId,
    ) -> Result<(), LineErr> {
        let c = self.calls.get_mut(&call).ok_or(LINEERR_INVALCALLHANDLE)?;
        if !matches!(c.phase, Phase::Offering | Phase::Accepted) {
            return Err(LINEERR_INVALCALLSTATE);
        }
        let lease = self.media.allocate().map_err(|err| {
            tracing::warn!(%err, "no media port to answer a call");
            LINEERR_RESOURCEUNAVAIL
        })?;
        let c = self.calls.get_mut(&call).ok_or(LINEERR_INVALCALLHANDLE)?;
        c.pending.push((request, Op::Answer));
        c.sdp_origin.address = lease.rtp.ip();
        c.local_rtp = Some(lease.rtp);
        let rtp = lease.rtp;
        c.media = Some(lease);
        let offer = c
            .remote_invite
            .as_ref()
            .map(|r| r.body.clone())
            .unwrap_or_default();
        let body = if offer.is_empty() {
            // No offer in the INVITE: ours goes in the 200, the answer comes in the ACK.
            sdp::build_offer(&c.sdp_origin, rtp)
        } else {
            match sdp::answer_offer(&offer, &c.sdp_origin, rtp) {
                Ok((answer, remote)) => {
                    c.remote_media = Some(remote);
                    answer
                }
                Err(err) => {
                    tracing::info!(?call, %err, "no common codec: 488");
                    self.reject(now, call, 488, None);
                    self.end_call(call, Some(LINEDISCONNECTMODE_INCOMPATIBLE));
                    return Ok(());
                }
            }
        };
        self.send_answer(now, call, body);
        Ok(())
    }

    fn send_answer(&mut self, now: Instant, call: CallId, body: String) {
        let Some(mut response) = self.response_for_call(call, 200) else {
            return;
        };
        response.headers.content_type = Some("application/sdp".into());
        response.body = body.clone().into_bytes();
        let t1 = self.sip.timers.t1;
        let give_up = now + self.sip.timers.timeout_64t1();
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        c.local_sdp = Some(body);
        c.phase = Phase::Answering;
        let via = &response.headers.via[0];
        let destination = response_destination(via, c.peer);
        let first = if destination.transport.is_reliable() {
            give_up
        } else {
            now + t1
        };
        c.uas_2xx = Some(Box::new(Uas2xx {
            response: response.clone(),
            destination,
            interval: t1,
            next: first,
            give_up,
            initial: true,
        }));
        self.timers.schedule(first, TimerKind::Uas2xx(call));
        self.send_on_invite_tx(now, call, response);
    }

    /// §13.3.1.4: retransmit the 2xx (T1 doubling up to T2) until the ACK; after 64*T1 give up.
    pub(super) fn on_uas_2xx_timer(&mut self, now: Instant, call: CallId) {
        let t2 = self.sip.timers.t2;
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(r) = c.uas_2xx.as_mut() else {
            return;
        };
        if r.next > now {
            return;
        }
        if now >= r.give_up {
            let initial = r.initial;
            c.uas_2xx = None;
            if initial {
                tracing::info!(?call, "no ACK for our 200 OK: hanging up");
                self.send_bye(now, call);
                self.end_call(call, Some(LINEDISCONNECTMODE_UNREACHABLE));
            }
            return;
        }
        r.interval = (r.interval * 2).min(t2);
        r.next = (now + r.interval).min(r.give_up);
        let (next, destination, response) = (r.next, r.destination, r.response.clone());
        self.timers.schedule(next, TimerKind::Uas2xx(call));
        self.txl.send_stateless(destination, response.into());
    }

    /// An ACK for a 2xx of ours (the transaction layer passes these up).
    pub(super) fn on_ack(&mut self, now: Instant, ack: Request, _source: Peer) {
        let key = (
            ack.headers.call_id.clone(),
            ack.headers.to.tag().unwrap_or("").to_string(),
        );
        let Some(&call) = self.dialogs.get(&key) else {
            return; // a stray ACK is absorbed (§17.2.3 leaves it to the core: no response)
        };
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(r) = &c.uas_2xx else {
            return;
        };
        if r.response.headers.cseq.seq != ack.headers.cseq.seq {
            return;
        }
        let initial = r.initial;
        c.uas_2xx = None;
        if !initial || c.phase != Phase::Answering {
            return;
        }
        if c.remote_media.is_none() {
            match sdp::parse_answer(&ack.body) {
                Ok(remote) => {
                    c.remote_media = Some(remote);
                }
                Err(err) => {
                    tracing::info!(?call, %err, "ACK without a usable SDP answer: hanging up");
                    self.send_bye(now, call);
                    self.end_call(call, Some(LINEDISCONNECTMODE_INCOMPATIBLE));
                    return;
                }
            }
        }
        c.phase = Phase::Connected;
        // The INVITE was kept to build responses to it; the dialog has all it needs now.
        c.remote_invite = None;
        let hang_up = c.hangup_on_ack;
        if let Some(request) = c.take_pending(Op::Answer) {
            self.complete(request, Ok(()));
        }
        self.report_state(call, LINECALLSTATE_CONNECTED, LINECONNECTEDMODE_ACTIVE);
        if hang_up {
            self.send_bye(now, call);
        }
    }

    /// TSPI_lineRedirect: 302 with the destination as Contact.
    pub(super) fn redirect_call(
        &mut self,
        now: Instant,
        request: RequestId,
        call: CallId,
        dest: &str,
    ) -> Result<(), LineErr> {
        let c = self.calls.get_mut(&call).ok_or(LINEERR_INVALCALLHANDLE)?;
        if !matches!(c.phase, Phase::Offering | Phase::Accepted) {
            return Err(LINEERR_INVALCALLSTATE);
        }
        let target = self.lines[c.line].dest_uri(dest)?;
        c.pending.push((request, Op::Redirect));
        self.reject(now, call, 302, Some(NameAddr::new(target)));
        Ok(())
    }

    /// Sends a final non-2xx on the call's INVITE transaction and ends the call locally
    /// (a pending lineDrop/lineRedirect completes; the ACK is absorbed by the transaction).
    pub(super) fn reject(
        &mut self,
        now: Instant,
        call: CallId,
        status: u16,
        contact: Option<NameAddr>,
    ) {
        let Some(mut response) = self.response_for_call(call, status) else {
            return;
        };
        response.headers.contact.extend(contact);
        self.send_on_invite_tx(now, call, response);
        if status != 488 {
            self.end_call(call, None);
        }
    }

    /// The caller's CANCEL (§9.2): 200 to the CANCEL, 487 to the INVITE if still unanswered.
    pub(super) fn on_cancel(
        &mut self,
        now: Instant,
        key: ServerTxKey,
        invite: Option<ServerTxKey>,
        cancel: &Request,
    ) {
        let call = invite
            .as_ref()
            .and_then(|k| self.server_invites.get(k))
            .copied();
        let Some(call) = call else {
            let response = Response::for_request(cancel, 481, Some(&self.ids.tag()));
            let _ = self.txl.send_response(now, &key, response);
            return;
        };
        let response = Response::for_request(cancel, 200, None);
        let _ = self.txl.send_response(now, &key, response);
        let unanswered = self
            .calls
            .get(&call)
            .is_some_and(|c| matches!(c.phase, Phase::Offering | Phase::Accepted));
        if unanswered {
            if let Some(response) = self.response_for_call(call, 487) {
                self.send_on_invite_tx(now, call, response);
            }
            self.end_call(call, Some(LINEDISCONNECTMODE_NORMAL));
        }
    }

    /// Timer H: our non-2xx final was never ACKed; the call already ended.
    pub(super) fn on_server_timeout(&mut self, _now: Instant, key: ServerTxKey) {
        if let Some(call) = self.server_invites.remove(&key) {
            tracing::debug!(?call, "no ACK for our final response");
        }
    }

    /// A response to the call's INVITE with our To tag, Contact, Allow and Server header.
    fn response_for_call(&self, call: CallId, status: u16) -> Option<Response> {
        let c = self.calls.get(&call)?;
        let invite = c.remote_invite.as_ref()?;
        let mut response = Response::for_request(invite, status, Some(&c.dialog.local_tag));
        if (101..300).contains(&status) {
            // §12.1.1: a UAS copies Record-Route into dialog-creating responses.
            response.headers.record_route = invite.headers.record_route.clone();
            response.headers.contact.push(self.contact(c.line));
        }
        if status == 200 || status == 405 {
            response.headers.push("Allow", ALLOW);
        }
        response.headers.push("Server", self.sip.user_agent.clone());
        Some(response)
    }

    fn send_on_invite_tx(&mut self, now: Instant, call: CallId, response: Response) {
        let Some(key) = self.calls.get(&call).and_then(|c| c.server_tx.clone()) else {
            return;
        };
        if let Err(err) = self.txl.send_response(now, &key, response) {
            tracing::debug!(?call, %err, "INVITE transaction gone");
        }
    }

    /// A plain response from the request (no dialog state).
    pub(super) fn respond(
        &mut self,
        now: Instant,
        key: &ServerTxKey,
        request: &Request,
        status: u16,
        extra: Option<(&str, &str)>,
    ) {
        let tag = self.ids.tag();
        let mut response = Response::for_request(request, status, Some(&tag));
        if let Some((name, value)) = extra {
            response.headers.push(name, value);
        }
        response.headers.push("Server", self.sip.user_agent.clone());
        if let Err(err) = self.txl.send_response(now, key, response) {
            tracing::debug!(%err, "could not respond");
        }
    }

    /// With registration (or a `trusted` list), INVITEs are taken only from the provider.
    fn is_trusted(&self, line: usize, addr: std::net::SocketAddr) -> bool {
        let cfg = &self.lines[line].cfg;
        if !cfg.register && cfg.trusted.is_empty() {
            return true;
        }
        let ip = addr.ip();
        ip == cfg.proxy.ip()
            || ip == cfg.registrar.ip()
            || cfg.outbound_proxy.is_some_and(|p| p.ip() == ip)
            || cfg.trusted.iter().any(|t| t.matches(addr))
    }

    fn sip_media_ip(&self) -> std::net::IpAddr {
        self.media_ip
    }
}
