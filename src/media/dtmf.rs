//! RFC 4733 telephone-event: the 4-byte payload (§2.3), a sender that plays a digit string as
//! events in media time (start packet with the marker bit, updates every 50 ms, the final packet
//! sent three times with the same timestamp, §2.5.1), and a receiver that reports each digit's
//! start and end once (§2.5.2), whatever is lost, repeated or retransmitted.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Samples per millisecond at the 8 kHz event clock.
const SAMPLES_PER_MS: u64 = 8;
/// Update interval of an ongoing event (§2.5.1.2).
pub const UPDATE_SAMPLES: u64 = 50 * SAMPLES_PER_MS;
/// The final packet is sent this many times (§2.5.1.4).
pub const END_REPEATS: u8 = 3;
/// Spacing of the repeated final packets: one audio packet interval.
const END_SPACING: u64 = 20 * SAMPLES_PER_MS;
/// A ',' in a digit string pauses this long.
pub const PAUSE_MS: u32 = 1000;
/// The volume we send: -10 dBm0 (§2.3.4).
const VOLUME: u8 = 10;
/// The longest event without segmentation (§2.5.1.3): the 16-bit duration field.
const MAX_DURATION: u64 = u16::MAX as u64;
/// The receiver ends an event whose packets stopped coming for this long (§2.5.2.2).
pub const RECEIVE_TIMEOUT: Duration = Duration::from_millis(250);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DtmfError {
    #[error("'{0}' is not a DTMF digit (0-9, *, #, A-D, ',' for a pause)")]
    InvalidDigit(char),
}

/// Event code of a DTMF digit (§3.2, table 1).
pub fn event_code(digit: char) -> Option<u8> {
    match digit.to_ascii_uppercase() {
        d @ '0'..='9' => Some(d as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        d @ 'A'..='D' => Some(d as u8 - b'A' + 12),
        _ => None,
    }
}

/// The digit of a DTMF event code (codes above 15, e.g. flash, are not digits).
pub fn event_digit(code: u8) -> Option<char> {
    match code {
        0..=9 => Some((b'0' + code) as char),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some((b'A' + code - 12) as char),
        _ => None,
    }
}

/// Checks a digit string for `lineGenerateDigits` (the core answers LINEERR_INVALDIGITS).
pub fn validate_digits(digits: &str) -> Result<(), DtmfError> {
    match digits
        .chars()
        .find(|&c| c != ',' && event_code(c).is_none())
    {
        Some(c) => Err(DtmfError::InvalidDigit(c)),
        None => Ok(()),
    }
}

/// The telephone-event payload (§2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPayload {
    pub event: u8,
    pub end: bool,
    pub volume: u8,
    /// In timestamp units (samples).
    pub duration: u16,
}

impl EventPayload {
    pub fn to_bytes(self) -> [u8; 4] {
        let d = self.duration.to_be_bytes();
        [
            self.event,
            u8::from(self.end) << 7 | (self.volume & 0x3F),
            d[0],
            d[1],
        ]
    }

    /// The first event of a payload (further events of §2.5.1.5 are not used for DTMF).
    pub fn parse(payload: &[u8]) -> Option<EventPayload> {
        let b = payload.get(..4)?;
        Some(EventPayload {
            event: b[0],
            end: b[1] & 0x80 != 0,
            volume: b[1] & 0x3F,
            duration: u16::from_be_bytes([b[2], b[3]]),
        })
    }
}

/// A packet the sender wants to go out now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPacket {
    /// Media time (samples since the stream's start) of the event's start: its RTP timestamp.
    pub start: u64,
    pub marker: bool,
    pub payload: EventPayload,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Digit(u8),
    Pause,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Ready for the next step at or after `from`.
    Idle { from: u64 },
    Tone {
        code: u8,
        start: u64,
        next_update: u64,
        end: u64,
    },
    /// Sending the final packet; `ended` is when the tone stopped (the gap counts from there).
    Ending {
        code: u8,
        start: u64,
        duration: u16,
        sent: u8,
        next: u64,
        ended: u64,
    },
    /// Inter-digit gap or ',' pause: audio flows.
    Quiet { until: u64 },
}

