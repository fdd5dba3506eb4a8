//! `apimfn api import`.

use super::common::{connect, report};
use crate::cli::ApiImportArgs;
use crate::output::Printer;
use crate::settings::Settings;
use crate::steps::import::{import as import_api, validate_api_path};
use serde_json::json;
use std::time::Instant;

pub async fn import(
    settings: &Settings,
    printer: &Printer,
    args: &ApiImportArgs,
) -> anyhow::Result<i32> {
    let started = Instant::now();
    let mut path = String::new();
    let ctx = connect(settings, printer, |n| {
        // Default: the function app's name (what the portal suggests).
        path = args.api_path.clone().unwrap_or_else(|| n.app.clone());
        validate_api_path(&path)
    })
    .await?;
    let out = import_api(&ctx, &path).await?;
    let operations: Vec<_> = out
        .operations
        .iter()
        .map(|o| json!({"id": o.id, "method": o.method, "url": o.url}))
        .collect();
    report(
        &ctx,
        started,
        json!({
            "resourceGroup": ctx.names.resource_group,
            "api": {
                "id": out.api_id,
                "path": out.path,
                "url": out.url,
                "gatewayUrl": out.gateway_url,
                "operations": operations,
            }
        }),
    );
    Ok(0)
}
