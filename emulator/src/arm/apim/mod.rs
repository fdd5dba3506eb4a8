//! Microsoft.ApiManagement: the service (create/activate/update/soft delete/restore/purge), name
//! checks, and the children an import needs (apis, operations, policies, backends, named values,
//! subscriptions).
//!
//! Sources (arm-reference §2, §6, §8 and):
//! - recording `test_apim_core_service.yaml`: #0 checkNameAvailability; #1 create → 201
//!   `Activating` with `Azure-AsyncOperation` = `Location` = `…/operationresults/{base64}?…
//!   &asyncResponse`; #2-#72 polls answered 200 `{"status":"InProgress"}` (carrying both headers)
//!   then 200 `{"status":"Succeeded"}` (no headers); #73 the activated body; #77-#116 the update
//!   LRO (`Updating`, ~38 min); #135/#270 synchronous 201 for apis/operations; #275 DELETE 200;
//!   #323/#324 named value 202 + `Location …&asyncId=…&asyncCode=201`, then 201; #325 listValue;
//!   #331 list `{"value","count"}`; #336-#338 service DELETE 202 `Deleting` + both headers.
//! - recording `test_apim_deletedservice.yaml`: #2 Consumption create (~1 min); #9-#22 a group
//!   delete soft-deletes the service; #23 deleted service GET; #24-#28 purge 202 + `Location`,
//!   202 … then 200 empty.
//! - recording `test_apim_named_value.yaml`: secret values hidden on GET, PATCH also 202.
//! - spec `apimnamedvalues.json`, `apimbackends.json`, `apimdeletedservices.json` (2024-05-01) and
//!   examples (`ApiManagementCreateServiceHavingMsi`, `…CreateApi`, `…CreateApiOperation`,
//!   `…CreateApiPolicy`, `…DeletedServicesPurge`, `…SubscriptionListSecrets`,
//!   `…ServiceCheckNameAvailability`); `wire-field-names.json` (azure-mgmt-apimanagement 5.0.0).
//! - error texts: `ServiceAlreadyExistsInSoftDeletedState` (terraform-provider-azurerm#12839,
//!   Azure-Samples/azure-health-data-and-ai-samples#96); "API Management service is activating"
//!   (microsoft/vscode-apimanagement#328); policy `ValidationError` shapes (vscode-apimanagement
//!   #145, azure-api-management-devops-resource-kit#202); "All template parameters used in the
//!   UriTemplate must be defined in the Operation, and vice-versa."; "Api not found."
//!   (terraform-provider-azurerm#28201). Codes the sources do not show are the emulator's choice
//!   and listed in docs/emulator.md.

mod children;
mod policy;
mod service;

use super::Call;
use crate::http::{arm_error, json_response};
use crate::world::{Operation, World};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

/// Table of soft-deleted services, by lowercased name.
pub const DELETED: &str = "apim.deletedservices";
/// Async-operation ids (base64, as in the status URL) → `{op, url}`.
pub const ASYNC: &str = "apim.asyncoperations";
/// Pending named-value writes, by operation id.
pub const PENDING: &str = "apim.pending";
/// Counters (etags).
pub const META: &str = "apim.meta";

pub const SERVICE_TYPE: &str = "Microsoft.ApiManagement/service";

pub fn handle(call: &Call<'_>) -> Response {
    let swept = service::sweep(call, &mut call.em.world());
    if swept {
        call.em.save();
    }
    let rest: Vec<&str> = call.path.rest.iter().map(String::as_str).collect();
    let lower: Vec<String> = rest.iter().map(|s| s.to_ascii_lowercase()).collect();
    let l: Vec<&str> = lower.iter().map(String::as_str).collect();
    let m = &call.req.method;
    if call.path.resource_group.is_none() {
        return match l.as_slice() {
            ["checknameavailability"] if *m == Method::POST => service::check_name(call),
            ["deletedservices"] if *m == Method::GET => service::list_deleted(call),
            ["service"] if *m == Method::GET => service::list_services(call, None),
            ["locations", _, "deletedservices", _] => service::deleted(call, rest[1], rest[3]),
            ["locations", _, "deletedservices", _, "operationresults", _] if *m == Method::GET => {
                service::purge_result(call, rest[5])
            }
            _ => not_modelled(call),
        };
    }
    match l.as_slice() {
        ["service"] if *m == Method::GET => {
            service::list_services(call, call.path.resource_group.as_deref())
        }
        ["service", _] => service::service(call, rest[1]),
        ["service", _, "operationresults", _] if *m == Method::GET => {
            service::operation_result(call, rest[3])
        }
        ["service", _, ..] => children::handle(call, rest[1], &rest[2..]),
        _ => not_modelled(call),
    }
}

fn not_modelled(call: &Call<'_>) -> Response {
    arm_error(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!(
            "The emulator does not model '{} {}'.",
            call.req.method, call.path.raw
        ),
    )
}

/// APIM's validation error: `ValidationError` "One or more fields contain incorrect values:" with
/// one detail naming the field (shape from azure-api-management-devops-resource-kit#202).
pub fn validation_error(target: &str, message: &str) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({"error": {
            "code": "ValidationError",
            "message": "One or more fields contain incorrect values:",
            "details": [{"code": "ValidationError", "target": target, "message": message}],
        }}),
    )
}

/// The body as JSON, or ARM's `InvalidRequestContent`.
pub fn body(call: &Call<'_>) -> Result<Value, Response> {
    match call.req.json() {
        Ok(Value::Null) => Ok(json!({})),
        Ok(v) if v.is_object() => Ok(v),
        Ok(_) => Err(arm_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestContent",
            "The request content was invalid and could not be deserialized: 'Expected an object.'.",
        )),
        Err(e) => Err(arm_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestContent",
            &format!("The request content was invalid and could not be deserialized: '{e}'."),
        )),
    }
}

/// A new entity tag, shaped like APIM's (`AAAAAAAACZI=`: base64 of a big-endian counter).
pub fn next_etag(world: &mut World) -> String {
    use base64::Engine;
    let meta = world.table(META);
    let n = meta
        .get("etag")
        .and_then(Value::as_u64)
        .unwrap_or(0x4c_a000)
        + 1;
    meta.insert("etag".into(), json!(n));
    base64::engine::general_purpose::STANDARD.encode(n.to_be_bytes())
}

/// A random token for the signed query parameters of status URLs and for keys.
pub fn random_token(len: usize) -> String {
    use base64::Engine;
    let bytes: Vec<u8> = (0..len).map(|_| fastrand::u8(..)).collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Completion effects of `apim.*` operations.
pub fn settle(world: &mut World, op: &Operation, now: u64) {
    service::settle(world, op, now);
    children::settle(world, op, now);
}

/// A service left the world (its own DELETE or its group's): keep it, its children and its
/// managed identity as a soft-deleted service. Returns whether the resource was a service.
pub fn on_deleted(world: &mut World, resource: &Value, now: u64) -> bool {
    let is_service = resource["type"]
        .as_str()
        .is_some_and(|t| t.eq_ignore_ascii_case(SERVICE_TYPE));
    if is_service {
        service::soft_delete(world, resource, now);
    }
    is_service
}
