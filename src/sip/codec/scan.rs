//! Byte scanning for the value parsers: byte-class lookup tables (one load and one test per
//! byte instead of a chain of comparisons), a trim that does nothing when there is nothing to
//! trim, and [`split_outside_quotes`], which jumps from one interesting byte to the next with
//! `memchr` instead of looking at every byte.
//!
//! The classes are the RFC 3261 §25.1 ones the parsers check: `token`, the characters a URI is
//! written with, `hostname`, and white space as `char::is_whitespace` sees it in ASCII.

use memchr::{memchr, memchr2, memchr3};

/// §25.1 `token`: alphanumerics and `-.!%*_+`'~`.
pub const TOKEN: u8 = 1;
/// The characters a SIP URI is written with (see `values::is_uri_byte`).
pub const URI: u8 = 2;
/// A parameter name or unquoted value: [`URI`] characters and the backquote.
pub const PARAM: u8 = 4;
/// §25.1 `hostname` characters (alphanumerics, `-`, `.`), and `_` as names in the wild have it.
pub const HOST: u8 = 8;
/// ASCII white space as `char::is_whitespace` has it: SP and HTAB to CR.
pub const SPACE: u8 = 16;
/// A decimal digit.
pub const DIGIT: u8 = 32;

const fn classes() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let alnum = c.is_ascii_alphanumeric();
        let mut class = 0;
        if alnum || contains(b"-.!%*_+`'~", c) {
            class |= TOKEN;
        }
        if alnum || contains(b"-_.!~*'();/?:@&=+$,%[]#", c) {
            class |= URI | PARAM;
        }
        if c == b'`' {
            class |= PARAM;
        }
        if alnum || contains(b"-._", c) {
            class |= HOST;
        }
        if c == b' ' || (c >= 0x09 && c <= 0x0d) {
            class |= SPACE;
        }
        if c.is_ascii_digit() {
            class |= DIGIT;
        }
        table[b] = class;
        b += 1;
    }
    table
}

const fn contains(set: &[u8], c: u8) -> bool {
    let mut i = 0;
    while i < set.len() {
        if set[i] == c {
            return true;
        }
        i += 1;
    }
    false
}

static CLASSES: [u8; 256] = classes();

/// True when `b` is in any of the classes `mask`.
#[inline]
pub fn is(b: u8, mask: u8) -> bool {
    CLASSES[b as usize] & mask != 0
}

/// True when every byte of `s` is in one of the classes `mask` (true for an empty `s`).
#[inline]
pub fn all(s: &str, mask: u8) -> bool {
    s.bytes().all(|b| is(b, mask))
}

/// `str::trim`, without its work when neither end is white space.
#[inline]
pub fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(&first), Some(&last)) if is_plain(first) && is_plain(last) => s,
        (None, _) | (_, None) => s,
        _ => s.trim(),
    }
}

/// `str::trim_start`, without its work when the first byte is no white space.
#[inline]
pub fn trim_start(s: &str) -> &str {
    match s.as_bytes().first() {
        Some(&first) if !is_plain(first) => s.trim_start(),
        _ => s,
    }
}

/// An ASCII byte that is no white space: no `trim` removes it (a non-ASCII byte may begin a
/// Unicode space, so it is not plain).
#[inline]
fn is_plain(b: u8) -> bool {
    b < 0x80 && !is(b, SPACE)
}

/// Below this length a byte loop finds a byte in fewer instructions than `memchr`, whose
/// vector search has a fixed cost of some 60 instructions a call (callgrind, 2026-12-02).
const SHORT: usize = 16;

/// The position of the first `c` in `bytes`.
#[inline]
pub fn find_byte(bytes: &[u8], c: u8) -> Option<usize> {
    if bytes.len() < SHORT {
        return bytes.iter().position(|&b| b == c);
    }
    memchr(c, bytes)
}

/// `s.split_once(c)` for an ASCII `c`.
#[inline]
pub fn split_once(s: &str, c: u8) -> Option<(&str, &str)> {
    debug_assert!(c.is_ascii());
    let i = find_byte(s.as_bytes(), c)?;
    // An ASCII byte is a character boundary on both sides.
    Some((s.get(..i)?, s.get(i + 1..)?))
}

/// The position of the first ASCII `c` in `s`.
#[inline]
pub fn find(s: &str, c: u8) -> Option<usize> {
    find_byte(s.as_bytes(), c)
}

/// `s.split(c)` for an ASCII `c`, found with `memchr`.
pub fn split(s: &str, c: u8) -> impl Iterator<Item = &str> {
    debug_assert!(c.is_ascii());
    let mut rest = Some(s);
    std::iter::from_fn(move || {
        let current = rest?;
        match split_once(current, c) {
            Some((part, after)) => {
                rest = Some(after);
                Some(part)
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

/// True when `s` has a control character other than HTAB (`char::is_control`: C0, DEL, C1),
/// looking at bytes when `s` is ASCII.
pub fn has_control(s: &str) -> bool {
    if s.is_ascii() {
        return s.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f);
    }
    s.chars().any(|c| c.is_control() && c != '\t')
}

/// Splits `s` on the ASCII `sep` (`,` or `;`) outside double quotes and angle brackets:
/// inside a quoted string a backslash escapes the next byte (§25.1 `quoted-pair`), angle
/// brackets nest, a `>` without its `<` is nothing. Always yields at least one part.
pub fn split_outside_quotes(s: &str, sep: u8) -> SplitOutsideQuotes<'_> {
    debug_assert!(!matches!(sep, b'"' | b'<' | b'>' | b'\\') && sep.is_ascii());
    SplitOutsideQuotes {
        s,
        start: 0,
        sep,
        done: false,
    }
}

/// The iterator of [`split_outside_quotes`].
#[derive(Debug, Clone)]
pub struct SplitOutsideQuotes<'a> {
    s: &'a str,
    start: usize,
    sep: u8,
    done: bool,
}

impl<'a> Iterator for SplitOutsideQuotes<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.done {
            return None;
        }
        let bytes = self.s.as_bytes();
        let from = self.start;
        match next_separator(bytes, from, self.sep) {
            Some(i) => {
                self.start = i + 1;
                self.s.get(from..i)
            }
            None => {
                self.done = true;
                self.s.get(from..)
            }
        }
    }
}

