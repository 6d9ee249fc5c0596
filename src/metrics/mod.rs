//! Metrics and health (docs/operations.md): the core keeps plain counters where things happen
//! (TAPISRV's tables, the transaction layer, the gateway's SIP message counts); the metrics
//! listener asks the core task for a [`CoreSnapshot`] over a bounded channel with a oneshot
//! reply (that round trip is also what `/healthz` checks), adds the API server's own counters
//! ([`ApiCounters`], atomics shared by the connection tasks) and renders the whole as
//! Prometheus/OpenMetrics text with `prometheus-client` ([`exposition`]).

pub mod api_counters;
pub mod exposition;
pub mod snapshot;

pub use api_counters::{ApiCounters, DropReason};
pub use snapshot::CoreSnapshot;
