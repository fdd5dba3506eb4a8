//! `apimfn apim create` against the emulator: from nothing, again with zero writes, joined while
//! activating, killed during activation and resumed, and the soft-deleted name paths.

mod support;

use support::emulated::{Emu, show, writes};

#[tokio::test(flavor = "multi_thread")]
async fn creates_then_converges_with_zero_writes() {
    let emu = Emu::start(0.0005).await;
    let run = emu.run(&["apim", "create", "-o", "json"]).await;
    run.ok();
    let out = run.json();
    assert_eq!(out["apim"]["provisioningState"], "Succeeded", "{out}");
    assert_eq!(out["apim"]["gatewayUrl"], "https://t1-apim.azure-api.net");
    assert!(
        out["apim"]["principalId"]
            .as_str()
            .is_some_and(|p| p.len() == 36)
    );
    let actions: Vec<&str> = out["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| c["action"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(actions, ["create", "create"], "{out}");
    assert!(
        run.stderr.contains("managed identity principal"),
        "{}",
        run.stderr
    );
    let log = emu.log();
    let w = writes(&log);
    assert_eq!(w.len(), 2, "group PUT and service PUT only:\n{}", show(&w));

    emu.clear_log();
    let again = emu.run(&["apim", "create", "-o", "json"]).await;
    again.ok();
    let log = emu.log();
    assert!(
        writes(&log).is_empty(),
        "second run wrote:\n{}",
        show(&writes(&log))
    );
    assert_eq!(again.json()["requests"]["writes"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn no_wait_returns_while_activating_and_a_rerun_joins_the_wait() {
    // 45 min × 0.002 = 5.4 s of activation.
    let emu = Emu::start(0.002).await;
    let run = emu
        .run(&["apim", "create", "--no-wait", "-o", "json"])
        .await;
    run.ok();
    assert_eq!(run.json()["apim"]["provisioningState"], "Activating");

    emu.clear_log();
    let join = emu.run(&["apim", "create", "-o", "json"]).await;
    join.ok();
    assert_eq!(join.json()["apim"]["provisioningState"], "Succeeded");
    assert!(join.stderr.contains("joining the wait"), "{}", join.stderr);
    let log = emu.log();
    assert!(
        writes(&log).is_empty(),
        "joining wrote:\n{}",
        show(&writes(&log))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_during_activation_then_rerun_finishes_without_a_second_put() {
    let emu = Emu::start(0.002).await;
    let mut child = emu.command(&["apim", "create"]).spawn().expect("spawn");
    // Wait until the service PUT was accepted, then kill apimfn mid-activation.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let accepted = emu
            .log()
            .iter()
            .any(|e| e.method == "PUT" && e.path.contains("/service/") && e.status == 201);
        if accepted {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no service PUT within 60 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    child.start_kill().expect("kill");
    let _ = child.wait().await;

    let again = emu.run(&["apim", "create", "-o", "json"]).await;
    again.ok();
    assert_eq!(again.json()["apim"]["provisioningState"], "Succeeded");
    let puts = emu
        .log()
        .iter()
        .filter(|e| e.method == "PUT" && e.path.contains("/service/"))
        .count();
    assert_eq!(puts, 1, "exactly one service PUT across both runs");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_soft_deleted_name_stops_with_both_ways_out_and_each_works() {
    let emu = Emu::start(0.0005).await;
    emu.run(&["apim", "create"]).await.ok();
    // Deleting the group soft-deletes the service (arm-reference §2.4).
    let rg = format!("/subscriptions/{}/resourcegroups/t1-rg", emu.subscription());
    delete_via_arm(&emu, &rg).await;

    let stopped = emu.run(&["apim", "create"]).await;
    stopped.expect_code(1);
    assert!(
        stopped.stderr.contains("soft-deleted"),
        "{}",
        stopped.stderr
    );
    assert!(stopped.stderr.contains("--recover"), "{}", stopped.stderr);
    assert!(
        stopped.stderr.contains("--purge-soft-deleted"),
        "{}",
        stopped.stderr
    );

    let recovered = emu
        .run(&["apim", "create", "--recover", "-o", "json"])
        .await;
    recovered.ok();
    assert_eq!(recovered.json()["apim"]["provisioningState"], "Succeeded");

    delete_via_arm(&emu, &rg).await;
    emu.clear_log();
    let purged = emu
        .run(&["apim", "create", "--purge-soft-deleted", "-o", "json"])
        .await;
    purged.ok();
    let log = emu.log();
    let w = writes(&log);
    assert!(
        w.iter()
            .any(|e| e.method == "DELETE" && e.path.contains("/deletedservices/")),
        "no purge:\n{}",
        show(&w)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_name_taken_by_someone_else_is_explained() {
    let emu = Emu::start(0.0005).await;
    emu.run(&["apim", "create"]).await.ok();
    // Same APIM name, another resource group: the name is global.
    let other = emu
        .run(&["apim", "create", "-g", "other-rg", "--apim-name", "t1-apim"])
        .await;
    other.expect_code(1);
    assert!(other.stderr.contains("is taken"), "{}", other.stderr);
    assert!(other.stderr.contains("--apim-name"), "{}", other.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_publisher_email_is_exit_2_before_any_request() {
    let emu = Emu::start(0.0005).await;
    // The harness passes --publisher-email; a run without it comes from a bare command line.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_apimfn"))
        .env_clear()
        .env("AZURE_SUBSCRIPTION_ID", emu.subscription())
        .args([
            "apim",
            "create",
            "-n",
            "t1",
            "-l",
            "japaneast",
            "--emulator",
        ])
        .arg(&emu.running.ready.url)
        .arg("--emulator-ca")
        .arg(&emu.ca_file)
        .output()
        .await
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("publisher"), "{stderr}");
    assert!(emu.log().is_empty(), "requests were sent");
}

async fn delete_via_arm(emu: &Emu, path: &str) {
    let azure = emu.azure().await;
    azure
        .arm
        .delete(path, "2025-04-01")
        .await
        .expect("delete the group");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_during_activation_exits_130_naming_the_wait() {
    let emu = Emu::start(0.01).await;
    let child = emu.command(&["apim", "create"]).spawn().expect("spawn");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !emu
        .log()
        .iter()
        .any(|e| e.method == "PUT" && e.path.contains("/service/") && e.status == 201)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no service PUT within 60 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let pid = child.id().expect("pid");
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("kill -INT");
    assert!(status.success());
    let out = tokio::time::timeout(std::time::Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("exits after Ctrl-C")
        .expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted while"), "{stderr}");
    assert!(
        stderr.contains("/service/t1-apim"),
        "names what was in flight: {stderr}"
    );
    assert!(
        stderr.contains("running the same command again resumes"),
        "{stderr}"
    );
}
