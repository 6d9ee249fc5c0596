//! `cargo bench --bench media [-- --quick]` (or MEDIA_QUICK=1): the media engine alone under N
//! concurrent two-way G.711 streams on loopback. The engine runs on its own 2-worker tokio
//! runtime; the test-side peer runs on two plain threads with two sockets each, every socket
//! carrying many streams (sendmmsg/recvmmsg, streams told apart by the engine's source port),
//! so the peer costs little beside the engine. Every 20 ms the peer sends one PCMU packet per
//! stream and reads its sockets, timing what the engine sent by kernel receive timestamps
//! (SO_TIMESTAMPNS, so the peer's own scheduling does not count).
//! For each step it
//! prints packet loss both ways (engine -> peer: packets received against the 50 per
//! stream-second owed, so slots the engine skipped count as lost; peer -> engine: datagrams
//! the engine read against those sent), the p99 of the packet interval's deviation from 20 ms, and
//! CPU microseconds per stream-second of the engine (process CPU minus the peer threads' own,
//! from getrusage), then, last,
//!
//! RESULT media_streams=N loss_pct=X jitter_p99_ms=X engine_cpu_us_per_stream_s=X
//!
//! where N is the largest step with < 1 % loss both ways and p99 jitter < 5 ms.

use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tapigw::media::rtp::{self, RtpHeader};
use tapigw::media::{
    MediaCommand, MediaEngine, MediaEngineConfig, MediaHandle, MediaSocket, StreamParams,
};
use tapigw::sdp::{Codec, Direction};

const STEPS: [usize; 6] = [500, 1000, 2000, 3000, 4000, 5000];
const PEER_THREADS: usize = 2;
/// Each peer thread serves its streams in this many groups, one every 20 ms / PHASES.
const PHASES: usize = 4;
/// Sockets per peer thread; each carries many streams (sendmmsg/recvmmsg).
const SOCKETS_PER_THREAD: usize = 2;
/// Datagrams per sendmmsg/recvmmsg.
const BATCH: usize = 64;
/// Histogram of |interval - 20 ms| in 10 µs buckets up to 100 ms.
const BUCKETS: usize = 10_000;

struct Plan {
    warmup: Duration,
    measure: Duration,
}

fn plan() -> Plan {
    let quick = std::env::args().any(|a| a == "--quick")
        || std::env::var("MEDIA_QUICK").is_ok_and(|v| v == "1");
    if quick {
        Plan {
            warmup: Duration::from_secs(2),
            measure: Duration::from_secs(4),
        }
    } else {
        Plan {
            warmup: Duration::from_secs(3),
            measure: Duration::from_secs(12),
        }
    }
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this binary without it.
    if !std::env::args().any(|a| a == "--bench") {
        println!("media bench: run it with `cargo bench --bench media [-- --quick]`");
        return;
    }
    session_cost();
    let files = raise_fd_limit();
    let plan = plan();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel(65536);
    let handle = rt.block_on(async { MediaEngine::start(MediaEngineConfig::default(), tx) });
    rt.spawn(async move { while rx.recv().await.is_some() {} });
    println!("streams  loss e->p %  loss p->e %  jitter p99 ms  engine cpu us/stream-s  peer cpu us/stream-s");
    let mut best: Option<StepResult> = None;
    // `-- --all` (or MEDIA_ALL=1): go on past a step over the jitter limit, up to 5 % loss.
    let keep_going = std::env::args().any(|a| a == "--all")
        || std::env::var("MEDIA_ALL").is_ok_and(|v| v == "1");
    let mut next_call = 1u64;
    for n in STEPS {
        if n * 2 + 64 > files as usize {
            println!("{n:>7}  skipped: the open-file limit {files} is too low");
            break;
        }
        let r = run_step(&handle, n, &plan, &mut next_call);
        println!(
            "{:>7}  {:>11.3}  {:>11.3}  {:>13.2}  {:>22.1}  {:>20.1}",
            n, r.loss_out, r.loss_in, r.jitter_p99_ms, r.engine_us, r.peer_us
        );
        let clean = r.loss_out < 1.0 && r.loss_in < 1.0 && r.jitter_p99_ms < 5.0;
        let lossy = r.loss_out >= 5.0 || r.loss_in >= 5.0;
        if clean {
            best = Some(r);
        } else if !keep_going || lossy {
            break;
        }
    }
    match best {
        Some(r) => println!(
            "RESULT media_streams={} loss_pct={:.3} jitter_p99_ms={:.2} engine_cpu_us_per_stream_s={:.1}",
            r.streams, r.loss_out.max(r.loss_in), r.jitter_p99_ms, r.engine_us
        ),
        None => println!("RESULT media_streams=0"),
    }
}

