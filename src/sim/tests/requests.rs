//! Request-level answers in virtual time (issue 19 items 2 and 6): `Require` is checked on
//! every request in and out of dialog (420 with `Unsupported`, RFC 3261 §8.2.2.3), CANCEL and
//! ACK are exempt and `Proxy-Require` is ignored; an unknown method gets 501, a known one we
//! do not take 405 with Allow (§8.2.1); an offer-less re-INVITE gets a full offer, sendrecv
//! unless we hold the call (RFC 6337 §5.3), and our answer stays within the peer's events.

use super::*;
use crate::provider::SUPPORTED_TAGS;
use crate::sim::peer::PEER_SDP;
use crate::sim::{SipPeer, PROVIDER};

/// An inbound call answered by the app: (app, hCall, INVITE, our 200).
fn answered(sim: &mut Sim, caller: &mut SipPeer) -> (App, HCall, Request, Response) {
    let gw = sim.gateway_addr();
    let app = open_app(sim, LINECALLPRIVILEGE_OWNER);
    let invite = caller.invite(gw, "1001", Some(PEER_SDP));
    sim.deliver(caller.at(), invite.clone());
    let call = HCall(sim.messages(app.conn)[0].dw_param2);
    call_fn(sim, &app, Fn::LineAnswer { call });
    let ok = response_with(&sim.take_sip(caller.addr), 200);
    let ack = caller.in_our_dialog(&invite, &ok, Method::Ack, 1);
    sim.deliver(caller.at(), ack);
    sim.messages(app.conn);
    (app, call, invite, ok)
}

#[test]
fn an_invite_requiring_what_we_lack_gets_420_listing_it_and_no_call() {
    let mut sim = Sim::one_line("");
    let gw = sim.gateway_addr();
    let mut caller = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let mut invite = caller.invite(gw, "1001", Some(PEER_SDP));
    invite.headers.push("Require", "foo, replaces");
    invite.headers.push("Require", "100rel");
    sim.deliver(caller.at(), invite.clone());
    let sent = sim.take_sip(caller.addr);
    assert_eq!(
        statuses(&sent),
        vec![100, 420],
        "the transaction layer sends 100 first"
    );
    let refusal = response_with(&sent, 420);
    let expected: Vec<&str> = ["foo", "100rel"]
        .into_iter()
        .filter(|t| !SUPPORTED_TAGS.contains(t))
        .collect();
    assert_eq!(
        refusal.headers.get("Unsupported"),
        Some(expected.join(", ").as_str())
    );
    assert!(refusal.headers.to.tag().is_some());
    assert!(sim.messages(app.conn).is_empty(), "no call for the app");
    // RFC 4475 §3.3.15 (bext01) the same way; Proxy-Require is for proxies, not us.
    let mut invite = caller.invite(gw, "1001", Some(PEER_SDP));
    invite.headers.push("Proxy-Require", "foo");
    sim.deliver(caller.at(), invite);
    assert_eq!(statuses(&sim.take_sip(caller.addr)), vec![100, 180]);
}

#[test]
fn require_is_checked_in_the_dialog_too_and_the_call_goes_on() {
    let mut sim = Sim::one_line("");
    let mut caller = sim.peer(PROVIDER);
    let (app, _call, invite, ok) = answered(&mut sim, &mut caller);
    let mut reinvite = caller.in_our_dialog(&invite, &ok, Method::Invite, 2);
    reinvite.body = PEER_SDP.as_bytes().to_vec();
    reinvite.headers.content_type = Some("application/sdp".into());
    reinvite.headers.push("Require", "foo");
    sim.deliver(caller.at(), reinvite);
    let refusal = response_with(&sim.take_sip(caller.addr), 420);
    assert_eq!(refusal.headers.get("Unsupported"), Some("foo"));
    assert_eq!(
        refusal.headers.to.tag(),
        ok.headers.to.tag(),
        "the dialog's tag"
    );
    assert!(sim.messages(app.conn).is_empty(), "the call is unchanged");
    let mut info = caller.in_our_dialog(&invite, &ok, Method::Info, 3);
    info.headers.push("Require", "replaces");
    sim.deliver(caller.at(), info);
    assert_eq!(statuses(&sim.take_sip(caller.addr)), vec![200]);
    let bye = caller.in_our_dialog(&invite, &ok, Method::Bye, 4);
    sim.deliver(caller.at(), bye);
    assert_eq!(statuses(&sim.take_sip(caller.addr)), vec![200]);
}

