//! RTP port management. A call leases an RTP/RTCP port pair (RTP even, RTCP = RTP + 1) for its
//! SDP. In `rtp` mode both ports are bound (non-blocking std UDP sockets carried by the lease) so
//! they are really ours, and the core hands them to the media engine with
//! [`MediaLease::take_sockets`]; in `none` mode (signalling only) ports are numbered from the
//! range and nothing is bound.

use std::net::{IpAddr, SocketAddr};

use super::engine::MediaSocket;
use super::prebound::{PreboundPool, PREBOUND_PAIRS};
use crate::config::{MediaConfig, MediaMode};

/// Identifies one lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LeaseId(pub(super) u64);

/// A leased RTP port pair.
#[derive(Debug)]
pub struct MediaLease {
    /// The RTP address to put into SDP (RTCP is the next port).
    pub rtp: SocketAddr,
    id: LeaseId,
    /// The bound RTP and RTCP sockets (`rtp` mode) until the core takes them for the engine.
    sockets: Option<(MediaSocket, MediaSocket)>,
}

impl MediaLease {
    pub(super) fn new(
        rtp: SocketAddr,
        id: LeaseId,
        sockets: Option<(MediaSocket, MediaSocket)>,
    ) -> Self {
        MediaLease { rtp, id, sockets }
    }

    pub(super) fn id(&self) -> LeaseId {
        self.id
    }

    /// The bound RTP and RTCP sockets (prepared for the engine), once: the core moves them into
    /// `MediaCommand::Open`. `None` in signalling-only mode or when already taken. The port stays
    /// leased until [`MediaAllocator::release`]; the engine closes the sockets on `Close`.
    pub fn take_sockets(&mut self) -> Option<(MediaSocket, MediaSocket)> {
        self.sockets.take()
    }
}

/// Two leases are the same lease (the sockets they carry do not matter).
impl PartialEq for MediaLease {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id && self.rtp == other.rtp
    }
}

impl Eq for MediaLease {}

/// Errors of the media layer: port allocation and the engine's command queue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    #[error("no free RTP port pair in {0}..={1}")]
    Exhausted(u16, u16),
    /// The engine's command queue is full; the command was not queued.
    #[error("media engine busy: command queue full")]
    Busy,
    /// The engine has stopped.
    #[error("media engine stopped")]
    Stopped,
}

/// Hands out port pairs.
pub trait MediaAllocator: Send {
    fn allocate(&mut self) -> Result<MediaLease, MediaError>;
    fn release(&mut self, lease: MediaLease);
    /// Leases currently out.
    fn in_use(&self) -> usize;
}

/// The allocator the configuration asks for.
pub fn allocator_for(cfg: &MediaConfig) -> Box<dyn MediaAllocator> {
    match cfg.mode {
        MediaMode::Rtp => Box::new(PreboundPool::new(
            cfg.address,
            cfg.port_min,
            cfg.port_max,
            prebound_depth(cfg.port_min, cfg.port_max),
        )),
        MediaMode::None => Box::new(SignallingOnly::new(cfg.address, cfg.port_min, cfg.port_max)),
    }
}

/// Pairs to keep bound ahead: [`PREBOUND_PAIRS`], but at most a quarter of the range, so a
/// small range is not held idle by the queue (and the top of it stays free until calls need it).
fn prebound_depth(min: u16, max: u16) -> usize {
    let (first, last) = even_ports(min, max);
    let pairs = usize::from(last.saturating_sub(first) / 2) + 1;
    PREBOUND_PAIRS.min(pairs / 4)
}

/// Even ports in `min..=max` with room for RTCP.
pub(super) fn even_ports(min: u16, max: u16) -> (u16, u16) {
    let first = min + (min % 2);
    (first, max.saturating_sub(1))
}

/// Binds `port` (RTP) and `port + 1` (RTCP), both prepared for the engine (non-blocking,
/// receive timestamps); `None` if either is taken.
pub(super) fn bind_pair(address: IpAddr, port: u16) -> Option<(MediaSocket, MediaSocket)> {
    let rtp = MediaSocket::bind((address, port)).ok()?;
    let rtcp = MediaSocket::bind((address, port.checked_add(1)?)).ok()?;
    Some((rtp, rtcp))
}

/// Signalling only: port numbers cycle through the range; nothing is bound, no limit.
pub struct SignallingOnly {
    address: IpAddr,
    first: u16,
    last: u16,
    next: u16,
    out: usize,
    next_id: u64,
}

impl SignallingOnly {
    pub fn new(address: IpAddr, min: u16, max: u16) -> Self {
        let (first, last) = even_ports(min, max);
        SignallingOnly {
            address,
            first,
            last: last.max(first),
            next: first,
            out: 0,
            next_id: 1,
        }
    }
}

