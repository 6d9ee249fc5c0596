//! RTP (RFC 3550) for one audio stream: packet parse and write (the 12-byte fixed header via the
//! `rtp-types` crate), the sender's SSRC / sequence / timestamp state (§5.1), and the receiver's
//! statistics: source validation and sequence tracking (appendix A.1), loss (A.3),
//! interarrival jitter (A.8) and the packet interval.

use std::time::{Duration, Instant};

use rand::Rng;
use rtp_types::{RtpPacket, RtpPacketBuilder};

/// The RTP clock of G.711 and telephone-event: 8000 Hz (RFC 3551 §4.5.14, RFC 4733 §2.1).
pub const CLOCK_RATE: u32 = 8000;
/// 20 ms of audio per packet (`a=ptime:20`): 160 samples at 8 kHz.
pub const SAMPLES_PER_PACKET: usize = 160;
/// The packet interval.
pub const PACKET_INTERVAL: Duration = Duration::from_millis(20);
/// Room for any packet we send (12-byte header + 160 bytes of G.711) or receive (a full
/// Ethernet-sized datagram).
pub const MAX_PACKET: usize = 1500;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RtpError {
    #[error("not an RTP packet: {0}")]
    Parse(String),
    #[error("RTP packet does not fit the buffer")]
    TooLarge,
}

/// The fields of a received packet's fixed header we use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpHeader {
    pub payload_type: u8,
    pub marker: bool,
    pub sequence: u16,
    pub timestamp: u32,
    pub ssrc: u32,
}

/// Parses an RTP packet (version 2; CSRCs, extension and padding are skipped), returning its
/// header and payload. Never panics on any input.
pub fn parse(data: &[u8]) -> Result<(RtpHeader, &[u8]), RtpError> {
    let packet = RtpPacket::parse(data).map_err(|e| RtpError::Parse(e.to_string()))?;
    let header = RtpHeader {
        payload_type: packet.payload_type(),
        marker: packet.marker_bit(),
        sequence: packet.sequence_number(),
        timestamp: packet.timestamp(),
        ssrc: packet.ssrc(),
    };
    let offset = packet.payload_offset();
    let len = packet.payload_len();
    Ok((header, &data[offset..offset + len]))
}

/// Writes a packet with `header` and `payload` into `buf`, returning its length.
pub fn write(header: &RtpHeader, payload: &[u8], buf: &mut [u8]) -> Result<usize, RtpError> {
    RtpPacketBuilder::<&[u8], &[u8]>::new()
        .payload_type(header.payload_type)
        .marker_bit(header.marker)
        .sequence_number(header.sequence)
        .timestamp(header.timestamp)
        .ssrc(header.ssrc)
        .payload(payload)
        .write_into(buf)
        .map_err(|_| RtpError::TooLarge)
}

/// Sender side of a stream (RFC 3550 §5.1): random SSRC, initial sequence number and initial
/// timestamp; the sequence number goes up by one per packet; the packet and octet counts feed
/// the sender report (§6.4.1).
#[derive(Debug, Clone)]
pub struct RtpSender {
    pub ssrc: u32,
    sequence: u16,
    /// RTP timestamp of the media clock at `anchor` (§5.1: random initial value).
    initial_timestamp: u32,
    pub packets: u32,
    pub octets: u32,
    /// RTP timestamp of the last packet sent, for the sender report.
    pub last_timestamp: Option<u32>,
}

impl RtpSender {
    pub fn new(rng: &mut impl Rng) -> Self {
        RtpSender {
            ssrc: rng.random(),
            sequence: rng.random(),
            initial_timestamp: rng.random(),
            packets: 0,
            octets: 0,
            last_timestamp: None,
        }
    }

    /// The RTP timestamp `samples` after the start of the stream.
    pub fn timestamp_at(&self, samples: u64) -> u32 {
        self.initial_timestamp.wrapping_add(samples as u32)
    }

    /// The sequence number the next packet will carry.
    pub fn next_sequence(&self) -> u16 {
        self.sequence
    }

    /// Writes the next packet (sequence number + 1, §5.1) into `buf`.
    pub fn write(
        &mut self,
        payload_type: u8,
        marker: bool,
        timestamp: u32,
        payload: &[u8],
        buf: &mut [u8],
    ) -> Result<usize, RtpError> {
        let header = RtpHeader {
            payload_type,
            marker,
            sequence: self.sequence,
            timestamp,
            ssrc: self.ssrc,
        };
        let len = write(&header, payload, buf)?;
        self.sequence = self.sequence.wrapping_add(1);
        self.packets = self.packets.wrapping_add(1);
        self.octets = self.octets.wrapping_add(payload.len() as u32);
        self.last_timestamp = Some(timestamp);
        Ok(len)
    }
}