/// The sans-I/O part alone: one packet in and one out per session per 20 ms slot, no sockets.
fn session_cost() {
    use rand::SeedableRng;
    use tapigw::media::session::MediaSession;
    let mut rng = rand::rngs::SmallRng::seed_from_u64(1);
    let t0 = Instant::now();
    let params = StreamParams {
        remote: "127.0.0.1:5000".parse().unwrap(),
        codec: Codec::Pcmu,
        payload_type: 0,
        telephone_event: Some(101),
        direction: Direction::SendRecv,
    };
    let wall = std::time::SystemTime::now();
    let mut sessions: Vec<MediaSession> = (0..1000)
        .map(|_| MediaSession::new(params, t0, wall, &mut rng))
        .collect();
    let mut buf = [0u8; 200];
    let from = params.remote;
    let (slots, mut bytes) = (500u32, 0usize);
    let start = Instant::now();
    for k in 0..slots {
        let now = t0 + Duration::from_millis(20 * u64::from(k));
        let h = RtpHeader {
            payload_type: 0,
            marker: false,
            sequence: k as u16,
            timestamp: k * 160,
            ssrc: 1,
        };
        let n = rtp::write(&h, &[0xFF; 160], &mut buf).unwrap();
        for s in sessions.iter_mut() {
            s.handle_rtp(&buf[..n], from, now);
            s.handle_tick(now);
            s.drain_transmits(|_, _, b| bytes += b.len());
        }
    }
    let per_slot = start.elapsed().as_secs_f64() * 1e6 / (f64::from(slots) * 1000.0);
    println!(
        "session (sans-I/O) work: {per_slot:.2} us per stream per 20 ms slot ({bytes} bytes out)"
    );
}

struct StepResult {
    streams: usize,
    loss_out: f64,
    loss_in: f64,
    jitter_p99_ms: f64,
    engine_us: f64,
    peer_us: f64,
}

/// One stream as the peer sees it.
struct PeerStream {
    /// The engine session's RTP socket.
    engine: libc::sockaddr_in,
    /// Which of the thread's sockets it uses.
    socket: usize,
    seq: u16,
    last_seq: Option<u16>,
    /// Kernel arrival time (CLOCK_REALTIME) of the last packet.
    last_at: Option<Duration>,
    first_seq: Option<u32>,
    max_ext: u32,
    received: u64,
}

/// One peer thread's share: a few sockets, each carrying many streams.
struct PeerGroup {
    sockets: Vec<UdpSocket>,
    streams: Vec<PeerStream>,
    /// Engine RTP port -> index in `streams` (u32::MAX: none).
    by_port: Vec<u32>,
}

#[derive(Default)]
struct PeerReport {
    expected: u64,
    received: u64,
    sent: u64,
    histogram: Vec<u64>,
    cpu: Duration,
}

fn peer_socket() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_nonblocking(true).unwrap();
    let fd = s.as_raw_fd();
    let set = |opt: i32, v: libc::c_int| {
        // SAFETY: setsockopt with a valid int option value.
        unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                opt,
                (&v as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as u32,
            )
        }
    };
    set(libc::SO_TIMESTAMPNS, 1);
    // Room for a few ticks of a thousand streams; SO_RCVBUFFORCE needs root.
    if set(libc::SO_RCVBUFFORCE, 16 << 20) != 0 {
        set(libc::SO_RCVBUF, 16 << 20);
    }
    s
}

fn sockaddr_in(addr: SocketAddr) -> libc::sockaddr_in {
    let SocketAddr::V4(v4) = addr else {
        panic!("IPv4 only");
    };
    libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: v4.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(*v4.ip()).to_be(),
        },
        sin_zero: [0; 8],
    }
}

