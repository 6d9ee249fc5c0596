//! Batched system calls on the SIP UDP socket (Linux): `recvmmsg(2)` reads up to
//! [`RECV_BATCH`] datagrams at once, each with its source address and the kernel's receive
//! timestamp (`SO_TIMESTAMPNS`, see the kernel's Documentation/networking/timestamping.rst),
//! and `sendmmsg(2)` sends up to [`SEND_BATCH`] datagrams at once.
//!
//! The timestamp is when the datagram reached the socket, so the time it then sat in the
//! socket's receive buffer counts as queueing too (`sip.overload_queue_ms`). The kernel stamps
//! with `CLOCK_REALTIME`; [`arrival_instant`] turns that into an [`Instant`].
//!
//! Both calls are non-blocking (`MSG_DONTWAIT`) and meant to run inside tokio's
//! `UdpSocket::try_io`, which clears the readiness on `WouldBlock`.

use std::io;
use std::mem::{size_of, zeroed, MaybeUninit};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant, SystemTime};

/// Datagrams read by one `recvmmsg`.
pub const RECV_BATCH: usize = 32;
/// Datagrams sent by one `sendmmsg`.
pub const SEND_BATCH: usize = 64;
/// Largest datagram we accept (the UDP maximum).
const MAX_DATAGRAM: usize = 65_535;
/// `SO_TIMESTAMPNS` (= `SCM_TIMESTAMPNS`) of asm-generic/socket.h, the value on x86_64 and
/// aarch64 (the libc crate does not export it for Linux/glibc). With a 64-bit `time_t` the
/// control message carries a plain `struct timespec`.
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
const SO_TIMESTAMPNS: Option<libc::c_int> = Some(35);
#[cfg(not(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
const SO_TIMESTAMPNS: Option<libc::c_int> = None;
/// Control buffer per datagram, in u64 (alignment): room for a timestamp message and more.
const CONTROL_WORDS: usize = 16;

/// Asks the kernel to stamp every datagram received on `socket` with its arrival time.
/// False when it cannot (then [`RecvBatch`] reports no stamps and the read time is used).
pub fn enable_timestamps(socket: &impl AsRawFd) -> bool {
    let Some(option) = SO_TIMESTAMPNS else {
        return false;
    };
    let on: libc::c_int = 1;
    // SAFETY: setsockopt reads `on` for the given length only.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            option,
            &on as *const libc::c_int as *const libc::c_void,
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    rc == 0
}

/// One datagram of a [`RecvBatch`].
#[derive(Debug, Clone, Copy)]
pub struct Datagram<'a> {
    pub bytes: &'a [u8],
    pub from: SocketAddr,
    /// When the kernel received it (`CLOCK_REALTIME`), if it said.
    pub stamp: Option<SystemTime>,
}

/// Buffers for one `recvmmsg` and what it read. Holds no pointers (it is `Send`); the
/// message headers are built on the stack for each call.
pub struct RecvBatch {
    buffers: Vec<u8>,
    names: Vec<libc::sockaddr_storage>,
    controls: Vec<[u64; CONTROL_WORDS]>,
    /// (length, source, stamp) of each datagram read by the last call.
    read: Vec<(usize, Option<SocketAddr>, Option<SystemTime>)>,
}

impl Default for RecvBatch {
    fn default() -> Self {
        RecvBatch {
            buffers: vec![0; RECV_BATCH * MAX_DATAGRAM],
            // SAFETY: an all-zero sockaddr_storage is a valid (unspecified) address.
            names: vec![unsafe { zeroed() }; RECV_BATCH],
            controls: vec![[0; CONTROL_WORDS]; RECV_BATCH],
            read: Vec::with_capacity(RECV_BATCH),
        }
    }
}

