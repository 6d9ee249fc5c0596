//! Issue 5 end to end: SIPp calls the real binary; apps answer, reject, redirect, monitor.

mod common;

use common::app::*;
use common::{free_port, line_config, scenario, scenario_with, sipp, GatewayProcess, SippRun};

/// Runs a SIPp caller against the gateway's line user 1001 in the background.
fn caller(
    gw: &GatewayProcess,
    sf: &std::path::Path,
    extra: &[&str],
) -> tokio::task::JoinHandle<SippRun> {
    let target = gw.sip_addr().to_string();
    let mut args: Vec<String> = vec![
        target,
        "-sf".into(),
        sf.to_str().unwrap().into(),
        "-m".into(),
        "1".into(),
        "-s".into(),
        "1001".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        sipp(&args).timeout(30).run()
    })
}

fn gateway() -> GatewayProcess {
    GatewayProcess::start(&line_config(free_port(), "udp"))
}

#[tokio::test(flavor = "multi_thread")]
async fn answered_then_caller_hangs_up_with_a_monitor_watching() {
    let gw = gateway();
    let (mut owner, _, _) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    let (mut monitor, _, _) = open_line(gw.api_addr(), LINECALLPRIVILEGE_MONITOR).await;
    let sipp = caller(
        &gw,
        &scenario("uac_call_caller_hangs_up.xml"),
        &["-d", "300"],
    );
    let (h_call, privilege) = new_call(&mut owner).await;
    assert_eq!(privilege, LINECALLPRIVILEGE_OWNER);
    let (mode, _) = state(&mut owner, h_call, LINECALLSTATE_OFFERING).await;
    assert_eq!(mode, LINEOFFERINGMODE_ACTIVE);
    let (m_call, m_privilege) = new_call(&mut monitor).await;
    assert_eq!(m_privilege, LINECALLPRIVILEGE_MONITOR);
    state(&mut monitor, m_call, LINECALLSTATE_OFFERING).await;
    let info = owner.line_get_call_info(h_call).await.unwrap();
    assert_eq!(info["callerId"], "2000");
    assert_eq!(info["callerIdName"], "Alice");
    assert_eq!(info["calledId"], "1001");
    assert_eq!(info["origin"], LINECALLORIGIN_INBOUND);
    assert_eq!(
        (info["numOwners"].as_u64(), info["numMonitors"].as_u64()),
        (Some(1), Some(1))
    );
    let err = monitor.call_op("lineAnswer", m_call).await.unwrap_err();
    assert!(matches!(err, ClientError::Rpc { ref message, .. } if message == "LINEERR_NOTOWNER"));
    let answer = owner.call_op("lineAnswer", h_call).await.unwrap();
    assert_eq!(reply(&mut owner, answer).await, 0);
    state(&mut owner, h_call, LINECALLSTATE_CONNECTED).await;
    assert_eq!(
        owner.line_get_call_info(h_call).await.unwrap()["codec"],
        "PCMU"
    );
    let (mode, _) = state(&mut owner, h_call, LINECALLSTATE_DISCONNECTED).await;
    assert_eq!(mode, LINEDISCONNECTMODE_NORMAL);
    state(&mut owner, h_call, LINECALLSTATE_IDLE).await;
    state(&mut monitor, m_call, LINECALLSTATE_IDLE).await;
    sipp.await
        .unwrap()
        .assert_success("caller (answered, caller hangs up)");
}

#[tokio::test(flavor = "multi_thread")]
async fn answered_then_the_app_hangs_up() {
    let gw = gateway();
    let (mut c, _, _) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    let sipp = caller(&gw, &scenario("uac_call_app_hangs_up.xml"), &[]);
    let (h_call, _) = new_call(&mut c).await;
    let accept = c.call_op("lineAccept", h_call).await.unwrap();
    assert_eq!(reply(&mut c, accept).await, 0);
    state(&mut c, h_call, LINECALLSTATE_ACCEPTED).await;
    let answer = c.call_op("lineAnswer", h_call).await.unwrap();
    assert_eq!(reply(&mut c, answer).await, 0);
    state(&mut c, h_call, LINECALLSTATE_CONNECTED).await;
    let drop = c.call_op("lineDrop", h_call).await.unwrap();
    assert_eq!(reply(&mut c, drop).await, 0);
    state(&mut c, h_call, LINECALLSTATE_IDLE).await;
    sipp.await
        .unwrap()
        .assert_success("caller (answered, app hangs up)");
}

