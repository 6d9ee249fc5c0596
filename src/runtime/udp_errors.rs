//! ICMP errors on the SIP UDP socket (Linux `IP_RECVERR` / `IPV6_RECVERR`, read from the
//! socket's error queue with `recvmsg(MSG_ERRQUEUE)`): which destination an ICMP
//! "unreachable" was about, so the transaction layer can fail every client transaction to it
//! at once (RFC 3261 §18.4 and §17.1.4) instead of retransmitting until Timer B/F.
//!
//! §18.4: host, network, port or protocol unreachable and parameter problem errors mean the
//! send failed; source quench and TTL exceeded are ignored. The kernel puts the original
//! destination of the datagram that caused the error in `msg_name`.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::AsRawFd;

use super::udp_batch;

/// ICMPv4 destination unreachable and parameter problem (RFC 792).
const ICMP_UNREACH: u8 = 3;
const ICMP_PARAMPROB: u8 = 12;
/// ICMPv6 destination unreachable and parameter problem (RFC 4443).
const ICMP6_UNREACH: u8 = 1;
const ICMP6_PARAMPROB: u8 = 4;

/// Asks the kernel to queue ICMP errors on `socket` (both families: an IPv6 socket may carry
/// IPv4-mapped traffic). Failure only means errors are not seen: logged, not fatal.
pub fn enable(socket: &impl AsRawFd) {
    let fd = socket.as_raw_fd();
    let on: libc::c_int = 1;
    let mut enabled = false;
    for (level, option) in [
        (libc::SOL_IP, libc::IP_RECVERR),
        (libc::SOL_IPV6, libc::IPV6_RECVERR),
    ] {
        // SAFETY: setsockopt reads `on` for the given length only.
        let rc = unsafe {
            libc::setsockopt(
                fd,
                level,
                option,
                &on as *const libc::c_int as *const libc::c_void,
                size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        enabled |= rc == 0;
    }
    if !enabled {
        tracing::warn!("IP_RECVERR unavailable: ICMP unreachable errors will not end transactions");
    }
}

/// What one entry of the error queue says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueuedError {
    /// §18.4: sending to this destination failed (ICMP unreachable or parameter problem).
    Unreachable { destination: SocketAddr, errno: i32 },
    /// An error §18.4 says to ignore (TTL exceeded, a local error, ...).
    Ignored,
}

/// Reads one entry of the socket's error queue without blocking (`WouldBlock` when empty).
pub fn read_one(socket: &impl AsRawFd) -> io::Result<QueuedError> {
    let fd = socket.as_raw_fd();
    // SAFETY: zeroed storage is a valid (empty) sockaddr_storage and byte buffer.
    let mut name: libc::sockaddr_storage = unsafe { zeroed() };
    let mut data = [0u8; 64];
    let mut control = [0u64; 64];
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    // SAFETY: msghdr is plain data; every pointer set below outlives the recvmsg call.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_name = &mut name as *mut libc::sockaddr_storage as *mut libc::c_void;
    msg.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr() as *mut libc::c_void;
    msg.msg_controllen = size_of::<[u64; 64]>() as _;
    // SAFETY: `msg` describes buffers we own, sized as declared.
    let rc = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_ERRQUEUE | libc::MSG_DONTWAIT) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    let Some(err) = extended_error(&msg) else {
        return Ok(QueuedError::Ignored);
    };
    let unreachable = match err.ee_origin {
        libc::SO_EE_ORIGIN_ICMP => matches!(err.ee_type, ICMP_UNREACH | ICMP_PARAMPROB),
        libc::SO_EE_ORIGIN_ICMP6 => matches!(err.ee_type, ICMP6_UNREACH | ICMP6_PARAMPROB),
        _ => false,
    };
    match (unreachable, socket_addr(&name)) {
        (true, Some(destination)) => Ok(QueuedError::Unreachable {
            destination,
            errno: err.ee_errno as i32,
        }),
        _ => Ok(QueuedError::Ignored),
    }
}

/// The `sock_extended_err` of an `IP_RECVERR` / `IPV6_RECVERR` control message.
fn extended_error(msg: &libc::msghdr) -> Option<libc::sock_extended_err> {
    // SAFETY: the CMSG macros walk the control buffer recvmsg filled, within msg_controllen.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(msg);
        while !cmsg.is_null() {
            let (level, kind) = ((*cmsg).cmsg_level, (*cmsg).cmsg_type);
            let ours = (level == libc::SOL_IP && kind == libc::IP_RECVERR)
                || (level == libc::SOL_IPV6 && kind == libc::IPV6_RECVERR);
            if ours {
                let data = libc::CMSG_DATA(cmsg) as *const libc::sock_extended_err;
                return Some(std::ptr::read_unaligned(data));
            }
            cmsg = libc::CMSG_NXTHDR(msg, cmsg);
        }
    }
    None
}

/// The destination the kernel wrote; an IPv4-mapped peer is the IPv4 peer the core knows.
fn socket_addr(storage: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match udp_batch::socket_addr(storage)? {
        SocketAddr::V6(v6) => Some(match v6.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::V4(SocketAddrV4::new(v4, v6.port())),
            None => SocketAddr::V6(SocketAddrV6::new(*v6.ip(), v6.port(), 0, v6.scope_id())),
        }),
        v4 => Some(v4),
    }
}

/// An error a send may return because an earlier datagram drew an ICMP error (the kernel
/// reports it on the next socket call, whatever its destination): the send did not happen.
pub fn is_pending_icmp_error(err: &io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(libc::ECONNREFUSED | libc::EHOSTUNREACH | libc::ENETUNREACH | libc::EPROTO)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;
    use std::time::{Duration, Instant};

    /// A datagram to a closed loopback port draws ICMP port unreachable; the error queue names
    /// that port.
    #[test]
    fn a_closed_port_shows_up_in_the_error_queue() {
        let closed = UdpSocket::bind("127.0.0.1:0").unwrap();
        let dead = closed.local_addr().unwrap();
        drop(closed);
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        enable(&socket);
        socket.send_to(b"OPTIONS", dead).unwrap();
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            match read_one(&socket) {
                Ok(QueuedError::Unreachable { destination, errno }) => {
                    assert_eq!(destination, dead);
                    assert_eq!(errno, libc::ECONNREFUSED);
                    return;
                }
                Ok(QueuedError::Ignored) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    assert!(Instant::now() < deadline, "no ICMP error within 2 s");
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => panic!("recvmsg: {e}"),
            }
        }
    }
}
