//! ARM throttling, fault injection, the admin API, and a restart mid-LRO with `--state-dir`.

use apimfn_emulator::{Config, Running, start};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const API: &str = "api-version=2021-04-01";

fn client(em: &Running) -> reqwest::Client {
    client_for(&em.ca_pem, em.addr)
}

fn client_for(ca_pem: &str, addr: std::net::SocketAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("ca")])
        .resolve("management.azure.com", addr)
        .resolve("login.microsoftonline.com", addr)
        .resolve("graph.microsoft.com", addr)
        .build()
        .expect("client")
}

/// An ARM token for the seeded principal, signed with the emulator's key.
fn token(em: &Running) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs() as i64;
    let seed = em.emulator.world().seed.clone();
    em.emulator.signer.sign(&json!({
        "aud": "https://management.azure.com/",
        "iss": format!("https://sts.windows.net/{}/", seed.tenant_id),
        "tid": seed.tenant_id,
        "oid": seed.object_id,
        "appid": seed.client_id,
        "iat": now, "nbf": now, "exp": now + 3600,
    }))
}

fn groups_url(em: &Running) -> String {
    format!(
        "https://management.azure.com/subscriptions/{}/resourcegroups?{API}",
        em.ready.subscription_id
    )
}

fn group_url(em: &Running, name: &str) -> String {
    format!(
        "https://management.azure.com/subscriptions/{}/resourcegroups/{name}?{API}",
        em.ready.subscription_id
    )
}

async fn admin(
    c: &reqwest::Client,
    em: &Running,
    method: &str,
    what: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let url = format!("{}/.emulator/{what}", em.ready.url);
    let mut rb = c.request(method.parse().expect("method"), url);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.expect("admin call");
    let status = r.status().as_u16();
    let text = r.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn header<'a>(r: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    r.headers().get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn a_tiny_read_bucket_throttles_the_next_read_and_writes_have_their_own() {
    let em = start(Config::default()).await.expect("start");
    let c = client(&em);
    let t = token(&em);
    let (s, settings) = admin(
        &c,
        &em,
        "PUT",
        "settings",
        Some(json!({"throttle": {"readsBucket": 3, "readsPerSecond": 0.5}})),
    )
    .await;
    assert_eq!(s, 200, "{settings}");
    assert_eq!(settings["throttle"]["readsBucket"], 3.0);
    assert_eq!(
        settings["throttle"]["writesBucket"], 200.0,
        "others keep ARM's defaults"
    );

    for left in [2, 1, 0] {
        let r = c
            .get(groups_url(&em))
            .bearer_auth(&t)
            .send()
            .await
            .expect("read");
        assert_eq!(r.status(), 200);
        assert_eq!(
            header(&r, "x-ms-ratelimit-remaining-subscription-reads"),
            Some(left.to_string().as_str())
        );
        // The subscription-wide bucket is 15 times the principal's (45, refilling at 7.5/s, so
        // allow for a slow machine between two requests).
        let global: u64 = header(&r, "x-ms-ratelimit-remaining-subscription-global-reads")
            .expect("global header")
            .parse()
            .expect("number");
        assert!((42 + left..=43 + left).contains(&global), "{global}");
        assert!(header(&r, "x-ms-ratelimit-remaining-subscription-writes").is_none());
    }
    let r = c
        .get(groups_url(&em))
        .bearer_auth(&t)
        .send()
        .await
        .expect("read");
    assert_eq!(r.status(), 429);
    assert_eq!(header(&r, "retry-after"), Some("2"));
    assert_eq!(
        header(&r, "x-ms-ratelimit-remaining-subscription-reads"),
        Some("0")
    );
    let body: Value = r.json().await.expect("json");
    assert_eq!(
        body["error"]["code"], "SubscriptionRequestsThrottled",
        "{body}"
    );
    let msg = body["error"]["message"].as_str().expect("message");
    assert!(
        msg.contains("'read'") && msg.contains("'2' seconds"),
        "{msg}"
    );

    // Writes and deletes are counted in their own buckets.
    let r = c
        .put(group_url(&em, "rg-throttle"))
        .bearer_auth(&t)
        .json(&json!({"location": "japaneast"}))
        .send()
        .await
        .expect("write");
    assert_eq!(r.status(), 201);
    assert_eq!(
        header(&r, "x-ms-ratelimit-remaining-subscription-writes"),
        Some("199")
    );
    assert_eq!(
        header(&r, "x-ms-ratelimit-remaining-subscription-global-writes"),
        Some("2999")
    );
    assert!(header(&r, "x-ms-ratelimit-remaining-subscription-reads").is_none());
    let r = c
        .delete(group_url(&em, "rg-throttle"))
        .bearer_auth(&t)
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), 202);
    assert_eq!(
        header(&r, "x-ms-ratelimit-remaining-subscription-deletes"),
        Some("199")
    );

    // The 429 is in the request log.
    let (_, log) = admin(&c, &em, "GET", "requests", None).await;
    let statuses: Vec<u64> = log["requests"]
        .as_array()
        .expect("log")
        .iter()
        .filter_map(|r| r["status"].as_u64())
        .collect();
    assert_eq!(statuses, vec![200, 200, 200, 429, 201, 202]);
    em.shutdown().await;
}

