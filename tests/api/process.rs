//! The real binary: durability across SIGKILL, crash recovery of the
//! outbox, draining on SIGTERM, bounded memory, secrets kept out of logs.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use hookgate::store::Store;

use crate::helpers::*;

struct Setup {
    db: TestDb,
    dir: tempfile::TempDir,
}

impl Setup {
    async fn new(backend: &Backend) -> Setup {
        Setup {
            db: TestDb::new(backend).await,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn start(&self, extra: &str) -> Proc {
        let path = self.dir.path().join("hookgate.toml");
        TestConfig::new()
            .database(&self.db.url)
            .with(extra)
            .write(&path);
        spawn_binary(&path, &[], &[])
    }

    async fn store(&self) -> Store {
        connect_store(&self.db.url).await
    }
}

/// Sends one signed Stripe event; `Some(event_id)` when answered 200.
async fn send(client: &reqwest::Client, base: &str, id: &str, pad: usize) -> Option<String> {
    send_stripe(client, base, id, pad).await.event_id
}

/// Sends `n` events, 8 at a time; returns the acknowledged event IDs.
async fn send_many(
    client: &reqwest::Client,
    base: &str,
    prefix: &str,
    n: usize,
    pad: usize,
) -> HashSet<String> {
    let mut acked = HashSet::new();
    let ids: Vec<String> = (0..n).map(|i| format!("{prefix}{i}")).collect();
    for chunk in ids.chunks(8) {
        let sends = chunk.iter().map(|id| {
            let (client, base, id) = (client.clone(), base.to_string(), id.clone());
            tokio::spawn(async move { send(&client, &base, &id, pad).await })
        });
        for task in sends.collect::<Vec<_>>() {
            acked.extend(task.await.unwrap());
        }
    }
    acked
}

/// Whether the store has no pending delivery left.
async fn outbox_empty(setup: &Setup) -> bool {
    let store = setup.store().await;
    let empty = store
        .backlog()
        .await
        .unwrap()
        .iter()
        .all(|b| b.pending == 0);
    store.close().await;
    empty
}

fn name(backend: &Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres(_) => "postgres",
    }
}

async fn acknowledged_events_survive_sigkill(backend: Backend) {
    let setup = Setup::new(&backend).await;
    let mut proc = setup.start("");
    let client = reqwest::Client::new();
    let mut acked = Vec::new();
    for i in 0..20 {
        acked.push(
            send(&client, &proc.base(), &format!("evt_kill_{i}"), 10)
                .await
                .expect("200"),
        );
    }
    proc.sigkill();
    let proc = setup.start("");
    let store = setup.store().await;
    for id in &acked {
        assert!(
            store.event(id).await.unwrap().is_some(),
            "{id} survived SIGKILL"
        );
    }
    // And the restarted process still knows them as duplicates.
    let again = send(&client, &proc.base(), "evt_kill_0", 10).await;
    assert_eq!(again.as_deref(), Some(acked[0].as_str()));
    drop(proc);
}

async fn outbox_recovers_after_sigkill(backend: Backend) {
    let setup = Setup::new(&backend).await;
    let target = TestTarget::start().await;
    target.set_delay(Duration::from_millis(100));
    let extra = Route::new("stripe", "t")
        .url(&target.url)
        .timeout_ms(1000)
        .max_in_flight(4)
        .toml();
    let mut proc = setup.start(&extra);
    let client = reqwest::Client::new();
    let acked = send_many(&client, &proc.base(), "evt_crash_", 300, 10).await;
    assert_eq!(acked.len(), 300);
    eventually("some deliveries under way", || async {
        target.count() >= 20
    })
    .await;
    proc.sigkill();
    let before_restart = target.count();
    target.set_delay(Duration::ZERO);
    let proc = setup.start(&extra);
    eventually("the outbox drained", || outbox_empty(&setup)).await;
    drop(proc);
    let got: HashSet<String> = target.webhook_ids().into_iter().collect();
    assert!(
        acked.is_subset(&got),
        "every acknowledged event was delivered"
    );
    let mut per_id: HashMap<String, Vec<String>> = HashMap::new();
    for r in target.received() {
        assert_eq!(r.header("webhook-id"), r.header("idempotency-key"));
        per_id
            .entry(r.header("webhook-id").to_string())
            .or_default()
            .push(r.header("x-hookgate-attempt").to_string());
    }
    let repeats: usize = per_id.values().map(|v| v.len() - 1).sum();
    println!(
        "crash recovery ({}): {} events acknowledged, {} received before SIGKILL, {} received in all, {} distinct webhook-ids, {} repeats (each with the same webhook-id)",
        name(&backend),
        acked.len(),
        before_restart,
        target.count(),
        per_id.len(),
        repeats
    );
    assert_eq!(per_id.len(), 300);
    // Only deliveries in flight at the kill can repeat: at most max_in_flight.
    assert!(repeats <= 4, "{repeats} repeats");
}

async fn sigterm_drains_and_loses_nothing(backend: Backend) {
    let setup = Setup::new(&backend).await;
    let target = TestTarget::start().await;
    target.set_delay(Duration::from_millis(300));
    let extra = Route::new("stripe", "t")
        .url(&target.url)
        .timeout_ms(5000)
        .max_in_flight(4)
        .toml();
    let mut proc = setup.start(&extra);
    let client = reqwest::Client::new();
    let acked = send_many(&client, &proc.base(), "evt_term_", 40, 10).await;
    assert_eq!(acked.len(), 40);
    eventually("deliveries in flight", || async { target.count() >= 4 }).await;
    let status = proc.sigterm();
    assert_eq!(status.code(), Some(0), "clean exit; logs: {}", proc.logs());
    assert!(proc.logs().contains("dispatcher stopped"));
    let delivered_before = target.count();
    target.set_delay(Duration::ZERO);
    let proc = setup.start(&extra);
    eventually("the outbox drained after restart", || outbox_empty(&setup)).await;
    drop(proc);
    let got: HashSet<String> = target.webhook_ids().into_iter().collect();
    assert!(acked.is_subset(&got), "all 40 delivered");
    let ids = target.webhook_ids();
    let unique: HashSet<&String> = ids.iter().collect();
    println!(
        "sigterm ({}): {delivered_before} received before exit, {} in all, {} distinct",
        name(&backend),
        ids.len(),
        unique.len()
    );
    assert_eq!(
        ids.len(),
        unique.len(),
        "in-flight deliveries finished before exit: no repeats"
    );
}

async fn secrets_stay_out_of_logs_and_bodies(backend: Backend) {
    let setup = Setup::new(&backend).await;
    let target = TestTarget::start().await;
    let extra = Route::new("gitlab", "t")
        .url(&target.url)
        .signing_secret(TARGET_SIGNING_SECRET)
        .header("Authorization", &format!("Bearer {ADMIN_TOKEN}"))
        .toml();
    let path = setup.dir.path().join("hookgate.toml");
    TestConfig::new()
        .database(&setup.db.url)
        .with(&extra)
        .write(&path);
    let proc = spawn_binary(
        &path,
        &[],
        &[(
            "RUST_LOG",
            "trace,hyper=info,h2=info,reqwest=info,sqlx=info,tokio=info,runtime=info",
        )],
    );
    let client = reqwest::Client::new();
    let mut bodies = Vec::new();
    let body = r#"{"object_kind":"push"}"#;
    let requests: Vec<(&str, Vec<(String, String)>)> = vec![
        (
            "/ingest/gitlab",
            Signer::test_source("gitlab").headers_as(body.as_bytes(), now_secs(), "u-1"),
        ),
        (
            "/ingest/gitlab",
            Signer::with_secret("gitlab", "wrong-token", "").headers_as(
                body.as_bytes(),
                now_secs(),
                "u-2",
            ),
        ),
        // A malformed signature, written by hand on purpose.
        (
            "/ingest/stripe",
            vec![("Stripe-Signature".into(), "t=1,v1=00".into())],
        ),
    ];
    for (path, headers) in requests {
        let mut req = client.post(format!("{}{path}", proc.base())).body(body);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        bodies.push(req.send().await.unwrap().text().await.unwrap());
    }
    eventually("delivered", || async { target.count() == 1 }).await;
    bodies.push(
        client
            .get(format!("{}/metrics", proc.base()))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    let logs = proc.logs();
    assert!(logs.contains("ingest"), "logs were captured");
    for secret in ALL_SECRETS {
        assert!(!logs.contains(secret), "{secret} leaked into logs");
        for body in &bodies {
            assert!(!body.contains(secret), "{secret} leaked into a response");
        }
    }
}

async fn memory_does_not_grow_with_backlog(backend: Backend) {
    let setup = Setup::new(&backend).await;
    // A target that is down for the whole test.
    let extra = Route::new("stripe", "down")
        .url("http://127.0.0.1:9/never")
        .max_attempts(1000)
        .toml();
    let proc = setup.start(&extra);
    let client = reqwest::Client::new();
    let rss = |pid: u32| -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        line.split_whitespace()
            .nth(1)
            .unwrap()
            .parse::<u64>()
            .unwrap()
            / 1024
    };
    let pid = proc.child.id();
    // 16 KiB bodies: a backlog held in memory would show in megabytes.
    assert_eq!(
        send_many(&client, &proc.base(), "evt_mem_a", 500, 16 * 1024)
            .await
            .len(),
        500
    );
    let at_500 = rss(pid);
    assert_eq!(
        send_many(&client, &proc.base(), "evt_mem_b", 2500, 16 * 1024)
            .await
            .len(),
        2500
    );
    let at_3000 = rss(pid);
    println!("memory ({}): RSS {at_500} MiB with 500 pending, {at_3000} MiB with 3000 pending (40 MiB of bodies added)", name(&backend));
    assert!(
        at_3000 < at_500 + 30,
        "RSS grew from {at_500} to {at_3000} MiB"
    );
}

crate::backend_tests!(
    acknowledged_events_survive_sigkill,
    outbox_recovers_after_sigkill,
    sigterm_drains_and_loses_nothing,
    secrets_stay_out_of_logs_and_bodies,
    memory_does_not_grow_with_backlog,
);
