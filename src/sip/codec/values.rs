//! Parsers for header values rsip 0.4 cannot type (IPv6 hosts, `tel:` URIs, quoted display
//! names, parameters with quoted values): URIs (RFC 3261 §19.1, RFC 3966), name-addr /
//! addr-spec (§20.10), Via (§20.42), CSeq (§20.16). Total functions: bad input is an error.
//!
//! They find their delimiters with `memchr` and check characters with the class tables of
//! `scan`, and copy only what ends up in the model (docs/performance.md, "Decode cost, round 2").

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr};

use memchr::{memchr2, memrchr};

use crate::sip::message::{CSeq, Host, Method, NameAddr, Param, Params, Scheme, Uri, Via};

use super::scan::{self, split_outside_quotes, DIGIT, HOST, PARAM, SPACE, URI};
use super::DecodeError;

fn bad(what: &str, value: &str) -> DecodeError {
    DecodeError::Unparseable(format!("bad {what}: {:?}", truncate(value)))
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(80) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Parameters held on the stack while a list is checked, before its one allocation.
const INLINE_PARAMS: usize = 8;

/// `;a=b;c` (the text after the first `;`, or empty). A name, and a value that is not a
/// quoted string, is written with URI characters (§25.1 `token`, `paramchar`, `host`); a
/// quoted value is one whole quoted string without controls. Anything else (`q=h\0 0`,
/// `q=x <sip:b@h>`) could not be written back where it came from: a Contact parameter
/// `<sip:..>` in it turned into a second Contact (found by the `sip_decode` fuzz target).
///
/// Every parameter is checked before any is copied, so the list is allocated once, at its
/// exact length.
pub fn parse_params(s: &str) -> Result<Params, DecodeError> {
    let mut inline: [(&str, Option<&str>); INLINE_PARAMS] = [("", None); INLINE_PARAMS];
    let mut count = 0;
    let mut more: Vec<(&str, Option<&str>)> = Vec::new();
    for part in split_outside_quotes(s, b';') {
        let Some(param) = checked_param(part)? else {
            continue;
        };
        match inline.get_mut(count) {
            Some(slot) => *slot = param,
            None => more.push(param),
        }
        count += 1;
    }
    let mut params = Vec::with_capacity(count);
    let taken = count.min(INLINE_PARAMS);
    for &(name, value) in inline[..taken].iter().chain(&more) {
        params.push(Param {
            name: name.to_string(),
            value: value.map(str::to_string),
        });
    }
    Ok(Params(params))
}

/// One `name[=value]` of a parameter list, checked; `None` for an empty one (`;;`).
fn checked_param(part: &str) -> Result<Option<(&str, Option<&str>)>, DecodeError> {
    let part = scan::trim(part);
    if part.is_empty() {
        return Ok(None);
    }
    let (name, value) = match scan::split_once(part, b'=') {
        Some((n, v)) => (scan::trim(n), Some(scan::trim(v))),
        None => (part, None),
    };
    if !is_param_text(name) || !value.is_none_or(is_param_value) {
        return Err(bad("parameter", part));
    }
    Ok(Some((name, value)))
}

/// URI characters, and the one §25.1 `token` character that is none (the backquote).
fn is_param_text(s: &str) -> bool {
    !s.is_empty() && scan::all(s, PARAM)
}

/// A parameter value: URI characters, or one quoted string (§25.1 `quoted-string`); empty
/// (`tag=`) is taken too.
fn is_param_value(v: &str) -> bool {
    if v.is_empty() {
        return true;
    }
    if let Some(inner) = v.strip_prefix('"') {
        let Some(end) = closing_quote(inner) else {
            return false;
        };
        return end + 1 == inner.len() && !scan::has_control(inner);
    }
    is_param_text(v)
}

/// The position of the `"` that closes a quoted string whose content is `s` onwards, past
/// `\`-escaped characters (§25.1 `quoted-pair`).
fn closing_quote(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut at = 0;
    loop {
        let i = at + memchr2(b'"', b'\\', bytes.get(at..)?)?;
        if bytes[i] == b'"' {
            return Some(i);
        }
        // The escaped character: its first byte is skipped here, the rest of it (if it is not
        // ASCII) are no `"` or `\`.
        at = i + 2;
    }
}

/// A host (IPv4, `[IPv6]`, or a name) with an optional port.
fn parse_hostport(s: &str) -> Result<(Host, Option<u16>), DecodeError> {
    let s = scan::trim(s);
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (ip, after) = scan::split_once(rest, b']').ok_or_else(|| bad("IPv6 host", s))?;
        let ip: IpAddr = ip.parse().map_err(|_| bad("IPv6 host", s))?;
        (Host::Ip(ip), after.strip_prefix(':'))
    } else {
        let (host, port) = match memrchr(b':', s.as_bytes()) {
            Some(i) => (&s[..i], Some(&s[i + 1..])),
            None => (s, None),
        };
        if !is_hostname(host) {
            return Err(bad("host", s));
        }
        (name_or_ipv4(host), port)
    };
    let port = match port {
        Some(p) => Some(scan::trim(p).parse::<u16>().map_err(|_| bad("port", s))?),
        None => None,
    };
    Ok((host, port))
}

