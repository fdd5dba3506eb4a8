//! App Service plans (`serverfarms`) and sites: create/replace, read, update, delete, list, and the
//! Flex Consumption rules a site must satisfy.

use super::super::{Call, locations, lro, store};
use super::{bad_request, catalog, config};
use crate::clock::Clock;
use crate::http::{app_service_error, empty, json_response, with_header};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};
use std::time::Duration;

/// How long a Flex site creation takes (the spec example answers 202; observed creations take
/// tens of seconds).
pub const SITE_CREATE: Duration = Duration::from_secs(30);

/// App settings Flex Consumption rejects (Microsoft docs, "Flex Consumption plan deprecations";
/// the rejection message is quoted in public deployment logs for FUNCTIONS_WORKER_RUNTIME).
pub const FLEX_REJECTED_SETTINGS: &[&str] = &[
    "FUNCTIONS_WORKER_RUNTIME",
    "FUNCTIONS_EXTENSION_VERSION",
    "FUNCTIONS_WORKER_RUNTIME_VERSION",
    "WEBSITE_RUN_FROM_PACKAGE",
    "SCM_DO_BUILD_DURING_DEPLOYMENT",
    "ENABLE_ORYX_BUILD",
    "WEBSITE_NODE_DEFAULT_VERSION",
    "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
    "WEBSITE_CONTENTSHARE",
    "WEBSITE_CONTENTOVERVNET",
    "WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT",
    "WEBSITE_USE_PLACEHOLDER_DOTNETISOLATED",
    "WEBSITE_SKIP_CONTENTSHARE_VALIDATION",
];

fn arm_id(call: &Call<'_>, kind: &str, name: &str) -> String {
    format!(
        "{}/providers/Microsoft.Web/{kind}/{name}",
        store::group_id(
            call.path.subscription.as_deref().unwrap_or_default(),
            call.path.resource_group.as_deref().unwrap_or_default()
        )
    )
}

pub fn site_not_found(name: &str) -> Response {
    app_service_error(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!("Cannot find WebSite with name {name}."),
    )
}

fn plan_not_found(name: &str) -> Response {
    app_service_error(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!("Cannot find ServerFarm with name {name}."),
    )
}

fn parse_body(call: &Call<'_>) -> Result<Value, Response> {
    match call.req.json() {
        Ok(Value::Object(m)) => Ok(Value::Object(m)),
        Ok(_) => Err(bad_request("The request body must be a JSON object.")),
        Err(e) => Err(bad_request(&format!(
            "The request content was invalid and could not be deserialized: '{e}'."
        ))),
    }
}

fn save_and(call: &Call<'_>, resp: Response) -> Response {
    call.em.save();
    resp
}

/// `GET …/providers/Microsoft.Web/{sites|serverfarms}` at subscription or group scope.
pub fn list(call: &Call<'_>, kind: &str) -> Response {
    let resource_type = if kind == "sites" {
        "Microsoft.Web/sites"
    } else {
        "Microsoft.Web/serverfarms"
    };
    let prefix = super::super::ids::key(&call.path.scope);
    let world = call.em.world();
    let value: Vec<Value> = world
        .resources
        .iter()
        .filter(|(k, v)| k.starts_with(&prefix) && v["type"] == resource_type)
        .map(|(_, v)| v.clone())
        .collect();
    json_response(StatusCode::OK, &json!({"value": value, "nextLink": null}))
}

// ---------------------------------------------------------------------------------------------
// Plans

pub fn plan(call: &Call<'_>) -> Response {
    let name = call.path.name(0).unwrap_or_default().to_string();
    let id = arm_id(call, "serverfarms", &name);
    match call.req.method {
        Method::GET => match store::get(&call.em.world(), &id) {
            Some(p) => json_response(StatusCode::OK, &p),
            None => plan_not_found(&name),
        },
        Method::PUT => put_plan(call, &name, &id),
        Method::DELETE => {
            let mut world = call.em.world();
            let Some(_) = store::get(&world, &id) else {
                // App Service answers 204 for a plan that is already gone.
                return empty(StatusCode::NO_CONTENT);
            };
            let apps = sites_on_plan(&world, &id, None);
            if !apps.is_empty() {
                return app_service_error(
                    StatusCode::CONFLICT,
                    "Conflict",
                    &format!(
                        "Server farm '{name}' cannot be deleted because it has web app(s) {} assigned to it.",
                        apps.join(",")
                    ),
                );
            }
            store::remove(&mut world, &id);
            drop(world);
            save_and(call, empty(StatusCode::OK))
        }
        _ => method_not_allowed(),
    }
}

