//! `api import`: the portal's "Function App" import, which has no ARM endpoint of its own
//! (arm-reference §5, §6). In order, each read → decide (pure, below) → write only what differs:
//!
//! 1. host key `apim-{apim}` in the function app (created when missing, read with `listkeys`);
//! 2. secret named value `{app}-key` holding it (value compared through `listValue`, so a rotated
//!    key is repaired);
//! 3. backend `{app}`: the app's `/api` URL, its absolute ARM id, the `x-functions-key` header;
//! 4. API `{app}` at `--api-path` (https, subscription required);
//! 5. one operation per HTTP-trigger function and method; operations apimfn made for functions
//!    that are gone are deleted;
//! 6. the API policy's `set-backend-service` (see `policy`).

use super::diff::{differences, get_ci, redact_fields};
use super::policy::{self, Owned, PolicyDecision};
use super::versions::{APIM, WEB};
use super::{Action, Change, Ctx, FieldChange};
use crate::arm::FinalState;
use crate::exit::UsageError;
use crate::models::{FunctionEnvelope, HostKeys, Site};
use anyhow::{Context, bail};
use reqwest::Method;
use serde_json::{Value, json};

/// Methods an HTTP trigger without `methods` gets operations for (see docs/decisions.md:
/// TRACE and CONNECT are left out).
pub const ALL_METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// Tags the portal's import puts on the named value (arm-reference §6).
pub const NAMED_VALUE_TAGS: &[&str] = &["key", "function", "auto"];

/// The end of the `description` of every operation apimfn creates: how a later run tells its own
/// operations from the user's.
pub const OPERATION_MARKER: &str = "imported by apimfn";

/// The rule for `--api-path`, in words.
pub const API_PATH_RULE: &str = "1–400 characters: segments of letters, digits, '-', '.', '_' or '~' separated by single '/', without a leading or trailing '/'";

/// `--api-path`: checked before any request.
pub fn validate_api_path(v: &str) -> Result<(), UsageError> {
    let ok = !v.is_empty()
        && v.chars().count() <= 400
        && v.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~'))
        });
    if ok {
        Ok(())
    } else {
        Err(UsageError::invalid("--api-path", v, API_PATH_RULE))
    }
}

// ---- reading the functions ----------------------------------------------------------------

/// An HTTP-trigger function as the functions list describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpFunction {
    pub name: String,
    /// The binding's `route`, or the function name when it has none.
    pub route: String,
    /// Upper-case; `None` when the binding has no `methods` (the function answers all).
    pub methods: Option<Vec<String>>,
    /// As written (`ANONYMOUS`, `function`, …).
    pub auth_level: Option<String>,
}

