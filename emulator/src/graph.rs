//! Microsoft Graph at `graph.microsoft.com/v1.0`: `applications` and `servicePrincipals`, the
//! part of the directory apimfn manages, with Graph's authentication, permissions, error shape,
//! `identifierUris` rule and replication delay.
//!
//! Sources:
//! - the three-step registration (POST application → 201 with `id`/`appId`; PATCH
//!   `identifierUris` → 204; POST servicePrincipal `{"appId"}` → 201) and "Graph writes are
//!   eventually consistent, retry 404s": arm-reference §7 (citing learn.microsoft.com
//!   graph/tutorial-applications-basics);
//! - error shape `{"error":{"code","message","innerError":{"date","request-id",
//!   "client-request-id"}}}` and `Request_ResourceNotFound` text: DanielChronlund/DCToolbox#6;
//!   `InvalidAuthenticationToken` texts ("Access token has expired or is not yet valid.",
//!   "Access token validation failure. Invalid audience.") and the `WWW-Authenticate` header:
//!   besscroft/diyfile#1, microsoftgraph/microsoft-graph-docs#16208, microsofthackathons/tdi#24;
//!   `Authorization_RequestDenied` "Insufficient privileges to complete the operation.":
//!   microsoftgraph/python-sample-auth#12;
//! - `HostNameNotOnVerifiedDomain` ("Values of identifierUris property must use a verified domain
//!   of the organization or its subdomain: '…'"): microsoftgraph/microsoft-graph-docs-contrib#9317,
//!   Azure/Industrial-IoT#1432; the accepted `api://` forms: Entra breaking-change notice "AppId
//!   URI in single tenant applications will require use of default scheme or verified domains"
//!   (cited in 18F/piipan#2289);
//! - service principal conflicts: 409 `Request_MultipleObjectsWithSameKeyValue` "The service
//!   principal cannot be created, updated, or restored because the service principal name {appId}
//!   is already in use." (Azure/reliable-web-app-pattern-java#185); "The appId … of the service
//!   principal does not reference a valid application object." with `NoBackingApplicationObject`
//!   (kubernetes-anywhere#248, msgraph-sdk-powershell#846).
//!
//! Not modelled: other Graph entities, `$select`/`$top`/`$orderby`/`$count` (ignored), paging,
//! `addPassword`, owners, soft delete into `directory/deletedItems` (DELETE removes for good; the
//! application's service principal goes with it), delegated (user) tokens.

use crate::arm::auth::{TokenProblem, validate};
use crate::clock::Clock;
use crate::directory::{self, APPLICATIONS, SERVICE_PRINCIPALS};
use crate::http::{Req, empty, json_response, with_header};
use crate::server::Emulator;
use crate::world::World;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::Duration;

/// How long a new directory object takes to replicate (real time; scaled by the time scale).
pub const REPLICATION: Duration = Duration::from_secs(5);
/// Audiences Graph accepts.
pub const GRAPH_AUDIENCES: &[&str] = &[
    "https://graph.microsoft.com",
    "https://graph.microsoft.com/",
    crate::entra::GRAPH_APP_ID,
];
const READ_ROLES: &[&str] = &[
    "Application.Read.All",
    "Application.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
const WRITE_ROLES: &[&str] = &["Application.ReadWrite.All", "Directory.ReadWrite.All"];
/// Fields kept in the tables that Graph does not show.
const INTERNAL: &[&str] = &["createdMs"];
const BASE: &str = "https://graph.microsoft.com/v1.0";

/// Per-request context: ids echoed in headers and error bodies.
struct Ctx<'a> {
    em: &'a Arc<Emulator>,
    request_id: String,
    client_request_id: String,
}

