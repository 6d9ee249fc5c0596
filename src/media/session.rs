//! One call's media session, sans-I/O: received RTP/RTCP datagrams and `now` go in
//! (`handle_rtp`, `handle_rtcp`, `handle_tick`); datagrams to send (`drain_transmits`) and
//! events (`poll_event`) come out. It keeps the RTP sender and receiver state, RTCP reports,
//! RFC 4733 digits both ways, tones, playback, recording, and the conference mix handed in by
//! the driver.
//!
//! Outgoing audio, one 20 ms packet per slot of the media clock, highest priority first:
//! RFC 4733 events while a digit is being sent (audio is held back), a tone, the file being
//! played, the conference mix, else silence (sent, so the peer's jitter buffer and NAT
//! bindings stay alive). Nothing is sent while our direction is recvonly or inactive (sources
//! still advance, so a play or tone ends on time); RTCP goes on in every direction (RFC 3264
//! §5.1). What the peer sends is used (digits, recording, conference) only when our direction
//! is sendrecv or recvonly.
//!
//! Symmetric RTP (RFC 4961): the driver sends from the sockets it receives on. Latching: the
//! first valid packet (RTP version 2 with a negotiated payload type; for RTCP a valid compound)
//! after `new` or `update` moves the destination to its source address; after that a different
//! source takes over only after [`RELATCH_PACKETS`] consecutive valid packets of one SSRC from
//! it, and its packets are dropped until then (so a stray or spoofed packet cannot divert the
//! call). RTCP goes to the SDP address's port + 1 until RTCP arrives from the peer.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::dtmf::{DigitEvent, DigitReceiver, DigitSender, EventPacket};
use super::g711;
use super::mixer::Frame;
use super::recorder::{Recorder, StopReason};
use super::rtcp::{self, CompoundWriter, ReportBlock, SenderInfo};
use super::rtp::{
    self, Accepted, ReceiveStats, RtpReceiver, RtpSender, MAX_PACKET, SAMPLES_PER_PACKET,
};
use super::tones::{Tone, ToneGenerator};
use crate::sdp::{Codec, Direction};

/// Consecutive packets from a new address that move a latched destination.
pub const RELATCH_PACKETS: u32 = 5;
/// Slots sent at once after a late tick; further missed slots are skipped (the timestamps jump
/// so the media clock stays right).
const MAX_CATCH_UP: u64 = 3;
/// Received audio kept for the conference mix: 4 packets.
const HEARD_CAPACITY: usize = 4 * SAMPLES_PER_PACKET;

/// What SDP negotiated for the call's stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamParams {
    /// Where the peer's SDP says it receives RTP (RTCP: port + 1).
    pub remote: SocketAddr,
    pub codec: Codec,
    /// The payload type SDP gave `codec` (the peer's number, static or dynamic: RFC 3264 §6.1):
    /// what we send audio with and accept audio by, never the codec's static number.
    pub payload_type: u8,
    /// The peer's telephone-event payload type, if it offered RFC 4733.
    pub telephone_event: Option<u8>,
    /// Our direction: the one in the SDP we sent (the peer's sendonly is our recvonly, see
    /// [`our_direction`]; our lineHold is our sendonly).
    pub direction: Direction,
}

/// Our direction for the peer's (RFC 3264 §6.1).
pub fn our_direction(peer: Direction) -> Direction {
    match peer {
        Direction::SendOnly => Direction::RecvOnly,
        Direction::RecvOnly => Direction::SendOnly,
        d => d,
    }
}

fn sends(d: Direction) -> bool {
    matches!(d, Direction::SendRecv | Direction::SendOnly)
}

fn receives(d: Direction) -> bool {
    matches!(d, Direction::SendRecv | Direction::RecvOnly)
}

/// Which of the call's two sockets a datagram goes out on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Socket {
    Rtp,
    Rtcp,
}

/// What the session reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    DigitStart(char),
    DigitEnd {
        digit: char,
        duration_ms: u32,
    },
    /// Digits or a tone finished, or were cancelled (by a newer request, CancelGenerate, the
    /// call's end, or digits without a negotiated telephone-event).
    GenerateDone {
        cancelled: bool,
    },
    PlayDone {
        op: u64,
        result: Result<(), String>,
        stopped: bool,
    },
    /// The driver writes `samples` to `file` and reports RecordDone.
    RecordFinished {
        op: u64,
        file: PathBuf,
        samples: Vec<i16>,
        stopped: bool,
    },
}

