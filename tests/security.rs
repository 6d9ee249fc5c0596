//! Issue 17 end to end, API side: the `authenticate` handshake (token missing, wrong, right;
//! three failures close; tokens from the environment and a file), start-up refused off
//! loopback without a token, scoped tokens (a monitor-only token cannot take a call over; a
//! token sees only its lines, renumbered), the API over TLS, each API limit hit once and
//! counted, overload shedding, and a bounded flood of connections (RSS printed, a real call
//! still completes).

mod common;

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use common::app::*;
use common::{free_port, scenario, scenario_with, scrape, sipp, GatewayProcess, SippRun};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TOKEN: &str = "correct-horse-battery-staple";

/// The JSON-RPC error code and message of a failed call.
fn error_of(result: Result<Value, ClientError>) -> (i32, String) {
    match result {
        Err(ClientError::Rpc { code, message }) => (code, message),
        other => panic!("expected an error response, got {other:?}"),
    }
}

fn lineerr(result: Result<Value, ClientError>) -> String {
    error_of(result).1
}

fn unauthenticated(result: Result<Value, ClientError>) {
    assert_eq!(error_of(result), (-32001, "unauthenticated".to_string()));
}

/// A gateway with `[api]` extras and `rest`, one metrics listener; (gateway, metrics address).
fn gateway_with_metrics(api_extra: &str, rest: &str) -> (GatewayProcess, SocketAddr) {
    let port = free_port();
    let rest = format!("{rest}\n[metrics]\nlisten = \"127.0.0.1:{port}\"\n");
    let gw = GatewayProcess::start_with_api(api_extra, &rest);
    (gw, SocketAddr::from(([127, 0, 0, 1], port)))
}

/// Two lines (users 1001, 1002) whose provider is `proxy_port`, signalling-only media.
fn two_lines(proxy_port: u16) -> String {
    let mut text = String::new();
    for (name, user) in [("Line 1", "1001"), ("Line 2", "1002")] {
        text.push_str(&format!(
            "[[lines]]\nname = \"{name}\"\nuser = \"{user}\"\ndomain = \"127.0.0.1\"\nproxy = \"127.0.0.1:{proxy_port}\"\n\n"
        ));
    }
    text + "[media]\nmode = \"none\"\naddress = \"127.0.0.1\"\n"
}

/// A connection that authenticated with `token`.
async fn client(addr: SocketAddr, token: &str) -> Client {
    let mut c = Client::connect(addr).await.expect("connect to the API");
    c.authenticate(token).await.expect("authenticate");
    c
}

