//! Call control in virtual time: hold and unhold (with glare, refusal and challenge), the
//! peer's hold, blind and attended transfer and their failures, being transferred (REFER and
//! INVITE with Replaces), forwarding, swap hold, and the call features each state allows.

use std::time::Duration;

use super::*;
use crate::sim::peer::{SipPeer, PEER_SDP};
use crate::sim::PROVIDER;
use crate::tapi::{
    CallFeatures, ConnectedMode, DialToneMode, DisconnectMode, ForwardEntry, OfferingMode,
    LINEERR_INVALCALLSTATE, LINEERR_NOTOWNER, LINEERR_OPERATIONFAILED,
};

/// An outbound call the provider answered: (hCall, the INVITE, the 200).
fn connected(sim: &mut Sim, app: &App, provider: &SipPeer) -> (HCall, Request, Response) {
    let (request, call) = make_call(sim, app, "2000");
    let invite = only_request(sim.take_sip(provider.addr), Method::Invite);
    let ok = provider.response(&invite, 200, Some(PEER_SDP));
    sim.deliver(provider.at(), ok.clone());
    only_request(sim.take_sip(provider.addr), Method::Ack);
    let messages = summary(&sim.messages(app.conn));
    assert_eq!(messages[0], reply(request, 0));
    (call, invite, ok)
}

fn sdp_of(request: &Request) -> String {
    String::from_utf8_lossy(&request.body).into_owned()
}

/// Answers a re-INVITE of ours with 200 and `direction`, and takes the ACK.
fn accept_reinvite(sim: &mut Sim, provider: &SipPeer, reinvite: &Request, direction: &str) {
    let sdp = PEER_SDP.replace("a=fmtp", &format!("a={direction}\r\na=fmtp"));
    sim.deliver(provider.at(), provider.response(reinvite, 200, Some(&sdp)));
    let ack = only_request(sim.take_sip(provider.addr), Method::Ack);
    assert_eq!(ack.headers.cseq.seq, reinvite.headers.cseq.seq);
}

fn status(sim: &mut Sim, app: &App, call: HCall) -> crate::tapi::CallStatusAnswer {
    match sim.call(app.conn, Fn::LineGetCallStatus { call }) {
        Ok(Answer::CallStatus(s)) => s,
        other => panic!("{other:?}"),
    }
}

#[test]
fn hold_sends_sendonly_and_unhold_sendrecv_with_new_versions() {
    let mut sim = Sim::one_line("");
    let provider = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (call, _, _) = connected(&mut sim, &app, &provider);
    sim.messages(app.conn);
    assert!(status(&mut sim, &app, call)
        .features
        .contains(CallFeatures::HOLD));
    let hold = call_fn(&mut sim, &app, Fn::LineHold { call });
    let reinvite = only_request(sim.take_sip(provider.addr), Method::Invite);
    let sdp = sdp_of(&reinvite);
    assert!(sdp.contains("a=sendonly\r\n"), "{sdp}");
    assert!(sdp.contains(" 2 IN IP4"), "version 2: {sdp}");
    assert!(reinvite.headers.to.tag().is_some(), "inside the dialog");
    assert!(
        sim.messages(app.conn).is_empty(),
        "LINE_REPLY waits for the 2xx"
    );
    accept_reinvite(&mut sim, &provider, &reinvite, "recvonly");
    assert_eq!(
        summary(&sim.messages(app.conn)),
        vec![state(call, CallState::OnHold), reply(hold, 0)]
    );
    let features = status(&mut sim, &app, call).features;
    assert!(features.contains(CallFeatures::UNHOLD) && !features.contains(CallFeatures::HOLD));
    let unhold = call_fn(&mut sim, &app, Fn::LineUnhold { call });
    let reinvite = only_request(sim.take_sip(provider.addr), Method::Invite);
    assert!(sdp_of(&reinvite).contains("a=sendrecv\r\n"));
    assert!(sdp_of(&reinvite).contains(" 3 IN IP4"));
    accept_reinvite(&mut sim, &provider, &reinvite, "sendrecv");
    assert_eq!(
        summary(&sim.messages(app.conn)),
        vec![
            state(call, CallState::Connected(ConnectedMode::ACTIVE)),
            reply(unhold, 0),
        ]
    );
    assert_eq!(
        sim.call(app.conn, Fn::LineUnhold { call }),
        Err(LINEERR_INVALCALLSTATE.into()),
        "not held"
    );
}

