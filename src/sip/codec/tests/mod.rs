//! Codec tests: the forms real peers send, stream framing, and no panic on any input. The
//! RFC 4475 torture messages are in `rfc4475`.

mod fuzz_finds;
mod rfc4475;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::sip::message::{Host, Method, SipMessage};

const INVITE: &str = "INVITE sip:1001@gw.example SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds;rport\r\n\
Via: SIP/2.0/TCP [2001:db8::9]:5070;branch=z9hG4bKupstream;received=192.0.2.1\r\n\
Max-Forwards: 70\r\n\
To: <sip:1001@gw.example>\r\n\
From: \"Alice\" <sip:alice@atlanta.example>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.example\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:alice@10.0.0.1:5060>\r\n\
Record-Route: <sip:p2.example;lr>, <sip:p1.example;lr>\r\n\
P-Asserted-Identity: <sip:+4930123@atlanta.example>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 5\r\n\r\nv=0\r\n";

fn request(bytes: &[u8]) -> crate::sip::message::Request {
    match decode(bytes).unwrap() {
        SipMessage::Request(r) => r,
        other => panic!("not a request: {other:?}"),
    }
}

#[test]
fn full_invite() {
    let r = request(INVITE.as_bytes());
    assert_eq!(r.method, Method::Invite);
    assert_eq!(r.uri.user.as_deref(), Some("1001"));
    assert_eq!(r.headers.via.len(), 2);
    assert_eq!(r.headers.via[0].rport(), Some(None));
    assert_eq!(
        r.headers.via[1].host,
        Host::Ip("2001:db8::9".parse().unwrap())
    );
    assert_eq!(r.headers.via[1].received(), Some("192.0.2.1"));
    assert_eq!(r.headers.from.display_name.as_deref(), Some("Alice"));
    assert_eq!(r.headers.from.tag(), Some("1928301774"));
    assert_eq!(r.headers.cseq.seq, 314159);
    assert_eq!(r.headers.record_route.len(), 2);
    assert_eq!(
        r.headers.get("P-Asserted-Identity"),
        Some("<sip:+4930123@atlanta.example>")
    );
    assert_eq!(r.body, b"v=0\r\n");
}

#[test]
fn compact_forms_folding_and_bare_lf() {
    let text = "\r\nOPTIONS sip:1001@gw SIP/2.0\n\
v: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKc1\n\
f: <sip:a@h>\n  ;tag=x\n\
t: <sip:1001@gw>\n\
i: cid1\n\
CSeq: 1 OPTIONS\n\
m: <sip:a@10.0.0.1>\n\
l: 0\n\n";
    let r = request(text.as_bytes());
    assert_eq!(r.method, Method::Options);
    assert_eq!(r.headers.call_id, "cid1");
    assert_eq!(r.headers.from.tag(), Some("x"), "folded parameter joined");
    assert_eq!(r.headers.contact.len(), 1);
}

#[test]
fn round_trip_of_what_we_encode() {
    let r = request(INVITE.as_bytes());
    let again = request(&encode_request(&r));
    assert_eq!(again, r);
    let resp = crate::sip::message::Response::for_request(&r, 486, Some("tt"));
    let bytes = encode_response(&resp);
    assert_eq!(decode(&bytes).unwrap(), SipMessage::Response(resp));
}

#[test]
fn extension_methods_and_tel_uris_decode() {
    let text = INVITE
        .replacen("INVITE sip:1001@gw.example", "FOO tel:+15551234567", 1)
        .replace("314159 INVITE", "314159 FOO");
    let r = request(text.as_bytes());
    assert_eq!(r.method, Method::Extension("FOO".into()));
    assert_eq!(r.uri.to_string(), "tel:+15551234567");
}

#[test]
fn missing_call_id_gets_a_400_that_keeps_the_via() {
    let text = INVITE.replace("Call-ID: a84b4c76e66710@pc33.atlanta.example\r\n", "");
    match decode(text.as_bytes()) {
        Err(DecodeError::BadRequest { reason, response }) => {
            assert!(reason.contains("Call-ID"), "{reason}");
            let resp = String::from_utf8(response).unwrap();
            assert!(resp.starts_with("SIP/2.0 400 "), "{resp}");
            assert!(resp.contains("branch=z9hG4bK776asdhds"), "{resp}");
            assert!(resp.contains("CSeq: 314159 INVITE"), "{resp}");
        }
        other => panic!("expected BadRequest, got {other:?}"),
    }
}

