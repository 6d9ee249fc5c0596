//! Serialising our message model to wire text (RFC 3261 §7). Content-Length is always written
//! and always computed from the body, so it can never disagree with it.

use std::fmt::Write as _;

use crate::sip::message::{Headers, Request, Response, SipMessage};

/// Room reserved for the start line and headers: our INVITEs' headers are 600-900 bytes, so
/// 512 made most messages grow (copy) once or twice while being written.
const HEADER_ROOM: usize = 1024;

/// Wire bytes of any message.
pub fn encode(msg: &SipMessage) -> Vec<u8> {
    match msg {
        SipMessage::Request(r) => encode_request(r),
        SipMessage::Response(r) => encode_response(r),
    }
}

/// Wire bytes of a request.
pub fn encode_request(req: &Request) -> Vec<u8> {
    let mut out = String::with_capacity(HEADER_ROOM + req.body.len());
    let _ = write!(out, "{} {} SIP/2.0\r\n", req.method, req.uri);
    finish(out, &req.headers, &req.body)
}

/// Wire bytes of a response.
pub fn encode_response(resp: &Response) -> Vec<u8> {
    let mut out = String::with_capacity(HEADER_ROOM + resp.body.len());
    let _ = write!(out, "SIP/2.0 {} {}\r\n", resp.status, resp.reason);
    finish(out, &resp.headers, &resp.body)
}

fn finish(mut out: String, h: &Headers, body: &[u8]) -> Vec<u8> {
    write_headers(&mut out, h);
    let _ = write!(out, "Content-Length: {}\r\n\r\n", body.len());
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    // Calls keep some messages for their whole life (the ACK of a 2xx, our 2xx until its ACK,
    // a server transaction's last response): without this an ACK of 400 bytes would hold its
    // HEADER_ROOM of 1 KiB. Under mimalloc a shrink within half the block stays in place.
    bytes.shrink_to_fit();
    bytes
}

/// Headers in the conventional order: Via, routing, dialog identity, then the rest.
fn write_headers(out: &mut String, h: &Headers) {
    for via in &h.via {
        let _ = write!(out, "Via: {via}\r\n");
    }
    if let Some(mf) = h.max_forwards {
        let _ = write!(out, "Max-Forwards: {mf}\r\n");
    }
    for r in &h.route {
        let _ = write!(out, "Route: {r}\r\n");
    }
    for r in &h.record_route {
        let _ = write!(out, "Record-Route: {r}\r\n");
    }
    let _ = write!(out, "From: {}\r\n", h.from);
    let _ = write!(out, "To: {}\r\n", h.to);
    let _ = write!(out, "Call-ID: {}\r\n", h.call_id);
    let _ = write!(out, "CSeq: {}\r\n", h.cseq);
    for c in &h.contact {
        let _ = write!(out, "Contact: {c}\r\n");
    }
    if let Some(e) = h.expires {
        let _ = write!(out, "Expires: {e}\r\n");
    }
    for o in &h.other {
        let _ = write!(out, "{}: {}\r\n", o.name, o.value);
    }
    if let Some(ct) = &h.content_type {
        let _ = write!(out, "Content-Type: {ct}\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::message::*;

    #[test]
    fn request_layout() {
        let uri = Uri::sip(
            Some("1002"),
            Host::Ip("127.0.0.1".parse().unwrap()),
            Some(5070),
        );
        let mut headers = Headers::new(
            Via::new(
                "UDP",
                Host::Ip("127.0.0.1".parse().unwrap()),
                Some(5060),
                "z9hG4bKa",
            ),
            NameAddr::new(Uri::sip(
                Some("1001"),
                Host::Name("example.com".into()),
                None,
            ))
            .with_tag("f1"),
            NameAddr::new(uri.clone()),
            "c1@127.0.0.1".into(),
            CSeq {
                seq: 1,
                method: Method::Invite,
            },
        );
        headers.max_forwards = Some(70);
        headers.content_type = Some("application/sdp".into());
        headers.push("User-Agent", "tapigw");
        let req = Request {
            method: Method::Invite,
            uri,
            headers,
            body: b"v=0\r\n".to_vec(),
        };
        let text = String::from_utf8(encode_request(&req)).unwrap();
        assert_eq!(
            text,
            "INVITE sip:1002@127.0.0.1:5070 SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKa\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:1001@example.com>;tag=f1\r\n\
             To: <sip:1002@127.0.0.1:5070>\r\n\
             Call-ID: c1@127.0.0.1\r\n\
             CSeq: 1 INVITE\r\n\
             User-Agent: tapigw\r\n\
             Content-Type: application/sdp\r\n\
             Content-Length: 5\r\n\r\nv=0\r\n"
        );
    }
}
