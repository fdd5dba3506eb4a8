//! The api-version sent to each resource provider (arm-reference §0: the newest stable version
//! the current SDKs default to).

/// Microsoft.Resources (groups, subscription locations).
pub const RESOURCES: &str = "2025-04-01";
/// Microsoft.ApiManagement: the newest stable version; every later one is a preview.
pub const APIM: &str = "2024-05-01";
/// Microsoft.Web (sites, plans, geoRegions, authsettingsV2, keys, functions).
pub const WEB: &str = "2025-05-01";
/// Microsoft.Storage (accounts, blob containers).
pub const STORAGE: &str = "2025-08-01";
/// Microsoft.Authorization (role assignments and definitions).
pub const AUTHORIZATION: &str = "2022-04-01";