fn method_not_allowed() -> Response {
    app_service_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        "The requested resource does not support this http method.",
    )
}

fn put_plan(call: &Call<'_>, name: &str, id: &str) -> Response {
    let body = match parse_body(call) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(location) = body["location"].as_str() else {
        return bad_request("The 'location' property is required.");
    };
    let Some(display) = locations::display(location) else {
        return bad_request(&format!("The location '{location}' is not a valid region."));
    };
    let sku_in = &body["sku"];
    let sku_name = sku_in["name"].as_str().unwrap_or("FC1");
    let tier = sku_in["tier"]
        .as_str()
        .unwrap_or(if sku_name.eq_ignore_ascii_case("FC1") {
            "FlexConsumption"
        } else {
            ""
        });
    let flex = sku_name.eq_ignore_ascii_case("FC1") || tier.eq_ignore_ascii_case("FlexConsumption");
    if flex && !catalog::is_flex_region(location) {
        return bad_request(&format!(
            "The FlexConsumption SKU is not available in location '{display}'. Get the supported regions with geoRegions?sku=FlexConsumption."
        ));
    }
    let sku = if flex {
        json!({"name": "FC1", "tier": "FlexConsumption", "size": "FC1", "family": "FC", "capacity": 0})
    } else {
        json!({
            "name": sku_name,
            "tier": tier,
            "size": sku_in["size"].as_str().unwrap_or(sku_name),
            "family": sku_in["family"].as_str().map(str::to_string)
                .unwrap_or_else(|| sku_name.chars().take(1).collect()),
            "capacity": sku_in["capacity"].as_i64().unwrap_or(1),
        })
    };
    let props_in = &body["properties"];
    let sub = call.path.subscription.clone().unwrap_or_default();
    let rg = call.path.resource_group.clone().unwrap_or_default();
    let mut world = call.em.world();
    let existing = store::get(&world, id);
    if let Some(old) = &existing
        && locations::normalize(old["location"].as_str().unwrap_or_default())
            != locations::normalize(location)
    {
        return bad_request(&format!(
            "The location of the server farm '{name}' cannot be changed from '{}'.",
            old["location"].as_str().unwrap_or_default()
        ));
    }
    let number_of_sites = sites_on_plan(&world, id, None).len();
    let properties = json!({
        "serverFarmId": 0,
        "name": name,
        "workerSize": "Default",
        "workerSizeId": 0,
        "workerTierName": null,
        "numberOfWorkers": 0,
        "currentWorkerSize": "Default",
        "currentWorkerSizeId": 0,
        "currentNumberOfWorkers": 0,
        "status": "Ready",
        "webSpace": format!("{rg}-{}webspace", display.replace(' ', "")),
        "subscription": sub,
        "adminSiteName": null,
        "hostingEnvironmentProfile": null,
        "maximumNumberOfWorkers": 0,
        "planName": "VirtualDedicatedPlan",
        "perSiteScaling": props_in["perSiteScaling"].as_bool().unwrap_or(false),
        "elasticScaleEnabled": false,
        "maximumElasticWorkerCount": 0,
        "isSpot": false,
        "kind": body["kind"].as_str().unwrap_or("functionapp"),
        "resourceGroup": rg,
        "reserved": props_in["reserved"].as_bool().unwrap_or(flex),
        "isXenon": false,
        "hyperV": false,
        "mdmId": null,
        "targetWorkerCount": 0,
        "targetWorkerSizeId": 0,
        "provisioningState": "Succeeded",
        "geoRegion": display,
        "numberOfSites": number_of_sites,
        "zoneRedundant": props_in["zoneRedundant"].as_bool().unwrap_or(false),
        "asyncScalingEnabled": false,
    });
    let mut extra = Map::new();
    extra.insert(
        "kind".into(),
        json!(body["kind"].as_str().unwrap_or("functionapp")),
    );
    extra.insert(
        "tags".into(),
        body.get("tags").cloned().unwrap_or(json!({})),
    );
    extra.insert("sku".into(), sku);
    let plan = store::envelope(
        id,
        name,
        "Microsoft.Web/serverfarms",
        Some(display),
        properties,
        extra,
    );
    store::put(&mut world, id, plan.clone());
    drop(world);
    // Synchronous: the SDK accepts 200 or 202; App Service answers 200 for plans.
    save_and(call, json_response(StatusCode::OK, &plan))
}

