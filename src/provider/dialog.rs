//! Requests from the far end inside a dialog (RFC 3261 §12.2.2): BYE ends the call, re-INVITE
//! and UPDATE get our current SDP (RFC 3264 §8: the version changes only when the session
//! does), OPTIONS and INFO get 200, anything else 405/501; no such dialog: 481.

use std::time::Instant;

use crate::sdp;
use crate::sip::message::{Method, Request, Response};
use crate::sip::transaction::ServerTxKey;
use crate::sip::transport::{response_destination, Peer};
use crate::tapi::consts::*;
use crate::tapi::CallId;

use super::build::ALLOW;
use super::call::{Op, Phase, Uas2xx};
use super::timers::TimerKind;
use super::SipProvider;

impl SipProvider {
    pub(super) fn on_in_dialog_request(
        &mut self,
        now: Instant,
        key: ServerTxKey,
        request: Request,
        source: Peer,
    ) {
        let dialog_key = (
            request.headers.call_id.clone(),
            request.headers.to.tag().unwrap_or("").to_string(),
        );
        let call = self.dialogs.get(&dialog_key).copied();
        let Some(call) = call.filter(|c| self.calls.get(c).is_some_and(|c| c.is_live())) else {
            // §12.2.2: no matching dialog.
            self.respond(now, &key, &request, 481, None);
            return;
        };
        if !self.accept_remote_cseq(call, &request) {
            self.respond(now, &key, &request, 500, None);
            return;
        }
        match request.method {
            Method::Bye => self.on_remote_bye(now, key, call, &request),
            Method::Invite | Method::Update => {
                self.on_remote_offer(now, key, call, &request, source)
            }
            Method::Options | Method::Info | Method::Notify => {
                self.respond(now, &key, &request, 200, None)
            }
            Method::Extension(_) => self.respond(now, &key, &request, 501, None),
            _ => self.respond(now, &key, &request, 405, Some(("Allow", ALLOW))),
        }
    }

    /// §12.2.2: a CSeq lower than the last one seen is out of order (500).
    fn accept_remote_cseq(&mut self, call: CallId, request: &Request) -> bool {
        let Some(c) = self.calls.get_mut(&call) else {
            return false;
        };
        let seq = request.headers.cseq.seq;
        match c.dialog.remote_cseq {
            Some(last) if seq < last => false,
            _ => {
                c.dialog.remote_cseq = Some(seq);
                true
            }
        }
    }

    fn on_remote_bye(&mut self, now: Instant, key: ServerTxKey, call: CallId, request: &Request) {
        self.respond(now, &key, request, 200, None);
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        // Our own BYE or lineDrop crossed theirs: the drop simply completes.
        let local = c.phase == Phase::Terminating || c.has_pending(Op::Drop);
        let mode = (!local).then_some(LINEDISCONNECTMODE_NORMAL);
        self.end_call(call, mode);
    }

    /// re-INVITE / UPDATE: answer with our SDP (same version when nothing changed).
    fn on_remote_offer(
        &mut self,
        now: Instant,
        key: ServerTxKey,
        call: CallId,
        request: &Request,
        source: Peer,
    ) {
        let Some(body) = self.answer_for_reoffer(call, &request.body) else {
            self.respond(now, &key, request, 488, None);
            return;
        };
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        let mut response = Response::for_request(request, 200, Some(&c.dialog.local_tag));
        response.headers.contact.push(self.contact(c.line));
        response.headers.push("Allow", ALLOW);
        response.headers.content_type = Some("application/sdp".into());
        response.body = body.into_bytes();
        if request.method == Method::Invite {
            let destination = response_destination(&response.headers.via[0], source);
            let t1 = self.sip.timers.t1;
            let give_up = now + self.sip.timers.timeout_64t1();
            let next = if destination.transport.is_reliable() {
                give_up
            } else {
                now + t1
            };
            if let Some(c) = self.calls.get_mut(&call) {
                c.uas_2xx = Some(Box::new(Uas2xx {
                    response: response.clone(),
                    destination,
                    interval: t1,
                    next,
                    give_up,
                    initial: false,
                }));
                self.timers.schedule(next, TimerKind::Uas2xx(call));
            }
        }
        if let Err(err) = self.txl.send_response(now, &key, response) {
            tracing::debug!(%err, "re-INVITE transaction gone");
        }
    }

    /// Our SDP for a re-offer; `None` when the offer has nothing we support (488).
    fn answer_for_reoffer(&mut self, call: CallId, offer: &[u8]) -> Option<String> {
        let c = self.calls.get_mut(&call)?;
        let rtp = c.media.as_ref().map(|l| l.rtp).or(c.local_rtp)?;
        if offer.is_empty() {
            // An offer-less re-INVITE: we offer what we have, unchanged.
            return c
                .local_sdp
                .clone()
                .or_else(|| Some(sdp::build_offer(&c.sdp_origin, rtp)));
        }
        let (answer, remote) = sdp::answer_offer(offer, &c.sdp_origin, rtp).ok()?;
        let changed = c.remote_media.as_ref() != Some(&remote);
        let answer = if changed && c.local_sdp.as_deref() != Some(answer.as_str()) {
            c.sdp_origin = c.sdp_origin.next_version();
            sdp::answer_offer(offer, &c.sdp_origin, rtp).ok()?.0
        } else {
            c.local_sdp.clone().unwrap_or(answer)
        };
        c.remote_media = Some(remote);
        c.local_sdp = Some(answer.clone());
        Some(answer)
    }
}
