//! `apim create`: the resource group, then the API Management service (Developer, capacity 1,
//! system-assigned identity, publisher), waiting through its 30–90 minute activation.
//!
//! Order of reads: the service in our group first (a re-run must not ask whether its own name is
//! free), then `checkNameAvailability`, then — only when the name is taken — the subscription's
//! soft-deleted services, to tell "soft-deleted here" (offer `--recover` / `--purge-soft-deleted`)
//! from "someone else's" (arm-reference §2.1, §2.4).

use super::diff::differences;
use super::versions::APIM;
use super::{Action, Change, Ctx, group};
use crate::arm::{LroStatus, Phase, classify_status};
use crate::models::{ApimService, DeletedService, NameAvailability};
use crate::output::{Step, human_duration};
use anyhow::{Context, bail};
use reqwest::Method;
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, Default)]
pub struct ApimOptions {
    pub no_wait: bool,
    pub recover: bool,
    pub purge_soft_deleted: bool,
}

/// What the service looks like when the step is done (or left to activate with `--no-wait`).
#[derive(Debug, Clone, PartialEq)]
pub struct ApimOutcome {
    pub id: String,
    pub gateway_url: Option<String>,
    pub principal_id: Option<String>,
    pub tenant_id: Option<String>,
    pub provisioning_state: String,
}

/// What to do with the service, given what exists in our group.
#[derive(Debug, Clone, PartialEq)]
pub enum ApimDecision {
    /// Not in our group: check the name, then create.
    Create,
    /// An activation or update is running: wait for it, never send another PUT.
    Join {
        state: String,
    },
    /// Active, and what apimfn owns differs: PATCH these fields.
    Update {
        patch: Value,
        fields: Vec<crate::steps::FieldChange>,
    },
    /// A failed provisioning: send the whole PUT again (Azure retries it).
    Retry {
        state: String,
    },
    Nothing,
}

/// The body of a create: what az sends (arm-reference §2.2), minus the optional fields.
pub fn desired_body(location: &str, email: &str, publisher: &str) -> Value {
    json!({
        "location": location,
        "sku": {"name": "Developer", "capacity": 1},
        "identity": {"type": "SystemAssigned"},
        "properties": {"publisherEmail": email, "publisherName": publisher}
    })
}

/// The fields apimfn owns on an existing service. A service that also has user-assigned
/// identities keeps them: the wanted identity type is then `SystemAssigned, UserAssigned`.
fn owned(current: &Value, email: &str, publisher: &str) -> Value {
    let kind = current["identity"]["type"].as_str().unwrap_or("");
    let identity = if kind.to_ascii_lowercase().contains("userassigned") {
        "SystemAssigned, UserAssigned"
    } else {
        "SystemAssigned"
    };
    json!({
        "sku": {"name": "Developer", "capacity": 1},
        "identity": {"type": identity},
        "properties": {"publisherEmail": email, "publisherName": publisher}
    })
}

pub fn decide(current: Option<&Value>, email: &str, publisher: &str) -> ApimDecision {
    let Some(current) = current else {
        return ApimDecision::Create;
    };
    let state = crate::arm::provisioning_state(current)
        .unwrap_or("Succeeded")
        .to_string();
    match classify_status(&state) {
        Phase::Running => ApimDecision::Join { state },
        Phase::Failed | Phase::Canceled => ApimDecision::Retry { state },
        Phase::Succeeded => {
            let want = owned(current, email, publisher);
            let fields = differences(&want, current);
            if fields.is_empty() {
                return ApimDecision::Nothing;
            }
            // Send only the sections that differ: PATCH leaves everything else alone.
            let mut patch = serde_json::Map::new();
            for section in ["sku", "identity", "properties"] {
                if fields
                    .iter()
                    .any(|f| f.path.starts_with(&format!("{section}.")))
                {
                    patch.insert(section.to_string(), want[section].clone());
                }
            }
            ApimDecision::Update {
                patch: Value::Object(patch),
                fields,
            }
        }
    }
}

/// Why a missing service cannot simply be created.
#[derive(Debug, Clone, PartialEq)]
pub enum NameProblem {
    SoftDeletedHere {
        purge_date: Option<String>,
        location: String,
    },
    TakenElsewhere {
        message: String,
    },
    Invalid {
        message: String,
    },
}

