//! The SIP TCP listener: accepts connections within `sip.max_connections` and runs each as a
//! SIP stream (`sip_stream`); the core learns of it before its first message so that
//! responses go back over it. Outgoing connections are opened by the pool (`stream_pool`).

use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};

use super::input::CoreInput;
use super::sip_stream;
use super::stream_pool::{self, ConnSlots, Slot, StreamShared};
use crate::sip::transport::{Peer, Transport};

/// Accepts connections until the core goes away.
pub async fn accept_loop(listener: TcpListener, shared: StreamShared, slots: Arc<ConnSlots>) {
    loop {
        let Some((stream, peer, slot)) = accept(&listener, &shared, &slots).await else {
            if shared.core.is_closed() {
                return;
            }
            continue;
        };
        let peer = Peer {
            transport: Transport::Tcp,
            addr: peer,
        };
        let id = stream_pool::next_id();
        let (sender, receiver) = stream_pool::queue();
        let opened = CoreInput::StreamOpened {
            peer,
            id,
            sender: sender.clone(),
        };
        if shared.core.send(opened).await.is_err() {
            return;
        }
        let ctx = shared.ctx(peer, id, true);
        tokio::spawn(async move {
            let _slot = slot;
            sip_stream::run(stream, ctx, sender, receiver).await;
        });
    }
}

/// The next connection with a slot of its own; one over the limit is closed at once (and
/// logged, rate-limited).
pub async fn accept(
    listener: &TcpListener,
    shared: &StreamShared,
    slots: &Arc<ConnSlots>,
) -> Option<(TcpStream, std::net::SocketAddr, Slot)> {
    let (stream, peer) = match listener.accept().await {
        Ok(accepted) => accepted,
        Err(err) => {
            tracing::warn!(%err, "accept failed");
            tokio::time::sleep(Duration::from_millis(50)).await;
            return None;
        }
    };
    let Some(slot) = slots.take() else {
        if let Some(suppressed) = shared.logs.connections.hit() {
            tracing::warn!(%peer, limit = shared.limits.max_connections, suppressed, "sip.max_connections hit: refusing an inbound connection");
        }
        return None;
    };
    let _ = stream.set_nodelay(true);
    Some((stream, peer, slot))
}
