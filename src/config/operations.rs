//! The operational `[sip]` keys, checked and resolved: admission limits (server transactions,
//! INVITEs per second per source), graceful overload, the shutdown grace and the call journal
//! (crash recovery). docs/configuration.md, "Limits, shutdown and crash recovery", describes
//! each key; docs/operations.md what an operator sees.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::settings::SipSettings;
use super::ConfigError;

/// What the provider refuses before it creates a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdmissionConfig {
    /// Live server transactions beyond which new requests get 503 (retransmissions and
    /// requests of our dialogs are still taken).
    pub max_server_transactions: usize,
    /// New INVITEs per second one source IP address may send (token bucket of one second);
    /// 0 = no limit.
    pub invite_rate_per_source: u32,
    /// A flooding source's 503 carries `Retry-After` of this, and the source then gets no
    /// answer at all for as long.
    pub flood_block: Duration,
    /// A datagram that waited longer than this for the core means the core is behind: new
    /// INVITEs are refused with 503 (zero = never).
    pub overload_queue: Duration,
}

impl Default for AdmissionConfig {
    fn default() -> Self {
        AdmissionConfig {
            max_server_transactions: default_max_server_transactions(),
            invite_rate_per_source: default_invite_rate(),
            flood_block: Duration::from_secs(default_flood_block()),
            overload_queue: Duration::from_millis(default_overload_queue_ms()),
        }
    }
}

/// How the gateway stops and starts again: the grace of a graceful stop and the journal of
/// live dialogs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleConfig {
    /// How long SIGTERM waits for BYEs, CANCELs and un-REGISTERs to be answered.
    pub shutdown_grace: Duration,
    /// The call journal; `None` when `journal_path = ""` (no crash recovery).
    pub journal: Option<PathBuf>,
    /// After a crash, keep journaled calls (re-INVITE, lineGetNewCalls) instead of ending them
    /// with BYE.
    pub recover_calls: bool,
}

impl Default for LifecycleConfig {
    fn default() -> Self {
        LifecycleConfig {
            shutdown_grace: Duration::from_secs(default_shutdown_grace()),
            journal: None,
            recover_calls: false,
        }
    }
}

pub(super) fn default_max_server_transactions() -> usize {
    50_000
}
pub(super) fn default_invite_rate() -> u32 {
    200
}
pub(super) fn default_flood_block() -> u64 {
    10
}
pub(super) fn default_overload_queue_ms() -> u64 {
    50
}
pub(super) fn default_shutdown_grace() -> u64 {
    10
}

/// Checks the operational keys of `[sip]`.
pub(super) fn resolve(
    file: &Path,
    sip: &SipSettings,
) -> Result<(AdmissionConfig, LifecycleConfig), ConfigError> {
    let err = |key: &str, problem: &str| ConfigError::key(file, key, problem);
    if sip.max_server_transactions == 0 {
        return Err(err("sip.max_server_transactions", "must be at least 1"));
    }
    if !(1..=3600).contains(&sip.invite_flood_block_s) {
        return Err(err("sip.invite_flood_block_s", "must be 1..3600 seconds"));
    }
    if sip.shutdown_grace_s > 3600 {
        return Err(err("sip.shutdown_grace_s", "must be at most 3600 seconds"));
    }
    let admission = AdmissionConfig {
        max_server_transactions: sip.max_server_transactions,
        invite_rate_per_source: sip.invite_rate_per_source,
        flood_block: Duration::from_secs(sip.invite_flood_block_s),
        overload_queue: Duration::from_millis(sip.overload_queue_ms),
    };
    let lifecycle = LifecycleConfig {
        shutdown_grace: Duration::from_secs(sip.shutdown_grace_s),
        journal: journal_path(file, sip.journal_path.as_deref()),
        recover_calls: sip.recover_calls,
    };
    Ok((admission, lifecycle))
}

/// `journal_path` as given (relative to the config file's directory), `<config stem>.journal`
/// next to the config file when absent, none when empty.
fn journal_path(file: &Path, given: Option<&str>) -> Option<PathBuf> {
    let dir = file.parent().unwrap_or(Path::new(""));
    match given {
        Some(p) if p.trim().is_empty() => None,
        Some(p) => Some(dir.join(p)),
        None => {
            let stem = file
                .file_stem()
                .map_or("tapigw".into(), |s| s.to_string_lossy());
            Some(dir.join(format!("{stem}.journal")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_journal_lives_next_to_the_config_unless_told_otherwise() {
        let file = Path::new("/etc/tapigw/gw.toml");
        assert_eq!(
            journal_path(file, None),
            Some(PathBuf::from("/etc/tapigw/gw.journal"))
        );
        assert_eq!(
            journal_path(file, Some("state/j")),
            Some(PathBuf::from("/etc/tapigw/state/j"))
        );
        assert_eq!(
            journal_path(file, Some("/var/lib/tapigw/j")),
            Some(PathBuf::from("/var/lib/tapigw/j"))
        );
        assert_eq!(journal_path(file, Some("")), None);
    }
}
