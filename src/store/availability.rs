//! Whether the store answers: one log line when it stops (the first call
//! that finds it unavailable) and one when it is back (the first write that
//! commits after that), with how long it was out. Every request that fails
//! in between is logged once where it is answered, not here.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::Error;

/// One store's availability, shared by every call on it.
#[derive(Debug, Default)]
pub(crate) struct Availability {
    /// Fast path: whether an outage is under way.
    down: AtomicBool,
    /// When the outage was first seen.
    since: Mutex<Option<Instant>>,
}

/// Which calls may end an outage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Call {
    /// A write: its commit shows the store can take writes again.
    Write,
    /// A read: its failure starts an outage, but its success ends none (a
    /// standby in recovery answers reads and refuses every write).
    Read,
}

impl Availability {
    /// Notes the outcome of a call that started at `started`.
    pub(crate) fn observe<T>(&self, call: Call, started: Instant, result: &Result<T, Error>) {
        match result {
            Err(Error::Unavailable(cause)) => self.failed(cause),
            Ok(_) if call == Call::Write && self.down.load(Ordering::Relaxed) => {
                self.committed(started)
            }
            _ => {}
        }
    }

    fn failed(&self, cause: &str) {
        if self.down.load(Ordering::Relaxed) {
            return;
        }
        let mut since = self.since.lock().unwrap_or_else(|e| e.into_inner());
        if since.is_none() {
            *since = Some(Instant::now());
            self.down.store(true, Ordering::Relaxed);
            tracing::warn!(error = %cause, "store became unavailable");
        }
    }

    /// A write committed. It ends the outage only if it started after the
    /// outage was seen: one that began earlier says nothing about now.
    fn committed(&self, started: Instant) {
        let mut since = self.since.lock().unwrap_or_else(|e| e.into_inner());
        let Some(began) = *since else { return };
        if started < began {
            return;
        }
        *since = None;
        self.down.store(false, Ordering::Relaxed);
        let out_for: Duration = began.elapsed();
        tracing::info!(
            out_for_ms = out_for.as_millis() as u64,
            "store available again"
        );
    }

    #[cfg(test)]
    fn is_down(&self) -> bool {
        self.down.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unavailable() -> Result<(), Error> {
        Err(Error::Unavailable("connection refused".into()))
    }

    #[test]
    fn an_unavailable_error_starts_an_outage_and_a_later_write_ends_it() {
        let a = Availability::default();
        a.observe(Call::Write, Instant::now(), &Ok(()));
        assert!(!a.is_down());
        a.observe(Call::Read, Instant::now(), &unavailable());
        assert!(a.is_down());
        a.observe(Call::Write, Instant::now(), &Ok(()));
        assert!(!a.is_down());
    }

    #[test]
    fn a_read_or_an_older_write_does_not_end_an_outage() {
        let a = Availability::default();
        let before = Instant::now();
        a.observe(Call::Write, Instant::now(), &unavailable());
        a.observe(Call::Read, Instant::now(), &Ok(()));
        assert!(
            a.is_down(),
            "reads succeed on a standby that refuses writes"
        );
        a.observe(Call::Write, before, &Ok(()));
        assert!(a.is_down(), "a write that began before the outage");
    }

    #[test]
    fn other_errors_are_not_outages() {
        let a = Availability::default();
        a.observe(Call::Write, Instant::now(), &Err::<(), _>(Error::NotFound));
        a.observe(
            Call::Write,
            Instant::now(),
            &Err::<(), _>(Error::Internal("syntax".into())),
        );
        assert!(!a.is_down());
    }
}
