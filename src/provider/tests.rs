//! Provider tests with a fake clock: SIP in as parsed messages, SIP out decoded from the
//! datagrams, TAPI out as provider events.

use std::time::{Duration, Instant};

use super::SipProvider;
use crate::config::GatewayConfig;
use crate::sip::codec;
use crate::sip::message::{Method, Request, Response, SipMessage};
use crate::sip::transport::{Incoming, Peer, Transport};
use crate::tapi::consts::*;
use crate::tapi::{
    CallId, CallOp, CallState, DeviceId, LineDevStates, LineProvider, MediaModes, ProviderEvent,
    RequestId, LINEERR_INVALCALLSTATE, LINEERR_OPERATIONFAILED,
};

const SDP_ANSWER: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n";

fn config(extra_line: &str) -> GatewayConfig {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.toml");
    let text = format!(
        "[sip]\nlisten = \"127.0.0.1:5060\"\n[api]\nlisten = \"127.0.0.1:8274\"\n[media]\nmode = \"none\"\n\
         [[lines]]\nuser = \"1001\"\ndomain = \"example.org\"\nproxy = \"127.0.0.1:5070\"\n{extra_line}\n"
    );
    std::fs::write(&path, text).unwrap();
    crate::config::load(&path).unwrap()
}

struct Harness {
    p: SipProvider,
    now: Instant,
    proxy: Peer,
}

impl Harness {
    fn new(extra_line: &str) -> Harness {
        let cfg = config(extra_line);
        let now = Instant::now();
        let media = crate::media::allocator_for(&cfg.media);
        let p = SipProvider::new(&cfg, media, 1, now);
        Harness {
            p,
            now,
            proxy: Peer {
                transport: Transport::Udp,
                addr: "127.0.0.1:5070".parse().unwrap(),
            },
        }
    }

    fn sent(&mut self) -> Vec<(Peer, SipMessage)> {
        let mut out = Vec::new();
        while let Some(t) = self.p.poll_transmit() {
            out.push((
                t.destination,
                codec::decode(&t.payload).expect("we send valid SIP"),
            ));
        }
        out
    }

    fn sent_requests(&mut self) -> Vec<Request> {
        self.sent()
            .into_iter()
            .filter_map(|(_, m)| match m {
                SipMessage::Request(r) => Some(r),
                _ => None,
            })
            .collect()
    }

    fn sent_responses(&mut self) -> Vec<Response> {
        self.sent()
            .into_iter()
            .filter_map(|(_, m)| match m {
                SipMessage::Response(r) => Some(r),
                _ => None,
            })
            .collect()
    }

    fn events(&mut self) -> Vec<ProviderEvent> {
        std::iter::from_fn(|| self.p.poll_event()).collect()
    }

    fn feed(&mut self, message: SipMessage) {
        let incoming = Incoming {
            source: self.proxy,
            message,
        };
        self.p.handle_incoming(self.now, incoming);
    }

    fn advance(&mut self, by: Duration) {
        let until = self.now + by;
        while let Some(t) = self.p.poll_timeout().filter(|t| *t <= until) {
            self.now = t.max(self.now);
            self.p.handle_timeout(self.now);
        }
        self.now = until;
        self.p.handle_timeout(self.now);
    }

    fn make_call(&mut self) -> (CallId, Request) {
        let call = self
            .p
            .make_call(self.now, RequestId(1), DeviceId(0), "5551234")
            .unwrap();
        let invite = self.sent_requests().pop().expect("an INVITE");
        (call, invite)
    }
}

fn answer(invite: &Request, status: u16, sdp: Option<&str>) -> SipMessage {
    let mut r = Response::for_request(invite, status, Some("remote1"));
    r.headers.contact.push(invite.headers.to.clone());
    if let Some(sdp) = sdp {
        r.headers.content_type = Some("application/sdp".into());
        r.body = sdp.as_bytes().to_vec();
    }
    r.into()
}

fn state(call: CallId, state: u32, mode: u32) -> ProviderEvent {
    let state = CallState::from_raw(state, mode).expect("a LINECALLSTATE_");
    ProviderEvent::CallState { call, state }
}

fn completion(request: u32, ok: bool) -> ProviderEvent {
    ProviderEvent::Completion {
        request: RequestId(request),
        result: if ok {
            Ok(())
        } else {
            Err(LINEERR_OPERATIONFAILED)
        },
    }
}

