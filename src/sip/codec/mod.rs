//! The SIP codec: wire bytes <-> our message model (`crate::sip::message`), and the only module
//! that uses rsip.
//!
//! # One parse per message
//!
//! `decode` reads each part of a message once and never re-reads it:
//!
//! | part | who parses it | why |
//! |---|---|---|
//! | start line (§7.1, §7.2) | ours (`start_line`) | rsip 0.4 has no extension methods, no IPv6 or `tel:` Request-URIs, and cannot tell a bad request line (400) or another version (505) from "not SIP" |
//! | header lines (§7.3, §25.1 `message-header`) | **rsip** (`header_lines`, `rsip::headers::header::Tokenizer`) | rsip's grammar is right for the lines as the RFC writes them, and it takes the bytes as they arrived, without a copy |
//! | header values we interpret (Via, From/To, Contact, routes, CSeq, Max-Forwards) | ours (`values`, `headers`) | see the gaps below; where rsip is right it is also slower (its typed From took 1.0 µs, ours 0.46 µs, release build on the 2 vCPU dev machine) |
//! | body (§18.3) | ours (`decode::frame_body`) | rsip takes "everything after CRLFCRLF" and ignores Content-Length |
//!
//! # rsip 0.4 gaps covered here
//!
//! Measured in `../shared/reference/sip-crates.md` and by the RFC 4475 tests:
//! - **Folding** (§7.3.1), **bare-LF line ends** and **white space before the colon** (§25.1
//!   `HCOLON`) fail rsip's header-line grammar: `normalize` rewrites the header block before rsip
//!   sees it, and only when it has one of them (a clean block is borrowed, not copied).
//! - **Compact header names** (§7.3.3) land in rsip's `Header::Other`: `normalize::full_name`.
//! - **Extension methods** (§7.1; rsip's `Method` is a closed enum of 14): our start line and
//!   CSeq parsers keep any token.
//! - **IPv6 hosts** (§19.1.1 `IPv6reference`) and **`tel:` URIs** (RFC 3966) fail rsip's `Uri`;
//!   **unknown Via transports** (RFC 4475 §3.1.1.10) fail its typed Via: `values`.
//! - **Multi-value comma headers** (§7.3.1; rsip keeps the first Via, fails on a Contact list):
//!   `headers` splits Via, Contact, Route and Record-Route outside quotes and brackets.
//! - **Content-Length framing** (§18.3; rsip ignores it): `decode` frames datagrams, answers a
//!   short body or a second Content-Length with 400; `framing` cuts streams.
//! - **Digest tokens** (`algorithm=SHA-256`, `qop` lists fail rsip's typed headers): the
//!   challenge and credentials headers travel as text; `crate::sip::auth` reads them.
//!
//! # The crate, not a fork
//!
//! rsip is used as published (pinned `=0.4.0`) for the part it gets right, the header-line
//! grammar, through its public but `#[doc(hidden)]` tokenizer. A vendored fork was the other
//! way the design allowed; it would have meant owning rsip's nom grammar (and nom as a direct
//! dependency) only to rewrite its start line, URI and value parsers, which are the parts we
//! replace anyway. docs/architecture.md ("The codec and rsip") has the reasoning and the
//! figures.
//!
//! # What a peer gets
//!
//! A request that cannot be used gets a ready response in [`DecodeError::BadRequest`] (with a
//! To tag of its own, §8.2.6.2, derived from the request so a retransmission gets the same): 400 for
//! a malformed request line, a missing or unreadable mandatory header, a repeated single-value
//! header, a bad Content-Length or a CSeq method that differs from the request's (§8.1.1.5);
//! 416 for an unknown Request-URI scheme (§8.2.2.1); 505 for another SIP version. Anything else
//! (not SIP, a response we cannot use) is [`DecodeError::Unparseable`] and dropped. Nothing a
//! peer sends panics: rsip runs under `catch_unwind`, and the mutation tests feed it garbage.

mod decode;
mod encode;
mod framing;
mod header_lines;
mod headers;
mod normalize;
mod reject;
mod scan;
mod start_line;
mod values;

#[cfg(test)]
mod tests;

pub use decode::{decode, refuse};
pub use encode::{encode, encode_request, encode_response};
pub use framing::{Frame, FramingError, StreamFramer, MAX_MESSAGE};

use crate::sip::message::{NameAddr, Uri};

/// Why bytes could not become a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Not SIP, or a response we cannot use: drop it (log at debug).
    #[error("unparseable: {0}")]
    Unparseable(String),
    /// A request we refuse: send `response` (a ready 400, 416 or 505 carrying the request's
    /// Via, From, To, Call-ID and CSeq) back to where it came from. `reason` is its phrase.
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