/// Names of the sites whose `serverFarmId` is this plan (except `except`).
fn sites_on_plan(world: &crate::world::World, plan_id: &str, except: Option<&str>) -> Vec<String> {
    let plan_key = super::super::ids::key(plan_id);
    world
        .resources
        .iter()
        .filter(|(k, v)| {
            v["type"] == "Microsoft.Web/sites"
                && v["properties"]["serverFarmId"]
                    .as_str()
                    .is_some_and(|s| super::super::ids::key(s) == plan_key)
                && except.is_none_or(|e| super::super::ids::key(e) != **k)
        })
        .filter_map(|(_, v)| v["name"].as_str().map(str::to_string))
        .collect()
}

fn refresh_site_count(world: &mut crate::world::World, plan_id: &str) {
    let n = sites_on_plan(world, plan_id, None).len();
    if let Some(mut p) = store::get(world, plan_id) {
        p["properties"]["numberOfSites"] = json!(n);
        store::put(world, plan_id, p);
    }
}

// ---------------------------------------------------------------------------------------------
// Sites

pub fn site(call: &Call<'_>) -> Response {
    let name = call.path.name(0).unwrap_or_default().to_string();
    let id = arm_id(call, "sites", &name);
    match call.req.method {
        Method::GET => match store::get(&call.em.world(), &id) {
            Some(s) => json_response(StatusCode::OK, &s),
            None => site_not_found(&name),
        },
        Method::PUT => put_site(call, &name, &id, None),
        Method::PATCH => {
            let existing = store::get(&call.em.world(), &id);
            match existing {
                Some(old) => put_site(call, &name, &id, Some(old)),
                None => site_not_found(&name),
            }
        }
        Method::DELETE => delete_site(call, &name, &id),
        _ => method_not_allowed(),
    }
}

fn delete_site(call: &Call<'_>, name: &str, id: &str) -> Response {
    let mut world = call.em.world();
    let Some(site) = store::get(&world, id) else {
        return site_not_found(name);
    };
    let now = call.now_ms();
    for k in store::subtree_keys(&world, id) {
        if let Some(v) = world.resources.remove(&k) {
            super::super::on_deleted(&mut world, &v, now);
        }
    }
    super::on_deleted(&mut world, &site);
    if let Some(plan) = site["properties"]["serverFarmId"].as_str() {
        refresh_site_count(&mut world, plan);
    }
    drop(world);
    save_and(call, empty(StatusCode::OK))
}

