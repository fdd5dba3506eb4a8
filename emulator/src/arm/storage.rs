//! Microsoft.Storage: account names, storage accounts, their keys and blob containers.
//!
//! Sources:
//! - arm-reference §3.1; spec example `Microsoft.Storage/2025-08-01/examples/StorageAccountCreate.json`
//!   (PUT answers 200 or 202 with an empty body; the account echoes `location` as the region
//!   code; `primaryEndpoints` end with `/`; `primaryLocation`, `statusOfPrimary`, `creationTime`,
//!   `keyCreationTime`, `sku.tier`) and `BlobContainersPut.json` (201 created / 200 exists,
//!   synchronous).
//! - The 202's `Location` is `…/subscriptions/{sub}/providers/Microsoft.Storage/locations/{loc}/
//!   asyncoperations/{id}?monitor=true&api-version=…`, polled 202 … 200 with the account (the
//!   `monitor=true` operation URL is in the Azure/oav wire-format sample `storageAccountCreate.md`,
//!   which shows the older `…/providers/Microsoft.Storage/operations/{id}` form; the
//!   `locations/{loc}/asyncoperations` path and `Retry-After: 17` are as current SDK recordings
//!   show them, from memory — not re-checked).
//! - Name rules and messages: learn.microsoft.com "Resolve errors for storage account names"
//!   (`AccountNameInvalid` "… is not a valid storage account name. Storage account name must be
//!   between 3 and 24 characters in length and use numbers and lower-case letters only.",
//!   `StorageAccountAlreadyTaken` "The storage account named … is already taken.",
//!   `StorageAccountInAnotherResourceGroup`, `InvalidResourceLocation`).
//! - Container names (3–63 lowercase letters, digits and single hyphens, starting and ending with
//!   a letter or digit): "Naming and referencing containers, blobs, and metadata" (docs). The
//!   control-plane error for a bad name is relayed from the blob service ("The specifed resource
//!   name contains invalid characters.", sic); its ARM code `ContainerOperationFailure` is
//!   UNVERIFIED.

use super::{Call, locations, lro, resources, store};
use crate::clock::Clock;
use crate::http::{arm_error, empty, json_response, with_header};
use crate::world::{Operation, World};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use base64::Engine;
use serde_json::{Map, Value, json};
use std::time::Duration;

pub const ACCOUNT_TYPE: &str = "Microsoft.Storage/storageAccounts";
pub const CONTAINER_TYPE: &str = "Microsoft.Storage/storageAccounts/blobServices/containers";
/// A StorageV2 account takes some twenty seconds to create.
pub const ACCOUNT_CREATE: Duration = Duration::from_secs(25);

pub fn handle(call: &Call<'_>) -> Response {
    let p = &call.path;
    let m = &call.req.method;
    let action = p.action().map(str::to_ascii_lowercase);
    match (p.type_path().as_str(), action.as_deref()) {
        ("", Some("checknameavailability")) if *m == Method::POST => check_name(call),
        ("", Some("storageaccounts")) if *m == Method::GET => list_accounts(call),
        ("locations/asyncoperations", None) if *m == Method::GET => poll(call),
        ("storageaccounts", None) => account(call),
        ("storageaccounts", Some("listkeys")) if *m == Method::POST => list_keys(call),
        ("storageaccounts", Some("regeneratekey")) if *m == Method::POST => regenerate_key(call),
        ("storageaccounts/blobservices", Some("containers")) if *m == Method::GET => {
            list_containers(call)
        }
        ("storageaccounts/blobservices/containers", None) => container(call),
        _ => arm_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("The emulator does not model '{m} {}'.", p.raw),
        ),
    }
}

