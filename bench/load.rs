//! Ingest load harness: sends signed Stripe events with unique IDs to a
//! running gateway and reports throughput and latency.
//!
//! ```sh
//! cargo run --release &                       # the gateway, shipped config
//! cargo run --release --example load -- --requests 5000 --concurrency 32
//! ```
//!
//! Options: `--url` (default http://127.0.0.1:8080/ingest/stripe),
//! `--secret` (default the shipped development secret), `--requests`,
//! `--concurrency`, `--size` (body bytes, default 1024). Only loopback or
//! your own hosts: the request count and concurrency bound the load.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hookgate::providers::stripe;

struct Args {
    url: String,
    secret: String,
    requests: usize,
    concurrency: usize,
    size: usize,
}

fn parse_args() -> Args {
    let mut args = Args {
        url: "http://127.0.0.1:8080/ingest/stripe".into(),
        secret: "whsec_dev_stripe_secret".into(),
        requests: 2000,
        concurrency: 16,
        size: 1024,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => args.url = value,
            "--secret" => args.secret = value,
            "--requests" => args.requests = value.parse().expect("--requests N"),
            "--concurrency" => args.concurrency = value.parse().expect("--concurrency N"),
            "--size" => args.size = value.parse().expect("--size BYTES"),
            other => panic!("unknown option {other}"),
        }
    }
    args
}

#[tokio::main]
async fn main() {
    let args = Arc::new(parse_args());
    let client = reqwest::Client::new();
    let run = format!("{:08x}", rand::random::<u32>());
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..args.concurrency {
        let (args, client, run, next) = (args.clone(), client.clone(), run.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0usize;
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= args.requests {
                    break;
                }
                let head = format!("{{\"id\":\"evt_load_{run}_{i}\",\"object\":\"event\",\"type\":\"invoice.paid\",\"pad\":\"");
                let pad = args.size.saturating_sub(head.len() + 2);
                let body = format!("{head}{}\"}}", "x".repeat(pad));
                let now = hookgate::ids::now_ms() / 1000;
                let sig = stripe::signature(args.secret.as_bytes(), body.as_bytes(), now);
                let t0 = Instant::now();
                let ok = client
                    .post(&args.url)
                    .header("Content-Type", "application/json")
                    .header("Stripe-Signature", sig)
                    .body(body)
                    .send()
                    .await
                    .map(|r| r.status().as_u16() == 200)
                    .unwrap_or(false);
                latencies.push(t0.elapsed());
                failures += usize::from(!ok);
            }
            (latencies, failures)
        }));
    }
    let mut latencies: Vec<Duration> = Vec::new();
    let mut failures = 0;
    for w in workers {
        let (l, f) = w.await.expect("worker");
        latencies.extend(l);
        failures += f;
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let pct = |p: f64| {
        let i = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[i].as_secs_f64() * 1000.0
    };
    println!("| requests | concurrency | body bytes | req/s | p50 ms | p95 ms | p99 ms | max ms | non-200 |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    println!(
        "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {} |",
        latencies.len(),
        args.concurrency,
        args.size,
        latencies.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.95),
        pct(0.99),
        pct(1.0),
        failures
    );
}
