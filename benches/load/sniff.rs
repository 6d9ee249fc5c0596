//! Wire timing on loopback, to the microsecond: an `AF_PACKET` socket on `lo` with kernel
//! receive timestamps (`SO_TIMESTAMPNS`) sees each INVITE reach a UAS's port and that UAS's 180
//! leave it, and gives the UAS's own INVITE -> 180 turnaround per call. SIPp's own response-time
//! figures tick in whole milliseconds, too coarse for the reply-latency targets; the sniffer
//! needs CAP_NET_RAW (root), and without it the bench falls back to SIPp's figures and says so.

use std::collections::HashMap;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Ethernet header on `lo` (zeroed addresses, then the EtherType).
const ETH_HEADER: usize = 14;
const ETHERTYPE_IPV4: u16 = 0x0800;
const IPPROTO_UDP: u8 = 17;
/// Kernel receive buffer asked for, so a busy bench drops no frame.
const RCVBUF: libc::c_int = 8 << 20;

/// A capture running on its own thread until [`Sniffer::finish`].
pub struct Sniffer {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<Vec<u64>>,
}

impl Sniffer {
    /// Starts watching the UAS at UDP `port` on loopback; `None` when the packet socket cannot be
    /// opened (no CAP_NET_RAW), with the reason on stderr.
    pub fn start(port: u16) -> Option<Sniffer> {
        let fd = match open_lo() {
            Ok(fd) => fd,
            Err(e) => {
                eprintln!("wire timing off (AF_PACKET on lo: {e}); SIPp's ms clock is used");
                return None;
            }
        };
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || capture(&fd, port, &flag));
        Some(Sniffer { stop, handle })
    }

    /// Stops the capture: the INVITE -> 180 turnarounds seen, in microseconds.
    pub fn finish(self) -> Vec<u64> {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().unwrap_or_default()
    }
}

fn open_lo() -> io::Result<OwnedFd> {
    let protocol = (libc::ETH_P_ALL as u16).to_be();
    // SAFETY: plain socket creation; the descriptor is owned at once.
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW, i32::from(protocol)) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor nobody else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let name = c"lo";
    // SAFETY: a NUL-terminated name.
    let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
    if index == 0 {
        return Err(io::Error::last_os_error());
    }
    set_int(&fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, RCVBUF)
        .or_else(|_| set_int(&fd, libc::SOL_SOCKET, libc::SO_RCVBUF, RCVBUF))?;
    set_int(&fd, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, 1)?;
    // SAFETY: zeroed sockaddr_ll is valid; bind reads it for its size.
    let rc = unsafe {
        let mut addr: libc::sockaddr_ll = std::mem::zeroed();
        addr.sll_family = libc::AF_PACKET as u16;
        addr.sll_protocol = protocol;
        addr.sll_ifindex = index as i32;
        libc::bind(
            fd.as_raw_fd(),
            (&addr as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fd)
}

fn set_int(fd: &OwnedFd, level: i32, name: i32, value: libc::c_int) -> io::Result<()> {
    // SAFETY: an int option on a descriptor we own.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Reads frames until `stop`, pairing each INVITE to `port` with the first 180 from it.
fn capture(fd: &OwnedFd, port: u16, stop: &AtomicBool) -> Vec<u64> {
    let mut pending: HashMap<Vec<u8>, u64> = HashMap::new();
    let mut turnarounds = Vec::new();
    let mut buf = vec![0u8; 65536];
    while !stop.load(Ordering::Relaxed) {
        poll_readable(fd, Duration::from_millis(50));
        while let Some((len, ns)) = receive(fd, &mut buf) {
            match classify(&buf[..len], port) {
                Some(Seen::Invite(call_id)) => {
                    pending.entry(call_id.to_vec()).or_insert(ns);
                }
                Some(Seen::Ringing(call_id)) => {
                    if let Some(sent) = pending.remove(call_id) {
                        turnarounds.push(ns.saturating_sub(sent) / 1000);
                    }
                }
                None => {}
            }
        }
    }
    turnarounds
}

fn poll_readable(fd: &OwnedFd, wait: Duration) {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one pollfd we own.
    unsafe { libc::poll(&mut pfd, 1, wait.as_millis() as i32) };
}

/// The next frame received on `lo` (its outgoing copy skipped), with its kernel timestamp in
/// nanoseconds; `None` when nothing is queued.
fn receive(fd: &OwnedFd, buf: &mut [u8]) -> Option<(usize, u64)> {
    loop {
        let mut control = [0u64; 16];
        // SAFETY: zeroed sockaddr_ll and msghdr are valid; the kernel writes within the lengths
        // given, and the control messages are read within `msg_controllen`.
        unsafe {
            let mut addr: libc::sockaddr_ll = std::mem::zeroed();
            let mut iov = libc::iovec {
                iov_base: buf.as_mut_ptr().cast(),
                iov_len: buf.len(),
            };
            let mut msg: libc::msghdr = std::mem::zeroed();
            msg.msg_name = (&mut addr as *mut libc::sockaddr_ll).cast();
            msg.msg_namelen = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control.as_mut_ptr().cast();
            msg.msg_controllen = std::mem::size_of_val(&control) as _;
            let n = libc::recvmsg(fd.as_raw_fd(), &mut msg, libc::MSG_DONTWAIT);
            if n < 0 {
                return None;
            }
            if addr.sll_pkttype == libc::PACKET_OUTGOING {
                continue;
            }
            return Some((n as usize, timestamp_ns(&msg)));
        }
    }
}

/// The `SCM_TIMESTAMPNS` of a received message, 0 if absent.
///
/// # Safety
/// `msg` must come from a `recvmsg` whose control buffer is still alive.
unsafe fn timestamp_ns(msg: &libc::msghdr) -> u64 {
    let mut cmsg = libc::CMSG_FIRSTHDR(msg);
    while !cmsg.is_null() {
        if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_TIMESTAMPNS {
            let ts = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::timespec>());
            return ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64;
        }
        cmsg = libc::CMSG_NXTHDR(msg, cmsg);
    }
    0
}

/// What a frame is to the capture: an INVITE to the UAS or a 180 from it, by Call-ID.
#[derive(Debug, PartialEq)]
enum Seen<'a> {
    Invite(&'a [u8]),
    Ringing(&'a [u8]),
}

/// Reads an IPv4/UDP frame of `lo`; anything else, or a message without a Call-ID, is `None`.
fn classify(frame: &[u8], port: u16) -> Option<Seen<'_>> {
    let ethertype = u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]);
    let ip = frame.get(ETH_HEADER..)?;
    if ethertype != ETHERTYPE_IPV4 || *ip.get(9)? != IPPROTO_UDP {
        return None;
    }
    let udp = ip.get(usize::from(ip.first()? & 0x0f) * 4..)?;
    let src = u16::from_be_bytes([*udp.first()?, *udp.get(1)?]);
    let dst = u16::from_be_bytes([*udp.get(2)?, *udp.get(3)?]);
    let sip = udp.get(8..)?;
    if dst == port && sip.starts_with(b"INVITE ") {
        Some(Seen::Invite(call_id(sip)?))
    } else if src == port && sip.starts_with(b"SIP/2.0 180") {
        Some(Seen::Ringing(call_id(sip)?))
    } else {
        None
    }
}

