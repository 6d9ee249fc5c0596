//! The library against a scripted stand-in gateway, for what the real one cannot be made to do
//! on demand: a LINE_REPLY in the same TCP segment as the answer it follows (the ordering
//! gate), a connection dropped mid-call and a session resumed with replayed duplicates, a
//! refused resume, protocol errors and authentication.

mod common;

use common::*;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(40);
const LINE_CALLSTATE: u32 = 2;
const LINE_REPLY: u32 = 12;
const IDLE: i64 = 0x1;
const RINGBACK: i64 = 0x20;
const CONNECTED: i64 = 0x100;
const PROCEEDING: i64 = 0x200;
const LINEERR_INVALAPPHANDLE: i64 = 0x8000_0014u32 as i32 as i64;
const LINEERR_INVALCALLHANDLE: i64 = 0x8000_0018u32 as i32 as i64;

fn init_result(app: u32, session: Option<&str>) -> Value {
    let mut r = json!({"hLineApp": app, "numDevs": 1, "apiVersion": 0x0002_0002});
    if let Some(s) = session {
        r["sessionId"] = json!(s);
    }
    r
}

/// A notification with a seq.
fn numbered(mut fields: Value, seq: u64) -> Value {
    fields["seq"] = json!(seq);
    fields
}

/// Answers requests until lineShutdown; each lineMakeCall's LINE_REPLY goes in the same write
/// as its answer.
fn make_call_responder(app: u32) -> Script {
    Box::new(move |c: &mut FakeConn| {
        let (id, _) = c.expect("lineInitializeEx");
        c.reply(&id, init_result(app, None));
        let (id, params) = c.expect("lineOpen");
        let token = params["callbackInstance"].as_u64().unwrap_or(0);
        c.reply(&id, json!({"hLine": 10}));
        let mut request = 0u32;
        loop {
            let (id, method, params) = c.expect_any();
            match method.as_str() {
                "lineMakeCall" => {
                    request += 1;
                    let answer = json!({"requestId": request, "hCall": 100 + request});
                    let reply = fields(0, LINE_REPLY, token, i64::from(request), 0, 0);
                    c.send_all(&[
                        json!({"jsonrpc":"2.0","id":id,"result":answer}),
                        json!({"jsonrpc":"2.0","method":"LINE_REPLY","params":reply}),
                    ]);
                }
                "lineGetCallStatus" => {
                    assert_eq!(params["hCall"], json!(100 + request));
                    c.reply(&id, json!({"callState":0x10,"callStateMode":0,"callPrivilege":4,"callFeatures":0}));
                }
                "lineShutdown" => {
                    c.reply(&id, json!({}));
                    return;
                }
                other => panic!("unexpected {other}"),
            }
        }
    })
}

#[test]
fn a_reply_never_overtakes_the_return_of_its_function() {
    let scratch = Scratch::new("ordering");
    let fake = FakeGateway::start(vec![make_call_responder(1), make_call_responder(2)]);
    let exe = compile(&scratch, &c_source("ordering.c"), &[]);
    let ran = run(&scratch, &exe, &["60"], &fake.env(), LIMIT);
    assert_eq!(ran.code(), Some(0), "{ran}");
    fake.join();
}

/// A session's first connection: set-up, a call, LINE_REPLY and PROCEEDING, then a drop.
/// `token` receives lineOpen's callbackInstance, for the next connection's messages.
fn first_connection(session: Option<&'static str>, token_out: Arc<AtomicU64>) -> Script {
    Box::new(move |c: &mut FakeConn| {
        let (id, params) = c.expect("lineInitializeEx");
        let resumable = params.get("resumable").cloned();
        assert_eq!(
            resumable,
            session.map(|_| json!(true)),
            "resumable only when resuming"
        );
        c.reply(&id, init_result(7, session));
        let (id, params) = c.expect("lineOpen");
        let token = params["callbackInstance"].as_u64().unwrap();
        assert!(
            token > 0 && token < 1 << 32,
            "a 32-bit token stands for the pointer"
        );
        token_out.store(token, Ordering::SeqCst);
        c.reply(&id, json!({"hLine": 70}));
        let (id, _) = c.expect("lineMakeCall");
        c.reply(&id, json!({"requestId": 1, "hCall": 700}));
        c.message(
            "LINE_REPLY",
            numbered(fields(0, LINE_REPLY, token, 1, 0, 0), 1),
        );
        let proceeding = fields(700, LINE_CALLSTATE, token, PROCEEDING, 0, 4);
        c.message("LINE_CALLSTATE", numbered(proceeding, 2));
        std::thread::sleep(Duration::from_millis(200));
        c.drop_connection();
    })
}

