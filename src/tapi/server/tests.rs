//! TAPISRV with a fake provider: request/reply pairing, exactly-once replies, the ordering
//! promises (including a provider that completes inside the function), shutdown and close
//! semantics, privileges, per-app handles, lineGetMessage timeouts.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::*;
use crate::api::protocol::{encode, parse_request};
use crate::tapi::consts::*;
use crate::tapi::*;

#[derive(Default)]
struct Fake {
    events: VecDeque<ProviderEvent>,
    /// Complete make_call (with a 100 Trying state) before returning.
    complete_inline: bool,
    next_call: u64,
    closed: Vec<CallId>,
    dropped: Vec<(RequestId, CallId)>,
    detection: u32,
}

impl LineProvider for Fake {
    fn num_lines(&self) -> u32 {
        2
    }
    fn dev_caps(&self, device: DeviceId) -> Option<DevCaps> {
        (device.0 < 2).then(|| DevCaps {
            line_name: format!("Line {}", device.0 + 1),
            permanent_line_id: 77,
            num_addresses: 1,
            media_modes: MediaModes::INTERACTIVEVOICE,
            max_num_active_calls: 10,
            line_features: LINEFEATURE_MAKECALL,
            dev_cap_flags: 0,
            line_states: LineDevStates::NONE,
            answer_mode: LINEANSWERMODE_NONE,
            ring_modes: 1,
            address: "sip:1001@x".into(),
        })
    }
    fn line_dev_status(&self, _device: DeviceId) -> Option<LineDevStatus> {
        Some(LineDevStatus::default())
    }
    fn set_default_media_detection(&mut self, _now: Instant, _device: DeviceId, modes: MediaModes) {
        self.detection = modes.bits();
    }
    fn make_call(
        &mut self,
        _now: Instant,
        request: RequestId,
        _device: DeviceId,
        dest: &str,
    ) -> Result<CallId, LineErr> {
        if dest.is_empty() {
            return Err(LINEERR_INVALADDRESS);
        }
        self.next_call += 1;
        let call = CallId(self.next_call);
        if self.complete_inline {
            self.events.push_back(ProviderEvent::Completion {
                request,
                result: Ok(()),
            });
            self.events.push_back(ProviderEvent::CallState {
                call,
                state: CallState::Proceeding,
            });
        }
        Ok(call)
    }
    fn call_op(
        &mut self,
        _now: Instant,
        request: RequestId,
        call: CallId,
        op: CallOp,
    ) -> Result<(), LineErr> {
        match op {
            CallOp::Accept => {
                self.events.push_back(ProviderEvent::Completion {
                    request,
                    result: Ok(()),
                });
                self.events.push_back(ProviderEvent::CallState {
                    call,
                    state: CallState::Accepted,
                });
            }
            CallOp::Drop => self.dropped.push((request, call)),
            _ => {}
        }
        Ok(())
    }
    fn setup_transfer(
        &mut self,
        _now: Instant,
        _request: RequestId,
        _call: CallId,
    ) -> Result<CallId, LineErr> {
        self.next_call += 1;
        Ok(CallId(self.next_call))
    }
    fn complete_transfer(
        &mut self,
        _now: Instant,
        _request: RequestId,
        _call: CallId,
        _consult: CallId,
        _mode: u32,
    ) -> Result<(), LineErr> {
        Ok(())
    }
    fn swap_hold(
        &mut self,
        _now: Instant,
        _request: RequestId,
        _active: CallId,
        _held: CallId,
    ) -> Result<(), LineErr> {
        Ok(())
    }
    fn forward(
        &mut self,
        _now: Instant,
        _request: RequestId,
        _device: DeviceId,
        _forwards: &[ForwardEntry],
        _rings: u32,
    ) -> Result<(), LineErr> {
        Ok(())
    }
    fn call_features(&self, _call: CallId) -> CallFeatures {
        CallFeatures::DROP
    }
    fn address_caps(&self, _device: DeviceId) -> Option<AddressCapsAnswer> {
        None
    }
    fn forwarding(&self, _device: DeviceId) -> (Vec<ForwardEntry>, u32) {
        (Vec::new(), 0)
    }
    fn close_call(&mut self, _now: Instant, call: CallId) {
        self.closed.push(call);
    }
    fn call_info(&self, call: CallId) -> Option<ProviderCallInfo> {
        Some(ProviderCallInfo {
            sip_call_id: format!("c{}", call.0),
            ..Default::default()
        })
    }
    fn poll_event(&mut self) -> Option<ProviderEvent> {
        self.events.pop_front()
    }
}

