//! The load generator: a fixed set of keep-alive HTTP/1.1 connections, each
//! driven by one task, in two shapes.
//!
//! - **Closed loop**: every connection sends its next request as soon as the
//!   previous answer arrived. Measures the most the server sustains at that
//!   concurrency; its latencies are service times under saturation.
//! - **Paced (open loop)**: request `i` is due at `start + i / rate`, whatever
//!   the answers do. A request that had to wait for a free connection is
//!   timed from when it was due, not from when it went out, so a slow server
//!   cannot hide its stalls by slowing the sender (coordinated omission).
//!
//! The generator shares the two cores with the server, so it is kept cheap,
//! the way wrk is: each request is one prepared run of bytes with only the
//! event ID written fresh, sent with one write; the answer is read with a
//! minimal HTTP/1.1 parser (status line, `Content-Length`, `Connection`).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

/// How long one request may take before it counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What every request of a run is.
#[derive(Clone)]
pub enum Load {
    /// `GET /healthz`: the ceiling of the HTTP stack and this generator.
    Healthz,
    /// A signed GitLab event with a fresh ID.
    Ingest(Arc<GitlabEvents>),
}

/// GitLab push events as GitLab sends them: a compact JSON body and the
/// headers hookgate's own GitLab signing gives it (the webhook's secret
/// token in `X-Gitlab-Token`), with a unique `X-Gitlab-Event-UUID` /
/// `Idempotency-Key` per request.
pub struct GitlabEvents {
    /// The request line.
    start: Vec<u8>,
    /// Every header that is the same on each request, `Content-Length`
    /// included.
    fixed: Vec<u8>,
    /// The headers that carry the event's UUID, written fresh each time.
    per_event: Vec<String>,
    body: Vec<u8>,
    run: u32,
    next: AtomicU64,
}

impl GitlabEvents {
    /// `run` keeps IDs unique across runs sharing a database.
    pub fn new(path: &str, token: &str, run: u32) -> GitlabEvents {
        let pretty: serde_json::Value =
            serde_json::from_slice(include_bytes!("../fixtures/gitlab/push.json"))
                .expect("the GitLab push fixture is JSON");
        let body = serde_json::to_vec(&pretty).expect("JSON serializes");
        let sent: BTreeMap<String, String> =
            serde_json::from_slice(include_bytes!("../fixtures/gitlab/push.headers.json"))
                .expect("the GitLab push headers are a JSON object");
        let mut fixed = Vec::new();
        for (name, value) in &sent {
            write!(fixed, "{name}: {value}\r\n").expect("write to a Vec");
        }
        // Signed once with a stand-in UUID: the headers carrying it are
        // written per request, the rest once.
        let mut per_event = Vec::new();
        for (name, value) in gitlab_headers(token, &body, UUID_SLOT) {
            if value == UUID_SLOT {
                per_event.push(name);
            } else {
                write!(fixed, "{name}: {value}\r\n").expect("write to a Vec");
            }
        }
        write!(fixed, "Content-Length: {}\r\n", body.len()).expect("write to a Vec");
        GitlabEvents {
            start: format!("POST {path} HTTP/1.1\r\n").into_bytes(),
            fixed,
            per_event,
            body,
            run,
            next: AtomicU64::new(0),
        }
    }

    pub fn body_len(&self) -> usize {
        self.body.len()
    }

