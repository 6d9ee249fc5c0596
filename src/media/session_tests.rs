//! Tests of the media session with a fake clock.

use super::*;
use crate::media::dtmf::{DigitReceiver, EventPayload};
use crate::media::rtp::RtpHeader;

const PEER: &str = "10.0.0.2:4000";

fn params(direction: Direction) -> StreamParams {
    StreamParams {
        remote: PEER.parse().unwrap(),
        codec: Codec::Pcmu,
        payload_type: 0,
        telephone_event: Some(101),
        direction,
    }
}

fn session(direction: Direction) -> (MediaSession, Instant) {
    let t0 = Instant::now();
    let mut rng = SmallRng::seed_from_u64(7);
    (
        MediaSession::new(params(direction), t0, SystemTime::now(), &mut rng),
        t0,
    )
}

fn ms(t0: Instant, ms: u64) -> Instant {
    t0 + Duration::from_millis(ms)
}

#[derive(Debug)]
struct Sent {
    socket: Socket,
    to: SocketAddr,
    bytes: Vec<u8>,
}

fn drain(s: &mut MediaSession) -> Vec<Sent> {
    let mut out = vec![];
    s.drain_transmits(|socket, to, b| {
        out.push(Sent {
            socket,
            to,
            bytes: b.to_vec(),
        })
    });
    out
}

fn rtp_of(sent: &[Sent]) -> Vec<(RtpHeader, Vec<u8>)> {
    sent.iter()
        .filter(|s| s.socket == Socket::Rtp)
        .map(|s| {
            let (h, p) = rtp::parse(&s.bytes).unwrap();
            (h, p.to_vec())
        })
        .collect()
}

fn events(s: &mut MediaSession) -> Vec<SessionEvent> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

/// Runs the session with ticks every 20 ms from `from` to `to` ms, collecting what it sends.
fn run(s: &mut MediaSession, t0: Instant, from: u64, to: u64) -> Vec<Sent> {
    let mut out = vec![];
    let mut t = from;
    while t < to {
        s.handle_tick(ms(t0, t));
        out.extend(drain(s));
        t += 20;
    }
    out
}

fn peer_packet(seq: u16, ts: u32, pt: u8, marker: bool, payload: &[u8]) -> Vec<u8> {
    let h = RtpHeader {
        payload_type: pt,
        marker,
        sequence: seq,
        timestamp: ts,
        ssrc: 0xABCD,
    };
    let mut buf = [0u8; MAX_PACKET];
    let n = rtp::write(&h, payload, &mut buf).unwrap();
    buf[..n].to_vec()
}

#[test]
fn sends_one_packet_per_20ms_slot_with_rfc3550_headers() {
    let (mut s, t0) = session(Direction::SendRecv);
    let sent = run(&mut s, t0, 0, 100);
    let pkts = rtp_of(&sent);
    assert_eq!(pkts.len(), 5, "slots 0..=4");
    for (i, (h, p)) in pkts.iter().enumerate() {
        assert_eq!(h.payload_type, 0);
        assert_eq!(h.ssrc, s.ssrc());
        assert_eq!(h.sequence, pkts[0].0.sequence.wrapping_add(i as u16));
        assert_eq!(
            h.timestamp,
            pkts[0].0.timestamp.wrapping_add(160 * i as u32)
        );
        assert_eq!(h.marker, i == 0, "marker on the talkspurt's first packet");
        assert_eq!(p, &vec![0xFF; 160], "µ-law silence");
    }
    assert!(sent.iter().all(|p| p.to == PEER.parse().unwrap()));
    // A tick 10 ms into a slot sends nothing new; the next slot goes at its time.
    s.handle_tick(ms(t0, 90));
    assert!(drain(&mut s).is_empty());
    s.handle_tick(ms(t0, 100));
    assert_eq!(rtp_of(&drain(&mut s)).len(), 1);
}

