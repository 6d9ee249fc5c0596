//! The SIP TCP driver: accepts connections, opens outgoing ones on demand and reuses them per
//! peer, frames the byte stream (codec) and hands decoded messages to the core.
//!
//! The [`TcpPool`] lives in the core task (it is plain data: peer -> writer channel); the
//! connection tasks own the sockets.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use super::input::CoreInput;
use crate::sip::codec::{self, DecodeError, Frame, StreamFramer};
use crate::sip::transport::{Incoming, Peer, Transport, TransportFailure};

/// Messages queued for one connection before it counts as stuck.
const WRITE_QUEUE: usize = 4096;
/// How long an outgoing connect may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

static NEXT_CONN_ID: AtomicU64 = AtomicU64::new(1);

struct Conn {
    id: u64,
    sender: mpsc::Sender<Bytes>,
}

/// Open TCP connections by peer address.
pub struct TcpPool {
    conns: HashMap<SocketAddr, Conn>,
    core: mpsc::Sender<CoreInput>,
}

impl TcpPool {
    pub fn new(core: mpsc::Sender<CoreInput>) -> Self {
        TcpPool {
            conns: HashMap::new(),
            core,
        }
    }

    /// Sends `payload` to `peer`, connecting first when no connection is open.
    pub fn send(&mut self, peer: SocketAddr, payload: Bytes) {
        if let Some(conn) = self.conns.get(&peer) {
            match conn.sender.try_send(payload) {
                Ok(()) => return,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    tracing::warn!(%peer, "tcp write queue full: dropping the connection");
                    self.conns.remove(&peer);
                    self.fail(peer, "write queue full");
                    return;
                }
                Err(mpsc::error::TrySendError::Closed(payload)) => {
                    self.conns.remove(&peer);
                    self.connect(peer, payload);
                    return;
                }
            }
        }
        self.connect(peer, payload);
    }

    /// A connection was accepted (or reported again by its task).
    pub fn opened(&mut self, peer: SocketAddr, id: u64, sender: mpsc::Sender<Bytes>) {
        self.conns.insert(peer, Conn { id, sender });
    }

    /// A connection ended; forget it unless a newer one replaced it.
    pub fn closed(&mut self, peer: SocketAddr, id: u64) {
        if self.conns.get(&peer).is_some_and(|c| c.id == id) {
            self.conns.remove(&peer);
        }
    }

    fn connect(&mut self, peer: SocketAddr, first: Bytes) {
        let id = NEXT_CONN_ID.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = mpsc::channel(WRITE_QUEUE);
        let _ = sender.try_send(first);
        self.conns.insert(
            peer,
            Conn {
                id,
                sender: sender.clone(),
            },
        );
        let core = self.core.clone();
        tokio::spawn(async move {
            match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(peer)).await {
                Ok(Ok(stream)) => run_connection(stream, peer, id, sender, receiver, core).await,
                Ok(Err(err)) => report_connect_failure(&core, peer, id, err.to_string()).await,
                Err(_) => report_connect_failure(&core, peer, id, "connect timed out".into()).await,
            }
        });
    }

    fn fail(&self, peer: SocketAddr, reason: &str) {
        let _ = self
            .core
            .try_send(CoreInput::TransportFailure(TransportFailure {
                destination: Peer {
                    transport: Transport::Tcp,
                    addr: peer,
                },
                reason: reason.to_string(),
            }));
    }
}

async fn report_connect_failure(
    core: &mpsc::Sender<CoreInput>,
    peer: SocketAddr,
    id: u64,
    reason: String,
) {
    tracing::info!(%peer, %reason, "tcp connect failed");
    let destination = Peer {
        transport: Transport::Tcp,
        addr: peer,
    };
    let _ = core
        .send(CoreInput::TransportFailure(TransportFailure {
            destination,
            reason,
        }))
        .await;
    let _ = core.send(CoreInput::TcpClosed { peer, id }).await;
}

/// Accepts connections until the core goes away.
pub async fn accept_loop(listener: TcpListener, core: mpsc::Sender<CoreInput>) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                tracing::warn!(%err, "tcp accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let id = NEXT_CONN_ID.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = mpsc::channel(WRITE_QUEUE);
        let opened = CoreInput::TcpOpened {
            peer,
            id,
            sender: sender.clone(),
        };
        if core.send(opened).await.is_err() {
            return;
        }
        tokio::spawn(run_connection(
            stream,
            peer,
            id,
            sender,
            receiver,
            core.clone(),
        ));
    }
}

/// Runs one connection: a writer draining `receiver` and a reader framing the stream.
async fn run_connection(
    stream: TcpStream,
    peer: SocketAddr,
    id: u64,
    sender: mpsc::Sender<Bytes>,
    mut receiver: mpsc::Receiver<Bytes>,
    core: mpsc::Sender<CoreInput>,
) {
    let _ = stream.set_nodelay(true);
    let (mut reader, mut writer) = stream.into_split();
    let write = async move {
        while let Some(bytes) = receiver.recv().await {
            if writer.write_all(&bytes).await.is_err() {
                break;
            }
        }
    };
    let read = read_loop(&mut reader, peer, &sender, &core);
    tokio::select! {
        _ = write => {}
        _ = read => {}
    }
    tracing::debug!(%peer, "tcp connection closed");
    let _ = core.send(CoreInput::TcpClosed { peer, id }).await;
}

async fn read_loop(
    reader: &mut tokio::net::tcp::OwnedReadHalf,
    peer: SocketAddr,
    pong: &mpsc::Sender<Bytes>,
    core: &mpsc::Sender<CoreInput>,
) {
    let source = Peer {
        transport: Transport::Tcp,
        addr: peer,
    };
    let mut framer = StreamFramer::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match reader.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        framer.push(&buf[..n]);
        loop {
            let frame = match framer.next_frame() {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(err) => {
                    tracing::info!(%peer, %err, "closing tcp connection: bad framing");
                    return;
                }
            };
            let input = match frame {
                Frame::Ping => {
                    // RFC 5626 §4.4.1: a CRLFCRLF ping is answered with a CRLF pong.
                    let _ = pong.try_send(Bytes::from_static(b"\r\n"));
                    continue;
                }
                Frame::KeepAlive => continue,
                Frame::Message(bytes) => match codec::decode(&bytes) {
                    Ok(message) => CoreInput::Sip(Box::new(Incoming { source, message })),
                    Err(DecodeError::BadRequest { reason, response }) => {
                        tracing::info!(%peer, %reason, "refused request: sending its ready error response");
                        CoreInput::Malformed { source, response }
                    }
                    Err(err) => {
                        tracing::debug!(%peer, %err, "dropping unparseable message");
                        continue;
                    }
                },
            };
            if core.send(input).await.is_err() {
                return;
            }
        }
    }
}
