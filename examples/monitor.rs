//! A first legacy-style TAPI app: opens every line and prints every message it receives.
//!
//!     cargo run --example monitor -- [API_ADDR] [--owner]
//!
//! With `--owner` it opens the lines as OWNER (it then takes inbound calls, without answering
//! them); by default as MONITOR.

use std::net::SocketAddr;
use std::time::Duration;

use tapigw::client::{Client, ClientError};
use tapigw::tapi::consts::*;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), ClientError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let addr: SocketAddr = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(|a| a.parse().expect("API address, e.g. 127.0.0.1:8274"))
        .unwrap_or_else(|| "127.0.0.1:8274".parse().unwrap());
    let privileges = if args.iter().any(|a| a == "--owner") {
        LINECALLPRIVILEGE_OWNER | LINECALLPRIVILEGE_MONITOR
    } else {
        LINECALLPRIVILEGE_MONITOR
    };
    let mut client = Client::connect(addr).await?;
    let (app, devices) = client.line_initialize_ex("monitor", 1, 0).await?;
    println!("connected to {addr}: hLineApp={app}, {devices} line(s)");
    for device in 0..devices {
        let line = client
            .line_open(
                app,
                device,
                privileges,
                LINEMEDIAMODE_INTERACTIVEVOICE,
                device,
            )
            .await?;
        client.line_set_status_messages(line, 0x01FF_FFFF).await?;
        println!("line {device} open: hLine={line}");
    }
    loop {
        match client.next_message(Duration::from_secs(3600)).await {
            Ok(m) => println!("{}", m.describe()),
            Err(ClientError::Timeout) => continue,
            Err(e) => return Err(e),
        }
    }
}
