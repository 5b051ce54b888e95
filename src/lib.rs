//! hookgate: a webhook receiver gateway.
//!
//! A tour of the code, following one event:
//!
//! - **Start.** [`config`] reads `hookgate.toml` into plain data (`${VAR}`
//!   substitution in its `env` part, `HOOKGATE_*` overrides, checks on plain
//!   values that name the key); it imports no other module. [`wiring`] is
//!   the one construction step: [`wiring::Wiring::build`] turns that data
//!   into running parts (each source's provider and keys, each target's
//!   spec, the [`routes`] table, trusted proxies), and a part that cannot be
//!   built is the validation error. [`startup`] takes the wiring, opens the
//!   store, starts the dispatcher and the server, and drains on shutdown
//!   ([`shutdown`]).
//! - **Request path.** [`ingest`] handles `POST /ingest/{source}` with the
//!   shared [`app::AppState`]: head checks (allow-list, declared length), then
//!   the source's [`providers::Provider`] verifies the signature and reads the
//!   provider event ID and type; [`routes`] names the targets;
//!   [`store::Store::ingest`] writes the event and one outbox row per target
//!   in one transaction, where the unique (source, provider event ID) index
//!   makes the idempotency check atomic; only then is 200 answered. On SQLite
//!   every write goes through one writer task that commits whatever is
//!   waiting in one transaction; on Postgres ingests are group-committed.
//! - **Outbox path.** [`dispatch::Dispatcher`] leases due deliveries for all
//!   targets at once ([`store::Store::claim_many`]), POSTs each with no
//!   transaction open ([`dispatch::send`]), and records attempts in batches
//!   ([`store::Store::record_many`]), retrying with backoff
//!   ([`dispatch::retry`]) until success or `dead`. Target protection is
//!   part of the claim and the record ([`store::targets`]): a paused target
//!   or an open circuit leases nothing, a half-open one one probe, a rate
//!   limit no more than its shared token bucket holds, and a delivery with
//!   an ordering key waits while an earlier one of its key is pending; the
//!   recorder counts consecutive failures and opens or closes the circuit.
//! - **Operators.** [`admin`] is the `/admin/v1` JSON API (events,
//!   deliveries, conflicts, replay, retry, cancel, stats) with its OpenAPI
//!   document; [`health`] answers `/healthz`, `/readyz` and `/metrics`;
//!   [`retention`] prunes finished events in batches; [`console`] serves the
//!   browser console at `/console`, which uses only the admin API.
//! - **Developer tools.** [`replay`] signs fixture payloads like each
//!   provider and posts them; [`listen`] is a receiver that prints
//!   deliveries.
//! - **Around them.** [`server`] accepts connections and times them (header,
//!   idle, connection cap); [`client_ip`] decides who sent a request for
//!   per-source allow-lists; [`cli`] is the command line; [`telemetry`] sets
//!   up logs and metrics; [`error`] is the JSON error every endpoint answers
//!   with; [`ids`] makes the time-ordered IDs; [`time`] is the one time type
//!   ([`time::UnixMs`]) and parses and shows times; [`crypto`] holds the
//!   HMACs and constant-time compare that providers, admin auth and
//!   [`listen`] share.
//!
//! No module imports one that imports it back (checked by the integration
//! test `modules`).
#![forbid(unsafe_code)]

pub mod admin;
pub mod app;
pub mod cli;
pub mod client_ip;
pub mod config;
pub mod console;
pub mod crypto;
pub mod dispatch;
pub mod error;
pub mod health;
pub mod ids;
pub mod ingest;
pub mod listen;
pub mod providers;
pub mod replay;
pub mod retention;
pub mod route_test;
pub mod routes;
pub mod server;
pub mod shutdown;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod time;
pub mod wiring;
