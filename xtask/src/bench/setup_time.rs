//! Benchmark 1: `setup` wall time against its critical path and the sum of its steps, at two time
//! scales, one fresh emulator per run. The same runs (a fresh `setup`, then a re-run on the
//! finished environment) feed the request counts and the measured polling delay.

use super::Section;
use super::emu::{Emu, Finished, finish};
use super::reqlog::Activation;
use super::table::{Table, median, num};
use apimfn_emulator::server::LogEntry;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// The environment name used by every single-environment run.
pub const NAME: &str = "b1";

/// One fresh `setup` and the re-run after it, with the emulator's view of both.
pub struct Sample {
    pub scale: f64,
    pub fresh: Finished,
    pub fresh_report: Value,
    pub fresh_log: Vec<LogEntry>,
    pub activation: Option<Activation>,
    pub rerun: Finished,
    pub rerun_report: Value,
    pub rerun_log: Vec<LogEntry>,
}

/// `runs` samples at `scale`, each on its own fresh emulator.
pub async fn collect(bin: &Path, scale: f64, runs: usize) -> anyhow::Result<Vec<Sample>> {
    let mut samples = Vec::new();
    for i in 1..=runs {
        let sample = one(bin, scale).await?;
        eprintln!(
            "bench: setup at time scale {scale}, run {i}/{runs}: {:.2} s (re-run {:.2} s)",
            sample.fresh.wall_s, sample.rerun.wall_s
        );
        samples.push(sample);
    }
    Ok(samples)
}

async fn one(bin: &Path, scale: f64) -> anyhow::Result<Sample> {
    let emu = Emu::start(scale).await?;
    let fresh = finish(emu.command(bin, NAME, &["setup", "-o", "json"])).await?;
    if fresh.code != 0 {
        anyhow::bail!(
            "a fresh setup failed (exit {}):\n{}",
            fresh.code,
            super::emu::tail(&fresh.stderr, 30)
        );
    }
    let fresh_report = fresh.json()?;
    let fresh_log = emu.log();
    let activation = emu.activation(NAME);
    emu.clear_log();
    let rerun = finish(emu.command(bin, NAME, &["setup", "-o", "json"])).await?;
    let rerun_report = rerun.json()?;
    let rerun_log = emu.log();
    emu.stop().await;
    Ok(Sample {
        scale,
        fresh,
        fresh_report,
        fresh_log,
        activation,
        rerun,
        rerun_report,
        rerun_log,
    })
}

fn field(report: &Value, pointer: &str) -> Option<f64> {
    report.pointer(pointer).and_then(Value::as_f64)
}

fn med(samples: &[&Sample], f: impl Fn(&Sample) -> Option<f64>) -> Option<f64> {
    let values: Vec<f64> = samples.iter().filter_map(|s| f(s)).collect();
    median(&values)
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

/// Per scale: medians of the wall time, the report's figures and the ratios (each ratio is the
/// median of the per-run ratios).
fn times_table(samples: &[Sample], scales: &[f64]) -> Table {
    let mut t = Table::new(&[
        "time scale",
        "APIM activation (modelled)",
        "runs",
        "wall (around the process)",
        "elapsedSeconds",
        "critical path",
        "sum of steps",
        "wall / critical path",
        "wall / sum",
    ]);
    for &scale in scales {
        let runs: Vec<&Sample> = samples.iter().filter(|s| s.scale == scale).collect();
        let cp = |s: &Sample| field(&s.fresh_report, "/criticalPath/seconds");
        let sum = |s: &Sample| field(&s.fresh_report, "/sumOfStepsSeconds");
        t.row(vec![
            format!("{scale}"),
            format!("{:.1} s", 45.0 * 60.0 * scale),
            runs.len().to_string(),
            format!("{} s", num(med(&runs, |s| Some(s.fresh.wall_s)), 2)),
            format!(
                "{} s",
                num(med(&runs, |s| field(&s.fresh_report, "/elapsedSeconds")), 2)
            ),
            format!("{} s", num(med(&runs, cp), 2)),
            format!("{} s", num(med(&runs, sum), 2)),
            num(med(&runs, |s| ratio(Some(s.fresh.wall_s), cp(s))), 3),
            num(med(&runs, |s| ratio(Some(s.fresh.wall_s), sum(s))), 3),
        ]);
    }
    t
}

/// Median duration of every step, one column per scale, in graph order.
fn steps_table(samples: &[Sample], scales: &[f64]) -> Table {
    let mut headers = vec!["step".to_string()];
    headers.extend(scales.iter().map(|s| format!("scale {s}")));
    let mut t = Table {
        headers,
        rows: Vec::new(),
    };
    let mut order: Vec<String> = Vec::new();
    let mut by_scale: BTreeMap<(String, usize), Vec<f64>> = BTreeMap::new();
    for s in samples {
        let Some(col) = scales.iter().position(|x| *x == s.scale) else {
            continue;
        };
        for step in s.fresh_report["steps"].as_array().into_iter().flatten() {
            let name = step["name"].as_str().unwrap_or("?").to_string();
            if !order.contains(&name) {
                order.push(name.clone());
            }
            if let Some(secs) = step["seconds"].as_f64() {
                by_scale.entry((name, col)).or_default().push(secs);
            }
        }
    }
    for name in order {
        let mut row = vec![name.clone()];
        for col in 0..scales.len() {
            let values = by_scale
                .get(&(name.clone(), col))
                .cloned()
                .unwrap_or_default();
            row.push(format!("{} s", num(median(&values), 2)));
        }
        t.row(row);
    }
    t
}

pub fn section(samples: &[Sample], scales: &[f64]) -> Section {
    let critical = samples
        .first()
        .and_then(|s| s.fresh_report["criticalPath"]["steps"].as_array())
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" → ")
        })
        .unwrap_or_default();
    let mut body = String::new();
    body.push_str(
        "A fresh emulator per run, one `apimfn setup -o json` from nothing to verified. \
         `wall` is measured around the process by the bench; `critical path` and `sum of steps` \
         are the report's `criticalPath.seconds` and `sumOfStepsSeconds`. Medians over the runs \
         (each ratio is the median of the per-run ratios).\n\n",
    );
    body.push_str(&times_table(samples, scales).render());
    body.push_str(&format!(
        "\nCritical path reported: `{critical}`.\n\nMedian step durations:\n\n"
    ));
    body.push_str(&steps_table(samples, scales).render());
    body.push_str(
        "\nWhat lies off the critical path (`function`, `deploy`, `registration`, `easy-auth`) \
         is the most parallelism can save, so wall / sum cannot go far below \
         critical path / sum. The remote build in `deploy` runs pip/Python for real and is not \
         time-scaled, so at the smaller scale the activation shrinks while the build does not.\n",
    );
    Section {
        title: "1. `setup` wall time, critical path, sum of steps".into(),
        body,
        failures: Vec::new(),
    }
}
