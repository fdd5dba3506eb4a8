//! The service's children: apis, operations, policies (service, api, operation scope), backends,
//! named values (asynchronous, as recorded), subscriptions (with the built-in `master`).
//!
//! Stored entities are the envelopes GET answers, plus an `_emu` object the emulator keeps for
//! itself (entity tag, secret value, subscription keys) and strips from every answer.

use super::service::{locked, service_id, service_not_found};
use super::{PENDING, body, next_etag, policy, validation_error};
use crate::arm::{Call, lro, resources, store};
use crate::clock::Clock;
use crate::http::{arm_error, empty, json_response, with_header};
use crate::world::{Operation, World};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};
use std::time::Duration;

/// A named-value write completes quickly (the recording's first poll already had the entity).
pub const NAMED_VALUE_WRITE: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Api,
    Operation,
    Policy,
    Backend,
    NamedValue,
    Subscription,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Api => "Api",
            Kind::Operation => "Operation",
            Kind::Policy => "Policy",
            Kind::Backend => "Backend",
            Kind::NamedValue => "NamedValue",
            Kind::Subscription => "Subscription",
        }
    }
}

/// What a path addresses below the service.
struct Target {
    kind: Kind,
    /// The collection id (`{svc}/apis`), for lists and for building item ids.
    collection: String,
    /// The item name, if an item is addressed.
    item: Option<String>,
    /// Action after the item (`listValue`, `listSecrets`).
    action: Option<String>,
    /// Parents that must exist: (id, kind).
    parents: Vec<(String, Kind)>,
    /// The resource type of the item.
    resource_type: String,
}

fn parse(svc: &str, segs: &[&str]) -> Option<Target> {
    let l: Vec<String> = segs.iter().map(|s| s.to_ascii_lowercase()).collect();
    let l: Vec<&str> = l.iter().map(String::as_str).collect();
    let t = |kind, coll: String, item: Option<&str>, action: Option<&str>, parents, rt: &str| {
        Some(Target {
            kind,
            collection: coll,
            item: item.map(str::to_string),
            action: action.map(str::to_string),
            parents,
            resource_type: format!("Microsoft.ApiManagement/service/{rt}"),
        })
    };
    let api = |a: &str| (format!("{svc}/apis/{a}"), Kind::Api);
    let op = |a: &str, o: &str| (format!("{svc}/apis/{a}/operations/{o}"), Kind::Operation);
    match l.as_slice() {
        ["apis"] => t(Kind::Api, format!("{svc}/apis"), None, None, vec![], "apis"),
        ["apis", _] => t(
            Kind::Api,
            format!("{svc}/apis"),
            Some(segs[1]),
            None,
            vec![],
            "apis",
        ),
        ["apis", _, "operations", rest @ ..] if rest.len() <= 1 => t(
            Kind::Operation,
            format!("{svc}/apis/{}/operations", segs[1]),
            segs.get(3).copied(),
            None,
            vec![api(segs[1])],
            "apis/operations",
        ),
        ["apis", _, "policies", rest @ ..] if rest.len() <= 1 => t(
            Kind::Policy,
            format!("{svc}/apis/{}/policies", segs[1]),
            segs.get(3).copied(),
            None,
            vec![api(segs[1])],
            "apis/policies",
        ),
        ["apis", _, "operations", _, "policies", rest @ ..] if rest.len() <= 1 => t(
            Kind::Policy,
            format!("{svc}/apis/{}/operations/{}/policies", segs[1], segs[3]),
            segs.get(5).copied(),
            None,
            vec![api(segs[1]), op(segs[1], segs[3])],
            "apis/operations/policies",
        ),
        ["policies", rest @ ..] if rest.len() <= 1 => t(
            Kind::Policy,
            format!("{svc}/policies"),
            segs.get(1).copied(),
            None,
            vec![],
            "policies",
        ),
        ["backends", rest @ ..] if rest.len() <= 1 => t(
            Kind::Backend,
            format!("{svc}/backends"),
            segs.get(1).copied(),
            None,
            vec![],
            "backends",
        ),
        ["namedvalues", rest @ ..] if rest.len() <= 1 => t(
            Kind::NamedValue,
            format!("{svc}/namedValues"),
            segs.get(1).copied(),
            None,
            vec![],
            "namedValues",
        ),
        ["namedvalues", _, "listvalue"] => t(
            Kind::NamedValue,
            format!("{svc}/namedValues"),
            Some(segs[1]),
            Some("listValue"),
            vec![],
            "namedValues",
        ),
        ["subscriptions", rest @ ..] if rest.len() <= 1 => t(
            Kind::Subscription,
            format!("{svc}/subscriptions"),
            segs.get(1).copied(),
            None,
            vec![],
            "subscriptions",
        ),
        ["subscriptions", _, "listsecrets"] => t(
            Kind::Subscription,
            format!("{svc}/subscriptions"),
            Some(segs[1]),
            Some("listSecrets"),
            vec![],
            "subscriptions",
        ),
        _ => None,
    }
}

