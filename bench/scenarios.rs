//! The scenarios: [`Bench`] starts a gateway per scenario on a fresh
//! database, drives the load, reads CPU, memory and metrics at the edges of
//! each measured window and turns them into report rows.

use super::*;

pub(crate) struct Bench {
    pub(crate) bin: PathBuf,
    pub(crate) dir: PathBuf,
    pub(crate) plan: Plan,
    pub(crate) sink: Sink,
    pub(crate) load: Load,
    pub(crate) rows: Vec<Row>,
    pub(crate) notes: Vec<String>,
    /// Requests per second of `/healthz` by connection count.
    pub(crate) ceiling: Vec<(usize, f64)>,
    pub(crate) failed: bool,
    /// Gateways started now get the filtered routes, and rows say so.
    pub(crate) filtered: bool,
    /// Gateways started now get the protected routes besides the plain
    /// ones ([`process::PROTECTED`]), and rows say so.
    pub(crate) protected: bool,
    /// The nginx target, when one runs (bench/nginx.rs).
    pub(crate) nginx: Option<Nginx>,
    /// Where gateways started now deliver, and rows say so.
    pub(crate) target: Target,
}

/// Everything read at the edges of a measured window.
pub(crate) struct Snapshot {
    pub(crate) at: Instant,
    pub(crate) cpu: Duration,
    pub(crate) own_cpu: Duration,
    /// The in-process sink's thread (the bench's own CPU less this is the
    /// load generator's).
    pub(crate) sink_cpu: Duration,
    /// Whatever answers the deliveries: the sink's thread or nginx.
    pub(crate) target_cpu: Duration,
    pub(crate) postgres: Vec<(u32, Duration)>,
    pub(crate) metrics: Metrics,
    pub(crate) sink: SinkCount,
}

/// A hookgate started for one scenario on a fresh database.
pub(crate) struct Running {
    pub(crate) db: Db,
    pub(crate) gateway: Gateway,
    /// Resident memory a second after start-up, MiB.
    pub(crate) idle: f64,
    pub(crate) rss: process::RssSampler,
}

impl Running {
    pub(crate) async fn stop(self) -> Result<(), String> {
        drop(self.rss);
        self.gateway.stop().await
    }
}

/// A database made for one scenario.
pub(crate) struct Db {
    pub(crate) url: String,
    /// The database name on Postgres, to find its backends' CPU.
    pub(crate) postgres: Option<String>,
}

impl Bench {
    pub(crate) fn fail(&mut self, message: String) {
        println!("FAILED: {message}");
        self.notes.push(format!("failed: {message}"));
        self.failed = true;
    }

    pub(crate) async fn start(
        &self,
        backend: Backend,
        scenario: &str,
        db: &Db,
        role: Role,
        targets: [String; 2],
    ) -> Result<Gateway, String> {
        Gateway::start(
            &self.bin,
            &self.dir,
            &Setup {
                name: &format!("{}-{scenario}", backend.name()),
                database_url: &db.url,
                target_urls: targets,
                role,
                filtered: self.filtered,
                target_keys: ["", ""],
                route_keys: ["", ""],
                protected: self
                    .protected
                    .then(|| process::PROTECTED.map(|(name, _, _)| self.sink.url(name))),
            },
        )
        .await
    }

    /// A fresh database and a hookgate on it, idle memory read, memory
    /// sampling started.
    pub(crate) async fn launch(
        &self,
        backend: Backend,
        dbs: &mut Databases,
        scenario: &str,
        role: Role,
        targets: [String; 2],
    ) -> Result<Running, String> {
        let db = dbs.fresh(scenario).await?;
        let gateway = self.start(backend, scenario, &db, role, targets).await?;
        let idle = Self::idle_rss(&gateway).await;
        let rss = gateway.rss_sampler();
        Ok(Running {
            db,
            gateway,
            idle,
            rss,
        })
    }