#[test]
fn outbound_invite_carries_the_offer_and_line_identity() {
    let mut h = Harness::new("");
    let (_, invite) = h.make_call();
    assert_eq!(invite.method, Method::Invite);
    assert_eq!(invite.uri.to_string(), "sip:5551234@example.org");
    assert_eq!(invite.headers.from.uri.to_string(), "sip:1001@example.org");
    assert!(invite.headers.from.tag().is_some());
    assert!(invite.headers.get("User-Agent").is_some());
    assert_eq!(invite.headers.contact.len(), 1);
    let body = String::from_utf8(invite.body.clone()).unwrap();
    assert!(body.contains("m=audio"), "{body}");
    assert!(body.contains("telephone-event/8000"), "{body}");
}

#[test]
fn outbound_call_answered_then_dropped() {
    let mut h = Harness::new("");
    let (call, invite) = h.make_call();
    assert!(h.events().is_empty(), "nothing before the network answers");
    h.feed(answer(&invite, 100, None));
    assert_eq!(
        h.events(),
        vec![
            completion(1, true),
            state(call, LINECALLSTATE_PROCEEDING, 0)
        ]
    );
    h.feed(answer(&invite, 180, None));
    h.feed(answer(&invite, 180, None));
    assert_eq!(h.events(), vec![state(call, LINECALLSTATE_RINGBACK, 0)]);
    h.feed(answer(&invite, 200, Some(SDP_ANSWER)));
    let acks = h.sent_requests();
    assert_eq!(acks.len(), 1);
    assert_eq!(acks[0].method, Method::Ack);
    assert_eq!(acks[0].headers.cseq.seq, invite.headers.cseq.seq);
    assert_eq!(acks[0].headers.to.tag(), Some("remote1"));
    let ev = h.events();
    assert_eq!(
        ev[0],
        state(call, LINECALLSTATE_CONNECTED, LINECONNECTEDMODE_ACTIVE)
    );
    let info = h.p.call_info(call).unwrap();
    assert_eq!(info.codec.as_deref(), Some("PCMA"));
    assert_eq!(info.remote_media.as_deref(), Some("127.0.0.1:6000"));
    // A retransmitted 2xx gets the same ACK again (RFC 3261 §13.2.2.4).
    h.feed(answer(&invite, 200, Some(SDP_ANSWER)));
    let again = h.sent_requests();
    assert_eq!(again, acks);
    assert!(h.events().is_empty());

    h.p.call_op(h.now, RequestId(2), call, CallOp::Drop)
        .unwrap();
    let bye = h.sent_requests().pop().unwrap();
    assert_eq!(bye.method, Method::Bye);
    assert_eq!(bye.uri.to_string(), invite.headers.to.uri.to_string());
    assert!(
        h.events().is_empty(),
        "LINE_REPLY waits for the dialog to end"
    );
    let ok = Response::for_request(&bye, 200, None);
    h.feed(ok.into());
    assert_eq!(
        h.events(),
        vec![completion(2, true), state(call, LINECALLSTATE_IDLE, 0)]
    );
    assert_eq!(
        h.p.call_op(h.now, RequestId(3), call, CallOp::Drop),
        Err(LINEERR_INVALCALLSTATE)
    );
    h.p.close_call(h.now, call);
    assert_eq!(h.p.num_calls(), 0);
}

#[test]
fn busy_maps_to_disconnected_busy_then_idle() {
    let mut h = Harness::new("");
    let (call, invite) = h.make_call();
    h.feed(answer(&invite, 486, None));
    let ack = h.sent_requests().pop().unwrap();
    assert_eq!(ack.method, Method::Ack, "the transaction ACKs a non-2xx");
    assert_eq!(
        h.events(),
        vec![
            completion(1, true),
            state(call, LINECALLSTATE_DISCONNECTED, LINEDISCONNECTMODE_BUSY),
            state(call, LINECALLSTATE_IDLE, 0)
        ]
    );
}

#[test]
fn no_answer_at_all_fails_the_request_without_call_states() {
    let mut h = Harness::new("");
    let (_, _) = h.make_call();
    h.advance(Duration::from_secs(33));
    assert_eq!(h.events(), vec![completion(1, false)]);
    assert_eq!(h.p.num_calls(), 0);
}

