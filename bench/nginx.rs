//! Targets in another process: an nginx the bench starts for itself, beside
//! the in-process sink, since real targets are other processes on other
//! machines. The `drain` and `keepup` scenarios run once per target kind
//! (`--sink`), their rows marked `(nginx)`.
//!
//! The nginx is Debian's (or any on `PATH`) with a configuration of the
//! bench's own in the work folder: one worker, no access log, a free
//! loopback port, `return 204` for `/sink-a` and `/sink-b` (nginx reads
//! and discards the body; the connection stays open). It cannot tell a
//! delivery apart from another, so duplicates go uncounted; what it does
//! count is requests, which its `stub_status` page reports: that is the
//! delivery count, less the bench's own reads of the page. That the answers
//! were taken as delivered (a 2xx) is checked against hookgate's own
//! `hookgate_deliveries_total{outcome="delivered"}`.
//!
//! Its CPU (master and workers, from `/proc`) is reported as the sink's.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::args::SinkChoice;
use crate::process::{self, TARGETS};
use crate::sink::{self, SinkCount};
use crate::Bench;

/// Where deliveries go in a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// The bench's own sink ([`crate::sink`]): counts, timestamps and
    /// duplicates.
    Inproc,
    /// The nginx started here.
    Nginx,
}

/// The status page's path; hookgate never delivers there.
const STATUS: &str = "/bench-status";

/// The target kinds the per-target scenarios run against, and a note when
/// the choice was changed for want of nginx.
pub(crate) fn targets(
    choice: Option<SinkChoice>,
    nginx: Option<&Path>,
) -> (Vec<Target>, Option<String>) {
    match (choice, nginx) {
        (None, Some(_)) | (Some(SinkChoice::Both), Some(_)) => {
            (vec![Target::Inproc, Target::Nginx], None)
        }
        (Some(SinkChoice::Nginx), Some(_)) => (vec![Target::Nginx], None),
        (Some(SinkChoice::Inproc), _) => (vec![Target::Inproc], None),
        (None, None) => (
            vec![Target::Inproc],
            Some("nginx not found on PATH: drain and keepup ran against the in-process sink only".into()),
        ),
        (Some(choice), None) => (
            vec![Target::Inproc],
            Some(format!(
                "--sink {}: nginx not found on PATH; drain and keepup ran against the in-process sink only",
                match choice {
                    SinkChoice::Nginx => "nginx",
                    _ => "both",
                }
            )),
        ),
    }
}

/// `nginx` on `PATH`, else Debian's `/usr/sbin/nginx` (not on every user's
/// `PATH`).
pub(crate) fn find() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("nginx"))
        .chain([PathBuf::from("/usr/sbin/nginx")])
        .find(|bin| bin.is_file())
}

/// `nginx/1.22.1`, from `nginx -v` (which prints to stderr).
pub(crate) fn version(bin: &Path) -> Option<String> {
    let out = Command::new(bin).arg("-v").output().ok()?;
    let text = String::from_utf8_lossy(&out.stderr);
    Some(
        text.trim()
            .trim_start_matches("nginx version: ")
            .to_string(),
    )
}

/// The configuration: everything nginx writes (pid, error log, temporary
/// files) stays in `dir`.
pub(crate) fn config_text(dir: &Path, port: u16) -> String {
    let dir = dir.display();
    let mut locations = String::new();
    for target in TARGETS {
        locations.push_str(&format!("        location = /{target} {{ return 204; }}\n"));
    }
    format!(
        r#"# Written by the benchmark: a target that answers every delivery 204.
daemon off;
master_process on;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;

events {{
    worker_connections 1024;
}}

http {{
    access_log off;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    # hookgate keeps its connections open; nginx would close each after
    # 1,000 requests, which the in-process sink does not.
    keepalive_requests 1000000;

    server {{
        listen 127.0.0.1:{port};
{locations}        location = {STATUS} {{ stub_status; }}
        location / {{ return 404; }}
    }}
}}
"#
    )
}

/// The `requests` figure of a `stub_status` page.
fn status_requests(page: &str) -> Option<u64> {
    let mut lines = page.lines();
    lines.find(|l| {
        l.trim_start()
            .starts_with("server accepts handled requests")
    })?;
    lines.next()?.split_whitespace().nth(2)?.parse().ok()
}

/// What the polls of the status page have seen, to time a drain the way
/// the in-process sink does (to the resolution of the polling).
#[derive(Debug, Default)]
struct Seen {
    /// The count at the last [`Nginx::mark`].
    base: u64,
    count: u64,
    first: Option<Instant>,
    last: Option<Instant>,
}

