//! Bytes to our model, in one pass over each part of the message: `normalize` cuts the start
//! line, the header block and the body; `start_line` reads the start line; rsip splits the
//! header lines (`header_lines`); `headers` types the values we interpret (`values`); the body
//! is framed by Content-Length here (RFC 3261 §18.3, §20.14). A request that cannot be used
//! gets a ready response (`reject`); anything else that cannot be used is unparseable.

use crate::sip::message::{Method, Request, Response, SipMessage, Uri};

use super::header_lines::{self, HeaderLine};
use super::headers::{typed_headers, ContentLength};
use super::normalize::{normalize_headers, split_message};
use super::reject::response_to;
use super::scan;
use super::start_line::{self, StartLine};
use super::values::parse_uri;
use super::DecodeError;

/// Why a message is refused, before any response text is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not SIP, or nothing we could answer: drop it.
    Discard(String),
    /// A request to answer with `status` (400, 416, 505), `reason` as its reason phrase.
    Answer { status: u16, reason: String },
}

impl Refusal {
    pub fn discard(why: &str) -> Self {
        Refusal::Discard(why.to_string())
    }

    pub fn answer(status: u16, reason: impl Into<String>) -> Self {
        Refusal::Answer {
            status,
            reason: reason.into(),
        }
    }

    /// The public error: a response for requests, nothing for responses (§8.1.3.2, §16.7:
    /// a malformed response is discarded).
    fn into_error(self, is_request: bool, lines: &[HeaderLine<'_>]) -> DecodeError {
        match self {
            Refusal::Answer { status, reason } if is_request => DecodeError::BadRequest {
                response: response_to(status, &reason, lines),
                reason,
            },
            Refusal::Answer { reason: why, .. } | Refusal::Discard(why) => {
                DecodeError::Unparseable(why)
            }
        }
    }
}

/// Decodes one complete message (a datagram or a stream frame).
pub fn decode(bytes: &[u8]) -> Result<SipMessage, DecodeError> {
    let parts = split_message(bytes).ok_or_else(|| unparseable("no end of headers"))?;
    let start = start_line::parse(parts.start_line);
    if let Err(Refusal::Discard(why)) = start {
        return Err(DecodeError::Unparseable(why));
    }
    let block =
        normalize_headers(parts.headers).ok_or_else(|| unparseable("continuation line first"))?;
    let lines = header_lines::split(&block)?;
    let is_request = !matches!(start, Ok(StartLine::Status { .. }));
    start
        .and_then(|start| build(start, &lines, parts.body))
        .map_err(|refusal| refusal.into_error(is_request, &lines))
}

/// The ready `status` response to the request whose head (start line and headers, the body
/// need not be there) is `head`; `None` when it is no request we can answer. Stream framing
/// uses it for a message it cannot cut (two Content-Lengths: 400) or will not take (413).
pub fn refuse(head: &[u8], status: u16, reason: &str) -> Option<Vec<u8>> {
    let parts = split_message(head)?;
    if !matches!(
        start_line::parse(parts.start_line),
        Ok(StartLine::Request { .. })
    ) {
        return None;
    }
    let block = normalize_headers(parts.headers)?;
    let lines = header_lines::split(&block).ok()?;
    Some(response_to(status, reason, &lines))
}

fn unparseable(why: &str) -> DecodeError {
    DecodeError::Unparseable(why.to_string())
}

fn build(
    start: StartLine<'_>,
    lines: &[HeaderLine<'_>],
    body: &[u8],
) -> Result<SipMessage, Refusal> {
    let (headers, length) = typed_headers(lines)?;
    let body = frame_body(length, body)?.to_vec();
    match start {
        StartLine::Status { code, reason } => Ok(SipMessage::Response(Response {
            status: code,
            reason: reason.to_string(),
            headers,
            body,
        })),
        StartLine::Request { method, uri } => {
            let method = Method::from_token(method);
            // §8.1.1.5: the CSeq method matches the request's (RFC 4475 §3.1.2.17).
            if headers.cseq.method != method {
                return Err(Refusal::answer(400, "CSeq Method Does Not Match"));
            }
            Ok(SipMessage::Request(Request {
                method,
                uri: request_uri(uri)?,
                headers,
                body,
            }))
        }
    }
}

/// §8.2.2.1: a scheme we do not know gets 416; a URI we cannot read, 400.
fn request_uri(uri: &str) -> Result<Uri, Refusal> {
    let scheme = scan::split_once(uri, b':').map_or("", |(s, _)| s);
    let known = ["sip", "sips", "tel"]
        .iter()
        .any(|s| s.eq_ignore_ascii_case(scheme));
    if !known && is_scheme(scheme) {
        return Err(Refusal::answer(416, "Unsupported URI Scheme"));
    }
    parse_uri(uri).map_err(|_| Refusal::answer(400, "Bad Request-URI"))
}

/// RFC 3986 §3.1 `scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
fn is_scheme(s: &str) -> bool {
    s.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
}

/// §18.3: the body is Content-Length bytes; shorter is an error, longer is cut, absent means
/// "the rest" (datagrams). Content-Length appears at most once (RFC 4475 §3.3.9).
fn frame_body<'a>(length: ContentLength<'_>, body: &'a [u8]) -> Result<&'a [u8], Refusal> {
    let Some(value) = length.first else {
        return Ok(body);
    };
    if length.repeated {
        return Err(Refusal::answer(400, "Multiple Content-Length Headers"));
    }
    let len: usize = value
        .parse()
        .map_err(|_| Refusal::answer(400, "Bad Content-Length"))?;
    body.get(..len)
        .ok_or_else(|| Refusal::answer(400, "Body Shorter Than Content-Length"))
}