/// Runs tests/c/msgprint.c against `scripts` with `env` added; the scripts must have finished.
fn msgprint(name: &str, scripts: Vec<Script>, env: &[(&'static str, &str)]) -> Ran {
    let scratch = Scratch::new(name);
    let fake = FakeGateway::start(scripts);
    let exe = compile(&scratch, &c_source("msgprint.c"), &[]);
    let mut all = fake.env();
    all.extend(env.iter().map(|(k, v)| (*k, v.to_string())));
    let ran = run(&scratch, &exe, &[], &all, LIMIT);
    fake.join();
    ran
}

fn msg_lines(ran: &Ran) -> Vec<&str> {
    ran.lines()
        .into_iter()
        .filter(|l| l.starts_with("MSG "))
        .collect()
}

#[test]
fn a_dropped_connection_is_resumed_without_losing_or_repeating_a_message() {
    let shared = Arc::new(AtomicU64::new(0));
    let first = first_connection(Some("s-1"), Arc::clone(&shared));
    let second: Script = Box::new(move |c: &mut FakeConn| {
        let (id, params) = c.expect("lineResume");
        assert_eq!(params, json!({"sessionId": "s-1", "lastSeq": 2}));
        c.reply(&id, json!({"hLineApp": 7}));
        let token = shared.load(Ordering::SeqCst);
        let replay = [(2, PROCEEDING), (3, RINGBACK), (4, CONNECTED)];
        let lines: Vec<Value> = replay
            .iter()
            .map(|(seq, state)| {
                let f = numbered(fields(700, LINE_CALLSTATE, token, *state, 0, 0), *seq);
                json!({"jsonrpc":"2.0","method":"LINE_CALLSTATE","params":f})
            })
            .collect();
        c.send_all(&lines);
        let (id, params) = c.expect("lineGetCallStatus");
        assert_eq!(params["hCall"], json!(700));
        c.reply(&id, json!({"callState": CONNECTED, "callStateMode": 1, "callPrivilege": 4, "callFeatures": 0}));
        c.message(
            "LINE_CALLSTATE",
            numbered(fields(700, LINE_CALLSTATE, token, IDLE, 0, 0), 5),
        );
        let (id, _) = c.expect("lineHold");
        c.error(&id, -32601, "Method not found");
        let (id, _) = c.expect("lineShutdown");
        c.reply(&id, json!({}));
    });
    let ran = msgprint("resume", vec![first, second], &[]);
    assert_eq!(ran.code(), Some(0), "{ran}");
    assert_eq!(
        msg_lines(&ran),
        vec![
            "MSG LINE_REPLY 0 1 0 -",
            "MSG LINE_CALLSTATE 700 512 0 instance-ok",
            "MSG LINE_CALLSTATE 700 32 0 instance-ok",
            "MSG LINE_CALLSTATE 700 256 0 instance-ok",
            "MSG LINE_CALLSTATE 700 1 0 instance-ok",
        ],
        "{ran}"
    );
    let lines = ran.lines();
    assert!(lines.contains(&"MAKECALL 1 700"), "{ran}");
    assert!(
        lines.contains(&"STATUS 0x00000000 0x100"),
        "a call on the resumed connection: {ran}"
    );
    assert!(
        lines.contains(&"HOLD 0x80000049"),
        "-32601 is LINEERR_OPERATIONUNAVAIL: {ran}"
    );
    assert!(lines.contains(&"SHUTDOWN 0x00000000"), "{ran}");
}

#[test]
fn without_resume_a_drop_closes_the_line() {
    let ran = msgprint(
        "no-resume",
        vec![first_connection(None, Arc::default())],
        &[("TAPIGW_RESUME", "0")],
    );
    assert_eq!(ran.code(), Some(0), "{ran}");
    assert_eq!(
        msg_lines(&ran),
        vec![
            "MSG LINE_REPLY 0 1 0 -",
            "MSG LINE_CALLSTATE 700 512 0 instance-ok",
            "MSG LINE_CLOSE 70 0 0 instance-ok",
        ],
        "{ran}"
    );
    let lines = ran.lines();
    assert!(
        lines.contains(&"HOLD 0x80000048"),
        "connection lost: OPERATIONFAILED: {ran}"
    );
    assert!(lines.contains(&"SHUTDOWN 0x00000000"), "{ran}");
}

#[test]
fn a_refused_resume_closes_the_line() {
    let second: Script = Box::new(|c: &mut FakeConn| {
        let (id, params) = c.expect("lineResume");
        assert_eq!(params["sessionId"], "s-2");
        c.error(&id, LINEERR_INVALAPPHANDLE, "LINEERR_INVALAPPHANDLE");
    });
    let ran = msgprint(
        "refused",
        vec![first_connection(Some("s-2"), Arc::default()), second],
        &[],
    );
    assert_eq!(ran.code(), Some(0), "{ran}");
    assert_eq!(
        msg_lines(&ran).last(),
        Some(&"MSG LINE_CLOSE 70 0 0 instance-ok"),
        "{ran}"
    );
    assert!(ran.lines().contains(&"HOLD 0x80000048"), "{ran}");
}

#[test]
fn the_token_goes_first_and_wire_errors_map_to_tapi_codes() {
    let script: Script = Box::new(|c: &mut FakeConn| {
        let (id, params) = c.expect("authenticate");
        assert_eq!(params, json!({"token": "sekrit"}));
        c.reply(&id, json!({}));
        let (id, _) = c.expect("lineInitializeEx");
        c.reply(&id, init_result(3, None));
        let (id, _) = c.expect("lineOpen");
        c.reply(&id, json!({"hLine": 30}));
        let (id, _) = c.expect("lineMakeCall");
        c.error(&id, -32601, "Method not found");
        let (id, _) = c.expect("lineHold");
        c.error(&id, LINEERR_INVALCALLHANDLE, "LINEERR_INVALCALLHANDLE");
        let (id, _) = c.expect("lineShutdown");
        c.reply(&id, json!({}));
    });
    let ran = msgprint("token", vec![script], &[("TAPIGW_TOKEN", "sekrit")]);
    let lines = ran.lines();
    assert!(lines.contains(&"INIT 0x00000000 3"), "{ran}");
    assert!(
        lines.contains(&"MAKECALL -2147483575 0"),
        "OPERATIONUNAVAIL: {ran}"
    );
    assert!(
        lines.contains(&"HOLD 0x80000018"),
        "a TAPI error passes through: {ran}"
    );
    assert!(lines.contains(&"SHUTDOWN 0x00000000"), "{ran}");
}

#[test]
fn a_refused_token_fails_initialization() {
    let script: Script = Box::new(|c: &mut FakeConn| {
        let (id, _) = c.expect("authenticate");
        c.error(&id, -32001, "unauthenticated");
    });
    let ran = msgprint("badtoken", vec![script], &[("TAPIGW_TOKEN", "wrong")]);
    assert_eq!(ran.code(), Some(1), "{ran}");
    assert!(ran.lines().contains(&"INIT 0x80000048 0"), "{ran}");
}

#[test]
fn a_session_taken_over_by_another_connection_is_not_resumed() {
    let first: Script = Box::new(|c: &mut FakeConn| {
        let (id, _) = c.expect("lineInitializeEx");
        c.reply(&id, init_result(7, Some("s-3")));
        let (id, _) = c.expect("lineOpen");
        c.reply(&id, json!({"hLine": 70}));
        let (id, _) = c.expect("lineMakeCall");
        c.reply(&id, json!({"requestId": 1, "hCall": 700}));
        c.send(json!({"jsonrpc":"2.0","method":"sessionTakenOver","params":{"hLineApp":7}}));
        c.drop_connection();
    });
    // No second script: a reconnection would find nobody and retry for the whole window.
    let window_ms = "10000";
    let ran = msgprint(
        "taken-over",
        vec![first],
        &[
            ("TAPIGW_RESUME_WINDOW_MS", window_ms),
            ("TAPIGW_DEBUG", "1"),
        ],
    );
    assert_eq!(ran.code(), Some(0), "{ran}");
    assert_eq!(
        msg_lines(&ran),
        vec!["MSG LINE_CLOSE 70 0 0 instance-ok"],
        "the notice is no message; the line closes: {ran}"
    );
    assert!(
        ran.elapsed < Duration::from_secs(5),
        "no reconnection attempts: {ran}"
    );
    assert!(!ran.stderr.contains("lineResume"), "{ran}");
}
