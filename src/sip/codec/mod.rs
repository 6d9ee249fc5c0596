//! The SIP codec: wire bytes <-> our message model (`crate::sip::message`). This is the only
//! module that uses rsip (message grammar); it covers rsip 0.4's gaps itself: compact header
//! names, folding, bare LF, multi-value headers, IPv6 and `tel:` URIs, extension methods,
//! Content-Length framing on streams and body-length checks on datagrams.

mod decode;
mod encode;
mod framing;
mod header_lines;
mod headers;
mod normalize;
mod reject;
mod start_line;
mod values;

#[cfg(test)]
mod tests;

pub use decode::decode;
pub use encode::{encode, encode_request, encode_response};
pub use framing::{Frame, FramingError, StreamFramer, MAX_MESSAGE};

use crate::sip::message::{NameAddr, Uri};

/// Why bytes could not become a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Not SIP, or a response we cannot use: drop it (log at debug).
    #[error("unparseable: {0}")]
    Unparseable(String),
    /// A request whose start line parsed but whose mandatory headers did not: send `response`
    /// (a ready 400) back to where it came from.
    #[error("bad request: {reason}")]
    BadRequest { reason: String, response: Vec<u8> },
}

/// A `sip:`/`sips:`/`tel:` URI typed by a user or found in a header.
pub fn parse_uri(s: &str) -> Result<Uri, DecodeError> {
    values::parse_uri(s)
}

/// A name-addr or addr-spec (`"Name" <sip:x@h>;p=1`).
pub fn parse_name_addr(s: &str) -> Result<NameAddr, DecodeError> {
    values::parse_name_addr(s)
}
