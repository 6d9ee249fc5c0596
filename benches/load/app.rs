//! The load app: TAPI apps on several API connections (raw JSON Lines, one task each), placing
//! calls at a fixed rate and hanging up after a hold time, or answering inbound calls. Records
//! lineMakeCall -> LINE_REPLY and -> CONNECTED for every call, and how long each failure took.
//! Lines are written with `format!` and read into typed structs (`wire.rs`), not through
//! `serde_json::Value`: the app shares the machine with the gateway, and callgrind showed the
//! `Value` trees taking more than half of its instructions.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::wire;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::TcpStream;
use tokio::time::Instant;

const LINE_REPLY: u64 = 12;
const LINE_CALLSTATE: u64 = 2;
const OFFERING: u64 = 0x2;
const CONNECTED: u64 = 0x100;
const DISCONNECTED: u64 = 0x4000;
const IDLE: u64 = 0x1;

/// What one step asks of the app.
#[derive(Clone, Copy)]
pub enum Work {
    /// Place `calls` at `rate` per second in total, hang up `hold` after CONNECTED.
    Outbound {
        calls: u64,
        rate: f64,
        hold: Duration,
    },
    /// Answer every offered call until `calls` have ended.
    Inbound { calls: u64 },
}

/// What one step measured.
#[derive(Default, Debug)]
pub struct Outcome {
    pub placed: u64,
    pub connected: u64,
    pub ended: u64,
    pub failed: u64,
    /// lineMakeCall answered with an error, or LINE_REPLY with one (refused, not timed out).
    pub refused: u64,
    /// lineMakeCall sent (or OFFERING seen) -> the failure: error, LINE_REPLY error, DISCONNECTED.
    pub fail_us: Vec<u64>,
    pub reply_us: Vec<u64>,
    pub connect_us: Vec<u64>,
    pub max_live: u64,
}

impl Outcome {
    fn merge(&mut self, o: Outcome) {
        self.placed += o.placed;
        self.connected += o.connected;
        self.ended += o.ended;
        self.failed += o.failed;
        self.refused += o.refused;
        self.fail_us.extend(o.fail_us);
        self.reply_us.extend(o.reply_us);
        self.connect_us.extend(o.connect_us);
        self.max_live += o.max_live;
    }
}

/// Runs `work` over `conns` connections; gives up at `deadline` or when `stop` is set.
pub async fn run(
    api: SocketAddr,
    conns: usize,
    work: Work,
    deadline: Instant,
    stop: Arc<AtomicBool>,
) -> Outcome {
    let mut tasks = Vec::new();
    for i in 0..conns {
        let share = match work {
            Work::Outbound { calls, rate, hold } => {
                let n = calls / conns as u64 + u64::from((i as u64) < calls % conns as u64);
                Work::Outbound {
                    calls: n,
                    rate: rate / conns as f64,
                    hold,
                }
            }
            Work::Inbound { calls } => Work::Inbound { calls },
        };
        // Each connection's calls fall between the others', so the total is evenly paced.
        let phase = i as f64 / conns as f64;
        let conn = connection(api, (i, phase), share, deadline, stop.clone());
        tasks.push(tokio::spawn(conn));
    }
    let mut total = Outcome::default();
    for t in tasks {
        total.merge(t.await.expect("load connection"));
    }
    total
}

struct Conn {
    out: BufWriter<tokio::net::tcp::OwnedWriteHalf>,
    next_id: u64,
    /// JSON-RPC id -> when lineMakeCall was sent.
    make_calls: HashMap<u64, Instant>,
    /// requestId -> (hCall, sent at).
    requests: HashMap<u64, (u64, Instant)>,
    /// hCall -> sent at.
    calls: HashMap<u64, Instant>,
    drops: BinaryHeap<Reverse<(Instant, u64)>>,
    outcome: Outcome,
}

impl Conn {
    /// A lineMakeCall sent at `sent` refused: an error reply or LINE_REPLY with an error.
    fn fail(&mut self, sent: Instant) {
        self.outcome.failed += 1;
        self.outcome.refused += 1;
        self.outcome.fail_us.push(sent.elapsed().as_micros() as u64);
    }

