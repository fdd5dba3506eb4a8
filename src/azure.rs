//! The connection to Azure, built once per run from the settings: the cloud, the one HTTP client
//! (redirected to an emulator when asked), the credential, the ARM client on top of them and a
//! Graph client sharing its request counter. Every command that talks to Azure starts here.

use crate::arm::{ArmClient, RetryPolicy};
use crate::cloud::Cloud;
use crate::settings::Settings;
use crate::transport::{EmulatorTarget, build_http_client};
use azure_core::credentials::TokenCredential;
use std::sync::Arc;
use std::time::Duration;

/// Everything needed to call Azure.
#[derive(Clone)]
pub struct Azure {
    pub cloud: Cloud,
    pub http: reqwest::Client,
    pub credential: Arc<dyn TokenCredential>,
    pub arm: ArmClient,
    /// Microsoft Graph (`https://graph.microsoft.com/v1.0/…`), same retries, same counter.
    pub graph: ArmClient,
    /// How fast time runs at the other end: 1.0 for Azure, the emulator's `timeScale` otherwise.
    /// Poll intervals and backoffs are multiplied by it (see [`Pace`]).
    pub pace: Pace,
    /// The emulator's address, when one stands in for Azure.
    pub emulator: Option<String>,
}

/// Intervals scaled to the clock of the Azure at the other end. Against an emulator running at
/// time scale 0.01 an APIM activation lasts 27 s instead of 45 min; polling it every 30 s would
/// distort every measurement, so the client runs its own clock at the same scale. Budgets for
/// real work (a remote build runs pip for real) are never scaled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pace {
    pub scale: f64,
}

impl Pace {
    pub const REAL: Pace = Pace { scale: 1.0 };
    /// The shortest interval after scaling: a tight loop helps nobody.
    const FLOOR: Duration = Duration::from_millis(10);

    pub fn interval(&self, real: Duration) -> Duration {
        if self.scale >= 1.0 {
            return real;
        }
        real.mul_f64(self.scale).max(Self::FLOOR)
    }

    /// The ARM client's policy with every interval scaled.
    pub fn policy(&self, base: &RetryPolicy) -> RetryPolicy {
        RetryPolicy {
            backoff_base: self.interval(base.backoff_base),
            backoff_max: self.interval(base.backoff_max),
            poll_initial: self.interval(base.poll_initial),
            poll_max: self.interval(base.poll_max),
            ..base.clone()
        }
    }
}

impl Azure {
    /// Connect as the settings say. `emulator` overrides `--emulator` (the embedded emulator
    /// passes its own address and CA here).
    pub async fn connect(
        settings: &Settings,
        emulator: Option<&EmulatorTarget>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Azure> {
        let cloud = Cloud::new(settings.cloud);
        let from_settings = match (emulator, settings.emulator_url()) {
            (None, Some(url)) => Some(EmulatorTarget::new(
                url.as_str(),
                settings.emulator_ca.as_deref(),
            )?),
            _ => None,
        };
        let target = emulator.or(from_settings.as_ref());
        let http = build_http_client(&cloud, target)?;
        let pace = match target {
            Some(t) => emulator_pace(&http, t.url.as_str()).await?,
            None => Pace::REAL,
        };
        let credential = crate::credentials::credential(settings.auth, &cloud, &http, env).await?;
        let arm = ArmClient::new(
            http.clone(),
            credential.clone(),
            cloud.arm_url(),
            cloud.arm_scope.to_string(),
        );
        let arm = arm.clone().with_policy(pace.policy(arm.policy()));
        let graph = ArmClient::new(
            http.clone(),
            credential.clone(),
            cloud.graph_url(),
            cloud.graph_scope.to_string(),
        )
        .with_policy(arm.policy().clone())
        .with_counter(arm.request_counter());
        Ok(Azure {
            cloud,
            http,
            credential,
            arm,
            graph,
            pace,
            emulator: target.map(|t| t.url.as_str().trim_end_matches('/').to_string()),
        })
    }
}

/// The emulator's time scale, from its admin API (`GET /.emulator/settings`).
async fn emulator_pace(http: &reqwest::Client, url: &str) -> anyhow::Result<Pace> {
    use anyhow::Context;
    let settings_url = format!("{}/.emulator/settings", url.trim_end_matches('/'));
    let answer: serde_json::Value = http
        .get(&settings_url)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .with_context(|| format!("reaching the emulator at {url} (is it running?)"))?
        .json()
        .await
        .with_context(|| format!("reading the emulator's settings at {settings_url}"))?;
    let scale = answer["timeScale"].as_f64().unwrap_or(1.0);
    Ok(Pace {
        scale: if scale > 0.0 { scale } else { 1.0 },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_scale_with_a_floor_and_never_grow() {
        let p = Pace { scale: 0.01 };
        assert_eq!(
            p.interval(Duration::from_secs(30)),
            Duration::from_millis(300)
        );
        assert_eq!(
            p.interval(Duration::from_millis(100)),
            Duration::from_millis(10)
        );
        assert_eq!(
            Pace::REAL.interval(Duration::from_secs(30)),
            Duration::from_secs(30)
        );
        let policy = p.policy(&RetryPolicy::default());
        assert_eq!(policy.poll_max, Duration::from_millis(300));
        assert_eq!(policy.max_attempts, RetryPolicy::default().max_attempts);
    }
}
