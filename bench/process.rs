//! The hookgate under test: the real release binary as a child process with
//! a configuration written for the scenario, read from the outside only:
//! HTTP (`/healthz`, `/metrics`) and `/proc/<pid>` (CPU time, resident
//! memory).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

/// The one source every scenario sends to, and its GitLab token.
pub const SOURCE: &str = "gitlab";
pub const GITLAB_TOKEN: &str = "bench-gitlab-token";
/// The two targets every event is routed to.
pub const TARGETS: [&str; 2] = ["sink-a", "sink-b"];
const TARGET_SIGNING_SECRET: &str = "whsec_YmVuY2gtdGFyZ2V0LXNpZ25pbmctc2VjcmV0";
/// `admin.token` of every configuration the bench writes.
const ADMIN_TOKEN: &str = "bench-admin-token";

/// Which roles the process runs (`serve`, `--no-dispatcher`, `--no-ingest`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    All,
    IngestOnly,
    DispatchOnly,
}

pub struct Gateway {
    child: Child,
    pub pid: u32,
    pub addr: SocketAddr,
    log: PathBuf,
    client: reqwest::Client,
}

/// What the scenario's configuration points at.
pub struct Setup<'a> {
    pub name: &'a str,
    pub database_url: &'a str,
    /// One URL per entry of [`TARGETS`].
    pub target_urls: [String; 2],
    pub role: Role,
    /// The routes carry jq expressions ([`FILTERED_ROUTES`]).
    pub filtered: bool,
    /// More TOML lines for each entry of [`TARGETS`]: its `[[targets]]`
    /// table (`rate_limit = ...`) and its `[[routes]]` table
    /// (`ordering_key = ...`).
    pub target_keys: [&'a str; 2],
    pub route_keys: [&'a str; 2],
    /// The `protected` scenario: the targets and routes of [`PROTECTED`]
    /// besides the plain ones, at these URLs (one per entry).
    pub protected: Option<[String; 3]>,
}

/// The extra targets of the `protected` scenario, each with one route from
/// the source, beside the two plain routes: (target name, more keys of its
/// `[[targets]]` table, more keys of its `[[routes]]` table). Every bench
/// event is the same GitLab push body (`object_kind` "push"); only its
/// `X-Gitlab-Event-UUID` differs, and its last hex digit goes round all 16
/// values as events are numbered, so shares and keys come from it:
///
/// - `filtered`: a filter no bench event matches (no push is a deployment),
///   evaluated for every event: its cost without a delivery.
/// - `limited`: `rate_limit = "50/s"`, taking 1 event in 16 (UUIDs ending
///   in `0`): above 800 ev/s its deliveries are held by the limit and pile
///   up in the outbox, as a protected target's do.
/// - `ordered`: every event, keyed by the UUID's last hex digit (16 keys,
///   each delivered one at a time).
///
/// So each event gets 1 + 1/16 deliveries more, beside its two to
/// `sink-a` and `sink-b`.
pub const PROTECTED: [(&str, &str, &str); 3] = [
    (
        "filtered",
        "",
        r#"filter = '.body.object_kind == "deployment"'"#,
    ),
    (
        "limited",
        r#"rate_limit = "50/s""#,
        r#"filter = '.headers["x-gitlab-event-uuid"] | endswith("0")'"#,
    ),
    (
        "ordered",
        "",
        r#"ordering_key = '.headers["x-gitlab-event-uuid"][-1:]'"#,
    ),
];

/// The filtered configuration: three routes with jq filters, one of which
/// also transforms; two take every push, the third none (its filter is
/// still evaluated for every event).
pub const FILTERED_ROUTES: [(&str, &str, Option<&str>); 3] = [
    (
        "sink-a",
        r#".body.object_kind == "push" and (.body.commits | length) > 0 and (.body.ref | startswith("refs/heads/"))"#,
        None,
    ),
    (
        "sink-b",
        r#".headers["x-gitlab-event"] == "Push Hook" and .body.project.visibility_level >= 0"#,
        Some("{kind: .body.object_kind, ref: .body.ref, project: .body.project.path_with_namespace, commits: [.body.commits[].id]}"),
    ),
    ("sink-a", r#".body.object_kind == "tag_push""#, None),
];

impl Gateway {
    /// Writes `<dir>/<name>.toml`, starts the binary with it (JSON logs to
    /// `<dir>/<name>.log`) on a port it picks itself, reads the address it
    /// logs, and waits until `/healthz` answers.
    pub async fn start(bin: &Path, dir: &Path, setup: &Setup<'_>) -> Result<Gateway, String> {
        let config = dir.join(format!("{}.toml", setup.name));
        std::fs::write(&config, config_text(([127, 0, 0, 1], 0).into(), setup))
            .map_err(|e| format!("write {}: {e}", config.display()))?;
        let log = dir.join(format!("{}.log", setup.name));
        let log_file =
            std::fs::File::create(&log).map_err(|e| format!("create {}: {e}", log.display()))?;
        let mut command = Command::new(bin);
        command.arg("serve").arg("-c").arg(&config);
        match setup.role {
            Role::All => {}
            Role::IngestOnly => {
                command.arg("--no-dispatcher");
            }
            Role::DispatchOnly => {
                command.arg("--no-ingest");
            }
        }
        // The file decides; overrides from the caller's shell would not.
        for var in [
            "HOOKGATE_CONFIG",
            "HOOKGATE_DATABASE_URL",
            "HOOKGATE_LISTEN",
            "HOOKGATE_ADMIN_TOKEN",
        ] {
            command.env_remove(var);
        }
        // JSON lines, so the bound address can be read from the log.
        command
            .env("HOOKGATE_LOG_FORMAT", "json")
            .env("RUST_LOG", "info");
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("start {}: {e}", bin.display()))?;
        let pid = child.id().ok_or("the gateway exited at once")?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| e.to_string())?;
        let mut gateway = Gateway {
            child,
            pid,
            // Until the process logs the address it bound.
            addr: ([127, 0, 0, 1], 0).into(),
            log,
            client,
        };
        gateway.wait_ready().await?;
        Ok(gateway)
    }

    async fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "hookgate exited during start-up ({status}):\n{}",
                    self.log_tail()
                ));
            }
            if self.addr.port() == 0 {
                let text = std::fs::read_to_string(&self.log).unwrap_or_default();
                if let Some(addr) = listening_addr(&text) {
                    self.addr = addr;
                }
            }
            if self.addr.port() != 0 {
                let url = format!("http://{}/healthz", self.addr);
                if let Ok(r) = self.client.get(&url).send().await {
                    if r.status().is_success() {
                        return Ok(());
                    }
                }
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "hookgate did not answer /healthz within 60 s:\n{}",
                    self.log_tail()
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The last lines of the process's log, for error messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// User plus system CPU time the process has used so far.
    /// CPU time of the gateway and of its running child processes (the jq
    /// workers that evaluate route expressions).
    pub fn cpu(&self) -> Duration {
        let children: Duration = children_of(self.pid).into_iter().filter_map(cpu_of).sum();
        cpu_of(self.pid).unwrap_or_default() + children
    }

    /// Resident memory now, in KiB.
    pub fn rss_kib(&self) -> u64 {
        rss_kib(self.pid).unwrap_or(0)
    }

    /// Starts sampling resident memory every 50 ms, keeping the highest.
    pub fn rss_sampler(&self) -> RssSampler {
        RssSampler::start(self.pid)
    }

    pub async fn metrics(&self) -> Result<Metrics, String> {
        let text = self
            .client
            .get(format!("http://{}/metrics", self.addr))
            .send()
            .await
            .map_err(|e| format!("GET /metrics: {e}"))?
            .text()
            .await
            .map_err(|e| format!("GET /metrics: {e}"))?;
        Ok(Metrics::parse(&text))
    }

    /// Deliveries per target from `GET /admin/v1/targets`: counted in the
    /// store without the cap `hookgate_outbox_pending` has (10,000 per
    /// target), at the cost of a count over the outbox: read it outside
    /// measured windows.
    pub async fn deliveries_by_target(
        &self,
    ) -> Result<std::collections::BTreeMap<String, TargetDeliveries>, String> {
        let url = format!("http://{}/admin/v1/targets", self.addr);
        let text = self
            .client
            .get(&url)
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| format!("GET {url}: {e}"))?
            .text()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        let views: Vec<serde_json::Value> =
            serde_json::from_str(&text).map_err(|e| format!("GET {url}: {e}"))?;
        let count = |v: &serde_json::Value, key: &str| v[key].as_u64().unwrap_or(0);
        Ok(views
            .iter()
            .map(|v| {
                let pending = count(v, "pending");
                let written = ["pending", "delivered", "dead", "cancelled"]
                    .iter()
                    .map(|k| count(v, k))
                    .sum();
                let name = v["name"].as_str().unwrap_or_default().to_string();
                (name, TargetDeliveries { pending, written })
            })
            .collect())
    }

    /// SIGTERM, then waits for the drain (at most 60 s) before killing.
    pub async fn stop(mut self) -> Result<(), String> {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
        match tokio::time::timeout(Duration::from_secs(60), self.child.wait()).await {
            Ok(Ok(status)) if status.success() => Ok(()),
            Ok(Ok(status)) => Err(format!("hookgate exited with {status}")),
            Ok(Err(e)) => Err(format!("waiting for hookgate: {e}")),
            Err(_) => {
                let _ = self.child.kill().await;
                Err("hookgate did not stop within 60 s of SIGTERM; killed".into())
            }
        }
    }
}

