//! The `keepup` scenario, "the highest paced rate at which deliveries keep
//! up, found by steps".
//!
//! One hookgate with ingest and dispatch (`serve`, both targets) on one
//! database for the whole search: each step offers paced ingest at one
//! rate for a step (15 s, quick 5 s), then allows 3 s more. The step kept
//! up when every request was answered 200 and the targets received at
//! least [`KEEP_UP_SHARE`] of the step's deliveries (two per accepted
//! event) within the step and those 3 s. Between steps the backlog a step
//! left is drained (`hookgate_outbox_pending` of both targets at 0, or a
//! time limit), so each step starts level; one process and one database
//! keep the search short, and later steps run on a database that has grown
//! by the earlier ones, as a running gateway's does.
//!
//! With the `protected` scenario's extra targets present, only `sink-a` and
//! `sink-b` count, in the decision, the drain between steps and the check
//! against hookgate's own count; the extra targets' backlogs (held by a rate
//! limit, or by one key at a time) carry over from step to step, and the
//! note says how many deliveries they got.
//!
//! The search ([`Search`]) starts at [`START_RATE`], doubles while steps keep
//! up, then bisects between the highest rate that kept up and the lowest
//! that did not, for at most `keepup_max_steps` steps, never above the
//! `/healthz` ceiling at the paced connection count (what the load
//! generator can offer at all).
//!
//! The row is the highest rate that kept up: its latencies and CPU are
//! those of that step (the CPU over the step and the 3 s after, so it holds
//! the event's two deliveries); the peak memory is the whole search's.
//! Every step is listed in the notes.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::loadgen::{self, Pool};
use crate::process::{Gateway, Role};
use crate::report::{Kind, Row};
use crate::scenarios::mib;
use crate::{secs, Backend, Bench, Databases};

/// The share of a step's deliveries that must arrive in time.
const KEEP_UP_SHARE: f64 = 0.95;
/// The first rate tried, events per second.
const START_RATE: u32 = 1_000;
/// The highest rate tried when no ceiling was measured at the paced
/// connection count.
const DEFAULT_CAP: u32 = 50_000;
/// Bisection stops below this rate.
const MIN_RATE: u32 = 100;
/// How long the backlog a step left may take to drain.
const SETTLE_LIMIT: Duration = Duration::from_secs(60);

/// Whether a step kept up: something was accepted, nothing failed or went
/// unanswered, and the targets received at least [`KEEP_UP_SHARE`] of the
/// two deliveries of each accepted event in time.
pub(crate) fn kept_up(accepted: u64, delivered: u64, errors: u64) -> bool {
    accepted > 0 && errors == 0 && delivered as f64 >= KEEP_UP_SHARE * 2.0 * accepted as f64
}

/// The step search: which rate to try next, from the steps so far.
#[derive(Debug, Clone)]
pub(crate) struct Search {
    start: u32,
    cap: u32,
    max_steps: usize,
    /// Each rate tried and whether it kept up, in order.
    steps: Vec<(u32, bool)>,
}

impl Search {
    pub(crate) fn new(start: u32, cap: u32, max_steps: usize) -> Search {
        Search {
            start,
            cap: cap.max(MIN_RATE),
            max_steps,
            steps: Vec::new(),
        }
    }

    /// The highest rate that kept up.
    pub(crate) fn best(&self) -> Option<u32> {
        self.steps.iter().filter(|s| s.1).map(|s| s.0).max()
    }

    /// The lowest rate that did not.
    fn failed(&self) -> Option<u32> {
        self.steps.iter().filter(|s| !s.1).map(|s| s.0).min()
    }

    /// The next rate to try; `None` when the search is over: out of steps,
    /// at the cap, or the gap between kept up and not is within 1/16 of
    /// the rate (or rounds away).
    pub(crate) fn next(&self) -> Option<u32> {
        if self.steps.len() >= self.max_steps {
            return None;
        }
        match (self.best(), self.failed()) {
            (None, None) => Some(self.start.min(self.cap)),
            (Some(good), None) => (good < self.cap).then(|| good.saturating_mul(2).min(self.cap)),
            (good, Some(bad)) => {
                let low = good.unwrap_or(0);
                let mid = round(low + (bad - low) / 2);
                let close = bad - low <= bad / 16;
                (!close && mid > low && mid < bad && mid >= MIN_RATE).then_some(mid)
            }
        }
    }

    pub(crate) fn record(&mut self, rate: u32, kept_up: bool) {
        self.steps.push((rate, kept_up));
    }
}

/// A rate rounded to a figure worth printing: 50s from 1,000 up, else 10s.
fn round(rate: u32) -> u32 {
    let unit = if rate >= 1_000 { 50 } else { 10 };
    (rate + unit / 2) / unit * unit
}

