//! The ready response to a request we refuse (400, 416, 505): RFC 3261 §8.2.6 asks for Via (all
//! values, in order), From, To, Call-ID and CSeq copied from the request; they are copied as
//! the request wrote them, since a request we refuse may be one whose values we cannot type.

use super::header_lines::HeaderLine;

/// The headers a response copies from its request (§8.2.6.2).
const COPIED: [&str; 5] = ["Via", "From", "To", "Call-ID", "CSeq"];

/// Wire bytes of `SIP/2.0 <status> <reason>` for the request whose header lines are `lines`.
pub fn response_to(status: u16, reason: &str, lines: &[HeaderLine<'_>]) -> Vec<u8> {
    let mut text = format!("SIP/2.0 {status} {reason}\r\n");
    for line in lines {
        // The values never hold a line end (rsip split at CRLF, folding was joined), but a
        // stray CR would let a peer write headers of its choosing into our response.
        let copied = COPIED.iter().any(|n| line.is(n));
        if copied && !line.value.contains(['\r', '\n']) {
            text.push_str(line.name);
            text.push_str(": ");
            text.push_str(line.value);
            text.push_str("\r\n");
        }
    }
    text.push_str("Content-Length: 0\r\n\r\n");
    text.into_bytes()
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
        assert_eq!(
            text,
            "SIP/2.0 505 Version Not Supported\r\n\
             Via: SIP/7.0/UDP h;branch=z9hG4bK1\r\n\
             To: <sip:a@h>\r\n\
             Content-Length: 0\r\n\r\n"
        );
    }
}