/// One signed `[[targets]]` table and the `[[routes]]` table that sends
/// the source to it, each with more TOML lines of its own.
fn target_with_route(name: &str, url: &str, target_keys: &str, route_keys: &str) -> String {
    format!(
        r#"
[[targets]]
name = "{name}"
url = "{url}"
signing_secret = "{TARGET_SIGNING_SECRET}"
{target_keys}

[[routes]]
source = "{SOURCE}"
target = "{name}"
{route_keys}
"#
    )
}

fn config_text(addr: SocketAddr, setup: &Setup<'_>) -> String {
    let mut text = format!(
        r#"# Written by the benchmark for one scenario.
[server]
listen = "{addr}"

[database]
url = "{url}"

[admin]
token = "{ADMIN_TOKEN}"

[[sources]]
name = "{SOURCE}"
provider = "gitlab"
secrets = ["{GITLAB_TOKEN}"]
"#,
        url = setup.database_url,
    );
    if setup.filtered {
        for (name, url) in TARGETS.iter().zip(&setup.target_urls) {
            text.push_str(&format!(
                "\n[[targets]]\nname = \"{name}\"\nurl = \"{url}\"\nsigning_secret = \"{TARGET_SIGNING_SECRET}\"\n"
            ));
        }
        // The third route needs a target of its own (one route per pair).
        text.push_str(&format!(
            "\n[[targets]]\nname = \"never\"\nurl = \"{}\"\n",
            setup.target_urls[0]
        ));
        for (i, (target, filter, transform)) in FILTERED_ROUTES.iter().enumerate() {
            let target = if i == 2 { "never" } else { target };
            text.push_str(&format!(
                "\n[[routes]]\nsource = \"{SOURCE}\"\ntarget = \"{target}\"\nfilter = '{filter}'\n"
            ));
            if let Some(t) = transform {
                text.push_str(&format!("transform = '{t}'\n"));
            }
        }
        return text;
    }
    for (i, (name, url)) in TARGETS.iter().zip(&setup.target_urls).enumerate() {
        text.push_str(&target_with_route(
            name,
            url,
            setup.target_keys[i],
            setup.route_keys[i],
        ));
    }
    if let Some(urls) = &setup.protected {
        for ((name, target_keys, route_keys), url) in PROTECTED.iter().zip(urls) {
            text.push_str(&target_with_route(name, url, target_keys, route_keys));
        }
    }
    text
}

