//! Restore drills: the newest backup restored into a scratch database and compared row by row.

use std::path::Path;

use chrono::{DateTime, Duration, Utc};

use crate::Database;

use super::{
    error::BackupError, error::Result, restore::restore, restore::RestoreReport, restore::RestoreRequest,
    runs::record, runs::Run, runs::RunKind, store::BackupStore, Progress,
};

/// [`drill`], then its outcome recorded in `live` (the database whose backups are drilled).
pub async fn run_drill(
    live: &Database,
    store: &BackupStore,
    identity: &age::x25519::Identity,
    scratch_url: Option<&str>,
    now: DateTime<Utc>,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<DrillReport> {
    let master_key_id = live.keyring()?.master_key_id();
    let result = drill(store, identity, &master_key_id, scratch_url, progress).await;
    let latest = store.find("latest").ok();
    let seconds = result.as_ref().map_or(0.0, |report| report.seconds);
    let recorded = record(
        live,
        Run {
            kind: RunKind::Drill,
            backup: latest.as_ref().map(|info| &info.manifest),
            started_at: now,
            finished_at: now + Duration::milliseconds((seconds * 1000.0) as i64),
            failure: result.as_ref().err(),
            rows: result.as_ref().map_or(0, |report| report.restore.rows),
        },
    )
    .await;
    if let Err(err) = recorded {
        tracing::error!(code = err.code(), error = %err, "a restore drill could not be recorded");
    }
    result
}

#[allow(clippy::too_many_arguments)]
/// What [`drill`] found.
#[derive(Clone, Debug, PartialEq)]
pub struct DrillReport {
    pub restore: RestoreReport,
    pub seconds: f64,
}

/// Restores the newest backup into a scratch database (a temporary SQLite file unless
/// `scratch_url` names one, which is replaced) and checks every row against the backup.
pub async fn drill(
    store: &BackupStore,
    identity: &age::x25519::Identity,
    master_key_id: &str,
    scratch_url: Option<&str>,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<DrillReport> {
    let started = std::time::Instant::now();
    let backup = store.find("latest")?;
    let scratch_dir =
        tempfile::tempdir().map_err(|err| BackupError::write(Path::new("a temporary directory"), err))?;
    let url = match scratch_url {
        Some(url) => url.to_owned(),
        None => format!(
            "sqlite://{}?mode=rwc",
            scratch_dir.path().join("drill.db").display()
        ),
    };
    let scratch = Database::connect(&url).await?;
    let report = restore(
        &scratch,
        RestoreRequest {
            backup: &backup,
            identity,
            master_key_id,
            replace: true,
        },
        progress,
    )
    .await;
    let _ = scratch.close().await;
    Ok(DrillReport {
        restore: report?,
        seconds: started.elapsed().as_secs_f64(),
    })
}
