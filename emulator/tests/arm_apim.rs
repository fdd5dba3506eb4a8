//! Microsoft.ApiManagement through the HTTPS listener, with a tiny time scale: the recorded
//! create → poll → Succeeded sequence, transition-state 409s, soft delete, purge and restore,
//! name checks, named values, apis/operations/policies, backends and the master subscription.

mod common;

use apimfn_emulator::{Config, Running};
use reqwest::{Client, Method, Response};
use serde_json::{Value, json};
use std::time::Duration;

const V: &str = "2024-05-01";
/// 45 min × 0.0001 ≈ 0.27 s of activation; 48 h × 0.0001 ≈ 17 s of retention.
const SCALE: f64 = 0.0001;

struct Env {
    em: Running,
    c: Client,
    token: String,
    sub: String,
}

impl Env {
    async fn new(scale: f64) -> Env {
        let em = common::start_with(Config {
            time_scale: scale,
            ..Config::default()
        })
        .await;
        let c = common::client(&em);
        let token = common::arm_token(&em).await;
        let seed = em.emulator.world().seed.clone();
        Env {
            em,
            c,
            token,
            sub: seed.subscription_id,
        }
    }

    fn url(&self, path: &str) -> String {
        let sep = if path.contains('?') { '&' } else { '?' };
        format!(
            "https://management.azure.com/subscriptions/{}{path}{sep}api-version={V}",
            self.sub
        )
    }

    async fn call(
        &self,
        m: Method,
        path: &str,
        body: Option<Value>,
        if_match: Option<&str>,
    ) -> Response {
        self.raw(m, &self.url(path), body, if_match).await
    }

