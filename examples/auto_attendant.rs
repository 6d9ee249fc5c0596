//! An auto-attendant: answers every call on a line after a delay and hangs up after a while,
//! printing each TAPI message.
//!
//!     cargo run --example auto_attendant -- [--api 127.0.0.1:8274] [--line 0]
//!                                           [--answer-after-ms 1000] [--hang-up-after-s 10]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use tapigw::client::{Client, ClientError};
use tapigw::tapi::consts::*;
use tokio::time::Instant;

struct Options {
    api: SocketAddr,
    line: u32,
    answer_after: Duration,
    hang_up_after: Duration,
}

fn options() -> Options {
    let mut o = Options {
        api: "127.0.0.1:8274".parse().unwrap(),
        line: 0,
        answer_after: Duration::from_millis(1000),
        hang_up_after: Duration::from_secs(10),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).map(String::as_str).unwrap_or("");
        match pair[0].as_str() {
            "--api" => o.api = value.parse().expect("--api ADDR"),
            "--line" => o.line = value.parse().expect("--line N"),
            "--answer-after-ms" => {
                o.answer_after = Duration::from_millis(value.parse().expect("ms"))
            }
            "--hang-up-after-s" => o.hang_up_after = Duration::from_secs(value.parse().expect("s")),
            other => panic!("unknown option {other}"),
        }
    }
    o
}

/// What to do next for a call, and when.
enum Due {
    Answer(Instant),
    HangUp(Instant),
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), ClientError> {
    let o = options();
    let mut client = Client::connect(o.api).await?;
    let (app, _) = client.line_initialize_ex("auto-attendant", 1, 0).await?;
    let line = client
        .line_open(
            app,
            o.line,
            LINECALLPRIVILEGE_OWNER,
            LINEMEDIAMODE_INTERACTIVEVOICE,
            0,
        )
        .await?;
    println!("answering calls on line {} (hLine={line})", o.line);
    let mut due: HashMap<u32, Due> = HashMap::new();
    loop {
        let next = due
            .values()
            .map(|d| match d {
                Due::Answer(t) | Due::HangUp(t) => *t,
            })
            .min()
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        let wait = next.saturating_duration_since(Instant::now());
        match client.next_message(wait).await {
            Ok(m) => {
                println!("{}", m.describe());
                let msg = m.msg;
                match (msg.dw_message_id, msg.dw_param1) {
                    (LINE_CALLSTATE, LINECALLSTATE_OFFERING) => {
                        due.insert(msg.h_device, Due::Answer(Instant::now() + o.answer_after));
                    }
                    (LINE_CALLSTATE, LINECALLSTATE_CONNECTED) => {
                        due.insert(msg.h_device, Due::HangUp(Instant::now() + o.hang_up_after));
                    }
                    (LINE_CALLSTATE, LINECALLSTATE_DISCONNECTED) => {
                        // The far end hung up: TAPI apps drop to go IDLE.
                        due.remove(&msg.h_device);
                        let _ = client.call_op("lineDrop", msg.h_device).await;
                    }
                    (LINE_CALLSTATE, LINECALLSTATE_IDLE) => {
                        due.remove(&msg.h_device);
                        client.line_deallocate_call(msg.h_device).await?;
                    }
                    _ => {}
                }
            }
            Err(ClientError::Timeout) => {
                let now = Instant::now();
                let ready: Vec<u32> = due
                    .iter()
                    .filter(|(_, d)| matches!(d, Due::Answer(t) | Due::HangUp(t) if *t <= now))
                    .map(|(h, _)| *h)
                    .collect();
                for h_call in ready {
                    let method = match due.remove(&h_call) {
                        Some(Due::Answer(_)) => "lineAnswer",
                        _ => "lineDrop",
                    };
                    match client.call_op(method, h_call).await {
                        Ok(request) => println!("{method}(hCall={h_call}) -> request {request}"),
                        Err(e) => println!("{method}(hCall={h_call}) failed: {e}"),
                    }
                }
            }
            Err(e) => return Err(e),
        }
    }
}
