//! `[api]` security and limits, and `[metrics]`, resolved: tokens (from the file, the
//! environment `TAPIGW__API__TOKEN`, or `token_file`) kept only as SHA-256 digests with their
//! scopes, the rule that a listener off loopback needs a token, the TLS material, the limits.

use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio_rustls::rustls;

use super::resolve::{ApiConfig, LineConfig};
use super::settings::{ApiSettings, MaxPrivilege, MetricsSettings, TokenLines, TokenSettings};
use super::tls;
use super::ConfigError;
use crate::tapi::{LineScope, Scope};

/// One accepted token: its digest (the text itself is not kept) and what it may do.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub digest: [u8; 32],
    pub scope: Scope,
    /// For logs: `name`, or `api.token` / `api.tokens[N]`.
    pub name: String,
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiToken")
            .field("name", &self.name)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// SHA-256 of a token (what [`ApiToken::digest`] holds; compared in constant time).
pub fn token_digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The API's bounds (docs/configuration.md "API limits").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiLimits {
    pub max_connections: usize,
    pub max_apps_per_connection: usize,
    pub max_pending_requests: usize,
    pub max_message_waiters: usize,
    pub max_app_name_bytes: usize,
    pub max_calls_per_line: u32,
    pub auth_timeout: Duration,
    /// None: no shedding.
    pub overload_delay: Option<Duration>,
}

/// `[metrics]`.
#[derive(Debug, Clone, Default)]
pub struct MetricsConfig {
    pub listen: Option<SocketAddr>,
}

pub(super) fn resolve_metrics(m: &MetricsSettings) -> MetricsConfig {
    MetricsConfig { listen: m.listen }
}

/// The longest `api.resume_grace_s`: one day.
const MAX_RESUME_GRACE_S: u64 = 86_400;

pub(super) fn resolve_api(
    file: &Path,
    api: &ApiSettings,
    lines: &[LineConfig],
) -> Result<ApiConfig, ConfigError> {
    let err = |key: &str, problem: String| ConfigError::key(file, key, problem);
    if api.max_outgoing_messages < 16 {
        return Err(err(
            "api.max_outgoing_messages",
            "must be at least 16".into(),
        ));
    }
    if api.max_event_queue == 0 {
        return Err(err("api.max_event_queue", "must be at least 1".into()));
    }
    if api.resume_grace_s > MAX_RESUME_GRACE_S {
        return Err(err(
            "api.resume_grace_s",
            format!("must be at most {MAX_RESUME_GRACE_S} (one day)"),
        ));
    }
    let tokens = resolve_tokens(file, api, lines)?;
    if tokens.is_empty() && !api.listen.ip().is_loopback() {
        return Err(err(
            "api.token",
            format!(
                "required when api.listen ({}) is not a loopback address (set api.token, \
                 TAPIGW__API__TOKEN, api.token_file or [[api.tokens]])",
                api.listen
            ),
        ));
    }
    Ok(ApiConfig {
        listen: api.listen,
        max_outgoing_messages: api.max_outgoing_messages,
        max_event_queue: api.max_event_queue,
        resume_grace: Duration::from_secs(api.resume_grace_s),
        tokens,
        tls: resolve_tls(file, api)?,
        limits: resolve_limits(file, api)?,
    })
}

fn resolve_limits(file: &Path, api: &ApiSettings) -> Result<ApiLimits, ConfigError> {
    let at_least_one = [
        ("api.max_connections", api.max_connections),
        ("api.max_apps_per_connection", api.max_apps_per_connection),
        ("api.max_pending_requests", api.max_pending_requests),
        ("api.max_message_waiters", api.max_message_waiters),
        ("api.max_app_name_bytes", api.max_app_name_bytes),
        ("api.max_calls_per_line", api.max_calls_per_line as usize),
        ("api.auth_timeout_s", api.auth_timeout_s as usize),
    ];
    if let Some((key, _)) = at_least_one.iter().find(|(_, v)| *v == 0) {
        return Err(ConfigError::key(file, key, "must be at least 1"));
    }
    Ok(ApiLimits {
        max_connections: api.max_connections,
        max_apps_per_connection: api.max_apps_per_connection,
        max_pending_requests: api.max_pending_requests,
        max_message_waiters: api.max_message_waiters,
        max_app_name_bytes: api.max_app_name_bytes,
        max_calls_per_line: api.max_calls_per_line,
        auth_timeout: Duration::from_secs(api.auth_timeout_s),
        overload_delay: (api.overload_delay_ms > 0)
            .then(|| Duration::from_millis(api.overload_delay_ms)),
    })
}

