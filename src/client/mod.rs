//! A Rust client for the API (used by the tests, the examples and the load bench; usable by
//! Rust apps): connect, call functions (pipelined: several may be in flight), and receive the
//! TAPI messages the gateway pushes, either as a stream (`next_message`, `wait_for`) or through
//! a callback (`on_message`). No message is lost either way: one background task reads the
//! connection (nothing else ever reads it, so no partly read line can be dropped), answers go
//! to their callers, messages to an unbounded queue or the callback, in order.
//!
//! Plain TCP ([`Client::connect`]) or TLS ([`Client::connect_tls`], `tls.rs`); a gateway with
//! `api.token` wants [`Client::authenticate`] first.

mod tls;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

use crate::api::protocol::message_name;
use crate::tapi::consts::*;
use crate::tapi::LineMessage;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// A JSON-RPC error response: a LINEERR_ (negative) or a protocol error code.
    #[error("{message} ({code})")]
    Rpc { code: i32, message: String },
    #[error("connection closed")]
    Closed,
    #[error("timed out")]
    Timeout,
    #[error("unexpected answer: {0}")]
    Protocol(String),
    #[error("tls: {0}")]
    Tls(String),
}

/// The halves of a connection, plain or TLS.
type ReadHalf = Box<dyn AsyncRead + Send + Unpin>;
type WriteHalf = Box<dyn AsyncWrite + Send + Unpin>;

/// A TAPI message as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapiMessage {
    pub msg: LineMessage,
    /// Present in completion-port mode.
    pub completion_key: Option<u32>,
}

impl TapiMessage {
    pub fn name(&self) -> &'static str {
        message_name(self.msg.dw_message_id)
    }

    /// Parses the six LINEMESSAGE fields (dwParam2 may be negative for LINE_REPLY).
    pub fn from_fields(v: &Value) -> Option<TapiMessage> {
        let field = |name: &str| v.get(name).and_then(Value::as_i64).map(|n| n as u32);
        Some(TapiMessage {
            msg: LineMessage {
                h_device: field("hDevice")?,
                dw_message_id: field("dwMessageID")?,
                dw_callback_instance: field("dwCallbackInstance")?,
                dw_param1: field("dwParam1")?,
                dw_param2: v
                    .get("dwParam2")
                    .and_then(Value::as_i64)
                    .map(|n| n as i32 as u32)?,
                dw_param3: field("dwParam3")?,
            },
            completion_key: field("dwCompletionKey"),
        })
    }

    /// Short human form: `LINE_CALLSTATE h=65540 p1=0x100 p2=0x1 p3=0x0`.
    pub fn describe(&self) -> String {
        let m = &self.msg;
        match m.dw_message_id {
            LINE_REPLY => format!(
                "LINE_REPLY request={} result={}",
                m.dw_param1,
                m.reply_result()
            ),
            _ => format!(
                "{} h={} inst={} p1={:#x} p2={:#x} p3={:#x}",
                self.name(),
                m.h_device,
                m.dw_callback_instance,
                m.dw_param1,
                m.dw_param2,
                m.dw_param3
            ),
        }
    }
}

type Reply = Result<Value, ClientError>;

/// An answer that has not come yet (for pipelining).
pub struct PendingReply(oneshot::Receiver<Reply>);

impl PendingReply {
    pub async fn wait(self) -> Reply {
        self.0.await.unwrap_or(Err(ClientError::Closed))
    }
}

/// A callback for pushed messages (see [`Client::on_message`]).
pub type MessageCallback = Box<dyn FnMut(TapiMessage) + Send>;

/// Where the reader task puts pushed messages.
enum Sink {
    Queue(mpsc::UnboundedSender<TapiMessage>),
    Callback(MessageCallback),
}

impl Sink {
    fn push(&mut self, m: TapiMessage) {
        match self {
            Sink::Queue(tx) => {
                let _ = tx.send(m);
            }
            Sink::Callback(f) => f(m),
        }
    }
}

/// What the reader task is told by the client.
enum Control {
    /// An answer with this id is expected.
    Expect(u64, oneshot::Sender<Reply>),
    /// From now on, messages go to this callback (queued ones first).
    Callback(MessageCallback),
}