/// Plays a digit string as RFC 4733 events. Time is media time in samples, passed in.
#[derive(Debug, Clone)]
pub struct DigitSender {
    steps: VecDeque<Step>,
    state: State,
    on: u64,
    gap: u64,
}

impl DigitSender {
    /// Each digit lasts `duration_ms` (0 = 100 ms, capped at the 16-bit duration field, about
    /// 8 s) followed by a gap as long (TAPI's dwDuration covers both); ',' pauses 1 s.
    /// Characters that are not digits are skipped (check with [`validate_digits`] first).
    pub fn new(digits: &str, duration_ms: u32, now: u64) -> Self {
        let ms = if duration_ms == 0 { 100 } else { duration_ms };
        let on = (u64::from(ms) * SAMPLES_PER_MS).min(MAX_DURATION);
        let steps = digits
            .chars()
            .filter_map(|c| match c {
                ',' => Some(Step::Pause),
                c => event_code(c).map(Step::Digit),
            })
            .collect();
        DigitSender {
            steps,
            state: State::Idle { from: now },
            on,
            gap: on,
        }
    }

    /// True while an event is being sent: audio packets are held back, the event stands for
    /// the audio of its duration.
    pub fn in_event(&self) -> bool {
        matches!(self.state, State::Tone { .. } | State::Ending { .. })
    }

    /// All digits sent, their final packets included.
    pub fn is_finished(&self) -> bool {
        self.steps.is_empty() && matches!(self.state, State::Idle { .. })
    }

    /// Stops after the current event: its final packets still go out (§2.5.1.4), the rest is
    /// dropped.
    pub fn cancel(&mut self, now: u64) {
        self.steps.clear();
        match self.state {
            State::Tone { code, start, .. } => {
                self.state = State::Ending {
                    code,
                    start,
                    duration: now.saturating_sub(start).clamp(1, MAX_DURATION) as u16,
                    sent: 0,
                    next: now,
                    ended: now,
                };
            }
            State::Quiet { .. } => self.state = State::Idle { from: now },
            _ => {}
        }
    }

    /// The next packet due at or before `now`, if any; call until `None`.
    pub fn poll(&mut self, now: u64) -> Option<EventPacket> {
        loop {
            match self.state {
                State::Idle { from } => {
                    if now < from {
                        return None;
                    }
                    match self.steps.pop_front()? {
                        Step::Pause => {
                            self.state = State::Quiet {
                                until: from + u64::from(PAUSE_MS) * SAMPLES_PER_MS,
                            }
                        }
                        Step::Digit(code) => return Some(self.start_tone(code, from)),
                    }
                }
                State::Quiet { until } => {
                    if now < until {
                        return None;
                    }
                    self.state = State::Idle { from: until };
                }
                State::Tone {
                    code,
                    start,
                    next_update,
                    end,
                } => {
                    if now >= end {
                        self.state = State::Ending {
                            code,
                            start,
                            duration: (end - start) as u16,
                            sent: 0,
                            next: end,
                            ended: end,
                        };
                        continue;
                    }
                    if now < next_update {
                        return None;
                    }
                    self.state = State::Tone {
                        code,
                        start,
                        next_update: next_update + UPDATE_SAMPLES,
                        end,
                    };
                    let duration = (now - start + 20 * SAMPLES_PER_MS).min(end - start) as u16;
                    return Some(packet(code, start, false, false, duration));
                }
                State::Ending {
                    code,
                    start,
                    duration,
                    sent,
                    next,
                    ended,
                } => {
                    if now < next {
                        return None;
                    }
                    self.state = if sent + 1 >= END_REPEATS {
                        State::Quiet {
                            until: (ended + self.gap).max(next),
                        }
                    } else {
                        State::Ending {
                            code,
                            start,
                            duration,
                            sent: sent + 1,
                            next: next + END_SPACING,
                            ended,
                        }
                    };
                    if sent + 1 >= END_REPEATS && self.steps.is_empty() {
                        // The last digit: no trailing gap.
                        self.state = State::Idle { from: next };
                    }
                    return Some(packet(code, start, false, true, duration));
                }
            }
        }
    }

