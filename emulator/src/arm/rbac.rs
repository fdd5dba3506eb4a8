//! Built-in role definitions and the access check ARM makes before every call.
//!
//! Role ids are Azure's built-in ones (the same GUID in every tenant). Only control-plane access
//! is decided here; data-plane roles (Storage Blob Data …) matter to the services that use them.

use super::ids::key;
use crate::world::World;

pub struct Role {
    pub id: &'static str,
    pub name: &'static str,
    /// Grants control-plane reads.
    pub read: bool,
    /// Grants control-plane writes (PUT/PATCH/POST/DELETE).
    pub write: bool,
    /// Grants blob data access on a storage account.
    pub blob_data: bool,
    /// Grants `Microsoft.Authorization/*` writes (creating and deleting role assignments):
    /// Owner and User Access Administrator; Contributor's `notActions` exclude them.
    pub assign: bool,
}

pub const ROLES: &[Role] = &[
    Role {
        id: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
        name: "Owner",
        read: true,
        write: true,
        assign: true,
        blob_data: false,
    },
    Role {
        id: "b24988ac-6180-42a0-ab88-20f7382dd24c",
        name: "Contributor",
        read: true,
        write: true,
        assign: false,
        blob_data: false,
    },
    Role {
        id: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
        name: "Reader",
        read: true,
        write: false,
        assign: false,
        blob_data: false,
    },
    Role {
        id: "de139f84-1756-47ae-9be6-808fbbe84772",
        name: "Website Contributor",
        read: true,
        write: true,
        assign: false,
        blob_data: false,
    },
    Role {
        id: "312a565d-c81f-4fd8-895a-4e21e48d571c",
        name: "API Management Service Contributor",
        read: true,
        write: true,
        assign: false,
        blob_data: false,
    },
    Role {
        id: "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
        name: "User Access Administrator",
        read: true,
        write: false,
        assign: true,
        blob_data: false,
    },
    Role {
        id: "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
        name: "Storage Blob Data Owner",
        read: false,
        write: false,
        assign: false,
        blob_data: true,
    },
    Role {
        id: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
        name: "Storage Blob Data Contributor",
        read: false,
        write: false,
        assign: false,
        blob_data: true,
    },
    Role {
        id: "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
        name: "Storage Blob Data Reader",
        read: false,
        write: false,
        assign: false,
        blob_data: true,
    },
];

/// The role a `roleDefinitionId` (full id or bare GUID) refers to.
pub fn role(definition_id: &str) -> Option<&'static Role> {
    let guid = definition_id.rsplit('/').next().unwrap_or(definition_id);
    ROLES.iter().find(|r| r.id.eq_ignore_ascii_case(guid))
}

/// Role assignments as stored: `(scope key, principalId, role)`; `created_ms` lets data-plane
/// checks model propagation delay.
pub struct Assignment {
    pub scope: String,
    pub principal_id: String,
    pub role: &'static Role,
    pub created_ms: u64,
}

pub fn assignments(world: &World) -> Vec<Assignment> {
    world
        .resources
        .iter()
        .filter(|(k, _)| k.contains("/providers/microsoft.authorization/roleassignments/"))
        .filter_map(|(k, v)| {
            let p = &v["properties"];
            let role = role(p["roleDefinitionId"].as_str()?)?;
            let cut = k.find("/providers/microsoft.authorization/roleassignments/")?;
            Some(Assignment {
                scope: k[..cut].to_string(),
                principal_id: p["principalId"].as_str()?.to_ascii_lowercase(),
                role,
                created_ms: v["_createdMs"].as_u64().unwrap_or(0),
            })
        })
        .collect()
}

/// Whether a scope key is at or above `target` (a subscription covers its groups and resources).
pub fn covers(scope: &str, target: &str) -> bool {
    let target = key(target);
    let scope = key(scope);
    target == scope || target.starts_with(&format!("{scope}/"))
}

/// Whether a target is in Microsoft.Authorization (role assignments and definitions): writes
/// there need the `assign` capability, not `write`.
pub fn is_authorization(target: &str) -> bool {
    key(target).contains("/providers/microsoft.authorization/")
}

/// Does `principal` hold a control-plane role on `target` that allows this access?
pub fn allowed(world: &World, principal: &str, target: &str, write: bool) -> bool {
    let principal = principal.to_ascii_lowercase();
    let authz = is_authorization(target);
    assignments(world).iter().any(|a| {
        a.principal_id == principal
            && covers(&a.scope, target)
            && match (write, authz) {
                (false, _) => a.role.read,
                (true, true) => a.role.assign,
                (true, false) => a.role.write,
            }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subscription_owner_can_write_below_and_reader_cannot() {
        let mut w = World::new();
        w.resources.insert(
            key("/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/a"),
            json!({"properties": {"roleDefinitionId": "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "principalId": "P1"}}),
        );
        w.resources.insert(
            key("/subscriptions/s/resourceGroups/g/providers/Microsoft.Authorization/roleAssignments/b"),
            json!({"properties": {"roleDefinitionId": "acdd72a7-3385-48ef-bd42-f606fba81ae7", "principalId": "p2"}}),
        );
        let target = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Web/sites/x";
        assert!(allowed(&w, "p1", target, true));
        assert!(allowed(&w, "p2", target, false));
        assert!(!allowed(&w, "p2", target, true));
        assert!(!allowed(
            &w,
            "p2",
            "/subscriptions/s/resourceGroups/other",
            false
        ));
        assert!(!covers(
            "/subscriptions/s/resourceGroups/g",
            "/subscriptions/s/resourceGroups/g2"
        ));
    }
}