/// Site names are DNS labels under `azurewebsites.net`: 2–60 letters, digits and hyphens, not
/// starting or ending with a hyphen.
fn valid_site_name(name: &str) -> bool {
    (2..=60).contains(&name.len())
        && !name.starts_with('-')
        && !name.ends_with('-')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// Merge a PATCH body into the stored site's updatable parts (a shallow merge of `properties`).
fn patched(old: &Value, body: &Value) -> Value {
    let mut merged = json!({
        "location": old["location"],
        "kind": old["kind"],
        "tags": old.get("tags").cloned().unwrap_or(Value::Null),
        "identity": old.get("identity").cloned().unwrap_or(Value::Null),
        "properties": {
            "serverFarmId": old["properties"]["serverFarmId"],
            "httpsOnly": old["properties"]["httpsOnly"],
            "enabled": old["properties"]["enabled"],
            "functionAppConfig": old["properties"]["functionAppConfig"],
            "publicNetworkAccess": old["properties"]["publicNetworkAccess"],
        },
    });
    for k in ["kind", "tags", "identity"] {
        if let Some(v) = body.get(k) {
            merged[k] = v.clone();
        }
    }
    if let Some(props) = body["properties"].as_object() {
        for (k, v) in props {
            merged["properties"][k] = v.clone();
        }
    }
    merged
}

fn put_site(call: &Call<'_>, name: &str, id: &str, patch_of: Option<Value>) -> Response {
    let raw = match parse_body(call) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let body = match &patch_of {
        Some(old) => patched(old, &raw),
        None => raw,
    };
    if !valid_site_name(name) {
        return bad_request(&format!(
            "The site name '{name}' is invalid. It must be 2 to 60 characters of letters, digits and hyphens, and must not start or end with a hyphen."
        ));
    }
    let Some(location) = body["location"].as_str() else {
        return bad_request("The 'location' property is required.");
    };
    let Some(display) = locations::display(location) else {
        return bad_request(&format!("The location '{location}' is not a valid region."));
    };
    let props = &body["properties"];
    let Some(farm_id) = props["serverFarmId"].as_str() else {
        return bad_request("The 'properties.serverFarmId' property is required.");
    };
    let app_settings = match read_app_settings(&props["siteConfig"]["appSettings"]) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let mut world = call.em.world();
    let farm_name = farm_id.rsplit('/').next().unwrap_or(farm_id);
    let Some(plan) = store::get(&world, farm_id) else {
        return plan_not_found(farm_name);
    };
    let existing = store::get(&world, id);
    if patch_of.is_none()
        && let Some(old) = &existing
        && locations::normalize(old["location"].as_str().unwrap_or_default())
            != locations::normalize(location)
    {
        return bad_request(&format!(
            "The location of the site '{name}' cannot be changed from '{}'.",
            old["location"].as_str().unwrap_or_default()
        ));
    }
    // Site names are global: `{name}.azurewebsites.net`.
    let own_key = super::super::ids::key(id);
    let taken = world.resources.iter().any(|(k, v)| {
        *k != own_key
            && v["type"] == "Microsoft.Web/sites"
            && v["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
    });
    if taken {
        return app_service_error(
            StatusCode::CONFLICT,
            "Conflict",
            &format!("Website with given name {name} already exists."),
        );
    }
    let flex = plan["sku"]["tier"] == "FlexConsumption";
    if flex {
        if locations::normalize(plan["location"].as_str().unwrap_or_default())
            != locations::normalize(location)
        {
            return bad_request(&format!(
                "The site location '{display}' must match the location of its Flex Consumption plan '{}'.",
                plan["location"].as_str().unwrap_or_default()
            ));
        }
        if let Err(r) = validate_flex(&props["functionAppConfig"], &app_settings) {
            return r;
        }
        let others = sites_on_plan(&world, farm_id, Some(id));
        if let Some(other) = others.first() {
            return bad_request(&format!(
                "The Flex Consumption plan '{farm_name}' already hosts the function app '{other}'. Only one app is allowed per Flex Consumption plan."
            ));
        }
    }
    let now = call.now_ms();
    // Identity: SystemAssigned gets (or keeps) its service principal; dropping it removes it.
    let identity_type = body["identity"]["type"].as_str().unwrap_or("None");
    let mut identity = Value::Null;
    if identity_type.contains("SystemAssigned") {
        let (principal, tenant) = crate::directory::ensure_managed_identity(&mut world, id, now);
        identity = json!({"type": identity_type, "tenantId": tenant, "principalId": principal});
    } else if let Some(old) = &existing
        && old["identity"]["principalId"].is_string()
    {
        crate::directory::remove_managed_identity(&mut world, id);
    }
    if identity_type.contains("UserAssigned") {
        if identity.is_null() {
            identity = json!({"type": identity_type});
        }
        let mut uai = Map::new();
        if let Some(m) = body["identity"]["userAssignedIdentities"].as_object() {
            for k in m.keys() {
                let principal =
                    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, format!("p:{k}").as_bytes());
                let client =
                    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, format!("c:{k}").as_bytes());
                uai.insert(
                    k.clone(),
                    json!({"principalId": principal.to_string(), "clientId": client.to_string()}),
                );
            }
        }
        identity["userAssignedIdentities"] = Value::Object(uai);
    }
    let sub = call.path.subscription.clone().unwrap_or_default();
    let rg = call.path.resource_group.clone().unwrap_or_default();
    let site = site_body(SiteInput {
        id,
        name,
        sub: &sub,
        rg: &rg,
        display,
        body: &body,
        identity,
        plan: &plan,
        flex,
        now,
    });
    store::put(&mut world, id, site.clone());
    // App settings sent with the site seed (replace) the config/appsettings resource.
    if patch_of.is_none() || props["siteConfig"]["appSettings"].is_array() {
        config::store_app_settings(&mut world, id, display, &app_settings);
    }
    let created = existing.is_none();
    if created {
        config::create_host_keys(&mut world, id);
    }
    if let Some(old_plan) = existing
        .as_ref()
        .and_then(|e| e["properties"]["serverFarmId"].as_str())
    {
        refresh_site_count(&mut world, old_plan);
    }
    refresh_site_count(&mut world, farm_id);
    if created && patch_of.is_none() {
        let op = lro::start(call.em, &mut world, "web.siteCreate", id, SITE_CREATE);
        drop(world);
        let url = format!(
            "https://management.azure.com/subscriptions/{sub}/providers/Microsoft.Web/sites/{name}/operationResults/{}?api-version={}",
            op.id, call.api_version
        );
        return save_and(
            call,
            with_header(
                json_response(StatusCode::ACCEPTED, &site),
                "azure-asyncoperation",
                &url,
            ),
        );
    }
    drop(world);
    save_and(call, json_response(StatusCode::OK, &site))
}

