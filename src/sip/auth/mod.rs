//! HTTP digest authentication for SIP (RFC 3261 §22, RFC 2617, RFC 7616, RFC 8760): parsing
//! `WWW-Authenticate` / `Proxy-Authenticate` challenges (quoted lists, SHA-256, any case) and
//! computing `Authorization` / `Proxy-Authorization` values. Pure functions; the provider keeps
//! the per-line state (nonce count, retry guard).

use md5::{Digest as _, Md5};
use sha2::Sha256;

/// Digest algorithms (RFC 7616 §3.3, RFC 8760).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Md5,
    Md5Sess,
    Sha256,
    Sha256Sess,
}

impl Algorithm {
    fn parse(s: &str) -> Option<Algorithm> {
        match s.to_ascii_uppercase().as_str() {
            "MD5" => Some(Algorithm::Md5),
            "MD5-SESS" => Some(Algorithm::Md5Sess),
            "SHA-256" => Some(Algorithm::Sha256),
            "SHA-256-SESS" => Some(Algorithm::Sha256Sess),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
        }
    }

    fn is_sess(self) -> bool {
        matches!(self, Algorithm::Md5Sess | Algorithm::Sha256Sess)
    }

    fn hash(self, data: &str) -> String {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => hex(&Md5::digest(data.as_bytes())),
            Algorithm::Sha256 | Algorithm::Sha256Sess => hex(&Sha256::digest(data.as_bytes())),
        }
    }

    fn hash_bytes(self, data: &[u8]) -> String {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => hex(&Md5::digest(data)),
            Algorithm::Sha256 | Algorithm::Sha256Sess => hex(&Sha256::digest(data)),
        }
    }

    /// Preference when several challenges are offered (RFC 8760 §2.4: strongest first).
    fn strength(self) -> u8 {
        match self {
            Algorithm::Sha256 | Algorithm::Sha256Sess => 2,
            Algorithm::Md5 | Algorithm::Md5Sess => 1,
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Quality of protection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qop {
    Auth,
    AuthInt,
}

/// One digest challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub nonce: String,
    pub opaque: Option<String>,
    pub algorithm: Algorithm,
    /// Offered qop values (empty: RFC 2069 compatibility).
    pub qop: Vec<Qop>,
    pub stale: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("not a Digest challenge")]
    NotDigest,
    #[error("challenge without {0}")]
    Missing(&'static str),
    #[error("unsupported algorithm {0}")]
    Algorithm(String),
    #[error("malformed challenge")]
    Malformed,
}

/// Digest credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl Challenge {
    /// Parses a header value: `Digest realm="x", nonce="y", qop="auth,auth-int", ...`.
    pub fn parse(value: &str) -> Result<Challenge, AuthError> {
        let value = value.trim();
        let (scheme, rest) = value
            .split_once(char::is_whitespace)
            .ok_or(AuthError::NotDigest)?;
        if !scheme.eq_ignore_ascii_case("Digest") {
            return Err(AuthError::NotDigest);
        }
        let params = parse_auth_params(rest)?;
        let get = |name: &str| {
            params
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let algorithm = match get("algorithm") {
            Some(a) => Algorithm::parse(&a).ok_or(AuthError::Algorithm(a))?,
            None => Algorithm::Md5,
        };
        let qop = get("qop")
            .map(|q| {
                q.split(',')
                    .filter_map(|t| match t.trim().to_ascii_lowercase().as_str() {
                        "auth" => Some(Qop::Auth),
                        "auth-int" => Some(Qop::AuthInt),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Challenge {
            realm: get("realm").ok_or(AuthError::Missing("realm"))?,
            nonce: get("nonce").ok_or(AuthError::Missing("nonce"))?,
            opaque: get("opaque"),
            algorithm,
            qop,
            stale: get("stale").is_some_and(|s| s.eq_ignore_ascii_case("true")),
        })
    }
}

/// `name=value, name="quoted, value"` pairs (RFC 7235 §2.1 auth-param).
fn parse_auth_params(s: &str) -> Result<Vec<(String, String)>, AuthError> {
    let mut out = Vec::new();
    let mut rest = s.trim_start();
    while !rest.is_empty() {
        let (name, after) = rest.split_once('=').ok_or(AuthError::Malformed)?;
        let name = name.trim().trim_start_matches(',').trim().to_string();
        let after = after.trim_start();
        let (value, tail) = if let Some(quoted) = after.strip_prefix('"') {
            read_quoted(quoted).ok_or(AuthError::Malformed)?
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        out.push((name, value));
        rest = tail.trim_start().trim_start_matches(',').trim_start();
    }
    Ok(out)
}

fn read_quoted(s: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => value.push(chars.next()?.1),
            '"' => return Some((value, &s[i + 1..])),
            c => value.push(c),
        }
    }
    None
}

/// The challenge to answer among several (one per algorithm, RFC 8760 §2.4).
pub fn choose(challenges: &[Challenge]) -> Option<&Challenge> {
    challenges.iter().max_by_key(|c| c.algorithm.strength())
}

/// The credentials header value for `method digest_uri` with `body`, nonce count `nc` and
/// client nonce `cnonce`. qop=auth is preferred; auth-int only when it is the only one offered;
/// no qop gives an RFC 2069 response.
pub fn authorize(
    ch: &Challenge,
    creds: &Credentials,
    method: &str,
    digest_uri: &str,
    body: &[u8],
    nc: u32,
    cnonce: &str,
) -> String {
    let qop = if ch.qop.contains(&Qop::Auth) {
        Some(Qop::Auth)
    } else if ch.qop.contains(&Qop::AuthInt) {
        Some(Qop::AuthInt)
    } else {
        None
    };
    let response = response(ch, creds, method, digest_uri, body, qop, nc, cnonce);
    let mut value = format!(
        "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", response=\"{}\", algorithm={}",
        escape(&creds.username),
        escape(&ch.realm),
        escape(&ch.nonce),
        digest_uri,
        response,
        ch.algorithm.as_str()
    );
    if let Some(qop) = qop {
        let qop = if qop == Qop::Auth { "auth" } else { "auth-int" };
        value.push_str(&format!(", qop={qop}, nc={nc:08x}, cnonce=\"{cnonce}\""));
    }
    if let Some(opaque) = &ch.opaque {
        value.push_str(&format!(", opaque=\"{}\"", escape(opaque)));
    }
    value
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// RFC 7616 §3.4.1 (RFC 2617 §3.2.2.1 for MD5).
#[allow(clippy::too_many_arguments)]
fn response(
    ch: &Challenge,
    creds: &Credentials,
    method: &str,
    uri: &str,
    body: &[u8],
    qop: Option<Qop>,
    nc: u32,
    cnonce: &str,
) -> String {
    let alg = ch.algorithm;
    let mut ha1 = alg.hash(&format!(
        "{}:{}:{}",
        creds.username, ch.realm, creds.password
    ));
    if alg.is_sess() {
        ha1 = alg.hash(&format!("{ha1}:{}:{cnonce}", ch.nonce));
    }
    let ha2 = match qop {
        Some(Qop::AuthInt) => alg.hash(&format!("{method}:{uri}:{}", alg.hash_bytes(body))),
        _ => alg.hash(&format!("{method}:{uri}")),
    };
    match qop {
        Some(q) => {
            let q = if q == Qop::Auth { "auth" } else { "auth-int" };
            alg.hash(&format!("{ha1}:{}:{nc:08x}:{cnonce}:{q}:{ha2}", ch.nonce))
        }
        None => alg.hash(&format!("{ha1}:{}:{ha2}", ch.nonce)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field<'a>(header: &'a str, name: &str) -> &'a str {
        let start = header.find(&format!("{name}=")).unwrap() + name.len() + 1;
        let rest = header[start..].trim_start_matches('"');
        let end = rest.find(['"', ',']).unwrap_or(rest.len());
        &rest[..end]
    }

    #[test]
    fn rfc2617_example() {
        let ch = Challenge::parse(
            "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", \
             nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
        )
        .unwrap();
        assert_eq!(ch.qop, vec![Qop::Auth, Qop::AuthInt]);
        let creds = Credentials {
            username: "Mufasa".into(),
            password: "Circle Of Life".into(),
        };
        let h = authorize(&ch, &creds, "GET", "/dir/index.html", b"", 1, "0a4f113b");
        assert_eq!(field(&h, "response"), "6629fae49393a05397450978507c4ef1");
        assert_eq!(field(&h, "nc"), "00000001");
        assert_eq!(field(&h, "qop"), "auth");
        assert_eq!(field(&h, "opaque"), "5ccc069c403ebaf9f0171e9517f40e41");
    }

    #[test]
    fn rfc7616_examples() {
        let creds = Credentials {
            username: "Mufasa".into(),
            password: "Circle of Life".into(),
        };
        let cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
        let base = "realm=\"http-auth@example.org\", qop=\"auth, auth-int\", \
                    nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", \
                    opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
        let sha = Challenge::parse(&format!("Digest {base}, algorithm=SHA-256")).unwrap();
        let h = authorize(&sha, &creds, "GET", "/dir/index.html", b"", 1, cnonce);
        assert_eq!(
            field(&h, "response"),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
        );
        assert!(h.contains("algorithm=SHA-256"));
        let md5 = Challenge::parse(&format!("Digest {base}, algorithm=MD5")).unwrap();
        let h = authorize(&md5, &creds, "GET", "/dir/index.html", b"", 1, cnonce);
        assert_eq!(field(&h, "response"), "8ca523f5e9506fed4657c9700eebdbec");
        assert_eq!(choose(&[md5.clone(), sha.clone()]), Some(&sha));
    }

    #[test]
    fn sess_variants_follow_the_formula() {
        let creds = Credentials {
            username: "u".into(),
            password: "p".into(),
        };
        for (name, alg) in [
            ("MD5-sess", Algorithm::Md5Sess),
            ("SHA-256-sess", Algorithm::Sha256Sess),
        ] {
            let ch = Challenge::parse(&format!(
                "Digest realm=\"r\", nonce=\"n\", qop=auth, algorithm={name}"
            ))
            .unwrap();
            assert_eq!(ch.algorithm, alg);
            let h = authorize(&ch, &creds, "REGISTER", "sip:d", b"", 2, "c");
            let ha1 = alg.hash(&format!("{}:n:c", alg.hash("u:r:p")));
            let ha2 = alg.hash("REGISTER:sip:d");
            let want = alg.hash(&format!("{ha1}:n:00000002:c:auth:{ha2}"));
            assert_eq!(field(&h, "response"), want);
            assert_ne!(want, {
                let plain = Challenge {
                    algorithm: if alg == Algorithm::Md5Sess {
                        Algorithm::Md5
                    } else {
                        Algorithm::Sha256
                    },
                    ..ch.clone()
                };
                field(
                    &authorize(&plain, &creds, "REGISTER", "sip:d", b"", 2, "c"),
                    "response",
                )
                .to_string()
            });
        }
    }

    #[test]
    fn auth_int_alone_and_rfc2069() {
        let creds = Credentials {
            username: "u".into(),
            password: "p".into(),
        };
        let ch = Challenge::parse("Digest realm=\"r\",nonce=\"n\",qop=\"auth-int\"").unwrap();
        let h = authorize(&ch, &creds, "INVITE", "sip:x", b"v=0", 1, "c");
        assert!(h.contains("qop=auth-int"));
        let ha2 = Algorithm::Md5.hash(&format!("INVITE:sip:x:{}", Algorithm::Md5.hash("v=0")));
        let ha1 = Algorithm::Md5.hash("u:r:p");
        assert_eq!(
            field(&h, "response"),
            Algorithm::Md5.hash(&format!("{ha1}:n:00000001:c:auth-int:{ha2}"))
        );
        let old = Challenge::parse("digest REALM=r, NONCE=n").unwrap();
        let h = authorize(&old, &creds, "INVITE", "sip:x", b"", 1, "c");
        assert!(!h.contains("qop="));
        assert_eq!(
            field(&h, "response"),
            Algorithm::Md5.hash(&format!("{ha1}:n:{}", Algorithm::Md5.hash("INVITE:sip:x")))
        );
    }

    #[test]
    fn parsing_edge_cases() {
        let ch =
            Challenge::parse("Digest realm=\"a,b\\\"c\", nonce=abc, stale=TRUE, algorithm=sha-256")
                .unwrap();
        assert_eq!(ch.realm, "a,b\"c");
        assert_eq!(ch.nonce, "abc");
        assert!(ch.stale);
        assert_eq!(ch.algorithm, Algorithm::Sha256);
        assert_eq!(
            Challenge::parse("Basic realm=\"x\""),
            Err(AuthError::NotDigest)
        );
        assert_eq!(
            Challenge::parse("Digest nonce=\"n\""),
            Err(AuthError::Missing("realm"))
        );
        assert!(matches!(
            Challenge::parse("Digest realm=\"r\", nonce=\"n\", algorithm=SHA-512-256"),
            Err(AuthError::Algorithm(_))
        ));
        assert!(Challenge::parse("Digest realm=\"unterminated").is_err());
    }
}
