//! Sessions that survive a dropped connection, in virtual time: a connection dropped during a
//! call's set-up, a LINE_REPLY completed while the app is away, the replay order across the
//! seam, a queue overflow while away, the grace period running out (fake clock), a take-over
//! by a second connection, event mode, and apps without `resumable` (version 1 unchanged).

use std::time::Duration;

use super::*;
use crate::sim::peer::PEER_SDP;
use crate::sim::{SipPeer, PROVIDER};
use crate::tapi::{
    ConnectedMode, Output, ReplyTag, SessionId, Stamp, TapiErr, LINEERR_INVALAPPHANDLE,
    LINEERR_OPERATIONFAILED, PHONEERR_INVALAPPHANDLE,
};

/// One line on [`PROVIDER`], with extra `[api]` keys.
fn sim_with_api(api: &str) -> Sim {
    Sim::new(&format!(
        "{api}\n[[lines]]\nname = \"Line 1\"\nuser = \"1001\"\ndomain = \"example.org\"\nproxy = \"{PROVIDER}\"\n"
    ))
}

/// lineInitializeEx on `conn`: (hLineApp, sessionId).
fn init(sim: &mut Sim, conn: ConnId, options: u32, resumable: bool) -> (HLineApp, SessionId) {
    match sim.call(
        conn,
        Fn::LineInitializeEx {
            app_name: "crm".into(),
            api_version: API_VERSION_HIGH,
            options,
            completion_key: 9,
            resumable,
        },
    ) {
        Ok(Answer::LineInitialized { app, session, .. }) => (app, session),
        other => panic!("lineInitializeEx: {other:?}"),
    }
}

/// An app with line 0 open as owner: (app, sessionId).
fn app_with_line(sim: &mut Sim, options: u32, resumable: bool) -> (App, SessionId) {
    let conn = sim.connect();
    let (app, session) = init(sim, conn, options, resumable);
    let Ok(Answer::LineOpened(line)) = sim.call(
        conn,
        Fn::LineOpen {
            app,
            device: 0,
            api_version: API_VERSION_HIGH,
            callback_instance: 5,
            privileges: LINECALLPRIVILEGE_OWNER,
            media_modes: LINEMEDIAMODE_INTERACTIVEVOICE,
        },
    ) else {
        panic!("lineOpen failed")
    };
    (App { conn, app, line }, session)
}

/// What a connection received, in order: `Ok((seq, summary))` for a message, `Err(result)` for
/// a response, with the stamp checked to name `app`.
type Received = Result<(u64, (u32, u32, u32, u32)), Result<Answer, TapiErr>>;

fn received(sim: &mut Sim, conn: ConnId, app: HLineApp) -> Vec<Received> {
    sim.take_outputs(conn)
        .into_iter()
        .filter_map(|o| match o {
            Output::Message { message, stamp, .. } => {
                assert_eq!(
                    (stamp.app, stamp.phone),
                    (app.0, false),
                    "the stamp names the app"
                );
                Some(Ok((stamp.seq, summary(&[message])[0])))
            }
            Output::Response { result, .. } => Some(Err(result)),
            _ => None,
        })
        .collect()
}

/// The messages of `received`, with their seqs.
fn numbered(received: &[Received]) -> Vec<(u64, (u32, u32, u32, u32))> {
    received.iter().filter_map(|r| r.clone().ok()).collect()
}

fn resume(sim: &mut Sim, conn: ConnId, session: &SessionId, last_seq: u64) -> ReplyTag {
    sim.send(
        conn,
        Fn::LineResume {
            session: session.clone(),
            last_seq,
        },
    )
}

/// The answer to a resume sent on a fresh connection (taken from its outputs).
fn resume_fails(sim: &mut Sim, session: &SessionId) -> TapiErr {
    let conn = sim.connect();
    let tag = resume(sim, conn, session, 0);
    match sim.take_response(conn, &tag) {
        Some(Err(e)) => e,
        other => panic!("resume should fail: {other:?}"),
    }
}

