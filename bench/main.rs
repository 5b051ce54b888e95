//! The benchmark: in one run, the ceiling of the HTTP stack (hookgate's own
//! `GET /healthz`), then the release `hookgate` binary on SQLite and on
//! Postgres: ingest alone, a drain of a preloaded backlog, ingest and
//! dispatch together (paced and sustained), and memory with the targets
//! down. Prints one table and writes it as JSON (and Markdown).
//!
//! ```sh
//! bench/run.sh --quick     # builds the binary and this bench, then runs
//! bench/run.sh             # the full run (about ten minutes)
//! ```
//!
//! BENCHMARKS.md explains every scenario and column. Everything runs on
//! 127.0.0.1 and is bounded by event counts and durations.
#![forbid(unsafe_code)]

mod loadgen;
mod process;
mod protect;
mod report;
mod sink;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use clap::{Parser, ValueEnum};
use serde::Serialize;
use sqlx::{Connection, Row as _};

use loadgen::{GitlabEvents, Load, Outcome, Pool};
use process::{Gateway, Metrics, Role, Setup};
use report::{Kind, Row};
use sink::{Sink, SinkCount};

#[derive(Debug, Parser)]
#[command(
    name = "bench",
    about = "Measure hookgate: ceiling, ingest, drain, ingest with dispatch, paced latency, memory"
)]
struct Args {
    /// A short run (about two minutes): 5 s phases, 10 s sustained, 10,000
    /// events for the drain and for the targets-down memory check.
    #[arg(long)]
    quick: bool,
    /// The hookgate binary to measure [default: target/release/hookgate].
    #[arg(long)]
    bin: Option<PathBuf>,
    /// Where to write the JSON results (a .md with the tables goes next to
    /// it) [default: bench/results/latest.json, or quick.json with --quick].
    #[arg(long)]
    out: Option<PathBuf>,
    /// A Postgres server the bench may create databases on (named
    /// hookgate_bench_*, dropped at the end). Unreachable: Postgres is
    /// skipped with a note.
    #[arg(
        long,
        env = "HOOKGATE_BENCH_POSTGRES",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    postgres: String,
    /// Backends to measure.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    backends: Vec<Backend>,
    /// Scenarios to run (the ceiling always runs).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "ingest,drain,paced,sustained,down,limited,ordered"
    )]
    scenarios: Vec<Scenario>,
    /// Offered rate of the paced runs, events per second.
    #[arg(long, default_value_t = 5000)]
    rate: u32,
    /// Connections of the closed-loop ingest runs (and the ceiling).
    #[arg(long, value_delimiter = ',', default_value = "32,128")]
    concurrency: Vec<usize>,
    /// Length of the sustained ingest-and-dispatch run [default: 60, quick 10].
    #[arg(long)]
    sustained_secs: Option<u64>,
    /// Events preloaded for the drain [default: 50000, quick 10000].
    #[arg(long)]
    drain_events: Option<u64>,
    /// Events ingested while the targets are down; each has two pending
    /// deliveries [default: 100000, quick 10000].
    #[arg(long)]
    down_events: Option<u64>,
    /// Measure even if the binary is older than the sources.
    #[arg(long)]
    allow_stale: bool,
    /// Keep the work folder (configs, logs, SQLite files) and the Postgres
    /// databases.
    #[arg(long)]
    keep: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
enum Scenario {
    Ingest,
    Drain,
    Paced,
    Sustained,
    Down,
    /// Drain with one rate-limited target (bench/protect.rs).
    Limited,
    /// Drain of an ordered route over 1,000 keys, next to the unordered one.
    Ordered,
}

/// Durations and sizes of one run.
#[derive(Debug, Clone, Serialize)]
struct Plan {
    quick: bool,
    /// Load before each measured window, not counted.
    warmup_s: f64,
    /// Each closed-loop and paced window (and the ceiling's).
    window_s: f64,
    concurrency: Vec<usize>,
    rate: u32,
    paced_connections: usize,
    sustained_s: f64,
    sustained_connections: usize,
    preload_connections: usize,
    drain_events: u64,
    down_events: u64,
    /// How long the targets-down process keeps running (and is sampled)
    /// after the last event.
    down_hold_s: f64,
    /// How long a drain may take before it is reported unfinished.
    drain_limit_s: f64,
}