/// A `hostname` host: an IPv4 address when it is one, else a name (lower case, §19.1.4). Only
/// digits and dots can be an address (an IPv6 one needs a `:`, which no hostname has), so
/// anything else is not tried as one.
fn name_or_ipv4(host: &str) -> Host {
    if !host.bytes().all(|b| b == b'.' || scan::is(b, DIGIT)) {
        return Host::Name(host.to_ascii_lowercase());
    }
    match host.parse::<Ipv4Addr>() {
        Ok(ip) => Host::Ip(IpAddr::V4(ip)),
        Err(_) => Host::Name(host.to_string()),
    }
}

/// §25.1 `hostname` (alphanumerics, `-` and `.`; `_` too, as names in the wild have it) or an
/// IPv4 address. Anything else (`>`, `;`, a NUL, white space) would change the meaning of the
/// header it is written back into: `sip:m>` read as host `m>` became `<sip:m>>` (found by the
/// `sip_decode` fuzz target, docs/fuzzing.md).
fn is_hostname(host: &str) -> bool {
    !host.is_empty() && scan::all(host, HOST)
}

/// The characters a SIP URI is written with (§25.1: `unreserved`, `reserved`, `%` of
/// `escaped`, the brackets of `IPv6reference`; and `#` of RFC 3966 phone numbers), the
/// `scan::URI` class. Anything else, `>` or `"` or white space or a control, is a character
/// our writing of the URI inside `<...>` cannot carry: `sip:amazing>>@example.net` was read
/// with user `amazing>>`, and `<sip:amazing>>@example.net>` no longer decodes (found by the
/// `sip_decode` fuzz target).
fn is_uri_text(s: &str) -> bool {
    scan::all(s, URI)
}

/// The scheme of a URI, compared without case (§19.1.4) and without a lower-case copy.
fn scheme(s: &str) -> Option<Scheme> {
    [
        ("sip", Scheme::Sip),
        ("sips", Scheme::Sips),
        ("tel", Scheme::Tel),
    ]
    .into_iter()
    .find(|(name, _)| name.eq_ignore_ascii_case(s))
    .map(|(_, scheme)| scheme)
}

