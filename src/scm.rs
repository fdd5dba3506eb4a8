//! The SCM (Kudu) endpoint of a Flex Consumption app: zip publish and deployment status
//! (arm-reference §4.1–4.2). Bearer tokens for the App Service audience (what az sends); requests
//! are counted with the ARM ones, and transient failures of reads are retried.

use crate::arm::RequestCounter;
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
    /// 429 or 503: not taken this time (nothing ran); try again after the hint, if any.
    Throttled(Option<std::time::Duration>),
}

pub struct Scm {
    http: reqwest::Client,
    credential: Arc<dyn TokenCredential>,
    scope: String,
    base: String,
    counter: RequestCounter,
}

const READ_ATTEMPTS: u32 = 4;

impl Scm {
    /// The SCM site at `host` (from the site's `hostNameSslStates`, never built from its name).
    pub fn new(azure: &Azure, host: &str) -> Scm {
        Scm {
            http: azure.http.clone(),
            credential: azure.credential.clone(),
            scope: azure.cloud.app_service_scope.to_string(),
            base: format!("https://{host}"),
            counter: azure.arm.request_counter(),
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

    /// GET a JSON document; `None` on 404. 5xx and dropped connections are retried.
    async fn get(&self, path: &str) -> anyhow::Result<Option<Value>> {
        let url = format!("{}{path}", self.base);
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.counter.record("GET", path);
            let sent = self
                .http
                .get(&url)
                .header("authorization", self.bearer().await?)
                .send()
                .await;
            let resp = match sent {
                Ok(r) if r.status().is_server_error() && attempt < READ_ATTEMPTS => {
                    tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
                    continue;
                }
                Err(_) if attempt < READ_ATTEMPTS => {
                    tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
                    continue;
                }
                Ok(r) => r,
                Err(e) => {
                    return Err(anyhow::Error::new(e.without_url())
                        .context(format!("GET {path} on {}", self.base)));
                }
            };
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
            return serde_json::from_str(&text)
                .map(Some)
                .with_context(|| format!("GET {path} on {}: the answer is not JSON", self.base));
        }
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
        self.counter.record("POST", path);
        let resp = self
            .http
            .post(format!(
                "{}{path}?RemoteBuild=true&Deployer=apimfn",
                self.base
            ))
            .header("authorization", self.bearer().await?)
            .header("content-type", "application/zip")
            .header("cache-control", "no-cache")
            .body(zip.to_vec())
            .send()
            .await
            .map_err(|e| anyhow::Error::new(e.without_url()))
            .with_context(|| format!("uploading the package to {}", self.base))?;
        let status = resp.status().as_u16();
        match status {
            200..=202 => Ok(Published::Accepted),
            409 => Ok(Published::Busy),
            429 | 503 => Ok(Published::Throttled(
                resp.headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(std::time::Duration::from_secs),
            )),
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
