//! The sans-I/O core: our TAPISRV ([`Tapisrv`]) and the SIP line provider ([`SipProvider`])
//! composed into one state machine the runtime drives.
//!
//! Inputs: `handle_sip`, `handle_transport_failure`, `handle_api`, `handle_timeout`,
//! `begin_shutdown`, each with `now`. Outputs: `poll_transmit` (SIP bytes to send),
//! `poll_api_output` (JSON lines for app connections), `poll_timeout` (the next deadline).
//! After every input the provider's events are pumped into TAPISRV, so TAPI messages caused by
//! the network are queued before the runtime flushes.

use std::time::Instant;

use bytes::Bytes;

use crate::api::{ApiEvent, ApiOutput};
use crate::config::GatewayConfig;
use crate::media::MediaAllocator;
use crate::provider::SipProvider;
use crate::sip::transport::{Incoming, Peer, Transmit, TransportFailure};
use crate::tapi::server::{Tapisrv, TapisrvConfig};
use crate::tapi::LineProvider;

/// The whole gateway state, free of I/O.
pub struct Gateway {
    tapisrv: Tapisrv,
    provider: SipProvider,
}

impl Gateway {
    pub fn new(
        config: &GatewayConfig,
        media: Box<dyn MediaAllocator>,
        seed: u64,
        now: Instant,
    ) -> Self {
        let tapisrv = Tapisrv::new(TapisrvConfig {
            max_event_queue: config.api.max_event_queue,
        });
        let mut gateway = Gateway {
            tapisrv,
            provider: SipProvider::new(config, media, seed, now),
        };
        gateway.pump(now);
        gateway
    }

    pub fn handle_sip(&mut self, now: Instant, incoming: Incoming) {
        self.provider.handle_incoming(now, incoming);
        self.pump(now);
    }

    pub fn handle_transport_failure(&mut self, now: Instant, failure: &TransportFailure) {
        self.provider.handle_transport_failure(now, failure);
        self.pump(now);
    }

    pub fn handle_api(&mut self, now: Instant, event: ApiEvent) {
        self.tapisrv.handle_api(now, &mut self.provider, event);
        self.pump(now);
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        self.provider.handle_timeout(now);
        self.tapisrv.handle_timeout(now);
        self.pump(now);
    }

    /// Sends bytes the codec prepared (a 400 for a malformed request) back to `destination`.
    pub fn send_raw(&mut self, destination: Peer, payload: Bytes) {
        self.provider.send_raw(destination, payload);
    }

    /// Graceful stop: LINE_CLOSE to apps, calls dropped, lines unregistered.
    pub fn begin_shutdown(&mut self, now: Instant) {
        self.tapisrv.shutdown(now, &mut self.provider);
        self.provider.begin_shutdown(now);
        self.pump(now);
    }

    /// True once every call and registration the stop started has finished.
    pub fn is_shutdown_complete(&self) -> bool {
        self.provider.is_quiescent()
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.provider.poll_transmit()
    }

    pub fn poll_api_output(&mut self) -> Option<ApiOutput> {
        self.tapisrv.poll_output()
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.provider.poll_timeout(), self.tapisrv.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Read access for tests and benchmarks.
    pub fn provider(&self) -> &SipProvider {
        &self.provider
    }

    /// Moves every provider event into TAPISRV (which may call back into the provider).
    fn pump(&mut self, now: Instant) {
        while let Some(event) = self.provider.poll_event() {
            self.tapisrv
                .handle_provider_event(now, &mut self.provider, event);
        }
    }
}