impl RecvBatch {
    /// Reads what the socket has, up to [`RECV_BATCH`] datagrams, without blocking
    /// (`WouldBlock` when nothing is there). An error (e.g. a pending ICMP error,
    /// `ECONNREFUSED`) comes back only when no datagram was read; otherwise the kernel keeps
    /// it for the next call.
    pub fn recv(&mut self, socket: &impl AsRawFd) -> io::Result<usize> {
        self.read.clear();
        // SAFETY: iovec and mmsghdr are plain data; zeroed is a valid empty value.
        let mut iovecs: [libc::iovec; RECV_BATCH] = unsafe { zeroed() };
        let mut headers: [libc::mmsghdr; RECV_BATCH] = unsafe { zeroed() };
        let chunks = self.buffers.chunks_exact_mut(MAX_DATAGRAM);
        let slots = self.names.iter_mut().zip(self.controls.iter_mut());
        for (iovec, buffer) in iovecs.iter_mut().zip(chunks) {
            *iovec = libc::iovec {
                iov_base: buffer.as_mut_ptr() as *mut libc::c_void,
                iov_len: buffer.len(),
            };
        }
        let iov = iovecs.as_mut_ptr();
        for (i, (name, control)) in slots.enumerate() {
            let header = &mut headers[i].msg_hdr;
            header.msg_name = name as *mut libc::sockaddr_storage as *mut libc::c_void;
            header.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            header.msg_iov = iov.wrapping_add(i);
            header.msg_iovlen = 1;
            header.msg_control = control.as_mut_ptr() as *mut libc::c_void;
            header.msg_controllen = size_of::<[u64; CONTROL_WORDS]>() as _;
        }
        // SAFETY: every header points at buffers owned by `self` or this frame, sized as
        // declared, all alive for the call; the kernel writes within those sizes only.
        let rc = unsafe {
            libc::recvmmsg(
                socket.as_raw_fd(),
                headers.as_mut_ptr(),
                RECV_BATCH as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        let count = (rc as usize).min(RECV_BATCH);
        for (i, header) in headers.iter().enumerate().take(count) {
            let len = (header.msg_len as usize).min(MAX_DATAGRAM);
            let from = socket_addr(&self.names[i]);
            self.read.push((len, from, receive_stamp(&header.msg_hdr)));
        }
        Ok(count)
    }

    /// The datagrams the last [`RecvBatch::recv`] read, in arrival order (those whose source
    /// address the kernel did not give are left out).
    pub fn datagrams(&self) -> impl Iterator<Item = Datagram<'_>> {
        let buffers = self.buffers.chunks_exact(MAX_DATAGRAM);
        self.read
            .iter()
            .zip(buffers)
            .filter_map(|(&(len, from, stamp), buffer)| {
                Some(Datagram {
                    bytes: buffer.get(..len)?,
                    from: from?,
                    stamp,
                })
            })
    }
}

/// The `SCM_TIMESTAMPNS` control message of one received datagram.
fn receive_stamp(msg: &libc::msghdr) -> Option<SystemTime> {
    let option = SO_TIMESTAMPNS?;
    // SAFETY: the CMSG macros walk the control buffer recvmmsg filled, within the
    // msg_controllen it set; the data is read unaligned.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == option {
                let data = libc::CMSG_DATA(cmsg) as *const libc::timespec;
                let stamp = std::ptr::read_unaligned(data);
                return timespec_to_system_time(stamp);
            }
            cmsg = libc::CMSG_NXTHDR(msg, cmsg);
        }
    }
    None
}

fn timespec_to_system_time(stamp: libc::timespec) -> Option<SystemTime> {
    let secs = u64::try_from(stamp.tv_sec).ok()?;
    let nanos = u32::try_from(stamp.tv_nsec)
        .ok()
        .filter(|n| *n < 1_000_000_000)?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::new(secs, nanos))
}

/// The instant a datagram stamped `stamp` arrived, given the monotonic and the wall clock
/// read together now: `now - (wall - stamp)`. A stamp in the future (the wall clock was set
/// back) counts as now, as does no stamp at all.
pub fn arrival_instant(stamp: Option<SystemTime>, now: Instant, wall: SystemTime) -> Instant {
    let age = stamp.and_then(|s| wall.duration_since(s).ok());
    age.and_then(|age| now.checked_sub(age)).unwrap_or(now)
}