impl Seen {
    fn update(&mut self, count: u64, now: Instant) -> SinkCount {
        if count > self.count {
            self.last = Some(now);
            if self.first.is_none() && count > self.base {
                self.first = Some(now);
            }
            self.count = count;
        }
        SinkCount {
            received: count,
            duplicates: 0,
            first: self.first,
            last: self.last,
        }
    }
}

/// An nginx serving both targets; stopped when dropped.
pub(crate) struct Nginx {
    child: Child,
    addr: SocketAddr,
    dir: PathBuf,
    client: reqwest::Client,
    /// Requests the bench itself made (status reads, the start-up check):
    /// nginx counts them with the deliveries.
    own: AtomicU64,
    seen: Mutex<Seen>,
}

impl Nginx {
    /// Writes `<work>/nginx/nginx.conf`, starts nginx in the foreground on
    /// a free port, and waits until it answers a delivery-shaped POST 204.
    pub(crate) async fn start(bin: &Path, work: &Path) -> Result<Nginx, String> {
        let dir = work.join("nginx");
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let port = process::free_port()?;
        let config = dir.join("nginx.conf");
        std::fs::write(&config, config_text(&dir, port))
            .map_err(|e| format!("write {}: {e}", config.display()))?;
        let stderr = std::fs::File::create(dir.join("stderr.log"))
            .map_err(|e| format!("create {}: {e}", dir.join("stderr.log").display()))?;
        let child = Command::new(bin)
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(&config)
            // The error log before the configuration is read (else the
            // compiled-in path, which may not be writable).
            .arg("-e")
            .arg(dir.join("error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("start {}: {e}", bin.display()))?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .no_proxy()
            .build()
            .map_err(|e| e.to_string())?;
        let mut nginx = Nginx {
            child,
            addr: ([127, 0, 0, 1], port).into(),
            dir,
            client,
            own: AtomicU64::new(0),
            seen: Mutex::new(Seen::default()),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = nginx.child.try_wait() {
                return Err(format!(
                    "nginx exited during start-up ({status}): {}",
                    nginx.log_tail()
                ));
            }
            if nginx.requests().await.is_ok() {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "nginx did not answer within 10 s: {}",
                    nginx.log_tail()
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        nginx.own.fetch_add(1, Ordering::AcqRel);
        let answer = nginx
            .client
            .post(nginx.url(TARGETS[0]))
            .body(vec![b'x'; 1344])
            .send()
            .await
            .map_err(|e| format!("POST {}: {e}", nginx.url(TARGETS[0])))?;
        if answer.status().as_u16() != 204 {
            return Err(format!(
                "nginx answered a delivery {}, not 204",
                answer.status()
            ));
        }
        Ok(nginx)
    }

    pub(crate) fn url(&self, target: &str) -> String {
        format!("http://{}/{target}", self.addr)
    }

    /// The deliveries nginx has received, and when the first since the
    /// last [`Nginx::mark`] and the latest were first seen.
    pub(crate) async fn count(&self) -> Result<SinkCount, String> {
        let requests = self.requests().await?;
        let deliveries = requests.saturating_sub(self.own.load(Ordering::Acquire));
        Ok(self
            .seen
            .lock()
            .expect("nginx counts")
            .update(deliveries, Instant::now()))
    }

    /// Times the next delivery seen as the first: the start of a drain.
    pub(crate) async fn mark(&self) -> Result<(), String> {
        let now = self.count().await?;
        let mut seen = self.seen.lock().expect("nginx counts");
        seen.base = now.received;
        seen.first = None;
        Ok(())
    }

    /// Every request nginx has handled, this read included.
    async fn requests(&self) -> Result<u64, String> {
        self.own.fetch_add(1, Ordering::AcqRel);
        let url = format!("http://{}{STATUS}", self.addr);
        let page = self
            .client
            .get(&url)
            .send()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?
            .text()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        status_requests(&page).ok_or_else(|| format!("GET {url}: not a stub_status page"))
    }

    /// CPU time of the master and its workers.
    pub(crate) fn cpu(&self) -> Duration {
        let master = self.child.id();
        process::children_of(master)
            .into_iter()
            .chain([master])
            .filter_map(process::cpu_of)
            .sum()
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
            + &std::fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(10)..].join("\n")
    }
}

impl Drop for Nginx {
    /// SIGTERM (the master stops its workers, then itself), then SIGKILL
    /// after 5 s.
    fn drop(&mut self) {
        let workers = process::children_of(self.child.id());
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        for pid in workers {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    }
}

/// Where the deliveries of the scenario being run go, read the same way
/// for either target.
impl Bench {
    fn nginx(&self) -> Option<&Nginx> {
        match self.target {
            Target::Inproc => None,
            Target::Nginx => self.nginx.as_ref(),
        }
    }

    /// One URL per entry of [`TARGETS`].
    pub(crate) fn sink_targets(&self) -> [String; 2] {
        match self.nginx() {
            Some(nginx) => TARGETS.map(|t| nginx.url(t)),
            None => TARGETS.map(|t| self.sink.url(t)),
        }
    }

    /// Deliveries received so far (since the bench or nginx started).
    pub(crate) async fn sink_count(&self) -> Result<SinkCount, String> {
        match self.nginx() {
            Some(nginx) => nginx.count().await,
            None => Ok(self.sink.count()),
        }
    }

    /// Times the next delivery as the first: the start of a drain.
    pub(crate) async fn sink_mark(&self) -> Result<(), String> {
        match self.nginx() {
            Some(nginx) => nginx.mark().await,
            None => {
                self.sink.mark();
                Ok(())
            }
        }
    }

    /// CPU time of whatever answers the deliveries.
    pub(crate) fn target_cpu(&self) -> Duration {
        match self.nginx() {
            Some(nginx) => nginx.cpu(),
            None => process::own_thread_cpu(sink::THREAD),
        }
    }

    /// Whether the target counts deliveries it saw twice.
    pub(crate) fn counts_duplicates(&self) -> bool {
        self.nginx().is_none()
    }

    /// How a row's scenario name says where the deliveries went.
    pub(crate) fn target_suffix(&self) -> &'static str {
        match self.target {
            Target::Inproc => "",
            Target::Nginx => " (nginx)",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_answers_both_targets_204_and_keeps_to_its_folder() {
        let text = config_text(Path::new("/tmp/work/nginx"), 40123);
        assert!(text.contains("daemon off;\nmaster_process on;\nworker_processes 1;\n"));
        assert!(text.contains("listen 127.0.0.1:40123;"));
        assert!(text.contains("location = /sink-a { return 204; }"));
        assert!(text.contains("location = /sink-b { return 204; }"));
        assert!(text.contains("access_log off;"));
        assert!(text.contains("location = /bench-status { stub_status; }"));
        assert!(text.contains("pid /tmp/work/nginx/nginx.pid;"));
        assert!(text.contains("error_log /tmp/work/nginx/error.log warn;"));
        assert!(!text.contains("\nuser "));
        // Every path it writes is in its folder.
        for line in text.lines().filter(|l| l.contains("_path ")) {
            assert!(line.contains(" /tmp/work/nginx/"), "{line}");
        }
        // Braces balance.
        assert_eq!(text.matches('{').count(), text.matches('}').count());
    }

    #[test]
    fn the_status_page_gives_the_request_count() {
        let page = "Active connections: 1 \nserver accepts handled requests\n 2 2 5 \nReading: 0 Writing: 1 Waiting: 0 \n";
        assert_eq!(status_requests(page), Some(5));
        assert_eq!(status_requests("<html>not found</html>"), None);
    }

    #[test]
    fn polls_time_the_first_delivery_after_a_mark_and_the_latest() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let mut seen = Seen::default();
        assert_eq!(seen.update(3, at(0)).first, Some(at(0)));
        seen.base = 3;
        seen.first = None;
        let still = seen.update(3, at(20));
        assert_eq!((still.first, still.last), (None, Some(at(0))));
        let moved = seen.update(10, at(40));
        assert_eq!((moved.first, moved.last), (Some(at(40)), Some(at(40))));
        let later = seen.update(12, at(60));
        assert_eq!(
            (later.received, later.first, later.last),
            (12, Some(at(40)), Some(at(60)))
        );
    }

    #[test]
    fn the_default_runs_both_targets_when_nginx_is_there() {
        let nginx = Some(Path::new("/usr/sbin/nginx"));
        assert_eq!(
            targets(None, nginx),
            (vec![Target::Inproc, Target::Nginx], None)
        );
        assert_eq!(
            targets(Some(SinkChoice::Nginx), nginx).0,
            vec![Target::Nginx]
        );
        assert_eq!(
            targets(Some(SinkChoice::Inproc), nginx).0,
            vec![Target::Inproc]
        );
        let (without, note) = targets(None, None);
        assert_eq!(without, vec![Target::Inproc]);
        assert!(note.unwrap().contains("nginx not found"));
        let (asked, note) = targets(Some(SinkChoice::Both), None);
        assert_eq!(asked, vec![Target::Inproc]);
        assert!(note.unwrap().starts_with("--sink both"));
    }
}
