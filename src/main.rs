use apimfn::cli::Cli;
use apimfn::output::{OutputFormat, Printer, ProgressMode};
use apimfn::{exit, inflight};
use clap::Parser;

fn main() {
    let cli = Cli::parse();
    // Until settings are resolved, the raw flag decides the format; an invalid value is reported
    // by the settings resolution itself.
    let format = match cli.global.output.as_deref() {
        Some("json") => OutputFormat::Json,
        _ => OutputFormat::Text,
    };
    let printer = Printer::new(
        format,
        ProgressMode::detect(cli.global.no_progress, cli.global.quiet),
    );
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
    let code = runtime.block_on(async {
        tokio::select! {
            result = apimfn::run::run(cli, &printer) => match result {
                Ok(code) => code,
                Err(err) => {
                    printer.error(&err);
                    exit::code_for(&err)
                }
            },
            _ = tokio::signal::ctrl_c() => {
                let err = anyhow::Error::new(exit::Interrupted { in_flight: inflight::snapshot() });
                printer.error(&err);
                exit::INTERRUPTED
            }
        }
    });
    // Do not wait for in-flight polls: Azure keeps going on its own, and a re-run resumes.
    runtime.shutdown_background();
    std::process::exit(code);
}
