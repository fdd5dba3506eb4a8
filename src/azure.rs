//! The connection to Azure, built once per run from the settings: the cloud, the one HTTP client
//! (redirected to an emulator when asked), the credential, and the ARM client on top of them.
//! Every command that talks to Azure starts here.

use crate::arm::ArmClient;
use crate::cloud::Cloud;
use crate::settings::Settings;
use crate::transport::{EmulatorTarget, build_http_client};
use azure_core::credentials::TokenCredential;
use std::sync::Arc;

/// Everything needed to call Azure.
#[derive(Clone)]
pub struct Azure {
    pub cloud: Cloud,
    pub http: reqwest::Client,
    pub credential: Arc<dyn TokenCredential>,
    pub arm: ArmClient,
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
        let credential = crate::credentials::credential(settings.auth, &cloud, &http, env).await?;
        let arm = ArmClient::new(
            http.clone(),
            credential.clone(),
            cloud.arm_url(),
            cloud.arm_scope.to_string(),
        );
        Ok(Azure {
            cloud,
            http,
            credential,
            arm,
        })
    }
}