#[test]
fn late_ticks_catch_up_then_skip_keeping_the_media_clock() {
    let (mut s, t0) = session(Direction::SendRecv);
    let first = rtp_of(&run(&mut s, t0, 0, 20))[0].0;
    // 50 ms late: slots 1, 2, 3 at once.
    s.handle_tick(ms(t0, 60));
    assert_eq!(rtp_of(&drain(&mut s)).len(), 3);
    // 200 ms late: only the last three slots, timestamps where the clock says.
    s.handle_tick(ms(t0, 260));
    let pkts = rtp_of(&drain(&mut s));
    assert_eq!(pkts.len(), 3);
    assert_eq!(pkts[0].0.timestamp, first.timestamp.wrapping_add(11 * 160));
    assert_eq!(
        pkts[0].0.sequence,
        first.sequence.wrapping_add(4),
        "no sequence gap"
    );
    assert!(pkts[0].0.marker);
}

#[test]
fn recvonly_and_inactive_send_no_rtp_but_rtcp() {
    for d in [Direction::RecvOnly, Direction::Inactive] {
        let (mut s, t0) = session(d);
        let sent = run(&mut s, t0, 0, 4000);
        assert!(rtp_of(&sent).is_empty(), "{d:?}");
        let rtcp: Vec<_> = sent.iter().filter(|p| p.socket == Socket::Rtcp).collect();
        assert_eq!(rtcp.len(), 1, "the first report within 3.75 s");
        assert_eq!(rtcp[0].to, "10.0.0.2:4001".parse().unwrap());
        assert_eq!(rtcp[0].bytes[1], rtcp::PT_RR, "RR: we sent nothing");
    }
}

#[test]
fn generated_digits_are_rfc4733_and_hold_audio_back() {
    let (mut s, t0) = session(Direction::SendRecv);
    run(&mut s, t0, 0, 40);
    s.generate_digits("1#", 100, ms(t0, 40));
    let sent = run(&mut s, t0, 40, 1000);
    let pkts = rtp_of(&sent);
    let mut rx = DigitReceiver::new();
    let mut got = vec![];
    for (h, p) in &pkts {
        if h.payload_type == 101 {
            rx.on_packet(h.timestamp, p, t0, &mut |e| got.push(e));
        }
    }
    use crate::media::dtmf::DigitEvent::*;
    assert_eq!(
        got,
        vec![
            Start('1'),
            End {
                digit: '1',
                duration_ms: 100
            },
            Start('#'),
            End {
                digit: '#',
                duration_ms: 100
            }
        ]
    );
    // Sequence numbers run on without gaps across audio and events.
    for w in pkts.windows(2) {
        assert_eq!(w[1].0.sequence, w[0].0.sequence.wrapping_add(1));
    }
    // Digit '1': starts at 40 ms; 5 tone slots + 3 end packets; no audio in between.
    let first_event = pkts
        .iter()
        .position(|(h, _)| h.payload_type == 101)
        .unwrap();
    assert!(pkts[first_event].0.marker);
    let audio_ts: Vec<u32> = pkts
        .iter()
        .filter(|(h, _)| h.payload_type == 0)
        .map(|(h, _)| h.timestamp)
        .collect();
    let event_ts = pkts[first_event].0.timestamp;
    assert!(
        !audio_ts.iter().any(|&t| t > event_ts && t < event_ts + 800),
        "audio held back during the tone"
    );
    let ends = pkts
        .iter()
        .filter(|(h, p)| h.timestamp == event_ts && h.payload_type == 101 && p[1] & 0x80 != 0)
        .count();
    assert_eq!(ends, 3);
    assert_eq!(
        events(&mut s),
        vec![SessionEvent::GenerateDone { cancelled: false }]
    );
}

