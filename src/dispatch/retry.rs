//! When to try a failed delivery again: exponential backoff with full
//! jitter, and the target's `Retry-After` on 429 and 503.

use std::time::{Duration, SystemTime};

#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub base: Duration,
    pub max: Duration,
    pub retry_after_max: Duration,
}

impl Schedule {
    /// The longest wait after the `attempt`-th failure (1-based): base,
    /// doubling per attempt, capped.
    pub fn ceiling(&self, attempt: i64) -> Duration {
        let doublings = (attempt.max(1) - 1).min(40) as u32;
        let ms = (self.base.as_millis() as u64).saturating_mul(1u64 << doublings);
        Duration::from_millis(ms).min(self.max)
    }

    /// Full jitter: uniform between zero and the ceiling, so retries of many
    /// deliveries after one outage spread out instead of arriving together.
    pub fn delay(&self, attempt: i64, retry_after: Option<Duration>) -> Duration {
        if let Some(after) = retry_after {
            return after.min(self.retry_after_max);
        }
        let ceiling = self.ceiling(attempt).as_millis() as u64;
        Duration::from_millis(rand::random_range(0..=ceiling))
    }
}

/// `Retry-After` as delay-seconds or as an HTTP-date (a date in the past
/// means "now").
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_and_caps() {
        let s = Schedule {
            base: Duration::from_secs(1),
            max: Duration::from_secs(3600),
            retry_after_max: Duration::from_secs(600),
        };
        assert_eq!(s.ceiling(1), Duration::from_secs(1));
        assert_eq!(s.ceiling(2), Duration::from_secs(2));
        assert_eq!(s.ceiling(5), Duration::from_secs(16));
        assert_eq!(s.ceiling(13), Duration::from_secs(3600));
        assert_eq!(s.ceiling(1000), Duration::from_secs(3600));
        for attempt in 1..20 {
            assert!(s.delay(attempt, None) <= s.ceiling(attempt));
        }
        assert_eq!(
            s.delay(3, Some(Duration::from_secs(7))),
            Duration::from_secs(7)
        );
        assert_eq!(
            s.delay(3, Some(Duration::from_secs(99_999))),
            Duration::from_secs(600)
        );
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        assert_eq!(
            parse_retry_after(" 12 ", now),
            Some(Duration::from_secs(12))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
