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
    last_sent: Option<Sent>,
    pub remote: Option<RemoteMedia>,
    /// Where the peer's answer came from before the 2xx (early media), if it did.
    pub early: Option<EarlyAnswer>,
}

/// The description we last sent. Our offers are a function of origin, address and direction,
/// so they are kept as the version and direction (about 200 bytes less per live call than
/// the text; a new address clears it, see [`CallMedia::adopt`]); an answer depends on the
/// peer's offer, and is kept as text.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Sent {
    Offer { version: u64, direction: Direction },
    Answer(String),
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
            last_sent: None,
            remote: None,
            early: None,
        }
    }

    /// Takes `lease` as the call's port pair; our SDP names its address.
    pub fn adopt(&mut self, lease: MediaLease) {
        self.origin.address = lease.rtp.ip();
        if self.local_rtp != Some(lease.rtp) {
            // What we sent named another address: it cannot be sent again as it was.
            self.last_sent = None;
        }
        self.local_rtp = Some(lease.rtp);
        self.lease = Some(lease);
    }

    /// Our initial offer (PCMU, PCMA, telephone-event), remembered as the last sent.
    pub fn offer(&mut self) -> Option<String> {
        self.offer_as_is(Direction::SendRecv)
    }

    /// The description we last sent (rebuilt when it was an offer of ours).
    pub fn last_sent(&self) -> Option<String> {
        match self.last_sent.as_ref()? {
            Sent::Offer { version, direction } => {
                let origin = SdpOrigin {
                    session_version: *version,
                    ..self.origin
                };
                Some(sdp::build_offer_with(&origin, self.local_rtp?, *direction))
            }
            Sent::Answer(text) => Some(text.clone()),
        }
    }

    /// Remembers `answer` as the description we sent.
    pub fn sent_answer(&mut self, answer: &str) {
        self.last_sent = Some(Sent::Answer(answer.to_string()));
    }

    /// Our offer with `direction` at the current version, remembered as the last sent.
    fn offer_as_is(&mut self, direction: Direction) -> Option<String> {
        let offer = sdp::build_offer_with(&self.origin, self.local_rtp?, direction);
        self.last_sent = Some(Sent::Offer {
            version: self.origin.session_version,
            direction,
        });
        Some(offer)
    }

    /// A new offer in the session (a re-INVITE) with `direction`: the version goes up
    /// (RFC 3264 §8).
    pub fn offer_with(&mut self, direction: Direction) -> Option<String> {
        self.local_rtp?;
        self.origin = self.origin.next_version();
        self.offer_as_is(direction)
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
        match self.last_sent() {
            Some(last) if same_but_version(&last, &offer) => Some(last),
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
        let last = self.last_sent();
        let answer = if let Some(last) = last.filter(|last| same_but_version(last, &answer)) {
            last
        } else {
            self.origin = self.origin.next_version();
            sdp::answer_offer_with(offer, &self.origin, rtp, ours)
                .ok()?
                .0
        };
        self.set_remote(remote);
        self.sent_answer(&answer);
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
