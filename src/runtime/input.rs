//! What the drivers send to the core task.

use std::time::Instant;

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::sip::transport::{FlowEvent, Incoming, Peer, TransportFailure};

/// One input for the core task.
#[derive(Debug)]
pub enum CoreInput {
    /// A decoded SIP message.
    Sip(Box<Incoming>),
    /// A decoded SIP message with the instant the driver read it: the core measures how long
    /// it queued and refuses new INVITEs while that is too long (`sip.overload_queue_ms`).
    Received {
        incoming: Box<Incoming>,
        at: Instant,
    },
    /// The UDP driver answered this many new INVITEs 503 itself (the channel was nearly
    /// full); for the core's admission stats.
    DriverRefusals(u64),
    /// A request the codec rejected with a ready error response (400, 416 or 505) to send
    /// back to `source`.
    Malformed { source: Peer, response: Vec<u8> },
    /// A send failed (TCP connect refused, reset, ...).
    TransportFailure(TransportFailure),
    /// A TCP or TLS connection (accepted or connected) is up; SIP for `peer` goes to `sender`.
    StreamOpened {
        peer: Peer,
        id: u64,
        sender: mpsc::Sender<Outgoing>,
    },
    /// A connection ended; `id` tells it apart from a newer one to the same peer.
    StreamClosed { peer: Peer, id: u64 },
    /// A keep-alive pong arrived on a connection (RFC 5626 §4.4.1).
    Flow(FlowEvent),
    /// Close connection `id` once what is queued for it is written (after a framing error:
    /// the responses to its earlier messages and its 400/413 go first).
    CloseStream { peer: Peer, id: u64 },
    /// What the media engine detected or finished (digits, generate, play, record).
    Media(crate::media::MediaEvent),
}

/// What a connection's writer is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    /// Bytes to write.
    Bytes(Bytes),
    /// Write what came before, then close the connection.
    Close,
}
