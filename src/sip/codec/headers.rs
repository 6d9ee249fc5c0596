//! Our typed header set (`crate::sip::message::Headers`) from the header lines rsip split: the
//! mandatory five of RFC 3261 §8.1.1, Max-Forwards, the Contact and route lists, Content-Type
//! and Expires typed by `values`; every other header carried as text, in arrival order.
//!
//! A header that must appear once (§7.3.1 allows repeating only comma-list headers; RFC 4475
//! §3.3.8) but appears again, or one we interpret but cannot read, fails the message with the
//! reason of its 400.

use crate::sip::message::{CSeq, Header, Headers, NameAddr, Via};

use super::decode::Refusal;
use super::header_lines::HeaderLine;
use super::scan::{self, split_outside_quotes};
use super::values::{parse_cseq, parse_name_addr, parse_via};

/// The headers we interpret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Known {
    Via,
    From,
    To,
    CallId,
    CSeq,
    MaxForwards,
    Contact,
    RecordRoute,
    Route,
    ContentType,
    Expires,
    ContentLength,
}

/// The header we interpret under `name` (any case), told apart by length first; each compare
/// is with a literal, so its length is known to the compiler.
fn known(name: &str) -> Option<Known> {
    let is = |full: &str| name.eq_ignore_ascii_case(full);
    let kind = match name.len() {
        2 if is("To") => Known::To,
        3 if is("Via") => Known::Via,
        4 if is("From") => Known::From,
        4 if is("CSeq") => Known::CSeq,
        5 if is("Route") => Known::Route,
        7 if is("Call-ID") => Known::CallId,
        7 if is("Contact") => Known::Contact,
        7 if is("Expires") => Known::Expires,
        12 if is("Max-Forwards") => Known::MaxForwards,
        12 if is("Record-Route") => Known::RecordRoute,
        12 if is("Content-Type") => Known::ContentType,
        14 if is("Content-Length") => Known::ContentLength,
        _ => return None,
    };
    Some(kind)
}

/// The Content-Length lines of a message (§18.3, §20.14), noted while the headers are typed
/// so that framing need not look for them again: the first value, and whether there is another.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ContentLength<'a> {
    pub first: Option<&'a str>,
    pub repeated: bool,
}

impl<'a> ContentLength<'a> {
    fn note(&mut self, value: &'a str) {
        match self.first {
            None => self.first = Some(value),
            Some(_) => self.repeated = true,
        }
    }
}

/// Our headers from the lines, and the Content-Length lines; the error is the reason of the
/// 400.
pub fn typed_headers<'a>(
    lines: &[HeaderLine<'a>],
) -> Result<(Headers, ContentLength<'a>), Refusal> {
    let mut set = Collected::default();
    let mut length = ContentLength::default();
    for line in lines {
        if set.add(line)? {
            length.note(line.value);
        }
    }
    Ok((set.finish()?, length))
}

/// The headers seen so far.
#[derive(Default)]
struct Collected {
    via: Vec<Via>,
    from: Option<NameAddr>,
    to: Option<NameAddr>,
    call_id: Option<String>,
    cseq: Option<CSeq>,
    max_forwards: Option<u32>,
    contact: Vec<NameAddr>,
    record_route: Vec<NameAddr>,
    route: Vec<NameAddr>,
    content_type: Option<String>,
    expires: Option<u32>,
    other: Vec<Header>,
}

fn bad(what: &str) -> Refusal {
    Refusal::answer(400, format!("Bad {what} Header"))
}

/// Sets a header that may appear once.
fn once<T>(slot: &mut Option<T>, what: &str, value: Result<T, Refusal>) -> Result<(), Refusal> {
    if slot.is_some() {
        return Err(Refusal::answer(400, format!("Multiple {what} Headers")));
    }
    *slot = Some(value?);
    Ok(())
}

/// The comma-separated values of a list header (§7.3.1), each as a name-addr.
fn name_addrs(value: &str, what: &str, into: &mut Vec<NameAddr>) -> Result<(), Refusal> {
    for part in split_outside_quotes(value, b',') {
        if !scan::trim(part).is_empty() {
            into.push(parse_name_addr(part).map_err(|_| bad(what))?);
        }
    }
    Ok(())
}

impl Collected {
    /// Takes one line; true when it is a Content-Length line, which framing reads.
    fn add(&mut self, line: &HeaderLine<'_>) -> Result<bool, Refusal> {
        let value = line.value;
        match known(line.name) {
            Some(Known::Via) => self.vias(value)?,
            Some(Known::From) => once(&mut self.from, "From", name_addr(value, "From"))?,
            Some(Known::To) => once(&mut self.to, "To", name_addr(value, "To"))?,
            Some(Known::CallId) => {
                let call_id = Some(value.to_string()).filter(|v| !v.is_empty());
                once(
                    &mut self.call_id,
                    "Call-ID",
                    call_id.ok_or_else(|| bad("Call-ID")),
                )?
            }
            Some(Known::CSeq) => once(
                &mut self.cseq,
                "CSeq",
                parse_cseq(value).map_err(|_| bad("CSeq")),
            )?,
            Some(Known::MaxForwards) => once(
                &mut self.max_forwards,
                "Max-Forwards",
                value.parse().map_err(|_| bad("Max-Forwards")),
            )?,
            // §10.2.2 `Contact: *` (remove every binding) is no name-addr: carried as text.
            Some(Known::Contact) if value == "*" => self.carry(line),
            Some(Known::Contact) => name_addrs(value, "Contact", &mut self.contact)?,
            Some(Known::RecordRoute) => name_addrs(value, "Record-Route", &mut self.record_route)?,
            Some(Known::Route) => name_addrs(value, "Route", &mut self.route)?,
            Some(Known::ContentType) => self.content_type = Some(value.to_string()),
            Some(Known::Expires) => self.expires = value.parse().ok(),
            // Framing reads Content-Length (decode::frame_body); it is never stored.
            Some(Known::ContentLength) => return Ok(true),
            None => self.carry(line),
        }
        Ok(false)
    }

