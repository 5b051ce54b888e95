//! Times at the edges: [`UnixMs`] is the instant every edge takes (ingest,
//! dispatch, replay, listen hand it to providers, which turn it into the
//! seconds they sign with in one place); the store keeps the same
//! milliseconds as `i64`. Every time hookgate shows is RFC 3339 in UTC with
//! milliseconds (`2026-11-24T08:30:00.123Z`), and every time filter accepts
//! RFC 3339 (seconds optional, `Z` or an offset), a plain date (midnight
//! UTC) or epoch milliseconds.
//!
//! Parsing is `jiff`'s, so an impossible date such as `2026-02-31` is refused
//! rather than rolled over into March.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// An instant as milliseconds since the Unix epoch: the one time type the
/// edges pass around, so no call site divides by 1000 itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixMs(i64);

impl UnixMs {
    /// Now, from the process clock (never the database's). A clock before
    /// 1970 reads as the epoch.
    pub fn now() -> UnixMs {
        UnixMs(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0),
        )
    }

    pub const fn from_millis(ms: i64) -> UnixMs {
        UnixMs(ms)
    }

    /// Whole seconds, as a published vector or a timestamp header gives them.
    pub const fn from_secs(secs: i64) -> UnixMs {
        UnixMs(secs.saturating_mul(1000))
    }

    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// Whole Unix seconds (rounded down), the unit providers sign with.
    pub const fn as_secs(self) -> i64 {
        self.0.div_euclid(1000)
    }
}

/// `2026-11-24T08:30:00.123Z` for epoch milliseconds.
pub fn format_ms(ms: i64) -> String {
    // Out of jiff's range (year ±9999) only for corrupt data; show the edge.
    Timestamp::from_millisecond(ms)
        .unwrap_or(if ms < 0 {
            Timestamp::MIN
        } else {
            Timestamp::MAX
        })
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// Epoch milliseconds of `input`: digits only are epoch milliseconds,
/// `YYYY-MM-DD` is that day's midnight UTC, anything else must be RFC 3339
/// with an offset. A time without an offset is refused: it would silently
/// mean UTC to some readers and local time to others.
pub fn parse(input: &str) -> Result<i64, String> {
    let s = input.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        let ms: i64 = s
            .parse()
            .map_err(|_| format!("{s} is too large for epoch milliseconds"))?;
        return Timestamp::from_millisecond(ms)
            .map(|_| ms)
            .map_err(|e| format!("{s} is out of range: {e}"));
    }
    if s.len() == 10 {
        return s
            .parse::<Date>()
            .and_then(|d| TimeZone::UTC.to_timestamp(d.to_datetime(Time::midnight())))
            .map(Timestamp::as_millisecond)
            .map_err(|e| format!("{s:?} is not a valid date: {e}"));
    }
    s.parse::<Timestamp>()
        .map(Timestamp::as_millisecond)
        .map_err(|e| {
            format!("{s:?} is not RFC 3339 with an offset (2026-11-24T08:30Z), a date or epoch milliseconds: {e}")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_ms_converts_to_seconds_once_and_rounds_down() {
        assert_eq!(
            UnixMs::from_millis(1_614_265_330_999).as_secs(),
            1_614_265_330
        );
        assert_eq!(
            UnixMs::from_secs(1_614_265_330).as_millis(),
            1_614_265_330_000
        );
        assert_eq!(UnixMs::from_secs(7).as_secs(), 7);
        assert_eq!(UnixMs::from_millis(0).as_secs(), 0);
        let now = UnixMs::now();
        assert!(now.as_millis() > 1_600_000_000_000, "{now:?}");
    }

    #[test]
    fn formats_with_milliseconds_in_utc() {
        assert_eq!(format_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_ms(1_614_265_330_123), "2021-02-25T15:02:10.123Z");
        assert_eq!(format_ms(1_709_164_800_000), "2024-02-29T00:00:00.000Z");
    }

    #[test]
    fn accepts_every_documented_form() {
        let cases = [
            ("2021-02-25T15:02:10.123Z", 1_614_265_330_123),
            ("2021-02-25T17:02:10.123+02:00", 1_614_265_330_123),
            ("2021-02-25t15:02:10.123z", 1_614_265_330_123),
            ("2021-02-25 15:02:10.123Z", 1_614_265_330_123),
            ("2021-02-25T15:02Z", 1_614_265_320_000),
            ("2021-02-25T15:02:10Z", 1_614_265_330_000),
            ("2021-02-25", 1_614_211_200_000),
            ("2024-02-29", 1_709_164_800_000),
            ("1614265330123", 1_614_265_330_123),
            (" 2021-02-25 ", 1_614_211_200_000),
        ];
        for (input, ms) in cases {
            assert_eq!(parse(input), Ok(ms), "{input}");
        }
    }

    #[test]
    fn refuses_impossible_and_ambiguous_times() {
        for bad in [
            "",
            "yesterday",
            "2026-02-31",
            "2025-02-29",
            "2021-13-01",
            "2021-02-25T25:00:00Z",
            "2021-02-25T10:61Z",
            "2021-02-25T10:00:00",
            "2026-02-31T10:00:00Z",
            "99999999999999999999",
        ] {
            assert!(parse(bad).is_err(), "{bad} refused");
        }
    }
}