/// `siteConfig.appSettings` as name/value pairs, in order.
fn read_app_settings(v: &Value) -> Result<Vec<(String, String)>, Response> {
    let Some(items) = v.as_array() else {
        return if v.is_null() {
            Ok(Vec::new())
        } else {
            Err(bad_request(
                "The parameter siteConfig.appSettings has an invalid value: it must be an array of {name, value}.",
            ))
        };
    };
    items
        .iter()
        .map(|i| match (i["name"].as_str(), &i["value"]) {
            (Some(n), Value::String(s)) => Ok((n.to_string(), s.clone())),
            (Some(n), Value::Null) => Ok((n.to_string(), String::new())),
            _ => Err(bad_request(
                "The parameter siteConfig.appSettings has an invalid value: each entry needs a string 'name' and 'value'.",
            )),
        })
        .collect()
}

/// Reject settings Flex Consumption does not allow (also used by `config/appsettings`).
pub fn reject_flex_settings<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<(), Response> {
    for n in names {
        if FLEX_REJECTED_SETTINGS
            .iter()
            .any(|r| r.eq_ignore_ascii_case(n))
        {
            return Err(bad_request(&format!(
                "The following app setting (Site.SiteConfig.AppSettings.{n}) for Flex Consumption sites is invalid. Please remove or rename it before retrying."
            )));
        }
    }
    Ok(())
}