/// Figures for call info and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SessionStats {
    pub packets_sent: u32,
    pub octets_sent: u32,
    pub received: ReceiveStats,
    /// The peer's last report block about our stream.
    pub remote_report: Option<ReportBlock>,
    /// Round-trip time from the peer's report (§6.4.1: now - LSR - DLSR).
    pub rtt: Option<Duration>,
    /// Packets dropped: unparseable, unknown payload type, or from an address not latched.
    pub dropped: u32,
}

enum Generate {
    Digits(DigitSender),
    Tone(ToneGenerator),
}

enum Play {
    Loading {
        op: u64,
        looped: bool,
    },
    Playing {
        op: u64,
        samples: Arc<[i16]>,
        pos: usize,
        looped: bool,
    },
}

struct Recording {
    op: u64,
    file: PathBuf,
    recorder: Recorder,
}

/// A destination that follows the peer's packets (RFC 4961 latching, see the module doc).
#[derive(Debug, Clone, Copy)]
struct Latch {
    current: SocketAddr,
    locked: bool,
    candidate: Option<(SocketAddr, u32, u32)>,
}

impl Latch {
    fn new(to: SocketAddr) -> Self {
        Latch {
            current: to,
            locked: false,
            candidate: None,
        }
    }

    /// Whether a valid packet from `from` (of source `ssrc`) is to be used.
    fn accept(&mut self, from: SocketAddr, ssrc: u32) -> bool {
        if from == self.current {
            self.locked = true;
            self.candidate = None;
            return true;
        }
        if !self.locked {
            self.current = from;
            self.locked = true;
            return true;
        }
        let count = match self.candidate {
            Some((a, s, n)) if a == from && s == ssrc => n + 1,
            _ => 1,
        };
        if count >= RELATCH_PACKETS {
            *self = Latch {
                current: from,
                locked: true,
                candidate: None,
            };
            return true;
        }
        self.candidate = Some((from, ssrc, count));
        false
    }
}

/// Received audio waiting for the conference mix.
struct Heard {
    buf: VecDeque<i16>,
}

impl Heard {
    fn push(&mut self, pcm: &[i16]) {
        let over = (self.buf.len() + pcm.len()).saturating_sub(HEARD_CAPACITY);
        self.buf.drain(..over.min(self.buf.len()));
        self.buf.extend(pcm.iter().take(HEARD_CAPACITY));
    }

    fn take(&mut self, out: &mut Frame) {
        for o in out.iter_mut() {
            *o = self.buf.pop_front().unwrap_or(0);
        }
    }
}

/// A queued datagram: where its bytes are in the outbox.
struct Out {
    socket: Socket,
    to: SocketAddr,
    start: usize,
    len: usize,
}

pub struct MediaSession {
    params: StreamParams,
    start: Instant,
    wall_start: SystemTime,
    rng: SmallRng,
    sender: RtpSender,
    receiver: RtpReceiver,
    cname: String,
    rtp_dest: Latch,
    rtcp_dest: Latch,
    /// The next 20 ms slot of the media clock to send.
    next_slot: u64,
    /// The next audio packet starts a talkspurt (marker bit, RFC 3551 §4.1).
    talkspurt: bool,
    digits_in: DigitReceiver,
    generate: Option<Generate>,
    /// Cancelled digits still sending their final packets; they report nothing more.
    draining: Option<DigitSender>,
    play: Option<Play>,
    record: Option<Recording>,
    conference: Option<u64>,
    mix: Option<Frame>,
    heard: Heard,
    next_rtcp: Instant,
    sent_since_report: bool,
    /// An RTCP compound was sent (with `sender.packets`: whether BYE is owed, RFC 3550 §6.3.7).
    reported: bool,
    /// The peer's last SR: its LSR value and when it came (for LSR/DLSR).
    last_sr: Option<(u32, Instant)>,
    remote_report: Option<ReportBlock>,
    rtt: Option<Duration>,
    dropped: u32,
    outbox: Vec<u8>,
    out: Vec<Out>,
    events: VecDeque<SessionEvent>,
    closed: bool,
}

