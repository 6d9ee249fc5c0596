//! `tapigw::sip::codec::decode` on any bytes (a UDP datagram or a stream frame).
//!
//! Properties:
//! - it never panics;
//! - a message it accepts survives the round trip: `encode` then `decode` gives an equal message,
//!   and encoding that again gives the same bytes, CRLF-ended header lines with no other CR or
//!   LF in them;
//! - a request it refuses gets a ready response that is one well-formed message: a status line
//!   with the status it names, CRLF-ended header lines with no stray CR or LF in them (nothing a
//!   peer sends can add a header of its own to our response), the empty line at the very end,
//!   and the stream framer cuts it as exactly one message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tapigw::sip::codec::{decode, encode, DecodeError, Frame, StreamFramer};

fuzz_target!(|data: &[u8]| {
    match decode(data) {
        Ok(msg) => {
            let wire = encode(&msg);
            let again = decode(&wire).unwrap_or_else(|e| {
                panic!(
                    "our own encoding does not decode: {e}\n{:?}\nof {msg:?}",
                    String::from_utf8_lossy(&wire)
                )
            });
            assert_eq!(
                again,
                msg,
                "decode(encode(m)) != m; encoded as {:?}",
                String::from_utf8_lossy(&wire)
            );
            assert_eq!(encode(&again), wire, "encoding is not stable");
            well_formed_head(&wire, msg.body().len());
        }
        Err(DecodeError::BadRequest { reason, response }) => check_response(&reason, &response),
        Err(DecodeError::Unparseable(_)) => {}
    }
});

/// Our encoding: CRLF-ended lines with no other CR or LF in them, the empty line, the body.
fn well_formed_head(wire: &[u8], body: usize) {
    let head = &wire[..wire.len() - body];
    let text = std::str::from_utf8(head).expect("our head is UTF-8");
    let lines = text
        .strip_suffix("\r\n\r\n")
        .unwrap_or_else(|| panic!("head does not end with the empty line: {text:?}"));
    for line in lines.split("\r\n") {
        assert!(
            !line.is_empty() && !line.contains(['\r', '\n']),
            "stray line end or empty line in our head: {text:?}"
        );
    }
}

fn check_response(reason: &str, response: &[u8]) {
    let text = std::str::from_utf8(response).expect("a ready response is UTF-8");
    let head = text
        .strip_suffix("\r\n\r\n")
        .unwrap_or_else(|| panic!("response does not end its head: {text:?}"));
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default();
    assert!(
        status.starts_with("SIP/2.0 4") || status.starts_with("SIP/2.0 5"),
        "status line {status:?}"
    );
    assert!(status.ends_with(reason), "reason {reason:?} in {status:?}");
    for line in std::iter::once(status).chain(lines) {
        assert!(
            !line.contains(['\r', '\n']) && !line.is_empty(),
            "stray line end or empty line in the response: {text:?}"
        );
    }
    let mut framer = StreamFramer::new();
    framer.push(response);
    assert_eq!(
        framer.next_frame(),
        Ok(Some(Frame::Message(response.to_vec()))),
        "the response is not one stream frame: {text:?}"
    );
    assert_eq!(framer.buffered(), 0);
}