struct H {
    srv: Tapisrv,
    fake: Fake,
    now: Instant,
    next_id: u64,
}

/// What a connection received, parsed.
#[derive(Debug, Clone)]
enum Out {
    Result(u64, Value),
    Error(u64, i32),
    Msg(String, Value),
}

impl H {
    fn new() -> H {
        let mut h = H {
            srv: Tapisrv::new(TapisrvConfig {
                max_event_queue: 4,
                resume_grace: Duration::from_secs(30),
            }),
            fake: Fake::default(),
            now: Instant::now(),
            next_id: 1,
        };
        for conn in [1, 2] {
            h.srv.handle_client(
                h.now,
                &mut h.fake,
                ClientInput::Connected { conn: ConnId(conn) },
            );
        }
        h
    }

    fn pump(&mut self) {
        while let Some(e) = self.fake.poll_event() {
            self.srv.handle_provider_event(self.now, &mut self.fake, e);
        }
    }

    fn request(&mut self, conn: u64, method: &str, params: Value) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        let line = json!({"jsonrpc":"2.0","id":id,"method":method,"params":params}).to_string();
        let (tag, request) = parse_request(&line).unwrap();
        self.srv.handle_client(
            self.now,
            &mut self.fake,
            ClientInput::Request {
                conn: ConnId(conn),
                tag,
                request,
            },
        );
        self.pump();
        id
    }

    fn outputs(&mut self, conn: u64) -> Vec<Out> {
        let mut out = Vec::new();
        let mut keep = VecDeque::new();
        while let Some(o) = self.srv.poll_output() {
            match encode(&o) {
                Some(line) if o.conn().0 == conn => {
                    let v: Value = serde_json::from_str(&line).unwrap();
                    out.push(if let Some(m) = v.get("method") {
                        Out::Msg(m.as_str().unwrap().to_string(), v["params"].clone())
                    } else if let Some(e) = v.get("error") {
                        Out::Error(
                            v["id"].as_u64().unwrap(),
                            e["code"].as_i64().unwrap() as i32,
                        )
                    } else {
                        Out::Result(v["id"].as_u64().unwrap(), v["result"].clone())
                    });
                }
                _ => keep.push_back(o),
            }
        }
        self.srv.outputs = keep;
        out
    }

    fn call(&mut self, conn: u64, method: &str, params: Value) -> Result<Value, i32> {
        let id = self.request(conn, method, params);
        let outs = self.outputs(conn);
        match outs
            .iter()
            .find(|o| matches!(o, Out::Result(i, _) | Out::Error(i, _) if *i == id))
        {
            Some(Out::Result(_, v)) => Ok(v.clone()),
            Some(Out::Error(_, c)) => Err(*c),
            _ => panic!("no answer to {method}: {outs:?}"),
        }
    }

    fn init(&mut self, conn: u64, options: u32) -> u32 {
        let r = self.call(conn, "lineInitializeEx", json!({"appName":"t","apiVersion":API_VERSION_HIGH,"options":options,"completionKey":42})).unwrap();
        r["hLineApp"].as_u64().unwrap() as u32
    }

    fn open(&mut self, conn: u64, app: u32, privileges: u32, instance: u32) -> u32 {
        let r = self.call(conn, "lineOpen", json!({"hLineApp":app,"deviceId":0,"apiVersion":API_VERSION_HIGH,"callbackInstance":instance,"privileges":privileges,"mediaModes":LINEMEDIAMODE_INTERACTIVEVOICE})).unwrap();
        r["hLine"].as_u64().unwrap() as u32
    }
}

fn msg_id(v: &Value) -> u64 {
    v["dwMessageID"].as_u64().unwrap()
}