    pub(crate) async fn snapshot(&self, gateway: &Gateway, db: &Db) -> Result<Snapshot, String> {
        let metrics = gateway.metrics().await?;
        Ok(Snapshot {
            at: Instant::now(),
            cpu: gateway.cpu(),
            own_cpu: process::own_cpu(),
            sink_cpu: process::own_thread_cpu(sink::THREAD),
            target_cpu: self.target_cpu(),
            postgres: db
                .postgres
                .as_deref()
                .map(process::postgres_backends)
                .unwrap_or_default(),
            metrics,
            sink: self.sink_count().await?,
        })
    }

    /// Resident memory a second after start-up, before any load.
    pub(crate) async fn idle_rss(gateway: &Gateway) -> f64 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        mib(gateway.rss_kib())
    }

    pub(crate) fn ceiling_for(&self, connections: usize) -> Option<f64> {
        self.ceiling
            .iter()
            .find(|(c, _)| *c == connections)
            .map(|(_, rate)| *rate)
    }

    /// The row's rate as a share of the run's `/healthz` ceiling at that
    /// many connections (the start-of-run ceiling rows).
    pub(crate) fn against_ceiling(&self, row: &mut Row, connections: usize) {
        row.ceiling_per_s = self.ceiling_for(connections);
        row.ratio_to_ceiling = row
            .ceiling_per_s
            .zip(row.ev_per_s)
            .map(|(ceiling, rate)| rate / ceiling);
    }

    /// Fills what every window measures: counts, rates, latencies, CPU.
    pub(crate) fn fill(
        &self,
        row: &mut Row,
        before: &Snapshot,
        after: &Snapshot,
        outcome: Option<&Outcome>,
    ) {
        let seconds = match outcome {
            Some(o) => o.elapsed.as_secs_f64(),
            None => (after.at - before.at).as_secs_f64(),
        };
        row.seconds = seconds;
        let accepted = after.metrics.accepted - before.metrics.accepted;
        let deliveries = after.sink.received - before.sink.received;
        let cpu = (after.cpu.saturating_sub(before.cpu)).as_secs_f64() * 1e6;
        let postgres =
            process::postgres_cpu_between(&before.postgres, &after.postgres).as_secs_f64() * 1e6;
        let sink_cpu = after.sink_cpu.saturating_sub(before.sink_cpu).as_secs_f64() * 1e6;
        let target_cpu = after
            .target_cpu
            .saturating_sub(before.target_cpu)
            .as_secs_f64()
            * 1e6;
        if let Some(o) = outcome {
            row.ok = o.ok;
            row.errors = o.failures();
            row.error_detail = o
                .failed
                .iter()
                .map(|(status, n)| match status {
                    0 => format!("{n} without answer"),
                    s => format!("{n} x {s}"),
                })
                .collect::<Vec<_>>()
                .join(", ");
            row.unfinished = o.unfinished;
            row.p50_ms = o.percentile_ms(0.50);
            row.p99_ms = o.percentile_ms(0.99);
            row.p999_ms = o.percentile_ms(0.999);
            let requests = o.ok + o.failures();
            if requests > 0 {
                // The bench's CPU less its sink thread's: the generator's.
                let own = after.own_cpu.saturating_sub(before.own_cpu).as_secs_f64() * 1e6;
                row.loadgen_cpu_us_per_request = Some((own - sink_cpu).max(0.0) / requests as f64);
            }
        }
        if row.kind == Kind::Ceiling {
            row.ev_per_s = Some(row.ok as f64 / seconds);
            row.cpu_us_per_event = (row.ok > 0).then(|| cpu / row.ok as f64);
            return;
        }
        row.accepted = Some(accepted);
        if accepted > 0 {
            row.ev_per_s = Some(accepted as f64 / seconds);
            row.cpu_us_per_event = Some(cpu / accepted as f64);
            if before.postgres.len() + after.postgres.len() > 0 {
                row.postgres_cpu_us_per_event = Some(postgres / accepted as f64);
            }
        }
        if deliveries > 0 || matches!(row.kind, Kind::DispatchPaced | Kind::Sustained) {
            row.deliveries = Some(deliveries);
            row.deliveries_per_s = Some(deliveries as f64 / seconds);
            if deliveries > 0 {
                row.sink_cpu_us_per_delivery = Some(target_cpu / deliveries as f64);
            }
        }
        row.sink_duplicates = self
            .counts_duplicates()
            .then(|| after.sink.duplicates - before.sink.duplicates);
        if let Some(o) = outcome {
            if o.ok != accepted {
                row.error_detail = format!(
                    "{}{}200 answers {} != accepted {}",
                    row.error_detail,
                    if row.error_detail.is_empty() {
                        ""
                    } else {
                        "; "
                    },
                    o.ok,
                    accepted
                );
            }
        }
    }

    pub(crate) fn backlog(&self, row: &mut Row, before: &Snapshot, after: &Snapshot) {
        let (start, end) = (before.metrics.pending, after.metrics.pending);
        row.backlog_start = Some(start);
        row.backlog_end = Some(end);
        row.backlog_grew = Some(report::backlog_grew(start, end, row.accepted.unwrap_or(0)));
    }

    pub(crate) fn push(&mut self, mut row: Row) {
        row.check_targets();
        let mut parts = Vec::new();
        if let Some(r) = row.ev_per_s {
            parts.push(match row.ratio_to_ceiling {
                Some(x) if row.kind != Kind::Ceiling => format!("{r:.0} /s ({x:.3} x ceiling)"),
                _ => format!("{r:.0} /s"),
            });
        }
        match row.p99_ms {
            Some(p) if p.is_finite() => parts.push(format!("p99 {p:.2} ms")),
            Some(_) => parts.push("p99 unanswered".into()),
            None => {}
        }
        if let Some(d) = row.deliveries_per_s {
            parts.push(format!("{d:.0} deliveries/s"));
        }
        if let Some(g) = row.backlog_grew {
            parts.push(if g { "backlog grew" } else { "backlog flat" }.into());
        }
        if let Some(c) = row.cpu_us_per_event {
            parts.push(format!("CPU {c:.0} us/event"));
        }
        if let Some(c) = row.cpu_us_per_delivery {
            parts.push(format!("CPU {c:.0} us/delivery"));
        }
        if let Some(p) = row.rss_peak_mib {
            parts.push(format!("RSS peak {p:.1} MiB"));
        }
        if row.errors > 0 || row.unfinished > 0 {
            parts.push(format!(
                "errors {}, unanswered {} {}",
                row.errors, row.unfinished, row.error_detail
            ));
        }
        println!(
            "{:<8} {:<30} {:<40} {}",
            row.backend,
            row.scenario,
            row.load,
            parts.join(", ")
        );
        self.rows.push(row);
    }

    /// `GET /healthz` at each connection count, on a hookgate serving ingest
    /// only (SQLite). Failures are noted; ratios are then left out.
    pub(crate) async fn ceiling(&mut self, label: &str) {
        if let Err(e) = self.try_ceiling(label).await {
            self.fail(format!("{label}: {e}"));
        }
    }

    pub(crate) async fn try_ceiling(&mut self, label: &str) -> Result<(), String> {
        let db = Db {
            url: format!(
                "sqlite://{}",
                self.dir
                    .join(format!("{}.db", label.replace([' ', '(', ')'], "")))
                    .display()
            ),
            postgres: None,
        };
        let gateway = Gateway::start(
            &self.bin,
            &self.dir,
            &Setup {
                name: &label.replace([' ', '(', ')'], ""),
                database_url: &db.url,
                target_urls: self.sink_targets(),
                role: Role::IngestOnly,
                filtered: false,
                target_keys: ["", ""],
                route_keys: ["", ""],
                protected: None,
            },
        )
        .await?;
        let idle = Self::idle_rss(&gateway).await;
        let rss = gateway.rss_sampler();
        let mut counts = self.plan.concurrency.clone();
        counts.push(self.plan.sustained_connections);
        counts.sort_unstable();
        counts.dedup();
        for connections in counts {
            let mut pool = Pool::connect(gateway.addr, connections).await?;
            loadgen::closed_loop(&mut pool, &Load::Healthz, secs(self.plan.warmup_s), None).await;
            rss.reset();
            let before = self.snapshot(&gateway, &db).await?;
            let outcome =
                loadgen::closed_loop(&mut pool, &Load::Healthz, secs(self.plan.window_s), None)
                    .await;
            let after = self.snapshot(&gateway, &db).await?;
            let mut row = Row::new(
                Kind::Ceiling,
                &format!("{label}: GET /healthz"),
                "-",
                format!("closed, {connections} connections"),
            );
            self.fill(&mut row, &before, &after, Some(&outcome));
            row.ratio_to_ceiling = Some(1.0);
            row.ceiling_per_s = Some(outcome.rate());
            row.rss_idle_mib = Some(idle);
            row.rss_peak_mib = Some(mib(rss.peak_kib()));
            self.ceiling.push((connections, outcome.rate()));
            self.push(row);
        }
        gateway.stop().await
    }

    /// Ingest alone (`--no-dispatcher`): closed loop at each connection
    /// count, then paced at the offered rate.
    pub(crate) async fn ingest(
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
        let (db, gateway, idle, rss) = (&run.db, &run.gateway, run.idle, &run.rss);
        for connections in self.plan.concurrency.clone() {
            let row = self
                .ingest_closed(gateway, db, backend, rss, connections)
                .await?;
            self.push(Row {
                rss_idle_mib: Some(idle),
                ..row
            });
        }
        let row = self
            .paced_window(
                gateway,
                db,
                Kind::IngestPaced,
                &self.scenario("ingest alone"),
                backend,
                rss,
            )
            .await?;
        let mut row = row;
        row.rss_idle_mib = Some(idle);
        self.push(row);
        run.stop().await
    }

    /// One closed-loop ingest window at `connections`, beside the
    /// `/healthz` rate on the same process and connections.
    pub(crate) async fn ingest_closed(
        &self,
        gateway: &Gateway,
        db: &Db,
        backend: Backend,
        rss: &process::RssSampler,
        connections: usize,
    ) -> Result<Row, String> {
        let mut pool = Pool::connect(gateway.addr, connections).await?;
        // The ceiling right beside the ingest window, on the same process
        // and connections: a ratio the machine's other load moves less.
        loadgen::closed_loop(&mut pool, &Load::Healthz, secs(self.plan.warmup_s), None).await;
        let ceiling =
            loadgen::closed_loop(&mut pool, &Load::Healthz, secs(self.plan.window_s), None)
                .await
                .rate();
        loadgen::closed_loop(&mut pool, &self.load, secs(self.plan.warmup_s), None).await;
        // Read outside the window: the admin API counts over the outbox.
        let extra_before = self.extra_written(gateway).await?;
        rss.reset();
        let before = self.snapshot(gateway, db).await?;
        let outcome =
            loadgen::closed_loop(&mut pool, &self.load, secs(self.plan.window_s), None).await;
        let after = self.snapshot(gateway, db).await?;
        let extra_after = self.extra_written(gateway).await?;
        let mut row = Row::new(
            Kind::IngestClosed,
            &self.scenario("ingest alone"),
            backend.name(),
            format!("closed, {connections} connections"),
        );
        self.fill(&mut row, &before, &after, Some(&outcome));
        row.ceiling_per_s = Some(ceiling);
        row.ratio_to_ceiling = row.ev_per_s.map(|rate| rate / ceiling);
        row.rss_peak_mib = Some(mib(rss.peak_kib()));
        row.extra_deliveries = extra_after.zip(extra_before).map(|(a, b)| a - b);
        Ok(row)
    }

    /// With the protected routes present: the deliveries ingest has written
    /// for their targets so far (`None` otherwise).
    pub(crate) async fn extra_written(&self, gateway: &Gateway) -> Result<Option<u64>, String> {
        if !self.protected {
            return Ok(None);
        }
        let by_target = gateway.deliveries_by_target().await?;
        Ok(Some(
            process::PROTECTED
                .iter()
                .filter_map(|(name, _, _)| by_target.get(*name))
                .map(|d| d.written)
                .sum(),
        ))
    }

    /// A paced window at the plan's rate after a warm-up at the same rate.
    pub(crate) async fn paced_window(
        &self,
        gateway: &Gateway,
        db: &Db,
        kind: Kind,
        scenario: &str,
        backend: Backend,
        rss: &process::RssSampler,
    ) -> Result<Row, String> {
        let rate = f64::from(self.plan.rate);
        let mut pool = Pool::connect(gateway.addr, self.plan.paced_connections).await?;
        loadgen::paced(&mut pool, &self.load, rate, secs(self.plan.warmup_s)).await;
        rss.reset();
        let before = self.snapshot(gateway, db).await?;
        let outcome = loadgen::paced(&mut pool, &self.load, rate, secs(self.plan.window_s)).await;
        let after = self.snapshot(gateway, db).await?;
        let mut row = Row::new(
            kind,
            scenario,
            backend.name(),
            format!("paced {} ev/s, {} connections", self.plan.rate, pool.len()),
        );
        self.fill(&mut row, &before, &after, Some(&outcome));
        if kind == Kind::DispatchPaced {
            self.backlog(&mut row, &before, &after);
        }
        row.rss_peak_mib = Some(mib(rss.peak_kib()));
        Ok(row)
    }

    /// [`Bench::ingest`] and [`Bench::drain`] with three jq-filtered routes.
    pub(crate) async fn filtered(
        &mut self,
        backend: Backend,
        dbs: &mut Databases,
    ) -> Result<(), String> {
        self.filtered = true;
        let ingest = self.ingest(backend, dbs).await;
        let drain = self.drain(backend, dbs).await;
        self.filtered = false;
        ingest.and(drain)
    }

    /// A name for a scenario's databases and files, apart when filtered,
    /// protected or delivering to nginx.
    pub(crate) fn key(&self, name: &str) -> String {
        let mut key = name.to_string();
        if self.filtered {
            key.push_str("-jq");
        }
        if self.protected {
            key.push_str("-protected");
        }
        if self.target == Target::Nginx {
            key.push_str("-nginx");
        }
        key
    }

    /// A row's scenario name, marked when the routes are filtered or
    /// protected, or the deliveries go to nginx.
    pub(crate) fn scenario(&self, name: &str) -> String {
        let mut scenario = name.to_string();
        if self.filtered {
            scenario.push_str(", 3 jq routes");
        }
        if self.protected {
            scenario.push_str(", protected routes present");
        }
        scenario.push_str(self.target_suffix());
        scenario
    }

    /// Preloads events with the dispatcher off, then measures a
    /// dispatcher-only process until the backlog is empty.
    pub(crate) async fn drain(
        &mut self,
        backend: Backend,
        dbs: &mut Databases,
    ) -> Result<(), String> {
        let db = dbs.fresh(&self.key("drain")).await?;
        let loader = self
            .start(
                backend,
                &self.key("drain-preload"),
                &db,
                Role::IngestOnly,
                self.sink_targets(),
            )
            .await?;
        let mut pool = Pool::connect(loader.addr, self.plan.preload_connections).await?;
        let preload = loadgen::closed_loop(
            &mut pool,
            &self.load,
            secs(self.plan.drain_limit_s),
            Some(self.plan.drain_events),
        )
        .await;
        drop(pool);
        let loaded = loader.metrics().await?;
        loader.stop().await?;
        let backlog = loaded.pending;
        let preload_rate = preload.rate();
        let mut row = Row::new(
            Kind::Drain,
            &self.scenario("drain"),
            backend.name(),
            format!("{} events x 2 targets", loaded.accepted),
        );

        let received = self.sink_count().await?.received;
        let sink_cpu = self.target_cpu();
        self.sink_mark().await?;
        let spawned = Instant::now();
        let gateway = self
            .start(
                backend,
                &self.key("drain"),
                &db,
                Role::DispatchOnly,
                self.sink_targets(),
            )
            .await?;
        let rss = gateway.rss_sampler();
        let postgres_start = db
            .postgres
            .as_deref()
            .map(process::postgres_backends)
            .unwrap_or_default();
        let limit = spawned + secs(self.plan.drain_limit_s);
        while self.sink_count().await?.received - received < backlog && Instant::now() < limit {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Recorded, not only received: wait for the store to agree.
        let mut recorded = gateway.metrics().await?;
        while recorded.pending > 0 && Instant::now() < limit {
            tokio::time::sleep(Duration::from_millis(50)).await;
            recorded = gateway.metrics().await?;
            // nginx's deliveries are timed when a read sees them.
            self.sink_count().await?;
        }
        let left = recorded.pending;
        let count = self.sink_count().await?;
        let cpu = gateway.cpu().as_secs_f64() * 1e6;
        let postgres_end = db
            .postgres
            .as_deref()
            .map(process::postgres_backends)
            .unwrap_or_default();
        let delivered = count.received - received;
        let sink_cpu = self.target_cpu().saturating_sub(sink_cpu);
        let seconds = match (count.first, count.last) {
            (Some(first), Some(last)) if last > first => (last - first).as_secs_f64(),
            _ => (Instant::now() - spawned).as_secs_f64(),
        };
        row.seconds = seconds;
        row.accepted = Some(loaded.accepted);
        row.deliveries = Some(delivered);
        row.deliveries_per_s = Some(delivered as f64 / seconds);
        row.backlog_start = Some(backlog);
        row.backlog_end = Some(left);
        row.backlog_grew = None;
        if delivered > 0 {
            row.cpu_us_per_delivery = Some(cpu / delivered as f64);
            row.sink_cpu_us_per_delivery = Some(sink_cpu.as_secs_f64() * 1e6 / delivered as f64);
            if db.postgres.is_some() {
                let pg = process::postgres_cpu_between(&postgres_start, &postgres_end);
                row.postgres_cpu_us_per_delivery = Some(pg.as_secs_f64() * 1e6 / delivered as f64);
            }
        }
        row.sink_duplicates = self.counts_duplicates().then_some(count.duplicates);
        row.rss_peak_mib = Some(mib(rss.peak_kib()));
        if left > 0 {
            row.error_detail = format!("{left} deliveries still pending at the time limit");
            row.errors = left;
        }
        // The target answered 2xx: hookgate recorded each as delivered.
        if recorded.delivered != delivered {
            let detail = format!(
                "{delivered} received, {} recorded delivered",
                recorded.delivered
            );
            row.error_detail = if row.error_detail.is_empty() {
                detail
            } else {
                format!("{}; {detail}", row.error_detail)
            };
        }
        self.notes.push(format!(
            "{} {}: preloaded {} events ({} deliveries) at {preload_rate:.0} ev/s with {} connections; \
             CPU per delivery counts the dispatcher process from start to empty backlog",
            backend.name(),
            self.scenario("drain"),
            loaded.accepted,
            backlog,
            self.plan.preload_connections
        ));
        self.push(row);
        drop(rss);
        gateway.stop().await
    }

    /// Ingest and dispatch in one process, paced at the plan's rate.
    pub(crate) async fn paced(
        &mut self,
        backend: Backend,
        dbs: &mut Databases,
    ) -> Result<(), String> {
        let run = self
            .launch(backend, dbs, "paced", Role::All, self.sink_targets())
            .await?;
        let (db, gateway, idle, rss) = (&run.db, &run.gateway, run.idle, &run.rss);
        let mut row = self
            .paced_window(
                gateway,
                db,
                Kind::DispatchPaced,
                "ingest + dispatch",
                backend,
                rss,
            )
            .await?;
        row.rss_idle_mib = Some(idle);
        self.push(row);
        run.stop().await
    }

    /// Ingest and dispatch in one process, closed loop for the sustained
    /// length, with the backlog sampled every second.
    pub(crate) async fn sustained(
        &mut self,
        backend: Backend,
        dbs: &mut Databases,
    ) -> Result<(), String> {
        let run = self
            .launch(backend, dbs, "sustained", Role::All, self.sink_targets())
            .await?;
        let (db, gateway, idle, rss) = (&run.db, &run.gateway, run.idle, &run.rss);
        let connections = self.plan.sustained_connections;
        let mut pool = Pool::connect(gateway.addr, connections).await?;
        loadgen::closed_loop(&mut pool, &self.load, secs(self.plan.warmup_s), None).await;
        rss.reset();
        let before = self.snapshot(gateway, db).await?;
        let load = loadgen::closed_loop(&mut pool, &self.load, secs(self.plan.sustained_s), None);
        let samples = async {
            let mut samples = Vec::new();
            let end = Instant::now() + secs(self.plan.sustained_s);
            while Instant::now() < end {
                tokio::time::sleep(Duration::from_secs(1)).await;
                if let Ok(m) = gateway.metrics().await {
                    samples.push(m.pending);
                }
            }
            samples
        };
        let (outcome, samples) = tokio::join!(load, samples);
        let after = self.snapshot(gateway, db).await?;
        let mut row = Row::new(
            Kind::Sustained,
            "ingest + dispatch",
            backend.name(),
            format!(
                "closed, {connections} connections, {:.0} s",
                self.plan.sustained_s
            ),
        );
        self.fill(&mut row, &before, &after, Some(&outcome));
        self.backlog(&mut row, &before, &after);
        self.against_ceiling(&mut row, connections);
        row.rss_idle_mib = Some(idle);
        row.rss_peak_mib = Some(mib(rss.peak_kib()));
        self.notes.push(format!(
            "{} ingest + dispatch closed loop: pending deliveries sampled each second: {samples:?}",
            backend.name()
        ));
        self.push(row);
        run.stop().await
    }

    /// Resident memory while deliveries pile up because both targets refuse
    /// connections: ingest the plan's events, then keep running a while.
    pub(crate) async fn targets_down(
        &mut self,
        backend: Backend,
        dbs: &mut Databases,
    ) -> Result<(), String> {
        let dead = process::free_port()?;
        let targets = process::TARGETS.map(|t| format!("http://127.0.0.1:{dead}/{t}"));
        let run = self
            .launch(backend, dbs, "down", Role::All, targets)
            .await?;
        let (db, gateway, idle, rss) = (&run.db, &run.gateway, run.idle, &run.rss);
        let connections = self.plan.sustained_connections;
        let mut pool = Pool::connect(gateway.addr, connections).await?;
        let before = self.snapshot(gateway, db).await?;
        let outcome = loadgen::closed_loop(
            &mut pool,
            &self.load,
            secs(self.plan.drain_limit_s),
            Some(self.plan.down_events),
        )
        .await;
        drop(pool);
        tokio::time::sleep(secs(self.plan.down_hold_s)).await;
        let after = self.snapshot(gateway, db).await?;
        let mut row = Row::new(
            Kind::TargetDown,
            "targets down",
            backend.name(),
            format!(
                "{} events, {} deliveries pending",
                self.plan.down_events,
                2 * self.plan.down_events
            ),
        );
        self.fill(&mut row, &before, &after, Some(&outcome));
        // The CPU spans the hold as well: failed attempts are part of it.
        row.backlog_start = Some(before.metrics.pending);
        row.backlog_end = Some(after.metrics.pending);
        row.deliveries = None;
        row.deliveries_per_s = None;
        row.rss_idle_mib = Some(idle);
        row.rss_peak_mib = Some(mib(rss.peak_kib()));
        self.push(row);
        run.stop().await
    }
}

pub(crate) fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}
