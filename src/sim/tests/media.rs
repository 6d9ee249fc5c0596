//! Digits, tones and media files in virtual time: the media session the engine is told about
//! (opened on answer with the negotiated payload type, updated on hold, closed at the end), the
//! routing of LINE_MONITORDIGITS / LINE_GATHERDIGITS / LINE_GENERATE to the asking app only,
//! every lineGatherDigits ending with the fake clock, SIP INFO DTMF both ways, and play/record
//! completions. There is no engine here: the tests read the commands and answer as it would.

use std::time::Duration;

use super::*;
use crate::media::{MediaCommand, MediaEvent};
use crate::sdp::{Codec, Direction};
use crate::sim::PROVIDER;
use crate::sip::message::Request;
use crate::tapi::*;

/// PCMU as dynamic payload type 96 and telephone-event 101, receiving on port 6000.
const DYNAMIC_PT_SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 96 101\r\na=rtpmap:96 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n";
/// PCMU without telephone-event: digits must go out as SIP INFO.
const NO_EVENTS_SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

struct Answered {
    caller: SipPeer,
    invite: Request,
    ok: Response,
    call: HCall,
    /// The gateway's call ID as the engine knows it.
    engine_call: u64,
}

/// An inbound call with `sdp`, answered by `owner` and ACKed; its LINE_ messages taken.
fn answered(sim: &mut Sim, owner: &App, sdp: &str) -> Answered {
    let gw = sim.gateway_addr();
    let mut caller = sim.peer(PROVIDER);
    let invite = caller.invite(gw, "1001", Some(sdp));
    sim.deliver(caller.at(), invite.clone());
    let call = HCall(sim.messages(owner.conn)[0].dw_param2);
    assert!(sim.take_media().is_empty(), "no media before the answer");
    call_fn(sim, owner, Fn::LineAnswer { call });
    let ok = response_with(&sim.take_sip(caller.addr), 200);
    let ack = caller.in_our_dialog(&invite, &ok, Method::Ack, 1);
    sim.deliver(caller.at(), ack);
    sim.messages(owner.conn);
    let engine_call = match sim.media.first() {
        Some(MediaCommand::Open { call, .. }) => *call,
        _ => 0,
    };
    Answered {
        caller,
        invite,
        ok,
        call,
        engine_call,
    }
}

fn digit(sim: &mut Sim, call: u64, c: char) {
    sim.media_event(MediaEvent::DigitStart { call, digit: c });
    sim.media_event(MediaEvent::DigitEnd {
        call,
        digit: c,
        duration_ms: 100,
    });
}

fn monitor(sim: &mut Sim, app: &App, call: HCall, digit_modes: u32) {
    let r = sim.call(app.conn, Fn::LineMonitorDigits { call, digit_modes });
    assert_eq!(r, Ok(Answer::Empty));
}

fn gather(sim: &mut Sim, app: &App, call: HCall, num_digits: u32) {
    let r = sim.call(
        app.conn,
        Fn::LineGatherDigits {
            call,
            digit_modes: LINEDIGITMODE_DTMF,
            num_digits,
            term_digits: "#".into(),
            first_timeout: 5000,
            inter_timeout: 2000,
        },
    );
    assert_eq!(r, Ok(Answer::Empty));
}

/// (hCall, LINEGATHERTERM_, digits) of each LINE_GATHERDIGITS.
fn gathered(messages: &[LineMessage]) -> Vec<(u32, u32, String)> {
    messages
        .iter()
        .filter(|m| m.dw_message_id == LINE_GATHERDIGITS)
        .map(|m| (m.h_device, m.dw_param1, m.digits.as_str().to_string()))
        .collect()
}

fn generate(
    sim: &mut Sim,
    app: &App,
    call: HCall,
    digits: &str,
) -> Result<Answer, crate::tapi::TapiErr> {
    sim.call(
        app.conn,
        Fn::LineGenerateDigits {
            call,
            digit_mode: LINEDIGITMODE_DTMF,
            digits: digits.into(),
            duration: 0,
        },
    )
}