#[test]
fn a_hold_refused_with_488_fails_and_the_call_stays_connected() {
    let mut sim = Sim::one_line("");
    let provider = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (call, _, _) = connected(&mut sim, &app, &provider);
    sim.messages(app.conn);
    let hold = call_fn(&mut sim, &app, Fn::LineHold { call });
    let reinvite = only_request(sim.take_sip(provider.addr), Method::Invite);
    sim.deliver(provider.at(), provider.response(&reinvite, 488, None));
    only_request(sim.take_sip(provider.addr), Method::Ack);
    assert_eq!(
        summary(&sim.messages(app.conn)),
        vec![reply(hold, LINEERR_OPERATIONFAILED.code())]
    );
    assert_eq!(
        status(&mut sim, &app, call).state,
        Some(CallState::Connected(ConnectedMode::ACTIVE))
    );
}

#[test]
fn glare_is_retried_after_the_random_wait_and_the_peers_reinvite_gets_491() {
    let mut sim = Sim::one_line("");
    let mut provider = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (call, invite, ok) = connected(&mut sim, &app, &provider);
    sim.messages(app.conn);
    let hold = call_fn(&mut sim, &app, Fn::LineHold { call });
    let first = only_request(sim.take_sip(provider.addr), Method::Invite);
    // The peer's own re-INVITE crosses ours: it gets 491 (§14.2).
    let mut theirs = provider.in_their_dialog(&invite, &ok, Method::Invite, 2);
    theirs.body = PEER_SDP.as_bytes().to_vec();
    sim.deliver(provider.at(), theirs.clone());
    let sent = sim.take_sip(provider.addr);
    assert_eq!(statuses(&sent), vec![100, 491]);
    sim.deliver(
        provider.at(),
        provider.ack_final(&theirs, &response_with(&sent, 491)),
    );
    // Ours gets 491 too: retried 2.1-4 s later (we own the Call-ID), with a new CSeq.
    sim.deliver(provider.at(), provider.response(&first, 491, None));
    only_request(sim.take_sip(provider.addr), Method::Ack);
    sim.advance(Duration::from_millis(2099));
    assert!(sim.take_sip(provider.addr).is_empty());
    let mut retry = Vec::new();
    for _ in 0..190 {
        sim.advance(Duration::from_millis(10));
        retry.extend(sim.take_sip(provider.addr));
        if !retry.is_empty() {
            break;
        }
    }
    let retry = only_request(retry, Method::Invite);
    assert!(retry.headers.cseq.seq > first.headers.cseq.seq);
    accept_reinvite(&mut sim, &provider, &retry, "recvonly");
    assert_eq!(
        summary(&sim.messages(app.conn)),
        vec![state(call, CallState::OnHold), reply(hold, 0)]
    );
}

#[test]
fn a_challenged_reinvite_is_sent_again_with_credentials() {
    let mut sim = Sim::one_line("auth_user = \"1001\"\npassword = \"secret\"");
    let provider = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (call, _, _) = connected(&mut sim, &app, &provider);
    sim.messages(app.conn);
    let hold = call_fn(&mut sim, &app, Fn::LineHold { call });
    let first = only_request(sim.take_sip(provider.addr), Method::Invite);
    let mut challenge = provider.response(&first, 407, None);
    challenge.headers.push(
        "Proxy-Authenticate",
        r#"Digest realm="sim", nonce="abc", algorithm=MD5"#,
    );
    sim.deliver(provider.at(), challenge);
    let sent = sim.take_sip(provider.addr);
    let retry = sent
        .into_iter()
        .find_map(|m| match m {
            SipMessage::Request(r) if r.method == Method::Invite => Some(r),
            _ => None,
        })
        .expect("the re-INVITE again");
    assert!(retry.headers.get("Proxy-Authorization").is_some());
    assert_eq!(retry.headers.cseq.seq, first.headers.cseq.seq + 1);
    accept_reinvite(&mut sim, &provider, &retry, "recvonly");
    assert_eq!(summary(&sim.messages(app.conn))[1], reply(hold, 0));
}

