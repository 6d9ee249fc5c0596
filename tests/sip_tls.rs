//! SIP over TLS end to end (issue 17 item 2) against the real binary. The test makes a CA and
//! certificates at run time (rcgen) and plays the provider itself with tokio-rustls (the
//! Debian SIPp is built without OpenSSL, so `-t l1` is not available; see docs/interop.md):
//!
//! - outbound: the TLS line registers over TLS (verifying the provider's certificate against
//!   `tls_ca`, SNI `localhost` from `proxy`), then places a call and hangs it up, everything
//!   over that one connection (reuse), with `Via: SIP/2.0/TLS` naming the TLS listener and
//!   `Contact: ...;transport=tls`;
//! - inbound: a TLS client calls the line through `sip.tls_listen` and is answered on its own
//!   connection;
//! - a provider certificate from another CA fails the handshake and the line registers
//!   nothing.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use common::app::*;
use common::GatewayProcess;
use tapigw::sip::codec::{self, Frame, StreamFramer};
use tapigw::sip::message::{Method, Request, Response, SipMessage};

const STEP: Duration = Duration::from_secs(10);
const SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

/// A CA and a certificate it issued for `localhost` and 127.0.0.1, as PEM files in `dir`.
struct Pki {
    ca_pem: String,
    ca: rcgen::Certificate,
    ca_key: KeyPair,
}

impl Pki {
    fn new(name: &str) -> Pki {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let ca_key = KeyPair::generate().unwrap();
        let ca = params.self_signed(&ca_key).unwrap();
        Pki {
            ca_pem: ca.pem(),
            ca,
            ca_key,
        }
    }

    /// (certificate PEM, key PEM) for localhost / 127.0.0.1.
    fn leaf(&self) -> (String, String) {
        let params =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.ca, &self.ca_key).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    fn server_config(&self) -> Arc<ServerConfig> {
        let (cert, key) = self.leaf();
        let chain = vec![CertificateDer::from_pem_slice(cert.as_bytes()).unwrap()];
        let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        Arc::new(
            ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(chain, key)
                .unwrap(),
        )
    }

    fn client_config(&self) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(self.ca_pem.as_bytes()).unwrap())
            .unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        Arc::new(
            ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth(),
        )
    }
}

/// One SIP connection of the test's peer: framed with the gateway's own codec.
struct SipConn<S> {
    stream: S,
    framer: StreamFramer,
    buf: BytesMut,
}

impl<S: AsyncRead + AsyncWrite + Unpin> SipConn<S> {
    fn new(stream: S) -> Self {
        SipConn {
            stream,
            framer: StreamFramer::new(),
            buf: BytesMut::zeroed(8192),
        }
    }

    async fn send(&mut self, message: impl Into<SipMessage>) {
        let bytes = codec::encode(&message.into());
        self.stream.write_all(&bytes).await.unwrap();
    }

    /// The next message (keep-alives skipped), within [`STEP`].
    async fn next(&mut self) -> SipMessage {
        tokio::time::timeout(STEP, async {
            loop {
                while let Some(frame) = self.framer.next_frame().unwrap() {
                    if let Frame::Message(bytes) = frame {
                        return codec::decode(&bytes).unwrap();
                    }
                }
                let n = self.stream.read(&mut self.buf).await.unwrap();
                assert!(n > 0, "the gateway closed the connection");
                self.framer.push(&self.buf[..n]);
            }
        })
        .await
        .expect("a SIP message within 10 s")
    }

    async fn request(&mut self, method: Method) -> Request {
        match self.next().await {
            SipMessage::Request(r) if r.method == method => r,
            other => panic!("expected {method}, got {other:?}"),
        }
    }

    /// The next final response (provisional ones are skipped).
    async fn final_response(&mut self) -> Response {
        loop {
            match self.next().await {
                SipMessage::Response(r) if r.status >= 200 => return r,
                SipMessage::Response(_) => {}
                SipMessage::Request(r) => panic!("expected a response, got {}", r.method),
            }
        }
    }
}

