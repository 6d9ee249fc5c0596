//! The conference mixer: for N parties each hears the sum of the others (an N-1 mix, so no one
//! hears their own voice), summed in 32 bits and saturated to 16 bits.

use super::rtp::SAMPLES_PER_PACKET;

/// 20 ms of 8 kHz audio.
pub type Frame = [i16; SAMPLES_PER_PACKET];

/// `outputs[i]` = saturate(sum of all inputs - inputs[i]). Both slices have one frame per
/// party; extra outputs are left alone.
pub fn mix_minus(inputs: &[Frame], outputs: &mut [Frame]) {
    let mut total = [0i32; SAMPLES_PER_PACKET];
    for frame in inputs {
        for (t, &s) in total.iter_mut().zip(frame) {
            *t += i32::from(s);
        }
    }
    for (out, own) in outputs.iter_mut().zip(inputs) {
        for ((o, &t), &s) in out.iter_mut().zip(&total).zip(own) {
            *o = saturate(t - i32::from(s));
        }
    }
}

/// Clips to the 16-bit range.
#[inline]
pub fn saturate(v: i32) -> i16 {
    v.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_hears_the_others() {
        let inputs = [[1000i16; 160], [2000; 160], [-500; 160]];
        let mut out = [[0i16; 160]; 3];
        mix_minus(&inputs, &mut out);
        assert_eq!(out[0], [1500; 160]);
        assert_eq!(out[1], [500; 160]);
        assert_eq!(out[2], [3000; 160]);
    }

    #[test]
    fn saturates_instead_of_wrapping() {
        let inputs = [
            [30000i16; 160],
            [30000; 160],
            [30000; 160],
            [-32768; 160],
            [-32768; 160],
        ];
        let mut out = [[0i16; 160]; 5];
        mix_minus(&inputs, &mut out);
        // 30000*2 - 65536 = -5536 for the first three, 90000 - 32768 = 57232 -> clipped.
        assert_eq!(out[0], [-5536; 160]);
        assert_eq!(out[3], [i16::MAX; 160]);
        let loud = [[i16::MIN; 160], [i16::MIN; 160], [i16::MIN; 160]];
        mix_minus(&loud, &mut out[..3]);
        assert_eq!(out[0], [i16::MIN; 160]);
    }

    #[test]
    fn a_lone_party_hears_silence_and_varying_samples_mix() {
        let mut a = [0i16; 160];
        let mut b = [0i16; 160];
        for i in 0..160 {
            a[i] = i as i16 * 10;
            b[i] = -(i as i16);
        }
        let mut out = [[7i16; 160]; 2];
        mix_minus(&[a], &mut out[..1]);
        assert_eq!(out[0], [0; 160], "no self-echo");
        mix_minus(&[a, b], &mut out);
        assert_eq!(out[0], b);
        assert_eq!(out[1], a);
    }
}
