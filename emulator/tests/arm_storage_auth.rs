//! Microsoft.Storage and Microsoft.Authorization through the ARM front door.

mod common;

use apimfn_emulator::{Config, Running};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

struct Env {
    em: Running,
    c: reqwest::Client,
    owner: String,
    sub: String,
}

fn token(em: &Running, oid: &str) -> String {
    let (tid, appid) = {
        let w = em.emulator.world();
        (w.seed.tenant_id.clone(), w.seed.client_id.clone())
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs();
    em.emulator.signer.sign(&json!({
        "aud": "https://management.azure.com/",
        "iss": format!("https://sts.windows.net/{tid}/"),
        "tid": tid, "oid": oid, "appid": appid,
        "iat": now, "nbf": now, "exp": now + 3600,
    }))
}

async fn env(time_scale: f64) -> Env {
    let em = common::start_with(Config {
        time_scale,
        ..Config::default()
    })
    .await;
    let c = common::client(&em);
    let oid = em.emulator.world().seed.object_id.clone();
    let owner = token(&em, &oid);
    let sub = em.ready.subscription_id.clone();
    Env { em, c, owner, sub }
}

impl Env {
    async fn call_as(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let url = if path.starts_with("https://") {
            path.to_string()
        } else {
            format!("https://management.azure.com{path}")
        };
        let mut rb = self.c.request(method, url).bearer_auth(token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.expect("send");
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.expect("body");
        let v = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, headers, v)
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        self.call_as(&self.owner, method, path, body).await
    }

    fn rg(&self, g: &str) -> String {
        format!("/subscriptions/{}/resourceGroups/{g}", self.sub)
    }

    fn account(&self, g: &str, name: &str) -> String {
        format!(
            "{}/providers/Microsoft.Storage/storageAccounts/{name}",
            self.rg(g)
        )
    }

    async fn group(&self, g: &str) {
        let (s, _, _) = self
            .call(
                Method::PUT,
                &format!("{}?api-version=2025-04-01", self.rg(g)),
                Some(json!({"location": "japaneast"})),
            )
            .await;
        assert!(s.is_success(), "{s}");
    }

    /// Create an account and wait for it (tiny time scale).
    async fn storage(&self, g: &str, name: &str) {
        let (s, h, _) = self
            .call(
                Method::PUT,
                &format!("{}?api-version=2025-08-01", self.account(g, name)),
                Some(json!({"location": "japaneast", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}})),
            )
            .await;
        assert_eq!(s, StatusCode::ACCEPTED);
        let loc = h["location"].to_str().expect("location").to_string();
        for _ in 0..100 {
            let (s, _, _) = self.call(Method::GET, &loc, None).await;
            if s == StatusCode::OK {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("storage account never finished");
    }
}

const SBDO: &str = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b";

#[tokio::test]
async fn storage_account_create_is_accepted_then_polled_to_the_account_with_endpoints() {
    // 25 s × 0.02 = 500 ms of creation.
    let e = env(0.02).await;
    e.group("rg1").await;
    let url = format!("{}?api-version=2025-08-01", e.account("rg1", "stapimfn01"));
    let body = json!({
        "location": "japaneast", "kind": "StorageV2", "sku": {"name": "Standard_LRS"},
        "properties": {"minimumTlsVersion": "TLS1_2", "allowBlobPublicAccess": false,
                        "supportsHttpsTrafficOnly": true, "allowSharedKeyAccess": false}
    });
    let (s, h, b) = e.call(Method::PUT, &url, Some(body.clone())).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    assert_eq!(b, Value::Null, "202 has no body");
    let loc = h["location"].to_str().expect("location").to_string();
    assert!(
        loc.starts_with(&format!(
            "https://management.azure.com/subscriptions/{}/providers/Microsoft.Storage/locations/japaneast/asyncoperations/",
            e.sub
        )),
        "{loc}"
    );
    assert!(loc.contains("monitor=true") && loc.contains("api-version=2025-08-01"));
    // Azure says 17 s; scaled by the emulator clock and rounded up to whole seconds.
    assert_eq!(h["retry-after"], "1");

    let (s, h2, _) = e.call(Method::GET, &loc, None).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert!(h2.contains_key("location"));
    let (s, _, got) = e.call(Method::GET, &url, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(got["properties"]["provisioningState"], "Creating");

    tokio::time::sleep(Duration::from_millis(600)).await;
    let (s, _, a) = e.call(Method::GET, &loc, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(a["name"], "stapimfn01");
    assert_eq!(a["type"], "Microsoft.Storage/storageAccounts");
    assert_eq!(a["location"], "japaneast");
    assert_eq!(a["kind"], "StorageV2");
    assert_eq!(
        a["sku"],
        json!({"name": "Standard_LRS", "tier": "Standard"})
    );
    let p = &a["properties"];
    assert_eq!(p["provisioningState"], "Succeeded");
    assert_eq!(
        p["primaryEndpoints"]["blob"],
        "https://stapimfn01.blob.core.windows.net/"
    );
    assert_eq!(
        p["primaryEndpoints"]["dfs"],
        "https://stapimfn01.dfs.core.windows.net/"
    );
    assert_eq!(p["primaryLocation"], "japaneast");
    assert_eq!(p["statusOfPrimary"], "available");
    assert_eq!(p["allowSharedKeyAccess"], false);
    assert_eq!(p["minimumTlsVersion"], "TLS1_2");
    assert!(p["creationTime"].is_string());
    assert!(a.get("_keys").is_none(), "no bookkeeping fields in answers");

    // Same settings again: synchronous 200.
    let (s, _, again) = e.call(Method::PUT, &url, Some(body)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(again["properties"]["provisioningState"], "Succeeded");

    // Listed in the group and the subscription.
    let (_, _, list) = e
        .call(
            Method::GET,
            &format!(
                "{}/providers/Microsoft.Storage/storageAccounts?api-version=2025-08-01",
                e.rg("rg1")
            ),
            None,
        )
        .await;
    assert_eq!(list["value"].as_array().map(Vec::len), Some(1));

    // Delete: 200, then 204; GET 404 ResourceNotFound.
    let (s, _, _) = e.call(Method::DELETE, &url, None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = e.call(Method::DELETE, &url, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _, err) = e.call(Method::GET, &url, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(err["error"]["code"], "ResourceNotFound");
    e.em.shutdown().await;
}

#[tokio::test]
async fn storage_names_are_checked_and_global() {
    let e = env(0.0001).await;
    e.group("rg1").await;
    e.group("rg2").await;
    let check = format!(
        "/subscriptions/{}/providers/Microsoft.Storage/checkNameAvailability?api-version=2025-08-01",
        e.sub
    );
    let ask = |n: &str| json!({"name": n, "type": "Microsoft.Storage/storageAccounts"});
    let (s, _, r) = e.call(Method::POST, &check, Some(ask("Bad-Name"))).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(r["nameAvailable"], false);
    assert_eq!(r["reason"], "AccountNameInvalid");
    assert_eq!(
        r["message"],
        "Bad-Name is not a valid storage account name. Storage account name must be between 3 and 24 characters in length and use numbers and lower-case letters only."
    );
    let (_, _, r) = e.call(Method::POST, &check, Some(ask("stfree01"))).await;
    assert_eq!(r["nameAvailable"], true);

    // PUT with an invalid name.
    let (s, _, r) = e
        .call(
            Method::PUT,
            &format!("{}?api-version=2025-08-01", e.account("rg1", "ab")),
            Some(json!({"location": "japaneast", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(r["error"]["code"], "AccountNameInvalid");

    e.storage("rg1", "sttaken01").await;
    let (_, _, r) = e.call(Method::POST, &check, Some(ask("sttaken01"))).await;
    assert_eq!(r["nameAvailable"], false);
    assert_eq!(r["reason"], "AlreadyExists");
    assert_eq!(
        r["message"],
        "The storage account named sttaken01 is already taken."
    );
    // Same subscription, another group.
    let body =
        json!({"location": "japaneast", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}});
    let (s, _, r) = e
        .call(
            Method::PUT,
            &format!("{}?api-version=2025-08-01", e.account("rg2", "sttaken01")),
            Some(body.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(r["error"]["code"], "StorageAccountInAnotherResourceGroup");

    // Taken by somebody else's subscription.
    {
        let mut w = e.em.emulator.world();
        let id = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/x/providers/Microsoft.Storage/storageAccounts/stsomeoneelse";
        w.resources.insert(
            id.to_ascii_lowercase(),
            json!({"id": id, "name": "stsomeoneelse", "type": "Microsoft.Storage/storageAccounts"}),
        );
    }
    let (s, _, r) = e
        .call(
            Method::PUT,
            &format!(
                "{}?api-version=2025-08-01",
                e.account("rg1", "stsomeoneelse")
            ),
            Some(body.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(r["error"]["code"], "StorageAccountAlreadyTaken");
    assert_eq!(
        r["error"]["message"],
        "The storage account named stsomeoneelse is already taken."
    );

    // Missing group.
    let (s, _, r) = e
        .call(
            Method::PUT,
            &format!(
                "{}?api-version=2025-08-01",
                e.account("nogroup", "stnew0001")
            ),
            Some(body),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(r["error"]["code"], "ResourceGroupNotFound");
    e.em.shutdown().await;
}

#[tokio::test]
async fn list_keys_and_containers() {
    let e = env(0.0001).await;
    e.group("rg1").await;
    e.storage("rg1", "stkeys01").await;
    let acct = e.account("rg1", "stkeys01");
    let (s, _, k) = e
        .call(
            Method::POST,
            &format!("{acct}/listKeys?api-version=2025-08-01"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let keys = k["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0]["keyName"], "key1");
    assert_eq!(keys[1]["keyName"], "key2");
    assert_eq!(keys[0]["permissions"], "FULL");
    assert_eq!(keys[0]["value"].as_str().map(str::len), Some(88));
    assert_ne!(keys[0]["value"], keys[1]["value"]);
    // Stable across calls.
    let (_, _, k2) = e
        .call(
            Method::POST,
            &format!("{acct}/listKeys?api-version=2025-08-01"),
            None,
        )
        .await;
    assert_eq!(k, k2);

    let container = format!(
        "{acct}/blobServices/default/containers/app-package-x-1234567?api-version=2025-08-01"
    );
    let (s, _, c) = e.call(Method::PUT, &container, Some(json!({}))).await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    assert_eq!(c["name"], "app-package-x-1234567");
    assert_eq!(
        c["type"],
        "Microsoft.Storage/storageAccounts/blobServices/containers"
    );
    assert!(
        c["id"].as_str().is_some_and(
            |id| id.ends_with("/blobServices/default/containers/app-package-x-1234567")
        )
    );
    let (s, _, c) = e
        .call(
            Method::PUT,
            &container,
            Some(json!({"properties": {"publicAccess": "None"}})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(c["properties"]["publicAccess"], "None");
    let (s, _, _) = e.call(Method::GET, &container, None).await;
    assert_eq!(s, StatusCode::OK);
    let (_, _, list) = e
        .call(
            Method::GET,
            &format!("{acct}/blobServices/default/containers?api-version=2025-08-01"),
            None,
        )
        .await;
    assert_eq!(list["value"].as_array().map(Vec::len), Some(1));

    // Public access on an account that forbids it.
    let (s, _, r) = e
        .call(
            Method::PUT,
            &format!("{acct}/blobServices/default/containers/pub?api-version=2025-08-01"),
            Some(json!({"properties": {"publicAccess": "Blob"}})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(r["error"]["code"], "PublicAccessNotPermitted");
    // Bad container name.
    let (s, _, r) = e
        .call(
            Method::PUT,
            &format!("{acct}/blobServices/default/containers/Bad_Name?api-version=2025-08-01"),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(r["error"]["code"], "ContainerOperationFailure");
    // Missing parent account.
    let (s, _, r) = e
        .call(
            Method::PUT,
            &format!(
                "{}/blobServices/default/containers/abc?api-version=2025-08-01",
                e.account("rg1", "stmissing")
            ),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(r["error"]["code"], "ParentResourceNotFound");

    let (s, _, _) = e.call(Method::DELETE, &container, None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, r) = e.call(Method::GET, &container, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(r["error"]["code"], "ContainerNotFound");
    e.em.shutdown().await;
}

#[tokio::test]
async fn role_definitions_by_id_and_by_name() {
    let e = env(0.0001).await;
    let (s, _, d) = e
        .call(
            Method::GET,
            &format!(
                "{}/providers/Microsoft.Authorization/roleDefinitions/{SBDO}?api-version=2022-04-01",
                e.rg("anyscope")
            ),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        d["id"],
        format!(
            "/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{SBDO}",
            e.sub
        )
    );
    assert_eq!(d["type"], "Microsoft.Authorization/roleDefinitions");
    assert_eq!(d["properties"]["roleName"], "Storage Blob Data Owner");
    assert_eq!(d["properties"]["type"], "BuiltInRole");
    assert_eq!(d["properties"]["assignableScopes"], json!(["/"]));
    assert!(
        d["properties"]["permissions"][0]["dataActions"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );

    let (s, _, l) = e
        .call(
            Method::GET,
            &format!(
                "/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01&$filter=roleName%20eq%20'Storage%20Blob%20Data%20Contributor'",
                e.sub
            ),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let v = l["value"].as_array().expect("value");
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["name"], "ba92f5b4-2d11-453d-a403-e96b0029c9fe");

    let (s, _, r) = e
        .call(
            Method::GET,
            &format!(
                "/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/00000000-0000-0000-0000-000000000000?api-version=2022-04-01",
                e.sub
            ),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(r["error"]["code"], "RoleDefinitionDoesNotExist");
    e.em.shutdown().await;
}

#[tokio::test]
async fn role_assignments_follow_arm_rules() {
    let e = env(0.0001).await;
    e.group("rg1").await;
    e.storage("rg1", "stroles01").await;
    let scope = e.account("rg1", "stroles01");
    let ra = |name: &str| {
        format!(
            "{scope}/providers/Microsoft.Authorization/roleAssignments/{name}?api-version=2022-04-01"
        )
    };
    let def = format!(
        "/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{SBDO}",
        e.sub
    );
    let unknown = uuid::Uuid::new_v4().to_string();
    let first = uuid::Uuid::new_v4().to_string();

    // An unknown principal without principalType.
    let (s, _, r) = e
        .call(
            Method::PUT,
            &ra(&first),
            Some(json!({"properties": {"roleDefinitionId": def, "principalId": unknown}})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(r["error"]["code"], "PrincipalNotFound");
    let tid = e.em.ready.tenant_id.clone();
    let msg = r["error"]["message"].as_str().unwrap_or_default();
    assert!(
        msg.starts_with(&format!(
            "Principal {} does not exist in the directory {tid}.",
            unknown.replace('-', "")
        )),
        "{msg}"
    );

    // With principalType: accepted.
    let body = json!({"properties": {"roleDefinitionId": def, "principalId": unknown, "principalType": "ServicePrincipal"}});
    let (s, _, a) = e.call(Method::PUT, &ra(&first), Some(body.clone())).await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    assert_eq!(a["name"], first);
    assert_eq!(a["type"], "Microsoft.Authorization/roleAssignments");
    assert_eq!(
        a["id"],
        format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{first}")
    );
    let p = &a["properties"];
    assert_eq!(p["roleDefinitionId"], def);
    assert_eq!(p["principalId"], unknown);
    assert_eq!(p["principalType"], "ServicePrincipal");
    assert_eq!(p["scope"], scope);
    assert_eq!(p["condition"], Value::Null);
    assert!(p["createdOn"].is_string());
    assert!(a.get("_createdMs").is_none(), "no bookkeeping fields");

    // Identical again under the same name: 200.
    let (s, _, _) = e.call(Method::PUT, &ra(&first), Some(body.clone())).await;
    assert_eq!(s, StatusCode::OK);
    // Under another name: 409 RoleAssignmentExists.
    let (s, _, r) = e
        .call(
            Method::PUT,
            &ra(&uuid::Uuid::new_v4().to_string()),
            Some(body.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(r["error"]["code"], "RoleAssignmentExists");
    assert!(
        r["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("The role assignment already exists.")
                && m.contains(&first.replace('-', "")))
    );
    // Not a GUID.
    let (s, _, r) = e
        .call(Method::PUT, &ra("not-a-guid"), Some(body.clone()))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(r["error"]["code"], "InvalidRoleAssignmentId");
    // Unknown role.
    let (s, _, r) = e
        .call(
            Method::PUT,
            &ra(&uuid::Uuid::new_v4().to_string()),
            Some(json!({"properties": {"roleDefinitionId": format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{}", e.sub, uuid::Uuid::new_v4()), "principalId": unknown, "principalType": "ServicePrincipal"}})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(r["error"]["code"], "RoleDefinitionDoesNotExist");
    // A scope that does not exist.
    let (s, _, r) = e
        .call(
            Method::PUT,
            &format!(
                "{}/providers/Microsoft.Authorization/roleAssignments/{}?api-version=2022-04-01",
                e.account("rg1", "stnothere"),
                uuid::Uuid::new_v4()
            ),
            Some(body.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(r["error"]["code"], "ResourceNotFound");

    // The seeded principal is a known service principal: no principalType needed.
    let seeded = e.em.emulator.world().seed.object_id.clone();
    let (s, _, r) = e
        .call(
            Method::PUT,
            &ra(&uuid::Uuid::new_v4().to_string()),
            Some(json!({"properties": {"roleDefinitionId": def, "principalId": seeded}})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");

    // List for the scope, filtered by principal.
    let (s, _, l) = e
        .call(
            Method::GET,
            &format!(
                "{scope}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter=principalId%20eq%20'{unknown}'"
            ),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let v = l["value"].as_array().expect("value");
    assert_eq!(v.len(), 1, "{l}");
    assert_eq!(v[0]["name"], first);
    // atScope() at the storage account includes the subscription-level seed assignment.
    let (_, _, l) = e
        .call(
            Method::GET,
            &format!(
                "{scope}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter=atScope()"
            ),
            None,
        )
        .await;
    assert_eq!(l["value"].as_array().map(Vec::len), Some(3), "{l}");

    // The data-plane check reads the creation time.
    let created = apimfn_emulator::arm::rbac::assignments(&e.em.emulator.world())
        .into_iter()
        .find(|a| a.principal_id == unknown)
        .map(|a| a.created_ms)
        .unwrap_or(0);
    assert!(created > 0);

    // DELETE: 200 with the body, then 204.
    let (s, _, d) = e.call(Method::DELETE, &ra(&first), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(d["name"], first);
    let (s, _, _) = e.call(Method::DELETE, &ra(&first), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _, r) = e.call(Method::GET, &ra(&first), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(r["error"]["code"], "RoleAssignmentNotFound");
    e.em.shutdown().await;
}

#[tokio::test]
async fn contributor_cannot_assign_roles_but_user_access_administrator_can() {
    let e = env(0.0001).await;
    e.group("rg1").await;
    let contributor = uuid::Uuid::new_v4().to_string();
    let uaa = uuid::Uuid::new_v4().to_string();
    let sub_scope = format!("/subscriptions/{}", e.sub);
    for (who, role) in [
        (&contributor, "b24988ac-6180-42a0-ab88-20f7382dd24c"),
        (&uaa, "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"),
    ] {
        let (s, _, r) = e
            .call(
                Method::PUT,
                &format!(
                    "{sub_scope}/providers/Microsoft.Authorization/roleAssignments/{}?api-version=2022-04-01",
                    uuid::Uuid::new_v4()
                ),
                Some(json!({"properties": {
                    "roleDefinitionId": format!("{sub_scope}/providers/Microsoft.Authorization/roleDefinitions/{role}"),
                    "principalId": who, "principalType": "ServicePrincipal"}})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
    }
    let target = uuid::Uuid::new_v4().to_string();
    let body = json!({"properties": {
        "roleDefinitionId": format!("{sub_scope}/providers/Microsoft.Authorization/roleDefinitions/{SBDO}"),
        "principalId": target, "principalType": "ServicePrincipal"}});
    let path = format!(
        "{}/providers/Microsoft.Authorization/roleAssignments/{}?api-version=2022-04-01",
        e.rg("rg1"),
        uuid::Uuid::new_v4()
    );
    let ctoken = token(&e.em, &contributor);
    // Contributor can write resources …
    let (s, _, _) = e
        .call_as(
            &ctoken,
            Method::PUT,
            &format!("{}?api-version=2025-04-01", e.rg("rg2")),
            Some(json!({"location": "japaneast"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    // … but not role assignments.
    let (s, _, r) = e
        .call_as(&ctoken, Method::PUT, &path, Some(body.clone()))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(r["error"]["code"], "AuthorizationFailed");
    assert!(
        r["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("'Microsoft.Authorization/roleAssignments/write'"))
    );
    // User Access Administrator can.
    let (s, _, r) = e
        .call_as(&token(&e.em, &uaa), Method::PUT, &path, Some(body))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    e.em.shutdown().await;
}
