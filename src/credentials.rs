//! Sign-in through azure_identity: one explicit mode (`--auth MODE`) or `auto`.
//!
//! `auto` tries, in order: a client secret from the environment (only if its variables are set),
//! workload identity (only if `AZURE_FEDERATED_TOKEN_FILE` is set), managed identity, and the
//! Azure CLI; the first that yields a token is remembered and used from then on. Every credential
//! runs over the one HTTP client (so the emulator redirection applies) and the chosen cloud's
//! authority. Every token obtained, and every secret read, is registered with
//! [`output::register_secret`] so it can never be printed; failure messages are redacted too.

use crate::cloud::Cloud;
use crate::exit::UsageError;
use crate::output;
use crate::settings::AuthMode;
use crate::transport::azure_core_client_options;
use azure_core::credentials::{AccessToken, Secret, TokenCredential, TokenRequestOptions};
use azure_core::error::ErrorKind;
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, AzurePipelinesCredential,
    AzurePipelinesCredentialOptions, ClientAssertion, ClientAssertionCredential,
    ClientAssertionCredentialOptions, ClientSecretCredential, ClientSecretCredentialOptions,
    Executor, ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId,
};
use std::ffi::{OsStr, OsString};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const AZURE_TENANT_ID: &str = "AZURE_TENANT_ID";
pub const AZURE_CLIENT_ID: &str = "AZURE_CLIENT_ID";
pub const AZURE_CLIENT_SECRET: &str = "AZURE_CLIENT_SECRET";
pub const AZURE_FEDERATED_TOKEN_FILE: &str = "AZURE_FEDERATED_TOKEN_FILE";
/// Set by the AzureCLI@2 / AzurePowerShell@5 tasks for a workload-identity service connection.
pub const AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: &str = "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID";
pub const AZURESUBSCRIPTION_CLIENT_ID: &str = "AZURESUBSCRIPTION_CLIENT_ID";
pub const AZURESUBSCRIPTION_TENANT_ID: &str = "AZURESUBSCRIPTION_TENANT_ID";
/// The pipeline's `System.AccessToken`, mapped into the environment by the pipeline author.
pub const SYSTEM_ACCESSTOKEN: &str = "SYSTEM_ACCESSTOKEN";
/// Set by Azure Pipelines; azure_identity reads it from the process environment.
pub const SYSTEM_OIDCREQUESTURI: &str = "SYSTEM_OIDCREQUESTURI";

/// The IMDS endpoint managed identity uses on VMs and most Azure compute.
pub const IMDS_ADDR: &str = "169.254.169.254:80";

/// Knobs that tests (and only tests, usually) change.
#[derive(Clone)]
pub struct SignInOptions {
    /// Where the managed-identity probe connects (IMDS).
    pub imds_addr: SocketAddr,
    /// How long the probe may take. On Azure, IMDS accepts a connection in well under a
    /// millisecond; off Azure the SYN often goes unanswered, and without a bound `auto` would hang
    /// for the connect timeout plus azure_identity's retries (up to 72 s) on every laptop run.
    pub imds_probe_timeout: Duration,
    /// Bound on a whole managed-identity token request in `auto` (after a successful probe), so
    /// that something else answering on 169.254.169.254 cannot stall the chain.
    pub managed_identity_timeout_auto: Duration,
    /// Bound on a managed-identity token request when it was chosen explicitly.
    pub managed_identity_timeout: Duration,
    /// Bound on one `az account get-access-token` run.
    pub cli_timeout: Duration,
    /// `PATH` for the Azure CLI; `None` keeps the process's own.
    pub cli_path: Option<OsString>,
}

impl Default for SignInOptions {
    fn default() -> Self {
        Self {
            imds_addr: IMDS_ADDR
                .parse()
                .unwrap_or_else(|_| SocketAddr::from(([169, 254, 169, 254], 80))),
            imds_probe_timeout: Duration::from_secs(2),
            managed_identity_timeout_auto: Duration::from_secs(15),
            managed_identity_timeout: Duration::from_secs(90),
            cli_timeout: Duration::from_secs(60),
            cli_path: None,
        }
    }
}

