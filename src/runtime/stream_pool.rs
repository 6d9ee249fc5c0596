//! The open TCP and TLS connections by peer, and connecting on demand: a message for a peer
//! goes over the connection it already has (the registration's flow, or one the peer opened
//! to us, RFC 3261 §18.2.2: a response goes back over the connection its request came on);
//! without one a new connection is opened. Plain data owned by the core task; each
//! connection's socket is owned by its own task (`sip_stream`).
//!
//! Inbound connections count against `sip.max_connections` through [`ConnSlots`].

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::input::{CoreInput, Outgoing};
use super::log_limit::StreamLogs;
use super::sip_stream::{self, ConnCtx};
use super::sip_tls::TlsConnectors;
use crate::config::StreamLimits;
use crate::sip::transport::{Peer, Transport, TransportFailure};

/// Messages queued for one connection before it counts as stuck.
const WRITE_QUEUE: usize = 4096;
/// How long an outgoing connect (and TLS handshake) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

static NEXT_CONN_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh connection ID.
pub fn next_id() -> u64 {
    NEXT_CONN_ID.fetch_add(1, Ordering::Relaxed)
}

/// A new connection's queue.
pub fn queue() -> (mpsc::Sender<Outgoing>, mpsc::Receiver<Outgoing>) {
    mpsc::channel(WRITE_QUEUE)
}

struct Conn {
    id: u64,
    sender: mpsc::Sender<Outgoing>,
}

/// What every connection shares: the core's channel, the limits, the limit logs.
#[derive(Clone)]
pub struct StreamShared {
    pub core: mpsc::Sender<CoreInput>,
    pub limits: StreamLimits,
    pub logs: Arc<StreamLogs>,
}

impl StreamShared {
    pub fn ctx(&self, peer: Peer, id: u64, inbound: bool) -> ConnCtx {
        ConnCtx {
            peer,
            id,
            inbound,
            limits: self.limits,
            core: self.core.clone(),
            logs: self.logs.clone(),
        }
    }
}

/// Inbound connections remembered after they closed (see [`StreamPool::closed`]).
const GONE_INBOUND: usize = 1024;

/// Open connections by peer (transport and address).
pub struct StreamPool {
    conns: HashMap<Peer, Conn>,
    /// Peers whose accepted connections are open: their addresses are ephemeral ports.
    inbound: HashSet<Peer>,
    /// Recently closed accepted connections, oldest first: a late response for one is dropped
    /// (its transaction fails) rather than sent by connecting to a port nobody listens on.
    gone_inbound: VecDeque<Peer>,
    shared: StreamShared,
    tls: Arc<TlsConnectors>,
}

impl StreamPool {
    pub fn new(shared: StreamShared, tls: Arc<TlsConnectors>) -> Self {
        StreamPool {
            conns: HashMap::new(),
            inbound: HashSet::new(),
            gone_inbound: VecDeque::new(),
            shared,
            tls,
        }
    }

