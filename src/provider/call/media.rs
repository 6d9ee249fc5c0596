//! A call's side of SDP offer/answer (RFC 3264): the RTP lease it advertises, its `o=` line,
//! the last description it sent and what the peer's says.

use std::net::SocketAddr;

use crate::media::{MediaAllocator, MediaLease};
use crate::sdp::{self, RemoteMedia, SdpOrigin};

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
}

impl CallMedia {
    pub fn new(origin: SdpOrigin) -> Self {
        CallMedia {
            lease: None,
            local_rtp: None,
            origin,
            local_sdp: None,
            remote: None,
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

    /// Returns the port pair to the allocator.
    pub fn release(&mut self, media: &mut dyn MediaAllocator) {
        if let Some(lease) = self.lease.take() {
            media.release(lease);
        }
    }

    /// Our SDP for the peer's re-offer (RFC 3264 §8: the version changes only when the session
    /// does); `None` when the offer has nothing we support (488). An offer-less re-INVITE gets
    /// our current description again.
    pub fn answer_reoffer(&mut self, offer: &[u8]) -> Option<String> {
        let rtp = self.local_rtp?;
        if offer.is_empty() {
            return self
                .local_sdp
                .clone()
                .or_else(|| Some(sdp::build_offer(&self.origin, rtp)));
        }
        let (answer, remote) = sdp::answer_offer(offer, &self.origin, rtp).ok()?;
        let changed = self.remote.as_ref() != Some(&remote);
        let answer = if changed && self.local_sdp.as_deref() != Some(answer.as_str()) {
            self.origin = self.origin.next_version();
            sdp::answer_offer(offer, &self.origin, rtp).ok()?.0
        } else {
            self.local_sdp.clone().unwrap_or(answer)
        };
        self.remote = Some(remote);
        self.local_sdp = Some(answer.clone());
        Some(answer)
    }
}
