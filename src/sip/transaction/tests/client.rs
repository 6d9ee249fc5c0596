//! INVITE and non-INVITE client transactions (figures 5 and 6, RFC 6026 Accepted).

use super::*;

fn is_timeout(events: &[TransactionEvent], want: &ClientTxKey) -> bool {
    matches!(events, [TransactionEvent::Timeout { key }] if key == want)
}

#[test]
fn invite_timer_a_doubles_past_t2_and_timer_b_fires_once_at_64_t1() {
    let mut t = T::new(500);
    let key = t.send(
        0,
        &request(Method::Invite, "z9hG4bKa", Transport::Udp),
        Transport::Udp,
    );
    // Timer A: T1, 2T1, 4T1, ... not capped by T2 (§17.1.1.2).
    assert_eq!(
        t.run_until(31_999),
        vec![500, 1500, 3500, 7500, 15500, 31500]
    );
    assert!(t.events().is_empty(), "no Timeout before Timer B");
    assert_eq!(t.next_timeout(), Some(32_000));
    assert!(
        t.run_until(32_000).is_empty(),
        "no retransmission at Timer B"
    );
    assert!(is_timeout(&t.events(), &key));
    assert!(t.layer.is_empty());
    assert_eq!(t.layer.poll_timeout(), None);
    t.run_until(100_000);
    assert!(t.events().is_empty(), "reported once");
}

#[test]
fn invite_retransmissions_are_the_request_itself() {
    let mut t = T::new(500);
    let invite = request(Method::Invite, "z9hG4bKa2", Transport::Udp);
    t.send(0, &invite, Transport::Udp);
    t.layer.handle_timeout(t.at(500));
    assert_eq!(
        t.transmits(),
        vec![(peer(Transport::Udp), SipMessage::Request(invite))]
    );
}

#[test]
fn non_invite_timer_e_caps_at_t2_and_timer_f_fires_at_64_t1() {
    let mut t = T::new(500);
    let key = t.send(
        0,
        &request(Method::Options, "z9hG4bKb", Transport::Udp),
        Transport::Udp,
    );
    // Timer E: 0.5, 1.5, 3.5, 7.5 then every T2 (4 s) (§17.1.2.2); Timer F at 32 s.
    assert_eq!(
        t.run_until(31_999),
        vec![500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]
    );
    assert!(t.events().is_empty());
    t.run_until(32_000);
    assert!(is_timeout(&t.events(), &key));
    assert!(t.layer.is_empty());
}

#[test]
fn shrunk_t1_scales_every_timer() {
    let mut t = T::new(10);
    let key = t.send(
        0,
        &request(Method::Invite, "z9hG4bKs", Transport::Udp),
        Transport::Udp,
    );
    assert_eq!(t.run_until(639), vec![10, 30, 70, 150, 310, 630]);
    assert!(t.events().is_empty());
    t.run_until(640);
    assert!(is_timeout(&t.events(), &key));

    let key = t.send(
        0,
        &request(Method::Bye, "z9hG4bKs2", Transport::Udp),
        Transport::Udp,
    );
    // T2 = 80 ms.
    assert_eq!(
        t.run_until(639),
        vec![10, 30, 70, 150, 230, 310, 390, 470, 550, 630]
    );
    t.run_until(640);
    assert!(is_timeout(&t.events(), &key));
    assert!(t.layer.is_empty());
}

#[test]
fn timer_f_wins_over_a_timer_e_due_at_the_same_instant() {
    // T2 = T1: Timer E fires every 500 ms, the 64th time exactly at Timer F.
    let mut t = T::with_timers(500, 500, 5000);
    t.send(
        0,
        &request(Method::Options, "z9hG4bKtie", Transport::Udp),
        Transport::Udp,
    );
    let sent = t.run_until(40_000);
    assert_eq!(sent.len(), 63);
    assert_eq!(sent.last(), Some(&31_500));
    assert_eq!(t.events().len(), 1);
}

