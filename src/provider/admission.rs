//! Admission: what the provider takes in, decided before the transaction layer sees a request,
//! so that what it refuses costs no transaction, no timer and no memory.
//!
//! In order, for every request (docs/operations.md, "SIP admission and overload"):
//! 1. ACKs, retransmissions of a live server transaction, requests inside one of our dialogs
//!    and CANCELs of a live INVITE transaction always pass (they are bounded by the calls).
//! 2. A new INVITE whose source IP address is over `sip.invite_rate_per_source` (a token bucket
//!    of one second) gets 503 with `Retry-After: invite_flood_block_s`; the source then gets no
//!    answer at all for that long (a flooder learns nothing more and costs a table look-up).
//! 3. A request outside our dialogs from a source no line trusts (`trust`) gets 403, the same
//!    for every method and user (no user enumeration by 404 vs 480 vs 403; RFC 3261 §11.2
//!    says OPTIONS gets what an INVITE would, so OPTIONS gets 403 too and shows no Allow,
//!    Accept, Supported or Server).
//! 4. Beyond `sip.max_server_transactions` live server transactions, new requests get 503 with
//!    Retry-After.
//!
//! Every refusal here is stateless (RFC 3261 §8.2.7: one To tag per process, so a retransmitted
//! request gets the same answer) and is counted in [`AdmissionStats`]; each kind logs at most
//! one line per [`LOG_PERIOD`](super::rate_limit::LOG_PERIOD). A datagram that waited longer
//! than `sip.overload_queue_ms` before reaching the core means the core is behind: a new INVITE
//! then gets 503 at once ([`SipProvider::handle_incoming_queued`]), after step 2 (a blocked
//! flooder stays unanswered); the UDP driver does the same with [`overload_refusal`] when the
//! channel to the core is nearly full.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::config::AdmissionConfig;
use crate::sip::codec;
use crate::sip::message::{Method, Request, Response, SipMessage};
use crate::sip::transaction::ServerTxKey;
use crate::sip::transport::{response_destination, stamp_received, Incoming, Peer, Transmit};

use super::call::DialogKey;
use super::rate_limit::{LogLimiter, SourceLimiter, Verdict};
use super::{trust, SipProvider};

/// Retry-After (s) of a 503 for the transaction limit or an overloaded core.
pub const BUSY_RETRY_AFTER: u64 = 5;

/// What admission refused, since start-up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AdmissionStats {
    /// New requests answered 503 because `max_server_transactions` were live.
    pub server_transactions_refused: u64,
    /// New INVITEs answered 503 + Retry-After for going over `invite_rate_per_source`.
    pub invite_rate_refused: u64,
    /// New INVITEs dropped without an answer while their source was blocked.
    pub invite_rate_dropped: u64,
    /// New INVITEs answered 503 because the core was behind (in the core or by the UDP driver).
    pub overload_refused: u64,
    /// Requests outside our dialogs answered 403 because no line trusts their source.
    pub untrusted_refused: u64,
}

/// Why admission refused something (its number is its log limiter's index).
#[derive(Debug, Clone, Copy)]
enum Refusal {
    Transactions = 0,
    Flood = 1,
    Overload = 2,
    Untrusted = 3,
}

impl Refusal {
    fn describe(self) -> &'static str {
        match self {
            Refusal::Transactions => {
                "server transaction limit reached (sip.max_server_transactions): 503"
            }
            Refusal::Flood => {
                "INVITE flood (sip.invite_rate_per_source): 503, then silence for the block period"
            }
            Refusal::Overload => {
                "core overloaded (sip.overload_queue_ms): new INVITE refused with 503"
            }
            Refusal::Untrusted => "request from a source no line trusts: 403",
        }
    }
}

/// Admission's state: limits, per-source buckets, counters, log limiters.
pub(super) struct Admission {
    cfg: AdmissionConfig,
    limiter: SourceLimiter,
    stats: AdmissionStats,
    logs: [LogLimiter; 4],
    /// The To tag of every stateless response.
    stateless_tag: String,
}

impl Admission {
    pub fn new(cfg: &AdmissionConfig, stateless_tag: String) -> Self {
        Admission {
            cfg: cfg.clone(),
            limiter: SourceLimiter::new(cfg.invite_rate_per_source, cfg.flood_block),
            stats: AdmissionStats::default(),
            logs: Default::default(),
            stateless_tag,
        }
    }

    pub fn stats(&self) -> AdmissionStats {
        self.stats
    }

    /// Whether a message that waited `queued` means the core is behind.
    fn overloaded(&self, queued: Duration) -> bool {
        !self.cfg.overload_queue.is_zero() && queued > self.cfg.overload_queue
    }

    /// Counts a refusal and logs it when its kind may log now.
    fn note(&mut self, now: Instant, kind: Refusal, from: SocketAddr) {
        let stats = &mut self.stats;
        let counter = match kind {
            Refusal::Transactions => &mut stats.server_transactions_refused,
            Refusal::Flood => &mut stats.invite_rate_refused,
            Refusal::Overload => &mut stats.overload_refused,
            Refusal::Untrusted => &mut stats.untrusted_refused,
        };
        *counter += 1;
        if let Some(held_back) = self.logs[kind as usize].allow(now) {
            tracing::warn!(%from, total = *counter, held_back, "{}", kind.describe());
        }
    }
}

/// A request that starts something new: no To tag (RFC 3261 §12: not in a dialog), not ACK.
pub fn is_new_invite(request: &Request) -> bool {
    request.method == Method::Invite && request.headers.to.tag().is_none()
}

