//! Our own SIP message model: requests, responses and the typed headers the stack works with.
//!
//! This module owns the in-memory shape of a SIP message. It knows nothing about the wire: the
//! codec (`crate::sip::codec`, the only user of rsip) turns bytes into these types and back. Every
//! other layer (transactions, dialogs, registration, the SIP provider) speaks only this model.
//!
//! Mandatory headers of RFC 3261 §8.1.1 (Via, From, To, Call-ID, CSeq) are plain fields so a
//! message that exists is one that has them; the codec rejects anything else before it gets
//! here. Headers the stack never interprets travel untouched in [`Headers::other`].

mod build;
mod header;
mod method;
mod params;
mod status;
mod uri;
mod wire;

pub use header::{CSeq, Header, Headers, NameAddr, Via, BRANCH_MAGIC_COOKIE};
pub use method::Method;
pub use params::{Param, Params};
pub use status::reason_phrase;
pub use uri::{Host, Scheme, Uri};
pub use wire::{write_int, WriteWire};

/// A SIP request (RFC 3261 §7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    pub uri: Uri,
    pub headers: Headers,
    pub body: Vec<u8>,
}

/// A SIP response (RFC 3261 §7.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Headers,
    pub body: Vec<u8>,
}

/// Either kind of SIP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SipMessage {
    Request(Request),
    Response(Response),
}

impl SipMessage {
    pub fn headers(&self) -> &Headers {
        match self {
            SipMessage::Request(r) => &r.headers,
            SipMessage::Response(r) => &r.headers,
        }
    }

    pub fn headers_mut(&mut self) -> &mut Headers {
        match self {
            SipMessage::Request(r) => &mut r.headers,
            SipMessage::Response(r) => &mut r.headers,
        }
    }

    pub fn body(&self) -> &[u8] {
        match self {
            SipMessage::Request(r) => &r.body,
            SipMessage::Response(r) => &r.body,
        }
    }

    pub fn is_request(&self) -> bool {
        matches!(self, SipMessage::Request(_))
    }
}

impl From<Request> for SipMessage {
    fn from(r: Request) -> Self {
        SipMessage::Request(r)
    }
}

impl From<Response> for SipMessage {
    fn from(r: Response) -> Self {
        SipMessage::Response(r)
    }
}

impl Response {
    /// 1xx.
    pub fn is_provisional(&self) -> bool {
        (100..200).contains(&self.status)
    }

    /// 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// 200..=699.
    pub fn is_final(&self) -> bool {
        self.status >= 200
    }
}
