//! Command dispatch: from parsed arguments to the code that does the work.

use crate::cli::{
    ApiCommand, ApimCommand, AuthCommand, Cli, Command, CompletionsArgs, ConfigCommand,
    FunctionCommand, Shell,
};
use crate::output::Printer;
use crate::settings::Settings;
use clap::CommandFactory;

/// Run one command. Returns the exit code on success paths that are not 0 (e.g. `plan
/// --detailed-exitcode`); errors carry their own code (see `exit::code_for`).
/// `settings` were resolved and validated by `main` before anything else ran.
pub async fn run(cli: Cli, settings: &Settings, printer: &Printer) -> anyhow::Result<i32> {
    match cli.command {
        Command::Completions(args) => completions(&args),
        Command::Setup(args) => crate::commands::setup::run(settings, printer, &args).await,
        Command::Plan(args) => {
            crate::commands::setup::plan(
                settings,
                printer,
                args.client_id.as_deref(),
                args.detailed_exitcode,
            )
            .await
        }
        Command::Apim(ApimCommand::Create(args)) => {
            crate::commands::apim::create(settings, printer, &args).await
        }
        Command::Function(FunctionCommand::Create) => {
            crate::commands::function::create(settings, printer).await
        }
        Command::Function(FunctionCommand::Deploy(args)) => {
            crate::commands::function::deploy(settings, printer, &args).await
        }
        Command::Api(ApiCommand::Import(args)) => {
            crate::commands::api::import(settings, printer, &args).await
        }
        Command::Auth(AuthCommand::Configure(args)) => {
            crate::commands::auth::configure(settings, printer, &args).await
        }
        Command::Verify => crate::commands::verify::run(settings, printer).await,
        Command::Status => crate::commands::status::run(settings, printer).await,
        Command::Destroy(args) => crate::commands::destroy::run(settings, printer, &args).await,
        Command::Config(ConfigCommand::Show) => {
            crate::settings::show::config_show(settings, printer);
            Ok(0)
        }
        Command::Emulator(args) => crate::commands::emulator::run(&args, printer).await,
    }
}

fn completions(args: &CompletionsArgs) -> anyhow::Result<i32> {
    use clap_complete::{Shell as S, generate};
    let shell = match args.shell {
        Shell::Bash => S::Bash,
        Shell::Zsh => S::Zsh,
        Shell::Fish => S::Fish,
        Shell::Powershell => S::PowerShell,
        Shell::Elvish => S::Elvish,
    };
    let mut cmd = Cli::command();
    generate(shell, &mut cmd, "apimfn", &mut std::io::stdout());
    Ok(0)
}