#[test]
fn the_peers_hold_is_mirrored_and_shown_as_connected_inactive() {
    let mut sim = Sim::one_line("");
    let mut provider = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (call, invite, ok) = connected(&mut sim, &app, &provider);
    sim.messages(app.conn);
    let mut hold = provider.in_their_dialog(&invite, &ok, Method::Invite, 2);
    hold.body = PEER_SDP
        .replace("a=fmtp", "a=sendonly\r\na=fmtp")
        .into_bytes();
    sim.deliver(provider.at(), hold.clone());
    let answer = response_with(&sim.take_sip(provider.addr), 200);
    let body = String::from_utf8_lossy(&answer.body).into_owned();
    assert!(body.contains("a=recvonly\r\n"), "{body}");
    assert!(
        body.contains("a=fmtp:101 0-15\r\n"),
        "within the offer: {body}"
    );
    let ack = provider.in_their_dialog(&invite, &answer, Method::Ack, 2);
    sim.deliver(provider.at(), ack);
    assert_eq!(
        summary(&sim.messages(app.conn)),
        vec![state(call, CallState::Connected(ConnectedMode::INACTIVE))]
    );
    // Back with UPDATE (RFC 3311): accepted the same way.
    let mut resume = provider.in_their_dialog(&invite, &ok, Method::Update, 3);
    resume.body = PEER_SDP.as_bytes().to_vec();
    sim.deliver(provider.at(), resume);
    assert_eq!(statuses(&sim.take_sip(provider.addr)), vec![200]);
    assert_eq!(
        summary(&sim.messages(app.conn)),
        vec![state(call, CallState::Connected(ConnectedMode::ACTIVE))]
    );
}

#[test]
fn an_offerless_reinvite_gets_a_full_sendrecv_offer() {
    let mut sim = Sim::one_line("");
    let mut provider = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (_call, invite, ok) = connected(&mut sim, &app, &provider);
    let reinvite = provider.in_their_dialog(&invite, &ok, Method::Invite, 2);
    sim.deliver(provider.at(), reinvite);
    let offer = response_with(&sim.take_sip(provider.addr), 200);
    let body = String::from_utf8_lossy(&offer.body).into_owned();
    assert!(
        body.contains("m=audio") && body.contains(" 0 8 101\r\n"),
        "{body}"
    );
    assert!(body.contains("a=sendrecv\r\n"), "RFC 6337 §5.3: {body}");
}

/// A NOTIFY of the peer's REFER subscription with a sipfrag status.
fn notify(peer: &mut SipPeer, invite: &Request, ok: &Response, seq: u32, frag: &str) -> Request {
    let mut n = peer.in_their_dialog(invite, ok, Method::Notify, seq);
    n.headers.push("Event", "refer");
    let state = if frag.starts_with('1') {
        "active"
    } else {
        "terminated;reason=noresource"
    };
    n.headers.push("Subscription-State", state);
    n.headers.content_type = Some("message/sipfrag;version=2.0".into());
    n.body = format!("SIP/2.0 {frag}\r\n").into_bytes();
    n
}

#[test]
fn blind_transfer_refers_waits_for_the_final_notify_then_byes() {
    let mut sim = Sim::one_line("");
    let mut provider = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (call, invite, ok) = connected(&mut sim, &app, &provider);
    sim.messages(app.conn);
    let transfer = call_fn(
        &mut sim,
        &app,
        Fn::LineBlindTransfer {
            call,
            dest: "3000".into(),
        },
    );
    let refer = only_request(sim.take_sip(provider.addr), Method::Refer);
    assert_eq!(
        refer.headers.get("Refer-To"),
        Some("<sip:3000@example.org>")
    );
    assert_eq!(
        refer.headers.get("Referred-By"),
        Some("<sip:1001@example.org>"),
        "RFC 3892"
    );
    sim.deliver(provider.at(), provider.response(&refer, 202, None));
    sim.deliver(
        provider.at(),
        notify(&mut provider, &invite, &ok, 2, "100 Trying"),
    );
    assert_eq!(statuses(&sim.take_sip(provider.addr)), vec![200]);
    assert!(sim.messages(app.conn).is_empty());
    sim.deliver(
        provider.at(),
        notify(&mut provider, &invite, &ok, 3, "200 OK"),
    );
    let sent = sim.take_sip(provider.addr);
    assert_eq!(statuses(&sent), vec![200]);
    let bye = sent
        .iter()
        .find_map(|m| match m {
            SipMessage::Request(r) if r.method == Method::Bye => Some(r.clone()),
            _ => None,
        })
        .expect("BYE after success");
    assert_eq!(
        summary(&sim.messages(app.conn)),
        vec![reply(transfer, 0)],
        "IDLE waits for the BYE's answer"
    );
    sim.deliver(provider.at(), provider.response(&bye, 200, None));
    assert_eq!(
        summary(&sim.messages(app.conn)),
        vec![state(call, CallState::Idle)],
        "no DISCONNECTED: we cleared the call"
    );
}

