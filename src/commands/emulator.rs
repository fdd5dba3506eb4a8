//! `apimfn emulator`: run the local Azure emulator (CONTRACT §6) until SIGINT or SIGTERM.

use crate::cli::EmulatorArgs;
use crate::output::Printer;
use anyhow::Context;

pub async fn run(args: &EmulatorArgs, printer: &Printer) -> anyhow::Result<i32> {
    if !(args.time_scale.is_finite() && args.time_scale >= 0.0) {
        return Err(crate::exit::UsageError::invalid(
            "--time-scale",
            &args.time_scale.to_string(),
            "must be a finite number, 0 or more",
        )
        .into());
    }
    let running = apimfn_emulator::start(apimfn_emulator::Config {
        port: args.port,
        state_dir: args.state_dir.clone(),
        time_scale: args.time_scale,
        strict: args.strict,
    })
    .await
    .context("starting the emulator")?;
    let ready = serde_json::to_value(&running.ready).context("describing the emulator")?;
    if let Some(path) = &args.ready_file {
        // Write then rename, so a watcher never reads half a file.
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(&ready)?)
            .with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    }
    printer.info(&format!(
        "emulator listening on {} (CA: {}, time scale {})",
        running.ready.url, running.ready.ca_cert, args.time_scale
    ));
    printer.result_text(&running.ready.url);
    printer.result_json(&ready);
    wait_for_stop().await;
    printer.info("emulator stopping");
    running.shutdown().await;
    Ok(0)
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
