//! Zip deploy on the SCM host with remote build, through the emulator's HTTPS front door with
//! plain HTTP calls: the repository's `templates/function` is zipped here, published to
//! `{app}.scm.azurewebsites.net/api/publish?RemoteBuild=true`, built with the machine's python3
//! (venv + pip install of the real `azure-functions`), indexed, and listed through ARM.
//!
//! The first build of a requirements set creates a venv and runs pip (~10 s, needs PyPI); later
//! builds reuse `{tmp}/apimfn-emulator-envs/{sha256}` (temporary state dirs share that cache;
//! `APIMFN_EMULATOR_ENV_CACHE` overrides it).

mod common;

use apimfn_emulator::Running;
use serde_json::{Value, json};
use std::io::Write;
use std::time::{Duration, Instant};

const SBDO: &str = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b";
const ACCOUNT: &str = "stdeploy01";

struct Env {
    em: Running,
    c: reqwest::Client,
    token: String,
    sub: String,
    app: String,
}

impl Env {
    async fn arm(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value, String) {
        let mut r = self
            .c
            .request(
                method.parse().expect("method"),
                format!("https://management.azure.com{path}"),
            )
            .bearer_auth(&self.token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.expect("send");
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let text = resp.text().await.expect("text");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::Null),
            location,
        )
    }

    fn rg(&self) -> String {
        format!("/subscriptions/{}/resourceGroups/rg-deploy", self.sub)
    }

    fn account_id(&self) -> String {
        format!(
            "{}/providers/Microsoft.Storage/storageAccounts/{ACCOUNT}",
            self.rg()
        )
    }

    fn site_id(&self) -> String {
        format!("{}/providers/Microsoft.Web/sites/{}", self.rg(), self.app)
    }

    fn scm(&self, path: &str) -> String {
        format!("https://{}.scm.azurewebsites.net{path}", self.app)
    }

    /// Group, storage account with the deployment container, Flex plan, and a site with a
    /// system-assigned identity whose deployment storage is that container.
    async fn new(app: &str) -> Env {
        let em = common::start().await;
        let scm = format!("{app}.scm.azurewebsites.net");
        let c = common::client_with(&em, &[scm.as_str()]);
        let token = common::arm_token(&em).await;
        let sub = em.ready.subscription_id.clone();
        let e = Env {
            em,
            c,
            token,
            sub,
            app: app.to_string(),
        };
        let (s, b, _) = e
            .arm(
                "PUT",
                &format!("{}?api-version=2025-04-01", e.rg()),
                Some(json!({"location": "japaneast"})),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        let (s, b, loc) = e
            .arm(
                "PUT",
                &format!("{}?api-version=2025-08-01", e.account_id()),
                Some(json!({"location": "japaneast", "kind": "StorageV2",
                            "sku": {"name": "Standard_LRS"},
                            "properties": {"allowSharedKeyAccess": false}})),
            )
            .await;
        assert_eq!(s, 202, "{b}");
        let loc = loc
            .trim_start_matches("https://management.azure.com")
            .to_string();
        let mut done = false;
        for _ in 0..200 {
            if e.arm("GET", &loc, None).await.0 == 200 {
                done = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(done, "storage account never finished");
        let (s, b, _) = e
            .arm(
                "PUT",
                &format!(
                    "{}/blobServices/default/containers/app-package?api-version=2025-08-01",
                    e.account_id()
                ),
                Some(json!({})),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        let plan = format!("{}/providers/Microsoft.Web/serverfarms/plan-deploy", e.rg());
        let (s, b, _) = e
            .arm(
                "PUT",
                &format!("{plan}?api-version=2025-05-01"),
                Some(json!({"location": "japaneast", "kind": "functionapp",
                    "sku": {"name": "FC1", "tier": "FlexConsumption"},
                    "properties": {"reserved": true}})),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        let (s, b, _) = e
            .arm(
                "PUT",
                &format!("{}?api-version=2025-05-01", e.site_id()),
                Some(json!({
                    "location": "japaneast",
                    "kind": "functionapp,linux",
                    "identity": {"type": "SystemAssigned"},
                    "properties": {
                        "serverFarmId": plan,
                        "functionAppConfig": {
                            "deployment": {"storage": {"type": "blobContainer",
                                "value": format!("https://{ACCOUNT}.blob.core.windows.net/app-package"),
                                "authentication": {"type": "SystemAssignedIdentity"}}},
                            "runtime": {"name": "python", "version": "3.12"},
                            "scaleAndConcurrency": {"instanceMemoryMB": 2048, "maximumInstanceCount": 100}
                        }
                    }
                })),
            )
            .await;
        assert!(s == 200 || s == 202, "{s} {b}");
        e
    }

    async fn principal(&self) -> String {
        let (s, site, _) = self
            .arm(
                "GET",
                &format!("{}?api-version=2025-05-01", self.site_id()),
                None,
            )
            .await;
        assert_eq!(s, 200, "{site}");
        site["identity"]["principalId"]
            .as_str()
            .expect("principalId")
            .to_string()
    }

    /// Storage Blob Data Owner on the account for the site's identity.
    async fn grant_blob_role(&self) {
        let principal = self.principal().await;
        let (s, b, _) = self
            .arm(
                "PUT",
                &format!(
                    "{}/providers/Microsoft.Authorization/roleAssignments/{}?api-version=2022-04-01",
                    self.account_id(),
                    uuid::Uuid::new_v4()
                ),
                Some(json!({"properties": {
                    "roleDefinitionId": format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{SBDO}", self.sub),
                    "principalId": principal,
                    "principalType": "ServicePrincipal"}})),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        // 60 s × 0.0001 of propagation.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    async fn publish(&self, zip: Vec<u8>, token: Option<&str>) -> reqwest::Response {
        let mut r = self
            .c
            .post(self.scm("/api/publish?RemoteBuild=true&Deployer=az_cli"))
            .header("content-type", "application/zip")
            .header("cache-control", "no-cache")
            .body(zip);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send().await.expect("publish")
    }

    async fn scm_get(&self, path: &str) -> (u16, Value) {
        let resp = self
            .c
            .get(self.scm(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("scm get");
        let s = resp.status().as_u16();
        let text = resp.text().await.expect("text");
        (s, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Poll `/api/deployments/latest` as az does until the deployment completes.
    async fn wait(&self) -> Value {
        let start = Instant::now();
        loop {
            let (s, d) = self.scm_get("/api/deployments/latest").await;
            assert_eq!(s, 200, "{d}");
            let st = d["status"].as_i64().expect("status");
            assert!((0..=4).contains(&st), "{d}");
            if d["complete"] == true {
                return d;
            }
            assert!(
                start.elapsed() < Duration::from_secs(300),
                "deployment never completed: {d}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn log_text(&self, id: &str) -> String {
        let (s, log) = self.scm_get(&format!("/api/deployments/{id}/log")).await;
        assert_eq!(s, 200, "{log}");
        log.as_array()
            .expect("log entries")
            .iter()
            .map(|e| {
                assert!(e["log_time"].is_string() && e["type"].is_i64(), "{e}");
                e["message"].as_str().unwrap_or_default().to_string()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The repository's function template as a zip, optionally with another requirements.txt.
fn template_zip(requirements: Option<&str>) -> Vec<u8> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates/function");
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for name in ["function_app.py", "host.json", "requirements.txt"] {
            let content = match (name, requirements) {
                ("requirements.txt", Some(r)) => r.as_bytes().to_vec(),
                _ => std::fs::read(dir.join(name)).expect("template file"),
            };
            z.start_file(name, opts).expect("zip entry");
            z.write_all(&content).expect("zip write");
        }
        z.finish().expect("zip finish");
    }
    buf.into_inner()
}

#[tokio::test]
async fn zip_deploy_builds_indexes_and_lists_the_functions() {
    let e = Env::new("fn-deploy-ok").await;
    e.grant_blob_role().await;
    // az uses an App Service token.
    let as_token = common::token_for(&e.em, "https://appservice.azure.com/.default").await;
    let resp = e.publish(template_zip(None), Some(&as_token)).await;
    assert_eq!(resp.status().as_u16(), 202);
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        location.starts_with("https://fn-deploy-ok.scm.azurewebsites.net/api/deployments/latest"),
        "{location}"
    );
    let d = e.wait().await;
    let id = d["id"].as_str().expect("id").to_string();
    let log = e.log_text(&id).await;
    assert_eq!(d["status"], 4, "{d}\n{log}");
    assert_eq!(d["complete"], true);
    assert_eq!(d["active"], true);
    assert_eq!(d["deployer"], "az_cli");
    assert_eq!(d["site_name"], "fn-deploy-ok");
    assert_eq!(d["status_text"], "");
    assert_eq!(d["provisioningState"], "Succeeded");
    assert_eq!(
        d["log_url"],
        "https://fn-deploy-ok.scm.azurewebsites.net/api/deployments/latest/log"
    );
    for f in [
        "status_text",
        "author",
        "message",
        "progress",
        "received_time",
        "start_time",
        "end_time",
        "is_temp",
        "is_readonly",
        "url",
        "build_summary",
    ] {
        assert!(d.get(f).is_some(), "{f} missing in {d}");
    }
    assert!(log.contains("Found function 'HttpExample'"), "{log}");

    // The list and the by-id answer agree; an unknown id is 404.
    let (s, list) = e.scm_get("/api/deployments").await;
    assert_eq!(s, 200);
    assert_eq!(list[0]["id"], id.as_str());
    let (s, one) = e.scm_get(&format!("/api/deployments/{id}")).await;
    assert_eq!(s, 200);
    assert_eq!(one["status"], 4);
    assert_eq!(
        one["log_url"],
        format!("https://fn-deploy-ok.scm.azurewebsites.net/api/deployments/{id}/log")
    );
    assert_eq!(e.scm_get("/api/deployments/nope").await.0, 404);

    // ARM lists the indexed function with its binding as the Python library wrote it.
    let (s, fns, _) = e
        .arm(
            "GET",
            &format!("{}/functions?api-version=2025-05-01", e.site_id()),
            None,
        )
        .await;
    assert_eq!(s, 200, "{fns}");
    let items = fns["value"].as_array().expect("value");
    assert_eq!(items.len(), 1, "{fns}");
    let f = &items[0];
    assert_eq!(f["name"], "fn-deploy-ok/HttpExample");
    assert_eq!(
        f["properties"]["invoke_url_template"],
        "https://fn-deploy-ok.azurewebsites.net/api/httpexample"
    );
    let trigger = f["properties"]["config"]["bindings"]
        .as_array()
        .expect("bindings")
        .iter()
        .find(|b| b["type"] == "httpTrigger")
        .expect("http trigger")
        .clone();
    assert_eq!(trigger["route"], "HttpExample");
    assert_eq!(trigger["methods"], json!(["GET", "POST"]));
    assert_eq!(trigger["authLevel"], "ANONYMOUS");
    assert_eq!(trigger["direction"], "in");

    // The shared contract entry for the function host, and the package in the container.
    {
        let world = e.em.emulator.world();
        let key = e.site_id().to_ascii_lowercase();
        let entry = &world.data["web.deployments"][&key];
        assert_eq!(entry["status"], 4);
        assert_eq!(entry["id"], id.as_str());
        assert_eq!(
            entry["functions"],
            json!([{"name": "HttpExample", "route": "HttpExample", "methods": ["GET", "POST"], "authLevel": "ANONYMOUS"}])
        );
        let app_dir = std::path::PathBuf::from(entry["appDir"].as_str().expect("appDir"));
        assert!(app_dir.join("function_app.py").exists());
        assert!(
            std::path::Path::new(entry["python"].as_str().expect("python")).exists(),
            "{entry}"
        );
        let blob = &world.data["storage.blobs"]
            [&format!("https://{ACCOUNT}.blob.core.windows.net/app-package/released-package.zip")];
        assert!(blob["contentLength"].as_u64().unwrap_or(0) > 100, "{blob}");
    }
    e.em.shutdown().await;
}

#[tokio::test]
async fn publish_needs_a_valid_token_and_a_role_and_an_existing_site() {
    let e = Env::new("fn-deploy-auth").await;
    // No token → 401.
    let resp = e.publish(template_zip(None), None).await;
    assert_eq!(resp.status().as_u16(), 401);
    // A token for another audience → 401.
    let graph = common::graph_token(&e.em).await;
    let resp = e.publish(template_zip(None), Some(&graph)).await;
    assert_eq!(resp.status().as_u16(), 401);
    // Reads need a token too.
    let resp =
        e.c.get(e.scm("/api/deployments/latest"))
            .send()
            .await
            .expect("get");
    assert_eq!(resp.status().as_u16(), 401);
    // A valid ARM token of a principal without a role on the site → 403.
    let claims = common::claims(&e.token);
    let now = claims["iat"].as_i64().expect("iat");
    let stranger = e.em.emulator.signer.sign(&json!({
        "aud": "https://management.azure.com/", "iss": claims["iss"], "tid": claims["tid"],
        "oid": uuid::Uuid::new_v4().to_string(), "appid": uuid::Uuid::new_v4().to_string(),
        "iat": now, "nbf": now, "exp": now + 3600}));
    let resp = e.publish(template_zip(None), Some(&stranger)).await;
    assert_eq!(resp.status().as_u16(), 403);
    // No deployment has been made: latest is 404.
    assert_eq!(e.scm_get("/api/deployments/latest").await.0, 404);
    // Not a zip content type → 415.
    let resp =
        e.c.post(e.scm("/api/publish?RemoteBuild=true"))
            .bearer_auth(&e.token)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("publish");
    assert_eq!(resp.status().as_u16(), 415);
    // An SCM host of no site → 404.
    let c = common::client_with(&e.em, &["nosuchapp.scm.azurewebsites.net"]);
    let resp = c
        .post("https://nosuchapp.scm.azurewebsites.net/api/publish?RemoteBuild=true")
        .bearer_auth(&e.token)
        .header("content-type", "application/zip")
        .body(template_zip(None))
        .send()
        .await
        .expect("publish");
    assert_eq!(resp.status().as_u16(), 404);
    e.em.shutdown().await;
}

#[tokio::test]
async fn deployment_fails_with_403_when_the_identity_has_no_blob_role() {
    let e = Env::new("fn-deploy-norole").await;
    let resp = e.publish(template_zip(None), Some(&e.token.clone())).await;
    assert_eq!(resp.status().as_u16(), 202);
    let d = e.wait().await;
    assert_eq!(d["status"], 3, "{d}");
    let log = e.log_text(d["id"].as_str().expect("id")).await;
    assert!(log.contains("Status: 403"), "{log}");
    assert!(log.contains("AuthorizationPermissionMismatch"), "{log}");
    // Nothing was published.
    let (s, fns, _) = e
        .arm(
            "GET",
            &format!("{}/functions?api-version=2025-05-01", e.site_id()),
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(fns["value"], json!([]));
    assert!(
        !e.em
            .emulator
            .world()
            .data
            .get("web.deployments")
            .is_some_and(|t| t.contains_key(&e.site_id().to_ascii_lowercase()))
    );
    e.em.shutdown().await;
}

#[tokio::test]
async fn a_broken_requirements_file_fails_the_build_with_pips_error() {
    let e = Env::new("fn-deploy-pip").await;
    e.grant_blob_role().await;
    let zip = template_zip(Some(
        "azure-functions\nthis-package-does-not-exist-xyz==1\n",
    ));
    let resp = e.publish(zip, Some(&e.token.clone())).await;
    assert_eq!(resp.status().as_u16(), 202);
    let d = e.wait().await;
    assert_eq!(d["status"], 3, "{d}");
    let log = e.log_text(d["id"].as_str().expect("id")).await;
    assert!(
        log.contains("this-package-does-not-exist-xyz"),
        "pip's error should be in the log:\n{log}"
    );
    assert!(log.contains("pip install"), "{log}");
    assert!(
        !d["build_summary"]["errors"]
            .as_array()
            .expect("errors")
            .is_empty()
    );
    e.em.shutdown().await;
}

#[tokio::test]
async fn a_second_publish_while_one_runs_is_409() {
    let e = Env::new("fn-deploy-busy").await;
    e.grant_blob_role().await;
    let resp = e.publish(template_zip(None), Some(&e.token.clone())).await;
    assert_eq!(resp.status().as_u16(), 202);
    let resp = e.publish(template_zip(None), Some(&e.token.clone())).await;
    assert_eq!(resp.status().as_u16(), 409);
    let d = e.wait().await;
    assert_eq!(d["status"], 4, "{d}");
    // Once it is done, a new deployment is accepted and becomes the active one.
    let resp = e.publish(template_zip(None), Some(&e.token.clone())).await;
    assert_eq!(resp.status().as_u16(), 202);
    let d2 = e.wait().await;
    assert_eq!(d2["status"], 4, "{d2}");
    assert_ne!(d2["id"], d["id"]);
    let (_, list) = e.scm_get("/api/deployments").await;
    let list = list.as_array().expect("list");
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["id"], d2["id"]);
    assert_eq!(list[0]["active"], true);
    assert_eq!(list[1]["active"], false);
    e.em.shutdown().await;
}

#[tokio::test]
async fn a_role_assignment_that_has_not_propagated_yet_fails_the_upload() {
    let e = Env::new("fn-deploy-fresh").await;
    e.grant_blob_role().await;
    // Make the assignment brand new again on the emulator's clock: 60 s × 0.0001 is too short
    // to race, so move its creation time into the future instead.
    {
        let mut world = e.em.emulator.world();
        let later = e.em.emulator.clock.now_ms() + 3_600_000;
        let mut n = 0;
        for (k, v) in world.resources.iter_mut() {
            if k.contains("/providers/microsoft.authorization/roleassignments/") {
                v["_createdMs"] = json!(later);
                n += 1;
            }
        }
        assert!(n >= 1);
    }
    let resp = e.publish(template_zip(None), Some(&e.token.clone())).await;
    assert_eq!(resp.status().as_u16(), 202);
    let d = e.wait().await;
    assert_eq!(d["status"], 3, "{d}");
    let log = e.log_text(d["id"].as_str().expect("id")).await;
    assert!(log.contains("AuthorizationPermissionMismatch"), "{log}");
    // Once it has propagated, the same package deploys.
    {
        let mut world = e.em.emulator.world();
        for (k, v) in world.resources.iter_mut() {
            if k.contains("/providers/microsoft.authorization/roleassignments/") {
                v["_createdMs"] = json!(0);
            }
        }
    }
    let resp = e.publish(template_zip(None), Some(&e.token.clone())).await;
    assert_eq!(resp.status().as_u16(), 202);
    let d = e.wait().await;
    assert_eq!(d["status"], 4, "{d}");
    e.em.shutdown().await;
}

/// The whole chain of issue 4 with plain HTTP calls: the template deployed through SCM and served
/// by the real Python code; Easy Auth configured to let only APIM's managed identity in; the APIM
/// gateway with `authentication-managed-identity` in front.
#[tokio::test]
async fn the_whole_chain_direct_401_through_apim_200() {
    let e = Env::new("fn-e2e").await;
    e.grant_blob_role().await;
    assert_eq!(
        e.publish(template_zip(None), Some(&e.token))
            .await
            .status()
            .as_u16(),
        202
    );
    let d = e.wait().await;
    assert_eq!(d["status"], 4, "{d}");
    let c = common::client_with(
        &e.em,
        &["fn-e2e.azurewebsites.net", "apime2e.azure-api.net"],
    );
    let direct = "https://fn-e2e.azurewebsites.net/api/HttpExample?name=x";

    // Easy Auth off: the function answers anyone.
    let r = c.get(direct).send().await.expect("direct");
    assert_eq!(r.status(), 200);
    assert!(r.text().await.expect("text").starts_with("Hello, x."));

    // An app registration (Graph) as the audience, with its service principal.
    let graph = common::graph_token(&e.em).await;
    let app: Value = c
        .post("https://graph.microsoft.com/v1.0/applications")
        .bearer_auth(&graph)
        .json(&json!({"displayName": "fn-e2e-easyauth"}))
        .send()
        .await
        .expect("app")
        .json()
        .await
        .expect("json");
    let (object_id, app_id) = (
        app["id"].as_str().expect("id").to_string(),
        app["appId"].as_str().expect("appId").to_string(),
    );
    let audience = format!("api://{app_id}");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        // Graph replicates a new object after a (scaled) moment: retry its 404s.
        let s = c
            .patch(format!(
                "https://graph.microsoft.com/v1.0/applications/{object_id}"
            ))
            .bearer_auth(&graph)
            .json(&json!({"identifierUris": [audience]}))
            .send()
            .await
            .expect("patch")
            .status();
        if s == 204 {
            break;
        }
        assert!(Instant::now() < deadline, "PATCH application: {s}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    loop {
        let s = c
            .post("https://graph.microsoft.com/v1.0/servicePrincipals")
            .bearer_auth(&graph)
            .json(&json!({"appId": app_id}))
            .send()
            .await
            .expect("sp")
            .status();
        if s == 201 {
            break;
        }
        assert!(Instant::now() < deadline, "POST servicePrincipal: {s}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // APIM with a system-assigned identity, activated.
    let svc = format!(
        "{}/providers/Microsoft.ApiManagement/service/apime2e",
        e.rg()
    );
    let (s, b, _) = e
        .arm(
            "PUT",
            &format!("{svc}?api-version=2024-05-01"),
            Some(json!({"location": "japaneast", "sku": {"name": "Developer", "capacity": 1},
                        "identity": {"type": "SystemAssigned"},
                        "properties": {"publisherEmail": "ops@example.com", "publisherName": "e2e"}})),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let principal = b["identity"]["principalId"]
        .as_str()
        .expect("principal")
        .to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, b, _) = e
            .arm("GET", &format!("{svc}?api-version=2024-05-01"), None)
            .await;
        if b["properties"]["provisioningState"] == "Succeeded" {
            break;
        }
        assert!(Instant::now() < deadline, "APIM never activated: {b}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Easy Auth: only APIM's identity, v1 issuer, both audience forms.
    let tid = e.em.ready.tenant_id.clone();
    let (s, b, _) = e
        .arm(
            "PUT",
            &format!("{}/config/authsettingsV2?api-version=2025-05-01", e.site_id()),
            Some(json!({"properties": {
                "platform": {"enabled": true, "runtimeVersion": "~1"},
                "globalValidation": {"requireAuthentication": true, "unauthenticatedClientAction": "Return401"},
                "identityProviders": {"azureActiveDirectory": {
                    "enabled": true,
                    "registration": {"clientId": app_id, "openIdIssuer": format!("https://sts.windows.net/{tid}/")},
                    "validation": {"allowedAudiences": [audience, app_id],
                                   "defaultAuthorizationPolicy": {"allowedPrincipals": {"identities": [principal]}}}}},
            }})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(c.get(direct).send().await.expect("direct").status(), 401);

    // The import: backend, API, operation, policy with the managed identity.
    put(
        &e,
        &svc,
        "/backends/fn-e2e",
        json!({"properties": {"url": "https://fn-e2e.azurewebsites.net/api", "protocol": "http"}}),
    )
    .await;
    put(
        &e,
        &svc,
        "/apis/fn-e2e",
        json!({"properties": {"displayName": "fn-e2e", "path": "fn-e2e", "protocols": ["https"],
                              "subscriptionRequired": true}}),
    )
    .await;
    put(
        &e,
        &svc,
        "/apis/fn-e2e/operations/get-httpexample",
        json!({"properties": {"displayName": "HttpExample", "method": "GET", "urlTemplate": "/HttpExample"}}),
    )
    .await;
    let policy = |mi: &str| {
        format!(
            "<policies><inbound><base /><set-backend-service id=\"apim-generated-policy\" backend-id=\"fn-e2e\" />{mi}</inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"
        )
    };
    let with_mi = policy(&format!(
        "<authentication-managed-identity resource=\"{audience}\" />"
    ));
    put(
        &e,
        &svc,
        "/apis/fn-e2e/policies/policy",
        json!({"properties": {"format": "rawxml", "value": with_mi}}),
    )
    .await;
    let (_, keys, _) = e
        .arm(
            "POST",
            &format!("{svc}/subscriptions/master/listSecrets?api-version=2024-05-01"),
            None,
        )
        .await;
    let key = keys["primaryKey"].as_str().expect("key").to_string();
    let gateway = "https://apime2e.azure-api.net/fn-e2e/HttpExample?name=apimfn";

    let r = c.get(gateway).send().await.expect("gateway");
    assert_eq!(r.status(), 401, "no subscription key");
    let r = c
        .get(gateway)
        .header("Ocp-Apim-Subscription-Key", &key)
        .send()
        .await
        .expect("gateway");
    assert_eq!(r.status(), 200);
    assert!(r.text().await.expect("text").starts_with("Hello, apimfn."));

    // Without the managed-identity policy the function's own 401 comes back through APIM.
    put(
        &e,
        &svc,
        "/apis/fn-e2e/policies/policy",
        json!({"properties": {"format": "rawxml", "value": policy("")}}),
    )
    .await;
    let r = c
        .get(gateway)
        .header("Ocp-Apim-Subscription-Key", &key)
        .send()
        .await
        .expect("gateway");
    assert_eq!(r.status(), 401);
}

async fn put(e: &Env, svc: &str, path: &str, body: Value) {
    let (s, b, _) = e
        .arm(
            "PUT",
            &format!("{svc}{path}?api-version=2024-05-01"),
            Some(body),
        )
        .await;
    assert!(s == 200 || s == 201, "{path}: {s} {b}");
}
