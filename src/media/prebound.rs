//! The `rtp` mode's port allocator: a pool whose binder thread keeps RTP/RTCP port pairs bound
//! ahead, so the core's [`MediaAllocator::allocate`] pops a ready pair instead of making four
//! syscalls (two `bind`s, two `fcntl`s, plus the two `socket`s) in the signalling path.
//!
//! The binder walks the even ports of the range in a cycle (a released port is not reused at
//! once), skips ports a lease or the queue holds and ports another process holds (their bind
//! fails). It fills the queue, then sleeps until the core has taken half of it. When the queue
//! is empty the core binds synchronously, as [`PreboundPool::binding_on_demand`] always does,
//! so a burst beyond the queue still gets ports and exhaustion is still reported. The pool is an
//! edge object injected into the sans-I/O core.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use super::allocator::{bind_pair, even_ports, LeaseId, MediaAllocator, MediaError, MediaLease};
use super::engine::MediaSocket;

/// Pairs the binder keeps bound ahead (capped by the range's size).
pub(crate) const PREBOUND_PAIRS: usize = 128;

/// How long the binder sleeps before it looks again for released ports when every port is
/// out or unbindable (releases do not wake it).
const IDLE_WAIT: Duration = Duration::from_millis(50);

/// A bound pair in the queue: its RTP port and the RTP and RTCP sockets.
type Ready = (u16, (MediaSocket, MediaSocket));

/// The cycle through the range, shared by the binder and the core.
struct Cycle {
    first: u16,
    last: u16,
    next: u16,
    /// Ports leased or waiting in the queue.
    used: HashSet<u16>,
    closed: bool,
}

impl Cycle {
    fn slots(&self) -> usize {
        if self.last < self.first {
            0
        } else {
            usize::from((self.last - self.first) / 2 + 1)
        }
    }

    /// The next port in the cycle that is not in use, marked used.
    fn claim(&mut self) -> Option<u16> {
        for _ in 0..self.slots() {
            let port = self.next;
            self.next = if port.saturating_add(2) > self.last {
                self.first
            } else {
                port + 2
            };
            if self.used.insert(port) {
                return Some(port);
            }
        }
        None
    }
}

struct Shared {
    address: IpAddr,
    cycle: Mutex<Cycle>,
    /// Signalled on release and on close.
    freed: Condvar,
    /// Pairs in the queue (counted after they are in it, so it may lag).
    queued: AtomicIsize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Cycle> {
        // A panic elsewhere while holding the lock leaves the cycle usable.
        self.cycle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Frees a port; the binder finds it at its next refill (no wake-up per release).
    fn unclaim(&self, port: u16) {
        self.lock().used.remove(&port);
    }

    /// Wakes the binder (under the lock, so the wake-up cannot fall between its check and
    /// its wait).
    fn wake(&self) {
        let _cycle = self.lock();
        self.freed.notify_one();
    }
}

/// Port pairs bound ahead by a binder thread; see the module doc.
pub struct PreboundPool {
    shared: Arc<Shared>,
    ready: Option<Receiver<Ready>>,
    /// Port of each lease out.
    leases: HashMap<LeaseId, u16>,
    next_id: u64,
    synchronous: u64,
    /// The queue length at which the binder is woken to refill.
    low_watermark: isize,
}

impl PreboundPool {
    /// A pool over the even ports of `min..=max` keeping up to `ahead` pairs bound.
    pub fn new(address: IpAddr, min: u16, max: u16, ahead: usize) -> Self {
        let (first, last) = even_ports(min, max);
        let cycle = Cycle {
            first,
            last,
            next: first,
            used: HashSet::new(),
            closed: false,
        };
        let depth = ahead.min(cycle.slots());
        let shared = Arc::new(Shared {
            address,
            cycle: Mutex::new(cycle),
            freed: Condvar::new(),
            queued: AtomicIsize::new(0),
        });
        PreboundPool {
            ready: spawn_binder(&shared, depth),
            shared,
            leases: HashMap::new(),
            next_id: 1,
            synchronous: 0,
            low_watermark: isize::try_from(depth / 2).unwrap_or(0),
        }
    }

    /// A pool that binds each pair when it is leased, on the caller's thread (no binder, nothing
    /// held ahead): the same cycle, skipping and exhaustion, without the queue.
    pub fn binding_on_demand(address: IpAddr, min: u16, max: u16) -> Self {
        PreboundPool::new(address, min, max, 0)
    }

