//! Strict request validation: unknown or mistyped properties in PUT/PATCH bodies → 400 naming
//! each path (strict mode), silently accepted otherwise (real ARM's behaviour).

mod common;

use apimfn_emulator::{Config, Running};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

struct Env {
    em: Running,
    c: reqwest::Client,
    token: String,
    sub: String,
}

async fn env(strict: bool) -> Env {
    let em = common::start_with(Config {
        time_scale: common::TIME_SCALE,
        strict,
        ..Config::default()
    })
    .await;
    let c = common::client(&em);
    let token = common::arm_token(&em).await;
    let sub = em.ready.subscription_id.clone();
    Env { em, c, token, sub }
}

impl Env {
    async fn send(&self, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .c
            .request(method, format!("https://management.azure.com{path}"))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .expect("send");
        let s = r.status();
        let text = r.text().await.expect("body");
        (s, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    fn rg(&self) -> String {
        format!("/subscriptions/{}/resourceGroups/rg1", self.sub)
    }
}

/// The paths a 400 names, from its `details`.
fn named(err: &Value) -> Vec<String> {
    err["error"]["details"]
        .as_array()
        .map(|d| {
            d.iter()
                .filter_map(|x| x["target"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn flex_site(runtime: Value) -> Value {
    json!({
        "location": "japaneast",
        "kind": "functionapp,linux",
        "identity": {"type": "SystemAssigned"},
        "properties": {
            "serverFarmId": "/subscriptions/s/resourceGroups/rg1/providers/Microsoft.Web/serverfarms/p",
            "httpsOnly": true,
            "functionAppConfig": {
                "deployment": {"storage": {"type": "blobContainer", "value": "https://st.blob.core.windows.net/c",
                                           "authentication": {"type": "SystemAssignedIdentity"}}},
                "runtime": runtime,
                "scaleAndConcurrency": {"instanceMemoryMB": 2048, "maximumInstanceCount": 100}
            },
            "siteConfig": {"appSettings": [{"name": "AzureWebJobsStorage__accountName", "value": "st"}]}
        }
    })
}

#[tokio::test]
async fn a_misspelt_function_app_config_property_is_rejected_by_path() {
    let e = env(true).await;
    let site = format!(
        "{}/providers/Microsoft.Web/sites/app1?api-version=2025-05-01",
        e.rg()
    );
    let (s, err) = e
        .send(
            Method::PUT,
            &site,
            flex_site(json!({"nmae": "python", "version": "3.12"})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(err["error"]["code"], "InvalidRequestContent");
    assert_eq!(
        named(&err),
        vec!["properties.functionAppConfig.runtime.nmae"]
    );
    let msg = err["error"]["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("Could not find member 'nmae' on object of type 'FunctionsRuntime'. Path 'properties.functionAppConfig.runtime.nmae'."),
        "{msg}"
    );
    e.em.shutdown().await;
}

#[tokio::test]
async fn every_unknown_or_mistyped_property_is_named_at_any_depth() {
    let e = env(true).await;
    let rg = e.rg();
    let cases: Vec<(String, Value, Vec<&str>)> = vec![
        (
            format!("{rg}?api-version=2025-04-01"),
            json!({"location": "japaneast", "tag": {"a": "b"}}),
            vec!["tag"],
        ),
        (
            format!("{rg}/providers/Microsoft.Web/sites/app1?api-version=2025-05-01"),
            {
                // A mistyped value on a site is App Service's own 400 (its shape; see
                // arm_web.rs), so this case holds unknown properties only.
                let mut b = flex_site(json!({"name": "python", "version": "3.12"}));
                b["properties"]["functionAppConfig"]["scaleAndConcurrency"]["instanceMemorySize"] =
                    json!(2048);
                b["properties"]["siteConfig"]["appSettings"][0]["vaule"] = json!("x");
                b["identity"]["typ"] = json!("SystemAssigned");
                b
            },
            vec![
                "identity.typ",
                "properties.functionAppConfig.scaleAndConcurrency.instanceMemorySize",
                "properties.siteConfig.appSettings[0].vaule",
            ],
        ),
        (
            format!("{rg}/providers/Microsoft.Storage/storageAccounts/st1?api-version=2025-08-01"),
            json!({"location": "japaneast", "kind": "StorageV2", "sku": {"name": "Standard_LRS", "size": "x"},
                   "properties": {"minimumTlsVersion": "TLS1_2", "allowBlobPublicAcess": false,
                                  "supportsHttpsTrafficOnly": "yes"}}),
            vec![
                "sku.size",
                "properties.allowBlobPublicAcess",
                "properties.supportsHttpsTrafficOnly",
            ],
        ),
        (
            format!(
                "{rg}/providers/Microsoft.ApiManagement/service/apim1/namedValues/nv1?api-version=2024-05-01"
            ),
            json!({"properties": {"displayName": "nv1", "value": "v", "secret": "true", "secrets": true}}),
            vec!["properties.secret", "properties.secrets"],
        ),
        (
            format!(
                "{rg}/providers/Microsoft.ApiManagement/service/apim1/backends/b1?api-version=2024-05-01"
            ),
            json!({"properties": {"url": "https://x", "protocol": "http",
                   "credentials": {"header": {"x-functions-key": ["{{k}}"]}, "headers": {}},
                   "tls": {"validateCertificateChian": true}}}),
            vec![
                "properties.credentials.headers",
                "properties.tls.validateCertificateChian",
            ],
        ),
        (
            format!(
                "{rg}/providers/Microsoft.Web/sites/app1/config/authsettingsV2?api-version=2025-05-01"
            ),
            json!({"properties": {"platform": {"enabled": true},
                   "globalValidation": {"requireAuthentication": true, "unauthenticatedClientAction": "Return401"},
                   "identityProviders": {"azureActiveDirectory": {"enabled": true,
                       "registration": {"openIdIssuer": "https://sts.windows.net/t/v2.0", "clientId": "c"},
                       "validation": {"allowedAudiences": ["api://x"],
                           "defaultAuthorizationPolicy": {"allowedPrincipals": {"identity": ["p"]}}}}}}}),
            vec![
                "properties.identityProviders.azureActiveDirectory.validation.defaultAuthorizationPolicy.allowedPrincipals.identity",
            ],
        ),
        (
            format!(
                "/subscriptions/{}/providers/Microsoft.Authorization/roleAssignments/{}?api-version=2022-04-01",
                e.sub,
                uuid::Uuid::new_v4()
            ),
            json!({"properties": {"roleDefinitionId": "x", "principalId": "y", "principalTyp": "ServicePrincipal"}}),
            vec!["properties.principalTyp"],
        ),
    ];
    for (path, body, want) in cases {
        let (s, err) = e.send(Method::PUT, &path, body).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{path}: {err}");
        assert_eq!(err["error"]["code"], "InvalidRequestContent", "{path}");
        assert_eq!(named(&err), want, "{path}");
        for p in want {
            assert!(
                err["error"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains(&format!("Path '{p}'"))),
                "{path}: {err}"
            );
        }
    }
    // PATCH is checked too.
    let (s, err) = e
        .send(
            Method::PATCH,
            &format!("{rg}?api-version=2025-04-01"),
            json!({"tags": {"a": "b"}, "managedby": 5}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(named(&err), vec!["managedby"]);
    e.em.shutdown().await;
}

#[tokio::test]
async fn read_only_properties_and_free_form_maps_are_accepted() {
    let e = env(true).await;
    let rg = e.rg();
    // Read-only fields as a GET would return them: ignored.
    let (s, g) = e
        .send(
            Method::PUT,
            &format!("{rg}?api-version=2025-04-01"),
            json!({"id": rg, "name": "rg1", "type": "Microsoft.Resources/resourceGroups",
                   "location": "japaneast", "tags": {"any": "thing", "n": "1"},
                   "properties": {"provisioningState": "Succeeded"}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{g}");
    // A storage account body with read-only properties and a read-only identity principalId.
    let (s, r) = e
        .send(
            Method::PUT,
            &format!("{rg}/providers/Microsoft.Storage/storageAccounts/stro01?api-version=2025-08-01"),
            json!({"id": "x", "name": "stro01", "type": "Microsoft.Storage/storageAccounts",
                   "location": "japaneast", "kind": "StorageV2", "sku": {"name": "Standard_LRS", "tier": "Standard"},
                   "identity": {"type": "None", "principalId": "p", "tenantId": "t"},
                   "properties": {"provisioningState": "Succeeded", "primaryEndpoints": {"blob": "https://x/"},
                                  "creationTime": "2020-01-01T00:00:00Z", "allowSharedKeyAccess": false}}),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{r}");
    // The schema alone (types the emulator routes elsewhere): site with read-only properties,
    // free-form app settings and role assignment read-only fields.
    let site = flex_site(json!({"name": "python", "version": "3.12"}));
    let mut site = site;
    site["properties"]["defaultHostName"] = json!("app1.azurewebsites.net");
    site["properties"]["sku"] = json!("FlexConsumption");
    site["systemData"] = json!({"createdBy": "x"});
    site["etag"] = json!("W/\"1\"");
    let (s, r) = e
        .send(
            Method::PUT,
            &format!("{rg}/providers/Microsoft.Web/sites/app1?api-version=2025-05-01"),
            site,
        )
        .await;
    assert_ne!(r["error"]["code"], "InvalidRequestContent", "{s}: {r}");
    let (s, r) = e
        .send(
            Method::PUT,
            &format!(
                "{rg}/providers/Microsoft.Web/sites/app1/config/appsettings?api-version=2025-05-01"
            ),
            json!({"properties": {"ANY_NAME": "v", "other": "w"}}),
        )
        .await;
    assert_ne!(r["error"]["code"], "InvalidRequestContent", "{s}: {r}");
    e.em.shutdown().await;
}

#[tokio::test]
async fn without_strict_mode_unknown_properties_are_silently_ignored() {
    let e = env(false).await;
    let rg = e.rg();
    let (s, g) = e
        .send(
            Method::PUT,
            &format!("{rg}?api-version=2025-04-01"),
            json!({"location": "japaneast", "tag": {"a": "b"}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{g}");
    assert!(g.get("tag").is_none(), "ignored, as ARM does: {g}");
    let (s, r) = e
        .send(
            Method::PUT,
            &format!(
                "{rg}/providers/Microsoft.Storage/storageAccounts/stlax01?api-version=2025-08-01"
            ),
            json!({"location": "japaneast", "kind": "StorageV2", "sku": {"name": "Standard_LRS"},
                   "properties": {"allowBlobPublicAcess": false}}),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{r}");
    let r = e
        .c
        .get(format!(
            "https://management.azure.com{rg}/providers/Microsoft.Storage/storageAccounts/stlax01?api-version=2025-08-01"
        ))
        .bearer_auth(&e.token)
        .send()
        .await
        .expect("get");
    let a: Value = r.json().await.expect("json");
    assert!(
        a["properties"].get("allowBlobPublicAcess").is_none(),
        "the misspelt property is dropped: {a}"
    );
    assert_eq!(a["properties"]["allowBlobPublicAccess"], false);
    e.em.shutdown().await;
}
