//! `destroy`: delete the resource group (which soft-deletes the APIM service in it), purge the
//! soft-deleted service so its global name is free again, and delete the Entra app registration
//! apimfn created — only applications carrying apimfn's tag for this function app
//! ([`crate::steps::Names::app_registration_tag`]), never one given with `--client-id`.
//!
//! Converges like every step: [`survey`] reads what is there, the pure [`decide`] lists what to
//! delete, and only that is sent. A second run finds nothing and sends nothing; a run interrupted
//! after the group delete finds the soft-deleted service by name (and by its former id, so a
//! namesake from another group is never touched) and purges it; a group already `Deleting` is
//! waited for, not deleted again (arm-reference §1, §2.4).

use super::status::{find_soft_deleted, tagged_app_registrations};
use super::versions::{APIM, RESOURCES};
use super::{Action, Change, Ctx};
use crate::arm::{FinalState, LroStatus, provisioning_state};
use crate::output::human_duration;
use anyhow::Context;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, Default)]
pub struct DestroyOptions {
    pub keep_app_registration: bool,
}

/// An app registration apimfn created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppRef {
    /// Graph object id.
    pub id: String,
    pub app_id: String,
    pub display_name: String,
}

/// What exists before anything is deleted.
#[derive(Debug, Clone, PartialEq)]
pub struct Survey {
    /// `None`: no group; `Some(state)`: its provisioning state.
    pub group: Option<String>,
    /// The live service's region (normalised), read before the group goes.
    pub apim_location: Option<String>,
    /// The soft-deleted service that was ours, with its region (a re-run after the group went).
    pub soft_deleted_location: Option<String>,
    /// The tagged app registrations; `Err` when Graph could not be read.
    pub apps: Result<Vec<AppRef>, String>,
}

impl Default for Survey {
    fn default() -> Self {
        Survey {
            group: None,
            apim_location: None,
            soft_deleted_location: None,
            apps: Ok(Vec::new()),
        }
    }
}

/// One thing to delete, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deletion {
    Group,
    /// A group delete is already running: wait for it.
    WaitForGroup,
    /// Purge the soft-deleted service; the region when known (otherwise found after the group
    /// delete).
    Purge {
        location: Option<String>,
    },
    App(AppRef),
}

pub fn decide(s: &Survey, opts: DestroyOptions) -> Vec<Deletion> {
    let mut out = Vec::new();
    match s.group.as_deref() {
        None => {}
        Some(state) if state.eq_ignore_ascii_case("Deleting") => out.push(Deletion::WaitForGroup),
        Some(_) => out.push(Deletion::Group),
    }
    if s.apim_location.is_some() || s.soft_deleted_location.is_some() {
        out.push(Deletion::Purge {
            location: s
                .soft_deleted_location
                .clone()
                .or_else(|| s.apim_location.clone()),
        });
    }
    if !opts.keep_app_registration
        && let Ok(apps) = &s.apps
    {
        out.extend(apps.iter().cloned().map(Deletion::App));
    }
    out
}

/// One line per deletion, for the confirmation prompt.
pub fn describe(d: &Deletion, ctx: &Ctx) -> String {
    let n = &ctx.names;
    match d {
        Deletion::Group => format!(
            "delete resource group {} and everything in it (APIM {}, function app {}, storage, plan)",
            n.resource_group, n.apim, n.app
        ),
        Deletion::WaitForGroup => format!(
            "wait for the running deletion of resource group {}",
            n.resource_group
        ),
        Deletion::Purge { .. } => format!(
            "purge the soft-deleted APIM service {} so that its name is free again (it cannot be recovered afterwards)",
            n.apim
        ),
        Deletion::App(a) => format!(
            "delete the Entra app registration {} (appId {}) that apimfn created",
            a.display_name, a.app_id
        ),
    }
}

