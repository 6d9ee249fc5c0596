//! The header lines of a message, split by rsip: rsip 0.4's header-line grammar
//! (`rsip::headers::header::Tokenizer`, RFC 3261 §7.3 / §25.1 `message-header = header-name
//! HCOLON header-value CRLF`) cuts each line into its name token and its value. This is the only
//! place that calls rsip. The block it gets has been through `normalize` (CRLF line ends, no
//! folding, no white space before a colon), so the grammar it applies is the RFC's.
//!
//! rsip's tokenizer is public but `#[doc(hidden)]` (rsip's typed `Request` would also convert
//! the start line, which fails on extension methods and on IPv6 and `tel:` Request-URIs); the
//! crate is pinned with `=0.4.0`, so what it does cannot change under us.

use std::panic::{catch_unwind, AssertUnwindSafe};

use rsip::headers::header::Tokenizer;

use super::normalize::full_name;
use super::scan;
use super::DecodeError;

/// One header line: its full name (compact forms expanded) and its value, trimmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderLine<'a> {
    pub name: &'a str,
    pub value: &'a str,
}

impl HeaderLine<'_> {
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }
}

/// Splits a normalised header block into lines. A line rsip cannot split (no colon, a name
/// that is not a token) or that is not UTF-8 makes the message unparseable. rsip runs under
/// `catch_unwind`: a panic in it is an unparseable message, not a dead gateway.
pub fn split(block: &[u8]) -> Result<Vec<HeaderLine<'_>>, DecodeError> {
    match catch_unwind(AssertUnwindSafe(|| tokenize(block))) {
        Ok(lines) => lines,
        Err(_) => Err(DecodeError::Unparseable("rsip panicked".into())),
    }
}

fn tokenize(block: &[u8]) -> Result<Vec<HeaderLine<'_>>, DecodeError> {
    // One UTF-8 check for the whole block; the pieces rsip cuts from it are then taken from
    // this text. A block that is not UTF-8 is checked piece by piece, as rsip cuts it, so that
    // the error is the one of the first bad line.
    let text = std::str::from_utf8(block).ok();
    let mut lines = Vec::with_capacity(16);
    let mut rest = block;
    while !rest.is_empty() {
        let (remaining, token) = Tokenizer::tokenize(rest)
            .map_err(|_| DecodeError::Unparseable("malformed header line".into()))?;
        let value = scan::trim(piece(text, block, token.value)?);
        if scan::find_byte(value.as_bytes(), b'\r').is_some() {
            // A CR that does not end a line is in no header's grammar (§25.1 TEXT-UTF8char,
            // quoted-pair); echoed into a response it would end a line for other parsers.
            return Err(DecodeError::Unparseable("bare CR in a header".into()));
        }
        lines.push(HeaderLine {
            name: full_name(piece(text, block, token.name)?),
            value,
        });
        rest = remaining;
    }
    Ok(lines)
}

/// `part` as text: from the checked `text` of the block when there is one.
fn piece<'a>(
    text: Option<&'a str>,
    block: &'a [u8],
    part: &'a [u8],
) -> Result<&'a str, DecodeError> {
    match text.and_then(|t| within(t, block, part)) {
        Some(s) => Ok(s),
        None => utf8(part),
    }
}

/// `part` (a slice of `block`, as rsip returns them) as a slice of `text`, the same bytes
/// checked as UTF-8; `None` when it is not within `block` or not cut at character boundaries.
fn within<'a>(text: &'a str, block: &[u8], part: &[u8]) -> Option<&'a str> {
    let start = (part.as_ptr() as usize).checked_sub(block.as_ptr() as usize)?;
    text.get(start..start.checked_add(part.len())?)
}

fn utf8(bytes: &[u8]) -> Result<&str, DecodeError> {
    std::str::from_utf8(bytes).map_err(|_| DecodeError::Unparseable("header not UTF-8".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_values() {
        let lines = split(b"v: SIP/2.0/UDP h \r\nSubject:\r\nX-A:b:c").unwrap();
        let pairs: Vec<_> = lines.iter().map(|l| (l.name, l.value)).collect();
        assert_eq!(
            pairs,
            vec![("Via", "SIP/2.0/UDP h"), ("Subject", ""), ("X-A", "b:c")]
        );
        assert!(split(b"").unwrap().is_empty());
    }

    #[test]
    fn lines_rsip_cannot_split() {
        for bad in [
            &b"no colon"[..],
            b"A: b\r\nno colon",
            b"(x): y",
            b"A: \xff",
            b"A: b\rc: d",
        ] {
            assert!(split(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
