//! One accepted connection: hyper serves it, a watchdog times it.
//!
//! The watchdog loop in [`serve`] asks the connection's [`Watch`] what to
//! do (close an idle connection, answer a late head with 408, drop one that
//! asked nothing while stopping) and when to look again; the socket
//! ([`Watched`]) and the answer's body ([`Tracked`]) report the phase
//! changes it acts on.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use bytes::Bytes;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::error::ApiError;

use super::budget::{BodyBudget, Budgeted, OverBudget};
use super::socket::Watched;
use super::watch::{Action, Watch};
use super::{Limits, Registry, MAX_HEADERS, MAX_HEAD_BYTES};

/// After a 408 or an eviction, how long hyper gets to let go of the socket
/// before the connection is dropped anyway.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Moves the connection back to `Idle` when the answer's body is done (or
/// the request was abandoned).
struct BusyGuard(Arc<Watch>);

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.0.end_request();
    }
}

/// An answer's body that holds the connection `Busy` until it is dropped.
struct Tracked {
    body: Body,
    _busy: BusyGuard,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// Serves one connection until it closes, is cut, or times out.
#[allow(clippy::too_many_arguments)]
pub(super) async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: Limits,
    (registry, id, watch): (Arc<Registry>, u64, Arc<Watch>),
    budget: Arc<BodyBudget>,
    stop: CancellationToken,
    cut: CancellationToken,
    _slot: OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    let io = TokioIo::new(Watched {
        inner: stream,
        watch: Arc::clone(&watch),
        replacement: None,
    });
    let service_watch = Arc::clone(&watch);
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        service_watch.begin_request();
        let busy = BusyGuard(Arc::clone(&service_watch));
        let router = router.clone();
        let share = budget.admit(req.headers());
        async move {
            let response = match share {
                // Its declared body does not fit: refused before reading it.
                None => over_budget(),
                Some(share) => {
                    let req = req.map(|body| Body::new(Budgeted::new(body, Arc::clone(&share))));
                    let response = router
                        .oneshot(req)
                        .await
                        .unwrap_or_else(|never: Infallible| match never {});
                    if share.exceeded() {
                        over_budget()
                    } else {
                        response
                    }
                }
            };
            Ok::<_, Infallible>(response.map(|body| Tracked { body, _busy: busy }))
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .max_headers(MAX_HEADERS)
        .max_header_size(MAX_HEAD_BYTES)
        .max_buf_size(MAX_HEAD_BYTES + 16 * 1024);
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);

    let mut stopping = false;
    let mut close_by: Option<Instant> = None;
    loop {
        let now = Instant::now();
        if close_by.is_some_and(|t| now >= t) {
            break;
        }
        let (action, next) = watch.check(now, &limits, stopping);
        match action {
            Action::None => {}
            Action::Close => conn.as_mut().graceful_shutdown(),
            Action::Drop => break,
            Action::AnswerTimeout => {
                watch.expire();
                close_by = Some(now + CLOSE_GRACE);
            }
        }
        let wake_at = match (next, close_by) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, %peer, "connection ended with an error");
                }
                break;
            }
            _ = watch.changed() => {}
            _ = sleep_until(wake_at) => {}
            _ = stop.cancelled(), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
            _ = cut.cancelled() => break,
        }
    }
    registry.remove(id);
}

/// 503 with `Retry-After`: the request's body would pass
/// `server.max_inflight_body_bytes`.
fn over_budget() -> axum::response::Response {
    use axum::response::IntoResponse;
    metrics::counter!("hookgate_body_budget_refusals_total").increment(1);
    ApiError::unavailable(OverBudget.to_string()).into_response()
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}
