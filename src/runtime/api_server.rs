//! The API server driver (tokio): accepts connections on `api.listen`, frames JSON Lines (64 KiB
//! cap), parses requests with `api::protocol` (protocol errors are answered in order through
//! the core), and writes what the core sends, encoding it to JSON on the connection's own task
//! (so JSON work is spread over the runtime's threads, not done by the core task).
//!
//! The core owns each connection's outbox sender; when it drops it, the connection closes once
//! the queue is written, and it can abort a stuck connection at once. A connection reports
//! `Disconnected` exactly once.

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use crate::api::protocol::{self, fault, parse_request, INVALID_REQUEST};
use crate::tapi::server::ClientInput;
use crate::tapi::{ConnId, Output};

/// Longest request line.
pub const MAX_LINE: usize = 64 * 1024;

/// What the API server hands to the core task.
#[derive(Debug)]
pub enum ApiInbound {
    /// A new connection: the core queues its outputs into `outbox`; `abort` kills it at once.
    Opened {
        conn: ConnId,
        outbox: mpsc::Sender<Output>,
        abort: AbortHandle,
    },
    Input(ClientInput),
}

static NEXT_CONN: AtomicU64 = AtomicU64::new(1);

/// Accepts connections until the core goes away. Each connection task holds a clone of
/// `writers` while it runs, so the core can wait for every writer to finish at the end.
pub async fn run(
    listener: TcpListener,
    core: mpsc::Sender<ApiInbound>,
    max_outgoing: usize,
    writers: mpsc::Sender<()>,
) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                tracing::warn!(%err, "API accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let conn = ConnId(NEXT_CONN.fetch_add(1, Ordering::Relaxed));
        tracing::debug!(conn = conn.0, %peer, "API connection");
        let (outbox, rx) = mpsc::channel(max_outgoing.max(1));
        let alive = writers.clone();
        let to_core = core.clone();
        let task = tokio::spawn(async move {
            connection(stream, conn, rx, to_core).await;
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
    }
}

async fn connection(
    stream: TcpStream,
    conn: ConnId,
    rx: mpsc::Receiver<Output>,
    core: mpsc::Sender<ApiInbound>,
) {
    let _ = stream.set_nodelay(true);
    let (read, write) = stream.into_split();
    let writer = write_loop(write, rx);
    tokio::pin!(writer);
    tokio::select! {
        _ = &mut writer => {}
        _ = read_loop(read, conn, &core) => {
            // EOF or a fatal line: the core closes the outbox after what it still sends.
            let _ = core.send(ApiInbound::Input(ClientInput::Disconnected { conn })).await;
            writer.await;
            tracing::debug!(conn = conn.0, "API connection closed");
            return;
        }
    }
    let _ = core
        .send(ApiInbound::Input(ClientInput::Disconnected { conn }))
        .await;
    tracing::debug!(conn = conn.0, "API connection closed");
}

async fn write_loop(write: OwnedWriteHalf, mut rx: mpsc::Receiver<Output>) {
    let mut out = BufWriter::with_capacity(64 * 1024, write);
    while let Some(output) = rx.recv().await {
        if write_output(&mut out, &output).await.is_err() {
            return;
        }
        while let Ok(output) = rx.try_recv() {
            if write_output(&mut out, &output).await.is_err() {
                return;
            }
        }
        if out.flush().await.is_err() {
            return;
        }
    }
    let _ = out.shutdown().await;
}

async fn write_output(out: &mut BufWriter<OwnedWriteHalf>, output: &Output) -> std::io::Result<()> {
    let Some(line) = protocol::encode(output) else {
        return Ok(());
    };
    out.write_all(line.as_bytes()).await?;
    out.write_all(b"\n").await
}

/// Reads JSON Lines until EOF, an I/O error or a line over [`MAX_LINE`].
async fn read_loop(read: OwnedReadHalf, conn: ConnId, core: &mpsc::Sender<ApiInbound>) {
    let mut reader = BufReader::with_capacity(64 * 1024, read);
    let mut line = Vec::new();
    loop {
        let buf = match reader.fill_buf().await {
            Ok([]) | Err(_) => return,
            Ok(buf) => buf,
        };
        let (take, complete) = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        line.extend_from_slice(&buf[..take]);
        reader.consume(take);
        if line.len() > MAX_LINE + 1 {
            let fault = fault(
                None,
                INVALID_REQUEST,
                "Invalid Request: line longer than 64 KiB",
            );
            let _ = core
                .send(ApiInbound::Input(ClientInput::Rejected { conn, fault }))
                .await;
            return;
        }
        if complete {
            if !handle_line(&line, conn, core).await {
                return;
            }
            line.clear();
        }
    }
}

/// Parses one line and hands it to the core; false when the core is gone.
async fn handle_line(raw: &[u8], conn: ConnId, core: &mpsc::Sender<ApiInbound>) -> bool {
    let text = String::from_utf8_lossy(raw);
    let text = text.trim();
    if text.is_empty() {
        return true;
    }
    let input = match parse_request(text) {
        Ok((tag, request)) => ClientInput::Request { conn, tag, request },
        Err(fault) => ClientInput::Rejected { conn, fault },
    };
    core.send(ApiInbound::Input(input)).await.is_ok()
}
