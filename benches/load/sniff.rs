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
const IPPROTO_TCP: u8 = 6;
/// Kernel receive buffer asked for, so a busy bench drops no frame between two drains.
const RCVBUF: libc::c_int = 32 << 20;
/// `linux/if_packet.h`.
const PACKET_IGNORE_OUTGOING: libc::c_int = 23;
/// How long the capture sleeps between drains. It sleeps rather than waits in `poll`: a waiter
/// would be woken by every frame, and that wake-up is work charged to the sender (the gateway
/// under test) inside its `send`. The kernel timestamps each frame as it arrives, so the
/// figures do not depend on when the capture reads it.
const DRAIN_EVERY: Duration = Duration::from_millis(2);

/// What a capture does with each frame it receives on `lo` (kernel timestamp in nanoseconds).
pub trait Tap: Send + 'static {
    fn frame(&mut self, frame: &[u8], ns: u64);
}

/// A capture running on its own thread until [`Sniffer::finish`], feeding a [`Tap`].
pub struct Sniffer<T> {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<Option<T>>,
}

impl<T: Tap> Sniffer<T> {
    /// Starts feeding `tap` every frame of `lo`; `None` when the packet socket cannot be opened
    /// (no CAP_NET_RAW), with the reason on stderr.
    pub fn start(tap: T) -> Option<Sniffer<T>> {
        let fd = match open_lo() {
            Ok(fd) => fd,
            Err(e) => {
                eprintln!("wire timing off (AF_PACKET on lo: {e}); SIPp's ms clock is used");
                return None;
            }
        };
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || Some(capture(&fd, tap, &flag)));
        Some(Sniffer { stop, handle })
    }

    /// Stops the capture and gives the tap back (`None` if its thread panicked).
    pub fn finish(self) -> Option<T> {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().ok().flatten()
    }
}

/// Two taps fed the same frames.
impl<A: Tap, B: Tap> Tap for (A, B) {
    fn frame(&mut self, frame: &[u8], ns: u64) {
        self.0.frame(frame, ns);
        self.1.frame(frame, ns);
    }
}

/// Pairs each INVITE reaching a UAS's port with the first 180 leaving it, by Call-ID.
pub struct Turnarounds {
    port: u16,
    pending: HashMap<Vec<u8>, u64>,
    /// INVITE -> 180 per call, in microseconds.
    pub us: Vec<u64>,
}

impl Turnarounds {
    pub fn new(port: u16) -> Turnarounds {
        Turnarounds {
            port,
            pending: HashMap::new(),
            us: Vec::new(),
        }
    }
}

impl Tap for Turnarounds {
    fn frame(&mut self, frame: &[u8], ns: u64) {
        match classify(frame, self.port) {
            Some(Seen::Invite(call_id)) => {
                self.pending.entry(call_id.to_vec()).or_insert(ns);
            }
            Some(Seen::Ringing(call_id)) => {
                if let Some(sent) = self.pending.remove(call_id) {
                    self.us.push(ns.saturating_sub(sent) / 1000);
                }
            }
            None => {}
        }
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
    // Each frame on `lo` passes twice, going out and coming in; the kernel (4.20+) can keep the
    // outgoing copies from the socket, which halves the capture's work (`receive` skips them
    // where it cannot).
    let _ = set_int(&fd, libc::SOL_PACKET, PACKET_IGNORE_OUTGOING, 1);
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

/// Reads frames until `stop`, handing each to `tap`.
fn capture<T: Tap>(fd: &OwnedFd, mut tap: T, stop: &AtomicBool) -> T {
    let mut buf = vec![0u8; 65536];
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(DRAIN_EVERY);
        while let Some((len, ns)) = receive(fd, &mut buf) {
            tap.frame(&buf[..len], ns);
        }
    }
    tap
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
    let (src, dst, sip) = udp(frame)?;
    if dst == port && sip.starts_with(b"INVITE ") {
        Some(Seen::Invite(call_id(sip)?))
    } else if src == port && sip.starts_with(b"SIP/2.0 180") {
        Some(Seen::Ringing(call_id(sip)?))
    } else {
        None
    }
}

/// The IPv4 packet of a `lo` frame and its protocol number.
fn ipv4(frame: &[u8]) -> Option<(u8, &[u8])> {
    let ethertype = u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]);
    let ip = frame.get(ETH_HEADER..)?;
    if ethertype != ETHERTYPE_IPV4 {
        return None;
    }
    let payload = ip.get(usize::from(ip.first()? & 0x0f) * 4..)?;
    Some((*ip.get(9)?, payload))
}

/// Source port, destination port and payload of a UDP datagram in a `lo` frame.
pub fn udp(frame: &[u8]) -> Option<(u16, u16, &[u8])> {
    let (proto, udp) = ipv4(frame)?;
    if proto != IPPROTO_UDP {
        return None;
    }
    Some((port_at(udp, 0)?, port_at(udp, 2)?, udp.get(8..)?))
}

/// Source port, destination port and payload of a TCP segment in a `lo` frame.
pub fn tcp(frame: &[u8]) -> Option<(u16, u16, &[u8])> {
    let (proto, tcp) = ipv4(frame)?;
    if proto != IPPROTO_TCP {
        return None;
    }
    let offset = usize::from(tcp.get(12)? >> 4) * 4;
    Some((port_at(tcp, 0)?, port_at(tcp, 2)?, tcp.get(offset..)?))
}

fn port_at(header: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*header.get(at)?, *header.get(at + 1)?]))
}

/// The Call-ID header's value (long or compact name, any case), trimmed.
pub fn call_id(sip: &[u8]) -> Option<&[u8]> {
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
    built_frame(false, src, dst, sip.as_bytes())
}

/// A loopback frame carrying `payload` from `src` to `dst`, in a TCP segment if `tcp`, else in
/// a UDP datagram (for the self-checks).
pub fn built_frame(tcp: bool, src: u16, dst: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0u8; 12];
    f.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
    let proto = if tcp { IPPROTO_TCP } else { IPPROTO_UDP };
    let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, proto];
    ip.resize(20, 0);
    f.extend_from_slice(&ip);
    f.extend_from_slice(&src.to_be_bytes());
    f.extend_from_slice(&dst.to_be_bytes());
    if tcp {
        let mut rest = vec![0u8; 16];
        rest[8] = 5 << 4;
        f.extend_from_slice(&rest);
    } else {
        f.extend_from_slice(&[0, 0, 0, 0]);
    }
    f.extend_from_slice(payload);
    f
}
