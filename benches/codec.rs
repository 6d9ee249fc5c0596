//! `cargo bench --bench codec [-- --rounds N] [--iterations N] [--only NAME]`: decode time per message of the SIP codec
//! (`tapigw::sip::codec::decode`) for a few representative messages: an INVITE with SDP, a
//! 200 OK to it, a REGISTER with Authorization and a short ACK. Each round decodes every message
//! in a tight loop for a fixed number of iterations; the median round is printed, and last one
//! line per message:
//!
//! RESULT codec <name> bytes=N ns_per_msg=N
//!
//! Under `cargo test --all-targets` (no `--bench` argument) it checks that the messages decode
//! and returns at once: timing belongs in `cargo bench`, not in the unit test run.

use std::hint::black_box;
use std::time::Instant;

use tapigw::sip::codec::decode;

const INVITE: &str = "INVITE sip:1002@gw.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport\r\n\
Max-Forwards: 70\r\n\
To: <sip:1002@gw.example.com>\r\n\
From: \"Alice\" <sip:1001@atlanta.example.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:1001@192.0.2.10:5060>\r\n\
Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 202\r\n\
\r\n\
v=0\r\n\
o=alice 2890844526 2890844526 IN IP4 192.0.2.10\r\n\
s=-\r\n\
c=IN IP4 192.0.2.10\r\n\
t=0 0\r\n\
m=audio 49170 RTP/AVP 0 101\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-16\r\n\
a=sendrecv\r\n";

const OK_200: &str = "SIP/2.0 200 OK\r\n\
Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bKnashds8;received=192.0.2.20;rport=5060\r\n\
From: <sip:1001@gw.example.com>;tag=a6c85cf\r\n\
To: <sip:1002@pbx.example.com>;tag=314159\r\n\
Call-ID: 843817637684230@998sdasdh09\r\n\
CSeq: 1826 INVITE\r\n\
Contact: <sip:1002@192.0.2.30:5060>\r\n\
Record-Route: <sip:pbx.example.com;lr>\r\n\
Content-Length: 0\r\n\
\r\n";

const REGISTER: &str = "REGISTER sip:pbx.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bKnashds7;rport\r\n\
Max-Forwards: 70\r\n\
From: <sip:1001@pbx.example.com>;tag=456248\r\n\
To: <sip:1001@pbx.example.com>\r\n\
Call-ID: 843817637684230@998sdasdh09\r\n\
CSeq: 1827 REGISTER\r\n\
Contact: <sip:1001@192.0.2.20:5060>;expires=3600\r\n\
Authorization: Digest username=\"1001\", realm=\"pbx.example.com\", \
nonce=\"ea9c8e88df84f1cec4341ae6cbe5a359\", uri=\"sip:pbx.example.com\", \
response=\"dfe56131d1958046689d83306477ecc\", algorithm=MD5, cnonce=\"0a4f113b\", \
qop=auth, nc=00000001\r\n\
Expires: 3600\r\n\
Content-Length: 0\r\n\
\r\n";

const ACK: &str = "ACK sip:1002@192.0.2.30:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bKack1\r\n\
Max-Forwards: 70\r\n\
From: <sip:1001@gw.example.com>;tag=a6c85cf\r\n\
To: <sip:1002@pbx.example.com>;tag=314159\r\n\
Call-ID: 843817637684230@998sdasdh09\r\n\
CSeq: 1826 ACK\r\n\
Content-Length: 0\r\n\
\r\n";

const MESSAGES: [(&str, &str); 4] = [
    ("invite_sdp", INVITE),
    ("ok_200", OK_200),
    ("register_auth", REGISTER),
    ("ack", ACK),
];

/// The value after `--flag`, when given.
fn arg(flag: &str) -> Option<String> {
    std::env::args().skip_while(|a| a != flag).nth(1)
}

/// Nanoseconds per decode for one round of `iterations` decodes.
fn round(bytes: &[u8], iterations: u32) -> f64 {
    let start = Instant::now();
    for _ in 0..iterations {
        let decoded = decode(black_box(bytes));
        black_box(&decoded);
    }
    start.elapsed().as_nanos() as f64 / f64::from(iterations)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    for (name, text) in MESSAGES {
        assert!(decode(text.as_bytes()).is_ok(), "{name} must decode");
    }
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this binary without it.
    if !std::env::args().any(|a| a == "--bench") {
        println!("codec bench: run it with `cargo bench --bench codec`");
        return;
    }
    // Rounds of 20 000 decodes take about 10-40 ms each on a 2 vCPU machine.
    let rounds: usize = arg("--rounds").and_then(|n| n.parse().ok()).unwrap_or(9);
    let iterations: u32 = arg("--iterations")
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    let only = arg("--only");
    let (rounds, iterations) = (rounds.max(1), iterations.max(1));
    println!("codec decode bench: {rounds} rounds of {iterations} decodes per message");
    let mut results = Vec::new();
    for (name, text) in MESSAGES {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let bytes = text.as_bytes();
        round(bytes, iterations); // warm-up
        let times: Vec<f64> = (0..rounds).map(|_| round(bytes, iterations)).collect();
        let (lo, hi) = times
            .iter()
            .fold((f64::MAX, 0f64), |(lo, hi), &t| (lo.min(t), hi.max(t)));
        let med = median(times);
        println!(
            "{name:<14} {:>4} B  median {med:>7.0} ns/msg  (min {lo:.0}, max {hi:.0})",
            bytes.len()
        );
        results.push((name, bytes.len(), med));
    }
    for (name, len, med) in results {
        println!("RESULT codec {name} bytes={len} ns_per_msg={med:.0}");
    }
}
