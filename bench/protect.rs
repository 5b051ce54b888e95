//! The target-protection scenarios.
//!
//! - `limited`, "drain with a rate-limited target": a preloaded backlog is
//!   drained with `sink-a` limited to [`LIMIT_PER_S`] and `sink-b` free. The
//!   limited target's rate is measured after its first second (the burst a
//!   full bucket allows) while the other target drains at full speed, then
//!   (Postgres) with two dispatcher processes sharing the budget.
//! - `ordered`, "drain with an ordered route over 1,000 keys": the same
//!   drain twice in one run, unordered and with `ordering_key` on both
//!   routes (1,000 keys, round robin), deliveries per second side by side.
//! - `protected`, "with a filtered route, a rate-limited target and an
//!   ordered route present": ingest alone (closed loop, 32 connections) and
//!   the keep-up search again, with the plain routes to `sink-a` and
//!   `sink-b` and three more ([`process::PROTECTED`]) in the configuration.
//!   Only `sink-a` and `sink-b` deliveries count; each row is compared with
//!   the plain row of the same run (ev/s and CPU us/event, protected over
//!   plain) and held to [`crate::report::PROTECTED_SHARE`] of its rate.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::routing::post;

use crate::loadgen::{self, Pool};
use crate::process::{self, Gateway, Role, Setup};
use crate::report::{Against, Check, Kind, Row};
use crate::{secs, Backend, Bench, Databases, Db};

/// The limited target's `rate_limit`, per second.
const LIMIT_PER_S: u32 = 500;
/// How long the limited target is measured with two processes.
const SHARED_WINDOW: Duration = Duration::from_secs(6);
/// The ordering key: the event UUID's last four hex digits as a number,
/// modulo 1,000. The bench numbers events in order, so keys go round robin.
const KEY_1000: &str = r#"ordering_key = '[.headers["x-gitlab-event-uuid"] | explode | .[-4:][] | if . >= 97 then . - 87 else . - 48 end] | (.[0] * 4096 + .[1] * 256 + .[2] * 16 + .[3]) % 1000'"#;

/// Connections of the `protected` scenario's closed-loop ingest window.
const PROTECTED_CONNECTIONS: usize = 32;

/// A target of its own that answers 200 and keeps every arrival's time.
struct Arrivals {
    url: String,
    at: Arc<Mutex<Vec<Instant>>>,
}

