//! WAV files for play and record. Reading: 16-bit (also 8/24/32-bit and float) PCM through
//! `hound`; G.711 A-law (WAVE_FORMAT_ALAW, 6) and µ-law (WAVE_FORMAT_MULAW, 7), which hound does
//! not read, through the small RIFF parser here. Everything becomes 8 kHz mono 16-bit: stereo
//! is down-mixed (the channels averaged), more channels are refused; other sample rates are
//! resampled (a windowed-sinc low-pass at 3.6 kHz before decimation, then linear
//! interpolation; rates below 8 kHz are linearly interpolated) within 4-192 kHz, else refused.
//! Writing: 16-bit PCM 8 kHz mono through hound, or G.711 with our RIFF writer.

use std::io::Cursor;
use std::path::Path;

use super::g711;
use crate::sdp::Codec;

/// Files larger than this are refused (about 2 hours of 16-bit 8 kHz audio).
pub const MAX_FILE_BYTES: u64 = 128 << 20;
const FORMAT_ALAW: u16 = 6;
const FORMAT_MULAW: u16 = 7;
const FORMAT_EXTENSIBLE: u16 = 0xFFFE;
pub const RATE: u32 = 8000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WavError {
    #[error("{0}")]
    Io(String),
    #[error("not a WAV file: {0}")]
    Format(String),
    #[error("unsupported WAV: {0}")]
    Unsupported(String),
}

impl From<std::io::Error> for WavError {
    fn from(e: std::io::Error) -> Self {
        WavError::Io(e.to_string())
    }
}

impl From<hound::Error> for WavError {
    fn from(e: hound::Error) -> Self {
        match e {
            hound::Error::IoError(e) => WavError::Io(e.to_string()),
            hound::Error::Unsupported => WavError::Unsupported("format hound does not read".into()),
            other => WavError::Format(other.to_string()),
        }
    }
}

/// The `fmt ` chunk fields we need.
#[derive(Debug, Clone, Copy)]
struct Fmt {
    tag: u16,
    channels: u16,
    rate: u32,
    bits: u16,
}

/// Reads a WAV file as 8 kHz mono 16-bit samples.
pub fn read(path: &Path) -> Result<Vec<i16>, WavError> {
    let len = std::fs::metadata(path)?.len();
    if len > MAX_FILE_BYTES {
        return Err(WavError::Unsupported(format!(
            "file of {len} bytes is too large"
        )));
    }
    decode(&std::fs::read(path)?)
}

/// Decodes WAV bytes to 8 kHz mono 16-bit samples.
pub fn decode(bytes: &[u8]) -> Result<Vec<i16>, WavError> {
    let (fmt, data) = riff_chunks(bytes)?;
    let (interleaved, channels) = match effective_tag(&fmt, bytes) {
        FORMAT_ALAW | FORMAT_MULAW if fmt.bits == 8 => {
            let codec = if effective_tag(&fmt, bytes) == FORMAT_ALAW {
                Codec::Pcma
            } else {
                Codec::Pcmu
            };
            let mut pcm = vec![0i16; data.len()];
            g711::decode(codec, data, &mut pcm);
            (pcm, fmt.channels)
        }
        FORMAT_ALAW | FORMAT_MULAW => {
            return Err(WavError::Unsupported(format!(
                "G.711 with {} bits per sample",
                fmt.bits
            )))
        }
        _ => read_with_hound(bytes)?,
    };
    let mono = down_mix(interleaved, channels)?;
    resample(&mono, fmt.rate)
}

/// The format tag, looking through WAVE_FORMAT_EXTENSIBLE's sub-format GUID.
fn effective_tag(fmt: &Fmt, bytes: &[u8]) -> u16 {
    if fmt.tag != FORMAT_EXTENSIBLE {
        return fmt.tag;
    }
    // The sub-format GUID starts with the format tag (offset 24 of the fmt chunk body).
    find_chunk(bytes, b"fmt ")
        .and_then(|body| body.get(24..26))
        .map_or(fmt.tag, |b| u16::from_le_bytes([b[0], b[1]]))
}

fn le16(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at + 2).map(|s| u16::from_le_bytes([s[0], s[1]]))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// The body of the first chunk named `id` after the RIFF/WAVE header.
fn find_chunk<'a>(bytes: &'a [u8], id: &[u8; 4]) -> Option<&'a [u8]> {
    let mut at = 12;
    while let (Some(name), Some(size)) = (bytes.get(at..at + 4), le32(bytes, at + 4)) {
        let start = at + 8;
        let end = start.checked_add(size as usize)?;
        if name == id {
            // A truncated last chunk (common for streamed files) is taken as it is.
            return bytes.get(start..end.min(bytes.len()));
        }
        at = end.checked_add(size as usize & 1)?;
    }
    None
}