fn info(a: &mut Answered, seq: u32, content_type: &str, body: &str) -> Request {
    let mut info = a.caller.in_our_dialog(&a.invite, &a.ok, Method::Info, seq);
    info.headers.content_type = Some(content_type.into());
    info.body = body.as_bytes().to_vec();
    info
}

#[test]
fn the_session_opens_on_answer_with_the_negotiated_payload_type_follows_hold_and_closes() {
    let mut sim = Sim::one_line_with_media("");
    let owner = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let mut a = answered(&mut sim, &owner, DYNAMIC_PT_SDP);
    let opened = sim.take_media();
    let [MediaCommand::Open { stream, rtp, .. }] = opened.as_slice() else {
        panic!("one Open expected: {opened:?}");
    };
    assert_eq!(stream.payload_type, 96, "the offered number, not PCMU's 0");
    assert_eq!(stream.codec, Codec::Pcmu);
    assert_eq!(stream.telephone_event, Some(101));
    assert_eq!(stream.direction, Direction::SendRecv);
    assert_eq!(stream.remote, "127.0.0.1:6000".parse().unwrap());
    let local = call_info(&mut sim, &owner, a.call).local_media.unwrap();
    assert_eq!(
        rtp.local_addr().unwrap().to_string(),
        local,
        "the leased socket"
    );

    // The peer holds us (sendonly): we only receive.
    let held = DYNAMIC_PT_SDP.replace("0-15\r\n", "0-15\r\na=sendonly\r\n");
    let mut reinvite = a.caller.in_our_dialog(&a.invite, &a.ok, Method::Invite, 2);
    reinvite.headers.content_type = Some("application/sdp".into());
    reinvite.body = held.replace("1 1 IN", "1 2 IN").into_bytes();
    sim.deliver(a.caller.at(), reinvite);
    let updated = sim.take_media();
    let [MediaCommand::Update { call, stream }] = updated.as_slice() else {
        panic!("one Update expected: {updated:?}");
    };
    assert_eq!(
        (*call, stream.direction),
        (a.engine_call, Direction::RecvOnly)
    );

    let bye = a.caller.in_our_dialog(&a.invite, &a.ok, Method::Bye, 3);
    sim.deliver(a.caller.at(), bye);
    let closed = sim.take_media();
    assert!(
        matches!(closed.as_slice(), [MediaCommand::Close { call }] if *call == a.engine_call),
        "{closed:?}"
    );
}

#[test]
fn signalling_only_mode_opens_no_session_and_has_no_tones() {
    let mut sim = Sim::one_line("");
    let owner = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let a = answered(&mut sim, &owner, DYNAMIC_PT_SDP);
    assert!(sim.take_media().is_empty());
    let tone = Fn::LineGenerateTone {
        call: a.call,
        tone_mode: LINETONEMODE_BEEP,
        duration: 0,
    };
    assert_eq!(
        sim.call(owner.conn, tone),
        Err(LINEERR_OPERATIONUNAVAIL.into())
    );
}

