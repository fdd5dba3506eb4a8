//! Entra ID at `login.microsoftonline.com`: OpenID discovery (v1 and v2), the JWKS, and the token
//! endpoints (`oauth2/v2.0/token` with `scope`, `oauth2/token` with `resource`) for the
//! client-credentials grant with a client secret or a client assertion; plus [`issue_token`], which
//! the emulated services call for managed-identity flows.
//!
//! Sources:
//! - token version follows the *resource* (`api.requestedAccessTokenVersion`, null = v1), v1
//!   `iss https://sts.windows.net/{tid}/` with `aud` = the resource as requested, v2
//!   `iss https://login.microsoftonline.com/{tid}/v2.0` with `aud` = appId: arm-reference §7
//!   ("Issuer and token version", citing AzureAD/microsoft-identity-web#1290) and the Microsoft
//!   identity platform access-token claims reference (`appid`/`azp`, `idtyp`, `oid`, `sub`, `roles`);
//! - error bodies `{"error","error_description","error_codes","timestamp","trace_id",
//!   "correlation_id","error_uri"}` and the AADSTS texts: real responses quoted in
//!   rootinc/laravel-azure-middleware#51 (500011), OfficeDev/microsoft-365-agents-toolkit#8621 and
//!   Azure/sap-automation#418 (7000215, 401 `invalid_client`), the AADSTS700016 reports
//!   (`unauthorized_client`), MicrosoftDocs/azure-docs#25959 (7000218), AzureAD/msal-dotnet#4951
//!   (700024), AzureAD/passport-azure-ad#453 (700027);
//! - discovery documents: field names of the real v2 document as logged by azure-cli
//!   (Azure/azure-cli#32943) and the OpenID Connect Discovery spec;
//! - the v1 endpoint answers numbers as strings and adds `expires_on`, `not_before`, `resource`
//!   (ADAL-era contract, documented in "v1.0 token endpoint" docs).
//!
//! Not modelled: authorization-code, device-code and refresh-token grants; certificates registered
//! on apps (any assertion signed by the emulator's own key is accepted, as if a certificate or a
//! federated credential matched); federated identity credential records; admin consent (app
//! roles are granted in the `directory.appRoleAssignments` table); the replication delay of new
//! app registrations as token audiences.

use crate::clock::Clock;
use crate::directory;
use crate::http::{Req, json_response, text};
use crate::server::Emulator;
use crate::world::World;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// The world table holding emulator settings (`PUT /.emulator/settings`).
pub const SETTINGS: &str = "emulator.settings";
/// Default access-token lifetime (Entra's default for app tokens is 60–90 minutes; one hour here).
pub const DEFAULT_TOKEN_LIFETIME_SECONDS: u64 = 3600;
/// Graph's first-party appId.
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// First-party resources every tenant has: (identifier URIs, appId).
const FIRST_PARTY: &[(&[&str], &str)] = &[
    (
        &[
            "https://management.azure.com/",
            "https://management.azure.com",
            "https://management.core.windows.net/",
            "https://management.core.windows.net",
        ],
        "797f4846-ba00-4fd7-ba43-dac1f8f63013",
    ),
    (
        &[
            "https://graph.microsoft.com",
            "https://graph.microsoft.com/",
        ],
        GRAPH_APP_ID,
    ),
    (
        &[
            "https://appservice.azure.com",
            "https://appservice.azure.com/",
        ],
        "abfa0a7c-a6b6-4736-8310-5855508787cd",
    ),
    (
        &["https://storage.azure.com/", "https://storage.azure.com"],
        "e406a681-f3d4-42a8-90b6-c2b029497af1",
    ),
];

/// An Entra error, answered as the token endpoint's OAuth error JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct EntraError {
    pub status: StatusCode,
    /// OAuth `error`, e.g. `invalid_client`.
    pub error: &'static str,
    /// The AADSTS number.
    pub code: u32,
    /// The text after `AADSTS{code}: `.
    pub message: String,
}

impl std::fmt::Display for EntraError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: AADSTS{}: {}", self.error, self.code, self.message)
    }
}

impl std::error::Error for EntraError {}

