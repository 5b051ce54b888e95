//! The HTTP server: an accept loop over hyper's HTTP/1 connections that an
//! internet-facing endpoint can survive.
//!
//! - Each connection has a watchdog (`conn`, over the state in `watch`
//!   and the socket wrapper in `socket`) enforcing
//!   `header_timeout_ms` (a request head must arrive in time, from the
//!   accept or its first byte) and `idle_timeout_ms` (a kept-alive
//!   connection waiting for its next request). hyper's own header timer is
//!   not used: it starts as soon as a response is written, so it would
//!   also cut idle keep-alive connections and cannot express both limits.
//! - At most `max_connections` connections at once, lowered to what the
//!   open-file limit allows. When full, the connection that has waited
//!   longest for a request (idle, or still sending its head) is closed for
//!   the newcomer, so slow clients cannot hold the service; when all are
//!   busy with requests, the newcomer waits.
//! - Request bodies, all together, stay within `max_inflight_body_bytes`
//!   (`budget`): past it a request is answered 503 before its body is read.
//! - A failed accept (out of file descriptors) frees one idle connection and
//!   backs off instead of spinning.
//! - On stop: the listener closes, idle connections close, requests in
//!   flight are answered, and whatever is left after the drain time is cut.

mod budget;
mod conn;
mod socket;
mod watch;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use watch::Watch;

pub use budget::{BodyBudget, OverBudget};

/// What the server enforces per connection and in all.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
    /// How long connections may take to finish once stopped.
    pub drain: Duration,
}

/// The longest request head (request line and headers) hyper reads; a
/// longer one is answered 431.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// The most header fields in one request; more are answered 431.
pub const MAX_HEADERS: usize = 100;

const BACKOFF_MIN: Duration = Duration::from_millis(5);
const BACKOFF_MAX: Duration = Duration::from_millis(500);

/// Raises the open-file soft limit to the hard limit (each connection is a
/// file descriptor) and returns the soft limit now in force, if known.
pub fn raise_open_file_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => Some(limit),
        Err(e) => {
            tracing::warn!(error = %e, "cannot raise the open-file limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE)
                .ok()
                .map(|(soft, _)| soft)
        }
    }
}

/// The connection cap: the configured one, lowered so that connections
/// plus `reserved` descriptors (database, outbound deliveries, files) stay
/// under the open-file limit, but never below 16.
pub fn connection_cap(configured: usize, open_file_limit: Option<u64>, reserved: u64) -> usize {
    match open_file_limit {
        Some(limit) => {
            let room = limit.saturating_sub(reserved).max(16);
            configured.min(usize::try_from(room).unwrap_or(usize::MAX))
        }
        None => configured,
    }
}

/// The live connections, so that one can be chosen to give way.
#[derive(Default)]
struct Registry {
    next_id: AtomicU64,
    live: Mutex<HashMap<u64, Arc<Watch>>>,
}

impl Registry {
    fn add(&self, watch: Arc<Watch>) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, watch);
        id
    }

    fn remove(&self, id: u64) {
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
    }

    /// Asks the connection that has waited longest without a request in
    /// progress to close; false when every connection is busy.
    fn evict_one(&self) -> bool {
        let live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        let oldest = live
            .values()
            .filter_map(|w| w.waiting_since().map(|since| (since, w)))
            .min_by_key(|(since, _)| *since);
        match oldest {
            Some((_, watch)) => {
                watch.evict();
                true
            }
            None => false,
        }
    }
}

/// Serves `router` on `listener` until `stop` is cancelled, then drains.
/// Request bodies count against `budget`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    budget: Arc<BodyBudget>,
    stop: CancellationToken,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let registry = Arc::new(Registry::default());
    let tasks = TaskTracker::new();
    let cut = CancellationToken::new();
    let mut backoff = BACKOFF_MIN;
    loop {
        let accepted = tokio::select! {
            biased;
            _ = stop.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => {
                backoff = BACKOFF_MIN;
                pair
            }
            // The peer gave up before we took it: nothing to do.
            Err(e) if is_per_connection(&e) => continue,
            Err(e) => {
                // Usually EMFILE: close the longest-idle connection so the
                // next accept has a descriptor, and do not spin meanwhile.
                let freed = registry.evict_one();
                if backoff == BACKOFF_MIN {
                    tracing::warn!(error = %e, freed_idle_connection = freed, "accept failed; backing off");
                }
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(BACKOFF_MAX);
                continue;
            }
        };
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                registry.evict_one();
                tokio::select! {
                    _ = stop.cancelled() => break,
                    slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
                }
            }
        };
        // Registered at accept, so "longest waiting" follows accept order.
        let watch = Arc::new(Watch::new());
        let id = registry.add(Arc::clone(&watch));
        tasks.spawn(conn::serve(
            stream,
            peer,
            router.clone(),
            limits,
            (Arc::clone(&registry), id, watch),
            Arc::clone(&budget),
            stop.clone(),
            cut.clone(),
            slot,
        ));
    }
    drop(listener);
    crate::shutdown::drain(&tasks, limits.drain, &cut, |open| {
        tracing::warn!(
            open,
            "connections still open after the drain time; closing them"
        );
    })
    .await;
    Ok(())
}

/// Accept errors that concern only the connection being accepted.
fn is_per_connection(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted | WouldBlock
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_follows_the_open_file_limit() {
        assert_eq!(connection_cap(10_000, Some(256), 56), 200);
        assert_eq!(connection_cap(100, Some(1 << 20), 56), 100);
        assert_eq!(connection_cap(10_000, Some(40), 56), 16);
        assert_eq!(connection_cap(10_000, None, 56), 10_000);
    }
}
