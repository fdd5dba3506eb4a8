//! Microsoft.Resources: subscriptions' locations and resource groups.
//!
//! Facts: arm-reference §1 — PUT answers 201 when created and 200 when it exists (synchronous,
//! `provisioningState: Succeeded`); HEAD 204/404; DELETE 202 + `Location`
//! `/subscriptions/{sub}/operationresults/{id}`, polled 202 … 200, about 3 minutes in the recording;
//! deleting a group deletes everything in it (and soft-deletes API Management services).

use super::{Call, locations, lro, store};
use crate::http::{arm_error, empty, json_response, with_header};
use crate::world::{Operation, World};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};
use std::time::Duration;

/// A group delete in the recording took about three minutes.
pub const GROUP_DELETE: Duration = Duration::from_secs(180);

pub fn handle(call: &Call<'_>) -> Response {
    let p = &call.path;
    let segs: Vec<&str> = p.raw.split('/').skip(1).collect();
    let sub = p.subscription.clone().unwrap_or_default();
    match (segs.len(), segs.get(2).map(|s| s.to_ascii_lowercase())) {
        (3, Some(s)) if s == "locations" && call.req.method == Method::GET => list_locations(&sub),
        (3, Some(s)) if s == "resourcegroups" && call.req.method == Method::GET => {
            list_groups(call, &sub)
        }
        (4, Some(s)) if s == "operationresults" && call.req.method == Method::GET => {
            operation_result(call, segs[3])
        }
        (4, Some(s)) if s == "resourcegroups" => group(call, &sub, segs[3]),
        _ => arm_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!(
                "The emulator does not model '{} {}'.",
                call.req.method, p.raw
            ),
        ),
    }
}

fn list_locations(sub: &str) -> Response {
    let value: Vec<Value> = locations::REGIONS
        .iter()
        .map(|(code, display)| {
            json!({
                "id": format!("/subscriptions/{sub}/locations/{code}"),
                "name": code,
                "displayName": display,
                "regionalDisplayName": display,
                "type": "Region",
                "metadata": {"regionType": "Physical", "regionCategory": "Recommended"},
            })
        })
        .collect();
    json_response(StatusCode::OK, &json!({"value": value}))
}

fn list_groups(call: &Call<'_>, sub: &str) -> Response {
    let world = call.em.world();
    let prefix = format!(
        "/subscriptions/{}/resourcegroups/",
        sub.to_ascii_lowercase()
    );
    let value: Vec<Value> = world
        .resources
        .iter()
        .filter(|(k, _)| k.starts_with(&prefix) && !k[prefix.len()..].contains('/'))
        .map(|(_, v)| v.clone())
        .collect();
    json_response(StatusCode::OK, &json!({"value": value}))
}

fn group(call: &Call<'_>, sub: &str, name: &str) -> Response {
    let id = store::group_id(sub, name);
    match call.req.method {
        Method::GET | Method::HEAD => {
            // A group being deleted still answers, with `provisioningState: Deleting`.
            let found = store::get(&call.em.world(), &id);
            match (found, call.req.method == Method::HEAD) {
                (Some(_), true) => empty(StatusCode::NO_CONTENT),
                (Some(g), false) => json_response(StatusCode::OK, &g),
                (None, true) => empty(StatusCode::NOT_FOUND),
                (None, false) => not_found(name),
            }
        }
        Method::PUT => put_group(call, name, &id),
        Method::PATCH => patch_group(call, sub, name, &id),
        Method::DELETE => delete_group(call, sub, name, &id),
        _ => arm_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "The method is not allowed.",
        ),
    }
}

pub fn not_found(name: &str) -> Response {
    arm_error(
        StatusCode::NOT_FOUND,
        "ResourceGroupNotFound",
        &format!("Resource group '{name}' could not be found."),
    )
}

fn valid_group_name(name: &str) -> bool {
    // 1-90 characters: letters (incl. Unicode), digits, underscores, hyphens, periods and
    // parentheses, not ending with a period.
    !name.is_empty()
        && name.chars().count() <= 90
        && !name.ends_with('.')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '(' | ')'))
}

