//! The SIP UDP driver: receives datagrams in batches (`recvmmsg`, [`udp_batch`]), decodes
//! them (codec), hands them to the core with the instant the kernel received them
//! (`SO_TIMESTAMPNS`; the read time where the kernel gives no stamp), so the time a datagram
//! sat in the socket's receive buffer counts as queueing too: the core refuses new INVITEs
//! when they queued too long. Two more duties:
//! - **Early overload refusal**: while the channel to the core is nearly full
//!   ([`OVERLOAD_FILL`]), a new INVITE is answered 503 with Retry-After here, without the core
//!   (`provider::overload_refusal`); responses and in-dialog requests still queue. The count
//!   reaches the core's admission stats once the channel has room again.
//! - **ICMP errors** (`udp_errors`): an "unreachable" for a destination becomes a
//!   [`TransportFailure`], which ends every client transaction to it at once (RFC 3261
//!   §17.1.4, §18.4).
//!
//! Sending is done by the core task itself on the shared socket: the datagrams of one flush
//! round with one `sendmmsg` ([`send_datagrams`]), one by one where that falls short
//! ([`send_datagram`]).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use bytes::Bytes;

use tokio::io::Interest;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use super::input::CoreInput;
use super::udp_batch::{self, RecvBatch};
use super::udp_errors::{self, QueuedError};
use crate::provider::overload_refusal;
use crate::sip::codec::{self, DecodeError};
use crate::sip::transport::{Incoming, Peer, Transport, TransportFailure};

/// The channel to the core counts as nearly full below this fraction of free room (1/10).
const OVERLOAD_FILL: usize = 10;

/// The receiving side of the SIP UDP socket.
struct Driver {
    socket: Arc<UdpSocket>,
    core: mpsc::Sender<CoreInput>,
    /// New INVITEs refused here and not yet counted by the core.
    refused: u64,
    /// The To tag of the driver's stateless 503s.
    tag: String,
}

/// Receives until the core goes away.
pub async fn receive_loop(socket: Arc<UdpSocket>, core: mpsc::Sender<CoreInput>) {
    udp_errors::enable(&*socket);
    if !udp_batch::enable_timestamps(&*socket) {
        tracing::warn!("SO_TIMESTAMPNS unavailable: time in the socket buffer is not seen by overload shedding");
    }
    let tag = {
        use rand::TryRngCore;
        let n = rand::rngs::OsRng
            .try_next_u64()
            .unwrap_or(u64::from(std::process::id()));
        format!("{n:016x}")
    };
    let mut driver = Driver {
        socket: socket.clone(),
        core,
        refused: 0,
        tag,
    };
    let mut batch = RecvBatch::default();
    loop {
        let alive = tokio::select! {
            ready = socket.readable() => match ready {
                Ok(()) => driver.receive_batch(&mut batch).await,
                Err(err) => {
                    tracing::debug!(%err, "udp socket not readable");
                    driver.drain_errors().await
                }
            },
            _ = socket.ready(Interest::ERROR) => driver.drain_errors().await,
        };
        if !alive {
            return;
        }
    }
}

impl Driver {
    /// Reads what the socket has (one `recvmmsg`) and hands each datagram on; false once the
    /// core is gone.
    async fn receive_batch(&mut self, batch: &mut RecvBatch) -> bool {
        let read = self.socket.try_io(Interest::READABLE, || {
            // Fewer than asked for: recvmmsg found the buffer empty. Saying so (WouldBlock)
            // clears the readiness, so the next batch waits for the next arrival instead of
            // a recvmmsg that finds nothing; tokio keeps the readiness if an arrival was seen
            // meanwhile. The datagrams read are in `batch` either way.
            match batch.recv(&*self.socket)? {
                n if n < udp_batch::RECV_BATCH => Err(io::ErrorKind::WouldBlock.into()),
                n => Ok(n),
            }
        });
        match read {
            Ok(_) => {}
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
            Err(err) => {
                // An ICMP error is reported on the next socket call: read the queue.
                tracing::debug!(%err, "udp receive error");
                return self.drain_errors().await;
            }
        }
        // Both clocks read once per batch: each stamp's age is wall clock minus stamp.
        let (now, wall) = (Instant::now(), SystemTime::now());
        for datagram in batch.datagrams() {
            let at = udp_batch::arrival_instant(datagram.stamp, now, wall);
            if !self.on_datagram(datagram.bytes, datagram.from, at).await {
                return false;
            }
        }
        true
    }

