//! `--emulator embedded` (CONTRACT §3, §6): the emulator started in this process on a free
//! loopback port, the command run against it with the emulator's seeded service principal, and
//! the emulator stopped at the end.
//!
//! The emulator keeps its state in one place per user (printed at start), so a second run finds
//! what the first one created — the playground converges like Azure would. Delete that directory
//! (or `POST /.emulator/reset`) to start over.

use crate::cli::GlobalArgs;
use crate::output::Printer;
use crate::settings::Key;
use anyhow::Context;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

/// The default time scale, as `apimfn emulator` (CONTRACT §6).
pub const TIME_SCALE: f64 = 0.01;

/// Defaults for the playground, below flags, environment and config file: the README's first
/// command (`setup --emulator embedded`) needs no setting. `japaneast` offers Flex Consumption.
pub const PLAYGROUND: &[(Key, &str)] = &[
    (Key::Name, "apimfn-demo"),
    (Key::Location, "japaneast"),
    (Key::PublisherEmail, "admin@example.com"),
];

/// Variables the embedded emulator's seed provides, overriding the process environment.
static OVERLAY: OnceLock<HashMap<&'static str, String>> = OnceLock::new();

/// Look up an environment variable, the embedded emulator's seed first.
pub fn env(var: &str) -> Option<String> {
    if let Some(v) = OVERLAY.get().and_then(|m| m.get(var)) {
        return Some(v.clone());
    }
    std::env::var(var).ok()
}

pub struct Embedded {
    running: apimfn_emulator::Running,
    pub state_dir: PathBuf,
}

/// Where the embedded emulator keeps its state: `$XDG_STATE_HOME/apimfn/emulator`, else
/// `~/.local/state/apimfn/emulator`, else a directory under the system temp dir.
pub fn default_state_dir() -> PathBuf {
    let base = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".local").join("state"))
        })
        .unwrap_or_else(std::env::temp_dir);
    base.join("apimfn").join("emulator")
}

impl Embedded {
    pub async fn start(printer: &Printer) -> anyhow::Result<Embedded> {
        let state_dir = default_state_dir();
        let running = apimfn_emulator::start(apimfn_emulator::Config {
            port: 0,
            state_dir: Some(state_dir.clone()),
            time_scale: TIME_SCALE,
            strict: false,
        })
        .await
        .with_context(|| {
            format!(
                "starting the embedded emulator (state in {})",
                state_dir.display()
            )
        })?;
        printer.info(&format!(
            "emulator: embedded at {} (time scale {TIME_SCALE}; state in {})",
            running.ready.url,
            state_dir.display()
        ));
        let ready = &running.ready;
        let _ = OVERLAY.set(HashMap::from([
            ("AZURE_TENANT_ID", ready.tenant_id.clone()),
            ("AZURE_CLIENT_ID", ready.client_id.clone()),
            ("AZURE_CLIENT_SECRET", ready.client_secret.clone()),
            ("AZURE_SUBSCRIPTION_ID", ready.subscription_id.clone()),
        ]));
        crate::output::register_secret(&ready.client_secret);
        Ok(Embedded { running, state_dir })
    }

    /// The arguments to resolve the settings with: the emulator's address and CA in place of
    /// `embedded`, sign-in with its seeded service principal, and its subscription unless one was
    /// given on the command line.
    pub fn global_args(&self, given: &GlobalArgs) -> GlobalArgs {
        let ready = &self.running.ready;
        let mut args = given.clone();
        args.emulator = Some(ready.url.clone());
        args.emulator_ca = Some(PathBuf::from(&ready.ca_cert));
        args.auth = Some("client-secret".into());
        if args.subscription.is_none() {
            args.subscription = Some(ready.subscription_id.clone());
        }
        args
    }

    pub async fn stop(self) {
        self.running.shutdown().await;
    }
}
