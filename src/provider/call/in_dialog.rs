//! Requests inside the dialog (RFC 3261 §12.2): from the far end, BYE ends the call; re-INVITE
//! and UPDATE (RFC 3311) with an offer are answered with the mirrored direction (RFC 6337 §5:
//! sendonly gets recvonly and shows as CONNECTED/INACTIVE), or 491 while an offer of ours is
//! out (RFC 3261 §14.2, RFC 3311 §5.2); an UPDATE without a body (a session refresh) gets a
//! 200 without one; both go through the session timer (RFC 4028: 422, `Session-Expires` in the
//! 200). PRACK goes to the reliable provisional logic (RFC 3262), REFER and NOTIFY to the
//! transfer logic; OPTIONS/INFO get 200, anything else 405/501; out-of-order CSeq gets 500.
//! From us: BYE (§15.1.1), re-sent with credentials on a 401/407.

use crate::sip::message::{Method, Request, Response};
use crate::sip::transaction::ServerTxKey;
use crate::sip::transport::Peer;
use crate::tapi::DisconnectMode;

use super::hold::holds_us;
use super::{Call, CallEnv, Phase, Purpose};
use crate::provider::auth::authenticated_retry;
use crate::provider::build::{ALLOW, SUPPORTED};

impl Call {
    /// A request of the peer inside our dialog.
    pub fn handle_request(
        &mut self,
        env: &mut CallEnv<'_>,
        tx: ServerTxKey,
        request: Request,
        _source: Peer,
    ) {
        if !self.dialog.accept_remote_cseq(request.headers.cseq.seq) {
            return self.respond_in_dialog(env, tx, &request, 500, None);
        }
        match request.method {
            Method::Bye => self.on_remote_bye(env, tx, &request),
            Method::Invite | Method::Update => self.on_remote_offer(env, tx, &request),
            Method::Refer => self.on_refer(env, tx, &request),
            Method::Notify => self.on_notify(env, tx, &request),
            Method::Prack => self.on_prack(env, tx, &request),
            Method::Info => self.on_info(env, tx, &request),
            Method::Options => self.respond_in_dialog(env, tx, &request, 200, None),
            Method::Extension(_) => self.respond_in_dialog(env, tx, &request, 501, None),
            _ => self.respond_in_dialog(env, tx, &request, 405, None),
        }
    }

    fn on_remote_bye(&mut self, env: &mut CallEnv<'_>, tx: ServerTxKey, request: &Request) {
        self.respond_in_dialog(env, tx, request, 200, None);
        // Our own BYE or lineDrop crossed theirs: the drop simply completes. A peer that
        // leaves after accepting our REFER completes the transfer.
        self.refer_ended_by_bye();
        let mode = (!self.ending_by_us()).then_some(DisconnectMode::NORMAL);
        self.end(env, mode);
    }

    /// re-INVITE / UPDATE: answer with the mirrored direction (same SDP version when nothing
    /// changed); a 2xx to a re-INVITE is retransmitted until its ACK like the first one. An
    /// INVITE of ours in flight makes it glare: 491 (§14.2, RFC 3311 §5.2 for an UPDATE with
    /// an offer).
    fn on_remote_offer(&mut self, env: &mut CallEnv<'_>, tx: ServerTxKey, request: &Request) {
        let invite = request.method == Method::Invite;
        let has_offer = !request.body.is_empty();
        let our_invite_out = self.reinvite.as_ref().is_some_and(|r| {
            r.tx.is_some() && r.sent.as_ref().is_some_and(|s| s.method == Method::Invite)
        });
        if (invite || has_offer) && (our_invite_out || self.uas_2xx.is_some()) {
            return self.respond_in_dialog(env, tx, request, 491, None);
        }
        let session = match self.negotiate_session(env, request) {
            Ok(session) => session,
            Err(min_se) => {
                let min_se = min_se.to_string();
                return self.respond_in_dialog(env, tx, request, 422, Some(("Min-SE", &min_se)));
            }
        };
        let body = if invite || has_offer {
            match self.media.answer_reoffer(&request.body, self.hold.ours()) {
                Some(body) => Some(body),
                None => return self.respond_in_dialog(env, tx, request, 488, None),
            }
        } else {
            None
        };
        if has_offer {
            self.hold.remote = self
                .media
                .remote
                .as_ref()
                .is_some_and(|r| holds_us(r.direction));
        }
        if let Some(target) = request.headers.contact.first() {
            // §12.2: a target refresh request updates the remote target.
            self.dialog.remote_target = target.uri.clone();
        }
        let mut response = Response::for_request(request, 200, Some(&self.dialog.key.local_tag));
        response.headers.contact.push(env.ua.contact());
        response.headers.push("Allow", ALLOW);
        response.headers.push("Supported", SUPPORTED);
        response.headers.push("Server", env.ua.user_agent());
        if let Some(body) = body {
            response.headers.content_type = Some("application/sdp".into());
            response.body = body.into_bytes();
        }
        self.apply_session(env, request, &mut response, session);
        if invite {
            self.start_2xx(env, &response, false);
        }
        self.respond_on(tx, response);
        self.report_settled();
    }

    /// §15.1.1: BYE ends the dialog; the call ends when it is answered or given up.
    pub(super) fn send_bye(&mut self, env: &mut CallEnv<'_>) {
        let cseq = self.dialog.next_cseq();
        self.phase = Phase::Terminating;
        self.uas_2xx = None;
        let (bye, to) =
            env.ua
                .in_dialog_request(env.ids, &self.dialog, Method::Bye, cseq, self.peer);
        self.last_bye = Some(Box::new((bye.clone(), to, 0)));
        self.send(bye, to, Purpose::Bye);
    }

    /// Our BYE was answered: a challenge is answered once, anything else (481 included) ends
    /// the dialog.
    pub(super) fn on_bye_response(&mut self, env: &mut CallEnv<'_>, response: &Response) {
        if response.is_provisional() {
            return;
        }
        if matches!(response.status, 401 | 407) && self.retry_bye_with_auth(env, response) {
            return;
        }
        self.on_bye_done(env);
    }

    fn retry_bye_with_auth(&mut self, env: &mut CallEnv<'_>, response: &Response) -> bool {
        let Some((bye, to, attempts)) = self.last_bye.as_deref().cloned() else {
            return false;
        };
        let Some((retry, _)) = authenticated_retry(env.ua, env.ids, &bye, response, attempts)
        else {
            return false;
        };
        self.dialog.local_cseq = retry.headers.cseq.seq;
        self.last_bye = Some(Box::new((retry.clone(), to, attempts + 1)));
        self.send(retry, to, Purpose::Bye);
        true
    }

    /// Our BYE was answered (any final) or timed out: the dialog is gone.
    pub(super) fn on_bye_done(&mut self, env: &mut CallEnv<'_>) {
        if self.phase == Phase::Terminating {
            self.last_bye = None;
            self.end(env, None);
        }
    }
}
