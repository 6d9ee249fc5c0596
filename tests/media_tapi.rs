//! Issue 15, the TAPI side end to end: SIPp does the signalling of an inbound call, the test
//! process is the call's RTP peer (a UDP socket whose port goes into SIPp's SDP with
//! `-key rtp_port`), an API client is the app. Checked: RFC 4733 digits from the peer reach
//! lineMonitorDigits; lineGenerateDigits sends RFC 4733 events with the negotiated payload types
//! (PCMU offered as dynamic 96, telephone-event 101); mediaPlay of a WAV sends its audio;
//! mediaRecord writes what the peer sent; without telephone-event, digits go both ways as SIP
//! INFO application/dtmf-relay; SIPp playing its own RFC 2833 capture of a digit
//! (`play_pcap_audio` of dtmf_2833_1.pcap, shipped with sip-tester) reaches lineMonitorDigits.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use common::app::*;
use common::{free_port, line_config, rtp_base, scenario, sipp, GatewayProcess, SippRun};
use serde_json::json;
use tokio::net::UdpSocket;

/// The gateway with one line, RTP media, and `files_dir` for play and record.
fn gateway(files_dir: &Path) -> (GatewayProcess, u16) {
    let proxy = free_port();
    let config = line_config(proxy, "udp") + &format!("files_dir = \"{}\"\n", files_dir.display());
    (GatewayProcess::start(&config), proxy)
}

/// SIPp calls line user 1001 with scenario `name`, its SDP naming `rtp_port`.
fn caller(gw: &GatewayProcess, name: &str, rtp_port: u16) -> tokio::task::JoinHandle<SippRun> {
    let port = rtp_port.to_string();
    caller_with(gw, name, &["-key", "rtp_port", &port])
}

/// SIPp calls line user 1001 with scenario `name` and the `extra` arguments.
fn caller_with(
    gw: &GatewayProcess,
    name: &str,
    extra: &[&str],
) -> tokio::task::JoinHandle<SippRun> {
    let mut args: Vec<String> = vec![
        gw.sip_addr().to_string(),
        "-sf".into(),
        scenario(name).to_str().unwrap().into(),
        "-m".into(),
        "1".into(),
        "-s".into(),
        "1001".into(),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        sipp(&args).timeout(60).run()
    })
}

/// Answers the offered call; returns its handle once CONNECTED.
async fn answer(c: &mut Client) -> u32 {
    let (h_call, _) = new_call(c).await;
    let request = c.call_op("lineAnswer", h_call).await.unwrap();
    assert_eq!(reply(c, request).await, 0);
    state(c, h_call, LINECALLSTATE_CONNECTED).await;
    h_call
}

/// A received RTP packet: (payload type, marker, payload).
struct Rtp {
    pt: u8,
    payload: Vec<u8>,
}

fn parse_rtp(data: &[u8]) -> Option<Rtp> {
    if data.len() < 12 || data[0] >> 6 != 2 {
        return None;
    }
    let cc = usize::from(data[0] & 0x0F);
    let start = 12 + 4 * cc;
    Some(Rtp {
        pt: data[1] & 0x7F,
        payload: data.get(start..)?.to_vec(),
    })
}

/// The test's RTP source: sequence, timestamp and SSRC as RFC 3550 wants them.
struct Sender {
    socket: std::sync::Arc<UdpSocket>,
    to: SocketAddr,
    seq: u16,
    ts: u32,
}

impl Sender {
    async fn send(&mut self, pt: u8, marker: bool, ts: u32, payload: &[u8]) {
        let mut p = vec![0x80, pt | if marker { 0x80 } else { 0 }];
        p.extend_from_slice(&self.seq.to_be_bytes());
        p.extend_from_slice(&ts.to_be_bytes());
        p.extend_from_slice(&0x1234_5678u32.to_be_bytes());
        p.extend_from_slice(payload);
        self.seq = self.seq.wrapping_add(1);
        self.socket.send_to(&p, self.to).await.unwrap();
    }

    /// 20 ms of PCMU, every byte `value`.
    async fn audio(&mut self, value: u8) {
        let ts = self.ts;
        self.send(96, false, ts, &[value; 160]).await;
        self.ts = self.ts.wrapping_add(160);
    }

