//! Network namespaces a fault test makes for itself, and removes again even when it fails:
//!
//! ```text
//!  ns gw: tapigw, the test's app        ns wire: the link          ns pv: SIPp (provider)
//!  g0 10.77.0.1/24 ── veth ── g1  <-relay->  p1 ── veth ── p0 10.77.0.2/24
//! ```
//!
//! A relay in `wire` copies every Ethernet frame between g1 and p1 (AF_PACKET sockets), so the
//! two ends share one IP subnet as if cabled together. Impairment (loss, delay with jitter) is
//! `tc qdisc ... netem` on g1 and p1 when the kernel has netem; kernels built without it (such
//! as this machine's: `CONFIG_NET_SCH_NETEM` is not set) get the same impairment from the
//! relay instead, with netem's semantics: each frame is lost with the given probability, else
//! delayed by `delay ± jitter` (uniform, at least zero, so frames may be reordered). `set_link`
//! takes p1 down and up: the provider disappears without a trace (no ICMP), as when a cable or
//! a route is lost.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

pub const GW_IP: &str = "10.77.0.1";
pub const PV_IP: &str = "10.77.0.2";

static NEXT: AtomicU64 = AtomicU64::new(0);

/// What the link does to each frame, in each direction.
#[derive(Debug, Clone, Copy, Default)]
pub struct Impairment {
    pub loss: f64,
    pub delay: Duration,
    pub jitter: Duration,
}

/// The three namespaces, the veth pairs and the relay.
pub struct Lab {
    pub gw: String,
    pub pv: String,
    pub wire: String,
    settings: Arc<Mutex<Impairment>>,
    stop: Arc<AtomicBool>,
    relays: Vec<JoinHandle<()>>,
}

fn ip(args: &[&str]) -> io::Result<()> {
    let out = Command::new("ip").args(args).output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

impl Lab {
    /// Makes the namespaces; `None`, with the reason printed, when network namespaces cannot
    /// be made on this machine (not root, no `ip`, no netns support): the test is skipped.
    pub fn new(tag: &str) -> Option<Lab> {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let base = format!("tgw{}{tag}{n}", std::process::id());
        let lab = Lab {
            gw: format!("{base}g"),
            pv: format!("{base}p"),
            wire: format!("{base}w"),
            settings: Arc::default(),
            stop: Arc::default(),
            relays: Vec::new(),
        };
        if let Err(err) = ip(&["netns", "add", &lab.gw]) {
            eprintln!("SKIPPED: network namespaces are not possible here ({err})");
            return None;
        }
        // From here on Drop removes whatever was made.
        let mut lab = lab;
        lab.build()
            .unwrap_or_else(|e| panic!("building the lab: {e}"));
        Some(lab)
    }

    fn build(&mut self) -> io::Result<()> {
        let (gw, pv, wire) = (self.gw.clone(), self.pv.clone(), self.wire.clone());
        ip(&["netns", "add", &pv])?;
        ip(&["netns", "add", &wire])?;
        ip(&[
            "-n", &wire, "link", "add", "g1", "type", "veth", "peer", "name", "g0", "netns", &gw,
        ])?;
        ip(&[
            "-n", &wire, "link", "add", "p1", "type", "veth", "peer", "name", "p0", "netns", &pv,
        ])?;
        for (ns, dev, addr) in [(&gw, "g0", GW_IP), (&pv, "p0", PV_IP)] {
            ip(&["-n", ns, "addr", "add", &format!("{addr}/24"), "dev", dev])?;
            ip(&["-n", ns, "link", "set", dev, "up"])?;
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
        }
        for dev in ["g1", "p1"] {
            ip(&["-n", &wire, "link", "set", dev, "up"])?;
        }
        for (from, to) in [("g1", "p1"), ("p1", "g1")] {
            let relay = Relay {
                netns: wire.clone(),
                from: from.into(),
                to: to.into(),
                settings: self.settings.clone(),
                stop: self.stop.clone(),
            };
            self.relays.push(std::thread::spawn(move || relay.run()));
        }
        Ok(())
    }

    /// Impairs both directions of the link: netem when the kernel has it, else the relay.
    pub fn impair(&self, imp: Impairment) {
        let netem = |dev: &str| {
            let out = Command::new("ip")
                .args([
                    "netns", "exec", &self.wire, "tc", "qdisc", "replace", "dev", dev,
                ])
                .args(["root", "netem", "loss", &format!("{}%", imp.loss * 100.0)])
                .args(["delay", &format!("{}ms", imp.delay.as_millis())])
                .arg(format!("{}ms", imp.jitter.as_millis()))
                .output();
            out.is_ok_and(|o| o.status.success())
        };
        if netem("g1") && netem("p1") {
            eprintln!("link impaired by tc netem: {imp:?}");
            *self.settings.lock().unwrap() = Impairment::default();
        } else {
            eprintln!("no netem in this kernel: the relay impairs the link: {imp:?}");
            *self.settings.lock().unwrap() = imp;
        }
    }

    /// Takes the provider's side of the link down or up again.
    pub fn set_link(&self, up: bool) {
        let state = if up { "up" } else { "down" };
        ip(&["-n", &self.wire, "link", "set", "p1", state]).unwrap();
    }

    /// Runs `f` on a thread inside the gateway's namespace (sockets it opens live there: the
    /// gateway's API listens on that namespace's loopback).
    pub fn in_gw<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        let ns = &self.gw;
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    enter(ns).unwrap_or_else(|e| panic!("setns {ns}: {e}"));
                    f()
                })
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for relay in self.relays.drain(..) {
            let _ = relay.join();
        }
        for ns in [&self.gw, &self.pv, &self.wire] {
            let _ = ip(&["netns", "del", ns]);
        }
    }
}

