//! Inbound calls in virtual time (tests/inbound_calls.rs does the same against SIPp).

use super::*;
use crate::sim::peer::PEER_SDP;
use crate::sim::PROVIDER;
use crate::tapi::{ConnectedMode, DisconnectMode, OfferingMode};

#[test]
fn answered_by_the_owner_then_the_caller_hangs_up() {
    let mut sim = Sim::one_line("");
    let gw = sim.gateway_addr();
    let mut caller = sim.peer(PROVIDER);
    let owner = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let monitor = open_app(&mut sim, LINECALLPRIVILEGE_MONITOR);
    let invite = caller.invite(gw, "1001", Some(PEER_SDP));
    sim.deliver(caller.at(), invite.clone());
    assert_eq!(statuses(&sim.take_sip(caller.addr)), vec![100, 180]);
    let offered = sim.messages(owner.conn);
    assert_eq!(offered[0].dw_message_id, LINE_APPNEWCALL);
    assert_eq!(offered[0].dw_param3, LINECALLPRIVILEGE_OWNER);
    let call = HCall(offered[0].dw_param2);
    assert_eq!(
        summary(&offered[1..]),
        vec![state(call, CallState::Offering(OfferingMode::ACTIVE))]
    );
    let watched = sim.messages(monitor.conn);
    assert_eq!(watched[0].dw_param3, LINECALLPRIVILEGE_MONITOR);
    let watched_call = HCall(watched[0].dw_param2);
    assert_ne!(watched_call, call, "each app has its own handle");

    let answer = call_fn(&mut sim, &owner, Fn::LineAnswer { call });
    let ok = response_with(&sim.take_sip(caller.addr), 200);
    assert!(String::from_utf8_lossy(&ok.body).contains("a=sendrecv"));
    assert!(
        sim.messages(owner.conn).is_empty(),
        "lineAnswer completes on the ACK"
    );
    let ack = caller.in_our_dialog(&invite, &ok, Method::Ack, 1);
    sim.deliver(caller.at(), ack);
    assert_eq!(
        summary(&sim.messages(owner.conn)),
        vec![
            reply(answer, 0),
            state(call, CallState::Connected(ConnectedMode::ACTIVE)),
        ]
    );
    let bye = caller.in_our_dialog(&invite, &ok, Method::Bye, 2);
    sim.deliver(caller.at(), bye);
    assert_eq!(statuses(&sim.take_sip(caller.addr)), vec![200]);
    let end = vec![
        state(call, CallState::Disconnected(DisconnectMode::NORMAL)),
        state(call, CallState::Idle),
    ];
    assert_eq!(summary(&sim.messages(owner.conn)), end);
    let watched_end: Vec<_> = summary(&sim.messages(monitor.conn))
        .into_iter()
        .map(|(id, _, p1, p2)| (id, p1, p2))
        .collect();
    assert_eq!(
        watched_end,
        vec![
            (
                LINE_CALLSTATE,
                LINECALLSTATE_CONNECTED,
                LINECONNECTEDMODE_ACTIVE
            ),
            (
                LINE_CALLSTATE,
                LINECALLSTATE_DISCONNECTED,
                LINEDISCONNECTMODE_NORMAL
            ),
            (LINE_CALLSTATE, LINECALLSTATE_IDLE, 0),
        ]
    );
}

#[test]
fn unknown_users_get_404_and_lines_nobody_owns_480() {
    let mut sim = Sim::one_line("");
    let gw = sim.gateway_addr();
    let mut caller = sim.peer(PROVIDER);
    sim.deliver(caller.at(), caller.invite(gw, "9999", Some(PEER_SDP)));
    assert_eq!(statuses(&sim.take_sip(caller.addr)), vec![100, 404]);
    let _monitor = open_app(&mut sim, LINECALLPRIVILEGE_MONITOR);
    sim.deliver(caller.at(), caller.invite(gw, "1001", Some(PEER_SDP)));
    assert_eq!(statuses(&sim.take_sip(caller.addr)), vec![100, 480]);
}

#[test]
fn the_callers_cancel_gets_487_and_the_call_ends_normally() {
    let mut sim = Sim::one_line("");
    let gw = sim.gateway_addr();
    let mut caller = sim.peer(PROVIDER);
    let owner = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let invite = caller.invite(gw, "1001", Some(PEER_SDP));
    sim.deliver(caller.at(), invite.clone());
    let call = HCall(sim.messages(owner.conn)[0].dw_param2);
    sim.take_sip(caller.addr);
    sim.deliver(caller.at(), caller.cancel(&invite));
    let sent = sim.take_sip(caller.addr);
    let cancel_ok = sent.iter().any(|m| matches!(m, SipMessage::Response(r) if r.status == 200 && r.headers.cseq.method == Method::Cancel));
    assert!(cancel_ok, "200 to the CANCEL");
    assert_eq!(
        response_with(&sent, 487).headers.cseq.method,
        Method::Invite
    );
    assert_eq!(
        summary(&sim.messages(owner.conn)),
        vec![
            state(call, CallState::Disconnected(DisconnectMode::NORMAL)),
            state(call, CallState::Idle),
        ]
    );
}
