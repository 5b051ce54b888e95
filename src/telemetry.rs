//! Logs (tracing to stderr, `RUST_LOG` filter, `HOOKGATE_LOG_FORMAT=json`)
//! and the Prometheus metrics recorder.

use std::io::IsTerminal;
use std::sync::OnceLock;

use metrics::{KeyName, Recorder, SharedString};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;

/// Installs the global tracing subscriber once; later calls do nothing.
pub fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("HOOKGATE_LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal: a file, a pipe or
        // journald gets plain text.
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}

/// What a metric family is, for its `# TYPE` line.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// Every family hookgate records, with its `# HELP` text: the exporter
/// writes HELP only for described families, and `promtool check metrics`
/// refuses a page without it. A new metric gets its row here.
pub const FAMILIES: &[(&str, Kind, &str)] = &[
    (
        "hookgate_build_info",
        Kind::Gauge,
        "Always 1; the labels say which hookgate build is running.",
    ),
    (
        "hookgate_ingest_requests_total",
        Kind::Counter,
        "Requests to /ingest/{source} by source and outcome (accepted, duplicate, conflict, unauthorized, bad_request, unavailable, ...).",
    ),
    (
        "hookgate_ingest_duration_seconds",
        Kind::Histogram,
        "Time from a request's head to its answer on /ingest/{source}, by source.",
    ),
    (
        "hookgate_deliveries_total",
        Kind::Counter,
        "Recorded delivery attempts by target and outcome: delivered, retry (another attempt is scheduled) or dead (no more attempts).",
    ),
    (
        "hookgate_delivery_attempts_total",
        Kind::Counter,
        "HTTP attempts to targets by target and answer class (2xx, 4xx, 5xx, ... or error for no answer).",
    ),
    (
        "hookgate_delivery_duration_seconds",
        Kind::Histogram,
        "Time a target took to answer an attempt, by target.",
    ),
    (
        "hookgate_outbox_pending",
        Kind::Gauge,
        "Deliveries waiting to be delivered, by target, read from the store at scrape time and counted up to 10000.",
    ),
    (
        "hookgate_outbox_oldest_pending_seconds",
        Kind::Gauge,
        "Age of the oldest pending delivery, by target (0 when none is pending).",
    ),
    (
        "hookgate_inflight_body_bytes",
        Kind::Gauge,
        "Bytes of request bodies being received or handled now, counted against server.max_inflight_body_bytes.",
    ),
    (
        "hookgate_inflight_body_bytes_limit",
        Kind::Gauge,
        "server.max_inflight_body_bytes: past it, requests are answered 503 with Retry-After.",
    ),
    (
        "hookgate_body_budget_refusals_total",
        Kind::Counter,
        "Requests answered 503 because their body would pass server.max_inflight_body_bytes.",
    ),
    (
        "hookgate_route_errors_total",
        Kind::Counter,
        "Route expressions (filter, transform, ordering_key) that failed at run time, by source, target and expression.",
    ),
    (
        "hookgate_target_paused",
        Kind::Gauge,
        "1 while a target is paused by an operator (its deliveries wait), else 0.",
    ),
    (
        "hookgate_target_circuit_open",
        Kind::Gauge,
        "1 while a target's circuit is open or half-open (deliveries postponed, one probe at a time), else 0.",
    ),
    (
        "hookgate_retention_pruned_total",
        Kind::Counter,
        "Finished events deleted by retention.",
    ),
];

/// The process-wide Prometheus recorder (installed on first use).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let buckets = [
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ];
            let recorder = PrometheusBuilder::new()
                .set_buckets(&buckets)
                .expect("bucket list is not empty")
                .build_recorder();
            // Described on the recorder itself, so HELP is there even when
            // another global recorder was installed first (embedding).
            for (name, kind, help) in FAMILIES {
                let (name, help) = (KeyName::from(*name), SharedString::from(*help));
                match kind {
                    Kind::Counter => recorder.describe_counter(name, None, help),
                    Kind::Gauge => recorder.describe_gauge(name, None, help),
                    Kind::Histogram => recorder.describe_histogram(name, None, help),
                }
            }
            let handle = recorder.handle();
            // Another recorder may already be installed (embedding); then
            // our handle still renders what this process records through it.
            let _ = metrics::set_global_recorder(recorder);
            metrics::gauge!("hookgate_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
            handle
        })
        .clone()
}
