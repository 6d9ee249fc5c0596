//! Which source addresses a line takes out-of-dialog requests from (`trusted`). The check is
//! always in force: a line trusts its proxy, registrar and outbound proxy (by IP address, any
//! port: providers answer and call from several ports of one host) and the `trusted` entries.
//! An entry with a port (`ip:port`) pins its IP address to ports: a request from that IP is
//! trusted only from a listed port or from the exact address of the proxy, registrar or
//! outbound proxy. So `trusted = ["127.0.0.1:5070"]` on a line whose proxy is 127.0.0.1:5070
//! refuses everything else on 127.0.0.1.

use std::net::SocketAddr;

use crate::config::LineConfig;

/// Whether `line` takes requests from `addr`.
pub fn trusts(line: &LineConfig, addr: SocketAddr) -> bool {
    let ip = addr.ip();
    let pinned = line.trusted.iter().any(|t| t.ip == ip && t.port.is_some());
    if pinned {
        let own = [Some(line.proxy), Some(line.registrar), line.outbound_proxy];
        return line
            .trusted
            .iter()
            .any(|t| t.ip == ip && t.port == Some(addr.port()))
            || own.into_iter().flatten().any(|a| a == addr);
    }
    line.trusted.iter().any(|t| t.ip == ip)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn line(extra: &str) -> LineConfig {
        let text = format!(
            "[sip]\nlisten = \"127.0.0.1:5060\"\n[api]\nlisten = \"127.0.0.1:8274\"\n\
             [[lines]]\nuser = \"1001\"\ndomain = \"example.org\"\nproxy = \"192.0.2.1:5060\"\n{extra}"
        );
        let mut config = crate::config::load_str(&text, Path::new("t.toml")).unwrap();
        config.lines.remove(0)
    }

    fn at(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_proxy_is_trusted_from_any_port_and_strangers_never() {
        let l = line("");
        assert!(trusts(&l, at("192.0.2.1:5060")));
        assert!(trusts(&l, at("192.0.2.1:40000")));
        assert!(!trusts(&l, at("192.0.2.2:5060")));
    }

    #[test]
    fn an_entry_with_a_port_compares_the_port() {
        let l = line("trusted = [\"198.51.100.7:5080\", \"203.0.113.9\"]");
        assert!(trusts(&l, at("198.51.100.7:5080")));
        assert!(!trusts(&l, at("198.51.100.7:5081")));
        assert!(
            trusts(&l, at("203.0.113.9:1")),
            "an IP-only entry: any port"
        );
    }

    #[test]
    fn a_pinned_entry_on_the_proxy_host_narrows_the_proxy_to_its_own_port() {
        let l = line("trusted = [\"192.0.2.1:5070\"]");
        assert!(trusts(&l, at("192.0.2.1:5070")));
        assert!(trusts(&l, at("192.0.2.1:5060")), "the proxy's own address");
        assert!(!trusts(&l, at("192.0.2.1:40000")));
    }
}
