//! Sign-in against a local HTTPS server posing as Microsoft Entra, through the one HTTP client.
mod support;

use apimfn::cloud::Cloud;
use apimfn::credentials::{SignInOptions, credential, credential_with};
use apimfn::exit::{self, UsageError};
use apimfn::settings::{AuthMode, CloudName};
use apimfn::transport::{EmulatorTarget, build_http_client};
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT_ID: &str = "11111111-2222-3333-4444-555555555555";
const SECRET: &str = "s3cret-value-from-the-environment";
const ISSUED: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOi.issued-access-token.sig";

/// One token request: the tenant in the path and the form fields.
type Call = (String, HashMap<String, String>);

#[derive(Clone, Default)]
struct Seen {
    calls: Arc<Mutex<Vec<Call>>>,
}

impl Seen {
    fn all(&self) -> Vec<Call> {
        self.calls.lock().expect("lock").clone()
    }
}

/// `POST /{tenant}/oauth2/v2.0/token`: a token for the right secret or a signed assertion; 401
/// `invalid_client` otherwise.
fn entra(seen: Seen) -> axum::Router {
    async fn token(
        State(seen): State<Seen>,
        Path(tenant): Path<String>,
        Form(form): Form<HashMap<String, String>>,
    ) -> axum::response::Response {
        seen.calls
            .lock()
            .expect("lock")
            .push((tenant, form.clone()));
        let ok = form.get("client_secret").map(String::as_str) == Some(SECRET)
            || form.contains_key("client_assertion");
        if ok {
            axum::Json(serde_json::json!({
                "token_type": "Bearer",
                "expires_in": 3599,
                "ext_expires_in": 3599,
                "access_token": ISSUED,
            }))
            .into_response()
        } else {
            (
                StatusCode::UNAUTHORIZED,
                axum::Json(serde_json::json!({
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
                    "error_codes": [7000215],
                })),
            )
                .into_response()
        }
    }
    axum::Router::new()
        .route("/{tenant}/oauth2/v2.0/token", axum::routing::post(token))
        .with_state(seen)
}

async fn client_for(server: &support::TestServer, cloud: CloudName) -> reqwest::Client {
    let target =
        EmulatorTarget::with_ca_pem(&server.url(), server.ca_pem.as_bytes()).expect("target");
    build_http_client(&Cloud::new(cloud), Some(&target)).expect("client")
}

fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k: &str| map.get(k).cloned()
}

fn sp_env(secret: &str) -> impl Fn(&str) -> Option<String> + use<> {
    env_of(&[
        ("AZURE_TENANT_ID", TENANT),
        ("AZURE_CLIENT_ID", CLIENT_ID),
        ("AZURE_CLIENT_SECRET", secret),
    ])
}

/// Nothing but the Entra stand-in is reachable: IMDS is a closed local port, `az` is not on PATH.
fn isolated(dir: &std::path::Path) -> SignInOptions {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port");
    SignInOptions {
        imds_addr: closed,
        cli_path: Some(dir.as_os_str().to_owned()),
        ..SignInOptions::default()
    }
}

#[tokio::test]
async fn client_secret_posts_the_form_and_returns_the_token() {
    let seen = Seen::default();
    let server = support::start_https(entra(seen.clone()), &["login.microsoftonline.com"]).await;
    let http = client_for(&server, CloudName::AzureCloud).await;
    let cloud = Cloud::new(CloudName::AzureCloud);
    let env = sp_env(SECRET);
    let cred = credential(AuthMode::ClientSecret, &cloud, &http, &env)
        .await
        .expect("credential");
    let token = cred
        .get_token(&[cloud.arm_scope], None)
        .await
        .expect("token");
    assert_eq!(token.token.secret(), ISSUED);
    let calls = seen.all();
    assert_eq!(calls.len(), 1);
    let (tenant, form) = &calls[0];
    assert_eq!(tenant, TENANT);
    assert_eq!(form["client_id"], CLIENT_ID);
    assert_eq!(form["client_secret"], SECRET);
    assert_eq!(form["grant_type"], "client_credentials");
    assert_eq!(form["scope"], "https://management.azure.com/.default");
    // The token and the secret are registered, so the printer masks them.
    assert_eq!(apimfn::output::redact(ISSUED), "***");
    assert_eq!(apimfn::output::redact(SECRET), "***");
}

#[tokio::test]
async fn a_wrong_secret_gives_a_clear_error_without_the_secret() {
    let seen = Seen::default();
    let server = support::start_https(entra(seen.clone()), &["login.microsoftonline.com"]).await;
    let http = client_for(&server, CloudName::AzureCloud).await;
    let cloud = Cloud::new(CloudName::AzureCloud);
    let wrong = "wrong-secret-0123456789";
    let env = sp_env(wrong);
    let cred = credential(AuthMode::ClientSecret, &cloud, &http, &env)
        .await
        .expect("credential");
    let err = cred
        .get_token(&[cloud.arm_scope], None)
        .await
        .expect_err("401");
    let text = format!("{err} {err:?}");
    assert!(
        err.to_string()
            .starts_with("could not sign in (client-secret): AADSTS7000215: Invalid client secret"),
        "{err}"
    );
    assert!(!text.contains(wrong), "secret leaked: {text}");
    assert_eq!(seen.all()[0].1["client_secret"], wrong);
}

