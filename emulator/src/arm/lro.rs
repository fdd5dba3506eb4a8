//! Long-running operations: decided when they start (kind, resource, completion time), settled
//! lazily — every ARM request first applies the effects of operations whose time has come — so
//! their progress follows the (time-scaled) clock and survives a restart.

use crate::server::Emulator;
use crate::world::{Operation, World};
use serde_json::{Value, json};
use std::time::Duration;

/// Start an operation that completes after `duration` (real Azure time, scaled by the clock).
pub fn start(
    em: &Emulator,
    world: &mut World,
    kind: &str,
    resource_id: &str,
    duration: Duration,
) -> Operation {
    let now = em.clock.now_ms();
    let op = Operation {
        id: uuid::Uuid::new_v4().to_string(),
        kind: kind.to_string(),
        resource_id: resource_id.to_string(),
        started_ms: now,
        done_ms: em.clock.deadline_ms(duration),
        outcome: "Succeeded".into(),
        error: None,
        applied: false,
    };
    world.operations.insert(op.id.clone(), op.clone());
    op
}

/// Whether the operation's time has come.
pub fn is_done(em: &Emulator, op: &Operation) -> bool {
    em.clock.now_ms() >= op.done_ms
}

/// `{"status": …}` as the Azure-AsyncOperation status resource answers it.
pub fn status_body(em: &Emulator, op: &Operation) -> Value {
    let done = is_done(em, op);
    let mut body = json!({
        "id": op.id,
        "name": op.id,
        "status": if done { op.outcome.as_str() } else { "InProgress" },
        "startTime": crate::clock::Clock::rfc3339(op.started_ms),
    });
    if done {
        body["endTime"] = Value::String(crate::clock::Clock::rfc3339(op.done_ms));
        if let Some(e) = &op.error {
            body["error"] = e.clone();
        }
    }
    body
}

/// Apply the effects of every operation whose time has come.
pub fn settle(em: &Emulator) {
    let now = em.clock.now_ms();
    let mut changed = false;
    {
        let mut world = em.world();
        let due: Vec<Operation> = world
            .operations
            .values()
            .filter(|op| !op.applied && op.done_ms <= now)
            .cloned()
            .collect();
        for op in due {
            apply(&mut world, &op, now);
            if let Some(o) = world.operations.get_mut(&op.id) {
                o.applied = true;
            }
            changed = true;
        }
    }
    if changed {
        em.save();
    }
}

/// Completion effects, by operation kind (`{provider}.{what}`).
fn apply(world: &mut World, op: &Operation, now: u64) {
    let provider = op.kind.split('.').next().unwrap_or_default();
    match provider {
        "group" => super::resources::settle(world, op, now),
        "web" => super::web::settle(world, op, now),
        "apim" => super::apim::settle(world, op, now),
        "storage" => super::storage::settle(world, op, now),
        _ => tracing::warn!("no completion effects for operation kind {}", op.kind),
    }
}
