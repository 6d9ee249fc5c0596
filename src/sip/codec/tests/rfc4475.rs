//! RFC 4475 torture messages (tests/fixtures/rfc4475/, exact bytes): the valid ones of §3.1.1
//! decode with their key fields right; the invalid ones get the response RFC 4475 asks for (or
//! are dropped where nothing can be answered).

use rand::rngs::SmallRng;
use rand::SeedableRng;

use super::{decode_and_frame, mutate};
use crate::sip::codec::{decode, DecodeError, Frame, FramingError, StreamFramer};
use crate::sip::message::{Host, Method, Request, Response, Scheme, SipMessage};

macro_rules! fixture {
    ($name:literal) => {{
        let bytes: &'static [u8] = include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/rfc4475/",
            $name,
            ".sip"
        ));
        bytes
    }};
}

/// Every fixture, for the properties that hold for all of them.
const ALL: [(&str, &[u8]); 27] = [
    ("wsinv", fixture!("wsinv")),
    ("intmeth", fixture!("intmeth")),
    ("esc01", fixture!("esc01")),
    ("escnull", fixture!("escnull")),
    ("esc02", fixture!("esc02")),
    ("lwsdisp", fixture!("lwsdisp")),
    ("longreq", fixture!("longreq")),
    ("dblreq", fixture!("dblreq")),
    ("semiuri", fixture!("semiuri")),
    ("transports", fixture!("transports")),
    ("mpart01", fixture!("mpart01")),
    ("unreason", fixture!("unreason")),
    ("noreason", fixture!("noreason")),
    ("clerr", fixture!("clerr")),
    ("ncl", fixture!("ncl")),
    ("quotbal", fixture!("quotbal")),
    ("ltgtruri", fixture!("ltgtruri")),
    ("lwsruri", fixture!("lwsruri")),
    ("lwsstart", fixture!("lwsstart")),
    ("trws", fixture!("trws")),
    ("badvers", fixture!("badvers")),
    ("mismatch01", fixture!("mismatch01")),
    ("bigcode", fixture!("bigcode")),
    ("insuf", fixture!("insuf")),
    ("unkscm", fixture!("unkscm")),
    ("multi01", fixture!("multi01")),
    ("mcl01", fixture!("mcl01")),
];

fn request(bytes: &[u8]) -> Request {
    match decode(bytes) {
        Ok(SipMessage::Request(r)) => r,
        other => panic!("not a request: {other:?}"),
    }
}

fn response(bytes: &[u8]) -> Response {
    match decode(bytes) {
        Ok(SipMessage::Response(r)) => r,
        other => panic!("not a response: {other:?}"),
    }
}

/// The status and text of the ready response to a refused request.
fn refused(bytes: &[u8]) -> (u16, String) {
    match decode(bytes) {
        Err(DecodeError::BadRequest { response, .. }) => {
            let text = String::from_utf8(response).expect("our response is text");
            let status = text["SIP/2.0 ".len()..][..3].parse().expect("status code");
            (status, text)
        }
        other => panic!("expected a ready response, got {other:?}"),
    }
}

fn vias(r: &Request) -> Vec<(String, String, Option<String>)> {
    r.headers
        .via
        .iter()
        .map(|v| {
            (
                v.transport.clone(),
                v.host.to_string(),
                v.branch().map(str::to_string),
            )
        })
        .collect()
}

#[test]
fn wsinv_folding_lws_compact_forms_and_odd_case() {
    let r = request(fixture!("wsinv"));
    assert_eq!(r.method, Method::Invite);
    assert_eq!(r.uri.user.as_deref(), Some("vivekg"));
    assert_eq!(r.uri.host, Host::Name("chair-dnrc.example.com".into()));
    assert!(r.uri.params.contains("unknownparam"));
    let h = &r.headers;
    assert_eq!(h.to.uri.user.as_deref(), Some("vivekg"));
    assert_eq!(h.to.tag(), Some("1918181833n"));
    assert_eq!(h.from.display_name.as_deref(), Some("J Rosenberg \\\""));
    assert_eq!(h.from.tag(), Some("98asjd8"));
    assert_eq!(h.max_forwards, Some(68));
    assert_eq!(h.call_id, "wsinv.ndaksdj@192.0.2.1");
    assert_eq!((h.cseq.seq, &h.cseq.method), (9, &Method::Invite));
    assert_eq!(
        vias(&r),
        vec![
            ("UDP".into(), "192.0.2.2".into(), Some("390skdjuw".into())),
            (
                "TCP".into(),
                "spindle.example.com".into(),
                Some("z9hG4bK9ikj8".into())
            ),
            (
                "UDP".into(),
                "192.168.255.111".into(),
                Some("z9hG4bK30239".into())
            ),
        ]
    );
    assert_eq!(h.get("Subject"), Some(""));
    assert_eq!(
        h.get("NewFangledHeader"),
        Some("newfangled value continued newfangled value")
    );
    assert_eq!(h.get("UnknownHeaderWithUnusualValue"), Some(";;,,;;,;"));
    assert_eq!(h.content_type.as_deref(), Some("application/sdp"));
    assert_eq!(h.route.len(), 1);
    assert!(h.route[0].uri.params.contains("lr"));
    assert_eq!(h.route[0].uri.params.value("unknownwith"), Some("value"));
    assert_eq!(h.contact.len(), 1);
    let contact = &h.contact[0];
    assert_eq!(contact.display_name.as_deref(), Some("Quoted string \"\""));
    assert_eq!(contact.params.value("newparam"), Some("newvalue"));
    assert_eq!(contact.params.get("secondparam"), Some(None));
    assert_eq!(contact.params.value("q"), Some("0.33"));
    assert_eq!(r.body.len(), 150);
    assert!(r.body.starts_with(b"v=0\r\n"));
}

