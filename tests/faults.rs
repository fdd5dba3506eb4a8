//! The fault matrix (issue 7): for every step of `setup`, each fault the emulator can inject —
//! 429 with and without `Retry-After`, 500, 503, a dropped connection, 30 s of latency — on that
//! step's first request of its kind; then an LRO that ends `Failed`, a token that expires during
//! the APIM wait, and the emulator restarted mid-run. Every cell must end either verified with
//! nothing duplicated, or with a clear `error:` and exit 1, after which a plain re-run ends
//! verified with nothing duplicated (nothing lost). The table is printed (`--nocapture`) and kept
//! in docs/reliability.md.

mod support;

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::emulated::{Emu, Run};
use support::inventory::assert_no_duplicates;

/// Time scale: APIM activation ≈ 1.4 s, so a cell costs a few seconds.
const SCALE: f64 = 0.0005;

/// Each step and the request that a fault hits: its first request matching these filters.
fn targets() -> Vec<(&'static str, Value)> {
    vec![
        // The group's PUT is the first ARM PUT of a run (APIM and the function app wait for it).
        (
            "group",
            json!({"method": "PUT", "host": "management.azure.com", "pathContains": "/resourceGroups/"}),
        ),
        (
            "apim",
            json!({"method": "PUT", "pathContains": "/providers/Microsoft.ApiManagement/service/"}),
        ),
        // A poll of the activation (the service's own GET while it activates).
        (
            "apim-active",
            json!({"method": "GET", "pathContains": "/providers/Microsoft.ApiManagement/service/", "after": 2}),
        ),
        (
            "function",
            json!({"method": "PUT", "pathContains": "/providers/Microsoft.Web/sites/"}),
        ),
        (
            "deploy",
            json!({"method": "POST", "host": "*.scm.azurewebsites.net"}),
        ),
        (
            "registration",
            json!({"method": "POST", "host": "graph.microsoft.com"}),
        ),
        (
            "easy-auth",
            json!({"method": "PUT", "pathContains": "/config/authsettingsV2"}),
        ),
        (
            "import",
            json!({"method": "PUT", "pathContains": "/namedValues/"}),
        ),
        (
            "policy",
            json!({"method": "PUT", "pathContains": "/policies/policy"}),
        ),
        ("verify", json!({"host": "*.azure-api.net"})),
    ]
}

fn faults() -> Vec<(&'static str, Value)> {
    vec![
        ("429 + Retry-After", json!({"status": 429, "retryAfter": 1})),
        ("429", json!({"status": 429})),
        ("500", json!({"status": 500})),
        ("503", json!({"status": 503})),
        ("drop", json!({"drop": true})),
        ("30 s latency", json!({"latencyMs": 30000})),
    ]
}

/// One cell: the outcome in a few words, for the table.
struct Cell {
    step: &'static str,
    fault: String,
    outcome: String,
}

/// The error and its causes on one line: `setup step x failed: cause: cause`.
fn first_error_line(run: &Run) -> String {
    let mut lines = run.stderr.lines().skip_while(|l| !l.starts_with("error:"));
    let Some(first) = lines.next() else {
        return String::new();
    };
    let mut out = first.to_string();
    for cause in lines.map_while(|l| l.trim_start().strip_prefix("Caused by: ")) {
        out.push_str(": ");
        out.push_str(cause.trim());
    }
    out
}

/// Run `setup` with `rule` installed (fired once), then judge: verified and whole, or exit 1 with
/// a clear error and a re-run that ends verified and whole.
async fn cell(step: &'static str, fault: &str, rule: Value, name: &str) -> Cell {
    let emu = Emu::start_named(SCALE, name).await;
    emu.running
        .emulator
        .faults
        .set(&json!({"rules": [rule]}))
        .expect("fault rule");
    let first = emu.run(&["setup", "-o", "json"]).await;
    let fired = emu.running.emulator.faults.get().rules[0].fired;
    assert_eq!(
        fired, 1,
        "{step} / {fault}: the fault never hit (the matrix would test nothing)\n{}",
        first.stderr
    );
    let outcome = match first.code {
        0 => {
            let out = first.json();
            assert_eq!(out["verify"]["passed"], true, "{step} / {fault}");
            assert_no_duplicates(&emu, &out, &format!("{step} / {fault}")).await;
            "success".to_string()
        }
        1 => {
            let line = first_error_line(&first);
            assert!(
                !line.is_empty(),
                "{step} / {fault}: exit 1 without an `error:` line\n{}",
                first.stderr
            );
            emu.running.emulator.faults.clear();
            let again = emu.run(&["setup", "-o", "json"]).await;
            again.ok();
            let out = again.json();
            assert_eq!(out["verify"]["passed"], true, "{step} / {fault}");
            assert_no_duplicates(&emu, &out, &format!("{step} / {fault} (re-run)")).await;
            format!(
                "exit 1 `{}`; re-run: success",
                line.trim_start_matches("error: ")
            )
        }
        _ => panic!(
            "{step} / {fault}: exit {} (wanted 0, or 1 with a clear error)\n--- stdout\n{}\n--- stderr\n{}",
            first.code, first.stdout, first.stderr
        ),
    };
    Cell {
        step,
        fault: fault.to_string(),
        outcome,
    }
}

/// A step's place in the table: the graph's order.
fn order(step: &str) -> usize {
    targets()
        .iter()
        .position(|(s, _)| *s == step)
        .unwrap_or(usize::MAX)
}

fn table(cells: &[Cell]) -> String {
    let mut s = String::from("| step | fault | outcome |\n|---|---|---|\n");
    for c in cells {
        s.push_str(&format!("| {} | {} | {} |\n", c.step, c.fault, c.outcome));
    }
    s
}

