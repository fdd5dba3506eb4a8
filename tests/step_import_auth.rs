//! `apimfn api import` and `apimfn auth configure` against the emulator: from nothing, again with
//! zero writes, the user's policy elements kept, killed mid-way and resumed, drift repaired, and
//! the failures with their messages and exit codes.

mod support;

use serde_json::{Value, json};
use support::emulated::{Emu, changes, show, writes};

/// `apim create` and `function create` side by side, then `function deploy`.
async fn prepared(name: &str) -> Emu {
    let emu = Emu::start_named(0.0005, name).await;
    let (a, f) = tokio::join!(
        emu.run(&["apim", "create"]),
        emu.run(&["function", "create"])
    );
    a.ok();
    f.ok();
    emu.run(&["function", "deploy"]).await.ok();
    emu.clear_log();
    emu
}

fn svc(emu: &Emu) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/{n}-rg/providers/Microsoft.ApiManagement/service/{n}-apim",
        emu.subscription(),
        n = emu.name
    )
}

fn site(emu: &Emu) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/{n}-rg/providers/Microsoft.Web/sites/{n}-func",
        emu.subscription(),
        n = emu.name
    )
}

fn count(log: &[&apimfn_emulator::server::LogEntry], method: &str, suffix: &str) -> usize {
    log.iter()
        .filter(|e| e.method == method && e.path.ends_with(suffix))
        .count()
}

