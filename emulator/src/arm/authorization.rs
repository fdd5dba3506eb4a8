//! Microsoft.Authorization: built-in role definitions and role assignments at any scope.
//!
//! Sources:
//! - arm-reference §3.4 and spec example
//!   `Microsoft.Authorization/2022-04-01/examples/RoleAssignments_CreateForResource.json`: PUT
//!   `{scope}/providers/Microsoft.Authorization/roleAssignments/{guid}` answers 201 (200 when it
//!   exists) with `properties.{roleDefinitionId, principalId, principalType, scope}`.
//! - `RoleAssignmentExists` 409 "The role assignment already exists." for the same principal, role
//!   and scope under another name (azure-cli PR #8599: PUT is not idempotent across names;
//!   Azure-Samples/azure-search-openai-demo#1091 for the message). Newer ARM adds "The ID of the
//!   existing role assignment is {name}." — from memory, not confirmed by a source here.
//! - `PrincipalNotFound` 400 "Principal {id} does not exist in the directory {tenant}. Check that
//!   you have the correct principal ID. …" (Azure/HubAndSpokeResearchEnclave#50,
//!   Azure-Samples/azure-search-openai-demo#9; the id is printed without hyphens, as in
//!   Azure/azure-powershell#16551), skipped when `principalType` is given — the documented way
//!   around Entra replication delay (https://aka.ms/docs-principaltype). A principal created a
//!   moment ago is still "not found" for a short, time-scaled replication window.
//! - Built-in roles: ids, names, descriptions and permissions as `az role definition list` shows
//!   them (Azure built-in roles doc). Contributor's `notActions` exclude
//!   `Microsoft.Authorization/*/Write`, so it cannot assign roles; Owner and User Access
//!   Administrator can (checked at the gate by `rbac::allowed`).
//! - `InvalidRoleAssignmentId`, `RoleDefinitionDoesNotExist`, `RoleAssignmentNotFound`,
//!   `RoleAssignmentUpdateNotPermitted`: ARM's codes for these cases (messages as commonly
//!   reported; not re-checked here).

use super::{Call, ids, rbac, resources, store};
use crate::clock::Clock;
use crate::http::{arm_error, empty, json_response};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use std::time::Duration;

/// How long a new principal stays unknown to ARM without `principalType` (real time, scaled).
pub const REPLICATION: Duration = Duration::from_secs(10);

/// (role id, description, actions, notActions, dataActions)
type Permissions = (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);

