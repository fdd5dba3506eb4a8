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
pub mod diff;
pub mod function;
pub mod group;
pub mod import;
pub mod names;
pub mod policy;
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
}

impl Ctx {
    pub fn new(azure: Azure, names: Names, printer: Printer) -> Self {
        Self {
            azure,
            names,
            printer,
            changes: Changes::default(),
        }
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
