//! Target protection: pause, the circuit breaker and the rate budget, kept
//! in the `target_state` table so every process sharing the database obeys
//! the same state.
//!
//! The claim asks [`admit`] how many deliveries a target may lease now
//! (none while paused or while its circuit is open and cooling down; one
//! probe once the cool-down is over; never more than its rate budget
//! holds), and pays for what it leased in the same transaction. The
//! recorder feeds every recorded attempt to [`Breaker::record`], which
//! counts consecutive failures and opens or closes the circuit. The rules
//! are plain functions here; `target_ops!` runs them against each backend.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use utoipa::ToSchema;

/// The state of a target's circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Circuit {
    /// Deliveries flow.
    Closed,
    /// Too many consecutive failures: nothing is sent until the cool-down
    /// is over.
    Open,
    /// The cool-down is over and one probe is (or may be) out; its answer
    /// closes or reopens the circuit.
    HalfOpen,
}

impl Circuit {
    pub fn as_str(self) -> &'static str {
        match self {
            Circuit::Closed => "closed",
            Circuit::Open => "open",
            Circuit::HalfOpen => "half_open",
        }
    }
}

impl fmt::Display for Circuit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for Circuit {
    type Error = String;
    fn try_from(word: String) -> Result<Self, String> {
        [Circuit::Closed, Circuit::Open, Circuit::HalfOpen]
            .into_iter()
            .find(|c| c.as_str() == word)
            .ok_or_else(|| format!("unknown circuit state {word:?} in the store"))
    }
}

/// `rate_limit = "50/s"`: at most `count` attempts started per period, with
/// bursts of at most one period's worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub count: u32,
    pub period_ms: u64,
}

impl RateLimit {
    /// Tokens in the bucket at `now`, from what it held at `refilled_at`.
    fn refill(&self, tokens: f64, refilled_at: i64, now: i64) -> f64 {
        let elapsed = (now - refilled_at).max(0) as f64;
        (tokens + elapsed * f64::from(self.count) / self.period_ms as f64).min(self.count.into())
    }

    /// When a bucket holding `tokens` at `now` holds a whole token again.
    fn next_token_at(&self, tokens: f64, now: i64) -> i64 {
        let missing = (1.0 - tokens).max(0.0);
        now + (missing * self.period_ms as f64 / f64::from(self.count)).ceil() as i64
    }
}

impl FromStr for RateLimit {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!("{s:?} is not a rate: write a count per second, minute or hour, like \"50/s\", \"600/m\" or \"1000/h\"")
        };
        let (count, unit) = s.trim().split_once('/').ok_or_else(bad)?;
        let count: u32 = count.trim().parse().map_err(|_| bad())?;
        let period_ms = match unit.trim() {
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            _ => return Err(bad()),
        };
        if count == 0 {
            return Err(format!("{s:?}: the count must be above 0 (remove the key for no limit, or pause the target)"));
        }
        Ok(RateLimit { count, period_ms })
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.period_ms {
            1_000 => "s",
            60_000 => "m",
            _ => "h",
        };
        write!(f, "{}/{unit}", self.count)
    }
}

/// How one target is protected (`rate_limit`, `circuit_failures`,
/// `circuit_cooldown_ms`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Protection {
    pub rate_limit: Option<RateLimit>,
    /// Consecutive failed attempts that open the circuit; 0 = never.
    pub circuit_failures: u32,
    pub circuit_cooldown_ms: u64,
}

impl Default for Protection {
    fn default() -> Self {
        Protection {
            rate_limit: None,
            circuit_failures: 20,
            circuit_cooldown_ms: 30_000,
        }
    }
}

/// One `target_state` row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TargetState {
    pub target: String,
    pub paused: bool,
    #[sqlx(try_from = "String")]
    pub circuit: Circuit,
    /// Consecutive failed attempts.
    pub failures: i64,
    /// When `circuit` last changed (epoch ms); 0 = never.
    pub changed_at: i64,
    /// A half-open circuit's probe holds its lease until then.
    pub probe_until: i64,
    pub tokens: f64,
    pub refilled_at: i64,
}

impl TargetState {
    /// The state of a target nothing has happened to yet.
    pub fn new(target: &str) -> TargetState {
        TargetState {
            target: target.to_string(),
            paused: false,
            circuit: Circuit::Closed,
            failures: 0,
            changed_at: 0,
            probe_until: 0,
            tokens: 0.0,
            refilled_at: 0,
        }
    }
}

