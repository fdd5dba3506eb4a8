//! `status`: every resource of the setup — exists or not, its provisioning state, whether what
//! apimfn owns on it is in place — and the short list of what `setup` would still do. Never
//! writes: only GETs and the read-only POST `host/default/listkeys` (its keys are registered as
//! secrets and never shown; only the presence of `apim-{apim}` is reported).
//!
//! Reading and judging are separate: [`observe`] gathers raw answers into [`Observed`], and the
//! pure [`summarize`] turns them into [`Entry`]s (unit-tested on canned answers). A missing
//! resource group short-cuts every read below it: nothing can exist in a group that does not.
//! A read that fails (e.g. no Graph permission) is reported as `unknown` with Azure's message,
//! and the others go on.

use super::Ctx;
use super::diff::differences;
use super::verify::policy_elements;
use super::versions::{APIM, AUTHORIZATION, RESOURCES, STORAGE, WEB};
use super::{auth, policy};
use crate::arm::{ArmError, Phase, classify_status, provisioning_state};
use crate::output::register_secret;
use serde::Serialize;
use serde_json::{Value, json};

use super::function::BLOB_DATA_OWNER as STORAGE_BLOB_DATA_OWNER;

/// One read: found (the answer), missing (404 or its parent is missing), or not known.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Seen {
    Found(Value),
    #[default]
    Missing,
    /// Not read, or the read failed: why.
    Unknown(String),
}

impl Seen {
    fn from_result(r: Result<Option<Value>, ArmError>) -> Seen {
        match r {
            Ok(Some(v)) => Seen::Found(v),
            Ok(None) => Seen::Missing,
            Err(e) => Seen::Unknown(e.to_string()),
        }
    }

    fn found(&self) -> Option<&Value> {
        match self {
            Seen::Found(v) => Some(v),
            _ => None,
        }
    }
}

/// Everything `status` read.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    pub group: Seen,
    pub apim: Seen,
    /// The soft-deleted service of the same name in this subscription (only read when the service
    /// is missing).
    pub apim_soft_deleted: Seen,
    pub storage: Seen,
    pub container: Seen,
    pub plan: Seen,
    pub site: Seen,
    /// The list of role assignments for the site's identity at the storage account (`Found` holds
    /// the array).
    pub role_assignments: Seen,
    /// `Found` holds the array of functions.
    pub functions: Seen,
    /// `Found` holds the names of the host's function keys (never the values).
    pub host_keys: Seen,
    pub named_value: Seen,
    pub backend: Seen,
    pub api: Seen,
    /// `Found` holds the array of operations.
    pub operations: Seen,
    pub policy: Seen,
    /// `Found` holds the array of applications carrying apimfn's tag.
    pub app_registrations: Seen,
    /// `Found` when the (first) tagged application has a service principal.
    pub service_principal: Seen,
    pub auth: Seen,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Exists and is as apimfn sets it up.
    Ok,
    /// A long-running operation (activation, update) is still running.
    Pending,
    /// Exists, but something apimfn owns on it is missing or different.
    Incomplete,
    Failed,
    Missing,
    /// Could not be read, or depends on something not ready yet.
    Unknown,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Ok => "ok",
            State::Pending => "pending",
            State::Incomplete => "incomplete",
            State::Failed => "failed",
            State::Missing => "missing",
            State::Unknown => "unknown",
        }
    }
}

/// One line of the status.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub kind: &'static str,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub exists: bool,
    pub state: State,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// What `setup` would still do about this resource.
    #[serde(skip)]
    pub todo: Vec<String>,
}

impl Entry {
    fn new(kind: &'static str, name: impl Into<String>, id: Option<String>) -> Self {
        Entry {
            kind,
            name: name.into(),
            id,
            exists: false,
            state: State::Missing,
            provisioning_state: None,
            detail: None,
            todo: Vec::new(),
        }
    }

    fn todo(mut self, t: impl Into<String>) -> Self {
        self.todo.push(t.into());
        self
    }

    /// From a read: found → ok (or pending/failed by provisioning state), missing → missing with
    /// `todo`, unknown → unknown with the reason.
    fn judged(mut self, seen: &Seen, todo: &str) -> Self {
        match seen {
            Seen::Found(v) => {
                self.exists = true;
                self.state = State::Ok;
                if let Some(p) = provisioning_state(v) {
                    self.provisioning_state = Some(p.to_string());
                    match classify_status(p) {
                        Phase::Succeeded => {}
                        Phase::Running => {
                            self.state = State::Pending;
                        }
                        Phase::Failed | Phase::Canceled => {
                            self.state = State::Failed;
                            self.todo.push(format!("{todo} again (it is {p})"));
                        }
                    }
                }
                self
            }
            Seen::Missing => self.todo(todo),
            Seen::Unknown(why) => {
                self.state = State::Unknown;
                self.detail = Some(why.clone());
                self
            }
        }
    }

    fn incomplete(mut self, problems: Vec<String>, todo: &str) -> Self {
        if self.state == State::Ok && !problems.is_empty() {
            self.state = State::Incomplete;
            self.detail = Some(problems.join("; "));
            self.todo.push(todo.to_string());
        }
        self
    }
}

/// The names and ids `summarize` reports (kept apart from `Names` so tests can make one).
#[derive(Debug, Clone, Default)]
pub struct Labels {
    pub resource_group: String,
    pub group_id: String,
    pub apim: String,
    pub apim_id: String,
    pub storage: String,
    pub storage_id: String,
    pub container: String,
    pub container_id: String,
    pub plan: String,
    pub plan_id: String,
    pub app: String,
    pub site_id: String,
    pub api_id: String,
    pub tag: String,
}

impl Labels {
    pub fn from_ctx(ctx: &Ctx) -> anyhow::Result<Labels> {
        let n = &ctx.names;
        Ok(Labels {
            resource_group: n.resource_group.clone(),
            group_id: n.group_id(),
            apim: n.apim.clone(),
            apim_id: n.apim_id(),
            storage: n.storage()?.to_string(),
            storage_id: n.storage_id()?,
            container: n.container()?.to_string(),
            container_id: n.container_id()?,
            plan: n.plan()?.to_string(),
            plan_id: n.plan_id()?,
            app: n.app.clone(),
            site_id: n.site_id(),
            api_id: n.api_arm_id(),
            tag: n.app_registration_tag(),
        })
    }