/// The HTTP triggers in `GET {site}/functions` (disabled functions left out).
pub fn http_functions(list: &[Value]) -> Vec<HttpFunction> {
    let mut out = Vec::new();
    for item in list {
        let Ok(f) = serde_json::from_value::<FunctionEnvelope>(item.clone()) else {
            continue;
        };
        // `name` is `{app}/{function}` (there is no `properties.name` in current versions).
        let Some(name) = f
            .name
            .as_deref()
            .map(|n| n.rsplit('/').next().unwrap_or(n).to_string())
            .filter(|n| !n.is_empty())
        else {
            continue;
        };
        let props = f.properties.unwrap_or_default();
        if props.is_disabled == Some(true) {
            continue;
        }
        let bindings = props
            .config
            .as_ref()
            .and_then(|c| get_ci(c, "bindings"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for b in bindings {
            let is_http = get_ci(&b, "type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.eq_ignore_ascii_case("httpTrigger"));
            if !is_http {
                continue;
            }
            let route = get_ci(&b, "route")
                .and_then(Value::as_str)
                .map(|r| r.trim_matches('/').to_string())
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| name.clone());
            let methods = get_ci(&b, "methods").and_then(Value::as_array).map(|a| {
                let mut m: Vec<String> = Vec::new();
                for x in a.iter().filter_map(Value::as_str) {
                    let x = x.to_ascii_uppercase();
                    if !m.contains(&x) {
                        m.push(x);
                    }
                }
                m
            });
            let methods = methods.filter(|m| !m.is_empty());
            let auth_level = get_ci(&b, "authLevel")
                .and_then(Value::as_str)
                .map(str::to_string);
            out.push(HttpFunction {
                name: name.clone(),
                route,
                methods,
                auth_level,
            });
            break;
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The APIM URL template for a Functions route, and its template parameters: `{id:int}`,
/// `{id?}` and `{id=5}` become `{id}`, `{*rest}` stays a catch-all.
pub fn url_template(route: &str) -> (String, Vec<String>) {
    let mut out = String::from("/");
    let mut params = Vec::new();
    let mut chars = route.trim_matches('/').chars().peekable();
    while let Some(c) = chars.next() {
        if c != '{' {
            out.push(c);
            continue;
        }
        // Read to the matching '}' (constraints such as regex(\d{3}) nest braces).
        let mut depth = 1;
        let mut inner = String::new();
        for d in chars.by_ref() {
            match d {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
            inner.push(d);
        }
        let catch_all = inner.starts_with('*');
        let name: String = inner
            .trim_start_matches('*')
            .chars()
            .take_while(|c| !matches!(c, ':' | '?' | '='))
            .collect();
        if catch_all {
            out.push_str(&format!("{{*{name}}}"));
        } else {
            out.push_str(&format!("{{{name}}}"));
        }
        if !params.contains(&name) {
            params.push(name);
        }
    }
    (out, params)
}

/// An operation as apimfn wants it.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredOperation {
    pub id: String,
    pub function: String,
    pub method: String,
    pub url_template: String,
    pub params: Vec<String>,
}

impl DesiredOperation {
    /// What apimfn owns on the operation (compared, and sent whole on a PUT).
    pub fn properties(&self, app: &str) -> Value {
        let params: Vec<Value> = self
            .params
            .iter()
            .map(|p| json!({"name": p, "type": "string", "required": true}))
            .collect();
        json!({
            "displayName": self.function,
            "method": self.method,
            "urlTemplate": self.url_template,
            "templateParameters": params,
            "description": format!("Function {} of {app}, {OPERATION_MARKER}", self.function),
        })
    }
}

/// One operation per function and method; ids `{method}-{function}` in lower case.
pub fn desired_operations(functions: &[HttpFunction]) -> anyhow::Result<Vec<DesiredOperation>> {
    let mut out = Vec::new();
    for f in functions {
        let (template, params) = url_template(&f.route);
        let methods: Vec<String> = match &f.methods {
            Some(m) => m.clone(),
            None => ALL_METHODS.iter().map(|m| m.to_string()).collect(),
        };
        for m in methods {
            let id = format!("{}-{}", m.to_ascii_lowercase(), f.name.to_ascii_lowercase());
            if id.chars().count() > 80 {
                bail!(
                    "the operation id {id} for function {} is longer than APIM's 80 characters; rename the function",
                    f.name
                );
            }
            out.push(DesiredOperation {
                id,
                function: f.name.clone(),
                method: m,
                url_template: template.clone(),
                params: params.clone(),
            });
        }
    }
    Ok(out)
}

/// Whether an existing operation is one apimfn made: its id follows `{method}-{function}` and
/// its description carries the marker (an operation the user added or edited is theirs).
pub fn is_ours(op: &Value) -> bool {
    let id = op["name"].as_str().unwrap_or_default();
    let pattern = id.split_once('-').is_some_and(|(m, rest)| {
        !rest.is_empty()
            && ALL_METHODS
                .iter()
                .chain(["TRACE", "CONNECT"].iter())
                .any(|x| x.eq_ignore_ascii_case(m))
    });
    let marked = op["properties"]["description"]
        .as_str()
        .is_some_and(|d| d.ends_with(OPERATION_MARKER));
    pattern && marked
}

// ---- decisions ----------------------------------------------------------------------------

/// Create, update (with the fields that differ) or leave an entity, comparing only what
/// apimfn owns (the fields in `desired`).
#[derive(Debug, Clone, PartialEq)]
pub enum EntityDecision {
    Create,
    Update(Vec<FieldChange>),
    Nothing,
}

impl EntityDecision {
    pub fn action(&self) -> Action {
        match self {
            EntityDecision::Create => Action::Create,
            EntityDecision::Update(_) => Action::Update,
            EntityDecision::Nothing => Action::None,
        }
    }

    pub fn fields(&self) -> Vec<FieldChange> {
        match self {
            EntityDecision::Update(f) => f.clone(),
            _ => Vec::new(),
        }
    }
}

pub fn decide_entity(current: Option<&Value>, desired: &Value) -> EntityDecision {
    match current {
        None => EntityDecision::Create,
        Some(c) => {
            let fields = differences(desired, c);
            if fields.is_empty() {
                EntityDecision::Nothing
            } else {
                EntityDecision::Update(fields)
            }
        }
    }
}

/// The named value: owned fields and the value itself (`current_value` from `listValue`).
/// Tags the user added are kept: apimfn only needs its own to be there.
pub fn decide_named_value(
    current: Option<&Value>,
    current_value: Option<&str>,
    name: &str,
    key: &str,
) -> (EntityDecision, Value) {
    let mut tags: Vec<String> = current
        .and_then(|c| c["properties"]["tags"].as_array())
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    for t in NAMED_VALUE_TAGS {
        if !tags.iter().any(|x| x == t) {
            tags.push(t.to_string());
        }
    }
    let owned = json!({"properties": {"displayName": name, "secret": true, "tags": tags}});
    let body =
        json!({"properties": {"displayName": name, "value": key, "secret": true, "tags": tags}});
    let Some(c) = current else {
        return (EntityDecision::Create, body);
    };
    let mut fields = differences(&owned, c);
    if current_value != Some(key) {
        fields.push(FieldChange {
            path: "properties.value".into(),
            old: current_value.map(|v| Value::String(v.to_string())),
            new: Value::String(key.to_string()),
        });
    }
    redact_fields(&mut fields, &["value"]);
    if fields.is_empty() {
        (EntityDecision::Nothing, body)
    } else {
        (EntityDecision::Update(fields), body)
    }
}

/// `target` with every field of `patch` written over it, objects merged key by key.
pub fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                match t.get_mut(k) {
                    Some(slot) if slot.is_object() && v.is_object() => merge(slot, v),
                    _ => {
                        t.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

/// What happens to each operation.
#[derive(Debug, Clone, PartialEq)]
pub enum OperationStep {
    Put {
        op: DesiredOperation,
        decision: EntityDecision,
    },
    Keep {
        op: DesiredOperation,
    },
    Delete {
        id: String,
    },
}

pub fn decide_operations(
    desired: &[DesiredOperation],
    current: &[Value],
    app: &str,
) -> Vec<OperationStep> {
    let mut out = Vec::new();
    for op in desired {
        let existing = current.iter().find(|c| {
            c["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(&op.id))
        });
        let want = json!({"properties": op.properties(app)});
        match decide_entity(existing, &want) {
            EntityDecision::Nothing => out.push(OperationStep::Keep { op: op.clone() }),
            decision => out.push(OperationStep::Put {
                op: op.clone(),
                decision,
            }),
        }
    }
    for c in current {
        let id = c["name"].as_str().unwrap_or_default();
        let wanted = desired.iter().any(|d| d.id.eq_ignore_ascii_case(id));
        if !wanted && is_ours(c) {
            out.push(OperationStep::Delete { id: id.to_string() });
        }
    }
    out
}

// ---- the step -----------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
pub struct OperationOut {
    pub id: String,
    pub method: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImportOutcome {
    pub api_id: String,
    pub path: String,
    pub gateway_url: String,
    /// The URL of the first operation (a GET one when there is one).
    pub url: Option<String>,
    pub operations: Vec<OperationOut>,
}

/// The APIM service, which must be active: its body.
pub async fn require_active_apim(ctx: &Ctx) -> anyhow::Result<Value> {
    let n = &ctx.names;
    let Some(svc) = ctx.arm().get(&n.apim_id(), APIM).await? else {
        bail!(
            "the API Management service {} does not exist in resource group {}: run `apimfn apim create` first",
            n.apim,
            n.resource_group
        );
    };
    let state = crate::arm::provisioning_state(&svc).unwrap_or("Succeeded");
    if !state.eq_ignore_ascii_case("Succeeded") {
        bail!(
            "the API Management service {} is {}, not active yet: run `apimfn apim create` to wait for it, then run this again",
            n.apim,
            state.to_ascii_lowercase()
        );
    }
    Ok(svc)
}

/// The function app, which must exist.
pub async fn require_site(ctx: &Ctx) -> anyhow::Result<Site> {
    let n = &ctx.names;
    let Some(site) = ctx.arm().get(&n.site_id(), WEB).await? else {
        bail!(
            "the function app {} does not exist in resource group {}: run `apimfn function create` first",
            n.app,
            n.resource_group
        );
    };
    serde_json::from_value(site).with_context(|| format!("reading function app {}", n.app))
}

/// A plan where the import cannot read what it would write yet (APIM still to be created or
/// activating, or no function deployed): everything it writes is new, and the operations follow
/// the functions the deployment will list.
pub fn plan_new(ctx: &Ctx) {
    let n = &ctx.names;
    let apim = n.apim_id();
    let api = n.api_arm_id();
    let unknown = super::KNOWN_AFTER_APPLY;
    for (kind, id) in [
        (
            "function host key",
            format!("{}/host/default/functionKeys/apim-{}", n.site_id(), n.apim),
        ),
        ("named value", format!("{apim}/namedValues/{}-key", n.app)),
        ("APIM backend", format!("{apim}/backends/{}", n.app)),
        ("API", api.clone()),
        ("API operation", format!("{api}/operations/{unknown}")),
        ("API policy", format!("{api}/policies/policy")),
    ] {
        ctx.changes.record(Change::new(kind, id, Action::Create));
    }
}

/// `api import`: everything, the API policy's `set-backend-service` included.
pub async fn import(ctx: &Ctx, api_path: &str) -> anyhow::Result<ImportOutcome> {
    import_with(ctx, api_path, true).await
}

/// Everything but the policy: `setup` writes the policy once, with the managed-identity element,
/// instead of twice in a row.
pub async fn import_entities(ctx: &Ctx, api_path: &str) -> anyhow::Result<ImportOutcome> {
    import_with(ctx, api_path, false).await
}

async fn import_with(ctx: &Ctx, api_path: &str, policy: bool) -> anyhow::Result<ImportOutcome> {
    let n = ctx.names.clone();
    let step = ctx.printer.step("api import");
    step.set("reading");
    let svc = require_active_apim(ctx).await?;
    let gateway_url = svc["properties"]["gatewayUrl"]
        .as_str()
        .filter(|g| !g.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| format!("https://{}", ctx.azure.cloud.apim_gateway_host(&n.apim)));
    let site = require_site(ctx).await?;
    let Some(host) = site.app_host().map(str::to_string) else {
        bail!(
            "function app {} has no default host name yet; run `apimfn function create` again",
            n.app
        );
    };
    let site_id = n.site_id();
    let listed = ctx
        .arm()
        .list(&format!("{site_id}/functions"), WEB)
        .await
        .with_context(|| format!("listing the functions of {}", n.app))?;
    let functions = http_functions(&listed);
    if functions.is_empty() {
        if listed.is_empty() {
            bail!(
                "function app {} lists no functions: run `apimfn function deploy` first",
                n.app
            );
        }
        bail!(
            "function app {} has {} function(s) but none with an HTTP trigger: nothing to import",
            n.app,
            listed.len()
        );
    }
    for f in &functions {
        if f.auth_level
            .as_deref()
            .is_some_and(|l| l.eq_ignore_ascii_case("admin"))
        {
            ctx.printer.warn(&format!(
                "function {} has authLevel ADMIN: the host key APIM sends is not enough, only the master key is; calls through APIM will get 401",
                f.name
            ));
        }
    }
    let desired_ops = desired_operations(&functions)?;

    step.set("host key");
    let key = host_key(ctx).await?;
    step.set("named value");
    let nv_name = format!("{}-key", n.app);
    named_value(ctx, &nv_name, &key).await?;
    step.set("backend");
    backend(ctx, &host).await?;
    step.set("API");
    api(ctx, api_path, &host).await?;
    step.set("operations");
    operations(ctx, &desired_ops).await?;
    if policy {
        step.set("policy");
        ensure_policy(ctx, &[Owned::backend(&n.app)]).await?;
    }
    step.finish(if ctx.dry_run { "planned" } else { "done" });

    let base = format!("{}/{}", gateway_url.trim_end_matches('/'), api_path);
    let operations: Vec<OperationOut> = desired_ops
        .iter()
        .map(|o| OperationOut {
            id: o.id.clone(),
            method: o.method.clone(),
            url: format!("{base}{}", o.url_template),
        })
        .collect();
    let url = operations
        .iter()
        .find(|o| o.method == "GET")
        .or(operations.first())
        .map(|o| o.url.clone());
    Ok(ImportOutcome {
        api_id: n.api_arm_id(),
        path: api_path.to_string(),
        gateway_url,
        url,
        operations,
    })
}

async fn list_host_keys(ctx: &Ctx) -> anyhow::Result<HostKeys> {
    let site_id = ctx.names.site_id();
    let v = ctx
        .arm()
        .post(&format!("{site_id}/host/default/listkeys"), WEB, None)
        .await
        .with_context(|| format!("listing the host keys of {}", ctx.names.app))?
        .unwrap_or(Value::Null);
    let keys: HostKeys = serde_json::from_value(v).context("reading the host keys")?;
    for k in keys.function_keys.values().chain(keys.master_key.iter()) {
        crate::output::register_secret(k);
    }
    for k in keys.system_keys.values() {
        crate::output::register_secret(k);
    }
    Ok(keys)
}

/// The host key `apim-{apim}`: created when missing, then read with `listkeys`.
async fn host_key(ctx: &Ctx) -> anyhow::Result<String> {
    let name = format!("apim-{}", ctx.names.apim);
    let id = format!("{}/host/default/functionKeys/{name}", ctx.names.site_id());
    let keys = list_host_keys(ctx).await?;
    if let Some(v) = keys.function_keys.get(&name) {
        ctx.changes
            .record(Change::new("function host key", &id, Action::None));
        return Ok(v.clone());
    }
    if ctx.dry_run {
        ctx.changes
            .record(Change::new("function host key", &id, Action::Create));
        return Ok(super::KNOWN_AFTER_APPLY.to_string());
    }
    ctx.arm()
        .put(&id, WEB, &json!({"properties": {"name": name}}))
        .await
        .with_context(|| format!("creating host key {name} in {}", ctx.names.app))?;
    ctx.changes
        .record(Change::new("function host key", &id, Action::Create));
    let keys = list_host_keys(ctx).await?;
    match keys.function_keys.get(&name) {
        Some(v) => Ok(v.clone()),
        None => bail!(
            "host key {name} was created in {} but listkeys does not return it; run `apimfn api import` again",
            ctx.names.app
        ),
    }
}

async fn named_value(ctx: &Ctx, name: &str, key: &str) -> anyhow::Result<()> {
    let id = format!("{}/namedValues/{name}", ctx.names.apim_id());
    let current = ctx.arm().get(&id, APIM).await?;
    let current_value = match &current {
        Some(_) => {
            let v = ctx
                .arm()
                .post(&format!("{id}/listValue"), APIM, None)
                .await
                .with_context(|| format!("reading the value of named value {name}"))?;
            let value = v.and_then(|v| v["value"].as_str().map(str::to_string));
            if let Some(s) = &value {
                crate::output::register_secret(s);
            }
            value
        }
        None => None,
    };
    let (decision, body) =
        decide_named_value(current.as_ref(), current_value.as_deref(), name, key);
    record_and(ctx, "named value", &id, &decision);
    if decision != EntityDecision::Nothing && !ctx.dry_run {
        // 202 + Location, then 201/200 with the entity (arm-reference §6.2).
        let req = ctx
            .arm()
            .request(Method::PUT, &id, APIM)?
            .json(&body)
            .final_state(FinalState::Location);
        ctx.arm()
            .execute(&req)
            .await
            .with_context(|| format!("writing named value {name}"))?;
    }
    Ok(())
}

fn record_and(ctx: &Ctx, kind: &'static str, id: &str, d: &EntityDecision) {
    ctx.changes
        .record(Change::new(kind, id, d.action()).with_fields(d.fields()));
}

/// The backend's owned fields.
pub fn backend_desired(app: &str, host: &str, resource_id: &str) -> Value {
    json!({"properties": {
        "url": format!("https://{host}/api"),
        "protocol": "http",
        "resourceId": resource_id,
        "credentials": {"header": {"x-functions-key": [format!("{{{{{app}-key}}}}")]}},
    }})
}

async fn backend(ctx: &Ctx, host: &str) -> anyhow::Result<()> {
    let n = &ctx.names;
    let id = format!("{}/backends/{}", n.apim_id(), n.app);
    // Absolute ARM URL of the app, without a doubled slash (arm-reference §6.3).
    let resource_id = format!(
        "{}{}",
        ctx.azure.cloud.arm_endpoint.trim_end_matches('/'),
        n.site_id()
    );
    let desired = backend_desired(&n.app, host, &resource_id);
    let current = ctx.arm().get(&id, APIM).await?;
    let decision = decide_entity(current.as_ref(), &desired);
    record_and(ctx, "APIM backend", &id, &decision);
    if ctx.dry_run {
        return Ok(());
    }
    let body = match (&decision, current) {
        (EntityDecision::Nothing, _) => return Ok(()),
        (EntityDecision::Create, _) => {
            let mut b = desired.clone();
            b["properties"]["description"] = json!(n.app);
            b
        }
        // Whole-entity PUT: keep what the user set (other headers, TLS, circuit breaker…).
        (EntityDecision::Update(_), Some(cur)) => {
            let mut props = cur["properties"].clone();
            merge(&mut props, &desired["properties"]);
            json!({"properties": props})
        }
        (EntityDecision::Update(_), None) => desired.clone(),
    };
    ctx.arm()
        .put(&id, APIM, &body)
        .await
        .with_context(|| format!("writing backend {}", n.app))?;
    Ok(())
}

pub fn api_desired(app: &str, path: &str, host: &str) -> Value {
    json!({"properties": {
        "displayName": app,
        "path": path,
        "protocols": ["https"],
        "subscriptionRequired": true,
        "serviceUrl": format!("https://{host}/api"),
    }})
}

async fn api(ctx: &Ctx, path: &str, host: &str) -> anyhow::Result<()> {
    let n = &ctx.names;
    let id = n.api_arm_id();
    let desired = api_desired(&n.app, path, host);
    let current = ctx.arm().get(&id, APIM).await?;
    let decision = decide_entity(current.as_ref(), &desired);
    record_and(ctx, "API", &id, &decision);
    if ctx.dry_run {
        return Ok(());
    }
    match &decision {
        EntityDecision::Nothing => {}
        EntityDecision::Create => {
            // Plain creates answer 201 at once; the spec allows 202 + Location.
            let req = ctx
                .arm()
                .request(Method::PUT, &id, APIM)?
                .json(&desired)
                .final_state(FinalState::Location);
            ctx.arm()
                .execute(&req)
                .await
                .with_context(|| format!("creating API {}", n.app))?;
        }
        EntityDecision::Update(fields) => {
            // PATCH only what differs (flat fields), leaving the rest of the API alone.
            let mut props = serde_json::Map::new();
            for f in fields {
                if let Some(key) = f.path.strip_prefix("properties.") {
                    let top = key.split('.').next().unwrap_or(key);
                    props.insert(top.to_string(), desired["properties"][top].clone());
                }
            }
            let req = ctx
                .arm()
                .request(Method::PATCH, &id, APIM)?
                .if_match_any()
                .json(&json!({"properties": props}))
                .final_state(FinalState::Location);
            ctx.arm()
                .execute(&req)
                .await
                .with_context(|| format!("updating API {}", n.app))?;
        }
    }
    Ok(())
}

async fn operations(ctx: &Ctx, desired: &[DesiredOperation]) -> anyhow::Result<()> {
    let n = &ctx.names;
    let api_id = n.api_arm_id();
    let current = ctx
        .arm()
        .list(&format!("{api_id}/operations"), APIM)
        .await
        .with_context(|| format!("listing the operations of API {}", n.app))?;
    for s in decide_operations(desired, &current, &n.app) {
        match s {
            OperationStep::Keep { op } => {
                let id = format!("{api_id}/operations/{}", op.id);
                ctx.changes
                    .record(Change::new("API operation", &id, Action::None));
            }
            OperationStep::Put { op, decision } => {
                let id = format!("{api_id}/operations/{}", op.id);
                record_and(ctx, "API operation", &id, &decision);
                if ctx.dry_run {
                    continue;
                }
                let mut props = op.properties(&n.app);
                props["responses"] = json!([]);
                ctx.arm()
                    .put(&id, APIM, &json!({"properties": props}))
                    .await
                    .with_context(|| format!("writing operation {}", op.id))?;
            }
            OperationStep::Delete { id: op_id } => {
                let id = format!("{api_id}/operations/{op_id}");
                ctx.changes
                    .record(Change::new("API operation", &id, Action::Delete));
                if ctx.dry_run {
                    continue;
                }
                ctx.printer.info(&format!(
                    "api import: deleting operation {op_id}: no function answers it any more"
                ));
                let req = ctx.arm().request(Method::DELETE, &id, APIM)?.if_match_any();
                match ctx.arm().execute(&req).await {
                    Ok(_) => {}
                    Err(e) if e.is_not_found() => {}
                    Err(e) => {
                        return Err(
                            anyhow::Error::new(e).context(format!("deleting operation {op_id}"))
                        );
                    }
                }
            }
        }
    }
    Ok(())
}

/// The API policy with `wanted` in place (read as `rawxml`, written as `rawxml`).
pub async fn ensure_policy(ctx: &Ctx, wanted: &[Owned]) -> anyhow::Result<()> {
    let id = format!("{}/policies/policy", ctx.names.api_arm_id());
    let current = ctx
        .arm()
        .get(&format!("{id}?format=rawxml"), APIM)
        .await
        .context("reading the API policy")?;
    let text = current
        .as_ref()
        .and_then(|c| c["properties"]["value"].as_str())
        .map(str::to_string);
    let decision = policy::decide(text.as_deref(), wanted).map_err(|e| {
        anyhow::anyhow!(
            "the policy of API {} cannot be read as XML ({e}); fix or delete it in the portal, then run this again",
            ctx.names.app
        )
    })?;
    let (xml, change) = match decision {
        PolicyDecision::Nothing => {
            ctx.changes
                .record(Change::new("API policy", &id, Action::None));
            return Ok(());
        }
        PolicyDecision::Create { xml } => {
            let action = if current.is_some() {
                Action::Update
            } else {
                Action::Create
            };
            (xml, Change::new("API policy", &id, action))
        }
        PolicyDecision::Update { xml, fields } => (
            xml,
            Change::new("API policy", &id, Action::Update).with_fields(fields),
        ),
    };
    ctx.changes.record(change);
    if ctx.dry_run {
        return Ok(());
    }
    ctx.arm()
        .put(
            &id,
            APIM,
            &json!({"properties": {"format": "rawxml", "value": xml}}),
        )
        .await
        .context("writing the API policy")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn function(name: &str, bindings: Value) -> Value {
        json!({
            "id": format!("/subscriptions/s/resourceGroups/g/providers/Microsoft.Web/sites/a/functions/{name}"),
            "name": format!("a/{name}"),
            "type": "Microsoft.Web/sites/functions",
            "properties": {"config": {"bindings": bindings}, "invoke_url_template": "x", "isDisabled": false}
        })
    }

    #[test]
    fn api_paths_are_checked_before_any_request() {
        for ok in ["fn1", "v1/orders", "a.b_c~d-e"] {
            assert!(validate_api_path(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "/fn",
            "fn/",
            "a//b",
            "a b",
            "a?b",
            "a/../b",
            "é",
            &"x".repeat(401),
        ] {
            let e = validate_api_path(bad).expect_err(bad);
            assert!(e.message.contains("--api-path"), "{e}");
        }
    }

    #[test]
    fn http_triggers_are_read_from_bindings_whatever_the_case() {
        let list = vec![
            function(
                "HttpExample",
                json!([{"type": "httpTrigger", "direction": "in", "name": "req", "authLevel": "ANONYMOUS",
                        "route": "HttpExample", "methods": ["get", "POST"]},
                       {"type": "http", "direction": "out", "name": "$return"}]),
            ),
            function(
                "Timer",
                json!([{"type": "timerTrigger", "direction": "in"}]),
            ),
            function("All", json!([{"Type": "HTTPTRIGGER", "direction": "in"}])),
        ];
        let f = http_functions(&list);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].name, "All");
        assert_eq!(f[0].route, "All");
        assert_eq!(f[0].methods, None);
        assert_eq!(f[1].methods, Some(vec!["GET".into(), "POST".into()]));
        assert_eq!(f[1].auth_level.as_deref(), Some("ANONYMOUS"));
    }

    #[test]
    fn routes_become_templates_with_parameters() {
        assert_eq!(url_template("HttpExample"), ("/HttpExample".into(), vec![]));
        assert_eq!(
            url_template("orders/{id:int}/items/{item?}"),
            (
                "/orders/{id}/items/{item}".into(),
                vec!["id".to_string(), "item".to_string()]
            )
        );
        assert_eq!(
            url_template("files/{*rest}"),
            ("/files/{*rest}".into(), vec!["rest".to_string()])
        );
        assert_eq!(
            url_template("/c/{code:regex(^\\d{3}$)}/{n=5}"),
            (
                "/c/{code}/{n}".into(),
                vec!["code".to_string(), "n".to_string()]
            )
        );
    }

    #[test]
    fn one_operation_per_function_and_method_and_all_methods_without_a_list() {
        let fns = vec![
            HttpFunction {
                name: "HttpExample".into(),
                route: "HttpExample".into(),
                methods: Some(vec!["GET".into(), "POST".into()]),
                auth_level: None,
            },
            HttpFunction {
                name: "Any".into(),
                route: "any/{id}".into(),
                methods: None,
                auth_level: None,
            },
        ];
        let ops = desired_operations(&fns).expect("ops");
        let ids: Vec<&str> = ops.iter().map(|o| o.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "get-httpexample",
                "post-httpexample",
                "get-any",
                "post-any",
                "put-any",
                "patch-any",
                "delete-any",
                "head-any",
                "options-any"
            ]
        );
        assert_eq!(ops[2].url_template, "/any/{id}");
        let p = ops[2].properties("app");
        assert_eq!(
            p["templateParameters"],
            json!([{"name": "id", "type": "string", "required": true}])
        );
    }

    fn existing_op(id: &str, props: Value) -> Value {
        json!({"id": format!("/x/operations/{id}"), "name": id, "properties": props})
    }

    #[test]
    fn operations_are_created_updated_kept_and_our_stale_ones_deleted() {
        let fns = vec![HttpFunction {
            name: "HttpExample".into(),
            route: "HttpExample".into(),
            methods: Some(vec!["GET".into(), "POST".into()]),
            auth_level: None,
        }];
        let desired = desired_operations(&fns).expect("ops");
        let mut get = desired[0].properties("app");
        get["templateParameters"] = json!([]);
        get["responses"] = json!([]);
        let mut post_old = desired[1].properties("app");
        post_old["urlTemplate"] = json!("/old");
        let current = vec![
            existing_op("get-httpexample", get),
            existing_op("post-httpexample", post_old),
            // Ours, for a function that is gone.
            existing_op(
                "get-gone",
                json!({"method": "GET", "urlTemplate": "/gone", "description": "Function Gone of app, imported by apimfn"}),
            ),
            // The user's: same pattern, no marker; and a custom id.
            existing_op(
                "get-health",
                json!({"method": "GET", "urlTemplate": "/health"}),
            ),
            existing_op(
                "custom",
                json!({"method": "GET", "urlTemplate": "/c", "description": "x imported by apimfn"}),
            ),
        ];
        let steps = decide_operations(&desired, &current, "app");
        assert!(matches!(&steps[0], OperationStep::Keep { op } if op.id == "get-httpexample"));
        let OperationStep::Put { op, decision } = &steps[1] else {
            panic!("expected a put: {steps:?}")
        };
        assert_eq!(op.id, "post-httpexample");
        let EntityDecision::Update(fields) = decision else {
            panic!("expected an update")
        };
        assert_eq!(fields[0].path, "properties.urlTemplate");
        assert_eq!(
            steps[2],
            OperationStep::Delete {
                id: "get-gone".into()
            }
        );
        assert_eq!(steps.len(), 3, "{steps:?}");
        // A new function's operations are created.
        let steps = decide_operations(&desired, &[], "app");
        assert!(steps.iter().all(|s| matches!(
            s,
            OperationStep::Put {
                decision: EntityDecision::Create,
                ..
            }
        )));
    }

    #[test]
    fn named_value_value_drift_is_repaired_and_never_shown() {
        let current = json!({"name": "app-key", "properties": {"displayName": "app-key", "secret": true,
                             "tags": ["key", "function", "auto", "mine"]}});
        let (d, body) = decide_named_value(Some(&current), Some("k1"), "app-key", "k1");
        assert_eq!(d, EntityDecision::Nothing);
        assert_eq!(
            body["properties"]["tags"],
            json!(["key", "function", "auto", "mine"])
        );
        let (d, _) = decide_named_value(Some(&current), Some("rotated"), "app-key", "k1");
        let EntityDecision::Update(fields) = d else {
            panic!("expected an update")
        };
        assert_eq!(fields.len(), 1);
        assert_eq!(fields[0].path, "properties.value");
        assert_eq!(fields[0].new, json!("(secret)"));
        assert_eq!(fields[0].old, Some(json!("(secret)")));
        let plain = json!({"properties": {"displayName": "app-key", "secret": false, "tags": []}});
        let (d, _) = decide_named_value(Some(&plain), Some("k1"), "app-key", "k1");
        assert_eq!(d.fields().len(), 2, "{d:?}");
        let (d, body) = decide_named_value(None, None, "app-key", "k1");
        assert_eq!(d, EntityDecision::Create);
        assert_eq!(body["properties"]["value"], "k1");
        assert_eq!(body["properties"]["secret"], true);
    }

    #[test]
    fn backend_and_api_compare_only_owned_fields() {
        let rid = "https://management.azure.com/subscriptions/s/resourceGroups/g/providers/Microsoft.Web/sites/app";
        let want = backend_desired("app", "app.azurewebsites.net", rid);
        assert_eq!(
            want["properties"]["credentials"]["header"]["x-functions-key"],
            json!(["{{app-key}}"])
        );
        let mut current = want.clone();
        current["properties"]["description"] = json!("mine");
        current["properties"]["credentials"]["header"]["x-other"] = json!(["1"]);
        assert_eq!(
            decide_entity(Some(&current), &want),
            EntityDecision::Nothing
        );
        current["properties"]["url"] = json!("https://elsewhere/api");
        let d = decide_entity(Some(&current), &want);
        assert_eq!(d.fields()[0].path, "properties.url");
        let mut merged = current["properties"].clone();
        merge(&mut merged, &want["properties"]);
        assert_eq!(merged["url"], "https://app.azurewebsites.net/api");
        assert_eq!(merged["credentials"]["header"]["x-other"], json!(["1"]));
        assert_eq!(merged["description"], "mine");

        let api = api_desired("app", "app", "app.azurewebsites.net");
        let mut current = api.clone();
        current["properties"]["isCurrent"] = json!(true);
        current["properties"]["protocols"] = json!(["https"]);
        assert_eq!(decide_entity(Some(&current), &api), EntityDecision::Nothing);
        current["properties"]["path"] = json!("other");
        assert_eq!(
            decide_entity(Some(&current), &api).fields()[0].path,
            "properties.path"
        );
        assert_eq!(decide_entity(None, &api), EntityDecision::Create);
    }
}
