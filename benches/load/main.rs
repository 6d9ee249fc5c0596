//! `cargo bench --bench load [-- --quick | --smoke]` (or LOAD_QUICK=1): the gateway under SIPp
//! load on loopback, side by side with SIPp's own ceiling on this machine. Prints a table and,
//! last,
//!
//! RESULT outbound_cps=N inbound_cps=N reply_p50_us=N reply_p99_us=N concurrent_calls=N
//!        rss_per_call_bytes=N sipp_cps=N ratio=R outbound_max_cps=N inbound_max_cps=N
//!        sipp_max_cps=N inbound_ratio=R gw_us_per_call=N sipp_us_per_call=N
//!        reply_overhead_p99_us=N reply_gw_p99_us=N
//!
//! Phases: reference (SIPp uac -> SIPp uas), outbound (load app -> gateway -> SIPp uas, RTP
//! sockets per call), inbound (SIPp uac -> gateway -> load app answering), concurrency (calls
//! held, signalling-only media). Each of the first three climbs a ladder of rates until a step
//! fails; a step holds when every call of it succeeded on both sides (SIPp's statistics file,
//! not only its exit code) and its latency p99 (reference: SIPp's INVITE -> 180; outbound:
//! lineMakeCall -> LINE_REPLY; inbound: OFFERING -> CONNECTED) is under 50 ms. `--smoke` runs
//! one low-rate step of each of the first three and fails only if a call fails; with
//! `--rate R --calls N` that step is N calls at R calls/s, and LOAD_GATEWAY_WRAPPER (e.g.
//! `valgrind --tool=callgrind`) runs the gateway under a profiler.
//!
//! At the reply-latency rate (and in smoke mode) the UAS's own INVITE -> 180 turnaround is also
//! timed on the wire ([`sniff`], kernel timestamps on `lo`, needs root), in the reference and
//! outbound phases; `reply_overhead_p99_us` subtracts the reference phase's wire p99 (SIPp's
//! whole-millisecond figure where the sniffer could not run). The outbound phases also follow
//! each reply hop by hop on the wire ([`trace`]): `reply_gw_p99_us` is the p99 of the
//! gateway's own two turns per call (API request -> INVITE, 180 -> LINE_REPLY).

mod app;
mod gateway;
#[path = "../../tests/common/proc_net.rs"]
mod proc_net;
mod procfs;
mod report;
mod sipp;
mod sniff;
mod trace;
mod wire;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::{quantile, Outcome, Work};
use gateway::{free_port, Gateway};
use report::{print_row, Row};
use sipp::{Sipp, SippStats};

/// Rates tried, in calls per second, until one fails.
const LADDER: [u64; 13] = [
    500, 1000, 1500, 2000, 3000, 4000, 5000, 6000, 8000, 10000, 12000, 16000, 20000,
];
/// The rate at which reply latency is reported (`reply_p50_us`, `reply_p99_us`).
const REPLY_RATE: u64 = 1000;
/// A step holds only with its latency p99 under this.
const HOLD_P99_US: u64 = 50_000;
const CONNECTIONS: usize = 4;

#[derive(PartialEq)]
enum Mode {
    Smoke,
    Quick,
    Full,
}

struct Plan {
    mode: Mode,
    step: Duration,
    /// How long past a step's end its stragglers may take before the step is cut off.
    drain: Duration,
    rates: Vec<u64>,
    /// `Some(us)`: a step holds only with its latency p99 under it; smoke mode has none.
    p99_bound: Option<u64>,
    hold_ramp: Duration,
    hold: Duration,
    hold_rate: u64,
}

impl Plan {
    fn calls(&self, rate: u64) -> u64 {
        rate * self.step.as_millis() as u64 / 1000
    }

    fn latency_holds(&self, p99_us: u64) -> bool {
        self.p99_bound.is_none_or(|b| p99_us < b)
    }
}

