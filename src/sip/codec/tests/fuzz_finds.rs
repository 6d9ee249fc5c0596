//! Inputs the `sip_decode` and `tcp_framer` fuzz targets found (fuzz/, docs/fuzzing.md), each
//! kept as the regression test of its fix. The property is the fuzz target's: what `decode`
//! accepts, `encode` writes back so that `decode` reads the same message again.

use super::*;

/// Decodes `bytes`; when accepted, the message must survive encode + decode unchanged.
fn accepted_round_trips(bytes: &[u8]) -> Option<SipMessage> {
    let msg = decode(bytes).ok()?;
    let wire = encode(&msg);
    let again = decode(&wire).unwrap_or_else(|e| {
        panic!(
            "our encoding does not decode ({e}): {:?}",
            String::from_utf8_lossy(&wire)
        )
    });
    assert_eq!(again, msg, "{:?}", String::from_utf8_lossy(&wire));
    Some(msg)
}

fn bad_request_reason(bytes: &[u8]) -> String {
    match decode(bytes) {
        Err(DecodeError::BadRequest { reason, .. }) => reason,
        other => panic!("expected a ready response, got {other:?}"),
    }
}

/// A host that is no §25.1 hostname: `sip:m>` was read as host `m>`, written back as
/// `<sip:m>>`, which no longer decodes; a NUL was a Via host.
#[test]
fn hosts_are_hostnames() {
    let text = "OPTIONS sip:u SIP/2.0\nTo: sip:C>\nFrom: sip:m>\nCall-ID:O\nCSeq:6 OPTIONS\nVia: SIP/2.0/P \0\n\r\n";
    assert_eq!(bad_request_reason(text.as_bytes()), "Bad To Header");
    let text = "OPTIONS sip:u SIP/2.0\nTo: sip:C\nFrom: sip:m\nCall-ID:O\nCSeq:6 OPTIONS\nVia: SIP/2.0/P \0\n\r\n";
    assert_eq!(bad_request_reason(text.as_bytes()), "Bad Via Header");
    let fine = "OPTIONS sip:u SIP/2.0\nTo: sip:c_1.example-x\nFrom: <sip:m@10.0.0.1>;tag=1\nCall-ID:O\nCSeq:6 OPTIONS\nVia: SIP/2.0/UDP h\n\r\n";
    assert!(accepted_round_trips(fine.as_bytes()).is_some());
}

/// A URI character that cannot be written back inside `<...>`: `sip:amazing>>@example.net`
/// (addr-spec form) was read with user `amazing>>`; `<sip:amazing>>@example.net>` did not
/// decode.
#[test]
fn uris_hold_uri_characters_only() {
    let text = "OPTIONS sip:u@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: sip:amazing>>@example.net;tag=1\r\nTo: <sip:u@h>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n";
    assert_eq!(bad_request_reason(text.as_bytes()), "Bad From Header");
    for bad in [
        "sip:a\"b@h",
        "sip:a b@h",
        "sip:a\0@h",
        "sip:a@h;p=<x>",
        "sip:é@h",
    ] {
        assert!(parse_uri(bad).is_err(), "{bad:?}");
    }
    let fine = "OPTIONS sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:%75se%72@h>;tag=1\r\nTo: <tel:+49-30-1234;phone-context=#1>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n";
    assert!(accepted_round_trips(fine.as_bytes()).is_some());
}

/// The framer searches each byte once (it rescanned the whole buffer on every read: 0.2 s of
/// CPU for a 60 KiB head sent a byte at a time). Cut anywhere, and whatever line ends the head
/// has, a stream frames as it does in one read.
#[test]
fn framing_resumes_where_it_stopped() {
    let bare_lf = INVITE
        .replace("\r\n", "\n")
        .replace("Content-Length: 5", "Content-Length: 4");
    let mixed = INVITE.replace("Content-Length: 5\r\n\r\n", "Content-Length: 5\r\n\n");
    for message in [INVITE, bare_lf.as_str(), mixed.as_str()] {
        let stream = format!("\r\n{message}\r\n\r\n{message}");
        let mut whole = StreamFramer::new();
        whole.push(stream.as_bytes());
        let expected: Vec<Frame> = std::iter::from_fn(|| whole.next_frame().unwrap()).collect();
        assert_eq!(expected.len(), 4, "{expected:?}");
        assert_eq!(whole.buffered(), 0);
        for cut in 1..stream.len() {
            let (a, b) = stream.as_bytes().split_at(cut);
            let mut framer = StreamFramer::new();
            let mut frames = Vec::new();
            for chunk in [a, b] {
                framer.push(chunk);
                frames.extend(std::iter::from_fn(|| framer.next_frame().unwrap()));
            }
            assert_eq!(frames, expected, "cut at {cut}");
            assert_eq!(framer.buffered(), 0, "cut at {cut} of {stream:?}");
        }
        let mut framer = StreamFramer::new();
        let mut frames = Vec::new();
        for byte in stream.as_bytes() {
            framer.push(std::slice::from_ref(byte));
            frames.extend(std::iter::from_fn(|| framer.next_frame().unwrap()));
        }
        assert_eq!(frames, expected, "one byte at a time");
    }
}

/// A bare CR in a reason phrase was kept (`SIP/2.0 200 OK\r.0.0.1...`), and written back as a
/// line end a peer would split at.
#[test]
fn reason_phrases_hold_no_controls() {
    let response = |reason: &str| {
        format!("SIP/2.0 200 {reason}\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n")
    };
    for bad in ["OK\r.0.0.1", "O\0K", "OK\x7f"] {
        assert!(matches!(
            decode(response(bad).as_bytes()),
            Err(DecodeError::Unparseable(_))
        ));
    }
    for fine in ["OK", "", "Très bien\tfine", "Ringing %41"] {
        let msg = accepted_round_trips(response(fine).as_bytes()).expect(fine);
        assert!(matches!(msg, SipMessage::Response(r) if r.reason == fine));
    }
}

/// A header parameter holding `<`, a space or a NUL (`;q=x <sip:b@h>`) was kept and written
/// back after a Contact's `>`, where the next decode read it as a second Contact.
#[test]
fn parameters_hold_uri_characters_or_one_quoted_string() {
    let with_contact = |contact: &str| {
        format!("SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKt\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContact: {contact}\r\n\r\n")
    };
    for bad in [
        "\"#X\\\"\" <sips:b@[::1]:5061>;q=L p <sip:b@10.0.0.1>, <sip:c@h>",
        "<sip:b@h>;q=h\0 0",
        "<sip:b@h>;x=\"open",
        "<sip:b@h>;x=\"a\"b",
        "<sip:b@h>;\"x\"=1",
    ] {
        assert!(
            matches!(
                decode(with_contact(bad).as_bytes()),
                Err(DecodeError::Unparseable(_))
            ),
            "{bad:?}"
        );
    }
    let fine = "<sip:b@h;lr;maddr=[2001:db8::1];x=%41$&+/:>;expires=;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\";methods=\"INVITE, BYE\";q=0.5";
    let msg = accepted_round_trips(with_contact(fine).as_bytes()).unwrap();
    assert_eq!(msg.headers().contact.len(), 1);
    assert_eq!(
        msg.headers().contact[0].params.value("methods"),
        Some("\"INVITE, BYE\"")
    );
}
