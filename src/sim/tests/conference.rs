//! lineCompleteTransfer(CONFERENCE) in virtual time: the original is resumed, both parties go
//! CONFERENCED with the app's conference handle, the conference call CONNECTED, the engine
//! mixes them; a party that hangs up leaves the mix; lineDrop of the conference hangs up the rest.

use super::*;
use crate::media::MediaCommand;
use crate::sim::peer::PEER_SDP;
use crate::sim::PROVIDER;
use crate::tapi::{ConnectedMode, DialToneMode, DisconnectMode};

fn accept_reinvite(sim: &mut Sim, provider: &SipPeer, reinvite: &Request, direction: &str) {
    let sdp = PEER_SDP.replace("a=fmtp", &format!("a={direction}\r\na=fmtp"));
    sim.deliver(provider.at(), provider.response(reinvite, 200, Some(&sdp)));
    only_request(sim.take_sip(provider.addr), Method::Ack);
}

/// LINE_CALLINFO(RELATEDCALLID) on `h`.
fn related(h: HCall) -> (u32, u32, u32, u32) {
    (LINE_CALLINFO, h.0, LINECALLINFOSTATE_RELATEDCALLID, 0)
}

fn conferences(cmds: Vec<MediaCommand>) -> Vec<(u64, Vec<u64>)> {
    cmds.into_iter()
        .filter_map(|c| match c {
            MediaCommand::Conference { conf, members } => Some((conf, members)),
            _ => None,
        })
        .collect()
}

/// A conference of an outbound call and its consultation call, up: what the tests need of it.
struct Up {
    sim: Sim,
    provider: SipPeer,
    target: SipPeer,
    app: App,
    call: HCall,
    consult: HCall,
    conf: HCall,
    invite: Request,
    consult_invite: Request,
    consult_ok: Response,
}

