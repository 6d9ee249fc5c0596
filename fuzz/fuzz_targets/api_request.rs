//! `tapigw::api::protocol::parse_request` on any UTF-8 line.
//!
//! Properties:
//! - it never panics;
//! - the tag of every accepted request, and of every fault that has one, is valid JSON text
//!   (it is written verbatim as the `id` of the response), a number or a string;
//! - the line written back for a fault, and for a LINEERR_ answer to an accepted request, is
//!   one JSON object on one line carrying that id.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tapigw::api::protocol::{encode, parse_request};
use tapigw::tapi::{ConnId, LineErr, Output, ReplyTag};

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    let output = match parse_request(line) {
        Ok((tag, _request)) => {
            check_tag(&tag);
            Output::Response {
                conn: ConnId(1),
                tag,
                result: Err(LineErr(0x8000_0048).into()),
            }
        }
        Err(fault) => {
            if let Some(tag) = &fault.tag {
                check_tag(tag);
            }
            Output::Fault {
                conn: ConnId(1),
                fault,
            }
        }
    };
    let written = encode(&output).expect("a response or fault is a line");
    assert!(!written.contains('\n'), "not one line: {written:?}");
    let value: Value = serde_json::from_str(&written)
        .unwrap_or_else(|e| panic!("we wrote invalid JSON ({e}): {written}"));
    let id = match &output {
        Output::Response { tag, .. } => Some(tag),
        Output::Fault { fault, .. } => fault.tag.as_ref(),
        _ => unreachable!(),
    };
    let expected = id.map_or(Value::Null, |t| serde_json::from_str(t.as_str()).unwrap());
    assert_eq!(value["id"], expected, "{written}");
    assert_eq!(value["jsonrpc"], "2.0");
});

fn check_tag(tag: &ReplyTag) {
    let value: Value = serde_json::from_str(tag.as_str())
        .unwrap_or_else(|e| panic!("tag {:?} is not JSON: {e}", tag.as_str()));
    assert!(
        matches!(value, Value::Number(_) | Value::String(_)),
        "tag {:?}",
        tag.as_str()
    );
}
