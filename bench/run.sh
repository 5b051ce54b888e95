#!/bin/sh
# The benchmark in one command: builds the release binary and the bench,
# then runs it. Arguments go to the bench: --quick, --help, ...
set -e
cd "$(dirname "$0")/.."
cargo build --release --bin hookgate --example bench
target="${CARGO_TARGET_DIR:-target}"
exec "$target/release/examples/bench" --bin "$target/release/hookgate" "$@"
