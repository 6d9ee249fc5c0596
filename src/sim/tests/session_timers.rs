//! RFC 4028 session timers in virtual time: what we ask for, 422 and its retry, refreshes at
//! half the interval (UPDATE when the peer allows it, else re-INVITE with the same SDP), the
//! BYE when nobody refreshed, and the UAS side (422, the refresher table, Require: timer).

use std::time::Duration;

use super::*;
use crate::sim::peer::{SipPeer, PEER_SDP};
use crate::sim::PROVIDER;
use crate::tapi::{ConnectedMode, DisconnectMode, OfferingMode};

const ALLOW_UPDATE: &str = "Allow: INVITE, ACK, CANCEL, BYE, UPDATE";

/// lineMakeCall answered with a 200 carrying `headers`: (hCall, INVITE, 200).
fn connected_with(
    sim: &mut Sim,
    app: &App,
    provider: &SipPeer,
    headers: &[&str],
) -> (HCall, Request, Response) {
    let (_, call) = make_call(sim, app, "2000");
    let invite = only_request(sim.take_sip(provider.addr), Method::Invite);
    let ok = with_headers(provider.response(&invite, 200, Some(PEER_SDP)), headers);
    sim.deliver(provider.at(), ok.clone());
    only_request(sim.take_sip(provider.addr), Method::Ack);
    sim.messages(app.conn);
    (call, invite, ok)
}

/// Advances by `secs` seconds and asserts that nothing was sent to `peer` (nor told the app).
fn quiet_for(sim: &mut Sim, app: &App, peer: &SipPeer, secs: f64) {
    sim.advance(Duration::from_secs_f64(secs));
    assert!(sim.take_sip(peer.addr).is_empty(), "nothing sent yet");
    assert!(sim.messages(app.conn).is_empty(), "nothing for the app");
}

/// A call on a line asking for `secs`, answered with `Session-Expires: secs;refresher=uac` by
/// a peer that allows UPDATE, with the clock at our first refresh: (sim, provider, app, hCall,
/// that UPDATE).
fn at_first_refresh(secs: u32) -> (Sim, SipPeer, App, HCall, Request) {
    let mut sim = Sim::one_line(&format!("session_expires = {secs}"));
    let provider = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let se = format!("Session-Expires: {secs};refresher=uac");
    let (call, _, _) = connected_with(&mut sim, &app, &provider, &[&se, ALLOW_UPDATE]);
    sim.advance(Duration::from_secs(u64::from(secs / 2)));
    let update = only_request(sim.take_sip(provider.addr), Method::Update);
    (sim, provider, app, call, update)
}

#[test]
fn our_invite_asks_for_the_lines_interval_and_we_refresh_at_half_with_update() {
    let mut sim = Sim::one_line("");
    let provider = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (call, invite, _) = connected_with(
        &mut sim,
        &app,
        &provider,
        &[
            "Session-Expires: 1800;refresher=uac",
            "Require: timer",
            ALLOW_UPDATE,
        ],
    );
    assert_eq!(invite.headers.get("Session-Expires"), Some("1800"));
    assert_eq!(invite.headers.get("Min-SE"), Some("90"));
    let supported = invite.headers.get("Supported").unwrap();
    assert!(supported.contains("timer"), "{supported}");

    quiet_for(&mut sim, &app, &provider, 899.9);
    sim.advance(Duration::from_millis(100));
    let update = only_request(sim.take_sip(provider.addr), Method::Update);
    assert!(update.body.is_empty(), "a refresh without offer/answer");
    assert_eq!(
        update.headers.get("Session-Expires"),
        Some("1800;refresher=uac")
    );
    assert_eq!(update.headers.get("Min-SE"), Some("90"));
    assert_eq!(update.headers.to.tag(), Some(provider.tag.as_str()));
    sim.deliver(
        provider.at(),
        with_headers(
            provider.response(&update, 200, None),
            &["Session-Expires: 1800;refresher=uac"],
        ),
    );
    assert!(
        sim.take_sip(provider.addr).is_empty(),
        "no ACK for an UPDATE"
    );
    assert!(
        sim.messages(app.conn).is_empty(),
        "a refresh changes nothing for the app"
    );
    // The 200 restarted the timer: the next refresh is half an interval later.
    quiet_for(&mut sim, &app, &provider, 899.9);
    sim.advance(Duration::from_millis(100));
    only_request(sim.take_sip(provider.addr), Method::Update);
    assert_eq!(
        call_info(&mut sim, &app, call).remote_media.as_deref(),
        Some("127.0.0.1:6000")
    );
}

