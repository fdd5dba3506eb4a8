//! The SCM (Kudu) endpoint of a Flex Consumption app: zip publish and deployment status
//! (arm-reference §4.1–4.2). Bearer tokens for the App Service audience (what az sends); requests
//! are counted with the ARM ones, and transient failures of reads are retried.

use crate::arm::{
    RequestCounter, RetryPolicy, retry_after, should_retry_status, should_retry_transport,
};
use crate::azure::Azure;
use anyhow::{Context, bail};
use azure_core::credentials::TokenCredential;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// Kudu's deployment status numbers ([ft] `DeployStatus.cs`).
pub mod status {
    pub const CANCELLED: i64 = -1;
    pub const PENDING: i64 = 0;
    pub const BUILDING: i64 = 1;
    pub const DEPLOYING: i64 = 2;
    pub const FAILED: i64 = 3;
    pub const SUCCESS: i64 = 4;
    pub const CONFLICT: i64 = 5;
    pub const PARTIAL_SUCCESS: i64 = 6;

    pub fn is_running(s: i64) -> bool {
        (PENDING..=DEPLOYING).contains(&s)
    }

    pub fn describe(s: i64) -> &'static str {
        match s {
            CANCELLED => "cancelled",
            PENDING => "pending",
            BUILDING => "building",
            DEPLOYING => "deploying",
            FAILED => "failed",
            SUCCESS => "succeeded",
            CONFLICT => "cancelled by another deployment",
            PARTIAL_SUCCESS => "partially succeeded",
            _ => "unknown",
        }
    }
}

/// One deployment as `/api/deployments/{id}` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    pub id: String,
    pub status: i64,
    pub status_text: String,
}

impl Deployment {
    fn from_json(v: &Value) -> Option<Deployment> {
        Some(Deployment {
            id: v["id"].as_str()?.to_string(),
            status: v["status"].as_i64()?,
            status_text: v["status_text"].as_str().unwrap_or_default().to_string(),
        })
    }
}

/// The answer to a publish.
#[derive(Debug, Clone, PartialEq)]
pub enum Published {
    /// 202: the asynchronous deployment started.
    Accepted,
    /// 409: another deployment is running.
    Busy,
}

pub struct Scm {
    http: reqwest::Client,
    credential: Arc<dyn TokenCredential>,
    scope: String,
    base: String,
    counter: RequestCounter,
    /// The ARM client's retry rules (paced like it), so Kudu's 429/5xx are treated as ARM's.
    policy: RetryPolicy,
}

impl Scm {
    /// The SCM site at `host` (from the site's `hostNameSslStates`, never built from its name).
    pub fn new(azure: &Azure, host: &str) -> Scm {
        Scm {
            http: azure.http.clone(),
            credential: azure.credential.clone(),
            scope: azure.cloud.app_service_scope.to_string(),
            base: format!("https://{host}"),
            counter: azure.arm.request_counter(),
            policy: azure.arm.policy().clone(),
        }
    }

    /// Send a request built by `build` (given the bearer header) with the ARM client's retry
    /// rules (src/arm/retry.rs): 429s waited out within the throttle budget, other retryable
    /// statuses and transport failures re-sent up to `max_attempts` — a POST only when it surely
    /// did not run. The last answer, whatever its status, is returned to the caller.
    async fn send(
        &self,
        method: &str,
        path: &str,
        build: impl Fn(String) -> reqwest::RequestBuilder,
    ) -> anyhow::Result<reqwest::Response> {
        let policy = &self.policy;
        let (mut attempt, mut throttles, mut throttled) = (0u32, 0u32, Duration::ZERO);
        loop {
            attempt += 1;
            self.counter.record(method, path);
            let resp = match build(self.bearer().await?).send().await {
                Ok(r) => r,
                Err(e) => {
                    if attempt < policy.max_attempts
                        && should_retry_transport(method, false, e.is_connect())
                    {
                        tokio::time::sleep(policy.backoff(attempt)).await;
                        continue;
                    }
                    return Err(anyhow::Error::new(e.without_url()));
                }
            };
            let status = resp.status().as_u16();
            if resp.status().is_success() {
                return Ok(resp);
            }
            let wait = policy.delay_or(
                retry_after(resp.headers(), time::OffsetDateTime::now_utc()),
                policy.backoff(attempt),
            );
            if status == 429 {
                throttles += 1;
                if throttled + wait <= policy.throttle_budget {
                    throttled += wait;
                    // Not an attempt: the request did not run.
                    attempt -= 1;
                    tracing::debug!(throttles, "Kudu throttled {method} {path}; retrying");
                    tokio::time::sleep(wait).await;
                    continue;
                }
            }
            if attempt < policy.max_attempts
                && should_retry_status(method, false, status, None, None)
            {
                tokio::time::sleep(wait).await;
                continue;
            }
            return Ok(resp);
        }
    }

