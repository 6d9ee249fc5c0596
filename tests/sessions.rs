//! Issue 20 end to end: sessions that survive a dropped connection, through the real binary
//! with SIPp as the provider. The app is the Rust client in reconnecting mode behind a proxy
//! the test controls: the proxy resets the connection (RST) while the call is being set up and
//! keeps the client away until the call has been answered (a second, monitoring connection
//! sees that); the client then resumes by itself and gets LINE_REPLY(0) and CONNECTED with
//! consecutive seq. In the second run the app never comes back and the call is dropped when
//! the grace period ends.

mod common;

use std::time::{Duration, Instant};

use common::app::*;
use common::cut_proxy::CutProxy;
use common::{free_port, line_config, scenario, sipp, GatewayProcess, SippChild};
use serde_json::{json, Value};
use tapigw::client::Reconnect;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// One line on SIPp at `port`, signalling only (media is not what these tests are about, and
/// RTP ports are a shared resource on a busy machine).
fn lines(port: u16) -> String {
    line_config(port, "udp").replace("mode = \"rtp\"", "mode = \"none\"")
}

/// SIPp answering after `pause_ms` of silence, waiting for our BYE.
fn late_provider(pause_ms: u32) -> (u16, SippChild) {
    let port = free_port();
    let (p, d) = (port.to_string(), pause_ms.to_string());
    let path = scenario("uas_answer_after_pause.xml");
    let args = [
        "-sf",
        path.to_str().unwrap(),
        "-p",
        &p,
        "-t",
        "u1",
        "-m",
        "1",
        "-d",
        &d,
        "-pause_msg_ign",
    ];
    (port, sipp(&args).timeout(40).spawn())
}

async fn finish(child: SippChild, what: &str) {
    let run = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap();
    run.assert_success(what);
}

/// A reconnecting client behind `proxy` with a resumable app and line 0 open as owner:
/// (client, hLineApp, sessionId, hLine).
async fn resumable_app(proxy: &CutProxy) -> (Client, u32, String, u32) {
    let options = Reconnect {
        initial_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(400),
        ..Reconnect::default()
    };
    let mut app = Client::connect_with(proxy.addr(), options).await.unwrap();
    let (h_app, _, session) = app
        .line_initialize_resumable("crm", LINEINITIALIZEEXOPTION_USEHIDDENWINDOW, 0)
        .await
        .unwrap();
    let line = app
        .line_open(
            h_app,
            0,
            LINECALLPRIVILEGE_OWNER,
            LINEMEDIAMODE_INTERACTIVEVOICE,
            7,
        )
        .await
        .unwrap();
    (app, h_app, session, line)
}