#[test]
fn digits_reach_only_the_apps_monitoring_their_mode_by_rfc4733_and_sip_info() {
    let mut sim = Sim::one_line_with_media("");
    let owner = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let watcher = open_app(&mut sim, LINECALLPRIVILEGE_MONITOR);
    let mut a = answered(&mut sim, &owner, DYNAMIC_PT_SDP);
    let watched = HCall(sim.messages(watcher.conn)[0].dw_param2);
    sim.messages(watcher.conn);
    monitor(
        &mut sim,
        &owner,
        a.call,
        LINEDIGITMODE_DTMF | LINEDIGITMODE_DTMFEND,
    );

    digit(&mut sim, a.engine_call, '5');
    let both = vec![
        (LINE_MONITORDIGITS, a.call.0, '5' as u32, LINEDIGITMODE_DTMF),
        (
            LINE_MONITORDIGITS,
            a.call.0,
            '5' as u32,
            LINEDIGITMODE_DTMFEND,
        ),
    ];
    assert_eq!(summary(&sim.messages(owner.conn)), both);
    assert!(sim.messages(watcher.conn).is_empty(), "it did not ask");

    monitor(&mut sim, &watcher, watched, LINEDIGITMODE_DTMFEND);
    let relay = info(
        &mut a,
        2,
        "application/dtmf-relay",
        "Signal=7\r\nDuration=160\r\n",
    );
    sim.deliver(a.caller.at(), relay);
    assert_eq!(statuses(&sim.take_sip(a.caller.addr)), vec![200]);
    let owner_sees: Vec<_> = summary(&sim.messages(owner.conn));
    assert_eq!(
        owner_sees,
        vec![
            (LINE_MONITORDIGITS, a.call.0, '7' as u32, LINEDIGITMODE_DTMF),
            (
                LINE_MONITORDIGITS,
                a.call.0,
                '7' as u32,
                LINEDIGITMODE_DTMFEND
            ),
        ]
    );
    assert_eq!(
        summary(&sim.messages(watcher.conn)),
        vec![(
            LINE_MONITORDIGITS,
            watched.0,
            '7' as u32,
            LINEDIGITMODE_DTMFEND
        )]
    );

    // application/dtmf; then monitoring stopped (0): nothing more, the INFO still gets 200.
    let plain = info(&mut a, 3, "application/dtmf", "#");
    sim.deliver(a.caller.at(), plain);
    assert_eq!(sim.messages(owner.conn).len(), 2);
    monitor(&mut sim, &owner, a.call, 0);
    let other = info(&mut a, 4, "application/dtmf", "1");
    sim.deliver(a.caller.at(), other);
    let junk = info(&mut a, 5, "text/plain", "hello");
    sim.deliver(a.caller.at(), junk);
    assert_eq!(statuses(&sim.take_sip(a.caller.addr)), vec![200, 200, 200]);
    assert!(sim.messages(owner.conn).is_empty());
    assert_eq!(
        sim.call(
            owner.conn,
            Fn::LineMonitorDigits {
                call: a.call,
                digit_modes: 0x8
            }
        ),
        Err(LINEERR_INVALDIGITMODE.into())
    );
}

#[test]
fn gather_ends_by_each_linegatherterm_with_the_fake_clock() {
    let mut sim = Sim::one_line_with_media("");
    let owner = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let watcher = open_app(&mut sim, LINECALLPRIVILEGE_MONITOR);
    let a = answered(&mut sim, &owner, DYNAMIC_PT_SDP);
    sim.messages(watcher.conn);
    let (c, h) = (a.engine_call, a.call.0);

    // FIRSTTIMEOUT: nothing within 5 s.
    gather(&mut sim, &owner, a.call, 3);
    sim.advance(Duration::from_millis(4999));
    assert!(sim.messages(owner.conn).is_empty());
    sim.advance(Duration::from_millis(1));
    let first = vec![(h, LINEGATHERTERM_FIRSTTIMEOUT, String::new())];
    assert_eq!(gathered(&sim.messages(owner.conn)), first);

    // INTERTIMEOUT: 2 s after the last digit (the first timeout no longer counts).
    gather(&mut sim, &owner, a.call, 3);
    sim.advance(Duration::from_millis(4000));
    digit(&mut sim, c, '1');
    sim.advance(Duration::from_millis(1999));
    assert!(sim.messages(owner.conn).is_empty());
    sim.advance(Duration::from_millis(1));
    let inter = vec![(h, LINEGATHERTERM_INTERTIMEOUT, "1".to_string())];
    assert_eq!(gathered(&sim.messages(owner.conn)), inter);

    // BUFFERFULL, then TERMDIGIT (the digit is kept).
    gather(&mut sim, &owner, a.call, 3);
    for d in ['1', '2', '3', '4'] {
        digit(&mut sim, c, d);
    }
    let full = vec![(h, LINEGATHERTERM_BUFFERFULL, "123".to_string())];
    assert_eq!(gathered(&sim.messages(owner.conn)), full);
    gather(&mut sim, &owner, a.call, 3);
    digit(&mut sim, c, '9');
    digit(&mut sim, c, '#');
    let term = vec![(h, LINEGATHERTERM_TERMDIGIT, "9#".to_string())];
    assert_eq!(gathered(&sim.messages(owner.conn)), term);

    // CANCEL: by a newer gather, by numDigits 0, by the call's end; the old deadline is dead.
    gather(&mut sim, &owner, a.call, 3);
    digit(&mut sim, c, '5');
    gather(&mut sim, &owner, a.call, 3);
    let cancel = vec![(h, LINEGATHERTERM_CANCEL, "5".to_string())];
    assert_eq!(gathered(&sim.messages(owner.conn)), cancel);
    gather(&mut sim, &owner, a.call, 0);
    let cancel = vec![(h, LINEGATHERTERM_CANCEL, String::new())];
    assert_eq!(gathered(&sim.messages(owner.conn)), cancel);
    sim.advance(Duration::from_secs(10));
    assert!(
        sim.messages(owner.conn).is_empty(),
        "stale deadlines fire nothing"
    );
    assert!(
        sim.messages(watcher.conn).is_empty(),
        "gathers are the asker's"
    );
    gather(&mut sim, &owner, a.call, 3);
    let mut a = a;
    let bye = a.caller.in_our_dialog(&a.invite, &a.ok, Method::Bye, 2);
    sim.deliver(a.caller.at(), bye);
    let end = sim.messages(owner.conn);
    assert_eq!(
        gathered(&end),
        vec![(h, LINEGATHERTERM_CANCEL, String::new())]
    );
    assert_eq!(
        end[0].dw_message_id, LINE_GATHERDIGITS,
        "before DISCONNECTED"
    );
}

