//! Ordered delivery per key (`ordering_key`): a target that fails at random
//! still receives each key's events one at a time and in ingest order, on
//! both backends, across two processes and through a kill -9, while
//! unrelated keys go out in parallel.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::helpers::*;

const EVENTS: usize = 200;
const KEYS: usize = 10;

/// One request the ordering target got: its key and place in the key's
/// ingest order, when it started and ended, and whether it was answered 2xx.
#[derive(Debug, Clone)]
struct Seen {
    key: String,
    seq: u64,
    started: Instant,
    ended: Instant,
    ok: bool,
}

#[derive(Default)]
struct Log {
    seen: Vec<Seen>,
    in_flight: usize,
    most_in_flight: usize,
    /// Requests of one key in flight at once (should stay 0).
    overlaps: usize,
    keys_in_flight: HashMap<String, usize>,
}

/// A target that fails `fail_rate` of requests at random, taking `delay`
/// over each, and logs what it saw.
struct OrderTarget {
    url: String,
    log: Arc<Mutex<Log>>,
}

#[derive(Clone)]
struct Behaviour {
    log: Arc<Mutex<Log>>,
    fail_rate: f64,
    delay: Duration,
}

impl OrderTarget {
    async fn start(fail_rate: f64, delay: Duration) -> OrderTarget {
        let log = Arc::new(Mutex::new(Log::default()));
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(Behaviour {
                log: log.clone(),
                fail_rate,
                delay,
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        OrderTarget {
            url: format!("http://{addr}/hook"),
            log,
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.log.lock().unwrap().seen.clone()
    }

    fn successes(&self) -> usize {
        self.log
            .lock()
            .unwrap()
            .seen
            .iter()
            .filter(|s| s.ok)
            .count()
    }
}

async fn receive(State(b): State<Behaviour>, body: Bytes) -> StatusCode {
    let v: Value = serde_json::from_slice(&body).unwrap();
    let key = v["data"]["object"]["customer"]
        .as_str()
        .unwrap()
        .to_string();
    let seq = v["data"]["object"]["seq"].as_u64().unwrap();
    let started = Instant::now();
    {
        let mut log = b.log.lock().unwrap();
        log.in_flight += 1;
        log.most_in_flight = log.most_in_flight.max(log.in_flight);
        let same = log.keys_in_flight.entry(key.clone()).or_default();
        *same += 1;
        if *same > 1 {
            log.overlaps += 1;
        }
    }
    tokio::time::sleep(b.delay).await;
    let ok = rand::random::<f64>() >= b.fail_rate;
    let mut log = b.log.lock().unwrap();
    log.in_flight -= 1;
    *log.keys_in_flight.get_mut(&key).unwrap() -= 1;
    log.seen.push(Seen {
        key,
        seq,
        started,
        ended: Instant::now(),
        ok,
    });
    if ok {
        StatusCode::OK
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    }
}

/// The route: Stripe events keyed by their customer, to a target that
/// fails 30 % of requests.
fn ordered_route(url: &str) -> Route {
    Route::new("stripe", "ordered")
        .url(url)
        .max_attempts(100)
        .timeout_ms(1_000)
        .ordering_key(".body.data.object.customer")
}

/// Sends the events one after another (so ingest order is send order):
/// event `i` has key `cus_{i % KEYS}` and is number `i / KEYS` of its key.
async fn send_keyed(client: &reqwest::Client, base: &str, prefix: &str) {
    for i in 0..EVENTS {
        let body = format!(
            "{{\"id\":\"{prefix}{i}\",\"type\":\"customer.updated\",\"data\":{{\"object\":{{\"customer\":\"cus_{}\",\"seq\":{}}}}}}}",
            i % KEYS,
            i / KEYS
        );
        let resp = post_signed(client, base, "stripe", &body, now_secs())
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
}

/// Checks and prints what the target saw: per key, the 2xx answers in
/// ingest order (`repeats_allowed`: a delivery sent again right after its
/// own success, which SPEC allows only when a process died between the
/// answer and its record); none lost; no key ever in flight twice.
fn check_order(target: &OrderTarget, what: &str, repeats_allowed: bool) {
    let seen = target.seen();
    let log = target.log.lock().unwrap();
    let mut per_key: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for s in seen.iter().filter(|s| s.ok) {
        per_key.entry(&s.key).or_default().push(s.seq);
    }
    let mut repeats = 0;
    println!(
        "ordering ({what}): {} requests, {} answered 2xx",
        seen.len(),
        seen.iter().filter(|s| s.ok).count()
    );
    for (key, seqs) in &per_key {
        let mut firsts = seqs.clone();
        firsts.dedup();
        repeats += seqs.len() - firsts.len();
        println!("  {key}: {seqs:?}");
        let expected: Vec<u64> = (0..(EVENTS / KEYS) as u64).collect();
        assert_eq!(
            firsts, expected,
            "{what}: {key}'s deliveries in ingest order, none lost"
        );
    }
    assert_eq!(per_key.len(), KEYS);
    // Requests of one key never overlapped in time.
    let mut by_key: BTreeMap<&str, Vec<&Seen>> = BTreeMap::new();
    for s in &seen {
        by_key.entry(&s.key).or_default().push(s);
    }
    for (key, mut list) in by_key {
        list.sort_by_key(|s| s.started);
        for w in list.windows(2) {
            assert!(
                w[1].started >= w[0].ended,
                "{what}: {key} had two requests in flight at once"
            );
        }
    }
    assert_eq!(log.overlaps, 0, "{what}: a key was in flight twice");
    println!(
        "ordering ({what}): most requests in flight at once {} (over {KEYS} keys), repeats after a crash {repeats}",
        log.most_in_flight
    );
    if !repeats_allowed {
        assert_eq!(repeats, 0, "{what}: a 2xx was sent again");
    }
    assert!(
        log.most_in_flight >= 2,
        "{what}: unrelated keys went out one at a time"
    );
}

async fn ordered_per_key_under_random_failures(backend: Backend) {
    let target = OrderTarget::start(0.3, Duration::from_millis(5)).await;
    let app = spawn_app(&backend, &ordered_route(&target.url).toml()).await;
    let stop = CancellationToken::new();
    let running = tokio::spawn(app.dispatcher.clone().run(stop.clone()));
    let client = reqwest::Client::new();
    send_keyed(&client, &app.base, "evt_ord_").await;
    let store = app.store.clone();
    eventually_within("every delivery delivered", LONG, || outbox_empty(&store)).await;
    check_order(&target, backend.name(), false);
    assert_eq!(target.successes(), EVENTS);
    stop.cancel();
    running.await.unwrap();
    app.shutdown().await;
}

/// How long a run with 30 % failures and backoff may take on a busy machine.
const LONG: Duration = Duration::from_secs(120);

/// Two dispatcher processes on one Postgres; with `kill`, one of them is
/// killed with SIGKILL partway through and its leases expire.
async fn two_processes(kill: bool) {
    let Some(backend) = Backend::postgres() else {
        return;
    };
    let db = TestDb::new(&backend).await;
    let dir = tempfile::tempdir().unwrap();
    let target = OrderTarget::start(0.3, Duration::from_millis(5)).await;
    let path = dir.path().join("hookgate.toml");
    TestConfig::new()
        .database(&db.url)
        .route(&ordered_route(&target.url))
        .write(&path);
    let one = spawn_binary(&path, &[], &[]);
    let mut two = spawn_binary(&path, &["--no-ingest"], &[]);
    let client = reqwest::Client::new();
    let sending = {
        let (client, base) = (client.clone(), one.base());
        tokio::spawn(async move { send_keyed(&client, &base, "evt_ord2_").await })
    };
    if kill {
        eventually_within("a quarter delivered", LONG, || async {
            target.successes() >= EVENTS / 4
        })
        .await;
        two.sigkill();
    }
    sending.await.unwrap();
    let store = connect_store(&db.url).await;
    eventually_within("every delivery delivered", LONG, || outbox_empty(&store)).await;
    let what = if kill {
        "two processes, one killed"
    } else {
        "two processes"
    };
    check_order(&target, what, kill);
    let sent_by = |p: &Proc| p.logs().matches("\"delivery attempt\"").count();
    println!(
        "ordering ({what}): attempts logged by the first process {}, by the second {}",
        sent_by(&one),
        sent_by(&two)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ordered_per_key_across_two_processes() {
    two_processes(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ordered_per_key_through_a_kill_9() {
    two_processes(true).await;
}

/// A key whose first delivery keeps failing holds the rest of its key (and
/// only its key); `GET /targets` shows what waits behind it; cancelling it
/// releases the key, and a dead one does too.
async fn a_stuck_key_is_shown_and_released_by_cancel_or_death(backend: Backend) {
    let target = TestTarget::scripted(Vec::new(), 500).await;
    let route = Route::new("stripe", "ordered")
        .url(&target.url)
        .max_attempts(3)
        .ordering_key(".body.data.object.customer");
    let app = spawn_app(&backend, &route.toml()).await;
    let mut events = Vec::new();
    for (i, key) in ["cus_a", "cus_a", "cus_a", "cus_b"].iter().enumerate() {
        let body = format!(
            "{{\"id\":\"evt_stuck_{i}\",\"type\":\"customer.updated\",\"data\":{{\"object\":{{\"customer\":\"{key}\",\"seq\":{i}}}}}}}"
        );
        let (status, json) = app.ingest("stripe", &body, &[]).await;
        assert_eq!(status, StatusCode::OK, "{json}");
        events.push(json["event_id"].as_str().unwrap().to_string());
    }
    // One step: the heads of both keys go out (and fail); nothing behind them.
    assert_eq!(app.dispatcher.run_once().await.unwrap(), 2);
    let seen: Vec<String> = target.webhook_ids();
    assert_eq!(seen.len(), 2);
    assert!(
        seen.contains(&events[0]) && seen.contains(&events[3]),
        "{seen:?}"
    );
    let (_, targets) = app.admin("GET", "/targets", None).await;
    let blocked = &targets[0]["blocked_keys"];
    assert_eq!(blocked.as_array().unwrap().len(), 1, "{blocked}");
    assert_eq!(blocked[0]["ordering_key"], "cus_a");
    assert_eq!(blocked[0]["waiting"], 2);
    assert_eq!(blocked[0]["head_event_id"], events[0].as_str());

    // Cancelling the head lets the next of its key go.
    let (status, json) = app
        .admin(
            "POST",
            "/deliveries/cancel",
            Some(serde_json::json!({ "event_id": events[0] })),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{json}");
    app.dispatch_until("the second of cus_a is sent", || async {
        target.webhook_ids().contains(&events[1])
    })
    .await;
    // It fails until dead (max_attempts 3), which releases the third.
    app.dispatch_until("the third of cus_a is sent", || async {
        target.webhook_ids().contains(&events[2])
    })
    .await;
    let ids = target.webhook_ids();
    let second = ids.iter().filter(|id| **id == events[1]).count();
    assert_eq!(second, 3, "the second went out until dead: {ids:?}");
    let first_third = ids.iter().position(|id| *id == events[2]).unwrap();
    let last_second = ids.iter().rposition(|id| *id == events[1]).unwrap();
    assert!(
        last_second < first_third,
        "never two of one key at once: {ids:?}"
    );
    assert_eq!(
        ids.iter().filter(|id| **id == events[0]).count(),
        1,
        "a cancelled head is not sent again"
    );
    app.shutdown().await;
}

crate::backend_tests!(
    ordered_per_key_under_random_failures,
    a_stuck_key_is_shown_and_released_by_cancel_or_death,
);