    /// The body every request carries.
    #[cfg(test)]
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    fn write_request(&self, host: &[u8], out: &mut Vec<u8>) {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        out.extend_from_slice(&self.start);
        out.extend_from_slice(host);
        out.extend_from_slice(&self.fixed);
        let uuid = event_uuid(self.run, n);
        for name in &self.per_event {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(&uuid);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
    }
}

/// The `n`th event's UUID in run `run`: shaped like the UUID GitLab sends,
/// unique per run and request; its last hex digit goes round all 16 values
/// as `n` counts up.
pub fn event_uuid(run: u32, n: u64) -> [u8; UUID_SLOT.len()] {
    let mut uuid = [0u8; UUID_SLOT.len()];
    write!(
        &mut uuid[..],
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        run,
        (n >> 48) & 0xffff,
        (n >> 36) & 0xfff,
        (n >> 24) & 0xfff,
        n & 0xff_ffff_ffff
    )
    .expect("a UUID fits its slot");
    uuid
}

/// A stand-in for the event UUID, as long as the real ones.
const UUID_SLOT: &str = "00000000-0000-4000-8000-000000000000";

/// The headers GitLab sends with `body` for the webhook with secret token
/// `token`, from hookgate's own provider signing (what `hookgate replay`
/// sends), so the benchmark's requests are exactly what ingest verifies.
fn gitlab_headers(token: &str, body: &[u8], event_uuid: &str) -> Vec<(String, String)> {
    use hookgate::providers::Provider;
    let source: hookgate::config::SourceConfig = toml::from_str(&format!(
        "name = \"gitlab\"\nprovider = \"gitlab\"\nsecrets = [{token:?}]"
    ))
    .expect("a GitLab source");
    let (provider, keys) =
        Provider::from_config(&source, "sources[0]").expect("a valid GitLab source");
    let now = hookgate::time::UnixMs::now();
    provider.sign_as(keys.first().unwrap_or_default(), body, now, event_uuid)
}

impl Load {
    /// Appends the next request, whole, to `out`.
    fn write_request(&self, host: &[u8], out: &mut Vec<u8>) {
        match self {
            Load::Healthz => {
                out.extend_from_slice(b"GET /healthz HTTP/1.1\r\n");
                out.extend_from_slice(host);
                out.extend_from_slice(b"\r\n");
            }
            Load::Ingest(events) => events.write_request(host, out),
        }
    }
}

/// Open connections to one server, reused from run to run.
pub struct Pool {
    addr: SocketAddr,
    /// The `Host` header line.
    host: Arc<[u8]>,
    conns: Vec<Conn>,
    wanted: usize,
}

impl Pool {
    pub async fn connect(addr: SocketAddr, connections: usize) -> Result<Pool, String> {
        let mut conns = Vec::with_capacity(connections);
        for _ in 0..connections {
            conns.push(Conn::open(addr).await?);
        }
        Ok(Pool {
            addr,
            host: format!("Host: {addr}\r\n").into_bytes().into(),
            conns,
            wanted: connections,
        })
    }

    pub fn len(&self) -> usize {
        self.wanted
    }

    /// Waits for a run's connection tasks and takes back the connections
    /// they still hold.
    async fn gather(&mut self, tasks: Vec<JoinHandle<(Tally, Option<Conn>)>>) -> Vec<Tally> {
        let mut tallies = Vec::with_capacity(tasks.len());
        for task in tasks {
            let (tally, conn) = task.await.expect("load task");
            tallies.push(tally);
            self.conns.extend(conn);
        }
        tallies
    }

    /// Replaces connections a previous run lost (broken, or abandoned at a
    /// deadline), so every run starts with the full count.
    async fn refill(&mut self) {
        while self.conns.len() < self.wanted {
            match Conn::open(self.addr).await {
                Ok(conn) => self.conns.push(conn),
                Err(_) => break,
            }
        }
    }
}

/// One keep-alive connection and its buffers.
struct Conn {
    stream: TcpStream,
    read: Vec<u8>,
    write: Vec<u8>,
    /// The server said `Connection: close`, or the connection broke.
    closed: bool,
}

impl Conn {
    async fn open(addr: SocketAddr) -> Result<Conn, String> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect to {addr}: {e}"))?;
        stream
            .set_nodelay(true)
            .map_err(|e| format!("TCP_NODELAY: {e}"))?;
        Ok(Conn {
            stream,
            read: Vec::with_capacity(4096),
            write: Vec::with_capacity(4096),
            closed: false,
        })
    }

    /// This connection if it can carry another request, else a new one
    /// (`None`: the server refuses connections).
    async fn renewed(self, addr: SocketAddr, force: bool) -> Option<Conn> {
        if self.closed || force {
            Conn::open(addr).await.ok()
        } else {
            Some(self)
        }
    }

    /// Sends the load's next request and reads the whole answer; its status.
    async fn exchange(&mut self, load: &Load, host: &[u8]) -> Result<u16, String> {
        let mut request = std::mem::take(&mut self.write);
        request.clear();
        load.write_request(host, &mut request);
        let answer = self.send(&request).await;
        self.write = request;
        if answer.is_err() {
            self.closed = true;
        }
        answer
    }

    async fn send(&mut self, request: &[u8]) -> Result<u16, String> {
        self.stream
            .write_all(request)
            .await
            .map_err(|e| e.to_string())?;
        loop {
            if let Some(end) = self.read.windows(4).position(|w| w == b"\r\n\r\n") {
                let head_len = end + 4;
                let head = parse_head(&self.read[..head_len])?;
                let total = head_len + head.content_length;
                while self.read.len() < total {
                    self.fill().await?;
                }
                self.read.drain(..total);
                self.closed |= head.close;
                return Ok(head.status);
            }
            self.fill().await?;
        }
    }