#[test]
fn cancelling_digits_reports_and_finishes_the_event() {
    let (mut s, t0) = session(Direction::SendRecv);
    s.generate_digits("123", 200, t0);
    run(&mut s, t0, 0, 60);
    s.cancel_generate(ms(t0, 60));
    assert_eq!(
        events(&mut s),
        vec![SessionEvent::GenerateDone { cancelled: true }]
    );
    let pkts = rtp_of(&run(&mut s, t0, 60, 2000));
    let ends = pkts
        .iter()
        .filter(|(h, p)| h.payload_type == 101 && p[1] & 0x80 != 0)
        .count();
    assert_eq!(ends, 3, "the current digit ends properly");
    assert!(
        pkts.iter()
            .filter(|(h, _)| h.payload_type == 101)
            .all(|(_, p)| p[0] == 1),
        "no further digits"
    );
    assert!(events(&mut s).is_empty());
    // Without telephone-event: cancelled at once (the core uses SIP INFO).
    let mut p = params(Direction::SendRecv);
    p.telephone_event = None;
    s.update(p);
    s.generate_digits("5", 100, ms(t0, 2000));
    assert_eq!(
        events(&mut s),
        vec![SessionEvent::GenerateDone { cancelled: true }]
    );
}

#[test]
fn received_digits_become_events_once() {
    let (mut s, t0) = session(Direction::SendRecv);
    let from: SocketAddr = PEER.parse().unwrap();
    let ev = |end, d| {
        EventPayload {
            event: 9,
            end,
            volume: 10,
            duration: d,
        }
        .to_bytes()
    };
    // Start packet lost; update, then the three end packets.
    s.handle_rtp(
        &peer_packet(10, 8000, 101, false, &ev(false, 400)),
        from,
        t0,
    );
    for i in 0..3 {
        s.handle_rtp(
            &peer_packet(11 + i, 8000, 101, false, &ev(true, 800)),
            from,
            ms(t0, 20 * u64::from(i)),
        );
    }
    assert_eq!(
        events(&mut s),
        vec![
            SessionEvent::DigitStart('9'),
            SessionEvent::DigitEnd {
                digit: '9',
                duration_ms: 100
            }
        ]
    );
    // Inactive: digits are not detected.
    s.update(params(Direction::Inactive));
    s.handle_rtp(&peer_packet(14, 9600, 101, true, &ev(false, 160)), from, t0);
    assert!(events(&mut s).is_empty());
}

#[test]
fn plays_samples_then_reports_and_loops_until_stopped() {
    let (mut s, t0) = session(Direction::SendRecv);
    s.play_requested(5, false);
    run(&mut s, t0, 0, 40);
    let samples: Arc<[i16]> = (0..400).map(|i| (i * 50) as i16).collect::<Vec<_>>().into();
    s.play_loaded(5, Ok(samples.clone()));
    let pkts = rtp_of(&run(&mut s, t0, 40, 200));
    let mut heard = vec![];
    for (_, p) in &pkts {
        let mut pcm = [0i16; 160];
        g711::decode(Codec::Pcmu, p, &mut pcm);
        heard.extend_from_slice(&pcm);
    }
    let start = heard.iter().position(|&x| x != 0).unwrap() - 1;
    for (i, &x) in samples.iter().enumerate() {
        let y = heard[start + i];
        assert!(
            (i32::from(x) - i32::from(y)).abs() <= i32::from(x).abs() / 16 + 8,
            "sample {i}: {x} vs {y}"
        );
    }
    assert_eq!(
        events(&mut s),
        vec![SessionEvent::PlayDone {
            op: 5,
            result: Ok(()),
            stopped: false
        }]
    );
    // Looped: goes on until mediaStop.
    s.play_requested(6, true);
    s.play_loaded(6, Ok(samples));
    run(&mut s, t0, 200, 1000);
    assert!(events(&mut s).is_empty());
    s.stop_media();
    assert_eq!(
        events(&mut s),
        vec![SessionEvent::PlayDone {
            op: 6,
            result: Ok(()),
            stopped: true
        }]
    );
    // A load failure and a stale load.
    s.play_requested(7, false);
    s.play_loaded(99, Err("x".into()));
    s.play_loaded(7, Err("bad file".into()));
    assert_eq!(
        events(&mut s),
        vec![SessionEvent::PlayDone {
            op: 7,
            result: Err("bad file".into()),
            stopped: false
        }]
    );
}