    /// Sends `payload` to `peer`, connecting first when no connection is open.
    pub fn send(&mut self, peer: Peer, payload: Bytes) {
        if let Some(conn) = self.conns.get(&peer) {
            match conn.sender.try_send(Outgoing::Bytes(payload)) {
                Ok(()) => return,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    tracing::warn!(peer = %peer.addr, "stream write queue full: dropping the connection");
                    self.close(peer);
                    self.fail(peer, "write queue full");
                    return;
                }
                Err(mpsc::error::TrySendError::Closed(Outgoing::Bytes(payload))) => {
                    self.conns.remove(&peer);
                    self.connect(peer, payload);
                    return;
                }
                Err(mpsc::error::TrySendError::Closed(Outgoing::Close)) => return,
            }
        }
        if self.gone_inbound.contains(&peer) {
            tracing::debug!(peer = %peer.addr, "its connection is gone: not connecting to an ephemeral port");
            self.fail(peer, "connection closed");
            return;
        }
        self.connect(peer, payload);
    }

    /// A connection was accepted.
    pub fn opened(&mut self, peer: Peer, id: u64, sender: mpsc::Sender<Outgoing>) {
        self.conns.insert(peer, Conn { id, sender });
        self.inbound.insert(peer);
        self.gone_inbound.retain(|p| *p != peer);
    }

    /// A connection ended; true when it was the peer's current one (now forgotten), false
    /// when a newer one replaced it or the core had closed it.
    pub fn closed(&mut self, peer: Peer, id: u64) -> bool {
        if self.conns.get(&peer).is_none_or(|c| c.id != id) {
            return false;
        }
        self.conns.remove(&peer);
        self.forget_inbound(peer);
        true
    }

    /// Closes the connection to `peer` after what is queued; the next send opens a new one.
    pub fn close(&mut self, peer: Peer) {
        if let Some(conn) = self.conns.remove(&peer) {
            let _ = conn.sender.try_send(Outgoing::Close);
            self.forget_inbound(peer);
        }
    }

    /// Closes connection `id` to `peer` after what is queued (not a newer one).
    pub fn close_id(&mut self, peer: Peer, id: u64) {
        if self.conns.get(&peer).is_some_and(|c| c.id == id) {
            self.close(peer);
        }
    }

    fn forget_inbound(&mut self, peer: Peer) {
        if self.inbound.remove(&peer) {
            if self.gone_inbound.len() == GONE_INBOUND {
                self.gone_inbound.pop_front();
            }
            self.gone_inbound.push_back(peer);
        }
    }

    fn connect(&mut self, peer: Peer, first: Bytes) {
        let id = next_id();
        let (sender, receiver) = queue();
        let _ = sender.try_send(Outgoing::Bytes(first));
        self.conns.insert(
            peer,
            Conn {
                id,
                sender: sender.clone(),
            },
        );
        let ctx = self.shared.ctx(peer, id, false);
        let tls = self.tls.clone();
        tokio::spawn(async move {
            let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(peer.addr)).await;
            let stream = match stream {
                Ok(Ok(stream)) => stream,
                Ok(Err(err)) => return connect_failed(&ctx, err.to_string()).await,
                Err(_) => return connect_failed(&ctx, "connect timed out".into()).await,
            };
            let _ = stream.set_nodelay(true);
            if peer.transport != Transport::Tls {
                return sip_stream::run(stream, ctx, sender, receiver).await;
            }
            match tokio::time::timeout(CONNECT_TIMEOUT, tls.connect(peer.addr, stream)).await {
                Ok(Ok(stream)) => sip_stream::run(stream, ctx, sender, receiver).await,
                Ok(Err(err)) => connect_failed(&ctx, format!("TLS: {err}")).await,
                Err(_) => connect_failed(&ctx, "TLS handshake timed out".into()).await,
            }
        });
    }

    fn fail(&self, peer: Peer, reason: &str) {
        let _ = self
            .shared
            .core
            .try_send(CoreInput::TransportFailure(TransportFailure {
                destination: peer,
                reason: reason.to_string(),
            }));
    }
}

/// An outgoing connection never came up: its transactions fail at once (RFC 3261 §17.1.4).
async fn connect_failed(ctx: &ConnCtx, reason: String) {
    tracing::info!(peer = %ctx.peer.addr, transport = %ctx.peer.transport, %reason, "connect failed");
    let failure = TransportFailure {
        destination: ctx.peer,
        reason,
    };
    let _ = ctx.core.send(CoreInput::TransportFailure(failure)).await;
    let _ = ctx
        .core
        .send(CoreInput::StreamClosed {
            peer: ctx.peer,
            id: ctx.id,
        })
        .await;
}

/// The inbound connections open now, against `sip.max_connections` (TCP and TLS together).
#[derive(Debug)]
pub struct ConnSlots {
    open: AtomicUsize,
    max: usize,
}

/// One taken slot, given back when the connection's task ends.
pub struct Slot(Arc<ConnSlots>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

impl ConnSlots {
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(ConnSlots {
            open: AtomicUsize::new(0),
            max,
        })
    }

    /// A slot for a new inbound connection, or `None` at the limit.
    pub fn take(self: &Arc<Self>) -> Option<Slot> {
        let taken = self
            .open
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |open| {
                (open < self.max).then_some(open + 1)
            });
        taken.ok().map(|_| Slot(self.clone()))
    }

    #[cfg(test)]
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_stop_at_the_limit_and_come_back() {
        let slots = ConnSlots::new(2);
        let a = slots.take().expect("first");
        let _b = slots.take().expect("second");
        assert!(slots.take().is_none());
        drop(a);
        assert_eq!(slots.open(), 1);
        assert!(slots.take().is_some());
    }
}
