//! Microsoft.Web through the emulator's HTTPS front door: catalogues, Flex plans and sites, their
//! validation errors in App Service's PascalCase shape, app settings, Easy Auth, keys, functions.

mod common;

use apimfn_emulator::Running;
use serde_json::{Value, json};

const V: &str = "api-version=2025-05-01";

struct Ctx {
    em: Running,
    c: reqwest::Client,
    token: String,
    sub: String,
}

impl Ctx {
    async fn new() -> Ctx {
        let em = common::start().await;
        let c = common::client(&em);
        let token = common::arm_token(&em).await;
        let seed = em.emulator.world().seed.clone();
        Ctx {
            em,
            c,
            token,
            sub: seed.subscription_id,
        }
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value, reqwest::header::HeaderMap) {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = if path.contains("api-version=") {
            format!("https://management.azure.com{path}")
        } else {
            format!("https://management.azure.com{path}{sep}{V}")
        };
        let mut r = self
            .c
            .request(method.parse().expect("method"), url)
            .bearer_auth(&self.token);
        if let Some(b) = body {
            r = r.json(&b);
        } else if method == "POST" {
            r = r.header("content-length", "0");
        }
        let resp = r.send().await.expect("send");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("text");
        let v = serde_json::from_str(&text).unwrap_or(Value::Null);
        (status, v, headers)
    }

    fn rg(&self) -> String {
        format!("/subscriptions/{}/resourceGroups/rg1", self.sub)
    }

    fn web(&self, rest: &str) -> String {
        format!("{}/providers/Microsoft.Web/{rest}", self.rg())
    }

    async fn group(&self) {
        let (s, _, _) = self
            .call(
                "PUT",
                &format!("{}?api-version=2025-04-01", self.rg()),
                Some(json!({"location": "japaneast"})),
            )
            .await;
        assert_eq!(s, 201);
    }

    async fn plan(&self, name: &str) -> Value {
        let (s, b, _) = self
            .call(
                "PUT",
                &self.web(&format!("serverfarms/{name}")),
                Some(json!({"location": "japaneast", "kind": "functionapp",
                    "sku": {"name": "FC1", "tier": "FlexConsumption", "size": "FC", "family": "FC"},
                    "properties": {"reserved": true}})),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        b
    }
}

fn site_body(sub: &str, plan: &str) -> Value {
    json!({
        "location": "japaneast",
        "kind": "functionapp,linux",
        "identity": {"type": "SystemAssigned"},
        "properties": {
            "serverFarmId": format!("/subscriptions/{sub}/resourceGroups/rg1/providers/Microsoft.Web/serverfarms/{plan}"),
            "httpsOnly": true,
            "functionAppConfig": {
                "deployment": {"storage": {"type": "blobContainer",
                    "value": "https://st1.blob.core.windows.net/app-package",
                    "authentication": {"type": "SystemAssignedIdentity"}}},
                "runtime": {"name": "python", "version": "3.12"},
                "scaleAndConcurrency": {"instanceMemoryMB": 2048, "maximumInstanceCount": 100}
            },
            "siteConfig": {"appSettings": [{"name": "AzureWebJobsStorage__accountName", "value": "st1"}]}
        }
    })
}

/// A change to a valid site body.
type Mutation = Box<dyn Fn(&mut Value)>;

fn assert_app_service_error(status: u16, body: &Value, want_status: u16, code: &str, needle: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["Code"], code, "{body}");
    let msg = body["Message"].as_str().expect("Message");
    assert!(msg.contains(needle), "{msg} should contain {needle}");
    assert!(body["Details"].is_array(), "{body}");
    assert!(body.get("error").is_none());
}