impl Ctx<'_> {
    fn now_ms(&self) -> u64 {
        self.em.clock.now_ms()
    }

    fn finish(&self, resp: Response) -> Response {
        let resp = with_header(resp, "request-id", &self.request_id);
        let resp = with_header(resp, "client-request-id", &self.client_request_id);
        with_header(resp, "odata-version", "4.0")
    }

    fn error(&self, status: StatusCode, code: &str, message: &str) -> Response {
        self.error_with(status, code, message, None)
    }

    fn error_with(
        &self,
        status: StatusCode,
        code: &str,
        message: &str,
        details: Option<Value>,
    ) -> Response {
        let date: String = Clock::rfc3339(self.now_ms()).chars().take(19).collect();
        let mut err = json!({
            "code": code,
            "message": message,
            "innerError": {
                "date": date,
                "request-id": self.request_id,
                "client-request-id": self.client_request_id,
            }
        });
        if let Some(d) = details {
            err["details"] = d;
        }
        json_response(status, &json!({"error": err}))
    }

    fn not_found(&self, id: &str) -> Response {
        self.error(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            &format!(
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
            ),
        )
    }

    fn bad_property(&self, prop: &str, resource: &str) -> Response {
        self.error(
            StatusCode::BAD_REQUEST,
            "Request_BadRequest",
            &format!("Invalid value specified for property '{prop}' of resource '{resource}'."),
        )
    }
}

pub async fn handle(em: &Arc<Emulator>, req: Req) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let ctx = Ctx {
        em,
        client_request_id: req
            .header("client-request-id")
            .map(str::to_string)
            .unwrap_or_else(|| request_id.clone()),
        request_id,
    };
    let resp = route(&ctx, &req);
    ctx.finish(resp)
}

fn route(ctx: &Ctx<'_>, req: &Req) -> Response {
    let path = req.path.trim_end_matches('/');
    let Some(rest) = path.strip_prefix("/v1.0/") else {
        return ctx.error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Invalid version. The emulator serves Microsoft Graph v1.0 only.",
        );
    };
    let claims = match validate(ctx.em, req.bearer(), GRAPH_AUDIENCES) {
        Ok(c) => c,
        Err(p) => return unauthorized(ctx, &p),
    };
    let roles: Vec<&str> = claims["roles"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let needed = if req.method == Method::GET {
        READ_ROLES
    } else {
        WRITE_ROLES
    };
    if !roles.iter().any(|r| needed.contains(r)) {
        return ctx.error(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        );
    }

    let (collection, key) = split_segment(rest);
    let kind = match collection.as_str() {
        "applications" => Kind::App,
        "servicePrincipals" | "serviceprincipals" => Kind::Sp,
        other => {
            return ctx.error(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                &format!("Resource not found for the segment '{other}'."),
            );
        }
    };
    match (key, &req.method) {
        (None, &Method::GET) => list(ctx, req, kind),
        (None, &Method::POST) => match kind {
            Kind::App => create_app(ctx, req),
            Kind::Sp => create_sp(ctx, req),
        },
        (Some(key), m) if m == Method::GET || m == Method::PATCH || m == Method::DELETE => {
            // Until it has replicated, a new object is not found.
            let (now, scale) = (ctx.now_ms(), ctx.em.clock.time_scale);
            let found = {
                let world = ctx.em.world();
                find(&world, kind, &key).filter(|(_, o)| replicated(now, o, scale))
            };
            let Some((id, obj)) = found else {
                return ctx.not_found(key.display());
            };
            match *m {
                Method::GET => {
                    let mut v = public(&obj);
                    v.insert(
                        "@odata.context".into(),
                        json!(format!("{BASE}/$metadata#{}/$entity", kind.collection())),
                    );
                    json_response(StatusCode::OK, &Value::Object(v))
                }
                Method::PATCH => match kind {
                    Kind::App => patch_app(ctx, req, &id, obj),
                    Kind::Sp => patch_sp(ctx, req, &id, obj),
                },
                _ => delete(ctx, kind, &id, &obj),
            }
        }
        _ => ctx.error(
            StatusCode::METHOD_NOT_ALLOWED,
            "Request_BadRequest",
            &format!(
                "The HTTP method '{}' is not allowed for the requested resource.",
                req.method
            ),
        ),
    }
}

fn unauthorized(ctx: &Ctx<'_>, problem: &TokenProblem) -> Response {
    let message = match problem {
        TokenProblem::Missing => "Access token is empty.".to_string(),
        TokenProblem::Invalid(_) => "Access token validation failure.".to_string(),
        TokenProblem::Expired { .. } | TokenProblem::NotYetValid => {
            "Access token has expired or is not yet valid.".to_string()
        }
        TokenProblem::Audience(_) => {
            "Access token validation failure. Invalid audience.".to_string()
        }
        TokenProblem::Tenant(_) => "Access token validation failure. Invalid issuer.".to_string(),
    };
    with_header(
        ctx.error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            &message,
        ),
        "www-authenticate",
        "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"",
    )
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    App,
    Sp,
}

