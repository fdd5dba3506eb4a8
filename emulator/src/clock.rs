//! Time: wall-clock milliseconds (so deadlines survive a restart with `--state-dir`) and the time
//! scale that shrinks modelled durations (APIM activation is about 45 minutes at scale 1.0).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub time_scale: f64,
}

impl Clock {
    pub fn new(time_scale: f64) -> Self {
        Self { time_scale }
    }

    /// Milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }

    /// A modelled Azure duration, scaled.
    pub fn scaled(&self, real: Duration) -> Duration {
        real.mul_f64(self.time_scale.max(0.0))
    }

    /// The wall-clock deadline (ms) of a modelled duration starting now.
    pub fn deadline_ms(&self, real: Duration) -> u64 {
        self.now_ms() + self.scaled(real).as_millis() as u64
    }

    /// A `Retry-After` value (whole seconds) for a real Azure hint of `real_secs`, scaled like every
    /// other modelled duration and rounded up, so a client that honours it exactly keeps pace with
    /// the scaled world (15 s at scale 0.01 becomes 1 s).
    pub fn retry_after(&self, real_secs: u64) -> String {
        let scaled = (real_secs as f64 * self.time_scale.max(0.0)).ceil() as u64;
        scaled.min(real_secs).to_string()
    }

    /// RFC 3339 time, as ARM writes timestamps.
    pub fn rfc3339(ms: u64) -> String {
        let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_scale() {
        let c = Clock::new(0.01);
        assert_eq!(
            c.scaled(Duration::from_secs(45 * 60)),
            Duration::from_secs(27)
        );
        assert!(Clock::rfc3339(0).starts_with("1970-01-01T00:00:00"));
        assert_eq!(c.retry_after(15), "1");
        assert_eq!(Clock::new(1.0).retry_after(15), "15");
        assert_eq!(Clock::new(0.0).retry_after(15), "0");
    }
}