    fn host_key(&self) -> String {
        format!("apim-{}", self.apim)
    }

    fn named_value(&self) -> String {
        format!("{}-key", self.app)
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

/// Judge what was read. Pure: unit-tested on canned answers.
pub fn summarize(o: &Observed, l: &Labels) -> Vec<Entry> {
    let mut out = Vec::new();
    out.push(
        Entry::new(
            "resource group",
            &l.resource_group,
            Some(l.group_id.clone()),
        )
        .judged(
            &o.group,
            &format!("create the resource group {}", l.resource_group),
        ),
    );

    // APIM, and the soft-deleted name that would stop `setup`.
    let mut apim = Entry::new("APIM service", &l.apim, Some(l.apim_id.clone())).judged(
        &o.apim,
        &format!(
            "create the APIM service {} (Developer; 30–90 minutes)",
            l.apim
        ),
    );
    if let Some(svc) = o.apim.found() {
        if apim.state == State::Pending {
            apim.todo
                .push(format!("wait for the APIM service {} to activate", l.apim));
        }
        let mut d = Vec::new();
        if let Some(g) = str_at(svc, "/properties/gatewayUrl").filter(|g| !g.is_empty()) {
            d.push(g.to_string());
        }
        match str_at(svc, "/identity/principalId") {
            Some(p) => d.push(format!("identity {p}")),
            None => d.push("no system-assigned identity".into()),
        }
        apim.detail = Some(d.join(", "));
        if str_at(svc, "/identity/principalId").is_none() && apim.state == State::Ok {
            apim.state = State::Incomplete;
            apim.todo.push(format!(
                "turn on the system-assigned identity of {}",
                l.apim
            ));
        }
    } else if let Some(d) = o.apim_soft_deleted.found() {
        apim.todo.clear();
        apim.detail = Some(format!(
            "soft-deleted{}; setup stops until it is recovered or purged",
            str_at(d, "/properties/deletionDate")
                .map(|t| format!(" on {t}"))
                .unwrap_or_default()
        ));
        apim.todo.push(format!(
            "recover or purge the soft-deleted APIM service {} (`apimfn apim create --recover` or `--purge-soft-deleted`)",
            l.apim
        ));
    }
    let apim_ready = apim.exists
        && apim
            .provisioning_state
            .as_deref()
            .is_none_or(|s| classify_status(s) == Phase::Succeeded);
    let apim_principal = o
        .apim
        .found()
        .and_then(|s| str_at(s, "/identity/principalId"))
        .map(str::to_string);
    let tenant = o
        .apim
        .found()
        .and_then(|s| str_at(s, "/identity/tenantId"))
        .map(str::to_string);
    out.push(apim);

    // The function app and what it needs.
    out.push(
        Entry::new("storage account", &l.storage, Some(l.storage_id.clone())).judged(
            &o.storage,
            &format!("create the storage account {}", l.storage),
        ),
    );
    out.push(
        Entry::new("blob container", &l.container, Some(l.container_id.clone())).judged(
            &o.container,
            &format!("create the deployment container {}", l.container),
        ),
    );
    out.push(Entry::new("plan", &l.plan, Some(l.plan_id.clone())).judged(
        &o.plan,
        &format!("create the Flex Consumption plan {}", l.plan),
    ));
    let mut site = Entry::new("function app", &l.app, Some(l.site_id.clone()))
        .judged(&o.site, &format!("create the function app {}", l.app));
    let site_principal = o
        .site
        .found()
        .and_then(|s| str_at(s, "/identity/principalId"))
        .map(str::to_string);
    // The host APIM's backend must point at: `hostNameSslStates` (Standard), as `api import`
    // takes it, falling back to `defaultHostName`.
    let default_host = o
        .site
        .found()
        .and_then(|s| serde_json::from_value::<crate::models::Site>(s.clone()).ok())
        .and_then(|s| s.app_host().map(str::to_string));
    if let Some(s) = o.site.found() {
        let mut d = Vec::new();
        if let Some(st) = str_at(s, "/properties/state") {
            d.push(st.to_string());
        }
        if let Some(h) = &default_host {
            d.push(h.clone());
        }
        site.detail = Some(d.join(", "));
        if site_principal.is_none() {
            site = site.incomplete(
                vec!["no system-assigned identity".into()],
                &format!("turn on the system-assigned identity of {}", l.app),
            );
        }
    }
    out.push(site);

    let mut role = Entry::new(
        "role assignment",
        "Storage Blob Data Owner",
        Some(format!(
            "{}/providers/Microsoft.Authorization/roleAssignments",
            l.storage_id
        )),
    );
    let role_todo = format!(
        "assign Storage Blob Data Owner on {} to the function app's identity",
        l.storage
    );
    role = match &o.role_assignments {
        Seen::Found(list) => {
            let held = list.as_array().into_iter().flatten().find(|a| {
                str_at(a, "/properties/roleDefinitionId").is_some_and(|r| {
                    r.to_ascii_lowercase()
                        .ends_with(&format!("/{STORAGE_BLOB_DATA_OWNER}"))
                })
            });
            match held {
                Some(a) => {
                    role.exists = true;
                    role.state = State::Ok;
                    role.id = str_at(a, "/id").map(str::to_string).or(role.id);
                    role.detail = site_principal.as_ref().map(|p| format!("for {p}"));
                    role
                }
                None => role.todo(role_todo),
            }
        }
        other => role.judged(other, &role_todo),
    };
    out.push(role);

    let mut functions = Entry::new("functions", "HttpExample", None);
    let function_names: Vec<String> = match &o.functions {
        Seen::Found(list) => list
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| str_at(f, "/name"))
            .map(|n| n.rsplit('/').next().unwrap_or(n).to_string())
            .collect(),
        _ => Vec::new(),
    };
    functions = match &o.functions {
        Seen::Found(_) if function_names.is_empty() => {
            functions.todo("deploy the function code (`apimfn function deploy`)")
        }
        Seen::Found(_) => {
            functions.exists = true;
            functions.state = State::Ok;
            functions.detail = Some(function_names.join(", "));
            if !function_names
                .iter()
                .any(|n| n.eq_ignore_ascii_case("HttpExample"))
            {
                functions = functions.incomplete(
                    vec!["HttpExample is not among the deployed functions".into()],
                    "deploy the bundled function (`apimfn function deploy`)",
                );
            }
            functions
        }
        other => functions.judged(other, "deploy the function code (`apimfn function deploy`)"),
    };
    out.push(functions);

    let host_key = l.host_key();
    let mut key = Entry::new("host key", &host_key, None);
    let key_todo = format!("create the host key {host_key} in {}", l.app);
    key = match &o.host_keys {
        Seen::Found(names) => {
            let present = strings(Some(names)).iter().any(|n| n == &host_key);
            if present {
                key.exists = true;
                key.state = State::Ok;
                key
            } else {
                key.todo(key_todo)
            }
        }
        other => key.judged(other, &key_todo),
    };
    out.push(key);

    // What `api import` puts in APIM.
    let nv = l.named_value();
    let mut named = Entry::new(
        "named value",
        &nv,
        Some(format!("{}/namedValues/{nv}", l.apim_id)),
    )
    .judged(
        &o.named_value,
        &format!("create the secret named value {nv}"),
    );
    if let Some(v) = o.named_value.found()
        && v.pointer("/properties/secret") != Some(&json!(true))
    {
        named = named.incomplete(
            vec!["not marked secret".into()],
            &format!("make the named value {nv} secret"),
        );
    }
    out.push(named);

    let mut backend = Entry::new(
        "backend",
        &l.app,
        Some(format!("{}/backends/{}", l.apim_id, l.app)),
    )
    .judged(&o.backend, &format!("create the backend {}", l.app));
    if let Some(b) = o.backend.found() {
        let mut problems = Vec::new();
        let url = str_at(b, "/properties/url").unwrap_or("");
        if let Some(h) = &default_host {
            let want = format!("https://{h}/api");
            if !url.eq_ignore_ascii_case(&want) {
                problems.push(format!("url is {url:?}, not {want}"));
            }
        }
        let header = b
            .pointer("/properties/credentials/header")
            .and_then(Value::as_object)
            .and_then(|h| {
                h.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("x-functions-key"))
            })
            .map(|(_, v)| strings(Some(v)))
            .unwrap_or_default();
        if !header.iter().any(|v| v == &format!("{{{{{nv}}}}}")) {
            problems.push(format!("no x-functions-key header with {{{{{nv}}}}}"));
        }
        backend.detail = Some(url.to_string());
        backend = backend.incomplete(problems, &format!("update the backend {}", l.app));
    }
    out.push(backend);

