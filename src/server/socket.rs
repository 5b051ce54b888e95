//! The socket as hyper sees it ([`Watched`]): reads tell the watchdog a
//! head began, a head that did not arrive in time is answered with a JSON
//! 408, and hyper's own answers to a malformed or oversized head (400, 414,
//! 431, with an empty body), written while no request reached the router,
//! are replaced by the JSON error shape.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::watch::{Phase, ReadGate, Watch};
use super::{MAX_HEADERS, MAX_HEAD_BYTES};
use crate::error::raw_response;

/// The socket as hyper sees it: reads tell the watchdog a head began, a
/// head that came too late is answered 408, and hyper's own bodiless error
/// answers are replaced by JSON ones.
pub(super) struct Watched {
    pub(super) inner: TcpStream,
    pub(super) watch: Arc<Watch>,
    /// A JSON answer being written in place of hyper's, and how much of it
    /// is out.
    pub(super) replacement: Option<(Vec<u8>, usize)>,
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
        if let ReadGate::Expired { answer } = this.watch.before_read(cx.waker()) {
            if answer {
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