#[test]
fn without_update_the_refresh_is_a_reinvite_with_our_unchanged_sdp() {
    let mut sim = Sim::one_line("session_expires = 120");
    let provider = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (_, invite, _) = connected_with(
        &mut sim,
        &app,
        &provider,
        &["Session-Expires: 120;refresher=uac"],
    );
    assert_eq!(invite.headers.get("Session-Expires"), Some("120"));
    quiet_for(&mut sim, &app, &provider, 59.9);
    sim.advance(Duration::from_millis(100));
    let reinvite = only_request(sim.take_sip(provider.addr), Method::Invite);
    assert_eq!(
        reinvite.body, invite.body,
        "the same description, same version (RFC 3264 §8)"
    );
    assert_eq!(
        reinvite.headers.get("Session-Expires"),
        Some("120;refresher=uac")
    );
    sim.deliver(
        provider.at(),
        with_headers(
            provider.response(&reinvite, 200, Some(PEER_SDP)),
            &["Session-Expires: 120;refresher=uac"],
        ),
    );
    let ack = only_request(sim.take_sip(provider.addr), Method::Ack);
    assert_eq!(ack.headers.cseq.seq, reinvite.headers.cseq.seq);
    assert!(sim.messages(app.conn).is_empty());
    quiet_for(&mut sim, &app, &provider, 59.9);
}

#[test]
fn an_update_refused_with_501_is_sent_again_as_a_reinvite() {
    let (mut sim, provider, _app, _, update) = at_first_refresh(90);
    sim.deliver(provider.at(), provider.response(&update, 501, None));
    let reinvite = only_request(sim.take_sip(provider.addr), Method::Invite);
    assert!(reinvite.headers.cseq.seq > update.headers.cseq.seq);
    assert!(String::from_utf8_lossy(&reinvite.body).contains("m=audio"));
}

#[test]
fn when_the_peer_refreshes_and_stops_we_bye_before_the_session_expires() {
    let mut sim = Sim::one_line("");
    let mut provider = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (call, invite, ok) = connected_with(
        &mut sim,
        &app,
        &provider,
        &["Session-Expires: 90;refresher=uas"],
    );
    sim.advance(Duration::from_secs(40));
    assert!(
        sim.take_sip(provider.addr).is_empty(),
        "the peer refreshes, not us"
    );
    // The peer refreshes with UPDATE (it is the UAC of that transaction now).
    let update = with_headers(
        provider.in_their_dialog(&invite, &ok, Method::Update, 1),
        &["Session-Expires: 90;refresher=uac", "Supported: timer"],
    );
    sim.deliver(provider.at(), update);
    let answer = response_with(&sim.take_sip(provider.addr), 200);
    assert!(
        answer.body.is_empty(),
        "an UPDATE without offer gets a 200 without SDP"
    );
    assert_eq!(
        answer.headers.get("Session-Expires"),
        Some("90;refresher=uac")
    );
    assert_eq!(answer.headers.get("Require"), Some("timer"));
    // §10: BYE at 90 - min(32, 90/3) = 60 s after the refresh, if none comes.
    quiet_for(&mut sim, &app, &provider, 59.9);
    sim.advance(Duration::from_millis(100));
    let bye = only_request(sim.take_sip(provider.addr), Method::Bye);
    assert_eq!(
        summary(&sim.messages(app.conn)),
        vec![
            state(call, CallState::Disconnected(DisconnectMode::TEMPFAILURE)),
            state(call, CallState::Idle),
        ]
    );
    sim.deliver(provider.at(), provider.response(&bye, 200, None));
    assert!(sim.messages(app.conn).is_empty());
}