    /// The comma-separated values of a Via header (§7.3.1, §20.42).
    fn vias(&mut self, value: &str) -> Result<(), Refusal> {
        for part in split_outside_quotes(value, b',') {
            if !scan::trim(part).is_empty() {
                self.via.push(parse_via(part).map_err(|_| bad("Via"))?);
            }
        }
        Ok(())
    }

    /// A header we do not interpret, kept as text under its full name.
    fn carry(&mut self, line: &HeaderLine<'_>) {
        self.other.push(Header {
            name: line.name.to_string(),
            value: line.value.to_string(),
        });
    }

    /// The typed set; the Vias move as they are (no copy of the first one into a new list).
    fn finish(self) -> Result<Headers, Refusal> {
        if self.via.is_empty() {
            return Err(Refusal::answer(400, "Missing Via Header"));
        }
        let missing = |what: &str| Refusal::answer(400, format!("Missing {what} Header"));
        Ok(Headers {
            via: self.via,
            from: self.from.ok_or_else(|| missing("From"))?,
            to: self.to.ok_or_else(|| missing("To"))?,
            call_id: self.call_id.ok_or_else(|| missing("Call-ID"))?,
            cseq: self.cseq.ok_or_else(|| missing("CSeq"))?,
            max_forwards: self.max_forwards,
            contact: self.contact,
            record_route: self.record_route,
            route: self.route,
            content_type: self.content_type,
            expires: self.expires,
            other: self.other,
        })
    }
}

fn name_addr(value: &str, what: &str) -> Result<NameAddr, Refusal> {
    parse_name_addr(value).map_err(|_| bad(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(pairs: &[(&'static str, &'static str)]) -> Vec<HeaderLine<'static>> {
        pairs
            .iter()
            .map(|&(name, value)| HeaderLine { name, value })
            .collect()
    }

    const MANDATORY: [(&str, &str); 5] = [
        (
            "Via",
            "SIP/2.0/UDP h;branch=z9hG4bK1, SIP/2.0/TCP [::1]:5070;branch=z9hG4bK2",
        ),
        ("From", "<sip:a@h>;tag=1"),
        ("To", "<sip:b@h>"),
        ("Call-ID", "c1"),
        ("CSeq", "1 REGISTER"),
    ];

    fn reason(result: Result<(Headers, ContentLength<'_>), Refusal>) -> String {
        match result {
            Err(Refusal::Answer {
                status: 400,
                reason,
            }) => reason,
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn content_length_lines_are_noted() {
        let mut all = lines(&MANDATORY);
        all.extend(lines(&[("Content-Length", "5"), ("X", "y")]));
        let (_, length) = typed_headers(&all).unwrap();
        assert_eq!((length.first, length.repeated), (Some("5"), false));
        all.extend(lines(&[("content-length", "6")]));
        let (_, length) = typed_headers(&all).unwrap();
        assert_eq!((length.first, length.repeated), (Some("5"), true));
    }

    #[test]
    fn every_known_name_in_any_case() {
        let names = [
            "Via",
            "From",
            "To",
            "Call-ID",
            "CSeq",
            "Max-Forwards",
            "Contact",
            "Record-Route",
            "Route",
            "Content-Type",
            "Expires",
            "Content-Length",
        ];
        for name in names {
            let kind = known(name).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(known(&name.to_ascii_lowercase()), Some(kind));
            assert_eq!(known(&name.to_ascii_uppercase()), Some(kind));
            assert_eq!(names.iter().filter(|n| known(n) == Some(kind)).count(), 1);
        }
        assert_eq!(known("Vias"), None);
        assert_eq!(known("Content-Lengtx"), None);
        assert_eq!(known(""), None);
    }

    #[test]
    fn lists_wildcard_contact_and_other_headers() {
        let mut all = lines(&MANDATORY);
        all.extend(lines(&[("Contact", "*"), ("X-Y", "z"), ("Expires", "0")]));
        let (h, length) = typed_headers(&all).unwrap();
        assert_eq!(length, ContentLength::default());
        assert_eq!(h.via.len(), 2);
        assert!(h.contact.is_empty());
        assert_eq!(h.get("Contact"), Some("*"));
        assert_eq!(h.get("x-y"), Some("z"));
        assert_eq!(h.expires, Some(0));
    }

    #[test]
    fn missing_repeated_and_empty_headers_are_400s() {
        assert_eq!(
            reason(typed_headers(&lines(&MANDATORY[1..]))),
            "Missing Via Header"
        );
        let mut twice = lines(&MANDATORY);
        twice.push(HeaderLine {
            name: "CSeq",
            value: "2 REGISTER",
        });
        assert_eq!(reason(typed_headers(&twice)), "Multiple CSeq Headers");
        let mut empty = lines(&MANDATORY);
        empty[3].value = "";
        assert_eq!(reason(typed_headers(&empty)), "Bad Call-ID Header");
        let mut bad = lines(&MANDATORY);
        bad.push(HeaderLine {
            name: "Max-Forwards",
            value: "seventy",
        });
        assert_eq!(reason(typed_headers(&bad)), "Bad Max-Forwards Header");
    }
}