impl Kind {
    fn table(self) -> &'static str {
        match self {
            Kind::App => APPLICATIONS,
            Kind::Sp => SERVICE_PRINCIPALS,
        }
    }

    fn collection(self) -> &'static str {
        match self {
            Kind::App => "applications",
            Kind::Sp => "servicePrincipals",
        }
    }

    fn resource(self) -> &'static str {
        match self {
            Kind::App => "Application",
            Kind::Sp => "ServicePrincipal",
        }
    }
}

/// How an object is addressed: `/{id}` or `(appId='{appId}')`.
#[derive(Debug, Clone)]
enum Key {
    Id(String),
    AppId(String),
}

impl Key {
    fn display(&self) -> &str {
        match self {
            Key::Id(s) | Key::AppId(s) => s,
        }
    }
}

/// `applications/{id}`, `applications(appId='x')`, `applications` → (collection, key).
fn split_segment(rest: &str) -> (String, Option<Key>) {
    let (first, second) = match rest.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (rest, None),
    };
    if let Some((coll, inner)) = first.split_once('(') {
        let inner = inner.trim_end_matches(')');
        let value = inner
            .split_once('=')
            .map(|(_, v)| v.trim_matches('\'').to_string())
            .unwrap_or_default();
        return (coll.to_string(), Some(Key::AppId(value)));
    }
    (
        first.to_string(),
        second
            .filter(|s| !s.is_empty())
            .map(|s| Key::Id(s.to_string())),
    )
}

/// Whether a new object has replicated (is readable) yet.
fn replicated(em_now: u64, obj: &Value, scale: f64) -> bool {
    let created = obj["createdMs"].as_u64().unwrap_or(0);
    created + REPLICATION.mul_f64(scale.max(0.0)).as_millis() as u64 <= em_now
}

fn find(world: &World, kind: Kind, key: &Key) -> Option<(String, Value)> {
    let table = world.data.get(kind.table())?;
    match key {
        Key::Id(id) => table
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(id))
            .map(|(k, v)| (k.clone(), v.clone())),
        Key::AppId(app_id) => table
            .iter()
            .find(|(_, v)| {
                v["appId"]
                    .as_str()
                    .is_some_and(|a| a.eq_ignore_ascii_case(app_id))
            })
            .map(|(k, v)| (k.clone(), v.clone())),
    }
}

/// The object as Graph shows it.
fn public(obj: &Value) -> Map<String, Value> {
    let mut m = obj.as_object().cloned().unwrap_or_default();
    for k in INTERNAL {
        m.remove(*k);
    }
    m
}

fn list(ctx: &Ctx<'_>, req: &Req, kind: Kind) -> Response {
    let clauses = match req.query("$filter").map(parse_filter).transpose() {
        Ok(c) => c.unwrap_or_default(),
        Err(bad) => {
            return ctx.error(
                StatusCode::BAD_REQUEST,
                "Request_UnsupportedQuery",
                &format!(
                    "Unsupported or invalid query filter clause specified for property '{bad}' of resource '{}'.",
                    kind.resource()
                ),
            );
        }
    };
    let now = ctx.now_ms();
    let scale = ctx.em.clock.time_scale;
    let world = ctx.em.world();
    let value: Vec<Value> = world
        .data
        .get(kind.table())
        .map(|t| {
            t.values()
                .filter(|o| replicated(now, o, scale))
                .filter(|o| clauses.iter().all(|c| c.matches(o)))
                .map(|o| Value::Object(public(o)))
                .collect()
        })
        .unwrap_or_default();
    json_response(
        StatusCode::OK,
        &json!({
            "@odata.context": format!("{BASE}/$metadata#{}", kind.collection()),
            "value": value,
        }),
    )
}

/// One `$filter` clause.
#[derive(Debug, Clone, PartialEq)]
enum Clause {
    /// `prop eq 'v'`
    Eq(String, String),
    /// `coll/any(x:x eq 'v')`
    Any(String, String),
}

impl Clause {
    fn matches(&self, obj: &Value) -> bool {
        match self {
            Clause::Eq(p, v) => obj[p].as_str().is_some_and(|s| s.eq_ignore_ascii_case(v)),
            Clause::Any(p, v) => obj[p].as_array().is_some_and(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .any(|s| s.eq_ignore_ascii_case(v))
            }),
        }
    }
}