#[tokio::test]
async fn workload_identity_sends_the_token_file_as_the_assertion() {
    let seen = Seen::default();
    let server = support::start_https(entra(seen.clone()), &["login.microsoftonline.com"]).await;
    let http = client_for(&server, CloudName::AzureCloud).await;
    let cloud = Cloud::new(CloudName::AzureCloud);
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("token");
    let assertion = "eyJhbGciOiJSUzI1NiJ9.federated-subject.signature";
    std::fs::write(&file, assertion).expect("write");
    let file = file.to_string_lossy().to_string();
    let env = env_of(&[
        ("AZURE_TENANT_ID", TENANT),
        ("AZURE_CLIENT_ID", CLIENT_ID),
        ("AZURE_FEDERATED_TOKEN_FILE", &file),
    ]);
    let cred = credential(AuthMode::WorkloadIdentity, &cloud, &http, &env)
        .await
        .expect("credential");
    let token = cred
        .get_token(&[cloud.graph_scope], None)
        .await
        .expect("token");
    assert_eq!(token.token.secret(), ISSUED);
    let (tenant, form) = &seen.all()[0];
    assert_eq!(tenant, TENANT);
    assert_eq!(form["client_id"], CLIENT_ID);
    assert_eq!(form["client_assertion"], assertion);
    assert_eq!(
        form["client_assertion_type"],
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    );
    assert_eq!(form["grant_type"], "client_credentials");
    assert_eq!(form["scope"], "https://graph.microsoft.com/.default");

    // A CI job refreshes a short-lived OIDC token into the file: the next token request (another
    // scope, so not served from the cache) sends the new one, not a copy read minutes ago.
    let refreshed = "eyJhbGciOiJSUzI1NiJ9.refreshed-subject.signature";
    std::fs::write(&file, format!("{refreshed}\n")).expect("rewrite");
    cred.get_token(&[cloud.arm_scope], None)
        .await
        .expect("second token");
    let all = seen.all();
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(all[1].1["client_assertion"], refreshed);
}

#[tokio::test]
async fn auto_with_nothing_available_lists_every_mode_and_why() {
    let server = support::start_https(entra(Seen::default()), &["login.microsoftonline.com"]).await;
    let http = client_for(&server, CloudName::AzureCloud).await;
    let cloud = Cloud::new(CloudName::AzureCloud);
    let empty_path = tempfile::tempdir().expect("tmp");
    let opts = isolated(empty_path.path());
    let env = env_of(&[]);
    let cred = credential_with(AuthMode::Auto, &cloud, &http, &env, &opts)
        .await
        .expect("auto always constructs");
    let started = std::time::Instant::now();
    let err = cred
        .get_token(&[cloud.arm_scope], None)
        .await
        .expect_err("nothing to sign in with")
        .to_string();
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    let prefix = "could not sign in (auto): \
                  client-secret: AZURE_CLIENT_SECRET not set; \
                  workload-identity: AZURE_FEDERATED_TOKEN_FILE not set; \
                  managed-identity: no managed identity endpoint responded (IMDS 127.0.0.1:";
    assert!(err.starts_with(prefix), "{err}");
    let cli = err
        .split("; cli: ")
        .nth(1)
        .unwrap_or_else(|| panic!("{err}"));
    assert!(cli.contains("az") && cli.contains("not found"), "{err}");
    // Modes appear once each, in order.
    let order: Vec<usize> = [
        "client-secret:",
        "workload-identity:",
        "managed-identity:",
        "cli:",
    ]
    .iter()
    .map(|m| err.find(m).unwrap_or_else(|| panic!("{m} missing: {err}")))
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{err}");
}

#[tokio::test]
async fn auto_uses_the_client_secret_when_set_and_sticks_with_it() {
    let seen = Seen::default();
    let server = support::start_https(entra(seen.clone()), &["login.microsoftonline.com"]).await;
    let http = client_for(&server, CloudName::AzureCloud).await;
    let cloud = Cloud::new(CloudName::AzureCloud);
    let empty_path = tempfile::tempdir().expect("tmp");
    let env = sp_env(SECRET);
    let cred = credential_with(
        AuthMode::Auto,
        &cloud,
        &http,
        &env,
        &isolated(empty_path.path()),
    )
    .await
    .expect("credential");
    cred.get_token(&[cloud.arm_scope], None).await.expect("arm");
    cred.get_token(&[cloud.graph_scope], None)
        .await
        .expect("graph");
    let scopes: Vec<String> = seen.all().iter().map(|(_, f)| f["scope"].clone()).collect();
    assert_eq!(
        scopes,
        vec![cloud.arm_scope.to_string(), cloud.graph_scope.to_string()]
    );
}

