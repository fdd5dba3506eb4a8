//! `apimfn verify`, `status` and `destroy` against the emulator: the whole chain verified (direct
//! 401, through APIM 200) and each broken link diagnosed; status on nothing and on everything
//! with zero writes; destroy removing the group, purging the soft-deleted APIM (the name is free
//! again) and deleting the app registration apimfn created, then converging; destroy refusing
//! without --yes on a pipe; destroy resumed after an interruption.

mod support;

use apimfn::azure::Azure;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::emulated::{Emu, show, writes};

const WEB: &str = "2025-05-01";
const APIM: &str = "2024-05-01";

fn rg(emu: &Emu) -> String {
    format!("/subscriptions/{}/resourceGroups/t1-rg", emu.subscription())
}

fn svc(emu: &Emu) -> String {
    format!(
        "{}/providers/Microsoft.ApiManagement/service/t1-apim",
        rg(emu)
    )
}

fn site(emu: &Emu) -> String {
    format!("{}/providers/Microsoft.Web/sites/t1-func", rg(emu))
}

fn tag(emu: &Emu) -> String {
    format!("apimfn:{}/t1-rg/t1-func", emu.subscription())
}

fn policy(mi: Option<&str>) -> String {
    let mi = mi
        .map(|r| format!("<authentication-managed-identity resource=\"{r}\" />"))
        .unwrap_or_default();
    format!(
        "<policies><inbound><base /><set-backend-service id=\"apim-generated-policy\" backend-id=\"t1-func\" />{mi}</inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"
    )
}

/// A Graph write retried through the replication delay of a new object (404 for a moment).
async fn graph_write(azure: &Azure, method: Method, path: &str, body: Value) -> Option<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let req = azure
            .graph
            .request(method.clone(), path, "")
            .expect("request")
            .json(&body);
        match azure.graph.send(&req).await {
            Ok(r) => return r.body,
            Err(e)
                if Instant::now() < deadline && (e.is_not_found() || e.status() == Some(400)) =>
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("{method} {path}: {e}"),
        }
    }
}

/// An app registration tagged the way `auth configure` tags it, with `api://{appId}` and a
/// service principal. Returns (object id, appId).
async fn tagged_app(emu: &Emu, azure: &Azure) -> (String, String) {
    app_registration(azure, "t1-func-easyauth", &[tag(emu).as_str()]).await
}

/// An app registration with `api://{appId}` and a service principal, carrying `tags`.
async fn app_registration(azure: &Azure, name: &str, tags: &[&str]) -> (String, String) {
    let app = graph_write(
        azure,
        Method::POST,
        "/v1.0/applications",
        json!({"displayName": name, "signInAudience": "AzureADMyOrg", "tags": tags}),
    )
    .await
    .expect("application");
    let object_id = app["id"].as_str().expect("id").to_string();
    let app_id = app["appId"].as_str().expect("appId").to_string();
    graph_write(
        azure,
        Method::PATCH,
        &format!("/v1.0/applications/{object_id}"),
        json!({"identifierUris": [format!("api://{app_id}")]}),
    )
    .await;
    graph_write(
        azure,
        Method::POST,
        "/v1.0/servicePrincipals",
        json!({"appId": app_id}),
    )
    .await;
    (object_id, app_id)
}

struct Chain {
    azure: Azure,
    app_id: String,
    apim_principal: String,
}

/// The whole chain through the step commands: `apim create`, `function create`, `function
/// deploy`, `api import`, `auth configure`.
async fn whole_chain(emu: &Emu) -> Chain {
    for step in [
        &["apim", "create"][..],
        &["function", "create"],
        &["function", "deploy"],
        &["api", "import"],
        &["auth", "configure"],
    ] {
        emu.run(step).await.ok();
    }
    let azure = emu.azure().await;
    let apim = azure.arm.get_required(&svc(emu), APIM).await.expect("apim");
    let apim_principal = apim["identity"]["principalId"]
        .as_str()
        .expect("principal")
        .to_string();
    let apps = tagged_apps(emu, &azure).await;
    assert_eq!(apps.len(), 1, "auth configure tags its app registration");
    let app_id = apps[0]["appId"].as_str().expect("appId").to_string();
    Chain {
        azure,
        app_id,
        apim_principal,
    }
}

