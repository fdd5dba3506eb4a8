//! Settings: flags, environment and the TOML config file merged in one place (precedence
//! flag > environment > file > default), validated against Azure's rules, and the derived names.
//!
//! [`resolve`] is the only place that looks at the three sources; it validates every value it
//! can check offline, so an invalid input ends with exit 2 before any network call. Settings a
//! command may not need (subscription, location, ...) resolve to `None`, and the command asks for
//! them through accessors such as [`Settings::subscription`] that fail with a "missing required
//! setting" message. `docs/settings.md` lists every setting, default and rule.

mod file;
pub mod names;
pub mod rules;
pub mod show;

use crate::cli::GlobalArgs;
use crate::exit::UsageError;
use crate::output::OutputFormat;
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// Default APIM publisher name (shown in the developer portal and notification mails).
pub const DEFAULT_PUBLISHER_NAME: &str = "apimfn";

/// One setting, with its names in each source. Declaration order is display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Key {
    Config,
    Subscription,
    ResourceGroup,
    Location,
    Name,
    ApimName,
    FunctionAppName,
    PlanName,
    StorageAccountName,
    /// Derived only (no flag, variable or file key).
    DeploymentContainerName,
    PublisherEmail,
    PublisherName,
    Auth,
    Cloud,
    Emulator,
    EmulatorCa,
    Output,
}

impl Key {
    pub const ALL: [Key; 17] = [
        Key::Config,
        Key::Subscription,
        Key::ResourceGroup,
        Key::Location,
        Key::Name,
        Key::ApimName,
        Key::FunctionAppName,
        Key::PlanName,
        Key::StorageAccountName,
        Key::DeploymentContainerName,
        Key::PublisherEmail,
        Key::PublisherName,
        Key::Auth,
        Key::Cloud,
        Key::Emulator,
        Key::EmulatorCa,
        Key::Output,
    ];

