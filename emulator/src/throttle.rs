//! ARM's request throttling: token buckets per subscription, principal and operation type.
//!
//! Sources:
//! - Microsoft Learn, "Request limits and throttling" (azure-resource-manager/management, 2024+
//!   version; arm-reference §9 "ARM throttling"): since 2024 ARM throttles with a regional token
//!   bucket per subscription, per principal and per operation type — reads 250 tokens refilled at
//!   25/s, writes 200 at 10/s, deletes 200 at 10/s — and a global subscription limit 15× the
//!   per-principal one. Over the limit: 429 with `Retry-After` (seconds).
//! - The same article ("Remaining requests") and arm-reference §9 "Throttling headers": every answer
//!   carries `x-ms-ratelimit-remaining-subscription-{reads|writes|deletes}` for its operation type
//!   (tenant-level requests: `x-ms-ratelimit-remaining-tenant-…`), and the newer
//!   `x-ms-ratelimit-remaining-subscription-global-…` (recording `test_authV2_auth.yaml` shows both).
//! - The 429 body: code `SubscriptionRequestsThrottled` (MicrosoftDocs/azure-docs issue #105248),
//!   message "Number of '…' requests for subscription '…' actor '…' exceeded. Please try again
//!   after '…' seconds after additional tokens are available. Refer to
//!   https://aka.ms/arm-throttling" (wording as commonly reported; not in a recording here).
//!
//! Buckets refill in REAL time, never scaled by `--time-scale`: throttling is about the rate at
//! which a client sends requests, not about modelled Azure durations. The limits are configurable
//! through `PUT /.emulator/settings` so tests can provoke 429s with a handful of requests.

use crate::http::{Req, arm_error, with_header};
use crate::server::Emulator;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// ARM's operation types, each with its own buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Read,
    Write,
    Delete,
}

impl Op {
    /// GET and HEAD read; DELETE deletes; everything else (PUT, PATCH, POST actions) writes.
    pub fn of(method: &Method) -> Op {
        match *method {
            Method::GET | Method::HEAD => Op::Read,
            Method::DELETE => Op::Delete,
            _ => Op::Write,
        }
    }

    /// The header suffix: `reads`, `writes`, `deletes`.
    pub fn plural(self) -> &'static str {
        match self {
            Op::Read => "reads",
            Op::Write => "writes",
            Op::Delete => "deletes",
        }
    }

    fn singular(self) -> &'static str {
        match self {
            Op::Read => "read",
            Op::Write => "write",
            Op::Delete => "delete",
        }
    }
}

/// The throttling limits (`GET/PUT /.emulator/settings` → `throttle`). Defaults are ARM's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Limits {
    /// `false` turns throttling (and its headers) off.
    pub enabled: bool,
    pub reads_bucket: f64,
    pub reads_per_second: f64,
    pub writes_bucket: f64,
    pub writes_per_second: f64,
    pub deletes_bucket: f64,
    pub deletes_per_second: f64,
    /// The subscription-wide (all principals) bucket and refill rate, as a multiple of the
    /// per-principal ones.
    pub global_factor: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            enabled: true,
            reads_bucket: 250.0,
            reads_per_second: 25.0,
            writes_bucket: 200.0,
            writes_per_second: 10.0,
            deletes_bucket: 200.0,
            deletes_per_second: 10.0,
            global_factor: 15.0,
        }
    }
}

impl Limits {
    /// (bucket size, refill per second) for a principal's bucket.
    fn of(&self, op: Op) -> (f64, f64) {
        match op {
            Op::Read => (self.reads_bucket, self.reads_per_second),
            Op::Write => (self.writes_bucket, self.writes_per_second),
            Op::Delete => (self.deletes_bucket, self.deletes_per_second),
        }
    }