    /// Sends one request; `params` is its JSON object, already written.
    async fn send(&mut self, method: &str, params: &str) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        let line =
            format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"{method}","params":{params}}}"#);
        let _ = self.out.write_all(line.as_bytes()).await;
        let _ = self.out.write_all(b"\n").await;
        id
    }

    async fn send_call(&mut self, method: &str, h_call: u64) {
        self.send(method, &format!(r#"{{"hCall":{h_call}}}"#)).await;
    }
}

/// One API connection's app; `(index, phase)`: which connection it is, and where in its call
/// period (0..1) its calls fall.
async fn connection(
    api: SocketAddr,
    (index, phase): (usize, f64),
    work: Work,
    deadline: Instant,
    stop: Arc<AtomicBool>,
) -> Outcome {
    let stream = TcpStream::connect(api)
        .await
        .expect("connect to the gateway API");
    stream.set_nodelay(true).ok();
    let (read, write) = stream.into_split();
    let mut lines = BufReader::with_capacity(256 * 1024, read).lines();
    let mut c = Conn {
        out: BufWriter::with_capacity(256 * 1024, write),
        next_id: 1,
        make_calls: HashMap::new(),
        requests: HashMap::new(),
        calls: HashMap::new(),
        drops: BinaryHeap::new(),
        outcome: Outcome::default(),
    };
    c.send(
        "lineInitializeEx",
        &json!({"appName": "load", "apiVersion": 0x20002, "options": 1}).to_string(),
    )
    .await;
    c.out.flush().await.ok();
    let app = lines
        .next_line()
        .await
        .ok()
        .flatten()
        .and_then(|l| serde_json::from_str::<Value>(&l).ok());
    let app = app
        .and_then(|v| v["result"]["hLineApp"].as_u64())
        .expect("lineInitializeEx");
    let open = json!({"hLineApp": app, "deviceId": 0, "apiVersion": 0x20002, "privileges": 4, "mediaModes": 4});
    c.send("lineOpen", &open.to_string()).await;
    c.out.flush().await.ok();
    let line = lines
        .next_line()
        .await
        .ok()
        .flatten()
        .and_then(|l| serde_json::from_str::<Value>(&l).ok());
    let h_line = line
        .and_then(|v| v["result"]["hLine"].as_u64())
        .expect("lineOpen");

    let (target, rate, hold, inbound) = match work {
        Work::Outbound { calls, rate, hold } => (calls, rate, hold, false),
        Work::Inbound { calls } => (calls, 0.0, Duration::ZERO, true),
    };
    let start = Instant::now();
    // Calls are placed when due (call k at (k + phase) / rate), not in bursts on a coarser tick:
    // a burst queues its own calls behind each other in the gateway.
    let due_at = |k: u64| start + Duration::from_secs_f64((k as f64 + phase) / rate.max(1e-9));
    loop {
        let finished = if inbound {
            c.outcome.ended >= target
        } else {
            c.outcome.placed >= target && c.calls.is_empty() && c.make_calls.is_empty()
        };
        if finished || Instant::now() > deadline || stop.load(Ordering::Relaxed) {
            break;
        }
        let mut wake = Instant::now() + Duration::from_millis(5);
        if !inbound && c.outcome.placed < target {
            wake = wake.min(due_at(c.outcome.placed));
        }
        if let Some(Reverse((at, _))) = c.drops.peek() {
            wake = wake.min(*at);
        }
        tokio::select! {
            _ = tokio::time::sleep_until(wake) => {
                let now = Instant::now();
                while !inbound && c.outcome.placed < target && due_at(c.outcome.placed) <= now {
                    // A number per call, so the wire trace can tell whose INVITE it sees.
                    let make_call = format!(
                        r#"{{"hLine":{h_line},"destAddress":"1002{index}{:07}"}}"#,
                        c.next_id
                    );
                    let id = c.send("lineMakeCall", &make_call).await;
                    c.make_calls.insert(id, Instant::now());
                    c.outcome.placed += 1;
                }
                while let Some(Reverse((at, h_call))) = c.drops.peek().copied() {
                    if at > now { break; }
                    c.drops.pop();
                    c.send_call("lineDrop", h_call).await;
                }
                c.out.flush().await.ok();
            }
            line = lines.next_line() => {
                let Ok(Some(line)) = line else { break };
                handle(&mut c, &line, hold, inbound).await;
                c.out.flush().await.ok();
            }
        }
        c.outcome.max_live = c.outcome.max_live.max(c.calls.len() as u64);
    }
    c.outcome
}

async fn handle(c: &mut Conn, line: &str, hold: Duration, inbound: bool) {
    let Ok(m) = serde_json::from_str::<wire::Incoming>(line) else {
        return;
    };
    if let Some(id) = m.id {
        if let Some(sent) = c.make_calls.remove(&id) {
            let r = m.result.unwrap_or_default();
            match (r.request_id, r.h_call) {
                (Some(r), Some(h)) => {
                    c.requests.insert(r, (h, sent));
                    c.calls.insert(h, sent);
                }
                _ => c.fail(sent),
            }
        }
        return;
    }
    let p = m.params.unwrap_or_default();
    let (msg, h, p1, p2) = (
        p.message.unwrap_or(99),
        p.device.unwrap_or(0),
        p.param1.unwrap_or(0),
        p.param2.unwrap_or(0),
    );
    match (msg, p1) {
        (LINE_REPLY, request) => {
            if let Some((h_call, sent)) = c.requests.remove(&request) {
                c.outcome.reply_us.push(sent.elapsed().as_micros() as u64);
                if p2 != 0 {
                    c.calls.remove(&h_call);
                    c.fail(sent);
                }
            }
        }
        (LINE_CALLSTATE, OFFERING) if inbound => {
            c.calls.insert(h, Instant::now());
            c.outcome.placed += 1;
            c.send_call("lineAnswer", h).await;
        }
        (LINE_CALLSTATE, CONNECTED) => {
            c.outcome.connected += 1;
            if let Some(sent) = c.calls.get(&h) {
                c.outcome.connect_us.push(sent.elapsed().as_micros() as u64);
            }
            if !inbound {
                c.drops.push(Reverse((Instant::now() + hold, h)));
            }
        }
        (LINE_CALLSTATE, DISCONNECTED) if !inbound => {
            if let Some(sent) = c.calls.get(&h).copied() {
                c.outcome.failed += 1;
                c.outcome.fail_us.push(sent.elapsed().as_micros() as u64);
            }
            c.send_call("lineDrop", h).await;
        }
        (LINE_CALLSTATE, IDLE) => {
            if c.calls.remove(&h).is_some() {
                c.outcome.ended += 1;
            }
            c.send_call("lineDeallocateCall", h).await;
        }
        _ => {}
    }
}

/// The q-quantile of `v` (sorted in place).
pub fn quantile(v: &mut [u64], q: f64) -> u64 {
    if v.is_empty() {
        return 0;
    }
    v.sort_unstable();
    v[((v.len() - 1) as f64 * q).round() as usize]
}
