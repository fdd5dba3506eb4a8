//! Reading the emulator's request log: what each request was (token, read, write, poll, data
//! plane), polls per long-running operation, and throttled answers.

use apimfn_emulator::server::LogEntry;
use std::collections::BTreeMap;

/// What a logged request was, from apimfn's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A token request to `login.microsoftonline.com`.
    Token,
    /// ARM, Graph or Kudu: GET/HEAD, or a POST that only reads (`listKeys`, …).
    Read,
    /// ARM, Graph or Kudu: PUT/PATCH/DELETE or a POST that changes something (CONTRACT §4).
    Write,
    /// The gateway, the function host, blob storage (the verification's calls).
    DataPlane,
}

/// POSTs that only read (CONTRACT §4, plus `config/…/list` and Graph's none).
fn is_read_only_post(path: &str) -> bool {
    let p = path.to_ascii_lowercase();
    [
        "/listkeys",
        "/listsecrets",
        "/listvalue",
        "/checknameavailability",
        "/list",
    ]
    .iter()
    .any(|suffix| p.ends_with(suffix))
}

fn is_control_plane(host: &str) -> bool {
    host == "management.azure.com"
        || host == "graph.microsoft.com"
        || host.ends_with(".scm.azurewebsites.net")
}

pub fn kind(e: &LogEntry) -> Kind {
    if e.host.starts_with("login.") {
        return Kind::Token;
    }
    if !is_control_plane(&e.host) {
        return Kind::DataPlane;
    }
    match e.method.as_str() {
        "GET" | "HEAD" | "OPTIONS" => Kind::Read,
        "POST" if is_read_only_post(&e.path) => Kind::Read,
        _ => Kind::Write,
    }
}

/// An operation-status poll: a GET of an `operationresults`/`asyncoperations` URL, of an APIM
/// `Location` URL (`asyncId` in the query), or of a Kudu deployment's status.
pub fn is_operation_poll(e: &LogEntry) -> bool {
    if e.method != "GET" {
        return false;
    }
    let p = e.path.to_ascii_lowercase();
    p.contains("/operationresults/")
        || p.contains("/asyncoperations/")
        || e.query.to_ascii_lowercase().contains("asyncid=")
        || (e.host.ends_with(".scm.azurewebsites.net") && p == "/api/deployments/latest")
}

/// Milliseconds since the epoch of an entry's `time`.
pub fn time_ms(e: &LogEntry) -> Option<i128> {
    let t = time::OffsetDateTime::parse(&e.time, &time::format_description::well_known::Rfc3339)
        .ok()?;
    Some(t.unix_timestamp_nanos() / 1_000_000)
}

/// The APIM activation as seen in the log: the service's resource path and when the emulator
/// completes it (wall-clock ms).
#[derive(Debug, Clone)]
pub struct Activation {
    pub service_path: String,
    pub done_ms: u64,
}

/// The GETs of the service that polled its activation: after its PUT, up to and including the
/// first one answered at or after the completion (the one that saw `Succeeded`).
pub fn activation_polls<'a>(log: &'a [LogEntry], act: &Activation) -> Vec<&'a LogEntry> {
    let same = |e: &LogEntry| e.path.eq_ignore_ascii_case(&act.service_path);
    let Some(put) = log.iter().position(|e| same(e) && e.method == "PUT") else {
        return Vec::new();
    };
    let mut polls = Vec::new();
    for e in log[put + 1..]
        .iter()
        .filter(|e| same(e) && e.method == "GET")
    {
        polls.push(e);
        if time_ms(e).is_some_and(|t| t >= act.done_ms as i128) {
            break;
        }
    }
    polls
}

/// Milliseconds from the activation's completion to the answer of the poll that saw it.
pub fn detection_delay_ms(log: &[LogEntry], act: &Activation) -> Option<i128> {
    let last = activation_polls(log, act).into_iter().last()?;
    let t = time_ms(last)?;
    (t >= act.done_ms as i128).then(|| t - act.done_ms as i128)
}

/// A short name for the operation a poll belongs to: the resource before the status segment,
/// from its provider on (`Microsoft.Web/sites/b1-func`), or the Kudu host.
fn poll_label(e: &LogEntry) -> String {
    if e.host.ends_with(".scm.azurewebsites.net") {
        return "zip deploy (Kudu /api/deployments/latest)".into();
    }
    let lower = e.path.to_ascii_lowercase();
    let cut = ["/operationresults/", "/asyncoperations/"]
        .iter()
        .filter_map(|m| lower.find(m))
        .min();
    let resource = &e.path[..cut.unwrap_or(e.path.len())];
    let from = resource
        .to_ascii_lowercase()
        .rfind("/providers/")
        .map(|i| i + "/providers/".len())
        .unwrap_or(0);
    let mut label = resource[from..].to_string();
    if cut.is_none() {
        label.push_str(" (Location)");
    }
    label
}

/// Polls per long-running operation, by label; the activation's GETs as their own entry.
pub fn polls_per_operation(log: &[LogEntry], act: Option<&Activation>) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for e in log.iter().filter(|e| is_operation_poll(e)) {
        *out.entry(poll_label(e)).or_insert(0) += 1;
    }
    if let Some(a) = act {
        let n = activation_polls(log, a).len();
        if n > 0 {
            out.insert("APIM activation (GETs of the service)".into(), n);
        }
    }
    out
}

/// Counts of one run's requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub tokens: usize,
    pub reads: usize,
    pub writes: usize,
    /// Operation-status polls (a subset of `reads`), activation GETs not included.
    pub polls: usize,
    pub data_plane: usize,
    /// 429 answers from ARM.
    pub throttled: usize,
}

