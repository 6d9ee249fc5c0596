//! Building the requests we send: out-of-dialog (RFC 3261 §8.1.1), in-dialog (§12.2.1.1) and
//! CANCEL (§9.1), from what a line says about us ([`Ua`]: sent-by, Contact, identity).

use std::net::SocketAddr;

use crate::config::SipConfig;
use crate::sip::message::{CSeq, Headers, Host, Method, NameAddr, Request, Scheme, Uri, Via};
use crate::sip::transport::{Peer, Transport};

use super::call::dialog::Dialog;
use super::ids::IdGen;
use super::line::Line;

/// Max-Forwards of every request we originate (§8.1.1.6).
const MAX_FORWARDS: u32 = 70;

/// Methods we accept (Allow header).
pub const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER, NOTIFY";

/// The option tags we support (RFC 3261 §19.2, §20.37): Replaces (RFC 3891), session timers
/// (RFC 4028), reliable provisional responses (RFC 3262). The one list:
/// our `Supported` headers are it ([`SUPPORTED`]) and a `Require` naming anything else gets
/// 420 (`super::extensions`).
pub const SUPPORTED_TAGS: &[&str] = &["replaces", "timer", "100rel"];

/// [`SUPPORTED_TAGS`] as a header value (`replaces, ...`), joined at compile time.
pub const SUPPORTED: &str = match std::str::from_utf8(&SUPPORTED_BYTES) {
    Ok(value) => value,
    Err(_) => panic!("option tags are ASCII"),
};
const SUPPORTED_BYTES: [u8; joined_len(SUPPORTED_TAGS)] = join(SUPPORTED_TAGS);

/// Option tags a REGISTER of a TCP/TLS line adds (RFC 5626 §4.2.1: outbound; RFC 3327 §5.1:
/// path, so an edge proxy may record its flow). They concern the registration only; no request
/// we receive can require them.
pub const REGISTER_TAGS: &str = "outbound, path";

/// RFC 5626 §4.2.1: the one flow each TCP/TLS line registers.
const REG_ID: &str = "1";

/// Length of `tags` joined with ", ".
const fn joined_len(tags: &[&str]) -> usize {
    let mut len = 0;
    let mut i = 0;
    while i < tags.len() {
        len += tags[i].len() + if i == 0 { 0 } else { 2 };
        i += 1;
    }
    len
}

/// `tags` joined with ", " into exactly `N` bytes.
const fn join<const N: usize>(tags: &[&str]) -> [u8; N] {
    let mut out = [0u8; N];
    let (mut at, mut i) = (0, 0);
    while i < tags.len() {
        if i > 0 {
            out[at] = b',';
            out[at + 1] = b' ';
            at += 2;
        }
        let bytes = tags[i].as_bytes();
        let mut j = 0;
        while j < bytes.len() {
            out[at] = bytes[j];
            at += 1;
            j += 1;
        }
        i += 1;
    }
    out
}

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

    /// The host and port we advertise on the line's transport (a UDP line may have learnt
    /// its public address).
    pub fn sent_by(&self) -> (Host, u16) {
        self.sent_by_for(self.line.cfg.transport)
    }

    /// The host and port we advertise for `transport`: always a listener of ours, never the
    /// source port of a connection (issue 19 item 1); TLS names the TLS listener.
    pub fn sent_by_for(&self, transport: Transport) -> (Host, u16) {
        match &self.line.public_address {
            Some(learnt) if !transport.is_connection_oriented() => learnt.clone(),
            _ => (
                self.sip.advertised_host.clone(),
                self.sip.advertised_port_for(transport),
            ),
        }
    }

    /// Our sent-by for `transport`, with a fresh branch and an empty `rport` (RFC 3581 §3).
    pub fn new_via(&self, ids: &mut IdGen, transport: Transport) -> Via {
        let (host, port) = self.sent_by_for(transport);
        let mut via = Via::new(transport.via_token(), host, Some(port), &ids.branch());
        via.params.set("rport", None);
        via
    }

    /// Whether the line registers a flow of its own (RFC 5626): a registering TCP/TLS line.
    pub fn uses_outbound(&self) -> bool {
        self.line.cfg.register && self.line.cfg.transport.is_connection_oriented()
    }

    /// Our Contact on the line: the listener, `transport=` for TCP/TLS, and `ob` when the
    /// line registers a flow (RFC 5626 §4.3: mid-dialog requests come back over it).
    pub fn contact(&self) -> NameAddr {
        let (host, port) = self.sent_by();
        let cfg = &self.line.cfg;
        let mut uri = Uri::sip(Some(&cfg.user), host, Some(port));
        if cfg.transport != Transport::Udp {
            uri.params.set("transport", Some(cfg.transport.uri_param()));
        }
        if self.uses_outbound() {
            uri.params.set("ob", None);
        }
        NameAddr::new(uri)
    }

    /// The Contact of our REGISTERs: the listener, and on TCP/TLS the RFC 5626 §4.2.1 `reg-id`
    /// and `+sip.instance` (so the registrar keeps one binding per line whatever happens to
    /// the connection).
    pub fn register_contact(&self) -> NameAddr {
        let (host, port) = self.sent_by();
        let cfg = &self.line.cfg;
        let mut uri = Uri::sip(Some(&cfg.user), host, Some(port));
        if cfg.transport != Transport::Udp {
            uri.params.set("transport", Some(cfg.transport.uri_param()));
        }
        let mut contact = NameAddr::new(uri);
        if self.uses_outbound() {
            contact.params.set("reg-id", Some(REG_ID));
            let instance = format!("\"<{}>\"", cfg.instance);
            contact.params.set("+sip.instance", Some(&instance));
        }
        contact
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
        match method {
            Method::Invite => headers.contact.push(self.contact()),
            Method::Register => {
                headers.contact.push(self.register_contact());
                if self.uses_outbound() {
                    headers.push("Supported", REGISTER_TAGS);
                }
            }
            _ => {}
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

/// Where a URI points, when it names an IP address; else the fallback (our proxy). A
/// `sips:` URI or `transport=tls` means TLS, default port 5061 (RFC 3261 §19.1.2).
pub fn resolve_hop(uri: &Uri, fallback: Peer) -> Peer {
    let transport = match uri.transport_param().as_deref() {
        _ if uri.scheme == Scheme::Sips => Transport::Tls,
        Some(t) => Transport::from_via_token(t).unwrap_or(fallback.transport),
        None => fallback.transport,
    };
    let default_port = if transport == Transport::Tls {
        5061
    } else {
        5060
    };
    match uri.host.ip() {
        Some(ip) => Peer {
            transport,
            addr: SocketAddr::new(ip, uri.port.unwrap_or(default_port)),
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
