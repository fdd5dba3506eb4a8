//! The tenant's directory: service principals (applications' and managed identities') and
//! application registrations, shared by Entra ID (token issuing), Microsoft Graph and the ARM
//! providers that create system-assigned identities.
//!
//! Stored in the world's tables `directory.servicePrincipals` and `directory.applications`, keyed
//! by object id, with Graph's own field names, so Graph can answer them as they are.

use crate::world::World;
use serde_json::{Value, json};

pub const SERVICE_PRINCIPALS: &str = "directory.servicePrincipals";
pub const APPLICATIONS: &str = "directory.applications";
/// Client secrets by appId (the seeded principal's; apps created through Graph have none here).
pub const SECRETS: &str = "directory.secrets";
/// Application permissions (app roles) granted to service principals, by assignment id:
/// `{"principalId", "resourceAppId", "appRoleValue"}`. Entra puts them in the `roles` claim.
pub const APP_ROLE_ASSIGNMENTS: &str = "directory.appRoleAssignments";

/// Make sure the seeded service principal exists (idempotent; called at start).
pub fn seed(world: &mut World) {
    let seed = world.seed.clone();
    let tid = seed.tenant_id.clone();
    world
        .table(SERVICE_PRINCIPALS)
        .entry(seed.object_id.clone())
        .or_insert_with(|| {
            json!({
                "id": seed.object_id,
                "appId": seed.client_id,
                "displayName": "apimfn-emulator-seeded-principal",
                "servicePrincipalType": "Application",
                "appOwnerOrganizationId": tid,
                "createdMs": 0,
            })
        });
    world
        .table(SECRETS)
        .entry(seed.client_id.clone())
        .or_insert_with(|| Value::String(seed.client_secret.clone()));
    // The seeded principal may manage app registrations through Graph (admin-consented
    // `Application.ReadWrite.All`, as a deployment pipeline's principal would be).
    world
        .table(APP_ROLE_ASSIGNMENTS)
        .entry(format!("seed-{}", seed.object_id))
        .or_insert_with(|| {
            json!({
                "principalId": seed.object_id,
                "resourceAppId": "00000003-0000-0000-c000-000000000000",
                "appRoleValue": "Application.ReadWrite.All",
            })
        });
}

/// A service principal by object id.
pub fn sp_by_object_id(world: &World, object_id: &str) -> Option<Value> {
    world
        .data
        .get(SERVICE_PRINCIPALS)?
        .get(&object_id.to_ascii_lowercase())
        .cloned()
}

/// A service principal by application (client) id.
pub fn sp_by_app_id(world: &World, app_id: &str) -> Option<Value> {
    world
        .data
        .get(SERVICE_PRINCIPALS)?
        .values()
        .find(|sp| {
            sp["appId"]
                .as_str()
                .is_some_and(|a| a.eq_ignore_ascii_case(app_id))
        })
        .cloned()
}

/// The managed identity's service principal for an ARM resource, if it has one.
pub fn managed_identity_for(world: &World, resource_id: &str) -> Option<Value> {
    world
        .data
        .get(SERVICE_PRINCIPALS)?
        .values()
        .find(|sp| {
            sp["servicePrincipalType"] == "ManagedIdentity"
                && sp["alternativeNames"].as_array().is_some_and(|names| {
                    names.iter().any(|n| {
                        n.as_str()
                            .is_some_and(|n| n.eq_ignore_ascii_case(resource_id))
                    })
                })
        })
        .cloned()
}

/// Create (or return) the system-assigned identity of an ARM resource: a service principal of
/// type `ManagedIdentity` with its own appId. Returns `(principalId, tenantId)`.
pub fn ensure_managed_identity(
    world: &mut World,
    resource_id: &str,
    now_ms: u64,
) -> (String, String) {
    let tid = world.seed.tenant_id.clone();
    if let Some(sp) = managed_identity_for(world, resource_id) {
        return (sp["id"].as_str().unwrap_or_default().to_string(), tid);
    }
    let object_id = uuid::Uuid::new_v4().to_string();
    let app_id = uuid::Uuid::new_v4().to_string();
    let name = resource_id
        .rsplit('/')
        .next()
        .unwrap_or(resource_id)
        .to_string();
    world.table(SERVICE_PRINCIPALS).insert(
        object_id.clone(),
        json!({
            "id": object_id,
            "appId": app_id,
            "displayName": name,
            "servicePrincipalType": "ManagedIdentity",
            "alternativeNames": [format!("isExplicit=False"), resource_id],
            "appOwnerOrganizationId": null,
            "createdMs": now_ms,
        }),
    );
    (object_id, tid)
}

/// Remove the system-assigned identity of a deleted resource (or of one whose identity was
/// switched off).
pub fn remove_managed_identity(world: &mut World, resource_id: &str) {
    if let Some(sp) = managed_identity_for(world, resource_id)
        && let Some(id) = sp["id"].as_str()
    {
        world.table(SERVICE_PRINCIPALS).remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn managed_identities_are_created_once_per_resource_and_removed_with_it() {
        let mut w = World::new();
        seed(&mut w);
        let rid = "/subscriptions/s/resourceGroups/g/providers/Microsoft.ApiManagement/service/a";
        let (p1, tid) = ensure_managed_identity(&mut w, rid, 1);
        let (p2, _) = ensure_managed_identity(&mut w, rid, 2);
        assert_eq!(p1, p2);
        assert_eq!(tid, w.seed.tenant_id);
        let sp = sp_by_object_id(&w, &p1).expect("sp");
        assert_eq!(sp["servicePrincipalType"], "ManagedIdentity");
        assert_ne!(sp["appId"], w.seed.client_id);
        assert!(sp_by_app_id(&w, &w.seed.client_id.clone()).is_some());
        remove_managed_identity(&mut w, rid);
        assert!(sp_by_object_id(&w, &p1).is_none());
    }
}
