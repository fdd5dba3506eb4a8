//! The names and ARM ids every step uses, resolved from the settings once. Commands check what
//! they need before any network call, so a missing setting is exit 2 with nothing sent.

use crate::exit::UsageError;
use crate::settings::Settings;

#[derive(Debug, Clone)]
pub struct Names {
    pub subscription: String,
    pub resource_group: String,
    pub apim: String,
    pub app: String,
    settings: Settings,
}

impl Names {
    /// The names every command needs: subscription, group, APIM service and function app.
    pub fn resolve(settings: &Settings) -> Result<Names, UsageError> {
        Ok(Names {
            subscription: settings.subscription()?.to_string(),
            resource_group: settings.resource_group()?.to_string(),
            apim: settings.apim_name()?.to_string(),
            app: settings.function_app_name()?.to_string(),
            settings: settings.clone(),
        })
    }

    pub fn location(&self) -> Result<&str, UsageError> {
        self.settings.location()
    }

    pub fn plan(&self) -> Result<&str, UsageError> {
        self.settings.plan_name()
    }

    pub fn storage(&self) -> Result<&str, UsageError> {
        self.settings.storage_account_name()
    }

    pub fn container(&self) -> Result<&str, UsageError> {
        self.settings.deployment_container_name()
    }

    pub fn publisher_email(&self) -> Result<&str, UsageError> {
        self.settings.publisher_email()
    }

    pub fn publisher_name(&self) -> &str {
        &self.settings.publisher_name
    }

    // ---- ids ----

    pub fn subscription_id(&self) -> String {
        format!("/subscriptions/{}", self.subscription)
    }

    pub fn group_id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}",
            self.subscription, self.resource_group
        )
    }

    pub fn apim_id(&self) -> String {
        format!(
            "{}/providers/Microsoft.ApiManagement/service/{}",
            self.group_id(),
            self.apim
        )
    }

    pub fn site_id(&self) -> String {
        format!(
            "{}/providers/Microsoft.Web/sites/{}",
            self.group_id(),
            self.app
        )
    }

    pub fn plan_id(&self) -> Result<String, UsageError> {
        Ok(format!(
            "{}/providers/Microsoft.Web/serverfarms/{}",
            self.group_id(),
            self.plan()?
        ))
    }

    pub fn storage_id(&self) -> Result<String, UsageError> {
        Ok(format!(
            "{}/providers/Microsoft.Storage/storageAccounts/{}",
            self.group_id(),
            self.storage()?
        ))
    }

    pub fn container_id(&self) -> Result<String, UsageError> {
        Ok(format!(
            "{}/blobServices/default/containers/{}",
            self.storage_id()?,
            self.container()?
        ))
    }

    /// The API id in APIM: the function app's name (what the portal import uses).
    pub fn api_id(&self) -> &str {
        &self.app
    }

    pub fn api_arm_id(&self) -> String {
        format!("{}/apis/{}", self.apim_id(), self.api_id())
    }

    /// The tag on the Entra app registration apimfn creates for this function app (Graph
    /// `tags`), the one way `auth configure`, `status` and `destroy` find it again — and the
    /// guard that `destroy` never deletes an app it did not create (e.g. one given with
    /// `--client-id`).
    pub fn app_registration_tag(&self) -> String {
        super::auth::registration_tag(&self.subscription, &self.resource_group, &self.app)
    }
}