#[tokio::test(flavor = "multi_thread")]
async fn every_step_under_every_transient_fault() {
    let started = Instant::now();
    let mut jobs = Vec::new();
    for (ti, (step, filters)) in targets().into_iter().enumerate() {
        for (fi, (fault, action)) in faults().into_iter().enumerate() {
            let mut rule = filters.clone();
            rule["action"] = action;
            rule["times"] = json!(1);
            jobs.push((step, fault, rule, format!("f{ti}x{fi}")));
        }
    }
    // A few cells at a time (the machine has two cores); the latency cells, which mostly wait,
    // all at once.
    let (slow, fast): (Vec<_>, Vec<_>) = jobs
        .into_iter()
        .partition(|(_, fault, _, _)| fault.contains("latency"));
    let run = |(step, fault, rule, name): (&'static str, &'static str, Value, String)| async move {
        cell(step, fault, rule, &name).await
    };
    let mut cells = futures::future::join_all(slow.into_iter().map(run)).await;
    let mut pending = fast.into_iter();
    loop {
        let batch: Vec<_> = pending.by_ref().take(6).collect();
        if batch.is_empty() {
            break;
        }
        cells.extend(futures::future::join_all(batch.into_iter().map(run)).await);
    }
    let fault_order = |f: &str| faults().iter().position(|(x, _)| *x == f);
    cells.sort_by_key(|c| (order(c.step), fault_order(&c.fault)));
    println!(
        "{}\n{} cells in {:.0?}",
        table(&cells),
        cells.len(),
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_operation_that_ends_failed_names_the_resource_and_azures_code() {
    let failed = json!({"status": 200, "body": {"status": "Failed",
        "error": {"code": "ProvisioningFailed", "message": "The operation failed on the platform."}}});
    // setup does not hold APIM's operation URL (it joins the activation by polling the service
    // itself, as a re-run would), so there the failure shows as the service's own state.
    let apim_failed = json!({"status": 200, "body": {"name": "lro1-apim",
        "type": "Microsoft.ApiManagement/service",
        "properties": {"provisioningState": "Failed"}}});
    let mut cells = Vec::new();
    for (step, rule, name, says) in [
        (
            "apim-active",
            json!({"method": "GET", "pathContains": "/providers/Microsoft.ApiManagement/service/",
                   "after": 2, "times": 1, "action": apim_failed}),
            "lro1",
            vec!["lro1-apim", "Failed"],
        ),
        // The function app's create (`…/sites/{app}/operationResults/…`).
        (
            "function",
            json!({"method": "GET", "pathContains": "/operationResults/", "times": 1, "action": failed}),
            "lro2",
            vec!["lro2-func", "ProvisioningFailed"],
        ),
        // The storage account's create polls a `Location` (`…/asyncoperations/…`), where a 200
        // means done: a failure is an error answer with Azure's code (ARM's async contract).
        (
            "function (storage)",
            json!({"method": "GET", "pathContains": "/asyncoperations/", "times": 1,
                   "action": {"status": 400, "code": "ProvisioningFailed",
                              "message": "The operation failed on the platform."}}),
            "lro3",
            vec!["storage", "ProvisioningFailed"],
        ),
    ] {
        let c = cell(step, "operation ends Failed", rule, name).await;
        assert!(
            c.outcome.starts_with("exit 1") && says.iter().all(|w| c.outcome.contains(w)),
            "{step}: a failed operation must stop the run naming {says:?}: {}",
            c.outcome
        );
        cells.push(c);
    }
    println!("{}", table(&cells));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_that_expires_during_the_apim_wait_is_renewed() {
    // Activation takes 9 s at this scale; tokens live 2 s.
    let emu = Emu::start_named(0.0033, "tok").await;
    apimfn_emulator::entra::put_settings(
        &mut emu.running.emulator.world(),
        &json!({"tokenLifetimeSeconds": 2}),
    )
    .expect("token lifetime");
    let run = emu.run(&["setup", "-o", "json"]).await;
    run.ok();
    let out = run.json();
    assert_eq!(out["verify"]["passed"], true);
    let tokens = emu
        .log()
        .iter()
        .filter(|e| e.host.starts_with("login.") && e.path.ends_with("/token"))
        .count();
    // A run with long-lived tokens asks three (ARM, Graph, App Service); with 2-second tokens,
    // the polls of a 9-second activation need several more.
    assert!(
        tokens > 5,
        "the short-lived token was never renewed ({tokens} token requests)"
    );
    assert_no_duplicates(&emu, &out, "token expiry").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_emulator_restarted_mid_run_keeps_its_state_and_the_run_finishes() {
    let emu = Emu::start_with(0.002, "rst", true).await;
    let child = emu
        .command(&["setup", "-o", "json"])
        .spawn()
        .expect("spawn");
    // Restart while APIM activates: after its PUT, before the import.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !emu.log().iter().any(|e| {
        e.method == "PUT"
            && e.path
                .contains("/providers/Microsoft.ApiManagement/service/")
    }) {
        assert!(Instant::now() < deadline, "APIM was never created");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let emu = emu.restart().await;
    let out = tokio::time::timeout(Duration::from_secs(180), child.wait_with_output())
        .await
        .expect("setup finished")
        .expect("wait");
    let run = Run::from_output(&out);
    let run = if run.code == 0 {
        run
    } else {
        // A clear error is allowed; nothing may be lost: a re-run finishes.
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(!first_error_line(&run).is_empty(), "{}", run.stderr);
        let again = emu.run(&["setup", "-o", "json"]).await;
        again.ok();
        again
    };
    let out = run.json();
    assert_eq!(out["verify"]["passed"], true, "{}", run.stderr);
    assert_no_duplicates(&emu, &out, "emulator restarted").await;
}
