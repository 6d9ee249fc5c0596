//! RTCP (RFC 3550 §6): sender and receiver reports with report blocks, SDES CNAME, BYE, compound
//! packets (§6.1), the report interval (§6.2, appendix A.7, with the 5 s minimum) and parsing of
//! what the peer reports (validated as appendix A.2 says).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::Rng;

const VERSION: u8 = 2;
pub const PT_SR: u8 = 200;
pub const PT_RR: u8 = 201;
pub const PT_SDES: u8 = 202;
pub const PT_BYE: u8 = 203;
const SDES_CNAME: u8 = 1;

/// Seconds between 1900 (NTP epoch) and 1970 (Unix epoch).
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// The minimum report interval (§6.2).
pub const MIN_INTERVAL: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RtcpError {
    #[error("RTCP packet too short")]
    Truncated,
    #[error("not a valid RTCP compound packet: {0}")]
    Invalid(&'static str),
    #[error("RTCP packet does not fit the buffer")]
    TooLarge,
}

/// One reception report block (§6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportBlock {
    pub ssrc: u32,
    pub fraction_lost: u8,
    /// 24-bit signed cumulative number of packets lost.
    pub cumulative_lost: i32,
    pub extended_max: u32,
    pub jitter: u32,
    /// Middle 32 bits of the NTP timestamp of the last SR received from `ssrc` (0 if none).
    pub lsr: u32,
    /// Delay since that SR in 1/65536 s (0 if none).
    pub dlsr: u32,
}

/// The sender info of an SR (§6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SenderInfo {
    /// 64-bit NTP timestamp (seconds since 1900 in the high word, fraction in the low).
    pub ntp: u64,
    pub rtp_timestamp: u32,
    pub packets: u32,
    pub octets: u32,
}

/// NTP timestamp of a wall-clock time.
pub fn ntp_timestamp(t: SystemTime) -> u64 {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs().wrapping_add(NTP_UNIX_OFFSET);
    let frac = (u64::from(since.subsec_nanos()) << 32) / 1_000_000_000;
    (secs << 32) | frac
}

/// The middle 32 bits of an NTP timestamp (LSR, §6.4.1).
pub fn ntp_middle(ntp: u64) -> u32 {
    (ntp >> 16) as u32
}

/// A delay in units of 1/65536 s (DLSR).
pub fn dlsr_units(d: Duration) -> u32 {
    ((d.as_micros() << 16) / 1_000_000).min(u128::from(u32::MAX)) as u32
}

/// The next report interval: the 5 s minimum (halved for the first report, §6.2) times a
/// random factor in [0.5, 1.5] (A.7). With one sender at 64 kbit/s the bandwidth term
/// (5 % of the session bandwidth shared by 2 members) is far below the minimum, so it is not
/// computed.
pub fn report_interval(rng: &mut impl Rng, initial: bool) -> Duration {
    let base = if initial {
        MIN_INTERVAL / 2
    } else {
        MIN_INTERVAL
    };
    base.mul_f64(rng.random_range(0.5..1.5))
}

/// Writes RTCP packets one after another into a buffer: a compound packet (§6.1).
pub struct CompoundWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> CompoundWriter<'a> {
    pub fn new(buf: &'a mut [u8]) -> Self {
        CompoundWriter { buf, len: 0 }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), RtcpError> {
        let end = self.len + bytes.len();
        let dst = self.buf.get_mut(self.len..end).ok_or(RtcpError::TooLarge)?;
        dst.copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }

    fn put_u32(&mut self, v: u32) -> Result<(), RtcpError> {
        self.put(&v.to_be_bytes())
    }

    /// The common header: V=2, P=0, count, PT, length in 32-bit words minus one (§6.4.1).
    fn header(&mut self, count: u8, pt: u8, words: usize) -> Result<(), RtcpError> {
        let length = u16::try_from(words.saturating_sub(1)).map_err(|_| RtcpError::TooLarge)?;
        self.put(&[VERSION << 6 | (count & 0x1F), pt])?;
        self.put(&length.to_be_bytes())
    }

    fn block(&mut self, b: &ReportBlock) -> Result<(), RtcpError> {
        self.put_u32(b.ssrc)?;
        let lost = (b.cumulative_lost.clamp(-0x80_0000, 0x7F_FFFF) as u32) & 0x00FF_FFFF;
        self.put_u32(u32::from(b.fraction_lost) << 24 | lost)?;
        self.put_u32(b.extended_max)?;
        self.put_u32(b.jitter)?;
        self.put_u32(b.lsr)?;
        self.put_u32(b.dlsr)
    }

    /// A sender report (§6.4.1) with at most one report block (we have one peer).
    pub fn sender_report(
        &mut self,
        ssrc: u32,
        info: &SenderInfo,
        block: Option<&ReportBlock>,
    ) -> Result<(), RtcpError> {
        let n = usize::from(block.is_some());
        self.header(n as u8, PT_SR, 7 + 6 * n)?;
        self.put_u32(ssrc)?;
        self.put(&info.ntp.to_be_bytes())?;
        self.put_u32(info.rtp_timestamp)?;
        self.put_u32(info.packets)?;
        self.put_u32(info.octets)?;
        block.map_or(Ok(()), |b| self.block(b))
    }

    /// A receiver report (§6.4.2).
    pub fn receiver_report(
        &mut self,
        ssrc: u32,
        block: Option<&ReportBlock>,
    ) -> Result<(), RtcpError> {
        let n = usize::from(block.is_some());
        self.header(n as u8, PT_RR, 2 + 6 * n)?;
        self.put_u32(ssrc)?;
        block.map_or(Ok(()), |b| self.block(b))
    }

    /// SDES with one chunk holding the CNAME item (§6.5.1), null-terminated and padded to 32 bits.
    pub fn sdes_cname(&mut self, ssrc: u32, cname: &str) -> Result<(), RtcpError> {
        let name = &cname.as_bytes()[..cname.len().min(255)];
        // ssrc + type + length + text + at least one null octet, rounded up to a word.
        let chunk = 4 + 2 + name.len();
        let padded = (chunk + 1).div_ceil(4) * 4;
        self.header(1, PT_SDES, 1 + padded / 4)?;
        self.put_u32(ssrc)?;
        self.put(&[SDES_CNAME, name.len() as u8])?;
        self.put(name)?;
        for _ in chunk..padded {
            self.put(&[0])?;
        }
        Ok(())
    }

    /// BYE for our SSRC (§6.6).
    pub fn bye(&mut self, ssrc: u32) -> Result<(), RtcpError> {
        self.header(1, PT_BYE, 2)?;
        self.put_u32(ssrc)
    }
}

