//! A site's sub-resources: `config/appsettings`, `config/authsettingsV2`, host and function keys,
//! the functions list and `syncfunctiontriggers`.
//!
//! Stored as child resources of the site (`{site}/config/appsettings`,
//! `{site}/config/authsettingsV2`, `{site}/host/default`) so they go with it; the functions that a
//! deployment indexes live in the world table [`FUNCTIONS_TABLE`].

use super::super::{Call, store};
use super::bad_request;
use super::sites::{reject_flex_settings, site_not_found};
use crate::http::{app_service_error, empty, json_response};
use crate::world::World;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use base64::Engine;
use serde_json::{Map, Value, json};

/// World table of the functions a site's deployed code defines, written by the deployment
/// (Kudu / onedeploy) emulation: key = the site's resource id, lowercased (`arm::ids::key`);
/// value = an object `{ "{functionName}": {FunctionEnvelope properties, snake_case as on the
/// wire} }`. [`function_properties`] builds a properties object for an HTTP trigger.
pub const FUNCTIONS_TABLE: &str = "web.functions";

fn site_id(call: &Call<'_>) -> (String, String) {
    let name = call.path.name(0).unwrap_or_default().to_string();
    let id = format!(
        "{}/providers/Microsoft.Web/sites/{name}",
        store::group_id(
            call.path.subscription.as_deref().unwrap_or_default(),
            call.path.resource_group.as_deref().unwrap_or_default()
        )
    );
    (id, name)
}

/// The site, or App Service's 404.
fn load_site(call: &Call<'_>) -> Result<(String, String, Value), Response> {
    let (id, name) = site_id(call);
    match store::get(&call.em.world(), &id) {
        Some(s) => Ok((id, name, s)),
        None => Err(site_not_found(&name)),
    }
}

fn is_flex(site: &Value) -> bool {
    site["properties"]["sku"] == "FlexConsumption"
}

// ---------------------------------------------------------------------------------------------
// App settings

pub fn store_app_settings(
    world: &mut World,
    site_id: &str,
    display: &str,
    settings: &[(String, String)],
) {
    let mut props = Map::new();
    for (k, v) in settings {
        props.insert(k.clone(), Value::String(v.clone()));
    }
    let id = format!("{site_id}/config/appsettings");
    store::put(
        world,
        &id,
        json!({"id": id, "name": "appsettings", "type": "Microsoft.Web/sites/config",
               "location": display, "properties": props}),
    );
}

/// `GET`/`PUT …/config/{appsettings|authsettingsV2}`, `POST …/appsettings/list` and
/// `GET …/authsettingsV2/list`.
pub fn config(call: &Call<'_>, list: bool) -> Response {
    let (site_id, _name, site) = match load_site(call) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let which = call.path.name(1).unwrap_or_default().to_ascii_lowercase();
    let method = &call.req.method;
    match (which.as_str(), list, method) {
        ("appsettings", true, &Method::POST) => {
            let id = format!("{site_id}/config/appsettings");
            let stored = store::get(&call.em.world(), &id);
            let display = site["location"].as_str().unwrap_or_default();
            json_response(
                StatusCode::OK,
                &stored.unwrap_or_else(|| {
                    json!({"id": id, "name": "appsettings", "type": "Microsoft.Web/sites/config",
                           "location": display, "properties": {}})
                }),
            )
        }
        ("appsettings", false, &Method::PUT) => put_app_settings(call, &site_id, &site),
        ("authsettingsv2", _, &Method::GET) if !list => get_auth(call, &site_id, &site),
        // `GET …/authsettingsV2/list` (with secrets) is the spec's GetAuthSettingsV2 — a GET, unlike
        // appsettings' POST list (arm-reference §7; azure-mgmt-web's get_auth_settings_v2).
        ("authsettingsv2", true, &Method::GET) => get_auth(call, &site_id, &site),
        ("authsettingsv2", false, &Method::PUT) => put_auth(call, &site_id, &site),
        _ => app_service_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("The emulator does not model '{method} {}'.", call.path.raw),
        ),
    }
}