    fn start_tone(&mut self, code: u8, start: u64) -> EventPacket {
        self.state = State::Tone {
            code,
            start,
            next_update: start + UPDATE_SAMPLES,
            end: start + self.on,
        };
        // The start packet (§2.5.1.2) carries the marker and the duration so far: the 20 ms
        // packet interval it stands for.
        let duration = (20 * SAMPLES_PER_MS).min(self.on) as u16;
        packet(code, start, true, false, duration)
    }
}

fn packet(code: u8, start: u64, marker: bool, end: bool, duration: u16) -> EventPacket {
    EventPacket {
        start,
        marker,
        payload: EventPayload {
            event: code,
            end,
            volume: VOLUME,
            duration,
        },
    }
}

/// What the receiver detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigitEvent {
    Start(char),
    End { digit: char, duration_ms: u32 },
}

#[derive(Debug, Clone, Copy)]
struct Active {
    timestamp: u32,
    code: u8,
    duration: u16,
    last_seen: Instant,
}

/// Detects digits in received telephone-event packets (§2.5.2). An event is identified by its
/// RTP timestamp: a new timestamp is a new event (§2.5.2.1), even without the marker (the start
/// packet was lost); the end is reported at the first packet with the E bit, and repeated end
/// packets or retransmissions of an event already ended are ignored; an event whose packets
/// stop without an end packet ends after [`RECEIVE_TIMEOUT`] or when the next event starts.
#[derive(Debug, Clone, Default)]
pub struct DigitReceiver {
    active: Option<Active>,
    last_ended: Option<u32>,
}

impl DigitReceiver {
    pub fn new() -> Self {
        Self::default()
    }

    /// Handles one telephone-event packet's payload; detected events go to `out`.
    pub fn on_packet(
        &mut self,
        timestamp: u32,
        payload: &[u8],
        now: Instant,
        out: &mut impl FnMut(DigitEvent),
    ) {
        let Some(ev) = EventPayload::parse(payload) else {
            return;
        };
        let Some(digit) = event_digit(ev.event) else {
            return;
        };
        if self.is_stale(timestamp) {
            return;
        }
        if let Some(a) = &mut self.active {
            if a.timestamp == timestamp && a.code == ev.event {
                a.duration = a.duration.max(ev.duration);
                a.last_seen = now;
                if ev.end {
                    self.finish(out);
                }
                return;
            }
            // A new event while the previous one never saw its end.
            self.finish(out);
        }
        out(DigitEvent::Start(digit));
        self.active = Some(Active {
            timestamp,
            code: ev.event,
            duration: ev.duration,
            last_seen: now,
        });
        if ev.end {
            self.finish(out);
        }
    }

    /// Ends an event whose packets stopped coming.
    pub fn on_tick(&mut self, now: Instant, out: &mut impl FnMut(DigitEvent)) {
        if self
            .active
            .is_some_and(|a| now.saturating_duration_since(a.last_seen) >= RECEIVE_TIMEOUT)
        {
            self.finish(out);
        }
    }

    /// True while a digit is held down.
    pub fn in_event(&self) -> bool {
        self.active.is_some()
    }

    /// A packet of the event that ended last, or of one before it (timestamps compared in
    /// serial number arithmetic).
    fn is_stale(&self, timestamp: u32) -> bool {
        self.last_ended
            .is_some_and(|last| (timestamp.wrapping_sub(last) as i32) <= 0)
    }