    /// snake_case name: the config-file key, and the key in `config show`.
    pub fn name(self) -> &'static str {
        match self {
            Key::Config => "config",
            Key::Subscription => "subscription",
            Key::ResourceGroup => "resource_group",
            Key::Location => "location",
            Key::Name => "name",
            Key::ApimName => "apim_name",
            Key::FunctionAppName => "function_app_name",
            Key::PlanName => "plan_name",
            Key::StorageAccountName => "storage_account_name",
            Key::DeploymentContainerName => "deployment_container_name",
            Key::PublisherEmail => "publisher_email",
            Key::PublisherName => "publisher_name",
            Key::Auth => "auth",
            Key::Cloud => "cloud",
            Key::Emulator => "emulator",
            Key::EmulatorCa => "emulator_ca",
            Key::Output => "output",
        }
    }

    /// The key in the config file, if the setting can be set there.
    pub fn file_key(self) -> Option<&'static str> {
        match self {
            Key::Config | Key::DeploymentContainerName => None,
            k => Some(k.name()),
        }
    }

    /// camelCase name, for `config show -o json`.
    pub fn json_key(self) -> String {
        let mut out = String::new();
        let mut upper = false;
        for c in self.name().chars() {
            if c == '_' {
                upper = true;
            } else if upper {
                out.push(c.to_ascii_uppercase());
                upper = false;
            } else {
                out.push(c);
            }
        }
        out
    }

    /// The long flag, e.g. `--resource-group` (the container has none; its name is shown).
    pub fn flag(self) -> &'static str {
        match self {
            Key::Config => "--config",
            Key::Subscription => "--subscription",
            Key::ResourceGroup => "--resource-group",
            Key::Location => "--location",
            Key::Name => "--name",
            Key::ApimName => "--apim-name",
            Key::FunctionAppName => "--function-app-name",
            Key::PlanName => "--plan-name",
            Key::StorageAccountName => "--storage-account-name",
            Key::DeploymentContainerName => "deployment container name",
            Key::PublisherEmail => "--publisher-email",
            Key::PublisherName => "--publisher-name",
            Key::Auth => "--auth",
            Key::Cloud => "--cloud",
            Key::Emulator => "--emulator",
            Key::EmulatorCa => "--emulator-ca",
            Key::Output => "--output",
        }
    }

    /// The environment variable.
    pub fn env(self) -> Option<&'static str> {
        Some(match self {
            Key::Config => "APIMFN_CONFIG",
            Key::Subscription => "AZURE_SUBSCRIPTION_ID",
            Key::ResourceGroup => "APIMFN_RESOURCE_GROUP",
            Key::Location => "APIMFN_LOCATION",
            Key::Name => "APIMFN_NAME",
            Key::ApimName => "APIMFN_APIM_NAME",
            Key::FunctionAppName => "APIMFN_FUNCTION_APP_NAME",
            Key::PlanName => "APIMFN_PLAN_NAME",
            Key::StorageAccountName => "APIMFN_STORAGE_ACCOUNT_NAME",
            Key::DeploymentContainerName => return None,
            Key::PublisherEmail => "APIMFN_PUBLISHER_EMAIL",
            Key::PublisherName => "APIMFN_PUBLISHER_NAME",
            Key::Auth => "APIMFN_AUTH",
            Key::Cloud => "APIMFN_CLOUD",
            Key::Emulator => "APIMFN_EMULATOR",
            Key::EmulatorCa => "APIMFN_EMULATOR_CA",
            Key::Output => "APIMFN_OUTPUT",
        })
    }

    /// `missing required setting --x (env X, config key x)`.
    fn missing(self, derive_hint: &str) -> UsageError {
        let mut where_ = Vec::new();
        if let Some(env) = self.env() {
            where_.push(format!("env {env}"));
        }
        if let Some(k) = self.file_key() {
            where_.push(format!("config key {k}"));
        }
        UsageError::new(format!(
            "missing required setting {} ({}){derive_hint}",
            self.flag(),
            where_.join(", ")
        ))
    }
}

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Source {
    /// The command-line flag.
    Flag,
    /// This environment variable.
    Env(&'static str),
    /// The config file at this path.
    File(PathBuf),
    /// The built-in default.
    Default,
    /// Derived from other settings (which ones, in words).
    Derived(&'static str),
    /// No value.
    #[default]
    Unset,
}

impl Source {
    /// One word: flag, env, file, default, derived or unset.
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Flag => "flag",
            Source::Env(_) => "env",
            Source::File(_) => "file",
            Source::Default => "default",
            Source::Derived(_) => "derived",
            Source::Unset => "unset",
        }
    }

    /// How an error message names a setting that came from here, e.g.
    /// `--name (from APIMFN_NAME)`.
    fn label(&self, key: Key) -> String {
        let flag = key.flag();
        match self {
            Source::Flag => flag.to_string(),
            Source::Env(var) => format!("{flag} (from {var})"),
            Source::File(path) => format!("{flag} (from key {} in {})", key.name(), path.display()),
            Source::Default => format!("{flag} (default)"),
            Source::Derived(from) => format!("{flag} (derived from {from})"),
            Source::Unset => flag.to_string(),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Env(var) => write!(f, "env {var}"),
            Source::File(path) => write!(f, "file {}", path.display()),
            Source::Derived(from) => write!(f, "derived from {from}"),
            other => f.write_str(other.kind()),
        }
    }
}

/// Which of the Azure SDK's credential variables are set (values are never kept).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CredentialEnv {
    pub tenant_id: bool,
    pub client_id: bool,
    pub client_secret: bool,
    pub federated_token_file: bool,
}

