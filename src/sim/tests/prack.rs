//! RFC 3262 reliable provisional responses in virtual time: PRACK for the provider's reliable
//! 18x (in order, retransmissions and gaps discarded), and our reliable 180 (retransmitted
//! until its PRACK, given up with 500 after 64*T1, our offer in it when the INVITE had none).

use std::time::Duration;

use super::*;
use crate::sim::peer::PEER_SDP;
use crate::sim::PROVIDER;
use crate::tapi::{ConnectedMode, DisconnectMode, OfferingMode};

fn reliable(response: Response, rseq: u32) -> Response {
    with_headers(response, &["Require: 100rel", &format!("RSeq: {rseq}")])
}

fn supported(headers: &crate::sip::message::Headers) -> Vec<String> {
    headers
        .get_all("Supported")
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_string())
        .collect()
}

#[test]
fn a_reliable_183_is_pracked_in_order_and_its_answer_counts() {
    let mut sim = Sim::one_line("");
    let provider = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (request, call) = make_call(&mut sim, &app, "2000");
    let invite = only_request(sim.take_sip(provider.addr), Method::Invite);
    assert!(supported(&invite.headers).contains(&"100rel".to_string()));
    assert_eq!(
        invite.headers.get("Require"),
        None,
        "only supported by default"
    );

    let first = reliable(
        provider.response(&invite, 183, Some(&peer_sdp_on(7010))),
        41,
    );
    sim.deliver(provider.at(), first.clone());
    let prack = only_request(sim.take_sip(provider.addr), Method::Prack);
    assert_eq!(prack.headers.get("RAck"), Some("41 1 INVITE"));
    assert_eq!(
        prack.headers.cseq.seq, 2,
        "its own transaction in the dialog"
    );
    assert_ne!(
        prack.headers.via[0].branch(),
        invite.headers.via[0].branch()
    );
    assert_eq!(
        prack.headers.to.tag(),
        Some(provider.tag.as_str()),
        "the early dialog"
    );
    assert_eq!(
        prack.uri.to_string(),
        "sip:peer@127.0.0.1:5070",
        "the 183's Contact"
    );
    assert_eq!(
        summary(&sim.messages(app.conn)),
        vec![reply(request, 0), state(call, CallState::Ringback)]
    );
    assert_eq!(
        call_info(&mut sim, &app, call).remote_media.as_deref(),
        Some("127.0.0.1:7010")
    );
    sim.deliver(provider.at(), provider.response(&prack, 200, None));

    // §4: a retransmission and an RSeq out of order are neither PRACKed nor processed.
    sim.deliver(provider.at(), first);
    sim.deliver(
        provider.at(),
        reliable(provider.response(&invite, 180, None), 43),
    );
    assert!(sim.take_sip(provider.addr).is_empty());
    let next = reliable(provider.response(&invite, 180, None), 42);
    sim.deliver(provider.at(), next);
    let prack = only_request(sim.take_sip(provider.addr), Method::Prack);
    assert_eq!(prack.headers.get("RAck"), Some("42 1 INVITE"));
    assert_eq!(prack.headers.cseq.seq, 3);
    sim.deliver(provider.at(), provider.response(&prack, 200, None));

    // The reliable 183's answer completed offer/answer: the 200's other SDP is ignored.
    sim.deliver(
        provider.at(),
        provider.response(&invite, 200, Some(PEER_SDP)),
    );
    let ack = only_request(sim.take_sip(provider.addr), Method::Ack);
    assert_eq!(
        ack.headers.cseq.seq, 1,
        "the INVITE's CSeq, not the PRACK's"
    );
    assert_eq!(
        call_info(&mut sim, &app, call).remote_media.as_deref(),
        Some("127.0.0.1:7010")
    );
    assert!(summary(&sim.messages(app.conn))
        .contains(&state(call, CallState::Connected(ConnectedMode::ACTIVE))));
}

#[test]
fn a_line_that_requires_100rel_says_so_in_its_invite() {
    let mut sim = Sim::one_line("reliable_provisionals = \"required\"");
    let provider = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    make_call(&mut sim, &app, "2000");
    let invite = only_request(sim.take_sip(provider.addr), Method::Invite);
    assert_eq!(invite.headers.get("Require"), Some("100rel"));
}

/// An INVITE from the provider to line 1001 with `headers`, delivered; returns it.
fn inbound(
    sim: &mut Sim,
    caller: &mut crate::sim::SipPeer,
    sdp: Option<&str>,
    headers: &[&str],
) -> Request {
    let invite = with_headers(caller.invite(sim.gateway_addr(), "1001", sdp), headers);
    sim.deliver(caller.at(), invite.clone());
    invite
}

