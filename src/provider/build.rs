//! Building the requests we send: out-of-dialog (RFC 3261 §8.1.1), in-dialog (§12.2.1.1) and
//! CANCEL (§9.1), from what a line says about us ([`Ua`]: sent-by, Contact, identity).

use std::net::SocketAddr;

use crate::config::SipConfig;
use crate::sip::message::{CSeq, Headers, Host, Method, NameAddr, Request, Uri, Via};
use crate::sip::transport::{Peer, Transport};

use super::call::dialog::Dialog;
use super::ids::IdGen;
use super::line::Line;

/// Max-Forwards of every request we originate (§8.1.1.6).
const MAX_FORWARDS: u32 = 70;

/// Methods we accept (Allow header).
pub const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER, NOTIFY";

/// Extensions we support (Supported header, RFC 3261 §20.37): Replaces (RFC 3891), session
/// timers (RFC 4028), reliable provisional responses (RFC 3262).
pub const SUPPORTED: &str = "replaces, timer, 100rel";

/// Our user agent on one line: what goes into Via, Contact and From.
#[derive(Clone, Copy)]
pub struct Ua<'a> {
    pub sip: &'a SipConfig,
    pub line: &'a Line,
}

impl<'a> Ua<'a> {
    pub fn new(sip: &'a SipConfig, line: &'a Line) -> Self {
        Ua { sip, line }
    }

    /// The host and port we advertise (the line may have learnt its public address).
    pub fn sent_by(&self) -> (Host, u16) {
        self.line
            .public_address
            .clone()
            .unwrap_or((self.sip.advertised_host.clone(), self.sip.advertised_port))
    }

    /// Our sent-by for `transport`, with a fresh branch and an empty `rport` (RFC 3581 §3).
    pub fn new_via(&self, ids: &mut IdGen, transport: Transport) -> Via {
        let (host, port) = self.sent_by();
        let mut via = Via::new(transport.via_token(), host, Some(port), &ids.branch());
        via.params.set("rport", None);
        via
    }

    /// Our Contact on the line.
    pub fn contact(&self) -> NameAddr {
        let (host, port) = self.sent_by();
        let cfg = &self.line.cfg;
        let mut uri = Uri::sip(Some(&cfg.user), host, Some(port));
        if cfg.transport == Transport::Tcp {
            uri.params.set("transport", Some("tcp"));
        }
        NameAddr::new(uri)
    }

    /// The `User-Agent` / `Server` value.
    pub fn user_agent(&self) -> &str {
        &self.sip.user_agent
    }

    /// A request outside any dialog (§8.1.1).
    #[allow(clippy::too_many_arguments)]
    pub fn out_of_dialog_request(
        &self,
        ids: &mut IdGen,
        method: Method,
        uri: Uri,
        from: NameAddr,
        to: NameAddr,
        call_id: String,
        cseq: u32,
    ) -> Request {
        let via = self.new_via(ids, self.line.cfg.transport);
        let cseq = CSeq {
            seq: cseq,
            method: method.clone(),
        };
        let mut headers = Headers::new(via, from, to, call_id, cseq);
        headers.max_forwards = Some(MAX_FORWARDS);
        if matches!(method, Method::Invite | Method::Register) {
            headers.contact.push(self.contact());
        }
        if matches!(method, Method::Invite) {
            headers.push("Allow", ALLOW);
            headers.push("Supported", SUPPORTED);
        }
        headers.push("User-Agent", self.user_agent());
        Request {
            method,
            uri,
            headers,
            body: Vec::new(),
        }
    }

    /// A request inside `dialog` (§12.2.1.1), and where to send it.
    pub fn in_dialog_request(
        &self,
        ids: &mut IdGen,
        dialog: &Dialog,
        method: Method,
        cseq: u32,
        fallback: Peer,
    ) -> (Request, Peer) {
        let via = self.new_via(ids, fallback.transport);
        let cseq = CSeq {
            seq: cseq,
            method: method.clone(),
        };
        let mut headers = Headers::new(
            via,
            dialog.local.clone(),
            dialog.remote_with_tag(),
            dialog.key.call_id.clone(),
            cseq,
        );
        headers.max_forwards = Some(MAX_FORWARDS);
        headers.route = dialog.route_set.clone();
        if matches!(method, Method::Invite | Method::Update) {
            headers.contact.push(self.contact());
            headers.push("Supported", SUPPORTED);
        }
        headers.push("User-Agent", self.user_agent());
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