#[test]
fn records_what_the_peer_sends_until_max_ms() {
    let (mut s, t0) = session(Direction::SendRecv);
    let from: SocketAddr = PEER.parse().unwrap();
    s.record(3, "/tmp/x.wav".into(), 100, None, t0);
    let mut expect = vec![];
    for i in 0..8u16 {
        let pcm: Vec<i16> = (0..160)
            .map(|k| ((k + i * 160) as i16 % 300) * 40)
            .collect();
        let mut payload = [0u8; 160];
        g711::encode(Codec::Pcmu, &pcm, &mut payload);
        let mut back = [0i16; 160];
        g711::decode(Codec::Pcmu, &payload, &mut back);
        expect.extend_from_slice(&back);
        s.handle_rtp(
            &peer_packet(i, 1000 + u32::from(i) * 160, 0, i == 0, &payload),
            from,
            ms(t0, 20 * u64::from(i)),
        );
        s.handle_tick(ms(t0, 20 * u64::from(i)));
    }
    let ev = events(&mut s);
    let [SessionEvent::RecordFinished {
        op: 3,
        samples,
        stopped: false,
        file,
    }] = &ev[..]
    else {
        panic!("{ev:?}");
    };
    assert_eq!(file, &PathBuf::from("/tmp/x.wav"));
    assert_eq!(samples.len(), 800);
    assert_eq!(samples[..], expect[..800]);
}

#[test]
fn latches_onto_the_peer_source_and_resists_strays() {
    let (mut s, t0) = session(Direction::SendRecv);
    let nat: SocketAddr = "198.51.100.7:30000".parse().unwrap();
    let stray: SocketAddr = "203.0.113.9:5000".parse().unwrap();
    s.handle_rtp(&peer_packet(1, 0, 0, true, &[0xFF; 160]), nat, t0);
    assert_eq!(s.destinations().0, nat, "first packet latches");
    for i in 0..(RELATCH_PACKETS - 1) {
        s.handle_rtp(
            &peer_packet(50 + i as u16, 0, 0, false, &[0xFF; 160]),
            stray,
            t0,
        );
    }
    assert_eq!(s.destinations().0, nat);
    assert_eq!(s.stats().dropped, RELATCH_PACKETS - 1);
    s.handle_rtp(&peer_packet(60, 0, 0, false, &[0xFF; 160]), stray, t0);
    assert_eq!(
        s.destinations().0,
        stray,
        "a persistent new source takes over"
    );
    // A payload type not negotiated never latches.
    let mut s2 = session(Direction::SendRecv).0;
    s2.handle_rtp(&peer_packet(1, 0, 18, false, &[0; 20]), nat, t0);
    assert_eq!(s2.destinations().0, PEER.parse().unwrap());
    // Sent packets follow the latch.
    let sent = run(&mut s, t0, 0, 20);
    assert_eq!(sent[0].to, stray);
    // An update to a new SDP address starts over.
    let mut p = params(Direction::SendRecv);
    p.remote = "10.0.0.3:6000".parse().unwrap();
    s.update(p);
    assert_eq!(
        s.destinations(),
        (p.remote, "10.0.0.3:6001".parse().unwrap())
    );
}