/// RFC 3550 appendix A.1 constants.
const MAX_DROPOUT: u16 = 3000;
const MAX_MISORDER: u16 = 100;
const MIN_SEQUENTIAL: u32 = 2;
const SEQ_MOD: u32 = 1 << 16;

/// What the receiver made of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// In sequence (or reordered within the window): use it.
    Yes,
    /// The source is still on probation (A.1) or the packet jumped too far: counted as seen only.
    Probation,
}

/// Receiver statistics of the peer's stream (RFC 3550 §6.4.1, appendix A.1, A.3, A.8).
#[derive(Debug, Clone)]
pub struct RtpReceiver {
    /// Clock origin for arrival times in RTP units (A.8).
    anchor: Instant,
    ssrc: Option<u32>,
    max_seq: u16,
    cycles: u32,
    base_seq: u32,
    bad_seq: u32,
    probation: u32,
    received: u32,
    expected_prior: u32,
    received_prior: u32,
    last_transit: Option<u32>,
    /// Interarrival jitter scaled by 16 (A.8's integer form).
    jitter_q4: u32,
    last_arrival: Option<Instant>,
    last_interval: Duration,
    max_interval: Duration,
}

/// A snapshot of the receive statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReceiveStats {
    pub ssrc: Option<u32>,
    pub received: u32,
    /// Extended highest sequence number received (cycles << 16 | max).
    pub extended_max: u32,
    pub expected: u32,
    /// Cumulative number of packets lost (A.3; negative with duplicates).
    pub lost: i32,
    /// Interarrival jitter in RTP timestamp units (A.8).
    pub jitter: u32,
    /// Time between the last two packets, and the largest seen.
    pub last_interval: Duration,
    pub max_interval: Duration,
}

impl RtpReceiver {
    pub fn new(anchor: Instant) -> Self {
        RtpReceiver {
            anchor,
            ssrc: None,
            max_seq: 0,
            cycles: 0,
            base_seq: 0,
            bad_seq: SEQ_MOD + 1,
            probation: 0,
            received: 0,
            expected_prior: 0,
            received_prior: 0,
            last_transit: None,
            jitter_q4: 0,
            last_arrival: None,
            last_interval: Duration::ZERO,
            max_interval: Duration::ZERO,
        }
    }

    /// The peer's SSRC, once a packet came.
    pub fn ssrc(&self) -> Option<u32> {
        self.ssrc
    }

    /// Accounts for a received packet. `audio` marks packets whose timestamps advance with the
    /// media clock (not repeated telephone-event timestamps), the only ones used for jitter.
    pub fn on_packet(&mut self, header: &RtpHeader, now: Instant, audio: bool) -> Accepted {
        if self.ssrc != Some(header.ssrc) {
            // A new source (or the peer restarted with a new SSRC): start over (A.1).
            *self = RtpReceiver::new(self.anchor);
            self.ssrc = Some(header.ssrc);
            self.init_seq(header.sequence);
            self.max_seq = header.sequence.wrapping_sub(1);
            self.probation = MIN_SEQUENTIAL;
        }
        self.on_arrival(now);
        let accepted = self.update_seq(header.sequence);
        if audio && accepted == Accepted::Yes {
            self.update_jitter(header.timestamp, now);
        }
        accepted
    }

    fn init_seq(&mut self, seq: u16) {
        self.base_seq = u32::from(seq);
        self.max_seq = seq;
        self.bad_seq = SEQ_MOD + 1;
        self.cycles = 0;
        self.received = 0;
        self.received_prior = 0;
        self.expected_prior = 0;
    }

    /// RFC 3550 A.1 `update_seq`.
    fn update_seq(&mut self, seq: u16) -> Accepted {
        let udelta = seq.wrapping_sub(self.max_seq);
        if self.probation > 0 {
            if seq == self.max_seq.wrapping_add(1) {
                self.probation -= 1;
                self.max_seq = seq;
                if self.probation == 0 {
                    self.init_seq(seq);
                    self.received += 1;
                    return Accepted::Yes;
                }
            } else {
                self.probation = MIN_SEQUENTIAL - 1;
                self.max_seq = seq;
            }
            return Accepted::Probation;
        }
        if udelta < MAX_DROPOUT {
            if seq < self.max_seq {
                self.cycles = self.cycles.wrapping_add(SEQ_MOD);
            }
            self.max_seq = seq;
        } else if u32::from(udelta) <= SEQ_MOD - u32::from(MAX_MISORDER) {
            // A very large jump: accept it only if the next packet follows it (restart).
            if u32::from(seq) == self.bad_seq {
                self.init_seq(seq);
            } else {
                self.bad_seq = (u32::from(seq) + 1) & (SEQ_MOD - 1);
                return Accepted::Probation;
            }
        }
        // Otherwise a duplicate or a reordered packet: counted, used.
        self.received = self.received.wrapping_add(1);
        Accepted::Yes
    }