#[test]
fn intmeth_unusual_characters_everywhere() {
    let r = request(fixture!("intmeth"));
    let method = "!interesting-Method0123456789_*+`.%indeed'~";
    assert_eq!(r.method, Method::Extension(method.into()));
    assert_eq!(r.headers.cseq.method, r.method);
    assert_eq!(
        r.uri.user.as_deref(),
        Some("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
    );
    assert_eq!(
        r.uri.password(),
        Some("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
    );
    assert_eq!(r.uri.host, Host::Name("example.com".into()));
    let h = &r.headers;
    assert_eq!(h.top_via().unwrap().branch(), Some("z9hG4bK-.!%66*_+`'~"));
    assert_eq!(
        h.to.display_name.as_deref(),
        Some("BEL:\u{7} NUL:\0 DEL:\u{7f}")
    );
    assert_eq!(h.to.uri.user, r.uri.user);
    assert_eq!(
        h.from.display_name.as_deref(),
        Some("token1~` token2'+_ token3*%!.-")
    );
    assert_eq!(
        h.from.params.value("fromParam''~+*_!.-%"),
        Some("\"работающий\"")
    );
    assert_eq!(h.from.tag(), Some("_token~1'+`*%!-."));
    assert_eq!(h.call_id, "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
    assert_eq!(h.max_forwards, Some(255));
    assert_eq!(h.get("extensionHeader-!.%*+_`'~"), Some("\u{feff}大停電"));
    assert!(r.body.is_empty());
}

#[test]
fn esc01_escapes_are_kept_as_written() {
    let r = request(fixture!("esc01"));
    assert_eq!(r.uri.user.as_deref(), Some("sips%3Auser%40example.com"));
    assert_eq!(r.uri.host, Host::Name("example.net".into()));
    let h = &r.headers;
    assert_eq!(h.to.uri.user.as_deref(), Some("%75se%72"));
    assert_eq!(h.from.uri.user.as_deref(), Some("I%20have%20spaces"));
    assert_eq!(h.call_id, "esc01.239409asdfakjkn23onasd0-3234");
    assert_eq!(h.content_type.as_deref(), Some("application/sdp"));
    assert_eq!(h.contact.len(), 1, "folded Contact joined");
    let uri = &h.contact[0].uri;
    assert_eq!(uri.user.as_deref(), Some("cal%6Cer"));
    assert!(uri.params.contains("%6C%72"));
    assert_eq!(uri.params.value("n%61me"), Some("v%61lue%25%34%31"));
    assert_eq!(r.body.len(), 150);
}

#[test]
fn escnull_escaped_nulls_in_user_parts() {
    let r = request(fixture!("escnull"));
    assert_eq!(r.method, Method::Register);
    assert_eq!(r.headers.to.uri.user.as_deref(), Some("null-%00-null"));
    let users: Vec<_> = r
        .headers
        .contact
        .iter()
        .map(|c| c.uri.user.as_deref())
        .collect();
    assert_eq!(users, vec![Some("%00"), Some("%00%00")]);
    assert!(r.body.is_empty());
}

#[test]
fn esc02_percent_is_no_escape_in_methods_and_names() {
    let r = request(fixture!("esc02"));
    assert_eq!(r.method, Method::Extension("RE%47IST%45R".into()));
    assert_eq!(r.headers.cseq.method, r.method);
    assert_eq!(r.headers.to.display_name.as_deref(), Some("%Z%45"));
    assert_eq!(
        r.headers.top_via().unwrap().branch(),
        Some("z9hG4bK209%fzsnel234")
    );
    let hosts: Vec<_> = r
        .headers
        .contact
        .iter()
        .map(|c| c.uri.host.to_string())
        .collect();
    assert_eq!(hosts, vec!["host1.example.com", "host3.example.com"]);
    assert_eq!(
        r.headers.get("C%6Fntact"),
        Some("<sip:alias2@host2.example.com>")
    );
}

#[test]
fn lwsdisp_display_name_without_space() {
    let r = request(fixture!("lwsdisp"));
    assert_eq!(r.headers.from.display_name.as_deref(), Some("caller"));
    assert_eq!(r.headers.from.uri.user.as_deref(), Some("caller"));
    assert_eq!(r.headers.from.tag(), Some("323"));
}

#[test]
fn longreq_long_values_and_34_vias() {
    let r = request(fixture!("longreq"));
    let h = &r.headers;
    let extreme = "extreme".repeat(10);
    let to_name = format!("I have a user name of {extreme} proportion");
    assert_eq!(h.to.display_name.as_deref(), Some(to_name.as_str()));
    assert_eq!(h.to.uri.port, Some(6000));
    assert_eq!(h.to.uri.params.0.len(), 3);
    let caller = "amazinglylongcallername".repeat(5);
    assert_eq!(h.from.uri.user.as_deref(), Some(caller.as_str()));
    let tag = format!("12{}424", "982".repeat(50));
    assert_eq!(h.from.tag(), Some(tag.as_str()));
    assert_eq!(h.via.len(), 34);
    for (i, via) in h.via.iter().take(33).enumerate() {
        assert_eq!(via.host.to_string(), format!("sip{}.example.com", 33 - i));
    }
    let last = &h.via[33];
    assert_eq!(last.received(), Some("192.0.2.5"));
    let branch = format!("very{}branchvalue", "long".repeat(50));
    assert_eq!(last.branch(), Some(branch.as_str()));
    assert_eq!(
        h.contact[0].uri.host,
        Host::Name("host5.example.net".into())
    );
    assert_eq!(r.body.len(), 150);
}

#[test]
fn dblreq_octets_after_the_body_are_ignored() {
    let r = request(fixture!("dblreq"));
    assert_eq!(r.method, Method::Register);
    assert_eq!(r.headers.call_id, "dblreq.0ha0isndaksdj99sdfafnl3lk233412");
    assert_eq!(
        r.headers.contact[0].uri.host,
        Host::Name("host.example.com".into())
    );
    assert!(r.body.is_empty());
}

#[test]
fn semiuri_semicolons_in_the_user_part() {
    let r = request(fixture!("semiuri"));
    assert_eq!(r.uri.user.as_deref(), Some("user;par=u%40example.net"));
    assert_eq!(r.uri.host, Host::Name("example.com".into()));
    assert!(r.uri.params.is_empty());
    assert_eq!(
        r.headers.get("Accept"),
        Some(
            "application/sdp, application/pkcs7-mime, multipart/mixed, multipart/signed, \
             message/sip, message/sipfrag"
        )
    );
}

#[test]
fn transports_known_and_unknown() {
    let r = request(fixture!("transports"));
    let transports: Vec<_> = r.headers.via.iter().map(|v| v.transport.as_str()).collect();
    assert_eq!(transports, vec!["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]);
    assert_eq!(r.headers.call_id, "transports.kijh4akdnaqjkwendsasfdj");
}

#[test]
fn mpart01_binary_body_is_framed_by_content_length() {
    let bytes = fixture!("mpart01");
    let r = request(bytes);
    assert_eq!(r.method, Method::Message);
    assert_eq!(
        r.headers.content_type.as_deref(),
        Some("multipart/mixed;boundary=7a9cbec02ceef655")
    );
    assert_eq!(r.body.len(), 553);
    assert!(bytes.ends_with(&r.body));
    assert!(r.body.contains(&0), "the DER part carries NUL octets");
    assert!(r.body.ends_with(b"--7a9cbec02ceef655--\r\n"));
    assert!(r
        .headers
        .get("Identity")
        .is_some_and(|v| v.ends_with("MWYUA=")));
}

#[test]
fn unreason_and_noreason_reason_phrases() {
    let r = response(fixture!("unreason"));
    assert_eq!(r.status, 200);
    assert_eq!(r.reason, "= 2**3 * 5**2 но сто девяносто девять - простое");
    assert_eq!(r.body.len(), 154);
    let r = response(fixture!("noreason"));
    assert_eq!((r.status, r.reason.as_str()), (100, ""));
    assert_eq!(r.headers.to.tag(), Some("902jndnke3"));
}

#[test]
fn valid_messages_survive_our_encoder() {
    for (name, bytes) in ALL.iter().take(13) {
        let msg = decode(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let again = decode(&crate::sip::codec::encode(&msg));
        assert_eq!(again.as_ref(), Ok(&msg), "{name}");
    }
}

#[test]
fn badvers_gets_505_with_the_request_headers() {
    let (status, text) = refused(fixture!("badvers"));
    assert_eq!(status, 505);
    assert!(
        text.starts_with("SIP/2.0 505 Version Not Supported\r\n"),
        "{text}"
    );
    assert!(text.contains("Via: SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw\r\n"));
    assert!(text.contains("Call-ID: badvers.31417@c.example.com\r\n"));
    assert!(text.contains("CSeq: 1 OPTIONS\r\n"));
}

#[test]
fn malformed_request_lines_get_400() {
    for (name, bytes) in [
        ("lwsruri", fixture!("lwsruri")),
        ("lwsstart", fixture!("lwsstart")),
        ("trws", fixture!("trws")),
        ("ltgtruri", fixture!("ltgtruri")),
    ] {
        let (status, text) = refused(bytes);
        assert_eq!(status, 400, "{name}: {text}");
        // The 400 is a response we can read back: it carries the request's Via and CSeq.
        let back = response(text.as_bytes());
        assert_eq!(back.headers.via.len(), 1, "{name}");
    }
}

#[test]
fn mismatch01_cseq_method_differs_from_the_request_line() {
    let (status, text) = refused(fixture!("mismatch01"));
    assert_eq!(status, 400);
    assert!(text.contains("CSeq: 8 INVITE\r\n"), "{text}");
}

#[test]
fn mcl01_two_content_lengths() {
    let (status, _) = refused(fixture!("mcl01"));
    assert_eq!(status, 400);
    // On a stream the message cannot be cut at all: the connection goes (RFC 4475 §3.3.9).
    let mut framer = StreamFramer::new();
    framer.push(fixture!("mcl01"));
    let err = framer.next_frame().unwrap_err();
    assert_eq!(err, FramingError::DuplicateContentLength);
    // ... but not before its request is answered 400, with a To tag (RFC 3261 §8.2.6.2).
    let (status, reason) = err.answer();
    let head = framer.pending_head().expect("the head is there");
    let text = String::from_utf8(crate::sip::codec::refuse(head, status, reason).unwrap()).unwrap();
    assert!(
        text.starts_with("SIP/2.0 400 Multiple Content-Length Headers\r\n"),
        "{text}"
    );
    let to = text.lines().find(|l| l.starts_with("To:")).unwrap();
    assert!(to.contains(";tag="), "{to}");
}

#[test]
fn bext01_decodes_its_require_is_the_provider_s_to_refuse() {
    // RFC 4475 §3.3.15: a UA answers 420 (the provider does: sim::tests::requests).
    let Ok(SipMessage::Request(r)) = decode(fixture!("bext01")) else {
        panic!("bext01 is well-formed");
    };
    assert_eq!(
        r.headers.get("Require"),
        Some("nothingSupportsThis, nothingSupportsThisEither")
    );
}

#[test]
fn other_invalid_requests_get_their_status() {
    for (name, bytes, expected) in [
        ("clerr", fixture!("clerr"), 400),
        ("ncl", fixture!("ncl"), 400),
        ("quotbal", fixture!("quotbal"), 400),
        ("insuf", fixture!("insuf"), 400),
        ("multi01", fixture!("multi01"), 400),
        ("unkscm", fixture!("unkscm"), 416),
    ] {
        let (status, text) = refused(bytes);
        assert_eq!(status, expected, "{name}: {text}");
    }
}

#[test]
fn bigcode_response_is_dropped() {
    assert!(matches!(
        decode(fixture!("bigcode")),
        Err(DecodeError::Unparseable(_))
    ));
}

#[test]
fn on_a_stream_dblreq_is_two_messages() {
    let mut framer = StreamFramer::new();
    framer.push(fixture!("dblreq"));
    let mut methods = Vec::new();
    while let Ok(Some(frame)) = framer.next_frame() {
        if let Frame::Message(bytes) = frame {
            methods.push(request(&bytes).method);
        }
    }
    assert_eq!(methods, vec![Method::Register, Method::Invite]);
}

#[test]
fn tel_and_ipv6_request_uris_in_a_torture_message() {
    let text = String::from_utf8_lossy(fixture!("lwsdisp")).replace(
        "OPTIONS sip:user@example.com SIP/2.0",
        "OPTIONS sip:user@[2001:db8::10]:5070 SIP/2.0",
    );
    let r = request(text.as_bytes());
    assert_eq!(r.uri.host, Host::Ip("2001:db8::10".parse().unwrap()));
    let text = text.replace("sip:user@[2001:db8::10]:5070", "tel:+15551234567");
    assert_eq!(request(text.as_bytes()).uri.scheme, Scheme::Tel);
}

#[test]
fn mutated_torture_messages_never_panic() {
    let mut rng = SmallRng::seed_from_u64(4475);
    for (_, base) in ALL {
        for _ in 0..200 {
            decode_and_frame(&mutate(&mut rng, base, 6));
        }
    }
}
