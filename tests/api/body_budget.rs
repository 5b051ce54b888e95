//! `server.max_inflight_body_bytes`: request bodies being received count
//! against one budget; a request that would pass it gets 503 with
//! `Retry-After` at once (declared length) or when it crosses (chunked),
//! `/healthz` keeps answering, and the budget comes back when requests end.
//! Then the hostile case against the real binary: 1,500 clients
//! each declaring 1,000,000 bytes and sending 999,999, with a 64 MiB budget,
//! and the resident memory it costs, at the peak and after they leave.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

/// A request head for `POST /ingest/stripe`, with `Content-Length` or
/// chunked.
fn head(addr: &str, length: Option<usize>) -> String {
    let framing = match length {
        Some(n) => format!("Content-Length: {n}"),
        None => "Transfer-Encoding: chunked".to_string(),
    };
    format!(
        "POST /ingest/stripe HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{framing}\r\n\r\n"
    )
}

/// The status line and headers of the answer on `stream` (lower-cased).
async fn answer_head(stream: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(
            n > 0,
            "closed before answering: {:?}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got).to_ascii_lowercase()
}

/// Sends `head` with `body` on a new connection and reads the answer's head.
async fn exchange(addr: &str, head: &str, body: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let _ = stream.write_all(body).await;
    answer_head(&mut stream).await
}

fn addr_of(base: &str) -> String {
    base.trim_start_matches("http://").to_string()
}

async fn healthz_ok(base: &str) -> bool {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    client
        .get(format!("{base}/healthz"))
        .send()
        .await
        .is_ok_and(|r| r.status() == 200)
}

/// Two uploads that hold the whole budget: a third request is refused with
/// 503 and `Retry-After` before it sends a byte of body, a chunked one when
/// its first chunk arrives, `/healthz` answers, and once one upload is
/// abandoned the budget it held serves new requests again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_past_the_body_budget_get_503_at_once() {
    let app = spawn_app_configured(
        &Backend::Sqlite,
        TestConfig::new().server_keys(&format!("max_inflight_body_bytes = {}", 2 * MAX_BODY)),
    )
    .await;
    let addr = addr_of(&app.base);
    let mut holders = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        stream
            .write_all(head(&addr, Some(MAX_BODY)).as_bytes())
            .await
            .unwrap();
        stream.write_all(&vec![b' '; 1000]).await.unwrap();
        holders.push(stream);
    }
    // The two shares are taken when their heads are read: poll until a
    // small request is refused.
    let deadline = Instant::now() + Duration::from_secs(30);
    let refused = loop {
        let answer = exchange(&addr, &head(&addr, Some(10)), b"").await;
        if answer.starts_with("http/1.1 503") {
            break answer;
        }
        assert!(Instant::now() < deadline, "never refused: {answer}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(refused.contains("\r\nretry-after: "), "{refused}");
    // A chunked body takes nothing up front: it is refused when its first
    // chunk arrives.
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    stream
        .write_all(format!("{}64\r\n{}\r\n", head(&addr, None), "x".repeat(100)).as_bytes())
        .await
        .unwrap();
    let crossing = answer_head(&mut stream).await;
    assert!(crossing.starts_with("http/1.1 503"), "{crossing}");
    assert!(crossing.contains("\r\nretry-after: "), "{crossing}");
    assert!(
        healthz_ok(&app.base).await,
        "/healthz while the budget is full"
    );

    // One upload leaves: its share comes back and a small request is
    // handled again (401: it is not signed).
    drop(holders.pop());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let answer = exchange(&addr, &head(&addr, Some(2)), b"{}").await;
        if answer.starts_with("http/1.1 401") {
            break;
        }
        assert!(answer.starts_with("http/1.1 503"), "{answer}");
        assert!(Instant::now() < deadline, "the budget did not come back");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let page = app.get("/metrics").await.text().await.unwrap();
    let refusals = page
        .lines()
        .find_map(|l| l.strip_prefix("hookgate_body_budget_refusals_total "))
        .and_then(|v| v.trim().parse::<f64>().ok());
    assert!(refusals.is_some_and(|n| n >= 1.0), "{page}");
    drop(holders);
    app.shutdown().await;
}

/// `VmRSS` and `VmHWM` (peak) of process `pid`, in bytes.
fn rss_of(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| -> u64 {
        let line = status.lines().find(|l| l.starts_with(name)).unwrap();
        line.split_whitespace()
            .nth(1)
            .unwrap()
            .parse::<u64>()
            .unwrap()
            * 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}

const MIB: u64 = 1024 * 1024;

/// The hostile upload against the real binary with a 64 MiB body
/// budget: 1,500 clients each declare 1,000,000 bytes, send 999,999 and
/// wait. Peak resident memory stays under the idle size plus the budget
/// plus a fixed overhead, `/healthz` answers throughout, and after the
/// clients leave the memory goes back to the OS.
///
/// The overhead: hyper reads a body in pieces of up to 80 KiB (its buffer
/// limit) whose allocations the collected body holds, so a body of the
/// budget can take up to about 1.5 times its size while it is received;
/// each of the 1,500 connections costs its socket state and task; and the
/// allocator keeps some slack. The bound is idle + 1.5 x budget + 48 MiB.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_uploads_stay_within_the_memory_budget() {
    const CLIENTS: usize = 1_500;
    const DECLARED: usize = 1_000_000;
    const BUDGET: u64 = 64 * MIB;
    // Each client is a socket here too.
    let _ = rlimit::increase_nofile_limit(4 * CLIENTS as u64);
    let db = TestDb::new(&Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hookgate.toml");
    TestConfig::new()
        .database(&db.url)
        .request_timeout_ms(600_000)
        .max_body_bytes(DECLARED)
        .server_keys(&format!(
            "max_inflight_body_bytes = {BUDGET}\nheader_timeout_ms = 600000\nidle_timeout_ms = 600000"
        ))
        .write(&path);
    let proc = spawn_binary(&path, &[], &[]);
    let pid = proc.child.id();
    let addr = proc.addr.to_string();
    // Warm: one request through every part, then the idle size.
    assert!(healthz_ok(&proc.base()).await);
    let _ = exchange(&addr, &head(&addr, Some(2)), b"{}").await;
    let (idle, _) = rss_of(pid);

    let body: Arc<[u8]> = vec![b' '; DECLARED - 1].into();
    let refused = Arc::new(AtomicUsize::new(0));
    let settled = Arc::new(AtomicUsize::new(0));
    let (leave, left) = tokio::sync::watch::channel(false);
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let (addr, body) = (addr.clone(), body.clone());
        let (refused, settled, mut left) = (refused.clone(), settled.clone(), left.clone());
        clients.push(tokio::spawn(async move {
            let Ok(mut stream) = TcpStream::connect(&addr).await else {
                settled.fetch_add(1, Ordering::SeqCst);
                return;
            };
            let _ = stream
                .write_all(head(&addr, Some(DECLARED)).as_bytes())
                .await;
            // Sent in full, or cut short by a refusal: either way settled.
            let _ = stream.write_all(&body).await;
            let mut first = [0u8; 12];
            tokio::select! {
                read = stream.read(&mut first) => {
                    if matches!(read, Ok(n) if n > 0) && first.starts_with(b"HTTP/1.1 503") {
                        refused.fetch_add(1, Ordering::SeqCst);
                    }
                    settled.fetch_add(1, Ordering::SeqCst);
                }
                _ = tokio::time::sleep(Duration::from_millis(500)) => {
                    // Still waiting for an answer: it holds its upload.
                    settled.fetch_add(1, Ordering::SeqCst);
                    let _ = left.changed().await;
                }
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(300);
    while settled.load(Ordering::SeqCst) < CLIENTS {
        assert!(
            Instant::now() < deadline,
            "clients did not settle: {} of {CLIENTS}",
            settled.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let refused = refused.load(Ordering::SeqCst);
    let holding = CLIENTS - refused;
    // Let the server take in what the holding clients sent: poll until its
    // memory shows at least half of it.
    let held_bytes = (holding as u64).min(BUDGET / DECLARED as u64) * DECLARED as u64;
    let deadline = Instant::now() + Duration::from_secs(60);
    while rss_of(pid).0 < idle + held_bytes / 2 {
        assert!(
            Instant::now() < deadline,
            "the server never took the uploads in: rss {} MiB, idle {} MiB, {holding} holding",
            rss_of(pid).0 / MIB,
            idle / MIB
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        healthz_ok(&proc.base()).await,
        "/healthz during the uploads"
    );
    let (during, _) = rss_of(pid);

    leave.send(true).unwrap();
    for client in clients {
        client.await.unwrap();
    }
    let (_, peak) = rss_of(pid);
    let bound = idle + BUDGET * 3 / 2 + 48 * MIB;
    println!(
        "hostile uploads: {CLIENTS} clients, {refused} refused with 503, {holding} held; rss idle {:.1} MiB, during {:.1} MiB, peak {:.1} MiB (bound {:.1} MiB)",
        idle as f64 / MIB as f64,
        during as f64 / MIB as f64,
        peak as f64 / MIB as f64,
        bound as f64 / MIB as f64
    );
    assert!(refused > 0, "a 64 MiB budget cannot hold {CLIENTS} MB");
    assert!(
        peak <= bound,
        "peak rss {} MiB over {} MiB",
        peak / MIB,
        bound / MIB
    );

    // After they leave, memory goes back to the OS.
    let back = idle + 16 * MIB;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(60);
    loop {
        let (now, _) = rss_of(pid);
        if now <= back {
            println!(
                "rss back to {:.1} MiB {:.1} s after the clients left",
                now as f64 / MIB as f64,
                started.elapsed().as_secs_f64()
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "rss stayed at {} MiB (bound {} MiB)",
            now / MIB,
            back / MIB
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(healthz_ok(&proc.base()).await);
}