    /// Allocations the queue could not serve (bound on the caller's thread).
    pub fn synchronous_binds(&self) -> u64 {
        self.synchronous
    }

    /// Pairs bound and waiting in the queue (may lag the binder by one).
    pub fn queued(&self) -> usize {
        usize::try_from(self.shared.queued.load(Ordering::Acquire)).unwrap_or(0)
    }

    fn pop(&mut self) -> Option<Ready> {
        let ready = self.ready.as_ref()?;
        match ready.try_recv() {
            Ok(pair) => {
                let before = self.shared.queued.fetch_sub(1, Ordering::AcqRel);
                if before - 1 == self.low_watermark {
                    self.shared.wake();
                }
                Some(pair)
            }
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => {
                self.ready = None;
                None
            }
        }
    }

    /// The empty-queue path: claim and bind here, skipping ports held elsewhere.
    fn bind_now(&mut self) -> Option<Ready> {
        let slots = self.shared.lock().slots();
        for _ in 0..slots {
            let port = self.shared.lock().claim()?;
            match bind_pair(self.shared.address, port) {
                Some(pair) => return Some((port, pair)),
                None => self.shared.unclaim(port),
            }
        }
        None
    }
}

impl MediaAllocator for PreboundPool {
    fn allocate(&mut self) -> Result<MediaLease, MediaError> {
        let (port, pair) = match self.pop() {
            Some(ready) => ready,
            None => {
                self.synchronous += 1;
                self.bind_now().ok_or_else(|| {
                    let cycle = self.shared.lock();
                    MediaError::Exhausted(cycle.first, cycle.last + 1)
                })?
            }
        };
        let id = LeaseId(self.next_id);
        self.next_id += 1;
        self.leases.insert(id, port);
        let rtp = SocketAddr::new(self.shared.address, port);
        Ok(MediaLease::new(rtp, id, Some(pair)))
    }

    fn release(&mut self, lease: MediaLease) {
        // Sockets not handed to the engine close here, before the port is free again.
        let id = lease.id();
        drop(lease);
        if let Some(port) = self.leases.remove(&id) {
            self.shared.unclaim(port);
        }
    }

    fn in_use(&self) -> usize {
        self.leases.len()
    }
}

impl Drop for PreboundPool {
    /// Stops the binder: it sees `closed`, or its blocked send fails once the queue is dropped.
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.freed.notify_all();
    }
}

/// Starts the binder thread with a queue of `depth` pairs (`None`: no queue, every allocation
/// binds synchronously).
fn spawn_binder(shared: &Arc<Shared>, depth: usize) -> Option<Receiver<Ready>> {
    if depth == 0 {
        return None;
    }
    let (tx, rx) = sync_channel(depth);
    let shared = shared.clone();
    let spawned = std::thread::Builder::new()
        .name("tapigw-rtp-bind".into())
        .spawn(move || run_binder(&shared, &tx, depth));
    match spawned {
        Ok(_) => Some(rx),
        Err(err) => {
            tracing::warn!(%err, "no RTP binder thread: ports are bound per call");
            None
        }
    }
}

/// The binder's loop: claim, bind, queue, until closed. It fills the queue to `depth`, then
/// sleeps until the core has drained it to half (one wake-up per `depth / 2` calls, not one
/// per call).
fn run_binder(shared: &Shared, tx: &SyncSender<Ready>, depth: usize) {
    let mut refill = Refill {
        depth: isize::try_from(depth).unwrap_or(isize::MAX),
        filling: true,
        failures: 0,
    };
    while let Some(port) = next_port(shared, &mut refill) {
        let Some(pair) = bind_pair(shared.address, port) else {
            shared.unclaim(port);
            refill.failures += 1;
            continue;
        };
        refill.failures = 0;
        if tx.send((port, pair)).is_err() {
            return;
        }
        shared.queued.fetch_add(1, Ordering::AcqRel);
    }
}

/// The binder's refill state.
struct Refill {
    depth: isize,
    /// Between the low watermark (half) and full.
    filling: bool,
    /// Binds failed in a row (ports other processes hold).
    failures: usize,
}

