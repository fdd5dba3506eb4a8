//! The API Management gateway at `https://{service}.azure-api.net/{api path}/{operation}`: API and
//! operation matching, the subscription-key check, policy execution across the global → API →
//! operation scopes, and forwarding to the backend IN-PROCESS through [`crate::server::exchange`]
//! (so the request is logged and routed like a network request, e.g. to the emulated function host).
//!
//! Sources:
//! - error bodies `{"statusCode": 401, "message": "Access denied due to missing subscription key.
//!   Make sure to include subscription key when making requests to an API."}` (MicrosoftDocs/azure-
//!   docs#15130, microsoft/MCW-App-modernization#44, Altinn/altinn-studio#3739) and "Access denied
//!   due to invalid subscription key. Make sure to provide a valid key for an active
//!   subscription." (felixrieseberg/project-oxford#24); `{"statusCode": 404, "message": "Resource
//!   not found"}` for a request no API/operation matches; `{"statusCode": 500, "message":
//!   "Internal server error", "activityId": …}` for a policy or backend failure (APIM's default
//!   error answer; docs "Error handling in API Management policies").
//! - subscription scopes (`/apis`, `/apis/{id}`, the built-in all-access `master`) and
//!   `subscriptionKeyParameterNames` (docs "Subscriptions in Azure API Management"; spec
//!   `apimapis.json`); the key header/query parameter is not forwarded to the backend.
//! - policy semantics: see [`policy`]; `authentication-managed-identity` failures surface as 500
//!   unless `ignore-error="true"` (policy reference).
//!
//! Emulator choices (not confirmed by a source, see docs/emulator.md): a host with no live service
//! answers 404 text (real DNS would not resolve); a service not yet `Succeeded`/`Updating` answers
//! 503 `{"statusCode": 503, "message": "Service Unavailable"}`; operation matching happens before
//! the key check; `/products/…` scopes never match (products are not modelled).

pub mod policy;

use crate::arm::store;
use crate::http::{Req, json_response, text};
use crate::server::Emulator;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use policy::Node;
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// Name/value pairs (template parameters, query parameters).
type Params = Vec<(String, String)>;

const SUFFIX: &str = ".azure-api.net";

/// The service name of a gateway host (`{name}.azure-api.net`); `None` for other hosts,
/// including the portal/management/scm hosts (`{name}.portal.azure-api.net`, …).
pub fn service_of_host(host: &str) -> Option<&str> {
    let name = host.strip_suffix(SUFFIX)?;
    (!name.is_empty() && !name.contains('.')).then_some(name)
}

/// APIM's error answer `{"statusCode", "message"}`.
fn apim_error(status: StatusCode, message: &str) -> Response {
    json_response(
        status,
        &json!({"statusCode": status.as_u16(), "message": message}),
    )
}

fn internal_error() -> Response {
    json_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        &json!({"statusCode": 500, "message": "Internal server error",
                "activityId": uuid::Uuid::new_v4().to_string()}),
    )
}

/// What the request resolved to, read under one lock.
struct Route {
    svc_id: String,
    principal_id: Option<String>,
    /// The path after the API's path ("" or "/…").
    remainder: String,
    /// `{name}` values from the operation's URL template.
    template_values: Vec<(String, String)>,
    service_url: Option<String>,
    /// The subscription key's header and query parameter names (stripped before forwarding).
    key_header: String,
    key_query: String,
    inbound: Vec<Node>,
    backend: Vec<Node>,
    outbound: Vec<Node>,
    on_error: Vec<Node>,
}

/// The request as the policies shape it on its way to the backend.
struct Exchange {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
    backend: Option<String>,
    vars: Map<String, Value>,
    template_values: Vec<(String, String)>,
}

