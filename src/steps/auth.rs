//! `auth configure`: App Service Authentication (Easy Auth, authsettingsV2) on the function app,
//! letting in only APIM's managed identity, and the API policy that makes APIM present that
//! identity's token (arm-reference §7, §8).
//!
//! 1. The audience: an Entra app registration — the one given with `--client-id` (checked: the
//!    application, its service principal and its `api://{appId}` identifier URI must exist), or
//!    the one apimfn created for this function app, found by a deterministic tag
//!    ([`registration_tag`]), or a new one. Creating it is three Graph writes (application,
//!    identifier URI, service principal); each is checked before it is sent, so a run killed in
//!    between finishes the registration instead of making a second one. Graph replicates new
//!    objects with a delay: the 404s (and the "no backing application" 400) that follow are
//!    retried for a bounded time.
//! 2. authsettingsV2: read with secrets (`GET …/authsettingsV2/list`), set the fields apimfn owns,
//!    PUT the whole object back (a PUT replaces everything), only when something differs.
//! 3. The API policy gains `<authentication-managed-identity resource="api://{appId}" />`.

use super::diff::differences;
use super::import::{EntityDecision, ensure_policy, merge, require_site};
use super::policy::Owned;
use super::versions::{APIM, WEB};
use super::{Action, Change, Ctx, FieldChange};
use crate::arm::ArmError;
use anyhow::{Context, bail};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// How long Graph's replication 404s are retried (real time: replication is Azure's, not ours).
const REPLICATION_BUDGET: Duration = Duration::from_secs(120);
/// The pause between those retries, scaled to the emulator's clock.
const REPLICATION_PAUSE: Duration = Duration::from_secs(2);

const GRAPH: &str = "https://graph.microsoft.com/v1.0";

/// The tag on the app registration apimfn creates for a function app: how a later run (and
/// `destroy`) finds it again.
pub fn registration_tag(subscription: &str, resource_group: &str, app: &str) -> String {
    format!("apimfn:{subscription}/{resource_group}/{app}")
}

pub fn registration_display_name(app: &str) -> String {
    format!("{app}-easyauth")
}

pub fn audience(app_id: &str) -> String {
    format!("api://{app_id}")
}

/// Managed-identity tokens are v1 unless the app asks for v2 (arm-reference §7).
pub fn issuer(tenant_id: &str) -> String {
    format!("https://sts.windows.net/{tenant_id}/")
}

/// OData string literal: quotes doubled.
fn odata(s: &str) -> String {
    s.replace('\'', "''")
}

/// What apimfn owns in authsettingsV2; everything else is the user's and is kept.
pub fn auth_settings_owned(app_id: &str, tenant_id: &str, principal_id: &str) -> Value {
    json!({"properties": {
        "platform": {"enabled": true},
        "globalValidation": {
            "requireAuthentication": true,
            "unauthenticatedClientAction": "Return401",
        },
        "identityProviders": {"azureActiveDirectory": {
            "enabled": true,
            "registration": {"clientId": app_id, "openIdIssuer": issuer(tenant_id)},
            "validation": {
                "allowedAudiences": [audience(app_id), app_id],
                "defaultAuthorizationPolicy": {"allowedPrincipals": {"identities": [principal_id]}},
            },
        }},
    }})
}

/// Whether to PUT, and the whole object to PUT: the current properties with ours written over
/// them (other providers, excluded paths, login and HTTP settings kept).
pub fn decide_auth_settings(current: &Value, owned: &Value) -> (EntityDecision, Value) {
    let fields = differences(owned, current);
    let mut props = match &current["properties"] {
        Value::Object(_) => current["properties"].clone(),
        _ => json!({}),
    };
    merge(&mut props, &owned["properties"]);
    let body = json!({"properties": props});
    if fields.is_empty() {
        (EntityDecision::Nothing, body)
    } else {
        (EntityDecision::Update(fields), body)
    }
}

