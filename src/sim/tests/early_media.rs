//! Early media on outbound calls in virtual time: the SDP of a 18x is the call's remote media
//! before the 200 (lineGetCallInfo), and the 200's SDP replaces it, or is ignored after a
//! reliable 18x (RFC 3261 §13.2.1, RFC 3264; tests/sip_extensions.rs does it against SIPp).

use super::*;
use crate::sim::peer::PEER_SDP;
use crate::sim::PROVIDER;
use crate::tapi::{ConnectedMode, DisconnectMode};

#[test]
fn an_unreliable_183s_sdp_is_the_remote_media_until_the_200_brings_the_answer() {
    let mut sim = Sim::one_line("");
    let provider = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (request, call) = make_call(&mut sim, &app, "2000");
    let invite = only_request(sim.take_sip(provider.addr), Method::Invite);
    sim.deliver(provider.at(), provider.response(&invite, 100, None));
    let info = call_info(&mut sim, &app, call);
    assert_eq!((info.remote_media, info.codec), (None, None));
    let early = peer_sdp_on(7000);
    sim.deliver(provider.at(), provider.response(&invite, 183, Some(&early)));
    assert_eq!(
        summary(&sim.messages(app.conn)),
        vec![
            reply(request, 0),
            state(call, CallState::Proceeding),
            state(call, CallState::Ringback)
        ],
        "183 is RINGBACK, as 180"
    );
    assert!(
        requests(sim.take_sip(provider.addr)).is_empty(),
        "no PRACK for an unreliable 183"
    );
    let info = call_info(&mut sim, &app, call);
    assert_eq!(info.remote_media.as_deref(), Some("127.0.0.1:7000"));
    assert_eq!(info.codec.as_deref(), Some("PCMU"));
    // The 200's SDP is the answer (RFC 3261 §13.2.1): PCMA first, port 6000.
    let answer = PEER_SDP.replace("RTP/AVP 0 8 101", "RTP/AVP 8 0 101");
    sim.deliver(
        provider.at(),
        provider.response(&invite, 200, Some(&answer)),
    );
    only_request(sim.take_sip(provider.addr), Method::Ack);
    let info = call_info(&mut sim, &app, call);
    assert_eq!(info.remote_media.as_deref(), Some("127.0.0.1:6000"));
    assert_eq!(info.codec.as_deref(), Some("PCMA"));
    assert_eq!(
        summary(&sim.messages(app.conn))[0],
        state(call, CallState::Connected(ConnectedMode::ACTIVE))
    );
}

#[test]
fn a_200_without_sdp_after_an_unreliable_183_keeps_the_early_media() {
    let mut sim = Sim::one_line("");
    let provider = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (_, call) = make_call(&mut sim, &app, "2000");
    let invite = only_request(sim.take_sip(provider.addr), Method::Invite);
    let early = peer_sdp_on(7002);
    sim.deliver(provider.at(), provider.response(&invite, 183, Some(&early)));
    sim.deliver(provider.at(), provider.response(&invite, 200, None));
    only_request(sim.take_sip(provider.addr), Method::Ack);
    let messages = summary(&sim.messages(app.conn));
    assert_eq!(
        messages.last(),
        Some(&(LINE_CALLINFO, call.0, LINECALLINFOSTATE_CONNECTEDID, 0))
    );
    assert!(messages.contains(&state(call, CallState::Connected(ConnectedMode::ACTIVE))));
    let info = call_info(&mut sim, &app, call);
    assert_eq!(info.remote_media.as_deref(), Some("127.0.0.1:7002"));
}

#[test]
fn a_200_without_sdp_and_no_early_media_is_still_incompatible() {
    let mut sim = Sim::one_line("");
    let provider = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (_, call) = make_call(&mut sim, &app, "2000");
    let invite = only_request(sim.take_sip(provider.addr), Method::Invite);
    sim.deliver(provider.at(), provider.response(&invite, 180, None));
    sim.deliver(provider.at(), provider.response(&invite, 200, None));
    let sent = requests(sim.take_sip(provider.addr));
    let methods: Vec<Method> = sent.iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods, vec![Method::Ack, Method::Bye]);
    let messages = summary(&sim.messages(app.conn));
    assert!(messages.contains(&state(
        call,
        CallState::Disconnected(DisconnectMode::INCOMPATIBLE)
    )));
}

#[test]
fn an_unusable_18x_sdp_changes_nothing_and_a_later_one_counts() {
    let mut sim = Sim::one_line("");
    let provider = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (_, call) = make_call(&mut sim, &app, "2000");
    let invite = only_request(sim.take_sip(provider.addr), Method::Invite);
    let g729_only = peer_sdp_on(7004).replace("RTP/AVP 0 101", "RTP/AVP 18");
    sim.deliver(
        provider.at(),
        provider.response(&invite, 183, Some(&g729_only)),
    );
    assert_eq!(call_info(&mut sim, &app, call).remote_media, None);
    sim.deliver(
        provider.at(),
        provider.response(&invite, 183, Some(&peer_sdp_on(7006))),
    );
    assert_eq!(
        call_info(&mut sim, &app, call).remote_media.as_deref(),
        Some("127.0.0.1:7006")
    );
}