#[test]
fn a_failed_sipfrag_a_refused_refer_and_a_missing_notify_fail_the_transfer() {
    let mut sim = Sim::one_line("");
    let mut provider = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (call, invite, ok) = connected(&mut sim, &app, &provider);
    sim.messages(app.conn);
    let blind = |sim: &mut Sim| {
        call_fn(
            sim,
            &app,
            Fn::LineBlindTransfer {
                call,
                dest: "3000".into(),
            },
        )
    };
    let failed = LINEERR_OPERATIONFAILED.code();
    // sipfrag 486
    let t1 = blind(&mut sim);
    let refer = only_request(sim.take_sip(provider.addr), Method::Refer);
    sim.deliver(provider.at(), provider.response(&refer, 202, None));
    sim.deliver(
        provider.at(),
        notify(&mut provider, &invite, &ok, 2, "486 Busy Here"),
    );
    assert_eq!(summary(&sim.messages(app.conn)), vec![reply(t1, failed)]);
    assert!(
        !sim.take_sip(provider.addr)
            .iter()
            .any(|m| matches!(m, SipMessage::Request(r) if r.method == Method::Bye)),
        "the call stays up"
    );
    // REFER refused
    let t2 = blind(&mut sim);
    let refer = only_request(sim.take_sip(provider.addr), Method::Refer);
    sim.deliver(provider.at(), provider.response(&refer, 603, None));
    assert_eq!(summary(&sim.messages(app.conn)), vec![reply(t2, failed)]);
    // No final NOTIFY within 64*T1
    let t3 = blind(&mut sim);
    let refer = only_request(sim.take_sip(provider.addr), Method::Refer);
    sim.deliver(provider.at(), provider.response(&refer, 202, None));
    sim.advance(Duration::from_millis(31_900));
    assert!(sim.messages(app.conn).is_empty());
    sim.advance(Duration::from_millis(200));
    assert_eq!(summary(&sim.messages(app.conn)), vec![reply(t3, failed)]);
    assert_eq!(
        status(&mut sim, &app, call).state,
        Some(CallState::Connected(ConnectedMode::ACTIVE))
    );
}

#[test]
fn a_bye_after_the_202_completes_the_transfer_and_a_ringing_call_cannot_be_transferred() {
    let mut sim = Sim::one_line("");
    let mut provider = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (call, invite, ok) = connected(&mut sim, &app, &provider);
    sim.messages(app.conn);
    let transfer = call_fn(
        &mut sim,
        &app,
        Fn::LineBlindTransfer {
            call,
            dest: "3000".into(),
        },
    );
    let refer = only_request(sim.take_sip(provider.addr), Method::Refer);
    sim.deliver(provider.at(), provider.response(&refer, 202, None));
    let bye = provider.in_their_dialog(&invite, &ok, Method::Bye, 2);
    sim.deliver(provider.at(), bye);
    assert_eq!(statuses(&sim.take_sip(provider.addr)), vec![200]);
    assert_eq!(
        summary(&sim.messages(app.conn)),
        vec![reply(transfer, 0), state(call, CallState::Idle)]
    );
    // A call that is not connected yet refuses lineBlindTransfer.
    let (_, ringing) = make_call(&mut sim, &app, "2001");
    let invite = only_request(sim.take_sip(provider.addr), Method::Invite);
    sim.deliver(provider.at(), provider.response(&invite, 180, None));
    assert_eq!(
        sim.call(
            app.conn,
            Fn::LineBlindTransfer {
                call: ringing,
                dest: "3000".into()
            }
        ),
        Err(LINEERR_INVALCALLSTATE.into())
    );
}