/// The next `sep` at or after `at` outside quotes and brackets: from one byte that matters in
/// the current state to the next (in a quoted string `"` and `\\`; inside brackets `"`, `<` and
/// `>`; elsewhere `sep`, `"` and `<`). A loop, not recursion: a peer's nesting costs no stack.
fn next_separator(bytes: &[u8], mut at: usize, sep: u8) -> Option<usize> {
    let (mut quoted, mut angle) = (false, 0u32);
    loop {
        let rest = bytes.get(at..)?;
        let found = if quoted {
            memchr2(b'"', b'\\', rest)
        } else if angle > 0 {
            memchr3(b'"', b'<', b'>', rest)
        } else {
            memchr3(sep, b'"', b'<', rest)
        };
        let i = at + found?;
        match bytes[i] {
            // Searched for only in a quoted string: it escapes the next byte.
            b'\\' => {
                at = i + 2;
                continue;
            }
            b'"' => quoted = !quoted,
            b'<' => angle = angle.saturating_add(1),
            // Searched for only inside brackets, so `angle` is at least 1.
            b'>' => angle -= 1,
            _ => return Some(i),
        }
        at = i + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte-by-byte splitter these functions replace, as the reference.
    fn reference(s: &str, sep: u8) -> Vec<&str> {
        let mut parts = Vec::new();
        let (mut quoted, mut angle, mut escaped, mut start) = (false, 0u32, false, 0);
        for (i, b) in s.bytes().enumerate() {
            if escaped {
                escaped = false;
                continue;
            }
            match b {
                b'\\' if quoted => escaped = true,
                b'"' => quoted = !quoted,
                b'<' if !quoted => angle += 1,
                b'>' if !quoted => angle = angle.saturating_sub(1),
                b if b == sep && !quoted && angle == 0 => {
                    parts.push(&s[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        parts.push(&s[start..]);
        parts
    }

    #[test]
    fn split_matches_the_reference_on_every_short_string() {
        // Every string of up to 6 bytes over the bytes that matter, and a few longer ones.
        let alphabet = [b',', b';', b'"', b'<', b'>', b'\\', b'a'];
        let mut checked = 0;
        for len in 0..=6u32 {
            for mut n in 0..7usize.pow(len) {
                let mut s = String::new();
                for _ in 0..len {
                    s.push(alphabet[n % 7] as char);
                    n /= 7;
                }
                for sep in [b',', b';'] {
                    let ours: Vec<&str> = split_outside_quotes(&s, sep).collect();
                    assert_eq!(ours, reference(&s, sep), "{s:?}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 200_000);
        let s = "\"a,b\" <sip:x@h;p=1,2>, <sip:y@h>;q=\"é\\\",x\"";
        assert_eq!(
            split_outside_quotes(s, b',').collect::<Vec<_>>(),
            reference(s, b',')
        );
    }

    #[test]
    fn split_and_controls_like_str() {
        for s in ["", " ", "a b", " a  b ", "abc", "é b"] {
            assert_eq!(
                split(s, b' ').collect::<Vec<_>>(),
                s.split(' ').collect::<Vec<_>>()
            );
        }
        for s in ["", "ab\tc", "a\0", "\x7f", "é\u{85}", "é\u{a0}", "a\rb"] {
            let expected = s.chars().any(|c| c.is_control() && c != '\t');
            assert_eq!(has_control(s), expected, "{s:?}");
        }
    }

    #[test]
    fn finds_like_memchr_at_every_length() {
        let hay: Vec<u8> = (0..40u8).map(|i| b'a' + i % 7).collect();
        for len in 0..hay.len() {
            for c in [b'a', b'c', b'g', b'z'] {
                assert_eq!(find_byte(&hay[..len], c), memchr(c, &hay[..len]));
            }
        }
    }

    #[test]
    fn trims_like_str_trim() {
        for s in [
            "",
            " ",
            "a",
            " a ",
            "a\t",
            "\u{a0}a",
            "a\u{3000}",
            "\x0ba",
            "é",
        ] {
            assert_eq!(trim(s), s.trim(), "{s:?}");
            assert_eq!(trim_start(s), s.trim_start(), "{s:?}");
        }
    }

    #[test]
    fn classes_match_their_definitions() {
        for b in 0..=255u8 {
            assert_eq!(is(b, SPACE), b.is_ascii() && (b as char).is_whitespace());
            assert_eq!(is(b, DIGIT), b.is_ascii_digit());
            assert_eq!(
                is(b, HOST),
                b.is_ascii_alphanumeric() || b"-._".contains(&b)
            );
        }
        assert!(all("Via-1.x", TOKEN) && !all("a b", TOKEN) && all("", TOKEN));
        assert!(is(b'`', PARAM) && !is(b'`', URI) && is(b'@', URI) && !is(b'>', URI));
    }
}
