//! A record's journal line written directly, byte for byte what `serde_json::to_string` makes
//! of it (compact JSON, fields in declaration order, strings escaped as serde_json escapes
//! them: `"`, `\` and control characters, `\u00xx` in lower-case hex for those without a short
//! form), so the file is the same as before and the reader (`serde_json::from_str`) unchanged.
//! serde_json's generic serialiser was about 8 000 instructions a record on the writer thread
//! (docs/performance.md, "The call journal's cost"); the test below checks the two agree.
//!
//! The line is sized before it is written (no regrowth), the constant text between two values
//! is pushed as one piece, and strings are scanned with a table for the bytes JSON escapes
//! (docs/performance.md, "Instructions per call, round 3").

use std::fmt::Write;
use std::net::SocketAddr;

use super::{DialogRecord, JournalRecord, SdpState};

/// `record` as one line of the file, with its newline.
pub fn to_line(record: &JournalRecord) -> String {
    match record {
        JournalRecord::Up(dialog) => {
            let mut out = String::with_capacity(up_capacity(dialog));
            out.push_str("{\"up\":");
            dialog_record(&mut out, dialog);
            out.push_str("}\n");
            out
        }
        JournalRecord::Down(id) => {
            let mut out = String::with_capacity(48 + id.call_id.len() + id.local_tag.len());
            out.push_str("{\"down\":{\"call_id\":");
            string(&mut out, &id.call_id);
            out.push_str(",\"local_tag\":");
            string(&mut out, &id.local_tag);
            out.push_str("}}\n");
            out
        }
    }
}

/// Room for an `up` line: its constant text (about 330 bytes), numbers and addresses (at
/// most about 170) and the strings as they are (escapes, rare, may still grow it).
fn up_capacity(d: &DialogRecord) -> usize {
    let strings = [
        &d.call_id,
        &d.local_tag,
        &d.remote_tag,
        &d.local,
        &d.remote,
        &d.remote_target,
        &d.transport,
        &d.line,
        &d.caller_id,
        &d.caller_id_name,
        &d.called_id,
        &d.called_id_name,
    ];
    let routes: usize = d.route_set.iter().map(|r| r.len() + 3).sum();
    512 + routes + strings.iter().map(|s| s.len()).sum::<usize>()
}

fn dialog_record(out: &mut String, d: &DialogRecord) {
    out.push_str("{\"call_id\":");
    string(out, &d.call_id);
    out.push_str(",\"local_tag\":");
    string(out, &d.local_tag);
    out.push_str(",\"remote_tag\":");
    string(out, &d.remote_tag);
    out.push_str(",\"local\":");
    string(out, &d.local);
    out.push_str(",\"remote\":");
    string(out, &d.remote);
    out.push_str(",\"remote_target\":");
    string(out, &d.remote_target);
    out.push_str(",\"route_set\":[");
    for (i, route) in d.route_set.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        string(out, route);
    }
    out.push_str("],\"local_cseq\":");
    u64_decimal(out, d.local_cseq.into());
    out.push_str(",\"transport\":");
    string(out, &d.transport);
    out.push_str(",\"peer\":");
    socket_addr(out, &d.peer);
    out.push_str(",\"line\":");
    string(out, &d.line);
    out.push_str(if d.outbound {
        ",\"outbound\":true,\"sdp\":"
    } else {
        ",\"outbound\":false,\"sdp\":"
    });
    sdp_state(out, &d.sdp);
    out.push_str(",\"caller_id\":");
    string(out, &d.caller_id);
    out.push_str(",\"caller_id_name\":");
    string(out, &d.caller_id_name);
    out.push_str(",\"called_id\":");
    string(out, &d.called_id);
    out.push_str(",\"called_id_name\":");
    string(out, &d.called_id_name);
    out.push('}');
}

fn sdp_state(out: &mut String, sdp: &SdpState) {
    out.push_str("{\"session_id\":");
    u64_decimal(out, sdp.session_id);
    out.push_str(",\"version\":");
    u64_decimal(out, sdp.version);
    out.push_str(",\"local_rtp\":");
    match &sdp.local_rtp {
        Some(addr) => socket_addr(out, addr),
        None => out.push_str("null"),
    }
    out.push_str(match (sdp.held_local, sdp.held_remote) {
        (false, false) => ",\"held_local\":false,\"held_remote\":false}",
        (false, true) => ",\"held_local\":false,\"held_remote\":true}",
        (true, false) => ",\"held_local\":true,\"held_remote\":false}",
        (true, true) => ",\"held_local\":true,\"held_remote\":true}",
    });
}