/// A stateless answer to `request` (§8.2.7), sent where §18.2.2 says (the top Via must already
/// carry `received`/`rport`), with Retry-After when given and no Server header.
fn stateless_answer(
    request: &Request,
    source: Peer,
    status: u16,
    tag: &str,
    retry_after: Option<u64>,
) -> Option<Transmit> {
    let via = request.headers.via.first()?;
    let destination = response_destination(via, source);
    let mut response = Response::for_request(request, status, Some(tag));
    if let Some(secs) = retry_after {
        response.headers.push("Retry-After", secs.to_string());
    }
    Some(Transmit {
        destination,
        payload: codec::encode(&SipMessage::Response(response)).into(),
    })
}

/// The UDP driver's answer to a new INVITE while the core is behind: 503 with Retry-After,
/// built without the core (`tag` is the driver's own stateless tag). `None` for anything else.
pub fn overload_refusal(incoming: &Incoming, tag: &str) -> Option<Transmit> {
    let SipMessage::Request(request) = &incoming.message else {
        return None;
    };
    if !is_new_invite(request) {
        return None;
    }
    let mut request = request.clone();
    let via = request.headers.via.first_mut()?;
    stamp_received(via, incoming.source.addr);
    stateless_answer(&request, incoming.source, 503, tag, Some(BUSY_RETRY_AFTER))
}

impl SipProvider {
    /// What admission refused since start-up.
    pub fn admission_stats(&self) -> AdmissionStats {
        self.admission.stats()
    }

    /// The UDP driver refused `count` new INVITEs itself (the core was behind).
    pub fn note_driver_refusals(&mut self, count: u64) {
        self.admission.stats.overload_refused += count;
    }

    /// A message that waited `queued` between the driver and the core: while that is longer
    /// than `sip.overload_queue_ms`, a new INVITE is answered 503 at once, without a
    /// transaction; everything else (responses, in-dialog requests, retransmissions) is
    /// handled as usual. The per-source INVITE rate still comes first: a flooder blocked for
    /// `invite_flood_block_s` gets no answer, overloaded core or not (the wait counts from the
    /// kernel's receive time, so a flood that fills the socket buffer makes the core "behind").
    pub fn handle_incoming_queued(
        &mut self,
        now: Instant,
        mut incoming: Incoming,
        queued: Duration,
    ) {
        let refuse = self.admission.overloaded(queued)
            && matches!(&incoming.message, SipMessage::Request(r) if is_new_invite(r) && !self.is_known(r));
        if !refuse {
            return self.handle_incoming(now, incoming);
        }
        self.fire_due(now);
        if let SipMessage::Request(request) = &mut incoming.message {
            if let Some(via) = request.headers.via.first_mut() {
                stamp_received(via, incoming.source.addr);
            }
            if !self.within_invite_rate(now, request, incoming.source) {
                return;
            }
        }
        if let Some(transmit) = overload_refusal(&incoming, &self.admission.stateless_tag) {
            self.txl
                .send_encoded(transmit.destination, transmit.payload);
        }
        self.admission
            .note(now, Refusal::Overload, incoming.source.addr);
    }

    /// Screens a request before the transaction layer sees it (its Via already stamped);
    /// false when it was answered or dropped here.
    pub(super) fn admit_request(&mut self, now: Instant, request: &Request, source: Peer) -> bool {
        if request.method == Method::Ack || self.is_known(request) {
            return true;
        }
        if is_new_invite(request) && !self.within_invite_rate(now, request, source) {
            return false;
        }
        if !self.trusted_by_a_line(source.addr) {
            self.answer_statelessly(request, source, 403, None);
            self.admission.note(now, Refusal::Untrusted, source.addr);
            return false;
        }
        if self.txl.num_servers() >= self.admission.cfg.max_server_transactions {
            self.answer_statelessly(request, source, 503, Some(BUSY_RETRY_AFTER));
            self.admission.note(now, Refusal::Transactions, source.addr);
            return false;
        }
        true
    }

    /// Step 2: a new INVITE within its source's `sip.invite_rate_per_source`; otherwise it was
    /// answered 503 (`Retry-After: invite_flood_block_s`) or, while the source is blocked,
    /// dropped, and false.
    fn within_invite_rate(&mut self, now: Instant, request: &Request, source: Peer) -> bool {
        match self.admission.limiter.check(source.addr.ip(), now) {
            Verdict::Admit => true,
            Verdict::Refuse => {
                let block = self.admission.cfg.flood_block.as_secs();
                self.answer_statelessly(request, source, 503, Some(block));
                self.admission.note(now, Refusal::Flood, source.addr);
                false
            }
            Verdict::Drop => {
                self.admission.stats.invite_rate_dropped += 1;
                false
            }
        }
    }

    /// A retransmission of a live server transaction, a request in one of our dialogs, or a
    /// CANCEL of a live INVITE transaction.
    fn is_known(&self, request: &Request) -> bool {
        let Some(key) = ServerTxKey::for_request(request) else {
            return false;
        };
        if self.txl.has_server(&key) {
            return true;
        }
        if request.method == Method::Cancel {
            let invite = ServerTxKey {
                method: Method::Invite,
                ..key
            };
            return self.txl.has_server(&invite);
        }
        DialogKey::of_request(request)
            .is_some_and(|k| self.routes.dialog(&k, &self.calls).is_some())
    }

    /// Whether any line takes requests from `addr`.
    fn trusted_by_a_line(&self, addr: SocketAddr) -> bool {
        self.lines
            .iter()
            .any(|l| !l.removed && trust::trusts(&l.cfg, addr))
    }

    fn answer_statelessly(
        &mut self,
        request: &Request,
        source: Peer,
        status: u16,
        retry_after: Option<u64>,
    ) {
        let tag = &self.admission.stateless_tag;
        if let Some(t) = stateless_answer(request, source, status, tag, retry_after) {
            self.txl.send_encoded(t.destination, t.payload);
        }
    }
}