fn put_group(call: &Call<'_>, name: &str, id: &str) -> Response {
    if !valid_group_name(name) {
        return arm_error(
            StatusCode::BAD_REQUEST,
            "InvalidResourceGroup",
            &format!(
                "The provided resource group name '{name}' has these invalid characters: . The name can only be a letter, digit, '-', '.', '(', ')' or '_'."
            ),
        );
    }
    let body = match call.req.json() {
        Ok(b) => b,
        Err(e) => {
            return arm_error(
                StatusCode::BAD_REQUEST,
                "InvalidRequestContent",
                &format!("The request content was invalid and could not be deserialized: '{e}'."),
            );
        }
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
            "LocationNotAvailableForResourceGroup",
            &format!(
                "The provided location '{location}' is not available for resource group. List of available regions is '{}'.",
                locations::REGIONS
                    .iter()
                    .map(|(c, _)| *c)
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        );
    };
    let mut world = call.em.world();
    if let Some(existing) = store::get(&world, id) {
        if existing["properties"]["provisioningState"] == "Deleting" {
            return arm_error(
                StatusCode::CONFLICT,
                "ResourceGroupBeingDeleted",
                &format!(
                    "The resource group '{name}' is in deprovisioning state and cannot perform this operation."
                ),
            );
        }
        let old = existing["location"].as_str().unwrap_or_default();
        if locations::normalize(old) != code {
            return arm_error(
                StatusCode::CONFLICT,
                "InvalidResourceGroupLocation",
                &format!(
                    "Invalid resource group location '{location}'. The Resource group already exists in location '{old}'."
                ),
            );
        }
        let mut updated = existing.clone();
        if let Some(tags) = body.get("tags") {
            updated["tags"] = tags.clone();
        }
        store::put(&mut world, id, updated.clone());
        drop(world);
        call.em.save();
        return json_response(StatusCode::OK, &updated);
    }
    let mut extra = Map::new();
    if let Some(tags) = body.get("tags") {
        extra.insert("tags".into(), tags.clone());
    }
    let g = store::envelope(
        id,
        name,
        "Microsoft.Resources/resourceGroups",
        Some(code),
        json!({"provisioningState": "Succeeded"}),
        extra,
    );
    store::put(&mut world, id, g.clone());
    drop(world);
    call.em.save();
    json_response(StatusCode::CREATED, &g)
}

fn patch_group(call: &Call<'_>, sub: &str, name: &str, id: &str) -> Response {
    let body = call.req.json().unwrap_or(Value::Null);
    let mut world = call.em.world();
    let Some(mut g) = store::group(&world, sub, name) else {
        return not_found(name);
    };
    if let Some(tags) = body.get("tags") {
        g["tags"] = tags.clone();
    }
    store::put(&mut world, id, g.clone());
    drop(world);
    call.em.save();
    json_response(StatusCode::OK, &g)
}

fn delete_group(call: &Call<'_>, sub: &str, name: &str, id: &str) -> Response {
    let mut world = call.em.world();
    let Some(mut g) = store::get(&world, id) else {
        return not_found(name);
    };
    g["properties"]["provisioningState"] = json!("Deleting");
    store::put(&mut world, id, g);
    let op = lro::start(call.em, &mut world, "group.delete", id, GROUP_DELETE);
    drop(world);
    call.em.save();
    let location = format!(
        "https://management.azure.com/subscriptions/{sub}/operationresults/{}?api-version={}",
        op.id, call.api_version
    );
    with_header(
        with_header(empty(StatusCode::ACCEPTED), "location", &location),
        "retry-after",
        &call.em.clock.retry_after(15),
    )
}

/// `GET /subscriptions/{sub}/operationresults/{id}`: 202 while running, then 200.
fn operation_result(call: &Call<'_>, op_id: &str) -> Response {
    let op = call.em.world().operations.get(op_id).cloned();
    match op {
        Some(op) if lro::is_done(call.em, &op) => empty(StatusCode::OK),
        Some(op) => with_header(
            with_header(
                empty(StatusCode::ACCEPTED),
                "location",
                &format!(
                    "https://management.azure.com{}?{}",
                    call.req.path, call.req.raw_query
                ),
            ),
            "retry-after",
            &call
                .em
                .clock
                .retry_after(if op.kind.starts_with("group.") { 15 } else { 5 }),
        ),
        None => arm_error(
            StatusCode::NOT_FOUND,
            "OperationNotFound",
            &format!("The operation '{op_id}' could not be found."),
        ),
    }
}

/// A group delete completed: everything in it is gone.
pub fn settle(world: &mut World, op: &Operation, now: u64) {
    if op.kind != "group.delete" {
        return;
    }
    for k in store::subtree_keys(world, &op.resource_id) {
        if let Some(v) = world.resources.remove(&k) {
            super::on_deleted(world, &v, now);
        }
    }
}
