//! What the core task hands the metrics endpoint: plain data copied out of the sans-I/O core.

use crate::provider::ProviderSnapshot;
use crate::sip::message_stats::MessageCounters;
use crate::tapi::server::stats::TapiSnapshot;

/// The core's counters and gauges at one instant.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CoreSnapshot {
    pub tapi: TapiSnapshot,
    pub provider: ProviderSnapshot,
    pub sip_messages: MessageCounters,
    /// Requests waiting in the core's API input queue, and its capacity.
    pub api_queue: (u64, u64),
    /// lineMakeCall refused at once because the core was behind (overload shedding).
    pub shed: u64,
    /// API connections closed because their client read too slowly.
    pub slow_readers: u64,
}
