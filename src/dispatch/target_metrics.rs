//! A target's delivery metrics, each label set registered once (on first
//! use) instead of built and looked up again on every attempt.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{Counter, Histogram};

use crate::store::AttemptOutcome;

/// What `hookgate_deliveries_total` counts: each [`AttemptOutcome`] by name.
const OUTCOMES: [&str; 3] = ["delivered", "retry", "dead"];

pub struct TargetMetrics {
    target: String,
    /// `hookgate_delivery_attempts_total` by status class: index 0 is
    /// `error` (no HTTP answer), 1 to 9 are `1xx` to `9xx`.
    attempts: [OnceLock<Counter>; 10],
    /// `hookgate_deliveries_total` by outcome, in the order of [`OUTCOMES`];
    /// registered at zero when the target is, so an `increase()` alert
    /// fires on the first one after a restart.
    outcomes: [Counter; 3],
    duration: OnceLock<Histogram>,
}

impl TargetMetrics {
    pub fn new(target: &str) -> TargetMetrics {
        TargetMetrics {
            target: target.to_string(),
            attempts: Default::default(),
            outcomes: OUTCOMES.map(|outcome| {
                let counter = metrics::counter!("hookgate_deliveries_total", "target" => target.to_string(), "outcome" => outcome);
                counter.increment(0);
                counter
            }),
            duration: OnceLock::new(),
        }
    }

    /// One HTTP attempt and how long it took.
    pub fn attempt(&self, status: Option<u16>, took: Duration) {
        let class = status.map_or(0, |s| usize::from(s / 100).min(9));
        self.attempts[class]
            .get_or_init(|| {
                let label = match class {
                    0 => "error".to_string(),
                    n => format!("{n}xx"),
                };
                metrics::counter!("hookgate_delivery_attempts_total", "target" => self.target.clone(), "status_class" => label)
            })
            .increment(1);
        self.duration
            .get_or_init(|| {
                metrics::histogram!("hookgate_delivery_duration_seconds", "target" => self.target.clone())
            })
            .record(took.as_secs_f64());
    }

    /// An attempt's outcome, once recorded.
    pub fn recorded(&self, outcome: &AttemptOutcome) {
        let i = match outcome {
            AttemptOutcome::Delivered => 0,
            AttemptOutcome::Retry { .. } => 1,
            AttemptOutcome::Dead => 2,
        };
        debug_assert_eq!(OUTCOMES[i], outcome.as_str());
        self.outcomes[i].increment(1);
    }
}
