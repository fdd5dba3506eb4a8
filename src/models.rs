//! Small serde models of the resources apimfn touches.
//!
//! Field names are exactly as on the wire (checked against the REST spec examples and the Python
//! SDKs' attribute maps; see the tests at the bottom). Every object keeps what it does not model in
//! `extra` (`#[serde(flatten)]`), so a read-modify-write never drops a field Azure returned.
//! Optional fields are skipped when absent, so a PUT body says only what apimfn means to set.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Unknown fields, kept verbatim.
pub type Extra = Map<String, Value>;

// ---------------------------------------------------------------------------------------------
// Shared shapes

/// `identity` of APIM services and sites (`ManagedServiceIdentity` / `ApiManagementServiceIdentity`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `sku` of APIM services, plans and storage accounts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sku {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity: Option<i64>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// The envelope every ARM resource shares: `{id, name, type, location, tags, properties, …}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Resource<P> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<Sku>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<P>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Properties of resources apimfn reads but does not model further.
pub type Opaque = Extra;

/// Azure answers locations as display names ("West US") in some providers and codes ("westus")
/// in others; compare them normalised.
pub fn same_location(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    norm(a) == norm(b)
}

// ---------------------------------------------------------------------------------------------
// Microsoft.Resources

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceGroupProperties {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

pub type ResourceGroup = Resource<ResourceGroupProperties>;

// ---------------------------------------------------------------------------------------------
// Microsoft.ApiManagement (2024-05-01)

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApimServiceProperties {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publisher_email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publisher_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_provisioning_state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway_url: Option<String>,
    /// `true` recovers a soft-deleted service; all other properties are then ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restore: Option<bool>,
    #[serde(flatten)]
    pub extra: Extra,
}

pub type ApimService = Resource<ApimServiceProperties>;

/// Answer of `checkNameAvailability`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NameAvailability {
    pub name_available: bool,
    /// `Valid`, `Invalid` or `AlreadyExists`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedServiceProperties {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_purge_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_date: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

pub type DeletedService = Resource<DeletedServiceProperties>;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NamedValueProperties {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Absent in answers for secret named values; read it with `listValue`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Extra,
}

pub type NamedValue = Resource<NamedValueProperties>;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendCredentials {
    /// Header name → values; `{{name}}` refers to a named value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<std::collections::BTreeMap<String, Vec<String>>>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendProperties {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `http` or `soap`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// The absolute ARM URL of the function app.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials: Option<BackendCredentials>,
    #[serde(flatten)]
    pub extra: Extra,
}

pub type Backend = Resource<BackendProperties>;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiProperties {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocols: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_required: Option<bool>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub api_type: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

pub type Api = Resource<ApiProperties>;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateParameter {
    pub name: String,
    #[serde(rename = "type")]
    pub param_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationProperties {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url_template: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_parameters: Option<Vec<TemplateParameter>>,
    #[serde(flatten)]
    pub extra: Extra,
}

pub type ApiOperation = Resource<OperationProperties>;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyProperties {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `xml`, `xml-link`, `rawxml` or `rawxml-link`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

pub type Policy = Resource<PolicyProperties>;

/// Answer of `subscriptions/{sid}/listSecrets`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionKeys {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secondary_key: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// Microsoft.Storage (2025-08-01)

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageAccountProperties {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum_tls_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_blob_public_access: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supports_https_traffic_only: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_endpoints: Option<Map<String, Value>>,
    #[serde(flatten)]
    pub extra: Extra,
}

pub type StorageAccount = Resource<StorageAccountProperties>;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerProperties {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_access: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

pub type BlobContainer = Resource<ContainerProperties>;

// ---------------------------------------------------------------------------------------------
// Microsoft.Authorization (2022-04-01)

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleAssignmentProperties {
    pub role_definition_id: String,
    pub principal_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

pub type RoleAssignment = Resource<RoleAssignmentProperties>;

// ---------------------------------------------------------------------------------------------
// Microsoft.Web (2025-05-01)

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanProperties {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reserved: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

pub type AppServicePlan = Resource<PlanProperties>;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HostNameSslState {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `Standard` is the app host; `Repository` is the SCM (Kudu) host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_type: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NameValuePair {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SiteConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_settings: Option<Vec<NameValuePair>>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageAuthentication {
    /// `SystemAssignedIdentity`, `UserAssignedIdentity` or `StorageAccountConnectionString`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub auth_type: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentStorage {
    /// `blobContainer`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub storage_type: Option<String>,
    /// Blob endpoint + container name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authentication: Option<StorageAuthentication>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionsDeployment {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage: Option<DeploymentStorage>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionsRuntime {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaleAndConcurrency {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_instance_count: Option<i64>,
    #[serde(rename = "instanceMemoryMB", skip_serializing_if = "Option::is_none")]
    pub instance_memory_mb: Option<i64>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionAppConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment: Option<FunctionsDeployment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<FunctionsRuntime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_and_concurrency: Option<ScaleAndConcurrency>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SiteProperties {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_farm_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub https_only: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_host_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_name_ssl_states: Option<Vec<HostNameSslState>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site_config: Option<SiteConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_app_config: Option<FunctionAppConfig>,
    #[serde(flatten)]
    pub extra: Extra,
}

pub type Site = Resource<SiteProperties>;

impl Site {
    /// The SCM (Kudu) host, from `hostNameSslStates` — never built from the app name, because
    /// Flex apps can have generated unique host names.
    pub fn scm_host(&self) -> Option<&str> {
        self.host_of_type("Repository")
    }

    /// The app's own host (`hostType: Standard`), falling back to `defaultHostName`.
    pub fn app_host(&self) -> Option<&str> {
        self.host_of_type("Standard").or_else(|| {
            self.properties
                .as_ref()
                .and_then(|p| p.default_host_name.as_deref())
        })
    }

    fn host_of_type(&self, wanted: &str) -> Option<&str> {
        self.properties
            .as_ref()?
            .host_name_ssl_states
            .as_ref()?
            .iter()
            .find(|s| {
                s.host_type
                    .as_deref()
                    .is_some_and(|t| t.eq_ignore_ascii_case(wanted))
            })
            .and_then(|s| s.name.as_deref())
    }
}

/// `sites/{app}/functions/{fn}`: properties are snake_case on the wire, except `isDisabled`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FunctionEnvelopeProperties {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_app_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoke_url_template: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Free-form; holds `bindings[]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<Value>,
    #[serde(rename = "isDisabled", skip_serializing_if = "Option::is_none")]
    pub is_disabled: Option<bool>,
    #[serde(flatten)]
    pub extra: Extra,
}

pub type FunctionEnvelope = Resource<FunctionEnvelopeProperties>;

/// Answer of `host/default/listkeys`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HostKeys {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master_key: Option<String>,
    #[serde(default)]
    pub function_keys: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub system_keys: std::collections::BTreeMap<String, String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `host/default/functionKeys/{name}` body: the properties wrapper is required since SDK 11.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KeyInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

pub type FunctionKey = Resource<KeyInfo>;

// Easy Auth (authsettingsV2). The whole object is replaced by a PUT, so apimfn reads it, changes
// the fields it owns and sends everything back — hence `extra` on every level.

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthPlatform {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime_version: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GlobalValidation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub require_authentication: Option<bool>,
    /// `RedirectToLoginPage`, `AllowAnonymous`, `Return401` or `Return403`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unauthenticated_client_action: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excluded_paths: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AadRegistration {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_id_issuer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AllowedPrincipals {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identities: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DefaultAuthorizationPolicy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_principals: Option<AllowedPrincipals>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_applications: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AadValidation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_audiences: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_authorization_policy: Option<DefaultAuthorizationPolicy>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AzureActiveDirectory {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration: Option<AadRegistration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation: Option<AadValidation>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityProviders {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub azure_active_directory: Option<AzureActiveDirectory>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthSettingsV2Properties {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<AuthPlatform>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub global_validation: Option<GlobalValidation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_providers: Option<IdentityProviders>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_settings: Option<Value>,
    #[serde(flatten)]
    pub extra: Extra,
}

pub type AuthSettingsV2 = Resource<AuthSettingsV2Properties>;

/// `geoRegions` entries.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GeoRegionProperties {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_domain: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

pub type GeoRegion = Resource<GeoRegionProperties>;

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::DeserializeOwned;

    /// Spec examples live in ../shared/reference beside the repository (CI has a copy).
    fn example(path: &str) -> Option<Value> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/reference/specs")
            .join(path);
        let text = std::fs::read_to_string(&root).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Drop nulls: an absent optional and an explicit null mean the same to ARM.
    fn strip_nulls(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k.clone(), strip_nulls(v)))
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.iter().map(strip_nulls).collect()),
            other => other.clone(),
        }
    }

    /// Deserialise, re-serialise: nothing may be lost (read-modify-write safety).
    fn round_trip<T: DeserializeOwned + Serialize>(v: &Value) -> T {
        let typed: T = serde_json::from_value(v.clone()).expect("deserialize");
        let back = serde_json::to_value(&typed).expect("serialize");
        assert_eq!(strip_nulls(&back), strip_nulls(v), "round trip lost fields");
        typed
    }

    #[test]
    fn apim_service_example_round_trips_and_reads_typed_fields() {
        let v = example(
            "Microsoft.ApiManagement/2024-05-01/examples/ApiManagementCreateServiceHavingMsi.json",
        )
        .expect("spec example: ../shared/reference must be beside the repository");
        let body = &v["responses"]["201"]["body"];
        let svc: ApimService = round_trip(body);
        // The spec example is a Consumption service (capacity 0).
        let sku = svc.sku.as_ref().expect("sku");
        assert_eq!(sku.name.as_deref(), Some("Consumption"));
        assert_eq!(sku.capacity, Some(0));
        let identity = svc.identity.expect("identity");
        assert_eq!(identity.kind.as_deref(), Some("SystemAssigned"));
        assert!(identity.principal_id.is_some());
        let props = svc.properties.expect("properties");
        assert!(props.publisher_email.is_some());
        assert!(props.provisioning_state.is_some());
    }

    #[test]
    fn flex_site_example_round_trips_and_reads_function_app_config() {
        let v = example(
            "Microsoft.Web/2025-05-01/examples/CreateOrUpdateFunctionAppFlexConsumption.json",
        )
        .expect("spec example");
        let req = &v["parameters"]["siteEnvelope"];
        let site: Site = round_trip(req);
        let fac = site
            .properties
            .and_then(|p| p.function_app_config)
            .expect("functionAppConfig");
        let storage = fac.deployment.and_then(|d| d.storage).expect("storage");
        assert_eq!(storage.storage_type.as_deref(), Some("blobContainer"));
        assert!(storage.authentication.and_then(|a| a.auth_type).is_some());
        let scale = fac.scale_and_concurrency.expect("scale");
        assert!(scale.instance_memory_mb.is_some());
        assert!(scale.maximum_instance_count.is_some());
        assert_eq!(fac.runtime.and_then(|r| r.name).as_deref(), Some("python"));
    }

    #[test]
    fn auth_settings_example_round_trips() {
        let v = example("Microsoft.Web/2024-11-01/examples/UpdateAuthSettingsV2.json")
            .expect("spec example");
        let body = &v["responses"]["200"]["body"];
        let a: AuthSettingsV2 = round_trip(body);
        let p = a.properties.expect("properties");
        assert_eq!(p.platform.and_then(|p| p.enabled), Some(true));
        let gv = p.global_validation.expect("globalValidation");
        assert_eq!(gv.require_authentication, Some(true));
        assert!(gv.unauthenticated_client_action.is_some());
    }

    #[test]
    fn apim_sub_resource_examples_round_trip() {
        let base = "Microsoft.ApiManagement/2024-05-01/examples/";
        let nv = example(&format!("{base}ApiManagementCreateNamedValue.json")).expect("nv");
        let named: NamedValue = round_trip(&nv["responses"]["201"]["body"]);
        assert!(named.properties.and_then(|p| p.display_name).is_some());
        let api = example(&format!("{base}ApiManagementCreateApi.json")).expect("api");
        let a: Api = round_trip(&api["responses"]["201"]["body"]);
        assert!(a.properties.and_then(|p| p.path).is_some());
        let op = example(&format!("{base}ApiManagementCreateApiOperation.json")).expect("op");
        let o: ApiOperation = round_trip(&op["responses"]["201"]["body"]);
        let op_props = o.properties.expect("properties");
        assert!(op_props.method.is_some() && op_props.url_template.is_some());
        let pol = example(&format!("{base}ApiManagementCreateApiPolicy.json")).expect("policy");
        let p: Policy = round_trip(&pol["responses"]["201"]["body"]);
        assert!(p.properties.and_then(|p| p.value).is_some());
        let keys =
            example(&format!("{base}ApiManagementSubscriptionListSecrets.json")).expect("keys");
        let k: SubscriptionKeys = round_trip(&keys["responses"]["200"]["body"]);
        assert!(k.primary_key.is_some());
        let cna = example(&format!(
            "{base}ApiManagementServiceCheckNameAvailability.json"
        ))
        .expect("cna");
        let n: NameAvailability = round_trip(&cna["responses"]["200"]["body"]);
        assert!(n.name_available);
    }

    #[test]
    fn storage_and_role_examples_round_trip() {
        let sa =
            example("Microsoft.Storage/2025-08-01/examples/StorageAccountCreate.json").expect("sa");
        let acct: StorageAccount = round_trip(&sa["responses"]["200"]["body"]);
        assert!(acct.properties.and_then(|p| p.primary_endpoints).is_some());
        let ra = example(
            "Microsoft.Authorization/2022-04-01/examples/RoleAssignments_CreateForResource.json",
        )
        .expect("ra");
        let r: RoleAssignment = round_trip(&ra["responses"]["201"]["body"]);
        let props = r.properties.expect("properties");
        assert!(props.role_definition_id.contains("roleDefinitions"));
    }

    #[test]
    fn unknown_fields_survive_a_modify() {
        let v = serde_json::json!({
            "properties": {
                "platform": {"enabled": false, "configFilePath": "/x"},
                "globalValidation": {"redirectToProvider": "aad"},
                "identityProviders": {"google": {"enabled": true}},
                "futureField": 1
            }
        });
        let mut a: AuthSettingsV2 = serde_json::from_value(v).expect("parse");
        let p = a.properties.as_mut().expect("props");
        p.platform.get_or_insert_with(Default::default).enabled = Some(true);
        let out = serde_json::to_value(&a).expect("ser");
        assert_eq!(out["properties"]["platform"]["enabled"], true);
        assert_eq!(out["properties"]["platform"]["configFilePath"], "/x");
        assert_eq!(
            out["properties"]["globalValidation"]["redirectToProvider"],
            "aad"
        );
        assert_eq!(
            out["properties"]["identityProviders"]["google"]["enabled"],
            true
        );
        assert_eq!(out["properties"]["futureField"], 1);
    }

    #[test]
    fn function_envelope_uses_snake_case_on_the_wire() {
        let v = serde_json::json!({
            "id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Web/sites/a/functions/HttpExample",
            "name": "a/HttpExample",
            "properties": {
                "invoke_url_template": "https://a.azurewebsites.net/api/httpexample",
                "config": {"bindings": [{"type": "httpTrigger", "authLevel": "ANONYMOUS"}]},
                "isDisabled": false,
                "script_href": "x"
            }
        });
        let f: FunctionEnvelope = round_trip(&v);
        let p = f.properties.expect("props");
        assert_eq!(
            p.invoke_url_template.as_deref(),
            Some("https://a.azurewebsites.net/api/httpexample")
        );
        assert_eq!(p.is_disabled, Some(false));
    }

    #[test]
    fn site_hosts_come_from_host_name_ssl_states() {
        let v = serde_json::json!({"properties": {
            "defaultHostName": "app-abc123.japaneast-01.azurewebsites.net",
            "hostNameSslStates": [
                {"name": "app-abc123.japaneast-01.azurewebsites.net", "hostType": "Standard"},
                {"name": "app-abc123.scm.japaneast-01.azurewebsites.net", "hostType": "Repository"}
            ]
        }});
        let site: Site = serde_json::from_value(v).expect("site");
        assert_eq!(
            site.scm_host(),
            Some("app-abc123.scm.japaneast-01.azurewebsites.net")
        );
        assert_eq!(
            site.app_host(),
            Some("app-abc123.japaneast-01.azurewebsites.net")
        );
        assert!(same_location("West US", "westus"));
        assert!(!same_location("West US 2", "westus"));
    }
}
