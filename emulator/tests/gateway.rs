//! The APIM gateway at `https://{service}.azure-api.net`, configured through ARM and called over
//! plain HTTPS: subscription keys, operation matching, policies (set-backend-service with a
//! backend's `credentials.header` and a secret named value, authentication-managed-identity,
//! set-header, rewrite-uri, return-response), in-process forwarding (seen in the request log and
//! through the admin echo endpoint), and the PUT-time refusal of policies the emulator cannot run.

mod common;

use reqwest::{Client, Method};
use serde_json::{Value, json};
use std::time::Duration;

const V: &str = "2024-05-01";
const APIM: &str = "gwtest";
const GW: &str = "https://gwtest.azure-api.net";

struct Env {
    em: apimfn_emulator::Running,
    c: Client,
    token: String,
    svc: String,
}

impl Env {
    async fn arm(&self, m: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = if path.starts_with("https://") {
            path.to_string()
        } else {
            format!(
                "https://management.azure.com{}{path}?api-version={V}",
                self.svc
            )
        };
        let mut r = self.c.request(m, url).bearer_auth(&self.token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.expect("send");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn put(&self, path: &str, props: Value) {
        let (s, b) = self
            .arm(Method::PUT, path, Some(json!({"properties": props})))
            .await;
        assert!(s == 200 || s == 201, "PUT {path}: {s} {b}");
    }

    async fn policy(&self, scope: &str, xml: &str) -> (u16, Value) {
        self.arm(
            Method::PUT,
            &format!("{scope}/policies/policy"),
            Some(json!({"properties": {"format": "rawxml", "value": xml}})),
        )
        .await
    }

    async fn master_key(&self) -> String {
        let (s, b) = self
            .arm(Method::POST, "/subscriptions/master/listSecrets", None)
            .await;
        assert_eq!(s, 200, "{b}");
        b["primaryKey"].as_str().expect("primaryKey").to_string()
    }

    async fn call(&self, m: Method, path: &str, key: Option<&str>) -> reqwest::Response {
        let mut r = self.c.request(m, format!("{GW}{path}"));
        if let Some(k) = key {
            r = r.header("Ocp-Apim-Subscription-Key", k);
        }
        r.send().await.expect("gateway reachable")
    }
}

/// A Consumption service with a system-assigned identity, activated.
async fn env() -> Env {
    let em = common::start().await;
    let c = common::client_with(&em, &["gwtest.azure-api.net"]);
    let token = common::arm_token(&em).await;
    let sub = em.ready.subscription_id.clone();
    let r = c
        .put(format!(
            "https://management.azure.com/subscriptions/{sub}/resourcegroups/rg-gw?api-version=2025-04-01"
        ))
        .bearer_auth(&token)
        .json(&json!({"location": "japaneast"}))
        .send()
        .await
        .expect("group");
    assert!(r.status().is_success());
    let svc = format!(
        "/subscriptions/{sub}/resourceGroups/rg-gw/providers/Microsoft.ApiManagement/service/{APIM}"
    );
    let env = Env { em, c, token, svc };
    let (s, b) = env
        .arm(
            Method::PUT,
            "",
            Some(json!({
                "location": "japaneast",
                "sku": {"name": "Consumption", "capacity": 0},
                "identity": {"type": "SystemAssigned"},
                "properties": {"publisherEmail": "ops@example.com", "publisherName": "Example"},
            })),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    for _ in 0..400 {
        let (_, b) = env.arm(Method::GET, "", None).await;
        if b["properties"]["provisioningState"] == "Succeeded" {
            return env;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the service never activated");
}

/// A secret named value (asynchronous write: poll its Location until it exists).
async fn named_value(env: &Env, name: &str, value: &str) {
    let r = env
        .c
        .put(format!(
            "https://management.azure.com{}/namedValues/{name}?api-version={V}",
            env.svc
        ))
        .bearer_auth(&env.token)
        .json(&json!({"properties": {"displayName": name, "value": value, "secret": true}}))
        .send()
        .await
        .expect("named value");
    assert_eq!(r.status(), 202);
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("location")
        .to_string();
    for _ in 0..400 {
        let (s, _) = env.arm(Method::GET, &location, None).await;
        if s == 201 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("named value never settled");
}

/// API `echo` (path `echo`) whose backend is the admin echo endpoint, reached through a backend
/// entity carrying `x-functions-key: {{fnkey}}`; operations `GET /items/{id}` and `GET /canned`.
async fn echo_api(env: &Env, api_policy: &str) {
    named_value(env, "fnkey", "s3cret-function-key").await;
    env.put(
        "/backends/echo-backend",
        json!({"url": "https://127.0.0.1/.emulator/echo", "protocol": "http",
               "credentials": {"header": {"x-functions-key": ["{{fnkey}}"]}}}),
    )
    .await;
    env.put(
        "/apis/echo",
        json!({"displayName": "Echo", "path": "echo", "protocols": ["https"],
               "serviceUrl": "https://127.0.0.1/.emulator/nowhere"}),
    )
    .await;
    env.put(
        "/apis/echo/operations/item",
        json!({"displayName": "Item", "method": "GET", "urlTemplate": "/items/{id}",
               "templateParameters": [{"name": "id", "type": "string", "required": true}]}),
    )
    .await;
    env.put(
        "/apis/echo/operations/canned",
        json!({"displayName": "Canned", "method": "GET", "urlTemplate": "/canned"}),
    )
    .await;
    let (s, b) = env.policy("/apis/echo", api_policy).await;
    assert!(s == 200 || s == 201, "{s} {b}");
}

const ECHO_POLICY: &str = "<policies><inbound><base /><set-backend-service id=\"apim-generated-policy\" backend-id=\"echo-backend\" /><authentication-managed-identity resource=\"https://management.azure.com/\" /><set-header name=\"x-added\" exists-action=\"override\"><value>inbound</value></set-header></inbound><backend><base /></backend><outbound><base /><set-header name=\"x-outbound\" exists-action=\"override\"><value>yes</value></set-header></outbound><on-error><base /></on-error></policies>";

#[tokio::test]
async fn keys_matching_and_forwarding_with_backend_credentials_and_managed_identity() {
    let env = env().await;
    echo_api(&env, ECHO_POLICY).await;
    let key = env.master_key().await;

    // No key → 401 with APIM's exact body.
    let r = env.call(Method::GET, "/echo/items/42", None).await;
    assert_eq!(r.status(), 401);
    let b: Value = r.json().await.expect("json");
    assert_eq!(
        b,
        json!({"statusCode": 401, "message": "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API."})
    );
    // A wrong key → 401 invalid.
    let r = env
        .call(Method::GET, "/echo/items/42", Some("0123456789abcdef"))
        .await;
    assert_eq!(r.status(), 401);
    let b: Value = r.json().await.expect("json");
    assert_eq!(
        b,
        json!({"statusCode": 401, "message": "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription."})
    );
    // Unknown operation / unknown API → 404.
    for path in ["/echo/nothing", "/nope/items/1"] {
        let r = env.call(Method::GET, path, Some(&key)).await;
        assert_eq!(r.status(), 404, "{path}");
        let b: Value = r.json().await.expect("json");
        assert_eq!(
            b,
            json!({"statusCode": 404, "message": "Resource not found"})
        );
    }
    let r = env.call(Method::POST, "/echo/items/42", Some(&key)).await;
    assert_eq!(r.status(), 404, "the method is part of the match");

    // The right key (header) → the backend gets the request the policies built.
    let r = env
        .c
        .get(format!("{GW}/echo/items/42?x=1"))
        .header("Ocp-Apim-Subscription-Key", &key)
        .header("x-caller", "kept")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers().get("x-outbound").and_then(|v| v.to_str().ok()),
        Some("yes"),
        "outbound set-header"
    );
    let seen: Value = r.json().await.expect("echo");
    assert_eq!(seen["host"], "127.0.0.1");
    assert_eq!(seen["path"], "/.emulator/echo/items/42");
    assert_eq!(seen["query"], "x=1");
    let h = &seen["headers"];
    assert_eq!(
        h["x-functions-key"], "s3cret-function-key",
        "{{named value}} from the backend"
    );
    assert_eq!(h["x-added"], "inbound");
    assert_eq!(h["x-caller"], "kept");
    assert!(
        h.get("ocp-apim-subscription-key").is_none(),
        "the key is not forwarded: {h}"
    );
    let auth = h["authorization"].as_str().expect("Authorization");
    let token = auth.strip_prefix("Bearer ").expect("bearer");
    let claims = common::claims(token);
    let (_, svc) = env.arm(Method::GET, "", None).await;
    let principal = svc["identity"]["principalId"].as_str().expect("principal");
    assert_eq!(claims["oid"], principal, "APIM's managed identity");
    assert_eq!(claims["aud"], "https://management.azure.com/");
    assert_eq!(
        claims["iss"],
        format!("https://sts.windows.net/{}/", env.em.ready.tenant_id)
    );

    // The key as a query parameter works too, and is stripped.
    let r = env
        .c
        .get(format!("{GW}/echo/items/7?subscription-key={key}&y=2"))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let seen: Value = r.json().await.expect("echo");
    assert_eq!(seen["query"], "y=2");

    // A subscription scoped to another API does not open this one; one scoped to it does.
    env.put(
        "/apis/other",
        json!({"displayName": "Other", "path": "other"}),
    )
    .await;
    let (s, other) = env
        .arm(
            Method::PUT,
            "/subscriptions/other-only",
            Some(json!({"properties": {"displayName": "o", "scope": "/apis/other"}})),
        )
        .await;
    assert_eq!(s, 201, "{other}");
    let other_key = other["properties"]["primaryKey"].as_str().expect("key");
    let r = env
        .call(Method::GET, "/echo/items/1", Some(other_key))
        .await;
    assert_eq!(r.status(), 401);
    let (s, mine) = env
        .arm(
            Method::PUT,
            "/subscriptions/echo-only",
            Some(json!({"properties": {"displayName": "e", "scope": "/apis/echo"}})),
        )
        .await;
    assert_eq!(s, 201, "{mine}");
    let my_key = mine["properties"]["secondaryKey"].as_str().expect("key");
    let r = env.call(Method::GET, "/echo/items/1", Some(my_key)).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn forwarding_goes_through_the_emulator_and_is_logged() {
    let env = env().await;
    env.put(
        "/apis/fn",
        json!({"displayName": "Fn", "path": "fn",
               "serviceUrl": "https://gw-fnapp.azurewebsites.net/api"}),
    )
    .await;
    env.put(
        "/apis/fn/operations/hello",
        json!({"displayName": "Hello", "method": "GET", "urlTemplate": "/HttpExample"}),
    )
    .await;
    let key = env.master_key().await;
    let r = env
        .c
        .get(format!("{GW}/fn/HttpExample?name=x&subscription-key={key}"))
        .send()
        .await
        .expect("send");
    let status = r.status().as_u16();
    let log: Value = env
        .c
        .get(format!("{}/.emulator/requests", env.em.ready.url))
        .send()
        .await
        .expect("log")
        .json()
        .await
        .expect("json");
    let entries = log["requests"].as_array().expect("requests");
    let backend = entries
        .iter()
        .find(|e| e["host"] == "gw-fnapp.azurewebsites.net")
        .unwrap_or_else(|| panic!("no backend request logged: {log}"));
    assert_eq!(backend["path"], "/api/HttpExample");
    assert_eq!(backend["query"], "name=x", "the key is not forwarded");
    assert_eq!(backend["method"], "GET");
    assert_eq!(backend["status"], status, "the backend's status comes back");
    let front = entries
        .iter()
        .find(|e| e["host"] == "gwtest.azure-api.net")
        .expect("the gateway request is logged");
    assert_eq!(front["path"], "/fn/HttpExample");
}

#[tokio::test]
async fn return_response_rewrite_and_managed_identity_failures() {
    let env = env().await;
    echo_api(&env, ECHO_POLICY).await;
    let key = env.master_key().await;

    // return-response at operation scope: the backend is never called.
    let canned = "<policies><inbound><base /><return-response><set-status code=\"418\" reason=\"I'm a teapot\" /><set-header name=\"x-canned\" exists-action=\"override\"><value>yes</value></set-header><set-body>short and stout</set-body></return-response></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>";
    let (s, b) = env.policy("/apis/echo/operations/canned", canned).await;
    assert_eq!(s, 201, "{b}");
    let r = env.call(Method::GET, "/echo/canned", Some(&key)).await;
    assert_eq!(r.status(), 418);
    assert_eq!(
        r.headers().get("x-canned").and_then(|v| v.to_str().ok()),
        Some("yes")
    );
    assert_eq!(r.text().await.expect("body"), "short and stout");

    // rewrite-uri + set-variable + an expression over a variable.
    let rewrite = "<policies><inbound><base /><set-variable name=\"who\" value=\"apim\" /><rewrite-uri template=\"/things/{id}?from=gw\" /><set-header name=\"x-who\" exists-action=\"override\"><value>@(\"via \" + (string)context.Variables[\"who\"])</value></set-header></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>";
    let (s, b) = env.policy("/apis/echo/operations/item", rewrite).await;
    assert_eq!(s, 201, "{b}");
    let r = env.call(Method::GET, "/echo/items/9", Some(&key)).await;
    assert_eq!(r.status(), 200);
    let seen: Value = r.json().await.expect("echo");
    assert_eq!(seen["path"], "/.emulator/echo/things/9");
    assert_eq!(seen["query"], "from=gw");
    assert_eq!(seen["headers"]["x-who"], "via apim");

    // A resource with no service principal → AADSTS500011 → 500, as the gateway answers.
    let bad = ECHO_POLICY.replace(
        "resource=\"https://management.azure.com/\"",
        "resource=\"api://no-such-app\"",
    );
    let (s, b) = env.policy("/apis/echo", &bad).await;
    assert_eq!(s, 200, "{b}");
    // The operation's policy now only inherits.
    let plain = "<policies><inbound><base /></inbound><backend><base /></backend><outbound><base /></outbound></policies>";
    let (s, b) = env.policy("/apis/echo/operations/item", plain).await;
    assert_eq!(s, 200, "{b}");
    // The inherited failure happens before the operation's own return-response (after <base/>).
    let r = env.call(Method::GET, "/echo/canned", Some(&key)).await;
    assert_eq!(r.status(), 500);
    let r = env.call(Method::GET, "/echo/items/9", Some(&key)).await;
    assert_eq!(r.status(), 500);
    let b: Value = r.json().await.expect("json");
    assert_eq!(b["statusCode"], 500);
    assert_eq!(b["message"], "Internal server error");
    // ignore-error="true" → forwarded without the token.
    let ignoring = bad.replace(
        "resource=\"api://no-such-app\"",
        "resource=\"api://no-such-app\" ignore-error=\"true\"",
    );
    let (s, b) = env.policy("/apis/echo", &ignoring).await;
    assert_eq!(s, 200, "{b}");
    let r = env.call(Method::GET, "/echo/items/9", Some(&key)).await;
    assert_eq!(r.status(), 200);
    let seen: Value = r.json().await.expect("echo");
    assert!(seen["headers"].get("authorization").is_none(), "{seen}");
}

#[tokio::test]
async fn unsupported_policy_elements_are_refused_at_put() {
    let env = env().await;
    env.put("/apis/a", json!({"displayName": "A", "path": "a"}))
        .await;
    let (s, b) = env
        .policy(
            "/apis/a",
            "<policies><inbound><base /><rate-limit calls=\"5\" renewal-period=\"60\" /></inbound><backend><base /></backend><outbound><base /></outbound></policies>",
        )
        .await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["error"]["code"], "ValidationError");
    let detail = b["error"]["details"][0]["message"]
        .as_str()
        .expect("detail");
    assert!(detail.contains("rate-limit"), "{detail}");
    assert!(detail.contains("does not model"), "{detail}");
    // An expression the emulator cannot evaluate is refused too.
    let (s, b) = env
        .policy(
            "/apis/a",
            "<policies><inbound><set-header name=\"x\" exists-action=\"override\"><value>@(context.Request.IpAddress)</value></set-header></inbound></policies>",
        )
        .await;
    assert_eq!(s, 400, "{b}");
    // Nothing was stored.
    let (s, _) = env.arm(Method::GET, "/apis/a/policies/policy", None).await;
    assert_eq!(s, 404);
    // Global scope too.
    let (s, _) = env
        .policy(
            "",
            "<policies><inbound><cors><allowed-origins><origin>*</origin></allowed-origins></cors></inbound></policies>",
        )
        .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn on_error_base_url_and_unknown_services() {
    let env = env().await;
    env.put("/apis/b", json!({"displayName": "B", "path": "b"}))
        .await;
    env.put(
        "/apis/b/operations/any",
        json!({"displayName": "Any", "method": "*", "urlTemplate": "/{*rest}",
               "templateParameters": [{"name": "rest", "type": "string"}]}),
    )
    .await;
    // base-url, subscription not required, and on-error shaping a failure.
    env.put(
        "/apis/b",
        json!({"displayName": "B", "path": "b", "subscriptionRequired": false}),
    )
    .await;
    let xml = "<policies><inbound><set-backend-service base-url=\"https://127.0.0.1/.emulator/echo/base\" /></inbound><backend><forward-request /></backend><outbound /><on-error><return-response><set-status code=\"502\" reason=\"Bad Gateway\" /><set-body>handled</set-body></return-response></on-error></policies>";
    let (s, b) = env.policy("/apis/b", xml).await;
    assert_eq!(s, 201, "{b}");
    let r = env.call(Method::DELETE, "/b/x/y", None).await;
    assert_eq!(r.status(), 200, "no key needed");
    let seen: Value = r.json().await.expect("echo");
    assert_eq!(seen["method"], "DELETE");
    assert_eq!(seen["path"], "/.emulator/echo/base/x/y");
    let failing = xml.replace(
        "<set-backend-service base-url=\"https://127.0.0.1/.emulator/echo/base\" />",
        "<set-backend-service backend-id=\"missing\" />",
    );
    let (s, b) = env.policy("/apis/b", &failing).await;
    assert_eq!(s, 200, "{b}");
    let r = env.call(Method::GET, "/b/x", None).await;
    assert_eq!(r.status(), 502, "on-error's return-response");
    assert_eq!(r.text().await.expect("body"), "handled");

    // A host with no service.
    let c = common::client_with(&env.em, &["nosuchapim.azure-api.net"]);
    let r = c
        .get("https://nosuchapim.azure-api.net/b/x")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 404);
}

/// A service still activating is not serving yet. At time scale 0.01 a Developer activation lasts
/// about 27 s, so the check cannot race the end of the activation on a slow machine.
#[tokio::test]
async fn a_service_still_activating_answers_503() {
    let em = common::start_with(apimfn_emulator::Config {
        time_scale: 0.01,
        ..Default::default()
    })
    .await;
    let c = common::client_with(&em, &["gwslow.azure-api.net"]);
    let token = common::arm_token(&em).await;
    let sub = em.ready.subscription_id.clone();
    let group = format!("https://management.azure.com/subscriptions/{sub}/resourcegroups/rg-slow");
    let r = c
        .put(format!("{group}?api-version=2025-04-01"))
        .bearer_auth(&token)
        .json(&json!({"location": "japaneast"}))
        .send()
        .await
        .expect("group");
    assert!(r.status().is_success());
    let r = c
        .put(format!(
            "{group}/providers/Microsoft.ApiManagement/service/gwslow?api-version={V}"
        ))
        .bearer_auth(&token)
        .json(&json!({
            "location": "japaneast", "sku": {"name": "Developer", "capacity": 1},
            "properties": {"publisherEmail": "ops@example.com", "publisherName": "Example"},
        }))
        .send()
        .await
        .expect("create");
    assert_eq!(r.status(), 201);
    let r = c
        .get("https://gwslow.azure-api.net/anything")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 503);
    let b: Value = r.json().await.expect("json");
    assert_eq!(
        b,
        json!({"statusCode": 503, "message": "Service Unavailable"})
    );
}