impl Arrivals {
    async fn start() -> Result<Arrivals, String> {
        let at = Arc::new(Mutex::new(Vec::new()));
        let log = at.clone();
        let app = axum::Router::new().route(
            "/limited",
            post(move |_body: axum::body::Bytes| {
                let log = log.clone();
                async move {
                    log.lock().expect("arrivals").push(Instant::now());
                    axum::http::StatusCode::OK
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("bind the limited target: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        Ok(Arrivals {
            url: format!("http://{addr}/limited"),
            at,
        })
    }

    /// Arrivals per second between `from` and `to`.
    fn rate(&self, from: Instant, to: Instant) -> (usize, f64) {
        let n = self
            .at
            .lock()
            .expect("arrivals")
            .iter()
            .filter(|&&t| t >= from && t < to)
            .count();
        (n, n as f64 / (to - from).as_secs_f64().max(1e-9))
    }

    /// The first arrival at or after `since`.
    fn first_since(&self, since: Instant) -> Option<Instant> {
        self.at
            .lock()
            .expect("arrivals")
            .iter()
            .copied()
            .find(|&t| t >= since)
    }
}

/// What a scenario's gateways are configured with beyond the defaults.
struct Shape {
    targets: [String; 2],
    target_keys: [String; 2],
    route_keys: [String; 2],
}

impl Bench {
    async fn start_shaped(
        &self,
        name: &str,
        db: &Db,
        role: Role,
        shape: &Shape,
    ) -> Result<Gateway, String> {
        Gateway::start(
            &self.bin,
            &self.dir,
            &Setup {
                name,
                database_url: &db.url,
                target_urls: shape.targets.clone(),
                role,
                target_keys: [&shape.target_keys[0], &shape.target_keys[1]],
                route_keys: [&shape.route_keys[0], &shape.route_keys[1]],
                filtered: false,
                protected: None,
            },
        )
        .await
    }

    /// Ingests the plan's drain events with the dispatcher off; returns the
    /// events accepted and the deliveries pending.
    async fn preload_shaped(
        &self,
        name: &str,
        db: &Db,
        shape: &Shape,
    ) -> Result<(u64, u64), String> {
        let loader = self
            .start_shaped(&format!("{name}-preload"), db, Role::IngestOnly, shape)
            .await?;
        let mut pool = Pool::connect(loader.addr, self.plan.preload_connections).await?;
        loadgen::closed_loop(
            &mut pool,
            &self.load,
            secs(self.plan.drain_limit_s),
            Some(self.plan.drain_events),
        )
        .await;
        drop(pool);
        let loaded = loader.metrics().await?;
        loader.stop().await?;
        Ok((loaded.accepted, loaded.pending))
    }

    /// Drain with a rate-limited target: is the limit held while the other
    /// target drains at full speed, and with two processes?
    pub(crate) async fn limited(
        &mut self,
        backend: Backend,
        dbs: &mut Databases,
    ) -> Result<(), String> {
        let limited = Arrivals::start().await?;
        let shape = Shape {
            targets: [limited.url.clone(), self.sink.url(process::TARGETS[1])],
            target_keys: [format!("rate_limit = \"{LIMIT_PER_S}/s\""), String::new()],
            route_keys: Default::default(),
        };
        let db = dbs.fresh("limited").await?;
        let name = format!("{}-limited", backend.name());
        let (accepted, _) = self.preload_shaped(&name, &db, &shape).await?;
        let received = self.sink.count().received;
        self.sink.mark();
        let started = Instant::now();
        let gateway = self
            .start_shaped(&name, &db, Role::DispatchOnly, &shape)
            .await?;
        let limit = Instant::now() + secs(self.plan.drain_limit_s);
        while self.sink.count().received - received < accepted && Instant::now() < limit {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let other = self.sink.count();
        let other_delivered = other.received - received;
        let other_s = match (other.first, other.last) {
            (Some(f), Some(l)) if l > f => (l - f).as_secs_f64(),
            _ => 0.0,
        };
        let first = limited
            .first_since(started)
            .ok_or("the limited target got nothing")?;
        // After the first second (a full bucket's burst), for as long as the
        // other target drained, and at least five seconds.
        let from = first + Duration::from_secs(1);
        let to = other
            .last
            .unwrap_or(from)
            .max(from + Duration::from_secs(5));
        while Instant::now() < to {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let (n, rate) = limited.rate(from, to);
        let (burst, _) = limited.rate(first, from);
        gateway.stop().await?;
        let mut row = Row::new(
            Kind::Drain,
            "drain, sink-a rate-limited",
            backend.name(),
            format!("{accepted} events; sink-a {LIMIT_PER_S}/s, sink-b free"),
        );
        row.seconds = other_s;
        row.deliveries = Some(other_delivered);
        row.deliveries_per_s = (other_s > 0.0).then(|| other_delivered as f64 / other_s);
        row.checks.push(held_check("sink-a /s, 1 process", rate));
        let mut note = format!(
            "{} limited drain: sink-b drained {other_delivered} deliveries at {:.0}/s while sink-a \
             got {burst} in its first second (the burst a full bucket allows) and then {n} in {:.1} s \
             = {rate:.1}/s against a limit of {LIMIT_PER_S}/s ({:+.1} %)",
            backend.name(),
            row.deliveries_per_s.unwrap_or(0.0),
            (to - from).as_secs_f64(),
            100.0 * (rate / f64::from(LIMIT_PER_S) - 1.0)
        );
        if backend == Backend::Postgres {
            // What is left for sink-a, drained by two processes sharing one budget.
            let one = self
                .start_shaped(&format!("{name}-1"), &db, Role::DispatchOnly, &shape)
                .await?;
            let two = self
                .start_shaped(&format!("{name}-2"), &db, Role::DispatchOnly, &shape)
                .await?;
            // Again after the first second's burst (the bucket refilled
            // while no dispatcher ran).
            let start = Instant::now();
            tokio::time::sleep(Duration::from_secs(1)).await;
            let first = limited.first_since(start).unwrap_or(start);
            let from = first + Duration::from_secs(1);
            let to = from + SHARED_WINDOW;
            while Instant::now() < to {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let (n2, rate2) = limited.rate(from, to);
            one.stop().await?;
            two.stop().await?;
            row.checks.push(held_check("sink-a /s, 2 processes", rate2));
            note.push_str(&format!(
                "; two dispatcher processes together: {n2} in {:.1} s = {rate2:.1}/s ({:+.1} %)",
                SHARED_WINDOW.as_secs_f64(),
                100.0 * (rate2 / f64::from(LIMIT_PER_S) - 1.0)
            ));
        }
        println!("{note}");
        self.notes.push(note);
        self.rows.push(row);
        Ok(())
    }

    /// Drain with an ordered route over 1,000 keys, next to the same drain
    /// unordered, in one run.
    pub(crate) async fn ordered(
        &mut self,
        backend: Backend,
        dbs: &mut Databases,
    ) -> Result<(), String> {
        let mut rates = Vec::new();
        for (label, key) in [("unordered", ""), ("ordered, 1,000 keys", KEY_1000)] {
            let shape = Shape {
                targets: self.sink_targets(),
                target_keys: Default::default(),
                route_keys: [key.to_string(), key.to_string()],
            };
            let scenario = if key.is_empty() {
                "unordered"
            } else {
                "ordered"
            };
            let db = dbs.fresh(scenario).await?;
            let name = format!("{}-{scenario}", backend.name());
            let (accepted, backlog) = self.preload_shaped(&name, &db, &shape).await?;
            let received = self.sink.count().received;
            self.sink.mark();
            let gateway = self
                .start_shaped(&name, &db, Role::DispatchOnly, &shape)
                .await?;
            let cpu_start = gateway.cpu();
            let limit = Instant::now() + secs(self.plan.drain_limit_s);
            while self.sink.count().received - received < backlog && Instant::now() < limit {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let count = self.sink.count();
            let cpu = gateway.cpu().saturating_sub(cpu_start).as_secs_f64() * 1e6;
            gateway.stop().await?;
            let delivered = count.received - received;
            let seconds = match (count.first, count.last) {
                (Some(f), Some(l)) if l > f => (l - f).as_secs_f64(),
                _ => secs(self.plan.drain_limit_s).as_secs_f64(),
            };
            let mut row = Row::new(
                Kind::Drain,
                &format!("drain, {label}"),
                backend.name(),
                format!("{accepted} events x 2 targets"),
            );
            row.seconds = seconds;
            row.deliveries = Some(delivered);
            row.deliveries_per_s = Some(delivered as f64 / seconds);
            row.backlog_start = Some(backlog);
            row.backlog_end = Some(backlog.saturating_sub(delivered));
            row.sink_duplicates = Some(count.duplicates);
            if delivered > 0 {
                row.cpu_us_per_delivery = Some(cpu / delivered as f64);
            }
            rates.push(delivered as f64 / seconds);
            if rates.len() == 2 {
                let share = rates[1] / rates[0];
                row.checks.push(Check {
                    measure: "x unordered",
                    target: ">= 0.75".into(),
                    value: Some(share),
                    met: Some(share >= 0.75),
                });
                let note = format!(
                    "{} ordered drain: {:.0} deliveries/s over 1,000 keys against {:.0}/s unordered in the same run ({:.2} x)",
                    backend.name(),
                    rates[1],
                    rates[0],
                    share
                );
                println!("{note}");
                self.notes.push(note);
            }
            self.rows.push(row);
        }
        Ok(())
    }
}

impl Bench {
    /// Ingest alone and the keep-up search with the protected routes
    /// present, each compared with the plain row of the same run.
    pub(crate) async fn protected(
        &mut self,
        backend: Backend,
        dbs: &mut Databases,
    ) -> Result<(), String> {
        self.protected = true;
        let ingest = self.protected_ingest(backend, dbs).await;
        let keepup = self.keepup(backend, dbs).await;
        self.protected = false;
        if ingest.is_ok() {
            let load = format!("closed, {PROTECTED_CONNECTIONS} connections");
            self.against_plain(backend, Kind::IngestClosed, "ingest alone", Some(&load));
        }
        if keepup.is_ok() {
            self.against_plain(
                backend,
                Kind::KeepUp,
                "ingest + dispatch, keep-up rate",
                None,
            );
        }
        ingest.and(keepup)
    }

    /// One closed-loop ingest window (`--no-dispatcher`).
    async fn protected_ingest(
        &mut self,
        backend: Backend,
        dbs: &mut Databases,
    ) -> Result<(), String> {
        let run = self
            .launch(
                backend,
                dbs,
                &self.key("ingest"),
                Role::IngestOnly,
                self.sink_targets(),
            )
            .await?;
        let row = self
            .ingest_closed(
                &run.gateway,
                &run.db,
                backend,
                &run.rss,
                PROTECTED_CONNECTIONS,
            )
            .await?;
        self.push(Row {
            rss_idle_mib: Some(run.idle),
            ..row
        });
        run.stop().await
    }

    /// Compares the latest protected row of `kind` with the plain row of
    /// the same scenario, backend (and load, when given) in this run: a
    /// check on the protected row and a note.
    fn against_plain(&mut self, backend: Backend, kind: Kind, plain: &str, load: Option<&str>) {
        let protected = format!("{plain}, protected routes present");
        let same = |r: &Row, scenario: &str| {
            r.kind == kind
                && r.backend == backend.name()
                && r.scenario == scenario
                && load.is_none_or(|l| r.load == l)
        };
        let Some(at) = self.rows.iter().rposition(|r| same(r, &protected)) else {
            return;
        };
        let extra = match (kind, self.rows[at].extra_deliveries) {
            (_, None) => String::new(),
            (Kind::IngestClosed, Some(n)) => format!(
                "; ingest wrote {n} deliveries for the extra targets besides the {} for sink-a and sink-b",
                2 * self.rows[at].accepted.unwrap_or(0)
            ),
            (_, Some(n)) => format!(
                "; in its step the extra targets got {n} deliveries besides the {} for sink-a and sink-b",
                self.rows[at].deliveries.unwrap_or(0)
            ),
        };
        let label = format!("{} {protected}", backend.name());
        let note = match self.rows.iter().rposition(|r| same(r, plain)) {
            Some(p) => {
                let against = Against::new(&self.rows[p], &self.rows[at]);
                self.rows[at].checks.push(against.check());
                format!(
                    "{label} ({}): {} of the plain row in this run{extra}",
                    self.rows[at].load,
                    against.describe()
                )
            }
            None => format!(
                "{label}: no plain \"{plain}\" row in this run to compare with \
                 (run its scenario before `protected`){extra}"
            ),
        };
        println!("{note}");
        self.notes.push(note);
    }
}

/// Whether a measured rate is within 5 % of [`LIMIT_PER_S`].
fn held_check(measure: &'static str, rate: f64) -> Check {
    let error = (rate / f64::from(LIMIT_PER_S) - 1.0).abs();
    Check {
        measure,
        target: format!("{LIMIT_PER_S} +-5 %"),
        value: Some(rate),
        met: Some(error <= 0.05),
    }
}
