//! The client over TLS (`api.tls_cert`): rustls with the ring provider, the server verified
//! against the PEM certificates given (a private CA, or the gateway's self-signed one).

use std::net::SocketAddr;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls;

use super::link::Dial;
use super::{Client, ClientError};

impl Client {
    /// Connects with TLS to `addr`, expecting a certificate for `server_name` issued by one of
    /// the PEM certificates in `ca_pem`.
    pub async fn connect_tls(
        addr: SocketAddr,
        server_name: &str,
        ca_pem: &[u8],
    ) -> Result<Client, ClientError> {
        let tls = |e: &dyn std::fmt::Display| ClientError::Tls(e.to_string());
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(ca_pem) {
            roots.add(cert.map_err(|e| tls(&e))?).map_err(|e| tls(&e))?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| tls(&e))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = ServerName::try_from(server_name.to_string()).map_err(|e| tls(&e))?;
        let dial = Dial::Tls {
            addr,
            name,
            config: Arc::new(config),
        };
        Client::start(dial, None).await
    }
}
