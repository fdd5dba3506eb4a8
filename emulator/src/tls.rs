//! The emulator's CA and server certificate.
//!
//! The CA is generated on first start and kept in the state directory, so a client that trusted it
//! keeps working across restarts. The server certificate covers the Azure host names the emulator
//! serves (CONTRACT §6) plus `localhost` and `127.0.0.1`.

use anyhow::Context;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair, SanType,
};
use std::path::Path;
use std::sync::Arc;

/// Host names on the server certificate. A wildcard covers one label, so the SCM and blob hosts
/// need their own entries.
pub const SERVED_NAMES: &[&str] = &[
    "management.azure.com",
    "login.microsoftonline.com",
    "graph.microsoft.com",
    "*.azure-api.net",
    "*.azurewebsites.net",
    "*.scm.azurewebsites.net",
    "*.blob.core.windows.net",
    "localhost",
];

pub struct Tls {
    /// PEM of the CA certificate clients must trust.
    pub ca_pem: String,
    pub server_config: Arc<rustls::ServerConfig>,
}

fn ca_params() -> anyhow::Result<CertificateParams> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "apimfn emulator local CA");
    dn.push(DnType::OrganizationName, "apimfn emulator");
    params.distinguished_name = dn;
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    Ok(params)
}

/// Load the CA from `dir` (creating it on first start) and issue the server certificate.
pub fn load_or_create(dir: &Path) -> anyhow::Result<Tls> {
    let key_path = dir.join("ca-key.pem");
    let cert_path = dir.join("ca.pem");
    let (ca_key, ca_pem_saved) = if key_path.exists() && cert_path.exists() {
        let key_pem = std::fs::read_to_string(&key_path)
            .with_context(|| format!("reading {}", key_path.display()))?;
        let cert_pem = std::fs::read_to_string(&cert_path)
            .with_context(|| format!("reading {}", cert_path.display()))?;
        (
            KeyPair::from_pem(&key_pem).context("parsing the saved CA key")?,
            Some(cert_pem),
        )
    } else {
        (KeyPair::generate().context("generating the CA key")?, None)
    };
    // Same key and subject as the saved CA: a leaf signed by this re-issued certificate verifies
    // against the saved one, which is what clients trust.
    let ca_cert = ca_params()?
        .self_signed(&ca_key)
        .context("signing the CA certificate")?;
    let ca_pem = match ca_pem_saved {
        Some(pem) => pem,
        None => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            std::fs::write(&key_path, ca_key.serialize_pem())
                .with_context(|| format!("writing {}", key_path.display()))?;
            std::fs::write(&cert_path, ca_cert.pem())
                .with_context(|| format!("writing {}", cert_path.display()))?;
            ca_cert.pem()
        }
    };

    let leaf_key = KeyPair::generate().context("generating the server key")?;
    let mut leaf = CertificateParams::new(
        SERVED_NAMES
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>(),
    )?;
    leaf.subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse()?));
    leaf.distinguished_name
        .push(DnType::CommonName, "apimfn emulator");
    let leaf_cert = leaf
        .signed_by(&leaf_key, &ca_cert, &ca_key)
        .context("signing the server certificate")?;

    let key = rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der())
        .map_err(|e| anyhow::anyhow!("server key: {e}"))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![leaf_cert.der().clone(), ca_cert.der().clone()], key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Tls {
        ca_pem,
        server_config: Arc::new(config),
    })
}
