//! `apimfn auth configure`.

use super::common::{connect, report};
use crate::cli::AuthConfigureArgs;
use crate::exit::UsageError;
use crate::output::Printer;
use crate::settings::Settings;
use crate::steps::auth::configure as configure_auth;
use serde_json::json;
use std::time::Instant;

pub async fn configure(
    settings: &Settings,
    printer: &Printer,
    args: &AuthConfigureArgs,
) -> anyhow::Result<i32> {
    let started = Instant::now();
    let ctx = connect(settings, printer, |_| {
        if let Some(id) = &args.client_id {
            crate::settings::rules::subscription(id).map_err(|_| {
                UsageError::invalid("--client-id", id, crate::settings::rules::SUBSCRIPTION)
            })?;
        }
        Ok(())
    })
    .await?;
    let out = configure_auth(&ctx, args.client_id.as_deref()).await?;
    report(
        &ctx,
        started,
        json!({
            "resourceGroup": ctx.names.resource_group,
            "auth": {
                "clientId": out.client_id,
                "audience": out.audience,
                "issuer": out.issuer,
                "appObjectId": out.app_object_id,
                "managedByApimfn": out.managed_by_apimfn,
            }
        }),
    );
    Ok(0)
}
