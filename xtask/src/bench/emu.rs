//! An in-process emulator and the release `apimfn` run against it, the way a user runs it against
//! `apimfn emulator`: `--emulator URL --emulator-ca FILE`, client-secret sign-in with the seeded
//! service principal (as `tests/support/emulated.rs` does).

use super::reqlog::Activation;
use anyhow::Context;
use apimfn_emulator::server::LogEntry;
use apimfn_emulator::{Config, Running};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The longest a single `setup` may take before the bench gives up on it.
const SETUP_LIMIT: Duration = Duration::from_secs(15 * 60);

pub struct Emu {
    pub running: Running,
    ca_file: PathBuf,
    dir: tempfile::TempDir,
}

/// One finished `apimfn` process.
#[derive(Debug, Clone)]
pub struct Finished {
    pub code: i32,
    /// Measured around the process.
    pub wall_s: f64,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    /// stdout as JSON (the `-o json` report).
    pub fn json(&self) -> anyhow::Result<Value> {
        serde_json::from_str(&self.stdout).with_context(|| {
            format!(
                "apimfn printed no JSON report (exit {}):\n{}",
                self.code,
                tail(&self.stderr, 20)
            )
        })
    }
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

impl Emu {
    /// A fresh emulator (temporary state, default throttling) at `time_scale`.
    pub async fn start(time_scale: f64) -> anyhow::Result<Emu> {
        let dir = tempfile::tempdir().context("temporary directory")?;
        let running = apimfn_emulator::start(Config {
            time_scale,
            ..Default::default()
        })
        .await
        .context("starting the emulator")?;
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, &running.ca_pem).context("writing the emulator's CA")?;
        Ok(Emu {
            running,
            ca_file,
            dir,
        })
    }

    /// `apimfn ARGS… --no-progress --emulator URL --emulator-ca FILE` for environment `name`.
    pub fn command(&self, bin: &Path, name: &str, args: &[&str]) -> tokio::process::Command {
        let ready = &self.running.ready;
        let mut cmd = tokio::process::Command::new(bin);
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("AZURE_TENANT_ID", &ready.tenant_id)
            .env("AZURE_CLIENT_ID", &ready.client_id)
            .env("AZURE_CLIENT_SECRET", &ready.client_secret)
            .env("AZURE_SUBSCRIPTION_ID", &ready.subscription_id)
            .env("APIMFN_AUTH", "client-secret")
            .env("APIMFN_NAME", name)
            .env("APIMFN_LOCATION", "japaneast")
            .env("APIMFN_PUBLISHER_EMAIL", "ops@example.com")
            .args(args)
            .args(["--no-progress", "--emulator"])
            .arg(&ready.url)
            .arg("--emulator-ca")
            .arg(&self.ca_file)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        cmd
    }

    pub fn log(&self) -> Vec<LogEntry> {
        self.running.emulator.log_snapshot()
    }

    pub fn clear_log(&self) {
        self.running.emulator.clear_log();
    }

    /// The activation of environment `name`'s APIM service, from the emulator's operations.
    pub fn activation(&self, name: &str) -> Option<Activation> {
        let suffix =
            format!("/service/{}", apimfn::settings::names::apim(name)).to_ascii_lowercase();
        let world = self.running.emulator.world();
        world
            .operations
            .values()
            .filter(|op| op.kind == "apim.activate")
            .find(|op| op.resource_id.to_ascii_lowercase().ends_with(&suffix))
            .map(|op| Activation {
                service_path: op.resource_id.clone(),
                done_ms: op.done_ms,
            })
    }

    /// Refill ARM's token buckets at the emulator's time scale (rates ÷ scale, bucket sizes
    /// unchanged), so a scaled run sees the budget Azure would give over the same modelled time.
    pub fn scale_throttle_refill(&self, scale: f64) -> anyhow::Result<()> {
        let patch = serde_json::json!({
            "readsPerSecond": 25.0 / scale,
            "writesPerSecond": 10.0 / scale,
            "deletesPerSecond": 10.0 / scale,
        });
        self.running
            .emulator
            .throttle
            .configure(&patch)
            .map(|_| ())
            .map_err(|e| anyhow::anyhow!("configuring the throttling: {e}"))
    }

    pub async fn stop(self) {
        self.running.shutdown().await;
    }
}

/// Run a prepared command to the end, timing it.
pub async fn finish(mut cmd: tokio::process::Command) -> anyhow::Result<Finished> {
    let started = Instant::now();
    let child = cmd.spawn().context("starting apimfn")?;
    let out = tokio::time::timeout(SETUP_LIMIT, child.wait_with_output())
        .await
        .context("apimfn ran for more than 15 minutes")?
        .context("waiting for apimfn")?;
    Ok(Finished {
        code: out.status.code().unwrap_or(-1),
        wall_s: started.elapsed().as_secs_f64(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}