/// The address in the `hookgate listening` line of a JSON log.
fn listening_addr(log: &str) -> Option<SocketAddr> {
    log.lines()
        .filter(|l| l.contains("hookgate listening"))
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find_map(|v| v.get("addr")?.as_str()?.parse().ok())
}

/// A port nothing listens on right now: bound, read and released, for the
/// address of a target that is down (nothing is started on it).
pub fn free_port() -> Result<u16, String> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("find a port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

/// One target's deliveries, as the admin API counts them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TargetDeliveries {
    pub pending: u64,
    /// Every delivery the target ever had: pending, delivered, dead and
    /// cancelled.
    pub written: u64,
}

/// The totals `/metrics` reports, summed over [`TARGETS`]; the extra
/// targets of the `protected` scenario are left out, their deliveries
/// summed apart. (`hookgate_outbox_pending` stops counting at 10,000 per
/// target; [`Gateway::deliveries_by_target`] does not.)
#[derive(Debug, Clone, Copy, Default)]
pub struct Metrics {
    pub accepted: u64,
    pub unavailable: u64,
    pub pending: u64,
    pub delivered: u64,
    /// Delivered to every other target.
    pub other_delivered: u64,
}

impl Metrics {
    fn parse(text: &str) -> Metrics {
        let mut m = Metrics::default();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let Some((series, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let Ok(value) = value.parse::<f64>() else {
                continue;
            };
            let value = value as u64;
            if series.starts_with("hookgate_ingest_requests_total{") {
                if series.contains("outcome=\"accepted\"") {
                    m.accepted += value;
                } else if series.contains("outcome=\"unavailable\"") {
                    m.unavailable += value;
                }
            } else if series.starts_with("hookgate_outbox_pending{") {
                if measured(series) {
                    m.pending += value;
                }
            } else if series.starts_with("hookgate_deliveries_total{")
                && series.contains("outcome=\"delivered\"")
            {
                if measured(series) {
                    m.delivered += value;
                } else {
                    m.other_delivered += value;
                }
            }
        }
        m
    }
}

/// Whether a series is labelled with one of [`TARGETS`].
fn measured(series: &str) -> bool {
    TARGETS
        .iter()
        .any(|t| series.contains(&format!("target=\"{t}\"")))
}

/// Clock ticks per second of `/proc/<pid>/stat` times.
fn clock_ticks() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .filter(|&t| t > 0)
            .unwrap_or(100)
    })
}