#[test]
fn attended_transfer_refers_with_replaces_of_the_consultation_dialog() {
    let mut sim = Sim::one_line("");
    let mut provider = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (call, invite, ok) = connected(&mut sim, &app, &provider);
    sim.messages(app.conn);
    let Ok(Answer::SetupTransfer { request, consult }) =
        sim.call(app.conn, Fn::LineSetupTransfer { call })
    else {
        panic!("lineSetupTransfer")
    };
    let hold = only_request(sim.take_sip(provider.addr), Method::Invite);
    assert!(sdp_of(&hold).contains("a=sendonly"));
    assert!(
        sim.messages(app.conn).is_empty(),
        "nothing before the hold is confirmed"
    );
    accept_reinvite(&mut sim, &provider, &hold, "recvonly");
    assert_eq!(
        summary(&sim.messages(app.conn)),
        vec![
            state(call, CallState::OnHoldPendTransfer),
            reply(request.0, 0),
            state(consult, CallState::DialTone(DialToneMode::NORMAL)),
        ]
    );
    let dial = call_fn(
        &mut sim,
        &app,
        Fn::LineDial {
            call: consult,
            dest: "4000".into(),
        },
    );
    let consult_invite = only_request(sim.take_sip(provider.addr), Method::Invite);
    assert_eq!(consult_invite.uri.to_string(), "sip:4000@example.org");
    let mut target = SipPeer::new(provider.addr, provider.transport);
    target.tag = "target7".into();
    let consult_ok = target.response(&consult_invite, 200, Some(PEER_SDP));
    sim.deliver(provider.at(), consult_ok.clone());
    only_request(sim.take_sip(provider.addr), Method::Ack);
    let states = summary(&sim.messages(app.conn));
    assert_eq!(states[0], reply(dial, 0));
    assert!(status(&mut sim, &app, call)
        .features
        .contains(CallFeatures::COMPLETETRANSF));
    let complete = call_fn(
        &mut sim,
        &app,
        Fn::LineCompleteTransfer {
            call,
            consult,
            mode: LINETRANSFERMODE_TRANSFER,
        },
    );
    let refer = only_request(sim.take_sip(provider.addr), Method::Refer);
    let refer_to = refer.headers.get("Refer-To").unwrap().to_string();
    let escaped = format!(
        "?Replaces={}%3Bto-tag%3Dtarget7%3Bfrom-tag%3D{}",
        consult_invite.headers.call_id.replace('@', "%40"),
        consult_invite.headers.from.tag().unwrap()
    );
    assert!(refer_to.contains(&escaped), "{refer_to} lacks {escaped}");
    assert_eq!(
        refer.headers.call_id, invite.headers.call_id,
        "sent on the original"
    );
    sim.deliver(provider.at(), provider.response(&refer, 202, None));
    sim.deliver(
        provider.at(),
        notify(&mut provider, &invite, &ok, 2, "200 OK"),
    );
    let byes: Vec<Request> = sim
        .take_sip(provider.addr)
        .into_iter()
        .filter_map(|m| match m {
            SipMessage::Request(r) if r.method == Method::Bye => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(byes.len(), 2, "both calls cleared");
    for bye in &byes {
        sim.deliver(provider.at(), provider.response(bye, 200, None));
    }
    let end = summary(&sim.messages(app.conn));
    assert_eq!(end[0], reply(complete, 0));
    assert!(end.contains(&state(call, CallState::Idle)));
    assert!(end.contains(&state(consult, CallState::Idle)));
    assert!(
        !end.iter()
            .any(|(id, _, p1, _)| *id == LINE_CALLSTATE && *p1 == LINECALLSTATE_DISCONNECTED),
        "{end:?}"
    );
}

#[test]
fn dropping_the_consultation_call_resumes_the_original() {
    let mut sim = Sim::one_line("");
    let provider = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (call, _, _) = connected(&mut sim, &app, &provider);
    let Ok(Answer::SetupTransfer { consult, .. }) =
        sim.call(app.conn, Fn::LineSetupTransfer { call })
    else {
        panic!()
    };
    let hold = only_request(sim.take_sip(provider.addr), Method::Invite);
    accept_reinvite(&mut sim, &provider, &hold, "recvonly");
    sim.messages(app.conn);
    let drop = call_fn(&mut sim, &app, Fn::LineDrop { call: consult });
    let unhold = only_request(sim.take_sip(provider.addr), Method::Invite);
    assert!(sdp_of(&unhold).contains("a=sendrecv"));
    accept_reinvite(&mut sim, &provider, &unhold, "sendrecv");
    assert_eq!(
        summary(&sim.messages(app.conn)),
        vec![
            reply(drop, 0),
            state(consult, CallState::Idle),
            state(call, CallState::Connected(ConnectedMode::ACTIVE)),
        ],
        "no LINE_REPLY for the resume: nobody asked for it"
    );
}

#[test]
fn being_transferred_by_refer_places_the_new_call_and_notifies_the_referrer() {
    let mut sim = Sim::one_line("");
    let mut provider = sim.peer(PROVIDER);
    let owner = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (call, invite, ok) = connected(&mut sim, &owner, &provider);
    sim.messages(owner.conn);
    let mut refer = provider.in_their_dialog(&invite, &ok, Method::Refer, 2);
    refer.headers.push("Refer-To", "<sip:5000@example.org>");
    refer.headers.push("Referred-By", "<sip:2000@example.org>");
    sim.deliver(provider.at(), refer);
    let sent = sim.take_sip(provider.addr);
    assert_eq!(statuses(&sent), vec![202]);
    let requests: Vec<Request> = sent
        .into_iter()
        .filter_map(|m| match m {
            SipMessage::Request(r) => Some(r),
            _ => None,
        })
        .collect();
    let trying = requests
        .iter()
        .find(|r| r.method == Method::Notify)
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&trying.body),
        "SIP/2.0 100 Trying\r\n"
    );
    assert!(trying.headers.get("Event").unwrap().starts_with("refer"));
    let new_invite = requests
        .iter()
        .find(|r| r.method == Method::Invite)
        .unwrap();
    assert_eq!(new_invite.uri.to_string(), "sip:5000@example.org");
    assert_eq!(
        new_invite.headers.get("Referred-By"),
        Some("<sip:2000@example.org>"),
        "copied from the REFER (RFC 3892 §3)"
    );
    let messages = sim.messages(owner.conn);
    assert_eq!(messages[0].dw_message_id, LINE_APPNEWCALL);
    let new_call = HCall(messages[0].dw_param2);
    assert_eq!(messages[0].dw_param3, LINECALLPRIVILEGE_OWNER);
    match sim.call(owner.conn, Fn::LineGetCallInfo { call: new_call }) {
        Ok(Answer::CallInfo(info)) => assert_eq!(info.reason, LINECALLREASON_TRANSFER),
        other => panic!("{other:?}"),
    }
    let mut target = SipPeer::new(provider.addr, provider.transport);
    target.tag = "t5000".into();
    sim.deliver(
        provider.at(),
        target.response(new_invite, 200, Some(PEER_SDP)),
    );
    let sent = sim.take_sip(provider.addr);
    let final_notify = sent
        .iter()
        .find_map(|m| match m {
            SipMessage::Request(r) if r.method == Method::Notify => Some(r.clone()),
            _ => None,
        })
        .expect("NOTIFY with the final status");
    assert_eq!(
        String::from_utf8_lossy(&final_notify.body),
        "SIP/2.0 200 OK\r\n"
    );
    assert!(final_notify
        .headers
        .get("Subscription-State")
        .unwrap()
        .starts_with("terminated"));
    // The referrer hangs up the old call.
    let bye = provider.in_their_dialog(&invite, &ok, Method::Bye, 3);
    sim.deliver(provider.at(), bye);
    let old = summary(&sim.messages(owner.conn));
    assert!(old.contains(&state(
        new_call,
        CallState::Connected(ConnectedMode::ACTIVE)
    )));
    assert!(old.contains(&state(
        call,
        CallState::Disconnected(DisconnectMode::NORMAL)
    )));
}

