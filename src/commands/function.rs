//! `apimfn function create` and `apimfn function deploy`.

use super::common::{connect, report};
use crate::cli::DeployArgs;
use crate::output::Printer;
use crate::settings::Settings;
use crate::steps::{deploy, function};
use serde_json::json;
use std::time::Instant;

pub async fn create(settings: &Settings, printer: &Printer) -> anyhow::Result<i32> {
    let started = Instant::now();
    let ctx = connect(settings, printer, |n| {
        n.location()?;
        n.plan()?;
        n.storage()?;
        n.container()?;
        Ok(())
    })
    .await?;
    let out = function::create(&ctx).await?;
    report(
        &ctx,
        started,
        json!({
            "resourceGroup": ctx.names.resource_group,
            "functionApp": {
                "name": ctx.names.app,
                "id": out.id,
                "defaultHostName": out.default_host_name,
                "principalId": out.principal_id,
            }
        }),
    );
    Ok(0)
}

pub async fn deploy(
    settings: &Settings,
    printer: &Printer,
    args: &DeployArgs,
) -> anyhow::Result<i32> {
    let started = Instant::now();
    // The package is built first: a bad --source is exit 2 with nothing sent.
    let package = match &args.source {
        Some(dir) => crate::template::package_dir(dir)?,
        None => crate::template::bundled_package()?,
    };
    let ctx = connect(settings, printer, |_| Ok(())).await?;
    let out = deploy::deploy(&ctx, &package, args.force).await?;
    report(
        &ctx,
        started,
        json!({
            "functionApp": {"name": ctx.names.app, "id": ctx.names.site_id()},
            "deployment": {
                "packageSha256": out.package_sha256,
                "uploaded": out.uploaded,
                "functions": out.functions,
            }
        }),
    );
    Ok(0)
}
