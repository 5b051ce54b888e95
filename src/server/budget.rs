//! The memory budget for request bodies (`server.max_inflight_body_bytes`):
//! every request's body counts against one shared budget from the moment
//! its head arrives until its answer is ready, so a crowd of slow uploads
//! (each declaring a large body and never finishing it) cannot take the
//! process's memory, whatever the connection cap.
//!
//! A declared `Content-Length` is taken from the budget at once, before a
//! byte of the body is read; when it does not fit, the request is answered
//! 503 with `Retry-After` without reading the body. A chunked body takes
//! its bytes as they arrive, and fails the moment it would pass the budget.
//! Requests without a body take nothing, so `/healthz` always answers.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::http::{header, HeaderMap};
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

/// The shared budget: its limit and the bytes taken now.
#[derive(Debug)]
pub struct BodyBudget {
    limit: usize,
    /// A declared length above this takes nothing up front: the route
    /// refuses it from its head (413) without reading it, and whatever it
    /// does read is taken as it arrives.
    per_request: usize,
    used: AtomicUsize,
}

impl BodyBudget {
    /// `limit` bytes in all; `per_request` is the largest body a route
    /// reads (`server.max_body_bytes`).
    pub fn new(limit: usize, per_request: usize) -> BodyBudget {
        BodyBudget {
            limit,
            per_request,
            used: AtomicUsize::new(0),
        }
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Bytes taken by requests in progress.
    pub fn in_use(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    fn take(&self, n: usize) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(n).filter(|&total| total <= self.limit)
            })
            .is_ok()
    }

    fn give_back(&self, n: usize) {
        self.used.fetch_sub(n, Ordering::AcqRel);
    }

    /// The share of a request with these headers: `None` when its declared
    /// length does not fit now (answer 503 without reading the body).
    pub fn admit(self: &Arc<Self>, headers: &HeaderMap) -> Option<Arc<Share>> {
        let declared = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        let up_front = if declared <= self.per_request {
            declared
        } else {
            0
        };
        if !self.take(up_front) {
            return None;
        }
        Some(Arc::new(Share {
            budget: Arc::clone(self),
            held: AtomicUsize::new(up_front),
            exceeded: AtomicBool::new(false),
        }))
    }
}

/// One request's part of the budget, given back when the request's body
/// and its handling are both done (the last holder drops it).
#[derive(Debug)]
pub struct Share {
    budget: Arc<BodyBudget>,
    held: AtomicUsize,
    exceeded: AtomicBool,
}

impl Share {
    /// Makes sure `total` bytes of body are covered; false (and the share
    /// marked) when the budget cannot give the rest.
    fn cover(&self, total: usize) -> bool {
        let held = self.held.load(Ordering::Acquire);
        if total <= held {
            return true;
        }
        if self.budget.take(total - held) {
            self.held.store(total, Ordering::Release);
            true
        } else {
            self.exceeded.store(true, Ordering::Release);
            false
        }
    }

    /// Whether the body was cut because the budget ran out: the answer is
    /// then 503, whatever the handler made of the failed read.
    pub fn exceeded(&self) -> bool {
        self.exceeded.load(Ordering::Acquire)
    }
}

impl Drop for Share {
    fn drop(&mut self) {
        self.budget.give_back(*self.held.get_mut());
    }
}

/// The error a body read gets when the budget ran out mid-body.
#[derive(Debug, thiserror::Error)]
#[error("server.max_inflight_body_bytes is reached; retry later")]
pub struct OverBudget;

impl OverBudget {
    /// Whether `error` (or what it wraps) is this one.
    pub fn is_cause_of(error: &(dyn std::error::Error + 'static)) -> bool {
        let mut next = Some(error);
        while let Some(e) = next {
            if e.is::<OverBudget>() {
                return true;
            }
            next = e.source();
        }
        false
    }
}

/// A request body that takes its bytes from the budget as they arrive.
pub struct Budgeted<B> {
    inner: B,
    share: Arc<Share>,
    received: usize,
}

impl<B> Budgeted<B> {
    pub fn new(inner: B, share: Arc<Share>) -> Budgeted<B> {
        Budgeted {
            inner,
            share,
            received: 0,
        }
    }
}

impl<B> Body for Budgeted<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received += data.len();
                    if !this.share.cover(this.received) {
                        return Poll::Ready(Some(Err(Box::new(OverBudget))));
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            other => other.map(|_| None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declaring(n: usize) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_LENGTH, n.into());
        headers
    }

    #[test]
    fn declared_lengths_are_taken_up_front_and_given_back() {
        let budget = Arc::new(BodyBudget::new(100, 60));
        let a = budget.admit(&declaring(60)).expect("fits");
        assert_eq!(budget.in_use(), 60);
        assert!(budget.admit(&declaring(41)).is_none(), "would pass 100");
        let b = budget.admit(&declaring(40)).expect("fits exactly");
        // No body, and a body the route refuses from its head: nothing taken.
        let empty = budget.admit(&HeaderMap::new()).expect("no body");
        let too_large = budget.admit(&declaring(1000)).expect("413 comes later");
        assert_eq!(budget.in_use(), 100);
        drop((a, b, empty, too_large));
        assert_eq!(budget.in_use(), 0);
    }

    #[test]
    fn arriving_bytes_grow_a_share_until_the_budget_is_spent() {
        let budget = Arc::new(BodyBudget::new(100, 100));
        let share = budget.admit(&HeaderMap::new()).unwrap();
        assert!(share.cover(70));
        assert!(share.cover(50), "already covered");
        assert!(!share.cover(101));
        assert!(share.exceeded());
        assert_eq!(budget.in_use(), 70);
        drop(share);
        assert_eq!(budget.in_use(), 0);
    }
}