    async fn raw(
        &self,
        m: Method,
        url: &str,
        body: Option<Value>,
        if_match: Option<&str>,
    ) -> Response {
        let mut r = self.c.request(m, url).bearer_auth(&self.token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        if let Some(t) = if_match {
            r = r.header("if-match", t);
        }
        r.send().await.expect("send")
    }

    async fn group(&self, rg: &str) {
        let r = self
            .raw(
                Method::PUT,
                &format!(
                    "https://management.azure.com/subscriptions/{}/resourcegroups/{rg}?api-version=2025-04-01",
                    self.sub
                ),
                Some(json!({"location": "japaneast"})),
                None,
            )
            .await;
        assert!(r.status().is_success(), "{}", r.status());
    }

    /// Create a service and wait (polling its status URL) until it is Succeeded.
    async fn ready_service(&self, rg: &str, name: &str, sku: &str) -> Value {
        let r = self.create_service(rg, name, sku).await;
        assert_eq!(r.status(), 201);
        let status = header(&r, "azure-asyncoperation");
        poll_until(self, &status, "Succeeded").await;
        let g = self.call(Method::GET, &svc(rg, name), None, None).await;
        assert_eq!(g.status(), 200);
        g.json().await.expect("json")
    }

    async fn create_service(&self, rg: &str, name: &str, sku: &str) -> Response {
        let capacity = if sku == "Consumption" { 0 } else { 1 };
        self.call(
            Method::PUT,
            &svc(rg, name),
            Some(json!({
                "location": "japaneast",
                "sku": {"name": sku, "capacity": capacity},
                "identity": {"type": "SystemAssigned"},
                "properties": {"publisherEmail": "ops@example.com", "publisherName": "Example"},
            })),
            None,
        )
        .await
    }
}

fn svc(rg: &str, name: &str) -> String {
    format!("/resourceGroups/{rg}/providers/Microsoft.ApiManagement/service/{name}")
}

fn header(r: &Response, name: &str) -> String {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

async fn poll_until(env: &Env, url: &str, want: &str) {
    for _ in 0..400 {
        let r = env.raw(Method::GET, url, None, None).await;
        assert_eq!(r.status(), 200);
        let in_progress = r.headers().contains_key("azure-asyncoperation");
        let b: Value = r.json().await.expect("json");
        if b["status"] == want {
            assert!(!in_progress, "the final poll carries no LRO headers");
            assert_eq!(b, json!({"status": want}));
            return;
        }
        assert_eq!(b, json!({"status": "InProgress"}));
        assert!(in_progress, "in-progress polls repeat the LRO headers");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{url} never reached {want}");
}

#[tokio::test]
async fn create_polls_to_succeeded_with_the_recorded_headers_and_bodies() {
    // A slower scale (activation ≈ 2.7 s) so the calls made while activating cannot race it.
    let env = Env::new(0.001).await;
    env.group("rg1").await;
    let r = env.create_service("rg1", "apim-one", "Developer").await;
    assert_eq!(r.status(), 201);
    let aso = header(&r, "azure-asyncoperation");
    let loc = header(&r, "location");
    assert_eq!(aso, loc, "both headers point to one status URL");
    let prefix = format!(
        "https://management.azure.com/subscriptions/{}/resourceGroups/rg1/providers/Microsoft.ApiManagement/service/apim-one/operationresults/",
        env.sub
    );
    assert!(aso.starts_with(&prefix), "{aso}");
    for part in [
        &format!("?api-version={V}&asyncResponse&t="),
        "&c=",
        "&s=",
        "&h=",
    ] {
        assert!(aso.contains(part), "{aso} lacks {part}");
    }
    assert!(!header(&r, "etag").is_empty());
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["type"], "Microsoft.ApiManagement/service");
    assert_eq!(body["location"], "Japan East");
    assert_eq!(body["properties"]["provisioningState"], "Activating");
    assert_eq!(body["properties"]["targetProvisioningState"], "Activating");
    assert_eq!(
        body["properties"]["gatewayUrl"],
        "https://apim-one.azure-api.net"
    );
    assert_eq!(body["properties"]["portalUrl"], Value::Null);
    assert_eq!(body["properties"]["platformVersion"], "undetermined");
    assert!(body["properties"]["createdAtUtc"].is_string());
    assert!(body["etag"].is_string());
    assert!(body["identity"]["principalId"].is_string());
    assert_eq!(
        body["identity"]["tenantId"],
        env.em.ready.tenant_id.as_str()
    );

    // While activating: GET shows it, a second PUT is 409, children are refused.
    let g: Value = env
        .call(Method::GET, &svc("rg1", "apim-one"), None, None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(g["properties"]["provisioningState"], "Activating");
    let again = env.create_service("rg1", "apim-one", "Developer").await;
    assert_eq!(again.status(), 409);
    let e: Value = again.json().await.expect("json");
    assert_eq!(
        e["error"]["message"],
        "API Management service is activating"
    );
    let child = env
        .call(
            Method::PUT,
            &format!("{}/apis/a", svc("rg1", "apim-one")),
            Some(json!({"properties": {"displayName": "A", "path": "a"}})),
            None,
        )
        .await;
    assert_eq!(child.status(), 409);

    poll_until(&env, &aso, "Succeeded").await;
    let g: Value = env
        .call(Method::GET, &svc("rg1", "apim-one"), None, None)
        .await
        .json()
        .await
        .expect("json");
    let p = &g["properties"];
    assert_eq!(p["provisioningState"], "Succeeded");
    assert_eq!(p["targetProvisioningState"], "");
    assert_eq!(p["gatewayUrl"], "https://apim-one.azure-api.net");
    assert_eq!(p["portalUrl"], "https://apim-one.portal.azure-api.net");
    assert_eq!(
        p["developerPortalUrl"],
        "https://apim-one.developer.azure-api.net"
    );
    assert_eq!(
        p["managementApiUrl"],
        "https://apim-one.management.azure-api.net"
    );
    assert_eq!(p["scmUrl"], "https://apim-one.scm.azure-api.net");
    assert_eq!(p["publicIPAddresses"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        p["hostnameConfigurations"][0]["hostName"],
        "apim-one.azure-api.net"
    );
    assert_eq!(
        g["identity"]["principalId"],
        body["identity"]["principalId"]
    );

    // A PUT that changes nothing is a plain 200; a change starts an update LRO.
    let same = env.create_service("rg1", "apim-one", "Developer").await;
    assert_eq!(same.status(), 200);
    assert!(!same.headers().contains_key("azure-asyncoperation"));
    let changed = env
        .call(
            Method::PUT,
            &svc("rg1", "apim-one"),
            Some(json!({
                "location": "Japan East",
                "sku": {"name": "Developer", "capacity": 1},
                "identity": {"type": "SystemAssigned"},
                "properties": {"publisherEmail": "ops2@example.com", "publisherName": "Example"},
            })),
            None,
        )
        .await;
    assert_eq!(changed.status(), 200);
    let upd = header(&changed, "azure-asyncoperation");
    assert!(upd.contains("/operationresults/"));
    let b: Value = changed.json().await.expect("json");
    assert_eq!(b["properties"]["provisioningState"], "Updating");
    poll_until(&env, &upd, "Succeeded").await;
    env.em.shutdown().await;
}

#[tokio::test]
async fn service_validation_and_global_names() {
    let env = Env::new(SCALE).await;
    env.group("rg1").await;
    env.group("rg2").await;
    let bad_sku = env
        .call(
            Method::PUT,
            &svc("rg1", "x1"),
            Some(
                json!({"location": "japaneast", "sku": {"name": "Consumption", "capacity": 1},
                "properties": {"publisherEmail": "a@b.c", "publisherName": "n"}}),
            ),
            None,
        )
        .await;
    assert_eq!(bad_sku.status(), 400);
    let no_publisher = env
        .call(
            Method::PUT,
            &svc("rg1", "x1"),
            Some(
                json!({"location": "japaneast", "sku": {"name": "Developer", "capacity": 1},
                "properties": {"publisherName": "n"}}),
            ),
            None,
        )
        .await;
    assert_eq!(no_publisher.status(), 400);
    let e: Value = no_publisher.json().await.expect("json");
    assert_eq!(e["error"]["code"], "ValidationError");
    assert_eq!(e["error"]["details"][0]["target"], "publisherEmail");

    let check = |name: &'static str| {
        let env = &env;
        async move {
            let r = env
                .call(
                    Method::POST,
                    "/providers/Microsoft.ApiManagement/checkNameAvailability",
                    Some(json!({"name": name})),
                    None,
                )
                .await;
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.expect("json")
        }
    };
    assert_eq!(
        check("taken-one").await,
        json!({"nameAvailable": true, "reason": "Valid", "message": ""})
    );
    assert_eq!(
        env.create_service("rg1", "taken-one", "Consumption")
            .await
            .status(),
        201
    );
    let taken = check("taken-one").await;
    assert_eq!(taken["nameAvailable"], false);
    assert_eq!(taken["reason"], "AlreadyExists");
    assert_eq!(check("9bad").await["reason"], "Invalid");
    // Global: the same name in another group is refused.
    let dup = env.create_service("rg2", "taken-one", "Consumption").await;
    assert_eq!(dup.status(), 409);
    env.em.shutdown().await;
}

#[tokio::test]
async fn soft_delete_list_purge_and_name_reservation() {
    let env = Env::new(SCALE).await;
    env.group("rg1").await;
    let s = env.ready_service("rg1", "apim-del", "Consumption").await;
    let del = env
        .call(Method::DELETE, &svc("rg1", "apim-del"), None, None)
        .await;
    assert_eq!(del.status(), 202);
    let status = header(&del, "azure-asyncoperation");
    assert_eq!(status, header(&del, "location"));
    let b: Value = del.json().await.expect("json");
    assert_eq!(b["properties"]["provisioningState"], "Deleting");
    poll_until(&env, &status, "Succeeded").await;
    assert_eq!(
        env.call(Method::GET, &svc("rg1", "apim-del"), None, None)
            .await
            .status(),
        404
    );

    let list: Value = env
        .call(
            Method::GET,
            "/providers/Microsoft.ApiManagement/deletedservices",
            None,
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    let d = &list["value"][0];
    assert_eq!(d["name"], "apim-del");
    assert_eq!(d["type"], "Microsoft.ApiManagement/deletedservices");
    assert_eq!(d["location"], "Japan East");
    assert_eq!(d["properties"]["serviceId"], s["id"]);
    assert!(d["properties"]["scheduledPurgeDate"].is_string());
    assert!(d["properties"]["deletionDate"].is_string());
    let one = env
        .call(
            Method::GET,
            "/providers/Microsoft.ApiManagement/locations/japaneast/deletedservices/apim-del",
            None,
            None,
        )
        .await;
    assert_eq!(one.status(), 200);

    // The name stays reserved.
    let check: Value = env
        .call(
            Method::POST,
            "/providers/Microsoft.ApiManagement/checkNameAvailability",
            Some(json!({"name": "apim-del"})),
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(check["nameAvailable"], false);
    assert_eq!(check["reason"], "AlreadyExists");
    let recreate = env.create_service("rg1", "apim-del", "Consumption").await;
    assert_eq!(recreate.status(), 409);
    let e: Value = recreate.json().await.expect("json");
    assert_eq!(e["error"]["code"], "ServiceAlreadyExistsInSoftDeletedState");
    assert!(
        e["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Api service apim-del was soft-deleted."))
    );

    // Purge: 202 + Location, 202 … then 200 with an empty body.
    let purge = env
        .call(
            Method::DELETE,
            "/providers/Microsoft.ApiManagement/locations/japaneast/deletedservices/apim-del",
            None,
            None,
        )
        .await;
    assert_eq!(purge.status(), 202);
    let loc = header(&purge, "location");
    assert!(
        loc.contains("/deletedservices/apim-del/operationresults/"),
        "{loc}"
    );
    let mut done = false;
    for _ in 0..200 {
        let r = env.raw(Method::GET, &loc, None, None).await;
        if r.status() == 200 {
            assert_eq!(r.bytes().await.expect("body").len(), 0);
            done = true;
            break;
        }
        assert_eq!(r.status(), 202);
        assert!(r.headers().contains_key("location"));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(done);
    let gone = env
        .call(
            Method::DELETE,
            "/providers/Microsoft.ApiManagement/locations/japaneast/deletedservices/apim-del",
            None,
            None,
        )
        .await;
    assert_eq!(gone.status(), 204);
    assert_eq!(
        env.create_service("rg1", "apim-del", "Consumption")
            .await
            .status(),
        201
    );
    env.em.shutdown().await;
}

#[tokio::test]
async fn restore_brings_back_the_service_children_and_identity() {
    let env = Env::new(SCALE).await;
    env.group("rg1").await;
    let s = env.ready_service("rg1", "apim-back", "Consumption").await;
    let base = svc("rg1", "apim-back");
    let api = env
        .call(
            Method::PUT,
            &format!("{base}/apis/kept"),
            Some(json!({"properties": {"displayName": "Kept", "path": "kept"}})),
            None,
        )
        .await;
    assert_eq!(api.status(), 201);
    let del = env.call(Method::DELETE, &base, None, None).await;
    poll_until(&env, &header(&del, "azure-asyncoperation"), "Succeeded").await;

    let r = env
        .call(
            Method::PUT,
            &base,
            Some(
                json!({"location": "japaneast", "sku": {"name": "Consumption", "capacity": 0},
                "properties": {"publisherEmail": "a@b.c", "publisherName": "n", "restore": true}}),
            ),
            None,
        )
        .await;
    assert_eq!(r.status(), 201);
    poll_until(&env, &header(&r, "azure-asyncoperation"), "Succeeded").await;
    let g: Value = env
        .call(Method::GET, &base, None, None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(g["properties"]["provisioningState"], "Succeeded");
    assert_eq!(g["identity"]["principalId"], s["identity"]["principalId"]);
    assert_eq!(
        env.call(Method::GET, &format!("{base}/apis/kept"), None, None)
            .await
            .status(),
        200
    );
    let list: Value = env
        .call(
            Method::GET,
            "/providers/Microsoft.ApiManagement/deletedservices",
            None,
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list["value"].as_array().map(Vec::len), Some(0));
    env.em.shutdown().await;
}

#[tokio::test]
async fn group_deletion_soft_deletes_the_service() {
    let env = Env::new(SCALE).await;
    env.group("rgx").await;
    env.ready_service("rgx", "apim-grp", "Consumption").await;
    let r = env
        .raw(
            Method::DELETE,
            &format!(
                "https://management.azure.com/subscriptions/{}/resourcegroups/rgx?api-version=2025-04-01",
                env.sub
            ),
            None,
            None,
        )
        .await;
    assert_eq!(r.status(), 202);
    let loc = header(&r, "location");
    for _ in 0..200 {
        if env.raw(Method::GET, &loc, None, None).await.status() == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let d = env
        .call(
            Method::GET,
            "/providers/Microsoft.ApiManagement/locations/japaneast/deletedservices/apim-grp",
            None,
            None,
        )
        .await;
    assert_eq!(d.status(), 200);
    let b: Value = d.json().await.expect("json");
    assert!(b["properties"]["serviceId"].as_str().is_some_and(|s| {
        s.ends_with("/resourceGroups/rgx/providers/Microsoft.ApiManagement/service/apim-grp")
    }));
    env.em.shutdown().await;
}

#[tokio::test]
async fn named_values_are_asynchronous_and_secrets_hidden() {
    let env = Env::new(SCALE).await;
    env.group("rg1").await;
    env.ready_service("rg1", "apim-nv", "Consumption").await;
    let base = svc("rg1", "apim-nv");
    let r = env
        .call(
            Method::PUT,
            &format!("{base}/namedValues/fn-key"),
            Some(
                json!({"properties": {"displayName": "fn-key", "value": "s3cret", "secret": true,
                "tags": ["key", "function", "auto"]}}),
            ),
            Some("*"),
        )
        .await;
    assert_eq!(r.status(), 202);
    let loc = header(&r, "location");
    assert!(
        loc.contains(&format!(
            "{base}/namedValues/fn-key?api-version={V}&asyncId="
        )),
        "{loc}"
    );
    assert!(loc.ends_with("&asyncCode=201"), "{loc}");
    assert_eq!(r.bytes().await.expect("body").len(), 0);
    let mut created = None;
    for _ in 0..200 {
        let p = env.raw(Method::GET, &loc, None, None).await;
        if p.status() == 202 {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        }
        assert_eq!(p.status(), 201);
        created = Some(p.json::<Value>().await.expect("json"));
        break;
    }
    let created = created.expect("named value created");
    assert_eq!(
        created["type"],
        "Microsoft.ApiManagement/service/namedValues"
    );
    assert_eq!(created["properties"]["displayName"], "fn-key");
    assert_eq!(created["properties"]["secret"], true);
    assert!(created["properties"].get("value").is_none(), "{created}");
    let g = env
        .call(
            Method::GET,
            &format!("{base}/namedValues/fn-key"),
            None,
            None,
        )
        .await;
    assert!(!header(&g, "etag").is_empty());
    let g: Value = g.json().await.expect("json");
    assert!(g["properties"].get("value").is_none());
    let v: Value = env
        .call(
            Method::POST,
            &format!("{base}/namedValues/fn-key/listValue"),
            None,
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(v, json!({"value": "s3cret"}));
    let bad = env
        .call(
            Method::PUT,
            &format!("{base}/namedValues/bad"),
            Some(json!({"properties": {"displayName": "has space", "value": "x"}})),
            None,
        )
        .await;
    assert_eq!(bad.status(), 400);
    // PATCH and DELETE need If-Match.
    let no_match = env
        .call(
            Method::DELETE,
            &format!("{base}/namedValues/fn-key"),
            None,
            None,
        )
        .await;
    assert_eq!(no_match.status(), 400);
    let stale = env
        .call(
            Method::DELETE,
            &format!("{base}/namedValues/fn-key"),
            None,
            Some("\"AAAA\""),
        )
        .await;
    assert_eq!(stale.status(), 412);
    let ok = env
        .call(
            Method::DELETE,
            &format!("{base}/namedValues/fn-key"),
            None,
            Some("*"),
        )
        .await;
    assert_eq!(ok.status(), 200);
    env.em.shutdown().await;
}

#[tokio::test]
async fn api_operation_policy_backend_and_master_subscription() {
    let env = Env::new(SCALE).await;
    env.group("rg1").await;
    let s = env.ready_service("rg1", "apim-api", "Consumption").await;
    let base = svc("rg1", "apim-api");

    let missing = env
        .call(
            Method::PUT,
            &format!("{base}/apis/fn"),
            Some(json!({"properties": {"displayName": "fn"}})),
            None,
        )
        .await;
    assert_eq!(missing.status(), 400);
    let api = env
        .call(
            Method::PUT,
            &format!("{base}/apis/fn"),
            Some(json!({"properties": {"displayName": "fn", "path": "fn", "protocols": ["https"],
                "subscriptionRequired": true, "serviceUrl": "https://fn.azurewebsites.net/api", "type": "http"}})),
            None,
        )
        .await;
    assert_eq!(api.status(), 201);
    assert!(!header(&api, "etag").is_empty());
    let a: Value = api.json().await.expect("json");
    assert_eq!(a["type"], "Microsoft.ApiManagement/service/apis");
    assert_eq!(a["properties"]["apiRevision"], "1");
    assert_eq!(a["properties"]["isCurrent"], true);
    let again = env
        .call(
            Method::PUT,
            &format!("{base}/apis/fn"),
            Some(json!({"properties": {"displayName": "fn2", "path": "fn"}})),
            None,
        )
        .await;
    assert_eq!(again.status(), 200);

    let bad_op = env
        .call(
            Method::PUT,
            &format!("{base}/apis/fn/operations/get-item"),
            Some(
                json!({"properties": {"displayName": "GetItem", "method": "GET",
                "urlTemplate": "/items/{id}", "templateParameters": []}}),
            ),
            None,
        )
        .await;
    assert_eq!(bad_op.status(), 400);
    let e: Value = bad_op.json().await.expect("json");
    assert_eq!(
        e["error"]["details"][0]["message"],
        "All template parameters used in the UriTemplate must be defined in the Operation, and vice-versa."
    );
    let op = env
        .call(
            Method::PUT,
            &format!("{base}/apis/fn/operations/get-item"),
            Some(
                json!({"properties": {"displayName": "GetItem", "method": "GET",
                "urlTemplate": "/items/{id}",
                "templateParameters": [{"name": "id", "type": "string", "required": true}]}}),
            ),
            None,
        )
        .await;
    assert_eq!(op.status(), 201);
    let o: Value = op.json().await.expect("json");
    assert_eq!(
        o["properties"]["templateParameters"][0]["values"],
        json!([])
    );
    let orphan = env
        .call(
            Method::GET,
            &format!("{base}/apis/nope/operations"),
            None,
            None,
        )
        .await;
    assert_eq!(orphan.status(), 404);
    let e: Value = orphan.json().await.expect("json");
    assert_eq!(e["error"]["message"], "Api not found.");

    let good = "<policies><inbound><base /><set-backend-service id=\"apim-generated-policy\" backend-id=\"fn\" /><authentication-managed-identity resource=\"api://x\" /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>";
    let pol = env
        .call(
            Method::PUT,
            &format!("{base}/apis/fn/policies/policy"),
            Some(json!({"properties": {"format": "rawxml", "value": good}})),
            None,
        )
        .await;
    assert_eq!(pol.status(), 201);
    let got: Value = env
        .call(
            Method::GET,
            &format!("{base}/apis/fn/policies/policy?format=rawxml"),
            None,
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(got["properties"]["value"], good);
    assert_eq!(got["properties"]["format"], "rawxml");
    assert_eq!(got["type"], "Microsoft.ApiManagement/service/apis/policies");
    for bad in [
        "<policies><inbound></policies>",
        "<policy><inbound /></policy>",
    ] {
        let r = env
            .call(
                Method::PUT,
                &format!("{base}/apis/fn/operations/get-item/policies/policy"),
                Some(json!({"properties": {"format": "rawxml", "value": bad}})),
                None,
            )
            .await;
        assert_eq!(r.status(), 400, "{bad}");
        let e: Value = r.json().await.expect("json");
        assert_eq!(e["error"]["code"], "ValidationError");
    }
    let op_pol = env
        .call(
            Method::PUT,
            &format!("{base}/apis/fn/operations/get-item/policies/policy"),
            Some(json!({"properties": {"format": "xml", "value": good}})),
            None,
        )
        .await;
    assert_eq!(op_pol.status(), 201);
    let svc_pol = env
        .call(
            Method::PUT,
            &format!("{base}/policies/policy"),
            Some(json!({"properties": {"value": "<policies><inbound /><backend><forward-request /></backend><outbound /></policies>"}})),
            None,
        )
        .await;
    assert_eq!(svc_pol.status(), 201);

    let no_protocol = env
        .call(
            Method::PUT,
            &format!("{base}/backends/fn"),
            Some(json!({"properties": {"url": "https://fn/api"}})),
            None,
        )
        .await;
    assert_eq!(no_protocol.status(), 400);
    let be = env
        .call(
            Method::PUT,
            &format!("{base}/backends/fn"),
            Some(
                json!({"properties": {"url": "https://fn.azurewebsites.net/api", "protocol": "http",
                "credentials": {"header": {"x-functions-key": ["{{fn-key}}"]}}}}),
            ),
            None,
        )
        .await;
    assert_eq!(be.status(), 201);
    let be2 = env
        .call(
            Method::PUT,
            &format!("{base}/backends/fn"),
            Some(json!({"properties": {"url": "https://fn.azurewebsites.net/api", "protocol": "http"}})),
            None,
        )
        .await;
    assert_eq!(be2.status(), 200);

    let master: Value = env
        .call(
            Method::GET,
            &format!("{base}/subscriptions/master"),
            None,
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        master["properties"]["displayName"],
        "Built-in all-access subscription"
    );
    assert_eq!(
        master["properties"]["scope"],
        format!("{}/", s["id"].as_str().expect("id"))
    );
    assert!(master["properties"].get("primaryKey").is_none());
    let keys: Value = env
        .call(
            Method::POST,
            &format!("{base}/subscriptions/master/listSecrets"),
            None,
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    let pk = keys["primaryKey"].as_str().expect("primaryKey");
    assert_eq!(pk.len(), 32);
    assert_ne!(keys["primaryKey"], keys["secondaryKey"]);
    let sub = env
        .call(
            Method::PUT,
            &format!("{base}/subscriptions/test"),
            Some(json!({"properties": {"scope": "/apis/fn", "displayName": "test"}})),
            None,
        )
        .await;
    assert_eq!(sub.status(), 201);
    let sb: Value = sub.json().await.expect("json");
    assert!(
        sb["properties"]["scope"]
            .as_str()
            .is_some_and(|x| x.ends_with("/service/apim-api/apis/fn"))
    );
    let k2: Value = env
        .call(
            Method::POST,
            &format!("{base}/subscriptions/test/listSecrets"),
            None,
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_ne!(k2["primaryKey"], keys["primaryKey"]);
    let subs: Value = env
        .call(Method::GET, &format!("{base}/subscriptions"), None, None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(subs["count"], 2);

    let del_op = env
        .call(
            Method::DELETE,
            &format!("{base}/apis/fn/operations/get-item"),
            None,
            Some("*"),
        )
        .await;
    assert_eq!(del_op.status(), 200);
    let missing_parent = env
        .call(
            Method::GET,
            &format!("{}/apis", svc("rg1", "nope")),
            None,
            None,
        )
        .await;
    assert_eq!(missing_parent.status(), 404);
    let e: Value = missing_parent.json().await.expect("json");
    assert_eq!(e["error"]["code"], "ResourceNotFound");
    env.em.shutdown().await;
}

#[tokio::test]
async fn soft_deleted_services_are_purged_after_the_scaled_retention() {
    // 48 h × 0.00001 ≈ 1.7 s.
    let env = Env::new(0.00001).await;
    env.group("rg1").await;
    env.ready_service("rg1", "apim-old", "Consumption").await;
    let del = env
        .call(Method::DELETE, &svc("rg1", "apim-old"), None, None)
        .await;
    poll_until(&env, &header(&del, "azure-asyncoperation"), "Succeeded").await;
    let one = env
        .call(
            Method::GET,
            "/providers/Microsoft.ApiManagement/locations/japaneast/deletedservices/apim-old",
            None,
            None,
        )
        .await;
    assert_eq!(one.status(), 200);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let list: Value = env
        .call(
            Method::GET,
            "/providers/Microsoft.ApiManagement/deletedservices",
            None,
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list["value"], json!([]));
    assert_eq!(
        env.create_service("rg1", "apim-old", "Consumption")
            .await
            .status(),
        201
    );
    env.em.shutdown().await;
}
