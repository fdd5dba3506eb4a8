//! `apimfn status`: each resource's existence and state, and what `setup` would still do. Never
//! writes.

use super::common::connect;
use super::verify::with_counts;
use crate::output::Printer;
use crate::settings::Settings;
use crate::steps::status::{Labels, observe, summarize, text, todo, unknown};
use serde_json::json;
use std::time::Instant;

pub async fn run(settings: &Settings, printer: &Printer) -> anyhow::Result<i32> {
    let started = Instant::now();
    let ctx = connect(settings, printer, |n| {
        n.storage()?;
        n.plan()?;
        n.container()?;
        Ok(())
    })
    .await?;
    let labels = Labels::from_ctx(&ctx)?;
    let step = ctx.printer.step("status");
    step.set("reading");
    let observed = observe(&ctx, &labels).await;
    let entries = summarize(&observed, &labels);
    step.finish("read");
    let remaining = todo(&entries);
    ctx.printer.result_json(&with_counts(
        &ctx,
        started,
        json!({
            "resourceGroup": ctx.names.resource_group,
            // Complete only when everything could be read and nothing is left to do.
            "complete": remaining.is_empty() && unknown(&entries) == 0,
            "resources": entries,
            "setupWouldDo": remaining,
        }),
    ));
    ctx.printer.result_text(&text(&entries));
    Ok(0)
}
