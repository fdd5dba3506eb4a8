//! The command-line surface (CONTRACT §2 and §3), defined once with clap.
//!
//! Global settings carry no clap defaults and no `env` bindings on purpose: precedence
//! (flag > environment > config file > default) is resolved in one place, `settings.rs`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "apimfn",
    version,
    about = "Provision API Management in front of a Flex Consumption Python function, secured with Easy Auth and APIM's managed identity",
    long_about = None,
    propagate_version = true,
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Settings every command takes (CONTRACT §3).
#[derive(Debug, Default, Clone, Args)]
pub struct GlobalArgs {
    /// TOML config file; keys are the long flag names in snake_case [env: APIMFN_CONFIG]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Subscription id (GUID) [env: AZURE_SUBSCRIPTION_ID]
    #[arg(short = 's', long, global = true, value_name = "ID")]
    pub subscription: Option<String>,

    /// Resource group [env: APIMFN_RESOURCE_GROUP]
    #[arg(short = 'g', long, global = true, value_name = "NAME")]
    pub resource_group: Option<String>,

    /// Region, e.g. japaneast; must offer Flex Consumption [env: APIMFN_LOCATION]
    #[arg(short = 'l', long, global = true, value_name = "REGION")]
    pub location: Option<String>,

    /// Base name; every resource name derives from it [env: APIMFN_NAME]
    #[arg(short = 'n', long, global = true, value_name = "NAME")]
    pub name: Option<String>,

    /// Override of the derived API Management service name [env: APIMFN_APIM_NAME]
    #[arg(long, global = true, value_name = "NAME")]
    pub apim_name: Option<String>,

    /// Override of the derived function app name [env: APIMFN_FUNCTION_APP_NAME]
    #[arg(long, global = true, value_name = "NAME")]
    pub function_app_name: Option<String>,

    /// Override of the derived Flex Consumption plan name [env: APIMFN_PLAN_NAME]
    #[arg(long, global = true, value_name = "NAME")]
    pub plan_name: Option<String>,

    /// Override of the derived storage account name [env: APIMFN_STORAGE_ACCOUNT_NAME]
    #[arg(long, global = true, value_name = "NAME")]
    pub storage_account_name: Option<String>,

    /// APIM publisher e-mail [env: APIMFN_PUBLISHER_EMAIL]
    #[arg(long, global = true, value_name = "EMAIL")]
    pub publisher_email: Option<String>,

    /// APIM publisher name [env: APIMFN_PUBLISHER_NAME]
    #[arg(long, global = true, value_name = "NAME")]
    pub publisher_name: Option<String>,

    /// How to sign in: auto (default), cli, client-secret, workload-identity, managed-identity, azure-pipelines [env: APIMFN_AUTH]
    #[arg(long, global = true, value_name = "MODE")]
    pub auth: Option<String>,

    /// Azure cloud: AzureCloud (default), AzureChinaCloud, AzureUSGovernment [env: APIMFN_CLOUD]
    #[arg(long, global = true, value_name = "NAME")]
    pub cloud: Option<String>,

    /// Send all Azure traffic to an emulator at URL; `embedded` starts one in-process [env: APIMFN_EMULATOR]
    #[arg(long, global = true, value_name = "URL")]
    pub emulator: Option<String>,

    /// PEM file with the CA to trust for the emulator [env: APIMFN_EMULATOR_CA]
    #[arg(long, global = true, value_name = "FILE")]
    pub emulator_ca: Option<PathBuf>,

    /// Result format on stdout: text or json [env: APIMFN_OUTPUT]
    #[arg(short = 'o', long, global = true, value_name = "FORMAT")]
    pub output: Option<String>,

    /// Plain lines instead of progress bars on stderr
    #[arg(long, global = true)]
    pub no_progress: bool,

