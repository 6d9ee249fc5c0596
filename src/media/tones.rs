//! Call-progress tones into 8 kHz PCM for lineGenerateTone. Cadences follow ITU-T E.180 /
//! ETSI ES 201 970 (the CEPT values most European networks use): RINGBACK 425 Hz, 1 s on 4 s
//! off; BUSY 425 Hz, 0.5 s on 0.5 s off; BEEP a 1400 Hz tone (the E.180 recording-warning
//! frequency). Level: -13 dBm0 (peak 5100 of 32767).

use std::f64::consts::TAU;

/// lineGenerateTone's tone modes we generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tone {
    /// LINETONEMODE_RINGBACK.
    Ringback,
    /// LINETONEMODE_BUSY.
    Busy,
    /// LINETONEMODE_BEEP.
    Beep,
}

/// Peak amplitude of -13 dBm0 (0 dBm0 is 3.14 dB below the G.711 maximum).
const LEVEL: f64 = 5100.0;
/// BEEP length when the request gives no duration.
pub const DEFAULT_BEEP_MS: u32 = 400;

struct Cadence {
    freq: f64,
    on_ms: u64,
    /// 0 = continuous.
    off_ms: u64,
}

impl Tone {
    fn cadence(self) -> Cadence {
        match self {
            Tone::Ringback => Cadence {
                freq: 425.0,
                on_ms: 1000,
                off_ms: 4000,
            },
            Tone::Busy => Cadence {
                freq: 425.0,
                on_ms: 500,
                off_ms: 500,
            },
            Tone::Beep => Cadence {
                freq: 1400.0,
                on_ms: 1000,
                off_ms: 0,
            },
        }
    }
}

/// Generates a tone for a given length (or until stopped).
pub struct ToneGenerator {
    tone: Tone,
    cadence: Cadence,
    /// Samples generated so far.
    pos: u64,
    /// Total samples, `None` = until cancelled.
    total: Option<u64>,
}

impl ToneGenerator {
    /// `duration_ms` 0 means: RINGBACK and BUSY until cancelled, BEEP [`DEFAULT_BEEP_MS`].
    pub fn new(tone: Tone, duration_ms: u32) -> Self {
        let total = match (tone, duration_ms) {
            (Tone::Beep, 0) => Some(u64::from(DEFAULT_BEEP_MS) * 8),
            (_, 0) => None,
            (_, ms) => Some(u64::from(ms) * 8),
        };
        ToneGenerator {
            tone,
            cadence: tone.cadence(),
            pos: 0,
            total,
        }
    }

    pub fn tone(&self) -> Tone {
        self.tone
    }

    pub fn is_finished(&self) -> bool {
        self.total.is_some_and(|t| self.pos >= t)
    }

    /// Fills `out` with the next samples (silence past the end); returns how many were tone
    /// time.
    pub fn fill(&mut self, out: &mut [i16]) -> usize {
        let c = &self.cadence;
        let period = (c.on_ms + c.off_ms) * 8;
        let on = c.on_ms * 8;
        let step = TAU * c.freq / 8000.0;
        let mut produced = 0;
        for o in out.iter_mut() {
            if self.is_finished() {
                *o = 0;
                continue;
            }
            let in_cadence = if c.off_ms == 0 { 0 } else { self.pos % period };
            *o = if in_cadence < on {
                (LEVEL * (step * self.pos as f64).sin()) as i16
            } else {
                0
            };
            self.pos += 1;
            produced += 1;
        }
        produced
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn energy(s: &[i16]) -> f64 {
        (s.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / s.len() as f64).sqrt()
    }

    /// Zero crossings per second estimate the frequency.
    fn frequency(s: &[i16]) -> f64 {
        let crossings = s.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
        crossings as f64 / 2.0 / (s.len() as f64 / 8000.0)
    }

    #[test]
    fn busy_cadence_and_frequency() {
        let mut g = ToneGenerator::new(Tone::Busy, 2000);
        let mut s = vec![0i16; 16000];
        assert_eq!(g.fill(&mut s), 16000);
        assert!(g.is_finished());
        let on = &s[..4000];
        let off = &s[4000..8000];
        assert!((frequency(on) - 425.0).abs() < 5.0, "{}", frequency(on));
        assert!((energy(on) - LEVEL / 2f64.sqrt()).abs() < 50.0);
        assert_eq!(energy(off), 0.0);
        assert!(energy(&s[8000..12000]) > 3000.0, "second burst");
        let mut more = [1i16; 10];
        assert_eq!(g.fill(&mut more), 0);
        assert_eq!(more, [0; 10]);
    }

    #[test]
    fn ringback_until_cancelled_and_beep_default() {
        let mut g = ToneGenerator::new(Tone::Ringback, 0);
        let mut s = vec![0i16; 8000 * 6];
        g.fill(&mut s);
        assert!(!g.is_finished());
        assert!(energy(&s[..8000]) > 3000.0);
        assert_eq!(energy(&s[8000..40000]), 0.0, "4 s off");
        assert!(energy(&s[40000..]) > 3000.0, "next ring");
        let mut b = ToneGenerator::new(Tone::Beep, 0);
        let mut s = vec![0i16; 8000];
        assert_eq!(b.fill(&mut s), DEFAULT_BEEP_MS as usize * 8);
        assert!((frequency(&s[..3200]) - 1400.0).abs() < 10.0);
    }
}
