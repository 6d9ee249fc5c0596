//! The API server driver (tokio): accepts connections on `api.listen` (TLS with rustls when
//! `api.tls_cert`/`api.tls_key` are set), frames JSON Lines (64 KiB cap), parses requests with
//! `api::protocol`, passes them through the connection's `authenticate` gate (`api::auth`),
//! and writes what the core sends, encoding it to JSON on the connection's own task (so JSON
//! work is spread over the runtime's threads, not done by the core task).
//!
//! Bounds kept here (docs/configuration.md "API limits"): `api.max_connections` (one more is
//! closed at accept), loopback-only clients without a token, `api.auth_timeout_s` for a
//! connection that does not authenticate (or, without a token, send a first line) in time and
//! for a line begun and not finished (slowloris), three failed authentications. Each closes
//! the connection, is counted (`tapigw_api_connections_dropped_total{reason}`) and logged at
//! most every 10 s per reason.
//!
//! Memory per idle connection is a 2 KiB read buffer and the task: the write buffer exists
//! only while a batch is written, and a line buffer grown by a long line is given back.
//!
//! The core owns each connection's outbox sender; when it drops it, the connection closes once
//! the queue is written, and it can abort a stuck connection at once. A connection reports
//! `Disconnected` exactly once, and none of its input reaches the core before `Opened`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::AbortHandle;
use tokio_rustls::TlsAcceptor;

use super::log_limit::LogLimit;
use crate::api::auth::{AuthGate, TokenTable, Verdict};
use crate::api::protocol::{self, fault, parse_request, INVALID_REQUEST};
use crate::metrics::{ApiCounters, DropReason};
use crate::tapi::server::ClientInput;
use crate::tapi::{ConnId, Output};

/// Longest request line.
pub const MAX_LINE: usize = 64 * 1024;
/// The read buffer of a connection (requests are a few hundred bytes).
const READ_BUFFER: usize = 2 * 1024;
/// A line or write buffer larger than this is given back after use.
const KEEP_BUFFER: usize = 4 * 1024;
/// Outputs written in one go, at most (then flushed).
const WRITE_BATCH: usize = 64 * 1024;
/// How often one kind of refusal may be logged.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// What the API server hands to the core task.
#[derive(Debug)]
pub enum ApiInbound {
    /// A new connection: the core queues its outputs into `outbox`; `abort` kills it at once.
    Opened {
        conn: ConnId,
        outbox: mpsc::Sender<Output>,
        abort: AbortHandle,
    },
    /// Something the connection read at `received` (the core measures its queueing delay).
    Input {
        input: ClientInput,
        received: Instant,
    },
}

/// How the API server runs.
pub struct ApiServerSettings {
    pub max_outgoing: usize,
    pub max_connections: usize,
    pub auth_timeout: Duration,
    pub tls: Option<TlsAcceptor>,
    /// The accepted tokens (a reload may replace them; open connections keep theirs).
    pub tokens: watch::Receiver<Arc<TokenTable>>,
    pub counters: Arc<ApiCounters>,
}

static NEXT_CONN: AtomicU64 = AtomicU64::new(1);

/// Accepts connections until the core goes away. Each connection task holds a clone of
/// `writers` while it runs, so the core can wait for every writer to finish at the end.
pub async fn run(
    listener: TcpListener,
    core: mpsc::Sender<ApiInbound>,
    settings: ApiServerSettings,
    writers: mpsc::Sender<()>,
) {
    let log = Arc::new(LogLimit::new(LOG_EVERY));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                tracing::warn!(%err, "API accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        settings.counters.accepted();
        let tokens = settings.tokens.borrow().clone();
        if let Some(reason) = refusal(&settings, &tokens, peer) {
            settings.counters.dropped(reason);
            if let Some(skipped) = log.allow(reason) {
                tracing::warn!(%peer, reason = reason.label(), skipped, "API connection refused");
            }
            continue;
        }
        let conn = ConnId(NEXT_CONN.fetch_add(1, Ordering::Relaxed));
        tracing::debug!(conn = conn.0, %peer, "API connection");
        let (outbox, rx) = mpsc::channel(settings.max_outgoing.max(1));
        let (go, started) = oneshot::channel::<()>();
        let connection = Connection {
            conn,
            peer,
            core: core.clone(),
            tokens,
            counters: settings.counters.clone(),
            log: log.clone(),
            auth_timeout: settings.auth_timeout,
        };
        let tls = settings.tls.clone();
        let open = OpenGuard::new(settings.counters.clone());
        let alive = writers.clone();
        let task = tokio::spawn(async move {
            // The core learns of the connection before anything it sends.
            if started.await.is_ok() {
                connection.run(stream, tls, rx).await;
            }
            drop(open);
            drop(alive);
        });
        let opened = ApiInbound::Opened {
            conn,
            outbox,
            abort: task.abort_handle(),
        };
        if core.send(opened).await.is_err() {
            return;
        }
        let _ = go.send(());
    }
}