fn riff_chunks(bytes: &[u8]) -> Result<(Fmt, &[u8]), WavError> {
    if bytes.get(..4) != Some(b"RIFF") || bytes.get(8..12) != Some(b"WAVE") {
        return Err(WavError::Format("no RIFF/WAVE header".into()));
    }
    let fmt = find_chunk(bytes, b"fmt ").ok_or_else(|| WavError::Format("no fmt chunk".into()))?;
    let field = |v: Option<u16>| v.ok_or_else(|| WavError::Format("short fmt chunk".into()));
    let fmt = Fmt {
        tag: field(le16(fmt, 0))?,
        channels: field(le16(fmt, 2))?,
        rate: le32(fmt, 4).ok_or_else(|| WavError::Format("short fmt chunk".into()))?,
        bits: field(le16(fmt, 14))?,
    };
    let data =
        find_chunk(bytes, b"data").ok_or_else(|| WavError::Format("no data chunk".into()))?;
    Ok((fmt, data))
}

fn read_with_hound(bytes: &[u8]) -> Result<(Vec<i16>, u16), WavError> {
    let reader = hound::WavReader::new(Cursor::new(bytes))?;
    let spec = reader.spec();
    let samples: Vec<i16> = match spec.sample_format {
        hound::SampleFormat::Int => {
            let bits = u32::from(spec.bits_per_sample);
            if !(8..=32).contains(&bits) {
                return Err(WavError::Unsupported(format!("{bits}-bit PCM")));
            }
            reader
                .into_samples::<i32>()
                .map(|s| s.map(|v| scale_int(v, bits)))
                .collect::<Result<_, _>>()?
        }
        hound::SampleFormat::Float => reader
            .into_samples::<f32>()
            .map(|s| s.map(|v| (v.clamp(-1.0, 1.0) * 32767.0) as i16))
            .collect::<Result<_, _>>()?,
    };
    Ok((samples, spec.channels))
}

fn scale_int(v: i32, bits: u32) -> i16 {
    if bits >= 16 {
        (v >> (bits - 16)) as i16
    } else {
        (v << (16 - bits)) as i16
    }
}

fn down_mix(interleaved: Vec<i16>, channels: u16) -> Result<Vec<i16>, WavError> {
    match channels {
        1 => Ok(interleaved),
        2 => Ok(interleaved
            .chunks_exact(2)
            .map(|c| ((i32::from(c[0]) + i32::from(c[1])) / 2) as i16)
            .collect()),
        n => Err(WavError::Unsupported(format!(
            "{n} channels (mono or stereo only)"
        ))),
    }
}

/// Resamples `input` at `rate` Hz to 8 kHz.
pub fn resample(input: &[i16], rate: u32) -> Result<Vec<i16>, WavError> {
    if !(4000..=192_000).contains(&rate) {
        return Err(WavError::Unsupported(format!(
            "sample rate {rate} Hz (4-192 kHz)"
        )));
    }
    if rate == RATE {
        return Ok(input.to_vec());
    }
    let filter = (rate > RATE).then(|| LowPass::new(rate));
    let sample_at = |i: usize| -> f64 {
        match &filter {
            Some(f) => f.at(input, i),
            None => f64::from(input[i]),
        }
    };
    let out_len = (input.len() as u64 * u64::from(RATE) / u64::from(rate)) as usize;
    let step = f64::from(rate) / f64::from(RATE);
    let mut out = Vec::with_capacity(out_len);
    for k in 0..out_len {
        let pos = k as f64 * step;
        let i = pos as usize;
        let frac = pos - i as f64;
        let a = sample_at(i);
        let b = if i + 1 < input.len() {
            sample_at(i + 1)
        } else {
            a
        };
        out.push((a + (b - a) * frac).round().clamp(-32768.0, 32767.0) as i16);
    }
    Ok(out)
}

/// A Blackman-windowed sinc low-pass with its cut-off at 3.6 kHz, evaluated only at the samples
/// the interpolation needs.
struct LowPass {
    taps: Vec<f64>,
}