pub async fn handle(em: &Arc<Emulator>, name: &str, req: Req) -> Response {
    // Operations whose time has come take effect first (an activation that ended is serving even
    // if nobody polled ARM since).
    crate::arm::lro::settle(em);
    let route = {
        let world = em.world();
        match resolve(&world, name, &req) {
            Ok(r) => r,
            Err(resp) => return resp,
        }
    };
    let mut headers = req.headers.clone();
    headers.remove("host");
    headers.remove("content-length");
    headers.remove(route.key_header.as_str());
    let mut query = req.query.clone();
    query.retain(|(k, _)| !k.eq_ignore_ascii_case(&route.key_query));
    let mut x = Exchange {
        method: req.method.clone(),
        path: route.remainder.clone(),
        query,
        headers,
        body: req.body.clone(),
        backend: route.service_url.clone(),
        vars: Map::new(),
        template_values: route.template_values.clone(),
    };
    match pipeline(em, &route, &mut x).await {
        Ok(resp) => resp,
        Err(e) => {
            tracing::debug!("gateway policy error: {e}");
            let mut resp = internal_error();
            match run_on_response(em, &route, &mut x, &route.on_error, &mut resp) {
                Ok(Some(r)) => r,
                Ok(None) => resp,
                Err(_) => internal_error(),
            }
        }
    }
}

fn name_eq(v: &Value, key: &str, want: &str) -> bool {
    v[key]
        .as_str()
        .is_some_and(|s| s.eq_ignore_ascii_case(want))
}

/// Find the service, API and operation, check the subscription key, and assemble the effective
/// policies. `Err` is the gateway's answer.
fn resolve(world: &crate::world::World, name: &str, req: &Req) -> Result<Route, Response> {
    let svc = world
        .resources
        .values()
        .find(|v| {
            name_eq(v, "type", crate::arm::apim::SERVICE_TYPE) && name_eq(v, "name", name)
        })
        .cloned()
        .ok_or_else(|| {
            text(
                StatusCode::NOT_FOUND,
                format!("the emulator has no API Management service named '{name}' (in Azure the host name would not resolve)"),
            )
        })?;
    let state = svc["properties"]["provisioningState"]
        .as_str()
        .unwrap_or_default();
    if !matches!(state, "Succeeded" | "Updating") {
        return Err(apim_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable",
        ));
    }
    let svc_id = svc["id"].as_str().unwrap_or_default().to_string();
    let not_found = || apim_error(StatusCode::NOT_FOUND, "Resource not found");

    // The API whose path is the longest prefix of the request path (whole segments).
    let req_path = req.path.trim_start_matches('/');
    let mut best: Option<(usize, Value, String)> = None;
    for api in store::children(world, &svc_id, "apis") {
        let api_name = api["name"].as_str().unwrap_or_default();
        if api_name.contains(';') || api["properties"]["isCurrent"] == json!(false) {
            continue; // revisions are not served on the main path
        }
        let path = api["properties"]["path"]
            .as_str()
            .unwrap_or_default()
            .trim_matches('/');
        let lower = req_path.to_ascii_lowercase();
        let lp = path.to_ascii_lowercase();
        let remainder = if lp.is_empty() {
            Some(format!("/{req_path}"))
        } else if lower == lp {
            Some(String::new())
        } else if lower.starts_with(&format!("{lp}/")) {
            Some(req_path[path.len()..].to_string())
        } else {
            None
        };
        if let Some(rem) = remainder
            && best.as_ref().is_none_or(|(len, _, _)| path.len() > *len)
        {
            best = Some((path.len(), api, rem));
        }
    }
    let (_, api, remainder) = best.ok_or_else(not_found)?;
    let api_id = api["id"].as_str().unwrap_or_default().to_string();

    // The operation: method and URL template; the most literal template wins.
    let mut op_best: Option<(usize, Value, Params)> = None;
    for op in store::children(world, &api_id, "operations") {
        let method = op["properties"]["method"].as_str().unwrap_or_default();
        if !(method == "*" || method.eq_ignore_ascii_case(req.method.as_str())) {
            continue;
        }
        let template = op["properties"]["urlTemplate"].as_str().unwrap_or("/");
        if let Some((score, values)) = match_template(template, &remainder, req)
            && op_best.as_ref().is_none_or(|(s, _, _)| score > *s)
        {
            op_best = Some((score, op, values));
        }
    }
    let (_, op, template_values) = op_best.ok_or_else(not_found)?;
    let op_id = op["id"].as_str().unwrap_or_default().to_string();

    // The subscription key.
    let p = &api["properties"];
    let key_header = p["subscriptionKeyParameterNames"]["header"]
        .as_str()
        .unwrap_or("Ocp-Apim-Subscription-Key")
        .to_string();
    let key_query = p["subscriptionKeyParameterNames"]["query"]
        .as_str()
        .unwrap_or("subscription-key")
        .to_string();
    if p["subscriptionRequired"] != json!(false) {
        let key = req
            .header(&key_header)
            .map(str::to_string)
            .or_else(|| req.query(&key_query).map(str::to_string));
        let Some(key) = key else {
            return Err(apim_error(
                StatusCode::UNAUTHORIZED,
                "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.",
            ));
        };
        if !key_is_valid(world, &svc_id, &api_id, &key) {
            return Err(apim_error(
                StatusCode::UNAUTHORIZED,
                "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.",
            ));
        }
    }

    // The policies, global → API → operation.
    let doc = |id: String| -> Result<Option<Node>, Response> {
        let Some(p) = store::get(world, &format!("{id}/policies/policy")) else {
            return Ok(None);
        };
        let value = p["properties"]["value"].as_str().unwrap_or_default();
        let format = p["properties"]["format"].as_str().unwrap_or("xml");
        if format.ends_with("-link") {
            tracing::debug!("policy links are not fetched by the emulator");
            return Err(internal_error());
        }
        policy::parse(value).map(Some).map_err(|_| internal_error())
    };
    let docs = [doc(svc_id.clone())?, doc(api_id)?, doc(op_id)?];
    let section = |name: &str, top: Vec<Node>| {
        docs.iter()
            .fold(top, |parent, d| policy::effective(d.as_ref(), name, parent))
    };
    Ok(Route {
        principal_id: svc["identity"]["principalId"].as_str().map(str::to_string),
        svc_id,
        remainder,
        template_values,
        service_url: p["serviceUrl"].as_str().map(str::to_string),
        key_header,
        key_query,
        inbound: section("inbound", Vec::new()),
        backend: section("backend", vec![Node::forward_request()]),
        outbound: section("outbound", Vec::new()),
        on_error: section("on-error", Vec::new()),
    })
}