fn resolve_tls(
    file: &Path,
    api: &ApiSettings,
) -> Result<Option<Arc<rustls::ServerConfig>>, ConfigError> {
    match (&api.tls_cert, &api.tls_key) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(ConfigError::key(
            file,
            "api.tls_key",
            "required with api.tls_cert",
        )),
        (None, Some(_)) => Err(ConfigError::key(
            file,
            "api.tls_cert",
            "required with api.tls_key",
        )),
        (Some(cert), Some(key)) => tls::server_for(
            ("api.tls_cert", "api.tls_key"),
            &cert.to_string_lossy(),
            &key.to_string_lossy(),
        )
        .map(|server| Some(server.0))
        .map_err(|(key, e)| ConfigError::key(file, key, e)),
    }
}

fn resolve_tokens(
    file: &Path,
    api: &ApiSettings,
    lines: &[LineConfig],
) -> Result<Vec<ApiToken>, ConfigError> {
    let mut tokens = Vec::new();
    let main = secret(file, "api", api.token.as_deref(), api.token_file.as_deref())?;
    if let Some(text) = main {
        tokens.push(ApiToken {
            digest: token_digest(&text),
            scope: Scope::full(),
            name: "api.token".into(),
        });
    }
    for (i, entry) in api.tokens.iter().enumerate() {
        let key = format!("api.tokens[{i}]");
        let text = secret(
            file,
            &key,
            entry.token.as_deref(),
            entry.token_file.as_deref(),
        )?
        .ok_or_else(|| ConfigError::key(file, &format!("{key}.token"), "missing"))?;
        let token = ApiToken {
            digest: token_digest(&text),
            scope: scope_of(file, &key, entry, lines)?,
            name: entry.name.clone().unwrap_or_else(|| key.clone()),
        };
        if tokens.iter().any(|t: &ApiToken| t.digest == token.digest) {
            return Err(ConfigError::key(
                file,
                &format!("{key}.token"),
                "the same token is given twice",
            ));
        }
        tokens.push(token);
    }
    Ok(tokens)
}

/// A token given inline or in a file (its first line), under `section`.
fn secret(
    file: &Path,
    section: &str,
    inline: Option<&str>,
    path: Option<&Path>,
) -> Result<Option<String>, ConfigError> {
    let text = match (inline, path) {
        (None, None) => return Ok(None),
        (Some(_), Some(_)) => {
            return Err(ConfigError::key(
                file,
                &format!("{section}.token_file"),
                format!("give {section}.token or {section}.token_file, not both"),
            ))
        }
        (Some(text), None) => (text.to_string(), format!("{section}.token")),
        (None, Some(path)) => {
            let key = format!("{section}.token_file");
            let text = std::fs::read_to_string(path).map_err(|e| {
                ConfigError::key(file, &key, format!("cannot read {}: {e}", path.display()))
            })?;
            (text.lines().next().unwrap_or("").trim().to_string(), key)
        }
    };
    let (text, key) = text;
    if text.trim().is_empty() {
        return Err(ConfigError::key(file, &key, "must not be empty"));
    }
    Ok(Some(text))
}

