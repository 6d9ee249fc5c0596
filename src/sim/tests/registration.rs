//! Registration in virtual time (tests/registration.rs does it against a SIPp registrar).

use std::time::Duration;

use super::*;
use crate::sim::PROVIDER;
use crate::tapi::{AddressStates, LineDevStates};

const REGISTERING: &str =
    "register = true\nexpires = 300\nauth_user = \"1001\"\npassword = \"secret\"";

#[test]
fn a_challenge_is_answered_the_line_goes_in_service_and_is_refreshed() {
    let mut sim = Sim::one_line(REGISTERING);
    let registrar = sim.peer(PROVIDER);
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    sim.call(
        app.conn,
        Fn::LineSetStatusMessages {
            line: app.line,
            line_states: LineDevStates::INSERVICE | LineDevStates::OUTOFSERVICE,
            address_states: AddressStates::NONE,
        },
    )
    .unwrap();
    let first = only_request(sim.take_sip(registrar.addr), Method::Register);
    assert_eq!(first.headers.expires, Some(300));
    assert!(first.headers.get("Authorization").is_none());
    let mut challenge = registrar.response(&first, 401, None);
    challenge.headers.push(
        "WWW-Authenticate",
        r#"Digest realm="sim", nonce="n0nce", algorithm=MD5, qop="auth""#,
    );
    sim.deliver(registrar.at(), challenge);
    let second = only_request(sim.take_sip(registrar.addr), Method::Register);
    assert_eq!(
        second.headers.call_id, first.headers.call_id,
        "one Call-ID per line"
    );
    assert_eq!(second.headers.cseq.seq, first.headers.cseq.seq + 1);
    assert_ne!(
        second.headers.via[0].branch(),
        first.headers.via[0].branch()
    );
    let auth = second.headers.get("Authorization").expect("credentials");
    for part in [
        r#"username="1001""#,
        r#"realm="sim""#,
        r#"nonce="n0nce""#,
        "nc=00000001",
    ] {
        assert!(auth.contains(part), "{auth}");
    }
    assert!(
        sim.messages(app.conn).is_empty(),
        "not in service before the 200"
    );
    let mut ok = registrar.response(&second, 200, None);
    ok.headers.contact.push(second.headers.contact[0].clone());
    ok.headers.contact[0].params.set("expires", Some("300"));
    sim.deliver(registrar.at(), ok);
    assert_eq!(
        summary(&sim.messages(app.conn)),
        vec![(LINE_LINEDEVSTATE, app.line.0, LINEDEVSTATE_INSERVICE, 0)]
    );
    // Refreshed at 80% of the granted 300 s, with the cached nonce and the next count.
    sim.advance(Duration::from_secs(239));
    assert!(sim.take_sip(registrar.addr).is_empty());
    sim.advance(Duration::from_secs(1));
    let refresh = only_request(sim.take_sip(registrar.addr), Method::Register);
    assert!(refresh
        .headers
        .get("Authorization")
        .unwrap()
        .contains("nc=00000002"));
}
