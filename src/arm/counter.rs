//! Counting the requests sent to Azure, split into reads and writes (CONTRACT §4 `requests`).
//!
//! Rule: every HTTP attempt handed to the network counts once — retries, token-refresh re-sends
//! and long-running-operation polls included — because that is what Azure's throttling buckets
//! see. `writes` are PUT, PATCH, DELETE and POST, except the POST actions that only read
//! ([`is_read_only_post`]); everything else (GET, HEAD, polls) is a read.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of the counts, as printed in `-o json` output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestCounts {
    pub reads: u64,
    pub writes: u64,
}

/// A shared counter. Cheap to clone; every clone adds to the same totals, so the Graph and Kudu
/// clients can share the ARM client's counter (see `ArmClient::with_counter`).
#[derive(Debug, Clone, Default)]
pub struct RequestCounter {
    inner: Arc<Totals>,
}

#[derive(Debug, Default)]
struct Totals {
    reads: AtomicU64,
    writes: AtomicU64,
}

impl RequestCounter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Count one request sent with `method` to a URL whose path is `path`.
    pub fn record(&self, method: &str, path: &str) {
        let slot = if is_write(method, path) {
            &self.inner.writes
        } else {
            &self.inner.reads
        };
        slot.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> RequestCounts {
        RequestCounts {
            reads: self.inner.reads.load(Ordering::Relaxed),
            writes: self.inner.writes.load(Ordering::Relaxed),
        }
    }
}

/// POST actions that only read. `list` covers `config/authsettingsV2/list` and
/// `config/appsettings/list`, which return configuration (with secrets) and change nothing.
const READ_ONLY_POST_ACTIONS: &[&str] = &[
    "listkeys",
    "listsecrets",
    "listvalue",
    "checknameavailability",
    "list",
];

/// Whether a POST to `path` only reads: its last path segment, case-insensitively, is one of the
/// read-only actions. `path` must not carry the query string.
pub fn is_read_only_post(path: &str) -> bool {
    let last = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    READ_ONLY_POST_ACTIONS
        .iter()
        .any(|a| a.eq_ignore_ascii_case(last))
}

/// Whether a request counts as a write.
pub fn is_write(method: &str, path: &str) -> bool {
    match method.to_ascii_uppercase().as_str() {
        "PUT" | "PATCH" | "DELETE" => true,
        "POST" => !is_read_only_post(path),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_put_patch_delete_and_posts_that_change_something() {
        assert!(is_write("PUT", "/subscriptions/s/resourcegroups/rg"));
        assert!(is_write("patch", "/x/namedValues/nv"));
        assert!(is_write("DELETE", "/x/deletedservices/a"));
        assert!(is_write("POST", "/x/sites/app/syncfunctiontriggers"));
        assert!(is_write("POST", "/x/storageAccounts/a/regenerateKey"));
        assert!(!is_write("GET", "/x/sites/app"));
        assert!(!is_write("HEAD", "/subscriptions/s/resourcegroups/rg"));
    }

    #[test]
    fn read_only_posts_match_the_last_segment_case_insensitively() {
        for path in [
            "/x/storageAccounts/a/listKeys",
            "/x/sites/app/host/default/listkeys",
            "/x/service/s/subscriptions/master/listSecrets",
            "/x/service/s/namedValues/nv/listValue",
            "/subscriptions/s/providers/Microsoft.ApiManagement/checkNameAvailability",
            "/x/sites/app/config/authsettingsV2/list",
            "/x/storageAccounts/a/LISTKEYS/",
        ] {
            assert!(is_read_only_post(path), "{path}");
            assert!(!is_write("POST", path), "{path}");
        }
        // A resource *named* like an action in the middle of the path does not count.
        assert!(is_write("POST", "/x/namedValues/listValue/other"));
        assert!(!is_read_only_post("/x/keys/listKeysExtra"));
    }

    #[test]
    fn counter_splits_reads_and_writes_and_clones_share_totals() {
        let c = RequestCounter::new();
        let c2 = c.clone();
        c.record("GET", "/a");
        c2.record("PUT", "/a");
        c.record("POST", "/a/listKeys");
        c.record("POST", "/a/restart");
        assert_eq!(
            c.snapshot(),
            RequestCounts {
                reads: 2,
                writes: 2
            }
        );
        let json = serde_json::to_value(c2.snapshot()).expect("json");
        assert_eq!(json, serde_json::json!({"reads": 2, "writes": 2}));
    }
}