#[tokio::test]
async fn catalogues_list_flex_regions_and_python_runtimes() {
    let t = Ctx::new().await;
    let (s, b, _) = t
        .call(
            "GET",
            &format!(
                "/subscriptions/{}/providers/Microsoft.Web/geoRegions?sku=FlexConsumption",
                t.sub
            ),
            None,
        )
        .await;
    assert_eq!(s, 200);
    let names: Vec<&str> = b["value"]
        .as_array()
        .expect("value")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert!(names.contains(&"Japan East"), "{names:?}");
    assert!(!names.contains(&"Japan West"), "{names:?}");
    let je = b["value"]
        .as_array()
        .expect("v")
        .iter()
        .find(|r| r["name"] == "Japan East")
        .expect("je");
    assert_eq!(je["type"], "Microsoft.Web/geoRegions");
    assert_eq!(je["properties"]["displayName"], "Japan East");
    assert!(
        je["properties"]["orgDomain"]
            .as_str()
            .expect("org")
            .contains("FLEXCONSUMPTION")
    );
    let (_, all, _) = t
        .call(
            "GET",
            &format!(
                "/subscriptions/{}/providers/Microsoft.Web/geoRegions?sku=Dynamic",
                t.sub
            ),
            None,
        )
        .await;
    assert!(
        all["value"]
            .as_array()
            .expect("v")
            .iter()
            .any(|r| r["name"] == "Japan West")
    );

    let (s, b, _) = t
        .call("GET", "/providers/Microsoft.Web/locations/japaneast/functionAppStacks?api-version=2020-10-01&stack=python&removeHiddenStacks=true", None)
        .await;
    assert_eq!(s, 200, "{b}");
    let stacks = b["value"].as_array().expect("value");
    assert_eq!(stacks.len(), 1);
    assert_eq!(stacks[0]["name"], "python");
    let minors = stacks[0]["properties"]["majorVersions"][0]["minorVersions"]
        .as_array()
        .expect("minors");
    let m312 = minors.iter().find(|m| m["value"] == "3.12").expect("3.12");
    let sku = &m312["stackSettings"]["linuxRuntimeSettings"]["Sku"][0];
    assert_eq!(sku["skuCode"], "FC1");
    let sizes: Vec<i64> = sku["instanceMemoryMB"]
        .as_array()
        .expect("mem")
        .iter()
        .filter_map(|m| m["size"].as_i64())
        .collect();
    assert_eq!(sizes, vec![512, 2048, 4096]);
    assert_eq!(sku["instanceMemoryMB"][1]["isDefault"], true);
    assert_eq!(sku["maximumInstanceCount"]["defaultValue"], 100);
    assert_eq!(
        sku["functionAppConfigProperties"]["runtime"],
        json!({"name": "python", "version": "3.12"})
    );
    t.em.shutdown().await;
}