#[tokio::test]
async fn buckets_refill_in_real_time_and_invalid_tokens_are_not_counted() {
    let em = start(Config::default()).await.expect("start");
    let c = client(&em);
    let t = token(&em);
    let (s, _) = admin(
        &c,
        &em,
        "PUT",
        "settings",
        Some(json!({"throttle": {"readsBucket": 1, "readsPerSecond": 2}})),
    )
    .await;
    assert_eq!(s, 200);
    // Requests without a valid token get the gate's 401 and use no token.
    for _ in 0..3 {
        let r = c
            .get(groups_url(&em))
            .bearer_auth("not-a-token")
            .send()
            .await
            .expect("read");
        assert_eq!(r.status(), 401);
        assert!(header(&r, "x-ms-ratelimit-remaining-subscription-reads").is_none());
    }
    let r = c
        .get(groups_url(&em))
        .bearer_auth(&t)
        .send()
        .await
        .expect("read");
    assert_eq!(r.status(), 200);
    let r = c
        .get(groups_url(&em))
        .bearer_auth(&t)
        .send()
        .await
        .expect("read");
    assert_eq!(r.status(), 429);
    assert_eq!(header(&r, "retry-after"), Some("1"), "at least one second");
    tokio::time::sleep(Duration::from_millis(600)).await;
    let r = c
        .get(groups_url(&em))
        .bearer_auth(&t)
        .send()
        .await
        .expect("read");
    assert_eq!(r.status(), 200, "one token back after 0.5 s at 2/s");

    // Bad settings are refused and change nothing.
    let (s, body) = admin(
        &c,
        &em,
        "PUT",
        "settings",
        Some(json!({"throttle": {"readsBucket": -1}})),
    )
    .await;
    assert_eq!(s, 400, "{body}");
    let (s, _) = admin(&c, &em, "PUT", "settings", Some(json!({"throttel": {}}))).await;
    assert_eq!(s, 400);
    let (_, settings) = admin(&c, &em, "GET", "settings", None).await;
    assert_eq!(settings["throttle"]["readsBucket"], 1.0);
    em.shutdown().await;
}

#[tokio::test]
async fn a_fault_fires_times_then_stops_and_after_skips_matches() {
    let em = start(Config::default()).await.expect("start");
    let c = client(&em);
    let t = token(&em);
    let (s, doc) = admin(
        &c,
        &em,
        "PUT",
        "faults",
        Some(
            json!({"rules": [{"method": "get", "host": "management.azure.com",
            "pathContains": "/resourcegroups", "queryContains": "api-version",
            "action": {"status": 503, "retryAfter": 2}, "times": 2}]}),
        ),
    )
    .await;
    assert_eq!(s, 200, "{doc}");
    for _ in 0..2 {
        let r = c
            .get(groups_url(&em))
            .bearer_auth(&t)
            .send()
            .await
            .expect("read");
        assert_eq!(r.status(), 503);
        assert_eq!(header(&r, "retry-after"), Some("2"));
        let body: Value = r.json().await.expect("json");
        assert_eq!(body["error"]["code"], "ServiceUnavailable", "{body}");
    }
    let r = c
        .get(groups_url(&em))
        .bearer_auth(&t)
        .send()
        .await
        .expect("read");
    assert_eq!(r.status(), 200, "times: 2 — the third request is served");
    let (_, doc) = admin(&c, &em, "GET", "faults", None).await;
    assert_eq!(doc["rules"][0]["fired"], 2, "{doc}");
    assert_eq!(doc["rules"][0]["matched"], 3, "{doc}");

    // `after`: let two through, fail the third (e.g. the third poll), then stop.
    let (s, _) = admin(
        &c,
        &em,
        "PUT",
        "faults",
        Some(json!({"rules": [{"pathContains": "/resourcegroups",
            "action": {"status": 429, "retryAfter": 3}, "after": 2, "times": 1}]})),
    )
    .await;
    assert_eq!(s, 200);
    let mut statuses = vec![];
    for _ in 0..4 {
        let r = c
            .get(groups_url(&em))
            .bearer_auth(&t)
            .send()
            .await
            .expect("read");
        statuses.push(r.status().as_u16());
        if r.status() == 429 {
            assert_eq!(header(&r, "retry-after"), Some("3"));
            let body: Value = r.json().await.expect("json");
            assert_eq!(
                body["error"]["code"], "SubscriptionRequestsThrottled",
                "{body}"
            );
        }
    }
    assert_eq!(statuses, vec![200, 200, 429, 200]);

    // Invalid documents are refused; DELETE clears.
    let (s, _) = admin(
        &c,
        &em,
        "PUT",
        "faults",
        Some(json!({"rules": [{"action": {}}]})),
    )
    .await;
    assert_eq!(s, 400);
    let (s, _) = admin(&c, &em, "DELETE", "faults", None).await;
    assert_eq!(s, 204);
    let (_, doc) = admin(&c, &em, "GET", "faults", None).await;
    assert_eq!(doc["rules"], json!([]));
    em.shutdown().await;
}

