//! The media engine on loopback against a test-side RTP peer: pacing and headers, RFC 4733
//! both ways, play, record, a three-party conference, RTCP. Every wait is bounded.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tapigw::media::dtmf::{DigitEvent, DigitReceiver, DigitSender};
use tapigw::media::rtp::{self, RtpHeader};
use tapigw::media::{g711, rtcp, wav};
use tapigw::media::{
    MediaCommand, MediaEngine, MediaEngineConfig, MediaEvent, MediaHandle, MediaSocket,
    StreamParams,
};
use tapigw::sdp::{Codec, Direction};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(5);

/// A test-side endpoint: RTP on an even port, RTCP on the next.
struct Peer {
    rtp: UdpSocket,
    rtcp: UdpSocket,
    seq: u16,
    ts: u32,
}

impl Peer {
    async fn new() -> Peer {
        let (rtp, rtcp) = pair();
        Peer {
            rtp: UdpSocket::from_std(rtp).unwrap(),
            rtcp: UdpSocket::from_std(rtcp).unwrap(),
            seq: 1,
            ts: 1000,
        }
    }

    fn addr(&self) -> SocketAddr {
        self.rtp.local_addr().unwrap()
    }

    async fn recv(&self) -> (RtpHeader, Vec<u8>, Instant) {
        let mut buf = [0u8; 1500];
        let (n, _) = timeout(WAIT, self.rtp.recv_from(&mut buf))
            .await
            .expect("RTP from the engine")
            .unwrap();
        let at = Instant::now();
        let (h, p) = rtp::parse(&buf[..n]).expect("valid RTP");
        (h, p.to_vec(), at)
    }

    async fn send(&mut self, to: SocketAddr, pt: u8, marker: bool, ts: u32, payload: &[u8]) {
        let h = RtpHeader {
            payload_type: pt,
            marker,
            sequence: self.seq,
            timestamp: ts,
            ssrc: 0x5EED,
        };
        self.seq = self.seq.wrapping_add(1);
        let mut buf = [0u8; 1500];
        let n = rtp::write(&h, payload, &mut buf).unwrap();
        self.rtp.send_to(&buf[..n], to).await.unwrap();
    }

    /// One 20 ms audio packet of `pcm`.
    async fn send_audio(&mut self, to: SocketAddr, pcm: &[i16]) {
        let mut payload = [0u8; 160];
        g711::encode(Codec::Pcmu, pcm, &mut payload);
        let ts = self.ts;
        self.ts = self.ts.wrapping_add(160);
        self.send(to, 0, false, ts, &payload).await;
    }
}

/// Two sockets on adjacent ports, even first.
fn pair() -> (std::net::UdpSocket, std::net::UdpSocket) {
    loop {
        let a = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = a.local_addr().unwrap().port();
        if port % 2 != 0 || port == u16::MAX {
            continue;
        }
        if let Ok(b) = std::net::UdpSocket::bind(("127.0.0.1", port + 1)) {
            a.set_nonblocking(true).unwrap();
            b.set_nonblocking(true).unwrap();
            return (a, b);
        }
    }
}

struct Engine {
    handle: MediaHandle,
    events: mpsc::Receiver<MediaEvent>,
}

impl Engine {
    fn start(shards: usize) -> Engine {
        let (tx, events) = mpsc::channel(1024);
        let handle = MediaEngine::start(
            MediaEngineConfig {
                shards,
                ..Default::default()
            },
            tx,
        );
        Engine { handle, events }
    }

    /// Opens call `call` towards `peer`; returns the engine's RTP address.
    fn open(&self, call: u64, peer: &Peer) -> SocketAddr {
        let (rtp, rtcp) = pair();
        let local = rtp.local_addr().unwrap();
        let (rtp, rtcp) = (
            MediaSocket::prepare(rtp).unwrap(),
            MediaSocket::prepare(rtcp).unwrap(),
        );
        let stream = StreamParams {
            remote: peer.addr(),
            codec: Codec::Pcmu,
            payload_type: 0,
            telephone_event: Some(101),
            direction: Direction::SendRecv,
        };
        self.handle
            .send(MediaCommand::Open {
                call,
                rtp,
                rtcp,
                stream,
            })
            .unwrap();
        local
    }

