//! The command line: `serve` (default), `check-config`, `migrate`, `replay`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use crate::config::{process_env, resolve_path, Config, ConfigError};
use crate::startup::{Application, Roles, StartupError};

#[derive(Debug, Parser)]
#[command(
    name = "hookgate",
    version,
    about = "Webhook receiver gateway: verify, deduplicate, persist, deliver exactly once"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate, then serve ingest, the admin API and the dispatcher.
    Serve(ServeArgs),
    /// Validate the configuration and print its sources, targets and routes.
    CheckConfig(ConfigArg),
    /// Apply database migrations and exit.
    Migrate(ConfigArg),
}

#[derive(Debug, Args, Default)]
pub struct ConfigArg {
    /// Configuration file (default: $HOOKGATE_CONFIG, then ./hookgate.toml).
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Do not run the dispatcher (ingest and admin only).
    #[arg(long)]
    pub no_dispatcher: bool,
    /// Do not serve /ingest (dispatcher and admin only).
    #[arg(long)]
    pub no_ingest: bool,
}

/// How a command failed; `main` maps it to an exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Exit code 2: the configuration is wrong.
    #[error("configuration error: {0}")]
    Config(#[from] ConfigError),
    /// Exit code 1: anything else.
    #[error("{0}")]
    Failed(String),
}

impl From<StartupError> for CliError {
    fn from(e: StartupError) -> Self {
        match e {
            StartupError::Config(c) => CliError::Config(c),
            other => CliError::Failed(other.to_string()),
        }
    }
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Config(_) => 2,
            CliError::Failed(_) => 1,
        }
    }
}

fn load(arg: &ConfigArg) -> Result<Config, CliError> {
    let path = resolve_path(arg.config.as_deref(), &process_env);
    Ok(Config::load(&path, &process_env)?)
}

pub async fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command.unwrap_or(Command::Serve(ServeArgs::default())) {
        Command::Serve(args) => serve(args).await,
        Command::CheckConfig(arg) => check_config(&arg),
        Command::Migrate(arg) => {
            let config = load(&arg)?;
            let store = crate::store::Store::connect(&config.database)
                .await
                .map_err(|e| CliError::Failed(format!("database: {e}")))?;
            store
                .migrate()
                .await
                .map_err(|e| CliError::Failed(format!("database: {e}")))?;
            println!("migrations applied ({})", store.backend());
            Ok(())
        }
    }
}

async fn serve(args: ServeArgs) -> Result<(), CliError> {
    let config = load(&args.config)?;
    let roles = Roles {
        ingest: !args.no_ingest,
        dispatcher: !args.no_dispatcher,
    };
    let app = Application::build(config, roles).await?;
    let stop = CancellationToken::new();
    tokio::spawn(stop_on_signal(stop.clone()));
    app.run_until_stopped(stop)
        .await
        .map_err(|e| CliError::Failed(format!("server: {e}")))
}

/// Cancels `stop` on SIGTERM or SIGINT.
async fn stop_on_signal(stop: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutdown signal received; draining");
    stop.cancel();
}

fn check_config(arg: &ConfigArg) -> Result<(), CliError> {
    let config = load(arg)?;
    let backend = if config.database.url.starts_with("sqlite:") {
        "sqlite"
    } else {
        "postgres"
    };
    println!("configuration is valid");
    println!("listen: {}", config.server.listen);
    println!("database: {backend}");
    println!(
        "admin API: {}",
        if config.admin.token.is_some() {
            "on"
        } else {
            "off (no admin.token)"
        }
    );
    println!("sources:");
    for s in &config.sources {
        println!(
            "  {} ({}, {} secret(s)) -> POST /ingest/{}",
            s.name,
            s.provider,
            s.secrets.len(),
            s.name
        );
    }
    println!("targets:");
    for t in &config.targets {
        let signed = if t.signing_secret.is_some() {
            ", signed"
        } else {
            ""
        };
        println!(
            "  {} -> {} (max_attempts {}{signed})",
            t.name, t.url, t.max_attempts
        );
    }
    println!("routes:");
    for r in &config.routes {
        let types = r
            .event_types
            .as_ref()
            .map_or_else(|| "*".to_string(), |t| t.join(", "));
        println!("  {} -> {} [{types}]", r.source, r.target);
    }
    Ok(())
}