#[test]
fn make_call_response_comes_before_reply_and_reply_before_states() {
    let mut h = H::new();
    h.fake.complete_inline = true;
    let app = h.init(1, 1);
    let line = h.open(1, app, LINECALLPRIVILEGE_OWNER, 7);
    let id = h.request(
        1,
        "lineMakeCall",
        json!({"hLine":line,"destAddress":"1002"}),
    );
    let outs = h.outputs(1);
    let Out::Result(rid, result) = &outs[0] else {
        panic!("{outs:?}")
    };
    assert_eq!(*rid, id, "the function's response comes first (promise 1)");
    let request = result["requestId"].as_u64().unwrap();
    assert!(request > 0);
    let Out::Msg(name, reply) = &outs[1] else {
        panic!()
    };
    assert_eq!(name, "LINE_REPLY");
    assert_eq!(reply["dwParam1"].as_u64().unwrap(), request);
    assert_eq!(reply["dwParam2"].as_i64().unwrap(), 0);
    assert_eq!(reply["dwCallbackInstance"], 7);
    let Out::Msg(name, state) = &outs[2] else {
        panic!()
    };
    assert_eq!(name, "LINE_CALLSTATE");
    assert_eq!(state["dwParam1"], LINECALLSTATE_PROCEEDING);
    assert_eq!(
        state["dwParam3"], LINECALLPRIVILEGE_OWNER,
        "first state carries the privilege"
    );
    assert_eq!(state["hDevice"], result["hCall"]);
    assert_eq!(outs.len(), 3);
}

#[test]
fn states_before_the_completion_are_held_back_and_failures_void_the_handle() {
    let mut h = H::new();
    let app = h.init(1, 1);
    let line = h.open(1, app, LINECALLPRIVILEGE_OWNER, 0);
    let r = h
        .call(
            1,
            "lineMakeCall",
            json!({"hLine":line,"destAddress":"1002"}),
        )
        .unwrap();
    let (request, hcall) = (
        r["requestId"].as_u64().unwrap() as u32,
        r["hCall"].as_u64().unwrap() as u32,
    );
    assert_eq!(
        h.call(1, "lineGetCallStatus", json!({"hCall":hcall})),
        Err(LINEERR_INVALCALLHANDLE.code())
    );
    // A misbehaving provider reports a state first: it is held back.
    h.fake.events.push_back(ProviderEvent::CallState {
        call: CallId(1),
        state: CallState::Ringback,
    });
    h.pump();
    assert!(h.outputs(1).is_empty());
    h.fake.events.push_back(ProviderEvent::Completion {
        request: RequestId(request),
        result: Ok(()),
    });
    h.pump();
    let names: Vec<String> = h
        .outputs(1)
        .into_iter()
        .map(|o| match o {
            Out::Msg(n, _) => n,
            o => panic!("{o:?}"),
        })
        .collect();
    assert_eq!(names, ["LINE_REPLY", "LINE_CALLSTATE"]);
    // Exactly one reply: a second completion for the same request is ignored.
    h.fake.events.push_back(ProviderEvent::Completion {
        request: RequestId(request),
        result: Ok(()),
    });
    h.pump();
    assert!(h.outputs(1).is_empty());

    let r = h
        .call(
            1,
            "lineMakeCall",
            json!({"hLine":line,"destAddress":"1003"}),
        )
        .unwrap();
    let (request, hcall) = (
        r["requestId"].as_u64().unwrap() as u32,
        r["hCall"].as_u64().unwrap() as u32,
    );
    h.fake.events.push_back(ProviderEvent::Completion {
        request: RequestId(request),
        result: Err(LINEERR_OPERATIONFAILED),
    });
    h.pump();
    let outs = h.outputs(1);
    let Out::Msg(_, reply) = &outs[0] else {
        panic!()
    };
    assert_eq!(
        reply["dwParam2"].as_i64().unwrap(),
        LINEERR_OPERATIONFAILED.code() as i64
    );
    assert_eq!(outs.len(), 1);
    assert_eq!(
        h.call(1, "lineGetCallInfo", json!({"hCall":hcall})),
        Err(LINEERR_INVALCALLHANDLE.code())
    );
    assert_eq!(h.fake.closed, vec![CallId(2)]);
}