impl EntraError {
    fn new(status: StatusCode, error: &'static str, code: u32, message: String) -> Self {
        Self {
            status,
            error,
            code,
            message,
        }
    }

    /// The body Entra answers.
    pub fn body(&self, now_ms: u64) -> Value {
        let trace = uuid::Uuid::new_v4().to_string();
        let correlation = uuid::Uuid::new_v4().to_string();
        let ts = entra_timestamp(now_ms);
        json!({
            "error": self.error,
            "error_description": format!(
                "AADSTS{}: {}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {ts}",
                self.code, self.message
            ),
            "error_codes": [self.code],
            "timestamp": ts,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": format!("https://login.microsoftonline.com/error?code={}", self.code),
        })
    }

    pub fn response(&self, now_ms: u64) -> Response {
        json_response(self.status, &self.body(now_ms))
    }
}

/// `2021-06-01 09:55:53Z`, as Entra writes `timestamp`.
fn entra_timestamp(ms: u64) -> String {
    let t = Clock::rfc3339(ms);
    // 2021-06-01T09:55:53.123Z → 2021-06-01 09:55:53Z
    let base: String = t.chars().take(19).collect();
    format!("{}Z", base.replace('T', " "))
}

fn resource_not_found(resource: &str, tid: &str) -> EntraError {
    EntraError::new(
        StatusCode::BAD_REQUEST,
        "invalid_resource",
        500011,
        format!(
            "The resource principal named {resource} was not found in the tenant named {tid}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant."
        ),
    )
}

fn client_not_found(client_id: &str, tid: &str) -> EntraError {
    EntraError::new(
        StatusCode::BAD_REQUEST,
        "unauthorized_client",
        700016,
        format!(
            "Application with identifier '{client_id}' was not found in the directory '{tid}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
        ),
    )
}

fn invalid_client(code: u32, message: String) -> EntraError {
    EntraError::new(StatusCode::UNAUTHORIZED, "invalid_client", code, message)
}

fn invalid_request(code: u32, message: String) -> EntraError {
    EntraError::new(StatusCode::BAD_REQUEST, "invalid_request", code, message)
}

/// The access-token lifetime in real seconds (not time-scaled: clients compare it with wall time).
pub fn token_lifetime(world: &World) -> u64 {
    world
        .data
        .get(SETTINGS)
        .and_then(|s| s.get("tokenLifetimeSeconds"))
        .and_then(Value::as_u64)
        .unwrap_or(DEFAULT_TOKEN_LIFETIME_SECONDS)
}

/// `PUT /.emulator/settings`: merge known settings; `Err` names the bad one.
pub fn put_settings(world: &mut World, body: &Value) -> Result<Value, String> {
    let obj = body.as_object().ok_or("the body must be a JSON object")?;
    for (k, v) in obj {
        match k.as_str() {
            "tokenLifetimeSeconds" => {
                if v.as_u64().is_none_or(|n| n == 0) {
                    return Err(format!(
                        "tokenLifetimeSeconds must be a positive integer, got {v}"
                    ));
                }
            }
            other => return Err(format!("unknown setting '{other}'")),
        }
    }
    let table = world.table(SETTINGS);
    for (k, v) in obj {
        table.insert(k.clone(), v.clone());
    }
    Ok(settings(world))
}

/// The current settings, defaults filled in.
pub fn settings(world: &World) -> Value {
    json!({"tokenLifetimeSeconds": token_lifetime(world)})
}

/// What a token is issued for.
#[derive(Debug, Clone)]
struct Resource {
    /// `aud` of a v1 token: the resource string as requested.
    requested: String,
    app_id: String,
    version: u8,
}

