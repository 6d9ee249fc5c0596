//! A scripted SIP peer for the simulator, written with our message model: it answers the
//! gateway's requests and places its own calls, building messages as RFC 3261 says a UA does
//! (§8.1.1 requests, §8.2.6 responses, §12.2.1.1 in-dialog requests, §9.1 CANCEL,
//! §13.2.2.4 ACK).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::sip::message::{CSeq, Headers, Host, Method, NameAddr, Request, Response, Uri, Via};
use crate::sip::transport::{Peer, Transport};

static NEXT_BRANCH: AtomicU64 = AtomicU64::new(1);

/// An SDP a typical peer offers or answers (PCMU, PCMA, telephone-event).
pub const PEER_SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n";

/// One SIP user agent at a fixed address.
pub struct SipPeer {
    pub addr: SocketAddr,
    pub transport: Transport,
    /// Our tag in every dialog this peer takes part in.
    pub tag: String,
    next_branch: u64,
    next_call: u64,
}

impl SipPeer {
    pub fn new(addr: SocketAddr, transport: Transport) -> Self {
        SipPeer {
            addr,
            transport,
            tag: format!("peer{}", addr.port()),
            next_branch: 1,
            next_call: 1,
        }
    }

    /// Where the gateway sees this peer.
    pub fn at(&self) -> Peer {
        Peer {
            transport: self.transport,
            addr: self.addr,
        }
    }

    fn uri(&self, user: Option<&str>) -> Uri {
        Uri::sip(user, Host::Ip(self.addr.ip()), Some(self.addr.port()))
    }

    fn via(&mut self) -> Via {
        // Unique across peers too: two peers at one address never send the same branch.
        self.next_branch = NEXT_BRANCH.fetch_add(1, Ordering::Relaxed);
        Via::new(
            self.transport.via_token(),
            Host::Ip(self.addr.ip()),
            Some(self.addr.port()),
            &format!("z9hG4bKpeer{}x{}", self.addr.port(), self.next_branch),
        )
    }

    /// Our response to `request` (§8.2.6), with our tag and Contact, and `sdp` as its body.
    pub fn response(&self, request: &Request, status: u16, sdp: Option<&str>) -> Response {
        let mut r = Response::for_request(request, status, Some(&self.tag));
        if (101..300).contains(&status) {
            r.headers
                .contact
                .push(NameAddr::new(self.uri(Some("peer"))));
        }
        if let Some(sdp) = sdp {
            r.headers.content_type = Some("application/sdp".into());
            r.body = sdp.as_bytes().to_vec();
        }
        r
    }

    /// A new INVITE from us to `user` at the gateway (§8.1.1), with `sdp` as its offer.
    pub fn invite(&mut self, gateway: SocketAddr, user: &str, sdp: Option<&str>) -> Request {
        self.next_call = NEXT_BRANCH.fetch_add(1, Ordering::Relaxed);
        let target = Uri::sip(Some(user), Host::Ip(gateway.ip()), Some(gateway.port()));
        let via = self.via();
        let from = NameAddr::new(self.uri(Some("caller"))).with_tag(&self.tag);
        let to = NameAddr::new(target.clone());
        let call_id = format!(
            "sim{}-{}@{}",
            self.next_call,
            self.addr.port(),
            self.addr.ip()
        );
        let cseq = CSeq {
            seq: 1,
            method: Method::Invite,
        };
        let mut headers = Headers::new(via, from, to, call_id, cseq);
        headers.max_forwards = Some(70);
        headers
            .contact
            .push(NameAddr::new(self.uri(Some("caller"))));
        let mut invite = Request {
            method: Method::Invite,
            uri: target,
            headers,
            body: Vec::new(),
        };
        if let Some(sdp) = sdp {
            invite.headers.content_type = Some("application/sdp".into());
            invite.body = sdp.as_bytes().to_vec();
        }
        invite
    }

    /// §17.1.1.3: the ACK of a non-2xx final `response` to our `invite` (same branch).
    pub fn ack_final(&self, invite: &Request, response: &Response) -> Request {
        invite.derive(Method::Ack, response.headers.to.clone())
    }

    /// §9.1: CANCEL of our `invite`.
    pub fn cancel(&self, invite: &Request) -> Request {
        invite.derive(Method::Cancel, invite.headers.to.clone())
    }

    /// A request in the dialog our `invite` created, answered by the gateway's `answer`
    /// (§12.2.1.1; the ACK for a 2xx is one, with the INVITE's CSeq number, §13.2.2.4).
    pub fn in_our_dialog(
        &mut self,
        invite: &Request,
        answer: &Response,
        method: Method,
        seq: u32,
    ) -> Request {
        let target = answer
            .headers
            .contact
            .first()
            .map_or_else(|| invite.uri.clone(), |c| c.uri.clone());
        self.dialog_request(
            invite.headers.from.clone(),
            answer.headers.to.clone(),
            &invite.headers.call_id,
            target,
            method,
            seq,
        )
    }

    /// A request in the dialog the gateway's `invite` created and our `answer` confirmed (we
    /// are the UAS: From is the INVITE's To with our tag, To its From).
    pub fn in_their_dialog(
        &mut self,
        invite: &Request,
        answer: &Response,
        method: Method,
        seq: u32,
    ) -> Request {
        let target = invite
            .headers
            .contact
            .first()
            .map_or_else(|| invite.headers.from.uri.clone(), |c| c.uri.clone());
        self.dialog_request(
            answer.headers.to.clone(),
            invite.headers.from.clone(),
            &invite.headers.call_id,
            target,
            method,
            seq,
        )
    }

    fn dialog_request(
        &mut self,
        from: NameAddr,
        to: NameAddr,
        call_id: &str,
        target: Uri,
        method: Method,
        seq: u32,
    ) -> Request {
        let via = self.via();
        let cseq = CSeq {
            seq,
            method: method.clone(),
        };
        let mut headers = Headers::new(via, from, to, call_id.to_string(), cseq);
        headers.max_forwards = Some(70);
        Request {
            method,
            uri: target,
            headers,
            body: Vec::new(),
        }
    }
}
