//! Fake-clock tests of the four machines: exact retransmission schedules, timeouts reported
//! once, absorption of retransmissions, timers D/I/J/K on UDP and TCP, CANCEL and ACK routing.

use std::time::{Duration, Instant};

use super::*;
use crate::sip::codec;
use crate::sip::message::{CSeq, Headers, Host, Method, NameAddr, Request, Response, Uri, Via};
use crate::sip::transport::{Peer, Transport};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn peer(transport: Transport) -> Peer {
    Peer {
        transport,
        addr: "127.0.0.1:5070".parse().unwrap(),
    }
}

fn request(method: Method, branch: &str, transport: Transport) -> Request {
    let uri = Uri::sip(Some("bob"), Host::Name("example.org".into()), None);
    let mut headers = Headers::new(
        Via::new(
            transport.via_token(),
            Host::Ip("127.0.0.1".parse().unwrap()),
            Some(5060),
            branch,
        ),
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

fn response(req: &Request, status: u16) -> Response {
    Response::for_request(req, status, Some("to1"))
}

struct T {
    layer: TransactionLayer,
    start: Instant,
}

impl T {
    fn new(t1: u64) -> T {
        T {
            layer: TransactionLayer::new(TimerConfig {
                t1: ms(t1),
                t2: ms(t1 * 8),
                t4: ms(t1 * 10),
            }),
            start: Instant::now(),
        }
    }

    fn at(&self, offset: u64) -> Instant {
        self.start + ms(offset)
    }

    /// Runs the clock to `until` (ms), returning the offsets at which something was sent.
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

    fn transmits(&mut self) -> Vec<SipMessage> {
        std::iter::from_fn(|| self.layer.poll_transmit())
            .map(|t| codec::decode(&t.payload).unwrap())
            .collect()
    }

    fn events(&mut self) -> Vec<TransactionEvent> {
        std::iter::from_fn(|| self.layer.poll_event()).collect()
    }

    fn feed(&mut self, offset: u64, message: SipMessage, transport: Transport) {
        let at = self.at(offset);
        self.layer.handle_incoming(
            at,
            Incoming {
                source: peer(transport),
                message,
            },
        );
    }
}

#[test]
fn invite_client_retransmits_with_doubling_and_times_out_once() {
    let mut t = T::new(500);
    t.layer
        .send_request(
            t.at(0),
            request(Method::Invite, "z9hG4bKa", Transport::Udp),
            peer(Transport::Udp),
        )
        .unwrap();
    assert_eq!(t.transmits().len(), 1);
    let sent = t.run_until(40_000);
    // Timer A: T1, 2T1, 4T1, ... (not capped by T2); Timer B at 64*T1 = 32 s.
    assert_eq!(sent, vec![500, 1500, 3500, 7500, 15500, 31500]);
    let events = t.events();
    assert_eq!(events.len(), 1);
    assert!(matches!(events[0], TransactionEvent::Timeout { .. }));
    assert!(t.layer.is_empty());
}

#[test]
fn non_invite_client_caps_at_t2_and_times_out_at_64_t1() {
    let mut t = T::new(500);
    t.layer
        .send_request(
            t.at(0),
            request(Method::Options, "z9hG4bKb", Transport::Udp),
            peer(Transport::Udp),
        )
        .unwrap();
    t.transmits();
    let sent = t.run_until(40_000);
    // Timer E: 0.5, 1.5, 3.5, 7.5 then every T2 (4 s); Timer F at 32 s.
    assert_eq!(
        sent,
        vec![500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]
    );
    let events = t.events();
    assert_eq!(events.len(), 1);
    assert!(matches!(events[0], TransactionEvent::Timeout { .. }));
}

#[test]
fn shrunk_t1_scales_every_timer() {
    let mut t = T::new(10);
    t.layer
        .send_request(
            t.at(0),
            request(Method::Invite, "z9hG4bKs", Transport::Udp),
            peer(Transport::Udp),
        )
        .unwrap();
    t.transmits();
    assert_eq!(t.run_until(1000), vec![10, 30, 70, 150, 310, 630]);
    assert!(matches!(t.events()[..], [TransactionEvent::Timeout { .. }]));
}

#[test]
fn no_retransmissions_over_tcp() {
    let mut t = T::new(500);
    t.layer
        .send_request(
            t.at(0),
            request(Method::Invite, "z9hG4bKc", Transport::Tcp),
            peer(Transport::Tcp),
        )
        .unwrap();
    t.transmits();
    assert!(t.run_until(40_000).is_empty());
    assert!(matches!(t.events()[..], [TransactionEvent::Timeout { .. }]));
}

#[test]
fn invite_client_acks_non_2xx_and_re_acks_retransmissions() {
    let mut t = T::new(500);
    let invite = request(Method::Invite, "z9hG4bKd", Transport::Udp);
    t.layer
        .send_request(t.at(0), invite.clone(), peer(Transport::Udp))
        .unwrap();
    t.transmits();
    t.feed(100, response(&invite, 180).into(), Transport::Udp);
    assert!(t.run_until(5000).is_empty(), "a provisional stops Timer A");
    t.feed(6000, response(&invite, 486).into(), Transport::Udp);
    let sent = t.transmits();
    let SipMessage::Request(ack) = &sent[0] else {
        panic!()
    };
    assert_eq!(ack.method, Method::Ack);
    assert_eq!(ack.headers.via, invite.headers.via[..1]);
    assert_eq!(ack.headers.to.tag(), Some("to1"));
    assert_eq!(
        ack.headers.cseq,
        CSeq {
            seq: 1,
            method: Method::Ack
        }
    );
    assert_eq!(ack.uri, invite.uri);
    let events = t.events();
    assert_eq!(events.len(), 2, "180 and 486 passed up once each");
    t.feed(6500, response(&invite, 486).into(), Transport::Udp);
    assert_eq!(
        t.transmits().len(),
        1,
        "the retransmitted final is ACKed again"
    );
    assert!(t.events().is_empty(), "and not passed up");
    // Timer D: 32 s on UDP.
    t.run_until(6000 + 31_999);
    assert_eq!(t.layer.len(), 1);
    t.run_until(6000 + 32_000);
    assert_eq!(t.layer.len(), 0);
}

#[test]
fn invite_client_passes_every_2xx_up_until_timer_m() {
    let mut t = T::new(500);
    let invite = request(Method::Invite, "z9hG4bKe", Transport::Udp);
    t.layer
        .send_request(t.at(0), invite.clone(), peer(Transport::Udp))
        .unwrap();
    t.transmits();
    t.feed(100, response(&invite, 200).into(), Transport::Udp);
    t.feed(600, response(&invite, 200).into(), Transport::Udp);
    let events = t.events();
    assert_eq!(events.len(), 2);
    assert!(t.transmits().is_empty(), "the layer does not ACK a 2xx");
    t.run_until(100 + 32_000);
    assert!(t.layer.is_empty());
    t.feed(40_000, response(&invite, 200).into(), Transport::Udp);
    assert!(matches!(
        t.events()[..],
        [TransactionEvent::StrayResponse { .. }]
    ));
}

#[test]
fn timer_k_on_udp_and_zero_on_tcp() {
    for (transport, linger) in [(Transport::Udp, 5000u64), (Transport::Tcp, 0)] {
        let mut t = T::new(500);
        let req = request(Method::Bye, "z9hG4bKf", transport);
        t.layer
            .send_request(t.at(0), req.clone(), peer(transport))
            .unwrap();
        t.feed(10, response(&req, 200).into(), transport);
        assert_eq!(t.events().len(), 1);
        t.feed(20, response(&req, 200).into(), transport);
        assert!(t.events().is_empty(), "retransmitted final absorbed");
        if linger > 0 {
            t.run_until(10 + linger - 1);
            assert_eq!(t.layer.len(), 1);
        }
        t.run_until(10 + linger);
        assert_eq!(t.layer.len(), 0, "{transport:?}");
    }
}

#[test]
fn invite_server_sends_trying_absorbs_retransmissions_and_times_out_without_ack() {
    let mut t = T::new(500);
    let invite = request(Method::Invite, "z9hG4bKg", Transport::Udp);
    t.feed(0, invite.clone().into(), Transport::Udp);
    let sent = t.transmits();
    assert!(matches!(&sent[..], [SipMessage::Response(r)] if r.status == 100));
    let events = t.events();
    let TransactionEvent::Request { key, .. } = &events[0] else {
        panic!()
    };
    let key = key.clone();
    t.feed(300, invite.clone().into(), Transport::Udp);
    assert!(t.events().is_empty(), "retransmission absorbed");
    assert_eq!(t.transmits().len(), 1, "last provisional re-sent");
    t.layer
        .send_response(t.at(1000), &key, response(&invite, 486))
        .unwrap();
    t.transmits();
    // Timer G: T1 doubling up to T2; Timer H at 64*T1.
    let sent = t.run_until(1000 + 32_000);
    assert_eq!(&sent[..5], &[1500, 2500, 4500, 8500, 12500]);
    assert!(matches!(
        t.events()[..],
        [TransactionEvent::ServerTimeout { .. }]
    ));
    assert!(t.layer.is_empty());
}

#[test]
fn invite_server_ack_confirms_and_timer_i() {
    for (transport, timer_i) in [(Transport::Udp, 5000u64), (Transport::Tcp, 0)] {
        let mut t = T::new(500);
        let invite = request(Method::Invite, "z9hG4bKh", transport);
        t.feed(0, invite.clone().into(), transport);
        let TransactionEvent::Request { key, .. } = t.events().remove(0) else {
            panic!()
        };
        t.layer
            .send_response(t.at(10), &key, response(&invite, 603))
            .unwrap();
        let mut ack = invite.clone();
        ack.method = Method::Ack;
        ack.headers.cseq.method = Method::Ack;
        t.feed(20, ack.clone().into(), transport);
        t.feed(30, ack.into(), transport);
        assert!(t.events().is_empty(), "ACKs for a non-2xx are absorbed");
        t.transmits();
        let sent = t.run_until(20 + timer_i);
        assert!(sent.is_empty(), "no Timer G after the ACK");
        assert!(t.layer.is_empty(), "{transport:?}");
    }
}

#[test]
fn ack_for_2xx_and_cancel_are_routed() {
    let mut t = T::new(500);
    let invite = request(Method::Invite, "z9hG4bKi", Transport::Udp);
    t.feed(0, invite.clone().into(), Transport::Udp);
    let TransactionEvent::Request { key, .. } = t.events().remove(0) else {
        panic!()
    };
    let mut cancel = invite.clone();
    cancel.method = Method::Cancel;
    cancel.headers.cseq.method = Method::Cancel;
    t.feed(10, cancel.clone().into(), Transport::Udp);
    match t.events().remove(0) {
        TransactionEvent::Cancel {
            invite: Some(k), ..
        } => assert_eq!(k, key),
        other => panic!("{other:?}"),
    }
    t.layer
        .send_response(t.at(20), &key, response(&invite, 200))
        .unwrap();
    let mut ack = request(Method::Ack, "z9hG4bKnew", Transport::Udp);
    ack.headers.to = ack.headers.to.with_tag("to1");
    t.feed(30, ack.into(), Transport::Udp);
    assert!(matches!(t.events()[..], [TransactionEvent::Ack { .. }]));
    // A retransmitted CANCEL is absorbed by its own transaction.
    let mut late = cancel;
    late.headers.via[0].params.set("branch", Some("z9hG4bKi"));
    late.headers.cseq.seq = 1;
    t.feed(40, late.into(), Transport::Udp);
    assert!(
        t.events().is_empty(),
        "the CANCEL retransmission is absorbed by its transaction"
    );
    let stray = {
        let mut c = request(Method::Cancel, "z9hG4bKnone", Transport::Udp);
        c.headers.cseq.method = Method::Cancel;
        c
    };
    t.feed(50, stray.into(), Transport::Udp);
    assert!(matches!(
        t.events()[..],
        [TransactionEvent::Cancel { invite: None, .. }]
    ));
}

#[test]
fn non_invite_server_timer_j_and_absorption() {
    for (transport, timer_j) in [(Transport::Udp, 32_000u64), (Transport::Tcp, 0)] {
        let mut t = T::new(500);
        let options = request(Method::Options, "z9hG4bKj", transport);
        t.feed(0, options.clone().into(), transport);
        let TransactionEvent::Request { key, .. } = t.events().remove(0) else {
            panic!()
        };
        t.layer
            .send_response(t.at(5), &key, response(&options, 200))
            .unwrap();
        assert_eq!(t.transmits().len(), 1);
        if timer_j > 0 {
            t.feed(100, options.clone().into(), transport);
            assert!(t.events().is_empty());
            assert_eq!(
                t.transmits().len(),
                1,
                "final re-sent for the retransmission"
            );
            t.run_until(5 + timer_j - 1);
            assert_eq!(t.layer.len(), 1);
        }
        t.run_until(5 + timer_j);
        assert!(t.layer.is_empty(), "{transport:?}");
    }
}

#[test]
fn transport_failure_is_reported_once() {
    let mut t = T::new(500);
    t.layer
        .send_request(
            t.at(0),
            request(Method::Invite, "z9hG4bKk", Transport::Tcp),
            peer(Transport::Tcp),
        )
        .unwrap();
    let failure = TransportFailure {
        destination: peer(Transport::Tcp),
        reason: "refused".into(),
    };
    t.layer.handle_transport_failure(t.at(1), &failure);
    t.layer.handle_transport_failure(t.at(2), &failure);
    assert!(matches!(
        t.events()[..],
        [TransactionEvent::TransportError { .. }]
    ));
    t.run_until(40_000);
    assert!(t.events().is_empty(), "no Timer B after the failure");
    assert!(t.layer.is_empty());
}

#[test]
fn requests_without_branch_are_refused() {
    let mut t = T::new(500);
    let mut req = request(Method::Options, "", Transport::Udp);
    req.headers.via[0].params.remove("branch");
    assert_eq!(
        t.layer.send_request(t.at(0), req, peer(Transport::Udp)),
        Err(TransactionError::NoBranch)
    );
}
