//! Entra ID (token, discovery, JWKS) and Microsoft Graph (applications, servicePrincipals).

mod common;

use common::FormExt;

use apimfn_emulator::{Config, Running};
use base64::Engine;
use serde_json::{Value, json};
use std::time::Duration;

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn login(em: &Running, path: &str) -> String {
    format!(
        "https://login.microsoftonline.com/{}/{path}",
        em.ready.tenant_id
    )
}

fn seeded_oid(em: &Running) -> String {
    em.emulator.world().seed.object_id.clone()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs() as i64
}

/// POST a form to the v2 token endpoint; (status, body).
async fn token_request(em: &Running, form: &[(&str, &str)]) -> (u16, Value) {
    let r = common::client(em)
        .post(login(em, "oauth2/v2.0/token"))
        .form_body(form)
        .send()
        .await
        .expect("token endpoint");
    (r.status().as_u16(), r.json().await.expect("json"))
}

async fn secret_token(em: &Running, scope: &str) -> (u16, Value) {
    let r = &em.ready;
    token_request(
        em,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &r.client_id),
            ("client_secret", &r.client_secret),
            ("scope", scope),
        ],
    )
    .await
}

fn assert_entra_error(status: u16, body: &Value, want_status: u16, error: &str, code: u32) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_codes"], json!([code]), "{body}");
    let desc = body["error_description"].as_str().expect("description");
    assert!(desc.starts_with(&format!("AADSTS{code}: ")), "{desc}");
    assert!(desc.contains("Trace ID: "), "{desc}");
    for f in ["timestamp", "trace_id", "correlation_id"] {
        assert!(body[f].is_string(), "{f} missing: {body}");
    }
    assert_eq!(
        body["error_uri"],
        format!("https://login.microsoftonline.com/error?code={code}")
    );
}

/// Verify an RS256 JWT with the key published in the JWKS.
fn verify_with_jwks(token: &str, jwks: &Value) {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut parts = token.split('.');
    let (h, p, s) = (
        parts.next().expect("h"),
        parts.next().expect("p"),
        parts.next().expect("s"),
    );
    let header: Value = serde_json::from_slice(&b64.decode(h).expect("h64")).expect("hjson");
    let key = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .expect("the token's kid is in the JWKS");
    let n = b64.decode(key["n"].as_str().expect("n")).expect("n64");
    let e = b64.decode(key["e"].as_str().expect("e")).expect("e64");
    let sig = b64.decode(s).expect("sig64");
    aws_lc_rs::signature::RsaPublicKeyComponents { n: &n, e: &e }
        .verify(
            &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
            format!("{h}.{p}").as_bytes(),
            &sig,
        )
        .expect("signature verifies with the JWKS key");
}

#[tokio::test]
async fn a_secret_gets_a_v1_arm_token_that_arm_accepts_and_the_jwks_verifies() {
    let em = common::start().await;
    let c = common::client(&em);
    let (tid, cid) = (em.ready.tenant_id.clone(), em.ready.client_id.clone());

    let (status, body) = secret_token(&em, "https://management.azure.com/.default").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["ext_expires_in"], 3600);
    let token = body["access_token"].as_str().expect("token");
    let claims = common::claims(token);
    assert_eq!(claims["aud"], "https://management.azure.com");
    assert_eq!(claims["iss"], format!("https://sts.windows.net/{tid}/"));
    assert_eq!(claims["ver"], "1.0");
    assert_eq!(claims["appid"], cid);
    assert_eq!(claims["oid"], seeded_oid(&em));
    assert_eq!(claims["sub"], claims["oid"]);
    assert_eq!(claims["tid"], tid);
    assert_eq!(claims["idtyp"], "app");
    assert!(claims.get("azp").is_none());
    let (iat, exp) = (
        claims["iat"].as_i64().expect("iat"),
        claims["exp"].as_i64().expect("exp"),
    );
    assert_eq!(exp - iat, 3600);
    assert_eq!(claims["nbf"], claims["iat"]);
    assert!((iat - now()).abs() < 5);

    // ARM takes it.
    let r = c
        .get(format!(
            "https://management.azure.com/subscriptions/{}/resourcegroups?api-version=2021-04-01",
            em.ready.subscription_id
        ))
        .bearer_auth(token)
        .send()
        .await
        .expect("arm");
    assert_eq!(r.status(), 200);

    // Both JWKS addresses publish the key that verifies it.
    for path in ["discovery/v2.0/keys", "discovery/keys"] {
        let jwks: Value = c
            .get(login(&em, path))
            .send()
            .await
            .expect("jwks")
            .json()
            .await
            .expect("json");
        assert_eq!(jwks["keys"][0]["kty"], "RSA");
        verify_with_jwks(token, &jwks);
    }

    // The v1 endpoint: `resource=`, aud exactly as requested, numbers as strings.
    let r = c
        .post(login(&em, "oauth2/token"))
        .form_body(&[
            ("grant_type", "client_credentials"),
            ("client_id", cid.as_str()),
            ("client_secret", em.ready.client_secret.as_str()),
            ("resource", "https://management.core.windows.net/"),
        ])
        .send()
        .await
        .expect("v1 token");
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["expires_in"], "3600");
    assert_eq!(body["resource"], "https://management.core.windows.net/");
    assert!(body["expires_on"].is_string());
    let claims = common::claims(body["access_token"].as_str().expect("token"));
    assert_eq!(claims["aud"], "https://management.core.windows.net/");
    assert_eq!(
        common::claims(&common::arm_token(&em).await)["appidacr"],
        "1"
    );
}

