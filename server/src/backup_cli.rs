//! `candor backup …` and `candor restore`: the operator's side of backups, with a progress line
//! on the terminal for the long parts.

use clap::Subcommand;
use std::path::Path;

use domain::operations::backup::{self, BackupError, Progress, RestoreRequest, Stage};

use crate::{
    config::{BackupSettings, Config},
    serve::{self, StartError},
};

#[derive(Subcommand, Debug, Clone)]
pub enum BackupCommand {
    /// Create the operator's backup key pair: the private key is written to FILE (readable by
    /// its owner only; never overwritten), the public key printed for CANDOR_BACKUP_RECIPIENT.
    /// Keep the private key off the server.
    Keygen {
        #[arg(long, value_name = "FILE")]
        out: std::path::PathBuf,
    },
    /// List the backups in the store, oldest first.
    List,
    /// Restore drill: restore the newest backup into a scratch database, check every row
    /// against it, and record the result (a failure raises an alert).
    Verify {
        /// The private backup key file. Default: CANDOR_BACKUP_IDENTITY_FILE.
        #[arg(long, value_name = "FILE")]
        identity: Option<std::path::PathBuf>,
    },
    /// Delete backups past the retention period now (the scheduler does this after each backup).
    Prune,
}

/// `[#########-----------]    4000 / 10000 rows  40%`
pub(crate) fn bar(done: u64, total: u64) -> String {
    const WIDTH: u64 = 30;
    let whole = total.max(1);
    let filled = (done.min(whole) * WIDTH / whole) as usize;
    format!(
        "[{}{}] {done:>7} / {total} rows {:>3}%",
        "#".repeat(filled),
        "-".repeat(WIDTH as usize - filled),
        done.min(whole) * 100 / whole,
    )
}

fn configured(config: &Config) -> Result<&BackupSettings, StartError> {
    config.backups.as_ref().ok_or_else(|| {
        StartError::Backup(BackupError::Config(
            "backups are not configured: set CANDOR_BACKUP_DIR and CANDOR_BACKUP_RECIPIENT".into(),
        ))
    })
}

/// Draws the progress line on stderr, starting a new line when the stage changes.
struct ProgressLine {
    stage: Option<Stage>,
}

impl ProgressLine {
    fn new() -> Self {
        Self { stage: None }
    }

    fn show(&mut self, progress: Progress) {
        if self.stage.is_some_and(|stage| stage != progress.stage) {
            eprintln!();
        }
        self.stage = Some(progress.stage);
        eprint!(
            "\r{:>9} {}",
            progress.stage.label(),
            bar(progress.done, progress.total)
        );
    }

    fn end(&self) {
        if self.stage.is_some() {
            eprintln!();
        }
    }
}

pub async fn run(config: &Config, action: Option<BackupCommand>) -> Result<(), StartError> {
    match action {
        None => create(config).await,
        Some(BackupCommand::Keygen { out }) => keygen(&out),
        Some(BackupCommand::List) => list(config),
        Some(BackupCommand::Verify { identity }) => verify(config, identity.as_deref()).await,
        Some(BackupCommand::Prune) => prune(config).await,
    }
}

fn keygen(out: &Path) -> Result<(), StartError> {
    let (text, public) = backup::generate_identity(chrono::Utc::now());
    serve::create_private_file(out, text.as_bytes())?;
    println!("Wrote the private backup key to {}.", out.display());
    println!("Public key (set CANDOR_BACKUP_RECIPIENT to it on the server):");
    println!("{public}");
    println!(
        "Keep the private key off the Candor server and apart from the backups: it is needed to \
         restore, and only there."
    );
    Ok(())
}

async fn create(config: &Config) -> Result<(), StartError> {
    let settings = configured(config)?;
    let db = serve::open_unlocked_database(config).await?;
    let mut line = ProgressLine::new();
    let result = backup::run_backup(&db, &settings.target, chrono::Utc::now(), &mut |p| line.show(p)).await;
    line.end();
    match result {
        Ok(manifest) => {
            println!(
                "Backup {} written to {}: {} rows, {} bytes in {} files ({} workplaces).",
                manifest.name,
                settings.target.store.root().display(),
                manifest.rows,
                manifest.bytes,
                manifest.parts.len() + 1,
                manifest.parts.len().saturating_sub(1)
            );
            let pruned = backup::prune(
                &db,
                &settings.target.store,
                settings.retention,
                chrono::Utc::now(),
            )
            .await?;
            if !pruned.is_empty() {
                println!(
                    "Deleted {} backups past the retention period: {}",
                    pruned.len(),
                    pruned.join(", ")
                );
            }
            Ok(())
        }
        Err(err) => {
            crate::jobs::alert_operator(config, "a backup failed", &err).await;
            Err(err.into())
        }
    }
}

