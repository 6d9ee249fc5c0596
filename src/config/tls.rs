//! TLS server material from PEM files: a certificate chain and its private key, checked at
//! start-up (a missing file, no certificate, no key or a key that does not match the
//! certificate stops start-up naming the key) and turned into a rustls server configuration
//! with the ring provider and rustls' safe defaults (TLS 1.2 and 1.3).

use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls;

/// Which of the two files a problem is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsFile {
    Cert,
    Key,
}

/// A rustls server configuration for `cert` (PEM chain, leaf first) and `key` (PEM, PKCS#8,
/// PKCS#1 or SEC1).
pub fn server_config(
    cert: &Path,
    key: &Path,
) -> Result<Arc<rustls::ServerConfig>, (TlsFile, String)> {
    let chain = read_chain(cert).map_err(|e| (TlsFile::Cert, e))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        (
            TlsFile::Key,
            format!("no private key in {}: {e}", key.display()),
        )
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| (TlsFile::Cert, e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| (TlsFile::Key, format!("does not fit the certificate: {e}")))?;
    Ok(Arc::new(config))
}

fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Result<Vec<_>, _> = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .collect();
    let certs = certs.map_err(|e| format!("bad PEM in {}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("no certificate in {}", path.display()));
    }
    Ok(certs)
}
