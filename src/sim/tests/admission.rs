//! SIP admission in virtual time: the INVITE rate per source (503 with Retry-After, then
//! silence), the server transaction limit, sources no line trusts (the same 403 for every user
//! and method, OPTIONS included), `trusted` entries with a port, and the overload refusal of
//! new INVITEs that queued too long (tests/sip_protection.rs floods the real binary).

use std::time::Duration;

use super::*;
use crate::provider::AdmissionStats;
use crate::sim::peer::PEER_SDP;
use crate::sim::{SipPeer, PROVIDER};
use crate::tapi::{CallState, DisconnectMode};

fn responses(messages: Vec<SipMessage>) -> Vec<Response> {
    messages
        .into_iter()
        .filter_map(|m| match m {
            SipMessage::Response(r) => Some(r),
            SipMessage::Request(_) => None,
        })
        .collect()
}

/// One INVITE from `peer` to `user`; the responses it got.
fn invite_from(sim: &mut Sim, peer: &mut SipPeer, user: &str) -> Vec<Response> {
    let gw = sim.gateway_addr();
    let invite = peer.invite(gw, user, Some(PEER_SDP));
    sim.deliver(peer.at(), invite);
    responses(sim.take_sip(peer.addr))
}

fn stats(sim: &Sim) -> AdmissionStats {
    sim.gw.admission_stats()
}

#[test]
fn a_source_over_its_invite_rate_gets_one_503_then_silence_until_its_block_ends() {
    let mut sim = Sim::with_sip(
        "invite_rate_per_source = 3\ninvite_flood_block_s = 10",
        &format!("[[lines]]\nuser = \"1001\"\ndomain = \"example.org\"\nproxy = \"{PROVIDER}\"\ntrusted = [\"127.0.0.2\"]\n"),
    );
    let mut flooder = sim.peer(PROVIDER);
    for _ in 0..3 {
        let got = invite_from(&mut sim, &mut flooder, "1001");
        assert_eq!(got.last().map(|r| r.status), Some(480), "admitted");
    }
    let transactions = sim.gw.provider().num_transactions();
    let refused = invite_from(&mut sim, &mut flooder, "1001");
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].status, 503);
    assert_eq!(refused[0].headers.get("Retry-After"), Some("10"));
    assert_eq!(refused[0].headers.get("Server"), None);
    for _ in 0..50 {
        assert!(
            invite_from(&mut sim, &mut flooder, "1001").is_empty(),
            "silence"
        );
    }
    assert_eq!(
        sim.gw.provider().num_transactions(),
        transactions,
        "refusing costs no transaction"
    );
    let mut other = sim.peer("127.0.0.2:5070");
    let got = invite_from(&mut sim, &mut other, "1001");
    assert_eq!(
        got.last().map(|r| r.status),
        Some(480),
        "other sources unaffected"
    );
    assert_eq!(
        stats(&sim),
        AdmissionStats {
            invite_rate_refused: 1,
            invite_rate_dropped: 50,
            ..AdmissionStats::default()
        }
    );
    sim.advance(Duration::from_secs(10));
    let got = invite_from(&mut sim, &mut flooder, "1001");
    assert_eq!(got.last().map(|r| r.status), Some(480), "admitted again");
}

#[test]
fn strangers_get_the_same_403_for_every_user_and_method() {
    let mut sim = Sim::one_line("");
    let mut stranger = sim.peer("192.0.2.66:5060");
    let known = invite_from(&mut sim, &mut stranger, "1001");
    let unknown = invite_from(&mut sim, &mut stranger, "9999");
    for got in [&known, &unknown] {
        assert_eq!(got.len(), 1, "no 100 Trying: no transaction");
        assert_eq!(got[0].status, 403);
        assert_eq!(got[0].headers.get("Server"), None);
    }
    assert_eq!(known[0].reason, unknown[0].reason);
    // RFC 3261 §11.2: OPTIONS gets what an INVITE would, and here nothing more.
    let gw = sim.gateway_addr();
    let mut options = stranger.invite(gw, "1001", None);
    options.method = Method::Options;
    options.headers.cseq.method = Method::Options;
    sim.deliver(stranger.at(), options.clone());
    let got = responses(sim.take_sip(stranger.addr));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].status, 403);
    for header in ["Allow", "Supported", "Accept", "Accept-Language", "Server"] {
        assert_eq!(
            got[0].headers.get(header),
            None,
            "{header} shown to a stranger"
        );
    }
    // The provider still learns what we can do.
    let mut provider = sim.peer(PROVIDER);
    let mut options = provider.invite(gw, "1001", None);
    options.method = Method::Options;
    options.headers.cseq.method = Method::Options;
    sim.deliver(provider.at(), options);
    let got = responses(sim.take_sip(provider.addr));
    assert_eq!(got[0].status, 200);
    assert!(got[0].headers.get("Allow").is_some());
    assert_eq!(stats(&sim).untrusted_refused, 3);
    assert_eq!(
        sim.gw.provider().num_transactions(),
        1,
        "only the provider's OPTIONS"
    );
}