/// Whether a name is a valid storage account name.
pub fn valid_account_name(name: &str) -> bool {
    (3..=24).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

fn invalid_name_message(name: &str) -> String {
    format!(
        "{name} is not a valid storage account name. Storage account name must be between 3 and 24 characters in length and use numbers and lower-case letters only."
    )
}

fn taken_message(name: &str) -> String {
    format!("The storage account named {name} is already taken.")
}

/// Any account with this name anywhere (names are global).
fn account_named(world: &World, name: &str) -> Option<Value> {
    world
        .resources
        .values()
        .find(|v| {
            v["type"]
                .as_str()
                .is_some_and(|t| t.eq_ignore_ascii_case(ACCOUNT_TYPE))
                && v["name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
        .cloned()
}

/// The answer without the emulator's own bookkeeping fields (`_keys`, …).
pub fn public(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !k.starts_with('_'))
                .map(|(k, x)| (k.clone(), x.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn bad_request(message: String) -> Response {
    arm_error(
        StatusCode::BAD_REQUEST,
        "InvalidRequestContent",
        &format!("The request content was invalid and could not be deserialized: '{message}'."),
    )
}

fn check_name(call: &Call<'_>) -> Response {
    let body = match call.req.json() {
        Ok(b) => b,
        Err(e) => return bad_request(e),
    };
    let Some(name) = body["name"].as_str() else {
        return arm_error(
            StatusCode::BAD_REQUEST,
            "MissingRequiredProperty",
            "The request is missing the required property 'name'.",
        );
    };
    let answer = if !valid_account_name(name) {
        json!({"nameAvailable": false, "reason": "AccountNameInvalid", "message": invalid_name_message(name)})
    } else if account_named(&call.em.world(), name).is_some() {
        json!({"nameAvailable": false, "reason": "AlreadyExists", "message": taken_message(name)})
    } else {
        json!({"nameAvailable": true})
    };
    json_response(StatusCode::OK, &answer)
}

fn list_accounts(call: &Call<'_>) -> Response {
    let world = call.em.world();
    let scope = super::ids::key(&call.path.scope);
    let value: Vec<Value> = world
        .resources
        .iter()
        .filter(|(k, v)| {
            k.starts_with(&format!("{scope}/"))
                && v["type"]
                    .as_str()
                    .is_some_and(|t| t.eq_ignore_ascii_case(ACCOUNT_TYPE))
        })
        .map(|(_, v)| public(v))
        .collect();
    json_response(StatusCode::OK, &json!({"value": value}))
}

fn account_id(call: &Call<'_>) -> Option<(String, String, String)> {
    let sub = call.path.subscription.clone()?;
    let rg = call.path.resource_group.clone()?;
    let name = call.path.name(0)?.to_string();
    let id = format!(
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/{name}"
    );
    Some((id, rg, name))
}

pub fn account_not_found(name: &str, rg: &str) -> Response {
    arm_error(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        &format!(
            "The Resource 'Microsoft.Storage/storageAccounts/{name}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
        ),
    )
}

fn account(call: &Call<'_>) -> Response {
    let Some((id, rg, name)) = account_id(call) else {
        return arm_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestUri",
            "A storage account lives in a resource group.",
        );
    };
    let sub = call.path.subscription.clone().unwrap_or_default();
    if store::group(&call.em.world(), &sub, &rg).is_none() {
        return resources::not_found(&rg);
    }
    match call.req.method {
        Method::GET => match store::get(&call.em.world(), &id) {
            Some(a) => json_response(StatusCode::OK, &public(&a)),
            None => account_not_found(&name, &rg),
        },
        Method::PUT => put_account(call, &id, &rg, &name),
        Method::PATCH => patch_account(call, &id, &rg, &name),
        Method::DELETE => {
            let mut world = call.em.world();
            if !store::exists(&world, &id) {
                return empty(StatusCode::NO_CONTENT);
            }
            let now = call.now_ms();
            for k in store::subtree_keys(&world, &id) {
                if let Some(v) = world.resources.remove(&k) {
                    super::on_deleted(&mut world, &v, now);
                }
            }
            drop(world);
            call.em.save();
            empty(StatusCode::OK)
        }
        _ => arm_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "The method is not allowed.",
        ),
    }
}

fn new_key() -> String {
    let bytes: Vec<u8> = (0..4)
        .flat_map(|_| uuid::Uuid::new_v4().into_bytes())
        .collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The paired region a geo-redundant account replicates to (a subset of Azure's pairs).
fn paired(code: &str) -> Option<&'static str> {
    Some(match code {
        "japaneast" => "japanwest",
        "japanwest" => "japaneast",
        "eastus" => "westus",
        "westus" => "eastus",
        "eastus2" => "centralus",
        "centralus" => "eastus2",
        "westus2" => "westcentralus",
        "westus3" => "eastus",
        "northeurope" => "westeurope",
        "westeurope" => "northeurope",
        "uksouth" => "ukwest",
        "ukwest" => "uksouth",
        "eastasia" => "southeastasia",
        "southeastasia" => "eastasia",
        "australiaeast" => "australiasoutheast",
        "swedencentral" => "swedensouth",
        _ => return None,
    })
}

fn endpoints(name: &str, suffix: &str) -> Value {
    let e = |svc: &str| format!("https://{name}{suffix}.{svc}.core.windows.net/");
    json!({
        "dfs": e("dfs"), "web": e("web"), "blob": e("blob"),
        "queue": e("queue"), "table": e("table"), "file": e("file"),
    })
}

/// Properties a client may send back from a GET; the service computes them.
const READ_ONLY: &[&str] = &[
    "provisioningState",
    "primaryEndpoints",
    "secondaryEndpoints",
    "primaryLocation",
    "secondaryLocation",
    "statusOfPrimary",
    "statusOfSecondary",
    "creationTime",
    "keyCreationTime",
    "lastGeoFailoverTime",
    "privateEndpointConnections",
    "geoReplicationStats",
    "failoverInProgress",
    "blobRestoreStatus",
];

/// The account as the service answers it, from the request and what was stored before.
fn account_body(
    id: &str,
    name: &str,
    code: &str,
    body: &Value,
    existing: Option<&Value>,
    state: &str,
    now: u64,
) -> Value {
    let created = existing
        .and_then(|e| e["properties"]["creationTime"].as_str())
        .map(str::to_string)
        .unwrap_or_else(|| Clock::rfc3339(now));
    let mut props: Map<String, Value> = existing
        .and_then(|e| e["properties"].as_object().cloned())
        .unwrap_or_default();
    if let Some(sent) = body["properties"].as_object() {
        for (k, v) in sent {
            if !READ_ONLY.iter().any(|r| r.eq_ignore_ascii_case(k)) {
                props.insert(k.clone(), v.clone());
            }
        }
    }
    let kind = body["kind"]
        .as_str()
        .or_else(|| existing.and_then(|e| e["kind"].as_str()))
        .unwrap_or("StorageV2")
        .to_string();
    let sku_name = body["sku"]["name"]
        .as_str()
        .or_else(|| existing.and_then(|e| e["sku"]["name"].as_str()))
        .unwrap_or("Standard_LRS")
        .to_string();
    let tier = if sku_name.starts_with("Premium") {
        "Premium"
    } else {
        "Standard"
    };
    let defaults = [
        ("keyCreationTime", json!({"key1": created, "key2": created})),
        ("privateEndpointConnections", json!([])),
        ("minimumTlsVersion", json!("TLS1_2")),
        ("allowBlobPublicAccess", json!(false)),
        (
            "networkAcls",
            json!({"bypass": "AzureServices", "virtualNetworkRules": [], "ipRules": [], "defaultAction": "Allow"}),
        ),
        ("supportsHttpsTrafficOnly", json!(true)),
        (
            "encryption",
            json!({"services": {
                "file": {"keyType": "Account", "enabled": true, "lastEnabledTime": created},
                "blob": {"keyType": "Account", "enabled": true, "lastEnabledTime": created}},
                "keySource": "Microsoft.Storage"}),
        ),
    ];
    for (k, v) in defaults {
        props.entry(k).or_insert(v);
    }
    if matches!(kind.as_str(), "StorageV2" | "BlobStorage") {
        props.entry("accessTier").or_insert(json!("Hot"));
    }
    props.insert("provisioningState".into(), json!(state));
    props.insert("creationTime".into(), json!(created));
    props.insert("primaryEndpoints".into(), endpoints(name, ""));
    props.insert("primaryLocation".into(), json!(code));
    props.insert("statusOfPrimary".into(), json!("available"));
    let geo = sku_name.contains("GRS") || sku_name.contains("GZRS");
    props.remove("secondaryLocation");
    props.remove("statusOfSecondary");
    props.remove("secondaryEndpoints");
    if geo && let Some(pair) = paired(code) {
        props.insert("secondaryLocation".into(), json!(pair));
        props.insert("statusOfSecondary".into(), json!("available"));
        if sku_name.starts_with("Standard_RA") {
            props.insert("secondaryEndpoints".into(), endpoints(name, "-secondary"));
        }
    }
    let mut extra = Map::new();
    extra.insert("sku".into(), json!({"name": sku_name, "tier": tier}));
    extra.insert("kind".into(), json!(kind));
    let tags = body
        .get("tags")
        .cloned()
        .or_else(|| existing.and_then(|e| e.get("tags").cloned()))
        .unwrap_or_else(|| json!({}));
    extra.insert("tags".into(), tags);
    if let Some(identity) = body
        .get("identity")
        .or_else(|| existing.and_then(|e| e.get("identity")))
    {
        extra.insert("identity".into(), identity.clone());
    }
    let mut v = store::envelope(
        id,
        name,
        ACCOUNT_TYPE,
        Some(code),
        Value::Object(props),
        extra,
    );
    let keys = existing
        .and_then(|e| e.get("_keys").cloned())
        .unwrap_or_else(|| {
            json!([
                {"keyName": "key1", "value": new_key(), "permissions": "FULL", "creationTime": created},
                {"keyName": "key2", "value": new_key(), "permissions": "FULL", "creationTime": created},
            ])
        });
    v["_keys"] = keys;
    v
}

/// A system-assigned identity asked for: the directory gets its service principal.
fn apply_identity(world: &mut World, v: &mut Value, now: u64) {
    let id = v["id"].as_str().unwrap_or_default().to_string();
    let ty = v["identity"]["type"].as_str().unwrap_or_default();
    if ty.contains("SystemAssigned") {
        let (pid, tid) = crate::directory::ensure_managed_identity(world, &id, now);
        v["identity"]["principalId"] = json!(pid);
        v["identity"]["tenantId"] = json!(tid);
    } else if v.get("identity").is_some() {
        crate::directory::remove_managed_identity(world, &id);
        if let Some(m) = v["identity"].as_object_mut() {
            m.remove("principalId");
            m.remove("tenantId");
        }
    }
}

fn operation_url(call: &Call<'_>, code: &str, op: &str) -> String {
    format!(
        "https://management.azure.com/subscriptions/{}/providers/Microsoft.Storage/locations/{code}/asyncoperations/{op}?monitor=true&api-version={}",
        call.path.subscription.as_deref().unwrap_or_default(),
        call.api_version
    )
}

/// 202 with the operation's `Location`; Azure's `Retry-After: 17`, scaled like every other
/// modelled duration.
fn accepted(call: &Call<'_>, location: &str) -> Response {
    with_header(
        with_header(empty(StatusCode::ACCEPTED), "location", location),
        "retry-after",
        &call.em.clock.retry_after(17),
    )
}

fn put_account(call: &Call<'_>, id: &str, rg: &str, name: &str) -> Response {
    if !valid_account_name(name) {
        return arm_error(
            StatusCode::BAD_REQUEST,
            "AccountNameInvalid",
            &invalid_name_message(name),
        );
    }
    let body = match call.req.json() {
        // Unknown properties are ignored, as Azure ignores them (strict mode rejected them
        // before this point).
        Ok(b) => super::schema::prune(&super::schema::STORAGE_ACCOUNT, &b, &call.api_version),
        Err(e) => return bad_request(e),
    };
    let Some(location) = body["location"].as_str() else {
        return arm_error(
            StatusCode::BAD_REQUEST,
            "LocationRequired",
            "The location property is required for this definition.",
        );
    };
    let Some(code) = locations::code(location) else {
        return arm_error(
            StatusCode::BAD_REQUEST,
            "LocationNotAvailableForResourceType",
            &format!(
                "The provided location '{location}' is not available for resource type 'Microsoft.Storage/storageAccounts'."
            ),
        );
    };
    if body["sku"]["name"].as_str().is_none() {
        return arm_error(
            StatusCode::BAD_REQUEST,
            "MissingRequiredProperty",
            "The request is missing the required property 'sku'.",
        );
    }
    let now = call.now_ms();
    let mut world = call.em.world();
    let existing = store::get(&world, id);
    if existing.is_none()
        && let Some(other) = account_named(&world, name)
    {
        let other_id = other["id"]
            .as_str()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let sub = call
            .path
            .subscription
            .as_deref()
            .unwrap_or_default()
            .to_ascii_lowercase();
        return if other_id.starts_with(&format!("/subscriptions/{sub}/")) {
            arm_error(
                StatusCode::CONFLICT,
                "StorageAccountInAnotherResourceGroup",
                &format!(
                    "The account {name} is already in another resource group in this subscription."
                ),
            )
        } else {
            arm_error(
                StatusCode::CONFLICT,
                "StorageAccountAlreadyTaken",
                &taken_message(name),
            )
        };
    }
    if let Some(e) = &existing {
        let old = e["location"].as_str().unwrap_or_default();
        if old != code {
            return arm_error(
                StatusCode::CONFLICT,
                "InvalidResourceLocation",
                &format!(
                    "The resource '{name}' already exists in location '{old}' in resource group '{rg}'. A resource with the same name cannot be created in location '{code}'. Please select a new resource name."
                ),
            );
        }
        if e["properties"]["provisioningState"] != "Succeeded" {
            // Still being created: the same operation answers.
            let op = world
                .operations
                .values()
                .find(|o| o.kind == "storage.create" && o.resource_id.eq_ignore_ascii_case(id))
                .map(|o| o.id.clone());
            if let Some(op) = op {
                return accepted(call, &operation_url(call, code, &op));
            }
        }
        // An account that exists: updated in place, synchronously.
        let mut v = account_body(id, name, code, &body, Some(e), "Succeeded", now);
        apply_identity(&mut world, &mut v, now);
        store::put(&mut world, id, v.clone());
        drop(world);
        call.em.save();
        return json_response(StatusCode::OK, &public(&v));
    }
    let mut v = account_body(id, name, code, &body, None, "Creating", now);
    apply_identity(&mut world, &mut v, now);
    store::put(&mut world, id, v);
    let op = lro::start(call.em, &mut world, "storage.create", id, ACCOUNT_CREATE);
    drop(world);
    call.em.save();
    accepted(call, &operation_url(call, code, &op.id))
}

fn patch_account(call: &Call<'_>, id: &str, rg: &str, name: &str) -> Response {
    let body = match call.req.json() {
        Ok(b) => super::schema::prune(&super::schema::STORAGE_ACCOUNT, &b, &call.api_version),
        Err(e) => return bad_request(e),
    };
    let now = call.now_ms();
    let mut world = call.em.world();
    let Some(existing) = store::get(&world, id) else {
        return account_not_found(name, rg);
    };
    let code = existing["location"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let state = existing["properties"]["provisioningState"]
        .as_str()
        .unwrap_or("Succeeded")
        .to_string();
    let mut v = account_body(id, name, &code, &body, Some(&existing), &state, now);
    apply_identity(&mut world, &mut v, now);
    store::put(&mut world, id, v.clone());
    drop(world);
    call.em.save();
    json_response(StatusCode::OK, &public(&v))
}

/// `GET …/locations/{loc}/asyncoperations/{id}`: 202 while the account is created, then 200 with
/// the account.
fn poll(call: &Call<'_>) -> Response {
    let op_id = call.path.name(1).unwrap_or_default();
    let world = call.em.world();
    let Some(op) = world.operations.get(op_id).cloned() else {
        return arm_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            &format!("The async operation '{op_id}' was not found."),
        );
    };
    // `applied`, not the clock: the account's final state exists once the completion was applied
    // (at the start of this request); see `apim::children::named_value_poll`.
    if !op.applied {
        return accepted(
            call,
            &format!(
                "https://management.azure.com{}?{}",
                call.req.path, call.req.raw_query
            ),
        );
    }
    match store::get(&world, &op.resource_id) {
        Some(a) => json_response(StatusCode::OK, &public(&a)),
        None => empty(StatusCode::OK),
    }
}

/// An account creation completed.
pub fn settle(world: &mut World, op: &Operation, _now: u64) {
    if op.kind != "storage.create" {
        return;
    }
    if let Some(mut a) = store::get(world, &op.resource_id) {
        a["properties"]["provisioningState"] = json!("Succeeded");
        store::put(world, &op.resource_id, a);
    }
}

fn keys_answer(a: &Value) -> Response {
    json_response(StatusCode::OK, &json!({"keys": a["_keys"].clone()}))
}

fn list_keys(call: &Call<'_>) -> Response {
    let Some((id, rg, name)) = account_id(call) else {
        return account_not_found("", "");
    };
    match store::get(&call.em.world(), &id) {
        Some(a) => keys_answer(&a),
        None => account_not_found(&name, &rg),
    }
}

fn regenerate_key(call: &Call<'_>) -> Response {
    let Some((id, rg, name)) = account_id(call) else {
        return account_not_found("", "");
    };
    let body = call.req.json().unwrap_or(Value::Null);
    let key_name = body["keyName"].as_str().unwrap_or_default().to_string();
    let now = call.now_ms();
    let mut world = call.em.world();
    let Some(mut a) = store::get(&world, &id) else {
        return account_not_found(&name, &rg);
    };
    let Some(keys) = a["_keys"].as_array_mut() else {
        return account_not_found(&name, &rg);
    };
    let Some(k) = keys
        .iter_mut()
        .find(|k| k["keyName"].as_str() == Some(key_name.as_str()))
    else {
        return arm_error(
            StatusCode::BAD_REQUEST,
            "InvalidValuesForRequestParameters",
            &format!("Values for request parameters are invalid: keyName '{key_name}'."),
        );
    };
    k["value"] = json!(new_key());
    k["creationTime"] = json!(Clock::rfc3339(now));
    a["properties"]["keyCreationTime"][&key_name] = json!(Clock::rfc3339(now));
    store::put(&mut world, &id, a.clone());
    drop(world);
    call.em.save();
    keys_answer(&a)
}

/// Whether a name is a valid blob container name.
pub fn valid_container_name(name: &str) -> bool {
    let b = name.as_bytes();
    (3..=63).contains(&b.len())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
        && !name.contains("--")
}

fn container_parent(call: &Call<'_>) -> Result<(String, Value), Response> {
    let Some((id, rg, name)) = account_id(call) else {
        return Err(account_not_found("", ""));
    };
    let sub = call.path.subscription.clone().unwrap_or_default();
    let world = call.em.world();
    if store::group(&world, &sub, &rg).is_none() {
        return Err(resources::not_found(&rg));
    }
    match store::get(&world, &id) {
        Some(a) => Ok((id, a)),
        None if call.req.method == Method::PUT => Err(arm_error(
            StatusCode::NOT_FOUND,
            "ParentResourceNotFound",
            &format!(
                "Failed to perform 'write' on resource(s) of type 'storageAccounts/blobServices/containers', because the parent resource '{id}' could not be found."
            ),
        )),
        None => Err(account_not_found(&name, &rg)),
    }
}

fn list_containers(call: &Call<'_>) -> Response {
    let (id, _) = match container_parent(call) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let world = call.em.world();
    let value: Vec<Value> =
        store::children(&world, &format!("{id}/blobServices/default"), "containers")
            .iter()
            .map(public)
            .collect();
    json_response(StatusCode::OK, &json!({"value": value}))
}

fn etag(now: u64) -> String {
    format!("\"0x8D{:013X}\"", now.wrapping_mul(10_000))
}

fn container(call: &Call<'_>) -> Response {
    let (account_id, account) = match container_parent(call) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let name = call.path.name(2).unwrap_or_default().to_string();
    let id = format!("{account_id}/blobServices/default/containers/{name}");
    match call.req.method {
        Method::GET => match store::get(&call.em.world(), &id) {
            Some(c) => json_response(StatusCode::OK, &public(&c)),
            None => arm_error(
                StatusCode::NOT_FOUND,
                "ContainerNotFound",
                "The specified container does not exist.",
            ),
        },
        Method::DELETE => {
            let removed = store::remove(&mut call.em.world(), &id);
            call.em.save();
            empty(if removed.is_some() {
                StatusCode::OK
            } else {
                StatusCode::NO_CONTENT
            })
        }
        Method::PUT | Method::PATCH => put_container(call, &id, &name, &account),
        _ => arm_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "The method is not allowed.",
        ),
    }
}

fn put_container(call: &Call<'_>, id: &str, name: &str, account: &Value) -> Response {
    if !(3..=63).contains(&name.len()) {
        return arm_error(
            StatusCode::BAD_REQUEST,
            "ContainerOperationFailure",
            "The specifed resource name length is not within the permissible limits.",
        );
    }
    if !valid_container_name(name) {
        return arm_error(
            StatusCode::BAD_REQUEST,
            "ContainerOperationFailure",
            "The specifed resource name contains invalid characters.",
        );
    }
    if account["properties"]["provisioningState"] != "Succeeded" {
        return arm_error(
            StatusCode::CONFLICT,
            "StorageAccountIsNotProvisioned",
            &format!(
                "The storage account provisioning state must be 'Succeeded' before executing the operation. The account '{}' is in state '{}'.",
                account["name"].as_str().unwrap_or_default(),
                account["properties"]["provisioningState"]
                    .as_str()
                    .unwrap_or_default()
            ),
        );
    }
    let body = match call.req.json() {
        Ok(b) => b,
        Err(e) => return bad_request(e),
    };
    let access = body["properties"]["publicAccess"]
        .as_str()
        .unwrap_or("None");
    if access != "None" && account["properties"]["allowBlobPublicAccess"] != true {
        return arm_error(
            StatusCode::CONFLICT,
            "PublicAccessNotPermitted",
            "Public access is not permitted on this storage account.",
        );
    }
    let now = call.now_ms();
    let mut world = call.em.world();
    let existing = store::get(&world, id);
    let mut props: Map<String, Value> = existing
        .as_ref()
        .and_then(|e| e["properties"].as_object().cloned())
        .unwrap_or_else(|| {
            json!({
                "deleted": false,
                "remainingRetentionDays": 0,
                "defaultEncryptionScope": "$account-encryption-key",
                "denyEncryptionScopeOverride": false,
                "publicAccess": "None",
                "leaseStatus": "Unlocked",
                "leaseState": "Available",
                "hasImmutabilityPolicy": false,
                "hasLegalHold": false,
                "metadata": {},
            })
            .as_object()
            .cloned()
            .unwrap_or_default()
        });
    if let Some(sent) = body["properties"].as_object() {
        for k in [
            "publicAccess",
            "metadata",
            "defaultEncryptionScope",
            "denyEncryptionScopeOverride",
        ] {
            if let Some(v) = sent.get(k) {
                props.insert(k.into(), v.clone());
            }
        }
    }
    props.insert("lastModifiedTime".into(), json!(Clock::rfc3339(now)));
    let mut extra = Map::new();
    extra.insert("etag".into(), json!(etag(now)));
    let v = store::envelope(id, name, CONTAINER_TYPE, None, Value::Object(props), extra);
    let status = if existing.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    store::put(&mut world, id, v.clone());
    drop(world);
    call.em.save();
    json_response(status, &v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_and_container_name_rules() {
        assert!(valid_account_name("stapimfn01"));
        assert!(!valid_account_name("St"));
        assert!(!valid_account_name("has-hyphen"));
        assert!(!valid_account_name(&"a".repeat(25)));
        assert!(valid_container_name("app-package-x-1234567"));
        assert!(!valid_container_name("Upper"));
        assert!(!valid_container_name("a--b"));
        assert!(!valid_container_name("-ab"));
        assert!(!valid_container_name("ab"));
    }

    #[test]
    fn geo_redundant_accounts_report_their_pair() {
        let v = account_body(
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/st1",
            "st1",
            "japaneast",
            &json!({"sku": {"name": "Standard_RAGRS"}, "kind": "StorageV2", "properties": {"primaryLocation": "ignored"}}),
            None,
            "Creating",
            0,
        );
        assert_eq!(v["properties"]["secondaryLocation"], "japanwest");
        assert_eq!(v["properties"]["primaryLocation"], "japaneast");
        assert_eq!(
            v["properties"]["secondaryEndpoints"]["blob"],
            "https://st1-secondary.blob.core.windows.net/"
        );
        assert_eq!(v["sku"]["tier"], "Standard");
        assert!(public(&v).get("_keys").is_none());
    }
}
