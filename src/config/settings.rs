//! The shape of `config/*.toml`: every key, its type and its default.
//!
//! Keys of ../shared/spec/api.md plus the extensions documented in docs/configuration.md.
//! Unknown keys are errors (`deny_unknown_fields`), so a typo stops start-up instead of being
//! silently ignored.

use std::net::{IpAddr, SocketAddr};

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub sip: SipSettings,
    pub api: ApiSettings,
    #[serde(default)]
    pub media: MediaSettings,
    #[serde(default)]
    pub lines: Vec<LineSettings>,
    #[serde(default)]
    pub metrics: MetricsSettings,
    #[serde(default)]
    pub runtime: RuntimeSettings,
}

/// `[runtime]`: how the tokio runtime around the core is built.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeSettings {
    /// 1: everything (core, SIP and API drivers) on one thread; more: a multi-thread runtime
    /// with that many workers (docs/configuration.md, "[runtime]").
    #[serde(default = "default_threads")]
    pub threads: usize,
    /// Whether the kernel may back the gateway's memory with transparent huge pages; off by
    /// default, since zeroing a 2 MiB page on first touch stalls the core for milliseconds.
    #[serde(default)]
    pub transparent_huge_pages: bool,
}

impl Default for RuntimeSettings {
    fn default() -> RuntimeSettings {
        RuntimeSettings {
            threads: default_threads(),
            transparent_huge_pages: false,
        }
    }
}

fn default_threads() -> usize {
    1
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SipSettings {
    /// UDP and TCP listen address.
    pub listen: SocketAddr,
    /// RFC 3261 T1 (RTT estimate), T2 (max non-INVITE retransmit interval), T4 (max network
    /// lifetime), in milliseconds.
    #[serde(default = "default_t1")]
    pub t1_ms: u64,
    #[serde(default = "default_t2")]
    pub t2_ms: u64,
    #[serde(default = "default_t4")]
    pub t4_ms: u64,
    /// Value of our User-Agent / Server headers (default `tapigw`, no version).
    #[serde(default = "default_user_agent")]
    pub user_agent: String,
    /// Address (`host` or `host:port`) written into Via and Contact instead of the listen address,
    /// for a gateway behind NAT or listening on 0.0.0.0.
    #[serde(default)]
    pub public_address: Option<String>,
    /// Admission, overload, shutdown and crash-recovery keys (docs/configuration.md, "Limits,
    /// shutdown and crash recovery"), checked in `config::operations`.
    #[serde(default = "super::operations::default_max_server_transactions")]
    pub max_server_transactions: usize,
    #[serde(default = "super::operations::default_invite_rate")]
    pub invite_rate_per_source: u32,
    #[serde(default = "super::operations::default_flood_block")]
    pub invite_flood_block_s: u64,
    #[serde(default = "super::operations::default_overload_queue_ms")]
    pub overload_queue_ms: u64,
    #[serde(default = "super::operations::default_shutdown_grace")]
    pub shutdown_grace_s: u64,
    #[serde(default)]
    pub journal_path: Option<String>,
    #[serde(default)]
    pub recover_calls: bool,
    /// SIP over TLS listen address (off when absent); needs `tls_cert` and `tls_key`.
    #[serde(default)]
    pub tls_listen: Option<SocketAddr>,
    /// PEM certificate chain of the TLS listener.
    #[serde(default)]
    pub tls_cert: Option<String>,
    /// PEM private key of the TLS listener.
    #[serde(default)]
    pub tls_key: Option<String>,
    /// Inbound TCP and TLS connections open at once; more are refused.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// An inbound TCP/TLS connection that delivers no complete message for this long (or
    /// leaves one half-sent this long) is closed (slowloris).
    #[serde(default = "default_tcp_idle")]
    pub tcp_idle_s: u64,
    /// Largest SIP message taken on TCP/TLS (head and body); a larger request gets 413.
    #[serde(default = "default_max_message_bytes")]
    pub max_message_bytes: usize,
    /// Seed of the RFC 5626 `+sip.instance` UUIDs of TCP/TLS lines (default: derived from
    /// each line and the advertised address).
    #[serde(default)]
    pub instance_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSettings {
    pub listen: SocketAddr,
    /// Messages queued for one API connection before it counts as a slow reader and is closed.
    #[serde(default = "default_max_outgoing")]
    pub max_outgoing_messages: usize,
    /// Messages an event-mode app (lineInitializeEx options 2) may leave unfetched before it is
    /// shut down.
    #[serde(default = "default_max_event_queue")]
    pub max_event_queue: usize,
    /// Seconds a resumable app (`resumable: true`) is kept after its connection dropped,
    /// waiting for lineResume.
    #[serde(default = "default_resume_grace_s")]
    pub resume_grace_s: u64,
    /// The token every connection must `authenticate` with first (all lines, owner rights).
    #[serde(default)]
    pub token: Option<String>,
    /// A file holding that token (first line); for secrets mounted as files.
    #[serde(default)]
    pub token_file: Option<std::path::PathBuf>,
    /// Further tokens, each limited to some lines and a highest privilege.
    #[serde(default)]
    pub tokens: Vec<TokenSettings>,
    /// TLS on the API listener: certificate chain and private key (PEM).
    #[serde(default)]
    pub tls_cert: Option<std::path::PathBuf>,
    #[serde(default)]
    pub tls_key: Option<std::path::PathBuf>,
    // Limits (docs/configuration.md "API limits").
    /// Open API connections; one more is closed at accept.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// lineInitializeEx + phoneInitializeEx registrations per connection.
    #[serde(default = "default_max_apps")]
    pub max_apps_per_connection: usize,
    /// Asynchronous requests of one app waiting for their LINE_REPLY.
    #[serde(default = "default_max_pending")]
    pub max_pending_requests: usize,
    /// lineGetMessage calls of one app waiting at once.
    #[serde(default = "default_max_waiters")]
    pub max_message_waiters: usize,
    /// Longest `appName`, in bytes.
    #[serde(default = "default_max_app_name")]
    pub max_app_name_bytes: usize,
    /// Calls one line carries at once (lineGetDevCaps maxNumActiveCalls).
    #[serde(default = "default_max_calls_per_line")]
    pub max_calls_per_line: u32,
    /// Seconds a connection has to authenticate (or, without a token, to send its first
    /// complete line), and to finish any line it has begun.
    #[serde(default = "default_auth_timeout")]
    pub auth_timeout_s: u64,
    /// lineMakeCall is refused (LINEERR_RESOURCEUNAVAIL) when requests wait longer than this in
    /// the core's queue, or the queue is 90% full; 0 turns shedding off.
    #[serde(default = "default_overload_delay")]
    pub overload_delay_ms: u64,
}

/// One `[[api.tokens]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSettings {
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub token_file: Option<std::path::PathBuf>,
    /// `"all"` or a list of line users.
    #[serde(default)]
    pub lines: TokenLines,
    /// `"owner"` (default) or `"monitor"`.
    #[serde(default)]
    pub max_privilege: MaxPrivilege,
    /// A name for logs.
    #[serde(default)]
    pub name: Option<String>,
}

/// `lines` of a token: `"all"` or `["1001", ...]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum TokenLines {
    Keyword(String),
    Users(Vec<String>),
}