/// APIM's 404 for a missing child: `ResourceNotFound` "Api not found." (terraform-provider-
/// azurerm#28201).
fn not_found(kind: Kind) -> Response {
    arm_error(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        &format!("{} not found.", kind.label()),
    )
}

/// The stored entity as the API answers it: `_emu` removed, secrets hidden.
fn render(v: &Value) -> Value {
    let mut out = v.clone();
    if let Some(m) = out.as_object_mut() {
        m.remove("_emu");
    }
    out
}

fn etag_of(v: &Value) -> Option<String> {
    v["_emu"]["etag"].as_str().map(str::to_string)
}

fn with_entity_etag(resp: Response, v: &Value) -> Response {
    match etag_of(v) {
        Some(e) => with_header(resp, "etag", &format!("\"{e}\"")),
        None => resp,
    }
}

/// `If-Match`: required on PATCH and DELETE ([spec] `IfMatchRequiredParameter`), optional on PUT;
/// `*` or the current tag passes, another tag is 412.
fn check_if_match(
    call: &Call<'_>,
    existing: Option<&Value>,
    required: bool,
) -> Result<(), Response> {
    let Some(h) = call.req.header("if-match") else {
        return if required {
            Err(validation_error(
                "If-Match",
                "The If-Match header is required.",
            ))
        } else {
            Ok(())
        };
    };
    let h = h.trim();
    if h == "*" {
        return Ok(());
    }
    match existing.and_then(etag_of) {
        Some(tag) if h.trim_matches('"') == tag => Ok(()),
        None => Ok(()),
        Some(_) => Err(arm_error(
            StatusCode::PRECONDITION_FAILED,
            "PreconditionFailed",
            "Resource was modified since last retrieval. Refresh entity and try again.",
        )),
    }
}

pub fn handle(call: &Call<'_>, svc_name: &str, segs: &[&str]) -> Response {
    let sub = call.path.subscription.clone().unwrap_or_default();
    let rg = call.path.resource_group.clone().unwrap_or_default();
    let svc = service_id(&sub, &rg, svc_name);
    let write = call.req.method != Method::GET && call.req.method != Method::HEAD;
    {
        let world = call.em.world();
        if store::group(&world, &sub, &rg).is_none() {
            return resources::not_found(&rg);
        }
        let Some(s) = store::get(&world, &svc) else {
            return service_not_found(&rg, svc_name);
        };
        let state = s["properties"]["provisioningState"]
            .as_str()
            .unwrap_or_default();
        // While activating the management endpoint is not there yet: every call fails
        // (vscode-apimanagement#328 was a read); while updating, writes are refused.
        match state {
            "Succeeded" => {}
            "Updating" if !write => {}
            other => return locked(other),
        }
    }
    let Some(t) = parse(&svc, segs) else {
        return arm_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!(
                "The emulator does not model '{} {}'.",
                call.req.method, call.path.raw
            ),
        );
    };
    {
        let world = call.em.world();
        for (id, kind) in &t.parents {
            if !store::exists(&world, id) {
                return not_found(*kind);
            }
        }
    }
    match (&t.item, &t.action, &call.req.method) {
        (None, None, &Method::GET) => list(call, &t),
        (Some(item), None, m) => {
            let id = format!("{}/{item}", t.collection);
            match *m {
                Method::GET | Method::HEAD => get(call, &t, &id),
                Method::PUT => put(call, &t, item, &id, &svc),
                Method::PATCH => patch(call, &t, &id, &svc),
                Method::DELETE => delete(call, &t, &id),
                _ => method_not_allowed(),
            }
        }
        (Some(item), Some(action), &Method::POST) => {
            let id = format!("{}/{item}", t.collection);
            list_secret(call, &t, &id, action)
        }
        _ => method_not_allowed(),
    }
}