pub async fn create(ctx: &Ctx, opts: ApimOptions) -> anyhow::Result<ApimOutcome> {
    let location = ctx.names.location()?.to_string();
    let email = ctx.names.publisher_email()?.to_string();
    let publisher = ctx.names.publisher_name().to_string();
    let id = ctx.names.apim_id();
    let step = ctx.printer.step("apim");
    step.set("reading");
    group::ensure(ctx, &location).await?;

    let current = ctx.arm().get(&id, APIM).await?;
    let decision = decide(current.as_ref(), &email, &publisher);
    let body = desired_body(&location, &email, &publisher);
    let first = match decision {
        ApimDecision::Nothing => {
            ctx.changes
                .record(Change::new("APIM service", &id, Action::None));
            let outcome = outcome(&id, current.as_ref())?;
            step.finish("unchanged");
            return Ok(outcome);
        }
        ApimDecision::Join { state } => {
            ctx.changes
                .record(Change::new("APIM service", &id, Action::None));
            ctx.printer.info(&format!(
                "apim: {} is {}; joining the wait instead of sending another request",
                ctx.names.apim,
                state.to_ascii_lowercase()
            ));
            let current = current.unwrap_or(Value::Null);
            report_identity(ctx, &current);
            if opts.no_wait {
                step.finish(&format!("still {}", state.to_ascii_lowercase()));
                return outcome(&id, Some(&current));
            }
            let done = wait_active(ctx, &step, &state.to_ascii_lowercase()).await?;
            step.finish("active");
            return outcome(&id, Some(&done));
        }
        ApimDecision::Update { patch, fields } => {
            ctx.changes
                .record(Change::new("APIM service", &id, Action::Update).with_fields(fields));
            if ctx.dry_run {
                step.finish("would update");
                return outcome(&id, current.as_ref());
            }
            step.set("updating");
            let req = ctx
                .arm()
                .request(Method::PATCH, &id, APIM)?
                .if_match_any()
                .json(&patch);
            ctx.arm().begin(&req).await?
        }
        ApimDecision::Retry { state } => {
            ctx.printer.warn(&format!(
                "APIM service {} is in state {state}; sending the create again",
                ctx.names.apim
            ));
            ctx.changes
                .record(Change::new("APIM service", &id, Action::Update));
            if ctx.dry_run {
                step.finish("would send the create again");
                return outcome(&id, current.as_ref());
            }
            ctx.arm().begin_put(&id, APIM, &body).await?
        }
        ApimDecision::Create => {
            step.set("checking the name");
            let put_body = match check_name(ctx, &location).await? {
                None => body.clone(),
                Some(problem) => resolve_name_problem(ctx, &step, problem, opts, &body).await?,
            };
            ctx.changes
                .record(Change::new("APIM service", &id, Action::Create));
            if ctx.dry_run {
                step.finish("would create");
                return Ok(ApimOutcome {
                    id,
                    gateway_url: None,
                    principal_id: None,
                    tenant_id: None,
                    provisioning_state: String::new(),
                });
            }
            step.set("creating");
            ctx.arm().begin_put(&id, APIM, &put_body).await?
        }
    };
    // The identity exists from the first answer (arm-reference §2.2): say so at once, so a user
    // can configure roles while the service activates.
    if let Some(b) = &first.body {
        report_identity(ctx, b);
    }
    if opts.no_wait {
        let state = first
            .body
            .as_ref()
            .and_then(crate::arm::provisioning_state)
            .unwrap_or("Accepted")
            .to_string();
        step.finish(&format!(
            "accepted ({}); not waiting",
            state.to_ascii_lowercase()
        ));
        return outcome(&id, first.body.as_ref());
    }
    let verb = if first.status == 201 {
        "activating"
    } else {
        "updating"
    };
    let done = match first.operation {
        Some(op) => {
            let started = std::time::Instant::now();
            ctx.arm()
                .wait(&op, |s: &LroStatus| {
                    step.set(&activation_message(verb, &s.status, started.elapsed()))
                })
                .await
                .with_context(|| format!("waiting for APIM service {}", ctx.names.apim))?;
            ctx.arm().get_required(&id, APIM).await?
        }
        None => first.body.unwrap_or(Value::Null),
    };
    // A PUT can end its operation while the resource still reports a transition; make sure.
    let done = match crate::arm::provisioning_state(&done).map(classify_status) {
        Some(Phase::Running) => wait_active(ctx, &step, verb).await?,
        _ => done,
    };
    step.finish("active");
    outcome(&id, Some(&done))
}

