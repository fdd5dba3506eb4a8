//! Microsoft.Web: Flex Consumption function apps — the region and runtime catalogues, App Service
//! plans (`serverfarms`), sites, their configuration (app settings, Easy Auth), host and function
//! keys, and the functions list.
//!
//! Sources (see also `docs/emulator.md`, "App Service / Functions (Microsoft.Web)"):
//! - arm-reference §3 (Flex Consumption: geoRegions, functionAppStacks, plan, site body and field
//!   facts, LRO, hostNameSslStates), §5 (functions, host keys, functionKeys with the `properties`
//!   wrapper), §7 (authsettingsV2 whole-object replace, `/list`, fresh answer, the
//!   `clearInboundClaimsMapping` string).
//! - spec examples `Microsoft.Web/2025-05-01/examples/CreateOrUpdateFunctionAppFlexConsumption.json`
//!   (200 / 202 + `Azure-AsyncOperation` `…/providers/Microsoft.Web/sites/{app}/operationResults/{id}`,
//!   the site body) and `2024-11-01/examples/UpdateAuthSettingsV2.json`.
//! - recording `test_functionapp_keys_list.yaml`: geoRegions entries (#0), site PUT/GET bodies (#4,
//!   #11, #13: `hostNameSslStates` with the `Repository` SCM host, `siteConfig.appSettings: null`,
//!   location display name on GET), `config/appsettings/list` and PUT (#12, #14), functionKeys PUT
//!   → 201 with the envelope (#15), `host/default/listkeys` (#16).
//! - wire names: `specs/derived-from-python-sdk/wire-field-names.json` (Site, FunctionAppConfig,
//!   AppServicePlan, SiteAuthSettingsV2, FunctionEnvelope with snake_case properties, HostKeys…).
//! - Microsoft docs: "The lowest maximum instance count value is 1, and the highest … 1000"
//!   (event-driven scaling, Flex section), "Only one app is allowed per Flex Consumption plan"
//!   (flex-consumption-plan, Considerations), the Flex app-settings deprecations; the rejection
//!   message "The following app setting (Site.SiteConfig.AppSettings.X) for Flex Consumption sites is
//!   invalid. Please remove or rename it before retrying." quoted verbatim in several public
//!   deployment logs; "Website with given name X already exists." (App Service docs / az tests).

mod catalog;
mod config;
mod sites;

pub use config::{FUNCTIONS_TABLE, function_properties};

use super::{Call, resources, store};
use crate::http::app_service_error;
use crate::world::{Operation, World};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::Value;

pub fn handle(call: &Call<'_>) -> Response {
    let p = &call.path;
    let m = &call.req.method;
    let tp = p.type_path();
    let action = p.action().map(str::to_ascii_lowercase);
    match (tp.as_str(), action.as_deref()) {
        ("", Some("georegions")) if *m == Method::GET => catalog::geo_regions(call),
        ("" | "locations", Some("functionappstacks")) if *m == Method::GET => catalog::stacks(call),
        ("sites/operationresults", None) if *m == Method::GET => sites::operation_result(call),
        ("", Some("serverfarms")) if *m == Method::GET => sites::list(call, "serverfarms"),
        ("", Some("sites")) if *m == Method::GET => sites::list(call, "sites"),
        _ if p.resource_group.is_none() => unmodelled(call),
        _ => match group_check(call) {
            Some(resp) => resp,
            None => by_resource(call, &tp, action.as_deref()),
        },
    }
}

fn by_resource(call: &Call<'_>, tp: &str, action: Option<&str>) -> Response {
    let m = &call.req.method;
    match (tp, action) {
        ("serverfarms", None) => sites::plan(call),
        ("sites", None) => sites::site(call),
        ("sites", Some("syncfunctiontriggers")) if *m == Method::POST => {
            config::sync_triggers(call)
        }
        ("sites", Some("functions")) if *m == Method::GET => config::list_functions(call),
        ("sites/functions", None) if *m == Method::GET => config::get_function(call),
        ("sites/functions", Some("listkeys")) if *m == Method::POST => {
            config::list_function_keys(call)
        }
        ("sites/config", None) => config::config(call, false),
        ("sites/config", Some("list")) if matches!(*m, Method::POST | Method::GET) => {
            config::config(call, true)
        }
        ("sites/host", Some("listkeys")) if *m == Method::POST => config::list_host_keys(call),
        ("sites/host/functionkeys", None) | ("sites/functions/keys", None) => config::key(call),
        _ => unmodelled(call),
    }
}

/// ARM answers for the group before the resource provider sees the request.
fn group_check(call: &Call<'_>) -> Option<Response> {
    let sub = call.path.subscription.as_deref().unwrap_or_default();
    let rg = call.path.resource_group.as_deref().unwrap_or_default();
    let exists = store::group(&call.em.world(), sub, rg).is_some();
    (!exists).then(|| resources::not_found(rg))
}

fn unmodelled(call: &Call<'_>) -> Response {
    app_service_error(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!(
            "The emulator does not model '{} {}'.",
            call.req.method, call.path.raw
        ),
    )
}

/// App Service's 400 for a request it rejects.
pub(crate) fn bad_request(message: &str) -> Response {
    app_service_error(StatusCode::BAD_REQUEST, "BadRequest", message)
}

/// Completion effects of a Microsoft.Web operation: the site was stored when the PUT was
/// accepted, so there is nothing left to apply.
pub fn settle(_world: &mut World, _op: &Operation, _now: u64) {}

/// A site left the world (directly or with its group): forget its functions table entry (the
/// config, host keys and identity go with the resource subtree and `arm::on_deleted`).
pub fn on_deleted(world: &mut World, resource: &Value) {
    if resource["type"] == "Microsoft.Web/sites"
        && let Some(id) = resource["id"].as_str()
    {
        world.table(FUNCTIONS_TABLE).remove(&super::ids::key(id));
        // Its Kudu deployments and the deployed code go with it.
        world
            .table(crate::scm::DEPLOYMENTS_TABLE)
            .remove(&super::ids::key(id));
        world
            .table(crate::scm::CONTRACT_TABLE)
            .remove(&super::ids::key(id));
    }
}