impl Plan {
    fn new(args: &Args) -> Plan {
        let quick = args.quick;
        Plan {
            quick,
            warmup_s: 1.0,
            window_s: if quick { 5.0 } else { 15.0 },
            concurrency: args.concurrency.clone(),
            rate: args.rate,
            paced_connections: 128,
            sustained_s: args.sustained_secs.unwrap_or(if quick { 10 } else { 60 }) as f64,
            sustained_connections: 32,
            preload_connections: 64,
            drain_events: args
                .drain_events
                .unwrap_or(if quick { 10_000 } else { 50_000 }),
            down_events: args
                .down_events
                .unwrap_or(if quick { 10_000 } else { 100_000 }),
            down_hold_s: 5.0,
            drain_limit_s: if quick { 180.0 } else { 900.0 },
        }
    }
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("bench: some scenarios failed; see the notes above");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs everything; `Ok(false)` when a scenario failed (the others still ran
/// and the results are written).
async fn run(args: Args) -> Result<bool, String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let bin = args
        .bin
        .clone()
        .unwrap_or_else(|| root.join("target/release/hookgate"));
    check_binary(&bin, &root, args.allow_stale)?;
    let out = args.out.clone().unwrap_or_else(|| {
        root.join("bench/results").join(if args.quick {
            "quick.json"
        } else {
            "latest.json"
        })
    });
    let plan = Plan::new(&args);
    let work = tempfile::Builder::new()
        .prefix("hookgate-bench-")
        .tempdir()
        .map_err(|e| format!("work folder: {e}"))?;
    let run_id: u32 = rand::random();
    let started = SystemTime::now();
    let mut machine = Machine::read().await;
    let Git {
        commit,
        code_commit,
        dirty,
    } = git_head(&root);

    println!(
        "hookgate bench ({} mode), binary {} at commit {commit}{} (src/ and migrations/ last changed in {code_commit})",
        if plan.quick { "quick" } else { "full" },
        bin.display(),
        if dirty { " with uncommitted changes" } else { "" }
    );
    println!(
        "machine: {} CPUs ({}), {} MiB, kernel {}, load average {}",
        machine.nproc,
        machine.cpu_model,
        machine.mem_total_mib,
        machine.kernel,
        machine.loadavg_start
    );

    let events = Arc::new(GitlabEvents::new(
        &format!("/ingest/{}", process::SOURCE),
        process::GITLAB_TOKEN,
        run_id,
    ));
    println!(
        "requests: GitLab push events, {} byte body, X-Gitlab-Token, unique X-Gitlab-Event-UUID",
        events.body_len()
    );
    let mut bench = Bench {
        bin,
        dir: work.path().to_path_buf(),
        plan,
        sink: Sink::start(),
        load: Load::Ingest(events.clone()),
        rows: Vec::new(),
        notes: Vec::new(),
        ceiling: Vec::new(),
        failed: false,
    };

    bench.ceiling("ceiling").await;
    let start_ceiling = bench.ceiling.clone();

    for &backend in &args.backends {
        let mut databases = match backend {
            Backend::Sqlite => Databases::Sqlite {
                dir: bench.dir.clone(),
            },
            Backend::Postgres => match Databases::postgres(&args.postgres, run_id).await {
                Ok((databases, version, sync)) => {
                    machine.postgres = Some(version);
                    machine.postgres_synchronous_commit = Some(sync);
                    databases
                }
                Err(e) => {
                    let note =
                        format!("postgres: skipped, {} is not reachable: {e}", args.postgres);
                    println!("{note}");
                    bench.notes.push(note);
                    continue;
                }
            },
        };
        for &scenario in &args.scenarios {
            let result = match scenario {
                Scenario::Ingest => bench.ingest(backend, &mut databases).await,
                Scenario::Drain => bench.drain(backend, &mut databases).await,
                Scenario::Paced => bench.paced(backend, &mut databases).await,
                Scenario::Sustained => bench.sustained(backend, &mut databases).await,
                Scenario::Down => bench.targets_down(backend, &mut databases).await,
                Scenario::Limited => bench.limited(backend, &mut databases).await,
                Scenario::Ordered => bench.ordered(backend, &mut databases).await,
            };
            if let Err(e) = result {
                bench.fail(format!("{} {scenario:?}: {e}", backend.name()));
            }
        }
        if args.keep {
            bench.notes.push(format!(
                "kept {} databases: {}",
                backend.name(),
                databases.names().join(", ")
            ));
        } else {
            databases.drop_all().await;
        }
    }

    // Once more at the end: how far the machine's load drifted during the run.
    bench.ceiling = Vec::new();
    bench.ceiling("ceiling (end)").await;
    let end_ceiling = std::mem::replace(&mut bench.ceiling, start_ceiling.clone());
    machine.loadavg_end = loadavg();

    let table = report::table(&bench.rows);
    let details = report::details(&bench.rows);
    println!("\n{table}\n{details}");
    for note in &bench.notes {
        println!("note: {note}");
    }
    let report = Report {
        command: std::env::args().collect::<Vec<_>>().join(" "),
        mode: if bench.plan.quick { "quick" } else { "full" },
        started: httpdate::fmt_http_date(started),
        finished: httpdate::fmt_http_date(SystemTime::now()),
        commit,
        code_commit,
        dirty,
        binary: bench.bin.display().to_string(),
        machine,
        plan: bench.plan.clone(),
        body_bytes: events.body_len(),
        ceiling_start: start_ceiling.iter().map(Ceiling::from).collect(),
        ceiling_end: end_ceiling.iter().map(Ceiling::from).collect(),
        rows: bench.rows.clone(),
        notes: bench.notes.clone(),
    };
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    let json = serde_json::to_string_pretty(&report).expect("the report serializes");
    std::fs::write(&out, json + "\n").map_err(|e| format!("write {}: {e}", out.display()))?;
    let markdown = out.with_extension("md");
    std::fs::write(&markdown, format!("{table}\n{details}"))
        .map_err(|e| format!("write {}: {e}", markdown.display()))?;
    println!("results: {} and {}", out.display(), markdown.display());
    if args.keep {
        let kept = work.keep();
        println!("work folder kept: {}", kept.display());
    }
    Ok(!bench.failed)
}

struct Bench {
    bin: PathBuf,
    dir: PathBuf,
    plan: Plan,
    sink: Sink,
    load: Load,
    rows: Vec<Row>,
    notes: Vec<String>,
    /// Requests per second of `/healthz` by connection count.
    ceiling: Vec<(usize, f64)>,
    failed: bool,
}

/// Everything read at the edges of a measured window.
struct Snapshot {
    at: Instant,
    cpu: Duration,
    own_cpu: Duration,
    sink_cpu: Duration,
    postgres: Vec<(u32, Duration)>,
    metrics: Metrics,
    sink: SinkCount,
}

/// A hookgate started for one scenario on a fresh database.
struct Running {
    db: Db,
    gateway: Gateway,
    /// Resident memory a second after start-up, MiB.
    idle: f64,
    rss: process::RssSampler,
}

impl Running {
    async fn stop(self) -> Result<(), String> {
        drop(self.rss);
        self.gateway.stop().await
    }
}

/// A database made for one scenario.
struct Db {
    url: String,
    /// The database name on Postgres, to find its backends' CPU.
    postgres: Option<String>,
}

impl Bench {
    fn fail(&mut self, message: String) {
        println!("FAILED: {message}");
        self.notes.push(format!("failed: {message}"));
        self.failed = true;
    }

