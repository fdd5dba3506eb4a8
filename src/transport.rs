//! The one HTTP client. ARM, Graph, Kudu, the APIM gateway, the function app and sign-in all go
//! through the `reqwest::Client` built here, so emulator redirection, CA trust, timeouts and the
//! user agent are decided in one place.
//!
//! With an emulator (`--emulator URL --emulator-ca FILE`), every host name of the chosen cloud
//! (exact ARM/login/Graph hosts and anything under its APIM, App Service and storage suffixes)
//! resolves to the emulator's address and port, and the emulator's CA is trusted in addition to
//! the system roots. URLs stay the real ones (`https://management.azure.com/...`), so TLS SNI,
//! certificate names and the Host header are exactly what Azure would see. TLS verification is
//! never switched off.

use crate::cloud::Cloud;
use crate::exit::UsageError;
use anyhow::Context;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// How long to wait for a TCP + TLS connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a single read may stall. This is an idle timeout, not a whole-request deadline: a
/// zip upload to Kudu or a slow ARM response may take minutes in total, and only a connection
/// that goes silent for this long is given up. Whole-operation deadlines belong to the callers
/// (`--timeout`, long-running-operation polling).
pub const READ_TIMEOUT: Duration = Duration::from_secs(120);

/// `apimfn/<version>`
pub const USER_AGENT: &str = concat!("apimfn/", env!("CARGO_PKG_VERSION"));

/// Where Azure traffic goes instead of Azure.
#[derive(Clone, PartialEq, Eq)]
pub struct EmulatorTarget {
    /// `https://127.0.0.1:PORT` (a host name such as `localhost` is resolved once, at build time).
    pub url: Url,
    /// PEM of the CA to trust in addition to the system roots.
    pub ca_pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for EmulatorTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorTarget")
            .field("url", &self.url.as_str())
            .field("ca_pem", &self.ca_pem.as_ref().map(|p| p.len()))
            .finish()
    }
}

impl EmulatorTarget {
    /// From `--emulator URL` and an optional `--emulator-ca FILE`. Problems with either are usage
    /// errors naming the flag and the value.
    pub fn new(url: &str, ca_file: Option<&Path>) -> anyhow::Result<Self> {
        let url = parse_emulator_url(url)?;
        let ca_pem = match ca_file {
            None => None,
            Some(path) => Some(read_ca_file(path)?),
        };
        Ok(Self { url, ca_pem })
    }

    /// From a URL and a PEM already in memory (the embedded emulator).
    pub fn with_ca_pem(url: &str, ca_pem: impl Into<Vec<u8>>) -> anyhow::Result<Self> {
        Ok(Self {
            url: parse_emulator_url(url)?,
            ca_pem: Some(ca_pem.into()),
        })
    }

    /// The socket address every Azure host name resolves to.
    pub fn socket_addr(&self) -> anyhow::Result<SocketAddr> {
        let host = self
            .url
            .host_str()
            .ok_or_else(|| usage_url(self.url.as_str(), "must have a host"))?;
        let port = self.url.port_or_known_default().unwrap_or(443);
        // `[::1]` arrives bracketed from host_str().
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<SocketAddr> = (host, port)
            .to_socket_addrs()
            .with_context(|| format!("resolving the emulator host '{host}' from --emulator"))?
            .collect();
        // `localhost` may list ::1 first while the emulator listens on 127.0.0.1 only.
        addrs
            .iter()
            .find(|a| a.is_ipv4())
            .or_else(|| addrs.first())
            .copied()
            .ok_or_else(|| anyhow::anyhow!("the emulator host '{host}' has no address"))
    }
}

fn usage_url(value: &str, rule: &str) -> anyhow::Error {
    UsageError::invalid("--emulator", value, rule).into()
}

fn parse_emulator_url(value: &str) -> anyhow::Result<Url> {
    let url = Url::parse(value).map_err(|e| usage_url(value, &format!("not a URL ({e})")))?;
    if url.scheme() != "https" {
        return Err(usage_url(
            value,
            "must be an https:// URL (the emulator serves TLS)",
        ));
    }
    if url.host_str().is_none() {
        return Err(usage_url(value, "must have a host"));
    }
    Ok(url)
}

fn read_ca_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    let shown = path.display().to_string();
    let pem = std::fs::read(path).map_err(|e| {
        UsageError::invalid("--emulator-ca", &shown, &format!("cannot be read ({e})"))
    })?;
    if reqwest::Certificate::from_pem_bundle(&pem)
        .map(|c| c.is_empty())
        .unwrap_or(true)
    {
        return Err(UsageError::invalid(
            "--emulator-ca",
            &shown,
            "must contain at least one PEM certificate",
        )
        .into());
    }
    Ok(pem)
}

/// Resolves the chosen cloud's host names to the emulator and refuses every other name.
///
/// Refusing (rather than asking the system resolver) keeps an emulator run from ever reaching a
/// real network host by accident: apimfn talks to nothing but Azure, so a name outside the
/// emulated cloud is a bug. IP literals (the emulator admin API at `https://127.0.0.1:PORT`,
/// IMDS at 169.254.169.254) never reach a resolver and are unaffected.
struct EmulatorResolver {
    cloud: Cloud,
    addr: SocketAddr,
}

