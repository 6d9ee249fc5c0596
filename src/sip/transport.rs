//! Transport-level vocabulary and the RFC 3261 §18 rules that need no socket.
//!
//! The tokio drivers in `crate::runtime` move bytes; this module says what they move and where
//! responses go: [`Incoming`] is what the core receives, [`Transmit`] what it asks to be sent,
//! [`TransportFailure`] what a driver reports when sending failed (TCP connect refused, ...),
//! [`FlowEvent`] what it reports about a connection (closed, a keep-alive pong), and
//! [`TransportCommand`] what the core asks of a connection beyond bytes (close it).

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use bytes::Bytes;

use super::message::{SipMessage, Via};

/// A SIP transport we listen and send on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    Udp,
    Tcp,
    /// TLS over TCP (RFC 3261 §26.2.1 with `transport=tls`, RFC 5630 §3.2).
    Tls,
}

impl Transport {
    /// The Via transport token.
    pub fn via_token(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
        }
    }

    /// The `transport` URI parameter value (RFC 3261 §19.1.1), lower case.
    pub fn uri_param(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
        }
    }

    /// The transport a Via token or `transport` URI parameter names (any case).
    pub fn from_via_token(token: &str) -> Option<Transport> {
        [Transport::Udp, Transport::Tcp, Transport::Tls]
            .into_iter()
            .find(|t| t.via_token().eq_ignore_ascii_case(token))
    }

    /// Reliable transports get no retransmissions and zero-length wait timers (RFC 3261 §17).
    pub fn is_reliable(self) -> bool {
        matches!(self, Transport::Tcp | Transport::Tls)
    }

    /// Connection-oriented: a flow exists apart from any message (RFC 5626 §3.5), and the
    /// source port of our connection is not a listener (never advertised).
    pub fn is_connection_oriented(self) -> bool {
        self.is_reliable()
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.via_token())
    }
}

/// Where a message goes or came from: a transport and a socket address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer {
    pub transport: Transport,
    pub addr: SocketAddr,
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.transport, self.addr)
    }
}

/// A decoded message handed to the core, with where it came from.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub source: Peer,
    pub message: SipMessage,
}

/// Bytes the core wants sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    pub destination: Peer,
    pub payload: Bytes,
}

/// A driver could not deliver to `destination` (connect refused, reset, ICMP unreachable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportFailure {
    pub destination: Peer,
    pub reason: String,
}

/// What a stream driver tells the core about a connection-oriented flow (RFC 5626 §3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowEvent {
    /// The connection to (or from) this peer ended.
    Closed(Peer),
    /// A CRLF pong arrived on it (RFC 5626 §4.4.1): the flow is alive.
    Pong(Peer),
}

/// What the core asks a stream driver to do beyond sending bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportCommand {
    /// Close the connection to this peer (a flow that stopped answering keep-alives).
    Close(Peer),
}

/// RFC 3261 §18.2.1 and RFC 3581 §4: stamp the top Via of a received request with `received`
/// when the sent-by host differs from the packet source, and fill in an empty `rport`.
pub fn stamp_received(via: &mut Via, source: SocketAddr) {
    let sent_by_matches = via.host.ip() == Some(source.ip());
    if !sent_by_matches || via.rport().is_some() {
        via.params.set("received", Some(&source.ip().to_string()));
    }
    if via.rport() == Some(None) {
        via.params.set("rport", Some(&source.port().to_string()));
    }
}

/// RFC 3261 §18.2.2 (with RFC 3581 §4): where to send a response whose request arrived from
/// `source` with top Via `via`. Reliable transports answer over the connection the request came
/// on, which the driver finds by the source address.
pub fn response_destination(via: &Via, source: Peer) -> Peer {
    if source.transport.is_reliable() {
        return source;
    }
    // rport: send back to the packet's source address and port.
    if let Some(Some(port)) = via.rport() {
        let ip = via
            .received()
            .and_then(|r| r.parse::<IpAddr>().ok())
            .unwrap_or(source.addr.ip());
        return Peer {
            transport: source.transport,
            addr: SocketAddr::new(ip, port),
        };
    }
    if via.rport() == Some(None) {
        return source;
    }
    // `received` (or the sent-by IP) with the sent-by port, default 5060.
    let ip = via
        .received()
        .and_then(|r| r.parse::<IpAddr>().ok())
        .or(via.host.ip())
        .unwrap_or(source.addr.ip());
    Peer {
        transport: source.transport,
        addr: SocketAddr::new(ip, via.port.unwrap_or(5060)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::message::Host;

    fn peer(t: Transport, a: &str) -> Peer {
        Peer {
            transport: t,
            addr: a.parse().unwrap(),
        }
    }

    #[test]
    fn rport_is_filled_and_used() {
        let mut via = Via::new(
            "UDP",
            Host::Ip("10.0.0.5".parse().unwrap()),
            Some(5060),
            "z9hG4bK1",
        );
        via.params.set("rport", None);
        stamp_received(&mut via, "192.0.2.7:40000".parse().unwrap());
        assert_eq!(via.received(), Some("192.0.2.7"));
        assert_eq!(via.rport(), Some(Some(40000)));
        let dest = response_destination(&via, peer(Transport::Udp, "192.0.2.7:40000"));
        assert_eq!(dest, peer(Transport::Udp, "192.0.2.7:40000"));
    }

    #[test]
    fn received_with_sent_by_port_without_rport() {
        let mut via = Via::new(
            "UDP",
            Host::Name("pbx.example".into()),
            Some(5070),
            "z9hG4bK1",
        );
        stamp_received(&mut via, "192.0.2.7:40000".parse().unwrap());
        assert_eq!(via.received(), Some("192.0.2.7"));
        let dest = response_destination(&via, peer(Transport::Udp, "192.0.2.7:40000"));
        assert_eq!(dest, peer(Transport::Udp, "192.0.2.7:5070"));
    }

    #[test]
    fn matching_sent_by_gets_no_received_and_default_port() {
        let mut via = Via::new(
            "UDP",
            Host::Ip("192.0.2.7".parse().unwrap()),
            None,
            "z9hG4bK1",
        );
        stamp_received(&mut via, "192.0.2.7:5060".parse().unwrap());
        assert_eq!(via.received(), None);
        let dest = response_destination(&via, peer(Transport::Udp, "192.0.2.7:5060"));
        assert_eq!(dest.addr, "192.0.2.7:5060".parse().unwrap());
    }

    #[test]
    fn tcp_answers_on_the_connection() {
        let via = Via::new("TCP", Host::Name("x".into()), Some(1), "z9hG4bK1");
        let src = peer(Transport::Tcp, "192.0.2.7:33333");
        assert_eq!(response_destination(&via, src), src);
    }
}