/// An ordering key of a target with deliveries waiting behind its first
/// pending one (the head), oldest head first: what an operator looks at
/// when a key seems stuck.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct BlockedKey {
    pub ordering_key: String,
    /// Deliveries of the key waiting behind the head.
    pub waiting: i64,
    /// The head: the delivery the key waits for, and its event.
    pub head_delivery_id: String,
    pub head_event_id: String,
}

/// What a claim may lease for one target now.
#[derive(Debug, Clone, PartialEq)]
pub struct Admission {
    /// The most deliveries to lease.
    pub limit: i64,
    /// This lease is the half-open circuit's one probe (taken by
    /// compare-and-set before leasing).
    pub probe: bool,
    /// The rate budget after refilling, when the target has one.
    pub tokens: Option<f64>,
    /// When the budget was refilled to `tokens`: never earlier than the
    /// last refill, since a claim's clock may lag one that took the row
    /// first.
    pub refilled_at: i64,
    /// When the target may be claimable again, when held back now.
    pub wait_until: Option<i64>,
}

impl Admission {
    fn none(wait_until: Option<i64>) -> Admission {
        Admission {
            limit: 0,
            probe: false,
            tokens: None,
            refilled_at: 0,
            wait_until,
        }
    }
}

/// How many of `want` due deliveries a target in `state` may lease at `now`.
pub fn admit(state: &TargetState, p: &Protection, want: i64, now: i64) -> Admission {
    if state.paused {
        return Admission::none(None);
    }
    let mut limit = want;
    let mut probe = false;
    if p.circuit_failures > 0 {
        match state.circuit {
            Circuit::Closed => {}
            Circuit::Open => {
                let until = state.changed_at + p.circuit_cooldown_ms as i64;
                if now < until {
                    return Admission::none(Some(until));
                }
                (limit, probe) = (1, true);
            }
            Circuit::HalfOpen => {
                if now < state.probe_until {
                    return Admission::none(Some(state.probe_until));
                }
                (limit, probe) = (1, true);
            }
        }
    }
    let mut tokens = None;
    let mut wait_until = None;
    let refilled_at = now.max(state.refilled_at);
    if let Some(rate) = p.rate_limit {
        let held = rate.refill(state.tokens, state.refilled_at, refilled_at);
        let whole = held.floor() as i64;
        if whole < limit {
            limit = whole.max(0);
            wait_until = Some(rate.next_token_at(held - limit as f64, refilled_at));
        }
        tokens = Some(held);
    }
    Admission {
        limit,
        probe: probe && limit > 0,
        tokens,
        refilled_at,
        wait_until,
    }
}

/// A circuit that changed state, for the log (once per change).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CircuitChange {
    pub target: String,
    pub from: Circuit,
    pub to: Circuit,
    /// Consecutive failures when it changed.
    pub failures: i64,
}

/// One recorded attempt, as the breaker sees it.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    pub success: bool,
    /// The half-open circuit's probe.
    pub probe: bool,
}

/// The breaker's part of a `target_state` row, changed by recorded attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Breaker {
    pub circuit: Circuit,
    pub failures: i64,
    pub changed_at: i64,
    pub probe_until: i64,
}

impl Breaker {
    pub fn of(state: &TargetState) -> Breaker {
        Breaker {
            circuit: state.circuit,
            failures: state.failures,
            changed_at: state.changed_at,
            probe_until: state.probe_until,
        }
    }

    /// Applies one attempt recorded at `now`; returns the change of circuit
    /// it caused. A 2xx closes the circuit whatever its state; a failure
    /// opens a closed one at `threshold` consecutive failures (0 = never)
    /// and reopens a half-open one when it was the probe.
    pub fn record(&mut self, o: Outcome, threshold: u32, now: i64) -> Option<(Circuit, Circuit)> {
        let from = self.circuit;
        if o.success {
            self.failures = 0;
            self.probe_until = 0;
            self.circuit = Circuit::Closed;
        } else {
            self.failures += 1;
            let opens = match from {
                Circuit::Closed => threshold > 0 && self.failures >= i64::from(threshold),
                Circuit::HalfOpen => o.probe,
                Circuit::Open => false,
            };
            if opens {
                self.circuit = Circuit::Open;
                self.probe_until = 0;
            }
        }
        (self.circuit != from).then(|| {
            self.changed_at = now;
            (from, self.circuit)
        })
    }
}

