//! Hostile input and HTTP edges: slow and idle connections, the
//! file-descriptor limit, early 413, undeliverable IDs and types, numeric
//! IDs, timestamp extremes, the JSON error shape of every answer, the admin
//! scheme, allow-lists, secrets files and redaction.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

/// The address part of `http://127.0.0.1:1234`.
fn addr_of(base: &str) -> String {
    base.trim_start_matches("http://").to_string()
}

/// An answer read off a raw socket.
#[derive(Debug)]
struct RawAnswer {
    /// Everything received, for "no 100 Continue came first" checks.
    raw: String,
    status: u16,
    head: String,
    body: String,
}

impl RawAnswer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("JSON body, got {:?}", self.raw))
    }
}

/// Reads one answer (head, then `content-length` bytes), or what came
/// before the server closed; panics after 30 s.
async fn read_answer(stream: &mut TcpStream) -> RawAnswer {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let head = &text[..end];
            let len = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap())
                })
                .unwrap_or(0);
            if head.starts_with("HTTP/1.1 1") {
                // An interim answer: keep it in `raw`, read on.
            } else if buf.len() >= end + 4 + len {
                return RawAnswer {
                    raw: text.clone(),
                    status: head[9..12].parse().unwrap(),
                    head: head.to_string(),
                    body: text[end + 4..end + 4 + len].to_string(),
                };
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "no complete answer; got {:?}", text);
        match tokio::time::timeout(left, stream.read(&mut chunk)).await {
            Ok(Ok(0)) => panic!("closed before a complete answer; got {text:?}"),
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
            Ok(Err(e)) => panic!("read failed: {e}; got {text:?}"),
            Err(_) => panic!("no complete answer within 30 s; got {text:?}"),
        }
    }
}

/// Sends `bytes` on a new connection and reads the answer.
async fn exchange(base: &str, bytes: &[u8]) -> RawAnswer {
    let mut stream = TcpStream::connect(addr_of(base)).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    read_answer(&mut stream).await
}

fn assert_json_error(answer: &RawAnswer, status: u16, code: &str) {
    assert_eq!(answer.status, status, "{:?}", answer.raw);
    assert!(
        answer
            .head
            .to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{:?}",
        answer.raw
    );
    let body = answer.json();
    assert_eq!(body["error"], code, "{body}");
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
}

/// Waits until the server closes `stream` (EOF or reset); what it said
/// before closing is returned. `None` if still open at the deadline.
async fn closed_by_server(
    stream: &mut tokio::net::tcp::OwnedReadHalf,
    deadline: Instant,
) -> Option<Vec<u8>> {
    let mut said = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(said),
            Ok(Ok(n)) => said.extend_from_slice(&chunk[..n]),
            Err(_) => return None,
        }
    }
}

fn median_and_max(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let median = samples.get(samples.len() / 2).copied().unwrap_or_default();
    (median, samples.last().copied().unwrap_or_default())
}

/// GETs /healthz on a fresh connection; its latency when answered 200.
async fn healthz_latency(base: &str) -> Option<Duration> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let started = Instant::now();
    let resp = client.get(format!("{base}/healthz")).send().await.ok()?;
    (resp.status() == 200).then(|| started.elapsed())
}