#[test]
fn a_long_interval_is_byed_32_s_before_it_ends() {
    let mut sim = Sim::one_line("");
    let provider = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (call, _, _) = connected_with(
        &mut sim,
        &app,
        &provider,
        &["Session-Expires: 1800;refresher=uas"],
    );
    quiet_for(&mut sim, &app, &provider, 1767.9);
    sim.advance(Duration::from_millis(100));
    only_request(sim.take_sip(provider.addr), Method::Bye);
    assert!(summary(&sim.messages(app.conn)).contains(&state(
        call,
        CallState::Disconnected(DisconnectMode::TEMPFAILURE)
    )));
}

#[test]
fn a_200_without_session_expires_means_no_timer() {
    let mut sim = Sim::one_line("");
    let provider = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    connected_with(&mut sim, &app, &provider, &[]);
    quiet_for(&mut sim, &app, &provider, 4000.0);
}

#[test]
fn a_422_is_retried_at_once_with_the_min_se_it_gives() {
    let mut sim = Sim::one_line("");
    let provider = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (request, call) = make_call(&mut sim, &app, "2000");
    let invite = only_request(sim.take_sip(provider.addr), Method::Invite);
    sim.deliver(
        provider.at(),
        with_headers(provider.response(&invite, 422, None), &["Min-SE: 3600"]),
    );
    let sent = requests(sim.take_sip(provider.addr));
    assert_eq!(sent.len(), 2, "ACK for the 422, the new INVITE");
    assert_eq!(sent[0].method, Method::Ack);
    let retry = sent[1].clone();
    assert_eq!(retry.method, Method::Invite);
    assert_eq!(retry.headers.cseq.seq, 2);
    assert_ne!(
        retry.headers.via[0].branch(),
        invite.headers.via[0].branch()
    );
    assert_eq!(retry.headers.from, invite.headers.from, "the same call");
    assert_eq!(retry.headers.call_id, invite.headers.call_id);
    assert_eq!(retry.headers.get("Session-Expires"), Some("3600"));
    assert_eq!(retry.headers.get("Min-SE"), Some("3600"));
    assert!(
        sim.messages(app.conn).is_empty(),
        "a 422 we follow ourselves is not the first response"
    );
    // Asking for no more than we now send is final (no loop): DISCONNECTED(UNKNOWN).
    sim.deliver(
        provider.at(),
        with_headers(provider.response(&retry, 422, None), &["Min-SE: 3600"]),
    );
    only_request(sim.take_sip(provider.addr), Method::Ack);
    assert_eq!(
        summary(&sim.messages(app.conn)),
        vec![
            reply(request, 0),
            state(call, CallState::Disconnected(DisconnectMode::UNKNOWN)),
            state(call, CallState::Idle),
        ]
    );
}

#[test]
fn a_422_to_our_refresh_raises_the_interval_and_sends_again() {
    let (mut sim, provider, app, _, update) = at_first_refresh(100);
    assert_eq!(
        update.headers.get("Session-Expires"),
        Some("100;refresher=uac")
    );
    sim.deliver(
        provider.at(),
        with_headers(provider.response(&update, 422, None), &["Min-SE: 300"]),
    );
    let again = only_request(sim.take_sip(provider.addr), Method::Update);
    assert_eq!(
        again.headers.get("Session-Expires"),
        Some("300;refresher=uac")
    );
    assert_eq!(again.headers.get("Min-SE"), Some("300"));
    sim.deliver(
        provider.at(),
        with_headers(
            provider.response(&again, 200, None),
            &["Session-Expires: 300;refresher=uac"],
        ),
    );
    quiet_for(&mut sim, &app, &provider, 149.9);
    sim.advance(Duration::from_millis(100));
    only_request(sim.take_sip(provider.addr), Method::Update);
}

#[test]
fn a_refresh_answered_481_ends_the_call() {
    let (mut sim, provider, app, call, update) = at_first_refresh(90);
    sim.deliver(provider.at(), provider.response(&update, 481, None));
    only_request(sim.take_sip(provider.addr), Method::Bye);
    assert!(summary(&sim.messages(app.conn)).contains(&state(
        call,
        CallState::Disconnected(DisconnectMode::UNREACHABLE)
    )));
}

