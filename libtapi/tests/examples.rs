//! The C examples, compiled with `cc` as a TAPI developer builds them and run against the real
//! gateway binary with SIPp as the far end: the dialer places calls that are answered and hung
//! up by either side or refused; the call logger writes one CSV line per inbound call.

mod common;

use common::*;
use serde_json::json;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

fn dialer(scratch: &Scratch) -> std::path::PathBuf {
    compile(scratch, &example("dialer.c"), &[])
}

/// The LINE_CALLSTATE lines the dialer printed.
fn states(ran: &Ran) -> Vec<&str> {
    ran.lines()
        .into_iter()
        .filter_map(|l| l.strip_prefix("LINE_CALLSTATE "))
        .collect()
}

#[test]
fn dialer_call_answered_and_ended_by_the_far_end() {
    let scratch = Scratch::new("dialer-remote");
    let sf = scenario("uas_answer_provider_hangs_up.xml");
    let (port, sipp) = Sipp::provider(&scratch, &sf, &["-d", "500"]);
    let gw = Gateway::start(port);
    let ran = run(
        &scratch,
        &dialer(&scratch),
        &["1002", "30"],
        &gw.env(),
        LIMIT,
    );
    assert_eq!(ran.code(), Some(0), "{ran}");
    assert_eq!(
        states(&ran),
        vec![
            "PROCEEDING",
            "RINGBACK",
            "CONNECTED",
            "DISCONNECTED NORMAL",
            "IDLE"
        ],
        "{ran}"
    );
    assert!(
        ran.stdout.contains("line 0: Line 1"),
        "LINEDEVCAPS read: {ran}"
    );
    assert!(
        ran.stdout
            .contains("LINE_REPLY request 1 result 0x00000000"),
        "{ran}"
    );
    assert!(
        !ran.stdout.contains("hanging up"),
        "the far end hung up: {ran}"
    );
    assert!(
        ran.elapsed < Duration::from_secs(20),
        "did not wait its 30 s: {ran}"
    );
    sipp.assert_success("provider answering and hanging up");
}

#[test]
fn dialer_hangs_up_after_its_seconds() {
    let scratch = Scratch::new("dialer-local");
    let (port, sipp) = Sipp::provider(&scratch, &scenario("uas_answer_gw_hangs_up.xml"), &[]);
    let gw = Gateway::start(port);
    let ran = run(
        &scratch,
        &dialer(&scratch),
        &["1002", "1"],
        &gw.env(),
        LIMIT,
    );
    assert_eq!(ran.code(), Some(0), "{ran}");
    assert_eq!(
        states(&ran),
        vec!["PROCEEDING", "RINGBACK", "CONNECTED", "IDLE"],
        "{ran}"
    );
    assert!(ran.stdout.contains("hanging up"), "{ran}");
    assert!(
        ran.stdout
            .contains("LINE_REPLY request 2 result 0x00000000"),
        "lineDrop's reply: {ran}"
    );
    sipp.assert_success("provider answering, gateway hanging up");
}

#[test]
fn dialer_call_refused_busy() {
    let scratch = Scratch::new("dialer-busy");
    let sf = scenario_with(
        &scratch,
        "uas_reject.xml",
        &[("STATUS", "486"), ("PROVISIONAL", "180 Ringing")],
    );
    let (port, sipp) = Sipp::provider(&scratch, &sf, &[]);
    let gw = Gateway::start(port);
    let ran = run(
        &scratch,
        &dialer(&scratch),
        &["1002", "5"],
        &gw.env(),
        LIMIT,
    );
    assert_eq!(ran.code(), Some(2), "not connected: {ran}");
    assert_eq!(states(&ran).last(), Some(&"IDLE"), "{ran}");
    assert!(states(&ran).contains(&"DISCONNECTED BUSY"), "{ran}");
    sipp.assert_success("provider answering 486");
}

/// A second application owning line 0 (with MONITORs only the gateway answers 480).
fn owner(gw: &Gateway) -> RawApp {
    let mut app = RawApp::connect(gw);
    let init = app.call(
        "lineInitializeEx",
        json!({"appName":"owner","apiVersion":0x0002_0002,"options":1}),
    );
    let h = init["hLineApp"].clone();
    app.call(
        "lineOpen",
        json!({"hLineApp":h,"deviceId":0,"apiVersion":0x0002_0002,"privileges":4,"mediaModes":4}),
    );
    app
}

#[test]
fn call_logger_writes_a_csv_line_per_inbound_call() {
    let scratch = Scratch::new("logger");
    let gw = Gateway::start(free_port());
    let mut owner = owner(&gw);
    let exe = compile(&scratch, &example("call_logger.c"), &[]);
    let logger = Program::start(&scratch, &exe, &["-n", "2", "-t", "50"], &gw.env());
    logger.wait_for_output("time,line,call_id", Duration::from_secs(10));

    // A call the caller gives up on while it rings.
    let cancelled = Sipp::caller(
        &scratch,
        &gw,
        &scenario("uac_call_cancelled.xml"),
        &["-d", "500"],
    );
    cancelled.assert_success("caller cancelling");
    let first = owner.wait_for("LINE_APPNEWCALL");

    // A call the owner answers and the caller hangs up after a second.
    let answered = Sipp::caller(
        &scratch,
        &gw,
        &scenario("uac_call_caller_hangs_up.xml"),
        &["-d", "1000"],
    );
    let new_call = owner.wait_for("LINE_APPNEWCALL");
    let h_call = new_call["params"]["dwParam2"].clone();
    assert_ne!(
        h_call, first["params"]["dwParam2"],
        "the owner sees a new call"
    );
    owner.call("lineAnswer", json!({"hCall": h_call}));
    answered.assert_success("caller hanging up");

    let ran = logger.wait(LIMIT);
    assert_eq!(ran.code(), Some(0), "{ran}");
    let lines = ran.lines();
    assert_eq!(lines.len(), 3, "a header and two calls: {ran}");
    let rows: Vec<Vec<&str>> = lines[1..].iter().map(|l| l.split(',').collect()).collect();
    for row in &rows {
        assert_eq!(row.len(), 10, "{ran}");
        assert_eq!(&row[1..2], ["0"], "line 0: {ran}");
        assert_eq!(&row[3..7], ["inbound", "2000", "Alice", "1001"], "{ran}");
        assert_eq!(row[9], "NORMAL", "{ran}");
    }
    assert_eq!(rows[0][7], "no", "the first was never answered: {ran}");
    assert_eq!(rows[1][7], "yes", "the second was: {ran}");
    let talk: f64 = rows[1][8].parse().unwrap();
    assert!(
        (0.5..5.0).contains(&talk),
        "about a second of conversation: {ran}"
    );
    assert_ne!(rows[0][2], rows[1][2], "two call IDs: {ran}");
}