fn run_step(handle: &MediaHandle, n: usize, plan: &Plan, next_call: &mut u64) -> StepResult {
    let mut groups: Vec<PeerGroup> = (0..PEER_THREADS)
        .map(|_| PeerGroup {
            sockets: (0..SOCKETS_PER_THREAD).map(|_| peer_socket()).collect(),
            streams: Vec::new(),
            by_port: vec![u32::MAX; 65536],
        })
        .collect();
    let mut calls = Vec::with_capacity(n);
    for i in 0..n {
        let group = &mut groups[i % PEER_THREADS];
        let socket = (i / PEER_THREADS) % SOCKETS_PER_THREAD;
        let rtp = MediaSocket::bind("127.0.0.1:0").unwrap();
        let rtcp = MediaSocket::bind("127.0.0.1:0").unwrap();
        let engine = rtp.local_addr().unwrap();
        let stream = StreamParams {
            remote: group.sockets[socket].local_addr().unwrap(),
            codec: Codec::Pcmu,
            payload_type: 0,
            telephone_event: Some(101),
            direction: Direction::SendRecv,
        };
        let call = *next_call;
        *next_call += 1;
        handle
            .send(MediaCommand::Open {
                call,
                rtp,
                rtcp,
                stream,
            })
            .expect("command queue");
        calls.push(call);
        group.by_port[usize::from(engine.port())] = group.streams.len() as u32;
        group.streams.push(PeerStream {
            engine: sockaddr_in(engine),
            socket,
            seq: 0,
            last_seq: None,
            last_at: None,
            first_seq: None,
            max_ext: 0,
            received: 0,
        });
    }
    let start = Instant::now();
    let measure_from = start + plan.warmup;
    let end = measure_from + plan.measure;
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = groups
        .into_iter()
        .map(|g| {
            let stop = stop.clone();
            std::thread::spawn(move || peer_thread(g, measure_from, end, stop))
        })
        .collect();
    // CPU of the process over the measured window.
    std::thread::sleep(measure_from.saturating_duration_since(Instant::now()));
    let cpu0 = process_cpu();
    let rx0 = handle.counters().received;
    std::thread::sleep(end.saturating_duration_since(Instant::now()));
    let cpu1 = process_cpu();
    let rx1 = handle.counters().received;
    stop.store(true, Ordering::Relaxed);
    let reports: Vec<PeerReport> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    for call in calls {
        let _ = handle.send(MediaCommand::Close { call });
    }
    std::thread::sleep(Duration::from_millis(500));
    summarise(n, plan, reports, cpu1.saturating_sub(cpu0), rx1 - rx0)
}

fn summarise(
    n: usize,
    plan: &Plan,
    reports: Vec<PeerReport>,
    process: Duration,
    engine_rx: u64,
) -> StepResult {
    let mut histogram = vec![0u64; BUCKETS];
    let (mut expected, mut received, mut sent, mut peer_cpu) = (0, 0, 0, Duration::ZERO);
    for r in &reports {
        for (h, v) in histogram.iter_mut().zip(&r.histogram) {
            *h += v;
        }
        expected += r.expected;
        received += r.received;
        sent += r.sent;
        peer_cpu += r.cpu;
    }
    // MEDIA_DEBUG=1: the shape of the interval distribution.
    if std::env::var("MEDIA_DEBUG").is_ok() {
        let total: u64 = histogram.iter().sum();
        let over = |ms: usize| {
            histogram[ms * 100..].iter().sum::<u64>() as f64 / total.max(1) as f64 * 100.0
        };
        eprintln!(
            "  intervals {total}: p50 {} p90 {} p99 {} (x10us); >2ms {:.2}% >5ms {:.2}% >15ms {:.2}%",
            quantile(&histogram, 0.5), quantile(&histogram, 0.9), quantile(&histogram, 0.99), over(2), over(5), over(15)
        );
    }
    let stream_seconds = n as f64 * plan.measure.as_secs_f64();
    let engine_cpu = process.saturating_sub(peer_cpu);
    // The engine's count includes a few RTCP datagrams (RTCP goes to RTP port + 1, which may
    // be another stream's socket): negligible.
    let loss_in = if sent == 0 {
        100.0
    } else {
        (1.0 - engine_rx as f64 / sent as f64).max(0.0) * 100.0
    };
    // The engine owes 50 packets per stream-second; a slot it skipped (too late to send) leaves
    // no sequence gap, so received packets are counted against time as well.
    let owed = (stream_seconds * 50.0).max(expected as f64);
    StepResult {
        streams: n,
        loss_out: (1.0 - received as f64 / owed).max(0.0) * 100.0,
        loss_in,
        jitter_p99_ms: quantile(&histogram, 0.99) as f64 * 0.01,
        engine_us: engine_cpu.as_micros() as f64 / stream_seconds,
        peer_us: peer_cpu.as_micros() as f64 / stream_seconds,
    }
}

