//! A Rust client for the API (used by the tests, the examples and the load bench; usable by
//! Rust apps): connect, call functions (pipelined: several may be in flight), and receive the
//! TAPI messages the gateway pushes, either as a stream (`next_message`, `wait_for`) or through
//! a callback (`on_message`). No message is lost either way: one background task drives the
//! connection (a reader task per connection is the only reader of its socket, so no partly
//! read line can be dropped), answers go to their callers, messages to an unbounded queue or
//! the callback, in order.
//!
//! Reconnecting mode ([`Client::connect_with`]): when the connection drops, the client
//! reconnects by itself with backoff and resumes every app initialised with `resumable: true`
//! (`lineResume`/`phoneResume` with the last seq it delivered), dropping replayed duplicates,
//! so the queue or callback sees one unbroken stream. Requests made meanwhile wait and are
//! sent once the apps are resumed; requests that were in flight when it dropped fail with
//! [`ClientError::Interrupted`] (the gateway may have carried them out).

//!
//! Plain TCP ([`Client::connect`]) or TLS ([`Client::connect_tls`], `tls.rs`); a gateway with
//! `api.token` wants [`Client::authenticate`] first (or `Reconnect::token`).

mod link;
mod resume;
mod tls;

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot, watch};

use crate::api::protocol::message_name;
use crate::tapi::consts::*;
use crate::tapi::LineMessage;

pub use link::MessageCallback;
use link::{Control, Dial, Driver, Link, Reply, Sink};
use resume::Track;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// A JSON-RPC error response: a LINEERR_ (negative) or a protocol error code.
    #[error("{message} ({code})")]
    Rpc { code: i32, message: String },
    #[error("connection closed")]
    Closed,
    /// The connection dropped while the request was in flight: the gateway may or may not
    /// have carried it out.
    #[error("connection dropped while the request was in flight (outcome unknown)")]
    Interrupted,
    #[error("timed out")]
    Timeout,
    #[error("unexpected answer: {0}")]
    Protocol(String),
    #[error("tls: {0}")]
    Tls(String),
}

/// A TAPI message as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapiMessage {
    pub msg: LineMessage,
    /// Present in completion-port mode.
    pub completion_key: Option<u32>,
    /// The app it is for (`hLineApp`, or `hPhoneApp` when `phone`), when the gateway says.
    pub app: Option<u32>,
    pub phone: bool,
    /// Its place in the app's numbering (from 1, without gaps).
    pub seq: Option<u64>,
}

impl TapiMessage {
    pub fn name(&self) -> &'static str {
        message_name(self.msg.dw_message_id)
    }

    /// Parses the six LINEMESSAGE fields (dwParam2 may be negative for LINE_REPLY), and our
    /// extensions `seq`, `hLineApp`/`hPhoneApp`, `dwCompletionKey`.
    pub fn from_fields(v: &Value) -> Option<TapiMessage> {
        let field = |name: &str| v.get(name).and_then(Value::as_i64).map(|n| n as u32);
        let phone_app = field("hPhoneApp");
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
                digits: v
                    .get("digits")
                    .and_then(Value::as_str)
                    .map(crate::tapi::Digits::from_text)
                    .unwrap_or_default(),
            },
            completion_key: field("dwCompletionKey"),
            app: phone_app.or_else(|| field("hLineApp")),
            phone: phone_app.is_some(),
            seq: v.get("seq").and_then(Value::as_u64),
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

/// An answer that has not come yet (for pipelining).
pub struct PendingReply(oneshot::Receiver<Reply>);

impl PendingReply {
    pub async fn wait(self) -> Reply {
        self.0.await.unwrap_or(Err(ClientError::Closed))
    }
}

/// How a reconnecting client comes back ([`Client::connect_with`]).
#[derive(Debug, Clone)]
pub struct Reconnect {
    /// The first delay before reconnecting; it doubles after each failed attempt.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// How long to keep trying (the gateway's `api.resume_grace_s`, 30 s by default).
    pub window: Duration,
    /// Sent with `authenticate` first on every connection (gateways with `api.token`).
    pub token: Option<String>,
}

impl Default for Reconnect {
    fn default() -> Self {
        Reconnect {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            window: Duration::from_secs(30),
            token: None,
        }
    }
}

/// A resumable app of the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// hLineApp, or hPhoneApp when `phone`.
    pub app: u32,
    pub phone: bool,
    pub session_id: String,
    /// The seq of the last message delivered for it (when the state was published).
    pub last_seq: u64,
}

/// An app that could not be resumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LostSession {
    pub app: u32,
    pub phone: bool,
    pub reason: String,
}

/// What a client's sessions look like (see [`Client::session_state`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionState {
    /// False while reconnecting, and once the client gave up.
    pub connected: bool,
    /// Successful reconnections so far.
    pub reconnects: u64,
    pub apps: Vec<SessionInfo>,
    pub lost: Vec<LostSession>,
}

