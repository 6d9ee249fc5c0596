//! Bytes to our model. The normalised message is parsed by rsip (message grammar: start line,
//! header lines, body); the values we interpret are typed by `values` (rsip 0.4 cannot type
//! IPv6 hosts, `tel:` URIs or multi-value headers). Extension methods and Request-URIs rsip
//! rejects are swapped for placeholders on the way in and restored on the way out.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::sip::message::{Headers, Method, NameAddr, Request, Response, SipMessage};

use super::normalize::{parse_head, split_head, Head};
use super::values::{parse_cseq, parse_name_addr, parse_uri, parse_via};
use super::DecodeError;

/// A request line or a status line.
enum StartLine {
    Request { method: String, uri: String },
    Status { code: u16, reason: String },
}

/// Decodes one complete message (a datagram or a stream frame).
pub fn decode(bytes: &[u8]) -> Result<SipMessage, DecodeError> {
    let (head_text, body) = split_head(bytes).ok_or_else(|| unparseable("no end of headers"))?;
    let head = parse_head(head_text).ok_or_else(|| unparseable("malformed header line"))?;
    let start = parse_start_line(&head.start_line)?;
    let is_request = matches!(start, StartLine::Request { .. });
    let body = frame_body(&head, body, is_request)?;
    validate_with_rsip(&head, &start, body)?;
    match start {
        StartLine::Request { method, uri } => decode_request(&head, &method, &uri, body),
        StartLine::Status { code, reason } => decode_response(&head, code, reason, body),
    }
}

fn unparseable(why: &str) -> DecodeError {
    DecodeError::Unparseable(why.to_string())
}

fn parse_start_line(line: &str) -> Result<StartLine, DecodeError> {
    let mut parts = line.splitn(3, ' ');
    let (a, b, c) = (parts.next(), parts.next(), parts.next());
    match (a, b, c) {
        (Some("SIP/2.0"), Some(code), reason) => {
            let code: u16 = code.parse().map_err(|_| unparseable("bad status code"))?;
            if !(100..700).contains(&code) {
                return Err(unparseable("status code out of range"));
            }
            Ok(StartLine::Status {
                code,
                reason: reason.unwrap_or("").trim().to_string(),
            })
        }
        (Some(method), Some(uri), Some("SIP/2.0")) if is_token(method) => Ok(StartLine::Request {
            method: method.to_string(),
            uri: uri.to_string(),
        }),
        _ => Err(unparseable("bad start line")),
    }
}

/// RFC 3261 §25.1 token characters.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b))
}

/// §18.3: the body is Content-Length bytes; shorter is an error, longer is truncated, absent
/// means "the rest" (datagrams).
fn frame_body<'a>(head: &Head, body: &'a [u8], is_request: bool) -> Result<&'a [u8], DecodeError> {
    let Some(value) = header(head, "Content-Length") else {
        return Ok(body);
    };
    let Ok(len) = value.trim().parse::<usize>() else {
        return Err(bad_request(head, is_request, "Bad Content-Length"));
    };
    if body.len() < len {
        return Err(bad_request(
            head,
            is_request,
            "Body Shorter Than Content-Length",
        ));
    }
    Ok(&body[..len])
}

fn header<'a>(head: &'a Head, name: &str) -> Option<&'a str> {
    head.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// rsip checks the message grammar of the normalised text. Our own checks came first, so a
/// rejection here is a real grammar problem.
fn validate_with_rsip(head: &Head, start: &StartLine, body: &[u8]) -> Result<(), DecodeError> {
    let mut text = match start {
        StartLine::Request { method, .. } => {
            // rsip knows 14 methods and no IPv6/tel Request-URIs: placeholders for both.
            let method = if rsip_knows(method) {
                method.as_str()
            } else {
                "OPTIONS"
            };
            format!("{method} sip:placeholder@invalid SIP/2.0\r\n")
        }
        StartLine::Status { code, reason } => format!("SIP/2.0 {code} {reason}\r\n"),
    };
    for (name, value) in &head.headers {
        if !name.eq_ignore_ascii_case("Content-Length") {
            text.push_str(name);
            text.push_str(": ");
            text.push_str(value);
            text.push_str("\r\n");
        }
    }
    text.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(body);
    let parsed = catch_unwind(AssertUnwindSafe(|| {
        rsip::SipMessage::try_from(bytes.as_slice())
    }));
    match parsed {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(err)) => Err(DecodeError::Unparseable(format!("rsip: {err}"))),
        Err(_) => Err(unparseable("rsip panicked")),
    }
}

