//! `apimfn verify`: direct call refused (401), call through APIM answered (200); exit 3 otherwise.

use super::common::connect;
use crate::exit::VerifyFailed;
use crate::output::Printer;
use crate::settings::Settings;
use crate::steps::Ctx;
use crate::steps::verify::{VerifyOutcome, run as verify};
use serde_json::{Value, json};
use std::time::Instant;

pub async fn run(settings: &Settings, printer: &Printer) -> anyhow::Result<i32> {
    let started = Instant::now();
    let ctx = connect(settings, printer, |_| Ok(())).await?;
    let out = verify(&ctx).await?;
    ctx.printer.result_json(&with_counts(
        &ctx,
        started,
        json!({"resourceGroup": ctx.names.resource_group, "verify": out.json()}),
    ));
    ctx.printer.result_text(&text(&out));
    if out.passed {
        return Ok(0);
    }
    Err(VerifyFailed {
        message: format!(
            "verification failed: {}",
            out.diagnosis.as_deref().unwrap_or("no diagnosis")
        ),
    }
    .into())
}

/// `doc` with the request counts and the elapsed time added (CONTRACT §4).
pub(crate) fn with_counts(ctx: &Ctx, started: Instant, doc: Value) -> Value {
    let mut doc = match doc {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    };
    let counts = ctx.arm().counter();
    doc.insert(
        "requests".into(),
        json!({"reads": counts.reads, "writes": counts.writes}),
    );
    doc.insert(
        "elapsedSeconds".into(),
        json!((started.elapsed().as_secs_f64() * 10.0).round() / 10.0),
    );
    Value::Object(doc)
}

fn text(out: &VerifyOutcome) -> String {
    let line = |label: &str, url: &Option<String>, status: Option<u16>, want: &str| {
        let got = status.map_or("no answer".to_string(), |s| s.to_string());
        format!(
            "{label:<9} {got:<9} (want {want})  {}",
            url.as_deref().unwrap_or("(not called)")
        )
    };
    let mut lines = vec![
        line(
            "direct",
            &out.direct_url,
            out.direct.as_ref().and_then(|p| p.status),
            "401",
        ),
        line(
            "via APIM",
            &out.gateway_url,
            out.via_apim.as_ref().and_then(|p| p.status),
            "200",
        ),
    ];
    lines.push(if out.passed {
        "verification passed: the function refuses direct calls and answers through APIM".into()
    } else {
        "verification failed (see the diagnosis on stderr)".into()
    });
    lines.join("\n")
}