fn method_not_allowed() -> Response {
    arm_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        "The method is not allowed.",
    )
}

fn list(call: &Call<'_>, t: &Target) -> Response {
    let world = call.em.world();
    let (parent, child) = t.collection.rsplit_once('/').unwrap_or_default();
    let value: Vec<Value> = store::children(&world, parent, child)
        .iter()
        .map(|v| present(call, t.kind, v))
        .collect();
    let count = value.len();
    json_response(StatusCode::OK, &json!({"value": value, "count": count}))
}

/// The answer for one entity, per kind (GET shapes).
fn present(call: &Call<'_>, kind: Kind, v: &Value) -> Value {
    let mut out = render(v);
    match kind {
        Kind::NamedValue if out["properties"]["secret"] == json!(true) => {
            if let Some(p) = out["properties"].as_object_mut() {
                p.remove("value");
            }
        }
        Kind::Policy => {
            let fmt = call.req.query("format").unwrap_or("xml");
            out["properties"]["format"] = json!(fmt);
        }
        _ => {}
    }
    out
}

fn get(call: &Call<'_>, t: &Target, id: &str) -> Response {
    if t.kind == Kind::NamedValue
        && let Some(aid) = call.req.query("asyncId")
    {
        return named_value_poll(call, id, aid);
    }
    let world = call.em.world();
    match store::get(&world, id) {
        Some(v) if call.req.method == Method::HEAD => with_entity_etag(empty(StatusCode::OK), &v),
        Some(v) => with_entity_etag(
            json_response(StatusCode::OK, &present(call, t.kind, &v)),
            &v,
        ),
        None if call.req.method == Method::HEAD => empty(StatusCode::NOT_FOUND),
        None => not_found(t.kind),
    }
}

fn str_prop<'a>(p: &'a Value, name: &str) -> Option<&'a str> {
    p[name].as_str()
}

fn require(p: &Value, name: &str, max: usize) -> Result<(), Response> {
    match str_prop(p, name) {
        Some(s) if !s.is_empty() && s.chars().count() <= max => Ok(()),
        Some(s) if !s.is_empty() => Err(validation_error(
            name,
            &format!("The field {name} must be a string with a maximum length of '{max}'."),
        )),
        _ => Err(validation_error(
            name,
            &format!("The {name} field is required."),
        )),
    }
}

fn absolute_url(s: &str) -> bool {
    url::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https" | "ws" | "wss"))
}

/// `{name}` segments of an operation's URL template.
fn template_names(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else { break };
        let name = after[..end].trim_start_matches('*').to_string();
        if !name.is_empty() {
            out.push(name);
        }
        rest = &after[end + 1..];
    }
    out
}

