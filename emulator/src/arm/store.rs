//! The generic resource store: ARM resources by lowercased id, with their envelopes.

use super::ids::key;
use crate::world::World;
use serde_json::{Map, Value, json};

pub fn get(world: &World, id: &str) -> Option<Value> {
    world.resources.get(&key(id)).cloned()
}

pub fn exists(world: &World, id: &str) -> bool {
    world.resources.contains_key(&key(id))
}

pub fn put(world: &mut World, id: &str, value: Value) {
    world.resources.insert(key(id), value);
}

pub fn remove(world: &mut World, id: &str) -> Option<Value> {
    world.resources.remove(&key(id))
}

/// Direct children of `parent_id` of one type (`…/service/a` + `apis`).
pub fn children(world: &World, parent_id: &str, child_type: &str) -> Vec<Value> {
    let prefix = format!("{}/{}/", key(parent_id), child_type.to_ascii_lowercase());
    world
        .resources
        .range(prefix.clone()..)
        .take_while(|(k, _)| k.starts_with(&prefix))
        .filter(|(k, _)| !k[prefix.len()..].contains('/'))
        .map(|(_, v)| v.clone())
        .collect()
}

/// Every resource at or below `id` (the resource and its nested children and extensions).
pub fn subtree_keys(world: &World, id: &str) -> Vec<String> {
    let k = key(id);
    let prefix = format!("{k}/");
    world
        .resources
        .keys()
        .filter(|x| **x == k || x.starts_with(&prefix))
        .cloned()
        .collect()
}

/// The resource group id of a subscription and group name.
pub fn group_id(subscription: &str, group: &str) -> String {
    format!("/subscriptions/{subscription}/resourceGroups/{group}")
}

/// The stored group, if it exists (and is not being deleted).
pub fn group(world: &World, subscription: &str, group: &str) -> Option<Value> {
    get(world, &group_id(subscription, group))
        .filter(|g| g["properties"]["provisioningState"] != "Deleting")
}

/// A resource envelope: `{id, name, type, location?, properties}` plus extra top-level fields.
pub fn envelope(
    id: &str,
    name: &str,
    resource_type: &str,
    location: Option<&str>,
    properties: Value,
    extra: Map<String, Value>,
) -> Value {
    let mut v = json!({"id": id, "name": name, "type": resource_type});
    if let Some(loc) = location {
        v["location"] = Value::String(loc.to_string());
    }
    if let Value::Object(m) = &mut v {
        for (k, x) in extra {
            m.insert(k, x);
        }
    }
    v["properties"] = properties;
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_are_direct_only_and_keys_are_case_insensitive() {
        let mut w = World::new();
        let svc = "/subscriptions/s/resourceGroups/g/providers/Microsoft.ApiManagement/service/a";
        put(&mut w, svc, json!({"n": 0}));
        put(&mut w, &format!("{svc}/apis/x"), json!({"n": 1}));
        put(&mut w, &format!("{svc}/apis/y"), json!({"n": 2}));
        put(
            &mut w,
            &format!("{svc}/apis/x/operations/o"),
            json!({"n": 3}),
        );
        assert_eq!(children(&w, svc, "apis").len(), 2);
        assert_eq!(children(&w, &svc.to_uppercase(), "APIS").len(), 2);
        assert_eq!(subtree_keys(&w, svc).len(), 4);
        assert!(exists(&w, &svc.to_lowercase()));
    }
}