/// Sends `datagrams` (payload, destination) in order with one `sendmmsg`, at most
/// [`SEND_BATCH`], without blocking. Returns how many were sent, from the first; an error
/// (`WouldBlock`, a pending ICMP error, ...) means the first was not sent.
pub fn send(socket: &impl AsRawFd, datagrams: &[(&[u8], SocketAddr)]) -> io::Result<usize> {
    let count = datagrams.len().min(SEND_BATCH);
    if count == 0 {
        return Ok(0);
    }
    // Only the first `count` entries are written and passed to the kernel: zeroing all
    // SEND_BATCH of them (13 KiB) cost some 4 000 instructions a flush.
    let mut iovecs = [const { MaybeUninit::<libc::iovec>::uninit() }; SEND_BATCH];
    let mut headers = [const { MaybeUninit::<libc::mmsghdr>::uninit() }; SEND_BATCH];
    let mut names = [const { MaybeUninit::<libc::sockaddr_storage>::uninit() }; SEND_BATCH];
    let mut name_lens = [0 as libc::socklen_t; SEND_BATCH];
    for (i, (payload, to)) in datagrams.iter().take(count).enumerate() {
        iovecs[i].write(libc::iovec {
            // The kernel only reads from it (sendmmsg).
            iov_base: payload.as_ptr() as *mut libc::c_void,
            iov_len: payload.len(),
        });
        name_lens[i] = write_sockaddr(*to, &mut names[i]);
    }
    let (iov, name) = (iovecs.as_mut_ptr(), names.as_mut_ptr());
    for (i, header) in headers.iter_mut().take(count).enumerate() {
        // SAFETY: mmsghdr is plain data; zeroed is a valid empty value.
        let mut value: libc::mmsghdr = unsafe { zeroed() };
        value.msg_hdr.msg_name = name.wrapping_add(i) as *mut libc::c_void;
        value.msg_hdr.msg_namelen = name_lens[i];
        value.msg_hdr.msg_iov = iov.wrapping_add(i) as *mut libc::iovec;
        value.msg_hdr.msg_iovlen = 1;
        header.write(value);
    }
    // SAFETY: the first `count` headers point at payloads and addresses alive for the call,
    // sized as declared; the kernel reads them and writes only msg_len.
    let rc = unsafe {
        libc::sendmmsg(
            socket.as_raw_fd(),
            headers.as_mut_ptr() as *mut libc::mmsghdr,
            count as libc::c_uint,
            libc::MSG_DONTWAIT,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(rc as usize)
}

/// Writes `addr` as the kernel's sockaddr at the start of `storage` (only its first
/// returned-length bytes are written); returns its length.
fn write_sockaddr(
    addr: SocketAddr,
    storage: &mut MaybeUninit<libc::sockaddr_storage>,
) -> libc::socklen_t {
    match addr {
        SocketAddr::V4(v4) => {
            // SAFETY: sockaddr_in is plain data; zeroed is valid.
            let mut sin: libc::sockaddr_in = unsafe { zeroed() };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = v4.port().to_be();
            sin.sin_addr = libc::in_addr {
                s_addr: u32::from(*v4.ip()).to_be(),
            };
            // SAFETY: sockaddr_storage is large and aligned enough for any sockaddr.
            unsafe { storage.as_mut_ptr().cast::<libc::sockaddr_in>().write(sin) };
            size_of::<libc::sockaddr_in>() as libc::socklen_t
        }
        SocketAddr::V6(v6) => {
            // SAFETY: sockaddr_in6 is plain data; zeroed is valid.
            let mut sin6: libc::sockaddr_in6 = unsafe { zeroed() };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = v6.port().to_be();
            sin6.sin6_flowinfo = v6.flowinfo();
            sin6.sin6_addr = libc::in6_addr {
                s6_addr: v6.ip().octets(),
            };
            sin6.sin6_scope_id = v6.scope_id();
            // SAFETY: as above, for sockaddr_in6.
            unsafe {
                storage
                    .as_mut_ptr()
                    .cast::<libc::sockaddr_in6>()
                    .write(sin6)
            };
            size_of::<libc::sockaddr_in6>() as libc::socklen_t
        }
    }
}

/// The address the kernel wrote, as std reports it (an IPv4-mapped IPv6 peer stays IPv6,
/// as `UdpSocket::recv_from` gives it): the media engine's reader, shared.
pub(crate) use crate::media::engine::socket::to_socket_addr as socket_addr;

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use tokio::io::Interest;
    use tokio::net::UdpSocket;

    async fn pair() -> (UdpSocket, UdpSocket) {
        let receiver = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let sender = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        (receiver, sender)
    }

    /// Reads batches until `want` datagrams came (or 2 s passed); the batch sizes and the
    /// datagrams with their read instants.
    async fn read_all(socket: &UdpSocket, want: usize) -> (Vec<usize>, Vec<ReadOne>) {
        let mut batch = RecvBatch::default();
        let (mut sizes, mut got) = (Vec::new(), Vec::new());
        let deadline = Instant::now() + Duration::from_secs(2);
        while got.len() < want && Instant::now() < deadline {
            let ready = tokio::time::timeout(Duration::from_millis(200), socket.readable());
            if ready.await.is_err() {
                continue;
            }
            let Ok(n) = socket.try_io(Interest::READABLE, || batch.recv(socket)) else {
                continue;
            };
            let (read_at, wall) = (Instant::now(), SystemTime::now());
            sizes.push(n);
            for d in batch.datagrams() {
                let at = arrival_instant(d.stamp, read_at, wall);
                got.push((d.bytes.to_vec(), d.from, d.stamp.is_some(), at, read_at));
            }
        }
        (sizes, got)
    }

    type ReadOne = (Vec<u8>, SocketAddr, bool, Instant, Instant);

    #[tokio::test]
    async fn a_burst_is_read_in_batches_with_stamps_and_sources() {
        let (receiver, sender) = pair().await;
        assert!(enable_timestamps(&receiver));
        let (to, from) = (receiver.local_addr().unwrap(), sender.local_addr().unwrap());
        for i in 0..100u32 {
            sender
                .send_to(format!("m{i}").as_bytes(), to)
                .await
                .unwrap();
        }
        let (sizes, got) = read_all(&receiver, 100).await;
        assert_eq!(got.len(), 100);
        assert!(
            sizes.iter().any(|&n| n > 1),
            "never more than one per call: {sizes:?}"
        );
        assert!(sizes.iter().all(|&n| n <= RECV_BATCH));
        for (i, (bytes, source, stamped, at, read_at)) in got.iter().enumerate() {
            assert_eq!(bytes, format!("m{i}").as_bytes());
            assert_eq!(*source, from);
            assert!(stamped, "datagram {i} has no kernel stamp");
            assert!(at <= read_at);
        }
    }

    /// The kernel turns receive timestamping on a moment after the first socket asks for it
    /// (a deferred static key); until then it stamps a datagram when it is read. Waits (up to
    /// 2 s) until a probe that queued 5 ms is stamped at its arrival.
    pub(in crate::runtime) async fn wait_for_arrival_stamps(
        receiver: &UdpSocket,
        sender: &UdpSocket,
    ) {
        let to = receiver.local_addr().unwrap();
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            sender.send_to(b"probe", to).await.unwrap();
            tokio::time::sleep(Duration::from_millis(5)).await;
            let (_, got) = read_all(receiver, 1).await;
            if got
                .iter()
                .any(|g| g.4.duration_since(g.3) >= Duration::from_millis(4))
            {
                return;
            }
        }
    }

    #[tokio::test]
    async fn a_datagram_queued_in_the_kernel_is_stamped_earlier() {
        const QUEUED: Duration = Duration::from_millis(60);
        let (receiver, sender) = pair().await;
        assert!(enable_timestamps(&receiver));
        wait_for_arrival_stamps(&receiver, &sender).await;
        let to = receiver.local_addr().unwrap();
        sender.send_to(b"late", to).await.unwrap();
        tokio::time::sleep(QUEUED).await;
        let (_, got) = read_all(&receiver, 1).await;
        let (bytes, _, stamped, at, read_at) = &got[0];
        assert_eq!(bytes, b"late");
        assert!(stamped);
        let waited = read_at.duration_since(*at);
        assert!(
            waited >= QUEUED / 2,
            "stamped only {waited:?} before the read"
        );
        assert!(
            waited < Duration::from_secs(2),
            "stamped {waited:?} before the read"
        );
    }

    #[test]
    fn without_a_stamp_or_with_one_in_the_future_the_read_time_counts() {
        let (now, wall) = (Instant::now(), SystemTime::now());
        assert_eq!(arrival_instant(None, now, wall), now);
        let future = wall + Duration::from_secs(5);
        assert_eq!(arrival_instant(Some(future), now, wall), now);
        let past = wall - Duration::from_millis(250);
        let at = arrival_instant(Some(past), now, wall);
        assert_eq!(now.duration_since(at), Duration::from_millis(250));
    }

    #[tokio::test]
    async fn a_batch_is_sent_whole_and_in_order() {
        let (receiver, sender) = pair().await;
        let (second, _) = pair().await;
        let to = [receiver.local_addr().unwrap(), second.local_addr().unwrap()];
        let payloads: Vec<String> = (0..100).map(|i| format!("d{i}")).collect();
        let datagrams: Vec<(&[u8], SocketAddr)> = payloads
            .iter()
            .enumerate()
            .map(|(i, p)| (p.as_bytes(), to[i % 2]))
            .collect();
        let mut sent = 0;
        while sent < datagrams.len() {
            sender.writable().await.unwrap();
            let rest = &datagrams[sent..];
            match sender.try_io(Interest::WRITABLE, || send(&sender, rest)) {
                Ok(n) => {
                    assert!((1..=SEND_BATCH).contains(&n));
                    sent += n;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => panic!("sendmmsg: {e}"),
            }
        }
        let (_, first) = read_all(&receiver, 50).await;
        let (_, other) = read_all(&second, 50).await;
        let texts = |got: &[ReadOne]| -> Vec<Vec<u8>> { got.iter().map(|g| g.0.clone()).collect() };
        let expect = |parity: usize| -> Vec<Vec<u8>> {
            payloads
                .iter()
                .enumerate()
                .filter(|(i, _)| i % 2 == parity)
                .map(|(_, p)| p.as_bytes().to_vec())
                .collect()
        };
        assert_eq!(texts(&first), expect(0));
        assert_eq!(texts(&other), expect(1));
    }

    #[test]
    fn addresses_round_trip_through_sockaddr() {
        for addr in ["127.0.0.1:5060", "[::1]:5061", "[::ffff:10.0.0.1]:7"] {
            let addr: SocketAddr = addr.parse().unwrap();
            let mut storage = MaybeUninit::<libc::sockaddr_storage>::zeroed();
            write_sockaddr(addr, &mut storage);
            // SAFETY: zeroed, then partly written: every byte is initialised.
            assert_eq!(
                socket_addr(unsafe { storage.assume_init_ref() }),
                Some(addr)
            );
        }
    }
}
