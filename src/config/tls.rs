//! TLS material for SIP over TLS (RFC 3261 §26.2.1, RFC 5630): the listener's certificate
//! chain and key (`sip.tls_cert`, `sip.tls_key`) and, per TLS line, the roots its proxy's
//! certificate is verified against (`lines[i].tls_ca`, or the system's store).
//!
//! Everything is read and checked here, at start-up (and on reload), so a missing file, bad
//! PEM or a key that does not fit its certificate stops the gateway with one line naming the
//! key. The result is ready rustls configurations the runtime only wraps around sockets.
//!
//! System roots come from rustls-native-certs (the OS store, `/etc/ssl/certs` on Debian)
//! rather than webpki-roots' compiled-in Mozilla list: a gateway talks to its operator's SIP
//! providers, whose private or corporate CAs an administrator adds to the system store, and
//! the store follows the `ca-certificates` package's updates without a rebuild.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore, ServerConfig};

/// A ready rustls client configuration (shared by every connection of a line).
#[derive(Clone)]
pub struct TlsClient(pub Arc<ClientConfig>);

/// A ready rustls server configuration for `sip.tls_listen`.
#[derive(Clone)]
pub struct TlsServer(pub Arc<ServerConfig>);

impl fmt::Debug for TlsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TlsClient")
    }
}

impl fmt::Debug for TlsServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TlsServer")
    }
}

/// The crypto provider: ring (no C toolchain beyond cc, no cmake).
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The listener's configuration from a PEM certificate chain and a PEM private key.
pub fn server(cert: &str, key: &str) -> Result<TlsServer, (&'static str, String)> {
    let chain = certificates(cert).map_err(|p| ("sip.tls_cert", p))?;
    let key = private_key(key).map_err(|p| ("sip.tls_key", p))?;
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| ("sip.tls_cert", e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| ("sip.tls_key", format!("does not fit sip.tls_cert: {e}")))?;
    Ok(TlsServer(Arc::new(config)))
}

/// A line's client configuration: its proxy's certificate is verified against the CAs in
/// `ca` (a PEM file), or the system's store when `ca` is `None`.
pub fn client(ca: Option<&str>) -> Result<TlsClient, String> {
    let mut roots = RootCertStore::empty();
    match ca {
        Some(path) => {
            for cert in certificates(path)? {
                roots
                    .add(cert)
                    .map_err(|e| format!("{path}: not a CA certificate ({e})"))?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err(
                    "no system CA certificates found (install ca-certificates or set tls_ca)"
                        .into(),
                );
            }
        }
    }
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsClient(Arc::new(config)))
}

/// The name a TLS connection to `host` verifies (SNI, RFC 6066 §3; an IP address is checked
/// against the certificate's IP addresses and sends no SNI).
pub fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(bare.to_string())
        .map_err(|e| format!("{host:?} is no TLS server name ({e})"))
}

/// Every certificate of a PEM file, at least one.
fn certificates(path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let file = Path::new(path);
    if !file.is_file() {
        return Err(format!("{path}: no such file"));
    }
    let certs = CertificateDer::pem_file_iter(file)
        .map_err(|e| format!("{path}: {e}"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{path}: bad PEM ({e})"))?;
    if certs.is_empty() {
        return Err(format!("{path}: no PEM certificate in it"));
    }
    Ok(certs)
}

/// The private key of a PEM file (PKCS#8, PKCS#1 or SEC1).
fn private_key(path: &str) -> Result<PrivateKeyDer<'static>, String> {
    if !Path::new(path).is_file() {
        return Err(format!("{path}: no such file"));
    }
    PrivateKeyDer::from_pem_file(path).map_err(|e| format!("{path}: no PEM private key ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    }

    #[test]
    fn a_self_signed_pair_makes_a_server_and_its_ca_a_client() {
        let dir = tempfile::tempdir().unwrap();
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let c = write(&dir, "c.pem", &cert.cert.pem());
        let k = write(&dir, "k.pem", &cert.key_pair.serialize_pem());
        server(&c, &k).unwrap();
        client(Some(&c)).unwrap();
    }

    #[test]
    fn problems_name_the_file_and_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let junk = write(&dir, "junk.pem", "not pem at all\n");
        let missing = dir.path().join("none.pem").to_str().unwrap().to_string();
        let (key, problem) = server(&missing, &junk).unwrap_err();
        assert_eq!(key, "sip.tls_cert");
        assert!(problem.contains("no such file"), "{problem}");
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let c = write(&dir, "c.pem", &cert.cert.pem());
        let (key, problem) = server(&c, &junk).unwrap_err();
        assert_eq!(key, "sip.tls_key");
        assert!(problem.contains("junk.pem"), "{problem}");
        let other = rcgen::generate_simple_self_signed(vec!["x".into()]).unwrap();
        let k = write(&dir, "k.pem", &other.key_pair.serialize_pem());
        let (key, problem) = server(&c, &k).unwrap_err();
        assert_eq!(key, "sip.tls_key");
        assert!(problem.contains("does not fit"), "{problem}");
        let problem = client(Some(&junk)).unwrap_err();
        assert!(problem.contains("no PEM certificate"), "{problem}");
    }

    #[test]
    fn names_and_addresses_are_server_names() {
        assert!(server_name("sip.example.com").is_ok());
        assert!(matches!(
            server_name("127.0.0.1").unwrap(),
            ServerName::IpAddress(_)
        ));
        assert!(server_name("[::1]").is_ok());
        assert!(server_name("bad name").is_err());
    }
}