/// An answered outbound call: its INVITE and hCall.
fn connected_call(
    sim: &mut Sim,
    app: &App,
    provider: &SipPeer,
) -> (crate::sip::message::Request, HCall) {
    let (_, call) = make_call(sim, app, "2000");
    let invite = only_request(sim.take_sip(provider.addr), Method::Invite);
    sim.deliver(
        provider.at(),
        provider.response(&invite, 200, Some(PEER_SDP)),
    );
    only_request(sim.take_sip(provider.addr), Method::Ack);
    (invite, call)
}

#[test]
fn a_drop_during_set_up_keeps_the_call_and_the_resume_replays_reply_and_states() {
    let mut sim = sim_with_api("");
    let provider = sim.peer(PROVIDER);
    let (app, session) = app_with_line(&mut sim, LINEINITIALIZEEXOPTION_USEHIDDENWINDOW, true);
    assert_eq!(session.as_str().len(), 32);
    let (request, call) = make_call(&mut sim, &app, "2000");
    let invite = only_request(sim.take_sip(provider.addr), Method::Invite);
    sim.disconnect(app.conn);
    assert!(
        sim.take_sip(provider.addr).is_empty(),
        "no CANCEL: the call stays up"
    );
    assert_eq!(sim.gw.session_stats().kept, 1);
    assert_eq!(sim.gw.session_stats().detached, 1);

    sim.deliver(provider.at(), provider.response(&invite, 180, None));
    sim.deliver(
        provider.at(),
        provider.response(&invite, 200, Some(PEER_SDP)),
    );
    only_request(sim.take_sip(provider.addr), Method::Ack);

    let conn = sim.connect();
    let tag = resume(&mut sim, conn, &session, 0);
    let got = received(&mut sim, conn, app.app);
    assert_eq!(
        got[0],
        Err(Ok(Answer::Resumed {
            app: app.app.0,
            phone: false
        })),
        "the response comes before the replayed messages"
    );
    assert!(sim.take_response(conn, &tag).is_none());
    assert_eq!(
        numbered(&got),
        vec![
            (1, reply(request, 0)),
            (2, state(call, CallState::Ringback)),
            (3, state(call, CallState::Connected(ConnectedMode::ACTIVE))),
            (4, (LINE_CALLINFO, call.0, LINECALLINFOSTATE_CONNECTEDID, 0)),
        ]
    );
    let stats = sim.gw.session_stats();
    assert_eq!((stats.resumed, stats.detached), (1, 0));

    // The handles work on the new connection, and live messages continue the numbering.
    let app = App { conn, ..app };
    let drop = call_fn(&mut sim, &app, Fn::LineDrop { call });
    let bye = only_request(sim.take_sip(provider.addr), Method::Bye);
    sim.deliver(provider.at(), provider.response(&bye, 200, None));
    assert_eq!(
        numbered(&received(&mut sim, conn, app.app)),
        vec![(5, reply(drop, 0)), (6, state(call, CallState::Idle))]
    );
}

#[test]
fn a_line_reply_completed_while_away_is_replayed_exactly_once() {
    let mut sim = sim_with_api("");
    let provider = sim.peer(PROVIDER);
    let (app, session) = app_with_line(&mut sim, LINEINITIALIZEEXOPTION_USEHIDDENWINDOW, true);
    let (_, call) = connected_call(&mut sim, &app, &provider);
    let seen = numbered(&received(&mut sim, app.conn, app.app));
    let last = seen.last().unwrap().0;

    // lineDrop, then the connection drops before the BYE is answered.
    let drop = call_fn(&mut sim, &app, Fn::LineDrop { call });
    let bye = only_request(sim.take_sip(provider.addr), Method::Bye);
    sim.disconnect(app.conn);
    sim.deliver(provider.at(), provider.response(&bye, 200, None));

    let conn = sim.connect();
    resume(&mut sim, conn, &session, last);
    let got = numbered(&received(&mut sim, conn, app.app));
    assert_eq!(
        got,
        vec![
            (last + 1, reply(drop, 0)),
            (last + 2, state(call, CallState::Idle))
        ]
    );
    // A second resume from the same point replays the same messages, no more.
    let again = sim.connect();
    resume(&mut sim, again, &session, last + 1);
    assert_eq!(
        numbered(&received(&mut sim, again, app.app)),
        vec![(last + 2, state(call, CallState::Idle))]
    );
}

