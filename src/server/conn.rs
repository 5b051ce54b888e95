//! One accepted connection: hyper serves it, a watchdog times it.
//!
//! The connection is always in one [`Phase`]: `Head` (waiting for or
//! reading a request head; `header_timeout` runs), `Busy` (a request is in
//! the router or its answer is being written; the router's own
//! `request_timeout` applies) or `Idle` (kept alive between requests;
//! `idle_timeout` runs). The socket wrapper [`Watched`] moves `Idle` to
//! `Head` on the first byte read, the service moves to `Busy`, and the end
//! of the answer's body moves to `Idle`.
//!
//! A head that does not arrive in time is answered with a JSON 408 and the
//! connection closed. hyper answers a malformed or oversized head itself
//! (400, 414, 431, with an empty body); [`Watched`] recognises those
//! answers, written while no request reached the router, and writes the
//! JSON error shape in their place.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use axum::Router;
use bytes::Bytes;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{Notify, OwnedSemaphorePermit};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use super::{Limits, Registry, MAX_HEADERS, MAX_HEAD_BYTES};
use crate::error::raw_response;

/// After a 408 or an eviction, how long hyper gets to let go of the socket
/// before the connection is dropped anyway.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

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

/// The shared view of one connection, for its watchdog and the registry.
pub struct Watch {
    state: Mutex<State>,
    changed: Notify,
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

    fn phase(&self) -> Phase {
        self.lock().phase
    }

    fn on_read(&self) {
        let mut s = self.lock();
        s.received = true;
        if s.phase == Phase::Idle {
            s.phase = Phase::Head;
            s.since = Instant::now();
            drop(s);
            self.changed.notify_one();
        }
    }

    fn begin_request(&self) {
        let mut s = self.lock();
        s.phase = Phase::Busy;
        s.since = Instant::now();
    }

    fn end_request(&self) {
        let mut s = self.lock();
        s.phase = Phase::Idle;
        s.since = Instant::now();
        s.received = false;
        drop(s);
        self.changed.notify_one();
    }

    /// Makes the pending read answer 408 and end the connection.
    fn expire(&self) {
        let mut s = self.lock();
        s.expired = true;
        if let Some(waker) = s.read_waker.take() {
            waker.wake();
        }
    }

    /// When the watchdog must look again, and what to do now.
    fn check(&self, now: Instant, limits: &Limits, stopping: bool) -> (Action, Option<Instant>) {
        let s = self.lock();
        if s.expired {
            return (Action::None, None);
        }
        match s.phase {
            Phase::Busy => (Action::None, None),
            Phase::Idle if s.evicted || stopping => (Action::Close, None),
            Phase::Head if stopping && !s.received => (Action::Drop, None),
            Phase::Head if s.evicted => (Action::AnswerTimeout, None),
            Phase::Idle => {
                let deadline = s.since + limits.idle_timeout;
                if now >= deadline {
                    (Action::Close, None)
                } else {
                    (Action::None, Some(deadline))
                }
            }
            Phase::Head => {
                let deadline = s.since + limits.header_timeout;
                if now >= deadline {
                    (Action::AnswerTimeout, None)
                } else {
                    (Action::None, Some(deadline))
                }
            }
        }
    }
}

enum Action {
    None,
    /// Close an idle connection through hyper.
    Close,
    /// Answer 408 and close.
    AnswerTimeout,
    /// Close without a word (nothing was asked).
    Drop,
}

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
        async move {
            let response = router
                .oneshot(req)
                .await
                .unwrap_or_else(|never: Infallible| match never {});
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
            _ = watch.changed.notified() => {}
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

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// The socket as hyper sees it: reads tell the watchdog a head began, a
/// head that came too late is answered 408, and hyper's own bodiless error
/// answers are replaced by JSON ones.
struct Watched {
    inner: TcpStream,
    watch: Arc<Watch>,
    /// A JSON answer being written in place of hyper's, and how much of it
    /// is out.
    replacement: Option<(Vec<u8>, usize)>,
}

impl Watched {
    fn poll_replacement(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some((bytes, sent)) = &mut self.replacement {
            while *sent < bytes.len() {
                let n =
                    std::task::ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*sent..]))?;
                if n == 0 {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                *sent += n;
            }
        }
        Poll::Ready(Ok(()))
    }
}

/// The status of an answer hyper wrote by itself: it starts a message with
/// 400, 414 or 431 and has no `content-type`, which every answer of the
/// router has.
fn hyper_error_status(buf: &[u8]) -> Option<StatusCode> {
    let rest = buf
        .strip_prefix(b"HTTP/1.1 ")
        .or_else(|| buf.strip_prefix(b"HTTP/1.0 "))?;
    let code = std::str::from_utf8(rest.get(..3)?).ok()?;
    let status = match code {
        "400" => StatusCode::BAD_REQUEST,
        "414" => StatusCode::URI_TOO_LONG,
        "431" => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        _ => return None,
    };
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    (!head.contains("\ncontent-type:")).then_some(status)
}

fn hyper_error_detail(status: StatusCode) -> String {
    match status {
        StatusCode::URI_TOO_LONG => "the request target is too long".into(),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => format!(
            "the request head is too large (at most {MAX_HEAD_BYTES} bytes and {MAX_HEADERS} header fields)"
        ),
        _ => "the request line or a header is malformed".into(),
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        {
            let mut s = this.watch.lock();
            if s.expired {
                if !s.answered_408 {
                    s.answered_408 = true;
                    drop(s);
                    // Best effort: the head never came, so nothing else is
                    // queued for writing; a client too slow to take a few
                    // hundred bytes gets no answer.
                    let answer = raw_response(
                        StatusCode::REQUEST_TIMEOUT,
                        "the request head did not arrive within server.header_timeout_ms",
                    );
                    let _ = Pin::new(&mut this.inner).poll_write(cx, &answer);
                }
                // End of input: hyper drops the half-read head and closes.
                return Poll::Ready(Ok(()));
            }
            match &s.read_waker {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => s.read_waker = Some(cx.waker().clone()),
            }
        }
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.watch.on_read();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.replacement.is_none() && this.watch.phase() == Phase::Head {
            if let Some(status) = hyper_error_status(buf) {
                let answer = raw_response(status, &hyper_error_detail(status));
                this.replacement = Some((answer, 0));
            }
        }
        if this.replacement.is_some() {
            // hyper's bytes are swallowed; ours go out instead.
            std::task::ready!(this.poll_replacement(cx))?;
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        std::task::ready!(this.poll_replacement(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        std::task::ready!(this.poll_replacement(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_only_bodiless_head_errors() {
        let hyper_431 =
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        assert_eq!(
            hyper_error_status(hyper_431),
            Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
        );
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
        assert_eq!(hyper_error_status(ours), None);
        assert_eq!(
            hyper_error_status(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"),
            None
        );
        assert_eq!(hyper_error_status(b"HTTP/1.1 4"), None);
    }
}
