//! Test support: a local HTTPS server with a freshly generated CA, for tests that must exercise
//! real TLS and host-name routing the way the client meets Azure.
#![allow(dead_code)]

pub mod emulated;
pub mod inventory;

use std::net::SocketAddr;
use std::sync::Arc;

/// A running HTTPS test server.
pub struct TestServer {
    pub addr: SocketAddr,
    /// PEM of the CA that signed the server certificate.
    pub ca_pem: String,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    /// `https://127.0.0.1:{port}`
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.addr.port())
    }

    /// A reqwest client that trusts this server's CA and resolves `hosts` to it.
    pub fn client_for(&self, hosts: &[&str]) -> reqwest::Client {
        let mut b = reqwest::Client::builder()
            .no_proxy()
            .tls_certs_only([reqwest::Certificate::from_pem(self.ca_pem.as_bytes()).expect("ca")]);
        for h in hosts {
            b = b.resolve(h, self.addr);
        }
        b.build().expect("client")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Start `router` over HTTPS on a free loopback port, with a certificate for `names` (plus
/// `localhost` and `127.0.0.1`) signed by a new CA.
pub async fn start_https(router: axum::Router, names: &[&str]) -> TestServer {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, SanType};

    let ca_key = KeyPair::generate().expect("ca key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "apimfn test CA");
    let ca_cert = ca_params.self_signed(&ca_key).expect("ca cert");

    let mut sans: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    sans.push("localhost".into());
    let leaf_key = KeyPair::generate().expect("leaf key");
    let mut leaf = CertificateParams::new(sans).expect("leaf params");
    leaf.subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse().expect("ip")));
    let leaf_cert = leaf.signed_by(&leaf_key, &ca_cert, &ca_key).expect("leaf");

    let certs = vec![leaf_cert.der().clone()];
    let key = rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der()).expect("key");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server config");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            let router = router.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let io = hyper_util::rt::TokioIo::new(tls);
                let svc = hyper_util::service::TowerToHyperService::new(router);
                let _ = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .serve_connection(io, svc)
                .await;
            });
        }
    });
    TestServer {
        addr,
        ca_pem: ca_cert.pem(),
        task,
    }
}