/// `Japan East` → `japaneast`: deletedservices paths take the region code.
pub fn location_code(location: &str) -> String {
    location
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

fn app_ref(v: &Value) -> Option<AppRef> {
    Some(AppRef {
        id: v.get("id")?.as_str()?.to_string(),
        app_id: v
            .get("appId")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        display_name: v
            .get("displayName")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
    })
}

/// Read what is there. Graph is not asked when the app registration is kept.
pub async fn survey(ctx: &Ctx, opts: DestroyOptions) -> anyhow::Result<Survey> {
    let n = &ctx.names;
    let group = ctx.arm().get(&n.group_id(), RESOURCES).await?;
    let mut s = Survey {
        group: group
            .as_ref()
            .map(|g| provisioning_state(g).unwrap_or("Succeeded").to_string()),
        apps: Ok(Vec::new()),
        ..Survey::default()
    };
    if group.is_some() {
        s.apim_location = match ctx.arm().get(&n.apim_id(), APIM).await {
            Ok(v) => v
                .as_ref()
                .and_then(|v| v.get("location"))
                .and_then(Value::as_str)
                .map(location_code),
            // A group being deleted may no longer answer for its resources.
            Err(e) if s.group.as_deref() == Some("Deleting") => {
                tracing::debug!("reading the APIM service of a group being deleted: {e}");
                None
            }
            Err(e) => return Err(e.into()),
        };
    }
    if s.apim_location.is_none() {
        s.soft_deleted_location = find_soft_deleted(ctx, &n.apim, &n.apim_id())
            .await?
            .and_then(|d| d.get("location").and_then(Value::as_str).map(location_code));
    }
    if !opts.keep_app_registration {
        s.apps = match tagged_app_registrations(ctx).await {
            Ok(list) => Ok(list.iter().filter_map(app_ref).collect()),
            Err(e) => Err(e.to_string()),
        };
    }
    Ok(s)
}

/// What was deleted, for the report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DestroyOutcome {
    pub group_deleted: bool,
    pub apim_purged: bool,
    pub apps_deleted: Vec<String>,
    /// Things left behind, with why (e.g. Graph not readable).
    pub left: Vec<String>,
}

impl DestroyOutcome {
    pub fn json(&self) -> Value {
        json!({
            "resourceGroupDeleted": self.group_deleted,
            "apimPurged": self.apim_purged,
            "appRegistrationsDeleted": self.apps_deleted,
            "left": self.left,
        })
    }
}

/// Carry out `plan` (from [`decide`] on `s`), in order.
pub async fn execute(
    ctx: &Ctx,
    s: &Survey,
    plan: &[Deletion],
    opts: DestroyOptions,
) -> anyhow::Result<DestroyOutcome> {
    let n = &ctx.names;
    let mut out = DestroyOutcome::default();
    if plan.is_empty() {
        ctx.changes
            .record(Change::new("resource group", n.group_id(), Action::None));
    }
    for d in plan {
        match d {
            Deletion::Group => {
                delete_group(ctx).await?;
                out.group_deleted = true;
            }
            Deletion::WaitForGroup => {
                wait_group_gone(ctx).await?;
                out.group_deleted = true;
            }
            Deletion::Purge { location } => {
                if purge(ctx, location.as_deref()).await? {
                    out.apim_purged = true;
                } else {
                    out.left.push(format!(
                        "the soft-deleted APIM service {} did not show up to be purged; run `apimfn destroy` again later (Azure purges it on its own after 48 hours)",
                        n.apim
                    ));
                }
            }
            Deletion::App(a) => {
                let path = format!("/v1.0/applications/{}", a.id);
                let step = ctx.printer.step("app registration");
                step.set(&format!("deleting {} ({})", a.display_name, a.app_id));
                ctx.graph()
                    .delete(&path, "")
                    .await
                    .with_context(|| format!("deleting the app registration {}", a.app_id))?;
                ctx.changes
                    .record(Change::new("app registration", &path, Action::Delete));
                step.finish("deleted");
                out.apps_deleted.push(a.app_id.clone());
            }
        }
    }
    if let Err(e) = &s.apps
        && !opts.keep_app_registration
    {
        out.left.push(format!(
            "the app registration apimfn created could not be looked up ({e}); delete the application tagged {} by hand",
            n.app_registration_tag()
        ));
    }
    Ok(out)
}