#[test]
fn no_retransmissions_over_tcp() {
    for method in [Method::Invite, Method::Options] {
        let mut t = T::new(500);
        let key = t.send(
            0,
            &request(method, "z9hG4bKc", Transport::Tcp),
            Transport::Tcp,
        );
        assert_eq!(t.next_timeout(), Some(32_000), "only Timer B / F is armed");
        assert!(t.run_until(40_000).is_empty());
        assert!(is_timeout(&t.events(), &key));
    }
}

#[test]
fn a_provisional_stops_timer_a_and_timer_b() {
    let mut t = T::new(500);
    let invite = request(Method::Invite, "z9hG4bKp", Transport::Udp);
    let key = t.send(0, &invite, Transport::Udp);
    t.feed(100, response(&invite, 180), Transport::Udp);
    assert!(matches!(
        &t.events()[..],
        [TransactionEvent::Response { key: k, response }] if *k == key && response.status == 180
    ));
    assert_eq!(t.layer.poll_timeout(), None, "nothing armed in Proceeding");
    assert!(t.run_until(100_000).is_empty());
    assert!(t.events().is_empty(), "no Timer B in Proceeding (figure 5)");
    assert_eq!(t.layer.len(), 1);
}

#[test]
fn invite_acks_a_non_2xx_itself_and_re_acks_its_retransmissions() {
    let mut t = T::new(500);
    let mut invite = request(Method::Invite, "z9hG4bKd", Transport::Udp);
    let proxy = Uri::sip(None, Host::Name("proxy.example.org".into()), None);
    invite.headers.route = vec![NameAddr::new(proxy)];
    invite.headers.via.push(Via::new(
        "UDP",
        Host::Name("second.example.org".into()),
        None,
        "z9hG4bKother",
    ));
    invite.body = b"v=0\r\n".to_vec();
    invite.headers.content_type = Some("application/sdp".into());
    t.send(0, &invite, Transport::Udp);
    t.feed(100, response(&invite, 180), Transport::Udp);
    t.feed(6000, response(&invite, 486), Transport::Udp);
    let sent = t.transmits();
    let [(to, SipMessage::Request(ack))] = &sent[..] else {
        panic!("one ACK expected: {sent:?}")
    };
    // §17.1.1.3.
    assert_eq!(*to, peer(Transport::Udp));
    assert_eq!(ack.method, Method::Ack);
    assert_eq!(ack.uri, invite.uri);
    assert_eq!(ack.headers.via, invite.headers.via[..1], "only the top Via");
    assert_eq!(ack.headers.call_id, invite.headers.call_id);
    assert_eq!(ack.headers.from, invite.headers.from);
    assert_eq!(ack.headers.to.tag(), Some("to1"), "To from the response");
    assert_eq!(ack.headers.route, invite.headers.route);
    assert_eq!(
        ack.headers.cseq,
        CSeq {
            seq: 1,
            method: Method::Ack
        }
    );
    assert!(ack.body.is_empty());
    assert_eq!(t.events().len(), 2, "180 and 486 passed up once each");
    t.feed(6500, response(&invite, 486), Transport::Udp);
    assert_eq!(
        t.sent(),
        vec![SipMessage::Request(ack.clone())],
        "ACKed again"
    );
    assert!(t.events().is_empty(), "the retransmission is not passed up");
    // Timer D: 32 s on UDP.
    t.run_until(6000 + 31_999);
    assert_eq!(t.layer.len(), 1);
    t.run_until(6000 + 32_000);
    assert!(t.layer.is_empty());
}

#[test]
fn timer_d_is_zero_over_tcp() {
    let mut t = T::new(500);
    let invite = request(Method::Invite, "z9hG4bKd2", Transport::Tcp);
    t.send(0, &invite, Transport::Tcp);
    t.feed(100, response(&invite, 603), Transport::Tcp);
    assert!(matches!(&t.sent()[..], [SipMessage::Request(r)] if r.method == Method::Ack));
    assert!(t.layer.is_empty(), "terminated at once");
    assert_eq!(t.layer.poll_timeout(), None);
}

