//! `cargo bench --bench load [-- --quick]` (or LOAD_QUICK=1): the gateway under SIPp load on
//! loopback, side by side with SIPp's own limit on this machine. Prints a table and, last,
//!
//! RESULT outbound_cps=N inbound_cps=N reply_p50_us=N reply_p99_us=N concurrent_calls=N
//!        rss_per_call_bytes=N sipp_cps=N ratio=R
//!
//! Phases: reference (SIPp uac -> SIPp uas), outbound (load app -> gateway -> SIPp uas, RTP
//! sockets per call), inbound (SIPp uac -> gateway -> load app answering), concurrency (calls
//! held, signalling-only media). A rate is "held" when every call of the step succeeded on both
//! sides and none was left open (SIPp's statistics file, not only its exit code).

mod app;
#[path = "../../tests/common/proc_net.rs"]
mod proc_net;
mod procfs;
mod sipp;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use app::{quantile, Outcome, Work};
use sipp::{Sipp, SippStats};

const RATES: [u64; 5] = [500, 1000, 2000, 4000, 6000];
const CONNECTIONS: usize = 4;

struct Plan {
    quick: bool,
    step: Duration,
    hold_ramp: Duration,
    hold: Duration,
    hold_rate: u64,
}

fn plan() -> Plan {
    let quick = std::env::args().any(|a| a == "--quick")
        || std::env::var("LOAD_QUICK").is_ok_and(|v| v == "1");
    if quick {
        Plan {
            quick,
            step: Duration::from_secs(2),
            hold_ramp: Duration::from_secs(6),
            hold: Duration::from_secs(6),
            hold_rate: 5000,
        }
    } else {
        Plan {
            quick,
            step: Duration::from_secs(12),
            hold_ramp: Duration::from_secs(20),
            hold: Duration::from_secs(30),
            hold_rate: 3000,
        }
    }
}