#[test]
fn line_hold_during_a_refresh_waits_for_it_and_then_holds() {
    let (mut sim, provider, app, call, update) = at_first_refresh(90);
    let hold = call_fn(&mut sim, &app, Fn::LineHold { call });
    assert!(
        sim.take_sip(provider.addr).is_empty(),
        "one request at a time"
    );
    sim.deliver(
        provider.at(),
        with_headers(
            provider.response(&update, 200, None),
            &["Session-Expires: 90;refresher=uac"],
        ),
    );
    let reinvite = only_request(sim.take_sip(provider.addr), Method::Invite);
    assert!(String::from_utf8_lossy(&reinvite.body).contains("a=sendonly"));
    assert_eq!(
        reinvite.headers.get("Session-Expires"),
        Some("90;refresher=uac")
    );
    let sdp = PEER_SDP.replace("a=fmtp", "a=recvonly\r\na=fmtp");
    sim.deliver(
        provider.at(),
        with_headers(
            provider.response(&reinvite, 200, Some(&sdp)),
            &["Session-Expires: 90;refresher=uac"],
        ),
    );
    only_request(sim.take_sip(provider.addr), Method::Ack);
    assert_eq!(
        summary(&sim.messages(app.conn)),
        vec![state(call, CallState::OnHold), reply(hold, 0)]
    );
}

/// An inbound INVITE with `headers` offered to `owner` and answered: (hCall, INVITE, 200).
fn answered_inbound(
    sim: &mut Sim,
    owner: &App,
    caller: &mut SipPeer,
    headers: &[&str],
) -> (HCall, Request, Response) {
    let invite = with_headers(
        caller.invite(sim.gateway_addr(), "1001", Some(PEER_SDP)),
        headers,
    );
    sim.deliver(caller.at(), invite.clone());
    sim.take_sip(caller.addr);
    let messages = sim.messages(owner.conn);
    let call = HCall(messages[0].dw_param2);
    assert!(summary(&messages).contains(&state(call, CallState::Offering(OfferingMode::ACTIVE))));
    call_fn(sim, owner, Fn::LineAnswer { call });
    let ok = response_with(&sim.take_sip(caller.addr), 200);
    sim.deliver(
        caller.at(),
        caller.in_our_dialog(&invite, &ok, Method::Ack, 1),
    );
    sim.messages(owner.conn);
    (call, invite, ok)
}

#[test]
fn an_inbound_interval_below_our_min_se_gets_422_before_anybody_sees_the_call() {
    let mut sim = Sim::one_line("min_se = 120");
    let mut caller = sim.peer(PROVIDER);
    let owner = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let invite = with_headers(
        caller.invite(sim.gateway_addr(), "1001", Some(PEER_SDP)),
        &["Supported: timer", "Session-Expires: 90"],
    );
    sim.deliver(caller.at(), invite);
    let refused = response_with(&sim.take_sip(caller.addr), 422);
    assert_eq!(refused.headers.get("Min-SE"), Some("120"));
    assert!(sim.messages(owner.conn).is_empty());
    // The same interval from a caller without the extension (a proxy put it in) is taken:
    // the caller cannot refresh, so we do (RFC 4028 §9).
    let (_, _, ok) = answered_inbound(&mut sim, &owner, &mut caller, &["Session-Expires: 90"]);
    assert_eq!(ok.headers.get("Session-Expires"), Some("90;refresher=uas"));
    assert_eq!(ok.headers.get("Require"), None);
}

