//! Token scopes and API limits in TAPISRV, in virtual time: a scoped connection's device
//! numbering survives reloads that add and remove lines (LINE_CREATE/LINE_REMOVE carry its own
//! IDs, lines outside its scope are never announced), and a line at `api.max_calls_per_line`
//! refuses the next inbound call (counted in the metrics snapshot).

use super::*;
use crate::sim::peer::PEER_SDP;
use crate::tapi::{LineScope, Scope, LINEERR_BADDEVICEID};

fn line(user: &str) -> String {
    format!("[[lines]]\nuser = \"{user}\"\ndomain = \"example.org\"\nproxy = \"127.0.0.1:5070\"\n")
}

/// A connection with a token for `users`; its app's (handle, numDevs).
fn scoped_app(sim: &mut Sim, users: &[&str]) -> (ConnId, HLineApp, u32) {
    let conn = sim.connect();
    let scope = Scope {
        lines: LineScope::Users(users.iter().map(|u| u.to_string()).collect()),
        may_own: true,
    };
    sim.authenticate(conn, scope);
    let Ok(Answer::LineInitialized { app, num_devs, .. }) = sim.call(
        conn,
        Fn::LineInitializeEx {
            app_name: "scoped".into(),
            api_version: API_VERSION_HIGH,
            options: LINEINITIALIZEEXOPTION_USEHIDDENWINDOW,
            completion_key: 0,
            resumable: false,
        },
    ) else {
        panic!("lineInitializeEx")
    };
    (conn, app, num_devs)
}

fn open(
    sim: &mut Sim,
    conn: ConnId,
    app: HLineApp,
    device: u32,
) -> Result<Answer, crate::tapi::TapiErr> {
    sim.call(
        conn,
        Fn::LineOpen {
            app,
            device,
            api_version: API_VERSION_HIGH,
            callback_instance: 0,
            privileges: LINECALLPRIVILEGE_OWNER,
            media_modes: LINEMEDIAMODE_INTERACTIVEVOICE,
        },
    )
}

#[test]
fn a_scoped_connection_keeps_its_numbering_across_reloads() {
    let mut sim = Sim::new(&format!("{}{}", line("1001"), line("1002")));
    let full = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (narrow, _, devs) = scoped_app(&mut sim, &["1002"]);
    assert_eq!(devs, 1);
    let (wide, wide_app, devs) = scoped_app(&mut sim, &["1002", "1003"]);
    assert_eq!(devs, 1);
    sim.messages(full.conn);

    sim.reload(&format!("{}{}{}", line("1001"), line("1002"), line("1003")));
    assert_eq!(
        summary(&sim.messages(full.conn)),
        vec![(LINE_CREATE, 0, 2, 0)]
    );
    assert_eq!(
        summary(&sim.messages(narrow)),
        vec![],
        "1003 is not in its scope"
    );
    assert_eq!(
        summary(&sim.messages(wide)),
        vec![(LINE_CREATE, 0, 1, 0)],
        "its device 1"
    );
    assert!(matches!(
        open(&mut sim, wide, wide_app, 1),
        Ok(Answer::LineOpened(_))
    ));

    // 1002 goes: it stays in the view as a removed device, so 1003 keeps device 1.
    sim.reload(&format!("{}{}", line("1001"), line("1003")));
    assert_eq!(summary(&sim.messages(narrow)), vec![(LINE_REMOVE, 0, 0, 0)]);
    let wide_messages = summary(&sim.messages(wide));
    assert!(
        wide_messages.contains(&(LINE_REMOVE, 0, 0, 0)),
        "{wide_messages:?}"
    );
    assert_eq!(
        open(&mut sim, wide, wide_app, 0),
        Err(crate::tapi::LINEERR_NODEVICE.into())
    );
    assert!(matches!(
        open(&mut sim, wide, wide_app, 1),
        Ok(Answer::LineOpened(_))
    ));
    assert_eq!(
        open(&mut sim, wide, wide_app, 2),
        Err(LINEERR_BADDEVICEID.into())
    );
}

#[test]
fn a_full_line_refuses_the_next_inbound_call() {
    let mut sim = Sim::new(&format!("max_calls_per_line = 1\n{}", line("1001")));
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let gw = sim.gateway_addr();
    let mut first = sim.peer("127.0.0.1:5071");
    sim.deliver(first.at(), first.invite(gw, "1001", Some(PEER_SDP)));
    assert_eq!(statuses(&sim.take_sip(first.addr)), vec![100, 180]);
    let mut second = sim.peer("127.0.0.1:5072");
    sim.deliver(second.at(), second.invite(gw, "1001", Some(PEER_SDP)));
    // The provider rings before TAPISRV sees the call; TAPISRV then declines it.
    assert_eq!(statuses(&sim.take_sip(second.addr)), vec![100, 180, 603]);
    let appnew = sim
        .messages(app.conn)
        .iter()
        .filter(|m| m.dw_message_id == LINE_APPNEWCALL)
        .count();
    assert_eq!(appnew, 1, "the app saw only the first call");
    let tapi = sim.gw.snapshot().tapi;
    assert_eq!(tapi.limit_hits.get("calls_per_line"), Some(&1));
    assert_eq!(tapi.call_counters.started.get("inbound"), Some(&2));
    assert_eq!(
        tapi.call_counters.completed.get(&("inbound", "refused")),
        Some(&1)
    );
    assert_eq!(tapi.calls.get(&("offering", "inbound")), Some(&1));
}
