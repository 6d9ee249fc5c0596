//! Issue 3 end to end through the real binary's TCP API: each error class, pipelining, the
//! three notification modes, line-length limit, and a client that stops reading.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::app::*;
use common::{free_port, line_config, GatewayProcess};
use serde_json::{json, Value};

fn gateway() -> GatewayProcess {
    GatewayProcess::start(&line_config(free_port(), "udp"))
}

/// A raw JSON Lines connection.
struct Raw {
    write: TcpStream,
    read: BufReader<TcpStream>,
}

impl Raw {
    fn connect(gw: &GatewayProcess) -> Raw {
        let s = TcpStream::connect(gw.api_addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Raw {
            write: s.try_clone().unwrap(),
            read: BufReader::new(s),
        }
    }

    fn send(&mut self, line: &str) {
        self.write.write_all(line.as_bytes()).unwrap();
        self.write.write_all(b"\n").unwrap();
    }

    fn recv(&mut self) -> Value {
        let mut line = String::new();
        self.read.read_line(&mut line).unwrap();
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"))
    }
}

#[test]
fn every_error_class_and_the_connection_stays_up() {
    let gw = gateway();
    let mut c = Raw::connect(&gw);
    let cases = [
        ("{oops", -32700),
        ("[]", -32600),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"lineFrobnicate","params":{}}"#,
            -32601,
        ),
        (
            r#"{"jsonrpc":"2.0","id":2,"method":"lineShutdown","params":{"hLineApp":"one"}}"#,
            -32602,
        ),
        (
            r#"{"jsonrpc":"2.0","id":3,"method":"lineShutdown","params":{"hLineApp":12345}}"#,
            -2147483628,
        ),
    ];
    for (line, code) in cases {
        c.send(line);
        let v = c.recv();
        assert_eq!(v["error"]["code"], code, "{line} -> {v}");
    }
    c.send(r#"{"jsonrpc":"2.0","id":4,"method":"lineShutdown","params":{"hLineApp":12345}}"#);
    assert_eq!(c.recv()["error"]["message"], "LINEERR_INVALAPPHANDLE");
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let gw = gateway();
    let mut c = Raw::connect(&gw);
    let mut batch = String::new();
    for id in 1..=50 {
        batch.push_str(&json!({"jsonrpc":"2.0","id":id,"method":"lineInitializeEx","params":{"appName":format!("a{id}"),"apiVersion":0x20002,"options":1}}).to_string());
        batch.push('\n');
    }
    c.write.write_all(batch.as_bytes()).unwrap();
    let mut apps = std::collections::HashSet::new();
    for id in 1..=50 {
        let v = c.recv();
        assert_eq!(v["id"], id);
        assert!(
            apps.insert(v["result"]["hLineApp"].as_u64().unwrap()),
            "unique handles"
        );
    }
}

#[test]
fn a_line_over_64_kib_is_refused_and_the_connection_closed() {
    let gw = gateway();
    let mut c = Raw::connect(&gw);
    let long = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"lineShutdown","params":{{"x":"{}"}}}}"#,
        "a".repeat(70 * 1024)
    );
    c.send(&long);
    assert_eq!(c.recv()["error"]["code"], -32600);
    let mut rest = Vec::new();
    assert_eq!(
        c.read.read_to_end(&mut rest).unwrap_or(0),
        0,
        "closed after the error"
    );
    // The gateway itself is fine.
    let mut other = Raw::connect(&gw);
    other.send(r#"{"jsonrpc":"2.0","id":1,"method":"lineInitializeEx","params":{"appName":"x","apiVersion":131074,"options":1}}"#);
    assert!(other.recv()["result"]["hLineApp"].is_u64());
}

/// Places a call to a dead proxy port over TCP (connect refused): a reliable way to get a
/// LINE_REPLY without a SIP peer.
async fn failing_call(c: &mut Client, line: u32) -> u32 {
    c.line_make_call(line, "1002").await.unwrap().0
}

