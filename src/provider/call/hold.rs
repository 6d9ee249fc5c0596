//! Hold and unhold (lineHold, lineUnhold, and the hold of lineSetupTransfer): our re-INVITE in
//! the confirmed dialog (RFC 3261 §14) with a new SDP version and a direction attribute
//! (RFC 3264 §8.4, RFC 6337 §5): sendonly to hold, inactive when the peer holds us too,
//! sendrecv (recvonly while the peer holds us) to resume. A 491 (glare) is retried after the
//! §14.1 random wait; a 401/407 is answered once; 481/408 end the dialog (§12.2.1.2).
//!
//! The same machine sends our RFC 4028 session refreshes (`Goal::Refresh`): an UPDATE without
//! a body when the peer allows UPDATE (RFC 3311; a 405/501 falls back to re-INVITE), else a
//! re-INVITE with our current SDP (same version when nothing changed). Every re-INVITE and
//! UPDATE carries the session timer headers and its 2xx restarts the timer; a 422 raises the
//! interval and sends again. A refresh never blocks lineHold or a transfer: a hold asked for
//! while a refresh is out starts once the refresh is answered.

use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::sdp::{self, Direction};
use crate::sip::message::{Method, Request, Response};
use crate::sip::transaction::ClientTxKey;
use crate::sip::transport::Peer;
use crate::tapi::{
    CallState, ConnectedMode, DisconnectMode, LineErr, RequestId, LINEERR_INVALCALLSTATE,
    LINEERR_OPERATIONFAILED,
};

use super::{Action, Call, CallEnv, Leg, Op, Phase, Purpose, Relation};
use crate::provider::auth::authenticated_retry;

/// Who holds whom in the dialog.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hold {
    /// We hold the peer (our direction sendonly, or inactive while it holds us).
    pub local: bool,
    /// The peer holds us (its last offer or answer said sendonly or inactive).
    pub remote: bool,
}

impl Hold {
    /// What we ask for when we offer or answer: sendonly while we hold, else sendrecv; the
    /// peer's own hold shows in what it answers (RFC 6337 §5).
    pub fn ours(self) -> Direction {
        if self.local {
            Direction::SendOnly
        } else {
            Direction::SendRecv
        }
    }

    /// Our offer's direction, knowing whether the peer holds us (RFC 6337 §5.2: inactive
    /// when both hold, recvonly when only the peer does).
    pub fn offer(self) -> Direction {
        match (self.local, self.remote) {
            (true, true) => Direction::Inactive,
            (true, false) => Direction::SendOnly,
            (false, true) => Direction::RecvOnly,
            (false, false) => Direction::SendRecv,
        }
    }
}

/// Whether a peer's direction means it holds us.
pub fn holds_us(direction: Direction) -> bool {
    matches!(direction, Direction::SendOnly | Direction::Inactive)
}

/// What a re-INVITE of ours is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goal {
    /// lineHold, or the hold of lineSetupTransfer.
    Hold,
    /// lineUnhold, or restoring the original when its consultation call ends.
    Unhold,
    /// An RFC 4028 session refresh: the hold state stays as it is.
    Refresh,
}

/// Our re-INVITE in progress.
pub struct ReInvite {
    pub goal: Goal,
    /// The TAPI request it completes (none when the gateway resumes the call by itself).
    pub request: Option<RequestId>,
    /// The re-INVITE as sent (auth retries and the ACK come from it); none while waiting.
    pub sent: Option<Box<Request>>,
    pub tx: Option<ClientTxKey>,
    pub auth_attempts: u32,
    /// When to send (again): after a 491's wait, or once the peer's INVITE transaction ends.
    pub retry_at: Option<Instant>,
    /// A hold or unhold asked for while this refresh was out: started once it is answered.
    pub then: Option<(Goal, Option<RequestId>)>,
}

impl Call {
    /// lineHold (or the hold of lineSetupTransfer): CONNECTED -> ONHOLD (ONHOLDPENDTRANSFER)
    /// once the re-INVITE is answered.
    pub(super) fn hold(
        &mut self,
        env: &mut CallEnv<'_>,
        request: RequestId,
    ) -> Result<(), LineErr> {
        if !self.may_reinvite() || self.hold.local {
            return Err(LINEERR_INVALCALLSTATE);
        }
        self.pending.push((request, Op::Hold));
        self.start_reinvite(env, Goal::Hold, Some(request));
        Ok(())
    }