const EQ_PROPS: &[&str] = &["id", "appId", "displayName"];
const ANY_PROPS: &[&str] = &["tags", "identifierUris", "servicePrincipalNames"];

/// Parse `a eq 'x' and tags/any(t:t eq 'y')`; `Err` names the unsupported part.
fn parse_filter(filter: &str) -> Result<Vec<Clause>, String> {
    let mut out = Vec::new();
    for part in filter.split(" and ") {
        let part = part.trim();
        if let Some((coll, body)) = part.split_once("/any(") {
            let body = body.strip_suffix(')').ok_or(coll.to_string())?;
            let (var, cond) = body.split_once(':').ok_or(coll.to_string())?;
            let (lhs, value) = split_eq(cond).ok_or(coll.to_string())?;
            if lhs != var.trim() || !ANY_PROPS.contains(&coll.trim()) {
                return Err(coll.trim().to_string());
            }
            out.push(Clause::Any(coll.trim().to_string(), value));
        } else {
            let (prop, value) = split_eq(part).ok_or(part.to_string())?;
            if !EQ_PROPS.contains(&prop.as_str()) {
                return Err(prop);
            }
            out.push(Clause::Eq(prop, value));
        }
    }
    Ok(out)
}

/// `lhs eq 'value'` → (lhs, value) with `''` unescaped.
fn split_eq(s: &str) -> Option<(String, String)> {
    let (lhs, rhs) = s.split_once(" eq ")?;
    let rhs = rhs.trim();
    let inner = rhs.strip_prefix('\'')?.strip_suffix('\'')?;
    Some((lhs.trim().to_string(), inner.replace("''", "'")))
}

/// Writable application properties (the application resource type, v1.0).
const APP_PROPS: &[&str] = &[
    "displayName",
    "description",
    "notes",
    "signInAudience",
    "identifierUris",
    "api",
    "tags",
    "appRoles",
    "info",
    "publicClient",
    "requiredResourceAccess",
    "web",
    "spa",
    "optionalClaims",
    "groupMembershipClaims",
    "isFallbackPublicClient",
    "isDeviceOnlyAuthSupported",
    "serviceManagementReference",
    "tokenEncryptionKeyId",
    "parentalControlSettings",
    "keyCredentials",
];
/// Read-only application properties a client may echo back; ignored.
const APP_READ_ONLY: &[&str] = &[
    "id",
    "appId",
    "createdDateTime",
    "deletedDateTime",
    "publisherDomain",
    "passwordCredentials",
];
const SIGN_IN_AUDIENCES: &[&str] = &[
    "AzureADMyOrg",
    "AzureADMultipleOrgs",
    "AzureADandPersonalMicrosoftAccount",
    "PersonalMicrosoftAccount",
];

fn body_object(ctx: &Ctx<'_>, req: &Req) -> Result<Map<String, Value>, Response> {
    match req.json() {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) | Err(_) => Err(ctx.error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
        )),
    }
}

/// Check the properties sent for an application; `Err` is the answer.
fn check_app_props(
    ctx: &Ctx<'_>,
    body: &Map<String, Value>,
    app_id: &str,
    tid: &str,
) -> Result<(), Response> {
    for (k, v) in body {
        if k.starts_with('@') || APP_READ_ONLY.contains(&k.as_str()) {
            continue;
        }
        if !APP_PROPS.contains(&k.as_str()) {
            return Err(ctx.error(
                StatusCode::BAD_REQUEST,
                "Request_BadRequest",
                &format!(
                    "Property '{k}' does not exist on type 'microsoft.graph.application'. Make sure to only use property names that are defined by the type or mark the type as open type."
                ),
            ));
        }
        let ok = match k.as_str() {
            "displayName" => v.as_str().is_some_and(|s| !s.trim().is_empty()),
            "signInAudience" => v.as_str().is_some_and(|s| SIGN_IN_AUDIENCES.contains(&s)),
            "identifierUris" | "tags" => {
                v.as_array().is_some_and(|a| a.iter().all(Value::is_string))
            }
            "api" => {
                v.is_object()
                    && match v.get("requestedAccessTokenVersion") {
                        None | Some(Value::Null) => true,
                        Some(n) => n.as_u64().is_some_and(|n| n == 1 || n == 2),
                    }
            }
            _ => true,
        };
        if !ok {
            return Err(ctx.bad_property(k, "Application"));
        }
    }
    if let Some(uris) = body.get("identifierUris").and_then(Value::as_array) {
        for uri in uris.iter().filter_map(Value::as_str) {
            if !identifier_uri_allowed(uri, app_id, tid) {
                return Err(ctx.error_with(
                    StatusCode::BAD_REQUEST,
                    "HostNameNotOnVerifiedDomain",
                    &format!(
                        "Values of identifierUris property must use a verified domain of the organization or its subdomain: '{uri}'"
                    ),
                    Some(json!([{"code": "HostNameNotOnVerifiedDomain", "target": "identifierUris"}])),
                ));
            }
        }
    }
    Ok(())
}

