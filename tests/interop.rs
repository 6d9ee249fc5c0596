//! Real-peer interop suite (issue 19 item 6): Kamailio as the provider's registrar and proxy
//! (digest MD5/SHA-256, UDP/TCP, record-route, session timers) and baresip as the far-end phone,
//! against the real gateway binary driven by a TAPI app over the API. Loopback only, ports chosen
//! at run time, every wait bounded. Peers are installed by `scripts/setup-interop.sh`; see
//! docs/interop.md.

mod common;

#[path = "interop/baresip.rs"]
mod baresip;
#[path = "interop/kamailio.rs"]
mod kamailio;
#[path = "interop/process.rs"]
mod process;
#[path = "interop/world.rs"]
mod world;

use std::time::{Duration, Instant};

use baresip::AnswerMode;
use common::app::*;
use kamailio::{Algorithm, KamailioOptions};
use world::{App, World, STEP};

fn options(algorithm: Algorithm) -> KamailioOptions {
    KamailioOptions {
        algorithm,
        ..KamailioOptions::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Registration

/// The line registers through a digest challenge of `algorithm`: one binding at Kamailio whose
/// contact is the gateway's listener on the line's transport, and the app sees it registered.
async fn registers(algorithm: Algorithm, transport: &'static str) {
    let mut world = World::start(options(algorithm), transport);
    let mut app = App::open(&world).await;
    app.wait_registered().await;
    let challenge = format!("algorithm={}", algorithm.name());
    let messages = world.kamailio.messages();
    assert!(
        messages.iter().any(|m| m.tag == "snd"
            && m.is_response(401)
            && m.headers("To").iter().any(|t| t.contains("sip:1001@"))
            && m.headers("WWW-Authenticate")
                .iter()
                .any(|h| h.contains(&challenge))),
        "Kamailio challenged the REGISTER with {challenge}"
    );
    assert!(
        messages.iter().any(|m| m.tag == "rcv"
            && m.is_request("REGISTER")
            && m.headers("Authorization")
                .iter()
                .any(|h| h.contains("username=\"1001\"") && h.contains(&challenge))),
        "the gateway answered the {challenge} challenge"
    );
    let bindings = world.kamailio.bindings_of("1001");
    let listener = format!("@127.0.0.1:{}", world.gateway.sip_port);
    assert_eq!(bindings.len(), 1, "one binding: {bindings:?}");
    assert!(
        bindings[0].address.contains(&listener),
        "the binding points at the gateway's listener {listener}: {bindings:?}"
    );
    assert_eq!(
        bindings[0].address.contains("transport=tcp"),
        transport == "tcp",
        "{bindings:?}"
    );
    assert!(
        bindings[0].socket.starts_with(transport),
        "registered over {transport}: {bindings:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn register_udp_md5() {
    registers(Algorithm::Md5, "udp").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn register_udp_sha256() {
    registers(Algorithm::Sha256, "udp").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn register_tcp_md5() {
    registers(Algorithm::Md5, "tcp").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn register_tcp_sha256() {
    registers(Algorithm::Sha256, "tcp").await;
}

// ---------------------------------------------------------------------------------------------
// Outbound calls: gateway -> Kamailio -> baresip

/// lineMakeCall("2001") answered by baresip; returns (app, hCall) once both sides are connected.
async fn outbound_connected(world: &mut World) -> (App, u32) {
    world.add_phone(AnswerMode::Auto);
    let mut app = App::open(world).await;
    let h_call = app.make_call("2001").await;
    let mode = app.state(h_call, LINECALLSTATE_CONNECTED).await;
    assert_eq!(mode, LINECONNECTEDMODE_ACTIVE);
    let event = world.phone().wait_event("CALL_ESTABLISHED", STEP);
    assert_eq!(event["direction"], "incoming");
    assert!(
        event["peeruri"]
            .as_str()
            .unwrap_or("")
            .starts_with("sip:1001@"),
        "{event}"
    );
    let info = app.client.line_get_call_info(h_call).await.unwrap();
    assert_eq!(info["codec"], "PCMU");
    assert!(
        info["remoteMedia"]
            .as_str()
            .unwrap_or("")
            .starts_with("127.0.0.1:"),
        "{info}"
    );
    (app, h_call)
}

#[tokio::test(flavor = "multi_thread")]
async fn outbound_call_gateway_hangs_up() {
    let mut world = World::start(KamailioOptions::default(), "udp");
    let (mut app, h_call) = outbound_connected(&mut world).await;
    assert_eq!(app.op("lineDrop", h_call).await, 0);
    app.state(h_call, LINECALLSTATE_IDLE).await;
    world.phone().wait_event("CALL_CLOSED", STEP);
    // Loose routing: Kamailio record-routed the INVITE, so the gateway's BYE goes to it with a
    // Route header naming it (RFC 3261 §12.2.1.1), to baresip's Contact as Request-URI.
    let gateway = world.gateway.sip_addr().to_string();
    let proxy = format!("sip:127.0.0.1:{};", world.kamailio.port);
    let messages = world.kamailio.messages();
    let bye = messages
        .iter()
        .find(|m| m.from == gateway && m.is_request("BYE"))
        .expect("the gateway's BYE went through Kamailio");
    assert!(
        bye.headers("Route")
            .iter()
            .any(|r| r.contains(&proxy) && r.contains(";lr")),
        "{}",
        bye.text
    );
    assert!(
        bye.first_line().starts_with("BYE sip:2001-"),
        "{}",
        bye.text
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn outbound_call_baresip_hangs_up() {
    let mut world = World::start(KamailioOptions::default(), "udp");
    let (mut app, h_call) = outbound_connected(&mut world).await;
    world.phone().command("hangup", "").unwrap();
    assert_eq!(
        app.state(h_call, LINECALLSTATE_DISCONNECTED).await,
        LINEDISCONNECTMODE_NORMAL
    );
    app.state(h_call, LINECALLSTATE_IDLE).await;
    world.phone().wait_event("CALL_CLOSED", STEP);
}

/// Kamailio challenges with SHA-256 (the phone is trusted without a challenge, baresip 1.0
/// only does MD5): the gateway answers the INVITE's 407 with SHA-256 credentials.
#[tokio::test(flavor = "multi_thread")]
async fn outbound_call_through_sha256_proxy_authentication() {
    let mut world = World::start(
        KamailioOptions {
            algorithm: Algorithm::Sha256,
            phones_authenticate: false,
            ..KamailioOptions::default()
        },
        "udp",
    );
    let (mut app, h_call) = outbound_connected(&mut world).await;
    let gateway = world.gateway.sip_addr().to_string();
    let messages = world.kamailio.messages();
    assert!(
        messages.iter().any(|m| m.to == gateway
            && m.is_response(407)
            && m.headers("Proxy-Authenticate")
                .iter()
                .any(|h| h.contains("algorithm=SHA-256"))),
        "Kamailio challenged the INVITE with SHA-256"
    );
    assert!(
        messages.iter().any(|m| m.from == gateway
            && m.is_request("INVITE")
            && m.headers("Proxy-Authorization")
                .iter()
                .any(|h| h.contains("username=\"1001\"") && h.contains("algorithm=SHA-256"))),
        "the gateway answered with SHA-256 credentials"
    );
    assert_eq!(app.op("lineDrop", h_call).await, 0);
    app.state(h_call, LINECALLSTATE_IDLE).await;
    world.phone().wait_event("CALL_CLOSED", STEP);
}

/// Over TCP: baresip (UDP) hangs up an outbound call; its BYE reaches the gateway through
/// Kamailio on the line's TCP connection.
#[tokio::test(flavor = "multi_thread")]
async fn outbound_call_over_tcp_baresip_hangs_up() {
    let mut world = World::start(KamailioOptions::default(), "tcp");
    let (mut app, h_call) = outbound_connected(&mut world).await;
    world.phone().command("hangup", "").unwrap();
    assert_eq!(
        app.state(h_call, LINECALLSTATE_DISCONNECTED).await,
        LINEDISCONNECTMODE_NORMAL
    );
    app.state(h_call, LINECALLSTATE_IDLE).await;
    let closed = world.phone().wait_event("CALL_CLOSED", STEP);
    assert_eq!(closed["param"], "Connection reset by user", "{closed}");
}

/// baresip (answer mode manual) rings; the app drops the call: CANCEL, 487, IDLE.
#[tokio::test(flavor = "multi_thread")]
async fn outbound_cancel_while_ringing() {
    let mut world = World::start(KamailioOptions::default(), "udp");
    world.add_phone(AnswerMode::Manual);
    let mut app = App::open(&world).await;
    let h_call = app.make_call("2001").await;
    app.state(h_call, LINECALLSTATE_RINGBACK).await;
    world.phone().wait_event("CALL_INCOMING", STEP);
    assert_eq!(app.op("lineDrop", h_call).await, 0);
    app.state(h_call, LINECALLSTATE_IDLE).await;
    world.phone().wait_event("CALL_CLOSED", STEP);
    let gateway = world.gateway.sip_addr().to_string();
    let messages = world.kamailio.messages();
    assert!(
        messages
            .iter()
            .any(|m| m.from == gateway && m.is_request("CANCEL")),
        "the gateway sent CANCEL"
    );
    assert!(
        messages.iter().any(|m| m.to == gateway
            && m.is_response(487)
            && m.headers("CSeq").iter().any(|c| c.ends_with("INVITE"))),
        "the INVITE ended with 487"
    );
}

/// baresip rejects a ringing call (`/hangup` while incoming sends 486 Rejected): the app sees
/// DISCONNECTED with LINEDISCONNECTMODE_BUSY (docs/api.md: 486 -> BUSY), then IDLE.
#[tokio::test(flavor = "multi_thread")]
async fn outbound_busy() {
    let mut world = World::start(KamailioOptions::default(), "udp");
    world.add_phone(AnswerMode::Manual);
    let mut app = App::open(&world).await;
    let h_call = app.make_call("2001").await;
    app.state(h_call, LINECALLSTATE_RINGBACK).await;
    world.phone().wait_event("CALL_INCOMING", STEP);
    world.phone().command("hangup", "").unwrap();
    assert_eq!(
        app.state(h_call, LINECALLSTATE_DISCONNECTED).await,
        LINEDISCONNECTMODE_BUSY
    );
    app.state(h_call, LINECALLSTATE_IDLE).await;
    let gateway = world.gateway.sip_addr().to_string();
    assert!(
        world
            .kamailio
            .messages()
            .iter()
            .any(|m| m.to == gateway && m.is_response(486)),
        "baresip's 486 reached the gateway"
    );
}

// ---------------------------------------------------------------------------------------------
// Inbound calls: baresip -> Kamailio -> gateway

/// baresip dials the line; the app answers; returns once both sides are connected.
async fn inbound_connected(world: &mut World) -> (App, u32) {
    world.add_phone(AnswerMode::Auto);
    let mut app = App::open(world).await;
    let uri = world.line_uri();
    world.phone().command("dial", &uri).unwrap();
    let h_call = app.offered().await;
    let info = app.client.line_get_call_info(h_call).await.unwrap();
    assert_eq!(info["callerId"], "2001", "{info}");
    assert_eq!(info["calledId"], "1001", "{info}");
    assert_eq!(info["origin"], LINECALLORIGIN_INBOUND);
    assert_eq!(app.op("lineAnswer", h_call).await, 0);
    assert_eq!(
        app.state(h_call, LINECALLSTATE_CONNECTED).await,
        LINECONNECTEDMODE_ACTIVE
    );
    let event = world.phone().wait_event("CALL_ESTABLISHED", STEP);
    assert_eq!(event["direction"], "outgoing");
    (app, h_call)
}

#[tokio::test(flavor = "multi_thread")]
async fn inbound_call_app_hangs_up() {
    let mut world = World::start(KamailioOptions::default(), "udp");
    let (mut app, h_call) = inbound_connected(&mut world).await;
    assert_eq!(app.op("lineDrop", h_call).await, 0);
    app.state(h_call, LINECALLSTATE_IDLE).await;
    let closed = world.phone().wait_event("CALL_CLOSED", STEP);
    assert_eq!(closed["param"], "Connection reset by peer", "{closed}");
    app.quiet_for(Duration::from_millis(300)).await;
    assert_eq!(
        app.new_calls(),
        1,
        "one INVITE from baresip, one call for the app:\n{}",
        app.describe_seen()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn inbound_call_baresip_hangs_up() {
    let mut world = World::start(KamailioOptions::default(), "udp");
    let (mut app, h_call) = inbound_connected(&mut world).await;
    world.phone().command("hangup", "").unwrap();
    assert_eq!(
        app.state(h_call, LINECALLSTATE_DISCONNECTED).await,
        LINEDISCONNECTMODE_NORMAL
    );
    app.state(h_call, LINECALLSTATE_IDLE).await;
    world.phone().wait_event("CALL_CLOSED", STEP);
}

/// Inbound over a TCP line while its connection is fresh: one INVITE, one call.
#[tokio::test(flavor = "multi_thread")]
async fn inbound_call_over_tcp_app_hangs_up() {
    let mut world = World::start(KamailioOptions::default(), "tcp");
    let (mut app, h_call) = inbound_connected(&mut world).await;
    assert_eq!(app.op("lineDrop", h_call).await, 0);
    app.state(h_call, LINECALLSTATE_IDLE).await;
    world.phone().wait_event("CALL_CLOSED", STEP);
    app.quiet_for(Duration::from_millis(300)).await;
    assert_eq!(
        app.new_calls(),
        1,
        "one INVITE from baresip, one call for the app:\n{}",
        app.describe_seen()
    );
}

// ---------------------------------------------------------------------------------------------
// Mid-call

/// baresip puts the call on hold (re-INVITE with a=sendonly): the gateway answers 200 with
/// a=recvonly and the app sees LINE_CALLSTATE(CONNECTED, LINECONNECTEDMODE_INACTIVE).
#[tokio::test(flavor = "multi_thread")]
async fn hold_from_baresip() {
    let mut world = World::start(KamailioOptions::default(), "udp");
    let (mut app, h_call) = outbound_connected(&mut world).await;
    let mark = world.kamailio_mark();
    world.phone().command("hold", "").unwrap();
    world.kamailio_line_after(mark, "in-dialog INVITE from 2001", STEP);
    let answer = world.phone().wait_event("CALL_REMOTE_SDP", STEP);
    assert_eq!(answer["param"], "answer", "{answer}");
    let gateway = world.gateway.sip_addr().to_string();
    let answers: Vec<_> = world
        .kamailio
        .messages()
        .into_iter()
        .filter(|m| m.from == gateway && m.is_response(200) && m.text.contains("a=recvonly"))
        .collect();
    assert_eq!(
        answers.len(),
        1,
        "the gateway answered the hold with a=recvonly"
    );
    assert_eq!(
        app.state(h_call, LINECALLSTATE_CONNECTED).await,
        LINECONNECTEDMODE_INACTIVE
    );
    assert_eq!(app.op("lineDrop", h_call).await, 0);
    app.state(h_call, LINECALLSTATE_IDLE).await;
}

/// The SDP direction attribute of a traced message's body (`sendrecv` when none is given).
fn direction(m: &kamailio::Traced) -> &'static str {
    ["sendonly", "recvonly", "inactive", "sendrecv"]
        .into_iter()
        .find(|d| m.text.contains(&format!("a={d}")))
        .unwrap_or("sendrecv")
}

/// The re-INVITEs `offerer` sent inside a call (To with a tag, SDP), each with the SDP direction
/// of its offer and of the 200 that answered it, in order.
fn reinvites(world: &mut World, offerer: &str) -> Vec<(&'static str, &'static str)> {
    let messages = world.kamailio.messages();
    let key = |m: &kamailio::Traced| {
        (
            m.headers("Call-ID").first().map(|s| s.to_string()),
            m.headers("CSeq").first().map(|s| s.to_string()),
        )
    };
    messages
        .iter()
        .filter(|m| {
            m.tag == "rcv"
                && m.from == offerer
                && m.is_request("INVITE")
                && m.headers("To").iter().any(|t| t.contains("tag="))
                && m.text.contains("m=audio")
        })
        .map(|offer| {
            let answer = messages
                .iter()
                .find(|r| r.tag == "rcv" && r.is_response(200) && key(r) == key(offer))
                .map_or("no 200", direction);
            (direction(offer), answer)
        })
        .collect()
}

/// The status code of the sipfrag a traced NOTIFY carries (its body's first line).
fn sipfrag(m: &kamailio::Traced) -> u16 {
    m.text
        .lines()
        .skip_while(|l| !l.trim().is_empty())
        .find(|l| !l.trim().is_empty())
        .and_then(|l| l.strip_prefix("SIP/2.0 "))
        .and_then(|l| l.get(..3))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// The source address (ip:port) Kamailio saw for baresip `phone`'s SIP messages.
fn phone_addr(world: &mut World, user: &str) -> String {
    let needle = format!("sip:{user}@");
    world
        .kamailio
        .messages()
        .into_iter()
        .find(|m| m.tag == "rcv" && m.is_request("REGISTER") && m.text.contains(&needle))
        .map(|m| m.from)
        .unwrap_or_else(|| panic!("no REGISTER from {user} in Kamailio's trace"))
}

/// baresip holds (`/hold`: re-INVITE a=sendonly) and resumes (`/resume`: a=sendrecv): the
/// gateway answers a=recvonly then a=sendrecv; the app sees CONNECTED(INACTIVE) then
/// CONNECTED(ACTIVE).
#[tokio::test(flavor = "multi_thread")]
async fn hold_and_resume_from_baresip() {
    let mut world = World::start(KamailioOptions::default(), "udp");
    let (mut app, h_call) = outbound_connected(&mut world).await;
    world.phone().command("hold", "").unwrap();
    assert_eq!(
        app.state(h_call, LINECALLSTATE_CONNECTED).await,
        LINECONNECTEDMODE_INACTIVE
    );
    world.phone().command("resume", "").unwrap();
    assert_eq!(
        app.state(h_call, LINECALLSTATE_CONNECTED).await,
        LINECONNECTEDMODE_ACTIVE
    );
    let phone = phone_addr(&mut world, "2001");
    assert_eq!(
        reinvites(&mut world, &phone),
        vec![("sendonly", "recvonly"), ("sendrecv", "sendrecv")],
        "baresip's re-INVITEs and the gateway's answers"
    );
    assert_eq!(app.op("lineDrop", h_call).await, 0);
    app.state(h_call, LINECALLSTATE_IDLE).await;
    world.phone().wait_event("CALL_CLOSED", STEP);
}

/// lineHold on a call with baresip: re-INVITE a=sendonly through Kamailio, baresip answers
/// (a=recvonly), ONHOLD then LINE_REPLY(0); lineUnhold: a=sendrecv, CONNECTED(ACTIVE) then
/// LINE_REPLY(0).
#[tokio::test(flavor = "multi_thread")]
async fn gateway_holds_and_resumes_baresip() {
    let mut world = World::start(KamailioOptions::default(), "udp");
    let (mut app, h_call) = outbound_connected(&mut world).await;
    let hold = app.client.call_op("lineHold", h_call).await.unwrap();
    let seen = app.seen.len();
    assert_eq!(
        app.reply(hold).await,
        0,
        "lineHold:\n{}",
        app.describe_seen()
    );
    let states: Vec<(u32, u32)> = app.seen[seen..]
        .iter()
        .filter(|m| m.msg.dw_message_id == LINE_CALLSTATE && m.msg.h_device == h_call)
        .map(|m| (m.msg.dw_param1, m.msg.dw_param2))
        .collect();
    assert_eq!(
        states.first().map(|s| s.0),
        Some(LINECALLSTATE_ONHOLD),
        "ONHOLD before LINE_REPLY:\n{}",
        app.describe_seen()
    );
    let unhold = app.client.call_op("lineUnhold", h_call).await.unwrap();
    let seen = app.seen.len();
    assert_eq!(app.reply(unhold).await, 0, "lineUnhold");
    assert!(
        app.seen[seen..]
            .iter()
            .any(|m| m.msg.dw_message_id == LINE_CALLSTATE
                && m.msg.h_device == h_call
                && m.msg.dw_param1 == LINECALLSTATE_CONNECTED
                && m.msg.dw_param2 == LINECONNECTEDMODE_ACTIVE),
        "CONNECTED(ACTIVE) before LINE_REPLY:\n{}",
        app.describe_seen()
    );
    let gateway = world.gateway.sip_addr().to_string();
    assert_eq!(
        reinvites(&mut world, &gateway),
        vec![("sendonly", "recvonly"), ("sendrecv", "sendrecv")],
        "the gateway's re-INVITEs and baresip's answers"
    );
    assert_eq!(app.op("lineDrop", h_call).await, 0);
    app.state(h_call, LINECALLSTATE_IDLE).await;
    world.phone().wait_event("CALL_CLOSED", STEP);
}

/// baresip 2001 transfers its call with the gateway to 2002 (`/transfer`, REFER): the gateway
/// accepts, places the new call through Kamailio (LINE_APPNEWCALL, reason TRANSFER), 2002
/// answers, the gateway NOTIFYs 2001, which hangs up the old call.
#[tokio::test(flavor = "multi_thread")]
async fn baresip_transfers_the_gateway() {
    let mut world = World::start(KamailioOptions::default(), "udp");
    let (mut app, h_call) = outbound_connected(&mut world).await;
    world.add_second_phone(AnswerMode::Auto);
    let target = world.uri_of("2002");
    world.phone().command("transfer", &target).unwrap();
    let m = app
        .wait("LINE_APPNEWCALL", |m| {
            m.msg.dw_message_id == LINE_APPNEWCALL
        })
        .await;
    let h_new = m.msg.dw_param2;
    assert_eq!(m.msg.dw_param3, LINECALLPRIVILEGE_OWNER);
    let info = app.client.line_get_call_info(h_new).await.unwrap();
    assert_eq!(info["reason"], LINECALLREASON_TRANSFER, "{info}");
    assert_eq!(info["calledId"], "2002", "{info}");
    assert_eq!(
        app.state(h_new, LINECALLSTATE_CONNECTED).await,
        LINECONNECTEDMODE_ACTIVE
    );
    let event = world.phone_at(1).wait_event("CALL_ESTABLISHED", STEP);
    assert!(
        event["peeruri"]
            .as_str()
            .unwrap_or("")
            .starts_with("sip:1001@"),
        "{event}"
    );
    assert_eq!(
        app.state(h_call, LINECALLSTATE_DISCONNECTED).await,
        LINEDISCONNECTMODE_NORMAL,
        "2001 hangs up once the transfer succeeded"
    );
    app.state(h_call, LINECALLSTATE_IDLE).await;
    let closed = world.phone().wait_event("CALL_CLOSED", STEP);
    assert_eq!(closed["param"], "Call transfered", "{closed}");
    let gateway = world.gateway.sip_addr().to_string();
    let messages = world.kamailio.messages();
    let frags: Vec<u16> = messages
        .iter()
        .filter(|m| m.tag == "rcv" && m.from == gateway && m.is_request("NOTIFY"))
        .map(sipfrag)
        .collect();
    assert_eq!(frags, vec![100, 180, 200], "the gateway's NOTIFYs to 2001");
    assert_eq!(app.op("lineDrop", h_new).await, 0);
    app.state(h_new, LINECALLSTATE_IDLE).await;
    world.phone_at(1).wait_event("CALL_CLOSED", STEP);
}

/// lineBlindTransfer of a call with baresip 2001 to 2002: REFER through Kamailio, 2001 calls
/// 2002 and NOTIFYs the gateway, which completes with LINE_REPLY(0), BYE and IDLE (no
/// DISCONNECTED).
#[tokio::test(flavor = "multi_thread")]
async fn gateway_blind_transfers_baresip_to_another_baresip() {
    let mut world = World::start(KamailioOptions::default(), "udp");
    let (mut app, h_call) = outbound_connected(&mut world).await;
    world.add_second_phone(AnswerMode::Auto);
    let target = world.uri_of("2002");
    let r = app
        .client
        .call(
            "lineBlindTransfer",
            serde_json::json!({"hCall": h_call, "destAddress": target}),
        )
        .await
        .unwrap();
    let request = r["requestId"].as_u64().unwrap() as u32;
    let transfer = world.phone().wait_event("TRANSFER", STEP);
    assert!(
        transfer["param"]
            .as_str()
            .unwrap_or("")
            .contains("sip:2002@"),
        "{transfer}"
    );
    let event = world.phone_at(1).wait_event("CALL_ESTABLISHED", STEP);
    assert!(
        event["peeruri"]
            .as_str()
            .unwrap_or("")
            .starts_with("sip:2001@"),
        "2001 called 2002: {event}"
    );
    assert_eq!(
        app.reply(request).await,
        0,
        "lineBlindTransfer:\n{}",
        app.describe_seen()
    );
    app.state(h_call, LINECALLSTATE_IDLE).await;
    assert!(
        !app.seen
            .iter()
            .any(|m| m.msg.dw_message_id == LINE_CALLSTATE
                && m.msg.h_device == h_call
                && m.msg.dw_param1 == LINECALLSTATE_DISCONNECTED),
        "IDLE without DISCONNECTED:\n{}",
        app.describe_seen()
    );
    world.phone().wait_event("CALL_CLOSED", STEP);
    let phone = phone_addr(&mut world, "2001");
    let messages = world.kamailio.messages();
    let frags: Vec<u16> = messages
        .iter()
        .filter(|m| m.tag == "rcv" && m.from == phone && m.is_request("NOTIFY"))
        .map(sipfrag)
        .collect();
    assert_eq!(frags, vec![100, 200], "baresip's NOTIFYs to the gateway");
    world.phone_at(1).command("hangup", "").unwrap();
    world.phone_at(1).wait_event("CALL_CLOSED", STEP);
}

/// RFC 4028 through Kamailio's sst module: the INVITE gets `Session-Expires: 10`, the 200 comes
/// back with `refresher=uac`, so the gateway must refresh (re-INVITE or UPDATE) before half the
/// interval; otherwise Kamailio's dialog times out and BYEs both sides. The call must outlive
/// the interval.
#[tokio::test(flavor = "multi_thread")]
async fn session_timer_refreshed_by_the_gateway() {
    // The gateway asks for no interval itself (`session_expires = 0`), so sst puts in its own
    // 10 s, below any interval a line may ask for (RFC 4028's floor is 90 s).
    let mut world = World::start_with_line(
        KamailioOptions {
            session_expires_s: 10,
            ..KamailioOptions::default()
        },
        "udp",
        "session_expires = 0",
    );
    let mark = world.kamailio_mark();
    let (mut app, h_call) = outbound_connected(&mut world).await;
    let connected = Instant::now();
    world.kamailio_line_after(mark, "Session-Expires: 10;refresher=uac", STEP);
    if std::env::var_os("INTEROP_SKIP_REFRESH_WAIT").is_none() {
        world.kamailio_line_after(
            mark,
            "from 1001 to 2001 Session-Expires=10;refresher=uac",
            Duration::from_secs(8),
        );
    }
    outlives_the_interval(&mut world, &mut app, h_call, connected).await;
}

/// Until 3 s past the 10 s interval: no BYE from Kamailio's dialog timeout, the call still up
/// on both sides; then the app hangs up.
async fn outlives_the_interval(world: &mut World, app: &mut App, h_call: u32, connected: Instant) {
    let left = (connected + Duration::from_secs(13)).saturating_duration_since(Instant::now());
    let seen = app.quiet_for(left).await;
    assert!(
        !seen
            .iter()
            .any(|m| m.msg.dw_message_id == LINE_CALLSTATE && m.msg.h_device == h_call),
        "the call changed state: {seen:?}"
    );
    assert!(!world.phone().has_event("CALL_CLOSED"));
    assert_eq!(app.op("lineDrop", h_call).await, 0);
    app.state(h_call, LINECALLSTATE_IDLE).await;
}

/// RFC 4028 inbound through sst: baresip's INVITE reaches the gateway with the proxy's
/// `Session-Expires: 10` and no `Supported: timer`, so the gateway must refresh (RFC 4028 §9:
/// `refresher=uas` in its 200, no 422 for a caller that cannot read it) and re-INVITEs baresip
/// within 5 s (baresip does not allow UPDATE). The call must outlive the interval.
#[tokio::test(flavor = "multi_thread")]
async fn inbound_session_timer_refreshed_by_the_gateway() {
    let mut world = World::start(
        KamailioOptions {
            session_expires_s: 10,
            ..KamailioOptions::default()
        },
        "udp",
    );
    let mark = world.kamailio_mark();
    let (mut app, h_call) = inbound_connected(&mut world).await;
    let connected = Instant::now();
    world.kamailio_line_after(mark, "Session-Expires=10;refresher=uas", STEP);
    world.kamailio_line_after(
        mark,
        "in-dialog INVITE from 1001 to 2001 Session-Expires=10;refresher=uac",
        Duration::from_secs(8),
    );
    outlives_the_interval(&mut world, &mut app, h_call, connected).await;
}

// ---------------------------------------------------------------------------------------------
// Transport and lifecycle

/// Kamailio closes idle TCP connections after 5 s (`tcp_connection_lifetime`); the line must
/// still be reachable afterwards: an inbound call arrives once and is answered.
#[tokio::test(flavor = "multi_thread")]
async fn tcp_line_reachable_after_idle_connection_closed() {
    let mut world = World::start(
        KamailioOptions {
            tcp_lifetime_s: 5,
            ..KamailioOptions::default()
        },
        "tcp",
    );
    world.add_phone(AnswerMode::Auto);
    let mut app = App::open(&world).await;
    let closed = format!("peer=127.0.0.1:{}", world.kamailio.port);
    let line = world
        .gateway
        .wait_for_log("tcp connection closed", Duration::from_secs(12));
    assert!(line.contains(&closed), "{line}");
    let uri = world.line_uri();
    world.phone().command("dial", &uri).unwrap();
    let h_call = app.offered().await;
    assert_eq!(app.op("lineAnswer", h_call).await, 0);
    app.state(h_call, LINECALLSTATE_CONNECTED).await;
    world.phone().wait_event("CALL_ESTABLISHED", STEP);
    assert_eq!(app.op("lineDrop", h_call).await, 0);
    app.state(h_call, LINECALLSTATE_IDLE).await;
    assert_eq!(
        app.new_calls(),
        1,
        "one INVITE from baresip, one call for the app:\n{}",
        app.describe_seen()
    );
    let bindings = world.kamailio.bindings_of("1001");
    assert_eq!(bindings.len(), 1, "{bindings:?}");
}

/// A connected outbound call on a TCP line outlives Kamailio's idle connection (5 s); the far
/// end's BYE must still reach the gateway (the proxy connects to the Contact of our 200/INVITE).
#[tokio::test(flavor = "multi_thread")]
async fn tcp_far_end_bye_after_idle_connection_closed() {
    let mut world = World::start(
        KamailioOptions {
            tcp_lifetime_s: 5,
            ..KamailioOptions::default()
        },
        "tcp",
    );
    let (mut app, h_call) = outbound_connected(&mut world).await;
    let closed = format!("peer=127.0.0.1:{}", world.kamailio.port);
    let line = world
        .gateway
        .wait_for_log("tcp connection closed", Duration::from_secs(12));
    assert!(line.contains(&closed), "{line}");
    world.phone().command("hangup", "").unwrap();
    let closed = world.phone().wait_event("CALL_CLOSED", STEP);
    assert_eq!(closed["param"], "Connection reset by user", "{closed}");
    assert_eq!(
        app.state(h_call, LINECALLSTATE_DISCONNECTED).await,
        LINEDISCONNECTMODE_NORMAL
    );
    app.state(h_call, LINECALLSTATE_IDLE).await;
}

/// RFC 5626 with a registrar that keeps flows (`outbound_mode 1`, `Flow-Timer: 3`) and closes
/// idle connections after 5 s: the gateway's CRLF pings (every 2.4-3 s, each answered by a
/// pong) keep its registration's connection open past the lifetime, and an inbound call comes
/// over that flow, not over a new connection to the listener.
#[tokio::test(flavor = "multi_thread")]
async fn tcp_outbound_flow_kept_alive_and_used_for_inbound_calls() {
    let mut world = World::start(
        KamailioOptions {
            tcp_lifetime_s: 5,
            outbound_mode: 1,
            flow_timer_s: 3,
            ..KamailioOptions::default()
        },
        "tcp",
    );
    world.add_phone(AnswerMode::Auto);
    let mut app = App::open(&world).await;
    let ok = world
        .kamailio
        .messages()
        .into_iter()
        .find(|m| m.tag == "snd" && m.is_response(200) && m.text.contains("Flow-Timer"))
        .expect("Kamailio's 200 to the REGISTER carries a Flow-Timer");
    let flow = ok.to.clone();
    // Past two connection lifetimes the flow is still the same connection.
    std::thread::sleep(Duration::from_secs(11));
    world.gateway.drain_log();
    assert!(
        !world
            .gateway
            .seen
            .iter()
            .any(|l| l.contains("connection closed")),
        "the pinged flow outlived tcp_connection_lifetime:\n{}",
        world.gateway.seen.join("\n")
    );
    let uri = world.line_uri();
    world.phone().command("dial", &uri).unwrap();
    let h_call = app.offered().await;
    assert_eq!(app.op("lineAnswer", h_call).await, 0);
    app.state(h_call, LINECALLSTATE_CONNECTED).await;
    let invite = world
        .kamailio
        .messages()
        .into_iter()
        .find(|m| m.tag == "snd" && m.is_request("INVITE") && m.first_line().contains("1001@"))
        .expect("Kamailio forwarded the INVITE");
    assert_eq!(
        invite.to, flow,
        "the INVITE came over the registration's flow"
    );
    assert_eq!(app.op("lineDrop", h_call).await, 0);
    app.state(h_call, LINECALLSTATE_IDLE).await;
    assert_eq!(world.kamailio.bindings_of("1001").len(), 1);
}

/// SIGTERM: the gateway unregisters before it exits; Kamailio keeps no binding for 1001.
async fn sigterm_leaves_no_binding(transport: &'static str) {
    let mut world = World::start(KamailioOptions::default(), transport);
    let mut app = App::open(&world).await;
    app.wait_registered().await;
    let status = world.gateway.stop();
    assert!(status.success(), "{status:?}");
    world
        .kamailio
        .wait_bindings("1001", Duration::from_secs(3), "empty", |b| b.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_leaves_no_binding_udp() {
    sigterm_leaves_no_binding("udp").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_leaves_no_binding_tcp() {
    sigterm_leaves_no_binding("tcp").await;
}

/// baresip's `sndcode` during a call sends RFC 4733 telephone-events (it offers PT 101); the
/// app gets each digit from lineMonitorDigits.
#[tokio::test(flavor = "multi_thread")]
async fn dtmf_from_baresip_reaches_line_monitor_digits() {
    let mut world = World::start(KamailioOptions::default(), "udp");
    let (mut app, h_call) = outbound_connected(&mut world).await;
    let modes = LINEDIGITMODE_DTMF | LINEDIGITMODE_DTMFEND;
    app.client
        .call(
            "lineMonitorDigits",
            serde_json::json!({"hCall": h_call, "digitModes": modes}),
        )
        .await
        .unwrap();
    world.phone().command("sndcode", "5").unwrap();
    let digit = u32::from(b'5');
    for mode in [LINEDIGITMODE_DTMF, LINEDIGITMODE_DTMFEND] {
        app.wait(&format!("LINE_MONITORDIGITS '5' mode {mode:#x}"), |m| {
            m.msg.dw_message_id == LINE_MONITORDIGITS
                && m.msg.h_device == h_call
                && m.msg.dw_param1 == digit
                && m.msg.dw_param2 == mode
        })
        .await;
    }
    assert_eq!(app.op("lineDrop", h_call).await, 0);
    app.state(h_call, LINECALLSTATE_IDLE).await;
}

/// baresip's audio source is a 440 Hz sine (`ausine,440`, 48 kHz stereo, sent as PCMU): the
/// gateway's mediaRecord of the call writes an 8 kHz WAV in which that tone is what it heard
/// (zero crossings at 2 x 440 a second, a level well above silence). baresip 1.0's `aufile` is
/// a source only, so the recording side of this check is the gateway's.
#[tokio::test(flavor = "multi_thread")]
async fn the_gateway_records_the_tone_baresip_sends() {
    let files = tempfile::tempdir().unwrap();
    let media = format!("files_dir = \"{}\"\n", files.path().display());
    let mut world = World::start_with_media(KamailioOptions::default(), "udp", &media);
    let (mut app, h_call) = outbound_connected(&mut world).await;
    let reply = app
        .client
        .call(
            "mediaRecord",
            serde_json::json!({"hCall": h_call, "file": "baresip.wav", "maxMs": 1500}),
        )
        .await
        .unwrap();
    let request = reply["requestId"]
        .as_u64()
        .expect("mediaRecord returns a request ID") as u32;
    assert_eq!(app.reply(request).await, 0, "the recording ended at maxMs");
    let mut wav = hound::WavReader::open(files.path().join("baresip.wav")).unwrap();
    let spec = wav.spec();
    assert_eq!((spec.sample_rate, spec.channels), (8000, 1));
    let samples: Vec<i16> = wav.samples::<i16>().map(Result::unwrap).collect();
    // The last second: the first packets may still be the jitter buffer's start-up.
    let tail = &samples[samples.len().saturating_sub(8000)..];
    assert_eq!(tail.len(), 8000, "at least a second recorded");
    let rms = (tail.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / 8000.0).sqrt();
    let crossings = tail.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
    assert!(rms > 1000.0, "a tone, not silence: RMS {rms:.0}");
    assert!(
        (800..=960).contains(&crossings),
        "440 Hz has 880 zero crossings a second, the recording {crossings}"
    );
    assert_eq!(app.op("lineDrop", h_call).await, 0);
    app.state(h_call, LINECALLSTATE_IDLE).await;
}
