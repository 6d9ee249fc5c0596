//! Settings read from the environment at lineInitializeEx/phoneInitializeEx: where the gateway
//! is (`TAPIGW_API`), its token (`TAPIGW_TOKEN`), time limits and the session-resume switch.

use std::time::Duration;

/// The gateway's API address when `TAPIGW_API` is not set.
pub const DEFAULT_API: &str = "127.0.0.1:8274";

#[derive(Debug, Clone)]
pub struct Settings {
    /// host:port of the gateway's JSON-RPC API.
    pub api: String,
    /// Sent with `authenticate` first when set.
    pub token: Option<String>,
    /// Limit for a TCP connect (`TAPIGW_CONNECT_TIMEOUT_MS`, default 2000).
    pub connect_timeout: Duration,
    /// Limit for the answer to one request (`TAPIGW_TIMEOUT_MS`, default 10000).
    pub call_timeout: Duration,
    /// Ask for a resumable session and reconnect after a drop (`TAPIGW_RESUME`, default on).
    pub resume: bool,
    /// How long to keep trying to resume (`TAPIGW_RESUME_WINDOW_MS`, default 30000, the
    /// gateway's default `api.resume_grace_s`).
    pub resume_window: Duration,
    /// Print the wire traffic to stderr (`TAPIGW_DEBUG=1`).
    pub debug: bool,
}

impl Settings {
    pub fn from_env() -> Settings {
        Settings {
            api: var("TAPIGW_API").unwrap_or_else(|| DEFAULT_API.to_string()),
            token: var("TAPIGW_TOKEN"),
            connect_timeout: millis("TAPIGW_CONNECT_TIMEOUT_MS", 2000),
            call_timeout: millis("TAPIGW_TIMEOUT_MS", 10_000),
            resume: !matches!(
                var("TAPIGW_RESUME").as_deref(),
                Some("0" | "false" | "no" | "off")
            ),
            resume_window: millis("TAPIGW_RESUME_WINDOW_MS", 30_000),
            debug: matches!(
                var("TAPIGW_DEBUG").as_deref(),
                Some("1" | "true" | "yes" | "on")
            ),
        }
    }
}

/// A non-empty environment variable.
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// A duration in milliseconds from the environment; unparsable values give the default.
fn millis(name: &str, default: u64) -> Duration {
    let ms = var(name)
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(default);
    Duration::from_millis(ms)
}