fn quantile(h: &[u64], q: f64) -> usize {
    let total: u64 = h.iter().sum();
    let target = (total as f64 * q).ceil() as u64;
    let mut acc = 0;
    for (i, &c) in h.iter().enumerate() {
        acc += c;
        if acc >= target {
            return i;
        }
    }
    h.len()
}

/// Every 20 ms sends one packet per stream (a quarter of the streams every 5 ms) with
/// sendmmsg, and reads its sockets with recvmmsg, timing packets by their kernel timestamps.
fn peer_thread(
    mut g: PeerGroup,
    measure_from: Instant,
    end: Instant,
    stop: Arc<AtomicBool>,
) -> PeerReport {
    let mut report = PeerReport {
        histogram: vec![0; BUCKETS],
        ..Default::default()
    };
    let mut next = Instant::now();
    let mut measuring = false;
    let mut cpu_start = Duration::ZERO;
    let mut ts = 0u32;
    let (len, mut phase) = (g.streams.len(), 0);
    let chunk = len.div_ceil(PHASES);
    loop {
        let now = Instant::now();
        if !measuring && now >= measure_from {
            measuring = true;
            cpu_start = thread_cpu();
            for s in &mut g.streams {
                s.first_seq = None;
                s.received = 0;
            }
        }
        if now >= end || stop.load(Ordering::Relaxed) {
            break;
        }
        let range = (phase * chunk).min(len)..((phase + 1) * chunk).min(len);
        for socket in 0..g.sockets.len() {
            let sent = send_batch(
                &g.sockets[socket],
                &mut g.streams[range.clone()],
                socket,
                ts,
            );
            if measuring {
                report.sent += sent;
            }
            receive(
                &g.sockets[socket],
                &mut g.streams,
                &g.by_port,
                measuring,
                &mut report.histogram,
            );
        }
        phase = (phase + 1) % PHASES;
        if phase == 0 {
            ts = ts.wrapping_add(160);
        }
        next += Duration::from_millis(20) / PHASES as u32;
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    report.cpu = thread_cpu().saturating_sub(cpu_start);
    for s in &g.streams {
        if let Some(first) = s.first_seq {
            report.expected += u64::from(s.max_ext - first + 1);
            report.received += s.received;
        }
    }
    report
}

/// Sends one packet for each stream of `streams` that uses `socket`, BATCH at a time.
fn send_batch(sock: &UdpSocket, streams: &mut [PeerStream], socket: usize, ts: u32) -> u64 {
    let mut bufs = [[0u8; 172]; BATCH];
    let mut names = [sockaddr_in("127.0.0.1:9".parse().unwrap()); BATCH];
    let mut sent = 0;
    let mut mine = streams.iter_mut().filter(|s| s.socket == socket).peekable();
    while mine.peek().is_some() {
        let mut k = 0;
        for s in mine.by_ref().take(BATCH) {
            let h = RtpHeader {
                payload_type: 0,
                marker: s.seq == 0,
                sequence: s.seq,
                timestamp: ts,
                ssrc: 0x7E57,
            };
            s.seq = s.seq.wrapping_add(1);
            rtp::write(&h, &[0xFF; 160], &mut bufs[k]).unwrap();
            names[k] = s.engine;
            k += 1;
        }
        sent += sendmmsg(sock, &mut bufs[..k], &mut names[..k]);
    }
    sent
}

/// One iovec per buffer.
fn iovecs<const N: usize>(bufs: &mut [[u8; N]]) -> Vec<libc::iovec> {
    bufs.iter_mut()
        .map(|b| libc::iovec {
            iov_base: b.as_mut_ptr().cast(),
            iov_len: N,
        })
        .collect()
}

fn sendmmsg(sock: &UdpSocket, bufs: &mut [[u8; 172]], names: &mut [libc::sockaddr_in]) -> u64 {
    let n = bufs.len();
    let mut iovs = iovecs(bufs);
    // SAFETY: zeroed mmsghdr is valid; each points at live iovecs and names for the call.
    let mut msgs: Vec<libc::mmsghdr> = (0..n).map(|_| unsafe { std::mem::zeroed() }).collect();
    for (i, m) in msgs.iter_mut().enumerate() {
        m.msg_hdr.msg_name = (&mut names[i] as *mut libc::sockaddr_in).cast();
        m.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as u32;
        m.msg_hdr.msg_iov = &mut iovs[i];
        m.msg_hdr.msg_iovlen = 1;
    }
    let mut done = 0;
    while done < n {
        // SAFETY: sendmmsg over the prepared headers.
        let r = unsafe {
            libc::sendmmsg(
                sock.as_raw_fd(),
                msgs[done..].as_mut_ptr(),
                (n - done) as u32,
                0,
            )
        };
        if r <= 0 {
            break;
        }
        done += r as usize;
    }
    done as u64
}

/// Reads what `sock` holds, BATCH datagrams per recvmmsg.
fn receive(
    sock: &UdpSocket,
    streams: &mut [PeerStream],
    by_port: &[u32],
    measuring: bool,
    histogram: &mut [u64],
) {
    let mut bufs = vec![[0u8; 512]; BATCH];
    let mut names: Vec<libc::sockaddr_in> =
        vec![sockaddr_in("127.0.0.1:9".parse().unwrap()); BATCH];
    let mut controls = vec![[0u64; 8]; BATCH];
    let mut iovs = iovecs(&mut bufs);
    // SAFETY: zeroed mmsghdr is valid; pointers are set to live buffers below.
    let mut msgs: Vec<libc::mmsghdr> = (0..BATCH).map(|_| unsafe { std::mem::zeroed() }).collect();
    loop {
        for (i, m) in msgs.iter_mut().enumerate() {
            m.msg_hdr.msg_name = (&mut names[i] as *mut libc::sockaddr_in).cast();
            m.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as u32;
            m.msg_hdr.msg_iov = &mut iovs[i];
            m.msg_hdr.msg_iovlen = 1;
            m.msg_hdr.msg_control = controls[i].as_mut_ptr().cast();
            m.msg_hdr.msg_controllen = std::mem::size_of_val(&controls[i]) as _;
        }
        // SAFETY: recvmmsg into the prepared headers.
        let r = unsafe {
            libc::recvmmsg(
                sock.as_raw_fd(),
                msgs.as_mut_ptr(),
                BATCH as u32,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if r <= 0 {
            return;
        }
        for i in 0..r as usize {
            let port = u16::from_be(names[i].sin_port);
            let index = by_port[usize::from(port)];
            if index == u32::MAX {
                continue;
            }
            let at = timestamp(&msgs[i].msg_hdr);
            let data = &bufs[i][..msgs[i].msg_len as usize];
            account(&mut streams[index as usize], data, at, measuring, histogram);
        }
        if (r as usize) < BATCH {
            return;
        }
    }
}

fn timestamp(msg: &libc::msghdr) -> Duration {
    // SAFETY: walking the control messages the kernel wrote.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_TIMESTAMPNS {
                let ts = std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const libc::timespec);
                return Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
            }
            c = libc::CMSG_NXTHDR(msg, c);
        }
    }
    Duration::ZERO
}

