//! What a run is asked to do: the command line ([`Args`]), the backends and
//! scenarios it names, and the [`Plan`] of durations and sizes derived from it.

use super::*;

#[derive(Debug, Parser)]
#[command(
    name = "bench",
    about = "Measure hookgate: ceiling, ingest, drain, ingest with dispatch, paced latency, keep-up rate, memory"
)]
pub(crate) struct Args {
    /// A short run (about two minutes): 5 s phases, 10 s sustained, 10,000
    /// events for the drain and for the targets-down memory check.
    #[arg(long)]
    pub(crate) quick: bool,
    /// The hookgate binary to measure [default: target/release/hookgate].
    #[arg(long)]
    pub(crate) bin: Option<PathBuf>,
    /// Where to write the JSON results (a .md with the tables goes next to
    /// it) [default: bench/results/latest.json, or quick.json with --quick].
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
    /// A Postgres server the bench may create databases on (named
    /// hookgate_bench_*, dropped at the end). Unreachable: Postgres is
    /// skipped with a note.
    #[arg(
        long,
        env = "HOOKGATE_BENCH_POSTGRES",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    pub(crate) postgres: String,
    /// Backends to measure.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    pub(crate) backends: Vec<Backend>,
    /// Scenarios to run (the ceiling always runs).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "ingest,drain,paced,sustained,keepup,down,limited,ordered,filtered,protected"
    )]
    pub(crate) scenarios: Vec<Scenario>,
    /// Where the deliveries of `drain` and `keepup` go: the in-process
    /// sink, an nginx the bench starts (`nginx` on PATH), or each in turn
    /// [default: both when nginx is found, else inproc].
    #[arg(long)]
    pub(crate) sink: Option<SinkChoice>,
    /// Offered rate of the paced runs, events per second.
    #[arg(long, default_value_t = 5000)]
    pub(crate) rate: u32,
    /// Connections of the closed-loop ingest runs (and the ceiling).
    #[arg(long, value_delimiter = ',', default_value = "32,128")]
    pub(crate) concurrency: Vec<usize>,
    /// Length of the sustained ingest-and-dispatch run [default: 60, quick 10].
    #[arg(long)]
    pub(crate) sustained_secs: Option<u64>,
    /// Events preloaded for the drain [default: 50000, quick 10000].
    #[arg(long)]
    pub(crate) drain_events: Option<u64>,
    /// Events ingested while the targets are down; each has two pending
    /// deliveries [default: 100000, quick 10000].
    #[arg(long)]
    pub(crate) down_events: Option<u64>,
    /// Measure even if the binary is older than the sources.
    #[arg(long)]
    pub(crate) allow_stale: bool,
    /// Keep the work folder (configs, logs, SQLite files) and the Postgres
    /// databases.
    #[arg(long)]
    pub(crate) keep: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Scenario {
    Ingest,
    Drain,
    Paced,
    Sustained,
    Down,
    /// Ingest alone and drain again with three jq-filtered routes (one
    /// transforming), beside the unfiltered rows of the same run.
    Filtered,
    /// Drain with one rate-limited target (bench/protect.rs).
    Limited,
    /// Drain of an ordered route over 1,000 keys, next to the unordered one.
    Ordered,
    /// The highest paced rate at which deliveries keep up, found by steps
    /// (bench/keepup.rs).
    Keepup,
    /// Ingest alone (32 connections) and keep-up again with a filtered
    /// route, a rate-limited target and an ordered route present beside
    /// the plain ones, compared with the plain rows (bench/protect.rs).
    Protected,
}

impl Scenario {
    /// Whether the scenario runs once per target kind (`--sink`).
    pub(crate) fn per_target(self) -> bool {
        matches!(self, Scenario::Drain | Scenario::Keepup)
    }
}

/// `--sink`: which targets the deliveries of `drain` and `keepup` go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SinkChoice {
    Inproc,
    Nginx,
    Both,
}

/// Durations and sizes of one run.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Plan {
    pub(crate) quick: bool,
    /// Load before each measured window, not counted.
    pub(crate) warmup_s: f64,
    /// Each closed-loop and paced window (and the ceiling's).
    pub(crate) window_s: f64,
    pub(crate) concurrency: Vec<usize>,
    pub(crate) rate: u32,
    pub(crate) paced_connections: usize,
    pub(crate) sustained_s: f64,
    pub(crate) sustained_connections: usize,
    pub(crate) preload_connections: usize,
    pub(crate) drain_events: u64,
    pub(crate) down_events: u64,
    /// How long the targets-down process keeps running (and is sampled)
    /// after the last event.
    pub(crate) down_hold_s: f64,
    /// How long a drain may take before it is reported unfinished.
    pub(crate) drain_limit_s: f64,
    /// Each step of the keep-up search, and the time after it in which
    /// its deliveries must arrive.
    pub(crate) keepup_step_s: f64,
    pub(crate) keepup_settle_s: f64,
    /// The most steps one keep-up search takes.
    pub(crate) keepup_max_steps: usize,
}

impl Plan {
    pub(crate) fn new(args: &Args) -> Plan {
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
            keepup_step_s: if quick { 5.0 } else { 15.0 },
            keepup_settle_s: 3.0,
            keepup_max_steps: if quick { 8 } else { 10 },
        }
    }
}

pub(crate) fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}
