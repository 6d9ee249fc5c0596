//! Cutting a message into start line, header block and body, and making the header block
//! ready for rsip's header-line grammar where rsip 0.4 cannot take it as sent (RFC 3261 §7.3):
//! bare-LF line ends, folded header lines (§7.3.1) and white space before the colon (§25.1
//! `HCOLON = *( SP / HTAB ) ":" SWS`). A header block without any of these (what real peers
//! send) is handed to rsip as it arrived, without a copy. Compact header names (§7.3.3) are
//! expanded by [`full_name`] after rsip has split the lines.

use std::borrow::Cow;

use std::sync::LazyLock;

use memchr::{memchr, memchr3, memchr_iter, memmem};

/// The three parts of a message, borrowed from its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts<'a> {
    /// The start line, without its line end.
    pub start_line: &'a [u8],
    /// The header lines, without the line end of the last one (may be empty).
    pub headers: &'a [u8],
    /// Everything after the empty line that ends the head.
    pub body: &'a [u8],
}

/// Splits a message into its parts; `None` when no empty line ends the head. CRLFs before the
/// start line are skipped (RFC 3261 §7.5).
pub fn split_message(bytes: &[u8]) -> Option<Parts<'_>> {
    let first = bytes.iter().position(|b| !matches!(b, b'\r' | b'\n'))?;
    let bytes = &bytes[first..];
    let (head_end, body_start) = find_head_end(bytes)?;
    let head = &bytes[..head_end];
    let (start_line, headers) = match memchr(b'\n', head) {
        Some(lf) => (strip_cr(&head[..lf]), &head[lf + 1..]),
        None => (head, &head[head.len()..]),
    };
    Some(Parts {
        start_line,
        headers,
        body: &bytes[body_start..],
    })
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The two empty-line searchers, built once (building one costs as much as a search).
static CRLF_EMPTY: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"\n\r\n"));
static LF_EMPTY: LazyLock<memmem::Finder<'static>> = LazyLock::new(|| memmem::Finder::new(b"\n\n"));

/// (end of the head without its last line end, start of the body): at the first empty line,
/// whether lines end in CRLF or in a bare LF.
pub fn find_head_end(bytes: &[u8]) -> Option<(usize, usize)> {
    // The empty line is "\n\r\n" (after CRLF or a bare LF) or "\n\n", whichever comes first.
    let crlf = CRLF_EMPTY.find(bytes);
    let lf = LF_EMPTY.find(&bytes[..crlf.map_or(bytes.len(), |i| i + 1)]);
    let (at, body) = match (lf, crlf) {
        (Some(i), _) => (i, i + 2),
        (None, Some(i)) => (i, i + 3),
        (None, None) => return None,
    };
    let end = if at > 0 && bytes[at - 1] == b'\r' {
        at - 1
    } else {
        at
    };
    Some((end, body))
}

/// The header block as rsip's grammar takes it: CRLF line ends, no folding, no white space
/// before a colon. Borrowed when the block already is so; `None` when it starts with a
/// continuation line.
pub fn normalize_headers(block: &[u8]) -> Option<Cow<'_, [u8]>> {
    if block.first().is_some_and(|&b| is_wsp(b)) {
        return None;
    }
    if is_clean(block) {
        return Some(Cow::Borrowed(block));
    }
    Some(Cow::Owned(rewrite(block)))
}

fn is_wsp(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// True when every line ends in CRLF, no line is a continuation and every header name is
/// followed directly by its colon.
fn is_clean(block: &[u8]) -> bool {
    let mut start = 0;
    for lf in memchr_iter(b'\n', block).chain([block.len()]) {
        let line = &block[start..lf];
        let ended = lf == block.len() || line.ends_with(b"\r");
        let folded = line.first().is_some_and(|&b| is_wsp(b));
        if !ended || folded || !colon_follows_name(line) {
            return false;
        }
        start = lf + 1;
    }
    true
}

/// The first of `:`, SP and HTAB in a header line is the colon (or the line has none of them,
/// which rsip's grammar rejects on its own).
fn colon_follows_name(line: &[u8]) -> bool {
    memchr3(b':', b' ', b'\t', line).is_none_or(|i| line[i] == b':')
}

/// Rewrites a block: §7.3.1 continuation lines joined to their header with one SP, white
/// space before a colon dropped, every line ended with CRLF (but the last one).
fn rewrite(block: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::with_capacity(block.len());
    for line in block.split(|&b| b == b'\n').map(strip_cr) {
        if line.first().is_some_and(|&b| is_wsp(b)) {
            trim_end(&mut out);
            out.push(b' ');
            out.extend_from_slice(line.trim_ascii_start());
            continue;
        }
        if !out.is_empty() {
            out.extend_from_slice(b"\r\n");
        }
        match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                out.extend_from_slice(line[..colon].trim_ascii_end());
                out.extend_from_slice(&line[colon..]);
            }
            None => out.extend_from_slice(line),
        }
    }
    out
}

fn trim_end(out: &mut Vec<u8>) {
    while out.last().is_some_and(|&b| is_wsp(b)) {
        out.pop();
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_in_any_line_ending() {
        let p = split_message(b"\r\n\r\nA\r\nB: c\r\nD: e\r\n\r\nbody").unwrap();
        assert_eq!(p.start_line, b"A");
        assert_eq!(p.headers, b"B: c\r\nD: e");
        assert_eq!(p.body, b"body");
        let p = split_message(b"A\nB: c\n\nbody").unwrap();
        assert_eq!(
            (p.start_line, p.headers, p.body),
            (&b"A"[..], &b"B: c"[..], &b"body"[..])
        );
        let p = split_message(b"A\r\n\r\n").unwrap();
        assert_eq!(
            (p.start_line, p.headers, p.body),
            (&b"A"[..], &b""[..], &b""[..])
        );
        assert!(split_message(b"A\r\nB: c\r\n").is_none());
        assert!(split_message(b"\r\n\r\n").is_none());
    }

    #[test]
    fn clean_blocks_are_borrowed() {
        let block = b"Via: SIP/2.0/UDP h\r\nTo:<sip:a@h>\r\nX:";
        assert!(matches!(normalize_headers(block), Some(Cow::Borrowed(_))));
        assert!(normalize_headers(b" continuation first").is_none());
    }

    #[test]
    fn folding_bare_lf_and_space_before_colon_are_rewritten() {
        let block = b"Subject: one\r\n two  \r\n\tthree\nTO :\r\n <sip:a@h>\r\nV  : x";
        let out = normalize_headers(block).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out),
            "Subject: one two three\r\nTO: <sip:a@h>\r\nV: x"
        );
    }

    #[test]
    fn compact_names() {
        assert_eq!(full_name("v"), "Via");
        assert_eq!(full_name("L"), "Content-Length");
        assert_eq!(full_name("q"), "q");
        assert_eq!(full_name("Via"), "Via");
    }
}