    async fn bearer(&self) -> anyhow::Result<String> {
        let token = self
            .credential
            .get_token(&[self.scope.as_str()], None)
            .await
            .with_context(|| format!("getting a token for {}", self.scope))?;
        Ok(format!("Bearer {}", token.token.secret()))
    }

    /// GET a JSON document; `None` on 404. Retried as ARM reads are ([`Scm::send`]).
    async fn get(&self, path: &str) -> anyhow::Result<Option<Value>> {
        let url = format!("{}{path}", self.base);
        let resp = self
            .send("GET", path, |bearer| {
                self.http.get(&url).header("authorization", bearer)
            })
            .await
            .with_context(|| format!("GET {path} on {}", self.base))?;
        let status = resp.status().as_u16();
        if status == 404 {
            return Ok(None);
        }
        let text = resp.text().await.unwrap_or_default();
        if !(200..300).contains(&status) {
            bail!(
                "GET {path} on {} answered {status}: {}",
                self.base,
                first_line(&text)
            );
        }
        serde_json::from_str(&text)
            .map(Some)
            .with_context(|| format!("GET {path} on {}: the answer is not JSON", self.base))
    }

    /// `GET /api/deployments/latest`; `None` when the app has never been deployed.
    pub async fn latest(&self) -> anyhow::Result<Option<Deployment>> {
        Ok(self
            .get("/api/deployments/latest")
            .await?
            .as_ref()
            .and_then(Deployment::from_json))
    }

    /// The messages of a deployment's log, oldest first.
    pub async fn log(&self, id: &str) -> anyhow::Result<Vec<String>> {
        let v = self.get(&format!("/api/deployments/{id}/log")).await?;
        Ok(v.as_ref()
            .and_then(Value::as_array)
            .map(|entries| {
                entries
                    .iter()
                    .filter_map(|e| e["message"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// `POST /api/publish?RemoteBuild=true` with the zip (az's call; remote build because the
    /// runtime is Python).
    pub async fn publish(&self, zip: &[u8]) -> anyhow::Result<Published> {
        let path = "/api/publish";
        let url = format!("{}{path}?RemoteBuild=true&Deployer=apimfn", self.base);
        let resp = self
            .send("POST", path, |bearer| {
                self.http
                    .post(&url)
                    .header("authorization", bearer)
                    .header("content-type", "application/zip")
                    .header("cache-control", "no-cache")
                    .body(zip.to_vec())
            })
            .await
            .with_context(|| format!("uploading the package to {}", self.base))?;
        let status = resp.status().as_u16();
        match status {
            200..=202 => Ok(Published::Accepted),
            409 => Ok(Published::Busy),
            _ => {
                let text = resp.text().await.unwrap_or_default();
                let hint = match status {
                    401 | 403 => {
                        " (the signed-in identity needs write access to the function app, e.g. Contributor or Website Contributor)"
                    }
                    _ => "",
                };
                bail!(
                    "the SCM endpoint {} refused the package with {status}: {}{hint}",
                    self.base,
                    first_line(&text)
                )
            }
        }
    }
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    let mut s: String = line.chars().take(300).collect();
    if s.is_empty() {
        s = "(empty answer)".into();
    }
    s
}

/// Whether a failed deployment's log shows the storage 403 a fresh role assignment causes until
/// it propagates (arm-reference §3.4 "RBAC can take minutes to propagate").
pub fn is_role_propagation_failure(log: &[String]) -> bool {
    log.iter().any(|m| {
        m.contains("AuthorizationPermissionMismatch")
            || m.contains("AuthorizationFailure")
            || m.contains("Status: 403")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn propagation_failures_are_told_from_build_failures() {
        let storage = vec![
            "Starting deployment pipeline.".to_string(),
            "Failed to upload the package: This request is not authorized to perform this operation using this permission.\nStatus: 403 (…)\nErrorCode: AuthorizationPermissionMismatch".to_string(),
        ];
        assert!(is_role_propagation_failure(&storage));
        let pip = vec!["ERROR: No matching distribution found for nosuchpkg".to_string()];
        assert!(!is_role_propagation_failure(&pip));
    }

    #[test]
    fn statuses_read_as_kudu_names_them() {
        assert!(status::is_running(status::BUILDING));
        assert!(!status::is_running(status::SUCCESS));
        assert_eq!(status::describe(status::FAILED), "failed");
        let d =
            Deployment::from_json(&serde_json::json!({"id": "x", "status": 4, "status_text": ""}));
        assert_eq!(d.map(|d| d.status), Some(4));
    }
}
