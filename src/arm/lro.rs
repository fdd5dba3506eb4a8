//! Long-running operations: recognising them in a first answer, and polling them to the end.
//!
//! Three ways ARM says "still working", tried in this order on the first answer:
//! 1. `Azure-AsyncOperation`: poll that status resource until `Succeeded`, `Failed` or
//!    `Canceled` (anything else is in progress); then read the result — for PUT/PATCH a GET of the
//!    original URL (or of `Location` with `final-state-via: location`), for POST the `Location`
//!    if given, for DELETE nothing.
//! 2. `Location` on a 202: poll it; 202 means running, 200/201/204 done with the body (if any)
//!    as the result (APIM named values end 201 with the entity, a purge ends 200 empty).
//! 3. For PUT/PATCH, a `properties.provisioningState` that is not terminal (APIM `Activating`,
//!    storage `Creating`) or a bare 202: GET the resource until `Succeeded` (`Failed`/`Canceled`
//!    are errors).
//!
//! Polling URLs are used exactly as Azure gives them (they carry signed query parameters), and a
//! newer one in a poll answer replaces the old. Waits are `Retry-After` when given, else the
//! policy's growing interval. There is no deadline here: the caller's timeout drops the future,
//! which is safe at every await.

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::Value;
use std::time::{Duration, Instant};
use url::Url;

use super::client::ArmClient;
use super::error::ArmError;
use super::request::{ArmRequest, ArmResponse, operation_label};
use super::retry::retry_after;
use crate::inflight;

/// Where the final result of a long-running operation is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FinalState {
    /// ARM's defaults: PUT/PATCH the original URL, POST the `Location`, DELETE nothing.
    #[default]
    Default,
    /// `final-state-via: location` (APIM named values, APIs, deleted-service purge).
    Location,
    /// `final-state-via: original-uri`.
    OriginalUri,
}

/// How an operation is polled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll {
    AsyncOperation(Url),
    Location(Url),
    ProvisioningState,
}

/// A long-running operation that Azure accepted and is still running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// Method of the request that started it.
    pub method: Method,
    /// URL of that request (the resource, for PUT/PATCH/DELETE).
    pub resource: Url,
    pub poll: Poll,
    /// The `Location` header, kept for `final-state-via: location` and POST results.
    pub location: Option<Url>,
    pub final_state: FinalState,
    /// Status reported before the first poll (e.g. the `provisioningState` of the first answer).
    pub initial_status: String,
    /// `Retry-After` of the first answer.
    pub retry_after: Option<Duration>,
}

/// Progress of a wait, given to the callback before each sleep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LroStatus {
    /// Azure's latest word: `InProgress`, `Activating`, `Accepted`, …
    pub status: String,
    /// Since the wait started.
    pub elapsed: Duration,
    /// Polls sent so far.
    pub polls: u32,
    /// How long until the next poll.
    pub next_poll: Duration,
}

/// What `begin` got: the first answer, and the operation to wait on if it is still running.
#[derive(Debug, Clone)]
pub struct Started {
    pub status: u16,
    pub body: Option<Value>,
    pub operation: Option<Operation>,
}

/// Where an operation or provisioning stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Succeeded,
    Failed,
    Canceled,
    Running,
}

impl Phase {
    fn is_failure(self) -> bool {
        matches!(self, Phase::Failed | Phase::Canceled)
    }
}

/// Classify an operation `status` or a `provisioningState`, case-insensitively; anything that
/// is not terminal (`InProgress`, `Accepted`, `Running`, `Activating`, `Creating`, …) runs.
pub fn classify_status(status: &str) -> Phase {
    match status.to_ascii_lowercase().as_str() {
        "succeeded" => Phase::Succeeded,
        "failed" => Phase::Failed,
        "canceled" | "cancelled" => Phase::Canceled,
        _ => Phase::Running,
    }
}

/// `properties.provisioningState` of a resource body, if any.
pub fn provisioning_state(body: &Value) -> Option<&str> {
    get_ci(get_ci(body, "properties")?, "provisioningState")?.as_str()
}

fn get_ci<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

fn header_url(headers: &HeaderMap, name: &str, base: &Url) -> Option<Url> {
    let raw = headers.get(name)?.to_str().ok()?.trim();
    if raw.is_empty() {
        return None;
    }
    // Absolute in practice; a relative one is resolved against the endpoint.
    Url::parse(raw).or_else(|_| base.join(raw)).ok()
}

fn is_put_or_patch(method: &Method) -> bool {
    *method == Method::PUT || *method == Method::PATCH
}

