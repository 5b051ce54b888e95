//! The results: one row per scenario and backend, the throughput targets
//! each row is held to, the Markdown table printed at the end and the JSON
//! written next to it.

use serde::Serialize;

/// Whether the pending deliveries rose over a window in which `accepted`
/// events (two deliveries each) came in. Flat: what is left is no more than
/// the deliveries in flight and just committed, not a share of the window's
/// work.
pub fn backlog_grew(start: u64, end: u64, accepted: u64) -> bool {
    let slack = (2 * accepted / 50).max(256);
    end > start + slack
}

/// Which kind of measurement a row is; decides its targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Ceiling,
    IngestClosed,
    IngestPaced,
    Drain,
    DispatchPaced,
    Sustained,
    /// The highest paced rate at which deliveries kept up (bench/keepup.rs).
    KeepUp,
    TargetDown,
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub kind: Kind,
    pub scenario: String,
    pub backend: String,
    /// How the load was offered: connections, rate, event count.
    pub load: String,
    pub seconds: f64,
    /// Requests answered 200.
    pub ok: u64,
    /// Events the gateway counted as accepted (`/metrics`) in the window.
    pub accepted: Option<u64>,
    /// Answers other than 200, and requests without an answer.
    pub errors: u64,
    pub error_detail: String,
    pub unfinished: u64,
    pub ev_per_s: Option<f64>,
    /// The `/healthz` rate the ratio is taken against.
    pub ceiling_per_s: Option<f64>,
    pub ratio_to_ceiling: Option<f64>,
    /// Acknowledgement latency; `null` in JSON means some of that share of
    /// requests was never answered.
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub p999_ms: Option<f64>,
    pub deliveries: Option<u64>,
    pub deliveries_per_s: Option<f64>,
    pub backlog_start: Option<u64>,
    pub backlog_end: Option<u64>,
    pub backlog_grew: Option<bool>,
    pub cpu_us_per_event: Option<f64>,
    pub cpu_us_per_delivery: Option<f64>,
    pub postgres_cpu_us_per_event: Option<f64>,
    pub postgres_cpu_us_per_delivery: Option<f64>,
    pub loadgen_cpu_us_per_request: Option<f64>,
    pub sink_cpu_us_per_delivery: Option<f64>,
    pub rss_idle_mib: Option<f64>,
    pub rss_peak_mib: Option<f64>,
    pub sink_duplicates: Option<u64>,
    /// The `protected` scenario's extra targets (never in `deliveries`):
    /// the deliveries ingest wrote for them (ingest alone), or those
    /// recorded delivered in the row's window (keep-up).
    pub extra_deliveries: Option<u64>,
    pub checks: Vec<Check>,
}

impl Row {
    pub fn new(kind: Kind, scenario: &str, backend: &str, load: String) -> Row {
        Row {
            kind,
            scenario: scenario.into(),
            backend: backend.into(),
            load,
            seconds: 0.0,
            ok: 0,
            accepted: None,
            errors: 0,
            error_detail: String::new(),
            unfinished: 0,
            ev_per_s: None,
            ceiling_per_s: None,
            ratio_to_ceiling: None,
            p50_ms: None,
            p99_ms: None,
            p999_ms: None,
            deliveries: None,
            deliveries_per_s: None,
            backlog_start: None,
            backlog_end: None,
            backlog_grew: None,
            cpu_us_per_event: None,
            cpu_us_per_delivery: None,
            postgres_cpu_us_per_event: None,
            postgres_cpu_us_per_delivery: None,
            loadgen_cpu_us_per_request: None,
            sink_cpu_us_per_delivery: None,
            rss_idle_mib: None,
            rss_peak_mib: None,
            sink_duplicates: None,
            extra_deliveries: None,
            checks: Vec::new(),
        }
    }

