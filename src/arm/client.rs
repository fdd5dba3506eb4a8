//! [`ArmClient`]: authentication, retries, logging, counting, and the verbs.

use azure_core::credentials::TokenCredential;
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use serde_json::Value;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

use super::counter::{RequestCounter, RequestCounts, is_read_only_post};
use super::error::ArmError;
use super::request::{ArmRequest, ArmResponse, operation_label, resolve_url};
use super::retry::{
    RetryPolicy, Sleeper, retry_after, should_retry_status, should_retry_transport, tokio_sleeper,
};
use crate::inflight;

/// 401 codes after which a fresh token is fetched and the request re-sent once. A token can
/// expire between the credential handing it out and ARM checking it (clock skew, a long upload).
const TOKEN_REFRESH_CODES: &[&str] = &["ExpiredAuthenticationToken", "InvalidAuthenticationToken"];

/// The ARM client. Cheap to clone; clones share the HTTP connection pool and the counter.
#[derive(Clone)]
pub struct ArmClient {
    pub(super) inner: Arc<Inner>,
}

#[derive(Clone)]
pub(super) struct Inner {
    http: reqwest::Client,
    credential: Arc<dyn TokenCredential>,
    pub(super) base: Url,
    scope: String,
    pub(super) policy: RetryPolicy,
    sleeper: Sleeper,
    counter: RequestCounter,
}

impl fmt::Debug for ArmClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArmClient")
            .field("base", &self.inner.base.as_str())
            .field("scope", &self.inner.scope)
            .field("policy", &self.inner.policy)
            .finish_non_exhaustive()
    }
}