impl CredentialEnv {
    /// (variable, camelCase key, set?) in a fixed order.
    pub fn entries(&self) -> [(&'static str, &'static str, bool); 4] {
        [
            ("AZURE_TENANT_ID", "tenantId", self.tenant_id),
            ("AZURE_CLIENT_ID", "clientId", self.client_id),
            ("AZURE_CLIENT_SECRET", "clientSecret", self.client_secret),
            (
                "AZURE_FEDERATED_TOKEN_FILE",
                "federatedTokenFile",
                self.federated_token_file,
            ),
        ]
    }
}

/// The resolved settings. `None` means "not set and no default"; commands that need such a
/// value ask for it through the accessor of the same name, which fails with exit 2.
#[derive(Debug, Clone)]
pub struct Settings {
    pub config_file: Option<PathBuf>,
    /// Lowercased GUID.
    pub subscription: Option<String>,
    pub resource_group: Option<String>,
    pub location: Option<String>,
    pub name: Option<String>,
    pub apim_name: Option<String>,
    pub function_app_name: Option<String>,
    pub plan_name: Option<String>,
    pub storage_account_name: Option<String>,
    /// Blob container for the Flex Consumption deployment package (always derived).
    pub deployment_container_name: Option<String>,
    pub publisher_email: Option<String>,
    pub publisher_name: String,
    pub auth: AuthMode,
    pub cloud: CloudName,
    /// `embedded` or an `https://` URL.
    pub emulator: Option<String>,
    /// Only with an emulator URL; a readable PEM file.
    pub emulator_ca: Option<PathBuf>,
    pub output: OutputFormat,
    pub credentials: CredentialEnv,
    /// Where each value came from; a key absent here is [`Source::Unset`].
    pub sources: BTreeMap<Key, Source>,
}

impl Default for Settings {
    /// Nothing set: what `resolve` gives with no flags, no environment and no file.
    fn default() -> Self {
        let mut sources = BTreeMap::new();
        for key in [Key::PublisherName, Key::Auth, Key::Cloud, Key::Output] {
            sources.insert(key, Source::Default);
        }
        Self {
            config_file: None,
            subscription: None,
            resource_group: None,
            location: None,
            name: None,
            apim_name: None,
            function_app_name: None,
            plan_name: None,
            storage_account_name: None,
            deployment_container_name: None,
            publisher_email: None,
            publisher_name: DEFAULT_PUBLISHER_NAME.to_string(),
            auth: AuthMode::default(),
            cloud: CloudName::default(),
            emulator: None,
            emulator_ca: None,
            output: OutputFormat::default(),
            credentials: CredentialEnv::default(),
            sources,
        }
    }
}

const DERIVE_FROM_NAME: &str = "; or set --name to derive it";

fn required<'a>(
    value: &'a Option<String>,
    key: Key,
    derive_hint: &str,
) -> Result<&'a str, UsageError> {
    value.as_deref().ok_or_else(|| key.missing(derive_hint))
}

impl Settings {
    /// Where `key`'s value came from.
    pub fn source(&self, key: Key) -> &Source {
        self.sources.get(&key).unwrap_or(&Source::Unset)
    }

    pub fn subscription(&self) -> Result<&str, UsageError> {
        required(&self.subscription, Key::Subscription, "")
    }

    pub fn resource_group(&self) -> Result<&str, UsageError> {
        required(&self.resource_group, Key::ResourceGroup, DERIVE_FROM_NAME)
    }

    pub fn location(&self) -> Result<&str, UsageError> {
        required(&self.location, Key::Location, "")
    }

    pub fn name(&self) -> Result<&str, UsageError> {
        required(&self.name, Key::Name, "")
    }

    pub fn apim_name(&self) -> Result<&str, UsageError> {
        required(&self.apim_name, Key::ApimName, DERIVE_FROM_NAME)
    }

    pub fn function_app_name(&self) -> Result<&str, UsageError> {
        required(
            &self.function_app_name,
            Key::FunctionAppName,
            DERIVE_FROM_NAME,
        )
    }

    pub fn plan_name(&self) -> Result<&str, UsageError> {
        required(&self.plan_name, Key::PlanName, DERIVE_FROM_NAME)
    }