async fn seeded_run(seed: u64) -> Vec<u16> {
    let em = start(Config::default()).await.expect("start");
    let c = client(&em);
    let (s, _) = admin(
        &c,
        &em,
        "PUT",
        "faults",
        Some(json!({"seed": seed, "rules": [{"host": "*.azure.com",
            "action": {"status": 500}, "probability": 0.5}]})),
    )
    .await;
    assert_eq!(s, 200);
    let mut out = vec![];
    for _ in 0..24 {
        let r = c.get(groups_url(&em)).send().await.expect("request");
        out.push(r.status().as_u16());
    }
    em.shutdown().await;
    out
}

#[tokio::test]
async fn probability_with_a_seed_is_repeatable_across_emulators() {
    let a = seeded_run(42).await;
    let b = seeded_run(42).await;
    assert_eq!(a, b);
    assert!(a.contains(&500), "{a:?}");
    // Not faulted: the gate's 401 (no token).
    assert!(a.contains(&401), "{a:?}");
}

#[tokio::test]
async fn a_dropped_connection_is_a_client_error_and_logged_with_status_zero() {
    let em = start(Config::default()).await.expect("start");
    let c = client(&em);
    let t = token(&em);
    let (s, _) = admin(
        &c,
        &em,
        "PUT",
        "faults",
        Some(json!({"rules": [{"method": "PUT", "action": {"drop": true}, "times": 1}]})),
    )
    .await;
    assert_eq!(s, 200);
    let err = c
        .put(group_url(&em, "rg-drop"))
        .bearer_auth(&t)
        .json(&json!({"location": "japaneast"}))
        .send()
        .await
        .expect_err("the connection is closed without an answer");
    assert!(err.is_request() || err.is_connect(), "{err:?}");
    let r = c
        .put(group_url(&em, "rg-drop"))
        .bearer_auth(&t)
        .json(&json!({"location": "japaneast"}))
        .send()
        .await
        .expect("second try served");
    assert_eq!(r.status(), 201);
    let (_, log) = admin(&c, &em, "GET", "requests", None).await;
    let statuses: Vec<u64> = log["requests"]
        .as_array()
        .expect("log")
        .iter()
        .filter_map(|r| r["status"].as_u64())
        .collect();
    assert_eq!(statuses, vec![0, 201], "{log}");
    em.shutdown().await;
}

