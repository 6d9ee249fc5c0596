//! `cargo bench --bench media [-- --quick]` (or MEDIA_QUICK=1): the media engine alone under N
//! concurrent two-way G.711 streams on loopback. The engine runs on its own 2-worker tokio
//! runtime; the test-side peer runs on two plain threads (one socket per stream) that every
//! 20 ms send one PCMU packet per stream, then read every socket, timing what the engine sent
//! by kernel receive timestamps (SO_TIMESTAMPNS, so the peer's own scheduling does not count).
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
use tapigw::media::{MediaCommand, MediaEngine, MediaEngineConfig, MediaHandle, StreamParams};
use tapigw::sdp::{Codec, Direction};

const STEPS: [usize; 6] = [500, 1000, 2000, 3000, 4000, 5000];
const PEER_THREADS: usize = 2;
/// Each peer thread serves its streams in this many groups, one every 20 ms / PHASES.
const PHASES: usize = 4;
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
        if n * 3 + 64 > files as usize {
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

/// One peer thread's share of the streams.
struct PeerStream {
    socket: UdpSocket,
    engine: SocketAddr,
    seq: u16,
    last_seq: Option<u16>,
    /// Kernel arrival time (CLOCK_REALTIME) of the last packet.
    last_at: Option<Duration>,
    first_seq: Option<u32>,
    max_ext: u32,
    received: u64,
}

#[derive(Default)]
struct PeerReport {
    expected: u64,
    received: u64,
    sent: u64,
    histogram: Vec<u64>,
    cpu: Duration,
}

fn run_step(handle: &MediaHandle, n: usize, plan: &Plan, next_call: &mut u64) -> StepResult {
    let mut groups: Vec<Vec<PeerStream>> = (0..PEER_THREADS).map(|_| Vec::new()).collect();
    let mut calls = Vec::with_capacity(n);
    for i in 0..n {
        let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
        peer.set_nonblocking(true).unwrap();
        enable_timestamps(&peer);
        let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let rtcp = UdpSocket::bind("127.0.0.1:0").unwrap();
        rtp.set_nonblocking(true).unwrap();
        rtcp.set_nonblocking(true).unwrap();
        let engine = rtp.local_addr().unwrap();
        let stream = StreamParams {
            remote: peer.local_addr().unwrap(),
            codec: Codec::Pcmu,
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
        groups[i % PEER_THREADS].push(PeerStream {
            socket: peer,
            engine,
            seq: 0,
            last_seq: None,
            last_at: None,
            first_seq: None,
            max_ext: 0,
            received: 0,
        });
    }
    let before = handle.counters();
    let start = Instant::now();
    let measure_from = start + plan.warmup;
    let end = measure_from + plan.measure;
    let stop = Arc::new(AtomicBool::new(false));
    let (cpu_tx, cpu_rx) = std::sync::mpsc::channel::<()>();
    let threads: Vec<_> = groups
        .into_iter()
        .map(|g| {
            let stop = stop.clone();
            let cpu_tx = cpu_tx.clone();
            std::thread::spawn(move || peer_thread(g, measure_from, end, stop, cpu_tx))
        })
        .collect();
    drop(cpu_tx);
    // CPU of the process over the measured window.
    std::thread::sleep(measure_from.saturating_duration_since(Instant::now()));
    let cpu0 = process_cpu();
    let rx0 = handle.counters().received;
    std::thread::sleep(end.saturating_duration_since(Instant::now()));
    let cpu1 = process_cpu();
    let rx1 = handle.counters().received;
    stop.store(true, Ordering::Relaxed);
    let _ = cpu_rx.recv();
    let reports: Vec<PeerReport> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    for call in calls {
        let _ = handle.send(MediaCommand::Close { call });
    }
    std::thread::sleep(Duration::from_millis(500));
    let _ = before;
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

/// Sends one packet per stream every 20 ms and times what comes back.
fn peer_thread(
    mut streams: Vec<PeerStream>,
    measure_from: Instant,
    end: Instant,
    stop: Arc<AtomicBool>,
    done: std::sync::mpsc::Sender<()>,
) -> PeerReport {
    let mut report = PeerReport {
        histogram: vec![0; BUCKETS],
        ..Default::default()
    };
    let mut buf = [0u8; 1500];
    let payload = [0xFFu8; 160];
    let mut next_send = Instant::now();
    let mut measuring = false;
    let mut cpu_start = Duration::ZERO;
    let mut ts = 0u32;
    let (len, mut phase) = (streams.len(), 0);
    let chunk = len.div_ceil(PHASES);
    loop {
        let now = Instant::now();
        if !measuring && now >= measure_from {
            measuring = true;
            cpu_start = thread_cpu();
            for s in &mut streams {
                s.first_seq = None;
                s.received = 0;
            }
        }
        if now >= end || stop.load(Ordering::Relaxed) {
            break;
        }
        // Like the engine: every 20 ms send one packet per stream, then read its socket (kernel
        // timestamps give the arrival times), a quarter of the streams every 5 ms. Nobody waits
        // on a socket, so the engine's sends wake no thread.
        let group = &mut streams[phase * chunk..((phase + 1) * chunk).min(len)];
        send_all(group, ts, &payload, &mut buf, measuring, &mut report);
        for s in group.iter_mut() {
            read_stream(s, &mut buf, measuring, &mut report.histogram);
        }
        phase = (phase + 1) % PHASES;
        if phase == 0 {
            ts = ts.wrapping_add(160);
        }
        next_send += Duration::from_millis(20) / PHASES as u32;
        std::thread::sleep(next_send.saturating_duration_since(Instant::now()));
    }
    report.cpu = thread_cpu().saturating_sub(cpu_start);
    for s in &streams {
        if let Some(first) = s.first_seq {
            report.expected += u64::from(s.max_ext - first + 1);
            report.received += s.received;
        }
    }
    let _ = done.send(());
    report
}

fn send_all(
    streams: &mut [PeerStream],
    ts: u32,
    payload: &[u8],
    buf: &mut [u8],
    measuring: bool,
    report: &mut PeerReport,
) {
    for s in streams.iter_mut() {
        let h = RtpHeader {
            payload_type: 0,
            marker: s.seq == 0,
            sequence: s.seq,
            timestamp: ts,
            ssrc: 0x7E57,
        };
        s.seq = s.seq.wrapping_add(1);
        let n = rtp::write(&h, payload, buf).unwrap();
        if s.socket.send_to(&buf[..n], s.engine).is_ok() && measuring {
            report.sent += 1;
        }
    }
}

/// Receives one datagram with its kernel arrival time (SO_TIMESTAMPNS), so the peer's own
/// scheduling delays do not count as the engine's jitter.
fn recv_stamped(fd: i32, buf: &mut [u8]) -> Option<(usize, Duration)> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let mut control = [0u64; 16];
    // SAFETY: msghdr points at live buffers for the duration of the call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control) as _;
    let n = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_DONTWAIT) };
    if n < 0 {
        return None;
    }
    let mut stamp = Duration::ZERO;
    // SAFETY: walking the control messages the kernel wrote.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_TIMESTAMPNS {
                let ts = std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const libc::timespec);
                stamp = Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    Some((n as usize, stamp))
}

fn enable_timestamps(socket: &UdpSocket) {
    let on: libc::c_int = 1;
    // SAFETY: setsockopt with a valid int option value.
    unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as u32,
        );
    }
}

fn read_stream(s: &mut PeerStream, buf: &mut [u8], measuring: bool, histogram: &mut [u64]) {
    let fd = s.socket.as_raw_fd();
    while let Some((n, at)) = recv_stamped(fd, buf) {
        let Ok((h, _)) = rtp::parse(&buf[..n]) else {
            continue;
        };
        if h.payload_type != 0 {
            // RTCP of another stream that landed on this port (they go to RTP port + 1).
            continue;
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
                    (prev as i64 + i64::from(delta)) as u32
                }
            };
            s.max_ext = s.max_ext.max(ext).max(s.first_seq.unwrap_or(0));
            s.received += 1;
        }
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
