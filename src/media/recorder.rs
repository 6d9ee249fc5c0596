//! Recording what the peer sends. Samples are placed by RTP timestamp (a lost packet becomes
//! silence, a late one fills its place), and the recording stops at `max_ms` of audio, after
//! `silence_ms` of silence, on stop or at the call's end. Silence: a 20 ms frame whose RMS is
//! below [`SILENCE_RMS`] (-40 dBFS), counted from the start of the recording too; no packets
//! at all for `silence_ms` of wall time is silence as well, and `max_ms` of wall time (plus
//! [`WALL_GRACE`]) ends a recording whose peer sends nothing. Written by the engine as 16-bit
//! PCM, 8 kHz, mono (the format every tool reads; G.711 would save half the bytes only).

use std::time::{Duration, Instant};

use super::rtp::SAMPLES_PER_PACKET;

/// RMS below which a frame is silence: -40 dBFS.
pub const SILENCE_RMS: f64 = 327.0;
/// Extra wall time past `max_ms` before a recording without packets ends.
pub const WALL_GRACE: Duration = Duration::from_millis(500);
/// A gap in timestamps longer than this is not filled (the peer restarted its clock).
const MAX_GAP: u32 = 8000;

/// Why a recording ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    MaxTime,
    Silence,
    /// mediaStop, a newer record request, or the call's end.
    Stopped,
}

#[derive(Debug)]
pub struct Recorder {
    samples: Vec<i16>,
    max_samples: usize,
    silence_samples: Option<usize>,
    /// Samples since the last frame that was not silence.
    silent_run: usize,
    base_ts: Option<u32>,
    started: Instant,
    last_packet: Instant,
    max_wall: Duration,
    stopped: Option<StopReason>,
}

impl Recorder {
    pub fn new(max_ms: u32, silence_ms: Option<u32>, now: Instant) -> Self {
        let max_samples = max_ms as usize * 8;
        Recorder {
            samples: Vec::with_capacity(max_samples.min(8000 * 60)),
            max_samples,
            silence_samples: silence_ms.filter(|&s| s > 0).map(|s| s as usize * 8),
            silent_run: 0,
            base_ts: None,
            started: now,
            last_packet: now,
            max_wall: Duration::from_millis(u64::from(max_ms)) + WALL_GRACE,
            stopped: None,
        }
    }

    /// Why it stopped, once it has.
    pub fn stopped(&self) -> Option<StopReason> {
        self.stopped
    }

    /// Milliseconds recorded.
    pub fn ms(&self) -> u32 {
        (self.samples.len() / 8) as u32
    }

    /// Adds a received packet's decoded samples at its timestamp.
    pub fn push(&mut self, timestamp: u32, pcm: &[i16], now: Instant) {
        if self.stopped.is_some() {
            return;
        }
        self.last_packet = now;
        let base = *self.base_ts.get_or_insert(timestamp);
        let offset = timestamp.wrapping_sub(base);
        let len = self.samples.len();
        if offset as i32 >= 0 && (offset as usize) < len {
            // Late (reordered) packet: fill its place.
            let at = offset as usize;
            let n = pcm.len().min(len - at);
            self.samples[at..at + n].copy_from_slice(&pcm[..n]);
            return;
        }
        if (offset as i32) < 0 {
            return;
        }
        let gap = offset as usize - len;
        if gap > 0 && gap <= MAX_GAP as usize {
            self.append_silence(gap);
        } else if gap > 0 {
            // A jump: carry on from here.
            self.base_ts = Some(timestamp.wrapping_sub(self.samples.len() as u32));
        }
        self.append(pcm);
    }

    fn append_silence(&mut self, n: usize) {
        let room = self.max_samples.saturating_sub(self.samples.len());
        let n = n.min(room);
        self.samples.resize(self.samples.len() + n, 0);
        self.silent_run += n;
        self.check_limits();
    }

    fn append(&mut self, pcm: &[i16]) {
        let room = self.max_samples.saturating_sub(self.samples.len());
        let pcm = &pcm[..pcm.len().min(room)];
        self.samples.extend_from_slice(pcm);
        for frame in pcm.chunks(SAMPLES_PER_PACKET) {
            if is_silent(frame) {
                self.silent_run += frame.len();
            } else {
                self.silent_run = 0;
            }
        }
        self.check_limits();
    }