impl Resolve for EmulatorResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        let result: Result<Addrs, Box<dyn std::error::Error + Send + Sync>> =
            if self.cloud.is_azure_host(&host) {
                Ok(Box::new(std::iter::once(self.addr)))
            } else {
                Err(format!(
                    "'{host}' is not a {} host name; with --emulator only those are reachable",
                    self.cloud.name
                )
                .into())
            };
        Box::pin(std::future::ready(result))
    }
}

/// The one HTTP client; see the module docs. Without an emulator it is a plain client with the
/// system roots, system DNS and the usual proxy variables.
pub fn build_http_client(
    cloud: &Cloud,
    emulator: Option<&EmulatorTarget>,
) -> anyhow::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_TIMEOUT)
        // ARM, Graph and Kudu do not redirect; following one silently could send a bearer token
        // somewhere unexpected. Same choice as azure_core's own client.
        .redirect(reqwest::redirect::Policy::none());
    if let Some(target) = emulator {
        let addr = target.socket_addr()?;
        builder = builder
            .dns_resolver(Arc::new(EmulatorResolver {
                cloud: cloud.clone(),
                addr,
            }))
            // A corporate proxy would resolve the real names itself and reach real Azure.
            .no_proxy();
        if let Some(pem) = &target.ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
                UsageError::invalid(
                    "--emulator-ca",
                    "(PEM)",
                    &format!("is not a valid PEM certificate bundle ({e})"),
                )
            })?;
            // Added to, not replacing, the system roots: the client stays a normal client.
            builder = builder.tls_certs_merge(certs);
        }
    }
    builder.build().context("building the HTTP client")
}

/// The azure_core transport over the same client, so azure_identity credentials go through the
/// emulator redirection and CA trust as well.
pub fn azure_core_transport(client: &reqwest::Client) -> azure_core::http::Transport {
    azure_core::http::Transport::new(Arc::new(client.clone()))
}

/// azure_core client options for this cloud over this client (credentials, any SDK client).
pub fn azure_core_client_options(
    cloud: &Cloud,
    client: &reqwest::Client,
) -> azure_core::http::ClientOptions {
    azure_core::http::ClientOptions {
        transport: Some(azure_core_transport(client)),
        cloud: Some(Arc::new(cloud.to_azure_core())),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::CloudName;

    fn usage_message(err: anyhow::Error) -> String {
        err.downcast_ref::<UsageError>()
            .map(|u| u.message.clone())
            .unwrap_or_else(|| panic!("not a usage error: {err:#}"))
    }

    #[test]
    fn emulator_url_must_be_https_with_a_host() {
        assert!(
            usage_message(EmulatorTarget::new("http://127.0.0.1:1", None).unwrap_err())
                .contains("--emulator")
        );
        assert!(
            usage_message(EmulatorTarget::new("not a url", None).unwrap_err())
                .contains("'not a url'")
        );
        let t = EmulatorTarget::new("https://127.0.0.1:8443", None).expect("ok");
        assert_eq!(
            t.socket_addr().expect("addr"),
            "127.0.0.1:8443".parse().unwrap()
        );
        let t = EmulatorTarget::new("https://localhost:8443", None).expect("ok");
        assert_eq!(
            t.socket_addr().expect("addr"),
            "127.0.0.1:8443".parse().unwrap()
        );
        let t = EmulatorTarget::new("https://[::1]:8443/", None).expect("ok");
        assert_eq!(
            t.socket_addr().expect("addr"),
            "[::1]:8443".parse().unwrap()
        );
    }

    #[test]
    fn missing_or_empty_ca_file_names_the_flag_and_path() {
        let msg = usage_message(
            EmulatorTarget::new(
                "https://127.0.0.1:1",
                Some(Path::new("/nonexistent/ca.pem")),
            )
            .unwrap_err(),
        );
        assert!(msg.contains("--emulator-ca"), "{msg}");
        assert!(msg.contains("/nonexistent/ca.pem"), "{msg}");
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("empty.pem");
        std::fs::write(&p, "not a certificate").expect("write");
        let msg = usage_message(EmulatorTarget::new("https://127.0.0.1:1", Some(&p)).unwrap_err());
        assert!(msg.contains("at least one PEM certificate"), "{msg}");
    }

    #[tokio::test]
    async fn resolver_maps_cloud_hosts_and_refuses_others() {
        let r = EmulatorResolver {
            cloud: Cloud::new(CloudName::AzureCloud),
            addr: "127.0.0.1:9999".parse().unwrap(),
        };
        let addrs: Vec<_> = r
            .resolve("x.scm.azurewebsites.net".parse().unwrap())
            .await
            .expect("resolved")
            .collect();
        assert_eq!(addrs, vec!["127.0.0.1:9999".parse().unwrap()]);
        let err = r
            .resolve("example.com".parse().unwrap())
            .await
            .err()
            .expect("refused");
        assert!(err.to_string().contains("example.com"));
    }

    #[test]
    fn debug_does_not_dump_the_pem() {
        let t =
            EmulatorTarget::with_ca_pem("https://127.0.0.1:1", b"-----BEGIN".to_vec()).expect("ok");
        assert!(!format!("{t:?}").contains("BEGIN"));
    }
}