fn put_app_settings(call: &Call<'_>, site_id: &str, site: &Value) -> Response {
    let body = call.req.json().unwrap_or(Value::Null);
    let Some(props) = body["properties"].as_object() else {
        return bad_request(
            "The parameter properties has an invalid value: it must be an object of app setting names to values.",
        );
    };
    let mut settings = Vec::new();
    for (k, v) in props {
        match v {
            Value::String(s) => settings.push((k.clone(), s.clone())),
            Value::Null => settings.push((k.clone(), String::new())),
            _ => {
                return bad_request(&format!(
                    "The app setting '{k}' has an invalid value: app setting values are strings."
                ));
            }
        }
    }
    if is_flex(site)
        && let Err(r) = reject_flex_settings(settings.iter().map(|(n, _)| n.as_str()))
    {
        return r;
    }
    let display = site["location"].as_str().unwrap_or_default().to_string();
    let mut world = call.em.world();
    store_app_settings(&mut world, site_id, &display, &settings);
    let stored =
        store::get(&world, &format!("{site_id}/config/appsettings")).unwrap_or(Value::Null);
    drop(world);
    call.em.save();
    json_response(StatusCode::OK, &stored)
}

// ---------------------------------------------------------------------------------------------
// Easy Auth (authsettingsV2)

const UNAUTHENTICATED_ACTIONS: &[&str] = &[
    "RedirectToLoginPage",
    "AllowAnonymous",
    "Return401",
    "Return403",
];

fn auth_envelope(site_id: &str, site: &Value, properties: Value) -> Value {
    json!({
        "id": format!("{site_id}/config/authsettingsV2"),
        "name": "authsettingsV2",
        "type": "Microsoft.Web/sites/config",
        "location": site["location"],
        "properties": properties,
    })
}

fn get_auth(call: &Call<'_>, site_id: &str, site: &Value) -> Response {
    let stored = store::get(
        &call.em.world(),
        &format!("{site_id}/config/authsettingsV2"),
    );
    let body = stored.unwrap_or_else(|| {
        // A fresh app (arm-reference §7).
        auth_envelope(site_id, site, json!({"platform": {"enabled": false}}))
    });
    json_response(StatusCode::OK, &body)
}

/// JSON.NET's conversion message, as App Service surfaces deserialisation failures.
fn conversion_error(value: &Value, target: &str, path: &str) -> Response {
    bad_request(&format!(
        "Error converting value {value} to type '{target}'. Path '{path}'."
    ))
}

/// The expected JSON type of a known authsettingsV2 path (only the parts the emulator's Easy
/// Auth reads, and their close neighbours, are type-checked).
fn check_type(v: &Value, path: &str, want: &str) -> Result<(), Response> {
    let ok = match want {
        "bool" => v.is_boolean(),
        "string" => v.is_string(),
        "strings" => v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
        "object" => v.is_object(),
        _ => true,
    };
    if v.is_null() || ok {
        return Ok(());
    }
    let target = match want {
        "bool" => "System.Boolean",
        "string" => "System.String",
        "strings" => "System.String[]",
        _ => "System.Object",
    };
    Err(conversion_error(v, target, path))
}

