//! A whole-gateway simulator for tests: the sans-I/O [`Gateway`] driven by a fake clock, with
//! SIP peers written with our own codec and API connections held in memory, asserting on both
//! sides (the way str0m's and quinn-proto's tests pair two endpoints in virtual time).
//!
//! Everything the gateway sends goes through the real codec: SIP it transmits is decoded from
//! its bytes ([`Sim::take_sip`]), SIP a peer sends is encoded and decoded again before it is
//! handed over, as on the wire. Time moves only when a test says so ([`Sim::advance`]), and
//! every deadline in between fires at its own instant, in order.
//!
//! Media runs signalling-only (no sockets are bound). Tests live in `sim/tests/`.

#![allow(dead_code)]

mod peer;

#[cfg(test)]
mod tests;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::config::{self, GatewayConfig, MediaConfig, MediaMode};
use crate::gateway::Gateway;
use crate::journal::{DialogRecord, JournalRecord};
use crate::media;
use crate::provider::RecoverySummary;
use crate::sip::codec;
use crate::sip::message::SipMessage;
use crate::sip::transport::{FlowEvent, Incoming, Peer, Transmit, Transport, TransportCommand};
use crate::tapi::server::ClientInput;
use crate::tapi::{Answer, ConnId, LineMessage, Output, ReplyTag, Request, TapiErr};

pub use peer::SipPeer;

/// The provider's address in the simulator's default configuration.
pub const PROVIDER: &str = "127.0.0.1:5070";

/// A gateway in virtual time with its peers and apps.
pub struct Sim {
    pub gw: Gateway,
    pub now: Instant,
    pub config: GatewayConfig,
    /// SIP the gateway sent that no peer has taken yet, in order.
    wire: VecDeque<Transmit>,
    /// What the gateway asked of the stream drivers (close a flow), not taken yet.
    commands: Vec<TransportCommand>,
    /// Per connection: responses and pushed messages not taken yet, in order.
    outputs: HashMap<ConnId, VecDeque<Output>>,
    /// Call journal records the gateway emitted, in order.
    pub journal: Vec<JournalRecord>,
    /// Commands for the media engine, in order (there is no engine: tests answer with
    /// [`Sim::media_event`]).
    pub media: Vec<crate::media::MediaCommand>,
    next_conn: u64,
    next_tag: u64,
}

impl Sim {
    /// A gateway on `[sip] listen = 127.0.0.1:5060` with the `[[lines]]` (and other sections)
    /// of `rest`; T1 = 500 ms unless `rest` has its own `[sip]` keys via `sip_extra`.
    pub fn new(rest: &str) -> Sim {
        Sim::with_sip("", rest)
    }

    /// Like [`Sim::new`] with extra `[sip]` keys.
    pub fn with_sip(sip_extra: &str, rest: &str) -> Sim {
        Sim::with_media_mode(sip_extra, rest, MediaMode::None)
    }

    /// One line like [`Sim::one_line`] in `media.mode = "rtp"`: calls lease real (bound, never
    /// used) port pairs, so the gateway emits media commands ([`Sim::media`]).
    pub fn one_line_with_media(extra: &str) -> Sim {
        Sim::with_media_mode(
            "",
            &format!(
                "[[lines]]\nname = \"Line 1\"\nuser = \"1001\"\ndomain = \"example.org\"\nproxy = \"{PROVIDER}\"\n{extra}\n"
            ),
            MediaMode::Rtp,
        )
    }

    fn with_media_mode(sip_extra: &str, rest: &str, mode: MediaMode) -> Sim {
        let text = format!(
            "[sip]\nlisten = \"127.0.0.1:5060\"\n{sip_extra}\n[api]\nlisten = \"127.0.0.1:8274\"\n{rest}"
        );
        let mut config = config::load_str(&text, Path::new("sim.toml"))
            .unwrap_or_else(|e| panic!("simulator config: {e}"));
        config.media = MediaConfig {
            mode,
            ..config.media
        };
        let now = Instant::now();
        let gw = Gateway::new(&config, media::allocator_for(&config.media), 7, now);
        let mut sim = Sim {
            gw,
            now,
            config,
            wire: VecDeque::new(),
            commands: Vec::new(),
            outputs: HashMap::new(),
            journal: Vec::new(),
            media: Vec::new(),
            next_conn: 1,
            next_tag: 1,
        };
        sim.collect();
        sim
    }