    /// Holds the row to the targets of its kind and backend.
    pub fn check_targets(&mut self) {
        let sqlite = self.backend == "sqlite";
        let mut checks = Vec::new();
        let mut at_least = |measure: &'static str, target: f64, value: Option<f64>| {
            checks.push(Check::new(measure, Bound::AtLeast(target), value));
        };
        match self.kind {
            Kind::Ceiling => {}
            Kind::IngestClosed => {
                at_least(
                    "x ceiling",
                    if sqlite { 0.33 } else { 0.15 },
                    self.ratio_to_ceiling,
                );
            }
            Kind::Drain => {
                at_least(
                    "deliveries/s",
                    if sqlite { 15_000.0 } else { 12_000.0 },
                    self.deliveries_per_s,
                );
            }
            Kind::Sustained => {
                at_least(
                    "ev/s",
                    if sqlite { 5_000.0 } else { 4_000.0 },
                    self.ev_per_s,
                );
                checks.push(Check {
                    measure: "backlog flat",
                    target: "flat".into(),
                    value: self.backlog_grew.map(|g| if g { 1.0 } else { 0.0 }),
                    met: self.backlog_grew.map(|g| !g),
                });
            }
            Kind::IngestPaced | Kind::DispatchPaced | Kind::KeepUp | Kind::TargetDown => {}
        }
        let mut at_most = |measure: &'static str, target: f64, value: Option<f64>| {
            checks.push(Check::new(measure, Bound::AtMost(target), value));
        };
        if sqlite && matches!(self.kind, Kind::IngestPaced | Kind::DispatchPaced) {
            at_most("p99 ms", 10.0, self.p99_ms);
        }
        match self.kind {
            Kind::IngestClosed | Kind::IngestPaced => {
                at_most("CPU us/event", 60.0, self.cpu_us_per_event)
            }
            // The per-event budget of ingest plus two deliveries.
            Kind::Sustained => at_most("CPU us/event", 140.0, self.cpu_us_per_event),
            Kind::Drain => at_most("CPU us/delivery", 40.0, self.cpu_us_per_delivery),
            _ => {}
        }
        if self.kind != Kind::Ceiling {
            if matches!(self.kind, Kind::IngestClosed | Kind::Sustained) {
                at_most("RSS idle MiB", 30.0, self.rss_idle_mib);
            }
            at_most("RSS peak MiB", 150.0, self.rss_peak_mib);
        }
        self.checks = checks;
    }
}

#[derive(Debug, Clone, Copy)]
enum Bound {
    AtLeast(f64),
    AtMost(f64),
}

/// One target from the issue, the measured value and whether it was met.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub measure: &'static str,
    pub target: String,
    pub value: Option<f64>,
    /// `None` when the value could not be measured.
    pub met: Option<bool>,
}

impl Check {
    fn new(measure: &'static str, bound: Bound, value: Option<f64>) -> Check {
        let (target, met) = match bound {
            Bound::AtLeast(t) => (format!(">= {}", trim(t)), value.map(|v| v >= t)),
            Bound::AtMost(t) => (format!("<= {}", trim(t)), value.map(|v| v <= t)),
        };
        Check {
            measure,
            target,
            value: value.filter(|v| v.is_finite()),
            met,
        }
    }

    fn cell(&self) -> String {
        let mark = match self.met {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "n/a",
        };
        if self.measure == "backlog flat" {
            format!("backlog flat: {mark}")
        } else {
            format!("{} {}: {mark}", self.measure, self.target)
        }
    }
}