#[test]
fn invite_passes_every_2xx_up_until_timer_m() {
    let mut t = T::new(500);
    let invite = request(Method::Invite, "z9hG4bKe", Transport::Udp);
    let key = t.send(0, &invite, Transport::Udp);
    t.feed(100, response(&invite, 200), Transport::Udp);
    t.feed(600, response(&invite, 200), Transport::Udp);
    let events = t.events();
    assert_eq!(
        events.len(),
        2,
        "RFC 6026: the retransmitted 2xx goes up too"
    );
    assert!(events
        .iter()
        .all(|e| matches!(e, TransactionEvent::Response { key: k, .. } if *k == key)));
    assert!(t.sent().is_empty(), "the layer does not ACK a 2xx");
    assert!(t.run_until(100 + 31_999).is_empty(), "Timer A stopped");
    assert_eq!(t.layer.len(), 1);
    t.run_until(100 + 32_000);
    assert!(t.layer.is_empty(), "Timer M = 64*T1");
    assert!(
        matches!(&t.events()[..], [TransactionEvent::Terminated { key: k }] if *k == key),
        "the user learns that no 2xx can come any more"
    );
    t.feed(40_000, response(&invite, 200), Transport::Udp);
    assert!(matches!(
        &t.events()[..],
        [TransactionEvent::StrayResponse { response, source }]
            if response.status == 200 && *source == peer(Transport::Udp)
    ));
}

#[test]
fn non_invite_timer_e_stays_at_t2_in_proceeding() {
    let mut t = T::new(500);
    let req = request(Method::Register, "z9hG4bKq", Transport::Udp);
    let key = t.send(0, &req, Transport::Udp);
    assert_eq!(t.run_until(600), vec![500]);
    t.feed(600, response(&req, 100), Transport::Udp);
    assert_eq!(t.events().len(), 1, "the provisional is passed up");
    // The pending E (1.5 s) still fires, then every T2 (§17.1.2.2).
    assert_eq!(
        t.run_until(31_999),
        vec![1500, 5500, 9500, 13500, 17500, 21500, 25500, 29500]
    );
    t.run_until(32_000);
    assert!(is_timeout(&t.events(), &key), "Timer F still applies");
}

#[test]
fn timer_k_is_t4_on_udp_and_zero_on_tcp() {
    for (transport, timer_k) in [(Transport::Udp, 5000u64), (Transport::Tcp, 0)] {
        let mut t = T::new(500);
        let req = request(Method::Bye, "z9hG4bKf", transport);
        t.send(0, &req, transport);
        t.feed(10, response(&req, 200), transport);
        assert_eq!(t.events().len(), 1);
        if timer_k > 0 {
            t.feed(20, response(&req, 200), transport);
            assert!(t.events().is_empty(), "retransmitted final absorbed");
            assert!(t.run_until(10 + timer_k - 1).is_empty(), "Timer E stopped");
            assert_eq!(t.layer.len(), 1);
        }
        t.run_until(10 + timer_k);
        assert!(t.layer.is_empty(), "{transport:?}");
    }
}

#[test]
fn cancel_limits_an_unanswered_invite_to_64_t1() {
    let mut t = T::new(500);
    let invite = request(Method::Invite, "z9hG4bKcn", Transport::Udp);
    let key = t.send(0, &invite, Transport::Udp);
    t.feed(100, response(&invite, 180), Transport::Udp);
    let cancel = invite.derive(Method::Cancel, invite.headers.to.clone());
    t.send(1000, &cancel, Transport::Udp);
    t.feed(1100, response(&cancel, 200), Transport::Udp);
    t.events();
    // §9.1: no 487 within 64*T1 of the CANCEL: the INVITE transaction is given up.
    t.run_until(1000 + 31_999);
    assert!(t.events().is_empty());
    t.run_until(1000 + 32_000);
    assert!(is_timeout(&t.events(), &key));
    t.run_until(100_000);
    assert!(t.events().is_empty());
    assert!(t.layer.is_empty());
}