/// utime + stime of a process (all its threads), from `/proc/<pid>/stat`.
pub fn cpu_of(pid: u32) -> Option<Duration> {
    stat_cpu(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// The child processes of `pid`, from each of its threads' `children` list.
pub fn children_of(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
        .flat_map(|list| {
            list.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

/// utime + stime from the text of a `stat` file (process or thread).
fn stat_cpu(stat: &str) -> Option<Duration> {
    // The command name may hold spaces and parentheses; fields after it do not.
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of stat(5), counted from the state (field 3) here.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_secs_f64(
        (utime + stime) as f64 / clock_ticks() as f64,
    ))
}

/// The bench's own CPU time, to report what the load generator costs.
pub fn own_cpu() -> Duration {
    cpu_of(std::process::id()).unwrap_or_default()
}

/// CPU time of this process's thread of that name (the sink's), so the
/// load generator's own cost can be told apart from the sink's.
pub fn own_thread_cpu(name: &str) -> Duration {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    tasks
        .filter_map(|t| t.ok())
        .find(|t| {
            std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.trim_end() == name)
        })
        .and_then(|t| {
            let stat = std::fs::read_to_string(t.path().join("stat")).ok()?;
            stat_cpu(&stat)
        })
        .unwrap_or_default()
}

/// VmRSS of a process in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Samples a process's resident memory in the background and keeps the
/// highest value since the last [`RssSampler::reset`].
pub struct RssSampler {
    peak: Arc<AtomicU64>,
    pid: u32,
    task: tokio::task::JoinHandle<()>,
}

impl RssSampler {
    fn start(pid: u32) -> RssSampler {
        let peak = Arc::new(AtomicU64::new(rss_kib(pid).unwrap_or(0)));
        let shared = peak.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(50));
            loop {
                tick.tick().await;
                match rss_kib(pid) {
                    Some(kib) => {
                        shared.fetch_max(kib, Ordering::Relaxed);
                    }
                    None => return,
                }
            }
        });
        RssSampler { peak, pid, task }
    }

    /// Starts a new window at the current resident size.
    pub fn reset(&self) {
        self.peak
            .store(rss_kib(self.pid).unwrap_or(0), Ordering::Relaxed);
    }

    /// The highest resident size seen in this window, in KiB (read once
    /// more now, so a short window is not missed).
    pub fn peak_kib(&self) -> u64 {
        if let Some(now) = rss_kib(self.pid) {
            self.peak.fetch_max(now, Ordering::Relaxed);
        }
        self.peak.load(Ordering::Relaxed)
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// CPU time of the Postgres backends serving one database, found by the
/// process title Postgres gives them (`postgres: user db host(port) ...`).
/// The shared background processes (WAL writer, checkpointer) are left out:
/// other users of the server would be counted with them.
pub fn postgres_backends(database: &str) -> Vec<(u32, Duration)> {
    let needle = format!(" {database} ");
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                let title = String::from_utf8_lossy(&c);
                title.starts_with("postgres: ") && title.contains(&needle)
            })
        })
        .filter_map(|pid| Some((pid, cpu_of(pid)?)))
        .collect()
}

