//! The device model in virtual time: addresses (caps, status, IDs, lineGetNewCalls, lineGetID),
//! line and address messages behind their masks (RINGING with its count, OPEN/CLOSE,
//! NUMCALLS, INUSE*), the handsets (phone* functions, hookswitch answering and dropping), and
//! configuration reloads adding, removing and changing lines while calls are up.

use std::time::Duration;

use super::*;
use crate::sim::peer::PEER_SDP;
use crate::sim::PROVIDER;
use crate::tapi::{
    AddressStates, ConnectedMode, DeviceId, HPhone, HPhoneApp, LineDevStates, OfferingMode, Output,
    LINEERR_INVALADDRESS, LINEERR_INVALADDRESSMODE, LINEERR_INVALDEVICECLASS, LINEERR_NODEVICE,
    PHONEERR_INUSE, PHONEERR_INVALHOOKSWITCHMODE, PHONEERR_NOTOWNER,
};

fn enable(sim: &mut Sim, app: &App, line: LineDevStates, address: AddressStates) {
    sim.call(
        app.conn,
        Fn::LineSetStatusMessages {
            line: app.line,
            line_states: line,
            address_states: address,
        },
    )
    .unwrap();
}

/// An inbound call offered to the line: (the INVITE, the caller). Each caller is its own
/// peer (its own branches).
fn offer(sim: &mut Sim) -> (Request, crate::sim::SipPeer) {
    let gw = sim.gateway_addr();
    let mut caller = sim.peer(PROVIDER);
    let invite = caller.invite(gw, "1001", Some(PEER_SDP));
    sim.deliver(caller.at(), invite.clone());
    assert_eq!(statuses(&sim.take_sip(caller.addr)), vec![100, 180]);
    (invite, caller)
}

#[test]
fn address_caps_status_id_and_device_ids() {
    let mut sim = Sim::one_line("");
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let Ok(Answer::AddressCaps(caps)) = sim.call(
        app.conn,
        Fn::LineGetAddressCaps {
            app: app.app,
            device: DeviceId(0),
            address: 0,
            api_version: API_VERSION_HIGH,
        },
    ) else {
        panic!()
    };
    assert_eq!(caps.address, "sip:1001@example.org");
    assert_eq!(caps.transfer_modes, LINETRANSFERMODE_TRANSFER);
    assert_eq!(
        caps.forward_modes,
        LINEFORWARDMODE_UNCOND | LINEFORWARDMODE_BUSY | LINEFORWARDMODE_NOANSW
    );
    assert!(caps.call_states & LINECALLSTATE_ONHOLDPENDTRANSFER != 0);
    for (address, expected) in [
        ("1001", Ok(0)),
        ("sip:1001@example.org", Ok(0)),
        ("9999", Err(LINEERR_INVALADDRESS.into())),
    ] {
        let got = sim
            .call(
                app.conn,
                Fn::LineGetAddressId {
                    line: app.line,
                    mode: LINEADDRESSMODE_DIALABLEADDR,
                    address: address.into(),
                },
            )
            .map(|a| match a {
                Answer::AddressId(id) => id,
                other => panic!("{other:?}"),
            });
        assert_eq!(got, expected, "{address}");
    }
    assert_eq!(
        sim.call(
            app.conn,
            Fn::LineGetAddressId {
                line: app.line,
                mode: LINEADDRESSMODE_ADDRESSID,
                address: "1001".into(),
            }
        ),
        Err(LINEERR_INVALADDRESSMODE.into())
    );
    let get_id = |sim: &mut Sim, class: &str| {
        sim.call(
            app.conn,
            Fn::LineGetId {
                select: LINECALLSELECT_LINE,
                line: Some(app.line),
                address: 0,
                call: None,
                device_class: class.into(),
            },
        )
    };
    assert_eq!(get_id(&mut sim, "tapi/line"), Ok(Answer::DeviceId(0)));
    assert_eq!(get_id(&mut sim, "tapi/phone"), Ok(Answer::DeviceId(0)));
    assert_eq!(
        get_id(&mut sim, "wave/in"),
        Err(LINEERR_INVALDEVICECLASS.into())
    );
    let status = |sim: &mut Sim| match sim.call(
        app.conn,
        Fn::LineGetAddressStatus {
            line: app.line,
            address: 0,
        },
    ) {
        Ok(Answer::AddressStatus(s)) => s,
        other => panic!("{other:?}"),
    };
    assert_eq!(status(&mut sim).num_in_use, 0);
    offer(&mut sim);
    let s = status(&mut sim);
    assert_eq!(
        (s.num_in_use, s.num_active_calls, s.num_on_hold_calls),
        (1, 1, 0)
    );
}