#[tokio::test(flavor = "multi_thread")]
async fn event_mode_and_completion_port_mode() {
    let gw = GatewayProcess::start(&line_config(free_port(), "tcp"));
    let mut c = Client::connect(gw.api_addr()).await.unwrap();
    // Event mode: nothing is pushed; lineGetMessage fetches.
    let (app, _) = c.line_initialize_ex("events", 2, 0).await.unwrap();
    let line = c
        .line_open(
            app,
            0,
            LINECALLPRIVILEGE_OWNER,
            LINEMEDIAMODE_INTERACTIVEVOICE,
            5,
        )
        .await
        .unwrap();
    let err = c.line_get_message(app, 0).await.unwrap_err();
    assert!(
        matches!(err, ClientError::Rpc { ref message, .. } if message == "LINEERR_OPERATIONFAILED")
    );
    let request = failing_call(&mut c, line).await;
    let m = c.line_get_message(app, 10_000).await.unwrap();
    assert_eq!(m.msg.dw_message_id, LINE_REPLY);
    assert_eq!(m.msg.dw_param1, request);
    assert_eq!(m.msg.dw_callback_instance, 5);
    assert!(
        c.next_message(Duration::from_millis(200)).await.is_err(),
        "nothing pushed in event mode"
    );
    let started = std::time::Instant::now();
    assert!(c.line_get_message(app, 300).await.is_err());
    assert!(
        started.elapsed() >= Duration::from_millis(290),
        "waited for the timeout"
    );
    // Completion-port mode: pushed with the key.
    let (app2, _) = c.line_initialize_ex("port", 3, 4242).await.unwrap();
    let line2 = c
        .line_open(app2, 0, LINECALLPRIVILEGE_NONE, 0, 0)
        .await
        .unwrap();
    let request = failing_call(&mut c, line2).await;
    let m = c.next_message(WAIT).await.unwrap();
    assert_eq!(
        (m.msg.dw_message_id, m.msg.dw_param1),
        (LINE_REPLY, request)
    );
    assert_eq!(m.completion_key, Some(4242));
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_wakes_a_waiting_get_message_from_another_connection_of_the_same_app_only() {
    let gw = gateway();
    let mut c = Client::connect(gw.api_addr()).await.unwrap();
    let (app, _) = c.line_initialize_ex("events", 2, 0).await.unwrap();
    let waiting = c
        .send("lineGetMessage", json!({"hLineApp": app, "timeout": 20000}))
        .await
        .unwrap();
    c.line_shutdown(app).await.unwrap();
    let err = waiting.wait().await.unwrap_err();
    assert!(
        matches!(err, ClientError::Rpc { ref message, .. } if message == "LINEERR_INVALAPPHANDLE"),
        "{err}"
    );
}

#[test]
fn a_client_that_stops_reading_is_disconnected_and_others_are_served() {
    let mut gw = GatewayProcess::start_with_api(
        "max_outgoing_messages = 16\n",
        &line_config(free_port(), "udp"),
    );
    let mut slow = TcpStream::connect(gw.api_addr()).unwrap();
    let writer = std::thread::spawn(move || {
        let line = r#"{"jsonrpc":"2.0","id":1,"method":"lineShutdown","params":{"hLineApp":1}}"#;
        let batch: String = (0..1000).map(|_| format!("{line}\n")).collect();
        // Never read; keep writing until the gateway hangs up.
        for _ in 0..1000 {
            if slow.write_all(batch.as_bytes()).is_err() {
                return true;
            }
        }
        false
    });
    gw.wait_for_log("too slow", Duration::from_secs(30));
    assert!(writer.join().unwrap(), "the slow connection was closed");
    let mut other = Raw::connect(&gw);
    other.send(r#"{"jsonrpc":"2.0","id":9,"method":"lineShutdown","params":{"hLineApp":5}}"#);
    assert_eq!(other.recv()["error"]["message"], "LINEERR_INVALAPPHANDLE");
}
