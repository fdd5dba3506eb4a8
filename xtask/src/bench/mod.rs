//! `cargo xtask bench`: measurements of apimfn against the in-process emulator, printed as
//! tables and written to `docs/performance.md` (a partial run — `--only`, `--quick` — writes
//! `target/bench/performance.md` instead, so it never replaces the full figures).
//!
//! 1. `setup-time`: wall time against the critical path and the sum of the steps, two time scales;
//! 2. `requests`: requests per fresh `setup` and per re-run (which must write nothing), and `az`;
//! 3. `scale`: N = 1, 5, 20 environments at once under ARM throttling (no failures allowed);
//! 4. `startup`: `--version` / `config show` wall time and peak memory, binary size, build times;
//! 5. `polling`: detection delay against polls per hour for the APIM activation wait.
//!
//! 1, 2 and 5 share their runs: each is a fresh emulator, a `setup` and a re-run.

mod emu;
mod machine;
mod polling;
mod reqlog;
mod requests;
mod scale;
mod setup_time;
mod startup;
mod table;

use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const BENCHES: [&str; 5] = ["setup-time", "requests", "scale", "startup", "polling"];

/// Failures written out in full in the document (the others by their first line).
const SHOWN: usize = 3;

/// The time scales of benchmark 1 (APIM activation 27 s and 5.4 s).
const SCALES: [f64; 2] = [0.01, 0.002];

pub struct Options {
    pub runs: usize,
    pub quick: bool,
    pub only: Option<String>,
    pub build: bool,
}

impl Options {
    fn wants(&self, name: &str) -> bool {
        self.only.as_deref().is_none_or(|o| o == name)
    }

    fn runs(&self) -> usize {
        if self.quick { 1 } else { self.runs.max(1) }
    }

    /// The command line that reproduces this run.
    fn command(&self) -> String {
        let mut cmd = String::from("cargo xtask bench");
        if self.quick {
            cmd.push_str(" --quick");
        } else {
            cmd.push_str(&format!(" --runs {}", self.runs));
        }
        if let Some(o) = &self.only {
            cmd.push_str(&format!(" --only {o}"));
        }
        if self.build {
            cmd.push_str(" --build");
        }
        cmd
    }
}

/// One benchmark's part of the report.
pub struct Section {
    pub title: String,
    /// Markdown: explanation, tables, notes.
    pub body: String,
    /// Conditions the bench requires (zero writes on a re-run, zero failures at scale) that did
    /// not hold; the bench exits non-zero when there are any.
    pub failures: Vec<String>,
}

impl Section {
    fn render(&self) -> String {
        format!("## {}\n\n{}\n", self.title, self.body)
    }
}

fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => root.join(d),
        None => root.join("target"),
    }
}

/// `cargo build --release -p apimfn`; the path of the binary.
fn build_release(root: &Path, target: &Path) -> anyhow::Result<PathBuf> {
    eprintln!("bench: cargo build --release -p apimfn …");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root)
        .args(["build", "--release", "--quiet", "-p", "apimfn"])
        .status()
        .context("running cargo build --release")?;
    if !status.success() {
        anyhow::bail!("cargo build --release -p apimfn failed");
    }
    let bin = target.join("release").join("apimfn");
    anyhow::ensure!(bin.exists(), "no release binary at {}", bin.display());
    Ok(bin)
}

fn print(section: &Section) {
    println!("{}", section.render());
}