#[tokio::test]
async fn token_errors_have_entras_codes_and_shape() {
    let em = common::start().await;
    let r = em.ready.clone();

    let (s, b) = token_request(
        &em,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &r.client_id),
            ("client_secret", "not-the-secret"),
            ("scope", "https://management.azure.com/.default"),
        ],
    )
    .await;
    assert_entra_error(s, &b, 401, "invalid_client", 7000215);

    let stranger = uuid::Uuid::new_v4().to_string();
    let (s, b) = token_request(
        &em,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &stranger),
            ("client_secret", "x"),
            ("scope", "https://management.azure.com/.default"),
        ],
    )
    .await;
    assert_entra_error(s, &b, 400, "unauthorized_client", 700016);
    assert!(
        b["error_description"]
            .as_str()
            .expect("d")
            .contains(&stranger)
    );

    let (s, b) = secret_token(&em, "api://nobody-registered-this/.default").await;
    assert_entra_error(s, &b, 400, "invalid_resource", 500011);
    let desc = b["error_description"].as_str().expect("d");
    assert!(
        desc.contains(&format!(
            "The resource principal named api://nobody-registered-this was not found in the tenant named {}",
            r.tenant_id
        )),
        "{desc}"
    );

    let (s, b) = secret_token(&em, "https://management.azure.com/user_impersonation").await;
    assert_entra_error(s, &b, 400, "invalid_scope", 1002012);

    let (s, b) = token_request(
        &em,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &r.client_id),
            ("scope", "https://management.azure.com/.default"),
        ],
    )
    .await;
    assert_entra_error(s, &b, 401, "invalid_client", 7000218);

    let resp = common::client(&em)
        .post(format!(
            "https://login.microsoftonline.com/{}/oauth2/v2.0/token",
            uuid::Uuid::new_v4()
        ))
        .form_body(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("other tenant");
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.expect("json");
    assert_entra_error(status, &body, 400, "invalid_request", 90002);
}