/// What a received compound packet tells us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RtcpSummary {
    /// The sender's SSRC and sender info, if it contained an SR.
    pub sender: Option<(u32, SenderInfo)>,
    /// The report block about `our_ssrc`, if any.
    pub about_us: Option<ReportBlock>,
    /// The peer said BYE.
    pub bye: bool,
    /// The SSRC of the first (SR or RR) packet.
    pub reporter: u32,
}

fn be32(b: &[u8], at: usize) -> Result<u32, RtcpError> {
    b.get(at..at + 4)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or(RtcpError::Truncated)
}

fn parse_block(b: &[u8], at: usize) -> Result<ReportBlock, RtcpError> {
    let word = be32(b, at + 4)?;
    // Sign-extend the 24-bit cumulative loss.
    let cumulative_lost = ((word << 8) as i32) >> 8;
    Ok(ReportBlock {
        ssrc: be32(b, at)?,
        fraction_lost: (word >> 24) as u8,
        cumulative_lost,
        extended_max: be32(b, at + 8)?,
        jitter: be32(b, at + 12)?,
        lsr: be32(b, at + 16)?,
        dlsr: be32(b, at + 20)?,
    })
}

/// Parses a compound packet (A.2 validity: version 2, the first packet an SR or RR without
/// padding, lengths adding up to the datagram). Never panics on any input.
pub fn parse_compound(data: &[u8], our_ssrc: u32) -> Result<RtcpSummary, RtcpError> {
    let mut summary = RtcpSummary::default();
    let mut at = 0;
    let mut first = true;
    while at < data.len() {
        let head = data.get(at..at + 4).ok_or(RtcpError::Truncated)?;
        let (version, padding, count, pt) =
            (head[0] >> 6, head[0] & 0x20 != 0, head[0] & 0x1F, head[1]);
        let len = (usize::from(u16::from_be_bytes([head[2], head[3]])) + 1) * 4;
        let packet = data.get(at..at + len).ok_or(RtcpError::Truncated)?;
        if version != VERSION {
            return Err(RtcpError::Invalid("version"));
        }
        if first && (padding || (pt != PT_SR && pt != PT_RR)) {
            return Err(RtcpError::Invalid("first packet not SR/RR"));
        }
        first = false;
        parse_one(packet, pt, count, our_ssrc, &mut summary)?;
        at += len;
    }
    if first {
        return Err(RtcpError::Truncated);
    }
    Ok(summary)
}

