//! The call journal in virtual time: what the core records while dialogs are up, and what a
//! restarted gateway does with what it finds (tests/call_journal.rs SIGKILLs the real binary
//! with live SIPp calls).

use super::*;
use crate::journal::{DialogRecord, JournalRecord};
use crate::sim::peer::PEER_SDP;
use crate::sim::{SipPeer, PROVIDER};
use crate::tapi::{CallState, ConnectedMode};

/// An outbound call answered by the provider: (app, hCall, the INVITE, its 200).
fn connected_outbound(sim: &mut Sim, provider: &SipPeer) -> (App, HCall, Request, Response) {
    let app = open_app(sim, LINECALLPRIVILEGE_OWNER);
    let (_, call) = make_call(sim, &app, "2000");
    let invite = only_request(sim.take_sip(provider.addr), Method::Invite);
    let mut ok = provider.response(&invite, 200, Some(PEER_SDP));
    ok.headers
        .record_route
        .push(crate::sip::codec::parse_name_addr("<sip:127.0.0.1:5070;lr>").unwrap());
    sim.deliver(provider.at(), ok.clone());
    only_request(sim.take_sip(provider.addr), Method::Ack);
    sim.messages(app.conn);
    (app, call, invite, ok)
}

fn ups(journal: &[JournalRecord]) -> Vec<DialogRecord> {
    journal
        .iter()
        .filter_map(|r| match r {
            JournalRecord::Up(d) => Some(d.as_ref().clone()),
            JournalRecord::Down(_) => None,
        })
        .collect()
}

#[test]
fn a_dialog_is_journaled_from_its_2xx_until_its_bye_is_answered() {
    let mut sim = Sim::one_line("");
    let provider = sim.peer(PROVIDER);
    let (app, call, invite, ok) = connected_outbound(&mut sim, &provider);
    let up = ups(&sim.journal);
    assert_eq!(up.len(), 1, "{:?}", sim.journal);
    let d = &up[0];
    assert_eq!(d.call_id, invite.headers.call_id);
    assert_eq!(Some(d.local_tag.as_str()), invite.headers.from.tag());
    assert_eq!(d.remote_tag, provider.tag);
    assert_eq!(d.remote_target, ok.headers.contact[0].uri.to_string());
    assert_eq!(d.route_set, vec!["<sip:127.0.0.1:5070;lr>".to_string()]);
    assert_eq!(d.local_cseq, invite.headers.cseq.seq);
    assert_eq!(d.peer.to_string(), PROVIDER);
    assert_eq!((d.line.as_str(), d.outbound), ("1001", true));
    assert!(d.sdp.local_rtp.is_some());
    assert_eq!(d.called_id, "2000");
    sim.journal.clear();

    call_fn(&mut sim, &app, Fn::LineDrop { call });
    let bye = only_request(sim.take_sip(provider.addr), Method::Bye);
    assert!(
        matches!(sim.journal.as_slice(), [JournalRecord::Up(d)] if d.local_cseq == bye.headers.cseq.seq),
        "the BYE's CSeq is journaled while it is out: {:?}",
        sim.journal
    );
    sim.journal.clear();
    sim.deliver(provider.at(), provider.response(&bye, 200, None));
    assert_eq!(sim.journal, vec![JournalRecord::Down(d.key())]);
}

#[test]
fn an_inbound_dialog_is_journaled_from_our_2xx() {
    let mut sim = Sim::one_line("");
    let owner = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (mut caller, invite, call) = offer_from_provider(&mut sim, &owner);
    assert!(sim.journal.is_empty(), "not up while offered");
    call_fn(&mut sim, &owner, Fn::LineAnswer { call });
    let ok = response_with(&sim.take_sip(caller.addr), 200);
    let up = ups(&sim.journal);
    assert_eq!(up.len(), 1);
    assert!(!up[0].outbound);
    assert_eq!(up[0].remote_tag, caller.tag);
    let bye = caller.in_our_dialog(&invite, &ok, Method::Ack, 1);
    sim.deliver(caller.at(), bye);
    let bye = caller.in_our_dialog(&invite, &ok, Method::Bye, 2);
    sim.deliver(caller.at(), bye);
    assert_eq!(sim.journal.last(), Some(&JournalRecord::Down(up[0].key())));
}

/// The journal of a gateway that died with one connected outbound call.
fn journal_of_a_crash() -> (DialogRecord, Request, Response) {
    let mut sim = Sim::one_line("");
    let provider = sim.peer(PROVIDER);
    let (_, _, invite, ok) = connected_outbound(&mut sim, &provider);
    (ups(&sim.journal).remove(0), invite, ok)
}

/// A new gateway with an owner app, recovering `record` (`keep`: sip.recover_calls).
fn restarted(record: &DialogRecord, keep: bool) -> (Sim, SipPeer, App) {
    let mut sim = Sim::one_line("");
    let provider = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let done = sim.recover(vec![record.clone()], keep);
    let expected = if keep { (0, 1) } else { (1, 0) };
    assert_eq!((done.ended, done.kept), expected);
    (sim, provider, app)
}

