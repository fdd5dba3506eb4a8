//! When to retry, how long to wait, and how often to poll.
//!
//! 429 is retried for as long as [`RetryPolicy::throttle_budget`] allows (the request did not run),
//! waiting exactly `Retry-After` or backing off. Other failures are retried (bounded by
//! [`RetryPolicy::max_attempts`]):
//! - 429, 408, 500, 502, 503, 504 and transport failures, with exponential backoff and full
//!   jitter, or exactly the server's `Retry-After` when it gives one;
//! - 409 whose code says another operation holds the resource ([`RETRYABLE_CONFLICT_CODES`]), or
//!   whose message says an operation is "in progress" (App Service answers a generic `Conflict`
//!   with such a message). Every other 409 is final — notably `RoleAssignmentExists` (callers
//!   treat it as success) and `ScopeLocked` (a resource lock: waiting does not help).
//!
//! PUT, PATCH, DELETE, GET and HEAD are idempotent in ARM and are re-sent freely. A POST is re-sent
//! only when Azure demonstrably did not run it — 429, 503, a retryable 409, or a failure to
//! connect — unless it is a read-only action (`listKeys`, `checkNameAvailability`, …), which is
//! safe to re-send on any retryable failure. A 500/502/504 or a connection dropped mid-request
//! may have run a POST action such as `regenerateKey`, so those are not re-sent.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// 409 codes that mean "another operation is running on this resource; try again later".
/// Matched case-insensitively. Conservative on purpose: a 409 we do not recognise is final.
pub const RETRYABLE_CONFLICT_CODES: &[&str] = &[
    // APIM, while another write on the service or API runs.
    "PessimisticConcurrencyConflict",
    // Generic ARM and several resource providers (network, compute, web).
    "AnotherOperationInProgress",
    "OperationInProgress",
    // Storage, while an exclusive operation runs on the account.
    "StorageAccountOperationInProgress",
    // Some providers send it with 409 as well as with 429.
    "RetryableErrorDueToAnotherOperation",
];

/// 409 codes that are never retried even if their message mentions an operation in progress.
pub const FINAL_CONFLICT_CODES: &[&str] = &["RoleAssignmentExists", "ScopeLocked"];

/// Retry and polling settings. The defaults suit real Azure; tests use millisecond values.
///
/// Polling without `Retry-After`: the first poll after `poll_initial` (2 s), each next interval
/// doubled, capped at `poll_max` (30 s): 2, 4, 8, 16, 30, 30 … A storage account, a named value or
/// a purge finishes within seconds to a minute and is noticed within a few seconds of finishing;
/// an APIM Developer activation (30–90 minutes) settles at one poll per 30 s — about 140 reads for
/// a 71-minute activation, far below ARM's read budget (25 per second per principal) and half of
/// az's 60 s worst-case lag in noticing the end. `Retry-After` from Azure always wins.
///
/// Retries: up to `max_attempts` sends in all; before attempt n+1 a uniformly random delay in
/// `[0, min(backoff_max, backoff_base * 2^(n-1))]` (full jitter, so many clients throttled together
/// do not come back together): with 1 s and 30 s, at most 1, 2, 4, 8, 16 s — about half a minute
/// of patience on average, enough to ride out an ARM blip or an APIM concurrency conflict.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Sends per request, the first included.
    pub max_attempts: u32,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    pub poll_initial: Duration,
    pub poll_max: Duration,
    /// The longest `Retry-After` honoured as given; longer values (or far-future dates) are cut
    /// to this, so a bogus header cannot park the tool for a day.
    pub retry_after_max: Duration,
    /// How long in all one request may wait out 429s. A throttled request did not run, and a
    /// subscription shared by many pipelines can stay throttled for minutes, so 429s are not
    /// counted against `max_attempts`; this budget (real time, never scaled) bounds them instead.
    pub throttle_budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(30),
            poll_initial: Duration::from_secs(2),
            poll_max: Duration::from_secs(30),
            retry_after_max: Duration::from_secs(600),
            throttle_budget: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// The upper bound of the jittered delay before retry number `retry` (1 for the first retry).
    pub fn backoff_ceiling(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1));
        self.backoff_base
            .checked_mul(factor)
            .unwrap_or(self.backoff_max)
            .min(self.backoff_max)
    }

    /// Full jitter: uniform in `[0, ceiling]`.
    pub fn backoff(&self, retry: u32) -> Duration {
        let ceiling = self.backoff_ceiling(retry);
        ceiling.mul_f64(fastrand::f64())
    }

    /// The interval before poll number `poll` (0 for the first poll) when Azure gives no
    /// `Retry-After`.
    pub fn poll_interval(&self, poll: u32) -> Duration {
        let factor = 2u32.saturating_pow(poll.min(30));
        self.poll_initial
            .checked_mul(factor)
            .unwrap_or(self.poll_max)
            .min(self.poll_max)
    }

    /// The server's wait if it gave a usable one, capped; otherwise `fallback`.
    pub fn delay_or(&self, retry_after: Option<Duration>, fallback: Duration) -> Duration {
        match retry_after {
            // `Retry-After: 0` would mean busy-polling; use our own interval instead.
            Some(d) if !d.is_zero() => d.min(self.retry_after_max),
            _ => fallback,
        }
    }
}

