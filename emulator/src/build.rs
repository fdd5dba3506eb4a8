//! Remote build, as Oryx does it for a Python function app: unpack the package, then a virtual
//! environment with `pip install -r requirements.txt`.
//!
//! Sources: arm-reference §4 (remote build is forced for Python; `requirements.txt` at the root of
//! the zip; do not list `azure-functions-worker`); Microsoft docs "Deployment technologies in Azure
//! Functions" → remote build (Oryx runs `pip install -r requirements.txt`) and "Python developer
//! reference" (the package is built for the app's Python version).
//!
//! Emulator choices (documented in `docs/emulator.md`): the machine's `python3` builds every app
//! whatever `functionAppConfig.runtime.version` says (the build log says which version it used);
//! environments are cached by the SHA-256 of the Python version and `requirements.txt` under
//! `envs/{hash}/` in the state directory (a temporary state directory shares
//! `{tmp}/apimfn-emulator-envs/` so test runs stay fast; `APIMFN_EMULATOR_ENV_CACHE` overrides
//! both). Every external process runs through `tokio::process` and unpacking on a blocking
//! thread, never on the async executor.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Kudu's log entry types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogType {
    Message = 0,
    Warning = 1,
    Error = 2,
}

/// Where a build step writes its log lines.
pub type Logger<'a> = &'a (dyn Fn(&str, LogType) + Send + Sync);

/// The longest a venv creation or a pip install may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(900);

/// Unpack a zip package into `dest` (on a blocking thread); returns the number of entries.
pub async fn unpack(bytes: bytes::Bytes, dest: PathBuf) -> Result<usize, String> {
    tokio::task::spawn_blocking(move || unpack_blocking(&bytes, &dest))
        .await
        .map_err(|e| format!("unpacking failed: {e}"))?
}

fn unpack_blocking(bytes: &[u8], dest: &Path) -> Result<usize, String> {
    std::fs::create_dir_all(dest).map_err(|e| format!("creating {}: {e}", dest.display()))?;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| format!("The package is not a valid zip file: {e}"))?;
    // `extract` refuses entries that would escape `dest` (`..`, absolute paths).
    archive
        .extract(dest)
        .map_err(|e| format!("Extracting the package failed: {e}"))?;
    Ok(archive.len())
}

/// The interpreter builds use: `APIMFN_EMULATOR_PYTHON` or `python3` on the PATH.
pub fn base_python() -> String {
    std::env::var("APIMFN_EMULATOR_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// Where built environments are cached.
pub fn env_cache(work_dir: &Path, persistent: bool) -> PathBuf {
    if let Some(dir) = std::env::var_os("APIMFN_EMULATOR_ENV_CACHE") {
        return PathBuf::from(dir);
    }
    if persistent {
        work_dir.join("envs")
    } else {
        std::env::temp_dir().join("apimfn-emulator-envs")
    }
}

/// Run a command; `Ok((success, exit code, combined stdout+stderr))`.
pub async fn run(cmd: &mut tokio::process::Command) -> Result<(bool, i32, String), String> {
    cmd.stdin(std::process::Stdio::null()).kill_on_drop(true);
    let out = tokio::time::timeout(STEP_TIMEOUT, cmd.output())
        .await
        .map_err(|_| format!("timed out after {} s", STEP_TIMEOUT.as_secs()))?
        .map_err(|e| e.to_string())?;
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    let err = String::from_utf8_lossy(&out.stderr);
    if !err.trim().is_empty() {
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&err);
    }
    Ok((out.status.success(), out.status.code().unwrap_or(-1), text))
}

fn log_lines(log: Logger<'_>, text: &str, kind: LogType) {
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        log(line, kind);
    }
}