    async fn fill(&mut self) -> Result<(), String> {
        self.read.reserve(4096);
        match self.stream.read_buf(&mut self.read).await {
            Ok(0) => Err("connection closed by the server".into()),
            Ok(_) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// What the generator needs from a response head.
struct Head {
    status: u16,
    content_length: usize,
    close: bool,
}

fn parse_head(head: &[u8]) -> Result<Head, String> {
    let text = std::str::from_utf8(head).map_err(|_| "response head is not UTF-8")?;
    let mut lines = text.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.strip_prefix("HTTP/1.1 "))
        .and_then(|l| l.get(..3))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("not an HTTP/1.1 status line: {text:?}"))?;
    let mut parsed = Head {
        status,
        content_length: 0,
        close: false,
    };
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            parsed.content_length = value
                .parse()
                .map_err(|_| format!("bad Content-Length {value:?}"))?;
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            // hookgate answers with a length; anything else is a surprise.
            return Err(format!("unexpected Transfer-Encoding {value:?}"));
        } else if name.eq_ignore_ascii_case("connection") {
            parsed.close = value.eq_ignore_ascii_case("close");
        }
    }
    Ok(parsed)
}

/// What one run measured.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Requests answered 200.
    pub ok: u64,
    /// Answers by status other than 200; 0 stands for no answer (connection
    /// error or timeout).
    pub failed: BTreeMap<u16, u64>,
    /// Requests due within the run that got no answer before its deadline
    /// (paced runs only).
    pub unfinished: u64,
    /// From the start of the run to the last answer.
    pub elapsed: Duration,
    /// Latencies of the 200 answers in microseconds, sorted; unfinished
    /// requests at the end as `u32::MAX`.
    latencies_us: Vec<u32>,
}

impl Outcome {
    pub fn failures(&self) -> u64 {
        self.failed.values().sum()
    }

    /// 200 answers per second.
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The latency below which `p` of the requests fall, in milliseconds;
    /// infinite when that share includes requests never answered.
    pub fn percentile_ms(&self, p: f64) -> Option<f64> {
        if self.latencies_us.is_empty() {
            return None;
        }
        let n = self.latencies_us.len();
        let rank = ((n as f64 * p).ceil() as usize).clamp(1, n) - 1;
        Some(match self.latencies_us[rank] {
            u32::MAX => f64::INFINITY,
            us => f64::from(us) / 1000.0,
        })
    }

    fn merge(tallies: Vec<Tally>, started: Instant, unfinished: u64) -> Outcome {
        let mut outcome = Outcome {
            unfinished,
            ..Outcome::default()
        };
        let mut last = started;
        for t in tallies {
            outcome.ok += t.ok;
            for (status, n) in t.failed {
                *outcome.failed.entry(status).or_default() += n;
            }
            outcome.latencies_us.extend(t.latencies_us);
            last = last.max(t.last);
        }
        outcome.latencies_us.sort_unstable();
        outcome
            .latencies_us
            .extend(std::iter::repeat_n(u32::MAX, unfinished as usize));
        outcome.elapsed = last - started;
        outcome
    }
}

/// One connection task's counts.
struct Tally {
    ok: u64,
    failed: BTreeMap<u16, u64>,
    latencies_us: Vec<u32>,
    last: Instant,
}

impl Tally {
    fn new(started: Instant) -> Tally {
        Tally {
            ok: 0,
            failed: BTreeMap::new(),
            latencies_us: Vec::new(),
            last: started,
        }
    }

    fn answered(&mut self, status: Result<u16, String>, latency: Duration, at: Instant) {
        match status {
            Ok(200) => {
                self.ok += 1;
                self.latencies_us
                    .push(latency.as_micros().min(u128::from(u32::MAX - 1)) as u32);
            }
            Ok(other) => *self.failed.entry(other).or_default() += 1,
            Err(_) => *self.failed.entry(0).or_default() += 1,
        }
        self.last = at;
    }
}

/// Every connection sends back to back until `duration` is over or
/// `max_requests` have been sent, whichever comes first.
pub async fn closed_loop(
    pool: &mut Pool,
    load: &Load,
    duration: Duration,
    max_requests: Option<u64>,
) -> Outcome {
    pool.refill().await;
    let started = Instant::now();
    let end = started + duration;
    let tickets = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for mut conn in pool.conns.drain(..) {
        let (load, host, addr, tickets) =
            (load.clone(), pool.host.clone(), pool.addr, tickets.clone());
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::new(started);
            loop {
                let sent = Instant::now();
                if sent >= end
                    || max_requests
                        .is_some_and(|max| tickets.fetch_add(1, Ordering::Relaxed) >= max)
                {
                    break;
                }
                let status = tokio::time::timeout(REQUEST_TIMEOUT, conn.exchange(&load, &host))
                    .await
                    .unwrap_or_else(|_| Err("timed out".into()));
                let done = Instant::now();
                tally.answered(status, done - sent, done);
                // A timed-out exchange leaves the connection mid-answer.
                match conn.renewed(addr, done - sent >= REQUEST_TIMEOUT).await {
                    Some(usable) => conn = usable,
                    None => return (tally, None),
                }
            }
            (tally, Some(conn))
        }));
    }
    let tallies = pool.gather(tasks).await;
    Outcome::merge(tallies, started, 0)
}

