//! Issue 13 end to end: call control against the real binary, SIPp as every peer. Hold and
//! unhold (with glare), the peer's hold, blind transfer (success and a failed sipfrag),
//! attended transfer with Replaces, being transferred by REFER, an INVITE with Replaces
//! (two SIPp instances coordinated through SIPp's 3PCC twin commands) and unconditional
//! forwarding. What SIPp checks on the wire is in each scenario's `<ereg check_it>` actions;
//! what the app sees is checked here. Every scenario in tests/sipp also passes SIPp's load
//! check first (`every_scenario_loads_in_sipp`). `CC_TRACE=1` prints SIPp's message trace of
//! passing runs too.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::json;

use common::app::*;
use common::{
    free_port, line_config, scenario, scenario_with, sipp, wait_tcp_listening, GatewayProcess,
    SippChild, SippRun,
};

fn operation_failed() -> i32 {
    tapigw::tapi::LINEERR_OPERATIONFAILED.code()
}

// ---------------------------------------------------------------------------------------------
// Every scenario loads

/// What the scenarios' `@KEY@` placeholders are filled with for the load check.
const PLACEHOLDERS: &[(&str, &str)] = &[
    ("STATUS", "486"),
    ("PROVISIONAL", "180 Ringing"),
    ("FRAG", "200 OK"),
];

/// What the scenarios' `-key` keywords are given for the load check (`[rtp_port]`: the test's
/// RTP socket, tests/media_tapi.rs).
const KEYS: &[(&str, &str)] = &[("rtp_port", "10000")];

