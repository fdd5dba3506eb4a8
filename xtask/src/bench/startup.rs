//! Benchmark 4: start-up cost (`apimfn --version`, `apimfn config show`: wall time and peak
//! memory), the release binary's size, and build times.

use super::Section;
use super::table::{Table, median, num};
use anyhow::Context;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

const TIME: &str = "/usr/bin/time";

/// `apimfn ARGS` with a clean environment that resolves every setting without a network call.
fn apimfn(bin: &Path, home: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin);
    prepare(&mut cmd, home);
    cmd.args(args);
    cmd
}

fn prepare(cmd: &mut Command, home: &Path) {
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env(
            "AZURE_SUBSCRIPTION_ID",
            "00000000-0000-0000-0000-000000000001",
        )
        .env("APIMFN_NAME", "b1")
        .env("APIMFN_LOCATION", "japaneast")
        .env("APIMFN_PUBLISHER_EMAIL", "ops@example.com")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
}

/// Wall time of one run, in milliseconds; an error if it does not exit 0.
fn timed(mut cmd: Command) -> anyhow::Result<f64> {
    let started = Instant::now();
    let out = cmd.output().context("running apimfn")?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if !out.status.success() {
        anyhow::bail!(
            "apimfn exited {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(ms)
}

/// Peak resident set size in MiB, from `/usr/bin/time -v`.
fn peak_rss_mib(bin: &Path, home: &Path, args: &[&str]) -> anyhow::Result<Option<f64>> {
    if !Path::new(TIME).exists() {
        return Ok(None);
    }
    let mut cmd = Command::new(TIME);
    prepare(&mut cmd, home);
    cmd.arg("-v").arg(bin).args(args);
    let out = cmd.output().context("running /usr/bin/time -v apimfn")?;
    Ok(parse_max_rss_kib(&String::from_utf8_lossy(&out.stderr)).map(|k| k as f64 / 1024.0))
}

/// `Maximum resident set size (kbytes): N` from GNU time's verbose output.
pub fn parse_max_rss_kib(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
        .and_then(|v| v.trim().parse().ok())
}

/// Seconds taken by `cargo build --release -p apimfn` with `target_dir`.
fn cargo_build_s(root: &Path, target_dir: &Path) -> anyhow::Result<f64> {
    let started = Instant::now();
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root)
        .env("CARGO_TARGET_DIR", target_dir)
        .args(["build", "--release", "--quiet", "-p", "apimfn"])
        .status()
        .context("running cargo build")?;
    if !status.success() {
        anyhow::bail!("cargo build --release failed");
    }
    Ok(started.elapsed().as_secs_f64())
}

fn touch(path: &Path) -> anyhow::Result<()> {
    let file = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    file.set_modified(std::time::SystemTime::now())
        .with_context(|| format!("touching {}", path.display()))
}

pub struct Plan<'a> {
    pub bin: &'a Path,
    pub root: &'a Path,
    pub target_dir: &'a Path,
    pub repeats: usize,
    pub warm_build: bool,
    pub cold_build: bool,
}

pub fn section(plan: &Plan) -> anyhow::Result<Section> {
    let home = tempfile::tempdir().context("temporary HOME")?;
    let mut t = Table::new(&[
        "command",
        "runs",
        "median wall",
        "min wall",
        "peak RSS (median of 5)",
    ]);
    for args in [&["--version"][..], &["config", "show"][..]] {
        timed(apimfn(plan.bin, home.path(), args))?; // warm the page cache
        let mut walls = Vec::new();
        for _ in 0..plan.repeats {
            walls.push(timed(apimfn(plan.bin, home.path(), args))?);
        }
        let mut rss = Vec::new();
        for _ in 0..5 {
            if let Some(m) = peak_rss_mib(plan.bin, home.path(), args)? {
                rss.push(m);
            }
        }
        let min = walls.iter().copied().fold(f64::INFINITY, f64::min);
        t.row(vec![
            format!("apimfn {}", args.join(" ")),
            plan.repeats.to_string(),
            format!("{} ms", num(median(&walls), 1)),
            format!("{min:.1} ms"),
            median(&rss)
                .map(|m| format!("{m:.1} MiB"))
                .unwrap_or_else(|| "– (no /usr/bin/time)".into()),
        ]);
    }
    let size = std::fs::metadata(plan.bin).context("release binary")?.len();
    let mut b = Table::new(&["what", "figure"]);
    b.row(vec![
        "release binary size".into(),
        format!("{:.1} MiB ({size} bytes)", size as f64 / 1048576.0),
    ]);
    let warm = if plan.warm_build {
        eprintln!("bench: warm build (touch src/lib.rs, cargo build --release -p apimfn)…");
        touch(&plan.root.join("src/lib.rs"))?;
        format!("{:.1} s", cargo_build_s(plan.root, plan.target_dir)?)
    } else {
        "not run (`--quick`)".into()
    };
    b.row(vec![
        "warm release build (touch `src/lib.rs`, rebuild)".into(),
        warm,
    ]);
    let cold = if plan.cold_build {
        eprintln!("bench: cold build in a fresh target directory (minutes)…");
        let fresh = tempfile::tempdir().context("fresh target directory")?;
        format!("{:.1} s", cargo_build_s(plan.root, fresh.path())?)
    } else {
        "not run (pass `--build`)".into()
    };
    b.row(vec![
        "cold release build (fresh `CARGO_TARGET_DIR`, dependencies included)".into(),
        cold,
    ]);
    let mut body = String::from(
        "The release binary, a clean environment (settings from environment variables, no \
         config file, no network). Wall time measured around the process; peak memory is GNU \
         time's maximum resident set size.\n\n",
    );
    body.push_str(&t.render());
    body.push('\n');
    body.push_str(&b.render());
    Ok(Section {
        title: "4. Start-up, binary size, build time".into(),
        body,
        failures: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn gnu_time_peak_memory_is_read() {
        let text = "\tCommand being timed: \"apimfn --version\"\n\tMaximum resident set size (kbytes): 9876\n\tExit status: 0\n";
        assert_eq!(super::parse_max_rss_kib(text), Some(9876));
        assert_eq!(super::parse_max_rss_kib("nothing"), None);
    }
}