fn trim(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

fn num(v: Option<f64>, decimals: usize) -> String {
    match v {
        None => "-".into(),
        Some(v) if v.is_infinite() => "unanswered".into(),
        Some(v) => format!("{v:.decimals$}"),
    }
}

fn grouped(v: Option<f64>) -> String {
    let Some(v) = v else {
        return "-".into();
    };
    let digits = format!("{:.0}", v.round());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The main table, as Markdown.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| scenario | backend | load | ev/s | x ceiling | p50 ms | p99 ms | p99.9 ms | deliveries/s | backlog grew | CPU us/event | CPU us/delivery | RSS idle/peak MiB | targets |\n\
         | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |\n",
    );
    for r in rows {
        let rss = match (r.rss_idle_mib, r.rss_peak_mib) {
            (None, None) => "-".into(),
            (idle, peak) => format!("{} / {}", num(idle, 1), num(peak, 1)),
        };
        let grew = match r.backlog_grew {
            None => "-".to_string(),
            Some(true) => format!(
                "yes ({} -> {})",
                fmt_u(r.backlog_start),
                fmt_u(r.backlog_end)
            ),
            Some(false) => format!(
                "no ({} -> {})",
                fmt_u(r.backlog_start),
                fmt_u(r.backlog_end)
            ),
        };
        let targets = if r.checks.is_empty() {
            "-".into()
        } else {
            r.checks
                .iter()
                .map(Check::cell)
                .collect::<Vec<_>>()
                .join("; ")
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.scenario,
            r.backend,
            r.load,
            grouped(r.ev_per_s),
            num(r.ratio_to_ceiling, 3),
            num(r.p50_ms, 2),
            num(r.p99_ms, 2),
            num(r.p999_ms, 2),
            grouped(r.deliveries_per_s),
            grew,
            num(r.cpu_us_per_event, 0),
            num(r.cpu_us_per_delivery, 0),
            rss,
            targets,
        ));
    }
    out
}

/// What else each row measured: counts behind the rates, errors, the
/// Postgres backends' CPU and the load generator's own cost.
pub fn details(rows: &[Row]) -> String {
    let mut out = String::from(
        "| scenario | backend | load | seconds | 200s | accepted | errors | unanswered | ceiling req/s | deliveries | sink duplicates | extra deliveries | Postgres CPU us/event | Postgres CPU us/delivery | load generator CPU us/request | sink CPU us/delivery |\n\
         | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for r in rows {
        let errors = if r.errors == 0 {
            "0".to_string()
        } else {
            format!("{} ({})", r.errors, r.error_detail)
        };
        out.push_str(&format!(
            "| {} | {} | {} | {:.1} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.scenario,
            r.backend,
            r.load,
            r.seconds,
            r.ok,
            fmt_u(r.accepted),
            errors,
            r.unfinished,
            grouped(r.ceiling_per_s),
            fmt_u(r.deliveries),
            fmt_u(r.sink_duplicates),
            fmt_u(r.extra_deliveries),
            num(r.postgres_cpu_us_per_event, 0),
            num(r.postgres_cpu_us_per_delivery, 0),
            num(r.loadgen_cpu_us_per_request, 1),
            num(r.sink_cpu_us_per_delivery, 1),
        ));
    }
    out
}

/// The `protected` scenario beside the plain one: its row's ev/s and CPU
/// us/event as multiples of the plain row's, in the same run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Against {
    pub ev_per_s: Option<f64>,
    pub cpu_us_per_event: Option<f64>,
}

/// How much of the plain rate a row with the protected routes present must
/// keep: they may cost the unaffected routes at most 10 %.
pub const PROTECTED_SHARE: f64 = 0.90;

impl Against {
    pub fn new(plain: &Row, protected: &Row) -> Against {
        let ratio = |p: Option<f64>, q: Option<f64>| {
            p.zip(q)
                .filter(|(p, _)| *p > 0.0)
                .map(|(p, q)| q / p)
                .filter(|x| x.is_finite())
        };
        Against {
            ev_per_s: ratio(plain.ev_per_s, protected.ev_per_s),
            cpu_us_per_event: ratio(plain.cpu_us_per_event, protected.cpu_us_per_event),
        }
    }

    /// The check of the protected row: it keeps [`PROTECTED_SHARE`] of the
    /// plain rate.
    pub fn check(&self) -> Check {
        Check::new(
            "x plain ev/s",
            Bound::AtLeast(PROTECTED_SHARE),
            self.ev_per_s,
        )
    }

    /// "0.94 x the ev/s, 1.31 x the CPU us/event".
    pub fn describe(&self) -> String {
        format!(
            "{} x the ev/s, {} x the CPU us/event",
            num(self.ev_per_s, 2),
            num(self.cpu_us_per_event, 2)
        )
    }
}