#[test]
fn gather_parameters_are_checked() {
    let mut sim = Sim::one_line_with_media("");
    let owner = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let a = answered(&mut sim, &owner, DYNAMIC_PT_SDP);
    let bad = |digit_modes, num_digits, term: &str| Fn::LineGatherDigits {
        call: a.call,
        digit_modes,
        num_digits,
        term_digits: term.into(),
        first_timeout: 0,
        inter_timeout: 0,
    };
    let r = sim.call(owner.conn, bad(LINEDIGITMODE_PULSE, 3, ""));
    assert_eq!(r, Err(LINEERR_INVALDIGITMODE.into()));
    let r = sim.call(owner.conn, bad(LINEDIGITMODE_DTMF, 3, "x"));
    assert_eq!(r, Err(LINEERR_INVALDIGITLIST.into()));
    let r = sim.call(owner.conn, bad(LINEDIGITMODE_DTMF, 65, ""));
    assert_eq!(r, Err(LINEERR_INVALPARAM.into()));
}

#[test]
fn generate_goes_to_the_engine_by_rfc4733_and_line_generate_to_the_asker() {
    let mut sim = Sim::one_line_with_media("");
    let owner = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let a = answered(&mut sim, &owner, DYNAMIC_PT_SDP);
    sim.take_media();
    let (c, h) = (a.engine_call, a.call.0);
    assert_eq!(
        generate(&mut sim, &owner, a.call, "12x"),
        Err(LINEERR_INVALDIGITS.into())
    );
    assert_eq!(
        generate(&mut sim, &owner, a.call, "12,3#"),
        Ok(Answer::Empty)
    );
    let sent = sim.take_media();
    assert!(
        matches!(sent.as_slice(), [MediaCommand::GenerateDigits { call, digits, .. }] if *call == c && digits == "12,3#"),
        "{sent:?}"
    );
    assert!(sim.messages(owner.conn).is_empty());
    sim.media_event(MediaEvent::GenerateDone {
        call: c,
        cancelled: false,
    });
    let done = vec![(LINE_GENERATE, h, LINEGENERATETERM_DONE, 0)];
    assert_eq!(summary(&sim.messages(owner.conn)), done);

    // A newer request cancels the current one at once; the engine's answer to the old one
    // (cancelled) is not the new one's end.
    generate(&mut sim, &owner, a.call, "1").unwrap();
    generate(&mut sim, &owner, a.call, "2").unwrap();
    let cancel = vec![(LINE_GENERATE, h, LINEGENERATETERM_CANCEL, 0)];
    assert_eq!(summary(&sim.messages(owner.conn)), cancel);
    sim.media_event(MediaEvent::GenerateDone {
        call: c,
        cancelled: true,
    });
    assert!(sim.messages(owner.conn).is_empty());
    sim.media_event(MediaEvent::GenerateDone {
        call: c,
        cancelled: false,
    });
    assert_eq!(summary(&sim.messages(owner.conn)), done);

    // Empty digits cancel; a tone is a generate too.
    let tone = Fn::LineGenerateTone {
        call: a.call,
        tone_mode: LINETONEMODE_BEEP,
        duration: 0,
    };
    assert_eq!(sim.call(owner.conn, tone), Ok(Answer::Empty));
    sim.take_media();
    assert_eq!(generate(&mut sim, &owner, a.call, ""), Ok(Answer::Empty));
    assert_eq!(summary(&sim.messages(owner.conn)), cancel);
    let cancelled = sim.take_media();
    assert!(
        matches!(cancelled.as_slice(), [MediaCommand::CancelGenerate { .. }]),
        "{cancelled:?}"
    );
    sim.media_event(MediaEvent::GenerateDone {
        call: c,
        cancelled: true,
    });
    assert!(sim.messages(owner.conn).is_empty());
    let bad_tone = Fn::LineGenerateTone {
        call: a.call,
        tone_mode: LINETONEMODE_BILLING,
        duration: 0,
    };
    assert_eq!(
        sim.call(owner.conn, bad_tone),
        Err(LINEERR_INVALTONEMODE.into())
    );
    let features = match sim.call(owner.conn, Fn::LineGetCallStatus { call: a.call }) {
        Ok(Answer::CallStatus(s)) => s.features,
        other => panic!("{other:?}"),
    };
    let media = CallFeatures::GENERATEDIGITS
        | CallFeatures::GENERATETONE
        | CallFeatures::MONITORDIGITS
        | CallFeatures::GATHERDIGITS;
    assert!(features.contains(media), "{features:?}");
}