    pub fn storage_account_name(&self) -> Result<&str, UsageError> {
        required(
            &self.storage_account_name,
            Key::StorageAccountName,
            "; or set --name and --subscription to derive it",
        )
    }

    pub fn deployment_container_name(&self) -> Result<&str, UsageError> {
        self.deployment_container_name.as_deref().ok_or_else(|| {
            UsageError::new(
                "missing deployment container name: it derives from the function app name; set --name or --function-app-name",
            )
        })
    }

    /// Required by the commands that create APIM (`setup`, `apim create`): there is no safe
    /// default for an address Azure sends mail to.
    pub fn publisher_email(&self) -> Result<&str, UsageError> {
        required(&self.publisher_email, Key::PublisherEmail, "")
    }

    /// The emulator URL, when `--emulator` is a URL (not `embedded`).
    pub fn emulator_url(&self) -> Option<url::Url> {
        self.emulator
            .as_deref()
            .filter(|e| *e != EMBEDDED)
            .and_then(|e| url::Url::parse(e).ok())
    }

    /// `--emulator embedded`: start one in-process.
    pub fn emulator_embedded(&self) -> bool {
        self.emulator.as_deref() == Some(EMBEDDED)
    }
}

const EMBEDDED: &str = "embedded";

/// A raw value and where it came from.
struct Raw {
    value: String,
    source: Source,
}

impl Raw {
    fn label(&self, key: Key) -> String {
        self.source.label(key)
    }

    /// Apply `rule`; on failure, the exit-2 error naming the setting, value and rule.
    fn check(&self, key: Key, rule: fn(&str) -> Result<(), String>) -> Result<(), UsageError> {
        rule(&self.value)
            .map_err(|r| UsageError::invalid(&self.label(key), &shown(&self.value), &r))
    }
}

/// A value as shown in a message: control characters escaped so they cannot garble the terminal.
fn shown(value: &str) -> String {
    value
        .chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

struct Resolver<'a> {
    global: &'a GlobalArgs,
    env: &'a dyn Fn(&str) -> Option<String>,
    file: Option<file::ConfigFile>,
    defaults: &'a [(Key, &'a str)],
}

impl Resolver<'_> {
    /// An environment variable, empty meaning unset (as az does).
    fn env(&self, var: &str) -> Option<String> {
        (self.env)(var).filter(|v| !v.is_empty())
    }

    /// flag > env > file for one string setting.
    fn pick(&self, key: Key, flag: Option<&String>) -> Option<Raw> {
        if let Some(v) = flag {
            return Some(Raw {
                value: v.clone(),
                source: Source::Flag,
            });
        }
        if let Some(var) = key.env()
            && let Some(v) = self.env(var)
        {
            return Some(Raw {
                value: v,
                source: Source::Env(var),
            });
        }
        if let Some(file) = self.file.as_ref()
            && let Some(v) = file.values.get(&key)
        {
            return Some(Raw {
                value: v.clone(),
                source: Source::File(file.path.clone()),
            });
        }
        self.defaults
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| Raw {
                value: v.to_string(),
                source: Source::Default,
            })
    }
}

/// A name derived from `--name`, checked against its resource's rule; when it breaks the rule,
/// the message blames `--name` (the value the user typed), and says how to override.
fn derived_name(
    name: &Raw,
    key: Key,
    derived: String,
    what: &str,
    rule: fn(&str) -> Result<(), String>,
) -> Result<String, UsageError> {
    rule(&derived).map_err(|r| {
        UsageError::invalid(
            &name.label(Key::Name),
            &shown(&name.value),
            &format!(
                "the derived {what} '{}' must be {r}; choose another --name or set {}",
                shown(&derived),
                key.flag()
            ),
        )
    })?;
    Ok(derived)
}