/// Find the resource principal: a first-party service, or an app registration (by an identifier
/// URI or its appId) that has a service principal in the tenant.
fn resolve_resource(world: &World, resource: &str) -> Result<Resource, EntraError> {
    let tid = world.seed.tenant_id.clone();
    let requested = resource.to_string();
    if resource.is_empty() {
        return Err(resource_not_found(resource, &tid));
    }
    for (uris, app_id) in FIRST_PARTY {
        if uris.iter().any(|u| u.eq_ignore_ascii_case(resource))
            || app_id.eq_ignore_ascii_case(resource)
        {
            return Ok(Resource {
                requested,
                app_id: app_id.to_string(),
                version: 1,
            });
        }
    }
    let app = world.data.get(directory::APPLICATIONS).and_then(|apps| {
        apps.values()
            .find(|a| {
                a["appId"]
                    .as_str()
                    .is_some_and(|id| id.eq_ignore_ascii_case(resource))
                    || a["identifierUris"].as_array().is_some_and(|uris| {
                        uris.iter()
                            .filter_map(Value::as_str)
                            .any(|u| u.eq_ignore_ascii_case(resource))
                    })
            })
            .cloned()
    });
    let app = app.ok_or_else(|| resource_not_found(resource, &tid))?;
    let app_id = app["appId"].as_str().unwrap_or_default().to_string();
    // Tokens are issued for a resource *principal*: the app needs a service principal here.
    if directory::sp_by_app_id(world, &app_id).is_none() {
        return Err(resource_not_found(resource, &tid));
    }
    let version = if app["api"]["requestedAccessTokenVersion"].as_u64() == Some(2) {
        2
    } else {
        1
    };
    Ok(Resource {
        requested,
        app_id,
        version,
    })
}