async fn offered_then(status: u16, act: impl AsyncFnOnce(&mut Client, u32) -> u32) {
    let gw = gateway();
    let (mut c, _, _) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    let dir = tempfile::tempdir().unwrap();
    let sf = scenario_with(
        "uac_call_rejected.xml",
        dir.path(),
        &[("STATUS", &status.to_string())],
    );
    let sipp = caller(&gw, &sf, &[]);
    let (h_call, _) = new_call(&mut c).await;
    state(&mut c, h_call, LINECALLSTATE_OFFERING).await;
    let request = act(&mut c, h_call).await;
    assert_eq!(reply(&mut c, request).await, 0);
    state(&mut c, h_call, LINECALLSTATE_IDLE).await;
    sipp.await
        .unwrap()
        .assert_success(&format!("caller ({status})"));
}

#[tokio::test(flavor = "multi_thread")]
async fn drop_while_offered_rejects_with_603() {
    offered_then(603, async |c, h| c.call_op("lineDrop", h).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn redirect_sends_302() {
    offered_then(302, async |c, h| {
        c.line_redirect(h, "sip:3000@127.0.0.1").await.unwrap()
    })
    .await;
}

async fn refused(status: u16, privileges: Option<u32>, user: &str) {
    let gw = gateway();
    let _app = match privileges {
        Some(p) => Some(open_line(gw.api_addr(), p).await),
        None => None,
    };
    let dir = tempfile::tempdir().unwrap();
    let sf = scenario_with(
        "uac_call_refused.xml",
        dir.path(),
        &[("STATUS", &status.to_string())],
    );
    let target = gw.sip_addr().to_string();
    let user = user.to_string();
    let run = tokio::task::spawn_blocking(move || {
        sipp(&[&target, "-sf", sf.to_str().unwrap(), "-m", "1", "-s", &user])
            .timeout(20)
            .run()
    });
    run.await
        .unwrap()
        .assert_success(&format!("caller expecting {status}"));
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_user_gets_404() {
    refused(404, Some(LINECALLPRIVILEGE_OWNER), "9999").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn no_owner_gets_480() {
    refused(480, Some(LINECALLPRIVILEGE_MONITOR), "1001").await;
    refused(480, None, "1001").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn caller_cancel_while_offered() {
    let gw = gateway();
    let (mut c, _, _) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    let sipp = caller(&gw, &scenario("uac_call_cancelled.xml"), &["-d", "300"]);
    let (h_call, _) = new_call(&mut c).await;
    state(&mut c, h_call, LINECALLSTATE_OFFERING).await;
    let (mode, _) = state(&mut c, h_call, LINECALLSTATE_DISCONNECTED).await;
    assert_eq!(mode, LINEDISCONNECTMODE_NORMAL);
    state(&mut c, h_call, LINECALLSTATE_IDLE).await;
    sipp.await.unwrap().assert_success("caller (CANCEL)");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_owner_that_disconnects_while_offered_rejects_the_call() {
    let gw = gateway();
    let (mut c, _, _) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    let dir = tempfile::tempdir().unwrap();
    let sf = scenario_with("uac_call_rejected.xml", dir.path(), &[("STATUS", "603")]);
    let sipp = caller(&gw, &sf, &[]);
    let (h_call, _) = new_call(&mut c).await;
    state(&mut c, h_call, LINECALLSTATE_OFFERING).await;
    drop(c);
    sipp.await
        .unwrap()
        .assert_success("caller (owner went away)");
}