/// A `sip:`, `sips:` or `tel:` URI.
pub fn parse_uri(s: &str) -> Result<Uri, DecodeError> {
    let s = scan::trim(s);
    if !is_uri_text(s) {
        return Err(bad("URI", s));
    }
    // All ASCII from here: every cut below falls between characters.
    let (scheme, rest) = scan::split_once(s, b':').ok_or_else(|| bad("URI", s))?;
    let scheme = self::scheme(scheme).ok_or_else(|| bad("URI scheme", s))?;
    if scheme == Scheme::Tel {
        return parse_tel(rest, s);
    }
    // §19.1.1 / §25.1: the user part may hold `;`, `?`, `/` and `,` (RFC 4475 §3.1.1.2,
    // §3.1.1.9) but no unescaped `@`, which therefore ends it; parameters and headers follow
    // the host.
    let (userinfo, hostpart) = match scan::split_once(rest, b'@') {
        Some((u, h)) => (Some(u), h),
        None => (None, rest),
    };
    let (hostpart, headers) = match scan::split_once(hostpart, b'?') {
        Some((h, q)) => (h, parse_uri_headers(q)),
        None => (hostpart, Vec::new()),
    };
    let (hostport, params) = match scan::split_once(hostpart, b';') {
        Some((h, p)) => (h, parse_params(p)?),
        None => (hostpart, Params::new()),
    };
    let (host, port) = parse_hostport(hostport)?;
    let (user, password) = match userinfo {
        Some("") => return Err(bad("URI user", s)),
        Some(u) => match scan::split_once(u, b':') {
            Some((user, pw)) => (Some(user.to_string()), Some(pw.to_string())),
            None => (Some(u.to_string()), None),
        },
        None => (None, None),
    };
    let mut uri = Uri::sip(None, host, port);
    (uri.scheme, uri.user, uri.params) = (scheme, user, params);
    uri.set_password(password);
    uri.set_headers(headers);
    Ok(uri)
}

fn parse_tel(rest: &str, whole: &str) -> Result<Uri, DecodeError> {
    let (number, params) = match scan::split_once(rest, b';') {
        Some((n, p)) => (n, parse_params(p)?),
        None => (rest, Params::new()),
    };
    if number.is_empty() || number.contains(char::is_whitespace) {
        return Err(bad("tel URI", whole));
    }
    let mut uri = Uri::sip(Some(number), Host::Name(String::new()), None);
    (uri.scheme, uri.params) = (Scheme::Tel, params);
    Ok(uri)
}

fn parse_uri_headers(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match scan::split_once(p, b'=') {
            Some((n, v)) => (n.to_string(), v.to_string()),
            None => (p.to_string(), String::new()),
        })
        .collect()
}

/// `"Display" <uri>;params`, `Display <uri>;params` or `uri;params` (§20.10: in the last form
/// the parameters belong to the header, not the URI).
pub fn parse_name_addr(s: &str) -> Result<NameAddr, DecodeError> {
    let s = scan::trim(s);
    let (display_name, rest) = if let Some(after) = s.strip_prefix('"') {
        let (name, rest) = split_quoted(after).ok_or_else(|| bad("display name", s))?;
        (Some(name), scan::trim_start(rest))
    } else if let Some(i) = scan::find(s, b'<') {
        let name = scan::trim(&s[..i]);
        ((!name.is_empty()).then(|| name.to_string()), &s[i..])
    } else {
        (None, s)
    };
    if let Some(inner) = rest.strip_prefix('<') {
        let (uri, after) = scan::split_once(inner, b'>').ok_or_else(|| bad("name-addr", s))?;
        let after = scan::trim(after);
        let params = after
            .strip_prefix(';')
            .map(parse_params)
            .transpose()?
            .unwrap_or_default();
        if !after.is_empty() && !after.starts_with(';') {
            return Err(bad("name-addr", s));
        }
        return Ok(NameAddr {
            display_name,
            uri: parse_uri(uri)?,
            params,
        });
    }
    if display_name.is_some() {
        return Err(bad("name-addr", s));
    }
    let (uri, params) = match scan::split_once(rest, b';') {
        Some((u, p)) => (u, parse_params(p)?),
        None => (rest, Params::new()),
    };
    Ok(NameAddr {
        display_name: None,
        uri: parse_uri(uri)?,
        params,
    })
}

/// The content of a quoted string (after its opening quote) and what follows it; one copy
/// when it has no `\` escape.
fn split_quoted(s: &str) -> Option<(String, &str)> {
    let i = memchr2(b'"', b'\\', s.as_bytes())?;
    if s.as_bytes()[i] == b'"' {
        return Some((s[..i].to_string(), &s[i + 1..]));
    }
    split_escaped(s)
}

/// `split_quoted` for a string with escapes, character by character.
fn split_escaped(s: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?.1),
            '"' => return Some((out, &s[i + 1..])),
            c => out.push(c),
        }
    }
    None
}

