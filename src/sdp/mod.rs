//! SDP offer/answer (RFC 3264) for one audio stream: G.711 µ-law/A-law and RFC 4733
//! telephone-event. Remote descriptions are parsed with webrtc-sdp (lenient); ours are written
//! as text in a fixed, well-known shape (and checked against webrtc-sdp in the tests).

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use webrtc_sdp::address::ExplicitlyTypedAddress;
use webrtc_sdp::attribute_type::{SdpAttribute, SdpAttributeType};
use webrtc_sdp::media_type::{SdpFormatList, SdpMedia, SdpMediaValue};

/// Payload type of telephone-event in our offers.
pub const TELEPHONE_EVENT_PT: u8 = 101;

/// The codecs we speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    Pcmu,
    Pcma,
}

impl Codec {
    pub fn payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
        }
    }

    /// By payload type and, for dynamic types, rtpmap name.
    fn from_format(pt: u32, rtpmap_name: Option<&str>) -> Option<Codec> {
        match (pt, rtpmap_name.map(str::to_ascii_uppercase).as_deref()) {
            (_, Some("PCMU")) | (0, None) => Some(Codec::Pcmu),
            (_, Some("PCMA")) | (8, None) => Some(Codec::Pcma),
            _ => None,
        }
    }
}

/// Media direction (RFC 3264 §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// The direction seen from the other side (RFC 3264 §6.1: sendonly is answered recvonly).
    pub fn reverse(self) -> Direction {
        match self {
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            other => other,
        }
    }

    /// Whether media flows from the side this direction belongs to.
    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    /// Whether media flows to the side this direction belongs to.
    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }

    fn from_flags(sends: bool, receives: bool) -> Direction {
        match (sends, receives) {
            (true, true) => Direction::SendRecv,
            (true, false) => Direction::SendOnly,
            (false, true) => Direction::RecvOnly,
            (false, false) => Direction::Inactive,
        }
    }

    /// What both allow: we send only if both say so, and likewise for receiving.
    pub fn intersect(self, other: Direction) -> Direction {
        Direction::from_flags(
            self.sends() && other.sends(),
            self.receives() && other.receives(),
        )
    }

    /// Our direction in an answer to an offer with `offered`, when we want `ours` (RFC 3264
    /// §6.1; RFC 6337 §5: hold is answered with the mirrored direction).
    pub fn answer_to(offered: Direction, ours: Direction) -> Direction {
        offered.reverse().intersect(ours)
    }
}

/// Our `o=` line: session id and version (RFC 4566 §5.2, RFC 3264 §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdpOrigin {
    pub session_id: u64,
    pub session_version: u64,
    pub address: IpAddr,
}

impl SdpOrigin {
    pub fn new(session_id: u64, address: IpAddr) -> Self {
        SdpOrigin {
            session_id,
            session_version: 1,
            address,
        }
    }

    /// RFC 3264 §8: a changed description carries a version one higher.
    pub fn next_version(self) -> Self {
        SdpOrigin {
            session_version: self.session_version + 1,
            ..self
        }
    }
}

/// What the peer's description tells us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteMedia {
    /// Where the peer receives RTP.
    pub address: SocketAddr,
    pub codec: Codec,
    /// The payload type the peer gave `codec`: 0 or 8, or the dynamic type its rtpmap names
    /// (`a=rtpmap:96 PCMU/8000`). Our answer uses the same number (RFC 3264 §6.1).
    pub payload_type: u8,
    /// The peer's telephone-event payload type, if any.
    pub telephone_event: Option<u8>,
    /// The events its fmtp lists for telephone-event (RFC 4733 §2.4.1; "0-15" when absent).
    pub telephone_events: Option<String>,
    /// The peer's direction attribute.
    pub direction: Direction,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    #[error("SDP does not parse: {0}")]
    Parse(String),
    #[error("no audio stream")]
    NoAudio,
    #[error("no connection address")]
    NoAddress,
    #[error("no codec in common")]
    NoCommonCodec,
}

/// Our offer: PCMU, PCMA and telephone-event 0-16, ptime 20, sendrecv.
pub fn build_offer(origin: &SdpOrigin, media: SocketAddr) -> String {
    build_offer_with(origin, media, Direction::SendRecv)
}

