//! hookgate's integration tests: one binary, every case through the public
//! surface (HTTP, CLI, the real binary), on SQLite and on Postgres.

mod helpers;
mod test_keys;
mod tools;

mod admin;
mod admin_strict;
mod asymmetric;
mod body_budget;
mod cli;
mod console;
mod devtools;
mod dispatch;
mod failover;
mod faults;
mod fixtures;
mod handshakes;
mod hostile;
mod ingest;
mod logs;
mod metrics;
mod modules;
mod openapi;
mod ordering;
mod packaging;
mod payments_messaging;
mod postgres;
mod process;
mod properties;
mod protection;
mod providers;
mod routes;
mod sns;
mod workplace;