/// `SIP/2.0/UDP host:port;params`.
pub fn parse_via(s: &str) -> Result<Via, DecodeError> {
    let compact = collapse_slashes(scan::trim(s));
    let s = compact.as_ref();
    let (protocol, rest) = split_at_space(s).ok_or_else(|| bad("Via", s))?;
    // The first three pieces between '/' (as `split('/')` gives them, without its searcher).
    let mut pieces = Some(protocol);
    let mut part = || {
        let piece = pieces?;
        let (head, tail) = match scan::split_once(piece, b'/') {
            Some((head, tail)) => (head, Some(tail)),
            None => (piece, None),
        };
        pieces = tail;
        Some(scan::trim(head))
    };
    let (name, version, transport) = (part(), part(), part());
    if !name.is_some_and(|n| n.eq_ignore_ascii_case("SIP")) || version != Some("2.0") {
        return Err(bad("Via protocol", s));
    }
    let transport = transport
        .filter(|t| !t.is_empty())
        .ok_or_else(|| bad("Via transport", s))?
        .to_ascii_uppercase();
    let (sent_by, params) = match scan::split_once(rest, b';') {
        Some((h, p)) => (h, parse_params(p)?),
        None => (rest, Params::new()),
    };
    let (host, port) = parse_hostport(sent_by)?;
    Ok(Via {
        transport,
        host,
        port,
        params,
    })
}

/// `s.split_once(char::is_whitespace)`, looking at bytes while they are ASCII.
fn split_at_space(s: &str) -> Option<(&str, &str)> {
    for (i, &b) in s.as_bytes().iter().enumerate() {
        if b >= 0x80 {
            return s.split_once(|c: char| c.is_whitespace());
        }
        if scan::is(b, SPACE) {
            return Some((&s[..i], &s[i + 1..]));
        }
    }
    None
}

/// Removes linear white space around `/` in the sent-protocol (§20.42 allows `SIP / 2.0 / UDP`);
/// borrowed when no `/` has white space (or a byte that may begin a Unicode space) next to it.
fn collapse_slashes(s: &str) -> Cow<'_, str> {
    let bytes = s.as_bytes();
    let spaced = |i: usize| {
        bytes
            .get(i)
            .is_some_and(|&b| b >= 0x80 || scan::is(b, SPACE))
    };
    let needed = memchr::memchr_iter(b'/', bytes)
        .any(|i| spaced(i + 1) || i.checked_sub(1).is_some_and(spaced));
    if !needed {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_whitespace() {
            let mut lookahead = chars.clone();
            while lookahead.peek().is_some_and(|c| c.is_whitespace()) {
                lookahead.next();
            }
            if lookahead.peek() == Some(&'/') || out.ends_with('/') {
                chars = lookahead;
                continue;
            }
        }
        out.push(c);
    }
    Cow::Owned(out)
}

/// `4711 INVITE`.
pub fn parse_cseq(s: &str) -> Result<CSeq, DecodeError> {
    if s.is_ascii() {
        // `split_whitespace` on ASCII text: split at the ASCII white space it knows.
        let words = s
            .split(|c: char| scan::is(c as u8, SPACE))
            .filter(|w| !w.is_empty());
        return cseq_of(s, words);
    }
    cseq_of(s, s.split_whitespace())
}

