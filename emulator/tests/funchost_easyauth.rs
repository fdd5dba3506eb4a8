//! The function host (`{app}.azurewebsites.net`) running the real Python code, and Easy Auth in
//! front of it, driven by authsettingsV2 set through ARM. Needs a python with `azure-functions`:
//! `APIMFN_TEST_PYTHON`, else `.ci/run`'s `target/ci-venv`, else a venv built once under the
//! temporary directory.

mod common;

use apimfn_emulator::Running;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const V: &str = "api-version=2025-05-01";
const HOST: &str = "fn-one.azurewebsites.net";

fn has_azure_functions(python: &Path) -> bool {
    python.exists()
        && std::process::Command::new(python)
            .args(["-c", "import azure.functions"])
            .status()
            .is_ok_and(|s| s.success())
}

/// A python interpreter with `azure-functions` installed.
fn python() -> PathBuf {
    static PY: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PY.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut candidates: Vec<PathBuf> = Vec::new();
        if let Ok(p) = std::env::var("APIMFN_TEST_PYTHON") {
            candidates.push(p.into());
        }
        if let Ok(t) = std::env::var("CARGO_TARGET_DIR") {
            candidates.push(Path::new(&t).join("ci-venv/bin/python"));
        }
        candidates.push(root.join("target/ci-venv/bin/python"));
        let cached = std::env::temp_dir().join("apimfn-emulator-test-venv");
        candidates.push(cached.join("bin/python"));
        if let Some(p) = candidates.iter().find(|p| has_azure_functions(p)) {
            return p.clone();
        }
        let ok = std::process::Command::new("python3")
            .args(["-m", "venv"])
            .arg(&cached)
            .status()
            .expect("python3 -m venv")
            .success()
            && std::process::Command::new(cached.join("bin/pip"))
                .args([
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "azure-functions",
                ])
                .status()
                .expect("pip install azure-functions")
                .success();
        assert!(ok, "could not build a venv with azure-functions");
        cached.join("bin/python")
    })
    .clone()
}

struct Ctx {
    em: Running,
    c: reqwest::Client,
    token: String,
    sub: String,
    site: String,
    _dirs: Vec<tempfile::TempDir>,
}

