//! Non-blocking UDP reads with the kernel's arrival time (SO_TIMESTAMPNS), so a datagram read at
//! the next tick still carries the instant it arrived (RFC 3550 A.8 jitter, RFC 4733 timing).

use std::io;
use std::net::{SocketAddr, SocketAddrV4, SocketAddrV6, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A UDP socket ready for the engine: non-blocking, kernel receive timestamps on. The port
/// allocators make these when they bind (on the binder thread in `rtp` mode), so opening a
/// session costs the engine no syscall; [`MediaCommand::Open`](super::MediaCommand::Open)
/// takes nothing else, so an unprepared (blocking) socket cannot reach a shard.
#[derive(Debug)]
pub struct MediaSocket(UdpSocket);

impl MediaSocket {
    /// Makes `socket` non-blocking and turns SO_TIMESTAMPNS on.
    pub fn prepare(socket: UdpSocket) -> io::Result<Self> {
        socket.set_nonblocking(true)?;
        let on: libc::c_int = 1;
        // SAFETY: setsockopt on an fd we own, with a pointer to a live c_int and its size.
        let rc = unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_TIMESTAMPNS,
                (&on as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc == 0 {
            Ok(MediaSocket(socket))
        } else {
            Err(io::Error::last_os_error())
        }
    }

    /// Binds `addr` and prepares the socket.
    pub fn bind(addr: impl std::net::ToSocketAddrs) -> io::Result<Self> {
        Self::prepare(UdpSocket::bind(addr)?)
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }

    pub(crate) fn into_inner(self) -> UdpSocket {
        self.0
    }
}

/// The wall clock and the monotonic clock read together, to turn kernel timestamps
/// (CLOCK_REALTIME) into `Instant`s.
#[derive(Debug, Clone, Copy)]
pub struct Clocks {
    pub now: Instant,
    wall: Duration,
}

impl Clocks {
    pub fn read() -> Self {
        Clocks {
            now: Instant::now(),
            wall: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default(),
        }
    }

    /// The instant of a kernel timestamp (`now` if the stamp is missing or in the future).
    fn instant_of(&self, stamp: Option<Duration>) -> Instant {
        stamp
            .and_then(|s| self.wall.checked_sub(s))
            .and_then(|ago| self.now.checked_sub(ago))
            .unwrap_or(self.now)
    }
}

/// Reads one datagram: its length, source and arrival instant; `WouldBlock` when empty.
pub fn recv(
    socket: &UdpSocket,
    buf: &mut [u8],
    clocks: &Clocks,
) -> io::Result<(usize, SocketAddr, Instant)> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: zeroed sockaddr_storage and msghdr are valid; msghdr points at live buffers that
    // outlive the call.
    let mut addr: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut control = [0u64; 8];
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_name = (&mut addr as *mut libc::sockaddr_storage).cast();
    msg.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control) as _;
    // SAFETY: recvmsg on an fd we own with the msghdr above.
    let n = unsafe { libc::recvmsg(socket.as_raw_fd(), &mut msg, libc::MSG_DONTWAIT) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let from = to_socket_addr(&addr).ok_or_else(|| io::Error::other("unknown address family"))?;
    Ok((n as usize, from, clocks.instant_of(timestamp(&msg))))
}

/// The SCM_TIMESTAMPNS control message, if the kernel attached one.
fn timestamp(msg: &libc::msghdr) -> Option<Duration> {
    // SAFETY: walking the control messages the kernel wrote into our buffer, with the libc
    // macros that bound them by msg_controllen.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_TIMESTAMPNS {
                let ts = std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const libc::timespec);
                return Some(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32));
            }
            c = libc::CMSG_NXTHDR(msg, c);
        }
    }
    None
}

/// The address in a `sockaddr_storage` the kernel filled (IPv4 or IPv6; other families: none).
/// The SIP UDP driver's `recvmmsg` reads its sources with it too.
pub(crate) fn to_socket_addr(addr: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match i32::from(addr.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says this storage holds a sockaddr_in.
            let a =
                unsafe { &*(addr as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            let ip = std::net::Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
            Some(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(a.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says this storage holds a sockaddr_in6.
            let a =
                unsafe { &*(addr as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            let ip = std::net::Ipv6Addr::from(a.sin6_addr.s6_addr);
            Some(SocketAddr::V6(SocketAddrV6::new(
                ip,
                u16::from_be(a.sin6_port),
                a.sin6_flowinfo,
                a.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_source_and_a_kernel_arrival_time() {
        for bind in ["127.0.0.1:0", "[::1]:0"] {
            let Ok(rx) = UdpSocket::bind(bind) else {
                continue; // no IPv6 on this machine
            };
            let rx = MediaSocket::prepare(rx).unwrap().into_inner();
            let tx = UdpSocket::bind(bind).unwrap();
            let mut buf = [0u8; 64];
            let clocks = Clocks::read();
            assert_eq!(
                recv(&rx, &mut buf, &clocks).unwrap_err().kind(),
                io::ErrorKind::WouldBlock
            );
            // The kernel turns receive timestamping on asynchronously (a deferred static key):
            // until then datagrams are stamped when read. Within a second it must be on.
            let mut stamped = false;
            for _ in 0..50 {
                tx.send_to(b"hello", rx.local_addr().unwrap()).unwrap();
                std::thread::sleep(Duration::from_millis(20));
                let clocks = Clocks::read();
                let (n, from, at) = recv(&rx, &mut buf, &clocks).unwrap();
                assert_eq!((&buf[..n], from), (&b"hello"[..], tx.local_addr().unwrap()));
                let ago = clocks.now - at;
                assert!(ago < Duration::from_secs(2), "{ago:?}");
                if ago >= Duration::from_millis(15) {
                    stamped = true;
                    break;
                }
            }
            assert!(stamped, "arrival times come from the kernel");
        }
    }
}
