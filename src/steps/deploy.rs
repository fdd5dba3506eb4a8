//! `function deploy`: the package (the bundled template or `--source`) to the SCM host with
//! remote build, the deployment followed to its end, then ARM's function list (arm-reference §4,
//! §5).
//!
//! Convergence: after a successful upload the site is tagged with the package's SHA-256; a re-run
//! whose package has the same hash, on an app whose latest deployment succeeded, uploads nothing
//! (`--force` uploads anyway). Resumption: a deployment still running when apimfn starts is
//! waited for, never raced with a second upload (Kudu would answer 409).

use super::versions::WEB;
use super::{Action, Change, Ctx};
use crate::models::Site;
use crate::output::Step;
use crate::scm::{Published, Scm, is_role_propagation_failure, status};
use crate::template::Package;
use anyhow::{Context, anyhow, bail};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The site tag holding the SHA-256 of the package last deployed by apimfn.
pub const PACKAGE_TAG: &str = "apimfn-package-sha256";
/// A remote build (pip) plus the upload; real work, never scaled.
const DEPLOY_BUDGET: Duration = Duration::from_secs(30 * 60);
/// How long storage 403s are blamed on a role assignment that has not propagated yet.
const PROPAGATION_BUDGET: Duration = Duration::from_secs(10 * 60);
/// How long to wait for ARM to list the functions after a deployment.
const LISTING_BUDGET: Duration = Duration::from_secs(5 * 60);

#[derive(Debug, Clone, PartialEq)]
pub struct DeployOutcome {
    pub package_sha256: String,
    pub uploaded: bool,
    pub functions: Vec<String>,
}

/// Whether to upload, given the tag on the site and the latest deployment's status.
pub fn needs_upload(tag: Option<&str>, latest: Option<i64>, sha: &str, force: bool) -> bool {
    force || tag != Some(sha) || latest != Some(status::SUCCESS)
}

pub async fn deploy(ctx: &Ctx, package: &Package, force: bool) -> anyhow::Result<DeployOutcome> {
    let site_id = ctx.names.site_id();
    let step = ctx.printer.step("deploy");
    step.set("reading the function app");
    let change_id = format!("{site_id}/deployments/package");
    let site_json = ctx.arm().get(&site_id, WEB).await?;
    if site_json.is_none() && ctx.dry_run {
        // A plan for an app still to be created: the package goes up once it exists.
        ctx.changes
            .record(Change::new("deployment", &change_id, Action::Create));
        step.finish("planned");
        return Ok(DeployOutcome {
            package_sha256: package.sha256.clone(),
            uploaded: false,
            functions: Vec::new(),
        });
    }
    let site_json = site_json.ok_or_else(|| {
        anyhow!(
            "the function app {} does not exist; run `apimfn function create` first",
            ctx.names.app
        )
    })?;
    let site: Site = serde_json::from_value(site_json.clone()).context("reading the site")?;
    let scm_host = site.scm_host().ok_or_else(|| {
        anyhow!(
            "the function app {} has no SCM host in hostNameSslStates; is it still being created?",
            ctx.names.app
        )
    })?;
    let scm = Scm::new(&ctx.azure, scm_host);
    let tag = site
        .tags
        .as_ref()
        .and_then(|t| t.get(PACKAGE_TAG))
        .and_then(Value::as_str);

    let mut latest = scm.latest().await?;
    if let Some(d) = latest
        .as_ref()
        .filter(|d| status::is_running(d.status) && !ctx.dry_run)
    {
        ctx.printer.info(&format!(
            "deploy: a deployment is already {}; waiting for it",
            status::describe(d.status)
        ));
        latest = Some(wait_deployment(ctx, &scm, &step, &d.id).await?);
    }
    let uploaded = if needs_upload(
        tag,
        latest.as_ref().map(|d| d.status),
        &package.sha256,
        force,
    ) {
        if !ctx.dry_run {
            upload(ctx, &scm, &step, package).await?;
            tag_site(ctx, &site_json, &package.sha256).await?;
        }
        let action = if tag.is_some() {
            Action::Update
        } else {
            Action::Create
        };
        ctx.changes
            .record(Change::new("deployment", &change_id, action));
        // A plan uploads nothing.
        !ctx.dry_run
    } else {
        ctx.changes
            .record(Change::new("deployment", &change_id, Action::None));
        false
    };
    step.set("waiting for the function list");
    let functions = wait_for_functions(ctx, &step).await?;
    step.finish(match (uploaded, ctx.dry_run) {
        (_, true) => "planned",
        (true, false) => "deployed",
        (false, false) => "unchanged",
    });
    Ok(DeployOutcome {
        package_sha256: package.sha256.clone(),
        uploaded,
        functions,
    })
}

