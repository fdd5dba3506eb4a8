//! Fault injection (`PUT/GET/DELETE /.emulator/faults`): make chosen requests fail, hang or lose
//! their connection, so clients' retry, polling and timeout paths can be tested.
//!
//! This is the emulator's own feature (issue 3 point 6), not an Azure behaviour; what a fault
//! answers follows Azure's shapes:
//! - ARM errors `{"error":{"code","message","details"}}` (common-types `ErrorResponse`), and for
//!   429 on `management.azure.com` the throttling body of `throttle.rs`
//!   (`SubscriptionRequestsThrottled`, Microsoft Learn "Request limits and throttling");
//! - `login.microsoftonline.com`: the OAuth 2.0 error shape (`error`, `error_description`, RFC 6749
//!   §5.2, with Entra's `error_codes`/`timestamp`), `temporarily_unavailable` for 429/503 and
//!   `server_error` for other 5xx (RFC 6749 §4.1.2.1);
//! - `Retry-After` in seconds (RFC 9110 §10.2.3), as ARM sends it.
//!
//! A document `{"seed": 42, "rules": [...]}` replaces the previous one. Each request (never the
//! admin API) is checked against the rules in order; the first rule that fires decides. A rule's
//! filters (all optional) are `method`, `host` (exact, or `*.suffix`), `pathContains` and
//! `queryContains`. Counting: every matching request increments `matched`; the first `after` matches
//! are let through; then the rule fires — at most `times` times, and each time only with
//! `probability` (drawn from a `fastrand` generator seeded with `seed`, so a run is repeatable).
//! Faults are held in memory only (not in `--state-dir`).

use crate::http::{Req, json_response, with_header};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::Mutex;

/// What a fault does. `latencyMs` may be combined with `status` or `drop` (wait, then fail).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Action {
    /// Answer this HTTP status instead of serving the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// `Retry-After` seconds on the status answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// Error code in the body (default: by status).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Error message in the body (default: by status).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// A JSON body to answer as it is, instead of the generated error body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// Close the connection without answering.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub drop: bool,
    /// Wait this long first (then serve normally, unless `status` or `drop` is set too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
}

/// One rule of the document.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_contains: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_contains: Option<String>,
    pub action: Action,
    /// Fire at most this many times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u64>,
    /// Fire each eligible time with this probability (0..=1), from the seeded generator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// Let the first `after` matching requests through.
    #[serde(default)]
    pub after: u64,
    /// Matching requests seen so far (read-only: reported by GET).
    #[serde(default)]
    pub matched: u64,
    /// Times the rule fired so far (read-only: reported by GET).
    #[serde(default)]
    pub fired: u64,
}

/// The whole document of `PUT /.emulator/faults`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Document {
    #[serde(default)]
    pub seed: u64,
    #[serde(default)]
    pub rules: Vec<Rule>,
}

impl Document {
    fn validate(&self) -> Result<(), String> {
        for (i, r) in self.rules.iter().enumerate() {
            let a = &r.action;
            if a.status.is_none() && !a.drop && a.latency_ms.is_none() {
                return Err(format!(
                    "rules[{i}].action needs one of status, drop or latencyMs"
                ));
            }
            if a.status.is_some() && a.drop {
                return Err(format!(
                    "rules[{i}].action cannot both answer a status and drop"
                ));
            }
            if let Some(s) = a.status
                && !(100..=599).contains(&s)
            {
                return Err(format!(
                    "rules[{i}].action.status {s} is not an HTTP status"
                ));
            }
            if let Some(p) = r.probability
                && !(0.0..=1.0).contains(&p)
            {
                return Err(format!("rules[{i}].probability must be within 0..1"));
            }
            if let Some(h) = &r.host
                && h.is_empty()
            {
                return Err(format!("rules[{i}].host is empty"));
            }
        }
        Ok(())
    }
}

impl Rule {
    fn matches(&self, req: &Req) -> bool {
        if let Some(m) = &self.method
            && !m.eq_ignore_ascii_case(req.method.as_str())
        {
            return false;
        }
        if let Some(h) = &self.host {
            let h = h.to_ascii_lowercase();
            let ok = match h.strip_prefix("*.") {
                Some(suffix) => req
                    .host
                    .strip_suffix(suffix)
                    .is_some_and(|rest| rest.ends_with('.')),
                None => h == "*" || h == req.host,
            };
            if !ok {
                return false;
            }
        }
        if let Some(p) = &self.path_contains
            && !req.path.contains(p.as_str())
        {
            return false;
        }
        if let Some(q) = &self.query_contains
            && !req.raw_query.contains(q.as_str())
        {
            return false;
        }
        true
    }
}

struct Active {
    doc: Document,
    rng: fastrand::Rng,
}

/// The emulator's fault rules (in memory only).
#[derive(Default)]
pub struct Faults {
    active: Mutex<Option<Active>>,
}

impl Faults {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Active>> {
        self.active.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Replace the rules (counters start at zero).
    pub fn set(&self, body: &Value) -> Result<Document, String> {
        let mut doc: Document = serde_json::from_value(body.clone()).map_err(|e| e.to_string())?;
        doc.validate()?;
        for r in &mut doc.rules {
            r.matched = 0;
            r.fired = 0;
        }
        *self.lock() = Some(Active {
            rng: fastrand::Rng::with_seed(doc.seed),
            doc: doc.clone(),
        });
        Ok(doc)
    }

    /// The rules with their counters (an empty document when none are set).
    pub fn get(&self) -> Document {
        self.lock()
            .as_ref()
            .map(|a| a.doc.clone())
            .unwrap_or_default()
    }

    pub fn clear(&self) {
        *self.lock() = None;
    }

