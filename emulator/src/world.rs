//! The emulated world: everything Azure would remember, in one serialisable value.
//!
//! Kept in memory behind a mutex; with a state directory it is written to `state.json` after every
//! change (atomically, by rename), so an emulator killed and restarted mid-operation carries on.
//! Services keep their own data in the maps below, keyed the way Azure keys it.

use anyhow::Context;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The seeded tenant, subscription and service principal (Owner on the subscription).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Seed {
    pub tenant_id: String,
    pub subscription_id: String,
    pub client_id: String,
    pub client_secret: String,
    /// Object id of the seeded service principal.
    pub object_id: String,
}

impl Seed {
    fn generate() -> Self {
        Self {
            tenant_id: uuid::Uuid::new_v4().to_string(),
            subscription_id: uuid::Uuid::new_v4().to_string(),
            client_id: uuid::Uuid::new_v4().to_string(),
            // Shaped like an Entra client secret: 40 characters with a `~`.
            client_secret: format!(
                "emu~{}",
                uuid::Uuid::new_v4().simple().to_string().repeat(2)[..36].to_owned()
            ),
            object_id: uuid::Uuid::new_v4().to_string(),
        }
    }
}

/// A long-running operation, decided when it starts: it completes at `done_ms` (wall clock).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    pub id: String,
    /// What it does, e.g. `apim.create`, `group.delete`.
    pub kind: String,
    /// The resource it acts on (ARM id as the client addressed it).
    pub resource_id: String,
    pub started_ms: u64,
    pub done_ms: u64,
    /// `Succeeded`, `Failed` or `Canceled` once done.
    pub outcome: String,
    /// Error object for a failed operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
    /// Whether the completion side effects have been applied.
    #[serde(default)]
    pub applied: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct World {
    pub seed: Seed,
    /// PKCS#8 DER (base64) of the Entra token-signing key.
    #[serde(default)]
    pub signing_key: Option<String>,
    /// ARM resources by lowercased resource id; the value is the stored envelope.
    #[serde(default)]
    pub resources: BTreeMap<String, Value>,
    /// Long-running operations by id.
    #[serde(default)]
    pub operations: BTreeMap<String, Operation>,
    /// Per-service data that is not an ARM resource (Graph objects, soft-deleted services, secrets,
    /// deployments…), by service name then key.
    #[serde(default)]
    pub data: BTreeMap<String, BTreeMap<String, Value>>,
}

impl World {
    pub fn new() -> Self {
        Self {
            seed: Seed::generate(),
            signing_key: None,
            resources: BTreeMap::new(),
            operations: BTreeMap::new(),
            data: BTreeMap::new(),
        }
    }

    /// Forget everything but the seed and the signing key (`POST /.emulator/reset`).
    pub fn reset(&mut self) {
        self.resources.clear();
        self.operations.clear();
        self.data.clear();
    }

    /// A service's own table.
    pub fn table(&mut self, service: &str) -> &mut BTreeMap<String, Value> {
        self.data.entry(service.to_string()).or_default()
    }
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

/// Where the world is persisted, if anywhere.
pub struct Store {
    path: Option<PathBuf>,
}

impl Store {
    pub fn new(state_dir: Option<&Path>) -> Self {
        Self {
            path: state_dir.map(|d| d.join("state.json")),
        }
    }

    /// The saved world, or a new one.
    pub fn load(&self) -> anyhow::Result<World> {
        match &self.path {
            Some(p) if p.exists() => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("reading {}", p.display()))?;
                serde_json::from_str(&text).with_context(|| format!("parsing {}", p.display()))
            }
            _ => Ok(World::new()),
        }
    }

    pub fn save(&self, world: &World) -> anyhow::Result<()> {
        let Some(p) = &self.path else {
            return Ok(());
        };
        let tmp = p.with_extension("json.tmp");
        let text = serde_json::to_vec(world)?;
        std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, p).with_context(|| format!("writing {}", p.display()))?;
        Ok(())
    }
}
