//! The command line: `serve` (default), `check-config`, `migrate`,
//! `replay`, `trigger`, `listen`, `completions` and `man`. The clap
//! definitions and the dispatch live here; `check-config`'s report is in
//! `check`, the generated completions and man page in `docs`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

mod check;
mod docs;
use tokio_util::sync::CancellationToken;

use crate::config::{process_env, resolve_path, Config, ConfigError};
use crate::startup::{Application, Roles, StartupError};
use crate::wiring::Wiring;

#[derive(Debug, Parser)]
#[command(
    name = "hookgate",
    version,
    about = "Webhook receiver gateway: verify, deduplicate, persist, deliver exactly once"
)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// `serve`'s options, for `hookgate [-c FILE] [--no-dispatcher]` alone.
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate, then serve ingest, the admin API and the dispatcher.
    Serve(ServeArgs),
    /// Validate the configuration and print its sources, targets and routes.
    CheckConfig(CheckArgs),
    /// Apply database migrations and exit.
    Migrate(ConfigArg),
    /// Sign fixture payloads as the source's provider would and POST them.
    Replay(ReplayArgs),
    /// Send one event of a type, built from a fixture with fresh IDs and
    /// timestamps and the given overrides, signed as the source's provider.
    Trigger(TriggerArgs),
    /// Receive deliveries locally: print them and check their signature.
    Listen(ListenArgs),
    /// Which routes and targets fixtures would reach, and what each target
    /// would receive; nothing is sent or stored.
    RouteTest(RouteTestArgs),
    /// Print a shell completion script on stdout.
    Completions(CompletionsArgs),
    /// Print the man page (roff) on stdout: `hookgate man > hookgate.1`.
    Man,
}

/// `--json`: one JSON object per line on stdout instead of text.
#[derive(Debug, Args, Default, Clone, Copy)]
pub struct JsonArg {
    /// Print one JSON object per line (NDJSON) instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    #[command(flatten)]
    pub output: JsonArg,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct TriggerArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// The configured source to send to (its provider and first secret sign).
    pub source: String,
    /// The event type, as the gateway reads it (`invoice.paid`, `push`).
    pub event_type: String,
    /// Change the payload: PATH is a JSON pointer (`/data/object/amount`)
    /// or a dotted path (`data.object.amount`); VALUE is JSON when it
    /// parses, else a string. Repeatable.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub overrides: Vec<String>,
    /// Where to POST, as for `replay`.
    #[arg(long)]
    pub url: Option<String>,
    /// The fixtures folder (one folder per provider, and expected.json).
    #[arg(
        long,
        value_name = "DIR",
        env = "HOOKGATE_FIXTURES",
        default_value = "fixtures"
    )]
    pub fixtures: PathBuf,
    /// Print the equivalent curl command instead of sending.
    #[arg(long)]
    pub print_curl: bool,
    #[command(flatten)]
    pub output: JsonArg,
}

#[derive(Debug, Args)]
pub struct RouteTestArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// The source whose routes decide.
    #[arg(long)]
    pub source: String,
    /// One JSON object per fixture (NDJSON) instead of text blocks.
    #[arg(long)]
    pub json: bool,
    /// Fixture files, or folders of them (`fixtures/stripe`).
    #[arg(required = true, value_name = "FILE|DIR")]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// The source (its provider and first secret sign the requests).
    /// Default: the one configured source whose provider the fixture
    /// folder is named after.
    #[arg(long)]
    pub source: Option<String>,
    /// Where to POST: a gateway address (http://127.0.0.1:8080) or a full
    /// ingest URL. Default: the configured listen address.
    #[arg(long)]
    pub url: Option<String>,
    /// Send each fixture this many times.
    #[arg(long, default_value_t = 1)]
    pub count: u32,
    /// Rewrite event IDs carried in the body, so a replay is a new event.
    #[arg(long)]
    pub unique: bool,
    /// Print the equivalent curl commands instead of sending.
    #[arg(long)]
    pub print_curl: bool,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: u32,
    #[command(flatten)]
    pub output: JsonArg,
    /// Fixture files, or folders of them (`fixtures/stripe`).
    #[arg(required = true, value_name = "FILE|DIR")]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ListenArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Address to receive on.
    #[arg(long, default_value = "127.0.0.1:9000")]
    pub listen: std::net::SocketAddr,
    /// Standard Webhooks secret (whsec_...) to check signatures with.
    /// Default: the signing_secret of the configured target whose URL
    /// points at --listen, if the configuration can be read.
    #[arg(long)]
    pub secret: Option<String>,
    /// Share of requests answered 500 (0 to 1), to exercise retries.
    #[arg(long, default_value_t = 0.0)]
    pub fail_rate: f64,
    /// One line per delivery instead of headers and the body.
    #[arg(long, conflicts_with = "json")]
    pub compact: bool,
    #[command(flatten)]
    pub output: JsonArg,
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
    /// Exit code 2: the configuration is wrong in several places, each
    /// line naming its key.
    #[error("configuration has {} error(s):\n  {}", .0.len(), .0.join("\n  "))]
    Configs(Vec<String>),
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
            CliError::Config(_) | CliError::Configs(_) => 2,
            CliError::Failed(_) => 1,
        }
    }
}

