//! What rsip 0.4 cannot take, made ready for it (RFC 3261 §7.3): bare-LF line ends, folded
//! header lines (§7.3.1), compact header names (§7.3.3), comma-separated multi-value headers
//! (§7.3.1), leading CRLFs before the start line (§7.5).

/// The head of a message as logical lines: the start line and `(name, value)` headers, with
/// full header names and one value per line for the list headers we interpret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub start_line: String,
    pub headers: Vec<(String, String)>,
}

/// Splits raw bytes into the head text and the body (everything after the first empty line).
/// `None` when there is no empty line ending the head.
pub fn split_head(bytes: &[u8]) -> Option<(&str, &[u8])> {
    let start = bytes
        .iter()
        .position(|b| !matches!(b, b'\r' | b'\n'))
        .unwrap_or(bytes.len());
    let bytes = &bytes[start..];
    let end = find_head_end(bytes)?;
    let head = std::str::from_utf8(&bytes[..end.0]).ok()?;
    Some((head, &bytes[end.1..]))
}

/// (end of the head text, start of the body): the first CRLFCRLF or LFLF (or mixed).
pub fn find_head_end(bytes: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\n' {
            let next = i + 1;
            if bytes.get(next) == Some(&b'\n') {
                return Some((i, next + 1));
            }
            if bytes.get(next) == Some(&b'\r') && bytes.get(next + 1) == Some(&b'\n') {
                return Some((i, next + 2));
            }
        }
        i += 1;
    }
    None
}

/// Parses the head text into logical lines; `None` when a header line has no colon.
pub fn parse_head(head: &str) -> Option<Head> {
    let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let start_line = lines.next()?.trim().to_string();
    let mut raw: Vec<String> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            // §7.3.1: a continuation line joins the previous one with a single space.
            let last = raw.last_mut()?;
            last.push(' ');
            last.push_str(line.trim());
        } else if !line.is_empty() {
            raw.push(line.to_string());
        }
    }
    let mut headers = Vec::with_capacity(raw.len());
    for line in raw {
        let (name, value) = line.split_once(':')?;
        let name = full_name(name.trim());
        if name.is_empty() || name.contains(char::is_whitespace) {
            return None;
        }
        let value = value.trim();
        if is_list_header(name) {
            for part in super::values::split_outside_quotes(value, ',') {
                if !part.trim().is_empty() {
                    headers.push((name.to_string(), part.trim().to_string()));
                }
            }
        } else {
            headers.push((name.to_string(), value.to_string()));
        }
    }
    Some(Head {
        start_line,
        headers,
    })
}

/// §7.3.3 compact forms (plus the registered ones of later RFCs) to full names.
pub fn full_name(name: &str) -> &str {
    if name.len() != 1 {
        return name;
    }
    match name.as_bytes()[0].to_ascii_lowercase() {
        b'i' => "Call-ID",
        b'm' => "Contact",
        b'e' => "Content-Encoding",
        b'l' => "Content-Length",
        b'c' => "Content-Type",
        b'f' => "From",
        b's' => "Subject",
        b'k' => "Supported",
        b't' => "To",
        b'v' => "Via",
        b'o' => "Event",
        b'r' => "Refer-To",
        b'b' => "Referred-By",
        b'x' => "Session-Expires",
        b'u' => "Allow-Events",
        b'y' => "Identity",
        _ => name,
    }
}

/// Headers whose comma-separated values we split into one value each.
fn is_list_header(name: &str) -> bool {
    ["Via", "Contact", "Route", "Record-Route"]
        .iter()
        .any(|n| n.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_compact_and_lists() {
        let head = "INVITE sip:a@h SIP/2.0\nv: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2\n\
                    Subject: one\n two\n\tthree\nm: <sip:x@h>;expires=\"1,2\", <sip:y@h>";
        let h = parse_head(head).unwrap();
        assert_eq!(h.start_line, "INVITE sip:a@h SIP/2.0");
        assert_eq!(
            h.headers[0],
            ("Via".into(), "SIP/2.0/UDP a;branch=z9hG4bK1".into())
        );
        assert_eq!(h.headers[1].1, "SIP/2.0/UDP b;branch=z9hG4bK2");
        assert_eq!(h.headers[2], ("Subject".into(), "one two three".into()));
        assert_eq!(h.headers[3].1, "<sip:x@h>;expires=\"1,2\"");
        assert_eq!(h.headers[4].1, "<sip:y@h>");
    }

    #[test]
    fn head_ends_at_the_first_empty_line_in_any_line_ending() {
        assert_eq!(
            split_head(b"\r\n\r\nA\r\nB: c\r\n\r\nbody").unwrap(),
            ("A\r\nB: c\r", &b"body"[..])
        );
        assert_eq!(
            split_head(b"A\nB: c\n\nbody").unwrap(),
            ("A\nB: c", &b"body"[..])
        );
        assert!(split_head(b"A\r\nB: c\r\n").is_none());
        assert!(parse_head("A\r\nno colon here").is_none());
        assert!(parse_head("A\r\n continuation first").is_none());
    }
}