impl Default for TokenLines {
    fn default() -> Self {
        TokenLines::Keyword("all".into())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum MaxPrivilege {
    Monitor,
    #[default]
    Owner,
}

/// `[metrics]`: the Prometheus / health listener.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    /// `ip:port` for HTTP `GET /metrics` and `GET /healthz`; none: no listener.
    #[serde(default)]
    pub listen: Option<SocketAddr>,
}

/// Whether calls get real RTP sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum MediaMode {
    /// Bind an RTP/RTCP UDP port pair per call from the configured range.
    #[default]
    Rtp,
    /// Signalling only: SDP is still offered and answered, but no socket is bound.
    None,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaSettings {
    #[serde(default)]
    pub mode: MediaMode,
    /// IP address written into SDP (`c=`/`o=`); default: the SIP advertised address.
    #[serde(default)]
    pub address: Option<IpAddr>,
    #[serde(default = "default_port_min")]
    pub port_min: u16,
    #[serde(default = "default_port_max")]
    pub port_max: u16,
    /// Where mediaPlay reads and mediaRecord writes WAV files (relative: to the configuration
    /// file's directory). Unset: mediaPlay and mediaRecord are unavailable.
    #[serde(default)]
    pub files_dir: Option<std::path::PathBuf>,
}

impl Default for MediaSettings {
    fn default() -> Self {
        MediaSettings {
            mode: MediaMode::Rtp,
            address: None,
            port_min: default_port_min(),
            port_max: default_port_max(),
            files_dir: None,
        }
    }
}

/// SIP transport of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LineTransport {
    #[default]
    Udp,
    Tcp,
    Tls,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineSettings {
    /// Line name shown by lineGetDevCaps (default "Line N").
    #[serde(default)]
    pub name: Option<String>,
    /// Our user part; inbound INVITEs whose Request-URI user matches go to this line.
    pub user: String,
    /// Host part of our AOR; a bare number dialled becomes sip:NUMBER@domain.
    pub domain: String,
    /// Where every out-of-dialog request is sent (`host:port`).
    pub proxy: String,
    #[serde(default)]
    pub transport: LineTransport,
    /// REGISTER and keep the registration refreshed.
    #[serde(default)]
    pub register: bool,
    /// Requested registration lifetime in seconds.
    #[serde(default = "default_expires")]
    pub expires: u32,
    /// Digest credentials.
    #[serde(default)]
    pub auth_user: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// Where REGISTER goes when it differs from `proxy` (`host:port`).
    #[serde(default)]
    pub registrar: Option<String>,
    /// Send every request, in-dialog ones too, to this `host:port`.
    #[serde(default)]
    pub outbound_proxy: Option<String>,
    /// Display name in our From header.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Further source addresses (`ip` or `ip:port`) allowed to send INVITEs to a registering line.
    #[serde(default)]
    pub trusted: Vec<String>,
    /// Refuse lineMakeCall with LINEERR_RESOURCEUNAVAIL while a registering line is unregistered.
    #[serde(default)]
    pub require_registration: bool,
    /// Interval of CRLF keep-alive pings to the proxy, in seconds (0 = off over UDP; over
    /// TCP/TLS 0 means the registrar's Flow-Timer, else 95-120 s, RFC 5626 §4.4.1).
    #[serde(default)]
    pub keepalive_secs: u64,
    /// Follow a REFER from the far end (we are transferred); false answers it 603.
    #[serde(default = "default_true")]
    pub accept_refer: bool,
    /// PEM file of the CAs a TLS line's proxy certificate is verified against (default: the
    /// system's store).
    #[serde(default)]
    pub tls_ca: Option<String>,
    /// RFC 4028 session interval we ask for, in seconds (0: we ask for none).
    #[serde(default = "default_session_expires")]
    pub session_expires: u32,
    /// RFC 4028 smallest session interval we accept, in seconds (at least 90).
    #[serde(default = "default_min_se")]
    pub min_se: u32,
    /// When our provisional responses are sent reliably (RFC 3262).
    #[serde(default)]
    pub reliable_provisionals: ReliableProvisionals,
}

/// When a line uses reliable provisional responses (RFC 3262, option tag `100rel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ReliableProvisionals {
    /// Only when the caller's INVITE says `Require: 100rel`.
    #[default]
    IfRequired,
    /// Also when the caller's INVITE lists `100rel` in `Supported`.
    IfSupported,
    /// Always: an INVITE without `100rel` gets 421, ours carry `Require: 100rel`.
    Required,
}