/// `activating (12m elapsed)`: the operation's own `InProgress` says less than the service's
/// state word, so that is shown instead.
fn activation_message(verb: &str, status: &str, elapsed: std::time::Duration) -> String {
    let word = match status.to_ascii_lowercase().as_str() {
        "inprogress" | "accepted" | "running" | "created" => verb.to_string(),
        other => other.to_string(),
    };
    format!("{word} ({} elapsed)", human_duration(elapsed))
}

/// Poll the service itself until it leaves its transition state.
async fn wait_active(ctx: &Ctx, step: &Step, verb: &str) -> anyhow::Result<Value> {
    let started = std::time::Instant::now();
    ctx.arm()
        .wait_for_provisioning(&ctx.names.apim_id(), APIM, |s: &LroStatus| {
            step.set(&activation_message(verb, &s.status, started.elapsed()))
        })
        .await
        .with_context(|| format!("waiting for APIM service {} to activate", ctx.names.apim))
}

/// Wait until the service is active (joining an activation or update in progress); used by
/// `setup` after `create` with `no_wait`, so the rest of the graph runs meanwhile.
pub async fn await_active(ctx: &Ctx) -> anyhow::Result<ApimOutcome> {
    let id = ctx.names.apim_id();
    let current = ctx.arm().get_required(&id, APIM).await?;
    let state = crate::arm::provisioning_state(&current)
        .unwrap_or("Succeeded")
        .to_string();
    match classify_status(&state) {
        Phase::Succeeded => outcome(&id, Some(&current)),
        Phase::Running => {
            let step = ctx.printer.step("apim");
            let done = wait_active(ctx, &step, &state.to_ascii_lowercase()).await?;
            step.finish("active");
            outcome(&id, Some(&done))
        }
        Phase::Failed | Phase::Canceled => bail!(
            "APIM service {} is in state {state}; run `apimfn apim create` to send the create again",
            ctx.names.apim
        ),
    }
}

fn report_identity(ctx: &Ctx, body: &Value) {
    if let Some(p) = body["identity"]["principalId"].as_str() {
        ctx.printer
            .info(&format!("apim: managed identity principal {p}"));
    }
}

fn outcome(id: &str, body: Option<&Value>) -> anyhow::Result<ApimOutcome> {
    let Some(body) = body else {
        bail!("Azure returned no body for APIM service {id}");
    };
    let svc: ApimService = serde_json::from_value(body.clone())
        .with_context(|| format!("reading APIM service {id}"))?;
    let props = svc.properties.unwrap_or_default();
    let identity = svc.identity.unwrap_or_default();
    Ok(ApimOutcome {
        id: svc.id.unwrap_or_else(|| id.to_string()),
        gateway_url: props.gateway_url.filter(|g| !g.is_empty()),
        principal_id: identity.principal_id,
        tenant_id: identity.tenant_id,
        provisioning_state: props.provisioning_state.unwrap_or_default(),
    })
}

/// `None` when the name is free; otherwise why it is not.
async fn check_name(ctx: &Ctx, location: &str) -> anyhow::Result<Option<NameProblem>> {
    let sub = ctx.names.subscription_id();
    let answer = ctx
        .arm()
        .post(
            &format!("{sub}/providers/Microsoft.ApiManagement/checkNameAvailability"),
            APIM,
            Some(&json!({"name": ctx.names.apim})),
        )
        .await?
        .unwrap_or(Value::Null);
    let check: NameAvailability =
        serde_json::from_value(answer).context("reading the APIM name check")?;
    if check.name_available {
        return Ok(None);
    }
    let message = check.message.unwrap_or_default();
    if check.reason.as_deref() == Some("Invalid") {
        return Ok(Some(NameProblem::Invalid { message }));
    }
    let deleted = ctx
        .arm()
        .list(
            &format!("{sub}/providers/Microsoft.ApiManagement/deletedservices"),
            APIM,
        )
        .await?;
    let mine = deleted.into_iter().find_map(|v| {
        let d: DeletedService = serde_json::from_value(v).ok()?;
        d.name
            .as_deref()
            .is_some_and(|n| n.eq_ignore_ascii_case(&ctx.names.apim))
            .then_some(d)
    });
    Ok(Some(match mine {
        Some(d) => NameProblem::SoftDeletedHere {
            purge_date: d.properties.and_then(|p| p.scheduled_purge_date),
            location: d.location.unwrap_or_else(|| location.to_string()),
        },
        None => NameProblem::TakenElsewhere { message },
    }))
}