/// lineGetNewCalls on the app's line.
fn new_calls(sim: &mut Sim, app: &App) -> Vec<HCall> {
    let select = Fn::LineGetNewCalls {
        line: app.line,
        address: 0,
        select: LINECALLSELECT_LINE,
    };
    match sim.call(app.conn, select) {
        Ok(Answer::NewCalls(handles)) => handles,
        other => panic!("lineGetNewCalls: {other:?}"),
    }
}

#[test]
fn after_a_crash_each_journaled_dialog_is_ended_with_bye() {
    let (record, invite, _) = journal_of_a_crash();
    let (mut sim, provider, app) = restarted(&record, false);
    let bye = only_request(sim.take_sip(provider.addr), Method::Bye);
    assert_eq!(bye.headers.call_id, invite.headers.call_id);
    assert_eq!(bye.headers.from.tag(), invite.headers.from.tag());
    assert_eq!(bye.headers.to.tag(), Some(provider.tag.as_str()));
    assert!(bye.headers.cseq.seq > record.local_cseq);
    assert_eq!(bye.headers.route.len(), 1, "the route set is kept");
    assert!(sim.messages(app.conn).is_empty(), "apps see nothing of it");
    sim.deliver(provider.at(), provider.response(&bye, 481, None));
    assert_eq!(sim.journal.last(), Some(&JournalRecord::Down(record.key())));
    assert_eq!(sim.gw.provider().num_calls(), 0);
}

#[test]
fn with_recover_calls_the_dialog_is_refreshed_and_offered_through_line_get_new_calls() {
    let (record, _, _) = journal_of_a_crash();
    let (mut sim, provider, app) = restarted(&record, true);
    let reinvite = only_request(sim.take_sip(provider.addr), Method::Invite);
    assert_eq!(reinvite.headers.to.tag(), Some(provider.tag.as_str()));
    let offer = String::from_utf8_lossy(&reinvite.body).to_string();
    let origin = format!(
        " {} {} IN IP4",
        record.sdp.session_id,
        record.sdp.version + 1
    );
    assert!(
        offer.contains(&origin),
        "same session, next version: {offer}"
    );
    assert!(offer.contains("a=sendrecv"));
    assert!(sim.messages(app.conn).is_empty(), "no LINE_APPNEWCALL");
    let handles = new_calls(&mut sim, &app);
    assert_eq!(handles.len(), 1);
    let call = handles[0];
    let Ok(Answer::CallInfo(info)) = sim.call(app.conn, Fn::LineGetCallInfo { call }) else {
        panic!("lineGetCallInfo")
    };
    assert_eq!(info.sip_call_id, record.call_id);
    assert_eq!(info.called_id, "2000");
    assert_eq!(info.origin, LINECALLORIGIN_OUTBOUND);
    match sim.call(app.conn, Fn::LineGetCallStatus { call }) {
        Ok(Answer::CallStatus(s)) => {
            assert_eq!(s.state, Some(CallState::Connected(ConnectedMode::ACTIVE)));
            assert_eq!(s.privilege, crate::tapi::CallPrivilege::Monitor);
        }
        other => panic!("{other:?}"),
    }
    let ok = provider.response(&reinvite, 200, Some(PEER_SDP));
    sim.deliver(provider.at(), ok);
    only_request(sim.take_sip(provider.addr), Method::Ack);
    // The app takes it over and hangs up.
    sim.call(
        app.conn,
        Fn::LineSetCallPrivilege {
            call,
            privilege: LINECALLPRIVILEGE_OWNER,
        },
    )
    .unwrap();
    let drop = call_fn(&mut sim, &app, Fn::LineDrop { call });
    let bye = only_request(sim.take_sip(provider.addr), Method::Bye);
    assert!(bye.headers.cseq.seq > reinvite.headers.cseq.seq);
    sim.deliver(provider.at(), provider.response(&bye, 200, None));
    let got = summary(&sim.messages(app.conn));
    assert!(got.contains(&reply(drop, 0)), "{got:?}");
    assert!(got.contains(&state(call, CallState::Idle)), "{got:?}");
    assert_eq!(sim.journal.last(), Some(&JournalRecord::Down(record.key())));
}

#[test]
fn a_kept_call_no_app_claims_is_forgotten_when_the_peer_hangs_up() {
    let (record, invite, ok) = journal_of_a_crash();
    let mut sim = Sim::one_line("");
    let mut provider = sim.peer(PROVIDER);
    sim.recover(vec![record], true);
    let reinvite = only_request(sim.take_sip(provider.addr), Method::Invite);
    sim.deliver(
        provider.at(),
        provider.response(&reinvite, 200, Some(PEER_SDP)),
    );
    sim.take_sip(provider.addr);
    assert_eq!(sim.gw.provider().num_calls(), 1);
    let bye = provider.in_their_dialog(&invite, &ok, Method::Bye, 9);
    sim.deliver(provider.at(), bye);
    assert_eq!(statuses(&sim.take_sip(provider.addr)), vec![200]);
    assert_eq!(sim.gw.provider().num_calls(), 0);
    // A monitor that opens later finds nothing.
    let app = open_app(&mut sim, LINECALLPRIVILEGE_MONITOR);
    assert!(new_calls(&mut sim, &app).is_empty());
}
