#![forbid(unsafe_code)]

use clap::Parser;

/// jemalloc, whose background thread returns freed memory to the OS
/// instead of keeping it in the heap; its settings are in
/// `.cargo/config.toml` (one arena, no thread caches, 1 s decay).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() {
    hookgate::telemetry::init_logging();
    let cli = hookgate::cli::Cli::parse();
    if let Err(e) = hookgate::cli::run(cli).await {
        eprintln!("hookgate: {e}");
        std::process::exit(e.exit_code());
    }
}