pub fn count(log: &[LogEntry]) -> Counts {
    let mut c = Counts::default();
    for e in log {
        match kind(e) {
            Kind::Token => c.tokens += 1,
            Kind::Read => c.reads += 1,
            Kind::Write => c.writes += 1,
            Kind::DataPlane => c.data_plane += 1,
        }
        if is_operation_poll(e) {
            c.polls += 1;
        }
        if e.status == 429 && e.host == "management.azure.com" {
            c.throttled += 1;
        }
    }
    c
}

/// `METHOD host path → status` of the writes, for a failure message.
pub fn show_writes(log: &[LogEntry]) -> String {
    log.iter()
        .filter(|e| kind(e) == Kind::Write)
        .map(|e| format!("{} {}{} → {}", e.method, e.host, e.path, e.status))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(method: &str, host: &str, path: &str, query: &str, time: &str) -> LogEntry {
        LogEntry {
            method: method.into(),
            host: host.into(),
            path: path.into(),
            query: query.into(),
            status: 200,
            time: time.into(),
            duration_ms: 1,
        }
    }

    const ARM: &str = "management.azure.com";
    const SVC: &str =
        "/subscriptions/s/resourceGroups/g/providers/Microsoft.ApiManagement/service/b1-apim";

    #[test]
    fn requests_are_classified_by_host_method_and_path() {
        let t = "2025-01-01T00:00:00Z";
        let e = |m, h, p| entry(m, h, p, "", t);
        assert_eq!(
            kind(&e(
                "POST",
                "login.microsoftonline.com",
                "/t/oauth2/v2.0/token"
            )),
            Kind::Token
        );
        assert_eq!(kind(&e("GET", ARM, SVC)), Kind::Read);
        assert_eq!(
            kind(&e("POST", ARM, "/x/host/default/listkeys")),
            Kind::Read
        );
        assert_eq!(
            kind(&e("POST", ARM, "/x/config/appsettings/list")),
            Kind::Read
        );
        assert_eq!(
            kind(&e("POST", ARM, "/x/syncfunctiontriggers")),
            Kind::Write
        );
        assert_eq!(kind(&e("PUT", ARM, SVC)), Kind::Write);
        assert_eq!(
            kind(&e("POST", "graph.microsoft.com", "/v1.0/applications")),
            Kind::Write
        );
        assert_eq!(
            kind(&e("POST", "f.scm.azurewebsites.net", "/api/publish")),
            Kind::Write
        );
        assert_eq!(
            kind(&e("GET", "b1-apim.azure-api.net", "/api/x")),
            Kind::DataPlane
        );
        assert_eq!(
            kind(&e("GET", "f.azurewebsites.net", "/api/x")),
            Kind::DataPlane
        );

        assert!(is_operation_poll(&e(
            "GET",
            ARM,
            "/s/x/sites/f/operationResults/1"
        )));
        assert!(is_operation_poll(&e(
            "GET",
            ARM,
            "/s/x/locations/j/asyncoperations/1"
        )));
        assert!(is_operation_poll(&entry(
            "GET",
            ARM,
            "/s/nv/k",
            "api-version=1&asyncId=a",
            t
        )));
        assert!(is_operation_poll(&e(
            "GET",
            "f.scm.azurewebsites.net",
            "/api/deployments/latest"
        )));
        assert!(!is_operation_poll(&e("GET", ARM, SVC)));
        assert!(!is_operation_poll(&e(
            "PUT",
            ARM,
            "/s/x/operationresults/1"
        )));
    }

    #[test]
    fn polls_are_labelled_by_their_resource() {
        let t = "2025-01-01T00:00:00Z";
        let p =
            "/subscriptions/s/providers/Microsoft.Storage/locations/japaneast/asyncoperations/1";
        assert_eq!(
            poll_label(&entry("GET", ARM, p, "", t)),
            "Microsoft.Storage/locations/japaneast"
        );
        let nv = format!("{SVC}/namedValues/k");
        assert_eq!(
            poll_label(&entry("GET", ARM, &nv, "asyncId=1", t)),
            "Microsoft.ApiManagement/service/b1-apim/namedValues/k (Location)"
        );
    }

    #[test]
    fn activation_polls_end_at_the_first_answer_after_completion() {
        let done = time_ms(&entry("GET", ARM, SVC, "", "2025-01-01T00:00:10Z")).unwrap_or(0);
        let act = Activation {
            service_path: SVC.into(),
            done_ms: done as u64,
        };
        let log = vec![
            entry("GET", ARM, SVC, "", "2025-01-01T00:00:00Z"),
            entry("PUT", ARM, SVC, "", "2025-01-01T00:00:01Z"),
            entry("GET", ARM, SVC, "", "2025-01-01T00:00:03Z"),
            entry(
                "GET",
                ARM,
                "/s/x/sites/f/operationResults/1",
                "",
                "2025-01-01T00:00:04Z",
            ),
            entry("GET", ARM, SVC, "", "2025-01-01T00:00:09.5Z"),
            entry("GET", ARM, SVC, "", "2025-01-01T00:00:10.25Z"),
            entry("GET", ARM, SVC, "", "2025-01-01T00:00:11Z"),
        ];
        assert_eq!(activation_polls(&log, &act).len(), 3);
        assert_eq!(detection_delay_ms(&log, &act), Some(250));
        let per_op = polls_per_operation(&log, Some(&act));
        assert_eq!(per_op.get("/s/x/sites/f"), Some(&1));
        assert_eq!(
            per_op.get("APIM activation (GETs of the service)"),
            Some(&3)
        );
        let c = count(&log);
        assert_eq!((c.reads, c.writes, c.polls), (6, 1, 1));
    }
}
