//! `candor`: serve, migrate, keys. Configuration errors exit with status 2 and one line naming the
//! setting; runtime failures exit with status 1.

use std::{process::ExitCode, time::Duration};

use clap::{Parser, Subcommand};

use crate::{
    backup_cli::BackupCommand,
    config::{Config, RawSettings},
    incident_cli::IncidentCommand,
    serve,
    subprocessor_cli::SubprocessorCommand,
    telemetry,
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

#[derive(Subcommand, Debug, Clone)]
pub enum Command {
    /// Serve Candor (applies pending migrations first).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Encryption keys.
    Keys {
        #[command(subcommand)]
        action: KeysCommand,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        action: AuditCommand,
    },
    /// Encrypted backups: take one now (no subcommand), or manage them.
    Backup {
        #[command(subcommand)]
        action: Option<BackupCommand>,
    },
    /// Restore a backup into the configured database, which must be empty (or --replace). Every
    /// file is checked first; the rows go in within one transaction and are compared with the
    /// backup before it commits, so a failed restore leaves the database as it was.
    Restore {
        /// A backup's name (see `candor backup list`), `latest`, or the path of its directory.
        backup: String,
        /// The operator's private backup key file (from `candor backup keygen`).
        #[arg(long, value_name = "FILE")]
        identity: std::path::PathBuf,
        /// Replace whatever the database holds.
        #[arg(long)]
        replace: bool,
    },
    /// Incidents and personal-data breach notices (the operator's side).
    Incident {
        #[command(subcommand)]
        action: IncidentCommand,
    },
    /// The subprocessor list shown to every workplace; changes are announced to their Owners.
    Subprocessors {
        #[command(subcommand)]
        action: SubprocessorCommand,
    },
    /// The mail queue: what waits to be sent, and dead letters (no subcommand: the status).
    Mail {
        #[command(subcommand)]
        action: Option<crate::mail_cli::MailCommand>,
    },
    /// Support for a workplace, only while its Owner has granted support access.
    Support {
        #[command(subcommand)]
        action: SupportCommand,
    },
    /// What the operator decides for one workplace.
    Workplace {
        #[command(subcommand)]
        action: WorkplaceCommand,
    },
}

#[derive(Subcommand, Debug, Clone)]
pub enum WorkplaceCommand {
    /// Set how many invitation emails a workplace may send in any 24 hours (100 while it is
    /// new, then 2,000, unless set here): raise it for a large employer importing its staff.
    /// Recorded in the workplace's access log and the instance's.
    Allowance {
        /// The workplace's id.
        workplace: String,
        /// Messages a day (1 to 100000), or `default`.
        per_day: String,
    },
}

#[derive(Subcommand, Debug, Clone)]
pub enum SupportCommand {
    /// Show a workplace's setup (counts and settings, no person's data). Refused unless the
    /// workplace's Owner has granted support access that is still live; recorded in the
    /// workplace's access log and the instance's.
    Inspect {
        /// The workplace's id.
        workplace: String,
    },
}

#[derive(Subcommand, Debug, Clone)]
pub enum AuditCommand {
    /// Recompute every audit chain (or one workplace's) and name the first broken link. Exits
    /// with status 1 when any chain is broken.
    Verify {
        /// Only this workplace's chain.
        #[arg(long, value_name = "ID")]
        workplace: Option<String>,
        /// A chain position from an `audit anchor` line of the server log
        /// (`<workplace id or instance>:<number>:<hash>`); the chain must still run through it.
        #[arg(long, value_name = "ANCHOR")]
        anchor: Vec<String>,
    },
}

#[derive(Subcommand, Debug, Clone)]
pub enum KeysCommand {
    /// Create a new random master key: written to FILE (readable by its owner only; an existing
    /// file is never overwritten), or printed when no file is given.
    Generate {
        #[arg(long, value_name = "FILE")]
        out: Option<std::path::PathBuf>,
    },
    /// Wrap every data key again under a new master key (made with `candor keys generate`).
    /// Afterwards every Candor process must be restarted with the new key.
    RotateMaster {
        /// The file holding the new master key.
        #[arg(long, value_name = "FILE")]
        new_key_file: std::path::PathBuf,
    },
    /// Give a workplace (or `all` of them) a new data key and seal its fields again under it,
    /// while Candor keeps serving. An interrupted rotation resumes when run again.
    RotateTenant {
        /// The workplace's id, or `all`.
        workplace: String,
        /// Rows per transaction.
        #[arg(long, default_value_t = 500)]
        batch: u64,
    },
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
            Command::Keys {
                action: KeysCommand::Generate { out },
            } => generate_master_key(out.as_deref()),
            Command::Keys {
                action: KeysCommand::RotateTenant { workplace, batch },
            } => rotate_tenant(&config, &workplace, batch).await,
            Command::Keys {
                action: KeysCommand::RotateMaster { new_key_file },
            } => rotate_master(&config, new_key_file).await,
            Command::Audit {
                action: AuditCommand::Verify { workplace, anchor },
            } => verify_audit(&config, workplace.as_deref(), &anchor).await,
            Command::Support {
                action: SupportCommand::Inspect { workplace },
            } => inspect_workplace(&config, &workplace).await,
            Command::Workplace {
                action: WorkplaceCommand::Allowance { workplace, per_day },
            } => set_invitation_allowance(&config, &workplace, &per_day).await,
            Command::Backup { action } => crate::backup_cli::run(&config, action).await,
            Command::Incident { action } => crate::incident_cli::run(&config, action).await,
            Command::Subprocessors { action } => crate::subprocessor_cli::run(&config, action).await,
            Command::Mail { action } => crate::mail_cli::run(&config, action).await,
            Command::Restore {
                backup,
                identity,
                replace,
            } => crate::backup_cli::restore(&config, &backup, &identity, replace).await,
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
    // Listen for SIGTERM before saying we are up: a signal sent right after the line is printed
    // must stop Candor cleanly, not kill it.
    let stop = shutdown_signal();
    let running = serve::start(config).await?;
    let url = running.url();
    tracing::info!(%url, transport = ?config.transport(), "Candor is serving");
    println!("Candor is listening on {url}");
    stop.await;
    tracing::info!("shutting down: finishing requests in flight");
    running.shutdown(SHUTDOWN_GRACE).await
}

fn generate_master_key(out: Option<&std::path::Path>) -> Result<(), serve::StartError> {
    let key = domain::platform::crypto::MasterKey::generate();
    let Some(path) = out else {
        println!("{}", key.to_text().as_str());
        return Ok(());
    };
    serve::create_private_file(path, format!("{}\n", key.to_text().as_str()).as_bytes())?;
    println!(
        "Wrote a new master key (id {}) to {}. Keep a copy somewhere safe and apart from backups: \
         without it, encrypted data cannot be read.",
        key.id(),
        path.display()
    );
    Ok(())
}

async fn rotate_master(config: &Config, new_key_file: std::path::PathBuf) -> Result<(), serve::StartError> {
    let new = crate::config::MasterKeySource::File(new_key_file).load()?;
    let db = serve::open_unlocked_database(config).await?;
    let rotated = db
        .keyring()
        .map_err(|err| serve::StartError::Rotation(err.public_message()))?
        .rotate_master(&db, &new, chrono::Utc::now())
        .await
        .map_err(|err| serve::StartError::Rotation(err.public_message()))?;
    println!(
        "Wrapped {} data keys under master key {} (master key {} is retired). Restart every Candor \
         process with the new key now, and keep the old one only as long as backups made under it.",
        rotated.data_keys, rotated.new, rotated.retired
    );
    Ok(())
}

async fn rotate_tenant(config: &Config, which: &str, batch: u64) -> Result<(), serve::StartError> {
    use domain::operations::key_rotation::{rotate_workplace, workplace_ids, Options};
    let db = serve::open_unlocked_database(config).await?;
    let failed = |err: domain::Error| serve::StartError::Rotation(err.public_message());
    let workplaces = if which == "all" {
        workplace_ids(&db).await.map_err(failed)?
    } else {
        vec![which.parse().map_err(|_| {
            serve::StartError::Rotation(format!("`{which}` is not a workplace id (or `all`)"))
        })?]
    };
    for workplace in workplaces {
        let rotated = rotate_workplace(
            &db,
            workplace,
            Options {
                batch,
                max_batches: None,
            },
            chrono::Utc::now(),
            |progress| eprint!("\r{}", progress_bar(workplace, progress)),
        )
        .await
        .map_err(failed)?;
        eprintln!();
        println!(
            "Workplace {workplace}: data key version {}{}, {} people sealed again.",
            rotated.to_version,
            if rotated.resumed { " (resumed)" } else { "" },
            rotated.resealed
        );
    }
    Ok(())
}

/// One line: `<what> [#########-----------]    4000 / 10000 rows  40%  pass 1`.
fn progress_bar(
    workplace: domain::platform::ids::WorkplaceId,
    progress: domain::operations::key_rotation::Progress,
) -> String {
    format!(
        "{workplace} {}  pass {}",
        crate::backup_cli::bar(progress.done, progress.total),
        progress.pass
    )
}

async fn verify_audit(
    config: &Config,
    workplace: Option<&str>,
    anchors: &[String],
) -> Result<(), serve::StartError> {
    let invalid = |err: domain::Error| serve::StartError::Audit(err.public_message());
    let only = workplace
        .map(|id| {
            id.parse::<domain::platform::ids::WorkplaceId>()
                .map_err(|_| serve::StartError::Audit(format!("`{id}` is not a workplace id")))
        })
        .transpose()?;
    let anchors = anchors
        .iter()
        .map(|text| text.parse::<domain::platform::audit::Anchor>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(invalid)?;
    let db = serve::open_database(config).await?;
    let reports = domain::platform::access_log::verify(&db, only, &anchors)
        .await
        .map_err(invalid)?;
    let mut broken = 0;
    for report in &reports {
        let chain = report
            .workplace
            .map_or_else(|| "instance".to_owned(), |id| id.to_string());
        match &report.broken {
            None => println!(
                "{chain}: intact, {} entries ({}..{}), head {}",
                report.entries, report.first_seq, report.last_seq, report.head_hash
            ),
            Some(link) => {
                broken += 1;
                let row = link
                    .entry_id
                    .map_or_else(String::new, |id| format!(" (row {id})"));
                println!("{chain}: BROKEN at entry {}{row}: {}", link.seq, link.reason);
            }
        }
    }
    if reports.is_empty() {
        println!("No audit entries yet.");
    }
    if broken > 0 {
        return Err(serve::StartError::Audit(format!(
            "{broken} of {} chains are broken",
            reports.len()
        )));
    }
    Ok(())
}

async fn inspect_workplace(config: &Config, workplace: &str) -> Result<(), serve::StartError> {
    let workplace = workplace
        .parse::<domain::platform::ids::WorkplaceId>()
        .map_err(|_| serve::StartError::Support(format!("`{workplace}` is not a workplace id")))?;
    let db = serve::open_unlocked_database(config).await?;
    let seen = domain::compliance::support::inspect(&db, workplace, chrono::Utc::now())
        .await
        .map_err(|err| match err {
            domain::Error::Forbidden => serve::StartError::Support(format!(
                "workplace {workplace} has not granted support access (or the grant has ended); ask its Owner"
            )),
            other => serve::StartError::Support(other.public_message()),
        })?;
    let list = |pairs: &[(String, u64)]| {
        pairs
            .iter()
            .map(|(what, n)| format!("{n} {what}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "Workplace {workplace} (support access until {})",
        seen.expires_at.format("%Y-%m-%d %H:%M UTC")
    );
    println!("  people: {}", list(&seen.people));
    println!("  departments: {}", seen.departments);
    println!("  surveys: {}", list(&seen.surveys));
    println!("  open rounds: {}", seen.open_rounds);
    Ok(())
}

async fn set_invitation_allowance(
    config: &Config,
    workplace: &str,
    per_day: &str,
) -> Result<(), serve::StartError> {
    use domain::organisation::invitation_budget::{set_allowance, MOST_PER_DAY};
    let workplace = workplace
        .parse::<domain::platform::ids::WorkplaceId>()
        .map_err(|_| serve::StartError::Workplace(format!("`{workplace}` is not a workplace id")))?;
    let per_day = match per_day {
        "default" => None,
        number => Some(number.parse::<u32>().map_err(|_| {
            serve::StartError::Workplace(format!(
                "`{number}` is not a number of messages (1 to {MOST_PER_DAY}) or `default`"
            ))
        })?),
    };
    let db = serve::open_unlocked_database(config).await?;
    set_allowance(&db, workplace, per_day, chrono::Utc::now())
        .await
        .map_err(|err| serve::StartError::Workplace(err.public_message()))?;
    match per_day {
        Some(n) => println!("Workplace {workplace} may send {n} invitations a day."),
        None => println!("Workplace {workplace} has the default invitation allowance again."),
    }
    Ok(())
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

/// Resolves on Ctrl-C or SIGTERM. The SIGTERM handler is installed when this is called, not when
/// it is first awaited.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let terminate = async move {
            match terminate {
                Some(mut signal) => {
                    signal.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            () = ctrl_c => {},
            () = terminate => {},
        }
    }
}
