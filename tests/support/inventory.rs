//! What exists after a run, read back through ARM and Graph: the check that every resource, role
//! assignment and app registration is there exactly once (no duplicates after kills, faults and
//! re-runs).

use super::emulated::Emu;
use apimfn::azure::Azure;
use serde_json::{Value, json};

pub const APIM: &str = "2024-05-01";
pub const WEB: &str = "2025-05-01";
pub const STORAGE: &str = "2025-08-01";
pub const AUTHZ: &str = "2022-04-01";
/// Storage Blob Data Owner.
pub const BLOB_OWNER: &str = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b";

pub fn rg(emu: &Emu) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/{}-rg",
        emu.subscription(),
        emu.name
    )
}

pub fn svc(emu: &Emu) -> String {
    format!(
        "{}/providers/Microsoft.ApiManagement/service/{}-apim",
        rg(emu),
        emu.name
    )
}

pub fn site(emu: &Emu) -> String {
    format!(
        "{}/providers/Microsoft.Web/sites/{}-func",
        rg(emu),
        emu.name
    )
}

pub async fn list(azure: &Azure, path: &str, version: &str) -> Vec<Value> {
    azure
        .arm
        .list(path, version)
        .await
        .unwrap_or_else(|e| panic!("list {path}: {e}"))
}

/// Every resource, role assignment and app registration exactly once.
pub async fn assert_no_duplicates(emu: &Emu, out: &Value, label: &str) {
    let azure = emu.azure().await;
    let sub = format!("/subscriptions/{}", emu.subscription());
    let rg = rg(emu);
    let names = |v: &[Value]| -> Vec<String> {
        v.iter()
            .map(|x| x["name"].as_str().unwrap_or("?").to_string())
            .collect()
    };
    let services = list(
        &azure,
        &format!("{sub}/providers/Microsoft.ApiManagement/service"),
        APIM,
    )
    .await;
    assert_eq!(services.len(), 1, "{label}: APIM {:?}", names(&services));
    let accounts = list(
        &azure,
        &format!("{rg}/providers/Microsoft.Storage/storageAccounts"),
        STORAGE,
    )
    .await;
    assert_eq!(accounts.len(), 1, "{label}: storage {:?}", names(&accounts));
    let containers = list(
        &azure,
        &format!(
            "{}/blobServices/default/containers",
            accounts[0]["id"].as_str().expect("id")
        ),
        STORAGE,
    )
    .await;
    assert_eq!(containers.len(), 1, "{label}: {:?}", names(&containers));
    let plans = list(
        &azure,
        &format!("{rg}/providers/Microsoft.Web/serverfarms"),
        WEB,
    )
    .await;
    assert_eq!(plans.len(), 1, "{label}: plans {:?}", names(&plans));
    let sites = list(&azure, &format!("{rg}/providers/Microsoft.Web/sites"), WEB).await;
    assert_eq!(sites.len(), 1, "{label}: sites {:?}", names(&sites));

    // The role assignment: one Storage Blob Data Owner, and it is the site's identity's.
    let site_principal = out["functionApp"]["principalId"]
        .as_str()
        .expect("site principal");
    let roles = list(
        &azure,
        &format!(
            "{}/providers/Microsoft.Authorization/roleAssignments",
            accounts[0]["id"].as_str().expect("id")
        ),
        AUTHZ,
    )
    .await;
    let owners: Vec<&Value> = roles
        .iter()
        .filter(|r| {
            r["properties"]["roleDefinitionId"]
                .as_str()
                .is_some_and(|d| d.ends_with(BLOB_OWNER))
        })
        .collect();
    assert_eq!(
        owners.len(),
        1,
        "{label}: blob owner assignments {owners:?}"
    );
    assert_eq!(
        owners[0]["properties"]["principalId"], site_principal,
        "{label}"
    );

    // The app registration: one carrying apimfn's tag, one by its name, one service principal.
    let tag = format!(
        "apimfn:{}/{}-rg/{}-func",
        emu.subscription(),
        emu.name,
        emu.name
    );
    let apps = azure
        .graph
        .list("/v1.0/applications", "")
        .await
        .expect("applications");
    let tagged: Vec<&Value> = apps
        .iter()
        .filter(|a| {
            a["tags"]
                .as_array()
                .is_some_and(|t| t.contains(&json!(tag)))
        })
        .collect();
    assert_eq!(tagged.len(), 1, "{label}: tagged apps {tagged:?}");
    let named = apps
        .iter()
        .filter(|a| a["displayName"] == format!("{}-func-easyauth", emu.name))
        .count();
    assert_eq!(named, 1, "{label}: apps named like ours");
    let app_id = tagged[0]["appId"].as_str().expect("appId");
    assert_eq!(out["auth"]["clientId"], app_id, "{label}");
    let sps = azure
        .graph
        .list("/v1.0/servicePrincipals", "")
        .await
        .expect("servicePrincipals");
    let ours = sps.iter().filter(|s| s["appId"] == app_id).count();
    assert_eq!(ours, 1, "{label}: service principals for {app_id}");

    // APIM's side of the import.
    let svc = svc(emu);
    let apis = list(&azure, &format!("{svc}/apis"), APIM).await;
    assert_eq!(apis.len(), 1, "{label}: APIs {:?}", names(&apis));
    let ops = list(
        &azure,
        &format!("{svc}/apis/{}-func/operations", emu.name),
        APIM,
    )
    .await;
    let mut op_names = names(&ops);
    op_names.sort();
    assert_eq!(
        op_names,
        ["get-httpexample", "post-httpexample"],
        "{label}: operations"
    );
    let backends = list(&azure, &format!("{svc}/backends"), APIM).await;
    assert_eq!(
        backends.len(),
        1,
        "{label}: backends {:?}",
        names(&backends)
    );
    let nvs = list(&azure, &format!("{svc}/namedValues"), APIM).await;
    assert_eq!(nvs.len(), 1, "{label}: named values {:?}", names(&nvs));
    let keys = azure
        .arm
        .post(&format!("{}/host/default/listkeys", site(emu)), WEB, None)
        .await
        .expect("listkeys")
        .expect("keys");
    let apim_keys = keys["functionKeys"]
        .as_object()
        .map(|k| k.keys().filter(|k| k.starts_with("apim-")).count())
        .unwrap_or(0);
    assert_eq!(apim_keys, 1, "{label}: host keys");
}