impl LowPass {
    fn new(rate: u32) -> Self {
        let cutoff = 3600.0 / f64::from(rate);
        // About 8 zero crossings of the sinc each side.
        let half = ((8.0 / (2.0 * cutoff)) as usize).clamp(8, 256);
        let n = 2 * half + 1;
        let mut taps: Vec<f64> = (0..n)
            .map(|i| {
                let x = i as f64 - half as f64;
                let sinc = if x == 0.0 {
                    2.0 * cutoff
                } else {
                    (std::f64::consts::TAU * cutoff * x).sin() / (std::f64::consts::PI * x)
                };
                let w = std::f64::consts::TAU * i as f64 / (n - 1) as f64;
                sinc * (0.42 - 0.5 * w.cos() + 0.08 * (2.0 * w).cos())
            })
            .collect();
        let sum: f64 = taps.iter().sum();
        taps.iter_mut().for_each(|t| *t /= sum);
        LowPass { taps }
    }

    fn at(&self, input: &[i16], i: usize) -> f64 {
        let half = self.taps.len() / 2;
        self.taps
            .iter()
            .enumerate()
            .filter_map(|(k, t)| {
                let j = (i + k).checked_sub(half)?;
                input.get(j).map(|&s| f64::from(s) * t)
            })
            .sum()
    }
}

/// Writes 16-bit PCM, 8 kHz mono, refusing to follow a symlink at the last component.
pub fn write_pcm16(path: &Path, samples: &[i16]) -> Result<(), WavError> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let file = create_no_follow(path)?;
    let mut w = hound::WavWriter::new(std::io::BufWriter::new(file), spec)?;
    let mut w16 = w.get_i16_writer(samples.len() as u32);
    for &s in samples {
        w16.write_sample(s);
    }
    w16.flush()?;
    w.finalize()?;
    Ok(())
}

fn create_no_follow(path: &Path) -> Result<std::fs::File, WavError> {
    use std::os::unix::fs::OpenOptionsExt;
    Ok(std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?)
}

/// A G.711 WAV (format 6 or 7, 8 bits, mono, 8 kHz, with the `fact` chunk non-PCM formats carry).
pub fn encode_g711(codec: Codec, samples: &[i16]) -> Vec<u8> {
    let n = samples.len() as u32;
    let tag = match codec {
        Codec::Pcma => FORMAT_ALAW,
        Codec::Pcmu => FORMAT_MULAW,
    };
    let pad = n & 1;
    let mut out = Vec::with_capacity(58 + samples.len() + 1);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(4 + 26 + 12 + 8 + n + pad).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&18u32.to_le_bytes());
    for v in [tag, 1] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&RATE.to_le_bytes());
    out.extend_from_slice(&RATE.to_le_bytes()); // bytes per second
    for v in [1u16, 8, 0] {
        // block align, bits per sample, cbSize
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(b"fact");
    out.extend_from_slice(&4u32.to_le_bytes());
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&n.to_le_bytes());
    let start = out.len();
    out.resize(start + samples.len(), 0);
    g711::encode(codec, samples, &mut out[start..]);
    if pad == 1 {
        out.push(0);
    }
    out
}

