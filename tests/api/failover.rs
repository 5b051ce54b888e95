//! Postgres failover as a tested guarantee. Two private clusters of the
//! installed PostgreSQL (a primary, and a hot standby streaming through a
//! proxy that can hold the stream), two `hookgate serve` processes reaching
//! the primary through another proxy, steady signed ingest and delivery to
//! two local targets. Then the standby's stream is held, the primary's
//! postmaster is killed with SIGKILL, the proxy is pointed for a while at
//! the standby still in recovery (the wrong server), the standby is
//! promoted and the proxy switched to it.
//!
//! With synchronous replication every event answered 200 is on the promoted
//! server. With asynchronous replication the test counts the acknowledged
//! events the promoted server lacks: that loss is what Postgres promises in
//! that mode, so the count is printed, not asserted. Both cases assert no
//! 500 anywhere, `/readyz` 503 while there is no primary and 200 after,
//! deliveries resuming by themselves in the same processes, one log line
//! per 503 and one per change of the store's availability.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::faults::support::{first, flood, readyz, Audit, Binary, Ledger, Pace};
use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synchronous_standby_has_every_acknowledged_event_after_failover() {
    let Some(bin) = PgBin::find("failover (synchronous)") else {
        return;
    };
    let run = failover(bin, Replication::Synchronous).await;
    run.audit.assert_nothing_lost("synchronous failover");
    assert!(
        run.split.is_empty(),
        "provider events answered with two event IDs: {:?}",
        first(&run.split)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asynchronous_standby_recovers_and_counts_what_it_lacks() {
    let Some(bin) = PgBin::find("failover (asynchronous)") else {
        return;
    };
    let run = failover(bin, Replication::Asynchronous).await;
    // Lost acknowledged events are Postgres's promise here (printed above);
    // what is on the promoted server must still be delivered.
    assert!(run.audit.drained, "the outbox did not drain in time");
    assert!(
        run.audit.undelivered.is_empty(),
        "stored events not delivered: {:?}",
        first(&run.audit.undelivered)
    );
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Replication {
    Synchronous,
    Asynchronous,
}

/// Where the run is. Readiness probes note it when they start and when
/// they end, so a probe is judged only by a phase it lay wholly inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Phase {
    Steady,
    /// The primary is dead and the proxy reaches no server.
    NoPrimary,
    /// The proxy reaches the standby, still in recovery.
    WrongServer,
    Switching,
    Recovered,
}

#[derive(Default)]
struct Phases(AtomicU8);

impl Phases {
    fn now(&self) -> Phase {
        [
            Phase::Steady,
            Phase::NoPrimary,
            Phase::WrongServer,
            Phase::Switching,
            Phase::Recovered,
        ][self.0.load(Ordering::SeqCst) as usize]
    }

    fn set(&self, phase: Phase) {
        self.0.store(phase as u8, Ordering::SeqCst);
    }
}

/// One `GET /readyz`.
#[derive(Debug, Clone)]
struct Probe {
    process: usize,
    started: Phase,
    ended: Phase,
    status: Option<u16>,
}

/// What one failover run leaves for its test to assert.
struct Run {
    audit: Audit,
    /// Provider event IDs answered 200 with two different event IDs.
    split: Vec<String>,
}

/// Requests made while the proxy points at the standby in recovery.
#[derive(Debug, Default)]
struct WrongServer {
    rounds: usize,
    /// Per process: ingest and admin-write requests (each answered 503).
    ingest: [usize; 2],
    admin_writes: [usize; 2],
    readyz: usize,
    /// Admin reads answered 200: a hot standby serves reads.
    admin_reads_ok: usize,
    admin_reads_503: [usize; 2],
}

async fn failover(bin: Arc<PgBin>, mode: Replication) -> Run {
    let name = match mode {
        Replication::Synchronous => "synchronous",
        Replication::Asynchronous => "asynchronous",
    };
    let began = Instant::now();
    let folder = Arc::new(bin.folder());
    let primary = Cluster::primary(&bin, &folder).await;
    let stream = Proxy::start(Some(primary.addr())).await;
    let standby = Cluster::standby(&primary, stream.port).await;
    primary
        .wait_for(
            "the standby streaming",
            "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'",
            |n| n == 1,
        )
        .await;
    primary
        .execute("postgres", "CREATE DATABASE hookgate")
        .await;
    if mode == Replication::Synchronous {
        primary
            .execute(
                "postgres",
                "ALTER SYSTEM SET synchronous_standby_names = 'standby1'",
            )
            .await;
        primary.execute("postgres", "SELECT pg_reload_conf()").await;
        primary
            .wait_for(
                "the standby synchronous",
                "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'",
                |n| n == 1,
            )
            .await;
    }
    let db = Proxy::start(Some(primary.addr())).await;
    let targets = [TestTarget::start().await, TestTarget::start().await];
    let binary = Binary::new(
        &format!("postgres://postgres@127.0.0.1:{}/hookgate", db.port),
        &routes(&[
            Route::new("stripe", "a")
                .url(&targets[0].url)
                .timeout_ms(1000),
            Route::new("stripe", "b")
                .url(&targets[1].url)
                .timeout_ms(1000),
        ]),
    );
    let mut procs = [binary.start(), binary.start()];
    let bases: Vec<String> = procs.iter().map(Proc::base).collect();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();

    // Steady signed ingest on both processes, a provider's retry of every
    // event not answered 200, and readiness probes all along.
    let ledgers: Vec<Arc<Mutex<Ledger>>> = (0..2)
        .map(|p| Arc::new(Mutex::new(Ledger::new(&format!("evt_fo_{p}_"), 10, true))))
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let pace = Pace {
        clients: 2,
        interval: Duration::from_millis(40),
        max: 100_000,
    };
    let floods: Vec<_> = bases
        .iter()
        .zip(&ledgers)
        .map(|(base, ledger)| {
            tokio::spawn(flood(
                client.clone(),
                base.clone(),
                ledger.clone(),
                pace,
                stop.clone(),
            ))
        })
        .collect();
    let phases = Arc::new(Phases::default());
    let probes = tokio::spawn(probe_readiness(
        client.clone(),
        bases.clone(),
        phases.clone(),
        stop.clone(),
    ));
    let acked = || acknowledged(&ledgers);
    eventually("steady ingest and delivery", || async {
        acked() >= 40 && targets.iter().all(|t| t.count() >= 20)
    })
    .await;

    // The standby's stream stalls; the primary dies while that matters.
    stream.hold();
    let acked_at_hold = acked();
    match mode {
        Replication::Synchronous => {
            primary
                .wait_for(
                    "commits waiting on the standby",
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'",
                    |n| n > 0,
                )
                .await
        }
        Replication::Asynchronous => {
            eventually("events acknowledged while the stream is held", || async {
                acked() >= acked_at_hold + 20
            })
            .await
        }
    }
    let acked_at_kill = acked();
    primary.sigkill();
    let killed = Instant::now();
    db.switch(None);
    stream.switch(None);
    phases.set(Phase::NoPrimary);
    for base in &bases {
        eventually("/readyz 503 with no primary", || async {
            readyz(&client, base).await == Some(503)
        })
        .await;
    }
    let unready_after = killed.elapsed();

    // The wrong server: a standby in recovery refuses every write.
    db.switch(Some(standby.addr()));
    phases.set(Phase::WrongServer);
    let wrong = wrong_server(&client, &bases).await;
    phases.set(Phase::Switching);

    db.switch(None);
    let promoting = Instant::now();
    standby.promote().await;
    let promotion = promoting.elapsed();
    db.switch(Some(standby.addr()));
    let switched = Instant::now();
    for base in &bases {
        eventually("/readyz 200 on the promoted server", || async {
            readyz(&client, base).await == Some(200)
        })
        .await;
    }
    let (ready_after, ready_after_switch) = (killed.elapsed(), switched.elapsed());
    phases.set(Phase::Recovered);
    let acked_at_recovery = acked();
    eventually("ingest answered 200 again", || async {
        acked() >= acked_at_recovery + 40
    })
    .await;
    stop.store(true, Ordering::SeqCst);
    for task in floods {
        task.await.unwrap();
    }
    let probes = probes.await.unwrap();

    let mut all = Ledger::new("", 0, false);
    for ledger in &ledgers {
        all.answers
            .extend(ledger.lock().unwrap().answers.iter().cloned());
    }
    let audit = Audit::run(&bases[0], &all, &[&targets[0], &targets[1]]).await;
    for (i, p) in procs.iter_mut().enumerate() {
        let exited = p.child.try_wait().unwrap();
        assert!(exited.is_none(), "process {i} exited; logs:\n{}", p.logs());
    }
    all.assert_contract_kept(false);
    check_readiness(&probes);
    let logs = check_logs(&procs, &ledgers, &wrong).await;
    println!(
        "failover ({name}): {} | {} acknowledged before the kill ({} after the stream was held); \
         the promoted server lacks {} acknowledged events | /readyz 503 on both processes {:.2} s \
         after the kill, 200 again {:.2} s after it (promotion {:.2} s, then {:.2} s from the switch to \
         both ready); probes: {} | wrong server \
         for {} rounds: ingest 503 x{}, admin writes 503 x{}, /readyz 503 x{}, admin reads 200 x{} \
         and 503 x{} | deliveries: {} | {logs} | {:.1} s in all",
        all.summary(),
        acked_at_kill,
        acked_at_kill - acked_at_hold,
        audit.lost.len(),
        unready_after.as_secs_f64(),
        ready_after.as_secs_f64(),
        promotion.as_secs_f64(),
        ready_after_switch.as_secs_f64(),
        probe_summary(&probes),
        wrong.rounds,
        wrong.ingest.iter().sum::<usize>(),
        wrong.admin_writes.iter().sum::<usize>(),
        wrong.readyz,
        wrong.admin_reads_ok,
        wrong.admin_reads_503.iter().sum::<usize>(),
        audit.summary(),
        began.elapsed().as_secs_f64(),
    );
    drop(procs);
    Run {
        split: all.split_events(),
        audit,
    }
}

/// Events answered 200 so far, on both processes.
fn acknowledged(ledgers: &[Arc<Mutex<Ledger>>]) -> usize {
    ledgers
        .iter()
        .map(|l| l.lock().unwrap().acknowledged().len())
        .sum()
}

/// `GET /readyz` on every process, again and again, until stopped.
async fn probe_readiness(
    client: reqwest::Client,
    bases: Vec<String>,
    phases: Arc<Phases>,
    stop: Arc<AtomicBool>,
) -> Vec<Probe> {
    let mut probes = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        for (process, base) in bases.iter().enumerate() {
            let started = phases.now();
            let status = readyz(&client, base).await;
            probes.push(Probe {
                process,
                started,
                ended: phases.now(),
                status,
            });
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    probes
}

/// Every path of both processes while the proxy reaches only the standby in
/// recovery: ingest, an admin write and `/readyz` answer 503 with
/// `Retry-After`; admin reads may be served by the standby. At least three
/// rounds and two seconds, as a DNS name or proxy lagging behind would.
async fn wrong_server(client: &reqwest::Client, bases: &[String]) -> WrongServer {
    let began = Instant::now();
    let mut wrong = WrongServer::default();
    while wrong.rounds < 3 || began.elapsed() < Duration::from_secs(2) {
        for (i, base) in bases.iter().enumerate() {
            let id = format!("evt_fo_wrong_{i}_{}", wrong.rounds);
            let answer = send_stripe(client, base, &id, 10).await;
            assert!(
                answer.status == Some(503) && answer.retry_after,
                "ingest on the wrong server: {answer:?}"
            );
            wrong.ingest[i] += 1;

            let resp = client
                .post(format!("{base}/admin/v1/deliveries/retry"))
                .header("Authorization", format!("Bearer {ADMIN_TOKEN}"))
                .body(r#"{"status": "dead"}"#)
                .send()
                .await
                .unwrap();
            let (status, retry_after) = (resp.status(), resp.headers().contains_key("retry-after"));
            let body: Value =
                serde_json::from_str(&resp.text().await.unwrap()).unwrap_or(Value::Null);
            assert!(
                status == 503 && retry_after && body["error"] == "unavailable",
                "an admin write on the wrong server: {status} {body}"
            );
            wrong.admin_writes[i] += 1;

            assert_eq!(
                readyz(client, base).await,
                Some(503),
                "/readyz on the wrong server"
            );
            wrong.readyz += 1;

            let status = client
                .get(format!("{base}/admin/v1/events?limit=5"))
                .header("Authorization", format!("Bearer {ADMIN_TOKEN}"))
                .send()
                .await
                .unwrap()
                .status();
            match status.as_u16() {
                200 => wrong.admin_reads_ok += 1,
                503 => wrong.admin_reads_503[i] += 1,
                other => panic!("an admin read on the wrong server answered {other}"),
            }
        }
        wrong.rounds += 1;
    }
    wrong
}

/// Readiness is 200 or 503, never anything else; 503 for every probe that
/// lay wholly inside a phase without a primary, 200 for every one after
/// recovery.
fn check_readiness(probes: &[Probe]) {
    for p in probes {
        assert!(
            matches!(p.status, Some(200) | Some(503)),
            "/readyz answered {:?}: {p:?}",
            p.status
        );
        let without_primary = |phase| matches!(phase, Phase::NoPrimary | Phase::WrongServer);
        if without_primary(p.started) && without_primary(p.ended) {
            assert_eq!(p.status, Some(503), "ready with no primary: {p:?}");
        }
        if p.started == Phase::Recovered {
            assert_eq!(p.status, Some(200), "unready after recovery: {p:?}");
        }
    }
}

fn probe_summary(probes: &[Probe]) -> String {
    let count = |status| probes.iter().filter(|p| p.status == Some(status)).count();
    let per_process = |i| probes.iter().filter(|p| p.process == i).count();
    format!(
        "{} (200 x{}, 503 x{}; {} and {} per process)",
        probes.len(),
        count(200),
        count(503),
        per_process(0),
        per_process(1)
    )
}

/// One log line per 503 (the part that answered it says why; the request
/// log does not add an error), and the store's availability logged once
/// when it went and once when it came back, per process.
async fn check_logs(procs: &[Proc], ledgers: &[Arc<Mutex<Ledger>>], wrong: &WrongServer) -> String {
    let mut summary = Vec::new();
    for (i, p) in procs.iter().enumerate() {
        let ingest_503 = ledgers[i].lock().unwrap().count(Some(503)) + wrong.ingest[i];
        let admin_503 = wrong.admin_writes[i] + wrong.admin_reads_503[i];
        // The log is read from the process's stderr as it comes.
        eventually("every 503 logged", || async {
            logged(p, "event not stored") >= ingest_503
                && logged(p, "store unavailable") >= admin_503
                && logged(p, "store available again") >= 1
        })
        .await;
        assert_eq!(
            logged(p, "event not stored"),
            ingest_503,
            "process {i}: one line per ingest 503"
        );
        assert_eq!(
            logged(p, "store unavailable"),
            admin_503,
            "process {i}: one line per admin 503"
        );
        assert_eq!(
            logged(p, "response failed"),
            0,
            "process {i}: a 503 logged as a failure too"
        );
        let (went, back) = (
            logged(p, "store became unavailable"),
            logged(p, "store available again"),
        );
        assert!(
            went >= 1 && went == back,
            "process {i}: {went} outages logged, {back} recoveries"
        );
        let out_for: Vec<String> = log_lines(p)
            .iter()
            .filter(|l| l["message"] == "store available again")
            .map(|l| format!("{} ms", l["out_for_ms"]))
            .collect();
        summary.push(format!(
            "process {i}: {ingest_503} ingest 503 = {ingest_503} \"event not stored\" lines, {went} \
             outage and {back} recovery lines (out for {})",
            out_for.join(", ")
        ));
    }
    summary.join("; ")
}

fn log_lines(p: &Proc) -> Vec<Value> {
    p.logs
        .lock()
        .unwrap()
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Log lines whose message is `message`.
fn logged(p: &Proc, message: &str) -> usize {
    log_lines(p)
        .iter()
        .filter(|l| l["message"] == message)
        .count()
}
