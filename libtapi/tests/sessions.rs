//! Sessions that survive a dropped connection, end to end: a C program (tests/c/resume.c)
//! linked against libtapi places a call through a proxy the test controls, to the real gateway
//! with SIPp as the provider; the proxy resets the connection (RST) while SIPp holds its answer
//! back and keeps the library away until a monitoring connection has seen the call answered.
//! The library reconnects and resumes by itself: the program's callback gets LINE_REPLY(0) and
//! CONNECTED exactly once each, then it drops the call (SIPp sees the BYE). In the second run
//! the program never gets back in time: the gateway drops the call when `api.resume_grace_s`
//! ends, the late resume is refused and the program's line gets LINE_CLOSE. (A session taken
//! over by another connection is not resumed: tests/fake.rs.)

mod common;

#[path = "../../tests/common/cut_proxy.rs"]
mod cut_proxy;

use common::*;
use cut_proxy::CutProxy;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(60);
const WAIT: Duration = Duration::from_secs(20);
const CONNECTED: u64 = 0x100;
const IDLE: u64 = 0x1;
/// LINECALLINFOSTATE_CONNECTEDID.
const CONNECTEDID: u64 = 0x0002_0000;

/// SIPp answering after `pause_ms` of silence, then waiting for the gateway's BYE.
fn late_provider(scratch: &Scratch, pause_ms: &str) -> (u16, Sipp) {
    let sf = scenario("uas_answer_after_pause.xml");
    Sipp::provider(scratch, &sf, &["-d", pause_ms, "-pause_msg_ign"])
}

/// A second application on the gateway that monitors line 0.
fn monitor(gw: &Gateway) -> RawApp {
    let mut m = RawApp::connect(gw);
    let app = m.call(
        "lineInitializeEx",
        json!({"appName":"monitor","apiVersion":0x20002,"options":1}),
    );
    m.call(
        "lineOpen",
        json!({"hLineApp":app["hLineApp"],"deviceId":0,"apiVersion":0x20002,"privileges":2}),
    );
    m
}

/// Waits until the monitor sees LINE_CALLSTATE(`state`).
fn monitor_sees(m: &mut RawApp, state: u64) {
    loop {
        let msg: Value = m.wait_for("LINE_CALLSTATE");
        if msg["params"]["dwParam1"] == json!(state) {
            return;
        }
    }
}

fn msg_lines(ran: &Ran) -> Vec<&str> {
    ran.lines()
        .into_iter()
        .filter(|l| l.starts_with("MSG "))
        .collect()
}

/// The environment for the program: the proxy as gateway, quick reconnection.
fn env(proxy: &CutProxy) -> Vec<(&'static str, String)> {
    vec![
        ("TAPIGW_API", proxy.address()),
        ("TAPIGW_RESUME_WINDOW_MS", "30000".into()),
    ]
}

#[test]
fn a_cut_during_set_up_is_resumed_and_the_callback_sees_each_message_once() {
    let scratch = Scratch::new("resume-real");
    let (port, sipp) = late_provider(&scratch, "1500");
    let gw = Gateway::start_with(port, "", "mode = \"none\"\n");
    let proxy = CutProxy::start(format!("127.0.0.1:{}", gw.api_port).parse().unwrap());
    let mut mon = monitor(&gw);
    let exe = compile(&scratch, &c_source("resume.c"), &["-lpthread"]);
    let program = Program::start(&scratch, &exe, &["1002", "drop"], &env(&proxy));
    program.wait_for_output("MAKECALL ", WAIT);
    proxy.hold();
    assert_eq!(proxy.cut(), 1);
    gw.wait_for_log("app kept for a resume", WAIT);
    monitor_sees(&mut mon, CONNECTED); // answered while the program is away
    proxy.wait_refused(1, WAIT);
    proxy.release();
    let ran = program.wait(LIMIT);
    assert_eq!(ran.code(), Some(0), "{ran}");
    gw.wait_for_log("session resumed", WAIT);
    let lines = ran.lines();
    let made = lines
        .iter()
        .find_map(|l| l.strip_prefix("MAKECALL "))
        .expect("MAKECALL line");
    let (request, call) = made.split_once(' ').unwrap();
    let drop = lines
        .iter()
        .find_map(|l| l.strip_prefix("DROP "))
        .expect("DROP line");
    assert_eq!(
        msg_lines(&ran),
        vec![
            format!("MSG LINE_REPLY 0 {request} 0"),
            format!("MSG LINE_CALLSTATE {call} {CONNECTED} 0"),
            format!("MSG LINE_CALLINFO {call} {CONNECTEDID} 0"),
            format!("MSG LINE_REPLY 0 {drop} 0"),
            format!("MSG LINE_CALLSTATE {call} {IDLE} 0"),
        ],
        "one unbroken stream: {ran}"
    );
    sipp.assert_success("provider answering late, BYE after the resume");
}

#[test]
fn a_program_kept_away_past_the_grace_period_loses_the_call_and_its_line() {
    let scratch = Scratch::new("resume-expired");
    let (port, sipp) = late_provider(&scratch, "300");
    let gw = Gateway::start_with(port, "resume_grace_s = 2", "mode = \"none\"\n");
    let proxy = CutProxy::start(format!("127.0.0.1:{}", gw.api_port).parse().unwrap());
    let mut mon = monitor(&gw);
    let exe = compile(&scratch, &c_source("resume.c"), &["-lpthread"]);
    let program = Program::start(&scratch, &exe, &["1002", "close"], &env(&proxy));
    program.wait_for_output("MAKECALL ", WAIT);
    proxy.hold();
    proxy.cut();
    let cut_at = Instant::now();
    monitor_sees(&mut mon, CONNECTED);
    monitor_sees(&mut mon, IDLE);
    assert!(
        cut_at.elapsed() >= Duration::from_secs(2),
        "the call is dropped when the grace period ends ({:?})",
        cut_at.elapsed()
    );
    gw.wait_for_log("session expired", WAIT);
    sipp.assert_success("provider; BYE at the end of the grace period");
    proxy.release();
    let ran = program.wait(LIMIT);
    assert_eq!(ran.code(), Some(0), "{ran}");
    assert!(
        msg_lines(&ran)
            .last()
            .is_some_and(|l| l.starts_with("MSG LINE_CLOSE ")),
        "the refused resume closes the line: {ran}"
    );
    assert!(ran.lines().contains(&"SHUTDOWN 0x00000000"), "{ran}");
}
