//! The gateway connection at the byte level: JSON Lines framing, JSON-RPC requests, responses
//! and notifications, and the blocking handshake (connect with a time-out, `authenticate`,
//! the first request) done before a connection is handed to its reader thread.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use serde_json::{json, Value};

use crate::config::Settings;
use crate::errors::{Fail, RPC_METHOD_NOT_FOUND};

/// Longest line accepted from the gateway.
const MAX_LINE: u64 = 4 * 1024 * 1024;

/// One line from the gateway.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    Response {
        id: u64,
        result: Result<Value, Fail>,
    },
    Notification {
        method: String,
        params: Value,
    },
    /// Not JSON-RPC we understand (ignored).
    Other,
}

/// Parses one line.
pub fn parse(line: &str) -> Incoming {
    let Ok(Value::Object(obj)) = serde_json::from_str::<Value>(line) else {
        return Incoming::Other;
    };
    if let Some(id) = obj.get("id").and_then(Value::as_u64) {
        if let Some(result) = obj.get("result") {
            return Incoming::Response {
                id,
                result: Ok(result.clone()),
            };
        }
        if let Some(err) = obj.get("error") {
            return Incoming::Response {
                id,
                result: Err(rpc_fail(err)),
            };
        }
    }
    match (obj.get("method").and_then(Value::as_str), obj.get("params")) {
        (Some(method), Some(params)) => Incoming::Notification {
            method: method.to_string(),
            params: params.clone(),
        },
        _ => Incoming::Other,
    }
}

fn rpc_fail(err: &Value) -> Fail {
    Fail::Rpc {
        code: err.get("code").and_then(Value::as_i64).unwrap_or(0),
        message: err
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    }
}

/// A request line (no trailing newline).
pub fn request_line(id: u64, method: &str, params: &Value) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string()
}

/// Reads one line (without its newline); `None` at EOF. A line over the limit is an error.
pub fn read_line(reader: &mut BufReader<TcpStream>) -> std::io::Result<Option<String>> {
    let mut buf = Vec::new();
    let n = reader.by_ref().take(MAX_LINE).read_until(b'\n', &mut buf)?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() != Some(&b'\n') && n as u64 >= MAX_LINE {
        return Err(std::io::Error::other("line from the gateway too long"));
    }
    Ok(Some(String::from_utf8_lossy(&buf).trim_end().to_string()))
}

/// Why a handshake did not give a connection.
#[derive(Debug)]
pub enum HandshakeError {
    /// Could not connect, or the connection failed or stayed silent.
    Unreachable(String),
    /// The gateway answered the request with an error.
    Refused(Fail),
}

/// A freshly connected, authenticated connection, before its reader thread starts.
pub struct Handshake {
    pub reader: BufReader<TcpStream>,
    pub writer: TcpStream,
    /// Notifications that arrived before the answer, in order.
    pub early: Vec<String>,
    next_id: u64,
    debug: bool,
}

impl Handshake {
    /// Connects (bounded by the connect time-out) and authenticates when a token is set.
    pub fn open(settings: &Settings) -> Result<Handshake, HandshakeError> {
        let stream = connect(&settings.api, settings.connect_timeout)?;
        let unreachable = |e: std::io::Error| HandshakeError::Unreachable(e.to_string());
        stream
            .set_read_timeout(Some(settings.call_timeout))
            .map_err(unreachable)?;
        let _ = stream.set_nodelay(true);
        let writer = stream.try_clone().map_err(unreachable)?;
        let mut hs = Handshake {
            reader: BufReader::new(stream),
            writer,
            early: Vec::new(),
            next_id: 1,
            debug: settings.debug,
        };
        if let Some(token) = &settings.token {
            hs.authenticate(token)?;
        }
        Ok(hs)
    }

    fn authenticate(&mut self, token: &str) -> Result<(), HandshakeError> {
        match self.request("authenticate", &json!({ "token": token })) {
            // A gateway without tokens does not know the method: nothing to authenticate.
            Err(HandshakeError::Refused(Fail::Rpc { code, .. }))
                if code == RPC_METHOD_NOT_FOUND =>
            {
                Ok(())
            }
            other => other.map(|_| ()),
        }
    }

    /// Sends one request and waits (bounded by the read time-out) for its answer.
    pub fn request(&mut self, method: &str, params: &Value) -> Result<Value, HandshakeError> {
        let id = self.next_id;
        self.next_id += 1;
        let line = request_line(id, method, params);
        self.trace(">>", &line);
        let unreachable = |e: std::io::Error| HandshakeError::Unreachable(e.to_string());
        self.writer
            .write_all(format!("{line}\n").as_bytes())
            .map_err(unreachable)?;
        loop {
            let Some(text) = read_line(&mut self.reader).map_err(unreachable)? else {
                return Err(HandshakeError::Unreachable("connection closed".into()));
            };
            self.trace("<<", &text);
            match parse(&text) {
                Incoming::Response { id: got, result } if got == id => {
                    return result.map_err(HandshakeError::Refused)
                }
                Incoming::Notification { .. } => self.early.push(text),
                _ => {}
            }
        }
    }

    /// The id the reader thread's requests continue from.
    pub fn next_id(&self) -> u64 {
        self.next_id
    }

    /// Ends the handshake: no read time-out from now on (the reader waits for messages).
    pub fn into_parts(self) -> std::io::Result<(BufReader<TcpStream>, TcpStream, Vec<String>)> {
        self.reader.get_ref().set_read_timeout(None)?;
        Ok((self.reader, self.writer, self.early))
    }

    fn trace(&self, dir: &str, line: &str) {
        if self.debug {
            eprintln!("libtapi {dir} {line}");
        }
    }
}

/// Connects to the first address of `api` that accepts within `timeout`.
fn connect(api: &str, timeout: Duration) -> Result<TcpStream, HandshakeError> {
    let addrs = api
        .to_socket_addrs()
        .map_err(|e| HandshakeError::Unreachable(format!("TAPIGW_API {api:?}: {e}")))?;
    let mut last = format!("TAPIGW_API {api:?}: no address");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = format!("{addr}: {e}"),
        }
    }
    Err(HandshakeError::Unreachable(last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_responses_errors_and_notifications() {
        assert_eq!(
            parse(r#"{"jsonrpc":"2.0","id":3,"result":{"hLine":5}}"#),
            Incoming::Response {
                id: 3,
                result: Ok(json!({"hLine":5}))
            }
        );
        let err = parse(
            r#"{"jsonrpc":"2.0","id":4,"error":{"code":-2147483605,"message":"LINEERR_INVALLINEHANDLE"}}"#,
        );
        assert!(
            matches!(
                err,
                Incoming::Response {
                    id: 4,
                    result: Err(Fail::Rpc {
                        code: -2147483605,
                        ..
                    })
                }
            ),
            "{err:?}"
        );
        let n = parse(r#"{"jsonrpc":"2.0","method":"LINE_REPLY","params":{"dwParam1":5}}"#);
        assert!(matches!(n, Incoming::Notification { ref method, .. } if method == "LINE_REPLY"));
        assert_eq!(parse("not json"), Incoming::Other);
        assert_eq!(parse("[1]"), Incoming::Other);
    }
}
