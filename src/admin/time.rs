//! RFC 3339 times for the admin API: every time is shown as
//! `2026-11-24T08:30:00.123Z`, and filters accept that, a plain date
//! (`2026-11-24`, midnight UTC) or epoch milliseconds.

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

pub fn format_ms(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rest = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3_600_000,
        rest / 60_000 % 60,
        rest / 1000 % 60,
        rest % 1000
    )
}

fn num(s: &str) -> Option<i64> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// Parses epoch milliseconds, `YYYY-MM-DD`, or RFC 3339 with `Z` or an offset.
pub fn parse(input: &str) -> Option<i64> {
    let s = input.trim();
    if let Some(ms) = num(s) {
        return Some(ms);
    }
    let (date, time) = match s.split_once(['T', 't', ' ']) {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let mut parts = date.split('-');
    let (y, m, d) = (
        num(parts.next()?)?,
        num(parts.next()?)?,
        num(parts.next()?)?,
    );
    if parts.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let mut ms = days_from_civil(y, m, d) * 86_400_000;
    if let Some(t) = time {
        let (clock, offset_ms) = if let Some(c) = t.strip_suffix(['Z', 'z']) {
            (c, 0)
        } else {
            let i = t.rfind(['+', '-'])?;
            let (c, off) = t.split_at(i);
            let sign = if off.starts_with('-') { -1 } else { 1 };
            let (oh, om) = off[1..].split_once(':')?;
            (c, sign * (num(oh)? * 3_600_000 + num(om)? * 60_000))
        };
        let (hms, frac) = clock.split_once('.').unwrap_or((clock, ""));
        let mut f = hms.split(':');
        let (h, mi, sec) = (num(f.next()?)?, num(f.next()?)?, num(f.next()?)?);
        if f.next().is_some() || h > 23 || mi > 59 || sec > 60 {
            return None;
        }
        let frac_ms = if frac.is_empty() {
            0
        } else {
            let digits: String = frac.chars().chain("000".chars()).take(3).collect();
            num(&digits)?
        };
        ms += h * 3_600_000 + mi * 60_000 + sec * 1000 + frac_ms - offset_ms;
    }
    Some(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_accepts_forms() {
        assert_eq!(format_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_ms(1_614_265_330_123), "2021-02-25T15:02:10.123Z");
        assert_eq!(parse("2021-02-25T15:02:10.123Z"), Some(1_614_265_330_123));
        assert_eq!(
            parse("2021-02-25T17:02:10.123+02:00"),
            Some(1_614_265_330_123)
        );
        assert_eq!(parse("2021-02-25"), Some(1_614_211_200_000));
        assert_eq!(parse("1614265330123"), Some(1_614_265_330_123));
        assert_eq!(
            parse("2024-02-29T00:00:00Z").map(format_ms).as_deref(),
            Some("2024-02-29T00:00:00.000Z")
        );
        for bad in [
            "",
            "yesterday",
            "2021-13-01",
            "2021-02-25T25:00:00Z",
            "2021-02-25T10:00:00",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