fn list(config: &Config) -> Result<(), StartError> {
    let settings = configured(config)?;
    let backups = settings.target.store.list()?;
    if backups.is_empty() {
        println!("No backups in {} yet.", settings.target.store.root().display());
    }
    for info in backups {
        let m = &info.manifest;
        println!(
            "{}  {}  {:>9} rows  {:>12} bytes  {} workplaces  schema {}  master key {}",
            m.name,
            m.created_at.format("%Y-%m-%d %H:%M UTC"),
            m.rows,
            m.bytes,
            m.parts.len().saturating_sub(1),
            m.schema.as_deref().unwrap_or("none"),
            m.master_key_id
        );
    }
    Ok(())
}

async fn verify(config: &Config, identity: Option<&Path>) -> Result<(), StartError> {
    let settings = configured(config)?;
    let identity_file = identity.or(settings.identity_file.as_deref()).ok_or_else(|| {
        StartError::Backup(BackupError::Config(
            "give the private backup key with --identity FILE (or CANDOR_BACKUP_IDENTITY_FILE)".into(),
        ))
    })?;
    let identity = backup::read_identity(identity_file)?;
    let db = serve::open_unlocked_database(config).await?;
    let mut line = ProgressLine::new();
    let result = backup::run_drill(
        &db,
        &settings.target.store,
        &identity,
        settings.scratch_url.as_deref(),
        chrono::Utc::now(),
        &mut |p| line.show(p),
    )
    .await;
    line.end();
    match result {
        Ok(report) => {
            println!(
                "Restore drill passed: backup {} restored into a scratch database in {:.1} s; {} rows in {} \
                 tables match the backup, {} workplaces.",
                report.restore.backup,
                report.seconds,
                report.restore.rows,
                report.restore.tables.len(),
                report.restore.workplaces
            );
            if !report.restore.shredded.is_empty() {
                println!(
                    "{} deleted workplaces are in the backup but unreadable (their keys were shredded).",
                    report.restore.shredded.len()
                );
            }
            Ok(())
        }
        Err(err) => {
            crate::jobs::alert_operator(config, "a restore drill failed", &err).await;
            Err(err.into())
        }
    }
}

async fn prune(config: &Config) -> Result<(), StartError> {
    let settings = configured(config)?;
    let db = serve::open_unlocked_database(config).await?;
    let pruned = backup::prune(
        &db,
        &settings.target.store,
        settings.retention,
        chrono::Utc::now(),
    )
    .await?;
    println!(
        "Deleted {} backups older than {} days{}",
        pruned.len(),
        settings.retention.num_days(),
        if pruned.is_empty() {
            String::new()
        } else {
            format!(": {}", pruned.join(", "))
        }
    );
    Ok(())
}

pub async fn restore(config: &Config, which: &str, identity: &Path, replace: bool) -> Result<(), StartError> {
    let identity = backup::read_identity(identity)?;
    let info = match &config.backups {
        Some(settings) => settings.target.store.find(which)?,
        None => backup::BackupStore::new(".").find(which)?,
    };
    let master = config.master_key.load()?;
    let db = domain::Database::connect(&config.database_url)
        .await
        .map_err(StartError::Database)?;
    let mut line = ProgressLine::new();
    let result = backup::restore(
        &db,
        RestoreRequest {
            backup: &info,
            identity: &identity,
            master_key_id: &master.id(),
            replace,
        },
        &mut |p| line.show(p),
    )
    .await;
    line.end();
    let report = result?;
    backup::record_restored(&db, &info.manifest, chrono::Utc::now()).await?;
    println!(
        "Restored backup {} into {}: {} rows in {} tables, {} workplaces, all compared with the backup.",
        report.backup,
        db.target(),
        report.rows,
        report.tables.len(),
        report.workplaces
    );
    if !report.shredded.is_empty() {
        println!(
            "Not restored: {} workplaces deleted since this backup (their keys were shredded): {}",
            report.shredded.len(),
            report
                .shredded
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}