/// A key of an active subscription whose scope covers the API: the service (`master`: `{svc}/`),
/// all APIs (`{svc}/apis`) or this API (`{svc}/apis/{id}`).
fn key_is_valid(world: &crate::world::World, svc_id: &str, api_id: &str, key: &str) -> bool {
    let svc = svc_id.to_ascii_lowercase();
    let api = api_id.to_ascii_lowercase();
    store::children(world, svc_id, "subscriptions")
        .iter()
        .any(|s| {
            let scope = s["properties"]["scope"]
                .as_str()
                .unwrap_or_default()
                .trim_end_matches('/')
                .to_ascii_lowercase();
            let covers = scope == svc || scope == format!("{svc}/apis") || scope == api;
            let active = s["properties"]["state"] == "active";
            let matches = [&s["_emu"]["primaryKey"], &s["_emu"]["secondaryKey"]]
                .iter()
                .any(|k| k.as_str() == Some(key));
            covers && active && matches
        })
}

/// Match a URL template (`/items/{id}`, `/files/{*rest}`, `/search?q={q}`) against the path after
/// the API path; `Some((literal segments, values))`.
fn match_template(
    template: &str,
    remainder: &str,
    req: &Req,
) -> Option<(usize, Vec<(String, String)>)> {
    let (tpath, tquery) = template.split_once('?').unwrap_or((template, ""));
    let tsegs: Vec<&str> = tpath.split('/').filter(|s| !s.is_empty()).collect();
    let rsegs: Vec<&str> = remainder.split('/').filter(|s| !s.is_empty()).collect();
    let mut values = Vec::new();
    let mut score = 0;
    let mut i = 0;
    for t in &tsegs {
        if let Some(name) = t.strip_prefix("{*").and_then(|s| s.strip_suffix('}')) {
            values.push((
                name.to_string(),
                rsegs.get(i..).unwrap_or_default().join("/"),
            ));
            i = rsegs.len();
            break;
        }
        let seg = rsegs.get(i)?;
        if let Some(name) = t.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            values.push((name.to_string(), decode(seg)));
        } else if t.eq_ignore_ascii_case(seg) {
            score += 1;
        } else {
            return None;
        }
        i += 1;
    }
    if i != rsegs.len() {
        return None;
    }
    for pair in tquery.split('&').filter(|s| !s.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let got = req.query(k)?;
        if let Some(name) = v.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            values.push((name.to_string(), got.to_string()));
        }
    }
    Some((score, values))
}

