//! The API Management service: name check, create/update (LRO), PATCH, GET, list, DELETE (soft
//! delete), deleted services (GET, list, purge) and restore. See the module doc of `apim` for the
//! recordings each behaviour follows.

use super::{ASYNC, DELETED, SERVICE_TYPE, body, next_etag, random_token, validation_error};
use crate::arm::{Call, locations, lro, resources, store};
use crate::clock::Clock;
use crate::http::{arm_error, empty, json_response, with_header};
use crate::world::{Operation, World};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};
use std::time::Duration;

/// Developer (and the other classic tiers) activate in about 45 minutes (arm-reference §2.2; the
/// one measured run took 71 minutes).
pub const ACTIVATE_CLASSIC: Duration = Duration::from_secs(45 * 60);
/// Consumption activates in about a minute (`test_apim_deletedservice.yaml` #2-#6).
pub const ACTIVATE_CONSUMPTION: Duration = Duration::from_secs(60);
/// The v2 tiers: about 5 minutes (the emulator's estimate; not measured in a source).
pub const ACTIVATE_V2: Duration = Duration::from_secs(5 * 60);
/// An update of a classic tier took about 38 minutes (`test_apim_core_service.yaml` #77-#116).
pub const UPDATE_CLASSIC: Duration = Duration::from_secs(38 * 60);
/// Service deletion (the recording polled twice, `test_apim_core_service.yaml` #336-#338).
pub const DELETE: Duration = Duration::from_secs(60);
/// Purge of a soft-deleted service: about a minute (`test_apim_deletedservice.yaml` #24-#28).
pub const PURGE: Duration = Duration::from_secs(60);
/// Soft-deleted services are kept 48 hours (soft-delete doc; `scheduledPurgeDate` in #23).
pub const RETENTION: Duration = Duration::from_secs(48 * 3600);

const SKUS: &[&str] = &[
    "Developer",
    "Basic",
    "Standard",
    "Premium",
    "Consumption",
    "BasicV2",
    "StandardV2",
];

pub fn service_id(sub: &str, rg: &str, name: &str) -> String {
    format!(
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ApiManagement/service/{name}"
    )
}

/// ARM's 404 for a missing top-level resource.
pub fn service_not_found(rg: &str, name: &str) -> Response {
    arm_error(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        &format!(
            "The Resource 'Microsoft.ApiManagement/service/{name}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
        ),
    )
}

/// 409 while the service is in a transition state. The message for `Activating` is the one
/// vscode-apimanagement#328 shows; the code `ServiceLocked` is the emulator's choice.
pub fn locked(state: &str) -> Response {
    let what = match state {
        "Updating" => "updating",
        "Deleting" | "Terminating" => "being deleted",
        _ => "activating",
    };
    arm_error(
        StatusCode::CONFLICT,
        "ServiceLocked",
        &format!("API Management service is {what}"),
    )
}

fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 50
        && b[0].is_ascii_alphabetic()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
}

fn soft_deleted_message(name: &str) -> String {
    format!(
        "Api service {name} was soft-deleted. In order to create the new service with the same name, you have to either undelete the service or purge it. See https://aka.ms/apimsoftdelete."
    )
}

