//! `function create`: the Flex Consumption region check, then storage account, deployment
//! container, FC1 plan, the function app (site) with identity-based deployment and host storage,
//! its app settings, and the Storage Blob Data Owner role for the site's identity on the account
//! (arm-reference §3). Each resource: read, decide (pure functions below), write only what
//! differs, wait.

use super::diff::differences;
use super::versions::{AUTHORIZATION, STORAGE, WEB};
use super::{Action, Change, Ctx, FieldChange, group};
use crate::exit::UsageError;
use crate::output::Step;
use anyhow::{Context, bail};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Storage Blob Data Owner: covers the deployment container and host storage (arm-reference §3.4).
pub const BLOB_DATA_OWNER: &str = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b";
/// How long a fresh identity may stay unknown to the directory (`PrincipalNotFound`).
const PRINCIPAL_BUDGET: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, PartialEq)]
pub struct FunctionOutcome {
    pub id: String,
    pub default_host_name: Option<String>,
    pub principal_id: Option<String>,
}

/// Create, update these owned fields (as a PATCH body), or nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Create,
    Update {
        patch: Value,
        fields: Vec<FieldChange>,
    },
    Nothing,
}

/// Sections of `want` whose fields differ, as a PATCH body (PATCH leaves everything else alone).
fn patch_of(want: &Value, fields: &[FieldChange]) -> Value {
    let mut patch = json!({});
    for f in fields {
        // Send the whole second-level section (e.g. `properties.functionAppConfig`): nested
        // objects in a PATCH replace, they are not merged field by field.
        let parts: Vec<&str> = f.path.split('.').collect();
        let depth = if parts.first() == Some(&"properties") {
            2
        } else {
            1
        };
        let mut src = want;
        let mut dst = &mut patch;
        for (i, p) in parts.iter().take(depth).enumerate() {
            src = &src[*p];
            if i + 1 == depth.min(parts.len()) {
                dst[*p] = src.clone();
            } else {
                dst = &mut dst[*p];
            }
        }
    }
    patch
}

fn decide_with(want: &Value, current: Option<&Value>) -> Decision {
    let Some(current) = current else {
        return Decision::Create;
    };
    let fields = differences(want, current);
    if fields.is_empty() {
        Decision::Nothing
    } else {
        Decision::Update {
            patch: patch_of(want, &fields),
            fields,
        }
    }
}

// ---- storage account ----

pub fn storage_body(location: &str) -> Value {
    json!({
        "location": location,
        "kind": "StorageV2",
        "sku": {"name": "Standard_LRS"},
        "properties": {
            "minimumTlsVersion": "TLS1_2",
            "allowBlobPublicAccess": false,
            "supportsHttpsTrafficOnly": true
        }
    })
}

pub fn decide_storage(current: Option<&Value>) -> Decision {
    let mut want = storage_body("");
    if let Some(o) = want.as_object_mut() {
        // Location and kind are not changed on an existing account (kind only upgrades).
        o.remove("location");
    }
    decide_with(&want, current)
}

// ---- plan ----

pub fn plan_body(location: &str) -> Value {
    json!({
        "location": location,
        "kind": "functionapp",
        "sku": {"name": "FC1", "tier": "FlexConsumption"},
        "properties": {"reserved": true}
    })
}

/// A plan of another SKU cannot become a Flex plan: that is an error, not an update.
pub fn decide_plan(current: Option<&Value>) -> Result<Decision, String> {
    let Some(current) = current else {
        return Ok(Decision::Create);
    };
    let sku = current["sku"]["name"].as_str().unwrap_or("");
    if !sku.eq_ignore_ascii_case("FC1") {
        return Err(format!(
            "the plan exists with SKU '{sku}'; a Flex Consumption app needs an FC1 plan (choose another --plan-name, or delete that plan)"
        ));
    }
    Ok(Decision::Nothing)
}

// ---- site ----

pub struct SiteSpec<'a> {
    pub location: &'a str,
    pub plan_id: &'a str,
    /// `https://{account}.blob.core.windows.net/{container}`
    pub container_url: &'a str,
    pub account: &'a str,
}