fn scope_of(
    file: &Path,
    key: &str,
    entry: &TokenSettings,
    lines: &[LineConfig],
) -> Result<Scope, ConfigError> {
    let lines_key = format!("{key}.lines");
    let scope_lines = match &entry.lines {
        TokenLines::Keyword(word) if word == "all" => LineScope::All,
        TokenLines::Keyword(other) => {
            return Err(ConfigError::key(
                file,
                &lines_key,
                format!("expected \"all\" or a list of line users, not {other:?}"),
            ))
        }
        TokenLines::Users(users) if users.is_empty() => {
            return Err(ConfigError::key(file, &lines_key, "must not be empty"))
        }
        TokenLines::Users(users) => {
            if let Some((j, user)) = users
                .iter()
                .enumerate()
                .find(|(_, u)| !lines.iter().any(|l| &&l.user == u))
            {
                return Err(ConfigError::key(
                    file,
                    &format!("{lines_key}[{j}]"),
                    format!("no [[lines]] entry has user {user:?}"),
                ));
            }
            LineScope::Users(users.clone())
        }
    };
    Ok(Scope {
        lines: scope_lines,
        may_own: entry.max_privilege == MaxPrivilege::Owner,
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::load_str;

    const LINES: &str = "[[lines]]\nuser = \"1001\"\ndomain = \"d\"\nproxy = \"127.0.0.1:5070\"\n";

    fn load(api: &str) -> Result<crate::config::GatewayConfig, String> {
        let text = format!("[sip]\nlisten = \"127.0.0.1:5060\"\n[api]\n{api}\n{LINES}");
        load_str(&text, Path::new("t.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn off_loopback_needs_a_token() {
        let err = load("listen = \"0.0.0.0:8274\"").unwrap_err();
        assert!(err.contains("key `api.token`: required"), "{err}");
        let ok = load("listen = \"0.0.0.0:8274\"\ntoken = \"t\"").unwrap();
        assert_eq!(ok.api.tokens.len(), 1);
        assert!(ok.api.tokens[0].scope.is_full());
        assert!(load("listen = \"127.0.0.1:8274\"")
            .unwrap()
            .api
            .tokens
            .is_empty());
    }

    #[test]
    fn token_entries_are_checked() {
        let base = "listen = \"127.0.0.1:8274\"\n";
        let cases = [
            ("token = \"\"", "api.token`: must not be empty"),
            (
                "[[api.tokens]]\nlines = \"all\"",
                "api.tokens[0].token`: missing",
            ),
            (
                "[[api.tokens]]\ntoken = \"a\"\nlines = \"some\"",
                "api.tokens[0].lines`",
            ),
            (
                "[[api.tokens]]\ntoken = \"a\"\nlines = [\"1001\", \"9\"]",
                "api.tokens[0].lines[1]`",
            ),
            (
                "[[api.tokens]]\ntoken = \"a\"\nlines = []",
                "api.tokens[0].lines`: must not be empty",
            ),
            (
                "token = \"a\"\n[[api.tokens]]\ntoken = \"a\"",
                "api.tokens[0].token`: the same token",
            ),
            (
                "[[api.tokens]]\ntoken = \"a\"\nmax_privilege = \"root\"",
                "max_privilege",
            ),
            (
                "token_file = \"/nonexistent/token\"",
                "api.token_file`: cannot read",
            ),
            (
                "tls_cert = \"/nonexistent/c.pem\"",
                "api.tls_key`: required",
            ),
            (
                "tls_cert = \"/nonexistent/c\"\ntls_key = \"/nonexistent/k\"",
                "api.tls_cert`: /nonexistent/c: no such file",
            ),
            (
                "max_connections = 0",
                "api.max_connections`: must be at least 1",
            ),
            ("auth_timeout_s = 0", "api.auth_timeout_s`"),
        ];
        for (extra, needle) in cases {
            let err = load(&format!("{base}{extra}")).unwrap_err();
            assert!(err.contains(needle), "{extra:?}: {err}");
        }
        let ok = load(&format!(
            "{base}[[api.tokens]]\ntoken = \"m\"\nlines = [\"1001\"]\nmax_privilege = \"monitor\""
        ))
        .unwrap();
        let scope = &ok.api.tokens[0].scope;
        assert!(!scope.may_own && scope.sees("1001") && !scope.sees("1002"));
        assert!(!format!("{:?}", ok.api.tokens).contains("digest"));
    }

    #[test]
    fn limits_and_metrics_have_defaults() {
        let c = load("listen = \"127.0.0.1:8274\"").unwrap();
        assert_eq!(c.api.limits.max_connections, 1024);
        assert_eq!(c.api.limits.max_calls_per_line, 10_000);
        assert_eq!(
            c.api.limits.overload_delay,
            Some(std::time::Duration::from_secs(1))
        );
        assert!(c.metrics.listen.is_none());
        assert_eq!(c.sip.user_agent, "tapigw");
    }
}
