//! Retention: a background task that deletes, in bounded batches, events
//! older than `retention.days` whose deliveries are all finished (delivered
//! or dead), with their deliveries, attempts and conflicts. Small batches
//! keep each delete short, so ingest never waits long behind it.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::config::RetentionConfig;
use crate::ids::now_ms;
use crate::store::Store;

/// Prunes everything due now; returns the rows deleted.
pub async fn prune_once(
    store: &Store,
    config: &RetentionConfig,
    now: i64,
) -> crate::store::Result<u64> {
    let cutoff = now - i64::from(config.days) * 86_400_000;
    let batch = i64::from(config.batch_size.max(1));
    let mut total = 0;
    loop {
        let deleted = store.prune(cutoff, batch).await?;
        total += deleted;
        metrics::counter!("hookgate_retention_pruned_total").increment(deleted);
        if deleted < batch as u64 {
            return Ok(total);
        }
        // Let ingest have the store between batches.
        tokio::task::yield_now().await;
    }
}

/// Runs [`prune_once`] every `interval_secs` until `stop`, the first time
/// one interval after start, so start-up is never slowed by a large prune.
pub async fn run(store: Arc<Store>, config: RetentionConfig, stop: CancellationToken) {
    let interval = Duration::from_secs(config.interval_secs.max(1));
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
        match prune_once(&store, &config, now_ms()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(rows = n, days = config.days, "retention pruned old events"),
            Err(e) => tracing::warn!(error = %e, "retention pass failed; will try again"),
        }
    }
}
