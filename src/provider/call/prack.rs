//! RFC 3262 reliable provisional responses (option tag `100rel`), both directions.
//!
//! Outbound: our INVITE says `Supported: 100rel` (and `Require: 100rel` when
//! `lines.reliable_provisionals = "required"`). A 18x with `Require: 100rel` and `RSeq` is
//! answered with PRACK, its own non-INVITE transaction in the early dialog the 18x creates,
//! with `RAck: <RSeq> <CSeq number> INVITE` (§7.2). Per early dialog, the first reliable 18x
//! sets the sequence and each later one must be one higher; a retransmission (same RSeq) or
//! one out of order is discarded without a PRACK (§4): our PRACK's own transaction
//! retransmits until it is answered.
//!
//! Inbound: our 180 is sent reliably when the INVITE has `Require: 100rel`, or lists it in
//! `Supported` and the line's `reliable_provisionals` is `"if-supported"` or `"required"`; with
//! `"required"` an INVITE that supports neither gets 421 (§3). It carries `Require: 100rel`
//! and a random `RSeq`, and is retransmitted (T1 doubling, not over TCP) until its PRACK, which
//! gets 200; after 64*T1 without one the INVITE is answered 500 and the call goes
//! DISCONNECTED(UNREACHABLE), IDLE (§3). An INVITE without an offer gets our offer in that
//! reliable 180 (RFC 3261 §13.2.1: the first reliable response carries it); its answer comes
//! in the PRACK, and a 2xx of lineAnswer waits for that PRACK (§3). A PRACK matching no
//! unacknowledged 18x gets 481 (§3).

use std::time::{Duration, Instant};

use crate::config::{LineConfig, ReliableProvisionals};
use crate::sdp;
use crate::sip::message::{Method, Request, Response};
use crate::sip::transaction::ServerTxKey;
use crate::tapi::DisconnectMode;

use super::session_timer::has_option_tag;
use super::{Call, CallEnv, Leg, Phase, Purpose};

/// Our reliable 18x to the caller's INVITE.
pub(super) struct ReliableOut {
    pub rseq: u32,
    /// The INVITE's CSeq number (the RAck names it).
    pub cseq: u32,
    pub response: Response,
    /// Our offer went in it: the PRACK brings the answer and our 2xx waits for it (§3).
    pub carries_offer: bool,
    pub pracked: bool,
    pub interval: Duration,
    /// The next retransmission (none over a reliable transport).
    pub next: Option<Instant>,
    pub give_up: Instant,
}

/// What a 18x to our INVITE is, for RFC 3262.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Provisional {
    Unreliable,
    /// Reliable and in order: PRACKed.
    Reliable,
    /// A retransmission or out of order: not processed (§4).
    Discard,
}

/// `"required"` on the line and an INVITE that cannot do reliable provisionals: 421 (§3).
pub fn refuses_without_100rel(invite: &Request, cfg: &LineConfig) -> bool {
    cfg.reliable_provisionals == ReliableProvisionals::Required && !offers_100rel(invite)
}

fn offers_100rel(invite: &Request) -> bool {
    has_option_tag(&invite.headers, "Supported", "100rel")
        || has_option_tag(&invite.headers, "Require", "100rel")
}

/// `RAck: <rseq> <cseq> <method>` (§7.2), for an INVITE.
fn rack_of(request: &Request) -> Option<(u32, u32)> {
    let value = request.headers.get("RAck")?;
    let mut parts = value.split_whitespace();
    let rseq = parts.next()?.parse().ok()?;
    let cseq = parts.next()?.parse().ok()?;
    (parts.next()? == Method::Invite.as_str()).then_some((rseq, cseq))
}

impl Call {
    /// §4: a provisional response to our INVITE; a reliable one in order is PRACKed.
    pub(super) fn accept_provisional(
        &mut self,
        env: &mut CallEnv<'_>,
        response: &Response,
    ) -> Provisional {
        let rseq = response
            .headers
            .get("RSeq")
            .and_then(|v| v.trim().parse::<u32>().ok());
        let tag = response.headers.to.tag().map(str::to_string);
        let (Some(rseq), Some(tag)) = (rseq, tag) else {
            return Provisional::Unreliable;
        };
        if response.status == 100 || !has_option_tag(&response.headers, "Require", "100rel") {
            return Provisional::Unreliable;
        }
        let Leg::Uac(uac) = &mut self.leg else {
            return Provisional::Unreliable;
        };
        match uac.rseqs.iter_mut().find(|(t, _)| *t == tag) {
            Some((_, last)) if last.checked_add(1) != Some(rseq) => {
                tracing::debug!(call = %self.id, rseq, last = *last, "reliable 18x discarded (RFC 3262 §4)");
                return Provisional::Discard;
            }
            Some((_, last)) => *last = rseq,
            None => uac.rseqs.push((tag, rseq)),
        }
        self.send_prack(env, response, rseq);
        Provisional::Reliable
    }

    /// PRACK in the early dialog of `response` (§7.1).
    fn send_prack(&mut self, env: &mut CallEnv<'_>, response: &Response, rseq: u32) {
        self.dialog.establish_from(response);
        let cseq = self.dialog.next_cseq();
        let (mut prack, to) =
            env.ua
                .in_dialog_request(env.ids, &self.dialog, Method::Prack, cseq, self.peer);
        let acked = &response.headers.cseq;
        prack
            .headers
            .push("RAck", format!("{rseq} {} {}", acked.seq, acked.method));
        self.send(prack, to, Purpose::Prack);
    }