/// The credential for `mode`, over `http` and `cloud`'s authority. `env` reads environment
/// variables (`|k| std::env::var(k).ok()` in production). Explicit modes check their variables
/// here and fail with a [`UsageError`] naming what is missing; nothing touches the network until
/// the first `get_token`.
pub async fn credential(
    mode: AuthMode,
    cloud: &Cloud,
    http: &reqwest::Client,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<Arc<dyn TokenCredential>> {
    credential_with(mode, cloud, http, env, &SignInOptions::default()).await
}

/// [`credential`] with explicit [`SignInOptions`].
pub async fn credential_with(
    mode: AuthMode,
    cloud: &Cloud,
    http: &reqwest::Client,
    env: &dyn Fn(&str) -> Option<String>,
    opts: &SignInOptions,
) -> anyhow::Result<Arc<dyn TokenCredential>> {
    let env = Env(env);
    let ctx = Ctx {
        cloud,
        http,
        env: &env,
        opts,
    };
    let sources = match mode {
        AuthMode::Auto => [
            AuthMode::ClientSecret,
            AuthMode::WorkloadIdentity,
            AuthMode::ManagedIdentity,
            AuthMode::Cli,
        ]
        .into_iter()
        .map(|m| {
            let built = ctx.build(m, true).map_err(|e| e.reason());
            (m, built)
        })
        .collect(),
        explicit => match ctx.build(explicit, false) {
            Ok(c) => vec![(explicit, Ok(c))],
            Err(e) => return Err(e.into_usage(explicit).into()),
        },
    };
    Ok(Arc::new(SignIn {
        label: mode,
        sources,
        chosen: Mutex::new(None),
    }))
}

/// Environment lookup where an empty value counts as unset (CI systems often export `VAR=`).
struct Env<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Env<'_> {
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name).filter(|v| !v.trim().is_empty())
    }

    /// The first of `names` that is set.
    fn first(&self, names: &[&str]) -> Option<String> {
        names.iter().find_map(|n| self.get(n))
    }
}

/// Why a source could not even be constructed.
enum BuildError {
    /// These variables are not set (alternatives joined with " or "); `key` when the first,
    /// defining one is among them (then `auto` just says that one is not set).
    Missing { vars: Vec<String>, key: bool },
    /// A set variable points at something unusable (unreadable token file, invalid id).
    Invalid(String),
}

impl BuildError {
    fn reason(self) -> String {
        match self {
            BuildError::Missing { vars, key: true } => {
                format!(
                    "{} not set",
                    vars.first().map(String::as_str).unwrap_or("a variable")
                )
            }
            BuildError::Missing { vars, key: false } => format!("{} not set", vars.join(", ")),
            BuildError::Invalid(msg) => msg,
        }
    }

    fn into_usage(self, mode: AuthMode) -> UsageError {
        match self {
            BuildError::Missing { vars, .. } => UsageError::new(format!(
                "--auth {mode} needs {} in the environment; not set: {}",
                if vars.len() == 1 {
                    "this variable"
                } else {
                    "these variables"
                },
                vars.join(", ")
            )),
            BuildError::Invalid(msg) => UsageError::new(format!("--auth {mode}: {msg}")),
        }
    }
}

struct Ctx<'a> {
    cloud: &'a Cloud,
    http: &'a reqwest::Client,
    env: &'a Env<'a>,
    opts: &'a SignInOptions,
}

