//! The sans-I/O core: our TAPISRV ([`Tapisrv`]) and the SIP line provider ([`SipProvider`])
//! composed into one state machine the runtime drives (and the simulator, with a fake clock).
//!
//! Inputs: [`Gateway::handle_sip`], [`Gateway::handle_transport_failure`],
//! [`Gateway::handle_client`], [`Gateway::handle_timeout`], [`Gateway::begin_shutdown`], each
//! with `now`. Every one of them first fires whatever is due at `now` (retransmissions, Timer
//! B/F, registration refreshes, lineGetMessage deadlines), so a flood of input cannot starve a
//! timer. Outputs: [`Gateway::poll_transmit`] (SIP bytes to send), [`Gateway::poll_output`]
//! (typed outputs for client connections), [`Gateway::poll_journal`] (call journal records),
//! [`Gateway::poll_timeout`] (the next deadline).
//! After every input the provider's events are pumped into TAPISRV, so TAPI messages caused by
//! the network are queued before the runtime flushes.

use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::config::GatewayConfig;
use crate::journal::{DialogRecord, JournalRecord};
use crate::media::MediaAllocator;
use crate::metrics::CoreSnapshot;
use crate::provider::{AdmissionStats, RecoverySummary, SipProvider};
use crate::sip::message_stats::MessageCounters;
use crate::sip::transport::{
    FlowEvent, Incoming, Peer, Transmit, TransportCommand, TransportFailure,
};
use crate::tapi::server::{ClientInput, Tapisrv, TapisrvConfig};
use crate::tapi::{LineProvider, Output, SessionStats};

/// The whole gateway state, free of I/O.
pub struct Gateway {
    tapisrv: Tapisrv,
    provider: SipProvider,
    /// SIP messages in and out, by method and status (metrics).
    sip_messages: MessageCounters,
}

impl Gateway {
    /// A gateway for `config`, with `media` handing out RTP ports and `seed` for the random
    /// parts of SIP identifiers. Lines that register send their first REGISTER at `now`.
    pub fn new(
        config: &GatewayConfig,
        media: Box<dyn MediaAllocator>,
        seed: u64,
        now: Instant,
    ) -> Self {
        let tapisrv = Tapisrv::new(TapisrvConfig {
            max_event_queue: config.api.max_event_queue,
            resume_grace: config.api.resume_grace,
        })
        .with_limits(tapisrv_limits(&config.api.limits));
        let mut gateway = Gateway {
            tapisrv,
            provider: SipProvider::new(config, media, seed, now),
            sip_messages: MessageCounters::default(),
        };
        gateway.pump(now);
        gateway
    }

    /// A SIP message from the network.
    pub fn handle_sip(&mut self, now: Instant, incoming: Incoming) {
        self.sip_messages.incoming(&incoming.message);
        self.tapisrv.handle_timeout(now, &mut self.provider);
        self.provider.handle_incoming(now, incoming);
        self.pump(now);
    }

    /// A SIP message that waited `queued` between its driver and the core (new INVITEs are
    /// refused with 503 while that is longer than `sip.overload_queue_ms`).
    pub fn handle_sip_queued(&mut self, now: Instant, incoming: Incoming, queued: Duration) {
        self.tapisrv.handle_timeout(now, &mut self.provider);
        self.provider.handle_incoming_queued(now, incoming, queued);
        self.pump(now);
    }

    /// The UDP driver refused `count` new INVITEs itself (its channel to the core was full).
    pub fn note_driver_refusals(&mut self, count: u64) {
        self.provider.note_driver_refusals(count);
    }

    /// What SIP admission refused since start-up (limits, floods, overload, untrusted).
    pub fn admission_stats(&self) -> AdmissionStats {
        self.provider.admission_stats()
    }

    /// A driver could not deliver to a peer.
    pub fn handle_transport_failure(&mut self, now: Instant, failure: &TransportFailure) {
        self.tapisrv.handle_timeout(now, &mut self.provider);
        self.provider.handle_transport_failure(now, failure);
        self.pump(now);
    }