#[test]
fn refer_is_declined_when_the_line_says_so() {
    let mut sim = Sim::one_line("accept_refer = false");
    let mut provider = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (_, invite, ok) = connected(&mut sim, &app, &provider);
    let mut refer = provider.in_their_dialog(&invite, &ok, Method::Refer, 2);
    refer.headers.push("Refer-To", "<sip:5000@example.org>");
    sim.deliver(provider.at(), refer);
    assert_eq!(statuses(&sim.take_sip(provider.addr)), vec![603]);
}

#[test]
fn an_invite_with_replaces_takes_over_a_confirmed_call_and_unknown_or_early_ones_get_481() {
    let mut sim = Sim::one_line("");
    let gw = sim.gateway_addr();
    let mut caller = sim.peer(PROVIDER);
    let owner = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let invite = caller.invite(gw, "1001", Some(PEER_SDP));
    sim.deliver(caller.at(), invite.clone());
    let call = HCall(sim.messages(owner.conn)[0].dw_param2);
    sim.take_sip(caller.addr);
    // Early (offered, not answered): 481.
    let our_tag_early = {
        sim.call(owner.conn, Fn::LineAccept { call }).unwrap();
        sim.messages(owner.conn);
        "unknown"
    };
    let mut early = SipPeer::new("127.0.0.1:5072".parse().unwrap(), caller.transport);
    let mut replacing = early.invite(gw, "1001", Some(PEER_SDP));
    replacing.headers.push(
        "Replaces",
        format!(
            "{};to-tag={our_tag_early};from-tag={}",
            invite.headers.call_id, caller.tag
        ),
    );
    sim.deliver(early.at(), replacing);
    assert_eq!(statuses(&sim.take_sip(early.addr)), vec![100, 481]);
    // Confirmed: the new call replaces it.
    let answer = call_fn(&mut sim, &owner, Fn::LineAnswer { call });
    let ok = response_with(&sim.take_sip(caller.addr), 200);
    sim.deliver(
        caller.at(),
        caller.in_our_dialog(&invite, &ok, Method::Ack, 1),
    );
    assert_eq!(summary(&sim.messages(owner.conn))[0], reply(answer, 0));
    let mut replacing = early.invite(gw, "1001", Some(PEER_SDP));
    replacing.headers.push(
        "Replaces",
        format!(
            "{};to-tag={};from-tag={}",
            invite.headers.call_id,
            ok.headers.to.tag().unwrap(),
            caller.tag
        ),
    );
    sim.deliver(early.at(), replacing);
    assert_eq!(
        statuses(&sim.take_sip(early.addr)),
        vec![100, 200],
        "answered at once"
    );
    only_request(sim.take_sip(caller.addr), Method::Bye);
    let messages = sim.messages(owner.conn);
    assert_eq!(messages[0].dw_message_id, LINE_APPNEWCALL);
    let new_call = HCall(messages[0].dw_param2);
    assert_eq!(
        summary(&messages[1..]),
        vec![
            state(new_call, CallState::Connected(ConnectedMode::ACTIVE)),
            state(call, CallState::Disconnected(DisconnectMode::NORMAL)),
            state(call, CallState::Idle),
        ]
    );
    match sim.call(owner.conn, Fn::LineGetCallInfo { call: new_call }) {
        Ok(Answer::CallInfo(info)) => assert_eq!(info.reason, LINECALLREASON_TRANSFER),
        other => panic!("{other:?}"),
    }
    // Nothing matching: 481.
    let mut stray = early.invite(gw, "1001", Some(PEER_SDP));
    stray
        .headers
        .push("Replaces", "nosuchcall@x;to-tag=a;from-tag=b");
    sim.deliver(early.at(), stray);
    assert_eq!(statuses(&sim.take_sip(early.addr)), vec![100, 481]);
}