impl Ctx<'_> {
    fn require(&self, names: &[&[&str]]) -> Result<Vec<String>, BuildError> {
        let mut values = Vec::new();
        let mut missing = Vec::new();
        let key = names.first().is_some_and(|n| self.env.first(n).is_none());
        for alternatives in names {
            match self.env.first(alternatives) {
                Some(v) => values.push(v),
                None => missing.push(alternatives.join(" or ")),
            }
        }
        if missing.is_empty() {
            Ok(values)
        } else {
            Err(BuildError::Missing { vars: missing, key })
        }
    }

    fn client_options(&self) -> azure_core::http::ClientOptions {
        azure_core_client_options(self.cloud, self.http)
    }

    fn build(&self, mode: AuthMode, auto: bool) -> Result<Arc<dyn TokenCredential>, BuildError> {
        let invalid = |e: azure_core::Error| BuildError::Invalid(clean_reason(&e));
        let inner: Arc<dyn TokenCredential> = match mode {
            AuthMode::ClientSecret => {
                // The secret first: in `auto`, "AZURE_CLIENT_SECRET not set" is the usual story.
                let v = self.require(&[
                    &[AZURE_CLIENT_SECRET],
                    &[AZURE_TENANT_ID],
                    &[AZURE_CLIENT_ID],
                ])?;
                let [secret, tenant, client_id] = take3(v);
                output::register_secret(&secret);
                ClientSecretCredential::new(
                    &tenant,
                    client_id,
                    Secret::new(secret),
                    Some(ClientSecretCredentialOptions {
                        client_options: self.client_options(),
                    }),
                )
                .map_err(invalid)?
            }
            AuthMode::WorkloadIdentity => {
                let v = self.require(&[
                    &[AZURE_FEDERATED_TOKEN_FILE],
                    &[AZURE_TENANT_ID],
                    &[AZURE_CLIENT_ID],
                ])?;
                let [file, tenant, client_id] = take3(v);
                let path = PathBuf::from(&file);
                match std::fs::read_to_string(&path) {
                    Ok(assertion) => output::register_secret(assertion.trim()),
                    Err(e) => {
                        return Err(BuildError::Invalid(format!(
                            "{AZURE_FEDERATED_TOKEN_FILE} '{file}' cannot be read ({e})"
                        )));
                    }
                }
                // The SDK's WorkloadIdentityCredential re-reads the file at most every 10
                // minutes; a CI job that refreshes a short-lived OIDC token into the file (GitHub's
                // last minutes) needs it read each time a new access token is asked for.
                ClientAssertionCredential::new(
                    tenant,
                    client_id,
                    FederatedTokenFile { path },
                    Some(ClientAssertionCredentialOptions {
                        client_options: self.client_options(),
                    }),
                )
                .map_err(invalid)?
            }
            AuthMode::ManagedIdentity => {
                // As DefaultAzureCredential does elsewhere: AZURE_CLIENT_ID selects a
                // user-assigned identity; otherwise the system-assigned one.
                let user_assigned_id = self.env.get(AZURE_CLIENT_ID).map(UserAssignedId::ClientId);
                let inner =
                    ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
                        user_assigned_id,
                        client_options: self.client_options(),
                    }))
                    .map_err(invalid)?;
                // App Service / Functions / Cloud Shell / Arc announce their endpoint in the
                // environment; only plain IMDS needs probing.
                let probe = ["IDENTITY_ENDPOINT", "MSI_ENDPOINT"]
                    .iter()
                    .all(|v| self.env.get(v).is_none())
                    .then_some(ImdsProbe {
                        addr: self.opts.imds_addr,
                        timeout: self.opts.imds_probe_timeout,
                        ok: AtomicBool::new(false),
                    });
                let timeout = if auto {
                    self.opts.managed_identity_timeout_auto
                } else {
                    self.opts.managed_identity_timeout
                };
                return Ok(Arc::new(Guarded {
                    inner,
                    timeout: Some(timeout),
                    probe: if auto { probe } else { None },
                }));
            }
            AuthMode::Cli => {
                let executor: Option<Arc<dyn Executor>> = self
                    .opts
                    .cli_path
                    .clone()
                    .map(|path| Arc::new(PathExecutor { path }) as Arc<dyn Executor>);
                let inner = AzureCliCredential::new(Some(AzureCliCredentialOptions {
                    executor,
                    ..Default::default()
                }))
                .map_err(invalid)?;
                return Ok(Arc::new(Guarded {
                    inner,
                    timeout: Some(self.opts.cli_timeout),
                    probe: None,
                }));
            }
            AuthMode::AzurePipelines => {
                let v = self.require(&[
                    &[AZURE_CLIENT_ID, AZURESUBSCRIPTION_CLIENT_ID],
                    &[AZURE_TENANT_ID, AZURESUBSCRIPTION_TENANT_ID],
                    &[AZURESUBSCRIPTION_SERVICE_CONNECTION_ID],
                    &[SYSTEM_ACCESSTOKEN],
                    &[SYSTEM_OIDCREQUESTURI],
                ])?;
                let mut v = v.into_iter();
                let (client_id, tenant, connection, token) = (
                    v.next().unwrap_or_default(),
                    v.next().unwrap_or_default(),
                    v.next().unwrap_or_default(),
                    v.next().unwrap_or_default(),
                );
                output::register_secret(&token);
                AzurePipelinesCredential::new(
                    tenant,
                    client_id,
                    &connection,
                    Secret::new(token),
                    Some(AzurePipelinesCredentialOptions {
                        credential_options: ClientAssertionCredentialOptions {
                            client_options: self.client_options(),
                        },
                    }),
                )
                .map_err(invalid)?
            }
            AuthMode::Auto => {
                return Err(BuildError::Invalid("auto is not a single mode".into()));
            }
        };
        Ok(Arc::new(Guarded {
            inner,
            timeout: None,
            probe: None,
        }))
    }
}