#[test]
fn handles_are_per_app_and_errors_are_lineerr() {
    let mut h = H::new();
    let a = h.init(1, 1);
    let b = h.init(2, 1);
    let line = h.open(1, a, LINECALLPRIVILEGE_OWNER, 0);
    assert_eq!(
        h.call(2, "lineClose", json!({"hLine":line})),
        Err(LINEERR_INVALLINEHANDLE.code())
    );
    assert_eq!(
        h.call(2, "lineShutdown", json!({"hLineApp":a})),
        Err(LINEERR_INVALAPPHANDLE.code())
    );
    assert_eq!(
        h.call(
            1,
            "lineOpen",
            json!({"hLineApp":a,"deviceId":9,"apiVersion":API_VERSION_HIGH,"privileges":1})
        ),
        Err(LINEERR_BADDEVICEID.code())
    );
    assert_eq!(h.call(1, "lineOpen", json!({"hLineApp":a,"deviceId":0,"apiVersion":API_VERSION_HIGH,"privileges":4,"mediaModes":0})), Err(LINEERR_INVALMEDIAMODE.code()));
    assert_eq!(h.call(1, "lineOpen", json!({"hLineApp":a,"deviceId":0,"apiVersion":API_VERSION_HIGH,"privileges":5,"mediaModes":4})), Err(LINEERR_INVALPRIVSELECT.code()));
    assert_eq!(
        h.call(
            1,
            "lineNegotiateAPIVersion",
            json!({"hLineApp":a,"deviceId":0,"apiLowVersion":0x30000,"apiHighVersion":0x30001})
        ),
        Err(LINEERR_INCOMPATIBLEAPIVERSION.code())
    );
    assert_eq!(
        h.call(
            1,
            "lineNegotiateAPIVersion",
            json!({"hLineApp":a,"deviceId":0,"apiLowVersion":0x10003,"apiHighVersion":0x30000})
        )
        .unwrap()["apiVersion"],
        API_VERSION_HIGH
    );
    assert_eq!(
        h.call(
            2,
            "lineGetDevCaps",
            json!({"hLineApp":b,"deviceId":1,"apiVersion":API_VERSION_HIGH})
        )
        .unwrap()["lineName"],
        "Line 2"
    );
    assert_eq!(
        h.call(1, "lineMakeCall", json!({"hLine":line,"destAddress":""})),
        Err(LINEERR_INVALADDRESS.code())
    );
}

fn offer_call(h: &mut H, call: u64) {
    h.fake.events.push_back(ProviderEvent::NewCall {
        device: DeviceId(0),
        call: CallId(call),
        inherit: None,
    });
    h.fake.events.push_back(ProviderEvent::CallState {
        call: CallId(call),
        state: CallState::Offering(OfferingMode::ACTIVE),
    });
    h.pump();
}

