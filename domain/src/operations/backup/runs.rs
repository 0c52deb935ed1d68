//! The record of backup runs and the retention that prunes old backups.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, DatabaseTransaction, Set};

use crate::{
    platform::{
        entities::backup_runs,
        security_events::{EventKind, SecurityEvent},
    },
    Database,
};

use super::{error::BackupError, error::Result, store::BackupStore, Manifest};

/// Kinds of recorded runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunKind {
    Backup,
    Prune,
    Drill,
}

impl RunKind {
    pub(super) fn code(self) -> &'static str {
        match self {
            RunKind::Backup => "backup",
            RunKind::Prune => "prune",
            RunKind::Drill => "drill",
        }
    }
}

/// One finished run, for the record.
pub struct Run<'a> {
    pub kind: RunKind,
    pub backup: Option<&'a Manifest>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub failure: Option<&'a BackupError>,
    pub rows: u64,
}

/// Stores a run and its security event (in the instance's audit chain) in one transaction.
pub async fn record(db: &Database, run: Run<'_>) -> Result<()> {
    let kind = match (run.kind, run.failure.is_some()) {
        (RunKind::Backup, false) => EventKind::BackupCreated,
        (RunKind::Backup, true) => EventKind::BackupFailed,
        (RunKind::Drill, false) => EventKind::RestoreDrillPassed,
        (RunKind::Drill, true) => EventKind::RestoreDrillFailed,
        (RunKind::Prune, _) => EventKind::BackupDeleted,
    };
    let txn = db.begin_write().await?;
    insert_run(&txn, &run).await?;
    let event = SecurityEvent::new(kind, run.finished_at).about(
        run.failure.map_or("backup", |err| err.code()),
        run.backup.map(|manifest| manifest.id),
    );
    crate::platform::security_events::store_and_log(&txn, &event).await?;
    txn.commit().await?;
    Ok(())
}

pub(super) async fn insert_run(txn: &DatabaseTransaction, run: &Run<'_>) -> Result<()> {
    backup_runs::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        kind: Set(run.kind.code().to_owned()),
        backup_id: Set(run.backup.map(|manifest| manifest.name.clone())),
        started_at: Set(run.started_at),
        finished_at: Set(run.finished_at),
        outcome: Set(if run.failure.is_some() { "failed" } else { "ok" }.to_owned()),
        detail: Set(run.failure.map(|err| err.code().to_owned())),
        bytes: Set(run
            .backup
            .map_or(0, |manifest| i64::try_from(manifest.bytes).unwrap_or(i64::MAX))),
        rows: Set(i64::try_from(run.rows).unwrap_or(i64::MAX)),
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// Deletes backups older than `retention`, always keeping the newest one (a stopped schedule
/// must not end with no backup at all), and clears what interrupted runs left in `.incoming`.
/// Each deletion is recorded. Returns the names deleted.
pub async fn prune(
    db: &Database,
    store: &BackupStore,
    retention: Duration,
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    let mut backups = store.list()?;
    backups.pop();
    let cutoff = now - retention;
    let mut deleted = Vec::new();
    for backup in backups
        .iter()
        .filter(|backup| backup.manifest.created_at < cutoff)
    {
        std::fs::remove_dir_all(&backup.dir).map_err(|err| BackupError::write(&backup.dir, err))?;
        record(
            db,
            Run {
                kind: RunKind::Prune,
                backup: Some(&backup.manifest),
                started_at: now,
                finished_at: now,
                failure: None,
                rows: backup.manifest.rows,
            },
        )
        .await?;
        deleted.push(backup.manifest.name.clone());
    }
    if let Ok(entries) = std::fs::read_dir(store.incoming()) {
        for entry in entries.flatten() {
            let stale = entry
                .metadata()
                .and_then(|meta| meta.modified())
                .ok()
                .and_then(|modified| modified.elapsed().ok())
                .is_some_and(|age| age > std::time::Duration::from_secs(24 * 3600));
            if stale {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    Ok(deleted)
}