/// Why a new connection is closed at once, if it is.
fn refusal(
    settings: &ApiServerSettings,
    tokens: &TokenTable,
    peer: SocketAddr,
) -> Option<DropReason> {
    if settings.counters.open_now() >= settings.max_connections as u64 {
        return Some(DropReason::MaxConnections);
    }
    if tokens.is_empty() && !peer.ip().to_canonical().is_loopback() {
        return Some(DropReason::NotLoopback);
    }
    None
}

/// Counts a connection task as open for as long as it lives (also when it is aborted).
struct OpenGuard(Arc<ApiCounters>);

impl OpenGuard {
    fn new(counters: Arc<ApiCounters>) -> OpenGuard {
        counters.opened();
        OpenGuard(counters)
    }
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.closed();
    }
}

/// One connection's task.
struct Connection {
    conn: ConnId,
    peer: SocketAddr,
    core: mpsc::Sender<ApiInbound>,
    tokens: Arc<TokenTable>,
    counters: Arc<ApiCounters>,
    log: Arc<LogLimit>,
    auth_timeout: Duration,
}

impl Connection {
    async fn run(&self, stream: TcpStream, tls: Option<TlsAcceptor>, rx: mpsc::Receiver<Output>) {
        let _ = stream.set_nodelay(true);
        match tls {
            None => self.serve(stream, rx).await,
            Some(acceptor) => {
                match tokio::time::timeout(self.auth_timeout, acceptor.accept(stream)).await {
                    Ok(Ok(stream)) => self.serve(stream, rx).await,
                    Ok(Err(err)) => {
                        self.dropped(DropReason::TlsHandshake, &err.to_string());
                        self.disconnected().await;
                    }
                    Err(_) => {
                        self.dropped(DropReason::TlsHandshake, "timed out");
                        self.disconnected().await;
                    }
                }
            }
        }
        tracing::debug!(conn = self.conn.0, "API connection closed");
    }

    async fn serve<S>(&self, stream: S, rx: mpsc::Receiver<Output>)
    where
        S: AsyncRead + AsyncWrite + Send + Unpin,
    {
        let (read, write) = tokio::io::split(stream);
        let writer = write_loop(write, rx);
        tokio::pin!(writer);
        tokio::select! {
            _ = &mut writer => {}
            _ = self.read_loop(read) => {
                // EOF or a fatal line: the core closes the outbox after what it still sends.
                self.disconnected().await;
                writer.await;
                return;
            }
        }
        self.disconnected().await;
    }

    async fn disconnected(&self) {
        self.send(ClientInput::Disconnected { conn: self.conn })
            .await;
    }

    async fn send(&self, input: ClientInput) -> bool {
        let inbound = ApiInbound::Input {
            input,
            received: Instant::now(),
        };
        self.core.send(inbound).await.is_ok()
    }

    fn dropped(&self, reason: DropReason, detail: &str) {
        self.counters.dropped(reason);
        if let Some(skipped) = self.log.allow(reason) {
            tracing::warn!(
                conn = self.conn.0,
                peer = %self.peer,
                reason = reason.label(),
                detail,
                skipped,
                "API connection closed"
            );
        }
    }