/// Resolve every setting: flag > environment (`env`, empty = unset) > config file > default,
/// then derive names and validate everything offline. Pure apart from reading the config file
/// and the emulator CA file; `env` is injected so tests need not touch the process environment.
pub fn resolve(
    global: &GlobalArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Settings, UsageError> {
    resolve_with_defaults(global, env, &[])
}

/// [`resolve`] with extra built-in defaults, below flag, environment and file: the embedded
/// emulator's playground names, so its first command needs no setting at all.
pub fn resolve_with_defaults(
    global: &GlobalArgs,
    env: &dyn Fn(&str) -> Option<String>,
    defaults: &[(Key, &str)],
) -> Result<Settings, UsageError> {
    let mut r = Resolver {
        global,
        env,
        file: None,
        defaults,
    };
    let mut s = Settings::default();
    let mut src = BTreeMap::new();

    // The config file first: every other setting may come from it.
    let config = match &global.config {
        Some(p) => Some((p.clone(), Source::Flag)),
        None => r
            .env("APIMFN_CONFIG")
            .map(|v| (PathBuf::from(v), Source::Env("APIMFN_CONFIG"))),
    };
    if let Some((path, source)) = config {
        let origin = match &source {
            Source::Env(var) => var.to_string(),
            _ => Key::Config.flag().to_string(),
        };
        r.file = Some(file::load(&path, &origin)?);
        s.config_file = Some(path);
        src.insert(Key::Config, source);
    }

    if let Some(raw) = r.pick(Key::Subscription, global.subscription.as_ref()) {
        raw.check(Key::Subscription, rules::subscription)?;
        s.subscription = Some(raw.value.to_ascii_lowercase());
        src.insert(Key::Subscription, raw.source);
    }

    let name = r.pick(Key::Name, global.name.as_ref());

    // An explicit value is checked against its own rule; a derived one blames --name.
    type Derive = fn(&str) -> String;
    let mut resolve_name = |key: Key,
                            flag: Option<&String>,
                            rule: fn(&str) -> Result<(), String>,
                            derive: Derive,
                            what: &str|
     -> Result<Option<String>, UsageError> {
        if let Some(raw) = r.pick(key, flag) {
            raw.check(key, rule)?;
            src.insert(key, raw.source);
            return Ok(Some(raw.value));
        }
        let Some(name) = &name else {
            return Ok(None);
        };
        let value = derived_name(name, key, derive(&name.value), what, rule)?;
        src.insert(key, Source::Derived("name"));
        Ok(Some(value))
    };
    s.resource_group = resolve_name(
        Key::ResourceGroup,
        global.resource_group.as_ref(),
        rules::resource_group,
        names::resource_group,
        "resource group name",
    )?;
    s.apim_name = resolve_name(
        Key::ApimName,
        global.apim_name.as_ref(),
        rules::apim_name,
        names::apim,
        "API Management name",
    )?;
    s.function_app_name = resolve_name(
        Key::FunctionAppName,
        global.function_app_name.as_ref(),
        rules::function_app_name,
        names::function_app,
        "function app name",
    )?;
    s.plan_name = resolve_name(
        Key::PlanName,
        global.plan_name.as_ref(),
        rules::plan_name,
        names::plan,
        "plan name",
    )?;

    if let Some(raw) = r.pick(
        Key::StorageAccountName,
        global.storage_account_name.as_ref(),
    ) {
        raw.check(Key::StorageAccountName, rules::storage_account_name)?;
        s.storage_account_name = Some(raw.value);
        src.insert(Key::StorageAccountName, raw.source);
    } else if let (Some(sub), Some(rg), Some(name)) = (&s.subscription, &s.resource_group, &name) {
        // Always valid by construction; checked anyway so a change to the rule cannot slip by.
        let derived = derived_name(
            name,
            Key::StorageAccountName,
            names::storage_account(sub, rg, &name.value),
            "storage account name",
            rules::storage_account_name,
        )?;
        s.storage_account_name = Some(derived);
        src.insert(
            Key::StorageAccountName,
            Source::Derived("name, subscription and resource_group"),
        );
    }

    if let Some(app) = &s.function_app_name {
        let container = names::deployment_container(app);
        rules::container_name(&container).map_err(|r| {
            UsageError::invalid(
                &src.get(&Key::FunctionAppName)
                    .unwrap_or(&Source::Unset)
                    .label(Key::FunctionAppName),
                &shown(app),
                &format!("the derived deployment container name '{container}' must be {r}"),
            )
        })?;
        s.deployment_container_name = Some(container);
        src.insert(
            Key::DeploymentContainerName,
            Source::Derived("function_app_name"),
        );
    }

    if let Some(raw) = r.pick(Key::Location, global.location.as_ref()) {
        raw.check(Key::Location, rules::location)?;
        s.location = Some(raw.value);
        src.insert(Key::Location, raw.source);
    }
    if let Some(raw) = name {
        s.name = Some(raw.value);
        src.insert(Key::Name, raw.source);
    }

    if let Some(raw) = r.pick(Key::PublisherEmail, global.publisher_email.as_ref()) {
        raw.check(Key::PublisherEmail, rules::publisher_email)?;
        s.publisher_email = Some(raw.value);
        src.insert(Key::PublisherEmail, raw.source);
    }
    if let Some(raw) = r.pick(Key::PublisherName, global.publisher_name.as_ref()) {
        raw.check(Key::PublisherName, rules::publisher_name)?;
        s.publisher_name = raw.value;
        src.insert(Key::PublisherName, raw.source);
    }

    if let Some(raw) = r.pick(Key::Auth, global.auth.as_ref()) {
        s.auth = raw.value.parse().map_err(|_| {
            UsageError::invalid(&raw.label(Key::Auth), &shown(&raw.value), rules::AUTH)
        })?;
        src.insert(Key::Auth, raw.source);
    }
    if let Some(raw) = r.pick(Key::Cloud, global.cloud.as_ref()) {
        s.cloud = raw.value.parse().map_err(|_| {
            UsageError::invalid(&raw.label(Key::Cloud), &shown(&raw.value), rules::CLOUD)
        })?;
        src.insert(Key::Cloud, raw.source);
    }

    if let Some(raw) = r.pick(Key::Emulator, global.emulator.as_ref()) {
        raw.check(Key::Emulator, rules::emulator)?;
        s.emulator = Some(raw.value);
        src.insert(Key::Emulator, raw.source);
    }
    if let Some((path, source)) = emulator_ca(&r) {
        let label = source.label(Key::EmulatorCa);
        let value = path.display().to_string();
        if s.emulator_url_str().is_none() {
            return Err(UsageError::invalid(
                &label,
                &value,
                "only meaningful with an --emulator URL (an embedded emulator trusts its own CA; without an emulator the system roots are used)",
            ));
        }
        check_pem(&path).map_err(|reason| UsageError::invalid(&label, &value, &reason))?;
        s.emulator_ca = Some(path);
        src.insert(Key::EmulatorCa, source);
    }

    if let Some(raw) = r.pick(Key::Output, global.output.as_ref()) {
        s.output = parse_output(&raw.value).ok_or_else(|| {
            UsageError::invalid(&raw.label(Key::Output), &shown(&raw.value), rules::OUTPUT)
        })?;
        src.insert(Key::Output, raw.source);
    }

    let set = |var: &str| r.env(var).is_some();
    s.credentials = CredentialEnv {
        tenant_id: set("AZURE_TENANT_ID"),
        client_id: set("AZURE_CLIENT_ID"),
        client_secret: set("AZURE_CLIENT_SECRET"),
        federated_token_file: set("AZURE_FEDERATED_TOKEN_FILE"),
    };
    s.sources.extend(src);
    Ok(s)
}

impl Settings {
    fn emulator_url_str(&self) -> Option<&str> {
        self.emulator.as_deref().filter(|e| *e != EMBEDDED)
    }
}

/// `--emulator-ca` by precedence; a relative path in the config file is relative to the file's
/// directory (like cargo's config paths), elsewhere to the working directory.
fn emulator_ca(r: &Resolver<'_>) -> Option<(PathBuf, Source)> {
    if let Some(p) = &r.global.emulator_ca {
        return Some((p.clone(), Source::Flag));
    }
    if let Some(v) = r.env("APIMFN_EMULATOR_CA") {
        return Some((PathBuf::from(v), Source::Env("APIMFN_EMULATOR_CA")));
    }
    let file = r.file.as_ref()?;
    let v = file.values.get(&Key::EmulatorCa)?;
    Some((file.dir().join(v), Source::File(file.path.clone())))
}

/// The CA file must be readable and hold at least one PEM certificate; checked here so a typo
/// in the path is an exit-2 input error, not a TLS failure later.
fn check_pem(path: &std::path::Path) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read the CA file: {e}"))?;
    let text = String::from_utf8_lossy(&bytes);
    if text.contains("-----BEGIN CERTIFICATE-----") {
        Ok(())
    } else {
        Err("must be a PEM file with at least one -----BEGIN CERTIFICATE----- block".into())
    }
}