    fn on_arrival(&mut self, now: Instant) {
        if let Some(last) = self.last_arrival {
            self.last_interval = now.saturating_duration_since(last);
            self.max_interval = self.max_interval.max(self.last_interval);
        }
        self.last_arrival = Some(now);
    }

    /// RFC 3550 A.8: J += (|D| - J) / 16, with D the change in transit time.
    fn update_jitter(&mut self, timestamp: u32, now: Instant) {
        let elapsed = now.saturating_duration_since(self.anchor);
        let arrival = (elapsed.as_micros() * u128::from(CLOCK_RATE) / 1_000_000) as u32;
        let transit = arrival.wrapping_sub(timestamp);
        if let Some(last) = self.last_transit {
            let d = (transit.wrapping_sub(last) as i32).unsigned_abs();
            // jitter_q4 += d - ((jitter_q4 + 8) >> 4), in the A.8 integer form.
            self.jitter_q4 = self
                .jitter_q4
                .wrapping_add(d)
                .wrapping_sub((self.jitter_q4 + 8) >> 4);
        }
        self.last_transit = Some(transit);
    }

    fn extended_max(&self) -> u32 {
        self.cycles.wrapping_add(u32::from(self.max_seq))
    }

    fn expected(&self) -> u32 {
        self.extended_max()
            .wrapping_sub(self.base_seq)
            .wrapping_add(1)
    }

    pub fn stats(&self) -> ReceiveStats {
        let (expected, lost) = if self.ssrc.is_some() && self.probation == 0 {
            let expected = self.expected();
            (expected, expected as i64 - i64::from(self.received))
        } else {
            (0, 0)
        };
        ReceiveStats {
            ssrc: self.ssrc,
            received: self.received,
            extended_max: self.extended_max(),
            expected,
            lost: lost.clamp(-0x80_0000, 0x7F_FFFF) as i32,
            jitter: self.jitter_q4 >> 4,
            last_interval: self.last_interval,
            max_interval: self.max_interval,
        }
    }

