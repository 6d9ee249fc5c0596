//! A scripted TAPI app for smoke tests (docker/run-tests.sh uses it): drives one call through
//! the API, prints every TAPI message, and exits 0 only when the expected outcome was seen.
//!
//!     drive [--api ADDR] outbound DEST connected|busy    place a call, hang up once connected
//!     drive [--api ADDR] inbound                         answer the next call, wait for its end
//!     drive [--api ADDR] registered                      wait for the line to be in service

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use tapigw::client::{Client, ClientError, TapiMessage};
use tapigw::tapi::consts::*;

const WAIT: Duration = Duration::from_secs(30);

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut api: SocketAddr = "127.0.0.1:8274".parse().unwrap();
    if args.first().map(String::as_str) == Some("--api") && args.len() > 1 {
        api = args[1].parse().expect("--api ADDR");
        args.drain(..2);
    }
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["outbound", dest, expect] => outbound(api, dest, expect).await,
        ["inbound"] => inbound(api).await,
        ["registered"] => registered(api).await,
        _ => {
            eprintln!(
                "usage: drive [--api ADDR] outbound DEST connected|busy | inbound | registered"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => {
            println!("drive: OK");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("drive: FAILED: {e}");
            ExitCode::from(1)
        }
    }
}

async fn open(api: SocketAddr) -> Result<(Client, u32), ClientError> {
    let mut c = Client::connect(api).await?;
    let (app, _) = c.line_initialize_ex("drive", 1, 0).await?;
    let line = c
        .line_open(
            app,
            0,
            LINECALLPRIVILEGE_OWNER,
            LINEMEDIAMODE_INTERACTIVEVOICE,
            0,
        )
        .await?;
    Ok((c, line))
}

/// Next message, printed.
async fn next(c: &mut Client) -> Result<TapiMessage, ClientError> {
    let m = c.next_message(WAIT).await?;
    println!("{}", m.describe());
    Ok(m)
}

fn fail(what: String) -> ClientError {
    ClientError::Protocol(what)
}

async fn outbound(api: SocketAddr, dest: &str, expect: &str) -> Result<(), ClientError> {
    let (mut c, line) = open(api).await?;
    let (request, h_call) = c.line_make_call(line, dest).await?;
    loop {
        let m = next(&mut c).await?.msg;
        match (m.dw_message_id, m.dw_param1) {
            (LINE_REPLY, r) if r == request && m.reply_result() != 0 => {
                return Err(fail(format!("lineMakeCall failed: {}", m.reply_result())))
            }
            (LINE_CALLSTATE, LINECALLSTATE_CONNECTED) if expect == "connected" => {
                let drop = c.call_op("lineDrop", h_call).await?;
                wait_idle(&mut c, drop).await?;
                return Ok(());
            }
            (LINE_CALLSTATE, LINECALLSTATE_DISCONNECTED) => {
                let busy = m.dw_param2 == LINEDISCONNECTMODE_BUSY;
                return if expect == "busy" && busy {
                    Ok(())
                } else {
                    Err(fail(format!("disconnected with mode {:#x}", m.dw_param2)))
                };
            }
            _ => {}
        }
    }
}

async fn wait_idle(c: &mut Client, drop_request: u32) -> Result<(), ClientError> {
    let mut replied = false;
    loop {
        let m = next(c).await?.msg;
        if m.dw_message_id == LINE_REPLY && m.dw_param1 == drop_request {
            replied = m.reply_result() == 0;
        }
        if m.dw_message_id == LINE_CALLSTATE && m.dw_param1 == LINECALLSTATE_IDLE {
            return if replied {
                Ok(())
            } else {
                Err(fail("IDLE without LINE_REPLY(0)".into()))
            };
        }
    }
}

async fn inbound(api: SocketAddr) -> Result<(), ClientError> {
    let (mut c, _) = open(api).await?;
    println!("drive: waiting for a call");
    let mut connected = false;
    loop {
        let m = next(&mut c).await?.msg;
        match (m.dw_message_id, m.dw_param1) {
            (LINE_CALLSTATE, LINECALLSTATE_OFFERING) => {
                c.call_op("lineAnswer", m.h_device).await?;
            }
            (LINE_CALLSTATE, LINECALLSTATE_CONNECTED) => connected = true,
            (LINE_CALLSTATE, LINECALLSTATE_IDLE) if connected => return Ok(()),
            (LINE_CALLSTATE, LINECALLSTATE_IDLE) => return Err(fail("ended unanswered".into())),
            _ => {}
        }
    }
}

async fn registered(api: SocketAddr) -> Result<(), ClientError> {
    let (mut c, line) = open(api).await?;
    c.line_set_status_messages(line, LINEDEVSTATE_INSERVICE | LINEDEVSTATE_OUTOFSERVICE)
        .await?;
    let status = c
        .call("lineGetLineDevStatus", serde_json::json!({"hLine": line}))
        .await?;
    if status["registered"] == true {
        return Ok(());
    }
    loop {
        let m = next(&mut c).await?.msg;
        if m.dw_message_id == LINE_LINEDEVSTATE && m.dw_param1 == LINEDEVSTATE_INSERVICE {
            return Ok(());
        }
    }
}