/// Our response to `request`; with `sdp` it is an answer whose Contact is `contact`.
fn answer(request: &Request, status: u16, sdp: Option<(&str, &str)>) -> Response {
    let mut r = Response::for_request(request, status, Some("prov1"));
    if let Some((sdp, contact)) = sdp {
        r.headers.content_type = Some("application/sdp".into());
        r.body = sdp.as_bytes().to_vec();
        r.headers
            .contact
            .push(codec::parse_name_addr(contact).unwrap());
    }
    if request.method == Method::Register {
        r.headers.contact = request.headers.contact.clone();
    }
    r
}

/// The gateway with a TLS listener and one TLS line registering at `provider`, `tls_ca` the
/// PEM of the CA to trust.
fn gateway(
    dir: &tempfile::TempDir,
    pki: &Pki,
    provider: SocketAddr,
    ca_pem: &str,
) -> GatewayProcess {
    let (cert, key) = pki.leaf();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let (cert, key, ca) = (
        write("gw.pem", &cert),
        write("gw.key", &key),
        write("ca.pem", ca_pem),
    );
    let tls_port = common::free_port();
    let sip =
        format!("tls_listen = \"127.0.0.1:{tls_port}\"\ntls_cert = {cert:?}\ntls_key = {key:?}");
    let line = format!(
        "[[lines]]\nuser = \"1001\"\ndomain = \"localhost\"\nproxy = \"localhost:{}\"\n\
         transport = \"tls\"\nregister = true\nexpires = 300\ntls_ca = {ca:?}\n\n\
         [media]\nmode = \"none\"\n",
        provider.port()
    );
    GatewayProcess::start_with_sip(&sip, &line)
}