#[tokio::test]
async fn flex_plan_and_site_with_identity_and_scm_host() {
    let t = Ctx::new().await;
    t.group().await;
    let plan = t.plan("plan1").await;
    assert_eq!(plan["sku"]["name"], "FC1");
    assert_eq!(plan["sku"]["tier"], "FlexConsumption");
    assert_eq!(plan["location"], "Japan East");
    assert_eq!(plan["properties"]["reserved"], true);
    assert_eq!(plan["kind"], "functionapp");

    // A Flex plan outside the Flex regions is refused.
    let (s, b, _) = t
        .call(
            "PUT",
            &t.web("serverfarms/planw"),
            Some(
                json!({"location": "japanwest", "sku": {"name": "FC1", "tier": "FlexConsumption"}}),
            ),
        )
        .await;
    assert_app_service_error(s, &b, 400, "BadRequest", "Japan West");

    let site_path = t.web("sites/fn-one");
    let (s, b, h) = t
        .call("PUT", &site_path, Some(site_body(&t.sub, "plan1")))
        .await;
    assert_eq!(s, 202, "{b}");
    let op_url = h
        .get("azure-asyncoperation")
        .and_then(|v| v.to_str().ok())
        .expect("Azure-AsyncOperation")
        .to_string();
    assert!(op_url.starts_with(&format!("https://management.azure.com/subscriptions/{}/providers/Microsoft.Web/sites/fn-one/operationResults/", t.sub)), "{op_url}");
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let op_path = op_url.trim_start_matches("https://management.azure.com");
    let (s, op, _) = t.call("GET", op_path, None).await;
    assert_eq!(s, 200);
    assert_eq!(op["status"], "Succeeded", "{op}");

    let (s, site, _) = t.call("GET", &site_path, None).await;
    assert_eq!(s, 200);
    assert_eq!(site["type"], "Microsoft.Web/sites");
    assert_eq!(site["kind"], "functionapp,linux");
    assert_eq!(site["location"], "Japan East");
    let p = &site["properties"];
    assert_eq!(p["state"], "Running");
    assert_eq!(p["defaultHostName"], "fn-one.azurewebsites.net");
    assert_eq!(p["sku"], "FlexConsumption");
    assert_eq!(p["httpsOnly"], true);
    assert_eq!(p["siteConfig"]["appSettings"], Value::Null);
    assert_eq!(p["functionAppConfig"]["runtime"]["version"], "3.12");
    let ssl = p["hostNameSslStates"].as_array().expect("ssl");
    assert!(
        ssl.iter()
            .any(|x| x["name"] == "fn-one.azurewebsites.net" && x["hostType"] == "Standard")
    );
    assert!(
        ssl.iter()
            .any(|x| x["name"] == "fn-one.scm.azurewebsites.net" && x["hostType"] == "Repository")
    );
    let principal = site["identity"]["principalId"]
        .as_str()
        .expect("principalId")
        .to_string();
    assert_eq!(site["identity"]["type"], "SystemAssigned");
    assert!(
        apimfn_emulator::directory::sp_by_object_id(&t.em.emulator.world(), &principal).is_some()
    );

    // Replacing it answers 200 and keeps the identity.
    let (s, again, _) = t
        .call("PUT", &site_path, Some(site_body(&t.sub, "plan1")))
        .await;
    assert_eq!(s, 200);
    assert_eq!(again["identity"]["principalId"], principal.as_str());

    // Listed in the group; the plan counts it.
    let (_, list, _) = t.call("GET", &t.web("sites"), None).await;
    assert_eq!(list["value"].as_array().map(Vec::len), Some(1));
    let (_, plan, _) = t.call("GET", &t.web("serverfarms/plan1"), None).await;
    assert_eq!(plan["properties"]["numberOfSites"], 1);

    // A second app on the same Flex plan is refused; the plan cannot go while the app is there.
    let (s, b, _) = t
        .call(
            "PUT",
            &t.web("sites/fn-two"),
            Some(site_body(&t.sub, "plan1")),
        )
        .await;
    assert_app_service_error(
        s,
        &b,
        400,
        "BadRequest",
        "Only one app is allowed per Flex Consumption plan",
    );
    let (s, b, _) = t.call("DELETE", &t.web("serverfarms/plan1"), None).await;
    assert_app_service_error(s, &b, 409, "Conflict", "fn-one");

    // Names are global: another group cannot take it.
    t.call(
        "PUT",
        &format!(
            "/subscriptions/{}/resourceGroups/rg2?api-version=2025-04-01",
            t.sub
        ),
        Some(json!({"location": "japaneast"})),
    )
    .await;
    let (s, b, _) = t
        .call(
            "PUT",
            &format!(
                "/subscriptions/{}/resourceGroups/rg2/providers/Microsoft.Web/sites/FN-ONE",
                t.sub
            ),
            Some(site_body(&t.sub, "plan1")),
        )
        .await;
    assert_app_service_error(
        s,
        &b,
        409,
        "Conflict",
        "Website with given name FN-ONE already exists.",
    );

    // Delete removes the site and its identity.
    let (s, _, _) = t.call("DELETE", &site_path, None).await;
    assert_eq!(s, 200);
    let (s, b, _) = t.call("GET", &site_path, None).await;
    assert_app_service_error(
        s,
        &b,
        404,
        "NotFound",
        "Cannot find WebSite with name fn-one",
    );
    assert!(
        apimfn_emulator::directory::sp_by_object_id(&t.em.emulator.world(), &principal).is_none()
    );
    let (s, _, _) = t.call("DELETE", &t.web("serverfarms/plan1"), None).await;
    assert_eq!(s, 200);
    t.em.shutdown().await;
}

