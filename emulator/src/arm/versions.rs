//! The api-versions each provider accepts, and ARM's answers for a missing or unknown one.
//!
//! The lists hold the stable versions current SDKs and the Azure CLI send (arm-reference §0) plus
//! a few older and preview ones; real ARM accepts more, but a client sending a version outside
//! this set is almost certainly wrong.

use super::ids::ArmPath;
use crate::http::arm_error;
use axum::http::StatusCode;
use axum::response::Response;

pub const RESOURCES: &[&str] = &[
    "2021-04-01",
    "2022-09-01",
    "2023-07-01",
    "2024-03-01",
    "2024-07-01",
    "2024-11-01",
    "2025-01-01",
    "2025-03-01",
    "2025-04-01",
];
pub const API_MANAGEMENT: &[&str] = &[
    "2021-08-01",
    "2022-08-01",
    "2023-03-01-preview",
    "2023-05-01-preview",
    "2023-09-01-preview",
    "2024-05-01",
    "2024-06-01-preview",
];
pub const WEB: &[&str] = &[
    "2020-10-01",
    "2020-12-01",
    "2022-03-01",
    "2022-09-01",
    "2023-01-01",
    "2023-12-01",
    "2024-04-01",
    "2024-11-01",
    "2025-03-01",
    "2025-05-01",
];
pub const STORAGE: &[&str] = &[
    "2023-01-01",
    "2023-04-01",
    "2023-05-01",
    "2024-01-01",
    "2025-01-01",
    "2025-06-01",
    "2025-08-01",
];
pub const AUTHORIZATION: &[&str] = &["2020-04-01-preview", "2022-04-01", "2022-05-01-preview"];

/// The accepted versions for a path's provider.
pub fn supported(path: &ArmPath) -> &'static [&'static str] {
    match path
        .namespace
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("microsoft.resources") => RESOURCES,
        Some("microsoft.apimanagement") => API_MANAGEMENT,
        Some("microsoft.web") => WEB,
        Some("microsoft.storage") => STORAGE,
        Some("microsoft.authorization") => AUTHORIZATION,
        Some(_) => &[],
    }
}

fn well_formed(v: &str) -> bool {
    let (date, suffix) = v.split_at(v.len().min(10));
    let b = date.as_bytes();
    date.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && date
            .chars()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        && (suffix.is_empty() || suffix == "-preview" || suffix == "-beta")
}

/// The api-version to use, or ARM's error answer.
pub fn check(path: &ArmPath, version: Option<&str>) -> Result<String, Response> {
    let Some(v) = version.filter(|v| !v.is_empty()) else {
        return Err(arm_error(
            StatusCode::BAD_REQUEST,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        ));
    };
    let list = supported(path);
    if !well_formed(v) {
        return Err(arm_error(
            StatusCode::BAD_REQUEST,
            "InvalidApiVersionParameter",
            &format!(
                "The api-version '{v}' is invalid. The supported versions are '{}'.",
                list.join(",")
            ),
        ));
    }
    if list.contains(&v) {
        return Ok(v.to_string());
    }
    let resource_type = path
        .rest
        .first()
        .cloned()
        .unwrap_or_else(|| "resourceGroups".into());
    Err(arm_error(
        StatusCode::BAD_REQUEST,
        "NoRegisteredProviderFound",
        &format!(
            "No registered resource provider found for location 'global' and API version '{v}' for type '{resource_type}'. The supported api-versions are '{}'.",
            list.join(", ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_malformed_and_unknown_versions() {
        let p = ArmPath::parse("/subscriptions/s/resourceGroups/g/providers/Microsoft.Web/sites/a")
            .expect("parse");
        assert_eq!(
            check(&p, Some("2025-05-01")).ok().as_deref(),
            Some("2025-05-01")
        );
        assert_eq!(
            check(&p, None).err().map(|r| r.status()),
            Some(StatusCode::BAD_REQUEST)
        );
        assert!(check(&p, Some("latest")).is_err());
        assert!(check(&p, Some("2099-01-01")).is_err());
        assert!(well_formed("2024-06-01-preview"));
        assert!(!well_formed("2024-6-01"));
    }
}