#[tokio::test]
async fn latency_delays_one_request_and_not_a_parallel_one() {
    let em = start(Config::default()).await.expect("start");
    let c = client(&em);
    let (s, _) = admin(
        &c,
        &em,
        "PUT",
        "faults",
        Some(json!({"rules": [{"pathContains": "/slow", "action": {"latencyMs": 1500}}]})),
    )
    .await;
    assert_eq!(s, 200);
    let started = Instant::now();
    let slow = {
        let c = c.clone();
        tokio::spawn(async move {
            let r = c
                .get("https://management.azure.com/slow?api-version=2021-04-01")
                .send()
                .await
                .expect("slow");
            (r.status().as_u16(), started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let fast = c
        .get("https://management.azure.com/fast?api-version=2021-04-01")
        .send()
        .await
        .expect("fast");
    let fast_elapsed = started.elapsed();
    assert_ne!(fast.status(), 0);
    assert!(
        fast_elapsed < Duration::from_millis(1200),
        "{fast_elapsed:?}"
    );
    let (slow_status, slow_elapsed) = slow.await.expect("join");
    assert!(
        slow_elapsed >= Duration::from_millis(1500),
        "{slow_elapsed:?}"
    );
    // Served normally after the wait (the gate answers it).
    assert_ne!(slow_status, 0);
    let (_, log) = admin(&c, &em, "GET", "requests", None).await;
    let slow_entry = log["requests"]
        .as_array()
        .expect("log")
        .iter()
        .find(|r| r["path"] == "/slow")
        .cloned()
        .expect("slow logged");
    assert!(
        slow_entry["durationMs"].as_u64().expect("durationMs") >= 1500,
        "{slow_entry}"
    );
    assert!(slow_entry["time"].is_string());
    em.shutdown().await;
}

#[tokio::test]
async fn faults_apply_to_the_login_host_too() {
    let em = start(Config::default()).await.expect("start");
    let c = client(&em);
    let (s, _) = admin(
        &c,
        &em,
        "PUT",
        "faults",
        Some(
            json!({"rules": [{"host": "login.microsoftonline.com", "pathContains": "/oauth2/",
            "action": {"status": 503, "retryAfter": 1}, "times": 1}]}),
        ),
    )
    .await;
    assert_eq!(s, 200);
    let url = format!(
        "https://login.microsoftonline.com/{}/oauth2/v2.0/token",
        em.ready.tenant_id
    );
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}&scope=https%3A%2F%2Fmanagement.azure.com%2F.default",
        em.ready.client_id, em.ready.client_secret
    );
    let r = c
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.clone())
        .send()
        .await
        .expect("token");
    assert_eq!(r.status(), 503);
    assert_eq!(header(&r, "retry-after"), Some("1"));
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"], "temporarily_unavailable", "{body}");
    assert!(body["error_description"].is_string());
    let r = c
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.clone())
        .send()
        .await
        .expect("token");
    assert_ne!(r.status(), 503, "times: 1");
    // Admin calls are never faulted, even by a catch-all rule.
    let (s, _) = admin(
        &c,
        &em,
        "PUT",
        "faults",
        Some(json!({"rules": [{"action": {"status": 500}}]})),
    )
    .await;
    assert_eq!(s, 200);
    let (s, doc) = admin(&c, &em, "GET", "faults", None).await;
    assert_eq!(s, 200);
    assert_eq!(doc["rules"][0]["matched"], 0);
    em.shutdown().await;
}

