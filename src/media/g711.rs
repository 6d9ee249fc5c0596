//! ITU-T G.711 µ-law (PCMU) and A-law (PCMA) companding between 16-bit linear PCM and 8-bit
//! codes. Encoding uses the classic segment search (the algorithm of the ITU-T G.711 reference
//! and Sun's g711.c); decoding uses 256-entry tables built at compile time from the same
//! definitions.

use crate::sdp::Codec;

/// µ-law bias added before the segment search (G.711 table 2, 0x84 = 132).
const ULAW_BIAS: i32 = 0x84;
/// Largest magnitude µ-law represents (8159 in 14-bit units, shifted to 16 bits).
const ULAW_CLIP: i32 = 32635;

/// 16-bit linear sample to a µ-law code.
pub fn ulaw_encode(sample: i16) -> u8 {
    let mut pcm = i32::from(sample);
    let sign = if pcm < 0 {
        pcm = -pcm;
        0x80
    } else {
        0
    };
    pcm = pcm.min(ULAW_CLIP) + ULAW_BIAS;
    // The segment is the position of the highest set bit above bit 7 (0..=7).
    let exponent = (31 - pcm.leading_zeros() as i32 - 7).clamp(0, 7);
    let mantissa = (pcm >> (exponent + 3)) & 0x0F;
    !(sign | (exponent << 4) | mantissa) as u8
}

const fn ulaw_decode_const(code: u8) -> i16 {
    let u = !code;
    let exponent = (u >> 4) & 0x07;
    let mantissa = (u & 0x0F) as i32;
    let magnitude = (((mantissa << 3) + ULAW_BIAS) << exponent) - ULAW_BIAS;
    if u & 0x80 != 0 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

/// Upper bounds of the A-law segments in 13-bit magnitude.
const ALAW_SEGMENT_END: [i32; 8] = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];

/// 16-bit linear sample to an A-law code (even bits inverted, G.711 §A).
pub fn alaw_encode(sample: i16) -> u8 {
    let mut pcm = i32::from(sample) >> 3;
    let mask: u8 = if pcm >= 0 {
        0xD5
    } else {
        pcm = -pcm - 1;
        0x55
    };
    let Some(segment) = ALAW_SEGMENT_END.iter().position(|&end| pcm <= end) else {
        return 0x7F ^ mask;
    };
    let shift = if segment < 2 { 1 } else { segment };
    let code = ((segment as i32) << 4) | ((pcm >> shift) & 0x0F);
    (code as u8) ^ mask
}

const fn alaw_decode_const(code: u8) -> i16 {
    let a = code ^ 0x55;
    let mut t = ((a & 0x0F) as i32) << 4;
    let segment = (a & 0x70) >> 4;
    match segment {
        0 => t += 8,
        1 => t += 0x108,
        _ => {
            t += 0x108;
            t <<= segment - 1;
        }
    }
    if a & 0x80 != 0 {
        t as i16
    } else {
        -t as i16
    }
}

const fn ulaw_table() -> [i16; 256] {
    let mut out = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        out[i] = ulaw_decode_const(i as u8);
        i += 1;
    }
    out
}

const fn alaw_table() -> [i16; 256] {
    let mut out = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        out[i] = alaw_decode_const(i as u8);
        i += 1;
    }
    out
}

static ULAW_TABLE: [i16; 256] = ulaw_table();
static ALAW_TABLE: [i16; 256] = alaw_table();

/// µ-law code to 16-bit linear.
#[inline]
pub fn ulaw_decode(code: u8) -> i16 {
    ULAW_TABLE[usize::from(code)]
}

/// A-law code to 16-bit linear.
#[inline]
pub fn alaw_decode(code: u8) -> i16 {
    ALAW_TABLE[usize::from(code)]
}

/// Encodes `pcm` into `out` (same length; extra elements of the longer one are left alone).
pub fn encode(codec: Codec, pcm: &[i16], out: &mut [u8]) {
    let f = match codec {
        Codec::Pcmu => ulaw_encode,
        Codec::Pcma => alaw_encode,
    };
    for (o, &s) in out.iter_mut().zip(pcm) {
        *o = f(s);
    }
}