    async fn event(&mut self) -> MediaEvent {
        timeout(WAIT, self.events.recv())
            .await
            .expect("an event in time")
            .expect("engine running")
    }
}

fn decode(payload: &[u8]) -> Vec<i16> {
    let mut pcm = vec![0i16; payload.len()];
    g711::decode(Codec::Pcmu, payload, &mut pcm);
    pcm
}

/// What G.711 makes of `pcm`.
fn through_g711(pcm: &[i16]) -> Vec<i16> {
    let mut codes = vec![0u8; pcm.len()];
    g711::encode(Codec::Pcmu, pcm, &mut codes);
    decode(&codes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_20ms_packets_with_valid_headers() {
    let engine = Engine::start(2);
    let peer = Peer::new().await;
    engine.open(1, &peer);
    let mut packets = vec![];
    for _ in 0..51 {
        packets.push(peer.recv().await);
    }
    let (first, _, t_first) = &packets[0];
    assert!(first.marker, "the first packet starts a talkspurt");
    for (i, (h, p, _)) in packets.iter().enumerate() {
        assert_eq!(h.payload_type, 0);
        assert_eq!(h.ssrc, first.ssrc);
        assert_eq!(h.sequence, first.sequence.wrapping_add(i as u16));
        assert_eq!(h.timestamp, first.timestamp.wrapping_add(160 * i as u32));
        assert_eq!(p.len(), 160);
    }
    let span = packets[50].2 - *t_first;
    assert!(
        span > Duration::from_millis(900) && span < Duration::from_millis(1200),
        "50 intervals took {span:?}"
    );
    let counters = engine.handle.counters();
    assert_eq!(counters.sessions, 1);
    assert!(counters.sent >= 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_digits_reach_the_peer_as_rfc4733() {
    let mut engine = Engine::start(1);
    let peer = Peer::new().await;
    engine.open(2, &peer);
    peer.recv().await;
    engine
        .handle
        .send(MediaCommand::GenerateDigits {
            call: 2,
            digits: "4*".into(),
            duration_ms: 80,
        })
        .unwrap();
    let mut rx = DigitReceiver::new();
    let mut got = vec![];
    let deadline = Instant::now() + WAIT;
    while got.len() < 4 && Instant::now() < deadline {
        let (h, p, at) = peer.recv().await;
        if h.payload_type == 101 {
            rx.on_packet(h.timestamp, &p, at, &mut |e| got.push(e));
        }
    }
    assert_eq!(
        got,
        vec![
            DigitEvent::Start('4'),
            DigitEvent::End {
                digit: '4',
                duration_ms: 80
            },
            DigitEvent::Start('*'),
            DigitEvent::End {
                digit: '*',
                duration_ms: 80
            }
        ]
    );
    assert_eq!(
        engine.event().await,
        MediaEvent::GenerateDone {
            call: 2,
            cancelled: false
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digits_from_the_peer_become_events() {
    let mut engine = Engine::start(1);
    let mut peer = Peer::new().await;
    let to = engine.open(3, &peer);
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    let mut sender = DigitSender::new("7", 100, 0);
    let mut t = 0u64;
    while !sender.is_finished() {
        tick.tick().await;
        let mut event = false;
        while let Some(p) = sender.poll(t) {
            peer.send(
                to,
                101,
                p.marker,
                8000 + p.start as u32,
                &p.payload.to_bytes(),
            )
            .await;
            event = true;
        }
        if !event {
            peer.send(to, 0, false, 8000 + t as u32, &[0xFF; 160]).await;
        }
        t += 160;
    }
    assert_eq!(
        engine.event().await,
        MediaEvent::DigitStart {
            call: 3,
            digit: '7'
        }
    );
    assert_eq!(
        engine.event().await,
        MediaEvent::DigitEnd {
            call: 3,
            digit: '7',
            duration_ms: 100
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_played_wav_arrives_at_the_peer() {
    let mut engine = Engine::start(1);
    let peer = Peer::new().await;
    engine.open(4, &peer);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("prompt.wav");
    // 300 ms of a ramp-like pattern that is never silent.
    let samples: Vec<i16> = (0..2400).map(|i| 500 + ((i * 37) % 8000) as i16).collect();
    wav::write_pcm16(&file, &samples).unwrap();
    engine
        .handle
        .send(MediaCommand::Play {
            call: 4,
            op: 9,
            file,
            within: None,
            looped: false,
        })
        .unwrap();
    let mut heard = vec![];
    loop {
        let (_, p, _) = peer.recv().await;
        heard.extend(decode(&p));
        if heard.len() > 8000 * 2 {
            break;
        }
        if let Ok(ev) = engine.events.try_recv() {
            assert_eq!(
                ev,
                MediaEvent::PlayDone {
                    call: 4,
                    op: 9,
                    result: Ok(()),
                    stopped: false
                }
            );
            // The packets queued before the event are already here or on their way.
            for _ in 0..3 {
                heard.extend(decode(&peer.recv().await.1));
            }
            break;
        }
    }
    let start = heard
        .iter()
        .position(|&s| s != 0)
        .expect("the file was played");
    assert_eq!(
        heard[start..start + samples.len()],
        through_g711(&samples)[..],
        "sample for sample"
    );
    // A file that is not a WAV fails the play.
    let bad = dir.path().join("bad.wav");
    std::fs::write(&bad, b"not a wav").unwrap();
    engine
        .handle
        .send(MediaCommand::Play {
            call: 4,
            op: 10,
            file: bad,
            within: None,
            looped: false,
        })
        .unwrap();
    let MediaEvent::PlayDone {
        op: 10,
        result: Err(e),
        stopped: false,
        ..
    } = engine.event().await
    else {
        panic!("play of a bad file");
    };
    assert!(e.contains("not a WAV"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_whose_symlinks_leave_their_directory_are_refused_by_the_engine() {
    let mut engine = Engine::start(1);
    let peer = Peer::new().await;
    engine.open(5, &peer);
    let files = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    wav::write_pcm16(&outside.path().join("secret.wav"), &[1000; 800]).unwrap();
    std::os::unix::fs::symlink(outside.path(), files.path().join("out")).unwrap();
    let within = Some(files.path().to_path_buf());
    let play = MediaCommand::Play {
        call: 5,
        op: 1,
        file: files.path().join("out/secret.wav"),
        within: within.clone(),
        looped: false,
    };
    let record = MediaCommand::Record {
        call: 5,
        op: 2,
        file: files.path().join("out/new.wav"),
        within,
        max_ms: 100,
        silence_ms: None,
    };
    for (cmd, op) in [(play, 1), (record, 2)] {
        engine.handle.send(cmd).unwrap();
        let ev = tokio::time::timeout(Duration::from_secs(5), engine.events.recv())
            .await
            .expect("an answer within 5 s")
            .unwrap();
        assert!(
            matches!(&ev, MediaEvent::FileRefused { call: 5, op: o, reason } if *o == op && reason.contains("leaves")),
            "{ev:?}"
        );
    }
    assert!(!outside.path().join("new.wav").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_matches_what_the_peer_sent() {
    let mut engine = Engine::start(1);
    let mut peer = Peer::new().await;
    let to = engine.open(5, &peer);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("message.wav");
    engine
        .handle
        .send(MediaCommand::Record {
            call: 5,
            op: 1,
            file: file.clone(),
            within: None,
            max_ms: 400,
            silence_ms: None,
        })
        .unwrap();
    let sent: Vec<i16> = (0..8000)
        .map(|i| (((i * 13) % 4000) as i16 - 2000) * 4)
        .collect();
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    let mut done = None;
    for frame in sent.chunks(160) {
        tick.tick().await;
        peer.send_audio(to, frame).await;
        if let Ok(ev) = engine.events.try_recv() {
            done = Some(ev);
            break;
        }
    }
    let done = match done {
        Some(ev) => ev,
        None => engine.event().await,
    };
    assert_eq!(
        done,
        MediaEvent::RecordDone {
            call: 5,
            op: 1,
            result: Ok(400),
            stopped: false
        }
    );
    let recorded = wav::read(&file).unwrap();
    assert_eq!(recorded.len(), 3200);
    assert_eq!(recorded[..], through_g711(&sent[..3200])[..]);
    // Stopped by StopMedia.
    engine
        .handle
        .send(MediaCommand::Record {
            call: 5,
            op: 2,
            file,
            within: None,
            max_ms: 60_000,
            silence_ms: None,
        })
        .unwrap();
    peer.send_audio(to, &sent[..160]).await;
    engine
        .handle
        .send(MediaCommand::StopMedia { call: 5 })
        .unwrap();
    let MediaEvent::RecordDone {
        op: 2,
        result: Ok(_),
        stopped: true,
        ..
    } = engine.event().await
    else {
        panic!("record stopped");
    };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_conference_party_hears_the_other_two() {
    // Two shards: the conference moves its members onto one.
    let engine = Engine::start(2);
    let levels = [1000i16, 2000, 4000];
    let mut peers = vec![];
    let mut targets = vec![];
    for call in 0..3u64 {
        let peer = Peer::new().await;
        targets.push(engine.open(10 + call, &peer));
        peers.push(peer);
    }
    engine
        .handle
        .send(MediaCommand::Conference {
            conf: 1,
            members: vec![10, 11, 12],
        })
        .unwrap();
    // Each peer talks at its own constant level for 1.5 s, from the socket it listens on.
    let sockets: Vec<Arc<UdpSocket>> = peers.into_iter().map(|p| Arc::new(p.rtp)).collect();
    let mut talkers = vec![];
    for (i, socket) in sockets.iter().enumerate() {
        let (socket, to, level) = (socket.clone(), targets[i], levels[i]);
        talkers.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            let mut payload = [0u8; 160];
            g711::encode(Codec::Pcmu, &[level; 160], &mut payload);
            let mut buf = [0u8; 200];
            for k in 0..75u16 {
                tick.tick().await;
                let h = RtpHeader {
                    payload_type: 0,
                    marker: k == 0,
                    sequence: k,
                    timestamp: u32::from(k) * 160,
                    ssrc: 77 + i as u32,
                };
                let n = rtp::write(&h, &payload, &mut buf).unwrap();
                socket.send_to(&buf[..n], to).await.unwrap();
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    let mut listeners = vec![];
    for socket in &sockets {
        let socket = socket.clone();
        // Each listener keeps the middle sample of the packets of the next 400 ms.
        listeners.push(tokio::spawn(async move {
            let mut values = vec![];
            let end = Instant::now() + Duration::from_millis(400);
            let mut buf = [0u8; 1500];
            while Instant::now() < end {
                let Ok(Ok((n, _))) =
                    timeout(Duration::from_millis(100), socket.recv_from(&mut buf)).await
                else {
                    break;
                };
                let (_, payload) = rtp::parse(&buf[..n]).unwrap();
                values.push(decode(payload)[80]);
            }
            values
        }));
    }
    for (i, l) in listeners.into_iter().enumerate() {
        let values = l.await.unwrap();
        let expect: i32 = levels
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, l)| i32::from(*l))
            .sum();
        let recent = &values[values.len().saturating_sub(15)..];
        let hits = recent
            .iter()
            .filter(|&&v| (i32::from(v) - expect).abs() <= expect / 20)
            .count();
        assert!(hits >= 12, "party {i} expected ~{expect}, heard {values:?}");
    }
    for t in talkers {
        t.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rtcp_sender_reports_and_bye() {
    let engine = Engine::start(1);
    let mut peer = Peer::new().await;
    let to = engine.open(20, &peer);
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    let mut report = None;
    let deadline = Instant::now() + Duration::from_secs(6);
    let mut buf = [0u8; 1500];
    while report.is_none() && Instant::now() < deadline {
        tick.tick().await;
        peer.send_audio(to, &[0; 160]).await;
        if let Ok((n, _)) = peer.rtcp.try_recv_from(&mut buf) {
            report = Some(buf[..n].to_vec());
        }
    }
    let report = report.expect("an RTCP report within 3.75 s");
    let summary = rtcp::parse_compound(&report, 0x5EED).unwrap();
    let (_, info) = summary.sender.expect("an SR: the engine sends audio");
    assert!(info.packets >= 50, "{info:?}");
    let block = summary
        .about_us
        .expect("a report block about the peer's stream");
    assert!(block.extended_max > 50);
    assert_eq!(block.cumulative_lost, 0);
    assert!(report.windows(7).any(|w| w == b"@tapigw"), "SDES CNAME");
    engine
        .handle
        .send(MediaCommand::Close { call: 20 })
        .unwrap();
    let bye = loop {
        let (n, _) = timeout(WAIT, peer.rtcp.recv_from(&mut buf))
            .await
            .expect("BYE")
            .unwrap();
        let s = rtcp::parse_compound(&buf[..n], 0x5EED).unwrap();
        if s.bye {
            break s;
        }
    };
    assert!(bye.bye);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hold_stops_sending_and_the_call_end_stops_play_and_record() {
    let mut engine = Engine::start(1);
    let mut peer = Peer::new().await;
    let to = engine.open(30, &peer);
    let first = peer.recv().await.0;
    // Hold (the peer put us on recvonly): no RTP for 200 ms.
    let mut stream = StreamParams {
        remote: peer.addr(),
        codec: Codec::Pcmu,
        payload_type: 0,
        telephone_event: Some(101),
        direction: Direction::RecvOnly,
    };
    engine
        .handle
        .send(MediaCommand::Update { call: 30, stream })
        .unwrap();
    // Packets already queued may still come; then silence.
    let quiet = async {
        let mut buf = [0u8; 1500];
        loop {
            match timeout(Duration::from_millis(200), peer.rtp.recv_from(&mut buf)).await {
                Err(_) => break true,
                Ok(Ok((n, _))) if rtp::parse(&buf[..n]).is_ok() => continue,
                Ok(_) => break false,
            }
        }
    };
    assert!(
        timeout(Duration::from_secs(3), quiet).await.unwrap(),
        "no RTP while on hold"
    );
    // Resume: packets again, same SSRC, a talkspurt starts.
    stream.direction = Direction::SendRecv;
    engine
        .handle
        .send(MediaCommand::Update { call: 30, stream })
        .unwrap();
    let (h, _, _) = peer.recv().await;
    assert_eq!(h.ssrc, first.ssrc);
    assert!(h.marker);
    // Play and record, then the call ends: both report stopped, the recording is written.
    let dir = tempfile::tempdir().unwrap();
    let prompt = dir.path().join("loop.wav");
    wav::write_pcm16(&prompt, &[1000; 800]).unwrap();
    let message = dir.path().join("msg.wav");
    engine
        .handle
        .send(MediaCommand::Play {
            call: 30,
            op: 1,
            file: prompt,
            within: None,
            looped: true,
        })
        .unwrap();
    engine
        .handle
        .send(MediaCommand::Record {
            call: 30,
            op: 2,
            file: message.clone(),
            within: None,
            max_ms: 60_000,
            silence_ms: None,
        })
        .unwrap();
    for _ in 0..10 {
        peer.send_audio(to, &[3000; 160]).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    engine
        .handle
        .send(MediaCommand::Close { call: 30 })
        .unwrap();
    let mut seen = [engine.event().await, engine.event().await];
    seen.sort_by_key(|e| matches!(e, MediaEvent::RecordDone { .. }));
    assert_eq!(
        seen[0],
        MediaEvent::PlayDone {
            call: 30,
            op: 1,
            result: Ok(()),
            stopped: true
        }
    );
    let MediaEvent::RecordDone {
        call: 30,
        op: 2,
        result: Ok(ms),
        stopped: true,
    } = seen[1]
    else {
        panic!("{:?}", seen[1]);
    };
    assert!(ms >= 100, "{ms} ms recorded");
    assert_eq!(wav::read(&message).unwrap().len() as u32, ms * 8);
    assert_eq!(engine.handle.counters().sessions, 0);
}