pub fn run(opts: &Options) -> anyhow::Result<()> {
    let root = workspace_root();
    let target = target_dir(&root);
    let load_before = machine::loadavg();
    let started = machine::now();
    let bin = build_release(&root, &target)?;
    let runtime = tokio::runtime::Runtime::new().context("tokio runtime")?;
    let runs = opts.runs();
    let mut sections = Vec::new();

    if opts.wants("startup") {
        let plan = startup::Plan {
            bin: &bin,
            root: &root,
            target_dir: &target,
            repeats: if opts.quick { 3 } else { 20 },
            warm_build: !opts.quick,
            cold_build: opts.build,
        };
        sections.push(startup::section(&plan)?);
        sections.last().into_iter().for_each(print);
    }

    if ["setup-time", "requests", "polling"]
        .iter()
        .any(|b| opts.wants(b))
    {
        let mut samples = Vec::new();
        for scale in SCALES {
            samples.extend(runtime.block_on(setup_time::collect(&bin, scale, runs))?);
        }
        if opts.wants("setup-time") {
            sections.push(setup_time::section(&samples, &SCALES));
            sections.last().into_iter().for_each(print);
        }
        if opts.wants("requests") {
            sections.push(requests::section(&samples, &SCALES));
            sections.last().into_iter().for_each(print);
        }
        if opts.wants("polling") {
            sections.push(polling::section(&samples, &SCALES));
            sections.last().into_iter().for_each(print);
        }
    }

    if opts.wants("scale") {
        let sizes: &[usize] = if opts.quick { &[1, 2] } else { &[1, 5, 20] };
        let scale_runs = runs.min(3);
        sections.push(runtime.block_on(scale::section(&bin, sizes, scale_runs))?);
        sections.last().into_iter().for_each(print);
    }

    sections.sort_by_key(|s| s.title.clone());
    let doc = document(opts, &root, &started, &load_before, &sections);
    let full = opts.only.is_none() && !opts.quick;
    let out = if full {
        root.join("docs/performance.md")
    } else {
        target.join("bench/performance.md")
    };
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&out, doc).with_context(|| format!("writing {}", out.display()))?;
    eprintln!("bench: wrote {}", out.display());

    let failures: Vec<&String> = sections.iter().flat_map(|s| &s.failures).collect();
    if !failures.is_empty() {
        for f in &failures {
            eprintln!("bench: FAILED: {f}");
        }
        anyhow::bail!("{} benchmark condition(s) failed", failures.len());
    }
    Ok(())
}

fn document(
    opts: &Options,
    root: &Path,
    started: &str,
    load_before: &str,
    sections: &[Section],
) -> String {
    let mut doc = String::from("# Performance\n\n");
    doc.push_str(&format!(
        "Measured against the in-process emulator (`apimfn-emulator`) with the release binary. \
         Reproduce with:\n\n```sh\n{}\n```\n\n\
         (`--runs N` sets the runs per figure, default 5 — the scale benchmark uses at most 3; \
         `--quick` makes one small run for a CI smoke test; `--only NAME` runs one of {}; \
         `--build` adds the cold build. Partial runs write `target/bench/performance.md`.) \
         Every figure is a median over the runs unless it says otherwise.\n\n\
         Started {started}, commit {}. The machine:\n\n{}\n",
        opts.command(),
        BENCHES.map(|b| format!("`{b}`")).join(", "),
        machine::commit(root),
        machine::facts(root, load_before, &machine::loadavg()),
    ));
    doc.push_str(
        "Other work may have shared the machine (see the load average); the emulator runs in the \
         bench's own process, so it competes with apimfn for the same cores.\n\n",
    );
    for s in sections {
        doc.push_str(&s.render());
    }
    let failures: Vec<&String> = sections.iter().flat_map(|s| &s.failures).collect();
    if !failures.is_empty() {
        doc.push_str(&format!(
            "## Failures\n\n{} condition(s) failed; the first {SHOWN} in full, then the rest by \
             their first line (all of them are printed on stderr):\n\n",
            failures.len()
        ));
        for f in failures.iter().take(SHOWN) {
            doc.push_str(&format!("```\n{f}\n```\n\n"));
        }
        for f in failures.iter().skip(SHOWN) {
            doc.push_str(&format!("- {}\n", f.lines().next().unwrap_or_default()));
        }
    }
    doc
}