async fn delete_group(ctx: &Ctx) -> anyhow::Result<()> {
    let id = ctx.names.group_id();
    let step = ctx.printer.step("resource group");
    step.set(&format!("deleting {}", ctx.names.resource_group));
    let req = ctx.arm().request(Method::DELETE, &id, RESOURCES)?;
    let started = match ctx.arm().begin(&req).await {
        Ok(s) => Some(s),
        Err(e) if e.is_not_found() => None,
        Err(e) => {
            return Err(anyhow::Error::new(e).context(format!(
                "deleting resource group {}",
                ctx.names.resource_group
            )));
        }
    };
    ctx.changes
        .record(Change::new("resource group", &id, Action::Delete));
    if let Some(op) = started.and_then(|s| s.operation) {
        let t0 = Instant::now();
        ctx.arm()
            .wait(&op, |_s: &LroStatus| {
                step.set(&format!(
                    "deleting {} ({} elapsed)",
                    ctx.names.resource_group,
                    human_duration(t0.elapsed())
                ))
            })
            .await
            .with_context(|| format!("deleting resource group {}", ctx.names.resource_group))?;
    }
    step.finish("deleted");
    Ok(())
}

/// A delete started by an earlier (interrupted) run: poll the group until it is gone.
async fn wait_group_gone(ctx: &Ctx) -> anyhow::Result<()> {
    let id = ctx.names.group_id();
    let step = ctx.printer.step("resource group");
    ctx.printer.info(&format!(
        "resource group {} is already being deleted; waiting for it instead of deleting it again",
        ctx.names.resource_group
    ));
    ctx.changes
        .record(Change::new("resource group", &id, Action::Delete));
    let t0 = Instant::now();
    let limit = ctx.pace().interval(Duration::from_secs(3600));
    while ctx.arm().get(&id, RESOURCES).await?.is_some() {
        if t0.elapsed() > limit {
            anyhow::bail!(
                "resource group {} is still being deleted after {}; run `apimfn destroy` again later",
                ctx.names.resource_group,
                human_duration(t0.elapsed())
            );
        }
        step.set(&format!(
            "waiting for the deletion ({} elapsed)",
            human_duration(t0.elapsed())
        ));
        tokio::time::sleep(ctx.pace().interval(Duration::from_secs(15))).await;
    }
    step.finish("deleted");
    Ok(())
}

/// Purge the soft-deleted service. `false` when it never showed up.
async fn purge(ctx: &Ctx, location: Option<&str>) -> anyhow::Result<bool> {
    let n = &ctx.names;
    let step = ctx.printer.step("apim purge");
    step.set("looking for the soft-deleted service");
    // Deleting the group soft-deletes the service; give Azure a moment to list it.
    let t0 = Instant::now();
    let limit = ctx.pace().interval(Duration::from_secs(120));
    let location = loop {
        let found = find_soft_deleted(ctx, &n.apim, &n.apim_id()).await?;
        if let Some(d) = found {
            let loc = d
                .get("location")
                .and_then(Value::as_str)
                .map(location_code)
                .or_else(|| location.map(str::to_string));
            break loc;
        }
        if t0.elapsed() > limit {
            step.finish("not found");
            return Ok(false);
        }
        tokio::time::sleep(ctx.pace().interval(Duration::from_secs(10))).await;
    };
    let Some(location) = location else {
        step.finish("no region");
        return Ok(false);
    };
    let path = format!(
        "{}/providers/Microsoft.ApiManagement/locations/{location}/deletedservices/{}",
        n.subscription_id(),
        n.apim
    );
    step.set(&format!("purging {}", n.apim));
    let req = ctx
        .arm()
        .request(Method::DELETE, &path, APIM)?
        .final_state(FinalState::Location);
    let started = ctx
        .arm()
        .begin(&req)
        .await
        .with_context(|| format!("purging the soft-deleted APIM service {}", n.apim))?;
    ctx.changes
        .record(Change::new("soft-deleted APIM", &path, Action::Delete));
    if let Some(op) = started.operation {
        let t1 = Instant::now();
        ctx.arm()
            .wait(&op, |_s: &LroStatus| {
                step.set(&format!(
                    "purging {} ({} elapsed)",
                    n.apim,
                    human_duration(t1.elapsed())
                ))
            })
            .await
            .with_context(|| format!("purging the soft-deleted APIM service {}", n.apim))?;
    }
    step.finish("purged");
    Ok(true)
}

