//! The reply's path on the wire, hop by hop: for each lineMakeCall the sniffer ([`sniff`]) sees
//! the request reach the gateway's API port (TCP), the gateway's INVITE reach the UAS, the UAS's
//! 180 come back and the gateway's LINE_REPLY leave for the app, each with its kernel timestamp
//! on `lo`. So the reply latency splits, per call, into the gateway's two turns (API request ->
//! INVITE, 180 -> LINE_REPLY) and the UAS's, without trusting either side's own clock.
//!
//! Linking: the load app dials a distinct number per call, so the INVITE's Request-URI names
//! the request it came from; the JSON-RPC result (`id` -> `requestId`) and the LINE_REPLY
//! (`dwParam1` = `requestId`) are matched per API connection (the app's TCP port). A line cut
//! across two segments is not matched, and that call is left out of the figures.

use std::collections::HashMap;

use crate::sniff::{self, Tap};

/// Where a traced call's reply time went, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Hops {
    /// When the lineMakeCall reached the API port (kernel clock, nanoseconds).
    pub at: u64,
    /// lineMakeCall reaching the API port -> the INVITE reaching the UAS.
    pub gw_out: u64,
    /// INVITE -> 180 at the UAS.
    pub uas: u64,
    /// The 180 reaching the gateway -> LINE_REPLY leaving for the app.
    pub gw_in: u64,
}

impl Hops {
    pub fn total(&self) -> u64 {
        self.gw_out + self.uas + self.gw_in
    }

    pub fn gateway(&self) -> u64 {
        self.gw_out + self.gw_in
    }
}

/// One call under way through the hops.
#[derive(Default)]
struct Partial {
    request: u64,
    invite: u64,
    ringing: u64,
}

/// A request of connection `.0` (the app's TCP port) with JSON-RPC id or requestId `.1`.
type ConnKey = (u16, u64);

/// The tap: follows lineMakeCalls from the API port to the UAS's port and back.
pub struct ReplyPath {
    api: u16,
    uas: u16,
    /// Dialled number -> its request.
    dialled: HashMap<Vec<u8>, ConnKey>,
    /// JSON-RPC id -> the call's hops so far.
    by_id: HashMap<ConnKey, Partial>,
    /// Call-ID of the INVITE -> its request.
    by_call_id: HashMap<Vec<u8>, ConnKey>,
    /// requestId -> JSON-RPC id.
    by_request: HashMap<ConnKey, ConnKey>,
    pub traced: Vec<Hops>,
}

impl ReplyPath {
    /// Follows requests to the API at port `api` and the UAS at `uas`.
    pub fn new(api: u16, uas: u16) -> ReplyPath {
        ReplyPath {
            api,
            uas,
            dialled: HashMap::new(),
            by_id: HashMap::new(),
            by_call_id: HashMap::new(),
            by_request: HashMap::new(),
            traced: Vec::new(),
        }
    }

    fn api_segment(&mut self, src: u16, dst: u16, data: &[u8], ns: u64) {
        for line in data.split(|&b| b == b'\n') {
            if dst == self.api {
                self.app_line(src, line, ns);
            } else if src == self.api {
                self.gateway_line(dst, line, ns);
            }
        }
    }

    /// A line from the app: a lineMakeCall starts a trace.
    fn app_line(&mut self, conn: u16, line: &[u8], ns: u64) {
        if !contains(line, br#""method":"lineMakeCall""#) {
            return;
        }
        let (Some(id), Some(dest)) = (number(line, b"id"), text(line, b"destAddress")) else {
            return;
        };
        self.dialled.insert(dest.to_vec(), (conn, id));
        let partial = Partial {
            request: ns,
            ..Partial::default()
        };
        self.by_id.insert((conn, id), partial);
    }

    /// A line to the app: the lineMakeCall's result names its requestId, LINE_REPLY ends it.
    fn gateway_line(&mut self, conn: u16, line: &[u8], ns: u64) {
        if let (Some(id), Some(request)) = (number(line, b"id"), number(line, b"requestId")) {
            if self.by_id.contains_key(&(conn, id)) {
                self.by_request.insert((conn, request), (conn, id));
            }
        } else if number(line, b"dwMessageID") == Some(LINE_REPLY) {
            let Some(request) = number(line, b"dwParam1") else {
                return;
            };
            let Some(key) = self.by_request.remove(&(conn, request)) else {
                return;
            };
            if let Some(p) = self.by_id.remove(&key) {
                self.finish(p, ns);
            }
        }
    }

    fn finish(&mut self, p: Partial, reply: u64) {
        if p.invite == 0 || p.ringing == 0 {
            return;
        }
        self.traced.push(Hops {
            at: p.request,
            gw_out: p.invite.saturating_sub(p.request),
            uas: p.ringing.saturating_sub(p.invite),
            gw_in: reply.saturating_sub(p.ringing),
        });
    }

