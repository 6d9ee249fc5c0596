//! The reader thread of an app, and sessions that survive a dropped connection (contract,
//! "Sessions that survive a dropped connection"): when the connection drops without
//! lineShutdown, reconnect with backoff, `lineResume(sessionId, lastSeq)`, and go on reading;
//! the gateway replays what came meanwhile and duplicates (seq <= lastSeq) are dropped, so the
//! application sees one unbroken stream. When no session can be resumed the app's lines get
//! LINE_CLOSE and its functions fail with LINEERR_OPERATIONFAILED.

use std::io::BufReader;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::app::App;
use crate::wire::{read_line, Handshake, HandshakeError};

/// First and longest wait between reconnection attempts.
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// The reader thread: hands every line to the app until shutdown or a session lost for good.
pub fn run_reader(app: Arc<App>, mut reader: BufReader<TcpStream>, early: Vec<String>) {
    for line in &early {
        app.handle_line(line);
    }
    loop {
        match read_line(&mut reader) {
            Ok(Some(line)) => app.handle_line(&line),
            Ok(None) | Err(_) => {
                if app.is_closed() {
                    return;
                }
                app.connection_lost();
                match resume(&app) {
                    Some(r) => reader = r,
                    None => {
                        app.die();
                        return;
                    }
                }
            }
        }
    }
}

/// Reconnects and resumes the app's session; `None` when that is not possible.
fn resume(app: &Arc<App>) -> Option<BufReader<TcpStream>> {
    let (session, _) = app.resume_point()?;
    let deadline = Instant::now() + app.settings.resume_window;
    let mut backoff = FIRST_BACKOFF;
    loop {
        if app.sleep_unless_closed(backoff) {
            return None;
        }
        match try_resume(app, &session) {
            Ok(reader) => return Some(reader),
            Err(HandshakeError::Refused(_)) => return None,
            Err(HandshakeError::Unreachable(_)) => {}
        }
        if Instant::now() >= deadline {
            return None;
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

fn try_resume(app: &Arc<App>, session: &str) -> Result<BufReader<TcpStream>, HandshakeError> {
    let mut hs = Handshake::open(&app.settings)?;
    let last_seq = app.resume_point().map_or(0, |(_, seq)| seq);
    hs.request(
        "lineResume",
        &json!({ "sessionId": session, "lastSeq": last_seq }),
    )?;
    let (reader, writer, early) = hs
        .into_parts()
        .map_err(|e| HandshakeError::Unreachable(e.to_string()))?;
    app.install(writer);
    for line in &early {
        app.handle_line(line);
    }
    Ok(reader)
}