/// The monitor's view: waits for the call's state `state` (the monitor's own handle).
async fn monitor_sees(monitor: &mut Client, state: u32) {
    monitor
        .wait_for(WAIT, |m| {
            m.msg.dw_message_id == LINE_CALLSTATE && m.msg.dw_param1 == state
        })
        .await
        .unwrap_or_else(|e| panic!("the monitor did not see state {state:#x}: {e}"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_app_cut_off_during_set_up_resumes_and_gets_reply_and_connected_in_order() {
    let (port, sipp) = late_provider(1500);
    let mut gw = GatewayProcess::start(&lines(port));
    let proxy = CutProxy::start(gw.api_addr());
    let (mut monitor, _, _) = open_line(gw.api_addr(), LINECALLPRIVILEGE_MONITOR).await;
    let (mut app, h_app, _session, line) = resumable_app(&proxy).await;

    let (request, h_call) = app.line_make_call(line, "1002").await.unwrap();
    proxy.hold();
    assert_eq!(proxy.cut(), 1, "the app's connection is reset");
    gw.wait_for_log("app kept for a resume", WAIT);
    // The call is answered while the app is away, and the client keeps trying meanwhile.
    monitor_sees(&mut monitor, LINECALLSTATE_CONNECTED).await;
    proxy.wait_refused(1, WAIT);
    proxy.release();

    let (connected, before) = app
        .wait_for(WAIT, |m| {
            m.msg.dw_message_id == LINE_CALLSTATE && m.msg.dw_param1 == LINECALLSTATE_CONNECTED
        })
        .await
        .expect("CONNECTED after the resume");
    let state = app.wait_session(WAIT, |s| s.reconnects == 1).await.unwrap();
    assert!(state.connected && state.lost.is_empty(), "{state:?}");
    gw.wait_for_log("session resumed", WAIT);
    assert_eq!(
        before.len(),
        1,
        "only the LINE_REPLY before CONNECTED: {before:?}"
    );
    let reply = &before[0];
    assert_eq!(
        (
            reply.msg.dw_message_id,
            reply.msg.dw_param1,
            reply.msg.reply_result()
        ),
        (LINE_REPLY, request, 0)
    );
    assert_eq!(connected.msg.h_device, h_call);
    assert_eq!(
        (reply.seq, connected.seq),
        (Some(1), Some(2)),
        "consecutive seq"
    );
    assert_eq!((reply.app, connected.app), (Some(h_app), Some(h_app)));

    // The handles still work through the new connection: hang up, SIPp sees the BYE.
    let drop = app.call_op("lineDrop", h_call).await.unwrap();
    let (idle, between) = app
        .wait_for(WAIT, |m| {
            m.msg.dw_message_id == LINE_CALLSTATE && m.msg.dw_param1 == LINECALLSTATE_IDLE
        })
        .await
        .unwrap();
    let mut seqs: Vec<u64> = between.iter().filter_map(|m| m.seq).collect();
    seqs.push(idle.seq.unwrap());
    assert_eq!(
        seqs,
        (3..3 + seqs.len() as u64).collect::<Vec<_>>(),
        "no gap and no duplicate after the seam"
    );
    assert!(between
        .iter()
        .any(|m| m.msg.dw_message_id == LINE_REPLY && m.msg.dw_param1 == drop));
    finish(sipp, "provider answering late, then BYE from the gateway").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_app_that_never_comes_back_loses_its_call_after_the_grace_period() {
    let (port, sipp) = late_provider(500);
    let mut gw = GatewayProcess::start_with_api("resume_grace_s = 2", &lines(port));
    let proxy = CutProxy::start(gw.api_addr());
    let (mut monitor, _, _) = open_line(gw.api_addr(), LINECALLPRIVILEGE_MONITOR).await;
    let (mut app, _, session, line) = resumable_app(&proxy).await;

    app.line_make_call(line, "1002").await.unwrap();
    proxy.hold();
    proxy.cut();
    let cut_at = Instant::now();
    monitor_sees(&mut monitor, LINECALLSTATE_CONNECTED).await;
    // Kept for api.resume_grace_s, then shut down as version 1 does: the call is dropped.
    monitor_sees(&mut monitor, LINECALLSTATE_IDLE).await;
    // The gateway notices the cut a moment before `cut_at` is taken, and its clock is the
    // one of the input it handles: allow it that much.
    assert!(
        cut_at.elapsed() >= Duration::from_millis(1900),
        "dropped only after the grace period ({:?})",
        cut_at.elapsed()
    );
    gw.wait_for_log("session expired", WAIT);
    finish(sipp, "provider answering, then BYE at the end of the grace").await;

    // The expired session is refused, to the client that comes back late and to anyone.
    let err = raw_resume(&gw, &session).await;
    assert_eq!(err["error"]["message"], "LINEERR_INVALAPPHANDLE", "{err}");
    proxy.release();
    let state = app
        .wait_session(WAIT, |s| !s.lost.is_empty())
        .await
        .unwrap();
    assert!(
        state.lost[0].reason.contains("LINEERR_INVALAPPHANDLE"),
        "{state:?}"
    );
}

/// lineResume on a fresh raw connection: the answer line.
async fn raw_resume(gw: &GatewayProcess, session: &str) -> Value {
    let mut raw = RawConn::open(gw).await;
    raw.send(1, "lineResume", json!({"sessionId": session, "lastSeq": 0}))
        .await;
    raw.next().await
}

/// A raw JSON Lines connection, to see the wire as it is.
struct RawConn {
    read: BufReader<tokio::net::tcp::OwnedReadHalf>,
    write: tokio::net::tcp::OwnedWriteHalf,
}

impl RawConn {
    async fn open(gw: &GatewayProcess) -> RawConn {
        let stream = tokio::net::TcpStream::connect(gw.api_addr()).await.unwrap();
        let (read, write) = stream.into_split();
        RawConn {
            read: BufReader::new(read),
            write,
        }
    }

    async fn send(&mut self, id: u64, method: &str, params: Value) {
        let line = json!({"jsonrpc":"2.0","id":id,"method":method,"params":params});
        self.write
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
    }

    /// The next line, or `Value::Null` at end of file.
    async fn next(&mut self) -> Value {
        let mut line = String::new();
        let n = tokio::time::timeout(WAIT, self.read.read_line(&mut line))
            .await
            .expect("a line in time")
            .unwrap();
        if n == 0 {
            return Value::Null;
        }
        serde_json::from_str(&line).unwrap()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_wire_carries_session_ids_seq_and_the_take_over_notice() {
    let gw = GatewayProcess::start(&lines(free_port()));
    let mut old = RawConn::open(&gw).await;
    old.send(
        1,
        "lineInitializeEx",
        json!({"appName":"a","apiVersion":API_VERSION_HIGH,"options":1,"resumable":true}),
    )
    .await;
    let init = old.next().await;
    let session = init["result"]["sessionId"].as_str().unwrap().to_string();
    let h_app = init["result"]["hLineApp"].as_u64().unwrap();
    assert_eq!(session.len(), 32);
    assert!(session.chars().all(|c| c.is_ascii_hexdigit()), "{session}");
    old.send(
        2,
        "lineOpen",
        json!({"hLineApp":h_app,"deviceId":0,"apiVersion":API_VERSION_HIGH,"privileges":1}),
    )
    .await;
    let h_line = old.next().await["result"]["hLine"].as_u64().unwrap();
    // A second open of the line by another app makes this one get LINE_LINEDEVSTATE(OPEN).
    old.send(
        3,
        "lineSetStatusMessages",
        json!({"hLine":h_line,"lineStates":LINEDEVSTATE_OPEN}),
    )
    .await;
    assert!(old.next().await.get("result").is_some());
    let (_other, _, _) = open_line(gw.api_addr(), LINECALLPRIVILEGE_MONITOR).await;
    let message = old.next().await;
    assert_eq!(message["method"], "LINE_LINEDEVSTATE");
    assert_eq!(message["params"]["seq"], 1);
    assert_eq!(message["params"]["hLineApp"], h_app);

    let mut new = RawConn::open(&gw).await;
    new.send(1, "lineResume", json!({"sessionId": session, "lastSeq": 0}))
        .await;
    let resumed = new.next().await;
    assert_eq!(resumed["result"], json!({"hLineApp": h_app}));
    let replayed = new.next().await;
    assert_eq!(replayed["params"], message["params"], "seq 1 replayed");
    // The old connection is told, then closed.
    let notice = old.next().await;
    assert_eq!(notice["method"], "sessionTakenOver");
    assert_eq!(notice["params"], json!({"hLineApp": h_app}));
    assert_eq!(old.next().await, Value::Null, "closed after the notice");
}