/// Moves the calling thread into network namespace `ns`.
fn enter(ns: &str) -> io::Result<()> {
    let file = File::open(format!("/var/run/netns/{ns}"))?;
    // SAFETY: setns on a descriptor we own; it changes only this thread's namespace.
    if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// One direction of the wire: frames received on `from` go out on `to`.
struct Relay {
    netns: String,
    from: String,
    to: String,
    settings: Arc<Mutex<Impairment>>,
    stop: Arc<AtomicBool>,
}

impl Relay {
    fn run(self) {
        enter(&self.netns).expect("enter the wire namespace");
        let input = packet_socket(&self.from, true).expect("packet socket (receive)");
        let output = packet_socket(&self.to, false).expect("packet socket (send)");
        let seed = self
            .from
            .bytes()
            .fold(u64::from(std::process::id()), |h, b| {
                h.rotate_left(8) ^ u64::from(b)
            });
        let mut rng = SmallRng::seed_from_u64(seed);
        let mut queue: BinaryHeap<Reverse<(Instant, u64, Vec<u8>)>> = BinaryHeap::new();
        let mut seq = 0u64;
        let mut buf = vec![0u8; 65536];
        while !self.stop.load(Ordering::Relaxed) {
            let wait = queue
                .peek()
                .map_or(Duration::from_millis(20), |Reverse((at, _, _))| {
                    at.saturating_duration_since(Instant::now())
                        .min(Duration::from_millis(20))
                });
            poll_readable(&input, wait);
            while let Some(mut frame) = receive(&input, &mut buf) {
                clear_udp_checksum(&mut frame);
                let imp = *self.settings.lock().unwrap();
                if rng.random::<f64>() < imp.loss {
                    continue;
                }
                let jitter = imp.jitter.as_secs_f64();
                let delay = imp.delay.as_secs_f64() + rng.random_range(-jitter..=jitter);
                let at = Instant::now() + Duration::from_secs_f64(delay.max(0.0));
                seq += 1;
                queue.push(Reverse((at, seq, frame)));
            }
            while queue
                .peek()
                .is_some_and(|Reverse((at, _, _))| *at <= Instant::now())
            {
                if let Some(Reverse((_, _, frame))) = queue.pop() {
                    // A down interface refuses the frame: it is lost, as on a cut link.
                    // SAFETY: sends `frame` from a buffer we own on a socket we own.
                    unsafe {
                        libc::send(output.as_raw_fd(), frame.as_ptr().cast(), frame.len(), 0)
                    };
                }
            }
        }
    }
}

/// veth leaves the UDP checksum for "the hardware" (CHECKSUM_PARTIAL), so a frame taken off
/// the wire with AF_PACKET carries an unfinished one, which the far end would drop. IPv4 lets
/// UDP go without a checksum (RFC 768: zero): the relay clears it.
fn clear_udp_checksum(frame: &mut [u8]) {
    const ETH: usize = 14;
    if frame.len() < ETH + 20 || frame[12..14] != [0x08, 0x00] {
        return;
    }
    let ihl = usize::from(frame[ETH] & 0x0f) * 4;
    let first_fragment = (u16::from(frame[ETH + 6] & 0x1f) << 8 | u16::from(frame[ETH + 7])) == 0;
    let udp = ETH + ihl;
    if frame[ETH + 9] == 17 && first_fragment && frame.len() >= udp + 8 {
        frame[udp + 6] = 0;
        frame[udp + 7] = 0;
    }
}

/// An AF_PACKET socket bound to interface `dev`: receiving every protocol, or (for sending)
/// none.
fn packet_socket(dev: &str, receive: bool) -> io::Result<OwnedFd> {
    let protocol = if receive {
        (libc::ETH_P_ALL as u16).to_be()
    } else {
        0
    };
    // SAFETY: plain socket creation; the descriptor is owned at once.
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW, i32::from(protocol)) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor nobody else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let name = CString::new(dev).unwrap();
    // SAFETY: a NUL-terminated name.
    let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
    if index == 0 {
        return Err(io::Error::last_os_error());
    }
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

fn poll_readable(fd: &OwnedFd, wait: Duration) {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = wait.as_millis().min(1000) as i32;
    // SAFETY: one pollfd we own.
    unsafe { libc::poll(&mut pfd, 1, ms) };
}

/// The next frame that arrived on the interface (not one sent from it), without blocking.
fn receive(fd: &OwnedFd, buf: &mut [u8]) -> Option<Vec<u8>> {
    loop {
        // SAFETY: zeroed sockaddr_ll is valid; recvfrom writes at most its size and `buf`'s.
        let (n, addr) = unsafe {
            let mut addr: libc::sockaddr_ll = std::mem::zeroed();
            let mut len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            let n = libc::recvfrom(
                fd.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT,
                (&mut addr as *mut libc::sockaddr_ll).cast(),
                &mut len,
            );
            (n, addr)
        };
        if n < 0 {
            let err = io::Error::last_os_error();
            // ENETDOWN once when the interface goes down: go on, it comes back up.
            if err.raw_os_error() == Some(libc::ENETDOWN) {
                continue;
            }
            return None;
        }
        if addr.sll_pkttype == libc::PACKET_OUTGOING {
            continue;
        }
        return Some(buf[..n as usize].to_vec());
    }
}
