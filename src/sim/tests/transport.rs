//! Connection-oriented lines in virtual time (issue 19 item 1, RFC 5626): the REGISTER of a
//! TCP/TLS line names our listener with `reg-id` and `+sip.instance`, an `rport` of the
//! connection is never advertised, the flow is pinged and must pong, and a lost flow is
//! registered again (at once, then with back-off) with the same binding; stop removes it.
//! Also what TLS lines advertise.

use std::time::Duration;

use super::*;
use crate::sim::{SipPeer, PROVIDER};
use crate::sip::message::{NameAddr, Request};
use crate::sip::transport::{FlowEvent, Transport, TransportCommand};

const TCP_LINE: &str = "transport = \"tcp\"\nregister = true\nexpires = 300";

/// The registrar's 200 to `register`: our Contact back with `expires`, and our Via stamped
/// as Kamailio does over TCP (`received` and the connection's port as `rport`).
fn ok(registrar: &SipPeer, register: &Request, extra: &[(&str, &str)]) -> Response {
    let mut ok = registrar.response(register, 200, None);
    ok.headers.contact = vec![register.headers.contact[0].clone()];
    ok.headers.contact[0].params.set("expires", Some("300"));
    ok.headers.via[0].params.set("received", Some("127.0.0.1"));
    ok.headers.via[0].params.set("rport", Some("55080"));
    for (name, value) in extra {
        ok.headers.push(name, *value);
    }
    ok
}

/// A TCP line registered through `registrar` (with `extra` headers on the 200).
fn registered(extra: &[(&str, &str)]) -> (Sim, SipPeer, Request) {
    let mut sim = Sim::one_line(TCP_LINE);
    let registrar = sim.peer_on(PROVIDER, Transport::Tcp);
    let register = only_request(sim.take_sip(registrar.addr), Method::Register);
    sim.deliver(registrar.at(), ok(&registrar, &register, extra));
    (sim, registrar, register)
}

fn contact_text(contact: &NameAddr) -> String {
    contact.to_string()
}

#[test]
fn a_tcp_line_registers_its_listener_as_an_outbound_flow_and_ignores_rport() {
    let (mut sim, registrar, register) = registered(&[]);
    let via = &register.headers.via[0];
    assert_eq!(via.transport, "TCP");
    assert_eq!(via.host.to_string(), "127.0.0.1");
    assert_eq!(via.port, Some(5060), "the listener, sip.listen");
    let contact = &register.headers.contact[0];
    assert_eq!(
        contact.uri.to_string(),
        "sip:1001@127.0.0.1:5060;transport=tcp"
    );
    assert_eq!(contact.params.value("reg-id"), Some("1"), "RFC 5626 §4.2.1");
    let instance = contact.params.value("+sip.instance").unwrap_or("");
    assert!(
        instance.starts_with("\"<urn:uuid:") && instance.ends_with(">\"") && instance.len() == 49,
        "{instance}"
    );
    assert_eq!(register.headers.get("Supported"), Some("outbound, path"));
    // The 200's rport=55080 is the connection's port: no second REGISTER, nothing learnt.
    assert!(
        sim.take_sip(registrar.addr).is_empty(),
        "one binding, one REGISTER"
    );
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (_, _) = make_call(&mut sim, &app, "2000");
    let invite = only_request(sim.take_sip(registrar.addr), Method::Invite);
    assert_eq!(
        contact_text(&invite.headers.contact[0]),
        "<sip:1001@127.0.0.1:5060;transport=tcp;ob>",
        "dialogs come back over the flow (RFC 5626 §4.3)"
    );
    assert_eq!(invite.headers.via[0].port, Some(5060));
}

#[test]
fn the_instance_is_stable_across_restarts_and_differs_per_line() {
    let register = |lines: &str| {
        let mut sim = Sim::new(lines);
        let peer = sim.peer_on(PROVIDER, Transport::Tcp);
        sim.take_sip(peer.addr)
            .into_iter()
            .map(|m| match m {
                SipMessage::Request(r) => r.headers.contact[0]
                    .params
                    .value("+sip.instance")
                    .unwrap_or("")
                    .to_string(),
                SipMessage::Response(_) => panic!("a response"),
            })
            .collect::<Vec<_>>()
    };
    let two = format!(
        "[[lines]]\nuser = \"1001\"\ndomain = \"example.org\"\nproxy = \"{PROVIDER}\"\n{TCP_LINE}\n\
         [[lines]]\nuser = \"1002\"\ndomain = \"example.org\"\nproxy = \"{PROVIDER}\"\n{TCP_LINE}\n"
    );
    let first = register(&two);
    assert_eq!(first.len(), 2);
    assert_ne!(first[0], first[1]);
    assert_eq!(
        register(&two),
        first,
        "the same configuration, the same instances"
    );
}

/// Advances in 100 ms steps until the gateway pings `registrar`; how long it took.
fn until_ping(sim: &mut Sim, registrar: &SipPeer, max: Duration) -> Duration {
    let step = Duration::from_millis(100);
    let mut waited = Duration::ZERO;
    while waited < max {
        sim.advance(step);
        waited += step;
        let sent = sim.take_transmits(registrar.addr);
        if !sent.is_empty() {
            assert_eq!(sent.len(), 1);
            assert_eq!(&sent[0].payload[..], b"\r\n\r\n");
            assert_eq!(sent[0].destination, registrar.at(), "over the flow");
            return waited;
        }
    }
    panic!("no ping within {max:?}");
}