/// A live service with this name anywhere in the emulator (names are global: `{name}.azure-api.net`).
fn live_service_named(world: &World, name: &str) -> Option<Value> {
    world
        .resources
        .values()
        .find(|v| {
            v["type"] == SERVICE_TYPE
                && v["name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
        .cloned()
}

fn deleted_entry(world: &World, name: &str) -> Option<Value> {
    world
        .data
        .get(DELETED)?
        .get(&name.to_ascii_lowercase())
        .cloned()
}

/// Purge soft-deleted services whose retention (scaled) has passed; whether any was.
pub fn sweep(call: &Call<'_>, world: &mut World) -> bool {
    let now = call.now_ms();
    let keep = call.em.clock.scaled(RETENTION).as_millis() as u64;
    let expired: Vec<(String, String)> = world
        .data
        .get(DELETED)
        .map(|t| {
            t.iter()
                .filter(|(_, e)| e["deletedMs"].as_u64().unwrap_or(0) + keep <= now)
                .map(|(k, e)| {
                    (
                        k.clone(),
                        e["service"]["id"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let any = !expired.is_empty();
    for (k, id) in expired {
        world.table(DELETED).remove(&k);
        crate::directory::remove_managed_identity(world, &id);
    }
    any
}

pub fn check_name(call: &Call<'_>) -> Response {
    let b = match body(call) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(name) = b["name"].as_str() else {
        return validation_error("name", "The name field is required.");
    };
    let world = call.em.world();
    let (available, reason, message) = if !valid_name(name) {
        (
            false,
            "Invalid",
            format!(
                "The name '{name}' is invalid. It must be 1-50 characters, start with a letter, end with a letter or digit and contain only letters, digits and hyphens."
            ),
        )
    } else if deleted_entry(&world, name).is_some() {
        (false, "AlreadyExists", soft_deleted_message(name))
    } else if live_service_named(&world, name).is_some() {
        (
            false,
            "AlreadyExists",
            format!("{name} is already in use. Please select a different name."),
        )
    } else {
        (true, "Valid", String::new())
    };
    json_response(
        StatusCode::OK,
        &json!({"nameAvailable": available, "reason": reason, "message": message}),
    )
}

pub fn list_services(call: &Call<'_>, rg: Option<&str>) -> Response {
    let sub = call.path.subscription.clone().unwrap_or_default();
    let prefix = match rg {
        Some(g) => format!("/subscriptions/{sub}/resourcegroups/{g}/").to_ascii_lowercase(),
        None => format!("/subscriptions/{sub}/").to_ascii_lowercase(),
    };
    let world = call.em.world();
    let value: Vec<Value> = world
        .resources
        .iter()
        .filter(|(k, v)| k.starts_with(&prefix) && v["type"] == SERVICE_TYPE)
        .map(|(_, v)| v.clone())
        .collect();
    json_response(StatusCode::OK, &json!({"value": value}))
}

pub fn service(call: &Call<'_>, name: &str) -> Response {
    let sub = call.path.subscription.clone().unwrap_or_default();
    let rg = call.path.resource_group.clone().unwrap_or_default();
    let id = service_id(&sub, &rg, name);
    match call.req.method {
        Method::GET | Method::HEAD => match store::get(&call.em.world(), &id) {
            Some(s) => with_etag(json_response(StatusCode::OK, &s), &s),
            None => service_not_found(&rg, name),
        },
        Method::PUT => put(call, &sub, &rg, name, &id),
        Method::PATCH => patch(call, &rg, name, &id),
        Method::DELETE => delete(call, &rg, name, &id),
        _ => arm_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "The method is not allowed.",
        ),
    }
}

fn with_etag(resp: Response, s: &Value) -> Response {
    match s["etag"].as_str() {
        Some(e) => with_header(resp, "etag", &format!("\"{e}\"")),
        None => resp,
    }
}

fn is_consumption(sku: &str) -> bool {
    sku.eq_ignore_ascii_case("Consumption")
}

fn is_v2(sku: &str) -> bool {
    sku.to_ascii_lowercase().ends_with("v2")
}

fn activation_time(sku: &str) -> Duration {
    if is_consumption(sku) {
        ACTIVATE_CONSUMPTION
    } else if is_v2(sku) {
        ACTIVATE_V2
    } else {
        ACTIVATE_CLASSIC
    }
}

fn update_time(sku: &str) -> Duration {
    if is_consumption(sku) {
        ACTIVATE_CONSUMPTION
    } else if is_v2(sku) {
        ACTIVATE_V2
    } else {
        UPDATE_CLASSIC
    }
}

/// Validate the sku, location and publisher fields of a PUT body. Returns `(sku name, capacity,
/// location code)`.
fn validate(b: &Value) -> Result<(String, i64, &'static str), Response> {
    let Some(location) = b["location"].as_str() else {
        return Err(arm_error(
            StatusCode::BAD_REQUEST,
            "LocationRequired",
            "The location property is required for this definition.",
        ));
    };
    let Some(code) = locations::code(location) else {
        return Err(arm_error(
            StatusCode::BAD_REQUEST,
            "LocationNotAvailableForResourceType",
            &format!(
                "The provided location '{location}' is not available for resource type 'Microsoft.ApiManagement/service'. List of available regions for the resource type is '{}'.",
                locations::REGIONS
                    .iter()
                    .map(|(c, _)| *c)
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        ));
    };
    let Some(sku_name) = b["sku"]["name"].as_str() else {
        return Err(validation_error("sku", "The sku field is required."));
    };
    let Some(sku) = SKUS.iter().find(|s| s.eq_ignore_ascii_case(sku_name)) else {
        return Err(validation_error(
            "sku.name",
            &format!(
                "Invalid sku name '{sku_name}'. Valid values are: {}.",
                SKUS.join(", ")
            ),
        ));
    };
    let capacity = match &b["sku"]["capacity"] {
        Value::Null => i64::from(!is_consumption(sku)),
        v => match v.as_i64() {
            Some(c) => c,
            None => {
                return Err(validation_error(
                    "sku.capacity",
                    "Capacity must be an integer.",
                ));
            }
        },
    };
    if is_consumption(sku) && capacity != 0 {
        return Err(validation_error(
            "sku.capacity",
            "Capacity must be 0 for the Consumption sku.",
        ));
    }
    if !is_consumption(sku) && capacity < 1 {
        return Err(validation_error(
            "sku.capacity",
            &format!("Capacity must be at least 1 for the {sku} sku."),
        ));
    }
    for f in ["publisherEmail", "publisherName"] {
        if b["properties"][f]
            .as_str()
            .is_none_or(|s| s.trim().is_empty())
        {
            return Err(validation_error(f, &format!("The {f} field is required.")));
        }
    }
    Ok((sku.to_string(), capacity, code))
}

fn system_assigned(identity: &Value) -> bool {
    identity["type"]
        .as_str()
        .is_some_and(|t| t.to_ascii_lowercase().contains("systemassigned"))
}

/// The identity block as APIM answers it, creating the principal when system-assigned.
fn identity_block(world: &mut World, id: &str, requested: &Value, now: u64) -> Value {
    if system_assigned(requested) {
        let (principal, tenant) = crate::directory::ensure_managed_identity(world, id, now);
        let mut out =
            json!({"type": requested["type"], "principalId": principal, "tenantId": tenant});
        if let Some(u) = requested.get("userAssignedIdentities") {
            out["userAssignedIdentities"] = u.clone();
        }
        out
    } else if requested.is_object() && requested["type"] != "None" {
        requested.clone()
    } else {
        crate::directory::remove_managed_identity(world, id);
        Value::Null
    }
}

fn region_abbreviation(display: &str) -> String {
    display
        .split_whitespace()
        .filter_map(|w| w.chars().next())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Stable fake public IP for a service name.
fn public_ip(name: &str) -> String {
    let h = name.bytes().fold(2166136261u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16777619)
    });
    format!(
        "20.{}.{}.{}",
        (h >> 16) & 0xff,
        (h >> 8) & 0xff,
        (h & 0xfe) + 1
    )
}

fn custom_properties(consumption: bool) -> Value {
    let mut m = Map::new();
    let mut keys = vec![
        "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Protocols.Tls10",
        "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Protocols.Tls11",
    ];
    if !consumption {
        keys.push("Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Protocols.Ssl30");
        keys.push("Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Ciphers.TripleDes168");
    }
    keys.extend([
        "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Backend.Protocols.Tls10",
        "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Backend.Protocols.Tls11",
        "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Backend.Protocols.Ssl30",
        "Microsoft.WindowsAzure.ApiManagement.Gateway.Protocols.Server.Http2",
    ]);
    for k in keys {
        m.insert(k.into(), json!("False"));
    }
    Value::Object(m)
}

/// Properties the client may set, copied from a PUT/PATCH body onto the stored service.
const SETTABLE: &[&str] = &[
    "publisherEmail",
    "publisherName",
    "notificationSenderEmail",
    "hostnameConfigurations",
    "virtualNetworkConfiguration",
    "additionalLocations",
    "customProperties",
    "certificates",
    "enableClientCertificate",
    "natGatewayState",
    "disableGateway",
    "virtualNetworkType",
    "apiVersionConstraint",
    "publicIpAddressId",
    "publicNetworkAccess",
    "developerPortalStatus",
    "legacyPortalStatus",
    "releaseChannel",
];

fn apply_settable(props: &mut Value, from: &Value) -> bool {
    let mut changed = false;
    for k in SETTABLE {
        if let Some(v) = from.get(*k) {
            // az sends `"publicNetworkAccess": "True"` (recording #1) and gets "Enabled" back.
            let v = match (*k, v.as_str()) {
                ("publicNetworkAccess", Some(s)) if s.eq_ignore_ascii_case("true") => {
                    json!("Enabled")
                }
                ("publicNetworkAccess", Some(s)) if s.eq_ignore_ascii_case("false") => {
                    json!("Disabled")
                }
                ("apiVersionConstraint", _) if v.as_object().is_some_and(|o| o.is_empty()) => {
                    json!({"minApiVersion": null})
                }
                ("hostnameConfigurations", _) | ("customProperties", _) => continue,
                _ => v.clone(),
            };
            if props[*k] != v {
                props[*k] = v;
                changed = true;
            }
        }
    }
    changed
}

/// The body answered at creation (recording #1): gateway URL and proxy host name already set,
/// the other endpoints null until activation.
fn new_service(
    world: &mut World,
    id: &str,
    name: &str,
    b: &Value,
    (sku, capacity): (&str, i64),
    code: &str,
    now: u64,
) -> Value {
    let host = format!("{}.azure-api.net", name.to_ascii_lowercase());
    let mut props = json!({
        "publisherEmail": null,
        "publisherName": null,
        "notificationSenderEmail": "apimgmt-noreply@mail.windowsazure.com",
        "provisioningState": "Activating",
        "targetProvisioningState": "Activating",
        "createdAtUtc": Clock::rfc3339(now),
        "gatewayUrl": format!("https://{host}"),
        "gatewayRegionalUrl": null,
        "portalUrl": null,
        "developerPortalUrl": null,
        "managementApiUrl": null,
        "scmUrl": null,
        "hostnameConfigurations": [{
            "type": "Proxy", "hostName": host, "encodedCertificate": null, "keyVaultId": null,
            "certificatePassword": null, "negotiateClientCertificate": false, "certificate": null,
            "defaultSslBinding": true, "identityClientId": null, "certificateSource": "BuiltIn",
            "certificateStatus": null,
        }],
        "publicIPAddresses": null,
        "privateIPAddresses": null,
        "additionalLocations": null,
        "virtualNetworkConfiguration": null,
        "customProperties": null,
        "virtualNetworkType": "None",
        "certificates": null,
        "disableGateway": false,
        "natGatewayState": "Disabled",
        "outboundPublicIPAddresses": null,
        "apiVersionConstraint": {"minApiVersion": null},
        "publicIpAddressId": null,
        "publicNetworkAccess": "Enabled",
        "privateEndpointConnections": null,
        "platformVersion": "undetermined",
    });
    apply_settable(&mut props, &b["properties"]);
    let identity = identity_block(world, id, &b["identity"], now);
    let display = locations::display(code).unwrap_or(code);
    let caller = world.seed.client_id.clone();
    let stamp = Clock::rfc3339(now);
    json!({
        "id": id,
        "name": name,
        "type": SERVICE_TYPE,
        "tags": b.get("tags").cloned().unwrap_or_else(|| json!({})),
        "location": display,
        "etag": next_etag(world),
        "properties": props,
        "sku": {"name": sku, "capacity": capacity},
        "identity": identity,
        "zones": b.get("zones").cloned().unwrap_or(Value::Null),
        "systemData": {
            "createdBy": caller, "createdByType": "Application", "createdAt": stamp,
            "lastModifiedBy": caller, "lastModifiedByType": "Application", "lastModifiedAt": stamp,
        },
    })
}

/// The status URL of a service operation, as in recording #1 (base64 of `{region}:{name}_{Act|
/// Update|Term}_{hex}`, `asyncResponse` and the signed `t`, `c`, `s`, `h` parameters).
fn start_async(
    call: &Call<'_>,
    world: &mut World,
    kind: &str,
    tag: &str,
    id: &str,
    region: &str,
    duration: Duration,
) -> String {
    use base64::Engine;
    let op = lro::start(call.em, world, kind, id, duration);
    let name = id
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let raw = format!("{region}:{name}_{tag}_{}", &op.id.replace('-', "")[..8]);
    let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
    let ticks = call.now_ms() * 10_000 + 621_355_968_000_000_000;
    let url = format!(
        "https://management.azure.com{id}/operationresults/{b64}?api-version={}&asyncResponse&t={ticks}&c={}&s={}&h={}",
        call.api_version,
        random_token(48),
        random_token(64),
        random_token(32)
    );
    world
        .table(ASYNC)
        .insert(b64, json!({"op": op.id, "url": url}));
    url
}

fn lro_headers(resp: Response, url: &str) -> Response {
    with_header(
        with_header(resp, "azure-asyncoperation", url),
        "location",
        url,
    )
}

fn put(call: &Call<'_>, sub: &str, rg: &str, name: &str, id: &str) -> Response {
    if !valid_name(name) {
        return arm_error(
            StatusCode::BAD_REQUEST,
            "InvalidResourceName",
            &format!(
                "Resource name '{name}' is invalid. The name can be up to 50 characters long, must start with a letter, end with a letter or digit, and contain only letters, digits and hyphens."
            ),
        );
    }
    let b = match body(call) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let now = call.now_ms();
    let mut world = call.em.world();
    if store::group(&world, sub, rg).is_none() {
        return resources::not_found(rg);
    }
    if b["properties"]["restore"] == json!(true) {
        return restore(call, world, name, id);
    }
    let (sku, capacity, code) = match validate(&b) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Some(existing) = store::get(&world, id) {
        return update(call, world, id, existing, &b, Some((sku, capacity)), now);
    }
    if deleted_entry(&world, name).is_some() {
        return arm_error(
            StatusCode::CONFLICT,
            "ServiceAlreadyExistsInSoftDeletedState",
            &soft_deleted_message(name),
        );
    }
    if live_service_named(&world, name).is_some() {
        return arm_error(
            StatusCode::CONFLICT,
            "ServiceAlreadyExists",
            &format!("Api service already exists: {name}"),
        );
    }
    let svc = new_service(&mut world, id, name, &b, (&sku, capacity), code, now);
    store::put(&mut world, id, svc.clone());
    super::children::create_master(&mut world, id, now);
    let url = start_async(
        call,
        &mut world,
        "apim.activate",
        "Act",
        id,
        code,
        activation_time(&sku),
    );
    drop(world);
    call.em.save();
    lro_headers(
        with_etag(json_response(StatusCode::CREATED, &svc), &svc),
        &url,
    )
}

/// PUT/PATCH on an existing service: 409 while in transition; 200 with no operation when nothing
/// changes; otherwise 200 `Updating` with the LRO headers (recording #77).
fn update(
    call: &Call<'_>,
    mut world: std::sync::MutexGuard<'_, World>,
    id: &str,
    existing: Value,
    b: &Value,
    sku: Option<(String, i64)>,
    now: u64,
) -> Response {
    let state = existing["properties"]["provisioningState"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if state != "Succeeded" {
        return locked(&state);
    }
    let mut svc = existing.clone();
    let mut changed = apply_settable(&mut svc["properties"], &b["properties"]);
    if let Some((name, capacity)) = sku {
        let new = json!({"name": name, "capacity": capacity});
        if svc["sku"] != new {
            svc["sku"] = new;
            changed = true;
        }
    }
    if let Some(tags) = b.get("tags")
        && svc["tags"] != *tags
    {
        svc["tags"] = tags.clone();
        changed = true;
    }
    if let Some(requested) = b.get("identity") {
        let before = svc["identity"].clone();
        let after = identity_block(&mut world, id, requested, now);
        if before != after {
            svc["identity"] = after;
            changed = true;
        }
    }
    if !changed {
        return with_etag(json_response(StatusCode::OK, &existing), &existing);
    }
    svc["properties"]["provisioningState"] = json!("Updating");
    svc["properties"]["targetProvisioningState"] = json!("Updating");
    svc["etag"] = json!(next_etag(&mut world));
    svc["systemData"]["lastModifiedAt"] = json!(Clock::rfc3339(now));
    store::put(&mut world, id, svc.clone());
    let region = locations::code(svc["location"].as_str().unwrap_or_default()).unwrap_or("westus");
    let sku_name = svc["sku"]["name"]
        .as_str()
        .unwrap_or("Developer")
        .to_string();
    let url = start_async(
        call,
        &mut world,
        "apim.update",
        "Update",
        id,
        region,
        update_time(&sku_name),
    );
    drop(world);
    call.em.save();
    lro_headers(with_etag(json_response(StatusCode::OK, &svc), &svc), &url)
}

fn patch(call: &Call<'_>, rg: &str, name: &str, id: &str) -> Response {
    let b = match body(call) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let now = call.now_ms();
    let world = call.em.world();
    let Some(existing) = store::get(&world, id) else {
        return service_not_found(rg, name);
    };
    let sku = match b.get("sku") {
        Some(s) => {
            let mut probe = existing.clone();
            probe["sku"] = s.clone();
            probe["location"] = existing["location"].clone();
            match validate(&probe) {
                Ok((n, c, _)) => Some((n, c)),
                Err(r) => return r,
            }
        }
        None => None,
    };
    update(call, world, id, existing, &b, sku, now)
}

fn delete(call: &Call<'_>, _rg: &str, _name: &str, id: &str) -> Response {
    let now = call.now_ms();
    let mut world = call.em.world();
    let Some(mut svc) = store::get(&world, id) else {
        return empty(StatusCode::NO_CONTENT);
    };
    if svc["properties"]["provisioningState"] == "Deleting" {
        return locked("Deleting");
    }
    svc["properties"]["provisioningState"] = json!("Deleting");
    svc["properties"]["targetProvisioningState"] = json!("Deleting");
    svc["etag"] = json!(next_etag(&mut world));
    svc["systemData"]["lastModifiedAt"] = json!(Clock::rfc3339(now));
    store::put(&mut world, id, svc.clone());
    let region = locations::code(svc["location"].as_str().unwrap_or_default()).unwrap_or("westus");
    let url = start_async(call, &mut world, "apim.delete", "Term", id, region, DELETE);
    drop(world);
    call.em.save();
    lro_headers(json_response(StatusCode::ACCEPTED, &svc), &url)
}

/// `GET {service}/operationresults/{id}`: 200 `{"status":"InProgress"}` with both LRO headers,
/// then 200 `{"status":"Succeeded"}` without them (recording #2, #72).
pub fn operation_result(call: &Call<'_>, async_id: &str) -> Response {
    let world = call.em.world();
    let entry = world.data.get(ASYNC).and_then(|t| t.get(async_id)).cloned();
    let op = entry
        .as_ref()
        .and_then(|e| e["op"].as_str())
        .and_then(|id| world.operations.get(id))
        .cloned();
    drop(world);
    match (entry, op) {
        (Some(_), Some(op)) if lro::is_done(call.em, &op) => {
            let mut body = json!({"status": op.outcome});
            if let Some(e) = &op.error {
                body["error"] = e.clone();
            }
            json_response(StatusCode::OK, &body)
        }
        (Some(e), Some(_)) => lro_headers(
            json_response(StatusCode::OK, &json!({"status": "InProgress"})),
            e["url"].as_str().unwrap_or_default(),
        ),
        _ => arm_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            &format!("Operation {async_id} was not found."),
        ),
    }
}

/// The service's completion effects.
pub fn settle(world: &mut World, op: &Operation, now: u64) {
    match op.kind.as_str() {
        "apim.activate" | "apim.update" => {
            let Some(mut svc) = store::get(world, &op.resource_id) else {
                return;
            };
            let state = svc["properties"]["provisioningState"].clone();
            if state != "Activating" && state != "Updating" {
                return;
            }
            if op.kind == "apim.activate" {
                activate(&mut svc);
            }
            svc["properties"]["provisioningState"] = json!("Succeeded");
            svc["properties"]["targetProvisioningState"] = json!("");
            svc["etag"] = json!(next_etag(world));
            store::put(world, &op.resource_id, svc);
        }
        "apim.delete" => {
            for k in store::subtree_keys(world, &op.resource_id) {
                if let Some(v) = world.resources.remove(&k) {
                    crate::arm::on_deleted(world, &v, now);
                }
            }
        }
        "apim.purge" => {
            let name = op.resource_id.rsplit('/').next().unwrap_or_default();
            if let Some(e) = world.table(DELETED).remove(&name.to_ascii_lowercase())
                && let Some(id) = e["service"]["id"].as_str()
            {
                crate::directory::remove_managed_identity(world, id);
            }
        }
        _ => {}
    }
}

/// Endpoints filled in by activation (recording #73 for Developer, `test_apim_deletedservice`
/// #7 for Consumption).
fn activate(svc: &mut Value) {
    let name = svc["name"]
        .as_str()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let sku = svc["sku"]["name"].as_str().unwrap_or_default().to_string();
    let p = &mut svc["properties"];
    if p["customProperties"].is_null() {
        p["customProperties"] = custom_properties(is_consumption(&sku));
    }
    if is_consumption(&sku) {
        p["platformVersion"] = json!("mtv1");
        return;
    }
    let region = svc["location"].as_str().unwrap_or("West US").to_string();
    let p = &mut svc["properties"];
    p["gatewayRegionalUrl"] = json!(format!(
        "https://{name}-{}-01.regional.azure-api.net",
        region_abbreviation(&region)
    ));
    p["portalUrl"] = json!(format!("https://{name}.portal.azure-api.net"));
    p["developerPortalUrl"] = json!(format!("https://{name}.developer.azure-api.net"));
    p["managementApiUrl"] = json!(format!("https://{name}.management.azure-api.net"));
    p["scmUrl"] = json!(format!("https://{name}.scm.azure-api.net"));
    let ip = public_ip(&name);
    p["publicIPAddresses"] = json!([ip]);
    p["outboundPublicIPAddresses"] = json!([ip]);
    p["platformVersion"] = json!("stv2");
}

/// Move a deleted service (and its children and identity) to the soft-deleted table.
pub fn soft_delete(world: &mut World, svc: &Value, now: u64) {
    let Some(id) = svc["id"].as_str() else {
        return;
    };
    let name = svc["name"].as_str().unwrap_or_default().to_string();
    let prefix = format!("{}/", crate::arm::ids::key(id));
    let children: Map<String, Value> = world
        .resources
        .range(prefix.clone()..)
        .take_while(|(k, _)| k.starts_with(&prefix))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let code = locations::code(svc["location"].as_str().unwrap_or_default())
        .unwrap_or("westus")
        .to_string();
    world.table(DELETED).insert(
        name.to_ascii_lowercase(),
        json!({
            "name": name,
            "locationCode": code,
            "deletedMs": now,
            "service": svc,
            "children": children,
        }),
    );
}

fn deleted_contract(call: &Call<'_>, e: &Value, purge_now: bool) -> Value {
    let sub = call.path.subscription.clone().unwrap_or_default();
    let name = e["name"].as_str().unwrap_or_default();
    let code = e["locationCode"].as_str().unwrap_or("westus");
    let deleted = e["deletedMs"].as_u64().unwrap_or(0);
    let purge = if purge_now {
        call.now_ms()
    } else {
        deleted + call.em.clock.scaled(RETENTION).as_millis() as u64
    };
    json!({
        "id": format!("/subscriptions/{sub}/providers/Microsoft.ApiManagement/locations/{code}/deletedservices/{name}"),
        "name": name,
        "type": "Microsoft.ApiManagement/deletedservices",
        "location": locations::display(code).unwrap_or(code),
        "properties": {
            "serviceId": e["service"]["id"],
            "scheduledPurgeDate": Clock::rfc3339(purge),
            "deletionDate": Clock::rfc3339(deleted),
        },
    })
}

fn in_subscription(call: &Call<'_>, e: &Value) -> bool {
    let sub = call.path.subscription.clone().unwrap_or_default();
    e["service"]["id"].as_str().is_some_and(|id| {
        id.to_ascii_lowercase()
            .starts_with(&format!("/subscriptions/{}/", sub.to_ascii_lowercase()))
    })
}

pub fn list_deleted(call: &Call<'_>) -> Response {
    let world = call.em.world();
    let value: Vec<Value> = world
        .data
        .get(DELETED)
        .map(|t| {
            t.values()
                .filter(|e| in_subscription(call, e))
                .map(|e| deleted_contract(call, e, false))
                .collect()
        })
        .unwrap_or_default();
    json_response(StatusCode::OK, &json!({"value": value}))
}

/// `GET`/`DELETE …/locations/{location}/deletedservices/{name}`.
pub fn deleted(call: &Call<'_>, location: &str, name: &str) -> Response {
    let mut world = call.em.world();
    let entry = deleted_entry(&world, name).filter(|e| {
        in_subscription(call, e)
            && locations::normalize(location) == e["locationCode"].as_str().unwrap_or_default()
    });
    match call.req.method {
        Method::GET => match entry {
            Some(e) => json_response(StatusCode::OK, &deleted_contract(call, &e, false)),
            None => arm_error(
                StatusCode::NOT_FOUND,
                "ResourceNotFound",
                &format!("Soft-deleted service {name} was not found in location {location}."),
            ),
        },
        Method::DELETE => {
            let Some(e) = entry else {
                return empty(StatusCode::NO_CONTENT);
            };
            let key = format!(
                "/subscriptions/{}/providers/Microsoft.ApiManagement/locations/{}/deletedservices/{name}",
                call.path.subscription.clone().unwrap_or_default(),
                e["locationCode"].as_str().unwrap_or("westus")
            );
            // A purge already running answers like the first one.
            let running = world
                .operations
                .values()
                .find(|o| {
                    o.kind == "apim.purge" && !o.applied && o.resource_id.eq_ignore_ascii_case(&key)
                })
                .cloned();
            let op = match running {
                Some(o) => o,
                None => lro::start(call.em, &mut world, "apim.purge", &key, PURGE),
            };
            drop(world);
            call.em.save();
            let location_url = format!(
                "https://management.azure.com{key}/operationresults/{}?api-version={}&t={}&c={}&s={}&h={}",
                op.id,
                call.api_version,
                call.now_ms() * 10_000 + 621_355_968_000_000_000,
                random_token(48),
                random_token(64),
                random_token(32)
            );
            with_header(
                json_response(StatusCode::ACCEPTED, &deleted_contract(call, &e, true)),
                "location",
                &location_url,
            )
        }
        _ => arm_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "The method is not allowed.",
        ),
    }
}

/// Purge status: 202 with `Location` while running, then 200 with an empty body (#25-#28).
pub fn purge_result(call: &Call<'_>, op_id: &str) -> Response {
    let op = call.em.world().operations.get(op_id).cloned();
    match op {
        Some(op) if lro::is_done(call.em, &op) => empty(StatusCode::OK),
        Some(_) => with_header(
            empty(StatusCode::ACCEPTED),
            "location",
            &format!(
                "https://management.azure.com{}?{}",
                call.req.path, call.req.raw_query
            ),
        ),
        None => arm_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            &format!("Operation {op_id} was not found."),
        ),
    }
}

/// PUT with `restore: true`: bring a soft-deleted service back (other properties are ignored,
/// soft-delete doc), with its children and the same identity; it re-activates.
fn restore(
    call: &Call<'_>,
    mut world: std::sync::MutexGuard<'_, World>,
    name: &str,
    id: &str,
) -> Response {
    let entry = deleted_entry(&world, name).filter(|e| {
        e["service"]["id"]
            .as_str()
            .is_some_and(|s| s.eq_ignore_ascii_case(id))
    });
    let Some(e) = entry else {
        return arm_error(
            StatusCode::NOT_FOUND,
            "ServiceNotFound",
            &format!("Api service {name} was not found in soft-deleted state."),
        );
    };
    let purging = world.operations.values().any(|o| {
        o.kind == "apim.purge"
            && !o.applied
            && o.resource_id
                .to_ascii_lowercase()
                .ends_with(&format!("/deletedservices/{}", name.to_ascii_lowercase()))
    });
    if purging {
        return arm_error(
            StatusCode::CONFLICT,
            "ServiceLocked",
            &format!("Api service {name} is being purged."),
        );
    }
    world.table(DELETED).remove(&name.to_ascii_lowercase());
    let mut svc = e["service"].clone();
    svc["properties"]["provisioningState"] = json!("Activating");
    svc["properties"]["targetProvisioningState"] = json!("Activating");
    svc["etag"] = json!(next_etag(&mut world));
    store::put(&mut world, id, svc.clone());
    if let Some(children) = e["children"].as_object() {
        for (k, v) in children {
            world.resources.insert(k.clone(), v.clone());
        }
    }
    let region = e["locationCode"].as_str().unwrap_or("westus").to_string();
    let sku = svc["sku"]["name"]
        .as_str()
        .unwrap_or("Developer")
        .to_string();
    let url = start_async(
        call,
        &mut world,
        "apim.activate",
        "Act",
        id,
        &region,
        activation_time(&sku),
    );
    drop(world);
    call.em.save();
    lro_headers(
        with_etag(json_response(StatusCode::CREATED, &svc), &svc),
        &url,
    )
}
