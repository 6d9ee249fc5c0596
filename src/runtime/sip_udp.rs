//! The SIP UDP driver: receives datagrams, decodes them (codec), hands them to the core.
//! Sending is done by the core task itself on the shared socket.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use super::input::CoreInput;
use crate::sip::codec::{self, DecodeError};
use crate::sip::transport::{Incoming, Peer, Transport};

/// Largest datagram we accept (the UDP maximum).
const MAX_DATAGRAM: usize = 65_535;

/// Receives until the core goes away.
pub async fn receive_loop(socket: Arc<UdpSocket>, core: mpsc::Sender<CoreInput>) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let (len, from) = match socket.recv_from(&mut buf).await {
            Ok(received) => received,
            Err(err) => {
                // ICMP port unreachable surfaces here on Linux as ECONNREFUSED: not fatal.
                tracing::debug!(%err, "udp receive error");
                continue;
            }
        };
        if let Some(input) = decode_datagram(&buf[..len], from) {
            if core.send(input).await.is_err() {
                return;
            }
        }
    }
}

/// Turns one datagram into a core input (or nothing for keep-alives and garbage).
fn decode_datagram(bytes: &[u8], from: SocketAddr) -> Option<CoreInput> {
    let source = Peer {
        transport: Transport::Udp,
        addr: from,
    };
    if bytes.iter().all(|b| matches!(b, b'\r' | b'\n' | 0)) {
        return None; // RFC 5626 §4.4.1 keep-alive (or an empty datagram)
    }
    match codec::decode(bytes) {
        Ok(message) => Some(CoreInput::Sip(Box::new(Incoming { source, message }))),
        Err(DecodeError::BadRequest { reason, response }) => {
            tracing::info!(%from, %reason, "refused request: sending its ready error response");
            Some(CoreInput::Malformed { source, response })
        }
        Err(err) => {
            tracing::debug!(%from, %err, "dropping unparseable datagram");
            None
        }
    }
}