#[test]
fn rtcp_sender_reports_carry_counts_and_report_blocks() {
    let (mut s, t0) = session(Direction::SendRecv);
    let from: SocketAddr = PEER.parse().unwrap();
    let mut reports = vec![];
    for i in 0..600u64 {
        let now = ms(t0, i * 20);
        s.handle_rtp(
            &peer_packet(i as u16, (i * 160) as u32, 0, i == 0, &[0xFF; 160]),
            from,
            now,
        );
        if i == 100 {
            // The peer's SR: its LSR comes back in our next report.
            let mut buf = [0u8; 200];
            let mut w = CompoundWriter::new(&mut buf);
            let info = SenderInfo {
                ntp: 0x0001_2345_6789_0000,
                ..Default::default()
            };
            w.sender_report(0xABCD, &info, None).unwrap();
            let n = w.len();
            s.handle_rtcp(&buf[..n], "10.0.0.2:4001".parse().unwrap(), now);
        }
        s.handle_tick(now);
        reports.extend(
            drain(&mut s)
                .into_iter()
                .filter(|p| p.socket == Socket::Rtcp),
        );
    }
    assert!(reports.len() >= 2, "12 s: at least two reports");
    let peer = parse_ours(&reports[reports.len() - 1].bytes, &s);
    let (ssrc, info) = peer.sender.expect("an SR: we send");
    assert_eq!(ssrc, s.ssrc());
    assert!(info.packets > 100 && info.octets == info.packets * 160);
    let block = peer.about_us.expect("a block about the peer's stream");
    assert_eq!(block.cumulative_lost, 0);
    assert_eq!(block.lsr, 0x2345_6789);
    assert!(block.dlsr > 0);
    assert!(s.stats().received.received >= 590);
}

/// Parses our compound as the peer would (its "our SSRC" is the peer's 0xABCD).
fn parse_ours(bytes: &[u8], _s: &MediaSession) -> rtcp::RtcpSummary {
    rtcp::parse_compound(bytes, 0xABCD).unwrap()
}

#[test]
fn tones_play_and_finish() {
    let (mut s, t0) = session(Direction::SendRecv);
    s.generate_tone(Tone::Beep, 100, t0);
    let pkts = rtp_of(&run(&mut s, t0, 0, 200));
    let loud = pkts
        .iter()
        .filter(|(_, p)| p.iter().any(|&c| c != 0xFF && c != 0x7F))
        .count();
    assert_eq!(loud, 5, "100 ms of tone");
    assert_eq!(
        events(&mut s),
        vec![SessionEvent::GenerateDone { cancelled: false }]
    );
    s.generate_tone(Tone::Ringback, 0, t0);
    s.generate_tone(Tone::Busy, 0, t0);
    assert_eq!(
        events(&mut s),
        vec![SessionEvent::GenerateDone { cancelled: true }]
    );
}

#[test]
fn update_changes_codec_and_close_says_bye() {
    let (mut s, t0) = session(Direction::SendRecv);
    let a = rtp_of(&run(&mut s, t0, 0, 20))[0].0;
    let mut p = params(Direction::SendRecv);
    p.codec = Codec::Pcma;
    p.payload_type = 8;
    s.update(p);
    let b = rtp_of(&run(&mut s, t0, 20, 40))[0].clone();
    assert_eq!((b.0.payload_type, b.0.ssrc), (8, a.ssrc));
    assert_eq!(b.1, vec![0xD5; 160]);
    s.play_requested(1, false);
    s.record(2, "/tmp/r.wav".into(), 1000, None, t0);
    s.generate_tone(Tone::Busy, 0, t0);
    s.close(ms(t0, 40));
    let ev = events(&mut s);
    assert!(ev.contains(&SessionEvent::GenerateDone { cancelled: true }));
    assert!(ev.contains(&SessionEvent::PlayDone {
        op: 1,
        result: Ok(()),
        stopped: true
    }));
    assert!(ev.iter().any(|e| matches!(
        e,
        SessionEvent::RecordFinished {
            op: 2,
            stopped: true,
            ..
        }
    )));
    let sent = drain(&mut s);
    let summary = rtcp::parse_compound(&sent.last().unwrap().bytes, 0).unwrap();
    assert!(summary.bye);
    s.handle_tick(ms(t0, 100));
    assert!(drain(&mut s).is_empty(), "nothing after close");
}

#[test]
fn a_session_that_never_sent_closes_without_bye() {
    // RFC 3550 §6.3.7: no RTP or RTCP sent yet, so no BYE either.
    let (mut s, t0) = session(Direction::SendRecv);
    s.close(t0);
    assert!(drain(&mut s).is_empty(), "nothing sent before close");
    // Once it has sent one RTP packet, close owes the BYE.
    let (mut s, t0) = session(Direction::SendRecv);
    assert_eq!(rtp_of(&run(&mut s, t0, 0, 20)).len(), 1);
    s.close(ms(t0, 20));
    let sent = drain(&mut s);
    let summary = rtcp::parse_compound(&sent.last().unwrap().bytes, 0).unwrap();
    assert!(summary.bye);
}

