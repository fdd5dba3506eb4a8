//! ARM's authentication (bearer token for the ARM audience) and authorization (a role on the
//! scope), with the real error codes and messages.

use super::{Call, Caller, rbac};
use crate::http::{Req, arm_error, with_header};
use crate::server::Emulator;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

/// Audiences ARM accepts (its error message lists the same four).
pub const ARM_AUDIENCES: &[&str] = &[
    "https://management.core.windows.net/",
    "https://management.core.windows.net",
    "https://management.azure.com/",
    "https://management.azure.com",
];

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenProblem {
    Missing,
    Invalid(String),
    Expired { exp: i64, now: i64 },
    NotYetValid,
    Audience(String),
    Tenant(String),
}

/// Signature and lifetime, the checks every service makes the same way (ARM, Graph, SCM, Easy
/// Auth); audience, issuer and tenant rules differ per service and stay with each.
pub fn verify_current(em: &Emulator, token: &str) -> Result<Value, TokenProblem> {
    let claims = em.signer.verify(token).map_err(TokenProblem::Invalid)?;
    let now = (em.clock.now_ms() / 1000) as i64;
    // Entra allows five minutes of clock skew on nbf; so do resource providers.
    if let Some(nbf) = claims["nbf"].as_i64()
        && nbf > now + 300
    {
        return Err(TokenProblem::NotYetValid);
    }
    match claims["exp"].as_i64() {
        Some(exp) if exp > now => Ok(claims),
        Some(exp) => Err(TokenProblem::Expired { exp, now }),
        None => Err(TokenProblem::Invalid("the token has no exp claim".into())),
    }
}

/// Validate a bearer token issued by the emulated tenant for one of `audiences`.
pub fn validate(
    em: &Emulator,
    token: Option<&str>,
    audiences: &[&str],
) -> Result<Value, TokenProblem> {
    let token = token.ok_or(TokenProblem::Missing)?;
    let claims = verify_current(em, token)?;
    let aud = claims["aud"].as_str().unwrap_or_default();
    if !audiences.iter().any(|a| a.eq_ignore_ascii_case(aud)) {
        return Err(TokenProblem::Audience(aud.to_string()));
    }
    let tid = claims["tid"].as_str().unwrap_or_default();
    if !tid.eq_ignore_ascii_case(&em.world().seed.tenant_id) {
        return Err(TokenProblem::Tenant(tid.to_string()));
    }
    Ok(claims)
}

fn utc(ts: i64) -> String {
    let t =
        time::OffsetDateTime::from_unix_timestamp(ts).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    // ARM prints times like `12/4/2026 8:00:00 PM`.
    let (h, m, s) = (t.hour(), t.minute(), t.second());
    let (h12, ampm) = match h {
        0 => (12, "AM"),
        1..=11 => (h, "AM"),
        12 => (12, "PM"),
        _ => (h - 12, "PM"),
    };
    format!(
        "{}/{}/{} {h12}:{m:02}:{s:02} {ampm}",
        u8::from(t.month()),
        t.day(),
        t.year()
    )
}

/// ARM's 401 for a token problem.
pub fn unauthorized(em: &Emulator, problem: &TokenProblem) -> Response {
    let (code, message) = match problem {
        TokenProblem::Missing => (
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.".to_string(),
        ),
        TokenProblem::Invalid(why) => (
            "InvalidAuthenticationToken",
            format!("The access token is invalid: {why}."),
        ),
        TokenProblem::Expired { exp, now } => (
            "ExpiredAuthenticationToken",
            format!(
                "The access token expiry UTC time '{}' is earlier than current UTC time '{}'.",
                utc(*exp),
                utc(*now)
            ),
        ),
        TokenProblem::NotYetValid => (
            "InvalidAuthenticationToken",
            "The access token is not yet valid.".to_string(),
        ),
        TokenProblem::Audience(aud) => (
            "InvalidAuthenticationTokenAudience",
            format!(
                "The access token has been obtained for wrong audience or resource '{aud}'. It should exactly match with one of the allowed audiences '{}'.",
                ARM_AUDIENCES.join("','")
            ),
        ),
        TokenProblem::Tenant(tid) => (
            "InvalidAuthenticationTokenTenant",
            format!(
                "The access token is from the wrong issuer '{tid}'. It must match the tenant associated with this subscription."
            ),
        ),
    };
    let tid = em.world().seed.tenant_id.clone();
    with_header(
        arm_error(StatusCode::UNAUTHORIZED, code, &message),
        "www-authenticate",
        &format!(
            "Bearer authorization_uri=\"https://login.microsoftonline.com/{tid}\", error=\"invalid_token\", error_description=\"{code}\""
        ),
    )
}

pub fn authenticate(em: &Emulator, req: &Req) -> Result<Caller, Response> {
    let claims = validate(em, req.bearer(), ARM_AUDIENCES).map_err(|p| unauthorized(em, &p))?;
    Ok(Caller {
        object_id: claims["oid"].as_str().unwrap_or_default().to_string(),
        app_id: claims["appid"]
            .as_str()
            .or_else(|| claims["azp"].as_str())
            .unwrap_or_default()
            .to_string(),
    })
}

/// The action name ARM reports in `AuthorizationFailed`, e.g.
/// `Microsoft.Web/sites/write`.
fn action_name(call: &Call<'_>) -> String {
    let ns = call
        .path
        .namespace
        .clone()
        .unwrap_or_else(|| "Microsoft.Resources".into());
    let mut types: Vec<String> = (0..call.path.rest.len() / 2)
        .map(|i| call.path.rest[2 * i].clone())
        .collect();
    if types.is_empty() {
        types.push(if call.path.resource_group.is_some() {
            "subscriptions/resourceGroups".into()
        } else {
            "subscriptions".into()
        });
    }
    let verb = match call.req.method.as_str() {
        "GET" | "HEAD" => "read".to_string(),
        "DELETE" => "delete".to_string(),
        "POST" => call.path.action().unwrap_or("action").to_string(),
        _ => "write".to_string(),
    };
    format!("{ns}/{}/{verb}", types.join("/"))
}

pub fn authorize(call: &Call<'_>) -> Result<(), Response> {
    // Tenant-level reads (`/providers/Microsoft.Web/…`) need only a valid token.
    let Some(sub) = &call.path.subscription else {
        return Ok(());
    };
    let target = if call.path.namespace.is_some() {
        call.path.resource_id()
    } else {
        call.path.raw.clone()
    };
    let target = if target.is_empty() {
        format!("/subscriptions/{sub}")
    } else {
        target
    };
    // POST actions that only read (listKeys, listSecrets, …) still need write-level roles in
    // Azure (they reveal secrets), so any POST counts as a write here.
    let write = call.is_write();
    if rbac::allowed(&call.em.world(), &call.caller.object_id, &target, write) {
        return Ok(());
    }
    Err(arm_error(
        StatusCode::FORBIDDEN,
        "AuthorizationFailed",
        &format!(
            "The client '{}' with object id '{}' does not have authorization to perform action '{}' over scope '{}' or the scope is invalid. If access was recently granted, please refresh your credentials.",
            call.caller.app_id,
            call.caller.object_id,
            action_name(call),
            target
        ),
    ))
}
