//! INVITE and non-INVITE server transactions (figures 7 and 8, RFC 6026 Accepted), ACK and
//! CANCEL routing (§17.2.3, §9.2).

use super::*;

fn ack_of(invite: &Request) -> Request {
    let mut ack = sibling(invite, Method::Ack);
    ack.headers.to = ack.headers.to.with_tag("to1");
    ack
}

#[test]
fn invite_gets_100_trying_at_once() {
    let mut t = T::new(500);
    let invite = request(Method::Invite, "z9hG4bKg0", Transport::Udp);
    t.receive(0, &invite, Transport::Udp);
    let sent = t.transmits();
    let [(to, SipMessage::Response(trying))] = &sent[..] else {
        panic!("{sent:?}")
    };
    assert_eq!(trying.status, 100);
    assert_eq!(trying.headers.to.tag(), None, "§8.2.6: no To tag on 100");
    assert_eq!(trying.headers.via, invite.headers.via);
    assert_eq!(trying.headers.cseq, invite.headers.cseq);
    // §18.2.2: to the Via sent-by (no rport), not the packet source.
    assert_eq!(to.addr, "127.0.0.1:5060".parse().unwrap());
    assert_eq!(t.layer.poll_timeout(), None, "nothing armed in Proceeding");
}

#[test]
fn responses_follow_rport_to_the_packet_source() {
    let mut t = T::new(500);
    let mut options = request(Method::Options, "z9hG4bKnat", Transport::Udp);
    options.headers.via[0].host = Host::Ip("10.0.0.1".parse().unwrap());
    options.headers.via[0].params.set("rport", None);
    let nat = Peer {
        transport: Transport::Udp,
        addr: "192.0.2.7:40000".parse().unwrap(),
    };
    t.feed_from(0, options.clone(), nat);
    let TransactionEvent::Request { key, source, .. } = t.events().remove(0) else {
        panic!()
    };
    assert_eq!(source, nat);
    t.layer
        .send_response(t.at(1), &key, response(&options, 200))
        .unwrap();
    assert_eq!(t.transmits()[0].0, nat, "RFC 3581 §4");
}

#[test]
fn invite_retransmissions_are_absorbed_and_answered_with_the_last_response() {
    let mut t = T::new(500);
    let invite = request(Method::Invite, "z9hG4bKg1", Transport::Udp);
    let key = t.receive(0, &invite, Transport::Udp);
    t.sent();
    t.feed(300, invite.clone(), Transport::Udp);
    assert!(t.events().is_empty(), "one Request event only");
    assert!(matches!(&t.sent()[..], [SipMessage::Response(r)] if r.status == 100));
    t.layer
        .send_response(t.at(400), &key, response(&invite, 180))
        .unwrap();
    t.sent();
    t.feed(500, invite.clone(), Transport::Udp);
    assert!(matches!(&t.sent()[..], [SipMessage::Response(r)] if r.status == 180));
    t.layer
        .send_response(t.at(600), &key, response(&invite, 486))
        .unwrap();
    t.sent();
    t.feed(700, invite.clone(), Transport::Udp);
    assert!(matches!(&t.sent()[..], [SipMessage::Response(r)] if r.status == 486));
    assert!(t.events().is_empty());
}

#[test]
fn timer_g_doubles_to_t2_and_timer_h_reports_a_missing_ack_once() {
    let mut t = T::new(500);
    let invite = request(Method::Invite, "z9hG4bKg", Transport::Udp);
    let key = t.receive(0, &invite, Transport::Udp);
    t.layer
        .send_response(t.at(1000), &key, response(&invite, 486))
        .unwrap();
    t.sent();
    // Timer G: T1, 2T1, 4T1, then T2 (§17.2.1); Timer H at 64*T1.
    let sent = t.run_until(1000 + 31_999);
    assert_eq!(
        sent,
        vec![1500, 2500, 4500, 8500, 12500, 16500, 20500, 24500, 28500, 32500]
    );
    assert!(t.events().is_empty());
    assert!(t.run_until(1000 + 32_000).is_empty());
    assert!(matches!(
        &t.events()[..],
        [TransactionEvent::ServerTimeout { key: k }] if *k == key
    ));
    assert!(t.layer.is_empty());
    t.run_until(100_000);
    assert!(t.events().is_empty());
}

#[test]
fn no_timer_g_over_tcp_but_timer_h_still_runs() {
    let mut t = T::new(500);
    let invite = request(Method::Invite, "z9hG4bKgt", Transport::Tcp);
    let key = t.receive(0, &invite, Transport::Tcp);
    t.layer
        .send_response(t.at(10), &key, response(&invite, 480))
        .unwrap();
    t.sent();
    assert!(t.run_until(40_000).is_empty());
    assert!(matches!(
        &t.events()[..],
        [TransactionEvent::ServerTimeout { .. }]
    ));
}