fn take3(v: Vec<String>) -> [String; 3] {
    let mut it = v.into_iter();
    [
        it.next().unwrap_or_default(),
        it.next().unwrap_or_default(),
        it.next().unwrap_or_default(),
    ]
}

/// A quick TCP connect to IMDS before asking it for a token.
struct ImdsProbe {
    addr: SocketAddr,
    timeout: Duration,
    /// Once IMDS answered, it is not probed again.
    ok: AtomicBool,
}

impl ImdsProbe {
    async fn check(&self) -> Result<(), String> {
        if self.ok.load(Ordering::Relaxed) {
            return Ok(());
        }
        let what = format!("no managed identity endpoint responded (IMDS {}", self.addr);
        match tokio::time::timeout(self.timeout, tokio::net::TcpStream::connect(self.addr)).await {
            Ok(Ok(_)) => {
                self.ok.store(true, Ordering::Relaxed);
                Ok(())
            }
            Ok(Err(e)) => Err(format!("{what}: {e})")),
            Err(_) => Err(format!(
                "{what}: no answer within {}s)",
                self.timeout.as_secs_f32()
            )),
        }
    }
}

/// One azure_identity credential with an optional probe and time bound.
struct Guarded {
    inner: Arc<dyn TokenCredential>,
    timeout: Option<Duration>,
    probe: Option<ImdsProbe>,
}

impl std::fmt::Debug for Guarded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guarded").finish_non_exhaustive()
    }
}

fn credential_error(message: String) -> azure_core::Error {
    azure_core::Error::with_message(ErrorKind::Credential, output::redact(&message))
}

#[async_trait::async_trait]
impl TokenCredential for Guarded {
    async fn get_token(
        &self,
        scopes: &[&str],
        options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        if let Some(probe) = &self.probe {
            probe.check().await.map_err(credential_error)?;
        }
        let fut = self.inner.get_token(scopes, options);
        let token = match self.timeout {
            None => fut.await,
            Some(limit) => match tokio::time::timeout(limit, fut).await {
                Ok(r) => r,
                Err(_) => Err(credential_error(format!(
                    "no token within {}s",
                    limit.as_secs()
                ))),
            },
        }
        .map_err(|e| credential_error(clean_reason(&e)))?;
        output::register_secret(token.token.secret());
        Ok(token)
    }
}

/// One mode's credential, or why it could not be built (`auto` reports that and moves on).
type Source = (AuthMode, Result<Arc<dyn TokenCredential>, String>);

/// The credential handed out: one source (explicit mode) or the `auto` chain.
struct SignIn {
    label: AuthMode,
    sources: Vec<Source>,
    /// Index of the source that worked first; used alone from then on.
    chosen: Mutex<Option<usize>>,
}

impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignIn")
            .field("mode", &self.label.as_str())
            .finish_non_exhaustive()
    }
}

impl SignIn {
    fn failed(&self, reasons: &[(AuthMode, String)]) -> azure_core::Error {
        let detail = if self.label == AuthMode::Auto {
            reasons
                .iter()
                .map(|(m, r)| format!("{m}: {r}"))
                .collect::<Vec<_>>()
                .join("; ")
        } else {
            reasons
                .iter()
                .map(|(_, r)| r.clone())
                .collect::<Vec<_>>()
                .join("; ")
        };
        credential_error(format!("could not sign in ({}): {detail}", self.label))
    }
}

