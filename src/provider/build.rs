//! Building the requests we send: out-of-dialog (RFC 3261 §8.1.1), in-dialog (§12.2.1.1),
//! the ACK for a 2xx (§13.2.2.4) and CANCEL (§9.1).

use std::net::SocketAddr;

use crate::sip::message::{CSeq, Headers, Host, Method, NameAddr, Request, Uri, Via};
use crate::sip::transport::{Peer, Transport};

use super::call::Dialog;
use super::SipProvider;

/// Max-Forwards of every request we originate (§8.1.1.6).
const MAX_FORWARDS: u32 = 70;

/// Methods we accept (Allow header).
pub const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE";

impl SipProvider {
    /// Our sent-by for `transport`, with a fresh branch and an empty `rport` (RFC 3581 §3).
    pub(super) fn new_via(&mut self, line: Option<usize>, transport: Transport) -> Via {
        let (host, port) = self.sent_by(line);
        let mut via = Via::new(transport.via_token(), host, Some(port), &self.ids.branch());
        via.params.set("rport", None);
        via
    }

    /// The host and port we advertise (a line may have learned its public address).
    pub(super) fn sent_by(&self, line: Option<usize>) -> (Host, u16) {
        line.and_then(|l| self.lines.get(l))
            .and_then(|l| l.registration.public_address.clone())
            .unwrap_or((self.sip.advertised_host.clone(), self.sip.advertised_port))
    }

    /// Our Contact for a line.
    pub(super) fn contact(&self, line: usize) -> NameAddr {
        let (host, port) = self.sent_by(Some(line));
        let l = &self.lines[line];
        let mut uri = Uri::sip(Some(&l.cfg.user), host, Some(port));
        if l.cfg.transport == Transport::Tcp {
            uri.params.set("transport", Some("tcp"));
        }
        NameAddr::new(uri)
    }

    /// A request outside any dialog from `line` (§8.1.1).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn out_of_dialog_request(
        &mut self,
        line: usize,
        method: Method,
        uri: Uri,
        from: NameAddr,
        to: NameAddr,
        call_id: String,
        cseq: u32,
    ) -> Request {
        let transport = self.lines[line].cfg.transport;
        let via = self.new_via(Some(line), transport);
        let cseq = CSeq {
            seq: cseq,
            method: method.clone(),
        };
        let mut headers = Headers::new(via, from, to, call_id, cseq);
        headers.max_forwards = Some(MAX_FORWARDS);
        if matches!(method, Method::Invite | Method::Register) {
            headers.contact.push(self.contact(line));
        }
        if matches!(method, Method::Invite) {
            headers.push("Allow", ALLOW);
        }
        headers.push("User-Agent", self.sip.user_agent.clone());
        Request {
            method,
            uri,
            headers,
            body: Vec::new(),
        }
    }

    /// A request inside `dialog` (§12.2.1.1), and where to send it.
    pub(super) fn in_dialog_request(
        &mut self,
        line: usize,
        dialog: &Dialog,
        method: Method,
        cseq: u32,
        fallback: Peer,
    ) -> (Request, Peer) {
        let transport = fallback.transport;
        let via = self.new_via(Some(line), transport);
        let mut to = dialog.remote.clone();
        if let Some(tag) = &dialog.remote_tag {
            to.params.set("tag", Some(tag));
        }
        let cseq = CSeq {
            seq: cseq,
            method: method.clone(),
        };
        let mut headers = Headers::new(via, dialog.local.clone(), to, dialog.call_id.clone(), cseq);
        headers.max_forwards = Some(MAX_FORWARDS);
        headers.route = dialog.route_set.clone();
        if matches!(method, Method::Invite | Method::Update) {
            headers.contact.push(self.contact(line));
        }
        headers.push("User-Agent", self.sip.user_agent.clone());
        let next_hop = dialog
            .route_set
            .first()
            .map(|r| &r.uri)
            .unwrap_or(&dialog.remote_target);
        let destination = resolve_hop(next_hop, fallback);
        let request = Request {
            method,
            uri: dialog.remote_target.clone(),
            headers,
            body: Vec::new(),
        };
        (request, destination)
    }
}

/// Where a URI points, when it names an IP address; else the fallback (our proxy).
pub fn resolve_hop(uri: &Uri, fallback: Peer) -> Peer {
    let transport = match uri.transport_param().as_deref() {
        Some(t) if t.eq_ignore_ascii_case("tcp") => Transport::Tcp,
        Some(t) if t.eq_ignore_ascii_case("udp") => Transport::Udp,
        _ => fallback.transport,
    };
    match uri.host.ip() {
        Some(ip) => Peer {
            transport,
            addr: SocketAddr::new(ip, uri.port.unwrap_or(5060)),
        },
        None => fallback,
    }
}

/// CANCEL for `invite` (§9.1): same Request-URI, Call-ID, From, To, CSeq number, top Via
/// (branch included) and Route; method CANCEL.
pub fn cancel_for(invite: &Request) -> Request {
    let mut cancel = invite.derive(Method::Cancel, invite.headers.to.clone());
    if let Some(ua) = invite.headers.get("User-Agent") {
        cancel.headers.push("User-Agent", ua.to_string());
    }
    cancel
}