fn cseq_of<'a>(s: &str, mut parts: impl Iterator<Item = &'a str>) -> Result<CSeq, DecodeError> {
    let seq = parts
        .next()
        .and_then(|n| n.parse::<u32>().ok())
        .ok_or_else(|| bad("CSeq", s))?;
    let method = parts.next().ok_or_else(|| bad("CSeq", s))?;
    if parts.next().is_some() {
        return Err(bad("CSeq", s));
    }
    Ok(CSeq {
        seq,
        method: Method::from_token(method),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_of_every_shape() {
        let u = parse_uri("sip:alice:pw@Example.COM:5070;transport=tcp;lr?Subject=x").unwrap();
        assert_eq!(u.user.as_deref(), Some("alice"));
        assert_eq!(u.password(), Some("pw"));
        assert_eq!(u.host, Host::Name("example.com".into()));
        assert_eq!(u.port, Some(5070));
        assert_eq!(u.transport_param().as_deref(), Some("tcp"));
        assert!(u.params.contains("lr"));
        assert_eq!(u.headers(), vec![("Subject".into(), "x".into())]);
        let v6 = parse_uri("sip:b@[2001:db8::1]:5060").unwrap();
        assert_eq!(v6.host, Host::Ip("2001:db8::1".parse().unwrap()));
        assert_eq!(v6.to_string(), "sip:b@[2001:db8::1]:5060");
        let tel = parse_uri("tel:+15551234567;phone-context=x").unwrap();
        assert_eq!(tel.scheme, Scheme::Tel);
        assert_eq!(tel.user.as_deref(), Some("+15551234567"));
        assert_eq!(tel.to_string(), "tel:+15551234567;phone-context=x");
        assert_eq!(
            parse_uri("sip:0049301234@h").unwrap().user.as_deref(),
            Some("0049301234")
        );
        for bad in [
            "",
            "sip:",
            "http://x",
            "sip:@h",
            "sip:a@h:99999",
            "sip:a@[::1",
            "sip:a b@h c",
        ] {
            assert!(parse_uri(bad).is_err(), "{bad:?} must fail");
        }
    }

    #[test]
    fn name_addrs() {
        let n = parse_name_addr("\"Bob \\\"B\\\" Smith\" <sip:bob@h>;tag=1a").unwrap();
        assert_eq!(n.display_name.as_deref(), Some("Bob \"B\" Smith"));
        assert_eq!(n.tag(), Some("1a"));
        let n = parse_name_addr("Bob <sip:bob@h;transport=tcp>;expires=60").unwrap();
        assert_eq!(n.display_name.as_deref(), Some("Bob"));
        assert_eq!(n.uri.transport_param().as_deref(), Some("tcp"));
        assert_eq!(n.params.value("expires"), Some("60"));
        let n = parse_name_addr("sip:bob@h;tag=9").unwrap();
        assert_eq!(n.tag(), Some("9"));
        assert!(n.uri.params.is_empty());
        assert!(parse_name_addr("\"unterminated <sip:a@h>").is_err());
        assert!(parse_name_addr("<sip:a@h").is_err());
    }

    #[test]
    fn vias_and_cseq() {
        let v = parse_via("SIP/2.0/udp [::1]:5060;branch=z9hG4bK1;rport;received=::1").unwrap();
        assert_eq!(v.transport, "UDP");
        assert_eq!(v.host, Host::Ip("::1".parse().unwrap()));
        assert_eq!(v.branch(), Some("z9hG4bK1"));
        assert_eq!(v.rport(), Some(None));
        let v = parse_via("SIP / 2.0 / TCP pbx.example").unwrap();
        assert_eq!((v.transport.as_str(), v.port), ("TCP", None));
        assert!(parse_via("SIP/3.0/UDP h").is_err());
        // The sent-protocol's pieces as `split('/')` took them: the third is the transport,
        // more are ignored, fewer (or an empty third) are refused.
        assert_eq!(parse_via("SIP/2.0/UDP/x h").unwrap().transport, "UDP");
        assert_eq!(parse_via("sip/2.0/sctp h").unwrap().transport, "SCTP");
        for bad_via in [
            "SIP/2.0 h",
            "SIP h",
            "SIP/2.0/ h",
            "SIP//UDP h",
            "/2.0/UDP h",
        ] {
            assert!(parse_via(bad_via).is_err(), "{bad_via}");
        }
        assert_eq!(parse_cseq("7 INVITE").unwrap().seq, 7);
        assert!(parse_cseq("x INVITE").is_err());
        assert!(parse_cseq("7").is_err());
    }

    #[test]
    fn split_respects_quotes_and_brackets() {
        let parts = split_outside_quotes("\"a,b\" <sip:x@h;p=1,2>, <sip:y@h>", b',');
        assert_eq!(parts.count(), 2);
    }
}