fn forward(sim: &mut Sim, app: &App, mode: u32, dest: &str, rings: u32) -> u32 {
    call_fn(
        sim,
        app,
        Fn::LineForward {
            line: app.line,
            all_addresses: true,
            forwards: vec![ForwardEntry {
                mode,
                dest: dest.into(),
            }],
            num_rings_no_answer: rings,
        },
    )
}

#[test]
fn forwarding_unconditional_busy_and_on_no_answer() {
    let mut sim = Sim::one_line("");
    let gw = sim.gateway_addr();
    let mut caller = sim.peer(PROVIDER);
    let owner = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    sim.call(
        owner.conn,
        Fn::LineSetStatusMessages {
            line: owner.line,
            line_states: crate::tapi::LineDevStates::NONE,
            address_states: crate::tapi::AddressStates::FORWARD,
        },
    )
    .unwrap();
    let request = forward(&mut sim, &owner, LINEFORWARDMODE_UNCOND, "6000", 0);
    assert_eq!(
        summary(&sim.messages(owner.conn)),
        vec![
            reply(request, 0),
            (LINE_ADDRESSSTATE, owner.line.0, 0, LINEADDRESSSTATE_FORWARD)
        ]
    );
    let invite = caller.invite(gw, "1001", Some(PEER_SDP));
    sim.deliver(caller.at(), invite.clone());
    let moved = response_with(&sim.take_sip(caller.addr), 302);
    sim.deliver(caller.at(), caller.ack_final(&invite, &moved));
    assert_eq!(
        moved.headers.contact[0].uri.to_string(),
        "sip:6000@example.org"
    );
    assert_eq!(
        moved.headers.get("Diversion"),
        Some("<sip:1001@example.org>;reason=unconditional;counter=1")
    );
    assert!(sim.messages(owner.conn).is_empty(), "the app sees no call");
    // No answer within 2 rings of 6 s.
    forward(&mut sim, &owner, LINEFORWARDMODE_NOANSW, "6001", 2);
    sim.messages(owner.conn);
    sim.deliver(caller.at(), caller.invite(gw, "1001", Some(PEER_SDP)));
    let call = HCall(sim.messages(owner.conn)[0].dw_param2);
    assert_eq!(statuses(&sim.take_sip(caller.addr)), vec![100, 180]);
    sim.advance(Duration::from_millis(11_999));
    assert!(sim.take_sip(caller.addr).is_empty());
    sim.advance(Duration::from_millis(1));
    let moved = response_with(&sim.take_sip(caller.addr), 302);
    assert!(moved
        .headers
        .get("Diversion")
        .unwrap()
        .contains("reason=no-answer"));
    assert_eq!(
        summary(&sim.messages(owner.conn)),
        vec![
            state(call, CallState::Disconnected(DisconnectMode::FORWARDED)),
            state(call, CallState::Idle),
        ]
    );
    // Busy: only while the line has a call.
    forward(&mut sim, &owner, LINEFORWARDMODE_BUSY, "6002", 0);
    sim.messages(owner.conn);
    sim.deliver(caller.at(), caller.invite(gw, "1001", Some(PEER_SDP)));
    let first = HCall(sim.messages(owner.conn)[0].dw_param2);
    assert_eq!(statuses(&sim.take_sip(caller.addr)), vec![100, 180]);
    sim.deliver(caller.at(), caller.invite(gw, "1001", Some(PEER_SDP)));
    let moved = response_with(&sim.take_sip(caller.addr), 302);
    assert!(moved
        .headers
        .get("Diversion")
        .unwrap()
        .contains("reason=user-busy"));
    let status = status(&mut sim, &owner, first);
    assert_eq!(
        status.state,
        Some(CallState::Offering(OfferingMode::ACTIVE))
    );
    // An empty list cancels.
    call_fn(
        &mut sim,
        &owner,
        Fn::LineForward {
            line: owner.line,
            all_addresses: true,
            forwards: vec![],
            num_rings_no_answer: 0,
        },
    );
    sim.deliver(caller.at(), caller.invite(gw, "1001", Some(PEER_SDP)));
    assert_eq!(statuses(&sim.take_sip(caller.addr)), vec![100, 180]);
}

