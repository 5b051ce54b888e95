//! What the storage-fault tests share: filesystems a test mounts and breaks
//! itself (a tmpfs that fills up, an ext4 image that turns read-only), a
//! load of signed events with a ledger of every answer, and the audit at the
//! end: every acknowledged event stored and delivered, nothing delivered that
//! is not stored.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::*;

/// Whether this test may mount filesystems. Root may; anyone else skips the
/// test with a message, except in CI, where a skip would hide the test.
pub fn can_mount(test: &str) -> bool {
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(str::to_string))
        })
        .unwrap_or_else(|| "unknown".into());
    if uid == "0" {
        return true;
    }
    assert!(
        std::env::var("CI").is_err(),
        "{test}: CI is set but the tests do not run as root (uid {uid}): mounting is needed"
    );
    eprintln!("{test}: skipped: mounting a filesystem needs root, this is uid {uid}");
    false
}

/// Runs a command, panicking with its output when it fails.
pub fn must(program: &str, args: &[&str]) {
    if let Err(e) = run(program, args) {
        panic!("{e}");
    }
}

/// Runs a command; `Err` names it and carries what it printed.
pub fn run(program: &str, args: &[&str]) -> Result<std::process::ExitStatus, String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("{program} {args:?}: {e}"))?;
    if out.status.success() {
        Ok(out.status)
    } else {
        Err(format!(
            "{program} {args:?}: {}: {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// A filesystem mounted by the test on a fresh folder. Dropping it unmounts
/// it, lazily if something still holds it, so a failing test leaves no mount
/// behind.
pub struct Mount {
    dir: tempfile::TempDir,
    mounted: bool,
}

impl Mount {
    /// A tmpfs of `size` (`2m`, `64m`...).
    pub fn tmpfs(size: &str) -> Mount {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_str().unwrap().to_string();
        must(
            "mount",
            &["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs", &path],
        );
        Mount { dir, mounted: true }
    }

    /// An ext4 filesystem in `image` (made with [`make_ext4`]) on a loop
    /// device, with `errors=remount-ro` as most distributions mount it.
    pub fn ext4(image: &Path) -> Mount {
        let mut mount = Mount {
            dir: tempfile::tempdir().unwrap(),
            mounted: false,
        };
        mount.mount_ext4(image);
        mount
    }

    /// Mounts `image` (again) on this mount's folder.
    pub fn mount_ext4(&mut self, image: &Path) {
        assert!(!self.mounted);
        must(
            "mount",
            &[
                "-t",
                "ext4",
                "-o",
                "loop,errors=remount-ro",
                image.to_str().unwrap(),
                self.path().to_str().unwrap(),
            ],
        );
        self.mounted = true;
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `mount -o remount,<options>`.
    pub fn remount(&self, options: &str) {
        must(
            "mount",
            &[
                "-o",
                &format!("remount,{options}"),
                self.path().to_str().unwrap(),
            ],
        );
    }

    /// What the kernel does to an ext4 filesystem mounted with
    /// `errors=remount-ro` when it finds an error on disk: from this moment
    /// every write to it fails with EROFS, also through files already open.
    pub fn ext4_error(&self) {
        let device = self.source();
        let name = device.rsplit('/').next().unwrap();
        std::fs::write(format!("/sys/fs/ext4/{name}/trigger_fs_error"), "1")
            .unwrap_or_else(|e| panic!("cannot trigger an ext4 error on {device}: {e}"));
    }

    /// The mounted device, from `/proc/self/mounts`.
    fn source(&self) -> String {
        let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap();
        let path = self.path().to_str().unwrap();
        mounts
            .lines()
            .filter_map(|l| {
                let mut fields = l.split_whitespace();
                let (source, target) = (fields.next()?, fields.next()?);
                (target == path).then(|| source.to_string())
            })
            .next_back()
            .unwrap_or_else(|| panic!("{path} is not mounted"))
    }

    /// Unmounts now, keeping the folder; the caller has stopped everything
    /// that used it.
    pub fn unmount(&mut self) {
        must("umount", &[self.path().to_str().unwrap()]);
        self.mounted = false;
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        if self.mounted {
            let path = self.path().to_str().unwrap().to_string();
            if run("umount", &[&path]).is_err() {
                let _ = run("umount", &["-l", &path]);
            }
        }
    }
}

/// Makes a fresh ext4 filesystem of `mib` MiB in the file `image`.
pub fn make_ext4(image: &Path, mib: u64) {
    let file = std::fs::File::create(image).unwrap();
    file.set_len(mib * 1024 * 1024).unwrap();
    drop(file);
    must("mkfs.ext4", &["-q", "-F", image.to_str().unwrap()]);
}

/// A config file (outside any filesystem under test) for a database and
/// routes, and the real binary started on it.
pub struct Binary {
    config: PathBuf,
    _dir: tempfile::TempDir,
}

impl Binary {
    pub fn new(db_url: &str, extra: &str) -> Binary {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("hookgate.toml");
        TestConfig::new()
            .database(db_url)
            .with(extra)
            .write(&config);
        Binary { config, _dir: dir }
    }

    /// hookgate on a SQLite file in `dir`, every Stripe event routed to
    /// `target`.
    pub fn sqlite_in(dir: &Path, target: &TestTarget) -> Binary {
        Binary::new(
            &format!("sqlite://{}/hookgate.db", dir.display()),
            &Route::new("stripe", "t")
                .url(&target.url)
                .timeout_ms(2000)
                .toml(),
        )
    }

    pub fn start(&self) -> Proc {
        spawn_binary(&self.config, &[], &[])
    }
}

/// Every answer of a run, and the provider event IDs still to be sent.
pub struct Ledger {
    prefix: String,
    pad: usize,
    next: usize,
    /// Send again what was not answered 200, as a provider retries.
    provider_retries: bool,
    retry: VecDeque<String>,
    pub answers: Vec<Answer>,
}

impl Ledger {
    pub fn new(prefix: &str, pad: usize, provider_retries: bool) -> Ledger {
        Ledger {
            prefix: prefix.to_string(),
            pad,
            next: 0,
            provider_retries,
            retry: VecDeque::new(),
            answers: Vec::new(),
        }
    }

    /// The next `n` IDs to send: retries first, then new events.
    fn take(&mut self, n: usize) -> Vec<String> {
        let mut ids: Vec<String> = Vec::with_capacity(n);
        while ids.len() < n {
            match self.retry.pop_front() {
                Some(id) => ids.push(id),
                None => {
                    ids.push(format!("{}{}", self.prefix, self.next));
                    self.next += 1;
                }
            }
        }
        ids
    }

    fn record(&mut self, answers: Vec<Answer>) {
        for a in answers {
            if self.provider_retries && a.status != Some(200) {
                self.retry.push_back(a.provider_id.clone());
            }
            self.answers.push(a);
        }
    }

    /// Queues every provider event ID never answered 200 to be sent again,
    /// as the provider would after a 503 or a cut connection.
    pub fn retry_unacknowledged(&mut self) {
        let acked = self.acknowledged();
        let mut queued: HashSet<String> = self.retry.iter().cloned().collect();
        let ids: Vec<String> = self.answers.iter().map(|a| a.provider_id.clone()).collect();
        for id in ids {
            if !acked.contains_key(&id) && queued.insert(id.clone()) {
                self.retry.push_back(id);
            }
        }
    }

    /// How many provider event IDs wait to be sent again.
    pub fn retries_left(&self) -> usize {
        self.retry.len()
    }

    /// Provider event ID -> event ID of every event answered 200.
    pub fn acknowledged(&self) -> HashMap<String, String> {
        let mut acked = HashMap::new();
        for a in &self.answers {
            if let (Some(200), Some(id)) = (a.status, &a.event_id) {
                acked.insert(a.provider_id.clone(), id.clone());
            }
        }
        acked
    }

    pub fn count(&self, status: Option<u16>) -> usize {
        self.answers.iter().filter(|a| a.status == status).count()
    }

    /// The answers counted by kind.
    pub fn summary(&self) -> String {
        let (ok, unavailable, none) = (
            self.count(Some(200)),
            self.count(Some(503)),
            self.count(None),
        );
        format!(
            "{} requests: {ok} answered 200, {unavailable} answered 503, {none} without answer, {} other",
            self.answers.len(),
            self.answers.len() - ok - unavailable - none
        )
    }

    /// Fails the test on any answer outside the contract (see
    /// [`Answer::keeps_contract`]), naming the first few.
    pub fn assert_contract_kept(&self, no_answer_ok: bool) {
        let broken: Vec<&Answer> = self
            .answers
            .iter()
            .filter(|a| !a.keeps_contract(no_answer_ok))
            .collect();
        assert!(
            broken.is_empty(),
            "{} answers were neither 200 nor 503 with Retry-After: {:?}",
            broken.len(),
            first(&broken)
        );
    }

    /// Two answers for one provider event ID that name different events.
    pub fn split_events(&self) -> Vec<String> {
        let mut seen: HashMap<&str, &str> = HashMap::new();
        let mut split = Vec::new();
        for a in &self.answers {
            if let Some(id) = &a.event_id {
                if let Some(first) = seen.insert(&a.provider_id, id) {
                    if first != id {
                        split.push(a.provider_id.clone());
                    }
                }
            }
        }
        split
    }
}

/// One round: `clients` requests at once, each a client of its own.
pub async fn round(
    client: &reqwest::Client,
    base: &str,
    ledger: &Mutex<Ledger>,
    clients: usize,
) -> Vec<Answer> {
    let (ids, pad) = {
        let mut l = ledger.lock().unwrap();
        (l.take(clients), l.pad)
    };
    let tasks: Vec<_> = ids
        .into_iter()
        .map(|id| {
            let (client, base) = (client.clone(), base.to_string());
            tokio::spawn(async move { send_stripe(&client, &base, &id, pad).await })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    ledger.lock().unwrap().record(answers.clone());
    answers
}

/// How a background load runs: a round of `clients` concurrent requests at
/// most every `interval`, until stopped or `max` requests were sent. The
/// interval caps the rate on any machine, so a fast store cannot send `max`
/// before the fault comes.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    pub clients: usize,
    pub interval: Duration,
    pub max: usize,
}

/// Runs a load on `base` until `stop` is set or `pace.max` requests were
/// sent; returns how many were sent.
pub async fn flood(
    client: reqwest::Client,
    base: String,
    ledger: Arc<Mutex<Ledger>>,
    pace: Pace,
    stop: Arc<AtomicBool>,
) -> usize {
    let mut sent = 0;
    while !stop.load(Ordering::SeqCst) && sent < pace.max {
        let next = tokio::time::Instant::now() + pace.interval;
        sent += round(&client, &base, &ledger, pace.clients).await.len();
        tokio::time::sleep_until(next).await;
    }
    sent
}

/// Rounds until `rounds_in_a_row` whole rounds are answered 200, or the
/// deadline passes; whether ingest got there.
pub async fn until_healthy(
    client: &reqwest::Client,
    base: &str,
    ledger: &Mutex<Ledger>,
    clients: usize,
    rounds_in_a_row: usize,
    within: Duration,
) -> bool {
    let deadline = Instant::now() + within;
    let mut good = 0;
    while Instant::now() < deadline {
        let answers = round(client, base, ledger, clients).await;
        if answers.iter().all(|a| a.status == Some(200)) {
            good += 1;
            if good == rounds_in_a_row {
                return true;
            }
        } else {
            good = 0;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    false
}

/// `GET /readyz`'s status, `None` when nothing answered.
pub async fn readyz(client: &reqwest::Client, base: &str) -> Option<u16> {
    let resp = client.get(format!("{base}/readyz")).send().await.ok()?;
    Some(resp.status().as_u16())
}

async fn admin_get(client: &reqwest::Client, base: &str, path: &str) -> (u16, Value) {
    let resp = client
        .get(format!("{base}/admin/v1{path}"))
        .header("Authorization", format!("Bearer {ADMIN_TOKEN}"))
        .send()
        .await
        .expect("the admin API answers");
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// What a run left behind, read through the admin API of a healthy process
/// and from what the targets received.
#[derive(Debug, Default)]
pub struct Audit {
    pub acknowledged: usize,
    /// Acknowledged events found in the store.
    pub stored: usize,
    /// Events in the store, acknowledged or not.
    pub events_in_store: i64,
    /// Acknowledged events that every routed target received.
    pub delivered: usize,
    /// Requests the targets received beyond the first per event.
    pub repeated: usize,
    /// Acknowledged but not in the store.
    pub lost: Vec<String>,
    /// Acknowledged and stored, but some target never received them.
    pub undelivered: Vec<String>,
    /// Received by a target but not in the store.
    pub phantom: Vec<String>,
    /// Deliveries whose `webhook-id` differs between attempts, or whose
    /// `Idempotency-Key` differs from it.
    pub unstable_ids: Vec<String>,
    /// Whether the outbox drained before the deadline.
    pub drained: bool,
}

impl Audit {
    /// Waits (bounded) until no delivery is pending, then checks every
    /// acknowledged event and every request the targets received.
    pub async fn run(base: &str, ledger: &Ledger, targets: &[&TestTarget]) -> Audit {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut audit = Audit::default();
        while Instant::now() < deadline {
            let (status, page) =
                admin_get(&client, base, "/deliveries?status=pending&limit=1").await;
            if status == 200 && page["items"].as_array().is_some_and(|i| i.is_empty()) {
                audit.drained = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Every stored event: event ID -> (provider event ID, status).
        let mut stored: HashMap<String, (String, String)> = HashMap::new();
        let mut path = "/events?limit=500".to_string();
        loop {
            let (status, page) = admin_get(&client, base, &path).await;
            assert_eq!(status, 200, "listing events: {page}");
            for e in page["items"].as_array().unwrap() {
                let field = |k: &str| e[k].as_str().unwrap_or_default().to_string();
                stored.insert(
                    field("event_id"),
                    (field("provider_event_id"), field("status")),
                );
            }
            match page["next_cursor"].as_str() {
                Some(cursor) => path = format!("/events?limit=500&cursor={cursor}"),
                None => break,
            }
        }
        audit.events_in_store = stored.len() as i64;

        let received: Vec<HashSet<String>> = targets
            .iter()
            .map(|t| t.webhook_ids().into_iter().collect())
            .collect();
        let acked = ledger.acknowledged();
        audit.acknowledged = acked.len();
        let mut acked_sorted: Vec<_> = acked.iter().collect();
        acked_sorted.sort();
        for (provider_id, event_id) in acked_sorted {
            match stored.get(event_id) {
                Some((p, status)) if p == provider_id => {
                    audit.stored += 1;
                    if status == "delivered" && received.iter().all(|got| got.contains(event_id)) {
                        audit.delivered += 1;
                    } else {
                        audit.undelivered.push(format!("{event_id} ({status})"));
                    }
                }
                _ => audit.lost.push(format!("{provider_id} ({event_id})")),
            }
        }

        for target in targets {
            let mut ids_per_event: HashMap<String, HashSet<String>> = HashMap::new();
            let requests = target.received();
            for r in &requests {
                let webhook_id = r.header("webhook-id").to_string();
                if r.header("idempotency-key") != webhook_id {
                    audit.unstable_ids.push(webhook_id.clone());
                }
                ids_per_event
                    .entry(r.header("x-hookgate-provider-event-id").to_string())
                    .or_default()
                    .insert(webhook_id);
            }
            let distinct: usize = ids_per_event.values().map(HashSet::len).sum();
            audit.repeated += requests.len() - distinct;
            for (provider_id, ids) in ids_per_event {
                if ids.len() > 1 {
                    audit.unstable_ids.push(provider_id);
                }
                for id in ids {
                    if !stored.contains_key(&id) && !audit.phantom.contains(&id) {
                        audit.phantom.push(id);
                    }
                }
            }
        }
        audit
    }

    /// The counts every fault test prints.
    pub fn summary(&self) -> String {
        format!(
            "{} of {} acknowledged stored ({} events in the store), {} delivered to every target, \
             {} repeated deliveries, {} lost, {} delivered though not stored",
            self.stored,
            self.acknowledged,
            self.events_in_store,
            self.delivered,
            self.repeated,
            self.lost.len(),
            self.phantom.len()
        )
    }

    /// The invariants every fault test ends with.
    pub fn assert_nothing_lost(&self, what: &str) {
        assert!(self.drained, "{what}: the outbox did not drain in time");
        assert!(
            self.lost.is_empty(),
            "{what}: {} acknowledged events are not stored: {:?}",
            self.lost.len(),
            first(&self.lost)
        );
        assert!(
            self.undelivered.is_empty(),
            "{what}: {} acknowledged events were not delivered: {:?}",
            self.undelivered.len(),
            first(&self.undelivered)
        );
        assert!(
            self.phantom.is_empty(),
            "{what}: {} deliveries of events that are not stored: {:?}",
            self.phantom.len(),
            first(&self.phantom)
        );
        assert!(
            self.unstable_ids.is_empty(),
            "{what}: repeats with another webhook-id or Idempotency-Key: {:?}",
            first(&self.unstable_ids)
        );
    }
}

/// The first few items, for a failure message that stays readable.
pub fn first<T: std::fmt::Debug>(items: &[T]) -> &[T] {
    &items[..items.len().min(5)]
}