#[test]
fn ack_confirms_a_non_2xx_and_timer_i_absorbs_the_rest() {
    for (transport, timer_i) in [(Transport::Udp, 5000u64), (Transport::Tcp, 0)] {
        let mut t = T::new(500);
        let invite = request(Method::Invite, "z9hG4bKh", transport);
        let key = t.receive(0, &invite, transport);
        t.layer
            .send_response(t.at(10), &key, response(&invite, 603))
            .unwrap();
        t.sent();
        t.feed(20, ack_of(&invite), transport);
        assert!(t.events().is_empty(), "the ACK for a non-2xx is absorbed");
        if timer_i > 0 {
            t.feed(30, ack_of(&invite), transport);
            t.feed(40, invite.clone(), transport);
            assert!(
                t.events().is_empty(),
                "so are ACKs and INVITEs in Confirmed"
            );
            assert!(t.sent().is_empty(), "nothing re-sent in Confirmed");
            assert!(t.run_until(20 + timer_i - 1).is_empty(), "no Timer G");
            assert_eq!(t.layer.len(), 1);
        }
        t.run_until(20 + timer_i);
        assert!(t.layer.is_empty(), "{transport:?}");
        assert_eq!(t.layer.poll_timeout(), None);
    }
}

#[test]
fn a_2xx_enters_accepted_for_timer_l() {
    let mut t = T::new(500);
    let invite = request(Method::Invite, "z9hG4bKl", Transport::Udp);
    let key = t.receive(0, &invite, Transport::Udp);
    t.sent();
    t.layer
        .send_response(t.at(100), &key, response(&invite, 200))
        .unwrap();
    assert!(matches!(&t.sent()[..], [SipMessage::Response(r)] if r.status == 200));
    assert_eq!(
        t.layer
            .send_response(t.at(150), &key, response(&invite, 200)),
        Err(TransactionError::NoSuchTransaction),
        "the 2xx is retransmitted by the TU, statelessly"
    );
    t.feed(200, invite.clone(), Transport::Udp);
    assert!(t.events().is_empty(), "retransmitted INVITE absorbed");
    assert!(t.sent().is_empty(), "and not answered (RFC 6026 §7.1)");
    // An ACK for the 2xx: passed up whether or not it reuses the INVITE's branch.
    t.feed(300, ack_of(&invite), Transport::Udp);
    let fresh = ack_of(&request(Method::Invite, "z9hG4bKnew", Transport::Udp));
    t.feed(310, fresh, Transport::Udp);
    let events = t.events();
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(
        |e| matches!(e, TransactionEvent::Ack { request, .. } if request.method == Method::Ack)
    ));
    assert!(t.run_until(100 + 31_999).is_empty());
    assert_eq!(t.layer.len(), 1);
    t.run_until(100 + 32_000);
    assert!(t.layer.is_empty(), "Timer L = 64*T1");
    assert!(t.events().is_empty(), "Timer L is silent");
}

#[test]
fn cancel_is_its_own_transaction_matched_to_its_invite() {
    let mut t = T::new(500);
    let invite = request(Method::Invite, "z9hG4bKi", Transport::Udp);
    let invite_key = t.receive(0, &invite, Transport::Udp);
    t.sent();
    let cancel = sibling(&invite, Method::Cancel);
    t.feed(10, cancel.clone(), Transport::Udp);
    let cancel_key = match t.events().remove(0) {
        TransactionEvent::Cancel {
            key,
            invite: Some(k),
            request,
            ..
        } => {
            assert_eq!(k, invite_key);
            assert_eq!(request, cancel);
            assert_eq!(key.method, Method::Cancel);
            key
        }
        other => panic!("{other:?}"),
    };
    assert!(t.sent().is_empty(), "the layer does not answer a CANCEL");
    t.layer
        .send_response(t.at(20), &cancel_key, response(&cancel, 200))
        .unwrap();
    t.layer
        .send_response(t.at(20), &invite_key, response(&invite, 487))
        .unwrap();
    assert_eq!(t.sent().len(), 2);
    t.feed(40, cancel.clone(), Transport::Udp);
    assert!(t.events().is_empty(), "CANCEL retransmission absorbed");
    assert!(matches!(&t.sent()[..], [SipMessage::Response(r)] if r.status == 200));
    // A CANCEL for no INVITE: the user is to answer 481.
    let stray = sibling(
        &request(Method::Invite, "z9hG4bKnone", Transport::Udp),
        Method::Cancel,
    );
    t.feed(50, stray, Transport::Udp);
    assert!(matches!(
        &t.events()[..],
        [TransactionEvent::Cancel { invite: None, .. }]
    ));
}