#[tokio::test]
async fn the_authority_follows_the_cloud() {
    let seen = Seen::default();
    let server = support::start_https(entra(seen.clone()), &["login.chinacloudapi.cn"]).await;
    let http = client_for(&server, CloudName::AzureChinaCloud).await;
    let cloud = Cloud::new(CloudName::AzureChinaCloud);
    let env = sp_env(SECRET);
    let cred = credential(AuthMode::ClientSecret, &cloud, &http, &env)
        .await
        .expect("credential");
    cred.get_token(&[cloud.arm_scope], None)
        .await
        .expect("token");
    assert_eq!(
        seen.all()[0].1["scope"],
        "https://management.chinacloudapi.cn/.default"
    );
}

fn usage(err: anyhow::Error) -> String {
    assert_eq!(exit::code_for(&err), exit::USAGE, "{err:#}");
    err.downcast_ref::<UsageError>()
        .map(|u| u.message.clone())
        .unwrap_or_else(|| panic!("{err:#}"))
}

#[tokio::test]
async fn an_explicit_mode_with_a_missing_variable_is_a_usage_error_naming_it() {
    let http = build_http_client(&Cloud::new(CloudName::AzureCloud), None).expect("client");
    let cloud = Cloud::new(CloudName::AzureCloud);

    let env = env_of(&[("AZURE_TENANT_ID", TENANT)]);
    let msg = usage(
        credential(AuthMode::ClientSecret, &cloud, &http, &env)
            .await
            .expect_err("missing"),
    );
    assert!(msg.contains("--auth client-secret"), "{msg}");
    assert!(
        msg.contains("AZURE_CLIENT_SECRET") && msg.contains("AZURE_CLIENT_ID"),
        "{msg}"
    );
    assert!(!msg.contains("AZURE_TENANT_ID"), "{msg}");

    let env = env_of(&[("AZURE_TENANT_ID", TENANT), ("AZURE_CLIENT_ID", CLIENT_ID)]);
    let msg = usage(
        credential(AuthMode::WorkloadIdentity, &cloud, &http, &env)
            .await
            .expect_err("missing"),
    );
    assert!(msg.contains("AZURE_FEDERATED_TOKEN_FILE"), "{msg}");

    let env = env_of(&[
        ("AZURE_TENANT_ID", TENANT),
        ("AZURE_CLIENT_ID", CLIENT_ID),
        ("AZURE_FEDERATED_TOKEN_FILE", "/nonexistent/token"),
    ]);
    let msg = usage(
        credential(AuthMode::WorkloadIdentity, &cloud, &http, &env)
            .await
            .expect_err("unreadable"),
    );
    assert!(msg.contains("/nonexistent/token"), "{msg}");

    let env = env_of(&[("AZURE_CLIENT_ID", CLIENT_ID), ("AZURE_TENANT_ID", TENANT)]);
    let msg = usage(
        credential(AuthMode::AzurePipelines, &cloud, &http, &env)
            .await
            .expect_err("missing"),
    );
    assert!(
        msg.contains("AZURESUBSCRIPTION_SERVICE_CONNECTION_ID")
            && msg.contains("SYSTEM_ACCESSTOKEN"),
        "{msg}"
    );
}

#[tokio::test]
async fn explicit_managed_identity_and_cli_need_no_variables() {
    let http = build_http_client(&Cloud::new(CloudName::AzureCloud), None).expect("client");
    let cloud = Cloud::new(CloudName::AzureCloud);
    let env = env_of(&[]);
    credential(AuthMode::ManagedIdentity, &cloud, &http, &env)
        .await
        .expect("managed identity constructs");
    credential(AuthMode::Cli, &cloud, &http, &env)
        .await
        .expect("cli constructs");
}

#[tokio::test]
async fn explicit_cli_without_az_says_so() {
    let http = build_http_client(&Cloud::new(CloudName::AzureCloud), None).expect("client");
    let cloud = Cloud::new(CloudName::AzureCloud);
    let empty_path = tempfile::tempdir().expect("tmp");
    let env = env_of(&[]);
    let cred = credential_with(
        AuthMode::Cli,
        &cloud,
        &http,
        &env,
        &isolated(empty_path.path()),
    )
    .await
    .expect("constructs");
    let err = cred
        .get_token(&[cloud.arm_scope], None)
        .await
        .expect_err("no az")
        .to_string();
    assert!(err.starts_with("could not sign in (cli): "), "{err}");
    assert!(err.contains("az") && err.contains("not found"), "{err}");
}
