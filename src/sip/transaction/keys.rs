//! Transaction identities (RFC 3261 §17.1.3, §17.2.3) and the events the layer reports.

use std::fmt;

use crate::sip::message::{Method, Request, Response, Via};
use crate::sip::transport::Peer;

/// A client transaction: the branch we put in our Via and the CSeq method (§17.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientTxKey {
    pub branch: Branch,
    pub method: Method,
}

/// A client transaction's branch. Ours (`z9hG4bK` and 16 lower-case hex digits,
/// `provider::ids`) are held as their 64-bit number: a key is copied into the layer's two
/// tables, the provider's route and the call, and those copies then allocate nothing (24
/// bytes of heap each before). Any other branch is kept as written. Each branch has one form
/// (a number only for exactly that spelling), so equality and hashing stay those of the text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Branch {
    Ours(u64),
    Other(Box<str>),
}

impl Branch {
    pub fn new(text: &str) -> Branch {
        Branch::ours(text).map_or_else(|| Branch::Other(text.into()), Branch::Ours)
    }

    fn ours(text: &str) -> Option<u64> {
        let hex = text.strip_prefix(MAGIC_COOKIE)?;
        let lower = |b: &u8| b.is_ascii_digit() || (b'a'..=b'f').contains(b);
        if hex.len() != 16 || !hex.as_bytes().iter().all(lower) {
            return None;
        }
        u64::from_str_radix(hex, 16).ok()
    }
}

impl fmt::Display for Branch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Branch::Ours(n) => write!(f, "{MAGIC_COOKIE}{n:016x}"),
            Branch::Other(text) => f.write_str(text),
        }
    }
}

/// A server transaction: branch, sent-by and method of the request (§17.2.3). ACK matches the
/// INVITE's transaction; CANCEL has its own (method CANCEL).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerTxKey {
    pub branch: String,
    pub sent_by: String,
    pub method: Method,
}

impl ClientTxKey {
    /// The client transaction `request` starts: its top Via branch and its method (§17.1.3).
    /// `None` without a branch.
    pub fn for_request(request: &Request) -> Option<ClientTxKey> {
        let branch = request
            .headers
            .via
            .first()
            .and_then(|v| v.branch())
            .filter(|b| !b.is_empty())?;
        Some(ClientTxKey {
            branch: Branch::new(branch),
            method: request.method.clone(),
        })
    }
}

/// RFC 3261 §8.1.1.7: a branch starting with this was built by an RFC 3261 element and is
/// unique on its own.
const MAGIC_COOKIE: &str = "z9hG4bK";

impl ServerTxKey {
    /// The server transaction `request` belongs to (§17.2.3): ACK to the INVITE's, CANCEL to
    /// its own. `None` without a Via.
    pub fn for_request(request: &Request) -> Option<ServerTxKey> {
        let via = request.headers.via.first()?;
        let method = match request.method {
            Method::Ack => Method::Invite,
            ref m => m.clone(),
        };
        Some(ServerTxKey {
            branch: branch_of(via, request),
            sent_by: sent_by(via),
            method,
        })
    }
}

/// The branch, or for a request from a pre-RFC 3261 element (no magic cookie) what §17.2.3
/// matches it by instead: Request-URI, From tag, Call-ID and CSeq number. The To tag is left
/// out so that the ACK for a non-2xx (which carries our tag) matches its INVITE.
fn branch_of(via: &Via, request: &Request) -> String {
    let branch = via.branch().unwrap_or("");
    if branch.starts_with(MAGIC_COOKIE) {
        return branch.to_string();
    }
    let h = &request.headers;
    format!(
        "{branch}|{}|{}|{}|{}",
        request.uri,
        h.from.tag().unwrap_or(""),
        h.call_id,
        h.cseq.seq
    )
}

/// `host:port` of the Via; host names compare case-insensitively (§20.42, §19.1.4).
fn sent_by(via: &Via) -> String {
    let host = via.host.to_string().to_ascii_lowercase();
    match via.port {
        Some(port) => format!("{host}:{port}"),
        None => host,
    }
}

impl fmt::Display for ClientTxKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.method, self.branch)
    }
}

impl fmt::Display for ServerTxKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.method, self.sent_by, self.branch)
    }
}

/// What the transaction layer tells the layer above (the transaction user).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransactionEvent {
    /// A new request (a new server transaction), neither ACK nor CANCEL.
    Request {
        key: ServerTxKey,
        request: Request,
        source: Peer,
    },
    /// A CANCEL, with the INVITE server transaction it matches (§9.2), if any. The layer does
    /// not answer it: the user sends 200 (or 481 without `invite`).
    Cancel {
        key: ServerTxKey,
        invite: Option<ServerTxKey>,
        request: Request,
        source: Peer,
    },
    /// An ACK that no transaction absorbs: the ACK for a 2xx (§17.2.3, RFC 6026).
    Ack { request: Request, source: Peer },
    /// A response to one of our client transactions; every 2xx is passed up, retransmissions
    /// included (RFC 6026 Accepted state), so the user re-sends its ACK.
    Response {
        key: ClientTxKey,
        response: Response,
    },
    /// A response that matches no client transaction (e.g. a 2xx after Timer M).
    StrayResponse { response: Response, source: Peer },
    /// Timer B or F: no final response; or (INVITE) none 64*T1 after our CANCEL (§9.1).
    /// Reported once.
    Timeout { key: ClientTxKey },
    /// Sending failed for a client transaction (TCP connect refused, ...).
    TransportError { key: ClientTxKey },
    /// Timer H (no ACK for our non-2xx final) or a transport failure on a server transaction.
    ServerTimeout { key: ServerTxKey },
    /// An INVITE client transaction that accepted a 2xx has ended (RFC 6026 Timer M): no
    /// retransmission of that 2xx can come any more.
    Terminated { key: ClientTxKey },
}

/// Errors of the layer's API (misuse by the user, never network input).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransactionError {
    #[error("the request has no Via with a branch")]
    NoBranch,
    #[error("ACK is not a transaction (RFC 3261 §17): send it statelessly")]
    Ack,
    #[error("a transaction with this key exists already")]
    Duplicate,
    #[error("no such server transaction (or it already sent its final response)")]
    NoSuchTransaction,
}

#[cfg(test)]
mod branch_tests {
    use super::Branch;

    #[test]
    fn our_branches_are_numbers_and_print_as_written() {
        let ours = "z9hG4bK00ff12ab34cd56ef";
        assert_eq!(Branch::new(ours), Branch::Ours(0x00ff_12ab_34cd_56ef));
        assert_eq!(Branch::new(ours).to_string(), ours);
        // Other spellings keep their text, so equal texts give equal keys and no others.
        for other in [
            "z9hG4bK00FF12AB34CD56EF",
            "z9hG4bK00ff12ab34cd56e",
            "abc",
            "",
            "z9hG4bK+0ff12ab34cd56ef",
        ] {
            assert_eq!(Branch::new(other), Branch::Other(other.into()));
            assert_eq!(Branch::new(other).to_string(), other);
            assert_ne!(Branch::new(other), Branch::new(ours));
        }
    }
}
