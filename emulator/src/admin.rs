//! The admin API under `https://127.0.0.1:{port}/.emulator/` (CONTRACT §6; docs/emulator.md
//! "Admin API"): the request log, the state (without secrets), settings (throttling limits), fault
//! rules, reset, health. Admin calls are never logged, throttled or faulted.

use crate::http::{Req, arm_error, empty, json_response};
use crate::server::Emulator;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use std::sync::Arc;

pub async fn handle(em: &Arc<Emulator>, req: Req) -> Response {
    let what = req.path.trim_start_matches("/.emulator/");
    match (&req.method, what) {
        // Test aid: answers the request it received (e.g. as an APIM backend, to show what the
        // gateway forwarded). Admin calls are not logged.
        (_, w) if w == "echo" || w.starts_with("echo/") => echo(&req),
        (&Method::GET, "health") => json_response(StatusCode::OK, &json!({"status": "ok"})),
        (&Method::GET, "requests") => {
            json_response(StatusCode::OK, &json!({"requests": em.log_snapshot()}))
        }
        (&Method::DELETE, "requests") => {
            em.clear_log();
            empty(StatusCode::NO_CONTENT)
        }
        (&Method::GET, "state") => json_response(StatusCode::OK, &state(em)),
        (&Method::GET, "settings") => settings(em),
        (&Method::PUT, "settings") => {
            let body = match req.json() {
                Ok(b) => b,
                Err(e) => return bad_request(&format!("the body is not JSON: {e}")),
            };
            let Some(fields) = body.as_object() else {
                return bad_request("the settings must be a JSON object");
            };
            // Check every key before applying any, so a bad document changes nothing.
            if let Some(other) = fields
                .keys()
                .find(|k| !matches!(k.as_str(), "throttle" | "tokenLifetimeSeconds"))
            {
                return bad_request(&format!(
                    "unknown setting '{other}' (known: throttle, tokenLifetimeSeconds)"
                ));
            }
            if let Some(v) = fields.get("tokenLifetimeSeconds") {
                let lifetime = json!({"tokenLifetimeSeconds": v});
                if let Err(e) = crate::entra::put_settings(&mut em.world(), &lifetime) {
                    return bad_request(&e);
                }
                em.save();
            }
            if let Some(v) = fields.get("throttle")
                && let Err(e) = em.throttle.configure(v)
            {
                return bad_request(&e);
            }
            settings(em)
        }
        (&Method::GET, "faults") => faults(em),
        (&Method::PUT, "faults") => {
            let body = match req.json() {
                Ok(b) => b,
                Err(e) => return bad_request(&format!("the body is not JSON: {e}")),
            };
            match em.faults.set(&body) {
                Ok(_) => faults(em),
                Err(e) => bad_request(&format!("invalid faults document: {e}")),
            }
        }
        (&Method::DELETE, "faults") => {
            em.faults.clear();
            empty(StatusCode::NO_CONTENT)
        }
        (&Method::POST, "reset") => {
            {
                let mut world = em.world();
                world.reset();
                crate::directory::seed(&mut world);
                crate::arm::seed(&mut world);
            }
            em.clear_log();
            em.faults.clear();
            em.throttle.refill_all();
            em.save();
            empty(StatusCode::NO_CONTENT)
        }
        _ => arm_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("no admin endpoint {} /.emulator/{what}", req.method),
        ),
    }
}

fn bad_request(message: &str) -> Response {
    arm_error(StatusCode::BAD_REQUEST, "InvalidRequest", message)
}

fn settings(em: &Emulator) -> Response {
    json_response(
        StatusCode::OK,
        &json!({
            "throttle": em.throttle.limits(),
            "tokenLifetimeSeconds": crate::entra::settings(&em.world())["tokenLifetimeSeconds"],
            "timeScale": em.clock.time_scale,
            "strict": em.strict,
        }),
    )
}

fn faults(em: &Emulator) -> Response {
    json_response(
        StatusCode::OK,
        &serde_json::to_value(em.faults.get()).unwrap_or(Value::Null),
    )
}

/// Everything the emulator remembers, except secrets: the seeded client secret (and the secrets
/// table it lives in) and the signing key are left out, and any other copy of the secret text is
/// masked.
fn state(em: &Emulator) -> Value {
    let world = em.world();
    let secret = world.seed.client_secret.clone();
    let mut data = world.data.clone();
    data.remove(crate::directory::SECRETS);
    let mut v = json!({
        "seed": {
            "tenantId": world.seed.tenant_id,
            "subscriptionId": world.seed.subscription_id,
            "clientId": world.seed.client_id,
            "objectId": world.seed.object_id,
        },
        "resources": world.resources,
        "operations": world.operations,
        "data": data,
    });
    drop(world);
    mask(&mut v, &secret);
    v
}

fn mask(v: &mut Value, secret: &str) {
    match v {
        Value::String(s) if !secret.is_empty() && s.contains(secret) => {
            *s = s.replace(secret, "***");
        }
        Value::Array(a) => a.iter_mut().for_each(|x| mask(x, secret)),
        Value::Object(o) => o.values_mut().for_each(|x| mask(x, secret)),
        _ => {}
    }
}

/// `/.emulator/echo[/…]`: the request as received: method, host, path, query, headers, body.
fn echo(req: &Req) -> Response {
    let mut headers = serde_json::Map::new();
    for (name, value) in &req.headers {
        let v = String::from_utf8_lossy(value.as_bytes()).to_string();
        match headers.get_mut(name.as_str()) {
            Some(Value::String(prev)) => {
                prev.push_str(", ");
                prev.push_str(&v);
            }
            _ => {
                headers.insert(name.as_str().to_string(), json!(v));
            }
        }
    }
    json_response(
        StatusCode::OK,
        &json!({
            "method": req.method.as_str(),
            "host": req.host,
            "path": req.path,
            "query": req.raw_query,
            "headers": headers,
            "body": String::from_utf8_lossy(&req.body),
        }),
    )
}
