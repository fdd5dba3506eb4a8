//! The admin API under `https://127.0.0.1:{port}/.emulator/` (CONTRACT §6).

use crate::http::{Req, arm_error, empty, json_response};
use crate::server::Emulator;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::json;
use std::sync::Arc;

pub async fn handle(em: &Arc<Emulator>, req: Req) -> Response {
    let what = req.path.trim_start_matches("/.emulator/");
    match (&req.method, what) {
        (&Method::GET, "requests") => {
            json_response(StatusCode::OK, &json!({"requests": em.log_snapshot()}))
        }
        (&Method::DELETE, "requests") => {
            em.clear_log();
            empty(StatusCode::NO_CONTENT)
        }
        (&Method::GET, "state") => {
            let world = em.world();
            json_response(
                StatusCode::OK,
                &json!({
                    "resources": world.resources,
                    "operations": world.operations,
                    "data": world.data,
                }),
            )
        }
        (&Method::GET, "settings") => {
            json_response(StatusCode::OK, &crate::entra::settings(&em.world()))
        }
        (&Method::PUT, "settings") => {
            let body = match req.json() {
                Ok(b) => b,
                Err(e) => return arm_error(StatusCode::BAD_REQUEST, "InvalidJson", &e),
            };
            let result = crate::entra::put_settings(&mut em.world(), &body);
            match result {
                Ok(s) => {
                    em.save();
                    json_response(StatusCode::OK, &s)
                }
                Err(e) => arm_error(StatusCode::BAD_REQUEST, "InvalidSetting", &e),
            }
        }
        (&Method::POST, "reset") => {
            {
                let mut world = em.world();
                world.reset();
                crate::directory::seed(&mut world);
                crate::arm::seed(&mut world);
            }
            em.clear_log();
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
