//! `apimfn apim create`.

use super::common::{connect, report};
use crate::cli::ApimCreateArgs;
use crate::output::Printer;
use crate::settings::Settings;
use crate::steps::apim::{ApimOptions, create as create_apim};
use serde_json::json;
use std::time::Instant;

pub async fn create(
    settings: &Settings,
    printer: &Printer,
    args: &ApimCreateArgs,
) -> anyhow::Result<i32> {
    let started = Instant::now();
    let ctx = connect(settings, printer, |n| {
        n.location()?;
        n.publisher_email()?;
        Ok(())
    })
    .await?;
    let opts = ApimOptions {
        no_wait: args.no_wait,
        recover: args.recover,
        purge_soft_deleted: args.purge_soft_deleted,
    };
    let out = create_apim(&ctx, opts).await?;
    report(
        &ctx,
        started,
        json!({
            "resourceGroup": ctx.names.resource_group,
            "apim": {
                "name": ctx.names.apim,
                "id": out.id,
                "gatewayUrl": out.gateway_url,
                "principalId": out.principal_id,
                "provisioningState": out.provisioning_state,
            }
        }),
    );
    Ok(0)
}