fn default_max_connections() -> usize {
    1024
}
fn default_tcp_idle() -> u64 {
    30
}
fn default_max_message_bytes() -> usize {
    64 * 1024
}
fn default_true() -> bool {
    true
}
fn default_t1() -> u64 {
    500
}
fn default_t2() -> u64 {
    4000
}
fn default_t4() -> u64 {
    5000
}
/// No version: a version in `Server:` tells a scanner which vulnerabilities to try (RFC 3261
/// §20.35 and §20.41 warn of it); set `sip.user_agent = "tapigw/0.1.0"` to show one.
fn default_user_agent() -> String {
    "tapigw".into()
}
fn default_max_outgoing() -> usize {
    65_536
}
fn default_max_event_queue() -> usize {
    10_000
}
fn default_resume_grace_s() -> u64 {
    30
}
fn default_port_min() -> u16 {
    20_000
}
fn default_port_max() -> u16 {
    29_999
}
fn default_expires() -> u32 {
    300
}
fn default_session_expires() -> u32 {
    1800
}
fn default_min_se() -> u32 {
    90
}
fn default_max_apps() -> usize {
    64
}
fn default_max_pending() -> usize {
    1000
}
fn default_max_waiters() -> usize {
    16
}
fn default_max_app_name() -> usize {
    256
}
fn default_max_calls_per_line() -> u32 {
    10_000
}
fn default_auth_timeout() -> u64 {
    10
}
fn default_overload_delay() -> u64 {
    1000
}
