//! The client's one background task and the connection it drives. A small reader task per
//! connection reads lines (nothing else reads the socket, so no line is cut short) and hands
//! them over a channel; the driver task owns the write half, registers every request before
//! writing it, routes answers to their callers and messages to the sink in arrival order, and
//! in reconnecting mode replaces a dropped connection and resumes its apps (`resume`).

use std::collections::HashMap;
use std::net::SocketAddr;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use super::resume::{Sessions, Track};
use super::{ClientError, Reconnect, SessionState, TapiMessage};

pub(super) type Reply = Result<Value, ClientError>;

/// A callback for pushed messages (see [`super::Client::on_message`]).
pub type MessageCallback = Box<dyn FnMut(TapiMessage) + Send>;

/// Where the driver puts pushed messages.
pub(super) enum Sink {
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

/// What the client tells its driver.
pub(super) enum Control {
    /// Write `line`; its answer (id `id`) goes to `reply`; `track` says what it means for the
    /// sessions.
    Send {
        id: u64,
        line: String,
        reply: oneshot::Sender<Reply>,
        track: Track,
    },
    /// Write a raw line (no answer expected).
    Raw(String),
    /// From now on, messages go to this callback.
    Callback(MessageCallback),
    /// Reset the connection now (RST), as a network failure would.
    Cut,
}

/// One TCP connection: its write half and the lines its reader task read.
pub(super) struct Link {
    write: OwnedWriteHalf,
    pub lines: mpsc::Receiver<String>,
    reader: AbortOnDrop,
}

/// The reader task, stopped when its link goes.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Link {
    pub async fn open(addr: SocketAddr) -> std::io::Result<Link> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (read, write) = stream.into_split();
        let (tx, lines) = mpsc::channel(1024);
        let reader = AbortOnDrop(tokio::spawn(read_lines(BufReader::new(read), tx)));
        Ok(Link {
            write,
            lines,
            reader,
        })
    }

    pub async fn write_line(&mut self, line: &str) -> std::io::Result<()> {
        self.write.write_all(line.as_bytes()).await?;
        self.write.write_all(b"\n").await
    }

    /// Resets the connection: SO_LINGER 0, then both halves dropped (the peer sees RST).
    fn cut(self) {
        let Link { write, reader, .. } = self;
        let _ = write.as_ref().set_zero_linger();
        // The socket closes when the reader's half goes too, without a FIN first.
        write.forget();
        drop(reader);
    }
}

/// Reads lines until EOF or an error, then closes the channel.
async fn read_lines(mut read: BufReader<OwnedReadHalf>, tx: mpsc::Sender<String>) {
    loop {
        let mut line = String::new();
        match read.read_line(&mut line).await {
            Ok(n) if n > 0 => {
                if tx.send(line).await.is_err() {
                    return;
                }
            }
            _ => return,
        }
    }
}

/// A request waiting for its answer.
struct Waiting {
    reply: oneshot::Sender<Reply>,
    track: Track,
}

/// The background task of a client.
pub(super) struct Driver {
    pub addr: SocketAddr,
    pub link: Option<Link>,
    pub controls: mpsc::UnboundedReceiver<Control>,
    pub sink: Sink,
    waiting: HashMap<u64, Waiting>,
    pub sessions: Sessions,
    pub reconnect: Option<Reconnect>,
    pub state: watch::Sender<SessionState>,
}

impl Driver {
    pub fn new(
        addr: SocketAddr,
        link: Link,
        controls: mpsc::UnboundedReceiver<Control>,
        sink: Sink,
        reconnect: Option<Reconnect>,
        state: watch::Sender<SessionState>,
    ) -> Driver {
        Driver {
            addr,
            link: Some(link),
            controls,
            sink,
            waiting: HashMap::new(),
            sessions: Sessions::default(),
            reconnect,
            state,
        }
    }

    /// Runs until the client is dropped, or the connection is gone for good.
    pub async fn run(mut self) {
        loop {
            let Some(link) = self.link.as_mut() else {
                return;
            };
            tokio::select! {
                // Instructions first: a callback registered, or a request sent, before a line
                // is routed applies to it.
                biased;
                control = self.controls.recv() => match control {
                    Some(control) => {
                        if !self.control(control).await {
                            return;
                        }
                    }
                    None => return,
                },
                line = link.lines.recv() => match line {
                    Some(line) => self.route(&line),
                    None => {
                        if !self.connection_lost().await {
                            return;
                        }
                    }
                },
            }
        }
    }

    /// Carries out one instruction; false when the client is finished.
    async fn control(&mut self, control: Control) -> bool {
        match control {
            Control::Send {
                id,
                line,
                reply,
                track,
            } => {
                // Registered before it is written, hence before its answer can come.
                self.waiting.insert(id, Waiting { reply, track });
                self.write(&line).await;
            }
            Control::Raw(line) => self.write(&line).await,
            Control::Callback(f) => self.sink = Sink::Callback(f),
            Control::Cut => {
                if let Some(link) = self.link.take() {
                    link.cut();
                }
                return self.connection_lost().await;
            }
        }
        true
    }

    /// A failed write shows as the reader's end of file: nothing to do here.
    async fn write(&mut self, line: &str) {
        if let Some(link) = self.link.as_mut() {
            let _ = link.write_line(line).await;
        }
    }

    /// One line from the gateway: an answer to its caller, a message to the sink (a duplicate
    /// of one already delivered, after a resume, is dropped).
    pub fn route(&mut self, line: &str) {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            return;
        };
        if let Some(id) = v.get("id").and_then(Value::as_u64) {
            if let Some(w) = self.waiting.remove(&id) {
                let reply = answer(&v);
                if let Ok(result) = &reply {
                    self.sessions.learn(&w.track, result);
                }
                let _ = w.reply.send(reply);
            }
            return;
        }
        let Some(params) = v.get("params") else {
            return;
        };
        if v.get("method").and_then(Value::as_str) == Some("sessionTakenOver") {
            self.sessions.taken_over(params);
            self.publish();
            return;
        }
        if let Some(m) = TapiMessage::from_fields(params) {
            if self.sessions.accept(&m) {
                self.sink.push(m);
            }
        }
    }

    /// The connection dropped: requests in flight fail (their outcome is unknown); in
    /// reconnecting mode with resumable apps, reconnect and resume. False when finished.
    async fn connection_lost(&mut self) -> bool {
        self.link = None;
        for (_, w) in self.waiting.drain() {
            let _ = w.reply.send(Err(ClientError::Interrupted));
        }
        let reconnect = self.reconnect.clone();
        let resumed = match reconnect {
            Some(options) if self.sessions.any_resumable() => {
                self.publish_connected(false);
                self.reconnect_and_resume(&options).await
            }
            _ => false,
        };
        self.publish_connected(resumed);
        resumed
    }

    fn publish_connected(&mut self, connected: bool) {
        self.state.send_modify(|s| s.connected = connected);
    }

    /// Sends the sessions' state to watchers.
    pub fn publish(&mut self) {
        let apps = self.sessions.infos();
        let lost = self.sessions.lost().to_vec();
        self.state.send_modify(|s| {
            s.apps = apps;
            s.lost = lost;
        });
    }
}

/// The result of a response, or its error.
pub(super) fn answer(v: &Value) -> Reply {
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