/// Decodes `codes` into `out` (same length; extra elements of the longer one are left alone).
pub fn decode(codec: Codec, codes: &[u8], out: &mut [i16]) {
    let t = match codec {
        Codec::Pcmu => &ULAW_TABLE,
        Codec::Pcma => &ALAW_TABLE,
    };
    for (o, &c) in out.iter_mut().zip(codes) {
        *o = t[usize::from(c)];
    }
}

/// The code of digital silence (linear 0).
pub fn silence_code(codec: Codec) -> u8 {
    match codec {
        Codec::Pcmu => 0xFF,
        Codec::Pcma => 0xD5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulaw_known_values() {
        // G.711 table 2 end points and zero.
        assert_eq!(ulaw_encode(0), 0xFF);
        assert_eq!(ulaw_decode(0xFF), 0);
        assert_eq!(ulaw_decode(0x7F), 0, "negative zero");
        assert_eq!(ulaw_decode(0x80), 32124);
        assert_eq!(ulaw_decode(0x00), -32124);
        assert_eq!(ulaw_encode(i16::MAX), 0x80);
        assert_eq!(ulaw_encode(i16::MIN), 0x00);
        assert_eq!(ulaw_decode(0xFE), 8);
        assert_eq!(ulaw_decode(0xEF), 132);
        assert_eq!(ulaw_encode(8), 0xFE);
        assert_eq!(ulaw_encode(-8), 0x7E);
        assert_eq!(ulaw_encode(1000), 0xCE);
        assert_eq!(ulaw_decode(0xCE), 988);
    }

    #[test]
    fn alaw_known_values() {
        assert_eq!(alaw_encode(0), 0xD5);
        assert_eq!(alaw_decode(0xD5), 8);
        assert_eq!(alaw_decode(0x55), -8);
        assert_eq!(alaw_decode(0xAA), 32256);
        assert_eq!(alaw_decode(0x2A), -32256);
        assert_eq!(alaw_encode(i16::MAX), 0xAA);
        assert_eq!(alaw_encode(i16::MIN), 0x2A);
        assert_eq!(alaw_encode(1000), 0xFA);
        assert_eq!(alaw_decode(0xFA), 1008);
    }

    #[test]
    fn every_code_round_trips() {
        for c in 0..=255u8 {
            let expect_u = if c == 0x7F { 0xFF } else { c };
            assert_eq!(ulaw_encode(ulaw_decode(c)), expect_u, "µ-law {c:#04x}");
            assert_eq!(alaw_encode(alaw_decode(c)), c, "A-law {c:#04x}");
        }
    }

    #[test]
    fn quantisation_error_is_within_the_segment_step() {
        for s in (i16::MIN..=i16::MAX).step_by(7) {
            let u = i32::from(ulaw_decode(ulaw_encode(s)));
            let a = i32::from(alaw_decode(alaw_encode(s)));
            let s = i32::from(s).clamp(-32635, 32635);
            // The step of the top segment is 1024 (µ-law) and 1024 (A-law); error <= half+bias.
            let bound = (s.abs() / 16).max(16);
            assert!((u - s).abs() <= bound, "µ-law {s} -> {u}");
            assert!((a - s).abs() <= bound, "A-law {s} -> {a}");
        }
    }

    #[test]
    fn monotonic_and_symmetric() {
        let mut last_u = i16::MIN;
        let mut last_a = i16::MIN;
        for s in i16::MIN..=i16::MAX {
            let u = ulaw_decode(ulaw_encode(s));
            let a = alaw_decode(alaw_encode(s));
            assert!(u >= last_u && a >= last_a, "monotonic at {s}");
            last_u = u;
            last_a = a;
        }
        for s in [1i16, 100, 5000, 32000] {
            assert_eq!(ulaw_decode(ulaw_encode(s)), -ulaw_decode(ulaw_encode(-s)));
        }
    }

    #[test]
    fn slices_and_silence() {
        let pcm = [0i16, 1000, -1000, 30000];
        let mut codes = [0u8; 4];
        let mut back = [0i16; 4];
        for codec in [Codec::Pcmu, Codec::Pcma] {
            encode(codec, &pcm, &mut codes);
            assert_eq!(codes[0], silence_code(codec));
            decode(codec, &codes, &mut back);
            for (a, b) in pcm.iter().zip(back) {
                assert!((i32::from(*a) - i32::from(b)).abs() < 1024);
            }
        }
    }
}
