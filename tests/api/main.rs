//! hookgate's integration tests: one binary, every case through the public
//! surface (HTTP, CLI, the real binary), on SQLite and on Postgres.

mod helpers;

mod admin;
mod cli;
mod dispatch;
mod faults;
mod fixtures;
mod hostile;
mod ingest;
mod postgres;
mod process;
mod properties;
mod providers;