impl Operation {
    /// The operation a first answer describes, or `None` when the answer is final.
    pub fn from_response(req: &ArmRequest, resp: &ArmResponse, base: &Url) -> Option<Operation> {
        let async_op = header_url(&resp.headers, "azure-asyncoperation", base);
        let location = header_url(&resp.headers, "location", base);
        let state = resp.body.as_ref().and_then(provisioning_state);
        let poll = if let Some(url) = async_op {
            Poll::AsyncOperation(url)
        } else if resp.status == 202
            && let Some(url) = location.clone()
        {
            Poll::Location(url)
        } else if is_put_or_patch(&req.method)
            && (resp.status == 202 || state.is_some_and(|s| classify_status(s) == Phase::Running))
        {
            Poll::ProvisioningState
        } else {
            return None;
        };
        let initial_status = state.map(str::to_string).unwrap_or_else(|| {
            if resp.status == 202 {
                "Accepted"
            } else {
                "InProgress"
            }
            .to_string()
        });
        Some(Operation {
            method: req.method.clone(),
            resource: req.url.clone(),
            poll,
            location,
            final_state: req.final_state,
            initial_status,
            retry_after: retry_after(&resp.headers, time::OffsetDateTime::now_utc()),
        })
    }

    /// Waiting for a resource's `provisioningState` to settle (e.g. an APIM service found
    /// `Activating` by an earlier run).
    pub fn provisioning(resource: Url) -> Operation {
        Operation {
            method: Method::PUT,
            resource,
            poll: Poll::ProvisioningState,
            location: None,
            final_state: FinalState::Default,
            initial_status: "InProgress".into(),
            retry_after: None,
        }
    }

    /// `PUT /subscriptions/…/service/x`.
    pub fn label(&self) -> String {
        operation_label(&self.method, &self.resource)
    }

    /// The URL polled first.
    pub fn poll_url(&self) -> &Url {
        match &self.poll {
            Poll::AsyncOperation(u) | Poll::Location(u) => u,
            Poll::ProvisioningState => &self.resource,
        }
    }
}

impl ArmClient {
    /// Send `req` and, if Azure answers with a long-running operation, do not wait: return the
    /// first answer and the operation (for `--no-wait`; finish later with [`ArmClient::wait`]).
    pub async fn begin(&self, req: &ArmRequest) -> Result<Started, ArmError> {
        let resp = self.send(req).await?;
        let operation = Operation::from_response(req, &resp, &self.inner.base);
        Ok(Started {
            status: resp.status,
            body: resp.body,
            operation,
        })
    }

    /// `begin` for a PUT of `body` at `path`.
    pub async fn begin_put(
        &self,
        path: &str,
        api_version: &str,
        body: &Value,
    ) -> Result<Started, ArmError> {
        let req = self.request(Method::PUT, path, api_version)?.json(body);
        self.begin(&req).await
    }

    /// Send `req` and follow a long-running operation to its end; the final result, if any.
    pub async fn execute(&self, req: &ArmRequest) -> Result<Option<Value>, ArmError> {
        let started = self.begin(req).await?;
        match started.operation {
            Some(op) => self.wait(&op, |_| {}).await,
            None => Ok(started.body),
        }
    }

