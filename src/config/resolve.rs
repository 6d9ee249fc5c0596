//! Semantic checks and name resolution: [`Settings`] in, [`GatewayConfig`] out.
//!
//! Host names in `proxy`, `registrar` and `outbound_proxy` are resolved once, here, at start-up
//! (the sans-I/O core only deals in socket addresses).

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::settings::{LineTransport, MediaMode, Settings};
use super::ConfigError;
use crate::sip::message::Host;
use crate::sip::timers::TimerConfig;
use crate::sip::transport::Transport;

/// Everything the gateway runs on, checked and resolved.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    pub file: PathBuf,
    pub sip: SipConfig,
    pub api: ApiConfig,
    pub media: MediaConfig,
    pub lines: Vec<LineConfig>,
}

#[derive(Debug, Clone)]
pub struct SipConfig {
    pub listen: SocketAddr,
    pub timers: TimerConfig,
    pub user_agent: String,
    /// Host and port we write into Via and Contact.
    pub advertised_host: Host,
    pub advertised_port: u16,
    /// Server transaction and INVITE rate limits, overload refusal.
    pub admission: super::AdmissionConfig,
    /// Shutdown grace, call journal, call recovery.
    pub lifecycle: super::LifecycleConfig,
}

#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub listen: SocketAddr,
    pub max_outgoing_messages: usize,
    pub max_event_queue: usize,
}

#[derive(Debug, Clone)]
pub struct MediaConfig {
    pub mode: MediaMode,
    /// The IP address written into SDP.
    pub address: IpAddr,
    pub port_min: u16,
    pub port_max: u16,
}

/// A source allowed to send INVITEs to a registering line (port `None` = any port).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustedSource {
    pub ip: IpAddr,
    pub port: Option<u16>,
}

impl TrustedSource {
    pub fn matches(&self, addr: SocketAddr) -> bool {
        self.ip == addr.ip() && self.port.is_none_or(|p| p == addr.port())
    }
}

#[derive(Debug, Clone)]
pub struct LineConfig {
    pub name: String,
    pub user: String,
    pub domain: String,
    pub display_name: Option<String>,
    pub transport: Transport,
    pub proxy: SocketAddr,
    pub registrar: SocketAddr,
    pub outbound_proxy: Option<SocketAddr>,
    pub register: bool,
    pub expires: u32,
    pub auth_user: Option<String>,
    pub password: Option<String>,
    /// Sources allowed to send INVITEs when `register` is on: proxy, registrar, outbound proxy
    /// and the `trusted` entries.
    pub trusted: Vec<TrustedSource>,
    pub require_registration: bool,
    pub keepalive: Option<Duration>,
    /// Follow a REFER from the far end (false: 603).
    pub accept_refer: bool,
    /// Stable across reordering of the file (FNV-1a of `user@domain`).
    pub permanent_line_id: u32,
}

pub(super) fn resolve(file: &Path, s: Settings) -> Result<GatewayConfig, ConfigError> {
    let err = |key: &str, problem: String| ConfigError::key(file, key, problem);
    let sip = &s.sip;
    if sip.t1_ms == 0 {
        return Err(err("sip.t1_ms", "must be at least 1".into()));
    }
    if sip.t2_ms < sip.t1_ms {
        return Err(err(
            "sip.t2_ms",
            "must not be smaller than sip.t1_ms".into(),
        ));
    }
    if sip.t4_ms == 0 {
        return Err(err("sip.t4_ms", "must be at least 1".into()));
    }
    if s.api.max_outgoing_messages < 16 {
        return Err(err(
            "api.max_outgoing_messages",
            "must be at least 16".into(),
        ));
    }
    if s.api.max_event_queue == 0 {
        return Err(err("api.max_event_queue", "must be at least 1".into()));
    }
    if s.media.port_min == 0 || s.media.port_min > s.media.port_max {
        return Err(err(
            "media.port_min",
            format!(
                "range {}..{} is empty (need 0 < port_min <= port_max)",
                s.media.port_min, s.media.port_max
            ),
        ));
    }
    if s.media.port_max - s.media.port_min < 1 {
        return Err(err(
            "media.port_max",
            "the range must hold at least one RTP/RTCP port pair".into(),
        ));
    }

    let (admission, lifecycle) = super::operations::resolve(file, sip)?;

    let mut lines = Vec::with_capacity(s.lines.len());
    let mut users = HashSet::new();
    for (i, l) in s.lines.iter().enumerate() {
        let key = |k: &str| format!("lines[{i}].{k}");
        if l.user.trim().is_empty() {
            return Err(err(&key("user"), "must not be empty".into()));
        }
        if !users.insert(l.user.clone()) {
            return Err(err(&key("user"), format!("duplicate user {:?}", l.user)));
        }
        if l.domain.trim().is_empty() {
            return Err(err(&key("domain"), "must not be empty".into()));
        }
        if l.register && l.expires == 0 {
            return Err(err(
                &key("expires"),
                "must be at least 1 when register = true".into(),
            ));
        }
        let proxy = resolve_addr(&l.proxy).map_err(|p| err(&key("proxy"), p))?;
        let registrar = match &l.registrar {
            Some(r) => resolve_addr(r).map_err(|p| err(&key("registrar"), p))?,
            None => proxy,
        };
        let outbound_proxy = match &l.outbound_proxy {
            Some(r) => Some(resolve_addr(r).map_err(|p| err(&key("outbound_proxy"), p))?),
            None => None,
        };
        let mut trusted: Vec<TrustedSource> = [Some(proxy), Some(registrar), outbound_proxy]
            .into_iter()
            .flatten()
            .map(|a| TrustedSource {
                ip: a.ip(),
                port: None,
            })
            .collect();
        for (j, t) in l.trusted.iter().enumerate() {
            let src = parse_trusted(t).map_err(|p| err(&format!("lines[{i}].trusted[{j}]"), p))?;
            trusted.push(src);
        }
        lines.push(LineConfig {
            name: l.name.clone().unwrap_or_else(|| format!("Line {}", i + 1)),
            user: l.user.clone(),
            domain: l.domain.clone(),
            display_name: l.display_name.clone(),
            transport: match l.transport {
                LineTransport::Udp => Transport::Udp,
                LineTransport::Tcp => Transport::Tcp,
            },
            proxy,
            registrar,
            outbound_proxy,
            register: l.register,
            expires: l.expires,
            auth_user: l.auth_user.clone(),
            password: l.password.clone(),
            trusted,
            require_registration: l.require_registration,
            keepalive: (l.keepalive_secs > 0).then(|| Duration::from_secs(l.keepalive_secs)),
            accept_refer: l.accept_refer,
            permanent_line_id: fnv1a(&format!("{}@{}", l.user, l.domain)),
        });
    }

    let (advertised_host, advertised_port) = advertised(sip.listen, &sip.public_address, &lines)
        .map_err(|p| err("sip.public_address", p))?;
    let media_address = match (s.media.address, &advertised_host) {
        (Some(ip), _) => ip,
        (None, Host::Ip(ip)) => *ip,
        (None, Host::Name(n)) => {
            return Err(err(
                "media.address",
                format!("required when sip.public_address is a host name ({n})"),
            ))
        }
    };

    Ok(GatewayConfig {
        file: file.to_path_buf(),
        sip: SipConfig {
            listen: sip.listen,
            timers: TimerConfig {
                t1: Duration::from_millis(sip.t1_ms),
                t2: Duration::from_millis(sip.t2_ms),
                t4: Duration::from_millis(sip.t4_ms),
            },
            user_agent: sip.user_agent.clone(),
            advertised_host,
            advertised_port,
            admission,
            lifecycle,
        },
        api: ApiConfig {
            listen: s.api.listen,
            max_outgoing_messages: s.api.max_outgoing_messages,
            max_event_queue: s.api.max_event_queue,
        },
        media: MediaConfig {
            mode: s.media.mode,
            address: media_address,
            port_min: s.media.port_min,
            port_max: s.media.port_max,
        },
        lines,
    })
}

