//! Issue 14 end to end with the real binary: RINGING only where enabled, a monitor that opens
//! the line mid-call and takes the call with lineGetNewCalls, the handset answering a SIPp
//! caller off hook and hanging up on hook, and SIGHUP adding and removing lines while an app
//! is connected.

mod common;

use common::app::*;
use common::{free_port, line_config, scenario, scenario_with, sipp, GatewayProcess, SippRun};
use serde_json::{json, Value};

/// A SIPp caller (user 2000) calling the gateway's user `user` in the background.
fn caller(
    gw: &GatewayProcess,
    sf: &std::path::Path,
    user: &str,
    extra: &[&str],
) -> tokio::task::JoinHandle<SippRun> {
    let mut args: Vec<String> = vec![
        gw.sip_addr().to_string(),
        "-sf".into(),
        sf.to_str().unwrap().into(),
        "-m".into(),
        "1".into(),
        "-s".into(),
        user.into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        sipp(&args).timeout(30).run()
    })
}

fn number(v: &Value, key: &str) -> u32 {
    v[key].as_u64().unwrap_or_else(|| panic!("no {key} in {v}")) as u32
}

/// Every message until (and with) LINE_CALLSTATE(IDLE) on `h_call`.
async fn until_idle(client: &mut Client, h_call: u32) -> Vec<TapiMessage> {
    let (last, mut seen) = client
        .wait_for(WAIT, |m| {
            m.msg.dw_message_id == LINE_CALLSTATE
                && m.msg.h_device == h_call
                && m.msg.dw_param1 == LINECALLSTATE_IDLE
        })
        .await
        .expect("IDLE");
    seen.push(last);
    seen
}