    /// Wait for `op` to end, calling `progress` before each poll. The result: the final resource
    /// for PUT/PATCH, the action's result (if any) for POST, `None` for DELETE. `Failed` and
    /// `Canceled` are errors carrying Azure's code and message.
    pub async fn wait<F>(&self, op: &Operation, mut progress: F) -> Result<Option<Value>, ArmError>
    where
        F: FnMut(&LroStatus) + Send,
    {
        let label = op.label();
        let _guard = inflight::track(format!("{label} (waiting for Azure to finish)"));
        let polling = format!("{label}, while polling");
        let policy = self.inner.policy.clone();
        let started = Instant::now();
        let mut poll = op.poll.clone();
        let mut location = op.location.clone();
        let mut status = op.initial_status.clone();
        let mut polls = 0u32;
        let mut delay = policy.delay_or(op.retry_after, policy.poll_interval(0));
        let no_headers = HeaderMap::new();
        loop {
            progress(&LroStatus {
                status: status.clone(),
                elapsed: started.elapsed(),
                polls,
                next_poll: delay,
            });
            self.sleep(delay).await;
            polls += 1;
            let url = match &poll {
                Poll::AsyncOperation(u) | Poll::Location(u) => u.clone(),
                Poll::ProvisioningState => op.resource.clone(),
            };
            let resp = match self
                .send_raw(&Method::GET, &url, &no_headers, None, &polling)
                .await
            {
                Ok(r) => r,
                // A Location poll of a DELETE may answer 404 once the resource is gone.
                Err(e) if e.is_not_found() && op.method == Method::DELETE => return Ok(None),
                Err(e) => return Err(e),
            };
            match &mut poll {
                Poll::AsyncOperation(u) => {
                    if let Some(newer) =
                        header_url(&resp.headers, "azure-asyncoperation", &self.inner.base)
                    {
                        *u = newer;
                    }
                    if let Some(newer) = header_url(&resp.headers, "location", &self.inner.base) {
                        location = Some(newer);
                    }
                    let reported = resp
                        .body
                        .as_ref()
                        .and_then(|b| get_ci(b, "status"))
                        .and_then(Value::as_str);
                    // A 202 without a status body still says "running".
                    let reported = reported.or((resp.status == 202).then_some("InProgress"));
                    let Some(s) = reported else {
                        return Err(ArmError::invalid_response(
                            polling,
                            Some(resp.status),
                            "the operation status has no `status` field",
                            resp.request_id,
                        ));
                    };
                    match classify_status(s) {
                        Phase::Succeeded => {
                            return self.final_result(op, location.as_ref()).await;
                        }
                        phase if phase.is_failure() => {
                            return Err(ArmError::operation_failed(
                                label,
                                s,
                                resp.body.as_ref(),
                                resp.request_id,
                            ));
                        }
                        _ => status = s.to_string(),
                    }
                }
                Poll::Location(u) => {
                    if resp.status == 202 {
                        if let Some(newer) = header_url(&resp.headers, "location", &self.inner.base)
                        {
                            *u = newer;
                        }
                        status = resp
                            .body
                            .as_ref()
                            .and_then(provisioning_state)
                            .unwrap_or("InProgress")
                            .to_string();
                    } else if resp.body.is_none() && is_put_or_patch(&op.method) {
                        return self.final_get(&op.resource).await;
                    } else {
                        return Ok(resp.body);
                    }
                }
                Poll::ProvisioningState => {
                    let state = resp.body.as_ref().and_then(provisioning_state);
                    match state.map(classify_status) {
                        None | Some(Phase::Succeeded) => return Ok(resp.body),
                        Some(phase) if phase.is_failure() => {
                            let s = state.unwrap_or("Failed").to_string();
                            return Err(ArmError::operation_failed(
                                label,
                                &s,
                                resp.body.as_ref(),
                                resp.request_id,
                            ));
                        }
                        Some(_) => status = state.unwrap_or("InProgress").to_string(),
                    }
                }
            }
            delay = policy.delay_or(
                retry_after(&resp.headers, time::OffsetDateTime::now_utc()),
                policy.poll_interval(polls),
            );
        }
    }

    /// The result once an `Azure-AsyncOperation` says `Succeeded`.
    async fn final_result(
        &self,
        op: &Operation,
        location: Option<&Url>,
    ) -> Result<Option<Value>, ArmError> {
        let via_location = match op.final_state {
            FinalState::Location => location,
            FinalState::OriginalUri => None,
            FinalState::Default if op.method == Method::POST => location,
            FinalState::Default => None,
        };
        if let Some(loc) = via_location {
            return self.final_get(loc).await;
        }
        if is_put_or_patch(&op.method) || op.final_state == FinalState::OriginalUri {
            return self.final_get(&op.resource).await;
        }
        Ok(None)
    }

    async fn final_get(&self, url: &Url) -> Result<Option<Value>, ArmError> {
        let req = ArmRequest::new(Method::GET, url.clone());
        Ok(self.send(&req).await?.body)
    }