impl MediaSession {
    /// A session starting at `now` (`wall` is the same instant on the wall clock, for RTCP's
    /// NTP timestamps). `rng` seeds the SSRC, sequence number, timestamp and report intervals.
    pub fn new(params: StreamParams, now: Instant, wall: SystemTime, rng: &mut impl Rng) -> Self {
        let mut rng = SmallRng::from_rng(rng);
        let sender = RtpSender::new(&mut rng);
        let cname = format!("{:016x}@tapigw", rng.random::<u64>());
        let next_rtcp = now + rtcp::report_interval(&mut rng, true);
        MediaSession {
            params,
            start: now,
            wall_start: wall,
            sender,
            receiver: RtpReceiver::new(now),
            cname,
            rtp_dest: Latch::new(params.remote),
            rtcp_dest: Latch::new(rtcp_of(params.remote)),
            next_slot: 0,
            talkspurt: true,
            digits_in: DigitReceiver::new(),
            generate: None,
            draining: None,
            play: None,
            record: None,
            conference: None,
            mix: None,
            heard: Heard {
                buf: VecDeque::with_capacity(HEARD_CAPACITY),
            },
            next_rtcp,
            sent_since_report: false,
            reported: false,
            last_sr: None,
            remote_report: None,
            rtt: None,
            dropped: 0,
            outbox: Vec::with_capacity(2 * MAX_PACKET),
            out: Vec::with_capacity(8),
            events: VecDeque::new(),
            closed: false,
            rng,
        }
    }

    pub fn params(&self) -> &StreamParams {
        &self.params
    }

    /// Our SSRC.
    pub fn ssrc(&self) -> u32 {
        self.sender.ssrc
    }

    /// Where RTP and RTCP go now (after latching).
    pub fn destinations(&self) -> (SocketAddr, SocketAddr) {
        (self.rtp_dest.current, self.rtcp_dest.current)
    }

    /// A re-INVITE or UPDATE changed the stream. The SSRC and the sequence and timestamp
    /// spaces carry on (RFC 3550 §8: it is the same source); a new remote address is latched
    /// anew.
    pub fn update(&mut self, params: StreamParams) {
        if params.remote != self.params.remote {
            self.rtp_dest = Latch::new(params.remote);
            self.rtcp_dest = Latch::new(rtcp_of(params.remote));
        }
        if params.codec != self.params.codec || !sends(self.params.direction) {
            self.talkspurt = true;
        }
        self.params = params;
    }

    /// The instant slot 0 of the media clock began.
    pub fn clock_start(&self) -> Instant {
        self.start
    }

    /// Moves the media clock's origin to `start` (a session moved to a shard that ticks at
    /// another phase). Timestamps and sequence numbers run on; the packet after the move comes
    /// up to half a slot early or late, once.
    pub fn shift_clock(&mut self, start: Instant) {
        if start >= self.start {
            self.wall_start += start - self.start;
        } else {
            self.wall_start -= self.start - start;
        }
        self.start = start;
    }

    fn samples_at(&self, now: Instant) -> u64 {
        let d = now.saturating_duration_since(self.start);
        (d.as_micros() * 8 / 1000) as u64
    }

    // ---- input ----

    /// A datagram on the RTP socket.
    pub fn handle_rtp(&mut self, data: &[u8], from: SocketAddr, now: Instant) {
        let Ok((header, payload)) = rtp::parse(data) else {
            self.dropped += 1;
            return;
        };
        let audio = header.payload_type == self.params.payload_type;
        let event = Some(header.payload_type) == self.params.telephone_event;
        if !(audio || event) || !self.rtp_dest.accept(from, header.ssrc) {
            self.dropped += 1;
            return;
        }
        if self.receiver.on_packet(&header, now, audio) == Accepted::Probation
            && self.receiver.stats().received > 0
        {
            // A sequence jump on probation: not used until confirmed (A.1).
            return;
        }
        if !receives(self.params.direction) {
            return;
        }
        if event {
            let events = &mut self.events;
            self.digits_in
                .on_packet(header.timestamp, payload, now, &mut |e| {
                    events.push_back(digit_event(e))
                });
        } else {
            self.on_audio(header.timestamp, payload, now);
        }
    }