/// Our offer with a direction attribute (a re-INVITE for hold says sendonly or inactive).
pub fn build_offer_with(origin: &SdpOrigin, media: SocketAddr, direction: Direction) -> String {
    let formats = [Codec::Pcmu, Codec::Pcma].map(|c| (c.payload_type(), c));
    let events = TelephoneEvent {
        payload_type: TELEPHONE_EVENT_PT,
        events: OUR_EVENTS.into(),
    };
    write_description(origin, media, &formats, Some(&events), direction)
}

/// The RFC 4733 events we offer: DTMF 0-15 and flash (16).
const OUR_EVENTS: &str = "0-16";

/// telephone-event as a description lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TelephoneEvent {
    payload_type: u8,
    /// The fmtp event list ("0-16").
    events: String,
}

fn write_description(
    origin: &SdpOrigin,
    media: SocketAddr,
    codecs: &[(u8, Codec)],
    telephone_event: Option<&TelephoneEvent>,
    direction: Direction,
) -> String {
    let mut s = String::with_capacity(300);
    s.push_str("v=0\r\no=tapigw ");
    push_int(&mut s, origin.session_id);
    s.push(' ');
    push_int(&mut s, origin.session_version);
    s.push_str(" IN ");
    push_ip(&mut s, origin.address);
    s.push_str("\r\ns=tapigw\r\nc=IN ");
    push_ip(&mut s, media.ip());
    s.push_str("\r\nt=0 0\r\nm=audio ");
    push_int(&mut s, media.port());
    s.push_str(" RTP/AVP");
    for (pt, _) in codecs {
        s.push(' ');
        push_int(&mut s, *pt);
    }
    if let Some(te) = telephone_event {
        s.push(' ');
        push_int(&mut s, te.payload_type);
    }
    s.push_str("\r\n");
    for (pt, codec) in codecs {
        s.push_str("a=rtpmap:");
        push_int(&mut s, *pt);
        s.push(' ');
        s.push_str(codec.name());
        s.push_str("/8000\r\n");
    }
    if let Some(te) = telephone_event {
        s.push_str("a=rtpmap:");
        push_int(&mut s, te.payload_type);
        s.push_str(" telephone-event/8000\r\na=fmtp:");
        push_int(&mut s, te.payload_type);
        s.push(' ');
        s.push_str(&te.events);
        s.push_str("\r\n");
    }
    s.push_str("a=ptime:20\r\na=");
    s.push_str(direction.as_str());
    s.push_str("\r\n");
    s
}

/// Pushed piece by piece: `write!` and `IpAddr`'s `Display` made this a few thousand
/// instructions per offer or answer (docs/performance.md, "Writing without core::fmt").
fn push_int(s: &mut String, n: impl itoa::Integer) {
    s.push_str(itoa::Buffer::new().format(n));
}

/// `IP4 a.b.c.d` or `IP6 <address>` (RFC 4566 §5.2, §5.7).
fn push_ip(s: &mut String, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            s.push_str("IP4 ");
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    s.push('.');
                }
                push_int(s, octet);
            }
        }
        IpAddr::V6(v6) => {
            s.push_str("IP6 ");
            let _ = write!(s, "{v6}");
        }
    }
}

/// Reads the peer's answer (or offer) for our single audio stream.
pub fn parse_answer(body: &[u8]) -> Result<RemoteMedia, SdpError> {
    let text = std::str::from_utf8(body).map_err(|e| SdpError::Parse(e.to_string()))?;
    // A peer's SDP must never take the gateway down, whatever the parser does with it.
    let parsed = std::panic::catch_unwind(|| webrtc_sdp::parse_sdp(text, false))
        .map_err(|_| SdpError::Parse("the SDP parser gave up".into()))?;
    let session = parsed.map_err(|e| SdpError::Parse(e.to_string()))?;
    let audio = session
        .media
        .iter()
        .find(|m| *m.get_type() == SdpMediaValue::Audio && m.get_port() != 0)
        .ok_or(SdpError::NoAudio)?;
    let connection = audio
        .get_connection()
        .as_ref()
        .or(session.connection.as_ref())
        .ok_or(SdpError::NoAddress)?;
    let ip = match &connection.address {
        ExplicitlyTypedAddress::Ip(ip) => *ip,
        ExplicitlyTypedAddress::Fqdn { .. } => return Err(SdpError::NoAddress),
    };
    let port = u16::try_from(audio.get_port()).map_err(|_| SdpError::NoAudio)?;
    let (payload_type, codec, telephone_event) =
        pick_codec(audio).ok_or(SdpError::NoCommonCodec)?;
    Ok(RemoteMedia {
        address: SocketAddr::new(ip, port),
        codec,
        payload_type,
        telephone_event,
        telephone_events: telephone_event.and_then(|pt| fmtp_of(audio, pt)),
        direction: direction_of(audio),
    })
}