/// One connection to the gateway.
pub struct Client {
    write: WriteHalf,
    control: mpsc::UnboundedSender<Control>,
    messages: mpsc::UnboundedReceiver<TapiMessage>,
    next_id: u64,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Result<Client, ClientError> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (read, write) = stream.into_split();
        Ok(Client::over(Box::new(read), Box::new(write)))
    }

    /// A client over an established connection.
    fn over(read: ReadHalf, write: WriteHalf) -> Client {
        let (control, controls) = mpsc::unbounded_channel();
        let (push, messages) = mpsc::unbounded_channel();
        tokio::spawn(route(BufReader::new(read), controls, Sink::Queue(push)));
        Client {
            write,
            control,
            messages,
            next_id: 1,
        }
    }

    /// `authenticate` (docs/api.md "Security"): needed first when the gateway has tokens.
    pub async fn authenticate(&mut self, token: &str) -> Result<(), ClientError> {
        self.call("authenticate", json!({ "token": token }))
            .await
            .map(drop)
    }

    /// Delivers every pushed message to `callback` instead of the queue, in order, from the
    /// client's reader task (messages already queued stay for `next_message`). The gateway
    /// writes a function's response before any message it causes, so a LINE_REPLY reaches the
    /// callback only after its request's answer has been handed to the caller.
    pub fn on_message(&mut self, callback: impl FnMut(TapiMessage) + Send + 'static) {
        let _ = self.control.send(Control::Callback(Box::new(callback)));
    }

    /// Sends a request; the answer is awaited separately.
    pub async fn send(&mut self, method: &str, params: Value) -> Result<PendingReply, ClientError> {
        let id = self.next_id;
        self.next_id += 1;
        let (tx, rx) = oneshot::channel();
        // Registered before the line is written, so the reader knows the id when the answer
        // comes.
        self.control
            .send(Control::Expect(id, tx))
            .map_err(|_| ClientError::Closed)?;
        let line = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.write_raw(&line.to_string()).await?;
        Ok(PendingReply(rx))
    }

    /// Writes one raw line (tests use it for malformed input).
    pub async fn write_raw(&mut self, line: &str) -> Result<(), ClientError> {
        self.write.write_all(line.as_bytes()).await?;
        self.write.write_all(b"\n").await?;
        Ok(())
    }

    /// Calls a function and waits for its answer.
    pub async fn call(&mut self, method: &str, params: Value) -> Reply {
        self.send(method, params).await?.wait().await
    }

    /// The next pushed TAPI message, waiting at most `timeout`.
    pub async fn next_message(&mut self, timeout: Duration) -> Result<TapiMessage, ClientError> {
        match tokio::time::timeout(timeout, self.messages.recv()).await {
            Ok(Some(m)) => Ok(m),
            Ok(None) => Err(ClientError::Closed),
            Err(_) => Err(ClientError::Timeout),
        }
    }

    /// Waits for a pushed message matching `pred`, returning those skipped on the way.
    pub async fn wait_for(
        &mut self,
        timeout: Duration,
        mut pred: impl FnMut(&TapiMessage) -> bool,
    ) -> Result<(TapiMessage, Vec<TapiMessage>), ClientError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut skipped = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let m = self.next_message(left).await?;
            if pred(&m) {
                return Ok((m, skipped));
            }
            skipped.push(m);
        }
    }

    // Typed helpers for the version 1 function set.

    /// lineInitializeEx: (hLineApp, numDevs).
    pub async fn line_initialize_ex(
        &mut self,
        app: &str,
        options: u32,
        key: u32,
    ) -> Result<(u32, u32), ClientError> {
        let r = self
            .call(
                "lineInitializeEx",
                json!({"appName": app, "apiVersion": API_VERSION_HIGH, "options": options, "completionKey": key}),
            )
            .await?;
        Ok((num(&r, "hLineApp")?, num(&r, "numDevs")?))
    }

    pub async fn line_shutdown(&mut self, h_line_app: u32) -> Result<(), ClientError> {
        self.call("lineShutdown", json!({"hLineApp": h_line_app}))
            .await
            .map(drop)
    }

    /// lineOpen: hLine.
    pub async fn line_open(
        &mut self,
        h_line_app: u32,
        device: u32,
        privileges: u32,
        media_modes: u32,
        instance: u32,
    ) -> Result<u32, ClientError> {
        let r = self
            .call(
                "lineOpen",
                json!({"hLineApp": h_line_app, "deviceId": device, "apiVersion": API_VERSION_HIGH,
                       "callbackInstance": instance, "privileges": privileges, "mediaModes": media_modes}),
            )
            .await?;
        num(&r, "hLine")
    }

    pub async fn line_close(&mut self, h_line: u32) -> Result<(), ClientError> {
        self.call("lineClose", json!({"hLine": h_line}))
            .await
            .map(drop)
    }

    pub async fn line_set_status_messages(
        &mut self,
        h_line: u32,
        line_states: u32,
    ) -> Result<(), ClientError> {
        self.call(
            "lineSetStatusMessages",
            json!({"hLine": h_line, "lineStates": line_states, "addressStates": 0}),
        )
        .await
        .map(drop)
    }

    /// lineMakeCall: (requestId, hCall).
    pub async fn line_make_call(
        &mut self,
        h_line: u32,
        dest: &str,
    ) -> Result<(u32, u32), ClientError> {
        let r = self
            .call(
                "lineMakeCall",
                json!({"hLine": h_line, "destAddress": dest}),
            )
            .await?;
        Ok((num(&r, "requestId")?, num(&r, "hCall")?))
    }

    /// lineAccept / lineAnswer / lineDrop (by method name): requestId.
    pub async fn call_op(&mut self, method: &str, h_call: u32) -> Result<u32, ClientError> {
        let r = self.call(method, json!({"hCall": h_call})).await?;
        num(&r, "requestId")
    }

    pub async fn line_redirect(&mut self, h_call: u32, dest: &str) -> Result<u32, ClientError> {
        let r = self
            .call(
                "lineRedirect",
                json!({"hCall": h_call, "destAddress": dest}),
            )
            .await?;
        num(&r, "requestId")
    }

    pub async fn line_deallocate_call(&mut self, h_call: u32) -> Result<(), ClientError> {
        self.call("lineDeallocateCall", json!({"hCall": h_call}))
            .await
            .map(drop)
    }

    pub async fn line_get_call_info(&mut self, h_call: u32) -> Reply {
        self.call("lineGetCallInfo", json!({"hCall": h_call})).await
    }

    pub async fn line_get_call_status(&mut self, h_call: u32) -> Reply {
        self.call("lineGetCallStatus", json!({"hCall": h_call}))
            .await
    }

    /// lineGetMessage (event mode).
    pub async fn line_get_message(
        &mut self,
        h_line_app: u32,
        timeout_ms: u32,
    ) -> Result<TapiMessage, ClientError> {
        let r = self
            .call(
                "lineGetMessage",
                json!({"hLineApp": h_line_app, "timeout": timeout_ms}),
            )
            .await?;
        TapiMessage::from_fields(&r).ok_or_else(|| ClientError::Protocol(r.to_string()))
    }
}