    fn validate(&self) -> Result<(), String> {
        let all = [
            ("readsBucket", self.reads_bucket),
            ("readsPerSecond", self.reads_per_second),
            ("writesBucket", self.writes_bucket),
            ("writesPerSecond", self.writes_per_second),
            ("deletesBucket", self.deletes_bucket),
            ("deletesPerSecond", self.deletes_per_second),
            ("globalFactor", self.global_factor),
        ];
        for (name, v) in all {
            if !v.is_finite() || v < 0.0 {
                return Err(format!("throttle.{name} must be a number >= 0, got {v}"));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn refill(&mut self, size: f64, rate: f64, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(size);
        self.last = now;
    }

    /// Whole seconds until one token is available (at least 1).
    fn wait_secs(&self, rate: f64) -> u64 {
        if rate <= 0.0 {
            return 3600;
        }
        (((1.0 - self.tokens) / rate).ceil() as u64).max(1)
    }
}

/// What a request's scope and operation type have left.
#[derive(Debug, Clone)]
pub struct Remaining {
    pub op: Op,
    /// `false` for tenant-level requests (no subscription in the path).
    pub subscription: bool,
    /// The principal's bucket.
    pub principal: u64,
    /// The subscription-wide bucket.
    pub global: u64,
}

/// A request over the limit.
#[derive(Debug, Clone)]
pub struct Throttled {
    pub remaining: Remaining,
    pub retry_after: u64,
    pub scope: String,
    pub principal: String,
}

#[derive(Default)]
struct Inner {
    limits: Limits,
    /// By (scope, principal or `*` for the global bucket, operation type).
    buckets: HashMap<(String, String, Op), Bucket>,
}

/// The emulator's throttling state (in memory only; never persisted).
#[derive(Default)]
pub struct Throttle {
    inner: Mutex<Inner>,
}

impl Throttle {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn limits(&self) -> Limits {
        self.lock().limits.clone()
    }

    /// Overlay `patch` (a partial `Limits` object) on the current limits; buckets start full.
    pub fn configure(&self, patch: &Value) -> Result<Limits, String> {
        let mut inner = self.lock();
        let mut current = serde_json::to_value(&inner.limits).map_err(|e| e.to_string())?;
        let Some(fields) = patch.as_object() else {
            return Err("throttle must be a JSON object".into());
        };
        for (k, v) in fields {
            current[k] = v.clone();
        }
        let limits: Limits =
            serde_json::from_value(current).map_err(|e| format!("throttle: {e}"))?;
        limits.validate()?;
        inner.limits = limits.clone();
        inner.buckets.clear();
        Ok(limits)
    }

    /// Refill every bucket (`POST /.emulator/reset`); the limits stay.
    pub fn refill_all(&self) {
        self.lock().buckets.clear();
    }

    /// Take a token from the principal's and the subscription's bucket, or say how long to wait.
    /// `None` when throttling is off.
    pub fn take(
        &self,
        scope: &str,
        subscription: bool,
        principal: &str,
        op: Op,
    ) -> Option<Result<Remaining, Throttled>> {
        let now = Instant::now();
        let mut inner = self.lock();
        if !inner.limits.enabled {
            return None;
        }
        let (size, rate) = inner.limits.of(op);
        let factor = inner.limits.global_factor;
        let (gsize, grate) = (size * factor, rate * factor);
        let mut mine = *inner
            .buckets
            .entry((scope.to_string(), principal.to_string(), op))
            .or_insert(Bucket {
                tokens: size,
                last: now,
            });
        let mut global = *inner
            .buckets
            .entry((scope.to_string(), "*".to_string(), op))
            .or_insert(Bucket {
                tokens: gsize,
                last: now,
            });
        mine.refill(size, rate, now);
        global.refill(gsize, grate, now);
        let result = if mine.tokens >= 1.0 && global.tokens >= 1.0 {
            mine.tokens -= 1.0;
            global.tokens -= 1.0;
            Ok(Remaining {
                op,
                subscription,
                principal: mine.tokens.floor() as u64,
                global: global.tokens.floor() as u64,
            })
        } else {
            let mut wait = 0;
            if mine.tokens < 1.0 {
                wait = mine.wait_secs(rate);
            }
            if global.tokens < 1.0 {
                wait = wait.max(global.wait_secs(grate));
            }
            Err(Throttled {
                remaining: Remaining {
                    op,
                    subscription,
                    principal: mine.tokens.floor().max(0.0) as u64,
                    global: global.tokens.floor().max(0.0) as u64,
                },
                retry_after: wait,
                scope: scope.to_string(),
                principal: principal.to_string(),
            })
        };
        inner
            .buckets
            .insert((scope.to_string(), principal.to_string(), op), mine);
        inner
            .buckets
            .insert((scope.to_string(), "*".to_string(), op), global);
        Some(result)
    }
}

/// The principal (token `oid`) of a request whose bearer token carries a valid emulator signature.
/// Expiry and audience are the gate's business: a request with an unusable token gets its 401
/// there, and is not counted here.
fn principal(em: &Emulator, req: &Req) -> Option<String> {
    let claims = em.signer.verify(req.bearer()?).ok()?;
    claims["oid"]
        .as_str()
        .or_else(|| claims["sub"].as_str())
        .map(str::to_ascii_lowercase)
}

/// Before `arm::handle`: count the request. `Err` is ARM's 429; `Ok(Some)` carries what is left
/// (for the response headers); `Ok(None)` when the request is not counted.
pub fn admit(em: &Emulator, req: &Req) -> Result<Option<Remaining>, Response> {
    let Some(principal) = principal(em, req) else {
        return Ok(None);
    };
    let sub = crate::arm::ids::ArmPath::parse(&req.path).and_then(|p| p.subscription);
    let (scope, is_sub) = match &sub {
        Some(s) => (format!("subscription:{}", s.to_ascii_lowercase()), true),
        None => ("tenant".to_string(), false),
    };
    match em
        .throttle
        .take(&scope, is_sub, &principal, Op::of(&req.method))
    {
        None => Ok(None),
        Some(Ok(remaining)) => Ok(Some(remaining)),
        Some(Err(t)) => {
            let (code, what) = if is_sub {
                (
                    "SubscriptionRequestsThrottled",
                    format!("subscription '{}'", sub.unwrap_or_default()),
                )
            } else {
                ("TenantRequestsThrottled", "tenant".to_string())
            };
            let message = format!(
                "Number of '{}' requests for {what} actor '{}' exceeded. Please try again after '{}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling",
                t.remaining.op.singular(),
                t.principal,
                t.retry_after
            );
            let resp = arm_error(StatusCode::TOO_MANY_REQUESTS, code, &message);
            let resp = with_header(resp, "retry-after", &t.retry_after.to_string());
            Err(decorate(resp, Some(&t.remaining)))
        }
    }
}

/// After `arm::handle`: the `x-ms-ratelimit-remaining-…` headers for the request's operation type.
pub fn decorate(resp: Response, remaining: Option<&Remaining>) -> Response {
    let Some(r) = remaining else {
        return resp;
    };
    let op = r.op.plural();
    if r.subscription {
        let resp = with_header(
            resp,
            header_name(&format!("x-ms-ratelimit-remaining-subscription-{op}")),
            &r.principal.to_string(),
        );
        with_header(
            resp,
            header_name(&format!(
                "x-ms-ratelimit-remaining-subscription-global-{op}"
            )),
            &r.global.to_string(),
        )
    } else {
        with_header(
            resp,
            header_name(&format!("x-ms-ratelimit-remaining-tenant-{op}")),
            &r.principal.to_string(),
        )
    }
}

/// `with_header` takes `&'static str` names; map the few we build to their static forms.
fn header_name(name: &str) -> &'static str {
    const NAMES: &[&str] = &[
        "x-ms-ratelimit-remaining-subscription-reads",
        "x-ms-ratelimit-remaining-subscription-writes",
        "x-ms-ratelimit-remaining-subscription-deletes",
        "x-ms-ratelimit-remaining-subscription-global-reads",
        "x-ms-ratelimit-remaining-subscription-global-writes",
        "x-ms-ratelimit-remaining-subscription-global-deletes",
        "x-ms-ratelimit-remaining-tenant-reads",
        "x-ms-ratelimit-remaining-tenant-writes",
        "x-ms-ratelimit-remaining-tenant-deletes",
    ];
    NAMES
        .iter()
        .find(|n| **n == name)
        .copied()
        .unwrap_or("x-ms-ratelimit-remaining-subscription-reads")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_empties_and_says_how_long_to_wait() {
        let t = Throttle::default();
        t.configure(&serde_json::json!({"readsBucket": 2, "readsPerSecond": 0.5}))
            .expect("limits");
        let a = t.take("s", true, "p", Op::Read).expect("on").expect("1st");
        assert_eq!(a.principal, 1);
        assert_eq!(a.global, 29);
        let b = t.take("s", true, "p", Op::Read).expect("on").expect("2nd");
        assert_eq!(b.principal, 0);
        let c = t.take("s", true, "p", Op::Read).expect("on");
        let Err(c) = c else {
            panic!("3rd read admitted")
        };
        assert_eq!(c.retry_after, 2);
        // Another principal has its own bucket; writes have theirs.
        assert!(t.take("s", true, "q", Op::Read).expect("on").is_ok());
        assert!(t.take("s", true, "p", Op::Write).expect("on").is_ok());
    }

    #[test]
    fn the_global_bucket_limits_all_principals() {
        let t = Throttle::default();
        t.configure(
            &serde_json::json!({"writesBucket": 1, "writesPerSecond": 0, "globalFactor": 2}),
        )
        .expect("limits");
        assert!(t.take("s", true, "a", Op::Write).expect("on").is_ok());
        assert!(t.take("s", true, "b", Op::Write).expect("on").is_ok());
        let Some(Err(c)) = t.take("s", true, "c", Op::Write) else {
            panic!("third principal admitted past the global bucket")
        };
        assert_eq!(c.remaining.principal, 1);
        assert_eq!(c.remaining.global, 0);
    }

    #[test]
    fn bad_limits_are_refused() {
        let t = Throttle::default();
        assert!(
            t.configure(&serde_json::json!({"readsBucket": -1}))
                .is_err()
        );
        assert!(t.configure(&serde_json::json!({"readBucket": 1})).is_err());
        assert_eq!(t.limits(), Limits::default());
    }
}