#[test]
fn non_invite_server_absorbs_retransmissions_and_timer_j() {
    for (transport, timer_j) in [(Transport::Udp, 32_000u64), (Transport::Tcp, 0)] {
        let mut t = T::new(500);
        let options = request(Method::Options, "z9hG4bKj", transport);
        let key = t.receive(0, &options, transport);
        assert!(t.sent().is_empty(), "no automatic response to a non-INVITE");
        t.feed(1, options.clone(), transport);
        assert!(t.sent().is_empty(), "Trying: retransmissions discarded");
        t.layer
            .send_response(t.at(2), &key, response(&options, 100))
            .unwrap();
        t.feed(3, options.clone(), transport);
        assert_eq!(
            t.sent().len(),
            2,
            "100, then 100 again for the retransmission"
        );
        t.layer
            .send_response(t.at(5), &key, response(&options, 200))
            .unwrap();
        assert!(matches!(&t.sent()[..], [SipMessage::Response(r)] if r.status == 200));
        if timer_j > 0 {
            t.feed(100, options.clone(), transport);
            assert!(matches!(&t.sent()[..], [SipMessage::Response(r)] if r.status == 200));
            t.run_until(5 + timer_j - 1);
            assert_eq!(t.layer.len(), 1);
        }
        t.run_until(5 + timer_j);
        assert!(t.events().is_empty(), "one Request event in all");
        assert!(t.layer.is_empty(), "{transport:?}");
    }
}

#[test]
fn send_response_on_an_unknown_or_finished_transaction_fails() {
    let mut t = T::new(500);
    let options = request(Method::Options, "z9hG4bKu", Transport::Udp);
    let key = t.receive(0, &options, Transport::Udp);
    let unknown = ServerTxKey {
        branch: "z9hG4bKnothing".into(),
        ..key.clone()
    };
    assert_eq!(
        t.layer
            .send_response(t.at(1), &unknown, response(&options, 200)),
        Err(TransactionError::NoSuchTransaction)
    );
    t.layer
        .send_response(t.at(1), &key, response(&options, 200))
        .unwrap();
    assert_eq!(
        t.layer
            .send_response(t.at(2), &key, response(&options, 500)),
        Err(TransactionError::NoSuchTransaction)
    );
    assert_eq!(t.sent().len(), 1);
}

#[test]
fn transport_failure_ends_server_transactions_once() {
    let mut t = T::new(500);
    let invite = request(Method::Invite, "z9hG4bKtf", Transport::Tcp);
    let key = t.receive(0, &invite, Transport::Tcp);
    t.fail(1, Transport::Tcp);
    t.fail(2, Transport::Tcp);
    assert!(matches!(
        &t.events()[..],
        [TransactionEvent::ServerTimeout { key: k }] if *k == key
    ));
    assert!(t.layer.is_empty());
}

#[test]
fn pre_rfc_3261_requests_match_by_call_id_cseq_and_from_tag() {
    let mut t = T::new(500);
    let first = request(Method::Options, "", Transport::Udp);
    let mut second = first.clone();
    second.headers.cseq.seq = 2;
    t.receive(0, &first, Transport::Udp);
    t.receive(1, &second, Transport::Udp);
    t.feed(2, first.clone(), Transport::Udp);
    assert!(t.events().is_empty(), "a retransmission of the first");
    assert_eq!(t.layer.len(), 2);

    let invite = {
        let mut r = request(Method::Invite, "", Transport::Udp);
        r.headers.cseq.seq = 9;
        r
    };
    let key = t.receive(10, &invite, Transport::Udp);
    t.feed(20, sibling(&invite, Method::Cancel), Transport::Udp);
    assert!(matches!(
        &t.events()[..],
        [TransactionEvent::Cancel { invite: Some(k), .. }] if *k == key
    ));
    t.layer
        .send_response(t.at(30), &key, response(&invite, 487))
        .unwrap();
    t.feed(40, ack_of(&invite), Transport::Udp);
    assert!(t.events().is_empty(), "the ACK for the 487 is absorbed");
}

#[test]
fn sent_by_host_compares_case_insensitively() {
    let mut t = T::new(500);
    let mut invite = request(Method::Invite, "z9hG4bKci", Transport::Udp);
    invite.headers.via[0].host = Host::Name("UA.Example.COM".into());
    t.receive(0, &invite, Transport::Udp);
    let mut again = invite.clone();
    again.headers.via[0].host = Host::Name("ua.example.com".into());
    t.feed(100, again, Transport::Udp);
    assert!(t.events().is_empty());
    assert_eq!(t.layer.len(), 1);
}