#[test]
fn released_before_any_provisional_cancels_once_one_arrives() {
    // TAPI cannot drop a call before its LINE_REPLY; an app that shuts down can release it.
    let mut h = Harness::new("");
    let (call, invite) = h.make_call();
    h.p.close_call(h.now, call);
    assert!(
        h.sent_requests().is_empty(),
        "§9.1: no CANCEL before a provisional"
    );
    h.feed(answer(&invite, 180, None));
    let cancel = h.sent_requests().pop().unwrap();
    assert_eq!(cancel.method, Method::Cancel);
    assert_eq!(
        cancel.headers.via[0].branch(),
        invite.headers.via[0].branch()
    );
    assert_eq!(cancel.headers.cseq.seq, invite.headers.cseq.seq);
    assert!(h.events().is_empty(), "a released call reports nothing");
    h.feed(Response::for_request(&cancel, 200, None).into());
    h.feed(answer(&invite, 487, None));
    assert!(h.events().is_empty());
    assert_eq!(h.p.num_calls(), 0);
}

#[test]
fn drop_while_ringing_cancels_and_completes_on_487() {
    let mut h = Harness::new("");
    let (call, invite) = h.make_call();
    h.feed(answer(&invite, 180, None));
    h.events();
    h.p.call_op(h.now, RequestId(2), call, CallOp::Drop)
        .unwrap();
    let cancel = h.sent_requests().pop().unwrap();
    assert_eq!(cancel.method, Method::Cancel);
    h.feed(Response::for_request(&cancel, 200, None).into());
    assert!(
        h.events().is_empty(),
        "LINE_REPLY waits for the INVITE to end"
    );
    h.feed(answer(&invite, 487, None));
    assert_eq!(
        h.events(),
        vec![completion(2, true), state(call, LINECALLSTATE_IDLE, 0)]
    );
}

#[test]
fn a_2xx_crossing_our_cancel_is_acked_and_byed() {
    let mut h = Harness::new("");
    let (call, invite) = h.make_call();
    h.feed(answer(&invite, 180, None));
    h.events();
    h.p.call_op(h.now, RequestId(2), call, CallOp::Drop)
        .unwrap();
    let cancel = h.sent_requests().pop().unwrap();
    assert_eq!(cancel.method, Method::Cancel);
    h.feed(answer(&invite, 200, Some(SDP_ANSWER)));
    let sent: Vec<Method> = h.sent_requests().into_iter().map(|r| r.method).collect();
    assert_eq!(sent, vec![Method::Ack, Method::Bye]);
    assert!(h.events().is_empty());
}

fn inbound_invite(sdp: Option<&str>) -> Request {
    let text = format!(
        "INVITE sip:1001@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKin1\r\n\
         From: \"Alice\" <sip:2000@127.0.0.1>;tag=a1\r\nTo: <sip:1001@127.0.0.1>\r\nCall-ID: in1@x\r\n\
         CSeq: 1 INVITE\r\nContact: <sip:2000@127.0.0.1:5070>\r\nMax-Forwards: 70\r\n{}\r\n{}",
        if sdp.is_some() { "Content-Type: application/sdp\r\n" } else { "" },
        sdp.unwrap_or("")
    );
    match codec::decode(text.as_bytes()).unwrap() {
        SipMessage::Request(r) => r,
        _ => unreachable!(),
    }
}

fn offered(h: &mut Harness, sdp: Option<&str>) -> (CallId, Request) {
    h.p.set_default_media_detection(h.now, DeviceId(0), MediaModes::INTERACTIVEVOICE);
    let invite = inbound_invite(sdp);
    h.feed(invite.clone().into());
    let ev = h.events();
    let call = match ev[0] {
        ProviderEvent::NewCall { call, .. } => call,
        ref other => panic!("expected NewCall, got {other:?}"),
    };
    assert_eq!(
        ev[1],
        state(call, LINECALLSTATE_OFFERING, LINEOFFERINGMODE_ACTIVE)
    );
    let statuses: Vec<u16> = h.sent_responses().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![100, 180]);
    let info = h.p.call_info(call).unwrap();
    assert_eq!(info.caller_id, "2000");
    assert_eq!(info.caller_id_name, "Alice");
    assert_eq!(info.called_id, "1001");
    assert_eq!(info.origin, crate::tapi::CallOrigin::INBOUND);
    (call, invite)
}