#[test]
fn get_new_calls_hands_out_silent_monitor_handles() {
    let mut sim = Sim::one_line("");
    let owner = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (invite, mut caller) = offer(&mut sim);
    let owned = HCall(sim.messages(owner.conn)[0].dw_param2);
    let late = open_app(&mut sim, LINECALLPRIVILEGE_MONITOR);
    let select = |sim: &mut Sim| match sim.call(
        late.conn,
        Fn::LineGetNewCalls {
            line: late.line,
            address: 0,
            select: LINECALLSELECT_LINE,
        },
    ) {
        Ok(Answer::NewCalls(calls)) => calls,
        other => panic!("{other:?}"),
    };
    let calls = select(&mut sim);
    assert_eq!(calls.len(), 1);
    let watched = calls[0];
    assert!(
        sim.messages(late.conn).is_empty(),
        "no LINE_APPNEWCALL, no LINE_CALLSTATE"
    );
    assert!(select(&mut sim).is_empty(), "it holds the call now");
    match sim.call(late.conn, Fn::LineGetCallStatus { call: watched }) {
        Ok(Answer::CallStatus(s)) => {
            assert_eq!(s.state, Some(CallState::Offering(OfferingMode::ACTIVE)));
            assert_eq!(s.privilege, crate::tapi::CallPrivilege::Monitor);
        }
        other => panic!("{other:?}"),
    }
    // Later states reach the new handle, without the privilege in dwParam3.
    call_fn(&mut sim, &owner, Fn::LineAnswer { call: owned });
    let ok = response_with(&sim.take_sip(caller.addr), 200);
    sim.deliver(
        caller.at(),
        caller.in_our_dialog(&invite, &ok, Method::Ack, 1),
    );
    let seen = sim.messages(late.conn);
    assert_eq!(
        summary(&seen),
        vec![state(watched, CallState::Connected(ConnectedMode::ACTIVE))]
    );
    assert_eq!(seen[0].dw_param3, 0);
}

#[test]
fn ringing_is_reported_every_six_seconds_only_where_enabled() {
    let mut sim = Sim::one_line("");
    let owner = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let other = open_app(&mut sim, LINECALLPRIVILEGE_MONITOR);
    enable(
        &mut sim,
        &owner,
        LineDevStates::RINGING,
        AddressStates::NONE,
    );
    offer(&mut sim);
    let rings = |msgs: Vec<LineMessage>| -> Vec<(u32, u32)> {
        msgs.iter()
            .filter(|m| m.dw_message_id == LINE_LINEDEVSTATE && m.dw_param1 == LINEDEVSTATE_RINGING)
            .map(|m| (m.dw_param2, m.dw_param3))
            .collect()
    };
    let first = sim.messages(owner.conn);
    let call = HCall(first[0].dw_param2);
    assert_eq!(rings(first), vec![(1, 0)]);
    sim.advance(Duration::from_millis(5999));
    assert!(rings(sim.messages(owner.conn)).is_empty());
    sim.advance(Duration::from_millis(1));
    assert_eq!(rings(sim.messages(owner.conn)), vec![(1, 1)]);
    sim.advance(Duration::from_secs(6));
    assert_eq!(rings(sim.messages(owner.conn)), vec![(1, 2)]);
    assert!(
        rings(sim.messages(other.conn)).is_empty(),
        "not enabled there"
    );
    call_fn(&mut sim, &owner, Fn::LineAnswer { call });
    sim.advance(Duration::from_secs(12));
    assert!(
        rings(sim.messages(owner.conn)).is_empty(),
        "answered: no more rings"
    );
}

