//! The one HTTP client against a local HTTPS server posing as Azure hosts.
mod support;

use apimfn::cloud::Cloud;
use apimfn::settings::CloudName;
use apimfn::transport::{EmulatorTarget, USER_AGENT, build_http_client};

/// Echoes `host path user-agent`.
fn echo_router() -> axum::Router {
    axum::Router::new().fallback(
        |headers: axum::http::HeaderMap, uri: axum::http::Uri| async move {
            let h = |n: &str| {
                headers
                    .get(n)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string()
            };
            format!("{} {} {}", h("host"), uri.path(), h("user-agent"))
        },
    )
}

const PUBLIC_HOSTS: &[&str] = &[
    "management.azure.com",
    "login.microsoftonline.com",
    "graph.microsoft.com",
    "*.azure-api.net",
    "*.azurewebsites.net",
    "*.scm.azurewebsites.net",
    "*.blob.core.windows.net",
];

async fn get(client: &reqwest::Client, url: &str) -> String {
    let rsp = client
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{url}: {e:?}"));
    assert!(rsp.status().is_success(), "{url}: {}", rsp.status());
    rsp.text().await.expect("text")
}

#[tokio::test]
async fn emulator_client_reaches_real_azure_host_names_with_the_right_host_header() {
    let server = support::start_https(echo_router(), PUBLIC_HOSTS).await;
    let target =
        EmulatorTarget::with_ca_pem(&server.url(), server.ca_pem.as_bytes()).expect("target");
    let client =
        build_http_client(&Cloud::new(CloudName::AzureCloud), Some(&target)).expect("client");
    for (url, host) in [
        (
            "https://management.azure.com/subscriptions?api-version=2022-12-01",
            "management.azure.com",
        ),
        (
            "https://login.microsoftonline.com/t/oauth2/v2.0/token",
            "login.microsoftonline.com",
        ),
        (
            "https://graph.microsoft.com/v1.0/applications",
            "graph.microsoft.com",
        ),
        (
            "https://myapim.azure-api.net/api/HttpExample",
            "myapim.azure-api.net",
        ),
        (
            "https://myapp.azurewebsites.net/api/HttpExample",
            "myapp.azurewebsites.net",
        ),
        (
            "https://myapp.scm.azurewebsites.net/api/publish",
            "myapp.scm.azurewebsites.net",
        ),
        (
            "https://st1.blob.core.windows.net/c",
            "st1.blob.core.windows.net",
        ),
    ] {
        let body = get(&client, url).await;
        let path = url::Url::parse(url).expect("url").path().to_string();
        assert_eq!(body, format!("{host} {path} {USER_AGENT}"), "{url}");
    }
    assert!(USER_AGENT.starts_with("apimfn/"));
}

#[tokio::test]
async fn emulator_client_reaches_the_admin_api_by_ip() {
    let server = support::start_https(echo_router(), PUBLIC_HOSTS).await;
    let target =
        EmulatorTarget::with_ca_pem(&server.url(), server.ca_pem.as_bytes()).expect("target");
    let client =
        build_http_client(&Cloud::new(CloudName::AzureCloud), Some(&target)).expect("client");
    let body = get(&client, &format!("{}/.emulator/requests", server.url())).await;
    assert!(body.contains("/.emulator/requests"), "{body}");
}

#[tokio::test]
async fn without_the_ca_the_tls_handshake_fails() {
    let server = support::start_https(echo_router(), PUBLIC_HOSTS).await;
    let target = EmulatorTarget::new(&server.url(), None).expect("target");
    let client =
        build_http_client(&Cloud::new(CloudName::AzureCloud), Some(&target)).expect("client");
    let err = client
        .get("https://management.azure.com/subscriptions")
        .send()
        .await
        .expect_err("an untrusted certificate must be refused");
    assert!(err.is_connect(), "{err:?}");
    let chain = format!("{err:?}").to_lowercase();
    assert!(
        chain.contains("certificate") || chain.contains("tls") || chain.contains("invalid"),
        "{chain}"
    );
}

#[tokio::test]
async fn a_ca_file_on_disk_is_trusted() {
    let server = support::start_https(echo_router(), PUBLIC_HOSTS).await;
    let dir = tempfile::tempdir().expect("tmp");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &server.ca_pem).expect("write");
    let target = EmulatorTarget::new(&server.url(), Some(&ca)).expect("target");
    let client =
        build_http_client(&Cloud::new(CloudName::AzureCloud), Some(&target)).expect("client");
    let body = get(&client, "https://management.azure.com/x").await;
    assert!(body.starts_with("management.azure.com /x "), "{body}");
}

#[tokio::test]
async fn china_cloud_hosts_are_redirected_when_the_cloud_is_china() {
    let hosts = [
        "management.chinacloudapi.cn",
        "login.chinacloudapi.cn",
        "microsoftgraph.chinacloudapi.cn",
        "*.azure-api.cn",
        "*.chinacloudsites.cn",
        "*.scm.chinacloudsites.cn",
        "*.blob.core.chinacloudapi.cn",
    ];
    let server = support::start_https(echo_router(), &hosts).await;
    let target =
        EmulatorTarget::with_ca_pem(&server.url(), server.ca_pem.as_bytes()).expect("target");
    let client =
        build_http_client(&Cloud::new(CloudName::AzureChinaCloud), Some(&target)).expect("client");
    for (url, host) in [
        (
            "https://management.chinacloudapi.cn/subscriptions",
            "management.chinacloudapi.cn",
        ),
        (
            "https://login.chinacloudapi.cn/t/oauth2/v2.0/token",
            "login.chinacloudapi.cn",
        ),
        (
            "https://microsoftgraph.chinacloudapi.cn/v1.0/me",
            "microsoftgraph.chinacloudapi.cn",
        ),
        ("https://myapim.azure-api.cn/a", "myapim.azure-api.cn"),
        (
            "https://myapp.scm.chinacloudsites.cn/api/publish",
            "myapp.scm.chinacloudsites.cn",
        ),
    ] {
        let body = get(&client, url).await;
        assert!(body.starts_with(&format!("{host} ")), "{url}: {body}");
    }
    // A public-cloud name is not part of the China cloud: refused, never sent to the network.
    let err = client
        .get("https://management.azure.com/subscriptions")
        .send()
        .await
        .expect_err("refused");
    assert!(
        format!("{err:?}").contains("management.azure.com"),
        "{err:?}"
    );
}

#[tokio::test]
async fn credentials_transport_uses_the_same_redirection() {
    use azure_core::http::{HttpClient, Method, Request};
    let server = support::start_https(echo_router(), PUBLIC_HOSTS).await;
    let target =
        EmulatorTarget::with_ca_pem(&server.url(), server.ca_pem.as_bytes()).expect("target");
    let client =
        build_http_client(&Cloud::new(CloudName::AzureCloud), Some(&target)).expect("client");
    let http: std::sync::Arc<dyn HttpClient> = std::sync::Arc::new(client.clone());
    let _transport = apimfn::transport::azure_core_transport(&client);
    let req = Request::new(
        "https://login.microsoftonline.com/common/discovery"
            .parse()
            .expect("url"),
        Method::Get,
    );
    let rsp = http.execute_request(&req).await.expect("sent");
    assert_eq!(u16::from(rsp.status()), 200);
    let body = rsp.into_body().collect_string().await.expect("body");
    assert!(
        body.starts_with("login.microsoftonline.com /common/discovery"),
        "{body}"
    );
}