    /// Whether our 18x to this call's INVITE goes reliably.
    fn wants_reliable(&self, env: &CallEnv<'_>) -> bool {
        let Some(invite) = self.uas().and_then(|u| u.invite.as_deref()) else {
            return false;
        };
        has_option_tag(&invite.headers, "Require", "100rel")
            || (env.ua.line.cfg.reliable_provisionals != ReliableProvisionals::IfRequired
                && offers_100rel(invite))
    }

    /// Sends a 18x to the INVITE, reliably when the caller asks or allows it (§3).
    pub(super) fn send_provisional(&mut self, env: &mut CallEnv<'_>, mut response: Response) {
        if !self.wants_reliable(env) {
            return self.respond_invite(response);
        }
        let Some(invite) = self.uas().and_then(|u| u.invite.as_deref()) else {
            return;
        };
        let cseq = invite.headers.cseq.seq;
        let offerless = invite.body.is_empty();
        let rseq = 1 + env.ids.below((1 << 31) - 2) as u32;
        response.headers.push("Require", "100rel");
        response.headers.push("RSeq", rseq.to_string());
        let offer = if offerless {
            self.early_offer(env)
        } else {
            None
        };
        let carries_offer = offer.is_some();
        if let Some(offer) = offer {
            response.headers.content_type = Some("application/sdp".into());
            response.body = offer.into_bytes();
        }
        let timers = env.ua.sip.timers;
        let reliable_transport = self.peer.transport.is_reliable();
        let out = ReliableOut {
            rseq,
            cseq,
            response: response.clone(),
            carries_offer,
            pracked: false,
            interval: timers.t1,
            next: (!reliable_transport).then(|| env.now + timers.t1),
            give_up: env.now + timers.timeout_64t1(),
        };
        if let Leg::Uas(uas) = &mut self.leg {
            uas.reliable = Some(Box::new(out));
        }
        self.respond_invite(response);
    }

    /// Our offer for an INVITE that had none, leasing the media port now.
    fn early_offer(&mut self, env: &mut CallEnv<'_>) -> Option<String> {
        if self.media.lease.is_none() {
            match env.media.allocate() {
                Ok(lease) => self.media.adopt(lease),
                Err(err) => {
                    tracing::warn!(%err, "no media port for an early offer");
                    return None;
                }
            }
        }
        self.media.offer()
    }

    fn reliable_out(&mut self) -> Option<&mut ReliableOut> {
        match &mut self.leg {
            Leg::Uas(uas) => uas.reliable.as_deref_mut(),
            Leg::Uac(_) => None,
        }
    }

    /// Our reliable 18x carried an offer and has no PRACK yet: a 2xx must wait (§3).
    pub(super) fn answer_waits_for_prack(&self) -> bool {
        self.uas()
            .and_then(|u| u.reliable.as_deref())
            .is_some_and(|r| r.carries_offer && !r.pracked)
    }

    /// When our unacknowledged reliable 18x is next retransmitted or given up.
    pub(super) fn reliable_deadline(&self) -> Option<Instant> {
        if !matches!(self.phase, Phase::Offering | Phase::Accepted) {
            return None;
        }
        let r = self.uas()?.reliable.as_deref().filter(|r| !r.pracked)?;
        Some(r.next.map_or(r.give_up, |n| n.min(r.give_up)))
    }

    /// §3: retransmit the reliable 18x (T1 doubling), or give up after 64*T1 with a 500.
    pub(super) fn on_reliable_timer(&mut self, env: &mut CallEnv<'_>) {
        let now = env.now;
        let Some(r) = self.reliable_out().filter(|r| !r.pracked) else {
            return;
        };
        if r.give_up <= now {
            r.next = None;
            tracing::info!(call = %self.id, "no PRACK for our reliable 18x: 500");
            if let Some(response) = self.response_to_invite(env, 500) {
                self.respond_invite(response);
            }
            return self.end(env, Some(DisconnectMode::UNREACHABLE));
        }
        if r.next.is_some_and(|n| n <= now) {
            r.interval *= 2;
            r.next = Some(now + r.interval).filter(|n| *n < r.give_up);
            let response = r.response.clone();
            self.respond_invite(response);
        }
    }

    /// A PRACK from the caller (§3): 200 when it acknowledges our reliable 18x, else 481.
    /// The answer to an offer of ours comes in it; a 2xx waiting for it goes now.
    pub(super) fn on_prack(&mut self, env: &mut CallEnv<'_>, tx: ServerTxKey, request: &Request) {
        let rack = rack_of(request);
        let Some(r) = self
            .reliable_out()
            .filter(|r| !r.pracked && rack == Some((r.rseq, r.cseq)))
        else {
            return self.respond_in_dialog(env, tx, request, 481, None);
        };
        r.pracked = true;
        r.next = None;
        let carries_offer = r.carries_offer;
        self.respond_in_dialog(env, tx, request, 200, None);
        if carries_offer && !request.body.is_empty() {
            match sdp::parse_answer(&request.body) {
                Ok(remote) => self.media.set_remote(remote),
                Err(err) => tracing::info!(call = %self.id, %err, "PRACK without a usable answer"),
            }
        }
        let waiting = match &mut self.leg {
            Leg::Uas(uas) => uas.answer_after_prack.take(),
            Leg::Uac(_) => None,
        };
        if let Some(body) = waiting {
            self.send_answer(env, body);
        }
    }
}