#[tokio::test]
async fn state_hides_secrets_and_reset_clears_everything_but_the_seed() {
    let em = start(Config::default()).await.expect("start");
    let c = client(&em);
    let t = token(&em);
    let r = c
        .put(group_url(&em, "rg-state"))
        .bearer_auth(&t)
        .json(&json!({"location": "japaneast"}))
        .send()
        .await
        .expect("write");
    assert_eq!(r.status(), 201);
    let (s, state) = admin(&c, &em, "GET", "state", None).await;
    assert_eq!(s, 200);
    let text = state.to_string();
    assert!(text.contains("rg-state"), "{text}");
    assert!(
        !text.contains(&em.ready.client_secret),
        "the seeded secret leaks"
    );
    assert!(!text.contains("signingKey"));
    assert_eq!(state["seed"]["tenantId"], em.ready.tenant_id.as_str());
    let key = em.emulator.world().signing_key.clone().expect("key");
    assert!(!text.contains(&key[..40]));

    let (s, _) = admin(
        &c,
        &em,
        "PUT",
        "faults",
        Some(json!({"rules": [{"action": {"status": 500}}]})),
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = admin(&c, &em, "POST", "reset", None).await;
    assert_eq!(s, 204);
    let (_, state) = admin(&c, &em, "GET", "state", None).await;
    let resources = state["resources"].as_object().expect("resources");
    assert!(resources.keys().all(|k| !k.contains("rg-state")), "{state}");
    // The seeded Owner assignment is back, so the same token still works.
    assert!(
        resources.keys().any(|k| k.contains("roleassignments")),
        "{state}"
    );
    let (_, faults) = admin(&c, &em, "GET", "faults", None).await;
    assert_eq!(faults["rules"], json!([]));
    let (_, log) = admin(&c, &em, "GET", "requests", None).await;
    assert_eq!(log["requests"], json!([]));
    let r = c
        .get(groups_url(&em))
        .bearer_auth(&t)
        .send()
        .await
        .expect("read");
    assert_eq!(r.status(), 200, "seed, key and Owner role survive a reset");

    let (s, health) = admin(&c, &em, "GET", "health", None).await;
    assert_eq!((s, health), (200, json!({"status": "ok"})));
    let (s, body) = admin(&c, &em, "GET", "nothing", None).await;
    assert_eq!(s, 404, "{body}");
    em.shutdown().await;
}

#[tokio::test]
async fn a_restart_with_a_state_dir_carries_on_a_group_delete() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = Config {
        state_dir: Some(dir.path().to_path_buf()),
        // A group delete models about 3 minutes: 1.8 s here.
        time_scale: 0.01,
        ..Config::default()
    };
    let first = start(cfg.clone()).await.expect("start");
    let c = client(&first);
    let t = token(&first);
    let r = c
        .put(group_url(&first, "rg-restart"))
        .bearer_auth(&t)
        .json(&json!({"location": "japaneast"}))
        .send()
        .await
        .expect("create");
    assert_eq!(r.status(), 201);
    let (s, _) = admin(
        &c,
        &first,
        "PUT",
        "faults",
        Some(json!({"rules": [{"host": "graph.microsoft.com", "action": {"status": 500}}]})),
    )
    .await;
    assert_eq!(s, 200);
    let r = c
        .delete(group_url(&first, "rg-restart"))
        .bearer_auth(&t)
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), 202);
    let location = header(&r, "location").expect("Location").to_string();
    assert!(
        location.starts_with("https://management.azure.com/"),
        "{location}"
    );
    let first_port = first.addr.port();
    first.shutdown().await;

    let second = start(cfg).await.expect("restart");
    assert_ne!(second.addr.port(), first_port);
    let c = client(&second);
    // The token signed before the restart is still valid: same key.
    let r = c.get(&location).bearer_auth(&t).send().await.expect("poll");
    assert_eq!(r.status(), 202, "still deleting after the restart");
    // The group (persisted while deleting) is still in the state, in `Deleting`.
    let (_, state) = admin(&c, &second, "GET", "state", None).await;
    let group = state["resources"]
        .as_object()
        .expect("resources")
        .iter()
        .find(|(k, _)| k.ends_with("/resourcegroups/rg-restart"))
        .map(|(_, v)| v.clone())
        .expect("the group survived the restart");
    assert_eq!(group["properties"]["provisioningState"], "Deleting");

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = c.get(&location).bearer_auth(&t).send().await.expect("poll");
        if r.status() == 200 {
            break;
        }
        assert_eq!(r.status(), 202);
        assert!(Instant::now() < deadline, "the delete never finished");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let r = c
        .get(group_url(&second, "rg-restart"))
        .bearer_auth(&t)
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 404);
    let (_, state) = admin(&c, &second, "GET", "state", None).await;
    assert!(
        !state["resources"].to_string().contains("rg-restart"),
        "{state}"
    );
    // The request log and the faults were not persisted.
    let (_, faults) = admin(&c, &second, "GET", "faults", None).await;
    assert_eq!(faults["rules"], json!([]));
    let (_, log) = admin(&c, &second, "GET", "requests", None).await;
    let log = log["requests"].as_array().expect("log");
    assert!(log.iter().all(|e| e["method"] != "PUT"), "{log:?}");
    second.shutdown().await;
}

#[tokio::test]
async fn tenant_level_requests_report_tenant_buckets() {
    let em = start(Config::default()).await.expect("start");
    let c = client(&em);
    let t = token(&em);
    let r = c
        .get("https://management.azure.com/providers/Microsoft.Web/availableStacks?api-version=2024-04-01")
        .bearer_auth(&t)
        .send()
        .await
        .expect("tenant-level read");
    assert_eq!(
        header(&r, "x-ms-ratelimit-remaining-tenant-reads"),
        Some("249")
    );
    assert!(header(&r, "x-ms-ratelimit-remaining-subscription-reads").is_none());
    // Throttling off: no headers.
    let (s, _) = admin(
        &c,
        &em,
        "PUT",
        "settings",
        Some(json!({"throttle": {"enabled": false}})),
    )
    .await;
    assert_eq!(s, 200);
    let r = c
        .get(groups_url(&em))
        .bearer_auth(&t)
        .send()
        .await
        .expect("read");
    assert_eq!(r.status(), 200);
    assert!(header(&r, "x-ms-ratelimit-remaining-subscription-reads").is_none());
    em.shutdown().await;
}
