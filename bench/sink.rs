//! The fast local target: an in-process HTTP server that answers every
//! delivery 200 at once and counts what it received, and how many
//! deliveries it saw twice (same target, same `webhook-id`), which
//! exactly-once delivery must keep at zero.
//!
//! The count and its times are those of the two targets every event goes
//! to ([`TARGETS`]); deliveries to any other path (the extra targets of the
//! `protected` scenario) are counted apart, per path, so they never pass for
//! deliveries of the routes being measured.
//!
//! It runs on its own thread and single-threaded runtime, so its counters
//! never wait behind the load generator's tasks.

use std::collections::{BTreeMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;

use crate::process::TARGETS;

#[derive(Default)]
struct Counters {
    received: AtomicU64,
    duplicates: AtomicU64,
    /// Hashes of (target path, webhook-id) seen so far. A 64-bit hash keeps
    /// a million deliveries in a few tens of MiB; a collision would need
    /// billions of them.
    seen: Mutex<HashSet<u64>>,
    /// Nanoseconds after `epoch` of the first delivery since the last
    /// [`Sink::mark`] (0: none yet), and of the latest delivery.
    first_ns: AtomicU64,
    last_ns: AtomicU64,
    /// Deliveries to paths other than [`TARGETS`], by path.
    others: Mutex<BTreeMap<String, u64>>,
}

pub struct Sink {
    pub addr: SocketAddr,
    epoch: Instant,
    counters: Arc<Counters>,
}

/// A reading of the sink's counters.
#[derive(Debug, Clone, Copy)]
pub struct SinkCount {
    /// Deliveries to [`TARGETS`].
    pub received: u64,
    pub duplicates: u64,
    /// When the first delivery since [`Sink::mark`] arrived, if any did.
    pub first: Option<Instant>,
    /// When the latest delivery arrived, if any did.
    pub last: Option<Instant>,
}

/// The name of the sink's thread, to read its CPU time.
pub const THREAD: &str = "bench-sink";

impl Sink {
    /// Binds 127.0.0.1 on a free port and serves on a thread of its own.
    pub fn start() -> Sink {
        let counters = Arc::new(Counters::default());
        let epoch = Instant::now();
        let (ready, addr) = std::sync::mpsc::channel();
        let state = (counters.clone(), epoch);
        std::thread::Builder::new()
            .name(THREAD.into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("sink runtime");
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                        .await
                        .expect("bind the sink");
                    ready
                        .send(listener.local_addr().expect("sink address"))
                        .expect("bench waits for the sink");
                    let app = Router::new()
                        .route("/{target}", post(receive))
                        .with_state(Arc::new(state));
                    axum::serve(listener, app).await.expect("sink serves");
                });
            })
            .expect("spawn the sink thread");
        let addr = addr
            .recv_timeout(Duration::from_secs(10))
            .expect("sink started");
        Sink {
            addr,
            epoch,
            counters,
        }
    }

    pub fn count(&self) -> SinkCount {
        let at = |ns: u64| (ns > 0).then(|| self.epoch + Duration::from_nanos(ns));
        SinkCount {
            received: self.counters.received.load(Ordering::Acquire),
            duplicates: self.counters.duplicates.load(Ordering::Acquire),
            first: at(self.counters.first_ns.load(Ordering::Acquire)),
            last: at(self.counters.last_ns.load(Ordering::Acquire)),
        }
    }

    /// Forgets when the first delivery came, so the next one is timed as
    /// the first: the start of a drain.
    pub fn mark(&self) {
        self.counters.first_ns.store(0, Ordering::Release);
    }

    /// Deliveries to paths other than [`TARGETS`] so far, by path.
    pub fn others(&self) -> BTreeMap<String, u64> {
        self.counters.others.lock().expect("sink others").clone()
    }

    /// The URL of one target on this sink.
    pub fn url(&self, target: &str) -> String {
        format!("http://{}/{target}", self.addr)
    }
}

async fn receive(
    State(state): State<Arc<(Arc<Counters>, Instant)>>,
    Path(target): Path<String>,
    headers: HeaderMap,
    // Read the body as a real target would; an unread body would also
    // cost the keep-alive connection.
    _body: Bytes,
) -> StatusCode {
    let (counters, epoch) = &*state;
    let mut hasher = DefaultHasher::new();
    target.hash(&mut hasher);
    headers
        .get("webhook-id")
        .map(|v| v.as_bytes())
        .hash(&mut hasher);
    let fresh = counters
        .seen
        .lock()
        .expect("sink set")
        .insert(hasher.finish());
    if !fresh {
        counters.duplicates.fetch_add(1, Ordering::Relaxed);
    }
    if !TARGETS.contains(&target.as_str()) {
        *counters
            .others
            .lock()
            .expect("sink others")
            .entry(target)
            .or_default() += 1;
        return StatusCode::OK;
    }
    let now = (epoch.elapsed().as_nanos() as u64).max(1);
    let _ = counters
        .first_ns
        .compare_exchange(0, now, Ordering::AcqRel, Ordering::Relaxed);
    counters.last_ns.fetch_max(now, Ordering::AcqRel);
    counters.received.fetch_add(1, Ordering::AcqRel);
    StatusCode::OK
}