/// Writes a G.711 WAV file.
pub fn write_g711(path: &Path, codec: Codec, samples: &[i16]) -> Result<(), WavError> {
    use std::io::Write;
    let mut f = create_no_follow(path)?;
    f.write_all(&encode_g711(codec, samples))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(rate: u32, freq: f64, secs: f64) -> Vec<i16> {
        (0..(f64::from(rate) * secs) as usize)
            .map(|i| {
                (8000.0 * (std::f64::consts::TAU * freq * i as f64 / f64::from(rate)).sin()) as i16
            })
            .collect()
    }

    fn hound_bytes(spec: hound::WavSpec, samples: &[i16]) -> Vec<u8> {
        let mut buf = Cursor::new(Vec::new());
        let mut w = hound::WavWriter::new(&mut buf, spec).unwrap();
        for &s in samples {
            w.write_sample(s).unwrap();
        }
        w.finalize().unwrap();
        buf.into_inner()
    }

    fn spec(channels: u16, rate: u32) -> hound::WavSpec {
        hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        }
    }

    fn rms(s: &[i16]) -> f64 {
        (s.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / s.len().max(1) as f64).sqrt()
    }

    #[test]
    fn pcm16_write_then_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.wav");
        let samples: Vec<i16> = (0..1000).map(|i| (i * 37 % 65536 - 32768) as i16).collect();
        write_pcm16(&path, &samples).unwrap();
        let r = hound::WavReader::open(&path).unwrap();
        assert_eq!(r.spec(), spec(1, 8000));
        assert_eq!(read(&path).unwrap(), samples);
    }

    #[test]
    fn g711_write_then_read_both_laws() {
        let dir = tempfile::tempdir().unwrap();
        let samples = sine(8000, 1000.0, 0.1);
        for (codec, tag) in [(Codec::Pcma, 6u16), (Codec::Pcmu, 7)] {
            let path = dir.path().join(format!("{tag}.wav"));
            write_g711(&path, codec, &samples[..799]).unwrap();
            let bytes = std::fs::read(&path).unwrap();
            assert_eq!(le16(&bytes, 20), Some(tag));
            assert_eq!(bytes.len() % 2, 0, "padded to an even chunk");
            assert_eq!(le32(&bytes, 4), Some(bytes.len() as u32 - 8));
            let back = read(&path).unwrap();
            assert_eq!(back.len(), 799);
            let mut expect = vec![0i16; 799];
            let mut codes = vec![0u8; 799];
            g711::encode(codec, &samples[..799], &mut codes);
            g711::decode(codec, &codes, &mut expect);
            assert_eq!(back, expect, "exactly the G.711 round trip");
        }
    }

    #[test]
    fn stereo_is_down_mixed_and_other_layouts_refused() {
        let stereo = hound_bytes(spec(2, 8000), &[1000, 3000, -2000, 0]);
        assert_eq!(decode(&stereo).unwrap(), vec![2000, -1000]);
        let quad = hound_bytes(spec(4, 8000), &[0; 8]);
        assert!(matches!(decode(&quad), Err(WavError::Unsupported(_))));
        let slow = hound_bytes(spec(1, 2000), &[0; 8]);
        assert!(matches!(decode(&slow), Err(WavError::Unsupported(_))));
        assert!(matches!(
            decode(b"RIFF\0\0\0\0WAVE"),
            Err(WavError::Format(_))
        ));
        assert!(matches!(decode(b"hello"), Err(WavError::Format(_))));
        let mut g = encode_g711(Codec::Pcmu, &[0; 10]);
        g[34] = 16; // bits per sample
        assert!(matches!(decode(&g), Err(WavError::Unsupported(_))));
    }

    #[test]
    fn resampling_keeps_speech_band_and_removes_aliases() {
        // 1 kHz at 48 kHz -> 1 kHz at 8 kHz, same level.
        let tone = hound_bytes(spec(1, 48000), &sine(48000, 1000.0, 0.5));
        let out = decode(&tone).unwrap();
        assert_eq!(out.len(), 4000);
        let level = rms(&out[200..3800]);
        assert!(
            (level - 8000.0 / 2f64.sqrt()).abs() < 300.0,
            "level {level}"
        );
        let crossings = out.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
        assert!(
            (crossings as i64 - 1000).abs() < 10,
            "{crossings} zero crossings"
        );
        // 6 kHz would alias to 2 kHz at 8 kHz: the low-pass must remove it.
        let high = resample(&sine(48000, 6000.0, 0.5), 48000).unwrap();
        assert!(
            rms(&high[200..3800]) < 200.0,
            "alias {}",
            rms(&high[200..3800])
        );
        // Up-sampling from 4 kHz doubles the length.
        assert_eq!(resample(&sine(4000, 500.0, 0.5), 4000).unwrap().len(), 4000);
    }

    #[test]
    fn other_pcm_depths_and_float() {
        let mut buf = Cursor::new(Vec::new());
        let s8 = hound::WavSpec {
            bits_per_sample: 8,
            ..spec(1, 8000)
        };
        let mut w = hound::WavWriter::new(&mut buf, s8).unwrap();
        for v in [-128i8, 0, 127] {
            w.write_sample(v).unwrap();
        }
        w.finalize().unwrap();
        assert_eq!(decode(&buf.into_inner()).unwrap(), vec![-32768, 0, 32512]);
        let mut buf = Cursor::new(Vec::new());
        let f = hound::WavSpec {
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
            ..spec(1, 8000)
        };
        let mut w = hound::WavWriter::new(&mut buf, f).unwrap();
        for v in [0.5f32, -1.0] {
            w.write_sample(v).unwrap();
        }
        w.finalize().unwrap();
        assert_eq!(decode(&buf.into_inner()).unwrap(), vec![16383, -32767]);
    }

    #[test]
    fn mutated_files_never_panic() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::SmallRng::seed_from_u64(2);
        let bases = [
            encode_g711(Codec::Pcma, &[100; 64]),
            hound_bytes(spec(1, 8000), &[5; 64]),
        ];
        for _ in 0..3000 {
            let mut b = bases[rng.random_range(0..2)].clone();
            for _ in 0..rng.random_range(1..5) {
                let i = rng.random_range(0..b.len());
                b[i] = rng.random();
            }
            b.truncate(rng.random_range(0..=b.len()));
            let _ = decode(&b);
        }
    }
}