#[test]
fn datagram_body_shorter_than_content_length() {
    let text = INVITE.replace("Content-Length: 5", "Content-Length: 400");
    assert!(matches!(
        decode(text.as_bytes()),
        Err(DecodeError::BadRequest { .. })
    ));
    let resp = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\n\
                To: <sip:b@h>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 10\r\n\r\nv=0";
    assert!(matches!(
        decode(resp.as_bytes()),
        Err(DecodeError::Unparseable(_))
    ));
    // A longer body is cut to Content-Length.
    let longer = INVITE.replace("Content-Length: 5", "Content-Length: 2");
    assert_eq!(request(longer.as_bytes()).body, b"v=");
}

#[test]
fn two_messages_in_one_read_and_one_split_over_many() {
    let mut framer = StreamFramer::new();
    let both = format!("{INVITE}{INVITE}");
    framer.push(both.as_bytes());
    for _ in 0..2 {
        match framer.next_frame().unwrap() {
            Some(Frame::Message(m)) => assert_eq!(m, INVITE.as_bytes()),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(framer.next_frame().unwrap(), None);
    for chunk in INVITE.as_bytes().chunks(7) {
        assert_eq!(framer.next_frame().unwrap(), None);
        framer.push(chunk);
    }
    assert!(matches!(
        framer.next_frame().unwrap(),
        Some(Frame::Message(_))
    ));
    assert_eq!(framer.buffered(), 0);
}

#[test]
fn keep_alives_and_compact_length_on_streams() {
    let mut framer = StreamFramer::new();
    framer.push(b"\r\n\r\n");
    assert_eq!(framer.next_frame().unwrap(), Some(Frame::Ping));
    let compact = INVITE.replace("Content-Length: 5", "l: 5");
    framer.push(b"\r\n");
    framer.push(compact.as_bytes());
    assert_eq!(framer.next_frame().unwrap(), Some(Frame::KeepAlive));
    assert!(matches!(
        framer.next_frame().unwrap(),
        Some(Frame::Message(_))
    ));
}

#[test]
fn stream_limits() {
    let mut framer = StreamFramer::new();
    framer.push(
        INVITE
            .replace("Content-Length: 5", "Content-Length: 70000")
            .as_bytes(),
    );
    assert_eq!(framer.next_frame(), Err(FramingError::TooLarge));
    let mut framer = StreamFramer::new();
    framer.push(&vec![b'a'; MAX_MESSAGE + 1]);
    assert_eq!(framer.next_frame(), Err(FramingError::TooLarge));
    let mut framer = StreamFramer::new();
    framer.push(INVITE.replace("Content-Length: 5\r\n", "").as_bytes());
    assert_eq!(framer.next_frame(), Err(FramingError::NoContentLength));
}

#[test]
fn garbage_never_panics() {
    for junk in [
        &b""[..],
        b"\0\0\0",
        b"SIP/2.0",
        b"INVITE",
        b"\r\n\r\n",
        b"A B SIP/2.0\r\n\r\n",
        &[0xff, 0xfe, b'\r', b'\n', b'\r', b'\n'],
    ] {
        assert!(decode(junk).is_err());
    }
    let mut rng = SmallRng::seed_from_u64(3261);
    for _ in 0..5000 {
        decode_and_frame(&mutate(&mut rng, INVITE.as_bytes(), 8));
    }
}

/// `base` with 1 to `max_edits - 1` random edits: a byte replaced by any byte, a byte removed,
/// or a byte that means something to SIP's grammar inserted.
fn mutate(rng: &mut SmallRng, base: &[u8], max_edits: usize) -> Vec<u8> {
    const SPECIAL: &[u8] = b":;<>\"\r\n ,@[]\t\\";
    let mut bytes = base.to_vec();
    for _ in 0..rng.random_range(1..max_edits) {
        let i = rng.random_range(0..bytes.len());
        match rng.random_range(0..3) {
            0 => bytes[i] = rng.random(),
            1 => {
                bytes.remove(i);
            }
            _ => bytes.insert(i, SPECIAL[rng.random_range(0..SPECIAL.len())]),
        }
    }
    bytes
}

/// Decoding and stream framing return, whatever the bytes (no panic, no endless loop).
fn decode_and_frame(bytes: &[u8]) {
    let _ = decode(bytes);
    let mut framer = StreamFramer::new();
    framer.push(bytes);
    while let Ok(Some(_)) = framer.next_frame() {}
}