fn conference_up() -> Up {
    let mut sim = Sim::one_line_with_media("");
    let provider = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (request, call) = make_call(&mut sim, &app, "2000");
    let invite = only_request(sim.take_sip(provider.addr), Method::Invite);
    sim.deliver(
        provider.at(),
        provider.response(&invite, 200, Some(PEER_SDP)),
    );
    only_request(sim.take_sip(provider.addr), Method::Ack);
    assert_eq!(summary(&sim.messages(app.conn))[0], reply(request, 0));
    let Ok(Answer::SetupTransfer { consult, .. }) =
        sim.call(app.conn, Fn::LineSetupTransfer { call })
    else {
        panic!("lineSetupTransfer")
    };
    let hold = only_request(sim.take_sip(provider.addr), Method::Invite);
    accept_reinvite(&mut sim, &provider, &hold, "recvonly");
    assert!(summary(&sim.messages(app.conn))
        .contains(&state(consult, CallState::DialTone(DialToneMode::NORMAL))));
    let dial = Fn::LineDial {
        call: consult,
        dest: "4000".into(),
    };
    call_fn(&mut sim, &app, dial);
    let consult_invite = only_request(sim.take_sip(provider.addr), Method::Invite);
    let mut target = SipPeer::new(provider.addr, provider.transport);
    target.tag = "target7".into();
    let consult_ok = target.response(&consult_invite, 200, Some(PEER_SDP));
    sim.deliver(provider.at(), consult_ok.clone());
    only_request(sim.take_sip(provider.addr), Method::Ack);
    sim.messages(app.conn);
    let opened: Vec<u64> = sim
        .take_media()
        .into_iter()
        .filter_map(|c| match c {
            MediaCommand::Open { call, .. } => Some(call),
            _ => None,
        })
        .collect();
    assert_eq!(opened.len(), 2, "both calls have a session");

    let complete = Fn::LineCompleteTransfer {
        call,
        consult,
        mode: LINETRANSFERMODE_CONFERENCE,
    };
    let Ok(Answer::Conference { request, conf }) = sim.call(app.conn, complete) else {
        panic!("lineCompleteTransfer(CONFERENCE)")
    };
    let resume = only_request(sim.take_sip(provider.addr), Method::Invite);
    assert!(String::from_utf8_lossy(&resume.body).contains("a=sendrecv"));
    assert!(
        sim.messages(app.conn).is_empty(),
        "nothing before the resume"
    );
    accept_reinvite(&mut sim, &provider, &resume, "sendrecv");
    let joined = sim.messages(app.conn);
    let conferenced = |h: HCall| (LINE_CALLSTATE, h.0, LINECALLSTATE_CONFERENCED, conf.0);
    let seen = summary(&joined);
    assert!(seen.contains(&conferenced(call)), "{seen:?}");
    assert!(seen.contains(&conferenced(consult)), "{seen:?}");
    assert!(seen.contains(&related(call)) && seen.contains(&related(consult)));
    let conf_id = call_info(&mut sim, &app, conf).call_id;
    assert_eq!(
        call_info(&mut sim, &app, consult).related_call_id,
        conf_id.0
    );
    assert_eq!(
        call_info(&mut sim, &app, conf).origin,
        LINECALLORIGIN_CONFERENCE
    );
    let at_reply = seen.iter().position(|m| *m == reply(request.0, 0)).unwrap();
    let connected = state(conf, CallState::Connected(ConnectedMode::ACTIVE));
    let at_connected = seen.iter().position(|m| *m == connected).unwrap();
    assert!(
        at_reply < at_connected,
        "LINE_REPLY before the conference's first state"
    );
    let mix = conferences(sim.take_media());
    assert_eq!(mix.len(), 1);
    let mut members = mix[0].1.clone();
    members.sort();
    let mut both = opened.clone();
    both.sort();
    assert_eq!(members, both, "each party hears the other");
    let features = match sim.call(app.conn, Fn::LineGetCallStatus { call: conf }) {
        Ok(Answer::CallStatus(s)) => s.features,
        other => panic!("{other:?}"),
    };
    assert_eq!(features, crate::tapi::CallFeatures::DROP);

    Up {
        sim,
        provider,
        target,
        app,
        call,
        consult,
        conf,
        invite,
        consult_invite,
        consult_ok,
    }
}

#[test]
fn complete_transfer_conference_joins_both_parties_in_the_mix() {
    let Up {
        mut sim,
        provider,
        mut target,
        app,
        call,
        consult,
        conf,
        invite,
        consult_invite,
        consult_ok,
    } = conference_up();
    // lineRemoveFromConference: the consultation party is CONNECTED again, out of the mix.
    let remove = call_fn(
        &mut sim,
        &app,
        Fn::LineRemoveFromConference { call: consult },
    );
    let back = summary(&sim.messages(app.conn));
    assert_eq!(
        back,
        vec![
            related(consult),
            state(consult, CallState::Connected(ConnectedMode::ACTIVE)),
            reply(remove, 0)
        ]
    );
    let mix = conferences(sim.take_media());
    assert_eq!(mix.len(), 1);
    assert_eq!(mix[0].1.len(), 1);
    let again = Fn::LineRemoveFromConference { call: consult };
    assert_eq!(
        sim.call(app.conn, again),
        Err(crate::tapi::LINEERR_INVALCALLSTATE.into())
    );

    // The consultation party hangs up: the conference is not concerned.
    let bye = target.in_their_dialog(&consult_invite, &consult_ok, Method::Bye, 2);
    sim.deliver(provider.at(), bye);
    assert_eq!(statuses(&sim.take_sip(provider.addr)), vec![200]);
    let left = summary(&sim.messages(app.conn));
    assert!(left.contains(&state(consult, CallState::Idle)), "{left:?}");
    assert!(!left.iter().any(|m| m.1 == conf.0), "{left:?}");
    assert!(conferences(sim.take_media()).is_empty());

    // lineDrop of the conference call: BYE to the remaining party, the conference IDLE.
    let drop = call_fn(&mut sim, &app, Fn::LineDrop { call: conf });
    let bye = only_request(sim.take_sip(provider.addr), Method::Bye);
    assert_eq!(bye.headers.call_id, invite.headers.call_id);
    sim.deliver(provider.at(), provider.response(&bye, 200, None));
    let end = summary(&sim.messages(app.conn));
    assert!(end.contains(&reply(drop, 0)), "{end:?}");
    assert!(end.contains(&state(conf, CallState::Idle)), "{end:?}");
    assert!(end.contains(&state(call, CallState::Idle)), "{end:?}");
    assert!(!end.contains(&state(
        conf,
        CallState::Disconnected(DisconnectMode::NORMAL)
    )));
    let mix = conferences(sim.take_media());
    assert!(mix.iter().any(|(_, m)| m.is_empty()), "dissolved: {mix:?}");
}

