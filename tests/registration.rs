//! Issue 6 end to end: REGISTER with digest against SIPp registrars (UDP and TCP), a registrar
//! that refuses, a provider that challenges INVITE with 407, and untrusted INVITE sources.

mod common;

use std::time::Duration;

use common::app::*;
use common::{free_port, scenario, scenario_with, sipp, GatewayProcess, SippChild};

fn registering_line(port: u16, transport: &str, host: &str) -> String {
    format!(
        "[[lines]]\nuser = \"1001\"\ndomain = \"127.0.0.1\"\nproxy = \"{host}:{port}\"\ntransport = \"{transport}\"\n\
         register = true\nexpires = 60\nauth_user = \"1001\"\npassword = \"secret\"\n\n[media]\nmode = \"none\"\n"
    )
}

fn registrar(port: u16, scenario_name: &str, transport: &str) -> SippChild {
    let sf = scenario(scenario_name);
    let p = port.to_string();
    sipp(&[
        "-sf",
        sf.to_str().unwrap(),
        "-p",
        &p,
        "-t",
        transport,
        "-m",
        "1",
        "-deadcall_wait",
        "0",
    ])
    .timeout(30)
    .spawn()
}

async fn registers_with_digest(transport: &str, sipp_transport: &str) {
    let port = free_port();
    // The gateway starts first: its REGISTER is retransmitted (UDP) or retried until SIPp is up.
    let mut gw = GatewayProcess::start(&registering_line(port, transport, "127.0.0.1"));
    let (mut c, _, line) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    c.line_set_status_messages(line, LINEDEVSTATE_INSERVICE | LINEDEVSTATE_OUTOFSERVICE)
        .await
        .unwrap();
    let before = c
        .call("lineGetLineDevStatus", serde_json::json!({"hLine": line}))
        .await
        .unwrap();
    assert_eq!(
        before["devStatusFlags"].as_u64().unwrap() as u32 & LINEDEVSTATUSFLAGS_INSERVICE,
        0
    );
    let sipp = registrar(port, "uas_register_digest.xml", sipp_transport);
    let (m, _) = c
        .wait_for(Duration::from_secs(25), |m| {
            m.msg.dw_message_id == LINE_LINEDEVSTATE
        })
        .await
        .expect("LINE_LINEDEVSTATE");
    assert_eq!(m.msg.dw_param1, LINEDEVSTATE_INSERVICE);
    assert_eq!(m.msg.h_device, line);
    let status = c
        .call("lineGetLineDevStatus", serde_json::json!({"hLine": line}))
        .await
        .unwrap();
    assert_ne!(
        status["devStatusFlags"].as_u64().unwrap() as u32 & LINEDEVSTATUSFLAGS_INSERVICE,
        0
    );
    assert_eq!(status["registered"], true);
    gw.wait_for_log("registered", Duration::from_secs(5));
    assert!(gw.stop().success());
    let run = tokio::task::spawn_blocking(move || sipp.wait())
        .await
        .unwrap();
    run.assert_success(&format!(
        "registrar over {transport} (challenge, 200, un-REGISTER)"
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn registers_with_digest_over_udp() {
    registers_with_digest("udp", "u1").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn registers_with_digest_over_tcp() {
    registers_with_digest("tcp", "t1").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refusing_registrar_leaves_the_line_out_of_service() {
    let port = free_port();
    let sipp = registrar(port, "uas_register_refuse.xml", "u1");
    let mut gw = GatewayProcess::start(&registering_line(port, "udp", "127.0.0.1"));
    gw.wait_for_log("registration failed", Duration::from_secs(20));
    let (mut c, _, line) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    let status = c
        .call("lineGetLineDevStatus", serde_json::json!({"hLine": line}))
        .await
        .unwrap();
    assert_eq!(
        status["devStatusFlags"].as_u64().unwrap() as u32 & LINEDEVSTATUSFLAGS_INSERVICE,
        0
    );
    assert_eq!(status["registered"], false);
    let run = tokio::task::spawn_blocking(move || sipp.wait())
        .await
        .unwrap();
    run.assert_success("refusing registrar");
}

#[tokio::test(flavor = "multi_thread")]
async fn invite_challenged_with_407_is_retried_with_credentials() {
    let port = free_port();
    let sf = scenario("uas_invite_407.xml");
    let p = port.to_string();
    let sipp = sipp(&["-sf", sf.to_str().unwrap(), "-p", &p, "-m", "1"])
        .timeout(30)
        .spawn();
    let line = format!(
        "[[lines]]\nuser = \"1001\"\ndomain = \"127.0.0.1\"\nproxy = \"127.0.0.1:{port}\"\nauth_user = \"1001\"\npassword = \"secret\"\n\n[media]\nmode = \"none\"\n"
    );
    let gw = GatewayProcess::start(&line);
    let (mut c, _, h_line) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    let (request, h_call) = c.line_make_call(h_line, "1002").await.unwrap();
    let (m, skipped) = c
        .wait_for(WAIT, |m| m.msg.dw_message_id == LINE_REPLY)
        .await
        .unwrap();
    assert!(skipped.is_empty());
    assert_eq!((m.msg.dw_param1, m.msg.reply_result()), (request, 0));
    state(&mut c, h_call, LINECALLSTATE_CONNECTED).await;
    let drop = c.call_op("lineDrop", h_call).await.unwrap();
    assert_eq!(reply(&mut c, drop).await, 0);
    let run = tokio::task::spawn_blocking(move || sipp.wait())
        .await
        .unwrap();
    run.assert_success("provider with 407");
}

#[tokio::test(flavor = "multi_thread")]
async fn invites_from_untrusted_sources_get_403() {
    // The provider is 127.0.0.2; SIPp calls from 127.0.0.1.
    let gw = GatewayProcess::start(&registering_line(free_port(), "udp", "127.0.0.2"));
    let _app = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    let dir = tempfile::tempdir().unwrap();
    let sf = scenario_with("uac_call_refused.xml", dir.path(), &[("STATUS", "403")]);
    let target = gw.sip_addr().to_string();
    let run = tokio::task::spawn_blocking(move || {
        sipp(&[
            &target,
            "-sf",
            sf.to_str().unwrap(),
            "-m",
            "1",
            "-s",
            "1001",
        ])
        .timeout(20)
        .run()
    })
    .await
    .unwrap();
    run.assert_success("untrusted caller gets 403");
}