impl Ctx {
    async fn new() -> Ctx {
        let em = common::start().await;
        let c = common::client_with(&em, &[HOST]);
        let token = common::arm_token(&em).await;
        let sub = em.ready.subscription_id.clone();
        let site =
            format!("/subscriptions/{sub}/resourceGroups/rg1/providers/Microsoft.Web/sites/fn-one");
        let t = Ctx {
            em,
            c,
            token,
            sub,
            site,
            _dirs: Vec::new(),
        };
        let rg = format!("/subscriptions/{}/resourceGroups/rg1", t.sub);
        let (s, _) = t
            .arm(
                "PUT",
                &format!("{rg}?api-version=2025-04-01"),
                Some(json!({"location": "japaneast"})),
            )
            .await;
        assert_eq!(s, 201);
        let (s, b) = t
            .arm(
                "PUT",
                &format!("{rg}/providers/Microsoft.Web/serverfarms/plan1"),
                Some(json!({"location": "japaneast", "kind": "functionapp",
                    "sku": {"name": "FC1", "tier": "FlexConsumption", "size": "FC", "family": "FC"},
                    "properties": {"reserved": true}})),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        let site_body = json!({
            "location": "japaneast",
            "kind": "functionapp,linux",
            "identity": {"type": "SystemAssigned"},
            "properties": {
                "serverFarmId": format!("{rg}/providers/Microsoft.Web/serverfarms/plan1"),
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
        });
        let (s, b) = t.arm("PUT", &t.site.clone(), Some(site_body)).await;
        assert!(s == 200 || s == 202, "{s} {b}");
        t
    }

    async fn arm(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = if path.contains("api-version=") {
            format!("https://management.azure.com{path}")
        } else {
            let sep = if path.contains('?') { '&' } else { '?' };
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
        let text = resp.text().await.expect("text");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn host_keys(&self) -> Value {
        let (s, b) = self
            .arm(
                "POST",
                &format!("{}/host/default/listkeys", self.site),
                None,
            )
            .await;
        assert_eq!(s, 200, "{b}");
        b
    }

    /// What a successful deployment records (the shared contract of issue 4): an app directory
    /// with `files` (name → content; `templates/function` when `None`).
    fn deploy(&mut self, files: Option<&[(&str, &str)]>, functions: Value, deployed_ms: u64) {
        let dir = tempfile::tempdir().expect("tempdir");
        match files {
            None => {
                let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates/function");
                for name in ["function_app.py", "host.json", "requirements.txt"] {
                    std::fs::copy(template.join(name), dir.path().join(name)).expect("copy");
                }
            }
            Some(files) => {
                for (name, content) in files {
                    std::fs::write(dir.path().join(name), content).expect("write");
                }
            }
        }
        let entry = json!({
            "id": format!("dep-{deployed_ms}"),
            "status": 4,
            "appDir": dir.path().display().to_string(),
            "python": python().display().to_string(),
            "functions": functions,
            "deployedMs": deployed_ms,
        });
        self.em
            .emulator
            .world()
            .table("web.deployments")
            .insert(self.site.to_ascii_lowercase(), entry);
        self._dirs.push(dir);
    }

    fn deploy_template(&mut self, deployed_ms: u64) {
        self.deploy(
            None,
            json!([{"name": "HttpExample", "route": "HttpExample", "methods": ["GET", "POST"], "authLevel": "ANONYMOUS"}]),
            deployed_ms,
        );
    }

    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
        let mut r = self.c.get(format!("https://{HOST}{path}"));
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        let resp = r.send().await.expect("send");
        let s = resp.status().as_u16();
        (s, resp.text().await.expect("text"))
    }
}

const CUSTOM_APP: &str = r#"
import json
import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)


@app.route(route="items/{id}", methods=["GET"])
def item(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps({"id": req.route_params.get("id"), "q": req.params.get("q")}),
        mimetype="application/json", status_code=201)


@app.route(route="boom", auth_level=func.AuthLevel.ANONYMOUS)
def boom(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("boom")


@app.route(route="adminonly", auth_level=func.AuthLevel.ADMIN)
async def adminonly(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("admin ok")
"#;

#[tokio::test]
async fn function_host_runs_the_deployed_python_code_with_keys_and_routes() {
    let mut t = Ctx::new().await;
    let keys = t.host_keys().await;
    let master = keys["masterKey"].as_str().expect("master").to_string();
    let fkey = keys["functionKeys"]["default"]
        .as_str()
        .expect("default")
        .to_string();

    // No deployment yet: the host runs with no functions.
    assert_eq!(t.get("/api/HttpExample?name=x", &[]).await.0, 404);
    let (s, _) = t.get("/admin/host/status", &[]).await;
    assert_eq!(s, 401);
    let (s, b) = t
        .get("/admin/host/status", &[("x-functions-key", &master)])
        .await;
    assert_eq!(s, 200, "{b}");
    let status: Value = serde_json::from_str(&b).expect("json");
    assert_eq!(status["state"], "Running");
    for field in ["id", "version", "versionDetails", "processUptime"] {
        assert!(!status[field].is_null(), "{field} missing in {status}");
    }
    let (s, _) = t.get(&format!("/admin/host/status?code={fkey}"), &[]).await;
    assert_eq!(s, 401, "a function key is not the master key");

    t.deploy_template(1);
    let (s, b) = t.get("/api/HttpExample?name=x", &[]).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b,
        "Hello, x. This HTTP triggered function executed successfully."
    );
    let resp =
        t.c.post(format!("https://{HOST}/api/httpexample"))
            .json(&json!({"name": "body"}))
            .send()
            .await
            .expect("post");
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .expect("ct")
            .starts_with("text/plain")
    );
    assert!(resp.text().await.expect("text").starts_with("Hello, body."));
    // A method the function does not list, and unknown routes: 404 as the host.
    let resp =
        t.c.delete(format!("https://{HOST}/api/HttpExample"))
            .send()
            .await
            .expect("delete");
    assert_eq!(resp.status(), 404);
    assert_eq!(t.get("/api/Nope", &[]).await.0, 404);
    assert_eq!(t.get("/HttpExample", &[]).await.0, 404);
    // Unknown app names are not served.
    let other = common::client_with(&t.em, &["nope.azurewebsites.net"]);
    let resp = other
        .get("https://nope.azurewebsites.net/api/HttpExample")
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 404);

    // A new deployment restarts the worker with the new code (and host.json's routePrefix).
    t.deploy(
        Some(&[
            ("function_app.py", CUSTOM_APP),
            (
                "host.json",
                r#"{"version": "2.0", "extensions": {"http": {"routePrefix": "v1"}}}"#,
            ),
        ]),
        json!([
            {"name": "item", "route": "items/{id}", "methods": ["GET"], "authLevel": "FUNCTION"},
            {"name": "boom", "route": "boom", "methods": null, "authLevel": "ANONYMOUS"},
            {"name": "adminonly", "route": "adminonly", "methods": null, "authLevel": "ADMIN"}
        ]),
        2,
    );
    assert_eq!(t.get("/api/HttpExample?name=x", &[]).await.0, 404);
    assert_eq!(t.get("/v1/items/7", &[]).await.0, 401);
    assert_eq!(t.get("/v1/items/7?code=wrong", &[]).await.0, 401);
    let (s, b) = t
        .get("/v1/items/7?q=z", &[("x-functions-key", &fkey)])
        .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(
        serde_json::from_str::<Value>(&b).expect("json"),
        json!({"id": "7", "q": "z"})
    );
    let (s, _) = t.get(&format!("/v1/items/8?code={master}"), &[]).await;
    assert_eq!(s, 201);
    let (s, b) = t.get("/v1/boom", &[]).await;
    assert_eq!(
        (s, b.as_str()),
        (500, ""),
        "a Python exception is a 500 with no body"
    );
    assert_eq!(
        t.get("/v1/adminonly", &[("x-functions-key", &fkey)])
            .await
            .0,
        401
    );
    let (s, b) = t
        .get("/v1/adminonly", &[("x-functions-key", &master)])
        .await;
    assert_eq!((s, b.as_str()), (200, "admin ok"));
    // The worker survived the exception.
    assert_eq!(
        t.get("/v1/items/9", &[("x-functions-key", &fkey)]).await.0,
        201
    );
    t.em.shutdown().await;
}

const ECHO_APP: &str = r#"
import json
import azure.functions as func

app = func.FunctionApp()


@app.route(route="HttpExample", auth_level=func.AuthLevel.ANONYMOUS)
def http_example(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(json.dumps({
        "hello": "Hello, %s." % req.params.get("name"),
        "principal": req.headers.get("x-ms-client-principal-id"),
        "idp": req.headers.get("x-ms-client-principal-idp"),
        "principalJson": req.headers.get("x-ms-client-principal"),
        "authorization": req.headers.get("authorization"),
    }), mimetype="application/json")
"#;

struct Apps {
    app_id: String,
    mi: String,
}

/// An app registration with `api://{appId}` and its service principal, and an APIM-like managed
/// identity.
fn register(t: &Ctx, token_version: u64) -> Apps {
    let mut w = t.em.emulator.world();
    let app_id = uuid::Uuid::new_v4().to_string();
    let object_id = uuid::Uuid::new_v4().to_string();
    w.table(apimfn_emulator::directory::APPLICATIONS).insert(
        object_id.clone(),
        json!({"id": object_id, "appId": app_id, "displayName": "fn-one-easyauth",
               "identifierUris": [format!("api://{app_id}")],
               "api": {"requestedAccessTokenVersion": if token_version == 2 { json!(2) } else { Value::Null }}}),
    );
    let sp_id = uuid::Uuid::new_v4().to_string();
    w.table(apimfn_emulator::directory::SERVICE_PRINCIPALS)
        .insert(
            sp_id.clone(),
            json!({"id": sp_id, "appId": app_id, "displayName": "fn-one-easyauth",
               "servicePrincipalType": "Application"}),
        );
    let apim = format!(
        "/subscriptions/{}/resourceGroups/rg1/providers/Microsoft.ApiManagement/service/apim1",
        t.sub
    );
    let (mi, _) = apimfn_emulator::directory::ensure_managed_identity(&mut w, &apim, 0);
    Apps { app_id, mi }
}

fn auth_settings(enabled: bool, issuer: &str, app_id: &str, identities: &[&str]) -> Value {
    json!({"properties": {
        "platform": {"enabled": enabled, "runtimeVersion": "~1"},
        "globalValidation": {"requireAuthentication": true, "unauthenticatedClientAction": "Return401",
                             "excludedPaths": ["/api/health"]},
        "identityProviders": {"azureActiveDirectory": {
            "enabled": true,
            "registration": {"clientId": app_id, "openIdIssuer": issuer},
            "validation": {
                "allowedAudiences": [format!("api://{app_id}"), app_id],
                "defaultAuthorizationPolicy": {"allowedPrincipals": {"identities": identities}}
            }
        }},
        "login": {"tokenStore": {"enabled": false}},
        "httpSettings": {"requireHttps": true, "routes": {"apiPrefix": "/.auth"},
                         "forwardProxy": {"convention": "NoProxy"}}
    }})
}

#[tokio::test]
async fn easy_auth_lets_only_the_apim_identity_in() {
    let mut t = Ctx::new().await;
    t.deploy(
        Some(&[("function_app.py", ECHO_APP), ("host.json", r#"{"version": "2.0"}"#)]),
        json!([{"name": "http_example", "route": "HttpExample", "methods": null, "authLevel": "ANONYMOUS"}]),
        1,
    );
    let apps = register(&t, 1);
    let tid = t.em.ready.tenant_id.clone();
    let v1 = format!("https://sts.windows.net/{tid}/");
    let auth_path = format!("{}/config/authsettingsV2", t.site);

    // Easy Auth off (a fresh app): no token needed.
    let (s, b) = t.get("/api/HttpExample?name=x", &[]).await;
    assert_eq!(s, 200, "{b}");
    let body: Value = serde_json::from_str(&b).expect("json");
    assert_eq!(body["hello"], "Hello, x.");
    assert!(body["principal"].is_null());

    let (s, b) = t
        .arm(
            "PUT",
            &auth_path,
            Some(auth_settings(true, &v1, &apps.app_id, &[&apps.mi])),
        )
        .await;
    assert_eq!(s, 200, "{b}");

    // No token → 401.
    assert_eq!(t.get("/api/HttpExample?name=x", &[]).await.0, 401);
    // Excluded path passes (and then the host has no such function).
    assert_eq!(t.get("/api/health", &[]).await.0, 404);

    // APIM's identity → 200 with the identity headers and the Authorization header.
    let mi_token = apimfn_emulator::entra::issue_token(
        &t.em.emulator,
        &apps.mi,
        &format!("api://{}", apps.app_id),
    )
    .expect("MI token");
    assert_eq!(common::claims(&mi_token)["iss"], v1.as_str());
    let bearer = format!("Bearer {mi_token}");
    let (s, b) = t
        .get(
            "/api/HttpExample?name=x",
            &[
                ("authorization", &bearer),
                ("x-ms-client-principal-id", "spoofed"),
            ],
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let body: Value = serde_json::from_str(&b).expect("json");
    assert_eq!(body["hello"], "Hello, x.");
    assert_eq!(body["principal"], apps.mi.as_str());
    assert_eq!(body["idp"], "aad");
    assert_eq!(body["authorization"], bearer.as_str());
    use base64::Engine;
    let principal: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(body["principalJson"].as_str().expect("principal"))
            .expect("base64"),
    )
    .expect("json");
    assert_eq!(principal["auth_typ"], "aad");
    assert!(
        principal["claims"]
            .as_array()
            .expect("claims")
            .iter()
            .any(|c| c["typ"] == "oid" && c["val"] == apps.mi.as_str())
    );

    // Another valid token of the tenant, same audience: the seeded principal → 403.
    let other = common::token_for(&t.em, &format!("api://{}/.default", apps.app_id)).await;
    assert_eq!(
        common::claims(&other)["aud"],
        format!("api://{}", apps.app_id)
    );
    let (s, _) = t
        .get(
            "/api/HttpExample?name=x",
            &[("authorization", &format!("Bearer {other}"))],
        )
        .await;
    assert_eq!(s, 403);

    // Wrong audience (ARM) from APIM's identity → 401.
    let arm = apimfn_emulator::entra::issue_token(
        &t.em.emulator,
        &apps.mi,
        "https://management.azure.com/",
    )
    .expect("ARM token");
    let (s, _) = t
        .get(
            "/api/HttpExample?name=x",
            &[("authorization", &format!("Bearer {arm}"))],
        )
        .await;
    assert_eq!(s, 401);

    // A forged token (another key) → 401.
    let mut forged = mi_token.clone();
    forged.truncate(forged.len() - 4);
    forged.push_str("AAAA");
    let (s, _) = t
        .get(
            "/api/HttpExample?name=x",
            &[("authorization", &format!("Bearer {forged}"))],
        )
        .await;
    assert_eq!(s, 401);

    // Expired, or not yet valid, but otherwise APIM's token → 401.
    let mut c = common::claims(&mi_token);
    let now = c["iat"].as_u64().expect("iat");
    c["exp"] = json!(now - 10);
    let expired = t.em.emulator.signer.sign(&c);
    let (s, _) = t
        .get(
            "/api/HttpExample?name=x",
            &[("authorization", &format!("Bearer {expired}"))],
        )
        .await;
    assert_eq!(s, 401);
    c["exp"] = json!(now + 3600);
    c["nbf"] = json!(now + 600);
    let early = t.em.emulator.signer.sign(&c);
    let (s, _) = t
        .get(
            "/api/HttpExample?name=x",
            &[("authorization", &format!("Bearer {early}"))],
        )
        .await;
    assert_eq!(s, 401);
    c["nbf"] = json!(now);
    let resigned = t.em.emulator.signer.sign(&c);
    let (s, _) = t
        .get(
            "/api/HttpExample?name=x",
            &[("authorization", &format!("Bearer {resigned}"))],
        )
        .await;
    assert_eq!(s, 200, "the same claims within their lifetime pass");

    // Strict reading (documented): a v1 token against a v2 issuer is rejected.
    let v2 = format!("https://login.microsoftonline.com/{tid}/v2.0");
    let (s, _) = t
        .arm(
            "PUT",
            &auth_path,
            Some(auth_settings(true, &v2, &apps.app_id, &[&apps.mi])),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        t.get("/api/HttpExample?name=x", &[("authorization", &bearer)])
            .await
            .0,
        401
    );

    // Return403 for a missing token; RedirectToLoginPage → 302.
    let mut cfg = auth_settings(true, &v1, &apps.app_id, &[&apps.mi]);
    cfg["properties"]["globalValidation"]["unauthenticatedClientAction"] = json!("Return403");
    assert_eq!(t.arm("PUT", &auth_path, Some(cfg.clone())).await.0, 200);
    assert_eq!(t.get("/api/HttpExample?name=x", &[]).await.0, 403);
    assert_eq!(
        t.get("/api/HttpExample?name=x", &[("authorization", &bearer)])
            .await
            .0,
        200
    );
    cfg["properties"]["globalValidation"]["unauthenticatedClientAction"] =
        json!("RedirectToLoginPage");
    assert_eq!(t.arm("PUT", &auth_path, Some(cfg.clone())).await.0, 200);
    let no_redirect = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .tls_certs_only([reqwest::Certificate::from_pem(t.em.ca_pem.as_bytes()).expect("ca")])
        .resolve(HOST, t.em.addr)
        .build()
        .expect("client");
    let resp = no_redirect
        .get(format!("https://{HOST}/api/HttpExample"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 302);
    assert!(
        resp.headers()["location"]
            .to_str()
            .expect("loc")
            .starts_with("/.auth/login/aad")
    );
    cfg["properties"]["globalValidation"]["unauthenticatedClientAction"] = json!("AllowAnonymous");
    assert_eq!(t.arm("PUT", &auth_path, Some(cfg)).await.0, 200);
    let (s, b) = t.get("/api/HttpExample?name=x", &[]).await;
    assert_eq!(s, 200);
    assert!(serde_json::from_str::<Value>(&b).expect("json")["principal"].is_null());

    // allowedApplications is ANDed with identities: the MI's appId is required too.
    let mut cfg = auth_settings(true, &v1, &apps.app_id, &[&apps.mi]);
    cfg["properties"]["identityProviders"]["azureActiveDirectory"]["validation"]["defaultAuthorizationPolicy"]
        ["allowedApplications"] = json!([t.em.ready.client_id]);
    assert_eq!(t.arm("PUT", &auth_path, Some(cfg)).await.0, 200);
    assert_eq!(
        t.get("/api/HttpExample?name=x", &[("authorization", &bearer)])
            .await
            .0,
        403
    );

    // Easy Auth disabled again → 200 without a token.
    let (s, _) = t
        .arm(
            "PUT",
            &auth_path,
            Some(auth_settings(false, &v1, &apps.app_id, &[&apps.mi])),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(t.get("/api/HttpExample?name=x", &[]).await.0, 200);
    t.em.shutdown().await;
}

#[tokio::test]
async fn easy_auth_accepts_v2_tokens_against_a_v2_issuer_only() {
    let mut t = Ctx::new().await;
    t.deploy(
        Some(&[("function_app.py", ECHO_APP), ("host.json", r#"{"version": "2.0"}"#)]),
        json!([{"name": "http_example", "route": "HttpExample", "methods": null, "authLevel": "ANONYMOUS"}]),
        1,
    );
    let apps = register(&t, 2);
    let tid = t.em.ready.tenant_id.clone();
    let token = apimfn_emulator::entra::issue_token(
        &t.em.emulator,
        &apps.mi,
        &format!("api://{}", apps.app_id),
    )
    .expect("MI token");
    let claims = common::claims(&token);
    assert_eq!(claims["ver"], "2.0");
    assert_eq!(claims["aud"], apps.app_id.as_str());
    let bearer = format!("Bearer {token}");
    let auth_path = format!("{}/config/authsettingsV2", t.site);
    let v2 = format!("https://login.microsoftonline.com/{tid}/v2.0");
    assert_eq!(
        t.arm(
            "PUT",
            &auth_path,
            Some(auth_settings(true, &v2, &apps.app_id, &[&apps.mi]))
        )
        .await
        .0,
        200
    );
    let (s, b) = t
        .get("/api/HttpExample?name=y", &[("authorization", &bearer)])
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        serde_json::from_str::<Value>(&b).expect("json")["principal"],
        apps.mi.as_str()
    );
    // The same v2 token against a v1 issuer: rejected (strict).
    let v1 = format!("https://sts.windows.net/{tid}/");
    assert_eq!(
        t.arm(
            "PUT",
            &auth_path,
            Some(auth_settings(true, &v1, &apps.app_id, &[&apps.mi]))
        )
        .await
        .0,
        200
    );
    assert_eq!(
        t.get("/api/HttpExample?name=y", &[("authorization", &bearer)])
            .await
            .0,
        401
    );
    t.em.shutdown().await;
}
