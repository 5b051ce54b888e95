//! `hookgate listen`: a small receiver for development. It prints every
//! delivery (the headers that matter and the pretty JSON body in the
//! sender's key order; `--compact`: one line; `--json`: one JSON object per
//! line), checks the Standard Webhooks signature when it knows the secret,
//! and answers 200, or 500 for a share of requests with `--fail-rate` to
//! exercise retries.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::Router;

use crate::providers::standard;
use crate::time::UnixMs;

pub struct Listener {
    pub key: Option<Vec<u8>>,
    pub fail_rate: f64,
    pub style: Style,
}

/// How each delivery is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// The headers that matter, then the pretty body.
    Full,
    /// One line per delivery.
    Compact,
    /// One JSON object per line, the body as JSON when it is JSON.
    Json,
}

/// What the receiver concluded about one request's signature.
pub fn check_signature(
    key: Option<&[u8]>,
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> &'static str {
    let Some(key) = key else {
        return "not checked (no secret)";
    };
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    let (Some(id), Some(ts), Some(sigs)) = (
        get("webhook-id"),
        get("webhook-timestamp"),
        get("webhook-signature"),
    ) else {
        return "missing";
    };
    let Ok(ts) = ts.parse::<i64>() else {
        return "invalid (bad timestamp)";
    };
    let expected = standard::signature(key, id, ts, body);
    if !sigs
        .split_whitespace()
        .any(|s| crate::crypto::ct_eq(s.as_bytes(), expected.as_bytes()))
    {
        return "INVALID";
    }
    if (now - ts).abs() > 300 {
        return "valid signature, but the timestamp is over 5 minutes off";
    }
    "valid"
}

async fn receive(
    State(l): State<Arc<Listener>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("-");
    let signature = check_signature(l.key.as_deref(), &headers, &body, UnixMs::now().as_secs());
    // serde_json keeps the sender's key order (its preserve_order feature).
    let parsed = serde_json::from_slice::<serde_json::Value>(&body).ok();
    let fail = l.fail_rate > 0.0 && rand::random::<f64>() < l.fail_rate;
    let status = if fail {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    };
    let time = crate::time::format_ms(UnixMs::now().as_millis());
    match l.style {
        Style::Full => {
            let shown = match &parsed {
                Some(v) => serde_json::to_string_pretty(v).unwrap_or_default(),
                None => String::from_utf8_lossy(&body).into_owned(),
            };
            println!(
                "── {time} {} ── {} {} (attempt {})\n   webhook-id: {}\n   provider event: {}\n   signature: {signature}\n   answered: {}\n{shown}\n",
                uri.path(),
                get("x-hookgate-source"),
                get("x-hookgate-event-type"),
                get("x-hookgate-attempt"),
                get("webhook-id"),
                get("x-hookgate-provider-event-id"),
                status.as_u16(),
            )
        }
        Style::Compact => println!(
            "{time} {} {} {} attempt={} id={} signature={} -> {} ({} bytes)",
            uri.path(),
            get("x-hookgate-source"),
            get("x-hookgate-event-type"),
            get("x-hookgate-attempt"),
            get("webhook-id"),
            signature.replace(' ', "_"),
            status.as_u16(),
            body.len(),
        ),
        Style::Json => println!(
            "{}",
            serde_json::json!({
                "time": time,
                "path": uri.path(),
                "source": get("x-hookgate-source"),
                "event_type": get("x-hookgate-event-type"),
                "attempt": get("x-hookgate-attempt"),
                "webhook_id": get("webhook-id"),
                "provider_event_id": get("x-hookgate-provider-event-id"),
                "signature": signature,
                "status": status.as_u16(),
                "body": parsed.unwrap_or_else(|| String::from_utf8_lossy(&body).into()),
            })
        ),
    }
    status
}

pub fn router(listener: Listener) -> Router {
    Router::new()
        .fallback(axum::routing::post(receive))
        .with_state(Arc::new(listener))
}

pub async fn run(addr: SocketAddr, listener: Listener) -> std::io::Result<()> {
    let tcp = tokio::net::TcpListener::bind(addr).await?;
    let url = format!("http://{}/", tcp.local_addr()?);
    if listener.style == Style::Json {
        println!("{}", serde_json::json!({"listening": url}));
    } else {
        println!("hookgate listen: receiving on {url} (Ctrl-C to stop)");
    }
    axum::serve(tcp, router(listener))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_standard_webhooks_signatures() {
        let key = standard::decode_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        let mut h = HeaderMap::new();
        h.insert(
            "webhook-id",
            "msg_p5jXN8AQM9LWM0D4loKWxJek".parse().unwrap(),
        );
        h.insert("webhook-timestamp", "1614265330".parse().unwrap());
        h.insert(
            "webhook-signature",
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
                .parse()
                .unwrap(),
        );
        assert_eq!(check_signature(Some(&key), &h, body, 1614265330), "valid");
        assert_eq!(
            check_signature(Some(&key), &h, b"{}", 1614265330),
            "INVALID"
        );
        assert_eq!(
            check_signature(None, &h, body, 1614265330),
            "not checked (no secret)"
        );
    }
}
