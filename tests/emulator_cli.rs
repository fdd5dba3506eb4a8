//! `apimfn emulator` as a user runs it: the ready file, TLS with the CA it names, the real host
//! names through `--resolve`, and a clean stop on SIGTERM.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[tokio::test]
async fn starts_writes_the_ready_file_serves_azure_hosts_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("tmp");
    let ready = dir.path().join("ready.json");
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_apimfn"))
        .args(["emulator", "--port", "0", "--no-progress", "--ready-file"])
        .arg(&ready)
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    while !ready.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no ready file after 20 s"
        );
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the emulator exited early: {status}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!("ready file after {:?}", started.elapsed());
    let info: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&ready).expect("read")).expect("json");
    for key in [
        "url",
        "caCert",
        "tenantId",
        "subscriptionId",
        "clientId",
        "clientSecret",
    ] {
        assert!(info[key].is_string(), "ready file lacks {key}: {info}");
    }
    let url = info["url"].as_str().expect("url");
    let port: u16 = url
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port");
    let ca = std::fs::read(info["caCert"].as_str().expect("ca")).expect("ca file");
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let client = reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([reqwest::Certificate::from_pem(&ca).expect("pem")])
        .resolve("management.azure.com", addr)
        .build()
        .expect("client");
    let resp = client
        .get(format!(
            "https://management.azure.com:{port}/subscriptions/{}/resourcegroups?api-version=2025-04-01",
            info["subscriptionId"].as_str().expect("sub")
        ))
        .send()
        .await
        .expect("ARM host reachable with the emulator's CA");
    // No token: ARM's own answer.
    assert_eq!(resp.status(), 401);
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body["error"]["code"], "AuthenticationFailed");

    let pid = child.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let out = child.wait_with_output().expect("wait");
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("emulator stopping"), "stderr: {stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), url);
}