/// Without a verified domain, a single-tenant app's identifier URIs must use the default
/// `api://` scheme with the app's or the tenant's id: `api://{appId}`, `api://{tenantId}/{x}`,
/// `api://{x}/{appId}`.
fn identifier_uri_allowed(uri: &str, app_id: &str, tid: &str) -> bool {
    let Some(rest) = uri.strip_prefix("api://") else {
        return false;
    };
    let rest = rest.trim_end_matches('/');
    let mut parts = rest.splitn(2, '/');
    let host = parts.next().unwrap_or_default();
    let path = parts.next();
    match path {
        None => host.eq_ignore_ascii_case(app_id),
        Some(p) => {
            !p.is_empty()
                && (host.eq_ignore_ascii_case(tid)
                    || host.eq_ignore_ascii_case(app_id)
                    || p.eq_ignore_ascii_case(app_id))
        }
    }
}

/// Merge `patch` into `target` the OData way: complex values merge, the rest replace.
fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                match t.get_mut(k) {
                    Some(existing) if existing.is_object() && v.is_object() => merge(existing, v),
                    _ => {
                        t.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

fn create_app(ctx: &Ctx<'_>, req: &Req) -> Response {
    let body = match body_object(ctx, req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    if body
        .get("displayName")
        .and_then(Value::as_str)
        .is_none_or(|s| s.trim().is_empty())
    {
        return ctx.bad_property("displayName", "Application");
    }
    let id = uuid::Uuid::new_v4().to_string();
    let app_id = uuid::Uuid::new_v4().to_string();
    let now = ctx.now_ms();
    let tid = ctx.em.world().seed.tenant_id.clone();
    if let Err(r) = check_app_props(ctx, &body, &app_id, &tid) {
        return r;
    }
    let mut app = json!({
        "id": id,
        "deletedDateTime": null,
        "appId": app_id,
        "applicationTemplateId": null,
        "disabledByMicrosoftStatus": null,
        "createdDateTime": Clock::rfc3339(now - now % 1000).replace(".000", ""),
        "displayName": null,
        "description": null,
        "groupMembershipClaims": null,
        "identifierUris": [],
        "isDeviceOnlyAuthSupported": null,
        "isFallbackPublicClient": null,
        "notes": null,
        "publisherDomain": null,
        "serviceManagementReference": null,
        "signInAudience": "AzureADMyOrg",
        "tags": [],
        "tokenEncryptionKeyId": null,
        "api": {
            "acceptMappedClaims": null,
            "knownClientApplications": [],
            "requestedAccessTokenVersion": null,
            "oauth2PermissionScopes": [],
            "preAuthorizedApplications": []
        },
        "appRoles": [],
        "info": {"logoUrl": null, "marketingUrl": null, "privacyStatementUrl": null,
                 "supportUrl": null, "termsOfServiceUrl": null},
        "keyCredentials": [],
        "optionalClaims": null,
        "parentalControlSettings": {"countriesBlockedForMinors": [], "legalAgeGroupRule": "Allow"},
        "passwordCredentials": [],
        "publicClient": {"redirectUris": []},
        "requiredResourceAccess": [],
        "web": {
            "homePageUrl": null, "logoutUrl": null, "redirectUris": [],
            "implicitGrantSettings": {"enableAccessTokenIssuance": false, "enableIdTokenIssuance": false},
            "redirectUriSettings": []
        },
        "spa": {"redirectUris": []},
    });
    for (k, v) in &body {
        if APP_PROPS.contains(&k.as_str()) {
            merge(&mut app[k.as_str()], v);
        }
    }
    let mut shown = public(&app);
    shown.insert(
        "@odata.context".into(),
        json!(format!("{BASE}/$metadata#applications/$entity")),
    );
    app["createdMs"] = json!(now);
    ctx.em.world().table(APPLICATIONS).insert(id, app);
    ctx.em.save();
    json_response(StatusCode::CREATED, &Value::Object(shown))
}

fn patch_app(ctx: &Ctx<'_>, req: &Req, id: &str, mut app: Value) -> Response {
    let body = match body_object(ctx, req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let app_id = app["appId"].as_str().unwrap_or_default().to_string();
    let tid = ctx.em.world().seed.tenant_id.clone();
    if let Err(r) = check_app_props(ctx, &body, &app_id, &tid) {
        return r;
    }
    for (k, v) in &body {
        if APP_PROPS.contains(&k.as_str()) {
            if v.is_object() && app[k.as_str()].is_object() {
                merge(&mut app[k.as_str()], v);
            } else {
                app[k.as_str()] = v.clone();
            }
        }
    }
    {
        let mut world = ctx.em.world();
        world
            .table(APPLICATIONS)
            .insert(id.to_string(), app.clone());
        // The service principal mirrors the app's identifier URIs and name.
        if let Some(sp) = directory::sp_by_app_id(&world, &app_id)
            && let Some(sp_id) = sp["id"].as_str()
        {
            let mut sp = sp.clone();
            let mut names = vec![json!(app_id)];
            names.extend(
                app["identifierUris"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default(),
            );
            sp["servicePrincipalNames"] = json!(names);
            sp["appDisplayName"] = app["displayName"].clone();
            world
                .table(SERVICE_PRINCIPALS)
                .insert(sp_id.to_string(), sp);
        }
    }
    ctx.em.save();
    empty(StatusCode::NO_CONTENT)
}

const SP_PROPS: &[&str] = &[
    "appId",
    "accountEnabled",
    "appRoleAssignmentRequired",
    "tags",
    "notes",
    "description",
    "displayName",
    "notificationEmailAddresses",
    "preferredSingleSignOnMode",
];

fn check_sp_props(ctx: &Ctx<'_>, body: &Map<String, Value>) -> Result<(), Response> {
    for k in body.keys() {
        if k.starts_with('@') || k == "id" {
            continue;
        }
        if !SP_PROPS.contains(&k.as_str()) {
            return Err(ctx.error(
                StatusCode::BAD_REQUEST,
                "Request_BadRequest",
                &format!(
                    "Property '{k}' does not exist on type 'microsoft.graph.servicePrincipal'. Make sure to only use property names that are defined by the type or mark the type as open type."
                ),
            ));
        }
    }
    Ok(())
}

fn create_sp(ctx: &Ctx<'_>, req: &Req) -> Response {
    let body = match body_object(ctx, req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    if let Err(r) = check_sp_props(ctx, &body) {
        return r;
    }
    let Some(app_id) = body
        .get("appId")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return ctx.bad_property("appId", "ServicePrincipal");
    };
    let now = ctx.now_ms();
    let scale = ctx.em.clock.time_scale;
    let mut world = ctx.em.world();
    let tid = world.seed.tenant_id.clone();
    if directory::sp_by_app_id(&world, &app_id).is_some() {
        drop(world);
        return ctx.error(
            StatusCode::CONFLICT,
            "Request_MultipleObjectsWithSameKeyValue",
            &format!(
                "The service principal cannot be created, updated, or restored because the service principal name {app_id} is already in use."
            ),
        );
    }
    // The backing application must exist — and have replicated.
    let app = find(&world, Kind::App, &Key::AppId(app_id.clone()))
        .map(|(_, a)| a)
        .filter(|a| replicated(now, a, scale));
    let Some(app) = app else {
        drop(world);
        return ctx.error_with(
            StatusCode::BAD_REQUEST,
            "Request_BadRequest",
            &format!(
                "The appId '{app_id}' of the service principal does not reference a valid application object."
            ),
            Some(json!([{"code": "NoBackingApplicationObject", "target": "appId"}])),
        );
    };
    let id = uuid::Uuid::new_v4().to_string();
    let mut names = vec![json!(app["appId"])];
    names.extend(
        app["identifierUris"]
            .as_array()
            .cloned()
            .unwrap_or_default(),
    );
    let mut sp = json!({
        "id": id,
        "deletedDateTime": null,
        "accountEnabled": true,
        "appDisplayName": app["displayName"],
        "appDescription": app["description"],
        "appId": app["appId"],
        "appOwnerOrganizationId": tid,
        "appRoleAssignmentRequired": false,
        "description": null,
        "displayName": app["displayName"],
        "notes": null,
        "preferredSingleSignOnMode": null,
        "servicePrincipalNames": names,
        "servicePrincipalType": "Application",
        "signInAudience": app["signInAudience"],
        "tags": [],
        "alternativeNames": [],
        "appRoles": app["appRoles"],
        "keyCredentials": [],
        "oauth2PermissionScopes": app["api"]["oauth2PermissionScopes"],
        "passwordCredentials": [],
        "replyUrls": [],
    });
    for (k, v) in &body {
        if SP_PROPS.contains(&k.as_str()) && k != "appId" {
            sp[k.as_str()] = v.clone();
        }
    }
    let mut shown = public(&sp);
    shown.insert(
        "@odata.context".into(),
        json!(format!("{BASE}/$metadata#servicePrincipals/$entity")),
    );
    sp["createdMs"] = json!(now);
    world.table(SERVICE_PRINCIPALS).insert(id, sp);
    drop(world);
    ctx.em.save();
    json_response(StatusCode::CREATED, &Value::Object(shown))
}

fn patch_sp(ctx: &Ctx<'_>, req: &Req, id: &str, mut sp: Value) -> Response {
    let body = match body_object(ctx, req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    if let Err(r) = check_sp_props(ctx, &body) {
        return r;
    }
    for (k, v) in &body {
        if SP_PROPS.contains(&k.as_str()) && k != "appId" {
            sp[k.as_str()] = v.clone();
        }
    }
    ctx.em
        .world()
        .table(SERVICE_PRINCIPALS)
        .insert(id.to_string(), sp);
    ctx.em.save();
    empty(StatusCode::NO_CONTENT)
}

fn delete(ctx: &Ctx<'_>, kind: Kind, id: &str, obj: &Value) -> Response {
    {
        let mut world = ctx.em.world();
        world.table(kind.table()).remove(id);
        if kind == Kind::App
            && let Some(app_id) = obj["appId"].as_str()
            && let Some(sp) = directory::sp_by_app_id(&world, app_id)
            && let Some(sp_id) = sp["id"].as_str()
        {
            world.table(SERVICE_PRINCIPALS).remove(sp_id);
        }
    }
    ctx.em.save();
    empty(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse() {
        assert_eq!(
            parse_filter("appId eq 'a''b'").expect("ok"),
            vec![Clause::Eq("appId".into(), "a'b".into())]
        );
        assert_eq!(
            parse_filter("tags/any(t:t eq 'x') and displayName eq 'd'").expect("ok"),
            vec![
                Clause::Any("tags".into(), "x".into()),
                Clause::Eq("displayName".into(), "d".into())
            ]
        );
        assert!(parse_filter("startswith(displayName,'x')").is_err());
        assert!(parse_filter("notes eq 'x'").is_err());
    }

    #[test]
    fn identifier_uris_need_the_default_scheme_with_app_or_tenant_id() {
        let (app, tid) = ("11111111-aaaa", "22222222-bbbb");
        assert!(identifier_uri_allowed("api://11111111-aaaa", app, tid));
        assert!(identifier_uri_allowed(
            "api://22222222-bbbb/myapi",
            app,
            tid
        ));
        assert!(identifier_uri_allowed(
            "api://contoso/11111111-aaaa",
            app,
            tid
        ));
        assert!(!identifier_uri_allowed("api://myapi", app, tid));
        assert!(!identifier_uri_allowed("api://22222222-bbbb", app, tid));
        assert!(!identifier_uri_allowed(
            "https://myfunc.azurewebsites.net",
            app,
            tid
        ));
    }

    #[test]
    fn segments_split() {
        let (c, k) = split_segment("applications(appId='abc')");
        assert_eq!(c, "applications");
        assert!(matches!(k, Some(Key::AppId(a)) if a == "abc"));
        let (c, k) = split_segment("servicePrincipals/xyz");
        assert_eq!(c, "servicePrincipals");
        assert!(matches!(k, Some(Key::Id(a)) if a == "xyz"));
    }
}
