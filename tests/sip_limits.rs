//! Limits of the SIP TCP/TLS transport (issue 17 item 4) against the real binary, bounded and
//! on loopback: more connections than `sip.max_connections` are refused at once (one log line,
//! rate-limited) while a real SIPp call still completes; connections that never complete a
//! message are closed after `sip.tcp_idle_s` (slowloris) and their slots come back; a message
//! over `sip.max_message_bytes` gets 413 and the connection closes. RSS before and after is
//! printed.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::app::*;
use common::{free_port, line_config, scenario, sipp, GatewayProcess};

const MAX: usize = 50;
const FLOOD: usize = 200;

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn gateway() -> GatewayProcess {
    let sip = format!("max_connections = {MAX}\ntcp_idle_s = 2\nmax_message_bytes = 4096");
    GatewayProcess::start_with_sip(&sip, &line_config(free_port(), "udp"))
}

/// Whether the gateway closed `stream` within `wait` (EOF or reset, not a timeout).
fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 64];
    match stream.read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => !matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connection_flood_is_refused_past_the_limit_and_a_real_call_still_completes() {
    let mut gw = gateway();
    let before = rss_kib(gw.pid());
    let mut held = Vec::new();
    for _ in 0..FLOOD {
        held.push(TcpStream::connect(gw.sip_addr()).unwrap());
    }
    gw.wait_for_log("sip.max_connections hit", Duration::from_secs(5));
    // Those past the limit are closed at once; the first MAX stay (until the idle limit).
    let refused = held[MAX..]
        .iter_mut()
        .map(|s| closed_within(s, Duration::from_millis(500)))
        .filter(|closed| *closed)
        .count();
    assert_eq!(
        refused,
        FLOOD - MAX,
        "every connection past {MAX} is refused"
    );
    let during = rss_kib(gw.pid());

    // A real call (SIPp over UDP, the app answers) while the flood holds its connections.
    let (mut owner, _, _) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    let target = gw.sip_addr().to_string();
    let sf = scenario("uac_call_caller_hangs_up.xml");
    let caller = tokio::task::spawn_blocking(move || {
        sipp(&[
            &target,
            "-sf",
            sf.to_str().unwrap(),
            "-m",
            "1",
            "-s",
            "1001",
            "-d",
            "200",
        ])
        .timeout(30)
        .run()
    });
    let (h_call, _) = new_call(&mut owner).await;
    let answer = owner.call_op("lineAnswer", h_call).await.unwrap();
    assert_eq!(reply(&mut owner, answer).await, 0);
    state(&mut owner, h_call, LINECALLSTATE_IDLE).await;
    caller
        .await
        .unwrap()
        .assert_success("a call during the connection flood");

    // Slowloris: the held connections never sent a message and are closed after 2 s.
    let start = Instant::now();
    let idle_closed = held[..MAX]
        .iter_mut()
        .map(|s| closed_within(s, Duration::from_secs(5)))
        .filter(|closed| *closed)
        .count();
    assert_eq!(idle_closed, MAX, "idle connections are closed");
    assert!(start.elapsed() < Duration::from_secs(5));
    gw.wait_for_log("sip.tcp_idle_s hit", Duration::from_secs(1));
    // Their slots came back: a new connection is served.
    let options =
        "OPTIONS sip:1001@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKlim1\r\n\
        From: <sip:x@127.0.0.1>;tag=1\r\nTo: <sip:1001@127.0.0.1>\r\nCall-ID: lim1\r\n\
        CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    let mut fresh = TcpStream::connect(gw.sip_addr()).unwrap();
    fresh.write_all(options.as_bytes()).unwrap();
    fresh
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = [0u8; 2048];
    let n = fresh.read(&mut buf).unwrap();
    assert!(
        buf[..n].starts_with(b"SIP/2.0 200 "),
        "{}",
        String::from_utf8_lossy(&buf[..n])
    );
    drop(held);
    let after = rss_kib(gw.pid());
    println!("RSS: {before} KiB before, {during} KiB with {FLOOD} connections offered ({MAX} held), {after} KiB after");
    let lines = gw
        .seen
        .iter()
        .filter(|l| l.contains("sip.max_connections hit"))
        .count();
    assert_eq!(
        lines,
        1,
        "one log line for {} refusals (rate-limited)",
        FLOOD - MAX
    );
    assert!(gw.stop().success());
}

#[test]
fn an_oversized_message_gets_413_and_the_connection_closes() {
    let gw = gateway();
    let body = "x".repeat(5000);
    let request = format!(
        "MESSAGE sip:1001@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKbig1\r\n\
         From: <sip:x@127.0.0.1>;tag=1\r\nTo: <sip:1001@127.0.0.1>\r\nCall-ID: big1\r\n\
         CSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\nContent-Type: text/plain\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(gw.sip_addr()).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut all = Vec::new();
    let _ = stream.read_to_end(&mut all);
    let text = String::from_utf8_lossy(&all);
    assert!(
        text.starts_with("SIP/2.0 413 Request Entity Too Large\r\n"),
        "{text}"
    );
    assert!(
        text.contains("Call-ID: big1\r\n") && text.contains("tag="),
        "{text}"
    );
}
