//! hookgate's integration tests: one binary, every case through the public
//! surface (HTTP, CLI, the real binary), on SQLite and on Postgres.

mod helpers;
mod test_keys;
mod tools;

mod admin;
mod admin_strict;
mod asymmetric;
mod cli;
mod console;
mod dispatch;
mod faults;
mod fixtures;
mod handshakes;
mod hostile;
mod ingest;
mod modules;
mod openapi;
mod ordering;
mod postgres;
mod process;
mod properties;
mod protection;
mod providers;
mod sns;
