//! A request to ARM and its answer, for callers that need more than the verbs (extra headers
//! such as `If-Match: *`, the status code, response headers).

use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use std::fmt;
use url::Url;

use super::error::ArmError;
use super::lro::FinalState;

/// One request. Build it with [`crate::arm::ArmClient::request`], then add headers or a body.
#[derive(Clone)]
pub struct ArmRequest {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<Value>,
    /// Where the result of a long-running operation is read (`final-state-via` in the spec).
    pub final_state: FinalState,
}

impl ArmRequest {
    pub fn new(method: Method, url: Url) -> Self {
        Self {
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
            final_state: FinalState::Default,
        }
    }

    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// `If-Match: *`, which APIM requires on PATCH and DELETE of sub-resources.
    pub fn if_match_any(self) -> Self {
        self.header(reqwest::header::IF_MATCH, HeaderValue::from_static("*"))
    }

    pub fn json(mut self, body: &Value) -> Self {
        self.body = Some(body.clone());
        self
    }

    pub fn final_state(mut self, final_state: FinalState) -> Self {
        self.final_state = final_state;
        self
    }

    /// `PUT /subscriptions/…/service/x`: method and path, never the query (polling URLs carry
    /// signatures). Used in errors, logs and the in-flight registry.
    pub fn operation(&self) -> String {
        operation_label(&self.method, &self.url)
    }
}

/// Bodies are left out: they can hold secrets (named values, keys).
impl fmt::Debug for ArmRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArmRequest")
            .field("operation", &self.operation())
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("body", &self.body.as_ref().map(|_| "…"))
            .field("final_state", &self.final_state)
            .finish()
    }
}

/// A successful (2xx) answer.
#[derive(Clone)]
pub struct ArmResponse {
    pub status: u16,
    pub headers: HeaderMap,
    /// The JSON body; `None` when the body was empty.
    pub body: Option<Value>,
    pub request_id: Option<String>,
}

impl ArmResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl fmt::Debug for ArmResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArmResponse")
            .field("status", &self.status)
            .field("request_id", &self.request_id)
            .field("body", &self.body.as_ref().map(|_| "…"))
            .finish()
    }
}

pub(crate) fn operation_label(method: &Method, url: &Url) -> String {
    format!("{method} {}", url.path())
}

/// The URL for `path` (`/subscriptions/…`, joined to `base`, or an absolute URL) with
/// `api-version` appended unless the URL already has one or `api_version` is empty.
pub(crate) fn resolve_url(base: &Url, path: &str, api_version: &str) -> Result<Url, ArmError> {
    let lower = path.to_ascii_lowercase();
    let text = if lower.starts_with("https://") || lower.starts_with("http://") {
        path.to_string()
    } else {
        // Plain concatenation, not `Url::join`, so that a base with a path keeps it.
        format!(
            "{}/{}",
            base.as_str().trim_end_matches('/'),
            path.trim_start_matches('/')
        )
    };
    let mut url = Url::parse(&text).map_err(|e| {
        ArmError::invalid_request(path.to_string(), format!("not a valid URL: {e}"))
    })?;
    let has_version = url
        .query_pairs()
        .any(|(k, _)| k.eq_ignore_ascii_case("api-version"));
    if !api_version.is_empty() && !has_version {
        url.query_pairs_mut()
            .append_pair("api-version", api_version);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://management.azure.com/").expect("base")
    }

    #[test]
    fn paths_join_the_base_and_get_the_api_version() {
        let u =
            resolve_url(&base(), "/subscriptions/s/resourcegroups/rg", "2025-04-01").expect("url");
        assert_eq!(
            u.as_str(),
            "https://management.azure.com/subscriptions/s/resourcegroups/rg?api-version=2025-04-01"
        );
        let u = resolve_url(
            &base(),
            "/subscriptions/s/providers/Microsoft.Web/geoRegions?sku=FlexConsumption",
            "2025-05-01",
        )
        .expect("url");
        assert_eq!(
            u.query(),
            Some("sku=FlexConsumption&api-version=2025-05-01")
        );
    }

    #[test]
    fn a_base_with_a_path_keeps_it() {
        let b = Url::parse("https://127.0.0.1:8443/arm/").expect("base");
        let u = resolve_url(&b, "/subscriptions/s", "1").expect("url");
        assert_eq!(
            u.as_str(),
            "https://127.0.0.1:8443/arm/subscriptions/s?api-version=1"
        );
    }

    #[test]
    fn absolute_urls_keep_their_query_and_existing_api_version() {
        let abs = "https://management.azure.com/x/operationresults/abc==?api-version=2022-08-01&asyncResponse&t=1&s=a_b-c";
        let u = resolve_url(&base(), abs, "2024-05-01").expect("url");
        assert_eq!(u.as_str(), abs);
        let u = resolve_url(&base(), "https://management.azure.com/x", "2024-05-01").expect("url");
        assert_eq!(
            u.as_str(),
            "https://management.azure.com/x?api-version=2024-05-01"
        );
    }

    #[test]
    fn operation_labels_drop_the_query() {
        let u = Url::parse("https://management.azure.com/a/b?api-version=1&s=secret").expect("u");
        assert_eq!(operation_label(&Method::PUT, &u), "PUT /a/b");
        let r = ArmRequest::new(Method::PATCH, u)
            .json(&serde_json::json!({"value": "hunter22-secret"}));
        let dbg = format!("{r:?}");
        assert!(!dbg.contains("hunter22"), "{dbg}");
        assert!(!dbg.contains("s=secret"), "{dbg}");
    }

    #[test]
    fn invalid_paths_are_an_invalid_request() {
        let b = Url::parse("https://management.azure.com/").expect("base");
        let err = resolve_url(&b, "https://", "1").expect_err("invalid");
        assert_eq!(err.kind(), crate::arm::ErrorKind::InvalidRequest);
    }
}