/// The fmtp parameters of payload type `pt`, as written.
fn fmtp_of(audio: &SdpMedia, pt: u8) -> Option<String> {
    audio.get_attributes().iter().find_map(|a| match a {
        SdpAttribute::Fmtp(f) if f.payload_type == pt => {
            let text = a.to_string();
            let value = text.split_once(' ').map(|(_, v)| v.trim().to_string())?;
            (!value.is_empty()).then_some(value)
        }
        _ => None,
    })
}

/// Our answer to `offer` (inbound calls, re-INVITEs) when we want sendrecv.
pub fn answer_offer(
    offer: &[u8],
    origin: &SdpOrigin,
    media: SocketAddr,
) -> Result<(String, RemoteMedia), SdpError> {
    answer_offer_with(offer, origin, media, Direction::SendRecv)
}

/// Our answer to `offer` when we want `ours` (sendonly while we hold the peer): the first
/// offered codec we support, the offer's telephone-event payload type and events when offered
/// (an answer stays within the offer, RFC 3264 §6.1), and the direction both sides allow.
pub fn answer_offer_with(
    offer: &[u8],
    origin: &SdpOrigin,
    media: SocketAddr,
    ours: Direction,
) -> Result<(String, RemoteMedia), SdpError> {
    let remote = parse_answer(offer)?;
    let events = remote.telephone_event.map(|payload_type| TelephoneEvent {
        payload_type,
        events: answered_events(remote.telephone_events.as_deref()),
    });
    let answer = write_description(
        origin,
        media,
        &[(remote.payload_type, remote.codec)],
        events.as_ref(),
        Direction::answer_to(remote.direction, ours),
    );
    Ok((answer, remote))
}

/// The events we accept of those offered: the offer's own list, which is within what we do
/// (0-16) as long as it names DTMF and flash only; otherwise the DTMF digits (0-15).
fn answered_events(offered: Option<&str>) -> String {
    let within = |list: &str| {
        list.split(',').all(|part| {
            let (low, high) = part.split_once('-').unwrap_or((part, part));
            match (low.trim().parse::<u8>(), high.trim().parse::<u8>()) {
                (Ok(low), Ok(high)) => low <= high && high <= 16,
                _ => false,
            }
        })
    };
    match offered {
        Some(list) if within(list) => list.to_string(),
        _ => "0-15".to_string(),
    }
}

/// The first format of the m-line we support, in the peer's order, with the payload type the
/// peer gave it, and the peer's telephone-event.
fn pick_codec(audio: &SdpMedia) -> Option<(u8, Codec, Option<u8>)> {
    let SdpFormatList::Integers(formats) = audio.get_formats() else {
        return None;
    };
    let rtpmaps: Vec<_> = audio
        .get_attributes()
        .iter()
        .filter_map(|a| match a {
            SdpAttribute::Rtpmap(r) => Some(r),
            _ => None,
        })
        .collect();
    let name_of = |pt: u32| {
        rtpmaps
            .iter()
            .find(|r| u32::from(r.payload_type) == pt)
            .map(|r| r.codec_name.as_str())
    };
    let (payload_type, codec) = formats.iter().find_map(|&pt| {
        let codec = Codec::from_format(pt, name_of(pt))?;
        Some((u8::try_from(pt).ok()?, codec))
    })?;
    let telephone_event = formats
        .iter()
        .find(|pt| name_of(**pt).is_some_and(|n| n.eq_ignore_ascii_case("telephone-event")))
        .and_then(|pt| u8::try_from(*pt).ok());
    Some((payload_type, codec, telephone_event))
}

