//! The library against the real gateway binary (and SIPp where a call is needed): errors for
//! null pointers, bad handles and bad options, the two-pass dwNeededSize loop, USEEVENT with
//! poll(), and a gateway that is not there.

mod common;

use common::*;
use std::net::TcpListener;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(40);

#[test]
fn errors_for_null_pointers_and_bad_handles() {
    let scratch = Scratch::new("errors");
    let gw = Gateway::start(free_port());
    let exe = compile(&scratch, &c_source("errors.c"), &[]);
    let ran = run(&scratch, &exe, &[], &gw.env(), LIMIT);
    assert_eq!(ran.code(), Some(0), "{ran}");
    assert!(ran.stdout.contains("0 failures"), "{ran}");
}

#[test]
fn two_pass_dw_needed_size_loop_at_2_2_and_1_4() {
    let scratch = Scratch::new("two-pass");
    let gw = Gateway::start(free_port());
    for define in [
        "-DTAPI_CURRENT_VERSION=0x00020002",
        "-DTAPI_CURRENT_VERSION=0x00010004",
    ] {
        let exe = compile(&scratch, &c_source("two_pass.c"), &[define]);
        let ran = run(&scratch, &exe, &[], &gw.env(), LIMIT);
        assert_eq!(ran.code(), Some(0), "{define}: {ran}");
    }
}

#[test]
fn the_token_in_tapigw_token_authenticates() {
    let scratch = Scratch::new("token");
    let gw = Gateway::start_with(free_port(), "token = \"c-token\"", "mode = \"none\"\n");
    let exe = compile(&scratch, &c_source("two_pass.c"), &[]);
    let mut env = gw.env();
    env.push(("TAPIGW_TOKEN", "c-token".into()));
    let ran = run(&scratch, &exe, &[], &env, LIMIT);
    assert_eq!(ran.code(), Some(0), "with the token: {ran}");
    env.pop();
    env.push(("TAPIGW_TOKEN", "wrong".into()));
    let ran = run(&scratch, &exe, &[], &env, LIMIT);
    assert_ne!(ran.code(), Some(0), "a wrong token: {ran}");
}

#[test]
fn use_event_with_poll_through_a_busy_call() {
    let scratch = Scratch::new("event-poll");
    let sf = scenario_with(
        &scratch,
        "uas_reject.xml",
        &[("STATUS", "486"), ("PROVISIONAL", "180 Ringing")],
    );
    let (port, sipp) = Sipp::provider(&scratch, &sf, &[]);
    let gw = Gateway::start(port);
    let exe = compile(&scratch, &c_source("event_poll.c"), &[]);
    let ran = run(&scratch, &exe, &["1002"], &gw.env(), LIMIT);
    assert_eq!(ran.code(), Some(0), "{ran}");
    sipp.assert_success("provider answering 486");
}

#[test]
fn a_gateway_that_is_not_there_gives_nodriver_at_once() {
    let scratch = Scratch::new("down");
    let exe = compile(&scratch, &c_source("gateway_down.c"), &[]);
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let env = [("TAPIGW_API", format!("127.0.0.1:{closed}"))];
    let ran = run(&scratch, &exe, &["500"], &env, LIMIT);
    assert_eq!(ran.code(), Some(0), "refused: {ran}");
}

#[test]
fn a_gateway_that_never_answers_gives_nodriver_after_the_time_out() {
    let scratch = Scratch::new("silent");
    let exe = compile(&scratch, &c_source("gateway_down.c"), &[]);
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let env = [
        ("TAPIGW_API", format!("127.0.0.1:{port}")),
        ("TAPIGW_TIMEOUT_MS", "300".to_string()),
    ];
    // Accepted by the kernel's backlog, never answered: each initialize waits its 300 ms.
    let ran = run(&scratch, &exe, &["2000"], &env, LIMIT);
    assert_eq!(ran.code(), Some(0), "silent: {ran}");
    assert!(
        ran.elapsed >= Duration::from_millis(550),
        "waited the time-outs: {ran}"
    );
    drop(silent);
}

#[test]
fn an_unresolvable_gateway_address_gives_nodriver() {
    let scratch = Scratch::new("badaddr");
    let exe = compile(&scratch, &c_source("gateway_down.c"), &[]);
    let env = [("TAPIGW_API", "not an address".to_string())];
    let ran = run(&scratch, &exe, &["1000"], &env, LIMIT);
    assert_eq!(ran.code(), Some(0), "{ran}");
}