    /// Reads JSON Lines until EOF, an I/O error, a line over [`MAX_LINE`], a missed deadline
    /// or the third failed authentication.
    async fn read_loop<R: AsyncRead + Unpin>(&self, read: R) {
        let mut reader = BufReader::with_capacity(READ_BUFFER, read);
        let mut line = Vec::new();
        let mut gate = AuthGate::new(self.tokens.clone());
        let handshake_by = Instant::now() + self.auth_timeout;
        let mut greeted = false;
        let mut line_by = None;
        loop {
            let deadline = if greeted { line_by } else { Some(handshake_by) };
            let filled = match deadline {
                None => reader.fill_buf().await,
                Some(at) => match tokio::time::timeout_at(at.into(), reader.fill_buf()).await {
                    Ok(filled) => filled,
                    Err(_) => {
                        let what = if greeted {
                            "a line was not finished in time"
                        } else {
                            "no authentication in time"
                        };
                        return self.dropped(DropReason::AuthTimeout, what);
                    }
                },
            };
            let buf = match filled {
                Ok([]) | Err(_) => return,
                Ok(buf) => buf,
            };
            let (take, complete) = match buf.iter().position(|b| *b == b'\n') {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            };
            if line.is_empty() {
                line_by = Some(Instant::now() + self.auth_timeout);
            }
            line.extend_from_slice(&buf[..take]);
            reader.consume(take);
            if line.len() > MAX_LINE + 1 {
                let fault = fault(
                    None,
                    INVALID_REQUEST,
                    "Invalid Request: line longer than 64 KiB",
                );
                self.send(ClientInput::Rejected {
                    conn: self.conn,
                    fault,
                })
                .await;
                return self.dropped(DropReason::LineTooLong, "line over 64 KiB");
            }
            if complete {
                if !self.handle_line(&mut gate, &line).await {
                    return;
                }
                greeted = gate.is_open();
                line_by = None;
                line.clear();
                if line.capacity() > KEEP_BUFFER {
                    line = Vec::new();
                }
            }
        }
    }

    /// Parses one line, passes it through the gate and hands it to the core; false when the
    /// connection must end.
    async fn handle_line(&self, gate: &mut AuthGate, raw: &[u8]) -> bool {
        // from_utf8 first: the same text for valid UTF-8 (every line of a sane client), at a
        // fraction of the lossy decoder's instructions.
        let text = match std::str::from_utf8(raw) {
            Ok(text) => std::borrow::Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(raw),
        };
        let text = text.trim();
        if text.is_empty() {
            return true;
        }
        let conn = self.conn;
        let (input, close) = match gate.check(parse_request(text)) {
            Verdict::Pass(Ok((tag, request))) => {
                (ClientInput::Request { conn, tag, request }, false)
            }
            Verdict::Pass(Err(fault)) => (ClientInput::Rejected { conn, fault }, false),
            Verdict::Authenticated { tag, scope, name } => {
                self.counters.authenticated();
                tracing::debug!(conn = conn.0, token = %name, "API connection authenticated");
                (ClientInput::Authenticated { conn, tag, scope }, false)
            }
            Verdict::Refused { fault, close } => {
                self.counters.auth_failed();
                (ClientInput::Rejected { conn, fault }, close)
            }
        };
        let sent = self.send(input).await;
        if close {
            self.dropped(DropReason::AuthFailed, "three failed authentications");
        }
        sent && !close
    }
}

/// Writes what the core queues, batching what is ready into one buffer that is dropped when
/// it grew large (an idle connection keeps almost nothing).
async fn write_loop<W: AsyncWrite + Unpin>(mut write: W, mut rx: mpsc::Receiver<Output>) {
    let mut out = Vec::new();
    while let Some(output) = rx.recv().await {
        append(&mut out, &output);
        while out.len() < WRITE_BATCH {
            match rx.try_recv() {
                Ok(output) => append(&mut out, &output),
                Err(_) => break,
            }
        }
        if write.write_all(&out).await.is_err() || write.flush().await.is_err() {
            return;
        }
        out.clear();
        if out.capacity() > KEEP_BUFFER {
            out = Vec::new();
        }
    }
    let _ = write.shutdown().await;
}

fn append(out: &mut Vec<u8>, output: &Output) {
    if let Some(line) = protocol::encode(output) {
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
}