    /// One datagram, received at `at`; false once the core is gone.
    async fn on_datagram(&mut self, bytes: &[u8], from: SocketAddr, at: Instant) -> bool {
        let Some(input) = decode_datagram(bytes, from, at) else {
            return true;
        };
        if self.core_nearly_full() {
            if let CoreInput::Received { incoming, .. } = &input {
                if let Some(refusal) = overload_refusal(incoming, &self.tag) {
                    self.refused += 1;
                    send_datagram(&self.socket, &refusal.payload, refusal.destination.addr).await;
                    return true;
                }
            }
        }
        if self.core.send(input).await.is_err() {
            return false;
        }
        self.report_refusals();
        true
    }

    fn core_nearly_full(&self) -> bool {
        self.core.capacity() < self.core.max_capacity() / OVERLOAD_FILL
    }

    /// Tells the core how many INVITEs were refused here, once there is room for it.
    fn report_refusals(&mut self) {
        if self.refused == 0 || self.core_nearly_full() {
            return;
        }
        if self
            .core
            .try_send(CoreInput::DriverRefusals(self.refused))
            .is_ok()
        {
            self.refused = 0;
        }
    }

    /// Reads the whole error queue; every "unreachable" goes to the core as a transport
    /// failure. False once the core is gone.
    async fn drain_errors(&mut self) -> bool {
        loop {
            let read = self
                .socket
                .try_io(Interest::ERROR, || udp_errors::read_one(&*self.socket));
            match read {
                Ok(QueuedError::Unreachable { destination, errno }) => {
                    let reason = io::Error::from_raw_os_error(errno).to_string();
                    tracing::info!(to = %destination, %reason, "ICMP error: transactions to it fail now");
                    let failure = TransportFailure {
                        destination: Peer {
                            transport: Transport::Udp,
                            addr: destination,
                        },
                        reason,
                    };
                    if self
                        .core
                        .send(CoreInput::TransportFailure(failure))
                        .await
                        .is_err()
                    {
                        return false;
                    }
                }
                Ok(QueuedError::Ignored) => {}
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return true,
                Err(err) => {
                    tracing::debug!(%err, "reading the UDP error queue");
                    return true;
                }
            }
        }
    }
}

/// Sends one datagram from the core. An earlier datagram's ICMP error is reported by the
/// kernel on the next send, whatever its destination, and that send does not happen: it is
/// tried once more (the error queue reader reports the ICMP error itself).
pub async fn send_datagram(socket: &UdpSocket, payload: &[u8], to: SocketAddr) {
    let mut result = socket.send_to(payload, to).await;
    if matches!(&result, Err(err) if udp_errors::is_pending_icmp_error(err)) {
        result = socket.send_to(payload, to).await;
    }
    if let Err(err) = result {
        tracing::debug!(%to, %err, "udp send failed");
    }
}

/// Sends `datagrams` in order, [`udp_batch::SEND_BATCH`] per `sendmmsg`. While the socket
/// buffer is full it waits until it is writable and goes on with the rest; a datagram the
/// kernel refuses (a pending ICMP error, ...) goes through [`send_datagram`] alone.
pub async fn send_datagrams(socket: &UdpSocket, datagrams: &[(Bytes, SocketAddr)]) {
    let mut chunk: Vec<(&[u8], SocketAddr)> = Vec::with_capacity(udp_batch::SEND_BATCH);
    let mut rest = datagrams;
    while !rest.is_empty() {
        chunk.clear();
        let take = rest.len().min(udp_batch::SEND_BATCH);
        chunk.extend(rest[..take].iter().map(|(p, to)| (&p[..], *to)));
        match socket.try_io(Interest::WRITABLE, || udp_batch::send(socket, &chunk)) {
            Ok(sent) if sent > 0 => rest = &rest[sent.min(take)..],
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                if let Err(err) = socket.writable().await {
                    tracing::debug!(%err, "udp socket not writable");
                    return;
                }
            }
            _ => {
                let (payload, to) = &rest[0];
                send_datagram(socket, payload, *to).await;
                rest = &rest[1..];
            }
        }
    }
}