    fn on_audio(&mut self, timestamp: u32, payload: &[u8], now: Instant) {
        if self.record.is_none() && self.conference.is_none() {
            return;
        }
        let mut pcm = [0i16; SAMPLES_PER_PACKET];
        for (i, chunk) in payload.chunks(SAMPLES_PER_PACKET).enumerate() {
            let pcm = &mut pcm[..chunk.len()];
            g711::decode(self.params.codec, chunk, pcm);
            let ts = timestamp.wrapping_add((i * SAMPLES_PER_PACKET) as u32);
            if let Some(r) = &mut self.record {
                r.recorder.push(ts, pcm, now);
            }
            if self.conference.is_some() {
                self.heard.push(pcm);
            }
        }
    }

    /// A datagram on the RTCP socket.
    pub fn handle_rtcp(&mut self, data: &[u8], from: SocketAddr, now: Instant) {
        let Ok(summary) = rtcp::parse_compound(data, self.sender.ssrc) else {
            self.dropped += 1;
            return;
        };
        if !self.rtcp_dest.accept(from, summary.reporter) {
            self.dropped += 1;
            return;
        }
        if let Some((_, info)) = summary.sender {
            self.last_sr = Some((rtcp::ntp_middle(info.ntp), now));
        }
        if let Some(block) = summary.about_us {
            self.remote_report = Some(block);
            self.rtt = self.round_trip(&block, now);
        }
    }

    /// §6.4.1: RTT = A - LSR - DLSR in 1/65536 s, A our NTP time of arrival.
    fn round_trip(&self, block: &ReportBlock, now: Instant) -> Option<Duration> {
        if block.lsr == 0 {
            return None;
        }
        let a = rtcp::ntp_middle(self.ntp_at(now));
        let units = a.wrapping_sub(block.lsr).wrapping_sub(block.dlsr);
        (units < 0x8000_0000).then(|| Duration::from_micros(u64::from(units) * 1_000_000 / 65536))
    }

    fn ntp_at(&self, now: Instant) -> u64 {
        rtcp::ntp_timestamp(self.wall_start + now.saturating_duration_since(self.start))
    }

    // ---- requests ----

    /// RFC 4733 digits; a request in progress is cancelled.
    pub fn generate_digits(&mut self, digits: &str, duration_ms: u32, now: Instant) {
        self.cancel_generate(now);
        if digits.is_empty() {
            return;
        }
        if self.params.telephone_event.is_none() {
            // The core sends SIP INFO for a peer without telephone-event.
            self.events
                .push_back(SessionEvent::GenerateDone { cancelled: true });
            return;
        }
        self.draining = None;
        let slot = self.next_slot * SAMPLES_PER_PACKET as u64;
        self.generate = Some(Generate::Digits(DigitSender::new(
            digits,
            duration_ms,
            slot,
        )));
    }

    pub fn generate_tone(&mut self, tone: Tone, duration_ms: u32, now: Instant) {
        self.cancel_generate(now);
        self.generate = Some(Generate::Tone(ToneGenerator::new(tone, duration_ms)));
    }

    /// Cancels digits or a tone in progress (GenerateDone{cancelled: true}); digits in flight
    /// still get their final packets.
    pub fn cancel_generate(&mut self, now: Instant) {
        let Some(g) = self.generate.take() else {
            return;
        };
        if let Generate::Digits(mut d) = g {
            let at = self
                .samples_at(now)
                .max(self.next_slot * SAMPLES_PER_PACKET as u64);
            d.cancel(at);
            if !d.is_finished() {
                self.draining = Some(d);
            }
        }
        self.events
            .push_back(SessionEvent::GenerateDone { cancelled: true });
    }

    /// A play request: the driver loads the file and calls [`Self::play_loaded`]. A play in
    /// progress is stopped.
    pub fn play_requested(&mut self, op: u64, looped: bool) {
        self.stop_play();
        self.play = Some(Play::Loading { op, looped });
    }