/// The statements behind [`target_ops!`].
pub mod sql {
    pub const ENSURE: &str =
        "INSERT INTO target_state (target) VALUES ($1) ON CONFLICT (target) DO NOTHING";
    /// Keys with deliveries waiting behind their head, from the
    /// `deliveries_ordering` index; at most 20, oldest head first.
    pub const BLOCKED_KEYS: &str = "SELECT x.ordering_key, x.waiting, x.head AS head_delivery_id, \
        (SELECT h.event_id FROM deliveries h WHERE h.id = x.head) AS head_event_id \
        FROM (SELECT ordering_key, COUNT(*) - 1 AS waiting, MIN(id) AS head FROM deliveries \
        WHERE target = $1 AND status = 'pending' AND ordering_key IS NOT NULL \
        GROUP BY ordering_key HAVING COUNT(*) > 1) x ORDER BY x.head LIMIT 20";
    pub const STATES: &str = "SELECT target, paused, circuit, failures, changed_at, \
        probe_until, tokens, refilled_at FROM target_state ORDER BY target";
    pub const SET_PAUSED: &str = "INSERT INTO target_state (target, paused) VALUES ($1, $2) \
        ON CONFLICT (target) DO UPDATE SET paused = excluded.paused";
    /// The probe's compare-and-set: only one claim, in any process, wins it.
    pub const TAKE_PROBE: &str = "UPDATE target_state SET circuit = 'half_open', \
        changed_at = CASE WHEN circuit = 'open' THEN $2 ELSE changed_at END, probe_until = $3 \
        WHERE target = $1 AND ((circuit = 'open' AND changed_at <= $4) \
        OR (circuit = 'half_open' AND probe_until <= $2))";
    /// A probe won with nothing due to send: the next claim may take it.
    pub const RETURN_PROBE: &str =
        "UPDATE target_state SET probe_until = 0 WHERE target = $1 AND circuit = 'half_open'";
    pub const SPEND: &str =
        "UPDATE target_state SET tokens = $2, refilled_at = $3 WHERE target = $1";
    pub const SET_BREAKER: &str = "UPDATE target_state SET circuit = $2, failures = $3, \
        changed_at = $4, probe_until = $5 WHERE target = $1";
}

/// One target's row, by name (`$1`).
macro_rules! read_state {
    () => {
        "SELECT target, paused, circuit, failures, changed_at, probe_until, tokens, \
         refilled_at FROM target_state WHERE target = $1"
    };
}