/// The fields apimfn owns on the site (arm-reference §3.3).
fn site_owned(s: &SiteSpec<'_>) -> Value {
    json!({
        "identity": {"type": "SystemAssigned"},
        "properties": {
            "httpsOnly": true,
            "functionAppConfig": {
                "deployment": {"storage": {
                    "type": "blobContainer",
                    "value": s.container_url,
                    "authentication": {"type": "SystemAssignedIdentity"}
                }},
                "runtime": {"name": "python", "version": "3.12"},
                "scaleAndConcurrency": {"instanceMemoryMB": 2048, "maximumInstanceCount": 100}
            }
        }
    })
}

pub fn site_body(s: &SiteSpec<'_>) -> Value {
    let mut body = site_owned(s);
    body["location"] = json!(s.location);
    body["kind"] = json!("functionapp,linux");
    body["properties"]["serverFarmId"] = json!(s.plan_id);
    body["properties"]["siteConfig"] = json!({
        "appSettings": [{"name": "AzureWebJobsStorage__accountName", "value": s.account}]
    });
    body
}

pub fn decide_site(current: Option<&Value>, s: &SiteSpec<'_>) -> Decision {
    let want = site_owned(s);
    let mut decision = decide_with(&want, current);
    // ARM ids compare case-insensitively; a plan id that differs only in case is the same plan.
    if let Some(cur) = current {
        let farm = cur["properties"]["serverFarmId"].as_str().unwrap_or("");
        if !farm.eq_ignore_ascii_case(s.plan_id) {
            let change = FieldChange {
                path: "properties.serverFarmId".into(),
                old: Some(json!(farm)),
                new: json!(s.plan_id),
            };
            decision = match decision {
                Decision::Nothing => Decision::Update {
                    patch: json!({"properties": {"serverFarmId": s.plan_id}}),
                    fields: vec![change],
                },
                Decision::Update {
                    mut patch,
                    mut fields,
                } => {
                    patch["properties"]["serverFarmId"] = json!(s.plan_id);
                    fields.push(change);
                    Decision::Update { patch, fields }
                }
                d => d,
            };
        }
    }
    decision
}

/// App settings apimfn owns: host storage through the identity. Returns the full new map when
/// something differs (the settings resource is replaced as a whole).
pub fn decide_app_settings(
    current: &serde_json::Map<String, Value>,
    account: &str,
) -> Option<(serde_json::Map<String, Value>, FieldChange)> {
    let key = "AzureWebJobsStorage__accountName";
    let have = current.get(key);
    if have.and_then(Value::as_str) == Some(account) {
        return None;
    }
    let mut next = current.clone();
    next.insert(key.into(), json!(account));
    Some((
        next,
        FieldChange {
            path: format!("properties.{key}"),
            old: have.cloned(),
            new: json!(account),
        },
    ))
}

/// The role assignment's name: a name-based UUID of scope, principal and role, so a re-run (or a
/// second machine) asks for the same assignment and never creates a duplicate.
pub fn role_assignment_name(scope: &str, principal: &str, role: &str) -> String {
    let key = format!(
        "{}|{}|{}",
        scope.to_ascii_lowercase(),
        principal.to_ascii_lowercase(),
        role.to_ascii_lowercase()
    );
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, key.as_bytes()).to_string()
}

/// Whether `assignments` (a scope's list) already grant `role` to `principal`.
pub fn has_assignment(assignments: &[Value], principal: &str, role: &str) -> bool {
    assignments.iter().any(|a| {
        let p = &a["properties"];
        p["principalId"]
            .as_str()
            .is_some_and(|x| x.eq_ignore_ascii_case(principal))
            && p["roleDefinitionId"]
                .as_str()
                .is_some_and(|d| d.to_ascii_lowercase().ends_with(&role.to_ascii_lowercase()))
    })
}

