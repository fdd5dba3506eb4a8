//! What is in flight right now, so that an interrupt or a timeout can say what Azure may still be
//! doing. Entries are added by the ARM client around each request and long-running wait.

use std::sync::{Mutex, OnceLock};

fn registry() -> &'static Mutex<Vec<(u64, String)>> {
    static REG: OnceLock<Mutex<Vec<(u64, String)>>> = OnceLock::new();
    REG.get_or_init(|| Mutex::new(Vec::new()))
}

/// Removes its entry when dropped.
pub struct Guard(u64);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Ok(mut reg) = registry().lock() {
            reg.retain(|(id, _)| *id != self.0);
        }
    }
}

/// Record `what` (e.g. `PUT …/service/myapim`) as in flight until the guard is dropped.
pub fn track(what: impl Into<String>) -> Guard {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    if let Ok(mut reg) = registry().lock() {
        reg.push((id, what.into()));
    }
    Guard(id)
}

/// Everything in flight, oldest first.
pub fn snapshot() -> Vec<String> {
    registry()
        .lock()
        .map(|reg| reg.iter().map(|(_, w)| w.clone()).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_live_as_long_as_their_guard() {
        let g = track("PUT /x/unique-entry-for-test");
        assert!(
            snapshot()
                .iter()
                .any(|w| w == "PUT /x/unique-entry-for-test")
        );
        drop(g);
        assert!(
            !snapshot()
                .iter()
                .any(|w| w == "PUT /x/unique-entry-for-test")
        );
    }
}