/// Per byte: 0 = as is, else its escape: `b` `t` `n` `f` `r` `"` `\` after a backslash, or
/// `u` for `\u00xx`.
static ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = b'u';
        byte += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// A JSON string as serde_json writes it: `"`, `\` and U+0000-U+001F escaped, the rest as is.
fn string(out: &mut String, value: &str) {
    out.push('"');
    let bytes = value.as_bytes();
    let mut start = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        let escape = ESCAPE[usize::from(byte)];
        if escape == 0 {
            continue;
        }
        // Escaped bytes are ASCII: `i` and `i + 1` are character boundaries.
        out.push_str(&value[start..i]);
        if escape == b'u' {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(HEX[usize::from(byte >> 4)] as char);
            out.push(HEX[usize::from(byte & 0xf)] as char);
        } else {
            out.push('\\');
            out.push(escape as char);
        }
        start = i + 1;
    }
    out.push_str(&value[start..]);
    out.push('"');
}

fn u64_decimal(out: &mut String, value: u64) {
    out.push_str(itoa::Buffer::new().format(value));
}

/// As serde writes a `SocketAddr` to JSON: its `Display` in quotes (needs no escaping).
fn socket_addr(out: &mut String, addr: &SocketAddr) {
    out.push('"');
    match addr {
        SocketAddr::V4(v4) => {
            let mut digits = itoa::Buffer::new();
            let [a, b, c, d] = v4.ip().octets();
            out.push_str(digits.format(a));
            out.push('.');
            out.push_str(digits.format(b));
            out.push('.');
            out.push_str(digits.format(c));
            out.push('.');
            out.push_str(digits.format(d));
            out.push(':');
            out.push_str(digits.format(v4.port()));
        }
        SocketAddr::V6(v6) => {
            let _ = write!(out, "{v6}");
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::DialogId;

    fn record(call_id: &str, route_set: Vec<String>, local_rtp: Option<&str>) -> DialogRecord {
        DialogRecord {
            call_id: call_id.into(),
            local_tag: "t\u{7f}ü".into(),
            remote_tag: "r\"q\\".into(),
            local: "\"Alice \\\"A\\\"\" <sip:a@h>;tag=t".into(),
            remote: "<sip:b@h>".into(),
            remote_target: "sip:b@192.0.2.1:5070;transport=tcp".into(),
            route_set,
            local_cseq: u32::MAX,
            transport: "TCP".into(),
            peer: "[2001:db8::1%3]:5061".parse().unwrap(),
            line: "1001".into(),
            outbound: false,
            sdp: SdpState {
                session_id: u64::MAX,
                version: 0,
                local_rtp: local_rtp.map(|a| a.parse().unwrap()),
                held_local: true,
                held_remote: false,
            },
            caller_id: "\u{0}\u{1}\u{8}\t\n\u{b}\u{c}\r\u{1f} ".into(),
            caller_id_name: "Zoë ☎ 電話".into(),
            called_id: "1002".into(),
            called_id_name: String::new(),
        }
    }

    fn serde_line(record: &JournalRecord) -> String {
        let mut line = serde_json::to_string(record).unwrap();
        line.push('\n');
        line
    }

    #[test]
    fn lines_are_what_serde_json_writes() {
        let records = [
            JournalRecord::Up(Box::new(record("a", vec![], None))),
            JournalRecord::Up(Box::new(record(
                "b@192.0.2.1",
                vec!["<sip:p1;lr>".into(), "<sip:p2@10.0.0.1;lr>".into()],
                Some("192.0.2.9:20000"),
            ))),
            JournalRecord::Up(Box::new(record("c", vec!["x".into()], Some("[::1]:9")))),
            JournalRecord::Up(Box::new(DialogRecord {
                peer: "0.0.0.0:0".parse().unwrap(),
                local_cseq: 0,
                outbound: true,
                ..record("d", vec![], Some("255.255.255.255:65535"))
            })),
            JournalRecord::Down(DialogId {
                call_id: "e\"\n".into(),
                local_tag: String::new(),
            }),
        ];
        let every_ascii: String = (0u8..0x80).map(char::from).collect();
        let records = records.into_iter().chain([JournalRecord::Down(DialogId {
            call_id: every_ascii.clone(),
            local_tag: every_ascii + "\u{80}\u{10ffff}",
        })]);
        for r in &records.collect::<Vec<_>>() {
            assert_eq!(to_line(r), serde_line(r));
            let back: JournalRecord = serde_json::from_str(&to_line(r)).unwrap();
            assert_eq!(&back, r);
        }
    }
}
