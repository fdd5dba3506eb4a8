//! Shared test helpers: start an emulator with a tiny time scale, a client that trusts its CA and
//! resolves the Azure host names to it, and tokens obtained THROUGH the emulated Entra token
//! endpoint with the seeded client secret.
//!
//! Use from a test file with `mod common;` then e.g.
//! `let em = common::start().await; let c = common::client(&em); let t = common::arm_token(&em).await;`.
#![allow(dead_code)] // each test binary uses a different subset

use apimfn_emulator::{Config, Running, start as start_emulator};

/// Time scale for tests: a modelled 45-minute wait lasts about 0.3 s; Graph replication 0.5 ms.
pub const TIME_SCALE: f64 = 0.0001;

/// The fixed host names the emulator serves (CONTRACT §6). Wildcard families
/// (`*.azure-api.net`, `*.azurewebsites.net`, `*.scm.azurewebsites.net`,
/// `*.blob.core.windows.net`) need concrete names: pass them to [`client_with`].
pub const HOSTS: &[&str] = &[
    "management.azure.com",
    "login.microsoftonline.com",
    "graph.microsoft.com",
];

/// An emulator with the default config (strict) and [`TIME_SCALE`].
pub async fn start() -> Running {
    start_with(Config {
        time_scale: TIME_SCALE,
        ..Config::default()
    })
    .await
}

pub async fn start_with(config: Config) -> Running {
    start_emulator(config).await.expect("start the emulator")
}

/// A client trusting the emulator's CA, with every name in [`HOSTS`] resolved to it. The admin API
/// is at `running.ready.url` (`https://127.0.0.1:PORT/.emulator/…`).
pub fn client(running: &Running) -> reqwest::Client {
    client_with(running, &[])
}

/// [`client`], also resolving these extra host names (e.g. `myapim.azure-api.net`).
pub fn client_with(running: &Running, extra_hosts: &[&str]) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(running.ca_pem.as_bytes()).expect("emulator CA");
    let mut b = reqwest::Client::builder().no_proxy().tls_certs_only([ca]);
    for host in HOSTS.iter().chain(extra_hosts) {
        b = b.resolve(host, running.addr);
    }
    b.build().expect("client")
}

/// `RequestBuilder::form` without reqwest's `form` feature: an
/// `application/x-www-form-urlencoded` body, as OAuth token endpoints take.
pub trait FormExt {
    fn form_body<K: AsRef<str>, V: AsRef<str>>(self, pairs: &[(K, V)]) -> Self;
}

impl FormExt for reqwest::RequestBuilder {
    fn form_body<K: AsRef<str>, V: AsRef<str>>(self, pairs: &[(K, V)]) -> Self {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref())))
            .finish();
        self.header("content-type", "application/x-www-form-urlencoded")
            .body(body)
    }
}

/// A token for `scope` (e.g. `https://graph.microsoft.com/.default`) from the v2 token endpoint,
/// as the seeded service principal with its client secret.
pub async fn token_for(running: &Running, scope: &str) -> String {
    let r = &running.ready;
    let resp = client(running)
        .post(format!(
            "https://login.microsoftonline.com/{}/oauth2/v2.0/token",
            r.tenant_id
        ))
        .form_body(&[
            ("grant_type", "client_credentials"),
            ("client_id", r.client_id.as_str()),
            ("client_secret", r.client_secret.as_str()),
            ("scope", scope),
        ])
        .send()
        .await
        .expect("token endpoint reachable");
    let status = resp.status();
    let body: serde_json::Value = resp.json().await.expect("token JSON");
    assert_eq!(status, 200, "token request failed: {body}");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

/// A token for ARM (`https://management.azure.com/.default`): send it as
/// `.bearer_auth(token)` to `https://management.azure.com/…`.
pub async fn arm_token(running: &Running) -> String {
    token_for(running, "https://management.azure.com/.default").await
}

/// A token for Microsoft Graph (`https://graph.microsoft.com/.default`).
pub async fn graph_token(running: &Running) -> String {
    token_for(running, "https://graph.microsoft.com/.default").await
}

/// The claims of a JWT (no signature check; for assertions in tests).
pub fn claims(token: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("JWT payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url payload");
    serde_json::from_slice(&bytes).expect("JSON claims")
}