fn parse_one(
    p: &[u8],
    pt: u8,
    count: u8,
    our_ssrc: u32,
    summary: &mut RtcpSummary,
) -> Result<(), RtcpError> {
    let blocks_at = match pt {
        PT_SR => {
            let ssrc = be32(p, 4)?;
            let ntp = u64::from(be32(p, 8)?) << 32 | u64::from(be32(p, 12)?);
            let info = SenderInfo {
                ntp,
                rtp_timestamp: be32(p, 16)?,
                packets: be32(p, 20)?,
                octets: be32(p, 24)?,
            };
            summary.sender = Some((ssrc, info));
            summary.reporter = ssrc;
            28
        }
        PT_RR => {
            summary.reporter = be32(p, 4)?;
            8
        }
        PT_BYE => {
            summary.bye = true;
            return Ok(());
        }
        _ => return Ok(()),
    };
    for i in 0..usize::from(count) {
        let block = parse_block(p, blocks_at + 24 * i)?;
        if block.ssrc == our_ssrc {
            summary.about_us = Some(block);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn block() -> ReportBlock {
        ReportBlock {
            ssrc: 7,
            fraction_lost: 64,
            cumulative_lost: -3,
            extended_max: 0x0001_0010,
            jitter: 40,
            lsr: 0x1234_5678,
            dlsr: 65536,
        }
    }

    #[test]
    fn sr_sdes_compound_round_trip() {
        let mut buf = [0u8; 512];
        let mut w = CompoundWriter::new(&mut buf);
        let info = SenderInfo {
            ntp: 0xE000_0000_8000_0000,
            rtp_timestamp: 1600,
            packets: 10,
            octets: 1600,
        };
        w.sender_report(99, &info, Some(&block())).unwrap();
        w.sdes_cname(99, "abc@tapigw").unwrap();
        let n = w.len();
        // SR with one block: 52 bytes; SDES: 4 + 4 + 2 + 10 -> padded to 24.
        assert_eq!(n, 52 + 24);
        assert_eq!(buf[0], 0x81);
        assert_eq!(buf[1], PT_SR);
        assert_eq!(&buf[2..4], &[0, 12]);
        let s = parse_compound(&buf[..n], 7).unwrap();
        assert_eq!(s.sender, Some((99, info)));
        assert_eq!(s.about_us, Some(block()));
        assert_eq!(s.reporter, 99);
        assert!(!s.bye);
        assert_eq!(&buf[52 + 10..52 + 20], b"abc@tapigw");
    }

    #[test]
    fn rr_and_bye() {
        let mut buf = [0u8; 128];
        let mut w = CompoundWriter::new(&mut buf);
        w.receiver_report(5, None).unwrap();
        w.sdes_cname(5, "x").unwrap();
        w.bye(5).unwrap();
        let n = w.len();
        assert_eq!(n, 8 + 12 + 8);
        let s = parse_compound(&buf[..n], 1).unwrap();
        assert_eq!(
            (s.reporter, s.sender, s.about_us, s.bye),
            (5, None, None, true)
        );
    }

    #[test]
    fn invalid_compounds() {
        assert!(parse_compound(&[], 0).is_err());
        // An SDES first is not valid (A.2).
        let mut buf = [0u8; 64];
        let mut w = CompoundWriter::new(&mut buf);
        w.sdes_cname(1, "a").unwrap();
        let n = w.len();
        assert_eq!(
            parse_compound(&buf[..n], 0),
            Err(RtcpError::Invalid("first packet not SR/RR"))
        );
        // Lengths that run past the datagram.
        let mut w = CompoundWriter::new(&mut buf);
        w.receiver_report(1, Some(&block())).unwrap();
        assert_eq!(parse_compound(&buf[..20], 0), Err(RtcpError::Truncated));
        assert!(CompoundWriter::new(&mut [0u8; 6])
            .receiver_report(1, None)
            .is_err());
    }

    #[test]
    fn ntp_and_interval() {
        let t = UNIX_EPOCH + Duration::from_millis(1500);
        let ntp = ntp_timestamp(t);
        assert_eq!(ntp >> 32, NTP_UNIX_OFFSET + 1);
        assert_eq!(ntp & 0xFFFF_FFFF, 1 << 31);
        assert_eq!(
            ntp_middle(ntp),
            ((NTP_UNIX_OFFSET + 1) as u32) << 16 | 0x8000
        );
        assert_eq!(dlsr_units(Duration::from_millis(500)), 32768);
        let mut rng = rand::rngs::SmallRng::seed_from_u64(6);
        for _ in 0..100 {
            let i = report_interval(&mut rng, false);
            assert!(i >= Duration::from_millis(2500) && i < Duration::from_millis(7500));
            let first = report_interval(&mut rng, true);
            assert!(first >= Duration::from_millis(1250) && first < Duration::from_millis(3750));
        }
    }

    #[test]
    fn mutated_compounds_never_panic() {
        use rand::Rng;
        let mut buf = [0u8; 256];
        let mut w = CompoundWriter::new(&mut buf);
        w.sender_report(1, &SenderInfo::default(), Some(&block()))
            .unwrap();
        w.sdes_cname(1, "cname").unwrap();
        w.bye(1).unwrap();
        let n = w.len();
        let mut rng = rand::rngs::SmallRng::seed_from_u64(3551);
        for _ in 0..20000 {
            let mut p = buf[..rng.random_range(0..=n)].to_vec();
            for _ in 0..rng.random_range(0..5) {
                if !p.is_empty() {
                    let i = rng.random_range(0..p.len());
                    p[i] = rng.random();
                }
            }
            let _ = parse_compound(&p, 7);
        }
    }
}