impl Bench {
    pub(crate) async fn keepup(
        &mut self,
        backend: Backend,
        dbs: &mut Databases,
    ) -> Result<(), String> {
        let run = self
            .launch(
                backend,
                dbs,
                &self.key("keepup"),
                Role::All,
                self.sink_targets(),
            )
            .await?;
        let (db, gateway, idle, rss) = (&run.db, &run.gateway, run.idle, &run.rss);
        let connections = self.plan.paced_connections;
        let (step_s, settle_s) = (self.plan.keepup_step_s, self.plan.keepup_settle_s);
        let cap = self
            .ceiling_for(connections)
            .map_or(DEFAULT_CAP, |c| c as u32);
        let mut search = Search::new(START_RATE, cap, self.plan.keepup_max_steps);
        let label = format!("{} {}", backend.name(), self.scenario("keep-up"));

        // A warm-up at the first rate, not counted, and its backlog drained.
        let mut pool = Pool::connect(gateway.addr, connections).await?;
        let first = f64::from(search.next().unwrap_or(START_RATE));
        loadgen::paced(&mut pool, &self.load, first, secs(self.plan.warmup_s)).await;
        drop(pool);
        settle(gateway).await?;
        rss.reset();
        let start_received = self.sink_count().await?.received;
        let start_metrics = gateway.metrics().await?;
        let start_delivered = start_metrics.delivered;
        let start_others = self.sink.others();

        let mut best: Option<Row> = None;
        let mut lines = Vec::new();
        while let Some(rate) = search.next() {
            // Fresh connections: the last step's sat idle through the drain.
            let mut pool = Pool::connect(gateway.addr, connections).await?;
            let before = self.snapshot(gateway, db).await?;
            let until = before.at + secs(step_s + settle_s);
            let (outcome, after) = tokio::join!(
                loadgen::paced(&mut pool, &self.load, f64::from(rate), secs(step_s)),
                async {
                    tokio::time::sleep_until(until.into()).await;
                    self.snapshot(gateway, db).await
                }
            );
            let after = after?;
            drop(pool);
            // Every answer is in by now, some perhaps after `until`.
            let accepted = gateway.metrics().await?.accepted - before.metrics.accepted;
            let delivered = after.sink.received - before.sink.received;
            let errors = outcome.failures() + outcome.unfinished;
            let kept = kept_up(accepted, delivered, errors);
            search.record(rate, kept);
            let left = settle(gateway).await?;
            let line = format!(
                "{rate} ev/s: accepted {accepted}, delivered {delivered} of {} within {:.0} s, \
                 {errors} errors, kept up: {}{}",
                2 * accepted,
                step_s + settle_s,
                if kept { "yes" } else { "no" },
                if left > 0 {
                    format!(" ({left} deliveries still pending after {SETTLE_LIMIT:?})")
                } else {
                    String::new()
                }
            );
            println!("  {label} step {}: {line}", lines.len() + 1);
            lines.push(line);
            if kept {
                let mut row = Row::new(
                    Kind::KeepUp,
                    &self.scenario("ingest + dispatch, keep-up rate"),
                    backend.name(),
                    String::new(),
                );
                self.fill(&mut row, &before, &after, Some(&outcome));
                self.backlog(&mut row, &before, &after);
                // The rate offered (and accepted, since nothing failed).
                row.ev_per_s = Some(f64::from(rate));
                if self.protected {
                    row.extra_deliveries =
                        Some(after.metrics.other_delivered - before.metrics.other_delivered);
                }
                best = Some(row);
            }
        }

        let mut row = best.unwrap_or_else(|| {
            let mut row = Row::new(
                Kind::KeepUp,
                &self.scenario("ingest + dispatch, keep-up rate"),
                backend.name(),
                String::new(),
            );
            row.error_detail = "no step kept up".into();
            row
        });
        row.load = format!(
            "paced, {connections} connections, steps of {step_s:.0} s + {settle_s:.0} s, {} steps",
            lines.len()
        );
        self.against_ceiling(&mut row, connections);
        row.rss_idle_mib = Some(idle);
        row.rss_peak_mib = Some(mib(rss.peak_kib()));
        // The targets answered 2xx: hookgate recorded what they received as
        // delivered (everything has drained by now).
        let received = self.sink_count().await?.received - start_received;
        let recorded = gateway.metrics().await?.delivered - start_delivered;
        if received != recorded {
            let detail =
                format!("targets received {received}, hookgate recorded {recorded} delivered");
            row.error_detail = if row.error_detail.is_empty() {
                detail
            } else {
                format!("{}; {detail}", row.error_detail)
            };
        }
        let mut note = format!(
            "{label}: highest rate kept up {} (cap {cap} ev/s); {received} deliveries received, \
             {recorded} recorded delivered; steps: {}",
            search
                .best()
                .map_or_else(|| "none".to_string(), |r| format!("{r} ev/s")),
            lines.join("; ")
        );
        if self.protected {
            let end = gateway.metrics().await?;
            let by_target = gateway.deliveries_by_target().await?;
            let pending: Vec<String> = crate::process::PROTECTED
                .iter()
                .map(|(name, _, _)| {
                    let n = by_target.get(*name).map_or(0, |d| d.pending);
                    format!("{name} {n}")
                })
                .collect();
            note.push_str(&format!(
                "; the extra targets (not counted above): {} deliveries recorded delivered over \
                 the search ({}), still pending at its end: {}",
                end.other_delivered - start_metrics.other_delivered,
                others_since(&start_others, &self.sink.others()),
                pending.join(", ")
            ));
        }
        self.notes.push(note);
        self.push(row);
        run.stop().await
    }
}