#[test]
fn a_cancel_is_never_refused_for_its_require() {
    let mut sim = Sim::one_line("");
    let gw = sim.gateway_addr();
    let mut caller = sim.peer(PROVIDER);
    let _app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let invite = caller.invite(gw, "1001", Some(PEER_SDP));
    sim.deliver(caller.at(), invite.clone());
    sim.take_sip(caller.addr);
    let mut cancel = caller.cancel(&invite);
    cancel.headers.push("Require", "foo");
    sim.deliver(caller.at(), cancel);
    let mut got = statuses(&sim.take_sip(caller.addr));
    got.sort();
    assert_eq!(got, vec![200, 487]);
}

#[test]
fn unknown_methods_get_501_known_ones_we_do_not_take_405_with_allow() {
    let mut sim = Sim::one_line("");
    let gw = sim.gateway_addr();
    let mut caller = sim.peer(PROVIDER);
    for (method, status) in [
        (Method::Extension("FOO".into()), 501),
        (Method::Subscribe, 405),
        (Method::Register, 405),
        (Method::Message, 405),
    ] {
        let mut request = caller.invite(gw, "1001", None);
        request.method = method.clone();
        request.headers.cseq.method = method.clone();
        request.headers.contact.clear();
        sim.deliver(caller.at(), request);
        let sent = sim.take_sip(caller.addr);
        let response = response_with(&sent, status);
        assert_eq!(
            response.headers.get("Allow").is_some(),
            status == 405,
            "{method}: Allow only with 405"
        );
    }
    let (_app, _call, invite, ok) = answered(&mut sim, &mut caller);
    let foo = caller.in_our_dialog(&invite, &ok, Method::Extension("FOO".into()), 2);
    sim.deliver(caller.at(), foo);
    assert_eq!(statuses(&sim.take_sip(caller.addr)), vec![501]);
    let subscribe = caller.in_our_dialog(&invite, &ok, Method::Subscribe, 3);
    sim.deliver(caller.at(), subscribe);
    let refusal = response_with(&sim.take_sip(caller.addr), 405);
    assert!(refusal
        .headers
        .get("Allow")
        .is_some_and(|a| a.contains("INVITE")));
}

/// The direction line of an SDP body.
fn direction(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    ["sendrecv", "sendonly", "recvonly", "inactive"]
        .into_iter()
        .find(|d| text.contains(&format!("a={d}\r\n")))
        .unwrap_or("none")
        .to_string()
}

#[test]
fn an_offerless_reinvite_after_the_peer_held_us_is_offered_sendrecv_not_the_last_answer() {
    let mut sim = Sim::one_line("");
    let mut caller = sim.peer(PROVIDER);
    let (app, call, invite, ok) = answered(&mut sim, &mut caller);
    assert!(
        String::from_utf8_lossy(&ok.body).contains("a=fmtp:101 0-15\r\n"),
        "the answer stays within the offer's 0-15"
    );
    // The peer holds us: we answer recvonly.
    let mut hold = caller.in_our_dialog(&invite, &ok, Method::Invite, 2);
    hold.body = PEER_SDP
        .replace("a=fmtp", "a=sendonly\r\na=fmtp")
        .into_bytes();
    hold.headers.content_type = Some("application/sdp".into());
    sim.deliver(caller.at(), hold);
    let answer = response_with(&sim.take_sip(caller.addr), 200);
    assert_eq!(direction(&answer.body), "recvonly");
    sim.deliver(
        caller.at(),
        caller.in_our_dialog(&invite, &ok, Method::Ack, 2),
    );
    // An offer-less re-INVITE: a full offer of ours, sendrecv (we do not hold the call).
    let empty = caller.in_our_dialog(&invite, &ok, Method::Invite, 3);
    sim.deliver(caller.at(), empty);
    let offer = response_with(&sim.take_sip(caller.addr), 200);
    assert_eq!(direction(&offer.body), "sendrecv", "RFC 6337 §5.3");
    assert!(String::from_utf8_lossy(&offer.body).contains(" 0 8 101\r\n"));
    let mut ack = caller.in_our_dialog(&invite, &ok, Method::Ack, 3);
    ack.body = PEER_SDP.as_bytes().to_vec();
    ack.headers.content_type = Some("application/sdp".into());
    sim.deliver(caller.at(), ack);
    // While we hold the call, the offer says sendonly.
    call_fn(&mut sim, &app, Fn::LineHold { call });
    let our_hold = only_request(sim.take_sip(caller.addr), Method::Invite);
    let recvonly = PEER_SDP.replace("a=fmtp", "a=recvonly\r\na=fmtp");
    let held = caller.response(&our_hold, 200, Some(&recvonly));
    sim.deliver(caller.at(), held);
    sim.take_sip(caller.addr);
    let empty = caller.in_our_dialog(&invite, &ok, Method::Invite, 4);
    sim.deliver(caller.at(), empty);
    let offer = response_with(&sim.take_sip(caller.addr), 200);
    assert_eq!(direction(&offer.body), "sendonly");
}