#[test]
fn owner_and_monitor_get_the_inbound_call_with_their_privileges() {
    let mut h = H::new();
    let a = h.init(1, 1);
    let b = h.init(2, 1);
    h.open(1, a, LINECALLPRIVILEGE_OWNER, 11);
    h.open(2, b, LINECALLPRIVILEGE_MONITOR, 22);
    assert_eq!(h.fake.detection, LINEMEDIAMODE_INTERACTIVEVOICE);
    offer_call(&mut h, 5);
    let owner = h.outputs(1);
    let monitor = h.outputs(2);
    for (outs, privilege, instance) in [
        (&owner, LINECALLPRIVILEGE_OWNER, 11),
        (&monitor, LINECALLPRIVILEGE_MONITOR, 22),
    ] {
        let Out::Msg(n1, new) = &outs[0] else {
            panic!()
        };
        let Out::Msg(n2, state) = &outs[1] else {
            panic!()
        };
        assert_eq!(
            (n1.as_str(), n2.as_str()),
            ("LINE_APPNEWCALL", "LINE_CALLSTATE")
        );
        assert_eq!(new["dwParam3"], privilege);
        assert_eq!(new["dwParam1"], 0);
        assert_eq!(state["hDevice"], new["dwParam2"]);
        assert_eq!(state["dwParam3"], privilege);
        assert_eq!(state["dwCallbackInstance"], instance);
    }
    let Out::Msg(_, new) = &monitor[0] else {
        panic!()
    };
    let mon_call = new["dwParam2"].as_u64().unwrap();
    let Out::Msg(_, new) = &owner[0] else {
        panic!()
    };
    let own_call = new["dwParam2"].as_u64().unwrap();
    assert_eq!(
        h.call(2, "lineAnswer", json!({"hCall":mon_call})),
        Err(LINEERR_NOTOWNER.code())
    );
    let info = h
        .call(2, "lineGetCallInfo", json!({"hCall":mon_call}))
        .unwrap();
    assert_eq!(
        (info["numOwners"].as_u64(), info["numMonitors"].as_u64()),
        (Some(1), Some(1))
    );
    // The monitor steps up: the owner hears of the count change, the monitor does not.
    h.call(
        2,
        "lineSetCallPrivilege",
        json!({"hCall":mon_call,"callPrivilege":LINECALLPRIVILEGE_OWNER}),
    )
    .unwrap();
    let owner_msgs = h.outputs(1);
    assert!(
        matches!(&owner_msgs[..], [Out::Msg(n, p)] if n == "LINE_CALLINFO" && p["dwParam1"] == (LINECALLINFOSTATE_NUMOWNERINCR | LINECALLINFOSTATE_NUMMONITORS))
    );
    let r = h.call(2, "lineAccept", json!({"hCall":mon_call})).unwrap();
    assert!(r["requestId"].as_u64().unwrap() > 0);
    assert_eq!(
        h.call(1, "lineGetCallStatus", json!({"hCall":own_call}))
            .unwrap()["callState"],
        LINECALLSTATE_ACCEPTED
    );
}

#[test]
fn nobody_to_own_an_inbound_call_means_the_provider_rejects_it() {
    let mut h = H::new();
    let a = h.init(1, 1);
    h.open(1, a, LINECALLPRIVILEGE_MONITOR, 0);
    offer_call(&mut h, 9);
    assert_eq!(h.fake.closed, vec![CallId(9)]);
    assert!(h.outputs(1).is_empty());
}

#[test]
fn close_and_shutdown_drop_sole_owned_calls_and_suppress_replies() {
    let mut h = H::new();
    let a = h.init(1, 1);
    let b = h.init(2, 1);
    let line = h.open(1, a, LINECALLPRIVILEGE_OWNER, 0);
    h.open(2, b, LINECALLPRIVILEGE_MONITOR, 0);
    offer_call(&mut h, 3);
    let outs = h.outputs(1);
    let Out::Msg(_, new) = &outs[0] else { panic!() };
    let hcall = new["dwParam2"].as_u64().unwrap();
    h.call(1, "lineDrop", json!({"hCall":hcall})).unwrap();
    let (drop_request, _) = h.fake.dropped[0];
    h.call(1, "lineClose", json!({"hLine":line})).unwrap();
    // The pending drop's reply is suppressed; the monitor still holds the call, so the
    // sole owner's leaving dropped it (a second, internal drop).
    assert_eq!(h.fake.dropped.len(), 2);
    h.fake.events.push_back(ProviderEvent::Completion {
        request: drop_request,
        result: Ok(()),
    });
    h.pump();
    assert!(h.outputs(1).is_empty(), "no reply after lineClose");
    let mon = h.outputs(2);
    assert!(mon.iter().any(|o| matches!(o, Out::Msg(n, p) if n == "LINE_CALLINFO" && p["dwParam1"] == LINECALLINFOSTATE_NUMOWNERDECR)));
    h.srv.handle_client(
        h.now,
        &mut h.fake,
        ClientInput::Disconnected { conn: ConnId(2) },
    );
    assert_eq!(
        h.fake.closed,
        vec![CallId(3)],
        "last handle gone: the provider forgets the call"
    );
    assert_eq!(h.srv.num_apps(), 1);
}

