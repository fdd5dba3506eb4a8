//! The listener: TLS with the generated CA, Host routing, the admin API, persistence of the CA.

use apimfn_emulator::{Config, start};

fn client(ca_pem: &str, addr: std::net::SocketAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("ca")])
        .resolve("management.azure.com", addr)
        .resolve("myapim.azure-api.net", addr)
        .build()
        .expect("client")
}

#[tokio::test]
async fn serves_azure_host_names_over_tls_and_logs_requests() {
    let em = start(Config::default()).await.expect("start");
    let c = client(&em.ca_pem, em.addr);
    let r = c
        .get("https://management.azure.com/nothing-here")
        .send()
        .await
        .expect("arm host reachable over TLS");
    // Reached ARM itself: its gate answers first for the missing api-version.
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["error"]["code"], "MissingApiVersionParameter");
    c.get("https://myapim.azure-api.net/x")
        .send()
        .await
        .expect("wildcard host reachable over TLS");

    let log: serde_json::Value = c
        .get(format!("{}/.emulator/requests", em.ready.url))
        .send()
        .await
        .expect("admin")
        .json()
        .await
        .expect("json");
    let reqs = log["requests"].as_array().expect("requests");
    assert_eq!(reqs.len(), 2, "{log}");
    assert_eq!(reqs[0]["host"], "management.azure.com");
    assert_eq!(reqs[0]["method"], "GET");
    assert_eq!(reqs[0]["path"], "/nothing-here");
    assert_eq!(reqs[1]["host"], "myapim.azure-api.net");

    let del = c
        .delete(format!("{}/.emulator/requests", em.ready.url))
        .send()
        .await
        .expect("delete");
    assert_eq!(del.status(), 204);
    let log: serde_json::Value = c
        .get(format!("{}/.emulator/requests", em.ready.url))
        .send()
        .await
        .expect("admin")
        .json()
        .await
        .expect("json");
    assert_eq!(log["requests"].as_array().map(Vec::len), Some(0));
    em.shutdown().await;
}

#[tokio::test]
async fn the_ca_and_seed_survive_a_restart_with_a_state_dir() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = Config {
        state_dir: Some(dir.path().to_path_buf()),
        ..Config::default()
    };
    let first = start(cfg.clone()).await.expect("start");
    let (ca, tenant, secret) = (
        first.ca_pem.clone(),
        first.ready.tenant_id.clone(),
        first.ready.client_secret.clone(),
    );
    first.shutdown().await;

    let second = start(cfg).await.expect("restart");
    assert_eq!(second.ca_pem, ca);
    assert_eq!(second.ready.tenant_id, tenant);
    assert_eq!(second.ready.client_secret, secret);
    // A client that trusted the first CA still reaches the restarted emulator.
    let c = client(&ca, second.addr);
    let r = c
        .get(format!("{}/.emulator/state", second.ready.url))
        .send()
        .await
        .expect("trusted after restart");
    assert_eq!(r.status(), 200);
    second.shutdown().await;
}