/// Normalise a region for comparison: `Japan East` → `japaneast`.
fn region_code(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The Flex Consumption region check: `Ok` when `location` is listed; otherwise the error lists
/// a few that are.
pub fn check_region(location: &str, regions: &[Value]) -> Result<(), UsageError> {
    let names: Vec<String> = regions
        .iter()
        .filter_map(|r| r["name"].as_str().or(r["properties"]["name"].as_str()))
        .map(region_code)
        .collect();
    if names.iter().any(|n| *n == region_code(location)) {
        return Ok(());
    }
    // Nearest first: `japanwest` suggests `japaneast` before `australiaeast`.
    let wanted = region_code(location);
    let shared = |n: &str| {
        wanted
            .chars()
            .zip(n.chars())
            .take_while(|(a, b)| a == b)
            .count()
    };
    let mut some: Vec<&str> = names.iter().map(String::as_str).collect();
    some.sort_unstable_by(|a, b| shared(b).cmp(&shared(a)).then(a.cmp(b)));
    some.dedup();
    some.truncate(8);
    Err(UsageError::invalid(
        "--location",
        location,
        &format!(
            "this region does not offer Flex Consumption function apps in this subscription; some that do: {}",
            some.join(", ")
        ),
    ))
}

pub async fn create(ctx: &Ctx) -> anyhow::Result<FunctionOutcome> {
    let names = &ctx.names;
    let location = names.location()?.to_string();
    let account = names.storage()?.to_string();
    let container = names.container()?.to_string();
    let plan_id = names.plan_id()?;
    let storage_id = names.storage_id()?;
    let step = ctx.printer.step("function");

    step.set("checking the region");
    let regions = ctx
        .arm()
        .list(
            &format!(
                "{}/providers/Microsoft.Web/geoRegions?sku=FlexConsumption",
                names.subscription_id()
            ),
            WEB,
        )
        .await?;
    check_region(&location, &regions)?;
    group::ensure(ctx, &location).await?;

    step.set("storage account");
    let blob_endpoint = ensure_storage(ctx, &step, &storage_id, &account, &location).await?;
    ensure_container(ctx, &names.container_id()?).await?;

    step.set("plan");
    let plan = super::read_settled(ctx, &plan_id, WEB).await?;
    match decide_plan(plan.as_ref()).map_err(|m| anyhow::anyhow!("plan {plan_id}: {m}"))? {
        Decision::Create => {
            if !ctx.dry_run {
                ctx.arm()
                    .put(&plan_id, WEB, &plan_body(&location))
                    .await
                    .with_context(|| format!("creating the Flex Consumption plan {plan_id}"))?;
            }
            ctx.changes
                .record(Change::new("plan", &plan_id, Action::Create));
        }
        _ => ctx
            .changes
            .record(Change::new("plan", &plan_id, Action::None)),
    }

    step.set("function app");
    let container_url = format!("{}{container}", ensure_slash(&blob_endpoint));
    let spec = SiteSpec {
        location: &location,
        plan_id: &plan_id,
        container_url: &container_url,
        account: &account,
    };
    let site = ensure_site(ctx, &spec).await?;

    step.set("role assignment");
    let principal = site["identity"]["principalId"].as_str().map(str::to_string);
    let principal = match principal {
        Some(p) => p,
        // A plan for an app still to be created: its identity does not exist yet.
        None if ctx.dry_run => {
            let id = format!(
                "{storage_id}/providers/Microsoft.Authorization/roleAssignments/{}",
                super::KNOWN_AFTER_APPLY
            );
            ctx.changes
                .record(Change::new("role assignment", id, Action::Create));
            step.finish("planned");
            return Ok(FunctionOutcome {
                id: names.site_id(),
                default_host_name: None,
                principal_id: None,
            });
        }
        None => bail!("the function app {} has no managed identity", names.app),
    };
    ensure_role(ctx, &storage_id, &principal).await?;
    step.finish(if ctx.dry_run { "planned" } else { "ready" });
    Ok(FunctionOutcome {
        id: names.site_id(),
        default_host_name: site["properties"]["defaultHostName"]
            .as_str()
            .map(str::to_string),
        principal_id: Some(principal),
    })
}

fn ensure_slash(s: &str) -> String {
    if s.ends_with('/') {
        s.to_string()
    } else {
        format!("{s}/")
    }
}

/// The storage account; returns its blob endpoint (`https://{account}.blob.core.windows.net/`).
async fn ensure_storage(
    ctx: &Ctx,
    step: &Step,
    id: &str,
    account: &str,
    location: &str,
) -> anyhow::Result<String> {
    let current = super::read_settled(ctx, id, STORAGE).await?;
    let done = match decide_storage(current.as_ref()) {
        Decision::Create => {
            check_storage_name(ctx, account).await?;
            if ctx.dry_run {
                ctx.changes
                    .record(Change::new("storage account", id, Action::Create));
                return Ok(format!("https://{}/", ctx.azure.cloud.blob_host(account)));
            }
            step.set("creating the storage account");
            let v = ctx
                .arm()
                .put(id, STORAGE, &storage_body(location))
                .await
                .with_context(|| format!("creating the storage account {account}"))?;
            ctx.changes
                .record(Change::new("storage account", id, Action::Create));
            // A 202 create ends with an empty final answer on some paths: read it back.
            if v["properties"]["primaryEndpoints"]["blob"].is_string() {
                v
            } else {
                ctx.arm().get_required(id, STORAGE).await?
            }
        }
        Decision::Update { fields, .. } if ctx.dry_run => {
            ctx.changes
                .record(Change::new("storage account", id, Action::Update).with_fields(fields));
            current.unwrap_or(Value::Null)
        }
        Decision::Update { patch, fields } => {
            let v = ctx
                .arm()
                .patch(id, STORAGE, &patch)
                .await
                .with_context(|| format!("updating the storage account {account}"))?;
            ctx.changes
                .record(Change::new("storage account", id, Action::Update).with_fields(fields));
            v
        }
        Decision::Nothing => {
            ctx.changes
                .record(Change::new("storage account", id, Action::None));
            current.unwrap_or(Value::Null)
        }
    };
    Ok(done["properties"]["primaryEndpoints"]["blob"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("https://{}/", ctx.azure.cloud.blob_host(account))))
}

async fn check_storage_name(ctx: &Ctx, account: &str) -> anyhow::Result<()> {
    let answer = ctx
        .arm()
        .post(
            &format!(
                "{}/providers/Microsoft.Storage/checkNameAvailability",
                ctx.names.subscription_id()
            ),
            STORAGE,
            Some(&json!({"name": account, "type": "Microsoft.Storage/storageAccounts"})),
        )
        .await?
        .unwrap_or(Value::Null);
    if answer["nameAvailable"] == json!(false) {
        bail!(
            "the storage account name {account} is not available: {} — storage names are global; set --storage-account-name",
            answer["message"].as_str().unwrap_or("taken")
        );
    }
    Ok(())
}

async fn ensure_container(ctx: &Ctx, id: &str) -> anyhow::Result<()> {
    if ctx.arm().get(id, STORAGE).await?.is_some() {
        ctx.changes
            .record(Change::new("blob container", id, Action::None));
        return Ok(());
    }
    if ctx.dry_run {
        ctx.changes
            .record(Change::new("blob container", id, Action::Create));
        return Ok(());
    }
    ctx.arm()
        .put(
            id,
            STORAGE,
            &json!({"properties": {"publicAccess": "None"}}),
        )
        .await
        .with_context(|| format!("creating the deployment container {id}"))?;
    ctx.changes
        .record(Change::new("blob container", id, Action::Create));
    Ok(())
}

/// The site and its app settings; returns the site as Azure has it now.
async fn ensure_site(ctx: &Ctx, spec: &SiteSpec<'_>) -> anyhow::Result<Value> {
    let id = ctx.names.site_id();
    let current = super::read_settled(ctx, &id, WEB).await?;
    let site = match decide_site(current.as_ref(), spec) {
        Decision::Create if ctx.dry_run => {
            ctx.changes
                .record(Change::new("function app", &id, Action::Create));
            // What the create would send; no identity yet.
            return Ok(site_body(spec));
        }
        Decision::Create => {
            ctx.arm()
                .put(&id, WEB, &site_body(spec))
                .await
                .with_context(|| format!("creating the function app {}", ctx.names.app))?;
            ctx.changes
                .record(Change::new("function app", &id, Action::Create));
            // The create carried the app settings; nothing more to check.
            return ctx.arm().get_required(&id, WEB).await.map_err(Into::into);
        }
        Decision::Update { fields, .. } if ctx.dry_run => {
            ctx.changes
                .record(Change::new("function app", &id, Action::Update).with_fields(fields));
            current.unwrap_or(Value::Null)
        }
        Decision::Update { patch, fields } => {
            ctx.arm()
                .patch(&id, WEB, &patch)
                .await
                .with_context(|| format!("updating the function app {}", ctx.names.app))?;
            ctx.changes
                .record(Change::new("function app", &id, Action::Update).with_fields(fields));
            ctx.arm().get_required(&id, WEB).await?
        }
        Decision::Nothing => {
            ctx.changes
                .record(Change::new("function app", &id, Action::None));
            current.unwrap_or(Value::Null)
        }
    };
    let settings_id = format!("{id}/config/appsettings");
    let listed = ctx
        .arm()
        .post(&format!("{settings_id}/list"), WEB, None)
        .await?
        .unwrap_or(Value::Null);
    let current = listed["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    match decide_app_settings(&current, spec.account) {
        Some((next, field)) => {
            if !ctx.dry_run {
                ctx.arm()
                    .put(&settings_id, WEB, &json!({"properties": next}))
                    .await
                    .with_context(|| format!("updating the app settings of {}", ctx.names.app))?;
            }
            ctx.changes.record(
                Change::new("app settings", &settings_id, Action::Update).with_fields(vec![field]),
            );
        }
        None => ctx
            .changes
            .record(Change::new("app settings", &settings_id, Action::None)),
    }
    Ok(site)
}

/// Storage Blob Data Owner for the site's identity on the account.
async fn ensure_role(ctx: &Ctx, storage_id: &str, principal: &str) -> anyhow::Result<()> {
    let role_id = format!(
        "{}/providers/Microsoft.Authorization/roleDefinitions/{BLOB_DATA_OWNER}",
        ctx.names.subscription_id()
    );
    let name = role_assignment_name(storage_id, principal, BLOB_DATA_OWNER);
    let id = format!("{storage_id}/providers/Microsoft.Authorization/roleAssignments/{name}");
    if ctx.arm().get(&id, AUTHORIZATION).await?.is_some() {
        ctx.changes
            .record(Change::new("role assignment", &id, Action::None));
        return Ok(());
    }
    // Someone (az, the portal) may have granted it under another name.
    let existing = ctx
        .arm()
        .list(
            &format!(
                "{storage_id}/providers/Microsoft.Authorization/roleAssignments?$filter=principalId eq '{principal}'"
            ),
            AUTHORIZATION,
        )
        .await?;
    if has_assignment(&existing, principal, BLOB_DATA_OWNER) {
        ctx.changes
            .record(Change::new("role assignment", &id, Action::None));
        return Ok(());
    }
    if ctx.dry_run {
        ctx.changes
            .record(Change::new("role assignment", &id, Action::Create));
        return Ok(());
    }
    let body = json!({"properties": {
        "roleDefinitionId": role_id,
        "principalId": principal,
        "principalType": "ServicePrincipal"
    }});
    let started = Instant::now();
    loop {
        match ctx.arm().put(&id, AUTHORIZATION, &body).await {
            Ok(_) => break,
            // Same principal, role and scope under another name: it is there (arm-reference §3.4).
            Err(e) if e.has_code("RoleAssignmentExists") => break,
            // A fresh identity can take a moment to reach the directory.
            Err(e) if e.has_code("PrincipalNotFound") && started.elapsed() < PRINCIPAL_BUDGET => {
                ctx.printer
                    .info("function: the app's identity is not in the directory yet; retrying");
                tokio::time::sleep(ctx.pace().interval(Duration::from_secs(10))).await;
            }
            Err(e) => {
                return Err(anyhow::Error::new(e).context(format!(
                    "granting Storage Blob Data Owner on {storage_id} to the function app's identity {principal}"
                )));
            }
        }
    }
    ctx.changes
        .record(Change::new("role assignment", &id, Action::Create));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> (String, String) {
        (
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/serverfarms/p".into(),
            "https://st.blob.core.windows.net/app-package-x".into(),
        )
    }

    fn site(plan: &str, memory: i64) -> Value {
        json!({
            "identity": {"type": "SystemAssigned", "principalId": "p"},
            "properties": {
                "serverFarmId": plan, "httpsOnly": true, "defaultHostName": "a.azurewebsites.net",
                "functionAppConfig": {
                    "deployment": {"storage": {"type": "blobContainer",
                        "value": "https://st.blob.core.windows.net/app-package-x",
                        "authentication": {"type": "SystemAssignedIdentity", "userAssignedIdentityResourceId": null}}},
                    "runtime": {"name": "python", "version": "3.12"},
                    "scaleAndConcurrency": {"instanceMemoryMB": memory, "maximumInstanceCount": 100, "alwaysReady": []}
                }
            }
        })
    }

    #[test]
    fn a_site_as_wanted_needs_nothing_and_plan_ids_compare_without_case() {
        let (plan, url) = spec();
        let s = SiteSpec {
            location: "japaneast",
            plan_id: &plan,
            container_url: &url,
            account: "st",
        };
        assert_eq!(decide_site(None, &s), Decision::Create);
        assert_eq!(decide_site(Some(&site(&plan, 2048)), &s), Decision::Nothing);
        assert_eq!(
            decide_site(Some(&site(&plan.to_ascii_lowercase(), 2048)), &s),
            Decision::Nothing
        );
    }

    #[test]
    fn a_drifted_memory_size_patches_the_whole_function_app_config() {
        let (plan, url) = spec();
        let s = SiteSpec {
            location: "japaneast",
            plan_id: &plan,
            container_url: &url,
            account: "st",
        };
        let Decision::Update { patch, fields } = decide_site(Some(&site(&plan, 4096)), &s) else {
            panic!("expected an update");
        };
        assert_eq!(fields.len(), 1);
        assert_eq!(
            fields[0].path,
            "properties.functionAppConfig.scaleAndConcurrency.instanceMemoryMB"
        );
        assert_eq!(
            patch["properties"]["functionAppConfig"]["runtime"]["version"], "3.12",
            "nested objects are sent whole: {patch}"
        );
        assert!(patch.get("identity").is_none(), "{patch}");
    }

    #[test]
    fn storage_decisions() {
        assert_eq!(decide_storage(None), Decision::Create);
        let mut have = storage_body("Japan East");
        have["properties"]["primaryEndpoints"] =
            json!({"blob": "https://st.blob.core.windows.net/"});
        assert_eq!(decide_storage(Some(&have)), Decision::Nothing);
        have["properties"]["allowBlobPublicAccess"] = json!(true);
        let Decision::Update { patch, .. } = decide_storage(Some(&have)) else {
            panic!("expected an update");
        };
        assert_eq!(patch["properties"]["allowBlobPublicAccess"], false);
    }

    #[test]
    fn a_plan_of_another_sku_is_an_error() {
        assert_eq!(decide_plan(None), Ok(Decision::Create));
        assert_eq!(
            decide_plan(Some(&json!({"sku": {"name": "FC1"}}))),
            Ok(Decision::Nothing)
        );
        let err = decide_plan(Some(&json!({"sku": {"name": "Y1"}}))).expect_err("Y1");
        assert!(err.contains("'Y1'"), "{err}");
    }

    #[test]
    fn app_settings_keep_the_users_and_set_host_storage() {
        let mut cur = serde_json::Map::new();
        cur.insert("MY_SETTING".into(), json!("1"));
        let (next, change) = decide_app_settings(&cur, "st").expect("change");
        assert_eq!(next["MY_SETTING"], "1");
        assert_eq!(next["AzureWebJobsStorage__accountName"], "st");
        assert_eq!(change.old, None);
        assert!(decide_app_settings(&next, "st").is_none());
    }

    #[test]
    fn role_assignment_names_are_stable_and_distinct() {
        let a = role_assignment_name("/s/x", "P", BLOB_DATA_OWNER);
        assert_eq!(a, role_assignment_name("/S/X", "p", BLOB_DATA_OWNER));
        assert_ne!(a, role_assignment_name("/s/x", "q", BLOB_DATA_OWNER));
        assert_eq!(a.len(), 36);
        let list = [json!({"properties": {"principalId": "p",
            "roleDefinitionId": format!("/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/{BLOB_DATA_OWNER}")}})];
        assert!(has_assignment(&list, "P", BLOB_DATA_OWNER));
        assert!(!has_assignment(&list, "q", BLOB_DATA_OWNER));
    }

    #[test]
    fn the_region_check_lists_some_valid_regions() {
        let regions = [
            json!({"name": "Japan East", "properties": {"name": "Japan East"}}),
            json!({"name": "East Asia"}),
        ];
        assert!(check_region("japaneast", &regions).is_ok());
        let err = check_region("japanwest", &regions).expect_err("not flex");
        assert!(err.message.contains("--location"), "{}", err.message);
        assert!(
            err.message.ends_with("japaneast, eastasia"),
            "nearest first: {}",
            err.message
        );
    }
}
