//! ARM at `management.azure.com`: authentication, api-versions, access checks, long-running
//! operations, and dispatch to the emulated resource providers.
//!
//! Every request goes through the same gate, in ARM's order: api-version present and known for the
//! provider, bearer token valid for the ARM audience, subscription known, caller holding a role on
//! the scope. Then the provider module for the namespace answers.

pub mod apim;
pub mod auth;
pub mod authorization;
pub mod ids;
pub mod locations;
pub mod lro;
pub mod rbac;
pub mod resources;
pub mod schema;
pub mod storage;
pub mod store;
pub mod versions;
pub mod web;

use crate::http::{Req, arm_error};
use crate::server::Emulator;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use ids::ArmPath;
use std::sync::Arc;

/// Who is calling, from the validated token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub object_id: String,
    pub app_id: String,
}

/// One ARM call that passed the gate.
pub struct Call<'a> {
    pub em: &'a Arc<Emulator>,
    pub req: &'a Req,
    pub path: ArmPath,
    pub api_version: String,
    pub caller: Caller,
}

impl Call<'_> {
    pub fn now_ms(&self) -> u64 {
        self.em.clock.now_ms()
    }

    pub fn is_write(&self) -> bool {
        self.req.method != Method::GET && self.req.method != Method::HEAD
    }
}

pub async fn handle(em: &Arc<Emulator>, req: Req) -> Response {
    lro::settle(em);
    let Some(path) = ArmPath::parse(&req.path) else {
        return arm_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestUri",
            &format!("The request URI '{}' is not valid.", req.path),
        );
    };
    let api_version = match versions::check(&path, req.query("api-version")) {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let caller = match auth::authenticate(em, &req) {
        Ok(c) => c,
        Err(resp) => return resp,
    };
    if let Some(sub) = &path.subscription
        && !sub.eq_ignore_ascii_case(&em.world().seed.subscription_id)
    {
        return arm_error(
            StatusCode::NOT_FOUND,
            "SubscriptionNotFound",
            &format!("The subscription '{sub}' could not be found."),
        );
    }
    let call = Call {
        em,
        req: &req,
        path,
        api_version,
        caller,
    };
    if let Err(resp) = auth::authorize(&call) {
        return resp;
    }
    if (call.req.method == Method::PUT || call.req.method == Method::PATCH)
        && let Err(resp) = schema::check(&call)
    {
        return resp;
    }
    dispatch(&call)
}

fn dispatch(call: &Call<'_>) -> Response {
    match call
        .path
        .namespace
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None => resources::handle(call),
        Some("microsoft.resources") => resources::handle(call),
        Some("microsoft.web") => web::handle(call),
        Some("microsoft.apimanagement") => apim::handle(call),
        Some("microsoft.storage") => storage::handle(call),
        Some("microsoft.authorization") => authorization::handle(call),
        Some(ns) => arm_error(
            StatusCode::BAD_REQUEST,
            "NoRegisteredProviderFound",
            &format!(
                "No registered resource provider found for the namespace '{ns}' in the emulator."
            ),
        ),
    }
}

/// A resource left the world (deleted directly or with its group): the provider's after-effects
/// (API Management soft delete, the managed identity removed, …).
pub fn on_deleted(world: &mut crate::world::World, resource: &serde_json::Value, now: u64) {
    // API Management soft-deletes: the service, its children and its identity are kept.
    if apim::on_deleted(world, resource, now) {
        return;
    }
    if let Some(id) = resource["id"].as_str()
        && resource["identity"]["principalId"].is_string()
    {
        crate::directory::remove_managed_identity(world, id);
    }
    web::on_deleted(world, resource);
}

/// The seeded principal is Owner on the seeded subscription (idempotent; called at start).
pub fn seed(world: &mut crate::world::World) {
    let sub = world.seed.subscription_id.clone();
    let oid = world.seed.object_id.clone();
    let name = uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("seed-owner/{sub}/{oid}").as_bytes(),
    )
    .to_string();
    let id =
        format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleAssignments/{name}");
    if !store::exists(world, &id) {
        let owner = format!(
            "/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
        );
        store::put(
            world,
            &id,
            serde_json::json!({
                "id": id,
                "name": name,
                "type": "Microsoft.Authorization/roleAssignments",
                "properties": {
                    "roleDefinitionId": owner,
                    "principalId": oid,
                    "principalType": "ServicePrincipal",
                    "scope": format!("/subscriptions/{sub}"),
                },
            }),
        );
    }
}