    /// lineUnhold: ONHOLD (or ONHOLDPENDTRANSFER) -> CONNECTED once the re-INVITE is answered;
    /// a consultation call of a transfer being set up goes IDLE (tapi.md §6).
    pub(super) fn unhold(
        &mut self,
        env: &mut CallEnv<'_>,
        request: RequestId,
    ) -> Result<(), LineErr> {
        if !self.may_reinvite() || !self.hold.local {
            return Err(LINEERR_INVALCALLSTATE);
        }
        if let Some(Relation::ConsultedBy(consult)) = self.related.take() {
            self.tell(consult, super::News::DropConsult);
        }
        self.pending.push((request, Op::Unhold));
        self.start_reinvite(env, Goal::Unhold, Some(request));
        Ok(())
    }

    /// A confirmed dialog with no re-INVITE (other than a session refresh) or REFER of ours in
    /// progress.
    pub(super) fn may_reinvite(&self) -> bool {
        let busy = self
            .reinvite
            .as_ref()
            .is_some_and(|r| r.goal != Goal::Refresh);
        self.phase == Phase::Connected && !busy && self.refer_out.is_none()
    }

    /// Starts a re-INVITE; it waits while the peer's own INVITE transaction is in progress
    /// (§14.1: one INVITE transaction at a time in either direction). A refresh of ours that
    /// is still waiting gives way to it (it refreshes too); one in flight makes it wait.
    pub(super) fn start_reinvite(
        &mut self,
        env: &mut CallEnv<'_>,
        goal: Goal,
        request: Option<RequestId>,
    ) {
        if let Some(r) = self.reinvite.as_mut().filter(|r| r.tx.is_some()) {
            r.then = Some((goal, request));
            return;
        }
        self.reinvite = Some(Box::new(ReInvite {
            goal,
            request,
            sent: None,
            tx: None,
            auth_attempts: 0,
            retry_at: None,
            then: None,
        }));
        if self.uas_2xx.is_some() {
            if let Some(r) = self.reinvite.as_mut() {
                r.retry_at = Some(env.now + env.ua.sip.timers.t1);
            }
        } else {
            self.send_reinvite(env);
        }
    }

    /// Sends (or re-sends after glare) our re-INVITE with a new offer, or a refresh's UPDATE.
    pub(super) fn send_reinvite(&mut self, env: &mut CallEnv<'_>) {
        let Some(goal) = self.reinvite.as_ref().map(|r| r.goal) else {
            return;
        };
        if self.uas_2xx.is_some() {
            // The peer's INVITE is still waiting for its ACK: try again a little later.
            if let Some(r) = self.reinvite.as_mut() {
                r.retry_at = Some(env.now + env.ua.sip.timers.t1);
            }
            return;
        }
        let update = goal == Goal::Refresh && self.session.peer_allows_update;
        let offer = if update {
            None
        } else {
            match self.reoffer(goal) {
                Some(offer) => Some(offer),
                None => {
                    self.fail_reinvite(LINEERR_OPERATIONFAILED);
                    return;
                }
            }
        };
        let method = if update {
            Method::Update
        } else {
            Method::Invite
        };
        let cseq = self.dialog.next_cseq();
        let (mut request, to) =
            env.ua
                .in_dialog_request(env.ids, &self.dialog, method, cseq, self.peer);
        request.headers.push("Allow", crate::provider::build::ALLOW);
        self.add_session_headers(env, &mut request);
        if let Some(offer) = offer {
            request.headers.content_type = Some("application/sdp".into());
            request.body = offer.into_bytes();
        }
        self.send_reinvite_request(request, to);
    }

    /// The offer of a re-INVITE for `goal`: a new version with the wanted direction, or for a
    /// refresh the current description as it is.
    fn reoffer(&mut self, goal: Goal) -> Option<String> {
        let local = match goal {
            Goal::Hold => true,
            Goal::Unhold => false,
            Goal::Refresh => self.hold.local,
        };
        let wanted = Hold {
            local,
            remote: self.hold.remote,
        };
        match goal {
            Goal::Refresh => self.media.refresh_offer(wanted.offer()),
            Goal::Hold | Goal::Unhold => self.media.offer_with(wanted.offer()),
        }
    }