/// The first command of a scenario (comments skipped): `send`, `recv`, `recvCmd`, ...
fn first_command(text: &str) -> String {
    let mut rest = text;
    loop {
        let Some(at) = rest.find('<') else {
            return String::new();
        };
        rest = &rest[at..];
        if rest.starts_with("<!--") {
            rest = rest.split_once("-->").map_or("", |(_, r)| r);
        } else if rest.starts_with("<?")
            || rest.starts_with("<scenario")
            || rest.starts_with("<Global")
        {
            rest = &rest[1..];
        } else {
            let name: String = rest[1..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            return name;
        }
    }
}

/// The load check of sipp-notes §4.4 for one scenario: SIPp parses it, finds every keyword
/// and variable, gets no call within `-timeout 1s` and exits 97. Clients are pointed at the
/// discard port with `-r 0`; a 3PCC twin A gets a listener to connect to, a twin B a free
/// port to listen on.
fn lint(path: &Path) -> Result<(), String> {
    let mut text = std::fs::read_to_string(path).unwrap();
    for (key, value) in PLACEHOLDERS {
        text = text.replace(&format!("@{key}@"), value);
    }
    if let Some((_, rest)) = text.split_once('@') {
        if let Some((key, _)) = rest.split_once('@') {
            if !key.is_empty() && key.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                return Err(format!("placeholder @{key}@ has no value in PLACEHOLDERS"));
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(path.file_name().unwrap());
    std::fs::write(&file, &text).unwrap();
    let sf = file.to_str().unwrap().to_string();
    let port = free_port().to_string();
    let first = first_command(&text);
    let mut args: Vec<String> = Vec::new();
    let mut _listener = None;
    match first.as_str() {
        "recv" => args.extend(["-sf".into(), sf, "-p".into(), port]),
        "send" | "recvCmd" => {
            args.extend(["127.0.0.1:9".into(), "-sf".into(), sf, "-p".into(), port]);
            args.extend(["-r".into(), "0".into()]);
        }
        other => return Err(format!("first command <{other}> not handled")),
    }
    if text.contains("<sendCmd") || text.contains("<recvCmd") {
        let twin = if first == "recvCmd" {
            free_port()
        } else {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let p = l.local_addr().unwrap().port();
            _listener = Some(l);
            p
        };
        args.extend(["-3pcc".into(), format!("127.0.0.1:{twin}")]);
    }
    for (key, value) in KEYS {
        args.extend(["-key".into(), key.to_string(), value.to_string()]);
    }
    let out = std::process::Command::new("sipp")
        .current_dir(dir.path())
        .args(&args)
        .args(["-i", "127.0.0.1", "-timeout", "1s", "-nostdin"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run sipp");
    match out.status.code() {
        Some(97) => Ok(()),
        code => Err(format!(
            "exit {code:?} (97 expected)\n{}",
            String::from_utf8_lossy(&out.stderr)
        )),
    }
}

/// Every scenario in tests/sipp passes the load check (run in parallel: each takes 1 s).
#[test]
fn every_scenario_loads_in_sipp() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sipp");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let failures: Vec<String> = std::thread::scope(|s| {
        let runs: Vec<_> = files
            .iter()
            .map(|f| s.spawn(move || lint(f).err().map(|e| format!("{}: {e}", f.display()))))
            .collect();
        runs.into_iter().filter_map(|r| r.join().unwrap()).collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// SIPp runs

/// SIPp as the line's provider on a free port (UDP), bounded, with `extra` options.
fn provider(sf: &Path, extra: &[&str]) -> (u16, SippChild) {
    let port = free_port();
    let p = port.to_string();
    let mut args = vec!["-sf", sf.to_str().unwrap(), "-p", &p, "-t", "u1"];
    if !extra.contains(&"-m") {
        args.extend(["-m", "1"]);
    }
    args.extend_from_slice(extra);
    (port, sipp(&args).timeout(40).spawn())
}

/// A SIPp caller against the gateway's line 1001 on a free port, run in the background.
fn caller(gw: &GatewayProcess, sf: &Path, extra: &[&str]) -> tokio::task::JoinHandle<SippRun> {
    let mut args: Vec<String> = vec![
        gw.sip_addr().to_string(),
        "-sf".into(),
        sf.to_str().unwrap().into(),
        "-p".into(),
        free_port().to_string(),
        "-m".into(),
        "1".into(),
        "-s".into(),
        "1001".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        sipp(&args).timeout(40).run()
    })
}

async fn finish(child: SippChild, what: &str) {
    let run = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap();
    verdict(run, what);
}

async fn finished(run: tokio::task::JoinHandle<SippRun>, what: &str) {
    verdict(run.await.unwrap(), what);
}

/// Asserts SIPp succeeded; with `CC_TRACE=1` prints its message trace even then.
fn verdict(run: SippRun, what: &str) {
    if std::env::var_os("CC_TRACE").is_some() {
        eprintln!("===== SIPp: {what}\n{}", run.errors());
    }
    run.assert_success(what);
}

// ---------------------------------------------------------------------------------------------
// The app's side

/// Waits for LINE_REPLY(`request`); returns its result and every message that came before it.
async fn reply_after(c: &mut Client, request: u32) -> (i32, Vec<TapiMessage>) {
    let (m, skipped) = c
        .wait_for(WAIT, |m| {
            m.msg.dw_message_id == LINE_REPLY && m.msg.dw_param1 == request
        })
        .await
        .unwrap_or_else(|e| panic!("no LINE_REPLY for {request}: {e}"));
    (m.msg.reply_result(), skipped)
}

/// Waits for LINE_CALLSTATE(`state`) on `h_call`; returns its mode and the messages before it.
async fn state_after(c: &mut Client, h_call: u32, state: u32) -> (u32, Vec<TapiMessage>) {
    let (m, skipped) = c
        .wait_for(WAIT, |m| {
            m.msg.dw_message_id == LINE_CALLSTATE
                && m.msg.h_device == h_call
                && m.msg.dw_param1 == state
        })
        .await
        .unwrap_or_else(|e| panic!("no LINE_CALLSTATE {state:#x} on {h_call}: {e}"));
    (m.msg.dw_param2, skipped)
}

/// The (state, mode) pairs of `h_call` among `messages`.
fn states_of(messages: &[TapiMessage], h_call: u32) -> Vec<(u32, u32)> {
    messages
        .iter()
        .filter(|m| m.msg.dw_message_id == LINE_CALLSTATE && m.msg.h_device == h_call)
        .map(|m| (m.msg.dw_param1, m.msg.dw_param2))
        .collect()
}

fn describe(messages: &[TapiMessage]) -> String {
    messages
        .iter()
        .map(TapiMessage::describe)
        .collect::<Vec<_>>()
        .join("\n")
}

/// An async call-control function with `params`: its requestId.
async fn request(c: &mut Client, method: &str, params: serde_json::Value) -> u32 {
    let r = c
        .call(method, params)
        .await
        .unwrap_or_else(|e| panic!("{method}: {e}"));
    let id = r["requestId"].as_u64().unwrap_or_else(|| panic!("{r}")) as u32;
    assert!(id > 0, "{method}: {r}");
    id
}

async fn features(c: &mut Client, h_call: u32) -> u32 {
    let status = c.line_get_call_status(h_call).await.unwrap();
    status["callFeatures"].as_u64().unwrap() as u32
}

async fn call_state(c: &mut Client, h_call: u32) -> (u32, u32) {
    let status = c.line_get_call_status(h_call).await.unwrap();
    (
        status["callState"].as_u64().unwrap() as u32,
        status["callStateMode"].as_u64().unwrap() as u32,
    )
}

/// lineMakeCall(`dest`) answered by the provider: hCall once CONNECTED (ACTIVE).
async fn outbound_connected(c: &mut Client, line: u32, dest: &str) -> u32 {
    let (request, h_call) = c.line_make_call(line, dest).await.unwrap();
    assert_eq!(reply(c, request).await, 0, "lineMakeCall {dest}");
    let (mode, _) = state(c, h_call, LINECALLSTATE_CONNECTED).await;
    assert_eq!(mode, LINECONNECTEDMODE_ACTIVE);
    h_call
}

/// The next inbound call, answered: hCall once CONNECTED.
async fn inbound_answered(c: &mut Client) -> u32 {
    let (h_call, privilege) = new_call(c).await;
    assert_eq!(privilege, LINECALLPRIVILEGE_OWNER);
    state(c, h_call, LINECALLSTATE_OFFERING).await;
    let answer = c.call_op("lineAnswer", h_call).await.unwrap();
    assert_eq!(reply(c, answer).await, 0);
    let (mode, _) = state(c, h_call, LINECALLSTATE_CONNECTED).await;
    assert_eq!(mode, LINECONNECTEDMODE_ACTIVE);
    h_call
}

async fn drop_call(c: &mut Client, h_call: u32) {
    let drop = c.call_op("lineDrop", h_call).await.unwrap();
    let (result, _) = reply_after(c, drop).await;
    assert_eq!(result, 0, "lineDrop");
    state(c, h_call, LINECALLSTATE_IDLE).await;
}

// ---------------------------------------------------------------------------------------------
// Hold

/// lineHold -> re-INVITE a=sendonly (SIPp checks it and the newer o= version), ONHOLD then
/// LINE_REPLY(0); lineUnhold -> re-INVITE a=sendrecv, CONNECTED(ACTIVE) then LINE_REPLY(0).
async fn hold_and_unhold(glare: bool) {
    let extra: &[&str] = if glare { &["-set", "glare", "1"] } else { &[] };
    let (port, sipp) = provider(&scenario("uas_hold_unhold.xml"), extra);
    let gw = GatewayProcess::start(&line_config(port, "udp"));
    let (mut c, _, line) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    let h_call = outbound_connected(&mut c, line, "1002").await;
    assert_ne!(features(&mut c, h_call).await & LINECALLFEATURE_HOLD, 0);

    let started = Instant::now();
    let hold = request(&mut c, "lineHold", json!({"hCall": h_call})).await;
    let (result, before) = reply_after(&mut c, hold).await;
    let took = started.elapsed();
    assert_eq!(result, 0, "lineHold:\n{}", describe(&before));
    assert_eq!(
        states_of(&before, h_call).first().map(|s| s.0),
        Some(LINECALLSTATE_ONHOLD),
        "ONHOLD before the LINE_REPLY:\n{}",
        describe(&before)
    );
    if glare {
        // RFC 3261 §14.1: the owner of the Call-ID waits 2.1 to 4 s before trying again.
        assert!(
            took >= Duration::from_millis(2100),
            "retried after {took:?}"
        );
    }
    assert_eq!(call_state(&mut c, h_call).await.0, LINECALLSTATE_ONHOLD);
    let f = features(&mut c, h_call).await;
    assert_ne!(f & LINECALLFEATURE_UNHOLD, 0, "{f:#x}");
    assert_eq!(f & LINECALLFEATURE_HOLD, 0, "{f:#x}");

    let unhold = request(&mut c, "lineUnhold", json!({"hCall": h_call})).await;
    let (result, before) = reply_after(&mut c, unhold).await;
    assert_eq!(result, 0, "lineUnhold");
    assert_eq!(
        states_of(&before, h_call),
        vec![(LINECALLSTATE_CONNECTED, LINECONNECTEDMODE_ACTIVE)],
        "{}",
        describe(&before)
    );
    drop_call(&mut c, h_call).await;
    finish(sipp, "provider (hold, unhold)").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn hold_sends_sendonly_and_unhold_sendrecv() {
    hold_and_unhold(false).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hold_answered_491_is_retried_after_the_random_wait() {
    hold_and_unhold(true).await;
}

/// The caller holds (a=sendonly; SIPp checks the 200 says a=recvonly) and resumes
/// (a=sendrecv both ways): the app sees CONNECTED(INACTIVE) then CONNECTED(ACTIVE).
#[tokio::test(flavor = "multi_thread")]
async fn the_peers_hold_shows_as_connected_inactive_then_active() {
    let gw = GatewayProcess::start(&line_config(free_port(), "udp"));
    let (mut c, _, _) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    let sipp = caller(&gw, &scenario("uac_remote_hold.xml"), &[]);
    let h_call = inbound_answered(&mut c).await;
    let (mode, before) = state_after(&mut c, h_call, LINECALLSTATE_DISCONNECTED).await;
    assert_eq!(mode, LINEDISCONNECTMODE_NORMAL);
    assert_eq!(
        states_of(&before, h_call),
        vec![
            (LINECALLSTATE_CONNECTED, LINECONNECTEDMODE_INACTIVE),
            (LINECALLSTATE_CONNECTED, LINECONNECTEDMODE_ACTIVE),
        ],
        "held, then resumed:\n{}",
        describe(&before)
    );
    state(&mut c, h_call, LINECALLSTATE_IDLE).await;
    finished(sipp, "caller (holds, resumes, hangs up)").await;
}

// ---------------------------------------------------------------------------------------------
// Blind transfer

/// An answered outbound call whose provider runs `uas_blind_transfer.xml` with sipfrag `frag`.
struct BlindTransfer {
    gw: GatewayProcess,
    c: Client,
    h_call: u32,
    sipp: SippChild,
    _dir: tempfile::TempDir,
}

impl BlindTransfer {
    async fn start(frag: &str) -> BlindTransfer {
        let dir = tempfile::tempdir().unwrap();
        let sf = scenario_with("uas_blind_transfer.xml", dir.path(), &[("FRAG", frag)]);
        let (port, sipp) = provider(&sf, &[]);
        let gw = GatewayProcess::start(&line_config(port, "udp"));
        let (mut c, _, line) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
        let h_call = outbound_connected(&mut c, line, "1002").await;
        assert_ne!(
            features(&mut c, h_call).await & LINECALLFEATURE_BLINDTRANSFER,
            0
        );
        BlindTransfer {
            gw,
            c,
            h_call,
            sipp,
            _dir: dir,
        }
    }

    /// lineBlindTransfer("3000"): its result and the messages before its LINE_REPLY.
    async fn transfer(&mut self) -> (i32, Vec<TapiMessage>) {
        let params = json!({"hCall": self.h_call, "destAddress": "3000"});
        let transfer = request(&mut self.c, "lineBlindTransfer", params).await;
        reply_after(&mut self.c, transfer).await
    }
}

/// sipfrag 200: LINE_REPLY(0), then the gateway's BYE (SIPp waits for it) and IDLE without
/// DISCONNECTED.
#[tokio::test(flavor = "multi_thread")]
async fn blind_transfer_refers_and_hangs_up_after_a_2xx_sipfrag() {
    let mut t = BlindTransfer::start("200 OK").await;
    let (result, before) = t.transfer().await;
    assert_eq!(result, 0, "{}", describe(&before));
    assert!(
        states_of(&before, t.h_call).is_empty(),
        "nothing happens to the call before the transfer completes:\n{}",
        describe(&before)
    );
    let (_, before) = state_after(&mut t.c, t.h_call, LINECALLSTATE_IDLE).await;
    assert!(
        states_of(&before, t.h_call).is_empty(),
        "IDLE without DISCONNECTED (we cleared the call):\n{}",
        describe(&before)
    );
    finish(t.sipp, "provider (REFER, NOTIFY 100, NOTIFY 200, BYE)").await;
    drop(t.gw);
}

/// sipfrag 486: LINE_REPLY(LINEERR_OPERATIONFAILED), no BYE, the call stays CONNECTED; the
/// app then drops it (SIPp's BYE is that one).
#[tokio::test(flavor = "multi_thread")]
async fn blind_transfer_fails_on_a_486_sipfrag_and_the_call_stays() {
    let mut t = BlindTransfer::start("486 Busy Here").await;
    let (result, before) = t.transfer().await;
    assert_eq!(result, operation_failed(), "{}", describe(&before));
    assert!(
        states_of(&before, t.h_call).is_empty(),
        "{}",
        describe(&before)
    );
    assert_eq!(
        call_state(&mut t.c, t.h_call).await,
        (LINECALLSTATE_CONNECTED, LINECONNECTEDMODE_ACTIVE)
    );
    let f = features(&mut t.c, t.h_call).await;
    assert_ne!(
        f & LINECALLFEATURE_BLINDTRANSFER,
        0,
        "may try again: {f:#x}"
    );
    let hang_up = t.c.call_op("lineDrop", t.h_call).await.unwrap();
    let (result, before) = reply_after(&mut t.c, hang_up).await;
    assert_eq!(result, 0);
    assert!(
        states_of(&before, t.h_call).is_empty(),
        "no BYE of the gateway's own before the drop:\n{}",
        describe(&before)
    );
    state(&mut t.c, t.h_call, LINECALLSTATE_IDLE).await;
    finish(t.sipp, "provider (REFER, NOTIFY 100, NOTIFY 486, BYE)").await;
    drop(t.gw);
}

// ---------------------------------------------------------------------------------------------
// Attended transfer

/// Everything up to the moment every call of `calls` has gone IDLE.
async fn until_idle(c: &mut Client, calls: &[u32]) -> Vec<TapiMessage> {
    let mut seen = Vec::new();
    let mut left: Vec<u32> = calls.to_vec();
    while !left.is_empty() {
        let m = c
            .next_message(WAIT)
            .await
            .unwrap_or_else(|e| panic!("calls {left:?} not IDLE ({e}):\n{}", describe(&seen)));
        if m.msg.dw_message_id == LINE_CALLSTATE && m.msg.dw_param1 == LINECALLSTATE_IDLE {
            left.retain(|h| *h != m.msg.h_device);
        }
        seen.push(m);
    }
    seen
}

/// lineSetupTransfer (the call held: ONHOLDPENDTRANSFER, LINE_REPLY(0), the consultation call
/// DIALTONE), lineDial("4000") (a second INVITE to the same provider, answered),
/// lineCompleteTransfer(TRANSFER): SIPp checks the REFER's Refer-To is the consultation peer's
/// Contact with Replaces of exactly that dialog; after its NOTIFY 200 both calls are cleared by
/// the gateway (BYE each, IDLE without DISCONNECTED).
#[tokio::test(flavor = "multi_thread")]
async fn attended_transfer_refers_with_replaces_of_the_consultation_dialog() {
    let (port, sipp) = provider(&scenario("uas_attended_transfer.xml"), &["-m", "2"]);
    let gw = GatewayProcess::start(&line_config(port, "udp"));
    let (mut c, _, line) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    let h_call = outbound_connected(&mut c, line, "1002").await;
    assert_ne!(
        features(&mut c, h_call).await & LINECALLFEATURE_SETUPTRANSFER,
        0
    );

    let setup = c
        .call("lineSetupTransfer", json!({"hCall": h_call}))
        .await
        .unwrap();
    let request_id = setup["requestId"].as_u64().unwrap() as u32;
    let consult = setup["hConsultCall"].as_u64().unwrap() as u32;
    assert!(
        request_id > 0 && consult != 0 && consult != h_call,
        "{setup}"
    );
    let (result, before) = reply_after(&mut c, request_id).await;
    assert_eq!(result, 0, "{}", describe(&before));
    assert_eq!(
        states_of(&before, h_call)
            .iter()
            .map(|s| s.0)
            .collect::<Vec<_>>(),
        vec![LINECALLSTATE_ONHOLDPENDTRANSFER],
        "{}",
        describe(&before)
    );
    let (mode, _) = state(&mut c, consult, LINECALLSTATE_DIALTONE).await;
    assert_eq!(mode, LINEDIALTONEMODE_NORMAL);
    assert_ne!(features(&mut c, consult).await & LINECALLFEATURE_DIAL, 0);

    let dial = request(
        &mut c,
        "lineDial",
        json!({"hCall": consult, "destAddress": "4000"}),
    )
    .await;
    assert_eq!(reply(&mut c, dial).await, 0, "lineDial");
    let (mode, _) = state(&mut c, consult, LINECALLSTATE_CONNECTED).await;
    assert_eq!(mode, LINECONNECTEDMODE_ACTIVE);
    let info = c.line_get_call_info(consult).await.unwrap();
    assert_eq!(info["calledId"], "4000", "{info}");
    let f = features(&mut c, h_call).await;
    assert_ne!(f & LINECALLFEATURE_COMPLETETRANSF, 0, "{f:#x}");

    let complete = request(
        &mut c,
        "lineCompleteTransfer",
        json!({"hCall": h_call, "hConsultCall": consult, "transferMode": LINETRANSFERMODE_TRANSFER}),
    )
    .await;
    let (result, before) = reply_after(&mut c, complete).await;
    assert_eq!(result, 0, "{}", describe(&before));
    let after = until_idle(&mut c, &[h_call, consult]).await;
    let ended: Vec<TapiMessage> = before.into_iter().chain(after).collect();
    for h in [h_call, consult] {
        assert_eq!(
            states_of(&ended, h),
            vec![(LINECALLSTATE_IDLE, 0)],
            "call {h}: IDLE without DISCONNECTED:\n{}",
            describe(&ended)
        );
    }
    finish(
        sipp,
        "provider (original and consultation call, REFER with Replaces)",
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// Being transferred

/// The caller REFERs the gateway to 5000: SIPp (the caller) checks the 202 and the NOTIFYs
/// 100, 180, 200; a second SIPp, the line's provider, gets the new INVITE for 5000. The app is
/// handed the new call (LINE_APPNEWCALL, owner, reason TRANSFER), sees it connect, and sees
/// the old call end when the caller hangs up.
#[tokio::test(flavor = "multi_thread")]
async fn being_transferred_by_refer_places_the_new_call_through_the_proxy() {
    let (port, target) = provider(&scenario("uas_refer_target.xml"), &[]);
    let gw = GatewayProcess::start(&line_config(port, "udp"));
    let (mut c, _, _) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    let referrer = caller(&gw, &scenario("uac_transfers_by_refer.xml"), &[]);
    let h_call = inbound_answered(&mut c).await;

    let (h_new, privilege) = new_call(&mut c).await;
    assert_eq!(privilege, LINECALLPRIVILEGE_OWNER);
    assert_ne!(h_new, h_call);
    let info = c.line_get_call_info(h_new).await.unwrap();
    assert_eq!(info["reason"], LINECALLREASON_TRANSFER, "{info}");
    assert_eq!(info["origin"], LINECALLORIGIN_OUTBOUND, "{info}");
    assert_eq!(info["calledId"], "5000", "{info}");
    let (mode, before) = state_after(&mut c, h_new, LINECALLSTATE_CONNECTED).await;
    assert_eq!(mode, LINECONNECTEDMODE_ACTIVE);
    assert!(
        states_of(&before, h_new)
            .iter()
            .any(|s| s.0 == LINECALLSTATE_RINGBACK),
        "the target rang:\n{}",
        describe(&before)
    );
    let (mode, _) = state(&mut c, h_call, LINECALLSTATE_DISCONNECTED).await;
    assert_eq!(mode, LINEDISCONNECTMODE_NORMAL, "the referrer hung up");
    state(&mut c, h_call, LINECALLSTATE_IDLE).await;
    finished(referrer, "caller (REFER, NOTIFYs 100/180/200, BYE)").await;
    assert_eq!(
        call_state(&mut c, h_new).await,
        (LINECALLSTATE_CONNECTED, LINECONNECTEDMODE_ACTIVE),
        "the new call outlives the referred one"
    );
    drop_call(&mut c, h_new).await;
    finish(target, "provider (the REFER's target answers)").await;
}

/// An INVITE with Replaces naming the answered call (RFC 3891): SIPp A calls the line and,
/// once answered, passes its dialog (Call-ID, the gateway's tag, its own tag) to its 3PCC
/// twin B, which sends the INVITE with Replaces. B's INVITE is answered 200 at once, A's dialog
/// gets the gateway's BYE; the app sees the new call (owner, reason TRANSFER) CONNECTED and the
/// old one DISCONNECTED(NORMAL), IDLE.
#[tokio::test(flavor = "multi_thread")]
async fn an_invite_with_replaces_takes_over_the_answered_call() {
    let gw = GatewayProcess::start(&line_config(free_port(), "udp"));
    let (mut c, _, _) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    let twin = free_port();
    let twin_addr = format!("127.0.0.1:{twin}");
    // B first: it listens for its twin's commands; A connects to it when it starts.
    let replacing = caller(
        &gw,
        &scenario("uac_replacing_3pcc_b.xml"),
        &["-3pcc", &twin_addr],
    );
    tokio::task::spawn_blocking(move || wait_tcp_listening(twin))
        .await
        .unwrap();
    let replaced = caller(
        &gw,
        &scenario("uac_replaced_3pcc_a.xml"),
        &["-3pcc", &twin_addr],
    );
    let h_call = inbound_answered(&mut c).await;

    let (h_new, privilege) = new_call(&mut c).await;
    assert_eq!(privilege, LINECALLPRIVILEGE_OWNER);
    assert_ne!(h_new, h_call);
    let (mode, before) = state_after(&mut c, h_new, LINECALLSTATE_CONNECTED).await;
    assert_eq!(mode, LINECONNECTEDMODE_ACTIVE);
    assert!(
        states_of(&before, h_new).is_empty(),
        "the new call starts CONNECTED:\n{}",
        describe(&before)
    );
    let info = c.line_get_call_info(h_new).await.unwrap();
    assert_eq!(info["reason"], LINECALLREASON_TRANSFER, "{info}");
    assert_eq!(info["callerId"], "3000", "{info}");
    let (mode, _) = state(&mut c, h_call, LINECALLSTATE_DISCONNECTED).await;
    assert_eq!(mode, LINEDISCONNECTMODE_NORMAL);
    state(&mut c, h_call, LINECALLSTATE_IDLE).await;
    drop_call(&mut c, h_new).await;
    finished(
        replacing,
        "twin B (INVITE with Replaces, answered, hung up by the app)",
    )
    .await;
    finished(
        replaced,
        "twin A (answered, replaced: BYE from the gateway)",
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// Forwarding

async fn forward(c: &mut Client, line: u32, list: serde_json::Value) -> Vec<TapiMessage> {
    let params =
        json!({"hLine": line, "allAddresses": true, "forwardList": list, "numRingsNoAnswer": 0});
    let fwd = request(c, "lineForward", params).await;
    let (result, _) = reply_after(c, fwd).await;
    assert_eq!(result, 0, "lineForward {list}");
    let (m, skipped) = c
        .wait_for(WAIT, |m| m.msg.dw_message_id == LINE_ADDRESSSTATE)
        .await
        .expect("LINE_ADDRESSSTATE");
    assert_eq!(
        (m.msg.h_device, m.msg.dw_param1, m.msg.dw_param2),
        (line, 0, LINEADDRESSSTATE_FORWARD),
        "{}",
        m.describe()
    );
    skipped
}

/// lineForward(UNCOND, "6000"): LINE_REPLY(0), LINE_ADDRESSSTATE(FORWARD); an inbound INVITE
/// gets 302 with Contact <sip:6000@127.0.0.1> and `Diversion: <sip:1001@127.0.0.1>;
/// reason=unconditional;counter=1` (SIPp checks both) and the app sees no call. An empty list
/// cancels: the next INVITE is offered again (and the app rejects it).
#[tokio::test(flavor = "multi_thread")]
async fn forwarding_unconditionally_answers_302_with_diversion() {
    let gw = GatewayProcess::start(&line_config(free_port(), "udp"));
    let (mut c, _, line) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    c.call(
        "lineSetStatusMessages",
        json!({"hLine": line, "lineStates": 0, "addressStates": LINEADDRESSSTATE_FORWARD}),
    )
    .await
    .unwrap();
    let unrelated = forward(
        &mut c,
        line,
        json!([{"forwardMode": LINEFORWARDMODE_UNCOND, "destAddress": "6000"}]),
    )
    .await;
    assert!(unrelated.is_empty(), "{}", describe(&unrelated));

    finished(
        caller(&gw, &scenario("uac_call_forwarded.xml"), &[]),
        "caller (302 with Diversion)",
    )
    .await;
    // Whatever the INVITE caused was queued before the answer to this request.
    c.call("lineGetLineDevStatus", json!({"hLine": line}))
        .await
        .unwrap();
    match c.next_message(Duration::ZERO).await {
        Err(ClientError::Timeout) => {}
        other => panic!("the app sees no call: {other:?}"),
    }

    let unrelated = forward(&mut c, line, json!([])).await;
    assert!(unrelated.is_empty(), "{}", describe(&unrelated));
    let dir = tempfile::tempdir().unwrap();
    let sf = scenario_with("uac_call_rejected.xml", dir.path(), &[("STATUS", "603")]);
    let offered = caller(&gw, &sf, &[]);
    let (h_call, _) = new_call(&mut c).await;
    state(&mut c, h_call, LINECALLSTATE_OFFERING).await;
    drop_call(&mut c, h_call).await;
    finished(
        offered,
        "caller (not forwarded any more: offered, rejected 603)",
    )
    .await;
}