/// Turns one datagram into a core input (or nothing for keep-alives and garbage).
fn decode_datagram(bytes: &[u8], from: SocketAddr, at: Instant) -> Option<CoreInput> {
    let source = Peer {
        transport: Transport::Udp,
        addr: from,
    };
    if bytes.iter().all(|b| matches!(b, b'\r' | b'\n' | 0)) {
        return None; // RFC 5626 §4.4.1 keep-alive (or an empty datagram)
    }
    match codec::decode(bytes) {
        Ok(message) => Some(CoreInput::Received {
            incoming: Box::new(Incoming { source, message }),
            at,
        }),
        Err(DecodeError::BadRequest { reason, response }) => {
            tracing::info!(%from, %reason, "refused request: sending its ready error response");
            Some(CoreInput::Malformed { source, response })
        }
        Err(err) => {
            tracing::debug!(%from, %err, "dropping unparseable datagram");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn options(i: usize) -> Vec<u8> {
        format!(
            "OPTIONS sip:1001@gw SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK{i}\r\n\
             To: <sip:1001@gw>\r\nFrom: <sip:p@127.0.0.1>;tag=t{i}\r\nCall-ID: c{i}\r\n\
             CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        )
        .into_bytes()
    }

    async fn next(rx: &mut mpsc::Receiver<CoreInput>) -> CoreInput {
        tokio::time::timeout(Duration::from_secs(2), rx.recv())
            .await
            .expect("nothing reached the core within 2 s")
            .expect("driver gone")
    }

    /// A burst reaches the core decoded, in order, with its source, stamped no later than it
    /// was taken; a keep-alive in the middle does not.
    #[tokio::test]
    async fn a_burst_reaches_the_core_with_sources_and_arrival_times() {
        let socket = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let to = socket.local_addr().unwrap();
        let (tx, mut rx) = mpsc::channel(1024);
        tokio::spawn(receive_loop(socket, tx));
        let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        for i in 0..50 {
            peer.send_to(&options(i), to).await.unwrap();
            if i == 25 {
                peer.send_to(b"\r\n\r\n", to).await.unwrap();
            }
        }
        for i in 0..50 {
            let CoreInput::Received { incoming, at } = next(&mut rx).await else {
                panic!("datagram {i}: not a received message");
            };
            assert!(at <= Instant::now());
            assert_eq!(incoming.source.addr, peer.local_addr().unwrap());
            assert_eq!(incoming.message.headers().call_id, format!("c{i}"));
        }
        assert!(rx.try_recv().is_err(), "the keep-alive reached the core");
    }

    /// Datagrams that waited in the socket buffer before the driver ran carry that wait.
    #[tokio::test]
    async fn time_in_the_socket_buffer_counts_as_queueing() {
        const QUEUED: Duration = Duration::from_millis(80);
        let socket = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        assert!(udp_batch::enable_timestamps(&*socket));
        udp_batch::tests::wait_for_arrival_stamps(&socket, &peer).await;
        peer.send_to(&options(1), socket.local_addr().unwrap())
            .await
            .unwrap();
        tokio::time::sleep(QUEUED).await;
        let (tx, mut rx) = mpsc::channel(16);
        tokio::spawn(receive_loop(socket, tx));
        let CoreInput::Received { at, .. } = next(&mut rx).await else {
            panic!("not a received message");
        };
        let waited = Instant::now().duration_since(at);
        assert!(waited >= QUEUED / 2, "waited only {waited:?}");
    }

    /// The core's datagrams to a closed port go out in one batch; the ICMP error comes back
    /// as a transport failure for that destination, and a later batch still goes out.
    #[tokio::test]
    async fn a_batch_to_a_closed_port_ends_in_a_transport_failure() {
        let closed = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let dead = closed.local_addr().unwrap();
        drop(closed);
        let live = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let socket = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let (tx, mut rx) = mpsc::channel(16);
        tokio::spawn(receive_loop(socket.clone(), tx));
        tokio::task::yield_now().await;
        let batch = vec![(Bytes::from_static(b"x"), dead)];
        send_datagrams(&socket, &batch).await;
        let CoreInput::TransportFailure(failure) = next(&mut rx).await else {
            panic!("no transport failure");
        };
        assert_eq!(failure.destination.addr, dead);
        let batch: Vec<_> = (0..3)
            .map(|i| (Bytes::from(format!("after{i}")), live.local_addr().unwrap()))
            .collect();
        send_datagrams(&socket, &batch).await;
        let mut buf = [0u8; 64];
        for i in 0..3 {
            let read = tokio::time::timeout(Duration::from_secs(2), live.recv(&mut buf));
            let len = read.await.expect("datagram lost").unwrap();
            assert_eq!(&buf[..len], format!("after{i}").as_bytes());
        }
    }
}