fn num(v: &Value, field: &str) -> Result<u32, ClientError> {
    v.get(field)
        .and_then(Value::as_u64)
        .map(|n| n as u32)
        .ok_or_else(|| ClientError::Protocol(format!("no {field} in {v}")))
}

/// The background reader: answers go to whoever registered their id, messages to the sink.
/// It is the only reader of the connection and awaits nothing but the next line, so no line is
/// ever cut short (an `AsyncBufReadExt::read_line` cancelled in a `select!` would lose one).
async fn route(
    mut read: BufReader<ReadHalf>,
    mut controls: mpsc::UnboundedReceiver<Control>,
    mut sink: Sink,
) {
    let mut waiting: HashMap<u64, oneshot::Sender<Reply>> = HashMap::new();
    let mut line = String::new();
    loop {
        line.clear();
        if !matches!(read.read_line(&mut line).await, Ok(n) if n > 0) {
            return;
        }
        // Every request was registered before it was written, hence before its answer came.
        while let Ok(control) = controls.try_recv() {
            match control {
                Control::Expect(id, tx) => {
                    waiting.insert(id, tx);
                }
                Control::Callback(f) => sink = Sink::Callback(f),
            }
        }
        let Ok(v) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if let Some(id) = v.get("id").and_then(Value::as_u64) {
            if let Some(tx) = waiting.remove(&id) {
                let _ = tx.send(answer(&v));
            }
        } else if let Some(m) = v.get("params").and_then(TapiMessage::from_fields) {
            sink.push(m);
        }
    }
}

fn answer(v: &Value) -> Reply {
    if let Some(e) = v.get("error") {
        return Err(ClientError::Rpc {
            code: e.get("code").and_then(Value::as_i64).unwrap_or(0) as i32,
            message: e
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        });
    }
    v.get("result")
        .cloned()
        .ok_or_else(|| ClientError::Protocol(v.to_string()))
}