    let mut api = Entry::new("API", &l.app, Some(l.api_id.clone()))
        .judged(&o.api, &format!("create the API {}", l.app));
    if let Some(a) = o.api.found() {
        api.detail = str_at(a, "/properties/path").map(|p| format!("path /{p}"));
    }
    out.push(api);

    let mut ops = Entry::new(
        "operations",
        &l.app,
        Some(format!("{}/operations", l.api_id)),
    );
    let op_todo = "create one operation per function and method (`apimfn api import`)";
    ops = match &o.operations {
        Seen::Found(list) => {
            let ids: Vec<String> = list
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|op| str_at(op, "/name"))
                .map(str::to_string)
                .collect();
            if ids.is_empty() {
                ops.todo(op_todo)
            } else {
                ops.exists = true;
                ops.state = State::Ok;
                ops.detail = Some(ids.join(", "));
                let uncovered: Vec<String> = function_names
                    .iter()
                    .filter(|f| {
                        let suffix = format!("-{}", f.to_ascii_lowercase());
                        !ids.iter()
                            .any(|i| i.to_ascii_lowercase().ends_with(&suffix))
                    })
                    .map(|f| format!("no operation for {f}"))
                    .collect();
                ops.incomplete(uncovered, op_todo)
            }
        }
        other => ops.judged(other, op_todo),
    };
    out.push(ops);

    // The audience, needed by the policy and Easy Auth judgements: the app registration apimfn
    // created (by its tag; of several, the oldest, as `auth configure` picks), else the client id
    // Easy Auth names (an app registration given with `--client-id`).
    let auth_client = o
        .auth
        .found()
        .and_then(|a| {
            str_at(
                a,
                "/properties/identityProviders/azureActiveDirectory/registration/clientId",
            )
        })
        .filter(|c| !c.is_empty());
    let tagged: Vec<Value> = match &o.app_registrations {
        Seen::Found(list) => list.as_array().cloned().unwrap_or_default(),
        _ => Vec::new(),
    };
    let chosen = auth::pick_registration(&tagged);
    let app_id = chosen.and_then(|a| str_at(a, "/appId")).map(str::to_string);
    let want_client = app_id.as_deref().or(auth_client);

    let mut policy = Entry::new(
        "API policy",
        &l.app,
        Some(format!("{}/policies/policy", l.api_id)),
    )
    .judged(
        &o.policy,
        "set the API policy (`apimfn api import`, then `apimfn auth configure`)",
    );
    let mut mi_resource = None;
    if let Some(p) = o.policy.found() {
        let xml = str_at(p, "/properties/value").unwrap_or("");
        mi_resource = policy_elements(xml)
            .into_iter()
            .find(|(n, _)| n == "authentication-managed-identity")
            .map(|(_, a)| a.get("resource").cloned().unwrap_or_default());
        policy.detail = Some(match &mi_resource {
            Some(r) => format!("authentication-managed-identity → {r}"),
            None => "no authentication-managed-identity".into(),
        });
        let (problems, todo) = policy_problems(xml, &l.app, want_client);
        policy = policy.incomplete(problems, todo);
    }
    out.push(policy);

    let mut reg = Entry::new("app registration", &l.app, None);
    let reg_todo =
        "create the Entra app registration and its service principal (`apimfn auth configure`)";
    reg = match (&o.app_registrations, chosen) {
        (Seen::Found(_), Some(app)) => {
            reg.exists = true;
            reg.state = State::Ok;
            reg.id = str_at(app, "/id").map(|i| format!("/v1.0/applications/{i}"));
            reg.detail = app_id.as_ref().map(|a| format!("appId {a}"));
            let mut problems = Vec::new();
            if tagged.len() > 1 {
                problems.push(format!(
                    "{} app registrations carry the tag; setup uses the oldest",
                    tagged.len()
                ));
            }
            if o.service_principal == Seen::Missing {
                problems.push("no service principal".into());
            }
            reg.incomplete(
                problems,
                "create the app registration's service principal (`apimfn auth configure`)",
            )
        }
        (Seen::Found(_), None) => match auth_client {
            Some(c) => {
                reg.exists = true;
                reg.state = State::Ok;
                reg.detail = Some(format!(
                    "none created by apimfn; Easy Auth uses {c} (given with --client-id)"
                ));
                reg
            }
            None => {
                reg.detail = Some(format!("none tagged {}", l.tag));
                reg.todo(reg_todo)
            }
        },
        (other, _) => reg.judged(other, reg_todo),
    };
    out.push(reg);

    // Easy Auth.
    let mut easy = Entry::new(
        "Easy Auth",
        &l.app,
        Some(format!("{}/config/authsettingsV2", l.site_id)),
    )
    .judged(&o.auth, "configure Easy Auth (`apimfn auth configure`)");
    if let Some(a) = o.auth.found() {
        let p = a.get("properties").cloned().unwrap_or(Value::Null);
        if p.pointer("/platform/enabled") != Some(&json!(true)) {
            easy.exists = false;
            easy.state = State::Missing;
            easy.detail = Some("off".into());
            easy.todo
                .push("configure Easy Auth (`apimfn auth configure`)".into());
        } else {
            let mut problems = match (want_client, tenant.as_deref(), apim_principal.as_deref()) {
                // Everything known: exactly the fields `auth configure` would write.
                (Some(c), Some(t), Some(pid)) => {
                    differences(&auth::auth_settings_owned(c, t, pid), a)
                        .iter()
                        .map(|f| f.describe())
                        .collect()
                }
                _ => easy_auth_problems(
                    &p,
                    want_client,
                    tenant.as_deref(),
                    apim_principal.as_deref(),
                ),
            };
            if let Some(r) = mi_resource.as_deref()
                && !accepts_audience(&p, r)
            {
                problems.push(format!(
                    "the policy's token audience {r} is not among the accepted audiences"
                ));
            }
            easy.detail = Some("on".into());
            easy = easy.incomplete(problems, "configure Easy Auth (`apimfn auth configure`)");
        }
    }
    out.push(easy);

    // Children of a service that is not active cannot be read yet.
    if !apim_ready && o.apim.found().is_some() {
        for e in out.iter_mut().filter(|e| {
            matches!(
                e.kind,
                "named value" | "backend" | "API" | "operations" | "API policy"
            )
        }) {
            if e.state == State::Unknown {
                e.detail = Some("readable once the APIM service is active".into());
            }
        }
    }
    out
}

