//! A record's journal line written directly, byte for byte what `serde_json::to_string` makes
//! of it (compact JSON, fields in declaration order, strings escaped as serde_json escapes
//! them: `"`, `\` and control characters, `\u00xx` in lower-case hex for those without a short
//! form), so the file is the same as before and the reader (`serde_json::from_str`) unchanged.
//! serde_json's generic serialiser was about 8 000 instructions a record on the writer thread
//! (docs/performance.md, "The call journal's cost"); the test below checks the two agree.

use std::fmt::Write;
use std::net::SocketAddr;

use super::{DialogId, DialogRecord, JournalRecord, SdpState};

/// `record` as one line of the file, with its newline.
pub fn to_line(record: &JournalRecord) -> String {
    let mut out = String::with_capacity(512);
    match record {
        JournalRecord::Up(dialog) => {
            out.push_str("{\"up\":");
            dialog_record(&mut out, dialog);
        }
        JournalRecord::Down(id) => {
            out.push_str("{\"down\":");
            dialog_id(&mut out, id);
        }
    }
    out.push_str("}\n");
    out
}

fn dialog_record(out: &mut String, d: &DialogRecord) {
    field_str(out, '{', "call_id", &d.call_id);
    field_str(out, ',', "local_tag", &d.local_tag);
    field_str(out, ',', "remote_tag", &d.remote_tag);
    field_str(out, ',', "local", &d.local);
    field_str(out, ',', "remote", &d.remote);
    field_str(out, ',', "remote_target", &d.remote_target);
    name(out, ',', "route_set");
    out.push('[');
    for (i, route) in d.route_set.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        string(out, route);
    }
    out.push(']');
    field_u64(out, "local_cseq", d.local_cseq.into());
    field_str(out, ',', "transport", &d.transport);
    name(out, ',', "peer");
    socket_addr(out, &d.peer);
    field_str(out, ',', "line", &d.line);
    field_bool(out, "outbound", d.outbound);
    name(out, ',', "sdp");
    sdp_state(out, &d.sdp);
    field_str(out, ',', "caller_id", &d.caller_id);
    field_str(out, ',', "caller_id_name", &d.caller_id_name);
    field_str(out, ',', "called_id", &d.called_id);
    field_str(out, ',', "called_id_name", &d.called_id_name);
    out.push('}');
}

fn sdp_state(out: &mut String, sdp: &SdpState) {
    name(out, '{', "session_id");
    u64_decimal(out, sdp.session_id);
    field_u64(out, "version", sdp.version);
    name(out, ',', "local_rtp");
    match &sdp.local_rtp {
        Some(addr) => socket_addr(out, addr),
        None => out.push_str("null"),
    }
    field_bool(out, "held_local", sdp.held_local);
    field_bool(out, "held_remote", sdp.held_remote);
    out.push('}');
}

fn dialog_id(out: &mut String, id: &DialogId) {
    field_str(out, '{', "call_id", &id.call_id);
    field_str(out, ',', "local_tag", &id.local_tag);
    out.push('}');
}

/// `<before>"<name>":` (names need no escaping).
fn name(out: &mut String, before: char, name: &str) {
    out.push(before);
    out.push('"');
    out.push_str(name);
    out.push_str("\":");
}

fn field_str(out: &mut String, before: char, field: &str, value: &str) {
    name(out, before, field);
    string(out, value);
}

fn field_u64(out: &mut String, field: &str, value: u64) {
    name(out, ',', field);
    u64_decimal(out, value);
}

fn field_bool(out: &mut String, field: &str, value: bool) {
    name(out, ',', field);
    out.push_str(if value { "true" } else { "false" });
}

/// A JSON string as serde_json writes it: `"`, `\` and U+0000-U+001F escaped, the rest as is.
fn string(out: &mut String, value: &str) {
    out.push('"');
    let mut start = 0;
    for (i, byte) in value.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x09 => "\\t",
            0x0a => "\\n",
            0x0c => "\\f",
            0x0d => "\\r",
            0x00..=0x1f => "",
            _ => continue,
        };
        // Escaped bytes are ASCII: `i` and `i + 1` are character boundaries.
        out.push_str(&value[start..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(HEX[usize::from(byte >> 4)] as char);
            out.push(HEX[usize::from(byte & 0xf)] as char);
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&value[start..]);
    out.push('"');
}

fn u64_decimal(out: &mut String, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    for &d in &digits[at..] {
        out.push(d as char);
    }
}

/// As serde writes a `SocketAddr` to JSON: its `Display` in quotes (needs no escaping).
fn socket_addr(out: &mut String, addr: &SocketAddr) {
    out.push('"');
    match addr {
        SocketAddr::V4(v4) => {
            for (i, octet) in v4.ip().octets().iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                u64_decimal(out, (*octet).into());
            }
            out.push(':');
            u64_decimal(out, v4.port().into());
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