#[test]
fn without_telephone_event_digits_go_as_sip_info_dtmf_relay_paced_by_the_clock() {
    let mut sim = Sim::one_line("");
    let owner = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let a = answered(&mut sim, &owner, NO_EVENTS_SDP);
    let r = sim.call(
        owner.conn,
        Fn::LineGenerateDigits {
            call: a.call,
            digit_mode: LINEDIGITMODE_DTMF,
            digits: "1,#".into(),
            duration: 150,
        },
    );
    assert_eq!(r, Ok(Answer::Empty));
    let first = only_request(sim.take_sip(a.caller.addr), Method::Info);
    assert_eq!(
        first.headers.content_type.as_deref(),
        Some("application/dtmf-relay")
    );
    assert_eq!(first.body, b"Signal=1\r\nDuration=150\r\n");
    sim.deliver(a.caller.at(), a.caller.response(&first, 200, None));
    sim.advance(Duration::from_millis(300)); // the digit and its gap; then ',' waits 1 s
    sim.advance(Duration::from_millis(999));
    assert!(requests(sim.take_sip(a.caller.addr))
        .iter()
        .all(|r| r.method != Method::Info));
    sim.advance(Duration::from_millis(1));
    let second = only_request(sim.take_sip(a.caller.addr), Method::Info);
    assert_eq!(second.body, b"Signal=#\r\nDuration=150\r\n");
    sim.deliver(a.caller.at(), a.caller.response(&second, 200, None));
    assert!(sim.messages(owner.conn).is_empty());
    sim.advance(Duration::from_millis(300));
    let done = vec![(LINE_GENERATE, a.call.0, LINEGENERATETERM_DONE, 0)];
    assert_eq!(summary(&sim.messages(owner.conn)), done);
    // Cancelled half way: LINE_GENERATE(CANCEL), and no INFO after it.
    generate(&mut sim, &owner, a.call, "1234").unwrap();
    let one = only_request(sim.take_sip(a.caller.addr), Method::Info);
    sim.deliver(a.caller.at(), a.caller.response(&one, 200, None));
    generate(&mut sim, &owner, a.call, "").unwrap();
    let cancel = vec![(LINE_GENERATE, a.call.0, LINEGENERATETERM_CANCEL, 0)];
    assert_eq!(summary(&sim.messages(owner.conn)), cancel);
    sim.advance(Duration::from_secs(2));
    assert!(requests(sim.take_sip(a.caller.addr))
        .iter()
        .all(|r| r.method != Method::Info));
    assert!(sim.messages(owner.conn).is_empty());
}

