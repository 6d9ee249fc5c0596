//! The API server's own counters: what happens to connections before (or instead of) reaching
//! the core. Atomics shared by the accept loop and the connection tasks, read by the metrics
//! endpoint; nothing waits on them.

use std::sync::atomic::{AtomicU64, Ordering};

/// Why the gateway closed an API connection itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// `api.max_connections` were open already.
    MaxConnections,
    /// No token is configured and the peer is not on loopback.
    NotLoopback,
    /// Three failed `authenticate` attempts (or requests before it).
    AuthFailed,
    /// No authentication, or no complete line, within `api.auth_timeout_s`.
    AuthTimeout,
    /// A line over 64 KiB.
    LineTooLong,
    /// The TLS handshake failed.
    TlsHandshake,
}

impl DropReason {
    pub const ALL: [DropReason; 6] = [
        DropReason::MaxConnections,
        DropReason::NotLoopback,
        DropReason::AuthFailed,
        DropReason::AuthTimeout,
        DropReason::LineTooLong,
        DropReason::TlsHandshake,
    ];

    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            DropReason::MaxConnections => "max_connections",
            DropReason::NotLoopback => "not_loopback",
            DropReason::AuthFailed => "auth_failed",
            DropReason::AuthTimeout => "auth_timeout",
            DropReason::LineTooLong => "line_too_long",
            DropReason::TlsHandshake => "tls_handshake",
        }
    }

    fn index(self) -> usize {
        DropReason::ALL.iter().position(|r| *r == self).unwrap_or(0)
    }
}

#[derive(Debug, Default)]
pub struct ApiCounters {
    accepted: AtomicU64,
    open: AtomicU64,
    authenticated: AtomicU64,
    auth_failures: AtomicU64,
    dropped: [AtomicU64; 6],
}

impl ApiCounters {
    pub fn accepted(&self) {
        self.accepted.fetch_add(1, Ordering::Relaxed);
    }

    /// A connection task started (the gauge of open connections).
    pub fn opened(&self) {
        self.open.fetch_add(1, Ordering::Relaxed);
    }

    /// A connection task ended.
    pub fn closed(&self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
    }

    pub fn authenticated(&self) {
        self.authenticated.fetch_add(1, Ordering::Relaxed);
    }

    pub fn auth_failed(&self) {
        self.auth_failures.fetch_add(1, Ordering::Relaxed);
    }

    pub fn dropped(&self, reason: DropReason) {
        self.dropped[reason.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// Connection tasks running now.
    pub fn open_now(&self) -> u64 {
        self.open.load(Ordering::Relaxed)
    }

    pub fn accepted_total(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }

    pub fn authenticated_total(&self) -> u64 {
        self.authenticated.load(Ordering::Relaxed)
    }

    pub fn auth_failures_total(&self) -> u64 {
        self.auth_failures.load(Ordering::Relaxed)
    }

    pub fn dropped_total(&self, reason: DropReason) -> u64 {
        self.dropped[reason.index()].load(Ordering::Relaxed)
    }
}