    /// Wait for the resource at `path` to reach a terminal `provisioningState`; its final body.
    pub async fn wait_for_provisioning<F>(
        &self,
        path: &str,
        api_version: &str,
        progress: F,
    ) -> Result<Value, ArmError>
    where
        F: FnMut(&LroStatus) + Send,
    {
        let op = Operation::provisioning(self.url(path, api_version)?);
        Ok(self.wait(&op, progress).await?.unwrap_or(Value::Null))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;
    use serde_json::json;

    fn base() -> Url {
        Url::parse("https://management.azure.com/").expect("base")
    }

    fn req(method: Method) -> ArmRequest {
        ArmRequest::new(
            method,
            Url::parse("https://management.azure.com/r/x?api-version=1").expect("url"),
        )
    }

    fn resp(status: u16, headers: &[(&'static str, &str)], body: Option<Value>) -> ArmResponse {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.insert(*k, HeaderValue::from_str(v).expect("header"));
        }
        ArmResponse {
            status,
            headers: h,
            body,
            request_id: None,
        }
    }

    #[test]
    fn statuses_classify_case_insensitively_and_unknown_ones_run() {
        assert_eq!(classify_status("Succeeded"), Phase::Succeeded);
        assert_eq!(classify_status("SUCCEEDED"), Phase::Succeeded);
        assert_eq!(classify_status("Failed"), Phase::Failed);
        assert_eq!(classify_status("Canceled"), Phase::Canceled);
        assert_eq!(classify_status("Cancelled"), Phase::Canceled);
        for s in [
            "InProgress",
            "Accepted",
            "Running",
            "Activating",
            "Created",
            "Creating",
            "Updating",
            "",
        ] {
            assert_eq!(classify_status(s), Phase::Running, "{s}");
        }
    }

    #[test]
    fn provisioning_state_is_read_from_properties() {
        assert_eq!(
            provisioning_state(&json!({"properties": {"provisioningState": "Activating"}})),
            Some("Activating")
        );
        assert_eq!(
            provisioning_state(&json!({"provisioningState": "Succeeded"})),
            None
        );
        assert_eq!(provisioning_state(&json!({"properties": {}})), None);
    }

    #[test]
    fn async_operation_header_wins_and_location_is_kept() {
        let r = resp(
            201,
            &[
                (
                    "azure-asyncoperation",
                    "https://management.azure.com/op/1?api-version=1&asyncResponse&s=a",
                ),
                (
                    "location",
                    "https://management.azure.com/op/1?api-version=1&asyncResponse&s=b",
                ),
            ],
            Some(json!({"properties": {"provisioningState": "Activating"}})),
        );
        let op = Operation::from_response(&req(Method::PUT), &r, &base()).expect("lro");
        assert_eq!(
            op.poll,
            Poll::AsyncOperation(
                Url::parse("https://management.azure.com/op/1?api-version=1&asyncResponse&s=a")
                    .expect("u")
            )
        );
        assert!(op.location.is_some());
        assert_eq!(op.initial_status, "Activating");
        assert_eq!(op.label(), "PUT /r/x");
    }

    #[test]
    fn location_is_polled_only_on_202() {
        let r = resp(
            202,
            &[(
                "location",
                "https://management.azure.com/r/x?asyncId=1&asyncCode=201",
            )],
            None,
        );
        let op = Operation::from_response(&req(Method::PUT), &r, &base()).expect("lro");
        assert!(matches!(op.poll, Poll::Location(_)));
        assert_eq!(op.initial_status, "Accepted");
        // 201 + Location (the created resource) with a settled body is final.
        let r = resp(
            201,
            &[("location", "https://management.azure.com/r/x")],
            Some(json!({"properties": {"provisioningState": "Succeeded"}})),
        );
        assert_eq!(
            Operation::from_response(&req(Method::PUT), &r, &base()),
            None
        );
    }

    #[test]
    fn relative_poll_urls_resolve_against_the_endpoint() {
        let r = resp(
            202,
            &[(
                "location",
                "/subscriptions/s/operationresults/1?api-version=2",
            )],
            None,
        );
        let op = Operation::from_response(&req(Method::DELETE), &r, &base()).expect("lro");
        assert_eq!(
            op.poll_url().as_str(),
            "https://management.azure.com/subscriptions/s/operationresults/1?api-version=2"
        );
    }

    #[test]
    fn non_terminal_provisioning_state_polls_the_resource_for_put_only() {
        let body = Some(json!({"properties": {"provisioningState": "Creating"}}));
        let r = resp(200, &[], body.clone());
        let op = Operation::from_response(&req(Method::PUT), &r, &base()).expect("lro");
        assert_eq!(op.poll, Poll::ProvisioningState);
        assert_eq!(op.initial_status, "Creating");
        assert_eq!(
            op.poll_url().as_str(),
            "https://management.azure.com/r/x?api-version=1"
        );
        assert_eq!(
            Operation::from_response(&req(Method::POST), &r, &base()),
            None
        );
        assert_eq!(
            Operation::from_response(&req(Method::GET), &r, &base()),
            None
        );
        let done = resp(
            200,
            &[],
            Some(json!({"properties": {"provisioningState": "Succeeded"}})),
        );
        assert_eq!(
            Operation::from_response(&req(Method::PUT), &done, &base()),
            None
        );
        // A bare 202 to a PUT: poll the resource.
        let bare = resp(202, &[], None);
        assert_eq!(
            Operation::from_response(&req(Method::PUT), &bare, &base()).map(|o| o.poll),
            Some(Poll::ProvisioningState)
        );
        assert_eq!(
            Operation::from_response(&req(Method::DELETE), &bare, &base()),
            None
        );
    }

    #[test]
    fn retry_after_of_the_first_answer_is_kept() {
        let r = resp(
            202,
            &[
                ("location", "https://management.azure.com/op"),
                ("retry-after", "17"),
            ],
            None,
        );
        let op = Operation::from_response(&req(Method::POST), &r, &base()).expect("lro");
        assert_eq!(op.retry_after, Some(Duration::from_secs(17)));
    }
}
