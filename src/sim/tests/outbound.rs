//! Outbound calls in virtual time (tests/outbound_calls.rs does the same against SIPp).

use std::time::Duration;

use super::*;
use crate::sim::peer::PEER_SDP;
use crate::sim::PROVIDER;
use crate::tapi::{ConnectedMode, DisconnectMode, LINEERR_OPERATIONFAILED};

#[test]
fn answered_call_then_the_app_hangs_up() {
    let mut sim = Sim::one_line("");
    let provider = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (request, call) = make_call(&mut sim, &app, "2000");
    let invite = only_request(sim.take_sip(provider.addr), Method::Invite);
    assert_eq!(invite.uri.to_string(), "sip:2000@example.org");
    assert!(String::from_utf8_lossy(&invite.body).contains("m=audio"));
    assert!(
        sim.messages(app.conn).is_empty(),
        "nothing before the first response"
    );

    sim.deliver(provider.at(), provider.response(&invite, 100, None));
    sim.deliver(provider.at(), provider.response(&invite, 180, None));
    let ok = provider.response(&invite, 200, Some(PEER_SDP));
    sim.deliver(provider.at(), ok.clone());
    let ack = only_request(sim.take_sip(provider.addr), Method::Ack);
    assert_eq!(ack.headers.cseq.seq, invite.headers.cseq.seq);
    assert_eq!(ack.headers.to.tag(), Some(provider.tag.as_str()));
    assert_eq!(
        summary(&sim.messages(app.conn)),
        vec![
            reply(request, 0),
            state(call, CallState::Proceeding),
            state(call, CallState::Ringback),
            state(call, CallState::Connected(ConnectedMode::ACTIVE)),
            (LINE_CALLINFO, call.0, LINECALLINFOSTATE_CONNECTEDID, 0),
        ]
    );
    // A retransmitted 200 is ACKed again (§13.2.2.4), and changes nothing for the app.
    sim.deliver(provider.at(), ok);
    only_request(sim.take_sip(provider.addr), Method::Ack);
    assert!(sim.messages(app.conn).is_empty());

    let drop = call_fn(&mut sim, &app, Fn::LineDrop { call });
    let bye = only_request(sim.take_sip(provider.addr), Method::Bye);
    assert!(
        sim.messages(app.conn).is_empty(),
        "the drop completes with the BYE's answer"
    );
    sim.deliver(provider.at(), provider.response(&bye, 200, None));
    assert_eq!(
        summary(&sim.messages(app.conn)),
        vec![reply(drop, 0), state(call, CallState::Idle)]
    );
    assert_eq!(
        sim.gw.provider().num_calls(),
        1,
        "held until lineDeallocateCall"
    );
    sim.call(app.conn, Fn::LineDeallocateCall { call }).unwrap();
    assert_eq!(sim.gw.provider().num_calls(), 0);
}

#[test]
fn a_200_crossing_our_cancel_is_acked_and_byed() {
    let mut sim = Sim::one_line("");
    let provider = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (request, call) = make_call(&mut sim, &app, "2000");
    let invite = only_request(sim.take_sip(provider.addr), Method::Invite);
    sim.deliver(provider.at(), provider.response(&invite, 180, None));
    let drop = call_fn(&mut sim, &app, Fn::LineDrop { call });
    let cancel = only_request(sim.take_sip(provider.addr), Method::Cancel);
    assert_eq!(
        cancel.headers.via[0].branch(),
        invite.headers.via[0].branch()
    );
    // The 200 to the INVITE overtakes the CANCEL's answer.
    sim.deliver(
        provider.at(),
        provider.response(&invite, 200, Some(PEER_SDP)),
    );
    sim.deliver(provider.at(), provider.response(&cancel, 200, None));
    let sent = sim.take_sip(provider.addr);
    let methods: Vec<_> = sent
        .iter()
        .filter_map(|m| match m {
            SipMessage::Request(r) => Some(r.method.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(methods, vec![Method::Ack, Method::Bye]);
    let bye = only_request(vec![sent[1].clone()], Method::Bye);
    sim.deliver(provider.at(), provider.response(&bye, 200, None));
    assert_eq!(
        summary(&sim.messages(app.conn)),
        vec![
            reply(request, 0),
            state(call, CallState::Ringback),
            reply(drop, 0),
            state(call, CallState::Idle),
        ],
        "no CONNECTED and no DISCONNECTED: we cleared the call"
    );
}

#[test]
fn busy_is_disconnected_busy_then_idle_and_the_486_is_acked() {
    let mut sim = Sim::one_line("");
    let provider = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (request, call) = make_call(&mut sim, &app, "2000");
    let invite = only_request(sim.take_sip(provider.addr), Method::Invite);
    sim.deliver(provider.at(), provider.response(&invite, 486, None));
    let ack = only_request(sim.take_sip(provider.addr), Method::Ack);
    assert_eq!(
        ack.headers.via[0].branch(),
        invite.headers.via[0].branch(),
        "§17.1.1.3"
    );
    assert_eq!(
        summary(&sim.messages(app.conn)),
        vec![
            reply(request, 0),
            state(call, CallState::Disconnected(DisconnectMode::BUSY)),
            state(call, CallState::Idle),
        ]
    );
}

#[test]
fn no_answer_at_all_is_timer_b_with_no_call_states() {
    let mut sim = Sim::one_line("");
    let provider = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (request, _call) = make_call(&mut sim, &app, "2000");
    only_request(sim.take_sip(provider.addr), Method::Invite);
    let start = sim.now;
    let mut sends = Vec::new();
    for _ in 0..64 {
        sim.advance(Duration::from_millis(500));
        for m in sim.take_sip(provider.addr) {
            if let SipMessage::Request(r) = m {
                assert_eq!(r.method, Method::Invite);
                sends.push(sim.now - start);
            }
        }
    }
    let ms: Vec<u128> = sends.iter().map(|d| d.as_millis()).collect();
    // Timer A: T1 doubling (0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s); B at 64*T1 = 32 s.
    assert_eq!(ms, vec![500, 1500, 3500, 7500, 15500, 31500]);
    assert_eq!(
        summary(&sim.messages(app.conn)),
        vec![reply(request, LINEERR_OPERATIONFAILED.code())]
    );
    assert_eq!(
        sim.gw.provider().num_calls(),
        0,
        "the void call is forgotten"
    );
}