#[test]
fn mutated_datagrams_never_panic() {
    let (mut s, t0) = session(Direction::SendRecv);
    s.record(1, "/tmp/f.wav".into(), 1000, Some(100), t0);
    s.set_conference(Some(1));
    let from: SocketAddr = PEER.parse().unwrap();
    let mut rng = SmallRng::seed_from_u64(99);
    let ev = EventPayload {
        event: 3,
        end: false,
        volume: 10,
        duration: 400,
    }
    .to_bytes();
    let bases = [
        peer_packet(1, 2, 0, true, &[0x55; 160]),
        peer_packet(2, 3, 101, true, &ev),
    ];
    for i in 0..20000u64 {
        let mut p = bases[(i % 2) as usize].clone();
        for _ in 0..rng.random_range(0..5) {
            let k = rng.random_range(0..p.len());
            p[k] = rng.random();
        }
        p.truncate(rng.random_range(0..=p.len()));
        let now = ms(t0, i);
        s.handle_rtp(&p, from, now);
        s.handle_rtcp(&p, from, now);
        if i % 20 == 0 {
            s.handle_tick(now);
            drain(&mut s);
            let mut f = [0i16; 160];
            s.take_heard(&mut f);
        }
    }
}

#[test]
fn a_shifted_clock_keeps_timestamps_and_sequence_running() {
    let (mut s, t0) = session(Direction::SendRecv);
    let before = rtp_of(&run(&mut s, t0, 0, 100));
    // Moved to a shard ticking 7 ms later: the media clock starts 7 ms later too.
    s.shift_clock(ms(t0, 7));
    let after = rtp_of(&run(&mut s, t0, 107, 207));
    let (last, next) = (&before[before.len() - 1].0, &after[0].0);
    assert_eq!(next.sequence, last.sequence.wrapping_add(1));
    assert_eq!(next.timestamp, last.timestamp.wrapping_add(160));
    assert_eq!(after.len(), 5, "one packet per tick on the new phase");
    assert_eq!(s.clock_start(), ms(t0, 7));
}

#[test]
fn a_dynamic_payload_type_is_sent_and_only_it_is_taken_as_audio() {
    let t0 = Instant::now();
    let mut rng = SmallRng::seed_from_u64(7);
    let p = StreamParams {
        payload_type: 96,
        ..params(Direction::SendRecv)
    };
    let mut s = MediaSession::new(p, t0, SystemTime::now(), &mut rng);
    let sent = rtp_of(&run(&mut s, t0, 0, 40));
    assert!(!sent.is_empty());
    assert!(
        sent.iter().all(|(h, _)| h.payload_type == 96),
        "the negotiated number"
    );
    // PCMU's static 0 is not this stream's audio: dropped, not recorded.
    s.record(1, "/tmp/y.wav".into(), 40, None, ms(t0, 40));
    let from: SocketAddr = PEER.parse().unwrap();
    let loud = [0x80u8; 160];
    s.handle_rtp(&peer_packet(1, 160, 0, true, &loud), from, ms(t0, 40));
    assert_eq!(s.stats().dropped, 1);
    s.handle_rtp(&peer_packet(2, 320, 96, false, &loud), from, ms(t0, 60));
    s.handle_tick(ms(t0, 60));
    s.handle_rtp(&peer_packet(3, 480, 96, false, &loud), from, ms(t0, 80));
    s.handle_tick(ms(t0, 80));
    s.handle_tick(ms(t0, 100));
    let ev = events(&mut s);
    let recorded = ev.iter().find_map(|e| match e {
        SessionEvent::RecordFinished { samples, .. } => Some(samples.clone()),
        _ => None,
    });
    let samples = recorded.expect("the recording ended at max_ms");
    assert!(samples.contains(&32124), "PT 96 audio recorded");
}
