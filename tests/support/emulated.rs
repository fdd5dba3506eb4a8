//! Run the `apimfn` binary against an in-process emulator, the way a user runs it against
//! `apimfn emulator`: `--emulator URL --emulator-ca FILE`, client-secret sign-in with the seeded
//! service principal. On failure, everything the command printed is in the panic message.
#![allow(dead_code)]

use apimfn_emulator::server::LogEntry;
use apimfn_emulator::{Config, Running};
use std::path::PathBuf;
use std::time::Duration;

pub struct Emu {
    pub running: Running,
    pub ca_file: PathBuf,
    pub dir: tempfile::TempDir,
    /// `--name`; every resource name derives from it.
    pub name: String,
}

/// What one run printed and how it ended.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from_output(out: &std::process::Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Panics with everything printed unless the exit code is `code`.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code {} (wanted {code})\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    pub fn ok(&self) -> &Self {
        self.expect_code(0)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e})\n--- stdout\n{}\n--- stderr\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

impl Emu {
    /// A fresh emulator at `time_scale` (APIM Developer activation: 45 min × scale).
    pub async fn start(time_scale: f64) -> Emu {
        Self::start_named(time_scale, "t1").await
    }

    pub async fn start_named(time_scale: f64, name: &str) -> Emu {
        Self::start_with(time_scale, name, false).await
    }

    /// `persistent`: keep the state in `dir/state` (for restart tests). Without it the emulator
    /// uses a temporary directory and shares its Python build cache with other temporary
    /// emulators, so only the first remote build on a machine runs pip.
    pub async fn start_with(time_scale: f64, name: &str, persistent: bool) -> Emu {
        let dir = tempfile::tempdir().expect("tmp");
        let running = apimfn_emulator::start(Config {
            time_scale,
            state_dir: persistent.then(|| dir.path().join("state")),
            ..Default::default()
        })
        .await
        .expect("emulator");
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, &running.ca_pem).expect("ca file");
        Emu {
            running,
            ca_file,
            dir,
            name: name.to_string(),
        }
    }

    /// The command line with the emulator, credentials and names filled in.
    pub fn command(&self, args: &[&str]) -> tokio::process::Command {
        let ready = &self.running.ready;
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_apimfn"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("AZURE_TENANT_ID", &ready.tenant_id)
            .env("AZURE_CLIENT_ID", &ready.client_id)
            .env("AZURE_CLIENT_SECRET", &ready.client_secret)
            .env("AZURE_SUBSCRIPTION_ID", &ready.subscription_id)
            .args(args)
            .args(["--no-progress", "--emulator"])
            .arg(&ready.url)
            .arg("--emulator-ca")
            .arg(&self.ca_file)
            // Through the environment, so a test can still override one with its flag.
            .env("APIMFN_AUTH", "client-secret")
            .env("APIMFN_NAME", &self.name)
            .env("APIMFN_LOCATION", "japaneast")
            .env("APIMFN_PUBLISHER_EMAIL", "ops@example.com")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        cmd
    }

    /// Run `apimfn ARGS…` to the end (at most 3 minutes).
    pub async fn run(&self, args: &[&str]) -> Run {
        let child = self.command(args).spawn().expect("spawn apimfn");
        let out = tokio::time::timeout(Duration::from_secs(180), child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("apimfn {args:?} ran for more than 3 minutes"))
            .expect("wait");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Stop the emulator and start it again on the same port with the same state directory (an
    /// emulator started with `persistent`), as a machine restart would; its CA and keys persist.
    pub async fn restart(self) -> Emu {
        let Emu {
            running,
            ca_file,
            dir,
            name,
        } = self;
        let port = running.addr.port();
        let time_scale = running.emulator.clock.time_scale;
        running.shutdown().await;
        let running = apimfn_emulator::start(Config {
            port,
            time_scale,
            state_dir: Some(dir.path().join("state")),
            ..Default::default()
        })
        .await
        .expect("emulator restarted");
        Emu {
            running,
            ca_file,
            dir,
            name,
        }
    }

    pub fn log(&self) -> Vec<LogEntry> {
        self.running.emulator.log_snapshot()
    }

    pub fn clear_log(&self) {
        self.running.emulator.clear_log();
    }

    /// apimfn's own client stack signed in as the seeded principal: for tests that change
    /// things "by hand" through ARM (drift, deletions) the way a user with `az rest` would.
    pub async fn azure(&self) -> apimfn::azure::Azure {
        let ready = &self.running.ready;
        let env: std::collections::HashMap<&str, String> = std::collections::HashMap::from([
            ("AZURE_TENANT_ID", ready.tenant_id.clone()),
            ("AZURE_CLIENT_ID", ready.client_id.clone()),
            ("AZURE_CLIENT_SECRET", ready.client_secret.clone()),
            ("AZURE_SUBSCRIPTION_ID", ready.subscription_id.clone()),
        ]);
        let lookup = |k: &str| env.get(k).cloned();
        let global = apimfn::cli::GlobalArgs {
            auth: Some("client-secret".into()),
            name: Some(self.name.clone()),
            ..Default::default()
        };
        let settings = apimfn::settings::resolve(&global, &lookup).expect("settings");
        let target =
            apimfn::transport::EmulatorTarget::with_ca_pem(&ready.url, self.running.ca_pem.clone())
                .expect("target");
        apimfn::azure::Azure::connect(&settings, Some(&target), &lookup)
            .await
            .expect("connect")
    }

    pub fn subscription(&self) -> &str {
        &self.running.ready.subscription_id
    }
}

/// Requests that change something: PUT/PATCH/DELETE, and POSTs other than the read-only ones
/// (CONTRACT §4) and token requests.
pub fn writes(log: &[LogEntry]) -> Vec<&LogEntry> {
    log.iter()
        .filter(|e| match e.method.as_str() {
            "GET" | "HEAD" | "OPTIONS" => false,
            "POST" => {
                let p = e.path.to_ascii_lowercase();
                !(e.host.starts_with("login.")
                    || p.ends_with("/listkeys")
                    || p.ends_with("/listsecrets")
                    || p.ends_with("/listvalue")
                    || p.ends_with("/checknameavailability")
                    || p.ends_with("/list"))
            }
            _ => true,
        })
        .collect()
}

/// `METHOD host path status` per entry, for assertion messages.
pub fn show(log: &[&LogEntry]) -> String {
    log.iter()
        .map(|e| format!("{} {}{} → {}", e.method, e.host, e.path, e.status))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `(resource, action)` of every entry of a report's `changes`.
pub fn changes(out: &serde_json::Value) -> Vec<(String, String)> {
    out["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            (
                c["resource"].as_str().unwrap_or("").to_string(),
                c["action"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}
