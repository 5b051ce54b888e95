//! `/metrics` by Prometheus's rules, checked with Prometheus's own tools:
//! `promtool check metrics` on the page of a fresh process and after
//! traffic, every source's and target's counters present at 0 from the
//! start, and a real Prometheus server evaluating the shipped alert rules
//! fires on the first dead delivery after a restart.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::*;
use crate::tools::prometheus_tool;

/// The alert rules README shows, shipped as a file Prometheus loads.
const ALERT_RULES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/prometheus-alerts.yml");

/// The ingest outcomes SPEC names; each must be there at 0 for every source.
const INGEST_OUTCOMES: &[&str] = &[
    "accepted",
    "duplicate",
    "conflict",
    "unauthorized",
    "bad_request",
    "unavailable",
];
const DELIVERY_OUTCOMES: &[&str] = &["delivered", "retry", "dead"];

/// The value of the series written exactly as `series` (name and labels).
fn sample(page: &str, series: &str) -> Option<f64> {
    page.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

/// `promtool check metrics` on `page`: its complaints, if any.
fn promtool_problems(promtool: &Path, page: &str) -> Option<String> {
    use std::io::Write;
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run promtool");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(page.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (!out.status.success()).then(|| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

async fn scrape(client: &reqwest::Client, base: &str) -> String {
    let resp = client.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    resp.text().await.unwrap()
}

/// A fresh process's page passes promtool and already holds every
/// source's and target's counters at 0, the build info and the process
/// metrics; after traffic it still passes and counts what happened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_page_passes_promtool_and_counts_from_zero() {
    let Some(promtool) = prometheus_tool("promtool") else {
        return;
    };
    let target = TestTarget::start().await;
    let db = TestDb::new(&Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hookgate.toml");
    let config = TestConfig::new()
        .database(&db.url)
        .route(&Route::new("stripe", "ops").url(&target.url));
    config.write(&path);
    let sources: Vec<String> = parse_config(&config.toml())
        .sources
        .iter()
        .map(|s| s.name.clone())
        .collect();
    let proc = spawn_binary(&path, &[], &[]);
    let client = reqwest::Client::new();

    let page = scrape(&client, &proc.base()).await;
    if let Some(problems) = promtool_problems(&promtool, &page) {
        panic!("promtool refuses the page at start:\n{problems}\n{page}");
    }
    for source in &sources {
        for outcome in INGEST_OUTCOMES {
            let series = format!(
                "hookgate_ingest_requests_total{{source=\"{source}\",outcome=\"{outcome}\"}}"
            );
            assert_eq!(
                sample(&page, &series),
                Some(0.0),
                "{series} at start:\n{page}"
            );
        }
    }
    for outcome in DELIVERY_OUTCOMES {
        let series = format!("hookgate_deliveries_total{{target=\"ops\",outcome=\"{outcome}\"}}");
        assert_eq!(
            sample(&page, &series),
            Some(0.0),
            "{series} at start:\n{page}"
        );
    }
    let build = format!(
        "hookgate_build_info{{version=\"{}\"}}",
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(sample(&page, &build), Some(1.0), "{page}");
    for name in ["process_resident_memory_bytes", "process_open_fds"] {
        assert!(
            sample(&page, name).is_some_and(|v| v > 0.0),
            "{name}:\n{page}"
        );
    }
    assert!(
        sample(&page, "process_cpu_seconds_total").is_some(),
        "{page}"
    );

    // Traffic: one accepted event, delivered; one refused signature.
    let body = stripe_event("evt_promtool_1", "invoice.paid");
    let answer = post_signed(&client, &proc.base(), "stripe", &body, now_secs())
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let refused = client
        .post(format!("{}/ingest/stripe", proc.base()))
        .header("Stripe-Signature", "t=1,v1=00")
        .body(stripe_event("evt_promtool_2", "invoice.paid"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let delivered = "hookgate_deliveries_total{target=\"ops\",outcome=\"delivered\"}";
    let deadline = Instant::now() + Duration::from_secs(30);
    let page = loop {
        let page = scrape(&client, &proc.base()).await;
        if sample(&page, delivered) == Some(1.0) {
            break page;
        }
        assert!(Instant::now() < deadline, "no delivery counted:\n{page}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    if let Some(problems) = promtool_problems(&promtool, &page) {
        panic!("promtool refuses the page after traffic:\n{problems}\n{page}");
    }
    for (outcome, count) in [("accepted", 1.0), ("unauthorized", 1.0), ("duplicate", 0.0)] {
        let series =
            format!("hookgate_ingest_requests_total{{source=\"stripe\",outcome=\"{outcome}\"}}");
        assert_eq!(sample(&page, &series), Some(count), "{series}:\n{page}");
    }
    assert!(page.contains("hookgate_ingest_duration_seconds_bucket{source=\"stripe\""));
    assert_eq!(
        sample(&page, "hookgate_outbox_pending{target=\"ops\"}"),
        Some(0.0)
    );
}

/// A port nothing listens on right now (bound, read, released).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A Prometheus server on loopback with its own config and data folder,
/// killed when dropped.
struct Prometheus {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Prometheus {
    async fn start(binary: &Path, dir: &Path, scrape: &str, rules: &str) -> Prometheus {
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
                 rule_files: ['{rules}']\n\
                 scrape_configs:\n  - job_name: hookgate\n    static_configs:\n      - targets: ['{scrape}']\n"
            ),
        )
        .unwrap();
        let port = free_port();
        let log = dir.join("prometheus.log");
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start prometheus");
        let prometheus = Prometheus {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = client
                .get(format!("{}/-/ready", prometheus.base))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200);
            if ready {
                return prometheus;
            }
            assert!(
                Instant::now() < deadline,
                "prometheus did not become ready: {}",
                prometheus.logs()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The `data` of an API call.
    async fn api(&self, path: &str) -> Value {
        let text = reqwest::get(format!("{}/api/v1/{path}", self.base))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let body: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(body["status"], "success", "{body}");
        body["data"].clone()
    }

    /// Waits until Prometheus holds a sample of `series` taken after `since`
    /// (seconds since the epoch), and returns its value.
    async fn scraped_after(&self, series: &str, since: f64) -> f64 {
        let query = format!("query=timestamp({series})");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let data = self.api(&format!("query?{}", encode(&query))).await;
            let taken = data["result"][0]["value"][1]
                .as_str()
                .and_then(|v| v.parse::<f64>().ok());
            if taken.is_some_and(|t| t >= since) {
                let data = self
                    .api(&format!("query?{}", encode(&format!("query={series}"))))
                    .await;
                return data["result"][0]["value"][1]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap();
            }
            assert!(
                Instant::now() < deadline,
                "prometheus did not scrape {series} after {since}: {data}\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `key=value` with the value percent-encoded for a query string.
fn encode(pair: &str) -> String {
    let (key, value) = pair.split_once('=').unwrap();
    let encoded: String = value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("{key}={encoded}")
}

fn epoch_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// The shipped rules are valid, and a real Prometheus scraping hookgate
/// fires `HookgateDeadDeliveries` on the first dead delivery after a
/// restart: the counter exists at 0 before it, so `increase()` sees 0 -> 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dead_delivery_alert_fires_after_a_restart() {
    let (Some(promtool), Some(prometheus)) =
        (prometheus_tool("promtool"), prometheus_tool("prometheus"))
    else {
        return;
    };
    let checked = Command::new(&promtool)
        .args(["check", "rules", ALERT_RULES])
        .output()
        .unwrap();
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stdout)
    );
    // A target that always fails, tried once: the first event's delivery dies.
    let target = TestTarget::scripted(Vec::new(), 500).await;
    let db = TestDb::new(&Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hookgate.toml");
    TestConfig::new()
        .database(&db.url)
        .route(&Route::new("stripe", "ops").url(&target.url).max_attempts(1))
        .write(&path);
    let listen = format!("127.0.0.1:{}", free_port());
    let env = [("HOOKGATE_LISTEN", listen.as_str())];
    let prom = Prometheus::start(&prometheus, dir.path(), &listen, ALERT_RULES).await;
    let dead = "hookgate_deliveries_total{target=\"ops\",outcome=\"dead\"}";

    let started = epoch_secs();
    let mut first = spawn_binary(&path, &[], &env);
    assert_eq!(prom.scraped_after(dead, started).await, 0.0);
    assert!(first.sigterm().success());

    let restarted = epoch_secs();
    let second = spawn_binary(&path, &[], &env);
    assert_eq!(prom.scraped_after(dead, restarted).await, 0.0);
    let client = reqwest::Client::new();
    let body = stripe_event("evt_alert_1", "invoice.paid");
    let answer = post_signed(&client, &second.base(), "stripe", &body, now_secs())
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);

    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let alerts = prom.api("alerts").await;
        let firing = alerts["alerts"].as_array().unwrap().iter().any(|a| {
            a["labels"]["alertname"] == "HookgateDeadDeliveries"
                && a["labels"]["target"] == "ops"
                && a["state"] == "firing"
        });
        if firing {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the alert did not fire: {alerts}\nhookgate: {}\nprometheus: {}",
            second.logs(),
            prom.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