#[tokio::test]
async fn openid_configuration_documents_name_the_real_fields() {
    let em = common::start().await;
    let c = common::client(&em);
    let tid = em.ready.tenant_id.clone();
    let v2: Value = c
        .get(login(&em, "v2.0/.well-known/openid-configuration"))
        .send()
        .await
        .expect("v2")
        .json()
        .await
        .expect("json");
    assert_eq!(
        v2["issuer"],
        format!("https://login.microsoftonline.com/{tid}/v2.0")
    );
    assert_eq!(v2["token_endpoint"], login(&em, "oauth2/v2.0/token"));
    assert_eq!(v2["jwks_uri"], login(&em, "discovery/v2.0/keys"));
    assert_eq!(
        v2["authorization_endpoint"],
        login(&em, "oauth2/v2.0/authorize")
    );
    assert_eq!(
        v2["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
    assert_eq!(v2["msgraph_host"], "graph.microsoft.com");

    let v1: Value = c
        .get(login(&em, ".well-known/openid-configuration"))
        .send()
        .await
        .expect("v1")
        .json()
        .await
        .expect("json");
    assert_eq!(v1["issuer"], format!("https://sts.windows.net/{tid}/"));
    assert_eq!(v1["token_endpoint"], login(&em, "oauth2/token"));
    assert_eq!(v1["jwks_uri"], login(&em, "discovery/keys"));

    let org: Value = c
        .get(
            "https://login.microsoftonline.com/organizations/v2.0/.well-known/openid-configuration",
        )
        .send()
        .await
        .expect("organizations")
        .json()
        .await
        .expect("json");
    assert_eq!(
        org["issuer"],
        "https://login.microsoftonline.com/{tenantid}/v2.0"
    );
}

#[tokio::test]
async fn a_client_assertion_signed_by_the_emulator_rehearses_workload_identity() {
    let em = common::start().await;
    let cid = em.ready.client_id.clone();
    let assertion = |claims: Value| em.emulator.signer.sign(&claims);
    let t = now();
    let federated = assertion(json!({
        "iss": "https://token.actions.githubusercontent.com",
        "sub": "repo:contoso/app:ref:refs/heads/main",
        "aud": "api://AzureADTokenExchange",
        "iat": t, "nbf": t, "exp": t + 600,
    }));
    let form = |a: &str| {
        vec![
            ("grant_type", "client_credentials".to_string()),
            ("client_id", cid.clone()),
            ("client_assertion_type", ASSERTION_TYPE.to_string()),
            ("client_assertion", a.to_string()),
            ("scope", "https://management.azure.com/.default".to_string()),
        ]
    };
    let send = |f: Vec<(&'static str, String)>| {
        let c = common::client(&em);
        let url = login(&em, "oauth2/v2.0/token");
        async move {
            let r = c.post(url).form_body(&f).send().await.expect("token");
            (r.status().as_u16(), r.json::<Value>().await.expect("json"))
        }
    };
    let (s, b) = send(form(&federated)).await;
    assert_eq!(s, 200, "{b}");
    let claims = common::claims(b["access_token"].as_str().expect("token"));
    assert_eq!(claims["appid"], cid);
    assert_eq!(claims["appidacr"], "2");

    // Certificate-style: iss = sub = client id, aud = the token endpoint.
    let cert_style = assertion(json!({
        "iss": cid, "sub": cid, "aud": login(&em, "oauth2/v2.0/token"),
        "jti": "1", "nbf": t, "exp": t + 600,
    }));
    assert_eq!(send(form(&cert_style)).await.0, 200);

    let expired = assertion(json!({
        "iss": "x", "sub": "y", "aud": "api://AzureADTokenExchange", "nbf": t - 1200, "exp": t - 600,
    }));
    let (s, b) = send(form(&expired)).await;
    assert_entra_error(s, &b, 401, "invalid_client", 700024);

    let (other, _) = apimfn_emulator::jwt::Signer::load_or_create(None).expect("other key");
    let foreign = other.sign(&json!({
        "iss": "x", "sub": "y", "aud": "api://AzureADTokenExchange", "nbf": t, "exp": t + 600,
    }));
    let (s, b) = send(form(&foreign)).await;
    assert_entra_error(s, &b, 401, "invalid_client", 700027);
}

/// Graph helpers.
struct G {
    c: reqwest::Client,
    token: String,
}

impl G {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut rb = self
            .c
            .request(method, format!("https://graph.microsoft.com/v1.0/{path}"))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.expect("graph");
        let status = r.status().as_u16();
        let text = r.text().await.expect("text");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }

    /// Poll a GET until it is no longer 404 (replication), at most 5 s.
    async fn get_replicated(&self, path: &str) -> (u16, Value) {
        for _ in 0..100 {
            let (s, b) = self.get(path).await;
            if s != 404 {
                return (s, b);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{path} never replicated");
    }
}

fn graph_error(status: u16, body: &Value, want: u16, code: &str) {
    assert_eq!(status, want, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    let inner = &body["error"]["innerError"];
    for f in ["date", "request-id", "client-request-id"] {
        assert!(inner[f].is_string(), "innerError.{f} missing: {body}");
    }
}

#[tokio::test]
async fn graph_registers_an_app_with_replication_delay_rules_filters_and_service_principals() {
    // Replication takes 5 s × 0.1 = 0.5 s: long enough to observe, short for a test.
    let em = common::start_with(Config {
        time_scale: 0.1,
        ..Config::default()
    })
    .await;
    let tid = em.ready.tenant_id.clone();
    let g = G {
        c: common::client(&em),
        token: common::graph_token(&em).await,
    };
    assert_eq!(
        common::claims(&g.token)["roles"],
        json!(["Application.ReadWrite.All"])
    );
    assert_eq!(
        common::claims(&g.token)["aud"],
        "https://graph.microsoft.com"
    );

    let (s, app) = g
        .call(
            reqwest::Method::POST,
            "applications",
            Some(json!({"displayName": "fn-easyauth", "tags": ["apimfn", "env:test"]})),
        )
        .await;
    assert_eq!(s, 201, "{app}");
    let (id, app_id) = (
        app["id"].as_str().expect("id").to_string(),
        app["appId"].as_str().expect("appId").to_string(),
    );
    assert_ne!(id, app_id);
    assert_eq!(app["signInAudience"], "AzureADMyOrg");
    assert_eq!(app["identifierUris"], json!([]));
    assert_eq!(app["api"]["requestedAccessTokenVersion"], Value::Null);
    assert_eq!(app["api"]["oauth2PermissionScopes"], json!([]));
    assert_eq!(app["passwordCredentials"], json!([]));
    assert!(app["createdDateTime"].is_string());
    assert!(app.get("createdMs").is_none());

    // Not replicated yet: GET 404, filter empty, service principal refused.
    let (s, b) = g.get(&format!("applications/{id}")).await;
    graph_error(s, &b, 404, "Request_ResourceNotFound");
    assert_eq!(
        b["error"]["message"],
        format!(
            "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
        )
    );
    let (_, l) = g
        .get(&format!("applications?$filter=appId eq '{app_id}'"))
        .await;
    assert_eq!(l["value"], json!([]));
    let (s, b) = g
        .call(
            reqwest::Method::POST,
            "servicePrincipals",
            Some(json!({"appId": app_id})),
        )
        .await;
    graph_error(s, &b, 400, "Request_BadRequest");
    assert_eq!(
        b["error"]["details"][0]["code"],
        "NoBackingApplicationObject"
    );

    let (s, got) = g.get_replicated(&format!("applications/{id}")).await;
    assert_eq!(s, 200, "{got}");
    assert_eq!(got["displayName"], "fn-easyauth");
    assert!(
        got["@odata.context"]
            .as_str()
            .expect("ctx")
            .ends_with("$metadata#applications/$entity")
    );

    // identifierUris: api://{appId} is fine; a domain the tenant has not verified is not.
    let (s, b) = g
        .call(
            reqwest::Method::PATCH,
            &format!("applications/{id}"),
            Some(json!({"identifierUris": ["https://fn.azurewebsites.net"]})),
        )
        .await;
    graph_error(s, &b, 400, "HostNameNotOnVerifiedDomain");
    assert_eq!(
        b["error"]["message"],
        "Values of identifierUris property must use a verified domain of the organization or its subdomain: 'https://fn.azurewebsites.net'"
    );
    let (s, _) = g
        .call(
            reqwest::Method::PATCH,
            &format!("applications/{id}"),
            Some(json!({"identifierUris": [format!("api://{app_id}"), format!("api://{tid}/fn")]})),
        )
        .await;
    assert_eq!(s, 204);
    let (s, b) = g
        .call(
            reqwest::Method::PATCH,
            &format!("applications/{id}"),
            Some(json!({"nmae": "x"})),
        )
        .await;
    graph_error(s, &b, 400, "Request_BadRequest");

    // No service principal yet: Entra has no resource principal for the app's URI.
    let (s, b) = secret_token(&em, &format!("api://{app_id}/.default")).await;
    assert_entra_error(s, &b, 400, "invalid_resource", 500011);

    // Filters.
    for filter in [
        format!("appId eq '{app_id}'"),
        "displayName eq 'fn-easyauth'".to_string(),
        "tags/any(t:t eq 'apimfn')".to_string(),
        format!("identifierUris/any(x:x eq 'api://{app_id}')"),
    ] {
        let (s, l) = g.get(&format!("applications?$filter={filter}")).await;
        assert_eq!(s, 200, "{filter}: {l}");
        assert_eq!(
            l["value"].as_array().map(Vec::len),
            Some(1),
            "{filter}: {l}"
        );
        assert_eq!(l["value"][0]["id"], id);
        assert!(
            l["@odata.context"]
                .as_str()
                .expect("ctx")
                .ends_with("$metadata#applications")
        );
    }
    let (_, l) = g.get("applications?$filter=tags/any(t:t eq 'other')").await;
    assert_eq!(l["value"], json!([]));
    let (s, b) = g
        .get("applications?$filter=startswith(displayName,'fn')")
        .await;
    graph_error(s, &b, 400, "Request_UnsupportedQuery");

    // Service principal: create, conflict, list, read.
    let (s, sp) = g
        .call(
            reqwest::Method::POST,
            "servicePrincipals",
            Some(json!({"appId": app_id})),
        )
        .await;
    assert_eq!(s, 201, "{sp}");
    let sp_id = sp["id"].as_str().expect("sp id").to_string();
    assert_eq!(sp["appId"], app_id);
    assert_eq!(sp["servicePrincipalType"], "Application");
    assert_eq!(sp["appOwnerOrganizationId"], tid);
    let (s, b) = g
        .call(
            reqwest::Method::POST,
            "servicePrincipals",
            Some(json!({"appId": app_id})),
        )
        .await;
    graph_error(s, &b, 409, "Request_MultipleObjectsWithSameKeyValue");
    let (s, _) = g
        .get_replicated(&format!("servicePrincipals/{sp_id}"))
        .await;
    assert_eq!(s, 200);
    let (_, l) = g
        .get(&format!("servicePrincipals?$filter=appId eq '{app_id}'"))
        .await;
    assert_eq!(l["value"].as_array().map(Vec::len), Some(1), "{l}");

    // Now tokens for the app: v1 by default, aud as requested.
    let (s, b) = secret_token(&em, &format!("api://{app_id}/.default")).await;
    assert_eq!(s, 200, "{b}");
    let v1 = common::claims(b["access_token"].as_str().expect("t"));
    assert_eq!(v1["aud"], format!("api://{app_id}"));
    assert_eq!(v1["iss"], format!("https://sts.windows.net/{tid}/"));
    assert_eq!(v1["ver"], "1.0");

    // requestedAccessTokenVersion 2 → v2 token, aud = appId, azp; `api` merges.
    let (s, _) = g
        .call(
            reqwest::Method::PATCH,
            &format!("applications/{id}"),
            Some(json!({"api": {"requestedAccessTokenVersion": 2}})),
        )
        .await;
    assert_eq!(s, 204);
    let (_, got) = g.get(&format!("applications(appId='{app_id}')")).await;
    assert_eq!(got["api"]["requestedAccessTokenVersion"], 2);
    assert_eq!(got["api"]["oauth2PermissionScopes"], json!([]));
    let (s, b) = secret_token(&em, &format!("api://{app_id}/.default")).await;
    assert_eq!(s, 200, "{b}");
    let v2 = common::claims(b["access_token"].as_str().expect("t"));
    assert_eq!(v2["aud"], app_id);
    assert_eq!(
        v2["iss"],
        format!("https://login.microsoftonline.com/{tid}/v2.0")
    );
    assert_eq!(v2["ver"], "2.0");
    assert_eq!(v2["azp"], em.ready.client_id);
    assert!(v2.get("appid").is_none());

    // Delete: the service principal, then the app.
    let (s, _) = g
        .call(
            reqwest::Method::DELETE,
            &format!("servicePrincipals/{sp_id}"),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = g.get(&format!("servicePrincipals/{sp_id}")).await;
    assert_eq!(s, 404);
    let (s, _) = g
        .call(reqwest::Method::DELETE, &format!("applications/{id}"), None)
        .await;
    assert_eq!(s, 204);
    let (s, b) = g.get(&format!("applications/{id}")).await;
    graph_error(s, &b, 404, "Request_ResourceNotFound");
}

#[tokio::test]
async fn graph_refuses_arm_tokens_expired_tokens_and_principals_without_permission() {
    let em = common::start().await;
    let c = common::client(&em);
    let apps = "https://graph.microsoft.com/v1.0/applications";

    let r = c
        .get(apps)
        .bearer_auth(common::arm_token(&em).await)
        .send()
        .await
        .expect("graph");
    let status = r.status().as_u16();
    assert!(r.headers().get("www-authenticate").is_some());
    let b: Value = r.json().await.expect("json");
    graph_error(status, &b, 401, "InvalidAuthenticationToken");
    assert_eq!(
        b["error"]["message"],
        "Access token validation failure. Invalid audience."
    );

    let r = c.get(apps).send().await.expect("graph");
    assert_eq!(r.status(), 401);

    // A managed identity has no Graph application permission: 403.
    let mi = {
        let mut w = em.emulator.world();
        apimfn_emulator::directory::ensure_managed_identity(
            &mut w,
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.ApiManagement/service/a",
            0,
        )
        .0
    };
    let mi_token =
        apimfn_emulator::entra::issue_token(&em.emulator, &mi, "https://graph.microsoft.com")
            .expect("MI token");
    let r = c
        .get(apps)
        .bearer_auth(&mi_token)
        .send()
        .await
        .expect("graph");
    let status = r.status().as_u16();
    let b: Value = r.json().await.expect("json");
    graph_error(status, &b, 403, "Authorization_RequestDenied");
    assert_eq!(
        b["error"]["message"],
        "Insufficient privileges to complete the operation."
    );

    // Token lifetime set through the admin API; the token expires in real seconds.
    let r = c
        .put(format!("{}/.emulator/settings", em.ready.url))
        // 2 s, not 1: claims are whole seconds, so a 1-second token issued late in a second
        // is valid for a few milliseconds only.
        .json(&json!({"tokenLifetimeSeconds": 2}))
        .send()
        .await
        .expect("settings");
    assert_eq!(r.status(), 200);
    let short = common::graph_token(&em).await;
    assert_eq!(
        c.get(apps)
            .bearer_auth(&short)
            .send()
            .await
            .expect("graph")
            .status(),
        200
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = c.get(apps).bearer_auth(&short).send().await.expect("graph");
    let status = r.status().as_u16();
    let b: Value = r.json().await.expect("json");
    graph_error(status, &b, 401, "InvalidAuthenticationToken");
    assert_eq!(
        b["error"]["message"],
        "Access token has expired or is not yet valid."
    );
    let r = c
        .put(format!("{}/.emulator/settings", em.ready.url))
        .json(&json!({"tokenLifetimeSeconds": -1}))
        .send()
        .await
        .expect("settings");
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn managed_identities_get_v1_tokens_for_the_resource_as_requested() {
    let em = common::start().await;
    let rid = "/subscriptions/s/resourceGroups/g/providers/Microsoft.ApiManagement/service/apim1";
    let (mi, app_id) = {
        let mut w = em.emulator.world();
        let (oid, _) = apimfn_emulator::directory::ensure_managed_identity(&mut w, rid, 0);
        let sp = apimfn_emulator::directory::sp_by_object_id(&w, &oid).expect("sp");
        (oid, sp["appId"].as_str().expect("appId").to_string())
    };
    let token =
        apimfn_emulator::entra::issue_token(&em.emulator, &mi, "https://management.azure.com/")
            .expect("token");
    let claims = common::claims(&token);
    assert_eq!(claims["aud"], "https://management.azure.com/");
    assert_eq!(claims["oid"], mi);
    assert_eq!(claims["appid"], app_id);
    assert_eq!(claims["xms_mirid"], rid);
    assert_eq!(claims["ver"], "1.0");

    let err = apimfn_emulator::entra::issue_token(&em.emulator, &mi, "api://unknown")
        .expect_err("unknown resource");
    assert_eq!(err.code, 500011);
    let err = apimfn_emulator::entra::issue_token(
        &em.emulator,
        "not-a-principal",
        "https://management.azure.com/",
    )
    .expect_err("unknown principal");
    assert_eq!(err.error, "unauthorized_client");

    // A managed identity cannot use the client-credentials endpoint (it has no secret).
    let (s, b) = token_request(
        &em,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &app_id),
            ("client_secret", "x"),
            ("scope", "https://management.azure.com/.default"),
        ],
    )
    .await;
    assert_entra_error(s, &b, 400, "unauthorized_client", 700016);
}
