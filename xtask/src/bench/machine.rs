//! Facts about the machine a measurement ran on.

use std::path::Path;
use std::process::Command;

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// The three load averages, e.g. `0.52 0.49 0.71`.
pub fn loadavg() -> String {
    read("/proc/loadavg")
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn mem_total_gib() -> Option<f64> {
    let text = read("/proc/meminfo");
    let kib: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kib / 1024.0 / 1024.0)
}

fn cpu_model() -> String {
    read("/proc/cpuinfo")
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

fn output(cmd: &str, args: &[&str], dir: &Path) -> String {
    Command::new(cmd)
        .args(args)
        .current_dir(dir)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

pub fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

pub fn commit(root: &Path) -> String {
    let hash = output("git", &["rev-parse", "--short", "HEAD"], root);
    let dirty = !output(
        "git",
        &["status", "--porcelain", "--untracked-files=no"],
        root,
    )
    .is_empty();
    if dirty {
        format!("{hash} + uncommitted changes")
    } else {
        hash
    }
}

/// Markdown bullet list of the machine facts.
pub fn facts(root: &Path, load_before: &str, load_after: &str) -> String {
    let nproc = std::thread::available_parallelism()
        .map(|n| n.get().to_string())
        .unwrap_or_else(|_| "unknown".into());
    let mem = mem_total_gib()
        .map(|g| format!("{g:.1} GiB"))
        .unwrap_or_else(|| "unknown".into());
    format!(
        "- CPUs (`nproc`): {nproc} — {}\n- memory: {mem}\n- load average (1, 5, 15 min) before: {load_before}; after: {load_after}\n- {}; {}\n",
        cpu_model(),
        output("rustc", &["--version"], root),
        output("uname", &["-sr"], root),
    )
}