impl MediaAllocator for SignallingOnly {
    fn allocate(&mut self) -> Result<MediaLease, MediaError> {
        let port = self.next;
        self.next = if port.saturating_add(2) > self.last {
            self.first
        } else {
            port + 2
        };
        self.out += 1;
        let id = LeaseId(self.next_id);
        self.next_id += 1;
        Ok(MediaLease {
            rtp: SocketAddr::new(self.address, port),
            id,
            sockets: None,
        })
    }

    fn release(&mut self, _lease: MediaLease) {
        self.out = self.out.saturating_sub(1);
    }

    fn in_use(&self) -> usize {
        self.out
    }
}

/// A range of `pairs` free port pairs on loopback at or above `from` (tests use distinct
/// `from`s, as they run in parallel).
#[cfg(test)]
pub(crate) fn free_range(from: u16, pairs: u16) -> (u16, u16) {
    let local = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    for base in (from..from + 5000).step_by(64) {
        let sockets: Vec<_> = (0..pairs * 2)
            .map(|i| std::net::UdpSocket::bind((local, base + i)))
            .collect();
        if sockets.iter().all(|s| s.is_ok()) {
            return (base, base + pairs * 2 - 1);
        }
    }
    panic!("no free port range");
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;

    const LOCAL: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[test]
    fn leases_even_pairs_binds_both_and_exhausts() {
        let (min, max) = free_range(40000, 2);
        let mut pool = PreboundPool::binding_on_demand(LOCAL, min, max);
        let a = pool.allocate().unwrap();
        let b = pool.allocate().unwrap();
        assert_eq!(a.rtp.port() % 2, 0);
        assert_ne!(a.rtp, b.rtp);
        assert!(UdpSocket::bind(a.rtp).is_err(), "RTP port is held");
        assert!(
            UdpSocket::bind((LOCAL, a.rtp.port() + 1)).is_err(),
            "RTCP port is held"
        );
        assert_eq!(pool.allocate(), Err(MediaError::Exhausted(min, max)));
        let port = a.rtp;
        pool.release(a);
        assert_eq!(pool.in_use(), 1);
        assert!(UdpSocket::bind(port).is_ok(), "released port is free again");
        assert_eq!(pool.allocate().unwrap().rtp, port);
    }

    #[test]
    fn the_sockets_can_be_taken_once_and_are_the_bound_pair() {
        let (min, max) = free_range(43000, 1);
        let mut pool = PreboundPool::binding_on_demand(LOCAL, min, max);
        let mut lease = pool.allocate().unwrap();
        let (rtp, rtcp) = lease.take_sockets().expect("bound sockets");
        assert_eq!(rtp.local_addr().unwrap(), lease.rtp);
        assert_eq!(rtcp.local_addr().unwrap().port(), lease.rtp.port() + 1);
        assert!(lease.take_sockets().is_none(), "taken once");
        let rtp = rtp.into_inner();
        let mut buf = [0u8; 4];
        let err = rtp.recv_from(&mut buf).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock, "non-blocking");
        pool.release(lease);
        assert_eq!(pool.in_use(), 0);
        assert!(
            UdpSocket::bind((LOCAL, min)).is_err(),
            "the taken socket still holds it"
        );
        drop(rtp);
        assert!(UdpSocket::bind((LOCAL, min)).is_ok());
    }

    #[test]
    fn a_port_held_elsewhere_is_skipped() {
        let (min, max) = free_range(46000, 2);
        let _squatter = UdpSocket::bind((LOCAL, min)).unwrap();
        let mut pool = PreboundPool::binding_on_demand(LOCAL, min, max);
        assert_eq!(pool.allocate().unwrap().rtp.port(), min + 2);
    }

    #[test]
    fn the_queue_holds_at_most_a_quarter_of_the_range() {
        assert_eq!(prebound_depth(10000, 10019), 2);
        assert_eq!(prebound_depth(10000, 10003), 0);
        assert_eq!(prebound_depth(10000, 20000), PREBOUND_PAIRS);
    }

    #[test]
    fn signalling_only_never_binds_and_never_runs_out() {
        let (min, max) = free_range(52000, 1);
        let mut pool = SignallingOnly::new(LOCAL, min, max);
        let mut leases: Vec<_> = (0..10).map(|_| pool.allocate().unwrap()).collect();
        assert_eq!(pool.in_use(), 10);
        assert!(leases[0].take_sockets().is_none());
        assert!(UdpSocket::bind(leases[0].rtp).is_ok(), "nothing bound");
        for lease in leases {
            pool.release(lease);
        }
        assert_eq!(pool.in_use(), 0);
    }
}