/// App roles the principal holds on the resource app (`directory.appRoleAssignments`).
fn roles(world: &World, principal_id: &str, resource_app_id: &str) -> Vec<String> {
    let mut out: Vec<String> = world
        .data
        .get(directory::APP_ROLE_ASSIGNMENTS)
        .map(|t| {
            t.values()
                .filter(|a| {
                    a["principalId"]
                        .as_str()
                        .is_some_and(|p| p.eq_ignore_ascii_case(principal_id))
                        && a["resourceAppId"]
                            .as_str()
                            .is_some_and(|r| r.eq_ignore_ascii_case(resource_app_id))
                })
                .filter_map(|a| a["appRoleValue"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out.dedup();
    out
}

/// Sign an app-only access token for this service principal and resource.
fn mint(em: &Emulator, world: &World, sp: &Value, resource: &Resource, acr: &str) -> (String, u64) {
    let tid = world.seed.tenant_id.clone();
    let now = em.clock.now_ms() / 1000;
    let lifetime = token_lifetime(world);
    let oid = sp["id"].as_str().unwrap_or_default();
    let app_id = sp["appId"].as_str().unwrap_or_default();
    let mut claims = Map::new();
    let v1_iss = format!("https://sts.windows.net/{tid}/");
    if resource.version == 2 {
        claims.insert("aud".into(), json!(resource.app_id));
        claims.insert(
            "iss".into(),
            json!(format!("https://login.microsoftonline.com/{tid}/v2.0")),
        );
    } else {
        claims.insert("aud".into(), json!(resource.requested));
        claims.insert("iss".into(), json!(v1_iss));
    }
    claims.insert("iat".into(), json!(now));
    claims.insert("nbf".into(), json!(now));
    claims.insert("exp".into(), json!(now + lifetime));
    if resource.version == 2 {
        claims.insert("azp".into(), json!(app_id));
        claims.insert("azpacr".into(), json!(acr));
    } else {
        claims.insert("appid".into(), json!(app_id));
        claims.insert("appidacr".into(), json!(acr));
        claims.insert("idp".into(), json!(v1_iss));
    }
    claims.insert("idtyp".into(), json!("app"));
    claims.insert("oid".into(), json!(oid));
    let roles = roles(world, oid, &resource.app_id);
    if !roles.is_empty() {
        claims.insert("roles".into(), json!(roles));
    }
    claims.insert("sub".into(), json!(oid));
    claims.insert("tid".into(), json!(tid));
    claims.insert(
        "uti".into(),
        json!(uuid::Uuid::new_v4().simple().to_string()),
    );
    claims.insert(
        "ver".into(),
        json!(if resource.version == 2 { "2.0" } else { "1.0" }),
    );
    if sp["servicePrincipalType"] == "ManagedIdentity"
        && let Some(rid) = sp["alternativeNames"].as_array().and_then(|n| {
            n.iter()
                .filter_map(Value::as_str)
                .find(|s| s.starts_with('/'))
        })
    {
        claims.insert("xms_mirid".into(), json!(rid));
    }
    (em.signer.sign(&Value::Object(claims)), lifetime)
}

/// Issue an access token for a service principal (by object id) and a resource — the
/// managed-identity flow other emulated services (the APIM gateway, the function host) use.
/// `resource` is a v1 resource string (`api://…`, `https://management.azure.com/`), with or
/// without `/.default`.
pub fn issue_token(
    em: &Emulator,
    principal_object_id: &str,
    resource: &str,
) -> Result<String, EntraError> {
    let world = em.world();
    let tid = world.seed.tenant_id.clone();
    let sp = directory::sp_by_object_id(&world, principal_object_id)
        .ok_or_else(|| client_not_found(principal_object_id, &tid))?;
    let resource = resolve_resource(&world, strip_default(resource))?;
    Ok(mint(em, &world, &sp, &resource, "2").0)
}

fn strip_default(scope: &str) -> &str {
    scope.strip_suffix("/.default").unwrap_or(scope)
}

/// Which tenant a path segment names, if it is this one.
fn tenant_ok(world: &World, segment: &str) -> bool {
    segment.eq_ignore_ascii_case(&world.seed.tenant_id)
        || segment.eq_ignore_ascii_case("organizations")
        || segment.eq_ignore_ascii_case("common")
}

fn tenant_not_found(segment: &str) -> EntraError {
    invalid_request(
        90002,
        format!(
            "Tenant '{segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
        ),
    )
}

pub async fn handle(em: &Arc<Emulator>, req: Req) -> Response {
    let parts: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    let Some((tenant, rest)) = parts.split_first() else {
        return text(StatusCode::NOT_FOUND, "not found");
    };
    let rest = rest.join("/");
    let now_ms = em.clock.now_ms();
    let (known, tid) = {
        let w = em.world();
        (tenant_ok(&w, tenant), w.seed.tenant_id.clone())
    };
    if !known {
        return tenant_not_found(tenant).response(now_ms);
    }
    // Discovery documents for `common`/`organizations` carry the `{tenantid}` placeholder.
    let doc_tid = if tenant.eq_ignore_ascii_case(&tid) {
        tid.clone()
    } else {
        "{tenantid}".to_string()
    };
    match (&req.method, rest.as_str()) {
        (&Method::GET, "v2.0/.well-known/openid-configuration") => {
            json_response(StatusCode::OK, &openid_v2(tenant, &doc_tid))
        }
        (&Method::GET, ".well-known/openid-configuration") => {
            json_response(StatusCode::OK, &openid_v1(tenant, &doc_tid))
        }
        (&Method::GET, "discovery/v2.0/keys") | (&Method::GET, "discovery/keys") => {
            let mut jwk = em.signer.jwk();
            if let Some(o) = jwk.as_object_mut() {
                o.insert(
                    "issuer".into(),
                    json!(format!("https://login.microsoftonline.com/{doc_tid}/v2.0")),
                );
            }
            json_response(StatusCode::OK, &json!({"keys": [jwk]}))
        }
        (&Method::POST, "oauth2/v2.0/token") => token(em, &req, true),
        (&Method::POST, "oauth2/token") => token(em, &req, false),
        _ => text(
            StatusCode::NOT_FOUND,
            format!("the emulator does not serve {} {}", req.method, req.path),
        ),
    }
}

fn openid_v2(tenant: &str, tid: &str) -> Value {
    let base = format!("https://login.microsoftonline.com/{tenant}");
    json!({
        "token_endpoint": format!("{base}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("https://login.microsoftonline.com/{tid}/v2.0"),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{base}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
            "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr",
            "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "kerberos_endpoint": format!("{base}/kerberos"),
        "tenant_region_scope": "WW",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    })
}

fn openid_v1(tenant: &str, tid: &str) -> Value {
    let base = format!("https://login.microsoftonline.com/{tenant}");
    json!({
        "token_endpoint": format!("{base}/oauth2/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/discovery/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
        "scopes_supported": ["openid"],
        "issuer": format!("https://sts.windows.net/{tid}/"),
        "microsoft_multi_refresh_token": true,
        "authorization_endpoint": format!("{base}/oauth2/authorize"),
        "device_authorization_endpoint": format!("{base}/oauth2/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/oauth2/logout"),
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
            "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr",
            "amr", "nonce", "email", "given_name", "family_name", "nickname"],
        "check_session_iframe": format!("{base}/oauth2/checksession"),
        "userinfo_endpoint": format!("{base}/openid/userinfo"),
        "kerberos_endpoint": format!("{base}/kerberos"),
        "tenant_region_scope": "WW",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    })
}

/// `POST …/oauth2/v2.0/token` (`v2`) or `…/oauth2/token`.
fn token(em: &Arc<Emulator>, req: &Req, v2: bool) -> Response {
    let now_ms = em.clock.now_ms();
    match token_inner(em, req, v2) {
        Ok(body) => json_response(StatusCode::OK, &body),
        Err(e) => e.response(now_ms),
    }
}

fn token_inner(em: &Emulator, req: &Req, v2: bool) -> Result<Value, EntraError> {
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&req.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let world = em.world();
    let tid = world.seed.tenant_id.clone();

    let grant = field("grant_type").ok_or_else(|| {
        invalid_request(
            900144,
            "The request body must contain the following parameter: 'grant_type'.".into(),
        )
    })?;
    if grant != "client_credentials" {
        return Err(EntraError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{grant}'."),
        ));
    }
    // Basic auth carries the client id and secret too (client_secret_basic).
    let basic = basic_credentials(req);
    let client_id = field("client_id")
        .map(str::to_string)
        .or_else(|| basic.as_ref().map(|b| b.0.clone()))
        .ok_or_else(|| {
            invalid_request(
                900144,
                "The request body must contain the following parameter: 'client_id'.".into(),
            )
        })?;

    // The resource: v2 takes `scope` = `{resource}/.default`; v1 takes `resource`.
    let resource = if v2 {
        let scope = field("scope").ok_or_else(|| {
            invalid_request(
                900144,
                "The request body must contain the following parameter: 'scope'.".into(),
            )
        })?;
        let scopes: Vec<&str> = scope.split_whitespace().collect();
        match scopes.as_slice() {
            [one] if one.ends_with("/.default") => strip_default(one).to_string(),
            _ => {
                return Err(EntraError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_scope",
                    1002012,
                    format!(
                        "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
                    ),
                ));
            }
        }
    } else {
        field("resource")
            .ok_or_else(|| {
                invalid_request(
                    900144,
                    "The request body must contain the following parameter: 'resource'.".into(),
                )
            })?
            .to_string()
    };

    let sp = directory::sp_by_app_id(&world, &client_id)
        .filter(|sp| sp["servicePrincipalType"] != "ManagedIdentity")
        .ok_or_else(|| client_not_found(&client_id, &tid))?;

    let secret = field("client_secret")
        .map(str::to_string)
        .or_else(|| basic.map(|b| b.1));
    let acr = if let Some(secret) = secret {
        let expected = world
            .data
            .get(directory::SECRETS)
            .and_then(|t| {
                t.get(&client_id)
                    .or_else(|| t.get(&client_id.to_ascii_lowercase()))
            })
            .and_then(Value::as_str);
        if expected != Some(secret.as_str()) {
            return Err(invalid_client(
                7000215,
                format!(
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
                ),
            ));
        }
        "1"
    } else if let Some(assertion) = field("client_assertion") {
        if field("client_assertion_type") != Some(CLIENT_ASSERTION_TYPE) {
            return Err(invalid_request(
                900144,
                format!(
                    "The request body must contain the following parameter: 'client_assertion_type' with the value '{CLIENT_ASSERTION_TYPE}'."
                ),
            ));
        }
        check_assertion(em, assertion, &client_id, &tid, v2)?;
        "2"
    } else {
        return Err(invalid_client(
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.".into(),
        ));
    };

    let resource = resolve_resource(&world, &resource)?;
    let (token, lifetime) = mint(em, &world, &sp, &resource, acr);
    let now = em.clock.now_ms() / 1000;
    Ok(if v2 {
        json!({
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": token,
        })
    } else {
        json!({
            "token_type": "Bearer",
            "expires_in": lifetime.to_string(),
            "ext_expires_in": lifetime.to_string(),
            "expires_on": (now + lifetime).to_string(),
            "not_before": now.to_string(),
            "resource": resource.requested,
            "access_token": token,
        })
    })
}

fn basic_credentials(req: &Req) -> Option<(String, String)> {
    use base64::Engine;
    let v = req.header("authorization")?;
    let (scheme, b64) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (id, secret) = text.split_once(':')?;
    let dec = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((dec(id), dec(secret)))
}

/// A client assertion must be an RS256 JWT signed by the emulator's key (standing in for a
/// registered certificate or a federated identity provider), within its time range, for an
/// audience Entra accepts: the token endpoint (certificate credentials) or
/// `api://AzureADTokenExchange` (workload identity federation).
fn check_assertion(
    em: &Emulator,
    assertion: &str,
    client_id: &str,
    tid: &str,
    v2: bool,
) -> Result<(), EntraError> {
    let claims = em.signer.verify(assertion).map_err(|why| {
        invalid_client(
            700027,
            format!("Client assertion failed signature validation. [Reason - {why}.]"),
        )
    })?;
    let now = (em.clock.now_ms() / 1000) as i64;
    let exp = claims["exp"].as_i64().unwrap_or(0);
    let nbf = claims["nbf"].as_i64().unwrap_or(0);
    if exp <= now || nbf > now + 300 {
        let iso = |s: i64| Clock::rfc3339((s.max(0) as u64) * 1000);
        return Err(invalid_client(
            700024,
            format!(
                "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
                iso(now),
                iso(nbf),
                iso(exp)
            ),
        ));
    }
    let endpoint = if v2 {
        "oauth2/v2.0/token"
    } else {
        "oauth2/token"
    };
    let accepted = [
        "api://AzureADTokenExchange".to_string(),
        format!("https://login.microsoftonline.com/{tid}/{endpoint}"),
        format!("https://login.microsoftonline.com/{tid}/oauth2/v2.0/token"),
        format!("https://login.microsoftonline.com/{tid}/oauth2/token"),
        format!("https://login.microsoftonline.com/{tid}/v2.0"),
    ];
    let aud_ok = match &claims["aud"] {
        Value::String(a) => accepted.iter().any(|x| x.eq_ignore_ascii_case(a)),
        Value::Array(list) => list
            .iter()
            .filter_map(Value::as_str)
            .any(|a| accepted.iter().any(|x| x.eq_ignore_ascii_case(a))),
        _ => false,
    };
    if !aud_ok {
        return Err(invalid_client(
            700212,
            format!(
                "No matching federated identity record found for presented assertion audience '{}'.",
                claims["aud"].as_str().unwrap_or_default()
            ),
        ));
    }
    // A certificate-style assertion names the client itself as issuer and subject.
    if claims["aud"] != "api://AzureADTokenExchange"
        && claims["sub"]
            .as_str()
            .is_some_and(|s| !s.eq_ignore_ascii_case(client_id))
    {
        return Err(invalid_client(
            700021,
            "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .".to_string(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_look_like_entras() {
        assert_eq!(entra_timestamp(0), "1970-01-01 00:00:00Z");
    }

    #[test]
    fn settings_reject_unknown_and_bad_values() {
        let mut w = World::new();
        assert_eq!(token_lifetime(&w), 3600);
        assert!(put_settings(&mut w, &json!({"tokenLifetimeSeconds": 0})).is_err());
        assert!(put_settings(&mut w, &json!({"nope": 1})).is_err());
        let s = put_settings(&mut w, &json!({"tokenLifetimeSeconds": 2})).expect("ok");
        assert_eq!(s["tokenLifetimeSeconds"], 2);
        assert_eq!(token_lifetime(&w), 2);
    }
}