#[test]
fn an_inbound_caller_that_refreshes_gets_require_timer_and_is_byed_when_it_stops() {
    let mut sim = Sim::one_line("");
    let mut caller = sim.peer(PROVIDER);
    let owner = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (call, invite, ok) = answered_inbound(
        &mut sim,
        &owner,
        &mut caller,
        &["Supported: timer", "Session-Expires: 90;refresher=uac"],
    );
    assert_eq!(ok.headers.get("Session-Expires"), Some("90;refresher=uac"));
    assert_eq!(ok.headers.get("Require"), Some("timer"));
    sim.advance(Duration::from_secs(45));
    assert!(sim.take_sip(caller.addr).is_empty());
    let mut reinvite = with_headers(
        caller.in_our_dialog(&invite, &ok, Method::Invite, 2),
        &["Supported: timer", "Session-Expires: 90;refresher=uac"],
    );
    reinvite.headers.content_type = Some("application/sdp".into());
    reinvite.body = PEER_SDP.as_bytes().to_vec();
    sim.deliver(caller.at(), reinvite.clone());
    let refreshed = response_with(&sim.take_sip(caller.addr), 200);
    assert_eq!(
        refreshed.headers.get("Session-Expires"),
        Some("90;refresher=uac")
    );
    assert!(
        !refreshed.body.is_empty(),
        "a re-INVITE's offer is answered"
    );
    sim.deliver(
        caller.at(),
        caller.in_our_dialog(&reinvite, &refreshed, Method::Ack, 2),
    );
    quiet_for(&mut sim, &owner, &caller, 59.9);
    sim.advance(Duration::from_millis(100));
    only_request(sim.take_sip(caller.addr), Method::Bye);
    assert!(summary(&sim.messages(owner.conn)).contains(&state(
        call,
        CallState::Disconnected(DisconnectMode::TEMPFAILURE)
    )));
}

#[test]
fn an_inbound_call_we_refresh_uses_update_when_the_caller_allows_it() {
    let mut sim = Sim::one_line("");
    let mut caller = sim.peer(PROVIDER);
    let owner = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (call, _, ok) = answered_inbound(
        &mut sim,
        &owner,
        &mut caller,
        &["Supported: timer", ALLOW_UPDATE],
    );
    // Supported but not asked for: our interval, and we (who asked) refresh.
    assert_eq!(
        ok.headers.get("Session-Expires"),
        Some("1800;refresher=uas")
    );
    quiet_for(&mut sim, &owner, &caller, 899.9);
    sim.advance(Duration::from_millis(100));
    let update = only_request(sim.take_sip(caller.addr), Method::Update);
    assert_eq!(
        update.headers.get("Session-Expires"),
        Some("1800;refresher=uac")
    );
    assert_eq!(update.uri.to_string(), "sip:caller@127.0.0.1:5070");
    sim.deliver(
        caller.at(),
        with_headers(
            caller.response(&update, 200, None),
            &["Session-Expires: 1800;refresher=uac"],
        ),
    );
    assert!(sim.messages(owner.conn).is_empty());
    let _ = call;
}

#[test]
fn a_plain_inbound_call_has_no_session_timer() {
    let mut sim = Sim::one_line("");
    let mut caller = sim.peer(PROVIDER);
    let owner = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (_, _, ok) = answered_inbound(&mut sim, &owner, &mut caller, &[]);
    assert_eq!(ok.headers.get("Session-Expires"), None);
    quiet_for(&mut sim, &owner, &caller, 4000.0);
}

#[test]
fn an_update_with_an_offer_is_answered_and_one_crossing_our_reinvite_gets_491() {
    let mut sim = Sim::one_line("");
    let mut caller = sim.peer(PROVIDER);
    let owner = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (call, invite, ok) = answered_inbound(&mut sim, &owner, &mut caller, &[]);
    let sendonly = PEER_SDP.replace("a=fmtp", "a=sendonly\r\na=fmtp");
    let mut update = caller.in_our_dialog(&invite, &ok, Method::Update, 2);
    update.headers.content_type = Some("application/sdp".into());
    update.body = sendonly.clone().into_bytes();
    sim.deliver(caller.at(), update);
    let answer = response_with(&sim.take_sip(caller.addr), 200);
    assert!(String::from_utf8_lossy(&answer.body).contains("a=recvonly"));
    assert_eq!(
        summary(&sim.messages(owner.conn)),
        vec![state(call, CallState::Connected(ConnectedMode::INACTIVE))]
    );
    // Our hold re-INVITE is out: the peer's UPDATE with an offer is glare (RFC 3311 §5.2).
    call_fn(&mut sim, &owner, Fn::LineHold { call });
    only_request(sim.take_sip(caller.addr), Method::Invite);
    let mut crossing = caller.in_our_dialog(&invite, &ok, Method::Update, 3);
    crossing.headers.content_type = Some("application/sdp".into());
    crossing.body = PEER_SDP.as_bytes().to_vec();
    sim.deliver(caller.at(), crossing);
    assert_eq!(statuses(&sim.take_sip(caller.addr)), vec![491]);
}
