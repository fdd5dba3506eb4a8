//! Easy Auth (App Service authentication) in front of the function host, driven only by the
//! site's `config/authsettingsV2` (stored at `{site id}/config/authsettingsV2`, `arm/web/config.rs`).
//!
//! Rules, in order (sources: Microsoft docs "Configure your App Service or Azure Functions app to use
//! Microsoft Entra sign-in" (`configure-authentication-provider-aad`), sections *Use a built-in
//! authorization policy* and *Daemon client application (service-to-service calls)*; "Authentication
//! and authorization in Azure App Service" (`overview-authentication-authorization`), *Authentication
//! flow* / *Authorization behavior*; "Work with user identities" (`configure-authentication-user-
//! identities`) for the `X-MS-CLIENT-PRINCIPAL*` headers; the authsettingsV2 field facts of
//! arm-reference §7):
//! 1. `platform.enabled` not `true` → every request passes untouched.
//! 2. A path listed in `globalValidation.excludedPaths` (exact, case-insensitive) passes without
//!    identity.
//! 3. The bearer token is validated against `identityProviders.azureActiveDirectory` (a provider
//!    with `enabled: false` validates nothing): the emulator tenant's signature, `exp`/`nbf`
//!    (60 s skew is NOT allowed — strict), `iss` **exactly** equal to `registration.openIdIssuer`
//!    (a v1 token carries `https://sts.windows.net/{tid}/`, a v2 token
//!    `https://login.microsoftonline.com/{tid}/v2.0`; no trailing-slash normalisation), and `aud`
//!    in `validation.allowedAudiences` or equal to `registration.clientId`.
//!    **Undocumented, strict reading:** a v1 token against a v2 `openIdIssuer` (or the reverse) is
//!    rejected as an invalid token (arm-reference §7 marks the real behaviour UNVERIFIED).
//! 4. A missing or invalid token, when `globalValidation.requireAuthentication` is `true` →
//!    `unauthenticatedClientAction`: `Return401` → 401, `Return403` → 403, `AllowAnonymous` → pass
//!    without identity, `RedirectToLoginPage` (the default) → 302 to
//!    `/.auth/login/aad?post_login_redirect_uri={path}` (the login flow itself is not modelled).
//!    With `requireAuthentication` false or absent the request passes without identity.
//! 5. The built-in authorization policy (`validation.defaultAuthorizationPolicy`):
//!    `allowedApplications` against the token's `appid` (v1) / `azp` (v2), `allowedPrincipals.
//!    identities` against `oid`; both set → both must hold; failing → **403**. The
//!    `validation.jwtClaimChecks.allowedClientApplications` list is checked the same way.
//! 6. The request goes on with `X-MS-CLIENT-PRINCIPAL-ID` (oid), `X-MS-CLIENT-PRINCIPAL-NAME`,
//!    `X-MS-CLIENT-PRINCIPAL-IDP: aad` and `X-MS-CLIENT-PRINCIPAL` (base64 JSON `{auth_typ, claims:
//!    [{typ, val}], name_typ, role_typ}`), and keeps its `Authorization` header. Client-sent
//!    `X-MS-CLIENT-PRINCIPAL*` headers are removed first, as the module does.
//!
//! The 401/403 bodies: the docs give no body for these; the emulator answers App Service's
//! plain-text "You do not have permission to view this directory or page." (unconfirmed).
//! Not modelled: other identity providers, the login/logout/`/.auth/me` endpoints and token store,
//! `allowedPrincipals.groups`, `jwtClaimChecks.allowedGroups`, the app settings
//! `WEBSITE_AUTH_AAD_ALLOWED_TENANTS` / `WEBSITE_AUTH_AAD_REQUIRE_CLIENT_SERVICE_PRINCIPAL`,
//! `httpSettings.requireHttps` (the emulator is HTTPS only), file-based configuration.

use crate::arm::auth::TokenProblem;
use crate::http::{Req, empty, text, with_header};
use crate::server::Emulator;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use base64::Engine;
use serde_json::{Value, json};

const DENIED: &str = "You do not have permission to view this directory or page.";