fn validate_auth(p: &Value) -> Result<(), Response> {
    let aad = &p["identityProviders"]["azureActiveDirectory"];
    let checks: &[(&Value, &str, &str)] = &[
        (&p["platform"], "properties.platform", "object"),
        (
            &p["platform"]["enabled"],
            "properties.platform.enabled",
            "bool",
        ),
        (
            &p["platform"]["runtimeVersion"],
            "properties.platform.runtimeVersion",
            "string",
        ),
        (
            &p["globalValidation"],
            "properties.globalValidation",
            "object",
        ),
        (
            &p["globalValidation"]["requireAuthentication"],
            "properties.globalValidation.requireAuthentication",
            "bool",
        ),
        (
            &p["globalValidation"]["redirectToProvider"],
            "properties.globalValidation.redirectToProvider",
            "string",
        ),
        (
            &p["globalValidation"]["excludedPaths"],
            "properties.globalValidation.excludedPaths",
            "strings",
        ),
        (
            &p["identityProviders"],
            "properties.identityProviders",
            "object",
        ),
        (
            aad,
            "properties.identityProviders.azureActiveDirectory",
            "object",
        ),
        (
            &aad["enabled"],
            "properties.identityProviders.azureActiveDirectory.enabled",
            "bool",
        ),
        (
            &aad["registration"]["clientId"],
            "properties.identityProviders.azureActiveDirectory.registration.clientId",
            "string",
        ),
        (
            &aad["registration"]["openIdIssuer"],
            "properties.identityProviders.azureActiveDirectory.registration.openIdIssuer",
            "string",
        ),
        (
            &aad["validation"]["allowedAudiences"],
            "properties.identityProviders.azureActiveDirectory.validation.allowedAudiences",
            "strings",
        ),
        (
            &aad["validation"]["jwtClaimChecks"]["allowedClientApplications"],
            "properties.identityProviders.azureActiveDirectory.validation.jwtClaimChecks.allowedClientApplications",
            "strings",
        ),
        (
            &aad["validation"]["jwtClaimChecks"]["allowedGroups"],
            "properties.identityProviders.azureActiveDirectory.validation.jwtClaimChecks.allowedGroups",
            "strings",
        ),
        (
            &aad["validation"]["defaultAuthorizationPolicy"]["allowedApplications"],
            "properties.identityProviders.azureActiveDirectory.validation.defaultAuthorizationPolicy.allowedApplications",
            "strings",
        ),
        (
            &aad["validation"]["defaultAuthorizationPolicy"]["allowedPrincipals"]["identities"],
            "properties.identityProviders.azureActiveDirectory.validation.defaultAuthorizationPolicy.allowedPrincipals.identities",
            "strings",
        ),
        (
            &aad["validation"]["defaultAuthorizationPolicy"]["allowedPrincipals"]["groups"],
            "properties.identityProviders.azureActiveDirectory.validation.defaultAuthorizationPolicy.allowedPrincipals.groups",
            "strings",
        ),
        (&p["login"], "properties.login", "object"),
        (&p["httpSettings"], "properties.httpSettings", "object"),
        (
            &p["httpSettings"]["requireHttps"],
            "properties.httpSettings.requireHttps",
            "bool",
        ),
    ];
    for (v, path, want) in checks {
        check_type(v, path, want)?;
    }
    let action = &p["globalValidation"]["unauthenticatedClientAction"];
    if !action.is_null()
        && !action.as_str().is_some_and(|a| {
            UNAUTHENTICATED_ACTIONS
                .iter()
                .any(|x| x.eq_ignore_ascii_case(a))
        })
    {
        return Err(conversion_error(
            action,
            "Microsoft.Web.Hosting.Administration.UnauthenticatedClientActionV2",
            "properties.globalValidation.unauthenticatedClientAction",
        ));
    }
    Ok(())
}

fn put_auth(call: &Call<'_>, site_id: &str, site: &Value) -> Response {
    let body = match call.req.json() {
        Ok(b) => b,
        Err(e) => {
            return bad_request(&format!(
                "The request content could not be deserialized: '{e}'."
            ));
        }
    };
    let props = match &body["properties"] {
        Value::Object(m) => Value::Object(m.clone()),
        Value::Null => json!({}),
        other => return conversion_error(other, "SiteAuthSettingsV2Properties", "properties"),
    };
    if let Err(r) = validate_auth(&props) {
        return r;
    }
    // Whole-object replace: what was sent is the new config. App Service answers the
    // `clearInboundClaimsMapping` flag as a string (arm-reference §7 pitfalls).
    let mut stored_props = props;
    match stored_props.get("clearInboundClaimsMapping").cloned() {
        None | Some(Value::Null) => stored_props["clearInboundClaimsMapping"] = json!("false"),
        Some(Value::Bool(b)) => stored_props["clearInboundClaimsMapping"] = json!(b.to_string()),
        Some(_) => {}
    }
    let env = auth_envelope(site_id, site, stored_props);
    let mut world = call.em.world();
    store::put(
        &mut world,
        &format!("{site_id}/config/authsettingsV2"),
        env.clone(),
    );
    drop(world);
    call.em.save();
    json_response(StatusCode::OK, &env)
}

// ---------------------------------------------------------------------------------------------
// Keys

/// A key shaped like the Functions host's: 40 random bytes, base64url with padding (56 characters
/// ending in `==`, recording #16).
pub fn new_key() -> String {
    let bytes: Vec<u8> = (0..40).map(|_| fastrand::u8(..)).collect();
    base64::engine::general_purpose::URL_SAFE.encode(bytes)
}

/// Generate the master key and the `default` function key of a new site.
pub fn create_host_keys(world: &mut World, site_id: &str) {
    let id = format!("{site_id}/host/default");
    store::put(
        world,
        &id,
        json!({
            "id": id,
            "masterKey": new_key(),
            "functionKeys": {"default": new_key()},
            "systemKeys": {},
            "functions": {},
        }),
    );
}

