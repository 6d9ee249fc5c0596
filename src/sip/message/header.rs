//! Typed headers the stack interprets (Via, From/To, CSeq, Contact, routes) and the header set.

use std::fmt;

use super::method::Method;
use super::params::Params;
use super::uri::{Host, Uri};
use super::wire::{write_int, WriteWire};

/// The RFC 3261 §8.1.1.7 magic cookie that starts every branch we generate.
pub const BRANCH_MAGIC_COOKIE: &str = "z9hG4bK";

/// One Via value (RFC 3261 §20.42): `SIP/2.0/<transport> host[:port];params`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// Transport token, upper case ("UDP", "TCP", "TLS", ...).
    pub transport: String,
    pub host: Host,
    pub port: Option<u16>,
    pub params: Params,
}

impl Via {
    pub fn new(transport: &str, host: Host, port: Option<u16>, branch: &str) -> Self {
        let mut params = Params::new();
        params.set("branch", Some(branch));
        Via {
            transport: transport.to_ascii_uppercase(),
            host,
            port,
            params,
        }
    }

    pub fn branch(&self) -> Option<&str> {
        self.params.value("branch")
    }

    pub fn received(&self) -> Option<&str> {
        self.params.value("received")
    }

    /// `None`: no rport; `Some(None)`: rport requested (RFC 3581 §3); `Some(Some(p))`: filled in.
    pub fn rport(&self) -> Option<Option<u16>> {
        self.params
            .get("rport")
            .map(|v| v.and_then(|p| p.parse().ok()))
    }

    /// Whether the transport is connection-oriented (RFC 3261 §18).
    pub fn is_reliable(&self) -> bool {
        !self.transport.eq_ignore_ascii_case("UDP")
    }
}

impl WriteWire for Via {
    fn write_wire<W: fmt::Write>(&self, out: &mut W) -> fmt::Result {
        out.write_str("SIP/2.0/")?;
        out.write_str(&self.transport)?;
        out.write_char(' ')?;
        self.host.write_wire(out)?;
        if let Some(port) = self.port {
            out.write_char(':')?;
            write_int(out, port)?;
        }
        self.params.write_wire(out)
    }
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_wire(f)
    }
}

/// A name-addr (RFC 3261 §25.1) as used by From, To, Contact, Route and Record-Route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    pub display_name: Option<String>,
    pub uri: Uri,
    /// Header parameters after the `>` (tag, expires, q, ...).
    pub params: Params,
}

impl NameAddr {
    pub fn new(uri: Uri) -> Self {
        NameAddr {
            display_name: None,
            uri,
            params: Params::new(),
        }
    }

    pub fn tag(&self) -> Option<&str> {
        self.params.value("tag")
    }

    pub fn with_tag(mut self, tag: &str) -> Self {
        self.params.set("tag", Some(tag));
        self
    }
}

impl WriteWire for NameAddr {
    fn write_wire<W: fmt::Write>(&self, out: &mut W) -> fmt::Result {
        if let Some(name) = &self.display_name {
            out.write_char('"')?;
            for c in name.chars() {
                match c {
                    // RFC 3261 §25.1 quoted-pair cannot carry CR or LF: they would end the line.
                    '\r' | '\n' => out.write_char(' ')?,
                    // DQUOTE, backslash and the other controls go as quoted-pairs.
                    c if c == '"' || c == '\\' || c.is_ascii_control() => {
                        out.write_char('\\')?;
                        out.write_char(c)?;
                    }
                    c => out.write_char(c)?,
                }
            }
            out.write_str("\" ")?;
        }
        out.write_char('<')?;
        self.uri.write_wire(out)?;
        out.write_char('>')?;
        self.params.write_wire(out)
    }
}

impl fmt::Display for NameAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_wire(f)
    }
}

/// CSeq (RFC 3261 §20.16).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq {
    pub seq: u32,
    pub method: Method,
}

impl WriteWire for CSeq {
    fn write_wire<W: fmt::Write>(&self, out: &mut W) -> fmt::Result {
        write_int(out, self.seq)?;
        out.write_char(' ')?;
        out.write_str(self.method.as_str())
    }
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_wire(f)
    }
}