fn decode(seg: &str) -> String {
    url::form_urlencoded::parse(format!("x={seg}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| seg.to_string())
}

/// inbound → backend → outbound. `Err` runs on-error.
async fn pipeline(em: &Arc<Emulator>, route: &Route, x: &mut Exchange) -> Result<Response, String> {
    if let Some(r) = run_on_request(em, route, x, &route.inbound)? {
        return Ok(r);
    }
    let mut resp: Option<Response> = None;
    for stmt in &route.backend {
        if stmt.name == "forward-request" {
            resp = Some(forward(em, x).await?);
        } else if let Some(r) = run_on_request(em, route, x, std::slice::from_ref(stmt))? {
            return Ok(r);
        }
    }
    // No forward-request ran: APIM answers an empty 200.
    let mut resp = resp.unwrap_or_else(|| crate::http::empty(StatusCode::OK));
    if let Some(r) = run_on_response(em, route, x, &route.outbound, &mut resp)? {
        return Ok(r);
    }
    Ok(resp)
}

/// Substitute `{{named value}}` references (by name or display name) and evaluate trivial
/// expressions.
fn value_of(em: &Emulator, route: &Route, x: &Exchange, raw: &str) -> Result<String, String> {
    let v = policy::evaluate(raw, &x.vars)?;
    named_values(em, &route.svc_id, &v)
}

fn named_values(em: &Emulator, svc_id: &str, s: &str) -> Result<String, String> {
    if !s.contains("{{") {
        return Ok(s.to_string());
    }
    let world = em.world();
    let all = store::children(&world, svc_id, "namedValues");
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let name = after[..end].trim();
        let nv = all
            .iter()
            .find(|v| name_eq(v, "name", name) || name_eq(&v["properties"], "displayName", name))
            .ok_or_else(|| format!("Named value '{name}' not found."))?;
        let value = nv["properties"]["value"].as_str().ok_or_else(|| {
            format!("Named value '{name}' has no value (Key Vault references are not modelled).")
        })?;
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn set_header(
    em: &Emulator,
    route: &Route,
    x: &Exchange,
    headers: &mut HeaderMap,
    stmt: &Node,
) -> Result<(), String> {
    let name = value_of(em, route, x, stmt.attr("name").unwrap_or_default())?;
    let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?;
    let action = stmt.attr("exists-action").unwrap_or("override");
    let mut values = Vec::new();
    for v in stmt.children.iter().filter(|c| c.name == "value") {
        let s = value_of(em, route, x, &v.text)?;
        values.push(HeaderValue::from_str(&s).map_err(|e| e.to_string())?);
    }
    match action {
        "skip" if headers.contains_key(&name) => {}
        "delete" => {
            headers.remove(&name);
        }
        "append" => {
            for v in values {
                headers.append(name.clone(), v);
            }
        }
        _ => {
            headers.remove(&name);
            for v in values {
                headers.append(name.clone(), v);
            }
        }
    }
    Ok(())
}

/// Statements that act on the request (inbound, backend). `Some` ends the pipeline.
fn run_on_request(
    em: &Emulator,
    route: &Route,
    x: &mut Exchange,
    stmts: &[Node],
) -> Result<Option<Response>, String> {
    for stmt in stmts {
        match stmt.name.as_str() {
            "set-header" => {
                let mut h = std::mem::take(&mut x.headers);
                let r = set_header(em, route, x, &mut h, stmt);
                x.headers = h;
                r?;
            }
            "set-variable" => {
                let name = stmt.attr("name").unwrap_or_default().to_string();
                let v = value_of(em, route, x, stmt.attr("value").unwrap_or_default())?;
                x.vars.insert(name, json!(v));
            }
            "set-backend-service" => set_backend(em, route, x, stmt)?,
            "authentication-managed-identity" => managed_identity(em, route, x, stmt)?,
            "rewrite-uri" => rewrite_uri(em, route, x, stmt)?,
            "return-response" => return Ok(Some(return_response(em, route, x, stmt)?)),
            "forward-request" | "base" => {}
            other => return Err(format!("policy '{other}' is not executed by the emulator")),
        }
    }
    Ok(None)
}

/// Statements that act on the response (outbound, on-error).
fn run_on_response(
    em: &Emulator,
    route: &Route,
    x: &mut Exchange,
    stmts: &[Node],
    resp: &mut Response,
) -> Result<Option<Response>, String> {
    for stmt in stmts {
        match stmt.name.as_str() {
            "set-header" => set_header(em, route, x, resp.headers_mut(), stmt)?,
            "set-variable" => {
                let name = stmt.attr("name").unwrap_or_default().to_string();
                let v = value_of(em, route, x, stmt.attr("value").unwrap_or_default())?;
                x.vars.insert(name, json!(v));
            }
            "return-response" => return Ok(Some(return_response(em, route, x, stmt)?)),
            "base" => {}
            other => return Err(format!("policy '{other}' is not executed by the emulator")),
        }
    }
    Ok(None)
}

/// `set-backend-service`: `base-url`, or `backend-id` → the backend entity's `url` and its
/// `credentials` (`header`, `query`, `authorization`), with named values substituted.
fn set_backend(em: &Emulator, route: &Route, x: &mut Exchange, stmt: &Node) -> Result<(), String> {
    if let Some(url) = stmt.attr("base-url") {
        x.backend = Some(value_of(em, route, x, url)?);
        return Ok(());
    }
    let id = value_of(em, route, x, stmt.attr("backend-id").unwrap_or_default())?;
    let backend = {
        let world = em.world();
        store::get(&world, &format!("{}/backends/{id}", route.svc_id))
    }
    .ok_or_else(|| format!("Backend with id '{id}' could not be found."))?;
    let p = &backend["properties"];
    x.backend = p["url"].as_str().map(str::to_string);
    let creds = &p["credentials"];
    if let Some(hs) = creds["header"].as_object() {
        for (name, values) in hs {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?;
            x.headers.remove(&name);
            for v in values
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                let v = named_values(em, &route.svc_id, v)?;
                x.headers.append(
                    name.clone(),
                    HeaderValue::from_str(&v).map_err(|e| e.to_string())?,
                );
            }
        }
    }
    if let Some(qs) = creds["query"].as_object() {
        for (name, values) in qs {
            for v in values
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                x.query
                    .push((name.clone(), named_values(em, &route.svc_id, v)?));
            }
        }
    }
    if let (Some(scheme), Some(param)) = (
        creds["authorization"]["scheme"].as_str(),
        creds["authorization"]["parameter"].as_str(),
    ) {
        let v = named_values(em, &route.svc_id, &format!("{scheme} {param}"))?;
        x.headers.insert(
            "authorization",
            HeaderValue::from_str(&v).map_err(|e| e.to_string())?,
        );
    }
    Ok(())
}

/// `authentication-managed-identity`: a token for the service's system-assigned identity.
fn managed_identity(
    em: &Emulator,
    route: &Route,
    x: &mut Exchange,
    stmt: &Node,
) -> Result<(), String> {
    let ignore = stmt.attr("ignore-error") == Some("true");
    let resource = value_of(em, route, x, stmt.attr("resource").unwrap_or_default())?;
    let token = match (&route.principal_id, stmt.attr("client-id")) {
        (_, Some(_)) => Err("user-assigned identities (client-id) are not modelled".to_string()),
        (None, None) => Err("Managed identity is not enabled for the service".to_string()),
        (Some(oid), None) => {
            crate::entra::issue_token(em, oid, &resource).map_err(|e| e.to_string())
        }
    };
    match token {
        Ok(t) => {
            if let Some(var) = stmt.attr("output-token-variable-name") {
                x.vars.insert(var.to_string(), json!(t));
            } else {
                x.headers.insert(
                    "authorization",
                    HeaderValue::from_str(&format!("Bearer {t}")).map_err(|e| e.to_string())?,
                );
            }
            Ok(())
        }
        Err(_) if ignore => Ok(()),
        Err(e) => Err(e),
    }
}

/// `rewrite-uri template="/path/{param}?a={b}"`: the backend path (relative to the backend URL);
/// unmatched query parameters are kept unless `copy-unmatched-params="false"`.
fn rewrite_uri(em: &Emulator, route: &Route, x: &mut Exchange, stmt: &Node) -> Result<(), String> {
    let template = value_of(em, route, x, stmt.attr("template").unwrap_or("/"))?;
    let copy = stmt.attr("copy-unmatched-params") != Some("false");
    let mut used: Vec<String> = Vec::new();
    let mut out = String::new();
    let mut rest = template.as_str();
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let name = after[..end].trim_start_matches('*');
        let v = x
            .template_values
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .or_else(|| {
                x.query
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| {
                        used.push(name.to_ascii_lowercase());
                        v.clone()
                    })
            })
            .unwrap_or_default();
        out.push_str(&v);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    let (path, q) = out.split_once('?').unwrap_or((out.as_str(), ""));
    let mut query: Vec<(String, String)> = url::form_urlencoded::parse(q.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if copy {
        for (k, v) in &x.query {
            let taken = used.contains(&k.to_ascii_lowercase())
                || query.iter().any(|(qk, _)| qk.eq_ignore_ascii_case(k));
            if !taken {
                query.push((k.clone(), v.clone()));
            }
        }
    }
    x.path = if path.starts_with('/') || path.is_empty() {
        path.to_string()
    } else {
        format!("/{path}")
    };
    x.query = query;
    Ok(())
}

/// `return-response`: `set-status code reason`, `set-header`s, `set-body`.
fn return_response(
    em: &Emulator,
    route: &Route,
    x: &Exchange,
    stmt: &Node,
) -> Result<Response, String> {
    let mut resp = Response::new(Body::empty());
    for child in &stmt.children {
        match child.name.as_str() {
            "set-status" => {
                let code = value_of(em, route, x, child.attr("code").unwrap_or("200"))?;
                *resp.status_mut() = code
                    .trim()
                    .parse::<u16>()
                    .ok()
                    .and_then(|c| StatusCode::from_u16(c).ok())
                    .ok_or_else(|| format!("invalid status code '{code}'"))?;
            }
            "set-header" => set_header(em, route, x, resp.headers_mut(), child)?,
            "set-body" => {
                let body = value_of(em, route, x, &child.text)?;
                *resp.body_mut() = Body::from(body);
            }
            _ => {}
        }
    }
    Ok(resp)
}

/// `forward-request`: the backend request, routed in-process like a network request.
async fn forward(em: &Arc<Emulator>, x: &Exchange) -> Result<Response, String> {
    let base = x
        .backend
        .as_deref()
        .ok_or("no backend: the API has no serviceUrl and no set-backend-service ran")?;
    let url = url::Url::parse(base).map_err(|e| format!("invalid backend URL '{base}': {e}"))?;
    let host = url
        .host_str()
        .ok_or_else(|| format!("backend URL '{base}' has no host"))?
        .to_ascii_lowercase();
    let mut path = url.path().trim_end_matches('/').to_string();
    path.push_str(&x.path);
    if path.is_empty() {
        path.push('/');
    }
    let mut query: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    query.extend(x.query.iter().cloned());
    let raw_query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query.iter())
        .finish();
    let mut headers = x.headers.clone();
    if let Ok(h) = HeaderValue::from_str(&host) {
        headers.insert("host", h);
    }
    let req = Req {
        method: x.method.clone(),
        host,
        path,
        raw_query,
        query,
        headers,
        body: x.body.clone(),
    };
    crate::server::exchange(em, req, std::time::Instant::now())
        .await
        .map_err(|_| "the backend closed the connection".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(path: &str, query: &[(&str, &str)]) -> Req {
        Req {
            method: Method::GET,
            host: "x.azure-api.net".into(),
            path: path.into(),
            raw_query: String::new(),
            query: query
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
        }
    }

    #[test]
    fn hosts_map_to_service_names() {
        assert_eq!(service_of_host("myapim.azure-api.net"), Some("myapim"));
        assert_eq!(service_of_host("myapim.portal.azure-api.net"), None);
        assert_eq!(service_of_host("management.azure.com"), None);
    }

    #[test]
    fn url_templates_match_with_parameters() {
        let r = req("/", &[]);
        assert_eq!(
            match_template("/items/{id}", "/items/42", &r),
            Some((1, vec![("id".into(), "42".into())]))
        );
        assert!(match_template("/items/{id}", "/items", &r).is_none());
        assert!(match_template("/items", "/other", &r).is_none());
        assert_eq!(
            match_template("/HttpExample", "/httpexample", &r),
            Some((1, vec![]))
        );
        assert_eq!(
            match_template("/files/{*rest}", "/files/a/b", &r),
            Some((1, vec![("rest".into(), "a/b".into())]))
        );
        let q = req("/", &[("q", "x")]);
        assert_eq!(
            match_template("/search?q={q}", "/search", &q),
            Some((1, vec![("q".into(), "x".into())]))
        );
        assert!(match_template("/search?q={q}", "/search", &r).is_none());
    }
}
