//! The benchmark: in one run, the ceiling of the HTTP stack (hookgate's own
//! `GET /healthz`), then the release `hookgate` binary on SQLite and on
//! Postgres: ingest alone, a drain of a preloaded backlog, ingest and
//! dispatch together (paced, sustained, and the highest paced rate that
//! deliveries keep up with), and memory with the targets down. Drain and
//! keep-up run against the in-process sink and against an nginx target.
//! Prints one table and writes it as JSON (and Markdown).
//!
//! ```sh
//! bench/run.sh --quick     # builds the binary and this bench, then runs
//! bench/run.sh             # the full run (about ten minutes)
//! ```
//!
//! BENCHMARKS.md explains every scenario and column. Everything runs on
//! 127.0.0.1 and is bounded by event counts and durations.
//!
//! Rooms: `args` (the command line and the plan of a run), `scenarios`
//! (each scenario and what it measures; `protect` and `keepup` have files
//! of their own), `databases` (a fresh database per scenario), `process`
//! (the gateway under test), `loadgen` (the load), `sink` and `nginx` (the
//! targets), `report` (rows and tables) and `context` (binary, git,
//! machine, the JSON report). This file runs them in order.
#![forbid(unsafe_code)]

mod args;
mod context;
mod databases;
mod keepup;
mod loadgen;
mod nginx;
mod process;
mod protect;
mod report;
mod scenarios;
mod sink;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use clap::{Parser, ValueEnum};
use serde::Serialize;
use sqlx::{Connection, Row as _};

use args::{secs, Args, Backend, Plan, Scenario};
use context::{check_binary, git_head, loadavg, Ceiling, Git, Machine, Report};
use databases::Databases;
use loadgen::{GitlabEvents, Load, Outcome, Pool};
use nginx::{Nginx, Target};
use process::{Gateway, Metrics, Role, Setup};
use report::{Kind, Row};
use scenarios::{Bench, Db};
use sink::{Sink, SinkCount};

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
        filtered: false,
        protected: false,
        nginx: None,
        target: Target::Inproc,
    };

    let nginx_bin = nginx::find();
    let (mut targets, note) = nginx::targets(args.sink, nginx_bin.as_deref());
    if let Some(note) = note {
        println!("{note}");
        bench.notes.push(note);
    }
    if let (true, Some(bin)) = (targets.contains(&Target::Nginx), &nginx_bin) {
        machine.nginx = nginx::version(bin);
        match Nginx::start(bin, &bench.dir).await {
            Ok(started) => {
                println!(
                    "targets: the in-process sink and {} ({}), one worker",
                    bin.display(),
                    machine.nginx.as_deref().unwrap_or("version unknown")
                );
                bench.nginx = Some(started);
            }
            Err(e) => {
                let note = format!("nginx: skipped, it did not start: {e}");
                println!("{note}");
                bench.notes.push(note);
                targets.retain(|&t| t != Target::Nginx);
            }
        }
    }

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
            let on = if scenario.per_target() {
                targets.clone()
            } else {
                vec![Target::Inproc]
            };
            for target in on {
                bench.target = target;
                let result = match scenario {
                    Scenario::Ingest => bench.ingest(backend, &mut databases).await,
                    Scenario::Drain => bench.drain(backend, &mut databases).await,
                    Scenario::Paced => bench.paced(backend, &mut databases).await,
                    Scenario::Sustained => bench.sustained(backend, &mut databases).await,
                    Scenario::Keepup => bench.keepup(backend, &mut databases).await,
                    Scenario::Down => bench.targets_down(backend, &mut databases).await,
                    Scenario::Filtered => bench.filtered(backend, &mut databases).await,
                    Scenario::Limited => bench.limited(backend, &mut databases).await,
                    Scenario::Ordered => bench.ordered(backend, &mut databases).await,
                    Scenario::Protected => bench.protected(backend, &mut databases).await,
                };
                if let Err(e) = result {
                    let suffix = bench.target_suffix();
                    bench.fail(format!("{} {scenario:?}{suffix}: {e}", backend.name()));
                }
            }
            bench.target = Target::Inproc;
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