    /// Reloads the gateway with a configuration of `rest` (same `[sip]` and `[api]`), as SIGHUP
    /// does.
    pub fn reload(&mut self, rest: &str) {
        let text = format!(
            "[sip]\nlisten = \"127.0.0.1:5060\"\n[api]\nlisten = \"127.0.0.1:8274\"\n{rest}"
        );
        let config = config::load_str(&text, Path::new("sim.toml"))
            .unwrap_or_else(|e| panic!("simulator config: {e}"));
        self.gw.reload(self.now, &config);
        self.collect();
    }

    /// One line whose provider is [`PROVIDER`] over UDP, with `extra` keys.
    pub fn one_line(extra: &str) -> Sim {
        Sim::new(&format!(
            "[[lines]]\nname = \"Line 1\"\nuser = \"1001\"\ndomain = \"example.org\"\nproxy = \"{PROVIDER}\"\n{extra}\n"
        ))
    }

    /// The gateway's own SIP address.
    pub fn gateway_addr(&self) -> SocketAddr {
        self.config.sip.listen
    }

    /// A SIP peer at `addr` over UDP.
    pub fn peer(&self, addr: &str) -> SipPeer {
        SipPeer::new(addr.parse().expect("a socket address"), Transport::Udp)
    }

    /// A SIP peer at `addr` over `transport`.
    pub fn peer_on(&self, addr: &str, transport: Transport) -> SipPeer {
        SipPeer::new(addr.parse().expect("a socket address"), transport)
    }

    /// What a stream driver reports about a connection (closed, a pong).
    pub fn flow(&mut self, event: FlowEvent) {
        self.gw.handle_flow_event(self.now, event);
        self.collect();
    }

    /// What the gateway asked of the stream drivers since the last call.
    pub fn take_commands(&mut self) -> Vec<TransportCommand> {
        std::mem::take(&mut self.commands)
    }

    /// Transmits to `to` since the last take, undecoded (their transport and bytes).
    pub fn take_transmits(&mut self, to: SocketAddr) -> Vec<Transmit> {
        let (taken, rest): (Vec<_>, Vec<_>) =
            self.wire.drain(..).partition(|t| t.destination.addr == to);
        self.wire = rest.into();
        taken
    }

    /// Moves the clock forward by `by`, firing every deadline in between at its own instant.
    pub fn advance(&mut self, by: Duration) {
        let until = self.now + by;
        while let Some(at) = self.gw.poll_timeout().filter(|at| *at <= until) {
            self.now = at.max(self.now);
            self.gw.handle_timeout(self.now);
            self.collect();
        }
        self.now = until;
        self.gw.handle_timeout(self.now);
        self.collect();
    }

    /// Moves the clock without firing anything (the runtime was busy): only the next input
    /// will find what became due.
    pub fn skip(&mut self, by: Duration) {
        self.now += by;
    }

    /// Hands `message` from `from` to the gateway, through the codec as on the wire.
    pub fn deliver(&mut self, from: Peer, message: impl Into<SipMessage>) {
        let bytes = codec::encode(&message.into());
        let message = codec::decode(&bytes).expect("a peer's message decodes");
        self.gw.handle_sip(
            self.now,
            Incoming {
                source: from,
                message,
            },
        );
        self.collect();
    }

    /// Like [`Sim::deliver`] for a message that waited `queued` in the runtime before it
    /// reached the core (the overload check).
    pub fn deliver_queued(&mut self, from: Peer, message: impl Into<SipMessage>, queued: Duration) {
        let bytes = codec::encode(&message.into());
        let message = codec::decode(&bytes).expect("a peer's message decodes");
        let incoming = Incoming {
            source: from,
            message,
        };
        self.gw.handle_sip_queued(self.now, incoming, queued);
        self.collect();
    }

    /// What the media engine would report.
    pub fn media_event(&mut self, event: crate::media::MediaEvent) {
        self.gw.handle_media_event(self.now, event);
        self.collect();
    }

    /// The media commands since the last take.
    pub fn take_media(&mut self) -> Vec<crate::media::MediaCommand> {
        std::mem::take(&mut self.media)
    }

    /// Dialogs a journal held, as a restarted gateway recovers them.
    pub fn recover(&mut self, records: Vec<DialogRecord>, keep: bool) -> RecoverySummary {
        let summary = self.gw.recover(self.now, records, keep);
        self.collect();
        summary
    }

    /// Everything the gateway sent to `to` since the last call, decoded.
    pub fn take_sip(&mut self, to: SocketAddr) -> Vec<SipMessage> {
        let mut taken = Vec::new();
        let mut rest = VecDeque::new();
        for t in self.wire.drain(..) {
            if t.destination.addr == to {
                if let Some(m) = decode_transmit(&t) {
                    taken.push(m);
                }
            } else {
                rest.push_back(t);
            }
        }
        self.wire = rest;
        taken
    }