fn offered_call(sim: &mut Sim, app: &App) -> HCall {
    let messages = sim.messages(app.conn);
    assert_eq!(messages[0].dw_message_id, LINE_APPNEWCALL);
    let call = HCall(messages[0].dw_param2);
    assert!(summary(&messages).contains(&state(call, CallState::Offering(OfferingMode::ACTIVE))));
    call
}

/// Our 180 to an INVITE with an offer and `headers`.
fn ringing_for(sim: &mut Sim, caller: &mut crate::sim::SipPeer, headers: &[&str]) -> Response {
    inbound(sim, caller, Some(PEER_SDP), headers);
    response_with(&sim.take_sip(caller.addr), 180)
}

/// The responses among `messages`.
fn responses(messages: Vec<SipMessage>) -> Vec<Response> {
    messages
        .into_iter()
        .filter_map(|m| match m {
            SipMessage::Response(r) => Some(r),
            SipMessage::Request(_) => None,
        })
        .collect()
}

#[test]
fn our_180_is_reliable_when_required_and_retransmitted_until_its_prack() {
    let mut sim = Sim::one_line("");
    let mut caller = sim.peer(PROVIDER);
    let owner = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let invite = inbound(&mut sim, &mut caller, Some(PEER_SDP), &["Require: 100rel"]);
    let sent = responses(sim.take_sip(caller.addr));
    assert_eq!(
        sent.iter().map(|r| r.status).collect::<Vec<_>>(),
        vec![100, 180]
    );
    let ringing = sent[1].clone();
    assert_eq!(ringing.headers.get("Require"), Some("100rel"));
    let rseq: u32 = ringing.headers.get("RSeq").unwrap().parse().unwrap();
    assert!((1..1 << 31).contains(&rseq));
    assert!(ringing.body.is_empty(), "the INVITE had the offer");
    let call = offered_call(&mut sim, &owner);

    // §3: T1, then doubling, the same response each time.
    sim.advance(Duration::from_millis(499));
    assert!(sim.take_sip(caller.addr).is_empty());
    sim.advance(Duration::from_millis(1));
    assert_eq!(responses(sim.take_sip(caller.addr)), vec![ringing.clone()]);
    sim.advance(Duration::from_millis(1000));
    assert_eq!(responses(sim.take_sip(caller.addr)), vec![ringing.clone()]);

    let wrong = with_headers(
        caller.in_our_dialog(&invite, &ringing, Method::Prack, 2),
        &[&format!("RAck: {} 1 INVITE", rseq + 1)],
    );
    sim.deliver(caller.at(), wrong);
    assert_eq!(statuses(&sim.take_sip(caller.addr)), vec![481]);
    let prack = with_headers(
        caller.in_our_dialog(&invite, &ringing, Method::Prack, 3),
        &[&format!("RAck: {rseq} 1 INVITE")],
    );
    sim.deliver(caller.at(), prack.clone());
    let ok = response_with(&sim.take_sip(caller.addr), 200);
    assert_eq!(ok.headers.cseq.method, Method::Prack);
    sim.advance(Duration::from_secs(40));
    assert!(
        sim.take_sip(caller.addr).is_empty(),
        "no retransmission after the PRACK"
    );
    // A second PRACK for the same 18x matches nothing unacknowledged.
    let again = with_headers(
        caller.in_our_dialog(&invite, &ringing, Method::Prack, 4),
        &[&format!("RAck: {rseq} 1 INVITE")],
    );
    sim.deliver(caller.at(), again);
    assert_eq!(statuses(&sim.take_sip(caller.addr)), vec![481]);

    let answer = call_fn(&mut sim, &owner, Fn::LineAnswer { call });
    let ok = response_with(&sim.take_sip(caller.addr), 200);
    sim.deliver(
        caller.at(),
        caller.in_our_dialog(&invite, &ok, Method::Ack, 1),
    );
    assert_eq!(
        summary(&sim.messages(owner.conn)),
        vec![
            reply(answer, 0),
            state(call, CallState::Connected(ConnectedMode::ACTIVE))
        ]
    );
}

