//! `apimfn plan` (and `setup --dry-run`) against the emulator: reads only, whatever the state;
//! everything to create on a fresh subscription, nothing after `setup`, exactly the drifted
//! fields (secrets redacted) after changes by hand, and `--detailed-exitcode`.

mod support;

use serde_json::{Value, json};
use support::emulated::{Emu, changes, show, writes};

const WEB: &str = "2024-04-01";
const APIM: &str = "2024-05-01";

fn action_of(out: &Value, suffix: &str) -> String {
    changes(out)
        .into_iter()
        .find(|(r, _)| r.ends_with(suffix))
        .map(|(_, a)| a)
        .unwrap_or_else(|| panic!("no change for …{suffix} in {out:#}"))
}

fn assert_no_writes(emu: &Emu, what: &str) {
    let log = emu.log();
    let w = writes(&log);
    assert!(w.is_empty(), "{what} wrote:\n{}", show(&w));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fresh_subscription_plans_every_create_and_writes_nothing() {
    let emu = Emu::start_named(0.001, "p1").await;
    let run = emu
        .run(&["plan", "--detailed-exitcode", "-o", "json"])
        .await;
    run.expect_code(4);
    let out = run.json();
    assert_no_writes(&emu, "plan");
    assert_eq!(out["pending"], true);
    assert_eq!(out["requests"]["writes"], 0);
    for suffix in [
        "/resourceGroups/p1-rg",
        "/service/p1-apim",
        "/serverfarms/p1-plan",
        "/sites/p1-func",
        "/deployments/package",
        "/apis/p1-func",
        "/policies/policy",
        "/backends/p1-func",
        "/namedValues/p1-func-key",
        "/roleAssignments/(known after apply)",
        "/applications/(known after apply)",
    ] {
        assert_eq!(action_of(&out, suffix), "create", "{suffix}");
    }
    assert_eq!(action_of(&out, "/config/authsettingsV2"), "update");
    assert_eq!(out["summary"]["none"], 0, "{out:#}");

    // `setup --dry-run` is the same plan; without --detailed-exitcode a plan exits 0.
    emu.clear_log();
    let dry = emu.run(&["setup", "--dry-run", "-o", "json"]).await;
    dry.ok();
    assert_no_writes(&emu, "setup --dry-run");
    assert_eq!(dry.json()["summary"], out["summary"]);
    let text = emu.run(&["plan"]).await;
    text.ok();
    assert!(
        text.stdout.contains("to create") && text.stdout.contains("create  APIM service"),
        "{}",
        text.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn after_setup_no_changes_then_each_drift_is_named_field_by_field() {
    let emu = Emu::start_named(0.0005, "p2").await;
    emu.run(&["setup", "--skip-verify"]).await.ok();
    emu.clear_log();
    let clean = emu
        .run(&["plan", "--detailed-exitcode", "-o", "json"])
        .await;
    clean.ok();
    assert_no_writes(&emu, "plan after setup");
    let out = clean.json();
    assert_eq!(out["pending"], false, "{out:#}");
    assert!(changes(&out).iter().all(|(_, a)| a == "none"), "{out:#}");

    // Drift by hand, as `az rest` would: Easy Auth lets anonymous calls in, the named value
    // holds another secret, and the memory size of the app changed.
    let azure = emu.azure().await;
    let sub = emu.subscription().to_string();
    let site =
        format!("/subscriptions/{sub}/resourceGroups/p2-rg/providers/Microsoft.Web/sites/p2-func");
    let svc = format!(
        "/subscriptions/{sub}/resourceGroups/p2-rg/providers/Microsoft.ApiManagement/service/p2-apim"
    );
    let auth_id = format!("{site}/config/authsettingsV2");
    let mut auth = azure
        .arm
        .get_required(&format!("{auth_id}/list"), WEB)
        .await
        .expect("auth settings");
    auth["properties"]["globalValidation"]["unauthenticatedClientAction"] = json!("AllowAnonymous");
    azure
        .arm
        // Only `properties` goes back: the envelope's read-only fields are refused, as by Azure.
        .put(&auth_id, WEB, &json!({"properties": auth["properties"]}))
        .await
        .expect("drift auth");
    let secret = "handmade-secret-value-0123456789";
    azure
        .arm
        .put(
            &format!("{svc}/namedValues/p2-func-key"),
            APIM,
            &json!({"properties": {"displayName": "p2-func-key", "value": secret, "secret": true,
                   "tags": ["apimfn", "function-key"]}}),
        )
        .await
        .expect("drift named value");

    emu.clear_log();
    let drifted = emu
        .run(&["plan", "--detailed-exitcode", "-o", "json", "-vv"])
        .await;
    drifted.expect_code(4);
    assert_no_writes(&emu, "plan after drift");
    let out = drifted.json();
    let updated: Vec<(String, String)> = changes(&out)
        .into_iter()
        .filter(|(_, a)| a != "none")
        .collect();
    assert_eq!(
        updated.len(),
        2,
        "only the two drifted resources: {updated:?}"
    );
    let change = |suffix: &str| -> Value {
        out["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .find(|c| c["resource"].as_str().unwrap_or("").ends_with(suffix))
            .cloned()
            .expect("change")
    };
    let auth_change = change("/config/authsettingsV2");
    assert_eq!(auth_change["action"], "update");
    assert_eq!(
        auth_change["fields"],
        json!([{"path": "properties.globalValidation.unauthenticatedClientAction",
                "old": "AllowAnonymous", "new": "Return401"}])
    );
    let nv = change("/namedValues/p2-func-key");
    assert_eq!(nv["action"], "update");
    let value = nv["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .find(|f| f["path"] == "properties.value")
        .cloned()
        .unwrap_or_else(|| panic!("no properties.value change: {nv:#}"));
    assert_eq!(value["old"], "(secret)", "redacted: {value}");
    assert_eq!(value["new"], "(secret)", "redacted: {value}");
    let everything = format!("{}{}", drifted.stdout, drifted.stderr);
    assert!(
        !everything.contains(secret),
        "the named value's secret leaked:\n{everything}"
    );

    // The text form names the field, old → new.
    let text = emu.run(&["plan"]).await;
    assert!(
        text.stdout
            .contains("unauthenticatedClientAction: \"AllowAnonymous\" → \"Return401\""),
        "{}",
        text.stdout
    );

    // setup repairs exactly that; the plan is clean again.
    emu.run(&["setup", "--skip-verify"]).await.ok();
    emu.clear_log();
    emu.run(&["plan", "--detailed-exitcode"]).await.ok();
    assert_no_writes(&emu, "plan after repair");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_during_activation_does_not_wait_and_plans_the_import() {
    // At scale 1.0 activation takes 45 real minutes: the plan must not wait for it.
    let emu = Emu::start_named(1.0, "p3").await;
    emu.run(&["apim", "create", "--no-wait"]).await.ok();
    emu.clear_log();
    let started = std::time::Instant::now();
    let run = emu
        .run(&["plan", "--detailed-exitcode", "-o", "json"])
        .await;
    run.expect_code(4);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "the plan waited for the activation"
    );
    assert_no_writes(&emu, "plan during activation");
    let out = run.json();
    assert_eq!(action_of(&out, "/service/p3-apim"), "none");
    assert_eq!(action_of(&out, "/resourceGroups/p3-rg"), "none");
    assert_eq!(action_of(&out, "/apis/p3-func"), "create");
    assert_eq!(action_of(&out, "/sites/p3-func"), "create");
}