fn fmt_u(v: Option<u64>) -> String {
    v.map_or_else(|| "-".into(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kind: Kind, backend: &str) -> Row {
        Row::new(kind, "scenario", backend, "load".into())
    }

    fn met(row: &Row, measure: &str) -> Option<bool> {
        row.checks
            .iter()
            .find(|c| c.measure == measure)
            .unwrap_or_else(|| panic!("no check {measure}"))
            .met
    }

    #[test]
    fn ingest_ratio_targets_differ_by_backend() {
        let mut sqlite = row(Kind::IngestClosed, "sqlite");
        sqlite.ratio_to_ceiling = Some(0.2);
        sqlite.check_targets();
        assert_eq!(met(&sqlite, "x ceiling"), Some(false));
        let mut postgres = row(Kind::IngestClosed, "postgres");
        postgres.ratio_to_ceiling = Some(0.2);
        postgres.check_targets();
        assert_eq!(met(&postgres, "x ceiling"), Some(true));
    }

    #[test]
    fn an_unanswered_p99_misses_and_an_unmeasured_value_is_not_judged() {
        let mut paced = row(Kind::IngestPaced, "sqlite");
        paced.p99_ms = Some(f64::INFINITY);
        paced.cpu_us_per_event = Some(59.0);
        paced.check_targets();
        assert_eq!(met(&paced, "p99 ms"), Some(false));
        assert_eq!(met(&paced, "CPU us/event"), Some(true));
        assert_eq!(met(&paced, "RSS peak MiB"), None);
    }

    #[test]
    fn sustained_needs_rate_and_a_flat_backlog() {
        let mut r = row(Kind::Sustained, "sqlite");
        r.ev_per_s = Some(6_000.0);
        r.backlog_grew = Some(true);
        r.check_targets();
        assert_eq!(met(&r, "ev/s"), Some(true));
        assert_eq!(met(&r, "backlog flat"), Some(false));
        assert!(table(&[r]).contains("backlog flat: NO"));
    }

    #[test]
    fn backlog_growth_allows_for_work_in_flight() {
        assert!(!backlog_grew(100, 356, 0));
        assert!(backlog_grew(100, 357, 0));
        // 10,000 events need 20,000 deliveries: 2 % of them may be pending.
        assert!(!backlog_grew(0, 400, 10_000));
        assert!(backlog_grew(0, 401, 10_000));
    }

    #[test]
    fn protected_rows_are_held_to_ninety_percent_of_the_plain_rate() {
        let mut plain = row(Kind::KeepUp, "sqlite");
        plain.ev_per_s = Some(4_000.0);
        plain.cpu_us_per_event = Some(100.0);
        let mut protected = row(Kind::KeepUp, "sqlite");
        protected.ev_per_s = Some(3_500.0);
        protected.cpu_us_per_event = Some(130.0);
        let against = Against::new(&plain, &protected);
        assert_eq!(against.ev_per_s, Some(0.875));
        assert_eq!(against.cpu_us_per_event, Some(1.3));
        assert_eq!(against.check().met, Some(false));
        assert_eq!(
            against.describe(),
            "0.88 x the ev/s, 1.30 x the CPU us/event"
        );
        protected.ev_per_s = Some(3_600.0);
        assert_eq!(Against::new(&plain, &protected).check().met, Some(true));
        // Nothing to compare with: not judged.
        plain.ev_per_s = None;
        let unmeasured = Against::new(&plain, &protected);
        assert_eq!(unmeasured.ev_per_s, None);
        assert_eq!(unmeasured.check().met, None);
    }

    #[test]
    fn numbers_print_grouped_and_unanswered() {
        assert_eq!(grouped(Some(1234567.4)), "1,234,567");
        assert_eq!(grouped(Some(999.0)), "999");
        assert_eq!(num(Some(f64::INFINITY), 2), "unanswered");
        assert_eq!(num(None, 2), "-");
    }
}