/// The body to PUT once the name problem is dealt with, or the error that tells the user what
/// to do.
async fn resolve_name_problem(
    ctx: &Ctx,
    step: &Step,
    problem: NameProblem,
    opts: ApimOptions,
    body: &Value,
) -> anyhow::Result<Value> {
    let name = &ctx.names.apim;
    match problem {
        NameProblem::Invalid { message } => bail!("APIM rejects the name {name}: {message}"),
        NameProblem::TakenElsewhere { message } => bail!(
            "the APIM name {name} is taken by a service outside this resource group or subscription ({message}); service names are global ({name}.azure-api.net): choose another with --apim-name or --name"
        ),
        NameProblem::SoftDeletedHere {
            purge_date,
            location,
        } => {
            if opts.recover {
                ctx.printer
                    .info(&format!("apim: recovering the soft-deleted service {name}"));
                let mut b = body.clone();
                b["properties"]["restore"] = json!(true);
                return Ok(b);
            }
            if opts.purge_soft_deleted {
                step.set("purging the soft-deleted service");
                let loc = location
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .flat_map(char::to_lowercase)
                    .collect::<String>();
                let path = format!(
                    "{}/providers/Microsoft.ApiManagement/locations/{loc}/deletedservices/{name}",
                    ctx.names.subscription_id()
                );
                let req = ctx
                    .arm()
                    .request(Method::DELETE, &path, APIM)?
                    .final_state(crate::arm::FinalState::Location);
                ctx.arm()
                    .execute(&req)
                    .await
                    .with_context(|| format!("purging the soft-deleted APIM service {name}"))?;
                ctx.changes
                    .record(Change::new("soft-deleted APIM", &path, Action::Delete));
                ctx.printer
                    .info(&format!("apim: purged the soft-deleted service {name}"));
                return Ok(body.clone());
            }
            let until = purge_date
                .map(|d| format!(" (Azure purges it on its own at {d})"))
                .unwrap_or_default();
            bail!(
                "the APIM name {name} belongs to a soft-deleted service in this subscription{until}; run `apimfn apim create --recover` to restore it, or `apimfn apim create --purge-soft-deleted` to purge it and create a new one (then `apimfn setup` goes on from there)"
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(state: &str, sku: &str, email: &str) -> Value {
        json!({
            "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/a",
            "name": "a",
            "location": "Japan East",
            "sku": {"name": sku, "capacity": 1},
            "identity": {"type": "SystemAssigned", "principalId": "p", "tenantId": "t"},
            "properties": {
                "publisherEmail": email, "publisherName": "apimfn",
                "provisioningState": state, "gatewayUrl": "https://a.azure-api.net",
                "virtualNetworkType": "None"
            }
        })
    }

    #[test]
    fn a_missing_service_is_created() {
        assert_eq!(decide(None, "e@x", "apimfn"), ApimDecision::Create);
    }

    #[test]
    fn an_active_service_as_wanted_needs_nothing() {
        let s = service("Succeeded", "Developer", "e@x");
        assert_eq!(decide(Some(&s), "e@x", "apimfn"), ApimDecision::Nothing);
    }

    #[test]
    fn an_activating_service_is_joined_not_put_again() {
        let s = service("Activating", "Developer", "e@x");
        assert_eq!(
            decide(Some(&s), "e@x", "apimfn"),
            ApimDecision::Join {
                state: "Activating".into()
            }
        );
    }

    #[test]
    fn owned_differences_become_a_patch_of_those_sections_only() {
        let s = service("Succeeded", "Basic", "old@x");
        let ApimDecision::Update { patch, fields } = decide(Some(&s), "e@x", "apimfn") else {
            panic!("expected an update");
        };
        assert_eq!(
            patch,
            json!({"sku": {"name": "Developer", "capacity": 1},
                   "properties": {"publisherEmail": "e@x", "publisherName": "apimfn"}})
        );
        let paths: Vec<&str> = fields.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["sku.name", "properties.publisherEmail"]);
    }

    #[test]
    fn user_assigned_identities_are_kept() {
        let mut s = service("Succeeded", "Developer", "e@x");
        s["identity"]["type"] = json!("UserAssigned");
        let ApimDecision::Update { patch, .. } = decide(Some(&s), "e@x", "apimfn") else {
            panic!("expected an update");
        };
        assert_eq!(patch["identity"]["type"], "SystemAssigned, UserAssigned");
    }

    #[test]
    fn a_failed_service_is_sent_again() {
        let s = service("Failed", "Developer", "e@x");
        assert!(matches!(
            decide(Some(&s), "e@x", "apimfn"),
            ApimDecision::Retry { .. }
        ));
    }
}
