//! `apimfn function create` and `apimfn function deploy` against the emulator: from nothing,
//! again with zero writes, drift repaired, killed mid-way and resumed, and the failures with
//! their messages and exit codes.

mod support;

use support::emulated::{Emu, show, writes};

fn actions(out: &serde_json::Value) -> Vec<(String, String)> {
    out["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            let r = c["resource"].as_str().unwrap_or("");
            let kind = r.rsplit('/').nth(1).unwrap_or("").to_string();
            (kind, c["action"].as_str().unwrap_or("").to_string())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn create_from_nothing_then_zero_writes_then_drift_repaired() {
    let emu = Emu::start(0.0005).await;
    let run = emu.run(&["function", "create", "-o", "json"]).await;
    run.ok();
    let out = run.json();
    assert_eq!(
        out["functionApp"]["defaultHostName"],
        "t1-func.azurewebsites.net"
    );
    let created: Vec<String> = actions(&out)
        .into_iter()
        .filter(|(_, a)| a == "create")
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        created,
        [
            "resourceGroups",
            "storageAccounts",
            "containers",
            "serverfarms",
            "sites",
            "roleAssignments"
        ]
        .map(String::from)
        .to_vec(),
        "{out}"
    );
    let log = emu.log();
    let w = writes(&log);
    assert_eq!(w.len(), 6, "one write per resource:\n{}", show(&w));
    let site_put = log
        .iter()
        .find(|e| e.method == "PUT" && e.path.ends_with("/sites/t1-func"))
        .expect("site PUT");
    assert!(site_put.status == 200 || site_put.status == 202);

    emu.clear_log();
    let again = emu.run(&["function", "create", "-o", "json"]).await;
    again.ok();
    let log = emu.log();
    assert!(
        writes(&log).is_empty(),
        "second run wrote:\n{}",
        show(&writes(&log))
    );
    assert!(actions(&again.json()).iter().all(|(_, a)| a == "none"));

    // Drift by hand: memory size changed and the host-storage setting removed.
    let azure = emu.azure().await;
    let site = format!(
        "/subscriptions/{}/resourceGroups/t1-rg/providers/Microsoft.Web/sites/t1-func",
        emu.subscription()
    );
    let mut fac = azure
        .arm
        .get_required(&site, "2025-05-01")
        .await
        .expect("site")["properties"]["functionAppConfig"]
        .clone();
    fac["scaleAndConcurrency"]["instanceMemoryMB"] = serde_json::json!(4096);
    azure
        .arm
        .patch(
            &site,
            "2025-05-01",
            &serde_json::json!({"properties": {"functionAppConfig": fac}}),
        )
        .await
        .expect("drift the site");
    azure
        .arm
        .put(
            &format!("{site}/config/appsettings"),
            "2025-05-01",
            &serde_json::json!({"properties": {"MY_SETTING": "kept"}}),
        )
        .await
        .expect("drift the settings");
    emu.clear_log();
    let repaired = emu.run(&["function", "create", "-o", "json"]).await;
    repaired.ok();
    let log = emu.log();
    let w = writes(&log);
    assert_eq!(
        w.len(),
        2,
        "exactly the site PATCH and the settings PUT:\n{}",
        show(&w)
    );
    assert!(
        w.iter()
            .any(|e| e.method == "PATCH" && e.path.ends_with("/sites/t1-func"))
    );
    let out = repaired.json();
    let fields: Vec<&str> = out["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .flat_map(|c| c["fields"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| f["path"].as_str().map(str::to_string))
        .collect::<Vec<_>>()
        .leak()
        .iter()
        .map(String::as_str)
        .collect();
    assert!(
        fields.contains(&"properties.functionAppConfig.scaleAndConcurrency.instanceMemoryMB"),
        "{fields:?}"
    );
    let settings = azure
        .arm
        .post(
            &format!("{site}/config/appsettings/list"),
            "2025-05-01",
            None,
        )
        .await
        .expect("list")
        .expect("body");
    assert_eq!(
        settings["properties"]["MY_SETTING"], "kept",
        "the user's setting is kept"
    );
    assert_eq!(
        settings["properties"]["AzureWebJobsStorage__accountName"]
            .as_str()
            .map(|s| s.starts_with("st")),
        Some(true)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_region_without_flex_consumption_is_refused_with_valid_ones_listed() {
    let emu = Emu::start(0.0005).await;
    let run = emu.run(&["function", "create", "-l", "japanwest"]).await;
    run.expect_code(2);
    assert!(run.stderr.contains("--location"), "{}", run.stderr);
    assert!(
        run.stderr.contains("japaneast"),
        "valid regions listed: {}",
        run.stderr
    );
    let log = emu.log();
    assert!(
        writes(&log).is_empty(),
        "nothing created:\n{}",
        show(&writes(&log))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_publishes_once_lists_the_function_and_skips_the_same_package() {
    let emu = Emu::start(0.0005).await;
    emu.run(&["function", "create"]).await.ok();
    emu.clear_log();
    let run = emu.run(&["function", "deploy", "-o", "json"]).await;
    run.ok();
    let out = run.json();
    assert_eq!(out["deployment"]["uploaded"], true);
    assert_eq!(
        out["deployment"]["functions"],
        serde_json::json!(["HttpExample"])
    );
    let log = emu.log();
    let publishes: Vec<_> = log
        .iter()
        .filter(|e| e.method == "POST" && e.path == "/api/publish")
        .collect();
    assert_eq!(publishes.len(), 1, "{}", show(&publishes));
    assert_eq!(publishes[0].host, "t1-func.scm.azurewebsites.net");

    emu.clear_log();
    let again = emu.run(&["function", "deploy", "-o", "json"]).await;
    again.ok();
    assert_eq!(again.json()["deployment"]["uploaded"], false);
    let log = emu.log();
    assert!(
        writes(&log).is_empty(),
        "second deploy wrote:\n{}",
        show(&writes(&log))
    );

    emu.clear_log();
    let forced = emu.run(&["function", "deploy", "--force"]).await;
    forced.ok();
    assert_eq!(
        emu.log()
            .iter()
            .filter(|e| e.path == "/api/publish")
            .count(),
        1,
        "--force uploads again"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_build_failure_prints_the_build_log_and_exits_1() {
    let emu = Emu::start(0.0005).await;
    emu.run(&["function", "create"]).await.ok();
    let src = emu.dir.path().join("broken");
    std::fs::create_dir_all(&src).expect("dir");
    std::fs::write(
        src.join("function_app.py"),
        "import azure.functions as func\napp = func.FunctionApp()\n",
    )
    .expect("write");
    std::fs::write(src.join("host.json"), r#"{"version": "2.0"}"#).expect("write");
    std::fs::write(
        src.join("requirements.txt"),
        "azure-functions\nthis-package-does-not-exist-apimfn==0.0.1\n",
    )
    .expect("write");
    let src_arg = src.display().to_string();
    let run = emu.run(&["function", "deploy", "--source", &src_arg]).await;
    run.expect_code(1);
    assert!(run.stderr.contains("failed"), "{}", run.stderr);
    assert!(
        run.stderr.contains("this-package-does-not-exist-apimfn"),
        "the build log names the package pip could not find:\n{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_before_create_and_a_bad_source_are_explained() {
    let emu = Emu::start(0.0005).await;
    let run = emu.run(&["function", "deploy"]).await;
    run.expect_code(1);
    assert!(
        run.stderr.contains("apimfn function create"),
        "{}",
        run.stderr
    );

    emu.clear_log();
    let bad = emu
        .run(&["function", "deploy", "--source", "/nonexistent/dir"])
        .await;
    bad.expect_code(2);
    assert!(bad.stderr.contains("--source"), "{}", bad.stderr);
    assert!(emu.log().is_empty(), "nothing sent for a bad --source");
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_killed_mid_build_then_rerun_finishes_with_the_function_listed() {
    let emu = Emu::start(0.0005).await;
    emu.run(&["function", "create"]).await.ok();
    let mut child = emu.command(&["function", "deploy"]).spawn().expect("spawn");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !emu
        .log()
        .iter()
        .any(|e| e.path == "/api/publish" && e.status == 202)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no publish within 60 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    child.start_kill().expect("kill");
    let _ = child.wait().await;
    let again = emu.run(&["function", "deploy", "-o", "json"]).await;
    again.ok();
    assert_eq!(
        again.json()["deployment"]["functions"],
        serde_json::json!(["HttpExample"])
    );
    let functions = emu
        .azure()
        .await
        .arm
        .list(
            &format!(
                "/subscriptions/{}/resourceGroups/t1-rg/providers/Microsoft.Web/sites/t1-func/functions",
                emu.subscription()
            ),
            "2025-05-01",
        )
        .await
        .expect("list");
    assert_eq!(functions.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deploy_right_after_the_role_assignment_rides_out_its_propagation() {
    // The emulator models role propagation as 60 s × time scale: 12 s here, longer than the
    // time between `function create` granting the role and the upload after the build.
    let emu = Emu::start(0.2).await;
    emu.run(&["function", "create"]).await.ok();
    let run = emu.run(&["function", "deploy", "-o", "json"]).await;
    run.ok();
    assert_eq!(
        run.json()["deployment"]["functions"],
        serde_json::json!(["HttpExample"])
    );
    let publishes = emu
        .log()
        .iter()
        .filter(|e| e.path == "/api/publish")
        .count();
    assert!(
        publishes >= 2,
        "the first upload must have met the storage 403 (publishes: {publishes})"
    );
    assert!(
        run.stderr
            .contains("has not reached the deployment storage yet"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn create_killed_at_each_write_then_rerun_finishes_without_duplicates() {
    // Kill apimfn as soon as the n-th write of a fresh run has been answered, re-run, and check
    // the end state has each resource once. Time scale 0.02: the storage account and the site
    // take long enough (0.5 s, 0.6 s) for the kill to land inside their operations.
    for kill_after in 1..=5usize {
        let emu = Emu::start(0.02).await;
        let mut child = emu.command(&["function", "create"]).spawn().expect("spawn");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            if writes(&emu.log()).len() >= kill_after {
                break;
            }
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "stuck before write {kill_after}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        child.start_kill().expect("kill");
        let _ = child.wait().await;
        emu.run(&["function", "create"]).await.ok();
        emu.clear_log();
        let again = emu.run(&["function", "create"]).await;
        again.ok();
        let log = emu.log();
        assert!(
            writes(&log).is_empty(),
            "killed after write {kill_after}: a third run still wrote:\n{}",
            show(&writes(&log))
        );
        let azure = emu.azure().await;
        let account = format!(
            "/subscriptions/{}/resourceGroups/t1-rg/providers/Microsoft.Storage/storageAccounts",
            emu.subscription()
        );
        let accounts = azure
            .arm
            .list(&account, "2025-08-01")
            .await
            .expect("accounts");
        assert_eq!(accounts.len(), 1, "killed after write {kill_after}");
        let roles = azure
            .arm
            .list(
                &format!(
                    "{}/providers/Microsoft.Authorization/roleAssignments",
                    accounts[0]["id"].as_str().expect("id")
                ),
                "2022-04-01",
            )
            .await
            .expect("roles");
        let blob_owner = roles
            .iter()
            .filter(|r| {
                r["properties"]["roleDefinitionId"]
                    .as_str()
                    .is_some_and(|d| d.ends_with("b7e6dc6d-f1e8-4753-8033-0f276bb0955b"))
            })
            .count();
        assert_eq!(
            blob_owner, 1,
            "killed after write {kill_after}: one role assignment"
        );
    }
}
