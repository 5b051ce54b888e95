#![forbid(unsafe_code)]

use clap::Parser;

fn main() {
    // A route-expression worker (see `routes::sandbox`): no runtime, no logs.
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == hookgate::routes::sandbox::WORKER_ARG)
    {
        hookgate::routes::sandbox::worker_main();
    }
    serve();
}

#[tokio::main]
async fn serve() {
    hookgate::telemetry::init_logging();
    let cli = hookgate::cli::Cli::parse();
    if let Err(e) = hookgate::cli::run(cli).await {
        eprintln!("hookgate: {e}");
        std::process::exit(e.exit_code());
    }
}
