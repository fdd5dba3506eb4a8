//! The steps of the setup, one file each (CONTRACT §2). Every step follows the same shape:
//! read what exists, decide what must change (a pure function, unit-tested on canned answers),
//! change only that, wait until Azure says it is done, and report what it did as [`Change`]s.
//!
//! - `group`: the resource group (shared by `apim create` and `function create`);
//! - `apim`: `apim create` — name check, soft-deleted names, the service and its activation;
//! - `function`: `function create` — storage, container, plan, site, role assignment;
//! - `deploy`: `function deploy` — zip, SCM upload, build, function listing;
//! - `import`: `api import` — host key, named value, backend, API, operations, policy;
//! - `auth`: `auth configure` — app registration, authsettingsV2, the managed-identity policy;
//! - `policy`: editing the API policy XML without touching what the user added;
//! - `verify`, `status`, `destroy`: the commands of the same names;
//! - `diff`: desired-versus-current comparison shared by every step;
//! - `change`: the report of what a step did or would do.

pub mod apim;
pub mod auth;
pub mod change;
pub mod deploy;
pub mod destroy;
pub mod diff;
pub mod function;
pub mod graph;
pub mod group;
pub mod import;
pub mod names;
pub mod policy;
pub mod status;
pub mod verify;
pub mod versions;

pub use change::{Action, Change, Changes, FieldChange};
pub use names::Names;

use crate::azure::{Azure, Pace};
use crate::output::Printer;

/// What every step needs: the connection, the names, the printer, and where changes go.
#[derive(Clone)]
pub struct Ctx {
    pub azure: Azure,
    pub names: Names,
    pub printer: Printer,
    pub changes: Changes,
    /// Set once the resource group is known to exist: steps of one run that all need it
    /// (`setup` runs several at once) ensure it once.
    pub group_ready: std::sync::Arc<tokio::sync::OnceCell<()>>,
    /// `plan` / `setup --dry-run`: every step reads and decides as usual, records what it would
    /// change, and sends no write (read-only POSTs such as `listkeys` still go out).
    pub dry_run: bool,
}

/// In a plan, a value Azure only assigns when the resource is created (an object id, a principal
/// id, a generated name), as Terraform shows it.
pub const KNOWN_AFTER_APPLY: &str = "(known after apply)";

impl Ctx {
    pub fn new(azure: Azure, names: Names, printer: Printer) -> Self {
        Self {
            azure,
            names,
            printer,
            changes: Changes::default(),
            group_ready: Default::default(),
            dry_run: false,
        }
    }

    /// The same context for a plan: reads only.
    pub fn planning(mut self) -> Self {
        self.dry_run = true;
        self
    }

    pub fn arm(&self) -> &crate::arm::ArmClient {
        &self.azure.arm
    }

    pub fn graph(&self) -> &crate::arm::ArmClient {
        &self.azure.graph
    }

    pub fn pace(&self) -> Pace {
        self.azure.pace
    }
}

/// Read a resource; when it is still being created or updated (a previous run was interrupted
/// mid-operation), wait until it settles instead of building on a half-made resource.
pub async fn read_settled(
    ctx: &Ctx,
    id: &str,
    api_version: &str,
) -> Result<Option<serde_json::Value>, crate::arm::ArmError> {
    let current = ctx.arm().get(id, api_version).await?;
    match current.as_ref().and_then(crate::arm::provisioning_state) {
        Some(state) if crate::arm::classify_status(state) == crate::arm::Phase::Running => {
            ctx.printer.info(&format!(
                "{id} is {}; waiting for it",
                state.to_ascii_lowercase()
            ));
            ctx.arm()
                .wait_for_provisioning(id, api_version, |_| {})
                .await
                .map(Some)
        }
        _ => Ok(current),
    }
}
