//! `apimfn setup`: every step as one dependency graph (`steps::graph`), converging, with the
//! report of CONTRACT §4.

use super::common::connect;
use crate::cli::SetupArgs;
use crate::exit::{UsageError, VerifyFailed};
use crate::output::{Printer, human_duration};
use crate::settings::Settings;
use crate::steps::apim::{ApimOptions, ApimOutcome};
use crate::steps::deploy::DeployOutcome;
use crate::steps::function::FunctionOutcome;
use crate::steps::graph::{self, GRAPH, Node, NodeFuture, Outcome};
use crate::steps::import::ImportOutcome;
use crate::steps::policy::Owned;
use crate::steps::verify::VerifyOutcome;
use crate::steps::{Action, Ctx, KNOWN_AFTER_APPLY, apim, auth, deploy, function, import};
use crate::template::Package;
use anyhow::{Context, anyhow};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Steps running at once: the graph never has more than four ready together.
const CONCURRENCY: usize = 4;

/// `--timeout`: `3h`, `90m`, `2h30m`, `45s`.
pub fn parse_timeout(v: &str) -> Result<Duration, UsageError> {
    let d = humantime::parse_duration(v.trim()).map_err(|_| {
        UsageError::invalid(
            "--timeout",
            v,
            "must be a duration such as 3h, 90m or 2h30m",
        )
    })?;
    if d.is_zero() {
        return Err(UsageError::invalid(
            "--timeout",
            v,
            "must be longer than zero",
        ));
    }
    Ok(d)
}

/// What the nodes hand to the ones after them and to the report.
#[derive(Default)]
struct Shared {
    apim: Mutex<Option<ApimOutcome>>,
    function: Mutex<Option<FunctionOutcome>>,
    registration: Mutex<Option<(String, Option<String>)>>,
    deploy: Mutex<Option<DeployOutcome>>,
    import: Mutex<Option<ImportOutcome>>,
    verify: Mutex<Option<VerifyOutcome>>,
}

fn put<T>(slot: &Mutex<Option<T>>, v: T) {
    if let Ok(mut s) = slot.lock() {
        *s = Some(v);
    }
}

fn take<T: Clone>(slot: &Mutex<Option<T>>, what: &str) -> anyhow::Result<T> {
    slot.lock()
        .ok()
        .and_then(|s| s.clone())
        .ok_or_else(|| anyhow!("internal: {what} is not known yet"))
}

struct Job {
    ctx: Ctx,
    shared: Arc<Shared>,
    package: Arc<Package>,
    client_id: Option<String>,
}

impl Job {
    /// In a plan: whether the service is active and the app lists functions, so the import's
    /// targets can be read and judged (else they are all new).
    fn import_readable(&self) -> anyhow::Result<bool> {
        let apim = take(&self.shared.apim, "the APIM service")?;
        let deployed = take(&self.shared.deploy, "the deployment")?;
        Ok(apim.provisioning_state.eq_ignore_ascii_case("Succeeded")
            && !deployed.functions.is_empty())
    }