/// The interactive confirmation: the resource group's name, typed exactly.
pub fn confirmed(answer: &str, resource_group: &str) -> bool {
    answer.trim() == resource_group
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(id: &str) -> AppRef {
        AppRef {
            id: id.into(),
            app_id: format!("app-{id}"),
            display_name: "fn-easyauth".into(),
        }
    }

    #[test]
    fn everything_present_is_deleted_in_order() {
        let s = Survey {
            group: Some("Succeeded".into()),
            apim_location: Some("japaneast".into()),
            soft_deleted_location: None,
            apps: Ok(vec![app("o1")]),
        };
        assert_eq!(
            decide(&s, DestroyOptions::default()),
            vec![
                Deletion::Group,
                Deletion::Purge {
                    location: Some("japaneast".into())
                },
                Deletion::App(app("o1")),
            ]
        );
    }

    #[test]
    fn nothing_present_means_nothing_to_do() {
        let s = Survey {
            apps: Ok(vec![]),
            ..Survey::default()
        };
        assert!(decide(&s, DestroyOptions::default()).is_empty());
    }

    #[test]
    fn a_rerun_after_the_group_went_still_purges() {
        let s = Survey {
            group: None,
            apim_location: None,
            soft_deleted_location: Some("japaneast".into()),
            apps: Ok(vec![]),
        };
        assert_eq!(
            decide(&s, DestroyOptions::default()),
            vec![Deletion::Purge {
                location: Some("japaneast".into())
            }]
        );
    }

    #[test]
    fn a_group_being_deleted_is_waited_for() {
        let s = Survey {
            group: Some("Deleting".into()),
            apps: Ok(vec![]),
            ..Survey::default()
        };
        assert_eq!(
            decide(&s, DestroyOptions::default()),
            vec![Deletion::WaitForGroup]
        );
    }

    #[test]
    fn the_app_registration_is_kept_on_request_or_when_graph_is_unreadable() {
        let s = Survey {
            group: Some("Succeeded".into()),
            apps: Ok(vec![app("o1"), app("o2")]),
            ..Survey::default()
        };
        let keep = DestroyOptions {
            keep_app_registration: true,
        };
        assert_eq!(decide(&s, keep), vec![Deletion::Group]);
        assert_eq!(decide(&s, DestroyOptions::default()).len(), 3);
        let unreadable = Survey {
            apps: Err("403".into()),
            ..s
        };
        assert_eq!(
            decide(&unreadable, DestroyOptions::default()),
            vec![Deletion::Group]
        );
    }

    #[test]
    fn regions_become_codes_and_only_the_exact_name_confirms() {
        assert_eq!(location_code("Japan East"), "japaneast");
        assert_eq!(location_code("japaneast"), "japaneast");
        assert!(confirmed("t1-rg\n", "t1-rg"));
        assert!(!confirmed("y", "t1-rg"));
        assert!(!confirmed("T1-RG", "t1-rg"));
    }

    #[test]
    fn only_graph_objects_with_an_id_count() {
        assert_eq!(
            app_ref(&json!({"id": "o", "appId": "a", "displayName": "d"})),
            Some(AppRef {
                id: "o".into(),
                app_id: "a".into(),
                display_name: "d".into()
            })
        );
        assert_eq!(app_ref(&json!({"appId": "a"})), None);
    }
}