/// What is missing for an app registration given with `--client-id` to serve as the audience.
pub fn missing_for_given(app: Option<&Value>, sp: Option<&Value>, app_id: &str) -> Vec<String> {
    let mut missing = Vec::new();
    match app {
        None => missing.push(format!(
            "no application (app registration) with appId {app_id} in this tenant"
        )),
        Some(a) => {
            let has_uri = a["identifierUris"]
                .as_array()
                .is_some_and(|u| u.iter().any(|x| x.as_str() == Some(&audience(app_id))));
            if !has_uri {
                missing.push(format!(
                    "the application's identifierUris do not contain {} (add it: az ad app update --id {app_id} --identifier-uris {})",
                    audience(app_id),
                    audience(app_id)
                ));
            }
        }
    }
    if sp.is_none() {
        missing.push(format!(
            "no service principal for appId {app_id} in this tenant (create it: az ad sp create --id {app_id})"
        ));
    }
    missing
}

/// Of several registrations carrying our tag (a duplicate from a run that could not see a
/// not-yet-replicated one), the oldest.
pub fn pick_registration(found: &[Value]) -> Option<&Value> {
    found
        .iter()
        .min_by_key(|a| a["createdDateTime"].as_str().unwrap_or("~").to_string())
}

/// The next Graph write a registration of ours still needs.
#[derive(Debug, Clone, PartialEq)]
pub enum RegistrationStep {
    CreateApplication,
    AddIdentifierUri {
        object_id: String,
        uris: Vec<String>,
    },
    CreateServicePrincipal {
        app_id: String,
    },
    Done,
}