#[test]
fn swap_hold_holds_one_resumes_the_other_with_one_reply() {
    let mut sim = Sim::one_line("");
    let provider = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (first, _, _) = connected(&mut sim, &app, &provider);
    call_fn(&mut sim, &app, Fn::LineHold { call: first });
    let hold = only_request(sim.take_sip(provider.addr), Method::Invite);
    accept_reinvite(&mut sim, &provider, &hold, "recvonly");
    sim.messages(app.conn);
    let (second, _, _) = connected(&mut sim, &app, &provider);
    sim.messages(app.conn);
    assert!(status(&mut sim, &app, second)
        .features
        .contains(CallFeatures::SWAPHOLD));
    let swap = call_fn(
        &mut sim,
        &app,
        Fn::LineSwapHold {
            active: second,
            held: first,
        },
    );
    let hold = only_request(sim.take_sip(provider.addr), Method::Invite);
    assert!(sdp_of(&hold).contains("a=sendonly"));
    let sdp = PEER_SDP.replace("a=fmtp", "a=recvonly\r\na=fmtp");
    sim.deliver(provider.at(), provider.response(&hold, 200, Some(&sdp)));
    let sent = sim.take_sip(provider.addr);
    let methods: Vec<Method> = sent
        .iter()
        .filter_map(|m| match m {
            SipMessage::Request(r) => Some(r.method.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        methods,
        vec![Method::Ack, Method::Invite],
        "the resume follows the hold"
    );
    let resume = only_request(vec![sent[1].clone()], Method::Invite);
    assert!(sdp_of(&resume).contains("a=sendrecv"));
    accept_reinvite(&mut sim, &provider, &resume, "sendrecv");
    assert_eq!(
        summary(&sim.messages(app.conn)),
        vec![
            state(second, CallState::OnHold),
            state(first, CallState::Connected(ConnectedMode::ACTIVE)),
            reply(swap, 0),
        ]
    );
}

#[test]
fn monitors_cannot_control_calls() {
    let mut sim = Sim::one_line("");
    let gw = sim.gateway_addr();
    let mut caller = sim.peer(PROVIDER);
    let _owner = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let monitor = open_app(&mut sim, LINECALLPRIVILEGE_MONITOR);
    sim.deliver(caller.at(), caller.invite(gw, "1001", Some(PEER_SDP)));
    let watched = HCall(sim.messages(monitor.conn)[0].dw_param2);
    for request in [
        Fn::LineHold { call: watched },
        Fn::LineBlindTransfer {
            call: watched,
            dest: "1".into(),
        },
        Fn::LineSetupTransfer { call: watched },
    ] {
        assert_eq!(
            sim.call(monitor.conn, request),
            Err(LINEERR_NOTOWNER.into())
        );
    }
    assert_eq!(
        status(&mut sim, &monitor, watched).features,
        CallFeatures::NONE
    );
}