    /// One RFC 4733 event (§2.5): a start, updates every 20 ms, three end packets.
    async fn digit(&mut self, event: u8) {
        let ts = self.ts;
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        for n in 1..=5u16 {
            tick.tick().await;
            let d = (n * 160).to_be_bytes();
            self.send(101, n == 1, ts, &[event, 10, d[0], d[1]]).await;
        }
        for _ in 0..3 {
            let d = (6 * 160u16).to_be_bytes();
            self.send(101, false, ts, &[event, 0x80 | 10, d[0], d[1]])
                .await;
        }
        self.ts = self.ts.wrapping_add(6 * 160);
    }
}

/// Reads packets until `pred` holds for one (or the wait ends).
async fn until(socket: &UdpSocket, wait: Duration, mut pred: impl FnMut(&Rtp) -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    let mut buf = [0u8; 2048];
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, socket.recv_from(&mut buf)).await {
            Ok(Ok((n, _))) => {
                if parse_rtp(&buf[..n]).is_some_and(|p| pred(&p)) {
                    return true;
                }
            }
            _ => return false,
        }
    }
}

/// Waits until every (message ID, hCall, dwParam1, dwParam2) in `wanted` came, in any order.
async fn wait_all(c: &mut Client, mut wanted: Vec<(u32, u32, u32, u32)>) {
    while !wanted.is_empty() {
        let m = c
            .next_message(WAIT)
            .await
            .unwrap_or_else(|e| panic!("still waiting for {wanted:?}: {e}"));
        let got = (
            m.msg.dw_message_id,
            m.msg.h_device,
            m.msg.dw_param1,
            m.msg.dw_param2,
        );
        wanted.retain(|w| *w != got);
    }
}

async fn wait_message(c: &mut Client, id: u32, h_call: u32, p1: u32, p2: u32) {
    c.wait_for(WAIT, |m| {
        m.msg.dw_message_id == id
            && m.msg.h_device == h_call
            && m.msg.dw_param1 == p1
            && m.msg.dw_param2 == p2
    })
    .await
    .unwrap_or_else(|e| panic!("no message {id} ({p1:#x}, {p2:#x}) on {h_call}: {e}"));
}

