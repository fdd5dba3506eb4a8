//! `apimfn destroy [--yes] [--keep-app-registration]`.

use super::common::{connect, report};
use crate::cli::DestroyArgs;
use crate::exit::UsageError;
use crate::output::Printer;
use crate::settings::Settings;
use crate::steps::Names;
use crate::steps::destroy::{DestroyOptions, confirmed, decide, describe, execute, survey};
use serde_json::json;
use std::io::IsTerminal;
use std::time::Instant;

pub async fn run(
    settings: &Settings,
    printer: &Printer,
    args: &DestroyArgs,
) -> anyhow::Result<i32> {
    let started = Instant::now();
    // Refuse before any network call when nobody can answer the question.
    let names = Names::resolve(settings)?;
    if !args.yes && !std::io::stdin().is_terminal() {
        return Err(UsageError::new(format!(
            "destroy deletes resource group {} and everything in it, and cannot ask for confirmation because stdin is not a terminal: pass --yes to confirm",
            names.resource_group
        ))
        .into());
    }
    let ctx = connect(settings, printer, |_| Ok(())).await?;
    let opts = DestroyOptions {
        keep_app_registration: args.keep_app_registration,
    };
    let found = survey(&ctx, opts).await?;
    let plan = decide(&found, opts);
    if plan.is_empty() {
        ctx.printer.info("destroy: nothing to delete");
    } else if !args.yes {
        let mut prompt = String::from("apimfn destroy will:\n");
        for d in &plan {
            prompt.push_str(&format!("  - {}\n", describe(d, &ctx)));
        }
        prompt.push_str(&format!(
            "Type the resource group name ({}) to confirm: ",
            ctx.names.resource_group
        ));
        let answer = ask(&prompt).await?;
        if !confirmed(&answer, &ctx.names.resource_group) {
            return Err(UsageError::new("not confirmed: nothing was deleted").into());
        }
    }
    let out = execute(&ctx, &found, &plan, opts).await?;
    for l in &out.left {
        ctx.printer.warn(l);
    }
    report(
        &ctx,
        started,
        json!({"resourceGroup": ctx.names.resource_group, "destroy": out.json()}),
    );
    Ok(0)
}

/// Print `prompt` on stderr and read one line from stdin (off the async threads).
async fn ask(prompt: &str) -> anyhow::Result<String> {
    eprint!("{prompt}");
    let line = tokio::task::spawn_blocking(|| {
        let mut s = String::new();
        std::io::stdin().read_line(&mut s).map(|_| s)
    })
    .await??;
    Ok(line)
}