    /// Less output on stderr (errors only)
    #[arg(short = 'q', long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// More log output on stderr (repeatable: -v, -vv, -vvv)
    #[arg(short = 'v', long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Everything, converging: creates what is missing, fixes what drifted, leaves the rest
    Setup(SetupArgs),
    /// What `setup` would change, per resource and field; writes nothing
    Plan(PlanArgs),
    /// The resource group and the API Management service (steps 1-2)
    #[command(subcommand)]
    Apim(ApimCommand),
    /// The function app and its deployment (steps 1, 3 and 4)
    #[command(subcommand)]
    Function(FunctionCommand),
    /// The function app imported into APIM as an API (step 5)
    #[command(subcommand)]
    Api(ApiCommand),
    /// Easy Auth on the function app and the managed-identity policy in APIM (steps 6-7)
    #[command(subcommand)]
    Auth(AuthCommand),
    /// Check that the function refuses direct calls (401) and answers through APIM (200)
    Verify,
    /// Each resource's existence and provisioning state; never writes
    Status,
    /// Delete the resource group, purge the soft-deleted APIM, delete the app registration apimfn created
    Destroy(DestroyArgs),
    /// Settings
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Run the local Azure emulator
    Emulator(EmulatorArgs),
    /// Print shell completions
    Completions(CompletionsArgs),
}

#[derive(Debug, Args)]
pub struct SetupArgs {
    /// Show what would change and write nothing (same as `plan`)
    #[arg(long)]
    pub dry_run: bool,
    /// Do not run the final verification
    #[arg(long)]
    pub skip_verify: bool,
    /// Use this existing Entra app registration (application id) as the Easy Auth audience
    #[arg(long, value_name = "APPID")]
    pub client_id: Option<String>,
    /// Time limit for the whole run, e.g. 90m or 2h30m
    #[arg(long, value_name = "DURATION", default_value = "3h")]
    pub timeout: String,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Exit 4 when changes are pending
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Plan with this existing Entra app registration as the audience (as `setup --client-id`)
    #[arg(long, value_name = "APPID")]
    pub client_id: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ApimCommand {
    /// Create the resource group and the API Management service (steps 1-2)
    Create(ApimCreateArgs),
}

#[derive(Debug, Args)]
pub struct ApimCreateArgs {
    /// Return once Azure has accepted the service (activation takes 30–90 minutes); a later run
    /// joins the wait.
    #[arg(long)]
    pub no_wait: bool,
    /// The name is soft-deleted in this subscription: recover that service (PUT with `restore`).
    #[arg(long, conflicts_with = "purge_soft_deleted")]
    pub recover: bool,
    /// The name is soft-deleted in this subscription: purge it, wait, then create a new service.
    #[arg(long)]
    pub purge_soft_deleted: bool,
}

#[derive(Debug, Subcommand)]
pub enum FunctionCommand {
    /// Create the storage, plan and function app (steps 1 and 3)
    Create,
    /// Deploy the function code (step 4)
    Deploy(DeployArgs),
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    /// Directory with function_app.py, host.json and requirements.txt (default: the bundled template)
    #[arg(long, value_name = "DIR")]
    pub source: Option<PathBuf>,
    /// Upload even when the same package is already deployed.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub enum ApiCommand {
    /// Import the function app into APIM as an API (step 5)
    Import(ApiImportArgs),
}

#[derive(Debug, Args)]
pub struct ApiImportArgs {
    /// The API's URL suffix in the gateway (default: the function app's name).
    #[arg(long, value_name = "PATH")]
    pub api_path: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Configure Easy Auth and the authentication-managed-identity policy (steps 6-7)
    Configure(AuthConfigureArgs),
}

#[derive(Debug, Args)]
pub struct AuthConfigureArgs {
    /// Use this existing Entra app registration (application id) as the Easy Auth audience
    #[arg(long, value_name = "APPID")]
    pub client_id: Option<String>,
}

#[derive(Debug, Args)]
pub struct DestroyArgs {
    /// Do not ask for confirmation
    #[arg(long)]
    pub yes: bool,
    /// Keep the Entra app registration apimfn created
    #[arg(long)]
    pub keep_app_registration: bool,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the resolved settings and derived names (secrets redacted); no network
    Show,
}

#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Loopback port to listen on (0 picks a free one)
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Directory that keeps the emulator's CA and state across restarts
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Multiplier for every modelled duration (APIM activation is about 45 minutes at 1.0)
    #[arg(long, value_name = "F", default_value_t = 0.01)]
    pub time_scale: f64,
    /// Write a JSON object with the URL, CA and seeded credentials here once listening
    #[arg(long, value_name = "FILE")]
    pub ready_file: Option<PathBuf>,
    /// Reject unknown or mistyped properties in PUT/PATCH bodies with 400 (real ARM ignores them)
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
    Elvish,
}