#[test]
fn play_and_record_are_confined_and_complete_with_line_reply() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("prompt.wav"), b"RIFF").unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("out")).unwrap();
    let extra = format!("[media]\nfiles_dir = \"{}\"\n", dir.path().display());
    let mut sim = Sim::one_line_with_media(&extra);
    let owner = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let a = answered(&mut sim, &owner, DYNAMIC_PT_SDP);
    sim.take_media();
    let c = a.engine_call;
    let play = |file: &str| Fn::MediaPlay {
        call: a.call,
        file: file.into(),
        looped: false,
    };
    // Refused at once, without the file system: absolute, `..` out, empty.
    for bad in ["../etc/passwd", "/etc/passwd", ""] {
        assert_eq!(
            sim.call(owner.conn, play(bad)),
            Err(LINEERR_INVALPARAM.into()),
            "{bad}"
        );
    }
    assert!(sim.take_media().is_empty());
    // A symlink out of files_dir: the engine resolves it and refuses; LINE_REPLY(INVALPARAM).
    let request = call_fn(&mut sim, &owner, play("out/x.wav"));
    let cmds = sim.take_media();
    let [MediaCommand::Play { op, within, .. }] = cmds.as_slice() else {
        panic!("{cmds:?}");
    };
    assert_eq!(within.as_deref(), Some(dir.path()));
    sim.media_event(MediaEvent::FileRefused {
        call: c,
        op: *op,
        reason: "'out/x.wav' leaves media.files_dir".into(),
    });
    let invalparam = LINEERR_INVALPARAM.0 as i32;
    assert_eq!(
        summary(&sim.messages(owner.conn)),
        vec![reply(request, invalparam)]
    );
    let request = call_fn(&mut sim, &owner, play("prompt.wav"));
    let cmds = sim.take_media();
    let [MediaCommand::Play { call, op, file, .. }] = cmds.as_slice() else {
        panic!("{cmds:?}");
    };
    assert_eq!((*call, *op), (c, u64::from(request)));
    assert_eq!(file, &dir.path().join("prompt.wav"));
    assert!(
        sim.messages(owner.conn).is_empty(),
        "LINE_REPLY at the end of the play"
    );
    sim.media_event(MediaEvent::PlayDone {
        call: c,
        op: *op,
        result: Ok(()),
        stopped: false,
    });
    assert_eq!(summary(&sim.messages(owner.conn)), vec![reply(request, 0)]);

    // Stopped: LINEERR_OPERATIONFAILED.
    let request = call_fn(&mut sim, &owner, play("prompt.wav"));
    assert_eq!(
        sim.call(owner.conn, Fn::MediaStop { call: a.call }),
        Ok(Answer::Empty)
    );
    let cmds = sim.take_media();
    assert!(
        matches!(cmds[1], MediaCommand::StopMedia { call } if call == c),
        "{cmds:?}"
    );
    let op = u64::from(request);
    sim.media_event(MediaEvent::PlayDone {
        call: c,
        op,
        result: Ok(()),
        stopped: true,
    });
    let failed = LINEERR_OPERATIONFAILED.0 as i32;
    assert_eq!(
        summary(&sim.messages(owner.conn)),
        vec![reply(request, failed)]
    );

    let record = Fn::MediaRecord {
        call: a.call,
        file: "msg.wav".into(),
        max_ms: 30_000,
        silence_ms: Some(3000),
    };
    let request = call_fn(&mut sim, &owner, record);
    let cmds = sim.take_media();
    assert!(
        matches!(&cmds[..], [MediaCommand::Record { max_ms: 30_000, silence_ms: Some(3000), file, .. }] if file.ends_with("msg.wav")),
        "{cmds:?}"
    );
    let op = u64::from(request);
    sim.media_event(MediaEvent::RecordDone {
        call: c,
        op,
        result: Ok(1200),
        stopped: true,
    });
    assert_eq!(summary(&sim.messages(owner.conn)), vec![reply(request, 0)]);
}

