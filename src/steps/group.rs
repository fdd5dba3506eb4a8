//! The resource group: created when missing; an existing one keeps its location (a PUT with a
//! different location fails, arm-reference §1), and the user is told when it differs.

use super::versions::RESOURCES;
use super::{Action, Change, Ctx};
use crate::models::{ResourceGroup, same_location};
use serde_json::json;

/// What to do about the group, given what exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupDecision {
    Create,
    /// It exists; `elsewhere` is its location when that differs from the requested one.
    Exists {
        elsewhere: Option<String>,
    },
}

pub fn decide(current: Option<&ResourceGroup>, location: &str) -> GroupDecision {
    match current {
        None => GroupDecision::Create,
        Some(g) => {
            let loc = g.location.clone().unwrap_or_default();
            GroupDecision::Exists {
                elsewhere: (!loc.is_empty() && !same_location(&loc, location)).then_some(loc),
            }
        }
    }
}

/// Make sure the group exists. A group that exists in another region stays there (it cannot be
/// moved); the resources still go to `location`, which is what the user asked for and what the
/// Flex Consumption region check was made against.
pub async fn ensure(ctx: &Ctx, location: &str) -> anyhow::Result<()> {
    ctx.group_ready
        .get_or_try_init(|| ensure_once(ctx, location))
        .await
        .map(|_| ())
}

async fn ensure_once(ctx: &Ctx, location: &str) -> anyhow::Result<()> {
    let id = ctx.names.group_id();
    let current: Option<ResourceGroup> = match ctx.arm().get(&id, RESOURCES).await? {
        Some(v) => Some(serde_json::from_value(v)?),
        None => None,
    };
    match decide(current.as_ref(), location) {
        GroupDecision::Create => {
            if !ctx.dry_run {
                ctx.arm()
                    .put(&id, RESOURCES, &json!({"location": location}))
                    .await?;
            }
            ctx.changes
                .record(Change::new("resource group", &id, Action::Create));
            Ok(())
        }
        GroupDecision::Exists { elsewhere } => {
            ctx.changes
                .record(Change::new("resource group", &id, Action::None));
            if let Some(loc) = elsewhere {
                ctx.printer.warn(&format!(
                    "resource group {} already exists in {loc}, not {location}; keeping it there (its resources still go to {location})",
                    ctx.names.resource_group
                ));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(loc: &str) -> ResourceGroup {
        serde_json::from_value(serde_json::json!({"name": "rg", "location": loc})).expect("group")
    }

    #[test]
    fn missing_group_is_created_and_an_existing_one_keeps_its_location() {
        assert_eq!(decide(None, "japaneast"), GroupDecision::Create);
        assert_eq!(
            decide(Some(&group("japaneast")), "japaneast"),
            GroupDecision::Exists { elsewhere: None }
        );
        assert_eq!(
            decide(Some(&group("West Europe")), "japaneast"),
            GroupDecision::Exists {
                elsewhere: Some("West Europe".into())
            }
        );
    }
}
