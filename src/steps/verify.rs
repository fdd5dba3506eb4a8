//! `verify`: the function refuses a direct call (401) and answers through the APIM gateway with a
//! subscription key (200, `Hello, apimfn`) — CONTRACT §1.8. When either fails, the answer's
//! status, headers and body, read together with the Easy Auth settings and the policies, say which
//! link of the chain is broken (arm-reference §7–8).
//!
//! Whose answer is it? APIM's own refusals carry its documented error body `{"statusCode": N,
//! "message": "…"}` (e.g. "Access denied due to missing subscription key …"); anything else
//! came from the backend — the function app, i.e. Easy Auth in front of it. The diagnosis keys on
//! that shape and on the configuration read through ARM, never on the wording of Easy Auth's
//! (undocumented) error page.
//!
//! Writes nothing. `listSecrets` on the built-in `master` subscription is a read-only POST; both
//! keys are registered as secrets so neither can reach the output.

use super::Ctx;
use super::versions::{APIM, WEB};
use crate::arm::{Phase, classify_status, provisioning_state};
use crate::models::{Site, SubscriptionKeys};
use crate::output::register_secret;
use anyhow::Context;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// What the function answers to `?name=apimfn` (templates/function/function_app.py).
pub const GREETING: &str = "Hello, apimfn";
/// The `name` sent to the function.
const PROBE_NAME: &str = "apimfn";
/// The function the bundled template deploys.
const FUNCTION: &str = "HttpExample";
/// How long Azure may take to apply a policy or Easy Auth change ("up to a minute"), with margin.
/// Scaled by the pace: the emulator applies changes at once and runs its clock faster.
const SETTLE: Duration = Duration::from_secs(90);
/// Between two attempts while a change settles.
const INTERVAL: Duration = Duration::from_secs(5);
/// Attempts made whatever the pace: one throttled or dropped call (a real-time event, not a
/// modelled duration) must not fail a verification whose settle window a time scale shrank.
const MIN_ATTEMPTS: u32 = 3;
/// How much of a body is kept for the diagnosis.
const BODY_LIMIT: usize = 2048;

/// One HTTP answer (or the lack of one).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Probe {
    /// `None` when no answer arrived (DNS, TLS, connection).
    pub status: Option<u16>,
    pub www_authenticate: Option<String>,
    /// The first [`BODY_LIMIT`] bytes, lossily decoded.
    pub body: String,
    /// Why there is no answer.
    pub error: Option<String>,
}

impl Probe {
    pub fn answer(status: u16, www_authenticate: Option<&str>, body: &str) -> Self {
        Self {
            status: Some(status),
            www_authenticate: www_authenticate.map(str::to_string),
            body: body.to_string(),
            error: None,
        }
    }

    fn unreachable(error: String) -> Self {
        Self {
            error: Some(error),
            ..Self::default()
        }
    }

    /// APIM's own error body `{"statusCode": N, "message": "…"}`: the gateway answered itself
    /// instead of passing on the backend's answer.
    pub fn apim_error(&self) -> Option<String> {
        let v: Value = serde_json::from_str(self.body.trim()).ok()?;
        let code = v.get("statusCode")?.as_u64()?;
        let message = v.get("message")?.as_str()?;
        (Some(code as u16) == self.status).then(|| message.to_string())
    }

    fn header_note(&self) -> String {
        match &self.www_authenticate {
            Some(h) if !h.is_empty() => format!(" (WWW-Authenticate: {h})"),
            _ => String::new(),
        }
    }

    fn snippet(&self) -> String {
        let s: String = self.body.chars().take(120).collect();
        let s = s.replace(['\n', '\r'], " ");
        if s.trim().is_empty() {
            "an empty body".into()
        } else {
            format!("\"{}\"", s.trim())
        }
    }
}

/// What the diagnosis needs to know about the chain besides the answers.
#[derive(Debug, Clone, Default)]
pub struct Chain {
    /// The tenant of APIM's identity: managed-identity tokens are v1 from this tenant.
    pub tenant_id: Option<String>,
    pub apim_principal: Option<String>,
    /// `properties` of `config/authsettingsV2`.
    pub auth: Option<Value>,
    /// Policy documents that apply to the operation: service, API, operation scope.
    pub policies: Vec<String>,
    pub api_path: String,
    pub url_template: String,
}

impl Chain {
    /// The `resource` of the first `authentication-managed-identity` in any scope.
    pub fn managed_identity_resource(&self) -> Option<String> {
        self.policies.iter().find_map(|doc| {
            policy_elements(doc)
                .into_iter()
                .find(|(name, _)| name == "authentication-managed-identity")
                .map(|(_, attrs)| attrs.get("resource").cloned().unwrap_or_default())
        })
    }

    fn aad(&self) -> Option<&Value> {
        self.auth
            .as_ref()?
            .get("identityProviders")?
            .get("azureActiveDirectory")
    }
}