#[test]
fn inbound_without_owner_gets_480_and_unknown_user_404() {
    let mut h = Harness::new("");
    h.feed(inbound_invite(Some(SDP_ANSWER)).into());
    let statuses: Vec<u16> = h.sent_responses().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![100, 480]);
    let mut invite = inbound_invite(None);
    invite.uri.user = Some("9999".into());
    invite.headers.via[0]
        .params
        .set("branch", Some("z9hG4bKother"));
    h.feed(invite.into());
    let statuses: Vec<u16> = h.sent_responses().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![100, 404]);
    assert!(h.events().is_empty());
}

#[test]
fn inbound_answer_retransmits_until_ack() {
    let mut h = Harness::new("");
    let (call, invite) = offered(&mut h, Some(SDP_ANSWER));
    h.p.call_op(h.now, RequestId(5), call, CallOp::Answer)
        .unwrap();
    let ok = h.sent_responses().pop().unwrap();
    assert_eq!(ok.status, 200);
    let body = String::from_utf8(ok.body.clone()).unwrap();
    assert!(
        body.contains("RTP/AVP 8 101"),
        "answer keeps the offer's codec: {body}"
    );
    h.advance(Duration::from_millis(600));
    assert_eq!(h.sent_responses().len(), 1, "one retransmission at T1");
    h.advance(Duration::from_millis(1000));
    assert_eq!(h.sent_responses().len(), 1, "the next one 2*T1 later");
    let mut ack = invite.clone();
    ack.method = Method::Ack;
    ack.headers.cseq.method = Method::Ack;
    ack.headers.to = ok.headers.to.clone();
    ack.headers.via[0].params.set("branch", Some("z9hG4bKack1"));
    ack.body.clear();
    h.feed(ack.into());
    assert_eq!(
        h.events(),
        vec![
            completion(5, true),
            state(call, LINECALLSTATE_CONNECTED, LINECONNECTEDMODE_ACTIVE)
        ]
    );
    h.advance(Duration::from_secs(10));
    assert!(
        h.sent_responses().is_empty(),
        "retransmissions stop at the ACK"
    );
}

#[test]
fn inbound_answer_without_ack_gives_up_after_64_t1() {
    let mut h = Harness::new("");
    let (call, _) = offered(&mut h, Some(SDP_ANSWER));
    h.p.call_op(h.now, RequestId(5), call, CallOp::Answer)
        .unwrap();
    h.sent();
    h.advance(Duration::from_secs(33));
    let ev = h.events();
    assert_eq!(ev[0], completion(5, false));
    assert_eq!(
        ev[1..],
        [
            state(
                call,
                LINECALLSTATE_DISCONNECTED,
                LINEDISCONNECTMODE_UNREACHABLE
            ),
            state(call, LINECALLSTATE_IDLE, 0)
        ]
    );
    assert!(h.sent_requests().iter().any(|r| r.method == Method::Bye));
}

#[test]
fn caller_cancel_while_offered() {
    let mut h = Harness::new("");
    let (call, invite) = offered(&mut h, Some(SDP_ANSWER));
    let mut cancel = invite.clone();
    cancel.method = Method::Cancel;
    cancel.headers.cseq.method = Method::Cancel;
    cancel.body.clear();
    cancel.headers.content_type = None;
    h.feed(cancel.into());
    let statuses: Vec<(u16, Method)> = h
        .sent_responses()
        .into_iter()
        .map(|r| (r.status, r.headers.cseq.method))
        .collect();
    assert!(statuses.contains(&(200, Method::Cancel)), "{statuses:?}");
    assert!(statuses.contains(&(487, Method::Invite)), "{statuses:?}");
    assert_eq!(
        h.events(),
        vec![
            state(call, LINECALLSTATE_DISCONNECTED, LINEDISCONNECTMODE_NORMAL),
            state(call, LINECALLSTATE_IDLE, 0)
        ]
    );
}

