//! One SIP connection over a byte stream, TCP or TLS alike: a writer draining the connection's
//! queue and a reader cutting the stream into messages (codec framing, RFC 3261 §18.3) and
//! handing them to the core.
//!
//! What the reader does beyond that:
//! - answers a CRLFCRLF ping with a CRLF pong, and reports a pong on a connection of ours to the
//!   core (RFC 5626 §4.4.1: the registration's flow is alive);
//! - answers a request it cannot frame (two Content-Lengths: 400) or will not take (over
//!   `sip.max_message_bytes`: 413) on the connection, then closes it, since the stream cannot
//!   be cut any further (RFC 3261 §18.3);
//! - closes an inbound connection that goes `sip.tcp_idle_s` without completing a message,
//!   or sits that long on half a message (slowloris). Connections we opened are ours to keep.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::input::{CoreInput, Outgoing};
use super::log_limit::StreamLogs;
use crate::config::StreamLimits;
use crate::sip::codec::{self, DecodeError, Frame, StreamFramer};
use crate::sip::transport::{FlowEvent, Incoming, Peer, Transport};

/// Bytes read from the socket at a time.
const READ_CHUNK: usize = 8 * 1024;
/// How long the writer may take to send a last response before the connection closes.
const FLUSH_GRACE: Duration = Duration::from_secs(2);
/// The pong to a ping (RFC 5626 §4.4.1).
const PONG: &[u8] = b"\r\n";

/// Who a connection is and what it may do.
#[derive(Clone)]
pub struct ConnCtx {
    pub peer: Peer,
    pub id: u64,
    /// Accepted from a peer (limits apply) rather than opened by us.
    pub inbound: bool,
    pub limits: StreamLimits,
    pub core: mpsc::Sender<CoreInput>,
    pub logs: Arc<StreamLogs>,
}

/// Why the reader stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// The peer closed, the socket failed, or the core went away.
    Gone,
    /// A last response is queued: let the writer send it, then close.
    Refused,
    /// Idle past the limit.
    Idle,
}

/// Runs one connection until either side ends it, then tells the core.
pub async fn run<S>(
    stream: S,
    ctx: ConnCtx,
    sender: mpsc::Sender<Outgoing>,
    mut receiver: mpsc::Receiver<Outgoing>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut reader, mut writer) = tokio::io::split(stream);
    let write = async move {
        while let Some(out) = receiver.recv().await {
            match out {
                Outgoing::Bytes(bytes) => {
                    if writer.write_all(&bytes).await.is_err() {
                        return;
                    }
                }
                Outgoing::Close => break,
            }
        }
        let _ = writer.shutdown().await;
    };
    tokio::pin!(write);
    tokio::select! {
        _ = &mut write => {}
        ending = read_loop(&mut reader, &ctx, &sender) => {
            if ending == Ending::Refused {
                // The core writes what it owes, the refusal, then closes (CloseStream).
                let _ = tokio::time::timeout(FLUSH_GRACE, &mut write).await;
            }
        }
    }
    let peer = ctx.peer.addr;
    match ctx.peer.transport {
        Transport::Tls => tracing::debug!(%peer, "tls connection closed"),
        _ => tracing::debug!(%peer, "tcp connection closed"),
    }
    let _ = ctx
        .core
        .send(CoreInput::StreamClosed {
            peer: ctx.peer,
            id: ctx.id,
        })
        .await;
}

async fn read_loop<R: AsyncRead + Unpin>(
    reader: &mut R,
    ctx: &ConnCtx,
    out: &mpsc::Sender<Outgoing>,
) -> Ending {
    let mut framer = StreamFramer::with_limit(ctx.limits.max_message);
    let mut buf = vec![0u8; READ_CHUNK];
    let mut delivered = false;
    let mut progress = Instant::now();
    loop {
        // Only inbound connections are watched, and only while they owe us a message.
        let watched = ctx.inbound && (!delivered || framer.buffered() > 0);
        let read = reader.read(&mut buf);
        let n = if watched {
            match tokio::time::timeout_at(progress + ctx.limits.idle, read).await {
                Ok(result) => result,
                Err(_) => {
                    log_idle(ctx, framer.buffered());
                    return Ending::Idle;
                }
            }
        } else {
            read.await
        };
        let n = match n {
            Ok(0) | Err(_) => return Ending::Gone,
            Ok(n) => n,
        };
        framer.push(&buf[..n]);
        loop {
            match framer.next_frame() {
                Ok(Some(frame)) => {
                    progress = Instant::now();
                    delivered = true;
                    if !on_frame(frame, ctx, out).await {
                        return Ending::Gone;
                    }
                }
                Ok(None) => break,
                Err(err) => return refuse(&framer, &err, ctx).await,
            }
        }
    }
}

/// Handles one frame; false when the core went away.
async fn on_frame(frame: Frame, ctx: &ConnCtx, out: &mpsc::Sender<Outgoing>) -> bool {
    let source = ctx.peer;
    let input = match frame {
        Frame::Ping => {
            let _ = out.try_send(Outgoing::Bytes(Bytes::from_static(PONG)));
            return true;
        }
        // A lone CRLF on a connection of ours is the pong to our ping.
        Frame::KeepAlive if ctx.inbound => return true,
        Frame::KeepAlive => CoreInput::Flow(FlowEvent::Pong(source)),
        Frame::Message(bytes) => match codec::decode(&bytes) {
            Ok(message) => CoreInput::Sip(Box::new(Incoming { source, message })),
            Err(DecodeError::BadRequest { reason, response }) => {
                tracing::info!(peer = %source.addr, %reason, "refused request: sending its ready error response");
                CoreInput::Malformed { source, response }
            }
            Err(err) => {
                tracing::debug!(peer = %source.addr, %err, "dropping unparseable message");
                return true;
            }
        },
    };
    ctx.core.send(input).await.is_ok()
}

/// A message that cannot be framed: its request gets 400/413 on this connection, which then
/// closes (RFC 3261 §18.3: the stream cannot be resynchronised). Both go through the core, in
/// order after the messages before it, so their responses are written first.
async fn refuse(framer: &StreamFramer, err: &codec::FramingError, ctx: &ConnCtx) -> Ending {
    let (status, reason) = err.answer();
    let peer = ctx.peer.addr;
    if status == 413 {
        if let Some(suppressed) = ctx.logs.size.hit() {
            tracing::warn!(%peer, limit = ctx.limits.max_message, suppressed, "sip.max_message_bytes hit: refusing the message, closing the connection");
        }
    } else {
        tracing::info!(%peer, %err, "closing connection: bad framing");
    }
    let (source, id) = (ctx.peer, ctx.id);
    let response = framer
        .pending_head()
        .and_then(|head| codec::refuse(head, status, reason));
    if let Some(response) = response {
        let refused = CoreInput::Malformed { source, response };
        if ctx.core.send(refused).await.is_err() {
            return Ending::Gone;
        }
    }
    // Even with nothing to answer, what the core owes the earlier messages goes out first.
    match ctx
        .core
        .send(CoreInput::CloseStream { peer: source, id })
        .await
    {
        Ok(()) => Ending::Refused,
        Err(_) => Ending::Gone,
    }
}

fn log_idle(ctx: &ConnCtx, buffered: usize) {
    if let Some(suppressed) = ctx.logs.idle.hit() {
        tracing::warn!(peer = %ctx.peer.addr, idle_s = ctx.limits.idle.as_secs(), buffered, suppressed, "sip.tcp_idle_s hit: closing a connection that completed no message");
    }
}
