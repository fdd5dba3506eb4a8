//! The whole client stack against the emulator: settings → transport (host redirection + CA) →
//! credential (client secret, token from the emulated Entra ID over the same transport) → ARM
//! client (request, LRO polling) — nothing mocked.

use apimfn::azure::Azure;
use apimfn::cli::GlobalArgs;
use apimfn::transport::EmulatorTarget;
use std::collections::HashMap;
use std::time::Duration;

#[tokio::test]
async fn client_secret_sign_in_and_arm_calls_work_against_the_emulator() {
    let em = apimfn_emulator::start(apimfn_emulator::Config {
        time_scale: 0.0005,
        ..Default::default()
    })
    .await
    .expect("emulator");
    let env: HashMap<&str, String> = HashMap::from([
        ("AZURE_TENANT_ID", em.ready.tenant_id.clone()),
        ("AZURE_CLIENT_ID", em.ready.client_id.clone()),
        ("AZURE_CLIENT_SECRET", em.ready.client_secret.clone()),
        ("AZURE_SUBSCRIPTION_ID", em.ready.subscription_id.clone()),
    ]);
    let lookup = |k: &str| env.get(k).cloned();
    let global = GlobalArgs {
        auth: Some("client-secret".into()),
        name: Some("conn".into()),
        ..Default::default()
    };
    let settings = apimfn::settings::resolve(&global, &lookup).expect("settings");
    let target = EmulatorTarget::with_ca_pem(&em.ready.url, em.ca_pem.clone()).expect("target");
    let azure = Azure::connect(&settings, Some(&target), &lookup)
        .await
        .expect("connect");
    let arm = azure.arm.clone().with_policy(apimfn::arm::RetryPolicy {
        poll_initial: Duration::from_millis(20),
        poll_max: Duration::from_millis(100),
        ..Default::default()
    });

    let sub = &em.ready.subscription_id;
    let group = format!("/subscriptions/{sub}/resourcegroups/rg-conn");
    let created = arm
        .put(
            &group,
            "2025-04-01",
            &serde_json::json!({"location": "japaneast"}),
        )
        .await
        .expect("create group");
    assert_eq!(created["properties"]["provisioningState"], "Succeeded");
    assert!(arm.head(&group, "2025-04-01").await.expect("head"));
    arm.delete(&group, "2025-04-01")
        .await
        .expect("delete group (LRO)");
    assert!(!arm.head(&group, "2025-04-01").await.expect("head"));
    let counts = arm.counter();
    assert_eq!(counts.writes, 2, "{counts:?}");

    let log: serde_json::Value = azure
        .http
        .get(format!("{}/.emulator/requests", em.ready.url))
        .send()
        .await
        .expect("log")
        .json()
        .await
        .expect("json");
    let hosts: Vec<&str> = log["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .filter_map(|r| r["host"].as_str())
        .collect();
    assert!(hosts.contains(&"login.microsoftonline.com"), "{hosts:?}");
    assert!(hosts.contains(&"management.azure.com"), "{hosts:?}");
    em.shutdown().await;
}