/// The Call-ID header's value (long or compact name, any case), trimmed.
fn call_id(sip: &[u8]) -> Option<&[u8]> {
    sip.split(|&b| b == b'\n').skip(1).find_map(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let colon = line.iter().position(|&b| b == b':')?;
        let name = line[..colon].trim_ascii();
        let is_call_id = name.eq_ignore_ascii_case(b"call-id") || name.eq_ignore_ascii_case(b"i");
        is_call_id.then(|| line[colon + 1..].trim_ascii())
    })
}

/// Checks the frame reading on built frames; `cargo test --all-targets` runs it (the bench
/// binary without `--bench`), so the classifier cannot rot unseen.
pub fn self_check() {
    let invite = frame(5061, 5060, "INVITE sip:a@b SIP/2.0\r\nCall-ID: 7@h\r\n\r\n");
    let ringing = frame(5060, 5061, "SIP/2.0 180 Ringing\r\ni:  7@h \r\n\r\n");
    assert_eq!(classify(&invite, 5060), Some(Seen::Invite(b"7@h")));
    assert_eq!(classify(&ringing, 5060), Some(Seen::Ringing(b"7@h")));
    // The other direction, another response, a cut frame: not ours.
    assert_eq!(classify(&invite, 5061), None);
    let trying = frame(5060, 5061, "SIP/2.0 100 Trying\r\nCall-ID: 7@h\r\n\r\n");
    assert_eq!(classify(&trying, 5060), None);
    assert_eq!(classify(&invite[..30], 5060), None);
}

/// A loopback frame carrying `sip` in UDP from `src` to `dst`.
fn frame(src: u16, dst: u16, sip: &str) -> Vec<u8> {
    let mut f = vec![0u8; 12];
    f.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
    let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, IPPROTO_UDP];
    ip.resize(20, 0);
    f.extend_from_slice(&ip);
    f.extend_from_slice(&src.to_be_bytes());
    f.extend_from_slice(&dst.to_be_bytes());
    f.extend_from_slice(&[0, 0, 0, 0]);
    f.extend_from_slice(sip.as_bytes());
    f
}