    async fn node(&self, node: Node) -> anyhow::Result<()> {
        let ctx = &self.ctx;
        let s = &self.shared;
        match node {
            Node::Group => crate::steps::group::ensure(ctx, ctx.names.location()?).await,
            Node::Apim => {
                let opts = ApimOptions {
                    no_wait: true,
                    ..Default::default()
                };
                put(&s.apim, apim::create(ctx, opts).await?);
                Ok(())
            }
            // A plan does not wait for anything.
            Node::ApimActive if ctx.dry_run => Ok(()),
            Node::ApimActive => {
                put(&s.apim, apim::await_active(ctx).await?);
                Ok(())
            }
            Node::Function => {
                put(&s.function, function::create(ctx).await?);
                Ok(())
            }
            Node::Deploy => {
                put(&s.deploy, deploy::deploy(ctx, &self.package, false).await?);
                Ok(())
            }
            Node::Registration => {
                let step = ctx.printer.step("registration");
                let r = auth::registration(ctx, self.client_id.as_deref()).await?;
                step.finish(&format!("appId {}", r.0));
                put(&s.registration, r);
                Ok(())
            }
            Node::EasyAuth => {
                let step = ctx.printer.step("easy-auth");
                let a = take(&s.apim, "the APIM identity")?;
                let (app_id, _) = take(&s.registration, "the app registration")?;
                let (principal, tenant) = match (a.principal_id, a.tenant_id) {
                    (Some(p), Some(t)) => (Some(p), Some(t)),
                    // A plan for a service still to be created: its identity does not exist yet.
                    _ if ctx.dry_run => (
                        Some(KNOWN_AFTER_APPLY.to_string()),
                        Some(KNOWN_AFTER_APPLY.to_string()),
                    ),
                    _ => (None, None),
                };
                let (Some(principal), Some(tenant)) = (principal, tenant) else {
                    return Err(anyhow!(
                        "the APIM service {} has no system-assigned identity",
                        ctx.names.apim
                    ));
                };
                auth::easy_auth(ctx, &app_id, &tenant, &principal).await?;
                step.finish(if ctx.dry_run { "planned" } else { "done" });
                Ok(())
            }
            // What the import would write can only be read under an active service, once the
            // functions are listed.
            Node::Import if ctx.dry_run && !self.import_readable()? => {
                import::plan_new(ctx);
                Ok(())
            }
            Node::Import => {
                put(
                    &s.import,
                    import::import_entities(ctx, ctx.names.api_id()).await?,
                );
                Ok(())
            }
            Node::Policy if ctx.dry_run && !self.import_readable()? => Ok(()),
            Node::Policy => {
                let step = ctx.printer.step("policy");
                let (app_id, _) = take(&s.registration, "the app registration")?;
                // Both of apimfn's elements in one write (the import leaves the policy to this
                // node): the backend and the managed identity.
                import::ensure_policy(
                    ctx,
                    &[
                        Owned::backend(&ctx.names.app),
                        Owned::managed_identity(&auth::audience(&app_id)),
                    ],
                )
                .await?;
                step.finish(if ctx.dry_run { "planned" } else { "done" });
                Ok(())
            }
            Node::Verify => {
                let out = crate::steps::verify::run(ctx).await?;
                let passed = out.passed;
                let diagnosis = out.diagnosis.clone();
                put(&s.verify, out);
                if passed {
                    Ok(())
                } else {
                    Err(VerifyFailed {
                        message: format!(
                            "verification failed: {}",
                            diagnosis.as_deref().unwrap_or("no diagnosis")
                        ),
                    }
                    .into())
                }
            }
        }
    }
}

/// `setup --dry-run` is `plan`.
pub async fn run(settings: &Settings, printer: &Printer, args: &SetupArgs) -> anyhow::Result<i32> {
    if args.dry_run {
        return plan(settings, printer, args.client_id.as_deref(), false).await;
    }
    apply(settings, printer, args).await
}

fn check_client_id(client_id: Option<&str>) -> Result<(), UsageError> {
    if let Some(id) = client_id {
        crate::settings::rules::subscription(id).map_err(|_| {
            UsageError::invalid(
                "--client-id",
                id,
                "must be an application (client) id, a GUID",
            )
        })?;
    }
    Ok(())
}

async fn connect_all(settings: &Settings, printer: &Printer) -> anyhow::Result<Ctx> {
    connect(settings, printer, |n| {
        n.location()?;
        n.publisher_email()?;
        n.plan()?;
        n.storage()?;
        n.container()?;
        Ok(())
    })
    .await
}

type Outcomes = Vec<(Node, Outcome)>;

/// Run the graph (all of `nodes`) with `ctx`; every node's outcome, in graph order.
async fn run_graph(
    ctx: &Ctx,
    nodes: &[Node],
    client_id: Option<&str>,
) -> anyhow::Result<(Arc<Shared>, Outcomes)> {
    let package = Arc::new(crate::template::bundled_package()?);
    let shared = Arc::new(Shared::default());
    let job = Arc::new(Job {
        ctx: ctx.clone(),
        shared: shared.clone(),
        package,
        client_id: client_id.map(str::to_string),
    });
    let outcomes = graph::run(nodes, CONCURRENCY, |node| -> NodeFuture {
        let job = job.clone();
        Box::pin(async move { job.node(node).await })
    })
    .await;
    Ok((shared, outcomes))
}

