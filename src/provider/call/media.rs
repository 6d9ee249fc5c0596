//! A call's side of SDP offer/answer (RFC 3264): the RTP lease it advertises, its `o=` line,
//! the last description it sent and what the peer's says.

use std::net::SocketAddr;

use crate::media::{MediaAllocator, MediaLease};
use crate::sdp::{self, Direction, RemoteMedia, SdpOrigin};

/// The media state of one call.
pub struct CallMedia {
    /// The RTP/RTCP port pair, while the call has one.
    pub lease: Option<MediaLease>,
    /// Our RTP address, kept after the lease is returned (lineGetCallInfo after IDLE).
    pub local_rtp: Option<SocketAddr>,
    pub origin: SdpOrigin,
    /// The description we last sent, while a re-offer may need it again.
    pub local_sdp: Option<String>,
    pub remote: Option<RemoteMedia>,
    /// Where the peer's answer came from before the 2xx (early media), if it did.
    pub early: Option<EarlyAnswer>,
}

/// A 18x that carried the peer's SDP (RFC 3261 §13.2.1, RFC 3262).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EarlyAnswer {
    /// An unreliable 18x: early media, but the 2xx still brings the answer.
    Unreliable,
    /// A reliable 18x (PRACKed): the answer; offer/answer is complete.
    Reliable,
}

impl CallMedia {
    pub fn new(origin: SdpOrigin) -> Self {
        CallMedia {
            lease: None,
            local_rtp: None,
            origin,
            local_sdp: None,
            remote: None,
            early: None,
        }
    }

    /// Takes `lease` as the call's port pair; our SDP names its address.
    pub fn adopt(&mut self, lease: MediaLease) {
        self.origin.address = lease.rtp.ip();
        self.local_rtp = Some(lease.rtp);
        self.lease = Some(lease);
    }

    /// Our initial offer (PCMU, PCMA, telephone-event), remembered as the last sent.
    pub fn offer(&mut self) -> Option<String> {
        let rtp = self.local_rtp?;
        let offer = sdp::build_offer(&self.origin, rtp);
        self.local_sdp = Some(offer.clone());
        Some(offer)
    }

    /// A new offer in the session (a re-INVITE) with `direction`: the version goes up
    /// (RFC 3264 §8).
    pub fn offer_with(&mut self, direction: Direction) -> Option<String> {
        let rtp = self.local_rtp?;
        self.origin = self.origin.next_version();
        let offer = sdp::build_offer_with(&self.origin, rtp, direction);
        self.local_sdp = Some(offer.clone());
        Some(offer)
    }

    /// The peer's media changed (an answer, an offer, early media in a 18x). Every change goes
    /// through here: this is where the call's media endpoint learns where to send RTP.
    pub fn set_remote(&mut self, remote: RemoteMedia) {
        self.remote = Some(remote);
    }

    /// An offer that only refreshes the session (RFC 4028 re-INVITE): the description we last
    /// sent, same version, when nothing changed; a new version otherwise (RFC 3264 §8).
    pub fn refresh_offer(&mut self, direction: Direction) -> Option<String> {
        let rtp = self.local_rtp?;
        let offer = sdp::build_offer_with(&self.origin, rtp, direction);
        match &self.local_sdp {
            Some(last) if same_but_version(last, &offer) => Some(last.clone()),
            _ => self.offer_with(direction),
        }
    }

    /// Returns the port pair to the allocator.
    pub fn release(&mut self, media: &mut dyn MediaAllocator) {
        if let Some(lease) = self.lease.take() {
            media.release(lease);
        }
    }

    /// Our SDP for the peer's re-offer, when we want `ours` (sendonly while we hold the peer):
    /// the version changes only when the description does (RFC 3264 §8); `None` when the
    /// offer has nothing we support (488). An offer-less re-INVITE gets a full new offer of
    /// ours (RFC 6337 §5.3), whose answer comes in the ACK.
    pub fn answer_reoffer(&mut self, offer: &[u8], ours: Direction) -> Option<String> {
        if offer.is_empty() {
            return self.offer_with(ours);
        }
        let rtp = self.local_rtp?;
        let (answer, remote) = sdp::answer_offer_with(offer, &self.origin, rtp, ours).ok()?;
        let same = self
            .local_sdp
            .as_deref()
            .is_some_and(|last| same_but_version(last, &answer));
        let answer = if same {
            self.local_sdp.clone().unwrap_or(answer)
        } else {
            self.origin = self.origin.next_version();
            sdp::answer_offer_with(offer, &self.origin, rtp, ours)
                .ok()?
                .0
        };
        self.set_remote(remote);
        self.local_sdp = Some(answer.clone());
        Some(answer)
    }
}

/// Two descriptions of ours that differ at most in the `o=` line.
fn same_but_version(a: &str, b: &str) -> bool {
    let body = |s: &'_ str| {
        s.lines()
            .filter(|l| !l.starts_with("o="))
            .collect::<Vec<_>>()
            .join("\n")
    };
    body(a) == body(b)
}
