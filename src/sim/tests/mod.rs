//! Whole-gateway scenarios in virtual time: the SIPp integration scenarios of tests/ replayed
//! here first (answered call, CANCEL race, 486, Timer B, inbound answer, registration with a
//! challenge), and what only a fake clock can check (timers firing on time under a flood).

mod admission;
mod conference;
mod control;
mod devices;
mod early_media;
mod inbound;
mod journal;
mod media;
mod outbound;
mod prack;
mod registration;
mod requests;
mod scopes;
mod session_timers;
mod sessions;
mod timers;
mod transport;

use crate::sip::message::{Method, Request, Response, SipMessage};
use crate::tapi::consts::*;
use crate::tapi::{
    Answer, CallInfoAnswer, CallState, ConnId, HCall, HLine, HLineApp, LineMessage, Request as Fn,
};

use super::{Sim, SipPeer};

/// An app on one connection with line 0 open.
pub struct App {
    pub conn: ConnId,
    pub app: HLineApp,
    pub line: HLine,
}

/// Connects, initialises in callback mode and opens line 0 with `privileges`.
pub fn open_app(sim: &mut Sim, privileges: u32) -> App {
    let conn = sim.connect();
    let Ok(Answer::LineInitialized { app, .. }) = sim.call(
        conn,
        Fn::LineInitializeEx {
            app_name: "sim".into(),
            api_version: API_VERSION_HIGH,
            options: LINEINITIALIZEEXOPTION_USEHIDDENWINDOW,
            completion_key: 0,
            resumable: false,
        },
    ) else {
        panic!("lineInitializeEx failed")
    };
    let Ok(Answer::LineOpened(line)) = sim.call(
        conn,
        Fn::LineOpen {
            app,
            device: 0,
            api_version: API_VERSION_HIGH,
            callback_instance: 5,
            privileges,
            media_modes: LINEMEDIAMODE_INTERACTIVEVOICE,
        },
    ) else {
        panic!("lineOpen failed")
    };
    App { conn, app, line }
}

/// An INVITE from the provider to line 0 offered to `owner`: (the caller, its INVITE, hCall).
pub fn offer_from_provider(sim: &mut Sim, owner: &App) -> (SipPeer, Request, HCall) {
    let gw = sim.gateway_addr();
    let mut caller = sim.peer(crate::sim::PROVIDER);
    let invite = caller.invite(gw, "1001", Some(crate::sim::peer::PEER_SDP));
    sim.deliver(caller.at(), invite.clone());
    let call = HCall(sim.messages(owner.conn)[0].dw_param2);
    (caller, invite, call)
}

/// lineMakeCall: (request ID, hCall).
pub fn make_call(sim: &mut Sim, app: &App, dest: &str) -> (u32, HCall) {
    match sim.call(
        app.conn,
        Fn::LineMakeCall {
            line: app.line,
            dest: dest.into(),
        },
    ) {
        Ok(Answer::MadeCall { request, call }) => (request.0, call),
        other => panic!("lineMakeCall: {other:?}"),
    }
}

/// An asynchronous call function: its request ID.
pub fn call_fn(sim: &mut Sim, app: &App, request: Fn) -> u32 {
    match sim.call(app.conn, request) {
        Ok(Answer::Request(r)) => r.0,
        other => panic!("expected a request ID: {other:?}"),
    }
}

/// (message name, hDevice, dwParam1, dwParam2) of each message, for compact assertions.
pub fn summary(messages: &[LineMessage]) -> Vec<(u32, u32, u32, u32)> {
    messages
        .iter()
        .map(|m| (m.dw_message_id, m.h_device, m.dw_param1, m.dw_param2))
        .collect()
}

pub fn reply(request: u32, result: i32) -> (u32, u32, u32, u32) {
    (LINE_REPLY, 0, request, result as u32)
}

pub fn state(call: HCall, state: CallState) -> (u32, u32, u32, u32) {
    (LINE_CALLSTATE, call.0, state.bits(), state.mode_bits())
}

/// The one request among `messages` (panics on anything else).
pub fn only_request(messages: Vec<SipMessage>, method: Method) -> Request {
    let mut requests: Vec<Request> = messages
        .into_iter()
        .map(|m| match m {
            SipMessage::Request(r) => r,
            SipMessage::Response(r) => panic!("unexpected response {}", r.status),
        })
        .collect();
    assert_eq!(requests.len(), 1, "exactly one {method} expected");
    let request = requests.remove(0);
    assert_eq!(request.method, method);
    request
}

/// The statuses of the responses among `messages`.
pub fn statuses(messages: &[SipMessage]) -> Vec<u16> {
    messages
        .iter()
        .filter_map(|m| match m {
            SipMessage::Response(r) => Some(r.status),
            SipMessage::Request(_) => None,
        })
        .collect()
}

/// The last response among `messages` with `status`.
pub fn response_with(messages: &[SipMessage], status: u16) -> Response {
    messages
        .iter()
        .rev()
        .find_map(|m| match m {
            SipMessage::Response(r) if r.status == status => Some(r.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no {status} among {:?}", statuses(messages)))
}

/// lineGetCallInfo of `call`.
pub fn call_info(sim: &mut Sim, app: &App, call: HCall) -> CallInfoAnswer {
    match sim.call(app.conn, Fn::LineGetCallInfo { call }) {
        Ok(Answer::CallInfo(info)) => *info,
        other => panic!("lineGetCallInfo: {other:?}"),
    }
}

/// `message` with the extra header lines `headers` ("Name: value").
pub fn with_headers<M: HasHeaders>(mut message: M, headers: &[&str]) -> M {
    for line in headers {
        let (name, value) = line.split_once(':').expect("Name: value");
        message.headers_mut().push(name.trim(), value.trim());
    }
    message
}

/// Requests and responses alike, for [`with_headers`].
pub trait HasHeaders {
    fn headers_mut(&mut self) -> &mut crate::sip::message::Headers;
}

impl HasHeaders for Request {
    fn headers_mut(&mut self) -> &mut crate::sip::message::Headers {
        &mut self.headers
    }
}

impl HasHeaders for Response {
    fn headers_mut(&mut self) -> &mut crate::sip::message::Headers {
        &mut self.headers
    }
}

/// The requests among `messages` (responses dropped).
pub fn requests(messages: Vec<SipMessage>) -> Vec<Request> {
    messages
        .into_iter()
        .filter_map(|m| match m {
            SipMessage::Request(r) => Some(r),
            SipMessage::Response(_) => None,
        })
        .collect()
}

/// An SDP like the peer's but receiving RTP on `port`, with PCMU only.
pub fn peer_sdp_on(port: u16) -> String {
    format!(
        "v=0\r\no=- 7 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"
    )
}