#[test]
fn options_gets_200_and_unknown_methods_405_and_unknown_dialogs_481() {
    let mut h = Harness::new("");
    let mut options = inbound_invite(None);
    options.method = Method::Options;
    options.headers.cseq.method = Method::Options;
    h.feed(options.clone().into());
    let r = h.sent_responses().pop().unwrap();
    assert_eq!(r.status, 200);
    assert!(r.headers.get("Allow").unwrap().contains("INVITE"));

    let mut subscribe = options.clone();
    subscribe.method = Method::Subscribe;
    subscribe.headers.cseq.method = Method::Subscribe;
    subscribe.headers.via[0]
        .params
        .set("branch", Some("z9hG4bKsub"));
    h.feed(subscribe.into());
    let r = h.sent_responses().pop().unwrap();
    assert_eq!(r.status, 405);
    assert!(r.headers.get("Allow").is_some());

    let mut bye = options;
    bye.method = Method::Bye;
    bye.headers.cseq.method = Method::Bye;
    bye.headers.to.params.set("tag", Some("nosuch"));
    bye.headers.via[0].params.set("branch", Some("z9hG4bKbye"));
    h.feed(bye.into());
    assert_eq!(h.sent_responses().pop().unwrap().status, 481);
}

// Registration (issue 6), fake clock.

const REG_LINE: &str =
    "register = true\nexpires = 100\nauth_user = \"1001\"\npassword = \"secret\"";

fn challenge(register: &Request, stale: bool) -> SipMessage {
    let mut r = Response::for_request(register, 401, Some("reg"));
    let stale = if stale { ", stale=true" } else { "" };
    r.headers.push(
        "WWW-Authenticate",
        format!(
            "Digest realm=\"r\", nonce=\"n{}\", qop=\"auth\", algorithm=MD5{stale}",
            register.headers.cseq.seq
        ),
    );
    r.into()
}

fn ok_with_expiry(register: &Request, expires: u32) -> SipMessage {
    let mut r = Response::for_request(register, 200, Some("reg"));
    let mut contact = register.headers.contact[0].clone();
    contact.params.set("expires", Some(&expires.to_string()));
    r.headers.contact.push(contact);
    r.into()
}

fn only_register(h: &mut Harness) -> Request {
    let mut sent = h.sent_requests();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let r = sent.remove(0);
    assert_eq!(r.method, Method::Register);
    r
}

#[test]
fn registers_answers_the_challenge_and_refreshes_before_expiry() {
    let mut h = Harness::new(REG_LINE);
    let first = only_register(&mut h);
    assert_eq!(first.headers.expires, Some(100));
    assert!(first.headers.get("Authorization").is_none());
    h.feed(challenge(&first, false));
    let second = only_register(&mut h);
    assert_eq!(
        second.headers.call_id, first.headers.call_id,
        "one Call-ID per line"
    );
    assert_eq!(second.headers.cseq.seq, first.headers.cseq.seq + 1);
    let auth = second.headers.get("Authorization").unwrap();
    assert!(
        auth.contains("nc=00000001") && auth.contains("username=\"1001\""),
        "{auth}"
    );
    h.feed(ok_with_expiry(&second, 100));
    assert_eq!(
        h.events(),
        vec![ProviderEvent::LineDevState {
            device: DeviceId(0),
            state: LineDevStates::INSERVICE,
            param2: 0,
            param3: 0
        }]
    );
    assert!(h.p.line_dev_status(DeviceId(0)).unwrap().registered);
    h.advance(Duration::from_secs(79));
    assert!(
        h.sent_requests().is_empty(),
        "no refresh before 80% of the granted expiry"
    );
    h.advance(Duration::from_secs(1));
    let refresh = only_register(&mut h);
    assert_eq!(refresh.headers.cseq.seq, second.headers.cseq.seq + 1);
    let auth = refresh.headers.get("Authorization").unwrap();
    assert!(
        auth.contains("nc=00000002"),
        "the reused nonce counts up: {auth}"
    );
}