/// Slow-loris: a few hundred connections trickle a request head one byte
/// at a time. Each is closed at `header_timeout_ms` (with a JSON 408), and
/// /healthz answers all along.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_header_senders_are_cut_at_the_header_timeout() {
    const CONNECTIONS: usize = 300;
    let app = spawn_app_configured(
        &Backend::Sqlite,
        TestConfig::new().server_keys("header_timeout_ms = 1000\nidle_timeout_ms = 60000"),
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let stream = TcpStream::connect(addr_of(&app.base)).await.unwrap();
        tasks.push(tokio::spawn(async move {
            let (mut rx, mut tx) = stream.into_split();
            let trickle = async move {
                let head = b"POST /ingest/stripe HTTP/1.1\r\nHost: x\r\nX-Slow: ";
                for byte in head.iter().chain(std::iter::repeat(&b'a')) {
                    if tx.write_all(&[*byte]).await.is_err() {
                        break;
                    }
                    // The client's pace, not a wait for a result.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            };
            tokio::select! {
                said = closed_by_server(&mut rx, deadline) => said,
                _ = trickle => closed_by_server(&mut rx, deadline).await,
            }
        }));
    }
    let mut latencies = Vec::new();
    while tasks.iter().any(|t| !t.is_finished()) && Instant::now() < deadline {
        latencies.push(
            healthz_latency(&app.base)
                .await
                .expect("/healthz answers meanwhile"),
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut closed = 0;
    let mut answered_408 = 0;
    for task in tasks {
        if let Some(said) = task.await.unwrap() {
            closed += 1;
            let text = String::from_utf8_lossy(&said);
            if text.starts_with("HTTP/1.1 408") && text.contains("\"request_timeout\"") {
                answered_408 += 1;
            }
        }
    }
    let (median, max) = median_and_max(latencies.clone());
    println!(
        "slow-loris: {CONNECTIONS} connections opened, {closed} closed by the server ({answered_408} with a JSON 408); /healthz answered {} times meanwhile, median {:.1} ms, max {:.1} ms",
        latencies.len(),
        median.as_secs_f64() * 1000.0,
        max.as_secs_f64() * 1000.0
    );
    assert_eq!(closed, CONNECTIONS, "every slow connection was closed");
    assert!(answered_408 > 0, "the 408 has the JSON error shape");
    assert!(!latencies.is_empty(), "/healthz was asked meanwhile");
    app.shutdown().await;
}

/// Idle keep-alive connections are closed at `idle_timeout_ms`, even with
/// a much longer header timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_keep_alive_connections_are_closed() {
    const CONNECTIONS: usize = 200;
    let app = spawn_app_configured(
        &Backend::Sqlite,
        TestConfig::new().server_keys("header_timeout_ms = 60000\nidle_timeout_ms = 500"),
    )
    .await;
    let mut streams = Vec::new();
    for _ in 0..CONNECTIONS {
        let mut stream = TcpStream::connect(addr_of(&app.base)).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let answer = read_answer(&mut stream).await;
        assert_eq!(answer.status, 200);
        streams.push(stream);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut closed = 0;
    for stream in streams {
        let (mut rx, _tx) = stream.into_split();
        if closed_by_server(&mut rx, deadline).await.is_some() {
            closed += 1;
        }
    }
    println!("idle keep-alive: {CONNECTIONS} connections idle, {closed} closed by the server");
    assert_eq!(closed, CONNECTIONS);
    app.shutdown().await;
}

/// At `max_connections`, the connection that waited longest for a request
/// gives way: silent connections cannot lock out a new client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_server_sheds_the_longest_waiting_connection() {
    let app = spawn_app_configured(
        &Backend::Sqlite,
        TestConfig::new().server_keys(
            "header_timeout_ms = 60000\nidle_timeout_ms = 60000\nmax_connections = 20",
        ),
    )
    .await;
    let mut silent = Vec::new();
    for _ in 0..20 {
        silent.push(TcpStream::connect(addr_of(&app.base)).await.unwrap());
    }
    assert!(
        healthz_latency(&app.base).await.is_some(),
        "a newcomer is served"
    );
    // The first one accepted is the one that has waited longest.
    let (mut first, _tx) = silent.remove(0).into_split();
    let said = closed_by_server(&mut first, Instant::now() + Duration::from_secs(30))
        .await
        .expect("the longest-waiting silent connection was closed");
    assert!(String::from_utf8_lossy(&said).starts_with("HTTP/1.1 408"));
    app.shutdown().await;
}

/// The real binary under `prlimit --nofile=256:256` with 240 connections
/// open: /healthz still answers, and the log says the connection cap was
/// lowered to fit the limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_answers_at_the_open_file_limit() {
    const CONNECTIONS: usize = 240;
    let db = TestDb::new(&Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hookgate.toml");
    TestConfig::new()
        .database(&db.url)
        .server_keys("header_timeout_ms = 60000\nidle_timeout_ms = 60000")
        .write(&path);
    let proc = spawn_binary_via(&["prlimit", "--nofile=256:256"], &path, &[], &[]);
    let mut held = Vec::new();
    for _ in 0..CONNECTIONS {
        let mut stream = TcpStream::connect(proc.addr).await.unwrap();
        // Half a head each: they all wait in the header phase.
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\n")
            .await
            .unwrap();
        held.push(stream);
    }
    let started = Instant::now();
    let mut latency = None;
    while latency.is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "/healthz did not answer; logs: {}",
            proc.logs()
        );
        latency = healthz_latency(&proc.base()).await;
    }
    let deadline = Instant::now() + Duration::from_millis(200);
    let mut closed = 0;
    for stream in held {
        let (mut rx, _tx) = stream.into_split();
        if closed_by_server(&mut rx, deadline).await.is_some() {
            closed += 1;
        }
    }
    println!(
        "open-file limit 256: {CONNECTIONS} connections held, /healthz answered after {:.1} ms, {closed} held connections closed to make room",
        started.elapsed().as_secs_f64() * 1000.0
    );
    assert!(
        proc.logs().contains("lowered to fit the open-file limit"),
        "{}",
        proc.logs()
    );
}