    fn sip_datagram(&mut self, src: u16, dst: u16, sip: &[u8], ns: u64) {
        if dst == self.uas && sip.starts_with(b"INVITE ") {
            let Some(key) = request_user(sip).and_then(|u| self.dialled.remove(u)) else {
                return;
            };
            let (Some(call_id), Some(p)) = (sniff::call_id(sip), self.by_id.get_mut(&key)) else {
                return;
            };
            p.invite = ns;
            self.by_call_id.insert(call_id.to_vec(), key);
        } else if src == self.uas && sip.starts_with(b"SIP/2.0 180") {
            let Some(key) = sniff::call_id(sip).and_then(|c| self.by_call_id.remove(c)) else {
                return;
            };
            if let Some(p) = self.by_id.get_mut(&key) {
                p.ringing = ns;
            }
        }
    }
}

impl Tap for ReplyPath {
    fn frame(&mut self, frame: &[u8], ns: u64) {
        if let Some((src, dst, data)) = sniff::tcp(frame) {
            if !data.is_empty() {
                self.api_segment(src, dst, data, ns);
            }
        } else if let Some((src, dst, sip)) = sniff::udp(frame) {
            self.sip_datagram(src, dst, sip, ns);
        }
    }
}

/// LINE_REPLY's dwMessageID.
const LINE_REPLY: u64 = 12;

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    find(hay, needle).is_some()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Where the value of JSON member `key` starts in `line` (the members the gateway and the app
/// write have no space after the colon).
fn value_at<'a>(line: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let mut quoted = Vec::with_capacity(key.len() + 3);
    quoted.push(b'"');
    quoted.extend_from_slice(key);
    quoted.extend_from_slice(b"\":");
    let at = find(line, &quoted)? + quoted.len();
    line.get(at..)
}

/// The unsigned number JSON member `key` has.
fn number(line: &[u8], key: &[u8]) -> Option<u64> {
    let v = value_at(line, key)?;
    let digits = v.iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(v.get(..digits)?).ok()?.parse().ok()
}

/// The string JSON member `key` has (no escapes: dialled numbers have none).
fn text<'a>(line: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let v = value_at(line, key)?.strip_prefix(b"\"")?;
    v.get(..v.iter().position(|&b| b == b'"')?)
}

/// The user part of an INVITE's Request-URI (`INVITE sip:USER@host ...`).
fn request_user(sip: &[u8]) -> Option<&[u8]> {
    let uri = sip.strip_prefix(b"INVITE ")?;
    let colon = uri.iter().position(|&b| b == b':')?;
    let user = uri.get(colon + 1..)?;
    let end = user.iter().position(|&b| matches!(b, b'@' | b';' | b' '))?;
    user.get(..end)
}

/// Checks the tracing on built frames (the bench binary without `--bench` runs it).
pub fn self_check() {
    let (api, uas, app, gw_sip) = (7000, 5060, 40000, 5070);
    let mut t = ReplyPath::new(api, uas);
    let make = br#"{"jsonrpc":"2.0","id":3,"method":"lineMakeCall","params":{"hLine":1,"destAddress":"10020003"}}
"#;
    t.frame(&sniff::built_frame(true, app, api, make), 1_000);
    let invite = "INVITE sip:10020003@127.0.0.1 SIP/2.0\r\nCall-ID: c1@gw\r\n\r\n";
    t.frame(&built(gw_sip, uas, invite), 3_000);
    let result = br#"{"jsonrpc":"2.0","id":3,"result":{"requestId":9,"hCall":4}}
{"jsonrpc":"2.0","method":"lineEvent","params":{"hDevice":4,"dwMessageID":2,"dwParam1":9}}
"#;
    t.frame(&sniff::built_frame(true, api, app, result), 3_500);
    let ringing = "SIP/2.0 180 Ringing\r\nCall-ID: c1@gw\r\n\r\n";
    t.frame(&built(uas, gw_sip, ringing), 10_000);
    // Another connection's LINE_REPLY with the same requestId is not this call's.
    let reply = br#"{"jsonrpc":"2.0","method":"lineEvent","params":{"hDevice":1,"dwMessageID":12,"dwCallbackInstance":0,"dwParam1":9,"dwParam2":0}}"#;
    t.frame(&sniff::built_frame(true, api, app + 1, reply), 11_000);
    assert!(t.traced.is_empty());
    t.frame(&sniff::built_frame(true, api, app, reply), 14_000);
    let hops = Hops {
        at: 1_000,
        gw_out: 2_000,
        uas: 7_000,
        gw_in: 4_000,
    };
    assert_eq!(t.traced, vec![hops]);
    assert_eq!((hops.total(), hops.gateway()), (13_000, 6_000));
    assert_eq!(
        request_user(b"INVITE sip:42;x=1@h SIP/2.0"),
        Some(&b"42"[..])
    );
    assert_eq!(number(br#"{"id":x}"#, b"id"), None);
}

fn built(src: u16, dst: u16, sip: &str) -> Vec<u8> {
    sniff::built_frame(false, src, dst, sip.as_bytes())
}