fn plan() -> Plan {
    let arg = |a: &str| std::env::args().any(|x| x == a);
    let mut p = Plan {
        mode: Mode::Full,
        step: Duration::from_secs(12),
        drain: Duration::from_secs(20),
        rates: LADDER.to_vec(),
        p99_bound: Some(HOLD_P99_US),
        hold_ramp: Duration::from_secs(20),
        hold: Duration::from_secs(30),
        hold_rate: 3000,
    };
    if arg("--smoke") {
        p.mode = Mode::Smoke;
        p.step = Duration::from_millis(1500);
        p.drain = Duration::from_secs(10);
        p.rates = vec![200];
        p.p99_bound = None;
        // `--rate R --calls N` (profiling): one step of N calls at R calls/s.
        let value = |name: &str| {
            let v = std::env::args().skip_while(|a| a != name).nth(1)?;
            v.parse::<u64>().ok().filter(|&v| v > 0)
        };
        if let Some(rate) = value("--rate") {
            p.rates = vec![rate];
            let calls = value("--calls").unwrap_or(rate * 3 / 2);
            p.step = Duration::from_millis(calls * 1000 / rate);
        }
    } else if arg("--quick") || std::env::var("LOAD_QUICK").is_ok_and(|v| v == "1") {
        p.mode = Mode::Quick;
        p.step = Duration::from_secs(2);
        p.drain = Duration::from_secs(8);
        // 3000 calls/s as in the full run: at 5000 the gateway may shed some of the calls
        // placed (docs/api.md "Overload"), and the phase then reports no figure.
        (p.hold_ramp, p.hold, p.hold_rate) =
            (Duration::from_secs(10), Duration::from_secs(10), 3000);
    }
    // `--hold-rate R`: the concurrency phase places R calls/s over its ramp (full: 20 s, so
    // `--only concurrency --hold-rate 5000` holds 100 000 calls).
    let hold_rate = std::env::args().skip_while(|a| a != "--hold-rate").nth(1);
    if let Some(rate) = hold_rate
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|&r| r > 0)
    {
        p.hold_rate = rate;
    }
    p
}