    fn send_reinvite_request(&mut self, invite: Request, to: Peer) {
        if let Some(r) = self.reinvite.as_mut() {
            r.tx = ClientTxKey::for_request(&invite);
            r.sent = Some(Box::new(invite.clone()));
            r.retry_at = None;
        }
        self.send(invite, to, Purpose::ReInvite);
    }

    /// A response to one of our re-INVITEs.
    pub(super) fn on_reinvite_response(
        &mut self,
        env: &mut CallEnv<'_>,
        key: &ClientTxKey,
        response: Response,
    ) {
        if response.is_success() {
            if let Some((ack_key, bytes, to)) = self.reinvite_ack.as_deref() {
                if ack_key == key {
                    // A retransmitted 2xx of an answered re-INVITE: ACK it again (§13.2.2.4).
                    let (bytes, to) = (bytes.clone(), *to);
                    return self.push(Action::Raw { to, bytes });
                }
            }
        }
        let current = self.reinvite.as_ref().and_then(|r| r.tx.as_ref()) == Some(key);
        if !current || response.is_provisional() {
            return;
        }
        match response.status {
            200..=299 => self.on_reinvite_accepted(env, key, &response),
            401 | 407 if self.retry_reinvite_with_auth(env, &response) => {}
            422 if self.raise_interval_for(env, &response) => {}
            491 => {
                // §14.1: glare; try again after a random wait.
                let wait = self.glare_wait(env);
                if let Some(r) = self.reinvite.as_mut() {
                    r.tx = None;
                    r.retry_at = Some(env.now + wait);
                }
            }
            408 | 481 => self.on_reinvite_failure(env, key),
            status => self.on_reinvite_refused(env, status),
        }
    }

    /// Any other final refusal: the request fails, the call stays as it was. A refresh whose
    /// UPDATE the peer does not take is sent again at once as a re-INVITE.
    fn on_reinvite_refused(&mut self, env: &mut CallEnv<'_>, status: u16) {
        tracing::info!(call = %self.id, status, "re-INVITE or UPDATE refused");
        let Some(r) = self.reinvite.as_mut() else {
            return;
        };
        let refresh = r.goal == Goal::Refresh;
        let was_update = r.sent.as_ref().is_some_and(|s| s.method == Method::Update);
        if refresh && was_update && matches!(status, 405 | 501) {
            self.session.peer_allows_update = false;
            r.tx = None;
            return self.send_reinvite(env);
        }
        let then = self.fail_reinvite(LINEERR_OPERATIONFAILED);
        // A refresh skipped for this request (or this refresh) is tried again later.
        self.refresh_refused(env);
        self.start_queued(env, then);
    }

    /// Starts what waited for a refresh of ours, while the dialog is still up (otherwise its
    /// request fails when the call ends).
    fn start_queued(&mut self, env: &mut CallEnv<'_>, then: Option<(Goal, Option<RequestId>)>) {
        if let Some((goal, request)) = then.filter(|_| self.phase == Phase::Connected) {
            self.start_reinvite(env, goal, request);
        }
    }

    /// A 2xx: ACK it, take the answer, settle the new hold state and report it.
    fn on_reinvite_accepted(
        &mut self,
        env: &mut CallEnv<'_>,
        key: &ClientTxKey,
        response: &Response,
    ) {
        let Some(r) = self.reinvite.take() else {
            return;
        };
        self.dialog.remote_target = response
            .headers
            .contact
            .first()
            .map_or(self.dialog.remote_target.clone(), |c| c.uri.clone());
        if let Some(sent) = r.sent.as_deref().filter(|s| s.method == Method::Invite) {
            self.ack_reinvite(env, key, sent);
        }
        if let Ok(remote) = sdp::parse_answer(&response.body) {
            self.hold.remote = holds_us(remote.direction);
            self.media.set_remote(remote);
        }
        match r.goal {
            Goal::Hold => self.hold.local = true,
            Goal::Unhold => self.hold.local = false,
            Goal::Refresh => {}
        }
        self.on_session_answer(env, response);
        // The new state first, so an app that asks on LINE_REPLY(0) already sees it.
        self.report_settled();
        if let Some(request) = r.request {
            self.pending.retain(|(id, _)| *id != request);
            self.complete(request, Ok(()));
        }
        self.start_queued(env, r.then);
    }