    fn sink_targets(&self) -> [String; 2] {
        process::TARGETS.map(|t| self.sink.url(t))
    }

    async fn start(
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
                target_keys: ["", ""],
                route_keys: ["", ""],
            },
        )
        .await
    }

    /// A fresh database and a hookgate on it, idle memory read, memory
    /// sampling started.
    async fn launch(
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

    async fn snapshot(&self, gateway: &Gateway, db: &Db) -> Result<Snapshot, String> {
        let metrics = gateway.metrics().await?;
        Ok(Snapshot {
            at: Instant::now(),
            cpu: gateway.cpu(),
            own_cpu: process::own_cpu(),
            sink_cpu: process::own_thread_cpu(sink::THREAD),
            postgres: db
                .postgres
                .as_deref()
                .map(process::postgres_backends)
                .unwrap_or_default(),
            metrics,
            sink: self.sink.count(),
        })
    }

    /// Resident memory a second after start-up, before any load.
    async fn idle_rss(gateway: &Gateway) -> f64 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        mib(gateway.rss_kib())
    }

    fn ceiling_for(&self, connections: usize) -> Option<f64> {
        self.ceiling
            .iter()
            .find(|(c, _)| *c == connections)
            .map(|(_, rate)| *rate)
    }

    /// Fills what every window measures: counts, rates, latencies, CPU.
    fn fill(&self, row: &mut Row, before: &Snapshot, after: &Snapshot, outcome: Option<&Outcome>) {
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
                row.sink_cpu_us_per_delivery = Some(sink_cpu / deliveries as f64);
            }
        }
        row.sink_duplicates = Some(after.sink.duplicates - before.sink.duplicates);
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

    fn backlog(&self, row: &mut Row, before: &Snapshot, after: &Snapshot) {
        let (start, end) = (before.metrics.pending, after.metrics.pending);
        row.backlog_start = Some(start);
        row.backlog_end = Some(end);
        row.backlog_grew = Some(report::backlog_grew(start, end, row.accepted.unwrap_or(0)));
    }

    fn push(&mut self, mut row: Row) {
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
    async fn ceiling(&mut self, label: &str) {
        if let Err(e) = self.try_ceiling(label).await {
            self.fail(format!("{label}: {e}"));
        }
    }

    async fn try_ceiling(&mut self, label: &str) -> Result<(), String> {
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
                target_keys: ["", ""],
                route_keys: ["", ""],
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
    async fn ingest(&mut self, backend: Backend, dbs: &mut Databases) -> Result<(), String> {
        let run = self
            .launch(
                backend,
                dbs,
                "ingest",
                Role::IngestOnly,
                self.sink_targets(),
            )
            .await?;
        let (db, gateway, idle, rss) = (&run.db, &run.gateway, run.idle, &run.rss);
        for connections in self.plan.concurrency.clone() {
            let mut pool = Pool::connect(gateway.addr, connections).await?;
            // The ceiling right beside the ingest window, on the same process
            // and connections: a ratio the machine's other load moves less.
            loadgen::closed_loop(&mut pool, &Load::Healthz, secs(self.plan.warmup_s), None).await;
            let ceiling =
                loadgen::closed_loop(&mut pool, &Load::Healthz, secs(self.plan.window_s), None)
                    .await
                    .rate();
            loadgen::closed_loop(&mut pool, &self.load, secs(self.plan.warmup_s), None).await;
            rss.reset();
            let before = self.snapshot(gateway, db).await?;
            let outcome =
                loadgen::closed_loop(&mut pool, &self.load, secs(self.plan.window_s), None).await;
            let after = self.snapshot(gateway, db).await?;
            let mut row = Row::new(
                Kind::IngestClosed,
                "ingest alone",
                backend.name(),
                format!("closed, {connections} connections"),
            );
            self.fill(&mut row, &before, &after, Some(&outcome));
            row.ceiling_per_s = Some(ceiling);
            row.ratio_to_ceiling = row.ev_per_s.map(|rate| rate / ceiling);
            row.rss_idle_mib = Some(idle);
            row.rss_peak_mib = Some(mib(rss.peak_kib()));
            self.push(row);
        }
        let row = self
            .paced_window(gateway, db, Kind::IngestPaced, "ingest alone", backend, rss)
            .await?;
        let mut row = row;
        row.rss_idle_mib = Some(idle);
        self.push(row);
        run.stop().await
    }

    /// A paced window at the plan's rate after a warm-up at the same rate.
    async fn paced_window(
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

    /// Preloads events with the dispatcher off, then measures a
    /// dispatcher-only process until the backlog is empty.
    async fn drain(&mut self, backend: Backend, dbs: &mut Databases) -> Result<(), String> {
        let db = dbs.fresh("drain").await?;
        let loader = self
            .start(
                backend,
                "drain-preload",
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
            "drain",
            backend.name(),
            format!("{} events x 2 targets", loaded.accepted),
        );

        let received = self.sink.count().received;
        let sink_cpu = process::own_thread_cpu(sink::THREAD);
        self.sink.mark();
        let spawned = Instant::now();
        let gateway = self
            .start(
                backend,
                "drain",
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
        while self.sink.count().received - received < backlog && Instant::now() < limit {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Recorded, not only received: wait for the store to agree.
        let mut left = gateway.metrics().await?.pending;
        while left > 0 && Instant::now() < limit {
            tokio::time::sleep(Duration::from_millis(50)).await;
            left = gateway.metrics().await?.pending;
        }
        let count = self.sink.count();
        let cpu = gateway.cpu().as_secs_f64() * 1e6;
        let postgres_end = db
            .postgres
            .as_deref()
            .map(process::postgres_backends)
            .unwrap_or_default();
        let delivered = count.received - received;
        let sink_cpu = process::own_thread_cpu(sink::THREAD).saturating_sub(sink_cpu);
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
        row.sink_duplicates = Some(count.duplicates);
        row.rss_peak_mib = Some(mib(rss.peak_kib()));
        if left > 0 {
            row.error_detail = format!("{left} deliveries still pending at the time limit");
            row.errors = left;
        }
        self.notes.push(format!(
            "{} drain: preloaded {} events ({} deliveries) at {preload_rate:.0} ev/s with {} connections; \
             CPU per delivery counts the dispatcher process from start to empty backlog",
            backend.name(),
            loaded.accepted,
            backlog,
            self.plan.preload_connections
        ));
        self.push(row);
        drop(rss);
        gateway.stop().await
    }

    /// Ingest and dispatch in one process, paced at the plan's rate.
    async fn paced(&mut self, backend: Backend, dbs: &mut Databases) -> Result<(), String> {
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
    async fn sustained(&mut self, backend: Backend, dbs: &mut Databases) -> Result<(), String> {
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
        row.ceiling_per_s = self.ceiling_for(connections);
        row.ratio_to_ceiling = row
            .ceiling_per_s
            .zip(row.ev_per_s)
            .map(|(ceiling, rate)| rate / ceiling);
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
    async fn targets_down(&mut self, backend: Backend, dbs: &mut Databases) -> Result<(), String> {
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

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Where each scenario's fresh database comes from.
enum Databases {
    Sqlite {
        dir: PathBuf,
    },
    Postgres {
        admin_url: String,
        run: u32,
        created: Vec<String>,
    },
}

impl Databases {
    /// Connects to the server; answers its version and synchronous_commit.
    async fn postgres(admin_url: &str, run: u32) -> Result<(Databases, String, String), String> {
        let mut conn = tokio::time::timeout(
            Duration::from_secs(5),
            sqlx::PgConnection::connect(admin_url),
        )
        .await
        .map_err(|_| "no answer within 5 s".to_string())?
        .map_err(|e| e.to_string())?;
        let version: String = sqlx::query("SHOW server_version")
            .fetch_one(&mut conn)
            .await
            .and_then(|r| r.try_get(0))
            .map_err(|e| e.to_string())?;
        let sync: String = sqlx::query("SHOW synchronous_commit")
            .fetch_one(&mut conn)
            .await
            .and_then(|r| r.try_get(0))
            .map_err(|e| e.to_string())?;
        conn.close().await.ok();
        Ok((
            Databases::Postgres {
                admin_url: admin_url.to_string(),
                run,
                created: Vec::new(),
            },
            version,
            sync,
        ))
    }

    async fn fresh(&mut self, scenario: &str) -> Result<Db, String> {
        match self {
            Databases::Sqlite { dir } => Ok(Db {
                url: format!(
                    "sqlite://{}",
                    dir.join(format!("sqlite-{scenario}.db")).display()
                ),
                postgres: None,
            }),
            Databases::Postgres {
                admin_url,
                run,
                created,
            } => {
                let name = format!("hookgate_bench_{run:08x}_{scenario}");
                let mut conn = sqlx::PgConnection::connect(admin_url)
                    .await
                    .map_err(|e| format!("postgres: {e}"))?;
                sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                    .execute(&mut conn)
                    .await
                    .map_err(|e| format!("create database {name}: {e}"))?;
                conn.close().await.ok();
                created.push(name.clone());
                let mut url =
                    reqwest::Url::parse(admin_url).map_err(|e| format!("postgres URL: {e}"))?;
                url.set_path(&format!("/{name}"));
                Ok(Db {
                    url: url.to_string(),
                    postgres: Some(name),
                })
            }
        }
    }

    fn names(&self) -> Vec<String> {
        match self {
            Databases::Sqlite { dir } => vec![dir.display().to_string()],
            Databases::Postgres { created, .. } => created.clone(),
        }
    }

    async fn drop_all(&mut self) {
        let Databases::Postgres {
            admin_url, created, ..
        } = self
        else {
            return;
        };
        let Ok(mut conn) = sqlx::PgConnection::connect(admin_url).await else {
            return;
        };
        for name in created.drain(..) {
            if let Err(e) = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut conn)
                .await
            {
                eprintln!("bench: could not drop database {name}: {e}");
            }
        }
        conn.close().await.ok();
    }
}

/// Refuses a missing binary, and one older than the sources it is built
/// from (unless told otherwise): numbers of old code under a new name
/// mislead.
fn check_binary(bin: &Path, root: &Path, allow_stale: bool) -> Result<(), String> {
    let built = std::fs::metadata(bin)
        .and_then(|m| m.modified())
        .map_err(|_| {
            format!(
                "{} not found: build it first with `cargo build --release` (bench/run.sh does)",
                bin.display()
            )
        })?;
    let mut newest: Option<(SystemTime, PathBuf)> = None;
    // What is compiled into the binary; cargo relinks it on any change here
    // (not so for Cargo.toml, whose edits may leave the binary as it is).
    let mut stack = vec![root.join("src"), root.join("migrations")];
    while let Some(path) = stack.pop() {
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&path) {
                stack.extend(entries.filter_map(|e| e.ok().map(|e| e.path())));
            }
        } else if let Ok(modified) = meta.modified() {
            if newest.as_ref().is_none_or(|(t, _)| modified > *t) {
                newest = Some((modified, path));
            }
        }
    }
    match newest {
        Some((changed, path)) if changed > built => {
            let message = format!(
                "{} is older than {}: run `cargo build --release` (or bench/run.sh)",
                bin.display(),
                path.display()
            );
            if allow_stale {
                println!("warning: {message}; measuring it anyway (--allow-stale)");
                Ok(())
            } else {
                Err(format!("{message}, or pass --allow-stale"))
            }
        }
        _ => Ok(()),
    }
}

/// Where the measured code stands in git.
struct Git {
    commit: String,
    code_commit: String,
    dirty: bool,
}

fn git_head(root: &Path) -> Git {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let unknown = || "unknown".to_string();
    Git {
        commit: git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(unknown),
        code_commit: git(&[
            "log",
            "-1",
            "--format=%h",
            "--abbrev=12",
            "--",
            "src",
            "migrations",
        ])
        .unwrap_or_else(unknown),
        dirty: git(&["status", "--porcelain", "--untracked-files=no"])
            .is_some_and(|s| !s.is_empty()),
    }
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

#[derive(Debug, Clone, Serialize)]
struct Machine {
    nproc: usize,
    cpu_model: String,
    mem_total_mib: u64,
    kernel: String,
    sqlite: String,
    postgres: Option<String>,
    postgres_synchronous_commit: Option<String>,
    /// The 1, 5 and 15 minute load averages: other work on the machine.
    loadavg_start: String,
    loadavg_end: String,
}

impl Machine {
    async fn read() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let sqlite = async {
            let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:")
                .await
                .ok()?;
            let row = sqlx::query("SELECT sqlite_version()")
                .fetch_one(&mut conn)
                .await
                .ok()?;
            row.try_get::<String, _>(0).ok()
        };
        Machine {
            nproc: std::thread::available_parallelism().map_or(0, |n| n.get()),
            cpu_model: cpuinfo
                .lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map_or_else(String::new, |(_, m)| m.trim().to_string()),
            mem_total_mib: meminfo
                .lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<u64>().ok())
                .map_or(0, |kib| kib / 1024),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_string())
                .unwrap_or_default(),
            sqlite: sqlite.await.unwrap_or_default(),
            postgres: None,
            postgres_synchronous_commit: None,
            loadavg_start: loadavg(),
            loadavg_end: String::new(),
        }
    }
}

#[derive(Debug, Serialize)]
struct Ceiling {
    connections: usize,
    requests_per_s: f64,
}

impl From<&(usize, f64)> for Ceiling {
    fn from(&(connections, requests_per_s): &(usize, f64)) -> Ceiling {
        Ceiling {
            connections,
            requests_per_s,
        }
    }
}

#[derive(Debug, Serialize)]
struct Report {
    command: String,
    mode: &'static str,
    started: String,
    finished: String,
    commit: String,
    /// The last commit that changed what the binary is built from.
    code_commit: String,
    dirty: bool,
    binary: String,
    machine: Machine,
    plan: Plan,
    body_bytes: usize,
    ceiling_start: Vec<Ceiling>,
    ceiling_end: Vec<Ceiling>,
    rows: Vec<Row>,
    notes: Vec<String>,
}
