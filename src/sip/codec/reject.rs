//! The ready response to a request we refuse (400, 413, 416, 505): RFC 3261 §8.2.6 asks for
//! Via (all values, in order), From, To, Call-ID and CSeq copied from the request; they are
//! copied as the request wrote them, since a request we refuse may be one whose values we
//! cannot type. A To without a tag gets one (§8.2.6.2), derived from the copied headers, so a
//! retransmission of the same request is answered with the same tag.

use super::header_lines::HeaderLine;

/// The headers a response copies from its request (§8.2.6.2).
const COPIED: [&str; 5] = ["Via", "From", "To", "Call-ID", "CSeq"];

/// Wire bytes of `SIP/2.0 <status> <reason>` for the request whose header lines are `lines`.
pub fn response_to(status: u16, reason: &str, lines: &[HeaderLine<'_>]) -> Vec<u8> {
    let mut text = format!("SIP/2.0 {status} {reason}\r\n");
    let tag = derived_tag(lines);
    for line in lines {
        // The values never hold a line end (rsip split at CRLF, folding was joined), but a
        // stray CR would let a peer write headers of its choosing into our response.
        let copied = COPIED.iter().any(|n| line.is(n));
        if copied && !line.value.contains(['\r', '\n']) {
            text.push_str(line.name);
            text.push_str(": ");
            text.push_str(line.value);
            if line.is("To") && !has_tag(line.value) {
                text.push_str(";tag=");
                text.push_str(&tag);
            }
            text.push_str("\r\n");
        }
    }
    text.push_str("Content-Length: 0\r\n\r\n");
    text.into_bytes()
}

/// Whether a To value carries a `tag` header parameter: after the `>` of a name-addr, or
/// after the first `;` of an addr-spec (§20.10: its parameters are header parameters).
fn has_tag(value: &str) -> bool {
    let params = match value.rfind('>') {
        Some(end) => &value[end + 1..],
        None => value.split_once(';').map_or("", |(_, p)| p),
    };
    params.split(';').any(|p| {
        p.split_once('=')
            .is_some_and(|(n, _)| n.trim().eq_ignore_ascii_case("tag"))
    })
}

/// A tag (§19.3) from FNV-1a of the copied header values: the same request, the same tag.
fn derived_tag(lines: &[HeaderLine<'_>]) -> String {
    let hash = lines
        .iter()
        .filter(|l| COPIED.iter().any(|n| l.is(n)))
        .flat_map(|l| l.value.bytes().chain([b'\n']))
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    format!("tgw{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_the_dialog_headers_only() {
        let lines = [
            HeaderLine {
                name: "Via",
                value: "SIP/7.0/UDP h;branch=z9hG4bK1",
            },
            HeaderLine {
                name: "Max-Forwards",
                value: "70",
            },
            HeaderLine {
                name: "To",
                value: "<sip:a@h>",
            },
            HeaderLine {
                name: "Subject",
                value: "x",
            },
            HeaderLine {
                name: "CSeq",
                value: "1 OPTIONS\rEvil: yes",
            },
        ];
        let text = String::from_utf8(response_to(505, "Version Not Supported", &lines)).unwrap();
        let tag = derived_tag(&lines);
        assert_eq!(
            text,
            format!(
                "SIP/2.0 505 Version Not Supported\r\n\
                 Via: SIP/7.0/UDP h;branch=z9hG4bK1\r\n\
                 To: <sip:a@h>;tag={tag}\r\n\
                 Content-Length: 0\r\n\r\n"
            )
        );
    }

    #[test]
    fn a_to_tag_is_added_once_and_is_the_same_for_the_same_request() {
        let lines = |to: &'static str, call_id: &'static str| {
            [
                HeaderLine {
                    name: "To",
                    value: to,
                },
                HeaderLine {
                    name: "Call-ID",
                    value: call_id,
                },
            ]
        };
        let a = response_to(400, "Bad Request", &lines("<sip:a@h;tag=u>", "1"));
        let text = String::from_utf8(a).unwrap();
        assert!(text.contains("To: <sip:a@h;tag=u>;tag=tgw"), "{text}");
        let kept = response_to(400, "Bad Request", &lines("<sip:a@h>;Tag=x", "1"));
        assert!(String::from_utf8(kept)
            .unwrap()
            .contains("To: <sip:a@h>;Tag=x\r\n"));
        let spec = response_to(400, "Bad Request", &lines("sip:a@h;tag=x", "1"));
        assert!(String::from_utf8(spec)
            .unwrap()
            .contains("To: sip:a@h;tag=x\r\n"));
        assert_eq!(
            derived_tag(&lines("<sip:a@h>", "1")),
            derived_tag(&lines("<sip:a@h>", "1"))
        );
        assert_ne!(
            derived_tag(&lines("<sip:a@h>", "1")),
            derived_tag(&lines("<sip:a@h>", "2"))
        );
    }
}