/// A header the stack carries without interpreting it. `name` is the canonical long form
/// (compact forms are expanded by the codec).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub value: String,
}

/// The headers of a message. Content-Length is not stored: the codec derives it from the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Headers {
    /// Via values, topmost first.
    pub via: Vec<Via>,
    pub from: NameAddr,
    pub to: NameAddr,
    pub call_id: String,
    pub cseq: CSeq,
    pub max_forwards: Option<u32>,
    pub contact: Vec<NameAddr>,
    pub record_route: Vec<NameAddr>,
    pub route: Vec<NameAddr>,
    pub content_type: Option<String>,
    pub expires: Option<u32>,
    /// Every other header, in arrival order.
    pub other: Vec<Header>,
}

impl Headers {
    /// A header set with the mandatory fields and nothing else.
    pub fn new(via: Via, from: NameAddr, to: NameAddr, call_id: String, cseq: CSeq) -> Self {
        Headers {
            via: vec![via],
            from,
            to,
            call_id,
            cseq,
            max_forwards: None,
            contact: Vec::new(),
            record_route: Vec::new(),
            route: Vec::new(),
            content_type: None,
            expires: None,
            other: Vec::new(),
        }
    }

    pub fn top_via(&self) -> Option<&Via> {
        self.via.first()
    }

    /// First value of an uninterpreted header (name compared case-insensitively).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.other
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    /// Every value of an uninterpreted header, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.other
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    pub fn push(&mut self, name: &str, value: impl Into<String>) {
        self.other.push(Header {
            name: name.to_string(),
            value: value.into(),
        });
    }

    pub fn remove(&mut self, name: &str) {
        self.other.retain(|h| !h.name.eq_ignore_ascii_case(name));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn via_accessors_and_display() {
        let mut via = Via::new(
            "udp",
            Host::Name("gw.example".into()),
            Some(5060),
            "z9hG4bKx",
        );
        via.params.set("rport", None);
        assert_eq!(
            via.to_string(),
            "SIP/2.0/UDP gw.example:5060;branch=z9hG4bKx;rport"
        );
        assert_eq!(via.branch(), Some("z9hG4bKx"));
        assert_eq!(via.rport(), Some(None));
        via.params.set("rport", Some("4000"));
        via.params.set("received", Some("192.0.2.1"));
        assert_eq!(via.rport(), Some(Some(4000)));
        assert_eq!(via.received(), Some("192.0.2.1"));
        assert!(!via.is_reliable());
    }

    #[test]
    fn name_addr_display_quotes_display_name() {
        let uri = Uri::sip(Some("1001"), Host::Name("example.com".into()), None);
        let mut na = NameAddr::new(uri).with_tag("abc");
        na.display_name = Some("Bob \"B\"".into());
        assert_eq!(
            na.to_string(),
            "\"Bob \\\"B\\\"\" <sip:1001@example.com>;tag=abc"
        );
        assert_eq!(na.tag(), Some("abc"));
        na.display_name = Some("BEL:\u{7} NUL:\0 line\r\nend".into());
        assert_eq!(
            na.to_string(),
            "\"BEL:\\\u{7} NUL:\\\0 line  end\" <sip:1001@example.com>;tag=abc"
        );
    }

    #[test]
    fn other_headers_case_insensitive() {
        let uri = Uri::sip(Some("a"), Host::Name("h".into()), None);
        let mut h = Headers::new(
            Via::new("UDP", Host::Name("h".into()), None, "z9hG4bK1"),
            NameAddr::new(uri.clone()),
            NameAddr::new(uri),
            "cid".into(),
            CSeq {
                seq: 1,
                method: Method::Options,
            },
        );
        h.push("User-Agent", "x");
        h.push("Allow", "INVITE");
        h.push("allow", "BYE");
        assert_eq!(h.get("user-agent"), Some("x"));
        assert_eq!(
            h.get_all("ALLOW").collect::<Vec<_>>(),
            vec!["INVITE", "BYE"]
        );
        h.remove("Allow");
        assert_eq!(h.get("allow"), None);
    }
}