/// True when the gateway closes the raw connection within `wait` without answering.
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = [0u8; 256];
    matches!(
        tokio::time::timeout(wait, stream.read(&mut buf)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_is_required_before_anything_and_checked() {
    let gw = GatewayProcess::start_with_api(
        &format!("token = \"{TOKEN}\""),
        &common::line_config(free_port(), "udp"),
    );
    let mut c = Client::connect(gw.api_addr()).await.unwrap();
    let init = json!({"appName": "app", "apiVersion": 0x20002, "options": 1});
    unauthenticated(c.call("lineInitializeEx", init.clone()).await);
    unauthenticated(c.call("authenticate", json!({"token": "wrong"})).await);
    c.authenticate(TOKEN).await.unwrap();
    let r = c.call("lineInitializeEx", init).await.unwrap();
    assert_eq!(r["numDevs"], 1);
    // The same token again is fine; another is refused and changes nothing.
    c.authenticate(TOKEN).await.unwrap();
    unauthenticated(c.call("authenticate", json!({"token": "other"})).await);
    assert!(c
        .line_open(
            r["hLineApp"].as_u64().unwrap() as u32,
            0,
            LINECALLPRIVILEGE_OWNER,
            LINEMEDIAMODE_INTERACTIVEVOICE,
            0
        )
        .await
        .is_ok());
    // `tapigw --healthcheck` authenticates with the token from the environment.
    let health = |token: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tapigw"));
        cmd.args(["--healthcheck", &gw.api_addr().to_string()])
            .env_remove("TAPIGW_TOKEN")
            .env_remove("TAPIGW__API__TOKEN");
        if let Some(token) = token {
            cmd.env("TAPIGW_TOKEN", token);
        }
        cmd.output().unwrap().status.code()
    };
    assert_eq!(health(Some(TOKEN)), Some(0));
    assert_eq!(health(None), Some(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn three_failures_close_the_connection() {
    let mut gw = GatewayProcess::start_with_api(
        &format!("token = \"{TOKEN}\""),
        &common::line_config(free_port(), "udp"),
    );
    let mut raw = TcpStream::connect(gw.api_addr()).await.unwrap();
    let lines = [
        r#"{"jsonrpc":"2.0","id":1,"method":"authenticate","params":{"token":"a"}}"#,
        r#"{"jsonrpc":"2.0","id":2,"method":"lineShutdown","params":{"hLineApp":1}}"#,
        r#"{"jsonrpc":"2.0","id":3,"method":"authenticate","params":{"token":"c"}}"#,
        r#"{"jsonrpc":"2.0","id":4,"method":"authenticate","params":{"token":"correct-horse-battery-staple"}}"#,
    ];
    raw.write_all(format!("{}\n", lines.join("\n")).as_bytes())
        .await
        .unwrap();
    let mut text = String::new();
    tokio::time::timeout(WAIT, raw.read_to_string(&mut text))
        .await
        .expect("the gateway closes the connection")
        .unwrap();
    let answers: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(answers.len(), 3, "three answers, then the close: {text}");
    for (answer, id) in answers.iter().zip(1..) {
        assert_eq!(answer["id"], id);
        assert_eq!(answer["error"]["code"], -32001);
    }
    gw.wait_for_log("three failed authentications", WAIT);
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_come_from_the_environment_and_from_a_file() {
    let gw = GatewayProcess::start_with_env(
        "",
        &common::line_config(free_port(), "udp"),
        &[("TAPIGW__API__TOKEN", "from-the-environment")],
    );
    let mut c = Client::connect(gw.api_addr()).await.unwrap();
    unauthenticated(c.call("authenticate", json!({"token": TOKEN})).await);
    c.authenticate("from-the-environment").await.unwrap();

    let secrets = tempfile::tempdir().unwrap();
    let file = secrets.path().join("token");
    std::fs::write(&file, "from-a-file\n").unwrap();
    let gw = GatewayProcess::start_with_api(
        &format!("token_file = \"{}\"", file.display()),
        &common::line_config(free_port(), "udp"),
    );
    let mut c = Client::connect(gw.api_addr()).await.unwrap();
    unauthenticated(c.call("lineShutdown", json!({"hLineApp": 1})).await);
    c.authenticate("from-a-file").await.unwrap();
}

#[test]
fn a_listener_off_loopback_without_a_token_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tapigw.toml");
    let config = format!(
        "[sip]\nlisten = \"127.0.0.1:{}\"\n[api]\nlisten = \"0.0.0.0:{}\"\n{}",
        free_port(),
        free_port(),
        common::line_config(free_port(), "udp")
    );
    std::fs::write(&path, config).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tapigw"))
        .arg("--config")
        .arg(&path)
        .env_remove("TAPIGW__API__TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    assert!(lines[0].contains("`api.token`"), "{stderr}");
    // With a token the same listener starts (reached here over loopback).
    let mut gw = GatewayProcess::start_with_env(
        "",
        &common::line_config(free_port(), "udp"),
        &[
            ("TAPIGW__API__LISTEN", &format!("0.0.0.0:{}", free_port())),
            ("TAPIGW__API__TOKEN", TOKEN),
        ],
    );
    assert_eq!(gw.stop().code(), Some(0));
}

/// The tokens of the scope tests: everything, monitor-only on 1001, owner on 1002 only.
const SCOPED_TOKENS: &str = r#"
[[api.tokens]]
token = "owner-token"
name = "crm"

[[api.tokens]]
token = "monitor-token"
lines = ["1001"]
max_privilege = "monitor"

[[api.tokens]]
token = "line2-token"
lines = ["1002"]
"#;

/// A SIPp caller of `user` with scenario `sf`, in the background.
fn caller(
    gw: &GatewayProcess,
    sf: &std::path::Path,
    user: &str,
    extra: &[&str],
) -> tokio::task::JoinHandle<SippRun> {
    let mut args: Vec<String> = vec![
        gw.sip_addr().to_string(),
        "-sf".into(),
        sf.to_str().unwrap().into(),
        "-m".into(),
        "1".into(),
        "-s".into(),
        user.into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        sipp(&args).timeout(30).run()
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_monitor_only_token_cannot_take_a_call_over() {
    let gw =
        GatewayProcess::start_with_api("", &format!("{SCOPED_TOKENS}\n{}", two_lines(free_port())));
    let mut owner = client(gw.api_addr(), "owner-token").await;
    let (app, devs) = owner.line_initialize_ex("owner", 1, 0).await.unwrap();
    assert_eq!(devs, 2);
    owner
        .line_open(
            app,
            0,
            LINECALLPRIVILEGE_OWNER,
            LINEMEDIAMODE_INTERACTIVEVOICE,
            1,
        )
        .await
        .unwrap();

    let mut spy = client(gw.api_addr(), "monitor-token").await;
    let (spy_app, devs) = spy.line_initialize_ex("spy", 1, 0).await.unwrap();
    assert_eq!(devs, 1, "the monitor token sees line 1001 only");
    let open = |privileges: u32| {
        json!({"hLineApp": spy_app, "deviceId": 0, "apiVersion": 0x20002, "callbackInstance": 0,
               "privileges": privileges, "mediaModes": LINEMEDIAMODE_INTERACTIVEVOICE})
    };
    for privileges in [
        LINECALLPRIVILEGE_OWNER,
        LINECALLPRIVILEGE_NONE,
        LINECALLPRIVILEGE_OWNER | LINECALLPRIVILEGE_MONITOR,
    ] {
        let r = spy.call("lineOpen", open(privileges)).await;
        assert_eq!(lineerr(r), "LINEERR_INVALPRIVSELECT");
    }
    let spy_line = spy
        .line_open(
            spy_app,
            0,
            LINECALLPRIVILEGE_MONITOR,
            LINEMEDIAMODE_INTERACTIVEVOICE,
            2,
        )
        .await
        .unwrap();
    let r = spy
        .call(
            "lineMakeCall",
            json!({"hLine": spy_line, "destAddress": "900"}),
        )
        .await;
    assert_eq!(lineerr(r), "LINEERR_OPERATIONUNAVAIL");
    let forward = json!({"hLine": spy_line, "forwardList": [{"forwardMode": LINEFORWARDMODE_UNCOND, "destAddress": "900"}]});
    assert_eq!(
        lineerr(spy.call("lineForward", forward).await),
        "LINEERR_OPERATIONUNAVAIL"
    );

    let sipp = caller(
        &gw,
        &scenario("uac_call_caller_hangs_up.xml"),
        "1001",
        &["-d", "500"],
    );
    let (h_call, privilege) = new_call(&mut owner).await;
    assert_eq!(privilege, LINECALLPRIVILEGE_OWNER);
    let (spy_call, privilege) = new_call(&mut spy).await;
    assert_eq!(privilege, LINECALLPRIVILEGE_MONITOR);
    state(&mut spy, spy_call, LINECALLSTATE_OFFERING).await;
    // The takeover of the issue: become owner, then redirect the offered call.
    let r = spy
        .call(
            "lineSetCallPrivilege",
            json!({"hCall": spy_call, "callPrivilege": LINECALLPRIVILEGE_OWNER}),
        )
        .await;
    assert_eq!(lineerr(r), "LINEERR_INVALCALLPRIVILEGE");
    let r = spy
        .call(
            "lineRedirect",
            json!({"hCall": spy_call, "destAddress": "900"}),
        )
        .await;
    assert_eq!(lineerr(r), "LINEERR_NOTOWNER");
    for method in ["lineDrop", "lineAnswer", "lineAccept"] {
        let r = spy.call(method, json!({"hCall": spy_call})).await;
        assert_eq!(lineerr(r), "LINEERR_NOTOWNER", "{method}");
    }
    let status = spy.line_get_call_status(spy_call).await.unwrap();
    assert_eq!(status["callPrivilege"], LINECALLPRIVILEGE_MONITOR);
    // The real owner still has the call: answers it, the caller hangs up.
    let answer = owner.call_op("lineAnswer", h_call).await.unwrap();
    assert_eq!(reply(&mut owner, answer).await, 0);
    state(&mut owner, h_call, LINECALLSTATE_CONNECTED).await;
    state(&mut spy, spy_call, LINECALLSTATE_CONNECTED).await;
    state(&mut owner, h_call, LINECALLSTATE_IDLE).await;
    state(&mut spy, spy_call, LINECALLSTATE_IDLE).await;
    sipp.await
        .unwrap()
        .assert_success("caller answered by the owner, not redirected");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_sees_only_its_lines_numbered_from_zero() {
    let gw =
        GatewayProcess::start_with_api("", &format!("{SCOPED_TOKENS}\n{}", two_lines(free_port())));
    let mut c = client(gw.api_addr(), "line2-token").await;
    let (app, devs) = c.line_initialize_ex("line2", 1, 0).await.unwrap();
    assert_eq!(devs, 1);
    let caps = |device: u32| json!({"hLineApp": app, "deviceId": device, "apiVersion": 0x20002});
    let caps0 = c.call("lineGetDevCaps", caps(0)).await.unwrap();
    assert_eq!(caps0["lineName"], "Line 2");
    assert_eq!(caps0["address"], "sip:1002@127.0.0.1");
    assert_eq!(
        lineerr(c.call("lineGetDevCaps", caps(1)).await),
        "LINEERR_BADDEVICEID"
    );
    let negotiate = json!({"hLineApp": app, "deviceId": 1, "apiLowVersion": 0x10004, "apiHighVersion": 0x20002});
    assert_eq!(
        lineerr(c.call("lineNegotiateAPIVersion", negotiate).await),
        "LINEERR_BADDEVICEID"
    );
    let r = c
        .line_open(
            app,
            1,
            LINECALLPRIVILEGE_OWNER,
            LINEMEDIAMODE_INTERACTIVEVOICE,
            0,
        )
        .await;
    assert!(
        matches!(r, Err(ClientError::Rpc { ref message, .. }) if message == "LINEERR_BADDEVICEID"),
        "{r:?}"
    );
    let line = c
        .line_open(
            app,
            0,
            LINECALLPRIVILEGE_OWNER,
            LINEMEDIAMODE_INTERACTIVEVOICE,
            0,
        )
        .await
        .unwrap();
    let id = c
        .call(
            "lineGetID",
            json!({"select": LINECALLSELECT_LINE, "hLine": line, "deviceClass": "tapi/line"}),
        )
        .await
        .unwrap();
    assert_eq!(id["deviceId"], 0);
    let phones = c
        .call(
            "phoneInitializeEx",
            json!({"appName": "p", "apiVersion": 0x20002, "options": 1}),
        )
        .await
        .unwrap();
    assert_eq!(phones["numDevs"], 1);
    // The full-scope token still sees both lines with the gateway's IDs.
    let mut full = client(gw.api_addr(), "owner-token").await;
    let (full_app, devs) = full.line_initialize_ex("full", 1, 0).await.unwrap();
    assert_eq!(devs, 2);
    let caps1 = full
        .call(
            "lineGetDevCaps",
            json!({"hLineApp": full_app, "deviceId": 1, "apiVersion": 0x20002}),
        )
        .await
        .unwrap();
    assert_eq!(caps1["lineName"], "Line 2");
    // A call to 1002 reaches the scoped app, which names its line device 0.
    let dir = tempfile::tempdir().unwrap();
    let sf = scenario_with("uac_call_rejected.xml", dir.path(), &[("STATUS", "603")]);
    let sipp = caller(&gw, &sf, "1002", &[]);
    let (h_call, _) = new_call(&mut c).await;
    let info = c.line_get_call_info(h_call).await.unwrap();
    assert_eq!(
        (info["lineDeviceId"].as_u64(), info["calledId"].as_str()),
        (Some(0), Some("1002"))
    );
    let drop = c.call_op("lineDrop", h_call).await.unwrap();
    assert_eq!(reply(&mut c, drop).await, 0);
    sipp.await
        .unwrap()
        .assert_success("caller of 1002 declined by the scoped app");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_over_tls() {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("api.crt"), dir.path().join("api.key"));
    let cert_pem = certified.cert.pem();
    std::fs::write(&cert, &cert_pem).unwrap();
    std::fs::write(&key, certified.key_pair.serialize_pem()).unwrap();
    let extra = format!(
        "token = \"{TOKEN}\"\ntls_cert = \"{}\"\ntls_key = \"{}\"",
        cert.display(),
        key.display()
    );
    let mut gw = GatewayProcess::start_with_api(&extra, &common::line_config(free_port(), "udp"));
    let mut c = Client::connect_tls(gw.api_addr(), "localhost", cert_pem.as_bytes())
        .await
        .expect("TLS handshake");
    unauthenticated(c.call("lineShutdown", json!({"hLineApp": 1})).await);
    c.authenticate(TOKEN).await.unwrap();
    let (app, devs) = c.line_initialize_ex("tls", 1, 0).await.unwrap();
    assert_eq!(devs, 1);
    c.line_open(
        app,
        0,
        LINECALLPRIVILEGE_OWNER,
        LINEMEDIAMODE_INTERACTIVEVOICE,
        0,
    )
    .await
    .unwrap();
    // A plain client gets no answer, only a closed connection.
    let mut plain = TcpStream::connect(gw.api_addr()).await.unwrap();
    plain
        .write_all(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"lineShutdown\",\"params\":{\"hLineApp\":1}}\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(WAIT, plain.read_to_end(&mut answer)).await;
    assert!(!String::from_utf8_lossy(&answer).contains("jsonrpc"));
    gw.wait_for_log("tls_handshake", WAIT);
    // A certificate for another name is refused by the client.
    assert!(
        Client::connect_tls(gw.api_addr(), "example.org", cert_pem.as_bytes())
            .await
            .is_err()
    );
}

/// A UDP "provider" that swallows every INVITE and never answers: calls stay pending.
fn silent_provider() -> std::net::UdpSocket {
    std::net::UdpSocket::bind("127.0.0.1:0").unwrap()
}

/// One line to `provider`, signalling-only media (no RTP port runs out).
fn silent_line(provider: &std::net::UdpSocket) -> String {
    let port = provider.local_addr().unwrap().port();
    format!(
        "[[lines]]\nuser = \"1001\"\ndomain = \"127.0.0.1\"\nproxy = \"127.0.0.1:{port}\"\n\n\
         [media]\nmode = \"none\"\naddress = \"127.0.0.1\"\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn each_api_limit_is_hit_once_and_counted() {
    let provider = silent_provider();
    let limits = "max_connections = 3\nmax_apps_per_connection = 2\nmax_pending_requests = 1\n\
                  max_message_waiters = 1\nmax_calls_per_line = 1\nauth_timeout_s = 1";
    let (mut gw, metrics) = gateway_with_metrics(limits, &silent_line(&provider));
    let mut a = Client::connect(gw.api_addr()).await.unwrap();
    let long_name = "x".repeat(257);
    let r = a
        .call(
            "lineInitializeEx",
            json!({"appName": long_name, "apiVersion": 0x20002, "options": 1}),
        )
        .await;
    assert_eq!(lineerr(r), "LINEERR_INVALAPPNAME");
    let (app1, _) = a.line_initialize_ex("one", 1, 0).await.unwrap();
    let (app2, _) = a.line_initialize_ex("two", 1, 0).await.unwrap();
    let r = a
        .call(
            "lineInitializeEx",
            json!({"appName": "three", "apiVersion": 0x20002, "options": 1}),
        )
        .await;
    assert_eq!(lineerr(r), "LINEERR_NOMEM");
    let caps = a
        .call(
            "lineGetDevCaps",
            json!({"hLineApp": app1, "deviceId": 0, "apiVersion": 0x20002}),
        )
        .await
        .unwrap();
    assert_eq!(caps["maxNumActiveCalls"], 1);
    let line1 = a
        .line_open(
            app1,
            0,
            LINECALLPRIVILEGE_OWNER,
            LINEMEDIAMODE_INTERACTIVEVOICE,
            0,
        )
        .await
        .unwrap();
    let line2 = a
        .line_open(app2, 0, LINECALLPRIVILEGE_NONE, 0, 0)
        .await
        .unwrap();
    a.line_make_call(line1, "2000").await.unwrap();
    let r = a
        .call(
            "lineMakeCall",
            json!({"hLine": line1, "destAddress": "2001"}),
        )
        .await;
    assert_eq!(
        lineerr(r),
        "LINEERR_RESOURCEUNAVAIL",
        "one pending request per app"
    );
    let r = a
        .call(
            "lineMakeCall",
            json!({"hLine": line2, "destAddress": "2002"}),
        )
        .await;
    assert_eq!(lineerr(r), "LINEERR_CALLUNAVAIL", "one call per line");

    let mut b = Client::connect(gw.api_addr()).await.unwrap();
    let (events, _) = b.line_initialize_ex("events", 2, 0).await.unwrap();
    let first = b
        .send(
            "lineGetMessage",
            json!({"hLineApp": events, "timeout": 3000}),
        )
        .await
        .unwrap();
    let second = b
        .send(
            "lineGetMessage",
            json!({"hLineApp": events, "timeout": 3000}),
        )
        .await
        .unwrap();
    assert_eq!(lineerr(second.wait().await), "LINEERR_NOMEM");

    let mut third = Client::connect(gw.api_addr()).await.unwrap();
    third
        .call("lineShutdown", json!({"hLineApp": 0}))
        .await
        .unwrap_err();
    let mut fourth = TcpStream::connect(gw.api_addr()).await.unwrap();
    assert!(
        closed_within(&mut fourth, WAIT).await,
        "over api.max_connections: closed at accept"
    );
    gw.wait_for_log("max_connections", WAIT);
    drop(third);
    let two_open =
        |m: &std::collections::BTreeMap<String, f64>| m.get("tapigw_api_connections") == Some(&2.0);
    wait_until(metrics, two_open).await;
    // No line within auth_timeout_s (1 s): closed; the same for a line begun and not ended.
    let mut silent = TcpStream::connect(gw.api_addr()).await.unwrap();
    assert!(
        closed_within(&mut silent, Duration::from_secs(5)).await,
        "a silent connection is closed"
    );
    wait_until(metrics, two_open).await;
    let mut slow = TcpStream::connect(gw.api_addr()).await.unwrap();
    slow.write_all(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"lineShutdown\",\"params\":{\"hLineApp\":0}}\n{\"jsonrpc\":")
        .await
        .unwrap();
    let mut answer = vec![0u8; 512];
    let n = slow.read(&mut answer).await.unwrap();
    assert!(String::from_utf8_lossy(&answer[..n]).contains("LINEERR_INVALAPPHANDLE"));
    assert!(
        closed_within(&mut slow, Duration::from_secs(5)).await,
        "an unfinished line is closed"
    );
    assert_eq!(lineerr(first.wait().await), "LINEERR_OPERATIONFAILED");

    let m = scrape(metrics);
    for (limit, hits) in [
        ("app_name_bytes", 1.0),
        ("apps_per_connection", 1.0),
        ("pending_requests", 1.0),
        ("calls_per_line", 1.0),
        ("message_waiters", 1.0),
        ("max_connections", 1.0),
        ("auth_timeout", 2.0),
    ] {
        let key = format!("tapigw_api_limit_hits_total{{limit=\"{limit}\"}}");
        assert_eq!(m.get(&key), Some(&hits), "{key}");
    }
    assert_eq!(
        m.get("tapigw_api_connections_dropped_total{reason=\"auth_timeout\"}"),
        Some(&2.0)
    );
    drop(provider);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_core_that_falls_behind_refuses_new_calls_at_once() {
    let provider = silent_provider();
    let api = "overload_delay_ms = 1\nmax_pending_requests = 100000\nmax_calls_per_line = 100000";
    let (gw, metrics) = gateway_with_metrics(api, &silent_line(&provider));
    let mut raw = Raw::connect(gw.api_addr()).await;
    let app = raw
        .call(
            "lineInitializeEx",
            json!({"appName": "burst", "apiVersion": 0x20002, "options": 1}),
        )
        .await;
    let open = json!({"hLineApp": app["result"]["hLineApp"], "deviceId": 0, "apiVersion": 0x20002,
                      "privileges": LINECALLPRIVILEGE_OWNER, "mediaModes": LINEMEDIAMODE_INTERACTIVEVOICE});
    let line = raw.call("lineOpen", open).await["result"]["hLine"].clone();
    // Pipelined in one write: the core takes them one by one, so the last ones wait longest.
    const CALLS: u64 = 2000;
    let mut batch = String::new();
    for id in 1..=CALLS {
        let request = json!({"jsonrpc": "2.0", "id": id, "method": "lineMakeCall",
                             "params": {"hLine": line, "destAddress": format!("{}", 3000 + id)}});
        batch.push_str(&format!("{request}\n"));
    }
    raw.write.write_all(batch.as_bytes()).await.unwrap();
    let (mut started, mut refused) = (0, 0);
    for id in 1..=CALLS {
        let answer = raw.answer(id).await;
        match answer["error"]["message"].as_str() {
            None => started += 1,
            Some("LINEERR_RESOURCEUNAVAIL") => refused += 1,
            Some(other) => panic!("unexpected {other}"),
        }
    }
    println!("{CALLS} pipelined lineMakeCall with overload_delay_ms = 1: {started} started, {refused} refused");
    assert!(
        refused >= 1 && started >= 1,
        "{started} started, {refused} refused"
    );
    let m = scrape(metrics);
    assert_eq!(m["tapigw_overload_shed_total"], refused as f64);
    assert_eq!(
        m["tapigw_calls_started_total{direction=\"outbound\"}"],
        started as f64
    );
    drop(provider);
}

/// A raw JSON Lines connection.
struct Raw {
    read: tokio::io::BufReader<tokio::net::tcp::OwnedReadHalf>,
    write: tokio::net::tcp::OwnedWriteHalf,
    next: u64,
}

impl Raw {
    async fn connect(addr: SocketAddr) -> Raw {
        let (read, write) = TcpStream::connect(addr).await.unwrap().into_split();
        Raw {
            read: tokio::io::BufReader::new(read),
            write,
            next: 1_000_000,
        }
    }

    /// One request and its answer.
    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let line = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.write
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
        self.answer(id).await
    }

    /// The next answer, which must be the one to `id` (notifications are skipped).
    async fn answer(&mut self, id: u64) -> Value {
        use tokio::io::AsyncBufReadExt;
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(WAIT, self.read.read_line(&mut line))
                .await
                .unwrap()
                .unwrap();
            assert!(n > 0, "connection closed before the answer to {id}");
            let v: Value = serde_json::from_str(&line).unwrap();
            if v.get("method").is_some() {
                continue;
            }
            assert_eq!(v["id"], id, "answers in request order");
            return v;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flood_of_api_connections_keeps_memory_bounded_and_a_call_completes() {
    raise_fd_limit();
    let (port, provider) = {
        let port = free_port();
        let p = port.to_string();
        let sf = scenario("uas_answer_gw_hangs_up.xml");
        let child = sipp(&["-sf", sf.to_str().unwrap(), "-p", &p, "-m", "1"])
            .timeout(60)
            .spawn();
        (port, child)
    };
    let (gw, metrics) = gateway_with_metrics(
        "max_connections = 1000\nauth_timeout_s = 10",
        &common::line_config(port, "udp"),
    );
    let (mut c, _, line) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    let before = gw.rss_kib();
    const FLOOD: usize = 1500;
    let mut flood = Vec::with_capacity(FLOOD);
    for _ in 0..FLOOD {
        if let Ok(s) = TcpStream::connect(gw.api_addr()).await {
            flood.push(s);
        }
    }
    // Every connection has been accepted or refused once the gateway counted them all.
    let m = wait_until(metrics, |m| {
        m.get("tapigw_api_connections_accepted_total") >= Some(&(FLOOD as f64 + 1.0))
    })
    .await;
    let during = gw.rss_kib();
    let open = m["tapigw_api_connections"];
    let refused = m["tapigw_api_limit_hits_total{limit=\"max_connections\"}"];
    assert_eq!(
        open, 1000.0,
        "api.max_connections bounds the open connections"
    );
    assert_eq!(refused, (FLOOD + 1 - 1000) as f64);
    // The real app still places and ends a call while the flood holds its connections.
    let (request, h_call) = c.line_make_call(line, "1002").await.unwrap();
    assert_eq!(reply(&mut c, request).await, 0);
    state(&mut c, h_call, LINECALLSTATE_CONNECTED).await;
    let drop_request = c.call_op("lineDrop", h_call).await.unwrap();
    assert_eq!(reply(&mut c, drop_request).await, 0);
    state(&mut c, h_call, LINECALLSTATE_IDLE).await;
    // The flood never sends a line: auth_timeout_s closes it by itself.
    let m = wait_until(metrics, |m| m.get("tapigw_api_connections") == Some(&1.0)).await;
    let after = gw.rss_kib();
    assert_eq!(
        m["tapigw_api_connections_dropped_total{reason=\"auth_timeout\"}"],
        999.0
    );
    drop(flood);
    let per_connection = (during.saturating_sub(before)) * 1024 / 1000;
    println!(
        "API connection flood: RSS before {before} KiB, with 1000 idle connections {during} KiB \
         ({per_connection} B each), after they were closed {after} KiB"
    );
    assert!(
        per_connection < 32 * 1024,
        "{per_connection} B per idle connection"
    );
    let run = tokio::task::spawn_blocking(move || provider.wait())
        .await
        .unwrap();
    run.assert_success("provider of the real app's call");
}

/// Scrapes until `ok` holds (or fails after 30 s).
async fn wait_until(
    addr: SocketAddr,
    ok: impl Fn(&std::collections::BTreeMap<String, f64>) -> bool,
) -> std::collections::BTreeMap<String, f64> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let m = tokio::task::spawn_blocking(move || scrape(addr))
            .await
            .unwrap();
        if ok(&m) {
            return m;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "metrics never settled: {m:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The flood needs a few thousand descriptors in this process.
fn raise_fd_limit() {
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}