#[test]
fn cancel_answered_by_487_ends_normally() {
    let mut t = T::new(500);
    let invite = request(Method::Invite, "z9hG4bKcn2", Transport::Udp);
    t.send(0, &invite, Transport::Udp);
    t.feed(100, response(&invite, 183), Transport::Udp);
    let cancel = invite.derive(Method::Cancel, invite.headers.to.clone());
    t.send(1000, &cancel, Transport::Udp);
    t.feed(1100, response(&cancel, 200), Transport::Udp);
    t.feed(1200, response(&invite, 487), Transport::Udp);
    assert!(matches!(&t.sent()[..], [SipMessage::Request(r)] if r.method == Method::Ack));
    t.run_until(100_000);
    let events = t.events();
    assert_eq!(events.len(), 3, "183, 200 to the CANCEL, 487: {events:?}");
    assert!(!events
        .iter()
        .any(|e| matches!(e, TransactionEvent::Timeout { .. })));
    assert!(t.layer.is_empty());
}

#[test]
fn requests_that_cannot_start_a_transaction_are_refused() {
    let mut t = T::new(500);
    let no_branch = request(Method::Options, "", Transport::Udp);
    assert_eq!(
        t.layer
            .send_request(t.at(0), no_branch, peer(Transport::Udp)),
        Err(TransactionError::NoBranch)
    );
    let ack = request(Method::Ack, "z9hG4bKack", Transport::Udp);
    assert_eq!(
        t.layer.send_request(t.at(0), ack, peer(Transport::Udp)),
        Err(TransactionError::Ack)
    );
    let options = request(Method::Options, "z9hG4bKdup", Transport::Udp);
    t.send(0, &options, Transport::Udp);
    assert_eq!(
        t.layer.send_request(t.at(1), options, peer(Transport::Udp)),
        Err(TransactionError::Duplicate)
    );
    assert_eq!(t.layer.len(), 1);
    assert!(t.sent().is_empty(), "nothing sent for refused requests");
}

#[test]
fn transport_failure_is_reported_once_and_only_while_waiting() {
    let mut t = T::new(500);
    let invite = request(Method::Invite, "z9hG4bKk", Transport::Tcp);
    let key = t.send(0, &invite, Transport::Tcp);
    t.fail(1, Transport::Tcp);
    t.fail(2, Transport::Tcp);
    assert!(matches!(
        &t.events()[..],
        [TransactionEvent::TransportError { key: k }] if *k == key
    ));
    t.run_until(40_000);
    assert!(t.events().is_empty(), "no Timer B after the failure");
    assert!(t.layer.is_empty());

    // Once the final came (Completed, Timer D), a failure concerns nobody.
    let invite = request(Method::Invite, "z9hG4bKk2", Transport::Udp);
    t.send(50_000, &invite, Transport::Udp);
    t.feed(50_100, response(&invite, 404), Transport::Udp);
    t.events();
    t.fail(50_200, Transport::Udp);
    assert!(t.events().is_empty());
    assert_eq!(t.layer.len(), 1);
}

#[test]
fn responses_match_by_branch_and_cseq_method() {
    let mut t = T::new(500);
    let invite = request(Method::Invite, "z9hG4bKm", Transport::Udp);
    t.send(0, &invite, Transport::Udp);
    // Same branch, other method (§17.1.3): not ours.
    let mut other = response(&invite, 200);
    other.headers.cseq.method = Method::Options;
    t.feed(10, other, Transport::Udp);
    let mut wrong_branch = response(&invite, 200);
    wrong_branch.headers.via[0]
        .params
        .set("branch", Some("z9hG4bKelse"));
    t.feed(20, wrong_branch, Transport::Udp);
    let events = t.events();
    assert_eq!(events.len(), 2);
    assert!(events
        .iter()
        .all(|e| matches!(e, TransactionEvent::StrayResponse { .. })));
    assert_eq!(t.run_until(500), vec![500], "still Calling");
}
