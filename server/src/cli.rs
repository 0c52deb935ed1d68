//! `candor`: serve, migrate. Configuration errors exit with status 2 and one line naming the
//! setting; runtime failures exit with status 1.

use std::{process::ExitCode, time::Duration};

use clap::{Parser, Subcommand};

use crate::{
    config::{Config, RawSettings},
    serve, telemetry,
};

#[derive(Parser, Debug)]
#[command(
    name = "candor",
    version,
    about = "Candor: employee pulse surveys with verifiable privacy.",
    after_help = "Every setting can also be given as a CANDOR_* environment variable or in candor.toml."
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: RawSettings,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug, Clone, Copy)]
pub enum Command {
    /// Serve Candor (applies pending migrations first).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
}

/// How long requests in flight may take to finish after SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let mut settings = cli.settings;
    let config = match settings
        .merge_file()
        .and_then(|()| Config::from_raw(&settings, std::env::var("LEPTOS_SITE_ROOT").ok().as_deref()))
    {
        Ok(config) => config,
        Err(err) => {
            eprintln!("candor: invalid configuration: {err}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&config.log_filter, config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("candor: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve => run_server(&config).await,
            Command::Migrate => migrate(&config).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("candor: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run_server(config: &Config) -> Result<(), serve::StartError> {
    let running = serve::start(config).await?;
    let url = running.url();
    tracing::info!(%url, transport = ?config.transport(), "Candor is serving");
    println!("Candor is listening on {url}");
    shutdown_signal().await;
    tracing::info!("shutting down: finishing requests in flight");
    running.shutdown(SHUTDOWN_GRACE).await
}

async fn migrate(config: &Config) -> Result<(), serve::StartError> {
    let db = serve::open_database(config).await?;
    let version = db
        .schema_version()
        .await
        .map_err(|source| serve::StartError::Migration {
            target: db.target().to_owned(),
            source,
        })?;
    println!(
        "Schema of {} is current: {} of {} migrations applied (latest: {}).",
        db.backend(),
        version.applied,
        version.known,
        version.latest.as_deref().unwrap_or("none"),
    );
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
