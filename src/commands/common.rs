//! What the step commands share: connecting (after the settings they need were checked, so
//! a missing one is exit 2 with nothing sent) and printing the report.

use crate::azure::Azure;
use crate::output::Printer;
use crate::settings::Settings;
use crate::steps::{Ctx, Names};
use serde_json::{Value, json};
use std::time::Instant;

/// Resolve the names (exit 2 when one is missing), run `check` for the command's own
/// requirements, then connect.
pub async fn connect(
    settings: &Settings,
    printer: &Printer,
    check: impl FnOnce(&Names) -> Result<(), crate::exit::UsageError>,
) -> anyhow::Result<Ctx> {
    let names = Names::resolve(settings)?;
    check(&names)?;
    // `--emulator embedded` was replaced by the running emulator's address in `main`; its seeded
    // credentials come through `embedded::env`.
    let azure = Azure::connect(settings, None, &crate::embedded::env).await?;
    Ok(Ctx::new(azure, names, printer.clone()))
}

/// Print the outcome of a step command: the changes as lines (text) or, with `-o json`, one
/// object with `outputs` merged in, the changes and the request counts (CONTRACT §4).
pub fn report(ctx: &Ctx, started: Instant, outputs: Value) {
    let changes = ctx.changes.all();
    let counts = ctx.arm().counter();
    let mut doc = match outputs {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    };
    doc.insert("changes".into(), json!(changes));
    doc.insert(
        "requests".into(),
        json!({"reads": counts.reads, "writes": counts.writes}),
    );
    doc.insert(
        "elapsedSeconds".into(),
        json!((started.elapsed().as_secs_f64() * 10.0).round() / 10.0),
    );
    ctx.printer.result_json(&Value::Object(doc));
    let mut text: Vec<String> = changes.iter().map(|c| c.line()).collect();
    text.push(summary(&changes, counts.reads, counts.writes));
    ctx.printer.result_text(&text.join("\n"));
}

/// `3 change(s), 16 unchanged; 40 read(s), 3 write(s)`: the last line of a step's text report.
pub fn summary(changes: &[crate::steps::Change], reads: u64, writes: u64) -> String {
    let pending = changes
        .iter()
        .filter(|c| c.action != crate::steps::Action::None)
        .count();
    format!(
        "{pending} change(s), {} unchanged; {reads} read(s), {writes} write(s)",
        changes.len() - pending
    )
}
