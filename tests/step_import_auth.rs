//! `apimfn api import` and `apimfn auth configure` against the emulator: from nothing, again with
//! zero writes, the user's policy elements kept, killed mid-way and resumed, drift repaired, and
//! the failures with their messages and exit codes.

mod support;

use serde_json::{Value, json};
use support::emulated::{Emu, show, writes};

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

fn actions(out: &Value) -> Vec<(String, String)> {
    out["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            (
                c["resource"].as_str().unwrap_or("").to_string(),
                c["action"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
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
    assert!(actions(&again.json()).iter().all(|(_, a)| a == "none"));

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