    /// The file of play `op` was read (8 kHz mono samples) or could not be.
    pub fn play_loaded(&mut self, op: u64, loaded: Result<Arc<[i16]>, String>) {
        let Some(Play::Loading {
            op: pending,
            looped,
        }) = self.play
        else {
            return;
        };
        if pending != op {
            return;
        }
        match loaded {
            Ok(samples) if !samples.is_empty() => {
                self.play = Some(Play::Playing {
                    op,
                    samples,
                    pos: 0,
                    looped,
                });
            }
            Ok(_) => self.finish_play(Ok(()), false),
            Err(e) => self.finish_play(Err(e), false),
        }
    }

    fn stop_play(&mut self) {
        if self.play.is_some() {
            self.finish_play(Ok(()), true);
        }
    }

    fn finish_play(&mut self, result: Result<(), String>, stopped: bool) {
        let op = match self.play.take() {
            Some(Play::Loading { op, .. } | Play::Playing { op, .. }) => op,
            None => return,
        };
        self.events.push_back(SessionEvent::PlayDone {
            op,
            result,
            stopped,
        });
    }

    /// Records what the peer sends into `file` (already confined); a recording in progress is
    /// stopped.
    pub fn record(
        &mut self,
        op: u64,
        file: PathBuf,
        max_ms: u32,
        silence_ms: Option<u32>,
        now: Instant,
    ) {
        self.stop_record();
        self.record = Some(Recording {
            op,
            file,
            recorder: Recorder::new(max_ms, silence_ms, now),
        });
    }

    fn stop_record(&mut self) {
        if let Some(r) = &mut self.record {
            r.recorder.stop();
        }
        self.finish_record();
    }

    fn finish_record(&mut self) {
        let Some(r) = self.record.take() else {
            return;
        };
        let stopped = r.recorder.stopped() == Some(StopReason::Stopped);
        self.events.push_back(SessionEvent::RecordFinished {
            op: r.op,
            file: r.file,
            samples: r.recorder.into_samples(),
            stopped,
        });
    }

    /// mediaStop: ends play and record (stopped = true).
    pub fn stop_media(&mut self) {
        self.stop_play();
        self.stop_record();
    }

    /// Joins (`Some`) or leaves (`None`) a conference; the driver then feeds the mix.
    pub fn set_conference(&mut self, conf: Option<u64>) {
        self.conference = conf;
        self.mix = None;
        self.heard.buf.clear();
    }

    pub fn conference(&self) -> Option<u64> {
        self.conference
    }

    /// The next 20 ms of what the peer sent, for the mix (silence when nothing came).
    pub fn take_heard(&mut self, out: &mut Frame) {
        self.heard.take(out);
    }

    /// What this party hears of the conference in the next slot.
    pub fn set_mix(&mut self, frame: &Frame) {
        self.mix = Some(*frame);
    }

    // ---- time ----

    /// Sends what is due by `now`: the 20 ms slots of the media clock, RTCP reports; ends
    /// digits whose packets stopped and recordings past their limits.
    pub fn handle_tick(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        let due = self.samples_at(now) / SAMPLES_PER_PACKET as u64 + 1;
        if due > self.next_slot + MAX_CATCH_UP {
            // Too late to catch up: skip, so the timestamps keep to the media clock.
            self.next_slot = due - MAX_CATCH_UP;
            self.talkspurt = true;
        }
        while self.next_slot < due {
            self.send_slot(self.next_slot);
            self.next_slot += 1;
        }
        let events = &mut self.events;
        self.digits_in
            .on_tick(now, &mut |e| events.push_back(digit_event(e)));
        self.check_recording(now);
        if now >= self.next_rtcp {
            self.send_report(now, false);
            self.next_rtcp = now + rtcp::report_interval(&mut self.rng, false);
        }
    }

    fn check_recording(&mut self, now: Instant) {
        if let Some(r) = &mut self.record {
            r.recorder.on_tick(now);
            if r.recorder.stopped().is_some() {
                self.finish_record();
            }
        }
    }