/// The elements of a policy document as (name, attributes), comments removed: enough to tell
/// which policies are present and with which attributes; not a validating parser.
pub fn policy_elements(xml: &str) -> Vec<(String, BTreeMap<String, String>)> {
    static COMMENT: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    static ELEMENT: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    static ATTR: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let comment = COMMENT.get_or_init(|| regex::Regex::new(r"(?s)<!--.*?-->").expect("regex"));
    let element = ELEMENT.get_or_init(|| {
        regex::Regex::new(r#"<([A-Za-z][\w.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*/?>"#)
            .expect("regex")
    });
    let attr = ATTR.get_or_init(|| {
        regex::Regex::new(r#"([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')"#).expect("regex")
    });
    let text = comment.replace_all(xml, "");
    element
        .captures_iter(&text)
        .map(|c| {
            let attrs = attr
                .captures_iter(c.get(2).map_or("", |m| m.as_str()))
                .map(|a| {
                    let v = a.get(2).or_else(|| a.get(3)).map_or("", |m| m.as_str());
                    (a[1].to_string(), unescape(v))
                })
                .collect();
            (c[1].to_string(), attrs)
        })
        .collect()
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// `None` when the direct call was refused with 401, as it must be; otherwise what is wrong.
pub fn diagnose_direct(p: &Probe, url: &str, auth: Option<&Value>) -> Option<String> {
    let Some(status) = p.status else {
        return Some(format!(
            "the direct call to {url} got no answer ({}); the function app cannot be checked",
            p.error.as_deref().unwrap_or("unknown error")
        ));
    };
    let setting =
        |path: &[&str]| -> Option<&Value> { path.iter().try_fold(auth?, |v, k| v.get(*k)) };
    let action = setting(&["globalValidation", "unauthenticatedClientAction"])
        .and_then(Value::as_str)
        .unwrap_or("");
    Some(match status {
        401 => return None,
        200..=299 => {
            let why = if setting(&["platform", "enabled"]) != Some(&json!(true)) {
                "App Service authentication (Easy Auth) is off: authsettingsV2 platform.enabled is not true"
                    .to_string()
            } else if setting(&["globalValidation", "requireAuthentication"]) != Some(&json!(true))
            {
                "Easy Auth is on but lets anonymous callers through: globalValidation.requireAuthentication is not true".to_string()
            } else if action == "AllowAnonymous" {
                "Easy Auth lets anonymous callers through: unauthenticatedClientAction is AllowAnonymous".to_string()
            } else {
                "the Easy Auth settings read through ARM require authentication, so the change may still be applying, or the path is excluded (globalValidation.excludedPaths)".to_string()
            };
            format!(
                "bypass possible: a direct call to {url} without any token answered {status}, so anyone can reach the function around APIM; {why}. Run `apimfn auth configure`"
            )
        }
        302 => format!(
            "the direct call to {url} was redirected to a sign-in page (302): Easy Auth's unauthenticatedClientAction is {} instead of Return401; run `apimfn auth configure`",
            if action.is_empty() {
                "RedirectToLoginPage (the default)"
            } else {
                action
            }
        ),
        403 if action == "Return403" => format!(
            "the direct call to {url} was refused with 403, not 401: Easy Auth's unauthenticatedClientAction is Return403; run `apimfn auth configure` to set Return401"
        ),
        403 => format!(
            "the direct call to {url} was refused with 403, not the 401 of Easy Auth's Return401 (an access restriction or another front end answers first): {}",
            p.snippet()
        ),
        404 => format!(
            "the function app answered 404 for {url}: the function {FUNCTION} is not deployed, or its route differs; run `apimfn function deploy`"
        ),
        s if s >= 500 => format!(
            "the function app answered {s} for {url}: the app is not serving (stopped, starting, or failing): {}",
            p.snippet()
        ),
        s => format!(
            "the direct call to {url} answered {s} instead of 401: {}",
            p.snippet()
        ),
    })
}

/// `None` when the gateway answered 200 with the greeting; otherwise which link is broken.
pub fn diagnose_gateway(p: &Probe, url: &str, chain: &Chain) -> Option<String> {
    let Some(status) = p.status else {
        return Some(format!(
            "the APIM gateway did not answer {url} ({})",
            p.error.as_deref().unwrap_or("unknown error")
        ));
    };
    let apim = p.apim_error();
    Some(match (status, apim) {
        (200..=299, _) if p.body.contains(GREETING) => return None,
        (200..=299, _) => format!(
            "the gateway answered {status} for {url} but not with the function's greeting \"{GREETING}\" ({}): a policy answers instead of the backend, or the backend is another app",
            p.snippet()
        ),
        (401, Some(m)) if m.to_ascii_lowercase().contains("subscription key") => format!(
            "subscription key: APIM refused the call ({m}); the key of the built-in `master` subscription was sent in Ocp-Apim-Subscription-Key — the subscription may be suspended, or the API expects the key under another name (subscriptionKeyParameterNames)"
        ),
        (401 | 403, Some(m)) => format!(
            "APIM itself refused the call with {status} ({m}): a policy at the service or API scope (validate-jwt, ip-filter, quota…) rejects it before the backend is called"
        ),
        (401, None) => format!(
            "token: the function app's Easy Auth refused APIM's call with 401{}; {}",
            p.header_note(),
            token_link(chain)
        ),
        (403, None) => format!(
            "allowed identities: the function app's Easy Auth accepted a token but refused the caller with 403{}; {}",
            p.header_note(),
            identity_link(chain)
        ),
        (404, Some(_)) => format!(
            "API path/operation: APIM has no API and operation for {url} (API path '{}', operation '{}'); run `apimfn api import` (with the same --api-path)",
            chain.api_path, chain.url_template
        ),
        (404, None) => "backend: APIM reached the function app, which answered 404 for the forwarded request: the backend URL (…/api) or the function's route is wrong, or the function is not deployed; run `apimfn function deploy` and `apimfn api import`".to_string(),
        (500, Some(m)) => {
            let why = match chain.managed_identity_resource() {
                Some(r) => format!(
                    "most often <authentication-managed-identity resource=\"{r}\"/> could not get a token (the app registration or its service principal is missing, or APIM's managed identity is off), or a named value or backend the policy uses is missing"
                ),
                None => "a named value or backend the policy uses is missing, or the backend could not be reached".into(),
            };
            format!("policy: APIM failed while running the API's policies (500, {m}): {why}")
        }
        (500, None) => format!(
            "function error: the function itself failed with 500 behind APIM ({}); look at the function's logs",
            p.snippet()
        ),
        (502..=504, Some(m)) => format!(
            "backend: APIM answered {status} ({m}): the service is not serving yet (activating or updating) or cannot reach the function app"
        ),
        (502..=504, None) => format!(
            "backend: the function app answered {status} behind APIM: it is not serving (stopped, starting, or failing)"
        ),
        (s, m) => format!(
            "the gateway answered {s} for {url}{}: {}",
            m.map(|m| format!(" ({m})")).unwrap_or_default(),
            p.snippet()
        ),
    })
}

/// Why Easy Auth rejected the token APIM sent (or did not send).
fn token_link(chain: &Chain) -> String {
    let Some(resource) = chain.managed_identity_resource() else {
        return "the policies (service, API and operation scope) have no <authentication-managed-identity>, so APIM calls the function without a token; run `apimfn auth configure`".into();
    };
    let Some(aad) = chain
        .aad()
        .filter(|a| a.get("enabled") != Some(&json!(false)))
    else {
        return "Easy Auth has no enabled Microsoft Entra provider, so no token is accepted; run `apimfn auth configure`".into();
    };
    let registration = aad.get("registration");
    let client_id = registration
        .and_then(|r| r.get("clientId"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut audiences: Vec<String> = aad
        .pointer("/validation/allowedAudiences")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if !client_id.is_empty() && !audiences.iter().any(|a| a == client_id) {
        audiences.push(client_id.to_string());
    }
    let wanted = resource.trim_end_matches("/.default").trim_end_matches('/');
    if !audiences
        .iter()
        .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(wanted))
    {
        return format!(
            "audience mismatch: the policy asks for a token for \"{resource}\", but Easy Auth accepts only {audiences:?} (allowedAudiences and the client id); run `apimfn auth configure`"
        );
    }
    let issuer = registration
        .and_then(|r| r.get("openIdIssuer"))
        .and_then(Value::as_str)
        .unwrap_or("");
    if let Some(tid) = &chain.tenant_id {
        let v1 = format!("https://sts.windows.net/{tid}/");
        if issuer != v1 {
            let what = if issuer.is_empty() {
                "no openIdIssuer".to_string()
            } else if issuer.ends_with("/v2.0") {
                format!("the v2 issuer {issuer}")
            } else {
                format!("the issuer {issuer}")
            };
            return format!(
                "issuer mismatch: Easy Auth expects {what}, but managed-identity tokens are v1 tokens with iss {v1} (unless the app registration asks for v2 tokens); run `apimfn auth configure`"
            );
        }
    }
    format!(
        "the policy asks for \"{resource}\", which Easy Auth accepts, and the issuer is the v1 one: the app registration {client_id} may have no service principal, or the token comes from another tenant"
    )
}

/// Why Easy Auth's authorization policy refused APIM's identity.
fn identity_link(chain: &Chain) -> String {
    let Some(aad) = chain.aad() else {
        return "Easy Auth has no Microsoft Entra provider configured".into();
    };
    let list = |ptr: &str| -> Vec<String> {
        aad.pointer(ptr)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let identities = list("/validation/defaultAuthorizationPolicy/allowedPrincipals/identities");
    let applications = list("/validation/defaultAuthorizationPolicy/allowedApplications");
    let principal = chain.apim_principal.as_deref().unwrap_or("");
    if !identities.is_empty() && !identities.iter().any(|i| i.eq_ignore_ascii_case(principal)) {
        return format!(
            "allowedPrincipals.identities {identities:?} does not contain APIM's managed identity {principal}; run `apimfn auth configure`"
        );
    }
    if !applications.is_empty() {
        return format!(
            "allowedApplications {applications:?} restricts the calling application, and APIM's identity is not among them; run `apimfn auth configure`"
        );
    }
    format!(
        "the identities list contains APIM's managed identity {principal}; another check (jwtClaimChecks, allowed tenants, WEBSITE_AUTH_AAD_* app settings) refuses it"
    )
}

/// The result of a verification, for `verify` and `setup`.
#[derive(Debug, Clone, Default)]
pub struct VerifyOutcome {
    pub passed: bool,
    pub direct_url: Option<String>,
    pub direct: Option<Probe>,
    pub gateway_url: Option<String>,
    pub via_apim: Option<Probe>,
    /// Gateway calls made (retries while a change settles).
    pub attempts: u32,
    pub diagnosis: Option<String>,
}

impl VerifyOutcome {
    /// The `verify` object of CONTRACT §4.
    pub fn json(&self) -> Value {
        let status = |p: &Option<Probe>| p.as_ref().and_then(|p| p.status);
        let mut v = json!({
            "passed": self.passed,
            "direct": {"status": status(&self.direct), "url": self.direct_url},
            "viaApim": {"status": status(&self.via_apim), "url": self.gateway_url, "attempts": self.attempts},
        });
        if let Some(d) = &self.diagnosis {
            v["diagnosis"] = json!(d);
        }
        v
    }

    fn failed(diagnosis: String) -> Self {
        Self {
            diagnosis: Some(diagnosis),
            ..Self::default()
        }
    }
}

/// Read the chain, call the function directly and through the gateway, and judge. `Err` only
/// when Azure could not be read; a broken chain is an outcome with `passed: false`.
pub async fn run(ctx: &Ctx) -> anyhow::Result<VerifyOutcome> {
    let step = ctx.printer.step("verify");
    step.set("reading the function app and the API");
    let names = &ctx.names;
    let svc = names.apim_id();

    let Some(site) = ctx.arm().get(&names.site_id(), WEB).await? else {
        step.finish("failed");
        return Ok(VerifyOutcome::failed(format!(
            "the function app {} does not exist; run `apimfn function create` and `apimfn function deploy`",
            names.app
        )));
    };
    let site: Site = serde_json::from_value(site)
        .with_context(|| format!("reading function app {}", names.app))?;
    let Some(app_host) = site.app_host().map(str::to_string) else {
        step.finish("failed");
        return Ok(VerifyOutcome::failed(format!(
            "the function app {} has no host name yet (hostNameSslStates is empty)",
            names.app
        )));
    };
    let route = function_route(ctx).await?;
    let direct_url = format!("https://{app_host}/api/{route}?name={PROBE_NAME}");

    // The gateway side: service, API, operation, key. What is missing makes the gateway call
    // pointless, but the direct call is still worth making (a bypass is the worse finding).
    let mut outcome = VerifyOutcome {
        direct_url: Some(direct_url.clone()),
        ..VerifyOutcome::default()
    };
    let mut chain = Chain::default();
    let gateway = match gateway_target(ctx, &svc, &mut chain).await? {
        Ok(t) => Some(t),
        Err(why) => {
            outcome.diagnosis = Some(why);
            None
        }
    };
    outcome.gateway_url = gateway.as_ref().map(|(url, _)| url.clone());

    step.set("calling the function directly and through APIM");
    let deadline = Instant::now() + ctx.pace().interval(SETTLE);
    let interval = ctx.pace().interval(INTERVAL);
    let direct = async {
        let mut p;
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            p = call(ctx, &direct_url, None).await;
            if p.status == Some(401)
                || (attempts >= MIN_ATTEMPTS && Instant::now() + interval > deadline)
            {
                return p;
            }
            tokio::time::sleep(interval).await;
        }
    };
    let via = async {
        let (url, key) = gateway.as_ref()?;
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let p = call(ctx, url, Some(key)).await;
            let good = p.status == Some(200) && p.body.contains(GREETING);
            if good || (attempts >= MIN_ATTEMPTS && Instant::now() + interval > deadline) {
                return Some((p, attempts));
            }
            step.set(&format!(
                "gateway answered {}; retrying while changes settle (attempt {attempts})",
                p.status.map_or("nothing".into(), |s| s.to_string())
            ));
            tokio::time::sleep(interval).await;
        }
    };
    let (direct, via) = tokio::join!(direct, via);

    let direct_ok = direct.status == Some(401);
    let via_ok = via
        .as_ref()
        .is_some_and(|(p, _)| p.status == Some(200) && p.body.contains(GREETING));
    if !direct_ok || (gateway.is_some() && !via_ok) {
        // Only now read what the diagnosis needs: the happy path stays short.
        let auth = ctx
            .arm()
            .get(&format!("{}/config/authsettingsV2", names.site_id()), WEB)
            .await?
            .and_then(|v| v.get("properties").cloned());
        chain.auth = auth;
        if gateway.is_some() {
            chain.policies = policies(ctx, &svc).await?;
        }
    }
    let mut diagnoses = Vec::new();
    if let Some(d) = diagnose_direct(&direct, &direct_url, chain.auth.as_ref()) {
        diagnoses.push(d);
    }
    if let Some(d) = outcome.diagnosis.take() {
        diagnoses.push(d);
    }
    if let (Some((p, attempts)), Some((url, _))) = (&via, &gateway) {
        outcome.attempts = *attempts;
        if let Some(d) = diagnose_gateway(p, url, &chain) {
            diagnoses.push(d);
        }
    }
    outcome.passed = diagnoses.is_empty();
    outcome.diagnosis = (!diagnoses.is_empty()).then(|| diagnoses.join("\n"));
    outcome.direct = Some(direct);
    outcome.via_apim = via.map(|(p, _)| p);
    step.finish(if outcome.passed { "passed" } else { "failed" });
    Ok(outcome)
}

/// The gateway URL for the operation and the `master` key, or why the gateway cannot be called.
async fn gateway_target(
    ctx: &Ctx,
    svc: &str,
    chain: &mut Chain,
) -> anyhow::Result<Result<(String, String), String>> {
    let names = &ctx.names;
    let Some(service) = ctx.arm().get(svc, APIM).await? else {
        return Ok(Err(format!(
            "the APIM service {} does not exist; run `apimfn apim create`",
            names.apim
        )));
    };
    chain.tenant_id = service
        .pointer("/identity/tenantId")
        .and_then(Value::as_str)
        .map(str::to_string);
    chain.apim_principal = service
        .pointer("/identity/principalId")
        .and_then(Value::as_str)
        .map(str::to_string);
    let state = provisioning_state(&service).unwrap_or("Succeeded");
    if classify_status(state) != Phase::Succeeded && state != "Updating" {
        return Ok(Err(format!(
            "the APIM service {} is {state}, not serving yet; `apimfn apim create` waits for it",
            names.apim
        )));
    }
    let Some(gateway) = service
        .pointer("/properties/gatewayUrl")
        .and_then(Value::as_str)
        .filter(|g| !g.is_empty())
    else {
        return Ok(Err(format!(
            "the APIM service {} has no gatewayUrl",
            names.apim
        )));
    };
    let api_id = names.api_arm_id();
    let Some(api) = ctx.arm().get(&api_id, APIM).await? else {
        return Ok(Err(format!(
            "the API {} is not in APIM {}; run `apimfn api import`",
            names.api_id(),
            names.apim
        )));
    };
    chain.api_path = api
        .pointer("/properties/path")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim_matches('/')
        .to_string();
    let operations = ctx
        .arm()
        .list(&format!("{api_id}/operations"), APIM)
        .await?;
    chain.url_template = operation_template(&operations);
    let keys = ctx
        .arm()
        .post(
            &format!("{svc}/subscriptions/master/listSecrets"),
            APIM,
            None,
        )
        .await?
        .unwrap_or(Value::Null);
    let keys: SubscriptionKeys =
        serde_json::from_value(keys).context("reading the master subscription's keys")?;
    for k in [&keys.primary_key, &keys.secondary_key]
        .into_iter()
        .flatten()
    {
        register_secret(k);
    }
    let Some(key) = keys.primary_key.or(keys.secondary_key) else {
        return Ok(Err(format!(
            "the built-in master subscription of {} has no key",
            names.apim
        )));
    };
    let path = if chain.api_path.is_empty() {
        String::new()
    } else {
        format!("/{}", chain.api_path)
    };
    let url = format!(
        "{}{path}{}?name={PROBE_NAME}",
        gateway.trim_end_matches('/'),
        chain.url_template
    );
    Ok(Ok((url, key)))
}

/// The operation for the function: `GET` (or any method) with the function's URL template;
/// `/HttpExample` when none is found (the gateway's 404 then says so).
pub fn operation_template(operations: &[Value]) -> String {
    let template = |op: &Value| {
        op.pointer("/properties/urlTemplate")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let method_ok = |op: &Value| {
        op.pointer("/properties/method")
            .and_then(Value::as_str)
            .is_some_and(|m| m == "*" || m.eq_ignore_ascii_case("GET"))
    };
    let by_template = operations.iter().find(|op| {
        method_ok(op)
            && template(op)
                .trim_matches('/')
                .eq_ignore_ascii_case(FUNCTION)
    });
    let by_name = operations.iter().find(|op| {
        method_ok(op)
            && op["name"]
                .as_str()
                .is_some_and(|n| n.to_ascii_lowercase().ends_with("httpexample"))
    });
    match by_template.or(by_name).map(template) {
        Some(t) if !t.is_empty() && !t.contains('{') => {
            if t.starts_with('/') {
                t
            } else {
                format!("/{t}")
            }
        }
        _ => format!("/{FUNCTION}"),
    }
}

/// The function's route from its HTTP trigger binding, `HttpExample` when it is not listed.
async fn function_route(ctx: &Ctx) -> anyhow::Result<String> {
    let functions = match ctx
        .arm()
        .list(&format!("{}/functions", ctx.names.site_id()), WEB)
        .await
    {
        Ok(f) => f,
        Err(e) if e.is_not_found() => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    Ok(route_of(&functions).unwrap_or_else(|| FUNCTION.to_string()))
}

pub fn route_of(functions: &[Value]) -> Option<String> {
    let f = functions.iter().find(|f| {
        f["name"]
            .as_str()
            .and_then(|n| n.rsplit('/').next())
            .is_some_and(|n| n.eq_ignore_ascii_case(FUNCTION))
    })?;
    let bindings = f.pointer("/properties/config/bindings")?.as_array()?;
    let trigger = bindings.iter().find(|b| {
        b["type"]
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case("httpTrigger"))
    })?;
    trigger["route"]
        .as_str()
        .filter(|r| !r.is_empty() && !r.contains('{'))
        .map(|r| r.trim_matches('/').to_string())
}

/// The policy documents of the service, the API and the function's operation (those that exist).
async fn policies(ctx: &Ctx, svc: &str) -> anyhow::Result<Vec<String>> {
    let api = ctx.names.api_arm_id();
    let mut out = Vec::new();
    for scope in [
        svc.to_string(),
        api.clone(),
        format!("{api}/operations/get-{}", FUNCTION.to_ascii_lowercase()),
    ] {
        let path = format!("{scope}/policies/policy?format=rawxml");
        if let Some(v) = ctx.arm().get(&path, APIM).await?
            && let Some(x) = v.pointer("/properties/value").and_then(Value::as_str)
        {
            out.push(x.to_string());
        }
    }
    Ok(out)
}

/// One GET through the shared client (which routes Azure hosts to an emulator when asked).
async fn call(ctx: &Ctx, url: &str, key: Option<&str>) -> Probe {
    let mut req = ctx.azure.http.get(url);
    if let Some(k) = key {
        req = req.header("Ocp-Apim-Subscription-Key", k);
    }
    let resp = match req.send().await {
        Ok(r) => r,
        Err(e) => return Probe::unreachable(e.without_url().to_string()),
    };
    let status = resp.status().as_u16();
    let www = resp
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = resp.bytes().await.unwrap_or_default();
    let end = bytes.len().min(BODY_LIMIT);
    Probe {
        status: Some(status),
        www_authenticate: www,
        body: String::from_utf8_lossy(&bytes[..end]).into_owned(),
        error: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    const APIM_OID: &str = "11111111-2222-3333-4444-555555555555";
    const APP_ID: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
    const GW: &str = "https://a.azure-api.net/fn/HttpExample?name=apimfn";
    const DIRECT: &str = "https://fn.azurewebsites.net/api/HttpExample?name=apimfn";

    fn policy(mi: Option<&str>) -> String {
        let mi = mi
            .map(|r| format!("<authentication-managed-identity resource=\"{r}\" />"))
            .unwrap_or_default();
        format!(
            "<policies><inbound><base /><set-backend-service id=\"apim-generated-policy\" backend-id=\"fn\" />{mi}</inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"
        )
    }

    fn auth() -> Value {
        json!({
            "platform": {"enabled": true, "runtimeVersion": "~1"},
            "globalValidation": {"requireAuthentication": true, "unauthenticatedClientAction": "Return401"},
            "identityProviders": {"azureActiveDirectory": {
                "enabled": true,
                "registration": {"clientId": APP_ID, "openIdIssuer": format!("https://sts.windows.net/{TID}/")},
                "validation": {
                    "allowedAudiences": [format!("api://{APP_ID}"), APP_ID],
                    "defaultAuthorizationPolicy": {"allowedPrincipals": {"identities": [APIM_OID]}}
                }
            }}
        })
    }

    fn chain(policy_doc: String, auth: Value) -> Chain {
        Chain {
            tenant_id: Some(TID.into()),
            apim_principal: Some(APIM_OID.into()),
            auth: Some(auth),
            policies: vec![policy_doc],
            api_path: "fn".into(),
            url_template: "/HttpExample".into(),
        }
    }

    fn good_chain() -> Chain {
        chain(policy(Some(&format!("api://{APP_ID}"))), auth())
    }

    /// What Easy Auth answers: a plain page, not APIM's JSON.
    fn easy_auth(status: u16) -> Probe {
        Probe::answer(
            status,
            Some("Bearer realm=\"fn.azurewebsites.net\""),
            "You do not have permission to view this directory or page.",
        )
    }

    fn apim(status: u16, message: &str) -> Probe {
        Probe::answer(
            status,
            None,
            &json!({"statusCode": status, "message": message}).to_string(),
        )
    }

    #[test]
    fn direct_401_passes_and_2xx_is_a_bypass_with_the_reason() {
        assert_eq!(
            diagnose_direct(&easy_auth(401), DIRECT, Some(&auth())),
            None
        );
        let hello = Probe::answer(200, None, "Hello, apimfn. This HTTP triggered function…");
        let off = json!({"platform": {"enabled": false}});
        let d = diagnose_direct(&hello, DIRECT, Some(&off)).expect("bypass");
        assert!(d.starts_with("bypass possible"), "{d}");
        assert!(d.contains("platform.enabled"), "{d}");
        let mut anon = auth();
        anon["globalValidation"]["unauthenticatedClientAction"] = json!("AllowAnonymous");
        let d = diagnose_direct(&hello, DIRECT, Some(&anon)).expect("bypass");
        assert!(d.contains("AllowAnonymous"), "{d}");
        let mut optional = auth();
        optional["globalValidation"]["requireAuthentication"] = json!(false);
        let d = diagnose_direct(&hello, DIRECT, Some(&optional)).expect("bypass");
        assert!(d.contains("requireAuthentication"), "{d}");
    }

    #[test]
    fn direct_other_statuses_are_explained() {
        let d = diagnose_direct(&Probe::answer(302, None, ""), DIRECT, None).expect("302");
        assert!(d.contains("RedirectToLoginPage"), "{d}");
        let mut r403 = auth();
        r403["globalValidation"]["unauthenticatedClientAction"] = json!("Return403");
        let d = diagnose_direct(&easy_auth(403), DIRECT, Some(&r403)).expect("403");
        assert!(d.contains("Return403"), "{d}");
        let d = diagnose_direct(&Probe::answer(404, None, ""), DIRECT, None).expect("404");
        assert!(d.contains("function deploy"), "{d}");
        let d = diagnose_direct(&Probe::answer(503, None, ""), DIRECT, None).expect("503");
        assert!(d.contains("503"), "{d}");
        let d =
            diagnose_direct(&Probe::unreachable("dns error".into()), DIRECT, None).expect("none");
        assert!(d.contains("dns error"), "{d}");
    }

    #[test]
    fn gateway_200_with_the_greeting_passes_and_without_it_does_not() {
        let ok = Probe::answer(
            200,
            None,
            "Hello, apimfn. This HTTP triggered function executed successfully.",
        );
        assert_eq!(diagnose_gateway(&ok, GW, &good_chain()), None);
        let other = Probe::answer(200, None, "{}");
        let d = diagnose_gateway(&other, GW, &good_chain()).expect("not the greeting");
        assert!(d.contains("greeting"), "{d}");
    }

    #[test]
    fn apim_401_about_the_key_is_the_subscription_key() {
        for m in [
            "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.",
            "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.",
        ] {
            let d = diagnose_gateway(&apim(401, m), GW, &good_chain()).expect("key");
            assert!(d.starts_with("subscription key"), "{d}");
        }
    }

    #[test]
    fn easy_auth_401_without_the_policy_says_the_policy_is_missing() {
        let c = chain(policy(None), auth());
        let d = diagnose_gateway(&easy_auth(401), GW, &c).expect("401");
        assert!(d.starts_with("token"), "{d}");
        assert!(d.contains("no <authentication-managed-identity>"), "{d}");
        assert!(d.contains("WWW-Authenticate: Bearer"), "{d}");
    }

    #[test]
    fn a_commented_out_policy_does_not_count() {
        let doc = policy(None).replace(
            "</inbound>",
            "<!-- <authentication-managed-identity resource=\"api://x\" /> --></inbound>",
        );
        let c = chain(doc, auth());
        assert_eq!(c.managed_identity_resource(), None);
    }

    #[test]
    fn easy_auth_401_with_another_audience_is_an_audience_mismatch() {
        let c = chain(policy(Some("https://management.azure.com/")), auth());
        let d = diagnose_gateway(&easy_auth(401), GW, &c).expect("401");
        assert!(d.contains("audience mismatch"), "{d}");
        assert!(d.contains("https://management.azure.com/"), "{d}");
    }

    #[test]
    fn easy_auth_401_with_the_v2_issuer_is_an_issuer_mismatch() {
        let mut a = auth();
        a["identityProviders"]["azureActiveDirectory"]["registration"]["openIdIssuer"] =
            json!(format!("https://login.microsoftonline.com/{TID}/v2.0"));
        let c = chain(policy(Some(&format!("api://{APP_ID}"))), a);
        let d = diagnose_gateway(&easy_auth(401), GW, &c).expect("401");
        assert!(d.contains("issuer mismatch"), "{d}");
        assert!(d.contains("v2"), "{d}");
    }

    #[test]
    fn easy_auth_403_names_the_missing_identity() {
        let mut a = auth();
        a["identityProviders"]["azureActiveDirectory"]["validation"]["defaultAuthorizationPolicy"]
            ["allowedPrincipals"]["identities"] = json!(["someone-else"]);
        let c = chain(policy(Some(&format!("api://{APP_ID}"))), a);
        let d = diagnose_gateway(&easy_auth(403), GW, &c).expect("403");
        assert!(d.starts_with("allowed identities"), "{d}");
        assert!(d.contains(APIM_OID), "{d}");
    }

    #[test]
    fn not_found_500_and_5xx_are_told_apart_by_who_answered() {
        let c = good_chain();
        let d = diagnose_gateway(&apim(404, "Resource not found"), GW, &c).expect("404");
        assert!(d.starts_with("API path/operation"), "{d}");
        let d = diagnose_gateway(&Probe::answer(404, None, ""), GW, &c).expect("404");
        assert!(d.starts_with("backend"), "{d}");
        let d = diagnose_gateway(&apim(500, "Internal server error"), GW, &c).expect("500");
        assert!(d.starts_with("policy"), "{d}");
        assert!(d.contains(&format!("api://{APP_ID}")), "{d}");
        let d = diagnose_gateway(&Probe::answer(500, None, "Traceback"), GW, &c).expect("500");
        assert!(d.starts_with("function error"), "{d}");
        let d = diagnose_gateway(&apim(503, "Service Unavailable"), GW, &c).expect("503");
        assert!(d.starts_with("backend"), "{d}");
        let d = diagnose_gateway(&Probe::answer(502, None, ""), GW, &c).expect("502");
        assert!(d.contains("function app answered 502"), "{d}");
    }

    #[test]
    fn apim_json_is_recognised_only_with_its_own_status() {
        let p = apim(401, "Access denied");
        assert_eq!(p.apim_error().as_deref(), Some("Access denied"));
        // A backend that happens to answer JSON with another status code is not APIM.
        let p = Probe::answer(500, None, r#"{"statusCode": 401, "message": "x"}"#);
        assert_eq!(p.apim_error(), None);
        assert_eq!(Probe::answer(401, None, "denied").apim_error(), None);
    }

    #[test]
    fn policy_elements_read_attributes_with_either_quote_and_entities() {
        let els = policy_elements(
            "<policies><inbound><authentication-managed-identity resource='api://a&amp;b' ignore-error=\"false\"/></inbound></policies>",
        );
        let mi = els
            .iter()
            .find(|(n, _)| n == "authentication-managed-identity")
            .expect("element");
        assert_eq!(mi.1["resource"], "api://a&b");
        assert_eq!(mi.1["ignore-error"], "false");
    }

    #[test]
    fn the_operation_template_and_function_route_are_found_or_defaulted() {
        let ops = vec![
            json!({"name": "post-httpexample", "properties": {"method": "POST", "urlTemplate": "/post-only"}}),
            json!({"name": "get-httpexample", "properties": {"method": "GET", "urlTemplate": "/HttpExample"}}),
        ];
        assert_eq!(operation_template(&ops), "/HttpExample");
        let renamed = vec![
            json!({"name": "get-httpexample", "properties": {"method": "GET", "urlTemplate": "hello"}}),
        ];
        assert_eq!(operation_template(&renamed), "/hello");
        assert_eq!(operation_template(&[]), "/HttpExample");

        let functions = vec![json!({
            "name": "fn/HttpExample",
            "properties": {"config": {"bindings": [
                {"type": "httpTrigger", "direction": "in", "route": "HttpExample", "methods": ["GET", "POST"]},
                {"type": "http", "direction": "out"}
            ]}}
        })];
        assert_eq!(route_of(&functions).as_deref(), Some("HttpExample"));
        assert_eq!(route_of(&[]), None);
    }

    #[test]
    fn the_json_has_the_contract_fields() {
        let o = VerifyOutcome {
            passed: false,
            direct: Some(Probe::answer(200, None, "")),
            direct_url: Some(DIRECT.into()),
            via_apim: None,
            gateway_url: None,
            attempts: 0,
            diagnosis: Some("bypass possible".into()),
        };
        let v = o.json();
        assert_eq!(v["passed"], false);
        assert_eq!(v["direct"]["status"], 200);
        assert_eq!(v["viaApim"]["status"], Value::Null);
        assert_eq!(v["diagnosis"], "bypass possible");
    }
}