/// `host[:port]` (port default 5060) to one socket address, resolving names.
fn resolve_addr(s: &str) -> Result<SocketAddr, String> {
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(a);
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 5060));
    }
    let with_port = if s
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        s.to_string()
    } else if s.contains(':') {
        return Err(format!("invalid socket address {s:?}"));
    } else {
        format!("{s}:5060")
    };
    match with_port.to_socket_addrs() {
        Ok(mut addrs) => addrs
            .next()
            .ok_or_else(|| format!("{s:?} resolves to no address")),
        Err(e) => Err(format!("invalid socket address {s:?} ({e})")),
    }
}

fn parse_trusted(s: &str) -> Result<TrustedSource, String> {
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(TrustedSource {
            ip: a.ip(),
            port: Some(a.port()),
        });
    }
    s.parse::<IpAddr>()
        .map(|ip| TrustedSource { ip, port: None })
        .map_err(|_| format!("{s:?} is not an IP address or ip:port"))
}

/// The host and port for Via/Contact: `public_address` when set, else the listen address; for
/// an unspecified listen IP (0.0.0.0), the local IP the kernel routes the first proxy through.
fn advertised(
    listen: SocketAddr,
    public: &Option<String>,
    lines: &[LineConfig],
) -> Result<(Host, u16), String> {
    if let Some(p) = public {
        if let Ok(a) = p.parse::<SocketAddr>() {
            return Ok((Host::Ip(a.ip()), a.port()));
        }
        if let Ok(ip) = p.parse::<IpAddr>() {
            return Ok((Host::Ip(ip), listen.port()));
        }
        let (host, port) = match p.rsplit_once(':') {
            Some((h, port)) => (
                h,
                port.parse::<u16>()
                    .map_err(|_| format!("invalid port in {p:?}"))?,
            ),
            None => (p.as_str(), listen.port()),
        };
        if host.is_empty() || host.contains(|c: char| c.is_whitespace() || c == '@') {
            return Err(format!("invalid host in {p:?}"));
        }
        return Ok((Host::Name(host.to_string()), port));
    }
    if !listen.ip().is_unspecified() {
        return Ok((Host::Ip(listen.ip()), listen.port()));
    }
    let ip = lines
        .first()
        .and_then(|l| route_source_ip(l.proxy))
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    Ok((Host::Ip(ip), listen.port()))
}

/// The source IP the kernel would use towards `dest` (a UDP connect sends nothing).
fn route_source_ip(dest: SocketAddr) -> Option<IpAddr> {
    let bind: SocketAddr = if dest.is_ipv4() {
        "0.0.0.0:0".parse().ok()?
    } else {
        "[::]:0".parse().ok()?
    };
    let sock = UdpSocket::bind(bind).ok()?;
    sock.connect(dest).ok()?;
    sock.local_addr().ok().map(|a| a.ip())
}

fn fnv1a(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}