#[test]
fn open_close_numcalls_and_in_use_follow_the_line() {
    let mut sim = Sim::one_line("");
    let watcher = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    enable(
        &mut sim,
        &watcher,
        LineDevStates::OPEN | LineDevStates::CLOSE | LineDevStates::NUMCALLS,
        AddressStates::INUSEZERO | AddressStates::INUSEONE | AddressStates::INUSEMANY,
    );
    let other = open_app(&mut sim, LINECALLPRIVILEGE_MONITOR);
    assert_eq!(
        summary(&sim.messages(watcher.conn)),
        vec![(LINE_LINEDEVSTATE, watcher.line.0, LINEDEVSTATE_OPEN, 0)]
    );
    sim.call(other.conn, Fn::LineClose { line: other.line })
        .unwrap();
    assert_eq!(
        summary(&sim.messages(watcher.conn)),
        vec![(LINE_LINEDEVSTATE, watcher.line.0, LINEDEVSTATE_CLOSE, 0)]
    );
    let (invite, caller) = offer(&mut sim);
    let first: Vec<_> = summary(&sim.messages(watcher.conn))
        .into_iter()
        .filter(|(id, ..)| *id != LINE_APPNEWCALL && *id != LINE_CALLSTATE)
        .collect();
    assert_eq!(
        first,
        vec![
            (LINE_LINEDEVSTATE, watcher.line.0, LINEDEVSTATE_NUMCALLS, 0),
            (
                LINE_ADDRESSSTATE,
                watcher.line.0,
                0,
                LINEADDRESSSTATE_INUSEONE
            ),
        ]
    );
    offer(&mut sim);
    let second: Vec<_> = summary(&sim.messages(watcher.conn))
        .into_iter()
        .filter(|(id, ..)| *id == LINE_ADDRESSSTATE)
        .collect();
    assert_eq!(
        second,
        vec![(
            LINE_ADDRESSSTATE,
            watcher.line.0,
            0,
            LINEADDRESSSTATE_INUSEMANY
        )]
    );
    let _ = (invite, caller);
}

fn phone_app(sim: &mut Sim, options: u32) -> (ConnId, HPhoneApp) {
    let conn = sim.connect();
    match sim.call(
        conn,
        Fn::PhoneInitializeEx {
            app_name: "handset".into(),
            api_version: API_VERSION_HIGH,
            options,
            completion_key: 0,
            resumable: false,
        },
    ) {
        Ok(Answer::PhoneInitialized { app, num_devs, .. }) => {
            assert_eq!(num_devs, 1);
            (conn, app)
        }
        other => panic!("{other:?}"),
    }
}

fn phone_open(
    sim: &mut Sim,
    conn: ConnId,
    app: HPhoneApp,
    privilege: u32,
) -> Result<HPhone, crate::tapi::TapiErr> {
    sim.call(
        conn,
        Fn::PhoneOpen {
            app,
            device: DeviceId(0),
            api_version: API_VERSION_HIGH,
            callback_instance: 9,
            privilege,
        },
    )
    .map(|a| match a {
        Answer::PhoneOpened(p) => p,
        other => panic!("{other:?}"),
    })
}

fn hook(
    sim: &mut Sim,
    conn: ConnId,
    phone: HPhone,
    mode: u32,
) -> Result<Answer, crate::tapi::TapiErr> {
    sim.call(
        conn,
        Fn::PhoneSetHookSwitch {
            phone,
            devices: PHONEHOOKSWITCHDEV_HANDSET,
            mode,
        },
    )
}