fn host_keys(world: &mut World, site_id: &str) -> Value {
    let id = format!("{site_id}/host/default");
    if store::get(world, &id).is_none() {
        create_host_keys(world, site_id);
    }
    store::get(world, &id).unwrap_or(Value::Null)
}

/// `POST …/host/default/listkeys`.
pub fn list_host_keys(call: &Call<'_>) -> Response {
    let (site_id, _, _) = match load_site(call) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let keys = host_keys(&mut call.em.world(), &site_id);
    call.em.save();
    json_response(
        StatusCode::OK,
        &json!({"masterKey": keys["masterKey"], "functionKeys": keys["functionKeys"],
                "systemKeys": keys["systemKeys"]}),
    )
}

/// `POST …/functions/{fn}/listkeys`: the function's own keys, `{name: value}`.
pub fn list_function_keys(call: &Call<'_>) -> Response {
    let (site_id, name, _) = match load_site(call) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let function = call.path.name(1).unwrap_or_default().to_string();
    if find_function(&call.em.world(), &site_id, &function).is_none() {
        return function_not_found(&name, &function);
    }
    let keys = host_keys(&mut call.em.world(), &site_id);
    let own = keys["functions"][&function].clone();
    json_response(
        StatusCode::OK,
        &if own.is_object() { own } else { json!({}) },
    )
}