/// CPU the backends used between two readings; a backend that appeared in
/// between counts in full.
pub fn postgres_cpu_between(before: &[(u32, Duration)], after: &[(u32, Duration)]) -> Duration {
    after
        .iter()
        .map(|(pid, cpu)| {
            let start = before
                .iter()
                .find(|(p, _)| p == pid)
                .map_or(Duration::ZERO, |(_, c)| *c);
            cpu.saturating_sub(start)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_address_is_read_from_the_json_log() {
        let log = concat!(
            r#"{"timestamp":"t","level":"WARN","message":"admin.token is a development value"}"#,
            "\n",
            r#"{"timestamp":"t","level":"INFO","message":"hookgate listening","addr":"127.0.0.1:40123","backend":"sqlite"}"#,
            "\n",
        );
        assert_eq!(listening_addr(log), Some(([127, 0, 0, 1], 40123).into()));
        assert_eq!(listening_addr("not json\n"), None);
    }

    #[test]
    fn metrics_are_summed_over_targets() {
        let text = "\
# TYPE hookgate_ingest_requests_total counter
hookgate_ingest_requests_total{source=\"gitlab\",outcome=\"accepted\"} 58439
hookgate_ingest_requests_total{source=\"gitlab\",outcome=\"unavailable\"} 3
hookgate_ingest_requests_total{source=\"gitlab\",outcome=\"unauthorized\"} 7
# TYPE hookgate_outbox_pending gauge
hookgate_outbox_pending{target=\"sink-a\"} 120
hookgate_outbox_pending{target=\"sink-b\"} 80
hookgate_deliveries_total{target=\"sink-a\",outcome=\"delivered\"} 10
hookgate_deliveries_total{target=\"sink-b\",outcome=\"delivered\"} 12
hookgate_deliveries_total{target=\"sink-b\",outcome=\"retry\"} 5
hookgate_outbox_oldest_pending_seconds{target=\"sink-a\"} 1.5
hookgate_outbox_pending{target=\"limited\"} 900
hookgate_outbox_pending{target=\"ordered\"} 40
hookgate_deliveries_total{target=\"ordered\",outcome=\"delivered\"} 7
";
        let m = Metrics::parse(text);
        assert_eq!(m.accepted, 58439);
        assert_eq!(m.unavailable, 3);
        assert_eq!(m.pending, 200);
        assert_eq!(m.delivered, 22);
        // The extra targets of `protected` never count as the measured ones.
        assert_eq!(m.other_delivered, 7);
    }

    fn setup(protected: bool) -> Setup<'static> {
        Setup {
            name: "test",
            database_url: "sqlite:///tmp/hookgate-bench-test.db",
            target_urls: TARGETS.map(|t| format!("http://127.0.0.1:9/{t}")),
            role: Role::All,
            filtered: false,
            target_keys: ["", ""],
            route_keys: ["", ""],
            protected: protected
                .then(|| PROTECTED.map(|(name, _, _)| format!("http://127.0.0.1:9/{name}"))),
        }
    }

    /// The configuration hookgate builds from the text, as `check-config`
    /// and start-up do (the jq expressions compiled).
    fn wiring(text: &str) -> hookgate::wiring::Wiring {
        let config = hookgate::config::Config::from_toml(text, &|_: &str| None)
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        hookgate::wiring::Wiring::build(config).unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    #[test]
    fn the_protected_config_adds_three_routes_beside_the_plain_ones() {
        let addr = ([127, 0, 0, 1], 0).into();
        let plain = wiring(&config_text(addr, &setup(false)));
        assert_eq!(plain.targets.len(), 2);
        assert_eq!(plain.routes.all().count(), 2);
        let text = config_text(addr, &setup(true));
        let protected = wiring(&text);
        assert_eq!(protected.targets.len(), 5);
        assert_eq!(protected.routes.all().count(), 5);
        // The plain part is the plain configuration, unchanged.
        assert!(text.starts_with(&config_text(addr, &setup(false))));
        for key in [
            "name = \"filtered\"\nurl = \"http://127.0.0.1:9/filtered\"",
            "name = \"limited\"\nurl = \"http://127.0.0.1:9/limited\"",
            "rate_limit = \"50/s\"",
            "target = \"limited\"\nfilter = '.headers[\"x-gitlab-event-uuid\"] | endswith(\"0\")'",
            "target = \"ordered\"\nordering_key = '",
            "target = \"filtered\"\nfilter = '.body.object_kind == \"deployment\"'",
        ] {
            assert!(text.contains(key), "{key} not in\n{text}");
        }
    }

    /// The jq expression of a `key = '...'` line.
    fn expression(keys: &str) -> &str {
        let (_, quoted) = keys.split_once(" = '").expect("a quoted expression");
        quoted.strip_suffix('\'').expect("a quoted expression")
    }

    #[test]
    fn the_protected_routes_take_no_event_one_in_sixteen_and_all_in_sixteen_lines() {
        use hookgate::routes::jq;
        let events = crate::loadgen::GitlabEvents::new("/ingest/gitlab", GITLAB_TOKEN, 7);
        let body: serde_json::Value = serde_json::from_slice(events.body()).unwrap();
        let [filtered, limited, ordered] =
            PROTECTED.map(|(_, _, route)| jq::Expr::compile(expression(route)).unwrap());
        let (mut taken, mut limited_taken) = (0, 0);
        let mut keys = std::collections::BTreeMap::<String, usize>::new();
        for n in 0..256 {
            let uuid = crate::loadgen::event_uuid(7, n);
            let uuid = std::str::from_utf8(&uuid).unwrap();
            // The event document hookgate evaluates routes over.
            let document = serde_json::json!({
                "source": SOURCE,
                "provider": "gitlab",
                "event_type": "Push Hook",
                "provider_event_id": uuid,
                "headers": {"x-gitlab-event": "Push Hook", "x-gitlab-event-uuid": uuid},
                "body": body,
            });
            let value = || jq::parse(&serde_json::to_vec(&document).unwrap()).unwrap();
            taken += usize::from(jq::truthy(&filtered.first(value()).unwrap()));
            limited_taken += usize::from(jq::truthy(&limited.first(value()).unwrap()));
            let key = ordered.first(value()).unwrap().expect("a key");
            *keys.entry(key.to_string()).or_default() += 1;
        }
        assert_eq!(taken, 0);
        assert_eq!(limited_taken, 16);
        assert_eq!(keys.len(), 16, "{keys:?}");
        assert!(keys.values().all(|&n| n == 16), "{keys:?}");
    }

    #[test]
    fn stat_cpu_skips_a_command_name_with_spaces_and_parentheses() {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt
        // majflt cmajflt utime stime ...
        let stat = "42 (a (b) c) S 1 42 42 0 -1 4194304 10 0 0 0 250 50 0 0 20 0 3 0";
        let cpu = stat_cpu(stat).unwrap();
        assert_eq!(cpu, Duration::from_secs_f64(300.0 / clock_ticks() as f64));
    }

    #[test]
    fn this_process_has_cpu_time_and_memory() {
        assert!(rss_kib(std::process::id()).unwrap() > 0);
        assert!(cpu_of(std::process::id()).is_some());
    }
}