#[tokio::test]
async fn flex_site_validation_errors_use_the_app_service_shape() {
    let t = Ctx::new().await;
    t.group().await;
    t.plan("plan1").await;
    let path = t.web("sites/fn-bad");
    let cases: Vec<(Mutation, u16, &str, &str)> = vec![
        (
            Box::new(|b: &mut Value| {
                b["properties"]
                    .as_object_mut()
                    .map(|p| p.remove("functionAppConfig"));
            }),
            400,
            "BadRequest",
            "FunctionAppConfig is required",
        ),
        (
            Box::new(|b: &mut Value| {
                b["properties"]["functionAppConfig"]["runtime"]["version"] = json!("3.8")
            }),
            400,
            "BadRequest",
            "'python' with version '3.8' is not supported",
        ),
        (
            Box::new(|b: &mut Value| {
                b["properties"]["functionAppConfig"]["runtime"]["name"] = json!("cobol")
            }),
            400,
            "BadRequest",
            "'cobol'",
        ),
        (
            Box::new(|b: &mut Value| {
                b["properties"]["functionAppConfig"]["scaleAndConcurrency"]["instanceMemoryMB"] =
                    json!(1024)
            }),
            400,
            "BadRequest",
            "InstanceMemoryMB '1024'",
        ),
        (
            Box::new(|b: &mut Value| {
                b["properties"]["functionAppConfig"]["scaleAndConcurrency"]["maximumInstanceCount"] =
                    json!(5000)
            }),
            400,
            "BadRequest",
            "MaximumInstanceCount '5000'",
        ),
        (
            Box::new(|b: &mut Value| {
                b["properties"]["siteConfig"]["appSettings"] =
                    json!([{"name": "FUNCTIONS_WORKER_RUNTIME", "value": "python"}])
            }),
            400,
            "BadRequest",
            "The following app setting (Site.SiteConfig.AppSettings.FUNCTIONS_WORKER_RUNTIME) for Flex Consumption sites is invalid.",
        ),
        (
            Box::new(|b: &mut Value| {
                b["properties"]["siteConfig"]["appSettings"] =
                    json!([{"name": "WEBSITE_RUN_FROM_PACKAGE", "value": "1"}])
            }),
            400,
            "BadRequest",
            "WEBSITE_RUN_FROM_PACKAGE",
        ),
        (
            Box::new(|b: &mut Value| {
                b["properties"]["functionAppConfig"]["deployment"]["storage"]["type"] =
                    json!("fileShare")
            }),
            400,
            "BadRequest",
            "blobContainer",
        ),
        (
            Box::new(|b: &mut Value| {
                b["properties"]["functionAppConfig"]["deployment"]["storage"]["authentication"] =
                    json!({"type": "UserAssignedIdentity"})
            }),
            400,
            "BadRequest",
            "userAssignedIdentityResourceId",
        ),
        (
            Box::new(|b: &mut Value| {
                b["properties"]["functionAppConfig"]["deployment"]["storage"]["authentication"] =
                    json!({"type": "StorageAccountConnectionString"})
            }),
            400,
            "BadRequest",
            "storageAccountConnectionStringName",
        ),
        (
            Box::new(|b: &mut Value| {
                b["properties"]["functionAppConfig"]["deployment"]["storage"]["authentication"] =
                    json!({"type": "Anonymous"})
            }),
            400,
            "BadRequest",
            "'Anonymous' is invalid",
        ),
        (
            Box::new(|b: &mut Value| {
                b["properties"]["serverFarmId"] = json!(
                    b["properties"]["serverFarmId"]
                        .as_str()
                        .map(|s| s.replace("plan1", "nope"))
                )
            }),
            404,
            "NotFound",
            "Cannot find ServerFarm with name nope",
        ),
    ];
    for (mutate, status, code, needle) in cases {
        let mut body = site_body(&t.sub, "plan1");
        mutate(&mut body);
        let (s, b, _) = t.call("PUT", &path, Some(body)).await;
        assert_app_service_error(s, &b, status, code, needle);
    }
    // Nothing was created by the refused requests.
    let (s, _, _) = t.call("GET", &path, None).await;
    assert_eq!(s, 404);
    // The valid variants of the same knobs are accepted.
    let mut ok = site_body(&t.sub, "plan1");
    ok["properties"]["functionAppConfig"]["scaleAndConcurrency"]["instanceMemoryMB"] = json!(512);
    ok["properties"]["functionAppConfig"]["deployment"]["storage"]["authentication"] = json!({"type": "StorageAccountConnectionString", "storageAccountConnectionStringName": "DEPLOYMENT_STORAGE_CONNECTION_STRING"});
    let (s, b, _) = t.call("PUT", &path, Some(ok)).await;
    assert_eq!(s, 202, "{b}");
    assert_eq!(b["properties"]["containerSize"], 512);
    t.em.shutdown().await;
}