async fn set_policy(emu: &Emu, azure: &Azure, mi: Option<&str>) {
    azure
        .arm
        .put(
            &format!("{}/apis/t1-func/policies/policy", svc(emu)),
            APIM,
            &json!({"properties": {"format": "rawxml", "value": policy(mi)}}),
        )
        .await
        .expect("policy");
}

async fn tagged_apps(emu: &Emu, azure: &Azure) -> Vec<Value> {
    azure
        .graph
        .list(
            &format!("/v1.0/applications?$filter=tags/any(t:t eq '{}')", tag(emu)),
            "",
        )
        .await
        .expect("apps")
}

async fn name_available(emu: &Emu, azure: &Azure) -> bool {
    let answer = azure
        .arm
        .post(
            &format!(
                "/subscriptions/{}/providers/Microsoft.ApiManagement/checkNameAvailability",
                emu.subscription()
            ),
            APIM,
            Some(&json!({"name": "t1-apim"})),
        )
        .await
        .expect("check")
        .expect("answer");
    answer["nameAvailable"] == true
}

#[tokio::test(flavor = "multi_thread")]
async fn status_on_nothing_reports_everything_missing_and_writes_nothing() {
    let emu = Emu::start(0.0005).await;
    let run = emu.run(&["status", "-o", "json"]).await;
    run.ok();
    let out = run.json();
    assert_eq!(out["complete"], false, "{out}");
    let resources = out["resources"].as_array().expect("resources");
    assert_eq!(resources.len(), 16, "{out}");
    for r in resources {
        assert_eq!(r["state"], "missing", "{r}");
        assert_eq!(r["exists"], false, "{r}");
    }
    let todo = out["setupWouldDo"].as_array().expect("todo");
    assert_eq!(todo[0], "create the resource group t1-rg", "{out}");
    assert!(
        todo.iter()
            .any(|t| t.as_str().is_some_and(|t| t.contains("Easy Auth"))),
        "{out}"
    );
    assert_eq!(out["requests"]["writes"], 0);
    let log = emu.log();
    assert!(
        writes(&log).is_empty(),
        "status wrote:\n{}",
        show(&writes(&log))
    );

    let text = emu.run(&["status"]).await;
    text.ok();
    assert!(
        text.stdout.contains("setup would still:"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("resource group"), "{}", text.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_whole_chain_verifies_status_is_complete_and_destroy_removes_everything_then_converges()
{
    let emu = Emu::start(0.0005).await;
    let chain = whole_chain(&emu).await;

    // verify: direct 401, through APIM 200, nothing written.
    emu.clear_log();
    let run = emu.run(&["verify", "-o", "json"]).await;
    run.ok();
    let out = run.json();
    let v = &out["verify"];
    assert_eq!(v["passed"], true, "{out}");
    assert_eq!(v["direct"]["status"], 401, "{out}");
    assert_eq!(v["viaApim"]["status"], 200, "{out}");
    assert_eq!(
        v["viaApim"]["url"],
        "https://t1-apim.azure-api.net/t1-func/HttpExample?name=apimfn"
    );
    assert!(v.get("diagnosis").is_none(), "{out}");
    let log = emu.log();
    assert!(
        writes(&log).is_empty(),
        "verify wrote:\n{}",
        show(&writes(&log))
    );
    // The calls themselves: the function directly, the gateway with the key.
    assert!(
        log.iter()
            .any(|e| e.host == "t1-func.azurewebsites.net" && e.status == 401)
    );
    assert!(
        log.iter()
            .any(|e| e.host == "t1-apim.azure-api.net" && e.status == 200)
    );
    let keys = chain
        .azure
        .arm
        .post(
            &format!("{}/subscriptions/master/listSecrets", svc(&emu)),
            APIM,
            None,
        )
        .await
        .expect("keys")
        .expect("body");
    let key = keys["primaryKey"].as_str().expect("key");
    assert!(!run.stdout.contains(key) && !run.stderr.contains(key));
    let text = emu.run(&["verify"]).await;
    text.ok();
    assert!(
        text.stdout.contains("verification passed"),
        "{}",
        text.stdout
    );

    // status: everything there and as set up, nothing left to do, zero writes.
    emu.clear_log();
    let run = emu.run(&["status", "-o", "json"]).await;
    run.ok();
    let out = run.json();
    for r in out["resources"].as_array().expect("resources") {
        assert_eq!(r["state"], "ok", "{r}\n{out}");
    }
    assert_eq!(out["complete"], true, "{out}");
    assert_eq!(out["setupWouldDo"], json!([]));
    let log = emu.log();
    assert!(
        writes(&log).is_empty(),
        "status wrote:\n{}",
        show(&writes(&log))
    );
    let host_key = keys_of(&chain.azure, &emu).await;
    assert!(!run.stdout.contains(&host_key), "a host key leaked");

    // destroy: group deleted, soft-deleted APIM purged, app registration deleted.
    assert!(!name_available(&emu, &chain.azure).await);
    emu.clear_log();
    let run = emu.run(&["destroy", "--yes", "-o", "json"]).await;
    run.ok();
    let out = run.json();
    assert_eq!(out["destroy"]["resourceGroupDeleted"], true, "{out}");
    assert_eq!(out["destroy"]["apimPurged"], true, "{out}");
    assert_eq!(
        out["destroy"]["appRegistrationsDeleted"],
        json!([chain.app_id]),
        "{out}"
    );
    let log = emu.log();
    let w: Vec<String> = writes(&log)
        .iter()
        .map(|e| format!("{} {}", e.method, e.path))
        .collect();
    assert_eq!(w.len(), 3, "{w:?}");
    assert!(
        w[0].starts_with("DELETE") && w[0].to_ascii_lowercase().ends_with("/resourcegroups/t1-rg"),
        "{w:?}"
    );
    assert!(
        w[1].starts_with("DELETE") && w[1].contains("/deletedservices/t1-apim"),
        "{w:?}"
    );
    assert!(w[2].starts_with("DELETE /v1.0/applications/"), "{w:?}");
    let azure = &chain.azure;
    assert!(
        azure
            .arm
            .get(&rg(&emu), "2025-04-01")
            .await
            .expect("get")
            .is_none()
    );
    assert!(
        name_available(&emu, azure).await,
        "the APIM name is not free"
    );
    assert!(tagged_apps(&emu, azure).await.is_empty());
    // The seeded principal still works: only apimfn's app was deleted.
    let _ = chain.apim_principal;

    // destroy again: nothing found, nothing sent.
    emu.clear_log();
    let again = emu.run(&["destroy", "--yes", "-o", "json"]).await;
    again.ok();
    let log = emu.log();
    assert!(
        writes(&log).is_empty(),
        "second destroy wrote:\n{}",
        show(&writes(&log))
    );
    assert_eq!(again.json()["requests"]["writes"], 0);
}

async fn keys_of(azure: &Azure, emu: &Emu) -> String {
    let keys = azure
        .arm
        .post(&format!("{}/host/default/listkeys", site(emu)), WEB, None)
        .await
        .expect("listkeys")
        .expect("keys");
    keys["functionKeys"]["apim-t1-apim"]
        .as_str()
        .expect("key")
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_diagnoses_each_broken_link_with_exit_3() {
    let emu = Emu::start(0.0005).await;
    let chain = whole_chain(&emu).await;
    let azure = &chain.azure;
    let auth_path = format!("{}/config/authsettingsV2", site(&emu));
    // What `auth configure` left, as a PUT body (only `properties` is writable).
    let good = json!({"properties": azure
        .arm
        .get_required(&auth_path, WEB)
        .await
        .expect("authsettingsV2")["properties"]});

    // Easy Auth off by hand: the function answers anyone.
    azure
        .arm
        .put(
            &auth_path,
            WEB,
            &json!({"properties": {"platform": {"enabled": false}}}),
        )
        .await
        .expect("auth off");
    let run = emu.run(&["verify", "-o", "json"]).await;
    run.expect_code(3);
    let out = run.json();
    assert_eq!(out["verify"]["passed"], false);
    assert_eq!(out["verify"]["direct"]["status"], 200, "{out}");
    assert!(run.stderr.contains("bypass possible"), "{}", run.stderr);
    assert!(run.stderr.contains("platform.enabled"), "{}", run.stderr);
    emu.run(&["auth", "configure"]).await.ok();
    emu.run(&["verify"]).await.ok();

    // The managed-identity policy removed by hand: Easy Auth's 401 comes back through APIM.
    set_policy(&emu, azure, None).await;
    let run = emu.run(&["verify", "-o", "json"]).await;
    run.expect_code(3);
    let out = run.json();
    assert_eq!(out["verify"]["direct"]["status"], 401, "{out}");
    assert_eq!(out["verify"]["viaApim"]["status"], 401, "{out}");
    let d = out["verify"]["diagnosis"].as_str().expect("diagnosis");
    assert!(d.starts_with("token:"), "{d}");
    assert!(d.contains("no <authentication-managed-identity>"), "{d}");
    assert!(run.stderr.contains("verification failed"), "{}", run.stderr);

    // A token for another audience: the audience link.
    set_policy(&emu, azure, Some("https://management.azure.com/")).await;
    let run = emu.run(&["verify", "-o", "json"]).await;
    run.expect_code(3);
    let d = run.json()["verify"]["diagnosis"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(d.contains("audience mismatch"), "{d}");
    assert!(d.contains("https://management.azure.com/"), "{d}");

    // The right token, but APIM's identity not among the allowed ones: Easy Auth's 403.
    set_policy(&emu, azure, Some(&format!("api://{}", chain.app_id))).await;
    let mut other = good.clone();
    other["properties"]["identityProviders"]["azureActiveDirectory"]["validation"]["defaultAuthorizationPolicy"]
        ["allowedPrincipals"]["identities"] = json!(["00000000-0000-0000-0000-000000000001"]);
    azure.arm.put(&auth_path, WEB, &other).await.expect("auth");
    let run = emu.run(&["verify", "-o", "json"]).await;
    run.expect_code(3);
    let out = run.json();
    assert_eq!(out["verify"]["viaApim"]["status"], 403, "{out}");
    let d = out["verify"]["diagnosis"].as_str().unwrap_or_default();
    assert!(d.starts_with("allowed identities"), "{d}");
    assert!(d.contains(&chain.apim_principal), "{d}");
    azure.arm.put(&auth_path, WEB, &good).await.expect("auth");

    // The master subscription suspended: APIM's own 401 about the key.
    let master = format!("{}/subscriptions/master", svc(&emu));
    let suspend = |state: &str| {
        azure
            .arm
            .request(Method::PATCH, &master, APIM)
            .expect("request")
            .if_match_any()
            .json(&json!({"properties": {"state": state}}))
    };
    azure
        .arm
        .execute(&suspend("suspended"))
        .await
        .expect("suspend");
    let run = emu.run(&["verify", "-o", "json"]).await;
    run.expect_code(3);
    let out = run.json();
    assert_eq!(out["verify"]["viaApim"]["status"], 401, "{out}");
    let d = out["verify"]["diagnosis"].as_str().unwrap_or_default();
    assert!(d.starts_with("subscription key"), "{d}");
    azure.arm.execute(&suspend("active")).await.expect("resume");

    // Repaired: passes again.
    emu.run(&["verify"]).await.ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_before_anything_exists_fails_with_what_to_run() {
    let emu = Emu::start(0.0005).await;
    let run = emu.run(&["verify", "-o", "json"]).await;
    run.expect_code(3);
    assert!(run.stderr.contains("function create"), "{}", run.stderr);
    assert_eq!(run.json()["verify"]["passed"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn destroy_without_yes_on_a_pipe_refuses_before_sending_anything() {
    let emu = Emu::start(0.0005).await;
    let run = emu.run(&["destroy"]).await;
    run.expect_code(2);
    assert!(run.stderr.contains("--yes"), "{}", run.stderr);
    assert!(run.stderr.contains("t1-rg"), "{}", run.stderr);
    assert!(emu.log().is_empty(), "sent:\n{:?}", emu.log());
}

#[tokio::test(flavor = "multi_thread")]
async fn destroy_after_the_group_went_still_purges_and_keeps_the_app_on_request() {
    let emu = Emu::start(0.0005).await;
    emu.run(&["apim", "create"]).await.ok();
    let azure = emu.azure().await;
    let (object_id, _) = tagged_app(&emu, &azure).await;
    // An earlier destroy was interrupted right after the group delete.
    azure
        .arm
        .delete(
            &format!("/subscriptions/{}/resourcegroups/t1-rg", emu.subscription()),
            "2025-04-01",
        )
        .await
        .expect("group delete");
    assert!(
        !name_available(&emu, &azure).await,
        "soft-deleted name is reserved"
    );

    emu.clear_log();
    let run = emu
        .run(&["destroy", "--yes", "--keep-app-registration", "-o", "json"])
        .await;
    run.ok();
    let out = run.json();
    assert_eq!(out["destroy"]["resourceGroupDeleted"], false, "{out}");
    assert_eq!(out["destroy"]["apimPurged"], true, "{out}");
    let log = emu.log();
    let w = writes(&log);
    assert_eq!(w.len(), 1, "only the purge:\n{}", show(&w));
    assert!(
        w[0].path
            .contains("/locations/japaneast/deletedservices/t1-apim")
    );
    assert!(name_available(&emu, &azure).await);
    // Kept, and no Graph request at all.
    assert_eq!(tagged_apps(&emu, &azure).await.len(), 1);
    assert!(!log.iter().any(|e| e.host == "graph.microsoft.com"));

    // Now without --keep-app-registration: only the tagged app goes.
    let untagged = graph_write(
        &azure,
        Method::POST,
        "/v1.0/applications",
        json!({"displayName": "someone-elses-app"}),
    )
    .await
    .expect("app");
    emu.clear_log();
    emu.run(&["destroy", "--yes"]).await.ok();
    let log = emu.log();
    let w = writes(&log);
    assert_eq!(w.len(), 1, "{}", show(&w));
    assert_eq!(w[0].path, format!("/v1.0/applications/{object_id}"));
    assert!(tagged_apps(&emu, &azure).await.is_empty());
    let other = untagged["id"].as_str().expect("id");
    let still = azure
        .graph
        .get(&format!("/v1.0/applications/{other}"), "")
        .await
        .expect("get");
    assert!(still.is_some(), "an untagged app was deleted");
}

#[tokio::test(flavor = "multi_thread")]
async fn destroy_killed_during_the_group_delete_then_rerun_waits_instead_of_deleting_again() {
    // 3 min × 0.01 ≈ 1.8 s of group deletion: time to kill the first run in the middle.
    let emu = Emu::start(0.01).await;
    let azure = emu.azure().await;
    azure
        .arm
        .put(
            &format!("/subscriptions/{}/resourcegroups/t1-rg", emu.subscription()),
            "2025-04-01",
            &json!({"location": "japaneast"}),
        )
        .await
        .expect("group");
    tagged_app(&emu, &azure).await;
    emu.clear_log();
    let mut child = emu.command(&["destroy", "--yes"]).spawn().expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let accepted = emu.log().iter().any(|e| {
            e.method == "DELETE"
                && e.path
                    .to_ascii_lowercase()
                    .ends_with("/resourcegroups/t1-rg")
                && e.status == 202
        });
        if accepted {
            break;
        }
        assert!(Instant::now() < deadline, "no group DELETE within 60 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.start_kill().expect("kill");
    let _ = child.wait().await;
    let state = azure
        .arm
        .get(
            &format!("/subscriptions/{}/resourcegroups/t1-rg", emu.subscription()),
            "2025-04-01",
        )
        .await
        .expect("get");
    assert_eq!(
        state
            .as_ref()
            .map(|g| g["properties"]["provisioningState"].clone()),
        Some(json!("Deleting")),
        "the kill came too late to test the resume"
    );

    let run = emu.run(&["destroy", "--yes"]).await;
    run.ok();
    assert!(
        run.stderr.contains("already being deleted"),
        "{}",
        run.stderr
    );
    let deletes = emu
        .log()
        .iter()
        .filter(|e| {
            e.method == "DELETE"
                && e.path
                    .to_ascii_lowercase()
                    .ends_with("/resourcegroups/t1-rg")
        })
        .count();
    assert_eq!(deletes, 1, "exactly one group DELETE across both runs");
    assert!(tagged_apps(&emu, &azure).await.is_empty());
}

/// Run `apimfn ARGS…` with a terminal on stdin (util-linux `script` allocates one), type
/// `answer`, and return (exit code, everything the terminal showed). `None` without `script`.
async fn run_on_a_terminal(emu: &Emu, args: &[&str], answer: &str) -> Option<(i32, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let script = ["/usr/bin/script", "/bin/script"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())?;
    let template = emu.command(args);
    let std = template.as_std();
    let quote = |s: &std::ffi::OsStr| format!("'{}'", s.to_string_lossy().replace('\'', "'\\''"));
    let line = std::iter::once(quote(std.get_program()))
        .chain(std.get_args().map(quote))
        .collect::<Vec<_>>()
        .join(" ");
    let mut cmd = tokio::process::Command::new(script);
    cmd.env_clear()
        .args(["-qec", &line, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in std.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    let mut child = cmd.spawn().expect("spawn script");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    // Answer once the question is on the screen.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !String::from_utf8_lossy(&seen).contains("to confirm:") {
        assert!(
            Instant::now() < deadline,
            "no prompt: {}",
            String::from_utf8_lossy(&seen)
        );
        let n = tokio::time::timeout(Duration::from_secs(60), stdout.read(&mut buf))
            .await
            .expect("prompt in time")
            .expect("read");
        assert!(
            n > 0,
            "ended before asking: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
    stdin
        .write_all(format!("{answer}\n").as_bytes())
        .await
        .expect("answer");
    stdout.read_to_end(&mut seen).await.expect("rest");
    let status = child.wait().await.expect("wait");
    drop(stdin);
    Some((
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&seen).into_owned(),
    ))
}

#[tokio::test(flavor = "multi_thread")]
async fn destroy_on_a_terminal_asks_for_the_group_name() {
    let emu = Emu::start(0.0005).await;
    let azure = emu.azure().await;
    let group = format!("/subscriptions/{}/resourcegroups/t1-rg", emu.subscription());
    azure
        .arm
        .put(&group, "2025-04-01", &json!({"location": "japaneast"}))
        .await
        .expect("group");
    emu.clear_log();
    let Some((code, screen)) = run_on_a_terminal(&emu, &["destroy"], "y").await else {
        eprintln!("util-linux `script` is not installed: the terminal prompt is not tested");
        return;
    };
    assert_eq!(code, 2, "{screen}");
    assert!(screen.contains("delete resource group t1-rg"), "{screen}");
    assert!(screen.contains("not confirmed"), "{screen}");
    assert!(
        writes(&emu.log()).is_empty(),
        "{}",
        show(&writes(&emu.log()))
    );
    assert!(
        azure
            .arm
            .get(&group, "2025-04-01")
            .await
            .expect("get")
            .is_some()
    );

    let (code, screen) = run_on_a_terminal(&emu, &["destroy"], "t1-rg")
        .await
        .expect("script");
    assert_eq!(code, 0, "{screen}");
    assert!(
        azure
            .arm
            .get(&group, "2025-04-01")
            .await
            .expect("get")
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_app_registration_given_with_client_id_is_reported_and_never_destroyed() {
    let emu = Emu::start(0.0005).await;
    let azure = emu.azure().await;
    let (object_id, app_id) = app_registration(&azure, "someone-elses-api", &[]).await;
    for step in [
        &["apim", "create"][..],
        &["function", "create"],
        &["function", "deploy"],
        &["api", "import"],
        &["auth", "configure", "--client-id", &app_id],
    ] {
        emu.run(step).await.ok();
    }
    emu.run(&["verify"]).await.ok();
    let out = emu.run(&["status", "-o", "json"]).await;
    out.ok();
    let out = out.json();
    let reg = out["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["kind"] == "app registration")
        .expect("app registration")
        .clone();
    assert_eq!(reg["state"], "ok", "{out}");
    assert!(
        reg["detail"].as_str().unwrap_or("").contains(&app_id),
        "{reg}"
    );
    assert_eq!(out["complete"], true, "{out}");

    emu.clear_log();
    let run = emu.run(&["destroy", "--yes", "-o", "json"]).await;
    run.ok();
    assert_eq!(run.json()["destroy"]["appRegistrationsDeleted"], json!([]));
    assert!(
        !emu.log()
            .iter()
            .any(|e| e.host == "graph.microsoft.com" && e.method == "DELETE"),
        "a Graph DELETE was sent"
    );
    let still = azure
        .graph
        .get(&format!("/v1.0/applications/{object_id}"), "")
        .await
        .expect("get");
    assert!(still.is_some(), "the --client-id app was deleted");
}