fn direction_of(audio: &SdpMedia) -> Direction {
    let has = |t| audio.get_attribute(t).is_some();
    if has(SdpAttributeType::Sendonly) {
        Direction::SendOnly
    } else if has(SdpAttributeType::Recvonly) {
        Direction::RecvOnly
    } else if has(SdpAttributeType::Inactive) {
        Direction::Inactive
    } else {
        Direction::SendRecv
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCAL: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    fn media(port: u16) -> SocketAddr {
        SocketAddr::new(LOCAL, port)
    }

    #[test]
    fn our_offer_parses_and_lists_exactly_our_formats() {
        let offer = build_offer(&SdpOrigin::new(7, LOCAL), media(20000));
        let session = webrtc_sdp::parse_sdp(&offer, true).expect("strict parse");
        let audio = &session.media[0];
        assert_eq!(audio.get_port(), 20000);
        assert!(offer.contains("m=audio 20000 RTP/AVP 0 8 101\r\n"));
        assert!(offer.contains("a=fmtp:101 0-16\r\n"));
        assert!(offer.contains("a=ptime:20\r\n"));
        assert!(offer.contains("o=tapigw 7 1 IN IP4 127.0.0.1\r\n"));
        let remote = parse_answer(offer.as_bytes()).unwrap();
        assert_eq!(remote.codec, Codec::Pcmu);
        assert_eq!(remote.telephone_event, Some(101));
    }

    #[test]
    fn our_offer_text_is_exact_for_ipv4_and_ipv6() {
        let offer = build_offer(&SdpOrigin::new(7, LOCAL), media(20000));
        assert_eq!(
            offer,
            "v=0\r\no=tapigw 7 1 IN IP4 127.0.0.1\r\ns=tapigw\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
             m=audio 20000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n\
             a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n"
        );
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        let offer = build_offer(&SdpOrigin::new(9, v6), SocketAddr::new(v6, 20002));
        assert!(
            offer.contains("o=tapigw 9 1 IN IP6 2001:db8::1\r\n"),
            "{offer}"
        );
        assert!(offer.contains("c=IN IP6 2001:db8::1\r\n"), "{offer}");
        webrtc_sdp::parse_sdp(&offer, true).expect("strict parse");
    }

    #[test]
    fn answers_from_typical_peers() {
        let sipp = "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
        let r = parse_answer(sipp.as_bytes()).unwrap();
        assert_eq!(r.address, "127.0.0.1:6000".parse().unwrap());
        assert_eq!((r.codec, r.telephone_event), (Codec::Pcmu, None));
        let media_level = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 7000 RTP/AVP 8 96\r\nc=IN IP4 10.0.0.2\r\na=rtpmap:96 telephone-event/8000\r\na=sendonly\r\n";
        let r = parse_answer(media_level.as_bytes()).unwrap();
        assert_eq!(r.address, "10.0.0.2:7000".parse().unwrap());
        assert_eq!((r.codec, r.telephone_event), (Codec::Pcma, Some(96)));
        assert_eq!(r.direction, Direction::SendOnly);
    }

    #[test]
    fn answer_follows_the_offer() {
        let offer = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 7000 RTP/AVP 18 8 0 96\r\na=rtpmap:96 telephone-event/8000\r\na=sendonly\r\n";
        let (answer, remote) =
            answer_offer(offer.as_bytes(), &SdpOrigin::new(3, LOCAL), media(20002)).unwrap();
        assert_eq!(
            remote.codec,
            Codec::Pcma,
            "first common codec in the offer's order"
        );
        assert!(
            answer.contains("m=audio 20002 RTP/AVP 8 96\r\n"),
            "{answer}"
        );
        assert!(answer.contains("a=recvonly\r\n"), "{answer}");
        webrtc_sdp::parse_sdp(&answer, true).unwrap();
    }

    #[test]
    fn hold_directions_and_event_lists_follow_the_offer() {
        let offer = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 7000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendonly\r\n";
        let (answer, remote) =
            answer_offer(offer.as_bytes(), &SdpOrigin::new(3, LOCAL), media(20002)).unwrap();
        assert_eq!(remote.telephone_events.as_deref(), Some("0-15"));
        assert!(
            answer.contains("a=fmtp:101 0-15\r\n"),
            "within the offer: {answer}"
        );
        assert!(answer.contains("a=recvonly\r\n"), "{answer}");
        // We hold the peer and it holds us: nobody sends.
        let (answer, _) = answer_offer_with(
            offer.as_bytes(),
            &SdpOrigin::new(3, LOCAL),
            media(20002),
            Direction::SendOnly,
        )
        .unwrap();
        assert!(answer.contains("a=inactive\r\n"), "{answer}");
        let held = build_offer_with(&SdpOrigin::new(3, LOCAL), media(20002), Direction::SendOnly);
        assert!(held.contains("a=sendonly\r\n"));
        webrtc_sdp::parse_sdp(&held, true).unwrap();
        assert_eq!(answered_events(Some("0-16")), "0-16");
        assert_eq!(answered_events(Some("0-15,66")), "0-15");
        assert_eq!(answered_events(None), "0-15");
        assert_eq!(
            Direction::answer_to(Direction::SendRecv, Direction::SendOnly),
            Direction::SendOnly
        );
        assert_eq!(
            Direction::answer_to(Direction::Inactive, Direction::SendRecv),
            Direction::Inactive
        );
    }

    /// Found by the `sdp` fuzz target (docs/fuzzing.md): PCMU offered under a dynamic payload
    /// type was answered as `m=audio .. 0`, a format the offer did not list.
    #[test]
    fn dynamic_payload_type_is_answered_with_the_offered_number() {
        let offer = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 7000 RTP/AVP 96 97\r\na=rtpmap:96 pcmu/8000\r\na=rtpmap:97 telephone-event/8000\r\n";
        let (answer, remote) =
            answer_offer(offer.as_bytes(), &SdpOrigin::new(3, LOCAL), media(20002)).unwrap();
        assert_eq!((remote.codec, remote.payload_type), (Codec::Pcmu, 96));
        assert!(
            answer.contains("m=audio 20002 RTP/AVP 96 97\r\n"),
            "{answer}"
        );
        assert!(answer.contains("a=rtpmap:96 PCMU/8000\r\n"), "{answer}");
        webrtc_sdp::parse_sdp(&answer, true).unwrap();
        let static_pt = parse_answer(b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 7000 RTP/AVP 8\r\n").unwrap();
        assert_eq!((static_pt.codec, static_pt.payload_type), (Codec::Pcma, 8));
    }

    #[test]
    fn failures() {
        let g729 = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 7000 RTP/AVP 18\r\n";
        assert_eq!(parse_answer(g729.as_bytes()), Err(SdpError::NoCommonCodec));
        let video = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=video 7000 RTP/AVP 96\r\n";
        assert_eq!(parse_answer(video.as_bytes()), Err(SdpError::NoAudio));
        let no_c = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 7000 RTP/AVP 0\r\n";
        assert!(matches!(
            parse_answer(no_c.as_bytes()),
            Err(SdpError::NoAddress | SdpError::Parse(_))
        ));
        assert!(matches!(parse_answer(b"garbage"), Err(SdpError::Parse(_))));
        assert!(matches!(parse_answer(b""), Err(SdpError::Parse(_))));
        assert_eq!(SdpOrigin::new(1, LOCAL).next_version().session_version, 2);
    }

    #[test]
    fn mutated_descriptions_never_panic() {
        use rand::{Rng, SeedableRng};
        let base = build_offer(&SdpOrigin::new(1, LOCAL), media(20000)).into_bytes();
        let mut rng = rand::rngs::SmallRng::seed_from_u64(4566);
        for _ in 0..3000 {
            let mut bytes = base.clone();
            for _ in 0..rng.random_range(1..6) {
                let i = rng.random_range(0..bytes.len());
                bytes[i] = b"=:/ \r\n0a-"[rng.random_range(0..9)];
            }
            let _ = parse_answer(&bytes);
            let _ = answer_offer(&bytes, &SdpOrigin::new(2, LOCAL), media(20002));
        }
    }
}
