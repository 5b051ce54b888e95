//! What `/readyz` knows about the SQLite writer without waiting for it.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use crate::ids::now_ms;

/// How long a failed write keeps `/readyz` at 503 when nothing has been
/// committed since.
const UNHEALTHY_FOR_MS: i64 = 10_000;

#[derive(Debug, Default)]
pub struct Health {
    /// Whether the latest batch that carried data (not only a heartbeat
    /// or a claim) committed.
    last_ok: AtomicBool,
    /// When a batch last failed (epoch ms, 0 = never).
    last_failure_at: AtomicI64,
}

impl Health {
    /// False while the latest batch failed, for a short while after it.
    pub fn writes_ok(&self, now: i64) -> bool {
        self.last_ok.load(Ordering::Acquire)
            || now - self.last_failure_at.load(Ordering::Acquire) > UNHEALTHY_FOR_MS
    }

    pub(super) fn committed(&self) {
        self.last_ok.store(true, Ordering::Release);
    }

    pub(super) fn failed(&self) {
        self.last_failure_at.store(now_ms(), Ordering::Release);
        self.last_ok.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_counts_until_a_commit_or_for_a_while() {
        let health = Health::default();
        health.committed();
        assert!(health.writes_ok(now_ms()));
        health.failed();
        assert!(!health.writes_ok(now_ms()));
        assert!(health.writes_ok(now_ms() + UNHEALTHY_FOR_MS + 1));
        health.committed();
        assert!(health.writes_ok(now_ms()));
    }
}