#[test]
fn media_functions_need_an_owner_and_a_call_with_media() {
    let mut sim = Sim::one_line_with_media("");
    let owner = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let watcher = open_app(&mut sim, LINECALLPRIVILEGE_MONITOR);
    let gw = sim.gateway_addr();
    let mut caller = sim.peer(PROVIDER);
    let invite = caller.invite(gw, "1001", Some(DYNAMIC_PT_SDP));
    sim.deliver(caller.at(), invite);
    let call = HCall(sim.messages(owner.conn)[0].dw_param2);
    let watched = HCall(sim.messages(watcher.conn)[0].dw_param2);
    assert_eq!(
        generate(&mut sim, &owner, call, "1"),
        Err(LINEERR_INVALCALLSTATE.into()),
        "offering: no media yet"
    );
    assert_eq!(
        generate(&mut sim, &watcher, watched, "1"),
        Err(LINEERR_NOTOWNER.into())
    );
}

#[test]
fn early_media_of_a_183_opens_the_session_the_200_updates_it_and_digits_can_be_gathered() {
    let mut sim = Sim::one_line_with_media("");
    let provider = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (_, call) = make_call(&mut sim, &app, "2000");
    let invite = only_request(sim.take_sip(provider.addr), Method::Invite);
    sim.deliver(provider.at(), provider.response(&invite, 180, None));
    assert!(sim.take_media().is_empty(), "no SDP, no media");
    sim.deliver(
        provider.at(),
        provider.response(&invite, 183, Some(&peer_sdp_on(7000))),
    );
    let cmds = sim.take_media();
    let [MediaCommand::Open {
        call: c, stream, ..
    }] = cmds.as_slice()
    else {
        panic!("{cmds:?}");
    };
    let c = *c;
    assert_eq!(stream.remote, "127.0.0.1:7000".parse().unwrap());
    sim.messages(app.conn);
    gather(&mut sim, &app, call, 2);
    digit(&mut sim, c, '4');
    digit(&mut sim, c, '2');
    let got = vec![(call.0, LINEGATHERTERM_BUFFERFULL, "42".to_string())];
    assert_eq!(
        gathered(&sim.messages(app.conn)),
        got,
        "an announcement's menu"
    );
    let answer = crate::sim::peer::PEER_SDP.replace("RTP/AVP 0 8 101", "RTP/AVP 8 101");
    sim.deliver(
        provider.at(),
        provider.response(&invite, 200, Some(&answer)),
    );
    let cmds = sim.take_media();
    let [MediaCommand::Update { stream, .. }] = cmds.as_slice() else {
        panic!("{cmds:?}");
    };
    assert_eq!((stream.codec, stream.payload_type), (Codec::Pcma, 8));
    assert_eq!(stream.remote, "127.0.0.1:6000".parse().unwrap());
}

#[test]
fn our_hold_makes_the_stream_sendonly_and_unhold_sendrecv_again() {
    let mut sim = Sim::one_line_with_media("");
    let owner = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let a = answered(&mut sim, &owner, DYNAMIC_PT_SDP);
    sim.take_media();
    let mut directions = vec![];
    for (op, answer_dir) in [
        (Fn::LineHold { call: a.call }, "recvonly"),
        (Fn::LineUnhold { call: a.call }, "sendrecv"),
    ] {
        let request = call_fn(&mut sim, &owner, op);
        let reinvite = only_request(sim.take_sip(a.caller.addr), Method::Invite);
        let sdp = DYNAMIC_PT_SDP
            .replace("0-15\r\n", &format!("0-15\r\na={answer_dir}\r\n"))
            .replace("1 1 IN", "1 2 IN");
        sim.deliver(a.caller.at(), a.caller.response(&reinvite, 200, Some(&sdp)));
        only_request(sim.take_sip(a.caller.addr), Method::Ack);
        assert!(summary(&sim.messages(owner.conn)).contains(&reply(request, 0)));
        for cmd in sim.take_media() {
            match cmd {
                MediaCommand::Update { call, stream } => {
                    assert_eq!((call, stream.payload_type), (a.engine_call, 96));
                    directions.push(stream.direction);
                }
                other => panic!("{other:?}"),
            }
        }
    }
    assert_eq!(directions, vec![Direction::SendOnly, Direction::SendRecv]);
}