fn account(s: &mut PeerStream, data: &[u8], at: Duration, measuring: bool, histogram: &mut [u64]) {
    let Ok((h, _)) = rtp::parse(data) else {
        return;
    };
    if h.payload_type != 0 {
        return;
    }
    if let (Some(last_seq), Some(last_at)) = (s.last_seq, s.last_at) {
        if h.sequence == last_seq.wrapping_add(1) && measuring {
            let interval = at.saturating_sub(last_at).as_micros() as i64;
            let dev = (interval - 20_000).unsigned_abs() / 10;
            histogram[(dev as usize).min(BUCKETS - 1)] += 1;
        }
    }
    s.last_seq = Some(h.sequence);
    s.last_at = Some(at);
    if measuring {
        // Extended sequence numbers (the window is shorter than a wrap).
        let ext = match s.first_seq {
            None => {
                let e = u32::from(h.sequence) + 65536;
                s.first_seq = Some(e);
                e
            }
            Some(_) => {
                let prev = s.max_ext;
                let delta = h.sequence.wrapping_sub(prev as u16) as i16;
                (i64::from(prev) + i64::from(delta)) as u32
            }
        };
        s.max_ext = s.max_ext.max(ext).max(s.first_seq.unwrap_or(0));
        s.received += 1;
    }
}

fn rusage(who: i32) -> Duration {
    // SAFETY: getrusage writes into the struct we pass.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(who, &mut u) };
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    tv(u.ru_utime) + tv(u.ru_stime)
}

fn process_cpu() -> Duration {
    rusage(libc::RUSAGE_SELF)
}

fn thread_cpu() -> Duration {
    rusage(libc::RUSAGE_THREAD)
}

/// Raises the open-file limit to the hard limit; returns it.
fn raise_fd_limit() -> u64 {
    // SAFETY: get/setrlimit on our own process.
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut r);
        r.rlim_cur = r.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &r);
    }
    r.rlim_cur
}