#[test]
fn a_trusted_entry_with_a_port_pins_its_host_to_that_port() {
    let mut sim = Sim::one_line("trusted = [\"127.0.0.1:5080\"]");
    let mut listed = sim.peer("127.0.0.1:5080");
    let mut proxy = sim.peer(PROVIDER);
    let mut other_port = sim.peer("127.0.0.1:5999");
    let last = |got: Vec<Response>| got.last().map(|r| r.status);
    assert_eq!(last(invite_from(&mut sim, &mut listed, "1001")), Some(480));
    assert_eq!(last(invite_from(&mut sim, &mut proxy, "1001")), Some(480));
    assert_eq!(
        last(invite_from(&mut sim, &mut other_port, "1001")),
        Some(403)
    );
}

#[test]
fn beyond_the_server_transaction_limit_new_requests_get_503_and_retransmissions_their_answer() {
    let mut sim = Sim::with_sip(
        "max_server_transactions = 2",
        &format!("[[lines]]\nuser = \"1001\"\ndomain = \"example.org\"\nproxy = \"{PROVIDER}\"\n"),
    );
    let mut provider = sim.peer(PROVIDER);
    let first = invite_from(&mut sim, &mut provider, "1001");
    assert_eq!(first.last().map(|r| r.status), Some(480));
    invite_from(&mut sim, &mut provider, "1001");
    let gw = sim.gateway_addr();
    let third = provider.invite(gw, "1001", Some(PEER_SDP));
    sim.deliver(provider.at(), third);
    let got = responses(sim.take_sip(provider.addr));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].status, 503);
    assert_eq!(got[0].headers.get("Retry-After"), Some("5"));
    assert_eq!(stats(&sim).server_transactions_refused, 1);
    assert_eq!(sim.gw.provider().num_transactions(), 2);
}

#[test]
fn when_the_core_is_behind_new_invites_get_503_while_dialogs_go_on() {
    let mut sim = Sim::one_line("");
    let mut provider = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (_, call) = make_call(&mut sim, &app, "2000");
    let invite = only_request(sim.take_sip(provider.addr), Method::Invite);
    let ok = provider.response(&invite, 200, Some(PEER_SDP));
    sim.deliver(provider.at(), ok.clone());
    sim.take_sip(provider.addr);
    sim.messages(app.conn);

    let late = Duration::from_millis(500);
    let gw = sim.gateway_addr();
    let new = provider.invite(gw, "1001", Some(PEER_SDP));
    let transactions = sim.gw.provider().num_transactions();
    sim.deliver_queued(provider.at(), new, late);
    let got = responses(sim.take_sip(provider.addr));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].status, 503);
    assert_eq!(got[0].headers.get("Retry-After"), Some("5"));
    assert_eq!(sim.gw.provider().num_transactions(), transactions);
    assert_eq!(stats(&sim).overload_refused, 1);
    // The BYE of the call, just as late, is handled.
    let bye = provider.in_their_dialog(&invite, &ok, Method::Bye, 2);
    sim.deliver_queued(provider.at(), bye, late);
    assert_eq!(statuses(&sim.take_sip(provider.addr)), vec![200]);
    assert_eq!(
        summary(&sim.messages(app.conn)),
        vec![
            state(call, CallState::Disconnected(DisconnectMode::NORMAL)),
            state(call, CallState::Idle),
        ]
    );
    // Not late: taken as usual.
    let next = provider.invite(gw, "1001", Some(PEER_SDP));
    sim.deliver_queued(provider.at(), next, Duration::from_millis(10));
    assert_eq!(statuses(&sim.take_sip(provider.addr)), vec![100, 180]);
}

/// A flood that makes the core look behind (it sat in the socket buffer) is still cut off by
/// the INVITE rate: the INVITEs within the rate get the overload 503, the first over it the
/// flood's 503, and the rest nothing.
#[test]
fn a_late_flood_still_gets_silence_after_its_503() {
    let mut sim = Sim::with_sip("invite_rate_per_source = 3\ninvite_flood_block_s = 10", "");
    let mut flooder = sim.peer(PROVIDER);
    let gw = sim.gateway_addr();
    let late = Duration::from_millis(500);
    let mut retry_afters = Vec::new();
    for _ in 0..20 {
        let invite = flooder.invite(gw, "1001", Some(PEER_SDP));
        sim.deliver_queued(flooder.at(), invite, late);
        for response in responses(sim.take_sip(flooder.addr)) {
            assert_eq!(response.status, 503);
            retry_afters.push(response.headers.get("Retry-After").map(str::to_owned));
        }
    }
    let five = Some("5".to_owned());
    let ten = Some("10".to_owned());
    assert_eq!(retry_afters, vec![five.clone(), five.clone(), five, ten]);
    let stats = stats(&sim);
    assert_eq!(
        (
            stats.overload_refused,
            stats.invite_rate_refused,
            stats.invite_rate_dropped
        ),
        (3, 1, 16)
    );
}