async fn early_413_for_a_declared_length(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    for expect in ["", "Expect: 100-continue\r\n"] {
        let request = format!(
            "POST /ingest/stripe HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2000000000\r\n{expect}\r\n"
        );
        let answer = exchange(&app.base, request.as_bytes()).await;
        assert!(
            answer.raw.starts_with("HTTP/1.1 413"),
            "413 first, no 100 Continue ({expect:?}): {:?}",
            answer.raw
        );
        assert_json_error(&answer, 413, "payload_too_large");
    }
    app.shutdown().await;
}

async fn chunked_bodies_are_cut_at_the_limit(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    let mut stream = TcpStream::connect(addr_of(&app.base)).await.unwrap();
    stream
        .write_all(b"POST /ingest/stripe HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        .await
        .unwrap();
    let chunk = format!("4000\r\n{}\r\n", "x".repeat(0x4000));
    // 80 KiB against a 64 KiB limit, and the body never ends: the answer
    // must come without waiting for the rest.
    for _ in 0..5 {
        stream.write_all(chunk.as_bytes()).await.unwrap();
    }
    let answer = read_answer(&mut stream).await;
    assert_json_error(&answer, 413, "payload_too_large");
    app.shutdown().await;
}

async fn compressed_bodies_get_415(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    let body = stripe_event("evt_gz", "invoice.paid");
    let (status, json) = app
        .ingest("stripe", &body, &[("Content-Encoding", "gzip")])
        .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{json}");
    assert_eq!(json["error"], "unsupported_media_type");
    assert!(json["detail"].as_str().unwrap().contains("uncompressed"));
    app.shutdown().await;
}

async fn undeliverable_ids_and_types_are_refused(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    let refused = [
        (
            json!({"id": "evt_nl", "type": "invoice.paid\nX-Injected: 1"}),
            "event type",
            "U+000A",
        ),
        (
            json!({"id": "evt_\u{0}nul", "type": "invoice.paid"}),
            "provider event ID",
            "U+0000",
        ),
        (
            json!({"id": "evt_cr\r", "type": "invoice.paid"}),
            "provider event ID",
            "U+000D",
        ),
        (
            json!({"id": "e".repeat(513), "type": "invoice.paid"}),
            "provider event ID",
            "512",
        ),
        (
            json!({"id": "e".repeat(60_000), "type": "invoice.paid"}),
            "provider event ID",
            "512",
        ),
        (
            json!({"id": "evt_long_type", "type": "t".repeat(257)}),
            "event type",
            "256",
        ),
    ];
    for (body, field, hint) in &refused {
        let (status, json) = app.ingest("stripe", &body.to_string(), &[]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{json}");
        assert_eq!(json["error"], "bad_request");
        let detail = json["detail"].as_str().unwrap();
        assert!(detail.contains(field) && detail.contains(hint), "{detail}");
        assert!(detail.len() < 200, "the value is not echoed: {detail}");
    }
    nothing_stored(app).await;
}

async fn a_header_borne_id_is_held_to_the_same_rule(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    let body = r#"{"zen":"ok"}"#;
    let mut headers =
        app.signer("github")
            .headers_as(body.as_bytes(), now_secs(), &"d".repeat(600));
    headers.push(("X-GitHub-Event".to_string(), "ping".to_string()));
    let (status, json, _) = app.post_raw("/ingest/github", body, &headers).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{json}");
    assert!(json["detail"]
        .as_str()
        .unwrap()
        .contains("provider event ID"));
    nothing_stored(app).await;
}

async fn ids_and_types_at_the_limits_are_accepted_and_delivered(backend: Backend) {
    let target = TestTarget::start().await;
    let app = spawn_app(&backend, &Route::new("stripe", "t").url(&target.url).toml()).await;
    let id = "e".repeat(512);
    let (status, json) = app
        .ingest(
            "stripe",
            &json!({"id": id, "type": "t".repeat(256)}).to_string(),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{json}");
    app.dispatch_until("the 512-byte ID delivered", || async {
        target.count() == 1
    })
    .await;
    assert_eq!(
        target.received()[0].header("x-hookgate-provider-event-id"),
        id
    );
    let (_, events) = app.admin("GET", "/events", None).await;
    assert_eq!(events["items"].as_array().unwrap().len(), 1);
    app.shutdown().await;
}

async fn numeric_ids_keep_their_exact_text(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    let first = r#"{"id": 123456789012345678901234567890, "type": "invoice.paid"}"#;
    let second = r#"{"id": 123456789012345678901234567891, "type": "invoice.paid"}"#;
    let (status, a) = app.ingest("stripe", first, &[]).await;
    assert_eq!(status, StatusCode::OK, "{a}");
    assert_eq!(a["provider_event_id"], "123456789012345678901234567890");
    let (status, b) = app.ingest("stripe", second, &[]).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a different ID, not a conflict: {b}"
    );
    assert_eq!(b["provider_event_id"], "123456789012345678901234567891");
    assert_eq!(b["duplicate"], false);
    // `42` and `"42"` are one ID (its text); `42.0` is another.
    let (status, n) = app
        .ingest("stripe", r#"{"id": 42, "type": "a.b"}"#, &[])
        .await;
    assert_eq!(
        (status, n["provider_event_id"].clone()),
        (StatusCode::OK, json!("42"))
    );
    let (status, s) = app
        .ingest("stripe", r#"{"id": "42", "type": "a.b"}"#, &[])
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "same ID, different body: {s}");
    let (status, d) = app
        .ingest("stripe", r#"{"id": 42, "type": "a.b"}"#, &[])
        .await;
    assert_eq!(
        (status, d["duplicate"].clone()),
        (StatusCode::OK, json!(true))
    );
    let (status, f) = app
        .ingest("stripe", r#"{"id": 42.0, "type": "a.b"}"#, &[])
        .await;
    assert_eq!(
        (status, f["provider_event_id"].clone()),
        (StatusCode::OK, json!("42.0"))
    );
    app.shutdown().await;
}

/// Asserts nothing was stored, then stops the app.
async fn nothing_stored(app: TestApp) {
    let (_, events) = app.admin("GET", "/events", None).await;
    assert!(events["items"].as_array().unwrap().is_empty());
    app.shutdown().await;
}

async fn stripe_timestamps_at_and_past_i64_min_are_refused(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    let body = stripe_event("evt_ts_min", "invoice.paid");
    // Stripe refuses only stale timestamps; i64::MIN is the stalest.
    let signed = at_any_second::stripe(body.as_bytes(), i64::MIN);
    let (status, json, _) = app.post_raw("/ingest/stripe", body.clone(), &signed).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{json}");
    // Hand-written: a timestamp no i64 holds cannot come from the signer.
    let out_of_range = format!("t=-9223372036854775809,v1={}", hex::encode([0u8; 32]));
    let (status, _, _) = app
        .post_raw(
            "/ingest/stripe",
            body,
            &[("Stripe-Signature".into(), out_of_range)],
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    nothing_stored(app).await;
}

async fn standard_webhooks_timestamps_at_the_i64_extremes_are_refused(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    let svix_body = r#"{"type":"user.created"}"#.to_string();
    for ts in [i64::MIN, i64::MAX] {
        let headers = at_any_second::svix(svix_body.as_bytes(), ts, &format!("msg_{ts}"));
        let (status, json, _) = app
            .post_raw("/ingest/svix", svix_body.clone(), &headers)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "svix at {ts}: {json}");
    }
    nothing_stored(app).await;
}

async fn slack_timestamps_at_the_i64_extremes_are_refused(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    let slack_body = r#"{"type":"event_callback","event_id":"Ev1","event":{"type":"app_mention"}}"#;
    for ts in [i64::MIN, i64::MAX] {
        let headers = at_any_second::slack(slack_body.as_bytes(), ts);
        let (status, json, _) = app.post_raw("/ingest/slack", slack_body, &headers).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "slack at {ts}: {json}");
    }
    nothing_stored(app).await;
}

async fn allow_ips_and_trusted_proxies(backend: Backend) {
    let extra = format!(
        "\n[[sources]]\nname = \"locked\"\nprovider = \"github\"\nsecrets = [\"{GITHUB_SECRET}\"]\nallow_ips = [\"10.0.0.0/8\"]\n"
    );
    let app = spawn_app_configured(
        &backend,
        TestConfig::new()
            .server_keys("trusted_proxies = [\"127.0.0.1/32\"]")
            .with(&extra),
    )
    .await;
    let body = r#"{"zen":"ok"}"#;
    let send = |delivery: &'static str, xff: Option<&'static str>| {
        let app = &app;
        async move {
            let mut extra = vec![("X-GitHub-Event", "ping"), ("X-GitHub-Delivery", delivery)];
            if let Some(xff) = xff {
                extra.push(("X-Forwarded-For", xff));
            }
            app.ingest("locked", body, &extra).await
        }
    };
    let (status, json) = send("d-direct", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{json}");
    assert_eq!(json["error"], "forbidden");
    let (status, json) = send("d-allowed", Some("10.1.2.3")).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let (status, json) = send("d-forged", Some("10.1.2.3, 203.0.113.9")).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the entry our proxy wrote decides: {json}"
    );
    let (status, _) = send("d-open", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Sources without allow_ips take anyone.
    let (status, _) = app
        .ingest(
            "github",
            body,
            &[("X-GitHub-Event", "ping"), ("X-GitHub-Delivery", "d-any")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    app.shutdown().await;
}

async fn secrets_come_from_a_file(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("filed.secrets");
    std::fs::write(&file, "# rotated in March\n\nfile-secret-93a1\n").unwrap();
    let extra = format!(
        "\n[[sources]]\nname = \"filed\"\nprovider = \"github\"\nsecrets_file = \"{}\"\n",
        file.display()
    );
    let app = spawn_app(&backend, &extra).await;
    let source = app.config.source("filed").unwrap();
    assert_eq!(source.secrets.len(), 1);
    assert_eq!(source.secrets[0].expose(), "file-secret-93a1");
    let body = r#"{"zen":"ok"}"#;
    let (status, json) = app
        .ingest(
            "filed",
            body,
            &[("X-GitHub-Event", "ping"), ("X-GitHub-Delivery", "d-f")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let mut headers = Signer::with_secret("github", "some-other-secret", "").headers_as(
        body.as_bytes(),
        now_secs(),
        "d-g",
    );
    headers.push(("X-GitHub-Event".to_string(), "ping".to_string()));
    let (status, _, _) = app.post_raw("/ingest/filed", body, &headers).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app.shutdown().await;
}

async fn admin_scheme_is_case_insensitive(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    for (value, expected) in [
        (format!("bearer {ADMIN_TOKEN}"), 200),
        (format!("BEARER {ADMIN_TOKEN}"), 200),
        (format!("Bearer  {ADMIN_TOKEN} "), 200),
        (format!("Basic {ADMIN_TOKEN}"), 401),
        ("bearer wrong-token".to_string(), 401),
        ("bearer".to_string(), 401),
    ] {
        let resp = app
            .client
            .get(format!("{}/admin/v1/events", app.base))
            .header("Authorization", &value)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), expected, "{value:?}");
    }
    app.shutdown().await;
}

/// Every error answer has the JSON shape: from handlers, from axum (405,
/// path decoding), from timeouts (408, request and head), and from hyper's
/// own parser (400, 431).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_answer_is_json() {
    let db = TestDb::new(&Backend::Sqlite).await;
    let config = TestConfig::new()
        .server_keys("header_timeout_ms = 1000")
        .request_timeout_ms(1000);
    let app = spawn_app_with(db, config, STEPPED).await;
    let base = app.base.clone();
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "unknown route",
            b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            404,
            "not_found",
        ),
        (
            "wrong method",
            b"GET /ingest/stripe HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            405,
            "method_not_allowed",
        ),
        (
            "invalid UTF-8 in the path",
            b"POST /ingest/%FF HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".to_vec(),
            400,
            "bad_request",
        ),
        (
            "body too slow",
            b"POST /ingest/stripe HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{}".to_vec(),
            408,
            "request_timeout",
        ),
        (
            "head too slow",
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n".to_vec(),
            408,
            "request_timeout",
        ),
        (
            "long target",
            format!(
                "GET /healthz?q={} HTTP/1.1\r\nHost: x\r\n\r\n",
                "a".repeat(10_000)
            )
            .into_bytes(),
            414,
            "uri_too_long",
        ),
        (
            "malformed header",
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n".to_vec(),
            400,
            "bad_request",
        ),
        (
            "too many headers",
            format!(
                "GET /healthz HTTP/1.1\r\n{}\r\n",
                (0..150)
                    .map(|i| format!("X-H{i}: v\r\n"))
                    .collect::<String>()
            )
            .into_bytes(),
            431,
            "header_fields_too_large",
        ),
        (
            "huge header",
            format!(
                "GET /healthz HTTP/1.1\r\nX-Big: {}\r\n\r\n",
                "b".repeat(70_000)
            )
            .into_bytes(),
            431,
            "header_fields_too_large",
        ),
    ];
    for (what, request, status, code) in cases {
        let answer = exchange(&base, &request).await;
        assert_eq!(answer.status, status, "{what}: {:?}", answer.raw);
        assert_json_error(&answer, status, code);
    }
    let answer = exchange(&base, b"GET /ingest/stripe HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(
        answer.head.to_ascii_lowercase().contains("allow: post"),
        "{:?}",
        answer.raw
    );
    // A path parameter of the admin API that is not UTF-8.
    let answer = exchange(
        &base,
        format!("GET /admin/v1/events/%FF HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\n\r\n").as_bytes(),
    )
    .await;
    assert_eq!(answer.status, 400, "{:?}", answer.raw);
    assert_json_error(&answer, 400, "bad_request");
    app.shutdown().await;
}

fn hookgate_cli(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_hookgate"))
        .args(args)
        .env_remove("HOOKGATE_CONFIG")
        .env_remove("HOOKGATE_DATABASE_URL")
        .env_remove("HOOKGATE_LISTEN")
        .env_remove("HOOKGATE_ADMIN_TOKEN")
        .output()
        .expect("run hookgate")
}

#[test]
fn check_config_redacts_target_urls() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(
        &path,
        "[[targets]]\nname = \"t\"\nurl = \"https://deploy:hunter2@hooks.example.com:8443/in?token=s3cr3tq#frag\"\n",
    )
    .unwrap();
    let out = hookgate_cli(&["check-config", "-c", path.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("https://hooks.example.com:8443/in"),
        "{stdout}"
    );
    for secret in ["hunter2", "deploy", "s3cr3tq", "frag"] {
        assert!(!stdout.contains(secret), "{secret} printed: {stdout}");
    }
    // An invalid URL is named without its secrets too.
    std::fs::write(
        &path,
        "[[targets]]\nname = \"t\"\nurl = \"ftp://deploy:hunter2@hooks.example.com/in?token=s3cr3tq\"\n",
    )
    .unwrap();
    let out = hookgate_cli(&["check-config", "-c", path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("targets[0].url"), "{stderr}");
    for secret in ["hunter2", "s3cr3tq"] {
        assert!(!stderr.contains(secret), "{secret} printed: {stderr}");
    }
}

/// The shipped development secrets are named at start (and by
/// `check-config`) until they are replaced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shipped_development_values_are_warned_about() {
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/hookgate.toml");
    let out = hookgate_cli(&["check-config", "-c", shipped]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    for place in [
        "admin.token",
        "(stripe)",
        "(github)",
        "(svix)",
        "(acme)",
        "targets[0].signing_secret (example)",
    ] {
        assert!(stderr.contains(place), "{place} in {stderr}");
    }
    let db = TestDb::new(&Backend::Sqlite).await;
    let proc = spawn_binary(
        std::path::Path::new(shipped),
        &["--no-dispatcher"],
        &[
            ("HOOKGATE_LISTEN", "127.0.0.1:0"),
            ("HOOKGATE_DATABASE_URL", &db.url),
            ("HOOKGATE_ADMIN_TOKEN", "an-operator-chosen-token-5d1e"),
        ],
    );
    let logs = proc.logs();
    assert!(logs.contains("sources[0].secrets (stripe)"), "{logs}");
    assert!(logs.contains("development value"), "{logs}");
    assert!(
        !logs.contains("admin.token"),
        "a replaced token is not named: {logs}"
    );
}

crate::backend_tests!(
    early_413_for_a_declared_length,
    chunked_bodies_are_cut_at_the_limit,
    compressed_bodies_get_415,
    undeliverable_ids_and_types_are_refused,
    a_header_borne_id_is_held_to_the_same_rule,
    ids_and_types_at_the_limits_are_accepted_and_delivered,
    numeric_ids_keep_their_exact_text,
    stripe_timestamps_at_and_past_i64_min_are_refused,
    standard_webhooks_timestamps_at_the_i64_extremes_are_refused,
    slack_timestamps_at_the_i64_extremes_are_refused,
    allow_ips_and_trusted_proxies,
    secrets_come_from_a_file,
    admin_scheme_is_case_insensitive,
);
