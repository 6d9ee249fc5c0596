//! Conferences through the C interface against the real gateway, SIPp (uas_conference.xml,
//! -m 3) answering every call: lineCompleteTransfer(LINETRANSFERMODE_CONFERENCE) filling
//! lphConfCall, lineSetupConference, linePrepareAddToConference, lineAddToConference and
//! lineRemoveFromConference (tests/c/conference.c).

mod common;

use common::*;
use std::net::UdpSocket;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

/// One conference run of tests/c/conference.c (`mode`), SIPp answering its three calls.
fn conference(mode: &str) {
    let scratch = Scratch::new(&format!("conference-{mode}"));
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let rtp_port = rtp.local_addr().unwrap().port().to_string();
    let sf = scenario("uas_conference.xml");
    let (port, sipp) = Sipp::provider(&scratch, &sf, &["-m", "3", "-key", "rtp_port", &rtp_port]);
    let gw = Gateway::start(port);
    let exe = compile(&scratch, &c_source("conference.c"), &[]);
    let ran = run(&scratch, &exe, &[mode], &gw.env(), LIMIT);
    assert_eq!(ran.code(), Some(0), "{ran}");
    assert!(ran.stdout.contains("\n0 failures"), "{ran}");
    sipp.assert_success("provider answering the conference's calls");
}

#[test]
fn a_transfer_completed_as_a_conference_fills_lph_conf_call_and_takes_a_third_party() {
    conference("transfer");
}

#[test]
fn line_setup_conference_and_prepare_add_build_a_conference() {
    conference("setup");
}
