//! Semantic checks and name resolution: [`Settings`] in, [`GatewayConfig`] out.
//!
//! Host names in `proxy`, `registrar` and `outbound_proxy` are resolved once, here, at start-up
//! (the sans-I/O core only deals in socket addresses).

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::settings::{
    LineSettings, LineTransport, MediaMode, ReliableProvisionals, Settings, SipSettings,
};
use super::tls::{self, TlsClient, TlsServer};
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
    pub metrics: super::MetricsConfig,
    /// `runtime.threads`: tokio worker threads (1: a current-thread runtime).
    pub threads: usize,
    /// `runtime.transparent_huge_pages`: leave THP to the kernel's policy (else it is turned off
    /// for the process at start-up).
    pub transparent_huge_pages: bool,
}

/// The most `runtime.threads` accepted.
const MAX_THREADS: usize = 256;

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
    /// The TLS listener (`sip.tls_listen`), when set.
    pub tls: Option<TlsListen>,
    /// Limits of TCP and TLS connections.
    pub streams: StreamLimits,
    /// `sip.instance_id`: seed of the lines' RFC 5626 instance UUIDs.
    pub instance_seed: Option<String>,
}

/// `sip.tls_listen` with its certificate.
#[derive(Debug, Clone)]
pub struct TlsListen {
    pub listen: SocketAddr,
    pub server: TlsServer,
}

/// Limits of connection-oriented transports (issue 17: nothing unbounded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLimits {
    /// Inbound connections open at once.
    pub max_connections: usize,
    /// How long an inbound connection may go without completing a message.
    pub idle: Duration,
    /// Largest message on a stream.
    pub max_message: usize,
}

impl Default for StreamLimits {
    fn default() -> Self {
        StreamLimits {
            max_connections: 1024,
            idle: Duration::from_secs(30),
            max_message: 64 * 1024,
        }
    }
}

impl SipConfig {
    /// The port written into Via and Contact for `transport`: the TLS listener's for TLS
    /// (when there is one), else the advertised one.
    pub fn advertised_port_for(&self, transport: Transport) -> u16 {
        match (&self.tls, transport) {
            (Some(tls), Transport::Tls) => tls.listen.port(),
            _ => self.advertised_port,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub listen: SocketAddr,
    pub max_outgoing_messages: usize,
    pub max_event_queue: usize,
    /// How long a resumable app is kept after its connection dropped.
    pub resume_grace: Duration,
    /// Accepted tokens; empty: no `authenticate` needed, loopback clients only.
    pub tokens: Vec<super::ApiToken>,
    /// TLS on the API listener.
    pub tls: Option<std::sync::Arc<tokio_rustls::rustls::ServerConfig>>,
    pub limits: super::ApiLimits,
}

#[derive(Debug, Clone)]
pub struct MediaConfig {
    pub mode: MediaMode,
    /// The IP address written into SDP.
    pub address: IpAddr,
    pub port_min: u16,
    pub port_max: u16,
    /// `media.files_dir`, made absolute against the configuration file's directory.
    pub files_dir: Option<std::path::PathBuf>,
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
    /// RFC 4028: the session interval we ask for (s, 0 = none) and the smallest we accept.
    pub session_expires: u32,
    pub min_se: u32,
    /// RFC 3262: when our provisional responses are reliable.
    pub reliable_provisionals: ReliableProvisionals,
    /// Stable across reordering of the file (FNV-1a of `user@domain`).
    pub permanent_line_id: u32,
    /// TLS lines: how the proxy's certificate is verified and the names it must carry.
    pub tls: Option<LineTls>,
    /// RFC 5626 `+sip.instance` of a TCP/TLS line's registration: `urn:uuid:...`, stable
    /// across restarts (RFC 5626 §4.1).
    pub instance: String,
}

/// A TLS line's client side: its rustls configuration and the host name (SNI, certificate
/// check) of each address it connects to, from `proxy`, `registrar` and `outbound_proxy`.
#[derive(Debug, Clone)]
pub struct LineTls {
    pub client: TlsClient,
    pub names: Vec<(SocketAddr, String)>,
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

    let seed = instance_seed(sip);
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
        check_session_timer(l.session_expires, l.min_se)
            .map_err(|(k, problem)| err(&key(k), problem))?;
        // RFC 3261 §19.1.2: 5061 is the default port of TLS.
        let port = if l.transport == LineTransport::Tls {
            5061
        } else {
            5060
        };
        let proxy = resolve_addr(&l.proxy, port).map_err(|p| err(&key("proxy"), p))?;
        let registrar = match &l.registrar {
            Some(r) => resolve_addr(r, port).map_err(|p| err(&key("registrar"), p))?,
            None => proxy,
        };
        let outbound_proxy = match &l.outbound_proxy {
            Some(r) => Some(resolve_addr(r, port).map_err(|p| err(&key("outbound_proxy"), p))?),
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
                LineTransport::Tls => Transport::Tls,
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
            session_expires: l.session_expires,
            min_se: l.min_se,
            reliable_provisionals: l.reliable_provisionals,
            permanent_line_id: fnv1a(&format!("{}@{}", l.user, l.domain)),
            tls: line_tls(l, [Some(proxy), Some(registrar), outbound_proxy])
                .map_err(|(k, p)| err(&key(k), p))?,
            instance: instance_urn(&seed, &l.user, &l.domain),
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

    let tls = tls_listen(sip).map_err(|(k, p)| err(k, p))?;
    let streams = stream_limits(sip).map_err(|(k, p)| err(k, p))?;
    let threads = s.runtime.threads;
    if !(1..=MAX_THREADS).contains(&threads) {
        return Err(err(
            "runtime.threads",
            format!("must be from 1 to {MAX_THREADS}, not {threads}"),
        ));
    }
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
            tls,
            streams,
            instance_seed: sip.instance_id.clone(),
        },
        api: super::api_security::resolve_api(file, &s.api, &lines)?,
        metrics: super::api_security::resolve_metrics(&s.metrics),
        media: MediaConfig {
            mode: s.media.mode,
            address: media_address,
            port_min: s.media.port_min,
            port_max: s.media.port_max,
            files_dir: s
                .media
                .files_dir
                .as_ref()
                .map(|d| file.parent().unwrap_or(Path::new(".")).join(d)),
        },
        lines,
        threads,
        transparent_huge_pages: s.runtime.transparent_huge_pages,
    })
}

