//! SIP over TLS (RFC 3261 §26.2.1, RFC 5630 §3.2): the client side of TLS lines, with the
//! server name each proxy address must prove (SNI and certificate check from the line's
//! `proxy`/`registrar`/`outbound_proxy` host), and the `sip.tls_listen` listener. Once the
//! handshake is done, a TLS connection is a SIP stream like a TCP one (`sip_stream`).

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use rustls_pki_types::ServerName;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::client::TlsStream;
use tokio_rustls::{TlsAcceptor, TlsConnector};

use super::input::CoreInput;
use super::sip_stream;
use super::sip_tcp;
use super::stream_pool::{self, ConnSlots, StreamShared};
use crate::config::{server_name, LineConfig, TlsServer};
use crate::sip::transport::{Peer, Transport};

/// The TLS client configurations of the lines, by the address they connect to.
#[derive(Default)]
pub struct TlsConnectors {
    by_addr: HashMap<SocketAddr, (TlsConnector, ServerName<'static>)>,
    /// For addresses no line names (a Record-Route hop): the first TLS line's roots, with the
    /// address itself as the name its certificate must carry.
    fallback: Option<TlsConnector>,
}

impl TlsConnectors {
    pub fn from_lines(lines: &[LineConfig]) -> Self {
        let mut connectors = TlsConnectors::default();
        for tls in lines.iter().filter_map(|l| l.tls.as_ref()) {
            let connector = TlsConnector::from(tls.client.0.clone());
            for (addr, name) in &tls.names {
                // Checked when the configuration was loaded.
                if let Ok(name) = server_name(name) {
                    connectors
                        .by_addr
                        .entry(*addr)
                        .or_insert((connector.clone(), name));
                }
            }
            connectors.fallback.get_or_insert(connector);
        }
        connectors
    }

    /// The TLS handshake as a client towards `addr` over `stream`.
    pub async fn connect(
        &self,
        addr: SocketAddr,
        stream: TcpStream,
    ) -> io::Result<TlsStream<TcpStream>> {
        let (connector, name) = match self.by_addr.get(&addr) {
            Some((connector, name)) => (connector.clone(), name.clone()),
            None => match &self.fallback {
                Some(connector) => (connector.clone(), ServerName::IpAddress(addr.ip().into())),
                None => return Err(io::Error::other("no TLS line configured")),
            },
        };
        connector.connect(name, stream).await
    }
}

/// Accepts TLS connections until the core goes away; the handshake runs on the connection's
/// own task, bounded by `sip.tcp_idle_s`, and counts against `sip.max_connections`.
pub async fn accept_loop(
    listener: TcpListener,
    server: TlsServer,
    shared: StreamShared,
    slots: Arc<ConnSlots>,
) {
    let acceptor = TlsAcceptor::from(server.0);
    loop {
        let Some((stream, addr, slot)) = sip_tcp::accept(&listener, &shared, &slots).await else {
            if shared.core.is_closed() {
                return;
            }
            continue;
        };
        let (acceptor, shared) = (acceptor.clone(), shared.clone());
        tokio::spawn(async move {
            let _slot = slot;
            let handshake = tokio::time::timeout(shared.limits.idle, acceptor.accept(stream));
            let stream = match handshake.await {
                Ok(Ok(stream)) => stream,
                Ok(Err(err)) => {
                    return tracing::info!(peer = %addr, %err, "TLS handshake failed");
                }
                Err(_) => return tracing::info!(peer = %addr, "TLS handshake timed out"),
            };
            let peer = Peer {
                transport: Transport::Tls,
                addr,
            };
            let id = stream_pool::next_id();
            let (sender, receiver) = stream_pool::queue();
            let opened = CoreInput::StreamOpened {
                peer,
                id,
                sender: sender.clone(),
            };
            if shared.core.send(opened).await.is_ok() {
                sip_stream::run(stream, shared.ctx(peer, id, true), sender, receiver).await;
            }
        });
    }
}