/// Validate the merged properties of an entity and fill the defaults GET shows.
fn validate(kind: Kind, p: &mut Value, svc: &str) -> Result<(), Response> {
    match kind {
        Kind::Api => {
            require(p, "displayName", 300)?;
            match &p["path"] {
                Value::String(s) if s.chars().count() <= 400 => {}
                Value::String(_) => {
                    return Err(validation_error(
                        "path",
                        "The field path must be a string with a maximum length of '400'.",
                    ));
                }
                _ => return Err(validation_error("path", "The path field is required.")),
            }
            if let Some(u) = str_prop(p, "serviceUrl")
                && !absolute_url(u)
            {
                return Err(validation_error(
                    "serviceUrl",
                    "The serviceUrl field must be an absolute URL.",
                ));
            }
            if let Some(protocols) = p.get("protocols") {
                let ok = protocols.as_array().is_some_and(|a| {
                    !a.is_empty()
                        && a.iter().all(|x| {
                            x.as_str()
                                .is_some_and(|s| ["http", "https", "ws", "wss"].contains(&s))
                        })
                });
                if !ok {
                    return Err(validation_error(
                        "protocols",
                        "Protocols must be a non-empty list of 'http', 'https', 'ws', 'wss'.",
                    ));
                }
            }
            if !p["subscriptionRequired"].is_null() && !p["subscriptionRequired"].is_boolean() {
                return Err(validation_error(
                    "subscriptionRequired",
                    "The subscriptionRequired field must be a boolean.",
                ));
            }
            defaults(
                p,
                json!({
                    "displayName": null, "apiRevision": "1", "description": null,
                    "subscriptionRequired": true, "serviceUrl": null, "path": null,
                    "protocols": ["https"],
                    "authenticationSettings": {"oAuth2": null, "openid": null},
                    "subscriptionKeyParameterNames": {
                        "header": "Ocp-Apim-Subscription-Key", "query": "subscription-key"},
                    "isCurrent": true,
                }),
            );
        }
        Kind::Operation => {
            require(p, "displayName", 300)?;
            require(p, "method", 100)?;
            require(p, "urlTemplate", 1000)?;
            let params = p["templateParameters"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for tp in &params {
                if tp["name"].as_str().is_none() || tp["type"].as_str().is_none() {
                    return Err(validation_error(
                        "templateParameters",
                        "Template parameters must have a name and a type.",
                    ));
                }
            }
            let mut in_template = template_names(str_prop(p, "urlTemplate").unwrap_or_default());
            let mut declared: Vec<String> = params
                .iter()
                .filter_map(|x| x["name"].as_str().map(str::to_string))
                .collect();
            in_template.sort();
            in_template.dedup();
            declared.sort();
            if in_template != declared {
                return Err(validation_error(
                    "templateParameters",
                    "All template parameters used in the UriTemplate must be defined in the Operation, and vice-versa.",
                ));
            }
            let params: Vec<Value> = params
                .into_iter()
                .map(|mut x| {
                    if x.get("values").is_none() {
                        x["values"] = json!([]);
                    }
                    x
                })
                .collect();
            p["templateParameters"] = json!(params);
            defaults(
                p,
                json!({
                    "displayName": null, "method": null, "urlTemplate": null,
                    "templateParameters": [], "description": null,
                    "request": {"queryParameters": [], "headers": [], "representations": []},
                    "responses": [], "policies": null,
                }),
            );
        }
        Kind::Policy => {
            let format = str_prop(p, "format").unwrap_or("xml").to_string();
            if !["xml", "xml-link", "rawxml", "rawxml-link"].contains(&format.as_str()) {
                return Err(validation_error(
                    "format",
                    &format!(
                        "Unsupported policy format '{format}'. Supported formats are: xml, xml-link, rawxml, rawxml-link."
                    ),
                ));
            }
            let Some(value) = str_prop(p, "value").map(str::to_string) else {
                return Err(validation_error("value", "The value field is required."));
            };
            if format.ends_with("-link") {
                if !absolute_url(&value) {
                    return Err(validation_error(
                        "value",
                        "The policy link must be an absolute URL.",
                    ));
                }
            } else if let Err(detail) = policy::validate(&value) {
                return Err(validation_error("representation", &detail));
            } else if let Err(detail) = crate::gateway::policy::check(&value) {
                // The gateway would not execute it: refuse instead of ignoring (issue 4).
                return Err(validation_error("representation", &detail));
            }
            *p = json!({"format": format, "value": value});
        }
        Kind::Backend => {
            require(p, "url", 2000)?;
            if !absolute_url(str_prop(p, "url").unwrap_or_default()) {
                return Err(validation_error(
                    "url",
                    "The url field must be an absolute URL.",
                ));
            }
            match str_prop(p, "protocol") {
                Some("http") | Some("soap") => {}
                Some(other) => {
                    return Err(validation_error(
                        "protocol",
                        &format!("Invalid protocol '{other}'. Valid values are 'http' and 'soap'."),
                    ));
                }
                None => {
                    return Err(validation_error(
                        "protocol",
                        "The protocol field is required.",
                    ));
                }
            }
        }
        Kind::NamedValue => {
            require(p, "displayName", 256)?;
            let dn = str_prop(p, "displayName").unwrap_or_default();
            if !dn
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
            {
                return Err(validation_error(
                    "displayName",
                    "The field displayName must match the regular expression '^[A-Za-z0-9-._]+$'.",
                ));
            }
            if p.get("keyVault").is_none() {
                match &p["value"] {
                    Value::String(s) if s.chars().count() <= 4096 => {}
                    Value::String(_) => {
                        return Err(validation_error(
                            "value",
                            "The field value must be a string with a maximum length of '4096'.",
                        ));
                    }
                    _ => return Err(validation_error("value", "The value field is required.")),
                }
            }
            if p["tags"].as_array().is_some_and(|a| a.len() > 32) {
                return Err(validation_error("tags", "At most 32 tags are allowed."));
            }
            let ordered = json!({
                "displayName": p["displayName"],
                "value": p["value"],
                "tags": p.get("tags").cloned().unwrap_or_else(|| json!([])),
                "secret": p.get("secret").cloned().unwrap_or(json!(false)),
            });
            let mut ordered = ordered;
            if let Some(kv) = p.get("keyVault") {
                ordered["keyVault"] = kv.clone();
            }
            *p = ordered;
        }
        Kind::Subscription => {
            require(p, "displayName", 100)?;
            let Some(scope) = str_prop(p, "scope").map(str::to_string) else {
                return Err(validation_error("scope", "The scope field is required."));
            };
            let full = if scope.starts_with("/apis") || scope.starts_with("/products") {
                format!("{svc}{scope}")
            } else if scope
                .to_ascii_lowercase()
                .starts_with(&svc.to_ascii_lowercase())
            {
                scope.clone()
            } else {
                return Err(validation_error(
                    "scope",
                    &format!(
                        "Invalid scope '{scope}'. Use '/apis', '/apis/{{apiId}}' or '/products/{{productId}}'."
                    ),
                ));
            };
            p["scope"] = json!(full);
            defaults(
                p,
                json!({
                    "ownerId": null, "scope": null, "displayName": null, "state": "active",
                    "createdDate": null, "startDate": null, "expirationDate": null,
                    "endDate": null, "notificationDate": null, "stateComment": null,
                    "allowTracing": false,
                }),
            );
        }
    }
    Ok(())
}

/// Lay `p` over `defaults`, keeping the defaults' key order.
fn defaults(p: &mut Value, defaults: Value) {
    let mut out = match defaults {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    if let Some(given) = p.as_object() {
        for (k, v) in given {
            out.insert(k.clone(), v.clone());
        }
    }
    *p = Value::Object(out);
}

/// Keys of a subscription: 32 hex characters, like APIM's.
fn new_key() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn build(
    world: &mut World,
    t: &Target,
    id: &str,
    name: &str,
    mut props: Value,
    existing: Option<&Value>,
    now: u64,
) -> Value {
    let mut emu = existing
        .map(|e| e["_emu"].clone())
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    emu["etag"] = json!(next_etag(world));
    if t.kind == Kind::Subscription {
        for k in ["primaryKey", "secondaryKey"] {
            if let Some(given) = props[k].as_str() {
                emu[k] = json!(given);
            } else if emu[k].is_null() {
                emu[k] = json!(new_key());
            }
            if let Some(m) = props.as_object_mut() {
                m.remove(k);
            }
        }
        if props["createdDate"].is_null() {
            props["createdDate"] = json!(Clock::rfc3339(now));
        }
    }
    json!({
        "id": id,
        "type": t.resource_type,
        "name": name,
        "properties": props,
        "_emu": emu,
    })
}

/// Merge of the stored properties (when updating) and the body's.
fn merged(existing: Option<&Value>, body_props: &Value, replace: bool) -> Value {
    let mut p = match existing {
        Some(e) if !replace => e["properties"].clone(),
        _ => json!({}),
    };
    if let (Some(m), Some(b)) = (p.as_object_mut(), body_props.as_object()) {
        for (k, v) in b {
            m.insert(k.clone(), v.clone());
        }
    } else if existing.is_none() || replace {
        p = body_props.clone();
    }
    if p.is_null() {
        p = json!({});
    }
    p
}

fn put(call: &Call<'_>, t: &Target, item: &str, id: &str, svc: &str) -> Response {
    let b = match body(call) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let now = call.now_ms();
    let mut world = call.em.world();
    let existing = store::get(&world, id);
    if let Err(r) = check_if_match(call, existing.as_ref(), false) {
        return r;
    }
    let mut props = merged(existing.as_ref(), &b["properties"], t.kind == Kind::Policy);
    if let Err(r) = validate(t.kind, &mut props, svc) {
        return r;
    }
    let name = existing
        .as_ref()
        .and_then(|e| e["name"].as_str().map(str::to_string))
        .unwrap_or_else(|| item.to_string());
    let id = existing
        .as_ref()
        .and_then(|e| e["id"].as_str().map(str::to_string))
        .unwrap_or_else(|| id.to_string());
    let entity = build(&mut world, t, &id, &name, props, existing.as_ref(), now);
    let status = if existing.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    if t.kind == Kind::NamedValue {
        return named_value_async(call, world, &id, entity, status);
    }
    store::put(&mut world, &id, entity.clone());
    drop(world);
    call.em.save();
    let mut answer = present(call, t.kind, &entity);
    if t.kind == Kind::Subscription {
        // The create/update answer carries the keys (arm-reference §8, test_apim_Subscription).
        answer["properties"]["primaryKey"] = entity["_emu"]["primaryKey"].clone();
        answer["properties"]["secondaryKey"] = entity["_emu"]["secondaryKey"].clone();
    }
    if t.kind == Kind::Policy {
        answer["properties"]["format"] = entity["properties"]["format"].clone();
    }
    with_entity_etag(json_response(status, &answer), &entity)
}

fn patch(call: &Call<'_>, t: &Target, id: &str, svc: &str) -> Response {
    let b = match body(call) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let now = call.now_ms();
    let mut world = call.em.world();
    let Some(existing) = store::get(&world, id) else {
        return not_found(t.kind);
    };
    if let Err(r) = check_if_match(call, Some(&existing), true) {
        return r;
    }
    let mut props = merged(Some(&existing), &b["properties"], false);
    if let Err(r) = validate(t.kind, &mut props, svc) {
        return r;
    }
    let name = existing["name"].as_str().unwrap_or_default().to_string();
    let entity = build(&mut world, t, id, &name, props, Some(&existing), now);
    if t.kind == Kind::NamedValue {
        return named_value_async(call, world, id, entity, StatusCode::OK);
    }
    store::put(&mut world, id, entity.clone());
    drop(world);
    call.em.save();
    with_entity_etag(
        json_response(StatusCode::OK, &present(call, t.kind, &entity)),
        &entity,
    )
}

fn delete(call: &Call<'_>, t: &Target, id: &str) -> Response {
    let mut world = call.em.world();
    let existing = store::get(&world, id);
    if let Err(r) = check_if_match(call, existing.as_ref(), true) {
        return r;
    }
    if existing.is_none() {
        return empty(StatusCode::NO_CONTENT);
    }
    if t.kind == Kind::Subscription && id.to_ascii_lowercase().ends_with("/subscriptions/master") {
        return validation_error(
            "sid",
            "The built-in all-access subscription cannot be deleted.",
        );
    }
    for k in store::subtree_keys(&world, id) {
        world.resources.remove(&k);
    }
    drop(world);
    call.em.save();
    empty(StatusCode::OK)
}

/// `POST namedValues/{id}/listValue` → `{"value"}`; `POST subscriptions/{sid}/listSecrets` →
/// `{"primaryKey","secondaryKey"}` (recording #325; spec example `…SubscriptionListSecrets`).
fn list_secret(call: &Call<'_>, t: &Target, id: &str, action: &str) -> Response {
    let world = call.em.world();
    let Some(v) = store::get(&world, id) else {
        return not_found(t.kind);
    };
    let body = match (t.kind, action) {
        (Kind::NamedValue, "listValue") => json!({"value": v["properties"]["value"]}),
        (Kind::Subscription, "listSecrets") => json!({
            "primaryKey": v["_emu"]["primaryKey"],
            "secondaryKey": v["_emu"]["secondaryKey"],
        }),
        _ => return method_not_allowed(),
    };
    with_entity_etag(json_response(StatusCode::OK, &body), &v)
}

/// Named-value writes: 202 with `Location: {id}?api-version=…&asyncId=…&asyncCode=201|200` and an
/// empty body (recording #323, #328; `test_apim_named_value.yaml` #0, #8).
fn named_value_async(
    call: &Call<'_>,
    mut world: std::sync::MutexGuard<'_, World>,
    id: &str,
    entity: Value,
    status: StatusCode,
) -> Response {
    let op = lro::start(
        call.em,
        &mut world,
        "apim.namedvalue",
        id,
        NAMED_VALUE_WRITE,
    );
    let async_id: String = op.id.replace('-', "").chars().take(24).collect();
    world.table(PENDING).insert(
        async_id.clone(),
        json!({"op": op.id, "id": id, "entity": entity, "code": status.as_u16()}),
    );
    drop(world);
    call.em.save();
    let location = format!(
        "https://management.azure.com{id}?api-version={}&asyncId={async_id}&asyncCode={}",
        call.api_version,
        status.as_u16()
    );
    with_header(empty(StatusCode::ACCEPTED), "location", &location)
}

/// Poll of a named-value write: 202 while running, then the entity with the `asyncCode` status.
fn named_value_poll(call: &Call<'_>, id: &str, async_id: &str) -> Response {
    let world = call.em.world();
    let pending = world
        .data
        .get(PENDING)
        .and_then(|t| t.get(async_id))
        .cloned();
    let Some(p) = pending else {
        return not_found(Kind::NamedValue);
    };
    let done = p["op"]
        .as_str()
        .and_then(|o| world.operations.get(o))
        // `applied`, not the clock: the entity exists once the operation's effects were applied
        // (at the start of this request); an operation whose time came while this request ran
        // is still finishing, as a poll racing the completion in Azure would see.
        .is_none_or(|o| o.applied);
    if !done {
        drop(world);
        return with_header(
            empty(StatusCode::ACCEPTED),
            "location",
            &format!(
                "https://management.azure.com{}?{}",
                call.req.path, call.req.raw_query
            ),
        );
    }
    let status = p["code"]
        .as_u64()
        .and_then(|c| StatusCode::from_u16(c as u16).ok())
        .unwrap_or(StatusCode::OK);
    match store::get(&world, id) {
        Some(v) => with_entity_etag(
            json_response(status, &present(call, Kind::NamedValue, &v)),
            &v,
        ),
        None => not_found(Kind::NamedValue),
    }
}

/// Completion of a named-value write: the entity appears.
pub fn settle(world: &mut World, op: &Operation, _now: u64) {
    if op.kind != "apim.namedvalue" {
        return;
    }
    let found = world
        .data
        .get(PENDING)
        .and_then(|t| t.values().find(|p| p["op"] == op.id.as_str()).cloned());
    if let Some(p) = found
        && let Some(id) = p["id"].as_str()
        && store::exists(world, &service_of(id))
    {
        store::put(world, id, p["entity"].clone());
    }
}

fn service_of(child_id: &str) -> String {
    let lower = child_id.to_ascii_lowercase();
    match lower.find("/namedvalues/") {
        Some(i) => child_id[..i].to_string(),
        None => child_id.to_string(),
    }
}

/// The built-in all-access subscription every service has (arm-reference §8).
pub fn create_master(world: &mut World, svc: &str, now: u64) {
    let id = format!("{svc}/subscriptions/master");
    let etag = next_etag(world);
    store::put(
        world,
        &id,
        json!({
            "id": id,
            "type": "Microsoft.ApiManagement/service/subscriptions",
            "name": "master",
            "properties": {
                "ownerId": null,
                "scope": format!("{svc}/"),
                "displayName": "Built-in all-access subscription",
                "state": "active",
                "createdDate": Clock::rfc3339(now),
                "startDate": null,
                "expirationDate": null,
                "endDate": null,
                "notificationDate": null,
                "stateComment": null,
                "allowTracing": false,
            },
            "_emu": {"etag": etag, "primaryKey": new_key(), "secondaryKey": new_key()},
        }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_parameters_are_read_from_url_templates() {
        assert_eq!(
            template_names("/session/{id}/oid/{oname}"),
            vec!["id".to_string(), "oname".to_string()]
        );
        assert!(template_names("/plain").is_empty());
    }

    #[test]
    fn paths_map_to_kinds_and_parents() {
        let svc = "/s/x";
        let t = parse(svc, &["apis", "a", "operations", "o", "policies", "policy"]).expect("t");
        assert_eq!(t.kind, Kind::Policy);
        assert_eq!(t.parents.len(), 2);
        assert_eq!(t.item.as_deref(), Some("policy"));
        let t = parse(svc, &["namedValues", "n", "listValue"]).expect("t");
        assert_eq!(t.action.as_deref(), Some("listValue"));
        assert!(parse(svc, &["nothing"]).is_none());
    }
}
