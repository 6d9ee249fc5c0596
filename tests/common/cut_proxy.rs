//! A TCP proxy a test controls, to cut an API connection the way a network failure does: the
//! client connects to the proxy, the proxy to the gateway, and bytes are copied both ways.
//! [`CutProxy::cut`] resets both ends (SO_LINGER 0, then close: RST, no FIN), and while
//! [`CutProxy::hold`] is on, new connections are reset as soon as they are accepted, so a
//! client that reconnects by itself stays away until [`CutProxy::release`].
//!
//! std threads only, so the gateway's tests and libtapi's (`#[path]` include) both use it.
#![allow(dead_code)]

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often a copying thread looks at its connection's cut flag.
const POLL: Duration = Duration::from_millis(20);

struct Pair {
    cut: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    sockets: Vec<TcpStream>,
}

struct Shared {
    upstream: SocketAddr,
    hold: AtomicBool,
    accepted: AtomicUsize,
    refused: AtomicUsize,
    pairs: Mutex<Vec<Pair>>,
}

pub struct CutProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl CutProxy {
    /// Listens on a free loopback port and forwards to `upstream`.
    pub fn start(upstream: SocketAddr) -> CutProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            upstream,
            hold: AtomicBool::new(false),
            accepted: AtomicUsize::new(0),
            refused: AtomicUsize::new(0),
            pairs: Mutex::new(Vec::new()),
        });
        let s = shared.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                accept(&s, client);
            }
        });
        CutProxy { addr, shared }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `host:port` of the proxy.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// Resets every connection open now, both ends; returns how many there were.
    pub fn cut(&self) -> usize {
        let pairs: Vec<Pair> = std::mem::take(&mut *self.shared.pairs.lock().unwrap());
        let n = pairs.len();
        for pair in pairs {
            for s in &pair.sockets {
                set_zero_linger(s);
            }
            pair.cut.store(true, Ordering::SeqCst);
            drop(pair.sockets);
            for t in pair.threads {
                let _ = t.join();
            }
        }
        n
    }

    /// From now on, connections are reset as soon as they are accepted.
    pub fn hold(&self) {
        self.shared.hold.store(true, Ordering::SeqCst);
    }

    /// Connections go through again.
    pub fn release(&self) {
        self.shared.hold.store(false, Ordering::SeqCst);
    }

    /// Connections forwarded so far.
    pub fn accepted(&self) -> usize {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// Connections reset at once while held.
    pub fn refused(&self) -> usize {
        self.shared.refused.load(Ordering::SeqCst)
    }

    /// Waits until `accepted() >= n` (panics after `timeout`).
    pub fn wait_accepted(&self, n: usize, timeout: Duration) {
        wait_until(
            timeout,
            || self.accepted() >= n,
            "connections through the proxy",
        );
    }

    /// Waits until `refused() >= n` (panics after `timeout`).
    pub fn wait_refused(&self, n: usize, timeout: Duration) {
        wait_until(
            timeout,
            || self.refused() >= n,
            "connections refused by the proxy",
        );
    }
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.hold();
        self.cut();
    }
}

fn wait_until(timeout: Duration, mut done: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn accept(shared: &Arc<Shared>, client: TcpStream) {
    if shared.hold.load(Ordering::SeqCst) {
        shared.refused.fetch_add(1, Ordering::SeqCst);
        set_zero_linger(&client);
        return;
    }
    let Ok(server) = TcpStream::connect(shared.upstream) else {
        set_zero_linger(&client);
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let cut = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    for (from, to) in [(&client, &server), (&server, &client)] {
        let (from, to) = (from.try_clone().unwrap(), to.try_clone().unwrap());
        let cut = cut.clone();
        threads.push(std::thread::spawn(move || copy(from, to, &cut)));
    }
    shared.accepted.fetch_add(1, Ordering::SeqCst);
    shared.pairs.lock().unwrap().push(Pair {
        cut,
        threads,
        sockets: vec![client, server],
    });
}

/// Copies until EOF, an error, or the cut flag; an EOF is passed on as a FIN.
fn copy(mut from: TcpStream, mut to: TcpStream, cut: &AtomicBool) {
    let _ = from.set_read_timeout(Some(POLL));
    let mut buf = [0u8; 16 * 1024];
    while !cut.load(Ordering::SeqCst) {
        match from.read(&mut buf) {
            Ok(0) => {
                let _ = to.shutdown(Shutdown::Write);
                return;
            }
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return,
        }
    }
}

/// SO_LINGER {on, 0}: closing the socket sends RST instead of FIN.
fn set_zero_linger(s: &TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt reads `linger` for the given length only, on a socket we own.
    unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &linger as *const libc::linger as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}
