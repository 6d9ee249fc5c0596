//! tapigw: a SIP softphone gateway that exposes Microsoft TAPI 2.x semantics to applications.
//!
//! Layers, bottom up (see DEVELOPERS.md and docs/architecture.md):
//! - [`sip`]: our SIP message model, the rsip-based codec, RFC 3261 transactions, digest auth
//!   (all sans-I/O).
//! - [`sdp`], [`media`]: SDP offer/answer and RTP port management.
//! - [`provider`]: the SIP line provider (calls, dialogs, registration) behind the TSPI-like
//!   [`tapi::LineProvider`] seam (sans-I/O).
//! - [`tapi`]: our TAPISRV: apps, lines, handles, requests, message delivery (sans-I/O).
//! - [`gateway`]: the sans-I/O core that composes TAPISRV and the SIP provider.
//! - [`journal`]: the call journal's records and file format (sans-I/O; crash recovery).
//! - [`api`]: the JSON-RPC wire protocol (sans-I/O: JSON <-> typed TAPI values).
//! - [`runtime`]: tokio drivers (UDP/TCP transport, the API server, timers, signals) around
//!   the core.
//! - [`client`]: a Rust client of the API (tokio).
//! - [`config`]: configuration loading and checking.
//! - [`metrics`]: the core's counters as a snapshot, rendered for Prometheus.

pub mod api;
pub mod client;
pub mod config;
pub mod gateway;
pub mod hash;
pub mod journal;
pub mod media;
pub mod metrics;
pub mod provider;
pub mod runtime;
pub mod sdp;
#[cfg(test)]
mod sim;
pub mod sip;
pub mod tapi;