#[test]
fn the_handset_answers_the_offered_call_off_hook_and_drops_it_on_hook() {
    let mut sim = Sim::one_line("");
    let owner = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (pconn, papp) = phone_app(&mut sim, PHONEINITIALIZEEXOPTION_USEHIDDENWINDOW);
    let handset = phone_open(&mut sim, pconn, papp, PHONEPRIVILEGE_OWNER).unwrap();
    assert_eq!(
        phone_open(&mut sim, pconn, papp, PHONEPRIVILEGE_OWNER),
        Err(PHONEERR_INUSE.into()),
        "one owner at a time"
    );
    let (mconn, mapp) = phone_app(&mut sim, PHONEINITIALIZEEXOPTION_USEHIDDENWINDOW);
    let watch = phone_open(&mut sim, mconn, mapp, PHONEPRIVILEGE_MONITOR).unwrap();
    sim.call(
        mconn,
        Fn::PhoneSetStatusMessages {
            phone: watch,
            phone_states: PHONESTATE_HANDSETHOOKSWITCH,
            button_modes: 0,
            button_states: 0,
        },
    )
    .unwrap();
    assert_eq!(
        hook(&mut sim, mconn, watch, PHONEHOOKSWITCHMODE_MICSPEAKER),
        Err(PHONEERR_NOTOWNER.into())
    );
    assert_eq!(
        hook(&mut sim, pconn, handset, 0x3),
        Err(PHONEERR_INVALHOOKSWITCHMODE.into())
    );
    let (invite, mut caller) = offer(&mut sim);
    let call = HCall(sim.messages(owner.conn)[0].dw_param2);
    let tag = sim.send(
        pconn,
        Fn::PhoneSetHookSwitch {
            phone: handset,
            devices: PHONEHOOKSWITCHDEV_HANDSET,
            mode: PHONEHOOKSWITCHMODE_MICSPEAKER,
        },
    );
    let outputs = sim.take_outputs(pconn);
    let Some(Output::Response {
        tag: t,
        result: Ok(Answer::Request(request)),
        ..
    }) = outputs.first()
    else {
        panic!("{outputs:?}")
    };
    assert_eq!(*t, tag, "the response first (promise 1)");
    assert!(matches!(&outputs[1], Output::Message { message, .. }
        if message.dw_message_id == PHONE_REPLY && message.dw_param1 == request.0 && message.dw_param2 == 0));
    assert_eq!(
        summary(&sim.messages(mconn)),
        vec![(
            PHONE_STATE,
            watch.0,
            PHONESTATE_HANDSETHOOKSWITCH,
            PHONEHOOKSWITCHMODE_MICSPEAKER
        )]
    );
    let ok = response_with(&sim.take_sip(caller.addr), 200);
    sim.deliver(
        caller.at(),
        caller.in_our_dialog(&invite, &ok, Method::Ack, 1),
    );
    assert_eq!(
        summary(&sim.messages(owner.conn)),
        vec![state(call, CallState::Connected(ConnectedMode::ACTIVE))],
        "answered as lineAnswer, no LINE_REPLY to the line app"
    );
    match sim.call(pconn, Fn::PhoneGetHookSwitch { phone: handset }) {
        Ok(Answer::HookSwitch(devs)) => assert_eq!(devs, PHONEHOOKSWITCHDEV_HANDSET),
        other => panic!("{other:?}"),
    }
    hook(&mut sim, pconn, handset, PHONEHOOKSWITCHMODE_ONHOOK).unwrap();
    let bye = only_request(sim.take_sip(caller.addr), Method::Bye);
    sim.deliver(caller.at(), caller.response(&bye, 200, None));
    assert_eq!(
        summary(&sim.messages(owner.conn)),
        vec![state(call, CallState::Idle)]
    );
    match sim.call(pconn, Fn::PhoneGetStatus { phone: handset }) {
        Ok(Answer::PhoneStatus(s)) => {
            assert_eq!((s.num_owners, s.num_monitors), (1, 1));
            assert_eq!(s.handset_hook_switch_mode, PHONEHOOKSWITCHMODE_ONHOOK);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn phone_apps_in_event_mode_fetch_with_phone_get_message() {
    let mut sim = Sim::one_line("");
    let (conn, app) = phone_app(&mut sim, PHONEINITIALIZEEXOPTION_USEEVENT);
    let phone = phone_open(&mut sim, conn, app, PHONEPRIVILEGE_OWNER).unwrap();
    hook(&mut sim, conn, phone, PHONEHOOKSWITCHMODE_MIC).unwrap();
    match sim.call(conn, Fn::PhoneGetMessage { app, timeout: 0 }) {
        Ok(Answer::Message(m, _)) => assert_eq!(m.dw_message_id, PHONE_REPLY),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        sim.call(conn, Fn::PhoneGetMessage { app, timeout: 0 }),
        Err(crate::tapi::PHONEERR_OPERATIONFAILED.into())
    );
    assert_eq!(
        sim.call(
            conn,
            Fn::LineGetMessage {
                app: HLineApp(app.0),
                timeout: 0
            }
        ),
        Err(crate::tapi::LINEERR_INVALAPPHANDLE.into()),
        "a phone app is not a line app"
    );
}

const TWO_LINES: &str = "[[lines]]\nuser = \"1001\"\ndomain = \"example.org\"\nproxy = \"127.0.0.1:5070\"\n\
                         [[lines]]\nuser = \"1002\"\ndomain = \"example.org\"\nproxy = \"127.0.0.1:5070\"\n";

#[test]
fn a_reload_adds_and_removes_lines_and_keeps_device_ids() {
    let mut sim = Sim::one_line("");
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (pconn, _papp) = phone_app(&mut sim, PHONEINITIALIZEEXOPTION_USEHIDDENWINDOW);
    let provider = sim.peer(PROVIDER);
    let (_, call) = make_call(&mut sim, &app, "2000");
    let invite = only_request(sim.take_sip(provider.addr), Method::Invite);
    sim.deliver(
        provider.at(),
        provider.response(&invite, 200, Some(PEER_SDP)),
    );
    sim.take_sip(provider.addr);
    sim.messages(app.conn);
    sim.reload(TWO_LINES);
    assert_eq!(
        summary(&sim.messages(app.conn)),
        vec![(LINE_CREATE, 0, 1, 0)]
    );
    assert_eq!(summary(&sim.messages(pconn)), vec![(PHONE_CREATE, 0, 1, 0)]);
    assert!(
        sim.take_sip(provider.addr).is_empty(),
        "the call on line 0 stays up"
    );
    // Line 0 goes: its call is hung up, the app loses the line, everybody learns of it.
    sim.reload(
        "[[lines]]\nuser = \"1002\"\ndomain = \"example.org\"\nproxy = \"127.0.0.1:5070\"\n",
    );
    only_request(sim.take_sip(provider.addr), Method::Bye);
    let messages = summary(&sim.messages(app.conn));
    assert!(
        messages.contains(&(LINE_CLOSE, app.line.0, 0, 0)),
        "{messages:?}"
    );
    assert!(messages.contains(&(LINE_REMOVE, 0, 0, 0)), "{messages:?}");
    let position = |m| messages.iter().position(|x| *x == m);
    assert!(
        position(state(call, CallState::Idle)) < position((LINE_CLOSE, app.line.0, 0, 0)),
        "the call goes IDLE before its line closes: {messages:?}"
    );
    assert_eq!(summary(&sim.messages(pconn)), vec![(PHONE_REMOVE, 0, 0, 0)]);
    assert_eq!(
        sim.call(
            app.conn,
            Fn::LineOpen {
                app: app.app,
                device: 0,
                api_version: API_VERSION_HIGH,
                callback_instance: 0,
                privileges: LINECALLPRIVILEGE_OWNER,
                media_modes: LINEMEDIAMODE_INTERACTIVEVOICE,
            }
        ),
        Err(LINEERR_NODEVICE.into()),
        "a removed device ID is not reused"
    );
    let Ok(Answer::LineOpened(line)) = sim.call(
        app.conn,
        Fn::LineOpen {
            app: app.app,
            device: 1,
            api_version: API_VERSION_HIGH,
            callback_instance: 0,
            privileges: LINECALLPRIVILEGE_OWNER,
            media_modes: LINEMEDIAMODE_INTERACTIVEVOICE,
        },
    ) else {
        panic!("line 1 kept its ID")
    };
    let gw = sim.gateway_addr();
    let mut caller = sim.peer("127.0.0.1:5071");
    sim.deliver(caller.at(), caller.invite(gw, "1001", Some(PEER_SDP)));
    assert_eq!(
        statuses(&sim.take_sip(caller.addr)),
        vec![100, 404],
        "1001 is gone"
    );
    sim.deliver(caller.at(), caller.invite(gw, "1002", Some(PEER_SDP)));
    assert_eq!(statuses(&sim.take_sip(caller.addr)), vec![100, 180]);
    let _ = line;
}

#[test]
fn a_reload_with_new_credentials_registers_again_with_them() {
    let registering = "[[lines]]\nuser = \"1001\"\ndomain = \"example.org\"\nproxy = \"127.0.0.1:5070\"\nregister = true\npassword = \"old\"\n";
    let mut sim = Sim::new(registering);
    let registrar = sim.peer(PROVIDER);
    let first = only_request(sim.take_sip(registrar.addr), Method::Register);
    let mut ok = registrar.response(&first, 200, None);
    ok.headers.expires = Some(300);
    sim.deliver(registrar.at(), ok);
    sim.reload(&registering.replace("\"old\"", "\"new\""));
    let again = only_request(sim.take_sip(registrar.addr), Method::Register);
    let mut challenge = registrar.response(&again, 401, None);
    challenge
        .headers
        .push("WWW-Authenticate", r#"Digest realm="sim", nonce="n1""#);
    sim.deliver(registrar.at(), challenge);
    let answered = only_request(sim.take_sip(registrar.addr), Method::Register);
    let auth = answered.headers.get("Authorization").unwrap();
    let creds = crate::sip::auth::Credentials {
        username: "1001".into(),
        password: "new".into(),
    };
    let challenge =
        crate::sip::auth::Challenge::parse(r#"Digest realm="sim", nonce="n1""#).unwrap();
    let expected = crate::sip::auth::authorize(
        &challenge,
        &creds,
        "REGISTER",
        &answered.uri.to_string(),
        &[],
        1,
        "unused",
    );
    let response_of = |h: &str| h.split("response=\"").nth(1).map(|r| r[..32].to_string());
    assert_eq!(
        response_of(auth),
        response_of(&expected),
        "signed with the new password"
    );
}