    /// The action of the first rule that fires for this request, if any.
    pub fn decide(&self, req: &Req) -> Option<Action> {
        let mut guard = self.lock();
        let active = guard.as_mut()?;
        for rule in &mut active.doc.rules {
            if !rule.matches(req) {
                continue;
            }
            rule.matched += 1;
            if rule.matched <= rule.after {
                continue;
            }
            if rule.times.is_some_and(|t| rule.fired >= t) {
                continue;
            }
            if let Some(p) = rule.probability
                && active.rng.f64() >= p
            {
                continue;
            }
            rule.fired += 1;
            return Some(rule.action.clone());
        }
        None
    }
}

/// The answer of a status fault, shaped like the host's own errors.
pub fn respond(action: &Action, req: &Req, status: u16) -> axum::response::Response {
    let code = axum::http::StatusCode::from_u16(status)
        .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    let retry_after = action.retry_after;
    let body = match &action.body {
        Some(b) => b.clone(),
        None if req.host == "login.microsoftonline.com" => {
            let error = action.code.clone().unwrap_or_else(|| {
                match status {
                    429 | 503 => "temporarily_unavailable",
                    s if s >= 500 => "server_error",
                    _ => "invalid_request",
                }
                .to_string()
            });
            let message = action
                .message
                .clone()
                .unwrap_or_else(|| default_message(status).to_string());
            json!({
                "error": error,
                "error_description": message,
                "error_codes": [],
                "timestamp": crate::clock::Clock::rfc3339(crate::clock::Clock::new(1.0).now_ms()),
                "trace_id": uuid::Uuid::new_v4().to_string(),
                "correlation_id": uuid::Uuid::new_v4().to_string(),
            })
        }
        None if status == 429 && action.code.is_none() && req.host == "management.azure.com" => {
            let sub = crate::arm::ids::ArmPath::parse(&req.path)
                .and_then(|p| p.subscription)
                .unwrap_or_default();
            let wait = retry_after.unwrap_or(1);
            json!({"error": {
                "code": "SubscriptionRequestsThrottled",
                "message": action.message.clone().unwrap_or_else(|| format!(
                    "Number of '{}' requests for subscription '{sub}' exceeded. Please try again after '{wait}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling",
                    match crate::throttle::Op::of(&req.method) {
                        crate::throttle::Op::Read => "read",
                        crate::throttle::Op::Write => "write",
                        crate::throttle::Op::Delete => "delete",
                    }
                )),
                "details": [],
            }})
        }
        None => json!({"error": {
            "code": action.code.clone().unwrap_or_else(|| default_code(status).to_string()),
            "message": action.message.clone().unwrap_or_else(|| default_message(status).to_string()),
            "details": [],
        }}),
    };
    let resp = json_response(code, &body);
    match retry_after {
        Some(s) => with_header(resp, "retry-after", &s.to_string()),
        None => resp,
    }
}

fn default_code(status: u16) -> &'static str {
    match status {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        409 => "Conflict",
        429 => "TooManyRequests",
        500 => "InternalServerError",
        502 => "BadGateway",
        503 => "ServiceUnavailable",
        504 => "GatewayTimeout",
        _ => "InjectedFault",
    }
}

fn default_message(status: u16) -> &'static str {
    match status {
        429 => "Too many requests. Please try again later.",
        500 => "An internal server error occurred. Please retry the request.",
        502 => "The gateway received an invalid response. Please retry the request.",
        503 => "The service is temporarily unavailable. Please retry the request.",
        504 => "The gateway did not receive a response in time. Please retry the request.",
        _ => "The request failed (fault injected by the emulator).",
    }
}

/// The error a service future returns to make hyper close the connection without an answer.
#[derive(Debug)]
pub struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by a fault rule")
    }
}

impl std::error::Error for Dropped {}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: &str, host: &str, path: &str) -> Req {
        Req {
            method: method.parse().expect("method"),
            host: host.into(),
            path: path.into(),
            raw_query: "api-version=1".into(),
            query: vec![],
            headers: Default::default(),
            body: Default::default(),
        }
    }

    #[test]
    fn filters_after_and_times() {
        let f = Faults::default();
        f.set(&json!({"rules": [{"method": "put", "host": "*.azure.com",
            "pathContains": "/x/", "action": {"status": 503}, "after": 1, "times": 2}]}))
            .expect("doc");
        let hit = req("PUT", "management.azure.com", "/a/x/b");
        assert!(
            f.decide(&req("GET", "management.azure.com", "/a/x/b"))
                .is_none()
        );
        assert!(f.decide(&req("PUT", "azure.com", "/a/x/b")).is_none());
        assert!(
            f.decide(&req("PUT", "management.azure.com", "/a/y/b"))
                .is_none()
        );
        assert!(f.decide(&hit).is_none(), "after: 1 lets the first through");
        assert_eq!(f.decide(&hit).and_then(|a| a.status), Some(503));
        assert_eq!(f.decide(&hit).and_then(|a| a.status), Some(503));
        assert!(f.decide(&hit).is_none(), "times: 2");
        let doc = f.get();
        assert_eq!((doc.rules[0].matched, doc.rules[0].fired), (4, 2));
    }

    #[test]
    fn bad_documents_are_refused() {
        let f = Faults::default();
        assert!(f.set(&json!({"rules": [{"action": {}}]})).is_err());
        assert!(
            f.set(&json!({"rules": [{"action": {"status": 500, "drop": true}}]}))
                .is_err()
        );
        assert!(
            f.set(&json!({"rules": [{"action": {"status": 500}, "probability": 2}]}))
                .is_err()
        );
        assert!(
            f.set(&json!({"rules": [{"action": {"status": 500}, "paht": "x"}]}))
                .is_err()
        );
    }
}