    fn finish(&mut self, out: &mut impl FnMut(DigitEvent)) {
        if let Some(a) = self.active.take() {
            self.last_ended = Some(a.timestamp);
            if let Some(digit) = event_digit(a.code) {
                out(DigitEvent::End {
                    digit,
                    duration_ms: u32::from(a.duration) / SAMPLES_PER_MS as u32,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(sender: &mut DigitSender, until: u64) -> Vec<(u64, EventPacket)> {
        let mut out = vec![];
        // Polled every 20 ms as the session does.
        let mut t = 0;
        while t <= until {
            while let Some(p) = sender.poll(t) {
                out.push((t, p));
            }
            t += 160;
        }
        out
    }

    #[test]
    fn codes_and_validation() {
        assert_eq!(event_code('5'), Some(5));
        assert_eq!(event_code('*'), Some(10));
        assert_eq!(event_code('#'), Some(11));
        assert_eq!(event_code('d'), Some(15));
        assert_eq!(event_code('E'), None);
        for c in 0..16 {
            assert_eq!(event_code(event_digit(c).unwrap()), Some(c));
        }
        assert_eq!(event_digit(16), None, "flash is not a digit");
        assert!(validate_digits("12,#*AD").is_ok());
        assert_eq!(validate_digits("12x"), Err(DtmfError::InvalidDigit('x')));
        let p = EventPayload {
            event: 11,
            end: true,
            volume: 10,
            duration: 800,
        };
        assert_eq!(p.to_bytes(), [11, 0x8A, 0x03, 0x20]);
        assert_eq!(EventPayload::parse(&p.to_bytes()), Some(p));
        assert_eq!(EventPayload::parse(&[1, 2, 3]), None);
    }

    #[test]
    fn one_digit_start_updates_and_three_ends() {
        // 100 ms digit: start at 0 with M, updates at >= 50 ms, three end packets.
        let mut s = DigitSender::new("5", 100, 0);
        assert!(!s.is_finished());
        let packets = collect(&mut s, 4000);
        assert!(s.is_finished());
        let first = packets[0].1;
        assert!(first.marker && !first.payload.end);
        assert_eq!(first.payload.event, 5);
        assert!(
            packets.iter().all(|(_, p)| p.start == 0),
            "same timestamp throughout"
        );
        assert!(
            packets[1..].iter().all(|(_, p)| !p.marker),
            "marker on the start only"
        );
        let ends: Vec<_> = packets.iter().filter(|(_, p)| p.payload.end).collect();
        assert_eq!(ends.len(), 3, "the final packet three times");
        assert!(ends.iter().all(|(_, p)| p.payload.duration == 800));
        assert_eq!(ends[0].0, 800, "first end at the digit's end");
        assert_eq!(ends[2].0 - ends[0].0, 320, "20 ms apart");
        let updates: Vec<_> = packets
            .iter()
            .filter(|(_, p)| !p.marker && !p.payload.end)
            .collect();
        assert!(!updates.is_empty());
        let mut last = first.payload.duration;
        for (t, u) in &updates {
            assert!(u.payload.duration > last && u.payload.duration <= 800);
            assert!(*t >= UPDATE_SAMPLES);
            last = u.payload.duration;
        }
        // Updates are at least 50 ms apart.
        for w in updates.windows(2) {
            assert!(w[1].0 - w[0].0 >= UPDATE_SAMPLES - 160);
        }
    }

    #[test]
    fn digits_gaps_and_pause() {
        let mut s = DigitSender::new("1,2", 100, 0);
        let packets = collect(&mut s, 40_000);
        let starts: Vec<_> = packets
            .iter()
            .filter(|(_, p)| p.marker)
            .map(|(t, p)| (*t, p.payload.event))
            .collect();
        // '1' at 0; its end packets from 800; a 100 ms gap from the tone's end -> 1600; the
        // 1 s pause -> 9600; '2' at 9600.
        assert_eq!(starts, vec![(0, 1), (9600, 2)]);
        assert!(s.is_finished());
    }

    #[test]
    fn cancel_ends_the_current_event_properly() {
        let mut s = DigitSender::new("123", 200, 0);
        assert!(s.poll(0).unwrap().marker);
        s.cancel(480);
        let rest = collect(&mut s, 4000);
        let ends: Vec<_> = rest.iter().filter(|(_, p)| p.payload.end).collect();
        assert_eq!(ends.len(), 3);
        assert!(rest.iter().all(|(_, p)| p.payload.event == 1));
        assert_eq!(ends[0].1.payload.duration, 480);
        assert!(s.is_finished());
    }

    fn feed(r: &mut DigitReceiver, ts: u32, p: EventPayload, now: Instant) -> Vec<DigitEvent> {
        let mut out = vec![];
        r.on_packet(ts, &p.to_bytes(), now, &mut |e| out.push(e));
        out
    }

    fn ev(event: u8, end: bool, duration: u16) -> EventPayload {
        EventPayload {
            event,
            end,
            volume: 10,
            duration,
        }
    }

    #[test]
    fn receiver_reports_once_despite_three_end_packets() {
        let t0 = Instant::now();
        let mut r = DigitReceiver::new();
        let mut sender = DigitSender::new("7", 120, 0);
        let mut events = vec![];
        let mut t = 0u64;
        while !sender.is_finished() {
            while let Some(p) = sender.poll(t) {
                let now = t0 + Duration::from_millis(t / 8);
                events.extend(feed(&mut r, 5000, p.payload, now));
            }
            t += 160;
        }
        assert_eq!(
            events,
            vec![
                DigitEvent::Start('7'),
                DigitEvent::End {
                    digit: '7',
                    duration_ms: 120
                }
            ]
        );
        // A late retransmission of an update of the same event is ignored too.
        assert!(feed(&mut r, 5000, ev(7, false, 400), t0).is_empty());
    }

    #[test]
    fn lost_start_packet_still_starts_the_digit() {
        let t0 = Instant::now();
        let mut r = DigitReceiver::new();
        // The marker packet is lost: the first seen is an update.
        assert_eq!(
            feed(&mut r, 100, ev(3, false, 400), t0),
            vec![DigitEvent::Start('3')]
        );
        assert!(feed(&mut r, 100, ev(3, false, 800), t0).is_empty());
        assert_eq!(
            feed(&mut r, 100, ev(3, true, 960), t0),
            vec![DigitEvent::End {
                digit: '3',
                duration_ms: 120
            }]
        );
        // Only an end packet seen: start and end at once.
        assert_eq!(
            feed(&mut r, 2000, ev(4, true, 800), t0),
            vec![
                DigitEvent::Start('4'),
                DigitEvent::End {
                    digit: '4',
                    duration_ms: 100
                }
            ]
        );
    }

    #[test]
    fn new_timestamp_is_a_new_event_and_timeouts_end_digits() {
        let t0 = Instant::now();
        let mut r = DigitReceiver::new();
        feed(&mut r, 100, ev(1, false, 160), t0);
        // All end packets of '1' lost; the same digit again with a new timestamp.
        assert_eq!(
            feed(&mut r, 1700, ev(1, false, 160), t0),
            vec![
                DigitEvent::End {
                    digit: '1',
                    duration_ms: 20
                },
                DigitEvent::Start('1')
            ]
        );
        let mut out = vec![];
        r.on_tick(t0 + Duration::from_millis(100), &mut |e| out.push(e));
        assert!(out.is_empty());
        r.on_tick(t0 + RECEIVE_TIMEOUT, &mut |e| out.push(e));
        assert_eq!(
            out,
            vec![DigitEvent::End {
                digit: '1',
                duration_ms: 20
            }]
        );
        assert!(!r.in_event());
        // An older event's packet arriving late is ignored.
        assert!(feed(&mut r, 100, ev(2, false, 160), t0).is_empty());
        // Flash (16) and short payloads are ignored.
        assert!(feed(&mut r, 9000, ev(16, false, 160), t0).is_empty());
        let mut out = vec![];
        r.on_packet(9000, &[1, 2], t0, &mut |e| out.push(e));
        assert!(out.is_empty());
    }

    #[test]
    fn mutated_payloads_never_panic() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::SmallRng::seed_from_u64(4733);
        let mut r = DigitReceiver::new();
        let t0 = Instant::now();
        let mut starts = 0i64;
        for i in 0..20000u32 {
            let len = rng.random_range(0..8);
            let p: Vec<u8> = (0..len).map(|_| rng.random()).collect();
            let ts = if rng.random_bool(0.5) {
                i / 7
            } else {
                rng.random()
            };
            r.on_packet(
                ts,
                &p,
                t0 + Duration::from_millis(u64::from(i)),
                &mut |e| match e {
                    DigitEvent::Start(_) => starts += 1,
                    DigitEvent::End { .. } => starts -= 1,
                },
            );
            assert!((0..=1).contains(&starts), "starts and ends pair up");
        }
    }
}
