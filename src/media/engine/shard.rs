//! A shard: one tokio task owning a set of calls' sockets and media sessions. Every 20 ms, in
//! one pass: it reads what each socket holds (recv until WouldBlock, with the kernel's arrival
//! times), mixes the conferences, ticks every session and sends what they queued. Between ticks
//! it only handles commands from the router and files decoded on blocking threads: one wake-up
//! per tick, whatever the packet rate.

use std::collections::{HashMap, VecDeque};
use std::io::ErrorKind;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use rand::rngs::SmallRng;
use rand::SeedableRng;
use std::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use tokio::time::MissedTickBehavior;

use super::socket::{self, Clocks};
use super::{Counters, MediaCommand, MediaEvent};
use crate::media::mixer::{self, Frame};
use crate::media::rtp::{MAX_PACKET, PACKET_INTERVAL, SAMPLES_PER_PACKET};
use crate::media::session::{MediaSession, SessionEvent, Socket};
use crate::media::wav;

/// Datagrams read from one socket per tick at most (a peer sending 50 a second has 1-2 waiting).
const READ_BUDGET: usize = 32;
/// RTCP sockets are read every this many ticks (100 ms; the slots are staggered).
const RTCP_EVERY: u64 = 5;
/// Events kept while the core's channel is full; beyond this they are dropped (counted).
const BACKLOG_LIMIT: usize = 65536;
const COMMAND_CAPACITY: usize = 4096;

pub type ShardTx = mpsc::Sender<ShardCommand>;

/// A session leaving one shard for another (conference moves).
pub struct Detached {
    call: u64,
    session: MediaSession,
    rtp: UdpSocket,
    rtcp: UdpSocket,
}

pub enum ShardCommand {
    Media(MediaCommand),
    Detach {
        call: u64,
        reply: oneshot::Sender<Option<Box<Detached>>>,
    },
    Attach(Box<Detached>),
}

/// A file read for Play.
struct Loaded {
    call: u64,
    op: u64,
    result: Result<Arc<[i16]>, String>,
}

struct Slot {
    call: u64,
    session: MediaSession,
    rtp: UdpSocket,
    rtcp: UdpSocket,
}

#[derive(Default)]
struct Tally {
    sent: u64,
    received: u64,
    send_errors: u64,
}

/// Starts a shard whose ticks fall at `origin` + n * 20 ms. Shards get origins a fraction of a
/// slot apart, so their passes (and their bursts of packets) spread over the 20 ms.
pub fn spawn(
    id: usize,
    origin: Instant,
    events: mpsc::Sender<MediaEvent>,
    counters: Arc<Counters>,
) -> (ShardTx, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(COMMAND_CAPACITY);
    let (loaded_tx, loaded_rx) = mpsc::unbounded_channel();
    let shard = Shard {
        id,
        origin,
        slots: Vec::new(),
        free: Vec::new(),
        by_call: HashMap::new(),
        conferences: HashMap::new(),
        ticks: 0,
        events,
        backlog: VecDeque::new(),
        loaded_tx,
        rng: SmallRng::from_os_rng(),
        buf: vec![0u8; MAX_PACKET].into_boxed_slice(),
        counters,
        tally: Tally::default(),
        mix_in: Vec::new(),
        mix_out: Vec::new(),
    };
    let task = tokio::spawn(shard.run(rx, loaded_rx));
    (tx, task)
}

struct Shard {
    id: usize,
    origin: Instant,
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
    by_call: HashMap<u64, usize>,
    conferences: HashMap<u64, Vec<u64>>,
    ticks: u64,
    events: mpsc::Sender<MediaEvent>,
    backlog: VecDeque<MediaEvent>,
    loaded_tx: mpsc::UnboundedSender<Loaded>,
    rng: SmallRng,
    buf: Box<[u8]>,
    counters: Arc<Counters>,
    tally: Tally,
    mix_in: Vec<Frame>,
    mix_out: Vec<Frame>,
}