fn tls_port(gw: &mut GatewayProcess) -> u16 {
    let line = gw.wait_for_log("tapigw listening", STEP);
    let at = line
        .find("sip_tls=")
        .expect("sip_tls in the listening line")
        + 8;
    let addr: SocketAddr = line[at..]
        .split_whitespace()
        .next()
        .unwrap()
        .trim_matches('"')
        .parse()
        .unwrap();
    addr.port()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tls_line_registers_and_calls_over_one_verified_connection() {
    let pki = Pki::new("test CA");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let provider = listener.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut gw = gateway(&dir, &pki, provider, &pki.ca_pem);
    let tls_port = tls_port(&mut gw);
    let acceptor = TlsAcceptor::from(pki.server_config());
    let (tcp, _) = tokio::time::timeout(STEP, listener.accept())
        .await
        .unwrap()
        .unwrap();
    let tls = acceptor
        .accept(tcp)
        .await
        .expect("the gateway completes the handshake");
    assert_eq!(
        tls.get_ref().1.server_name(),
        Some("localhost"),
        "SNI from proxy"
    );
    let mut conn = SipConn::new(tls);

    let register = conn.request(Method::Register).await;
    let via = &register.headers.via[0];
    assert_eq!(via.transport, "TLS");
    assert_eq!(via.port, Some(tls_port), "Via names the TLS listener");
    let contact = register.headers.contact[0].to_string();
    assert!(
        contact.contains(&format!("@127.0.0.1:{tls_port};transport=tls>")),
        "{contact}"
    );
    assert!(
        contact.contains("reg-id=1") && contact.contains("+sip.instance="),
        "{contact}"
    );
    conn.send(answer(&register, 200, None)).await;

    let (mut client, _, h_line) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;
    let (request, h_call) = client.line_make_call(h_line, "2000").await.unwrap();
    let invite = conn.request(Method::Invite).await;
    assert!(invite.headers.contact[0]
        .to_string()
        .contains(";transport=tls;ob>"));
    // The far end's Contact is the provider's address: the ACK and BYE reuse the flow.
    let contact = format!("<sip:2000@127.0.0.1:{};transport=tls>", provider.port());
    conn.send(answer(&invite, 200, Some((SDP, &contact)))).await;
    let ack = conn.request(Method::Ack).await;
    assert_eq!(ack.headers.via[0].transport, "TLS");
    assert_eq!(reply(&mut client, request).await, 0);
    state(&mut client, h_call, LINECALLSTATE_CONNECTED).await;
    let info = client.line_get_call_info(h_call).await.unwrap();
    assert_eq!(info["codec"], "PCMU");

    let dropped = client.call_op("lineDrop", h_call).await.unwrap();
    let bye = conn.request(Method::Bye).await;
    conn.send(answer(&bye, 200, None)).await;
    assert_eq!(reply(&mut client, dropped).await, 0);
    state(&mut client, h_call, LINECALLSTATE_IDLE).await;
    assert!(
        tokio::time::timeout(Duration::from_millis(300), listener.accept())
            .await
            .is_err(),
        "no second connection: the registration's one was reused"
    );
    assert!(gw.stop().success());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_inbound_tls_call_is_answered_on_its_own_connection() {
    let pki = Pki::new("test CA");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut gw = gateway(&dir, &pki, listener.local_addr().unwrap(), &pki.ca_pem);
    let tls_port = tls_port(&mut gw);
    let (mut client, _, _) = open_line(gw.api_addr(), LINECALLPRIVILEGE_OWNER).await;

    let connector = TlsConnector::from(pki.client_config());
    let tcp = TcpStream::connect(("127.0.0.1", tls_port)).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let tls = connector
        .connect(name, tcp)
        .await
        .expect("the gateway's certificate verifies");
    let local = tls.get_ref().0.local_addr().unwrap();
    let mut conn = SipConn::new(tls);
    let invite = format!(
        "INVITE sip:1001@127.0.0.1:{tls_port};transport=tls SIP/2.0\r\n\
         Via: SIP/2.0/TLS 127.0.0.1:{};branch=z9hG4bKtls1\r\n\
         From: <sip:2000@127.0.0.1>;tag=c1\r\nTo: <sip:1001@127.0.0.1>\r\n\
         Call-ID: tls-in-1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n\
         Contact: <sip:2000@127.0.0.1:{};transport=tls>\r\n\
         Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{SDP}",
        local.port(),
        local.port(),
        SDP.len()
    );
    let SipMessage::Request(invite) = codec::decode(invite.as_bytes()).unwrap() else {
        unreachable!()
    };
    conn.send(invite.clone()).await;
    let (h_call, _) = new_call(&mut client).await;
    let answered = client.call_op("lineAnswer", h_call).await.unwrap();
    let ok = conn.final_response().await;
    assert_eq!(ok.status, 200);
    assert!(ok.headers.contact[0].to_string().contains(";transport=tls"));
    let mut ack = invite.derive(Method::Ack, ok.headers.to.clone());
    ack.headers.via[0].params.set("branch", Some("z9hG4bKtls2"));
    ack.body.clear();
    ack.headers.content_type = None;
    conn.send(ack).await;
    assert_eq!(reply(&mut client, answered).await, 0);
    state(&mut client, h_call, LINECALLSTATE_CONNECTED).await;
    let dropped = client.call_op("lineDrop", h_call).await.unwrap();
    let bye = conn.request(Method::Bye).await;
    assert_eq!(bye.headers.via[0].transport, "TLS");
    conn.send(answer(&bye, 200, None)).await;
    assert_eq!(reply(&mut client, dropped).await, 0);
    // The provider (whose listener this test never serves) goes last.
    drop(listener);
    assert!(gw.stop().success());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_certificate_from_another_ca_is_refused() {
    let pki = Pki::new("test CA");
    let other = Pki::new("someone else");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut gw = gateway(&dir, &pki, listener.local_addr().unwrap(), &pki.ca_pem);
    let acceptor = TlsAcceptor::from(other.server_config());
    let (tcp, _) = tokio::time::timeout(STEP, listener.accept())
        .await
        .unwrap()
        .unwrap();
    assert!(
        acceptor.accept(tcp).await.is_err(),
        "the gateway aborts the handshake"
    );
    let line = gw.wait_for_log("connect failed", STEP);
    assert!(line.contains("TLS"), "{line}");
    assert!(gw.stop().success());
}
