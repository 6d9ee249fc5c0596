//! Issue 19 items 2-4 end to end: the real binary against SIPp for reliable provisional
//! responses (RFC 3262) both ways, early media in a reliable 183, and RFC 4028 session timers
//! on an inbound call (422, the refresher, the refresh). The fake-clock timings (refresh at
//! half the interval, BYE on expiry, retransmission and give-up) are in src/sim/tests.

mod common;

use common::app::*;
use common::{free_port, line_config, scenario, sipp, GatewayProcess, SippRun};

/// A SIPp caller of the gateway's line 1001 in the background (`-d` is its talk time).
fn caller(gw: &GatewayProcess, name: &str, talk_ms: u32) -> tokio::task::JoinHandle<SippRun> {
    let target = gw.sip_addr().to_string();
    let sf = scenario(name);
    let d = talk_ms.to_string();
    tokio::task::spawn_blocking(move || {
        let args = [
            target.as_str(),
            "-sf",
            sf.to_str().unwrap(),
            "-m",
            "1",
            "-s",
            "1001",
            "-d",
            &d,
        ];
        sipp(&args).timeout(30).run()
    })
}

/// A SIPp caller running `name`, offered to an owner app that answers it: (the app, hCall,
/// the caller) once the call is CONNECTED.
async fn answered(
    gw: &GatewayProcess,
    name: &str,
) -> (Client, u32, tokio::task::JoinHandle<SippRun>) {
    let (mut c, _, _) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    let sipp = caller(gw, name, 300);
    let (h_call, _) = new_call(&mut c).await;
    state(&mut c, h_call, LINECALLSTATE_OFFERING).await;
    let answer = c.call_op("lineAnswer", h_call).await.unwrap();
    assert_eq!(reply(&mut c, answer).await, 0);
    state(&mut c, h_call, LINECALLSTATE_CONNECTED).await;
    (c, h_call, sipp)
}

/// SIPp as the provider: an outbound call gets a reliable 183 with SDP (port 6010), must PRACK
/// it, and the 200's other SDP (port 6020, PCMA) must not replace that answer.
#[tokio::test(flavor = "multi_thread")]
async fn outbound_reliable_183_is_pracked_and_its_early_media_is_the_answer() {
    let port = free_port();
    let p = port.to_string();
    let sf = scenario("uas_183_100rel_prack.xml");
    let provider = sipp(&["-sf", sf.to_str().unwrap(), "-p", &p, "-m", "1"])
        .timeout(30)
        .spawn();
    let gw = GatewayProcess::start(&line_config(port, "udp"));
    let (mut c, _, line) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    let (request, h_call) = c.line_make_call(line, "1002").await.unwrap();
    assert_eq!(reply(&mut c, request).await, 0);
    state(&mut c, h_call, LINECALLSTATE_RINGBACK).await;
    // The reliable 183's SDP is the remote media before the 200 (which SIPp holds back 1 s).
    let info = c.line_get_call_info(h_call).await.unwrap();
    assert_eq!(info["remoteMedia"], "127.0.0.1:6010", "{info}");
    assert_eq!(info["codec"], "PCMU");
    let (mode, _) = state(&mut c, h_call, LINECALLSTATE_CONNECTED).await;
    assert_eq!(mode, LINECONNECTEDMODE_ACTIVE);
    let info = c.line_get_call_info(h_call).await.unwrap();
    assert_eq!(
        info["remoteMedia"], "127.0.0.1:6010",
        "the 200's SDP comes after the answer: {info}"
    );
    let drop = c.call_op("lineDrop", h_call).await.unwrap();
    assert_eq!(reply(&mut c, drop).await, 0);
    state(&mut c, h_call, LINECALLSTATE_IDLE).await;
    let run = tokio::task::spawn_blocking(move || provider.wait())
        .await
        .unwrap();
    run.assert_success("provider with a reliable 183");
}

/// A caller that requires 100rel and makes no offer: our reliable 180 carries the offer, the
/// PRACK the answer, and lineAnswer's 200 waits for the PRACK.
#[tokio::test(flavor = "multi_thread")]
async fn inbound_offerless_invite_requiring_100rel_is_offered_in_the_reliable_180() {
    let gw = GatewayProcess::start(&line_config(free_port(), "udp"));
    let (mut c, h_call, sipp) = answered(&gw, "uac_100rel_offerless.xml").await;
    let info = c.line_get_call_info(h_call).await.unwrap();
    assert_eq!(
        info["codec"], "PCMU",
        "the answer came in the PRACK: {info}"
    );
    let (mode, _) = state(&mut c, h_call, LINECALLSTATE_DISCONNECTED).await;
    assert_eq!(mode, LINEDISCONNECTMODE_NORMAL);
    sipp.await
        .unwrap()
        .assert_success("caller requiring 100rel");
}

/// A caller asking for a session interval below our Min-SE gets 422 (no call for the app),
/// then asks for 90 s as refresher: the 200 says `Session-Expires: 90;refresher=uac` with
/// `Require: timer`, and its UPDATE refresh is answered with the interval.
#[tokio::test(flavor = "multi_thread")]
async fn inbound_session_timer_422_then_the_caller_refreshes() {
    let gw = GatewayProcess::start(&line_config(free_port(), "udp"));
    let (mut c, h_call, sipp) = answered(&gw, "uac_session_timer.xml").await;
    let (mode, before) = state(&mut c, h_call, LINECALLSTATE_DISCONNECTED).await;
    assert_eq!(mode, LINEDISCONNECTMODE_NORMAL, "the caller's BYE");
    assert!(
        before.is_empty(),
        "the refresh changed no state: {before:?}"
    );
    state(&mut c, h_call, LINECALLSTATE_IDLE).await;
    sipp.await
        .unwrap()
        .assert_success("caller with session timers");
}