impl Shard {
    async fn run(
        mut self,
        mut commands: mpsc::Receiver<ShardCommand>,
        mut loaded: mpsc::UnboundedReceiver<Loaded>,
    ) {
        let mut tick = tokio::time::interval_at(self.origin.into(), PACKET_INTERVAL);
        tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                biased;
                _ = tick.tick() => self.tick(),
                cmd = commands.recv() => match cmd {
                    Some(cmd) => self.command(cmd),
                    None => break,
                },
                Some(l) = loaded.recv() => self.loaded(l),
            }
        }
        self.shutdown();
    }

    // ---- receiving ----

    /// Reads every session's RTP socket (and, every [`RTCP_EVERY`] ticks, its RTCP socket).
    fn read_all(&mut self, clocks: &Clocks) {
        let rtcp_turn = self.ticks % RTCP_EVERY;
        for index in 0..self.slots.len() {
            let Some(slot) = &mut self.slots[index] else {
                continue;
            };
            self.tally.received += read_socket(slot, false, &mut self.buf, clocks);
            if index as u64 % RTCP_EVERY == rtcp_turn {
                self.tally.received += read_socket(slot, true, &mut self.buf, clocks);
            }
            self.flush_events(index);
        }
    }

    // ---- ticking ----

    fn tick(&mut self) {
        let clocks = Clocks::read();
        self.read_all(&clocks);
        self.ticks += 1;
        let now = Instant::now();
        self.mix_conferences();
        for index in 0..self.slots.len() {
            let Some(slot) = &mut self.slots[index] else {
                continue;
            };
            slot.session.handle_tick(now);
            self.flush(index);
        }
        self.retry_backlog();
        self.publish();
    }

    /// Each member hears the others' last 20 ms (N-1 mix).
    fn mix_conferences(&mut self) {
        for members in self.conferences.values() {
            let indexes = members.iter().filter_map(|c| self.by_call.get(c).copied());
            self.mix_in.clear();
            for i in indexes.clone() {
                let mut frame = [0i16; SAMPLES_PER_PACKET];
                if let Some(slot) = &mut self.slots[i] {
                    slot.session.take_heard(&mut frame);
                }
                self.mix_in.push(frame);
            }
            self.mix_out
                .resize(self.mix_in.len(), [0; SAMPLES_PER_PACKET]);
            mixer::mix_minus(&self.mix_in, &mut self.mix_out);
            for (i, frame) in indexes.zip(&self.mix_out) {
                if let Some(slot) = &mut self.slots[i] {
                    slot.session.set_mix(frame);
                }
            }
        }
    }

    /// Sends what the session queued and passes its events on.
    fn flush(&mut self, index: usize) {
        let Some(slot) = &mut self.slots[index] else {
            return;
        };
        let tally = &mut self.tally;
        let (rtp, rtcp) = (&slot.rtp, &slot.rtcp);
        slot.session.drain_transmits(|socket, to, bytes| {
            let s = match socket {
                Socket::Rtp => rtp,
                Socket::Rtcp => rtcp,
            };
            match s.send_to(bytes, to) {
                Ok(_) => tally.sent += 1,
                Err(_) => tally.send_errors += 1,
            }
        });
        self.flush_events(index);
    }

    fn flush_events(&mut self, index: usize) {
        let Some(slot) = &mut self.slots[index] else {
            return;
        };
        let call = slot.call;
        while let Some(ev) = slot.session.poll_event() {
            match ev {
                SessionEvent::RecordFinished {
                    op,
                    file,
                    samples,
                    stopped,
                } => write_recording(self.events.clone(), call, op, file, samples, stopped),
                other => emit(
                    &mut self.backlog,
                    &self.events,
                    &self.counters,
                    to_media_event(call, other),
                ),
            }
        }
    }

    fn retry_backlog(&mut self) {
        while let Some(ev) = self.backlog.pop_front() {
            match self.events.try_send(ev) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(ev)) => {
                    self.backlog.push_front(ev);
                    return;
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    self.counters.events_dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    fn publish(&mut self) {
        let t = std::mem::take(&mut self.tally);
        let c = &self.counters;
        c.sent.fetch_add(t.sent, Ordering::Relaxed);
        c.received.fetch_add(t.received, Ordering::Relaxed);
        c.send_errors.fetch_add(t.send_errors, Ordering::Relaxed);
    }

    // ---- commands ----

    fn command(&mut self, cmd: ShardCommand) {
        match cmd {
            ShardCommand::Media(cmd) => self.media_command(cmd),
            ShardCommand::Detach { call, reply } => {
                let _ = reply.send(self.detach(call));
            }
            ShardCommand::Attach(d) => {
                let mut d = *d;
                // Keep the session's ticks mid-slot on this shard's phase.
                let start = self.nearest_slot_start(d.session.clock_start());
                d.session.shift_clock(start);
                self.attach(d.call, d.session, d.rtp, d.rtcp)
            }
        }
    }

    fn media_command(&mut self, cmd: MediaCommand) {
        let now = Instant::now();
        match cmd {
            MediaCommand::Open {
                call,
                rtp,
                rtcp,
                stream,
            } => {
                self.close(call, now);
                let start = self.slot_start(now);
                let wall = SystemTime::now() - now.saturating_duration_since(start);
                let session = MediaSession::new(stream, start, wall, &mut self.rng);
                self.attach(call, session, rtp.into_inner(), rtcp.into_inner());
            }
            MediaCommand::Close { call } => self.close(call, now),
            MediaCommand::Conference { conf, members } => self.set_conference(conf, members),
            MediaCommand::Play {
                call,
                op,
                file,
                within,
                looped,
            } => {
                let Some(file) = self.resolve(call, op, file, within) else {
                    return;
                };
                if self.with_session(call, |s| s.play_requested(op, looped)) {
                    self.load_file(call, op, file);
                }
            }
            MediaCommand::Record {
                call,
                op,
                file,
                within,
                max_ms,
                silence_ms,
            } => {
                let Some(file) = self.resolve(call, op, file, within) else {
                    return;
                };
                self.with_session(call, |s| s.record(op, file, max_ms, silence_ms, now));
            }
            other => self.session_command(other, now),
        }
    }

    /// The start of a new session's media clock: half a slot before a tick, so that every tick
    /// falls in the middle of a 20 ms slot and timer jitter below 10 ms never moves a packet
    /// into the next tick.
    fn slot_start(&self, now: Instant) -> Instant {
        let elapsed = now.saturating_duration_since(self.origin);
        let period = PACKET_INTERVAL.as_nanos();
        let k = (elapsed.as_nanos() / period) as u32;
        (self.origin + PACKET_INTERVAL * k)
            .checked_sub(PACKET_INTERVAL / 2)
            .unwrap_or(self.origin)
    }

    /// The clock start on this shard's phase nearest to `start`.
    fn nearest_slot_start(&self, start: Instant) -> Instant {
        let half = PACKET_INTERVAL / 2;
        let later = self.slot_start(start + half + PACKET_INTERVAL);
        let earlier = later.checked_sub(PACKET_INTERVAL).unwrap_or(later);
        let distance = |t: Instant| {
            if t > start {
                t - start
            } else {
                start - t
            }
        };
        if distance(earlier) <= distance(later) {
            earlier
        } else {
            later
        }
    }

    /// Commands that only touch one session.
    fn session_command(&mut self, cmd: MediaCommand, now: Instant) {
        match cmd {
            MediaCommand::Update { call, stream } => self.with_session(call, |s| s.update(stream)),
            MediaCommand::GenerateDigits {
                call,
                digits,
                duration_ms,
            } => self.with_session(call, |s| s.generate_digits(&digits, duration_ms, now)),
            MediaCommand::GenerateTone {
                call,
                tone,
                duration_ms,
            } => self.with_session(call, |s| s.generate_tone(tone, duration_ms, now)),
            MediaCommand::CancelGenerate { call } => {
                self.with_session(call, |s| s.cancel_generate(now))
            }
            MediaCommand::StopMedia { call } => self.with_session(call, |s| s.stop_media()),
            _ => false,
        };
    }

    /// Runs `f` on the call's session and passes on its events; false without a session.
    fn with_session(&mut self, call: u64, f: impl FnOnce(&mut MediaSession)) -> bool {
        let Some(&index) = self.by_call.get(&call) else {
            return false;
        };
        if let Some(slot) = &mut self.slots[index] {
            f(&mut slot.session);
        }
        self.flush_events(index);
        true
    }

    fn attach(&mut self, call: u64, session: MediaSession, rtp: UdpSocket, rtcp: UdpSocket) {
        let index = self.free.pop().unwrap_or_else(|| {
            self.slots.push(None);
            self.slots.len() - 1
        });
        self.slots[index] = Some(Slot {
            call,
            session,
            rtp,
            rtcp,
        });
        self.by_call.insert(call, index);
        self.counters.sessions.fetch_add(1, Ordering::Relaxed);
    }

    fn remove(&mut self, call: u64) -> Option<Slot> {
        let index = self.by_call.remove(&call)?;
        self.flush(index);
        let slot = self.slots[index].take()?;
        self.free.push(index);
        self.counters.sessions.fetch_sub(1, Ordering::Relaxed);
        if let Some(conf) = slot.session.conference() {
            if let Some(members) = self.conferences.get_mut(&conf) {
                members.retain(|&c| c != call);
            }
        }
        Some(slot)
    }

    fn close(&mut self, call: u64, now: Instant) {
        let Some(&index) = self.by_call.get(&call) else {
            return;
        };
        if let Some(slot) = &mut self.slots[index] {
            slot.session.close(now);
        }
        // Sends the BYE and passes the final events on; the sockets close with the slot.
        self.remove(call);
    }

    fn detach(&mut self, call: u64) -> Option<Box<Detached>> {
        let mut slot = self.remove(call)?;
        slot.session.set_conference(None);
        Some(Box::new(Detached {
            call,
            session: slot.session,
            rtp: slot.rtp,
            rtcp: slot.rtcp,
        }))
    }

    fn set_conference(&mut self, conf: u64, members: Vec<u64>) {
        let old = self.conferences.remove(&conf).unwrap_or_default();
        for call in old.iter().filter(|c| !members.contains(c)) {
            self.with_session(*call, |s| s.set_conference(None));
        }
        let present: Vec<u64> = members
            .into_iter()
            .filter(|c| self.by_call.contains_key(c))
            .collect();
        for &call in &present {
            self.with_session(call, |s| s.set_conference(Some(conf)));
        }
        // A call moves out of any other conference it was in.
        for (other, list) in self.conferences.iter_mut() {
            if *other != conf {
                list.retain(|c| !present.contains(c));
            }
        }
        self.conferences.retain(|_, l| !l.is_empty());
        if !present.is_empty() {
            self.conferences.insert(conf, present);
        }
    }

    /// `file` with its symlinks resolved inside `within` (media.files_dir), or `None` once
    /// FileRefused is reported. Resolving is a few `stat`s of a local directory, done here
    /// rather than in the core so that the core never touches the file system.
    fn resolve(
        &mut self,
        call: u64,
        op: u64,
        file: std::path::PathBuf,
        within: Option<std::path::PathBuf>,
    ) -> Option<std::path::PathBuf> {
        let Some(root) = within else {
            return Some(file);
        };
        match crate::media::files::resolve_within(&root, &file) {
            Ok(real) => Some(real),
            Err(err) => {
                let reason = err.to_string();
                let ev = MediaEvent::FileRefused { call, op, reason };
                emit(&mut self.backlog, &self.events, &self.counters, ev);
                None
            }
        }
    }

    /// Reads and decodes the file on a blocking thread; the samples come back as `Loaded`.
    fn load_file(&self, call: u64, op: u64, file: std::path::PathBuf) {
        let tx = self.loaded_tx.clone();
        tokio::task::spawn_blocking(move || {
            let result = wav::read(&file)
                .map(Arc::from)
                .map_err(|e| format!("{}: {e}", file.display()));
            let _ = tx.send(Loaded { call, op, result });
        });
    }

    fn loaded(&mut self, l: Loaded) {
        self.with_session(l.call, |s| s.play_loaded(l.op, l.result));
    }

    fn shutdown(&mut self) {
        let now = Instant::now();
        let calls: Vec<u64> = self.by_call.keys().copied().collect();
        for call in calls {
            self.close(call, now);
        }
        self.retry_backlog();
        tracing::debug!(shard = self.id, "media shard stopped");
    }
}

/// Reads what one socket holds (up to the budget) into its session; returns the count.
fn read_socket(slot: &mut Slot, rtcp: bool, buf: &mut [u8], clocks: &Clocks) -> u64 {
    let socket = if rtcp { &slot.rtcp } else { &slot.rtp };
    let mut read = 0;
    for _ in 0..READ_BUDGET {
        match socket::recv(socket, buf, clocks) {
            Ok((n, from, at)) => {
                read += 1;
                let data = &buf[..n];
                if rtcp {
                    slot.session.handle_rtcp(data, from, at);
                } else {
                    slot.session.handle_rtp(data, from, at);
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            // ICMP errors (port unreachable) and the like: go on, within the budget.
            Err(_) => {}
        }
    }
    read
}

fn emit(
    backlog: &mut VecDeque<MediaEvent>,
    events: &mpsc::Sender<MediaEvent>,
    counters: &Counters,
    ev: MediaEvent,
) {
    if !backlog.is_empty() {
        push_backlog(backlog, counters, ev);
        return;
    }
    match events.try_send(ev) {
        Ok(()) => {}
        Err(mpsc::error::TrySendError::Full(ev)) => push_backlog(backlog, counters, ev),
        Err(mpsc::error::TrySendError::Closed(_)) => {
            counters.events_dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn push_backlog(backlog: &mut VecDeque<MediaEvent>, counters: &Counters, ev: MediaEvent) {
    if backlog.len() < BACKLOG_LIMIT {
        backlog.push_back(ev);
    } else {
        counters.events_dropped.fetch_add(1, Ordering::Relaxed);
    }
}

fn to_media_event(call: u64, ev: SessionEvent) -> MediaEvent {
    match ev {
        SessionEvent::DigitStart(digit) => MediaEvent::DigitStart { call, digit },
        SessionEvent::DigitEnd { digit, duration_ms } => MediaEvent::DigitEnd {
            call,
            digit,
            duration_ms,
        },
        SessionEvent::GenerateDone { cancelled } => MediaEvent::GenerateDone { call, cancelled },
        SessionEvent::PlayDone {
            op,
            result,
            stopped,
        } => MediaEvent::PlayDone {
            call,
            op,
            result,
            stopped,
        },
        SessionEvent::RecordFinished {
            op,
            stopped,
            samples,
            ..
        } => MediaEvent::RecordDone {
            call,
            op,
            result: Ok((samples.len() / 8) as u32),
            stopped,
        },
    }
}

/// Writes a finished recording on a blocking thread, then reports RecordDone.
fn write_recording(
    events: mpsc::Sender<MediaEvent>,
    call: u64,
    op: u64,
    file: std::path::PathBuf,
    samples: Vec<i16>,
    stopped: bool,
) {
    tokio::task::spawn_blocking(move || {
        let result = wav::write_pcm16(&file, &samples)
            .map(|()| (samples.len() / 8) as u32)
            .map_err(|e| format!("{}: {e}", file.display()));
        let _ = events.blocking_send(MediaEvent::RecordDone {
            call,
            op,
            result,
            stopped,
        });
    });
}