/// One second of a loud 1 kHz tone, 8 kHz mono 16-bit.
fn write_tone(path: &Path) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..8000 {
        let phase = i as f64 * 2.0 * std::f64::consts::PI * 1000.0 / 8000.0;
        w.write_sample((phase.sin() * 20000.0) as i16).unwrap();
    }
    w.finalize().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn rfc4733_digits_both_ways_play_and_record_with_the_negotiated_payload_types() {
    let files = tempfile::tempdir().unwrap();
    write_tone(&files.path().join("tone.wav"));
    let (gw, proxy) = gateway(files.path());
    let rtp_port = rtp_base(proxy) + 18;
    let socket = std::sync::Arc::new(UdpSocket::bind(("127.0.0.1", rtp_port)).await.unwrap());
    let (mut c, _, _) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    let sipp = caller(&gw, "uac_media_rtp.xml", rtp_port);
    let h_call = answer(&mut c).await;
    let info = c.line_get_call_info(h_call).await.unwrap();
    let local: SocketAddr = info["localMedia"].as_str().unwrap().parse().unwrap();
    let mut peer = Sender {
        socket: socket.clone(),
        to: local,
        seq: 1,
        ts: 0,
    };
    // The gateway sends (silence) with the offered number 96, not PCMU's static 0.
    assert!(
        until(&socket, WAIT, |p| p.pt == 96).await,
        "audio with PT 96"
    );

    // RFC 4733 digit '3' from the peer -> LINE_MONITORDIGITS, DTMF then DTMFEND.
    let modes = LINEDIGITMODE_DTMF | LINEDIGITMODE_DTMFEND;
    let r = c
        .call(
            "lineMonitorDigits",
            json!({"hCall": h_call, "digitModes": modes}),
        )
        .await;
    assert_eq!(r.unwrap(), json!({}));
    peer.audio(0xFF).await;
    peer.digit(3).await;
    let digit = u32::from(b'3');
    wait_message(
        &mut c,
        LINE_MONITORDIGITS,
        h_call,
        digit,
        LINEDIGITMODE_DTMF,
    )
    .await;
    wait_message(
        &mut c,
        LINE_MONITORDIGITS,
        h_call,
        digit,
        LINEDIGITMODE_DTMFEND,
    )
    .await;

    // lineGenerateDigits -> RFC 4733 packets (PT 101, event 7, an end bit), LINE_GENERATE.
    let r = c
        .call(
            "lineGenerateDigits",
            json!({"hCall": h_call, "digitMode": LINEDIGITMODE_DTMF, "digits": "7x"}),
        )
        .await;
    assert!(
        matches!(r, Err(ClientError::Rpc { ref message, .. }) if message == "LINEERR_INVALDIGITS")
    );
    let r = c
        .call(
            "lineGenerateDigits",
            json!({"hCall": h_call, "digitMode": LINEDIGITMODE_DTMF, "digits": "7"}),
        )
        .await;
    assert_eq!(r.unwrap(), json!({}));
    let mut started = false;
    let ended = until(&socket, WAIT, |p| {
        if p.pt != 101 || p.payload.len() < 4 || p.payload[0] != 7 {
            return false;
        }
        started = true;
        p.payload[1] & 0x80 != 0
    })
    .await;
    assert!(started && ended, "event 7 with PT 101, and its end");
    wait_message(&mut c, LINE_GENERATE, h_call, LINEGENERATETERM_DONE, 0).await;
    let status = c.line_get_call_status(h_call).await.unwrap();
    let features = status["callFeatures"].as_u64().unwrap_or(0) as u32;
    assert_ne!(features & LINECALLFEATURE_GENERATEDIGITS, 0, "{status}");

    // mediaPlay: the tone's audio (not PCMU silence 0xFF/0x7F) goes out with PT 96; LINE_REPLY(0).
    let r = c
        .call("mediaPlay", json!({"hCall": h_call, "file": "../tone.wav"}))
        .await;
    assert!(
        matches!(r, Err(ClientError::Rpc { ref message, .. }) if message == "LINEERR_INVALPARAM")
    );
    let r = c
        .call("mediaPlay", json!({"hCall": h_call, "file": "tone.wav"}))
        .await
        .unwrap();
    let play = r["requestId"].as_u64().unwrap() as u32;
    let loud = until(&socket, WAIT, |p| {
        p.pt == 96
            && p.payload
                .iter()
                .filter(|b| !matches!(b, 0xFF | 0x7F))
                .count()
                > 100
    })
    .await;
    assert!(loud, "the file's audio");
    assert_eq!(reply(&mut c, play).await, 0, "the play ran to its end");

    // mediaRecord of 600 ms while the peer sends PCMU 0x80 (+32124 in 16-bit).
    let r = c
        .call(
            "mediaRecord",
            json!({"hCall": h_call, "file": "rec.wav", "maxMs": 600}),
        )
        .await
        .unwrap();
    let record = r["requestId"].as_u64().unwrap() as u32;
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    let recording = async {
        loop {
            tick.tick().await;
            peer.audio(0x80).await;
        }
    };
    let result = tokio::select! {
        r = reply(&mut c, record) => r,
        _ = recording => unreachable!(),
    };
    assert_eq!(result, 0);
    let mut wav = hound::WavReader::open(files.path().join("rec.wav")).unwrap();
    let spec = wav.spec();
    assert_eq!(
        (spec.channels, spec.sample_rate, spec.bits_per_sample),
        (1, 8000, 16)
    );
    let samples: Vec<i16> = wav.samples::<i16>().map(Result::unwrap).collect();
    assert!(
        (4000..=5600).contains(&samples.len()),
        "{} samples",
        samples.len()
    );
    let peer_audio = samples.iter().filter(|s| **s == 32124).count();
    assert!(
        peer_audio > samples.len() / 2,
        "{peer_audio} of {}",
        samples.len()
    );

    let drop = c.call_op("lineDrop", h_call).await.unwrap();
    assert_eq!(reply(&mut c, drop).await, 0);
    sipp.await.unwrap().assert_success("caller (media peer)");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_telephone_event_digits_go_both_ways_as_sip_info_dtmf_relay() {
    let files = tempfile::tempdir().unwrap();
    let (gw, proxy) = gateway(files.path());
    let rtp_port = rtp_base(proxy) + 18;
    let _socket = UdpSocket::bind(("127.0.0.1", rtp_port)).await.unwrap();
    let (mut c, _, _) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    let sipp = caller(&gw, "uac_media_info.xml", rtp_port);
    let h_call = answer(&mut c).await;
    let modes = LINEDIGITMODE_DTMF | LINEDIGITMODE_DTMFEND;
    c.call(
        "lineMonitorDigits",
        json!({"hCall": h_call, "digitModes": modes}),
    )
    .await
    .unwrap();
    // SIPp waits for our INFO (Signal=9), answers it, then sends its own (Signal=5).
    c.call(
        "lineGenerateDigits",
        json!({"hCall": h_call, "digitMode": LINEDIGITMODE_DTMF, "digits": "9", "duration": 80}),
    )
    .await
    .unwrap();
    let digit = u32::from(b'5');
    wait_all(
        &mut c,
        vec![
            (LINE_MONITORDIGITS, h_call, digit, LINEDIGITMODE_DTMF),
            (LINE_MONITORDIGITS, h_call, digit, LINEDIGITMODE_DTMFEND),
            (LINE_GENERATE, h_call, LINEGENERATETERM_DONE, 0),
        ],
    )
    .await;
    let drop = c.call_op("lineDrop", h_call).await.unwrap();
    assert_eq!(reply(&mut c, drop).await, 0);
    sipp.await
        .unwrap()
        .assert_success("caller (SIP INFO digits)");
}

/// Speaks `value` (PCMU, every byte) as the party whose gateway session is `to`, until some
/// packet from each of `listeners` carries it (each hears the speaker through the mix); counts
/// the packets from `speaker_session` that carry it (its own echo).
async fn heard_by(
    socket: &std::sync::Arc<UdpSocket>,
    to: SocketAddr,
    value: u8,
    listeners: &[SocketAddr],
) -> (bool, u32) {
    let mut speaker = Sender {
        socket: socket.clone(),
        to,
        seq: 1,
        ts: 0,
    };
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    let speaking = async {
        loop {
            tick.tick().await;
            let ts = speaker.ts;
            speaker.send(0, false, ts, &[value; 160]).await;
            speaker.ts = speaker.ts.wrapping_add(160);
        }
    };
    let hears = async {
        let mut waiting: Vec<SocketAddr> = listeners.to_vec();
        let mut echoed = 0;
        let mut buf = [0u8; 2048];
        let deadline = tokio::time::Instant::now() + WAIT;
        while !waiting.is_empty() && tokio::time::Instant::now() < deadline {
            let Ok(Ok((n, from))) = tokio::time::timeout(WAIT, socket.recv_from(&mut buf)).await
            else {
                break;
            };
            let carries = parse_rtp(&buf[..n]).is_some_and(|p| {
                p.pt == 0 && p.payload.iter().filter(|x| **x == value).count() > 100
            });
            if carries && from == to {
                echoed += 1;
            }
            if carries {
                waiting.retain(|l| *l != from);
            }
        }
        (waiting.is_empty(), echoed)
    };
    tokio::select! {
        h = hears => h,
        _ = speaking => unreachable!(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_three_party_conference_lets_each_party_hear_the_others() {
    let files = tempfile::tempdir().unwrap();
    let proxy = free_port();
    let rtp_port = rtp_base(proxy) + 18;
    let p = proxy.to_string();
    let r = rtp_port.to_string();
    let sf = scenario("uas_conference.xml");
    let args = [
        "-sf",
        sf.to_str().unwrap(),
        "-p",
        &p,
        "-t",
        "u1",
        "-m",
        "3",
        "-key",
        "rtp_port",
        &r,
    ];
    let sipp = sipp(&args).timeout(60).spawn();
    let config =
        line_config(proxy, "udp") + &format!("files_dir = \"{}\"\n", files.path().display());
    let gw = GatewayProcess::start(&config);
    let socket = std::sync::Arc::new(UdpSocket::bind(("127.0.0.1", rtp_port)).await.unwrap());
    let (mut c, _, line) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    let (request, h_call) = c.line_make_call(line, "1002").await.unwrap();
    assert_eq!(reply(&mut c, request).await, 0);
    state(&mut c, h_call, LINECALLSTATE_CONNECTED).await;
    let r = c
        .call("lineSetupTransfer", json!({"hCall": h_call}))
        .await
        .unwrap();
    let consult = r["hConsultCall"].as_u64().unwrap() as u32;
    assert_eq!(
        reply(&mut c, r["requestId"].as_u64().unwrap() as u32).await,
        0
    );
    let r = c
        .call("lineDial", json!({"hCall": consult, "destAddress": "4000"}))
        .await
        .unwrap();
    assert_eq!(
        reply(&mut c, r["requestId"].as_u64().unwrap() as u32).await,
        0
    );
    state(&mut c, consult, LINECALLSTATE_CONNECTED).await;
    let r = c
        .call(
            "lineCompleteTransfer",
            json!({"hCall": h_call, "hConsultCall": consult, "transferMode": LINETRANSFERMODE_CONFERENCE}),
        )
        .await
        .unwrap();
    let request = r["requestId"].as_u64().unwrap() as u32;
    let conf = r["hConfCall"].as_u64().unwrap() as u32;
    wait_all(
        &mut c,
        vec![
            (LINE_REPLY, 0, request, 0),
            (LINE_CALLSTATE, h_call, LINECALLSTATE_CONFERENCED, conf),
            (LINE_CALLSTATE, consult, LINECALLSTATE_CONFERENCED, conf),
        ],
    )
    .await;
    // A third party joins.
    let (request, third) = c.line_make_call(line, "5000").await.unwrap();
    assert_eq!(reply(&mut c, request).await, 0);
    state(&mut c, third, LINECALLSTATE_CONNECTED).await;
    let r = c
        .call(
            "lineAddToConference",
            json!({"hConfCall": conf, "hAddCall": third}),
        )
        .await
        .unwrap();
    let request = r["requestId"].as_u64().unwrap() as u32;
    wait_all(
        &mut c,
        vec![
            (LINE_REPLY, 0, request, 0),
            (LINE_CALLSTATE, third, LINECALLSTATE_CONFERENCED, conf),
        ],
    )
    .await;
    let media = async |c: &mut Client, h: u32| -> SocketAddr {
        let info = c.line_get_call_info(h).await.unwrap();
        info["localMedia"].as_str().unwrap().parse().unwrap()
    };
    let a = media(&mut c, h_call).await;
    let b = media(&mut c, consult).await;
    let d = media(&mut c, third).await;
    // A speaks: B and the third party hear it, A does not hear itself; then the third party.
    let (heard, echoed) = heard_by(&socket, a, 0x80, &[b, d]).await;
    assert!(heard, "B and the third party hear A");
    assert_eq!(echoed, 0, "A does not hear itself (mix-minus)");
    let (heard, echoed) = heard_by(&socket, d, 0x90, &[a, b]).await;
    assert!(heard, "A and B hear the third party");
    assert_eq!(echoed, 0);
    let r = c.call("lineDrop", json!({"hCall": conf})).await.unwrap();
    assert_eq!(
        reply(&mut c, r["requestId"].as_u64().unwrap() as u32).await,
        0
    );
    state(&mut c, conf, LINECALLSTATE_IDLE).await;
    let run = tokio::task::spawn_blocking(move || sipp.wait())
        .await
        .unwrap();
    run.assert_success("provider (three-party conference)");
}

#[tokio::test(flavor = "multi_thread")]
async fn sipps_own_rfc2833_capture_of_a_digit_reaches_line_monitor_digits() {
    let files = tempfile::tempdir().unwrap();
    let (gw, _) = gateway(files.path());
    let (mut c, _, _) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    let media_port = free_port().to_string();
    let media = ["-mi", "127.0.0.1", "-mp", &media_port];
    let sipp = caller_with(&gw, "uac_media_pcap.xml", &media);
    let (h_call, _) = new_call(&mut c).await;
    let request = c.call_op("lineAnswer", h_call).await.unwrap();
    // Monitoring starts before SIPp can have the 200, so before it plays the capture.
    let modes = LINEDIGITMODE_DTMF | LINEDIGITMODE_DTMFEND;
    c.call(
        "lineMonitorDigits",
        json!({"hCall": h_call, "digitModes": modes}),
    )
    .await
    .unwrap();
    assert_eq!(reply(&mut c, request).await, 0);
    let digit = u32::from(b'1');
    wait_all(
        &mut c,
        vec![
            (LINE_MONITORDIGITS, h_call, digit, LINEDIGITMODE_DTMF),
            (LINE_MONITORDIGITS, h_call, digit, LINEDIGITMODE_DTMFEND),
        ],
    )
    .await;
    let drop = c.call_op("lineDrop", h_call).await.unwrap();
    assert_eq!(reply(&mut c, drop).await, 0);
    sipp.await
        .unwrap()
        .assert_success("caller playing dtmf_2833_1.pcap");
}