    /// §13.2.2.4: the ACK of a re-INVITE's 2xx, with its credentials, kept for the 2xx's
    /// retransmissions.
    fn ack_reinvite(&mut self, env: &mut CallEnv<'_>, key: &ClientTxKey, sent: &Request) {
        let (mut ack, to) = env.ua.in_dialog_request(
            env.ids,
            &self.dialog,
            Method::Ack,
            sent.headers.cseq.seq,
            self.peer,
        );
        for name in ["Authorization", "Proxy-Authorization"] {
            if let Some(value) = sent.headers.get(name) {
                ack.headers.push(name, value.to_string());
            }
        }
        ack.headers.remove("User-Agent");
        let bytes = Bytes::from(crate::sip::codec::encode_request(&ack));
        self.reinvite_ack = Some(Box::new((key.clone(), bytes.clone(), to)));
        self.push(Action::Raw { to, bytes });
    }

    /// The state apps see once nothing is in flight: ONHOLD / ONHOLDPENDTRANSFER while we hold
    /// the peer, else CONNECTED (INACTIVE while the peer holds us).
    pub(super) fn settled_state(&self) -> CallState {
        match (self.hold.local, self.related) {
            (true, Some(Relation::ConsultedBy(_))) => CallState::OnHoldPendTransfer,
            (true, _) => CallState::OnHold,
            (false, _) if self.hold.remote => CallState::Connected(ConnectedMode::INACTIVE),
            (false, _) => CallState::Connected(ConnectedMode::ACTIVE),
        }
    }

    pub(super) fn report_settled(&mut self) {
        if self.phase == Phase::Connected {
            self.report_state(self.settled_state());
        }
    }

    /// The re-INVITE failed: its request fails, the call stays as it was. Returns what was
    /// waiting for it.
    fn fail_reinvite(&mut self, err: LineErr) -> Option<(Goal, Option<RequestId>)> {
        let r = self.reinvite.take()?;
        if let Some(request) = r.request {
            self.pending.retain(|(id, _)| *id != request);
            self.complete(request, Err(err));
        }
        r.then
    }

    /// Timer B, a transport error, 408 or 481: the request fails and the dialog is over
    /// (§12.2.1.2).
    pub(super) fn on_reinvite_failure(&mut self, env: &mut CallEnv<'_>, key: &ClientTxKey) {
        if self.reinvite.as_ref().and_then(|r| r.tx.as_ref()) != Some(key) {
            return;
        }
        self.fail_reinvite(LINEERR_OPERATIONFAILED);
        if self.phase == Phase::Connected {
            self.send_bye(env);
            self.end(env, Some(DisconnectMode::UNREACHABLE));
        }
    }

    fn retry_reinvite_with_auth(&mut self, env: &mut CallEnv<'_>, response: &Response) -> bool {
        let Some(r) = self.reinvite.as_deref() else {
            return false;
        };
        let Some(sent) = r.sent.as_deref() else {
            return false;
        };
        let Some((retry, _)) =
            authenticated_retry(env.ua, env.ids, sent, response, r.auth_attempts)
        else {
            return false;
        };
        self.dialog.local_cseq = retry.headers.cseq.seq;
        if let Some(r) = self.reinvite.as_mut() {
            r.auth_attempts += 1;
        }
        let to = crate::provider::build::resolve_hop(
            self.dialog
                .route_set
                .first()
                .map(|r| &r.uri)
                .unwrap_or(&self.dialog.remote_target),
            self.peer,
        );
        self.send_reinvite_request(retry, to);
        true
    }

    /// §14.1: 2.1-4 s (in 10 ms steps) when we own the dialog's Call-ID (we sent the INVITE
    /// that created it), 0-2 s otherwise.
    fn glare_wait(&self, env: &mut CallEnv<'_>) -> Duration {
        let steps = match self.leg {
            Leg::Uac(_) => 210 + env.ids.below(191),
            Leg::Uas(_) => env.ids.below(201),
        };
        Duration::from_millis(steps * 10)
    }
}
