//! The start line (RFC 3261 §7.1, §7.2, §25.1): `Method SP Request-URI SP SIP-Version` or
//! `SIP-Version SP Status-Code SP Reason-Phrase`, elements separated by exactly one SP.
//!
//! Ours, not rsip's: rsip 0.4 converts the method into a closed enum of 14 methods (no
//! extension methods, §7.1), parses the Request-URI with its own URI type (no IPv6 hosts, no
//! `tel:`) and cannot tell "not SIP" from "a SIP request with a bad request line", which gets a
//! 400, or from "another SIP version", which gets a 505 (RFC 4475 §3.1.2.8, §3.1.2.9,
//! §3.1.2.16).

use super::decode::Refusal;
use super::scan;

/// A parsed start line, borrowing its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine<'a> {
    Request { method: &'a str, uri: &'a str },
    Status { code: u16, reason: &'a str },
}

/// The only version we speak (§7.1: "SIP/2.0"; the literal is case-insensitive, §25.1).
const VERSION: &str = "SIP/2.0";

/// Parses the start line. A response line that is not right is dropped; a line that reads as
/// a request (a method token first, a SIP version last) but is not right is answered.
pub fn parse(line: &[u8]) -> Result<StartLine<'_>, Refusal> {
    let line = std::str::from_utf8(line).map_err(|_| Refusal::discard("start line not UTF-8"))?;
    if starts_with_ignore_case(line, "SIP/") {
        return parse_status(line);
    }
    parse_request(line)
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

/// `SIP/2.0 200 OK`; the reason phrase may be empty (§25.1 `Reason-Phrase = *(...)`).
fn parse_status(line: &str) -> Result<StartLine<'_>, Refusal> {
    // `line.splitn(3, ' ')`: the version, the code, the rest.
    let (version, rest) = scan::split_once(line, b' ').unwrap_or((line, ""));
    let (code, reason) = scan::split_once(rest, b' ').unwrap_or((rest, ""));
    if !version.eq_ignore_ascii_case(VERSION) {
        return Err(Refusal::discard("response of another SIP version"));
    }
    // §25.1 Status-Code = 3DIGIT; the first digit is the class, 1 to 6 (§7.2).
    let valid = code.len() == 3
        && code.bytes().all(|b| b.is_ascii_digit())
        && (b'1'..=b'6').contains(&code.as_bytes()[0]);
    let code = code
        .parse()
        .ok()
        .filter(|_| valid)
        .ok_or_else(|| Refusal::discard("bad status code"))?;
    // §25.1 Reason-Phrase: text, SP and HTAB, no control. A bare CR in it would end the line
    // for a peer we pass it on to (found by the `sip_decode` fuzz target, docs/fuzzing.md).
    if scan::has_control(reason) {
        return Err(Refusal::discard("control character in the reason phrase"));
    }
    Ok(StartLine::Status { code, reason })
}

/// `METHOD uri SIP/2.0`, exactly one SP between the elements.
fn parse_request(line: &str) -> Result<StartLine<'_>, Refusal> {
    if !looks_like_request(line) {
        return Err(Refusal::discard("not a SIP start line"));
    }
    let mut parts = scan::split(line, b' ');
    let (method, uri, version) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(m), Some(u), Some(v), None) if is_token(m) && !u.is_empty() && !u.contains('\t') => {
            (m, u, v)
        }
        // RFC 4475 §3.1.2.8 (LWS in the Request-URI), §3.1.2.9 (several SP), §3.1.2.10
        // (SP at the end): malformed request lines, answered with 400.
        _ => return Err(Refusal::answer(400, "Bad Request-Line")),
    };
    if !version.eq_ignore_ascii_case(VERSION) {
        // RFC 4475 §3.1.2.16: another version gets 505 Version Not Supported (RFC 3261 §21.5.6).
        return Err(Refusal::answer(505, "Version Not Supported"));
    }
    Ok(StartLine::Request { method, uri })
}

/// A method token first and `SIP/digits.digits` last, whatever the white space between.
fn looks_like_request(line: &str) -> bool {
    let mut words = line.split_ascii_whitespace();
    let first = words.next().unwrap_or_default();
    let last = words.next_back().unwrap_or_default();
    line.starts_with(first) && is_token(first) && is_sip_version(last)
}

/// `SIP/1*DIGIT.1*DIGIT` (§25.1 SIP-Version), any version number.
fn is_sip_version(word: &str) -> bool {
    if !starts_with_ignore_case(word, "SIP/") {
        return false;
    }
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    word[4..]
        .split_once('.')
        .is_some_and(|(major, minor)| digits(major) && digits(minor))
}

/// RFC 3261 §25.1 token characters.
pub fn is_token(s: &str) -> bool {
    !s.is_empty() && scan::all(s, scan::TOKEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, reason: &str) -> Result<StartLine<'_>, Refusal> {
        Ok(StartLine::Status { code, reason })
    }

    #[test]
    fn status_lines() {
        assert_eq!(parse(b"SIP/2.0 200 OK"), status(200, "OK"));
        assert_eq!(
            parse(b"sip/2.0 180 Ringing here"),
            status(180, "Ringing here")
        );
        assert_eq!(parse(b"SIP/2.0 100 "), status(100, ""));
        assert_eq!(parse(b"SIP/2.0 100"), status(100, ""));
        for bad in [
            &b"SIP/2.0 4294967301 big"[..],
            b"SIP/2.0 99 low",
            b"SIP/2.0 700 high",
            b"SIP/2.0 2x0 OK",
            b"SIP/3.0 200 OK",
            b"SIP/2.0",
        ] {
            assert!(
                matches!(parse(bad), Err(Refusal::Discard(_))),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn request_lines() {
        let ok = parse(b"INVITE sip:a@[::1]:5060 SIP/2.0").unwrap();
        assert_eq!(
            ok,
            StartLine::Request {
                method: "INVITE",
                uri: "sip:a@[::1]:5060"
            }
        );
        assert!(parse(b"FOO tel:+1555 sip/2.0").is_ok());
        let answer = |line: &[u8]| match parse(line) {
            Err(Refusal::Answer { status, .. }) => status,
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(line)),
        };
        assert_eq!(answer(b"INVITE  sip:a@h  SIP/2.0"), 400);
        assert_eq!(answer(b"INVITE sip:a@h; lr SIP/2.0"), 400);
        assert_eq!(answer(b"OPTIONS sip:a@h SIP/2.0  "), 400);
        assert_eq!(answer(b"INVITE\tsip:a@h SIP/2.0"), 400);
        assert_eq!(answer(b"OPTIONS sip:a@h SIP/7.0"), 505);
        for junk in [
            &b"GET / HTTP/1.1"[..],
            b"",
            b"INVITE",
            b" INVITE sip:a SIP/2.0",
            b"(x) y SIP/2.0",
        ] {
            assert!(matches!(parse(junk), Err(Refusal::Discard(_))));
        }
    }
}