/// How the Easy Auth settings differ from what `auth configure` sets (arm-reference §7).
pub fn easy_auth_problems(
    p: &Value,
    client_id: Option<&str>,
    tenant: Option<&str>,
    apim_principal: Option<&str>,
) -> Vec<String> {
    let mut problems = Vec::new();
    if p.pointer("/globalValidation/requireAuthentication") != Some(&json!(true)) {
        problems.push("requireAuthentication is not true".to_string());
    }
    let action = p
        .pointer("/globalValidation/unauthenticatedClientAction")
        .and_then(Value::as_str)
        .unwrap_or("RedirectToLoginPage");
    if action != "Return401" {
        problems.push(format!(
            "unauthenticatedClientAction is {action}, not Return401"
        ));
    }
    let aad = p.pointer("/identityProviders/azureActiveDirectory");
    let Some(aad) = aad.filter(|a| a.get("enabled") != Some(&json!(false))) else {
        problems.push("no enabled Microsoft Entra provider".into());
        return problems;
    };
    let have_client = str_at(aad, "/registration/clientId").unwrap_or("");
    if let Some(c) = client_id
        && !have_client.eq_ignore_ascii_case(c)
    {
        problems.push(format!("clientId is {have_client:?}, not {c}"));
    }
    if let Some(t) = tenant {
        let want = format!("https://sts.windows.net/{t}/");
        let have = str_at(aad, "/registration/openIdIssuer").unwrap_or("");
        if have != want {
            problems.push(format!("openIdIssuer is {have:?}, not {want}"));
        }
    }
    let audiences = strings(aad.pointer("/validation/allowedAudiences"));
    if let Some(c) = client_id {
        let want = format!("api://{c}");
        if !audiences.iter().any(|a| a.eq_ignore_ascii_case(&want)) {
            problems.push(format!("allowedAudiences lacks {want}"));
        }
    }
    let identities =
        strings(aad.pointer("/validation/defaultAuthorizationPolicy/allowedPrincipals/identities"));
    match apim_principal {
        Some(pid) if !identities.iter().any(|i| i.eq_ignore_ascii_case(pid)) => {
            problems.push(format!(
                "allowedPrincipals.identities lacks APIM's identity {pid}"
            ));
        }
        _ if identities.is_empty() => {
            problems.push(
                "allowedPrincipals.identities is empty: any caller with a token gets in".into(),
            );
        }
        _ => {}
    }
    problems
}

/// Whether Easy Auth accepts tokens for `resource` (`allowedAudiences` or the client id).
fn accepts_audience(p: &Value, resource: &str) -> bool {
    let aad = p.pointer("/identityProviders/azureActiveDirectory");
    let client = aad
        .and_then(|a| str_at(a, "/registration/clientId"))
        .unwrap_or("");
    let audiences = strings(aad.and_then(|a| a.pointer("/validation/allowedAudiences")));
    client.eq_ignore_ascii_case(resource)
        || audiences.iter().any(|a| a.eq_ignore_ascii_case(resource))
}

/// What `api import` and `auth configure` would still change in the API policy (judged by the
/// same `policy::decide` they use), and the command that does it.
pub fn policy_problems(
    xml: &str,
    app: &str,
    client_id: Option<&str>,
) -> (Vec<String>, &'static str) {
    let mut wanted = vec![policy::Owned::backend(app)];
    if let Some(c) = client_id {
        wanted.push(policy::Owned::managed_identity(&auth::audience(c)));
    }
    let import = "add <set-backend-service> to the API policy (`apimfn api import`)";
    let configure =
        "add <authentication-managed-identity> to the API policy (`apimfn auth configure`)";
    let mut problems: Vec<String> = match policy::decide(Some(xml), &wanted) {
        Ok(policy::PolicyDecision::Nothing) => Vec::new(),
        Ok(policy::PolicyDecision::Update { fields, .. }) => {
            fields.iter().map(|f| f.describe()).collect()
        }
        Ok(policy::PolicyDecision::Create { .. }) => vec!["the policy is empty".into()],
        Err(e) => vec![format!("the policy cannot be read: {e}")],
    };
    let elements = policy_elements(xml);
    let has_backend = elements.iter().any(|(n, a)| {
        n == "set-backend-service"
            && a.get("backend-id")
                .is_some_and(|b| b.eq_ignore_ascii_case(app))
    });
    let has_mi = elements
        .iter()
        .any(|(n, _)| n == "authentication-managed-identity");
    // Without a known audience `decide` cannot ask for the identity element: say it is missing.
    if client_id.is_none() && !has_mi {
        problems.push("no <authentication-managed-identity>".into());
    }
    (problems, if has_backend { configure } else { import })
}

