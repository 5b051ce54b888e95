//! The watchdog's view of one connection: which [`Phase`] it is in, since
//! when, and what the watchdog must do about it ([`Watch::check`]).
//!
//! The connection is always in one phase: `Head` (waiting for or reading a
//! request head; `header_timeout` runs), `Busy` (a request is in the router
//! or its answer is being written; the router's own `request_timeout`
//! applies) or `Idle` (kept alive between requests; `idle_timeout` runs).
//! The socket moves `Idle` to `Head` on the first byte read
//! ([`Watch::on_read`]), the service moves to `Busy`, and the end of the
//! answer's body moves to `Idle`.

use std::sync::{Mutex, MutexGuard};
use std::task::Waker;
use std::time::Instant;

use tokio::sync::futures::Notified;
use tokio::sync::Notify;

use super::Limits;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Head,
    Busy,
    Idle,
}

struct State {
    phase: Phase,
    since: Instant,
    /// Whether any byte of the current head has arrived.
    received: bool,
    /// Chosen to give way to a new connection.
    evicted: bool,
    /// The head took too long: the next read answers 408 and ends.
    expired: bool,
    answered_408: bool,
    read_waker: Option<Waker>,
}

/// The shared view of one connection, for its watchdog, its socket and the
/// registry.
pub struct Watch {
    state: Mutex<State>,
    changed: Notify,
}

/// What the watchdog must do now.
pub(super) enum Action {
    None,
    /// Close an idle connection through hyper.
    Close,
    /// Answer 408 and close.
    AnswerTimeout,
    /// Close without a word (nothing was asked).
    Drop,
}

/// What a read finds before it touches the socket.
pub(super) enum ReadGate {
    /// Read on.
    Open,
    /// The head came too late: the read ends the input. `answer` is true
    /// the first time, when the 408 is still to be written.
    Expired { answer: bool },
}

impl Watch {
    pub(super) fn new() -> Watch {
        Watch {
            state: Mutex::new(State {
                phase: Phase::Head,
                since: Instant::now(),
                received: false,
                evicted: false,
                expired: false,
                answered_408: false,
                read_waker: None,
            }),
            changed: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Since when this connection has waited for a request, unless one is in
    /// progress or it is already leaving.
    pub(super) fn waiting_since(&self) -> Option<Instant> {
        let s = self.lock();
        (s.phase != Phase::Busy && !s.evicted && !s.expired).then_some(s.since)
    }

    pub(super) fn evict(&self) {
        self.lock().evicted = true;
        self.changed.notify_one();
    }

    /// Resolves when the phase changed or the connection was evicted.
    pub(super) fn changed(&self) -> Notified<'_> {
        self.changed.notified()
    }

    pub(super) fn phase(&self) -> Phase {
        self.lock().phase
    }

    /// Called before every read; keeps the reader's waker so that
    /// [`Watch::expire`] can wake a read that waits for a late head.
    pub(super) fn before_read(&self, waker: &Waker) -> ReadGate {
        let mut s = self.lock();
        if s.expired {
            let answer = !s.answered_408;
            s.answered_408 = true;
            return ReadGate::Expired { answer };
        }
        match &s.read_waker {
            Some(w) if w.will_wake(waker) => {}
            _ => s.read_waker = Some(waker.clone()),
        }
        ReadGate::Open
    }

    /// Some bytes arrived: a head has begun.
    pub(super) fn on_read(&self) {
        let mut s = self.lock();
        s.received = true;
        if s.phase == Phase::Idle {
            s.phase = Phase::Head;
            s.since = Instant::now();
            drop(s);
            self.changed.notify_one();
        }
    }

    pub(super) fn begin_request(&self) {
        let mut s = self.lock();
        s.phase = Phase::Busy;
        s.since = Instant::now();
    }

    pub(super) fn end_request(&self) {
        let mut s = self.lock();
        s.phase = Phase::Idle;
        s.since = Instant::now();
        s.received = false;
        drop(s);
        self.changed.notify_one();
    }

    /// Makes the pending read answer 408 and end the connection.
    pub(super) fn expire(&self) {
        let mut s = self.lock();
        s.expired = true;
        if let Some(waker) = s.read_waker.take() {
            waker.wake();
        }
    }

    /// What to do now, and when the watchdog must look again.
    pub(super) fn check(
        &self,
        now: Instant,
        limits: &Limits,
        stopping: bool,
    ) -> (Action, Option<Instant>) {
        let s = self.lock();
        if s.expired {
            return (Action::None, None);
        }
        match s.phase {
            Phase::Busy => (Action::None, None),
            Phase::Idle if s.evicted || stopping => (Action::Close, None),
            Phase::Head if stopping && !s.received => (Action::Drop, None),
            Phase::Head if s.evicted => (Action::AnswerTimeout, None),
            Phase::Idle => at_deadline(s.since + limits.idle_timeout, now, Action::Close),
            Phase::Head => at_deadline(s.since + limits.header_timeout, now, Action::AnswerTimeout),
        }
    }
}

/// `then` once `deadline` has passed; until then, nothing but a look again
/// at `deadline`.
fn at_deadline(deadline: Instant, now: Instant, then: Action) -> (Action, Option<Instant>) {
    if now >= deadline {
        (then, None)
    } else {
        (Action::None, Some(deadline))
    }
}