/// Publish and follow the deployment; retry while storage 403s show the role assignment has not
/// propagated yet, and while another deployment holds the app.
async fn upload(ctx: &Ctx, scm: &Scm, step: &Step, package: &Package) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        step.set("uploading the package");
        match scm.publish(&package.zip).await? {
            Published::Busy => {
                step.set("another deployment is running; waiting for it");
                if let Some(d) = scm.latest().await?.filter(|d| status::is_running(d.status)) {
                    wait_deployment(ctx, scm, step, &d.id).await?;
                } else {
                    tokio::time::sleep(ctx.pace().interval(Duration::from_secs(5))).await;
                }
                continue;
            }
            Published::Accepted => {}
        }
        let id = match scm.latest().await? {
            Some(d) => d.id,
            // az: a 404 right after a 202 means the deployment is already done.
            None => return Ok(()),
        };
        let done = wait_deployment(ctx, scm, step, &id).await?;
        match done.status {
            status::SUCCESS | status::PARTIAL_SUCCESS => return Ok(()),
            _ => {
                let log = scm.log(&id).await.unwrap_or_default();
                if is_role_propagation_failure(&log) && started.elapsed() < PROPAGATION_BUDGET {
                    ctx.printer.info(
                        "deploy: the storage role assignment has not reached the deployment storage yet; retrying",
                    );
                    tokio::time::sleep(ctx.pace().interval(Duration::from_secs(30))).await;
                    continue;
                }
                let tail: Vec<&str> = log.iter().rev().take(30).map(String::as_str).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                bail!(
                    "the deployment {id} {} on {}:\n{}",
                    status::describe(done.status),
                    ctx.names.app,
                    if tail.is_empty() {
                        "(no build log)".to_string()
                    } else {
                        tail.join("\n")
                    }
                );
            }
        }
    }
}

/// Poll `/api/deployments/latest` until the deployment `id` ends (az polls every second).
async fn wait_deployment(
    ctx: &Ctx,
    scm: &Scm,
    step: &Step,
    id: &str,
) -> anyhow::Result<crate::scm::Deployment> {
    let started = Instant::now();
    loop {
        let latest = scm.latest().await?;
        match latest {
            Some(d) if d.id == id && !status::is_running(d.status) => return Ok(d),
            Some(d) if d.id != id => {
                // A newer deployment replaced it: ours ended one way or the other.
                return Ok(crate::scm::Deployment {
                    id: id.to_string(),
                    status: status::CONFLICT,
                    status_text: d.status_text,
                });
            }
            Some(d) => step.set(&format!(
                "{} ({}s)",
                status::describe(d.status),
                started.elapsed().as_secs()
            )),
            None => {
                return Ok(crate::scm::Deployment {
                    id: id.to_string(),
                    status: status::SUCCESS,
                    status_text: String::new(),
                });
            }
        }
        if started.elapsed() > DEPLOY_BUDGET {
            bail!(
                "the deployment {id} of {} did not finish within {} minutes; it may still be running: run `apimfn function deploy` again to follow it",
                ctx.names.app,
                DEPLOY_BUDGET.as_secs() / 60
            );
        }
        tokio::time::sleep(
            ctx.pace()
                .interval(Duration::from_secs(1))
                .max(Duration::from_millis(100)),
        )
        .await;
    }
}

/// Remember the deployed package's hash on the site (a PATCH of the tags, all others kept).
async fn tag_site(ctx: &Ctx, site: &Value, sha: &str) -> anyhow::Result<()> {
    let mut tags = site["tags"].as_object().cloned().unwrap_or_default();
    tags.insert(PACKAGE_TAG.into(), json!(sha));
    ctx.arm()
        .patch(&ctx.names.site_id(), WEB, &json!({"tags": tags}))
        .await
        .with_context(|| format!("tagging {} with the deployed package's hash", ctx.names.app))?;
    Ok(())
}

/// Wait until ARM lists the functions; ask for a trigger sync once if they are slow to appear.
async fn wait_for_functions(ctx: &Ctx, step: &Step) -> anyhow::Result<Vec<String>> {
    let path = format!("{}/functions", ctx.names.site_id());
    let started = Instant::now();
    let mut synced = false;
    loop {
        let listed = ctx.arm().list(&path, WEB).await?;
        let names: Vec<String> = listed
            .iter()
            .filter_map(|f| f["name"].as_str())
            .map(|n| n.rsplit('/').next().unwrap_or(n).to_string())
            .collect();
        // A plan reads the list as it is: nothing was deployed to wait for.
        if !names.is_empty() || ctx.dry_run {
            return Ok(names);
        }
        let elapsed = started.elapsed();
        if !synced && elapsed > LISTING_BUDGET / 5 {
            step.set("syncing triggers");
            ctx.arm()
                .post(
                    &format!("{}/syncfunctiontriggers", ctx.names.site_id()),
                    WEB,
                    None,
                )
                .await?;
            synced = true;
        }
        if elapsed > LISTING_BUDGET {
            bail!(
                "the deployment succeeded but ARM lists no functions for {} after {} minutes; check that function_app.py defines HTTP triggers (`apimfn function deploy --force` re-deploys)",
                ctx.names.app,
                LISTING_BUDGET.as_secs() / 60
            );
        }
        tokio::time::sleep(ctx.pace().interval(Duration::from_secs(5))).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_only_when_the_package_or_the_deployment_differs() {
        let sha = "abc";
        assert!(needs_upload(None, None, sha, false), "never deployed");
        assert!(!needs_upload(
            Some("abc"),
            Some(status::SUCCESS),
            sha,
            false
        ));
        assert!(
            needs_upload(Some("abc"), Some(status::SUCCESS), sha, true),
            "--force"
        );
        assert!(
            needs_upload(Some("old"), Some(status::SUCCESS), sha, false),
            "new package"
        );
        assert!(
            needs_upload(Some("abc"), Some(status::FAILED), sha, false),
            "last one failed"
        );
    }
}
