//! Issue 4 end to end: the real binary places calls through the API; SIPp plays the provider.

mod common;

use common::app::*;
use common::{free_port, line_config, scenario, scenario_with, sipp, GatewayProcess, SippChild};

/// SIPp as the provider on a free port, bounded, with `extra` options.
fn provider(scenario_path: &std::path::Path, transport: &str, extra: &[&str]) -> (u16, SippChild) {
    let port = free_port();
    let p = port.to_string();
    let mut args = vec![
        "-sf",
        scenario_path.to_str().unwrap(),
        "-p",
        &p,
        "-t",
        transport,
    ];
    if !extra.contains(&"-m") {
        args.extend(["-m", "1"]);
    }
    args.extend_from_slice(extra);
    let child = sipp(&args).timeout(30).spawn();
    if transport == "t1" {
        common::wait_tcp_listening(port);
    }
    (port, child)
}

async fn finish(child: SippChild, what: &str) {
    let run = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap();
    run.assert_success(what);
}

#[tokio::test(flavor = "multi_thread")]
async fn answered_call_dropped_by_the_app() {
    let (port, sipp) = provider(&scenario("uas_answer_gw_hangs_up.xml"), "u1", &[]);
    let gw = GatewayProcess::start(&line_config(port, "udp"));
    let (mut c, _, line) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    let (request, h_call) = c.line_make_call(line, "1002").await.unwrap();
    assert!(request > 0);
    assert_eq!(reply(&mut c, request).await, 0);
    let (mode, before) = state(&mut c, h_call, LINECALLSTATE_CONNECTED).await;
    assert_eq!(mode, LINECONNECTEDMODE_ACTIVE);
    assert_eq!(
        before,
        vec![LINECALLSTATE_PROCEEDING, LINECALLSTATE_RINGBACK]
    );
    let info = c.line_get_call_info(h_call).await.unwrap();
    assert_eq!(info["codec"], "PCMA");
    assert_eq!(info["origin"], LINECALLORIGIN_OUTBOUND);
    assert_eq!(info["calledId"], "1002");
    assert!(info["remoteMedia"]
        .as_str()
        .unwrap()
        .starts_with("127.0.0.1:"));
    let status = c.line_get_call_status(h_call).await.unwrap();
    assert_eq!(
        status["callFeatures"],
        LINECALLFEATURE_DROP
            | LINECALLFEATURE_HOLD
            | LINECALLFEATURE_BLINDTRANSFER
            | LINECALLFEATURE_SETUPTRANSFER
            | LINECALLFEATURE_MONITORDIGITS
            | LINECALLFEATURE_GATHERDIGITS
            | LINECALLFEATURE_GENERATEDIGITS
            | LINECALLFEATURE_GENERATETONE,
        "the media functions too: the call has an RTP session"
    );
    let drop = c.call_op("lineDrop", h_call).await.unwrap();
    assert_eq!(reply(&mut c, drop).await, 0);
    state(&mut c, h_call, LINECALLSTATE_IDLE).await;
    let err = c.call_op("lineDrop", h_call).await.unwrap_err();
    assert!(
        matches!(err, ClientError::Rpc { ref message, .. } if message == "LINEERR_INVALCALLSTATE"),
        "{err}"
    );
    c.line_deallocate_call(h_call).await.unwrap();
    assert!(
        c.line_get_call_info(h_call).await.is_err(),
        "handle gone after lineDeallocateCall"
    );
    finish(sipp, "provider (answer, gateway hangs up)").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn answered_call_ended_by_the_provider_over_tcp() {
    let (port, sipp) = provider(
        &scenario("uas_answer_provider_hangs_up.xml"),
        "t1",
        &["-d", "300"],
    );
    let gw = GatewayProcess::start(&line_config(port, "tcp"));
    let (mut c, _, line) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    let (request, h_call) = c.line_make_call(line, "sip:1002@127.0.0.1").await.unwrap();
    assert_eq!(reply(&mut c, request).await, 0);
    state(&mut c, h_call, LINECALLSTATE_CONNECTED).await;
    let (mode, _) = state(&mut c, h_call, LINECALLSTATE_DISCONNECTED).await;
    assert_eq!(mode, LINEDISCONNECTMODE_NORMAL);
    state(&mut c, h_call, LINECALLSTATE_IDLE).await;
    finish(sipp, "provider (answer, provider hangs up, TCP)").await;
}

async fn rejected_with(status: u16, expected_mode: u32) {
    rejected_after("180 Ringing", status, expected_mode).await;
}

async fn rejected_after(provisional: &str, status: u16, expected_mode: u32) {
    let dir = tempfile::tempdir().unwrap();
    let sf = scenario_with(
        "uas_reject.xml",
        dir.path(),
        &[
            ("STATUS", &status.to_string()),
            ("PROVISIONAL", provisional),
        ],
    );
    let (port, sipp) = provider(&sf, "u1", &[]);
    let gw = GatewayProcess::start(&line_config(port, "udp"));
    let (mut c, _, line) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    let (request, h_call) = c.line_make_call(line, "1002").await.unwrap();
    assert_eq!(
        reply(&mut c, request).await,
        0,
        "a final failure still completes the request"
    );
    let (mode, before) = state(&mut c, h_call, LINECALLSTATE_DISCONNECTED).await;
    assert_eq!(mode, expected_mode, "status {status}");
    assert_eq!(
        before,
        vec![LINECALLSTATE_PROCEEDING, LINECALLSTATE_RINGBACK]
    );
    state(&mut c, h_call, LINECALLSTATE_IDLE).await;
    finish(sipp, &format!("provider ({status})")).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn busy_is_disconnected_busy() {
    rejected_with(486, LINEDISCONNECTMODE_BUSY).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn not_found_is_badaddress() {
    rejected_with(404, LINEDISCONNECTMODE_BADADDRESS).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn service_unavailable_is_congestion() {
    rejected_with(503, LINEDISCONNECTMODE_CONGESTION).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn drop_while_ringing_sends_cancel() {
    let (port, sipp) = provider(&scenario("uas_ring_expect_cancel.xml"), "u1", &[]);
    let gw = GatewayProcess::start(&line_config(port, "udp"));
    let (mut c, _, line) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    let (request, h_call) = c.line_make_call(line, "1002").await.unwrap();
    assert_eq!(reply(&mut c, request).await, 0);
    state(&mut c, h_call, LINECALLSTATE_RINGBACK).await;
    let drop = c.call_op("lineDrop", h_call).await.unwrap();
    assert_eq!(reply(&mut c, drop).await, 0);
    let (_, before) = state(&mut c, h_call, LINECALLSTATE_IDLE).await;
    assert!(
        !before.contains(&LINECALLSTATE_DISCONNECTED),
        "a local drop goes straight to IDLE"
    );
    finish(sipp, "provider (ring, CANCEL)").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn no_answer_at_all_fails_the_request_after_timer_b() {
    // The proxy port takes datagrams and never answers: INVITE retransmissions until Timer B
    // (64*T1 = 6.4 s). (A closed port would fail at once: ICMP port unreachable.)
    let port = free_port();
    let _silent = std::net::UdpSocket::bind(("127.0.0.1", port)).unwrap();
    let gw = GatewayProcess::start(&line_config(port, "udp"));
    let (mut c, _, line) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    let (request, h_call) = c.line_make_call(line, "1002").await.unwrap();
    let (m, skipped) = c
        .wait_for(WAIT, |m| m.msg.dw_message_id == LINE_REPLY)
        .await
        .unwrap();
    assert_eq!(m.msg.dw_param1, request);
    assert_eq!(
        m.msg.reply_result(),
        tapigw::tapi::LINEERR_OPERATIONFAILED.code()
    );
    assert!(skipped.is_empty(), "no call states before the failed reply");
    assert!(
        c.line_get_call_status(h_call).await.is_err(),
        "the handle is void"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn tcp_connect_refused_fails_the_request_at_once() {
    let port = free_port();
    let gw = GatewayProcess::start(&line_config(port, "tcp"));
    let (mut c, _, line) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    let (request, _) = c.line_make_call(line, "1002").await.unwrap();
    let code = reply(&mut c, request).await;
    assert_eq!(code, tapigw::tapi::LINEERR_RESOURCEUNAVAIL.code());
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_destination_is_refused_synchronously() {
    let gw = GatewayProcess::start(&line_config(free_port(), "udp"));
    let (mut c, _, line) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    let err = c.line_make_call(line, "not a number").await.unwrap_err();
    assert!(
        matches!(err, ClientError::Rpc { ref message, .. } if message == "LINEERR_INVALADDRESS"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn session_progress_then_503() {
    rejected_after("183 Session Progress", 503, LINEDISCONNECTMODE_CONGESTION).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_200_crossing_the_cancel_is_acked_and_hung_up() {
    let (port, sipp) = provider(&scenario("uas_cancel_crossed_by_200.xml"), "u1", &[]);
    let gw = GatewayProcess::start(&line_config(port, "udp"));
    let (mut c, _, line) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    let (request, h_call) = c.line_make_call(line, "1002").await.unwrap();
    assert_eq!(reply(&mut c, request).await, 0);
    state(&mut c, h_call, LINECALLSTATE_RINGBACK).await;
    let drop = c.call_op("lineDrop", h_call).await.unwrap();
    assert_eq!(
        reply(&mut c, drop).await,
        0,
        "completes once the BYE is answered"
    );
    let (_, before) = state(&mut c, h_call, LINECALLSTATE_IDLE).await;
    assert!(
        !before.contains(&LINECALLSTATE_CONNECTED),
        "the app never sees it connected"
    );
    finish(sipp, "provider (CANCEL crossed by 200)").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn several_calls_at_once_on_one_line() {
    let (port, sipp) = provider(&scenario("uas_answer_gw_hangs_up.xml"), "u1", &["-m", "3"]);
    let gw = GatewayProcess::start(&line_config(port, "udp"));
    let (mut c, _, line) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    let mut calls = Vec::new();
    for n in 0..3 {
        calls.push(c.line_make_call(line, &format!("100{n}")).await.unwrap());
    }
    let mut connected = std::collections::HashSet::new();
    let mut replies = std::collections::HashSet::new();
    while connected.len() < 3 {
        let m = c.next_message(WAIT).await.unwrap();
        if m.msg.dw_message_id == LINE_REPLY {
            assert_eq!(m.msg.reply_result(), 0);
            replies.insert(m.msg.dw_param1);
        }
        if m.msg.dw_message_id == LINE_CALLSTATE && m.msg.dw_param1 == LINECALLSTATE_CONNECTED {
            let (request, _) = calls.iter().find(|(_, h)| *h == m.msg.h_device).unwrap();
            assert!(
                replies.contains(request),
                "LINE_REPLY(0) came before the call's states"
            );
            connected.insert(m.msg.h_device);
        }
    }
    for (_, h_call) in &calls {
        let drop = c.call_op("lineDrop", *h_call).await.unwrap();
        assert_eq!(reply(&mut c, drop).await, 0);
    }
    finish(sipp, "provider (3 calls)").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_hangs_up_live_calls_and_closes_lines() {
    let (port, sipp) = provider(&scenario("uas_answer_gw_hangs_up.xml"), "u1", &[]);
    let mut gw = GatewayProcess::start(&line_config(port, "udp"));
    let (mut c, _, line) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    let (request, h_call) = c.line_make_call(line, "1002").await.unwrap();
    assert_eq!(reply(&mut c, request).await, 0);
    state(&mut c, h_call, LINECALLSTATE_CONNECTED).await;
    assert!(gw.stop().success(), "graceful stop exits 0");
    let (m, _) = c
        .wait_for(WAIT, |m| m.msg.dw_message_id == LINE_CLOSE)
        .await
        .expect("LINE_CLOSE");
    assert_eq!(m.msg.h_device, line);
    finish(sipp, "provider gets a BYE on shutdown").await;
}