/// Apply Easy Auth to a request for `site_id`: the request to pass on (with identity headers), or
/// Easy Auth's own answer.
pub fn authenticate(
    em: &Emulator,
    site_id: &str,
    _site: &Value,
    mut req: Req,
) -> Result<Req, Response> {
    let settings = crate::arm::store::get(&em.world(), &format!("{site_id}/config/authsettingsV2"))
        .map(|e| e["properties"].clone())
        .unwrap_or(Value::Null);
    if settings["platform"]["enabled"] != true {
        return Ok(req);
    }
    let spoofed: Vec<_> = req
        .headers
        .keys()
        .filter(|k| k.as_str().starts_with("x-ms-client-principal"))
        .cloned()
        .collect();
    for k in spoofed {
        req.headers.remove(k);
    }
    let global = &settings["globalValidation"];
    let excluded = global["excludedPaths"].as_array().is_some_and(|paths| {
        paths.iter().any(|p| {
            p.as_str()
                .is_some_and(|p| p.eq_ignore_ascii_case(&req.path))
        })
    });
    if excluded {
        return Ok(req);
    }
    let aad = &settings["identityProviders"]["azureActiveDirectory"];
    let claims = req.bearer().and_then(|t| validate(em, aad, t).ok());
    let Some(claims) = claims else {
        if global["requireAuthentication"] != true {
            return Ok(req);
        }
        return match global["unauthenticatedClientAction"]
            .as_str()
            .unwrap_or("RedirectToLoginPage")
        {
            "AllowAnonymous" => Ok(req),
            "Return401" => Err(text(StatusCode::UNAUTHORIZED, DENIED)),
            "Return403" => Err(text(StatusCode::FORBIDDEN, DENIED)),
            _ => {
                let target: String =
                    url::form_urlencoded::byte_serialize(req.path.as_bytes()).collect();
                Err(with_header(
                    empty(StatusCode::FOUND),
                    "location",
                    &format!("/.auth/login/aad?post_login_redirect_uri={target}"),
                ))
            }
        };
    };
    if !authorized(&aad["validation"], &claims) {
        return Err(text(StatusCode::FORBIDDEN, DENIED));
    }
    add_identity(&mut req, &claims);
    Ok(req)
}

/// Validate a bearer token against the Entra provider's settings; the reason on failure.
pub fn validate(em: &Emulator, aad: &Value, token: &str) -> Result<Value, String> {
    if aad.is_null() || aad["enabled"] == false {
        return Err("no Microsoft Entra provider is enabled".into());
    }
    let claims = crate::arm::auth::verify_current(em, token).map_err(|p| match p {
        TokenProblem::Invalid(why) => why,
        TokenProblem::Expired { .. } => "the token has expired".into(),
        TokenProblem::NotYetValid => "the token is not valid yet".into(),
        other => format!("{other:?}"),
    })?;
    let registration = &aad["registration"];
    let issuer = registration["openIdIssuer"].as_str().unwrap_or_default();
    if claims["iss"].as_str() != Some(issuer) {
        return Err(format!(
            "issuer {} does not match the configured {issuer}",
            claims["iss"]
        ));
    }
    let aud = claims["aud"].as_str().unwrap_or_default();
    let allowed = aad["validation"]["allowedAudiences"]
        .as_array()
        .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(aud)))
        || registration["clientId"].as_str() == Some(aud);
    if aud.is_empty() || !allowed {
        return Err(format!("audience {aud} is not allowed"));
    }
    Ok(claims)
}

/// The built-in authorization policy and the client-application claim check.
fn authorized(validation: &Value, claims: &Value) -> bool {
    let client = claims["appid"].as_str().or_else(|| claims["azp"].as_str());
    let in_list = |list: &Value, v: Option<&str>| match list.as_array() {
        Some(a) if !a.is_empty() => v.is_some_and(|v| {
            a.iter()
                .any(|x| x.as_str().is_some_and(|x| x.eq_ignore_ascii_case(v)))
        }),
        _ => true,
    };
    let policy = &validation["defaultAuthorizationPolicy"];
    in_list(&policy["allowedApplications"], client)
        && in_list(
            &policy["allowedPrincipals"]["identities"],
            claims["oid"].as_str(),
        )
        && in_list(
            &validation["jwtClaimChecks"]["allowedClientApplications"],
            client,
        )
}

fn add_identity(req: &mut Req, claims: &Value) {
    let oid = claims["oid"].as_str().unwrap_or_default();
    let name = claims["upn"]
        .as_str()
        .or_else(|| claims["preferred_username"].as_str())
        .or_else(|| claims["appid"].as_str())
        .or_else(|| claims["azp"].as_str())
        .unwrap_or(oid);
    let list: Vec<Value> = claims
        .as_object()
        .map(|o| {
            o.iter()
                .flat_map(|(k, v)| match v {
                    Value::Array(items) => items
                        .iter()
                        .map(|i| json!({"typ": k, "val": scalar(i)}))
                        .collect::<Vec<_>>(),
                    _ => vec![json!({"typ": k, "val": scalar(v)})],
                })
                .collect()
        })
        .unwrap_or_default();
    let principal = json!({
        "auth_typ": "aad",
        "claims": list,
        "name_typ": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
        "role_typ": "http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
    });
    let encoded = base64::engine::general_purpose::STANDARD.encode(principal.to_string());
    for (k, v) in [
        ("x-ms-client-principal-id", oid.to_string()),
        ("x-ms-client-principal-name", name.to_string()),
        ("x-ms-client-principal-idp", "aad".to_string()),
        ("x-ms-client-principal", encoded),
    ] {
        if let Ok(v) = HeaderValue::from_str(&v) {
            req.headers.insert(k, v);
        }
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