const PERMISSIONS: &[Permissions] = &[
    (
        "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
        "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
        &["*"],
        &[],
        &[],
    ),
    (
        "b24988ac-6180-42a0-ab88-20f7382dd24c",
        "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.",
        &["*"],
        &[
            "Microsoft.Authorization/*/Delete",
            "Microsoft.Authorization/*/Write",
            "Microsoft.Authorization/elevateAccess/Action",
            "Microsoft.Blueprint/blueprintAssignments/write",
            "Microsoft.Blueprint/blueprintAssignments/delete",
            "Microsoft.Compute/galleries/share/action",
            "Microsoft.Purview/consents/write",
            "Microsoft.Purview/consents/delete",
            "Microsoft.Resources/deploymentStacks/manageDenySetting/action",
            "Microsoft.Subscription/cancel/action",
            "Microsoft.Subscription/enable/action",
        ],
        &[],
    ),
    (
        "acdd72a7-3385-48ef-bd42-f606fba81ae7",
        "View all resources, but does not allow you to make any changes.",
        &["*/read"],
        &[],
        &[],
    ),
    (
        "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
        "Lets you manage user access to Azure resources.",
        &["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"],
        &[],
        &[],
    ),
    (
        "de139f84-1756-47ae-9be6-808fbbe84772",
        "Lets you manage websites (not web plans), but not access to them.",
        &[
            "Microsoft.Authorization/*/read",
            "Microsoft.Insights/alertRules/*",
            "Microsoft.Insights/components/*",
            "Microsoft.ResourceHealth/availabilityStatuses/read",
            "Microsoft.Resources/deployments/*",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.Support/*",
            "Microsoft.Web/certificates/*",
            "Microsoft.Web/listSitesAssignedToHostName/read",
            "Microsoft.Web/serverFarms/join/action",
            "Microsoft.Web/serverFarms/read",
            "Microsoft.Web/sites/*",
        ],
        &[],
        &[],
    ),
    (
        "312a565d-c81f-4fd8-895a-4e21e48d571c",
        "Can manage service and the APIs",
        &[
            "Microsoft.ApiManagement/service/*",
            "Microsoft.Authorization/*/read",
            "Microsoft.Insights/alertRules/*",
            "Microsoft.ResourceHealth/availabilityStatuses/read",
            "Microsoft.Resources/deployments/*",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.Support/*",
        ],
        &[],
        &[],
    ),
    (
        "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
        "Provides full access to Azure Storage blob containers and data, including assigning POSIX access control. To learn which actions are required for a given data operation, see Permissions for calling blob and queue data operations.",
        &[
            "Microsoft.Storage/storageAccounts/blobServices/containers/*",
            "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action",
        ],
        &[],
        &["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/*"],
    ),
    (
        "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
        "Allows for read, write and delete access to Azure Storage blob containers and data",
        &[
            "Microsoft.Storage/storageAccounts/blobServices/containers/delete",
            "Microsoft.Storage/storageAccounts/blobServices/containers/read",
            "Microsoft.Storage/storageAccounts/blobServices/containers/write",
            "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action",
        ],
        &[],
        &[
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete",
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write",
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/move/action",
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action",
        ],
    ),
    (
        "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
        "Allows for read access to Azure Storage blob containers and data",
        &[
            "Microsoft.Storage/storageAccounts/blobServices/containers/read",
            "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action",
        ],
        &[],
        &["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"],
    ),
];

pub fn handle(call: &Call<'_>) -> Response {
    let p = &call.path;
    let m = &call.req.method;
    match (
        p.rest.len(),
        p.rest
            .first()
            .map(|s| s.to_ascii_lowercase())
            .unwrap_or_default()
            .as_str(),
    ) {
        (1, "roledefinitions") if *m == Method::GET => list_definitions(call),
        (2, "roledefinitions") if *m == Method::GET => get_definition(call, &p.rest[1]),
        (1, "roleassignments") if *m == Method::GET => list_assignments(call),
        (2, "roleassignments") => assignment(call, &p.rest[1]),
        _ => arm_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("The emulator does not model '{m} {}'.", p.raw),
        ),
    }
}

/// The scope a built-in role definition's id is reported under: the subscription when the
/// request names one, otherwise the tenant root.
fn definition_scope(call: &Call<'_>) -> String {
    call.path
        .subscription
        .as_ref()
        .map(|s| format!("/subscriptions/{s}"))
        .unwrap_or_default()
}

/// A built-in role definition as ARM answers it.
pub fn definition(scope: &str, role: &rbac::Role) -> Value {
    let (_, description, actions, not_actions, data_actions) = PERMISSIONS
        .iter()
        .find(|p| p.0 == role.id)
        .copied()
        .unwrap_or((role.id, "", &[], &[], &[]));
    json!({
        "id": format!("{scope}/providers/Microsoft.Authorization/roleDefinitions/{}", role.id),
        "name": role.id,
        "type": "Microsoft.Authorization/roleDefinitions",
        "properties": {
            "roleName": role.name,
            "type": "BuiltInRole",
            "description": description,
            "assignableScopes": ["/"],
            "permissions": [{
                "actions": actions,
                "notActions": not_actions,
                "dataActions": data_actions,
                "notDataActions": [],
            }],
            "createdOn": "2015-02-02T21:55:09.8806423Z",
            "updatedOn": "2024-01-01T00:00:00.0000000Z",
            "createdBy": null,
            "updatedBy": null,
        },
    })
}

fn get_definition(call: &Call<'_>, guid: &str) -> Response {
    match rbac::role(guid) {
        Some(role) => json_response(StatusCode::OK, &definition(&definition_scope(call), role)),
        None => arm_error(
            StatusCode::NOT_FOUND,
            "RoleDefinitionDoesNotExist",
            &format!("The specified role definition with ID '{guid}' does not exist."),
        ),
    }
}

/// The quoted value after `field eq '` in an OData filter.
fn filter_value(filter: &str, field: &str) -> Option<String> {
    let lower = filter.to_ascii_lowercase();
    let at = lower.find(&format!("{} eq '", field.to_ascii_lowercase()))?;
    let rest = &filter[at + field.len() + 5..];
    Some(rest[..rest.find('\'')?].to_string())
}

fn list_definitions(call: &Call<'_>) -> Response {
    let filter = call.req.query("$filter").unwrap_or_default();
    let name = filter_value(filter, "roleName");
    let scope = definition_scope(call);
    let value: Vec<Value> = rbac::ROLES
        .iter()
        .filter(|r| {
            name.as_deref()
                .is_none_or(|n| r.name.eq_ignore_ascii_case(n))
        })
        .map(|r| definition(&scope, r))
        .collect();
    json_response(StatusCode::OK, &json!({"value": value}))
}

/// A stored assignment as ARM answers it: the 2022-04-01 property set, without the emulator's
/// bookkeeping fields.
fn answer(v: &Value) -> Value {
    let mut out = super::storage::public(v);
    let scope = v["id"]
        .as_str()
        .and_then(|id| {
            let cut = id
                .to_ascii_lowercase()
                .find("/providers/microsoft.authorization/roleassignments/")?;
            Some(id[..cut].to_string())
        })
        .unwrap_or_default();
    let scope = if scope.is_empty() { "/".into() } else { scope };
    if let Some(p) = out["properties"].as_object_mut() {
        p.entry("scope").or_insert(json!(scope));
        for k in [
            "condition",
            "conditionVersion",
            "createdOn",
            "updatedOn",
            "createdBy",
            "updatedBy",
            "delegatedManagedIdentityResourceId",
            "description",
        ] {
            p.entry(k).or_insert(Value::Null);
        }
    }
    out
}

fn scope_of(call: &Call<'_>) -> String {
    call.path.scope.clone()
}

/// Whether the scope of an extension resource exists: 404 in ARM's shapes otherwise.
fn scope_exists(call: &Call<'_>, scope: &str) -> Result<(), Response> {
    let p = ids::ArmPath::parse(scope);
    let Some(p) = p else {
        return Ok(()); // the tenant root
    };
    let world = call.em.world();
    let sub = p.subscription.clone().unwrap_or_default();
    if let Some(rg) = &p.resource_group {
        if store::group(&world, &sub, rg).is_none() {
            return Err(resources::not_found(rg));
        }
        if p.namespace.is_some() && !store::exists(&world, scope) {
            let types: Vec<&str> = p.rest.iter().step_by(2).map(String::as_str).collect();
            let names: Vec<&str> = p
                .rest
                .iter()
                .skip(1)
                .step_by(2)
                .map(String::as_str)
                .collect();
            return Err(arm_error(
                StatusCode::NOT_FOUND,
                "ResourceNotFound",
                &format!(
                    "The Resource '{}/{}/{}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
                    p.namespace.as_deref().unwrap_or_default(),
                    types.join("/"),
                    names.join("/")
                ),
            ));
        }
    }
    Ok(())
}

fn assignment(call: &Call<'_>, name: &str) -> Response {
    let scope = scope_of(call);
    let id = format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}");
    match call.req.method {
        Method::GET => match store::get(&call.em.world(), &id) {
            Some(a) => json_response(StatusCode::OK, &answer(&a)),
            None => not_found(name),
        },
        Method::DELETE => {
            let removed = store::remove(&mut call.em.world(), &id);
            call.em.save();
            match removed {
                Some(a) => json_response(StatusCode::OK, &answer(&a)),
                None => empty(StatusCode::NO_CONTENT),
            }
        }
        Method::PUT => put_assignment(call, &scope, name, &id),
        _ => arm_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "The method is not allowed.",
        ),
    }
}

fn not_found(name: &str) -> Response {
    arm_error(
        StatusCode::NOT_FOUND,
        "RoleAssignmentNotFound",
        &format!("The role assignment '{name}' is not found."),
    )
}

fn put_assignment(call: &Call<'_>, scope: &str, name: &str, id: &str) -> Response {
    if uuid::Uuid::parse_str(name).is_err() {
        return arm_error(
            StatusCode::BAD_REQUEST,
            "InvalidRoleAssignmentId",
            &format!(
                "The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID."
            ),
        );
    }
    if let Err(r) = scope_exists(call, scope) {
        return r;
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
    let props = &body["properties"];
    let (Some(def_id), Some(principal)) = (
        props["roleDefinitionId"].as_str(),
        props["principalId"].as_str(),
    ) else {
        return arm_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestContent",
            "The request content was invalid: 'properties.roleDefinitionId' and 'properties.principalId' are required.",
        );
    };
    let Some(role) = rbac::role(def_id) else {
        let guid = def_id.rsplit('/').next().unwrap_or(def_id);
        return arm_error(
            StatusCode::BAD_REQUEST,
            "RoleDefinitionDoesNotExist",
            &format!("The specified role definition with ID '{guid}' does not exist."),
        );
    };
    let principal_type = props["principalType"].as_str();
    let now = call.now_ms();
    let mut world = call.em.world();
    let tid = world.seed.tenant_id.clone();
    let sp = crate::directory::sp_by_object_id(&world, principal);
    let replicated = sp.as_ref().is_some_and(|sp| {
        let created = sp["createdMs"].as_u64().unwrap_or(0);
        now >= created + call.em.clock.scaled(REPLICATION).as_millis() as u64
    });
    if principal_type.is_none() && !replicated {
        let bare = uuid::Uuid::parse_str(principal)
            .map(|u| u.simple().to_string())
            .unwrap_or_else(|_| principal.to_string());
        return arm_error(
            StatusCode::BAD_REQUEST,
            "PrincipalNotFound",
            &format!(
                "Principal {bare} does not exist in the directory {tid}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype"
            ),
        );
    }
    let principal = principal.to_ascii_lowercase();
    let scope_key = ids::key(scope);
    // The same principal, role and scope under another name.
    let duplicate = rbac::assignments(&world).into_iter().find(|a| {
        a.principal_id == principal && a.role.id == role.id && ids::key(&a.scope) == scope_key
    });
    if let Some(existing) = store::get(&world, id) {
        let p = &existing["properties"];
        let same = p["principalId"]
            .as_str()
            .is_some_and(|x| x.eq_ignore_ascii_case(&principal))
            && rbac::role(p["roleDefinitionId"].as_str().unwrap_or_default())
                .is_some_and(|r| r.id == role.id);
        return if same {
            json_response(StatusCode::OK, &answer(&existing))
        } else {
            arm_error(
                StatusCode::CONFLICT,
                "RoleAssignmentUpdateNotPermitted",
                "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
            )
        };
    }
    if duplicate.is_some() {
        let other = world
            .resources
            .iter()
            .find(|(k, v)| {
                k.starts_with(&format!(
                    "{scope_key}/providers/microsoft.authorization/roleassignments/"
                )) && v["properties"]["principalId"]
                    .as_str()
                    .is_some_and(|x| x.eq_ignore_ascii_case(&principal))
                    && rbac::role(
                        v["properties"]["roleDefinitionId"]
                            .as_str()
                            .unwrap_or_default(),
                    )
                    .is_some_and(|r| r.id == role.id)
            })
            .and_then(|(_, v)| v["name"].as_str().map(str::to_string))
            .unwrap_or_default();
        return arm_error(
            StatusCode::CONFLICT,
            "RoleAssignmentExists",
            &format!(
                "The role assignment already exists. The ID of the existing role assignment is {}.",
                other.replace('-', "")
            ),
        );
    }
    let resolved_type = principal_type
        .map(str::to_string)
        .or_else(|| sp.as_ref().map(|_| "ServicePrincipal".to_string()))
        .unwrap_or_else(|| "ServicePrincipal".into());
    let at = Clock::rfc3339(now);
    let v = json!({
        "id": id,
        "name": name,
        "type": "Microsoft.Authorization/roleAssignments",
        "properties": {
            "roleDefinitionId": def_id,
            "principalId": principal,
            "principalType": resolved_type,
            "scope": scope,
            "condition": props.get("condition").cloned().unwrap_or(Value::Null),
            "conditionVersion": props.get("conditionVersion").cloned().unwrap_or(Value::Null),
            "createdOn": at,
            "updatedOn": at,
            "createdBy": call.caller.object_id,
            "updatedBy": call.caller.object_id,
            "delegatedManagedIdentityResourceId": null,
            "description": props.get("description").cloned().unwrap_or(Value::Null),
        },
        "_createdMs": now,
    });
    store::put(&mut world, id, v.clone());
    drop(world);
    call.em.save();
    json_response(StatusCode::CREATED, &answer(&v))
}

/// `GET {scope}/providers/Microsoft.Authorization/roleAssignments`: the assignments at, above and
/// below the scope (`atScope()`: at and above only), optionally for one principal.
fn list_assignments(call: &Call<'_>) -> Response {
    let scope = scope_of(call);
    let filter = call.req.query("$filter").unwrap_or_default().to_string();
    let at_scope = filter.to_ascii_lowercase().contains("atscope()");
    let principal = filter_value(&filter, "principalId").or_else(|| {
        let lower = filter.to_ascii_lowercase();
        let at = lower.find("assignedto('")?;
        let rest = &filter[at + 12..];
        Some(rest[..rest.find('\'')?].to_string())
    });
    let world = call.em.world();
    let value: Vec<Value> = world
        .resources
        .iter()
        .filter_map(|(k, v)| {
            let cut = k.find("/providers/microsoft.authorization/roleassignments/")?;
            let a_scope = if cut == 0 { "/" } else { &k[..cut] };
            let above = rbac::covers(a_scope, &scope) || a_scope == "/";
            let below = rbac::covers(&scope, a_scope);
            let in_range = above || (!at_scope && below);
            let who = v["properties"]["principalId"].as_str().unwrap_or_default();
            let matches = principal
                .as_deref()
                .is_none_or(|p| p.eq_ignore_ascii_case(who));
            (in_range && matches).then(|| answer(v))
        })
        .collect();
    json_response(StatusCode::OK, &json!({"value": value}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_role_has_its_permissions() {
        for r in rbac::ROLES {
            let d = definition("/subscriptions/s", r);
            assert_eq!(d["properties"]["roleName"], r.name);
            assert_ne!(d["properties"]["description"], "", "{}", r.name);
        }
        assert_eq!(
            filter_value("roleName eq 'Storage Blob Data Owner'", "roleName").as_deref(),
            Some("Storage Blob Data Owner")
        );
    }
}