#[test]
fn replay_starts_after_last_seq_and_live_messages_follow_in_order() {
    let mut sim = sim_with_api("");
    let mut provider = sim.peer(PROVIDER);
    let (app, session) = app_with_line(&mut sim, LINEINITIALIZEEXOPTION_USEHIDDENWINDOW, true);
    let (request, call) = make_call(&mut sim, &app, "2000");
    let invite = only_request(sim.take_sip(provider.addr), Method::Invite);
    sim.deliver(provider.at(), provider.response(&invite, 100, None));
    sim.deliver(provider.at(), provider.response(&invite, 180, None));
    // Written to the old connection: seq 1 (LINE_REPLY), 2 (PROCEEDING), 3 (RINGBACK); the
    // client read only the first before the connection dropped.
    let written = numbered(&received(&mut sim, app.conn, app.app));
    assert_eq!(
        written.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(written[0], (1, reply(request, 0)));
    sim.disconnect(app.conn);
    let ok = provider.response(&invite, 200, Some(PEER_SDP));
    sim.deliver(provider.at(), ok.clone());

    let conn = sim.connect();
    resume(&mut sim, conn, &session, 1);
    let got = received(&mut sim, conn, app.app);
    assert!(matches!(got[0], Err(Ok(Answer::Resumed { .. }))));
    assert_eq!(
        numbered(&got),
        vec![
            (2, state(call, CallState::Proceeding)),
            (3, state(call, CallState::Ringback)),
            (4, state(call, CallState::Connected(ConnectedMode::ACTIVE))),
            (5, (LINE_CALLINFO, call.0, LINECALLINFOSTATE_CONNECTEDID, 0)),
        ]
    );
    // A remote BYE: live, seq 6 and 7.
    only_request(sim.take_sip(provider.addr), Method::Ack);
    let bye = provider.in_their_dialog(&invite, &ok, Method::Bye, 2);
    sim.deliver(provider.at(), bye);
    let live = numbered(&received(&mut sim, conn, app.app));
    assert_eq!(live[0].0, 6);
    assert_eq!(
        live.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        (6..6 + live.len() as u64).collect::<Vec<_>>(),
        "no gap, no duplicate"
    );
}

#[test]
fn an_overflow_while_away_ends_the_session_as_the_event_queue_limit_does() {
    let mut sim = sim_with_api("max_event_queue = 3");
    let provider = sim.peer(PROVIDER);
    let (app, session) = app_with_line(&mut sim, LINEINITIALIZEEXOPTION_USEHIDDENWINDOW, true);
    make_call(&mut sim, &app, "2000");
    let invite = only_request(sim.take_sip(provider.addr), Method::Invite);
    sim.disconnect(app.conn);
    // LINE_REPLY + PROCEEDING, RINGBACK: three kept; CONNECTED is one too many.
    sim.deliver(provider.at(), provider.response(&invite, 100, None));
    sim.deliver(provider.at(), provider.response(&invite, 180, None));
    assert!(sim.take_sip(provider.addr).is_empty());
    sim.deliver(
        provider.at(),
        provider.response(&invite, 200, Some(PEER_SDP)),
    );
    let sip = sim.take_sip(provider.addr);
    only_request(
        sip.into_iter()
            .filter(|m| !matches!(m, crate::sip::message::SipMessage::Request(r) if r.method == Method::Ack))
            .collect(),
        Method::Bye,
    );
    assert_eq!(sim.gw.session_stats().overflowed, 1);
    assert_eq!(
        resume_fails(&mut sim, &session),
        LINEERR_INVALAPPHANDLE.into()
    );
}

#[test]
fn after_the_grace_period_the_app_is_shut_down_and_its_calls_dropped() {
    let mut sim = sim_with_api("resume_grace_s = 5");
    let provider = sim.peer(PROVIDER);
    let (app, session) = app_with_line(&mut sim, LINEINITIALIZEEXOPTION_USEHIDDENWINDOW, true);
    connected_call(&mut sim, &app, &provider);
    sim.disconnect(app.conn);
    sim.advance(Duration::from_millis(4_999));
    assert!(sim.take_sip(provider.addr).is_empty(), "still kept");
    assert_eq!(sim.gw.session_stats().expired, 0);
    sim.advance(Duration::from_millis(1));
    only_request(sim.take_sip(provider.addr), Method::Bye);
    let stats = sim.gw.session_stats();
    assert_eq!((stats.expired, stats.detached), (1, 0));
    assert_eq!(
        resume_fails(&mut sim, &session),
        LINEERR_INVALAPPHANDLE.into()
    );
    assert_eq!(sim.gw.session_stats().refused, 1);
}

#[test]
fn a_resume_within_the_grace_period_cancels_the_expiry() {
    let mut sim = sim_with_api("resume_grace_s = 5");
    let provider = sim.peer(PROVIDER);
    let (app, session) = app_with_line(&mut sim, LINEINITIALIZEEXOPTION_USEHIDDENWINDOW, true);
    connected_call(&mut sim, &app, &provider);
    let last = numbered(&received(&mut sim, app.conn, app.app))
        .last()
        .unwrap()
        .0;
    sim.disconnect(app.conn);
    sim.advance(Duration::from_secs(3));
    let conn = sim.connect();
    resume(&mut sim, conn, &session, last);
    sim.advance(Duration::from_secs(10));
    assert!(sim.take_sip(provider.addr).is_empty(), "no BYE: resumed");
    // Dropped again: a new, full grace period from this drop.
    sim.disconnect(conn);
    sim.advance(Duration::from_millis(4_999));
    assert!(sim.take_sip(provider.addr).is_empty());
    sim.advance(Duration::from_millis(1));
    only_request(sim.take_sip(provider.addr), Method::Bye);
    assert_eq!(sim.gw.session_stats().kept, 2);
}

#[test]
fn a_second_connection_takes_a_live_session_over() {
    let mut sim = sim_with_api("");
    let provider = sim.peer(PROVIDER);
    let (old, session) = app_with_line(&mut sim, LINEINITIALIZEEXOPTION_USEHIDDENWINDOW, true);
    let (other, _) = init(
        &mut sim,
        old.conn,
        LINEINITIALIZEEXOPTION_USEHIDDENWINDOW,
        false,
    );
    connected_call(&mut sim, &old, &provider);
    let seen = numbered(&received(&mut sim, old.conn, old.app));
    let new = sim.connect();
    resume(&mut sim, new, &session, 1);
    // The old connection is told, then closed.
    let outputs = sim.take_outputs(old.conn);
    assert_eq!(
        outputs,
        vec![
            Output::TakenOver {
                conn: old.conn,
                app: old.app.0,
                phone: false
            },
            Output::Close { conn: old.conn }
        ]
    );
    let got = received(&mut sim, new, old.app);
    assert!(matches!(got[0], Err(Ok(Answer::Resumed { .. }))));
    assert_eq!(numbered(&got), seen[1..].to_vec());
    assert_eq!(sim.gw.session_stats().taken_over, 1);
    assert!(
        sim.take_sip(provider.addr).is_empty(),
        "the call is untouched"
    );
    // The non-resumable app of the old connection went with it.
    assert_eq!(sim.gw.session_stats().detached, 0);
    assert_eq!(
        sim.call(new, Fn::LineShutdown { app: other }),
        Err(LINEERR_INVALAPPHANDLE.into())
    );
    // Requests still arriving on the old connection are ignored; the new one works.
    let ignored = sim.send(old.conn, Fn::LineClose { line: old.line });
    assert!(sim.take_response(old.conn, &ignored).is_none());
    assert_eq!(
        sim.call(new, Fn::LineClose { line: old.line }),
        Ok(Answer::Empty)
    );
    only_request(sim.take_sip(provider.addr), Method::Bye);
}

#[test]
fn apps_without_resumable_are_shut_down_with_their_connection() {
    let mut sim = sim_with_api("");
    let provider = sim.peer(PROVIDER);
    let (app, session) = app_with_line(&mut sim, LINEINITIALIZEEXOPTION_USEHIDDENWINDOW, false);
    assert_eq!(session.as_str().len(), 32, "every app has a sessionId");
    connected_call(&mut sim, &app, &provider);
    let messages = numbered(&received(&mut sim, app.conn, app.app));
    assert_eq!(
        messages.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        (1..=messages.len() as u64).collect::<Vec<_>>(),
        "seq from 1 without gaps for every app"
    );
    sim.disconnect(app.conn);
    only_request(sim.take_sip(provider.addr), Method::Bye);
    assert_eq!(sim.gw.session_stats().kept, 0);
    assert_eq!(
        resume_fails(&mut sim, &session),
        LINEERR_INVALAPPHANDLE.into()
    );
}

#[test]
fn unknown_sessions_and_the_wrong_function_are_refused() {
    let mut sim = sim_with_api("");
    assert_eq!(
        resume_fails(&mut sim, &SessionId::from_wire("00".repeat(16))),
        LINEERR_INVALAPPHANDLE.into()
    );
    let conn = sim.connect();
    let (_, line_session) = init(&mut sim, conn, LINEINITIALIZEEXOPTION_USEHIDDENWINDOW, true);
    let tag = sim.send(
        conn,
        Fn::PhoneResume {
            session: line_session,
            last_seq: 0,
        },
    );
    assert_eq!(
        sim.take_response(conn, &tag),
        Some(Err(PHONEERR_INVALAPPHANDLE.into())),
        "phoneResume serves phone sessions only"
    );
}

#[test]
fn line_resume_and_phone_resume_both_resume_a_phone_app() {
    let mut sim = sim_with_api("");
    let conn = sim.connect();
    let Ok(Answer::PhoneInitialized { app, session, .. }) = sim.call(
        conn,
        Fn::PhoneInitializeEx {
            app_name: "handset".into(),
            api_version: API_VERSION_HIGH,
            options: LINEINITIALIZEEXOPTION_USEHIDDENWINDOW,
            completion_key: 0,
            resumable: true,
        },
    ) else {
        panic!("phoneInitializeEx")
    };
    sim.disconnect(conn);
    for function in ["line", "phone"] {
        let conn = sim.connect();
        let request = if function == "line" {
            Fn::LineResume {
                session: session.clone(),
                last_seq: 0,
            }
        } else {
            Fn::PhoneResume {
                session: session.clone(),
                last_seq: 0,
            }
        };
        assert_eq!(
            sim.call(conn, request),
            Ok(Answer::Resumed {
                app: app.0,
                phone: true
            }),
            "{function}Resume"
        );
        sim.disconnect(conn);
    }
}

#[test]
fn event_mode_returns_handed_out_messages_the_client_did_not_get() {
    let mut sim = sim_with_api("");
    let provider = sim.peer(PROVIDER);
    let (app, session) = app_with_line(&mut sim, LINEINITIALIZEEXOPTION_USEEVENT, true);
    let (request, call) = make_call(&mut sim, &app, "2000");
    let invite = only_request(sim.take_sip(provider.addr), Method::Invite);
    sim.deliver(provider.at(), provider.response(&invite, 180, None));
    // The client fetched LINE_REPLY (seq 1) and asked for the next, whose answer (seq 2) was
    // lost with the connection.
    let first = get_message(&mut sim, &app);
    assert_eq!(first.1, 1);
    assert_eq!(summary(&[first.0]), vec![reply(request, 0)]);
    let second = get_message(&mut sim, &app);
    assert_eq!(second.1, 2);
    sim.disconnect(app.conn);
    sim.deliver(
        provider.at(),
        provider.response(&invite, 200, Some(PEER_SDP)),
    );

    let conn = sim.connect();
    assert_eq!(
        sim.call(
            conn,
            Fn::LineResume {
                session,
                last_seq: 1
            }
        ),
        Ok(Answer::Resumed {
            app: app.app.0,
            phone: false
        })
    );
    let app = App { conn, ..app };
    let again = get_message(&mut sim, &app);
    assert_eq!(
        (again.1, summary(&[again.0])),
        (2, vec![state(call, CallState::Ringback)])
    );
    let next = get_message(&mut sim, &app);
    assert_eq!(
        (next.1, summary(&[next.0])),
        (
            3,
            vec![state(call, CallState::Connected(ConnectedMode::ACTIVE))]
        )
    );
}

/// lineGetMessage with timeout 0: the message and its stamp's seq.
fn get_message(sim: &mut Sim, app: &App) -> (LineMessage, u64) {
    match sim.call(
        app.conn,
        Fn::LineGetMessage {
            app: app.app,
            timeout: 0,
        },
    ) {
        Ok(Answer::Message(m, Stamp { seq, app: a, .. })) => {
            assert_eq!(a, app.app.0);
            (m, seq)
        }
        other => panic!("lineGetMessage: {other:?}"),
    }
}

#[test]
fn a_resume_from_before_what_is_kept_ends_the_session() {
    let mut sim = sim_with_api("max_event_queue = 2");
    let provider = sim.peer(PROVIDER);
    let (app, session) = app_with_line(&mut sim, LINEINITIALIZEEXOPTION_USEHIDDENWINDOW, true);
    connected_call(&mut sim, &app, &provider);
    // LINE_REPLY, CONNECTED, LINE_CALLINFO were written; only the last two are kept.
    assert_eq!(numbered(&received(&mut sim, app.conn, app.app)).len(), 3);
    sim.disconnect(app.conn);
    let conn = sim.connect();
    let tag = resume(&mut sim, conn, &session, 0);
    assert_eq!(
        sim.take_response(conn, &tag),
        Some(Err(LINEERR_INVALAPPHANDLE.into()))
    );
    only_request(sim.take_sip(provider.addr), Method::Bye);
    assert_eq!(
        resume_fails(&mut sim, &session),
        LINEERR_INVALAPPHANDLE.into()
    );
}

#[test]
fn waiting_get_message_calls_end_with_the_connection_and_time_out_nowhere() {
    let mut sim = sim_with_api("resume_grace_s = 5");
    let (app, session) = app_with_line(&mut sim, LINEINITIALIZEEXOPTION_USEEVENT, true);
    let tag = sim.send(
        app.conn,
        Fn::LineGetMessage {
            app: app.app,
            timeout: 1_000,
        },
    );
    sim.disconnect(app.conn);
    sim.advance(Duration::from_secs(2));
    assert!(sim.take_response(app.conn, &tag).is_none());
    let conn = sim.connect();
    assert!(matches!(
        sim.call(
            conn,
            Fn::LineResume {
                session,
                last_seq: 0
            }
        ),
        Ok(Answer::Resumed { .. })
    ));
    let app = App { conn, ..app };
    assert_eq!(
        sim.call(
            conn,
            Fn::LineGetMessage {
                app: app.app,
                timeout: 0
            }
        ),
        Err(LINEERR_OPERATIONFAILED.into())
    );
}

#[test]
fn a_session_resumes_only_under_the_token_scope_it_was_opened_with() {
    use crate::tapi::{LineScope, Scope};
    let mut sim = sim_with_api("");
    let monitor_only = Scope {
        lines: LineScope::All,
        may_own: false,
    };
    let conn = sim.connect();
    sim.authenticate(conn, monitor_only.clone());
    let (_, session) = init(&mut sim, conn, LINEINITIALIZEEXOPTION_USEHIDDENWINDOW, true);
    sim.disconnect(conn);
    // A full-rights connection may not pick up a monitor-only session (and become owner).
    assert_eq!(
        resume_fails(&mut sim, &session),
        LINEERR_INVALAPPHANDLE.into()
    );
    let again = sim.connect();
    sim.authenticate(again, monitor_only);
    let tag = resume(&mut sim, again, &session, 0);
    assert!(
        matches!(sim.take_response(again, &tag), Some(Ok(_))),
        "the same scope resumes it"
    );
}