/// `PUT`/`DELETE …/host/default/functionKeys/{name}` (also `systemKeys`) and
/// `…/functions/{fn}/keys/{name}`.
pub fn key(call: &Call<'_>) -> Response {
    let (site_id, site_name, site) = match load_site(call) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let function_scoped = call.path.type_path() == "sites/functions/keys";
    let key_name = call.path.name(2).unwrap_or_default().to_string();
    let function = call.path.name(1).unwrap_or_default().to_string();
    if function_scoped && find_function(&call.em.world(), &site_id, &function).is_none() {
        return function_not_found(&site_name, &function);
    }
    let id = if function_scoped {
        format!("{site_id}/functions/{function}/keys/{key_name}")
    } else {
        format!("{site_id}/host/default/functionKeys/{key_name}")
    };
    let pointer = if function_scoped {
        format!(
            "/functions/{}",
            function.replace('~', "~0").replace('/', "~1")
        )
    } else {
        "/functionKeys".to_string()
    };
    match call.req.method {
        Method::PUT => {
            let body = match call.req.json() {
                Ok(b) => b,
                Err(e) => {
                    return bad_request(&format!(
                        "The request content could not be deserialized: '{e}'."
                    ));
                }
            };
            // SDK 11+ and az send `{"properties": {"name", "value"}}`; without the wrapper the
            // service sees no key (arm-reference §5).
            let Some(props) = body["properties"].as_object() else {
                return bad_request(
                    "The key information is missing: the request body must be {\"properties\": {\"name\": \"…\", \"value\": \"…\"}}.",
                );
            };
            let value = match props.get("value") {
                None | Some(Value::Null) => new_key(),
                Some(Value::String(s)) if s.len() >= 16 => s.clone(),
                Some(Value::String(_)) => {
                    return bad_request("The key value must be at least 16 characters long.");
                }
                Some(other) => {
                    return bad_request(&format!("The key value {other} is not a string."));
                }
            };
            let mut world = call.em.world();
            let mut keys = host_keys(&mut world, &site_id);
            if keys.pointer(&pointer).is_none_or(|v| !v.is_object()) {
                if function_scoped {
                    keys["functions"][&function] = json!({});
                } else {
                    keys["functionKeys"] = json!({});
                }
            }
            let Some(map) = keys.pointer_mut(&pointer).and_then(Value::as_object_mut) else {
                return bad_request("The key store is not readable.");
            };
            let created = map.insert(key_name.clone(), json!(value)).is_none();
            let host_id = format!("{site_id}/host/default");
            store::put(&mut world, &host_id, keys);
            drop(world);
            call.em.save();
            let resource_type = if function_scoped {
                "Microsoft.Web/sites/functions/keys"
            } else {
                "Microsoft.Web/sites/host/functionKeys"
            };
            json_response(
                if created {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                },
                &json!({"id": id, "name": key_name, "type": resource_type,
                        "location": site["location"],
                        "properties": {"name": key_name, "value": value}}),
            )
        }
        Method::DELETE => {
            let mut world = call.em.world();
            let mut keys = host_keys(&mut world, &site_id);
            let removed = keys
                .pointer_mut(&pointer)
                .and_then(Value::as_object_mut)
                .and_then(|m| m.remove(&key_name))
                .is_some();
            store::put(&mut world, &format!("{site_id}/host/default"), keys);
            drop(world);
            call.em.save();
            empty(if removed {
                StatusCode::NO_CONTENT
            } else {
                StatusCode::NOT_FOUND
            })
        }
        _ => app_service_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "The requested resource does not support this http method.",
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Functions

/// FunctionEnvelope properties for an HTTP-triggered function, with the wire's snake_case names
/// (arm-reference §5), for the deployment emulation to put in [`FUNCTIONS_TABLE`].
pub fn function_properties(
    site_id: &str,
    host: &str,
    function: &str,
    bindings: Value,
    route: Option<&str>,
) -> Value {
    let scm = host.replacen(".azurewebsites.net", ".scm.azurewebsites.net", 1);
    let route = route.unwrap_or(function);
    json!({
        "name": function,
        "function_app_id": site_id,
        "script_root_path_href": format!("https://{scm}/admin/vfs/home/site/wwwroot/"),
        "script_href": format!("https://{scm}/admin/vfs/home/site/wwwroot/function_app.py"),
        "config_href": null,
        "test_data_href": null,
        "secrets_file_href": null,
        "href": format!("https://{scm}/admin/functions/{function}"),
        "config": {"name": function, "entryPoint": function, "scriptFile": "function_app.py",
                   "language": "python", "functionDirectory": "/home/site/wwwroot",
                   "bindings": bindings},
        "files": null,
        "test_data": null,
        "invoke_url_template": format!("https://{host}/api/{}", route.to_ascii_lowercase()),
        "language": "python",
        "isDisabled": false,
    })
}

fn functions_of(world: &World, site_id: &str) -> Map<String, Value> {
    world
        .data
        .get(FUNCTIONS_TABLE)
        .and_then(|t| t.get(&super::super::ids::key(site_id)))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn find_function(world: &World, site_id: &str, function: &str) -> Option<Value> {
    functions_of(world, site_id)
        .into_iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(function))
        .map(|(_, v)| v)
}

fn function_envelope(site_id: &str, site_name: &str, function: &str, properties: &Value) -> Value {
    json!({
        "id": format!("{site_id}/functions/{function}"),
        "name": format!("{site_name}/{function}"),
        "type": "Microsoft.Web/sites/functions",
        "location": null,
        "properties": properties,
    })
}

fn function_not_found(site: &str, function: &str) -> Response {
    app_service_error(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!(
            "Error retrieving function '{function}' for site '{site}': the function was not found."
        ),
    )
}

/// `GET …/sites/{app}/functions`: empty until code is deployed.
pub fn list_functions(call: &Call<'_>) -> Response {
    let (site_id, name, site) = match load_site(call) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let location = site["location"].clone();
    let value: Vec<Value> = functions_of(&call.em.world(), &site_id)
        .iter()
        .map(|(f, p)| {
            let mut e = function_envelope(&site_id, &name, f, p);
            e["location"] = location.clone();
            e
        })
        .collect();
    json_response(
        StatusCode::OK,
        &json!({"value": value, "nextLink": null, "id": null}),
    )
}

/// `GET …/sites/{app}/functions/{fn}`.
pub fn get_function(call: &Call<'_>) -> Response {
    let (site_id, name, site) = match load_site(call) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let function = call.path.name(1).unwrap_or_default();
    match find_function(&call.em.world(), &site_id, function) {
        Some(p) => {
            let mut e = function_envelope(&site_id, &name, function, &p);
            e["location"] = site["location"].clone();
            json_response(StatusCode::OK, &e)
        }
        None => function_not_found(&name, function),
    }
}

/// `POST …/sites/{app}/syncfunctiontriggers`: accepted; the functions list already reflects the
/// deployed code.
pub fn sync_triggers(call: &Call<'_>) -> Response {
    match load_site(call) {
        Ok(_) => empty(StatusCode::NO_CONTENT),
        Err(r) => r,
    }
}