/// `-o`: exactly `text` or `json`, as az spells them.
pub fn parse_output(v: &str) -> Option<OutputFormat> {
    match v {
        "text" => Some(OutputFormat::Text),
        "json" => Some(OutputFormat::Json),
        _ => None,
    }
}

/// How to sign in (`--auth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMode {
    /// Client secret from the environment, then workload identity, managed identity, Azure CLI.
    #[default]
    Auto,
    Cli,
    ClientSecret,
    WorkloadIdentity,
    ManagedIdentity,
    AzurePipelines,
}

impl AuthMode {
    pub const ALL: [AuthMode; 6] = [
        AuthMode::Auto,
        AuthMode::Cli,
        AuthMode::ClientSecret,
        AuthMode::WorkloadIdentity,
        AuthMode::ManagedIdentity,
        AuthMode::AzurePipelines,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::Auto => "auto",
            AuthMode::Cli => "cli",
            AuthMode::ClientSecret => "client-secret",
            AuthMode::WorkloadIdentity => "workload-identity",
            AuthMode::ManagedIdentity => "managed-identity",
            AuthMode::AzurePipelines => "azure-pipelines",
        }
    }
}

impl fmt::Display for AuthMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuthMode {
    type Err = UsageError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AuthMode::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                UsageError::invalid(
                    "--auth",
                    s,
                    "must be one of auto, cli, client-secret, workload-identity, managed-identity, azure-pipelines",
                )
            })
    }
}

/// Which Azure cloud (`--cloud`), named as `az cloud list` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum CloudName {
    #[default]
    AzureCloud,
    AzureChinaCloud,
    AzureUSGovernment,
}

impl CloudName {
    pub fn as_str(self) -> &'static str {
        match self {
            CloudName::AzureCloud => "AzureCloud",
            CloudName::AzureChinaCloud => "AzureChinaCloud",
            CloudName::AzureUSGovernment => "AzureUSGovernment",
        }
    }
}

impl fmt::Display for CloudName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CloudName {
    type Err = UsageError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // az accepts these names case-insensitively; so do we.
        [
            CloudName::AzureCloud,
            CloudName::AzureChinaCloud,
            CloudName::AzureUSGovernment,
        ]
        .into_iter()
        .find(|c| c.as_str().eq_ignore_ascii_case(s))
        .ok_or_else(|| {
            UsageError::invalid(
                "--cloud",
                s,
                "must be one of AzureCloud, AzureChinaCloud, AzureUSGovernment",
            )
        })
    }
}

#[cfg(test)]
mod tests;
