#![forbid(unsafe_code)]

use clap::Parser;

#[tokio::main]
async fn main() {
    hookgate::telemetry::init_logging();
    let cli = hookgate::cli::Cli::parse();
    if let Err(e) = hookgate::cli::run(cli).await {
        eprintln!("hookgate: {e}");
        std::process::exit(e.exit_code());
    }
}