#[test]
fn no_prack_within_64_t1_answers_500_and_the_call_is_unreachable() {
    let mut sim = Sim::one_line("");
    let mut caller = sim.peer(PROVIDER);
    let owner = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    inbound(&mut sim, &mut caller, Some(PEER_SDP), &["Require: 100rel"]);
    sim.take_sip(caller.addr);
    let call = offered_call(&mut sim, &owner);
    let start = sim.now;
    let mut sends = Vec::new();
    for _ in 0..(33 * 10) {
        sim.advance(Duration::from_millis(100));
        for r in responses(sim.take_sip(caller.addr)) {
            sends.push(((sim.now - start).as_millis(), r.status));
        }
    }
    let expected: Vec<(u128, u16)> = [500, 1500, 3500, 7500, 15500, 31500]
        .into_iter()
        .map(|ms| (ms, 180))
        .chain([(32000, 500)])
        .collect();
    // The 500 is then the INVITE transaction's to retransmit until the ACK (Timer G).
    assert_eq!(&sends[..expected.len()], &expected[..]);
    let messages = summary(&sim.messages(owner.conn));
    assert_eq!(
        &messages[messages.len() - 2..],
        &[
            state(call, CallState::Disconnected(DisconnectMode::UNREACHABLE)),
            state(call, CallState::Idle)
        ]
    );
}

#[test]
fn an_offerless_invite_gets_our_offer_in_the_reliable_180_and_the_200_waits_for_the_prack() {
    let mut sim = Sim::one_line("reliable_provisionals = \"if-supported\"");
    let mut caller = sim.peer(PROVIDER);
    let owner = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let invite = inbound(&mut sim, &mut caller, None, &["Supported: timer, 100rel"]);
    let ringing = response_with(&sim.take_sip(caller.addr), 180);
    assert_eq!(ringing.headers.get("Require"), Some("100rel"));
    let offer = String::from_utf8_lossy(&ringing.body).into_owned();
    assert!(
        offer.contains("m=audio") && offer.contains(" 1 IN IP4"),
        "{offer}"
    );
    let rseq = ringing.headers.get("RSeq").unwrap().to_string();
    let call = offered_call(&mut sim, &owner);

    // §3: no 2xx before the PRACK of a reliable 18x that carried an offer.
    let answer = call_fn(&mut sim, &owner, Fn::LineAnswer { call });
    assert!(statuses(&sim.take_sip(caller.addr))
        .iter()
        .all(|s| *s == 180));
    let mut prack = with_headers(
        caller.in_our_dialog(&invite, &ringing, Method::Prack, 2),
        &[&format!("RAck: {rseq} 1 INVITE")],
    );
    prack.headers.content_type = Some("application/sdp".into());
    prack.body = peer_sdp_on(7020).into_bytes();
    sim.deliver(caller.at(), prack);
    let sent = responses(sim.take_sip(caller.addr));
    let methods: Vec<(u16, Method)> = sent
        .iter()
        .map(|r| (r.status, r.headers.cseq.method.clone()))
        .collect();
    assert_eq!(methods, vec![(200, Method::Prack), (200, Method::Invite)]);
    assert!(sent[0].body.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&sent[1].body),
        offer,
        "the 200 repeats the offer, same version"
    );
    sim.deliver(
        caller.at(),
        caller.in_our_dialog(&invite, &sent[1], Method::Ack, 1),
    );
    assert_eq!(
        summary(&sim.messages(owner.conn)),
        vec![
            reply(answer, 0),
            state(call, CallState::Connected(ConnectedMode::ACTIVE))
        ]
    );
    assert_eq!(
        call_info(&mut sim, &owner, call).remote_media.as_deref(),
        Some("127.0.0.1:7020"),
        "the answer came in the PRACK"
    );
}

#[test]
fn supported_100rel_alone_gets_an_unreliable_180_by_default() {
    let mut sim = Sim::one_line("");
    let mut caller = sim.peer(PROVIDER);
    let _owner = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let ringing = ringing_for(&mut sim, &mut caller, &["Supported: 100rel"]);
    assert_eq!(ringing.headers.get("Require"), None);
    assert_eq!(ringing.headers.get("RSeq"), None);
    assert!(supported(&ringing.headers).contains(&"100rel".to_string()));
    sim.advance(Duration::from_secs(2));
    assert!(sim.take_sip(caller.addr).is_empty(), "not retransmitted");
}

#[test]
fn a_line_that_requires_100rel_refuses_invites_without_it_with_421() {
    let mut sim = Sim::one_line("reliable_provisionals = \"required\"");
    let mut caller = sim.peer(PROVIDER);
    let owner = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    inbound(&mut sim, &mut caller, Some(PEER_SDP), &[]);
    let refused = response_with(&sim.take_sip(caller.addr), 421);
    assert_eq!(refused.headers.get("Require"), Some("100rel"));
    assert!(sim.messages(owner.conn).is_empty(), "nobody saw the call");
    let ringing = ringing_for(&mut sim, &mut caller, &["Supported: 100rel"]);
    assert_eq!(ringing.headers.get("Require"), Some("100rel"));
}