pub fn next_registration_step(app: Option<&Value>, sp_exists: bool) -> RegistrationStep {
    let Some(app) = app else {
        return RegistrationStep::CreateApplication;
    };
    let app_id = app["appId"].as_str().unwrap_or_default();
    let mut uris: Vec<String> = app["identifierUris"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    if !uris.iter().any(|u| *u == audience(app_id)) {
        uris.push(audience(app_id));
        return RegistrationStep::AddIdentifierUri {
            object_id: app["id"].as_str().unwrap_or_default().to_string(),
            uris,
        };
    }
    if !sp_exists {
        return RegistrationStep::CreateServicePrincipal {
            app_id: app_id.to_string(),
        };
    }
    RegistrationStep::Done
}

/// Graph's answers while a new object replicates: 404 for it, and 400 "does not reference a
/// valid application object" for a service principal of a new application.
pub fn is_replication_lag(e: &ArmError) -> bool {
    if e.is_not_found() {
        return true;
    }
    e.status() == Some(400)
        && (e
            .details()
            .iter()
            .any(|d| d.code.as_deref() == Some("NoBackingApplicationObject"))
            || e.message()
                .contains("does not reference a valid application object"))
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuthOutcome {
    pub client_id: String,
    pub audience: String,
    pub issuer: String,
    pub app_object_id: Option<String>,
    /// True for the registration apimfn manages (not one given with `--client-id`).
    pub managed_by_apimfn: bool,
}

pub async fn configure(ctx: &Ctx, client_id: Option<&str>) -> anyhow::Result<AuthOutcome> {
    let n = ctx.names.clone();
    let step = ctx.printer.step("auth configure");
    step.set("reading");
    // Everything that must exist first, before any write (Graph included).
    let Some(svc) = ctx.arm().get(&n.apim_id(), APIM).await? else {
        bail!(
            "the API Management service {} does not exist in resource group {}: run `apimfn apim create` first",
            n.apim,
            n.resource_group
        );
    };
    let (Some(principal), Some(tenant)) = (
        svc["identity"]["principalId"].as_str().map(str::to_string),
        svc["identity"]["tenantId"].as_str().map(str::to_string),
    ) else {
        bail!(
            "the API Management service {} has no system-assigned identity: run `apimfn apim create` to add it",
            n.apim
        );
    };
    require_site(ctx).await?;
    if ctx.arm().get(&n.api_arm_id(), APIM).await?.is_none() {
        bail!(
            "API {} does not exist in {}: run `apimfn api import` first",
            n.api_id(),
            n.apim
        );
    }

    step.set("app registration");
    let (app_id, object_id) = registration(ctx, client_id).await?;
    step.set("authsettingsV2");
    easy_auth(ctx, &app_id, &tenant, &principal).await?;
    step.set("policy");
    managed_identity_policy(ctx, &app_id).await?;
    step.finish("done");
    Ok(AuthOutcome {
        audience: audience(&app_id),
        issuer: issuer(&tenant),
        client_id: app_id,
        managed_by_apimfn: object_id.is_some(),
        app_object_id: object_id,
    })
}

/// The audience: the registration given with `--client-id` (checked), or the one apimfn manages
/// (found by its tag, finished, or created). `(appId, object id when apimfn manages it)`.
pub async fn registration(
    ctx: &Ctx,
    client_id: Option<&str>,
) -> anyhow::Result<(String, Option<String>)> {
    match client_id {
        Some(id) => {
            given_registration(ctx, id).await?;
            Ok((id.to_string(), None))
        }
        None => {
            let (app_id, object_id) = own_registration(ctx).await?;
            Ok((app_id, Some(object_id)))
        }
    }
}

/// The API policy's `authentication-managed-identity` element for the audience.
pub async fn managed_identity_policy(ctx: &Ctx, app_id: &str) -> anyhow::Result<()> {
    ensure_policy(ctx, &[Owned::managed_identity(&audience(app_id))]).await
}

async fn graph_list(ctx: &Ctx, collection: &str, filter: &str) -> anyhow::Result<Vec<Value>> {
    let mut url = url::Url::parse(&format!("{GRAPH}/{collection}"))
        .context("building a Microsoft Graph URL")?;
    url.query_pairs_mut().append_pair("$filter", filter);
    ctx.graph()
        .list(url.as_str(), "")
        .await
        .with_context(|| {
            format!(
                "listing {collection} in Microsoft Graph ($filter={filter}; needs Application.Read.All, or pass --client-id)"
            )
        })
}

/// `--client-id`: the application, its identifier URI and its service principal must exist.
async fn given_registration(ctx: &Ctx, app_id: &str) -> anyhow::Result<()> {
    let filter = format!("appId eq '{}'", odata(app_id));
    let apps = graph_list(ctx, "applications", &filter).await?;
    let sps = graph_list(ctx, "servicePrincipals", &filter).await?;
    let missing = missing_for_given(apps.first(), sps.first(), app_id);
    if !missing.is_empty() {
        bail!(
            "the app registration given with --client-id {app_id} cannot be the Easy Auth audience:\n  - {}",
            missing.join("\n  - ")
        );
    }
    ctx.changes.record(Change::new(
        "app registration",
        format!("{GRAPH}/applications(appId='{app_id}')"),
        Action::None,
    ));
    Ok(())
}

/// Retry `f` while Graph has not replicated a new object yet.
async fn through_replication<T, F, Fut>(ctx: &Ctx, mut f: F) -> Result<T, ArmError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ArmError>>,
{
    let deadline = Instant::now() + REPLICATION_BUDGET;
    loop {
        match f().await {
            Err(e) if is_replication_lag(&e) && Instant::now() < deadline => {
                tokio::time::sleep(ctx.pace().interval(REPLICATION_PAUSE)).await;
            }
            other => return other,
        }
    }
}

/// Find or finish (or create) the registration apimfn manages: `(appId, object id)`.
async fn own_registration(ctx: &Ctx) -> anyhow::Result<(String, String)> {
    let n = &ctx.names;
    let tag = registration_tag(&n.subscription, &n.resource_group, &n.app);
    let found = graph_list(
        ctx,
        "applications",
        &format!("tags/any(t:t eq '{}')", odata(&tag)),
    )
    .await?;
    if found.len() > 1 {
        ctx.printer.warn(&format!(
            "{} app registrations carry the tag {tag}; using the oldest. Delete the others in Entra ID.",
            found.len()
        ));
    }
    let mut app = pick_registration(&found).cloned();
    let mut sp_known = false;
    // The service principal's object id, once seen (for the report).
    let mut sp_id: Option<String> = None;
    let mut created_app = false;
    // Whether this run wrote anything to the registration (else it is reported unchanged).
    let mut wrote = false;
    loop {
        let sp_exists = match &app {
            Some(a) if !sp_known => {
                let app_id = a["appId"].as_str().unwrap_or_default();
                let sps = graph_list(
                    ctx,
                    "servicePrincipals",
                    &format!("appId eq '{}'", odata(app_id)),
                )
                .await?;
                sp_known = !sps.is_empty();
                sp_id = sps
                    .first()
                    .and_then(|sp| sp["id"].as_str())
                    .map(str::to_string);
                sp_known
            }
            _ => sp_known,
        };
        match next_registration_step(app.as_ref(), sp_exists) {
            RegistrationStep::CreateApplication if ctx.dry_run => {
                let unknown = super::KNOWN_AFTER_APPLY;
                ctx.changes.record(Change::new(
                    "app registration",
                    format!("{GRAPH}/applications/{unknown}"),
                    Action::Create,
                ));
                ctx.changes.record(Change::new(
                    "service principal",
                    format!("{GRAPH}/servicePrincipals/{unknown}"),
                    Action::Create,
                ));
                return Ok((unknown.to_string(), unknown.to_string()));
            }
            RegistrationStep::CreateApplication => {
                let body = json!({
                    "displayName": registration_display_name(&n.app),
                    "signInAudience": "AzureADMyOrg",
                    "tags": [tag],
                });
                let created = ctx
                    .graph()
                    .post(&format!("{GRAPH}/applications"), "", Some(&body))
                    .await
                    .context(
                        "creating the app registration in Microsoft Graph (needs Application.ReadWrite.All)",
                    )?
                    .unwrap_or(Value::Null);
                let (Some(id), Some(app_id)) = (created["id"].as_str(), created["appId"].as_str())
                else {
                    bail!("Microsoft Graph created an application but returned no id/appId");
                };
                ctx.printer.info(&format!(
                    "auth configure: created app registration {} (appId {app_id})",
                    registration_display_name(&n.app)
                ));
                ctx.changes.record(Change::new(
                    "app registration",
                    format!("{GRAPH}/applications/{id}"),
                    Action::Create,
                ));
                created_app = true;
                wrote = true;
                app = Some(created);
                sp_known = false;
            }
            RegistrationStep::AddIdentifierUri { object_id, uris } => {
                let path = format!("{GRAPH}/applications/{object_id}");
                let body = json!({"identifierUris": uris});
                if !ctx.dry_run {
                    through_replication(ctx, || ctx.graph().patch(&path, "", &body))
                        .await
                        .context(
                            "setting the app registration's identifier URI in Microsoft Graph",
                        )?;
                }
                wrote = true;
                if !created_app {
                    let fields = vec![FieldChange {
                        path: "identifierUris".into(),
                        old: app.as_ref().map(|a| a["identifierUris"].clone()),
                        new: json!(uris),
                    }];
                    ctx.changes.record(
                        Change::new("app registration", &path, Action::Update).with_fields(fields),
                    );
                }
                if let Some(a) = app.as_mut() {
                    a["identifierUris"] = json!(uris);
                }
            }
            RegistrationStep::CreateServicePrincipal { .. } if ctx.dry_run => {
                ctx.changes.record(Change::new(
                    "service principal",
                    format!("{GRAPH}/servicePrincipals/{}", super::KNOWN_AFTER_APPLY),
                    Action::Create,
                ));
                wrote = true;
                sp_known = true;
            }
            RegistrationStep::CreateServicePrincipal { app_id } => {
                let body = json!({"appId": app_id});
                let url = format!("{GRAPH}/servicePrincipals");
                let done =
                    through_replication(ctx, || ctx.graph().post(&url, "", Some(&body))).await;
                let new_sp = match done {
                    Ok(v) => v
                        .and_then(|v| v["id"].as_str().map(str::to_string))
                        .unwrap_or_default(),
                    // A run that could not list it yet (replication) made it already.
                    Err(e) if e.has_code("Request_MultipleObjectsWithSameKeyValue") => {
                        sp_known = true;
                        continue;
                    }
                    Err(e) => {
                        return Err(anyhow::Error::new(e).context(
                            "creating the app registration's service principal in Microsoft Graph",
                        ));
                    }
                };
                ctx.changes.record(Change::new(
                    "service principal",
                    format!("{GRAPH}/servicePrincipals/{new_sp}"),
                    Action::Create,
                ));
                wrote = true;
                sp_known = true;
            }
            RegistrationStep::Done => {
                let a = app.clone().unwrap_or(Value::Null);
                let id = a["id"].as_str().unwrap_or_default().to_string();
                let app_id = a["appId"].as_str().unwrap_or_default().to_string();
                if !wrote {
                    ctx.changes.record(Change::new(
                        "app registration",
                        format!("{GRAPH}/applications/{id}"),
                        Action::None,
                    ));
                    if let Some(sp) = &sp_id {
                        ctx.changes.record(Change::new(
                            "service principal",
                            format!("{GRAPH}/servicePrincipals/{sp}"),
                            Action::None,
                        ));
                    }
                }
                return Ok((app_id, id));
            }
        }
    }
}

/// authsettingsV2: read with secrets, change only what apimfn owns, PUT the whole object back.
pub async fn easy_auth(
    ctx: &Ctx,
    app_id: &str,
    tenant: &str,
    principal: &str,
) -> anyhow::Result<()> {
    let id = format!("{}/config/authsettingsV2", ctx.names.site_id());
    // With secrets (the spec's GetAuthSettingsV2, a GET): what we PUT back must lose nothing.
    let current = ctx
        .arm()
        .get(&format!("{id}/list"), WEB)
        .await
        .with_context(|| format!("reading the authentication settings of {}", ctx.names.app))?;
    let current = match current {
        Some(c) => c,
        // A plan for an app still to be created: a new app's settings are all off.
        None if ctx.dry_run => json!({"properties": {"platform": {"enabled": false}}}),
        None => bail!(
            "the function app {} has no authentication settings to read; run `apimfn function create`",
            ctx.names.app
        ),
    };
    let owned = auth_settings_owned(app_id, tenant, principal);
    let (decision, body) = decide_auth_settings(&current, &owned);
    ctx.changes.record(
        Change::new("Easy Auth settings", &id, decision.action()).with_fields(decision.fields()),
    );
    if decision == EntityDecision::Nothing || ctx.dry_run {
        return Ok(());
    }
    ctx.arm()
        .put(&id, WEB, &body)
        .await
        .with_context(|| format!("writing the authentication settings of {}", ctx.names.app))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_app_gets_everything_and_a_right_one_nothing() {
        let fresh = json!({"id": "x", "properties": {"platform": {"enabled": false}}});
        let owned = auth_settings_owned("A", "T", "P");
        let (d, body) = decide_auth_settings(&fresh, &owned);
        assert!(matches!(d, EntityDecision::Update(_)));
        let p = &body["properties"];
        assert_eq!(p["platform"]["enabled"], true);
        assert_eq!(
            p["globalValidation"]["unauthenticatedClientAction"],
            "Return401"
        );
        let aad = &p["identityProviders"]["azureActiveDirectory"];
        assert_eq!(
            aad["registration"]["openIdIssuer"],
            "https://sts.windows.net/T/"
        );
        assert_eq!(
            aad["validation"]["allowedAudiences"],
            json!(["api://A", "A"])
        );
        assert_eq!(
            aad["validation"]["defaultAuthorizationPolicy"]["allowedPrincipals"]["identities"],
            json!(["P"])
        );
        assert!(
            body.get("id").is_none(),
            "read-only envelope fields are not sent"
        );
        let (again, _) = decide_auth_settings(&body, &owned);
        assert_eq!(again, EntityDecision::Nothing);
    }

    #[test]
    fn the_users_providers_and_settings_are_kept_and_drift_is_named() {
        let current = json!({"properties": {
            "platform": {"enabled": true, "runtimeVersion": "~1"},
            "globalValidation": {"requireAuthentication": true, "unauthenticatedClientAction": "AllowAnonymous",
                                 "excludedPaths": ["/api/health"]},
            "identityProviders": {
                "azureActiveDirectory": {"enabled": true,
                    "registration": {"clientId": "A", "openIdIssuer": "https://sts.windows.net/T/",
                                     "clientSecretSettingName": "S"},
                    "validation": {"allowedAudiences": ["A", "api://A"],
                                   "defaultAuthorizationPolicy": {"allowedPrincipals": {"identities": ["P", "intruder"]}}}},
                "google": {"enabled": true, "registration": {"clientId": "g"}}
            },
            "login": {"tokenStore": {"enabled": true}},
            "clearInboundClaimsMapping": "false"
        }});
        let (d, body) = decide_auth_settings(&current, &auth_settings_owned("A", "T", "P"));
        let paths: Vec<String> = d.fields().iter().map(|f| f.path.clone()).collect();
        assert_eq!(
            paths,
            [
                "properties.globalValidation.unauthenticatedClientAction",
                "properties.identityProviders.azureActiveDirectory.validation.defaultAuthorizationPolicy.allowedPrincipals.identities"
            ]
        );
        let p = &body["properties"];
        assert_eq!(
            p["globalValidation"]["excludedPaths"],
            json!(["/api/health"])
        );
        assert_eq!(p["identityProviders"]["google"]["enabled"], true);
        assert_eq!(
            p["identityProviders"]["azureActiveDirectory"]["registration"]["clientSecretSettingName"],
            "S"
        );
        assert_eq!(p["login"]["tokenStore"]["enabled"], true);
        assert_eq!(p["clearInboundClaimsMapping"], "false");
        assert_eq!(
            p["identityProviders"]["azureActiveDirectory"]["validation"]["defaultAuthorizationPolicy"]
                ["allowedPrincipals"]["identities"],
            json!(["P"])
        );
    }

    #[test]
    fn a_given_registration_says_exactly_what_is_missing() {
        let m = missing_for_given(None, None, "A");
        assert_eq!(m.len(), 2);
        assert!(m[0].contains("no application"), "{m:?}");
        assert!(m[1].contains("no service principal"), "{m:?}");
        let app = json!({"appId": "A", "identifierUris": []});
        let m = missing_for_given(Some(&app), Some(&json!({})), "A");
        assert_eq!(m.len(), 1);
        assert!(
            m[0].contains("identifierUris do not contain api://A"),
            "{m:?}"
        );
        let app = json!({"appId": "A", "identifierUris": ["api://A"]});
        assert!(missing_for_given(Some(&app), Some(&json!({})), "A").is_empty());
    }

    #[test]
    fn a_registration_is_finished_step_by_step_never_duplicated() {
        assert_eq!(
            next_registration_step(None, false),
            RegistrationStep::CreateApplication
        );
        let bare = json!({"id": "o", "appId": "A", "identifierUris": []});
        assert_eq!(
            next_registration_step(Some(&bare), false),
            RegistrationStep::AddIdentifierUri {
                object_id: "o".into(),
                uris: vec!["api://A".into()]
            }
        );
        let with_uri = json!({"id": "o", "appId": "A", "identifierUris": ["api://A"]});
        assert_eq!(
            next_registration_step(Some(&with_uri), false),
            RegistrationStep::CreateServicePrincipal { app_id: "A".into() }
        );
        assert_eq!(
            next_registration_step(Some(&with_uri), true),
            RegistrationStep::Done
        );
        let two = vec![
            json!({"id": "new", "createdDateTime": "2026-01-02T00:00:00Z"}),
            json!({"id": "old", "createdDateTime": "2026-01-01T00:00:00Z"}),
        ];
        assert_eq!(pick_registration(&two).expect("one")["id"], "old");
        assert_eq!(registration_tag("s", "g", "a"), "apimfn:s/g/a");
    }

    #[test]
    fn replication_lag_is_recognised() {
        let body = br#"{"error":{"code":"Request_BadRequest","message":"The appId 'A' of the service principal does not reference a valid application object.","details":[{"code":"NoBackingApplicationObject","target":"appId"}]}}"#;
        let e = ArmError::from_response("POST /v1.0/servicePrincipals", 400, body, None);
        assert!(is_replication_lag(&e));
        let nf = br#"{"error":{"code":"Request_ResourceNotFound","message":"Resource 'x' does not exist"}}"#;
        assert!(is_replication_lag(&ArmError::from_response(
            "PATCH /v1.0/applications/x",
            404,
            nf,
            None
        )));
        let other =
            br#"{"error":{"code":"Request_BadRequest","message":"Property 'x' is invalid."}}"#;
        assert!(!is_replication_lag(&ArmError::from_response(
            "POST /v1.0/applications",
            400,
            other,
            None
        )));
    }
}