fn rsip_knows(method: &str) -> bool {
    matches!(
        method,
        "ACK"
            | "BYE"
            | "CANCEL"
            | "INFO"
            | "INVITE"
            | "MESSAGE"
            | "NOTIFY"
            | "OPTIONS"
            | "PRACK"
            | "PUBLISH"
            | "REFER"
            | "REGISTER"
            | "SUBSCRIBE"
            | "UPDATE"
    )
}

fn decode_request(
    head: &Head,
    method: &str,
    uri: &str,
    body: &[u8],
) -> Result<SipMessage, DecodeError> {
    let uri = parse_uri(uri).map_err(|_| bad_request(head, true, "Bad Request-URI"))?;
    let headers = typed_headers(head).map_err(|reason| bad_request(head, true, &reason))?;
    Ok(SipMessage::Request(Request {
        method: Method::from_token(method),
        uri,
        headers,
        body: body.to_vec(),
    }))
}

fn decode_response(
    head: &Head,
    status: u16,
    reason: String,
    body: &[u8],
) -> Result<SipMessage, DecodeError> {
    let headers = typed_headers(head).map_err(DecodeError::Unparseable)?;
    Ok(SipMessage::Response(Response {
        status,
        reason,
        headers,
        body: body.to_vec(),
    }))
}

/// Headers other than the mandatory five, collected while scanning.
#[derive(Default)]
struct Optional {
    max_forwards: Option<u32>,
    contact: Vec<NameAddr>,
    record_route: Vec<NameAddr>,
    route: Vec<NameAddr>,
    content_type: Option<String>,
    expires: Option<u32>,
    other: Vec<(String, String)>,
}

/// Our typed headers; the error names what is missing or malformed (the 400's reason).
fn typed_headers(head: &Head) -> Result<Headers, String> {
    let mut via = Vec::new();
    let (mut from, mut to, mut call_id, mut cseq) = (None, None, None, None);
    let mut opt = Optional::default();
    for (name, value) in &head.headers {
        let bad = |what: &str| format!("Bad {what} Header");
        match name.to_ascii_lowercase().as_str() {
            "via" => via.push(parse_via(value).map_err(|_| bad("Via"))?),
            "from" => from = Some(parse_name_addr(value).map_err(|_| bad("From"))?),
            "to" => to = Some(parse_name_addr(value).map_err(|_| bad("To"))?),
            "call-id" if !value.is_empty() => call_id = Some(value.clone()),
            "cseq" => cseq = Some(parse_cseq(value).map_err(|_| bad("CSeq"))?),
            "max-forwards" => {
                opt.max_forwards = Some(value.parse().map_err(|_| bad("Max-Forwards"))?)
            }
            "contact" if value.trim() != "*" => opt
                .contact
                .push(parse_name_addr(value).map_err(|_| bad("Contact"))?),
            "record-route" => opt
                .record_route
                .push(parse_name_addr(value).map_err(|_| bad("Record-Route"))?),
            "route" => opt
                .route
                .push(parse_name_addr(value).map_err(|_| bad("Route"))?),
            "content-type" => opt.content_type = Some(value.clone()),
            "expires" => opt.expires = value.trim().parse().ok(),
            "content-length" => {}
            _ => opt.other.push((name.clone(), value.clone())),
        }
    }
    if via.is_empty() {
        return Err("Missing Via Header".into());
    }
    let first = via.remove(0);
    let mut headers = Headers::new(
        first,
        from.ok_or("Missing From Header")?,
        to.ok_or("Missing To Header")?,
        call_id.ok_or("Missing Call-ID Header")?,
        cseq.ok_or("Missing CSeq Header")?,
    );
    headers.via.extend(via);
    headers.max_forwards = opt.max_forwards;
    headers.contact = opt.contact;
    headers.record_route = opt.record_route;
    headers.route = opt.route;
    headers.content_type = opt.content_type;
    headers.expires = opt.expires;
    for (name, value) in opt.other {
        headers.push(&name, value);
    }
    Ok(headers)
}

/// A request with bad mandatory headers gets a ready 400 (§8.2.6, §21.4.1) carrying what
/// could be read; anything else is unparseable.
fn bad_request(head: &Head, is_request: bool, reason: &str) -> DecodeError {
    if !is_request {
        return DecodeError::Unparseable(reason.to_string());
    }
    let mut text = format!("SIP/2.0 400 {reason}\r\n");
    for (name, value) in &head.headers {
        let copy = ["Via", "From", "To", "Call-ID", "CSeq"]
            .iter()
            .any(|n| n.eq_ignore_ascii_case(name));
        if copy && !value.contains(['\r', '\n']) {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    text.push_str("Content-Length: 0\r\n\r\n");
    DecodeError::BadRequest {
        reason: reason.to_string(),
        response: text.into_bytes(),
    }
}