#[test]
fn event_mode_queue_get_message_timeouts_and_shutdown_wakes_waiters() {
    let mut h = H::new();
    let a = h.init(1, 2);
    let line = h.open(1, a, LINECALLPRIVILEGE_OWNER, 0);
    assert_eq!(
        h.call(1, "lineGetMessage", json!({"hLineApp":a,"timeout":0})),
        Err(LINEERR_OPERATIONFAILED.code())
    );
    h.fake.complete_inline = true;
    h.call(1, "lineMakeCall", json!({"hLine":line,"destAddress":"1"}))
        .unwrap();
    let m1 = h
        .call(1, "lineGetMessage", json!({"hLineApp":a,"timeout":0}))
        .unwrap();
    let m2 = h
        .call(1, "lineGetMessage", json!({"hLineApp":a,"timeout":0}))
        .unwrap();
    assert_eq!(
        (msg_id(&m1), msg_id(&m2)),
        (LINE_REPLY as u64, LINE_CALLSTATE as u64)
    );
    // A waiter with a deadline.
    let id = h.request(1, "lineGetMessage", json!({"hLineApp":a,"timeout":250}));
    assert!(h.outputs(1).is_empty());
    assert_eq!(
        h.srv.poll_timeout(),
        Some(h.now + Duration::from_millis(250))
    );
    h.srv
        .handle_timeout(h.now + Duration::from_millis(250), &mut h.fake);
    assert!(
        matches!(&h.outputs(1)[..], [Out::Error(i, c)] if *i == id && *c == LINEERR_OPERATIONFAILED.code())
    );
    // A waiter is woken by a message, and another by lineShutdown.
    let id = h.request(
        1,
        "lineGetMessage",
        json!({"hLineApp":a,"timeout":0xFFFFFFFFu32}),
    );
    h.fake.events.push_back(ProviderEvent::CallState {
        call: CallId(1),
        state: CallState::Connected(ConnectedMode::ACTIVE),
    });
    h.pump();
    assert!(
        matches!(&h.outputs(1)[..], [Out::Result(i, m)] if *i == id && m["dwParam1"] == LINECALLSTATE_CONNECTED)
    );
    let waiting = h.request(1, "lineGetMessage", json!({"hLineApp":a,"timeout":10000}));
    let shutdown = h.request(1, "lineShutdown", json!({"hLineApp":a}));
    let outs = h.outputs(1);
    assert!(
        matches!(&outs[0], Out::Error(i, c) if *i == waiting && *c == LINEERR_INVALAPPHANDLE.code())
    );
    assert!(matches!(&outs[1], Out::Result(i, _) if *i == shutdown));
}

#[test]
fn completion_port_mode_carries_the_key_and_overflowing_event_queue_shuts_app_down() {
    let mut h = H::new();
    h.fake.complete_inline = true;
    let a = h.init(1, 3);
    let line = h.open(1, a, LINECALLPRIVILEGE_OWNER, 0);
    h.request(1, "lineMakeCall", json!({"hLine":line,"destAddress":"1"}));
    let outs = h.outputs(1);
    assert!(
        matches!(&outs[1], Out::Msg(n, p) if n == "LINE_REPLY" && p["dwCompletionKey"] == 42),
        "{outs:?}"
    );

    let b = h.init(2, 2);
    let line = h.open(2, b, LINECALLPRIVILEGE_OWNER, 0);
    for i in 0..3 {
        h.call(
            2,
            "lineMakeCall",
            json!({"hLine":line,"destAddress":format!("{i}")}),
        )
        .unwrap();
    }
    // 6 messages for a queue of 4: the app is shut down.
    assert_eq!(
        h.call(2, "lineGetMessage", json!({"hLineApp":b,"timeout":0})),
        Err(LINEERR_INVALAPPHANDLE.code())
    );
}

#[test]
fn deallocating_a_live_call_its_app_alone_owns_drops_it_first() {
    let mut h = H::new();
    let a = h.init(1, 1);
    h.open(1, a, LINECALLPRIVILEGE_OWNER, 0);
    offer_call(&mut h, 4);
    let outs = h.outputs(1);
    let Out::Msg(_, new) = &outs[0] else { panic!() };
    let hcall = new["dwParam2"].as_u64().unwrap();
    h.call(1, "lineDeallocateCall", json!({"hCall":hcall}))
        .unwrap();
    // The last handle went: the provider drops and forgets the call (TSPI_lineCloseCall).
    assert_eq!(h.fake.closed, vec![CallId(4)]);
    assert_eq!(
        h.call(1, "lineGetCallStatus", json!({"hCall":hcall})),
        Err(LINEERR_INVALCALLHANDLE.code())
    );
}
