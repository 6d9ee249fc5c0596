//! Timers never starve: every input first fires what is due. A flood of SIP and API input,
//! with no timer wake-up at all in between, still sees the INVITE retransmitted on time and
//! Timer B fail the call on time.

use std::time::Duration;

use super::*;
use crate::sim::PROVIDER;
use crate::tapi::{DeviceId, LINEERR_OPERATIONFAILED};

#[test]
fn retransmissions_and_timer_b_fire_on_time_under_a_flood() {
    let mut sim = Sim::one_line("");
    let gw = sim.gateway_addr();
    let provider = sim.peer(PROVIDER);
    let mut scanner = sim.peer("127.0.0.1:6666");
    let app = open_app(&mut sim, LINECALLPRIVILEGE_OWNER);
    let (request, _) = make_call(&mut sim, &app, "2000");
    only_request(sim.take_sip(provider.addr), Method::Invite);
    let start = sim.now;
    let mut invites = Vec::new();
    let mut reply_at = None;
    // 33 s of input every 50 ms (SIP OPTIONS and API calls), and never a timer wake-up.
    for _ in 0..660 {
        sim.skip(Duration::from_millis(50));
        let mut options = scanner.invite(gw, "1001", None);
        options.method = Method::Options;
        options.headers.cseq.method = Method::Options;
        sim.deliver(scanner.at(), options);
        sim.call(
            app.conn,
            Fn::LineGetDevCaps {
                app: app.app,
                device: DeviceId(0),
                api_version: API_VERSION_HIGH,
            },
        )
        .unwrap();
        assert_eq!(statuses(&sim.take_sip(scanner.addr)), vec![200]);
        for m in sim.take_sip(provider.addr) {
            if let SipMessage::Request(r) = m {
                assert_eq!(r.method, Method::Invite);
                invites.push((sim.now - start).as_millis());
            }
        }
        let replies = summary(&sim.messages(app.conn));
        if !replies.is_empty() {
            assert_eq!(
                replies,
                vec![reply(request, LINEERR_OPERATIONFAILED.code())]
            );
            reply_at = Some((sim.now - start).as_millis());
        }
    }
    // Each retransmission goes out with the first input at or after its deadline.
    assert_eq!(invites, vec![500, 1500, 3500, 7500, 15500, 31500]);
    assert_eq!(reply_at, Some(32000), "Timer B = 64*T1");
}