/// `rate` requests per second on a fixed schedule for `duration`, spread
/// over the pool's connections. Requests still unanswered 10 s after the
/// schedule ended count as unfinished.
pub async fn paced(pool: &mut Pool, load: &Load, rate: f64, duration: Duration) -> Outcome {
    pool.refill().await;
    let total = (rate * duration.as_secs_f64()).round() as u64;
    // A short lead so every task is waiting when the first request is due.
    let started = Instant::now() + Duration::from_millis(20);
    let deadline = started + duration + Duration::from_secs(10);
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for mut conn in pool.conns.drain(..) {
        let (load, host, addr, next) = (load.clone(), pool.host.clone(), pool.addr, next.clone());
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::new(started);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let due = started + Duration::from_secs_f64(i as f64 / rate);
                let picked = Instant::now();
                if picked >= deadline {
                    break;
                }
                tokio::time::sleep_until(due.into()).await;
                let sent = Instant::now();
                // Picked before it was due: this connection was free, and any
                // gap up to `sent` is the generator's timer, not the server.
                // Picked late: every connection was busy, the wait counts.
                let origin = if picked <= due { sent } else { due };
                let status =
                    match tokio::time::timeout_at(deadline.into(), conn.exchange(&load, &host))
                        .await
                    {
                        Ok(status) => status,
                        // Past the deadline: unfinished, not failed.
                        Err(_) => return (tally, None),
                    };
                let done = Instant::now();
                tally.answered(status, done - origin, done);
                match conn.renewed(addr, false).await {
                    Some(usable) => conn = usable,
                    None => return (tally, None),
                }
            }
            (tally, Some(conn))
        }));
    }
    let tallies = pool.gather(tasks).await;
    let answered: u64 = tallies
        .iter()
        .map(|t| t.ok + t.failed.values().sum::<u64>())
        .sum();
    Outcome::merge(tallies, started, total.saturating_sub(answered))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_heads_give_status_length_and_close() {
        let head = parse_head(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 42\r\n\r\n",
        )
        .unwrap();
        assert_eq!(
            (head.status, head.content_length, head.close),
            (200, 42, false)
        );
        let head = parse_head(
            b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 5\r\n\r\n",
        )
        .unwrap();
        assert_eq!(
            (head.status, head.content_length, head.close),
            (503, 0, true)
        );
        assert!(parse_head(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n").is_err());
        assert!(parse_head(b"garbage\r\n\r\n").is_err());
    }

    #[test]
    fn gitlab_requests_are_complete_signed_and_unique() {
        let events = GitlabEvents::new("/ingest/gitlab", "tok", 7);
        let (mut first, mut second) = (Vec::new(), Vec::new());
        events.write_request(b"Host: h\r\n", &mut first);
        events.write_request(b"Host: h\r\n", &mut second);
        let text = String::from_utf8(first).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("POST /ingest/gitlab HTTP/1.1\r\nHost: h\r\n"));
        assert!(head.contains("X-Gitlab-Token: tok\r\n"));
        assert!(head.contains(&format!("Content-Length: {}\r\n", body.len())));
        assert_eq!(body.len(), events.body_len());
        assert!(serde_json::from_str::<serde_json::Value>(body).is_ok());
        let id = |text: &str| {
            let line = text
                .lines()
                .find(|l| l.starts_with("Idempotency-Key: "))
                .unwrap();
            line.to_string()
        };
        let second = String::from_utf8(second).unwrap();
        assert_ne!(id(&text), id(&second));
        assert!(text.contains(&id(&text).replace("Idempotency-Key", "X-Gitlab-Event-UUID")));
    }

    #[test]
    fn unanswered_requests_sit_at_the_top_of_the_percentiles() {
        let started = Instant::now();
        let mut tally = Tally::new(started);
        for ms in 1..=98 {
            tally.answered(Ok(200), Duration::from_millis(ms), started);
        }
        tally.answered(Ok(503), Duration::from_millis(1), started);
        let outcome = Outcome::merge(vec![tally], started, 2);
        assert_eq!(outcome.ok, 98);
        assert_eq!(outcome.failures(), 1);
        assert_eq!(outcome.percentile_ms(0.50), Some(50.0));
        assert_eq!(outcome.percentile_ms(0.98), Some(98.0));
        assert_eq!(outcome.percentile_ms(0.99), Some(f64::INFINITY));
    }
}
