//! SIP URIs (RFC 3261 §19.1) as plain data. Parsing lives in the codec; this is the shape.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use super::params::Params;
use super::wire::{write_int, WriteWire};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    Sip,
    Sips,
    /// RFC 3966 `tel:` (the number is kept in `user`, the host is empty).
    Tel,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Sip => "sip",
            Scheme::Sips => "sips",
            Scheme::Tel => "tel",
        }
    }
}

/// The host part of a URI or Via sent-by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    Ip(IpAddr),
    Name(String),
}

impl Host {
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Host::Ip(ip) => Some(*ip),
            Host::Name(_) => None,
        }
    }
}

impl From<IpAddr> for Host {
    fn from(ip: IpAddr) -> Self {
        Host::Ip(ip)
    }
}

impl WriteWire for Host {
    fn write_wire<W: fmt::Write>(&self, out: &mut W) -> fmt::Result {
        match self {
            Host::Ip(IpAddr::V6(ip)) => write!(out, "[{ip}]"),
            Host::Ip(IpAddr::V4(ip)) => out.write_str(dotted_quad(*ip, &mut [0; 15])),
            Host::Name(n) => out.write_str(n),
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_wire(f)
    }
}

/// `ip` in dotted-decimal form, written into `buf`: the same text as `Ipv4Addr`'s `Display`,
/// which costs about ten times as much (it goes through a padding buffer and the formatting
/// machinery once per octet), and every message we encode carries several. Each octet's
/// digits come from a table (about a third of the instructions of dividing it).
pub fn dotted_quad(ip: std::net::Ipv4Addr, buf: &mut [u8; 15]) -> &str {
    let mut len = 0;
    for (i, octet) in ip.octets().into_iter().enumerate() {
        if i > 0 {
            buf[len] = b'.';
            len += 1;
        }
        let [digits @ .., count] = OCTET_DIGITS[usize::from(octet)];
        // All three are copied (at most "255.255.255." before the last: 12 + 3 fit in 15);
        // only `count` of them are kept.
        buf[len..len + 3].copy_from_slice(&digits);
        len += usize::from(count);
    }
    // Only ASCII digits and dots were written.
    std::str::from_utf8(&buf[..len]).unwrap_or_default()
}

/// Per octet value: its decimal digits, left-aligned, then how many there are.
const OCTET_DIGITS: [[u8; 4]; 256] = {
    let mut table = [[0u8; 4]; 256];
    let mut n = 0;
    while n < 256 {
        let (h, t, u) = ((n / 100) as u8, (n / 10 % 10) as u8, (n % 10) as u8);
        table[n] = match n {
            0..=9 => [b'0' + u, 0, 0, 1],
            10..=99 => [b'0' + t, b'0' + u, 0, 2],
            _ => [b'0' + h, b'0' + t, b'0' + u, 3],
        };
        n += 1;
    }
    table
};

/// `sip:user:password@host:port;params?headers`. The user part is kept as written (escaped).
///
/// The password and the URI headers, which almost no URI has, live behind one box
/// ([`Uri::password`], [`Uri::headers`]): 40 bytes less in every URI, and a live call's dialog
/// keeps three of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uri {
    pub scheme: Scheme,
    pub user: Option<String>,
    pub host: Host,
    pub port: Option<u16>,
    pub params: Params,
    /// `None` when there is no password and no header (kept so: equality relies on it).
    rare: Option<Box<UriRare>>,
}

/// The parts of a URI that are seldom there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct UriRare {
    password: Option<String>,
    /// `?name=value&...` URI headers, kept in order.
    headers: Vec<(String, String)>,
}

impl Uri {
    /// `sip:user@host[:port]` without parameters.
    pub fn sip(user: Option<&str>, host: Host, port: Option<u16>) -> Self {
        Uri {
            scheme: Scheme::Sip,
            user: user.map(str::to_string),
            host,
            port,
            params: Params::new(),
            rare: None,
        }
    }

    /// The password of `user:password@` (deprecated, RFC 3261 §19.1.1), when written.
    pub fn password(&self) -> Option<&str> {
        self.rare.as_ref()?.password.as_deref()
    }

    /// The `?name=value&...` URI headers, in order.
    pub fn headers(&self) -> &[(String, String)] {
        self.rare.as_ref().map_or(&[], |r| &r.headers)
    }

    pub fn set_password(&mut self, password: Option<String>) {
        self.with_rare(|r| r.password = password);
    }

    pub fn set_headers(&mut self, headers: Vec<(String, String)>) {
        self.with_rare(|r| r.headers = headers);
    }