    /// One 20 ms slot: event packets due, else one audio packet.
    fn send_slot(&mut self, slot: u64) {
        let t = slot * SAMPLES_PER_PACKET as u64;
        let mut in_event = self.poll_draining(t);
        if matches!(self.generate, Some(Generate::Digits(_))) {
            in_event |= self.poll_digits(t);
        }
        if in_event {
            self.talkspurt = true;
            return;
        }
        let mut frame = [0i16; SAMPLES_PER_PACKET];
        self.next_frame(&mut frame);
        if sends(self.params.direction) {
            self.queue_audio(t, &frame);
        } else {
            self.talkspurt = true;
        }
    }

    /// Sends the digits' packets due at `t`; true while an event is on.
    fn poll_digits(&mut self, t: u64) -> bool {
        let Some(Generate::Digits(mut d)) = self.generate.take() else {
            return false;
        };
        while let Some(p) = d.poll(t) {
            self.queue_event(p);
        }
        let busy = d.in_event();
        if d.is_finished() {
            self.events
                .push_back(SessionEvent::GenerateDone { cancelled: false });
        } else {
            self.generate = Some(Generate::Digits(d));
        }
        busy
    }

    fn poll_draining(&mut self, t: u64) -> bool {
        let Some(mut d) = self.draining.take() else {
            return false;
        };
        while let Some(p) = d.poll(t) {
            self.queue_event(p);
        }
        let busy = d.in_event();
        if !d.is_finished() {
            self.draining = Some(d);
        }
        busy
    }

    /// An RFC 4733 packet: the event's start as timestamp, our sequence numbers (§2.5.1).
    fn queue_event(&mut self, p: EventPacket) {
        let Some(pt) = self.params.telephone_event else {
            return;
        };
        if !sends(self.params.direction) {
            return;
        }
        let ts = self.sender.timestamp_at(p.start);
        let payload = p.payload.to_bytes();
        let to = self.rtp_dest.current;
        let sender = &mut self.sender;
        push_out(&mut self.outbox, &mut self.out, Socket::Rtp, to, |buf| {
            sender.write(pt, p.marker, ts, &payload, buf).ok()
        });
        self.sent_since_report = true;
    }

    /// The next 20 ms of outgoing audio: tone, else playback, else the conference mix, else
    /// silence.
    fn next_frame(&mut self, frame: &mut Frame) {
        if let Some(Generate::Tone(g)) = &mut self.generate {
            g.fill(frame);
            if g.is_finished() {
                self.generate = None;
                self.events
                    .push_back(SessionEvent::GenerateDone { cancelled: false });
            }
            return;
        }
        if let Some(Play::Playing {
            samples,
            pos,
            looped,
            ..
        }) = &mut self.play
        {
            let ended = fill_from(samples, pos, *looped, frame);
            if ended {
                self.finish_play(Ok(()), false);
            }
            return;
        }
        if let Some(mix) = self.mix.take() {
            *frame = mix;
        }
    }

    fn queue_audio(&mut self, t: u64, frame: &Frame) {
        if !sends(self.params.direction) {
            return;
        }
        let mut payload = [0u8; SAMPLES_PER_PACKET];
        g711::encode(self.params.codec, frame, &mut payload);
        let ts = self.sender.timestamp_at(t);
        let pt = self.params.payload_type;
        let marker = std::mem::take(&mut self.talkspurt);
        let to = self.rtp_dest.current;
        let sender = &mut self.sender;
        push_out(&mut self.outbox, &mut self.out, Socket::Rtp, to, |buf| {
            sender.write(pt, marker, ts, &payload, buf).ok()
        });
        self.sent_since_report = true;
    }

    /// An SR if we sent RTP since the last report, else an RR; with a report block once the
    /// peer's stream is valid; then SDES CNAME (§6.1: every compound carries it); BYE last
    /// when closing (§6.6).
    fn send_report(&mut self, now: Instant, bye: bool) {
        let block = self.report_block(now);
        let info = SenderInfo {
            ntp: self.ntp_at(now),
            rtp_timestamp: self.sender.timestamp_at(self.samples_at(now)),
            packets: self.sender.packets,
            octets: self.sender.octets,
        };
        let (ssrc, sr) = (self.sender.ssrc, self.sent_since_report);
        self.sent_since_report = false;
        let cname = std::mem::take(&mut self.cname);
        let to = self.rtcp_dest.current;
        push_out(&mut self.outbox, &mut self.out, Socket::Rtcp, to, |buf| {
            let mut w = CompoundWriter::new(buf);
            if sr {
                w.sender_report(ssrc, &info, block.as_ref()).ok()?;
            } else {
                w.receiver_report(ssrc, block.as_ref()).ok()?;
            }
            w.sdes_cname(ssrc, &cname).ok()?;
            if bye {
                w.bye(ssrc).ok()?;
            }
            Some(w.len())
        });
        self.cname = cname;
        self.reported = true;
    }