#[async_trait::async_trait]
impl TokenCredential for SignIn {
    async fn get_token(
        &self,
        scopes: &[&str],
        options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let chosen = self.chosen.lock().ok().and_then(|c| *c);
        if let Some(i) = chosen
            && let Some((mode, Ok(cred))) = self.sources.get(i)
        {
            return cred
                .get_token(scopes, options)
                .await
                .map_err(|e| self.failed(&[(*mode, e.to_string())]));
        }
        let mut reasons = Vec::new();
        for (i, (mode, cred)) in self.sources.iter().enumerate() {
            match cred {
                Err(reason) => reasons.push((*mode, reason.clone())),
                Ok(cred) => match cred.get_token(scopes, options.clone()).await {
                    Ok(token) => {
                        if let Ok(mut c) = self.chosen.lock() {
                            *c = Some(i);
                        }
                        tracing::debug!("signed in with {mode}");
                        return Ok(token);
                    }
                    Err(e) => reasons.push((*mode, e.to_string())),
                },
            }
        }
        Err(self.failed(&reasons))
    }
}

/// azure_identity's message, made one line: without the "XCredential authentication failed."
/// prefix and the troubleshooting link, with the causes that the message does not already say.
fn clean_reason(err: &azure_core::Error) -> String {
    let mut text = err.to_string();
    if let Some(i) = text.find("authentication failed.") {
        text = text[i + "authentication failed.".len()..].to_string();
    }
    if let Some(i) = text.find("To troubleshoot, visit") {
        text.truncate(i);
    }
    let mut out = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let c = cause.to_string();
        let c = c.split_whitespace().collect::<Vec<_>>().join(" ");
        if !c.is_empty() && !out.contains(&c) && !c.contains("authentication failed.") {
            if out.is_empty() {
                out = c;
            } else {
                out = format!("{out}: {c}");
            }
        }
        source = cause.source();
    }
    if out.is_empty() {
        out = "failed without a message".into();
    }
    output::redact(&out)
}

/// Runs the Azure CLI with a given `PATH` (tests use an empty one; a packaged setup could point
/// at a bundled `az`).
#[derive(Debug)]
struct PathExecutor {
    path: OsString,
}

#[async_trait::async_trait]
impl Executor for PathExecutor {
    async fn run(&self, program: &OsStr, args: &[&OsStr]) -> std::io::Result<std::process::Output> {
        tokio::process::Command::new(program)
            .args(args)
            .env("PATH", &self.path)
            .kill_on_drop(true)
            .output()
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_errors_read_well() {
        let missing = |key| BuildError::Missing {
            vars: vec!["A".into(), "B or C".into()],
            key,
        };
        assert_eq!(missing(false).reason(), "A, B or C not set");
        assert_eq!(missing(true).reason(), "A not set");
        let u = BuildError::Missing {
            vars: vec![AZURE_CLIENT_SECRET.into()],
            key: true,
        }
        .into_usage(AuthMode::ClientSecret);
        assert_eq!(
            u.message,
            "--auth client-secret needs this variable in the environment; not set: AZURE_CLIENT_SECRET"
        );
    }

    #[test]
    fn empty_values_count_as_unset() {
        let f = |k: &str| match k {
            "EMPTY" => Some("  ".to_string()),
            "SET" => Some("x".to_string()),
            _ => None,
        };
        let env = Env(&f);
        assert_eq!(env.get("EMPTY"), None);
        assert_eq!(env.first(&["EMPTY", "SET"]), Some("x".into()));
    }

    #[test]
    fn reasons_drop_the_sdk_boilerplate() {
        let e = azure_core::Error::with_message(
            ErrorKind::Credential,
            "ClientSecretCredential authentication failed. AADSTS7000215: Invalid client secret provided.\nTo troubleshoot, visit https://aka.ms/x",
        );
        assert_eq!(
            clean_reason(&e),
            "AADSTS7000215: Invalid client secret provided."
        );
    }
}

/// The federated token (`AZURE_FEDERATED_TOKEN_FILE`), read afresh for every access-token request
/// (the credential caches access tokens, so that is once an hour, or when one expires).
#[derive(Debug)]
struct FederatedTokenFile {
    path: PathBuf,
}

#[async_trait::async_trait]
impl ClientAssertion for FederatedTokenFile {
    async fn secret(
        &self,
        _: Option<azure_core::http::ClientMethodOptions<'_>>,
    ) -> azure_core::Result<String> {
        let token = tokio::fs::read_to_string(&self.path).await.map_err(|e| {
            azure_core::Error::with_message(
                ErrorKind::Credential,
                format!(
                    "{AZURE_FEDERATED_TOKEN_FILE} '{}' cannot be read ({e})",
                    self.path.display()
                ),
            )
        })?;
        let token = token.trim().to_string();
        output::register_secret(&token);
        Ok(token)
    }
}