/// How many resources could not be read: while any is unknown, the status is not complete.
pub fn unknown(entries: &[Entry]) -> usize {
    entries.iter().filter(|e| e.state == State::Unknown).count()
}

/// What `setup` would still do, in order.
pub fn todo(entries: &[Entry]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in entries.iter().flat_map(|e| e.todo.iter()) {
        if !out.contains(t) {
            out.push(t.clone());
        }
    }
    out
}

/// The app registrations carrying apimfn's tag for this function app (Graph). Shared with
/// `destroy`, which deletes exactly these and nothing else.
pub async fn tagged_app_registrations(ctx: &Ctx) -> Result<Vec<Value>, ArmError> {
    let tag = ctx.names.app_registration_tag().replace('\'', "''");
    ctx.graph()
        .list(
            &format!("/v1.0/applications?$filter=tags/any(t:t eq '{tag}')"),
            "",
        )
        .await
}

/// Read everything. Only GETs and `listkeys`.
pub async fn observe(ctx: &Ctx, l: &Labels) -> Observed {
    let arm = ctx.arm();
    let mut o = Observed {
        group: Seen::from_result(arm.get(&l.group_id, RESOURCES).await),
        ..Observed::default()
    };
    // Graph is independent of the group: an app registration can outlive it.
    o.app_registrations = match tagged_app_registrations(ctx).await {
        Ok(list) => Seen::Found(Value::Array(list)),
        Err(e) => Seen::Unknown(format!("cannot read app registrations through Graph: {e}")),
    };
    if let Some(app_id) = o
        .app_registrations
        .found()
        .and_then(|l| l.get(0))
        .and_then(|a| str_at(a, "/appId"))
    {
        let path = format!(
            "/v1.0/servicePrincipals?$filter=appId eq '{}'",
            app_id.replace('\'', "''")
        );
        o.service_principal = match ctx.graph().list(&path, "").await {
            Ok(list) if list.is_empty() => Seen::Missing,
            Ok(list) => Seen::Found(Value::Array(list)),
            Err(e) => Seen::Unknown(e.to_string()),
        };
    }
    match &o.group {
        Seen::Found(_) => {}
        Seen::Missing => {
            // Nothing can exist in a group that does not; the soft-deleted APIM can.
            o.apim_soft_deleted = soft_deleted(ctx, &l.apim, &l.apim_id).await;
            return o;
        }
        Seen::Unknown(why) => {
            let why = Seen::Unknown(format!("the resource group could not be read: {why}"));
            for s in [
                &mut o.apim,
                &mut o.storage,
                &mut o.container,
                &mut o.plan,
                &mut o.site,
                &mut o.role_assignments,
                &mut o.functions,
                &mut o.host_keys,
                &mut o.named_value,
                &mut o.backend,
                &mut o.api,
                &mut o.operations,
                &mut o.policy,
                &mut o.auth,
            ] {
                *s = why.clone();
            }
            return o;
        }
    }

    o.apim = Seen::from_result(arm.get(&l.apim_id, APIM).await);
    if o.apim == Seen::Missing {
        o.apim_soft_deleted = soft_deleted(ctx, &l.apim, &l.apim_id).await;
    }
    o.storage = Seen::from_result(arm.get(&l.storage_id, STORAGE).await);
    o.container = match o.storage {
        Seen::Found(_) => Seen::from_result(arm.get(&l.container_id, STORAGE).await),
        ref other => other.clone(),
    };
    o.plan = Seen::from_result(arm.get(&l.plan_id, WEB).await);
    o.site = Seen::from_result(arm.get(&l.site_id, WEB).await);

    let principal = o
        .site
        .found()
        .and_then(|s| str_at(s, "/identity/principalId"))
        .map(str::to_string);
    o.role_assignments = match (&o.storage, &principal) {
        (Seen::Found(_), Some(p)) => {
            let path = format!(
                "{}/providers/Microsoft.Authorization/roleAssignments?$filter=principalId eq '{p}'",
                l.storage_id
            );
            match arm.list(&path, AUTHORIZATION).await {
                Ok(list) => Seen::Found(Value::Array(list)),
                Err(e) => Seen::Unknown(e.to_string()),
            }
        }
        (Seen::Unknown(w), _) => Seen::Unknown(w.clone()),
        _ => Seen::Missing,
    };

    if let Seen::Found(_) = o.site {
        o.functions = match arm.list(&format!("{}/functions", l.site_id), WEB).await {
            Ok(list) => Seen::Found(Value::Array(list)),
            Err(e) if e.is_not_found() => Seen::Found(json!([])),
            Err(e) => Seen::Unknown(e.to_string()),
        };
        o.host_keys = match arm
            .post(&format!("{}/host/default/listkeys", l.site_id), WEB, None)
            .await
        {
            Ok(v) => Seen::Found(key_names(&v.unwrap_or(Value::Null))),
            Err(e) if e.is_not_found() => Seen::Missing,
            Err(e) => Seen::Unknown(e.to_string()),
        };
        o.auth = Seen::from_result(
            arm.get(&format!("{}/config/authsettingsV2", l.site_id), WEB)
                .await,
        );
    } else {
        let inherited = match &o.site {
            Seen::Unknown(w) => Seen::Unknown(w.clone()),
            _ => Seen::Missing,
        };
        o.functions = inherited.clone();
        o.host_keys = inherited.clone();
        o.auth = inherited;
    }

    let apim_active = o.apim.found().is_some_and(|s| {
        provisioning_state(s).is_none_or(|p| classify_status(p) == Phase::Succeeded)
            || provisioning_state(s) == Some("Updating")
    });
    if !apim_active {
        let inherited = match &o.apim {
            Seen::Found(_) => Seen::Unknown("the APIM service is not active yet".into()),
            Seen::Unknown(w) => Seen::Unknown(w.clone()),
            Seen::Missing => Seen::Missing,
        };
        for s in [
            &mut o.named_value,
            &mut o.backend,
            &mut o.api,
            &mut o.operations,
            &mut o.policy,
        ] {
            *s = inherited.clone();
        }
        return o;
    }
    let svc = &l.apim_id;
    o.named_value = Seen::from_result(
        arm.get(&format!("{svc}/namedValues/{}", l.named_value()), APIM)
            .await,
    );
    o.backend = Seen::from_result(arm.get(&format!("{svc}/backends/{}", l.app), APIM).await);
    o.api = Seen::from_result(arm.get(&l.api_id, APIM).await);
    if let Seen::Found(_) = o.api {
        o.operations = match arm.list(&format!("{}/operations", l.api_id), APIM).await {
            Ok(list) => Seen::Found(Value::Array(list)),
            Err(e) => Seen::Unknown(e.to_string()),
        };
        o.policy = Seen::from_result(
            arm.get(&format!("{}/policies/policy?format=rawxml", l.api_id), APIM)
                .await,
        );
    } else {
        o.operations = o.api.clone();
        o.policy = o.api.clone();
    }
    o
}