/// `target_ops!(ConnectionType, " FOR UPDATE" or "")` expands into the
/// functions the claim and the recorder run inside their transactions.
/// `$lock` makes a read that is followed by a write of the same row hold
/// it (Postgres, where several processes claim at once; SQLite's one
/// writer needs none).
macro_rules! target_ops {
    ($conn:ty, $lock:literal) => {
        use $crate::store::targets::{
            self as t, Admission, Breaker, CircuitChange, Outcome, Protection, TargetState,
        };

        const READ: &str = $crate::store::targets::read_state!();
        const READ_LOCKED: &str = concat!($crate::store::targets::read_state!(), $lock);

        /// The target's row (created when missing), locked when `lock`.
        async fn state(
            conn: &mut $conn,
            target: &str,
            lock: bool,
        ) -> $crate::store::Result<TargetState> {
            let read = if lock { READ_LOCKED } else { READ };
            if let Some(s) = sqlx::query_as(read)
                .bind(target)
                .fetch_optional(&mut *conn)
                .await?
            {
                return Ok(s);
            }
            sqlx::query(t::sql::ENSURE)
                .bind(target)
                .execute(&mut *conn)
                .await?;
            Ok(sqlx::query_as(read)
                .bind(target)
                .fetch_one(&mut *conn)
                .await?)
        }

        /// What a claim of up to `want` deliveries may lease now; a probe
        /// is taken here, by compare-and-set.
        pub(crate) async fn admit(
            conn: &mut $conn,
            target: &str,
            p: &Protection,
            want: i64,
            now: i64,
            lease_until: i64,
        ) -> $crate::store::Result<Admission> {
            let s = state(conn, target, p.rate_limit.is_some()).await?;
            let mut a = t::admit(&s, p, want, now);
            if a.probe {
                let won = sqlx::query(t::sql::TAKE_PROBE)
                    .bind(target)
                    .bind(now)
                    .bind(lease_until)
                    .bind(now - p.circuit_cooldown_ms as i64)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected()
                    == 1;
                if !won {
                    a.limit = 0;
                    a.probe = false;
                }
            }
            Ok(a)
        }

        /// Pays for `leased` deliveries out of the rate budget, and gives a
        /// probe back when there was nothing to send.
        pub(crate) async fn settle(
            conn: &mut $conn,
            target: &str,
            a: &Admission,
            leased: usize,
        ) -> $crate::store::Result<()> {
            if let Some(tokens) = a.tokens {
                sqlx::query(t::sql::SPEND)
                    .bind(target)
                    .bind(tokens - leased as f64)
                    .bind(a.refilled_at)
                    .execute(&mut *conn)
                    .await?;
            }
            if a.probe && leased == 0 {
                sqlx::query(t::sql::RETURN_PROBE)
                    .bind(target)
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(())
        }

        /// Feeds recorded attempts (those whose `kept` is true) to their
        /// targets' breakers, in target-name order so concurrent recorders
        /// lock rows in one order. Returns the circuits that changed.
        pub(crate) async fn record_outcomes(
            conn: &mut $conn,
            records: &[$crate::store::AttemptRecord],
            kept: &[bool],
        ) -> $crate::store::Result<Vec<CircuitChange>> {
            let mut by_target: std::collections::BTreeMap<
                &str,
                Vec<&$crate::store::AttemptRecord>,
            > = std::collections::BTreeMap::new();
            let counted = records
                .iter()
                .zip(kept)
                .filter(|(r, k)| **k && r.reached_target);
            for (r, _) in counted {
                by_target.entry(r.target.as_str()).or_default().push(r);
            }
            let mut changes = Vec::new();
            for (target, recs) in by_target {
                let all_ok = recs.iter().all(|r| r.outcome.is_success());
                // The common case, a healthy target, costs one plain read.
                let s = state(conn, target, false).await?;
                if all_ok && s.failures == 0 && s.circuit == t::Circuit::Closed {
                    continue;
                }
                let s = state(conn, target, true).await?;
                let before = Breaker::of(&s);
                let mut b = before;
                for r in &recs {
                    let o = Outcome {
                        success: r.outcome.is_success(),
                        probe: r.probe,
                    };
                    if let Some((from, to)) = b.record(o, r.circuit_failures, r.finished_at) {
                        changes.push(CircuitChange {
                            target: target.to_string(),
                            from,
                            to,
                            failures: b.failures,
                        });
                    }
                }
                if b != before {
                    sqlx::query(t::sql::SET_BREAKER)
                        .bind(target)
                        .bind(b.circuit.as_str())
                        .bind(b.failures)
                        .bind(b.changed_at)
                        .bind(b.probe_until)
                        .execute(&mut *conn)
                        .await?;
                }
            }
            Ok(changes)
        }

        pub(crate) async fn set_paused(
            conn: &mut $conn,
            target: &str,
            paused: bool,
        ) -> $crate::store::Result<()> {
            sqlx::query(t::sql::SET_PAUSED)
                .bind(target)
                .bind(paused)
                .execute(&mut *conn)
                .await?;
            Ok(())
        }
    };
}

pub(crate) use {read_state, target_ops};

#[cfg(test)]
mod tests {
    use super::*;

    fn protection(rate: Option<&str>) -> Protection {
        Protection {
            rate_limit: rate.map(|r| r.parse().unwrap()),
            circuit_failures: 3,
            circuit_cooldown_ms: 1_000,
        }
    }

    #[test]
    fn rates_parse_per_second_minute_and_hour() {
        assert_eq!(
            "50/s".parse(),
            Ok(RateLimit {
                count: 50,
                period_ms: 1_000
            })
        );
        assert_eq!(
            " 600 / m".parse(),
            Ok(RateLimit {
                count: 600,
                period_ms: 60_000
            })
        );
        assert_eq!("1000/h".parse::<RateLimit>().unwrap().to_string(), "1000/h");
        for bad in ["50", "50/d", "x/s", "0/s", "-1/s", ""] {
            assert!(bad.parse::<RateLimit>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_paused_target_admits_nothing() {
        let mut s = TargetState::new("t");
        s.paused = true;
        assert_eq!(admit(&s, &protection(None), 10, 5).limit, 0);
    }

    #[test]
    fn the_budget_holds_one_period_and_refills_over_time() {
        let p = protection(Some("20/s"));
        let s = TargetState::new("t");
        // A fresh bucket is full: one period's worth, no more.
        let a = admit(&s, &p, 100, 10_000);
        assert_eq!(a.limit, 20);
        assert_eq!(a.wait_until, Some(10_050));
        let mut s = s;
        s.tokens = a.tokens.unwrap() - 20.0;
        s.refilled_at = 10_000;
        assert_eq!(admit(&s, &p, 100, 10_049).limit, 0);
        assert_eq!(admit(&s, &p, 100, 10_050).limit, 1);
        assert_eq!(admit(&s, &p, 100, 10_500).limit, 10);
        assert_eq!(admit(&s, &p, 5, 10_500).limit, 5);
        assert_eq!(admit(&s, &p, 5, 10_500).wait_until, None);
        assert_eq!(
            admit(&s, &p, 100, 99_000).limit,
            20,
            "never above a period's worth"
        );
        // A claim whose clock lags the last refill gets nothing twice.
        let late = admit(&s, &p, 100, 9_990);
        assert_eq!((late.limit, late.refilled_at), (0, 10_000));
    }

    #[test]
    fn an_open_circuit_waits_its_cool_down_then_lets_one_probe_out() {
        let p = protection(None);
        let mut s = TargetState::new("t");
        s.circuit = Circuit::Open;
        s.changed_at = 1_000;
        assert_eq!(admit(&s, &p, 10, 1_999), Admission::none(Some(2_000)));
        let a = admit(&s, &p, 10, 2_000);
        assert_eq!((a.limit, a.probe), (1, true));
        s.circuit = Circuit::HalfOpen;
        s.probe_until = 5_000;
        assert_eq!(admit(&s, &p, 10, 4_999).limit, 0, "the probe is out");
        assert!(admit(&s, &p, 10, 5_000).probe, "its lease expired");
        // Circuit breaking off: the state is ignored.
        let off = Protection {
            circuit_failures: 0,
            ..p
        };
        assert_eq!(admit(&s, &off, 10, 0).limit, 10);
    }

    #[test]
    fn the_breaker_opens_at_the_threshold_and_a_2xx_closes_it() {
        let fail = Outcome {
            success: false,
            probe: false,
        };
        let mut b = Breaker::of(&TargetState::new("t"));
        assert_eq!(b.record(fail, 3, 1), None);
        assert_eq!(
            b.record(
                Outcome {
                    success: true,
                    probe: false
                },
                3,
                2
            ),
            None
        );
        assert_eq!(b.failures, 0, "consecutive failures only");
        b.record(fail, 3, 3);
        b.record(fail, 3, 4);
        assert_eq!(b.record(fail, 3, 5), Some((Circuit::Closed, Circuit::Open)));
        assert_eq!((b.failures, b.changed_at), (3, 5));
        // Stragglers failing while open change nothing but the count.
        assert_eq!(b.record(fail, 3, 6), None);
        assert_eq!(b.changed_at, 5);
        b.circuit = Circuit::HalfOpen;
        assert_eq!(b.record(fail, 3, 7), None, "not the probe");
        let probe_failed = b.record(
            Outcome {
                success: false,
                probe: true,
            },
            3,
            8,
        );
        assert_eq!(probe_failed, Some((Circuit::HalfOpen, Circuit::Open)));
        b.circuit = Circuit::HalfOpen;
        let probe_ok = b.record(
            Outcome {
                success: true,
                probe: true,
            },
            3,
            9,
        );
        assert_eq!(probe_ok, Some((Circuit::HalfOpen, Circuit::Closed)));
        assert_eq!((b.failures, b.changed_at), (0, 9));
        let mut never = Breaker::of(&TargetState::new("t"));
        for at in 0..100 {
            assert_eq!(never.record(fail, 0, at), None, "0 = never opens");
        }
    }
}