fn validate_flex(fac: &Value, settings: &[(String, String)]) -> Result<(), Response> {
    if !fac.is_object() {
        return Err(bad_request(
            "FunctionAppConfig is required for sites on a Flex Consumption plan: set properties.functionAppConfig (deployment.storage, runtime and scaleAndConcurrency).",
        ));
    }
    reject_flex_settings(settings.iter().map(|(n, _)| n.as_str()))?;
    let runtime = &fac["runtime"];
    let (Some(rname), Some(rversion)) = (runtime["name"].as_str(), runtime["version"].as_str())
    else {
        return Err(bad_request(
            "FunctionAppConfig.Runtime.Name and FunctionAppConfig.Runtime.Version are required for Flex Consumption sites.",
        ));
    };
    if !catalog::runtime_supported(rname, rversion) {
        return Err(bad_request(&format!(
            "The runtime '{rname}' with version '{rversion}' is not supported for Flex Consumption sites. Get the supported runtimes from functionAppStacks?sku=FC1."
        )));
    }
    let scale = &fac["scaleAndConcurrency"];
    if !scale["instanceMemoryMB"].is_null() {
        let mem = scale["instanceMemoryMB"].as_i64();
        if !mem.is_some_and(|m| catalog::INSTANCE_MEMORY_MB.contains(&m)) {
            return Err(bad_request(&format!(
                "InstanceMemoryMB '{}' is invalid. Allowed values for Flex Consumption are 512, 2048 and 4096.",
                scale["instanceMemoryMB"]
            )));
        }
    }
    if !scale["maximumInstanceCount"].is_null() {
        let (lo, hi, _) = catalog::MAX_INSTANCES;
        let n = scale["maximumInstanceCount"].as_i64();
        if !n.is_some_and(|n| (lo..=hi).contains(&n)) {
            return Err(bad_request(&format!(
                "MaximumInstanceCount '{}' is invalid. It must be between {lo} and {hi}.",
                scale["maximumInstanceCount"]
            )));
        }
    }
    let storage = &fac["deployment"]["storage"];
    if !storage.is_object() {
        return Err(bad_request(
            "FunctionAppConfig.Deployment.Storage is required for Flex Consumption sites.",
        ));
    }
    if !storage["type"]
        .as_str()
        .is_some_and(|t| t.eq_ignore_ascii_case("blobContainer"))
    {
        return Err(bad_request(&format!(
            "FunctionAppConfig.Deployment.Storage.Type '{}' is invalid. The only supported value is 'blobContainer'.",
            storage["type"].as_str().unwrap_or_default()
        )));
    }
    let value = storage["value"].as_str().unwrap_or_default();
    let container_ok = url::Url::parse(value)
        .ok()
        .is_some_and(|u| u.scheme() == "https" && u.path().trim_matches('/').len() >= 3);
    if !container_ok {
        return Err(bad_request(&format!(
            "FunctionAppConfig.Deployment.Storage.Value '{value}' is invalid. It must be the URL of a blob container, e.g. https://{{account}}.blob.core.windows.net/{{container}}."
        )));
    }
    let auth = &storage["authentication"];
    let auth_type = auth["type"].as_str().unwrap_or_default();
    let companion = match auth_type.to_ascii_lowercase().as_str() {
        "systemassignedidentity" => None,
        "userassignedidentity" => Some("userAssignedIdentityResourceId"),
        "storageaccountconnectionstring" => Some("storageAccountConnectionStringName"),
        _ => {
            return Err(bad_request(&format!(
                "FunctionAppConfig.Deployment.Storage.Authentication.Type '{auth_type}' is invalid. Allowed values are SystemAssignedIdentity, UserAssignedIdentity and StorageAccountConnectionString."
            )));
        }
    };
    if let Some(field) = companion
        && auth[field].as_str().is_none_or(str::is_empty)
    {
        return Err(bad_request(&format!(
            "FunctionAppConfig.Deployment.Storage.Authentication.{field} is required when the authentication type is '{auth_type}'."
        )));
    }
    Ok(())
}

struct SiteInput<'a> {
    id: &'a str,
    name: &'a str,
    sub: &'a str,
    rg: &'a str,
    display: &'a str,
    body: &'a Value,
    identity: Value,
    plan: &'a Value,
    flex: bool,
    now: u64,
}

/// `functionAppConfig` as App Service echoes it (absent optional parts as null).
fn normalized_fac(fac: &Value) -> Value {
    if !fac.is_object() {
        return Value::Null;
    }
    let mut out = fac.clone();
    let scale = &mut out["scaleAndConcurrency"];
    if !scale.is_object() {
        *scale = json!({});
    }
    for (k, default) in [
        ("alwaysReady", Value::Null),
        ("instanceMemoryMB", json!(2048)),
        ("maximumInstanceCount", json!(catalog::MAX_INSTANCES.2)),
        ("triggers", Value::Null),
    ] {
        if scale.get(k).is_none_or(Value::is_null) {
            scale[k] = default;
        }
    }
    out
}

