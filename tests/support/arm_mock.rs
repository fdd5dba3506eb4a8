//! A scripted ARM for client tests: an HTTPS server for `management.azure.com` that records every
//! request it receives and answers from a script (or a closure), plus fake credentials and a
//! sleeper that records the delays the client chose instead of spending them.
#![allow(dead_code)]

use apimfn::arm::{ArmClient, RetryPolicy, Sleeper};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::{TestServer, start_https};

pub const HOST: &str = "management.azure.com";
pub const ARM: &str = "https://management.azure.com";

/// One scripted answer.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Close the connection without answering (a transport failure mid-request).
    pub drop_connection: bool,
}

impl Reply {
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![(
                "content-type".into(),
                "application/json; charset=utf-8".into(),
            )],
            body: body.to_string(),
            drop_connection: false,
        }
    }

    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: String::new(),
            drop_connection: false,
        }
    }

    pub fn text(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "text/html".into())],
            body: body.to_string(),
            drop_connection: false,
        }
    }

    /// `{"error":{"code","message"}}`
    pub fn error(status: u16, code: &str, message: &str) -> Self {
        Self::json(
            status,
            serde_json::json!({"error": {"code": code, "message": message, "details": null}}),
        )
    }

    pub fn drop_connection() -> Self {
        Self {
            drop_connection: true,
            ..Self::empty(500)
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

/// One request the server received.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    /// Path and query exactly as sent.
    pub uri: String,
    pub headers: HeaderMap,
    pub body: String,
    /// `apimfn::inflight::snapshot()` at the time the server saw the request.
    pub in_flight: Vec<String>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `GET /path?query`
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.uri)
    }
}

type Handler = Arc<dyn Fn(&Seen, usize) -> Reply + Send + Sync>;

#[derive(Clone)]
struct AppState {
    seen: Arc<Mutex<Vec<Seen>>>,
    handler: Handler,
}

async fn handle(
    State(st): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let seen = Seen {
        method: method.to_string(),
        uri: uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        in_flight: apimfn::inflight::snapshot(),
    };
    let index = {
        let mut list = st.seen.lock().expect("lock");
        list.push(seen.clone());
        list.len() - 1
    };
    let reply = (st.handler)(&seen, index);
    if reply.drop_connection {
        // Unwinds the connection task: the client sees the connection close with no answer.
        // `resume_unwind` skips the panic hook, so nothing is printed.
        std::panic::resume_unwind(Box::new("drop connection"));
    }
    let mut builder = axum::http::Response::builder().status(reply.status);
    for (k, v) in &reply.headers {
        builder = builder.header(k, v);
    }
    builder
        .body(axum::body::Body::from(reply.body))
        .map(IntoResponse::into_response)
        .unwrap_or_else(|_| axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// The scripted ARM server.
pub struct MockArm {
    pub server: TestServer,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl MockArm {
    /// Answer the n-th request with `replies[n]`; any request beyond the script gets a 418 with
    /// code `UnexpectedRequest` (not retried), so extra requests fail the test visibly.
    pub async fn script(replies: Vec<Reply>) -> Self {
        Self::with(move |_, i| {
            replies.get(i).cloned().unwrap_or_else(|| {
                Reply::error(
                    418,
                    "UnexpectedRequest",
                    "the script has no answer for this request",
                )
            })
        })
        .await
    }

    /// Answer with a closure of the request and its index.
    pub async fn with(handler: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static) -> Self {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let state = AppState {
            seen: seen.clone(),
            handler: Arc::new(handler),
        };
        let router = axum::Router::new().fallback(handle).with_state(state);
        let server = start_https(router, &[HOST]).await;
        Self { server, seen }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }

    /// Every request as `METHOD /path?query`.
    pub fn lines(&self) -> Vec<String> {
        self.seen().iter().map(Seen::line).collect()
    }

    /// A client for this server with `credential`, the [`fast`] policy and a recording sleeper.
    pub fn client_with(&self, credential: Arc<dyn TokenCredential>) -> (ArmClient, Sleeps) {
        let sleeps = Sleeps::default();
        let client = ArmClient::new(
            self.server.client_for(&[HOST]),
            credential,
            url::Url::parse(&format!("{ARM}/")).expect("base"),
            "https://management.azure.com/.default".into(),
        )
        .with_policy(fast())
        .with_sleeper(sleeps.sleeper());
        (client, sleeps)
    }

    /// A client with a credential that always hands out `test-token-0123456789`.
    pub fn client(&self) -> (ArmClient, Sleeps) {
        self.client_with(Arc::new(FakeCredential::new(&[TOKEN])))
    }
}

pub const TOKEN: &str = "test-token-0123456789";

/// Millisecond backoff and polling so that tests that do sleep for real stay fast.
pub fn fast() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        backoff_base: Duration::from_millis(1),
        backoff_max: Duration::from_millis(8),
        poll_initial: Duration::from_millis(1),
        poll_max: Duration::from_millis(4),
        retry_after_max: Duration::from_secs(600),
        throttle_budget: Duration::from_millis(200),
    }
}

/// The delays the client asked for, in order; none is actually spent.
#[derive(Clone, Default)]
pub struct Sleeps(Arc<Mutex<Vec<Duration>>>);

impl Sleeps {
    pub fn sleeper(&self) -> Sleeper {
        let list = self.0.clone();
        Arc::new(move |d| {
            list.lock().expect("lock").push(d);
            Box::pin(async {})
        })
    }

    pub fn all(&self) -> Vec<Duration> {
        self.0.lock().expect("lock").clone()
    }
}

/// Hands out `tokens` in order, repeating the last one, as azure_identity's cache would when it
/// refreshes a token.
#[derive(Debug)]
pub struct FakeCredential {
    tokens: Vec<String>,
    calls: AtomicUsize,
    pub scopes: Mutex<Vec<String>>,
}

impl FakeCredential {
    pub fn new(tokens: &[&str]) -> Self {
        Self {
            tokens: tokens.iter().map(|t| t.to_string()).collect(),
            calls: AtomicUsize::new(0),
            scopes: Mutex::new(Vec::new()),
        }
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl TokenCredential for FakeCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        self.scopes
            .lock()
            .expect("lock")
            .extend(scopes.iter().map(|s| s.to_string()));
        let token = self
            .tokens
            .get(n)
            .or(self.tokens.last())
            .cloned()
            .unwrap_or_default();
        Ok(AccessToken::new(
            token,
            time::OffsetDateTime::now_utc() + time::Duration::hours(1),
        ))
    }
}

/// A credential that cannot sign in.
#[derive(Debug)]
pub struct FailingCredential;

#[async_trait::async_trait]
impl TokenCredential for FailingCredential {
    async fn get_token(
        &self,
        _scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        Err(azure_core::Error::with_message(
            azure_core::error::ErrorKind::Credential,
            "AzureCliCredential: please run 'az login'",
        ))
    }
}