async fn get(emu: &Emu, path: &str) -> Value {
    let azure = emu.azure().await;
    azure
        .arm
        .get_required(path, "2024-05-01")
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

const API_VERSION: &str = "2024-05-01";

#[tokio::test(flavor = "multi_thread")]
async fn import_from_nothing_then_zero_writes_and_the_users_policy_is_kept() {
    let emu = prepared("i1").await;
    let run = emu.run(&["api", "import", "-o", "json"]).await;
    run.ok();
    let out = run.json();
    assert_eq!(out["api"]["path"], "i1-func", "{out}");
    assert_eq!(
        out["api"]["url"],
        "https://i1-apim.azure-api.net/i1-func/HttpExample"
    );
    let svc = svc(&emu);
    assert_eq!(out["api"]["id"], format!("{svc}/apis/i1-func"));
    let log = emu.log();
    let w = writes(&log);
    // Host key, named value, backend, API, one operation per method (GET, POST), policy.
    assert_eq!(
        count(&w, "PUT", "/host/default/functionKeys/apim-i1-apim"),
        1,
        "{}",
        show(&w)
    );
    assert_eq!(
        count(&w, "PUT", "/namedValues/i1-func-key"),
        1,
        "{}",
        show(&w)
    );
    assert_eq!(count(&w, "PUT", "/backends/i1-func"), 1);
    assert_eq!(count(&w, "PUT", "/apis/i1-func"), 1);
    assert_eq!(count(&w, "PUT", "/operations/get-httpexample"), 1);
    assert_eq!(count(&w, "PUT", "/operations/post-httpexample"), 1);
    assert_eq!(count(&w, "PUT", "/apis/i1-func/policies/policy"), 1);
    assert_eq!(w.len(), 7, "{}", show(&w));
    // The key itself never appears in the output.
    let keys = emu
        .azure()
        .await
        .arm
        .post(
            &format!("{}/host/default/listkeys", site(&emu)),
            "2025-05-01",
            None,
        )
        .await
        .expect("listkeys")
        .expect("body");
    let key = keys["functionKeys"]["apim-i1-apim"].as_str().expect("key");
    assert!(!run.stdout.contains(key) && !run.stderr.contains(key));

    // What APIM now holds.
    let backend = get(&emu, &format!("{svc}/backends/i1-func")).await;
    assert_eq!(
        backend["properties"]["url"],
        "https://i1-func.azurewebsites.net/api"
    );
    assert_eq!(
        backend["properties"]["resourceId"],
        format!("https://management.azure.com{}", site(&emu))
    );
    assert_eq!(
        backend["properties"]["credentials"]["header"]["x-functions-key"],
        json!(["{{i1-func-key}}"])
    );
    let api = get(&emu, &format!("{svc}/apis/i1-func")).await;
    assert_eq!(api["properties"]["path"], "i1-func");
    assert_eq!(api["properties"]["subscriptionRequired"], true);
    assert_eq!(api["properties"]["protocols"], json!(["https"]));
    let op = get(
        &emu,
        &format!("{svc}/apis/i1-func/operations/get-httpexample"),
    )
    .await;
    assert_eq!(op["properties"]["urlTemplate"], "/HttpExample");
    assert_eq!(op["properties"]["method"], "GET");
    let nv_value = emu
        .azure()
        .await
        .arm
        .post(
            &format!("{svc}/namedValues/i1-func-key/listValue"),
            API_VERSION,
            None,
        )
        .await
        .expect("listValue")
        .expect("body");
    assert_eq!(nv_value["value"], key);

    // Again: nothing to do.
    emu.clear_log();
    let again = emu.run(&["api", "import", "-o", "json"]).await;
    again.ok();
    let log = emu.log();
    assert!(
        writes(&log).is_empty(),
        "second run wrote:\n{}",
        show(&writes(&log))
    );
    assert_eq!(again.json()["requests"]["writes"], 0);
    assert!(changes(&again.json()).iter().all(|(_, a)| a == "none"));

    // The user adds a policy element of their own (and APIM re-formats the document); a re-run
    // keeps it and writes nothing.
    let azure = emu.azure().await;
    let policy_id = format!("{svc}/apis/i1-func/policies/policy");
    let users = "<policies>\n\t<inbound>\n\t\t<base />\n\t\t<set-header name=\"x-team\" exists-action=\"override\">\n\t\t\t<value>blue</value>\n\t\t</set-header>\n\t\t<set-backend-service backend-id=\"i1-func\" id=\"apim-generated-policy\" />\n\t</inbound>\n\t<backend>\n\t\t<base />\n\t</backend>\n\t<outbound>\n\t\t<base />\n\t</outbound>\n\t<on-error>\n\t\t<base />\n\t</on-error>\n</policies>";
    azure
        .arm
        .put(
            &policy_id,
            API_VERSION,
            &json!({"properties": {"format": "rawxml", "value": users}}),
        )
        .await
        .expect("user's policy");
    emu.clear_log();
    emu.run(&["api", "import"]).await.ok();
    let log = emu.log();
    assert!(
        writes(&log).is_empty(),
        "re-run wrote:\n{}",
        show(&writes(&log))
    );

    // Drift of ours (backend-id changed by hand, our element dropped elsewhere) is repaired
    // without losing the user's element.
    let drifted = users.replace("backend-id=\"i1-func\"", "backend-id=\"other\"");
    azure
        .arm
        .put(
            &policy_id,
            API_VERSION,
            &json!({"properties": {"format": "rawxml", "value": drifted}}),
        )
        .await
        .expect("drift");
    emu.clear_log();
    let fix = emu.run(&["api", "import", "-o", "json"]).await;
    fix.ok();
    let log = emu.log();
    let w = writes(&log);
    assert_eq!(w.len(), 1, "only the policy:\n{}", show(&w));
    let now = get(&emu, &format!("{policy_id}?format=rawxml")).await;
    assert_eq!(now["properties"]["value"], users);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_exit_2_before_any_request_and_missing_steps_are_named() {
    let emu = Emu::start_named(0.0005, "u1").await;
    let run = emu.run(&["api", "import", "--api-path", "/v1/"]).await;
    run.expect_code(2);
    assert!(
        run.stderr.contains("--api-path") && run.stderr.contains("'/v1/'"),
        "{}",
        run.stderr
    );
    let run = emu
        .run(&["auth", "configure", "--client-id", "not-a-guid"])
        .await;
    run.expect_code(2);
    assert!(
        run.stderr.contains("--client-id") && run.stderr.contains("GUID"),
        "{}",
        run.stderr
    );
    assert!(emu.log().is_empty(), "requests were sent: {:?}", emu.log());

    // Nothing exists yet: each command names the one to run first.
    let run = emu.run(&["api", "import"]).await;
    run.expect_code(1);
    assert!(
        run.stderr.contains("run `apimfn apim create` first"),
        "{}",
        run.stderr
    );
    let run = emu.run(&["auth", "configure"]).await;
    run.expect_code(1);
    assert!(
        run.stderr.contains("run `apimfn apim create` first"),
        "{}",
        run.stderr
    );
    assert!(
        writes(&emu.log()).is_empty(),
        "{}",
        show(&writes(&emu.log()))
    );
}

/// The first request whose path ends with `suffix` was answered.
async fn wait_for(emu: &Emu, method: &str, suffix: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        if emu
            .log()
            .iter()
            .any(|e| e.method == method && e.path.ends_with(suffix))
        {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{method} …{suffix} never came"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn import_killed_mid_way_then_rerun_finishes_without_duplicates() {
    let emu = prepared("k1").await;
    // The backend PUT hangs, so the kill lands after the host key and the named value.
    emu.running
        .emulator
        .faults
        .set(
            &json!({"rules": [{"method": "PUT", "pathContains": "/backends/",
                                "action": {"latencyMs": 60000}}]}),
        )
        .expect("faults");
    let mut child = emu.command(&["api", "import"]).spawn().expect("spawn");
    wait_for(&emu, "PUT", "/namedValues/k1-func-key").await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    child.kill().await.expect("kill");
    emu.running.emulator.faults.clear();
    let first = emu.log();
    assert!(
        !first
            .iter()
            .any(|e| e.method == "PUT" && e.path.contains("/apis/")),
        "the kill came too late:\n{}",
        show(&writes(&first))
    );

    let again = emu.run(&["api", "import", "-o", "json"]).await;
    again.ok();
    let log = emu.log();
    let w = writes(&log);
    // The host key was made once; the rerun wrote no second one and no second named value.
    assert_eq!(
        count(&w, "PUT", "/functionKeys/apim-k1-apim"),
        1,
        "{}",
        show(&w)
    );
    assert_eq!(
        count(&w, "PUT", "/namedValues/k1-func-key"),
        1,
        "{}",
        show(&w)
    );
    assert_eq!(count(&w, "PUT", "/apis/k1-func"), 1, "{}", show(&w));
    let out = again.json();
    let acts = changes(&out);
    let of = |s: &str| {
        acts.iter()
            .find(|(r, _)| r.ends_with(s))
            .map(|(_, a)| a.clone())
            .unwrap_or_default()
    };
    assert_eq!(of("/functionKeys/apim-k1-apim"), "none", "{out}");
    assert_eq!(of("/namedValues/k1-func-key"), "none", "{out}");
    assert_eq!(of("/apis/k1-func"), "create", "{out}");
    let ops = emu
        .azure()
        .await
        .arm
        .list(
            &format!("{}/apis/k1-func/operations", svc(&emu)),
            API_VERSION,
        )
        .await
        .expect("operations");
    assert_eq!(ops.len(), 2, "{ops:?}");
    let keys = emu
        .azure()
        .await
        .arm
        .post(
            &format!("{}/host/default/listkeys", site(&emu)),
            "2025-05-01",
            None,
        )
        .await
        .expect("listkeys")
        .expect("body");
    let apim_keys = keys["functionKeys"]
        .as_object()
        .expect("keys")
        .keys()
        .filter(|k| k.starts_with("apim-"))
        .count();
    assert_eq!(apim_keys, 1, "{keys}");
}

async fn graph_apps_tagged(emu: &Emu, tag: &str) -> Vec<Value> {
    let mut url = url::Url::parse("https://graph.microsoft.com/v1.0/applications").expect("url");
    url.query_pairs_mut()
        .append_pair("$filter", &format!("tags/any(t:t eq '{tag}')"));
    emu.azure()
        .await
        .graph
        .list(url.as_str(), "")
        .await
        .expect("graph list")
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_from_nothing_then_zero_writes_then_drift_repaired() {
    let emu = prepared("a1").await;
    emu.run(&["api", "import"]).await.ok();
    let azure = emu.azure().await;
    let direct = "https://a1-func.azurewebsites.net/api/HttpExample?name=x";
    let r = azure.http.get(direct).send().await.expect("direct");
    assert_eq!(r.status(), 200, "Easy Auth is not on yet");

    emu.clear_log();
    let run = emu.run(&["auth", "configure", "-o", "json"]).await;
    run.ok();
    let out = run.json();
    let client_id = out["auth"]["clientId"]
        .as_str()
        .expect("clientId")
        .to_string();
    assert_eq!(out["auth"]["audience"], format!("api://{client_id}"));
    assert_eq!(
        out["auth"]["issuer"],
        format!("https://sts.windows.net/{}/", emu.running.ready.tenant_id)
    );
    let log = emu.log();
    let w = writes(&log);
    let graph: Vec<_> = w
        .iter()
        .filter(|e| e.host == "graph.microsoft.com")
        .copied()
        .collect();
    assert_eq!(
        count(&graph, "POST", "/v1.0/applications"),
        1,
        "{}",
        show(&graph)
    );
    assert_eq!(
        graph.iter().filter(|e| e.method == "PATCH").count(),
        1,
        "{}",
        show(&graph)
    );
    assert_eq!(
        count(&graph, "POST", "/v1.0/servicePrincipals"),
        1,
        "{}",
        show(&graph)
    );
    assert_eq!(
        count(&w, "PUT", "/config/authsettingsV2"),
        1,
        "{}",
        show(&w)
    );
    assert_eq!(count(&w, "PUT", "/policies/policy"), 1, "{}", show(&w));
    assert_eq!(w.len(), 5, "{}", show(&w));
    let tag = format!("apimfn:{}/a1-rg/a1-func", emu.subscription());
    let apps = graph_apps_tagged(&emu, &tag).await;
    assert_eq!(apps.len(), 1);
    assert_eq!(
        apps[0]["identifierUris"],
        json!([format!("api://{client_id}")])
    );
    assert_eq!(apps[0]["displayName"], "a1-func-easyauth");

    // The function refuses direct calls; through APIM (the master key) it answers.
    let r = azure.http.get(direct).send().await.expect("direct");
    assert_eq!(r.status(), 401);
    let svc = svc(&emu);
    let keys = azure
        .arm
        .post(
            &format!("{svc}/subscriptions/master/listSecrets"),
            API_VERSION,
            None,
        )
        .await
        .expect("listSecrets")
        .expect("keys");
    let r = azure
        .http
        .get("https://a1-apim.azure-api.net/a1-func/HttpExample?name=apimfn")
        .header(
            "Ocp-Apim-Subscription-Key",
            keys["primaryKey"].as_str().expect("key"),
        )
        .send()
        .await
        .expect("gateway");
    assert_eq!(r.status(), 200);
    assert!(r.text().await.expect("body").starts_with("Hello, apimfn."));
    let policy = get(
        &emu,
        &format!("{svc}/apis/a1-func/policies/policy?format=rawxml"),
    )
    .await;
    let xml = policy["properties"]["value"].as_str().expect("xml");
    assert!(xml.contains("backend-id=\"a1-func\""), "{xml}");
    assert!(
        xml.contains(&format!(
            "<authentication-managed-identity resource=\"api://{client_id}\" />"
        )),
        "{xml}"
    );

    // Again: no write anywhere, Graph included.
    emu.clear_log();
    let again = emu.run(&["auth", "configure", "-o", "json"]).await;
    again.ok();
    let log = emu.log();
    assert!(
        writes(&log).is_empty(),
        "second run wrote:\n{}",
        show(&writes(&log))
    );
    assert_eq!(again.json()["requests"]["writes"], 0);
    assert_eq!(again.json()["auth"]["clientId"], client_id.as_str());
    // api import after auth keeps the managed-identity element.
    emu.run(&["api", "import"]).await.ok();
    assert!(
        writes(&emu.log()).is_empty(),
        "{}",
        show(&writes(&emu.log()))
    );

    // Drift by hand: anonymous callers let through, another identity allowed, a provider of
    // the user's added. A re-run repairs ours and keeps theirs.
    let auth_id = format!("{}/config/authsettingsV2", site(&emu));
    let mut current = azure
        .arm
        .get_required(&format!("{auth_id}/list"), "2025-05-01")
        .await
        .expect("authsettings");
    current["properties"]["globalValidation"]["unauthenticatedClientAction"] =
        json!("AllowAnonymous");
    current["properties"]["identityProviders"]["azureActiveDirectory"]["validation"]["defaultAuthorizationPolicy"]
        ["allowedPrincipals"]["identities"] = json!(["00000000-0000-0000-0000-000000000001"]);
    current["properties"]["globalValidation"]["excludedPaths"] = json!(["/api/health"]);
    azure
        .arm
        .put(
            &auth_id,
            "2025-05-01",
            &json!({"properties": current["properties"]}),
        )
        .await
        .expect("drift");
    emu.clear_log();
    let fix = emu.run(&["auth", "configure", "-o", "json"]).await;
    fix.ok();
    let log = emu.log();
    let w = writes(&log);
    assert_eq!(w.len(), 1, "only authsettingsV2:\n{}", show(&w));
    assert_eq!(count(&w, "PUT", "/config/authsettingsV2"), 1);
    let fixed = azure
        .arm
        .get_required(&format!("{auth_id}/list"), "2025-05-01")
        .await
        .expect("authsettings");
    let p = &fixed["properties"];
    assert_eq!(
        p["globalValidation"]["unauthenticatedClientAction"],
        "Return401"
    );
    assert_eq!(
        p["globalValidation"]["excludedPaths"],
        json!(["/api/health"])
    );
    let principal = get(&emu, &svc).await["identity"]["principalId"].clone();
    assert_eq!(
        p["identityProviders"]["azureActiveDirectory"]["validation"]["defaultAuthorizationPolicy"]
            ["allowedPrincipals"]["identities"],
        json!([principal])
    );
    let r = azure.http.get(direct).send().await.expect("direct");
    assert_eq!(r.status(), 401);

    // An app registration that does not exist: exit 1, saying what is missing, nothing written.
    emu.clear_log();
    let run = emu
        .run(&[
            "auth",
            "configure",
            "--client-id",
            "11111111-2222-3333-4444-555555555555",
        ])
        .await;
    run.expect_code(1);
    assert!(
        run.stderr.contains(
            "no application (app registration) with appId 11111111-2222-3333-4444-555555555555"
        ) && run.stderr.contains("no service principal"),
        "{}",
        run.stderr
    );
    assert!(
        writes(&emu.log()).is_empty(),
        "{}",
        show(&writes(&emu.log()))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_killed_after_the_app_registration_then_rerun_finishes_it_once() {
    let emu = prepared("r1").await;
    emu.run(&["api", "import"]).await.ok();
    emu.clear_log();
    // Setting the identifier URI hangs: the kill lands between the application and the rest.
    emu.running
        .emulator
        .faults
        .set(
            &json!({"rules": [{"method": "PATCH", "host": "graph.microsoft.com",
                                "action": {"latencyMs": 60000}}]}),
        )
        .expect("faults");
    let mut child = emu.command(&["auth", "configure"]).spawn().expect("spawn");
    wait_for(&emu, "POST", "/v1.0/applications").await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    child.kill().await.expect("kill");
    emu.running.emulator.faults.clear();
    let tag = format!("apimfn:{}/r1-rg/r1-func", emu.subscription());
    let apps = graph_apps_tagged(&emu, &tag).await;
    assert_eq!(apps.len(), 1);
    assert_eq!(
        apps[0]["identifierUris"],
        json!([]),
        "the kill came too late"
    );

    let again = emu.run(&["auth", "configure", "-o", "json"]).await;
    again.ok();
    let log = emu.log();
    let w = writes(&log);
    assert_eq!(
        count(&w, "POST", "/v1.0/applications"),
        1,
        "one application in all:\n{}",
        show(&w)
    );
    assert_eq!(
        count(&w, "POST", "/v1.0/servicePrincipals"),
        1,
        "{}",
        show(&w)
    );
    let apps = graph_apps_tagged(&emu, &tag).await;
    assert_eq!(apps.len(), 1);
    let app_id = apps[0]["appId"].as_str().expect("appId");
    assert_eq!(again.json()["auth"]["clientId"], app_id);
    assert_eq!(
        apps[0]["identifierUris"],
        json!([format!("api://{app_id}")])
    );
    let r = emu
        .azure()
        .await
        .http
        .get("https://r1-func.azurewebsites.net/api/HttpExample")
        .send()
        .await
        .expect("direct");
    assert_eq!(r.status(), 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn import_follows_a_new_path_a_rotated_key_and_changed_functions() {
    let emu = prepared("c1").await;
    emu.run(&["api", "import"]).await.ok();
    let azure = emu.azure().await;
    let svc = svc(&emu);
    // The user's own operation (an id like ours, but not made by apimfn) must survive.
    azure
        .arm
        .put(
            &format!("{svc}/apis/c1-func/operations/get-health"),
            API_VERSION,
            &json!({"properties": {"displayName": "health", "method": "GET", "urlTemplate": "/health"}}),
        )
        .await
        .expect("user's operation");
    // The host key is rotated by hand.
    let rotated = "rotated0123456789abcdefghijklmnopqrstuvwxyzABCDEF";
    azure
        .arm
        .put(
            &format!("{}/host/default/functionKeys/apim-c1-apim", site(&emu)),
            "2025-05-01",
            &json!({"properties": {"name": "apim-c1-apim", "value": rotated}}),
        )
        .await
        .expect("rotate");
    // New code: HttpExample is gone; Items (function key, no `methods`, a typed route
    // parameter) arrives.
    let src = emu.dir.path().join("src2");
    std::fs::create_dir_all(&src).expect("dir");
    for f in ["host.json", "requirements.txt"] {
        std::fs::copy(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("templates/function")
                .join(f),
            src.join(f),
        )
        .expect("copy");
    }
    std::fs::write(
        src.join("function_app.py"),
        "import azure.functions as func\n\napp = func.FunctionApp()\n\n\n@app.function_name(name=\"Items\")\n@app.route(route=\"items/{id:int}\", auth_level=func.AuthLevel.FUNCTION)\ndef items(req: func.HttpRequest) -> func.HttpResponse:\n    return func.HttpResponse(f\"item {req.route_params.get('id')}\")\n",
    )
    .expect("function_app.py");
    let src_arg = src.to_string_lossy().to_string();
    emu.run(&["function", "deploy", "--source", &src_arg])
        .await
        .ok();

    emu.clear_log();
    let run = emu
        .run(&["api", "import", "--api-path", "v2/c1", "-o", "json"])
        .await;
    run.ok();
    let out = run.json();
    assert_eq!(out["api"]["path"], "v2/c1");
    assert_eq!(
        out["api"]["url"],
        "https://c1-apim.azure-api.net/v2/c1/items/{id}"
    );
    assert!(!run.stdout.contains(rotated) && !run.stderr.contains(rotated));
    let acts = changes(&out);
    let of = |s: &str| {
        acts.iter()
            .find(|(r, _)| r.ends_with(s))
            .map(|(_, a)| a.clone())
            .unwrap_or_default()
    };
    assert_eq!(of("/namedValues/c1-func-key"), "update", "{out}");
    assert_eq!(of("/apis/c1-func"), "update", "{out}");
    assert_eq!(of("/operations/get-httpexample"), "delete", "{out}");
    assert_eq!(of("/operations/post-httpexample"), "delete", "{out}");
    assert_eq!(of("/operations/options-items"), "create", "{out}");
    assert_eq!(of("/backends/c1-func"), "none", "{out}");
    let log = emu.log();
    let w = writes(&log);
    assert_eq!(count(&w, "PATCH", "/apis/c1-func"), 1, "{}", show(&w));
    assert_eq!(
        w.iter().filter(|e| e.method == "DELETE").count(),
        2,
        "{}",
        show(&w)
    );

    let ops = azure
        .arm
        .list(&format!("{svc}/apis/c1-func/operations"), API_VERSION)
        .await
        .expect("operations");
    let mut ids: Vec<&str> = ops.iter().filter_map(|o| o["name"].as_str()).collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            "delete-items",
            "get-health",
            "get-items",
            "head-items",
            "options-items",
            "patch-items",
            "post-items",
            "put-items"
        ]
    );
    let op = get(&emu, &format!("{svc}/apis/c1-func/operations/get-items")).await;
    assert_eq!(op["properties"]["urlTemplate"], "/items/{id}");
    assert_eq!(op["properties"]["templateParameters"][0]["name"], "id");
    let nv = azure
        .arm
        .post(
            &format!("{svc}/namedValues/c1-func-key/listValue"),
            API_VERSION,
            None,
        )
        .await
        .expect("listValue")
        .expect("body");
    assert_eq!(nv["value"], rotated);

    // Through the gateway at the new path, with the rotated key sent by APIM (FUNCTION level).
    let keys = azure
        .arm
        .post(
            &format!("{svc}/subscriptions/master/listSecrets"),
            API_VERSION,
            None,
        )
        .await
        .expect("listSecrets")
        .expect("keys");
    let r = azure
        .http
        .get("https://c1-apim.azure-api.net/v2/c1/items/5")
        .header(
            "Ocp-Apim-Subscription-Key",
            keys["primaryKey"].as_str().expect("key"),
        )
        .send()
        .await
        .expect("gateway");
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.expect("body"), "item 5");
}
