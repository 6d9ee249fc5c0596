//! Issue 2 end to end: the real binary answers SIPp over UDP and TCP (OPTIONS 200, 405 with
//! Allow, 481 for a stray CANCEL), answers malformed requests with 400 and keeps serving,
//! answers RFC 4475's invalid torture messages as its §3.1.2 and §3.3 ask, rejects bad configs
//! with one line, and stops cleanly on SIGTERM.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{scenario, sipp, udp_exchange, GatewayProcess};

const ONE_LINE: &str = "[[lines]]\nname = \"L1\"\nuser = \"1001\"\ndomain = \"127.0.0.1\"\nproxy = \"127.0.0.1:5999\"\n\n[media]\nmode = \"none\"\n";

fn options_run(gw: &GatewayProcess, transport: &str) {
    let target = gw.sip_addr().to_string();
    let sf = scenario("uac_options.xml");
    let run = sipp(&[
        &target,
        "-sf",
        sf.to_str().unwrap(),
        "-t",
        transport,
        "-m",
        "1",
        "-s",
        "1001",
    ])
    .timeout(15)
    .run();
    run.assert_success(&format!("OPTIONS over {transport}"));
}

#[test]
fn answers_options_405_and_481_over_udp_and_tcp() {
    let mut gw = GatewayProcess::start(ONE_LINE);
    options_run(&gw, "u1");
    options_run(&gw, "t1");
    assert!(
        gw.stop().success(),
        "SIGTERM must stop tapigw with status 0"
    );
}

#[test]
fn malformed_request_gets_400_and_the_next_one_is_answered() {
    let gw = GatewayProcess::start(ONE_LINE);
    // No Call-ID: parseable start line, bad mandatory headers -> 400 (RFC 3261 §8.2.6 / §21.4.1).
    let bad = "OPTIONS sip:1001@127.0.0.1 SIP/2.0\r\n\
        Via: SIP/2.0/UDP 127.0.0.1:LOCALPORT;branch=z9hG4bKbad1\r\n\
        From: <sip:x@127.0.0.1>;tag=1\r\nTo: <sip:1001@127.0.0.1>\r\n\
        CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    let answer = udp_exchange(gw.sip_addr(), bad, Duration::from_secs(5)).expect("an answer");
    assert!(answer.starts_with("SIP/2.0 400"), "got: {answer}");
    // Garbage is dropped without an answer and without harm.
    assert!(udp_exchange(
        gw.sip_addr(),
        "\u{1}\u{2}garbage\r\n\r\n",
        Duration::from_millis(300)
    )
    .is_none());
    options_run(&gw, "u1");
}

#[test]
fn bad_config_exits_non_zero_with_one_line_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[sip]\nlisten = \"not an address\"\n[api]\nlisten = \"127.0.0.1:1\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tapigw"))
        .arg("--config")
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains("sip.listen"), "names the key: {stderr}");
    assert!(stderr.contains("bad.toml"), "names the file: {stderr}");
}

#[test]
fn environment_overrides_the_api_address() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(&path, format!("[sip]\nlisten = \"127.0.0.1:{}\"\n[api]\nlisten = \"127.0.0.1:1\"\n[media]\nmode = \"none\"\n", common::free_port())).unwrap();
    let api = common::free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tapigw"))
        .arg("--config")
        .arg(&path)
        .env("TAPIGW__API__LISTEN", format!("127.0.0.1:{api}"))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr)).map_while(Result::ok);
    let line = lines
        .by_ref()
        .find(|l| l.contains("tapigw listening"))
        .expect("listening line");
    assert!(line.contains(&format!("127.0.0.1:{api}")), "{line}");
    assert!(std::net::TcpStream::connect(("127.0.0.1", api)).is_ok());
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let rest: Vec<String> = lines.collect();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}: {rest:?}");
}

#[test]
fn healthcheck_asks_the_api() {
    let gw = GatewayProcess::start(ONE_LINE);
    let ok = Command::new(env!("CARGO_BIN_EXE_tapigw"))
        .args(["--healthcheck", &gw.api_addr().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    let down = Command::new(env!("CARGO_BIN_EXE_tapigw"))
        .args([
            "--healthcheck",
            &format!("127.0.0.1:{}", common::free_port()),
        ])
        .status()
        .unwrap();
    assert!(!down.success());
}