#[test]
fn conference_needs_the_transfer_set_up() {
    let mut sim = Sim::one_line_with_media("");
    let provider = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (_, call) = make_call(&mut sim, &app, "2000");
    let invite = only_request(sim.take_sip(provider.addr), Method::Invite);
    sim.deliver(
        provider.at(),
        provider.response(&invite, 200, Some(PEER_SDP)),
    );
    only_request(sim.take_sip(provider.addr), Method::Ack);
    let complete = Fn::LineCompleteTransfer {
        call,
        consult: call,
        mode: LINETRANSFERMODE_CONFERENCE,
    };
    assert_eq!(
        sim.call(app.conn, complete),
        Err(crate::tapi::LINEERR_INVALCALLSTATE.into())
    );
}

#[test]
fn a_party_that_hangs_up_leaves_the_mix_and_the_last_one_ends_the_conference() {
    let Up {
        mut sim,
        provider,
        mut target,
        app,
        call,
        consult,
        conf,
        invite,
        consult_invite,
        consult_ok,
    } = conference_up();
    let bye = target.in_their_dialog(&consult_invite, &consult_ok, Method::Bye, 2);
    sim.deliver(provider.at(), bye);
    assert_eq!(statuses(&sim.take_sip(provider.addr)), vec![200]);
    let left = summary(&sim.messages(app.conn));
    assert!(left.contains(&state(consult, CallState::Idle)), "{left:?}");
    assert!(
        !left.iter().any(|m| m.1 == conf.0),
        "the conference stays: {left:?}"
    );
    let mix = conferences(sim.take_media());
    assert_eq!(mix.len(), 1);
    assert_eq!(mix[0].1.len(), 1, "one party left in the mix");
    let mut provider = provider;
    let ok = provider.response(&invite, 200, Some(PEER_SDP));
    let bye = provider.in_their_dialog(&invite, &ok, Method::Bye, 3);
    sim.deliver(provider.at(), bye);
    let end = summary(&sim.messages(app.conn));
    assert!(end.contains(&state(call, CallState::Idle)), "{end:?}");
    let conf_end = vec![
        state(conf, CallState::Disconnected(DisconnectMode::NORMAL)),
        state(conf, CallState::Idle),
    ];
    let conf_seen: Vec<_> = end.into_iter().filter(|m| m.1 == conf.0).collect();
    assert_eq!(conf_seen, conf_end);
}