/// `sip.tls_listen` with `sip.tls_cert` and `sip.tls_key`, all or none.
fn tls_listen(sip: &SipSettings) -> Result<Option<TlsListen>, (&'static str, String)> {
    let (cert, key) = (sip.tls_cert.as_deref(), sip.tls_key.as_deref());
    let Some(listen) = sip.tls_listen else {
        if cert.is_some() || key.is_some() {
            return Err((
                "sip.tls_listen",
                "required with sip.tls_cert/sip.tls_key".into(),
            ));
        }
        return Ok(None);
    };
    let cert = cert.ok_or(("sip.tls_cert", "required with sip.tls_listen".to_string()))?;
    let key = key.ok_or(("sip.tls_key", "required with sip.tls_listen".to_string()))?;
    Ok(Some(TlsListen {
        listen,
        server: tls::server(cert, key)?,
    }))
}

fn stream_limits(sip: &SipSettings) -> Result<StreamLimits, (&'static str, String)> {
    if sip.max_connections == 0 {
        return Err(("sip.max_connections", "must be at least 1".into()));
    }
    if sip.tcp_idle_s == 0 {
        return Err(("sip.tcp_idle_s", "must be at least 1".into()));
    }
    if sip.max_message_bytes < 1024 {
        return Err(("sip.max_message_bytes", "must be at least 1024".into()));
    }
    Ok(StreamLimits {
        max_connections: sip.max_connections,
        idle: Duration::from_secs(sip.tcp_idle_s),
        max_message: sip.max_message_bytes,
    })
}

/// A TLS line's client configuration and the server name of each address it connects to;
/// `tls_ca` on another transport is a mistake worth stopping for.
fn line_tls(
    l: &LineSettings,
    addrs: [Option<SocketAddr>; 3],
) -> Result<Option<LineTls>, (&'static str, String)> {
    if l.transport != LineTransport::Tls {
        return match l.tls_ca {
            Some(_) => Err(("tls_ca", "only for transport = \"tls\"".into())),
            None => Ok(None),
        };
    }
    let client = tls::client(l.tls_ca.as_deref()).map_err(|p| ("tls_ca", p))?;
    let hosts = [
        Some(&l.proxy),
        l.registrar.as_ref().or(Some(&l.proxy)),
        l.outbound_proxy.as_ref(),
    ];
    let keys = ["proxy", "registrar", "outbound_proxy"];
    let mut names = Vec::new();
    for ((addr, host), key) in addrs.into_iter().zip(hosts).zip(keys) {
        if let (Some(addr), Some(host)) = (addr, host) {
            let name = host_part(host);
            tls::server_name(&name).map_err(|p| (key, p))?;
            names.push((addr, name));
        }
    }
    Ok(Some(LineTls { client, names }))
}

/// The host of `host[:port]` (`[v6]:port` too).
fn host_part(s: &str) -> String {
    if let Ok(a) = s.parse::<SocketAddr>() {
        return a.ip().to_string();
    }
    match s.rsplit_once(':') {
        Some((h, p)) if p.parse::<u16>().is_ok() && !h.contains(':') => h.to_string(),
        _ => s.to_string(),
    }
}

/// RFC 4028 §5: no session interval below 90 s; the one we ask for is at least our Min-SE.
fn check_session_timer(session_expires: u32, min_se: u32) -> Result<(), (&'static str, String)> {
    if min_se < 90 {
        return Err(("min_se", format!("{min_se} is below 90 s (RFC 4028 §5)")));
    }
    if session_expires != 0 && session_expires < min_se {
        return Err((
            "session_expires",
            format!("{session_expires} must be 0 (none asked for) or at least min_se ({min_se})"),
        ));
    }
    Ok(())
}

/// `host[:port]` (port default `default_port`) to one socket address, resolving names.
fn resolve_addr(s: &str, default_port: u16) -> Result<SocketAddr, String> {
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(a);
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, default_port));
    }
    let with_port = if s
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        s.to_string()
    } else if s.contains(':') {
        return Err(format!("invalid socket address {s:?}"));
    } else {
        format!("{s}:{default_port}")
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

/// What instance UUIDs are derived from: `sip.instance_id`, else this machine's
/// `/etc/machine-id` (stable across restarts and reinstalls of the gateway), else nothing.
fn instance_seed(sip: &SipSettings) -> String {
    sip.instance_id.clone().unwrap_or_else(|| {
        std::fs::read_to_string("/etc/machine-id")
            .map(|id| id.trim().to_string())
            .unwrap_or_default()
    })
}

/// RFC 5626 §4.1: a `urn:uuid:` (RFC 4122 §4.3 style: a name-based UUID from SHA-256 of the
/// seed and the line's AOR, version and variant bits set).
fn instance_urn(seed: &str, user: &str, domain: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("tapigw-instance\n{seed}\n{user}@{domain}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

fn fnv1a(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}