    fn check_limits(&mut self) {
        if self.samples.len() >= self.max_samples {
            self.stopped = Some(StopReason::MaxTime);
        } else if self.silence_samples.is_some_and(|s| self.silent_run >= s) {
            self.stopped = Some(StopReason::Silence);
        }
    }

    /// Wall-clock limits for a peer that sends nothing.
    pub fn on_tick(&mut self, now: Instant) {
        if self.stopped.is_some() {
            return;
        }
        if now.saturating_duration_since(self.started) >= self.max_wall {
            self.stopped = Some(StopReason::MaxTime);
        } else if self.silence_samples.is_some_and(|s| {
            now.saturating_duration_since(self.last_packet) >= Duration::from_millis(s as u64 / 8)
        }) {
            self.stopped = Some(StopReason::Silence);
        }
    }

    pub fn stop(&mut self) {
        self.stopped.get_or_insert(StopReason::Stopped);
    }

    /// The recorded samples (8 kHz mono).
    pub fn into_samples(self) -> Vec<i16> {
        self.samples
    }
}

/// RMS of the frame below the silence threshold.
pub fn is_silent(frame: &[i16]) -> bool {
    if frame.is_empty() {
        return true;
    }
    let energy: f64 = frame.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (energy / frame.len() as f64).sqrt() < SILENCE_RMS
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOUD: [i16; 160] = [3000; 160];
    const QUIET: [i16; 160] = [50; 160];

    #[test]
    fn places_by_timestamp_fills_losses_and_reorders() {
        let t0 = Instant::now();
        let mut r = Recorder::new(10_000, None, t0);
        r.push(1000, &[1; 160], t0);
        r.push(1320, &[3; 160], t0); // 1160 lost...
        r.push(1160, &[2; 160], t0); // ... arrives late
        r.push(1800, &[5; 160], t0); // 1480, 1640 lost for good
        let s = r.into_samples();
        assert_eq!(s.len(), 960);
        assert!(s[..160].iter().all(|&x| x == 1));
        assert!(s[160..320].iter().all(|&x| x == 2));
        assert!(s[320..480].iter().all(|&x| x == 3));
        assert!(s[480..800].iter().all(|&x| x == 0));
        assert!(s[800..].iter().all(|&x| x == 5));
    }

    #[test]
    fn stops_at_max_ms() {
        let t0 = Instant::now();
        let mut r = Recorder::new(50, None, t0);
        for i in 0..5u32 {
            r.push(i * 160, &LOUD, t0);
        }
        assert_eq!(r.stopped(), Some(StopReason::MaxTime));
        assert_eq!(r.ms(), 50);
        r.push(800, &LOUD, t0);
        assert_eq!(r.ms(), 50, "nothing after the stop");
    }

    #[test]
    fn stops_after_silence_and_speech_resets_the_count() {
        let t0 = Instant::now();
        let mut r = Recorder::new(60_000, Some(100), t0);
        let mut ts = 0;
        let mut push = |r: &mut Recorder, f: &[i16; 160]| {
            r.push(ts, f, t0);
            ts += 160;
        };
        for _ in 0..4 {
            push(&mut r, &QUIET);
        }
        push(&mut r, &LOUD);
        for _ in 0..4 {
            push(&mut r, &QUIET);
        }
        assert_eq!(r.stopped(), None, "80 ms of silence after speech");
        push(&mut r, &QUIET);
        assert_eq!(r.stopped(), Some(StopReason::Silence));
        assert_eq!(r.ms(), 200);
        assert!(is_silent(&QUIET) && !is_silent(&LOUD));
    }

    #[test]
    fn wall_clock_ends_a_silent_peer_and_stop_wins_once() {
        let t0 = Instant::now();
        let mut r = Recorder::new(1000, Some(300), t0);
        r.on_tick(t0 + Duration::from_millis(299));
        assert_eq!(r.stopped(), None);
        r.on_tick(t0 + Duration::from_millis(300));
        assert_eq!(r.stopped(), Some(StopReason::Silence));
        let mut r = Recorder::new(1000, None, t0);
        r.on_tick(t0 + Duration::from_millis(1499));
        assert_eq!(r.stopped(), None);
        r.on_tick(t0 + Duration::from_millis(1500));
        assert_eq!(r.stopped(), Some(StopReason::MaxTime));
        r.stop();
        assert_eq!(r.stopped(), Some(StopReason::MaxTime));
        let mut r = Recorder::new(1000, None, t0);
        r.stop();
        assert_eq!(r.stopped(), Some(StopReason::Stopped));
    }
}