#[test]
fn a_third_call_added_to_the_conference_is_mixed_with_the_others() {
    let Up {
        mut sim,
        provider,
        app,
        call,
        conf,
        ..
    } = conference_up();
    let (request, third) = make_call(&mut sim, &app, "5000");
    let invite = only_request(sim.take_sip(provider.addr), Method::Invite);
    let mut other = SipPeer::new(provider.addr, provider.transport);
    other.tag = "third9".into();
    sim.deliver(provider.at(), other.response(&invite, 200, Some(PEER_SDP)));
    only_request(sim.take_sip(provider.addr), Method::Ack);
    assert_eq!(summary(&sim.messages(app.conn))[0], reply(request, 0));
    sim.take_media();
    let add = |add_call| Fn::LineAddToConference {
        conf_call: conf,
        add_call,
    };
    assert_eq!(
        sim.call(app.conn, add(call)),
        Err(crate::tapi::LINEERR_INVALCALLSTATE.into()),
        "already a party"
    );
    let request = call_fn(&mut sim, &app, add(third));
    assert_eq!(
        summary(&sim.messages(app.conn)),
        vec![
            (LINE_CALLSTATE, third.0, LINECALLSTATE_CONFERENCED, conf.0),
            related(third),
            reply(request, 0)
        ]
    );
    let mix = conferences(sim.take_media());
    assert_eq!(mix.len(), 1);
    assert_eq!(
        mix[0].1.len(),
        3,
        "three parties, each hears the two others"
    );
}

#[test]
fn setup_conference_then_add_the_consultation_call_then_prepare_another() {
    let mut sim = Sim::one_line_with_media("");
    let provider = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (request, call) = make_call(&mut sim, &app, "2000");
    let invite = only_request(sim.take_sip(provider.addr), Method::Invite);
    sim.deliver(
        provider.at(),
        provider.response(&invite, 200, Some(PEER_SDP)),
    );
    only_request(sim.take_sip(provider.addr), Method::Ack);
    assert_eq!(summary(&sim.messages(app.conn))[0], reply(request, 0));
    sim.take_media();
    let Ok(Answer::SetupConference {
        request,
        conf,
        consult,
    }) = sim.call(app.conn, Fn::LineSetupConference { call })
    else {
        panic!("lineSetupConference")
    };
    assert!(
        requests(sim.take_sip(provider.addr)).is_empty(),
        "no hold: the mix is ours"
    );
    assert_eq!(
        summary(&sim.messages(app.conn)),
        vec![
            reply(request.0, 0),
            state(conf, CallState::OnHoldPendConf),
            state(consult, CallState::DialTone(DialToneMode::NORMAL)),
            (LINE_CALLSTATE, call.0, LINECALLSTATE_CONFERENCED, conf.0),
            related(call),
        ]
    );
    let dial = Fn::LineDial {
        call: consult,
        dest: "4000".into(),
    };
    call_fn(&mut sim, &app, dial);
    let consult_invite = only_request(sim.take_sip(provider.addr), Method::Invite);
    let mut target = SipPeer::new(provider.addr, provider.transport);
    target.tag = "target7".into();
    sim.deliver(
        provider.at(),
        target.response(&consult_invite, 200, Some(PEER_SDP)),
    );
    only_request(sim.take_sip(provider.addr), Method::Ack);
    sim.messages(app.conn);
    sim.take_media();
    let add = Fn::LineAddToConference {
        conf_call: conf,
        add_call: consult,
    };
    let added = call_fn(&mut sim, &app, add);
    assert_eq!(
        summary(&sim.messages(app.conn)),
        vec![
            (LINE_CALLSTATE, consult.0, LINECALLSTATE_CONFERENCED, conf.0),
            related(consult),
            reply(added, 0),
            state(conf, CallState::Connected(ConnectedMode::ACTIVE)),
        ]
    );
    let mix = conferences(sim.take_media());
    assert_eq!(mix.last().map(|m| m.1.len()), Some(2));

    // linePrepareAddToConference: ONHOLDPENDCONF again, with a new consultation call.
    let Ok(Answer::PrepareAdd { request, add }) =
        sim.call(app.conn, Fn::LinePrepareAddToConference { conf_call: conf })
    else {
        panic!("linePrepareAddToConference")
    };
    assert_eq!(
        summary(&sim.messages(app.conn)),
        vec![
            state(conf, CallState::OnHoldPendConf),
            reply(request.0, 0),
            state(add, CallState::DialTone(DialToneMode::NORMAL)),
        ]
    );
}
