//! Issue 17 item 7 against the real binary and SIPp holding the calls: SIGTERM with 500 live
//! calls answers every BYE before the process exits; after SIGKILL the restarted gateway
//! finds every dialog in its journal and ends it with BYE, or with `sip.recover_calls = true`
//! refreshes it with a re-INVITE and hands it to apps through lineGetNewCalls. Zero calls are
//! left up at the provider.

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use common::app::*;
use common::{free_port, scenario, sipp, GatewayProcess, SippChild};
use serde_json::json;
use tapigw::journal::LiveDialogs;

/// One line to SIPp on `proxy`, signalling only (hundreds of calls need no RTP ports).
fn config(proxy: u16) -> String {
    format!(
        "[[lines]]\nuser = \"1001\"\ndomain = \"127.0.0.1\"\nproxy = \"127.0.0.1:{proxy}\"\n\n[media]\nmode = \"none\"\n"
    )
}

/// SIPp answering and holding `calls` calls until a BYE (or the scenario's end). Its default
/// 64 KB socket buffer drops part of a burst of 500 BYEs: their retransmissions must be
/// answered before the gateway exits.
fn provider(scenario_name: &str, calls: usize, timeout: u32) -> (u16, SippChild) {
    let port = free_port();
    let (p, m) = (port.to_string(), calls.to_string());
    let path = scenario(scenario_name);
    let child = sipp(&["-sf", path.to_str().unwrap(), "-p", &p, "-m", &m])
        .timeout(timeout)
        .spawn();
    (port, child)
}

/// Places `n` calls, 50 at a time (a burst of hundreds of INVITEs makes SIPp answer later
/// than T1, and SIPp aborts a call whose INVITE is retransmitted while it waits for the ACK),
/// and waits until every one is CONNECTED.
async fn connect_calls(c: &mut Client, line: u32, n: usize) {
    let mut connected = HashSet::new();
    for batch in (0..n).collect::<Vec<_>>().chunks(50) {
        for _ in batch {
            c.line_make_call(line, "1002").await.unwrap();
        }
        wait_connected(c, &mut connected, batch[batch.len() - 1] + 1).await;
    }
}

async fn wait_connected(c: &mut Client, connected: &mut HashSet<u32>, n: usize) {
    while connected.len() < n {
        let m = c
            .next_message(Duration::from_secs(60))
            .await
            .unwrap_or_else(|e| panic!("{} of {n} calls connected: {e}", connected.len()));
        if m.msg.dw_message_id == LINE_REPLY {
            assert_eq!(m.msg.reply_result(), 0, "a lineMakeCall failed");
        }
        if m.msg.dw_message_id == LINE_CALLSTATE && m.msg.dw_param1 == LINECALLSTATE_CONNECTED {
            connected.insert(m.msg.h_device);
        }
    }
}

/// Dialogs the journal at `path` holds as live.
fn journaled(path: &Path) -> usize {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    LiveDialogs::replay(&text).0.len()
}