#[test]
fn a_second_challenge_is_a_failure_unless_stale() {
    let mut h = Harness::new(REG_LINE);
    let first = only_register(&mut h);
    h.feed(challenge(&first, false));
    let second = only_register(&mut h);
    h.feed(challenge(&second, true));
    let third = only_register(&mut h);
    assert!(
        third.headers.get("Authorization").is_some(),
        "stale=true is retried"
    );
    h.feed(challenge(&third, false));
    assert!(
        h.sent_requests().is_empty(),
        "the same credentials refused again: no loop"
    );
    assert!(!h.p.line_dev_status(DeviceId(0)).unwrap().registered);
    // Backoff: the first retry comes after 2 s (plus up to 20% jitter), not before.
    h.advance(Duration::from_millis(1999));
    assert!(h.sent_requests().is_empty());
    h.advance(Duration::from_millis(500));
    assert_eq!(only_register(&mut h).method, Method::Register);
}

#[test]
fn interval_too_brief_is_retried_with_min_expires() {
    let mut h = Harness::new(REG_LINE);
    let first = only_register(&mut h);
    let mut r = Response::for_request(&first, 423, Some("reg"));
    r.headers.push("Min-Expires", "3600");
    h.feed(r.into());
    let retry = only_register(&mut h);
    assert_eq!(retry.headers.expires, Some(3600));
}

#[test]
fn lost_registration_is_out_of_service_and_retried_with_growing_backoff() {
    let mut h = Harness::new(REG_LINE);
    let first = only_register(&mut h);
    h.feed(ok_with_expiry(&first, 100));
    h.events();
    h.advance(Duration::from_secs(80));
    let refresh = only_register(&mut h);
    let mut refused = Response::for_request(&refresh, 503, Some("reg"));
    refused.headers.push("Retry-After", "1");
    h.feed(refused.into());
    assert_eq!(
        h.events(),
        vec![ProviderEvent::LineDevState {
            device: DeviceId(0),
            state: LineDevStates::OUTOFSERVICE,
            param2: 0,
            param3: 0
        }]
    );
    // Retries time out (Timer F) and back off: 2 s, then 4 s, ...
    h.advance(Duration::from_millis(2400));
    let retry = only_register(&mut h);
    h.advance(Duration::from_secs(32));
    h.sent();
    h.advance(Duration::from_millis(3999));
    assert!(
        h.sent_requests()
            .iter()
            .all(|r| r.headers.cseq.seq == retry.headers.cseq.seq),
        "no new REGISTER yet"
    );
    h.advance(Duration::from_millis(900));
    assert!(h
        .sent_requests()
        .iter()
        .any(|r| r.headers.cseq.seq > retry.headers.cseq.seq));
}

fn connected_inbound(h: &mut Harness, sdp: Option<&str>) -> (CallId, Request, Response) {
    let (call, invite) = offered(h, sdp);
    h.p.call_op(h.now, RequestId(5), call, CallOp::Answer)
        .unwrap();
    let ok = h.sent_responses().pop().unwrap();
    let mut ack = invite.clone();
    ack.method = Method::Ack;
    ack.headers.cseq.method = Method::Ack;
    ack.headers.to = ok.headers.to.clone();
    ack.headers.via[0].params.set("branch", Some("z9hG4bKack9"));
    ack.body = if sdp.is_none() {
        SDP_ANSWER.as_bytes().to_vec()
    } else {
        Vec::new()
    };
    h.feed(ack.into());
    (call, invite, ok)
}

fn in_dialog(invite: &Request, ok: &Response, method: Method, cseq: u32, body: &str) -> Request {
    let mut r = invite.clone();
    r.method = method.clone();
    r.headers.cseq = crate::sip::message::CSeq { seq: cseq, method };
    r.headers.to = ok.headers.to.clone();
    r.headers.via[0]
        .params
        .set("branch", Some(&format!("z9hG4bKdlg{cseq}")));
    r.body = body.as_bytes().to_vec();
    r
}