    /// Appends one URI header.
    pub fn push_header(&mut self, name: String, value: String) {
        self.with_rare(|r| r.headers.push((name, value)));
    }

    /// Removes the URI headers and returns them.
    pub fn take_headers(&mut self) -> Vec<(String, String)> {
        let mut headers = Vec::new();
        self.with_rare(|r| headers = std::mem::take(&mut r.headers));
        headers
    }

    /// Changes the rare parts, and drops their box when nothing is left in it.
    fn with_rare(&mut self, change: impl FnOnce(&mut UriRare)) {
        let mut rare = self.rare.take().unwrap_or_default();
        change(&mut rare);
        if rare.password.is_some() || !rare.headers.is_empty() {
            self.rare = Some(rare);
        }
    }

    /// The socket address this URI names when its host is an IP literal (default port 5060,
    /// 5061 for sips; RFC 3263 DNS resolution is not done here).
    pub fn socket_addr(&self) -> Option<SocketAddr> {
        let ip = self.host.ip()?;
        let default = match self.scheme {
            Scheme::Sip => 5060,
            Scheme::Sips => 5061,
            Scheme::Tel => return None,
        };
        Some(SocketAddr::new(ip, self.port.unwrap_or(default)))
    }

    /// The `transport` URI parameter, lower-cased, when present.
    pub fn transport_param(&self) -> Option<String> {
        self.params
            .value("transport")
            .map(|t| t.to_ascii_lowercase())
    }
}

impl WriteWire for Uri {
    fn write_wire<W: fmt::Write>(&self, out: &mut W) -> fmt::Result {
        out.write_str(self.scheme.as_str())?;
        out.write_char(':')?;
        if self.scheme == Scheme::Tel {
            out.write_str(self.user.as_deref().unwrap_or(""))?;
            return self.params.write_wire(out);
        }
        if let Some(user) = &self.user {
            out.write_str(user)?;
            if let Some(pw) = self.password() {
                out.write_char(':')?;
                out.write_str(pw)?;
            }
            out.write_char('@')?;
        }
        self.host.write_wire(out)?;
        if let Some(port) = self.port {
            out.write_char(':')?;
            write_int(out, port)?;
        }
        self.params.write_wire(out)?;
        for (i, (name, value)) in self.headers().iter().enumerate() {
            out.write_char(if i == 0 { '?' } else { '&' })?;
            out.write_str(name)?;
            out.write_char('=')?;
            out.write_str(value)?;
        }
        Ok(())
    }
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_wire(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    #[test]
    fn dotted_quad_matches_std_display_for_every_octet() {
        for n in 0..=255u8 {
            for ip in [
                [n, 0, 0, 0],
                [1, n, 22, 255],
                [255, 255, n, 9],
                [100, 10, 1, n],
            ] {
                let ip = std::net::Ipv4Addr::from(ip);
                assert_eq!(dotted_quad(ip, &mut [0; 15]), ip.to_string());
            }
        }
    }

    #[test]
    fn dotted_quad_matches_std_display() {
        for ip in [
            [0, 0, 0, 0],
            [127, 0, 0, 1],
            [10, 9, 99, 100],
            [192, 168, 1, 255],
            [255, 255, 255, 255],
            [1, 20, 200, 7],
            [9, 10, 99, 199],
        ] {
            let ip = std::net::Ipv4Addr::from(ip);
            assert_eq!(dotted_quad(ip, &mut [0; 15]), ip.to_string());
            assert_eq!(Host::Ip(ip.into()).to_string(), ip.to_string());
        }
    }

    #[test]
    fn display_forms() {
        let mut u = Uri::sip(Some("+4930123"), Host::Name("example.com".into()), None);
        u.params.set("user", Some("phone"));
        assert_eq!(u.to_string(), "sip:+4930123@example.com;user=phone");

        let v6 = Uri::sip(None, Host::Ip(IpAddr::V6(Ipv6Addr::LOCALHOST)), Some(5070));
        assert_eq!(v6.to_string(), "sip:[::1]:5070");
        assert_eq!(v6.socket_addr(), Some("[::1]:5070".parse().unwrap()));

        let mut h = Uri::sip(Some("a"), Host::Ip("10.0.0.1".parse().unwrap()), None);
        h.push_header("Subject".into(), "x".into());
        h.push_header("Priority".into(), "urgent".into());
        assert_eq!(h.to_string(), "sip:a@10.0.0.1?Subject=x&Priority=urgent");
        assert_eq!(h.socket_addr(), Some("10.0.0.1:5060".parse().unwrap()));
        assert_eq!(
            Uri::sip(None, Host::Name("x".into()), None).socket_addr(),
            None
        );
    }
}