/// The siteConfig a site reports: App Service's defaults (spec example) with `appSettings` and
/// connection strings never echoed (they live in `config/appsettings`; recording #11).
fn site_config(input: &Value) -> Value {
    let mut sc = json!({
        "numberOfWorkers": 1,
        "acrUseManagedIdentityCreds": false,
        "alwaysOn": false,
        "appCommandLine": "",
        "appSettings": null,
        "connectionStrings": null,
        "autoHealEnabled": false,
        "azureStorageAccounts": {},
        "detailedErrorLoggingEnabled": false,
        "ftpsState": "AllAllowed",
        "functionAppScaleLimit": 0,
        "functionsRuntimeScaleMonitoringEnabled": false,
        "http20Enabled": false,
        "httpLoggingEnabled": false,
        "ipSecurityRestrictions": [{"ipAddress": "Any", "action": "Allow", "priority": 2147483647,
                                    "name": "Allow all", "description": "Allow all access"}],
        "keyVaultReferenceIdentity": "",
        "linuxFxVersion": "",
        "loadBalancing": "LeastRequests",
        "logsDirectorySizeLimit": 35,
        "managedPipelineMode": "Integrated",
        "minTlsVersion": "1.2",
        "minimumElasticInstanceCount": 0,
        "netFrameworkVersion": "",
        "nodeVersion": "",
        "phpVersion": "",
        "powerShellVersion": "",
        "pythonVersion": "",
        "remoteDebuggingEnabled": false,
        "requestTracingEnabled": false,
        "scmIpSecurityRestrictions": [{"ipAddress": "Any", "action": "Allow", "priority": 2147483647,
                                       "name": "Allow all", "description": "Allow all access"}],
        "scmMinTlsVersion": "1.2",
        "use32BitWorkerProcess": false,
        "virtualApplications": [{"physicalPath": "site\\wwwroot", "preloadEnabled": false, "virtualPath": "/"}],
        "vnetName": "",
        "vnetPrivatePortsCount": 0,
        "vnetRouteAllEnabled": false,
        "webSocketsEnabled": false,
        "cors": null,
    });
    if let Some(m) = input.as_object() {
        for (k, v) in m {
            if k != "appSettings" && k != "connectionStrings" {
                sc[k] = v.clone();
            }
        }
    }
    sc
}