/// The names of the host's function keys; every value is registered as a secret and dropped.
fn key_names(keys: &Value) -> Value {
    let mut names = Vec::new();
    if let Some(m) = str_at(keys, "/masterKey") {
        register_secret(m);
    }
    for section in ["functionKeys", "systemKeys"] {
        if let Some(map) = keys.get(section).and_then(Value::as_object) {
            for (k, v) in map {
                if let Some(s) = v.as_str() {
                    register_secret(s);
                }
                if section == "functionKeys" {
                    names.push(json!(k));
                }
            }
        }
    }
    Value::Array(names)
}

/// The soft-deleted APIM service with this name that was ours (its `serviceId` is our id).
async fn soft_deleted(ctx: &Ctx, name: &str, id: &str) -> Seen {
    match find_soft_deleted(ctx, name, id).await {
        Ok(Some(v)) => Seen::Found(v),
        Ok(None) => Seen::Missing,
        Err(e) => Seen::Unknown(e.to_string()),
    }
}

/// The subscription's soft-deleted APIM services, filtered to the one that was `id` (the same
/// name in another group of the subscription is someone else's). Shared with `destroy`.
pub async fn find_soft_deleted(ctx: &Ctx, name: &str, id: &str) -> Result<Option<Value>, ArmError> {
    let list = ctx
        .arm()
        .list(
            &format!(
                "{}/providers/Microsoft.ApiManagement/deletedservices",
                ctx.names.subscription_id()
            ),
            APIM,
        )
        .await?;
    Ok(list.into_iter().find(|d| {
        let named = str_at(d, "/name").is_some_and(|n| n.eq_ignore_ascii_case(name));
        let ours = str_at(d, "/properties/serviceId").is_none_or(|s| s.eq_ignore_ascii_case(id));
        named && ours
    }))
}