/// How the client waits. Tests swap it to record the delays the client chose without spending
/// them; production sleeps on the tokio timer (and is cancelled when the future is dropped).
pub type Sleeper = Arc<dyn Fn(Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

pub fn tokio_sleeper() -> Sleeper {
    Arc::new(|d| Box::pin(tokio::time::sleep(d)))
}

/// Whether an error answer is worth another attempt.
pub fn should_retry_status(
    method: &str,
    read_only: bool,
    status: u16,
    code: Option<&str>,
    message: Option<&str>,
) -> bool {
    let post = method.eq_ignore_ascii_case("POST") && !read_only;
    match status {
        429 | 503 => true,
        408 | 500 | 502 | 504 => !post,
        409 => is_retryable_conflict(code, message),
        _ => false,
    }
}

/// A 409 that means "busy, come back later".
pub fn is_retryable_conflict(code: Option<&str>, message: Option<&str>) -> bool {
    let is_in = |list: &[&str], c: &str| list.iter().any(|x| x.eq_ignore_ascii_case(c));
    if let Some(c) = code {
        if is_in(FINAL_CONFLICT_CODES, c) {
            return false;
        }
        if is_in(RETRYABLE_CONFLICT_CODES, c) {
            return true;
        }
    }
    message.is_some_and(|m| {
        let m = m.to_ascii_lowercase();
        m.contains("operation") && m.contains("in progress")
    })
}

/// Whether a request that got no answer is worth another attempt: always for idempotent
/// methods; for a POST only when the connection was never made (the request was not sent).
pub fn should_retry_transport(method: &str, read_only: bool, connect_failed: bool) -> bool {
    !method.eq_ignore_ascii_case("POST") || read_only || connect_failed
}

/// The server's requested wait: `retry-after-ms` / `x-ms-retry-after-ms` (milliseconds), then
/// `Retry-After` as delta-seconds or as an HTTP date (relative to `now`).
pub fn retry_after(
    headers: &reqwest::header::HeaderMap,
    now: time::OffsetDateTime,
) -> Option<Duration> {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    for name in ["retry-after-ms", "x-ms-retry-after-ms"] {
        if let Some(ms) = get(name).and_then(|v| v.parse::<u64>().ok()) {
            return Some(Duration::from_millis(ms));
        }
    }
    let value = get("retry-after")?;
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = parse_http_date(value)?;
    let delta = at - now;
    Some(if delta.is_negative() {
        Duration::ZERO
    } else {
        Duration::try_from(delta).unwrap_or(Duration::ZERO)
    })
}

/// IMF-fixdate, the only HTTP-date form servers may send: `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn parse_http_date(s: &str) -> Option<time::OffsetDateTime> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [_, day, month, year, hms, "GMT"] = parts.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month_index = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(month))?;
    let month = time::Month::try_from(u8::try_from(month_index + 1).ok()?).ok()?;
    let date = time::Date::from_calendar_date(year.parse().ok()?, month, day.parse().ok()?).ok()?;
    let mut t = hms.split(':');
    let (h, m, sec) = (t.next()?, t.next()?, t.next()?);
    if t.next().is_some() {
        return None;
    }
    let time = time::Time::from_hms(h.parse().ok()?, m.parse().ok()?, sec.parse().ok()?).ok()?;
    Some(time::PrimitiveDateTime::new(date, time).assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).expect("value"));
        }
        h
    }

    #[test]
    fn backoff_doubles_to_the_cap_and_jitter_stays_below_the_ceiling() {
        let p = RetryPolicy::default();
        let ceilings: Vec<u64> = (1..=7).map(|r| p.backoff_ceiling(r).as_secs()).collect();
        assert_eq!(ceilings, vec![1, 2, 4, 8, 16, 30, 30]);
        assert_eq!(p.backoff_ceiling(u32::MAX), Duration::from_secs(30));
        for r in 1..=6 {
            for _ in 0..50 {
                assert!(p.backoff(r) <= p.backoff_ceiling(r));
            }
        }
        // Full jitter really spreads: 200 draws are not all the same.
        let draws: std::collections::HashSet<u128> =
            (0..200).map(|_| p.backoff(5).as_nanos()).collect();
        assert!(draws.len() > 100);
    }

    #[test]
    fn poll_interval_starts_short_and_grows_to_the_cap() {
        let p = RetryPolicy::default();
        let seq: Vec<u64> = (0..7).map(|n| p.poll_interval(n).as_secs()).collect();
        assert_eq!(seq, vec![2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(p.poll_interval(10_000), Duration::from_secs(30));
    }

    #[test]
    fn retry_after_wins_unless_zero_and_is_capped() {
        let p = RetryPolicy::default();
        let fb = Duration::from_secs(3);
        assert_eq!(
            p.delay_or(Some(Duration::from_secs(17)), fb),
            Duration::from_secs(17)
        );
        assert_eq!(p.delay_or(Some(Duration::ZERO), fb), fb);
        assert_eq!(p.delay_or(None, fb), fb);
        assert_eq!(
            p.delay_or(Some(Duration::from_secs(86_400)), fb),
            Duration::from_secs(600)
        );
    }

    #[test]
    fn retry_after_reads_seconds_milliseconds_and_http_dates() {
        let now = time::macros::datetime!(2015-10-21 07:28:00 UTC);
        assert_eq!(
            retry_after(&headers(&[("retry-after", "7")]), now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(
                &headers(&[("retry-after", "7"), ("retry-after-ms", "1500")]),
                now
            ),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            retry_after(&headers(&[("x-ms-retry-after-ms", "250")]), now),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            retry_after(
                &headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:45 GMT")]),
                now
            ),
            Some(Duration::from_secs(45))
        );
        assert_eq!(
            retry_after(
                &headers(&[("retry-after", "Wed, 21 Oct 2015 07:00:00 GMT")]),
                now
            ),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")]), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn http_dates_are_strict_imf_fixdate() {
        assert!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").is_some());
        assert!(parse_http_date("Sun, 06 Nov 1994 08:49:37 +0000").is_none());
        assert!(parse_http_date("Sun, 31 Feb 1994 08:49:37 GMT").is_none());
        assert!(parse_http_date("Sun, 06 Nov 1994 08:49 GMT").is_none());
    }

    #[test]
    fn status_retry_set_by_method() {
        for s in [429, 408, 500, 502, 503, 504] {
            assert!(should_retry_status("PUT", false, s, None, None), "{s}");
            assert!(should_retry_status("GET", false, s, None, None), "{s}");
            assert!(should_retry_status("DELETE", false, s, None, None), "{s}");
            assert!(should_retry_status("POST", true, s, None, None), "{s}");
        }
        // A POST action may have run on a 500/502/504/408; it is re-sent only when it surely did not.
        for s in [408, 500, 502, 504] {
            assert!(!should_retry_status("POST", false, s, None, None), "{s}");
        }
        assert!(should_retry_status("POST", false, 429, None, None));
        assert!(should_retry_status("POST", false, 503, None, None));
        for s in [400, 401, 403, 404, 412, 501] {
            assert!(!should_retry_status("PUT", false, s, None, None), "{s}");
        }
    }

    #[test]
    fn conflicts_retry_by_code_and_message_but_never_the_final_ones() {
        assert!(should_retry_status(
            "PUT",
            false,
            409,
            Some("PessimisticConcurrencyConflict"),
            None
        ));
        assert!(should_retry_status(
            "POST",
            false,
            409,
            Some("anotheroperationinprogress"),
            None
        ));
        assert!(should_retry_status(
            "PUT",
            false,
            409,
            Some("Conflict"),
            Some("There is already an operation in progress on this site.")
        ));
        assert!(!should_retry_status(
            "PUT",
            false,
            409,
            Some("RoleAssignmentExists"),
            Some("The role assignment already exists.")
        ));
        assert!(!should_retry_status(
            "PUT",
            false,
            409,
            Some("ScopeLocked"),
            Some("operation in progress")
        ));
        assert!(!should_retry_status(
            "PUT",
            false,
            409,
            Some("Conflict"),
            Some("Link already exists")
        ));
        assert!(!should_retry_status("PUT", false, 409, None, None));
    }

    #[test]
    fn transport_failures_retry_posts_only_before_sending() {
        assert!(should_retry_transport("PUT", false, false));
        assert!(should_retry_transport("GET", false, false));
        assert!(should_retry_transport("POST", true, false));
        assert!(should_retry_transport("POST", false, true));
        assert!(!should_retry_transport("POST", false, false));
    }
}
