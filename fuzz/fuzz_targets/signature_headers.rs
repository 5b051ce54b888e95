//! Any signature header, timestamp and body against every provider: no
//! panic, and nothing is ever accepted.
#![no_main]

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use hookgate::providers::{Inbound, Verdict};
use hookgate::time::UnixMs;
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    // Layout: provider selector, then signature, timestamp and body split
    // at the first two 0xFF bytes.
    let Some((&which, rest)) = data.split_first() else { return };
    let mut parts = rest.splitn(3, |b| *b == 0xff);
    let (sig, ts, body) = (
        parts.next().unwrap_or(&[]),
        parts.next().unwrap_or(&[]),
        parts.next().unwrap_or(&[]),
    );
    let sources = common::sources();
    let (provider, keys, header) = &sources[usize::from(which) % sources.len()];
    let mut headers = HeaderMap::new();
    for (name, value) in [
        (*header, sig),
        ("webhook-timestamp", ts),
        ("x-slack-request-timestamp", ts),
        ("x-ts", ts),
        ("webhook-id", b"msg_1".as_slice()),
        ("x-github-delivery", b"d-1"),
        ("x-github-event", b"push"),
        ("x-shopify-topic", b"orders/create"),
        ("x-shopify-event-id", b"e-1"),
        ("idempotency-key", b"k-1"),
    ] {
        if let Ok(v) = HeaderValue::from_bytes(value) {
            headers.append(HeaderName::from_static(name), v);
        }
    }
    let result = provider.verify(keys, None, &Inbound::post(&headers, body), UnixMs::from_secs(1_700_000_000));
    assert!(!matches!(result, Ok(Verdict::Event(_))), "accepted a forged request");
});