    /// A connection-oriented flow closed or answered a keep-alive (RFC 5626).
    pub fn handle_flow_event(&mut self, now: Instant, event: FlowEvent) {
        self.tapisrv.handle_timeout(now, &mut self.provider);
        self.provider.handle_flow_event(now, event);
        self.pump(now);
    }

    /// Something from a client connection.
    pub fn handle_client(&mut self, now: Instant, input: ClientInput) {
        self.provider.handle_timeout(now);
        self.pump(now);
        self.tapisrv.handle_client(now, &mut self.provider, input);
        self.pump(now);
    }

    /// An event of the media engine (a digit, a generate, play or record done).
    pub fn handle_media_event(&mut self, now: Instant, event: crate::media::MediaEvent) {
        self.tapisrv.handle_timeout(now, &mut self.provider);
        self.provider.handle_media_event(now, event);
        self.pump(now);
    }

    /// The next command for the media engine (the runtime hands it over without blocking).
    pub fn poll_media(&mut self) -> Option<crate::media::MediaCommand> {
        self.provider.poll_media()
    }

    /// Fires everything due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.provider.handle_timeout(now);
        self.tapisrv.handle_timeout(now, &mut self.provider);
        self.pump(now);
    }

    /// A reloaded configuration (SIGHUP): lines added, removed or changed.
    pub fn reload(&mut self, now: Instant, config: &GatewayConfig) {
        self.provider.handle_timeout(now);
        self.provider.reload_lines(now, &config.lines);
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

    /// Dialogs the journal says were up when the gateway last stopped: each is ended with BYE,
    /// or with `keep` refreshed (re-INVITE) and offered to apps through lineGetNewCalls.
    pub fn recover(
        &mut self,
        now: Instant,
        records: Vec<DialogRecord>,
        keep: bool,
    ) -> RecoverySummary {
        self.tapisrv.handle_timeout(now, &mut self.provider);
        let summary = self.provider.recover(now, records, keep);
        self.pump(now);
        summary
    }

    /// The next record for the call journal (the runtime appends it to the file).
    pub fn poll_journal(&mut self) -> Option<JournalRecord> {
        self.provider.poll_journal()
    }

    /// True once every call and registration the stop started has finished.
    pub fn is_shutdown_complete(&self) -> bool {
        self.provider.is_quiescent()
    }

    /// The next datagram or stream write.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        let transmit = self.provider.poll_transmit()?;
        self.sip_messages.outgoing(&transmit.payload);
        Some(transmit)
    }

    /// The counters and gauges of the core now (the runtime adds its queue figures).
    pub fn snapshot(&self) -> CoreSnapshot {
        CoreSnapshot {
            tapi: self.tapisrv.snapshot(),
            provider: self.provider.snapshot(),
            sip_messages: self.sip_messages.clone(),
            ..CoreSnapshot::default()
        }
    }

    /// The next thing a stream driver must do beyond sending (close a dead flow).
    pub fn poll_transport_command(&mut self) -> Option<TransportCommand> {
        self.provider.poll_transport_command()
    }

    /// The next output for a client connection, in production order.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.tapisrv.poll_output()
    }

    /// When the gateway next needs [`Gateway::handle_timeout`].
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

    /// Counters of kept, resumed and expired sessions (for metrics).
    pub fn session_stats(&self) -> SessionStats {
        self.tapisrv.session_stats()
    }

    /// Moves every provider event into TAPISRV (which may call back into the provider).
    fn pump(&mut self, now: Instant) {
        while let Some(event) = self.provider.poll_event() {
            self.tapisrv
                .handle_provider_event(now, &mut self.provider, event);
        }
    }
}

/// TAPISRV's share of the `[api]` limits.
fn tapisrv_limits(l: &crate::config::ApiLimits) -> crate::tapi::server::Limits {
    crate::tapi::server::Limits {
        max_apps_per_connection: l.max_apps_per_connection,
        max_app_name_bytes: l.max_app_name_bytes,
        max_pending_requests: l.max_pending_requests,
        max_message_waiters: l.max_message_waiters,
        max_calls_per_line: l.max_calls_per_line,
    }
}