/// Reads the configuration file as data; `serve` builds it in
/// [`Application::build`].
fn load(arg: &ConfigArg) -> Result<Config, CliError> {
    let path = resolve_path(arg.config.as_deref(), &process_env);
    Ok(Config::load(&path, &process_env)?)
}

/// Reads the configuration and builds its running parts, which is how it
/// is validated: every command but `serve` starts here.
fn build(arg: &ConfigArg) -> Result<Wiring, CliError> {
    Ok(Wiring::build(load(arg)?)?)
}

pub async fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command.unwrap_or(Command::Serve(cli.serve)) {
        Command::Serve(args) => serve(args).await,
        Command::CheckConfig(args) => check::run(&args),
        Command::Replay(args) => {
            let wiring = build(&args.config)?;
            let opts = crate::replay::Options {
                source: args.source,
                url: args.url,
                count: args.count,
                unique: args.unique,
                print_curl: args.print_curl,
                concurrency: args.concurrency as usize,
                json: args.output.json,
                paths: args.paths,
            };
            sent(crate::replay::run(&wiring, &opts).await)
        }
        Command::Trigger(args) => {
            let wiring = build(&args.config)?;
            let opts = crate::replay::trigger::Options {
                source: args.source,
                event_type: args.event_type,
                overrides: args.overrides,
                url: args.url,
                fixtures: args.fixtures,
                print_curl: args.print_curl,
                json: args.output.json,
            };
            sent(crate::replay::trigger::run(&wiring, &opts).await)
        }
        Command::Listen(args) => listen(args).await,
        Command::Completions(args) => {
            docs::completions(args.shell);
            Ok(())
        }
        Command::Man => docs::man().map_err(|e| CliError::Failed(format!("man page: {e}"))),
        Command::RouteTest(args) => {
            let wiring = build(&args.config)?;
            match crate::route_test::run(&wiring, &args.source, &args.paths, args.json).await {
                Ok(true) => Ok(()),
                Ok(false) => Err(CliError::Failed("some fixtures could not be tested".into())),
                Err(e) => Err(CliError::Failed(e)),
            }
        }
        Command::Migrate(arg) => {
            let wiring = build(&arg)?;
            let store = crate::store::Store::connect(&wiring.config.database)
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

/// `replay`'s and `trigger`'s outcome: every request answered 2xx, or not.
fn sent(outcome: Result<bool, String>) -> Result<(), CliError> {
    match outcome {
        Ok(true) => Ok(()),
        Ok(false) => Err(CliError::Failed(
            "some requests were not answered 2xx".into(),
        )),
        Err(e) => Err(CliError::Failed(e)),
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

async fn listen(args: ListenArgs) -> Result<(), CliError> {
    if !(0.0..=1.0).contains(&args.fail_rate) {
        return Err(CliError::Failed(
            "--fail-rate must be between 0 and 1".into(),
        ));
    }
    let secret = match args.secret {
        Some(s) => Some(s),
        None => build(&args.config).ok().and_then(|wiring| {
            wiring.config.targets.iter().find_map(|t| {
                let url = reqwest::Url::parse(&t.url).ok()?;
                let points_here = url.port_or_known_default() == Some(args.listen.port())
                    && url
                        .host_str()
                        .is_some_and(|h| h == args.listen.ip().to_string() || h == "localhost");
                let secret = t.signing_secret.as_ref().filter(|_| points_here)?;
                eprintln!(
                    "checking signatures with the signing_secret of target {:?}",
                    t.name
                );
                Some(secret.expose().to_string())
            })
        }),
    };
    let key = match secret {
        Some(s) => Some(
            crate::providers::standard::decode_secret(&s)
                .map_err(|e| CliError::Failed(format!("--secret: {e}")))?,
        ),
        None => None,
    };
    let style = if args.output.json {
        crate::listen::Style::Json
    } else if args.compact {
        crate::listen::Style::Compact
    } else {
        crate::listen::Style::Full
    };
    crate::listen::run(
        args.listen,
        crate::listen::Listener {
            key,
            fail_rate: args.fail_rate,
            style,
        },
    )
    .await
    .map_err(|e| CliError::Failed(format!("listen on {}: {e}", args.listen)))
}
