//! Fake-clock tests of the transaction layer: a base `Instant` plus millisecond offsets, every
//! sent message decoded back so that assertions are on what went on the wire.

mod client;
mod server;

use std::time::{Duration, Instant};

use super::*;
use crate::sip::codec;
use crate::sip::message::{CSeq, Headers, Host, Method, NameAddr, Request, Response, Uri, Via};
use crate::sip::transport::{Peer, Transport};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The remote party: where our requests go and where its requests come from.
fn peer(transport: Transport) -> Peer {
    Peer {
        transport,
        addr: "127.0.0.1:5070".parse().unwrap(),
    }
}

/// A request whose top Via is `127.0.0.1:5060` with `branch` (none when empty).
fn request(method: Method, branch: &str, transport: Transport) -> Request {
    let uri = Uri::sip(Some("bob"), Host::Name("example.org".into()), None);
    let mut via = Via::new(
        transport.via_token(),
        Host::Ip("127.0.0.1".parse().unwrap()),
        Some(5060),
        branch,
    );
    if branch.is_empty() {
        via.params.remove("branch");
    }
    let mut headers = Headers::new(
        via,
        NameAddr::new(uri.clone()).with_tag("from1"),
        NameAddr::new(uri.clone()),
        "call1@h".into(),
        CSeq {
            seq: 1,
            method: method.clone(),
        },
    );
    headers.max_forwards = Some(70);
    Request {
        method,
        uri,
        headers,
        body: Vec::new(),
    }
}

/// `request` turned into another method of the same transaction (ACK for a non-2xx, CANCEL).
fn sibling(req: &Request, method: Method) -> Request {
    let mut other = req.clone();
    other.method = method.clone();
    other.headers.cseq.method = method;
    other
}

fn response(req: &Request, status: u16) -> Response {
    Response::for_request(req, status, Some("to1"))
}

/// The layer under test and its clock.
struct T {
    layer: TransactionLayer,
    start: Instant,
}

impl T {
    /// T2 = 8*T1 and T4 = 10*T1, the RFC defaults' ratios.
    fn new(t1: u64) -> T {
        T::with_timers(t1, t1 * 8, t1 * 10)
    }

    fn with_timers(t1: u64, t2: u64, t4: u64) -> T {
        T {
            layer: TransactionLayer::new(TimerConfig {
                t1: ms(t1),
                t2: ms(t2),
                t4: ms(t4),
            }),
            start: Instant::now(),
        }
    }

    fn at(&self, offset: u64) -> Instant {
        self.start + ms(offset)
    }

    /// Offset of the next deadline, in ms.
    fn next_timeout(&self) -> Option<u64> {
        self.layer
            .poll_timeout()
            .map(|at| (at - self.start).as_millis() as u64)
    }

    /// Runs the clock to `until` (ms), waking at each deadline the layer asks for, and returns
    /// the offsets at which something was sent.
    fn run_until(&mut self, until: u64) -> Vec<u64> {
        let mut sent = Vec::new();
        while let Some(next) = self.layer.poll_timeout() {
            if next > self.at(until) {
                break;
            }
            self.layer.handle_timeout(next);
            while self.layer.poll_transmit().is_some() {
                sent.push((next - self.start).as_millis() as u64);
            }
        }
        sent
    }

    /// What was queued for sending, decoded.
    fn transmits(&mut self) -> Vec<(Peer, SipMessage)> {
        std::iter::from_fn(|| self.layer.poll_transmit())
            .map(|t| (t.destination, codec::decode(&t.payload).unwrap()))
            .collect()
    }

    fn sent(&mut self) -> Vec<SipMessage> {
        self.transmits().into_iter().map(|(_, m)| m).collect()
    }

    fn events(&mut self) -> Vec<TransactionEvent> {
        std::iter::from_fn(|| self.layer.poll_event()).collect()
    }

    fn feed_from(&mut self, offset: u64, message: impl Into<SipMessage>, source: Peer) {
        let at = self.at(offset);
        self.layer.handle_incoming(
            at,
            Incoming {
                source,
                message: message.into(),
            },
        );
    }

    fn feed(&mut self, offset: u64, message: impl Into<SipMessage>, transport: Transport) {
        self.feed_from(offset, message, peer(transport));
    }

    /// The driver reports that sending to `peer(transport)` failed.
    fn fail(&mut self, offset: u64, transport: Transport) {
        let failure = TransportFailure {
            destination: peer(transport),
            reason: "connection refused".into(),
        };
        self.layer
            .handle_transport_failure(self.at(offset), &failure);
    }

    /// Starts a client transaction at `offset` and drops the first transmission.
    fn send(&mut self, offset: u64, req: &Request, transport: Transport) -> ClientTxKey {
        let key = self
            .layer
            .send_request(self.at(offset), req.clone(), peer(transport))
            .unwrap();
        assert_eq!(self.sent().len(), 1, "the request goes out at once");
        key
    }

    /// Feeds a new request and returns its server transaction, checking the event.
    fn receive(&mut self, offset: u64, req: &Request, transport: Transport) -> ServerTxKey {
        self.feed(offset, req.clone(), transport);
        match self.events().as_slice() {
            [TransactionEvent::Request { key, request, .. }] if request == req => key.clone(),
            other => panic!("expected one Request event, got {other:?}"),
        }
    }
}