fn free_port() -> u16 {
    loop {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if port % 2 == 0 && std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// The real gateway binary with a bench configuration.
struct Gateway {
    child: Child,
    api: SocketAddr,
    sip: SocketAddr,
}

impl Gateway {
    fn start(dir: &Path, name: &str, proxy: u16, media: &str) -> Gateway {
        let (sip, api) = (free_port(), free_port());
        let path = dir.join(format!("{name}.toml"));
        std::fs::write(
            &path,
            format!(
                "[sip]\nlisten = \"127.0.0.1:{sip}\"\ninvite_rate_per_source = 0\nmax_server_transactions = 10000000\n[api]\nlisten = \"127.0.0.1:{api}\"\nmax_outgoing_messages = 1000000\n\
                 max_calls_per_line = 1000000\nmax_pending_requests = 1000000\n\
                 [media]\nmode = \"{media}\"\naddress = \"127.0.0.1\"\nport_min = 20000\nport_max = 32766\n\
                 [[lines]]\nuser = \"1001\"\ndomain = \"127.0.0.1\"\nproxy = \"127.0.0.1:{proxy}\"\n"
            ),
        )
        .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_tapigw"))
            .arg("--config")
            .arg(&path)
            .env("RUST_LOG", "warn,tapigw::runtime=info")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("tapigw binary");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        loop {
            let line = rx
                .recv_timeout(Duration::from_secs(20))
                .expect("tapigw did not start");
            if line.contains("tapigw listening") {
                break;
            }
        }
        Gateway {
            child,
            api: ([127, 0, 0, 1], api).into(),
            sip: ([127, 0, 0, 1], sip).into(),
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

/// One row of the table.
struct Row {
    phase: &'static str,
    rate: u64,
    calls: u64,
    ok: bool,
    detail: String,
    cpu_s: f64,
    peak_rss_mb: f64,
}

fn print_row(r: &Row) {
    println!(
        "{:<13} {:>6} {:>8} {:>6} {:>8.2} {:>9.1}  {}",
        r.phase,
        r.rate,
        r.calls,
        if r.ok { "clean" } else { "FAIL" },
        r.cpu_s,
        r.peak_rss_mb,
        r.detail
    );
}

/// Samples the peak RSS of `pid` until `stop` is set.
fn rss_sampler(
    pid: u32,
) -> (
    std::sync::Arc<std::sync::atomic::AtomicBool>,
    std::thread::JoinHandle<u64>,
) {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    let handle = std::thread::spawn(move || {
        let mut peak = 0;
        while !flag.load(std::sync::atomic::Ordering::Relaxed) {
            peak = peak.max(procfs::rss(pid));
            std::thread::sleep(Duration::from_millis(100));
        }
        peak.max(procfs::rss(pid))
    });
    (stop, handle)
}

fn uas(dir: &Path, name: String, port: u16, calls: u64, limit: Duration) -> Sipp {
    let args = [
        "-sn",
        "uas",
        "-p",
        &port.to_string(),
        "-m",
        &calls.to_string(),
    ]
    .map(String::from);
    let server = Sipp::start(dir, &name, &args, limit);
    // An INVITE to a port nobody holds yet draws ICMP port unreachable: the call fails at once.
    server.wait_bound(port);
    server
}

fn reference(dir: &Path, plan: &Plan, rows: &mut Vec<Row>) -> u64 {
    let mut best = 0;
    for rate in RATES {
        let calls = rate * plan.step.as_secs();
        let port = free_port();
        let limit = plan.step + Duration::from_secs(40);
        let server = uas(dir, format!("ref-uas-{rate}"), port, calls, limit);
        let args = [
            format!("127.0.0.1:{port}"),
            "-sn".into(),
            "uac".into(),
            "-r".into(),
            rate.to_string(),
            "-m".into(),
            calls.to_string(),
        ];
        let client = Sipp::start(dir, &format!("ref-uac-{rate}"), &args, limit);
        let c = client.finish(limit + Duration::from_secs(5));
        let s = server.finish(Duration::from_secs(15));
        let ok = c.clean(calls) && s.clean(calls);
        rows.push(Row {
            phase: "sipp-ref",
            rate,
            calls,
            ok,
            detail: sipp_detail(&c, &s),
            cpu_s: 0.0,
            peak_rss_mb: 0.0,
        });
        print_row(rows.last().unwrap());
        if !ok {
            break;
        }
        best = rate;
    }
    best
}

fn sipp_detail(a: &SippStats, b: &SippStats) -> String {
    format!(
        "sipp created/ok/failed {}/{}/{} and {}/{}/{}",
        a.created, a.successful, a.failed, b.created, b.successful, b.failed
    )
}

struct Measured {
    best: u64,
    reply_p50: u64,
    reply_p99: u64,
}

fn outbound(
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    plan: &Plan,
    media: &str,
    rows: &mut Vec<Row>,
) -> Measured {
    let provider = free_port();
    let gw = Gateway::start(dir, &format!("outbound-{media}"), provider, media);
    let mut m = Measured {
        best: 0,
        reply_p50: 0,
        reply_p99: 0,
    };
    for rate in RATES {
        let calls = rate * plan.step.as_secs();
        let server = uas(
            dir,
            format!("out-uas-{media}-{rate}"),
            provider,
            calls,
            plan.step + Duration::from_secs(40),
        );
        let (cpu0, (stop, sampler)) = (procfs::cpu_time(gw.pid()), rss_sampler(gw.pid()));
        let deadline = tokio::time::Instant::now() + plan.step + Duration::from_secs(20);
        let work = Work::Outbound {
            calls,
            rate: rate as f64,
            hold: Duration::ZERO,
        };
        let mut o: Outcome = rt.block_on(app::run(gw.api, CONNECTIONS, work, deadline));
        let s = server.finish(Duration::from_secs(15));
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let peak = sampler.join().unwrap();
        let ok = o.failed == 0 && o.ended == calls && s.clean(calls);
        let (p50, p99) = (
            quantile(&mut o.reply_us, 0.5),
            quantile(&mut o.reply_us, 0.99),
        );
        if rate == 1000 {
            (m.reply_p50, m.reply_p99) = (p50, p99);
        }
        rows.push(Row {
            phase: if media == "rtp" {
                "outbound"
            } else {
                "outbound-none"
            },
            rate,
            calls,
            ok,
            detail: format!(
                "app ended/failed {}/{}, reply p50/p99 {p50}/{p99} us, connect p99 {} us, {}",
                o.ended,
                o.failed,
                quantile(&mut o.connect_us, 0.99),
                sipp_detail(&s, &s)
            ),
            cpu_s: (procfs::cpu_time(gw.pid()) - cpu0).as_secs_f64(),
            peak_rss_mb: peak as f64 / 1e6,
        });
        print_row(rows.last().unwrap());
        if !ok {
            break;
        }
        m.best = rate;
    }
    m
}

fn inbound(rt: &tokio::runtime::Runtime, dir: &Path, plan: &Plan, rows: &mut Vec<Row>) -> u64 {
    let gw = Gateway::start(dir, "inbound", free_port(), "rtp");
    let mut best = 0;
    for rate in RATES {
        let calls = rate * plan.step.as_secs();
        let (cpu0, (stop, sampler)) = (procfs::cpu_time(gw.pid()), rss_sampler(gw.pid()));
        let deadline = tokio::time::Instant::now() + plan.step + Duration::from_secs(25);
        let app = rt.spawn(app::run(gw.api, 1, Work::Inbound { calls }, deadline));
        // Let the app open its line before the first INVITE.
        std::thread::sleep(Duration::from_millis(300));
        let args = [
            gw.sip.to_string(),
            "-sn".into(),
            "uac".into(),
            "-s".into(),
            "1001".into(),
            "-r".into(),
            rate.to_string(),
            "-m".into(),
            calls.to_string(),
            "-d".into(),
            "0".into(),
        ];
        let caller = Sipp::start(
            dir,
            &format!("in-uac-{rate}"),
            &args,
            plan.step + Duration::from_secs(40),
        );
        let c = caller.finish(plan.step + Duration::from_secs(45));
        let mut o = rt.block_on(app).unwrap();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let peak = sampler.join().unwrap();
        let ok = c.clean(calls) && o.ended == calls;
        rows.push(Row {
            phase: "inbound",
            rate,
            calls,
            ok,
            detail: format!(
                "app answered/ended {}/{}, connect p99 {} us, sipp ok/failed {}/{}",
                o.placed,
                o.ended,
                quantile(&mut o.connect_us, 0.99),
                c.successful,
                c.failed
            ),
            cpu_s: (procfs::cpu_time(gw.pid()) - cpu0).as_secs_f64(),
            peak_rss_mb: peak as f64 / 1e6,
        });
        print_row(rows.last().unwrap());
        if !ok {
            break;
        }
        best = rate;
    }
    best
}

fn concurrency(
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    plan: &Plan,
    rows: &mut Vec<Row>,
) -> (u64, u64) {
    let provider = free_port();
    let gw = Gateway::start(dir, "concurrency", provider, "none");
    let calls = plan.hold_rate * plan.hold_ramp.as_secs();
    let limit = plan.hold_ramp + plan.hold + Duration::from_secs(60);
    let server = uas(dir, "hold-uas".into(), provider, calls, limit);
    // Warm the gateway (allocator, tables) before the baseline.
    std::thread::sleep(Duration::from_millis(200));
    let baseline = procfs::rss(gw.pid());
    let (cpu0, (stop, sampler)) = (procfs::cpu_time(gw.pid()), rss_sampler(gw.pid()));
    let deadline = tokio::time::Instant::now() + limit;
    let work = Work::Outbound {
        calls,
        rate: plan.hold_rate as f64,
        hold: plan.hold,
    };
    let o = rt.block_on(app::run(gw.api, CONNECTIONS, work, deadline));
    let s = server.finish(Duration::from_secs(20));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let peak = sampler.join().unwrap();
    let live = o.max_live;
    let per_call = peak.saturating_sub(baseline) / live.max(1);
    let ok = o.failed == 0 && o.ended == calls && s.clean(calls);
    rows.push(Row {
        phase: "concurrency",
        rate: plan.hold_rate,
        calls,
        ok,
        detail: format!(
            "live {live}, RSS {:.1} -> {:.1} MB = {per_call} B/call, hold {} s, {}",
            baseline as f64 / 1e6,
            peak as f64 / 1e6,
            plan.hold.as_secs(),
            sipp_detail(&s, &s)
        ),
        cpu_s: (procfs::cpu_time(gw.pid()) - cpu0).as_secs_f64(),
        peak_rss_mb: peak as f64 / 1e6,
    });
    print_row(rows.last().unwrap());
    (if ok { live } else { 0 }, per_call)
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this binary without it, and a
    // load test has no place in the unit test run.
    if !std::env::args().any(|a| a == "--bench") {
        println!("load bench: run it with `cargo bench --bench load [-- --quick]`");
        return;
    }
    let plan = plan();
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "tapigw load bench ({} mode, {} s steps, rates {:?} calls/s)",
        if plan.quick { "quick" } else { "full" },
        plan.step.as_secs(),
        RATES
    );
    println!(
        "{:<13} {:>6} {:>8} {:>6} {:>8} {:>9}  detail",
        "phase", "cps", "calls", "result", "gw cpu s", "gw rss MB"
    );
    let started = Instant::now();
    let mut rows = Vec::new();
    // `--only PHASE` (reference, outbound, inbound, concurrency) runs one phase, for profiling.
    let only = std::env::args().skip_while(|a| a != "--only").nth(1);
    let run = |phase: &str| only.as_deref().is_none_or(|o| o == phase);
    let sipp_cps = if run("reference") {
        reference(dir.path(), &plan, &mut rows)
    } else {
        0
    };
    let out = if run("outbound") {
        outbound(&rt, dir.path(), &plan, "rtp", &mut rows)
    } else {
        Measured {
            best: 0,
            reply_p50: 0,
            reply_p99: 0,
        }
    };
    if !plan.quick && run("outbound") {
        outbound(&rt, dir.path(), &plan, "none", &mut rows);
    }
    let inbound_cps = if run("inbound") {
        inbound(&rt, dir.path(), &plan, &mut rows)
    } else {
        0
    };
    let (live, per_call) = if run("concurrency") {
        concurrency(&rt, dir.path(), &plan, &mut rows)
    } else {
        (0, 0)
    };
    let ratio = if sipp_cps == 0 {
        0.0
    } else {
        out.best as f64 / sipp_cps as f64
    };
    println!("bench took {:.0} s", started.elapsed().as_secs_f64());
    println!(
        "RESULT outbound_cps={} inbound_cps={} reply_p50_us={} reply_p99_us={} concurrent_calls={} rss_per_call_bytes={} sipp_cps={} ratio={:.2}",
        out.best, inbound_cps, out.reply_p50, out.reply_p99, live, per_call, sipp_cps, ratio
    );
}