/// Samples the peak RSS of `pid` until `stop` is set.
fn rss_sampler(pid: u32) -> (Arc<AtomicBool>, std::thread::JoinHandle<u64>) {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let handle = std::thread::spawn(move || {
        let mut peak = 0;
        while !flag.load(Ordering::Relaxed) {
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

/// The highest held rate of a phase and the CPU its process spent over the held steps.
#[derive(Default)]
struct Ceiling {
    best: u64,
    cpu: Duration,
    calls: u64,
    /// Latency (p50, p99) in microseconds per rate tried, held or not.
    latency: BTreeMap<u64, (u64, u64)>,
    /// The UAS's INVITE -> 180 turnaround (p50, p99) on the wire, in microseconds, at the
    /// rates sniffed ([`sniffed`]).
    wire: BTreeMap<u64, (u64, u64)>,
    /// The gateway's own two turns of the reply per call, p99 in microseconds, at the rates
    /// sniffed (outbound phases; [`trace`]).
    gw_share: BTreeMap<u64, u64>,
}

impl Ceiling {
    fn held(&mut self, rate: u64, calls: u64, cpu: Duration) {
        self.best = rate;
        self.calls += calls;
        self.cpu += cpu;
    }

    fn us_per_call(&self) -> u64 {
        (self.cpu.as_micros() as u64)
            .checked_div(self.calls)
            .unwrap_or(0)
    }
}

/// Whether a step's UAS turnaround is timed on the wire: at the reply-latency rate, and in
/// smoke mode (so the sniffer runs in the test command). Not at every step: capturing every
/// frame on `lo` costs the bench CPU that the higher steps need.
fn sniffed(plan: &Plan, rate: u64) -> bool {
    rate == REPLY_RATE || plan.mode == Mode::Smoke
}

/// Starts the wire timing of the UAS at `port` if this step is [`sniffed`].
fn sniff(plan: &Plan, rate: u64, port: u16) -> Option<sniff::Sniffer<sniff::Turnarounds>> {
    sniffed(plan, rate)
        .then(|| sniff::Sniffer::start(sniff::Turnarounds::new(port)))
        .flatten()
}

/// Stops the capture: records the turnaround quantiles and gives a row's words for them.
fn unsniff(s: Option<sniff::Turnarounds>, rate: u64, ceiling: &mut Ceiling) -> String {
    let Some(mut us) = s.map(|t| t.us) else {
        return String::new();
    };
    let q = (quantile(&mut us, 0.5), quantile(&mut us, 0.99));
    ceiling.wire.insert(rate, q);
    format!(
        ", uas INVITE->180 on the wire p50/p99 {}/{} us ({} calls)",
        q.0,
        q.1,
        us.len()
    )
}

/// The outbound phase's capture: the UAS's turnaround and the reply's path hop by hop.
type OutboundTap = (sniff::Turnarounds, trace::ReplyPath);

fn sniff_outbound(
    plan: &Plan,
    rate: u64,
    api: u16,
    uas: u16,
) -> Option<sniff::Sniffer<OutboundTap>> {
    let tap = (
        sniff::Turnarounds::new(uas),
        trace::ReplyPath::new(api, uas),
    );
    sniffed(plan, rate)
        .then(|| sniff::Sniffer::start(tap))
        .flatten()
}

/// The row's words for the reply's hops: each hop's p50/p99, the gateway's share per call
/// (its two turns) at p99, and where the slowest 1% of traced replies spent their time.
fn hops_detail(mut hops: Vec<trace::Hops>, rate: u64, ceiling: &mut Ceiling) -> String {
    if hops.is_empty() {
        return String::new();
    }
    let us = |v: &mut Vec<u64>| (quantile(v, 0.5) / 1000, quantile(v, 0.99) / 1000);
    let (mut out, mut inn, mut gw): (Vec<u64>, Vec<u64>, Vec<u64>) = (
        hops.iter().map(|h| h.gw_out).collect(),
        hops.iter().map(|h| h.gw_in).collect(),
        hops.iter().map(|h| h.gateway()).collect(),
    );
    let (out, inn, gw) = (us(&mut out), us(&mut inn), us(&mut gw));
    if let Ok(path) = std::env::var("LOAD_TRACE_DUMP") {
        // One line per traced call: arrival (ns), gw out, uas, gw in (us), for a closer look.
        let lines: String = hops
            .iter()
            .map(|h| {
                format!(
                    "{} {} {} {}\n",
                    h.at,
                    h.gw_out / 1000,
                    h.uas / 1000,
                    h.gw_in / 1000
                )
            })
            .collect();
        let _ = std::fs::write(path, lines);
    }
    ceiling.gw_share.insert(rate, gw.1);
    hops.sort_unstable_by_key(|h| std::cmp::Reverse(h.total()));
    let slow = &hops[..hops.len().div_ceil(100)];
    let total: u64 = slow.iter().map(|h| h.total()).sum::<u64>().max(1);
    let share = |f: fn(&trace::Hops) -> u64| slow.iter().map(f).sum::<u64>() * 100 / total;
    format!(
        ", hops on the wire p50/p99: gw API->INVITE {}/{} us, gw 180->LINE_REPLY {}/{} us, gw both {}/{} us ({} traced); slowest 1%: gw out {}% uas {}% gw in {}%",
        out.0,
        out.1,
        inn.0,
        inn.1,
        gw.0,
        gw.1,
        hops.len(),
        share(|h| h.gw_out),
        share(|h| h.uas),
        share(|h| h.gw_in),
    )
}

fn reference(dir: &Path, plan: &Plan, rows: &mut Vec<Row>) -> Ceiling {
    let scenario = sipp::reference_uac_scenario(dir);
    let mut ceiling = Ceiling::default();
    for &rate in &plan.rates {
        let calls = plan.calls(rate);
        let port = free_port();
        let limit = plan.step + plan.drain;
        let server = uas(dir, format!("ref-uas-{rate}"), port, calls, limit);
        let args = [
            format!("127.0.0.1:{port}"),
            "-r".into(),
            rate.to_string(),
            "-m".into(),
            calls.to_string(),
        ];
        let wire = sniff(plan, rate, port);
        let uac = Sipp::start_rtt(dir, &format!("ref-uac-{rate}"), &scenario, &args, limit);
        let mut c = uac.finish(limit + Duration::from_secs(5));
        let s = server.finish(Duration::from_secs(5));
        let wire = unsniff(wire.and_then(|w| w.finish()), rate, &mut ceiling);
        let p50 = quantile(&mut c.rtt_ms, 0.5) * 1000;
        let p99 = quantile(&mut c.rtt_ms, 0.99) * 1000;
        ceiling.latency.insert(rate, (p50, p99));
        let ok = c.clean(calls) && s.clean(calls) && plan.latency_holds(p99);
        rows.push(Row {
            phase: "sipp-ref",
            rate,
            calls,
            ok,
            cpu: c.cpu,
            peak_rss_mb: 0.0,
            detail: format!(
                "INVITE->180 p50/p99 {p50}/{p99} us (ms clock){wire}, uas cpu {} us/call, {}",
                (s.cpu.as_micros() as u64).checked_div(calls).unwrap_or(0),
                sipp_detail(&c, &s)
            ),
        });
        print_row(rows.last().unwrap());
        if !ok {
            break;
        }
        ceiling.held(rate, calls, c.cpu);
    }
    ceiling
}

fn sipp_detail(a: &SippStats, b: &SippStats) -> String {
    format!(
        "sipp created/ok/failed {}/{}/{} and {}/{}/{}",
        a.created, a.successful, a.failed, b.created, b.successful, b.failed
    )
}

/// How the failures of a step went: how many, how fast, and what the gateway refused.
fn failures(o: &mut Outcome, refused: gateway::Refusals) -> String {
    if o.failed == 0 && refused.shed == 0 && refused.sip == 0 {
        // A step that failed on latency alone: calls queued, none was refused.
        return String::new();
    }
    format!(
        "; failed {} (refused {}) after p50/p99 {}/{} us, gw shed {} lineMakeCall, refused {} SIP",
        o.failed,
        o.refused,
        quantile(&mut o.fail_us, 0.5),
        quantile(&mut o.fail_us, 0.99),
        refused.shed,
        refused.sip
    )
}

fn outbound(
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    plan: &Plan,
    media: &str,
    rows: &mut Vec<Row>,
) -> Ceiling {
    let provider = free_port();
    let gw = Gateway::start(dir, &format!("outbound-{media}"), provider, media);
    let mut ceiling = Ceiling::default();
    for &rate in &plan.rates {
        let calls = plan.calls(rate);
        let name = format!("out-uas-{media}-{rate}");
        let server = uas(dir, name, provider, calls, plan.step + plan.drain);
        let (cpu0, refused0) = (procfs::cpu_time(gw.pid()), gw.refusals());
        let wait0 = procfs::runqueue_wait(gw.pid());
        let app_cpu0 = procfs::cpu_time(std::process::id());
        let (stop, sampler) = rss_sampler(gw.pid());
        let deadline = tokio::time::Instant::now() + plan.step + plan.drain;
        let work = Work::Outbound {
            calls,
            rate: rate as f64,
            hold: Duration::ZERO,
        };
        let never = Arc::new(AtomicBool::new(false));
        let wire = sniff_outbound(plan, rate, gw.api.port(), provider);
        let mut o = rt.block_on(app::run(gw.api, CONNECTIONS, work, deadline, never));
        let cpu = procfs::cpu_time(gw.pid()) - cpu0;
        let waited = procfs::runqueue_wait(gw.pid()).saturating_sub(wait0);
        let app_cpu = procfs::cpu_time(std::process::id()) - app_cpu0;
        let s = server.finish(Duration::from_secs(5));
        let (uas_wire, hops) = wire.and_then(|w| w.finish()).unzip();
        let mut wire = unsniff(uas_wire, rate, &mut ceiling);
        wire += &hops_detail(
            hops.map(|h| h.traced).unwrap_or_default(),
            rate,
            &mut ceiling,
        );
        stop.store(true, Ordering::Relaxed);
        let peak = sampler.join().unwrap();
        let (p50, p99) = (
            quantile(&mut o.reply_us, 0.5),
            quantile(&mut o.reply_us, 0.99),
        );
        ceiling.latency.insert(rate, (p50, p99));
        let clean = o.failed == 0 && o.ended == calls && s.clean(calls);
        let ok = clean && plan.latency_holds(p99);
        let mut fails = failures(&mut o, gw.refusals().since(refused0));
        if !ok && fails.is_empty() {
            fails =
                "; the app saw no failure and the gateway refused nothing: slow, not shed".into();
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
            cpu,
            peak_rss_mb: peak as f64 / 1e6,
            detail: format!(
                "reply p50/p99 {p50}/{p99} us{wire}, gw waited for a CPU {} us/call, connect p99 {} us, app ended {} (cpu {} us/call), {}{fails}",
                (waited.as_micros() as u64).checked_div(calls).unwrap_or(0),
                quantile(&mut o.connect_us, 0.99),
                o.ended,
                (app_cpu.as_micros() as u64).checked_div(calls).unwrap_or(0),
                sipp_detail(&s, &s)
            ),
        });
        print_row(rows.last().unwrap());
        if !ok {
            break;
        }
        ceiling.held(rate, calls, cpu);
    }
    ceiling
}

fn inbound(rt: &tokio::runtime::Runtime, dir: &Path, plan: &Plan, rows: &mut Vec<Row>) -> Ceiling {
    let gw = Gateway::start(dir, "inbound", free_port(), "rtp");
    let mut ceiling = Ceiling::default();
    for &rate in &plan.rates {
        let calls = plan.calls(rate);
        let (cpu0, refused0) = (procfs::cpu_time(gw.pid()), gw.refusals());
        let (stop, sampler) = rss_sampler(gw.pid());
        let deadline = tokio::time::Instant::now() + plan.step + plan.drain + plan.drain;
        let cut = Arc::new(AtomicBool::new(false));
        let work = Work::Inbound { calls };
        let mut app = rt.spawn(app::run(gw.api, 1, work, deadline, cut.clone()));
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
        let limit = plan.step + plan.drain;
        let caller = Sipp::start(dir, &format!("in-uac-{rate}"), &args, limit);
        let c = caller.finish(limit + Duration::from_secs(5));
        // Calls SIPp gave up on (or the gateway refused) never reach the app: stop waiting.
        let mut o = rt.block_on(async {
            tokio::select! {
                o = &mut app => o.unwrap(),
                _ = tokio::time::sleep(Duration::from_secs(3)) => {
                    cut.store(true, Ordering::Relaxed);
                    app.await.unwrap()
                }
            }
        });
        let cpu = procfs::cpu_time(gw.pid()) - cpu0;
        stop.store(true, Ordering::Relaxed);
        let peak = sampler.join().unwrap();
        let (p50, p99) = (
            quantile(&mut o.connect_us, 0.5),
            quantile(&mut o.connect_us, 0.99),
        );
        ceiling.latency.insert(rate, (p50, p99));
        let ok = c.clean(calls) && o.ended == calls && plan.latency_holds(p99);
        let refused = gw.refusals().since(refused0);
        let fails = if ok {
            String::new()
        } else {
            format!(
                "; gw refused {} SIP (503 when overloaded), sipp failed {}{}",
                refused.sip,
                c.failed,
                if c.failed == 0 && refused.sip == 0 {
                    ": slow, not shed"
                } else {
                    ""
                }
            )
        };
        rows.push(Row {
            phase: "inbound",
            rate,
            calls,
            ok,
            cpu,
            peak_rss_mb: peak as f64 / 1e6,
            detail: format!(
                "connect p50/p99 {p50}/{p99} us, app answered/ended {}/{}, sipp ok/failed {}/{}{fails}",
                o.placed, o.ended, c.successful, c.failed
            ),
        });
        print_row(rows.last().unwrap());
        if !ok {
            break;
        }
        ceiling.held(rate, calls, cpu);
    }
    ceiling
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
    let never = Arc::new(AtomicBool::new(false));
    let o = rt.block_on(app::run(gw.api, CONNECTIONS, work, deadline, never));
    let s = server.finish(Duration::from_secs(20));
    stop.store(true, Ordering::Relaxed);
    let peak = sampler.join().unwrap();
    let live = o.max_live;
    let per_call = peak.saturating_sub(baseline) / live.max(1);
    let ok = o.failed == 0 && o.ended == calls && s.clean(calls);
    rows.push(Row {
        phase: "concurrency",
        rate: plan.hold_rate,
        calls,
        ok,
        cpu: procfs::cpu_time(gw.pid()) - cpu0,
        peak_rss_mb: peak as f64 / 1e6,
        detail: format!(
            "live {live}, RSS {:.1} -> {:.1} MB = {per_call} B/call, hold {} s, app failed {} (refused {}), {}",
            baseline as f64 / 1e6,
            peak as f64 / 1e6,
            plan.hold.as_secs(),
            o.failed,
            o.refused,
            sipp_detail(&s, &s)
        ),
    });
    print_row(rows.last().unwrap());
    (if ok { live } else { 0 }, per_call)
}

/// The rate the reply figures are taken at: REPLY_RATE, else the highest both phases tried.
fn common_rate(a: &Ceiling, b: &Ceiling) -> Option<u64> {
    if a.latency.contains_key(&REPLY_RATE) && b.latency.contains_key(&REPLY_RATE) {
        return Some(REPLY_RATE);
    }
    a.latency
        .keys()
        .rev()
        .find(|r| b.latency.contains_key(r))
        .copied()
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this binary without it, and a
    // load test has no place in the unit test run.
    if !std::env::args().any(|a| a == "--bench") {
        println!("load bench: run it with `cargo bench --bench load [-- --quick | --smoke]`");
        sniff::self_check();
        trace::self_check();
        return;
    }
    let plan = plan();
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mode = match plan.mode {
        Mode::Smoke => "smoke",
        Mode::Quick => "quick",
        Mode::Full => "full",
    };
    println!(
        "tapigw load bench ({mode} mode, {} ms steps, rates {:?} calls/s until a step fails)",
        plan.step.as_millis(),
        plan.rates
    );
    report::print_header();
    let started = Instant::now();
    let mut rows = Vec::new();
    // `--only PHASE` (reference, outbound, outbound-none, inbound, concurrency) runs one phase,
    // for profiling.
    let only = std::env::args().skip_while(|a| a != "--only").nth(1);
    let run = |phase: &str| only.as_deref().is_none_or(|o| o == phase);
    let d = dir.path();
    let sipp = run("reference").then(|| reference(d, &plan, &mut rows));
    let out = run("outbound").then(|| outbound(&rt, d, &plan, "rtp", &mut rows));
    // Signalling only: in the full run, or alone with `--only outbound-none`.
    if (plan.mode == Mode::Full && run("outbound")) || only.as_deref() == Some("outbound-none") {
        outbound(&rt, d, &plan, "none", &mut rows);
    }
    let inb = run("inbound").then(|| inbound(&rt, d, &plan, &mut rows));
    let (live, per_call) = if plan.mode != Mode::Smoke && run("concurrency") {
        concurrency(&rt, d, &plan, &mut rows)
    } else {
        (0, 0)
    };
    let (sipp, out, inb) = (
        sipp.unwrap_or_default(),
        out.unwrap_or_default(),
        inb.unwrap_or_default(),
    );
    let at = common_rate(&out, &sipp).or(out.latency.keys().next().copied());
    let (reply_p50, reply_p99) = at
        .and_then(|r| out.latency.get(&r).copied())
        .unwrap_or_default();
    // SIPp's own INVITE -> 180 at the same rate: timed on the wire where the sniffer ran, else
    // SIPp's whole-millisecond figure.
    let sipp_p99 = at
        .and_then(|r| sipp.wire.get(&r).or(sipp.latency.get(&r)))
        .map_or(0, |&(_, p99)| p99);
    println!("bench took {:.0} s", started.elapsed().as_secs_f64());
    println!(
        "reply figures at {} calls/s; gateway CPU over the held outbound steps, SIPp's of its uac",
        at.unwrap_or(0)
    );
    println!(
        "RESULT outbound_cps={} inbound_cps={} reply_p50_us={reply_p50} reply_p99_us={reply_p99} concurrent_calls={live} rss_per_call_bytes={per_call} sipp_cps={} ratio={:.2} outbound_max_cps={} inbound_max_cps={} sipp_max_cps={} inbound_ratio={:.2} gw_us_per_call={} sipp_us_per_call={} reply_overhead_p99_us={} reply_gw_p99_us={}",
        out.best,
        inb.best,
        sipp.best,
        ratio(out.best, sipp.best),
        out.best,
        inb.best,
        sipp.best,
        ratio(inb.best, sipp.best),
        out.us_per_call(),
        sipp.us_per_call(),
        reply_p99 as i64 - sipp_p99 as i64,
        at.and_then(|r| out.gw_share.get(&r)).copied().unwrap_or(0),
    );
    let failed = rows.iter().any(|r| !r.ok);
    if plan.mode == Mode::Smoke && failed {
        eprintln!("load bench smoke: a step failed");
        std::process::exit(1);
    }
}