async fn with_site(t: &Ctx) -> String {
    t.group().await;
    t.plan("plan1").await;
    let path = t.web("sites/fn-one");
    let (s, _, _) = t.call("PUT", &path, Some(site_body(&t.sub, "plan1"))).await;
    assert_eq!(s, 202);
    path
}

#[tokio::test]
async fn app_settings_come_from_the_site_and_replace_whole() {
    let t = Ctx::new().await;
    let site = with_site(&t).await;
    let (s, b, _) = t
        .call("POST", &format!("{site}/config/appsettings/list"), None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(b["name"], "appsettings");
    assert_eq!(b["type"], "Microsoft.Web/sites/config");
    assert_eq!(
        b["properties"],
        json!({"AzureWebJobsStorage__accountName": "st1"})
    );

    let (s, b, _) = t
        .call(
            "PUT",
            &format!("{site}/config/appsettings"),
            Some(json!({"properties": {"A": "1", "B": "2"}})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(b["properties"], json!({"A": "1", "B": "2"}));
    let (_, b, _) = t
        .call("POST", &format!("{site}/config/appsettings/list"), None)
        .await;
    assert_eq!(b["properties"], json!({"A": "1", "B": "2"}));

    let (s, b, _) = t
        .call(
            "PUT",
            &format!("{site}/config/appsettings"),
            Some(json!({"properties": {"FUNCTIONS_EXTENSION_VERSION": "~4"}})),
        )
        .await;
    assert_app_service_error(s, &b, 400, "BadRequest", "FUNCTIONS_EXTENSION_VERSION");
    // Site GET never shows app settings.
    let (_, site_body, _) = t.call("GET", &site, None).await;
    assert_eq!(
        site_body["properties"]["siteConfig"]["appSettings"],
        Value::Null
    );
    t.em.shutdown().await;
}

#[tokio::test]
async fn authsettings_v2_fresh_put_get_list_and_whole_replace() {
    let t = Ctx::new().await;
    let site = with_site(&t).await;
    let auth = format!("{site}/config/authsettingsV2");
    let (s, fresh, _) = t.call("GET", &auth, None).await;
    assert_eq!(s, 200);
    assert_eq!(fresh["properties"], json!({"platform": {"enabled": false}}));
    assert_eq!(fresh["name"], "authsettingsV2");

    let full = json!({"properties": {
        "platform": {"enabled": true, "runtimeVersion": "~1"},
        "globalValidation": {"requireAuthentication": true, "unauthenticatedClientAction": "Return401", "excludedPaths": ["/api/health"]},
        "identityProviders": {"azureActiveDirectory": {"enabled": true,
            "registration": {"clientId": "11111111-1111-1111-1111-111111111111", "openIdIssuer": "https://sts.windows.net/t/"},
            "validation": {"allowedAudiences": ["api://11111111-1111-1111-1111-111111111111"],
                "defaultAuthorizationPolicy": {"allowedPrincipals": {"identities": ["22222222-2222-2222-2222-222222222222"]}}}}},
        "login": {"tokenStore": {"enabled": false}},
        "httpSettings": {"requireHttps": true, "routes": {"apiPrefix": "/.auth"}, "forwardProxy": {"convention": "NoProxy"}}
    }});
    let (s, put, _) = t.call("PUT", &auth, Some(full.clone())).await;
    assert_eq!(s, 200, "{put}");
    assert_eq!(put["properties"]["clearInboundClaimsMapping"], "false");
    let (_, got, _) = t.call("GET", &auth, None).await;
    assert_eq!(
        got["properties"]["identityProviders"],
        full["properties"]["identityProviders"]
    );
    // Read → modify → PUT of the whole answer (what az's authV2 extension does) is accepted,
    // `clearInboundClaimsMapping` included, as the string it was answered as or a boolean.
    let (s, b, _) = t
        .call("PUT", &auth, Some(json!({"properties": got["properties"]})))
        .await;
    assert_eq!(s, 200, "{b}");
    let mut as_bool = got["properties"].clone();
    as_bool["clearInboundClaimsMapping"] = json!(true);
    let (s, b, _) = t
        .call("PUT", &auth, Some(json!({"properties": as_bool})))
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["properties"]["clearInboundClaimsMapping"], "true");
    // GetAuthSettingsV2 is a GET on `/list`; a POST there is not an operation of the spec.
    let (s, _, _) = t.call("POST", &format!("{auth}/list"), None).await;
    assert_eq!(s, 404);
    let (s, listed, _) = t.call("GET", &format!("{auth}/list"), None).await;
    assert_eq!(s, 200);
    assert_eq!(
        listed["properties"]["globalValidation"]["unauthenticatedClientAction"],
        "Return401"
    );

    // Whole-object replace: a PUT without identityProviders drops them.
    let (s, _, _) = t
        .call(
            "PUT",
            &auth,
            Some(json!({"properties": {"platform": {"enabled": false}}})),
        )
        .await;
    assert_eq!(s, 200);
    let (_, got, _) = t.call("GET", &auth, None).await;
    assert!(
        got["properties"].get("identityProviders").is_none(),
        "{got}"
    );
    assert!(got["properties"].get("globalValidation").is_none(), "{got}");

    // Enum and type checks.
    let mut bad = full.clone();
    bad["properties"]["globalValidation"]["unauthenticatedClientAction"] = json!("Return402");
    let (s, b, _) = t.call("PUT", &auth, Some(bad)).await;
    assert_app_service_error(s, &b, 400, "BadRequest", "unauthenticatedClientAction");
    let mut bad = full.clone();
    bad["properties"]["platform"]["enabled"] = json!("yes");
    let (s, b, _) = t.call("PUT", &auth, Some(bad)).await;
    assert_app_service_error(s, &b, 400, "BadRequest", "properties.platform.enabled");
    t.em.shutdown().await;
}

#[tokio::test]
async fn host_keys_and_function_keys() {
    let t = Ctx::new().await;
    let site = with_site(&t).await;
    let (s, keys, _) = t
        .call("POST", &format!("{site}/host/default/listkeys"), None)
        .await;
    assert_eq!(s, 200);
    let master = keys["masterKey"].as_str().expect("masterKey").to_string();
    assert_eq!(master.len(), 56);
    assert!(keys["functionKeys"]["default"].is_string());
    assert_eq!(keys["systemKeys"], json!({}));
    // Stable across calls.
    let (_, again, _) = t
        .call("POST", &format!("{site}/host/default/listkeys"), None)
        .await;
    assert_eq!(again["masterKey"], master.as_str());

    let key_path = format!("{site}/host/default/functionKeys/apim-x");
    let (s, b, _) = t
        .call(
            "PUT",
            &key_path,
            Some(json!({"properties": {"name": "apim-x", "value": "keyvalue1-0123456789"}})),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["type"], "Microsoft.Web/sites/host/functionKeys");
    assert_eq!(b["name"], "apim-x");
    assert_eq!(b["location"], "Japan East");
    assert_eq!(
        b["properties"],
        json!({"name": "apim-x", "value": "keyvalue1-0123456789"})
    );
    let (s, b, _) = t
        .call(
            "PUT",
            &key_path,
            Some(json!({"properties": {"name": "apim-x"}})),
        )
        .await;
    assert_eq!(s, 200);
    let generated = b["properties"]["value"]
        .as_str()
        .expect("value")
        .to_string();
    assert_ne!(generated, "keyvalue1-0123456789");
    let (_, keys, _) = t
        .call("POST", &format!("{site}/host/default/listkeys"), None)
        .await;
    assert_eq!(keys["functionKeys"]["apim-x"], generated.as_str());

    // Without the properties wrapper: refused, nothing stored.
    let (s, b, _) = t
        .call(
            "PUT",
            &format!("{site}/host/default/functionKeys/flat"),
            Some(json!({"name": "flat", "value": "keyvalue1-0123456789"})),
        )
        .await;
    assert_app_service_error(s, &b, 400, "BadRequest", "properties");
    let (_, keys, _) = t
        .call("POST", &format!("{site}/host/default/listkeys"), None)
        .await;
    assert!(keys["functionKeys"].get("flat").is_none());

    let (s, _, _) = t.call("DELETE", &key_path, None).await;
    assert_eq!(s, 204);
    let (_, keys, _) = t
        .call("POST", &format!("{site}/host/default/listkeys"), None)
        .await;
    assert!(keys["functionKeys"].get("apim-x").is_none());
    t.em.shutdown().await;
}

#[tokio::test]
async fn functions_are_empty_until_deployed_then_read_from_the_world_table() {
    let t = Ctx::new().await;
    let site = with_site(&t).await;
    let (s, b, _) = t.call("GET", &format!("{site}/functions"), None).await;
    assert_eq!(s, 200);
    assert_eq!(b["value"], json!([]));
    let (s, _, _) = t
        .call("POST", &format!("{site}/syncfunctiontriggers"), None)
        .await;
    assert_eq!(s, 204);
    let (s, b, _) = t
        .call("GET", &format!("{site}/functions/hello"), None)
        .await;
    assert_app_service_error(s, &b, 404, "NotFound", "hello");

    // What the deployment emulation (issue 4) writes.
    let site_id = site.clone();
    {
        let mut w = t.em.emulator.world();
        let props = apimfn_emulator::arm::web::function_properties(
            &site_id,
            "fn-one.azurewebsites.net",
            "hello",
            json!([{"type": "httpTrigger", "direction": "in", "name": "req", "authLevel": "FUNCTION", "route": "hello", "methods": ["GET"]}]),
            Some("hello"),
        );
        w.table(apimfn_emulator::arm::web::FUNCTIONS_TABLE)
            .insert(site_id.to_ascii_lowercase(), json!({"hello": props}));
    }
    let (s, b, _) = t.call("GET", &format!("{site}/functions"), None).await;
    assert_eq!(s, 200);
    let f = &b["value"][0];
    assert_eq!(f["name"], "fn-one/hello");
    assert_eq!(f["type"], "Microsoft.Web/sites/functions");
    assert!(
        f["id"]
            .as_str()
            .expect("id")
            .ends_with("/sites/fn-one/functions/hello")
    );
    assert_eq!(
        f["properties"]["invoke_url_template"],
        "https://fn-one.azurewebsites.net/api/hello"
    );
    assert_eq!(
        f["properties"]["config"]["bindings"][0]["type"],
        "httpTrigger"
    );
    assert_eq!(f["properties"]["isDisabled"], false);
    let (s, _, _) = t
        .call("GET", &format!("{site}/functions/hello"), None)
        .await;
    assert_eq!(s, 200);

    // Function-scoped keys take the same wrapper.
    let (s, b, _) = t
        .call(
            "PUT",
            &format!("{site}/functions/hello/keys/k1"),
            Some(json!({"properties": {"name": "k1"}})),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, b, _) = t
        .call("POST", &format!("{site}/functions/hello/listkeys"), None)
        .await;
    assert_eq!(s, 200);
    assert!(b["k1"].is_string(), "{b}");

    // Deleting the site forgets its functions.
    t.call("DELETE", &site, None).await;
    assert!(
        t.em.emulator
            .world()
            .table(apimfn_emulator::arm::web::FUNCTIONS_TABLE)
            .is_empty()
    );
    t.em.shutdown().await;
}