/// The first failure as the error (the others printed), or `Ok`.
fn first_failure(ctx: &Ctx, outcomes: Outcomes) -> anyhow::Result<()> {
    let mut failures = outcomes.into_iter().filter_map(|(n, o)| match o {
        Outcome::Failed(_, e) => Some((n, e)),
        _ => None,
    });
    if let Some((node, err)) = failures.next() {
        for (other, e) in failures {
            ctx.printer
                .error(&e.context(format!("setup step {} failed", other.name())));
        }
        return Err(err).with_context(|| format!("setup step {} failed", node.name()));
    }
    Ok(())
}

/// `plan` / `setup --dry-run`: every step reads and decides, nothing is written. Exit 4 with
/// `detailed_exitcode` when something would change.
pub async fn plan(
    settings: &Settings,
    printer: &Printer,
    client_id: Option<&str>,
    detailed_exitcode: bool,
) -> anyhow::Result<i32> {
    let started = Instant::now();
    check_client_id(client_id)?;
    let ctx = connect_all(settings, printer).await?.planning();
    let nodes: Vec<Node> = GRAPH
        .iter()
        .map(|(n, _, _)| *n)
        .filter(|n| *n != Node::Verify)
        .collect();
    let (_, outcomes) = run_graph(&ctx, &nodes, client_id).await?;
    first_failure(&ctx, outcomes)?;
    let changes = ctx.changes.all();
    let count = |a: Action| changes.iter().filter(|c| c.action == a).count();
    let (create, update, delete, none) = (
        count(Action::Create),
        count(Action::Update),
        count(Action::Delete),
        count(Action::None),
    );
    let pending = create + update + delete > 0;
    let counts = ctx.arm().counter();
    ctx.printer.result_json(&json!({
        "resourceGroup": ctx.names.resource_group,
        "pending": pending,
        "summary": {"create": create, "update": update, "delete": delete, "none": none},
        "changes": changes,
        "requests": {"reads": counts.reads, "writes": counts.writes},
        "elapsedSeconds": (started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
    }));
    let mut text: Vec<String> = changes
        .iter()
        .filter(|c| c.action != Action::None)
        .map(|c| c.line())
        .collect();
    text.push(if pending {
        format!(
            "Plan: {create} to create, {update} to update, {delete} to delete; {none} unchanged. Run `apimfn setup` to apply."
        )
    } else {
        format!("No changes: the {none} resources are as setup leaves them.")
    });
    ctx.printer.result_text(&text.join("\n"));
    Ok(if pending && detailed_exitcode {
        crate::exit::CHANGES_PENDING
    } else {
        0
    })
}

async fn apply(settings: &Settings, printer: &Printer, args: &SetupArgs) -> anyhow::Result<i32> {
    let started = Instant::now();
    let timeout = parse_timeout(&args.timeout)?;
    check_client_id(args.client_id.as_deref())?;
    let ctx = connect_all(settings, printer).await?;
    let nodes: Vec<Node> = GRAPH
        .iter()
        .map(|(n, _, _)| *n)
        .filter(|n| !(args.skip_verify && *n == Node::Verify))
        .collect();
    // Pinned and polled by reference: on timeout the graph is still alive while its in-flight
    // requests are listed (dropping it first would cancel them and empty the list).
    let work = run_graph(&ctx, &nodes, args.client_id.as_deref());
    let mut work = std::pin::pin!(work);
    let (shared, outcomes) = match tokio::time::timeout(timeout, &mut work).await {
        Ok(o) => o?,
        Err(_) => {
            let running = crate::inflight::snapshot();
            return Err(anyhow!(
                "setup did not finish within {} ({}); what was accepted keeps going in Azure — run `apimfn setup` again to resume",
                args.timeout,
                if running.is_empty() {
                    "nothing was in flight".to_string()
                } else {
                    format!("still running: {}", running.join(", "))
                }
            ));
        }
    };
    for (node, o) in &outcomes {
        let took = match o {
            Outcome::Done(d) | Outcome::Failed(d, _) => format!(" ({})", human_duration(*d)),
            Outcome::Stopped(d) => format!(
                " after {} (Azure goes on; a re-run joins the wait)",
                human_duration(*d)
            ),
            Outcome::Skipped => String::new(),
        };
        ctx.printer
            .info(&format!("setup: {:<12} {}{took}", node.name(), o.word()));
    }
    report(&ctx, &shared, &outcomes, started);
    first_failure(&ctx, outcomes)?;
    Ok(0)
}

fn report(ctx: &Ctx, s: &Shared, outcomes: &[(Node, Outcome)], started: Instant) {
    let n = &ctx.names;
    let apim = s.apim.lock().ok().and_then(|a| a.clone());
    let func = s.function.lock().ok().and_then(|f| f.clone());
    let reg = s.registration.lock().ok().and_then(|r| r.clone());
    let imp = s.import.lock().ok().and_then(|i| i.clone());
    let ver = s
        .verify
        .lock()
        .ok()
        .and_then(|v| v.as_ref().map(|v| v.json()));
    let tenant = apim.as_ref().and_then(|a| a.tenant_id.clone());
    let changes = ctx.changes.all();
    let counts = ctx.arm().counter();
    // What the run measured against what it could at best be (the longest chain of the steps'
    // own durations) and what running them one after another would take (their sum).
    let durations: std::collections::BTreeMap<Node, Duration> = outcomes
        .iter()
        .filter_map(|(n, o)| match o {
            Outcome::Done(d) | Outcome::Failed(d, _) => Some((*n, *d)),
            Outcome::Stopped(_) | Outcome::Skipped => None,
        })
        .collect();
    let (critical, chain) = graph::critical_path(&durations);
    let sum: Duration = durations.values().sum();
    let secs = |d: Duration| (d.as_secs_f64() * 100.0).round() / 100.0;
    let doc = json!({
        "resourceGroup": n.resource_group,
        "apim": {
            "name": n.apim,
            "id": n.apim_id(),
            "gatewayUrl": apim.as_ref().and_then(|a| a.gateway_url.clone()),
            "principalId": apim.as_ref().and_then(|a| a.principal_id.clone()),
        },
        "functionApp": {
            "name": n.app,
            "id": n.site_id(),
            "defaultHostName": func.as_ref().and_then(|f| f.default_host_name.clone()),
            "principalId": func.as_ref().and_then(|f| f.principal_id.clone()),
        },
        "api": {
            "id": n.api_arm_id(),
            "path": imp.as_ref().map(|i| i.path.clone()),
            "url": imp.as_ref().and_then(|i| i.url.clone()),
        },
        "auth": {
            "clientId": reg.as_ref().map(|r| r.0.clone()),
            "audience": reg.as_ref().map(|r| auth::audience(&r.0)),
            "issuer": tenant.as_deref().map(auth::issuer),
        },
        "verify": ver.unwrap_or(Value::Null),
        "steps": outcomes.iter().map(|(node, o)| {
            let seconds = match o {
                Outcome::Done(d) | Outcome::Failed(d, _) | Outcome::Stopped(d) => Some((d.as_secs_f64() * 100.0).round() / 100.0),
                Outcome::Skipped => None,
            };
            json!({"name": node.name(), "outcome": o.word(), "seconds": seconds})
        }).collect::<Vec<_>>(),
        "criticalPath": {
            "seconds": secs(critical),
            "steps": chain.iter().map(|n| n.name()).collect::<Vec<_>>(),
        },
        "sumOfStepsSeconds": secs(sum),
        "changes": changes,
        "requests": {"reads": counts.reads, "writes": counts.writes},
        "elapsedSeconds": (started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
    });
    ctx.printer.result_json(&doc);
    let mut text: Vec<String> = changes.iter().map(|c| c.line()).collect();
    text.push(format!(
        "{} in {}",
        super::common::summary(&changes, counts.reads, counts.writes),
        human_duration(started.elapsed())
    ));
    text.push(format!(
        "critical path {} ({}); the steps one after another: {}",
        human_duration(critical),
        chain
            .iter()
            .map(|n| n.name())
            .collect::<Vec<_>>()
            .join(" → "),
        human_duration(sum)
    ));
    if let Some(url) = imp.as_ref().and_then(|i| i.url.clone()) {
        text.push(format!("API: {url} (Ocp-Apim-Subscription-Key required)"));
    }
    ctx.printer.result_text(&text.join("\n"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_in_the_forms_the_contract_names() {
        assert_eq!(parse_timeout("3h"), Ok(Duration::from_secs(3 * 3600)));
        assert_eq!(parse_timeout("90m"), Ok(Duration::from_secs(90 * 60)));
        assert_eq!(parse_timeout("2h30m"), Ok(Duration::from_secs(150 * 60)));
        let err = parse_timeout("soon").expect_err("not a duration");
        assert!(err.message.contains("--timeout"), "{}", err.message);
        assert!(parse_timeout("0s").is_err());
    }
}