    /// Raw payloads sent to `to` that are not SIP messages (keep-alives), since the last take.
    pub fn take_raw(&mut self, to: SocketAddr) -> Vec<Vec<u8>> {
        let (raw, rest): (Vec<_>, Vec<_>) = self
            .wire
            .drain(..)
            .partition(|t| t.destination.addr == to && decode_transmit(t).is_none());
        self.wire = rest.into();
        raw.into_iter().map(|t| t.payload.to_vec()).collect()
    }

    /// A new API connection.
    pub fn connect(&mut self) -> ConnId {
        let conn = ConnId(self.next_conn);
        self.next_conn += 1;
        self.gw
            .handle_client(self.now, ClientInput::Connected { conn });
        self.outputs.insert(conn, VecDeque::new());
        self.collect();
        conn
    }

    /// The connection authenticated with a token of `scope` (what the API layer reports);
    /// TAPISRV's `{}` answer is taken.
    pub fn authenticate(&mut self, conn: ConnId, scope: crate::tapi::Scope) {
        let tag = ReplyTag::from(u64::MAX);
        let input = ClientInput::Authenticated {
            conn,
            tag: tag.clone(),
            scope,
        };
        self.gw.handle_client(self.now, input);
        self.collect();
        assert_eq!(self.take_response(conn, &tag), Some(Ok(Answer::Empty)));
    }

    pub fn disconnect(&mut self, conn: ConnId) {
        self.gw
            .handle_client(self.now, ClientInput::Disconnected { conn });
        self.collect();
    }

    /// Sends `request` on `conn` and returns its tag (the response comes later or at once).
    pub fn send(&mut self, conn: ConnId, request: Request) -> ReplyTag {
        let tag = ReplyTag::from(self.next_tag);
        self.next_tag += 1;
        self.gw.handle_client(
            self.now,
            ClientInput::Request {
                conn,
                tag: tag.clone(),
                request,
            },
        );
        self.collect();
        tag
    }

    /// Calls a function that answers at once; panics when it does not.
    pub fn call(&mut self, conn: ConnId, request: Request) -> Result<Answer, TapiErr> {
        let what = format!("{request:?}");
        let tag = self.send(conn, request);
        self.take_response(conn, &tag)
            .unwrap_or_else(|| panic!("no response to {what}"))
    }

    /// The response tagged `tag` on `conn`, if it came (it is removed from the queue).
    pub fn take_response(
        &mut self,
        conn: ConnId,
        tag: &ReplyTag,
    ) -> Option<Result<Answer, TapiErr>> {
        let queue = self.outputs.get_mut(&conn)?;
        let index = queue
            .iter()
            .position(|o| matches!(o, Output::Response { tag: t, .. } if t == tag))?;
        match queue.remove(index) {
            Some(Output::Response { result, .. }) => Some(result),
            _ => None,
        }
    }

    /// Every output of `conn` in order, taken.
    pub fn take_outputs(&mut self, conn: ConnId) -> Vec<Output> {
        self.outputs
            .get_mut(&conn)
            .map(|q| q.drain(..).collect())
            .unwrap_or_default()
    }

    /// The pushed TAPI messages of `conn`, taken (responses stay queued).
    pub fn messages(&mut self, conn: ConnId) -> Vec<LineMessage> {
        let Some(queue) = self.outputs.get_mut(&conn) else {
            return Vec::new();
        };
        let (messages, rest): (Vec<_>, Vec<_>) = queue
            .drain(..)
            .partition(|o| matches!(o, Output::Message { .. }));
        *queue = rest.into();
        messages
            .into_iter()
            .filter_map(|o| match o {
                Output::Message { message, .. } => Some(message),
                _ => None,
            })
            .collect()
    }

    /// Moves what the gateway produced into the wire and the connections' queues.
    fn collect(&mut self) {
        while let Some(c) = self.gw.poll_transport_command() {
            self.commands.push(c);
        }
        while let Some(t) = self.gw.poll_transmit() {
            self.wire.push_back(t);
        }
        while let Some(o) = self.gw.poll_output() {
            self.outputs.entry(o.conn()).or_default().push_back(o);
        }
        while let Some(r) = self.gw.poll_journal() {
            self.journal.push(r);
        }
        while let Some(m) = self.gw.poll_media() {
            self.media.push(m);
        }
    }
}

fn decode_transmit(t: &Transmit) -> Option<SipMessage> {
    if t.payload.iter().all(|b| matches!(b, b'\r' | b'\n')) {
        return None;
    }
    Some(codec::decode(&t.payload).expect("the gateway sends valid SIP"))
}
