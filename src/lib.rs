//! hookgate: a webhook receiver gateway.
//!
//! A tour of the code, following one event:
//!
//! - **Request path.** [`ingest`] handles `POST /ingest/{source}`: the body
//!   limit, then the source's [`providers::Provider`] verifies the signature
//!   and reads the provider event ID and type into a [`providers::Verified`];
//!   [`store::Store::ingest`] writes the event and one outbox row per routed
//!   target in one transaction, where the unique (source, provider event ID)
//!   index makes the idempotency check atomic; only then is 200 answered.
//! - **Outbox path.** [`dispatch::Dispatcher`] leases due deliveries
//!   ([`store::Store::claim_many`]), POSTs each to its target with no transaction
//!   open ([`dispatch::send`]), and records the attempt
//!   ([`store::Store::record_many`]), retrying with backoff ([`dispatch::retry`])
//!   until success or `dead`.
//! - **Operators.** [`admin`] is the `/admin/v1` JSON API (events, deliveries,
//!   replay, retry, cancel, conflicts, stats) with its OpenAPI document; [`retention`]
//!   prunes finished events in batches; [`console`] serves the browser
//!   console at `/console`, which uses only the admin API.
//! - **Developer tools.** [`replay`] signs fixture payloads like each provider
//!   and posts them; [`listen`] is a receiver that prints deliveries.
//! - **Around them.** [`config`] loads and validates `hookgate.toml`;
//!   [`startup`] wires everything and drains on shutdown; [`server`] accepts
//!   connections and times them (header, idle, connection cap);
//!   [`client_ip`] decides who sent a request for per-source allow-lists;
//!   [`cli`] is the
//!   command line; [`telemetry`] sets up logs and metrics; [`error`] is the
//!   JSON error every endpoint answers with; [`time`] is the one time type
//!   ([`time::UnixMs`]) and parses and shows times; [`crypto`] holds the
//!   HMACs and constant-time compare that providers, admin auth and
//!   [`listen`] share.
#![forbid(unsafe_code)]

pub mod admin;
pub mod cli;
pub mod client_ip;
pub mod config;
pub mod console;
pub mod crypto;
pub mod dispatch;
pub mod error;
pub mod ids;
pub mod ingest;
pub mod listen;
pub mod providers;
pub mod replay;
pub mod retention;
pub mod server;
pub mod shutdown;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod time;