#[test]
fn the_flow_is_pinged_at_the_flow_timer_and_a_missing_pong_replaces_it() {
    let (mut sim, registrar, register) = registered(&[("Flow-Timer", "20")]);
    let first = until_ping(&mut sim, &registrar, Duration::from_secs(21));
    assert!(
        first >= Duration::from_secs(16),
        "80-100% of 20 s: {first:?}"
    );
    sim.flow(FlowEvent::Pong(registrar.at()));
    sim.advance(Duration::from_secs(10));
    assert!(sim.take_commands().is_empty(), "answered: alive");
    assert!(sim.take_sip(registrar.addr).is_empty());
    // The next ping goes unanswered: 10 s later the flow is closed and registered again.
    let second = until_ping(&mut sim, &registrar, Duration::from_secs(11));
    assert!(
        second + Duration::from_secs(10) >= Duration::from_secs(16),
        "{second:?}"
    );
    sim.advance(Duration::from_millis(9900));
    assert!(sim.take_commands().is_empty());
    sim.advance(Duration::from_millis(100));
    assert_eq!(
        sim.take_commands(),
        vec![TransportCommand::Close(registrar.at())]
    );
    let again = only_request(sim.take_sip(registrar.addr), Method::Register);
    assert_same_binding(&register, &again);
}

fn assert_same_binding(first: &Request, again: &Request) {
    assert_eq!(again.headers.call_id, first.headers.call_id);
    assert!(again.headers.cseq.seq > first.headers.cseq.seq);
    assert_eq!(
        contact_text(&again.headers.contact[0]),
        contact_text(&first.headers.contact[0]),
        "the same binding"
    );
}

#[test]
fn a_closed_flow_is_registered_again_at_once_then_with_back_off() {
    let (mut sim, registrar, register) = registered(&[]);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    sim.messages(app.conn);
    sim.advance(Duration::from_secs(5));
    sim.flow(FlowEvent::Closed(registrar.at()));
    let again = only_request(sim.take_sip(registrar.addr), Method::Register);
    assert_same_binding(&register, &again);
    assert!(
        sim.messages(app.conn).is_empty(),
        "the line stays in service"
    );
    sim.deliver(registrar.at(), ok(&registrar, &again, &[]));
    // Dies young again: RFC 5626 §4.5 waits 15-30 s (base-time 30 s at 50-100%).
    sim.advance(Duration::from_secs(5));
    sim.flow(FlowEvent::Closed(registrar.at()));
    sim.advance(Duration::from_secs(14));
    assert!(sim.take_sip(registrar.addr).is_empty(), "backing off");
    sim.advance(Duration::from_secs(16));
    only_request(sim.take_sip(registrar.addr), Method::Register);
    // A close of some other connection (a peer's own, to our listener) changes nothing.
    let other = sim.peer_on("127.0.0.1:40001", Transport::Tcp);
    sim.flow(FlowEvent::Closed(other.at()));
    assert!(sim.take_sip(registrar.addr).is_empty());
}

#[test]
fn stop_removes_the_one_binding_with_expires_zero() {
    let (mut sim, registrar, register) = registered(&[]);
    sim.gw.begin_shutdown(sim.now);
    sim.advance(Duration::ZERO);
    let bye = only_request(sim.take_sip(registrar.addr), Method::Register);
    assert_eq!(bye.headers.expires, Some(0));
    assert_same_binding(&register, &bye);
    // A flow closing during the stop does not register again.
    sim.flow(FlowEvent::Closed(registrar.at()));
    assert!(sim.take_sip(registrar.addr).is_empty());
}

#[test]
fn a_tls_line_advertises_the_tls_listener_and_defaults_to_5061() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let (c, k) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
    std::fs::write(&c, cert.cert.pem()).unwrap();
    std::fs::write(&k, cert.key_pair.serialize_pem()).unwrap();
    let sip = format!(
        "tls_listen = \"127.0.0.1:5061\"\ntls_cert = {:?}\ntls_key = {:?}",
        c.display(),
        k.display()
    );
    let lines = format!(
        "[[lines]]\nuser = \"1001\"\ndomain = \"example.org\"\nproxy = \"localhost\"\n\
         transport = \"tls\"\nregister = true\ntls_ca = {:?}\n",
        c.display()
    );
    let mut sim = Sim::with_sip(&sip, &lines);
    let proxy = sim.config.lines[0].proxy;
    assert_eq!(proxy.port(), 5061, "RFC 3261 §19.1.2");
    let sent = sim.take_transmits(proxy);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].destination.transport, Transport::Tls);
    let Ok(SipMessage::Request(register)) = crate::sip::codec::decode(&sent[0].payload) else {
        panic!("a REGISTER");
    };
    assert_eq!(register.headers.via[0].transport, "TLS");
    assert_eq!(register.headers.via[0].port, Some(5061), "the TLS listener");
    assert_eq!(
        register.headers.contact[0].uri.to_string(),
        "sip:1001@127.0.0.1:5061;transport=tls"
    );
    let names = &sim.config.lines[0].tls.as_ref().unwrap().names;
    assert_eq!(
        names[0],
        (proxy, "localhost".to_string()),
        "SNI from the proxy's name"
    );
}