    /// The fraction lost since the previous call, in 1/256 (A.3), moving the interval on.
    pub fn fraction_lost_since_last(&mut self) -> u8 {
        let expected = self.expected();
        let expected_interval = expected.wrapping_sub(self.expected_prior);
        self.expected_prior = expected;
        let received_interval = self.received.wrapping_sub(self.received_prior);
        self.received_prior = self.received;
        let lost_interval = expected_interval as i64 - i64::from(received_interval);
        if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            ((lost_interval << 8) / i64::from(expected_interval)).min(255) as u8
        }
    }

    /// True once the source passed probation (a report block may be sent about it).
    pub fn is_valid(&self) -> bool {
        self.ssrc.is_some() && self.probation == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn header(seq: u16, ts: u32) -> RtpHeader {
        RtpHeader {
            payload_type: 0,
            marker: false,
            sequence: seq,
            timestamp: ts,
            ssrc: 0x1234_5678,
        }
    }

    #[test]
    fn write_then_parse() {
        let mut buf = [0u8; MAX_PACKET];
        let h = RtpHeader {
            payload_type: 8,
            marker: true,
            sequence: 65535,
            timestamp: 0xDEAD_BEEF,
            ssrc: 42,
        };
        let n = write(&h, &[1, 2, 3], &mut buf).unwrap();
        assert_eq!(n, 15);
        assert_eq!(&buf[..2], &[0x80, 0x88], "V=2, M=1, PT=8");
        let (back, payload) = parse(&buf[..n]).unwrap();
        assert_eq!(back, h);
        assert_eq!(payload, &[1, 2, 3]);
        assert!(write(&h, &[0; 200], &mut [0u8; 100]).is_err());
    }

    #[test]
    fn parse_skips_csrcs_extension_and_padding() {
        // V=2 P=1 X=1 CC=1, PT 0, seq 1, ts 2, ssrc 3, csrc, ext (id, len 1 word), payload, pad.
        let mut p = vec![0xB1, 0x00, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3];
        p.extend_from_slice(&[0, 0, 0, 9]);
        p.extend_from_slice(&[0xBE, 0xDE, 0, 1, 1, 2, 3, 4]);
        p.extend_from_slice(&[0xAA, 0xBB]);
        p.extend_from_slice(&[0, 0, 3]);
        let (h, payload) = parse(&p).unwrap();
        assert_eq!((h.sequence, h.timestamp, h.ssrc), (1, 2, 3));
        assert_eq!(payload, &[0xAA, 0xBB]);
        assert!(parse(&[0x40; 12]).is_err(), "version 1");
        assert!(parse(&[0x80; 11]).is_err(), "short");
    }

    #[test]
    fn sender_counts_and_increments() {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(1);
        let mut s = RtpSender::new(&mut rng);
        let first = s.next_sequence();
        let mut buf = [0u8; MAX_PACKET];
        for i in 0..3u64 {
            let ts = s.timestamp_at(i * 160);
            let n = s.write(0, i == 0, ts, &[0xFF; 160], &mut buf).unwrap();
            let (h, _) = parse(&buf[..n]).unwrap();
            assert_eq!(h.sequence, first.wrapping_add(i as u16));
            assert_eq!(h.timestamp, s.timestamp_at(0).wrapping_add(160 * i as u32));
            assert_eq!(h.ssrc, s.ssrc);
            assert_eq!(h.marker, i == 0);
        }
        assert_eq!((s.packets, s.octets), (3, 480));
        let other = RtpSender::new(&mut rng);
        assert_ne!(other.ssrc, s.ssrc, "random SSRC");
    }

    #[test]
    fn loss_fraction_and_wrap() {
        let t0 = Instant::now();
        let mut r = RtpReceiver::new(t0);
        // Start near the wrap so the extended sequence number must count a cycle.
        let mut seq = 65530u16;
        let mut ts = 1000u32;
        let mut now = t0;
        for i in 0..20 {
            if i != 10 && i != 11 {
                r.on_packet(&header(seq, ts), now, true);
            }
            seq = seq.wrapping_add(1);
            ts = ts.wrapping_add(160);
            now += PACKET_INTERVAL;
        }
        let st = r.stats();
        // The first packet is on probation (A.1), so the base is the second.
        assert_eq!(st.expected, 19);
        assert_eq!(st.received, 17);
        assert_eq!(st.lost, 2);
        assert_eq!(st.extended_max, (1 << 16) + u32::from(seq.wrapping_sub(1)));
        assert_eq!(r.fraction_lost_since_last(), (2 * 256 / 19) as u8);
        assert_eq!(r.fraction_lost_since_last(), 0, "nothing new");
        assert_eq!(st.jitter, 0, "perfect pacing");
        assert_eq!(st.last_interval, PACKET_INTERVAL);
    }

    #[test]
    fn jitter_follows_a8() {
        let t0 = Instant::now();
        let mut r = RtpReceiver::new(t0);
        // Packets every 20 ms of media, arriving alternately 0 and 5 ms late.
        for i in 0..200u32 {
            let late = if i % 2 == 0 { 0 } else { 5 };
            let now = t0 + Duration::from_millis(u64::from(i) * 20 + late);
            r.on_packet(&header(i as u16, i * 160), now, true);
        }
        // |D| is 40 units (5 ms) every packet: J converges to 40.
        let j = r.stats().jitter;
        assert!((38..=40).contains(&j), "jitter {j}");
        assert_eq!(r.stats().max_interval, Duration::from_millis(25));
    }

    #[test]
    fn duplicates_reordering_and_restart() {
        let t0 = Instant::now();
        let mut r = RtpReceiver::new(t0);
        for s in [100u16, 101, 102, 104, 103, 103] {
            r.on_packet(&header(s, 0), t0, false);
        }
        let st = r.stats();
        assert_eq!(st.expected, 4, "101..=104");
        assert_eq!(st.received, 5);
        assert_eq!(st.lost, -1, "a duplicate");
        // A jump of 20000: on probation until the next one follows it.
        assert_eq!(
            r.on_packet(&header(20000, 0), t0, false),
            Accepted::Probation
        );
        assert_eq!(r.on_packet(&header(20001, 0), t0, false), Accepted::Yes);
        assert_eq!(r.stats().expected, 1);
        // A new SSRC starts over.
        let mut h = header(5, 0);
        h.ssrc = 9;
        assert_eq!(r.on_packet(&h, t0, false), Accepted::Probation);
        assert_eq!(r.stats().ssrc, Some(9));
    }

    #[test]
    fn mutated_packets_never_panic() {
        use rand::Rng;
        let mut rng = rand::rngs::SmallRng::seed_from_u64(3550);
        let mut buf = [0u8; MAX_PACKET];
        let h = header(1, 2);
        let n = write(&h, &[0x55; 160], &mut buf).unwrap();
        let mut r = RtpReceiver::new(Instant::now());
        for _ in 0..20000 {
            let len = rng.random_range(0..=n);
            let mut p = buf[..len].to_vec();
            for _ in 0..rng.random_range(0..6) {
                if !p.is_empty() {
                    let i = rng.random_range(0..p.len());
                    p[i] = rng.random();
                }
            }
            if let Ok((h, payload)) = parse(&p) {
                assert!(payload.len() <= p.len());
                r.on_packet(&h, Instant::now(), rng.random());
                let _ = r.stats();
                let _ = r.fraction_lost_since_last();
            }
        }
    }
}