/// What the sink received per extra target since `start`: "limited 312,
/// ordered 4,990" (a target with none is left out).
fn others_since(start: &BTreeMap<String, u64>, now: &BTreeMap<String, u64>) -> String {
    let parts: Vec<String> = now
        .iter()
        .map(|(path, n)| (path, n - start.get(path).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .map(|(path, n)| format!("{path} {n}"))
        .collect();
    if parts.is_empty() {
        "none received".into()
    } else {
        format!("received: {}", parts.join(", "))
    }
}

/// Waits until no delivery is pending, or [`SETTLE_LIMIT`]; the deliveries
/// still pending.
async fn settle(gateway: &Gateway) -> Result<u64, String> {
    let deadline = Instant::now() + SETTLE_LIMIT;
    loop {
        let pending = gateway.metrics().await?.pending;
        if pending == 0 || Instant::now() >= deadline {
            return Ok(pending);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rates a search tries against a gateway that keeps up to `limit`.
    fn run(search: &mut Search, limit: u32) -> Vec<u32> {
        let mut tried = Vec::new();
        while let Some(rate) = search.next() {
            tried.push(rate);
            search.record(rate, rate <= limit);
        }
        tried
    }

    #[test]
    fn a_step_keeps_up_with_95_percent_of_two_deliveries_per_event_and_no_errors() {
        assert!(kept_up(1_000, 2_000, 0));
        assert!(kept_up(1_000, 1_900, 0));
        assert!(!kept_up(1_000, 1_899, 0));
        assert!(!kept_up(1_000, 2_000, 1));
        assert!(!kept_up(0, 0, 0));
    }

    #[test]
    fn the_search_doubles_then_bisects_within_its_steps() {
        let mut search = Search::new(1_000, 50_000, 8);
        let tried = run(&mut search, 6_300);
        assert_eq!(
            tried,
            [1_000, 2_000, 4_000, 8_000, 6_000, 7_000, 6_500, 6_250]
        );
        assert_eq!(search.best(), Some(6_250));
    }

    #[test]
    fn the_search_stops_when_the_gap_is_small() {
        let mut search = Search::new(1_000, 50_000, 20);
        let tried = run(&mut search, 6_300);
        // 6,250 kept up, 6,500 did not: 250 is within 1/16 of 6,500.
        assert_eq!(tried.len(), 8);
        assert_eq!(search.best(), Some(6_250));
    }

    #[test]
    fn the_search_stays_under_the_cap() {
        let mut search = Search::new(1_000, 3_000, 8);
        assert_eq!(run(&mut search, 100_000), [1_000, 2_000, 3_000]);
        assert_eq!(search.best(), Some(3_000));
        let low = Search::new(1_000, 600, 8);
        assert_eq!(low.next(), Some(600));
    }

    #[test]
    fn a_first_step_that_fails_bisects_down_from_it() {
        let mut search = Search::new(1_000, 50_000, 8);
        let tried = run(&mut search, 300);
        assert_eq!(&tried[..3], [1_000, 500, 250]);
        assert!(tried.iter().all(|&r| r >= MIN_RATE));
        assert!(search.best().is_some_and(|b| (250..=300).contains(&b)));
        let mut never = Search::new(1_000, 50_000, 8);
        run(&mut never, 0);
        assert_eq!(never.best(), None);
    }

    #[test]
    fn rates_round_to_readable_figures() {
        assert_eq!(round(6_260), 6_250);
        assert_eq!(round(6_275), 6_300);
        assert_eq!(round(374), 370);
        assert_eq!(round(375), 380);
    }
}