/// The status as text: one line per resource, then what setup would still do.
pub fn text(entries: &[Entry]) -> String {
    let mut lines = vec![format!(
        "{:<17} {:<28} {:<11} {}",
        "RESOURCE", "NAME", "STATE", "DETAIL"
    )];
    for e in entries {
        let state = match (&e.provisioning_state, e.state) {
            (Some(p), State::Pending | State::Failed) => format!("{} ({p})", e.state.as_str()),
            _ => e.state.as_str().to_string(),
        };
        // Azure's messages can span lines; the table keeps one row per resource.
        let detail = e
            .detail
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        lines.push(
            format!("{:<17} {:<28} {:<11} {detail}", e.kind, e.name, state)
                .trim_end()
                .to_string(),
        );
    }
    let todo = todo(entries);
    let unknown = unknown(entries);
    if todo.is_empty() && unknown > 0 {
        lines.push(String::new());
        lines.push(format!(
            "{unknown} resource(s) could not be read (see DETAIL): what setup would do there is unknown"
        ));
    } else if todo.is_empty() {
        lines.push(String::new());
        lines.push("setup has nothing left to do".into());
    } else {
        lines.push(String::new());
        lines.push("setup would still:".into());
        for t in todo {
            lines.push(format!("  - {t}"));
        }
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TID: &str = "tid-0000";
    const APIM_OID: &str = "apim-oid-1";
    const SITE_OID: &str = "site-oid-1";
    const APP_ID: &str = "app-id-1";

    fn labels() -> Labels {
        Labels {
            resource_group: "rg".into(),
            group_id: "/subscriptions/s/resourceGroups/rg".into(),
            apim: "a".into(),
            apim_id: "/s/a".into(),
            storage: "st".into(),
            storage_id: "/s/st".into(),
            container: "c".into(),
            container_id: "/s/st/c".into(),
            plan: "p".into(),
            plan_id: "/s/p".into(),
            app: "fn".into(),
            site_id: "/s/fn".into(),
            api_id: "/s/a/apis/fn".into(),
            tag: "apimfn:s/rg/fn".into(),
        }
    }

    fn found(v: Value) -> Seen {
        Seen::Found(v)
    }

    /// Everything as `setup` leaves it.
    fn complete() -> Observed {
        let policy = format!(
            "<policies><inbound><base /><set-backend-service id=\"apim-generated-policy\" backend-id=\"fn\" /><authentication-managed-identity resource=\"api://{APP_ID}\" /></inbound></policies>"
        );
        Observed {
            group: found(json!({"properties": {"provisioningState": "Succeeded"}})),
            apim: found(json!({
                "identity": {"principalId": APIM_OID, "tenantId": TID},
                "properties": {"provisioningState": "Succeeded", "gatewayUrl": "https://a.azure-api.net"}
            })),
            apim_soft_deleted: Seen::Missing,
            storage: found(json!({"properties": {"provisioningState": "Succeeded"}})),
            container: found(json!({})),
            plan: found(json!({"properties": {"provisioningState": "Succeeded"}})),
            site: found(json!({
                "identity": {"principalId": SITE_OID},
                "properties": {"state": "Running", "defaultHostName": "fn.azurewebsites.net"}
            })),
            role_assignments: found(json!([{
                "id": "/s/st/providers/Microsoft.Authorization/roleAssignments/r1",
                "properties": {"roleDefinitionId": format!("/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/{STORAGE_BLOB_DATA_OWNER}"), "principalId": SITE_OID}
            }])),
            functions: found(json!([{"name": "fn/HttpExample"}])),
            host_keys: found(json!(["default", "apim-a"])),
            named_value: found(json!({"properties": {"secret": true}})),
            backend: found(json!({"properties": {
                "url": "https://fn.azurewebsites.net/api",
                "credentials": {"header": {"x-functions-key": ["{{fn-key}}"]}}
            }})),
            api: found(json!({"properties": {"path": "fn"}})),
            operations: found(json!([{"name": "get-httpexample"}, {"name": "post-httpexample"}])),
            policy: found(json!({"properties": {"value": policy}})),
            app_registrations: found(json!([{"id": "obj-1", "appId": APP_ID}])),
            service_principal: found(json!([{"appId": APP_ID}])),
            auth: found(json!({"properties": {
                "platform": {"enabled": true},
                "globalValidation": {"requireAuthentication": true, "unauthenticatedClientAction": "Return401"},
                "identityProviders": {"azureActiveDirectory": {
                    "enabled": true,
                    "registration": {"clientId": APP_ID, "openIdIssuer": format!("https://sts.windows.net/{TID}/")},
                    "validation": {
                        "allowedAudiences": [format!("api://{APP_ID}"), APP_ID],
                        "defaultAuthorizationPolicy": {"allowedPrincipals": {"identities": [APIM_OID]}}
                    }
                }}
            }})),
        }
    }

    fn state_of(entries: &[Entry], kind: &str) -> State {
        entries
            .iter()
            .find(|e| e.kind == kind)
            .unwrap_or_else(|| panic!("no {kind}"))
            .state
    }

    #[test]
    fn a_complete_setup_is_all_ok_with_nothing_left() {
        let entries = summarize(&complete(), &labels());
        for e in &entries {
            assert_eq!(e.state, State::Ok, "{e:?}");
            assert!(e.exists, "{e:?}");
        }
        assert!(todo(&entries).is_empty(), "{:?}", todo(&entries));
        assert_eq!(entries.len(), 16);
        assert!(text(&entries).contains("setup has nothing left to do"));
    }

    #[test]
    fn what_could_not_be_read_is_never_called_complete() {
        // A failed sign-in: every read answered with an error (multi-line, as Azure's can be).
        let o = Observed {
            site: Seen::Unknown("AADSTS7000215: Invalid client secret.\nTrace ID: x".into()),
            ..complete()
        };
        let entries = summarize(&o, &labels());
        assert_eq!(unknown(&entries), 1);
        let t = text(&entries);
        assert!(!t.contains("nothing left to do"), "{t}");
        assert!(t.contains("1 resource(s) could not be read"), "{t}");
        assert!(
            t.lines()
                .any(|l| l.contains("Invalid client secret. Trace ID: x")),
            "one row per resource: {t}"
        );
    }

    #[test]
    fn nothing_at_all_is_all_missing_and_setup_would_do_everything() {
        let o = Observed {
            app_registrations: found(json!([])),
            ..Observed::default()
        };
        let entries = summarize(&o, &labels());
        for e in &entries {
            assert_eq!(e.state, State::Missing, "{e:?}");
            assert!(!e.exists);
        }
        let t = todo(&entries);
        assert_eq!(t[0], "create the resource group rg");
        assert!(t.iter().any(|x| x.contains("create the APIM service a")));
        assert!(t.iter().any(|x| x.contains("function deploy")));
        assert!(t.iter().any(|x| x.contains("Easy Auth")));
        // One line per thing to do, no duplicates.
        let mut dedup = t.clone();
        dedup.dedup();
        assert_eq!(dedup, t);
    }

    #[test]
    fn an_activating_apim_is_pending_and_its_children_unknown() {
        let mut o = complete();
        o.apim = found(json!({
            "identity": {"principalId": APIM_OID, "tenantId": TID},
            "properties": {"provisioningState": "Activating"}
        }));
        for s in [
            &mut o.named_value,
            &mut o.backend,
            &mut o.api,
            &mut o.operations,
            &mut o.policy,
        ] {
            *s = Seen::Unknown("the APIM service is not active yet".into());
        }
        let entries = summarize(&o, &labels());
        assert_eq!(state_of(&entries, "APIM service"), State::Pending);
        assert_eq!(state_of(&entries, "API"), State::Unknown);
        assert!(
            todo(&entries)
                .iter()
                .any(|t| t.contains("wait for the APIM"))
        );
        assert!(text(&entries).contains("pending (Activating)"));
    }

    #[test]
    fn a_soft_deleted_apim_says_how_to_get_the_name_back() {
        let o = Observed {
            apim_soft_deleted: found(
                json!({"name": "a", "properties": {"deletionDate": "2025-01-01T00:00:00Z"}}),
            ),
            app_registrations: found(json!([])),
            ..Observed::default()
        };
        let entries = summarize(&o, &labels());
        let t = todo(&entries);
        assert!(t.iter().any(|x| x.contains("--recover")), "{t:?}");
        assert!(!t.iter().any(|x| x.starts_with("create the APIM")), "{t:?}");
    }

    #[test]
    fn a_policy_without_the_managed_identity_is_incomplete_and_easy_auth_off_is_missing() {
        let mut o = complete();
        o.policy = found(
            json!({"properties": {"value": "<policies><inbound><base /><set-backend-service backend-id=\"fn\" /></inbound></policies>"}}),
        );
        o.auth = found(json!({"properties": {"platform": {"enabled": false}}}));
        let entries = summarize(&o, &labels());
        assert_eq!(state_of(&entries, "API policy"), State::Incomplete);
        assert_eq!(state_of(&entries, "Easy Auth"), State::Missing);
        let t = todo(&entries);
        assert!(
            t.iter()
                .any(|x| x.contains("<authentication-managed-identity>")),
            "{t:?}"
        );
        assert!(t.iter().any(|x| x.contains("configure Easy Auth")), "{t:?}");
    }

    #[test]
    fn easy_auth_differences_are_listed() {
        let mut o = complete();
        o.auth = found(json!({"properties": {
            "platform": {"enabled": true},
            "globalValidation": {"requireAuthentication": true, "unauthenticatedClientAction": "RedirectToLoginPage"},
            "identityProviders": {"azureActiveDirectory": {
                "enabled": true,
                "registration": {"clientId": APP_ID, "openIdIssuer": format!("https://login.microsoftonline.com/{TID}/v2.0")},
                "validation": {"allowedAudiences": [APP_ID], "defaultAuthorizationPolicy": {"allowedPrincipals": {"identities": ["other"]}}}
            }}
        }}));
        let entries = summarize(&o, &labels());
        let e = entries
            .iter()
            .find(|e| e.kind == "Easy Auth")
            .expect("entry");
        assert_eq!(e.state, State::Incomplete);
        let d = e.detail.as_deref().unwrap_or("");
        for want in [
            "RedirectToLoginPage",
            "openIdIssuer",
            "allowedAudiences",
            APIM_OID,
            "the policy's token audience api://app-id-1",
        ] {
            assert!(d.contains(want), "{want} missing in {d}");
        }

        // Without APIM's identity known (e.g. the service is gone), the checks that need no
        // identity still run.
        o.apim = Seen::Missing;
        let entries = summarize(&o, &labels());
        let e = entries
            .iter()
            .find(|e| e.kind == "Easy Auth")
            .expect("entry");
        assert_eq!(e.state, State::Incomplete);
        let d = e.detail.as_deref().unwrap_or("");
        assert!(d.contains("RedirectToLoginPage"), "{d}");
        assert!(d.contains("allowedAudiences lacks api://app-id-1"), "{d}");
    }

    #[test]
    fn the_policy_is_judged_like_auth_configure_judges_it() {
        let xml = |mi: &str| {
            format!(
                "<policies><inbound><base /><set-backend-service id=\"apim-generated-policy\" backend-id=\"fn\" />{mi}</inbound></policies>"
            )
        };
        let ok = xml(&format!(
            "<authentication-managed-identity resource=\"api://{APP_ID}\" />"
        ));
        assert!(policy_problems(&ok, "fn", Some(APP_ID)).0.is_empty());
        // Another audience than the registration's: auth configure would rewrite it.
        let other = xml("<authentication-managed-identity resource=\"api://other\" />");
        let (p, todo) = policy_problems(&other, "fn", Some(APP_ID));
        assert!(!p.is_empty());
        assert!(todo.contains("auth configure"), "{todo}");
        // No audience known and no element: still reported.
        let (p, _) = policy_problems(&xml(""), "fn", None);
        assert_eq!(p, ["no <authentication-managed-identity>"]);
        // No backend element: the import is what is missing.
        let (p, todo) = policy_problems(
            "<policies><inbound><base /></inbound></policies>",
            "fn",
            None,
        );
        assert!(!p.is_empty());
        assert!(todo.contains("api import"), "{todo}");
    }

    #[test]
    fn missing_pieces_of_the_import_are_named() {
        let mut o = complete();
        o.host_keys = found(json!(["default"]));
        o.role_assignments = found(json!([]));
        o.backend = found(json!({"properties": {"url": "https://elsewhere/api"}}));
        o.operations = found(json!([{"name": "get-other"}]));
        o.service_principal = Seen::Missing;
        let entries = summarize(&o, &labels());
        assert_eq!(state_of(&entries, "host key"), State::Missing);
        assert_eq!(state_of(&entries, "role assignment"), State::Missing);
        assert_eq!(state_of(&entries, "backend"), State::Incomplete);
        assert_eq!(state_of(&entries, "operations"), State::Incomplete);
        assert_eq!(state_of(&entries, "app registration"), State::Incomplete);
        let t = todo(&entries);
        assert!(t.iter().any(|x| x.contains("host key apim-a")), "{t:?}");
        assert!(
            t.iter().any(|x| x.contains("Storage Blob Data Owner")),
            "{t:?}"
        );
    }

    #[test]
    fn an_app_given_with_client_id_counts_as_the_audience() {
        let mut o = complete();
        o.app_registrations = found(json!([]));
        o.service_principal = Seen::Missing;
        let entries = summarize(&o, &labels());
        let e = entries
            .iter()
            .find(|e| e.kind == "app registration")
            .expect("entry");
        assert_eq!(e.state, State::Ok);
        assert!(e.detail.as_deref().unwrap_or("").contains("--client-id"));
        assert_eq!(state_of(&entries, "Easy Auth"), State::Ok);
    }

    #[test]
    fn of_two_tagged_registrations_the_oldest_is_the_audience() {
        let mut o = complete();
        o.app_registrations = found(json!([
            {"id": "obj-2", "appId": "newer", "createdDateTime": "2025-02-01T00:00:00Z"},
            {"id": "obj-1", "appId": APP_ID, "createdDateTime": "2025-01-01T00:00:00Z"}
        ]));
        let entries = summarize(&o, &labels());
        let e = entries
            .iter()
            .find(|e| e.kind == "app registration")
            .expect("entry");
        assert_eq!(e.state, State::Incomplete);
        assert_eq!(e.id.as_deref(), Some("/v1.0/applications/obj-1"));
        assert!(e.detail.as_deref().unwrap_or("").contains("oldest"));
        // Easy Auth names the oldest one's appId: no complaint there.
        assert_eq!(state_of(&entries, "Easy Auth"), State::Ok);
    }

    #[test]
    fn unreadable_things_are_unknown_with_the_reason() {
        let mut o = complete();
        o.app_registrations = Seen::Unknown("Graph said 403".into());
        let entries = summarize(&o, &labels());
        let e = entries
            .iter()
            .find(|e| e.kind == "app registration")
            .expect("entry");
        assert_eq!(e.state, State::Unknown);
        assert_eq!(e.detail.as_deref(), Some("Graph said 403"));
    }

    #[test]
    fn key_names_keep_names_only() {
        let names = key_names(&json!({
            "masterKey": "master-secret-0123456789",
            "functionKeys": {"default": "fk-secret-0123456789", "apim-a": "apim-secret-0123456789"},
            "systemKeys": {}
        }));
        assert_eq!(names, json!(["default", "apim-a"]));
        assert_eq!(
            crate::output::redact("x apim-secret-0123456789 y"),
            "x *** y"
        );
    }
}
