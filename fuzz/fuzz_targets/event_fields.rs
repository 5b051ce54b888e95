//! Any body, validly signed, through every provider: no panic, and an
//! accepted event always has a deliverable ID and type.
#![no_main]

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use hookgate::providers::{Inbound, Verdict, MAX_EVENT_ID_BYTES, MAX_EVENT_TYPE_BYTES};
use hookgate::time::UnixMs;
use libfuzzer_sys::fuzz_target;

mod common;

fn deliverable(text: &str, max: usize) -> bool {
    !text.is_empty() && text.len() <= max && !text.chars().any(char::is_control)
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else { return };
    let sources = common::sources();
    let (provider, keys, _) = &sources[usize::from(which) % sources.len()];
    let now = UnixMs::from_secs(1_700_000_000);
    let mut headers = HeaderMap::new();
    for (name, value) in provider.sign(keys.first().unwrap(), body, now) {
        if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(&value)) {
            headers.append(n, v);
        }
    }
    headers.append("x-github-event", HeaderValue::from_static("push"));
    headers.append("x-shopify-topic", HeaderValue::from_static("orders/create"));
    if let Ok(Verdict::Event(v)) = provider.verify(keys, None, &Inbound::post(&headers, body), now) {
        assert!(deliverable(v.provider_event_id(), MAX_EVENT_ID_BYTES));
        assert!(deliverable(v.event_type(), MAX_EVENT_TYPE_BYTES));
    }
});
