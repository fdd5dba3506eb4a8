mod support;

#[tokio::test]
async fn https_test_server_answers_over_tls_for_an_azure_host_name() {
    let router = axum::Router::new().route(
        "/ping",
        axum::routing::get(|headers: axum::http::HeaderMap| async move {
            headers
                .get("host")
                .and_then(|h| h.to_str().ok())
                .unwrap_or("")
                .to_string()
        }),
    );
    let server = support::start_https(router, &["management.azure.com"]).await;
    let client = server.client_for(&["management.azure.com"]);
    let body = client
        .get("https://management.azure.com/ping")
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    assert_eq!(body, "management.azure.com");
}
