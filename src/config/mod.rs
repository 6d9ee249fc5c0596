//! Configuration: loading (TOML file + `TAPIGW__SECTION__KEY` environment overrides through the
//! `config` crate, without `try_parsing` so SIP user names keep their leading zeros), checking,
//! and resolving into the [`GatewayConfig`] the core runs on.
//!
//! Every problem becomes one [`ConfigError`] whose Display is a single line naming the file, the
//! key and the problem; `main` prints it and exits non-zero before anything binds.

mod api_security;
mod operations;
mod resolve;
mod settings;
pub mod tls;

use std::path::{Path, PathBuf};

pub use api_security::{token_digest, ApiLimits, ApiToken, MetricsConfig};
pub use operations::{AdmissionConfig, LifecycleConfig};
pub use resolve::{
    ApiConfig, GatewayConfig, LineConfig, LineTls, MediaConfig, SipConfig, StreamLimits, TlsListen,
};
pub use settings::{
    ApiSettings, LineSettings, LineTransport, MediaMode, MediaSettings, ReliableProvisionals,
    Settings, SipSettings,
};
pub use tls::{server_name, TlsClient, TlsServer};

/// Prefix of environment overrides: `TAPIGW__API__LISTEN=127.0.0.1:9000`.
pub const ENV_PREFIX: &str = "TAPIGW";

/// A configuration problem, displayed as one line.
#[derive(Debug, thiserror::Error)]
#[error("config error in {file}: {detail}")]
pub struct ConfigError {
    pub file: PathBuf,
    /// `key `x.y`: problem`, or the problem alone when it concerns the whole file.
    pub detail: String,
}

impl ConfigError {
    pub fn key(file: &Path, key: &str, problem: impl std::fmt::Display) -> Self {
        ConfigError {
            file: file.to_path_buf(),
            detail: format!("key `{key}`: {problem}"),
        }
    }
}

/// Loads, checks and resolves the configuration in `path` with environment overrides.
pub fn load(path: &Path) -> Result<GatewayConfig, ConfigError> {
    let settings = read_settings(path, std::env::vars())?;
    resolve::resolve(path, settings)
}

/// Checks and resolves configuration text, with no environment overrides (the simulator, and
/// tests); `origin` names it in errors.
pub fn load_str(text: &str, origin: &Path) -> Result<GatewayConfig, ConfigError> {
    let settings = parse_settings(text, origin, std::iter::empty())?;
    resolve::resolve(origin, settings)
}

/// Reads `path` and the given environment variables into [`Settings`] (no semantic checks).
pub fn read_settings(
    path: &Path,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Settings, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.to_path_buf(),
        detail: format!("cannot read file: {e}"),
    })?;
    parse_settings(&text, path, env)
}

fn parse_settings(
    text: &str,
    path: &Path,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Settings, ConfigError> {
    let env: config::Map<String, String> = env
        .into_iter()
        .filter(|(k, _)| k.starts_with(&format!("{ENV_PREFIX}__")))
        .collect();
    config::Config::builder()
        .add_source(config::File::from_str(text, config::FileFormat::Toml))
        .add_source(
            config::Environment::with_prefix(ENV_PREFIX)
                .prefix_separator("__")
                .separator("__")
                .source(Some(env)),
        )
        .build()
        .and_then(|c| c.try_deserialize::<Settings>())
        .map_err(|e| ConfigError {
            file: path.to_path_buf(),
            detail: one_line(&describe(&e)),
        })
}

/// Rewrites the config crate's messages so that each names the offending key.
fn describe(err: &config::ConfigError) -> String {
    let text = err.to_string();
    // "unknown field `x`, expected ... for key `sip`" -> key `sip.x`: unknown key (expected ...)
    if let Some(rest) = text.strip_prefix("unknown field `") {
        if let Some((field, tail)) = rest.split_once('`') {
            let (expected, parent) = match tail.rsplit_once(" for key `") {
                Some((exp, parent)) => (exp, parent.trim_end_matches('`')),
                None => (tail, ""),
            };
            let key = if parent.is_empty() {
                field.to_string()
            } else {
                format!("{parent}.{field}")
            };
            let expected = expected.trim_start_matches(", ");
            return format!("key `{}`: unknown key ({expected})", fix_key(&key));
        }
    }
    if let Some((problem, key)) = text.split_once(" for key `") {
        let key = key.split('`').next().unwrap_or(key);
        return format!("key `{}`: {problem}", fix_key(key));
    }
    if let Some(missing) = text.strip_prefix("missing field `") {
        let field = missing.split('`').next().unwrap_or(missing);
        return format!("key `{field}`: missing");
    }
    text
}

/// The config crate writes array members as `lines[0]expires`; make it `lines[0].expires`.
fn fix_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 2);
    let mut chars = key.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == ']' && chars.peek().is_some_and(|n| *n != '.' && *n != '[') {
            out.push('.');
        }
    }
    out
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests;