/// The next port to bind, waiting while the queue is full enough, every port is out, or a
/// whole cycle failed to bind; `None` once the pool is closed.
fn next_port(shared: &Shared, refill: &mut Refill) -> Option<u16> {
    let mut cycle = shared.lock();
    loop {
        if cycle.closed {
            return None;
        }
        let queued = shared.queued.load(Ordering::Acquire);
        if queued >= refill.depth {
            refill.filling = false;
        } else if queued <= refill.depth / 2 {
            refill.filling = true;
        }
        if refill.filling && refill.failures < cycle.slots().max(1) {
            if let Some(port) = cycle.claim() {
                return Some(port);
            }
        }
        refill.failures = 0;
        cycle = shared
            .freed
            .wait_timeout(cycle, IDLE_WAIT)
            .map_or_else(|e| e.into_inner().0, |(guard, _)| guard);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;
    use std::time::Instant;

    const LOCAL: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    use super::super::allocator::free_range;

    fn wait_queued(pool: &PreboundPool, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while pool.queued() < n {
            assert!(Instant::now() < deadline, "binder queued {}", pool.queued());
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn allocations_are_served_from_the_bound_queue() {
        let (min, max) = free_range(30000, 4);
        let mut pool = PreboundPool::new(LOCAL, min, max, 4);
        wait_queued(&pool, 4);
        let mut leases: Vec<_> = (0..4).map(|_| pool.allocate().unwrap()).collect();
        assert_eq!(
            pool.synchronous_binds(),
            0,
            "no bind on the caller's thread"
        );
        let ports: Vec<_> = leases.iter().map(|l| l.rtp.port()).collect();
        assert_eq!(
            ports,
            vec![min, min + 2, min + 4, min + 6],
            "in cycle order"
        );
        let (rtp, rtcp) = leases[0].take_sockets().expect("bound sockets");
        assert_eq!(rtp.local_addr().unwrap(), leases[0].rtp);
        assert_eq!(rtcp.local_addr().unwrap().port(), min + 1);
        let mut buf = [0u8; 4];
        let err = rtp.into_inner().recv_from(&mut buf).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock, "non-blocking");
        assert_eq!(pool.allocate(), Err(MediaError::Exhausted(min, max)));
        assert_eq!(pool.in_use(), 4);
    }

    #[test]
    fn an_empty_queue_binds_synchronously_and_exhaustion_is_reported() {
        let (min, max) = free_range(33000, 2);
        let mut pool = PreboundPool::new(LOCAL, min, max, 0);
        let a = pool.allocate().unwrap();
        let b = pool.allocate().unwrap();
        assert_eq!(pool.synchronous_binds(), 2);
        assert_ne!(a.rtp, b.rtp);
        assert!(UdpSocket::bind(a.rtp).is_err(), "RTP port is held");
        assert!(UdpSocket::bind((LOCAL, a.rtp.port() + 1)).is_err());
        assert_eq!(pool.allocate(), Err(MediaError::Exhausted(min, max)));
    }

    #[test]
    fn a_port_held_elsewhere_is_skipped() {
        let (min, max) = free_range(36000, 2);
        let _squatter = UdpSocket::bind((LOCAL, min + 1)).unwrap();
        let mut pool = PreboundPool::new(LOCAL, min, max, 2);
        wait_queued(&pool, 1);
        assert_eq!(pool.allocate().unwrap().rtp.port(), min + 2);
        assert_eq!(pool.allocate(), Err(MediaError::Exhausted(min, max)));
    }

    #[test]
    fn released_ports_are_bound_again_after_the_rest_of_the_cycle() {
        let (min, max) = free_range(39000, 3);
        let mut pool = PreboundPool::new(LOCAL, min, max, 3);
        wait_queued(&pool, 3);
        let a = pool.allocate().unwrap();
        assert_eq!(a.rtp.port(), min);
        pool.release(a);
        assert_eq!(pool.in_use(), 0);
        // Two pairs were already bound ahead: the released port comes after them, bound again
        // by the binder once the queue ran low.
        let b = pool.allocate().unwrap();
        let c = pool.allocate().unwrap();
        assert_eq!((b.rtp.port(), c.rtp.port()), (min + 2, min + 4));
        wait_queued(&pool, 1);
        assert_eq!(pool.allocate().unwrap().rtp.port(), min);
        assert_eq!(pool.synchronous_binds(), 0);
        assert_eq!(pool.in_use(), 3);
    }

    #[test]
    fn dropping_the_pool_closes_the_queued_sockets() {
        let (min, max) = free_range(42000, 1);
        let pool = PreboundPool::new(LOCAL, min, max, 1);
        wait_queued(&pool, 1);
        assert!(UdpSocket::bind((LOCAL, min)).is_err(), "bound ahead");
        drop(pool);
        let deadline = Instant::now() + Duration::from_secs(5);
        while UdpSocket::bind((LOCAL, min)).is_err() {
            assert!(Instant::now() < deadline, "port still held after drop");
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}