/// The SHA-256 (hex) that names a cached environment.
pub fn env_hash(python_version: &str, requirements: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(b"python ");
    h.update(python_version.as_bytes());
    h.update(b"\n");
    h.update(requirements);
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Build (or reuse) the environment for the app unpacked in `app_dir`; returns the path of its
/// python. A failing `pip install` returns `Err` after writing pip's output to the log.
pub async fn environment(app_dir: &Path, cache: &Path, log: Logger<'_>) -> Result<PathBuf, String> {
    let base = base_python();
    let (ok, _, version) = run(tokio::process::Command::new(&base)
        .args(["-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"]))
    .await
    .map_err(|e| format!("Could not run {base}: {e}"))?;
    let version = version.trim().to_string();
    if !ok {
        return Err(format!("Could not run {base}: {version}"));
    }
    log(
        &format!("Python Version: {version} (the emulator builds with the machine's {base})"),
        LogType::Message,
    );
    let req_path = app_dir.join("requirements.txt");
    let requirements = tokio::fs::read(&req_path).await.ok();
    if requirements.is_none() {
        log(
            "Could not find requirements.txt at the root of the package: no packages installed.",
            LogType::Warning,
        );
    }
    let hash = env_hash(&version, requirements.as_deref().unwrap_or_default());
    let env = cache.join(&hash);
    let python = env.join("bin").join("python");
    if env.join(".complete").exists() && python.exists() {
        log(
            &format!("Using the cached virtual environment envs/{hash}."),
            LogType::Message,
        );
        return Ok(python);
    }
    tokio::fs::create_dir_all(cache)
        .await
        .map_err(|e| format!("creating {}: {e}", cache.display()))?;
    // Built under a unique name and renamed into place, so concurrent builds of the same
    // requirements never see a half-built environment.
    let tmp = cache.join(format!("{hash}.tmp-{}", uuid::Uuid::new_v4().simple()));
    let result = build_into(
        &base,
        &tmp,
        requirements.is_some().then_some(&req_path),
        log,
    )
    .await;
    if let Err(e) = result {
        let _ = tokio::fs::remove_dir_all(&tmp).await;
        return Err(e);
    }
    let _ = tokio::fs::write(tmp.join(".complete"), b"").await;
    if tokio::fs::rename(&tmp, &env).await.is_err() {
        // Another build of the same requirements won the race: use it.
        let _ = tokio::fs::remove_dir_all(&tmp).await;
        if !env.join(".complete").exists() {
            return Err(format!(
                "could not store the environment at {}",
                env.display()
            ));
        }
    }
    log(
        &format!("Stored the virtual environment as envs/{hash}."),
        LogType::Message,
    );
    Ok(python)
}

async fn build_into(
    base: &str,
    env: &Path,
    requirements: Option<&PathBuf>,
    log: Logger<'_>,
) -> Result<(), String> {
    log("Creating a virtual environment.", LogType::Message);
    let (ok, code, out) = run(tokio::process::Command::new(base)
        .arg("-m")
        .arg("venv")
        .arg(env))
    .await
    .map_err(|e| format!("python -m venv failed: {e}"))?;
    if !ok {
        log_lines(log, &out, LogType::Error);
        return Err(format!("python -m venv failed with exit code {code}"));
    }
    let Some(req) = requirements else {
        return Ok(());
    };
    log(
        "Running pip install -r requirements.txt...",
        LogType::Message,
    );
    let (ok, code, out) = run(tokio::process::Command::new(env.join("bin").join("python"))
        .args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-input",
            "--progress-bar",
            "off",
            "-q",
            "-r",
        ])
        .arg(req)
        .env("PIP_NO_INPUT", "1"))
    .await
    .map_err(|e| format!("pip install failed: {e}"))?;
    log_lines(
        log,
        &out,
        if ok { LogType::Message } else { LogType::Error },
    );
    if !ok {
        return Err(format!(
            "pip install -r requirements.txt failed with exit code {code}"
        ));
    }
    log("pip install finished.", LogType::Message);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_depends_on_python_and_requirements() {
        let a = env_hash("3.11.7", b"azure-functions\n");
        assert_eq!(a.len(), 64);
        assert_ne!(a, env_hash("3.12.1", b"azure-functions\n"));
        assert_ne!(a, env_hash("3.11.7", b"azure-functions==1.0\n"));
        assert_eq!(a, env_hash("3.11.7", b"azure-functions\n"));
    }

    #[test]
    fn a_zip_that_is_not_one_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = unpack_blocking(b"not a zip", dir.path()).expect_err("refused");
        assert!(err.contains("not a valid zip"), "{err}");
    }
}