/// One connection to the gateway (in reconnecting mode: one session with it).
pub struct Client {
    control: mpsc::UnboundedSender<Control>,
    messages: mpsc::UnboundedReceiver<TapiMessage>,
    state: watch::Receiver<SessionState>,
    next_id: u64,
}

impl Client {
    /// Connects; a dropped connection ends the client.
    pub async fn connect(addr: SocketAddr) -> Result<Client, ClientError> {
        Client::start(Dial::Tcp(addr), None).await
    }

    /// Connects in reconnecting mode: resumable apps survive a dropped connection (see the
    /// module doc). With `options.token` it authenticates first.
    pub async fn connect_with(addr: SocketAddr, options: Reconnect) -> Result<Client, ClientError> {
        let token = options.token.clone();
        let mut client = Client::start(Dial::Tcp(addr), Some(options)).await?;
        if let Some(token) = token {
            client
                .call("authenticate", json!({ "token": token }))
                .await?;
        }
        Ok(client)
    }

    async fn start(dial: Dial, reconnect: Option<Reconnect>) -> Result<Client, ClientError> {
        let link = Link::open(&dial).await?;
        let (control, controls) = mpsc::unbounded_channel();
        let (push, messages) = mpsc::unbounded_channel();
        let (state_tx, state) = watch::channel(SessionState {
            connected: true,
            reconnects: 0,
            apps: Vec::new(),
            lost: Vec::new(),
        });
        let driver = Driver::new(dial, link, controls, Sink::Queue(push), reconnect, state_tx);
        tokio::spawn(driver.run());
        Ok(Client {
            control,
            messages,
            state,
            next_id: 1,
        })
    }

    /// `authenticate` (docs/api.md "Security"): needed first when the gateway has tokens.
    pub async fn authenticate(&mut self, token: &str) -> Result<(), ClientError> {
        self.call("authenticate", json!({ "token": token }))
            .await
            .map(drop)
    }

    /// Delivers every pushed message to `callback` instead of the queue, in order, from the
    /// client's background task (messages already queued stay for `next_message`). The gateway
    /// writes a function's response before any message it causes, so a LINE_REPLY reaches the
    /// callback only after its request's answer has been handed to the caller.
    pub fn on_message(&mut self, callback: impl FnMut(TapiMessage) + Send + 'static) {
        let _ = self.control.send(Control::Callback(Box::new(callback)));
    }

    /// Sends a request; the answer is awaited separately. While a reconnecting client is
    /// reconnecting, the request waits and is sent after the resume.
    pub async fn send(&mut self, method: &str, params: Value) -> Result<PendingReply, ClientError> {
        let id = self.next_id;
        self.next_id += 1;
        let (reply, rx) = oneshot::channel();
        let track = Track::of(method, &params);
        let line = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.control
            .send(Control::Send {
                id,
                line: line.to_string(),
                reply,
                track,
            })
            .map_err(|_| ClientError::Closed)?;
        Ok(PendingReply(rx))
    }

    /// Writes one raw line (tests use it for malformed input).
    pub async fn write_raw(&mut self, line: &str) -> Result<(), ClientError> {
        self.control
            .send(Control::Raw(line.to_string()))
            .map_err(|_| ClientError::Closed)
    }

    /// Resets the connection now (RST), as a network failure would. A reconnecting client
    /// then reconnects and resumes; a plain one is finished.
    pub fn cut_connection(&mut self) {
        let _ = self.control.send(Control::Cut);
    }

    /// The client's sessions now.
    pub fn session_state(&self) -> SessionState {
        self.state.borrow().clone()
    }

    /// Waits (at most `timeout`) until the session state satisfies `pred`.
    pub async fn wait_session(
        &mut self,
        timeout: Duration,
        pred: impl FnMut(&SessionState) -> bool,
    ) -> Result<SessionState, ClientError> {
        match tokio::time::timeout(timeout, self.state.wait_for(pred)).await {
            Ok(Ok(state)) => Ok(state.clone()),
            Ok(Err(_)) => Err(ClientError::Closed),
            Err(_) => Err(ClientError::Timeout),
        }
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

    /// lineInitializeEx with `resumable: true`: (hLineApp, numDevs, sessionId). A reconnecting
    /// client resumes the app by itself after a dropped connection.
    pub async fn line_initialize_resumable(
        &mut self,
        app: &str,
        options: u32,
        key: u32,
    ) -> Result<(u32, u32, String), ClientError> {
        let r = self
            .call(
                "lineInitializeEx",
                json!({"appName": app, "apiVersion": API_VERSION_HIGH, "options": options,
                       "completionKey": key, "resumable": true}),
            )
            .await?;
        let session = r
            .get("sessionId")
            .and_then(Value::as_str)
            .ok_or_else(|| ClientError::Protocol(format!("no sessionId in {r}")))?;
        Ok((
            num(&r, "hLineApp")?,
            num(&r, "numDevs")?,
            session.to_string(),
        ))
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