impl ArmClient {
    /// `base`: the ARM endpoint, e.g. `https://management.azure.com/`; `scope`: e.g.
    /// `https://management.azure.com/.default`.
    pub fn new(
        http: reqwest::Client,
        credential: Arc<dyn TokenCredential>,
        base: Url,
        scope: String,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                http,
                credential,
                base,
                scope,
                policy: RetryPolicy::default(),
                sleeper: tokio_sleeper(),
                counter: RequestCounter::new(),
            }),
        }
    }

    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        Arc::make_mut(&mut self.inner).policy = policy;
        self
    }

    /// Replace how the client waits (between retries and polls). Tests record the delays.
    pub fn with_sleeper(mut self, sleeper: Sleeper) -> Self {
        Arc::make_mut(&mut self.inner).sleeper = sleeper;
        self
    }

    /// Count into `counter` (shared with other clients) instead of a counter of its own.
    pub fn with_counter(mut self, counter: RequestCounter) -> Self {
        Arc::make_mut(&mut self.inner).counter = counter;
        self
    }

    pub fn counter(&self) -> RequestCounts {
        self.inner.counter.snapshot()
    }

    /// The shared counter itself, for other clients to count into.
    pub fn request_counter(&self) -> RequestCounter {
        self.inner.counter.clone()
    }

    pub fn policy(&self) -> &RetryPolicy {
        &self.inner.policy
    }

    pub fn base(&self) -> &Url {
        &self.inner.base
    }

    /// The URL for `path` with `api-version` added (see [`ArmClient::get`] for the rules).
    pub fn url(&self, path: &str, api_version: &str) -> Result<Url, ArmError> {
        resolve_url(&self.inner.base, path, api_version)
    }

    /// A request to build on: `client.request(Method::PATCH, path, v)?.if_match_any().json(&b)`.
    pub fn request(
        &self,
        method: Method,
        path: &str,
        api_version: &str,
    ) -> Result<ArmRequest, ArmError> {
        Ok(ArmRequest::new(method, self.url(path, api_version)?))
    }

    // ---- verbs ----

    /// GET a resource; `None` on 404. `path` is `/subscriptions/…` (joined to the base) or an
    /// absolute URL; `api-version` is added unless the URL already has one.
    pub async fn get(&self, path: &str, api_version: &str) -> Result<Option<Value>, ArmError> {
        let req = self.request(Method::GET, path, api_version)?;
        match self.send(&req).await {
            Ok(resp) => Ok(Some(resp.body.unwrap_or(Value::Null))),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// GET a resource that must exist: 404 is an error.
    pub async fn get_required(&self, path: &str, api_version: &str) -> Result<Value, ArmError> {
        let req = self.request(Method::GET, path, api_version)?;
        Ok(self.send(&req).await?.body.unwrap_or(Value::Null))
    }

    /// HEAD: `true` on 200/204, `false` on 404.
    pub async fn head(&self, path: &str, api_version: &str) -> Result<bool, ArmError> {
        let req = self.request(Method::HEAD, path, api_version)?;
        match self.send(&req).await {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// PUT and wait for the long-running operation, if any; returns the final resource.
    pub async fn put(
        &self,
        path: &str,
        api_version: &str,
        body: &Value,
    ) -> Result<Value, ArmError> {
        let req = self.request(Method::PUT, path, api_version)?.json(body);
        Ok(self.execute(&req).await?.unwrap_or(Value::Null))
    }

    /// PATCH and wait, like [`ArmClient::put`].
    pub async fn patch(
        &self,
        path: &str,
        api_version: &str,
        body: &Value,
    ) -> Result<Value, ArmError> {
        let req = self.request(Method::PATCH, path, api_version)?.json(body);
        Ok(self.execute(&req).await?.unwrap_or(Value::Null))
    }

    /// POST an action and wait if it is long-running; the result body, if any.
    pub async fn post(
        &self,
        path: &str,
        api_version: &str,
        body: Option<&Value>,
    ) -> Result<Option<Value>, ArmError> {
        let mut req = self.request(Method::POST, path, api_version)?;
        if let Some(b) = body {
            req = req.json(b);
        }
        self.execute(&req).await
    }

    /// DELETE and wait. 404 and 204 mean already gone and are success.
    pub async fn delete(&self, path: &str, api_version: &str) -> Result<(), ArmError> {
        let req = self.request(Method::DELETE, path, api_version)?;
        match self.execute(&req).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// GET a collection and every following page (`nextLink`, used verbatim); the `value`
    /// arrays concatenated.
    pub async fn list(&self, path: &str, api_version: &str) -> Result<Vec<Value>, ArmError> {
        let first = self.request(Method::GET, path, api_version)?;
        let operation = first.operation();
        let mut url = first.url;
        let mut items = Vec::new();
        loop {
            let req = ArmRequest::new(Method::GET, url.clone());
            let resp = self.send(&req).await?;
            let next = match resp.body {
                Some(Value::Array(page)) => {
                    items.extend(page);
                    None
                }
                Some(Value::Object(mut page)) => {
                    if let Some(Value::Array(values)) = page.remove("value") {
                        items.extend(values);
                    }
                    match page.get("nextLink") {
                        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
                        _ => None,
                    }
                }
                None => None,
                Some(_) => {
                    return Err(ArmError::invalid_response(
                        operation,
                        Some(resp.status),
                        "a list answer that is neither an object with `value` nor an array",
                        resp.request_id,
                    ));
                }
            };
            let Some(next) = next else {
                return Ok(items);
            };
            let next = Url::parse(&next)
                .or_else(|_| self.inner.base.join(&next))
                .map_err(|e| {
                    ArmError::invalid_response(
                        operation.clone(),
                        Some(resp.status),
                        format!("nextLink is not a URL: {e}"),
                        resp.request_id.clone(),
                    )
                })?;
            if next == url {
                // A server bug would otherwise keep us here forever.
                return Err(ArmError::invalid_response(
                    operation,
                    Some(resp.status),
                    "nextLink points at the page just read",
                    resp.request_id,
                ));
            }
            url = next;
        }
    }

    // ---- sending ----

    /// Send one request (with retries and token refresh, without following a long-running
    /// operation). Ok for any 2xx; every other status is an [`ArmError`] carrying it.
    pub async fn send(&self, req: &ArmRequest) -> Result<ArmResponse, ArmError> {
        let operation = req.operation();
        let _guard = inflight::track(operation.clone());
        self.send_raw(
            &req.method,
            &req.url,
            &req.headers,
            req.body.as_ref(),
            &operation,
        )
        .await
    }

    pub(super) async fn sleep(&self, d: Duration) {
        (self.inner.sleeper)(d).await;
    }

    /// The retry loop. `operation` names what failed in errors (for polls, the original
    /// operation); the URL is sent exactly as given.
    pub(super) async fn send_raw(
        &self,
        method: &Method,
        url: &Url,
        headers: &HeaderMap,
        body: Option<&Value>,
        operation: &str,
    ) -> Result<ArmResponse, ArmError> {
        let policy = &self.inner.policy;
        let read_only = is_read_only_post(url.path());
        let max_attempts = policy.max_attempts.max(1);
        let mut attempt = 0u32;
        let mut refreshed_token = false;
        let (mut throttles, mut throttled) = (0u32, Duration::ZERO);
        loop {
            attempt += 1;
            let token = self.token(operation).await?;
            let client_request_id = uuid::Uuid::new_v4().to_string();
            let mut rb = self
                .inner
                .http
                .request(method.clone(), url.clone())
                .headers(headers.clone())
                .header("x-ms-client-request-id", &client_request_id)
                .header(AUTHORIZATION, token);
            if let Some(b) = body {
                rb = rb.json(b);
            }
            self.inner.counter.record(method.as_str(), url.path());
            let result = match rb.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let resp_headers = resp.headers().clone();
                    log_response(method, url, status, &resp_headers, &client_request_id);
                    resp.bytes().await.map(|b| (status, resp_headers, b))
                }
                Err(e) => Err(e),
            };
            let (status, resp_headers, bytes) = match result {
                Ok(r) => r,
                Err(e) => {
                    // The URL (with a poll's signed query) stays out of messages and logs; the
                    // operation names the request.
                    let e = e.without_url();
                    let connect_failed = e.is_connect();
                    tracing::debug!(
                        method = %method,
                        path = url.path(),
                        client_request_id = %client_request_id,
                        connect_failed,
                        "ARM request got no answer: {e}"
                    );
                    if attempt < max_attempts
                        && should_retry_transport(method.as_str(), read_only, connect_failed)
                    {
                        self.sleep(policy.backoff(attempt)).await;
                        continue;
                    }
                    return Err(ArmError::transport(operation, e));
                }
            };
            let request_id = header_string(&resp_headers, "x-ms-request-id");
            if (200..300).contains(&status) {
                let body = parse_success_body(&bytes).map_err(|e| {
                    ArmError::invalid_response(
                        operation,
                        Some(status),
                        format!("the answer is not JSON: {e}"),
                        request_id.clone(),
                    )
                })?;
                return Ok(ArmResponse {
                    status,
                    headers: resp_headers,
                    body,
                    request_id,
                });
            }
            let err = ArmError::from_response(operation, status, &bytes, request_id);
            if status == 401
                && !refreshed_token
                && TOKEN_REFRESH_CODES.iter().any(|c| err.has_code(c))
            {
                // Once, and without spending an attempt: the next send asks for a fresh token.
                refreshed_token = true;
                attempt -= 1;
                continue;
            }
            if status == 429 {
                throttles += 1;
                let wait = policy.delay_or(
                    retry_after(&resp_headers, time::OffsetDateTime::now_utc()),
                    policy.backoff(throttles),
                );
                if throttled + wait <= policy.throttle_budget {
                    throttled += wait;
                    tracing::debug!(
                        throttles,
                        wait_ms = wait.as_millis() as u64,
                        "throttled; retrying {}",
                        operation_label(method, url)
                    );
                    // Not an attempt: the request did not run.
                    attempt -= 1;
                    self.sleep(wait).await;
                    continue;
                }
            }
            if attempt < max_attempts
                && should_retry_status(
                    method.as_str(),
                    read_only,
                    status,
                    err.code(),
                    Some(err.message()),
                )
            {
                let wait = policy.delay_or(
                    retry_after(&resp_headers, time::OffsetDateTime::now_utc()),
                    policy.backoff(attempt),
                );
                tracing::debug!(
                    status,
                    code = err.code().unwrap_or(""),
                    attempt,
                    wait_ms = wait.as_millis() as u64,
                    "retrying {}",
                    operation_label(method, url)
                );
                self.sleep(wait).await;
                continue;
            }
            return Err(err);
        }
    }

    /// A bearer header value from the credential, fetched per request: azure_identity caches
    /// and refreshes, so a 90-minute wait keeps working after the first token expires.
    async fn token(&self, operation: &str) -> Result<HeaderValue, ArmError> {
        let scope = self.inner.scope.as_str();
        let token = self
            .inner
            .credential
            .get_token(&[scope], None)
            .await
            .map_err(|e| ArmError::token(operation, scope, e))?;
        let secret = token.token.secret();
        crate::output::register_secret(secret);
        let mut value = HeaderValue::from_str(&format!("Bearer {secret}")).map_err(|_| {
            ArmError::token(
                operation,
                scope,
                std::io::Error::other("the token contains characters not allowed in a header"),
            )
        })?;
        // Keeps the value out of reqwest/hyper debug output.
        value.set_sensitive(true);
        Ok(value)
    }
}

fn header_string(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Method, path (no query: polling URLs carry signatures), status and Azure's ids. Never the
/// token or a body.
fn log_response(
    method: &Method,
    url: &Url,
    status: u16,
    headers: &HeaderMap,
    client_request_id: &str,
) {
    tracing::debug!(
        method = %method,
        path = url.path(),
        status,
        request_id = header_string(headers, "x-ms-request-id").as_deref().unwrap_or(""),
        correlation_id = header_string(headers, "x-ms-correlation-request-id")
            .as_deref()
            .unwrap_or(""),
        client_request_id,
        "ARM"
    );
}

/// Empty (or whitespace) bodies are `None`.
fn parse_success_body(bytes: &[u8]) -> Result<Option<Value>, serde_json::Error> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(bytes).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_success_bodies_are_none_and_json_is_parsed() {
        assert_eq!(parse_success_body(b"").expect("empty"), None);
        assert_eq!(parse_success_body(b" \r\n").expect("blank"), None);
        assert_eq!(
            parse_success_body(br#"{"a":1}"#).expect("json"),
            Some(serde_json::json!({"a": 1}))
        );
        assert!(parse_success_body(b"<html>").is_err());
    }

    /// Callers spawn and `select!` over these futures; they must stay `Send` and the types
    /// `Send + Sync` (a compile-time check: the test fails to build otherwise).
    #[test]
    fn futures_are_send_and_errors_fit_anyhow() {
        fn send<T: Send>(_: &T) {}
        fn send_sync<T: Send + Sync + 'static>() {}
        send_sync::<ArmClient>();
        send_sync::<ArmError>();
        let client = ArmClient::new(
            reqwest::Client::new(),
            Arc::new(NoCred),
            Url::parse("https://management.azure.com/").expect("url"),
            "s".into(),
        );
        let body = serde_json::json!({});
        send(&client.put("/x", "1", &body));
        send(&client.list("/x", "1"));
        let op = super::super::lro::Operation::provisioning(
            Url::parse("https://management.azure.com/x").expect("url"),
        );
        send(&client.wait(&op, |_| {}));
        let err: anyhow::Error = ArmError::invalid_request("GET /x", "bad").into();
        assert!(err.downcast_ref::<ArmError>().is_some());
    }

    #[derive(Debug)]
    struct NoCred;
    #[async_trait::async_trait]
    impl TokenCredential for NoCred {
        async fn get_token(
            &self,
            _: &[&str],
            _: Option<azure_core::credentials::TokenRequestOptions<'_>>,
        ) -> azure_core::Result<azure_core::credentials::AccessToken> {
            Err(azure_core::Error::with_message(
                azure_core::error::ErrorKind::Credential,
                "none",
            ))
        }
    }

    #[test]
    fn debug_shows_the_endpoint_but_no_credential() {
        let c = ArmClient::new(
            reqwest::Client::new(),
            Arc::new(NoCred),
            Url::parse("https://management.azure.com/").expect("url"),
            "https://management.azure.com/.default".into(),
        );
        let dbg = format!("{c:?}");
        assert!(dbg.contains("management.azure.com"), "{dbg}");
        assert_eq!(c.counter(), RequestCounts::default());
    }
}