fn rings(messages: &[TapiMessage]) -> Vec<(u32, u32)> {
    messages
        .iter()
        .filter(|m| {
            m.msg.dw_message_id == LINE_LINEDEVSTATE && m.msg.dw_param1 == LINEDEVSTATE_RINGING
        })
        .map(|m| (m.msg.dw_param2, m.msg.dw_param3))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn ringing_reaches_only_the_app_that_enabled_it() {
    let gw = GatewayProcess::start(&line_config(free_port(), "udp"));
    let (mut enabled, _, line) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    enabled
        .line_set_status_messages(line, LINEDEVSTATE_RINGING)
        .await
        .unwrap();
    let (mut silent, _, _) = open_line(gw.api_addr(), LINECALLPRIVILEGE_MONITOR).await;
    let dir = tempfile::tempdir().unwrap();
    let sf = scenario_with("uac_call_rejected.xml", dir.path(), &[("STATUS", "603")]);
    let sipp = caller(&gw, &sf, "1001", &[]);
    let (ring, before) = enabled
        .wait_for(WAIT, |m| m.msg.dw_message_id == LINE_LINEDEVSTATE)
        .await
        .expect("LINE_LINEDEVSTATE");
    assert_eq!(
        rings(std::slice::from_ref(&ring)),
        vec![(1, 0)],
        "ring mode 1, count 0"
    );
    assert_eq!(ring.msg.h_device, line);
    let h_call = before
        .iter()
        .find(|m| m.msg.dw_message_id == LINE_APPNEWCALL)
        .map(|m| m.msg.dw_param2)
        .expect("LINE_APPNEWCALL before the ring");
    let (m_call, _) = new_call(&mut silent).await;
    let drop = enabled.call_op("lineDrop", h_call).await.unwrap();
    assert_eq!(reply(&mut enabled, drop).await, 0);
    until_idle(&mut enabled, h_call).await;
    let watched = until_idle(&mut silent, m_call).await;
    assert!(
        rings(&watched).is_empty(),
        "the app that did not enable RINGING got {watched:?}"
    );
    sipp.await.unwrap().assert_success("caller (603)");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_monitor_opening_mid_call_takes_it_with_line_get_new_calls() {
    let gw = GatewayProcess::start(&line_config(free_port(), "udp"));
    let (mut owner, _, _) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    let sipp = caller(&gw, &scenario("uac_call_app_hangs_up.xml"), "1001", &[]);
    let (h_call, _) = new_call(&mut owner).await;
    let answer = owner.call_op("lineAnswer", h_call).await.unwrap();
    assert_eq!(reply(&mut owner, answer).await, 0);
    state(&mut owner, h_call, LINECALLSTATE_CONNECTED).await;

    let (mut late, _, late_line) = open_line(gw.api_addr(), LINECALLPRIVILEGE_MONITOR).await;
    let calls = late
        .call(
            "lineGetNewCalls",
            json!({"hLine": late_line, "addressId": 0, "select": LINECALLSELECT_LINE}),
        )
        .await
        .unwrap();
    let handles = calls["hCalls"].as_array().expect("hCalls").clone();
    assert_eq!(handles.len(), 1, "{calls}");
    let watched = handles[0].as_u64().unwrap() as u32;
    let status = late.line_get_call_status(watched).await.unwrap();
    assert_eq!(number(&status, "callState"), LINECALLSTATE_CONNECTED);
    assert_eq!(number(&status, "callPrivilege"), LINECALLPRIVILEGE_MONITOR);
    let again = late
        .call(
            "lineGetNewCalls",
            json!({"hLine": late_line, "addressId": 0, "select": LINECALLSELECT_LINE}),
        )
        .await
        .unwrap();
    assert_eq!(again["hCalls"], json!([]), "it holds the call now");
    let info = late.line_get_call_info(watched).await.unwrap();
    assert_eq!(info["callerId"], "2000");

    let drop = owner.call_op("lineDrop", h_call).await.unwrap();
    assert_eq!(reply(&mut owner, drop).await, 0);
    let seen = until_idle(&mut late, watched).await;
    assert!(
        !seen.iter().any(|m| m.msg.dw_message_id == LINE_APPNEWCALL),
        "no LINE_APPNEWCALL for a call taken with lineGetNewCalls: {seen:?}"
    );
    sipp.await.unwrap().assert_success("caller (app hangs up)");
}

/// phoneInitializeEx (callback mode) and phoneOpen of handset 0 with `privilege`.
async fn open_phone(client: &mut Client, privilege: u32) -> u32 {
    let init = client
        .call(
            "phoneInitializeEx",
            json!({"appName": "handset", "apiVersion": 0x00020002, "options": 1}),
        )
        .await
        .unwrap();
    assert!(number(&init, "numDevs") >= 1);
    let opened = client
        .call(
            "phoneOpen",
            json!({"hPhoneApp": number(&init, "hPhoneApp"), "deviceId": 0,
                   "apiVersion": 0x00020002, "privilege": privilege}),
        )
        .await
        .unwrap();
    number(&opened, "hPhone")
}

async fn set_hook(client: &mut Client, h_phone: u32, mode: u32) -> u32 {
    let r = client
        .call(
            "phoneSetHookSwitch",
            json!({"hPhone": h_phone, "hookSwitchDevs": PHONEHOOKSWITCHDEV_HANDSET,
                   "hookSwitchMode": mode}),
        )
        .await
        .unwrap();
    let request = number(&r, "requestId");
    let (m, _) = client
        .wait_for(WAIT, |m| {
            m.msg.dw_message_id == PHONE_REPLY && m.msg.dw_param1 == request
        })
        .await
        .expect("PHONE_REPLY");
    assert_eq!(m.msg.dw_param2, 0, "PHONE_REPLY result");
    request
}

#[tokio::test(flavor = "multi_thread")]
async fn the_handset_answers_off_hook_and_hangs_up_on_hook() {
    let gw = GatewayProcess::start(&line_config(free_port(), "udp"));
    let (mut line_app, _, _) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    // One connection holding a line app and a phone app, as TAPI allows.
    let h_phone = open_phone(&mut line_app, PHONEPRIVILEGE_OWNER).await;
    let mut watcher = Client::connect(gw.api_addr()).await.unwrap();
    let h_watch = open_phone(&mut watcher, PHONEPRIVILEGE_MONITOR).await;
    watcher
        .call(
            "phoneSetStatusMessages",
            json!({"hPhone": h_watch, "phoneStates": PHONESTATE_HANDSETHOOKSWITCH}),
        )
        .await
        .unwrap();
    let refused = watcher
        .call(
            "phoneSetHookSwitch",
            json!({"hPhone": h_watch, "hookSwitchDevs": 1, "hookSwitchMode": 8}),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(refused, ClientError::Rpc { ref message, .. } if message == "PHONEERR_NOTOWNER"),
        "{refused:?}"
    );

    let sipp = caller(&gw, &scenario("uac_call_app_hangs_up.xml"), "1001", &[]);
    let (h_call, _) = new_call(&mut line_app).await;
    state(&mut line_app, h_call, LINECALLSTATE_OFFERING).await;
    set_hook(&mut line_app, h_phone, PHONEHOOKSWITCHMODE_MICSPEAKER).await;
    state(&mut line_app, h_call, LINECALLSTATE_CONNECTED).await;
    let (m, _) = watcher
        .wait_for(WAIT, |m| m.msg.dw_message_id == PHONE_STATE)
        .await
        .expect("PHONE_STATE");
    assert_eq!(
        (m.msg.h_device, m.msg.dw_param1, m.msg.dw_param2),
        (
            h_watch,
            PHONESTATE_HANDSETHOOKSWITCH,
            PHONEHOOKSWITCHMODE_MICSPEAKER
        )
    );
    let hook = line_app
        .call("phoneGetHookSwitch", json!({"hPhone": h_phone}))
        .await
        .unwrap();
    assert_eq!(number(&hook, "hookSwitchDevs"), PHONEHOOKSWITCHDEV_HANDSET);

    set_hook(&mut line_app, h_phone, PHONEHOOKSWITCHMODE_ONHOOK).await;
    state(&mut line_app, h_call, LINECALLSTATE_IDLE).await;
    sipp.await
        .unwrap()
        .assert_success("caller (BYE from the handset going on hook)");
    let status = watcher
        .call("phoneGetStatus", json!({"hPhone": h_watch}))
        .await
        .unwrap();
    assert_eq!(
        (
            number(&status, "numOwners"),
            number(&status, "numMonitors"),
            number(&status, "handsetHookSwitchMode")
        ),
        (1, 1, PHONEHOOKSWITCHMODE_ONHOOK)
    );
}

/// `[[lines]]` for users on a provider at `proxy_port`, then the `[media]` of [`line_config`].
fn lines_config(proxy_port: u16, users: &[&str]) -> String {
    let one = line_config(proxy_port, "udp");
    let (first, media) = one.split_at(one.find("[media]").unwrap());
    let mut out = String::new();
    for user in users {
        out.push_str(&first.replace("\"1001\"", &format!("\"{user}\"")));
    }
    out.push_str(media);
    out
}

async fn message(client: &mut Client, id: u32) -> TapiMessage {
    client
        .wait_for(WAIT, |m| m.msg.dw_message_id == id)
        .await
        .unwrap_or_else(|e| panic!("no message {id}: {e}"))
        .0
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_adds_and_removes_lines_while_an_app_is_connected() {
    let proxy = free_port();
    let mut gw = GatewayProcess::start(&lines_config(proxy, &["1001"]));
    let (mut app, h_app, line0) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    let sipp = caller(&gw, &scenario("uac_call_app_hangs_up.xml"), "1001", &[]);
    let (h_call, _) = new_call(&mut app).await;
    let answer = app.call_op("lineAnswer", h_call).await.unwrap();
    assert_eq!(reply(&mut app, answer).await, 0);
    state(&mut app, h_call, LINECALLSTATE_CONNECTED).await;

    // Add 1002: LINE_CREATE(1) and PHONE_CREATE(1); device 0 and its call stay.
    let mut phones = Client::connect(gw.api_addr()).await.unwrap();
    open_phone(&mut phones, PHONEPRIVILEGE_MONITOR).await;
    gw.reload(&lines_config(proxy, &["1001", "1002"]));
    gw.wait_for_next_log("configuration reloaded", WAIT);
    let created = message(&mut app, LINE_CREATE).await;
    assert_eq!(created.msg.dw_param1, 1, "the new line's device ID");
    assert_eq!(message(&mut phones, PHONE_CREATE).await.msg.dw_param1, 1);
    let line1 = app
        .line_open(
            h_app,
            1,
            LINECALLPRIVILEGE_OWNER,
            LINEMEDIAMODE_INTERACTIVEVOICE,
            5,
        )
        .await
        .expect("lineOpen on the added device");
    let caps = app
        .call(
            "lineGetAddressCaps",
            json!({"hLineApp": h_app, "deviceId": 1, "addressId": 0, "apiVersion": 0x00020002}),
        )
        .await
        .unwrap();
    assert!(caps["address"].as_str().unwrap().contains("1002"), "{caps}");
    let status = app.line_get_call_status(h_call).await.unwrap();
    assert_eq!(number(&status, "callState"), LINECALLSTATE_CONNECTED);

    // An invalid file changes nothing and names the key.
    gw.reload(&lines_config(proxy, &["1001"]).replace("transport = \"udp\"", "transport = 7"));
    let refused = gw.wait_for_next_log("reload refused", WAIT);
    assert!(refused.contains("transport"), "{refused}");
    app.line_get_call_status(h_call)
        .await
        .expect("the call is still there");

    // Remove 1001: its call is dropped (BYE), LINE_CLOSE for the open line, LINE_REMOVE(0).
    gw.reload(&lines_config(proxy, &["1002"]));
    gw.wait_for_next_log("configuration reloaded", WAIT);
    state(&mut app, h_call, LINECALLSTATE_IDLE).await;
    let closed = message(&mut app, LINE_CLOSE).await;
    assert_eq!(closed.msg.h_device, line0);
    assert_eq!(message(&mut app, LINE_REMOVE).await.msg.dw_param1, 0);
    assert_eq!(message(&mut phones, PHONE_REMOVE).await.msg.dw_param1, 0);
    sipp.await
        .unwrap()
        .assert_success("caller (BYE when its line was removed)");
    let gone = app
        .call(
            "lineGetDevCaps",
            json!({"hLineApp": h_app, "deviceId": 0, "apiVersion": 0x00020002}),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(gone, ClientError::Rpc { ref message, .. } if message == "LINEERR_NODEVICE"),
        "{gone:?}"
    );
    // Device 1 kept its ID and its open handle.
    app.line_set_status_messages(line1, 0)
        .await
        .expect("line 1 is still open");
}
