use apimfn::cli::{Cli, Command};
use apimfn::output::{OutputFormat, Printer, ProgressMode};
use apimfn::settings::{self, Settings};
use apimfn::{exit, inflight};
use clap::Parser;

fn main() {
    let cli = Cli::parse();
    let mode = ProgressMode::detect(cli.global.no_progress, cli.global.quiet);
    // Settings are resolved and validated before anything else, so invalid input ends with
    // exit 2 before any network call. `completions` needs none, and must work even when the
    // environment holds a bad value (it runs from shell start-up files).
    let resolved = match cli.command {
        Command::Completions(_) => Ok(Settings::default()),
        _ => settings::resolve(&cli.global, &|var| std::env::var(var).ok()),
    };
    // The embedded emulator is a playground: its first command needs no setting at all.
    let resolved = match resolved {
        Ok(s) if s.emulator_embedded() => settings::resolve_with_defaults(
            &cli.global,
            &|var| std::env::var(var).ok(),
            apimfn::embedded::PLAYGROUND,
        ),
        other => other,
    };
    let settings = match resolved {
        Ok(s) => s,
        Err(e) => {
            Printer::new(OutputFormat::Text, mode).error(&anyhow::Error::new(e));
            std::process::exit(exit::USAGE);
        }
    };
    let printer = Printer::new(settings.output, mode);
    init_logging(&printer, cli.global.verbose, cli.global.quiet);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            printer.error(&anyhow::Error::new(e).context("starting the async runtime"));
            std::process::exit(exit::AZURE_FAILED);
        }
    };
    // `--emulator embedded`: start it now and resolve the settings again against it (its
    // subscription is part of the derived names). Commands that never call Azure do not start it.
    let needs_azure = !matches!(
        cli.command,
        Command::Completions(_) | Command::Config(_) | Command::Emulator(_)
    );
    let mut embedded = None;
    let settings = if settings.emulator_embedded() && needs_azure {
        let started = match runtime.block_on(apimfn::embedded::Embedded::start(&printer)) {
            Ok(e) => e,
            Err(e) => {
                printer.error(&e);
                std::process::exit(exit::AZURE_FAILED);
            }
        };
        let resolved = settings::resolve_with_defaults(
            &started.global_args(&cli.global),
            &apimfn::embedded::env,
            apimfn::embedded::PLAYGROUND,
        );
        embedded = Some(started);
        match resolved {
            Ok(s) => s,
            Err(e) => {
                printer.error(&anyhow::Error::new(e));
                std::process::exit(exit::USAGE);
            }
        }
    } else {
        settings
    };
    // The emulator handles its own signals: stopping it is its normal end, not an interruption.
    let interruptible = !matches!(cli.command, Command::Emulator(_));
    let code = runtime.block_on(async {
        if !interruptible {
            return match apimfn::run::run(cli, &settings, &printer).await {
                Ok(code) => code,
                Err(err) => {
                    printer.error(&err);
                    exit::code_for(&err)
                }
            };
        }
        tokio::select! {
            result = apimfn::run::run(cli, &settings, &printer) => match result {
                Ok(code) => code,
                Err(err) => {
                    printer.error(&err);
                    exit::code_for(&err)
                }
            },
            // The snapshot is taken before `select!` drops the command's future (and with it
            // the guards that name what is in flight).
            in_flight = async {
                let _ = tokio::signal::ctrl_c().await;
                inflight::snapshot()
            } => {
                let err = anyhow::Error::new(exit::Interrupted { in_flight });
                printer.error(&err);
                exit::INTERRUPTED
            }
        }
    });
    if let Some(e) = embedded {
        runtime.block_on(e.stop());
    }
    // Do not wait for in-flight polls: Azure keeps going on its own, and a re-run resumes.
    runtime.shutdown_background();
    std::process::exit(code);
}

/// `-v` shows each Azure request with its ids (`x-ms-request-id`, `x-ms-correlation-request-id`),
/// `-vv` adds apimfn's trace lines, `-vvv` everything including the HTTP stack. Logs go through the printer, so they are redacted
/// and never tear a progress bar.
fn init_logging(printer: &Printer, verbose: u8, quiet: bool) {
    let filter = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "warn,apimfn=debug,apimfn_emulator=info",
        (false, 2) => "warn,apimfn=trace,apimfn_emulator=debug",
        (false, _) => "debug,apimfn=trace,apimfn_emulator=trace",
    };
    let p = printer.clone();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(move || p.log_writer())
        .with_ansi(false)
        .with_target(verbose >= 2)
        .without_time()
        .try_init();
}