/// Waits (bounded) until the journal holds `n` live dialogs.
fn wait_journaled(path: &Path, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while journaled(path) != n {
        assert!(
            Instant::now() < deadline,
            "journal holds {} dialogs, not {n}",
            journaled(path)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// SIGTERM, then the exit status within `bound`.
fn terminate(gw: &mut GatewayProcess, bound: Duration) -> std::process::ExitStatus {
    unsafe {
        libc::kill(gw.child.id() as i32, libc::SIGTERM);
    }
    let deadline = Instant::now() + bound;
    loop {
        if let Some(status) = gw.child.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "no exit within {bound:?} of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// lineGetCallInfo once the re-INVITE of a recovered call was answered (the codec comes
/// from the peer's answer; the journal does not keep it).
async fn refreshed(app: &mut Client, h_call: u32) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let info = app.line_get_call_info(h_call).await.unwrap();
        if info["codec"] == "PCMU" {
            return info;
        }
        assert!(
            Instant::now() < deadline,
            "re-INVITE never answered: {info}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn finish(child: SippChild, what: &str) {
    tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .assert_success(what);
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_with_500_live_calls_answers_every_bye_before_exiting() {
    let (port, sipp) = provider("uas_answer_gw_hangs_up.xml", 500, 180);
    let mut gw = GatewayProcess::start(&config(port));
    let (mut c, _, line) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    connect_calls(&mut c, line, 500).await;
    let journal = gw.dir.path().join("tapigw.journal");
    wait_journaled(&journal, 500);
    let started = Instant::now();
    let status = terminate(&mut gw, Duration::from_secs(20));
    assert!(status.success(), "graceful stop exits 0: {status}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "waited the whole sip.shutdown_grace_s: some BYE was never answered"
    );
    // SIPp ends only when each of its 500 calls got its BYE and answered it.
    finish(sipp, "500 calls, each ended by a BYE").await;
    assert_eq!(journaled(&journal), 0, "every dialog ended in the journal");
}

/// A gateway with `calls` calls up at SIPp and its journal at `journal` (with `sip_extra`
/// keys), SIGKILLed, then started again on the same ports and journal; the restarted one and
/// the log line that sums up what it found.
async fn crash_and_restart(
    proxy: u16,
    calls: usize,
    journal: &Path,
    sip_extra: &str,
) -> (GatewayProcess, String) {
    let sip_extra = format!("journal_path = \"{}\"\n{sip_extra}", journal.display());
    let (sip_port, api_port) = (free_port(), free_port());
    let mut gw = GatewayProcess::start_on_with_sip(sip_port, api_port, &sip_extra, &config(proxy));
    let (mut c, _, line) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    connect_calls(&mut c, line, calls).await;
    wait_journaled(journal, calls);
    gw.kill();
    drop(c);
    let mut again =
        GatewayProcess::start_on_with_sip(sip_port, api_port, &sip_extra, &config(proxy));
    let recovered = again.wait_for_log("dialogs from the call journal", Duration::from_secs(10));
    (again, recovered)
}

#[tokio::test(flavor = "multi_thread")]
async fn after_sigkill_the_restarted_gateway_ends_every_journaled_call_with_bye() {
    let calls = 20;
    let (port, sipp) = provider("uas_answer_gw_hangs_up.xml", calls, 90);
    let state_dir = tempfile::tempdir().unwrap();
    let journal = state_dir.path().join("calls.journal");
    let (mut again, recovered) = crash_and_restart(port, calls, &journal, "").await;
    assert!(recovered.contains(&format!("ended={calls}")), "{recovered}");
    finish(sipp, "every call held at the provider got a BYE").await;
    wait_journaled(&journal, 0);
    assert!(again.stop().success());
}

#[tokio::test(flavor = "multi_thread")]
async fn with_recover_calls_the_restarted_gateway_refreshes_each_call_and_apps_take_it_over() {
    let calls = 5;
    let (port, sipp) = provider("uas_answer_reinvite_bye.xml", calls, 90);
    let state_dir = tempfile::tempdir().unwrap();
    let journal = state_dir.path().join("calls.journal");
    let (mut again, recovered) =
        crash_and_restart(port, calls, &journal, "recover_calls = true").await;
    assert!(recovered.contains(&format!("kept={calls}")), "{recovered}");
    let (mut app, _, line) = open_line(again.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    let found = app
        .call(
            "lineGetNewCalls",
            json!({"hLine": line, "addressId": 0, "select": LINECALLSELECT_LINE}),
        )
        .await
        .unwrap();
    let handles: Vec<u32> = found["hCalls"]
        .as_array()
        .expect("hCalls")
        .iter()
        .map(|h| h.as_u64().unwrap() as u32)
        .collect();
    assert_eq!(handles.len(), calls, "{found}");
    for &h_call in &handles {
        let info = refreshed(&mut app, h_call).await;
        assert_eq!(info["calledId"], "1002");
        app.call(
            "lineSetCallPrivilege",
            json!({"hCall": h_call, "callPrivilege": LINECALLPRIVILEGE_OWNER}),
        )
        .await
        .unwrap();
        let drop = app.call_op("lineDrop", h_call).await.unwrap();
        assert_eq!(reply(&mut app, drop).await, 0);
    }
    finish(
        sipp,
        "every call refreshed by a re-INVITE, then ended by the app",
    )
    .await;
    wait_journaled(&journal, 0);
    assert!(again.stop().success());
}