fn site_body(s: SiteInput<'_>) -> Value {
    let props = &s.body["properties"];
    let host = format!("{}.azurewebsites.net", s.name.to_ascii_lowercase());
    let scm = format!("{}.scm.azurewebsites.net", s.name.to_ascii_lowercase());
    let ssl = |h: &str, t: &str| {
        json!({"name": h, "sslState": "Disabled", "ipBasedSslResult": null, "virtualIP": null,
               "virtualIPv6": null, "thumbprint": null, "certificateResourceId": null,
               "toUpdate": null, "toUpdateIpBasedSsl": null, "ipBasedSslState": "NotConfigured",
               "hostType": t})
    };
    let fac = normalized_fac(&props["functionAppConfig"]);
    let memory = fac["scaleAndConcurrency"]["instanceMemoryMB"]
        .as_i64()
        .unwrap_or(2048);
    let kind = s.body["kind"]
        .as_str()
        .unwrap_or(if s.flex { "functionapp,linux" } else { "app" });
    let sku = if s.flex {
        "FlexConsumption".to_string()
    } else {
        s.plan["sku"]["tier"]
            .as_str()
            .unwrap_or("Standard")
            .to_string()
    };
    let properties = json!({
        "name": s.name,
        "state": "Running",
        "hostNames": [host],
        "webSpace": format!("{}-{}webspace", s.rg, s.display.replace(' ', "")),
        "repositorySiteName": s.name,
        "owner": null,
        "usageState": "Normal",
        "enabled": props["enabled"].as_bool().unwrap_or(true),
        "adminEnabled": true,
        "enabledHostNames": [host, scm],
        "availabilityState": "Normal",
        "hostNameSslStates": [ssl(&host, "Standard"), ssl(&scm, "Repository")],
        "computeMode": null,
        "serverFarm": null,
        "serverFarmId": s.plan["id"],
        "reserved": s.plan["properties"]["reserved"],
        "isXenon": false,
        "hyperV": false,
        "lastModifiedTimeUtc": Clock::rfc3339(s.now).trim_end_matches('Z').to_string(),
        "storageRecoveryDefaultState": "Running",
        "contentAvailabilityState": "Normal",
        "runtimeAvailabilityState": "Normal",
        "dnsConfiguration": {},
        "outboundVnetRouting": {"allTraffic": false, "applicationTraffic": false,
            "backupRestoreTraffic": false, "contentShareTraffic": false,
            "imagePullTraffic": false, "managedIdentityTraffic": false},
        "siteConfig": site_config(&props["siteConfig"]),
        "functionAppConfig": fac,
    });
    let more = json!({
        "daprConfig": null,
        "deploymentId": s.name,
        "slotName": null,
        "trafficManagerHostNames": null,
        "sku": sku,
        "scmSiteAlsoStopped": false,
        "targetSwapSlot": null,
        "hostingEnvironment": null,
        "hostingEnvironmentProfile": null,
        "clientAffinityEnabled": props["clientAffinityEnabled"].as_bool().unwrap_or(false),
        "clientCertEnabled": props["clientCertEnabled"].as_bool().unwrap_or(false),
        "clientCertMode": "Required",
        "hostNamesDisabled": false,
        "ipMode": "IPv4",
        "customDomainVerificationId": format!("{:X}", uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, s.sub.as_bytes()).simple()),
        "kind": kind,
        "inboundIpAddress": "20.43.64.1",
        "possibleInboundIpAddresses": "20.43.64.1",
        "outboundIpAddresses": "20.43.64.10,20.43.64.11",
        "possibleOutboundIpAddresses": "20.43.64.10,20.43.64.11,20.43.64.12,20.43.64.13",
        "containerSize": memory,
        "dailyMemoryTimeQuota": 0,
        "siteDisabledReason": 0,
        "resourceGroup": s.rg,
        "defaultHostName": host,
        "httpsOnly": props["httpsOnly"].as_bool().unwrap_or(false),
        "endToEndEncryptionEnabled": false,
        "redundancyMode": "None",
        "publicNetworkAccess": props["publicNetworkAccess"].as_str().unwrap_or("Enabled"),
        "storageAccountRequired": false,
        "virtualNetworkSubnetId": props["virtualNetworkSubnetId"].clone(),
        "keyVaultReferenceIdentity": "SystemAssigned",
        "defaultHostNameScope": "Global",
        "resourceConfig": {"cpu": (memory as f64) / 2048.0, "memory": format!("{:.1}Gi", (memory as f64) / 1024.0)},
    });
    let mut properties = properties;
    if let (Some(p), Value::Object(m)) = (properties.as_object_mut(), more) {
        p.extend(m);
    }
    let mut extra = Map::new();
    extra.insert("kind".into(), json!(kind));
    if let Some(tags) = s.body.get("tags").filter(|t| !t.is_null()) {
        extra.insert("tags".into(), tags.clone());
    }
    if !s.identity.is_null() {
        extra.insert("identity".into(), s.identity);
    }
    store::envelope(
        s.id,
        s.name,
        "Microsoft.Web/sites",
        Some(s.display),
        properties,
        extra,
    )
}

/// `GET /subscriptions/{sub}/providers/Microsoft.Web/sites/{app}/operationResults/{id}`.
pub fn operation_result(call: &Call<'_>) -> Response {
    let op_id = call.path.name(1).unwrap_or_default();
    let op = call.em.world().operations.get(op_id).cloned();
    match op {
        Some(op) if op.kind.starts_with("web.") => {
            json_response(StatusCode::OK, &lro::status_body(call.em, &op))
        }
        _ => app_service_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("Cannot find the operation '{op_id}'."),
        ),
    }
}