#[test]
fn remote_reinvite_gets_our_unchanged_sdp_and_info_gets_200() {
    let mut h = Harness::new("");
    let (call, invite, ok) = connected_inbound(&mut h, Some(SDP_ANSWER));
    h.events();
    let reinvite = in_dialog(&invite, &ok, Method::Invite, 2, SDP_ANSWER);
    h.feed(reinvite.into());
    let answer = h
        .sent_responses()
        .into_iter()
        .find(|r| r.status == 200)
        .unwrap();
    assert_eq!(
        answer.body, ok.body,
        "same session, same description and version (RFC 3264 §8)"
    );
    let info = in_dialog(&invite, &ok, Method::Info, 3, "");
    h.feed(info.into());
    assert_eq!(h.sent_responses().pop().unwrap().status, 200);
    let refer = in_dialog(&invite, &ok, Method::Refer, 4, "");
    h.feed(refer.into());
    assert_eq!(
        h.sent_responses().pop().unwrap().status,
        400,
        "a REFER without Refer-To (RFC 3515 §2.4.1)"
    );
    let stale = in_dialog(&invite, &ok, Method::Info, 1, "");
    h.feed(stale.into());
    assert_eq!(
        h.sent_responses().pop().unwrap().status,
        500,
        "CSeq lower than the last one"
    );
    assert!(
        h.events().is_empty(),
        "nothing of this changes the call state"
    );
    let bye = in_dialog(&invite, &ok, Method::Bye, 5, "");
    h.feed(bye.into());
    assert_eq!(h.sent_responses().pop().unwrap().status, 200);
    assert_eq!(
        h.events(),
        vec![
            state(call, LINECALLSTATE_DISCONNECTED, LINEDISCONNECTMODE_NORMAL),
            state(call, LINECALLSTATE_IDLE, 0)
        ]
    );
}

#[test]
fn invite_without_offer_gets_ours_in_the_200_and_the_answer_from_the_ack() {
    let mut h = Harness::new("");
    let (call, _, ok) = connected_inbound(&mut h, None);
    let offer = String::from_utf8(ok.body.clone()).unwrap();
    assert!(offer.contains("RTP/AVP 0 8 101"), "our full offer: {offer}");
    assert!(h.events().contains(&state(
        call,
        LINECALLSTATE_CONNECTED,
        LINECONNECTEDMODE_ACTIVE
    )));
    assert_eq!(h.p.call_info(call).unwrap().codec.as_deref(), Some("PCMA"));
}

#[test]
fn no_common_codec_is_488_and_incompatible() {
    let mut h = Harness::new("");
    let g729 = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 18\r\n";
    let (call, _) = offered(&mut h, Some(g729));
    h.p.call_op(h.now, RequestId(5), call, CallOp::Answer)
        .unwrap();
    assert_eq!(h.sent_responses().pop().unwrap().status, 488);
    assert_eq!(
        h.events(),
        vec![
            completion(5, false),
            state(
                call,
                LINECALLSTATE_DISCONNECTED,
                LINEDISCONNECTMODE_INCOMPATIBLE
            ),
            state(call, LINECALLSTATE_IDLE, 0)
        ]
    );
}

#[test]
fn the_registrar_tells_us_our_public_address_and_we_register_it() {
    let mut h = Harness::new(REG_LINE);
    let first = only_register(&mut h);
    assert!(
        first.headers.via[0].rport() == Some(None),
        "we ask for rport (RFC 3581)"
    );
    let mut ok = Response::for_request(&first, 200, Some("reg"));
    ok.headers.via[0]
        .params
        .set("received", Some("203.0.113.7"));
    ok.headers.via[0].params.set("rport", Some("40000"));
    h.feed(ok.into());
    let again = only_register(&mut h);
    assert_eq!(
        again.headers.contact[0].uri.to_string(),
        "sip:1001@203.0.113.7:40000"
    );
    assert_eq!(again.headers.via[0].host.to_string(), "203.0.113.7");
    let mut ok = ok_with_expiry(&again, 100);
    if let SipMessage::Response(r) = &mut ok {
        r.headers.via[0].params.set("received", Some("203.0.113.7"));
        r.headers.via[0].params.set("rport", Some("40000"));
    }
    h.feed(ok);
    assert!(h.sent_requests().is_empty(), "the address is stable now");
    assert!(h.p.line_dev_status(DeviceId(0)).unwrap().registered);
}

#[test]
fn crlf_keepalives_go_to_the_registrar_at_the_configured_interval() {
    let mut h = Harness::new("keepalive_secs = 15");
    h.advance(Duration::from_secs(14));
    assert!(h.p.poll_transmit().is_none());
    h.advance(Duration::from_secs(1));
    let t = h.p.poll_transmit().expect("a keep-alive");
    assert_eq!(&t.payload[..], b"\r\n\r\n");
    assert_eq!(t.destination, h.proxy);
    h.advance(Duration::from_secs(15));
    assert!(h.p.poll_transmit().is_some(), "and again");
}