    fn report_block(&mut self, now: Instant) -> Option<ReportBlock> {
        if !self.receiver.is_valid() {
            return None;
        }
        let st = self.receiver.stats();
        let (lsr, dlsr) = self.last_sr.map_or((0, 0), |(lsr, at)| {
            (lsr, rtcp::dlsr_units(now.saturating_duration_since(at)))
        });
        Some(ReportBlock {
            ssrc: st.ssrc.unwrap_or(0),
            fraction_lost: self.receiver.fraction_lost_since_last(),
            cumulative_lost: st.lost,
            extended_max: st.extended_max,
            jitter: st.jitter,
            lsr,
            dlsr,
        })
    }

    /// The call ended: play, record and generate end (stopped / cancelled), a final report
    /// with BYE is queued, unless the session never sent an RTP or RTCP packet (a call dropped
    /// before its first 20 ms slot): such a participant sends no BYE (RFC 3550 §6.3.7).
    pub fn close(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        self.cancel_generate(now);
        self.draining = None;
        self.stop_media();
        if self.sender.packets > 0 || self.reported {
            self.send_report(now, true);
        }
        self.closed = true;
    }

    // ---- output ----

    /// Hands every queued datagram to `send(socket, destination, bytes)` and empties the queue.
    pub fn drain_transmits(&mut self, mut send: impl FnMut(Socket, SocketAddr, &[u8])) {
        for o in &self.out {
            send(o.socket, o.to, &self.outbox[o.start..o.start + o.len]);
        }
        self.out.clear();
        self.outbox.clear();
    }

    pub fn poll_event(&mut self) -> Option<SessionEvent> {
        self.events.pop_front()
    }

    pub fn stats(&self) -> SessionStats {
        SessionStats {
            packets_sent: self.sender.packets,
            octets_sent: self.sender.octets,
            received: self.receiver.stats(),
            remote_report: self.remote_report,
            rtt: self.rtt,
            dropped: self.dropped,
        }
    }
}

/// Copies the next frame of a playback, looping or padding with silence; true at its end.
fn fill_from(samples: &[i16], pos: &mut usize, looped: bool, frame: &mut Frame) -> bool {
    let mut filled = 0;
    while filled < frame.len() {
        if *pos >= samples.len() {
            if !looped {
                frame[filled..].fill(0);
                return true;
            }
            *pos = 0;
        }
        let n = (samples.len() - *pos).min(frame.len() - filled);
        frame[filled..filled + n].copy_from_slice(&samples[*pos..*pos + n]);
        *pos += n;
        filled += n;
    }
    !looped && *pos >= samples.len()
}

/// Appends a datagram written by `write` (which returns its length) to the outbox.
fn push_out(
    outbox: &mut Vec<u8>,
    out: &mut Vec<Out>,
    socket: Socket,
    to: SocketAddr,
    write: impl FnOnce(&mut [u8]) -> Option<usize>,
) {
    let start = outbox.len();
    outbox.resize(start + MAX_PACKET, 0);
    match write(&mut outbox[start..]) {
        Some(len) => {
            outbox.truncate(start + len);
            out.push(Out {
                socket,
                to,
                start,
                len,
            });
        }
        None => outbox.truncate(start),
    }
}

fn rtcp_of(rtp: SocketAddr) -> SocketAddr {
    SocketAddr::new(rtp.ip(), rtp.port().wrapping_add(1))
}

fn digit_event(e: DigitEvent) -> SessionEvent {
    match e {
        DigitEvent::Start(d) => SessionEvent::DigitStart(d),
        DigitEvent::End { digit, duration_ms } => SessionEvent::DigitEnd { digit, duration_ms },
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
