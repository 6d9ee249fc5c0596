//! `tapigw::sdp`: a peer's SDP read by `parse_answer`, and answered by `answer_offer_with` for
//! each direction we may want, with IPv4 and IPv6 origins and media addresses.
//!
//! Properties:
//! - nothing panics, not even inside webrtc-sdp (see docs/fuzzing.md: `parse_answer` also
//!   catches a panic, but the fuzzer reports one so it can be fixed where it starts);
//! - `answer_offer_with` accepts exactly what `parse_answer` accepts, with the same reading;
//! - every answer we produce parses with `webrtc_sdp::parse_sdp(.., false)` (and strictly), and
//!   reading it back with `parse_answer` gives our address, the codec and telephone-event
//!   payload type we chose, and the direction of RFC 3264 §6.1;
//! - the answer stays within the offer (RFC 3264 §6.1): every payload type on its m-line is one
//!   the offer listed.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use libfuzzer_sys::fuzz_target;
use tapigw::sdp::{answer_offer_with, parse_answer, Direction, SdpOrigin};
use webrtc_sdp::media_type::{SdpFormatList, SdpMediaValue};

const DIRECTIONS: [Direction; 4] = [
    Direction::SendRecv,
    Direction::SendOnly,
    Direction::RecvOnly,
    Direction::Inactive,
];

fuzz_target!(|data: &[u8]| {
    let parsed = parse_answer(data);
    let v4 = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7));
    let v6 = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 7));
    for (i, ours) in DIRECTIONS.into_iter().enumerate() {
        let ip = if i % 2 == 0 { v4 } else { v6 };
        let origin = SdpOrigin::new(u64::MAX - i as u64, ip);
        let media = SocketAddr::new(ip, 40000 + i as u16);
        let answered = answer_offer_with(data, &origin, media, ours);
        let (answer, remote) = match (&parsed, answered) {
            (Ok(p), Ok((answer, remote))) => {
                assert_eq!(&remote, p, "answer_offer_with reads the offer differently");
                (answer, remote)
            }
            (Err(a), Err(b)) => {
                assert_eq!(*a, b, "different errors");
                continue;
            }
            (p, a) => panic!("parse_answer gave {p:?}, answer_offer_with {a:?}"),
        };
        if let Err(e) = webrtc_sdp::parse_sdp(&answer, false) {
            panic!("our answer does not parse: {e}\n{answer}");
        }
        if let Err(e) = webrtc_sdp::parse_sdp(&answer, true) {
            panic!("our answer does not parse strictly: {e}\n{answer}");
        }
        let back = parse_answer(answer.as_bytes())
            .unwrap_or_else(|e| panic!("we cannot read our answer: {e}\n{answer}"));
        assert_eq!(back.address, media, "{answer}");
        assert_eq!(back.codec, remote.codec, "{answer}");
        assert_eq!(back.telephone_event, remote.telephone_event, "{answer}");
        assert_eq!(
            back.direction,
            Direction::answer_to(remote.direction, ours),
            "{answer}"
        );
        within_the_offer(data, &answer);
    }
});

/// The payload types of the first audio m-line with a non-zero port, as webrtc-sdp reads the
/// description (the m-line `parse_answer` answers).
fn audio_formats(text: &str) -> Vec<u32> {
    let Ok(session) = webrtc_sdp::parse_sdp(text, false) else {
        return Vec::new();
    };
    session
        .media
        .iter()
        .find(|m| *m.get_type() == SdpMediaValue::Audio && m.get_port() != 0)
        .and_then(|m| match m.get_formats() {
            SdpFormatList::Integers(f) => Some(f.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

fn within_the_offer(offer: &[u8], answer: &str) {
    let offered = audio_formats(std::str::from_utf8(offer).expect("parse_answer took it"));
    for pt in audio_formats(answer) {
        assert!(
            offered.contains(&pt),
            "answer format {pt} not in the offer {offered:?}\n{answer}"
        );
    }
}
